/*
 * engine.h - the analyzers' one public entry: packets in, findings/flows/health out to a sink.
 * Everything runs on the caller's thread; the engine never reads the wall clock.
 */
#ifndef FM_ENGINE_H
#define FM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/finding.h"
#include "capture/err.h"
#include "capture/pkt.h"

#define ENG_MAX_SERVERS 64
#define ENG_MAX_CA_FILES 8 /* --ca-file files kept */

/* Analysis options (cli fills these from the command line and config file). */
struct eng_config {
    struct endpoint servers[ENG_MAX_SERVERS]; /* --server endpoints; port 0 = any port */
    size_t nservers;                /* entries used in servers[] */
    size_t max_flows;               /* flow table cap (--max-flows), default 262144 */
    uint64_t idle_timeout_ns;       /* evict flows idle this long (default 300 s) */
    uint64_t closed_linger_ns;      /* keep closed flows this long for late packets (5 s) */
    uint64_t dup_window_ns;         /* SPAN duplicate window (default 1 ms) */
    uint32_t notable_events;        /* per-flow TCP events before a finding is written (default 1) */
    size_t stream_cap;              /* bytes kept per direction for stream parsers (16 KiB) */
    size_t stream_buffers;          /* stream buffers in the pool (default 4096) */
    uint64_t health_interval_ns;    /* server health interval (default 10 s) */
    double slow_response_s;         /* slow response threshold (default 5 s) */
    double alert_error_rate;        /* error-rate alert threshold (default 0.05) */
    double alert_retrans_rate;      /* retransmission-rate alert threshold (default 0.05) */
    double alert_resp_p99_s;        /* response p99 alert threshold (default 5 s) */
    uint32_t cert_expiring_days;    /* cert_expiring window (default 30) */
    uint64_t tls_stall_ns;          /* TLS handshake stalled after this (default 10 s) */
    uint64_t slow_handshake_ns;     /* slow_handshake threshold (default 1 s) */
    const char *tls_keylog;         /* SSLKEYLOGFILE path or NULL */
    const char *ca_files[ENG_MAX_CA_FILES]; /* --ca-file PEM files (certificates or bundles):
                                       the trust anchors for chain checks; none: the system
                                       trust store */
    size_t nca_files;                       /* entries used in ca_files[] */
    bool http_full_uri;             /* http records keep the query string (--http-full-uri) */
    /* Alert hysteresis (server health); 0 means the default in parentheses. */
    uint32_t alert_open_intervals;  /* intervals over a threshold before an alert opens (1) */
    uint32_t alert_clear_intervals; /* intervals clear before an open alert closes (3) */
    double alert_clear_ratio;       /* "clear" means value <= threshold * this ratio (0.8) */
    /* TCP event findings of a flow still open are also written every this long of capture
       time (default 60 s), so long connections are reported live; 0 = only at flow end. */
    uint64_t tcp_report_ns;
    /* Incidents (analyzers/incident.c); 0 means the default in parentheses. */
    uint64_t inc_window_ns;         /* evidence window (10 s) */
    uint64_t inc_clear_ns;          /* no new evidence this long, with traffic: recovered (5 s) */
    uint64_t inc_quiet_ns;          /* no evidence and no traffic this long: closed (60 s) */
    uint64_t inc_update_ns;         /* at most one update per incident this often (10 s) */
    uint32_t inc_min_failures;      /* failed attempts to open a connection cause (2) */
    uint32_t inc_min_attempts;      /* attempts in the window for a SYN drop rate (10) */
    uint32_t inc_min_data_segs;     /* data segments in the window for a loss rate (20) */
    uint32_t inc_min_requests;      /* HTTP responses in an interval for a 5xx rate (5) */
    uint32_t inc_min_slow;          /* slow responses in an interval to open (2) */
    uint32_t inc_min_resets;        /* server aborts in the window to open (1) */
    uint64_t inc_stall_ns;          /* a zero window held this long is a stall (1 s) */
    uint32_t inc_scan_targets;      /* distinct ports/hosts one client probes: a scan (20) */
};

/* Live counters of the engine (for the TUI header, metrics and the summary). */
struct eng_stats {
    uint64_t packets;               /* TCP segments given to eng_packet */
    uint64_t flows_created;         /* flows created */
    uint64_t flows_active;          /* flows in the table now */
    uint64_t evicted;               /* flows evicted because the table was full */
    uint64_t idle_expired;          /* flows expired by the idle timeout */
    uint64_t mirror_duplicates;     /* SPAN duplicates dropped before analysis */
    uint64_t mirror_dup_overflow;   /* frames the duplicate filter forgot inside the window */
    uint64_t findings[FK__COUNT];   /* findings emitted per kind */
    uint64_t stream_buf_exhausted;  /* flows that found no free stream buffer */
    /* Per-flow memory: every flow costs flow_fixed_bytes (its table entry: a SYN-only flow's
       whole state, with the detectors' small forms); the full flow state (struct flow and
       detector slices) and detectors' lazy state come from pools on top of that (flow.h). */
    uint64_t flow_fixed_bytes;      /* bytes every flow costs, a SYN-only one included */
    uint64_t flow_struct_bytes;     /* of which the entry itself (the rest: small forms) */
    uint64_t lazy_bytes;            /* bytes of pool blocks handed out now (full flow states,
                                       TCP loss bookkeeping, detectors' lazy state) */
    uint64_t state_peak_bytes;      /* the most per-flow bytes in use at once (fixed + lazy) */
    uint64_t state_peak_flows;      /* flows in the table at that moment */
    uint64_t lazy_exhausted;        /* blocks asked for when a pool was empty (a flow that
                                       finds no full-state block is ended as evicted) */
    uint64_t http_reclaimed;        /* HTTP connections whose request slots went to a newer
                                       one (the pool was empty), timed by turns from then on */
    uint64_t last_ts_ns;            /* time of the newest packet */
};

