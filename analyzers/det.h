/*
 * det.h - the detector interface. A detector is one file (det_*.c), one line in det_table.c,
 * and per-flow state of a fixed size that the flow table keeps for it (zeroed per flow).
 */
#ifndef FM_DET_H
#define FM_DET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/engine.h"
#include "analyzers/finding.h"
#include "capture/pkt.h"

struct flow;
struct pool;
struct stream_ops;

/*
 * Server endpoints a per-server detector table holds at once (det_estab, det_health): one
 * cap, so the tables give way to new servers together.
 */
#define DET_MAX_SERVERS 1024

/* What TCP analysis made of one segment; detectors read this instead of re-deriving it. */
struct tcp_seg {
    int dir;                 /* DIR_C2S or DIR_S2C */
    uint32_t ev;             /* bit (1u << TEV_*) for every TCP event this segment raised */
    uint64_t rel_seq;        /* sequence of the first payload byte, relative to the ISN+1,
                                unwrapped to 64 bits; valid when has_rel */
    bool has_rel;            /* the direction's ISN (or first seq seen) is known */
    uint32_t len;            /* payload length (tcp_len) */
    bool flow_new;           /* this segment created the flow */
    bool syn;                /* a client SYN (first or retry) */
    bool syn_retry;          /* a client SYN with the same ISN as an earlier one */
    bool syn_copy;           /* syn_retry, but a copy of the earlier SYN (TCP_SYN_COPY_NS) */
    bool synack;             /* a server SYN-ACK */
    bool synack_retry;       /* a repeated SYN-ACK */
    bool hs_ack;             /* the client ACK that completed the handshake */
    enum rst_phase rst;      /* RST_NONE unless this is a reset */
    bool rst_ttl_mismatch;   /* reset TTL/hop limit differs from the sender's other packets */
    bool data;               /* a data segment: payload, and not a keep-alive probe */
    bool data_retrans;       /* a data retransmission: a data segment whose events include a
                                kind counted as one (fk_info data_retransmission); every rate
                                and total of retransmissions counts these, nothing else */
    bool loss_retrans;       /* a data retransmission that is evidence of loss: one of its
                                events' kinds has data_retransmission and loss_evidence
                                (fk_info); a spurious retransmission is not */
};

/* One detector instance (global state per run). */
struct det {
    const struct det_ops *ops;  /* what it does */
    void *priv;                 /* its own global state */
    size_t off;                 /* offset of its per-flow state within a flow's ext area */
    struct engine *eng;         /* for det_emit */
    struct pool *lazy;          /* blocks of lazy_state_size bytes (NULL if it has none) */
    size_t small_off;           /* offset of its small form in a compact flow's entry */
};

/*
 * One field of a detector's per-flow slice that a compact flow keeps (det_ops.small): where it
 * is in the slice and how many bytes. Write entries with DET_SMALL(slice type, member); a
 * member may be nested (e.member).
 */
struct det_small_field {
    uint16_t off;  /* offsetof(slice type, member) */
    uint16_t size; /* sizeof the member */
};
#define DET_SMALL(type, member)                                                                    \
    {                                                                                              \
        offsetof(type, member), sizeof(((type *)0)->member)                                        \
    }

struct det_ops {
    const char *name;           /* short name, e.g. "tls" */
    size_t flow_state_size;     /* bytes of per-flow state every flow has (zeroed when a flow
                                   starts): keep it small, a SYN-only flow pays it */
    size_t lazy_state_size;     /* bytes of per-flow state taken from a pool (det_lazy_get)
                                   only by flows that need it; 0 = none */
    /* Set up global state (d->priv). 0 or a negative enum err. May be NULL. */
    int (*init)(struct det *d, const struct eng_config *cfg);
    /*
     * A segment of flow f, after TCP analysis. fs is this detector's per-flow state, the
     * only per-flow memory it may write; the flow itself is read-only (flow_rec, flow_half).
     */
    void (*on_packet)(struct det *d, const struct flow *f, void *fs, const struct pkt *p,
                      const struct tcp_seg *s);
    /* Flow f ends (closed, evicted, expired or end of input); last chance to emit. */
    void (*on_flow_end)(struct det *d, const struct flow *f, void *fs);
    /* Capture time advanced to now_ns (called at least once per second of capture time). */
    void (*on_tick)(struct det *d, uint64_t now_ns);
    /*
     * Every finding any detector emitted (for aggregates such as server health). Must not
     * emit findings of its own from here, except the engine drops recursion. May be NULL.
     */
    void (*on_finding)(struct det *d, const struct finding *f);
    /* End of input, after every flow ended. */
    void (*on_finish)(struct det *d);
    /* Release global state. May be NULL. */
    void (*free)(struct det *d);
    /* A health row another detector emitted (for the incident layer). May be NULL. */
    void (*on_health)(struct det *d, const struct health_row *h);
    /* A TLS handshake record another detector emitted. May be NULL. */
    void (*on_tls)(struct det *d, const struct tls_record *t);
    /*
     * The slice of a compact flow (one that has sent only client SYNs, flow.h): the table
     * keeps the nsmall fields listed in small, one after the other (the engine packs and
     * unpacks them: eng_pack, eng_unpack); every other byte of the slice must be zero, or
     * follow from the flow's record and TCP state, which unpack_more fills in after the
     * fields (may be NULL). Whenever the slice would not come back byte for byte, the flow
     * takes its full block instead: keep the slice's SYN-time fields few and small.
     */
    const struct det_small_field *small;
    size_t nsmall;
    void (*unpack_more)(const struct flow *f, void *fs);
    /* A stream parser: the engine's stream layer hands it the flow's bytes (stream.h). */
    const struct stream_ops *stream;
};

