/*
 * health_srv.c - server health, the server side: the table of server endpoints, per-server
 * per-interval health rows (counts, handshake RTT and response-time quantiles, rates), what
 * each flow's segments count for its server, alert rules with hysteresis (health_alert
 * findings on open and on close), and the failures other detectors report. Intervals close by
 * capture time, never by the wall clock.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/health.h"
#include "analyzers/health_int.h"
#include "analyzers/pool.h"
#include "analyzers/scan.h"
#include "capture/decode.h"
#include "capture/log.h"

#define TEV_BIT(e) (1u << (e))

/* ---- server table ---- */

static uint32_t hl_hash(const struct endpoint *e)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ e->ip.a[i]) * 16777619u;
    h = (h ^ e->ip.family) * 16777619u;
    h = (h ^ (e->port & 0xff)) * 16777619u;
    h = (h ^ (e->port >> 8)) * 16777619u;
    return h;
}

/* Remove the server in hash slot i (linear probing: shift the following entries back). */
static void hl_unhash(struct hl *h, uint32_t i)
{
    const uint32_t mask = HL_HASH_SLOTS - 1;
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        uint16_t sj = h->slot[j];
        if (sj == 0)
            break;
        uint32_t home = hl_hash(&h->srv[sj - 1].ep) & mask;
        /* move sj into the hole at i unless its home lies cyclically in (i, j] */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            h->slot[i] = sj;
            i = j;
        }
    }
    h->slot[i] = 0;
}

/*
 * A slot for a new server when the table is full: the one idle longest, without an open alert
 * and with nothing counted in the current interval (its rows are already out). -1 if none.
 */
static int hl_victim(struct hl *h)
{
    int best = -1;
    for (size_t k = 0; k < h->nsrv; k++) {
        const struct hl_srv *s = &h->srv[k];
        bool open = false;
        for (int r = 0; r < AR__COUNT; r++)
            open |= s->al[r].open;
        if (s->active || open)
            continue;
        if (best < 0 || s->last_ns < h->srv[best].last_ns)
            best = (int)k;
    }
    return best;
}

/* Index + 1 of the server e (added if new); 0 when the table is full of busy servers. */
uint16_t hl_server(struct hl *h, const struct endpoint *e)
{
    const uint32_t mask = HL_HASH_SLOTS - 1;
    uint32_t i = hl_hash(e) & mask;
    for (uint32_t n = 0; n < HL_HASH_SLOTS; n++, i = (i + 1) & mask) {
        uint16_t s = h->slot[i];
        if (s == 0)
            break;
        if (pkt_ep_eq(&h->srv[s - 1].ep, e))
            return s;
    }
    size_t idx = h->nsrv;
    if (h->nsrv == HL_MAX_SERVERS) {
        int v = hl_victim(h);
        if (v < 0) {
            if (h->srv_overflow++ == 0)
                log_warn("server health: %d server endpoints busy at once; more are not tracked",
                         HL_MAX_SERVERS);
            return 0;
        }
        idx = (size_t)v;
        uint32_t j = hl_hash(&h->srv[idx].ep) & mask;
        while (h->slot[j] != idx + 1)
            j = (j + 1) & mask;
        hl_unhash(h, j);
        h->srv_evicted++;
        i = hl_hash(e) & mask; /* the hole may have moved: find the free slot again */
        while (h->slot[i] != 0)
            i = (i + 1) & mask;
    } else {
        h->nsrv++;
    }
    struct hl_srv *s = &h->srv[idx];
    uint32_t gen = s->gen + 1;
    memset(&s->row, 0, sizeof(s->row));
    memset(s->al, 0, sizeof(s->al));
    s->gen = gen;
    s->ep = *e;
    s->active = false;
    s->last_ns = 0;
    s->responses = 0;
    s->outstanding = 0;
    s->cert_bad = false;
    s->cert_days = NAN;
    sketch_reset(&s->resp);
    sketch_reset(&s->hs);
    h->slot[i] = (uint16_t)(idx + 1);
    return h->slot[i];
}

struct hl_srv *hl_srv_at(struct hl *h, uint16_t srv, uint32_t gen)
{
    if (!srv)
        return NULL;
    struct hl_srv *s = &h->srv[srv - 1];
    return s->gen == gen ? s : NULL; /* the slot went to another server meanwhile */
}

