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

#define TUI_FINDINGS 512  /* findings kept (newest) */
#define TUI_FLOWS 1024    /* ended flows kept (newest) */
#define TUI_OPEN 256      /* open flows kept from the latest snapshot */
#define TUI_TLS 256       /* TLS handshake records kept */
#define TUI_CERTS 128     /* certificate records kept */
#define TUI_SERVERS 64    /* server endpoints tracked; the least recently active is replaced */
#define TUI_HIST 32       /* health intervals kept per server for the sparkline */
#define TUI_PROBLEMS 8192 /* flow_id -> last problem table (direct-mapped, power of two) */
#define TUI_BAD 256       /* ended flows with a problem kept apart, so the worst survive */
#define TUI_INCIDENTS 16  /* open incidents kept (the newest replace the oldest info ones) */
#define TUI_ROWS (TUI_FLOWS + TUI_BAD + TUI_OPEN) /* flow rows a query can collect */
#define TUI_EVENTS 128                            /* timeline events per flow */
#define TUI_EVENT_TEXT 480                        /* bytes of one timeline line (a whole detail) */
#define TUI_TEXT 320                              /* bytes of a copied header string */
#define TUI_RATE_WINDOW_NS 1000000000ull          /* rates are computed over at least this long */

/* Flow table sort keys, cycled with 's'. Names: tui_sort_name. */
enum tui_sort {
    TUI_SORT_WORST = 0, /* worst severity, bad close, most TCP events first */
    TUI_SORT_BYTES,     /* most bytes (both ways) first */
    TUI_SORT_AGE,       /* oldest (longest) first */
    TUI_SORT_RETRANS,   /* most retransmissions first */
    TUI_SORT__COUNT
};
const char *tui_sort_name(enum tui_sort s);

/* Health colour of a server. */
enum tui_level {
    TUI_LEVEL_NONE = 0, /* nothing known yet */
    TUI_LEVEL_OK,       /* green */
    TUI_LEVEL_WARN,     /* yellow: over half a threshold, or warnings */
    TUI_LEVEL_BAD,      /* red: over a threshold, an open alert, or errors */
};

/* Alert thresholds (the same defaults as the engine's alerts). */
struct tui_thresholds {
    double error_rate;   /* failed / attempts, 0..1 */
    double retrans_rate; /* retransmitted / data segments, 0..1 */
    double resp_p99_s;   /* response time p99, seconds */
};

/* A packet and bit rate from successive (time, packets, bytes) samples. */
struct tui_rate {
    bool started;      /* a base sample is set */
    bool valid;        /* pps and mbps hold a measurement */
    uint64_t t0_ns;    /* base sample time */
    uint64_t packets0; /* base sample packets */
    uint64_t bytes0;   /* base sample bytes */
    double pps;        /* packets per second over the last window */
    double mbps;       /* megabits per second over the last window */
};

/* One server endpoint: its newest health interval, totals and rate history. */
struct tui_server {
    struct endpoint ep;            /* the server endpoint */
    bool has_health;               /* last holds a health row */
    struct health_row last;        /* newest closed interval */
    uint64_t intervals;            /* health rows seen */
    uint64_t attempts;             /* attempts over all intervals */
    uint64_t established;          /* established over all intervals */
    uint64_t resets;               /* resets over all intervals */
    uint64_t tls_failed;           /* TLS failures over all intervals */
    uint64_t nfind[3];             /* findings by severity (SEV_INFO..SEV_ERROR) */
    uint64_t last_active_ns;       /* newest health row or finding time (for replacement) */
    uint64_t bad_since_ns;         /* start of the current run of warn/bad intervals, 0 if ok */
    uint32_t hist_n;               /* intervals in the history (<= TUI_HIST) */
    uint32_t hist_pos;             /* next history slot */
    float hist_err[TUI_HIST];      /* error rate per interval, ring */
    float hist_retr[TUI_HIST];     /* retransmission rate per interval, ring */
    uint64_t hist_start[TUI_HIST]; /* interval start per history slot, ring */
};

