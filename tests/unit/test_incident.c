/*
 * test_incident.c - the incident layer (analyzers/incident.c), driven with synthetic segments
 * through the engine: when incidents open and close, which cause, and what must not open.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/engine.h"
#include "analyzers/finding.h"
#include "tests/unit/helpers.h"
#include "tests/unit/testhelp.h"

#define S (1000000000ull)      /* one second in ns */
#define MS (1000000ull)        /* one millisecond in ns */
#define T0 (1700000000ull * S) /* a capture start time */

#define MAX_PKTS 20000
#define MAX_INC 256
#define MAX_FINDINGS 4096

static struct incident_record inc[MAX_INC]; /* incident events captured */
static struct finding fnd[MAX_FINDINGS];    /* findings captured */
static struct th_capture cap = {
    .fnd = fnd, .max_fnd = MAX_FINDINGS, .inc = inc, .max_inc = MAX_INC};

static struct pkt pkts[MAX_PKTS];
static size_t npkts;

/* Queue one segment from src to dst at T0 + t with the given TTL. */
static void add_ttl(uint64_t t, struct endpoint src, struct endpoint dst, uint8_t flags,
                    uint32_t seq, uint32_t ack, uint32_t len, uint8_t ttl)
{
    if (npkts >= MAX_PKTS)
        return;
    struct pkt *p = &pkts[npkts++];
    th_tcp_seg(p, T0 + t, src, dst, flags, seq, ack, len, 64240);
    p->ttl = ttl;
    p->ip_id = (uint16_t)npkts;
    p->tcp_csum = (uint16_t)(npkts * 7919u);
}

static void add(uint64_t t, struct endpoint src, struct endpoint dst, uint8_t flags, uint32_t seq,
                uint32_t ack, uint32_t len)
{
    add_ttl(t, src, dst, flags, seq, ack, len, 64);
}

/* Feed the packets in time order, ticking every second of capture time up to T0 + end. */
static void run_until(uint64_t end)
{
    th_sort_by_time(pkts, npkts);
    struct engine *e = th_engine_new(NULL, &cap);
    CHECK(e != NULL);
    if (!e)
        return;
    uint64_t t = T0;
    for (size_t i = 0; i < npkts; i++) {
        while (t + S <= pkts[i].ts_ns) {
            t += S;
            eng_tick(e, t);
        }
        pkts[i].frame = i + 1;
        eng_packet(e, &pkts[i]);
    }
    while (t + S <= T0 + end) {
        t += S;
        eng_tick(e, t);
    }
    th_engine_finish(e);
    npkts = 0;
}

static const struct incident_record *find_inc(enum inc_cause c, enum inc_event ev)
{
    for (size_t i = 0; i < cap.ninc; i++)
        if (inc[i].cause == c && inc[i].event == ev)
            return &inc[i];
    return NULL;
}

static size_t count_opened(void)
{
    size_t n = 0;
    for (size_t i = 0; i < cap.ninc; i++)
        n += inc[i].event == IE_OPEN;
    return n;
}

static size_t count_kind(enum fkind k)
{
    size_t n = 0;
    for (size_t i = 0; i < cap.nfnd; i++)
        n += fnd[i].kind == k;
    return n;
}

static void dump(void)
{
    for (size_t i = 0; i < cap.ninc; i++)
        fprintf(stderr, "  #%llu %s %s %s since +%.1f ts +%.1f until +%.1f %s: %s\n",
                (unsigned long long)inc[i].id, inc_event_name(inc[i].event),
                inc_cause_name(inc[i].cause), sev_name(inc[i].sev),
                (double)(inc[i].since_ns - T0) / 1e9, (double)(inc[i].ts_ns - T0) / 1e9,
                inc[i].until_ns ? (double)(inc[i].until_ns - T0) / 1e9 : -1.0,
                inc_close_name(inc[i].close_reason), inc[i].summary);
}

