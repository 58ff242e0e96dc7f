/*
 * stream_layer.c - the stream layer: each TCP flow reassembled once per direction and its
 * bytes delivered in order to the application parsers (stream.h), with the flow's protocol
 * decided once from its first payload. A segment ahead of a hole is held while some parser
 * reads messages, until the hole fills or is given up (the hole then reaches the parsers as
 * a gap); held bytes are kept only in the window of a buffered parser (det_tls during a
 * handshake), else stepped over as a gap once the hole fills.
 */
#include <stdlib.h>
#include <string.h>

#include "analyzers/det.h"
#include "analyzers/flow.h"
#include "analyzers/http.h"
#include "analyzers/pool.h"
#include "analyzers/stream.h"
#include "analyzers/tls.h"

#define SL_MAX_PARSERS 4 /* stream parsers in the detector table, at most */
#define SL_MAX_PIECES                                                                              \
    6                                /* deliverable pieces one segment can make: a hole given up,  \
                                        a gap, the bytes, a cut, held bytes and what of them       \
                                        was not kept */
#define SL_MAX_FIRST_GAP (16u << 20) /* bytes missing before the first data seen, at most */
#define SL_HOLD_NS 1000000000ull     /* a hole not filled within 1 s of capture time is lost */
#define SL_HOLD_MAX (64u << 10)      /* ... or once this many bytes wait behind it */

/* One direction of a flow. */
struct sl_dir {
    bool seq_known;         /* next is valid */
    bool held;              /* a segment ahead of a hole is held (not delivered) */
    uint32_t held_len;      /* bytes held from held_seq on */
    uint64_t next;          /* stream offset of the next byte to deliver */
    uint64_t held_seq;      /* stream offset of the first byte held */
    uint64_t held_ns;       /* when the first held segment arrived */
    struct stream_dir *win; /* the buffered parser's window (in sl_flow.wins), or NULL */
};

/* A flow's layer state, taken from the pool at its first payload. */
struct sl_flow {
    uint8_t follow[2];    /* bit per parser slot: it follows direction dir */
    uint32_t wins;        /* handle of the flow's two windows (struct stream_dir[2]), 0 = none */
    struct sl_dir dir[2]; /* per direction (DIR_C2S, DIR_S2C) */
};

/* Something a segment made deliverable: bytes, or a gap. */
struct sl_piece {
    bool gap;         /* a gap (else bytes) */
    bool cut;         /* gap: cut by the snaplen */
    uint64_t off;     /* stream offset */
    uint64_t n;       /* bytes */
    const uint8_t *b; /* the bytes (packet or window), for bytes */
};

/* What the current segment made deliverable (one segment at a time). */
struct sl_plan {
    struct sl_flow *fl;                /* the flow's state, NULL: nothing for anyone */
    int dir;                           /* the segment's direction */
    const struct pkt *p;               /* the segment's packet */
    bool probe;                        /* the flow's first payload: parsers are asked */
    bool eof;                          /* the segment carries a FIN */
    bool window;                       /* new in-order bytes reached the window */
    unsigned np;                       /* pieces used */
    struct sl_piece pc[SL_MAX_PIECES]; /* in stream order */
    size_t consume;                    /* bytes the buffered parser consumed */
};

struct stream_layer {
    struct det *dets;           /* the engine's detectors */
    size_t ndets;               /* how many */
    int8_t *slot;               /* per detector: its parser slot, -1 if not a stream parser */
    int buffered;               /* slot of the buffered parser, -1 if none */
    unsigned nparsers;          /* parser slots used */
    size_t par[SL_MAX_PARSERS]; /* detector index of each slot */
    struct pool *flows;         /* struct sl_flow blocks */
    struct stream_pool *bufs;   /* window buffers of the buffered parser */
    struct pool *wins;          /* window pairs (struct stream_dir[2]) of the flows it follows */
    uint64_t exhausted;         /* buffers that could not be had */
    struct sl_plan plan;        /* the segment being delivered */
};

