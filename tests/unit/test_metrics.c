/*
 * test_metrics.c - unit tests of the Prometheus exposition (cumulative counters from health
 * rows, last-interval gauges, label escaping, the atomically written file) and of the
 * configuration file reader (every key type, units, errors with line numbers).
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzers/engine.h"
#include "capture/decode.h"
#include "cli/config.h"
#include "cli/metrics.h"
#include "cli/webconfig.h"
#include "tests/unit/testhelp.h"

/* Hand the record at p (of type t) to sink ops with state ctx, as the output thread does. */
static void sink_put(const struct sink_ops *ops, void *ctx, enum out_type t, const void *p)
{
    struct out_rec r;
    out_rec_set(&r, t, p);
    ops->put(ctx, &r);
}

static char text[1 << 20];

/* True when text has a line exactly equal to line. */
static bool has_line(const char *t, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = t; (p = strstr(p, line)) != NULL; p++)
        if ((p == t || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
            return true;
    return false;
}

static void row_for(struct health_row *h, const char *server)
{
    memset(h, 0, sizeof(*h));
    CHECK(pkt_endpoint_parse(server, &h->server) == 0);
    h->len_ns = 10000000000ull;
    h->resp_p50 = h->resp_p95 = h->resp_p99 = NAN;
    h->hs_rtt_p50 = h->hs_rtt_p95 = h->hs_rtt_p99 = NAN;
}

static void test_exposition(void)
{
    char err[256], dir[64] = "/tmp/fm-test-metrics-XXXXXX", path[96];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/x.prom", dir);
    struct metrics_opts mo = {.file = path};
    struct metrics *m = metrics_new(&mo, err, sizeof(err));
    CHECK(m != NULL);
    if (!m)
        return;
    struct health_row h;
    row_for(&h, "10.0.0.5:443");
    h.attempts = 10;
    h.established = 9;
    h.failed_refused = 1;
    h.retrans_segs[1] = 3;
    h.data_segs[0] = 20;
    h.data_segs[1] = 40;
    h.http_requests = 7;
    h.http_5xx = 2;
    h.resp_n = 7;
    h.resp_p50 = 0.25;
    h.resp_p95 = 6;
    h.resp_p99 = 6.5;
    h.error_rate = 2.0 / 7;
    h.open_alerts = 1u << 0 | 1u << 1;
    sink_put(&metrics_sink_ops, m, OUT_HEALTH, &h);
    h.attempts = 5; /* a second interval: counters add up, gauges take the last value */
    h.resp_p99 = 0.5;
    h.open_alerts = 1u << 1;
    sink_put(&metrics_sink_ops, m, OUT_HEALTH, &h);
    row_for(&h, "[2001:db8::1]:8080");
    h.attempts = 1;
    h.established = 1;
    sink_put(&metrics_sink_ops, m, OUT_HEALTH, &h);
    /* a scanned port: one refused SYN; not exported as a server (no series explosion) */
    row_for(&h, "10.0.0.5:23");
    h.attempts = 1;
    h.failed_refused = 1;
    sink_put(&metrics_sink_ops, m, OUT_HEALTH, &h);
    struct finding f;
    memset(&f, 0, sizeof(f));
    f.kind = FK_SLOW_RESPONSE;
    sink_put(&metrics_sink_ops, m, OUT_FINDING, &f);
    sink_put(&metrics_sink_ops, m, OUT_FINDING, &f);
    struct metrics_self self = {.packets = 1234,
                                .kernel_drops = 5,
                                .flows_active = 17,
                                .store_dropped = 2,
                                .http_reclaimed = 3};
    metrics_update_self(m, &self);
    size_t n = metrics_render(m, text, sizeof(text));
    CHECK(n > 0 && n < sizeof(text));
    CHECK(has_line(text, "flowmedic_packets_total 1234"));
    CHECK(has_line(text, "flowmedic_kernel_drops_total 5"));
    CHECK(has_line(text, "flowmedic_http_reclaimed_total 3"));
    CHECK(has_line(text, "flowmedic_flows_active 17"));
    CHECK(strstr(text, "\nflowmedic_build_info{version=\"") != NULL);
    CHECK(has_line(text, "# TYPE flowmedic_flows_active gauge"));
    CHECK(has_line(text, "flowmedic_store_queue_dropped_total 2"));
    CHECK(has_line(text, "flowmedic_findings_total{kind=\"slow_response\"} 2"));
    CHECK(has_line(text, "flowmedic_findings_total{kind=\"reset\"} 0"));
    CHECK(has_line(text, "flowmedic_server_connection_attempts_total{server=\"10.0.0.5:443\"} 15"));
    CHECK(has_line(text, "flowmedic_server_established_total{server=\"10.0.0.5:443\"} 18"));
    CHECK(has_line(text,
                   "flowmedic_server_failed_total{server=\"10.0.0.5:443\",reason=\"refused\"} 2"));
    CHECK(has_line(text, "flowmedic_server_retransmitted_segments_total{server=\"10.0.0.5:443\","
                         "direction=\"s2c\"} 6"));
    CHECK(has_line(text, "flowmedic_server_response_time_seconds{server=\"10.0.0.5:443\","
                         "quantile=\"0.99\"} 0.5"));
    CHECK(has_line(text, "flowmedic_server_response_time_seconds{server=\"10.0.0.5:443\","
                         "quantile=\"0.95\"} 6"));
    CHECK(has_line(text, "flowmedic_server_handshake_rtt_seconds{server=\"10.0.0.5:443\","
                         "quantile=\"0.5\"} NaN"));
    CHECK(
        has_line(text, "flowmedic_server_alert_open{server=\"10.0.0.5:443\",rule=\"resp_p99\"} 0"));
    CHECK(has_line(text,
                   "flowmedic_server_alert_open{server=\"10.0.0.5:443\",rule=\"error_rate\"} 1"));
    CHECK(has_line(text,
                   "flowmedic_server_connection_attempts_total{server=\"[2001:db8::1]:8080\"} 1"));
    CHECK(has_line(text, "flowmedic_server_http_5xx_responses_total{server=\"10.0.0.5:443\"} 4"));
    CHECK(strstr(text, "10.0.0.5:23") == NULL);
    CHECK(has_line(text, "flowmedic_metrics_servers_hidden 1"));
    /* a later interval without 10.0.0.5: its gauges say "no data", its counters stay */
    row_for(&h, "[2001:db8::1]:8080");
    h.start_ns = 20000000000ull;
    h.attempts = 1;
    h.established = 1;
    sink_put(&metrics_sink_ops, m, OUT_HEALTH, &h);
    metrics_render(m, text, sizeof(text));
    CHECK(has_line(text, "flowmedic_server_response_time_seconds{server=\"10.0.0.5:443\","
                         "quantile=\"0.99\"} NaN"));
    CHECK(has_line(text, "flowmedic_server_error_ratio{server=\"10.0.0.5:443\"} 0"));
    CHECK(has_line(text,
                   "flowmedic_server_alert_open{server=\"10.0.0.5:443\",rule=\"error_rate\"} 0"));
    CHECK(has_line(text, "flowmedic_server_connection_attempts_total{server=\"10.0.0.5:443\"} 15"));
    CHECK(has_line(text,
                   "flowmedic_server_connection_attempts_total{server=\"[2001:db8::1]:8080\"} 2"));
    metrics_update_self(m, &self); /* rewrites the file */
    n = metrics_render(m, text, sizeof(text));
    /* each family is declared once, before its samples */
    const char *p = strstr(text, "# TYPE flowmedic_server_failed_total counter");
    CHECK(p && !strstr(p + 1, "# TYPE flowmedic_server_failed_total"));
    /* the file holds the same text, written whole */
    FILE *fp = fopen(path, "r");
    CHECK(fp != NULL);
    if (fp) {
        static char filebuf[1 << 20];
        size_t got = fread(filebuf, 1, sizeof(filebuf) - 1, fp);
        filebuf[got] = 0;
        fclose(fp);
        CHECK(got == n && strcmp(filebuf, text) == 0);
    }
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    metrics_free(m);
    /* renamed into place: the directory holds the file and nothing else */
    DIR *dp = opendir(dir);
    int entries = 0;
    for (struct dirent *de; dp && (de = readdir(dp)) != NULL;)
        entries += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    if (dp)
        closedir(dp);
    CHECK_EQ_U64(entries, 1);
    unlink(path);
    rmdir(dir);
    /* bad arguments are reported, not crashed on */
    struct metrics_opts bad1 = {.listen = "nonsense"}, bad2 = {.listen = "10.0.0.1.2:99"};
    struct metrics_opts bad3 = {.file = "/nonexistent-dir/x.prom"};
    CHECK(metrics_new(&bad1, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "ADDR:PORT") != NULL);
    CHECK(metrics_new(&bad2, err, sizeof(err)) == NULL);
    CHECK(metrics_new(&bad3, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "directory /nonexistent-dir") != NULL);
}

/* Write text to a temporary config file and load it into a default config. */
static int load(const char *body, struct eng_config *cfg, char *err, size_t errlen)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/fm-test-config-%d.conf", (int)getpid());
    FILE *f = fopen(path, "w");
    if (!f)
        return -99;
    fputs(body, f);
    fclose(f);
    memset(cfg, 0, sizeof(*cfg));
    cfg->slow_response_s = 5;
    int rc = cli_config_load(path, cfg, err, errlen);
    unlink(path);
    return rc;
}

