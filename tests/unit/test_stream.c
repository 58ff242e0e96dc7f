/* test_stream.c - unit tests for analyzers/stream.c (bounded in-order reassembly) and the
   stream layer's parser contract (stream_layer.c, stream.h). */
#include <string.h>

#include "analyzers/det.h"
#include "analyzers/flow.h"
#include "analyzers/stream.h"
#include "tests/unit/testhelp.h"

/* n bytes of value c. */
static void fill(uint8_t *b, size_t n, uint8_t c)
{
    memset(b, c, n);
}

static void test_in_order(void)
{
    struct stream_pool *sp = stream_pool_new(2, 64);
    struct stream_dir sd;
    CHECK(sp != NULL);
    CHECK(stream_open(sp, &sd, 0) == 0);
    CHECK_EQ_U64(stream_pool_used(sp), 1);
    CHECK(stream_add(&sd, 0, (const uint8_t *)"hello ", 6) == STREAM_IN_ORDER);
    CHECK(stream_add(&sd, 6, (const uint8_t *)"world", 5) == STREAM_IN_ORDER);
    size_t n;
    const uint8_t *d = stream_data(&sd, &n);
    CHECK_EQ_U64(n, 11);
    CHECK(memcmp(d, "hello world", 11) == 0);
    /* consuming slides the window: base moves, the rest moves to the front */
    stream_consume(&sd, 6);
    d = stream_data(&sd, &n);
    CHECK_EQ_U64(n, 5);
    CHECK_EQ_U64(sd.base, 6);
    CHECK(memcmp(d, "world", 5) == 0);
    stream_close(sp, &sd);
    CHECK(sd.buf == NULL);
    CHECK_EQ_U64(stream_pool_used(sp), 0);
    stream_pool_free(sp);
}

static void test_out_of_order(void)
{
    struct stream_pool *sp = stream_pool_new(1, 64);
    struct stream_dir sd;
    CHECK(stream_open(sp, &sd, 1000) == 0);
    /* bytes 1010..1019 arrive first: held, nothing deliverable */
    CHECK(stream_add(&sd, 1010, (const uint8_t *)"0123456789", 10) == STREAM_OOO);
    CHECK(stream_has_hole(&sd));
    size_t n;
    (void)stream_data(&sd, &n);
    CHECK_EQ_U64(n, 0);
    /* the hole fills: both parts become in-order */
    CHECK(stream_add(&sd, 1000, (const uint8_t *)"abcdefghij", 10) == STREAM_IN_ORDER);
    const uint8_t *d = stream_data(&sd, &n);
    CHECK_EQ_U64(n, 20);
    CHECK(memcmp(d, "abcdefghij0123456789", 20) == 0);
    CHECK(!stream_has_hole(&sd));
    /* consume part, then an out-of-order range beyond the edge survives the slide */
    CHECK(stream_add(&sd, 1030, (const uint8_t *)"XYZ", 3) == STREAM_OOO);
    stream_consume(&sd, 15);
    CHECK(stream_add(&sd, 1020, (const uint8_t *)"KLMNOPQRST", 10) == STREAM_IN_ORDER);
    d = stream_data(&sd, &n);
    CHECK_EQ_U64(n, 18);
    CHECK(memcmp(d, "56789KLMNOPQRSTXYZ", 18) == 0);
    stream_close(sp, &sd);
    stream_pool_free(sp);
}