/* Worst problem of a flow, by flow_id (direct-mapped; a newer flow may replace an older one). */
struct tui_problem {
    uint64_t flow_id;    /* owner; 0 = empty slot */
    int kind;            /* enum fkind of the worst finding (the newest among equals) */
    enum severity worst; /* worst severity among its findings */
    uint32_t count;      /* findings for the flow */
};

/* The model. Flat and pointer-free: tui_model_copy is a memcpy. */
struct tui_model {
    struct tui_thresholds th;               /* alert thresholds */
    struct finding findings[TUI_FINDINGS];  /* ring of findings */
    uint64_t nfindings;                     /* findings ever added */
    uint64_t findings_by_sev[3];            /* findings ever added per severity */
    struct flow_record flows[TUI_FLOWS];    /* ring of ended flows */
    uint64_t nflows;                        /* ended flows ever added */
    struct flow_record bad[TUI_BAD];        /* ring of ended flows with findings or a bad close */
    uint64_t nbad;                          /* bad flows ever added */
    struct flow_record open[TUI_OPEN];      /* open flows from the latest snapshot */
    size_t nopen;                           /* entries in open[] */
    struct tls_record tls[TUI_TLS];         /* ring of TLS records */
    uint64_t ntls;                          /* TLS records ever added */
    struct cert_record certs[TUI_CERTS];    /* ring of certificate records */
    uint64_t ncerts;                        /* certificate records ever added */
    struct tui_server servers[TUI_SERVERS]; /* server endpoints, in order of appearance */
    size_t nservers;                        /* entries in servers[] */
    uint64_t servers_replaced;              /* servers replaced because the table was full */
    struct tui_problem problems[TUI_PROBLEMS]; /* worst problem per flow */
    struct incident_record incidents[TUI_INCIDENTS]; /* open incidents (latest event of each) */
    size_t nincidents;                         /* entries in incidents[] */
    uint64_t incidents_opened;                 /* incidents ever opened */
    struct tui_status st;                      /* newest status; string members point to NULL */
    char source[TUI_TEXT];                     /* copy of st.source */
    char filter[TUI_TEXT];                     /* copy of st.filter ("" if none) */
    char store_state[TUI_TEXT];                /* copy of st.store_state */
    bool has_status;                           /* st is set */
    struct tui_rate rate;                      /* capture rate */
};

/* One flow table row. rec points into the model the query ran on. */
struct tui_flow_row {
    const struct flow_record *rec; /* the flow */
    bool open;                     /* still open (from the open snapshot) */
    int last_kind;                 /* enum fkind of its newest finding, -1 if none */
    enum severity worst;           /* worst severity of its findings (valid if last_kind >= 0) */
    uint64_t age_ns;               /* open: now - first packet; ended: last - first packet */
    uint64_t retrans;              /* retransmissions (all kinds) both ways */
    uint64_t score;                /* badness for TUI_SORT_WORST (higher is worse) */
};

/* One timeline line of the detail view. */
struct tui_event {
    uint64_t ts_ns;            /* when */
    int sev;                   /* enum severity, or -1 for a plain fact */
    char text[TUI_EVENT_TEXT]; /* what, readable */
};

/* Allocate an empty model with thresholds (NULL or zero fields: defaults). NULL if no memory. */
struct tui_model *tui_model_new(const struct tui_thresholds *th) FM_WUR;
void tui_model_free(struct tui_model *m);
/* dst becomes a snapshot of src. */
void tui_model_copy(struct tui_model *dst, const struct tui_model *src);

void tui_model_add_finding(struct tui_model *m, const struct finding *f);
void tui_model_add_flow(struct tui_model *m, const struct flow_record *r);
void tui_model_add_health(struct tui_model *m, const struct health_row *h);
void tui_model_add_tls(struct tui_model *m, const struct tls_record *t);
void tui_model_add_cert(struct tui_model *m, const struct cert_record *c);
/*
 * An incident event: kept while open (updated in place), removed when it closes; one closed
 * only by the end of the input stays (the problem was still there when the replay ended).
 */
void tui_model_add_incident(struct tui_model *m, const struct incident_record *r);
/* Open incidents, worst first (into m); returns how many. */
size_t tui_model_incident_rows(const struct tui_model *m, const struct incident_record **out,
                               size_t max);