void hl_num(char *buf, size_t len, double v)
{
    if (isnan(v) || isinf(v))
        snprintf(buf, len, "null");
    else
        snprintf(buf, len, "%.6g", v);
}

/* A rule's value as people read it: "5.990 s", "20.0 %", "12 days"; "none" for no data. */
static void hl_readable(char *buf, size_t len, enum alert_rule r, double v)
{
    if (isnan(v))
        snprintf(buf, len, "none");
    else if (r == AR_RESP_P99)
        snprintf(buf, len, "%.3f s", v);
    else if (r == AR_CERT_EXPIRING)
        snprintf(buf, len, "%.0f days", v);
    else
        snprintf(buf, len, "%.1f %%", v * 100);
}

/* A server-level health_alert finding: rule r of server s opened or closed at ts. */
static void hl_emit_alert(struct det *d, const struct hl_srv *s, enum alert_rule r, bool open,
                          uint64_t ts)
{
    struct hl *h = hl_of(d);
    const struct alert_state *a = &s->al[r];
    const struct alert_cfg *c = &h->rule[r];
    double v = open ? a->last_value : a->value;
    struct finding fd;
    char ep[64], val[32], thr[32], rv[32], rt[32], rc[32];
    memset(&fd, 0, sizeof(fd));
    fd.ts_ns = ts;
    fd.kind = FK_HEALTH_ALERT;
    fd.sev = open ? SEV_ERROR : SEV_INFO;
    fd.server = s->ep;
    fd.confidence = 1.0f;
    pkt_endpoint_str(&s->ep, ep, sizeof(ep));
    hl_num(val, sizeof(val), v);
    hl_num(thr, sizeof(thr), c->threshold);
    hl_readable(rv, sizeof(rv), r, v);
    hl_readable(rt, sizeof(rt), r, c->threshold);
    hl_readable(rc, sizeof(rc), r, c->threshold * c->clear_ratio);
    static const char *const what[AR__COUNT] = {"response time p99",
                                                "error rate (failed connections or HTTP 5xx)",
                                                "retransmission rate", "certificate"};
    if (open && r == AR_CERT_EXPIRING && v < 0)
        snprintf(fd.detail, sizeof(fd.detail),
                 "alert opened: %s presents a certificate that expired %.0f days ago; renew and "
                 "deploy it",
                 ep, -v);
    else if (open && r == AR_CERT_EXPIRING)
        snprintf(fd.detail, sizeof(fd.detail),
                 "alert opened: %s presents a certificate that expires within %s (days left: "
                 "%s); renew and deploy it",
                 ep, rt, val);
    else if (open)
        snprintf(fd.detail, sizeof(fd.detail),
                 "alert opened: %s %s is %s, over the threshold of %s (interval of %.0f s)", ep,
                 what[r], rv, rt, (double)h->iv_ns / 1e9);
    else
        snprintf(fd.detail, sizeof(fd.detail),
                 "alert cleared: %s %s has stayed at or under %s (or idle) for %u intervals "
                 "(last value %s); it was open for %.0f s",
                 ep, what[r], rc, c->clear_after, rv, (double)(ts - a->opened_ns) / 1e9);
    fd.fx.alert.rule = r;
    fd.fx.alert.open = open;
    fd.fx.alert.value = v;
    fd.fx.alert.threshold = c->threshold;
    det_emit(d, &fd);
}

/* ---- intervals ---- */

