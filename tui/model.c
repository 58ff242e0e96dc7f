/* model.c - the live view's model: rings, server aggregation, rates and the view queries. */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/decode.h"
#include "tui/model.h"

#define TUI_DEFAULT_ERROR_RATE 0.05
#define TUI_DEFAULT_RETRANS_RATE 0.05
#define TUI_DEFAULT_RESP_P99_S 5.0

static const char *const sort_names[TUI_SORT__COUNT] = {"worst", "bytes", "age", "retrans"};

const char *tui_sort_name(enum tui_sort s)
{
    return (unsigned)s < TUI_SORT__COUNT ? sort_names[s] : "?";
}

struct tui_model *tui_model_new(const struct tui_thresholds *th)
{
    struct tui_model *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->th.error_rate = th && th->error_rate > 0 ? th->error_rate : TUI_DEFAULT_ERROR_RATE;
    m->th.retrans_rate = th && th->retrans_rate > 0 ? th->retrans_rate : TUI_DEFAULT_RETRANS_RATE;
    m->th.resp_p99_s = th && th->resp_p99_s > 0 ? th->resp_p99_s : TUI_DEFAULT_RESP_P99_S;
    return m;
}

void tui_model_free(struct tui_model *m)
{
    free(m);
}

void tui_model_copy(struct tui_model *dst, const struct tui_model *src)
{
    memcpy(dst, src, sizeof(*dst));
}

static unsigned sev_index(enum severity s)
{
    return (unsigned)s <= SEV_ERROR ? (unsigned)s : SEV_ERROR;
}

static bool ep_valid(const struct endpoint *e)
{
    return e->ip.family == 4 || e->ip.family == 6;
}

/* The server row for ep: found, appended, or replacing the least recently active one. */
static struct tui_server *server_get(struct tui_model *m, const struct endpoint *ep, uint64_t ts)
{
    if (!ep_valid(ep))
        return NULL;
    for (size_t i = 0; i < m->nservers; i++)
        if (pkt_ep_eq(&m->servers[i].ep, ep))
            return &m->servers[i];
    struct tui_server *s;
    if (m->nservers < TUI_SERVERS) {
        s = &m->servers[m->nservers++];
    } else {
        s = &m->servers[0];
        for (size_t i = 1; i < m->nservers; i++)
            if (m->servers[i].last_active_ns < s->last_active_ns)
                s = &m->servers[i];
        m->servers_replaced++;
    }
    memset(s, 0, sizeof(*s));
    s->ep = *ep;
    s->last_active_ns = ts;
    return s;
}

static struct tui_problem *problem_slot(const struct tui_model *m, uint64_t flow_id)
{
    return (struct tui_problem *)&m->problems[flow_id & (TUI_PROBLEMS - 1)];
}

void tui_model_add_finding(struct tui_model *m, const struct finding *f)
{
    unsigned sev = sev_index(f->sev);
    m->findings[m->nfindings % TUI_FINDINGS] = *f;
    m->nfindings++;
    m->findings_by_sev[sev]++;
    if (f->flow_id) {
        struct tui_problem *p = problem_slot(m, f->flow_id);
        if (p->flow_id != f->flow_id) {
            p->flow_id = f->flow_id;
            p->worst = (enum severity)sev;
            p->count = 0;
        }
        if (sev >= (unsigned)p->worst || p->count == 0) { /* the worst problem, not the newest */
            p->kind = (int)f->kind;
            p->worst = (enum severity)sev;
        }
        p->count++;
    }
    struct tui_server *s = server_get(m, &f->server, f->ts_ns);
    if (s) {
        s->nfind[sev]++;
        if (!s->has_health && sev >= SEV_WARN && !s->bad_since_ns)
            s->bad_since_ns = f->ts_ns;
        if (f->ts_ns > s->last_active_ns)
            s->last_active_ns = f->ts_ns;
    }
}

/* A close that means the connection failed or was cut. */
static bool bad_close(enum flow_close c)
{
    return c == CLOSE_REFUSED || c == CLOSE_UNANSWERED || c == CLOSE_RST_CLIENT ||
           c == CLOSE_RST_SERVER;
}

static const struct tui_problem *problem_of(const struct tui_model *m, uint64_t flow_id)
{
    const struct tui_problem *p = problem_slot(m, flow_id);
    return flow_id && p->flow_id == flow_id ? p : NULL;
}

