/* summary.c - collects per-server totals from finished flows and prints the end-of-run summary. */
#include "cli/summary.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/hash.h"
#include "capture/decode.h"

#define SUMMARY_MAX_SERVERS 4096 /* servers tracked; further ones are counted together */
#define SUMMARY_TOP 10           /* servers printed */
#define SUMMARY_SLOTS 8192       /* index slots: a power of two, twice the servers */

/* Totals for one server endpoint. */
struct srv_total {
    struct endpoint ep;       /* the server */
    uint64_t flows;           /* flows ended */
    uint64_t packets;         /* packets both ways */
    uint64_t bytes;           /* payload bytes both ways */
    uint64_t retrans;         /* data retransmissions, both ways (flow_record.data_retrans) */
    uint64_t resets;          /* resets, both ways */
    uint64_t failed;          /* refused or unanswered connection attempts */
    uint64_t findings[3];     /* findings per severity */
};

/* The summary sink's state. */
struct summary {
    FILE *out;                                    /* where to print */
    struct srv_total srv[SUMMARY_MAX_SERVERS];    /* per server */
    size_t nsrv;                                  /* entries used */
    uint16_t slot[SUMMARY_SLOTS];                 /* index into srv + 1, 0 = empty */
    uint64_t srv_overflow;                        /* flows of servers beyond the cap */
    uint64_t sev[3];                              /* findings per severity */
};

/* The totals of server ep, added if new; NULL when the table is full. One probe sequence. */
static struct srv_total *srv_find(struct summary *s, const struct endpoint *ep)
{
    uint64_t h = hash_mix(hash_load64(ep->ip.a) ^ (hash_load64(ep->ip.a + 8) << 1) ^
                          ((uint64_t)ep->port << 8 | ep->ip.family));
    for (size_t i = (size_t)h & (SUMMARY_SLOTS - 1);; i = (i + 1) & (SUMMARY_SLOTS - 1)) {
        if (s->slot[i]) {
            struct srv_total *t = &s->srv[s->slot[i] - 1];
            if (pkt_ep_eq(&t->ep, ep))
                return t;
            continue;
        }
        if (s->nsrv == SUMMARY_MAX_SERVERS)
            return NULL;
        struct srv_total *t = &s->srv[s->nsrv++];
        memset(t, 0, sizeof(*t));
        t->ep = *ep;
        s->slot[i] = (uint16_t)s->nsrv;
        return t;
    }
}

static void on_flow(struct summary *s, const struct flow_record *r)
{
    struct srv_total *t = srv_find(s, &r->server);
    if (!t) {
        s->srv_overflow++;
        return;
    }
    t->flows++;
    for (int d = 0; d < 2; d++) {
        t->packets += r->packets[d];
        t->bytes += r->bytes[d];
        t->retrans += r->data_retrans[d];
        t->resets += r->ev[d][TEV_RESET];
    }
    if (r->close == CLOSE_REFUSED || r->close == CLOSE_UNANSWERED)
        t->failed++;
}

static void on_finding(struct summary *s, const struct finding *f)
{
    unsigned sev = f->sev <= SEV_ERROR ? (unsigned)f->sev : SEV_ERROR;
    s->sev[sev]++;
    struct srv_total *t = srv_find(s, &f->server);
    if (t)
        t->findings[sev]++;
}

static int by_flows_desc(const void *a, const void *b)
{
    const struct srv_total *x = *(const struct srv_total *const *)a;
    const struct srv_total *y = *(const struct srv_total *const *)b;
    uint64_t kx = x->findings[SEV_ERROR] * 1000000 + x->flows;
    uint64_t ky = y->findings[SEV_ERROR] * 1000000 + y->flows;
    return kx < ky ? 1 : kx > ky ? -1 : 0;
}

