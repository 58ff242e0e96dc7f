/*
 * fanout.c - N live handles in one PACKET_FANOUT group, a capture thread each, merged by time.
 *
 * Each handle is an ordinary live source (source.c: snaplen, promiscuous mode, buffer, BPF
 * filter) whose socket then joins the group (setsockopt PACKET_FANOUT on pcap_fileno after
 * activation; mode PACKET_FANOUT_HASH with PACKET_FANOUT_FLAG_DEFRAG, so that both directions
 * of a flow, fragments included, go to one handle). Packets a handle received before every
 * handle joined are dropped once (they were also seen by the others). Each capture thread
 * copies its frames into its ring; cap_next merges the rings by capture time.
 *
 * The kernel stamps each handle's packets in order, so each ring is sorted; the merge passes
 * on the oldest head when every ring has one, or when the oldest head has waited
 * FAN_LATENESS_NS of wall time (a quiet handle would otherwise hold everything back). A frame
 * that reaches a handle's ring later than that after an older frame of another handle was
 * passed on comes out of order: by at most that much, and never within one flow (one flow,
 * one handle). The analysis takes such small steps back in time as they come (engine.c does not
 * move its clock back for them).
 */
#define _GNU_SOURCE /* struct packet_mreq, PACKET_FANOUT in <linux/if_packet.h> */
#include "capture/fanout.h"

#include <linux/if_packet.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture/clock.h"
#include "capture/err.h"
#include "capture/ring.h"

#define FAN_MAX 8                 /* handles at most */
#define FAN_RING_BYTES (8u << 20) /* each capture thread's ring */
#define FAN_PUBLISH_EVERY 32      /* frames between two publishes while busy */

/* A frame in a ring: this header, then caplen bytes. */
struct fan_msg {
    uint64_t ts_ns;   /* capture time */
    uint32_t caplen;  /* bytes that follow */
    uint32_t wirelen; /* on the wire */
    int32_t linktype; /* DLT */
    uint32_t pad;     /* alignment */
};

/* One handle and its capture thread. */
struct fan_handle {
    struct cap_fanout *fo;      /* the whole */
    struct cap_source *src;     /* the live handle */
    struct ring *ring;          /* frames to the merge */
    struct ring_event *ev;      /* the thread sleeps here (ring full) */
    pthread_t thread;           /* the capture thread */
    bool started;               /* thread created */
    _Atomic int failed;         /* the handle failed (message in err) */
    _Atomic int done;           /* the capture thread ended */
    char err[256];              /* why */
    const struct fan_msg *head; /* merge: next frame of this ring, NULL if none */
    uint64_t head_wall;         /* merge: wall time the head was first seen */
};

struct cap_fanout {
    unsigned n;                   /* handles */
    struct fan_handle h[FAN_MAX]; /* them */
    struct ring_event *merge_ev;  /* the merge sleeps here (rings empty) */
    _Atomic int stop;             /* fan_break */
    int timeout_ms;               /* cap_next's wait before ERR_AGAIN */
    int taken;                    /* ring whose head was delivered last (released next call), -1 */
    uint64_t number;              /* frames delivered */
    char err[320];                /* last error */
};

