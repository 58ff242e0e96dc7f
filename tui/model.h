/*
 * model.h - what the live view draws from: fixed rings of findings, ended flows, TLS and
 * certificate records, per-server health with history, header rates, and the queries
 * (sorted/filtered flow rows, findings feed, server rows, per-flow timeline). Pure C, no
 * ncurses; the model is one flat struct without pointers, so a snapshot is a memcpy.
 */
#ifndef FM_TUI_MODEL_H
#define FM_TUI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../analyzers/finding.h"
#include "tui.h"

#define TM_FINDINGS 512  /* findings kept (newest) */
#define TM_FLOWS 1024    /* ended flows kept (newest) */
#define TM_OPEN 256      /* open flows kept from the latest snapshot */
#define TM_TLS 256       /* TLS handshake records kept */
#define TM_CERTS 128     /* certificate records kept */
#define TM_SERVERS 64    /* server endpoints tracked; the least recently active is replaced */
#define TM_HIST 32       /* health intervals kept per server for the sparkline */
#define TM_PROBLEMS 8192 /* flow_id -> last problem table (direct-mapped, power of two) */
#define TM_BAD 256       /* ended flows with a problem kept apart, so the worst survive */
#define TM_ROWS (TM_FLOWS + TM_BAD + TM_OPEN) /* flow rows a query can collect */
#define TM_EVENTS 128                         /* timeline events per flow */
#define TM_EVENT_TEXT 480                     /* bytes of one timeline line (a whole detail) */
#define TM_TEXT 320                           /* bytes of a copied header string */
#define TM_RATE_WINDOW_NS 1000000000ull       /* rates are computed over at least this long */

/* Flow table sort keys, cycled with 's'. Names: tm_sort_name. */
enum tm_sort {
    TM_SORT_WORST = 0, /* worst severity, bad close, most TCP events first */
    TM_SORT_BYTES,     /* most bytes (both ways) first */
    TM_SORT_AGE,       /* oldest (longest) first */
    TM_SORT_RETRANS,   /* most retransmissions first */
    TM_SORT__COUNT
};
const char *tm_sort_name(enum tm_sort s);

/* Health colour of a server. */
enum tm_level {
    TM_LEVEL_NONE = 0, /* nothing known yet */
    TM_LEVEL_OK,       /* green */
    TM_LEVEL_WARN,     /* yellow: over half a threshold, or warnings */
    TM_LEVEL_BAD,      /* red: over a threshold, an open alert, or errors */
};

/* Alert thresholds (the same defaults as the engine's alerts). */
struct tm_thresholds {
    double error_rate;   /* failed / attempts, 0..1 */
    double retrans_rate; /* retransmitted / data segments, 0..1 */
    double resp_p99_s;   /* response time p99, seconds */
};

/* A packet and bit rate from successive (time, packets, bytes) samples. */
struct tm_rate {
    bool started;      /* a base sample is set */
    bool valid;        /* pps and mbps hold a measurement */
    uint64_t t0_ns;    /* base sample time */
    uint64_t packets0; /* base sample packets */
    uint64_t bytes0;   /* base sample bytes */
    double pps;        /* packets per second over the last window */
    double mbps;       /* megabits per second over the last window */
};

/* One server endpoint: its newest health interval, totals and rate history. */
struct tm_server {
    struct endpoint ep;       /* the server endpoint */
    bool has_health;          /* last holds a health row */
    struct health_row last;   /* newest closed interval */
    uint64_t intervals;       /* health rows seen */
    uint64_t attempts;        /* attempts over all intervals */
    uint64_t established;     /* established over all intervals */
    uint64_t resets;          /* resets over all intervals */
    uint64_t tls_failed;      /* TLS failures over all intervals */
    uint64_t nfind[3];        /* findings by severity (SEV_INFO..SEV_ERROR) */
    uint64_t last_active_ns;  /* newest health row or finding time (for replacement) */
    uint64_t bad_since_ns;    /* start of the current run of warn/bad intervals, 0 if ok */
    uint32_t hist_n;          /* intervals in the history (<= TM_HIST) */
    uint32_t hist_pos;        /* next history slot */
    float hist_err[TM_HIST];  /* error rate per interval, ring */
    float hist_retr[TM_HIST]; /* retransmission rate per interval, ring */
};

/* Last problem of a flow, by flow_id (direct-mapped; a newer flow may replace an older one). */
struct tm_problem {
    uint64_t flow_id;    /* owner; 0 = empty slot */
    int kind;            /* enum fkind of the newest finding */
    enum severity worst; /* worst severity among its findings */
    uint32_t count;      /* findings for the flow */
};

/* The model. Flat and pointer-free: tm_copy is a memcpy. */
struct tm_model {
    struct tm_thresholds th;                 /* alert thresholds */
    struct finding findings[TM_FINDINGS];    /* ring of findings */
    uint64_t nfindings;                      /* findings ever added */
    uint64_t findings_by_sev[3];             /* findings ever added per severity */
    struct flow_record flows[TM_FLOWS];      /* ring of ended flows */
    uint64_t nflows;                         /* ended flows ever added */
    struct flow_record bad[TM_BAD];          /* ring of ended flows with findings or a bad close */
    uint64_t nbad;                           /* bad flows ever added */
    struct flow_record open[TM_OPEN];        /* open flows from the latest snapshot */
    size_t nopen;                            /* entries in open[] */
    struct tls_record tls[TM_TLS];           /* ring of TLS records */
    uint64_t ntls;                           /* TLS records ever added */
    struct cert_record certs[TM_CERTS];      /* ring of certificate records */
    uint64_t ncerts;                         /* certificate records ever added */
    struct tm_server servers[TM_SERVERS];    /* server endpoints, in order of appearance */
    size_t nservers;                         /* entries in servers[] */
    uint64_t servers_replaced;               /* servers replaced because the table was full */
    struct tm_problem problems[TM_PROBLEMS]; /* last problem per flow */
    struct tui_status st;                    /* newest status; string members point to NULL */
    char source[TM_TEXT];                    /* copy of st.source */
    char filter[TM_TEXT];                    /* copy of st.filter ("" if none) */
    char store_state[TM_TEXT];               /* copy of st.store_state */
    bool has_status;                         /* st is set */
    struct tm_rate rate;                     /* capture rate */
};

