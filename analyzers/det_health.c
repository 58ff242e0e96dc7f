/*
 * det_health.c - server health, the flow side: per flow, the attempts, handshakes, resets and
 * data segments counted for its server, and per request the response time (HTTP/1.x framing
 * where in the clear, request/response turn-taking for TLS and other protocols) with
 * slow_response findings. The server table, intervals and alerts are in health_srv.c.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/det.h"
#include "analyzers/health.h"
#include "analyzers/health_int.h"
#include "analyzers/http.h"
#include "analyzers/pool.h"
#include "analyzers/scan.h"
#include "analyzers/tls.h"
#include "capture/decode.h"
#include "capture/log.h"
#include "capture/rd.h"

#define HL_RQ_SLOTS (HL_PIPELINE + 1) /* ... and the one being read */
#define HL_SLOW_PER_FLOW 4           /* slow_response findings per connection (then only counted) */
#define HL_RESYNC_MAX 4              /* HTTP framing restarts after capture gaps, per connection */
#define HL_MAX_FIRST_GAP (16u << 20) /* bytes missing before the first data seen, at most */
#define HL_HOLD_NS 1000000000ull     /* a hole not filled within 1 s of capture time is lost */
#define HL_HOLD_MAX (64u << 10)      /* ... or once this many bytes wait behind it */
#define TEV_BIT(e) (1u << (e))

/* How a flow's response times are measured. */
enum hl_mode {
    HM_UNKNOWN = 0, /* no payload yet */
    HM_HTTP,        /* HTTP/1.x framing */
    HM_TLS,         /* TLS records, turn-taking on application data */
    HM_TURNS,       /* turn-taking on any payload */
    HM_OFF,         /* nothing measured (switched protocols) */
};

/*
 * A request being read or awaiting its response, with what its http record needs (the
 * record is written when the response ends, or when the exchange can no longer complete).
 */
struct hl_req {
    uint64_t end_ns;       /* time of its last byte */
    uint64_t frame;        /* frame of its last byte */
    uint64_t start_ns;     /* time of its first byte */
    uint64_t start_frame;  /* frame of its first byte */
    uint64_t resp_ns;      /* time of the first response byte (answered) */
    uint64_t resp_frame;   /* frame of the first response byte (answered) */
    uint64_t req_body;     /* request body bytes */
    uint64_t resp_body;    /* response body bytes */
    uint64_t gap_bytes;    /* bytes of the exchange stepped over unparsed (a hole) */
    uint32_t depth;        /* position on the connection, from 1 (Zeek's trans_depth) */
    uint16_t status;       /* final response status, 0 until its header section ended */
    bool head;             /* HEAD: the response has no body */
    bool connect;          /* CONNECT: a 2xx answer opens a tunnel */
    bool answered;         /* its first response byte was seen (after an interim 1xx) */
    struct http_meta meta; /* method, request-target and Host as read */
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
    uint8_t nreq;                   /* requests in req[] that ended (awaiting a response) */
    uint8_t rq_head;                /* index of the oldest request */
    bool rq_open;                   /* a request is being read, in req[(rq_head + nreq) %
                                       HL_RQ_SLOTS] */
    uint32_t depth;                 /* requests begun on this connection */
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
    uint32_t rq;                    /* HTTP: handle of the flow's struct hl_req[HL_RQ_SLOTS]
                                       in hl.rq_pool (requests awaiting a response, oldest
                                       first, as a ring, then the one being read); 0 = none */
    union {
        struct http_parser hp[2]; /* HTTP: per direction */
        struct hl_tls tls[2];     /* TLS: per direction */
    } u;                          /* the parser of the flow's mode */
};
static struct hl_srv *hl_srv_of(struct hl *h, const struct hl_flow *st)
{
    return hl_srv_at(h, st->srv, st->srv_gen);
}

/* Request slot i (taken modulo HL_RQ_SLOTS) of an HTTP flow (st->rq != 0). */
static struct hl_req *hl_rq(const struct hl *h, const struct hl_flow *st, unsigned i)
{
    struct hl_req *q = pool_at(h->rq_pool, st->rq);
    return &q[i % HL_RQ_SLOTS];
}

size_t hl_rq_block(void)
{
    return sizeof(struct hl_req) * HL_RQ_SLOTS;
}

/* Give the flow's request slots back (it left HTTP framing or ended). */
static void hl_rq_release(struct hl *h, struct hl_flow *st)
{
    pool_put(h->rq_pool, st->rq);
    st->rq = 0;
}

