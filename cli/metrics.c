/*
 * metrics.c - the metrics sink: feeds the snapshot, renders it after each change of the self
 * counters and at the end of the run, and hands the text to the endpoint and the file.
 */
#include "cli/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/log.h"
#include "cli/metrics_file.h"
#include "cli/metrics_http.h"
#include "cli/metrics_render.h"

struct metrics {
    pthread_mutex_t mu;   /* guards snap and buf: put runs on the output thread,
                             metrics_update_self on the main thread */
    struct mx_snap snap;  /* aggregated state */
    struct mx_buf buf;    /* its rendering */
    struct mx_file *file; /* --metrics-file, or NULL */
    bool file_failed;     /* the last write failed (reported once per failure streak) */
    struct mx_http *http; /* --metrics-listen, or NULL */
};

size_t metrics_render(struct metrics *m, char *buf, size_t len)
{
    pthread_mutex_lock(&m->mu);
    size_t out = 0;
    if (mx_render(&m->snap, &m->buf)) {
        if (len) {
            size_t n = m->buf.len < len - 1 ? m->buf.len : len - 1;
            memcpy(buf, m->buf.p, n);
            buf[n] = 0;
        }
        out = m->buf.len;
    }
    pthread_mutex_unlock(&m->mu);
    return out;
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

/* Render and publish; the caller holds m->mu. */
static void mx_refresh(struct metrics *m)
{
    if (!mx_render(&m->snap, &m->buf))
        return;
    if (m->http)
        mx_http_publish(m->http, m->buf.p, m->buf.len);
    mx_write_file(m);
}

/* sink_ops.put: health rows, findings and incidents into the snapshot; an incident and the
   summary also publish. */
static void mx_put(void *ctx, const struct out_rec *r)
{
    struct metrics *m = ctx;
    pthread_mutex_lock(&m->mu);
    if (r->type == OUT_HEALTH) {
        mx_snap_health(&m->snap, &r->u.health);
    } else if (r->type == OUT_FINDING) {
        mx_snap_finding(&m->snap, &r->u.finding);
    } else if (r->type == OUT_INCIDENT) {
        mx_snap_incident(&m->snap, &r->u.incident);
        mx_refresh(m);
    } else if (r->type == OUT_SUMMARY) {
        mx_snap_summary(&m->snap, &r->u.summary);
        mx_refresh(m);
    }
    pthread_mutex_unlock(&m->mu);
}

static void *mx_open(const void *cfg, char *err, size_t errlen)
{
    return metrics_new(cfg, err, errlen);
}

static int mx_close(void *ctx, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    metrics_free(ctx);
    return 0;
}

const struct sink_ops metrics_sink_ops = {
    .name = "metrics",
    .open = mx_open,
    .put = mx_put,
    .close = mx_close,
};

void metrics_update_self(struct metrics *m, const struct metrics_self *s)
{
    pthread_mutex_lock(&m->mu);
    m->snap.self = *s;
    mx_refresh(m);
    pthread_mutex_unlock(&m->mu);
}

struct metrics *metrics_new(const struct metrics_opts *o, char *err, size_t errlen)
{
    struct metrics *m = calloc(1, sizeof(*m));
    if (m && pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        m = NULL;
    }
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
        pthread_mutex_destroy(&m->mu);
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
    pthread_mutex_destroy(&m->mu);
    free(m);
}
