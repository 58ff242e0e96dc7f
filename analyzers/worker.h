/*
 * worker.h - the analysis on N threads: a reader hands each packet to the worker that owns its
 * flow (symmetric 5-tuple hash), each worker runs its own engine over its share of the flows
 * (TCP analysis, the per-flow detectors, the stream layer and server health's per-flow half:
 * response timing), and one aggregator runs the per-server detectors (establishment, server
 * health's server half, incidents) on the workers' records merged back in capture order.
 *
 * The cut between worker and aggregator: a detector whose state spans flows runs in the
 * aggregator on what its proxy in the worker sends (flow record, segment without payload,
 * flow end, tick); a detector made of two halves (det_health: det_health_flow_ops in the
 * workers, det_health_srv_ops in the aggregator) sends instead what its per-flow part does to
 * the server (struct health_op, health.h), applied by the server half in the single engine's
 * order. det_estab and the incident layer are not cut yet (README "Workers" says how they
 * would be). The outputs are the same for every N (worker.c says how and where they may not
 * be). With N = 1 it is the plain engine on the caller's thread (det_health_ops, both halves
 * in one, applying each op at once).
 */
#ifndef FM_WORKER_H
#define FM_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/engine.h"
#include "analyzers/finding.h"
#include "capture/decode.h"
#include "capture/evidence.h"
#include "capture/pkt.h"
#include "capture/source.h"

#define WK_MAX 8 /* workers at most */

struct workers;

/*
 * n workers (1..WK_MAX) over cfg (whose flow and stream caps are split among them); records
 * go to out->put(out_ctx) on one thread (the caller's for n = 1, the aggregator's otherwise)
 * until wk_finish returns. NULL on failure (memory, threads).
 */
struct workers *wk_new(const struct eng_config *cfg, unsigned n, const struct sink_ops *out,
                       void *out_ctx);

/*
 * More than wk_new: the evidence ring, and live capture by the workers themselves.
 *
 * Live on a capture group (src, with cap_handles(src) == n): worker i reads handle i itself
 * (decode, duplicate filter, analysis), with no reader thread and no merge before the
 * workers. Time: each worker's clock is the kernel time stamps of its own packets; a worker
 * with nothing to read takes wall_ns() - lateness_ns as its time (the kernel stamps packets
 * with that same clock), so that an idle worker neither holds the aggregator back nor stops
 * its flows expiring. lateness_ns must cover the time from a packet's stamp to its read (the
 * handle's read timeout and a margin): a packet read later than that after its worker moved
 * its clock on is analysed with its own time but handed to the aggregator at the worker's
 * clock (README "Workers").
 */
struct wk_opts {
    struct cap_source *src;    /* live: the capture group (cap_open_live, fanout = n); or NULL */
    uint64_t lateness_ns;      /* live: see above */
    uint64_t (*wall_ns)(void); /* live: the clock the kernel stamps packets with (REALTIME) */
    struct evidence *evidence; /* --evidence-dir: the workers feed it (frames from wk_frame) */
    bool flow_view;            /* wk_snapshot_flows will be asked (the live view): the
                                  aggregator keeps every open flow's record (320 bytes a
                                  flow); without it the snapshot is empty */
};

/* What the live workers read, summed over them (published at most WK_PUB_FRAMES old). */
struct wk_live_stats {
    uint64_t frames;         /* frames read */
    uint64_t bytes;          /* their bytes on the wire */
    uint64_t first_ts;       /* earliest capture time (0: none yet) */
    uint64_t last_ts;        /* latest capture time */
    struct decode_stats dst; /* decode counters */
    uint64_t late;           /* packets older than their worker's clock (see wk_opts) */
    bool drain_cut;          /* after the stop, a worker left frames the kernel had queued
                                (cap_read_queued reads them for at most CAP_DRAIN_NS) */
};

/* wk_new with x (for n = 1 x->src must be NULL, and the caller feeds the evidence ring). */
struct workers *wk_new_opts(const struct eng_config *cfg, unsigned n, const struct sink_ops *out,
                            void *out_ctx, const struct wk_opts *x);

/* Live workers: what they read so far. */
void wk_live_stats(struct workers *w, struct wk_live_stats *st);

/*
 * Live workers: stop reading and wait until every worker has handed its last records on
 * (before the final wk_live_stats and cap_stats; wk_finish does it if not done).
 */
void wk_live_stop(struct workers *w);

/* Live workers: a handle failed (its message; the run should end), else NULL. */
const char *wk_live_error(struct workers *w);

/* The calls of engine.h, from the one reading thread (not with live capture). */
void wk_packet(struct workers *w, const struct pkt *p);

/* wk_packet with the frame p was decoded from (kept for the evidence ring, if any). */
void wk_frame(struct workers *w, const struct pkt *p, const struct cap_frame *f);
void wk_malformed(struct workers *w, uint64_t ts_ns, uint64_t frame, const char *what);
void wk_tick(struct workers *w, uint64_t now_ns);

/* Hand what the reader holds to the workers now (live input went quiet). */
void wk_flush(struct workers *w);

/*
 * End of input: every worker finishes, then the summary (the last record) is emitted. Live
 * workers stop reading first (what their handles still hold is left).
 */
void wk_finish(struct workers *w, struct run_summary *sum);

/* Counters summed over the workers (as published by them, at most a batch old). */
void wk_get_stats(struct workers *w, struct eng_stats *st);

/*
 * The live view's list of open flows, worst first (eng_snapshot_flows; with workers the
 * aggregator's merged view, taken at the previous call: each call asks for the next).
 */
size_t wk_snapshot_flows(struct workers *w, struct flow_record *out, size_t max);

/* The engine when n = 1 (for the evidence ring), else NULL. */
struct engine *wk_engine(struct workers *w);

unsigned wk_count(const struct workers *w);

/* What the aggregator took (after wk_finish; zeros for one engine): for -v. */
struct wk_agg_counts {
    uint64_t records;  /* every record */
    uint64_t segments; /* segment records (WR_PKT: only where it reads every segment, --tui) */
    uint64_t ops;      /* the per-flow halves' ops (health, establishment, incidents) */
};
void wk_agg_counts(const struct workers *w, struct wk_agg_counts *c);

void wk_free(struct workers *w);

#endif