void tui_model_add_flow(struct tui_model *m, const struct flow_record *r)
{
    m->flows[m->nflows % TUI_FLOWS] = *r;
    m->nflows++;
    if (bad_close(r->close) || problem_of(m, r->flow_id)) {
        m->bad[m->nbad % TUI_BAD] = *r;
        m->nbad++;
    }
}

static float rate_or_zero(double v)
{
    return isnan(v) || v < 0 ? 0.0f : (float)v;
}

void tui_model_add_health(struct tui_model *m, const struct health_row *h)
{
    struct tui_server *s = server_get(m, &h->server, h->start_ns + h->len_ns);
    if (!s)
        return;
    s->has_health = true;
    s->last = *h;
    s->intervals++;
    s->attempts += h->attempts;
    s->established += h->established;
    s->resets += h->resets;
    s->tls_failed += h->failed_tls;
    if (tui_model_server_level(m, s) >= TUI_LEVEL_WARN) {
        if (!s->bad_since_ns)
            s->bad_since_ns = h->start_ns;
    } else {
        s->bad_since_ns = 0;
    }
    s->hist_err[s->hist_pos] = rate_or_zero(h->error_rate);
    s->hist_retr[s->hist_pos] = rate_or_zero(h->retrans_rate);
    s->hist_start[s->hist_pos] = h->start_ns;
    s->hist_pos = (s->hist_pos + 1) % TUI_HIST;
    if (s->hist_n < TUI_HIST)
        s->hist_n++;
    if (h->start_ns + h->len_ns > s->last_active_ns)
        s->last_active_ns = h->start_ns + h->len_ns;
}

void tui_model_add_tls(struct tui_model *m, const struct tls_record *t)
{
    m->tls[m->ntls % TUI_TLS] = *t;
    m->ntls++;
}

void tui_model_add_cert(struct tui_model *m, const struct cert_record *c)
{
    m->certs[m->ncerts % TUI_CERTS] = *c;
    m->ncerts++;
}

void tui_model_set_open(struct tui_model *m, const struct flow_record *flows, size_t n)
{
    if (n > TUI_OPEN)
        n = TUI_OPEN;
    if (n)
        memcpy(m->open, flows, n * sizeof(*flows));
    m->nopen = n;
}

void tui_rate_update(struct tui_rate *r, uint64_t t_ns, uint64_t packets, uint64_t bytes)
{
    if (!r->started || t_ns < r->t0_ns || packets < r->packets0 || bytes < r->bytes0) {
        r->started = true;
        r->t0_ns = t_ns;
        r->packets0 = packets;
        r->bytes0 = bytes;
        return;
    }
    uint64_t dt = t_ns - r->t0_ns;
    if (dt < TUI_RATE_WINDOW_NS)
        return;
    r->pps = (double)(packets - r->packets0) * 1e9 / (double)dt;
    r->mbps = (double)(bytes - r->bytes0) * 8.0 * 1e3 / (double)dt;
    r->valid = true;
    r->t0_ns = t_ns;
    r->packets0 = packets;
    r->bytes0 = bytes;
}

