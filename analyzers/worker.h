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
#include "capture/pkt.h"

#define WK_MAX 8 /* workers at most */

struct workers;

/*
 * n workers (1..WK_MAX) over cfg (whose flow and stream caps are split among them); records
 * go to out->put(out_ctx) on one thread (the caller's for n = 1, the aggregator's otherwise)
 * until wk_finish returns. NULL on failure (memory, threads).
 */
struct workers *wk_new(const struct eng_config *cfg, unsigned n, const struct sink_ops *out,
                       void *out_ctx);

/* The calls of engine.h, from the one reading thread. */
void wk_packet(struct workers *w, const struct pkt *p);
void wk_malformed(struct workers *w, uint64_t ts_ns, uint64_t frame, const char *what);
void wk_tick(struct workers *w, uint64_t now_ns);

/* Hand what the reader holds to the workers now (live input went quiet). */
void wk_flush(struct workers *w);

/* End of input: every worker finishes, then the summary (the last record) is emitted. */
void wk_finish(struct workers *w, struct run_summary *sum);

/* Counters summed over the workers (as published by them, at most a batch old). */
void wk_get_stats(struct workers *w, struct eng_stats *st);

/* The engine when n = 1 (for the evidence ring and the live view's flow list), else NULL. */
struct engine *wk_engine(struct workers *w);

unsigned wk_count(const struct workers *w);

void wk_free(struct workers *w);

#endif
