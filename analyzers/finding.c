/* finding.c - the stable names of finding kinds, severities, TCP events, states and outcomes. */
#include "analyzers/finding.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The finding kinds: indexed by enum fkind. Names are the output contract (append, never
 * rename); every consumer reads a kind's layer, counting and fields from here.
 */
#define NOTEV -1
static const struct fk_info fk_infos[] = {
    /* name, usual severity, layer, typed fields, TCP event, data retransmission, failure, loss
       evidence, certificate expiry, certificate evidence; then by name the fields most kinds
       leave zero (tcp_extra, inc_*, flow_trouble, tls_hs_failure) */
    [FK_RETRANSMISSION] = {"retransmission", SEV_WARN, LAYER_NETWORK, FX_TCP_EVENTS,
                           TEV_RETRANSMISSION, true, FAIL_NONE, true, false, CE_NONE,
                           .tcp_extra = FXT_LOSS_SPLIT},
    [FK_FAST_RETRANSMISSION] = {"fast_retransmission", SEV_WARN, LAYER_NETWORK, FX_TCP_EVENTS,
                                TEV_FAST_RETRANSMISSION, true, FAIL_NONE, true, false, CE_NONE,
                                .tcp_extra = FXT_LOSS_SPLIT},
    [FK_SPURIOUS_RETRANSMISSION] = {"spurious_retransmission", SEV_INFO, LAYER_NETWORK,
                                    FX_TCP_EVENTS, TEV_SPURIOUS_RETRANSMISSION, true, FAIL_NONE,
                                    false, false, CE_NONE},
    [FK_OUT_OF_ORDER] = {"out_of_order", SEV_INFO, LAYER_NETWORK, FX_TCP_EVENTS, TEV_OUT_OF_ORDER,
                         false, FAIL_NONE, false, false, CE_NONE, .flow_trouble = true},
    [FK_LOST_SEGMENT] = {"lost_segment", SEV_WARN, LAYER_NETWORK, FX_TCP_EVENTS, TEV_LOST_SEGMENT,
                         false, FAIL_NONE, true, false, CE_NONE, .flow_trouble = true},
    [FK_DUP_ACK] = {"dup_ack", SEV_INFO, LAYER_NETWORK, FX_TCP_EVENTS, TEV_DUP_ACK, false,
                    FAIL_NONE, false, false, CE_NONE, .flow_trouble = true},
    [FK_ZERO_WINDOW] = {"zero_window", SEV_WARN, LAYER_TRANSPORT, FX_TCP_EVENTS, TEV_ZERO_WINDOW,
                        false, FAIL_NONE, false, false, CE_NONE, .tcp_extra = FXT_ZERO_WINDOW_S,
                        .flow_trouble = true},
    [FK_WINDOW_FULL] = {"window_full", SEV_INFO, LAYER_TRANSPORT, FX_TCP_EVENTS, TEV_WINDOW_FULL,
                        false, FAIL_NONE, false, false, CE_NONE},
    [FK_KEEP_ALIVE] = {"keep_alive", SEV_INFO, LAYER_TRANSPORT, FX_TCP_EVENTS, TEV_KEEP_ALIVE,
                       false, FAIL_NONE, false, false, CE_NONE},
    [FK_RESET] = {"reset", SEV_WARN, LAYER_TRANSPORT, FX_RESET, TEV_RESET, false, FAIL_NONE, false,
                  false, CE_NONE, .flow_trouble = true},
    [FK_CONN_REFUSED] = {"conn_refused", SEV_ERROR, LAYER_TRANSPORT, FX_ESTAB, NOTEV, false,
                         FAIL_REFUSED, false, false, CE_NONE},
    [FK_SYN_UNANSWERED] = {"syn_unanswered", SEV_ERROR, LAYER_TRANSPORT, FX_ESTAB, NOTEV, false,
                           FAIL_TIMEOUT, false, false, CE_NONE},
    [FK_SYN_BACKLOG_DROP] = {"syn_backlog_drop", SEV_WARN, LAYER_TRANSPORT, FX_ESTAB, NOTEV, false,
                             FAIL_BACKLOG, false, false, CE_NONE},
    [FK_ACCEPT_QUEUE_OVERFLOW] = {"accept_queue_overflow", SEV_ERROR, LAYER_TRANSPORT, FX_ESTAB,
                                  NOTEV, false, FAIL_BACKLOG, false, false, CE_NONE,
                                  .inc_role = IR_OPENS, .inc_cause = IC_ACCEPT_QUEUE_OVERFLOW},
    [FK_SERVER_UNREACHABLE] = {"server_unreachable", SEV_ERROR, LAYER_TRANSPORT, FX_ESTAB, NOTEV,
                               false, FAIL_TIMEOUT, false, false, CE_NONE},
    [FK_SLOW_HANDSHAKE] = {"slow_handshake", SEV_WARN, LAYER_TRANSPORT, FX_ESTAB, NOTEV, false,
                           FAIL_NONE, false, false, CE_NONE},
    [FK_TLS_ALERT] = {"tls_alert", SEV_ERROR, LAYER_TLS, FX_TLS_ALERT, NOTEV, false, FAIL_NONE,
                      false, false, CE_NONE, .tls_hs_failure = true},
    [FK_TLS_HANDSHAKE_FAILED] = {"tls_handshake_failed", SEV_ERROR, LAYER_TLS, FX_TLS_HANDSHAKE,
                                 NOTEV, false, FAIL_TLS, false, false, CE_NONE,
                                 .tls_hs_failure = true},
    [FK_CERT_EXPIRED] = {"cert_expired", SEV_ERROR, LAYER_TLS, FX_CERT, NOTEV, false, FAIL_NONE,
                         false, true, CE_CERT, .inc_role = IR_OPENS,
                         .inc_cause = IC_TLS_CERTIFICATE, .inc_rank = 1, .inc_words = "expired"},
    [FK_CERT_NOT_YET_VALID] = {"cert_not_yet_valid", SEV_ERROR, LAYER_TLS, FX_CERT, NOTEV, false,
                               FAIL_NONE, false, false, CE_CERT, .inc_role = IR_OPENS,
                               .inc_cause = IC_TLS_CERTIFICATE, .inc_rank = 2,
                               .inc_words = "not yet valid"},
    [FK_CERT_EXPIRING] = {"cert_expiring", SEV_WARN, LAYER_TLS, FX_CERT, NOTEV, false, FAIL_NONE,
                          false, true, CE_CERT, .inc_role = IR_OPENS,
                          .inc_cause = IC_TLS_CERTIFICATE, .inc_rank = 4,
                          .inc_words = "expiring soon"},
    [FK_CERT_NAME_MISMATCH] = {"cert_name_mismatch", SEV_ERROR, LAYER_TLS, FX_CERT, NOTEV, false,
                               FAIL_NONE, false, false, CE_CERT, .inc_role = IR_OPENS,
                               .inc_cause = IC_TLS_CERTIFICATE, .inc_rank = 3,
                               .inc_words = "name mismatch"},
    [FK_CERT_SELF_SIGNED] = {"cert_self_signed", SEV_WARN, LAYER_TLS, FX_CERT, NOTEV, false,
                             FAIL_NONE, false, false, CE_CERT, .inc_role = IR_OPENS,
                             .inc_cause = IC_TLS_CERTIFICATE, .inc_rank = 5,
                             .inc_words = "self-signed (untrusted)"},
    [FK_CERT_WEAK] = {"cert_weak", SEV_WARN, LAYER_TLS, FX_CERT, NOTEV, false, FAIL_NONE, false,
                      false, CE_CERT, .inc_role = IR_OPENS, .inc_cause = IC_TLS_CERTIFICATE,
                      .inc_rank = 6, .inc_words = "weak"},
    [FK_SLOW_RESPONSE] = {"slow_response", SEV_WARN, LAYER_APPLICATION, FX_SLOW_RESPONSE, NOTEV,
                          false, FAIL_NONE, false, false, CE_NONE, .inc_role = IR_OPENS,
                          .inc_cause = IC_SLOW_RESPONSES},
    [FK_HEALTH_ALERT] = {"health_alert", SEV_ERROR, LAYER_APPLICATION, FX_HEALTH_ALERT, NOTEV,
                         false, FAIL_NONE, false, false, CE_NONE},
    [FK_CAPTURE_LOSS] = {"capture_loss", SEV_INFO, LAYER_CAPTURE, FX_TCP_EVENTS, TEV_CAPTURE_LOSS,
                         false, FAIL_NONE, false, false, CE_NONE, .tcp_extra = FXT_BYTES},
    [FK_ONE_DIRECTION] = {"one_direction", SEV_INFO, LAYER_CAPTURE, FX_ONE_DIRECTION, NOTEV, false,
                          FAIL_NONE, false, false, CE_NONE},
    [FK_MALFORMED] = {"malformed", SEV_INFO, LAYER_CAPTURE, FX_NONE, NOTEV, false, FAIL_NONE, false,
                      false, CE_NONE},
    [FK_CERT_INVALID_DATE] = {"cert_invalid_date", SEV_WARN, LAYER_TLS, FX_CERT, NOTEV, false,
                              FAIL_NONE, false, false, CE_NONE},
    /* warn against the system trust store (the clients' may hold a private CA), error
       against --ca-file (the anchors the operator says the clients use) */
    [FK_CERT_UNTRUSTED] =
        {"cert_untrusted", SEV_WARN, LAYER_TLS, FX_CERT, NOTEV, false, FAIL_NONE, false,
         false, CE_CHAIN, .inc_role = IR_OPENS, .inc_cause = IC_TLS_CERTIFICATE, .inc_rank = 8,
         .inc_words = "issuer not trusted",
         .inc_advice =
             " Here: the certificate is not issued by a CA the clients trust (self-signed, "
             "or a private or unknown CA): use a certificate from a CA in the clients' "
             "trust store, or install the private CA's root on every client."},
    [FK_CERT_CHAIN_INCOMPLETE] =
        {"cert_chain_incomplete", SEV_WARN, LAYER_TLS, FX_CERT, NOTEV, false, FAIL_NONE,
         false, false, CE_CHAIN, .inc_role = IR_OPENS, .inc_cause = IC_TLS_CERTIFICATE,
         .inc_rank = 7, .inc_words = "chain incomplete (intermediate not sent)",
         .inc_advice = " Here: the server does not send the intermediate certificate. Install the "
                       "intermediate certificate in the server's chain (e.g. nginx ssl_certificate "
                       "must hold leaf + intermediates, Apache SSLCertificateFile the same; Java "
                       "keystores the whole chain) and check with `openssl s_client -connect "
                       "HOST:PORT -showcerts`: every certificate but the root must be sent."},
    [FK_HTTP_5XX] = {"http_5xx", SEV_WARN, LAYER_APPLICATION, FX_HTTP, NOTEV, false, FAIL_NONE,
                     false, false, CE_NONE, .inc_role = IR_ATTACHES, .inc_cause = IC_HTTP_ERRORS},
};
_Static_assert(NELEM(fk_infos) == FK__COUNT, "every finding kind has its metadata");

