/*
 * metrics.c - Prometheus exposition: cumulative per-server counters from the health rows,
 * last-interval gauges (quantiles, ratios, open alerts), flowmedic's own counters; a
 * one-thread HTTP/1.0 listener for GET /metrics and an atomically replaced textfile.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, pipe2 */
#endif
#include "cli/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "capture/decode.h"
#include "capture/log.h"

#ifndef FM_VERSION
#define FM_VERSION "unknown" /* the build passes the package version */
#endif

#define MX_MAX_SERVERS 1024 /* servers exported (more are counted in servers_dropped) */
#define MX_REQ_MAX 4096     /* bytes of an HTTP request read before answering */
#define MX_IO_TIMEOUT_S 2   /* a scraper that stalls longer is dropped */

/* failed[r] holds failure reason FAIL_REFUSED + r (health_row order; names: fail_name). */
#define MX_NREASONS (FAIL__COUNT - FAIL_REFUSED)

/* One server: totals over the run and the last interval's gauges. */
struct mx_srv {
    char label[80];          /* "ip:port", escaped for a label value */
    uint64_t attempts;       /* connection attempts */
    uint64_t established;    /* handshakes completed */
    uint64_t failed[MX_NREASONS]; /* failures per reason (see MX_NREASONS) */
    uint64_t resets;         /* RST segments */
    uint64_t zero_windows;   /* zero-window advertisements */
    uint64_t syn_retries;    /* client SYN retransmissions */
    uint64_t synack_retries; /* server SYN-ACK retransmissions */
    uint64_t retrans[2];     /* retransmitted segments per direction */
    uint64_t data[2];        /* data segments per direction */
    uint64_t bytes[2];       /* payload bytes per direction */
    uint64_t http_requests;  /* HTTP requests */
    uint64_t http_5xx;       /* HTTP 5xx responses */
    uint64_t slow;           /* slow responses */
    uint64_t responses;      /* response-time samples */
    double resp_q[3];        /* last interval's response time p50/p95/p99 (s) */
    double hs_q[3];          /* last interval's handshake RTT p50/p95/p99 (s) */
    double error_ratio;      /* last interval's error rate */
    double retrans_ratio;    /* last interval's retransmission rate */
    uint32_t open_alerts;    /* alert rules open (ALERT_BIT of each enum alert_rule) */
    uint64_t last_start;     /* start of the interval of its last row */
};

/* A growing text buffer (rendering happens about once a second, off the packet path). */
struct mx_buf {
    char *p;    /* text */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
    bool oom;   /* an allocation failed: the text is incomplete */
};

struct metrics {
    pthread_mutex_t mu;           /* guards snap/snap_len (the listener reads them) */
    char *snap;                   /* the rendered exposition served to scrapers */
    size_t snap_len;              /* its length */
    struct mx_buf buf;            /* render buffer (analysis thread only) */
    struct mx_srv *srv;           /* servers, MX_MAX_SERVERS entries */
    size_t nsrv;                  /* servers in use */
    uint64_t srv_dropped;         /* health rows of servers beyond the cap */
    uint64_t findings[FK__COUNT]; /* findings per kind */
    uint64_t health_rows;         /* health rows received */
    uint64_t latest_start;        /* newest interval start of any row */
    struct metrics_self self;     /* flowmedic's own counters */
    char *file;                   /* --metrics-file path, or NULL */
    char *tmp;                    /* file + ".tmp" */
    bool file_failed;             /* a write failed (reported once) */
    int file_errno;               /* errno of the last failed write */
    int lfd;                      /* listening socket, or -1 */
    int wake[2];                  /* self-pipe that stops the listener */
    bool thr_started;             /* the listener thread runs */
    pthread_t thr;                /* the listener thread */
};

/* ---- rendering ---- */

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

/* Escape a label value: backslash, double quote and newline (exposition format rules). */
static void mx_escape(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (; *in && o + 3 < len; in++) {
        if (*in == '\\' || *in == '"') {
            out[o++] = '\\';
            out[o++] = *in;
        } else if (*in == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *in;
        }
    }
    out[o] = 0;
}

/*
 * Servers are exported once they look like servers: a handshake completed, HTTP seen, or at
 * least 3 attempts or failures. A port scan's one SYN per port does not create series.
 */
static bool mx_exported(const struct mx_srv *s)
{
    uint64_t failed = 0;
    for (int r = 0; r < MX_NREASONS; r++)
        failed += s->failed[r];
    return s->established > 0 || s->http_requests > 0 || s->responses > 0 || s->attempts >= 3 ||
           failed >= 3 || s->open_alerts != 0;
}

