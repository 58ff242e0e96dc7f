/*
 * finding.h - what analyzers tell the sinks: findings, finished flows, per-interval server
 * health and the run summary. Every struct here is a fixed-size copy; none points into
 * packet or flow memory, so a sink may keep or queue them.
 */
#ifndef FM_FINDING_H
#define FM_FINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../capture/pkt.h"

/* Finding kinds. Their names (fk_name) are a stable output contract: append, never rename. */
enum fkind {
    FK_RETRANSMISSION = 0,
    FK_FAST_RETRANSMISSION,
    FK_SPURIOUS_RETRANSMISSION,
    FK_OUT_OF_ORDER,
    FK_LOST_SEGMENT,
    FK_DUP_ACK,
    FK_ZERO_WINDOW,
    FK_WINDOW_FULL,
    FK_KEEP_ALIVE,
    FK_RESET,
    FK_CONN_REFUSED,
    FK_SYN_UNANSWERED,
    FK_SYN_BACKLOG_DROP,
    FK_ACCEPT_QUEUE_OVERFLOW,
    FK_SERVER_UNREACHABLE,
    FK_SLOW_HANDSHAKE,
    FK_TLS_ALERT,
    FK_TLS_HANDSHAKE_FAILED,
    FK_CERT_EXPIRED,
    FK_CERT_NOT_YET_VALID,
    FK_CERT_EXPIRING,
    FK_CERT_NAME_MISMATCH,
    FK_CERT_SELF_SIGNED,
    FK_CERT_WEAK,
    FK_SLOW_RESPONSE,
    FK_HEALTH_ALERT,
    FK_CAPTURE_LOSS,
    FK_ONE_DIRECTION,
    FK_MALFORMED,
    FK__COUNT
};

enum severity {
    SEV_INFO = 0,
    SEV_WARN,
    SEV_ERROR,
};

/* Stable lower_snake_case name of a kind ("retransmission"); "?" if out of range. */
const char *fk_name(enum fkind k);
/* Kind from its name; -1 if unknown. */
int fk_from_name(const char *name);
/* "info", "warn", "error". */
const char *sev_name(enum severity s);

#define FINDING_DETAIL_MAX 320 /* readable detail, NUL-terminated */
#define FINDING_EXTRA_MAX 320  /* kind-specific JSON members, NUL-terminated */
#define FINDING_FRAMES_MAX 8   /* evidence frame numbers kept */

/* One finding: something a person should read, with its evidence. */
struct finding {
    uint64_t ts_ns;                       /* when it happened (capture time) */
    enum fkind kind;                      /* what */
    enum severity sev;                    /* how bad */
    uint64_t flow_id;                     /* flow it belongs to; 0 for server-level findings */
    bool has_client;                      /* client is set */
    struct endpoint client;               /* client end of the flow */
    struct endpoint server;               /* server end (or the server endpoint) */
    uint8_t nframes;                      /* frames[] entries used */
    uint64_t frames[FINDING_FRAMES_MAX];  /* evidence: 1-based frame numbers */
    float confidence;                     /* 0..1; 1 when observed directly */
    char detail[FINDING_DETAIL_MAX];      /* readable text, no manual needed */
    char extra[FINDING_EXTRA_MAX];        /* "\"key\":value,..." JSON members, or "" */
};

/* Direction of a segment within a flow. */
enum { DIR_C2S = 0, DIR_S2C = 1 };

/* Per-direction TCP event counters kept on every flow (names: tcp_ev_name). */
enum tcp_ev {
    TEV_RETRANSMISSION = 0,
    TEV_FAST_RETRANSMISSION,
    TEV_SPURIOUS_RETRANSMISSION,
    TEV_OUT_OF_ORDER,
    TEV_LOST_SEGMENT,
    TEV_DUP_ACK,
    TEV_ZERO_WINDOW,
    TEV_WINDOW_FULL,
    TEV_KEEP_ALIVE,
    TEV_RESET,
    TEV_CAPTURE_LOSS,     /* ACK covered bytes the capture never saw (bytes counted) */
    TEV_MIRROR_DUPLICATE, /* identical frame seen twice (SPAN duplicate), dropped */
    TEV__COUNT
};

/* JSON/column name of a TCP event counter ("retransmission", ...). */
const char *tcp_ev_name(enum tcp_ev e);

