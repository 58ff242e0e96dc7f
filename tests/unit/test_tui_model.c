/* test_tui_model.c - unit tests of the live view's model: rings, rates, servers, sort, filter. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/finding.h"
#include "capture/decode.h"
#include "tests/unit/testhelp.h"
#include "tui/model.h"

#define SEC 1000000000ull

static struct endpoint ep(const char *s)
{
    struct endpoint e;
    memset(&e, 0, sizeof(e));
    if (pkt_endpoint_parse(s, &e) != 0)
        abort();
    return e;
}

static struct flow_record flow(uint64_t id, const char *client, const char *server,
                               uint64_t first_s, uint64_t last_s)
{
    struct flow_record r;
    memset(&r, 0, sizeof(r));
    r.flow_id = id;
    r.client = ep(client);
    r.server = ep(server);
    r.first_ts_ns = first_s * SEC;
    r.last_ts_ns = last_s * SEC;
    r.first_frame = id * 10;
    r.state = FS_CLOSED;
    r.close = CLOSE_FIN;
    r.saw_syn = true;
    r.syn_count = 1;
    r.synack_count = 1;
    r.hs_rtt_server_ns = 2000000; /* 2 ms */
    r.hs_rtt_client_ns = 1000000; /* 1 ms */
    r.packets[0] = r.packets[1] = 5;
    return r;
}

static struct finding finding(uint64_t id, enum fkind k, enum severity sev, const char *client,
                              const char *server, uint64_t ts_s, const char *detail)
{
    struct finding f;
    memset(&f, 0, sizeof(f));
    f.ts_ns = ts_s * SEC;
    f.kind = k;
    f.sev = sev;
    f.flow_id = id;
    f.has_client = client != NULL;
    if (client)
        f.client = ep(client);
    f.server = ep(server);
    f.confidence = 1;
    snprintf(f.detail, sizeof(f.detail), "%s", detail);
    return f;
}

static struct health_row health(const char *server, uint64_t start_s, uint64_t attempts, double err,
                                double retr)
{
    struct health_row h;
    memset(&h, 0, sizeof(h));
    h.start_ns = start_s * SEC;
    h.len_ns = 10 * SEC;
    h.server = ep(server);
    h.attempts = attempts;
    h.established = attempts;
    h.resets = 1;
    h.failed_tls = 2;
    h.error_rate = err;
    h.retrans_rate = retr;
    h.hs_rtt_p50 = h.hs_rtt_p95 = h.hs_rtt_p99 = NAN;
    h.resp_p50 = h.resp_p95 = h.resp_p99 = NAN;
    return h;
}

static void test_finding_ring_bounds(void)
{
    struct tui_model *m = tui_model_new(NULL);
    CHECK(m != NULL);
    for (uint64_t i = 1; i <= TUI_FINDINGS + 10; i++) {
        struct finding f = finding(i, FK_RETRANSMISSION, SEV_WARN, "10.0.0.1:40000", "10.0.0.5:443",
                                   i, "retransmitted");
        tui_model_add_finding(m, &f);
    }
    CHECK_EQ_U64(tui_model_findings_kept(m), TUI_FINDINGS);
    CHECK_EQ_U64(m->nfindings, TUI_FINDINGS + 10);
    CHECK_EQ_U64(tui_model_finding_at(m, 0)->flow_id, TUI_FINDINGS + 10); /* newest first */
    CHECK_EQ_U64(tui_model_finding_at(m, TUI_FINDINGS - 1)->flow_id, 11); /* oldest kept */
    CHECK(tui_model_finding_at(m, TUI_FINDINGS) == NULL);
    static const struct finding *rows[TUI_FINDINGS + 20];
    size_t n = tui_model_finding_rows(m, "", rows, TUI_FINDINGS + 20);
    CHECK_EQ_U64(n, TUI_FINDINGS);
    CHECK_EQ_U64(rows[0]->flow_id, TUI_FINDINGS + 10);
    CHECK_EQ_U64(rows[1]->flow_id, TUI_FINDINGS + 9);
    /* the max argument bounds the output */
    CHECK_EQ_U64(tui_model_finding_rows(m, NULL, rows, 3), 3);
    CHECK_EQ_U64(m->findings_by_sev[SEV_WARN], TUI_FINDINGS + 10);
    /* one server aggregated from all of them */
    CHECK_EQ_U64(m->nservers, 1);
    CHECK_EQ_U64(m->servers[0].nfind[SEV_WARN], TUI_FINDINGS + 10);
    tui_model_free(m);
}

static void test_flow_ring_bounds_and_bad_flows(void)
{
    struct tui_model *m = tui_model_new(NULL);
    /* flow 1 is refused: it is kept in the bad ring although many clean flows follow */
    struct flow_record r = flow(1, "10.0.0.1:40000", "10.0.0.5:443", 1, 1);
    r.close = CLOSE_REFUSED;
    r.hs_rtt_server_ns = r.hs_rtt_client_ns = -1;
    tui_model_add_flow(m, &r);
    for (uint64_t i = 2; i <= TUI_FLOWS + 50; i++) {
        struct flow_record c = flow(i, "10.0.0.2:40000", "10.0.0.5:443", i, i + 1);
        tui_model_add_flow(m, &c);
    }
    static struct tui_flow_row rows[TUI_ROWS];
    size_t n = tui_model_flow_rows(m, TUI_SORT_WORST, "", rows, TUI_ROWS);
    CHECK_EQ_U64(n, TUI_FLOWS + 1);
    CHECK_EQ_U64(rows[0].rec->flow_id, 1); /* the refused flow is the worst */
    CHECK(!rows[0].open);
    CHECK(tui_model_find_flow(m, 1, NULL) != NULL);
    CHECK(tui_model_find_flow(m, 2, NULL) == NULL); /* overwritten */
    CHECK(tui_model_find_flow(m, TUI_FLOWS + 50, NULL) != NULL);
    /* open flows: at most TUI_OPEN kept */
    static struct flow_record open[TUI_OPEN + 10];
    for (size_t i = 0; i < TUI_OPEN + 10; i++)
        open[i] = flow(100000 + i, "10.0.0.3:40000", "10.0.0.5:443", 1, 2);
    tui_model_set_open(m, open, TUI_OPEN + 10);
    CHECK_EQ_U64(m->nopen, TUI_OPEN);
    n = tui_model_flow_rows(m, TUI_SORT_WORST, NULL, rows, TUI_ROWS);
    CHECK_EQ_U64(n, TUI_FLOWS + 1 + TUI_OPEN);
    tui_model_set_open(m, NULL, 0);
    CHECK_EQ_U64(m->nopen, 0);
    tui_model_free(m);
}