struct stream_layer *stream_layer_new(struct det *dets, size_t ndets, size_t max_flows, size_t cap,
                                      size_t nbuf)
{
    struct stream_layer *sl = calloc(1, sizeof(*sl));
    if (!sl)
        return NULL;
    sl->dets = dets;
    sl->ndets = ndets;
    sl->buffered = -1;
    sl->slot = malloc(ndets ? ndets : 1);
    if (!sl->slot)
        goto fail;
    for (size_t i = 0; i < ndets; i++) {
        const struct stream_ops *so = dets[i].ops->stream;
        sl->slot[i] = -1;
        if (!so)
            continue;
        if (!so->probe || !so->parse || !so->gap)
            goto fail;
        if (sl->nparsers == SL_MAX_PARSERS || (so->buffered && sl->buffered >= 0))
            goto fail;
        if (so->buffered)
            sl->buffered = (int)sl->nparsers;
        sl->par[sl->nparsers] = i;
        sl->slot[i] = (int8_t)sl->nparsers++;
    }
    sl->flows = pool_new(max_flows, sizeof(struct sl_flow));
    if (!sl->flows)
        goto fail;
    if (sl->buffered >= 0 && (!(sl->bufs = stream_pool_new(nbuf, cap)) ||
                              !(sl->wins = pool_new(nbuf / 2 + 1, 2 * sizeof(struct stream_dir)))))
        goto fail;
    return sl;
fail:
    stream_layer_free(sl);
    return NULL;
}

void stream_layer_free(struct stream_layer *sl)
{
    if (!sl)
        return;
    pool_free(sl->flows);
    pool_free(sl->wins);
    stream_pool_free(sl->bufs);
    free(sl->slot);
    free(sl);
}

uint64_t stream_layer_bytes(const struct stream_layer *sl)
{
    struct pool_stats ps;
    pool_get_stats(sl->flows, &ps);
    return (uint64_t)ps.used * ps.block;
}

uint64_t stream_layer_exhausted(const struct stream_layer *sl)
{
    return sl->exhausted;
}

enum stream_proto stream_proto(const struct flow *f)
{
    return (enum stream_proto)f->proto;
}

bool stream_hole(const struct flow *f, int dir)
{
    return (f->stream_holes >> (dir & 1)) & 1;
}

/* The protocol of a flow whose first payload is b[0, n) in direction dir. */
static enum stream_proto sl_detect(int dir, const uint8_t *b, size_t n)
{
    if (dir != DIR_C2S || n == 0)
        return STREAM_PROTO_OTHER; /* the server spoke first: not TLS, not HTTP */
    if (tls_looks_like(b, n))
        return STREAM_PROTO_TLS;
    if (http_looks_like_request(b, n))
        return STREAM_PROTO_HTTP;
    return STREAM_PROTO_OTHER;
}

/* True when some parser following direction dir still reads messages. */
static bool sl_framed(struct stream_layer *sl, const struct flow *f, const struct sl_flow *fl,
                      int dir)
{
    for (unsigned i = 0; i < sl->nparsers; i++) {
        struct det *d = &sl->dets[sl->par[i]];
        const struct stream_ops *so = d->ops->stream;
        if ((fl->follow[dir] >> i & 1) && so->framed && so->framed(d, f, f->ext + d->off, dir))
            return true;
    }
    return false;
}

/*
 * A segment ahead of a hole is held when the hole is probably reordering and its bytes sit
 * inside a message: HTTP bytes that do not begin a message (those begin one after messages
 * lost for good: framed afresh at once), or TLS bytes.
 */
static bool sl_holdable(struct stream_layer *sl, const struct flow *f, const struct sl_flow *fl,
                        int dir, const struct pkt *p, const struct tcp_seg *sg)
{
    if (f->proto != STREAM_PROTO_TLS && f->proto != STREAM_PROTO_HTTP)
        return false;
    if (!sl_framed(sl, f, fl, dir))
        return false;
    if (f->proto == STREAM_PROTO_TLS)
        return true;
    size_t n = p->payload ? p->payload_caplen : 0;
    if (n > sg->len)
        n = sg->len;
    if (n == 0)
        return true;
    return dir == DIR_C2S ? !http_looks_like_request(p->payload, n)
                          : !http_looks_like_response(p->payload, n);
}

/* Nothing deliverable yet (the pieces are not cleared: np says how many are valid). */
static void sl_plan_reset(struct sl_plan *pl)
{
    pl->fl = NULL;
    pl->p = NULL;
    pl->probe = pl->eof = pl->window = false;
    pl->np = 0;
    pl->consume = 0;
}

/* Add a piece (none for 0 bytes); one segment makes at most SL_MAX_PIECES. */
static void sl_piece(struct sl_plan *pl, bool gap, bool cut, uint64_t off, uint64_t n,
                     const uint8_t *b)
{
    if (n == 0 || pl->np == SL_MAX_PIECES)
        return;
    pl->pc[pl->np++] = (struct sl_piece){gap, cut, off, n, b};
}

