/* test_stream.c - unit tests for analyzers/stream.c: bounded in-order reassembly. */
#include <string.h>

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

int main(void)
{
    TEST_RUN(test_in_order);
    TEST_RUN(test_out_of_order);
    TEST_RUN(test_overlap_first_copy_wins);
    TEST_RUN(test_gap);
    TEST_RUN(test_cap);
    TEST_RUN(test_pool);
    TEST_RUN(test_budget);
    return TEST_REPORT();
}
