/*
 * finding_json.c - the one encoder of a finding's typed, kind-specific fields as JSON object
 * members. The JSON lines sink, the SQLite sink (findings.extra) and the live view all print
 * these members through it, so the output contract has one definition. Also the one
 * generator of the wireshark_filter that findings carry (derived, never stored).
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "analyzers/finding.h"
#include "capture/decode.h"
#include "capture/text.h"

/* An append cursor over a caller's buffer; overflow is sticky. */
struct jbuf {
    char *p;       /* the buffer */
    size_t n;      /* its size */
    size_t used;   /* bytes written, NUL excluded */
    bool overflow; /* something did not fit */
};

static void jb_put(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void jb_put(struct jbuf *b, const char *fmt, ...)
{
    if (b->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->p + b->used, b->n - b->used, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= b->n - b->used) {
        b->overflow = true;
        return;
    }
    b->used += (size_t)w;
}

/*
 * s as the inside of a JSON string into out[outsz]: quote and backslash escaped, valid UTF-8
 * kept, C0, DEL, C1 and bidi controls as \uHHHH (capture/text.h), bytes that are not UTF-8 as
 * \ufffd; cut (never inside an escape or a character) when out is full.
 */
static void json_esc(char *out, size_t outsz, const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s), o = 0;
    for (size_t i = 0; i < n;) {
        char e[8];
        uint32_t cp = 0;
        size_t k = text_utf8_next(p + i, n - i, &cp);
        const char *piece = s + i;
        size_t plen = k;
        if (k == 0) {
            piece = "\\ufffd", plen = 6, k = 1;
        } else if (cp == '"' || cp == '\\') {
            e[0] = '\\', e[1] = (char)cp;
            piece = e, plen = 2;
        } else if (text_is_unsafe(cp)) {
            snprintf(e, sizeof(e), "\\u%04x", (unsigned)cp & 0xffffu);
            piece = e, plen = 6;
        }
        if (plen >= outsz - o)
            break;
        memcpy(out + o, piece, plen);
        o += plen;
        i += k;
    }
    out[o] = '\0';
}

static const char *jbool(bool v)
{
    return v ? "true" : "false";
}

/* A number as "%.6g", or null when it is not finite. */
static void jnum(char *buf, size_t len, double v)
{
    if (isnan(v) || isinf(v))
        snprintf(buf, len, "null");
    else
        snprintf(buf, len, "%.6g", v);
}

static double secs(uint64_t ns)
{
    return (double)ns / 1e9;
}

static void put_reset(struct jbuf *b, const struct fx_reset *x)
{
    jb_put(b, "\"from\":\"%s\",\"phase\":\"%s\",\"ttl\":%u,\"ttl_expected\":%d,\"ttl_mismatch\":%s",
           dir_side_name(x->from), rst_phase_name(x->phase), x->ttl, x->ttl_expected,
           jbool(x->ttl_mismatch));
}

static void put_tcp(struct jbuf *b, enum fkind k, const struct fx_tcp_events *x)
{
    jb_put(b, "\"c2s\":%u,\"s2c\":%u,\"data_segs\":{\"c2s\":%" PRIu64 ",\"s2c\":%" PRIu64 "}",
           x->count[DIR_C2S], x->count[DIR_S2C], x->data_segs[DIR_C2S], x->data_segs[DIR_S2C]);
    if (x->interim)
        jb_put(b, ",\"interim\":true");
    enum fx_tcp_extra extra = fk_info(k)->tcp_extra;
    if (extra == FXT_LOSS_SPLIT)
        jb_put(b,
               ",\"lost_upstream\":%" PRIu64 ",\"lost_downstream\":%" PRIu64
               ",\"dsack_unneeded\":%" PRIu64,
               x->lost_upstream, x->lost_downstream, x->dsack_unneeded);
    if (extra == FXT_ZERO_WINDOW_S)
        jb_put(b, ",\"zero_window_s\":{\"c2s\":%.6f,\"s2c\":%.6f}", secs(x->zero_window_ns[0]),
               secs(x->zero_window_ns[1]));
    if (extra == FXT_BYTES)
        jb_put(b, ",\"bytes\":%" PRIu64, x->capture_loss_bytes);
}

/* The SYN gaps as a JSON array of seconds, "[0.999,2.001]". */
static void gaps_json(const struct fx_estab *x, char *gaps, size_t gn)
{
    size_t gat = 0;
    int w = snprintf(gaps, gn, "[");
    gat = w > 0 ? (size_t)w : 0;
    for (unsigned i = 0; i < x->ngaps && i < FX_GAPS_MAX && gat < gn; i++) {
        w = snprintf(gaps + gat, gn - gat, "%s%.3f", i ? "," : "", secs(x->gap_ns[i]));
        gat += w > 0 ? (size_t)w : 0;
    }
    if (gat < gn)
        snprintf(gaps + gat, gn - gat, "]");
}

