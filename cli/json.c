/* json.c - JSON lines on stdout: the stable output contract of DESIGN.md, one object a line. */
#include "cli/json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "capture/decode.h"
#include "capture/err.h"
#include "capture/text.h"

/* The JSON sink's state: only the stream. */
struct json_sink {
    FILE *out;    /* where lines go */
    int write_errno; /* errno of the first failed flush (the stream's error flag is sticky) */
};

void json_put_str(FILE *out, const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s);
    putc('"', out);
    for (size_t i = 0; i < n;) {
        uint32_t cp = 0;
        size_t k = text_utf8_next(p + i, n - i, &cp);
        if (k == 0) {
            fputs("\\ufffd", out); /* not UTF-8: the replacement character (RFC 8259 8.1) */
            i++;
            continue;
        }
        if (cp == '"')
            fputs("\\\"", out);
        else if (cp == '\\')
            fputs("\\\\", out);
        else if (cp == '\n')
            fputs("\\n", out);
        else if (cp == '\r')
            fputs("\\r", out);
        else if (cp == '\t')
            fputs("\\t", out);
        else if (text_is_unsafe(cp)) /* C0, DEL, C1, bidi: escaped, so a terminal is safe too */
            fprintf(out, "\\u%04x", (unsigned)cp);
        else
            fwrite(p + i, 1, k, out);
        i += k;
    }
    putc('"', out);
}

/* Seconds since the epoch with nanoseconds, as a JSON number. */
static void put_ts(FILE *out, uint64_t ns)
{
    fprintf(out, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);
}

static void put_ep(FILE *out, const struct endpoint *e)
{
    char buf[64];
    json_put_str(out, pkt_endpoint_str(e, buf, sizeof(buf)));
}

/* A duration in ns as seconds, or null when negative (unknown). */
static void put_dur(FILE *out, int64_t ns)
{
    if (ns < 0)
        fputs("null", out);
    else
        fprintf(out, "%.9f", (double)ns / 1e9);
}

/* A double, or null when it is NaN (no sample). */
static void put_num(FILE *out, double v)
{
    if (isnan(v) || isinf(v))
        fputs("null", out);
    else
        fprintf(out, "%.6g", v);
}

static void pair(FILE *out, const char *name, uint64_t c2s, uint64_t s2c)
{
    fprintf(out, ",\"%s\":{\"c2s\":%" PRIu64 ",\"s2c\":%" PRIu64 "}", name, c2s, s2c);
}

static void put_flow(FILE *out, const struct flow_record *r)
{
    fprintf(out, "{\"type\":\"flow\",\"flow_id\":%" PRIu64 ",\"client\":", r->flow_id);
    put_ep(out, &r->client);
    fputs(",\"server\":", out);
    put_ep(out, &r->server);
    fputs(",\"first_ts\":", out);
    put_ts(out, r->first_ts_ns);
    fputs(",\"last_ts\":", out);
    put_ts(out, r->last_ts_ns);
    fprintf(out, ",\"first_frame\":%" PRIu64 ",\"state\":\"%s\",\"close\":\"%s\"", r->first_frame,
            flow_state_name(r->state), close_name(r->close));
    fprintf(out, ",\"conn_state\":\"%s\",\"history\":", conn_state_name(r->conn_state));
    json_put_str(out, r->history);
    fprintf(out, ",\"handshake_seen\":%s,\"one_direction\":%s", r->saw_syn ? "true" : "false",
            r->one_direction ? "true" : "false");
    pair(out, "packets", r->packets[DIR_C2S], r->packets[DIR_S2C]);
    pair(out, "bytes", r->bytes[DIR_C2S], r->bytes[DIR_S2C]);
    for (int e = 0; e < TEV__COUNT; e++)
        pair(out, tcp_ev_name((enum tcp_ev)e), r->ev[DIR_C2S][e], r->ev[DIR_S2C][e]);
    fputs(",\"hs_rtt_server\":", out);
    put_dur(out, r->hs_rtt_server_ns);
    fputs(",\"hs_rtt_client\":", out);
    put_dur(out, r->hs_rtt_client_ns);
    fprintf(out, ",\"syn_count\":%u,\"synack_count\":%u}\n", r->syn_count, r->synack_count);
}