/* How a flow ended. Names: close_name. */
enum flow_close {
    CLOSE_OPEN = 0,     /* still open at the end of the input */
    CLOSE_FIN,          /* FIN both ways */
    CLOSE_HALF_FIN,     /* FIN from one side only, then idle or end */
    CLOSE_RST_CLIENT,   /* reset by the client */
    CLOSE_RST_SERVER,   /* reset by the server */
    CLOSE_REFUSED,      /* SYN answered by RST */
    CLOSE_UNANSWERED,   /* SYN(s) never answered */
    CLOSE_IDLE,         /* evicted after the idle timeout */
    CLOSE_EVICTED,      /* evicted because the flow table was full */
    CLOSE_REUSED,       /* a new SYN with another ISN reused the 4-tuple */
};
const char *close_name(enum flow_close c);

/* Connection state names: flow_state_name. */
enum flow_state {
    FS_SYN_SENT = 0,    /* SYN seen, nothing back yet */
    FS_SYN_RECEIVED,    /* SYN-ACK seen */
    FS_ESTABLISHED,     /* handshake complete (or picked up mid-stream) */
    FS_FIN_WAIT,        /* one side sent FIN */
    FS_CLOSED,          /* both FINs, or RST */
    FS_MIDSTREAM,       /* picked up without a handshake */
};
const char *flow_state_name(enum flow_state s);

/* A flow, as reported when it ends (or at exit for flows still open). */
struct flow_record {
    uint64_t flow_id;               /* unique within a run, increasing */
    struct endpoint client;         /* client end */
    struct endpoint server;         /* server end */
    uint64_t first_ts_ns;           /* first packet */
    uint64_t last_ts_ns;            /* last packet */
    uint64_t first_frame;           /* frame number of the first packet */
    enum flow_state state;          /* state when reported */
    enum flow_close close;          /* how it ended */
    bool saw_syn;                   /* the handshake was seen */
    bool one_direction;             /* only one direction was ever captured */
    uint64_t packets[2];            /* per direction (DIR_C2S, DIR_S2C) */
    uint64_t bytes[2];              /* TCP payload bytes per direction */
    uint32_t ev[2][TEV__COUNT];     /* TCP event counts per direction */
    int64_t hs_rtt_server_ns;       /* SYN -> SYN-ACK, -1 if unknown */
    int64_t hs_rtt_client_ns;       /* SYN-ACK -> ACK, -1 if unknown */
    uint32_t syn_count;             /* SYNs sent by the client (1 + retries) */
    uint32_t synack_count;          /* SYN-ACKs sent by the server */
};

/* Per server endpoint, per interval: the health row (filled by the health analyzer). */
struct health_row {
    uint64_t start_ns;              /* interval start (capture time) */
    uint64_t len_ns;                /* interval length */
    struct endpoint server;         /* the server endpoint */
    uint64_t attempts;              /* new connection attempts (first SYNs) */
    uint64_t established;           /* handshakes completed */
    uint64_t failed_refused;        /* refused */
    uint64_t failed_timeout;        /* SYN never answered */
    uint64_t failed_backlog;        /* SYN backlog / accept queue drops */
    uint64_t failed_reset;          /* reset before completing */
    uint64_t failed_tls;            /* TLS handshakes failed */
    uint64_t syn_retries;           /* client SYN retransmissions */
    uint64_t synack_retries;        /* server SYN-ACK retransmissions */
    uint64_t resets;                /* RST segments */
    uint64_t zero_windows;          /* zero-window advertisements */
    uint64_t data_segs[2];          /* data segments per direction */
    uint64_t retrans_segs[2];       /* retransmitted segments per direction */
    uint64_t bytes[2];              /* payload bytes per direction */
    uint64_t http_requests;         /* HTTP requests (plain) */
    uint64_t http_5xx;              /* HTTP 5xx responses */
    uint64_t slow_responses;        /* responses over the threshold */
    uint32_t hs_rtt_n;              /* handshake RTT samples */
    double hs_rtt_p50, hs_rtt_p95, hs_rtt_p99; /* seconds; NAN when no sample */
    uint32_t resp_n;                /* response time samples */
    double resp_p50, resp_p95, resp_p99;       /* seconds; NAN when no sample */
    double error_rate;              /* failed / attempts (0..1) */
    double retrans_rate;            /* retransmitted / data segments, both ways (0..1) */
    uint32_t open_alerts;           /* bit per alert rule currently open */
};

/* Totals of a run, reported once at the end. */
struct run_summary {
    uint64_t frames;                /* frames read */
    uint64_t tcp_packets;           /* TCP segments analysed */
    uint64_t bytes;                 /* frame bytes on the wire */
    uint64_t flows;                 /* flows created */
    uint64_t evicted;               /* flows evicted because the table was full */
    uint64_t malformed;             /* malformed or truncated frames */
    uint64_t non_tcp;               /* frames skipped: not TCP */
    uint64_t fragments;             /* IP fragments skipped */
    uint64_t mirror_duplicates;     /* SPAN duplicates dropped */
    uint64_t kernel_drops;          /* pcap_stats drops (live) */
    uint64_t if_drops;              /* interface drops (live) */
    uint64_t findings[FK__COUNT];   /* findings written per kind */
    uint64_t first_ts_ns;           /* first frame time */
    uint64_t last_ts_ns;            /* last frame time */
    bool input_error;               /* a capture ended early (corrupt or truncated) */
};