static const struct fk_info fk_unknown = {.name = "?",
                                          .sev = SEV_INFO,
                                          .layer = LAYER_CAPTURE,
                                          .family = FX_NONE,
                                          .tev = NOTEV,
                                          .fail = FAIL_NONE,
                                          .cert_evidence = CE_NONE};

static const char *const sev_names[] = {
    [SEV_INFO] = "info",
    [SEV_WARN] = "warn",
    [SEV_ERROR] = "error",
};

static const char *const tcp_ev_names[] = {
    [TEV_RETRANSMISSION] = "retransmission",
    [TEV_FAST_RETRANSMISSION] = "fast_retransmission",
    [TEV_SPURIOUS_RETRANSMISSION] = "spurious_retransmission",
    [TEV_OUT_OF_ORDER] = "out_of_order",
    [TEV_LOST_SEGMENT] = "lost_segment",
    [TEV_DUP_ACK] = "dup_ack",
    [TEV_ZERO_WINDOW] = "zero_window",
    [TEV_WINDOW_FULL] = "window_full",
    [TEV_KEEP_ALIVE] = "keep_alive",
    [TEV_RESET] = "reset",
    [TEV_CAPTURE_LOSS] = "capture_loss",
    [TEV_MIRROR_DUPLICATE] = "mirror_duplicate",
};
_Static_assert(NELEM(tcp_ev_names) == TEV__COUNT, "every TCP event has a name");

