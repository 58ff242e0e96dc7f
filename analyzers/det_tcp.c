/*
 * det_tcp.c - findings from the TCP events that tcp.c counts per flow: one finding per event
 * kind per flow when the flow ends (retransmissions, lost segments, zero windows, ...), and
 * every tcp_report_ns for flows that stay open (the events since the last report), one per
 * reset as it happens, capture loss, and flows of which only one direction was captured.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/det.h"
#include "analyzers/tcp.h"

#define DT_NKINDS 10              /* kinds reported per flow: entries of dt_kinds */
#define DT_ONE_DIR_MIN_PKTS 3     /* one-direction finding only for flows with this many packets */
#define DT_NRATE 5                /* kinds shown as a share of data segments (dt_kinds.rate) */

/* The facts of one RST segment, enough to write its finding later. */
struct dt_rst {
    bool used;                /* held: written when the flow ends */
    bool contradicted;        /* a later packet of the sender carried the reset's TTL */
    uint8_t dir;              /* sender */
    enum rst_phase phase;     /* when in the connection */
    uint8_t ttl;              /* its TTL / hop limit */
    bool mismatch;            /* the TTL differed from the sender's packets before it */
    uint8_t ttl_min, ttl_max; /* the sender's TTLs before it */
    int16_t expected;         /* the nearest of them, -1 if unknown */
    uint64_t ts_ns;           /* when */
    uint64_t frame;           /* its frame */
    uint64_t bytes[2];        /* payload bytes per direction before it */
};

/* Per-flow state every flow has (zeroed when the flow starts). */
struct dt_slice {
    uint32_t lazy;           /* handle of the flow's struct dt_flow (det_lazy), 0 = none yet */
    bool one_dir_reported;   /* the one-direction finding was written */
    uint8_t syn_rtx;         /* client SYN retries not yet in a block (dt_on_packet): their
                                times and frames are the client half's SYN log */
    uint64_t last_report_ns; /* last interim report (0: none yet) */
};

/*
 * Per-flow event state, taken from the pool at the flow's first TCP event (a SYN-only or
 * clean flow never takes one).
 */
struct dt_flow {
    uint32_t frames[DT_NKINDS][FINDING_FRAMES_MAX]; /* evidence, frame - first_frame */
    uint8_t nframes[DT_NKINDS];                     /* frames[k] entries used */
    uint64_t first_ts[DT_NKINDS];                   /* time of the first event of each kind */
    bool zw_open[2];                                /* direction is advertising a zero window */
    uint64_t zw_start[2];                           /* since when */
    uint64_t zw_total_ns[2];                        /* total time at zero window */
    uint64_t zw_max_ns[2];                          /* longest zero-window period */
    uint32_t done_ev[DT_NKINDS][2];                 /* events already reported, per direction */
    uint64_t done_segs[DT_NRATE][2];                /* data segments when a kind was reported */
    uint64_t done_up, done_down;                    /* loss locations already reported */
    uint64_t done_unneeded, done_ctl;               /* D-SACK'd and SYN/FIN ones reported */
    uint64_t done_caploss;                          /* capture-loss bytes already reported */
    struct dt_rst held;                             /* a reset whose TTL differed, held until
                                                       the flow ends (later packets judge it) */
};

/* Global state: the thresholds. */
struct dt_state {
    uint32_t notable;   /* events of a kind (since the last report) before a finding */
    uint64_t report_ns; /* interim report period for open flows; 0 = only at flow end */
};

static bool dt_tables_agree(void);

static int dt_init(struct det *d, const struct eng_config *cfg)
{
    if (!dt_tables_agree())
        return ERR_FORMAT; /* a programming error: every engine test would fail on it */
    struct dt_state *g = calloc(1, sizeof(*g));
    if (!g)
        return ERR_NOMEM;
    g->notable = cfg->notable_events ? cfg->notable_events : 1;
    g->report_ns = cfg->tcp_report_ns;
    d->priv = g;
    return 0;
}

static void dt_free(struct det *d)
{
    free(d->priv);
    d->priv = NULL;
}