static void put_estab(struct jbuf *b, const struct fx_estab *x)
{
    char gaps[96], sv[24];
    const char *reason = estab_reason_name(x->reason);
    switch (x->reason) {
    case ER_REFUSED:
        jb_put(b, "\"reason\":\"%s\",\"syns\":%u,\"ttl_mismatch\":%s", reason, x->syns,
               jbool(x->ttl_mismatch));
        break;
    case ER_TIMEOUT:
        gaps_json(x, gaps, sizeof(gaps));
        jb_put(b, "\"reason\":\"%s\",\"syns\":%u,\"gaps\":%s,\"answered_others\":%u", reason,
               x->syns, gaps, x->answered_others);
        break;
    case ER_BACKLOG:
        gaps_json(x, gaps, sizeof(gaps));
        jb_put(b,
               "\"reason\":\"%s\",\"outcome\":\"%s\",\"syns\":%u,\"gaps\":%s,"
               "\"answered_others\":%u,\"dropped_in_window\":%u,\"attempts_in_window\":%u",
               reason, estab_outcome_name(x->outcome), x->syns, gaps, x->answered_others,
               x->dropped_in_window, x->attempts_in_window);
        break;
    case ER_UNREACHABLE:
        jb_put(b, "\"reason\":\"%s\",\"attempts\":%u,\"syns\":%u,\"clients\":%u,\"duration\":%.3f",
               reason, x->attempts, x->syns, x->clients, secs(x->duration_ns));
        break;
    case ER_ACCEPT_QUEUE:
        jb_put(b,
               "\"reason\":\"%s\",\"abort_on_overflow\":%s,\"synack_retries\":%u,"
               "\"data_retransmissions\":%u",
               reason, jbool(x->abort_on_overflow), x->synack_retries, x->data_retransmissions);
        if (!x->abort_on_overflow)
            jb_put(b, ",\"outcome\":\"%s\",\"stall\":%.3f", estab_outcome_name(x->outcome),
                   secs(x->stall_ns));
        break;
    case ER_SLOW:
    case ER_SYN_RETRY:
        if (x->server_side_ns >= 0)
            snprintf(sv, sizeof(sv), "%.6f", secs((uint64_t)x->server_side_ns));
        else
            snprintf(sv, sizeof(sv), "null");
        jb_put(b, "\"reason\":\"%s\",\"server_side\":%s,\"client_side\":%.6f,\"syns\":%u", reason,
               sv, secs(x->client_side_ns), x->syns);
        break;
    }
}

static void put_tls_hs(struct jbuf *b, const struct fx_tls_handshake *x)
{
    char sni[FX_SNI_MAX], vb[32];
    json_esc(sni, sizeof(sni), x->sni);
    jb_put(b,
           "\"outcome\":\"%s\",\"inferred\":%s,\"version\":\"%s\",\"sni\":\"%s\","
           "\"alert\":\"%s\",\"alert_code\":%d,\"alert_from\":\"%s\"",
           tls_outcome_name(x->outcome), jbool(x->inferred),
           x->version ? tls_version_name(x->version, vb, sizeof(vb)) : "", sni,
           x->alert_desc >= 0 ? tls_alert_name(x->alert_desc) : "", x->alert_desc,
           x->alert_from >= 0 ? dir_side_name(x->alert_from) : "");
}

static void put_tls_alert(struct jbuf *b, const struct fx_tls_alert *x)
{
    char sni[FX_SNI_MAX];
    json_esc(sni, sizeof(sni), x->sni);
    jb_put(b,
           "\"alert\":\"%s\",\"alert_code\":%d,\"level\":\"%s\",\"from\":\"%s\","
           "\"during_handshake\":%s,\"sni\":\"%s\"",
           tls_alert_name(x->desc), x->desc, x->level == TLS_ALERT_FATAL ? "fatal" : "warning",
           dir_side_name(x->from), jbool(x->during_handshake), sni);
}