static void mx_render_self(struct metrics *m, struct mx_buf *b)
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
static bool mx_stale(const struct metrics *m, const struct mx_srv *s)
{
    return s->last_start < m->latest_start;
}

/* A per-server counter family: one sample per server. */
static void mx_srv_counter(struct metrics *m, struct mx_buf *b, const char *name, const char *help,
                           size_t off)
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
static void mx_srv_dir(struct metrics *m, struct mx_buf *b, const char *name, const char *help,
                       size_t off)
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
static void mx_srv_quant(struct metrics *m, struct mx_buf *b, const char *name, const char *help,
                         size_t off)
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

static void mx_render_servers(struct metrics *m, struct mx_buf *b)
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
        for (int r = 0; r < MX_NREASONS; r++)
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

/* Render everything into m->buf; false when out of memory. */
static bool mx_render(struct metrics *m)
{
    struct mx_buf *b = &m->buf;
    b->len = 0;
    b->oom = false;
    mx_render_self(m, b);
    mx_render_servers(m, b);
    return !b->oom;
}

size_t metrics_render(struct metrics *m, char *buf, size_t len)
{
    if (!mx_render(m))
        return 0;
    if (len) {
        size_t n = m->buf.len < len - 1 ? m->buf.len : len - 1;
        memcpy(buf, m->buf.p, n);
        buf[n] = 0;
    }
    return m->buf.len;
}

/* Publish the rendered text to the listener. */
static void mx_publish(struct metrics *m)
{
    if (m->lfd < 0)
        return;
    char *copy = malloc(m->buf.len + 1);
    if (!copy)
        return;
    memcpy(copy, m->buf.p, m->buf.len);
    copy[m->buf.len] = 0;
    pthread_mutex_lock(&m->mu);
    char *old = m->snap;
    m->snap = copy;
    m->snap_len = m->buf.len;
    pthread_mutex_unlock(&m->mu);
    free(old);
}

/* Write the file atomically: a temporary file in the same directory, then rename. */
static void mx_write_file(struct metrics *m)
{
    if (!m->file)
        return;
    FILE *f = fopen(m->tmp, "w");
    bool ok = f != NULL;
    if (f) {
        ok = fwrite(m->buf.p, 1, m->buf.len, f) == m->buf.len;
        ok = fflush(f) == 0 && ok;
        ok = fclose(f) == 0 && ok;
    }
    if (ok && rename(m->tmp, m->file) != 0)
        ok = false;
    if (!ok) {
        m->file_errno = errno;
        if (!m->file_failed)
            log_error("--metrics-file %s: %s", m->file, strerror(errno));
        m->file_failed = true;
        unlink(m->tmp);
    } else {
        m->file_failed = false;
    }
}

static void mx_refresh(struct metrics *m)
{
    if (!mx_render(m))
        return;
    mx_publish(m);
    mx_write_file(m);
}

/* ---- sink ---- */

static struct mx_srv *mx_server(struct metrics *m, const struct endpoint *e)
{
    char ep[64], lab[80];
    pkt_endpoint_str(e, ep, sizeof(ep));
    mx_escape(ep, lab, sizeof(lab));
    for (size_t i = 0; i < m->nsrv; i++)
        if (strcmp(m->srv[i].label, lab) == 0)
            return &m->srv[i];
    if (m->nsrv == MX_MAX_SERVERS)
        return NULL;
    struct mx_srv *s = &m->srv[m->nsrv++];
    memset(s, 0, sizeof(*s));
    memcpy(s->label, lab, sizeof(s->label));
    for (int q = 0; q < 3; q++)
        s->resp_q[q] = s->hs_q[q] = NAN;
    return s;
}

static void mx_on_health(void *ctx, const struct health_row *h)
{
    struct metrics *m = ctx;
    m->health_rows++;
    if (h->start_ns > m->latest_start)
        m->latest_start = h->start_ns;
    struct mx_srv *s = mx_server(m, &h->server);
    if (!s) {
        m->srv_dropped++;
        return;
    }
    s->attempts += h->attempts;
    s->established += h->established;
    s->failed[FAIL_REFUSED - FAIL_REFUSED] += h->failed_refused;
    s->failed[FAIL_TIMEOUT - FAIL_REFUSED] += h->failed_timeout;
    s->failed[FAIL_BACKLOG - FAIL_REFUSED] += h->failed_backlog;
    s->failed[FAIL_RESET - FAIL_REFUSED] += h->failed_reset;
    s->failed[FAIL_TLS - FAIL_REFUSED] += h->failed_tls;
    s->resets += h->resets;
    s->zero_windows += h->zero_windows;
    s->syn_retries += h->syn_retries;
    s->synack_retries += h->synack_retries;
    for (int d = 0; d < 2; d++) {
        s->retrans[d] += h->retrans_segs[d];
        s->data[d] += h->data_segs[d];
        s->bytes[d] += h->bytes[d];
    }
    s->http_requests += h->http_requests;
    s->http_5xx += h->http_5xx;
    s->slow += h->slow_responses;
    s->responses += h->resp_n;
    s->resp_q[0] = h->resp_p50;
    s->resp_q[1] = h->resp_p95;
    s->resp_q[2] = h->resp_p99;
    s->hs_q[0] = h->hs_rtt_p50;
    s->hs_q[1] = h->hs_rtt_p95;
    s->hs_q[2] = h->hs_rtt_p99;
    s->error_ratio = h->error_rate;
    s->retrans_ratio = h->retrans_rate;
    s->open_alerts = h->open_alerts;
    s->last_start = h->start_ns;
}