/*
 * The kinds this detector reports per flow, each from one TCP event counter: slot k of the
 * per-kind arrays in dt_flow is entry k here. Nothing depends on the order of enum tcp_ev
 * or enum fkind; dt_slot_of maps an event back to its slot.
 */
/* clang-format off */
static const struct dt_kind {
    enum tcp_ev tev;     /* the event counted */
    enum fkind kind;     /* the finding written */
    int8_t rate;         /* slot in done_segs (shown as a share of data segments), -1: none */
    const char *noun[2]; /* singular, plural */
} dt_kinds[DT_NKINDS] = {
    {TEV_RETRANSMISSION, FK_RETRANSMISSION, 0,
     {"retransmission", "retransmissions"}},
    {TEV_FAST_RETRANSMISSION, FK_FAST_RETRANSMISSION, 1,
     {"fast retransmission", "fast retransmissions"}},
    {TEV_SPURIOUS_RETRANSMISSION, FK_SPURIOUS_RETRANSMISSION, 2,
     {"spurious retransmission", "spurious retransmissions"}},
    {TEV_OUT_OF_ORDER, FK_OUT_OF_ORDER, 3,
     {"out-of-order segment", "out-of-order segments"}},
    {TEV_LOST_SEGMENT, FK_LOST_SEGMENT, 4,
     {"sequence gap (previous segment not captured)",
      "sequence gaps (previous segment not captured)"}},
    {TEV_DUP_ACK, FK_DUP_ACK, -1,
     {"duplicate ACK", "duplicate ACKs"}},
    {TEV_ZERO_WINDOW, FK_ZERO_WINDOW, -1,
     {"zero window advertisement", "zero window advertisements"}},
    {TEV_WINDOW_FULL, FK_WINDOW_FULL, -1,
     {"window-full segment", "window-full segments"}},
    {TEV_KEEP_ALIVE, FK_KEEP_ALIVE, -1,
     {"keep-alive", "keep-alives"}},
    {TEV_CAPTURE_LOSS, FK_CAPTURE_LOSS, -1,
     {"ACK of bytes never captured", "ACKs of bytes never captured"}},
};
/* clang-format on */

/* Slot + 1 of each TCP event in dt_kinds; 0: not reported per flow (reset, duplicates). */
static const uint8_t dt_slot_of[TEV__COUNT] = {
    [TEV_RETRANSMISSION] = 1, [TEV_FAST_RETRANSMISSION] = 2, [TEV_SPURIOUS_RETRANSMISSION] = 3,
    [TEV_OUT_OF_ORDER] = 4,   [TEV_LOST_SEGMENT] = 5,        [TEV_DUP_ACK] = 6,
    [TEV_ZERO_WINDOW] = 7,    [TEV_WINDOW_FULL] = 8,         [TEV_KEEP_ALIVE] = 9,
    [TEV_CAPTURE_LOSS] = 10,
};

/* Slot of TCP event e, or -1 when det_tcp does not report it per flow. */
static int dt_index(int e)
{
    return e >= 0 && e < TEV__COUNT ? dt_slot_of[e] - 1 : -1;
}

/* The two tables agree, and each kind's finding reports that event (checked at start-up). */
static bool dt_tables_agree(void)
{
    int rates = 0;
    for (int k = 0; k < DT_NKINDS; k++) {
        const struct dt_kind *x = &dt_kinds[k];
        if (dt_index(x->tev) != k || fk_info(x->kind)->tev != (int)x->tev || x->rate >= DT_NRATE)
            return false;
        rates += x->rate >= 0;
    }
    return rates == DT_NRATE;
}

static const char *dt_side(int dir)
{
    return dir == DIR_C2S ? "client" : "server";
}

static const char *dt_arrow(int dir)
{
    return dir == DIR_C2S ? "client->server" : "server->client";
}

