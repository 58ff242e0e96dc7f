/*
 * det_health.c - server health: per request response time (HTTP/1.x framing where in the
 * clear, request/response turn-taking for TLS and other protocols), slow_response findings,
 * per-server per-interval health rows and alert rules with hysteresis (health_alert findings
 * on open and on close). Intervals close by capture time, never by the wall clock.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/alert.h"
#include "analyzers/det.h"
#include "analyzers/health.h"
#include "analyzers/http.h"
#include "analyzers/sketch.h"
#include "capture/decode.h"
#include "capture/log.h"
#include "capture/rd.h"

#define HL_MAX_SERVERS DET_MAX_SERVERS /* server endpoints tracked at once (idle ones give way) */
#define HL_HASH_SLOTS 2048           /* open-addressing slots for the server table (power of two) */
_Static_assert(HL_HASH_SLOTS >= 2 * HL_MAX_SERVERS, "the server hash stays at most half full");
#define HL_PIPELINE 4                /* requests awaiting a response per connection */
#define HL_SLOW_PER_FLOW 4           /* slow_response findings per connection (then only counted) */
#define HL_RESYNC_MAX 4              /* HTTP framing restarts after capture gaps, per connection */
#define HL_MAX_FIRST_GAP (16u << 20) /* bytes missing before the first data seen, at most */
#define HL_HOLD_NS 1000000000ull     /* a hole not filled within 1 s of capture time is lost */
#define HL_HOLD_MAX (64u << 10)      /* ... or once this many bytes wait behind it */
#define HL_CLEAR_RATIO 0.8           /* default: clear at or below 80 % of the threshold */
#define HL_CLEAR_INTERVALS 3         /* default hold time, in intervals */
/* fewer data segments in an interval: no retransmission rate for the alert (1 of 2 is not 50 %) */
#define HL_RETRANS_MIN_SEGS 20
/* fewer attempts (or HTTP responses) in an interval: that part of the error rate is no data */
#define HL_ERR_MIN_SAMPLES 3
#define TEV_BIT(e) (1u << (e))

/* How a flow's response times are measured. */
enum hl_mode {
    HM_UNKNOWN = 0, /* no payload yet */
    HM_HTTP,        /* HTTP/1.x framing */
    HM_TLS,         /* TLS records, turn-taking on application data */
    HM_TURNS,       /* turn-taking on any payload */
    HM_OFF,         /* nothing measured (switched protocols) */
};

/* One server endpoint: the interval being counted and the alert states. */
struct hl_srv {
    struct endpoint ep;               /* the server endpoint */
    uint32_t gen;                     /* bumped when the slot is given to another endpoint */
    uint64_t last_ns;                 /* last time something was counted for it */
    bool active;                      /* something was counted this interval */
    struct health_row row;            /* counters of the current interval */
    uint64_t responses;               /* final HTTP responses this interval */
    int64_t outstanding;              /* HTTP requests awaiting a response right now */
    bool cert_bad;                    /* an expiring or expired certificate was reported */
    double cert_days;                 /* its days left (NAN if not stated) */
    struct sketch resp;               /* response times (s) of this interval */
    struct sketch hs;                 /* handshake RTTs (s) of this interval */
    struct alert_state al[AR__COUNT]; /* alert rule states */
};

/* Global state of the detector. */
struct hl {
    double slow_s;                    /* slow_response threshold (s) */
    struct alert_cfg rule[AR__COUNT]; /* alert rule settings */
    uint64_t iv_ns;                   /* interval length */
    uint32_t idle_max;                /* idle intervals closed one by one while alerts are open */
    bool started;                     /* iv_start is set */
    uint64_t iv_start;                /* start of the interval being counted */
    uint64_t last_ns;                 /* newest capture time seen */
    size_t nsrv;                      /* servers in use */
    uint64_t srv_overflow;            /* lookups that found the table full of busy servers */
    uint64_t srv_evicted;             /* idle servers dropped to make room */
    struct hl_srv *srv;               /* HL_MAX_SERVERS entries */
    uint16_t slot[HL_HASH_SLOTS];     /* server index + 1, 0 = empty */
};

/* A request awaiting its response. */
struct hl_req {
    uint64_t end_ns; /* time of its last byte */
    uint64_t frame;  /* frame of its last byte */
    bool head;       /* HEAD: the response has no body */
    bool connect;    /* CONNECT: a 2xx answer opens a tunnel */
    bool answered;   /* its first response byte was seen (after an interim 1xx) */
};

