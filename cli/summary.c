/*
 * summary.c - collects per-server totals from finished flows, the incidents' latest state and
 * the error/warning findings grouped by kind and server, and prints the end-of-run summary
 * (with -q only the problems: incidents, error and warning findings, capture loss).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* localtime_r under -std=c11 */
#endif
#include "cli/summary.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzers/hash.h"
#include "capture/decode.h"
#include "capture/text.h"

#define SUMMARY_MAX_SERVERS 4096 /* servers tracked; further ones are counted together */
#define SUMMARY_TOP 10           /* servers printed */
#define SUMMARY_SLOTS 8192       /* index slots: a power of two, twice the servers */
#define SUMMARY_MAX_INCIDENTS 64 /* incidents tracked; further ones are counted */
#define SUMMARY_MAX_GROUPS 256   /* (kind, severity, server) groups of findings tracked */
#define SUMMARY_LINES 20         /* incident or finding lines printed, each */

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

/* An incident as its latest event left it. */
struct inc_line {
    uint64_t id;                   /* incident id within the run */
    enum severity sev;             /* latest severity */
    enum inc_cause cause;          /* why */
    struct endpoint server;        /* the server (a scan: the scanned host) */
    bool has_client;               /* client is set (a scan) */
    struct endpoint client;        /* the scanner */
    uint64_t since_ns;             /* first evidence (capture time) */
    uint64_t until_ns;             /* end of the problem; 0 while open */
    enum inc_close close_reason;   /* ICR_NONE while open */
    char summary[INC_SUMMARY_MAX]; /* one line */
};

/* Error or warning findings of one kind, severity and server. */
struct fgroup {
    enum fkind kind;                 /* kind */
    enum severity sev;               /* severity */
    struct endpoint server;          /* server */
    uint64_t count;                  /* findings */
    uint64_t first_ns;               /* first finding (capture time) */
    char detail[FINDING_DETAIL_MAX]; /* the newest detail */
};

