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

#include "analyzers/alert.h"
#include "capture/pkt.h"

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
    FK_CERT_INVALID_DATE,     /* a certificate's notBefore/notAfter cannot be read */
    FK_CERT_UNTRUSTED,        /* the chain sent does not verify to a trusted root */
    FK_CERT_CHAIN_INCOMPLETE, /* the issuer of the last certificate sent is neither sent
                                 nor a trusted root (a missing intermediate) */
    FK_HTTP_5XX,              /* an HTTP response with a 5xx status (one per request) */
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

/*
 * Zeek's conn.log conn_state of a flow (README.md, "conn_state and history"). The originator
 * is the client. Names: conn_state_name ("S0", "SF", "RSTR", ...).
 */
enum conn_state {
    CS_OTH = 0, /* no SYN seen, midstream traffic not closed (or nothing else applies) */
    CS_S0,      /* connection attempt seen, no reply */
    CS_S1,      /* established, not terminated */
    CS_SF,      /* normal establishment and termination (FIN both ways) */
    CS_REJ,     /* connection attempt rejected (SYN answered by RST) */
    CS_S2,      /* established, the originator sent FIN, no FIN from the responder */
    CS_S3,      /* established, the responder sent FIN, no FIN from the originator */
    CS_RSTO,    /* the originator aborted (sent a RST) */
    CS_RSTR,    /* the responder sent a RST */
    CS_RSTOS0,  /* the originator sent a SYN then a RST, no SYN-ACK seen */
    CS_RSTRH,   /* the responder sent a SYN-ACK then a RST, no SYN seen */
    CS_SH,      /* the originator sent a SYN then a FIN, no SYN-ACK seen ("half" open) */
    CS_SHR,     /* the responder sent a SYN-ACK then a FIN, no SYN seen */
};
const char *conn_state_name(enum conn_state s);

#define FLOW_HISTORY_MAX 32 /* history letters kept, NUL included; later letters are dropped */

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
    uint64_t data_segs[2];          /* data segments per direction (payload, not keep-alive) */
    uint64_t data_retrans[2];       /* data retransmissions per direction (tcp_seg.data_retrans:
                                       SYN and SYN-ACK retries are not counted) */
    int64_t hs_rtt_server_ns;       /* SYN -> SYN-ACK, -1 if unknown: from the SYN the first
                                       SYN-ACK answers (hs_syn_ts_ns) */
    uint64_t hs_syn_ts_ns;          /* that SYN's time: the latest client SYN before the first
                                       SYN-ACK, copies aside (TCP_SYN_COPY_NS); 0 if unknown */
    int64_t hs_rtt_client_ns;       /* SYN-ACK -> ACK, -1 if unknown */
    int64_t hs_rtt_ns;              /* the handshake RTT every module reads (server health's
                                       quantiles, TLS ticket timing): the latest client SYN ->
                                       the client ACK that completed the handshake, measured
                                       whole (it holds when the SYN-ACK was captured before
                                       the SYN); -1 if unknown */
    uint32_t syn_count;             /* SYNs sent by the client (1 + retries) */
    uint32_t synack_count;          /* SYN-ACKs sent by the server */
    enum conn_state conn_state;     /* Zeek's conn_state, kept current on every segment */
    char history[FLOW_HISTORY_MAX]; /* Zeek's history letters (client upper-case), NUL-ended */
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
    uint64_t mirror_dup_overflow;   /* frames the duplicate filter forgot inside its window */
    uint64_t http_reclaimed;        /* HTTP connections whose request slots were reclaimed */
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

/* TLS alert levels (RFC 5246 7.2). */
enum tls_alert_level {
    TLS_ALERT_WARNING = 1,
    TLS_ALERT_FATAL = 2,
};

