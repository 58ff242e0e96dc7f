/* flow.c - the bidirectional flow table: a pool, a chained hash on the canonical 5-tuple, LRU. */
#include "analyzers/flow.h"

#include <stdlib.h>
#include <string.h>

#include "analyzers/hash.h"
#include "analyzers/siphash.h"

/* The table: every byte is allocated in flow_table_new. */
struct flow_table {
    struct flow *pool;       /* max_flows flows */
    uint8_t *ext;            /* max_flows * ext_size bytes of detector state */
    size_t max_flows;        /* pool size */
    size_t ext_size;         /* bytes of detector state per flow */
    struct flow **buckets;   /* hash chains */
    uint32_t mask;           /* buckets - 1 (a power of two minus one) */
    struct flow *free_list;  /* released flows, linked through hnext */
    size_t fresh;            /* pool[fresh..] never used yet (untouched memory stays lazy) */
    struct flow *lru_head;   /* least recently used */
    struct flow *lru_tail;   /* most recently used */
    struct flow *cl_head;    /* closed first */
    struct flow *cl_tail;    /* closed last */
    size_t count;            /* flows in use */
    struct siphash_key key;  /* hash key, random per table */
    struct flow_table_stats st; /* lookup cost counters */
};

/* Order two endpoints: <0, 0, >0 like memcmp. */
static int flow_ep_cmp(const struct endpoint *a, const struct endpoint *b)
{
    int c = memcmp(a->ip.a, b->ip.a, sizeof(a->ip.a));
    if (c)
        return c;
    return (int)a->port - (int)b->port;
}

/*
 * Hash of the unordered endpoint pair (the same for both directions: the lower endpoint goes
 * first), SipHash-1-3 under this table's random key: someone who sends packets past the
 * mirror port cannot pick tuples that share a bucket (issue 14: 32 k of them slowed the
 * analysis 67 times under the old fixed key). IPv4 pairs are packed into two words.
 */
static uint32_t flow_hash(const struct flow_table *t, const struct endpoint *x,
                          const struct endpoint *y)
{
    const struct endpoint *lo = x, *hi = y;
    if (flow_ep_cmp(x, y) > 0) {
        lo = y;
        hi = x;
    }
    uint64_t w[5];
    size_t n;
    uint64_t ports = (uint64_t)lo->port << 32 | (uint64_t)hi->port << 16 | lo->ip.family;
    if (lo->ip.family == 4) {
        uint32_t a, b;
        memcpy(&a, lo->ip.a, sizeof(a));
        memcpy(&b, hi->ip.a, sizeof(b));
        w[0] = (uint64_t)a << 32 | b;
        w[1] = ports;
        n = 2;
    } else {
        w[0] = hash_load64(lo->ip.a);
        w[1] = hash_load64(lo->ip.a + 8);
        w[2] = hash_load64(hi->ip.a);
        w[3] = hash_load64(hi->ip.a + 8);
        w[4] = ports;
        n = 5;
    }
    uint64_t h = siphash13_words(&t->key, w, n);
    return (uint32_t)(h ^ (h >> 32));
}

struct flow_table *flow_table_new(size_t max_flows, size_t ext_size)
{
    if (max_flows == 0 || max_flows > (1u << 30))
        return NULL;
    struct flow_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    size_t nb = 16;
    while (nb < max_flows * 2)
        nb <<= 1;
    t->pool = calloc(max_flows, sizeof(*t->pool));
    if (!t->pool)
        goto free_table;
    if (ext_size) {
        if (max_flows > SIZE_MAX / ext_size)
            goto free_pool;
        t->ext = calloc(max_flows, ext_size);
        if (!t->ext)
            goto free_pool;
    }
    t->buckets = calloc(nb, sizeof(*t->buckets));
    if (!t->buckets)
        goto free_ext;
    t->mask = (uint32_t)(nb - 1);
    t->max_flows = max_flows;
    t->ext_size = ext_size;
    /* Bucket placement never reaches the output, so a random key keeps runs reproducible. */
    if (siphash_key_random(&t->key) != 0)
        goto free_buckets;
    /*
     * Flows are handed out from the never-used end of the pool first, so the kernel commits
     * memory only for as many flows as were ever open at once, not for the whole cap.
     */
    return t;

free_buckets:
    free(t->buckets);
free_ext:
    free(t->ext);
free_pool:
    free(t->pool);
free_table:
    free(t);
    return NULL;
}

void flow_table_free(struct flow_table *t)
{
    if (!t)
        return;
    free(t->buckets);
    free(t->ext);
    free(t->pool);
    free(t);
}

struct flow *flow_lookup(struct flow_table *t, const struct pkt *p, int *dir)
{
    uint32_t h = flow_hash(t, &p->src, &p->dst);
    uint64_t n = 0;
    struct flow *f;
    t->st.lookups++;
    for (f = t->buckets[h & t->mask]; f; f = f->hnext) {
        n++;
        if (f->hash != h)
            continue;
        if (pkt_ep_eq(&f->rec.client, &p->src) && pkt_ep_eq(&f->rec.server, &p->dst)) {
            *dir = DIR_C2S;
            break;
        }
        if (pkt_ep_eq(&f->rec.client, &p->dst) && pkt_ep_eq(&f->rec.server, &p->src)) {
            *dir = DIR_S2C;
            break;
        }
    }
    t->st.probes += n;
    if (n > t->st.max_probes)
        t->st.max_probes = n;
    return f;
}