/* One flow table row. rec points into the model the query ran on. */
struct tm_flow_row {
    const struct flow_record *rec; /* the flow */
    bool open;                     /* still open (from the open snapshot) */
    int last_kind;                 /* enum fkind of its newest finding, -1 if none */
    enum severity worst;           /* worst severity of its findings (valid if last_kind >= 0) */
    uint64_t age_ns;               /* open: now - first packet; ended: last - first packet */
    uint64_t retrans;              /* retransmissions (all kinds) both ways */
    uint64_t score;                /* badness for TM_SORT_WORST (higher is worse) */
};

/* One timeline line of the detail view. */
struct tm_event {
    uint64_t ts_ns;           /* when */
    int sev;                  /* enum severity, or -1 for a plain fact */
    char text[TM_EVENT_TEXT]; /* what, readable */
};

/* Allocate an empty model with thresholds (NULL or zero fields: defaults). NULL if no memory. */
struct tm_model *tm_new(const struct tm_thresholds *th);
void tm_free(struct tm_model *m);
/* dst becomes a snapshot of src. */
void tm_copy(struct tm_model *dst, const struct tm_model *src);

void tm_add_finding(struct tm_model *m, const struct finding *f);
void tm_add_flow(struct tm_model *m, const struct flow_record *r);
void tm_add_health(struct tm_model *m, const struct health_row *h);
void tm_add_tls(struct tm_model *m, const struct tls_record *t);
void tm_add_cert(struct tm_model *m, const struct cert_record *c);
/* Replace the open flows with flows[0..n) (at most TM_OPEN kept). */
void tm_set_open(struct tm_model *m, const struct flow_record *flows, size_t n);
/*
 * Take a status: copies its strings and updates the capture rate, on wall time for live
 * captures and on capture time for replays (the rate the traffic was recorded at).
 */
void tm_set_status(struct tm_model *m, const struct tui_status *st, uint64_t wall_ns);

/*
 * The header rate: the newest window, or the average over the whole run once a replay has
 * finished or before the first window closed.
 */
void tm_header_rate(const struct tm_model *m, double *pps, double *mbps);

/* Feed one sample to a rate; a window closes once TM_RATE_WINDOW_NS have passed. */
void tm_rate_update(struct tm_rate *r, uint64_t t_ns, uint64_t packets, uint64_t bytes);

/* The i-th newest finding (0 = newest), or NULL. */
const struct finding *tm_finding_at(const struct tm_model *m, size_t i);
/* Findings kept (<= TM_FINDINGS). */
size_t tm_findings_kept(const struct tm_model *m);

/*
 * Case-insensitive substring match of filter against a flow's client and server
 * ("ip:port"), its state or close name, and its last problem kind. "" matches all.
 */
bool tm_flow_matches(const struct tm_flow_row *row, const char *filter);
bool tm_finding_matches(const struct finding *f, const char *filter);
bool tm_server_matches(const struct tm_server *s, const char *filter);

/* Flow rows (ended and open, each flow once), filtered and sorted; returns rows written. */
size_t tm_flow_rows(const struct tm_model *m, enum tm_sort sort, const char *filter,
                    struct tm_flow_row *out, size_t max);
/* Findings newest first, filtered; returns entries written. */
size_t tm_finding_rows(const struct tm_model *m, const char *filter, const struct finding **out,
                       size_t max);
/* Servers, worst level first then by endpoint order, filtered; returns entries written. */
size_t tm_server_rows(const struct tm_model *m, const char *filter, const struct tm_server **out,
                      size_t max);
/* Health colour of a server from the thresholds (yellow at half a threshold). */
enum tm_level tm_server_level(const struct tm_model *m, const struct tm_server *s);
/* Attempts per second in the newest interval (0 without health). */
double tm_server_attempts_per_s(const struct tm_server *s);
/* The last n history values (oldest first) of the error (which 0) or retrans (1) rate. */
size_t tm_server_history(const struct tm_server *s, int which, float *out, size_t n);

/* The flow's record (ended or open), or NULL when the model no longer has it. */
const struct flow_record *tm_find_flow(const struct tm_model *m, uint64_t flow_id, bool *open);
/*
 * The flow's timeline in time order: handshake, findings, TLS records, certificate facts and
 * how it ended. Returns events written (at most max).
 */
size_t tm_timeline(const struct tm_model *m, uint64_t flow_id, struct tm_event *out, size_t max);

/* Short text helpers for the view (write into buf, return buf). */
const char *tm_fmt_bytes(uint64_t b, char *buf,
                         size_t len); /* at most 5 chars: "1234", "12.1K", "308K", "3072M" */
const char *tm_fmt_dur(uint64_t ns, char *buf, size_t len); /* "12ms", "12.3s", "4m05s", "2h03m" */
const char *tm_fmt_ms(double s, char *buf, size_t len);     /* seconds as "12.3ms"/"1.20s"/"-" */
const char *tm_fmt_clock(uint64_t ts_ns, char *buf, size_t len); /* "HH:MM:SS.mmm" local time */
const char *tm_tls_version_name(uint16_t v);                     /* "TLS1.2", ... or "?" */
const char *tm_tls_alert_name(int desc);                         /* "handshake_failure", ... */

#endif