static void test_tls_cert_ring_bounds(void)
{
    struct tui_model *m = tui_model_new(NULL);
    struct tls_record t;
    struct cert_record c;
    memset(&t, 0, sizeof(t));
    memset(&c, 0, sizeof(c));
    for (uint64_t i = 1; i <= TUI_TLS * 3; i++) {
        t.flow_id = i;
        tui_model_add_tls(m, &t);
    }
    for (uint64_t i = 1; i <= TUI_CERTS * 3; i++) {
        c.flow_id = i;
        tui_model_add_cert(m, &c);
    }
    CHECK_EQ_U64(m->ntls, TUI_TLS * 3);
    CHECK_EQ_U64(m->ncerts, TUI_CERTS * 3);
    /* the oldest were overwritten: no TLS event left for flow 1, some for the newest */
    struct tui_event ev[TUI_EVENTS];
    CHECK_EQ_U64(tui_model_timeline(m, 1, ev, TUI_EVENTS), 0);
    CHECK(tui_model_timeline(m, TUI_TLS * 3, ev, TUI_EVENTS) >= 1);
    tui_model_free(m);
}

static void test_rate(void)
{
    struct tui_rate r;
    memset(&r, 0, sizeof(r));
    tui_rate_update(&r, 10 * SEC, 100, 1000);
    CHECK(!r.valid);
    tui_rate_update(&r, 10 * SEC + SEC / 2, 600, 60000); /* half a window: not yet */
    CHECK(!r.valid);
    tui_rate_update(&r, 12 * SEC, 2100, 501000); /* 2000 packets, 500000 bytes in 2 s */
    CHECK(r.valid);
    CHECK(fabs(r.pps - 1000.0) < 1e-6);
    CHECK(fabs(r.mbps - 2.0) < 1e-6);            /* 4,000,000 bits / 2 s */
    tui_rate_update(&r, 13 * SEC, 2100, 501000); /* idle second */
    CHECK(fabs(r.pps) < 1e-9);
    /* counters going back (a new run or file) rebase without a bogus value */
    tui_rate_update(&r, 14 * SEC, 5, 50);
    CHECK(fabs(r.pps) < 1e-9);
    tui_rate_update(&r, 15 * SEC, 105, 1050);
    CHECK(fabs(r.pps - 100.0) < 1e-6);
    /* time going back rebases as well */
    tui_rate_update(&r, 1 * SEC, 200, 2000);
    CHECK(fabs(r.pps - 100.0) < 1e-6);
    CHECK_EQ_U64(r.t0_ns, 1 * SEC);
}

static void test_status_and_header_rate(void)
{
    struct tui_model *m = tui_model_new(NULL);
    double pps, mbps;
    char src[32] = "eth1";
    struct tui_status st = {.source = src,
                            .filter = "tcp port 443",
                            .live = true,
                            .packets = 0,
                            .bytes = 0,
                            .store_state = "no database"};
    tui_model_set_status(m, &st, 100 * SEC);
    src[0] = 'X'; /* the model keeps its own copy */
    CHECK(strcmp(m->source, "eth1") == 0);
    CHECK(strcmp(m->filter, "tcp port 443") == 0);
    CHECK(m->st.source == NULL);
    /* live: wall time drives the rate */
    st.packets = 5000;
    st.bytes = 1250000;
    st.elapsed_ns = 50 * SEC;
    tui_model_set_status(m, &st, 101 * SEC);
    tui_model_header_rate(m, &pps, &mbps);
    CHECK(fabs(pps - 5000.0) < 1e-6);
    CHECK(fabs(mbps - 10.0) < 1e-6);
    /* replay: capture time drives it; once done, the whole-run average is shown */
    struct tui_model *r = tui_model_new(NULL);
    struct tui_status rs = {.source = "a.pcap", .now_ns = 1000 * SEC, .packets = 0};
    tui_model_set_status(r, &rs, 5 * SEC);
    rs.now_ns = 1004 * SEC;
    rs.packets = 4000;
    rs.bytes = 4000000;
    rs.elapsed_ns = 4 * SEC;
    tui_model_set_status(r, &rs, 5 * SEC + 1000); /* wall time barely moved (--speed max) */
    tui_model_header_rate(r, &pps, &mbps);
    CHECK(fabs(pps - 1000.0) < 1e-6);
    CHECK(fabs(mbps - 8.0) < 1e-6);
    rs.replay_done = true;
    rs.packets = 8000;
    rs.elapsed_ns = 4 * SEC;
    tui_model_set_status(r, &rs, 6 * SEC);
    tui_model_header_rate(r, &pps, &mbps);
    CHECK(fabs(pps - 2000.0) < 1e-6);
    CHECK(strcmp(r->filter, "") == 0);
    tui_model_free(r);
    tui_model_free(m);
}