/* Close the interval of server s at end_ns: rates, quantiles, alerts, then the row. */
static void hl_close_server(struct det *d, struct hl_srv *s, uint64_t start, uint64_t end_ns)
{
    struct hl *h = hl_of(d);
    struct health_row *r = &s->row;
    r->start_ns = start;
    r->len_ns = h->iv_ns;
    r->server = s->ep;
    r->hs_rtt_n = (uint32_t)s->hs.n;
    r->hs_rtt_p50 = sketch_quantile(&s->hs, 0.50);
    r->hs_rtt_p95 = sketch_quantile(&s->hs, 0.95);
    r->hs_rtt_p99 = sketch_quantile(&s->hs, 0.99);
    r->resp_n = (uint32_t)s->resp.n;
    r->resp_p50 = sketch_quantile(&s->resp, 0.50);
    r->resp_p95 = sketch_quantile(&s->resp, 0.95);
    r->resp_p99 = sketch_quantile(&s->resp, 0.99);

    uint64_t failed =
        r->failed_refused + r->failed_timeout + r->failed_backlog + r->failed_reset + r->failed_tls;
    double conn_rate = NAN, http_rate = NAN, err = NAN, rtx = NAN;
    if (r->attempts)
        conn_rate = fmin(1.0, (double)failed / (double)r->attempts);
    else if (failed)
        conn_rate = 1.0; /* failures of attempts begun in an earlier interval */
    if (s->responses)
        http_rate = (double)r->http_5xx / (double)s->responses;
    if (!isnan(conn_rate) || !isnan(http_rate))
        err = fmax(isnan(conn_rate) ? 0 : conn_rate, isnan(http_rate) ? 0 : http_rate);
    uint64_t data = r->data_segs[0] + r->data_segs[1];
    if (data)
        rtx = (double)(r->retrans_segs[0] + r->retrans_segs[1]) / (double)data;
    r->error_rate = isnan(err) ? 0 : err;
    r->retrans_rate = isnan(rtx) ? 0 : rtx;

    /* the error-rate alert reads only the parts with enough samples (a port scan's single
       refused SYN per port is not a 100 % error rate of a service) */
    double err_alert = NAN;
    if ((r->attempts >= HL_ERR_MIN_SAMPLES || failed >= HL_ERR_MIN_SAMPLES) && !isnan(conn_rate))
        err_alert = conn_rate;
    if (s->responses >= HL_ERR_MIN_SAMPLES && !isnan(http_rate))
        err_alert = isnan(err_alert) ? http_rate : fmax(err_alert, http_rate);
    double val[AR__COUNT] = {r->resp_p99, err_alert, data >= HL_RETRANS_MIN_SEGS ? rtx : NAN, NAN};
    bool quiet[AR__COUNT] = {s->outstanding <= 0, true, true, false};
    for (int i = 0; i < AR__COUNT; i++) {
        enum alert_change ch;
        if (i == AR_CERT_EXPIRING) {
            /* a certificate cannot be seen to be replaced passively: stays open for the run */
            if (!s->cert_bad || s->al[i].open)
                continue;
            s->al[i].open = true;
            s->al[i].opened_ns = end_ns;
            s->al[i].last_value = s->cert_days;
            ch = ALERT_OPENED;
        } else {
            ch = alert_step(&s->al[i], &h->rule[i], val[i], quiet[i], end_ns);
        }
        if (ch != ALERT_SAME)
            hl_emit_alert(d, s, (enum alert_rule)i, ch == ALERT_OPENED, end_ns);
    }
    r->open_alerts = 0;
    for (int i = 0; i < AR__COUNT; i++)
        if (s->al[i].open)
            r->open_alerts |= ALERT_BIT(i);
    det_emit_health(d, r);

    memset(r, 0, sizeof(*r));
    s->responses = 0;
    s->active = false;
    if (s->resp.n)
        sketch_reset(&s->resp);
    if (s->hs.n)
        sketch_reset(&s->hs);
}

/* Close the current interval for every server with something to say; false if none had. */
static bool hl_close_interval(struct det *d)
{
    struct hl *h = hl_of(d);
    uint64_t end = h->iv_start + h->iv_ns;
    bool any_open = false;
    for (size_t i = 0; i < h->nsrv; i++) {
        struct hl_srv *s = &h->srv[i];
        bool open = false;
        for (int k = 0; k < AR__COUNT; k++)
            open |= s->al[k].open && k != AR_CERT_EXPIRING;
        if (!s->active && !open)
            continue;
        hl_close_server(d, s, h->iv_start, end);
        for (int k = 0; k < AR__COUNT; k++)
            any_open |= s->al[k].open && k != AR_CERT_EXPIRING;
    }
    return any_open;
}

/* Capture time reached now: close every interval that ended before it. */
void hl_advance(struct det *d, uint64_t now)
{
    struct hl *h = hl_of(d);
    if (!h->started) {
        h->started = true;
        h->iv_start = now - now % h->iv_ns;
        return;
    }
    if (now < h->iv_start + h->iv_ns)
        return; /* the common case: still in the interval */
    /* idle intervals while alerts are open count towards clearing them, up to the hold time */
    for (uint32_t n = 0; now >= h->iv_start + h->iv_ns; n++) {
        bool open = hl_close_interval(d);
        h->iv_start += h->iv_ns;
        if (!open || n >= h->idle_max) {
            if (now >= h->iv_start + h->iv_ns)
                h->iv_start = now - now % h->iv_ns;
            break;
        }
    }
}

