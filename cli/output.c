/*
 * output.c - the output queue and its thread. The producer (analysis thread) copies each
 * record into the next free slot of a ring allocated once; the output thread takes up to
 * OUTPUT_CHUNK records per lock and hands them, in order, to every sink in table order
 * (a sink marked on_analysis_thread gets each record at once from the producer instead).
 * Offline the producer waits for room, and fills the slots it knows free without the lock,
 * queueing them OUTPUT_CHUNK at a time (one lock per chunk, not per record); live it queues
 * each record at once and counts a drop instead of stalling capture.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* pthread_condattr_setclock under -std=c11 */
#endif
#include "cli/output.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/clock.h"

#define OUTPUT_CHUNK 64              /* records taken from the queue per lock */
#define OUTPUT_TICK_NS 1000000000ull /* sinks' tick at most this often */
#define OUTPUT_WAIT_NS 100000000ull  /* longest sleep of the output thread */

struct output {
    struct out_sink sinks[OUTPUT_MAX_SINKS]; /* fed by the output thread, in table order */
    size_t nsinks;                           /* sinks[] used */
    struct out_sink now[OUTPUT_MAX_SINKS];   /* on_analysis_thread sinks, fed by output_put */
    size_t nnow;                             /* now[] used */
    bool block;                              /* producer waits when full (else drops) */
    bool prompt;                             /* a view watches: queue each record at once */
    pthread_t thread;                        /* the output thread */
    bool started;                            /* thread was created */
    uint64_t last_tick_ns;                   /* monotonic time of the last tick (thread only) */
    /* The producer's own (offline): records written past head + count, not yet queued. */
    size_t wpos;    /* slot the next record goes to: (head + count + pending) % nslots */
    size_t pending; /* records written there and not yet queued */
    size_t room;    /* slots known free at the last lock, minus pending */
    /* Shared with the thread, guarded by mu. */
    pthread_mutex_t mu;      /* guards everything below */
    pthread_cond_t cv_work;  /* thread: records queued, or stop */
    pthread_cond_t cv_space; /* producer: slots freed */
    pthread_cond_t cv_idle;  /* output_sync: everything delivered */
    struct out_rec *slots;   /* nslots records, allocated once */
    size_t nslots;           /* capacity */
    size_t head;             /* oldest queued record */
    size_t count;            /* records queued (being delivered included) */
    bool waiting;            /* the thread sleeps on cv_work */
    bool full_waiting;       /* the producer sleeps on cv_space */
    bool stop;               /* output_free: deliver what is left and end */
    uint64_t dropped;        /* records dropped because the queue was full */
};

/* Hand one record to every sink. */
static void deliver(struct output *o, const struct out_rec *r)
{
    for (size_t i = 0; i < o->nsinks; i++)
        o->sinks[i].ops->put(o->sinks[i].ctx, r);
}

/* Call the sinks' tick when OUTPUT_TICK_NS passed since the last one. */
static void maybe_tick(struct output *o)
{
    uint64_t now = clock_mono_ns();
    if (now - o->last_tick_ns < OUTPUT_TICK_NS)
        return;
    o->last_tick_ns = now;
    for (size_t i = 0; i < o->nsinks; i++)
        if (o->sinks[i].ops->tick)
            o->sinks[i].ops->tick(o->sinks[i].ctx, now);
}

/* An absolute CLOCK_MONOTONIC deadline ns from now. */
static struct timespec deadline_in(uint64_t ns)
{
    uint64_t t = clock_mono_ns() + ns;
    struct timespec ts = {.tv_sec = (time_t)(t / 1000000000u), .tv_nsec = (long)(t % 1000000000u)};
    return ts;
}