/* Worst severity of the open incidents of server ep (warn or error), or -1 if none. */
int tui_model_server_incident(const struct tui_model *m, const struct endpoint *ep);
/* Replace the open flows with flows[0..n) (at most TUI_OPEN kept). */
void tui_model_set_open(struct tui_model *m, const struct flow_record *flows, size_t n);
/*
 * Take a status: copies its strings and updates the capture rate, on wall time for live
 * captures and on capture time for replays (the rate the traffic was recorded at).
 */
void tui_model_set_status(struct tui_model *m, const struct tui_status *st, uint64_t wall_ns);

/*
 * The header rate: the newest window, or the average over the whole run once a replay has
 * finished or before the first window closed.
 */
void tui_model_header_rate(const struct tui_model *m, double *pps, double *mbps);

/* Feed one sample to a rate; a window closes once TUI_RATE_WINDOW_NS have passed. */
void tui_rate_update(struct tui_rate *r, uint64_t t_ns, uint64_t packets, uint64_t bytes);

/* The i-th newest finding (0 = newest), or NULL. */
const struct finding *tui_model_finding_at(const struct tui_model *m, size_t i);
/* Findings kept (<= TUI_FINDINGS). */
size_t tui_model_findings_kept(const struct tui_model *m);

/*
 * Case-insensitive substring match of filter against a flow's client and server
 * ("ip:port"), its state or close name, and its last problem kind. "" matches all.
 */
bool tui_model_flow_matches(const struct tui_flow_row *row, const char *filter);
bool tui_model_finding_matches(const struct finding *f, const char *filter);
bool tui_model_server_matches(const struct tui_server *s, const char *filter);

/* Flow rows (ended and open, each flow once), filtered and sorted; returns rows written. */
size_t tui_model_flow_rows(const struct tui_model *m, enum tui_sort sort, const char *filter,
                           struct tui_flow_row *out, size_t max);
/* Findings newest first, filtered; returns entries written. */
size_t tui_model_finding_rows(const struct tui_model *m, const char *filter,
                              const struct finding **out, size_t max);
/* Servers, worst level first then by endpoint order, filtered; returns entries written. */
size_t tui_model_server_rows(const struct tui_model *m, const char *filter,
                             const struct tui_server **out, size_t max);
/* Health colour of a server from the thresholds (yellow at half a threshold). */
enum tui_level tui_model_server_level(const struct tui_model *m, const struct tui_server *s);
/* Attempts per second in the newest interval (0 without health). */
double tui_model_server_attempts_per_s(const struct tui_server *s);
/* The last n history values (oldest first) of the error (which 0) or retrans (1) rate. */
size_t tui_model_server_history(const struct tui_server *s, int which, float *out, size_t n);
/* The start times of the same last n intervals (oldest first). */
size_t tui_model_server_history_start(const struct tui_server *s, uint64_t *out, size_t n);
/* The server row of an endpoint, or NULL. */
const struct tui_server *tui_model_find_server(const struct tui_model *m,
                                               const struct endpoint *ep);

/* The flow's record (ended or open), or NULL when the model no longer has it. */
const struct flow_record *tui_model_find_flow(const struct tui_model *m, uint64_t flow_id,
                                              bool *open);
/*
 * The flow's timeline in time order: handshake, findings, TLS records, certificate facts and
 * how it ended. Returns events written (at most max).
 */
size_t tui_model_timeline(const struct tui_model *m, uint64_t flow_id, struct tui_event *out,
                          size_t max);

/* Short text helpers for the view (write into buf, return buf). */
const char *tui_fmt_bytes(uint64_t b, char *buf,
                          size_t len); /* at most 5 chars: "1234", "12.1K", "308K", "3072M" */
const char *tui_fmt_dur(uint64_t ns, char *buf, size_t len); /* "12ms", "12.3s", "4m05s", "2h03m" */
const char *tui_fmt_ms(double s, char *buf, size_t len);     /* seconds as "12.3ms"/"1.20s"/"-" */
const char *tui_fmt_clock(uint64_t ts_ns, char *buf, size_t len); /* "HH:MM:SS.mmm" local time */

#endif