static void mx_on_finding(void *ctx, const struct finding *f)
{
    struct metrics *m = ctx;
    if ((unsigned)f->kind < FK__COUNT)
        m->findings[f->kind]++;
}

static void mx_on_summary(void *ctx, const struct run_summary *s)
{
    struct metrics *m = ctx;
    for (int k = 0; k < FK__COUNT; k++)
        if (s->findings[k] > m->findings[k])
            m->findings[k] = s->findings[k];
    if (s->frames > m->self.packets)
        m->self.packets = s->frames;
    if (s->bytes > m->self.bytes)
        m->self.bytes = s->bytes;
    if (s->evicted > m->self.flows_evicted)
        m->self.flows_evicted = s->evicted;
    if (s->kernel_drops > m->self.kernel_drops)
        m->self.kernel_drops = s->kernel_drops;
    if (s->if_drops > m->self.if_drops)
        m->self.if_drops = s->if_drops;
    if (s->malformed > m->self.malformed)
        m->self.malformed = s->malformed;
    if (s->mirror_duplicates > m->self.mirror_duplicates)
        m->self.mirror_duplicates = s->mirror_duplicates;
    mx_refresh(m);
}

struct sink metrics_sink(struct metrics *m)
{
    struct sink s = {
        .ctx = m,
        .on_finding = mx_on_finding,
        .on_health = mx_on_health,
        .on_summary = mx_on_summary,
    };
    return s;
}

void metrics_update_self(struct metrics *m, const struct metrics_self *s)
{
    m->self = *s;
    mx_refresh(m);
}

/* ---- listener ---- */