/* ---- findings ---- */

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

/* ---- HTTP records ---- */

/* The request-target as a record's path: the query (from '?') dropped unless full_uri. */
static void hl_path(const struct http_meta *m, bool full_uri, char *out, size_t n, bool *cut)
{
    size_t len = strnlen(m->target, sizeof(m->target));
    const char *q = full_uri ? NULL : memchr(m->target, '?', len);
    *cut = m->target_cut && !q;
    if (q)
        len = (size_t)(q - m->target);
    if (len >= n) {
        len = n - 1;
        *cut = true;
    }
    memcpy(out, m->target, len);
    out[len] = '\0';
}

/* The http record of request q of flow f, ended in state why. */
static void hl_http_record(struct hl *h, const struct flow *f, const struct hl_req *q, bool ended,
                           enum http_state why, struct http_record *r)
{
    const struct flow_record *fr = flow_rec(f);
    bool cut;
    memset(r, 0, sizeof(*r));
    r->flow_id = fr->flow_id;
    r->client = fr->client;
    r->server = fr->server;
    r->ts_ns = q->start_ns;
    r->trans_depth = q->depth;
    r->req_frame = q->start_frame;
    r->resp_frame = q->answered ? q->resp_frame : 0;
    fx_copy(r->method, sizeof(r->method), q->meta.method);
    fx_copy(r->host, sizeof(r->host), q->meta.host);
    r->has_host = q->meta.has_host;
    hl_path(&q->meta, h->full_uri, r->path, sizeof(r->path), &cut);
    r->cut = (uint8_t)((q->meta.method_cut ? HTTP_CUT_METHOD : 0) |
                       (q->meta.host_cut ? HTTP_CUT_HOST : 0) | (cut ? HTTP_CUT_PATH : 0));
    r->status = q->status;
    r->req_body_bytes = q->req_body;
    r->resp_body_bytes = q->resp_body;
    r->response_ns =
        ended && q->answered && q->resp_ns >= q->end_ns ? (int64_t)(q->resp_ns - q->end_ns) : -1;
    r->state = why;
    r->gap_bytes = q->gap_bytes;
}

static void hl_http_emit(struct det *d, const struct flow *f, const struct hl_req *q, bool ended,
                         enum http_state why)
{
    struct http_record r;
    hl_http_record(hl_of(d), f, q, ended, why, &r);
    det_emit_http(d, &r);
}

/*
 * An http_5xx finding for request q (its status just read at packet p): one per request,
 * with the request's fields and its response time.
 */
static void hl_emit_5xx(struct det *d, const struct flow *f, const struct hl_req *q,
                        const struct pkt *p)
{
    struct http_record r;
    struct finding fd;
    hl_http_record(hl_of(d), f, q, true, HS_COMPLETE, &r);
    det_finding_init(&fd, f, FK_HTTP_5XX, fk_info(FK_HTTP_5XX)->sev, p->ts_ns);
    fd.frames[fd.nframes++] = q->start_frame;
    if (q->resp_frame && q->resp_frame != q->start_frame)
        fd.frames[fd.nframes++] = q->resp_frame;
    fx_copy(fd.fx.http.method, sizeof(fd.fx.http.method), r.method);
    fx_copy(fd.fx.http.host, sizeof(fd.fx.http.host), r.host);
    fx_copy(fd.fx.http.path, sizeof(fd.fx.http.path), r.path);
    fd.fx.http.status = q->status;
    fd.fx.http.response_s = r.response_ns >= 0 ? (double)r.response_ns / 1e9 : NAN;
    fd.fx.http.trans_depth = q->depth;
    /* the path is hostile input: the detail names it only through the typed field */
    snprintf(fd.detail, sizeof(fd.detail),
             "HTTP %u: the server answered request #%u on this connection (%.15s) with a server "
             "error %.6f s after the request ended; the path, host and method are in this "
             "finding's fields; check the application's log at this time",
             (unsigned)q->status, (unsigned)q->depth, fd.fx.http.method,
             r.response_ns >= 0 ? (double)r.response_ns / 1e9 : 0.0);
    det_emit(d, &fd);
}

/*
 * Write the records of the requests that can no longer complete, in state why: those that
 * ended and await (the rest of) a response, and with open_too the one being read. A request
 * that got the start of its response is response_incomplete when why is no_response; the
 * one being read is request_incomplete then.
 */