/* TLS alert descriptions (RFC 8446 6, RFC 5246 7.2); names: tls_alert_name. */
enum tls_alert_desc {
    TLS_AD_CLOSE_NOTIFY = 0,
    TLS_AD_UNEXPECTED_MESSAGE = 10,
    TLS_AD_BAD_RECORD_MAC = 20,
    TLS_AD_DECRYPTION_FAILED = 21,
    TLS_AD_RECORD_OVERFLOW = 22,
    TLS_AD_DECOMPRESSION_FAILURE = 30,
    TLS_AD_HANDSHAKE_FAILURE = 40,
    TLS_AD_NO_CERTIFICATE = 41,
    TLS_AD_BAD_CERTIFICATE = 42,
    TLS_AD_UNSUPPORTED_CERTIFICATE = 43,
    TLS_AD_CERTIFICATE_REVOKED = 44,
    TLS_AD_CERTIFICATE_EXPIRED = 45,
    TLS_AD_CERTIFICATE_UNKNOWN = 46,
    TLS_AD_ILLEGAL_PARAMETER = 47,
    TLS_AD_UNKNOWN_CA = 48,
    TLS_AD_ACCESS_DENIED = 49,
    TLS_AD_DECODE_ERROR = 50,
    TLS_AD_DECRYPT_ERROR = 51,
    TLS_AD_EXPORT_RESTRICTION = 60,
    TLS_AD_PROTOCOL_VERSION = 70,
    TLS_AD_INSUFFICIENT_SECURITY = 71,
    TLS_AD_INTERNAL_ERROR = 80,
    TLS_AD_INAPPROPRIATE_FALLBACK = 86,
    TLS_AD_USER_CANCELED = 90,
    TLS_AD_NO_RENEGOTIATION = 100,
    TLS_AD_MISSING_EXTENSION = 109,
    TLS_AD_UNSUPPORTED_EXTENSION = 110,
    TLS_AD_CERTIFICATE_UNOBTAINABLE = 111,
    TLS_AD_UNRECOGNIZED_NAME = 112,
    TLS_AD_BAD_CERTIFICATE_STATUS_RESPONSE = 113,
    TLS_AD_BAD_CERTIFICATE_HASH_VALUE = 114,
    TLS_AD_UNKNOWN_PSK_IDENTITY = 115,
    TLS_AD_CERTIFICATE_REQUIRED = 116,
    TLS_AD_NO_APPLICATION_PROTOCOL = 120,
};

/* Name of a TLS alert description ("certificate_expired"), "unknown" if not in the RFCs. */
const char *tls_alert_name(int desc);
/* "TLS 1.2", "SSL 3.0", ... or "0x%04x" into buf. */
const char *tls_version_name(uint16_t v, char *buf, size_t bufsz);
/*
 * IANA name of a cipher suite ("TLS_AES_128_GCM_SHA256"), from OpenSSL's libssl (every suite
 * it knows, read once); "0x%04x" into buf for a code it does not know. Thread-safe.
 */
const char *tls_cipher_name(uint16_t cs, char *buf, size_t bufsz);

#define FINDING_DETAIL_MAX 320 /* readable detail, NUL-terminated */
#define FINDING_FRAMES_MAX 8   /* evidence frame numbers kept */
#define FINDING_JSON_MAX 1024  /* room for finding_json_members (its output always fits) */
#define FX_GAPS_MAX 5          /* SYN retry gaps kept in an establishment finding */
#define FX_SNI_MAX 80          /* SNI bytes kept in TLS findings, NUL included */
#define FX_SUBJECT_MAX 140     /* certificate subject bytes kept, NUL included */
#define FX_PROTO_MAX 8         /* protocol name bytes kept ("HTTP", "TLS"), NUL included */
#define FX_REASON_MAX 64       /* certificate verify error text kept, NUL included */
#define FX_METHOD_MAX 16       /* HTTP method bytes kept in http_5xx findings, NUL included */
#define FX_HOST_MAX 80         /* HTTP Host bytes kept in http_5xx findings, NUL included */
#define FX_PATH_MAX 160        /* HTTP path bytes kept in http_5xx findings, NUL included */

/* Phase of the connection in which a reset arrived. Names: rst_phase_name. */
enum rst_phase {
    RST_NONE = 0,
    RST_ANSWER_TO_SYN, /* RST in answer to a SYN: refused */
    RST_HANDSHAKE,     /* after SYN-ACK, before the handshake completed */
    RST_MID,           /* mid-transfer abort */
    RST_AFTER_FIN,     /* after a FIN was sent */
};
/* "answer_to_syn", "handshake", "mid", "after_fin", "none". */
const char *rst_phase_name(enum rst_phase p);

/* "client" for DIR_C2S, "server" for anything else: who sent something. */
const char *dir_side_name(int dir);

/* FX_RESET (reset): one RST segment. */
struct fx_reset {
    uint8_t from;         /* sender: DIR_C2S (client) or DIR_S2C (server) */
    enum rst_phase phase; /* when in the connection it came */
    uint8_t ttl;          /* its TTL / hop limit */
    int16_t ttl_expected; /* the sender's usual TTL nearest to it, -1 if unknown */
    bool ttl_mismatch;    /* differs from the sender's other packets: maybe forged */
};

/* FX_TCP_EVENTS (retransmission .. keep_alive, capture_loss): counted events of one flow. */
struct fx_tcp_events {
    uint32_t count[2];           /* events per direction (DIR_*) since the last report */
    uint64_t data_segs[2];       /* data segments per direction so far */
    bool interim;                /* reported while the flow is still open */
    uint64_t lost_upstream;      /* (fast_)retransmission: originals never seen at the tap */
    uint64_t lost_downstream;    /* (fast_)retransmission: originals seen at the tap */
    uint64_t dsack_unneeded;     /* (fast_)retransmission: D-SACKed, so not needed */
    uint64_t zero_window_ns[2];  /* zero_window: time the window stayed zero, per direction */
    uint64_t capture_loss_bytes; /* capture_loss: bytes ACKed but never captured */
};

