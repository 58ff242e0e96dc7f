/* test_estab.c - the connection-establishment detector, driven with synthetic packets through the
 * engine. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/engine.h"
#include "analyzers/finding.h"
#include "analyzers/worker.h"
#include "tests/unit/helpers.h"
#include "tests/unit/testhelp.h"

#define S (1000000000ull)      /* one second in ns */
#define MS (1000000ull)        /* one millisecond in ns */
#define T0 (1700000000ull * S) /* a capture start time */

#define MAX_PKTS 4096
#define MAX_FINDINGS 1024

/* Findings captured by the test sink. */
static struct finding got[MAX_FINDINGS];
static struct th_capture cap = {.fnd = got, .max_fnd = MAX_FINDINGS};

/* Packets of one scenario, sorted by time before they go to the engine. */
static struct pkt pkts[MAX_PKTS];
static size_t npkts;

/* Queue one segment from src to dst at T0 + t. */
static void add(uint64_t t, struct endpoint src, struct endpoint dst, uint8_t flags, uint32_t seq,
                uint32_t ack, uint32_t len)
{
    if (npkts >= MAX_PKTS)
        return;
    struct pkt *p = &pkts[npkts++];
    th_tcp_seg(p, T0 + t, src, dst, flags, seq, ack, len, 64240);
    p->ip_id = (uint16_t)npkts;
    p->tcp_csum = (uint16_t)(npkts * 7919u); /* distinct, so no SPAN-duplicate match */
    if (flags & TCP_SYN) {
        p->has_mss = true;
        p->mss = 1460;
    }
}

static size_t ngot_at_tick; /* findings emitted before eng_finish (when run_tick ticks) */

/*
 * Feed the queued packets (in time order, frames numbered 1..n), then, if tick_at is not 0, let
 * capture time advance to T0 + tick_at without packets (as a live capture does), then finish.
 */
static void run_tick(uint64_t tick_at)
{
    th_sort_by_time(pkts, npkts);
    struct engine *e = th_engine_new(NULL, &cap);
    CHECK(e != NULL);
    if (!e)
        return;
    for (size_t i = 0; i < npkts; i++) {
        pkts[i].frame = i + 1;
        eng_packet(e, &pkts[i]);
    }
    if (tick_at) {
        for (uint64_t t = pkts[npkts - 1].ts_ns; t <= T0 + tick_at; t += S)
            eng_tick(e, t);
    }
    ngot_at_tick = cap.nfnd;
    th_engine_finish(e);
    npkts = 0;
}

static void run(void)
{
    run_tick(0);
}

static bool is_estab(enum fkind k)
{
    return k == FK_CONN_REFUSED || k == FK_SYN_UNANSWERED || k == FK_SYN_BACKLOG_DROP ||
           k == FK_ACCEPT_QUEUE_OVERFLOW || k == FK_SERVER_UNREACHABLE || k == FK_SLOW_HANDSHAKE;
}

/* Findings of this detector among the first n (other detectors' findings are not counted). */
static size_t count_estab(size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n && i < cap.nfnd; i++)
        c += is_estab(got[i].kind);
    return c;
}

static size_t count_kind(enum fkind k)
{
    size_t n = 0;
    for (size_t i = 0; i < cap.nfnd; i++)
        n += got[i].kind == k;
    return n;
}

static const struct finding *find_kind(enum fkind k, uint16_t client_port)
{
    for (size_t i = 0; i < cap.nfnd; i++)
        if (got[i].kind == k && (client_port == 0 || got[i].client.port == client_port))
            return &got[i];
    return NULL;
}

static bool has_frame(const struct finding *f, uint64_t frame)
{
    for (unsigned i = 0; i < f->nframes; i++)
        if (f->frames[i] == frame)
            return true;
    return false;
}

static void dump(void)
{
    for (size_t i = 0; i < cap.nfnd; i++) {
        char members[FINDING_JSON_MAX];
        finding_json_members(&got[i], members, sizeof(members));
        fprintf(stderr, "  got %s/%s port %u conf %.2f: %s {%s}\n", fk_name(got[i].kind),
                sev_name(got[i].sev), got[i].client.port, (double)got[i].confidence, got[i].detail,
                members);
    }
}

static const struct endpoint *srv80(void)
{
    static struct endpoint s;
    s = th_ep4(10, 0, 0, 5, 80);
    return &s;
}