/* TLS record walker for one direction. */
struct hl_tls {
    uint8_t hdr[5];  /* record header bytes collected */
    uint8_t hlen;    /* bytes in hdr[] */
    uint8_t type;    /* content type of the record being walked */
    uint16_t remain; /* body bytes of that record still to come */
    uint16_t app;    /* application_data records started */
    bool ticket;     /* the record being walked is taken for a TLS 1.3 session ticket */
};

/* How to read one call's bytes of a TLS stream, and what they held. */
struct hl_tls_walk {
    bool skip_first_app; /* in: the first application_data record is the client's Finished */
    bool tickets;        /* in: small application_data records may be session tickets */
    bool bad;            /* out: not TLS records */
    bool app;            /* out: application data that counts as a turn */
    bool first_app;      /* out: the first application_data record started here */
};

/* A TLS 1.3 server record this small, this soon after the client's Finished, is a ticket. */
#define HL_TICKET_MAX_LEN 1024
#define HL_TICKET_WINDOW_NS 10000000ull /* 10 ms, plus twice the handshake RTT */

/* Per-flow state every flow has (zeroed when the flow starts): counting, not parsing. */
struct hl_slice {
    uint32_t lazy;                  /* handle of the flow's struct hl_flow (det_lazy), 0 = none */
    uint16_t srv;                   /* server index + 1; 0 = not tracked */
    bool srv_done;                  /* srv was looked up */
    bool counted_attempt;           /* the first SYN was counted */
    bool counted_est;               /* the handshake completion was counted */
    bool counted_reset;             /* a reset during the handshake was counted */
    bool rtt_known;                 /* rec.hs_rtt_ns was counted in the server's quantiles */
    uint32_t srv_gen;               /* the server slot's generation when it was looked up */
};

/*
 * Per-flow response timing state, taken from the pool at the flow's first payload (a
 * SYN-only flow, or one without data, never takes one).
 */
struct hl_flow {
    uint16_t srv;                   /* copy of the slice's srv (fixed from the first packet) */
    uint32_t srv_gen;               /* copy of the slice's srv_gen */
    uint64_t hs_rtt_ns;             /* rec.hs_rtt_ns once counted (rtt_known), else 0;
                                       refreshed every packet */
    uint8_t mode;                   /* enum hl_mode */
    bool seq_known[2];              /* next_seq[] is valid */
    bool waiting;                   /* turn-taking: client data awaits an answer */
    bool slow_pending;              /* HTTP: a slow first byte awaits its status line */
    bool tls13;                     /* TLS: the server encrypted its flight (TLS 1.3) */
    uint8_t nslow;                  /* slow_response findings written for this flow */
    uint8_t resyncs;                /* HTTP framing restarts after capture gaps */
    uint8_t nreq;                   /* requests in req[] */
    uint8_t rq_head;                /* index of the oldest request */
    uint64_t next_seq[2];           /* next relative sequence per direction */
    bool held[2];                   /* a segment ahead of a hole is held (not fed) */
    uint32_t held_len[2];           /* bytes held from held_seq on */
    uint64_t held_seq[2];           /* relative sequence of the first byte held */
    uint64_t held_ns[2];            /* when the first held segment arrived */
    uint64_t fin_ns;                /* TLS 1.3: when the client's Finished was sent */
    bool tickets_done;              /* TLS 1.3: the server sent data other than tickets */
    uint64_t c_last_ns;             /* turn-taking: last client data byte time */
    uint64_t c_last_frame;          /* and its frame */
    double slow_s;                  /* the slow first byte's response time */
    uint64_t slow_frames[2];        /* request end and response start frames */
    struct hl_req req[HL_PIPELINE]; /* requests awaiting a response, oldest first */
    union {
        struct http_parser hp[2]; /* HTTP: per direction */
        struct hl_tls tls[2];     /* TLS: per direction */
    } u;                          /* the parser of the flow's mode */
};

static struct hl *hl_of(struct det *d)
{
    return d->priv;
}

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
static uint16_t hl_server(struct hl *h, const struct endpoint *e)
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

static struct hl_srv *hl_srv_at(struct hl *h, uint16_t srv, uint32_t gen)
{
    if (!srv)
        return NULL;
    struct hl_srv *s = &h->srv[srv - 1];
    return s->gen == gen ? s : NULL; /* the slot went to another server meanwhile */
}

static struct hl_srv *hl_srv_of(struct hl *h, const struct hl_flow *st)
{
    return hl_srv_at(h, st->srv, st->srv_gen);
}