struct engine;

/* Fill cfg with the defaults above. */
void eng_config_default(struct eng_config *cfg);

/*
 * Create an engine whose records (findings, flows, health rows, TLS, certificates, the
 * summary) all go to out->put(out_ctx, ...) on the caller's thread, in the order they are made
 * (cli passes its output queue; tests pass a sink that checks). out may be NULL (nothing is
 * written). NULL on failure (out of memory, bad config).
 */
struct engine *eng_new(const struct eng_config *cfg, const struct sink_ops *out, void *out_ctx);

/* Analyse one decoded TCP segment. Packets must come in capture order. */
void eng_packet(struct engine *e, const struct pkt *p);

/*
 * Record a frame that could not be decoded (malformed or truncated) as a counted finding.
 * what is a short reason ("IPv4 header length 3 < 5").
 */
void eng_malformed(struct engine *e, uint64_t ts_ns, uint64_t frame, const char *what);

/*
 * Flow id of the last segment given to eng_packet (0 when it belonged to no flow): lets the
 * caller keep the frame as evidence of that flow (capture/evidence.h).
 */
uint64_t eng_last_flow_id(const struct engine *e);

/* Let time advance without a packet (live idle periods): expires flows, closes intervals. */
void eng_tick(struct engine *e, uint64_t now_ns);

/*
 * End of input: report every open flow, close the last health interval, complete sum with
 * the engine's counters and emit it (OUT_SUMMARY, the last record).
 */
void eng_finish(struct engine *e, struct run_summary *sum);

void eng_get_stats(const struct engine *e, struct eng_stats *st);

/* Copy up to max records of currently open flows, worst first (for the live view). */
size_t eng_snapshot_flows(const struct engine *e, struct flow_record *out, size_t max);

/* The live view's order: a is listed before b (more retransmissions and resets, then newer). */
bool eng_flow_worse(const struct flow_record *a, const struct flow_record *b);

void eng_free(struct engine *e);

/*
 * For analyzers/worker.c, which splits the flows among worker threads (each an engine of its
 * own over a share of the flows) and runs the per-server detectors in one aggregator engine,
 * in capture order. Not for other callers.
 */
struct det;
struct det_ops;
struct flow;
struct tcp_seg;

/* eng_new with a detector table of the caller's (NULL-terminated) instead of det_table. */
struct engine *eng_new_dets(const struct eng_config *cfg, const struct det_ops *const *table,
                            const struct sink_ops *out, void *out_ctx);

/*
 * eng_packet with the SPAN duplicate check made by the caller (dup 1: a duplicate, 0: not;
 * -1: check here), so that one filter over all packets decides it for every worker.
 */
void eng_packet_dup(struct engine *e, const struct pkt *p, int dup);

/* Number flows by the frame of their first packet (unique across workers), not 1, 2, 3. */
void eng_flow_ids_from_frames(struct engine *e);

/* Bytes of per-flow detector state (the ext area) a flow of this engine needs. */
size_t eng_ext_size(const struct engine *e);

/*
 * The detectors' small forms of a compact flow (det_ops.small), as the engine's flow table keeps
 * them, for a caller that keeps flows of its own (the workers' aggregator): the bytes they take,
 * f->ext packed into small, and f->ext (zeroed by the caller) filled back from small (after
 * f's record and TCP state, which unpack_more reads).
 */
size_t eng_small_bytes(const struct engine *e);
void eng_small_pack(const struct engine *e, const struct flow *f, uint8_t *small);
void eng_small_unpack(const struct engine *e, struct flow *f, const uint8_t *small);

/* The instance of detector ops in this engine's table, or NULL (for calls made by hand). */
struct det *eng_det(struct engine *e, const struct det_ops *ops);

/*
 * Run detectors [lo, hi) of the table on flow f (owned by the caller, zeroed when it starts,
 * ext of eng_ext_size bytes): a segment (lo == 0 also feeds the scan tracker, as eng_packet
 * does before the detectors), the flow's end, a tick of capture time, the end of input. f is
 * not const: the engine's per-flow layers below the detectors keep their state in it.
 */
void eng_run_packet(struct engine *e, struct flow *f, const struct pkt *p,
                    const struct tcp_seg *s, size_t lo, size_t hi);

/*
 * What eng_run_packet with lo == 0 gives the scan tracker, alone: a first SYN of client to
 * server at ts_ns (answered false), or the first SYN-ACK of client's attempt (answered).
 */
void eng_run_scan(struct engine *e, const struct endpoint *client, const struct endpoint *server,
                  uint64_t ts_ns, bool answered);
void eng_run_flow_end(struct engine *e, struct flow *f, size_t lo, size_t hi);
void eng_run_tick(struct engine *e, uint64_t now_ns, size_t lo, size_t hi);
void eng_run_finish(struct engine *e, size_t lo, size_t hi);

/*
 * A record made by another engine (a worker's finding, TLS or certificate record): counted,
 * written, and shown to this engine's detectors as if one of them had emitted it.
 */
void eng_put(struct engine *e, const struct out_rec *r);

/* Add a worker's packet and flow counters to this engine's (for the summary). */
void eng_add_stats(struct engine *e, const struct eng_stats *w);

/* Complete sum with the engine's counters and emit it (the tail of eng_finish). */
void eng_summary(struct engine *e, struct run_summary *sum);

#endif