/* FX_ONE_DIRECTION (one_direction). */
struct fx_one_dir {
    uint8_t seen;     /* the direction captured (DIR_*) */
    uint64_t packets; /* packets seen in it */
};

/* Why an establishment finding was written. Names: estab_reason_name. */
enum estab_reason {
    ER_REFUSED = 0,  /* conn_refused */
    ER_TIMEOUT,      /* syn_unanswered */
    ER_BACKLOG,      /* syn_backlog_drop */
    ER_ACCEPT_QUEUE, /* accept_queue_overflow */
    ER_UNREACHABLE,  /* server_unreachable */
    ER_SLOW,         /* slow_handshake: the handshake took longer than the threshold */
    ER_SYN_RETRY,    /* slow_handshake: a SYN retry without SYN backlog evidence */
};
/* "refused", "timeout", "backlog", "accept_queue", "unreachable", "slow", "syn_retry". */
const char *estab_reason_name(enum estab_reason r);

/* How the connection fared. Names: estab_outcome_name. */
enum estab_outcome {
    EO_NONE = 0, /* not said (the reason implies it) */
    EO_DELAYED,  /* it opened, or progressed, late */
    EO_TIMEOUT,  /* it never opened */
    EO_RESET,    /* the server reset it */
    EO_FAILED,   /* no progress at all */
};
/* "none", "delayed", "timeout", "reset", "failed". */
const char *estab_outcome_name(enum estab_outcome o);

/* FX_ESTAB (conn_refused .. slow_handshake). The reason says which fields are meaningful. */
struct fx_estab {
    enum estab_reason reason;      /* what was found */
    enum estab_outcome outcome;    /* backlog; accept_queue without abort_on_overflow */
    uint32_t syns;                 /* all but unreachable: SYNs sent (1 + retries) */
    uint8_t ngaps;                 /* gap_ns entries used */
    uint64_t gap_ns[FX_GAPS_MAX];  /* timeout, backlog: gaps between the first SYNs */
    uint32_t answered_others;      /* timeout, backlog: other connections the server answered */
    uint32_t dropped_in_window;    /* backlog: attempts around it that needed a retry */
    uint32_t attempts_in_window;   /* backlog: attempts around it */
    bool ttl_mismatch;             /* refused: the RST's TTL differs from the server's */
    uint32_t attempts;             /* unreachable: connection attempts in the episode */
    uint32_t clients;              /* unreachable: client addresses seen */
    uint64_t duration_ns;          /* unreachable: length of the episode */
    bool abort_on_overflow;        /* accept_queue: the server reset (abort_on_overflow=1) */
    uint32_t synack_retries;       /* accept_queue: SYN-ACKs re-sent after the client's ACK */
    uint32_t data_retransmissions; /* accept_queue: client data re-sent while unACKed */
    uint64_t stall_ns;             /* accept_queue without abort_on_overflow: time stalled */
    int64_t server_side_ns;        /* slow, syn_retry: SYN -> SYN-ACK, -1 if unknown */
    uint64_t client_side_ns;       /* slow, syn_retry: SYN-ACK -> ACK */
};

/* FX_TLS_HANDSHAKE (tls_handshake_failed): copied from the handshake's tls_record. */
struct fx_tls_handshake {
    enum tls_outcome outcome; /* how it ended */
    bool inferred;            /* the outcome was inferred, not read */
    uint16_t version;         /* version chosen by the server, 0 if none */
    int16_t alert_desc;       /* alert description code, -1 if none */
    int8_t alert_from;        /* DIR_* of the alert or reset sender, -1 if none */
    char sni[FX_SNI_MAX];     /* server_name (cut), "" if none */
};

/* FX_TLS_ALERT (tls_alert): one alert in the clear (or read with the key log). */
struct fx_tls_alert {
    int16_t desc;          /* description code */
    uint8_t level;         /* 1 warning, 2 fatal (other values are shown as "warning") */
    uint8_t from;          /* sender, DIR_* */
    bool during_handshake; /* before the handshake completed */
    char sni[FX_SNI_MAX];  /* server_name (cut), "" if none */
};

