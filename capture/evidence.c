/*
 * evidence.c - the --evidence-dir ring: a fixed pool of flow slots, each holding the flow's
 * first packets and a ring of its last ones, found by flow id through an open-addressing
 * index; marked flows are written as pcap files when they end. Nothing is allocated after
 * evidence_new except the file handle of a pcap being written.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include "capture/evidence.h"

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EV_NONE UINT32_MAX /* "no slot" in the index */

/* A kept packet's header; its bytes are in the pool's data area. */
struct ev_pkt {
    uint64_t ts_ns;   /* capture time */
    uint32_t caplen;  /* bytes kept (<= snaplen) */
    uint32_t wirelen; /* length on the wire */
};

/* One followed flow. */
struct ev_slot {
    uint64_t flow_id; /* the flow; 0 when the slot is free */
    uint64_t alias;   /* with workers: the flow's id in the output (evidence_alias), or 0 */
    bool marked;      /* write it when it ends */
    int linktype;     /* link type of its first packet */
    uint64_t seen;    /* packets given for this flow */
    uint32_t nfirst;  /* packets in the first part (<= first) */
    uint64_t nring;   /* packets given to the ring (the ring holds the last min(nring, last)) */
};

/* The ring: everything allocated once in evidence_new. */
struct evidence {
    char dir[4096];           /* output directory */
    int64_t run_id;           /* for file names */
    size_t first;             /* first packets per slot */
    size_t last;              /* ring packets per slot */
    size_t nslots;            /* slots in the pool */
    uint32_t snaplen;         /* bytes kept per packet */
    struct ev_slot *slots;    /* nslots slots */
    struct ev_pkt *hdrs;      /* nslots * (first + last) packet headers */
    uint8_t *data;            /* nslots * (first + last) * snaplen bytes */
    uint32_t *index;          /* open addressing: slot number or EV_NONE, index_mask + 1 entries */
    size_t index_mask;        /* entries - 1 (a power of two, at least 2 * nslots) */
    uint32_t *free_stack;     /* free slot numbers */
    size_t nfree;             /* entries in free_stack */
    size_t cursor;            /* eviction clock hand */
    uint64_t newest;          /* highest flow id seen: ids grow, so a higher one is a new flow */
    struct evidence_stats st; /* counters */
    pthread_mutex_t mu;       /* guards everything (workers feed it, the aggregator marks it) */
    bool aliased;             /* mark, holds and flow_end name flows by their aliases */
    uint32_t *aindex;         /* as index, by alias (when aliased) */
};

static size_t ev_hash(const struct evidence *ev, uint64_t id)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t)id & ev->index_mask;
}

/* The id slot s is found by in index ix (ev->index: flow_id; ev->aindex: alias). */
static uint64_t ev_key(const struct evidence *ev, const uint32_t *ix, uint32_t s)
{
    return ix == ev->index ? ev->slots[s].flow_id : ev->slots[s].alias;
}

/* Position of index ix holding id, or the empty position where it would go. */
static size_t ev_find_in(const struct evidence *ev, const uint32_t *ix, uint64_t id)
{
    size_t i = ev_hash(ev, id);
    while (ix[i] != EV_NONE && ev_key(ev, ix, ix[i]) != id)
        i = (i + 1) & ev->index_mask;
    return i;
}

/* Index position holding flow id, or the empty position where it would go. */
static size_t ev_find(const struct evidence *ev, uint64_t id)
{
    return ev_find_in(ev, ev->index, id);
}

/* Remove the entry at position i of index ix, shifting later entries of its run back. */
static void ev_index_del(struct evidence *ev, uint32_t *ix, size_t i)
{
    size_t j = i;
    ix[i] = EV_NONE;
    for (;;) {
        j = (j + 1) & ev->index_mask;
        if (ix[j] == EV_NONE)
            return;
        size_t home = ev_hash(ev, ev_key(ev, ix, ix[j]));
        /* the entry at j may move to i when its home is not in (i, j] (cyclically) */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        ix[i] = ix[j];
        ix[j] = EV_NONE;
        i = j;
    }
}