static void test_server_aggregation(void)
{
    struct tui_model *m = tui_model_new(NULL);
    struct health_row h = health("10.0.0.5:443", 0, 100, 0.01, 0.0);
    tui_model_add_health(m, &h);
    h = health("10.0.0.5:443", 10, 200, 0.03, 0.01);
    h.resp_n = 10;
    h.resp_p99 = 1.0;
    tui_model_add_health(m, &h);
    struct health_row b = health("[2001:db8::5]:8080", 10, 50, 0.0, 0.0);
    tui_model_add_health(m, &b);
    CHECK_EQ_U64(m->nservers, 2);
    const struct tui_server *a = &m->servers[0];
    CHECK_EQ_U64(a->attempts, 300);
    CHECK_EQ_U64(a->established, 300);
    CHECK_EQ_U64(a->resets, 2);
    CHECK_EQ_U64(a->tls_failed, 4);
    CHECK_EQ_U64(a->intervals, 2);
    CHECK(fabs(tui_model_server_attempts_per_s(a) - 20.0) < 1e-9); /* 200 in 10 s */
    float hist[TUI_HIST];
    CHECK_EQ_U64(tui_model_server_history(a, 0, hist, TUI_HIST), 2);
    CHECK(fabs(hist[0] - 0.01f) < 1e-6 && fabs(hist[1] - 0.03f) < 1e-6); /* oldest first */
    uint64_t starts[TUI_HIST];
    CHECK_EQ_U64(tui_model_server_history_start(a, starts, TUI_HIST), 2);
    CHECK_EQ_U64(starts[0], 0);
    CHECK_EQ_U64(starts[1], 10 * SEC);
    CHECK(tui_model_find_server(m, &h.server) == a);
    struct endpoint none = ep("10.9.9.9:1");
    CHECK(tui_model_find_server(m, &none) == NULL);
    CHECK_EQ_U64(tui_model_server_history(a, 1, hist, 1), 1);
    CHECK(fabs(hist[0] - 0.01f) < 1e-6); /* newest retrans rate */
    /* 3 % error rate: over half of the 5 % threshold -> yellow, since that interval */
    CHECK(tui_model_server_level(m, a) == TUI_LEVEL_WARN);
    CHECK_EQ_U64(a->bad_since_ns, 10 * SEC);
    CHECK_EQ_U64(m->servers[1].bad_since_ns, 0);
    CHECK(tui_model_server_level(m, &m->servers[1]) == TUI_LEVEL_OK);
    h = health("10.0.0.5:443", 20, 100, 0.06, 0.0);
    tui_model_add_health(m, &h);
    CHECK(tui_model_server_level(m, a) == TUI_LEVEL_BAD);
    CHECK_EQ_U64(a->bad_since_ns, 10 * SEC); /* still the same trouble */
    h = health("10.0.0.5:443", 30, 100, 0.0, 0.0);
    h.resp_n = 3;
    h.resp_p99 = 6.0; /* over the 5 s p99 threshold */
    tui_model_add_health(m, &h);
    CHECK(tui_model_server_level(m, a) == TUI_LEVEL_BAD);
    h = health("10.0.0.5:443", 40, 100, 0.0, 0.0);
    h.open_alerts = 1;
    tui_model_add_health(m, &h);
    CHECK(tui_model_server_level(m, a) == TUI_LEVEL_BAD);
    h = health("10.0.0.5:443", 50, 100, 0.0, 0.04); /* retrans 4 % > 2.5 % -> yellow */
    tui_model_add_health(m, &h);
    CHECK(tui_model_server_level(m, a) == TUI_LEVEL_WARN);
    /* the history is a bounded ring */
    for (int i = 0; i < TUI_HIST * 2; i++) {
        h = health("10.0.0.5:443", 60 + 10 * (uint64_t)i, 10, 0.001 * i, 0);
        tui_model_add_health(m, &h);
    }
    CHECK_EQ_U64(a->hist_n, TUI_HIST);
    CHECK_EQ_U64(a->bad_since_ns, (60 + 10 * 26) * SEC); /* 0 % ok .. 2.5 % ok, 2.6 % warn .. */
    CHECK_EQ_U64(tui_model_server_history(a, 0, hist, TUI_HIST), TUI_HIST);
    CHECK(fabs(hist[TUI_HIST - 1] - 0.001f * (TUI_HIST * 2 - 1)) < 1e-6);
    CHECK(fabs(hist[0] - 0.001f * TUI_HIST) < 1e-6);
    CHECK_EQ_U64(tui_model_server_history_start(a, starts, TUI_HIST), TUI_HIST);
    CHECK_EQ_U64(starts[0], (60 + 10 * TUI_HIST) * SEC);
    CHECK_EQ_U64(starts[TUI_HIST - 1], (60 + 10 * (2 * TUI_HIST - 1)) * SEC);
    h = health("10.0.0.5:443", 1000, 100, 0.03, 0.0); /* back to yellow */
    tui_model_add_health(m, &h);
    CHECK(tui_model_server_level(m, a) == TUI_LEVEL_WARN);
    /* a server known only from findings takes its colour from their severity */
    struct finding f =
        finding(9, FK_CONN_REFUSED, SEV_ERROR, "10.0.0.1:1", "10.0.0.9:25", 70, "refused");
    tui_model_add_finding(m, &f);
    CHECK_EQ_U64(m->nservers, 3);
    CHECK(tui_model_server_level(m, &m->servers[2]) == TUI_LEVEL_BAD);
    CHECK_EQ_U64(m->servers[2].bad_since_ns, 70 * SEC);
    /* rows: worst first, filtered by address */
    const struct tui_server *rows[TUI_SERVERS];
    size_t n = tui_model_server_rows(m, "", rows, TUI_SERVERS);
    CHECK_EQ_U64(n, 3);
    CHECK(rows[0] == &m->servers[2]); /* red */
    CHECK(rows[1] == &m->servers[0]); /* yellow */
    CHECK(rows[2] == &m->servers[1]); /* green */
    n = tui_model_server_rows(m, "2001:DB8", rows, TUI_SERVERS);
    CHECK_EQ_U64(n, 1);
    CHECK(rows[0] == &m->servers[1]);
    /* custom thresholds */
    struct tui_thresholds th = {.error_rate = 0.5, .retrans_rate = 0.5, .resp_p99_s = 60};
    struct tui_model *m2 = tui_model_new(&th);
    h = health("10.0.0.5:443", 0, 100, 0.06, 0.06);
    tui_model_add_health(m2, &h);
    CHECK(tui_model_server_level(m2, &m2->servers[0]) == TUI_LEVEL_OK);
    tui_model_free(m2);
    tui_model_free(m);
}