static void test_overlap_first_copy_wins(void)
{
    struct stream_pool *sp = stream_pool_new(1, 128);
    struct stream_dir sd;
    uint8_t a[10], b[10], c[10], big[20];
    fill(a, 10, 'A');
    fill(b, 10, 'B');
    fill(c, 10, 'C');
    fill(big, 20, 'D');
    CHECK(stream_open(sp, &sd, 0) == 0);
    CHECK(stream_add(&sd, 0, a, 10) == STREAM_IN_ORDER);
    /* a retransmission overlapping delivered bytes: only the new part is taken */
    CHECK(stream_add(&sd, 5, b, 10) == STREAM_IN_ORDER);
    /* a pure retransmission of old bytes */
    CHECK(stream_add(&sd, 0, b, 10) == STREAM_OLD);
    /* held out-of-order bytes keep their first copy */
    CHECK(stream_add(&sd, 30, c, 10) == STREAM_OOO);
    CHECK(stream_add(&sd, 30, b, 10) == STREAM_OLD);
    CHECK(stream_add(&sd, 25, big, 20) == STREAM_OOO);
    CHECK(stream_add(&sd, 15, big, 10) == STREAM_IN_ORDER);
    size_t n;
    const uint8_t *d = stream_data(&sd, &n);
    CHECK_EQ_U64(n, 45);
    CHECK(d[0] == 'A' && d[4] == 'A' && d[5] == 'A' && d[9] == 'A');
    CHECK(d[10] == 'B' && d[14] == 'B');
    CHECK(d[15] == 'D' && d[29] == 'D');
    CHECK(d[30] == 'C' && d[39] == 'C');
    CHECK(d[40] == 'D' && d[44] == 'D');
    stream_close(sp, &sd);
    stream_pool_free(sp);
}

static void test_gap(void)
{
    struct stream_pool *sp = stream_pool_new(1, 4096);
    struct stream_dir sd;
    uint8_t x[4];
    fill(x, 4, 'x');
    CHECK(stream_open(sp, &sd, 0) == 0);
    /* more disjoint holes than ranges can be tracked: the direction is given up */
    enum stream_add_res last = STREAM_OOO;
    for (unsigned i = 0; i <= STREAM_MAX_RANGES; i++)
        last = stream_add(&sd, 100 + 10 * (uint64_t)i, x, 4);
    CHECK(last == STREAM_GAP);
    CHECK(sd.gap);
    CHECK(stream_add(&sd, 0, x, 4) == STREAM_GAP);
    stream_close(sp, &sd);
    stream_pool_free(sp);
}

static void test_cap(void)
{
    struct stream_pool *sp = stream_pool_new(1, 64);
    struct stream_dir sd;
    uint8_t b[100];
    for (unsigned i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t)i;
    CHECK(stream_open(sp, &sd, 0) == 0);
    CHECK(stream_add(&sd, 0, b, 100) == STREAM_CAPPED);
    CHECK(sd.full);
    CHECK_EQ_U64(sd.dropped, 36);
    size_t n;
    const uint8_t *d = stream_data(&sd, &n);
    CHECK_EQ_U64(n, 64);
    CHECK(d[63] == 63);
    /* beyond the window entirely */
    CHECK(stream_add(&sd, 200, b, 10) == STREAM_CAPPED);
    /* after the parser consumed, the window slides and the retransmission fits */
    stream_consume(&sd, 40);
    CHECK(stream_add(&sd, 64, b + 64, 36) == STREAM_IN_ORDER);
    d = stream_data(&sd, &n);
    CHECK_EQ_U64(n, 60);
    CHECK(d[0] == 40 && d[59] == 99);
    stream_close(sp, &sd);
    stream_pool_free(sp);
}

static void test_pool(void)
{
    struct stream_pool *sp = stream_pool_new(2, 64);
    struct stream_dir a, b, c;
    CHECK(stream_pool_new(0, 64) == NULL);
    CHECK(stream_pool_new(2, 8) == NULL);
    CHECK_EQ_U64(stream_pool_cap(sp), 64);
    CHECK(stream_open(sp, &a, 0) == 0);
    CHECK(stream_open(sp, &b, 0) == 0);
    CHECK(a.buf != b.buf);
    CHECK(stream_open(sp, &c, 0) == ERR_FULL);
    CHECK(c.buf == NULL);
    CHECK(stream_add(&c, 0, (const uint8_t *)"x", 1) == STREAM_OLD);
    stream_close(sp, &a);
    CHECK(stream_open(sp, &c, 0) == 0);
    CHECK(c.buf != NULL);
    stream_close(sp, &b);
    stream_close(sp, &c);
    stream_close(sp, &c); /* closing twice is harmless */
    CHECK_EQ_U64(stream_pool_used(sp), 0);
    stream_pool_free(sp);
}

/*
 * Buffers are allocated on first use within the global budget (issue 14: a pool of 4096 x
 * 8 MiB buffers used to be allocated at start and failed): a pool of large buffers costs
 * nothing until used, stops at the budget, reuses what it has, and gives it all back.
 */