static void put_cert(struct jbuf *b, enum fkind k, const struct fx_cert *x)
{
    char esc[FX_SUBJECT_MAX];
    json_esc(esc, sizeof(esc), x->subject);
    if (isnan(x->days_left)) /* notAfter is not a date (cert_invalid_date) */
        jb_put(b,
               "\"sha256\":\"%.64s\",\"chain_pos\":%d,\"days_left\":null,\"not_after\":null,"
               "\"subject\":\"%s\"",
               x->sha256, x->chain_pos, esc);
    else
        jb_put(b,
               "\"sha256\":\"%.64s\",\"chain_pos\":%d,\"days_left\":%.2f,\"not_after\":%lld,"
               "\"subject\":\"%s\"",
               x->sha256, x->chain_pos, x->days_left, (long long)x->not_after, esc);
    if (fk_info(k)->cert_evidence != CE_CHAIN)
        return;
    /* the chain verdict: OpenSSL's code and text, what was sent, and against which anchors */
    char iss[FX_SUBJECT_MAX], why[FX_REASON_MAX];
    json_esc(iss, sizeof(iss), x->issuer);
    json_esc(why, sizeof(why), x->reason);
    jb_put(b,
           ",\"issuer\":\"%s\",\"verify_code\":%d,\"verify_status\":\"%s\",\"chain_sent\":%u,"
           "\"trust\":\"%s\"",
           iss, x->verify_code, why, x->chain_sent, x->ca_file ? "ca_file" : "system");
}

static void put_slow(struct jbuf *b, const struct fx_slow_response *x)
{
    char rs[32], thr[32], waited[32];
    jnum(thr, sizeof(thr), x->threshold_s);
    if (x->response_s >= 0) {
        jnum(rs, sizeof(rs), x->response_s);
        jb_put(b, "\"protocol\":\"%.7s\",\"response_time\":%s,\"threshold\":%s", x->protocol, rs,
               thr);
        if (x->status > 0)
            jb_put(b, ",\"status\":%d", x->status);
    } else {
        jnum(waited, sizeof(waited), x->waited_s);
        jb_put(b, "\"protocol\":\"%.7s\",\"response_time\":null,\"waited\":%s,\"threshold\":%s",
               x->protocol, waited, thr);
    }
}

static void put_alert(struct jbuf *b, const struct fx_health_alert *x)
{
    char val[32], thr[32];
    jnum(val, sizeof(val), x->value);
    jnum(thr, sizeof(thr), x->threshold);
    jb_put(b, "\"rule\":\"%s\",\"state\":\"%s\",\"value\":%s,\"threshold\":%s",
           alert_rule_name(x->rule), x->open ? "open" : "closed", val, thr);
}

static void put_http(struct jbuf *b, const struct fx_http *x)
{
    /* escaped copies are cut to these sizes, so the members always fit FINDING_JSON_MAX */
    char method[24], host[96], path[200], rs[32];
    char m[FX_METHOD_MAX], h[FX_HOST_MAX], p[FX_PATH_MAX];
    fx_copy(m, sizeof(m), x->method); /* the copies may lack their NUL: terminate them */
    fx_copy(h, sizeof(h), x->host);
    fx_copy(p, sizeof(p), x->path);
    json_esc(method, sizeof(method), m);
    json_esc(host, sizeof(host), h);
    json_esc(path, sizeof(path), p);
    jnum(rs, sizeof(rs), x->response_s);
    jb_put(b,
           "\"method\":\"%s\",\"host\":\"%s\",\"path\":\"%s\",\"status\":%u,\"response_time\":%s,"
           "\"trans_depth\":%u",
           method, host, path, (unsigned)x->status, rs, (unsigned)x->trans_depth);
}

size_t finding_json_members(const struct finding *f, char *buf, size_t bufsz)
{
    if (bufsz == 0)
        return 0;
    struct jbuf b = {.p = buf, .n = bufsz};
    buf[0] = '\0';
    switch (fk_info(f->kind)->family) {
    case FX_NONE:
        break;
    case FX_RESET:
        put_reset(&b, &f->fx.reset);
        break;
    case FX_TCP_EVENTS:
        put_tcp(&b, f->kind, &f->fx.tcp);
        break;
    case FX_ONE_DIRECTION:
        jb_put(&b, "\"seen\":\"%s\",\"packets\":%" PRIu64,
               f->fx.one_dir.seen == DIR_C2S ? "c2s" : "s2c", f->fx.one_dir.packets);
        break;
    case FX_ESTAB:
        put_estab(&b, &f->fx.estab);
        break;
    case FX_TLS_HANDSHAKE:
        put_tls_hs(&b, &f->fx.tls_hs);
        break;
    case FX_TLS_ALERT:
        put_tls_alert(&b, &f->fx.tls_alert);
        break;
    case FX_CERT:
        put_cert(&b, f->kind, &f->fx.cert);
        break;
    case FX_SLOW_RESPONSE:
        put_slow(&b, &f->fx.slow);
        break;
    case FX_HEALTH_ALERT:
        put_alert(&b, &f->fx.alert);
        break;
    case FX_HTTP:
        put_http(&b, &f->fx.http);
        break;
    }
    if (b.overflow) {
        buf[0] = '\0'; /* a cut member list would be invalid JSON: drop it whole */
        return 0;
    }
    return b.used;
}

