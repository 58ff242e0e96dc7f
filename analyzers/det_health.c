/*
 * det_health.c - server health, response timing: per request the response time (HTTP/1.x
 * framing where in the clear, request/response turn-taking on TLS records and other
 * protocols) with slow_response findings. It reads the streams as a parser of the stream
 * layer (stream.h): the engine reassembles, this file frames. The server table, what each
 * flow counts for its server, the intervals and alerts are in health_srv.c; with --workers,
 * the per-flow half here also counts each segment and sends the counts (HOP_COUNT, below).
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
#include "analyzers/stream.h"
#include "analyzers/tls.h"
#include "capture/decode.h"

#define HL_RQ_SLOTS (HL_PIPELINE + 1) /* ... and the one being read */
#define HL_SLOW_PER_FLOW 4           /* slow_response findings per connection (then only counted) */
#define HL_RESYNC_MAX 4              /* HTTP framing restarts after capture gaps, per connection */

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

/* TLS records of one direction, walked for turn-taking (tls_walk). */
struct hl_tls {
    struct tls_walk w; /* the record walk */
    uint16_t app;      /* application_data records started */
};

/* Which application_data records of one call's bytes count as a turn, and what was seen. */
struct hl_tls_walk {
    uint16_t *app;       /* the direction's application_data record count */
    bool skip_first_app; /* in: the first application_data record is the client's Finished */
    bool tickets;        /* in: small application_data records may be session tickets */
    bool first_app;      /* out: the first application_data record started here */
};

/* A TLS 1.3 server record this small, this soon after the client's Finished, is a ticket. */
#define HL_TICKET_MAX_LEN 1024
#define HL_TICKET_WINDOW_NS 10000000ull /* 10 ms, plus twice the handshake RTT */

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

/* The sink of this thread's per-flow halves (health_set_thread_sink). */
static _Thread_local void (*hl_sink)(void *ctx, const struct flow *f, const struct health_op *op);
static _Thread_local void *hl_sink_ctx;

void health_set_thread_sink(void (*fn)(void *ctx, const struct flow *f, const struct health_op *op),
                            void *ctx)
{
    hl_sink = fn;
    hl_sink_ctx = ctx;
}

static void hl_fwd_advance(struct det *d, const struct flow *f, uint64_t ts);

/*
 * What flow f's timing does to its server (st: its timing state; never HOP_ADVANCE, which
 * hl_clock gives): done now by the whole detector, handed to the sink by the per-flow half
 * (hl.remote), which the server half applies in the same order (worker.c).
 */
static void hl_op(struct det *d, const struct flow *f, const struct hl_flow *st,
                  struct health_op op)
{
    struct hl *h = hl_of(d);
    if (h->remote) {
        op.server = flow_rec(f)->server;
        if (hl_sink)
            hl_sink(hl_sink_ctx, f, &op);
        return;
    }
    hl_apply(hl_srv_of(h, st), &op);
}

