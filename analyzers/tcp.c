/*
 * tcp.c - per-direction TCP sequence analysis (RFC 793/7323/2018). The event rules and their
 * order follow Wireshark's tcp_analyze_sequence_number so counts compare with tshark's
 * tcp.analysis.* fields; README.md ("TCP analysis") lists where flowmedic deliberately differs.
 */
#include "analyzers/tcp.h"

#include <stdlib.h>
#include <string.h>

#include "analyzers/det.h"
#include "analyzers/flow.h"
#include "analyzers/hash.h"
#include "analyzers/pool.h"
#include "analyzers/siphash.h"

#define TCP_FAST_RTX_NS 20000000ull /* fast retransmission: within 20 ms of the last dup ACK */
#define TCP_OOO_NS 3000000ull       /* out-of-order window when no RTT is known (3 ms) */
#define TCP_MAX_WSCALE 14           /* RFC 7323: larger shifts are treated as 14 */
#define TCP_MAX_GAP (1u << 30)      /* ACK distances beyond this are not believed */
#define TCP_DEDUP_WORDS 8           /* 64-bit words of a duplicate-filter signature */

bool tcp_ep_is_server(const struct endpoint *ep, const struct endpoint *servers, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (pkt_ip_eq(&ep->ip, &servers[i].ip) &&
            (servers[i].port == 0 || servers[i].port == ep->port))
            return true;
    return false;
}

