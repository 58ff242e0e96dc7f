/*
 * stream.c - bounded per-direction reassembly: a pool of fixed buffers, in-order delivery by
 * relative sequence number, a few out-of-order ranges, first copy wins on overlaps.
 */
#include "analyzers/stream.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/*
 * The pool: nbuf slots whose buffers are allocated on first use and then reused (never freed
 * before the pool), all pools together within one byte budget. Nothing is allocated up front
 * but the slot tables, so a large cap costs memory only for the sessions that use it (issue
 * 14: 4096 x 8 MiB used to be asked for at start, and failed).
 */
struct stream_pool {
    uint8_t **bufs; /* nbuf slots: a buffer of cap bytes, or NULL until first used */
    size_t cap;     /* bytes per buffer */
    size_t nbuf;    /* slots */
    uint32_t *free; /* stack of free slot indexes, slots with a buffer on top */
    size_t nfree;   /* entries on the stack */
    size_t nalloc;  /* slots with a buffer */
};

/* Every pool's buffers together stay within this many bytes. */
static size_t g_budget = STREAM_DEFAULT_BUDGET;
static _Atomic size_t g_allocated; /* bytes of buffers allocated now, all pools */

void stream_set_budget(size_t bytes)
{
    g_budget = bytes;
}

size_t stream_budget(void)
{
    return g_budget;
}

size_t stream_allocated(void)
{
    return atomic_load(&g_allocated);
}

struct stream_pool *stream_pool_new(size_t nbuf, size_t cap)
{
    if (nbuf == 0 || cap < 64 || cap > UINT32_MAX || nbuf > UINT32_MAX)
        return NULL;
    struct stream_pool *sp = calloc(1, sizeof(*sp));
    if (!sp)
        return NULL;
    sp->bufs = calloc(nbuf, sizeof(*sp->bufs));
    sp->free = malloc(nbuf * sizeof(*sp->free));
    if (!sp->bufs || !sp->free)
        goto fail_free;
    sp->cap = cap;
    sp->nbuf = nbuf;
    for (size_t i = 0; i < nbuf; i++)
        sp->free[i] = (uint32_t)(nbuf - 1 - i);
    sp->nfree = nbuf;
    return sp;
fail_free:
    free(sp->bufs);
    free(sp->free);
    free(sp);
    return NULL;
}

void stream_pool_free(struct stream_pool *sp)
{
    if (!sp)
        return;
    for (size_t i = 0; i < sp->nbuf; i++)
        free(sp->bufs[i]);
    atomic_fetch_sub(&g_allocated, sp->nalloc * sp->cap);
    free(sp->bufs);
    free(sp->free);
    free(sp);
}

size_t stream_pool_cap(const struct stream_pool *sp)
{
    return sp->cap;
}

size_t stream_pool_used(const struct stream_pool *sp)
{
    return sp->nbuf - sp->nfree;
}

/* Give slot idx a buffer within the budget; false when the budget or malloc says no. */
static bool slot_alloc(struct stream_pool *sp, uint32_t idx)
{
    size_t now = atomic_load(&g_allocated);
    do {
        if (now > g_budget || g_budget - now < sp->cap)
            return false;
    } while (!atomic_compare_exchange_weak(&g_allocated, &now, now + sp->cap));
    sp->bufs[idx] = malloc(sp->cap);
    if (!sp->bufs[idx]) {
        atomic_fetch_sub(&g_allocated, sp->cap);
        return false;
    }
    sp->nalloc++;
    return true;
}

int stream_open(struct stream_pool *sp, struct stream_dir *sd, uint64_t first_seq)
{
    memset(sd, 0, sizeof(*sd));
    if (sp->nfree == 0)
        return ERR_FULL;
    uint32_t idx = sp->free[sp->nfree - 1];
    if (!sp->bufs[idx] && !slot_alloc(sp, idx))
        return ERR_FULL; /* over the budget: counted by the caller like an empty pool */
    sp->nfree--;
    sd->buf = sp->bufs[idx];
    sd->slot = idx;
    sd->cap = (uint32_t)sp->cap;
    sd->base = first_seq;
    return 0;
}

void stream_close(struct stream_pool *sp, struct stream_dir *sd)
{
    if (sd->buf)
        sp->free[sp->nfree++] = sd->slot; /* on top: reused before a new one is allocated */
    memset(sd, 0, sizeof(*sd));
}