static void put_finding(FILE *out, const struct finding *f)
{
    fputs("{\"type\":\"finding\",\"ts\":", out);
    put_ts(out, f->ts_ns);
    fprintf(out, ",\"kind\":\"%s\",\"severity\":\"%s\",\"flow_id\":%" PRIu64 ",\"client\":",
            fk_name(f->kind), sev_name(f->sev), f->flow_id);
    if (f->has_client)
        put_ep(out, &f->client);
    else
        fputs("null", out);
    fputs(",\"server\":", out);
    put_ep(out, &f->server);
    fputs(",\"detail\":", out);
    json_put_str(out, f->detail);
    fputs(",\"frames\":[", out);
    for (unsigned i = 0; i < f->nframes && i < FINDING_FRAMES_MAX; i++)
        fprintf(out, "%s%" PRIu64, i ? "," : "", f->frames[i]);
    fprintf(out, "],\"confidence\":%.2f", fx_confidence(f->confidence));
    char wf[WIRESHARK_FILTER_MAX];
    if (finding_wireshark_filter(f, wf, sizeof(wf))) {
        fputs(",\"wireshark_filter\":", out);
        json_put_str(out, wf);
    }
    char members[FINDING_JSON_MAX];
    if (finding_json_members(f, members, sizeof(members)))
        fprintf(out, ",%s", members);
    fputs("}\n", out);
}

static void put_health(FILE *out, const struct health_row *h)
{
    fputs("{\"type\":\"health\",\"server\":", out);
    put_ep(out, &h->server);
    fputs(",\"start\":", out);
    put_ts(out, h->start_ns);
    fprintf(out, ",\"interval\":%.3f", (double)h->len_ns / 1e9);
    fprintf(out,
            ",\"attempts\":%" PRIu64 ",\"established\":%" PRIu64 ",\"failed\":{\"refused\":%" PRIu64
            ",\"timeout\":%" PRIu64 ",\"backlog\":%" PRIu64 ",\"reset\":%" PRIu64
            ",\"tls\":%" PRIu64 "}",
            h->attempts, h->established, h->failed_refused, h->failed_timeout, h->failed_backlog,
            h->failed_reset, h->failed_tls);
    fprintf(out,
            ",\"syn_retries\":%" PRIu64 ",\"synack_retries\":%" PRIu64 ",\"resets\":%" PRIu64
            ",\"zero_windows\":%" PRIu64,
            h->syn_retries, h->synack_retries, h->resets, h->zero_windows);
    pair(out, "data_segments", h->data_segs[DIR_C2S], h->data_segs[DIR_S2C]);
    pair(out, "retransmitted_segments", h->retrans_segs[DIR_C2S], h->retrans_segs[DIR_S2C]);
    pair(out, "bytes", h->bytes[DIR_C2S], h->bytes[DIR_S2C]);
    fprintf(out,
            ",\"http_requests\":%" PRIu64 ",\"http_5xx\":%" PRIu64 ",\"slow_responses\":%" PRIu64,
            h->http_requests, h->http_5xx, h->slow_responses);
    fprintf(out, ",\"handshake_rtt\":{\"n\":%u,\"p50\":", h->hs_rtt_n);
    put_num(out, h->hs_rtt_p50);
    fputs(",\"p95\":", out);
    put_num(out, h->hs_rtt_p95);
    fputs(",\"p99\":", out);
    put_num(out, h->hs_rtt_p99);
    fprintf(out, "},\"response_time\":{\"n\":%u,\"p50\":", h->resp_n);
    put_num(out, h->resp_p50);
    fputs(",\"p95\":", out);
    put_num(out, h->resp_p95);
    fputs(",\"p99\":", out);
    put_num(out, h->resp_p99);
    fputs("},\"error_rate\":", out);
    put_num(out, h->error_rate);
    fputs(",\"retrans_rate\":", out);
    put_num(out, h->retrans_rate);
    fprintf(out, ",\"open_alerts\":%u}\n", h->open_alerts);
}