/* Capture time reached ts at flow f's stream chunk: HOP_ADVANCE without building the op. */
static void hl_clock(struct det *d, const struct flow *f, uint64_t ts)
{
    if (hl_of(d)->remote)
        hl_fwd_advance(d, f, ts);
    else
        hl_advance(d, ts);
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

/*
 * The blocks in use form a list from the least recently active connection's to the most
 * recently active one's (hl.rq_old .. hl.rq_new): when the pool is empty, the block of the
 * connection that has been idle longest is reclaimed (hl_rq_reclaim). O(1), no allocation.
 */
static void hl_rq_unlink(struct hl *h, uint32_t b)
{
    struct hl_rq_link *l = &h->rq_lru[b];
    if (l->prev)
        h->rq_lru[l->prev].next = l->next;
    else
        h->rq_old = l->next;
    if (l->next)
        h->rq_lru[l->next].prev = l->prev;
    else
        h->rq_new = l->prev;
    l->prev = l->next = 0;
}

static void hl_rq_link_new(struct hl *h, uint32_t b)
{
    struct hl_rq_link *l = &h->rq_lru[b];
    l->prev = h->rq_new;
    l->next = 0;
    if (h->rq_new)
        h->rq_lru[h->rq_new].next = b;
    else
        h->rq_old = b;
    h->rq_new = b;
}

/* The flow's connection was active: its block moves to the most recent end. */
static void hl_rq_touch(struct hl *h, const struct hl_flow *st)
{
    if (st->rq && h->rq_new != st->rq) {
        hl_rq_unlink(h, st->rq);
        hl_rq_link_new(h, st->rq);
    }
}

/* Give the flow's request slots back (it left HTTP framing or ended). */
static void hl_rq_release(struct hl *h, struct hl_flow *st)
{
    if (!st->rq)
        return;
    hl_rq_unlink(h, st->rq);
    h->rq_lru[st->rq].st = NULL;
    h->rq_lru[st->rq].node = NULL;
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
static void hl_drop_requests(struct det *d, const struct flow *f, struct hl_flow *st)
{
    if (st->nreq)
        hl_op(d, f, st, (struct health_op){.kind = HOP_OUTSTANDING, .n = -(int64_t)st->nreq});
    st->nreq = 0;
    st->rq_head = 0;
    st->rq_open = false;
}

/* Leave HTTP/TLS framing: measure by turn-taking from the next client data on. */
static void hl_to_turns(struct det *d, const struct flow *f, struct hl_flow *st)
{
    struct hl *h = hl_of(d);
    hl_drop_requests(d, f, st);
    hl_rq_release(h, st);
    st->slow_pending = false;
    st->waiting = false;
    st->mode = HM_TURNS;
}

static void hl_http_request(struct det *d, const struct flow *f, struct hl_flow *st,
                            const struct http_msg *m, const struct pkt *p)
{
    struct hl *h = hl_of(d);
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
        hl_to_turns(d, f, st);
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
    hl_op(d, f, st, (struct health_op){.kind = HOP_REQUEST});
}

static void hl_http_response(struct det *d, const struct flow *f, struct hl_flow *st,
                             const struct http_msg *m, const struct pkt *p)
{
    struct hl *h = hl_of(d);
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
        hl_op(d, f, st, (struct health_op){.kind = HOP_SAMPLE, .v = rs});
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
        hl_op(d, f, st, (struct health_op){.kind = HOP_RESPONSE, .status = m->status});
        if (q && q->answered) {
            q->status = m->status;
            if (m->status >= 500 && m->status <= 599)
                hl_emit_5xx(d, f, q, p);
        }
        if (st->slow_pending) {
            st->slow_pending = false;
            hl_op(d, f, st, (struct health_op){.kind = HOP_SLOW});
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
            hl_op(d, f, st, (struct health_op){.kind = HOP_OUTSTANDING, .n = -1});
        }
        if (m->upgrade) {
            hl_http_flush(d, f, st, HS_NOT_HTTP, true);
            hl_drop_requests(d, f, st);
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
    hl_rq_touch(h, st);
    while (st->mode == HM_HTTP) {
        struct http_msg m;
        struct http_meta *meta =
            dir == DIR_C2S && st->rq_open ? &hl_rq(h, st, st->rq_head + st->nreq)->meta : NULL;
        int r = http_parse_meta(&st->u.hp[dir], meta, b + off, n - off, &m);
        if (r < 0) {
            hl_http_flush(d, f, st, HS_NOT_HTTP, true);
            hl_to_turns(d, f, st);
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
 * A TLS record header (tls_walk): true when the record counts as a turn. In TLS 1.3 the
 * client's first application_data record is its Finished (skip_first_app), and the server's
 * first small ones may be NewSessionTickets sent on that Finished, not answers (tickets).
 */
static bool hl_tls_header(void *ctx, uint8_t type, uint16_t len)
{
    struct hl_tls_walk *w = ctx;
    if (type != TLS_CT_APPDATA)
        return false;
    if (*w->app < UINT16_MAX)
        ++*w->app;
    w->first_app |= *w->app == 1;
    bool ticket = w->tickets && len <= HL_TICKET_MAX_LEN;
    return !ticket && !(w->skip_first_app && *w->app == 1);
}

/* Walk new bytes of a TLS stream: 1 when they carry data that counts as a turn, 0, or
   MALFORMED (not TLS records). */
static int hl_tls_bytes(struct hl_tls *t, const uint8_t *b, size_t n, struct hl_tls_walk *w)
{
    w->app = &t->app;
    return tls_walk(&t->w, b, n, hl_tls_header, w);
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
    double rs = (double)(p->ts_ns - st->c_last_ns) / 1e9;
    hl_op(d, f, st, (struct health_op){.kind = HOP_SAMPLE, .v = rs});
    if (rs > h->slow_s) {
        uint64_t fr[2] = {st->c_last_frame, p->frame};
        hl_op(d, f, st, (struct health_op){.kind = HOP_SLOW});
        hl_emit_slow(d, f, st, p->ts_ns, rs, 0, 0, proto, fr, 2);
    }
}

/*
 * A slow first byte whose status line will not be read (lost, the flow ended, its slots
 * reclaimed): counted and reported without a status, once.
 */
static void hl_slow_unread(struct det *d, const struct flow *f, struct hl_flow *st, uint64_t ts_ns)
{
    if (!st->slow_pending)
        return;
    st->slow_pending = false;
    hl_op(d, f, st, (struct health_op){.kind = HOP_SLOW});
    hl_emit_slow(d, f, st, ts_ns, st->slow_s, 0, 0, "HTTP", st->slow_frames, 2);
}

/*
 * The pool is empty: take the request slots of the HTTP connection idle the longest (the
 * least recently active block: a flood of connections that sent a request and then nothing
 * gives its slots up before a server that answers). Its waiting requests are written in state
 * reclaimed and it is timed by turns from now on (a request still waiting is the open turn),
 * as a connection that found the pool empty was before; counted. The block's handle
 * (zeroed), or 0 when no block is in use.
 */
static uint32_t hl_rq_reclaim(struct det *d, uint64_t now_ns)
{
    struct hl *h = hl_of(d);
    uint32_t b = h->rq_old;
    if (!b)
        return 0;
    struct hl_flow *vst = h->rq_lru[b].st;
    const struct flow *vf = det_flow_of_node(d, h->rq_lru[b].node);
    const struct hl_req *head = vst->nreq ? hl_rq(h, vst, vst->rq_head) : NULL;
    const struct hl_req *last = vst->nreq ? hl_rq(h, vst, vst->rq_head + vst->nreq - 1) : NULL;
    bool wait = head && !head->answered;
    uint64_t c_ns = last ? last->end_ns : 0, c_frame = last ? last->frame : 0;
    if (vf) { /* always: a flow with payload has its block until it ends */
        hl_slow_unread(d, vf, vst, now_ns);
        hl_http_flush(d, vf, vst, HS_RECLAIMED, true);
        hl_drop_requests(d, vf, vst);
    }
    vst->nreq = 0;
    vst->rq_head = 0;
    vst->rq_open = false;
    vst->slow_pending = false;
    vst->mode = HM_TURNS;
    vst->waiting = wait;
    vst->c_last_ns = c_ns;
    vst->c_last_frame = c_frame;
    vst->rq = 0;
    hl_rq_unlink(h, b);
    memset(pool_at(h->rq_pool, b), 0, hl_rq_block());
    h->rq_reclaimed++;
    det_count_http_reclaim(d);
    return b;
}

/* Request slots for HTTP flow f (state st) at packet p: a free block, else a reclaimed one. */
static uint32_t hl_rq_take(struct det *d, const struct flow *f, struct hl_flow *st,
                           const struct pkt *p)
{
    struct hl *h = hl_of(d);
    uint32_t b = pool_get(h->rq_pool);
    if (!b)
        b = hl_rq_reclaim(d, p->ts_ns);
    if (b) {
        h->rq_lru[b].st = st;
        h->rq_lru[b].node = det_node_of(f);
        hl_rq_link_new(h, b);
    }
    return b;
}

/* New in-order payload bytes of one direction. */
static void hl_payload(struct det *d, const struct flow *f, struct hl_flow *st, int dir,
                       const struct pkt *p, const uint8_t *b, size_t n)
{
    if (st->mode == HM_UNKNOWN) {
        /* the flow's protocol as the stream layer decided it from its first payload */
        enum stream_proto proto = stream_proto(f);
        if (dir == DIR_S2C) {
            st->mode = HM_TURNS; /* the server spoke first: not HTTP, not TLS */
        } else if (proto == STREAM_PROTO_TLS) {
            st->mode = HM_TLS;
            memset(&st->u.tls, 0, sizeof(st->u.tls));
        } else if (proto == STREAM_PROTO_HTTP && (st->rq = hl_rq_take(d, f, st, p))) {
            /* HTTP with request slots (a free block or the longest idle connection's) */
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
            st->tls13 = hl_tls_bytes(&probe, b, n, &pw) == 1;
        }
        struct hl_tls_walk w = {0};
        w.skip_first_app = dir == DIR_C2S && st->tls13;
        w.tickets = dir == DIR_S2C && st->tls13 && st->fin_ns && !st->tickets_done &&
                    p->ts_ns - st->fin_ns <= HL_TICKET_WINDOW_NS + 2 * st->hs_rtt_ns;
        int app = hl_tls_bytes(&st->u.tls[dir], b, n, &w);
        if (dir == DIR_C2S && st->tls13 && w.first_app)
            st->fin_ns = p->ts_ns;
        if (dir == DIR_S2C && app == 1 && st->fin_ns)
            st->tickets_done = true; /* an answer after the Finished: no more tickets */
        if (app == MALFORMED) {
            hl_to_turns(d, f, st);
            hl_turn(d, f, st, dir, p, "TCP");
        } else if (app == 1) {
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
    case HM_TLS:
        return tls_walk_skip(&st->u.tls[dir].w, n);
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
        hl_slow_unread(d, f, st, p->ts_ns); /* its status line was lost */
        hl_http_flush(d, f, st, HS_GAP, false);
        hl_drop_requests(d, f, st);
    }
    return true;
}

/* Framing was lost in direction dir at packet p: go on timing by turns. */
static void hl_lost(struct det *d, const struct flow *f, struct hl_flow *st, int dir,
                    const struct pkt *p)
{
    hl_http_flush(d, f, st, HS_GAP, true);
    if (st->mode == HM_HTTP || st->mode == HM_TLS || st->mode == HM_UNKNOWN)
        hl_to_turns(d, f, st);
    hl_turn(d, f, st, dir, p, "TCP");
}

/* ---- the stream parser (stream.h) ---- */

/* The flow's timing state, with the handshake RTT as counted so far. */
static struct hl_flow *hl_timing(struct det *d, const struct flow *f, struct hl_slice *sl,
                                 const struct pkt *p)
{
    hl_clock(d, f, p->ts_ns);
    struct hl_flow *st = det_lazy_at(d, sl->lazy);
    if (st)
        st->hs_rtt_ns = sl->rtt_known ? (uint64_t)flow_rec(f)->hs_rtt_ns : 0;
    return st;
}

/* The flow's first payload: response timing starts (every protocol is timed). */
static int hl_probe(struct det *d, const struct flow *f, void *fs, enum stream_proto proto,
                    bool can_buffer, const struct pkt *p)
{
    struct hl_slice *sl = fs;
    (void)proto;
    (void)can_buffer;
    hl_clock(d, f, p->ts_ns);
    if (!hl_of(d)->remote) /* the per-flow half: the server half looks its server up */
        hl_slice_server(hl_of(d), sl, f);
    struct hl_flow *st = det_lazy_get(d, &sl->lazy);
    if (!st)
        return STREAM_NOT_MINE;
    st->srv = sl->srv;
    st->srv_gen = sl->srv_gen;
    return STREAM_FOLLOW;
}

static int hl_parse(struct det *d, const struct flow *f, void *fs, const struct stream_chunk *c)
{
    struct hl_flow *st = hl_timing(d, f, fs, c->p);
    if (!st || st->mode == HM_OFF)
        return STREAM_DONE;
    hl_payload(d, f, st, c->dir, c->p, c->b, c->n);
    return st->mode == HM_OFF ? STREAM_DONE : (int)c->n;
}

/*
 * Bytes that will never come: step over them, or (a hole) frame afresh at the next message,
 * or give framing up and time by turns. Bytes cut by the snaplen from a segment are new data
 * at that packet for turn-taking.
 */
static int hl_gap_cb(struct det *d, const struct flow *f, void *fs, const struct stream_gap *g)
{
    struct hl_flow *st = hl_timing(d, f, fs, g->p);
    if (!st || st->mode == HM_OFF)
        return STREAM_DONE;
    if (hl_skip(d, f, st, g->dir, g->p, g->n)) {
        if (g->cut && st->mode == HM_TURNS)
            hl_turn(d, f, st, g->dir, g->p, "TCP");
    } else if (g->cut || !hl_resync(d, f, st, g->dir, g->p)) {
        hl_lost(d, f, st, g->dir, g->p);
    }
    return st->mode == HM_OFF ? STREAM_DONE : 0;
}

/* A response delimited by the close of the connection ends with the server's FIN. */
static void hl_eof(struct det *d, const struct flow *f, void *fs, int dir, const struct pkt *p)
{
    struct hl_flow *st = hl_timing(d, f, fs, p);
    struct http_msg m;
    if (st && st->mode == HM_HTTP && dir == DIR_S2C && http_eof(&st->u.hp[DIR_S2C], &m))
        hl_http_response(d, f, st, &m, p);
}

/* HTTP and TLS are read message by message: a hole is worth waiting for. */
static bool hl_framed(struct det *d, const struct flow *f, void *fs, int dir)
{
    const struct hl_slice *sl = fs;
    const struct hl_flow *st = det_lazy_at(d, sl->lazy);
    (void)f;
    (void)dir;
    return st && (st->mode == HM_HTTP || st->mode == HM_TLS);
}

static const struct stream_ops hl_stream_ops = {
    .buffered = false,
    .probe = hl_probe,
    .parse = hl_parse,
    .gap = hl_gap_cb,
    .eof = hl_eof,
    .framed = hl_framed,
};

/* ---- detector entry points (the rest are in health_srv.c) ---- */

static void hl_on_flow_end(struct det *d, const struct flow *f, void *fs)
{
    struct hl *h = hl_of(d);
    struct hl_slice *sl = fs;
    struct hl_flow *st = det_lazy_at(d, sl->lazy);
    if (!st)
        return; /* no payload: nothing was timed */
    const struct flow_record *rec = flow_rec(f);
    if (st->mode == HM_HTTP) {
        hl_slow_unread(d, f, st, rec->last_ts_ns);
        /* requests never answered: slow if the connection outlived the threshold */
        for (uint8_t i = 0; i < st->nreq; i++) {
            const struct hl_req *q = hl_rq(h, st, st->rq_head + i);
            if (q->answered || rec->last_ts_ns < q->end_ns)
                continue;
            double waited = (double)(rec->last_ts_ns - q->end_ns) / 1e9;
            if (waited <= h->slow_s)
                continue;
            hl_op(d, f, st, (struct health_op){.kind = HOP_SLOW, .flags = HOPF_ACTIVE});
            uint64_t fr[1] = {q->frame};
            hl_emit_slow(d, f, st, rec->last_ts_ns, -1, waited, 0, "HTTP", fr, 1);
        }
        hl_http_flush(d, f, st, HS_NO_RESPONSE, true);
    }
    hl_drop_requests(d, f, st);
    hl_rq_release(h, st);
    st->mode = HM_OFF;
    det_lazy_put(d, &sl->lazy);
}

/*
 * The slice of a compact flow (client SYNs only): the server slot, its generation and the two
 * flags a SYN sets (flow.h; the engine checks that it unpacks byte for byte).
 */
static const struct det_small_field hl_small[] = {
    DET_SMALL(struct hl_slice, srv),
    DET_SMALL(struct hl_slice, srv_gen),
    DET_SMALL(struct hl_slice, srv_done),
    DET_SMALL(struct hl_slice, counted_attempt),
};

/* ---- the per-flow half: what each segment counts, sent as HOP_COUNT ---- */

/*
 * What the server half reads, and when (why the per-flow half may hold counts back).
 *
 * With --workers, the server half (det_health_srv_ops, in the aggregator) sees no segment: the
 * per-flow half counts each segment as hl_on_packet does (attempt, SYN and SYN-ACK retries,
 * handshake and its RTT, resets, the failed handshake reset, zero windows, data segments,
 * bytes and retransmissions per direction, the server's last time and active mark) into a
 * struct health_count and sends it as a HOP_COUNT op, keyed at the segment (or later, below).
 * The server half applies it as hl_on_packet would have (hl_count: the attempt is decided
 * there, where the scan tracker is). The counts are sums, so applying a flow's segments'
 * counts together is applying them one by one, as long as nothing read them in between.
 * What reads them:
 *
 * - The interval close (hl_close_server: the row, rates, quantiles, alert rules, the row to
 *   the sinks, whence incident.c's on_health, the metrics and the database; the active mark:
 *   which servers close at all). It runs inside hl_advance, only when the clock reaches the
 *   interval's end, a multiple of the interval (the interval starts at one and ends after the
 *   newest time the clock was given, hl_advance). The clock is given a tick's time once a
 *   second (every engine, every worker: same positions, same times), every segment's time
 *   (hl_on_packet) and a stream chunk's (HOP_ADVANCE), and closes at on_finish.
 *   With an interval of whole seconds, a segment's time never closes one: the engine ticked
 *   at the first position of the current second with a time t of that second, the interval
 *   then ended after t, hence at the next second or later, and a segment's time is at most
 *   the engine's clock, in that same second. So intervals close at ticks, and at the end.
 *   Held-back counts are sent at each tick that may close (its time reaches a multiple of the
 *   interval beyond what this half knows the clock reached: health_flow_tick, called by the
 *   worker before the server half's tick at that position), at the flow's end (so at the
 *   end, all before on_finish: every flow ends first), and never past them. With an interval
 *   that is not whole seconds, a segment in any worker may close it: nothing is held back
 *   (hl.batch false), each segment sends its counts.
 *   A segment's or stream chunk's HOP_ADVANCE: sent only when its time reaches a multiple of
 *   the interval beyond fwd_ns (hl_fwd_advance, which sends what is held back first): any
 *   other time cannot close (the end is past every time given so far), and the clock keeps
 *   nothing else (hl_advance only starts and closes intervals).
 * - The server table's lookup of a new server when it is full (hl_victim, at a flow's first
 *   op or a failure finding): it skips the servers active this interval and takes the idle
 *   one with the oldest last_ns. Active: a flow's first segment after each possible close is
 *   sent at once (each flush of all entries starts a generation of hl.pend, and a flow whose
 *   sent_gen is older sends at once), so a server is active from the same segment on as in
 *   one engine.
 *   last_ns of an idle server: the time of the last segment counted for it (or failure).
 *   Counts sent at their last segment set it (as hl_on_packet); counts held back past it
 *   (HOPF_HELD: sent at a tick, all flows' together, or at the flow's end) only raise it,
 *   which is the same when capture times grow with the capture order. When they do not
 *   (frames out of time order across flows of one server, or a failure finding stamped
 *   earlier than a segment held back), the oldest idle server can differ with the table full
 *   (DET_MAX_SERVERS busy at once, a cap: worker.c lists where caps make outputs differ).
 * - The first op of a flow (any kind) looks its server up (health_apply_op): a flow's first
 *   segment is always sent at once (its first entry, or a SYN-only flow, below), so the
 *   lookups happen in the same order as one engine's.
 * - The scan tracker (an attempt is not counted for a scanner): read when a SYN's HOP_COUNT
 *   is applied, which a SYN always sends at once, keyed at it: as hl_on_packet.
 * - The handshake RTT quantiles: a DDSketch is a histogram (sketch.h), the order of its
 *   samples does not show, so the handshake's sample may wait like a count.
 * - Other ops of the flow (requests, samples, responses, slow responses, outstanding) and
 *   the failures other detectors report (hl_on_finding): they only add and mark active;
 *   they read none of these counts, so counts held back across them change nothing.
 *
 * Live (-i), each worker ticks on its own clock, and hands its clock on at the start of each
 * new second (wk_live_advance, worker.c): every worker's tick of a second, with what it held
 * back, comes before the server half's tick at worker 0 closes the interval, as offline.
 *
 * Sent at once, with what the flow held back: a client's first SYN (the attempt), a segment
 * of a SYN-only flow (a compact flow keeps only sent_gen of this half's slice: no entry),
 * and the flow's first segment in a generation. Every other segment (the SYN-ACK, the
 * handshake's ACK, data, ACKs, resets, zero windows, retries) is held back in the flow's
 * entry: a short flow sends two, at its SYN and at its end.
 */

/* The per-flow half's slice: the whole detector's, and where the flow's counts wait. */
struct hl_fslice {
    struct hl_slice sl; /* first: the stream parser's code takes either */
    uint32_t sent_gen;  /* the generation of hl.pend (hl.pend_gen) it last sent a count in */
    uint32_t pend;      /* index + 1 of its entry in hl.pend (taken in generation sent_gen;
                           0 = none) */
};

/* What a flow's segments counted and was not sent yet. */
struct hl_pend {
    const struct flow_node *node; /* the flow (det_flow_of_node); NULL: a free entry */
    uint32_t next_free;           /* free list: index + 1 of the next free entry */
    uint32_t flags;               /* HOPF_EST, HOPF_FAILED_RESET held back */
    bool dirty;                   /* something is held back */
    struct health_count c;        /* the counts held back */
};

size_t hl_pend_size(void)
{
    return sizeof(struct hl_pend);
}

/* Send what flow f counted (c, flags) to its server (the per-flow half: to the sink). */
static void hl_send_count(const struct flow *f, const struct health_count *c, uint32_t flags)
{
    struct health_op op = {
        .kind = HOP_COUNT, .flags = flags, .server = flow_rec(f)->server, .c = *c};
    if (flags & HOPF_ATTEMPT)
        op.client = flow_rec(f)->client.ip;
    if (hl_sink)
        hl_sink(hl_sink_ctx, f, &op);
}

/* Entry e's held-back counts into *c and *flags, the entry emptied. */
static void hl_pend_take(struct hl_pend *e, struct health_count *c, uint32_t *flags)
{
    *c = e->c;
    *flags = e->flags;
    memset(&e->c, 0, sizeof(e->c));
    e->flags = 0;
    e->dirty = false;
}

/* Send entry e's held-back counts of flow f, if any (held: HOPF_HELD, not at its segment). */
static void hl_pend_send(const struct flow *f, struct hl_pend *e, uint32_t held)
{
    if (!e->dirty)
        return;
    struct health_count c;
    uint32_t flags;
    hl_pend_take(e, &c, &flags);
    hl_send_count(f, &c, flags | held);
}

/*
 * The server half's interval may close: send every flow's held-back counts (in entry order)
 * and start a new generation (each flow's next counted segment is sent at once).
 */
static void hl_pend_flush_all(struct det *d)
{
    struct hl *h = hl_of(d);
    for (uint32_t i = 0; i < h->npend; i++) {
        struct hl_pend *e = &h->pend[i];
        const struct flow *f = e->node && e->dirty ? det_flow_of_node(d, e->node) : NULL;
        if (f) /* always when dirty: a flow with an entry is not compact (not SYN-only) */
            hl_pend_send(f, e, HOPF_HELD);
    }
    h->npend = 0;
    h->pend_free = 0;
    if (++h->pend_gen == 0)
        h->pend_gen = 1; /* 0 is a zeroed slice's */
}

/* fwd_ns to ts if later, and fwd_end after it. */
static void hl_fwd_to(struct hl *h, uint64_t ts)
{
    if (!h->fwd_started || ts > h->fwd_ns) {
        h->fwd_ns = ts;
        h->fwd_end = (ts / h->iv_ns + 1) * h->iv_ns;
    }
    h->fwd_started = true;
}

/*
 * The server half's clock to ts (the per-flow half): sent only when ts reaches a multiple of
 * the interval beyond fwd_ns, the newest time this half knows the clock reached; any other
 * time cannot close the interval (comment above). Held-back counts go first.
 */
static void hl_fwd_advance(struct det *d, const struct flow *f, uint64_t ts)
{
    struct hl *h = hl_of(d);
    if (h->fwd_started && ts < h->fwd_end)
        return;
    if (h->npend)
        hl_pend_flush_all(d);
    hl_fwd_to(h, ts);
    struct health_op op = {.kind = HOP_ADVANCE, .ts = ts};
    if (hl_sink)
        hl_sink(hl_sink_ctx, f, &op);
}

void health_flow_tick(struct det *d, uint64_t now_ns)
{
    struct hl *h = hl_of(d);
    if (!h || !h->remote)
        return;
    if ((!h->fwd_started || now_ns >= h->fwd_end) && h->npend)
        hl_pend_flush_all(d);
    hl_fwd_to(h, now_ns);
}

/* Flow f's entry (fl: its slice), taken if it has none; NULL when none is left (cannot
   happen: one per flow the engine holds). Only after the flow sent in this generation. */
static struct hl_pend *hl_pend_get(struct hl *h, struct hl_fslice *fl, const struct flow *f)
{
    if (fl->pend)
        return &h->pend[fl->pend - 1];
    uint32_t i;
    if (h->pend_free) {
        i = h->pend_free - 1;
        h->pend_free = h->pend[i].next_free;
    } else if (h->npend < h->pend_cap) {
        i = h->npend++;
    } else {
        return NULL;
    }
    struct hl_pend *e = &h->pend[i];
    memset(e, 0, sizeof(*e));
    e->node = det_node_of(f);
    fl->pend = i + 1;
    return e;
}

/*
 * A segment of flow f (the per-flow half): what hl_on_packet counts for the server, sent as
 * HOP_COUNT or held back (the comment above says which). Also the half's own record of the
 * handshake RTT being known (hl_timing reads it; the whole detector keeps it only for a
 * server it tracks: with more than DET_MAX_SERVERS busy servers the two can differ).
 */
static void hl_flow_on_packet(struct det *d, const struct flow *f, void *fs, const struct pkt *p,
                              const struct tcp_seg *sg)
{
    struct hl *h = hl_of(d);
    struct hl_fslice *fl = fs;
    struct hl_slice *sl = &fl->sl;
    const struct flow_record *rec = flow_rec(f);
    hl_fwd_advance(d, f, p->ts_ns);
    uint32_t flags = 0;
    if (sg->syn && !sg->syn_retry)
        flags |= HOPF_ATTEMPT;
    if (sg->hs_ack && !sl->counted_est) {
        sl->counted_est = true;
        sl->rtt_known = rec->hs_rtt_ns >= 0;
        flags |= HOPF_EST;
    }
    if (sg->rst == RST_HANDSHAKE && !sl->counted_reset) {
        sl->counted_reset = true;
        flags |= HOPF_FAILED_RESET;
    }
    if (fl->sent_gen != h->pend_gen)
        fl->pend = 0; /* its entry, if any, went with the last generation */
    /* at once: a SYN-only flow's segment (its slice keeps nothing but sent_gen), the first
       in this generation, an attempt; else held back in the flow's entry */
    bool now = !h->batch || rec->state == FS_SYN_SENT || fl->sent_gen != h->pend_gen ||
               (flags & HOPF_ATTEMPT);
    struct hl_pend *e = fl->pend || !now ? hl_pend_get(h, fl, f) : NULL;
    struct health_count one, *c = &one;
    if (e) {
        c = &e->c;
        e->flags |= flags;
        e->dirty = true;
    } else {
        memset(&one, 0, sizeof(one));
        now = true;
    }
    c->last_ns = p->ts_ns;
    c->syn_retries += sg->syn_retry;
    c->synack_retries += sg->synack_retry;
    if (flags & HOPF_EST)
        c->hs_rtt_ns = rec->hs_rtt_ns;
    c->resets += sg->rst != RST_NONE;
    c->zero_windows += (sg->ev & (1u << TEV_ZERO_WINDOW)) != 0;
    if (sg->data) {
        c->data_segs[sg->dir]++;
        c->bytes[sg->dir] += sg->len;
        c->retrans_segs[sg->dir] += sg->data_retrans;
        now |= c->data_segs[sg->dir] == UINT32_MAX; /* before a count wraps */
    }
    if (!now)
        return;
    fl->sent_gen = h->pend_gen;
    if (e)
        hl_pend_send(f, e, 0);
    else
        hl_send_count(f, &one, flags);
}

void health_flow_end(struct det *d, const struct flow *f, void *fs)
{
    struct hl *h = hl_of(d);
    struct hl_fslice *fl = fs;
    if (!fl->pend || fl->sent_gen != h->pend_gen)
        return;
    struct hl_pend *e = &h->pend[fl->pend - 1];
    hl_pend_send(f, e, HOPF_HELD);
    e->node = NULL;
    e->next_free = h->pend_free;
    h->pend_free = fl->pend;
    fl->pend = 0;
}

/* Flow f ends (the per-flow half): its held-back counts first, its entry given back. */
static void hl_flow_on_flow_end(struct det *d, const struct flow *f, void *fs)
{
    health_flow_end(d, f, fs);
    hl_on_flow_end(d, f, fs);
}

/* The per-flow half's slice of a compact flow: the generation its SYN was sent in. */
static const struct det_small_field hl_flow_small[] = {
    DET_SMALL(struct hl_fslice, sent_gen),
};

/* The per-flow half (--workers: in each worker; no server state, ops to the thread's sink). */
const struct det_ops det_health_flow_ops = {
    .name = "health-flow",
    .flow_state_size = sizeof(struct hl_fslice),
    .lazy_state_size = sizeof(struct hl_flow),
    .init = hl_init_flow,
    .on_packet = hl_flow_on_packet,
    .on_flow_end = hl_flow_on_flow_end,
    .on_finish = hl_on_finish,
    .free = hl_free,
    .small = hl_flow_small,
    .nsmall = sizeof(hl_flow_small) / sizeof(hl_flow_small[0]),
    .stream = &hl_stream_ops,
};

/*
 * The server half (--workers: in the aggregator; applies the per-flow half's ops, sees no
 * segment).
 */
const struct det_ops det_health_srv_ops = {
    .name = "health-srv",
    .flow_state_size = sizeof(struct hl_slice),
    .init = hl_init_srv,
    .on_tick = hl_on_tick,
    .on_finding = hl_on_finding,
    .on_finish = hl_on_finish,
    .free = hl_free,
    .small = hl_small,
    .nsmall = sizeof(hl_small) / sizeof(hl_small[0]),
};

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
    .small = hl_small,
    .nsmall = sizeof(hl_small) / sizeof(hl_small[0]),
    .stream = &hl_stream_ops,
};