static void ev_release(struct evidence *ev, uint32_t s)
{
    size_t i = ev_find(ev, ev->slots[s].flow_id);
    if (ev->index[i] == s)
        ev_index_del(ev, ev->index, i);
    if (ev->slots[s].alias) {
        i = ev_find_in(ev, ev->aindex, ev->slots[s].alias);
        if (ev->aindex[i] == s)
            ev_index_del(ev, ev->aindex, i);
    }
    memset(&ev->slots[s], 0, sizeof(ev->slots[s]));
    ev->free_stack[ev->nfree++] = s;
}

/* The slot of a flow as mark, holds and flow_end name it (by alias with workers). */
static uint32_t ev_named(const struct evidence *ev, uint64_t id)
{
    if (ev->aliased)
        return ev->aindex[ev_find_in(ev, ev->aindex, id)];
    return ev->index[ev_find(ev, id)];
}

/* A slot for a new flow: a free one, else the next unmarked one on the clock. */
static uint32_t ev_alloc(struct evidence *ev, uint64_t id)
{
    if (!ev->nfree) {
        for (size_t n = 0; n < ev->nslots; n++) {
            ev->cursor = (ev->cursor + 1) % ev->nslots;
            if (!ev->slots[ev->cursor].marked) {
                ev->st.evicted++;
                ev_release(ev, (uint32_t)ev->cursor);
                break;
            }
        }
        if (!ev->nfree)
            return EV_NONE;
    }
    uint32_t s = ev->free_stack[--ev->nfree];
    ev->slots[s].flow_id = id;
    ev->index[ev_find(ev, id)] = s;
    return s;
}

struct evidence *evidence_new(const struct evidence_config *cfg, char *err, size_t errlen)
{
    struct stat sb;
    if (!cfg || !cfg->dir || !*cfg->dir) {
        snprintf(err, errlen, "--evidence-dir: no directory given");
        return NULL;
    }
    if (stat(cfg->dir, &sb) != 0) {
        snprintf(err, errlen, "--evidence-dir %s: %s", cfg->dir, strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "--evidence-dir %s: not a directory", cfg->dir);
        return NULL;
    }
    if (access(cfg->dir, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "--evidence-dir %s: not writable: %s", cfg->dir, strerror(errno));
        return NULL;
    }
    struct evidence *ev = calloc(1, sizeof(*ev));
    if (!ev)
        goto nomem;
    if (strlen(cfg->dir) >= sizeof(ev->dir)) {
        snprintf(err, errlen, "--evidence-dir: path too long");
        free(ev);
        return NULL;
    }
    memcpy(ev->dir, cfg->dir, strlen(cfg->dir) + 1);
    ev->first = cfg->first ? cfg->first : EVIDENCE_DEFAULT_FIRST;
    ev->last = cfg->last ? cfg->last : EVIDENCE_DEFAULT_LAST;
    ev->nslots = cfg->flows ? cfg->flows : EVIDENCE_DEFAULT_FLOWS;
    ev->snaplen = cfg->snaplen ? cfg->snaplen : EVIDENCE_SNAPLEN;
    if (ev->nslots >= EV_NONE / 4 || ev->first + ev->last > 1000000 || ev->last == 0) {
        snprintf(err, errlen, "--evidence-dir: pool sizes out of range");
        free(ev);
        return NULL;
    }
    size_t per = ev->first + ev->last;
    size_t isz = 2;
    while (isz < 2 * ev->nslots)
        isz <<= 1;
    ev->index_mask = isz - 1;
    ev->slots = calloc(ev->nslots, sizeof(*ev->slots));
    ev->hdrs = calloc(ev->nslots * per, sizeof(*ev->hdrs));
    ev->data = malloc(ev->nslots * per * ev->snaplen);
    ev->index = malloc(isz * sizeof(*ev->index));
    ev->aindex = malloc(isz * sizeof(*ev->aindex));
    ev->free_stack = malloc(ev->nslots * sizeof(*ev->free_stack));
    if (!ev->slots || !ev->hdrs || !ev->data || !ev->index || !ev->aindex || !ev->free_stack ||
        pthread_mutex_init(&ev->mu, NULL) != 0) {
        free(ev->aindex);
        ev->aindex = NULL; /* evidence_free: the mutex was not made */
        evidence_free(ev);
        goto nomem;
    }
    for (size_t i = 0; i < isz; i++)
        ev->index[i] = ev->aindex[i] = EV_NONE;
    for (size_t i = 0; i < ev->nslots; i++)
        ev->free_stack[ev->nfree++] = (uint32_t)(ev->nslots - 1 - i);
    return ev;

nomem:
    snprintf(err, errlen, "--evidence-dir: out of memory for the evidence pool");
    return NULL;
}