static void test_server_table_full(void)
{
    struct tui_model *m = tui_model_new(NULL);
    char s[32];
    for (int i = 0; i < TUI_SERVERS + 5; i++) {
        snprintf(s, sizeof(s), "10.1.%d.%d:443", i / 200, i % 200 + 1);
        struct health_row h = health(s, 100 + (uint64_t)i, 1, 0, 0);
        tui_model_add_health(m, &h);
    }
    CHECK_EQ_U64(m->nservers, TUI_SERVERS);
    CHECK_EQ_U64(m->servers_replaced, 5);
    /* the least recently active (the first five) were replaced, the newest is present */
    const struct tui_server *rows[TUI_SERVERS];
    CHECK_EQ_U64(tui_model_server_rows(m, "10.1.0.1:", rows, TUI_SERVERS), 0);
    snprintf(s, sizeof(s), "10.1.0.%d:", TUI_SERVERS + 5);
    CHECK_EQ_U64(tui_model_server_rows(m, s, rows, TUI_SERVERS), 1);
    tui_model_free(m);
}

/* Four ended flows with distinct bytes, ages, retransmissions and problems. */
static struct tui_model *sort_fixture(void)
{
    struct tui_model *m = tui_model_new(NULL);
    struct flow_record a = flow(1, "10.0.0.1:1001", "10.0.0.5:443", 100, 101); /* 1 s */
    a.bytes[0] = 100;
    a.bytes[1] = 50000;
    struct flow_record b = flow(2, "10.0.0.2:1002", "10.0.0.5:443", 100, 190); /* 90 s */
    b.bytes[1] = 10;
    b.ev[DIR_S2C][TEV_RETRANSMISSION] = 8; /* one was a SYN-ACK retry: not data */
    b.data_retrans[DIR_S2C] = 7;
    struct flow_record c = flow(3, "10.0.0.3:1003", "10.0.0.6:8080", 100, 130); /* 30 s */
    c.bytes[0] = 1000;
    c.ev[DIR_C2S][TEV_RETRANSMISSION] = 1;
    c.ev[DIR_C2S][TEV_FAST_RETRANSMISSION] = 1;
    c.data_retrans[DIR_C2S] = 2;
    struct flow_record d = flow(4, "10.0.0.4:1004", "10.0.0.5:443", 100, 105); /* 5 s */
    d.close = CLOSE_RST_SERVER;
    struct finding fd = finding(4, FK_TLS_ALERT, SEV_ERROR, "10.0.0.4:1004", "10.0.0.5:443", 105,
                                "fatal alert handshake_failure (40) from the server");
    struct finding fc = finding(3, FK_ZERO_WINDOW, SEV_WARN, "10.0.0.3:1003", "10.0.0.6:8080", 120,
                                "server advertised a zero window");
    tui_model_add_finding(m, &fd);
    tui_model_add_finding(m, &fc);
    tui_model_add_flow(m, &a);
    tui_model_add_flow(m, &b);
    tui_model_add_flow(m, &c);
    tui_model_add_flow(m, &d);
    return m;
}

static void order_is(const struct tui_flow_row *rows, size_t n, const uint64_t *ids, size_t nids,
                     int line)
{
    int bad = n != nids;
    for (size_t i = 0; !bad && i < n; i++)
        bad = rows[i].rec->flow_id != ids[i];
    CHECK(!bad);
    if (bad) {
        fprintf(stderr, "  (line %d) got:", line);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %llu", (unsigned long long)rows[i].rec->flow_id);
        fprintf(stderr, "\n");
    }
}

static void test_sorting(void)
{
    struct tui_model *m = sort_fixture();
    static struct tui_flow_row rows[TUI_ROWS];
    size_t n = tui_model_flow_rows(m, TUI_SORT_WORST, "", rows, TUI_ROWS);
    /* error finding + reset, then warn finding, then 7 retransmissions, then clean */
    order_is(rows, n, (const uint64_t[]){4, 3, 2, 1}, 4, __LINE__);
    CHECK_EQ_U64(rows[0].last_kind, FK_TLS_ALERT);
    CHECK(rows[0].worst == SEV_ERROR);
    CHECK_EQ_U64(rows[3].last_kind, (uint64_t)-1);
    n = tui_model_flow_rows(m, TUI_SORT_BYTES, "", rows, TUI_ROWS);
    order_is(rows, n, (const uint64_t[]){1, 3, 2, 4}, 4, __LINE__);
    n = tui_model_flow_rows(m, TUI_SORT_AGE, "", rows, TUI_ROWS);
    order_is(rows, n, (const uint64_t[]){2, 3, 4, 1}, 4, __LINE__);
    CHECK_EQ_U64(rows[0].age_ns, 90 * SEC);
    n = tui_model_flow_rows(m, TUI_SORT_RETRANS, "", rows, TUI_ROWS);
    order_is(rows, n, (const uint64_t[]){2, 3, 4, 1}, 4, __LINE__);
    CHECK_EQ_U64(rows[0].retrans, 7);
    CHECK_EQ_U64(rows[1].retrans, 2);
    CHECK(strcmp(tui_sort_name(TUI_SORT_RETRANS), "retrans") == 0);
    tui_model_free(m);
}