/* FX_CERT (cert_*): the certificate a check failed on. */
struct fx_cert {
    char sha256[65];              /* fingerprint, hex */
    int chain_pos;                /* 0 = leaf */
    double days_left;             /* days to notAfter at the finding's time, to 1/100 day
                                     (negative once expired) */
    int64_t not_after;            /* validity end, seconds since the epoch */
    char subject[FX_SUBJECT_MAX]; /* one-line subject (cut) */
    /* cert_untrusted and cert_chain_incomplete only (zero for the other kinds); chain_pos is
       then the position in the chain as verified of the certificate the error is about */
    int verify_code;             /* OpenSSL's X509_V_ERR_* code */
    uint8_t chain_sent;          /* certificates the server sent */
    bool ca_file;                /* judged against --ca-file (else the system trust store) */
    char issuer[FX_SUBJECT_MAX]; /* issuer of that certificate: missing, or not trusted (cut) */
    char reason[FX_REASON_MAX];  /* OpenSSL's text for verify_code, as Zeek's
                                    validation_status ("unable to get local issuer
                                    certificate") */
};

/* FX_SLOW_RESPONSE (slow_response). */
struct fx_slow_response {
    char protocol[FX_PROTO_MAX]; /* "HTTP" or "TLS" */
    double response_s;           /* request end -> first response byte; < 0: no response */
    double waited_s;             /* no response: time waited before the flow ended */
    double threshold_s;          /* the slow-response threshold */
    int status;                  /* HTTP status, 0 if none */
};

/* FX_HTTP (http_5xx): one request answered with a server error (cut copies of its record). */
struct fx_http {
    char method[FX_METHOD_MAX]; /* request method (cut) */
    char host[FX_HOST_MAX];     /* Host header value (cut), "" if none */
    char path[FX_PATH_MAX];     /* path as the http record has it (cut) */
    uint16_t status;            /* response status code */
    double response_s;          /* request end -> first response byte (s) */
    uint32_t trans_depth;       /* the request's position on its connection, from 1 */
};

/* FX_HEALTH_ALERT (health_alert): a server alert rule opened or closed. */
struct fx_health_alert {
    enum alert_rule rule; /* which rule */
    bool open;            /* opened (true) or cleared (false) */
    double value;         /* the value that opened it, or the last value; NAN if none */
    double threshold;     /* the rule's threshold */
};

/* Which member of finding.fx a kind uses (fk_info()->family). */
enum fx_family {
    FX_NONE = 0,      /* no kind-specific fields (malformed) */
    FX_RESET,         /* fx.reset */
    FX_TCP_EVENTS,    /* fx.tcp */
    FX_ONE_DIRECTION, /* fx.one_dir */
    FX_ESTAB,         /* fx.estab */
    FX_TLS_HANDSHAKE, /* fx.tls_hs */
    FX_TLS_ALERT,     /* fx.tls_alert */
    FX_CERT,          /* fx.cert */
    FX_SLOW_RESPONSE, /* fx.slow */
    FX_HEALTH_ALERT,  /* fx.alert */
    FX_HTTP,          /* fx.http */
};

/* Runbook layer of a kind: where a person looks first. Names: fk_layer_name. */
enum fk_layer {
    LAYER_NETWORK = 0, /* the path: loss, reordering, unreachable hosts */
    LAYER_TRANSPORT,   /* TCP endpoints: listen queues, resets, windows */
    LAYER_TLS,         /* TLS handshakes and certificates */
    LAYER_APPLICATION, /* the service itself: response times, health alerts */
    LAYER_CAPTURE,     /* the capture, not the traffic: tap loss, one-way mirrors, bad frames */
};
/* "network", "transport", "tls", "application", "capture". */
const char *fk_layer_name(enum fk_layer l);

/* Why a connection attempt failed, in the order of health_row.failed_*. Names: fail_name. */
enum fail_reason {
    FAIL_NONE = 0, /* not a failure */
    FAIL_REFUSED,  /* refused (RST in answer to the SYN) */
    FAIL_TIMEOUT,  /* SYN never answered (alone or in an unreachable episode) */
    FAIL_BACKLOG,  /* SYN backlog or accept queue drop */
    FAIL_RESET,    /* reset before the handshake completed */
    FAIL_TLS,      /* TLS handshake failed */
    FAIL__COUNT
};
/* "refused", "timeout", "backlog", "reset", "tls"; "none" for FAIL_NONE. */
const char *fail_name(enum fail_reason r);

/* What a certificate verdict says about a server's TLS service (fk_info.cert_evidence). */
enum cert_evidence {
    CE_NONE = 0, /* nothing: not a certificate verdict, or one that breaks no connection */
    CE_CERT,     /* a broken certificate: evidence of a certificate problem by itself */
    CE_CHAIN,    /* a chain judged against trust anchors: evidence by itself only at SEV_ERROR
                    (against --ca-file, the anchors the clients use); at warn (the system
                    store) only once a client rejects the handshake */
};