static const char *const close_names[] = {
    [CLOSE_OPEN] = "open",
    [CLOSE_FIN] = "fin",
    [CLOSE_HALF_FIN] = "half_fin",
    [CLOSE_RST_CLIENT] = "rst_client",
    [CLOSE_RST_SERVER] = "rst_server",
    [CLOSE_REFUSED] = "refused",
    [CLOSE_UNANSWERED] = "unanswered",
    [CLOSE_IDLE] = "idle",
    [CLOSE_EVICTED] = "evicted",
    [CLOSE_REUSED] = "reused",
};

static const char *const flow_state_names[] = {
    [FS_SYN_SENT] = "syn_sent",
    [FS_SYN_RECEIVED] = "syn_received",
    [FS_ESTABLISHED] = "established",
    [FS_FIN_WAIT] = "fin_wait",
    [FS_CLOSED] = "closed",
    [FS_MIDSTREAM] = "midstream",
};

static const char *const conn_state_names[] = {
    [CS_OTH] = "OTH",   [CS_S0] = "S0",         [CS_S1] = "S1",       [CS_SF] = "SF",
    [CS_REJ] = "REJ",   [CS_S2] = "S2",         [CS_S3] = "S3",       [CS_RSTO] = "RSTO",
    [CS_RSTR] = "RSTR", [CS_RSTOS0] = "RSTOS0", [CS_RSTRH] = "RSTRH", [CS_SH] = "SH",
    [CS_SHR] = "SHR",
};