static struct endpoint srv(void)
{
    return th_ep4(10, 0, 0, 5, 443);
}

/* A clean connection from cli at t: handshake, a request, a response, FIN both ways. */
static void clean_conn(uint64_t t, struct endpoint cli)
{
    struct endpoint sv = srv();
    uint32_t ci = 1000u * cli.port, si = 7000u * cli.port;
    uint64_t rtt = MS;
    add(t, cli, sv, TCP_SYN, ci, 0, 0);
    add(t + rtt, sv, cli, TCP_SYN | TCP_ACK, si, ci + 1, 0);
    add(t + rtt + 10000, cli, sv, TCP_ACK, ci + 1, si + 1, 0);
    add(t + rtt + 20000, cli, sv, TCP_ACK | TCP_PSH, ci + 1, si + 1, 100);
    add(t + 2 * rtt, sv, cli, TCP_ACK | TCP_PSH, si + 1, ci + 101, 200);
    add(t + 2 * rtt + 10000, cli, sv, TCP_ACK | TCP_FIN, ci + 101, si + 201, 0);
    add(t + 3 * rtt, sv, cli, TCP_ACK | TCP_FIN, si + 201, ci + 102, 0);
    add(t + 3 * rtt + 10000, cli, sv, TCP_ACK, ci + 102, si + 202, 0);
}

/* An attempt whose SYNs (at +0, +1 s, +3 s, Linux's back-off) get no answer. */
static void dropped_conn(uint64_t t, struct endpoint cli)
{
    uint32_t ci = 1000u * cli.port;
    add(t, cli, srv(), TCP_SYN, ci, 0, 0);
    add(t + S, cli, srv(), TCP_SYN, ci, 0, 0);
    add(t + 3 * S, cli, srv(), TCP_SYN, ci, 0, 0);
}

/* A firewall drops SYNs from +20 s to +30 s of steady traffic (a connection every 0.5 s). */
static void test_firewall_window(void)
{
    uint16_t port = 20000;
    for (uint64_t t = 0; t < 50 * S; t += 500 * MS) {
        struct endpoint cli = th_ep4(192, 168, 1, (uint8_t)(1 + port % 3), port);
        port++;
        if (t >= 20 * S && t < 30 * S)
            dropped_conn(t, cli);
        else
            clean_conn(t, cli);
    }
    run_until(55 * S);
    const struct incident_record *o = find_inc(IC_HOST_UNREACHABLE, IE_OPEN);
    const struct incident_record *c = find_inc(IC_HOST_UNREACHABLE, IE_CLOSE);
    CHECK(o != NULL);
    CHECK(c != NULL);
    if (o) {
        CHECK(o->since_ns >= T0 + 20 * S && o->since_ns <= T0 + 21 * S);
        CHECK(o->ts_ns <= T0 + 35 * S); /* within 15 s of the first evidence */
        CHECK(o->ts_ns <= T0 + 24 * S); /* in fact: first retry + its wait */
        CHECK(o->sev == SEV_ERROR);
        CHECK(o->layer == IL_TRANSPORT);
        CHECK(o->conns_affected >= 2);
        CHECK(o->clients_affected >= 2);
        CHECK(strstr(o->advice, "firewall") != NULL);
    }
    if (c) {
        CHECK(c->close_reason == ICR_RECOVERED);
        CHECK(c->until_ns >= T0 + 29 * S && c->until_ns <= T0 + 31 * S);
        CHECK(c->ts_ns <= T0 + 45 * S);
        CHECK(c->conns_affected >= 18);
    }
    /* the attempts answered after a retry at the end of the window are not failures, and the
       fault is one incident, not a syn_queue_overflow as well */
    CHECK(find_inc(IC_SYN_QUEUE_OVERFLOW, IE_OPEN) == NULL);
    CHECK(find_inc(IC_SERVICE_DOWN, IE_OPEN) == NULL);
    if (!o || !c)
        dump();
}