/* How findings of a kind feed the incident layer (fk_info.inc_role). */
enum inc_role {
    IR_NONE = 0, /* its findings are not read: no incident evidence, or the incident layer
                    watches the segments and records behind it itself */
    IR_OPENS,    /* each finding is evidence of inc_cause and may open that incident by itself
                    (a certificate chain at warn only once a client rejects it: cert_evidence) */
    IR_ATTACHES, /* each finding is attached as evidence to the inc_cause incident, which only
                    the health rows open (never opened by a finding) */
};

/* Optional members of fx.tcp a kind writes besides the counts (fk_info.tcp_extra). */
enum fx_tcp_extra {
    FXT_NONE = 0,      /* counts only */
    FXT_LOSS_SPLIT,    /* lost_upstream, lost_downstream, dsack_unneeded */
    FXT_ZERO_WINDOW_S, /* zero_window_ns per direction ("zero_window_s") */
    FXT_BYTES,         /* capture_loss_bytes ("bytes") */
};

/*
 * What a finding kind means, for every consumer (summary, health rates, metrics, live view,
 * report): the table in finding.c is the only place a kind's meaning is defined.
 */
struct fk_info {
    const char *name;         /* stable lower_snake_case name (output contract) */
    enum severity sev;        /* the usual severity; a detector may set another per finding */
    enum fk_layer layer;      /* runbook layer */
    enum fx_family family;    /* which member of finding.fx it fills */
    int tev;                  /* the per-flow TCP event counter that counts its events (TEV_*),
                                 -1: none; an FX_TCP_EVENTS kind reports its counts in fx.tcp,
                                 reset (FX_RESET) writes one finding per counted RST */
    bool data_retransmission; /* its TCP event, on a segment with payload, is a data
                                 retransmission (tcp_seg.data_retrans; SYN and SYN-ACK
                                 retries never are) */
    enum fail_reason fail;    /* a finding of it is a failed connection attempt (FAIL_NONE:
                                 not one), counted under this reason */
    bool loss_evidence;       /* its TCP event is evidence that a segment was lost on the way
                                 (a retransmission of one that never arrived, a gap in the
                                 sequence); a spurious retransmission is not: its original
                                 arrived (capture copies and early timers look like this).
                                 With data_retransmission: tcp_seg.loss_retrans */
    bool cert_expiry;         /* a verdict on the end of the certificate's validity (expired,
                                 expiring): its fx.cert.days_left is the evidence of the
                                 health cert rule */
    enum cert_evidence cert_evidence; /* what it says about the server's TLS service */
    enum fx_tcp_extra tcp_extra; /* FX_TCP_EVENTS: which optional fx.tcp members it carries */
    enum inc_role inc_role;   /* how its findings feed the incident layer */
    int inc_cause;            /* the incident cause (IC_*) its findings are evidence of;
                                 unused when inc_role is IR_NONE */
    uint8_t inc_rank;         /* its place among its cause's kinds where an incident names
                                 them (summary words, then advice sentences: 1 first), 0: not
                                 named */
    const char *inc_words;    /* what an incident's summary says of it ("expired"), NULL: none */
    const char *inc_advice;   /* the sentence an incident's advice adds when it holds findings
                                 of it, NULL: none */
    bool flow_trouble;        /* its TCP event (tev) counts as a trouble of the flow in the
                                 live view's flow order (data retransmissions are counted there
                                 by tcp_seg.data_retrans, whatever the kind) */
    bool tls_hs_failure;      /* a finding of it may mark the failure of the flow's TLS
                                 handshake: the live view dates a failed handshake (which has no
                                 duration) by the first one after its ClientHello */
};

/* The metadata of kind k; a "?" entry (FX_NONE, nothing counted) when k is out of range. */
const struct fk_info *fk_info(enum fkind k);

/* One finding: something a person should read, with its evidence and typed fields. */
struct finding {
    uint64_t ts_ns;                      /* when it happened (capture time) */
    enum fkind kind;                     /* what */
    enum severity sev;                   /* how bad */
    uint64_t flow_id;                    /* flow it belongs to; 0 for server-level findings */
    bool has_client;                     /* client is set */
    struct endpoint client;              /* client end of the flow */
    struct endpoint server;              /* server end (or the server endpoint) */
    uint8_t nframes;                     /* frames[] entries used */
    uint64_t frames[FINDING_FRAMES_MAX]; /* evidence: 1-based frame numbers */
    float confidence;                    /* 0..1; 1 when observed directly */
    char detail[FINDING_DETAIL_MAX];     /* readable text, no manual needed */
    union {                              /* kind-specific fields: fk_info(kind)->family */
        struct fx_reset reset;           /* FX_RESET */
        struct fx_tcp_events tcp;        /* FX_TCP_EVENTS */
        struct fx_one_dir one_dir;       /* FX_ONE_DIRECTION */
        struct fx_estab estab;           /* FX_ESTAB */
        struct fx_tls_handshake tls_hs;  /* FX_TLS_HANDSHAKE */
        struct fx_tls_alert tls_alert;   /* FX_TLS_ALERT */
        struct fx_cert cert;             /* FX_CERT */
        struct fx_slow_response slow;    /* FX_SLOW_RESPONSE */
        struct fx_health_alert alert;    /* FX_HEALTH_ALERT */
        struct fx_http http;             /* FX_HTTP */
    } fx;
};