static const char *const tls_outcome_names[] = {
    [TLS_IN_PROGRESS] = "in_progress",
    [TLS_COMPLETED] = "completed",
    [TLS_FAILED_ALERT] = "failed_alert",
    [TLS_RESET] = "reset",
    [TLS_CLOSED] = "closed",
    [TLS_NO_SERVER_HELLO] = "no_server_hello",
    [TLS_STALLED] = "stalled",
    [TLS_REJECTED_INFERRED] = "rejected_inferred",
};

/* Entry i of a name table, or "?" when i is out of range or unnamed. */
static const char *name_at(const char *const *tab, size_t n, long i)
{
    if (i < 0 || (size_t)i >= n || !tab[i])
        return "?";
    return tab[i];
}

const struct fk_info *fk_info(enum fkind k)
{
    if ((unsigned)k >= NELEM(fk_infos) || !fk_infos[k].name)
        return &fk_unknown;
    return &fk_infos[k];
}

const char *fk_name(enum fkind k)
{
    return fk_info(k)->name;
}

int fk_from_name(const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < NELEM(fk_infos); i++)
        if (fk_infos[i].name && strcmp(fk_infos[i].name, name) == 0)
            return (int)i;
    return -1;
}

static const char *const layer_names[] = {
    [LAYER_NETWORK] = "network",         [LAYER_TRANSPORT] = "transport", [LAYER_TLS] = "tls",
    [LAYER_APPLICATION] = "application", [LAYER_CAPTURE] = "capture",
};

const char *fk_layer_name(enum fk_layer l)
{
    return name_at(layer_names, NELEM(layer_names), (long)l);
}

static const char *const fail_names[] = {
    [FAIL_NONE] = "none",       [FAIL_REFUSED] = "refused", [FAIL_TIMEOUT] = "timeout",
    [FAIL_BACKLOG] = "backlog", [FAIL_RESET] = "reset",     [FAIL_TLS] = "tls",
};
_Static_assert(NELEM(fail_names) == FAIL__COUNT, "every failure reason has a name");

const char *fail_name(enum fail_reason r)
{
    return name_at(fail_names, NELEM(fail_names), (long)r);
}

static const char *const rst_phase_names[] = {
    [RST_NONE] = "none", [RST_ANSWER_TO_SYN] = "answer_to_syn", [RST_HANDSHAKE] = "handshake",
    [RST_MID] = "mid",   [RST_AFTER_FIN] = "after_fin",
};