static void *output_main(void *arg)
{
    struct output *o = arg;
    pthread_mutex_lock(&o->mu);
    for (;;) {
        while (o->count == 0 && !o->stop) {
            /* records below a chunk wait at most this long (the tick keeps its own pace) */
            struct timespec dl = deadline_in(OUTPUT_WAIT_NS);
            o->waiting = true;
            pthread_cond_timedwait(&o->cv_work, &o->mu, &dl);
            o->waiting = false;
            if (o->count == 0) {
                pthread_mutex_unlock(&o->mu);
                maybe_tick(o);
                pthread_mutex_lock(&o->mu);
            }
        }
        if (o->count == 0) /* stop, and nothing left */
            break;
        size_t head = o->head, n = o->count < OUTPUT_CHUNK ? o->count : OUTPUT_CHUNK;
        pthread_mutex_unlock(&o->mu);
        /* the producer writes only past head + count, so these slots are ours until freed */
        for (size_t i = 0; i < n; i++)
            deliver(o, &o->slots[(head + i) % o->nslots]);
        maybe_tick(o);
        pthread_mutex_lock(&o->mu);
        o->head = (head + n) % o->nslots;
        o->count -= n;
        if (o->full_waiting)
            pthread_cond_broadcast(&o->cv_space);
        if (o->count == 0)
            pthread_cond_broadcast(&o->cv_idle);
    }
    pthread_cond_broadcast(&o->cv_idle);
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

/*
 * Producer, offline: queue the pending records; with wait, until a slot is free. The thread is
 * woken once half the queue is waiting, or with now (the summary, a sync): a wake-up per chunk
 * cost more (futex and scheduler) than delivering the chunk. Under mu.
 */
static void queue_pending(struct output *o, bool wait, bool now)
{
    o->count += o->pending;
    o->pending = 0;
    while (wait && o->count == o->nslots) {
        if (o->waiting) /* full: the thread must take what is queued */
            pthread_cond_signal(&o->cv_work);
        o->full_waiting = true;
        pthread_cond_wait(&o->cv_space, &o->mu);
        o->full_waiting = false;
    }
    o->room = o->nslots - o->count;
    if (o->waiting && o->count && (now || o->count >= o->nslots / 2))
        pthread_cond_signal(&o->cv_work);
}

/*
 * output_sink_ops.put, offline: copy r into a slot known free without the lock (the thread
 * reads only the queued ones), and queue a chunk at once: a lock and a wake-up per record cost
 * more than most records' delivery.
 */
static void output_put_offline(struct output *o, const struct out_rec *r)
{
    if (o->room == 0) {
        pthread_mutex_lock(&o->mu);
        queue_pending(o, true, false);
        pthread_mutex_unlock(&o->mu);
    }
    memcpy(&o->slots[o->wpos], r, out_rec_size(r->type));
    o->wpos = (o->wpos + 1) % o->nslots;
    o->pending++;
    o->room--;
    if (o->pending >= OUTPUT_CHUNK || r->type == OUT_SUMMARY) {
        pthread_mutex_lock(&o->mu);
        queue_pending(o, false, r->type == OUT_SUMMARY);
        pthread_mutex_unlock(&o->mu);
    }
}

/* output_sink_ops.put: copy r into the queue (waiting for room, or dropping it, when full). */
static void output_put(void *ctx, const struct out_rec *r)
{
    struct output *o = ctx;
    for (size_t i = 0; i < o->nnow; i++)
        o->now[i].ops->put(o->now[i].ctx, r);
    if (o->nsinks == 0)
        return;
    if (o->block && !o->prompt) {
        output_put_offline(o, r);
        return;
    }
    pthread_mutex_lock(&o->mu);
    while (o->count == o->nslots) {
        if (!o->block && r->type != OUT_SUMMARY) {
            o->dropped++;
            pthread_mutex_unlock(&o->mu);
            return;
        }
        if (o->waiting) /* full: the thread must take what is queued */
            pthread_cond_signal(&o->cv_work);
        o->full_waiting = true;
        pthread_cond_wait(&o->cv_space, &o->mu);
        o->full_waiting = false;
    }
    struct out_rec *slot = &o->slots[(o->head + o->count) % o->nslots];
    memcpy(slot, r, out_rec_size(r->type));
    o->count++;
    /* A watched file replay wakes the thread once a chunk is queued (and its timed wait takes
       the rest); live records go at once (the view stays current). */
    if (o->waiting &&
        (!o->block || o->count >= OUTPUT_CHUNK || o->count == o->nslots || r->type == OUT_SUMMARY))
        pthread_cond_signal(&o->cv_work);
    pthread_mutex_unlock(&o->mu);
}

const struct sink_ops output_sink_ops = {
    .name = "output",
    .put = output_put,
};

struct output *output_new(const struct out_sink *sinks, size_t n, size_t slots, bool block,
                          char *err, size_t errlen)
{
    if (n > OUTPUT_MAX_SINKS) {
        snprintf(err, errlen, "at most %d outputs at once", OUTPUT_MAX_SINKS);
        return NULL;
    }
    char why[128] = "out of memory for the output queue";
    struct output *o = calloc(1, sizeof(*o));
    if (!o)
        goto fail;
    o->nslots = slots ? slots : OUTPUT_DEFAULT_SLOTS;
    o->slots = calloc(o->nslots, sizeof(*o->slots));
    if (!o->slots)
        goto free_output;
    for (size_t i = 0; i < n; i++) {
        if (sinks[i].ops->on_analysis_thread)
            o->now[o->nnow++] = sinks[i];
        else
            o->sinks[o->nsinks++] = sinks[i];
    }
    o->block = block;
    o->room = o->nslots;
    o->last_tick_ns = clock_mono_ns();
    pthread_condattr_t ca;
    if (pthread_mutex_init(&o->mu, NULL) != 0)
        goto free_slots;
    if (pthread_condattr_init(&ca) != 0)
        goto free_mutex;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int bad = pthread_cond_init(&o->cv_work, &ca) || pthread_cond_init(&o->cv_space, &ca) ||
              pthread_cond_init(&o->cv_idle, &ca);
    pthread_condattr_destroy(&ca);
    if (bad)
        goto free_mutex; /* a failed pthread_cond_init on Linux allocates nothing */
    int rc = pthread_create(&o->thread, NULL, output_main, o);
    if (rc != 0) {
        snprintf(why, sizeof(why), "cannot start the output thread: %s", strerror(rc));
        goto free_conds;
    }
    o->started = true;
    return o;

free_conds:
    pthread_cond_destroy(&o->cv_work);
    pthread_cond_destroy(&o->cv_space);
    pthread_cond_destroy(&o->cv_idle);
free_mutex:
    pthread_mutex_destroy(&o->mu);
free_slots:
    free(o->slots);
free_output:
    free(o);
fail:
    snprintf(err, errlen, "%s", why);
    return NULL;
}

void output_set_prompt(struct output *o, bool prompt)
{
    pthread_mutex_lock(&o->mu);
    queue_pending(o, false, true);
    o->prompt = prompt;
    /* the producer's own position, which prompt mode does not keep, from the shared one */
    o->wpos = (o->head + o->count) % o->nslots;
    o->room = o->nslots - o->count;
    pthread_mutex_unlock(&o->mu);
}

void output_sync(struct output *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->mu);
    queue_pending(o, false, true);
    if (o->count > 0 && o->waiting)
        pthread_cond_signal(&o->cv_work);
    while (o->count > 0)
        pthread_cond_wait(&o->cv_idle, &o->mu);
    pthread_mutex_unlock(&o->mu);
}

uint64_t output_dropped(struct output *o)
{
    pthread_mutex_lock(&o->mu);
    uint64_t d = o->dropped;
    pthread_mutex_unlock(&o->mu);
    return d;
}

void output_free(struct output *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->mu);
    queue_pending(o, false, true);
    o->stop = true;
    pthread_cond_signal(&o->cv_work);
    pthread_mutex_unlock(&o->mu);
    if (o->started)
        pthread_join(o->thread, NULL);
    pthread_cond_destroy(&o->cv_work);
    pthread_cond_destroy(&o->cv_space);
    pthread_cond_destroy(&o->cv_idle);
    pthread_mutex_destroy(&o->mu);
    free(o->slots);
    free(o);
}