static void test_filtering(void)
{
    struct tui_model *m = sort_fixture();
    static struct tui_flow_row rows[TUI_ROWS];
    size_t n = tui_model_flow_rows(m, TUI_SORT_WORST, "10.0.0.2", rows, TUI_ROWS);
    order_is(rows, n, (const uint64_t[]){2}, 1, __LINE__);
    n = tui_model_flow_rows(m, TUI_SORT_WORST, ":8080", rows, TUI_ROWS); /* server port */
    order_is(rows, n, (const uint64_t[]){3}, 1, __LINE__);
    n = tui_model_flow_rows(m, TUI_SORT_WORST, "TLS_ALERT", rows, TUI_ROWS); /* kind, any case */
    order_is(rows, n, (const uint64_t[]){4}, 1, __LINE__);
    n = tui_model_flow_rows(m, TUI_SORT_WORST, "rst_server", rows, TUI_ROWS); /* close name */
    order_is(rows, n, (const uint64_t[]){4}, 1, __LINE__);
    n = tui_model_flow_rows(m, TUI_SORT_WORST, "nothing-like-this", rows, TUI_ROWS);
    CHECK_EQ_U64(n, 0);
    n = tui_model_flow_rows(m, TUI_SORT_BYTES, "10.0.0.5", rows, TUI_ROWS);
    order_is(rows, n, (const uint64_t[]){1, 2, 4}, 3, __LINE__);
    const struct finding *fr[8];
    n = tui_model_finding_rows(m, "zero_w", fr, 8);
    CHECK_EQ_U64(n, 1);
    CHECK_EQ_U64(fr[0]->flow_id, 3);
    n = tui_model_finding_rows(m, "10.0.0.4:1004", fr, 8);
    CHECK_EQ_U64(n, 1);
    CHECK_EQ_U64(fr[0]->kind, FK_TLS_ALERT);
    n = tui_model_finding_rows(m, "error", fr, 8); /* severity */
    CHECK_EQ_U64(n, 1);
    n = tui_model_finding_rows(m, NULL, fr, 8);
    CHECK_EQ_U64(n, 2);
    CHECK_EQ_U64(fr[0]->flow_id, 3); /* newest first */
    tui_model_free(m);
}

static void test_open_and_ended_dedupe(void)
{
    struct tui_model *m = tui_model_new(NULL);
    struct tui_status st = {.source = "x", .now_ns = 200 * SEC};
    tui_model_set_status(m, &st, 0);
    struct flow_record ended = flow(7, "10.0.0.1:1", "10.0.0.5:443", 100, 150);
    ended.close = CLOSE_RST_CLIENT;
    tui_model_add_flow(m, &ended);
    struct flow_record open[2];
    open[0] = flow(7, "10.0.0.1:1", "10.0.0.5:443", 100, 120);
    open[0].state = FS_ESTABLISHED;
    open[0].close = CLOSE_OPEN;
    open[1] = flow(8, "10.0.0.2:2", "10.0.0.5:443", 180, 190);
    open[1].state = FS_ESTABLISHED;
    open[1].close = CLOSE_OPEN;
    tui_model_set_open(m, open, 2);
    static struct tui_flow_row rows[TUI_ROWS];
    size_t n = tui_model_flow_rows(m, TUI_SORT_AGE, "", rows, TUI_ROWS);
    CHECK_EQ_U64(n, 2);
    /* flow 7 appears once, as its final (ended) record: age = last - first */
    CHECK_EQ_U64(rows[0].rec->flow_id, 7);
    CHECK(!rows[0].open);
    CHECK_EQ_U64(rows[0].age_ns, 50 * SEC);
    /* an open flow's age runs to "now" */
    CHECK_EQ_U64(rows[1].rec->flow_id, 8);
    CHECK(rows[1].open);
    CHECK_EQ_U64(rows[1].age_ns, 20 * SEC);
    /* a state only the open duplicate of flow 7 has does not bring flow 7 back */
    n = tui_model_flow_rows(m, TUI_SORT_AGE, "establ", rows, TUI_ROWS);
    CHECK_EQ_U64(n, 1);
    CHECK_EQ_U64(rows[0].rec->flow_id, 8);
    /* an address filter keeps the ended record, not the open duplicate */
    n = tui_model_flow_rows(m, TUI_SORT_AGE, "10.0.0.1:1", rows, TUI_ROWS);
    CHECK_EQ_U64(n, 1);
    CHECK(!rows[0].open);
    bool is_open;
    CHECK(tui_model_find_flow(m, 8, &is_open) != NULL && is_open);
    CHECK(tui_model_find_flow(m, 7, &is_open) != NULL && !is_open);
    tui_model_free(m);
}

static bool any_event(const struct tui_event *ev, size_t n, const char *text)
{
    for (size_t i = 0; i < n; i++)
        if (strstr(ev[i].text, text))
            return true;
    return false;
}

