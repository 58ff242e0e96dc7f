/* helpers.c - the engine-driven unit tests' shared harness (helpers.h). */
#include "tests/unit/helpers.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t th_zeros[65536]; /* payload bytes of the synthetic segments (len <= 65535) */

struct endpoint th_ep4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
    struct endpoint e;
    memset(&e, 0, sizeof(e));
    e.ip.family = 4;
    e.ip.a[0] = a;
    e.ip.a[1] = b;
    e.ip.a[2] = c;
    e.ip.a[3] = d;
    e.port = port;
    return e;
}

void th_tcp_seg(struct pkt *p, uint64_t ts_ns, struct endpoint src, struct endpoint dst,
                uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, uint16_t win)
{
    memset(p, 0, sizeof(*p));
    p->ts_ns = ts_ns;
    p->src = src;
    p->dst = dst;
    p->ttl = 64;
    p->seq = seq;
    p->ack = ack;
    p->win = win;
    p->flags = flags;
    p->tcp_hlen = 20;
    p->tcp_len = len;
    p->payload = len ? th_zeros : NULL;
    p->payload_caplen = len;
    p->caplen = p->wirelen = 54 + len;
}

static int th_cmp_ts(const void *a, const void *b)
{
    const struct pkt *x = a, *y = b;
    if (x->ts_ns != y->ts_ns)
        return x->ts_ns < y->ts_ns ? -1 : 1;
    return x->ip_id < y->ip_id ? -1 : x->ip_id > y->ip_id;
}

void th_sort_by_time(struct pkt *p, size_t n)
{
    qsort(p, n, sizeof(p[0]), th_cmp_ts);
}

static void th_put(void *ctx, const struct out_rec *r)
{
    struct th_capture *c = ctx;
    switch (r->type) {
    case OUT_FINDING:
        if (c->fnd && c->nfnd < c->max_fnd)
            c->fnd[c->nfnd++] = r->u.finding;
        break;
    case OUT_INCIDENT:
        if (c->inc && c->ninc < c->max_inc)
            c->inc[c->ninc++] = r->u.incident;
        break;
    case OUT_FLOW:
        if (c->flows && c->nflows < c->max_flows)
            c->flows[c->nflows++] = r->u.flow;
        break;
    case OUT_SUMMARY:
        c->summary = r->u.summary;
        break;
    case OUT_HEALTH:
        c->health_failed +=
            r->u.health.failed_refused + r->u.health.failed_timeout + r->u.health.failed_backlog;
        break;
    default:
        break;
    }
}

static const struct sink_ops th_ops = {.name = "test", .put = th_put};

struct engine *th_engine_new(const struct eng_config *cfg, struct th_capture *c)
{
    struct eng_config def;
    if (!cfg) {
        eng_config_default(&def);
        cfg = &def;
    }
    c->nfnd = c->ninc = c->nflows = 0;
    c->health_failed = 0;
    memset(&c->summary, 0, sizeof(c->summary));
    return eng_new(cfg, &th_ops, c);
}

void th_engine_finish(struct engine *e)
{
    struct run_summary sum;
    memset(&sum, 0, sizeof(sum));
    eng_finish(e, &sum);
    eng_free(e);
}