static void copy_text(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

void tui_model_set_status(struct tui_model *m, const struct tui_status *st, uint64_t wall_ns)
{
    m->st = *st;
    copy_text(m->source, sizeof(m->source), st->source);
    copy_text(m->filter, sizeof(m->filter), st->filter);
    copy_text(m->store_state, sizeof(m->store_state), st->store_state);
    m->st.source = NULL;
    m->st.filter = NULL;
    m->st.store_state = NULL;
    m->has_status = true;
    tui_rate_update(&m->rate, st->live ? wall_ns : st->now_ns, st->packets, st->bytes);
}

void tui_model_header_rate(const struct tui_model *m, double *pps, double *mbps)
{
    *pps = 0;
    *mbps = 0;
    if (!m->has_status)
        return;
    bool average = !m->rate.valid || (!m->st.live && m->st.replay_done);
    if (!average) {
        *pps = m->rate.pps;
        *mbps = m->rate.mbps;
    } else if (m->st.elapsed_ns > 0) {
        *pps = (double)m->st.packets * 1e9 / (double)m->st.elapsed_ns;
        *mbps = (double)m->st.bytes * 8.0 * 1e3 / (double)m->st.elapsed_ns;
    }
}

size_t tui_model_findings_kept(const struct tui_model *m)
{
    return m->nfindings < TUI_FINDINGS ? (size_t)m->nfindings : TUI_FINDINGS;
}

const struct finding *tui_model_finding_at(const struct tui_model *m, size_t i)
{
    if (i >= tui_model_findings_kept(m))
        return NULL;
    return &m->findings[(m->nfindings - 1 - i) % TUI_FINDINGS];
}

/* Case-insensitive: does hay contain needle? */
static bool ci_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return true;
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

static bool ep_matches(const struct endpoint *e, const char *filter)
{
    char buf[64];
    if (!ep_valid(e))
        return false;
    return ci_contains(pkt_endpoint_str(e, buf, sizeof(buf)), filter);
}

bool tui_model_flow_matches(const struct tui_flow_row *row, const char *filter)
{
    if (!filter || !*filter)
        return true;
    const struct flow_record *r = row->rec;
    if (ep_matches(&r->client, filter) || ep_matches(&r->server, filter))
        return true;
    if (ci_contains(row->open ? flow_state_name(r->state) : close_name(r->close), filter))
        return true;
    return row->last_kind >= 0 && ci_contains(fk_name((enum fkind)row->last_kind), filter);
}

bool tui_model_finding_matches(const struct finding *f, const char *filter)
{
    if (!filter || !*filter)
        return true;
    if ((f->has_client && ep_matches(&f->client, filter)) || ep_matches(&f->server, filter))
        return true;
    return ci_contains(fk_name(f->kind), filter) || ci_contains(sev_name(f->sev), filter);
}

bool tui_model_server_matches(const struct tui_server *s, const char *filter)
{
    return !filter || !*filter || ep_matches(&s->ep, filter);
}

static uint64_t row_retrans(const struct flow_record *r)
{
    uint64_t n = 0;
    for (int d = 0; d < 2; d++)
        n += r->data_retrans[d];
    return n;
}

/* Badness: worst finding severity, then a failed/cut close, then the number of TCP troubles
   (data retransmissions, and the events of the kinds fk_info marks flow_trouble). */
static uint64_t row_score(const struct tui_flow_row *row)
{
    const struct flow_record *r = row->rec;
    uint64_t s = 0;
    if (row->last_kind >= 0)
        s |= (uint64_t)(sev_index(row->worst) + 1) << 56;
    if (bad_close(r->close) && !row->open)
        s |= 1ull << 55;
    uint64_t ev = row->retrans;
    for (int k = 0; k < FK__COUNT; k++) {
        const struct fk_info *ki = fk_info((enum fkind)k);
        if (ki->flow_trouble && ki->tev >= 0 && ki->tev < TEV__COUNT)
            for (int d = 0; d < 2; d++)
                ev += r->ev[d][ki->tev];
    }
    if (ev > (1ull << 54) - 1)
        ev = (1ull << 54) - 1;
    return s | ev;
}

static void fill_row(const struct tui_model *m, const struct flow_record *r, bool open,
                     struct tui_flow_row *row)
{
    const struct tui_problem *p = problem_of(m, r->flow_id);
    uint64_t now = m->has_status ? m->st.now_ns : r->last_ts_ns;
    uint64_t end = open ? (now > r->last_ts_ns ? now : r->last_ts_ns) : r->last_ts_ns;
    row->rec = r;
    row->open = open;
    row->last_kind = p ? p->kind : -1;
    row->worst = p ? p->worst : SEV_INFO;
    row->age_ns = end > r->first_ts_ns ? end - r->first_ts_ns : 0;
    row->retrans = row_retrans(r);
    row->score = row_score(row);
}

static int cmp_id_desc(const struct tui_flow_row *a, const struct tui_flow_row *b)
{
    return a->rec->flow_id < b->rec->flow_id ? 1 : a->rec->flow_id > b->rec->flow_id ? -1 : 0;
}

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
    return a < b ? 1 : a > b ? -1 : 0;
}

static int cmp_worst(const void *pa, const void *pb)
{
    const struct tui_flow_row *a = pa, *b = pb;
    int c = cmp_u64_desc(a->score, b->score);
    return c ? c : cmp_id_desc(a, b);
}

static int cmp_bytes(const void *pa, const void *pb)
{
    const struct tui_flow_row *a = pa, *b = pb;
    int c = cmp_u64_desc(a->rec->bytes[0] + a->rec->bytes[1], b->rec->bytes[0] + b->rec->bytes[1]);
    return c ? c : cmp_id_desc(a, b);
}