/* A complete clean handshake plus one request/response from client port cport at t. */
static void clean_conn(uint64_t t, struct endpoint cli, uint64_t rtt)
{
    struct endpoint sv = *srv80();
    uint32_t ci = 1000u * cli.port, si = 7000u * cli.port;
    add(t, cli, sv, TCP_SYN, ci, 0, 0);
    add(t + rtt, sv, cli, TCP_SYN | TCP_ACK, si, ci + 1, 0);
    add(t + rtt + 10000, cli, sv, TCP_ACK, ci + 1, si + 1, 0);
    add(t + rtt + 20000, cli, sv, TCP_ACK | TCP_PSH, ci + 1, si + 1, 100);
    add(t + 2 * rtt, sv, cli, TCP_ACK | TCP_PSH, si + 1, ci + 101, 200);
    add(t + 2 * rtt + 10000, cli, sv, TCP_ACK | TCP_FIN, ci + 101, si + 201, 0);
    add(t + 3 * rtt, sv, cli, TCP_ACK | TCP_FIN, si + 201, ci + 102, 0);
    add(t + 3 * rtt + 10000, cli, sv, TCP_ACK, ci + 102, si + 202, 0);
}

/* Client SYNs at the given offsets (ns from t), never answered. */
static void syns(uint64_t t, struct endpoint cli, struct endpoint sv, const uint64_t *at, int n)
{
    for (int i = 0; i < n; i++)
        add(t + at[i], cli, sv, TCP_SYN, 1000u * cli.port, 0, 0);
}

static void test_refused(void)
{
    struct endpoint cli = th_ep4(10, 0, 0, 1, 40000), sv = *srv80();
    add(0, cli, sv, TCP_SYN, 5000, 0, 0);
    add(1 * MS, sv, cli, TCP_RST | TCP_ACK, 0, 5001, 0);
    run();
    CHECK_EQ_U64(count_kind(FK_CONN_REFUSED), 1);
    const struct finding *f = find_kind(FK_CONN_REFUSED, 40000);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(f->sev == SEV_ERROR);
    CHECK(f->has_client && f->server.port == 80);
    CHECK(has_frame(f, 1) && has_frame(f, 2));
    CHECK(f->fx.estab.reason == ER_REFUSED);
    CHECK(strstr(f->detail, "ss -lnt") != NULL);
    CHECK_EQ_U64(count_kind(FK_SYN_UNANSWERED), 0);
}

/* IPv6: refused and unanswered work the same. */
static void test_ipv6(void)
{
    struct endpoint cli, sv;
    memset(&cli, 0, sizeof(cli));
    cli.ip.family = 6;
    cli.ip.a[0] = 0x20;
    cli.ip.a[1] = 0x01;
    cli.ip.a[2] = 0x0d;
    cli.ip.a[3] = 0xb8;
    cli.ip.a[15] = 2;
    sv = cli;
    sv.ip.a[15] = 1;
    cli.port = 54000;
    sv.port = 443;
    add(0, cli, sv, TCP_SYN, 5, 0, 0);
    add(1 * MS, sv, cli, TCP_RST | TCP_ACK, 0, 6, 0);
    sv.port = 8443;
    const uint64_t at[] = {0, 1 * S, 3 * S};
    for (int i = 0; i < 3; i++) {
        cli.port = (uint16_t)(54100 + i);
        syns(10 * MS, cli, sv, at, 3);
    }
    run();
    CHECK_EQ_U64(count_kind(FK_CONN_REFUSED), 1);
    CHECK_EQ_U64(count_kind(FK_SERVER_UNREACHABLE), 1);
    const struct finding *f = find_kind(FK_SERVER_UNREACHABLE, 0);
    CHECK(f != NULL && f->server.ip.family == 6 && f->server.port == 8443);
}

/* One client, Linux back-off, never answered, server otherwise idle: syn_unanswered. */
static void test_unanswered(void)
{
    struct endpoint cli = th_ep4(10, 0, 0, 1, 40001), sv = *srv80();
    const uint64_t at[] = {0, 1 * S, 3 * S, 7 * S};
    syns(0, cli, sv, at, 4);
    run();
    CHECK_EQ_U64(count_kind(FK_SYN_UNANSWERED), 1);
    CHECK_EQ_U64(count_kind(FK_SERVER_UNREACHABLE), 0);
    CHECK_EQ_U64(count_kind(FK_SYN_BACKLOG_DROP), 0);
    const struct finding *f = find_kind(FK_SYN_UNANSWERED, 40001);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(f->sev == SEV_ERROR);
    CHECK(f->fx.estab.ngaps == 3 && f->fx.estab.gap_ns[0] == 1000000000ull &&
          f->fx.estab.gap_ns[1] == 2000000000ull && f->fx.estab.gap_ns[2] == 4000000000ull);
    /* the readable story, and its back-off verdict */
    CHECK(strstr(f->detail, "4 SYNs at +0.0 s, +1.0 s, +3.0 s, +7.0 s") != NULL);
    CHECK(strstr(f->detail, "back-off") != NULL);
    CHECK(f->fx.estab.syns == 4);
    CHECK(f->fx.estab.reason == ER_TIMEOUT);
    CHECK(has_frame(f, 1) && has_frame(f, 4));
}