static void test_budget(void)
{
    size_t budget0 = stream_budget();
    stream_set_budget((size_t)3 << 23); /* 24 MiB: three buffers of 8 MiB */
    struct stream_pool *sp = stream_pool_new(4096, (size_t)8 << 20);
    CHECK(sp != NULL);
    if (!sp)
        goto out;
    CHECK_EQ_U64(stream_allocated(), 0);
    struct stream_dir sd[4];
    CHECK(stream_open(sp, &sd[0], 0) == 0);
    CHECK(stream_open(sp, &sd[1], 0) == 0);
    CHECK(stream_open(sp, &sd[2], 0) == 0);
    CHECK_EQ_U64(stream_allocated(), (size_t)3 << 23);
    CHECK(stream_open(sp, &sd[3], 0) == ERR_FULL); /* over the budget */
    CHECK(sd[3].buf == NULL);
    CHECK_EQ_U64(stream_pool_used(sp), 3);
    uint8_t *b1 = sd[1].buf;
    static const uint8_t data[100];
    CHECK(stream_add(&sd[1], 0, data, sizeof(data)) == STREAM_IN_ORDER);
    stream_close(sp, &sd[1]);
    CHECK(stream_open(sp, &sd[3], 0) == 0); /* the freed buffer, no new allocation */
    CHECK(sd[3].buf == b1);
    CHECK_EQ_U64(stream_allocated(), (size_t)3 << 23);
    for (int i = 0; i < 4; i++)
        stream_close(sp, &sd[i]);
    CHECK_EQ_U64(stream_pool_used(sp), 0);
    stream_pool_free(sp);
    CHECK_EQ_U64(stream_allocated(), 0);
out:
    stream_set_budget(budget0);
}

/* ---- the stream layer: what two parsers (one unbuffered, one buffered) are told ---- */

#define EV_MAX 32

/* One call a parser got. */
struct ev {
    char what;      /* 'p' probe, 'd' parse, 'g' gap, 'e' eof */
    int dir;        /* direction */
    uint64_t off;   /* parse/gap: stream offset */
    uint64_t n;     /* parse/gap: bytes */
    bool cut;       /* gap: cut by the snaplen */
    int proto;      /* probe: the protocol */
    char text[32];  /* parse: the first bytes */
    uint64_t frame; /* the packet's frame */
};

/* What a test parser recorded, and how it answers. */
struct rec {
    struct ev ev[EV_MAX]; /* calls, in order */
    int nev;              /* how many */
    size_t want;          /* buffered: consume only once this many bytes are there */
};

static struct rec recs[2]; /* [0] unbuffered, [1] buffered */

static struct rec *rec_of(struct det *d)
{
    return d->priv;
}

static struct ev *ev_add(struct det *d, char what, int dir, const struct pkt *p)
{
    struct rec *r = rec_of(d);
    if (r->nev == EV_MAX)
        return &r->ev[EV_MAX - 1];
    struct ev *e = &r->ev[r->nev++];
    memset(e, 0, sizeof(*e));
    e->what = what;
    e->dir = dir;
    e->frame = p->frame;
    return e;
}

static int t_probe(struct det *d, const struct flow *f, void *fs, enum stream_proto proto,
                   bool can_buffer, const struct pkt *p)
{
    (void)f;
    (void)fs;
    ev_add(d, 'p', 0, p)->proto = (int)proto;
    return can_buffer ? STREAM_FOLLOW : STREAM_NOT_MINE;
}

static int t_parse(struct det *d, const struct flow *f, void *fs, const struct stream_chunk *c)
{
    (void)f;
    (void)fs;
    struct ev *e = ev_add(d, 'd', c->dir, c->p);
    e->off = c->off;
    e->n = c->n;
    memcpy(e->text, c->b, c->n < sizeof(e->text) - 1 ? c->n : sizeof(e->text) - 1);
    if (d->ops->stream->buffered && c->n < rec_of(d)->want)
        return 0; /* not enough yet: the layer keeps them */
    return (int)c->n;
}

static int t_gap(struct det *d, const struct flow *f, void *fs, const struct stream_gap *g)
{
    (void)f;
    (void)fs;
    struct ev *e = ev_add(d, 'g', g->dir, g->p);
    e->off = g->off;
    e->n = g->n;
    e->cut = g->cut;
    return 0;
}

