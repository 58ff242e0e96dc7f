/*
 * metrics.h - Prometheus metrics of flowmedic's own counters and the per-server health, served
 * on /metrics (--metrics-listen, metrics_http.h) and/or written atomically to a file for
 * node_exporter's textfile collector (--metrics-file, metrics_file.h). The output thread
 * aggregates (metrics_agg.h); the main thread renders (metrics_render.h) about once a second.
 */
#ifndef FM_METRICS_H
#define FM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/finding.h"
#include "cli/metrics_agg.h"
#include "cli/webconfig.h"

struct metrics;

/* What to start. */
struct metrics_opts {
    const char *listen;          /* --metrics-listen ADDR:PORT, or NULL */
    const struct webconfig *web; /* --web-config, loaded (TLS, basic auth), or NULL */
    const char *file;            /* --metrics-file PATH, or NULL */
    bool file_follow;            /* --metrics-file-follow: PATH may be a symbolic link */
};

/* Start metrics. NULL on failure, with a one-line reason in err. */
struct metrics *metrics_new(const struct metrics_opts *o, char *err, size_t errlen);

/* The sink that feeds it (health rows, findings, the summary); cfg: struct metrics_opts.
   Its put runs on the output thread; every function here is safe from any thread. */
extern const struct sink_ops metrics_sink_ops;

/* New self counters (about once per second): re-renders and rewrites the file. */
void metrics_update_self(struct metrics *m, const struct metrics_self *s);

/* Write the file one last time, stop the listener, free everything. NULL is fine. */
void metrics_free(struct metrics *m);

/* Render the current exposition text into buf (for tests); returns its length, or the length
   it would need when it does not fit (snprintf style). */
size_t metrics_render(struct metrics *m, char *buf, size_t len);

#endif
