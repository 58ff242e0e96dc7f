/*
 * test_tcp.c - TCP sequence analysis (tcp.c), driven with synthetic segments: per-segment
 * events through the flow table, and flow records and findings through the engine.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/det.h"
#include "analyzers/engine.h"
#include "analyzers/flow.h"
#include "analyzers/pool.h"
#include "analyzers/tcp.h"
#include "tests/unit/helpers.h"
#include "tests/unit/testhelp.h"

#define US 1000ull             /* one microsecond in ns */
#define MS 1000000ull          /* one millisecond in ns */
#define S 1000000000ull        /* one second in ns */
#define T0 (1700000000ull * S) /* capture start */
#define EV(e) (1u << (e))

#define MAX_PKTS 512
#define MAX_OUT 256

/* The client and server of the scenarios. */
static struct endpoint cli, srv;

/* A scenario: segments in capture order. */
static struct pkt pk[MAX_PKTS];
static size_t npk;
static uint16_t next_ipid = 100;

static void reset_scenario(void)
{
    npk = 0;
    cli = th_ep4(192, 0, 2, 10, 40000);
    srv = th_ep4(198, 51, 100, 5, 443);
}

/* Append a segment; dir DIR_C2S sends from cli to srv. Returns it for option tweaks. */
static struct pkt *seg(int dir, uint64_t t, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len,
                       uint16_t win)
{
    struct pkt *p = &pk[npk < MAX_PKTS - 1 ? npk++ : npk];
    th_tcp_seg(p, T0 + t, dir == DIR_C2S ? cli : srv, dir == DIR_C2S ? srv : cli, flags, seq, ack,
               len, win);
    p->frame = npk;
    p->ip_id = next_ipid++;
    p->tcp_csum = (uint16_t)(p->ip_id * 40503u);
    return p;
}

/* Handshake at t=0 (SYN), 10 ms (SYN-ACK), 15 ms (ACK); both sides offer window scale ws. */
static void handshake(uint32_t ciss, uint32_t siss, int ws)
{
    struct pkt *p = seg(DIR_C2S, 0, TCP_SYN, ciss, 0, 0, 64240);
    if (ws >= 0) {
        p->has_wscale = true;
        p->wscale = (uint8_t)ws;
    }
    p = seg(DIR_S2C, 10 * MS, TCP_SYN | TCP_ACK, siss, ciss + 1, 0, 65160);
    if (ws >= 0) {
        p->has_wscale = true;
        p->wscale = (uint8_t)ws;
    }
    seg(DIR_C2S, 15 * MS, TCP_ACK, ciss + 1, siss + 1, 0, 502);
}

/* Per-segment results of the direct harness. */
static struct tcp_seg out[MAX_PKTS];
static struct flow_table *ft;
static struct tcp_dedup *dd;
static struct pool *loss; /* TCP analysis' loss bookkeeping, two blocks per flow */
static struct flow *last_flow;
static size_t nreuse;

/* Run the scenario through the flow table and tcp.c as the engine does (no detectors). */
static void analyse(const struct endpoint *servers, size_t nservers)
{
    ft = flow_table_new(16, 0);
    dd = tcp_dedup_new(8);
    loss = pool_new(32, sizeof(struct tcp_loss));
    CHECK(ft && dd && loss);
    nreuse = 0;
    for (size_t i = 0; i < npk && ft && dd && loss; i++) {
        const struct pkt *p = &pk[i];
        memset(&out[i], 0, sizeof(out[i]));
        out[i].dir = -1;
        int dir = DIR_C2S;
        struct flow *f = flow_lookup(ft, p, &dir);
        if (tcp_dedup_check(dd, p, MS))
            continue; /* dir -1 marks a dropped duplicate */
        if (f && tcp_is_reuse(f, p, dir)) {
            tcp_flow_end(f, loss);
            flow_release(ft, f);
            f = NULL;
            nreuse++;
        }
        if (!f) {
            f = flow_create(ft, p, NULL, NULL);
            dir = DIR_C2S;
            if (tcp_pick_server(p, servers, nservers) == 1) {
                f->rec.client = p->dst;
                f->rec.server = p->src;
                dir = DIR_S2C;
            }
            f->rec.first_frame = p->frame;
            f->rec.first_ts_ns = p->ts_ns;
            tcp_flow_start(f, p);
            out[i].flow_new = true;
        }
        tcp_analyze(f, p, dir, &out[i], loss);
        last_flow = f;
    }
}

static void analyse_done(void)
{
    flow_table_free(ft);
    tcp_dedup_free(dd);
    pool_free(loss);
    ft = NULL;
    dd = NULL;
    loss = NULL;
}

/* Events of 1-based frame n. */
static uint32_t evs(size_t n)
{
    return n >= 1 && n <= npk ? out[n - 1].ev : 0;
}

/* ---- engine harness: flow records and findings ---- */

static struct flow_record recs[MAX_OUT];
static struct finding fnd[MAX_OUT];
static struct th_capture cap = {
    .fnd = fnd, .max_fnd = MAX_OUT, .flows = recs, .max_flows = MAX_OUT};

static void run_engine(struct eng_config *cfg)
{
    struct engine *e = th_engine_new(cfg, &cap);
    CHECK(e != NULL);
    if (!e)
        return;
    for (size_t i = 0; i < npk; i++)
        eng_packet(e, &pk[i]);
    struct run_summary sum;
    memset(&sum, 0, sizeof(sum));
    eng_finish(e, &sum);
    /* every lazy block (detectors' and TCP analysis') went back when its flow ended */
    struct eng_stats st;
    eng_get_stats(e, &st);
    CHECK_EQ_U64(st.lazy_bytes, 0);
    CHECK_EQ_U64(st.lazy_exhausted, 0);
    CHECK(st.state_peak_flows == 0 ||
          st.state_peak_bytes >= st.state_peak_flows * st.flow_fixed_bytes);
    eng_free(e);
}

static const struct finding *find_kind(enum fkind k)
{
    for (size_t i = 0; i < cap.nfnd; i++)
        if (fnd[i].kind == k)
            return &fnd[i];
    return NULL;
}

static size_t count_kind(enum fkind k)
{
    size_t n = 0;
    for (size_t i = 0; i < cap.nfnd; i++)
        n += fnd[i].kind == k;
    return n;
}

/* ---- tests ---- */