/* ---- samples and detector entry points ---- */

void hl_sample(struct hl_srv *s, double resp_s)
{
    if (!s)
        return;
    sketch_add(&s->resp, resp_s);
    s->active = true;
}

void hl_apply(struct hl_srv *s, const struct health_op *op)
{
    if (!s)
        return;
    switch (op->kind) {
    case HOP_REQUEST:
        s->row.http_requests++;
        s->outstanding++;
        s->active = true;
        break;
    case HOP_SAMPLE:
        hl_sample(s, op->v);
        break;
    case HOP_RESPONSE:
        s->responses++;
        if (op->status >= 500 && op->status <= 599)
            s->row.http_5xx++;
        s->active = true;
        break;
    case HOP_SLOW:
        s->row.slow_responses++;
        if (op->flags & HOPF_ACTIVE)
            s->active = true;
        break;
    case HOP_OUTSTANDING:
        s->outstanding += op->n;
        break;
    default:
        break;
    }
}

/*
 * What flow st's segments counted (op: HOP_COUNT), into its server's row: as hl_on_packet
 * does segment by segment (the attempt is decided here: the scan tracker is the server
 * side's).
 */
static void hl_count(struct det *d, struct hl_slice *st, const struct health_op *op)
{
    struct hl_srv *s = hl_srv_at(hl_of(d), st->srv, st->srv_gen);
    if (!s)
        return;
    const struct health_count *c = &op->c;
    struct health_row *r = &s->row;
    s->active = true;
    if (!(op->flags & HOPF_HELD) || c->last_ns > s->last_ns)
        s->last_ns = c->last_ns;
    if ((op->flags & HOPF_ATTEMPT) && !st->counted_attempt &&
        !scan_is_scanner(det_scans(d), &op->client)) {
        st->counted_attempt = true;
        r->attempts++;
    }
    r->syn_retries += c->syn_retries;
    r->synack_retries += c->synack_retries;
    if (op->flags & HOPF_EST) {
        r->established++;
        if (c->hs_rtt_ns >= 0)
            sketch_add(&s->hs, (double)c->hs_rtt_ns / 1e9);
    }
    r->resets += c->resets;
    if (op->flags & HOPF_FAILED_RESET)
        r->failed_reset++;
    r->zero_windows += c->zero_windows;
    for (int dir = 0; dir < 2; dir++) {
        r->data_segs[dir] += c->data_segs[dir];
        r->bytes[dir] += c->bytes[dir];
        r->retrans_segs[dir] += c->retrans_segs[dir];
    }
}

void health_apply_op(struct det *d, void *slice, const struct health_op *op)
{
    struct hl *h = hl_of(d);
    struct hl_slice *st = slice;
    if (op->kind == HOP_ADVANCE) {
        hl_advance(d, op->ts);
        return;
    }
    hl_slice_lookup(h, st, &op->server); /* the flow's first op: its first segment's */
    if (op->kind == HOP_COUNT)
        hl_count(d, st, op);
    else
        hl_apply(hl_srv_at(h, st->srv, st->srv_gen), op);
}