/* Twenty clients, nobody answered: one server_unreachable, no per-flow findings. */
static void test_unreachable(void)
{
    struct endpoint sv = *srv80();
    const uint64_t at[] = {0, 1 * S, 3 * S};
    for (int i = 0; i < 20; i++)
        syns((uint64_t)i * 200 * MS, th_ep4(10, 0, 1, (uint8_t)(1 + i % 4), (uint16_t)(41000 + i)),
             sv, at, 3);
    run();
    CHECK_EQ_U64(count_kind(FK_SERVER_UNREACHABLE), 1);
    CHECK_EQ_U64(count_kind(FK_SYN_UNANSWERED), 0);
    CHECK_EQ_U64(count_kind(FK_SYN_BACKLOG_DROP), 0);
    const struct finding *f = find_kind(FK_SERVER_UNREACHABLE, 0);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(!f->has_client && f->flow_id == 0);
    CHECK(f->server.port == 80 && f->server.ip.a[3] == 5);
    CHECK(f->sev == SEV_ERROR && f->confidence >= 0.5f);
    CHECK(f->fx.estab.attempts == 20);
    CHECK(f->fx.estab.syns == 60);
    CHECK(f->fx.estab.clients == 4);
    CHECK(f->nframes >= 2);
}

/* Two outages separated by a period where the server answers: two episodes. */
static void test_two_outages(void)
{
    struct endpoint sv = *srv80();
    const uint64_t at[] = {0, 1 * S, 3 * S};
    for (int i = 0; i < 3; i++)
        syns((uint64_t)i * 100 * MS, th_ep4(10, 0, 1, 1, (uint16_t)(42000 + i)), sv, at, 3);
    clean_conn(20 * S, th_ep4(10, 0, 1, 1, 42100), 5 * MS);
    for (int i = 0; i < 3; i++)
        syns(40 * S + (uint64_t)i * 100 * MS, th_ep4(10, 0, 1, 1, (uint16_t)(42200 + i)), sv, at,
             3);
    run();
    CHECK_EQ_U64(count_kind(FK_SERVER_UNREACHABLE), 2);
    CHECK_EQ_U64(count_kind(FK_SYN_UNANSWERED), 0);
}

/*
 * A busy server: 10 connections answered at once, 5 only on their retry, 1 never (3 SYNs).
 * Backlog drops for the 6, nothing server-level.
 */
static void test_backlog(void)
{
    struct endpoint sv = *srv80();
    uint64_t t = 10 * S;
    for (int i = 0; i < 10; i++)
        clean_conn(t + (uint64_t)i * 20 * MS, th_ep4(10, 0, 2, 1, (uint16_t)(43000 + i)), 2 * MS);
    for (int i = 0; i < 5; i++) {
        struct endpoint cli = th_ep4(10, 0, 2, 2, (uint16_t)(43100 + i));
        uint32_t ci = 1000u * cli.port, si = 3000u * cli.port;
        uint64_t s0 = t + 5 * MS + (uint64_t)i * 30 * MS;
        add(s0, cli, sv, TCP_SYN, ci, 0, 0);
        add(s0 + 1 * S, cli, sv, TCP_SYN, ci, 0, 0);
        add(s0 + 1 * S + 2 * MS, sv, cli, TCP_SYN | TCP_ACK, si, ci + 1, 0);
        add(s0 + 1 * S + 3 * MS, cli, sv, TCP_ACK, ci + 1, si + 1, 0);
    }
    const uint64_t at[] = {0, 1 * S, 3 * S};
    syns(t + 50 * MS, th_ep4(10, 0, 2, 3, 43200), sv, at, 3);
    clean_conn(t + 2500 * MS, th_ep4(10, 0, 2, 1, 43300), 2 * MS); /* answered during the retries */
    run();
    CHECK_EQ_U64(count_kind(FK_SYN_BACKLOG_DROP), 6);
    CHECK_EQ_U64(count_kind(FK_SERVER_UNREACHABLE), 0);
    CHECK_EQ_U64(count_kind(FK_SYN_UNANSWERED), 0);
    const struct finding *f = find_kind(FK_SYN_BACKLOG_DROP, 43100);
    CHECK(f != NULL);
    if (f) {
        CHECK(f->sev == SEV_WARN && f->confidence >= 0.5f);
        CHECK(f->fx.estab.outcome == EO_DELAYED);
        CHECK(f->fx.estab.reason == ER_BACKLOG);
        CHECK(strstr(f->detail, "ListenOverflows") != NULL);
        CHECK(f->nframes == 3); /* two SYNs and the SYN-ACK */
    }
    f = find_kind(FK_SYN_BACKLOG_DROP, 43200);
    CHECK(f != NULL);
    if (f) {
        CHECK(f->sev == SEV_ERROR);
        CHECK(f->fx.estab.outcome == EO_TIMEOUT);
        CHECK(strstr(f->detail, "never answered") != NULL);
    }
    CHECK(find_kind(FK_SYN_BACKLOG_DROP, 43000) == NULL);
}