void evidence_set_run(struct evidence *ev, int64_t run_id)
{
    if (ev)
        ev->run_id = run_id;
}

/* Copy f into packet position k of slot s. */
static void ev_store(struct evidence *ev, uint32_t s, size_t k, const struct cap_frame *f)
{
    size_t at = (size_t)s * (ev->first + ev->last) + k;
    uint32_t n = f->caplen < ev->snaplen ? f->caplen : ev->snaplen;
    ev->hdrs[at].ts_ns = f->ts_ns;
    ev->hdrs[at].caplen = n;
    ev->hdrs[at].wirelen = f->wirelen;
    if (n)
        memcpy(ev->data + at * ev->snaplen, f->data, n);
}

/* evidence_packet and evidence_packet_new, under the lock; first: -1 = by the id's growth. */
static void ev_packet(struct evidence *ev, uint64_t flow_id, int first, const struct cap_frame *f)
{
    size_t i = ev_find(ev, flow_id);
    uint32_t s = ev->index[i];
    if (s == EV_NONE) {
        /*
         * Only a new flow takes a slot (and may evict an unmarked one): a flow that lost its
         * slot stays unfollowed, or two flows could take each other's slot packet by packet.
         */
        if (first < 0 ? flow_id <= ev->newest : !first) {
            ev->st.not_followed++;
            return;
        }
        if (flow_id > ev->newest)
            ev->newest = flow_id;
        s = ev_alloc(ev, flow_id);
        if (s == EV_NONE) {
            ev->st.not_followed++;
            return;
        }
        ev->slots[s].linktype = f->linktype;
    }
    struct ev_slot *sl = &ev->slots[s];
    if (f->linktype != sl->linktype)
        return; /* one pcap has one link type */
    sl->seen++;
    if (sl->nfirst < ev->first) {
        ev_store(ev, s, sl->nfirst++, f);
        return;
    }
    ev_store(ev, s, ev->first + (size_t)(sl->nring % ev->last), f);
    sl->nring++;
}

void evidence_packet(struct evidence *ev, uint64_t flow_id, const struct cap_frame *f)
{
    if (!ev || !flow_id || !f)
        return;
    pthread_mutex_lock(&ev->mu);
    ev_packet(ev, flow_id, -1, f);
    pthread_mutex_unlock(&ev->mu);
}

void evidence_packet_new(struct evidence *ev, uint64_t flow_id, bool first,
                         const struct cap_frame *f)
{
    if (!ev || !flow_id || !f)
        return;
    pthread_mutex_lock(&ev->mu);
    ev_packet(ev, flow_id, first ? 1 : 0, f);
    pthread_mutex_unlock(&ev->mu);
}

/* A staged frame: its header, its flow, and its bytes (in the staging's buffer, or kept). */
struct ev_staged {
    uint64_t flow_id;
    bool first;
    struct cap_frame f;
};

struct evidence_stage {
    struct evidence *ev;
    size_t cap;            /* entries */
    size_t n;              /* entries staged */
    struct ev_staged *e;   /* cap entries */
    uint8_t *buf;          /* cap * snaplen bytes for copies, or NULL (the caller keeps them) */
    uint64_t frames;       /* frames handed to the ring */
    uint64_t flushes;      /* locks taken */
};