/* The same fault with no traffic after it: it is not healthy, it closes as no_traffic. */
static void test_no_traffic_is_not_clear(void)
{
    uint16_t port = 21000;
    for (uint64_t t = 0; t < 10 * S; t += 500 * MS)
        clean_conn(t, th_ep4(192, 168, 1, 1, port++));
    for (uint64_t t = 10 * S; t < 14 * S; t += 500 * MS)
        dropped_conn(t, th_ep4(192, 168, 1, 2, port++));
    run_until(100 * S);
    const struct incident_record *o = find_inc(IC_HOST_UNREACHABLE, IE_OPEN);
    const struct incident_record *c = find_inc(IC_HOST_UNREACHABLE, IE_CLOSE);
    CHECK(o != NULL);
    CHECK(c != NULL);
    if (c) {
        CHECK(c->close_reason == ICR_NO_TRAFFIC);
        CHECK(c->ts_ns >= T0 + 60 * S); /* stays open through the quiet period */
    }
    if (!o || !c)
        dump();
}

/* A listener that stops for 10 s: refusals, then answers again. */
static void test_service_down_window(void)
{
    uint16_t port = 22000;
    for (uint64_t t = 0; t < 40 * S; t += 500 * MS) {
        struct endpoint cli = th_ep4(192, 168, 2, 1, port++);
        if (t >= 10 * S && t < 20 * S) {
            uint32_t ci = 1000u * cli.port;
            add(t, cli, srv(), TCP_SYN, ci, 0, 0);
            add(t + MS, srv(), cli, TCP_RST | TCP_ACK, 0, ci + 1, 0);
        } else {
            clean_conn(t, cli);
        }
    }
    run_until(45 * S);
    const struct incident_record *o = find_inc(IC_SERVICE_DOWN, IE_OPEN);
    const struct incident_record *c = find_inc(IC_SERVICE_DOWN, IE_CLOSE);
    CHECK(o != NULL);
    CHECK(c != NULL);
    if (o) {
        CHECK(o->ts_ns <= T0 + 13 * S);
        CHECK(o->kinds[FK_CONN_REFUSED] >= 2);
        CHECK(strstr(o->advice, "ss -lnt") != NULL);
    }
    if (c) {
        CHECK(c->close_reason == ICR_RECOVERED);
        CHECK(c->until_ns >= T0 + 19 * S && c->until_ns <= T0 + 21 * S);
        CHECK(c->ts_ns <= T0 + 30 * S);
    }
    if (!o || !c)
        dump();
}

/* A RST before the real SYN-ACK, then a normal handshake: not a refusal. */
static void test_rst_before_synack(void)
{
    for (int i = 0; i < 4; i++) {
        struct endpoint cli = th_ep4(192, 168, 3, 1, (uint16_t)(23000 + i));
        uint32_t ci = 1000u * cli.port, si = 5000u * cli.port;
        uint64_t t = (uint64_t)i * 2 * S;
        add(t, cli, srv(), TCP_SYN, ci, 0, 0);
        add(t + MS, srv(), cli, TCP_RST | TCP_ACK, 0, ci + 1, 0);
        add(t + 3 * MS, srv(), cli, TCP_SYN | TCP_ACK, si, ci + 1, 0);
        add(t + 4 * MS, cli, srv(), TCP_ACK, ci + 1, si + 1, 0);
        add(t + 5 * MS, cli, srv(), TCP_ACK | TCP_PSH, ci + 1, si + 1, 100);
        add(t + 7 * MS, srv(), cli, TCP_ACK | TCP_PSH, si + 1, ci + 101, 100);
    }
    run_until(20 * S);
    CHECK(find_inc(IC_SERVICE_DOWN, IE_OPEN) == NULL);
    CHECK_EQ_U64(count_kind(FK_CONN_REFUSED), 0);
    if (count_opened())
        dump();
}