static void *fan_capture_main(void *arg)
{
    struct fan_handle *h = arg;
    unsigned pending = 0;
    while (!atomic_load(&h->fo->stop)) {
        struct cap_frame f;
        int rc = cap_next(h->src, &f);
        if (rc == 0) {
            struct fan_msg *m;
            while (!(m = ring_try_reserve(h->ring, sizeof(*m) + f.caplen)) &&
                   !atomic_load(&h->fo->stop) && sizeof(*m) + f.caplen <= ring_max_msg(h->ring)) {
                ring_publish(h->ring); /* full: the kernel buffer holds (or drops) the rest */
                ring_event_wait(h->ev, NULL, NULL, 10000000u);
            }
            if (!m)
                continue; /* stopping (or a frame over 2 MiB: cannot happen) */
            m->ts_ns = f.ts_ns;
            m->caplen = f.caplen;
            m->wirelen = f.wirelen;
            m->linktype = f.linktype;
            memcpy(m + 1, f.data, f.caplen);
            ring_push(h->ring);
            if (++pending >= FAN_PUBLISH_EVERY) {
                ring_publish(h->ring);
                pending = 0;
            }
            continue;
        }
        ring_publish(h->ring);
        pending = 0;
        if (rc == ERR_AGAIN)
            continue;
        if (rc != ERR_EOF) {
            snprintf(h->err, sizeof(h->err), "%s", cap_error(h->src));
            atomic_store(&h->failed, 1);
        }
        break;
    }
    ring_publish(h->ring);
    atomic_store(&h->done, 1);
    ring_event_wake(h->fo->merge_ev);
    return NULL;
}

/* Join handle h's socket to the group. */
static int fan_join(struct fan_handle *h, int group, char *errbuf, size_t errlen)
{
    int fd = cap_fileno(h->src);
    /* unsigned: FLAG_DEFRAG (0x8000) << 16 does not fit an int */
    uint32_t arg = ((uint32_t)group & 0xffffu) |
                   ((uint32_t)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16);
    if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) != 0) {
        snprintf(errbuf, errlen,
                 "cannot join the capture handles into one PACKET_FANOUT group "
                 "(--workers on a live interface needs Linux packet sockets)");
        return ERR_IO;
    }
    return 0;
}

/* Drop what a handle received before every handle joined (the others have it too). */
static void fan_drain(struct fan_handle *h)
{
    cap_drain(h->src);
}

