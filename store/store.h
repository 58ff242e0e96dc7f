/*
 * store.h - the SQLite sink: findings, flows, health rows, TLS handshakes, certificates and
 * the run itself go to a versioned database (WAL, batched transactions) written by its own
 * thread behind a bounded queue, so that a slow disk never stalls the analysis.
 */
#ifndef FM_STORE_H
#define FM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/finding.h"
#include "capture/err.h"

/* What the sink does when the queue is full. */
enum store_when_full {
    STORE_FULL_AUTO = 0, /* drop for live capture ("iface:" sources), else wait */
    STORE_FULL_WAIT,     /* wait for the writer (offline: nothing is lost) */
    STORE_FULL_DROP,     /* count the record as dropped (live: never stall capture) */
};

/* What a run was: goes into the runs table. Strings are copied by store_open. */
struct store_run_info {
    const char *sources;            /* files (comma separated) or "iface:eth1" */
    const char *filter;             /* BPF filter or NULL */
    const char *servers;            /* --server list or NULL */
    const char *options;            /* the command line, for the record */
    const char *inputs;             /* absolute capture file paths, one a line, or NULL */
    const char *evidence_dir;       /* --evidence-dir (absolute) or NULL */
    const char *sensor;             /* --sensor (default the host name) or NULL */
    uint64_t start_wall_ns;         /* wall clock when the run started */
    enum store_when_full when_full; /* queue-full policy; 0 = auto from sources */
    double retain_days;             /* --retain: delete other runs older than this; 0 = keep */
};

/* How the store is doing (for the TUI, metrics and the exit message). */
struct store_status {
    uint64_t queued;  /* records waiting in the queue now */
    uint64_t written; /* records committed to the database */
    uint64_t dropped; /* records not written: queue full, or lost to a write error */
    bool failed;      /* a write failed; nothing more is written */
    bool locked;      /* waiting for another program's lock (records stay queued) */
    char error[256];  /* why it failed, "" if it did not */
};

/* Batching and queue settings; store_open uses the defaults. For tests and tuning. */
struct store_tuning {
    size_t queue_slots;       /* records the queue holds (default 4096) */
    uint32_t batch_records;   /* commit after this many records (default 16384) */
    uint32_t batch_ms;        /* commit when the open batch is this old (default 500) */
    uint32_t writer_delay_us; /* sleep per record in the writer (tests only; 0) */
    uint32_t max_pages;       /* PRAGMA max_page_count when non-zero (tests of a full disk) */
    uint32_t close_busy_ms;   /* at close, wait this long for another program's lock (60000) */
};

struct store;

/*
 * Open (create or append to) the database at path and start a run row and the writer
 * thread. NULL on failure with one clear line in err: directory missing, file or directory
 * read-only, not a SQLite or not a flowmedic database, written by a newer flowmedic.
 * The queue size can also be set with FLOWMEDIC_STORE_QUEUE=N (records).
 */
struct store *store_open(const char *path, const struct store_run_info *ri, char *err,
                         size_t errlen) FM_WUR;

/* store_open with explicit tuning (NULL: defaults). */
struct store *store_open_tuned(const char *path, const struct store_run_info *ri,
                               const struct store_tuning *t, char *err, size_t errlen) FM_WUR;

/* The sink's configuration (sink_ops.open's cfg). */
struct store_sink_opts {
    const char *path;         /* the database file */
    struct store_run_info ri; /* the run row */
};

/* The sink: open is store_open, close is store_close, put is store_put. */
extern const struct sink_ops store_sink_ops;

/*
 * Copy r into the writer's queue and return (waiting for room offline, counting a drop live,
 * see enum store_when_full). The summary is kept aside, never queued or dropped: store_close
 * writes it into the run row.
 */
void store_put(struct store *s, const struct out_rec *r);

/*
 * Flush everything, finalize the run row (end time, packets, drops from on_summary, status),
 * join the writer thread and close. 0, or a negative enum err with the reason in err
 * (a write error, or "N records were not written (queue full)"). Frees s either way.
 */
int store_close(struct store *s, char *err, size_t errlen) FM_WUR;

/* This run's runs.id (names evidence files). */
int64_t store_run_id(const struct store *s);

/* Snapshot of the queue and counters; safe from any thread. */
void store_get_status(struct store *s, struct store_status *st);

/*
 * Ask the writer to commit what it has and wait (up to 5 s) until it did. Not
 * async-signal-safe: call it from the main loop after a signal set a flag.
 * 0, ERR_DB if the store has failed, ERR_AGAIN on timeout.
 */
int store_flush_now(struct store *s);



#endif