/* Many attempts, a third answered only after one SYN retry: syn_queue_overflow (warn). */
static void test_syn_queue_retried(void)
{
    struct endpoint sv = srv();
    for (int i = 0; i < 30; i++) {
        struct endpoint cli = th_ep4(192, 168, 4, 1, (uint16_t)(24000 + i));
        uint32_t ci = 1000u * cli.port, si = 3000u * cli.port;
        uint64_t t = (uint64_t)i * 10 * MS, ans = t + MS;
        add(t, cli, sv, TCP_SYN, ci, 0, 0);
        if (i % 3 == 0) {
            add(t + S, cli, sv, TCP_SYN, ci, 0, 0);
            ans = t + S + MS;
        }
        add(ans, sv, cli, TCP_SYN | TCP_ACK, si, ci + 1, 0);
        add(ans + MS, cli, sv, TCP_ACK, ci + 1, si + 1, 0);
        add(ans + 2 * MS, cli, sv, TCP_ACK | TCP_FIN, ci + 1, si + 1, 0);
        add(ans + 3 * MS, sv, cli, TCP_ACK | TCP_FIN, si + 1, ci + 2, 0);
    }
    run_until(10 * S);
    const struct incident_record *o = find_inc(IC_SYN_QUEUE_OVERFLOW, IE_OPEN);
    CHECK(o != NULL);
    if (o) {
        CHECK(o->sev == SEV_WARN); /* every connection was answered in the end */
        CHECK(strstr(o->advice, "net.ipv4.tcp_max_syn_backlog") != NULL);
        CHECK(strstr(o->advice, "net.core.somaxconn") != NULL);
    }
    CHECK(find_inc(IC_HOST_UNREACHABLE, IE_OPEN) == NULL);
    CHECK(find_inc(IC_NETWORK_LOSS, IE_OPEN) == NULL); /* SYN retries are not data loss */
    if (!o)
        dump();
}

/* One flow of a few segments with one retransmission: no incident (minimum volume). */
static void test_tiny_sample(void)
{
    struct endpoint cli = th_ep4(192, 168, 5, 1, 25000), sv = srv();
    uint32_t ci = 100, si = 900;
    add(0, cli, sv, TCP_SYN, ci, 0, 0);
    add(MS, sv, cli, TCP_SYN | TCP_ACK, si, ci + 1, 0);
    add(2 * MS, cli, sv, TCP_ACK, ci + 1, si + 1, 0);
    add(3 * MS, cli, sv, TCP_ACK | TCP_PSH, ci + 1, si + 1, 100);
    add(300 * MS, cli, sv, TCP_ACK | TCP_PSH, ci + 1, si + 1, 100); /* retransmission */
    add(301 * MS, sv, cli, TCP_ACK | TCP_PSH, si + 1, ci + 101, 100);
    add(302 * MS, cli, sv, TCP_ACK, ci + 101, si + 101, 0);
    run_until(5 * S);
    CHECK_EQ_U64(count_opened(), 0);
    if (count_opened())
        dump();
}