static void flow_lru_unlink(struct flow_table *t, struct flow *f)
{
    if (f->lru_prev)
        f->lru_prev->lru_next = f->lru_next;
    else
        t->lru_head = f->lru_next;
    if (f->lru_next)
        f->lru_next->lru_prev = f->lru_prev;
    else
        t->lru_tail = f->lru_prev;
    f->lru_prev = f->lru_next = NULL;
}

static void flow_lru_append(struct flow_table *t, struct flow *f)
{
    f->lru_next = NULL;
    f->lru_prev = t->lru_tail;
    if (t->lru_tail)
        t->lru_tail->lru_next = f;
    else
        t->lru_head = f;
    t->lru_tail = f;
}

static void flow_closed_unlink(struct flow_table *t, struct flow *f)
{
    if (!f->closed)
        return;
    if (f->cl_prev)
        f->cl_prev->cl_next = f->cl_next;
    else if (t->cl_head == f)
        t->cl_head = f->cl_next;
    if (f->cl_next)
        f->cl_next->cl_prev = f->cl_prev;
    else if (t->cl_tail == f)
        t->cl_tail = f->cl_prev;
    f->cl_prev = f->cl_next = NULL;
}

/* Remove f from its hash chain. */
static void flow_hash_unlink(struct flow_table *t, struct flow *f)
{
    struct flow **pp = &t->buckets[f->hash & t->mask];
    while (*pp && *pp != f)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = f->hnext;
    f->hnext = NULL;
}

void flow_release(struct flow_table *t, struct flow *f)
{
    if (!f || !f->in_use)
        return;
    flow_hash_unlink(t, f);
    flow_lru_unlink(t, f);
    flow_closed_unlink(t, f);
    f->in_use = false;
    f->closed = false;
    f->hnext = t->free_list;
    t->free_list = f;
    t->count--;
}

struct flow *flow_create(struct flow_table *t, const struct pkt *p,
                         void (*evict_cb)(void *ctx, struct flow *f), void *ctx)
{
    if (!t->free_list && t->fresh == t->max_flows) {
        struct flow *old = t->lru_head;
        if (!old)
            return NULL;
        if (evict_cb)
            evict_cb(ctx, old);
        flow_release(t, old);
    }
    struct flow *f;
    if (t->free_list) {
        f = t->free_list;
        t->free_list = f->hnext;
    } else {
        f = &t->pool[t->fresh++];
    }
    size_t idx = (size_t)(f - t->pool);
    uint8_t *ext = t->ext ? t->ext + idx * t->ext_size : NULL;
    memset(f, 0, sizeof(*f));
    f->ext = ext;
    if (ext)
        memset(ext, 0, t->ext_size);
    f->rec.client = p->src;
    f->rec.server = p->dst;
    f->hash = flow_hash(t, &p->src, &p->dst);
    f->in_use = true;
    struct flow **b = &t->buckets[f->hash & t->mask];
    f->hnext = *b;
    *b = f;
    flow_lru_append(t, f);
    t->count++;
    return f;
}

void flow_touch(struct flow_table *t, struct flow *f)
{
    if (t->lru_tail == f)
        return;
    flow_lru_unlink(t, f);
    flow_lru_append(t, f);
}

struct flow *flow_oldest(const struct flow_table *t)
{
    return t->lru_head;
}

void flow_set_closed(struct flow_table *t, struct flow *f, uint64_t ts_ns)
{
    if (f->closed)
        return;
    f->closed = true;
    f->closed_ts_ns = ts_ns;
    f->cl_next = NULL;
    f->cl_prev = t->cl_tail;
    if (t->cl_tail)
        t->cl_tail->cl_next = f;
    else
        t->cl_head = f;
    t->cl_tail = f;
}

struct flow *flow_oldest_closed(const struct flow_table *t)
{
    return t->cl_head;
}

size_t flow_count(const struct flow_table *t)
{
    return t->count;
}

void flow_foreach(const struct flow_table *t, void (*fn)(void *ctx, struct flow *f), void *ctx)
{
    for (struct flow *f = t->lru_head; f; f = f->lru_next)
        fn(ctx, f);
}

int flow_table_set_key(struct flow_table *t, const struct siphash_key *k)
{
    if (t->count)
        return ERR_ARG;
    t->key = *k;
    return 0;
}

void flow_table_get_stats(const struct flow_table *t, struct flow_table_stats *st)
{
    *st = t->st;
}

size_t flow_table_longest_chain(const struct flow_table *t)
{
    size_t longest = 0;
    for (size_t b = 0; b <= t->mask; b++) {
        size_t n = 0;
        for (const struct flow *f = t->buckets[b]; f; f = f->hnext)
            n++;
        if (n > longest)
            longest = n;
    }
    return longest;
}