static void test_wraparound(void)
{
    reset_scenario();
    uint32_t c = 0xfffffa00u, s = 0x10; /* client ISN 1536 bytes before 2^32 */
    handshake(c, s, 7);
    uint32_t seq = c + 1;
    for (int i = 0; i < 4; i++) { /* 4 x 1000 bytes: crosses 2^32 in the second segment */
        seg(DIR_C2S, 20 * MS + (uint64_t)i * MS, TCP_ACK | TCP_PSH, seq, s + 1, 1000, 502);
        seq += 1000;
    }
    seg(DIR_S2C, 60 * MS, TCP_ACK, s + 1, seq, 0, 509); /* frame 8: acks everything */
    /* frame 9: the third segment again, 1 s later (after the ACK): spurious */
    seg(DIR_C2S, 1060 * MS, TCP_ACK | TCP_PSH, c + 1 + 2000, s + 1, 1000, 502);
    seg(DIR_C2S, 1070 * MS, TCP_ACK | TCP_PSH, seq, s + 1, 100, 502); /* frame 10: new data */
    analyse(NULL, 0);
    uint32_t any = 0;
    for (size_t n = 1; n <= 8; n++)
        any |= evs(n);
    CHECK_EQ_U64(any, 0);
    CHECK(out[3].has_rel && out[4].has_rel && out[5].has_rel && out[6].has_rel);
    CHECK_EQ_U64(out[3].rel_seq, 0);
    CHECK_EQ_U64(out[4].rel_seq, 1000);
    CHECK_EQ_U64(out[5].rel_seq, 2000); /* past 2^32 raw, still increasing */
    CHECK_EQ_U64(out[6].rel_seq, 3000);
    CHECK_EQ_U64(evs(9), EV(TEV_SPURIOUS_RETRANSMISSION));
    CHECK_EQ_U64(out[8].rel_seq, 2000);
    CHECK_EQ_U64(evs(10), 0);
    CHECK_EQ_U64(out[9].rel_seq, 4000);
    analyse_done();
}

static void test_overlapping_retransmission(void)
{
    reset_scenario();
    handshake(1000, 5000, 7);
    seg(DIR_C2S, 20 * MS, TCP_ACK, 1001, 5001, 1000, 502);  /* 4: [1001,2001) */
    seg(DIR_C2S, 21 * MS, TCP_ACK, 2001, 5001, 1000, 502);  /* 5: [2001,3001) */
    seg(DIR_S2C, 40 * MS, TCP_ACK, 5001, 2001, 0, 509);     /* 6: acks the first */
    seg(DIR_C2S, 300 * MS, TCP_ACK, 1501, 5001, 1500, 502); /* 7: overlaps acked and unacked */
    analyse(NULL, 0);
    CHECK_EQ_U64(evs(4) | evs(5) | evs(6), 0);
    CHECK_EQ_U64(evs(7), EV(TEV_RETRANSMISSION));
    CHECK_EQ_U64(last_flow->rec.ev[DIR_C2S][TEV_RETRANSMISSION], 1);
    CHECK_EQ_U64(last_flow->half[DIR_C2S].lost_down, 1); /* the original passed the tap */
    analyse_done();

    /* 8: the receiver reports [2001,3001) twice with a D-SACK block below its ACK: the
     * retransmission was not needed and nothing was lost after the tap. */
    struct pkt *d = seg(DIR_S2C, 320 * MS, TCP_ACK, 5001, 3001, 0, 509);
    d->nsack = 1;
    d->sack[0][0] = 2001;
    d->sack[0][1] = 3001;
    analyse(NULL, 0);
    CHECK_EQ_U64(evs(8), 0);
    CHECK_EQ_U64(last_flow->half[DIR_C2S].lost_down, 0);
    CHECK_EQ_U64(last_flow->half[DIR_C2S].rtx_unneeded, 1);
    analyse_done();
    run_engine(NULL);
    const struct finding *f = find_kind(FK_RETRANSMISSION);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_U64(f->fx.tcp.dsack_unneeded, 1);
        CHECK_EQ_U64(f->fx.tcp.lost_downstream, 0);
        /* the detail says it in words (the advice depends on it) */
        CHECK(strstr(f->detail, "1 was not needed") != NULL);
    }
}

static void test_fast_retransmission(void)
{
    reset_scenario();
    handshake(1000, 5000, 7);
    uint32_t s = 5001;
    /* Server sends 5 segments; the second is lost before the tap (never captured). */
    seg(DIR_S2C, 20 * MS, TCP_ACK, s, 1001, 1000, 509);                  /* 4 */
    seg(DIR_S2C, 20 * MS + 30 * US, TCP_ACK, s + 2000, 1001, 1000, 509); /* 5: gap */
    seg(DIR_S2C, 20 * MS + 60 * US, TCP_ACK, s + 3000, 1001, 1000, 509); /* 6 */
    seg(DIR_S2C, 20 * MS + 90 * US, TCP_ACK, s + 4000, 1001, 1000, 509); /* 7 */
    seg(DIR_C2S, 30 * MS, TCP_ACK, 1001, s + 1000, 0, 502);              /* 8: ack */
    seg(DIR_C2S, 30 * MS + 10 * US, TCP_ACK, 1001, s + 1000, 0, 502);    /* 9: dup 1 */
    seg(DIR_C2S, 30 * MS + 20 * US, TCP_ACK, 1001, s + 1000, 0, 502);    /* 10: dup 2 */
    seg(DIR_C2S, 30 * MS + 30 * US, TCP_ACK, 1001, s + 1000, 0, 502);    /* 11: dup 3 */
    seg(DIR_S2C, 41 * MS, TCP_ACK, s + 1000, 1001, 1000, 509); /* 12: fast retransmission */
    seg(DIR_C2S, 52 * MS, TCP_ACK, 1001, s + 5000, 0, 502);    /* 13: all acked */
    analyse(NULL, 0);
    CHECK_EQ_U64(evs(5), EV(TEV_LOST_SEGMENT));
    CHECK_EQ_U64(evs(8), 0);
    CHECK_EQ_U64(evs(9), EV(TEV_DUP_ACK));
    CHECK_EQ_U64(evs(10), EV(TEV_DUP_ACK));
    CHECK_EQ_U64(evs(11), EV(TEV_DUP_ACK));
    CHECK_EQ_U64(evs(12), EV(TEV_FAST_RETRANSMISSION));
    CHECK_EQ_U64(evs(13), 0); /* the gap was filled by frame 12: no capture loss */
    const struct tcp_half *h = &last_flow->half[DIR_S2C];
    CHECK_EQ_U64(h->lost_up, 1); /* the original never reached the tap */
    CHECK_EQ_U64(h->lost_down, 0);
    CHECK_EQ_U64(h->capture_loss_bytes, 0);
    analyse_done();

    /* Through the engine: one finding per kind, upstream location in the detail. */
    run_engine(NULL);
    const struct finding *f = find_kind(FK_FAST_RETRANSMISSION);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_U64(f->fx.tcp.count[DIR_S2C], 1);
        CHECK_EQ_U64(f->fx.tcp.count[DIR_C2S], 0);
        CHECK_EQ_U64(f->fx.tcp.lost_upstream, 1);
        CHECK_EQ_U64(f->nframes, 1);
        CHECK_EQ_U64(f->frames[0], 12);
    }
    f = find_kind(FK_DUP_ACK);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_U64(f->nframes, 3);
        CHECK_EQ_U64(f->frames[0], 9);
        CHECK_EQ_U64(f->sev, SEV_INFO);
    }
    CHECK_EQ_U64(count_kind(FK_LOST_SEGMENT), 1);
    CHECK_EQ_U64(count_kind(FK_RETRANSMISSION), 0);
    CHECK_EQ_U64(cap.nflows, 1);
    CHECK_EQ_U64(recs[0].ev[DIR_S2C][TEV_FAST_RETRANSMISSION], 1);
    CHECK_EQ_U64(recs[0].ev[DIR_C2S][TEV_DUP_ACK], 3);

    /* Then a timeout retransmission of a segment the tap saw: both findings give both places. */
    seg(DIR_S2C, 60 * MS, TCP_ACK, s + 5000, 1001, 1000, 509);  /* 14 */
    seg(DIR_S2C, 500 * MS, TCP_ACK, s + 5000, 1001, 1000, 509); /* 15: retransmission */
    run_engine(NULL);
    const struct finding *fr = find_kind(FK_FAST_RETRANSMISSION);
    const struct finding *rr = find_kind(FK_RETRANSMISSION);
    CHECK(fr != NULL && rr != NULL);
    if (fr && rr) {
        CHECK(fr->fx.tcp.lost_upstream == 1 && fr->fx.tcp.lost_downstream == 1);
        CHECK(rr->fx.tcp.lost_upstream == 1 && rr->fx.tcp.lost_downstream == 1);
        /* the detail says where, in words: that is what a person reads */
        CHECK(strstr(rr->detail, "1 lost upstream and 1 downstream of the tap") != NULL);
        CHECK_EQ_U64(rr->frames[0], 15);
    }
}

