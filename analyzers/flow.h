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
 * A flow as the engine, TCP analysis and detectors see it. The table keeps every flow as a
 * small entry (its endpoints, LRU links and, while the flow has sent nothing but client SYNs,
 * its whole state in compact form: struct tcp_syn and the detectors' small forms). The first
 * segment that a compact entry cannot describe (a SYN-ACK, data, a reset, ...) gives the flow
 * a block from a pool sized at start-up with the full struct flow and detector slices, given
 * back when the flow ends. A compact flow is seen through a view that the table fills from the
 * entry (one at a time: valid until the next table call) and packs again in flow_commit.
 * Detectors get it const and read rec (flow_rec) and the TCP state of each direction
 * (flow_half), and write only their own slice of ext (the fs argument of their callbacks).
 */
struct flow_node;

struct flow {
    struct flow_record rec;        /* public facts: endpoints, times, counters, state */
    struct tcp_half half[2];       /* per-direction sequence state (DIR_C2S, DIR_S2C) */
    struct tcp_flow tcp;           /* flow-wide TCP analysis state */
    uint8_t *ext;                  /* detectors' per-flow state (det->off into it) */
    struct flow_node *node;        /* the table's entry of this flow */
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
 * A table of at most max_flows flows, each with ext_size bytes of detector state; every flow
 * takes its block when it is created (no compact entries). All memory is allocated here,
 * once. NULL on failure.
 */
struct flow_table *flow_table_new(size_t max_flows, size_t ext_size);
void flow_table_free(struct flow_table *t);

/*
 * Compact entries for SYN-only flows. The table packs a view's record and TCP state itself
 * (tcp_syn_pack); the owner of ext (the engine, for the detectors) packs ext into small_size
 * bytes and back. A view stays compact only when unpacking what was packed gives it back
 * byte for byte; anything else takes a block.
 */
struct flow_compact {
    size_t small_size; /* bytes of detector state a compact entry keeps */
    size_t nblocks;    /* full-state blocks: max_flows (fewer only to test running out) */
    /* Write the small form of f->ext (small_size bytes) to small. */
    void (*pack)(void *ctx, const struct flow *f, uint8_t *small);
    /* Fill f->ext (zeroed) from small; f's record and TCP state are already unpacked. */
    void (*unpack)(void *ctx, struct flow *f, const uint8_t *small);
    void *ctx; /* for pack and unpack */
};

/* A table with compact entries (see struct flow_compact). NULL on failure. */
struct flow_table *flow_table_new_compact(size_t max_flows, size_t ext_size,
                                          const struct flow_compact *c);

/*
 * After a packet (or any change) to the flow of view f: store a compact view back into its
 * entry, or give the flow its block. Returns the flow as it is kept now (f itself, or its
 * block), or NULL when it needed a block and none was left: the view is still valid then, and
 * the caller ends the flow (counted in blocks_exhausted; cannot happen with nblocks at
 * max_flows, one block per entry).
 */
struct flow *flow_commit(struct flow_table *t, struct flow *f);

/*
 * Find the flow of p (either direction). *dir is set to the packet's direction relative to
 * the flow's client/server. NULL if none.
 */
struct flow *flow_lookup(struct flow_table *t, const struct pkt *p, int *dir);

/*
 * Take a flow from the pool for p (the caller fills rec, then commits: flow_commit). When the
 * pool is empty, the least recently used flow is passed to evict_cb first (so detectors can
 * finish it) and reused.
 */
struct flow *flow_create(struct flow_table *t, const struct pkt *p,
                         void (*evict_cb)(void *ctx, struct flow *f), void *ctx);

/* Remove f from the table and return it to the pool. */
void flow_release(struct flow_table *t, struct flow *f);

/* Mark f as the most recently used (call on every packet). */
void flow_touch(struct flow_table *t, struct flow *f);

/* Least recently used flow, or NULL when empty (for idle expiry, oldest first). */
struct flow *flow_oldest(struct flow_table *t);

/*
 * The flow of entry n (f->node of a flow still in the table) when it has its full block, whose
 * address stays the same until the flow ends; NULL for a compact entry (no block).
 */
struct flow *flow_of_node(const struct flow_table *t, const struct flow_node *n);

/*
 * Mark f closed at ts_ns and append it to the closed list (no effect if already closed). A
 * closed flow is never compact: a compact view takes its block here (commit first).
 */
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

/* Memory of the flows: what every entry costs and the blocks handed out. */
struct flow_mem_stats {
    size_t entry_bytes;        /* bytes per table entry (every flow) */
    size_t entry_struct_bytes; /* of which the entry itself (the rest: detectors' small forms) */
    size_t block_bytes;        /* bytes per full-state block */
    size_t blocks_used;        /* blocks handed out now */
    size_t blocks_peak;        /* the most handed out at once */
    uint64_t blocks_exhausted; /* flows that needed a block when none was left */
};

void flow_table_get_mem(const struct flow_table *t, struct flow_mem_stats *st);

/* Last packet time of the least recently used flow, without a view: false when empty. */
bool flow_oldest_ts(const struct flow_table *t, uint64_t *ts);

/* Number of flows in use. */
size_t flow_count(const struct flow_table *t);

/* Call fn for every flow in use (oldest first), committing each after. fn may not release
   flows. */
void flow_foreach(struct flow_table *t, void (*fn)(void *ctx, struct flow *f), void *ctx);

/* Call fn for every flow in use (oldest first) to read it: nothing is committed. */
void flow_foreach_view(struct flow_table *t, void (*fn)(void *ctx, const struct flow *f),
                       void *ctx);

#endif