int tcp_pick_server(const struct pkt *p, const struct endpoint *servers, size_t n)
{
    if (n) {
        if (tcp_ep_is_server(&p->dst, servers, n))
            return 0;
        if (tcp_ep_is_server(&p->src, servers, n))
            return 1;
    }
    if ((p->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
        return 0;
    if ((p->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
        return 1;
    bool dwk = p->dst.port < 1024, swk = p->src.port < 1024;
    if (dwk != swk)
        return dwk ? 0 : 1;
    return p->src.port < p->dst.port ? 1 : 0;
}

/*
 * One remembered frame: its whole signature, compared exactly, so the verdict never depends on
 * the hash (which only picks the bucket). IPv4 signatures use 5 words and leave the rest zero;
 * an IPv6 one cannot equal them (its word 6 holds the family).
 */
struct tcp_dedup_entry {
    uint64_t sig[TCP_DEDUP_WORDS]; /* the frame's signature (tcp_dedup_sig) */
    uint64_t hash;                 /* SipHash of sig under the filter's key: picks the bucket */
    uint64_t ts_us;                /* time of the first copy, microseconds */
    uint32_t next;                 /* next entry of the same bucket (newer first), or DD_NONE */
};

#define DD_NONE UINT32_MAX /* end of a bucket's chain */

/*
 * The SPAN duplicate filter: a ring of the last 2^order frames in arrival order, indexed by
 * 2^(order-2) hash buckets of chained entries. Entries leave the ring oldest first: when they
 * fall out of the window, or, when the window holds more frames than the ring, as the oldest
 * (counted in overflow). Which frames are remembered depends only on the frames and the window.
 */
struct tcp_dedup {
    struct tcp_dedup_entry *ring; /* 2^order entries */
    uint32_t *heads;              /* per bucket: its newest entry, or DD_NONE */
    uint32_t cap;                 /* ring entries */
    uint32_t bmask;               /* buckets - 1 */
    uint32_t oldest;              /* ring index of the oldest entry */
    uint32_t count;               /* entries in the ring */
    uint64_t overflow;            /* entries still in the window evicted by a full ring */
    struct siphash_key key;       /* hash key, random per filter (hash-flood hardening) */
};

struct tcp_dedup *tcp_dedup_new(unsigned order)
{
    if (order < 4 || order > 24)
        return NULL;
    struct tcp_dedup *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->cap = (uint32_t)1 << order;
    d->bmask = ((uint32_t)1 << (order - 2)) - 1; /* a quarter: small enough to stay cached */
    d->ring = calloc(d->cap, sizeof(*d->ring));
    d->heads = malloc(((size_t)d->bmask + 1) * sizeof(*d->heads));
    if (!d->ring || !d->heads || siphash_key_random(&d->key) != 0) {
        tcp_dedup_free(d);
        return NULL;
    }
    for (size_t i = 0; i <= d->bmask; i++)
        d->heads[i] = DD_NONE;
    return d;
}

void tcp_dedup_free(struct tcp_dedup *d)
{
    if (!d)
        return;
    free(d->ring);
    free(d->heads);
    free(d);
}

uint64_t tcp_dedup_overflows(const struct tcp_dedup *d)
{
    return d ? d->overflow : 0;
}

/* Was e seen at most window_us before now_us (not after it: the clock may step back)? */
static bool dd_in_window(const struct tcp_dedup_entry *e, uint64_t now_us, uint64_t window_us)
{
    return now_us >= e->ts_us && now_us - e->ts_us <= window_us;
}

/* Remove the oldest entry from the ring and from its bucket's chain (where it is the last). */
static void dd_pop_oldest(struct tcp_dedup *d)
{
    uint32_t i = d->oldest;
    uint32_t *link = &d->heads[d->ring[i].hash & d->bmask];
    while (*link != DD_NONE && *link != i)
        link = &d->ring[*link].next;
    if (*link == i)
        *link = d->ring[i].next;
    d->oldest = (i + 1) & (d->cap - 1);
    d->count--;
}

/*
 * p's signature in w (TCP_DEDUP_WORDS words, unused ones zero): addresses, ports, IP ID, TCP
 * checksum, seq, ack, length, window, family, flags and the timestamps option. Returns the
 * words used (5 for IPv4, 8 for IPv6).
 */
static size_t tcp_dedup_sig(const struct pkt *p, uint64_t *w)
{
    size_t n = 0;
    memset(w, 0, TCP_DEDUP_WORDS * sizeof(*w));
    if (p->src.ip.family == 4) {
        uint32_t a, b;
        memcpy(&a, p->src.ip.a, sizeof(a));
        memcpy(&b, p->dst.ip.a, sizeof(b));
        w[n++] = (uint64_t)a << 32 | b;
    } else {
        w[n++] = hash_load64(p->src.ip.a);
        w[n++] = hash_load64(p->src.ip.a + 8);
        w[n++] = hash_load64(p->dst.ip.a);
        w[n++] = hash_load64(p->dst.ip.a + 8);
    }
    w[n++] = (uint64_t)p->src.port << 48 | (uint64_t)p->dst.port << 32 | (uint64_t)p->ip_id << 16 |
             p->tcp_csum;
    w[n++] = (uint64_t)p->seq << 32 | p->ack;
    w[n++] = (uint64_t)p->tcp_len << 32 | (uint64_t)p->win << 16 | (uint64_t)p->src.ip.family << 8 |
             p->flags;
    w[n++] = (uint64_t)p->tsval << 32 | p->tsecr;
    return n;
}

bool tcp_dedup_check(struct tcp_dedup *d, const struct pkt *p, uint64_t window_ns)
{
    if (!d || (p->ip_id == 0 && !p->has_ts))
        return false;
    uint64_t w[TCP_DEDUP_WORDS];
    size_t n = tcp_dedup_sig(p, w);
    /*
     * SipHash-1-3 under the filter's random key chooses the bucket, so a sender cannot pile
     * frames into one chain; the verdict is an exact comparison of the signatures.
     */
    uint64_t h = siphash13_words(&d->key, w, n);
    uint64_t now_us = p->ts_ns / 1000u, window_us = window_ns / 1000u;
    while (d->count && !dd_in_window(&d->ring[d->oldest], now_us, window_us))
        dd_pop_oldest(d);
    uint32_t *head = &d->heads[h & d->bmask];
    for (uint32_t i = *head; i != DD_NONE; i = d->ring[i].next) {
        const struct tcp_dedup_entry *e = &d->ring[i];
        if (e->hash == h && memcmp(e->sig, w, sizeof(w)) == 0 && dd_in_window(e, now_us, window_us))
            return true;
    }
    if (d->count == d->cap) {
        if (dd_in_window(&d->ring[d->oldest], now_us, window_us))
            d->overflow++;
        dd_pop_oldest(d);
    }
    uint32_t i = (d->oldest + d->count) & (d->cap - 1);
    struct tcp_dedup_entry *e = &d->ring[i];
    memcpy(e->sig, w, sizeof(w));
    e->hash = h;
    e->ts_us = now_us;
    e->next = *head;
    *head = i;
    d->count++;
    return false;
}

bool tcp_is_reuse(const struct flow *f, const struct pkt *p, int dir)
{
    if ((p->flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
        return false;
    const struct tcp_half *h = &f->half[dir], *o = &f->half[!dir];
    if (h->syn_seen && h->isn == p->seq)
        return false; /* a SYN retry */
    if (o->seen && o->lastack == p->seq + 1)
        return false; /* the peer already acknowledged this SYN: same connection */
    return h->seen || o->seen;
}

/* Bits of struct tcp_hist.once: letters written at most once per direction. */
enum {
    TCP_HO_ACK = 1u << 0,    /* a: a pure ACK */
    TCP_HO_DATA = 1u << 1,   /* d: payload */
    TCP_HO_INCONS = 1u << 2, /* i: FIN and RST together */
    TCP_HO_MULTI = 1u << 3,  /* q: SYN with FIN or RST */
};

/* Append history letter c (lower-case), upper-cased for the client, while there is room. */
static void tcp_hist_put(struct flow *f, int dir, char c)
{
    if (f->tcp.hist_len + 1u >= FLOW_HISTORY_MAX)
        return;
    f->rec.history[f->tcp.hist_len++] = dir == DIR_C2S && c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
    f->rec.history[f->tcp.hist_len] = '\0';
}

/* A letter that Zeek writes at most once per direction (a, d, i, q). */
static void tcp_hist_once(struct flow *f, int dir, uint8_t bit, char c)
{
    struct tcp_hist *h = &f->tcp.hist[dir];
    if (h->once & bit)
        return;
    h->once |= bit;
    tcp_hist_put(f, dir, c);
}

/* A letter written again only when its sequence number differs from the last one (s, h, f, r). */
static void tcp_hist_seq(struct flow *f, int dir, int which, uint32_t seq, char c)
{
    struct tcp_hist *h = &f->tcp.hist[dir];
    uint8_t bit = (uint8_t)(1u << which);
    h->sent |= bit;
    if ((h->seq_known & bit) && h->last_seq[which] == seq)
        return;
    h->seq_known |= bit;
    h->last_seq[which] = seq;
    tcp_hist_put(f, dir, c);
}

/* A letter written at the 1st, 10th, 100th, ... event of its kind (t, w, g). */
static void tcp_hist_log(struct flow *f, int dir, int which, char c)
{
    struct tcp_hist *h = &f->tcp.hist[dir];
    if (h->count[which] < UINT32_MAX)
        h->count[which]++;
    if (!h->next[which])
        h->next[which] = 1;
    if (h->count[which] != h->next[which])
        return;
    h->next[which] = h->next[which] > UINT32_MAX / 10 ? UINT32_MAX : h->next[which] * 10;
    tcp_hist_put(f, dir, c);
}

/*
 * The history letters of one segment, in this order: q or i, s or h, d, f, r, a, t, w, g.
 * rtx_seen: the segment retransmits payload the capture had already seen.
 */
static void tcp_history(struct flow *f, const struct pkt *p, int dir, uint32_t ev, bool rtx_seen)
{
    const uint8_t fl = p->flags;
    if ((fl & TCP_SYN) && (fl & (TCP_FIN | TCP_RST)))
        tcp_hist_once(f, dir, TCP_HO_MULTI, 'q');
    else if ((fl & TCP_FIN) && (fl & TCP_RST))
        tcp_hist_once(f, dir, TCP_HO_INCONS, 'i');
    if ((fl & (TCP_SYN | TCP_ACK)) == TCP_SYN)
        tcp_hist_seq(f, dir, TCP_HS_SYN, p->seq, 's');
    else if (fl & TCP_SYN)
        tcp_hist_seq(f, dir, TCP_HS_SYNACK, p->seq, 'h');
    if (p->tcp_len)
        tcp_hist_once(f, dir, TCP_HO_DATA, 'd');
    if (fl & TCP_FIN)
        tcp_hist_seq(f, dir, TCP_HS_FIN, p->seq, 'f');
    if (fl & TCP_RST)
        tcp_hist_seq(f, dir, TCP_HS_RST, p->seq, 'r');
    if ((fl & (TCP_SYN | TCP_FIN | TCP_RST | TCP_ACK)) == TCP_ACK && !p->tcp_len)
        tcp_hist_once(f, dir, TCP_HO_ACK, 'a');
    if (rtx_seen)
        tcp_hist_log(f, dir, TCP_HL_RTX, 't');
    if (ev & (1u << TEV_ZERO_WINDOW))
        tcp_hist_log(f, dir, TCP_HL_ZWIN, 'w');
    if (ev & (1u << TEV_CAPTURE_LOSS))
        tcp_hist_log(f, !dir, TCP_HL_GAP, 'g'); /* a gap in the peer's data */
}

/*
 * Zeek's conn_state from what each side sent (README.md, "conn_state and history"). A RST
 * decides first (the first RST seen), then FINs, then the handshake.
 */
static enum conn_state tcp_conn_state(const struct flow *f)
{
    const struct tcp_hist *o = &f->tcp.hist[DIR_C2S], *r = &f->tcp.hist[DIR_S2C];
    const bool syn = o->sent & (1u << TCP_HS_SYN), synack = r->sent & (1u << TCP_HS_SYNACK);
    const bool ofin = o->sent & (1u << TCP_HS_FIN), rfin = r->sent & (1u << TCP_HS_FIN);
    if (f->tcp.first_rst_dir == DIR_C2S)
        return syn && !synack ? CS_RSTOS0 : CS_RSTO;
    if (f->tcp.first_rst_dir == DIR_S2C) {
        if (syn && !synack)
            return CS_REJ;
        return !syn && synack ? CS_RSTRH : CS_RSTR;
    }
    if (ofin && rfin)
        return CS_SF;
    if (ofin)
        return syn && !synack ? CS_SH : syn ? CS_S2 : CS_OTH;
    if (rfin)
        return synack && !syn ? CS_SHR : syn ? CS_S3 : CS_OTH;
    if (syn && !f->half[DIR_S2C].seen)
        return CS_S0;
    return syn && synack ? CS_S1 : CS_OTH;
}

void tcp_flow_start(struct flow *f, const struct pkt *p)
{
    f->tcp.first_rst_dir = -1;
    if (pkt_ep_eq(&p->src, &f->rec.server))
        tcp_hist_put(f, DIR_S2C, '^'); /* the first packet came from the server */
    for (int d = 0; d < 2; d++) {
        f->half[d].window = UINT32_MAX;
        f->half[d].win_scale = -1;
    }
    f->rec.hs_rtt_server_ns = -1;
    f->rec.hs_rtt_client_ns = -1;
    f->rec.hs_rtt_ns = -1;
    if ((p->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
        f->rec.state = FS_SYN_SENT;
    else if ((p->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
        f->rec.state = FS_SYN_RECEIVED;
    else
        f->rec.state = FS_MIDSTREAM;
}

void tcp_syn_pack(const struct flow *f, struct tcp_syn *s)
{
    const struct tcp_half *c = &f->half[DIR_C2S];
    memset(s, 0, sizeof(*s));
    s->isn = c->isn;
    s->ack = c->lastack;
    s->nsyn = (uint16_t)f->rec.packets[DIR_C2S];
    s->dups = (uint16_t)f->rec.ev[DIR_C2S][TEV_MIRROR_DUPLICATE];
    s->win = (uint16_t)c->window;
    s->wscale = c->win_scale;
    s->ttl_min = c->ttl_min;
    s->ttl_max = c->ttl_max;
    s->copies = c->syn_log_copies;
    for (int i = 1; i < c->nsyn_log && i < TCP_SYN_LOG; i++) {
        uint64_t dt = c->syn_log_ns[i] - c->syn_log_ns[0];
        s->dframe[i - 1] = (uint32_t)(c->syn_log_frame[i] - c->syn_log_frame[0]);
        s->dt_lo[i - 1] = (uint32_t)dt;
        s->dt_hi[i - 1] = (uint8_t)(dt >> 32);
    }
}

void tcp_syn_unpack(struct flow *f, const struct tcp_syn *s)
{
    struct flow_record *r = &f->rec;
    struct tcp_half *c = &f->half[DIR_C2S], *v = &f->half[DIR_S2C];
    uint32_t retries = s->nsyn ? s->nsyn - 1u : 0;
    r->state = FS_SYN_SENT;
    r->close = CLOSE_OPEN;
    r->saw_syn = true;
    r->packets[DIR_C2S] = s->nsyn;
    r->syn_count = s->nsyn;
    r->ev[DIR_C2S][TEV_RETRANSMISSION] = retries; /* each retry repeats the SYN */
    r->ev[DIR_C2S][TEV_MIRROR_DUPLICATE] = s->dups;
    r->hs_rtt_server_ns = -1;
    r->hs_rtt_client_ns = -1;
    r->hs_rtt_ns = -1;
    r->conn_state = CS_S0;
    r->history[0] = 'S';
    c->nextseq_ts_ns = r->first_ts_ns;
    c->lastack_ts_ns = r->last_ts_ns;
    c->ctl_rtx = retries;
    c->base_seq = s->isn;
    c->isn = s->isn;
    c->nextseq = s->isn + 1u;
    c->maxseqtobeacked = s->isn + 1u;
    c->lastack = s->ack;
    c->window = s->win;
    c->seen = true;
    c->base_set = true;
    c->syn_seen = true;
    c->win_scale = s->wscale;
    c->win_from_syn = true;
    c->ttl_min = s->ttl_min;
    c->ttl_max = s->ttl_max;
    c->ttl_known = true;
    c->nsyn_log = (uint8_t)(s->nsyn < TCP_SYN_LOG ? s->nsyn : TCP_SYN_LOG);
    c->syn_log_ns[0] = r->first_ts_ns;
    c->syn_log_frame[0] = r->first_frame;
    for (int i = 1; i < c->nsyn_log; i++) {
        c->syn_log_ns[i] = r->first_ts_ns + ((uint64_t)s->dt_hi[i - 1] << 32 | s->dt_lo[i - 1]);
        c->syn_log_frame[i] = r->first_frame + s->dframe[i - 1];
    }
    c->syn_log_copies = s->copies;
    /* the handshake clock: the last SYN that was not a copy (past the log: the last SYN) */
    c->syn_ts_ns = r->last_ts_ns;
    if (s->nsyn <= TCP_SYN_LOG)
        for (int i = c->nsyn_log - 1; i >= 0; i--)
            if (!(s->copies & (1u << i))) {
                c->syn_ts_ns = c->syn_log_ns[i];
                break;
            }
    v->window = UINT32_MAX;
    v->win_scale = (int8_t)(s->wscale == -2 ? -2 : -1); /* a SYN without the option: none */
    f->tcp.hist[DIR_C2S].sent = 1u << TCP_HS_SYN;
    f->tcp.hist[DIR_C2S].seq_known = 1u << TCP_HS_SYN;
    f->tcp.hist[DIR_C2S].last_seq[TCP_HS_SYN] = s->isn;
    f->tcp.hist_len = 1;
    f->tcp.first_rst_dir = -1;
    f->tcp.mru_syn_ts_ns = r->last_ts_ns;
    f->tcp.client_syn_ts_ns = c->syn_ts_ns;
}

/* h's loss bookkeeping, or NULL if it has none yet. */
static struct tcp_loss *tcp_loss_at(const struct tcp_half *h, const struct pool *loss)
{
    return h->loss && loss ? pool_at(loss, h->loss) : NULL;
}

/* h's loss bookkeeping, taken from the pool if it has none yet; NULL when the pool is empty. */
static struct tcp_loss *tcp_loss_get(struct tcp_half *h, struct pool *loss)
{
    if (!loss)
        return NULL;
    if (!h->loss)
        h->loss = pool_get(loss);
    return h->loss ? pool_at(loss, h->loss) : NULL;
}

void tcp_flow_end(struct flow *f, struct pool *loss)
{
    for (int d = 0; d < 2; d++) {
        if (loss)
            pool_put(loss, f->half[d].loss);
        f->half[d].loss = 0;
    }
}

/* Remember that [start, end) of h's sequence space was never captured. */
static void tcp_hole_add(struct tcp_half *h, struct pool *loss, uint32_t start, uint32_t end)
{
    if (h->unseen_set && SEQ_LT(start, h->unseen_acked))
        start = h->unseen_acked; /* already counted as capture loss when it was ACKed */
    if (!SEQ_LT(start, end))
        return;
    struct tcp_loss *l = tcp_loss_get(h, loss);
    if (!l)
        return; /* pool empty: the gap is not remembered */
    struct tcp_hole *slot = &l->holes[0];
    for (size_t i = 0; i < TCP_HOLES; i++) {
        if (!l->holes[i].used) {
            slot = &l->holes[i];
            break;
        }
        if (SEQ_LT(l->holes[i].start, slot->start))
            slot = &l->holes[i]; /* all used: replace the oldest (lowest) gap */
    }
    slot->start = start;
    slot->end = end;
    slot->used = true;
}

/*
 * Remove [start, end) from the holes of l (NULL: none); returns the bytes that were in a hole.
 */
static uint32_t tcp_hole_fill(struct tcp_loss *l, uint32_t start, uint32_t end)
{
    uint32_t covered = 0;
    if (!l)
        return 0; /* no gap was ever remembered */
    for (size_t i = 0; i < TCP_HOLES; i++) {
        struct tcp_hole *g = &l->holes[i];
        if (!g->used || !SEQ_LT(start, g->end) || !SEQ_GT(end, g->start))
            continue;
        uint32_t lo = SEQ_GT(start, g->start) ? start : g->start;
        uint32_t hi = SEQ_LT(end, g->end) ? end : g->end;
        covered += hi - lo;
        if (SEQ_LEQ(start, g->start)) {
            g->start = hi; /* the front (or all) of the hole is filled */
        } else if (SEQ_GEQ(end, g->end)) {
            g->end = lo; /* the back of the hole is filled */
        } else {
            uint32_t right_start = hi, right_end = g->end;
            g->end = lo; /* split: keep the left part here, the right one in a free slot */
            for (size_t j = 0; j < TCP_HOLES; j++) {
                if (!l->holes[j].used) {
                    l->holes[j].start = right_start;
                    l->holes[j].end = right_end;
                    l->holes[j].used = true;
                    break;
                }
            }
        }
        if (!SEQ_LT(g->start, g->end))
            g->used = false;
    }
    return covered;
}

/*
 * Capture loss (Zeek's method): the peer acknowledged (or selectively acknowledged) bytes of
 * h that the capture never saw. Returns the newly counted bytes.
 */
static uint64_t tcp_capture_loss(struct tcp_half *h, struct tcp_loss *l, const struct pkt *p)
{
    if (!h->seen || !h->nextseq || !(p->flags & TCP_ACK))
        return 0;
    uint64_t bytes = 0;
    uint32_t ack = p->ack;
    if (SEQ_GT(ack, h->nextseq) && ack - h->nextseq < TCP_MAX_GAP) {
        uint32_t from = h->nextseq;
        if (h->unseen_set && SEQ_GT(h->unseen_acked, from))
            from = h->unseen_acked;
        if (SEQ_GT(ack, from)) {
            bytes += ack - from;
            h->unseen_acked = ack;
            h->unseen_set = true;
        }
    }
    /* Bytes in a gap that the peer ACKs or SACKs reached it: the tap missed them. */
    for (size_t i = 0; l && i < TCP_HOLES; i++) {
        const struct tcp_hole *g = &l->holes[i];
        if (g->used && SEQ_GT(ack, g->start) && SEQ_LT(g->start, g->end))
            bytes += tcp_hole_fill(l, g->start, SEQ_LT(ack, g->end) ? ack : g->end);
    }
    for (size_t i = 0; l && i < p->nsack && i < PKT_MAX_SACK; i++)
        if (SEQ_LT(p->sack[i][0], p->sack[i][1]) && p->sack[i][1] - p->sack[i][0] < TCP_MAX_GAP)
            bytes += tcp_hole_fill(l, p->sack[i][0], p->sack[i][1]);
    h->capture_loss_bytes += bytes;
    return bytes;
}

/*
 * D-SACK (RFC 2883): a first SACK block below the ACK, or inside the second block, reports
 * data the receiver got twice. A retransmission it covers was not lost after the tap at all.
 */
static void tcp_dsack(struct tcp_half *h, struct tcp_loss *lo, const struct pkt *p)
{
    if (!lo || !p->nsack || !(p->flags & TCP_ACK))
        return;
    uint32_t l = p->sack[0][0], r = p->sack[0][1];
    if (!SEQ_LT(l, r))
        return;
    bool dsack = SEQ_LT(l, p->ack) ||
                 (p->nsack > 1 && SEQ_GEQ(l, p->sack[1][0]) && SEQ_LEQ(r, p->sack[1][1]));
    if (!dsack)
        return;
    for (size_t i = 0; i < TCP_HOLES; i++) {
        struct tcp_hole *x = &lo->rtx[i];
        if (x->used && SEQ_LT(x->start, r) && SEQ_GT(x->end, l)) {
            x->used = false;
            if (h->lost_down)
                h->lost_down--;
            h->rtx_unneeded++;
        }
    }
}

/* Sequence of the first payload byte relative to base_seq + 1, unwrapped to 64 bits. */
static void tcp_rel_seq(struct tcp_half *h, const struct pkt *p, struct tcp_seg *s)
{
    if (!h->base_set || (p->flags & TCP_SYN))
        return;
    uint32_t rel32 = p->seq - (h->base_seq + 1);
    if (!h->rel_init) {
        h->rel_top = rel32;
        h->rel_init = true;
    }
    int64_t rel = (int64_t)h->rel_top + (int32_t)(rel32 - (uint32_t)h->rel_top);
    if (rel < 0)
        return;
    s->rel_seq = (uint64_t)rel;
    s->has_rel = true;
    if (s->rel_seq > h->rel_top)
        h->rel_top = s->rel_seq;
}

/*
 * A SYN or SYN-ACK with a new ISN starts this direction's sequence space again (Wireshark
 * starts a new conversation there); window scale, TTL and counters are kept.
 */
static void tcp_resync(struct tcp_half *h, struct pool *loss)
{
    h->base_set = false;
    h->nextseq = 0;
    h->nextseq_ts_ns = 0;
    h->maxseqtobeacked = 0;
    h->dupacknum = 0;
    h->rel_init = false;
    h->unseen_set = false;
    struct tcp_loss *l = tcp_loss_at(h, loss);
    if (l)
        memset(l->holes, 0, sizeof(l->holes));
}

/* Window scaling from the SYN options, as Wireshark's verify_tcp_window_scaling. */
static void tcp_wscale(struct tcp_half *fw, struct tcp_half *rv, const struct pkt *p)
{
    if (!(p->flags & TCP_SYN))
        return;
    if (p->has_wscale)
        fw->win_scale = (int8_t)(p->wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : p->wscale);
    if (fw->win_scale == -1) {
        fw->win_scale = -2;
        rv->win_scale = -2;
    } else if ((p->flags & TCP_ACK) && rv->win_scale == -2) {
        fw->win_scale = -2;
    }
}

/*
 * The tcp.analysis rules, in tshark's order. Returns the TEV_* bits raised; *zwp is set for
 * a zero window probe (which does not advance nextseq).
 */
static uint32_t tcp_seq_rules(struct flow *f, struct tcp_half *fw, struct tcp_half *rv,
                              const struct pkt *p, bool *zwp, uint8_t *lastflags, struct pool *loss)
{
    const uint8_t fl = p->flags;
    const uint32_t seq = p->seq, ack = p->ack, len = p->tcp_len, win = p->win;
    const bool sfr = (fl & (TCP_SYN | TCP_FIN | TCP_RST)) != 0;
    uint32_t ev = 0;

    if (len == 1 && seq == fw->nextseq && rv->window == 0) {
        *zwp = true;
        *lastflags |= TCP_LF_ZWP;
        goto finished_fwd;
    }
    if (win == 0 && !sfr)
        ev |= 1u << TEV_ZERO_WINDOW;
    if (fw->nextseq && SEQ_GT(seq, fw->nextseq) && !(fl & TCP_RST)) {
        ev |= 1u << TEV_LOST_SEGMENT;
        tcp_hole_add(fw, loss, fw->nextseq, seq);
    }
    if (len <= 1 && seq == fw->nextseq - 1 && !sfr) {
        ev |= 1u << TEV_KEEP_ALIVE;
        *lastflags |= TCP_LF_KEEP_ALIVE;
    }
    if (len > 0 && rv->win_scale != -1 && !sfr) {
        int sh = rv->win_from_syn || rv->win_scale < 0 ? 0 : rv->win_scale;
        if (seq + len == rv->lastack + (rv->window << sh))
            ev |= 1u << TEV_WINDOW_FULL;
    }
    if (len == 0 && !sfr && win == fw->window && seq == fw->nextseq && ack == fw->lastack) {
        if (win && (rv->lastflags & TCP_LF_KEEP_ALIVE))
            goto finished_fwd; /* keep-alive ACK */
        if (!win && (rv->lastflags & TCP_LF_ZWP))
            goto finished_fwd; /* zero window probe ACK */
        if (win) {
            fw->dupacknum = fw->dupacknum == -1 ? 1 : fw->dupacknum + 1;
            ev |= 1u << TEV_DUP_ACK;
        }
    }
finished_fwd:
    if (ack != fw->lastack)
        fw->dupacknum = 0;
    (void)f;
    return ev;
}

/* Retransmission, fast retransmission, spurious retransmission or out-of-order: at most one. */
static int tcp_rtx_kind(const struct flow *f, const struct tcp_half *fw, const struct tcp_half *rv,
                        const struct pkt *p, uint32_t ev)
{
    const uint8_t fl = p->flags;
    const uint32_t seq = p->seq, len = p->tcp_len;
    if (!(len > 0 || (fl & (TCP_SYN | TCP_FIN))))
        return -1;
    if (ev & (1u << TEV_KEEP_ALIVE))
        return -1;
    bool not_adv = fw->nextseq && SEQ_LT(seq, fw->nextseq);
    if (len > 1 && fw->nextseq - 1 == seq)
        not_adv = false; /* adds new data after a possible zero window probe */
    if (len > 0 && rv->lastack && SEQ_LEQ(seq + len, rv->lastack))
        return TEV_SPURIOUS_RETRANSMISSION;
    if (!not_adv)
        return -1;
    uint64_t now = p->ts_ns;
    if (rv->dupacknum >= 2 && rv->lastack == seq && now >= rv->lastack_ts_ns &&
        now - rv->lastack_ts_ns < TCP_FAST_RTX_NS)
        return TEV_FAST_RETRANSMISSION;
    uint64_t thres = f->tcp.first_rtt_ns ? f->tcp.first_rtt_ns : TCP_OOO_NS;
    uint32_t end = seq + len + ((fl & (TCP_SYN | TCP_FIN)) ? 1u : 0u);
    if (now >= fw->nextseq_ts_ns && now - fw->nextseq_ts_ns < thres && fw->nextseq != end)
        return TEV_OUT_OF_ORDER;
    return TEV_RETRANSMISSION;
}

/* Reset phase and TTL check; updates close reason. */
static void tcp_reset(struct flow *f, const struct pkt *p, int dir, struct tcp_seg *s)
{
    struct flow_record *r = &f->rec;
    const struct tcp_half *fw = &f->half[dir];
    if (r->state == FS_SYN_SENT)
        s->rst = dir == DIR_S2C ? RST_ANSWER_TO_SYN : RST_HANDSHAKE;
    else if (r->state == FS_SYN_RECEIVED)
        s->rst = RST_HANDSHAKE;
    else if (f->tcp.fins)
        s->rst = RST_AFTER_FIN;
    else
        s->rst = RST_MID;
    s->rst_ttl_mismatch = fw->ttl_known && (p->ttl < fw->ttl_min || p->ttl > fw->ttl_max);
    if (r->state != FS_CLOSED || r->close == CLOSE_OPEN || r->close == CLOSE_FIN) {
        if (s->rst == RST_ANSWER_TO_SYN)
            r->close = CLOSE_REFUSED;
        else if (r->close != CLOSE_FIN && r->close != CLOSE_REFUSED)
            r->close = dir == DIR_C2S ? CLOSE_RST_CLIENT : CLOSE_RST_SERVER;
    }
    r->state = FS_CLOSED;
}

/* Handshake bookkeeping: SYN / SYN-ACK / completing ACK, retries and RTTs. */
static void tcp_handshake(struct flow *f, const struct pkt *p, int dir, struct tcp_seg *s)
{
    struct flow_record *r = &f->rec;
    struct tcp_half *fw = &f->half[dir], *rv = &f->half[!dir];
    const uint8_t fl = p->flags;
    const uint64_t now = p->ts_ns;

    if ((fl & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN) {
        bool again = fw->syn_seen && fw->isn == p->seq;
        bool copy = again && now >= fw->syn_ts_ns && now - fw->syn_ts_ns < TCP_SYN_COPY_NS;
        if (again)
            s->syn_retry = dir == DIR_C2S;
        s->syn_copy = copy && dir == DIR_C2S;
        fw->syn_seen = true;
        fw->isn = p->seq;
        if (!copy)
            fw->syn_ts_ns = now; /* the handshake clock: the SYN a SYN-ACK answers */
        if (fw->nsyn_log < TCP_SYN_LOG) {
            if (copy)
                fw->syn_log_copies |= (uint8_t)(1u << fw->nsyn_log);
            fw->syn_log_ns[fw->nsyn_log] = now;
            fw->syn_log_frame[fw->nsyn_log++] = p->frame;
        }
        f->tcp.mru_syn_ts_ns = now;
        if (dir == DIR_C2S) {
            s->syn = true;
            if (!copy)
                f->tcp.client_syn_ts_ns = now;
            r->syn_count++;
            r->saw_syn = true;
        }
    } else if ((fl & (TCP_SYN | TCP_ACK | TCP_RST)) == (TCP_SYN | TCP_ACK)) {
        if (dir == DIR_S2C) {
            s->synack = true;
            s->synack_retry = f->tcp.synack_seen && f->tcp.synack_isn == p->seq;
            r->synack_count++;
            if (r->hs_rtt_server_ns < 0 && rv->syn_seen && now >= rv->syn_ts_ns) {
                r->hs_rtt_server_ns = (int64_t)(now - rv->syn_ts_ns);
                r->hs_syn_ts_ns = rv->syn_ts_ns;
            }
            f->tcp.synack_seen = true;
            f->tcp.synack_isn = p->seq;
            f->tcp.synack_ts_ns = now;
            if (r->state == FS_SYN_SENT)
                r->state = FS_SYN_RECEIVED;
        }
        fw->syn_seen = true;
        fw->isn = p->seq;
        fw->syn_ts_ns = now;
    } else if (!(fl & (TCP_SYN | TCP_RST)) && (fl & TCP_ACK)) {
        if (dir == DIR_C2S && f->tcp.synack_seen && !f->tcp.established &&
            p->ack == f->tcp.synack_isn + 1) {
            s->hs_ack = true;
            f->tcp.established = true;
            if (now >= f->tcp.synack_ts_ns)
                r->hs_rtt_client_ns = (int64_t)(now - f->tcp.synack_ts_ns);
            if (f->tcp.client_syn_ts_ns && now >= f->tcp.client_syn_ts_ns)
                r->hs_rtt_ns = (int64_t)(now - f->tcp.client_syn_ts_ns);
        }
        if (r->state == FS_SYN_RECEIVED && (s->hs_ack || dir == DIR_S2C))
            r->state = FS_ESTABLISHED;
        else if (r->state == FS_SYN_SENT && dir == DIR_S2C)
            r->state = FS_ESTABLISHED; /* the SYN-ACK was not captured */
    }
}

bool tcp_analyze(struct flow *f, const struct pkt *p, int dir, struct tcp_seg *s, struct pool *loss)
{
    struct flow_record *r = &f->rec;
    struct tcp_half *fw = &f->half[dir], *rv = &f->half[!dir];
    const uint8_t fl = p->flags;
    const uint64_t now = p->ts_ns;
    const enum flow_state before = r->state;

    s->dir = dir;
    s->len = p->tcp_len;
    if ((fl & TCP_SYN) && fw->nextseq && !(fw->syn_seen && fw->isn == p->seq))
        tcp_resync(fw, loss);
    tcp_wscale(fw, rv, p);
    if (!fw->base_set) {
        fw->base_seq = (fl & TCP_SYN) ? p->seq : p->seq - 1;
        fw->base_set = true;
    }
    if (!rv->base_set && (fl & TCP_ACK)) {
        rv->base_seq = p->ack - 1;
        rv->base_set = true;
    }
    tcp_rel_seq(fw, p, s);

    /* Wireshark's first RTT: the latest SYN to the first ACK without SYN. */
    if ((fl & (TCP_SYN | TCP_ACK)) == TCP_ACK && f->tcp.mru_syn_ts_ns && !f->tcp.first_rtt_ns &&
        now > f->tcp.mru_syn_ts_ns)
        f->tcp.first_rtt_ns = now - f->tcp.mru_syn_ts_ns;

    bool zwp = false;
    uint8_t lastflags = 0;
    uint32_t ev = tcp_seq_rules(f, fw, rv, p, &zwp, &lastflags, loss);
    if (tcp_capture_loss(rv, tcp_loss_at(rv, loss), p))
        ev |= 1u << TEV_CAPTURE_LOSS;

    tcp_dsack(rv, tcp_loss_at(rv, loss), p);
    int kind = tcp_rtx_kind(f, fw, rv, p, ev);
    bool rtx_seen = false; /* payload the capture had seen before (Zeek's 't') */
    if (kind >= 0) {
        ev |= 1u << kind;
        rtx_seen = p->tcp_len && kind != TEV_OUT_OF_ORDER;
        if (kind == TEV_RETRANSMISSION || kind == TEV_FAST_RETRANSMISSION) {
            if (tcp_hole_fill(tcp_loss_at(fw, loss), p->seq, p->seq + p->tcp_len)) {
                rtx_seen = false;
                fw->lost_up++; /* bytes the tap never saw: lost before reaching it */
            } else if (!p->tcp_len) {
                fw->ctl_rtx++; /* a repeated SYN or FIN: nothing to locate */
            } else {
                fw->lost_down++; /* the original passed the tap: lost after it */
                struct tcp_loss *l = tcp_loss_get(fw, loss);
                if (l) {
                    struct tcp_hole *x = &l->rtx[l->rtx_next];
                    l->rtx_next = (uint8_t)((l->rtx_next + 1) % TCP_HOLES);
                    x->start = p->seq;
                    x->end = p->seq + p->tcp_len;
                    x->used = true;
                }
            }
        }
    }
    struct tcp_loss *fl_loss = tcp_loss_at(fw, loss);
    if (p->tcp_len && fl_loss &&
        (fl_loss->holes[0].used | fl_loss->holes[1].used | fl_loss->holes[2].used |
         fl_loss->holes[3].used))
        tcp_hole_fill(fl_loss, p->seq, p->seq + p->tcp_len);

    /*
     * Advance nextseq and the highest contiguous sequence (not for zero window probes, nor
     * for resets, whose sequence number may lie anywhere: a deliberate difference).
     */
    uint32_t nxt = p->seq + p->tcp_len + ((fl & (TCP_SYN | TCP_FIN)) ? 1u : 0u);
    bool adv = !zwp && !(fl & TCP_RST);
    if (adv && (SEQ_GT(nxt, fw->nextseq) || !fw->nextseq)) {
        fw->nextseq = nxt;
        fw->nextseq_ts_ns = now;
    }
    if (adv && (p->seq == fw->maxseqtobeacked || !fw->maxseqtobeacked))
        fw->maxseqtobeacked = fw->nextseq;
    fw->window = p->win;
    fw->win_from_syn = (fl & TCP_SYN) != 0;
    if (!(fl & TCP_RST) || (fl & TCP_ACK)) {
        fw->lastack = p->ack;
        fw->lastack_ts_ns = now;
    }
    fw->lastflags = lastflags;
    if (p->tcp_len)
        fw->data_segs++;

    tcp_handshake(f, p, dir, s);
    bool closed = false;
    if (fl & TCP_RST) {
        ev |= 1u << TEV_RESET;
        fw->rst_seen = true;
        if (f->tcp.first_rst_dir < 0)
            f->tcp.first_rst_dir = (int8_t)dir;
        tcp_reset(f, p, dir, s);
        closed = before != FS_CLOSED;
    } else {
        if (!fw->ttl_known || p->ttl < fw->ttl_min)
            fw->ttl_min = p->ttl;
        if (!fw->ttl_known || p->ttl > fw->ttl_max)
            fw->ttl_max = p->ttl;
        fw->ttl_known = true;
    }
    if ((fl & TCP_FIN) && !(fl & TCP_RST)) {
        fw->fin_seen = true;
        f->tcp.fins |= (uint8_t)(1u << dir);
        if (r->state != FS_CLOSED) {
            if (f->tcp.fins == 3) {
                r->state = FS_CLOSED;
                r->close = CLOSE_FIN;
                closed = true;
            } else {
                r->state = FS_FIN_WAIT;
            }
        }
    }
    fw->seen = true;
    s->ev = ev;
    tcp_history(f, p, dir, ev, rtx_seen);
    r->conn_state = tcp_conn_state(f);
    for (int e = 0; e < TEV__COUNT; e++)
        if (ev & (1u << e))
            r->ev[dir][e]++;
    return closed;
}