/* Never answered while everyone else is served at once: syn_unanswered, not a backlog drop. */
static void test_unanswered_alone(void)
{
    for (int i = 0; i < 10; i++)
        clean_conn((uint64_t)i * 500 * MS, th_ep4(10, 0, 13, 1, (uint16_t)(53000 + i)), 2 * MS);
    const uint64_t at[] = {0, 1 * S, 3 * S};
    syns(100 * MS, th_ep4(10, 0, 13, 2, 53100), *srv80(), at, 3);
    run();
    CHECK_EQ_U64(count_kind(FK_SYN_BACKLOG_DROP), 0);
    CHECK_EQ_U64(count_kind(FK_SYN_UNANSWERED), 1);
    const struct finding *f = find_kind(FK_SYN_UNANSWERED, 53100);
    CHECK(f != NULL && strstr(f->detail, "answered others") != NULL);
}

/* Must not fire: one lost SYN, retry answered, server otherwise idle. */
static void test_single_retry_idle(void)
{
    struct endpoint cli = th_ep4(10, 0, 3, 1, 44000), sv = *srv80();
    add(0, cli, sv, TCP_SYN, 100, 0, 0);
    add(1 * S, cli, sv, TCP_SYN, 100, 0, 0);
    add(1 * S + 1 * MS, sv, cli, TCP_SYN | TCP_ACK, 900, 101, 0);
    add(1 * S + 2 * MS, cli, sv, TCP_ACK, 101, 901, 0);
    run();
    CHECK_EQ_U64(count_kind(FK_SYN_BACKLOG_DROP), 0);
    CHECK_EQ_U64(count_kind(FK_SERVER_UNREACHABLE), 0);
    CHECK_EQ_U64(count_kind(FK_SYN_UNANSWERED), 0);
    const struct finding *f = find_kind(FK_SLOW_HANDSHAKE, 44000);
    CHECK(f != NULL);
    if (f) {
        CHECK(f->sev == SEV_INFO);
        CHECK(f->confidence < 0.5f);
        CHECK(strstr(f->detail, "Weak evidence") != NULL);
        CHECK(f->fx.estab.reason == ER_SYN_RETRY);
    }
}

/* Must not fire: a busy server answering everyone, one random SYN loss. */
static void test_single_retry_busy(void)
{
    struct endpoint sv = *srv80();
    for (int i = 0; i < 30; i++)
        clean_conn((uint64_t)i * 50 * MS, th_ep4(10, 0, 4, 1, (uint16_t)(45000 + i)), 1 * MS);
    struct endpoint cli = th_ep4(10, 0, 4, 2, 45100);
    add(300 * MS, cli, sv, TCP_SYN, 100, 0, 0);
    add(1300 * MS, cli, sv, TCP_SYN, 100, 0, 0);
    add(1301 * MS, sv, cli, TCP_SYN | TCP_ACK, 900, 101, 0);
    add(1302 * MS, cli, sv, TCP_ACK, 101, 901, 0);
    run();
    CHECK_EQ_U64(count_kind(FK_SYN_BACKLOG_DROP), 0);
    CHECK_EQ_U64(count_kind(FK_SERVER_UNREACHABLE), 0);
    CHECK_EQ_U64(count_kind(FK_SLOW_HANDSHAKE), 1);
}

/* tcp_abort_on_overflow=1: the server resets right after the client's ACK and data. */
static void test_accept_abort(void)
{
    struct endpoint cli = th_ep4(10, 0, 5, 1, 46000), sv = *srv80();
    add(0, cli, sv, TCP_SYN, 100, 0, 0);
    add(1 * MS, sv, cli, TCP_SYN | TCP_ACK, 900, 101, 0);
    add(2 * MS, cli, sv, TCP_ACK, 101, 901, 0);
    add(2 * MS + 50000, cli, sv, TCP_ACK | TCP_PSH, 101, 901, 50);
    add(3 * MS, sv, cli, TCP_RST, 901, 0, 0);
    run();
    CHECK_EQ_U64(count_kind(FK_ACCEPT_QUEUE_OVERFLOW), 1);
    const struct finding *f = find_kind(FK_ACCEPT_QUEUE_OVERFLOW, 46000);
    CHECK(f != NULL);
    if (f) {
        CHECK(f->sev == SEV_ERROR);
        CHECK(f->fx.estab.abort_on_overflow);
        CHECK(has_frame(f, 3) && has_frame(f, 5));
    }
    CHECK_EQ_U64(count_kind(FK_CONN_REFUSED), 0);
}