static int cmp_age(const void *pa, const void *pb)
{
    const struct tui_flow_row *a = pa, *b = pb;
    int c = cmp_u64_desc(a->age_ns, b->age_ns);
    return c ? c : cmp_id_desc(a, b);
}

static int cmp_retrans(const void *pa, const void *pb)
{
    const struct tui_flow_row *a = pa, *b = pb;
    int c = cmp_u64_desc(a->retrans, b->retrans);
    return c ? c : cmp_worst(pa, pb);
}

/* For de-duplication: by flow_id, ended before open (the ended record is final). */
static int cmp_dedup(const void *pa, const void *pb)
{
    const struct tui_flow_row *a = pa, *b = pb;
    if (a->rec->flow_id != b->rec->flow_id)
        return a->rec->flow_id < b->rec->flow_id ? -1 : 1;
    return (int)a->open - (int)b->open;
}

size_t tui_model_flow_rows(const struct tui_model *m, enum tui_sort sort, const char *filter,
                           struct tui_flow_row *out, size_t max)
{
    static int (*const cmps[TUI_SORT__COUNT])(const void *, const void *) = {cmp_worst, cmp_bytes,
                                                                             cmp_age, cmp_retrans};
    size_t n = 0;
    size_t kept = m->nflows < TUI_FLOWS ? (size_t)m->nflows : TUI_FLOWS;
    for (size_t i = 0; i < kept && n < max; i++)
        fill_row(m, &m->flows[(m->nflows - 1 - i) % TUI_FLOWS], false, &out[n++]);
    kept = m->nbad < TUI_BAD ? (size_t)m->nbad : TUI_BAD;
    for (size_t i = 0; i < kept && n < max; i++)
        fill_row(m, &m->bad[(m->nbad - 1 - i) % TUI_BAD], false, &out[n++]);
    for (size_t i = 0; i < m->nopen && n < max; i++)
        fill_row(m, &m->open[i], true, &out[n++]);
    if (n > 1)
        qsort(out, n, sizeof(*out), cmp_dedup);
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        size_t next = i + 1; /* skip the other copies (bad ring, open snapshot) of this flow */
        while (next < n && out[next].rec->flow_id == out[i].rec->flow_id)
            next++;
        if (tui_model_flow_matches(&out[i], filter))
            out[w++] = out[i];
        i = next;
    }
    if (w > 1)
        qsort(out, w, sizeof(*out), cmps[(unsigned)sort < TUI_SORT__COUNT ? sort : 0]);
    return w;
}

size_t tui_model_finding_rows(const struct tui_model *m, const char *filter,
                              const struct finding **out, size_t max)
{
    size_t n = 0, kept = tui_model_findings_kept(m);
    for (size_t i = 0; i < kept && n < max; i++) {
        const struct finding *f = tui_model_finding_at(m, i);
        if (tui_model_finding_matches(f, filter))
            out[n++] = f;
    }
    return n;
}

static int level_rank(enum tui_level l)
{
    return (int)l;
}

/* Level of value v against threshold thr: over it is bad, over half of it is a warning. */
static enum tui_level level_of(double v, double thr)
{
    if (isnan(v) || thr <= 0)
        return TUI_LEVEL_OK;
    if (v > thr)
        return TUI_LEVEL_BAD;
    if (v > thr / 2)
        return TUI_LEVEL_WARN;
    return TUI_LEVEL_OK;
}

static enum tui_level level_max(enum tui_level a, enum tui_level b)
{
    return level_rank(a) >= level_rank(b) ? a : b;
}

void tui_model_add_incident(struct tui_model *m, const struct incident_record *r)
{
    size_t i;
    for (i = 0; i < m->nincidents; i++)
        if (m->incidents[i].id == r->id)
            break;
    /* closed at the end of the input: the problem was still there; keep showing it */
    if (r->event == IE_CLOSE && r->close_reason != ICR_END_OF_INPUT) {
        if (i < m->nincidents) {
            m->incidents[i] = m->incidents[m->nincidents - 1];
            m->nincidents--;
        }
        return;
    }
    if (r->event == IE_OPEN)
        m->incidents_opened++;
    if (r->cause != IC_SCAN)
        server_get(m, &r->server, r->ts_ns); /* its row exists, so it can show not ok */
    if (i == m->nincidents) {
        if (m->nincidents == TUI_INCIDENTS) {
            /* full: replace the least severe, oldest one */
            size_t v = 0;
            for (size_t k = 1; k < m->nincidents; k++)
                if (m->incidents[k].sev < m->incidents[v].sev ||
                    (m->incidents[k].sev == m->incidents[v].sev &&
                     m->incidents[k].since_ns < m->incidents[v].since_ns))
                    v = k;
            if (m->incidents[v].sev > r->sev)
                return;
            i = v;
        } else {
            m->nincidents++;
        }
    }
    m->incidents[i] = *r;
}