static void t_eof(struct det *d, const struct flow *f, void *fs, int dir, const struct pkt *p)
{
    (void)f;
    (void)fs;
    ev_add(d, 'e', dir, p);
}

static bool t_framed(struct det *d, const struct flow *f, void *fs, int dir)
{
    (void)d;
    (void)f;
    (void)fs;
    (void)dir;
    return true;
}

static const struct stream_ops t_unbuf = {false, t_probe, t_parse, t_gap, t_eof, t_framed};
static const struct stream_ops t_buf = {true, t_probe, t_parse, t_gap, t_eof, t_framed};
static const struct det_ops t_unbuf_det = {.name = "u", .stream = &t_unbuf};
static const struct det_ops t_buf_det = {.name = "b", .stream = &t_buf};

/* A segment of flow f: payload text (caplen bytes of it captured, len on the wire). */
static void seg(struct stream_layer *sl, struct det *dets, struct flow *f, uint64_t ts,
                uint64_t frame, int dir, uint64_t rel, const char *text, uint32_t len,
                uint32_t caplen, uint8_t flags)
{
    struct pkt p;
    struct tcp_seg sg;
    memset(&p, 0, sizeof(p));
    memset(&sg, 0, sizeof(sg));
    p.ts_ns = ts;
    p.frame = frame;
    p.flags = flags;
    p.payload = (const uint8_t *)text;
    p.payload_caplen = caplen;
    p.tcp_len = len;
    sg.dir = dir;
    sg.rel_seq = rel;
    sg.has_rel = true;
    sg.len = len;
    stream_layer_segment(sl, f, &p, &sg);
    for (int i = 0; i < 2; i++)
        stream_layer_deliver(sl, &dets[i], f, f->ext);
    stream_layer_done(sl, f);
}

static bool ev_is(const struct ev *e, char what, int dir, uint64_t off, uint64_t n)
{
    return e->what == what && e->dir == dir && e->off == off && e->n == n;
}

/* The two recording detectors of the layer tests, unbuffered then buffered, records cleared. */
static void two_dets(struct det dets[2])
{
    memset(dets, 0, 2 * sizeof(dets[0]));
    memset(recs, 0, sizeof(recs));
    dets[0].ops = &t_unbuf_det;
    dets[0].priv = &recs[0];
    dets[1].ops = &t_buf_det;
    dets[1].priv = &recs[1];
}

/* HTTP: the protocol is decided once; reordering, a hole given up, a snaplen cut, the FIN. */
static void test_layer_unbuffered(void)
{
    static uint8_t ext[8];
    struct det dets[2];
    two_dets(dets);
    struct stream_layer *sl = stream_layer_new(dets, 2, 4, 1024, 4);
    CHECK(sl != NULL);
    if (!sl)
        return;
    struct flow f;
    memset(&f, 0, sizeof(f));
    f.ext = ext;
    const uint64_t ms = 1000000;
    seg(sl, dets, &f, 1 * ms, 1, DIR_C2S, 0, "GET / HTTP/1.1\r\n", 16, 16, 0);
    CHECK(stream_proto(&f) == STREAM_PROTO_HTTP);
    /* bytes 20..24 (inside a message: not a method token) come before 16..20: held, then
       stepped over as a gap (no window) */
    seg(sl, dets, &f, 2 * ms, 2, DIR_C2S, 20, "\r\n\r\n", 4, 4, 0);
    CHECK(stream_hole(&f, DIR_C2S));
    seg(sl, dets, &f, 3 * ms, 3, DIR_C2S, 16, "wxyz", 4, 4, 0);
    CHECK(!stream_hole(&f, DIR_C2S));
    /* a hole at 24..30 never filled: given up once the held bytes are 1 s old */
    seg(sl, dets, &f, 4 * ms, 4, DIR_C2S, 30, "\r\nxy", 4, 4, 0);
    seg(sl, dets, &f, 1500 * ms, 5, DIR_C2S, 34, "late", 4, 4, 0);
    /* 10 bytes on the wire, 3 captured; then the FIN */
    seg(sl, dets, &f, 1600 * ms, 6, DIR_C2S, 34, "late", 10, 3, TCP_FIN);
    const struct rec *r = &recs[0];
    CHECK(r->nev == 8);
    CHECK(r->ev[0].what == 'p' && r->ev[0].proto == STREAM_PROTO_HTTP);
    CHECK(ev_is(&r->ev[1], 'd', DIR_C2S, 0, 16) && r->ev[1].frame == 1);
    CHECK(ev_is(&r->ev[2], 'd', DIR_C2S, 16, 4) && r->ev[2].frame == 3);
    CHECK(strcmp(r->ev[2].text, "wxyz") == 0);
    CHECK(ev_is(&r->ev[3], 'g', DIR_C2S, 20, 4) && !r->ev[3].cut);
    /* the stale hole: 24..34 (the hole and the held bytes) are a gap, then the new bytes */
    CHECK(ev_is(&r->ev[4], 'g', DIR_C2S, 24, 10) && r->ev[4].frame == 5);
    CHECK(ev_is(&r->ev[5], 'd', DIR_C2S, 34, 4) && strcmp(r->ev[5].text, "late") == 0);
    /* 38..44 new, but only 34..37 captured (old): the rest is a cut */
    CHECK(ev_is(&r->ev[6], 'g', DIR_C2S, 38, 6) && r->ev[6].cut);
    CHECK(r->ev[7].what == 'e' && r->ev[7].frame == 6);
    /* the buffered parser was asked once and declined (no window for HTTP) */
    CHECK(recs[1].nev == 1 && recs[1].ev[0].what == 'p');
    stream_layer_flow_end(sl, &f);
    CHECK(f.stream == 0);
    stream_layer_free(sl);
}