/* tcp_abort_on_overflow=0: ACK ignored, SYN-ACK re-sent, data re-sent, finally served. */
static void test_accept_ignored(void)
{
    struct endpoint cli = th_ep4(10, 0, 5, 2, 46100), sv = *srv80();
    add(0, cli, sv, TCP_SYN, 100, 0, 0);
    add(1 * MS, sv, cli, TCP_SYN | TCP_ACK, 900, 101, 0);
    add(2 * MS, cli, sv, TCP_ACK, 101, 901, 0);
    add(3 * MS, cli, sv, TCP_ACK | TCP_PSH, 101, 901, 50);
    add(210 * MS, cli, sv, TCP_ACK | TCP_PSH, 101, 901, 50);
    add(1001 * MS, sv, cli, TCP_SYN | TCP_ACK, 900, 101, 0);
    add(1002 * MS, cli, sv, TCP_ACK, 151, 901, 0);
    add(1400 * MS, cli, sv, TCP_ACK | TCP_PSH, 101, 901, 50);
    add(1401 * MS, sv, cli, TCP_ACK, 901, 151, 0);
    add(1450 * MS, sv, cli, TCP_ACK | TCP_PSH, 901, 151, 300);
    add(1451 * MS, cli, sv, TCP_ACK, 151, 1201, 0);
    run();
    CHECK_EQ_U64(count_kind(FK_ACCEPT_QUEUE_OVERFLOW), 1);
    const struct finding *f = find_kind(FK_ACCEPT_QUEUE_OVERFLOW, 46100);
    CHECK(f != NULL);
    if (f) {
        CHECK(f->sev == SEV_WARN); /* it recovered */
        CHECK(f->confidence >= 0.85f);
        CHECK(!f->fx.estab.abort_on_overflow);
        CHECK(f->fx.estab.outcome == EO_DELAYED);
        CHECK(has_frame(f, 6)); /* the re-sent SYN-ACK */
    }
    CHECK_EQ_U64(count_kind(FK_SYN_BACKLOG_DROP), 0);
}

/* abort_on_overflow=0 that never recovers: SYN-ACKs re-sent, then the expired request resets. */
static void test_accept_ignored_reset(void)
{
    struct endpoint cli = th_ep4(10, 0, 5, 3, 46200), sv = *srv80();
    add(0, cli, sv, TCP_SYN, 100, 0, 0);
    add(1 * MS, sv, cli, TCP_SYN | TCP_ACK, 900, 101, 0);
    add(2 * MS, cli, sv, TCP_ACK, 101, 901, 0);
    add(3 * MS, cli, sv, TCP_ACK | TCP_PSH, 101, 901, 50);
    add(1001 * MS, sv, cli, TCP_SYN | TCP_ACK, 900, 101, 0);
    add(1002 * MS, cli, sv, TCP_ACK, 151, 901, 0);
    add(3001 * MS, sv, cli, TCP_SYN | TCP_ACK, 900, 101, 0);
    add(3002 * MS, cli, sv, TCP_ACK, 151, 901, 0);
    add(6000 * MS, cli, sv, TCP_ACK | TCP_PSH, 101, 901, 50);
    add(6001 * MS, sv, cli, TCP_RST, 901, 0, 0);
    run();
    CHECK_EQ_U64(count_kind(FK_ACCEPT_QUEUE_OVERFLOW), 1);
    const struct finding *f = find_kind(FK_ACCEPT_QUEUE_OVERFLOW, 46200);
    CHECK(f != NULL);
    if (f) {
        CHECK(f->sev == SEV_ERROR);
        CHECK(!f->fx.estab.abort_on_overflow);
        CHECK(f->fx.estab.outcome == EO_RESET);
        CHECK(f->fx.estab.synack_retries == 2);
        CHECK(has_frame(f, 10));
    }
}

/* Slow handshake: 1.5 s server side, 100 ms client side. */
static void test_slow(void)
{
    struct endpoint cli = th_ep4(10, 0, 6, 1, 47000), sv = *srv80();
    add(0, cli, sv, TCP_SYN, 100, 0, 0);
    add(1500 * MS, sv, cli, TCP_SYN | TCP_ACK, 900, 101, 0);
    add(1600 * MS, cli, sv, TCP_ACK, 101, 901, 0);
    run();
    CHECK_EQ_U64(count_kind(FK_SLOW_HANDSHAKE), 1);
    const struct finding *f = find_kind(FK_SLOW_HANDSHAKE, 47000);
    CHECK(f != NULL);
    if (f) {
        CHECK(f->sev == SEV_WARN && f->confidence > 0.9f);
        CHECK(f->fx.estab.reason == ER_SLOW);
        CHECK(f->fx.estab.server_side_ns == 1500000000);
        CHECK(f->fx.estab.client_side_ns == 100000000);
    }
}

/* Clean traffic: nothing from this detector. */
static void test_clean(void)
{
    for (int i = 0; i < 20; i++)
        clean_conn((uint64_t)i * 100 * MS, th_ep4(10, 0, 7, 1, (uint16_t)(48000 + i)), 3 * MS);
    run();
    CHECK_EQ_U64(count_estab(cap.nfnd), 0);
}