size_t tui_model_incident_rows(const struct tui_model *m, const struct incident_record **out,
                               size_t max)
{
    size_t n = 0;
    for (int sev = SEV_ERROR; sev >= SEV_INFO; sev--)
        for (size_t i = 0; i < m->nincidents && n < max; i++)
            if ((int)m->incidents[i].sev == sev)
                out[n++] = &m->incidents[i];
    return n;
}

int tui_model_server_incident(const struct tui_model *m, const struct endpoint *ep)
{
    int worst = -1;
    for (size_t i = 0; i < m->nincidents; i++) {
        const struct incident_record *r = &m->incidents[i];
        if (r->sev >= SEV_WARN && pkt_ep_eq(&r->server, ep) && (int)r->sev > worst)
            worst = (int)r->sev;
    }
    return worst;
}

/* The level of a server from its open incidents alone (NONE if it has none). */
static enum tui_level incident_level(const struct tui_model *m, const struct tui_server *s)
{
    int sev = tui_model_server_incident(m, &s->ep);
    return sev == SEV_ERROR ? TUI_LEVEL_BAD : sev == SEV_WARN ? TUI_LEVEL_WARN : TUI_LEVEL_NONE;
}

static enum tui_level server_level_health(const struct tui_model *m, const struct tui_server *s);

/* A server with an open incident is never ok, whatever its newest interval says. */
enum tui_level tui_model_server_level(const struct tui_model *m, const struct tui_server *s)
{
    enum tui_level h = server_level_health(m, s), i = incident_level(m, s);
    return (int)i > (int)h ? i : h;
}

static enum tui_level server_level_health(const struct tui_model *m, const struct tui_server *s)
{
    if (!s->has_health) {
        if (s->nfind[SEV_ERROR])
            return TUI_LEVEL_BAD;
        if (s->nfind[SEV_WARN])
            return TUI_LEVEL_WARN;
        return s->nfind[SEV_INFO] ? TUI_LEVEL_OK : TUI_LEVEL_NONE;
    }
    const struct health_row *h = &s->last;
    if (h->open_alerts)
        return TUI_LEVEL_BAD;
    enum tui_level l = level_of(h->error_rate, m->th.error_rate);
    l = level_max(l, level_of(h->retrans_rate, m->th.retrans_rate));
    if (h->resp_n)
        l = level_max(l, level_of(h->resp_p99, m->th.resp_p99_s));
    return l;
}

size_t tui_model_server_rows(const struct tui_model *m, const char *filter,
                             const struct tui_server **out, size_t max)
{
    size_t n = 0;
    /* worst level first; within a level, in order of appearance (stable) */
    for (int lvl = TUI_LEVEL_BAD; lvl >= TUI_LEVEL_NONE; lvl--)
        for (size_t i = 0; i < m->nservers && n < max; i++) {
            const struct tui_server *s = &m->servers[i];
            if ((int)tui_model_server_level(m, s) == lvl && tui_model_server_matches(s, filter))
                out[n++] = s;
        }
    return n;
}

double tui_model_server_attempts_per_s(const struct tui_server *s)
{
    if (!s->has_health || s->last.len_ns == 0)
        return 0;
    return (double)s->last.attempts * 1e9 / (double)s->last.len_ns;
}

size_t tui_model_server_history(const struct tui_server *s, int which, float *out, size_t n)
{
    if (n > s->hist_n)
        n = s->hist_n;
    const float *h = which ? s->hist_retr : s->hist_err;
    for (size_t i = 0; i < n; i++)
        out[i] = h[(s->hist_pos + TUI_HIST - n + i) % TUI_HIST];
    return n;
}

size_t tui_model_server_history_start(const struct tui_server *s, uint64_t *out, size_t n)
{
    if (n > s->hist_n)
        n = s->hist_n;
    for (size_t i = 0; i < n; i++)
        out[i] = s->hist_start[(s->hist_pos + TUI_HIST - n + i) % TUI_HIST];
    return n;
}