static void test_timeline(void)
{
    struct tui_model *m = tui_model_new(NULL);
    struct flow_record r = flow(5, "10.0.0.1:50000", "10.0.0.5:443", 100, 103);
    r.close = CLOSE_RST_CLIENT;
    r.syn_count = 3;
    struct finding f = finding(5, FK_TLS_ALERT, SEV_ERROR, "10.0.0.1:50000", "10.0.0.5:443", 101,
                               "client sent fatal alert unknown_ca (48)");
    struct finding other =
        finding(6, FK_RESET, SEV_WARN, "10.0.0.2:1", "10.0.0.5:443", 101, "not this flow");
    struct tls_record t;
    memset(&t, 0, sizeof(t));
    t.flow_id = 5;
    t.ts_ns = 100 * SEC + 5000000;
    t.client_version = 0x0303;
    t.version = 0x0303;
    t.cipher = 0xc02f;
    snprintf(t.sni, sizeof(t.sni), "invoicing.example");
    t.outcome = TLS_FAILED_ALERT;
    t.alert_level = 2;
    t.alert_desc = 48;
    t.alert_from = DIR_C2S;
    t.duration_ns = 20000000;
    struct cert_record c;
    memset(&c, 0, sizeof(c));
    c.flow_id = 5;
    c.ts_ns = 100 * SEC + 10000000;
    snprintf(c.subject, sizeof(c.subject), "CN=invoicing.example");
    snprintf(c.issuer, sizeof(c.issuer), "CN=Private CA");
    c.not_before = 1700000000;
    c.not_after = 1800000000;
    snprintf(c.key_type, sizeof(c.key_type), "RSA");
    c.key_bits = 2048;
    tui_model_add_finding(m, &other);
    tui_model_add_finding(m, &f);
    tui_model_add_tls(m, &t);
    tui_model_add_cert(m, &c);
    tui_model_add_flow(m, &r);
    struct tui_event ev[TUI_EVENTS];
    size_t n = tui_model_timeline(m, 5, ev, TUI_EVENTS);
    CHECK(n >= 7);
    for (size_t i = 1; i < n; i++)
        CHECK(ev[i - 1].ts_ns <= ev[i].ts_ns);
    CHECK(strstr(ev[0].text, "SYN 10.0.0.1:50000 -> 10.0.0.5:443") != NULL);
    CHECK(strstr(ev[0].text, "3 SYNs sent (2 retries)") != NULL);
    CHECK(any_event(ev, n, "SYN-ACK from server after 2.0ms"));
    CHECK(any_event(ev, n, "handshake complete"));
    CHECK(any_event(ev, n, "TLS ClientHello: SNI invoicing.example"));
    CHECK(any_event(
        ev, n, "TLS ServerHello: TLS 1.2, cipher TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (0xc02f)"));
    CHECK(any_event(ev, n, "certificate 0: CN=invoicing.example; issuer CN=Private CA"));
    CHECK(any_event(ev, n, "fatal alert unknown_ca (48) from the client"));
    /* the outcome is placed at ClientHello + duration: after the certificate (+10 ms) */
    for (size_t i = 0; i < n; i++)
        if (strstr(ev[i].text, "TLS handshake failed"))
            CHECK_EQ_U64(ev[i].ts_ns, 100 * SEC + 25000000);
    CHECK(any_event(ev, n, "tls_alert: client sent fatal alert unknown_ca (48)"));
    CHECK(!any_event(ev, n, "not this flow"));
    CHECK(strstr(ev[n - 1].text, "ended: rst_client") != NULL);
    /* 3 SYNs (2 retries) but no data retransmitted: the end line names what it counts */
    CHECK(strstr(ev[n - 1].text, "data retransmissions c->s 0, s->c 0") != NULL);
    CHECK_EQ_U64(ev[n - 1].sev, SEV_ERROR);
    /* without a duration, a failed handshake ends at its TLS finding */
    struct tui_model *m2 = tui_model_new(NULL);
    t.duration_ns = -1;
    tui_model_add_tls(m2, &t);
    tui_model_add_finding(m2, &f);
    n = tui_model_timeline(m2, 5, ev, TUI_EVENTS);
    for (size_t i = 0; i < n; i++)
        if (strstr(ev[i].text, "TLS handshake failed"))
            CHECK_EQ_U64(ev[i].ts_ns, 101 * SEC);
    tui_model_free(m2);
    /* the bound is respected */
    CHECK_EQ_U64(tui_model_timeline(m, 5, ev, 3), 3);
    /* an unknown flow has no events */
    CHECK_EQ_U64(tui_model_timeline(m, 999, ev, TUI_EVENTS), 0);
    tui_model_free(m);
}

/* After SYN retries the SYN-ACK is placed at the SYN it answered + the server RTT, not at the
   first SYN + the RTT (tcp.c times the RTT from the answered SYN). */
static void test_timeline_syn_retry(void)
{
    struct tui_model *m = tui_model_new(NULL);
    struct flow_record r = flow(7, "10.0.0.1:50001", "10.0.0.5:80", 100, 110);
    r.syn_count = 3;                       /* SYNs at 100 s, 101 s, 103 s */
    r.hs_syn_ts_ns = 103 * SEC;            /* the third one was answered */
    r.hs_rtt_server_ns = 2000000;          /* 2 ms later */
    r.hs_rtt_client_ns = 1000000;
    tui_model_add_flow(m, &r);
    struct tui_event ev[TUI_EVENTS];
    size_t n = tui_model_timeline(m, 7, ev, TUI_EVENTS);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        if (strstr(ev[i].text, "SYN-ACK from server after 2.0ms")) {
            CHECK_EQ_U64(ev[i].ts_ns, 103 * SEC + 2000000);
            found |= 1;
        }
        if (strstr(ev[i].text, "handshake complete")) {
            CHECK_EQ_U64(ev[i].ts_ns, 103 * SEC + 3000000);
            found |= 2;
        }
    }
    CHECK_EQ_U64(found, 3);
    for (size_t i = 1; i < n; i++)
        CHECK(ev[i - 1].ts_ns <= ev[i].ts_ns);
    /* a record without the answered SYN's time (0) keeps the first SYN as the reference */
    struct tui_model *m2 = tui_model_new(NULL);
    r.hs_syn_ts_ns = 0;
    tui_model_add_flow(m2, &r);
    n = tui_model_timeline(m2, 7, ev, TUI_EVENTS);
    CHECK(n >= 2);
    for (size_t i = 0; i < n; i++)
        if (strstr(ev[i].text, "SYN-ACK from server"))
            CHECK_EQ_U64(ev[i].ts_ns, 100 * SEC + 2000000);
    tui_model_free(m2);
    tui_model_free(m);
}

static void test_copy_is_snapshot(void)
{
    struct tui_model *live = tui_model_new(NULL), *snap = tui_model_new(NULL);
    struct finding f = finding(1, FK_RESET, SEV_WARN, "10.0.0.1:1", "10.0.0.5:443", 1, "rst");
    tui_model_add_finding(live, &f);
    tui_model_copy(snap, live);
    tui_model_add_finding(live, &f);
    CHECK_EQ_U64(tui_model_findings_kept(snap), 1);
    CHECK_EQ_U64(tui_model_findings_kept(live), 2);
    tui_model_free(live);
    tui_model_free(snap);
}