/* The same handshake seen three times 50 ms apart (VLAN copies): no retry, no overflow. */
static void test_copies(void)
{
    struct endpoint cli = th_ep4(10, 0, 10, 1, 50000), sv = *srv80();
    for (int k = 0; k < 3; k++) {
        uint64_t o = (uint64_t)k * 50 * MS;
        add(o, cli, sv, TCP_SYN, 100, 0, 0);
        add(o + 20 * MS, sv, cli, TCP_SYN | TCP_ACK, 900, 101, 0);
        add(o + 20 * MS + 300000, cli, sv, TCP_ACK, 101, 901, 0);
        add(o + 20 * MS + 400000, cli, sv, TCP_ACK | TCP_PSH, 101, 901, 100);
    }
    add(200 * MS, sv, cli, TCP_ACK | TCP_PSH, 901, 201, 500);
    run();
    CHECK_EQ_U64(count_estab(cap.nfnd), 0);
}

/* Capture started after the SYN: the server side is unknown, the client side is timed. */
static void test_no_syn(void)
{
    struct endpoint cli = th_ep4(10, 0, 11, 1, 51000), sv = *srv80();
    add(0, sv, cli, TCP_SYN | TCP_ACK, 900, 101, 0);
    add(1500 * MS, cli, sv, TCP_ACK, 101, 901, 0);
    add(1600 * MS, th_ep4(10, 0, 11, 1, 51001), sv, TCP_ACK, 5, 6, 0); /* unrelated mid-stream */
    run();
    CHECK_EQ_U64(count_kind(FK_SLOW_HANDSHAKE), 1);
    const struct finding *f = find_kind(FK_SLOW_HANDSHAKE, 51000);
    CHECK(f != NULL);
    if (f) {
        CHECK(f->fx.estab.server_side_ns == -1);
        CHECK(f->fx.estab.client_side_ns == 1500000000);
        CHECK(strstr(f->detail, "server side (SYN -> SYN-ACK) unknown") != NULL);
    }
}

/* More servers than the table holds: slots are recycled, every attempt is still reported once. */
static void test_many_servers(void)
{
    const uint64_t at[] = {0, 1 * S, 3 * S};
    for (int i = 0; i < 300; i++)
        syns((uint64_t)i * 10 * MS, th_ep4(10, 0, 12, 1, (uint16_t)(52000 + i)),
             th_ep4(10, 1, (uint8_t)(i / 200), (uint8_t)(i % 200 + 1), 443), at, 3);
    run();
    CHECK_EQ_U64(count_kind(FK_SYN_UNANSWERED), 300);
    CHECK_EQ_U64(count_kind(FK_SERVER_UNREACHABLE), 0);
    CHECK_EQ_U64(count_estab(cap.nfnd), 300);
}

/* Live: without packets, ticks alone decide unanswered attempts and close the episode. */
static void test_live_decision(void)
{
    struct endpoint sv = *srv80();
    const uint64_t at[] = {0, 1 * S, 3 * S};
    for (int i = 0; i < 3; i++)
        syns((uint64_t)i * 100 * MS, th_ep4(10, 0, 9, 1, (uint16_t)(49500 + i)), sv, at, 3);
    run_tick(100 * S);
    CHECK_EQ_U64(count_estab(ngot_at_tick), 1);
    CHECK_EQ_U64(count_kind(FK_SERVER_UNREACHABLE), 1);
    CHECK_EQ_U64(count_kind(FK_SYN_UNANSWERED), 0);
    const struct finding *f = find_kind(FK_SERVER_UNREACHABLE, 0);
    CHECK(f != NULL && f->fx.estab.attempts == 3);

    /* one client alone: its own syn_unanswered, once, before the end */
    const uint64_t at2[] = {0, 1 * S, 3 * S, 7 * S};
    syns(0, th_ep4(10, 0, 9, 2, 49600), sv, at2, 4);
    run_tick(120 * S);
    CHECK_EQ_U64(count_estab(ngot_at_tick), 1);
    CHECK_EQ_U64(count_kind(FK_SYN_UNANSWERED), 1);
    CHECK_EQ_U64(count_kind(FK_SERVER_UNREACHABLE), 0);
    CHECK_EQ_U64(count_estab(cap.nfnd), 1); /* not again at the flow end */
}

/* A persistent client (8 SYNs, more than the state keeps): still decided live, story shortened. */
static void test_many_syns(void)
{
    const uint64_t at[] = {0, 1 * S, 3 * S, 7 * S, 15 * S, 31 * S, 63 * S, 127 * S};
    syns(0, th_ep4(10, 0, 14, 1, 55000), *srv80(), at, 8);
    run_tick(400 * S);
    CHECK_EQ_U64(count_estab(ngot_at_tick), 1);
    CHECK_EQ_U64(count_estab(cap.nfnd), 1);
    const struct finding *f = find_kind(FK_SYN_UNANSWERED, 55000);
    CHECK(f != NULL);
    if (f) {
        CHECK(f->fx.estab.ngaps == FX_GAPS_MAX && f->fx.estab.gap_ns[0] == 1000000000ull);
        CHECK(strstr(f->detail, ", ..., +127.0 s") != NULL);
        CHECK(f->fx.estab.syns == 8);
        CHECK(has_frame(f, 1) && has_frame(f, 8)); /* first and last SYN */
    }
}

