/*
 * incident.h - the incident layer (incident.c): per server endpoint and cause, one incident
 * that opens when the evidence crosses a threshold, is updated while the problem lasts and
 * closes on positive evidence of recovery (or after a quiet period, or at the end of input).
 * It reads typed records only (TCP segment facts, finding kinds, flow records, health rows,
 * TLS records), never another module's text. The record it emits is struct incident_record
 * (finding.h); README.md, "Diagnosis", explains the causes and rules.
 */
#ifndef FM_INCIDENT_H
#define FM_INCIDENT_H

#include "analyzers/det.h"

/* The incident detector, last in det_table so it sees every other detector's output. */
extern const struct det_ops det_incident_ops;

/*
 * The same detector in two halves, for --workers (worker.c), cut as det_health is:
 * det_incident_flow_ops is what each segment does to its own flow (zero-window and reset-TTL
 * tracking, which segments matter) and keeps no server state: what the flow does to its
 * server is a struct ic_op handed to the thread's sink (incident_set_thread_sink), a typed
 * event for the rare segments (the flow's first, SYN, SYN-ACK, stale answer, reset, stall,
 * capture loss, lost segment, loss retransmission) and the plain ones (data, handshake ACK,
 * activity) as counts batched per flow, given with the flow's next op, at its end and at
 * every tick. det_incident_srv_ops is the rest (servers, buckets, attempts, incidents, scans,
 * judgments) and applies those ops (incident_apply_op). det_incident_ops is both in one
 * detector, applying each op at once: the single engine. incident.c says why the batching
 * changes nothing any rule reads.
 */
extern const struct det_ops det_incident_flow_ops;
extern const struct det_ops det_incident_srv_ops;

/* What one op says happened (bits of ic_op.what, applied in this order). */
enum ic_op_what {
    ICW_START = 1u << 0,     /* the flow's first segment: scan check, server slot */
    ICW_SYN = 1u << 1,       /* a client SYN */
    ICW_STALE = 1u << 2,     /* the server answered an attempt with a stale ACK */
    ICW_SYNACK = 1u << 3,    /* the flow's first SYN-ACK */
    ICW_EST = 1u << 4,       /* the handshake ACK */
    ICW_REFUSE = 1u << 5,    /* a reset answering the SYN */
    ICW_SRV_RESET = 1u << 6, /* a server abort (not a suspect TTL) */
    ICW_STALL = 1u << 7,     /* a zero window held for the stall time (stall_dir) */
    ICW_CAPLOSS = 1u << 8,   /* an ACK covering bytes the capture never saw */
    ICW_DATA = 1u << 9,      /* a data segment */
    ICW_LOST = 1u << 10,     /* ... after a segment never captured */
    ICW_RETX = 1u << 11,     /* ... a loss retransmission */
    ICW_SEG = 1u << 12,      /* a segment (ts is its time): the server's activity */
    ICW_END = 1u << 13,      /* the flow ends: its suspect reset (rst_*) */
    ICW_PEND = 1u << 14,     /* the flow's earlier plain segments (n_data, n_est, p_last) */
};

struct ic_op {
    uint32_t what;            /* enum ic_op_what bits */
    uint8_t dir;              /* the segment's direction */
    uint8_t flags;            /* its TCP flags */
    uint8_t stall_dir;        /* ICW_STALL: the side that stalled */
    int8_t rst_dir;           /* ICW_END: the suspect reset's direction (-1: none) */
    uint32_t seq, ack;        /* its sequence and acknowledgment numbers */
    uint32_t ev;              /* its TCP event bits (tcp_seg.ev) */
    uint32_t lost;            /* the flow's lost segments in dir so far (ICW_RETX) */
    uint64_t ts;              /* its time */
    uint64_t frame;           /* its frame */
    uint64_t zw_ns, zw_frame; /* ICW_STALL: since when, its first frame */
    uint64_t rst_ns;          /* ICW_END: the suspect reset's time */
    uint64_t rst_frame;       /* ... its frame */
    uint32_t forged;          /* ... no later packet of its sender had its TTL */
    uint32_t n_data, n_est;   /* counts of the flow's earlier plain segments (second of
                                 p_last): data segments, handshake ACKs */
    uint64_t p_last;          /* the newest of them (ICW_PEND) */
    struct ip_addr client;    /* the flow's client */
    struct endpoint server;   /* its server */
};

/* Where this thread's det_incident_flow_ops instances send their ops. NULL: dropped. */
void incident_set_thread_sink(void (*fn)(void *ctx, const struct flow *f, const struct ic_op *op),
                              void *ctx);

/* Apply op to the flow whose det_incident_srv_ops slice is slice (flow_id: its id). */
void incident_apply_op(struct det *d, void *slice, uint64_t flow_id, const struct ic_op *op);

/*
 * The server half's clock: every segment up to ts was analysed (the single engine's
 * incident layer reads the newest segment time between ticks; worker.c gives it).
 */
void incident_clock(struct det *d, uint64_t ts);

/* Layer of a cause (the runbook's order: network, transport, tls, application, capture). */
enum inc_layer inc_cause_layer(enum inc_cause c);

#endif