static void test_spurious_and_out_of_order(void)
{
    reset_scenario();
    handshake(1000, 5000, 7);
    seg(DIR_C2S, 20 * MS, TCP_ACK, 1001, 5001, 500, 502);            /* 4 */
    seg(DIR_C2S, 20 * MS + 100 * US, TCP_ACK, 2001, 5001, 500, 502); /* 5: ahead (gap) */
    seg(DIR_C2S, 20 * MS + 200 * US, TCP_ACK, 1501, 5001, 500, 502); /* 6: fills it, 0.1 ms later */
    seg(DIR_S2C, 40 * MS, TCP_ACK, 5001, 2501, 0, 509);              /* 7: acks all */
    seg(DIR_C2S, 900 * MS, TCP_ACK, 1501, 5001, 500, 502);           /* 8: already acked */
    analyse(NULL, 0);
    CHECK_EQ_U64(evs(5), EV(TEV_LOST_SEGMENT));
    CHECK_EQ_U64(evs(6), EV(TEV_OUT_OF_ORDER));
    CHECK_EQ_U64(evs(7), 0);
    CHECK_EQ_U64(evs(8), EV(TEV_SPURIOUS_RETRANSMISSION));
    /* Out-of-order and spurious are not losses. */
    CHECK_EQ_U64(last_flow->half[DIR_C2S].lost_up + last_flow->half[DIR_C2S].lost_down, 0);
    analyse_done();
}

static void test_lost_segment_and_capture_loss(void)
{
    reset_scenario();
    handshake(1000, 5000, 7);
    seg(DIR_S2C, 20 * MS, TCP_ACK, 5001, 1001, 1000, 509); /* 4 */
    seg(DIR_S2C, 21 * MS, TCP_ACK, 7001, 1001, 1000, 509); /* 5: 1000 bytes never captured */
    seg(DIR_C2S, 40 * MS, TCP_ACK, 1001, 8001, 0, 502);    /* 6: receiver acks them all */
    seg(DIR_C2S, 41 * MS, TCP_ACK, 1001, 9001, 0, 502);    /* 7: acks bytes never seen at all */
    analyse(NULL, 0);
    CHECK_EQ_U64(evs(5), EV(TEV_LOST_SEGMENT));
    CHECK_EQ_U64(evs(6), EV(TEV_CAPTURE_LOSS));
    CHECK_EQ_U64(evs(7), EV(TEV_CAPTURE_LOSS));
    const struct tcp_half *h = &last_flow->half[DIR_S2C];
    CHECK_EQ_U64(h->capture_loss_bytes, 2000);
    CHECK_EQ_U64(h->lost_up + h->lost_down, 0); /* capture loss is not network loss */
    analyse_done();
    run_engine(NULL);
    const struct finding *f = find_kind(FK_CAPTURE_LOSS);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_U64(f->fx.tcp.capture_loss_bytes, 2000);
        CHECK(f->confidence < 1.0f);
    }
}

static void test_keep_alive_and_zero_window(void)
{
    reset_scenario();
    handshake(1000, 5000, 0);
    seg(DIR_C2S, 20 * MS, TCP_ACK, 1001, 5001, 100, 502);    /* 4 */
    seg(DIR_S2C, 30 * MS, TCP_ACK, 5001, 1101, 0, 0);        /* 5: zero window */
    seg(DIR_C2S, 230 * MS, TCP_ACK, 1101, 5001, 1, 502);     /* 6: zero window probe */
    seg(DIR_S2C, 231 * MS, TCP_ACK, 5001, 1101, 0, 0);       /* 7: probe ACK, still zero */
    seg(DIR_S2C, 2030 * MS, TCP_ACK, 5001, 1101, 0, 8000);   /* 8: window opens (update) */
    seg(DIR_C2S, 2040 * MS, TCP_ACK, 1101, 5001, 100, 502);  /* 9: data resumes */
    seg(DIR_S2C, 2050 * MS, TCP_ACK, 5001, 1201, 0, 8000);   /* 10 */
    seg(DIR_C2S, 62 * S, TCP_ACK, 1200, 5001, 0, 502);       /* 11: keep-alive */
    seg(DIR_S2C, 62 * S + MS, TCP_ACK, 5001, 1201, 0, 8000); /* 12: keep-alive ACK */
    seg(DIR_C2S, 124 * S, TCP_ACK, 1200, 5001, 1, 502);      /* 13: keep-alive with 1 byte */
    analyse(NULL, 0);
    CHECK_EQ_U64(evs(5), EV(TEV_ZERO_WINDOW));
    CHECK_EQ_U64(evs(6), 0);                   /* probe: not a retransmission, no event counted */
    CHECK_EQ_U64(evs(7), EV(TEV_ZERO_WINDOW)); /* probe ACK: still a zero window, not a dup ACK */
    CHECK_EQ_U64(evs(8), 0);
    CHECK_EQ_U64(evs(9), 0); /* the probe byte is sent again as data: not a retransmission */
    CHECK_EQ_U64(evs(11), EV(TEV_KEEP_ALIVE));
    CHECK_EQ_U64(evs(12), 0); /* keep-alive ACK is not a duplicate ACK */
    CHECK_EQ_U64(evs(13), EV(TEV_KEEP_ALIVE));
    analyse_done();
    run_engine(NULL);
    const struct finding *f = find_kind(FK_ZERO_WINDOW);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_U64(f->sev, SEV_WARN);
        CHECK_EQ_U64(f->fx.tcp.zero_window_ns[DIR_S2C], 2000000000ull);
        CHECK_EQ_U64(f->fx.tcp.zero_window_ns[DIR_C2S], 0);
        CHECK_EQ_U64(f->frames[0], 5);
    }
    CHECK(find_kind(FK_KEEP_ALIVE) != NULL);
    CHECK_EQ_U64(count_kind(FK_RETRANSMISSION), 0);
}

