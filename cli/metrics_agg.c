/*
 * metrics_agg.c - aggregation of the sink stream into the metrics snapshot: per-server totals
 * from the health rows, the last interval's gauges, findings per kind, the run summary.
 */
#include "cli/metrics_agg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "capture/decode.h"
#include "capture/err.h"

int mx_snap_init(struct mx_snap *s)
{
    memset(s, 0, sizeof(*s));
    s->srv = calloc(MX_MAX_SERVERS, sizeof(*s->srv));
    return s->srv ? 0 : ERR_NOMEM;
}

void mx_snap_free(struct mx_snap *s)
{
    free(s->srv);
    s->srv = NULL;
}

/* Escape a label value: backslash, double quote and newline (exposition format rules). */
static void mx_escape(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (; *in && o + 3 < len; in++) {
        if (*in == '\\' || *in == '"') {
            out[o++] = '\\';
            out[o++] = *in;
        } else if (*in == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *in;
        }
    }
    out[o] = 0;
}

/* The server's entry, created on first sight; NULL when the table is full. */
static struct mx_srv *mx_server(struct mx_snap *s, const struct endpoint *e)
{
    char ep[64], lab[80];
    pkt_endpoint_str(e, ep, sizeof(ep));
    mx_escape(ep, lab, sizeof(lab));
    for (size_t i = 0; i < s->nsrv; i++)
        if (strcmp(s->srv[i].label, lab) == 0)
            return &s->srv[i];
    if (s->nsrv == MX_MAX_SERVERS)
        return NULL;
    struct mx_srv *v = &s->srv[s->nsrv++];
    memset(v, 0, sizeof(*v));
    memcpy(v->label, lab, sizeof(v->label));
    for (int q = 0; q < 3; q++)
        v->resp_q[q] = v->hs_q[q] = NAN;
    return v;
}

void mx_snap_health(struct mx_snap *s, const struct health_row *h)
{
    s->health_rows++;
    if (h->start_ns > s->latest_start)
        s->latest_start = h->start_ns;
    struct mx_srv *v = mx_server(s, &h->server);
    if (!v) {
        s->srv_dropped++;
        return;
    }
    v->attempts += h->attempts;
    v->established += h->established;
    v->failed[FAIL_REFUSED - FAIL_REFUSED] += h->failed_refused;
    v->failed[FAIL_TIMEOUT - FAIL_REFUSED] += h->failed_timeout;
    v->failed[FAIL_BACKLOG - FAIL_REFUSED] += h->failed_backlog;
    v->failed[FAIL_RESET - FAIL_REFUSED] += h->failed_reset;
    v->failed[FAIL_TLS - FAIL_REFUSED] += h->failed_tls;
    v->resets += h->resets;
    v->zero_windows += h->zero_windows;
    v->syn_retries += h->syn_retries;
    v->synack_retries += h->synack_retries;
    for (int d = 0; d < 2; d++) {
        v->retrans[d] += h->retrans_segs[d];
        v->data[d] += h->data_segs[d];
        v->bytes[d] += h->bytes[d];
    }
    v->http_requests += h->http_requests;
    v->http_5xx += h->http_5xx;
    v->slow += h->slow_responses;
    v->responses += h->resp_n;
    v->resp_q[0] = h->resp_p50;
    v->resp_q[1] = h->resp_p95;
    v->resp_q[2] = h->resp_p99;
    v->hs_q[0] = h->hs_rtt_p50;
    v->hs_q[1] = h->hs_rtt_p95;
    v->hs_q[2] = h->hs_rtt_p99;
    v->error_ratio = h->error_rate;
    v->retrans_ratio = h->retrans_rate;
    v->open_alerts = h->open_alerts;
    v->last_start = h->start_ns;
}

void mx_snap_finding(struct mx_snap *s, const struct finding *f)
{
    if ((unsigned)f->kind < FK__COUNT)
        s->findings[f->kind]++;
}

/* Raise *have to v (the summary's totals never lower a counter). */
static void mx_max(uint64_t *have, uint64_t v)
{
    if (v > *have)
        *have = v;
}

void mx_snap_summary(struct mx_snap *s, const struct run_summary *sum)
{
    for (int k = 0; k < FK__COUNT; k++)
        mx_max(&s->findings[k], sum->findings[k]);
    mx_max(&s->self.packets, sum->frames);
    mx_max(&s->self.bytes, sum->bytes);
    mx_max(&s->self.flows_evicted, sum->evicted);
    mx_max(&s->self.kernel_drops, sum->kernel_drops);
    mx_max(&s->self.if_drops, sum->if_drops);
    mx_max(&s->self.malformed, sum->malformed);
    mx_max(&s->self.mirror_duplicates, sum->mirror_duplicates);
    mx_max(&s->self.http_reclaimed, sum->http_reclaimed);
}

void mx_snap_incident(struct mx_snap *s, const struct incident_record *r)
{
    char ep[64], lab[80];
    pkt_endpoint_str(&r->server, ep, sizeof(ep));
    mx_escape(ep, lab, sizeof(lab));
    if (r->event == IE_OPEN && (unsigned)r->cause < IC__COUNT)
        s->inc_opened[r->cause]++;
    struct mx_inc *x = NULL;
    for (size_t i = 0; i < s->ninc && !x; i++)
        if (s->inc[i].cause == r->cause && strcmp(s->inc[i].label, lab) == 0)
            x = &s->inc[i];
    for (size_t i = 0; !x && s->ninc == MX_MAX_INC && i < s->ninc; i++)
        if (!s->inc[i].open)
            x = &s->inc[i]; /* full: a closed series gives way */
    if (!x && s->ninc < MX_MAX_INC)
        x = &s->inc[s->ninc++];
    if (!x)
        return;
    memcpy(x->label, lab, sizeof(x->label));
    x->cause = r->cause;
    x->open = r->event != IE_CLOSE;
}
