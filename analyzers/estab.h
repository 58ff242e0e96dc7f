/* estab.h - the connection-establishment detector (det_estab.c), for det_table.c and worker.c. */
#ifndef FM_ESTAB_H
#define FM_ESTAB_H

#include "analyzers/det.h"

/* Refused, unanswered SYN, SYN backlog drop, accept-queue overflow, unreachable, slow handshake. */
extern const struct det_ops det_estab_ops;

/*
 * The same detector in two halves, for --workers (worker.c): det_estab_flow_ops follows each
 * flow's handshake and keeps no server state: what a flow does to its server is an op handed
 * to the thread's sink (estab_set_thread_sink); det_estab_srv_ops is the server side (server
 * table, one-second buckets, pending attempts, outage episodes, and the verdicts that read
 * them) and applies those ops (estab_apply_op). det_estab_ops is both in one detector,
 * applying each op at once: the single engine.
 */
extern const struct det_ops det_estab_flow_ops;
extern const struct det_ops det_estab_srv_ops;

/* What a flow did to its server (det_estab.c says what each op carries). */
enum estab_op_kind {
    EOP_SYN = 1, /* a client SYN: a new attempt, a retry, the SYNs of an unanswered attempt */
    EOP_SYNACK,  /* the first SYN-ACK: answered (and judged, if only on a retry) */
    EOP_REFUSED, /* a RST answered the SYN */
    EOP_END,     /* an attempt never answered, or one answered on a retry, ended */
};

/* The header of an op; its body (det_estab.c) follows, size bytes in all. */
struct estab_op {
    uint32_t kind; /* enum estab_op_kind */
    uint32_t size; /* bytes of the op, this header included (at most ESTAB_OP_MAX) */
};

/* The largest op, in bytes. */
#define ESTAB_OP_MAX 1024

struct flow;

/*
 * Where this thread's det_estab_flow_ops instances send their ops (f: the flow, as the
 * worker knows it; op: size bytes, valid for the call). NULL: dropped.
 */
void estab_set_thread_sink(void (*fn)(void *ctx, const struct flow *f, const struct estab_op *op),
                           void *ctx);

/*
 * Apply op to the flow whose det_estab_srv_ops slice is slice (d: that det); flow_id: the
 * flow's id as findings give it.
 */
void estab_apply_op(struct det *d, void *slice, uint64_t flow_id, const struct estab_op *op);

#endif