static void put_tls(FILE *out, const struct tls_record *t)
{
    fprintf(out, "{\"type\":\"tls\",\"flow_id\":%" PRIu64 ",\"client\":", t->flow_id);
    put_ep(out, &t->client);
    fputs(",\"server\":", out);
    put_ep(out, &t->server);
    fputs(",\"ts\":", out);
    put_ts(out, t->ts_ns);
    fprintf(out, ",\"client_version\":%u,\"version\":%u,\"cipher\":%u,\"cipher_name\":",
            t->client_version, t->version, t->cipher);
    char csb[8];
    if (t->version)
        json_put_str(out, tls_cipher_name(t->cipher, csb, sizeof(csb)));
    else
        fputs("null", out); /* no ServerHello: no suite chosen */
    fprintf(out, ",\"hello_retry\":%s", t->hello_retry ? "true" : "false");
    fputs(",\"sni\":", out);
    json_put_str(out, t->sni);
    fputs(",\"alpn\":", out);
    json_put_str(out, t->alpn);
    fputs(",\"ja3\":", out);
    json_put_str(out, t->ja3);
    fputs(",\"ja3s\":", out);
    json_put_str(out, t->ja3s);
    fputs(",\"ja4\":", out);
    json_put_str(out, t->ja4);
    fprintf(out, ",\"outcome\":\"%s\",\"inferred\":%s,\"alert_level\":%d,\"alert_desc\":%d",
            tls_outcome_name(t->outcome), t->inferred ? "true" : "false", t->alert_level,
            t->alert_desc);
    fprintf(out, ",\"alert_from\":%s,\"duration\":",
            t->alert_from == DIR_C2S   ? "\"client\""
            : t->alert_from == DIR_S2C ? "\"server\""
                                       : "null");
    put_dur(out, t->duration_ns);
    fputs(",\"leaf_sha256\":", out);
    json_put_str(out, t->leaf_sha256);
    fputs("}\n", out);
}

static void put_cert(FILE *out, const struct cert_record *c)
{
    fputs("{\"type\":\"cert\",\"sha256\":", out);
    json_put_str(out, c->sha256);
    fputs(",\"subject\":", out);
    json_put_str(out, c->subject);
    fputs(",\"issuer\":", out);
    json_put_str(out, c->issuer);
    fputs(",\"sans\":", out);
    json_put_str(out, c->sans);
    fputs(",\"serial\":", out);
    json_put_str(out, c->serial);
    /* a date the certificate gives in an unreadable form is null, not 0 (1970) */
    fputs(",\"not_before\":", out);
    if (c->bad_not_before)
        fputs("null", out);
    else
        fprintf(out, "%" PRId64, c->not_before);
    fputs(",\"not_after\":", out);
    if (c->bad_not_after)
        fputs("null", out);
    else
        fprintf(out, "%" PRId64, c->not_after);
    fputs(",\"key_type\":", out);
    json_put_str(out, c->key_type);
    fprintf(out, ",\"key_bits\":%d,\"sig_alg\":", c->key_bits);
    json_put_str(out, c->sig_alg);
    fprintf(out, ",\"self_signed\":%s,\"chain_pos\":%d,\"flow_id\":%" PRIu64 ",\"server\":",
            c->self_signed ? "true" : "false", c->chain_pos, c->flow_id);
    put_ep(out, &c->server);
    fputs(",\"ts\":", out);
    put_ts(out, c->ts_ns);
    fputs("}\n", out);
}