/* Give direction dir's window back (and the pair once both are). */
static void sl_close_window(struct stream_layer *sl, struct sl_flow *fl, int dir)
{
    struct sl_dir *sd = &fl->dir[dir];
    if (sd->win) {
        stream_close(sl->bufs, sd->win);
        sd->win = NULL;
    }
    if (!fl->dir[0].win && !fl->dir[1].win) {
        pool_put(sl->wins, fl->wins);
        fl->wins = 0;
    }
}

/* Keep a segment's captured bytes in the window, if there is one. */
static void sl_store(struct sl_plan *pl, struct sl_dir *sd, uint64_t seq, const struct pkt *p,
                     uint64_t avail)
{
    if (!sd->win || avail == 0)
        return;
    enum stream_add_res r = stream_add(sd->win, seq, p->payload, (size_t)avail);
    pl->window |= r == STREAM_IN_ORDER || r == STREAM_CAPPED;
}

/*
 * Held bytes [from, to) can be delivered: from the window where it kept them, the rest as a
 * gap.
 */
static void sl_release_held(struct sl_plan *pl, struct sl_dir *sd, uint64_t from, uint64_t to)
{
    uint64_t kept = from;
    if (sd->win && from >= sd->win->base && sd->win->base + sd->win->len > from) {
        kept = sd->win->base + sd->win->len < to ? sd->win->base + sd->win->len : to;
        sl_piece(pl, false, false, from, kept - from, sd->win->buf + (from - sd->win->base));
    }
    sl_piece(pl, true, false, kept, to - kept, NULL);
}

/*
 * A held segment (ahead of a hole) and this one: it extends the held bytes (done), or fills the
 * hole (or part of it: go on), or the hole is taken as lost (not filled in time, another
 * hole, or this segment begins a message: the hole will not be filled before it) and stepped
 * over together with the held bytes. *done: nothing more to do with this segment.
 */
static void sl_hold_check(struct sl_plan *pl, struct sl_dir *sd, const struct pkt *p, uint64_t seq,
                          uint64_t end, bool starts, bool *done)
{
    uint64_t next = sd->next, held_end = sd->held_seq + sd->held_len;
    bool stale = p->ts_ns - sd->held_ns > SL_HOLD_NS || sd->held_len + (end - seq) > SL_HOLD_MAX;
    *done = false;
    if (seq == held_end && !stale && !starts) {
        sd->held_len += (uint32_t)(end - seq);
        *done = true;
        return;
    }
    if (seq <= next && !stale)
        return; /* fills the hole (or part of it): deliver it */
    sd->held = false;
    sd->next = held_end;
    sl_piece(pl, true, false, next, held_end - next, NULL);
    *done = end <= held_end;
}

/*
 * The new bytes of a segment. Retransmitted bytes are not new. A segment ahead of a hole is
 * held until the hole fills (reordering at the tap, a retransmission of a segment lost before
 * it); the held bytes follow then. A hole never filled, or bytes cut by the snaplen, are gaps.
 */
static void sl_segment_bytes(struct stream_layer *sl, const struct flow *f, struct sl_flow *fl,
                             const struct pkt *p, const struct tcp_seg *sg)
{
    struct sl_plan *pl = &sl->plan;
    int dir = sg->dir & 1;
    struct sl_dir *sd = &fl->dir[dir];
    uint64_t seq = sg->rel_seq, end = sg->rel_seq + sg->len;
    if (!sd->seq_known) {
        /* relative sequence 0 is the direction's first byte (after the ISN, or the peer's
           acknowledgment point when picked up mid-stream): bytes missing before the first
           data seen are a gap too, unless the distance is implausible (odd segments such as
           an out-of-window reset can move the relative base) */
        sd->seq_known = true;
        sd->next = seq <= SL_MAX_FIRST_GAP ? 0 : seq;
        if (sd->win)
            sd->win->base = sd->next;
    }
    uint64_t avail = p->payload ? p->payload_caplen : 0;
    if (avail > sg->len)
        avail = sg->len;
    /* the window takes every segment: what it holds beyond a hole, it delivers once filled */
    sl_store(pl, sd, seq, p, avail);
    if (end <= sd->next)
        return; /* nothing new */
    if (sd->held) {
        bool done;
        sl_hold_check(pl, sd, p, seq, end, !sl_holdable(sl, f, fl, dir, p, sg), &done);
        if (done)
            return;
    }
    uint64_t next = sd->next;
    if (end <= next)
        return;
    if (seq > next && !sd->held && sl_holdable(sl, f, fl, dir, p, sg)) {
        sd->held = true; /* wait for the hole to be filled */
        sd->held_seq = seq;
        sd->held_len = (uint32_t)(end - seq);
        sd->held_ns = p->ts_ns;
        return;
    }
    uint64_t gap = seq > next ? seq - next : 0;
    uint64_t skip = seq < next ? next - seq : 0;
    uint64_t tail = sg->len - (avail > skip ? avail : skip);
    sd->next = end;
    if (gap && sd->win) {
        /* the window cannot step over a hole: the buffered parser gets the gap and stops */
        sl_close_window(sl, fl, dir);
    }
    sl_piece(pl, true, false, next, gap, NULL);
    if (avail > skip)
        sl_piece(pl, false, false, seq + skip, avail - skip, p->payload + skip);
    sl_piece(pl, true, true, end - tail, tail, NULL);
    /* the hole before held bytes is filled: the held bytes follow */
    if (sd->held && sd->next >= sd->held_seq) {
        uint64_t held_end = sd->held_seq + sd->held_len;
        sd->held = false;
        if (sd->next < held_end) {
            sl_release_held(pl, sd, sd->next, held_end);
            sd->next = held_end;
        }
    }
}