struct cap_fanout *fan_open(const struct cap_live_opts *o, const char *filter, char *errbuf,
                            size_t errlen)
{
    if (o->fanout < 2 || o->fanout > FAN_MAX) {
        snprintf(errbuf, errlen, "capture handles: %d (2..%d)", o->fanout, FAN_MAX);
        return NULL;
    }
    struct cap_fanout *fo = calloc(1, sizeof(*fo));
    if (!fo) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    fo->n = (unsigned)o->fanout;
    fo->taken = -1;
    fo->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 100;
    fo->merge_ev = ring_event_new();
    if (!fo->merge_ev)
        goto nomem;
    struct cap_live_opts one = *o;
    one.fanout = 0;
    int group = (int)(getpid() & 0xffff);
    for (unsigned i = 0; i < fo->n; i++) {
        struct fan_handle *h = &fo->h[i];
        h->fo = fo;
        h->src = cap_open_live(&one, filter, errbuf, errlen);
        if (!h->src)
            goto fail;
        if (fan_join(h, group, errbuf, errlen) != 0)
            goto fail;
        h->ev = ring_event_new();
        h->ring = h->ev ? ring_new(FAN_RING_BYTES, fo->merge_ev, h->ev) : NULL;
        if (!h->ring)
            goto nomem;
    }
    for (unsigned i = 0; i < fo->n; i++)
        fan_drain(&fo->h[i]);
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    for (unsigned i = 0; i < fo->n; i++) {
        struct fan_handle *h = &fo->h[i];
        h->started = pthread_create(&h->thread, NULL, fan_capture_main, h) == 0;
        if (!h->started) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            snprintf(errbuf, errlen, "cannot start a capture thread");
            goto fail;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return fo;

nomem:
    snprintf(errbuf, errlen, "out of memory for the capture rings");
fail:
    fan_close(fo);
    return NULL;
}

/* Refresh the heads; true when any ring has one. */
static bool fan_heads(struct cap_fanout *fo, uint64_t now)
{
    bool any = false;
    for (unsigned i = 0; i < fo->n; i++) {
        struct fan_handle *h = &fo->h[i];
        if (!h->head) {
            size_t len;
            h->head = ring_peek(h->ring, &len);
            h->head_wall = now;
        }
        any = any || h->head;
    }
    return any;
}

static bool fan_any_ready(void *ctx)
{
    struct cap_fanout *fo = ctx;
    if (atomic_load(&fo->stop))
        return true;
    for (unsigned i = 0; i < fo->n; i++)
        if (fo->h[i].head || ring_readable(fo->h[i].ring))
            return true;
    return false;
}

int fan_next(struct cap_fanout *fo, struct cap_frame *f)
{
    if (fo->taken >= 0) { /* the frame delivered last is the caller's no more */
        ring_take(fo->h[fo->taken].ring);
        ring_release(fo->h[fo->taken].ring);
        fo->h[fo->taken].head = NULL;
        fo->taken = -1;
    }
    uint64_t start = clock_mono_ns();
    for (;;) {
        if (atomic_load(&fo->stop))
            return ERR_EOF;
        uint64_t now = clock_mono_ns();
        fan_heads(fo, now);
        int best = -1;
        bool all = true, alive = false;
        for (unsigned i = 0; i < fo->n; i++) {
            struct fan_handle *h = &fo->h[i];
            if (atomic_load(&h->failed)) {
                snprintf(fo->err, sizeof(fo->err), "%s", h->err);
                return ERR_IO;
            }
            alive = alive || h->head || !atomic_load(&h->done) || ring_readable(h->ring);
            if (!h->head) {
                all = false;
                continue;
            }
            if (best < 0 || h->head->ts_ns < fo->h[best].head->ts_ns)
                best = (int)i;
        }
        if (best >= 0 && (all || now - fo->h[best].head_wall >= FAN_LATENESS_NS)) {
            const struct fan_msg *m = fo->h[best].head;
            f->ts_ns = m->ts_ns;
            f->caplen = m->caplen;
            f->wirelen = m->wirelen;
            f->linktype = m->linktype;
            f->data = (const uint8_t *)(m + 1);
            f->number = ++fo->number;
            fo->taken = best;
            return 0;
        }
        if (!alive)
            return ERR_EOF;
        uint64_t waited = now - start;
        uint64_t limit = (uint64_t)fo->timeout_ms * 1000000u;
        if (best < 0 && waited >= limit)
            return ERR_AGAIN;
        uint64_t sleep = best >= 0 ? FAN_LATENESS_NS / 4 : limit - waited;
        ring_event_wait(fo->merge_ev, best >= 0 ? NULL : fan_any_ready, fo, sleep);
    }
}

void fan_stats(struct cap_fanout *fo, struct cap_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->live = true;
    st->frames = fo->number;
    for (unsigned i = 0; i < fo->n; i++) {
        struct cap_stats one;
        if (!fo->h[i].src)
            continue;
        cap_stats(fo->h[i].src, &one);
        st->kernel_recv += one.kernel_recv;
        st->kernel_drop += one.kernel_drop;
        st->if_drop += one.if_drop;
    }
}

void fan_break(struct cap_fanout *fo)
{
    if (!fo)
        return;
    atomic_store(&fo->stop, 1);
    for (unsigned i = 0; i < fo->n; i++)
        if (fo->h[i].src)
            cap_break(fo->h[i].src);
}

const char *fan_error(const struct cap_fanout *fo)
{
    return fo ? fo->err : "";
}

void fan_close(struct cap_fanout *fo)
{
    if (!fo)
        return;
    fan_break(fo);
    for (unsigned i = 0; i < fo->n; i++) {
        struct fan_handle *h = &fo->h[i];
        if (h->started)
            pthread_join(h->thread, NULL); /* it sees stop within its waits */
    }
    for (unsigned i = 0; i < fo->n; i++) {
        struct fan_handle *h = &fo->h[i];
        cap_close(h->src);
        ring_free(h->ring);
        ring_event_free(h->ev);
    }
    ring_event_free(fo->merge_ev);
    free(fo);
}