/* ---- findings ---- */

static void hl_num(char *buf, size_t len, double v)
{
    if (isnan(v) || isinf(v))
        snprintf(buf, len, "null");
    else
        snprintf(buf, len, "%.6g", v);
}

/*
 * A slow_response finding for flow f (state st). response_s < 0: no response before the flow
 * ended. At most HL_SLOW_PER_FLOW per connection; the rest are counted in the health rows.
 */
static void hl_emit_slow(struct det *d, const struct flow *f, struct hl_flow *st, uint64_t ts,
                         double response_s, double waited_s, int status, const char *proto,
                         const uint64_t *frames, int nframes)
{
    struct hl *h = hl_of(d);
    if (st->nslow >= HL_SLOW_PER_FLOW)
        return;
    st->nslow++;
    struct finding fd;
    char thr[32], rs[32];
    det_finding_init(&fd, f, FK_SLOW_RESPONSE, SEV_WARN, ts);
    fd.confidence = 1.0f;
    for (int i = 0; i < nframes && i < FINDING_FRAMES_MAX; i++)
        if (frames[i])
            fd.frames[fd.nframes++] = frames[i];
    hl_num(thr, sizeof(thr), h->slow_s);
    if (response_s >= 0) {
        hl_num(rs, sizeof(rs), response_s);
        if (status > 0)
            snprintf(fd.detail, sizeof(fd.detail),
                     "slow response: the server's %s response (status %d) began %.3f s after the "
                     "end of the request (threshold %s s); check the application's own latency "
                     "and what it waits on",
                     proto, status, response_s, thr);
        else
            snprintf(fd.detail, sizeof(fd.detail),
                     "slow response: the server's %s answer began %.3f s after the end of the "
                     "request (threshold %s s); check the application's own latency and what it "
                     "waits on",
                     proto, response_s, thr);
    } else {
        hl_num(rs, sizeof(rs), waited_s);
        snprintf(fd.detail, sizeof(fd.detail),
                 "no response: the %s request was not answered in the %.3f s before the "
                 "connection ended (threshold %s s); the server may be hung or overloaded",
                 proto, waited_s, thr);
    }
    fx_copy(fd.fx.slow.protocol, sizeof(fd.fx.slow.protocol), proto);
    fd.fx.slow.response_s = response_s;
    fd.fx.slow.waited_s = waited_s;
    fd.fx.slow.threshold_s = h->slow_s;
    fd.fx.slow.status = status;
    if (st->nslow == HL_SLOW_PER_FLOW) {
        size_t n = strlen(fd.detail);
        snprintf(fd.detail + n, sizeof(fd.detail) - n,
                 " (further slow responses on this connection are only counted)");
    }
    det_emit(d, &fd);
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
static void hl_advance(struct det *d, uint64_t now)
{
    struct hl *h = hl_of(d);
    if (now > h->last_ns)
        h->last_ns = now;
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

/* ---- response timing ---- */

static void hl_sample(struct hl_srv *s, double resp_s)
{
    if (!s)
        return;
    sketch_add(&s->resp, resp_s);
    s->active = true;
}

/* Drop the requests awaiting a response (the flow left HTTP mode or ended). */
static void hl_drop_requests(struct hl_srv *s, struct hl_flow *st)
{
    if (s)
        s->outstanding -= st->nreq;
    st->nreq = 0;
    st->rq_head = 0;
}

/* Leave HTTP/TLS framing: measure by turn-taking from the next client data on. */
static void hl_to_turns(struct hl *h, struct hl_flow *st)
{
    hl_drop_requests(hl_srv_of(h, st), st);
    st->slow_pending = false;
    st->waiting = false;
    st->mode = HM_TURNS;
}

static void hl_http_request(struct hl *h, struct hl_flow *st, const struct http_msg *m,
                            const struct pkt *p)
{
    struct hl_srv *s = hl_srv_of(h, st);
    if (m->ev != HTTP_EV_END)
        return;
    if (st->nreq == HL_PIPELINE) {
        hl_to_turns(h, st); /* pipelined deeper than we follow: fall back */
        return;
    }
    struct hl_req *q = &st->req[(st->rq_head + st->nreq) % HL_PIPELINE];
    q->end_ns = p->ts_ns;
    q->frame = p->frame;
    q->head = m->head;
    q->connect = m->connect;
    q->answered = false;
    st->nreq++;
    if (s) {
        s->row.http_requests++;
        s->outstanding++;
        s->active = true;
    }
}

static void hl_http_response(struct det *d, const struct flow *f, struct hl_flow *st,
                             const struct http_msg *m, const struct pkt *p)
{
    struct hl *h = hl_of(d);
    struct hl_srv *s = hl_srv_of(h, st);
    struct hl_req *q = st->nreq ? &st->req[st->rq_head] : NULL;
    switch (m->ev) {
    case HTTP_EV_BEGIN:
        if (!q)
            break; /* an answer to no request we saw (e.g. 408 on an idle connection) */
        st->u.hp[DIR_S2C].no_body = q->head;
        st->u.hp[DIR_S2C].connect_req = q->connect;
        if (q->answered)
            break; /* the final response after an interim 1xx */
        q->answered = true;
        double rs = (double)(p->ts_ns - q->end_ns) / 1e9;
        hl_sample(s, rs);
        if (rs > h->slow_s) {
            st->slow_pending = true;
            st->slow_s = rs;
            st->slow_frames[0] = q->frame;
            st->slow_frames[1] = p->frame;
        }
        break;
    case HTTP_EV_HEADERS:
        if (m->interim)
            break;
        if (s) {
            s->responses++;
            if (m->status >= 500 && m->status <= 599)
                s->row.http_5xx++;
            s->active = true;
        }
        if (st->slow_pending) {
            st->slow_pending = false;
            if (s)
                s->row.slow_responses++;
            hl_emit_slow(d, f, st, p->ts_ns, st->slow_s, 0, m->status, "HTTP", st->slow_frames, 2);
        }
        break;
    case HTTP_EV_END:
        if (m->interim)
            break;
        if (q) {
            st->rq_head = (uint8_t)((st->rq_head + 1) % HL_PIPELINE);
            st->nreq--;
            if (s)
                s->outstanding--;
        }
        if (m->upgrade) {
            hl_drop_requests(s, st);
            st->mode = HM_OFF;
        }
        break;
    default:
        break;
    }
}

/* Feed new in-order bytes of one direction to the HTTP framer. */
static void hl_http_bytes(struct det *d, const struct flow *f, struct hl_flow *st, int dir,
                          const struct pkt *p, const uint8_t *b, size_t n)
{
    struct hl *h = hl_of(d);
    size_t off = 0;
    while (st->mode == HM_HTTP) {
        struct http_msg m;
        int r = http_parse(&st->u.hp[dir], b + off, n - off, &m);
        if (r < 0) {
            hl_to_turns(h, st);
            return;
        }
        off += (size_t)r;
        if (m.ev == HTTP_EV_NONE)
            return;
        if (dir == DIR_C2S)
            hl_http_request(h, st, &m, p);
        else
            hl_http_response(d, f, st, &m, p);
    }
}

/*
 * Walk TLS records (RFC 8446 5.1) over new bytes and say whether they carry application data
 * that counts as a turn (w->app). In TLS 1.3 the client's first application_data record is its
 * Finished (skip_first_app), and the server's first small ones may be NewSessionTickets sent
 * on that Finished, not answers (tickets).
 */
static void hl_tls_bytes(struct hl_tls *t, const uint8_t *b, size_t n, struct hl_tls_walk *w)
{
    struct rd r = rd_init(b, n);
    while (rd_has(&r, 1)) {
        if (t->remain == 0 && t->hlen < 5) {
            t->hdr[t->hlen++] = rd_u8(&r);
            if (t->hlen < 5)
                continue;
            struct rd hr = rd_init(t->hdr, 5);
            t->type = rd_u8(&hr);
            uint8_t major = rd_u8(&hr);
            rd_skip(&hr, 1);
            uint16_t len = rd_u16(&hr);
            if (t->type < 20 || t->type > 24 || major != 3 || len > 18432) {
                w->bad = true;
                return;
            }
            t->remain = len;
            t->ticket = false;
            if (t->type == 23) {
                if (t->app < UINT16_MAX)
                    t->app++;
                w->first_app |= t->app == 1;
                t->ticket = w->tickets && len <= HL_TICKET_MAX_LEN;
            }
            if (t->remain == 0)
                t->hlen = 0;
        } else {
            size_t k = rd_left(&r) < t->remain ? rd_left(&r) : t->remain;
            rd_skip(&r, k);
            t->remain = (uint16_t)(t->remain - k);
            if (t->remain == 0)
                t->hlen = 0;
        }
        if (t->type == 23 && !t->ticket && !(w->skip_first_app && t->app == 1))
            w->app = true;
    }
}

/* Turn-taking: client data opens a turn, the server's first data after it answers it. */
static void hl_turn(struct det *d, const struct flow *f, struct hl_flow *st, int dir,
                    const struct pkt *p, const char *proto)
{
    struct hl *h = hl_of(d);
    if (dir == DIR_C2S) {
        st->waiting = true;
        st->c_last_ns = p->ts_ns;
        st->c_last_frame = p->frame;
        return;
    }
    if (!st->waiting)
        return;
    st->waiting = false;
    struct hl_srv *s = hl_srv_of(h, st);
    double rs = (double)(p->ts_ns - st->c_last_ns) / 1e9;
    hl_sample(s, rs);
    if (rs > h->slow_s) {
        uint64_t fr[2] = {st->c_last_frame, p->frame};
        if (s)
            s->row.slow_responses++;
        hl_emit_slow(d, f, st, p->ts_ns, rs, 0, 0, proto, fr, 2);
    }
}

/* New in-order payload bytes of one direction. */
static void hl_payload(struct det *d, const struct flow *f, struct hl_flow *st, int dir,
                       const struct pkt *p, const uint8_t *b, size_t n)
{
    if (st->mode == HM_UNKNOWN) {
        struct rd first = rd_init(b, n);
        if (dir == DIR_S2C) {
            st->mode = HM_TURNS;            /* the server spoke first: not HTTP, not TLS */
        } else if (rd_u8(&first) == 0x16) { /* a TLS handshake record */
            st->mode = HM_TLS;
            memset(&st->u.tls, 0, sizeof(st->u.tls));
        } else if (http_looks_like_request(b, n)) {
            st->mode = HM_HTTP;
            http_init(&st->u.hp[DIR_C2S], HTTP_ROLE_REQUEST);
            http_init(&st->u.hp[DIR_S2C], HTTP_ROLE_RESPONSE);
        } else {
            st->mode = HM_TURNS;
        }
    }
    switch (st->mode) {
    case HM_HTTP:
        hl_http_bytes(d, f, st, dir, p, b, n);
        break;
    case HM_TLS: {
        /* TLS 1.3: the server encrypts (type 23) before the client sent any application data */
        if (dir == DIR_S2C && st->u.tls[DIR_C2S].app == 0 && !st->tls13) {
            struct hl_tls probe = st->u.tls[DIR_S2C];
            struct hl_tls_walk pw = {0};
            hl_tls_bytes(&probe, b, n, &pw);
            st->tls13 = pw.app && !pw.bad;
        }
        struct hl_tls_walk w = {0};
        w.skip_first_app = dir == DIR_C2S && st->tls13;
        w.tickets = dir == DIR_S2C && st->tls13 && st->fin_ns && !st->tickets_done &&
                    p->ts_ns - st->fin_ns <= HL_TICKET_WINDOW_NS + 2 * st->hs_rtt_ns;
        hl_tls_bytes(&st->u.tls[dir], b, n, &w);
        if (dir == DIR_C2S && st->tls13 && w.first_app)
            st->fin_ns = p->ts_ns;
        if (dir == DIR_S2C && w.app && st->fin_ns)
            st->tickets_done = true; /* an answer after the Finished: no more tickets */
        if (w.bad) {
            hl_to_turns(hl_of(d), st);
            hl_turn(d, f, st, dir, p, "TCP");
        } else if (w.app) {
            hl_turn(d, f, st, dir, p, "TLS");
        }
        break;
    }
    case HM_TURNS:
        hl_turn(d, f, st, dir, p, "TCP");
        break;
    default:
        break;
    }
}

/*
 * n bytes of direction dir were never captured: true when the flow's parser can step over them
 * (inside an HTTP body of known length, inside a TLS record, or timing by turns anyway).
 */
static bool hl_skip(struct det *d, const struct flow *f, struct hl_flow *st, int dir,
                    const struct pkt *p, uint64_t n)
{
    switch (st->mode) {
    case HM_HTTP: {
        struct http_msg m;
        if (!http_skip(&st->u.hp[dir], n, &m))
            return false;
        if (m.ev == HTTP_EV_END && dir == DIR_C2S)
            hl_http_request(hl_of(d), st, &m, p);
        else if (m.ev == HTTP_EV_END)
            hl_http_response(d, f, st, &m, p);
        return true;
    }
    case HM_TLS: {
        struct hl_tls *t = &st->u.tls[dir];
        if (t->hlen < 5 || n > t->remain)
            return false;
        t->remain = (uint16_t)(t->remain - n);
        if (t->remain == 0)
            t->hlen = 0;
        return true;
    }
    case HM_TURNS:
    case HM_OFF:
        return true;
    default:
        return false;
    }
}

/*
 * Whole segments of direction dir were never captured in an HTTP flow: start that direction's
 * framing afresh at the next bytes (they must begin a message, else the flow goes to turns).
 * Requests still awaiting an answer cannot be matched any more after a lost server segment,
 * so they are dropped. False when not HTTP or after HL_RESYNC_MAX restarts.
 */
static bool hl_resync(struct det *d, const struct flow *f, struct hl_flow *st, int dir,
                      const struct pkt *p)
{
    struct hl *h = hl_of(d);
    if (st->mode != HM_HTTP || st->resyncs >= HL_RESYNC_MAX)
        return false;
    st->resyncs++;
    http_init(&st->u.hp[dir], dir == DIR_C2S ? HTTP_ROLE_REQUEST : HTTP_ROLE_RESPONSE);
    if (dir == DIR_S2C) {
        struct hl_srv *s = hl_srv_of(h, st);
        if (st->slow_pending) { /* its status line was lost: report it without */
            st->slow_pending = false;
            if (s)
                s->row.slow_responses++;
            hl_emit_slow(d, f, st, p->ts_ns, st->slow_s, 0, 0, "HTTP", st->slow_frames, 2);
        }
        hl_drop_requests(s, st);
    }
    return true;
}

/* Framing was lost in direction dir at packet p: go on timing by turns. */
static void hl_lost(struct det *d, const struct flow *f, struct hl_flow *st, int dir,
                    const struct pkt *p)
{
    if (st->mode == HM_HTTP || st->mode == HM_TLS || st->mode == HM_UNKNOWN)
        hl_to_turns(hl_of(d), st);
    hl_turn(d, f, st, dir, p, "TCP");
}

/*
 * n bytes of direction dir (up to the next byte to parse) are lost for good: step over them, or
 * frame afresh at the next message, or give framing up. False when framing was given up (the
 * segment was handled by turn-taking already).
 */
static bool hl_gap(struct det *d, const struct flow *f, struct hl_flow *st, int dir,
                   const struct pkt *p, uint64_t n)
{
    if (hl_skip(d, f, st, dir, p, n) || hl_resync(d, f, st, dir, p))
        return true;
    hl_lost(d, f, st, dir, p);
    return false;
}

/*
 * A held segment (ahead of a hole) and this one: it extends the held bytes (true: nothing else
 * to do), or the hole is taken as lost (not filled in time, another hole, or this segment
 * begins a message: the hole will not be filled before it) and stepped over together with
 * the held bytes, which were never parsed. False then means done too.
 */
static bool hl_hold_check(struct det *d, const struct flow *f, struct hl_flow *st, int dir,
                          const struct pkt *p, uint64_t seq, uint64_t end, bool starts, bool *done)
{
    uint64_t next = st->next_seq[dir], held_end = st->held_seq[dir] + st->held_len[dir];
    bool stale =
        p->ts_ns - st->held_ns[dir] > HL_HOLD_NS || st->held_len[dir] + (end - seq) > HL_HOLD_MAX;
    *done = false;
    if (seq == held_end && !stale && !starts) {
        st->held_len[dir] += (uint32_t)(end - seq);
        *done = true;
        return true;
    }
    if (seq <= next && !stale)
        return true; /* fills the hole (or part of it): parse it */
    st->held[dir] = false;
    st->next_seq[dir] = held_end;
    if (!hl_gap(d, f, st, dir, p, held_end - next)) {
        *done = true;
        return false;
    }
    *done = end <= held_end;
    return true;
}

/*
 * A segment ahead of a hole is held when the hole is probably reordering and its bytes sit
 * inside a message: HTTP bytes that do not begin a message (those begin one after messages
 * lost for good: framed afresh at once), or TLS bytes.
 */
static bool hl_holdable(const struct hl_flow *st, int dir, const struct pkt *p,
                        const struct tcp_seg *sg)
{
    if (st->mode == HM_TLS)
        return true;
    if (st->mode != HM_HTTP)
        return false;
    size_t n = p->payload ? p->payload_caplen : 0;
    if (n > sg->len)
        n = sg->len;
    if (n == 0)
        return true;
    return dir == DIR_C2S ? !http_looks_like_request(p->payload, n)
                          : !http_looks_like_response(p->payload, n);
}

/*
 * Take the new bytes of a segment. Sequence tracking: retransmitted bytes are not new. A
 * segment ahead of a hole is held (its bytes are not parsed) until the hole is filled (reordering
 * at the tap, a retransmission of a segment lost before it); the held bytes are then stepped
 * over. A hole never filled, or bytes cut by the snaplen, are stepped over when the parser
 * can, else HTTP framing restarts at the next message or turn-taking takes over.
 */
static void hl_stream(struct det *d, const struct flow *f, struct hl_flow *st, const struct pkt *p,
                      const struct tcp_seg *sg)
{
    int dir = sg->dir;
    if (sg->len == 0 || !sg->has_rel || st->mode == HM_OFF)
        return;
    uint64_t seq = sg->rel_seq, end = sg->rel_seq + sg->len;
    if (!st->seq_known[dir]) {
        /* relative sequence 0 is the direction's first byte (after the ISN, or the peer's
           acknowledgment point when picked up mid-stream): bytes missing before the first
           data seen are a gap too, unless the distance is implausible (odd segments such as
           an out-of-window reset can move the relative base) */
        st->seq_known[dir] = true;
        st->next_seq[dir] = seq <= HL_MAX_FIRST_GAP ? 0 : seq;
    }
    if (end <= st->next_seq[dir])
        return; /* nothing new */
    bool done;
    if (st->held[dir] &&
        (!hl_hold_check(d, f, st, dir, p, seq, end, !hl_holdable(st, dir, p, sg), &done) || done))
        return;
    uint64_t next = st->next_seq[dir];
    if (end <= next)
        return;
    if (seq > next && !st->held[dir] && hl_holdable(st, dir, p, sg)) {
        st->held[dir] = true; /* wait for the hole to be filled */
        st->held_seq[dir] = seq;
        st->held_len[dir] = (uint32_t)(end - seq);
        st->held_ns[dir] = p->ts_ns;
        return;
    }
    uint64_t gap = seq > next ? seq - next : 0;
    uint64_t skip = seq < next ? next - seq : 0;
    uint64_t avail = p->payload ? p->payload_caplen : 0;
    if (avail > sg->len)
        avail = sg->len;
    uint64_t tail = sg->len - (avail > skip ? avail : skip);
    st->next_seq[dir] = end;
    if (gap && !hl_gap(d, f, st, dir, p, gap))
        return;
    if (avail > skip) {
        struct rd r = rd_init(p->payload, (size_t)avail);
        rd_skip(&r, (size_t)skip);
        size_t n = rd_left(&r);
        const uint8_t *b = rd_ptr(&r, n);
        if (b && n)
            hl_payload(d, f, st, dir, p, b, n);
    } else if (st->mode == HM_TURNS) {
        hl_turn(d, f, st, dir, p, "TCP"); /* new data, none of it captured */
    }
    if (tail && st->mode != HM_OFF && !hl_skip(d, f, st, dir, p, tail)) {
        hl_lost(d, f, st, dir, p);
        return;
    }
    /* the hole before held bytes is filled: step over the held bytes (never parsed) */
    if (st->held[dir] && st->next_seq[dir] >= st->held_seq[dir]) {
        uint64_t held_end = st->held_seq[dir] + st->held_len[dir];
        st->held[dir] = false;
        if (st->next_seq[dir] < held_end) {
            uint64_t n = held_end - st->next_seq[dir];
            st->next_seq[dir] = held_end;
            (void)hl_gap(d, f, st, dir, p, n);
        }
    }
}

/* ---- detector entry points ---- */

static int hl_init(struct det *d, const struct eng_config *cfg)
{
    struct hl *h = calloc(1, sizeof(*h));
    if (!h)
        return ERR_NOMEM;
    h->srv = calloc(HL_MAX_SERVERS, sizeof(*h->srv));
    if (!h->srv) {
        free(h);
        return ERR_NOMEM;
    }
    h->slow_s = cfg->slow_response_s > 0 ? cfg->slow_response_s : 5.0;
    h->iv_ns = cfg->health_interval_ns ? cfg->health_interval_ns : 10 * NS_PER_S;
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

static void hl_on_packet(struct det *d, const struct flow *f, void *fs, const struct pkt *p,
                         const struct tcp_seg *sg)
{
    struct hl *h = hl_of(d);
    struct hl_slice *st = fs;
    hl_advance(d, p->ts_ns);
    if (!st->srv_done) {
        st->srv_done = true;
        st->srv = hl_server(h, &flow_rec(f)->server);
        st->srv_gen = st->srv ? h->srv[st->srv - 1].gen : 0;
    }
    struct hl_srv *s = hl_srv_at(h, st->srv, st->srv_gen);
    if (s) {
        struct health_row *r = &s->row;
        s->active = true;
        s->last_ns = p->ts_ns;
        if (sg->syn && !sg->syn_retry && !st->counted_attempt) {
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
    struct hl_flow *lz = det_lazy_at(d, st->lazy);
    if (!(sg->ev & TEV_BIT(TEV_KEEP_ALIVE)) && sg->len && sg->has_rel && !lz) {
        lz = det_lazy_get(d, &st->lazy); /* the first payload: response timing starts */
        if (lz) {
            lz->srv = st->srv;
            lz->srv_gen = st->srv_gen;
        }
    }
    if (!lz)
        return;
    lz->hs_rtt_ns = st->rtt_known ? (uint64_t)flow_rec(f)->hs_rtt_ns : 0;
    if (!(sg->ev & TEV_BIT(TEV_KEEP_ALIVE)))
        hl_stream(d, f, lz, p, sg);
    /* a response delimited by the close of the connection ends with the server's FIN */
    if (lz->mode == HM_HTTP && sg->dir == DIR_S2C && (p->flags & TCP_FIN)) {
        struct http_msg m;
        if (http_eof(&lz->u.hp[DIR_S2C], &m))
            hl_http_response(d, f, lz, &m, p);
    }
}

static void hl_on_flow_end(struct det *d, const struct flow *f, void *fs)
{
    struct hl *h = hl_of(d);
    struct hl_slice *sl = fs;
    struct hl_flow *st = det_lazy_at(d, sl->lazy);
    if (!st)
        return; /* no payload: nothing was timed */
    struct hl_srv *s = hl_srv_of(h, st);
    const struct flow_record *rec = flow_rec(f);
    if (st->mode == HM_HTTP) {
        if (st->slow_pending) {
            st->slow_pending = false;
            if (s)
                s->row.slow_responses++;
            hl_emit_slow(d, f, st, rec->last_ts_ns, st->slow_s, 0, 0, "HTTP", st->slow_frames, 2);
        }
        /* requests never answered: slow if the connection outlived the threshold */
        for (uint8_t i = 0; i < st->nreq; i++) {
            const struct hl_req *q = &st->req[(st->rq_head + i) % HL_PIPELINE];
            if (q->answered || rec->last_ts_ns < q->end_ns)
                continue;
            double waited = (double)(rec->last_ts_ns - q->end_ns) / 1e9;
            if (waited <= h->slow_s)
                continue;
            if (s) {
                s->row.slow_responses++;
                s->active = true;
            }
            uint64_t fr[1] = {q->frame};
            hl_emit_slow(d, f, st, rec->last_ts_ns, -1, waited, 0, "HTTP", fr, 1);
        }
    }
    hl_drop_requests(s, st);
    st->mode = HM_OFF;
    det_lazy_put(d, &sl->lazy);
}

static void hl_on_tick(struct det *d, uint64_t now_ns)
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
static void hl_on_finding(struct det *d, const struct finding *f)
{
    struct hl *h = hl_of(d);
    const struct fk_info *ki = fk_info(f->kind);
    bool cert_expiry = f->kind == FK_CERT_EXPIRING || f->kind == FK_CERT_EXPIRED;
    if (ki->fail == FAIL_NONE && !cert_expiry)
        return;
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
    uint64_t *c = hl_fail_counter(r, ki->fail);
    if (c)
        *c += n;
}

static void hl_on_finish(struct det *d)
{
    struct hl *h = hl_of(d);
    if (h->started)
        hl_close_interval(d);
}

static void hl_free(struct det *d)
{
    struct hl *h = hl_of(d);
    if (!h)
        return;
    free(h->srv);
    free(h);
    d->priv = NULL;
}

const struct det_ops det_health_ops = {
    .name = "health",
    .flow_state_size = sizeof(struct hl_slice),
    .lazy_state_size = sizeof(struct hl_flow),
    .init = hl_init,
    .on_packet = hl_on_packet,
    .on_flow_end = hl_on_flow_end,
    .on_tick = hl_on_tick,
    .on_finding = hl_on_finding,
    .on_finish = hl_on_finish,
    .free = hl_free,
};