static void test_formats(void)
{
    char b[32];
    CHECK(strcmp(tui_fmt_bytes(999, b, sizeof(b)), "999") == 0);
    CHECK(strcmp(tui_fmt_bytes(20480, b, sizeof(b)), "20.0K") == 0);
    CHECK(strcmp(tui_fmt_bytes(315000, b, sizeof(b)), "308K") == 0);
    CHECK(strcmp(tui_fmt_bytes(3ull * 1024 * 1024 * 1024, b, sizeof(b)), "3072M") == 0);
    CHECK(strcmp(tui_fmt_bytes(UINT64_MAX, b, sizeof(b)), "16.0E") == 0);
    CHECK(strcmp(tui_fmt_dur(12300000000ull, b, sizeof(b)), "12.3s") == 0);
    CHECK(strcmp(tui_fmt_dur(1900000, b, sizeof(b)), "1ms") == 0);
    CHECK(strcmp(tui_fmt_dur(245 * SEC, b, sizeof(b)), "4m05s") == 0);
    CHECK(strcmp(tui_fmt_dur(7380 * SEC, b, sizeof(b)), "2h03m") == 0);
    CHECK(strcmp(tui_fmt_ms(0.0123, b, sizeof(b)), "12.3ms") == 0);
    CHECK(strcmp(tui_fmt_ms(1.2, b, sizeof(b)), "1.20s") == 0);
    CHECK(strcmp(tui_fmt_ms(NAN, b, sizeof(b)), "-") == 0);
    CHECK(strcmp(tls_alert_name(40), "handshake_failure") == 0);
}

/* A small deterministic PRNG (xorshift64) for the stress test. */
static uint64_t rnd_state = 88172645463325252ull;
static uint64_t rnd(uint64_t n)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return n ? rnd_state % n : rnd_state;
}

static struct endpoint rnd_ep(void)
{
    struct endpoint e;
    memset(&e, 0, sizeof(e));
    e.ip.family = rnd(4) ? 4 : 6;
    for (size_t i = 0; i < (e.ip.family == 4 ? 4u : 16u); i++)
        e.ip.a[i] = (uint8_t)rnd(4);
    e.port = (uint16_t)rnd(5);
    return e;
}

/* Random records of every type; the queries keep their invariants and stay in bounds. */
static void test_random_stress(void)
{
    struct tui_model *m = tui_model_new(NULL);
    static struct tui_flow_row rows[TUI_ROWS];
    static const struct finding *fr[TUI_FINDINGS];
    static struct flow_record open[TUI_OPEN + 1];
    const struct tui_server *sr[TUI_SERVERS];
    struct tui_event ev[TUI_EVENTS];
    static const char *const filters[] = {"", "0.1", ":3", "retrans", "fin", "::", "x"};
    int bad_order = 0, dup = 0, bad_time = 0;
    for (int round = 0; round < 20000; round++) {
        uint64_t id = 1 + rnd(3000), ts = (uint64_t)round * 1000000 + rnd(1000000);
        switch (rnd(6)) {
        case 0: {
            struct finding f;
            memset(&f, 0, sizeof(f));
            f.ts_ns = ts;
            f.kind = (enum fkind)rnd(FK__COUNT);
            f.sev = (enum severity)rnd(3);
            f.flow_id = rnd(5) ? id : 0;
            f.has_client = rnd(2);
            f.client = rnd_ep();
            f.server = rnd_ep();
            snprintf(f.detail, sizeof(f.detail), "random %d", round);
            tui_model_add_finding(m, &f);
            break;
        }
        case 1: {
            struct flow_record r;
            memset(&r, 0, sizeof(r));
            r.flow_id = id;
            r.client = rnd_ep();
            r.server = rnd_ep();
            r.first_ts_ns = ts;
            r.last_ts_ns = ts + rnd(1000000000);
            r.close = (enum flow_close)rnd(10);
            r.bytes[0] = rnd(0);
            r.ev[1][TEV_RETRANSMISSION] = (uint32_t)rnd(100);
            r.hs_rtt_server_ns = (int64_t)rnd(3) - 1;
            r.hs_rtt_client_ns = (int64_t)rnd(3) - 1;
            tui_model_add_flow(m, &r);
            break;
        }
        case 2: {
            struct health_row h;
            memset(&h, 0, sizeof(h));
            h.server = rnd_ep();
            h.start_ns = ts;
            h.len_ns = rnd(3) * 1000000000ull;
            h.attempts = rnd(100);
            h.error_rate = rnd(3) ? (double)rnd(100) / 100 : NAN;
            h.retrans_rate = (double)rnd(100) / 100;
            h.resp_n = (uint32_t)rnd(2);
            h.resp_p99 = (double)rnd(10);
            h.open_alerts = (uint32_t)rnd(2);
            tui_model_add_health(m, &h);
            break;
        }
        case 3: {
            struct tls_record x;
            memset(&x, 0, sizeof(x));
            x.flow_id = id;
            x.ts_ns = ts;
            x.outcome = (enum tls_outcome)rnd(8);
            x.alert_desc = (int)rnd(130);
            x.alert_from = (int)rnd(3) - 1;
            x.duration_ns = (int64_t)rnd(3) - 1;
            tui_model_add_tls(m, &x);
            break;
        }
        case 4: {
            struct cert_record c;
            memset(&c, 0, sizeof(c));
            c.flow_id = id;
            c.ts_ns = ts;
            c.not_after = (int64_t)rnd(0) >> 1; /* any date, even absurd ones */
            tui_model_add_cert(m, &c);
            break;
        }
        default: {
            size_t n = rnd(TUI_OPEN + 2);
            for (size_t i = 0; i < n && i < TUI_OPEN + 1; i++) {
                memset(&open[i], 0, sizeof(open[i]));
                open[i].flow_id = 1 + rnd(3000);
                open[i].first_ts_ns = ts - rnd(ts + 1);
                open[i].last_ts_ns = ts;
                open[i].client = rnd_ep();
                open[i].server = rnd_ep();
            }
            tui_model_set_open(m, open, n < TUI_OPEN + 1 ? n : TUI_OPEN + 1);
            break;
        }
        }
        if (round % 97 != 0)
            continue;
        const char *flt = filters[rnd(sizeof(filters) / sizeof(filters[0]))];
        enum tui_sort sort = (enum tui_sort)rnd(TUI_SORT__COUNT);
        size_t n = tui_model_flow_rows(m, sort, flt, rows, TUI_ROWS);
        for (size_t i = 1; i < n; i++) {
            if (sort == TUI_SORT_WORST && rows[i - 1].score < rows[i].score)
                bad_order++;
            if (sort == TUI_SORT_RETRANS && rows[i - 1].retrans < rows[i].retrans)
                bad_order++;
            if (sort == TUI_SORT_AGE && rows[i - 1].age_ns < rows[i].age_ns)
                bad_order++;
            for (size_t j = 0; j < i; j++)
                dup += rows[j].rec->flow_id == rows[i].rec->flow_id;
        }
        size_t nf = tui_model_finding_rows(m, flt, fr, TUI_FINDINGS);
        CHECK(nf <= TUI_FINDINGS);
        CHECK(tui_model_server_rows(m, flt, sr, TUI_SERVERS) <= TUI_SERVERS);
        size_t ne = tui_model_timeline(m, 1 + rnd(3000), ev, TUI_EVENTS);
        for (size_t i = 1; i < ne; i++)
            bad_time += ev[i - 1].ts_ns > ev[i].ts_ns;
    }
    CHECK_EQ_U64(bad_order, 0);
    CHECK_EQ_U64(dup, 0);
    CHECK_EQ_U64(bad_time, 0);
    CHECK(m->nservers <= TUI_SERVERS);
    CHECK(m->nopen <= TUI_OPEN);
    tui_model_free(m);
}