/* TLS: the buffered parser gets its unconsumed bytes again, and held bytes from the window. */
static void test_layer_buffered(void)
{
    static uint8_t ext[8];
    struct det dets[2];
    two_dets(dets);
    recs[1].want = 10;
    struct stream_layer *sl = stream_layer_new(dets, 2, 4, 1024, 4);
    CHECK(sl != NULL);
    if (!sl)
        return;
    struct flow f;
    memset(&f, 0, sizeof(f));
    f.ext = ext;
    const uint64_t ms = 1000000;
    seg(sl, dets, &f, 1 * ms, 1, DIR_C2S, 0, "\x16\x03\x01\x00", 4, 4, 0);
    CHECK(stream_proto(&f) == STREAM_PROTO_TLS);
    seg(sl, dets, &f, 2 * ms, 2, DIR_C2S, 10, "KLMN", 4, 4, 0);  /* ahead of a hole */
    seg(sl, dets, &f, 3 * ms, 3, DIR_C2S, 4, "efghij", 6, 6, 0); /* fills it */
    const struct rec *u = &recs[0], *b = &recs[1];
    /* unbuffered: each byte once; the held bytes come from the window, not as a gap */
    CHECK(u->nev == 4);
    CHECK(ev_is(&u->ev[1], 'd', DIR_C2S, 0, 4));
    CHECK(ev_is(&u->ev[2], 'd', DIR_C2S, 4, 6));
    CHECK(ev_is(&u->ev[3], 'd', DIR_C2S, 10, 4) && strcmp(u->ev[3].text, "KLMN") == 0);
    /* buffered: 4 bytes (kept), then all 14 from offset 0 at the packet that filled the hole */
    CHECK(b->nev == 3);
    CHECK(ev_is(&b->ev[1], 'd', DIR_C2S, 0, 4));
    CHECK(ev_is(&b->ev[2], 'd', DIR_C2S, 0, 14) && b->ev[2].frame == 3);
    CHECK(memcmp(b->ev[2].text,
                 "\x16\x03\x01\x00"
                 "efghijKLMN",
                 14) == 0);
    stream_layer_flow_end(sl, &f);
    stream_layer_free(sl);
}

int main(void)
{
    TEST_RUN(test_in_order);
    TEST_RUN(test_out_of_order);
    TEST_RUN(test_overlap_first_copy_wins);
    TEST_RUN(test_gap);
    TEST_RUN(test_cap);
    TEST_RUN(test_pool);
    TEST_RUN(test_budget);
    TEST_RUN(test_layer_unbuffered);
    TEST_RUN(test_layer_buffered);
    return TEST_REPORT();
}