double fx_confidence(float c)
{
    return round((double)c * 100.0) / 100.0;
}

size_t incident_requests_json(const struct incident_record *r, char *buf, size_t bufsz)
{
    if (bufsz == 0)
        return 0;
    struct jbuf b = {.p = buf, .n = bufsz};
    buf[0] = '\0';
    if (r->nrequests == 0)
        return 0;
    jb_put(&b, "\"requests\":[");
    for (unsigned i = 0; i < r->nrequests && i < INC_REQUESTS_MAX; i++) {
        const struct inc_request *q = &r->requests[i];
        char m[FX_METHOD_MAX], p[INC_REQ_PATH_MAX], method[24], path[200];
        fx_copy(m, sizeof(m), q->method);
        fx_copy(p, sizeof(p), q->path);
        json_esc(method, sizeof(method), m);
        json_esc(path, sizeof(path), p);
        jb_put(&b,
               "%s{\"flow_id\":%" PRIu64 ",\"frame\":%" PRIu64
               ",\"status\":%u,\"method\":\"%s\",\"path\":\"%s\"}",
               i ? "," : "", q->flow_id, q->frame, (unsigned)q->status, method, path);
    }
    jb_put(&b, "]");
    if (b.overflow) {
        buf[0] = '\0';
        return 0;
    }
    return b.used;
}

double fx_days_left(int64_t not_after_s, int64_t now_s)
{
    int64_t left = not_after_s - now_s;
    uint64_t a = left < 0 ? 0 - (uint64_t)left : (uint64_t)left;
    uint64_t q = a / 864, r = a % 864; /* hundredths of a day: 864 s each */
    if (r > 432) {
        q++;
    } else if (r == 432) {
        /* a tie in exact arithmetic: "%.2f" rounds the double a / 86400.0, which lies above
           or below the tie (or on it: then to even, as printf does) */
        double d = (double)a / 86400.0;
        double err = fma(d, 86400.0, -(double)a);
        if (err > 0 || (err == 0 && (q & 1)))
            q++;
    }
    double days = (double)q / 100.0;
    return left < 0 ? -days : days;
}

void fx_copy(char *dst, size_t n, const char *src)
{
    if (n == 0)
        return;
    size_t len = src ? strnlen(src, n - 1) : 0;
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Append text to buf at *used; false (and *used = len) when it does not fit. */
static bool ws_put(char *buf, size_t len, size_t *used, const char *text)
{
    size_t n = strlen(text);
    if (*used >= len || n >= len - *used) {
        *used = len;
        return false;
    }
    memcpy(buf + *used, text, n + 1);
    *used += n;
    return true;
}

/* " && "-joined clauses of endpoint e: its address, and its port unless 0. */
static void ws_endpoint(const struct endpoint *e, char *buf, size_t len, size_t *used)
{
    char ip[64], clause[96];
    pkt_addr_str(&e->ip, ip, sizeof(ip));
    snprintf(clause, sizeof(clause), "%s%s.addr==%s", *used ? " && " : "",
             e->ip.family == 6 ? "ipv6" : "ip", ip);
    ws_put(buf, len, used, clause);
    if (e->port) {
        snprintf(clause, sizeof(clause), " && tcp.port==%u", (unsigned)e->port);
        ws_put(buf, len, used, clause);
    }
}

size_t wireshark_filter(const struct endpoint *client, const struct endpoint *server, char *buf,
                        size_t len)
{
    if (!buf || !len)
        return 0;
    buf[0] = '\0';
    size_t used = 0;
    if (client)
        ws_endpoint(client, buf, len, &used);
    ws_endpoint(server, buf, len, &used);
    if (!server->port && (!client || !client->port))
        ws_put(buf, len, &used, " && tcp"); /* no port given: every TCP frame of the hosts */
    if (used >= len) {
        buf[0] = '\0';
        return 0;
    }
    return used;
}

size_t finding_wireshark_filter(const struct finding *f, char *buf, size_t len)
{
    return wireshark_filter(f->has_client ? &f->client : NULL, &f->server, buf, len);
}