/* Bulk data with 10 % retransmitted: network_loss opens. */
static void test_loss(void)
{
    struct endpoint cli = th_ep4(192, 168, 6, 1, 26000), sv = srv();
    uint32_t ci = 100, si = 900, off = 0;
    add(0, cli, sv, TCP_SYN, ci, 0, 0);
    add(MS, sv, cli, TCP_SYN | TCP_ACK, si, ci + 1, 0);
    add(2 * MS, cli, sv, TCP_ACK, ci + 1, si + 1, 0);
    uint64_t t = 3 * MS;
    for (int i = 0; i < 200; i++) {
        add(t, sv, cli, TCP_ACK, si + 1 + off, ci + 1, 1000);
        if (i % 10 == 9) { /* lost: re-sent later, then ACKed */
            add(t + 20 * MS, sv, cli, TCP_ACK, si + 1 + off, ci + 1, 1000);
            add(t + 21 * MS, cli, sv, TCP_ACK, ci + 1, si + 1 + off + 1000, 0);
        } else {
            add(t + MS, cli, sv, TCP_ACK, ci + 1, si + 1 + off + 1000, 0);
        }
        off += 1000;
        t += 30 * MS;
    }
    run_until(10 * S);
    const struct incident_record *o = find_inc(IC_NETWORK_LOSS, IE_OPEN);
    CHECK(o != NULL);
    if (o) {
        CHECK(o->layer == IL_NETWORK);
        CHECK(o->sev >= SEV_WARN);
        CHECK(o->kinds[FK_RETRANSMISSION] + o->kinds[FK_FAST_RETRANSMISSION] >= 2);
        CHECK(strstr(o->summary, "server to client") != NULL);
    }
    const struct incident_record *c = find_inc(IC_NETWORK_LOSS, IE_CLOSE);
    CHECK(c != NULL);
    if (c)
        CHECK_EQ_U64(c->kinds[FK_RETRANSMISSION] + c->kinds[FK_FAST_RETRANSMISSION], 20);
    if (!o)
        dump();
}

/* One client probes 40 ports of a host, all refused: a scan, and no service_down. */
static void test_scan(void)
{
    struct endpoint cli = th_ep4(198, 51, 100, 7, 40000);
    for (int i = 0; i < 40; i++) {
        struct endpoint sv = th_ep4(10, 0, 0, 9, (uint16_t)(1000 + i));
        add((uint64_t)i * 5 * MS, cli, sv, TCP_SYN, 77, 0, 0);
        add((uint64_t)i * 5 * MS + MS, sv, cli, TCP_RST | TCP_ACK, 0, 78, 0);
    }
    run_until(30 * S);
    const struct incident_record *o = find_inc(IC_SCAN, IE_OPEN);
    CHECK(o != NULL);
    if (o) {
        CHECK(o->sev == SEV_INFO);
        CHECK(o->has_client);
        CHECK(o->server.port == 0);
        CHECK(o->client.ip.a[0] == 198);
    }
    CHECK(find_inc(IC_SERVICE_DOWN, IE_OPEN) == NULL);
    CHECK(find_inc(IC_HOST_UNREACHABLE, IE_OPEN) == NULL);
    /* the probes are kept out of the servers' health too */
    CHECK_EQ_U64(cap.health_failed, 0);
    if (!o)
        dump();
}

/* A reset with another TTL that the endpoint's later packets contradict: not forged. */
static void test_reset_ttl_revised(void)
{
    struct endpoint cli = th_ep4(192, 168, 7, 1, 27000), sv = srv();
    uint32_t ci = 100, si = 900;
    add_ttl(0, cli, sv, TCP_SYN, ci, 0, 0, 64);
    add_ttl(MS, sv, cli, TCP_SYN | TCP_ACK, si, ci + 1, 0, 60);
    add_ttl(2 * MS, cli, sv, TCP_ACK, ci + 1, si + 1, 0, 64);
    add_ttl(3 * MS, cli, sv, TCP_ACK | TCP_PSH, ci + 1, si + 1, 100, 64);
    add_ttl(4 * MS, sv, cli, TCP_ACK | TCP_PSH, si + 1, ci + 101, 100, 60);
    add_ttl(5 * MS, sv, cli, TCP_RST | TCP_ACK, si + 101, ci + 101, 0, 50);
    /* the server's later packets carry the reset's TTL: its path changed, it sent the RST */
    add_ttl(6 * MS, sv, cli, TCP_ACK | TCP_PSH, si + 101, ci + 101, 100, 50);
    run_until(15 * S);
    CHECK(find_inc(IC_FORGED_RESETS, IE_OPEN) == NULL);
    CHECK(find_inc(IC_SERVER_RESETS, IE_OPEN) != NULL);
    /* det_tcp's reset finding is revised the same way */
    CHECK_EQ_U64(count_kind(FK_RESET), 1);
    for (size_t i = 0; i < cap.nfnd; i++)
        if (fnd[i].kind == FK_RESET)
            CHECK(!fnd[i].fx.reset.ttl_mismatch && strstr(fnd[i].detail, "not forged"));
    /* and the same with no later packet: forged */
    add_ttl(0, cli, sv, TCP_SYN, ci, 0, 0, 64);
    add_ttl(MS, sv, cli, TCP_SYN | TCP_ACK, si, ci + 1, 0, 60);
    add_ttl(2 * MS, cli, sv, TCP_ACK, ci + 1, si + 1, 0, 64);
    add_ttl(3 * MS, cli, sv, TCP_ACK | TCP_PSH, ci + 1, si + 1, 100, 64);
    add_ttl(4 * MS, sv, cli, TCP_ACK | TCP_PSH, si + 1, ci + 101, 100, 60);
    add_ttl(5 * MS, sv, cli, TCP_RST | TCP_ACK, si + 101, ci + 101, 0, 50);
    run_until(15 * S);
    CHECK(find_inc(IC_FORGED_RESETS, IE_OPEN) != NULL);
    CHECK(find_inc(IC_SERVER_RESETS, IE_OPEN) == NULL);
    for (size_t i = 0; i < cap.nfnd; i++)
        if (fnd[i].kind == FK_RESET)
            CHECK(fnd[i].fx.reset.ttl_mismatch);
}