/* A lone SYN at the very end of the capture proves nothing: no finding. */
static void test_lone_syn_at_end(void)
{
    clean_conn(0, th_ep4(10, 0, 8, 1, 49000), 3 * MS);
    add(500 * MS, th_ep4(10, 0, 8, 1, 49001), *srv80(), TCP_SYN, 77, 0, 0);
    run();
    CHECK_EQ_U64(count_kind(FK_SYN_UNANSWERED), 0);
    CHECK_EQ_U64(count_kind(FK_SERVER_UNREACHABLE), 0);
}

/* Run one test; on failure show what the detector said. */
static void run_test(void (*fn)(void), const char *name)
{
    int before = th_failed;
    fn();
    fprintf(stderr, "%s %s\n", th_failed == before ? "ok  " : "FAIL", name);
    if (th_failed != before || getenv("TEST_VERBOSE"))
        dump();
}
#define RUN(fn) run_test(fn, #fn)

/*
 * The server half's ops, through the workers (worker.c, WR_EOP): one capture of flows that
 * hit every op on four servers, analysed by 1, 2 and 4 workers, gives the same establishment
 * findings. A lost op changes them (the backlog verdicts count other flows' attempts, retries
 * and answers in their text; an unanswered attempt needs its SYNs; a refusal its RST, and
 * the attempts beside it are no outage because of it); so
 * does an op applied out of order (a SYN-ACK judged before another flow's retry was counted).
 * The flow answered on a retry whose ACK the server ignored gets its three verdicts at its end
 * from the server half (the final judgement: weak; accept_queue_overflow; slow_handshake).
 */
static struct finding wk_got[3][MAX_FINDINGS];
static size_t wk_n[3];
static int wk_run_i;

static void wk_put(void *ctx, const struct out_rec *r)
{
    (void)ctx;
    if (r->type == OUT_FINDING && is_estab(r->u.finding.kind) && wk_n[wk_run_i] < MAX_FINDINGS)
        wk_got[wk_run_i][wk_n[wk_run_i]++] = r->u.finding;
}

static const struct sink_ops wk_test_ops = {.name = "test-workers", .put = wk_put};

static int wk_cmp(const void *a, const void *b)
{
    const struct finding *x = a, *y = b;
    if (x->ts_ns != y->ts_ns)
        return x->ts_ns < y->ts_ns ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->flow_id != y->flow_id)
        return x->flow_id < y->flow_id ? -1 : 1;
    return strcmp(x->detail, y->detail);
}

static void workers_scenario(void)
{
    struct endpoint sv = *srv80();
    uint64_t t = 10 * S;
    /* backlog: ten clean connections, five answered only on a retry, one never answered */
    for (int i = 0; i < 10; i++)
        clean_conn(t + (uint64_t)i * 20 * MS, th_ep4(10, 0, 2, 1, (uint16_t)(43000 + i)), 2 * MS);
    for (int i = 0; i < 5; i++) {
        struct endpoint cli = th_ep4(10, 0, 2, 2, (uint16_t)(43100 + i));
        uint32_t ci = 1000u * cli.port, si = 3000u * cli.port;
        uint64_t s0 = t + 5 * MS + (uint64_t)i * 30 * MS;
        add(s0, cli, sv, TCP_SYN, ci, 0, 0);
        add(s0 + 1 * S, cli, sv, TCP_SYN, ci, 0, 0);
        add(s0 + 1 * S + 2 * MS, sv, cli, TCP_SYN | TCP_ACK, si, ci + 1, 0);
        add(s0 + 1 * S + 3 * MS, cli, sv, TCP_ACK, ci + 1, si + 1, 0);
    }
    const uint64_t at[] = {0, 1 * S, 3 * S};
    syns(t + 50 * MS, th_ep4(10, 0, 2, 3, 43200), sv, at, 3);
    /* an outage of another server: an episode of twenty attempts */
    struct endpoint down = th_ep4(10, 0, 0, 6, 80);
    for (int i = 0; i < 20; i++)
        syns((uint64_t)i * 200 * MS, th_ep4(10, 0, 1, (uint8_t)(1 + i % 4), (uint16_t)(41000 + i)),
             down, at, 3);
    /* a refusal on a third */
    struct endpoint closed = th_ep4(10, 0, 0, 7, 80), rc = th_ep4(10, 0, 0, 1, 40000);
    add(2 * S, rc, closed, TCP_SYN, 5000, 0, 0);
    add(2 * S + 1 * MS, closed, rc, TCP_RST | TCP_ACK, 0, 5001, 0);
    /* never answered there either, but not an outage: that server refused meanwhile */
    syns(2 * S + 100 * MS, th_ep4(10, 0, 0, 2, 40001), closed, at, 3);
    syns(2 * S + 200 * MS, th_ep4(10, 0, 0, 3, 40002), closed, at, 3);
    /* on a fourth: answered on a retry, the ACK ignored, the SYN-ACK re-sent, no progress */
    struct endpoint busy = th_ep4(10, 0, 0, 8, 80), bc = th_ep4(10, 0, 5, 9, 46300);
    add(3 * S, bc, busy, TCP_SYN, 100, 0, 0);
    add(4 * S, bc, busy, TCP_SYN, 100, 0, 0);
    add(4 * S + 1 * MS, busy, bc, TCP_SYN | TCP_ACK, 900, 101, 0);
    add(4 * S + 2 * MS, bc, busy, TCP_ACK, 101, 901, 0);
    add(4 * S + 3 * MS, bc, busy, TCP_ACK | TCP_PSH, 101, 901, 50);
    add(4 * S + 210 * MS, bc, busy, TCP_ACK | TCP_PSH, 101, 901, 50);
    add(5 * S + 1 * MS, busy, bc, TCP_SYN | TCP_ACK, 900, 101, 0);
    add(5 * S + 2 * MS, bc, busy, TCP_ACK, 151, 901, 0);
    th_sort_by_time(pkts, npkts);
    for (size_t i = 0; i < npkts; i++)
        pkts[i].frame = i + 1;
}