/* A server with an open incident is not ok, even when its newest interval is clear. */
static void test_incidents(void)
{
    struct tui_model *m = tui_model_new(NULL);
    CHECK(m != NULL);
    if (!m)
        return;
    struct health_row h = health("10.0.0.5:443", 1000, 20, 0.0, 0.0);
    tui_model_add_health(m, &h);
    const struct tui_server *s = tui_model_find_server(m, &h.server);
    CHECK(s != NULL);
    if (!s) {
        tui_model_free(m);
        return;
    }
    CHECK(tui_model_server_level(m, s) == TUI_LEVEL_OK);
    static struct incident_record r;
    memset(&r, 0, sizeof(r));
    r.id = 7;
    r.event = IE_OPEN;
    r.server = h.server;
    r.cause = IC_HOST_UNREACHABLE;
    r.sev = SEV_ERROR;
    r.since_ns = 1005 * SEC;
    tui_model_add_incident(m, &r);
    CHECK(tui_model_server_level(m, s) == TUI_LEVEL_BAD);
    const struct incident_record *rows[TUI_INCIDENTS];
    CHECK_EQ_U64(tui_model_incident_rows(m, rows, TUI_INCIDENTS), 1);
    /* an idle interval does not make it ok while the incident is open */
    h = health("10.0.0.5:443", 1010, 0, 0.0, 0.0);
    tui_model_add_health(m, &h);
    CHECK(tui_model_server_level(m, s) == TUI_LEVEL_BAD);
    r.event = IE_UPDATE;
    r.conns_affected = 9;
    tui_model_add_incident(m, &r);
    CHECK_EQ_U64(tui_model_incident_rows(m, rows, TUI_INCIDENTS), 1);
    CHECK_EQ_U64(rows[0]->conns_affected, 9);
    r.event = IE_CLOSE;
    tui_model_add_incident(m, &r);
    CHECK_EQ_U64(tui_model_incident_rows(m, rows, TUI_INCIDENTS), 0);
    CHECK(tui_model_server_level(m, s) == TUI_LEVEL_OK);
    CHECK_EQ_U64(m->incidents_opened, 1);
    /* the table keeps the worst when full */
    for (int i = 0; i < TUI_INCIDENTS + 4; i++) {
        r.id = 100 + (uint64_t)i;
        r.event = IE_OPEN;
        r.sev = i < TUI_INCIDENTS ? SEV_INFO : SEV_ERROR;
        tui_model_add_incident(m, &r);
    }
    size_t n = tui_model_incident_rows(m, rows, TUI_INCIDENTS);
    CHECK_EQ_U64(n, TUI_INCIDENTS);
    CHECK(rows[0]->sev == SEV_ERROR && rows[3]->sev == SEV_ERROR && rows[4]->sev == SEV_INFO);
    /* a flow's problem is its worst finding, not its newest */
    struct finding f1 = finding(42, FK_SYN_BACKLOG_DROP, SEV_ERROR, "10.0.0.9:5000",
                                "10.0.0.5:443", 1001, "dropped");
    struct finding f2 = finding(42, FK_KEEP_ALIVE, SEV_INFO, "10.0.0.9:5000", "10.0.0.5:443",
                                1002, "keep-alive");
    tui_model_add_finding(m, &f1);
    tui_model_add_finding(m, &f2);
    CHECK_EQ_U64(m->problems[42 & (TUI_PROBLEMS - 1)].kind, FK_SYN_BACKLOG_DROP);
    tui_model_free(m);
}

int main(void)
{
    TEST_RUN(test_finding_ring_bounds);
    TEST_RUN(test_flow_ring_bounds_and_bad_flows);
    TEST_RUN(test_tls_cert_ring_bounds);
    TEST_RUN(test_rate);
    TEST_RUN(test_status_and_header_rate);
    TEST_RUN(test_server_aggregation);
    TEST_RUN(test_server_table_full);
    TEST_RUN(test_sorting);
    TEST_RUN(test_filtering);
    TEST_RUN(test_open_and_ended_dedupe);
    TEST_RUN(test_timeline);
    TEST_RUN(test_timeline_syn_retry);
    TEST_RUN(test_copy_is_snapshot);
    TEST_RUN(test_formats);
    TEST_RUN(test_random_stress);
    TEST_RUN(test_incidents);
    return TEST_REPORT();
}
