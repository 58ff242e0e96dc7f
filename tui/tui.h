/*
 * tui.h - the ncurses live view (--tui): header, server health panel, flow table, findings
 * feed and a per-flow detail timeline, redrawn at a bounded rate from a snapshot of the model.
 */
#ifndef FM_TUI_H
#define FM_TUI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/finding.h"
#include "capture/err.h"

/* How the view is set up. Zero fields take the defaults. */
struct tui_opts {
    bool color;          /* false if NO_COLOR is set or --no-color */
    double error_rate;   /* server error-rate alert threshold (0..1); 0 = 0.05 */
    double retrans_rate; /* server retransmission-rate threshold (0..1); 0 = 0.05 */
    double resp_p99_s;   /* response-time p99 threshold in seconds; 0 = 5 */
};

/* What main knows about the run; one per frame. Strings are copied. */
struct tui_status {
    const char *source;         /* "eth1" or "day1.pcap" */
    const char *filter;         /* BPF filter or NULL */
    bool live;                  /* live capture (vs file replay) */
    bool replay_done;           /* file fully read: "replay finished - q to quit" is shown */
    uint64_t now_ns;            /* capture time now */
    uint64_t elapsed_ns;        /* capture time since the first packet */
    uint64_t packets;           /* frames so far */
    uint64_t bytes;             /* frame bytes so far */
    uint64_t kernel_drops;      /* pcap_stats drops (live) */
    uint64_t if_drops;          /* interface drops (live) */
    uint64_t flows_active;      /* flows in the flow table */
    uint64_t flows_evicted;     /* flows evicted because the table was full */
    uint64_t malformed;         /* malformed or truncated frames */
    uint64_t mirror_duplicates; /* SPAN duplicates dropped */
    const char *store_state;    /* "db: health.db, 12 queued, 0 dropped" or "no database" */
};

struct tui;

/*
 * Start the view on the terminal. Refuses (NULL, reason in err) when stdout is not a
 * terminal or TERM is unset or "dumb". Keys are read from stdin, or /dev/tty when stdin
 * is not a terminal (e.g. -r -).
 */
struct tui *tui_new(const struct tui_opts *o, char *err, size_t errlen) FM_WUR;

/*
 * The sink (cfg: struct tui_opts; its state is the struct tui) that copies findings, ended
 * flows, health rows, TLS and cert records into the live model on the output thread;
 * tui_frame, on the main thread, snapshots that model under the same lock.
 */
extern const struct sink_ops tui_sink_ops;

/*
 * Call often. Reads keys without blocking and redraws at most 4 times per second of wall_ns
 * (plus once after a key). open_flows (n entries) are the flows open now. Returns 1 once the
 * user pressed q (and on every later call), else 0.
 */
int tui_frame(struct tui *t, const struct tui_status *st, const struct flow_record *open_flows,
              size_t n, uint64_t wall_ns);

/* Restore the terminal (endwin) and free the view. NULL is allowed. */
void tui_free(struct tui *t);

#endif