static void test_window_full(void)
{
    reset_scenario();
    handshake(1000, 5000, 2);                              /* both sides scale by 4 */
    seg(DIR_S2C, 20 * MS, TCP_ACK, 5001, 1001, 0, 500);    /* 4: window 500 << 2 = 2000 */
    seg(DIR_C2S, 30 * MS, TCP_ACK, 1001, 5001, 1000, 502); /* 5 */
    seg(DIR_C2S, 31 * MS, TCP_ACK, 2001, 5001, 1000, 502); /* 6: reaches ack + 2000 */
    analyse(NULL, 0);
    CHECK_EQ_U64(evs(5), 0);
    CHECK_EQ_U64(evs(6), EV(TEV_WINDOW_FULL));
    analyse_done();

    /* Without window scaling in the SYN-ACK, scaling is off for both. */
    reset_scenario();
    struct pkt *p = seg(DIR_C2S, 0, TCP_SYN, 1000, 0, 0, 64240);
    p->has_wscale = true;
    p->wscale = 7;
    seg(DIR_S2C, 10 * MS, TCP_SYN | TCP_ACK, 5000, 1001, 0, 2000);
    seg(DIR_C2S, 15 * MS, TCP_ACK, 1001, 5001, 0, 502);
    seg(DIR_S2C, 20 * MS, TCP_ACK, 5001, 1001, 0, 2000);   /* 4 */
    seg(DIR_C2S, 31 * MS, TCP_ACK, 1001, 5001, 2000, 502); /* 5: fills 2000 unscaled */
    analyse(NULL, 0);
    CHECK_EQ_U64(evs(5), EV(TEV_WINDOW_FULL));
    analyse_done();
}

static void test_mirror_duplicates(void)
{
    reset_scenario();
    handshake(1000, 5000, 7);
    struct pkt *a = seg(DIR_C2S, 20 * MS, TCP_ACK, 1001, 5001, 100, 502); /* 4 */
    struct pkt copy = *a;
    struct pkt *b = seg(DIR_C2S, 20 * MS + 50 * US, 0, 0, 0, 0, 0); /* 5: SPAN copy */
    *b = copy;
    b->ts_ns += 50 * US;
    b->frame = 5;
    struct pkt *c = seg(DIR_C2S, 25 * MS, 0, 0, 0, 0, 0); /* 6: same frame 5 ms later */
    *c = copy;
    c->ts_ns += 5 * MS;
    c->frame = 6;
    /* 7, 8: identical RSTs without IP ID or timestamps: two real packets, never copies */
    seg(DIR_S2C, 30 * MS, TCP_RST, 5001, 0, 0, 0)->ip_id = 0;
    struct pkt *r2 = seg(DIR_S2C, 30 * MS + 10 * US, TCP_RST, 5001, 0, 0, 0);
    r2->ip_id = 0;
    r2->tcp_csum = pk[6].tcp_csum;
    analyse(NULL, 0);
    CHECK_EQ_U64(out[4].dir, (uint64_t)-1);       /* dropped before analysis */
    CHECK_EQ_U64(evs(6), EV(TEV_RETRANSMISSION)); /* outside the 1 ms window: real */
    CHECK_EQ_U64(evs(7), EV(TEV_RESET));
    CHECK_EQ_U64(evs(8), EV(TEV_RESET));
    analyse_done();
    run_engine(NULL);
    CHECK_EQ_U64(cap.summary.mirror_duplicates, 1);
    CHECK_EQ_U64(cap.nflows, 1);
    CHECK_EQ_U64(recs[0].ev[DIR_C2S][TEV_MIRROR_DUPLICATE], 1);
    CHECK_EQ_U64(recs[0].ev[DIR_C2S][TEV_RETRANSMISSION], 1);
    CHECK_EQ_U64(recs[0].ev[DIR_S2C][TEV_RESET], 2);
    CHECK_EQ_U64(recs[0].packets[DIR_C2S], 4); /* SYN, ACK, data, resend; the copy is not counted */
}

static void test_port_reuse(void)
{
    reset_scenario();
    handshake(1000, 5000, 7);
    seg(DIR_C2S, 20 * MS, TCP_ACK | TCP_FIN, 1001, 5001, 0, 502); /* 4 */
    seg(DIR_S2C, 21 * MS, TCP_ACK | TCP_FIN, 5001, 1002, 0, 509); /* 5 */
    seg(DIR_C2S, 22 * MS, TCP_ACK, 1002, 5002, 0, 502);           /* 6 */
    /* 7..9: a new connection on the same 4-tuple 1 s later, another ISN */
    seg(DIR_C2S, 1 * S, TCP_SYN, 900000, 0, 0, 64240);
    seg(DIR_S2C, 1 * S + 10 * MS, TCP_SYN | TCP_ACK, 700000, 900001, 0, 65160);
    seg(DIR_C2S, 1 * S + 12 * MS, TCP_ACK, 900001, 700001, 0, 502);
    /* 10: a SYN with a new ISN on the open connection: reused too */
    seg(DIR_C2S, 2 * S, TCP_SYN, 123456, 0, 0, 64240);
    analyse(NULL, 0);
    CHECK_EQ_U64(nreuse, 2);
    CHECK(out[6].flow_new && out[6].syn && !out[6].syn_retry);
    CHECK_EQ_U64(evs(7) | evs(8) | evs(9), 0); /* nothing of the old sequence space leaks in */
    CHECK(out[8].hs_ack);
    CHECK(out[9].flow_new);
    analyse_done();
    run_engine(NULL);
    CHECK_EQ_U64(cap.nflows, 3);
    if (cap.nflows == 3) {
        CHECK_EQ_U64(recs[0].close, CLOSE_FIN); /* it had closed before the new SYN */
        CHECK_EQ_U64(recs[0].state, FS_CLOSED);
        CHECK_EQ_U64(recs[1].close, CLOSE_REUSED);
        CHECK_EQ_U64(recs[1].state, FS_ESTABLISHED);
        CHECK(recs[1].flow_id > recs[0].flow_id);
        CHECK_EQ_U64(recs[2].close, CLOSE_UNANSWERED);
        CHECK_EQ_U64(recs[2].syn_count, 1);
        CHECK(!recs[2].one_direction); /* a lone SYN is not a one-way capture */
    }
}