/* An incident event: the contract of README.md, "JSON lines" (type "incident"). */
static void put_incident(FILE *out, const struct incident_record *r)
{
    fprintf(out, "{\"type\":\"incident\",\"id\":%" PRIu64 ",\"event\":\"%s\",\"ts\":", r->id,
            inc_event_name(r->event));
    put_ts(out, r->ts_ns);
    fputs(",\"server\":", out);
    put_ep(out, &r->server);
    if (r->has_client) {
        fputs(",\"client\":", out);
        put_ep(out, &r->client);
    }
    fprintf(out, ",\"cause\":\"%s\",\"layer\":\"%s\",\"severity\":\"%s\",\"since\":",
            inc_cause_name(r->cause), inc_layer_name(r->layer), sev_name(r->sev));
    put_ts(out, r->since_ns);
    fputs(",\"until\":", out);
    if (r->until_ns)
        put_ts(out, r->until_ns);
    else
        fputs("null", out);
    if (r->event == IE_CLOSE)
        fprintf(out, ",\"close_reason\":\"%s\"", inc_close_name(r->close_reason));
    fprintf(out,
            ",\"connections_affected\":%" PRIu64 ",\"connections_total\":%" PRIu64
            ",\"clients_affected\":%" PRIu64 ",\"summary\":",
            r->conns_affected, r->conns_total, r->clients_affected);
    json_put_str(out, r->summary);
    fputs(",\"advice\":", out);
    json_put_str(out, r->advice);
    fputs(",\"evidence\":{\"kinds\":{", out);
    bool first = true;
    for (int k = 0; k < FK__COUNT; k++) {
        if (!r->kinds[k])
            continue;
        fprintf(out, "%s\"%s\":%u", first ? "" : ",", fk_name((enum fkind)k), r->kinds[k]);
        first = false;
    }
    fputs("},\"flows\":[", out);
    for (unsigned i = 0; i < r->nflows && i < INC_FLOWS_MAX; i++)
        fprintf(out, "%s%" PRIu64, i ? "," : "", r->flows[i]);
    fputs("],\"frames\":[", out);
    for (unsigned i = 0; i < r->nframes && i < INC_FRAMES_MAX; i++)
        fprintf(out, "%s%" PRIu64, i ? "," : "", r->frames[i]);
    fputs("]", out);
    char reqs[INC_REQUESTS_JSON_MAX];
    if (incident_requests_json(r, reqs, sizeof(reqs)))
        fprintf(out, ",%s", reqs);
    fprintf(out, "},\"confidence\":%.2f", fx_confidence(r->confidence));
    char wf[WIRESHARK_FILTER_MAX];
    fputs(",\"wireshark_filter\":", out);
    if (wireshark_filter(r->has_client ? &r->client : NULL, &r->server, wf, sizeof(wf)))
        json_put_str(out, wf);
    else
        fputs("null", out);
    fputs("}\n", out);
}

/* A fixed-size text field that may lack its NUL, as a JSON string. */
static void put_fixed(FILE *out, const char *s, size_t cap)
{
    char buf[HTTP_REC_PATH_MAX];
    size_t n = strnlen(s, cap < sizeof(buf) ? cap : sizeof(buf) - 1);
    memcpy(buf, s, n);
    buf[n] = '\0';
    json_put_str(out, buf);
}

/* An HTTP request/response exchange: README.md, "HTTP records". */
static void put_http(FILE *out, const struct http_record *h)
{
    fputs("{\"type\":\"http\",\"ts\":", out);
    put_ts(out, h->ts_ns);
    fprintf(out, ",\"flow_id\":%" PRIu64 ",\"client\":", h->flow_id);
    put_ep(out, &h->client);
    fputs(",\"server\":", out);
    put_ep(out, &h->server);
    fprintf(out, ",\"trans_depth\":%u,\"method\":", h->trans_depth);
    put_fixed(out, h->method, sizeof(h->method));
    fputs(",\"host\":", out);
    if (h->has_host)
        put_fixed(out, h->host, sizeof(h->host));
    else
        fputs("null", out);
    fputs(",\"path\":", out);
    put_fixed(out, h->path, sizeof(h->path));
    fputs(",\"status\":", out);
    if (h->status)
        fprintf(out, "%u", h->status);
    else
        fputs("null", out);
    fprintf(out,
            ",\"request_body_bytes\":%" PRIu64 ",\"response_body_bytes\":%" PRIu64
            ",\"response_time\":",
            h->req_body_bytes, h->resp_body_bytes);
    put_dur(out, h->response_ns);
    fprintf(out, ",\"state\":\"%s\",\"gap_bytes\":%" PRIu64 ",\"truncated\":[",
            http_state_name(h->state), h->gap_bytes);
    static const char *const cut_names[] = {"method", "host", "path"};
    bool first = true;
    for (unsigned i = 0; i < 3; i++) {
        if (!(h->cut & (1u << i)))
            continue;
        fprintf(out, "%s\"%s\"", first ? "" : ",", cut_names[i]);
        first = false;
    }
    fprintf(out, "],\"request_frame\":%" PRIu64 ",\"response_frame\":", h->req_frame);
    if (h->resp_frame)
        fprintf(out, "%" PRIu64, h->resp_frame);
    else
        fputs("null", out);
    fputs("}\n", out);
}