const struct tui_server *tui_model_find_server(const struct tui_model *m, const struct endpoint *ep)
{
    for (size_t i = 0; i < m->nservers; i++)
        if (pkt_ep_eq(&m->servers[i].ep, ep))
            return &m->servers[i];
    return NULL;
}

const struct flow_record *tui_model_find_flow(const struct tui_model *m, uint64_t flow_id,
                                              bool *open)
{
    size_t kept = m->nflows < TUI_FLOWS ? (size_t)m->nflows : TUI_FLOWS;
    if (open)
        *open = false;
    for (size_t i = 0; i < kept; i++)
        if (m->flows[i].flow_id == flow_id)
            return &m->flows[i];
    kept = m->nbad < TUI_BAD ? (size_t)m->nbad : TUI_BAD;
    for (size_t i = 0; i < kept; i++)
        if (m->bad[i].flow_id == flow_id)
            return &m->bad[i];
    for (size_t i = 0; i < m->nopen; i++)
        if (m->open[i].flow_id == flow_id) {
            if (open)
                *open = true;
            return &m->open[i];
        }
    return NULL;
}

const char *tui_fmt_bytes(uint64_t b, char *buf, size_t len)
{
    static const char units[] = "KMGTPE";
    double v = (double)b;
    if (b < 10000) {
        snprintf(buf, len, "%" PRIu64, b);
        return buf;
    }
    for (size_t u = 0; u < sizeof(units) - 1; u++) {
        v /= 1024;
        if (v < 100) {
            snprintf(buf, len, "%.1f%c", v, units[u]);
            return buf;
        }
        if (v < 10000 || u == sizeof(units) - 2) {
            snprintf(buf, len, "%.0f%c", v, units[u]);
            return buf;
        }
    }
    return buf;
}

const char *tui_fmt_dur(uint64_t ns, char *buf, size_t len)
{
    uint64_t s = ns / 1000000000u;
    if (ns < 1000000000u)
        snprintf(buf, len, "%" PRIu64 "ms", ns / 1000000u);
    else if (s < 60)
        snprintf(buf, len, "%.1fs", (double)ns / 1e9);
    else if (s < 3600)
        snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
    else if (s < 100 * 3600)
        snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
    else
        snprintf(buf, len, "%" PRIu64 "d", s / 86400);
    return buf;
}

const char *tui_fmt_ms(double s, char *buf, size_t len)
{
    if (isnan(s) || s < 0)
        snprintf(buf, len, "-");
    else if (s < 0.0001)
        snprintf(buf, len, "%.0fus", s * 1e6);
    else if (s < 0.1)
        snprintf(buf, len, "%.1fms", s * 1e3);
    else if (s < 1)
        snprintf(buf, len, "%.0fms", s * 1e3);
    else
        snprintf(buf, len, "%.2fs", s);
    return buf;
}

const char *tui_fmt_clock(uint64_t ts_ns, char *buf, size_t len)
{
    time_t t = (time_t)(ts_ns / 1000000000u);
    struct tm tmv;
    if (!localtime_r(&t, &tmv)) {
        snprintf(buf, len, "?");
        return buf;
    }
    snprintf(buf, len, "%02d:%02d:%02d.%03u", tmv.tm_hour, tmv.tm_min, tmv.tm_sec,
             (unsigned)(ts_ns / 1000000u % 1000u));
    return buf;
}

static const char *fmt_date(int64_t secs, char *buf, size_t len)
{
    time_t t = (time_t)secs;
    struct tm tmv;
    if (!gmtime_r(&t, &tmv)) {
        snprintf(buf, len, "?");
        return buf;
    }
    if (strftime(buf, len, "%Y-%m-%d", &tmv) == 0)
        snprintf(buf, len, "?");
    return buf;
}


/* Timeline builder: a bounded array being filled. */
struct tl {
    struct tui_event *ev; /* output */
    size_t n;             /* used */
    size_t max;           /* capacity */
};

static void tl_add(struct tl *t, uint64_t ts, int sev, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void tl_add(struct tl *t, uint64_t ts, int sev, const char *fmt, ...)
{
    if (t->n >= t->max)
        return;
    struct tui_event *e = &t->ev[t->n++];
    va_list ap;
    e->ts_ns = ts;
    e->sev = sev;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof(e->text), fmt, ap);
    va_end(ap);
}