/*
 * Lazy per-flow state: *h (a handle the detector keeps in its flow_state_size slice, 0 = none)
 * names a zeroed block of lazy_state_size bytes from the detector's pool, sized at start-up
 * (one block per flow the table can hold). det_lazy_get takes one if *h is 0 and returns it,
 * or NULL when the pool is empty (counted in eng_stats.lazy_exhausted); det_lazy_at returns
 * the block or NULL without taking one; det_lazy_put gives it back (on_flow_end) and zeroes *h.
 */
void *det_lazy_get(struct det *d, uint32_t *h);
void *det_lazy_block(const struct det *d, uint32_t h);
void det_lazy_put(struct det *d, uint32_t *h);

/* Inline: most packets are of flows without the block, or need no lookup at all. */
static inline void *det_lazy_at(const struct det *d, uint32_t h)
{
    return h ? det_lazy_block(d, h) : NULL;
}

/*
 * Another flow than the one being analysed, by its table entry (f->node, kept while the flow
 * lives): its full block, or NULL when it has none (a compact SYN-only flow).
 */
struct flow_node;
const struct flow *det_flow_of_node(const struct det *d, const struct flow_node *n);
/* Flow f's table entry (for det_flow_of_node). */
const struct flow_node *det_node_of(const struct flow *f);
/* d's per-flow state in flow f (as on_packet gets it), e.g. of a flow from det_flow_of_node. */
void *det_state(const struct det *d, const struct flow *f);

/* Count one HTTP connection whose request slots were reclaimed (eng_stats.http_reclaimed). */
void det_count_http_reclaim(struct det *d);

/*
 * The engine's clock: the capture time it has advanced to (the newest position's, so also
 * while it ends flows before that position's segment). Every worker's engine advances through
 * every position's time, so offline this is the same for every N.
 */
uint64_t det_clock(const struct det *d);

/* Send a finding to every sink (counts it too). */
void det_emit(struct det *d, const struct finding *f);

/* Fill the flow-related fields of a finding (flow id, client, server) from f. */
void det_finding_init(struct finding *out, const struct flow *f, enum fkind k,
                      enum severity sev, uint64_t ts_ns);

/* The flow's public record (endpoints, times, counters). */
const struct flow_record *flow_rec(const struct flow *f);

/*
 * TCP analysis state of direction dir (DIR_C2S, DIR_S2C) of f, read-only: data segments,
 * TTLs seen, loss locations. Only TCP analysis writes it.
 */
struct tcp_half;
const struct tcp_half *flow_half(const struct flow *f, int dir);

/* The health sink entry: detectors that produce health rows hand them here. */
void det_emit_health(struct det *d, const struct health_row *h);

/* TLS handshake and certificate records go to the sinks through these. */
void det_emit_tls(struct det *d, const struct tls_record *t);
void det_emit_cert(struct det *d, const struct cert_record *c);

/* HTTP request/response records go to the sinks through this. */
void det_emit_http(struct det *d, const struct http_record *r);

/* Who scans (analyzers/scan.h): fed by the engine before the detectors see a segment. */
struct scan_table;
const struct scan_table *det_scans(const struct det *d);

/* Incident events go to the sinks through this. */
void det_emit_incident(struct det *d, const struct incident_record *r);

/* The detector table (det_table.c), NULL-terminated. */
extern const struct det_ops *const det_table[];

#endif