/* snprintf into buf at *pos, clamping at the end (never overflows, always terminated). */
static void dt_cat(char *buf, size_t n, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void dt_cat(char *buf, size_t n, size_t *pos, const char *fmt, ...)
{
    if (*pos >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *pos, n - *pos, fmt, ap);
    va_end(ap);
    if (w < 0)
        return;
    *pos += (size_t)w;
    if (*pos >= n)
        *pos = n - 1;
}

static void dt_zw_close(struct dt_flow *st, int dir, uint64_t ts)
{
    if (!st->zw_open[dir])
        return;
    uint64_t dur = ts > st->zw_start[dir] ? ts - st->zw_start[dir] : 0;
    st->zw_total_ns[dir] += dur;
    if (dur > st->zw_max_ns[dir])
        st->zw_max_ns[dir] = dur;
    st->zw_open[dir] = false;
}

static const char *dt_phase_text(enum rst_phase ph)
{
    switch (ph) {
    case RST_ANSWER_TO_SYN:
        return "in answer to the SYN (connection refused)";
    case RST_HANDSHAKE:
        return "during the handshake";
    case RST_MID:
        return "mid-transfer (connection aborted)";
    case RST_AFTER_FIN:
        return "after a FIN (closing)";
    default:
        return "";
    }
}

/* The FK_RESET finding of reset h of flow f. */
static void dt_reset_emit(struct det *d, const struct flow *f, const struct dt_rst *h)
{
    const struct flow_record *r = flow_rec(f);
    enum severity sev = SEV_WARN;
    if (h->phase == RST_AFTER_FIN || h->phase == RST_ANSWER_TO_SYN)
        sev = SEV_INFO;
    struct finding fd;
    det_finding_init(&fd, f, FK_RESET, sev, h->ts_ns);
    fd.frames[0] = h->frame;
    fd.nframes = 1;
    size_t pos = 0;
    double age = (double)(h->ts_ns - r->first_ts_ns) / NS_PER_S;
    if (h->bytes[DIR_C2S] + h->bytes[DIR_S2C] == 0)
        dt_cat(fd.detail, sizeof(fd.detail), &pos, "RST from the %s %s, %.3f ms after the first "
               "packet, before any data", dt_side(h->dir), dt_phase_text(h->phase), age * 1e3);
    else
        dt_cat(fd.detail, sizeof(fd.detail), &pos,
               "RST from the %s %s, %.3f s into the connection, after %" PRIu64
               " bytes client->server and %" PRIu64 " bytes server->client",
               dt_side(h->dir), dt_phase_text(h->phase), age, h->bytes[DIR_C2S],
               h->bytes[DIR_S2C]);
    bool mismatch = h->mismatch && !h->contradicted;
    if (h->mismatch) {
        char ttls[16];
        if (h->ttl_min == h->ttl_max)
            snprintf(ttls, sizeof(ttls), "%u", h->ttl_min);
        else
            snprintf(ttls, sizeof(ttls), "%u-%u", h->ttl_min, h->ttl_max);
        if (mismatch) {
            dt_cat(fd.detail, sizeof(fd.detail), &pos,
                   "; TTL %u differs from the %s's other packets (%s): possibly forged by a "
                   "middlebox (firewall, IPS, load balancer)",
                   h->ttl, dt_side(h->dir), ttls);
            fd.confidence = 0.7f;
        } else {
            dt_cat(fd.detail, sizeof(fd.detail), &pos,
                   "; TTL %u differs from the %s's earlier packets (%s), but its later packets "
                   "carry it too: its own (the path changed), not forged",
                   h->ttl, dt_side(h->dir), ttls);
        }
    }
    fd.fx.reset.from = h->dir;
    fd.fx.reset.phase = h->phase;
    fd.fx.reset.ttl = h->ttl;
    fd.fx.reset.ttl_expected = h->expected;
    fd.fx.reset.ttl_mismatch = mismatch;
    det_emit(d, &fd);
}

/*
 * One FK_RESET finding per RST segment. The first one whose TTL differs from its sender's
 * earlier packets is held until the flow ends: the sender's later packets say whether that
 * TTL is its own (the path changed) or a middlebox's. Without a block (pool empty) it is
 * written at once.
 */
static void dt_reset(struct det *d, const struct flow *f, struct dt_flow *st, const struct pkt *p,
                     const struct tcp_seg *s)
{
    const struct flow_record *r = flow_rec(f);
    const struct tcp_half *hf = flow_half(f, s->dir);
    struct dt_rst h;
    memset(&h, 0, sizeof(h));
    h.dir = (uint8_t)s->dir;
    h.phase = s->rst;
    h.ttl = p->ttl;
    h.mismatch = s->rst_ttl_mismatch;
    h.ttl_min = hf->ttl_min;
    h.ttl_max = hf->ttl_max;
    h.expected =
        (int16_t)(hf->ttl_known ? (p->ttl < hf->ttl_min ? hf->ttl_min : hf->ttl_max) : -1);
    h.ts_ns = p->ts_ns;
    h.frame = p->frame;
    h.bytes[DIR_C2S] = r->bytes[DIR_C2S];
    h.bytes[DIR_S2C] = r->bytes[DIR_S2C];
    if (h.mismatch && st && !st->held.used) {
        h.used = true;
        st->held = h;
        return;
    }
    dt_reset_emit(d, f, &h);
}

static void dt_report(struct det *d, const struct flow *f, struct dt_flow *st, bool interim,
                      uint64_t now);
static void dt_packet_state(struct dt_flow *st, const struct flow *f, const struct pkt *p,
                            const struct tcp_seg *s);

/*
 * The evidence of the first n SYN retries of the client (entries 1..n of its SYN log) as
 * dt_packet_state would have written it: each raised a retransmission and nothing else.
 */
static void dt_fill_syn_rtx(struct dt_flow *st, const struct flow *f, uint32_t n)
{
    const struct tcp_half *h = flow_half(f, DIR_C2S);
    int k = dt_index(TEV_RETRANSMISSION);
    for (uint32_t i = 1; k >= 0 && i <= n && i < h->nsyn_log; i++) {
        uint64_t rel = h->syn_log_frame[i] - flow_rec(f)->first_frame;
        if (st->nframes[k] == 0)
            st->first_ts[k] = h->syn_log_ns[i];
        if (st->nframes[k] < FINDING_FRAMES_MAX)
            st->frames[k][st->nframes[k]++] = rel > UINT32_MAX ? UINT32_MAX : (uint32_t)rel;
    }
}

/* The flow's block, taken now if it has none (the SYN retries it deferred written into it). */
static struct dt_flow *dt_get(struct det *d, const struct flow *f, struct dt_slice *sl)
{
    bool fresh = sl->lazy == 0;
    struct dt_flow *st = det_lazy_get(d, &sl->lazy);
    if (st && fresh)
        dt_fill_syn_rtx(st, f, sl->syn_rtx);
    sl->syn_rtx = 0;
    return st;
}

/*
 * A client SYN retry of a flow that has sent nothing but SYNs and has no block: its only event
 * (a retransmission) is already in the client half's SYN log, so the block waits until the
 * flow needs it for something else or reports (a SYN-only flow stays compact: flow.h).
 */
static bool dt_defer_syn(const struct flow *f, const struct dt_slice *sl, const struct pkt *p,
                         const struct tcp_seg *s)
{
    const struct tcp_half *h = flow_half(f, DIR_C2S);
    return !sl->lazy && s->ev == 1u << TEV_RETRANSMISSION && !s->rst_ttl_mismatch &&
           s->dir == DIR_C2S && s->syn && p->tcp_len == 0 && sl->syn_rtx < UINT8_MAX &&
           h->nsyn_log == sl->syn_rtx + 2u && flow_rec(f)->packets[DIR_C2S] == h->nsyn_log;
}

static void dt_on_packet(struct det *d, const struct flow *f, void *fs, const struct pkt *p,
                         const struct tcp_seg *s)
{
    struct dt_slice *sl = fs;
    uint32_t ev = s->ev;
    /* Without an event there is nothing to remember unless a zero window is open or a reset
       is held; a reset whose TTL differs needs a block to be held in. */
    struct dt_flow *st = NULL;
    if (dt_defer_syn(f, sl, p, s))
        sl->syn_rtx++;
    else if (ev || s->rst_ttl_mismatch)
        st = dt_get(d, f, sl);
    else
        st = det_lazy_at(d, sl->lazy);
    if (st)
        dt_packet_state(st, f, p, s);
    if (s->rst != RST_NONE)
        dt_reset(d, f, st, p, s);
    /* Long connections: report what happened so far every report_ns, not only at the end. */
    const struct dt_state *g = d->priv;
    if (g->report_ns) {
        uint64_t since = sl->last_report_ns ? sl->last_report_ns : flow_rec(f)->first_ts_ns;
        if (p->ts_ns > since && p->ts_ns - since >= g->report_ns) {
            sl->last_report_ns = p->ts_ns;
            if (!st && sl->syn_rtx)
                st = dt_get(d, f, sl);
            if (st)
                dt_report(d, f, st, true, p->ts_ns);
        }
    }
}

/* Remember segment s's events (evidence frames, zero-window periods) in st. */
static void dt_packet_state(struct dt_flow *st, const struct flow *f, const struct pkt *p,
                            const struct tcp_seg *s)
{
    uint32_t ev = s->ev;
    if (ev) {
        uint64_t rel = p->frame - flow_rec(f)->first_frame;
        for (int e = 0; e < TEV__COUNT; e++) {
            int k = dt_index(e);
            if (k < 0 || !(ev & (1u << e)))
                continue;
            if (st->nframes[k] == 0)
                st->first_ts[k] = p->ts_ns;
            if (st->nframes[k] < FINDING_FRAMES_MAX)
                st->frames[k][st->nframes[k]++] = rel > UINT32_MAX ? UINT32_MAX : (uint32_t)rel;
        }
    }
    if (ev & (1u << TEV_ZERO_WINDOW)) {
        if (!st->zw_open[s->dir]) {
            st->zw_open[s->dir] = true;
            st->zw_start[s->dir] = p->ts_ns;
        }
    } else if (p->win != 0 && !(p->flags & (TCP_RST | TCP_SYN))) {
        dt_zw_close(st, s->dir, p->ts_ns);
    }
    if (st->held.used && s->dir == st->held.dir && !(p->flags & TCP_RST) &&
        p->ttl == st->held.ttl)
        st->held.contradicted = true;
}

/* "12 retransmissions server->client (3.1% of 387 data segments)" for each direction. */
static void dt_counts(char *buf, size_t n, size_t *pos, const struct flow *f,
                      const struct dt_flow *st, int k)
{
    const struct flow_record *r = flow_rec(f);
    const struct dt_kind *x = &dt_kinds[k];
    int tev = x->tev;
    bool first = true;
    for (int dir = 0; dir < 2; dir++) {
        uint32_t c = r->ev[dir][tev] - st->done_ev[k][dir];
        if (!c)
            continue;
        uint64_t segs =
            flow_half(f, dir)->data_segs - (x->rate >= 0 ? st->done_segs[x->rate][dir] : 0);
        dt_cat(buf, n, pos, "%s%u %s %s", first ? "" : " and ", c, x->noun[c != 1], dt_arrow(dir));
        if (segs && x->rate >= 0)
            dt_cat(buf, n, pos, " (%.1f%% of %" PRIu64 " data segments)", 100.0 * c / (double)segs,
                   segs);
        first = false;
    }
}

static void dt_frames(struct finding *fd, const struct dt_flow *st, int k, uint64_t first_frame)
{
    fd->nframes = st->nframes[k];
    for (int i = 0; i < st->nframes[k]; i++)
        fd->frames[i] = first_frame + st->frames[k][i];
}

/* Loss locations since the last report (both directions). */
struct dt_loc {
    uint64_t up;       /* retransmissions of bytes never captured */
    uint64_t down;     /* retransmissions of bytes captured before */
    uint64_t unneeded; /* retransmissions the receiver reported as duplicates */
    uint64_t ctl;      /* repeated SYN/FIN */
    uint64_t caploss;  /* bytes ACKed but never captured */
};

static struct dt_loc dt_loc_now(const struct flow *f)
{
    struct dt_loc l;
    l.up = flow_half(f, 0)->lost_up + flow_half(f, 1)->lost_up;
    l.down = flow_half(f, 0)->lost_down + flow_half(f, 1)->lost_down;
    l.unneeded = flow_half(f, 0)->rtx_unneeded + flow_half(f, 1)->rtx_unneeded;
    l.ctl = flow_half(f, 0)->ctl_rtx + flow_half(f, 1)->ctl_rtx;
    l.caploss = flow_half(f, 0)->capture_loss_bytes + flow_half(f, 1)->capture_loss_bytes;
    return l;
}

static struct dt_loc dt_loc_period(const struct flow *f, const struct dt_flow *st)
{
    struct dt_loc l = dt_loc_now(f);
    /* lost_down can shrink when a D-SACK arrives after a report: never below zero */
    l.up = l.up > st->done_up ? l.up - st->done_up : 0;
    l.down = l.down > st->done_down ? l.down - st->done_down : 0;
    l.unneeded = l.unneeded > st->done_unneeded ? l.unneeded - st->done_unneeded : 0;
    l.ctl = l.ctl > st->done_ctl ? l.ctl - st->done_ctl : 0;
    l.caploss = l.caploss > st->done_caploss ? l.caploss - st->done_caploss : 0;
    return l;
}

/* Where retransmitted bytes were lost, relative to the tap, from both directions. */
static void dt_location(char *buf, size_t n, size_t *pos, const struct dt_loc *l)
{
    uint64_t up = l->up, down = l->down, unneeded = l->unneeded;
    if (up && !down)
        dt_cat(buf, n, pos, "; lost upstream of the tap (the originals were never captured)");
    else if (down && !up)
        dt_cat(buf, n, pos, "; lost downstream of the tap (the originals passed the tap)");
    else if (up && down)
        dt_cat(buf, n, pos, "; %" PRIu64 " lost upstream and %" PRIu64 " downstream of the tap",
               up, down);
    uint64_t ctl = l->ctl;
    if (ctl)
        dt_cat(buf, n, pos, "; %" PRIu64 " %s a repeated SYN or FIN", ctl,
               ctl == 1 ? "was" : "were");
    if (unneeded)
        dt_cat(buf, n, pos, "; %" PRIu64 " %s not needed: the receiver reported the data as a "
               "duplicate (D-SACK), so the original was delayed, not lost",
               unneeded, unneeded == 1 ? "was" : "were");
}

/*
 * The finding of kind k for the events since its last report; false when there were fewer
 * than notable_events. interim: the flow is still open.
 */
static bool dt_kind_finding(struct det *d, const struct flow *f, struct dt_flow *st, int k,
                            bool interim, uint64_t now)
{
    const struct dt_state *g = d->priv;
    const struct flow_record *r = flow_rec(f);
    int tev = dt_kinds[k].tev;
    uint32_t c2s = r->ev[DIR_C2S][tev] - st->done_ev[k][DIR_C2S];
    uint32_t s2c = r->ev[DIR_S2C][tev] - st->done_ev[k][DIR_S2C];
    if ((uint64_t)c2s + s2c < g->notable || c2s + s2c == 0)
        return false;
    struct dt_loc loc = dt_loc_period(f, st);
    struct finding fd;
    uint64_t ts = st->first_ts[k] ? st->first_ts[k] : r->last_ts_ns;
    /* only repeated SYNs/FINs (a SYN retry is the handshake's business, not data loss): info */
    bool ctl_only = tev == TEV_RETRANSMISSION && loc.ctl >= (uint64_t)c2s + s2c;
    det_finding_init(&fd, f, dt_kinds[k].kind,
                     ctl_only ? SEV_INFO : fk_info(dt_kinds[k].kind)->sev, ts);
    dt_frames(&fd, st, k, r->first_frame);
    size_t pos = 0;
    char *b = fd.detail;
    size_t n = sizeof(fd.detail);
    if (interim)
        dt_cat(b, n, &pos, "connection open %.0f s: ", (double)(now - r->first_ts_ns) / NS_PER_S);
    dt_counts(b, n, &pos, f, st, k);
    if (fd.nframes)
        dt_cat(b, n, &pos, ", first at frame %" PRIu64, fd.frames[0]);
    switch (tev) {
    case TEV_RETRANSMISSION:
    case TEV_FAST_RETRANSMISSION:
        dt_location(b, n, &pos, &loc);
        if (loc.up + loc.down)
            dt_cat(b, n, &pos, ". Check interface errors and drops (ip -s link), congestion "
                               "and path MTU on the path");
        else if (loc.unneeded)
            dt_cat(b, n, &pos, ". Check for late ACKs (delayed ACK, a busy receiver) against "
                               "the sender's retransmission timeout");
        break;
    case TEV_SPURIOUS_RETRANSMISSION:
        dt_cat(b, n, &pos, ": data already acknowledged was sent again (the ACK came late or "
                           "the retransmission timer is too short)");
        break;
    case TEV_LOST_SEGMENT:
        dt_cat(b, n, &pos, ": sequence gaps at the tap");
        break;
    case TEV_ZERO_WINDOW:
        for (int dir = 0; dir < 2; dir++) {
            if (st->zw_open[dir]) { /* count the open period so far; it goes on */
                dt_zw_close(st, dir, now);
                if (interim) {
                    st->zw_open[dir] = true;
                    st->zw_start[dir] = now;
                }
            }
            if (r->ev[dir][tev] - st->done_ev[k][dir])
                dt_cat(b, n, &pos, "; the %s's window stayed zero %.3f s in total (longest %.3f s)",
                       dt_side(dir), (double)st->zw_total_ns[dir] / NS_PER_S,
                       (double)st->zw_max_ns[dir] / NS_PER_S);
        }
        dt_cat(b, n, &pos, ": the receiving application stopped reading; check its read loop "
                           "and receive buffers");
        break;
    case TEV_CAPTURE_LOSS:
        dt_cat(b, n, &pos, ": the capture missed %" PRIu64 " bytes that the receiver "
                           "acknowledged (loss at the tap or mirror port, not on the network)",
               loc.caploss);
        fd.confidence = 0.9f;
        break;
    default:
        break;
    }
    struct fx_tcp_events *x = &fd.fx.tcp;
    x->count[DIR_C2S] = c2s;
    x->count[DIR_S2C] = s2c;
    x->data_segs[DIR_C2S] = flow_half(f, DIR_C2S)->data_segs;
    x->data_segs[DIR_S2C] = flow_half(f, DIR_S2C)->data_segs;
    x->interim = interim;
    /* the optional members the kind carries (fk_info.tcp_extra, which the encoder writes) */
    enum fx_tcp_extra extra = fk_info(dt_kinds[k].kind)->tcp_extra;
    if (extra == FXT_LOSS_SPLIT) {
        x->lost_upstream = loc.up;
        x->lost_downstream = loc.down;
        x->dsack_unneeded = loc.unneeded;
    }
    if (extra == FXT_ZERO_WINDOW_S) {
        x->zero_window_ns[DIR_C2S] = st->zw_total_ns[DIR_C2S];
        x->zero_window_ns[DIR_S2C] = st->zw_total_ns[DIR_S2C];
    }
    if (extra == FXT_BYTES)
        x->capture_loss_bytes = loc.caploss;
    det_emit(d, &fd);
    return true;
}

/*
 * Mark kind k as reported up to now: counts, shares, evidence, and what its detail used. The
 * loss locations are shared by both retransmission kinds: dt_report marks them after both.
 */
static void dt_mark_done(const struct flow *f, struct dt_flow *st, int k)
{
    const struct flow_record *r = flow_rec(f);
    int tev = dt_kinds[k].tev;
    for (int dir = 0; dir < 2; dir++) {
        st->done_ev[k][dir] = r->ev[dir][tev];
        if (dt_kinds[k].rate >= 0)
            st->done_segs[dt_kinds[k].rate][dir] = flow_half(f, dir)->data_segs;
    }
    st->nframes[k] = 0;
    st->first_ts[k] = 0;
    if (tev == TEV_CAPTURE_LOSS) {
        st->done_caploss = dt_loc_now(f).caploss;
    } else if (tev == TEV_ZERO_WINDOW) {
        for (int dir = 0; dir < 2; dir++)
            st->zw_total_ns[dir] = st->zw_max_ns[dir] = 0;
    }
}

/* One finding per kind with events since its last report, in order of first occurrence. */
static void dt_report(struct det *d, const struct flow *f, struct dt_flow *st, bool interim,
                      uint64_t now)
{
    bool tried[DT_NKINDS] = {false};
    bool located = false;
    for (int n = 0; n < DT_NKINDS; n++) {
        int best = -1;
        for (int k = 0; k < DT_NKINDS; k++)
            if (!tried[k] && st->nframes[k] && (best < 0 || st->first_ts[k] < st->first_ts[best]))
                best = k;
        if (best < 0)
            break;
        tried[best] = true;
        if (dt_kind_finding(d, f, st, best, interim, now)) {
            dt_mark_done(f, st, best);
            /* a finding that located its losses: the next one counts from here */
            located |= fk_info(dt_kinds[best].kind)->tcp_extra == FXT_LOSS_SPLIT;
        }
    }
    if (located) {
        struct dt_loc l = dt_loc_now(f);
        st->done_up = l.up;
        st->done_down = l.down;
        st->done_unneeded = l.unneeded;
        st->done_ctl = l.ctl;
    }
}

static void dt_one_direction(struct det *d, const struct flow *f, struct dt_slice *st)
{
    const struct flow_record *r = flow_rec(f);
    if (!r->one_direction || st->one_dir_reported || r->state == FS_SYN_SENT ||
        r->packets[0] + r->packets[1] < DT_ONE_DIR_MIN_PKTS)
        return;
    st->one_dir_reported = true;
    int seen = flow_half(f, DIR_C2S)->seen ? DIR_C2S : DIR_S2C;
    struct finding fd;
    det_finding_init(&fd, f, FK_ONE_DIRECTION, SEV_INFO, r->first_ts_ns);
    fd.frames[0] = r->first_frame;
    fd.nframes = 1;
    snprintf(fd.detail, sizeof(fd.detail),
             "only %s packets were captured (%" PRIu64 " packets, %" PRIu64 " bytes); the other "
             "direction never reached the capture (asymmetric routing or a one-way mirror "
             "session), so loss and response-time figures for this flow are incomplete",
             dt_arrow(seen), r->packets[seen], r->bytes[seen]);
    fd.fx.one_dir.seen = (uint8_t)seen;
    fd.fx.one_dir.packets = r->packets[seen];
    det_emit(d, &fd);
}

static void dt_on_flow_end(struct det *d, const struct flow *f, void *fs)
{
    struct dt_slice *sl = fs;
    struct dt_flow *st = sl->syn_rtx ? dt_get(d, f, sl) : det_lazy_at(d, sl->lazy);
    if (st && st->held.used) {
        dt_reset_emit(d, f, &st->held);
        st->held.used = false;
    }
    if (st)
        dt_report(d, f, st, false, flow_rec(f)->last_ts_ns);
    dt_one_direction(d, f, sl);
    det_lazy_put(d, &sl->lazy);
}

/*
 * A compact flow (client SYNs only) keeps no byte of the slice: it has no block and every one
 * of its retransmissions (SYN retries) was deferred (dt_defer_syn), counted from the flow.
 */
static void dt_unpack_more(const struct flow *f, void *fs)
{
    struct dt_slice *sl = fs;
    uint32_t n = flow_rec(f)->ev[DIR_C2S][TEV_RETRANSMISSION];
    sl->syn_rtx = (uint8_t)(n < UINT8_MAX ? n : UINT8_MAX);
}

const struct det_ops det_tcp_ops = {
    .name = "tcp",
    .flow_state_size = sizeof(struct dt_slice),
    .lazy_state_size = sizeof(struct dt_flow),
    .init = dt_init,
    .on_packet = dt_on_packet,
    .on_flow_end = dt_on_flow_end,
    .free = dt_free,
    .unpack_more = dt_unpack_more,
};