static void test_config(void)
{
    struct eng_config c;
    char err[512];
    int rc = load("# flowmedic.conf\n"
                  "\n"
                  "interval = 30            # seconds\n"
                  "slow-response = 2.5\n"
                  "error_rate = 2%\n"
                  "retrans-rate = 10\n"
                  "resp-p99 = 1500ms\n"
                  "cert-days = 14\n"
                  "idle-timeout = 2m\n"
                  "max-flows = 5000\n"
                  "server = 10.0.0.5:443\n"
                  "server = [2001:db8::1]:8080\n"
                  "alert-clear-intervals = 6\n"
                  "alert-clear-ratio = 0.5\n"
                  "tls-keylog = /tmp/keys.log\n",
                  &c, err, sizeof(err));
    CHECK(rc == 0);
    if (rc)
        fprintf(stderr, "%s\n", err);
    CHECK_EQ_U64(c.health_interval_ns, 30000000000ull);
    CHECK(c.slow_response_s == 2.5);
    CHECK(fabs(c.alert_error_rate - 0.02) < 1e-12);
    CHECK(fabs(c.alert_retrans_rate - 0.10) < 1e-12);
    CHECK(fabs(c.alert_resp_p99_s - 1.5) < 1e-12);
    CHECK_EQ_U64(c.cert_expiring_days, 14);
    CHECK_EQ_U64(c.idle_timeout_ns, 120000000000ull);
    CHECK_EQ_U64(c.max_flows, 5000);
    CHECK_EQ_U64(c.nservers, 2);
    CHECK_EQ_U64(c.servers[0].port, 443);
    CHECK_EQ_U64(c.servers[1].ip.family, 6);
    CHECK_EQ_U64(c.alert_clear_intervals, 6);
    CHECK(c.alert_clear_ratio == 0.5);
    CHECK(c.tls_keylog && strcmp(c.tls_keylog, "/tmp/keys.log") == 0);

    /* errors name the file and the line */
    CHECK(load("interval = 10\nslow-response\n", &c, err, sizeof(err)) == ERR_ARG);
    CHECK(strstr(err, ":2: expected 'key = value'") != NULL);
    CHECK(load("# ok\ninterval = 10\n\nfrobnicate = 1\n", &c, err, sizeof(err)) == ERR_ARG);
    CHECK(strstr(err, ":4: unknown key 'frobnicate'") != NULL);
    CHECK(load("slow-response = fast\n", &c, err, sizeof(err)) == ERR_ARG);
    CHECK(strstr(err, ":1: slow-response: 'fast' is not a number") != NULL);
    CHECK(load("error-rate = 150\n", &c, err, sizeof(err)) == ERR_ARG);
    CHECK(load("interval = 0.5\n", &c, err, sizeof(err)) == ERR_ARG);
    CHECK(load("server = 10.0.0.300\n", &c, err, sizeof(err)) == ERR_ARG);
    CHECK(load("interval =\n", &c, err, sizeof(err)) == ERR_ARG);
    CHECK(load("slow-response = 5 parsecs\n", &c, err, sizeof(err)) == ERR_ARG);
    CHECK(cli_config_load("/nonexistent/flowmedic.conf", &c, err, sizeof(err)) == ERR_IO);
    CHECK(strstr(err, "/nonexistent/flowmedic.conf") != NULL);
}