static void test_workers_ops(void)
{
    static const unsigned counts[3] = {1, 2, 4};
    workers_scenario();
    struct eng_config cfg;
    eng_config_default(&cfg);
    for (int r = 0; r < 3; r++) {
        wk_run_i = r;
        wk_n[r] = 0;
        struct workers *w = wk_new(&cfg, counts[r], &wk_test_ops, NULL);
        CHECK(w != NULL);
        if (!w)
            continue;
        for (size_t i = 0; i < npkts; i++)
            wk_packet(w, &pkts[i]);
        struct run_summary sum;
        memset(&sum, 0, sizeof(sum));
        wk_finish(w, &sum);
        wk_free(w);
        qsort(wk_got[r], wk_n[r], sizeof(wk_got[r][0]), wk_cmp);
    }
    npkts = 0;
    size_t kinds[FK__COUNT] = {0};
    for (size_t i = 0; i < wk_n[0]; i++)
        kinds[wk_got[0][i].kind]++;
    CHECK_EQ_U64(kinds[FK_SYN_BACKLOG_DROP], 6);
    CHECK_EQ_U64(kinds[FK_SERVER_UNREACHABLE], 1);
    CHECK_EQ_U64(kinds[FK_CONN_REFUSED], 1);
    CHECK_EQ_U64(kinds[FK_SYN_UNANSWERED], 2);
    CHECK_EQ_U64(kinds[FK_ACCEPT_QUEUE_OVERFLOW], 1);
    CHECK_EQ_U64(kinds[FK_SLOW_HANDSHAKE], 1);
    for (size_t i = 0; i < wk_n[0]; i++)
        if (wk_got[0][i].kind == FK_SLOW_HANDSHAKE)
            CHECK(wk_got[0][i].fx.estab.reason == ER_SYN_RETRY);
    for (int r = 1; r < 3; r++) {
        CHECK_EQ_U64(wk_n[r], wk_n[0]);
        for (size_t i = 0; i < wk_n[0] && i < wk_n[r]; i++) {
            const struct finding *a = &wk_got[0][i], *b = &wk_got[r][i];
            CHECK(a->kind == b->kind && a->flow_id == b->flow_id && a->ts_ns == b->ts_ns &&
                  a->sev == b->sev && a->confidence == b->confidence && a->nframes == b->nframes &&
                  strcmp(a->detail, b->detail) == 0);
        }
    }
}

int main(void)
{
    RUN(test_refused);
    RUN(test_ipv6);
    RUN(test_unanswered);
    RUN(test_unreachable);
    RUN(test_two_outages);
    RUN(test_backlog);
    RUN(test_unanswered_alone);
    RUN(test_single_retry_idle);
    RUN(test_single_retry_busy);
    RUN(test_accept_abort);
    RUN(test_accept_ignored);
    RUN(test_accept_ignored_reset);
    RUN(test_slow);
    RUN(test_clean);
    RUN(test_lone_syn_at_end);
    RUN(test_live_decision);
    RUN(test_many_syns);
    RUN(test_copies);
    RUN(test_no_syn);
    RUN(test_many_servers);
    RUN(test_workers_ops);
    return TEST_REPORT();
}