/* Clean traffic opens nothing, and every open incident closes once (end of input too). */
static void test_clean(void)
{
    uint16_t port = 28000;
    for (uint64_t t = 0; t < 30 * S; t += 200 * MS, port++)
        clean_conn(t, th_ep4(192, 168, 8, (uint8_t)(1 + port % 5), port));
    run_until(35 * S);
    CHECK_EQ_U64(count_opened(), 0);
    if (count_opened())
        dump();
}

/* A fault still on at the end of input closes as end_of_input with until = the end. */
static void test_end_of_input(void)
{
    uint16_t port = 29000;
    for (uint64_t t = 0; t < 5 * S; t += 500 * MS)
        clean_conn(t, th_ep4(192, 168, 9, 1, port++));
    for (uint64_t t = 5 * S; t < 12 * S; t += 500 * MS)
        dropped_conn(t, th_ep4(192, 168, 9, 2, port++));
    run_until(0);
    const struct incident_record *c = find_inc(IC_HOST_UNREACHABLE, IE_CLOSE);
    CHECK(c != NULL);
    if (c) {
        CHECK(c->close_reason == ICR_END_OF_INPUT);
        CHECK(c->until_ns >= T0 + 14 * S);
    }
    /* ids are unique and every open has its close */
    size_t opens = 0, closes = 0;
    for (size_t i = 0; i < cap.ninc; i++) {
        opens += inc[i].event == IE_OPEN;
        closes += inc[i].event == IE_CLOSE;
        CHECK(inc[i].id >= 1);
    }
    CHECK_EQ_U64(opens, closes);
}

/* Updates come while the scope grows, at most one per incident-update (10 s). */
static void test_updates_rate_limited(void)
{
    uint16_t port = 30000;
    for (uint64_t t = 0; t < 5 * S; t += 500 * MS)
        clean_conn(t, th_ep4(192, 168, 10, 1, port++));
    for (uint64_t t = 5 * S; t < 45 * S; t += 250 * MS)
        dropped_conn(t, th_ep4(192, 168, 10, 2, port++));
    run_until(50 * S);
    uint64_t last = 0;
    size_t updates = 0;
    for (size_t i = 0; i < cap.ninc; i++) {
        if (inc[i].cause != IC_HOST_UNREACHABLE || inc[i].event == IE_CLOSE)
            continue;
        if (inc[i].event == IE_UPDATE) {
            updates++;
            CHECK(inc[i].ts_ns - last >= 10 * S);
        }
        last = inc[i].ts_ns;
    }
    CHECK(updates >= 2 && updates <= 5);
}