struct evidence_stage *evidence_stage_new(struct evidence *ev, size_t frames, bool copy)
{
    if (!ev || !frames)
        return NULL;
    struct evidence_stage *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->ev = ev;
    st->cap = frames;
    st->e = calloc(frames, sizeof(*st->e));
    st->buf = copy ? malloc(frames * ev->snaplen) : NULL;
    if (!st->e || (copy && !st->buf)) {
        evidence_stage_free(st);
        return NULL;
    }
    return st;
}

void evidence_stage_flush(struct evidence_stage *st)
{
    if (!st || !st->n)
        return;
    struct evidence *ev = st->ev;
    pthread_mutex_lock(&ev->mu);
    for (size_t i = 0; i < st->n; i++)
        ev_packet(ev, st->e[i].flow_id, st->e[i].first ? 1 : 0, &st->e[i].f);
    pthread_mutex_unlock(&ev->mu);
    st->frames += st->n;
    st->flushes++;
    st->n = 0;
}

void evidence_stage_packet(struct evidence_stage *st, uint64_t flow_id, bool first,
                           const struct cap_frame *f, bool keep)
{
    if (!st || !flow_id || !f)
        return;
    if (!keep && !st->buf) { /* no room for a copy: straight to the ring, in order */
        evidence_stage_flush(st);
        pthread_mutex_lock(&st->ev->mu);
        ev_packet(st->ev, flow_id, first ? 1 : 0, f);
        pthread_mutex_unlock(&st->ev->mu);
        return;
    }
    if (st->n == st->cap)
        evidence_stage_flush(st);
    struct ev_staged *e = &st->e[st->n];
    e->flow_id = flow_id;
    e->first = first;
    e->f = *f;
    if (!keep) {
        uint32_t n = f->caplen < st->ev->snaplen ? f->caplen : st->ev->snaplen;
        uint8_t *to = st->buf + st->n * st->ev->snaplen;
        if (n)
            memcpy(to, f->data, n);
        e->f.caplen = n; /* what the ring keeps anyway */
        e->f.data = to;
    }
    st->n++;
}

void evidence_stage_counts(const struct evidence_stage *st, uint64_t *frames, uint64_t *flushes)
{
    *frames = st ? st->frames : 0;
    *flushes = st ? st->flushes : 0;
}

void evidence_stage_free(struct evidence_stage *st)
{
    if (!st)
        return;
    free(st->e);
    free(st->buf);
    free(st);
}

void evidence_use_aliases(struct evidence *ev)
{
    if (ev)
        ev->aliased = true;
}

void evidence_alias(struct evidence *ev, uint64_t flow_id, uint64_t alias)
{
    if (!ev || !flow_id || !alias)
        return;
    pthread_mutex_lock(&ev->mu);
    uint32_t s = ev->index[ev_find(ev, flow_id)];
    if (s != EV_NONE && !ev->slots[s].alias) {
        ev->slots[s].alias = alias;
        size_t i = ev_find_in(ev, ev->aindex, alias);
        if (ev->aindex[i] == EV_NONE)
            ev->aindex[i] = s;
        else
            ev->slots[s].alias = 0; /* cannot happen: aliases are unique */
    }
    pthread_mutex_unlock(&ev->mu);
}

void evidence_mark(struct evidence *ev, uint64_t flow_id)
{
    if (!ev || !flow_id)
        return;
    pthread_mutex_lock(&ev->mu);
    uint32_t s = ev_named(ev, flow_id);
    if (s == EV_NONE && !ev->aliased)
        s = ev_alloc(ev, flow_id); /* evicted earlier: keep what comes from now on */
    if (s != EV_NONE)
        ev->slots[s].marked = true;
    pthread_mutex_unlock(&ev->mu);
}