static const char *side_name(int dir)
{
    return dir == DIR_C2S ? "client" : dir == DIR_S2C ? "server" : "unknown side";
}

static void tl_handshake(struct tl *t, const struct flow_record *r)
{
    char c[64], s[64], a[24], b[24];
    pkt_endpoint_str(&r->client, c, sizeof(c));
    pkt_endpoint_str(&r->server, s, sizeof(s));
    if (!r->saw_syn) {
        tl_add(t, r->first_ts_ns, -1,
               "first packet (frame %" PRIu64 "): picked up mid-stream, "
               "no handshake seen",
               r->first_frame);
    } else if (r->syn_count > 1) {
        tl_add(t, r->first_ts_ns, -1, "SYN %s -> %s (frame %" PRIu64 "); %u SYNs sent (%u retries)",
               c, s, r->first_frame, r->syn_count, r->syn_count - 1);
    } else {
        tl_add(t, r->first_ts_ns, -1, "SYN %s -> %s (frame %" PRIu64 ")", c, s, r->first_frame);
    }
    if (r->saw_syn && r->hs_rtt_server_ns >= 0) {
        /* the server RTT runs from the SYN the SYN-ACK answers (a retry, not the first SYN) */
        uint64_t syn = r->hs_syn_ts_ns ? r->hs_syn_ts_ns : r->first_ts_ns;
        uint64_t ts = syn + (uint64_t)r->hs_rtt_server_ns;
        tl_add(t, ts, -1, "SYN-ACK from server after %s%s",
               tui_fmt_ms((double)r->hs_rtt_server_ns / 1e9, a, sizeof(a)),
               r->synack_count > 1 ? " (SYN-ACK retransmitted)" : "");
        if (r->hs_rtt_client_ns >= 0)
            tl_add(t, ts + (uint64_t)r->hs_rtt_client_ns, -1,
                   "ACK from client: handshake complete (client side %s, total %s)",
                   tui_fmt_ms((double)r->hs_rtt_client_ns / 1e9, a, sizeof(a)),
                   tui_fmt_ms((double)(r->hs_rtt_server_ns + r->hs_rtt_client_ns) / 1e9, b,
                              sizeof(b)));
    }
    if (r->one_direction)
        tl_add(t, r->first_ts_ns, -1, "only one direction of this flow was captured");
}

static void tl_end(struct tl *t, const struct tui_model *m, const struct flow_record *r, bool open)
{
    char b0[24], b1[24];
    uint64_t rc = r->data_retrans[DIR_C2S], rs = r->data_retrans[DIR_S2C];
    if (open) {
        uint64_t now = m->has_status && m->st.now_ns > r->last_ts_ns ? m->st.now_ns : r->last_ts_ns;
        tl_add(t, now, -1,
               "still open (%s): client sent %" PRIu64 " pkts/%s, server %" PRIu64
               " pkts/%s; data retransmissions c->s %" PRIu64 ", s->c %" PRIu64,
               flow_state_name(r->state), r->packets[0], tui_fmt_bytes(r->bytes[0], b0, 24),
               r->packets[1], tui_fmt_bytes(r->bytes[1], b1, 24), rc, rs);
        return;
    }
    tl_add(t, r->last_ts_ns, bad_close(r->close) ? SEV_ERROR : -1,
           "ended: %s; client sent %" PRIu64 " pkts/%s, server %" PRIu64
           " pkts/%s; data retransmissions c->s %" PRIu64 ", s->c %" PRIu64,
           close_name(r->close), r->packets[0], tui_fmt_bytes(r->bytes[0], b0, 24), r->packets[1],
           tui_fmt_bytes(r->bytes[1], b1, 24), rc, rs);
}

/*
 * When the handshake ended: ClientHello + duration when known; else the time of the flow's
 * newest TLS failure finding (a failed handshake has no duration); else the ClientHello time.
 */
static uint64_t tls_end_ts(const struct tui_model *m, const struct tls_record *x)
{
    if (x->duration_ns >= 0)
        return x->ts_ns + (uint64_t)x->duration_ns;
    for (size_t i = 0; i < tui_model_findings_kept(m); i++) {
        const struct finding *f = tui_model_finding_at(m, i);
        if (f->flow_id == x->flow_id && fk_info(f->kind)->tls_hs_failure && f->ts_ns >= x->ts_ns)
            return f->ts_ns;
    }
    return x->ts_ns;
}

