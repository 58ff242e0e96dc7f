/* health.h - the server health detector (det_health.c), for det_table.c and worker.c. */
#ifndef FM_HEALTH_H
#define FM_HEALTH_H

#include "analyzers/det.h"

/* Response times, slow_response findings, per-server interval rows and health alerts. */
extern const struct det_ops det_health_ops;

/*
 * The same detector in two halves, for --workers (worker.c): det_health_flow_ops is the
 * per-flow response timing (the stream parser: HTTP framing, TLS records, turn-taking, the
 * slow_response and http_5xx findings and http records) and what each segment counts for
 * its server, and keeps no server state: what it does to its flow's server is a struct
 * health_op handed to the thread's sink (health_set_thread_sink); det_health_srv_ops is the
 * server side (server table, intervals, quantiles, alerts), sees no segment, and applies
 * those ops (health_apply_op). det_health_ops is both in one detector, applying each op at
 * once and counting each segment itself (hl_on_packet): the single engine.
 */
extern const struct det_ops det_health_flow_ops;
extern const struct det_ops det_health_srv_ops;

/* What the timing of one flow does to its server's interval (or to the interval clock). */
enum health_op_kind {
    HOP_ADVANCE = 1, /* capture time reached ts: close the intervals it passed */
    HOP_REQUEST,     /* an HTTP request ended: one more request, one more outstanding */
    HOP_SAMPLE,      /* a response time sample v (s) */
    HOP_RESPONSE,    /* a final HTTP response with status */
    HOP_SLOW,        /* a slow response counted (HOPF_ACTIVE: the server marked active too) */
    HOP_OUTSTANDING, /* n added to the requests awaiting a response (n < 0: answered, dropped) */
    HOP_COUNT,       /* what the flow's segments counted since its last HOP_COUNT (c, flags) */
};

/* Flags of a struct health_op. */
enum {
    HOPF_ACTIVE = 1u << 0,       /* HOP_SLOW: the server is marked active too (a request left
                                    unanswered at the flow's end; as before the split) */
    HOPF_ATTEMPT = 1u << 1,      /* HOP_COUNT: a client's first SYN (not a retry): an attempt
                                    unless the flow's was counted or client is a scanner now */
    HOPF_EST = 1u << 2,          /* HOP_COUNT: the handshake completed (c.hs_rtt_ns) */
    HOPF_FAILED_RESET = 1u << 3, /* HOP_COUNT: the flow's first reset during the handshake */
    HOPF_HELD = 1u << 4,         /* HOP_COUNT: sent after its last segment (held back): its
                                    time only raises the server's last_ns */
};

/*
 * What a flow's segments counted for its server since the last HOP_COUNT (hl_on_packet
 * counts the same into the server's row at each segment).
 */
struct health_count {
    uint64_t last_ns;         /* time of the last segment counted */
    uint64_t bytes[2];        /* payload bytes of data segments, per direction */
    uint32_t data_segs[2];    /* data segments, per direction */
    uint32_t retrans_segs[2]; /* data retransmissions, per direction */
    uint32_t syn_retries;     /* client SYN retries */
    uint32_t synack_retries;  /* repeated SYN-ACKs */
    uint32_t resets;          /* RST segments */
    uint32_t zero_windows;    /* zero-window advertisements */
    int64_t hs_rtt_ns;        /* HOPF_EST: the handshake RTT (the record's; < 0: unknown) */
};

struct health_op {
    uint32_t kind;  /* enum health_op_kind */
    uint32_t flags; /* HOPF_* */
    int32_t status; /* HOP_RESPONSE */
    int64_t n;      /* HOP_OUTSTANDING */
    double v;       /* HOP_SAMPLE */
    uint64_t ts;    /* HOP_ADVANCE */
    /* Of every op of a flow that the per-flow half sends: the flow's server (the server half
       looks it up at the flow's first op, as hl_on_packet does at its first segment) */
    struct endpoint server;
    struct ip_addr client; /* HOPF_ATTEMPT: the flow's client */
    struct health_count c; /* HOP_COUNT */
};

/*
 * Where this thread's det_health_flow_ops instances send their ops (f: the flow, as the
 * worker knows it). NULL: dropped.
 */
void health_set_thread_sink(void (*fn)(void *ctx, const struct flow *f, const struct health_op *op),
                            void *ctx);

/*
 * Apply op to the server of the flow whose det_health_srv_ops slice is slice (d: that det;
 * slice NULL for HOP_ADVANCE). The slice records the server looked up and the attempt counted.
 */
void health_apply_op(struct det *d, void *slice, const struct health_op *op);

/*
 * A worker's engine ticks (now_ns), before any detector's on_tick at this position: when the
 * tick may close the server half's interval, the per-flow half d (det_health_flow_ops) sends
 * the counts its flows hold back first (worker.c calls it from the first detector of the
 * table, so that these ops are keyed before the server half's own tick).
 */
void health_flow_tick(struct det *d, uint64_t now_ns);

/*
 * Flow f ends in a worker (fs: its slice of d, det_health_flow_ops): what it held back is sent
 * now (worker.c calls it before the groups' records of the flow end; the half's own
 * on_flow_end does it too, for what is left).
 */
void health_flow_end(struct det *d, const struct flow *f, void *fs);

#endif