static void hl_http_flush(struct det *d, const struct flow *f, struct hl_flow *st,
                          enum http_state why, bool open_too)
{
    struct hl *h = hl_of(d);
    if (st->mode != HM_HTTP || !st->rq)
        return;
    for (uint8_t i = 0; i < st->nreq; i++) {
        const struct hl_req *q = hl_rq(h, st, st->rq_head + i);
        enum http_state w = why == HS_NO_RESPONSE && q->answered ? HS_RESPONSE_INCOMPLETE : why;
        hl_http_emit(d, f, q, true, w);
    }
    if (open_too && st->rq_open) {
        const struct hl_req *q = hl_rq(h, st, st->rq_head + st->nreq);
        hl_http_emit(d, f, q, false, why == HS_NO_RESPONSE ? HS_REQUEST_INCOMPLETE : why);
        st->rq_open = false;
    }
}

/* n bytes of direction dir were stepped over: count them on the exchange they belong to. */
static void hl_http_gap(const struct hl *h, struct hl_flow *st, int dir, uint64_t n)
{
    struct hl_req *q = NULL;
    if (dir == DIR_C2S && st->rq_open)
        q = hl_rq(h, st, st->rq_head + st->nreq);
    else if (dir == DIR_S2C && st->nreq && hl_rq(h, st, st->rq_head)->answered)
        q = hl_rq(h, st, st->rq_head);
    if (q)
        q->gap_bytes = n > UINT64_MAX - q->gap_bytes ? UINT64_MAX : q->gap_bytes + n;
}

/* ---- response timing ---- */

/* Drop the requests awaiting a response (the flow left HTTP mode or ended). */
static void hl_drop_requests(struct hl_srv *s, struct hl_flow *st)
{
    if (s)
        s->outstanding -= st->nreq;
    st->nreq = 0;
    st->rq_head = 0;
    st->rq_open = false;
}

/* Leave HTTP/TLS framing: measure by turn-taking from the next client data on. */
static void hl_to_turns(struct hl *h, struct hl_flow *st)
{
    hl_drop_requests(hl_srv_of(h, st), st);
    hl_rq_release(h, st);
    st->slow_pending = false;
    st->waiting = false;
    st->mode = HM_TURNS;
}

