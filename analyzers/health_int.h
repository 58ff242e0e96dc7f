/*
 * health_int.h - what the two files of the server health detector share (not a public
 * header: only det_health.c and health_srv.c include it). health_srv.c owns the server
 * table, the intervals, the quantiles and alert rules, counts what each flow's segments say
 * (attempts, handshakes, resets, data: per segment in one engine, hl_on_packet; from the
 * HOP_COUNT ops with --workers) and other detectors' failures; det_health.c times each
 * flow's requests and responses (a stream parser) and feeds it, and holds the per-flow half
 * of --workers (its segment counts, held back until they can be read).
 */
#ifndef FM_HEALTH_INT_H
#define FM_HEALTH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/alert.h"
#include "analyzers/det.h"
#include "analyzers/health.h"
#include "analyzers/sketch.h"

#define HL_MAX_SERVERS DET_MAX_SERVERS /* server endpoints tracked at once (idle ones give way) */
#define HL_HASH_SLOTS 2048 /* open-addressing slots for the server table (power of two) */
_Static_assert(HL_HASH_SLOTS >= 2 * HL_MAX_SERVERS, "the server hash stays at most half full");
#define HL_CLEAR_RATIO 0.8   /* default: clear at or below 80 % of the threshold */
#define HL_CLEAR_INTERVALS 3 /* default hold time, in intervals */
/* fewer data segments in an interval: no retransmission rate for the alert (1 of 2 is not 50 %) */
#define HL_RETRANS_MIN_SEGS 20
/* fewer attempts (or HTTP responses) in an interval: that part of the error rate is no data */
#define HL_ERR_MIN_SAMPLES 3

/* One server endpoint: the interval being counted and the alert states. */
struct hl_srv {
    struct endpoint ep;               /* the server endpoint */
    uint32_t gen;                     /* bumped when the slot is given to another endpoint */
    uint64_t last_ns;                 /* last time something was counted for it */
    bool active;                      /* something was counted this interval */
    struct health_row row;            /* counters of the current interval */
    uint64_t responses;               /* final HTTP responses this interval */
    int64_t outstanding;              /* HTTP requests awaiting a response right now */
    bool cert_bad;                    /* an expiring or expired certificate was reported */
    double cert_days;                 /* its days left (NAN if not stated) */
    struct sketch resp;               /* response times (s) of this interval */
    struct sketch hs;                 /* handshake RTTs (s) of this interval */
    struct alert_state al[AR__COUNT]; /* alert rule states */
};

#define HL_PIPELINE 4 /* requests awaiting a response followed per connection */

/* A block of hl.rq_pool in use: its place in the LRU list and its connection. */
struct hl_rq_link {
    uint32_t prev, next;          /* handles, 0 = none */
    struct hl_flow *st;           /* the connection's timing state (lazy block) */
    const struct flow_node *node; /* and its table entry (det_flow_of_node) */
};

struct hl_pend;

/* Global state of the detector. */
struct hl {
    bool remote;                      /* the per-flow half only (det_health_flow_ops): no
                                         server table, ops go to the thread's sink */
    bool batch;                       /* plain segments' counts are held back (the interval
                                         is whole seconds: it closes only at ticks) */
    bool fwd_started;                 /* fwd_ns is set */
    uint64_t fwd_ns;                  /* the newest time the server half's clock reached, as
                                         far as this half knows (ticks, its own segments) */
    uint64_t fwd_end;                 /* the first multiple of the interval after fwd_ns */
    uint32_t pend_gen;                /* hl.pend's generation, bumped when it is flushed */
    struct hl_pend *pend;             /* held-back counts, one entry per flow (pend_cap) */
    uint32_t npend, pend_cap;         /* entries used (in this generation), allocated */
    uint32_t pend_free;               /* index + 1 of a free entry (a list), 0 = none;
                                         batch .. pend_free: the per-flow half's (det_health.c,
                                         "What the server half reads, and when") */
    double slow_s;                    /* slow_response threshold (s) */
    bool full_uri;                    /* http records keep the query string */
    struct pool *rq_pool;             /* HTTP request slots, one block per HTTP flow followed */
    size_t rq_blocks;                 /* blocks in rq_pool */
    struct hl_rq_link *rq_lru;        /* per block handle (rq_blocks + 1): the blocks in use
                                         from the least recently active connection's on */
    uint32_t rq_old, rq_new;          /* the least and the most recently active, 0 = none */
    uint64_t rq_reclaimed;            /* connections whose block went to a newer one */
    uint64_t rq_overflows;            /* connections that pipelined deeper than followed */
    struct alert_cfg rule[AR__COUNT]; /* alert rule settings */
    uint64_t iv_ns;                   /* interval length */
    uint32_t idle_max;                /* idle intervals closed one by one while alerts are open */
    bool started;                     /* iv_start is set */
    uint64_t iv_start;                /* start of the interval being counted */
    size_t nsrv;                      /* servers in use */
    uint64_t srv_overflow;            /* lookups that found the table full of busy servers */
    uint64_t srv_evicted;             /* idle servers dropped to make room */
    struct hl_srv *srv;               /* HL_MAX_SERVERS entries */
    uint16_t slot[HL_HASH_SLOTS];     /* server index + 1, 0 = empty */
};

