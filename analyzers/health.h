/* health.h - the server health detector (det_health.c), for the detector table. */
#ifndef FM_HEALTH_H
#define FM_HEALTH_H

#include "analyzers/det.h"

/* Response times, slow_response findings, per-server interval rows and health alerts. */
extern const struct det_ops det_health_ops;

/*
 * The same detector in two halves, for --workers (worker.c): det_health_flow_ops is the
 * per-flow response timing (the stream parser: HTTP framing, TLS records, turn-taking, the
 * slow_response and http_5xx findings and http records) and keeps no server state: what it
 * does to its flow's server is a struct health_op handed to the thread's sink
 * (health_set_thread_sink); det_health_srv_ops is the server side (server table, what each
 * segment counts, intervals, quantiles, alerts) and applies those ops (health_apply_op).
 * det_health_ops is both in one detector, applying each op at once: the single engine.
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
};

/* Flags of a struct health_op. */
enum {
    HOPF_ACTIVE = 1u << 0, /* HOP_SLOW: the server is marked active too (a request left
                              unanswered at the flow's end; as before the split) */
};

struct health_op {
    uint32_t kind;  /* enum health_op_kind */
    uint32_t flags; /* HOPF_* */
    int32_t status; /* HOP_RESPONSE */
    int64_t n;      /* HOP_OUTSTANDING */
    double v;       /* HOP_SAMPLE */
    uint64_t ts;    /* HOP_ADVANCE */
};

/*
 * Where this thread's det_health_flow_ops instances send their ops (f: the flow, as the
 * worker knows it). NULL: dropped.
 */
void health_set_thread_sink(void (*fn)(void *ctx, const struct flow *f, const struct health_op *op),
                            void *ctx);

/* Apply op to the server of the flow whose det_health_srv_ops slice is slice (d: that det). */
void health_apply_op(struct det *d, const void *slice, const struct health_op *op);

#endif