static void hl_http_request(struct det *d, const struct flow *f, struct hl_flow *st,
                            const struct http_msg *m, const struct pkt *p)
{
    struct hl *h = hl_of(d);
    struct hl_srv *s = hl_srv_of(h, st);
    struct hl_req *q = hl_rq(h, st, st->rq_head + st->nreq);
    if (m->ev == HTTP_EV_BEGIN) {
        memset(q, 0, sizeof(*q));
        q->start_ns = p->ts_ns;
        q->start_frame = p->frame;
        q->depth = ++st->depth;
        st->rq_open = true;
        return;
    }
    if (m->ev != HTTP_EV_END || !st->rq_open)
        return;
    if (st->nreq == HL_PIPELINE) {
        /* pipelined deeper than we follow: write these requests as such, then fall back */
        h->rq_overflows++;
        q->end_ns = p->ts_ns;
        q->req_body = m->body_bytes;
        hl_http_flush(d, f, st, HS_PIPELINE_OVERFLOW, true);
        hl_to_turns(h, st);
        return;
    }
    st->rq_open = false;
    q->end_ns = p->ts_ns;
    q->frame = p->frame;
    q->head = m->head;
    q->connect = m->connect;
    q->answered = false;
    q->req_body = m->body_bytes;
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
    struct hl_req *q = st->nreq ? hl_rq(h, st, st->rq_head) : NULL;
    switch (m->ev) {
    case HTTP_EV_BEGIN:
        if (!q)
            break; /* an answer to no request we saw (e.g. 408 on an idle connection) */
        st->u.hp[DIR_S2C].no_body = q->head;
        st->u.hp[DIR_S2C].connect_req = q->connect;
        if (q->answered)
            break; /* the final response after an interim 1xx */
        q->answered = true;
        q->resp_ns = p->ts_ns;
        q->resp_frame = p->frame;
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
        if (q && q->answered) {
            q->status = m->status;
            if (m->status >= 500 && m->status <= 599)
                hl_emit_5xx(d, f, q, p);
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
            q->resp_body = m->body_bytes;
            hl_http_emit(d, f, q, true, HS_COMPLETE);
            st->rq_head = (uint8_t)((st->rq_head + 1) % HL_RQ_SLOTS);
            st->nreq--;
            if (s)
                s->outstanding--;
        }
        if (m->upgrade) {
            hl_http_flush(d, f, st, HS_NOT_HTTP, true);
            hl_drop_requests(s, st);
            hl_rq_release(h, st);
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
        struct http_meta *meta =
            dir == DIR_C2S && st->rq_open ? &hl_rq(h, st, st->rq_head + st->nreq)->meta : NULL;
        int r = http_parse_meta(&st->u.hp[dir], meta, b + off, n - off, &m);
        if (r < 0) {
            hl_http_flush(d, f, st, HS_NOT_HTTP, true);
            hl_to_turns(h, st);
            return;
        }
        off += (size_t)r;
        if (m.ev == HTTP_EV_NONE)
            return;
        if (dir == DIR_C2S)
            hl_http_request(d, f, st, &m, p);
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
        if (dir == DIR_S2C) {
            st->mode = HM_TURNS;           /* the server spoke first: not HTTP, not TLS */
        } else if (tls_looks_like(b, n)) { /* the same test as det_tls's */
            st->mode = HM_TLS;
            memset(&st->u.tls, 0, sizeof(st->u.tls));
        } else if (http_looks_like_request(b, n) && (st->rq = pool_get(hl_of(d)->rq_pool))) {
            /* HTTP with request slots (none left: timed by turns below, counted by the pool) */
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
        hl_http_gap(hl_of(d), st, dir, n);
        if (m.ev == HTTP_EV_END && dir == DIR_C2S)
            hl_http_request(d, f, st, &m, p);
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
    if (dir == DIR_C2S && st->rq_open) { /* the request being read lost bytes: written as such */
        hl_http_emit(d, f, hl_rq(h, st, st->rq_head + st->nreq), false, HS_GAP);
        st->rq_open = false;
    }
    if (dir == DIR_S2C) {
        struct hl_srv *s = hl_srv_of(h, st);
        if (st->slow_pending) { /* its status line was lost: report it without */
            st->slow_pending = false;
            if (s)
                s->row.slow_responses++;
            hl_emit_slow(d, f, st, p->ts_ns, st->slow_s, 0, 0, "HTTP", st->slow_frames, 2);
        }
        hl_http_flush(d, f, st, HS_GAP, false);
        hl_drop_requests(s, st);
    }
    return true;
}

/* Framing was lost in direction dir at packet p: go on timing by turns. */
static void hl_lost(struct det *d, const struct flow *f, struct hl_flow *st, int dir,
                    const struct pkt *p)
{
    hl_http_flush(d, f, st, HS_GAP, true);
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
            const struct hl_req *q = hl_rq(h, st, st->rq_head + i);
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
        hl_http_flush(d, f, st, HS_NO_RESPONSE, true);
    }
    hl_drop_requests(s, st);
    hl_rq_release(h, st);
    st->mode = HM_OFF;
    det_lazy_put(d, &sl->lazy);
}

/*
 * The slice of a compact flow (client SYNs only) in 7 bytes: the server slot, its generation
 * and the two flags a SYN sets (flow.h; the engine checks that it unpacks byte for byte).
 */
enum { HL_SMALL_SRV = 0, HL_SMALL_GEN = 2, HL_SMALL_FLAGS = 6, HL_SMALL_SIZE = 7 };

static void hl_pack(const struct flow *f, const void *fs, uint8_t *small)
{
    const struct hl_slice *st = fs;
    (void)f;
    memcpy(small + HL_SMALL_SRV, &st->srv, sizeof(st->srv));
    memcpy(small + HL_SMALL_GEN, &st->srv_gen, sizeof(st->srv_gen));
    small[HL_SMALL_FLAGS] = (uint8_t)(st->srv_done | st->counted_attempt << 1);
}

static void hl_unpack(const struct flow *f, void *fs, const uint8_t *small)
{
    struct hl_slice *st = fs;
    (void)f;
    memcpy(&st->srv, small + HL_SMALL_SRV, sizeof(st->srv));
    memcpy(&st->srv_gen, small + HL_SMALL_GEN, sizeof(st->srv_gen));
    st->srv_done = small[HL_SMALL_FLAGS] & 1;
    st->counted_attempt = small[HL_SMALL_FLAGS] >> 1 & 1;
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
    .flow_small_size = HL_SMALL_SIZE,
    .pack = hl_pack,
    .unpack = hl_unpack,
};