/* Take windows for both directions of a flow that the buffered parser may follow. */
static bool sl_open_windows(struct stream_layer *sl, struct sl_flow *fl)
{
    fl->wins = pool_get(sl->wins);
    struct stream_dir *w = pool_at(sl->wins, fl->wins);
    if (!w) {
        sl->exhausted++;
        return false;
    }
    for (int dir = 0; dir < 2; dir++) {
        struct sl_dir *sd = &fl->dir[dir];
        sd->win = &w[dir];
        if (stream_open(sl->bufs, sd->win, sd->seq_known ? sd->next : 0) < 0) {
            sl_close_window(sl, fl, 0);
            sl_close_window(sl, fl, 1);
            sl->exhausted++;
            return false;
        }
    }
    return true;
}

/*
 * Bytes wait ahead of a hole: held by the layer, or held by a window (still read by the
 * buffered parser) beyond bytes it could not keep (past its end while the parser had not
 * consumed enough) or could not track.
 */
static void sl_holes(const struct stream_layer *sl, struct flow *f, const struct sl_flow *fl)
{
    uint8_t h = 0;
    for (int dir = 0; dir < 2; dir++) {
        const struct sl_dir *sd = &fl->dir[dir];
        bool read = sl->buffered >= 0 && (fl->follow[dir] >> sl->buffered & 1);
        if (sd->held || (sd->win && read && (stream_has_hole(sd->win) || sd->win->gap)))
            h |= (uint8_t)(1u << dir);
    }
    f->stream_holes = h;
}

void stream_layer_segment(struct stream_layer *sl, struct flow *f, const struct pkt *p,
                          const struct tcp_seg *sg)
{
    struct sl_plan *pl = &sl->plan;
    sl_plan_reset(pl);
    bool bytes = sg->len && sg->has_rel && !(sg->ev & (1u << TEV_KEEP_ALIVE));
    struct sl_flow *fl = pool_at(sl->flows, f->stream);
    if (!fl) {
        if (!bytes || sl->nparsers == 0)
            return;
        f->stream = pool_get(sl->flows);
        fl = pool_at(sl->flows, f->stream);
        if (!fl)
            return;
        size_t n = p->payload ? p->payload_caplen : 0;
        f->proto = (uint8_t)sl_detect(sg->dir, p->payload, n < sg->len ? n : sg->len);
        pl->probe = true;
    }
    pl->fl = fl;
    pl->dir = sg->dir & 1;
    pl->p = p;
    if (pl->probe && f->proto == STREAM_PROTO_TLS && sl->buffered >= 0)
        (void)sl_open_windows(sl, fl);
    if (bytes)
        sl_segment_bytes(sl, f, fl, p, sg);
    pl->eof = (p->flags & TCP_FIN) != 0;
    sl_holes(sl, f, fl);
}

/* Parser slot i stops following direction dir (or the flow: dir < 0). */
static void sl_unfollow(struct sl_flow *fl, unsigned i, int dir)
{
    for (int k = 0; k < 2; k++)
        if (dir < 0 || dir == k)
            fl->follow[k] &= (uint8_t) ~(1u << i);
}

/* Apply a verdict of parser slot i for direction dir; true when it stops that direction. */
static bool sl_verdict(struct sl_flow *fl, unsigned i, int dir, int v)
{
    if (v == STREAM_DONE_DIR || v == STREAM_DONE) {
        sl_unfollow(fl, i, v == STREAM_DONE ? -1 : dir);
        return true;
    }
    return false;
}