static void mx_send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static void mx_reply(int fd, const char *status, const char *ctype, const char *body, size_t blen,
                     bool head)
{
    char hdr[256];
    int n = snprintf(hdr, sizeof(hdr),
                     "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, ctype, blen);
    if (n > 0 && (size_t)n < sizeof(hdr))
        mx_send_all(fd, hdr, (size_t)n);
    if (!head)
        mx_send_all(fd, body, blen);
}

/* Serve one connection: read the request head, answer, close. */
static void mx_serve(struct metrics *m, int fd)
{
    char req[MX_REQ_MAX + 1];
    size_t used = 0;
    struct timeval tv = {.tv_sec = MX_IO_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    while (used < MX_REQ_MAX) {
        ssize_t n = recv(fd, req + used, MX_REQ_MAX - used, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        used += (size_t)n;
        req[used] = 0;
        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
            break;
    }
    req[used] = 0;
    bool get = strncmp(req, "GET ", 4) == 0, head = strncmp(req, "HEAD ", 5) == 0;
    const char *path = get ? req + 4 : head ? req + 5 : NULL;
    static const char text[] = "text/plain; charset=utf-8";
    if (!path) {
        static const char msg[] = "only GET and HEAD are served\n";
        mx_reply(fd, "405 Method Not Allowed", text, msg, sizeof(msg) - 1, false);
        return;
    }
    size_t plen = strcspn(path, " ?\r\n");
    if (plen == 8 && strncmp(path, "/metrics", 8) == 0) {
        pthread_mutex_lock(&m->mu);
        size_t len = m->snap ? m->snap_len : 0;
        char *copy = malloc(len + 1);
        if (copy && len)
            memcpy(copy, m->snap, len);
        pthread_mutex_unlock(&m->mu);
        if (!copy) {
            static const char msg[] = "out of memory\n";
            mx_reply(fd, "503 Service Unavailable", text, msg, sizeof(msg) - 1, head);
            return;
        }
        mx_reply(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", copy, len, head);
        free(copy);
        return;
    }
    static const char msg[] = "flowmedic: metrics are on /metrics\n";
    mx_reply(fd, "404 Not Found", text, msg, sizeof(msg) - 1, head);
}

static void *mx_thread(void *arg)
{
    struct metrics *m = arg;
    for (;;) {
        struct pollfd pf[2] = {{.fd = m->lfd, .events = POLLIN},
                               {.fd = m->wake[0], .events = POLLIN}};
        int n = poll(pf, 2, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (pf[1].revents & (POLLIN | POLLHUP)))
            break;
        if (!(pf[0].revents & POLLIN))
            continue;
        int fd = accept4(m->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        mx_serve(m, fd);
        close(fd);
    }
    return NULL;
}

/* Parse "ADDR:PORT", "[ADDR6]:PORT", ":PORT" or "*:PORT" and listen. 0 or ERR_ARG/ERR_IO. */
static int mx_listen(struct metrics *m, const char *spec, char *err, size_t errlen)
{
    char host[128];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon[1] == 0) {
        snprintf(err, errlen, "--metrics-listen '%s': expected ADDR:PORT", spec);
        return ERR_ARG;
    }
    size_t hl = (size_t)(colon - spec);
    const char *h = spec;
    if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= sizeof(host)) {
        snprintf(err, errlen, "--metrics-listen '%s': address too long", spec);
        return ERR_ARG;
    }
    memcpy(host, h, hl);
    host[hl] = 0;
    bool any = hl == 0 || strcmp(host, "*") == 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(any ? NULL : host, colon + 1, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "--metrics-listen '%s': %s", spec, gai_strerror(rc));
        return ERR_ARG;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
        snprintf(err, errlen, "--metrics-listen '%s': %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return ERR_IO;
    }
    freeaddrinfo(ai);
    m->lfd = fd;
    return 0;
}

struct metrics *metrics_new(const char *listen_spec, const char *file, char *err, size_t errlen)
{
    struct metrics *m = calloc(1, sizeof(*m));
    if (!m)
        goto fail_alloc;
    m->lfd = -1;
    m->wake[0] = m->wake[1] = -1;
    pthread_mutex_init(&m->mu, NULL);
    m->srv = calloc(MX_MAX_SERVERS, sizeof(*m->srv));
    if (!m->srv)
        goto fail_alloc;
    if (file) {
        size_t n = strlen(file);
        m->file = malloc(n + 1);
        m->tmp = malloc(n + 5);
        if (!m->file || !m->tmp)
            goto fail_alloc;
        memcpy(m->file, file, n + 1);
        memcpy(m->tmp, file, n);
        memcpy(m->tmp + n, ".tmp", 5);
    }
    if (listen_spec) {
        if (mx_listen(m, listen_spec, err, errlen) != 0)
            goto fail;
        if (pipe2(m->wake, O_CLOEXEC) != 0) {
            snprintf(err, errlen, "--metrics-listen: pipe: %s", strerror(errno));
            goto fail;
        }
    }
    if (!mx_render(m))
        goto fail_alloc;
    mx_publish(m);
    if (file) {
        m->file_failed = true; /* the first failure is reported through err, not logged */
        mx_write_file(m);
        if (m->file_failed) {
            snprintf(err, errlen, "--metrics-file %s: cannot write %s: %s", file, m->tmp,
                     strerror(m->file_errno));
            goto fail;
        }
    }
    if (m->lfd >= 0) {
        if (pthread_create(&m->thr, NULL, mx_thread, m) != 0) {
            snprintf(err, errlen, "--metrics-listen: cannot start the listener thread");
            goto fail;
        }
        m->thr_started = true;
    }
    return m;
fail_alloc:
    snprintf(err, errlen, "metrics: out of memory");
fail:
    if (m) {
        if (m->lfd >= 0)
            close(m->lfd);
        for (int i = 0; i < 2; i++)
            if (m->wake[i] >= 0)
                close(m->wake[i]);
        pthread_mutex_destroy(&m->mu);
        free(m->srv);
        free(m->file);
        free(m->tmp);
        free(m->buf.p);
        free(m->snap);
        free(m);
    }
    return NULL;
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    mx_refresh(m);
    if (m->thr_started) {
        char c = 'q';
        ssize_t w;
        do
            w = write(m->wake[1], &c, 1);
        while (w < 0 && errno == EINTR);
        pthread_join(m->thr, NULL);
    }
    if (m->lfd >= 0)
        close(m->lfd);
    for (int i = 0; i < 2; i++)
        if (m->wake[i] >= 0)
            close(m->wake[i]);
    pthread_mutex_destroy(&m->mu);
    free(m->srv);
    free(m->file);
    free(m->tmp);
    free(m->buf.p);
    free(m->snap);
    free(m);
}