/* The exporter-toolkit web configuration: the YAML subset, users, errors with line numbers. */
static void test_webconfig(void)
{
    /* bcrypt (cost 4) of "pw" with a fixed salt: crypt("pw", "$2b$04$ABCDEFGHIJKLMNOPQRSTUu") */
    static const char hash_b[] = "$2b$04$ABCDEFGHIJKLMNOPQRSTUu5Ei5Kj5Gsa0AB1uBn8MIqK1Rhp7zTWC";
    char err[512], yaml[1024];
    struct webconfig wc;
    snprintf(yaml, sizeof(yaml),
             "---\r\n# comment\r\ntls_server_config:   # trailing comment\r\n"
             "    cert_file: 'it''s.crt'\r\n    key_file: \"a \\\"b\\\".key\"\r\n\r\n"
             "basic_auth_users:\r\n  alice: %s\r\n  'bob smith': \"%s\"\r\n",
             hash_b, hash_b);
    CHECK(webconfig_parse(yaml, "w.yml", NULL, &wc, err, sizeof(err)) == 0);
    CHECK_EQ_U64(wc.nusers, 2);
    CHECK(strcmp(wc.users[1].name, "bob smith") == 0);
    CHECK(wc.cert_pem == NULL); /* no directory given: files not read */
    CHECK(webconfig_check(&wc, "alice", "pw"));
    CHECK(webconfig_check(&wc, "bob smith", "pw"));
    CHECK(!webconfig_check(&wc, "alice", "pW"));
    CHECK(!webconfig_check(&wc, "alice", ""));
    CHECK(!webconfig_check(&wc, "carol", "pw"));
    webconfig_free(&wc);
    /* the $2y$ spelling (htpasswd) of the same hash is accepted */
    char hash_y[sizeof(hash_b)];
    memcpy(hash_y, hash_b, sizeof(hash_b));
    hash_y[2] = 'y';
    snprintf(yaml, sizeof(yaml), "basic_auth_users:\n  alice: %s\n", hash_y);
    CHECK(webconfig_parse(yaml, "w.yml", NULL, &wc, err, sizeof(err)) == 0);
    CHECK(webconfig_check(&wc, "alice", "pw"));
    webconfig_free(&wc);
    /* errors name the line */
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"basic_auth_users:\n  a: x\n", "w.yml:2: user 'a': the password must be"},
        {"tls_server_config:\n  cert_file: a\n   key_file: b\n", "w.yml:3: inconsistent"},
        {"  cert_file: a\n", "w.yml:1: unexpected indentation"},
        {"tls_server_config:\n  cert_file: 'a\n", "w.yml:2: unterminated single-quoted"},
        {"tls_server_config:\n  cert_file: \"a\\tb\"\n", "w.yml:2: unsupported escape \\t"},
        {"tls_server_config:\n  cert_file: a: b\n", "w.yml:2: unsupported YAML: ': '"},
        {"tls_server_config:\n  cert_file: &x a\n", "w.yml:2: unsupported YAML ('&')"},
        {"tls_server_config: x\n", "w.yml:1: tls_server_config: expected its entries"},
        {"basic_auth_users:\n", "basic_auth_users has no users"},
        {"http_server_config:\n  http2: false\n", "w.yml:1: http_server_config is not supported"},
        {"tls_server_config:\n  cert_file: a\ntls_server_config:\n",
         "w.yml:3: tls_server_config given twice"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        CHECK(webconfig_parse(bad[i].text, "w.yml", NULL, &wc, err, sizeof(err)) != 0);
        if (!strstr(err, bad[i].want))
            fprintf(stderr, "case %zu: got '%s', want '%s'\n", i, err, bad[i].want);
        CHECK(strstr(err, bad[i].want) != NULL);
        webconfig_free(&wc);
    }
}

int main(void)
{
    TEST_RUN(test_exposition);
    TEST_RUN(test_webconfig);
    TEST_RUN(test_config);
    return TEST_REPORT();
}