/* The summary sink's state. */
struct summary {
    FILE *out;                                    /* where to print */
    bool problems_only;                           /* -q */
    bool defer;                                   /* print at close */
    bool have_sum;                                /* sum holds the run's summary (defer) */
    struct run_summary sum;                       /* the summary record, kept for close */
    struct srv_total srv[SUMMARY_MAX_SERVERS];    /* per server */
    size_t nsrv;                                  /* entries used */
    uint16_t slot[SUMMARY_SLOTS];                 /* index into srv + 1, 0 = empty */
    uint64_t srv_overflow;                        /* flows of servers beyond the cap */
    uint64_t sev[3];                              /* findings per severity */
    struct inc_line inc[SUMMARY_MAX_INCIDENTS];   /* incidents, in order of opening */
    size_t ninc;                                  /* entries used */
    uint64_t inc_overflow;                        /* incidents beyond the cap */
    struct fgroup grp[SUMMARY_MAX_GROUPS];        /* error/warn findings grouped */
    size_t ngrp;                                  /* entries used */
    uint64_t grp_overflow;                        /* findings of groups beyond the cap */
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

/* Count an error or warning finding in its (kind, severity, server) group. */
static void group_finding(struct summary *s, const struct finding *f)
{
    struct fgroup *g = NULL;
    for (size_t i = 0; i < s->ngrp && !g; i++)
        if (s->grp[i].kind == f->kind && s->grp[i].sev == f->sev &&
            pkt_ep_eq(&s->grp[i].server, &f->server))
            g = &s->grp[i];
    if (!g) {
        if (s->ngrp == SUMMARY_MAX_GROUPS) {
            s->grp_overflow++;
            return;
        }
        g = &s->grp[s->ngrp++];
        memset(g, 0, sizeof(*g));
        g->kind = f->kind;
        g->sev = f->sev;
        g->server = f->server;
        g->first_ns = f->ts_ns;
    }
    g->count++;
    snprintf(g->detail, sizeof(g->detail), "%s", f->detail);
}

static void on_finding(struct summary *s, const struct finding *f)
{
    unsigned sev = f->sev <= SEV_ERROR ? (unsigned)f->sev : SEV_ERROR;
    s->sev[sev]++;
    struct srv_total *t = srv_find(s, &f->server);
    if (t)
        t->findings[sev]++;
    if (f->sev == SEV_ERROR || f->sev == SEV_WARN)
        group_finding(s, f);
}

/* Keep an incident's latest state (open, update and close events carry all of it). */
static void on_incident(struct summary *s, const struct incident_record *r)
{
    struct inc_line *l = NULL;
    for (size_t i = 0; i < s->ninc && !l; i++)
        if (s->inc[i].id == r->id)
            l = &s->inc[i];
    if (!l) {
        if (s->ninc == SUMMARY_MAX_INCIDENTS) {
            s->inc_overflow += r->event == IE_OPEN;
            return;
        }
        l = &s->inc[s->ninc++];
        l->id = r->id;
    }
    l->sev = r->sev;
    l->cause = r->cause;
    l->server = r->server;
    l->has_client = r->has_client;
    l->client = r->client;
    l->since_ns = r->since_ns;
    l->until_ns = r->until_ns;
    l->close_reason = r->event == IE_CLOSE ? r->close_reason : ICR_NONE;
    snprintf(l->summary, sizeof(l->summary), "%s", r->summary);
}

/* Capture time as local "YYYY-MM-DD HH:MM:SS". */
static const char *fmt_local(uint64_t ns, char *buf, size_t len)
{
    time_t t = (time_t)(ns / 1000000000u);
    struct tm tm;
    if (!localtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(buf, len, "%" PRIu64, ns / 1000000000u);
    return buf;
}

/* Worst first: error before warn before info, open before closed, then in order of opening. */
static int inc_order(const void *a, const void *b)
{
    const struct inc_line *x = *(const struct inc_line *const *)a;
    const struct inc_line *y = *(const struct inc_line *const *)b;
    if (x->sev != y->sev)
        return x->sev > y->sev ? -1 : 1;
    if ((x->until_ns == 0) != (y->until_ns == 0))
        return x->until_ns == 0 ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * One line per incident, worst first:
 * "incident error http_errors 10.0.0.5:8080 since 2026-11-26 10:00:01 (open): SUMMARY" (the
 * summary says how many connections).
 */
static void print_incidents(struct summary *s, const char *indent)
{
    static const struct inc_line *order[SUMMARY_MAX_INCIDENTS];
    for (size_t i = 0; i < s->ninc; i++)
        order[i] = &s->inc[i];
    qsort(order, s->ninc, sizeof(order[0]), inc_order);
    for (size_t i = 0; i < s->ninc && i < SUMMARY_LINES; i++) {
        const struct inc_line *l = order[i];
        char srv[64], cli[64], since[32], until[32];
        fprintf(s->out, "%sincident %s %s %s", indent, sev_name(l->sev), inc_cause_name(l->cause),
                pkt_endpoint_str(&l->server, srv, sizeof(srv)));
        if (l->has_client)
            fprintf(s->out, " from %s", pkt_endpoint_str(&l->client, cli, sizeof(cli)));
        fprintf(s->out, " since %s", fmt_local(l->since_ns, since, sizeof(since)));
        if (l->close_reason != ICR_NONE)
            fprintf(s->out, " until %s (%s)", fmt_local(l->until_ns, until, sizeof(until)),
                    inc_close_name(l->close_reason));
        else
            fputs(" (open)", s->out);
        char esc[4 * INC_SUMMARY_MAX]; /* the summary may quote the wire (SNI, HTTP) */
        fprintf(s->out, ": %s\n", text_term(l->summary, esc, sizeof(esc)));
    }
    if (s->ninc > SUMMARY_LINES || s->inc_overflow)
        fprintf(s->out,
                "%s... and %" PRIu64 " more incidents (--json or -w and flowmedic report "
                "list them all)\n",
                indent,
                (uint64_t)(s->ninc > SUMMARY_LINES ? s->ninc - SUMMARY_LINES : 0) +
                    s->inc_overflow);
}

static int grp_order(const void *a, const void *b)
{
    const struct fgroup *x = *(const struct fgroup *const *)a;
    const struct fgroup *y = *(const struct fgroup *const *)b;
    if (x->sev != y->sev)
        return x->sev > y->sev ? -1 : 1;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->first_ns < y->first_ns ? -1 : x->first_ns > y->first_ns;
}

/* One line per kind, severity and server: "error conn_refused 10.0.0.5:443 x12: DETAIL". */
static void print_groups(struct summary *s)
{
    static const struct fgroup *order[SUMMARY_MAX_GROUPS];
    for (size_t i = 0; i < s->ngrp; i++)
        order[i] = &s->grp[i];
    qsort(order, s->ngrp, sizeof(order[0]), grp_order);
    for (size_t i = 0; i < s->ngrp && i < SUMMARY_LINES; i++) {
        const struct fgroup *g = order[i];
        char srv[64], esc[4 * FINDING_DETAIL_MAX]; /* the detail may quote the wire */
        fprintf(s->out, "%-5s %s %s x%" PRIu64 ": %s\n", sev_name(g->sev), fk_name(g->kind),
                pkt_endpoint_str(&g->server, srv, sizeof(srv)), g->count,
                text_term(g->detail, esc, sizeof(esc)));
    }
    if (s->ngrp > SUMMARY_LINES || s->grp_overflow)
        fprintf(s->out,
                "... and %zu%s more kinds and servers (--json or -w and flowmedic report list "
                "them all)\n",
                s->ngrp > SUMMARY_LINES ? s->ngrp - SUMMARY_LINES : 0, s->grp_overflow ? "+" : "");
}

/* What the capture missed: drops, an early end, evicted flows. Nothing when all is well. */
static void print_capture_problems(struct summary *s, const struct run_summary *r)
{
    if (!r->kernel_drops && !r->if_drops && !r->input_error && !r->evicted)
        return;
    fprintf(s->out, "capture");
    const char *sep = " ";
    if (r->kernel_drops || r->if_drops) {
        fprintf(s->out, "%s%" PRIu64 " frames dropped by the kernel, %" PRIu64 " by the interface",
                sep, r->kernel_drops, r->if_drops);
        sep = "; ";
    }
    if (r->input_error) {
        fprintf(s->out, "%sinput ended early (see the message above)", sep);
        sep = "; ";
    }
    if (r->evicted)
        fprintf(s->out, "%s%" PRIu64 " flows evicted at the flow cap (--max-flows)", sep,
                r->evicted);
    fputs("\n", s->out);
}

/* -q: the problems only, one line each; nothing when there is none. */
static void print_problems(struct summary *s, const struct run_summary *r)
{
    print_incidents(s, "");
    print_groups(s);
    print_capture_problems(s, r);
    fflush(s->out);
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

static void print_summary(struct summary *s, const struct run_summary *r)
{
    FILE *o = s->out;
    if (s->problems_only) {
        print_problems(s, r);
        return;
    }
    double span = r->last_ts_ns > r->first_ts_ns ? (double)(r->last_ts_ns - r->first_ts_ns) / 1e9
                                                 : 0.0;
    fprintf(o, "flowmedic summary: %" PRIu64 " frames (%" PRIu64 " TCP) over %.3f s, %" PRIu64
               " flows\n",
            r->frames, r->tcp_packets, span, r->flows);
    fprintf(o,
            "  skipped: %" PRIu64 " non-TCP, %" PRIu64 " IP fragments; malformed: %" PRIu64
            "; mirror duplicates dropped: %" PRIu64 "; flows evicted (cap): %" PRIu64 "\n",
            r->non_tcp, r->fragments, r->malformed, r->mirror_duplicates, r->evicted);
    if (r->mirror_dup_overflow)
        fprintf(o,
                "  duplicate filter full: %" PRIu64
                " frames forgotten inside the window (copies of them were analysed)\n",
                r->mirror_dup_overflow);
    if (r->http_reclaimed)
        fprintf(o,
                "  HTTP request slots full: %" PRIu64
                " connections (the longest idle first) timed by turns without further records\n",
                r->http_reclaimed);
    fprintf(o, "  kernel drops: %" PRIu64 ", interface drops: %" PRIu64 "%s\n", r->kernel_drops,
            r->if_drops, r->input_error ? "; input ended early (see message above)" : "");
    fprintf(o, "\nFindings: %" PRIu64 " error, %" PRIu64 " warn, %" PRIu64 " info\n",
            s->sev[SEV_ERROR], s->sev[SEV_WARN], s->sev[SEV_INFO]);
    for (int k = 0; k < FK__COUNT; k++)
        if (r->findings[k])
            fprintf(o, "  %-26s %-12s %" PRIu64 "\n", fk_name((enum fkind)k),
                    fk_layer_name(fk_info((enum fkind)k)->layer), r->findings[k]);
    if (s->ninc) {
        fprintf(o, "\nIncidents: %zu (worst first)\n", s->ninc + (size_t)s->inc_overflow);
        print_incidents(s, "  ");
    } else {
        fputs("\nIncidents: none\n", o);
    }
    if (s->nsrv)
        print_servers(s);
    fflush(o);
}

static void on_summary(struct summary *s, const struct run_summary *r)
{
    if (s->defer) {
        s->sum = *r;
        s->have_sum = true;
        return;
    }
    print_summary(s, r);
}

/* sink_ops.put: totals from flows and findings; the text at the summary. */
static void summary_put(void *ctx, const struct out_rec *r)
{
    struct summary *s = ctx;
    if (r->type == OUT_FLOW)
        on_flow(s, &r->u.flow);
    else if (r->type == OUT_FINDING)
        on_finding(s, &r->u.finding);
    else if (r->type == OUT_INCIDENT)
        on_incident(s, &r->u.incident);
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
    s->problems_only = o->problems_only;
    s->defer = o->defer;
    return s;
}

static int summary_close(void *ctx, char *err, size_t errlen)
{
    struct summary *s = ctx;
    (void)err;
    (void)errlen;
    if (s->have_sum) /* defer: the live view has given the terminal back */
        print_summary(s, &s->sum);
    free(s);
    return 0;
}

const struct sink_ops summary_sink_ops = {
    .name = "summary",
    .open = summary_open,
    .put = summary_put,
    .close = summary_close,
};