static void test_syn_retry_and_handshake_rtt(void)
{
    reset_scenario();
    seg(DIR_C2S, 0, TCP_SYN, 1000, 0, 0, 64240);
    seg(DIR_C2S, 1 * S, TCP_SYN, 1000, 0, 0, 64240); /* retry, same ISN */
    seg(DIR_S2C, 1 * S + 20 * MS, TCP_SYN | TCP_ACK, 5000, 1001, 0, 65160);
    seg(DIR_S2C, 2 * S + 20 * MS, TCP_SYN | TCP_ACK, 5000, 1001, 0, 65160); /* retry */
    seg(DIR_C2S, 2 * S + 25 * MS, TCP_ACK, 1001, 5001, 0, 502);
    analyse(NULL, 0);
    CHECK(out[0].syn && !out[0].syn_retry && out[0].flow_new);
    CHECK(out[1].syn && out[1].syn_retry && !out[1].syn_copy); /* 1 s: a retry */
    CHECK_EQ_U64(evs(2), EV(TEV_RETRANSMISSION)); /* as tshark counts a repeated SYN */
    CHECK(out[2].synack && !out[2].synack_retry);
    CHECK(out[3].synack && out[3].synack_retry);
    CHECK(out[4].hs_ack);
    const struct flow_record *r = &last_flow->rec;
    CHECK_EQ_U64(r->hs_rtt_server_ns, 20 * MS); /* latest SYN -> first SYN-ACK */
    CHECK_EQ_U64(r->hs_syn_ts_ns, T0 + 1 * S);  /* ... the retry the SYN-ACK answers */
    CHECK_EQ_U64(r->hs_rtt_client_ns, 5 * MS);  /* latest SYN-ACK -> ACK */
    CHECK_EQ_U64(r->syn_count, 2);
    CHECK_EQ_U64(r->synack_count, 2);
    CHECK_EQ_U64(r->state, FS_ESTABLISHED);
    CHECK(r->saw_syn);
    analyse_done();
}

/* A SYN seen again 50 ms later (another VLAN): a copy, the handshake clock keeps the first. */
static void test_syn_copy(void)
{
    reset_scenario();
    seg(DIR_C2S, 0, TCP_SYN, 1000, 0, 0, 64240);
    seg(DIR_C2S, 50 * MS, TCP_SYN, 1000, 0, 0, 64240); /* copy: no timer fires this soon */
    seg(DIR_S2C, 70 * MS, TCP_SYN | TCP_ACK, 5000, 1001, 0, 65160);
    seg(DIR_C2S, 71 * MS, TCP_ACK, 1001, 5001, 0, 502);
    analyse(NULL, 0);
    CHECK(!out[0].syn_copy);
    CHECK(out[1].syn && out[1].syn_retry && out[1].syn_copy);
    CHECK_EQ_U64(evs(2), EV(TEV_RETRANSMISSION)); /* as tshark counts a repeated SYN */
    const struct flow_record *r = &last_flow->rec;
    CHECK_EQ_U64(r->hs_rtt_server_ns, 70 * MS); /* from the SYN the SYN-ACK answers */
    CHECK_EQ_U64(r->hs_syn_ts_ns, T0);          /* the first: the copy does not restart it */
    CHECK_EQ_U64(r->hs_rtt_client_ns, 1 * MS);
    CHECK_EQ_U64(r->hs_rtt_ns, 71 * MS);
    CHECK_EQ_U64(r->syn_count, 2);
    analyse_done();
}

static void test_resets(void)
{
    /* Refused: RST+ACK in answer to the SYN. */
    reset_scenario();
    seg(DIR_C2S, 0, TCP_SYN, 1000, 0, 0, 64240);
    seg(DIR_S2C, MS, TCP_RST | TCP_ACK, 0, 1001, 0, 0);
    analyse(NULL, 0);
    CHECK_EQ_U64(out[1].rst, RST_ANSWER_TO_SYN);
    CHECK(!out[1].rst_ttl_mismatch);
    CHECK_EQ_U64(last_flow->rec.close, CLOSE_REFUSED);
    analyse_done();

    /* During the handshake: the client resets after the SYN-ACK. */
    reset_scenario();
    seg(DIR_C2S, 0, TCP_SYN, 1000, 0, 0, 64240);
    seg(DIR_S2C, MS, TCP_SYN | TCP_ACK, 5000, 1001, 0, 65160);
    seg(DIR_C2S, 2 * MS, TCP_RST, 1001, 0, 0, 0);
    analyse(NULL, 0);
    CHECK_EQ_U64(out[2].rst, RST_HANDSHAKE);
    CHECK_EQ_U64(last_flow->rec.close, CLOSE_RST_CLIENT);
    analyse_done();

    /* Mid-transfer, with a TTL that differs from the server's other packets. */
    reset_scenario();
    handshake(1000, 5000, 7);
    seg(DIR_C2S, 20 * MS, TCP_ACK, 1001, 5001, 100, 502);
    seg(DIR_S2C, 30 * MS, TCP_ACK, 5001, 1101, 1000, 509);
    seg(DIR_S2C, 40 * MS, TCP_RST | TCP_ACK, 6001, 1101, 0, 0)->ttl = 52;
    analyse(NULL, 0);
    CHECK_EQ_U64(out[5].rst, RST_MID);
    CHECK(out[5].rst_ttl_mismatch);
    CHECK_EQ_U64(last_flow->rec.close, CLOSE_RST_SERVER);
    CHECK_EQ_U64(last_flow->rec.state, FS_CLOSED);
    analyse_done();
    run_engine(NULL);
    const struct finding *f = find_kind(FK_RESET);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_U64(f->sev, SEV_WARN);
        CHECK(strstr(f->detail, "RST from the server mid-transfer") != NULL);
        CHECK(strstr(f->detail, "TTL 52 differs from the server's other packets (64)") != NULL);
        CHECK_EQ_U64(f->fx.reset.from, DIR_S2C);
        CHECK_EQ_U64(f->fx.reset.phase, RST_MID);
        CHECK(f->fx.reset.ttl_mismatch);
        CHECK_EQ_U64(f->fx.reset.ttl, 52);
        CHECK_EQ_U64(f->fx.reset.ttl_expected, 64);
        CHECK_EQ_U64(f->frames[0], 6);
    }
    CHECK_EQ_U64(count_kind(FK_RESET), 1);
    CHECK_EQ_U64(cap.nflows, 1);
    CHECK_EQ_U64(recs[0].close, CLOSE_RST_SERVER);

    /* After a FIN, same TTL: info, no mismatch. */
    reset_scenario();
    handshake(1000, 5000, 7);
    seg(DIR_S2C, 20 * MS, TCP_ACK | TCP_FIN, 5001, 1001, 0, 509);
    seg(DIR_C2S, 30 * MS, TCP_RST | TCP_ACK, 1001, 5002, 0, 0);
    analyse(NULL, 0);
    CHECK_EQ_U64(out[4].rst, RST_AFTER_FIN);
    CHECK(!out[4].rst_ttl_mismatch);
    analyse_done();
    run_engine(NULL);
    f = find_kind(FK_RESET);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_U64(f->sev, SEV_INFO);
        CHECK_EQ_U64(f->fx.reset.from, DIR_C2S);
        CHECK_EQ_U64(f->fx.reset.phase, RST_AFTER_FIN);
        CHECK(!f->fx.reset.ttl_mismatch);
        CHECK(strstr(f->detail, "TTL") == NULL);
    }
}