/* Set up the server side (servers), the per-flow side (flows), or both (one engine). */
static int hl_init_parts(struct det *d, const struct eng_config *cfg, bool servers, bool flows_)
{
    struct hl *h = calloc(1, sizeof(*h));
    if (!h)
        return ERR_NOMEM;
    h->remote = !servers;
    h->srv = servers ? calloc(HL_MAX_SERVERS, sizeof(*h->srv)) : NULL;
    if (servers && !h->srv) {
        free(h);
        return ERR_NOMEM;
    }
    h->slow_s = cfg->slow_response_s > 0 ? cfg->slow_response_s : 5.0;
    h->full_uri = cfg->http_full_uri;
    /* HTTP flows followed request by request at once: a quarter of the flow table, at least
       1024 (the flow table's size when smaller); the others are timed by turns */
    size_t flows = cfg->max_flows ? cfg->max_flows : 262144;
    h->rq_blocks = flows / 4 > 1024 ? flows / 4 : flows < 1024 ? flows : 1024;
    h->rq_pool = flows_ ? pool_new(h->rq_blocks, hl_rq_block()) : NULL;
    h->rq_lru = flows_ ? calloc(h->rq_blocks + 1, sizeof(*h->rq_lru)) : NULL;
    /* the per-flow half: an entry of held-back counts per flow its engine can hold */
    h->pend_cap = h->remote ? (uint32_t)(flows < UINT32_MAX ? flows : UINT32_MAX) : 0;
    h->pend = h->pend_cap ? calloc(h->pend_cap, hl_pend_size()) : NULL;
    h->pend_gen = 1;
    if (flows_ && (!h->rq_pool || !h->rq_lru || (h->pend_cap && !h->pend))) {
        pool_free(h->rq_pool);
        free(h->pend);
        free(h->rq_lru);
        free(h->srv);
        free(h);
        return ERR_NOMEM;
    }
    h->iv_ns = cfg->health_interval_ns ? cfg->health_interval_ns : 10 * NS_PER_S;
    h->batch = h->iv_ns % NS_PER_S == 0;
    double thr[AR__COUNT] = {cfg->alert_resp_p99_s, cfg->alert_error_rate, cfg->alert_retrans_rate,
                             (double)cfg->cert_expiring_days};
    for (int i = 0; i < AR__COUNT; i++) {
        h->rule[i].threshold = thr[i];
        h->rule[i].clear_ratio =
            cfg->alert_clear_ratio > 0 ? cfg->alert_clear_ratio : HL_CLEAR_RATIO;
        h->rule[i].open_after = cfg->alert_open_intervals ? cfg->alert_open_intervals : 1;
        h->rule[i].clear_after =
            cfg->alert_clear_intervals ? cfg->alert_clear_intervals : HL_CLEAR_INTERVALS;
    }
    h->idle_max = 1;
    for (int k = 0; k < AR__COUNT; k++)
        if (h->rule[k].clear_after + 1 > h->idle_max)
            h->idle_max = h->rule[k].clear_after + 1;
    d->priv = h;
    return 0;
}

int hl_init(struct det *d, const struct eng_config *cfg)
{
    return hl_init_parts(d, cfg, true, true);
}

int hl_init_srv(struct det *d, const struct eng_config *cfg)
{
    return hl_init_parts(d, cfg, true, false);
}

int hl_init_flow(struct det *d, const struct eng_config *cfg)
{
    return hl_init_parts(d, cfg, false, true);
}

void hl_on_tick(struct det *d, uint64_t now_ns)
{
    hl_advance(d, now_ns);
}

/* A failed connection attempt of reason why: the health row's counter of it, NULL if none. */
static uint64_t *hl_fail_counter(struct health_row *r, enum fail_reason why)
{
    switch (why) {
    case FAIL_REFUSED:
        return &r->failed_refused;
    case FAIL_TIMEOUT:
        return &r->failed_timeout;
    case FAIL_BACKLOG:
        return &r->failed_backlog;
    case FAIL_RESET:
        return &r->failed_reset;
    case FAIL_TLS:
        return &r->failed_tls;
    default:
        return NULL;
    }
}

/*
 * Other detectors' findings: failed connection attempts (the kind table says which kinds
 * are, and under which reason) and the certificate expiry evidence of the cert rule.
 */
void hl_on_finding(struct det *d, const struct finding *f)
{
    struct hl *h = hl_of(d);
    const struct fk_info *ki = fk_info(f->kind);
    bool cert_expiry = ki->cert_expiry;
    if (ki->fail == FAIL_NONE && !cert_expiry)
        return;
    if (ki->fail != FAIL_NONE && f->has_client && scan_is_scanner(det_scans(d), &f->client.ip))
        return; /* a scanner's refused or unanswered probe is no failure of the service */
    uint16_t idx = hl_server(h, &f->server);
    if (!idx)
        return;
    struct hl_srv *s = &h->srv[idx - 1];
    struct health_row *r = &s->row;
    s->active = true;
    s->last_ns = f->ts_ns;
    if (cert_expiry) {
        double days = f->fx.cert.days_left;
        if (!s->cert_bad || (!isnan(days) && (isnan(s->cert_days) || days < s->cert_days)))
            s->cert_days = days;
        s->cert_bad = true;
        return;
    }
    /* an outage episode (server_unreachable) is one finding for all its attempts */
    uint64_t n = 1;
    if (ki->family == FX_ESTAB && f->fx.estab.reason == ER_UNREACHABLE && f->fx.estab.attempts)
        n = f->fx.estab.attempts;
    /* a SYN backlog or accept-queue drop the connection survived (answered after a retry,
       accepted late) is a retried connection, not a failed one */
    if (ki->family == FX_ESTAB && f->fx.estab.outcome == EO_DELAYED)
        return;
    uint64_t *c = hl_fail_counter(r, ki->fail);
    if (c)
        *c += n;
}

