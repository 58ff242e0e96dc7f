/*
 * metrics.h - Prometheus text exposition (format 0.0.4) of flowmedic's own counters and the
 * per-server health: served on /metrics by a tiny HTTP listener on its own thread
 * (--metrics-listen) and/or written atomically to a file for node_exporter's textfile
 * collector (--metrics-file). The analysis thread renders a snapshot; a mutex guards it.
 */
#ifndef FM_METRICS_H
#define FM_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "analyzers/finding.h"

struct metrics;

/*
 * Start metrics: listen is "ADDR:PORT" ("127.0.0.1:9464", "[::1]:9464", ":9464" or
 * "*:9464" for every address) or NULL; file is a path or NULL. NULL on failure, with the
 * reason in err.
 */
struct metrics *metrics_new(const char *listen, const char *file, char *err, size_t errlen);

/* The sink that feeds it (on_health, on_finding, on_summary). */
struct sink metrics_sink(struct metrics *m);

/* flowmedic's own counters, given by the main loop. */
struct metrics_self {
    uint64_t packets;           /* frames read */
    uint64_t bytes;             /* frame bytes on the wire */
    uint64_t kernel_drops;      /* pcap_stats drops */
    uint64_t if_drops;          /* interface drops */
    uint64_t flows_active;      /* flows in the table now */
    uint64_t flows_evicted;     /* flows evicted because the table was full */
    uint64_t store_queued;      /* items waiting in the SQLite writer's queue */
    uint64_t store_dropped;     /* items the SQLite queue dropped */
    uint64_t malformed;         /* malformed or truncated frames */
    uint64_t mirror_duplicates; /* SPAN duplicates dropped */
};

/* New self counters (about once per second): re-renders and rewrites the file. */
void metrics_update_self(struct metrics *m, const struct metrics_self *s);

/* Write the file one last time, stop the listener, free everything. NULL is fine. */
void metrics_free(struct metrics *m);

/* Render the current exposition text into buf (for tests); returns its length, or the length
   it would need when it does not fit (snprintf style). */
size_t metrics_render(struct metrics *m, char *buf, size_t len);

#endif