static void put_summary(FILE *out, const struct run_summary *s)
{
    fprintf(out,
            "{\"type\":\"summary\",\"schema\":%d,\"packets\":%" PRIu64 ",\"tcp_packets\":%" PRIu64
            ",\"bytes\":%" PRIu64 ",\"flows\":%" PRIu64 ",\"drops\":%" PRIu64
            ",\"kernel_drops\":%" PRIu64 ",\"if_drops\":%" PRIu64 ",\"malformed\":%" PRIu64
            ",\"evicted\":%" PRIu64 ",\"mirror_duplicates\":%" PRIu64 ",\"fragments\":%" PRIu64
            ",\"non_tcp\":%" PRIu64 ",\"input_error\":%s",
            JSON_SCHEMA_VERSION, s->frames, s->tcp_packets, s->bytes, s->flows,
            s->kernel_drops + s->if_drops, s->kernel_drops, s->if_drops, s->malformed, s->evicted,
            s->mirror_duplicates, s->fragments, s->non_tcp, s->input_error ? "true" : "false");
    if (s->mirror_dup_overflow) /* only when the window held more frames than the filter */
        fprintf(out, ",\"mirror_dup_overflow\":%" PRIu64, s->mirror_dup_overflow);
    if (s->http_reclaimed) /* only when the HTTP request pool ran out */
        fprintf(out, ",\"http_reclaimed\":%" PRIu64, s->http_reclaimed);
    fputs(",\"first_ts\":", out);
    if (s->frames)
        put_ts(out, s->first_ts_ns);
    else
        fputs("null", out);
    fputs(",\"last_ts\":", out);
    if (s->frames)
        put_ts(out, s->last_ts_ns);
    else
        fputs("null", out);
    fputs(",\"counts\":{", out);
    for (int k = 0; k < FK__COUNT; k++)
        fprintf(out, "%s\"%s\":%" PRIu64, k ? "," : "", fk_name((enum fkind)k), s->findings[k]);
    fputs("}}\n", out);
    fflush(out);
}

/* sink_ops.put: one JSON line for r. */
static void json_sink_put(void *ctx, const struct out_rec *r)
{
    FILE *out = ((struct json_sink *)ctx)->out;
    switch (r->type) {
    case OUT_FINDING:
        put_finding(out, &r->u.finding);
        break;
    case OUT_FLOW:
        put_flow(out, &r->u.flow);
        break;
    case OUT_HEALTH:
        put_health(out, &r->u.health);
        break;
    case OUT_TLS:
        put_tls(out, &r->u.tls);
        break;
    case OUT_CERT:
        put_cert(out, &r->u.cert);
        break;
    case OUT_SUMMARY:
        put_summary(out, &r->u.summary);
        break;
    case OUT_INCIDENT:
        put_incident(out, &r->u.incident);
        break;
    case OUT_HTTP:
        put_http(out, &r->u.http);
        break;
    case OUT__COUNT:
        break;
    }
    struct json_sink *j = ctx;
    if (!j->write_errno && ferror(out))
        j->write_errno = errno ? errno : EIO; /* errno of the write that failed */
}

static void *json_sink_open(const void *cfg, char *err, size_t errlen)
{
    const struct json_opts *o = cfg;
    struct json_sink *j = calloc(1, sizeof(*j));
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    j->out = o->out;
    /* the first line: which version of this output the lines below follow */
    fprintf(j->out, "{\"type\":\"meta\",\"schema\":%d}\n", JSON_SCHEMA_VERSION);
    return j;
}

/* sink_ops.tick: lines reach a pipe (a log shipper) within a second, live too. */
static void json_sink_tick(void *ctx, uint64_t wall_ns)
{
    struct json_sink *j = ctx;
    (void)wall_ns;
    if (fflush(j->out) != 0 && !j->write_errno)
        j->write_errno = errno;
}

static int json_sink_close(void *ctx, char *err, size_t errlen)
{
    struct json_sink *j = ctx;
    int rc = 0;
    if (fflush(j->out) != 0 && !j->write_errno)
        j->write_errno = errno;
    if (ferror(j->out)) {
        snprintf(err, errlen, "writing JSON to stdout failed: %s",
                 j->write_errno ? strerror(j->write_errno) : "write error");
        rc = ERR_IO;
    }
    free(j);
    return rc;
}

const struct sink_ops json_sink_ops = {
    .name = "json",
    .open = json_sink_open,
    .put = json_sink_put,
    .tick = json_sink_tick,
    .close = json_sink_close,
};