bool evidence_holds(struct evidence *ev, uint64_t flow_id)
{
    if (!ev || !flow_id)
        return false;
    pthread_mutex_lock(&ev->mu);
    bool held = ev_named(ev, flow_id) != EV_NONE;
    pthread_mutex_unlock(&ev->mu);
    return held;
}

const char *evidence_path(const char *dir, int64_t run_id, uint64_t flow_id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%" PRId64 "-%" PRIu64 ".pcap", dir, run_id, flow_id);
    return buf;
}

/* Write packet position k of slot s to d. */
static void ev_dump(struct evidence *ev, uint32_t s, size_t k, pcap_dumper_t *d)
{
    size_t at = (size_t)s * (ev->first + ev->last) + k;
    const struct ev_pkt *h = &ev->hdrs[at];
    struct pcap_pkthdr ph;
    memset(&ph, 0, sizeof(ph));
    ph.ts.tv_sec = (time_t)(h->ts_ns / 1000000000u);
    ph.ts.tv_usec = (suseconds_t)(h->ts_ns % 1000000000u); /* nanoseconds: a nano dump */
    ph.caplen = h->caplen;
    ph.len = h->wirelen;
    pcap_dump((u_char *)d, &ph, ev->data + at * ev->snaplen);
    ev->st.packets++;
}

/* Write slot s to its file. */
static int ev_write(struct evidence *ev, uint32_t s)
{
    const struct ev_slot *sl = &ev->slots[s];
    char path[4200];
    evidence_path(ev->dir, ev->run_id, ev->aliased ? sl->alias : sl->flow_id, path, sizeof(path));
    pcap_t *pd = pcap_open_dead_with_tstamp_precision(sl->linktype, (int)ev->snaplen,
                                                      PCAP_TSTAMP_PRECISION_NANO);
    if (!pd)
        return ERR_NOMEM;
    pcap_dumper_t *d = pcap_dump_open(pd, path);
    if (!d) {
        pcap_close(pd);
        return ERR_IO;
    }
    for (size_t k = 0; k < sl->nfirst; k++)
        ev_dump(ev, s, k, d);
    uint64_t n = sl->nring < ev->last ? sl->nring : ev->last;
    for (uint64_t k = sl->nring - n; k < sl->nring; k++)
        ev_dump(ev, s, ev->first + (size_t)(k % ev->last), d);
    ev->st.dropped_middle += sl->seen - sl->nfirst - n;
    int rc = pcap_dump_flush(d) == 0 ? 0 : ERR_IO;
    pcap_dump_close(d);
    pcap_close(pd);
    if (rc != 0)
        unlink(path);
    return rc;
}

int evidence_flow_end(struct evidence *ev, uint64_t flow_id)
{
    if (!ev || !flow_id)
        return 0;
    pthread_mutex_lock(&ev->mu);
    uint32_t s = ev_named(ev, flow_id);
    int rc = 0;
    if (s == EV_NONE)
        goto out;
    if (ev->slots[s].marked && ev->slots[s].seen) {
        if (ev->st.written >= EVIDENCE_MAX_FILES) {
            ev->st.over_limit++;
        } else {
            rc = ev_write(ev, s);
            if (rc == 0)
                ev->st.written++;
            else
                ev->st.write_errors++;
        }
    }
    ev_release(ev, s);
out:
    pthread_mutex_unlock(&ev->mu);
    return rc;
}

void evidence_get_stats(struct evidence *ev, struct evidence_stats *st)
{
    if (!ev) {
        memset(st, 0, sizeof(*st));
        return;
    }
    pthread_mutex_lock(&ev->mu);
    *st = ev->st;
    pthread_mutex_unlock(&ev->mu);
}

void evidence_free(struct evidence *ev)
{
    if (!ev)
        return;
    free(ev->slots);
    free(ev->hdrs);
    free(ev->data);
    free(ev->index);
    if (ev->aindex) {
        free(ev->aindex);
        pthread_mutex_destroy(&ev->mu);
    }
    free(ev->free_stack);
    free(ev);
}