/*
 * The kind-specific fields of f as JSON object members ("\"key\":value,..." without braces),
 * the one encoder every sink uses. Writes "" when the kind has none. Returns the length, or
 * 0 (and "") if buf is too small; FINDING_JSON_MAX is always enough.
 */
size_t finding_json_members(const struct finding *f, char *buf, size_t bufsz);

/* Copy src into dst[n] (a typed text field), cut at n - 1 bytes, always terminated. */
void fx_copy(char *dst, size_t n, const char *src);

/* snprintf into a fixed field (a detail, a typed text field); long values are cut: details
   are for reading, not parsing. */
void fx_fmt(char *out, size_t outsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Days from now_s to not_after_s, rounded to 1/100 day as printf's "%.2f" rounds it. */
double fx_days_left(int64_t not_after_s, int64_t now_s);

/*
 * A confidence (finding or incident) as every output writes it: rounded to 1/100, so JSON,
 * the database and the report say 0.3, not the float's 0.300000011920929.
 */
double fx_confidence(float c);

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
    bool bad_not_before;            /* notBefore unreadable (month 13, empty, ...): 0 above */
    bool bad_not_after;             /* notAfter unreadable: not_after is 0, not a date */
};

/* How an HTTP request/response exchange ended. Names: http_state_name. */
enum http_state {
    HS_COMPLETE = 0,        /* the request and its whole response were seen */
    HS_NO_RESPONSE,         /* the request ended, no response byte before the flow ended */
    HS_REQUEST_INCOMPLETE,  /* the request began, the flow ended before its last byte */
    HS_RESPONSE_INCOMPLETE, /* the response began, the flow ended before its last byte */
    HS_GAP,                 /* bytes missing from the capture lost the exchange's framing */
    HS_NOT_HTTP,            /* the stream stopped being HTTP/1.x (malformed) */
    HS_PIPELINE_OVERFLOW,   /* more requests awaited answers than are followed per flow */
    HS_RECLAIMED,           /* the connection's request slots went to a newer connection */
};
/* "complete", "no_response", ...; "?" if out of range. */
const char *http_state_name(enum http_state s);

#define HTTP_REC_METHOD_MAX 16 /* method bytes kept, NUL included (longer: truncated) */
#define HTTP_REC_HOST_MAX 128  /* Host header value bytes kept, NUL included */
#define HTTP_REC_PATH_MAX 256  /* request-target bytes kept, NUL included */

/* Which fields of an http_record were cut (bit mask). */
enum { HTTP_CUT_METHOD = 1, HTTP_CUT_HOST = 2, HTTP_CUT_PATH = 4 };

/*
 * One HTTP/1.x request and its response (Zeek's http.log grade), reported when the response
 * ends, or when the exchange can no longer complete (state says why).
 */
struct http_record {
    uint64_t flow_id;                 /* the flow */
    struct endpoint client;           /* client end */
    struct endpoint server;           /* server end */
    uint64_t ts_ns;                   /* the request's first byte (capture time) */
    uint32_t trans_depth;             /* position of the request on its connection, from 1 */
    uint64_t req_frame;               /* frame of the request's first byte */
    uint64_t resp_frame;              /* frame of the response's first byte, 0 if none */
    char method[HTTP_REC_METHOD_MAX]; /* request method */
    char host[HTTP_REC_HOST_MAX];     /* Host header value, "" if none */
    char path[HTTP_REC_PATH_MAX];     /* request-target; the query (from '?') dropped unless
                                         full-URI recording is on */
    uint8_t cut;                      /* HTTP_CUT_* bits: fields longer than kept */
    bool has_host;                    /* a Host header was sent */
    uint16_t status;                  /* final response status code, 0 if none */
    uint64_t req_body_bytes;          /* request body bytes (dechunked) */
    uint64_t resp_body_bytes;         /* response body bytes (dechunked) */
    int64_t response_ns;              /* request end -> first response byte, -1 if none */
    enum http_state state;            /* how the exchange ended */
    uint64_t gap_bytes;               /* bytes of the exchange stepped over unparsed (a hole) */
};

#define WIRESHARK_FILTER_MAX 160 /* room for the longest filter (two IPv6 endpoints) */