/* Outcome of a TLS handshake. Names: tls_outcome_name. */
enum tls_outcome {
    TLS_IN_PROGRESS = 0,  /* not decided yet */
    TLS_COMPLETED,        /* handshake finished, application data may flow */
    TLS_FAILED_ALERT,     /* an alert ended it (alert_* fields say which, from whom) */
    TLS_RESET,            /* a RST during the handshake (alert_from says who reset) */
    TLS_CLOSED,           /* FIN before completion */
    TLS_NO_SERVER_HELLO,  /* the server never answered the ClientHello */
    TLS_STALLED,          /* no progress for tls_stall_ns */
    TLS_REJECTED_INFERRED,/* TLS 1.3: client rejected the server's flight (inferred) */
};
const char *tls_outcome_name(enum tls_outcome o);

/* Name of a TLS alert description ("certificate_expired"), "unknown" if not in the RFCs. */
const char *tls_alert_name(int desc);
/* "TLS 1.2", "SSL 3.0", ... or "0x%04x" into buf. */
const char *tls_version_name(uint16_t v, char *buf, size_t bufsz);

/* One TLS handshake (per flow), reported when its outcome is known or the flow ends. */
struct tls_record {
    uint64_t flow_id;               /* the flow */
    struct endpoint client;         /* client end */
    struct endpoint server;         /* server end */
    uint64_t ts_ns;                 /* ClientHello time */
    uint16_t client_version;        /* highest version the client offered */
    uint16_t version;               /* version chosen by the server (0 if none) */
    uint16_t cipher;                /* cipher suite chosen (0 if none) */
    bool hello_retry;               /* a HelloRetryRequest was sent */
    char sni[256];                  /* server_name, "" if none */
    char alpn[64];                  /* ALPN offered, comma separated */
    char ja3[33];                   /* JA3 MD5 (hex) */
    char ja3s[33];                  /* JA3S MD5 (hex), "" if no ServerHello */
    char ja4[48];                   /* JA4 client fingerprint */
    enum tls_outcome outcome;       /* how the handshake ended */
    bool inferred;                  /* the outcome was inferred, not read */
    int alert_level;                /* alert level, -1 if none */
    int alert_desc;                 /* alert description code, -1 if none */
    int alert_from;                 /* DIR_C2S / DIR_S2C of the alert or reset, -1 if none */
    int64_t duration_ns;            /* ClientHello to Finished/first app data, -1 if none */
    char leaf_sha256[65];           /* leaf certificate fingerprint (hex), "" if none seen */
};

/* One certificate seen on the wire (store keeps each fingerprint once). */
struct cert_record {
    char sha256[65];                /* fingerprint, hex */
    char subject[256];              /* one-line subject */
    char issuer[256];               /* one-line issuer */
    char sans[512];                 /* subjectAltName DNS/IP entries, comma separated */
    char serial[80];                /* serial, hex */
    int64_t not_before;             /* validity start, seconds since the epoch */
    int64_t not_after;              /* validity end, seconds since the epoch */
    char key_type[16];              /* "RSA", "EC", "Ed25519", ... */
    int key_bits;                   /* key size in bits */
    char sig_alg[48];               /* signature algorithm name */
    bool self_signed;               /* issuer == subject and self-verified */
    int chain_pos;                  /* 0 = leaf */
    uint64_t flow_id;               /* flow it was first seen in */
    uint64_t ts_ns;                 /* when it was seen */
    struct endpoint server;         /* server that presented it */
};

/*
 * A sink: where findings, flows, health rows and the summary go. Any callback may be NULL.
 * Called on the analysis thread; a sink that may block queues the copy and returns.
 */
struct sink {
    void *ctx;                                                       /* the sink's own state */
    void (*on_finding)(void *ctx, const struct finding *f);          /* a finding */
    void (*on_flow)(void *ctx, const struct flow_record *r);         /* a flow ended */
    void (*on_health)(void *ctx, const struct health_row *h);        /* an interval closed */
    void (*on_tls)(void *ctx, const struct tls_record *t);           /* a TLS handshake */
    void (*on_cert)(void *ctx, const struct cert_record *c);         /* a certificate */
    void (*on_summary)(void *ctx, const struct run_summary *s);      /* the end of the run */
};

#endif