static void test_server_selection(void)
{
    /* The SYN's destination. */
    reset_scenario();
    cli = th_ep4(10, 0, 0, 1, 80); /* the client happens to use a low port */
    srv = th_ep4(10, 0, 0, 2, 50000);
    seg(DIR_C2S, 0, TCP_SYN, 1, 0, 0, 1000);
    analyse(NULL, 0);
    CHECK_EQ_U64(last_flow->rec.server.port, 50000);
    CHECK_EQ_U64(out[0].dir, DIR_C2S);
    analyse_done();

    /* Picked up at the SYN-ACK: its sender. */
    reset_scenario();
    seg(DIR_S2C, 0, TCP_SYN | TCP_ACK, 1, 2, 0, 1000);
    analyse(NULL, 0);
    CHECK_EQ_U64(last_flow->rec.server.port, 443);
    CHECK_EQ_U64(out[0].dir, DIR_S2C);
    CHECK_EQ_U64(last_flow->rec.state, FS_SYN_RECEIVED);
    analyse_done();

    /* Mid-stream: the well-known port, whichever way the first segment goes. */
    reset_scenario();
    seg(DIR_S2C, 0, TCP_ACK, 1, 2, 10, 1000);
    analyse(NULL, 0);
    CHECK_EQ_U64(last_flow->rec.server.port, 443);
    CHECK_EQ_U64(last_flow->rec.state, FS_MIDSTREAM);
    analyse_done();
    reset_scenario();
    cli = th_ep4(10, 0, 0, 1, 50123);
    srv = th_ep4(10, 0, 0, 2, 8080);
    seg(DIR_S2C, 0, TCP_ACK, 1, 2, 10, 1000);
    analyse(NULL, 0);
    CHECK_EQ_U64(last_flow->rec.server.port, 8080); /* no well-known port: the lower one */
    analyse_done();

    /* --server wins over the SYN direction; port 0 matches any port. */
    reset_scenario();
    struct endpoint conf = th_ep4(192, 0, 2, 10, 0); /* cli's address */
    seg(DIR_C2S, 0, TCP_SYN, 1, 0, 0, 1000);
    analyse(&conf, 1);
    CHECK(last_flow->rec.server.ip.a[3] == 10 && last_flow->rec.server.port == 40000);
    CHECK_EQ_U64(out[0].dir, DIR_S2C);
    analyse_done();
    struct endpoint other_port = th_ep4(192, 0, 2, 10, 22);
    CHECK(!tcp_ep_is_server(&cli, &other_port, 1));
    CHECK(tcp_ep_is_server(&cli, &conf, 1));
}

static void test_one_direction(void)
{
    reset_scenario();
    /* Only the client's side was mirrored: data and ACKs of server data never seen. */
    for (int i = 0; i < 6; i++)
        seg(DIR_C2S, (uint64_t)i * 10 * MS, TCP_ACK, 1001 + (uint32_t)i * 100,
            5001 + (uint32_t)i * 1000, 100, 502);
    run_engine(NULL);
    CHECK_EQ_U64(cap.nflows, 1);
    CHECK(recs[0].one_direction);
    CHECK_EQ_U64(recs[0].ev[DIR_S2C][TEV_CAPTURE_LOSS] + recs[0].ev[DIR_C2S][TEV_CAPTURE_LOSS], 0);
    CHECK_EQ_U64(count_kind(FK_ONE_DIRECTION), 1);
    CHECK_EQ_U64(count_kind(FK_CAPTURE_LOSS), 0);
    const struct finding *f = find_kind(FK_ONE_DIRECTION);
    if (f)
        CHECK(f->fx.one_dir.seen == DIR_C2S && f->fx.one_dir.packets > 0);

    /* Both directions seen: no one-direction finding. */
    reset_scenario();
    handshake(1000, 5000, 7);
    run_engine(NULL);
    CHECK_EQ_U64(count_kind(FK_ONE_DIRECTION), 0);
    CHECK(cap.nflows == 1 && !recs[0].one_direction);
}

static void test_idle_and_linger(void)
{
    reset_scenario();
    handshake(1000, 5000, 7);
    seg(DIR_C2S, 20 * MS, TCP_ACK | TCP_FIN, 1001, 5001, 0, 502);
    seg(DIR_S2C, 21 * MS, TCP_ACK | TCP_FIN, 5001, 1002, 0, 509);
    /* another flow, 10 s later, ends the lingering closed one */
    cli.port = 40001;
    seg(DIR_C2S, 10 * S, TCP_SYN, 77, 0, 0, 64240);
    /* and 400 s later a third: the second is idle-expired as unanswered */
    cli.port = 40002;
    seg(DIR_C2S, 410 * S, TCP_SYN, 88, 0, 0, 64240);
    struct eng_config cfg;
    eng_config_default(&cfg);
    run_engine(&cfg);
    CHECK_EQ_U64(cap.nflows, 3);
    if (cap.nflows == 3) {
        CHECK_EQ_U64(recs[0].close, CLOSE_FIN);
        CHECK_EQ_U64(recs[0].client.port, 40000);
        CHECK_EQ_U64(recs[1].client.port, 40001);
        CHECK_EQ_U64(recs[1].close, CLOSE_UNANSWERED);
        CHECK_EQ_U64(recs[2].client.port, 40002);
    }
    CHECK_EQ_U64(cap.summary.flows, 3);
    CHECK_EQ_U64(cap.summary.tcp_packets, npk);
}

static void test_interim_reports(void)
{
    /* A long connection: what happened is reported every 60 s while it stays open. */
    reset_scenario();
    handshake(1000, 5000, 7);
    seg(DIR_C2S, 1 * S, TCP_ACK, 1001, 5001, 100, 502);  /* 4 */
    seg(DIR_C2S, 2 * S, TCP_ACK, 1001, 5001, 100, 502);  /* 5: retransmission */
    seg(DIR_S2C, 3 * S, TCP_ACK, 5001, 1101, 0, 509);    /* 6 */
    seg(DIR_S2C, 4 * S, TCP_ACK, 5001, 1101, 0, 509);    /* 7: dup ACK 1 */
    seg(DIR_C2S, 61 * S, TCP_ACK, 1101, 5001, 100, 502); /* 8: 60 s: report */
    seg(DIR_C2S, 62 * S, TCP_ACK, 1101, 5001, 100, 502); /* 9: retransmission */
    seg(DIR_S2C, 63 * S, TCP_ACK, 5001, 1201, 0, 509);   /* 10 */
    seg(DIR_S2C, 64 * S, TCP_ACK, 5001, 1201, 0, 509);   /* 11: dup ACK 2 */
    struct eng_config cfg;
    eng_config_default(&cfg);
    cfg.notable_events = 2;
    cfg.tcp_report_ns = 60 * S;
    struct eng_config one = cfg;
    one.notable_events = 1;
    run_engine(&cfg);
    /* One of each by 60 s is below 2: carried over, both reported at the end. */
    CHECK_EQ_U64(count_kind(FK_RETRANSMISSION), 1);
    CHECK_EQ_U64(count_kind(FK_DUP_ACK), 1);
    const struct finding *f = find_kind(FK_RETRANSMISSION);
    if (f)
        CHECK(f->fx.tcp.count[DIR_C2S] == 2 && f->fx.tcp.count[DIR_S2C] == 0);
    f = find_kind(FK_DUP_ACK);
    if (f) {
        CHECK_EQ_U64(f->nframes, 2);
        CHECK_EQ_U64(f->frames[0], 7);
        CHECK_EQ_U64(f->frames[1], 11);
        CHECK(!f->fx.tcp.interim);
    }
    run_engine(&one);
    CHECK_EQ_U64(count_kind(FK_RETRANSMISSION), 2);
    size_t interim = 0, final = 0;
    for (size_t i = 0; i < cap.nfnd; i++) {
        if (fnd[i].kind != FK_RETRANSMISSION)
            continue;
        CHECK_EQ_U64(fnd[i].nframes, 1);
        CHECK(strstr(fnd[i].detail, "1 retransmission client->server") != NULL);
        if (fnd[i].fx.tcp.interim) {
            interim++;
            CHECK_EQ_U64(fnd[i].frames[0], 5);
            CHECK(strstr(fnd[i].detail, "connection open 61 s: ") == fnd[i].detail);
        } else {
            final++;
            CHECK_EQ_U64(fnd[i].frames[0], 9);
        }
    }
    CHECK_EQ_U64(interim, 1);
    CHECK_EQ_U64(final, 1);
    CHECK_EQ_U64(count_kind(FK_DUP_ACK), 2);
    CHECK_EQ_U64(cap.nflows, 1);
    CHECK_EQ_U64(recs[0].ev[DIR_C2S][TEV_RETRANSMISSION], 2); /* the record keeps totals */
}

