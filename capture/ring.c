/*
 * ring.c - single-producer/single-consumer byte ring of variable-length messages, and the
 * event a thread sleeps on when its ring is empty (consumer) or full (producer).
 *
 * Positions (tail, head) count bytes since the start and never wrap (64 bits); a position's
 * place in the buffer is pos & mask. Each message is an 8-byte header (payload length, pad
 * flag) then the payload rounded up to 8 bytes; a message never straddles the end of the
 * buffer: a pad message fills the rest and the message starts again at offset 0.
 */
#define _POSIX_C_SOURCE 200809L /* pthread_condattr_setclock under -std=c11 */
#include "capture/ring.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING_MIN 4096u
#define RING_HDR 8u

struct ring_event {
    pthread_mutex_t mu;  /* guards the sleep */
    pthread_cond_t cv;   /* the sleep */
    _Atomic int waiting; /* the owner announced it is about to sleep */
};

/* One message header in the buffer. */
struct ring_hdr {
    uint32_t len; /* payload bytes */
    uint32_t pad; /* 1: a filler up to the end of the buffer, skip it */
};

struct ring {
    _Alignas(64) _Atomic size_t tail; /* published end (producer writes, consumer reads) */
    size_t ptail;                     /* producer: end of the pushed messages */
    size_t rpos;                      /* producer: where the reserved message starts */
    size_t rtotal;                    /* producer: its size with header (0: none reserved) */
    size_t head_seen;                 /* producer: the consumer's head when last read */
    _Alignas(64) _Atomic size_t head; /* freed start (consumer writes, producer reads) */
    size_t chead;                     /* consumer: start of the next message to peek */
    size_t tail_seen;                 /* consumer: the producer's tail when last read */
    size_t cur;                       /* consumer: size of the message peeked (0: none) */
    uint8_t *buf;                     /* cap bytes */
    size_t cap;                       /* a power of two */
    struct ring_event *data_ev;       /* the consumer sleeps here */
    struct ring_event *space_ev;      /* the producer sleeps here */
};

struct ring_event *ring_event_new(void)
{
    struct ring_event *ev = calloc(1, sizeof(*ev));
    if (!ev)
        return NULL;
    pthread_condattr_t ca;
    if (pthread_mutex_init(&ev->mu, NULL) != 0)
        goto free_ev;
    if (pthread_condattr_init(&ca) != 0)
        goto free_mutex;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int bad = pthread_cond_init(&ev->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (bad)
        goto free_mutex;
    atomic_init(&ev->waiting, 0);
    return ev;

free_mutex:
    pthread_mutex_destroy(&ev->mu);
free_ev:
    free(ev);
    return NULL;
}

void ring_event_free(struct ring_event *ev)
{
    if (!ev)
        return;
    pthread_cond_destroy(&ev->cv);
    pthread_mutex_destroy(&ev->mu);
    free(ev);
}

void ring_event_wait(struct ring_event *ev, bool (*ready)(void *ctx), void *ctx,
                     uint64_t timeout_ns)
{
    atomic_store(&ev->waiting, 1);
    if (ready && ready(ctx)) {
        atomic_store(&ev->waiting, 0);
        return;
    }
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    uint64_t ns = (uint64_t)dl.tv_nsec + timeout_ns;
    dl.tv_sec += (time_t)(ns / 1000000000u);
    dl.tv_nsec = (long)(ns % 1000000000u);
    pthread_mutex_lock(&ev->mu);
    while (atomic_load(&ev->waiting))
        if (pthread_cond_timedwait(&ev->cv, &ev->mu, &dl) == ETIMEDOUT)
            break;
    atomic_store(&ev->waiting, 0);
    pthread_mutex_unlock(&ev->mu);
}

void ring_event_wake(struct ring_event *ev)
{
    if (!ev || !atomic_load(&ev->waiting))
        return;
    pthread_mutex_lock(&ev->mu);
    atomic_store(&ev->waiting, 0);
    pthread_cond_broadcast(&ev->cv);
    pthread_mutex_unlock(&ev->mu);
}

struct ring *ring_new(size_t cap, struct ring_event *data_ev, struct ring_event *space_ev)
{
    size_t c = RING_MIN;
    while (c < cap && c < ((size_t)1 << 40))
        c <<= 1;
    struct ring *r = aligned_alloc(64, sizeof(*r));
    if (!r)
        return NULL;
    memset(r, 0, sizeof(*r));
    r->buf = malloc(c);
    if (!r->buf) {
        free(r);
        return NULL;
    }
    r->cap = c;
    atomic_init(&r->tail, 0);
    atomic_init(&r->head, 0);
    r->data_ev = data_ev;
    r->space_ev = space_ev;
    return r;
}

void ring_free(struct ring *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r);
}

