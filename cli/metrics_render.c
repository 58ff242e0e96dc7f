/*
 * metrics_render.c - the exposition text: flowmedic's own counters, findings per kind, per-server
 * counters (only servers that look like servers) and the last interval's gauges.
 */
#include "cli/metrics_render.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FM_VERSION
#define FM_VERSION "unknown" /* the build passes the package version */
#endif

static void mx_printf(struct mx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mx_printf(struct mx_buf *b, const char *fmt, ...)
{
    for (int tries = 0; tries < 2 && !b->oom; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->p && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t want = b->cap ? b->cap : 16384;
        while (want < b->len + (size_t)n + 1)
            want *= 2;
        char *np = realloc(b->p, want);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = want;
    }
}

/* A metric family's HELP and TYPE lines. */
static void mx_family(struct mx_buf *b, const char *name, const char *type, const char *help)
{
    mx_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A sample value: integers exactly, NaN/Inf by their exposition names. */
static void mx_double(struct mx_buf *b, double v)
{
    if (isnan(v))
        mx_printf(b, "NaN\n");
    else if (isinf(v))
        mx_printf(b, "%s\n", v > 0 ? "+Inf" : "-Inf");
    else
        mx_printf(b, "%.9g\n", v);
}

/*
 * Servers are exported once they look like servers: a handshake completed, HTTP seen, or at
 * least 3 attempts or failures. A port scan's one SYN per port does not create series.
 */
static bool mx_exported(const struct mx_srv *s)
{
    uint64_t failed = 0;
    for (int r = 0; r < MX_REASONS; r++)
        failed += s->failed[r];
    return s->established > 0 || s->http_requests > 0 || s->responses > 0 || s->attempts >= 3 ||
           failed >= 3 || s->open_alerts != 0;
}

static void mx_render_self(const struct mx_snap *m, struct mx_buf *b)
{
    const struct metrics_self *s = &m->self;
    static const struct {
        const char *name, *type, *help;
        size_t off;
    } self[] = {
        {"flowmedic_packets_total", "counter", "Frames read from the capture.",
         offsetof(struct metrics_self, packets)},
        {"flowmedic_bytes_total", "counter", "Frame bytes on the wire read from the capture.",
         offsetof(struct metrics_self, bytes)},
        {"flowmedic_kernel_drops_total", "counter",
         "Packets the kernel dropped before flowmedic read them (pcap_stats ps_drop).",
         offsetof(struct metrics_self, kernel_drops)},
        {"flowmedic_interface_drops_total", "counter",
         "Packets the interface dropped (pcap_stats ps_ifdrop).",
         offsetof(struct metrics_self, if_drops)},
        {"flowmedic_flows_active", "gauge", "Flows in the flow table now.",
         offsetof(struct metrics_self, flows_active)},
        {"flowmedic_flows_evicted_total", "counter",
         "Flows evicted because the flow table was full.",
         offsetof(struct metrics_self, flows_evicted)},
        {"flowmedic_store_queue_length", "gauge", "Items waiting in the SQLite writer's queue.",
         offsetof(struct metrics_self, store_queued)},
        {"flowmedic_store_queue_dropped_total", "counter",
         "Items the SQLite writer's queue dropped because it was full.",
         offsetof(struct metrics_self, store_dropped)},
        {"flowmedic_malformed_frames_total", "counter", "Malformed or truncated frames.",
         offsetof(struct metrics_self, malformed)},
        {"flowmedic_mirror_duplicates_total", "counter",
         "Duplicate frames from a mirror port, dropped before analysis.",
         offsetof(struct metrics_self, mirror_duplicates)},
        {"flowmedic_http_reclaimed_total", "counter",
         "HTTP connections whose request slots went to a newer one (the pool was full).",
         offsetof(struct metrics_self, http_reclaimed)},
    };
    for (size_t i = 0; i < sizeof(self) / sizeof(self[0]); i++) {
        uint64_t v;
        memcpy(&v, (const char *)s + self[i].off, sizeof(v));
        mx_family(b, self[i].name, self[i].type, self[i].help);
        mx_printf(b, "%s %llu\n", self[i].name, (unsigned long long)v);
    }
    mx_family(b, "flowmedic_build_info", "gauge", "Always 1; the version is in the label.");
    mx_printf(b, "flowmedic_build_info{version=\"%s\"} 1\n", FM_VERSION);
    mx_family(b, "flowmedic_findings_total", "counter", "Findings written, per kind.");
    for (int k = 0; k < FK__COUNT; k++)
        mx_printf(b, "flowmedic_findings_total{kind=\"%s\"} %llu\n", fk_name((enum fkind)k),
                  (unsigned long long)m->findings[k]);
    mx_family(b, "flowmedic_health_rows_total", "counter",
              "Per-server health interval rows produced.");
    mx_printf(b, "flowmedic_health_rows_total %llu\n", (unsigned long long)m->health_rows);
    mx_family(b, "flowmedic_metrics_servers_dropped_total", "counter",
              "Health rows of servers beyond the exported cap (1024).");
    mx_printf(b, "flowmedic_metrics_servers_dropped_total %llu\n",
              (unsigned long long)m->srv_dropped);
    mx_family(b, "flowmedic_incidents_opened_total", "counter", "Incidents opened, per cause.");
    for (int c = 0; c < IC__COUNT; c++)
        mx_printf(b, "flowmedic_incidents_opened_total{cause=\"%s\"} %llu\n",
                  inc_cause_name((enum inc_cause)c), (unsigned long long)m->inc_opened[c]);
    mx_family(b, "flowmedic_incident_open", "gauge",
              "1 while an incident of this cause is open on this server, 0 after it closed.");
    for (size_t i = 0; i < m->ninc; i++)
        mx_printf(b, "flowmedic_incident_open{server=\"%s\",cause=\"%s\"} %d\n", m->inc[i].label,
                  inc_cause_name(m->inc[i].cause), m->inc[i].open ? 1 : 0);
    size_t hidden = 0;
    for (size_t i = 0; i < m->nsrv; i++)
        hidden += !mx_exported(&m->srv[i]);
    mx_family(b, "flowmedic_metrics_servers_hidden", "gauge",
              "Endpoints seen as servers but not exported yet (no handshake completed, no HTTP, "
              "fewer than 3 attempts).");
    mx_printf(b, "flowmedic_metrics_servers_hidden %zu\n", hidden);
}

/*
 * True when the server had no row in the newest interval: it was idle, so its last-interval
 * gauges say "no data" (NaN percentiles, zero ratios) instead of repeating old values.
 */
static bool mx_stale(const struct mx_snap *m, const struct mx_srv *s)
{
    return s->last_start < m->latest_start;
}

/* A per-server counter family: one sample per server. */
static void mx_srv_counter(const struct mx_snap *m, struct mx_buf *b, const char *name,
                           const char *help, size_t off)
{
    mx_family(b, name, "counter", help);
    for (size_t i = 0; i < m->nsrv; i++) {
        if (!mx_exported(&m->srv[i]))
            continue;
        uint64_t v;
        memcpy(&v, (const char *)&m->srv[i] + off, sizeof(v));
        mx_printf(b, "%s{server=\"%s\"} %llu\n", name, m->srv[i].label, (unsigned long long)v);
    }
}

/* A per-server, per-direction counter family. */
static void mx_srv_dir(const struct mx_snap *m, struct mx_buf *b, const char *name,
                       const char *help, size_t off)
{
    mx_family(b, name, "counter", help);
    for (size_t i = 0; i < m->nsrv; i++) {
        if (!mx_exported(&m->srv[i]))
            continue;
        uint64_t v[2];
        memcpy(v, (const char *)&m->srv[i] + off, sizeof(v));
        mx_printf(b, "%s{server=\"%s\",direction=\"c2s\"} %llu\n", name, m->srv[i].label,
                  (unsigned long long)v[0]);
        mx_printf(b, "%s{server=\"%s\",direction=\"s2c\"} %llu\n", name, m->srv[i].label,
                  (unsigned long long)v[1]);
    }
}

/* A per-server quantile gauge family (last interval). */
static void mx_srv_quant(const struct mx_snap *m, struct mx_buf *b, const char *name,
                         const char *help, size_t off)
{
    static const char *const qn[3] = {"0.5", "0.95", "0.99"};
    mx_family(b, name, "gauge", help);
    for (size_t i = 0; i < m->nsrv; i++) {
        if (!mx_exported(&m->srv[i]))
            continue;
        double v[3];
        memcpy(v, (const char *)&m->srv[i] + off, sizeof(v));
        if (mx_stale(m, &m->srv[i]))
            v[0] = v[1] = v[2] = NAN;
        for (int q = 0; q < 3; q++) {
            mx_printf(b, "%s{server=\"%s\",quantile=\"%s\"} ", name, m->srv[i].label, qn[q]);
            mx_double(b, v[q]);
        }
    }
}

static void mx_render_servers(const struct mx_snap *m, struct mx_buf *b)
{
    mx_srv_counter(m, b, "flowmedic_server_connection_attempts_total",
                   "New TCP connection attempts (first SYNs) to the server.",
                   offsetof(struct mx_srv, attempts));
    mx_srv_counter(m, b, "flowmedic_server_established_total",
                   "TCP handshakes to the server completed.", offsetof(struct mx_srv, established));
    mx_family(b, "flowmedic_server_failed_total", "counter",
              "Failed connections to the server by reason (refused, timeout = SYN unanswered, "
              "backlog = SYN or accept queue drop, reset = reset during the handshake, tls = TLS "
              "handshake failed).");
    for (size_t i = 0; i < m->nsrv; i++) {
        if (!mx_exported(&m->srv[i]))
            continue;
        for (int r = 0; r < MX_REASONS; r++)
            mx_printf(b, "flowmedic_server_failed_total{server=\"%s\",reason=\"%s\"} %llu\n",
                      m->srv[i].label, fail_name((enum fail_reason)(FAIL_REFUSED + r)),
                      (unsigned long long)m->srv[i].failed[r]);
    }
    mx_srv_counter(m, b, "flowmedic_server_resets_total", "TCP resets in flows of the server.",
                   offsetof(struct mx_srv, resets));
    mx_srv_counter(m, b, "flowmedic_server_zero_windows_total",
                   "Zero-window advertisements in flows of the server.",
                   offsetof(struct mx_srv, zero_windows));
    mx_srv_counter(m, b, "flowmedic_server_syn_retries_total",
                   "Client SYN retransmissions to the server.",
                   offsetof(struct mx_srv, syn_retries));
    mx_srv_counter(m, b, "flowmedic_server_synack_retries_total",
                   "SYN-ACK retransmissions by the server.",
                   offsetof(struct mx_srv, synack_retries));
    mx_srv_dir(m, b, "flowmedic_server_retransmitted_segments_total",
               "Retransmitted data segments, per direction (c2s = client to server).",
               offsetof(struct mx_srv, retrans));
    mx_srv_dir(m, b, "flowmedic_server_data_segments_total",
               "Data segments, per direction (c2s = client to server).",
               offsetof(struct mx_srv, data));
    mx_srv_dir(m, b, "flowmedic_server_payload_bytes_total",
               "TCP payload bytes, per direction (c2s = client to server).",
               offsetof(struct mx_srv, bytes));
    mx_srv_counter(m, b, "flowmedic_server_http_requests_total",
                   "HTTP/1.x requests to the server seen in the clear.",
                   offsetof(struct mx_srv, http_requests));
    mx_srv_counter(m, b, "flowmedic_server_http_5xx_responses_total",
                   "HTTP/1.x responses with a 5xx status from the server.",
                   offsetof(struct mx_srv, http_5xx));
    mx_srv_counter(m, b, "flowmedic_server_slow_responses_total",
                   "Responses that began later than the slow-response threshold.",
                   offsetof(struct mx_srv, slow));
    mx_srv_counter(m, b, "flowmedic_server_responses_total",
                   "Response-time samples (HTTP responses or request/response turns).",
                   offsetof(struct mx_srv, responses));
    mx_srv_quant(m, b, "flowmedic_server_response_time_seconds",
                 "Time from the end of a request to the first byte of its response, quantiles "
                 "over the last health interval (1 % relative error; NaN without samples).",
                 offsetof(struct mx_srv, resp_q));
    mx_srv_quant(m, b, "flowmedic_server_handshake_rtt_seconds",
                 "TCP handshake round trip (SYN to the client's ACK) seen at the capture point, "
                 "quantiles over the last health interval (NaN without samples).",
                 offsetof(struct mx_srv, hs_q));
    mx_family(b, "flowmedic_server_error_ratio", "gauge",
              "Error rate over the last health interval: the larger of failed/attempted "
              "connections and HTTP 5xx/responses (0..1).");
    for (size_t i = 0; i < m->nsrv; i++) {
        if (!mx_exported(&m->srv[i]))
            continue;
        mx_printf(b, "flowmedic_server_error_ratio{server=\"%s\"} ", m->srv[i].label);
        mx_double(b, mx_stale(m, &m->srv[i]) ? 0 : m->srv[i].error_ratio);
    }
    mx_family(b, "flowmedic_server_retransmission_ratio", "gauge",
              "Retransmitted / data segments over the last health interval, both directions.");
    for (size_t i = 0; i < m->nsrv; i++) {
        if (!mx_exported(&m->srv[i]))
            continue;
        mx_printf(b, "flowmedic_server_retransmission_ratio{server=\"%s\"} ", m->srv[i].label);
        mx_double(b, mx_stale(m, &m->srv[i]) ? 0 : m->srv[i].retrans_ratio);
    }
    mx_family(b, "flowmedic_server_alert_open", "gauge",
              "1 while the server's health alert rule is open, else 0.");
    for (size_t i = 0; i < m->nsrv; i++) {
        if (!mx_exported(&m->srv[i]))
            continue;
        /* a server without a row in the last interval has no open alert but cert_expiring */
        uint32_t open =
            m->srv[i].open_alerts & (mx_stale(m, &m->srv[i]) ? ALERT_BIT(AR_CERT_EXPIRING) : ~0u);
        for (int r = 0; r < AR__COUNT; r++)
            mx_printf(b, "flowmedic_server_alert_open{server=\"%s\",rule=\"%s\"} %u\n",
                      m->srv[i].label, alert_rule_name((enum alert_rule)r), (open >> r) & 1u);
    }
}

bool mx_render(const struct mx_snap *m, struct mx_buf *b)
{
    b->len = 0;
    b->oom = false;
    mx_render_self(m, b);
    mx_render_servers(m, b);
    return !b->oom;
}

void mx_buf_free(struct mx_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}