/* Copy the parts of [s, e) not covered by held ranges into the buffer (first copy wins). */
static void copy_uncovered(struct stream_dir *sd, uint64_t s, uint64_t e, const uint8_t *data,
                           uint64_t data_seq)
{
    uint64_t cur = s;
    for (unsigned i = 0; i < sd->nr && cur < e; i++) {
        const struct stream_range *r = &sd->r[i];
        if (r->e <= cur)
            continue;
        if (r->s >= e)
            break;
        if (r->s > cur)
            memcpy(sd->buf + (cur - sd->base), data + (cur - data_seq), (size_t)(r->s - cur));
        cur = r->e;
    }
    if (cur < e)
        memcpy(sd->buf + (cur - sd->base), data + (cur - data_seq), (size_t)(e - cur));
}

/* True when [s, e) is entirely covered by held ranges. */
static bool covered(const struct stream_dir *sd, uint64_t s, uint64_t e)
{
    for (unsigned i = 0; i < sd->nr; i++) {
        if (sd->r[i].s <= s && sd->r[i].e >= e)
            return true;
    }
    return false;
}

/* Merge [s, e) into the sorted range list. false if the list would overflow. */
static bool range_insert(struct stream_dir *sd, uint64_t s, uint64_t e)
{
    struct stream_range out[STREAM_MAX_RANGES + 1];
    unsigned n = 0, i = 0;
    while (i < sd->nr && sd->r[i].e < s)
        out[n++] = sd->r[i++];
    struct stream_range m = {s, e};
    while (i < sd->nr && sd->r[i].s <= m.e) {
        if (sd->r[i].s < m.s)
            m.s = sd->r[i].s;
        if (sd->r[i].e > m.e)
            m.e = sd->r[i].e;
        i++;
    }
    out[n++] = m;
    while (i < sd->nr)
        out[n++] = sd->r[i++];
    if (n > STREAM_MAX_RANGES)
        return false;
    memcpy(sd->r, out, n * sizeof(out[0]));
    sd->nr = (uint8_t)n;
    return true;
}

/* Absorb ranges that now touch the in-order edge. */
static void advance_edge(struct stream_dir *sd)
{
    uint64_t edge = sd->base + sd->len;
    unsigned k = 0;
    while (k < sd->nr && sd->r[k].s <= edge) {
        if (sd->r[k].e > edge)
            edge = sd->r[k].e;
        k++;
    }
    if (k == 0)
        return;
    memmove(sd->r, sd->r + k, (sd->nr - k) * sizeof(sd->r[0]));
    sd->nr = (uint8_t)(sd->nr - k);
    sd->len = (uint32_t)(edge - sd->base);
}

enum stream_add_res stream_add(struct stream_dir *sd, uint64_t seq, const uint8_t *data, size_t len)
{
    if (!sd->buf || len == 0 || sd->gap)
        return sd->gap ? STREAM_GAP : STREAM_OLD;
    uint64_t edge = sd->base + sd->len;
    uint64_t win_end = sd->base + sd->cap;
    uint64_t s = seq, e = seq + len;
    if (e <= edge)
        return STREAM_OLD;
    if (s < edge)
        s = edge;
    bool capped = false;
    if (e > win_end) {
        sd->dropped += e - (s > win_end ? s : win_end);
        sd->full = true;
        capped = true;
        e = win_end;
    }
    if (s >= e)
        return STREAM_CAPPED;
    if (s == edge) {
        copy_uncovered(sd, s, e, data, seq);
        sd->len = (uint32_t)(e - sd->base);
        advance_edge(sd);
        return capped ? STREAM_CAPPED : STREAM_IN_ORDER;
    }
    if (covered(sd, s, e))
        return capped ? STREAM_CAPPED : STREAM_OLD;
    copy_uncovered(sd, s, e, data, seq);
    if (!range_insert(sd, s, e)) {
        sd->gap = true;
        return STREAM_GAP;
    }
    return capped ? STREAM_CAPPED : STREAM_OOO;
}

void stream_consume(struct stream_dir *sd, size_t n)
{
    if (!sd->buf || n == 0)
        return;
    if (n > sd->len)
        n = sd->len;
    uint64_t hi = sd->base + sd->len;
    if (sd->nr)
        hi = sd->r[sd->nr - 1].e;
    size_t keep = (size_t)(hi - sd->base) - n;
    if (keep)
        memmove(sd->buf, sd->buf + n, keep);
    sd->base += n;
    sd->len = (uint32_t)(sd->len - n);
}