size_t ring_max_msg(const struct ring *r)
{
    return r->cap / 4 - RING_HDR;
}

void *ring_try_reserve(struct ring *r, size_t len)
{
    if (len > ring_max_msg(r))
        return NULL;
    size_t total = RING_HDR + ((len + 7) & ~(size_t)7);
    size_t off = r->ptail & (r->cap - 1);
    size_t to_end = r->cap - off;
    size_t need = total + (to_end < total ? to_end : 0);
    if (r->cap - (r->ptail - r->head_seen) < need) {
        r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
        if (r->cap - (r->ptail - r->head_seen) < need)
            return NULL;
    }
    size_t pos = r->ptail;
    if (to_end < total) {
        struct ring_hdr pad = {(uint32_t)(to_end - RING_HDR), 1};
        memcpy(r->buf + off, &pad, sizeof(pad));
        pos += to_end;
        off = 0;
    }
    struct ring_hdr h = {(uint32_t)len, 0};
    memcpy(r->buf + off, &h, sizeof(h));
    r->rpos = pos;
    r->rtotal = total;
    return r->buf + off + RING_HDR;
}

void ring_push(struct ring *r)
{
    if (!r->rtotal)
        return;
    r->ptail = r->rpos + r->rtotal;
    r->rtotal = 0;
}

void ring_publish(struct ring *r)
{
    if (atomic_load_explicit(&r->tail, memory_order_relaxed) == r->ptail)
        return;
    atomic_store(&r->tail, r->ptail); /* seq_cst: ordered before the look at waiting */
    ring_event_wake(r->data_ev);
}

/* The wait condition of ring_reserve. */
struct ring_room {
    struct ring *r; /* the ring */
    size_t need;    /* bytes wanted (with a possible pad) */
};

static bool ring_has_room(void *ctx)
{
    struct ring_room *w = ctx;
    size_t head = atomic_load(&w->r->head);
    return w->r->cap - (w->r->ptail - head) >= w->need;
}

void *ring_reserve(struct ring *r, size_t len)
{
    for (;;) {
        void *p = ring_try_reserve(r, len);
        if (p || len > ring_max_msg(r))
            return p;
        ring_publish(r);
        struct ring_room w = {r, 2 * (RING_HDR + ((len + 7) & ~(size_t)7))};
        ring_event_wait(r->space_ev, ring_has_room, &w, 20000000u);
    }
}

void ring_wait_room(struct ring *r, size_t len)
{
    struct ring_room w = {r, 2 * (RING_HDR + ((len + 7) & ~(size_t)7))};
    while (!ring_has_room(&w))
        ring_event_wait(r->space_ev, ring_has_room, &w, 20000000u);
}

void *ring_peek(struct ring *r, size_t *len)
{
    for (;;) {
        if (r->chead == r->tail_seen) {
            r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
            if (r->chead == r->tail_seen)
                return NULL;
        }
        size_t off = r->chead & (r->cap - 1);
        struct ring_hdr h;
        memcpy(&h, r->buf + off, sizeof(h));
        size_t total = RING_HDR + (((size_t)h.len + 7) & ~(size_t)7);
        if (h.pad) {
            r->chead += total;
            continue;
        }
        r->cur = total;
        *len = h.len;
        return r->buf + off + RING_HDR;
    }
}

void ring_take(struct ring *r)
{
    r->chead += r->cur;
    r->cur = 0;
}

void ring_release(struct ring *r)
{
    if (atomic_load_explicit(&r->head, memory_order_relaxed) == r->chead)
        return;
    atomic_store(&r->head, r->chead);
    ring_event_wake(r->space_ev);
}

bool ring_readable(struct ring *r)
{
    return r->chead != atomic_load(&r->tail);
}