static void tl_tls(struct tl *t, const struct tui_model *m, const struct tls_record *x)
{
    char d[24];
    char vb[2][24];
    uint64_t end = tls_end_ts(m, x);
    tl_add(t, x->ts_ns, -1, "TLS ClientHello: SNI %s, up to %s%s%s, JA4 %s",
           x->sni[0] ? x->sni : "(none)", tls_version_name(x->client_version, vb[0], sizeof(vb[0])),
           x->alpn[0] ? ", ALPN " : "", x->alpn, x->ja4[0] ? x->ja4 : "-");
    if (x->version)
        tl_add(t, x->ts_ns, -1, "TLS ServerHello: %s, cipher %s (0x%04x)%s",
               tls_version_name(x->version, vb[1], sizeof(vb[1])),
               tls_cipher_name(x->cipher, d, sizeof(d)), x->cipher,
               x->hello_retry ? " (after a HelloRetryRequest)" : "");
    switch (x->outcome) {
    case TLS_COMPLETED:
        tl_add(t, end, -1, "TLS handshake completed in %s",
               tui_fmt_ms(x->duration_ns >= 0 ? (double)x->duration_ns / 1e9 : NAN, d, sizeof(d)));
        break;
    case TLS_FAILED_ALERT:
        tl_add(t, end, SEV_ERROR, "TLS handshake failed: %s alert %s (%d) from the %s",
               x->alert_level == 2 ? "fatal" : "warning", tls_alert_name(x->alert_desc),
               x->alert_desc, side_name(x->alert_from));
        break;
    case TLS_RESET:
        tl_add(t, end, SEV_ERROR, "TLS handshake reset by the %s", side_name(x->alert_from));
        break;
    case TLS_IN_PROGRESS:
        tl_add(t, end, -1, "TLS handshake still in progress");
        break;
    case TLS_REJECTED_INFERRED:
        tl_add(t, end, SEV_ERROR,
               "TLS 1.3 handshake rejected by the client (inferred from record sizes)");
        break;
    default:
        tl_add(t, end, SEV_ERROR, "TLS handshake did not complete: %s%s",
               tls_outcome_name(x->outcome), x->inferred ? " (inferred)" : "");
        break;
    }
}

static void tl_cert(struct tl *t, const struct cert_record *c)
{
    char nb[16], na[16];
    tl_add(t, c->ts_ns, -1, "certificate %d: %s; issuer %s; valid %s..%s; SANs %s; %s %d%s",
           c->chain_pos, c->subject, c->issuer,
           c->bad_not_before ? "(invalid date)" : fmt_date(c->not_before, nb, sizeof(nb)),
           c->bad_not_after ? "(invalid date)" : fmt_date(c->not_after, na, sizeof(na)),
           c->sans[0] ? c->sans : "-", c->key_type, c->key_bits,
           c->self_signed ? ", self-signed" : "");
}

size_t tui_model_timeline(const struct tui_model *m, uint64_t flow_id, struct tui_event *out,
                          size_t max)
{
    struct tl t = {out, 0, max};
    bool open;
    const struct flow_record *r = tui_model_find_flow(m, flow_id, &open);
    if (r)
        tl_handshake(&t, r);
    size_t kept = tui_model_findings_kept(m);
    for (size_t i = kept; i-- > 0;) { /* oldest first */
        const struct finding *f = tui_model_finding_at(m, i);
        if (f->flow_id == flow_id)
            tl_add(&t, f->ts_ns, (int)sev_index(f->sev), "%s: %s", fk_name(f->kind), f->detail);
    }
    kept = m->ntls < TUI_TLS ? (size_t)m->ntls : TUI_TLS;
    for (size_t i = 0; i < kept; i++)
        if (m->tls[i].flow_id == flow_id)
            tl_tls(&t, m, &m->tls[i]);
    kept = m->ncerts < TUI_CERTS ? (size_t)m->ncerts : TUI_CERTS;
    for (size_t i = 0; i < kept; i++)
        if (m->certs[i].flow_id == flow_id)
            tl_cert(&t, &m->certs[i]);
    if (r)
        tl_end(&t, m, r, open);
    /* stable insertion sort by time: events at the same instant keep their logical order */
    for (size_t i = 1; i < t.n; i++) {
        struct tui_event e = out[i];
        size_t j = i;
        while (j > 0 && out[j - 1].ts_ns > e.ts_ns) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = e;
    }
    return t.n;
}