const char *rst_phase_name(enum rst_phase p)
{
    if ((unsigned)p >= NELEM(rst_phase_names))
        return "none";
    return rst_phase_names[p];
}

const char *dir_side_name(int dir)
{
    return dir == DIR_C2S ? "client" : "server";
}

static const char *const estab_reason_names[] = {
    [ER_REFUSED] = "refused",           [ER_TIMEOUT] = "timeout",         [ER_BACKLOG] = "backlog",
    [ER_ACCEPT_QUEUE] = "accept_queue", [ER_UNREACHABLE] = "unreachable", [ER_SLOW] = "slow",
    [ER_SYN_RETRY] = "syn_retry",
};

const char *estab_reason_name(enum estab_reason r)
{
    return name_at(estab_reason_names, NELEM(estab_reason_names), (long)r);
}

static const char *const estab_outcome_names[] = {
    [EO_NONE] = "none",   [EO_DELAYED] = "delayed", [EO_TIMEOUT] = "timeout",
    [EO_RESET] = "reset", [EO_FAILED] = "failed",
};

const char *estab_outcome_name(enum estab_outcome o)
{
    return name_at(estab_outcome_names, NELEM(estab_outcome_names), (long)o);
}

const char *sev_name(enum severity s)
{
    return name_at(sev_names, NELEM(sev_names), (long)s);
}

const char *tcp_ev_name(enum tcp_ev e)
{
    return name_at(tcp_ev_names, NELEM(tcp_ev_names), (long)e);
}

const char *close_name(enum flow_close c)
{
    return name_at(close_names, NELEM(close_names), (long)c);
}

const char *flow_state_name(enum flow_state s)
{
    return name_at(flow_state_names, NELEM(flow_state_names), (long)s);
}

const char *conn_state_name(enum conn_state s)
{
    return name_at(conn_state_names, NELEM(conn_state_names), (long)s);
}

const char *tls_outcome_name(enum tls_outcome o)
{
    return name_at(tls_outcome_names, NELEM(tls_outcome_names), (long)o);
}

/* Alert descriptions (RFC 8446 6, RFC 5246 7.2). */
static const struct {
    int code;         /* description code */
    const char *name; /* its name */
} alert_names[] = {
    {TLS_AD_CLOSE_NOTIFY, "close_notify"},
    {TLS_AD_UNEXPECTED_MESSAGE, "unexpected_message"},
    {TLS_AD_BAD_RECORD_MAC, "bad_record_mac"},
    {TLS_AD_DECRYPTION_FAILED, "decryption_failed"},
    {TLS_AD_RECORD_OVERFLOW, "record_overflow"},
    {TLS_AD_DECOMPRESSION_FAILURE, "decompression_failure"},
    {TLS_AD_HANDSHAKE_FAILURE, "handshake_failure"},
    {TLS_AD_NO_CERTIFICATE, "no_certificate"},
    {TLS_AD_BAD_CERTIFICATE, "bad_certificate"},
    {TLS_AD_UNSUPPORTED_CERTIFICATE, "unsupported_certificate"},
    {TLS_AD_CERTIFICATE_REVOKED, "certificate_revoked"},
    {TLS_AD_CERTIFICATE_EXPIRED, "certificate_expired"},
    {TLS_AD_CERTIFICATE_UNKNOWN, "certificate_unknown"},
    {TLS_AD_ILLEGAL_PARAMETER, "illegal_parameter"},
    {TLS_AD_UNKNOWN_CA, "unknown_ca"},
    {TLS_AD_ACCESS_DENIED, "access_denied"},
    {TLS_AD_DECODE_ERROR, "decode_error"},
    {TLS_AD_DECRYPT_ERROR, "decrypt_error"},
    {TLS_AD_EXPORT_RESTRICTION, "export_restriction"},
    {TLS_AD_PROTOCOL_VERSION, "protocol_version"},
    {TLS_AD_INSUFFICIENT_SECURITY, "insufficient_security"},
    {TLS_AD_INTERNAL_ERROR, "internal_error"},
    {TLS_AD_INAPPROPRIATE_FALLBACK, "inappropriate_fallback"},
    {TLS_AD_USER_CANCELED, "user_canceled"},
    {TLS_AD_NO_RENEGOTIATION, "no_renegotiation"},
    {TLS_AD_MISSING_EXTENSION, "missing_extension"},
    {TLS_AD_UNSUPPORTED_EXTENSION, "unsupported_extension"},
    {TLS_AD_CERTIFICATE_UNOBTAINABLE, "certificate_unobtainable"},
    {TLS_AD_UNRECOGNIZED_NAME, "unrecognized_name"},
    {TLS_AD_BAD_CERTIFICATE_STATUS_RESPONSE, "bad_certificate_status_response"},
    {TLS_AD_BAD_CERTIFICATE_HASH_VALUE, "bad_certificate_hash_value"},
    {TLS_AD_UNKNOWN_PSK_IDENTITY, "unknown_psk_identity"},
    {TLS_AD_CERTIFICATE_REQUIRED, "certificate_required"},
    {TLS_AD_NO_APPLICATION_PROTOCOL, "no_application_protocol"},
};

