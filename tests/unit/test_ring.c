/* test_ring.c - the SPSC byte ring: order, sizes, wrap-around, a full ring, two threads. */
#include "capture/ring.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/testhelp.h"

/* Length of message i: 0..600 bytes, varied so that messages wrap at every offset. */
static size_t msg_len(uint64_t i)
{
    return (size_t)((i * 7919u) % 601u);
}

/* Fill message i: its number, then bytes derived from it. */
static void msg_fill(uint8_t *m, uint64_t i, size_t len)
{
    for (size_t k = 0; k < len; k++)
        m[k] = (uint8_t)(i * 31u + k);
    if (len >= sizeof(i))
        memcpy(m, &i, sizeof(i));
}

static bool msg_ok(const uint8_t *m, uint64_t i, size_t len)
{
    if (len != msg_len(i))
        return false;
    for (size_t k = sizeof(i); k < len; k++)
        if (m[k] != (uint8_t)(i * 31u + k))
            return false;
    uint64_t got;
    if (len >= sizeof(i)) {
        memcpy(&got, m, sizeof(got));
        return got == i;
    }
    return true;
}

/* Take messages *got.. up to stop (each must be there, in order and whole), then release. */
static void take_upto(struct ring *r, uint64_t *got, uint64_t stop)
{
    size_t len;
    while (*got < stop) {
        uint8_t *m = ring_peek(r, &len);
        CHECK(m != NULL);
        if (!m)
            break;
        CHECK(msg_ok(m, *got, len));
        ring_take(r);
        (*got)++;
    }
    ring_release(r);
}

/* One thread: messages come out in order and whole, the ring says when it is full. */
static void test_single_thread(void)
{
    struct ring_event *ev = ring_event_new();
    struct ring *r = ring_new(4096, ev, ev);
    CHECK(r != NULL);
    CHECK_EQ_U64(ring_max_msg(r), 1024 - 8);
    CHECK(ring_try_reserve(r, 2000) == NULL); /* over a quarter */
    size_t len;
    CHECK(ring_peek(r, &len) == NULL);
    uint64_t sent = 0, got = 0;
    for (int round = 0; round < 200; round++) {
        /* fill until full: at most 4096 bytes of headers and payloads */
        size_t bytes = 0;
        for (;;) {
            size_t l = msg_len(sent);
            uint8_t *m = ring_try_reserve(r, l);
            if (!m)
                break;
            msg_fill(m, sent, l);
            ring_push(r);
            bytes += 8 + ((l + 7) & ~(size_t)7);
            sent++;
        }
        CHECK(bytes <= 4096);
        /* nothing is visible before the publish */
        if (round == 0)
            CHECK(ring_peek(r, &len) == NULL);
        ring_publish(r);
        /* take about half, then release */
        uint64_t stop = got + (sent - got + 1) / 2;
        take_upto(r, &got, stop);
    }
    take_upto(r, &got, sent);
    CHECK(ring_peek(r, &len) == NULL);
    CHECK(sent > 1000);
    ring_free(r);
    ring_event_free(ev);
}

#define N_MSGS 300000u

/* The two threads' shared test state. */
struct pc {
    struct ring *r;          /* the ring */
    struct ring_event *p_ev; /* producer sleeps here */
    struct ring_event *c_ev; /* consumer sleeps here */
    uint64_t bad;            /* messages out of order or damaged */
    uint64_t got;            /* messages received */
};

static void *producer(void *arg)
{
    struct pc *t = arg;
    for (uint64_t i = 0; i < N_MSGS; i++) {
        size_t l = msg_len(i);
        uint8_t *m = ring_reserve(t->r, l);
        if (!m)
            return NULL;
        msg_fill(m, i, l);
        ring_push(t->r);
        if (i % 37 == 0)
            ring_publish(t->r); /* batches of varied size */
    }
    ring_publish(t->r);
    return NULL;
}

static bool readable(void *ctx)
{
    return ring_readable(ctx);
}

static void *consumer(void *arg)
{
    struct pc *t = arg;
    while (t->got < N_MSGS) {
        size_t len;
        uint8_t *m = ring_peek(t->r, &len);
        if (!m) {
            ring_release(t->r);
            ring_event_wait(t->c_ev, readable, t->r, 20000000u);
            continue;
        }
        if (!msg_ok(m, t->got, len))
            t->bad++;
        ring_take(t->r);
        t->got++;
        if (t->got % 53 == 0)
            ring_release(t->r);
    }
    ring_release(t->r);
    return NULL;
}

/* Producer and consumer threads over a small ring: every message arrives once, in order. */
static void test_two_threads(void)
{
    struct pc t = {0};
    t.p_ev = ring_event_new();
    t.c_ev = ring_event_new();
    t.r = ring_new(8192, t.c_ev, t.p_ev);
    CHECK(t.r && t.p_ev && t.c_ev);
    pthread_t pt, ct;
    CHECK(pthread_create(&ct, NULL, consumer, &t) == 0);
    CHECK(pthread_create(&pt, NULL, producer, &t) == 0);
    pthread_join(pt, NULL);
    pthread_join(ct, NULL);
    CHECK_EQ_U64(t.got, N_MSGS);
    CHECK_EQ_U64(t.bad, 0);
    size_t len;
    CHECK(ring_peek(t.r, &len) == NULL);
    ring_free(t.r);
    ring_event_free(t.p_ev);
    ring_event_free(t.c_ev);
}

int main(void)
{
    TEST_RUN(test_single_thread);
    TEST_RUN(test_two_threads);
    return TEST_REPORT();
}
