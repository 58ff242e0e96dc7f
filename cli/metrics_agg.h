/*
 * metrics_agg.h - the metrics snapshot and its aggregation: cumulative per-server counters from
 * the health rows, the last interval's gauges, findings per kind and flowmedic's own counters.
 * The snapshot is plain data; metrics_render.h turns it into exposition text.
 */
#ifndef FM_METRICS_AGG_H
#define FM_METRICS_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/alert.h"
#include "analyzers/finding.h"

#define MX_MAX_SERVERS 1024 /* servers exported (more are counted in srv_dropped) */
/* failed[r] holds failure reason FAIL_REFUSED + r (health_row order; names: fail_name). */
#define MX_REASONS (FAIL__COUNT - FAIL_REFUSED)

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
    uint64_t http_reclaimed;    /* HTTP connections whose request slots were reclaimed */
};

/* One server: totals over the run and the last interval's gauges. */
struct mx_srv {
    char label[80];              /* "ip:port", escaped for a label value */
    uint64_t attempts;           /* connection attempts */
    uint64_t established;        /* handshakes completed */
    uint64_t failed[MX_REASONS]; /* failures per reason (see MX_REASONS) */
    uint64_t resets;             /* RST segments */
    uint64_t zero_windows;       /* zero-window advertisements */
    uint64_t syn_retries;        /* client SYN retransmissions */
    uint64_t synack_retries;     /* server SYN-ACK retransmissions */
    uint64_t retrans[2];         /* retransmitted segments per direction */
    uint64_t data[2];            /* data segments per direction */
    uint64_t bytes[2];           /* payload bytes per direction */
    uint64_t http_requests;      /* HTTP requests */
    uint64_t http_5xx;           /* HTTP 5xx responses */
    uint64_t slow;               /* slow responses */
    uint64_t responses;          /* response-time samples */
    double resp_q[3];            /* last interval's response time p50/p95/p99 (s) */
    double hs_q[3];              /* last interval's handshake RTT p50/p95/p99 (s) */
    double error_ratio;          /* last interval's error rate */
    double retrans_ratio;        /* last interval's retransmission rate */
    uint32_t open_alerts;        /* alert rules open (ALERT_BIT of each enum alert_rule) */
    uint64_t last_start;         /* start of the interval of its last row */
};

#define MX_MAX_INC 256 /* (server, cause) incident series exported; closed ones give way */

/* One incident series: flowmedic_incident_open{server,cause}. */
struct mx_inc {
    char label[80];       /* server "ip:port", escaped */
    enum inc_cause cause; /* the cause */
    bool open;            /* 1 while an incident of this cause is open on this server */
};

/* Everything the exposition shows; changed only by the functions below. */
struct mx_snap {
    struct mx_srv *srv;           /* servers, MX_MAX_SERVERS entries */
    size_t nsrv;                  /* servers in use */
    uint64_t srv_dropped;         /* health rows of servers beyond the cap */
    uint64_t findings[FK__COUNT]; /* findings per kind */
    uint64_t health_rows;         /* health rows received */
    uint64_t latest_start;        /* newest interval start of any row */
    struct metrics_self self;     /* flowmedic's own counters */
    struct mx_inc inc[MX_MAX_INC];  /* incident series */
    size_t ninc;                    /* inc[] used */
    uint64_t inc_opened[IC__COUNT]; /* incidents opened per cause */
};

/* An empty snapshot; ERR_NOMEM when the server table cannot be allocated. */
int mx_snap_init(struct mx_snap *s) __attribute__((warn_unused_result));
void mx_snap_free(struct mx_snap *s);

/* Add a health row, count a finding, take the end-of-run summary. */
void mx_snap_health(struct mx_snap *s, const struct health_row *h);
void mx_snap_finding(struct mx_snap *s, const struct finding *f);
void mx_snap_summary(struct mx_snap *s, const struct run_summary *sum);
/* An incident event: its (server, cause) series and the opened counter. */
void mx_snap_incident(struct mx_snap *s, const struct incident_record *r);

#endif