/* Per-flow state every flow has (zeroed when the flow starts): counting, not parsing. */
struct hl_slice {
    uint32_t lazy;        /* handle of the flow's struct hl_flow (det_lazy), 0 = none */
    uint16_t srv;         /* server index + 1; 0 = not tracked */
    bool srv_done;        /* srv was looked up */
    bool counted_attempt; /* the first SYN was counted */
    bool counted_est;     /* the handshake completion was counted */
    bool counted_reset;   /* a reset during the handshake was counted */
    bool rtt_known;       /* rec.hs_rtt_ns was counted in the server's quantiles */
    uint32_t srv_gen;     /* the server slot's generation when it was looked up */
};

static inline struct hl *hl_of(struct det *d)
{
    return d->priv;
}

/* Look up the flow's server slot, e (once, at its first packet or op). */
void hl_slice_lookup(struct hl *h, struct hl_slice *st, const struct endpoint *e);
/* The slot of server e (index + 1), taken if new; 0 when the table is full of busy servers. */
uint16_t hl_server(struct hl *h, const struct endpoint *e);
/* Server slot srv (index + 1) if it still has generation gen, else NULL. */
struct hl_srv *hl_srv_at(struct hl *h, uint16_t srv, uint32_t gen);
/* v as JSON-ish text: "%.6g", or "null" for NaN and infinities. */
void hl_num(char *buf, size_t len, double v);
/* Capture time moved to now: close the intervals it passed. */
void hl_advance(struct det *d, uint64_t now);
/* A response time sample for server s (NULL: not tracked). */
void hl_sample(struct hl_srv *s, double resp_s);
/* What a flow's timing does to server s (NULL: not tracked); not HOP_ADVANCE or HOP_COUNT. */
void hl_apply(struct hl_srv *s, const struct health_op *op);

/* Bytes of an entry of hl.pend (det_health.c). */
size_t hl_pend_size(void);
/* Bytes of one HTTP flow's request slots (det_health.c), the block size of hl.rq_pool. */
size_t hl_rq_block(void);
/* Look up the flow's server slot (once, at its first packet). */
void hl_slice_server(struct hl *h, struct hl_slice *st, const struct flow *f);

/* det_ops entries of the server side (det_health_ops in det_health.c lists them). */
int hl_init(struct det *d, const struct eng_config *cfg);
/* The halves' set-up: the server side only (no request pool), the per-flow side only. */
int hl_init_srv(struct det *d, const struct eng_config *cfg);
int hl_init_flow(struct det *d, const struct eng_config *cfg);
/* Count a segment for its server: attempts, handshakes, resets, zero windows, data. */
void hl_on_packet(struct det *d, const struct flow *f, void *fs, const struct pkt *p,
                  const struct tcp_seg *sg);
void hl_on_tick(struct det *d, uint64_t now_ns);
void hl_on_finding(struct det *d, const struct finding *f);
void hl_on_finish(struct det *d);
void hl_free(struct det *d);

#endif