/*
 * The Wireshark display filter of the frames between client and server, as Wireshark's
 * conversation filter writes it: "ip.addr==A && tcp.port==P && ip.addr==B && tcp.port==Q"
 * (ipv6.addr for IPv6). With client NULL, every frame to and from the server endpoint:
 * "ip.addr==B && tcp.port==Q". A port 0 gives no port clause ("... && tcp" ends a filter
 * that has none). The one generator of
 * the wireshark_filter that findings (and incidents) carry in JSON, the report and the live
 * view; it is derived from the endpoints, never stored. Returns the length (0 if buf is too
 * small: WIRESHARK_FILTER_MAX always fits).
 */
size_t wireshark_filter(const struct endpoint *client, const struct endpoint *server, char *buf,
                        size_t len);

/* wireshark_filter of a finding: its flow, or its server for a server-level finding. */
size_t finding_wireshark_filter(const struct finding *f, char *buf, size_t len);

/* ---- incidents (analyzers/incident.c): one per server endpoint and cause ---- */

/* Causes of an incident. Their names (inc_cause_name) are an output contract. */
enum inc_cause {
    IC_SERVICE_DOWN = 0,     /* connection attempts refused (RST to SYN) */
    IC_HOST_UNREACHABLE,     /* SYNs get no answer at all */
    IC_SYN_QUEUE_OVERFLOW,   /* SYNs dropped while others are answered */
    IC_ACCEPT_QUEUE_OVERFLOW,/* handshakes completed, never accepted */
    IC_NETWORK_LOSS,         /* data retransmission rate over the threshold */
    IC_SERVER_RESETS,        /* the server aborts established connections */
    IC_FORGED_RESETS,        /* resets whose TTL differs from the real endpoint's */
    IC_TLS_CERTIFICATE,      /* expired, not yet valid, wrong name, self-signed, expiring */
    IC_TLS_HANDSHAKE,        /* handshakes fail */
    IC_SLOW_RESPONSES,       /* responses slower than the threshold */
    IC_HTTP_ERRORS,          /* HTTP 5xx rate over the threshold */
    IC_RECEIVER_STALL,       /* a side advertises a zero window for long */
    IC_CAPTURE_LOSS,         /* the capture lost packets */
    IC_SCAN,                 /* one client probes many ports or hosts */
    IC__COUNT
};

/* Layer of the runbook a cause belongs to. */
enum inc_layer { IL_NETWORK = 0, IL_TRANSPORT, IL_TLS, IL_APPLICATION, IL_CAPTURE };

/* What happened to an incident. */
enum inc_event { IE_OPEN = 0, IE_UPDATE, IE_CLOSE };

/* Why an incident closed. */
enum inc_close {
    ICR_NONE = 0,     /* still open */
    ICR_RECOVERED,    /* positive evidence of recovery */
    ICR_NO_TRAFFIC,   /* quiet period without traffic that could show recovery */
    ICR_END_OF_INPUT, /* the input ended while it was open */
};

/* "service_down", ...; "network", ...; "open", ...; "recovered", ... ("?" if out of range). */
const char *inc_cause_name(enum inc_cause c);
/* Cause from its name; -1 if unknown. */
int inc_cause_from_name(const char *name);
const char *inc_layer_name(enum inc_layer l);
const char *inc_event_name(enum inc_event e);
const char *inc_close_name(enum inc_close r);

#define INC_SUMMARY_MAX 320 /* one-line summary, NUL-terminated */
#define INC_ADVICE_MAX 1024 /* full advice text, NUL-terminated */
#define INC_FLOWS_MAX 16    /* evidence flow ids kept */
#define INC_FRAMES_MAX 16   /* evidence frame numbers kept */
#define INC_REQUESTS_MAX 4  /* evidence HTTP requests kept (http_errors: the first ones) */
#define INC_REQ_PATH_MAX 96 /* path bytes kept per evidence request, NUL included */

/* An HTTP request in an incident's evidence (http_errors). */
struct inc_request {
    uint64_t flow_id;            /* its flow */
    uint64_t frame;              /* frame of the response's first byte */
    uint16_t status;             /* response status */
    char method[FX_METHOD_MAX];  /* request method (cut) */
    char path[INC_REQ_PATH_MAX]; /* path (cut) */
};

