/* finding.c - the stable names of finding kinds, severities, TCP events, states and outcomes. */
#include "analyzers/finding.h"

#include <stdio.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Indexed by enum fkind; the output contract: append, never rename. */
static const char *const fk_names[] = {
    [FK_RETRANSMISSION] = "retransmission",
    [FK_FAST_RETRANSMISSION] = "fast_retransmission",
    [FK_SPURIOUS_RETRANSMISSION] = "spurious_retransmission",
    [FK_OUT_OF_ORDER] = "out_of_order",
    [FK_LOST_SEGMENT] = "lost_segment",
    [FK_DUP_ACK] = "dup_ack",
    [FK_ZERO_WINDOW] = "zero_window",
    [FK_WINDOW_FULL] = "window_full",
    [FK_KEEP_ALIVE] = "keep_alive",
    [FK_RESET] = "reset",
    [FK_CONN_REFUSED] = "conn_refused",
    [FK_SYN_UNANSWERED] = "syn_unanswered",
    [FK_SYN_BACKLOG_DROP] = "syn_backlog_drop",
    [FK_ACCEPT_QUEUE_OVERFLOW] = "accept_queue_overflow",
    [FK_SERVER_UNREACHABLE] = "server_unreachable",
    [FK_SLOW_HANDSHAKE] = "slow_handshake",
    [FK_TLS_ALERT] = "tls_alert",
    [FK_TLS_HANDSHAKE_FAILED] = "tls_handshake_failed",
    [FK_CERT_EXPIRED] = "cert_expired",
    [FK_CERT_NOT_YET_VALID] = "cert_not_yet_valid",
    [FK_CERT_EXPIRING] = "cert_expiring",
    [FK_CERT_NAME_MISMATCH] = "cert_name_mismatch",
    [FK_CERT_SELF_SIGNED] = "cert_self_signed",
    [FK_CERT_WEAK] = "cert_weak",
    [FK_SLOW_RESPONSE] = "slow_response",
    [FK_HEALTH_ALERT] = "health_alert",
    [FK_CAPTURE_LOSS] = "capture_loss",
    [FK_ONE_DIRECTION] = "one_direction",
    [FK_MALFORMED] = "malformed",
};
_Static_assert(NELEM(fk_names) == FK__COUNT, "every finding kind has a name");

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

const char *fk_name(enum fkind k)
{
    return name_at(fk_names, NELEM(fk_names), (long)k);
}

int fk_from_name(const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < NELEM(fk_names); i++)
        if (fk_names[i] && strcmp(fk_names[i], name) == 0)
            return (int)i;
    return -1;
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

const char *tls_outcome_name(enum tls_outcome o)
{
    return name_at(tls_outcome_names, NELEM(tls_outcome_names), (long)o);
}

/* Alert descriptions (RFC 8446 6, RFC 5246 7.2). */
static const struct {
    int code;         /* description code */
    const char *name; /* its name */
} alert_names[] = {
    {0, "close_notify"},
    {10, "unexpected_message"},
    {20, "bad_record_mac"},
    {21, "decryption_failed"},
    {22, "record_overflow"},
    {30, "decompression_failure"},
    {40, "handshake_failure"},
    {41, "no_certificate"},
    {42, "bad_certificate"},
    {43, "unsupported_certificate"},
    {44, "certificate_revoked"},
    {45, "certificate_expired"},
    {46, "certificate_unknown"},
    {47, "illegal_parameter"},
    {48, "unknown_ca"},
    {49, "access_denied"},
    {50, "decode_error"},
    {51, "decrypt_error"},
    {60, "export_restriction"},
    {70, "protocol_version"},
    {71, "insufficient_security"},
    {80, "internal_error"},
    {86, "inappropriate_fallback"},
    {90, "user_canceled"},
    {100, "no_renegotiation"},
    {109, "missing_extension"},
    {110, "unsupported_extension"},
    {111, "certificate_unobtainable"},
    {112, "unrecognized_name"},
    {113, "bad_certificate_status_response"},
    {114, "bad_certificate_hash_value"},
    {115, "unknown_psk_identity"},
    {116, "certificate_required"},
    {120, "no_application_protocol"},
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