static void test_bogus_timestamp(void)
{
    /* One frame ten days in the future must not leave every later flow looking idle. */
    reset_scenario();
    seg(DIR_C2S, 0, TCP_ACK, 1, 1, 10, 100);
    cli.port = 40001;
    seg(DIR_C2S, 10 * 86400 * S, TCP_ACK, 1, 1, 10, 100);
    cli.port = 40002;
    seg(DIR_C2S, 2 * S, TCP_ACK, 1, 1, 10, 100);
    seg(DIR_C2S, 3 * S, TCP_ACK, 11, 1, 10, 100);
    seg(DIR_C2S, 4 * S, TCP_ACK, 21, 1, 10, 100);
    cli.port = 40003;
    seg(DIR_C2S, 400 * S, TCP_ACK, 1, 1, 10, 100); /* 40002 has been idle > 300 s by now */
    seg(DIR_C2S, 401 * S, TCP_ACK, 11, 1, 10, 100);
    run_engine(NULL);
    CHECK_EQ_U64(cap.summary.flows, 4);
    CHECK(cap.nflows >= 3);
    if (cap.nflows >= 3) {
        CHECK_EQ_U64(recs[0].client.port, 40000); /* expired by the jump: unavoidable */
        /* the future flow and 40002 expire as idle before the end of the input */
        CHECK_EQ_U64(recs[1].close, CLOSE_IDLE);
        CHECK_EQ_U64(recs[2].client.port, 40002);
        CHECK_EQ_U64(recs[2].close, CLOSE_IDLE);
        CHECK_EQ_U64(recs[2].packets[DIR_C2S], 3);
    }
}

static void test_eviction_and_snapshot(void)
{
    reset_scenario();
    for (int i = 0; i < 5; i++) {
        cli.port = (uint16_t)(41000 + i);
        seg(DIR_C2S, (uint64_t)i * MS, TCP_ACK, 1, 1, 10, 100);
    }
    struct eng_config cfg;
    eng_config_default(&cfg);
    cfg.max_flows = 3;
    struct engine *e = th_engine_new(&cfg, &cap);
    CHECK(e != NULL);
    if (!e)
        return;
    for (size_t i = 0; i < npk; i++)
        eng_packet(e, &pk[i]);
    /* flow 41004 gets a retransmission: worst in the snapshot */
    struct pkt again = pk[4];
    again.ts_ns += 400 * MS;
    again.ip_id++;
    eng_packet(e, &again);
    CHECK_EQ_U64(cap.nflows, 2);
    CHECK_EQ_U64(recs[0].close, CLOSE_EVICTED);
    CHECK_EQ_U64(recs[0].client.port, 41000);
    struct eng_stats st;
    eng_get_stats(e, &st);
    CHECK_EQ_U64(st.evicted, 2);
    CHECK_EQ_U64(st.flows_active, 3);
    struct flow_record snap[2];
    size_t n = eng_snapshot_flows(e, snap, 2);
    CHECK_EQ_U64(n, 2);
    CHECK_EQ_U64(snap[0].client.port, 41004);
    CHECK_EQ_U64(snap[1].client.port, 41003); /* then the newest */
    eng_finish(e, NULL);
    eng_free(e);
    CHECK_EQ_U64(cap.nflows, 5);
}

static void test_malformed(void)
{
    struct eng_config cfg;
    eng_config_default(&cfg);
    struct engine *e = th_engine_new(&cfg, &cap);
    CHECK(e != NULL);
    if (!e)
        return;
    for (int i = 0; i < 150; i++)
        eng_malformed(e, T0 + (uint64_t)i, (uint64_t)i + 1, "IPv4 header length 3 < 5");
    struct run_summary sum;
    memset(&sum, 0, sizeof(sum));
    eng_finish(e, &sum);
    eng_free(e);
    CHECK_EQ_U64(count_kind(FK_MALFORMED), 100);
    CHECK_EQ_U64(sum.malformed, 150);
    CHECK_EQ_U64(sum.findings[FK_MALFORMED], 100);
    CHECK(strstr(fnd[0].detail, "frame 1 could not be decoded: IPv4 header length 3 < 5") != NULL);
}

static void test_names(void)
{
    CHECK(strcmp(fk_name(FK_CONN_REFUSED), "conn_refused") == 0);
    CHECK(strcmp(fk_name(FK_ONE_DIRECTION), "one_direction") == 0);
    CHECK(strcmp(fk_name((enum fkind)999), "?") == 0);
    for (int k = 0; k < FK__COUNT; k++)
        CHECK_EQ_U64(fk_from_name(fk_name((enum fkind)k)), k);
    CHECK_EQ_U64(fk_from_name("nope"), (uint64_t)-1);
    CHECK(strcmp(tcp_ev_name(TEV_MIRROR_DUPLICATE), "mirror_duplicate") == 0);
    CHECK(strcmp(close_name(CLOSE_RST_SERVER), "rst_server") == 0);
    CHECK(strcmp(flow_state_name(FS_MIDSTREAM), "midstream") == 0);
    CHECK(strcmp(tls_outcome_name(TLS_REJECTED_INFERRED), "rejected_inferred") == 0);
    CHECK(strcmp(sev_name(SEV_WARN), "warn") == 0);
}