/* Backends of one pool: the one that refuses is named the outlier among its peers. */
static void test_pool_outlier(void)
{
    struct endpoint lb = th_ep4(10, 1, 0, 1, 0);
    for (int b = 0; b < 4; b++) {
        struct endpoint sv = th_ep4(10, 2, 0, (uint8_t)(11 + b), 8080);
        for (int i = 0; i < 20; i++) {
            struct endpoint cli = lb;
            cli.port = (uint16_t)(31000 + b * 100 + i);
            uint32_t ci = 1000u * cli.port, si = 3000u * cli.port;
            uint64_t t = (uint64_t)i * 500 * MS + (uint64_t)b * 10 * MS;
            add(t, cli, sv, TCP_SYN, ci, 0, 0);
            if (b == 3 && i >= 4) { /* the fourth backend stops listening */
                add(t + MS, sv, cli, TCP_RST | TCP_ACK, 0, ci + 1, 0);
                continue;
            }
            add(t + MS, sv, cli, TCP_SYN | TCP_ACK, si, ci + 1, 0);
            add(t + 2 * MS, cli, sv, TCP_ACK, ci + 1, si + 1, 0);
            add(t + 3 * MS, cli, sv, TCP_ACK | TCP_FIN, ci + 1, si + 1, 0);
            add(t + 4 * MS, sv, cli, TCP_ACK | TCP_FIN, si + 1, ci + 2, 0);
            add(t + 5 * MS, cli, sv, TCP_ACK, ci + 2, si + 2, 0);
        }
    }
    run_until(15 * S);
    const struct incident_record *o = find_inc(IC_SERVICE_DOWN, IE_OPEN);
    CHECK(o != NULL);
    if (o) {
        CHECK(o->server.ip.a[3] == 14);
        CHECK(strstr(o->summary, "1 of 4 backends on port 8080") != NULL);
    }
    CHECK_EQ_U64(count_opened(), 1);
    if (!o || count_opened() != 1)
        dump();
}

/* Names are the output contract. */
static void test_names(void)
{
    CHECK(strcmp(inc_cause_name(IC_SERVICE_DOWN), "service_down") == 0);
    CHECK(strcmp(inc_cause_name(IC_SCAN), "scan") == 0);
    CHECK(inc_cause_from_name("capture_loss") == IC_CAPTURE_LOSS);
    CHECK(inc_cause_from_name("nope") == -1);
    CHECK(strcmp(inc_close_name(ICR_NO_TRAFFIC), "no_traffic") == 0);
    CHECK(strcmp(inc_close_name(ICR_END_OF_INPUT), "end_of_input") == 0);
    CHECK(strcmp(inc_event_name(IE_UPDATE), "update") == 0);
    CHECK(strcmp(inc_layer_name(IL_APPLICATION), "application") == 0);
    for (int c = 0; c < IC__COUNT; c++)
        CHECK(strcmp(inc_cause_name((enum inc_cause)c), "?") != 0);
}

int main(void)
{
    TEST_RUN(test_names);
    TEST_RUN(test_firewall_window);
    TEST_RUN(test_no_traffic_is_not_clear);
    TEST_RUN(test_service_down_window);
    TEST_RUN(test_rst_before_synack);
    TEST_RUN(test_syn_queue_retried);
    TEST_RUN(test_tiny_sample);
    TEST_RUN(test_loss);
    TEST_RUN(test_scan);
    TEST_RUN(test_reset_ttl_revised);
    TEST_RUN(test_clean);
    TEST_RUN(test_end_of_input);
    TEST_RUN(test_updates_rate_limited);
    TEST_RUN(test_pool_outlier);
    fprintf(stderr, "%d checks, %d failed\n", th_checks, th_failed);
    return th_failed ? 1 : 0;
}