void hl_on_finish(struct det *d)
{
    struct hl *h = hl_of(d);
    if (h->srv && h->started)
        hl_close_interval(d);
    if (!h->rq_pool)
        return; /* the server side of --workers: the per-flow side says these */
    if (h->rq_reclaimed)
        log_warn("http records: %" PRIu64 " HTTP connections gave their request slots to newer "
                 "ones (%zu followed at once; the longest idle first; their waiting requests "
                 "written in state reclaimed) and were timed by turns from then on",
                 h->rq_reclaimed, h->rq_blocks);
    if (h->rq_overflows)
        log_warn("http records: %" PRIu64 " HTTP connection%s had more than %d pipelined requests "
                 "awaiting answers (records in state pipeline_overflow; later requests on %s "
                 "not followed)",
                 h->rq_overflows, h->rq_overflows == 1 ? "" : "s", HL_PIPELINE,
                 h->rq_overflows == 1 ? "it" : "them");
}

void hl_free(struct det *d)
{
    struct hl *h = hl_of(d);
    if (!h)
        return;
    pool_free(h->rq_pool); /* NULL on the server side of --workers */
    free(h->rq_lru);
    free(h->pend);
    free(h->srv);
    free(h);
    d->priv = NULL;
}

/* ---- what each flow counts for its server ---- */

void hl_slice_lookup(struct hl *h, struct hl_slice *st, const struct endpoint *e)
{
    if (st->srv_done)
        return;
    st->srv_done = true;
    st->srv = hl_server(h, e);
    st->srv_gen = st->srv ? h->srv[st->srv - 1].gen : 0;
}

/* The flow's server slot, looked up at its first packet. */
void hl_slice_server(struct hl *h, struct hl_slice *st, const struct flow *f)
{
    hl_slice_lookup(h, st, &flow_rec(f)->server);
}

void hl_on_packet(struct det *d, const struct flow *f, void *fs, const struct pkt *p,
                  const struct tcp_seg *sg)
{
    struct hl *h = hl_of(d);
    struct hl_slice *st = fs;
    hl_advance(d, p->ts_ns);
    hl_slice_server(h, st, f);
    struct hl_srv *s = hl_srv_at(h, st->srv, st->srv_gen);
    if (s) {
        struct health_row *r = &s->row;
        s->active = true;
        s->last_ns = p->ts_ns;
        /* a scanner's probes are not attempts on the service (scan.h) */
        if (sg->syn && !sg->syn_retry && !st->counted_attempt &&
            !scan_is_scanner(det_scans(d), &flow_rec(f)->client.ip)) {
            st->counted_attempt = true;
            r->attempts++;
        }
        if (sg->syn_retry)
            r->syn_retries++;
        if (sg->synack_retry)
            r->synack_retries++;
        if (sg->hs_ack && !st->counted_est) {
            st->counted_est = true;
            r->established++;
            if (flow_rec(f)->hs_rtt_ns >= 0) {
                st->rtt_known = true;
                sketch_add(&s->hs, (double)flow_rec(f)->hs_rtt_ns / 1e9);
            }
        }
        if (sg->rst != RST_NONE) {
            r->resets++;
            if (sg->rst == RST_HANDSHAKE && !st->counted_reset) {
                st->counted_reset = true;
                r->failed_reset++;
            }
        }
        if (sg->ev & TEV_BIT(TEV_ZERO_WINDOW))
            r->zero_windows++;
        if (sg->data) {
            r->data_segs[sg->dir]++;
            r->bytes[sg->dir] += sg->len;
            if (sg->data_retrans)
                r->retrans_segs[sg->dir]++;
        }
    }
    /* response timing runs in det_health.c's stream parser calls, just before this one */
}