/* The SPAN duplicate filter's hash before issue 14 (multiply-xor, key fixed at build time). */
static uint64_t old_dedup_state(const struct pkt *p)
{
    const uint64_t k = 0x9e3779b97f4a7c15ULL;
    uint64_t h = 0x2545f4914f6cdd1dULL, w[2];
    for (int i = 0; i < 2; i++) {
        const struct endpoint *e = i ? &p->dst : &p->src;
        memcpy(w, e->ip.a, sizeof(w));
        h = (h ^ w[0]) * k;
        h = (h ^ w[1]) * k;
    }
    h = (h ^ ((uint64_t)p->src.port << 48 | (uint64_t)p->dst.port << 32 | (uint64_t)p->ip_id << 16 |
              p->tcp_csum)) *
        k;
    h = (h ^ ((uint64_t)p->seq << 32 | p->ack)) * k;
    h = (h ^ ((uint64_t)p->tcp_len << 32 | (uint64_t)p->win << 16 | p->flags |
              (uint64_t)p->src.ip.family << 8)) *
        k;
    return h; /* then mixed with the timestamps: fmix64(h ^ (tsval << 32 | tsecr)) */
}

/*
 * A sender who knows the filter's hash can make a different segment look like a mirror copy
 * of one just seen (so that it is dropped unanalysed): under the old hash the timestamp
 * option's 64 free bits cancel everything else. With a per-run key it stays a real segment.
 */
static void test_dedup_not_forgeable(void)
{
    struct tcp_dedup *d = tcp_dedup_new(14);
    CHECK(d != NULL);
    if (!d)
        return;
    cli = th_ep4(10, 0, 0, 1, 40000);
    srv = th_ep4(10, 0, 0, 2, 443);
    reset_scenario();
    struct pkt a = *seg(DIR_C2S, 0, TCP_ACK, 1001, 5001, 100, 502);
    a.has_ts = true;
    a.tsval = 777;
    a.tsecr = 555;
    size_t forged = 0;
    for (uint32_t i = 0; i < 64; i++) {
        struct pkt b = a; /* another segment (other sequence number) 100 us later */
        b.seq = a.seq + 1000 * (i + 1);
        b.ts_ns = a.ts_ns + 100 * US;
        uint64_t ts =
            old_dedup_state(&a) ^ ((uint64_t)a.tsval << 32 | a.tsecr) ^ old_dedup_state(&b);
        b.tsval = (uint32_t)(ts >> 32);
        b.tsecr = (uint32_t)ts;
        CHECK(!tcp_dedup_check(d, &a, MS)); /* a new segment each round */
        forged += tcp_dedup_check(d, &b, MS);
        a.ts_ns += 10 * MS; /* outside the window of the previous round */
    }
    CHECK_EQ_U64(forged, 0);
    tcp_dedup_free(d);
}

/* The frame fields the duplicate filter compares: equal here means a copy. */
static bool same_frame(const struct pkt *a, const struct pkt *b)
{
    return a->seq == b->seq && a->ack == b->ack && a->ip_id == b->ip_id &&
           a->tcp_csum == b->tcp_csum && a->tcp_len == b->tcp_len && a->flags == b->flags &&
           a->win == b->win && a->tsval == b->tsval && a->tsecr == b->tsecr &&
           a->src.port == b->src.port && a->dst.port == b->dst.port &&
           pkt_ip_eq(&a->src.ip, &b->src.ip) && pkt_ip_eq(&a->dst.ip, &b->dst.ip);
}

/*
 * The filter's verdicts depend only on the frames and the window, not on its random key: two
 * filters (two keys) of 16 entries give the verdicts of a plain model (the last 16 frames in
 * arrival order, the oldest forgotten first) on frames whose copies come 1 to 40 frames and
 * up to 1.6 ms later, so that the window often holds more than 16 frames (overflow counted).
 */
static void test_dedup_deterministic(void)
{
    enum { CAP = 16, N = 4000 };
    struct tcp_dedup *d1 = tcp_dedup_new(4), *d2 = tcp_dedup_new(4);
    CHECK(d1 && d2);
    if (!d1 || !d2)
        goto out;
    reset_scenario();
    static struct pkt sent[N];
    struct pkt model[CAP];
    size_t mfirst = 0, mcount = 0, dups = 0;
    uint64_t moverflow = 0, rnd = 12345;
    for (size_t i = 0; i < N; i++) {
        rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
        unsigned r = (unsigned)(rnd >> 33);
        if (i > 0 && r % 3 == 0) { /* a copy of an earlier frame, 1 to 40 frames back */
            size_t back = 1 + (r >> 2) % 40;
            sent[i] = sent[i > back ? i - back : 0];
        } else {
            sent[i] = *seg(DIR_C2S, 0, TCP_ACK, 1000 + (uint32_t)i * 100, 5001, 100, 502);
            sent[i].ip_id = (uint16_t)(i + 1);
        }
        sent[i].ts_ns = (uint64_t)i * 40 * US; /* 25 frames a millisecond */
        const struct pkt *p = &sent[i];
        uint64_t now = p->ts_ns / 1000;
        while (mcount && model[mfirst].ts_ns / 1000 + 1000 < now) {
            mfirst = (mfirst + 1) % CAP;
            mcount--;
        }
        bool copy = false;
        for (size_t k = 0; k < mcount; k++)
            copy |= same_frame(&model[(mfirst + k) % CAP], p);
        if (!copy) {
            if (mcount == CAP) {
                moverflow++; /* the oldest is still inside the window (popped above if not) */
                mfirst = (mfirst + 1) % CAP;
                mcount--;
            }
            model[(mfirst + mcount++) % CAP] = *p;
        }
        bool v1 = tcp_dedup_check(d1, p, MS), v2 = tcp_dedup_check(d2, p, MS);
        CHECK(v1 == copy);
        CHECK(v2 == copy);
        dups += copy;
    }
    CHECK(dups > N / 10);      /* copies were found... */
    CHECK(moverflow > N / 10); /* ...and the window often overflowed the 16 entries */
    CHECK_EQ_U64(tcp_dedup_overflows(d1), moverflow);
    CHECK_EQ_U64(tcp_dedup_overflows(d2), moverflow);
out:
    tcp_dedup_free(d1);
    tcp_dedup_free(d2);
}

int main(void)
{
    TEST_RUN(test_names);
    TEST_RUN(test_wraparound);
    TEST_RUN(test_overlapping_retransmission);
    TEST_RUN(test_fast_retransmission);
    TEST_RUN(test_spurious_and_out_of_order);
    TEST_RUN(test_lost_segment_and_capture_loss);
    TEST_RUN(test_keep_alive_and_zero_window);
    TEST_RUN(test_window_full);
    TEST_RUN(test_mirror_duplicates);
    TEST_RUN(test_port_reuse);
    TEST_RUN(test_syn_retry_and_handshake_rtt);
    TEST_RUN(test_syn_copy);
    TEST_RUN(test_resets);
    TEST_RUN(test_server_selection);
    TEST_RUN(test_one_direction);
    TEST_RUN(test_idle_and_linger);
    TEST_RUN(test_interim_reports);
    TEST_RUN(test_bogus_timestamp);
    TEST_RUN(test_eviction_and_snapshot);
    TEST_RUN(test_malformed);
    TEST_RUN(test_dedup_not_forgeable);
    TEST_RUN(test_dedup_deterministic);
    return TEST_REPORT();
}
