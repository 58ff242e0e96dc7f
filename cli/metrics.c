/*
 * metrics.c - the metrics sink: feeds the snapshot, renders it after each change of the self
 * counters and at the end of the run, and hands the text to the endpoint and the file.
 */
#include "cli/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/log.h"
#include "cli/metrics_file.h"
#include "cli/metrics_http.h"
#include "cli/metrics_render.h"

struct metrics {
    struct mx_snap snap;  /* aggregated state (analysis thread only) */
    struct mx_buf buf;    /* its rendering */
    struct mx_file *file; /* --metrics-file, or NULL */
    bool file_failed;     /* the last write failed (reported once per failure streak) */
    struct mx_http *http; /* --metrics-listen, or NULL */
};

size_t metrics_render(struct metrics *m, char *buf, size_t len)
{
    if (!mx_render(&m->snap, &m->buf))
        return 0;
    if (len) {
        size_t n = m->buf.len < len - 1 ? m->buf.len : len - 1;
        memcpy(buf, m->buf.p, n);
        buf[n] = 0;
    }
    return m->buf.len;
}

/* Write the file; a failure is logged once until a write succeeds again. */
static void mx_write_file(struct metrics *m)
{
    char err[512];
    if (!m->file)
        return;
    if (mx_file_write(m->file, m->buf.p, m->buf.len, err, sizeof(err)) == 0) {
        m->file_failed = false;
        return;
    }
    if (!m->file_failed)
        log_error("%s", err);
    m->file_failed = true;
}

static void mx_refresh(struct metrics *m)
{
    if (!mx_render(&m->snap, &m->buf))
        return;
    if (m->http)
        mx_http_publish(m->http, m->buf.p, m->buf.len);
    mx_write_file(m);
}

static void mx_on_health(void *ctx, const struct health_row *h)
{
    struct metrics *m = ctx;
    mx_snap_health(&m->snap, h);
}

static void mx_on_finding(void *ctx, const struct finding *f)
{
    struct metrics *m = ctx;
    mx_snap_finding(&m->snap, f);
}

static void mx_on_incident(void *ctx, const struct incident_record *r)
{
    struct metrics *m = ctx;
    mx_snap_incident(&m->snap, r);
    mx_refresh(m);
}

static void mx_on_summary(void *ctx, const struct run_summary *s)
{
    struct metrics *m = ctx;
    mx_snap_summary(&m->snap, s);
    mx_refresh(m);
}

struct sink metrics_sink(struct metrics *m)
{
    struct sink s = {
        .ctx = m,
        .on_finding = mx_on_finding,
        .on_health = mx_on_health,
        .on_summary = mx_on_summary,
        .on_incident = mx_on_incident,
    };
    return s;
}

void metrics_update_self(struct metrics *m, const struct metrics_self *s)
{
    m->snap.self = *s;
    mx_refresh(m);
}

struct metrics *metrics_new(const struct metrics_opts *o, char *err, size_t errlen)
{
    struct metrics *m = calloc(1, sizeof(*m));
    if (!m || mx_snap_init(&m->snap) != 0 || !mx_render(&m->snap, &m->buf)) {
        snprintf(err, errlen, "metrics: out of memory");
        goto fail;
    }
    if (o->web && !o->listen) {
        snprintf(err, errlen, "--web-config needs --metrics-listen");
        goto fail;
    }
    if (o->file) {
        m->file = mx_file_open(o->file, o->file_follow, err, errlen);
        if (!m->file || mx_file_write(m->file, m->buf.p, m->buf.len, err, errlen) != 0)
            goto fail;
    }
    if (o->listen) {
        m->http = mx_http_start(o->listen, o->web, err, errlen);
        if (!m->http)
            goto fail;
        mx_http_publish(m->http, m->buf.p, m->buf.len);
    }
    return m;
fail:
    if (m) {
        mx_file_close(m->file);
        mx_snap_free(&m->snap);
        mx_buf_free(&m->buf);
        free(m);
    }
    return NULL;
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    mx_refresh(m);
    mx_http_stop(m->http);
    mx_file_close(m->file);
    mx_snap_free(&m->snap);
    mx_buf_free(&m->buf);
    free(m);
}
