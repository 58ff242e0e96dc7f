/*
 * flow.h - the bidirectional flow table: one lookup per packet on the canonical 5-tuple,
 * flows from a pool sized at start-up, LRU order for idle expiry and eviction at the cap.
 */
#ifndef FM_FLOW_H
#define FM_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/finding.h"
#include "analyzers/tcp.h"
#include "capture/err.h"
#include "capture/pkt.h"

/*
 * A flow. The table and TCP analysis own it; detectors get it const and read rec (flow_rec)
 * and the TCP state of each direction (flow_half), and write only their own slice of ext
 * (the fs argument of their callbacks).
 */
struct flow {
    struct flow_record rec;        /* public facts: endpoints, times, counters, state */
    struct tcp_half half[2];       /* per-direction sequence state (DIR_C2S, DIR_S2C) */
    struct tcp_flow tcp;           /* flow-wide TCP analysis state */
    uint8_t *ext;                  /* detectors' per-flow state (det->off into it) */
    struct flow *hnext;            /* next in the hash bucket */
    struct flow *lru_prev;         /* older flow (LRU list, by last packet) */
    struct flow *lru_next;         /* newer flow */
    uint32_t hash;                 /* hash of the canonical 5-tuple */
    bool in_use;                   /* allocated from the pool */
    bool closed;                   /* closed; kept only for closed_linger */
    uint8_t proto;                 /* enum stream_proto, decided by the stream layer */
    uint8_t stream_holes;          /* bit per direction: bytes wait ahead of a hole */
    uint32_t stream;               /* the stream layer's state (pool handle), 0 = none */
    uint64_t closed_ts_ns;         /* when it closed */
    struct flow *cl_prev;          /* older closed flow (closed list, by closed_ts_ns) */
    struct flow *cl_next;          /* newer closed flow */
};

struct flow_table;

/*
 * A table of at most max_flows flows, each with ext_size bytes of detector state.
 * All memory is allocated here, once. NULL on failure.
 */
struct flow_table *flow_table_new(size_t max_flows, size_t ext_size);
void flow_table_free(struct flow_table *t);

/*
 * Find the flow of p (either direction). *dir is set to the packet's direction relative to
 * the flow's client/server. NULL if none.
 */
struct flow *flow_lookup(struct flow_table *t, const struct pkt *p, int *dir);

/*
 * Take a flow from the pool for p (the caller fills rec). When the pool is empty, the least
 * recently used flow is passed to evict_cb first (so detectors can finish it) and reused.
 */
struct flow *flow_create(struct flow_table *t, const struct pkt *p,
                         void (*evict_cb)(void *ctx, struct flow *f), void *ctx);

/* Remove f from the table and return it to the pool. */
void flow_release(struct flow_table *t, struct flow *f);

/* Mark f as the most recently used (call on every packet). */
void flow_touch(struct flow_table *t, struct flow *f);

/* Least recently used flow, or NULL when empty (for idle expiry, oldest first). */
struct flow *flow_oldest(const struct flow_table *t);

/* Mark f closed at ts_ns and append it to the closed list (no effect if already closed). */
void flow_set_closed(struct flow_table *t, struct flow *f, uint64_t ts_ns);

/* The flow that closed first among those still in the table, or NULL. */
struct flow *flow_oldest_closed(const struct flow_table *t);

/* What lookups cost: how many flows they compared, so that tests can see chains grow. */
struct flow_table_stats {
    uint64_t lookups;    /* flow_lookup calls */
    uint64_t probes;     /* flows in the hash chains those calls walked past */
    uint64_t max_probes; /* the most flows one lookup walked past */
};

struct siphash_key;

/*
 * Replace the table's random hash key (tests: to build colliding tuples for a known key).
 * Only while the table is empty: 0, or ERR_ARG.
 */
int flow_table_set_key(struct flow_table *t, const struct siphash_key *k) FM_WUR;

/* The lookup counters since the table was made. */
void flow_table_get_stats(const struct flow_table *t, struct flow_table_stats *st);

/* The longest hash chain now (walks every bucket: for tests, never on the packet path). */
size_t flow_table_longest_chain(const struct flow_table *t);

/* Number of flows in use. */
size_t flow_count(const struct flow_table *t);

/* Call fn for every flow in use (oldest first). fn may not release flows. */
void flow_foreach(const struct flow_table *t, void (*fn)(void *ctx, struct flow *f), void *ctx);

#endif