static void print_servers(struct summary *s)
{
    FILE *o = s->out;
    static const struct srv_total *order[SUMMARY_MAX_SERVERS]; /* sorted view; srv stays indexed */
    for (size_t i = 0; i < s->nsrv; i++)
        order[i] = &s->srv[i];
    qsort(order, s->nsrv, sizeof(order[0]), by_flows_desc);
    fprintf(o, "\nTop servers (%zu seen):\n", s->nsrv);
    fprintf(o, "  %-40s %7s %9s %7s %6s %6s %6s %6s\n", "server", "flows", "packets", "retrans",
            "resets", "failed", "errors", "warns");
    for (size_t i = 0; i < s->nsrv && i < SUMMARY_TOP; i++) {
        const struct srv_total *t = order[i];
        char buf[64];
        fprintf(o,
                "  %-40s %7" PRIu64 " %9" PRIu64 " %7" PRIu64 " %6" PRIu64 " %6" PRIu64
                " %6" PRIu64 " %6" PRIu64 "\n",
                pkt_endpoint_str(&t->ep, buf, sizeof(buf)), t->flows, t->packets, t->retrans,
                t->resets, t->failed, t->findings[SEV_ERROR], t->findings[SEV_WARN]);
    }
    if (s->nsrv > SUMMARY_TOP)
        fprintf(o, "  ... and %zu more\n", s->nsrv - SUMMARY_TOP);
    if (s->srv_overflow)
        fprintf(o, "  (%" PRIu64 " flows of further servers not broken down)\n", s->srv_overflow);
}

static void on_summary(struct summary *s, const struct run_summary *r)
{
    FILE *o = s->out;
    double span = r->last_ts_ns > r->first_ts_ns ? (double)(r->last_ts_ns - r->first_ts_ns) / 1e9
                                                 : 0.0;
    fprintf(o, "flowmedic summary: %" PRIu64 " frames (%" PRIu64 " TCP) over %.3f s, %" PRIu64
               " flows\n",
            r->frames, r->tcp_packets, span, r->flows);
    fprintf(o,
            "  skipped: %" PRIu64 " non-TCP, %" PRIu64 " IP fragments; malformed: %" PRIu64
            "; mirror duplicates dropped: %" PRIu64 "; flows evicted (cap): %" PRIu64 "\n",
            r->non_tcp, r->fragments, r->malformed, r->mirror_duplicates, r->evicted);
    fprintf(o, "  kernel drops: %" PRIu64 ", interface drops: %" PRIu64 "%s\n", r->kernel_drops,
            r->if_drops, r->input_error ? "; input ended early (see message above)" : "");
    fprintf(o, "\nFindings: %" PRIu64 " error, %" PRIu64 " warn, %" PRIu64 " info\n",
            s->sev[SEV_ERROR], s->sev[SEV_WARN], s->sev[SEV_INFO]);
    for (int k = 0; k < FK__COUNT; k++)
        if (r->findings[k])
            fprintf(o, "  %-26s %-12s %" PRIu64 "\n", fk_name((enum fkind)k),
                    fk_layer_name(fk_info((enum fkind)k)->layer), r->findings[k]);
    if (s->nsrv)
        print_servers(s);
    fflush(o);
}

/* sink_ops.put: totals from flows and findings; the text at the summary. */
static void summary_put(void *ctx, const struct out_rec *r)
{
    struct summary *s = ctx;
    if (r->type == OUT_FLOW)
        on_flow(s, &r->u.flow);
    else if (r->type == OUT_FINDING)
        on_finding(s, &r->u.finding);
    else if (r->type == OUT_SUMMARY)
        on_summary(s, &r->u.summary);
}

static void *summary_open(const void *cfg, char *err, size_t errlen)
{
    const struct summary_opts *o = cfg;
    struct summary *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->out = o->out;
    return s;
}

static int summary_close(void *ctx, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    free(ctx);
    return 0;
}

const struct sink_ops summary_sink_ops = {
    .name = "summary",
    .open = summary_open,
    .put = summary_put,
    .close = summary_close,
};