const char *tls_alert_name(int desc)
{
    for (size_t i = 0; i < sizeof(alert_names) / sizeof(alert_names[0]); i++) {
        if (alert_names[i].code == desc)
            return alert_names[i].name;
    }
    return "unknown";
}

const char *tls_version_name(uint16_t v, char *buf, size_t bufsz)
{
    switch (v) {
    case 0x0300:
        return "SSL 3.0";
    case 0x0301:
        return "TLS 1.0";
    case 0x0302:
        return "TLS 1.1";
    case 0x0303:
        return "TLS 1.2";
    case 0x0304:
        return "TLS 1.3";
    default:
        break;
    }
    if ((v >> 8) == 0x7f)
        snprintf(buf, bufsz, "TLS 1.3 (draft %u)", v & 0xff);
    else
        snprintf(buf, bufsz, "0x%04x", v);
    return buf;
}

const char *http_state_name(enum http_state s)
{
    static const char *const names[] = {
        [HS_COMPLETE] = "complete",
        [HS_NO_RESPONSE] = "no_response",
        [HS_REQUEST_INCOMPLETE] = "request_incomplete",
        [HS_RESPONSE_INCOMPLETE] = "response_incomplete",
        [HS_GAP] = "gap",
        [HS_NOT_HTTP] = "not_http",
        [HS_PIPELINE_OVERFLOW] = "pipeline_overflow",
        [HS_RECLAIMED] = "reclaimed",
    };
    return (unsigned)s < NELEM(names) ? names[s] : "?";
}

const char *out_type_name(enum out_type t)
{
    static const char *const names[OUT__COUNT] = {
        [OUT_FINDING] = "finding",   [OUT_FLOW] = "flow", [OUT_HEALTH] = "health",
        [OUT_TLS] = "tls",           [OUT_CERT] = "cert", [OUT_SUMMARY] = "summary",
        [OUT_INCIDENT] = "incident", [OUT_HTTP] = "http",
    };
    return (unsigned)t < OUT__COUNT ? names[t] : "?";
}

size_t out_rec_size(enum out_type t)
{
    static const size_t member[OUT__COUNT] = {
        [OUT_FINDING] = sizeof(struct finding),          [OUT_FLOW] = sizeof(struct flow_record),
        [OUT_HEALTH] = sizeof(struct health_row),        [OUT_TLS] = sizeof(struct tls_record),
        [OUT_CERT] = sizeof(struct cert_record),         [OUT_SUMMARY] = sizeof(struct run_summary),
        [OUT_INCIDENT] = sizeof(struct incident_record), [OUT_HTTP] = sizeof(struct http_record),
    };
    return offsetof(struct out_rec, u) + ((unsigned)t < OUT__COUNT ? member[t] : 0);
}

void out_rec_set(struct out_rec *r, enum out_type t, const void *p)
{
    r->type = t;
    memcpy(&r->u, p, out_rec_size(t) - offsetof(struct out_rec, u));
}

void fx_fmt(char *out, size_t outsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, outsz, fmt, ap);
    va_end(ap);
    if (n < 0 && outsz)
        out[0] = '\0';
}