/* One incident event (open, update or close); the whole state each time. */
struct incident_record {
    uint64_t id;                       /* unique within a run, from 1 */
    enum inc_event event;              /* open, update or close */
    uint64_t ts_ns;                    /* capture time of this event */
    struct endpoint server;            /* server endpoint (a scan: the scanned host, port 0) */
    bool has_client;                   /* client is set (a scan: the scanner, port 0) */
    struct endpoint client;            /* the scanner */
    enum inc_cause cause;              /* why */
    enum inc_layer layer;              /* runbook layer of the cause */
    enum severity sev;                 /* how bad */
    uint64_t since_ns;                 /* first evidence (capture time) */
    uint64_t until_ns;                 /* end of the problem; 0 while open */
    enum inc_close close_reason;       /* ICR_NONE unless event == IE_CLOSE */
    uint64_t conns_affected;           /* connections with evidence */
    uint64_t conns_total;              /* connections to the server since the window before since */
    uint64_t clients_affected;         /* distinct client addresses with evidence */
    float confidence;                  /* 0..1 */
    uint32_t kinds[FK__COUNT];        /* evidence: findings (or equivalent events) per kind */
    uint8_t nflows;                    /* flows[] used */
    uint64_t flows[INC_FLOWS_MAX];     /* evidence flow ids (the first ones) */
    uint8_t nframes;                   /* frames[] used */
    uint64_t frames[INC_FRAMES_MAX];   /* evidence frame numbers (the first ones) */
    uint8_t nrequests;                 /* requests[] used */
    struct inc_request requests[INC_REQUESTS_MAX]; /* evidence HTTP requests (http_errors) */
    char summary[INC_SUMMARY_MAX];     /* one line */
    char advice[INC_ADVICE_MAX];       /* full advice: what to check and change */
};

#define INC_REQUESTS_JSON_MAX 1280 /* room for incident_requests_json (always enough) */

/*
 * The HTTP requests of an incident's evidence as one JSON object member
 * ("\"requests\":[{...},...]"), for the JSON lines and the database alike; "" (and 0) when it
 * lists none. Returns the length.
 */
size_t incident_requests_json(const struct incident_record *r, char *buf, size_t bufsz);

/* What an output record carries. Names: out_type_name. */
enum out_type {
    OUT_FINDING = 0, /* u.finding: a finding */
    OUT_FLOW,        /* u.flow: a flow ended (or is still open at the end) */
    OUT_HEALTH,      /* u.health: a server's health interval closed */
    OUT_TLS,         /* u.tls: a TLS handshake */
    OUT_CERT,        /* u.cert: a certificate */
    OUT_SUMMARY,     /* u.summary: the end of the run (exactly once, last) */
    OUT_INCIDENT,    /* u.incident: an incident opened, changed or closed */
    OUT_HTTP,        /* u.http: an HTTP request/response exchange */
    OUT__COUNT
};
/* "finding", "flow", "health", "tls", "cert", "summary", "incident", "http"; "?" if out of
   range. */
const char *out_type_name(enum out_type t);

/*
 * One output record: a tagged, fixed-size copy of anything the analysis tells the sinks.
 * Queues hold these by value (no pointer into analysis memory), so any thread may read one.
 */
struct out_rec {
    enum out_type type; /* which member of u is valid */
    union {
        struct finding finding;          /* OUT_FINDING */
        struct flow_record flow;         /* OUT_FLOW */
        struct health_row health;        /* OUT_HEALTH */
        struct tls_record tls;           /* OUT_TLS */
        struct cert_record cert;         /* OUT_CERT */
        struct run_summary summary;      /* OUT_SUMMARY */

        struct incident_record incident; /* OUT_INCIDENT */
        struct http_record http;         /* OUT_HTTP */
    } u;                                 /* the copy */
};

/* Bytes of a struct out_rec that a record of type t uses (the tag and its member). */
size_t out_rec_size(enum out_type t);

/* Fill r with type t and a copy of the member at p (out_rec_size(t) bytes in all). */
void out_rec_set(struct out_rec *r, enum out_type t, const void *p);

/*
 * A sink: one output of a run (JSON lines, the database, the live view, metrics, the human
 * summary). Every sink implements these in its own file and is listed in one table
 * (cli/sinks.c). put and tick run on the output thread only (unless on_analysis_thread), one
 * record at a time in the order the analysis emitted them; open and close run on the main
 * thread before the output thread starts and after it stopped. Any callback but open and put
 * may be NULL.
 */
struct sink_ops {
    const char *name; /* short name for messages ("json", "store", ...) */
    /* Start the sink with its own configuration (cfg: the sink's options struct, see its
       header). Returns its state, or NULL with one clear line in err. */
    void *(*open)(const void *cfg, char *err, size_t errlen);
    /* One record. Must not keep r (copy what is needed). */
    void (*put)(void *ctx, const struct out_rec *r);
    /* Wall time passed (about once a second, and when the queue is idle): flush, publish. */
    void (*tick)(void *ctx, uint64_t wall_ns);
    /* Flush and free everything. 0, or a negative enum err with the reason in err (the
       state is freed either way). */
    int (*close)(void *ctx, char *err, size_t errlen);
    /* put runs on the analysis thread as each record is made, before the queue, for a sink
       whose state the packet path also touches (its records then arrive in step with the
       packets); it must be quick and must not block. Such a sink sees every record, live
       too, and gets no tick. false for every other sink. */
    bool on_analysis_thread;
};

#endif
