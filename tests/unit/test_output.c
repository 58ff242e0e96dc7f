/*
 * test_output.c - the output queue (cli/output.c): records reach every sink in the order they
 * were put, a full queue makes an offline producer wait (nothing lost) and a live one count
 * drops (never the summary), a sink on the analysis thread gets every record at once, the
 * output thread calls the sinks' tick when idle, and
 * output_sync / output_free deliver everything queued first.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* nanosleep under -std=c11 */
#endif
#include <string.h>
#include <time.h>

#include "cli/output.h"
#include "tests/unit/testhelp.h"

#define N_RECS 2000

/* What one test sink saw (only the output thread writes it while the output runs). */
struct seen {
    uint64_t ts[N_RECS + 1]; /* findings' ts_ns in arrival order */
    size_t n;                /* findings seen */
    size_t summaries;        /* summary records seen */
    bool summary_last;       /* nothing came after the summary */
    bool in_order;           /* every finding's ts was greater than the previous one */
    size_t ticks;            /* tick calls */
    long delay_ns;           /* sleep per record (a slow sink) */
};

static void seen_put(void *ctx, const struct out_rec *r)
{
    struct seen *s = ctx;
    if (s->summaries)
        s->summary_last = false;
    if (r->type == OUT_SUMMARY) {
        s->summaries++;
        s->summary_last = true;
    } else if (r->type == OUT_FINDING && s->n < N_RECS) {
        if (s->n && r->u.finding.ts_ns <= s->ts[s->n - 1])
            s->in_order = false;
        s->ts[s->n++] = r->u.finding.ts_ns;
    }
    if (s->delay_ns) {
        struct timespec d = {0, s->delay_ns};
        nanosleep(&d, NULL);
    }
}

static void seen_tick(void *ctx, uint64_t wall_ns)
{
    (void)wall_ns;
    ((struct seen *)ctx)->ticks++;
}

static const struct sink_ops seen_ops = {.name = "seen", .put = seen_put, .tick = seen_tick};
static const struct sink_ops seen_now_ops = {
    .name = "seen-now", .put = seen_put, .on_analysis_thread = true};

static struct seen a, b;

static void seen_reset(struct seen *s, long delay_ns)
{
    memset(s, 0, sizeof(*s));
    s->in_order = true;
    s->delay_ns = delay_ns;
}

/* Put n findings (ts 1..n), then a summary, through the producer side. */
static void put_all(struct output *o, size_t n)
{
    struct finding f;
    struct run_summary sum;
    struct out_rec r;
    memset(&f, 0, sizeof(f));
    memset(&sum, 0, sizeof(sum));
    for (size_t i = 1; i <= n; i++) {
        f.ts_ns = i;
        f.kind = FK_RESET;
        out_rec_set(&r, OUT_FINDING, &f);
        output_sink_ops.put(o, &r);
    }
    sum.frames = n;
    out_rec_set(&r, OUT_SUMMARY, &sum);
    output_sink_ops.put(o, &r);
}

/* Offline: a 4-slot queue and a slow sink lose nothing; both sinks see the same order. */
static void test_block(void)
{
    char err[256];
    seen_reset(&a, 20000); /* 20 us per record: the producer outruns it */
    seen_reset(&b, 0);
    struct out_sink sinks[2] = {{&seen_ops, &a}, {&seen_ops, &b}};
    struct output *o = output_new(sinks, 2, 4, true, err, sizeof(err));
    CHECK(o != NULL);
    if (!o)
        return;
    put_all(o, N_RECS);
    output_sync(o);
    CHECK_EQ_U64(a.n, N_RECS);
    CHECK_EQ_U64(b.n, N_RECS);
    CHECK_EQ_U64(output_dropped(o), 0);
    output_free(o);
    CHECK(a.in_order && b.in_order);
    CHECK_EQ_U64(a.ts[N_RECS - 1], N_RECS);
    CHECK_EQ_U64(a.summaries, 1);
    CHECK(a.summary_last && b.summary_last);
}

/* Live: a full queue counts drops instead of waiting, keeps order, and keeps the summary. */
static void test_drop(void)
{
    char err[256];
    seen_reset(&a, 200000); /* 200 us per record */
    struct out_sink sinks[1] = {{&seen_ops, &a}};
    struct output *o = output_new(sinks, 1, 8, false, err, sizeof(err));
    CHECK(o != NULL);
    if (!o)
        return;
    put_all(o, 500);
    uint64_t dropped = output_dropped(o);
    output_free(o); /* delivers what is queued */
    CHECK(dropped > 0);
    CHECK_EQ_U64(a.n + dropped, 500);
    CHECK(a.in_order);
    CHECK_EQ_U64(a.summaries, 1);
    CHECK(a.summary_last);
}

/* A sink on the analysis thread gets each record at once and every one, even live. */
static void test_analysis_thread(void)
{
    char err[256];
    seen_reset(&a, 200000); /* slow: the queue overflows */
    seen_reset(&b, 0);
    struct out_sink sinks[2] = {{&seen_ops, &a}, {&seen_now_ops, &b}};
    struct output *o = output_new(sinks, 2, 8, false, err, sizeof(err));
    CHECK(o != NULL);
    if (!o)
        return;
    put_all(o, 500);
    CHECK_EQ_U64(b.n, 500); /* before any sync: delivered by the producer itself */
    CHECK_EQ_U64(b.summaries, 1);
    CHECK(b.in_order && b.summary_last);
    uint64_t dropped = output_dropped(o);
    output_free(o);
    CHECK(dropped > 0);
    CHECK_EQ_U64(a.n + dropped, 500);
    CHECK_EQ_U64(b.n, 500);
}

/* An idle queue ticks its sinks about once a second. */
static void test_tick(void)
{
    char err[256];
    seen_reset(&a, 0);
    struct out_sink sinks[1] = {{&seen_ops, &a}};
    struct output *o = output_new(sinks, 1, 0, true, err, sizeof(err));
    CHECK(o != NULL);
    if (!o)
        return;
    struct timespec d = {1, 300000000};
    nanosleep(&d, NULL);
    output_free(o);
    CHECK(a.ticks >= 1);
}

/* No sinks at all (e.g. --no-db -q without --json): records are taken and forgotten. */
static void test_no_sinks(void)
{
    char err[256];
    struct output *o = output_new(NULL, 0, 2, true, err, sizeof(err));
    CHECK(o != NULL);
    if (!o)
        return;
    put_all(o, 100);
    output_sync(o);
    CHECK_EQ_U64(output_dropped(o), 0);
    output_free(o);
}

int main(void)
{
    TEST_RUN(test_block);
    TEST_RUN(test_drop);
    TEST_RUN(test_analysis_thread);
    TEST_RUN(test_tick);
    TEST_RUN(test_no_sinks);
    return TEST_REPORT();
}