/* Hand the plan's pieces to an unbuffered parser. */
static void sl_deliver_pieces(struct sl_plan *pl, struct det *d, const struct flow *f, void *fs,
                              unsigned i)
{
    const struct stream_ops *so = d->ops->stream;
    for (unsigned k = 0; k < pl->np; k++) {
        const struct sl_piece *pc = &pl->pc[k];
        int v;
        if (pc->gap) {
            struct stream_gap g = {pl->dir, pc->off, pc->n, pc->cut, pl->p};
            v = so->gap(d, f, fs, &g);
        } else {
            struct stream_chunk c = {pl->dir, pc->off, pc->b, (size_t)pc->n, false, pl->p};
            v = so->parse(d, f, fs, &c);
        }
        if (sl_verdict(pl->fl, i, pl->dir, v))
            return;
    }
}

/* Hand the buffered parser what its window holds, or the first gap. */
static void sl_deliver_window(struct stream_layer *sl, struct det *d, const struct flow *f,
                              void *fs, unsigned i)
{
    struct sl_plan *pl = &sl->plan;
    const struct stream_ops *so = d->ops->stream;
    struct sl_dir *sd = &pl->fl->dir[pl->dir];
    for (unsigned k = 0; k < pl->np; k++) {
        const struct sl_piece *pc = &pl->pc[k];
        if (!pc->gap)
            continue;
        struct stream_gap g = {pl->dir, pc->off, pc->n, pc->cut, pl->p};
        (void)so->gap(d, f, fs, &g);
        sl_unfollow(pl->fl, i, pl->dir); /* the window cannot step over a hole */
        return;
    }
    size_t n;
    const uint8_t *b = stream_data(sd->win, &n);
    if (!pl->window || !b || n == 0)
        return;
    struct stream_chunk c = {pl->dir, sd->win->base, b, n, sd->win->len == sd->win->cap, pl->p};
    int v = so->parse(d, f, fs, &c);
    if (!sl_verdict(pl->fl, i, pl->dir, v) && v > 0)
        pl->consume = (size_t)v;
}

void stream_layer_deliver(struct stream_layer *sl, struct det *d, const struct flow *f, void *fs)
{
    struct sl_plan *pl = &sl->plan;
    int slot = sl->slot[d - sl->dets];
    if (!pl->fl || slot < 0)
        return;
    unsigned i = (unsigned)slot;
    const struct stream_ops *so = d->ops->stream;
    if (pl->probe) {
        bool can = i != (unsigned)sl->buffered || pl->fl->dir[0].win != NULL;
        if (so->probe(d, f, fs, (enum stream_proto)f->proto, can, pl->p) == STREAM_FOLLOW) {
            pl->fl->follow[0] |= (uint8_t)(1u << i);
            pl->fl->follow[1] |= (uint8_t)(1u << i);
        }
    }
    if (!(pl->fl->follow[pl->dir] >> i & 1))
        return;
    if ((int)i == sl->buffered)
        sl_deliver_window(sl, d, f, fs, i);
    else
        sl_deliver_pieces(pl, d, f, fs, i);
    if (pl->eof && (pl->fl->follow[pl->dir] >> i & 1) && so->eof)
        so->eof(d, f, fs, pl->dir, pl->p);
}

bool stream_layer_planned(const struct stream_layer *sl)
{
    return sl->plan.fl != NULL;
}

void stream_layer_done(struct stream_layer *sl, struct flow *f)
{
    struct sl_plan *pl = &sl->plan;
    struct sl_flow *fl = pl->fl;
    if (!fl)
        return;
    struct sl_dir *sd = &fl->dir[pl->dir];
    if (pl->consume)
        stream_consume(sd->win, pl->consume);
    for (int dir = 0; dir < 2 && sl->buffered >= 0; dir++)
        if (fl->dir[dir].win && !(fl->follow[dir] >> sl->buffered & 1))
            sl_close_window(sl, fl, dir);
    sl_holes(sl, f, fl);
    sl_plan_reset(pl);
}

void stream_layer_flow_end(struct stream_layer *sl, struct flow *f)
{
    struct sl_flow *fl = pool_at(sl->flows, f->stream);
    if (fl && sl->bufs) {
        sl_close_window(sl, fl, 0);
        sl_close_window(sl, fl, 1);
    }
    pool_put(sl->flows, f->stream);
    f->stream = 0;
    f->proto = STREAM_PROTO_UNKNOWN;
    f->stream_holes = 0;
}
