/* det_estab.c - connection establishment: refused, unanswered, backlogged, unreachable, slow. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/det.h"
#include "analyzers/estab.h"
#include "analyzers/tcp.h"
#include "capture/err.h"

/*
 * Rules (README.md, "Connection establishment", explains them for readers):
 * - Per flow we keep the first SYN times/frames, the SYN-ACKs, the client's handshake ACK and
 *   its first data segment.
 * - Per server endpoint (a capped table, allocated once) we keep a ring of one-second buckets:
 *   new attempts, attempts whose first SYN needed a retry ("dropped"), first SYN-ACKs sent to
 *   any flow ("answered") and RSTs in answer to a SYN ("refused"). A flow asks its server's ring
 *   whether the server answered other connections while ignoring this one.
 * - Never-answered attempts while the server answered nobody are grouped into one outage
 *   episode per server; an episode of two or more attempts becomes one server_unreachable
 *   finding and the per-flow syn_unanswered findings of that episode are suppressed.
 *
 * Two halves (README.md, "Workers"): the per-flow half (det_estab_flow_ops, in the workers)
 * follows one flow's handshake (SYNs, SYN-ACKs, the handshake ACK, the first data, progress,
 * resets) and reports what depends on the flow alone (accept_queue_overflow, slow_handshake
 * of a flow answered on its first SYN). The server half (det_estab_srv_ops, in the
 * aggregator) holds the server table, its one-second buckets, the pending attempts and the
 * outage episodes, and everything that reads them. The per-flow half hands it an op (struct
 * es_op) when a flow does something to its server: EOP_SYN (a new attempt, its first retry
 * before an answer, the SYNs of an attempt still unanswered), EOP_SYNACK (the first one: the
 * answered count, and the judgement of an attempt answered only on a retry), EOP_REFUSED (a
 * RST answering the SYN) and EOP_END (an attempt never answered, or a flow answered on a
 * retry, ends). One engine runs det_estab_ops, both halves, applying each op at once.
 *
 * Why the server half sees what the whole detector saw, in the same order (--workers N):
 * - Its state is read only by itself: at an op (EOP_SYNACK of a retried flow and EOP_END
 *   read the buckets), at its ticks, at the end. Every write comes from an op, made at once
 *   (nothing is batched) and keyed at the moment the flow half made it, so the aggregator
 *   applies it where the whole would have (after the detectors before it in the table, before
 *   those after it: the server half has no per-segment nor flow-end entry of its own, so the
 *   worker runs the per-flow half just before the server half's group): every read sees the
 *   same writes before it, and the findings an op gives reach the other detectors' on_finding
 *   in the same place.
 * - Within one segment the whole wrote the first SYN's slot and bucket before recording the
 *   SYN and the pending copy after; the op does both after: nothing reads in between.
 * - The verdicts that need the server are given by the server half: the backlog judgement of
 *   a flow answered on a retry at its SYN-ACK (es_sflow.hs keeps it) and at its end, where the
 *   whole then also gave the ignored-ACK accept_queue_overflow and slow_handshake: so the
 *   EOP_END of such a flow carries its state and the server half gives all three, in that
 *   order. At its handshake ACK the whole gave nothing (done_hs or judge_pending), nor does
 *   the flow half.
 * - The clock of the decisions (es_priv.now_ns: how long a lone SYN was watched, an episode's
 *   last addition) is the newest of the ticks and of the engine's clock at attempt ends
 *   (det_clock, carried by EOP_END), the same in every worker: no longer every segment's
 *   time, which only the whole saw. The two differ only within a second of capture time,
 *   and at a flow end the engine's clock is the time the flow ends at (the whole lagged by
 *   the segments since; see the commit that cut it).
 */

#define NS_PER_MS 1000000ull
/* SYN times and frames kept per attempt */
#define ES_SYNS 6
/* server endpoints tracked at once (LRU replaced) */
#define ES_MAX_SERVERS DET_MAX_SERVERS
/* entries of the endpoint -> server slot hint table (4 per slot: few collisions) */
#define ES_HINTS (4 * ES_MAX_SERVERS)
/* one-second buckets of history per server */
#define ES_RING 512
/* distinct client addresses remembered per episode */
#define ES_EP_CLIENTS 8
/* a lone SYN must be watched this long to count */
#define ES_MIN_OBSERVE_NS (3 * NS_PER_S)
/* slack around an attempt when asking "did the server answer others" */
#define ES_WINDOW_NS NS_PER_S
/* a server RST this soon after the client's ACK/data is the abort-on-overflow form */
#define ES_RST_NEAR_NS NS_PER_S
/* a refusal stands when no SYN-ACK followed its RST this long (a client's first SYN retry) */
#define ES_REFUSE_CONFIRM_NS (1500 * NS_PER_MS)
/* a SYN-ACK sooner than this after the previous one is a copy, not a timer re-send */
#define ES_SA_RETRY_MIN_NS (500 * NS_PER_MS)
/* an outage episode closes after this long without new attempts */
#define ES_EP_QUIET_NS (60 * NS_PER_S)
/* attempts awaiting their decision at once (more are decided at flow end) */
#define ES_PENDING 4096
/* decide an unanswered attempt after this much quiet ... */
#define ES_DECIDE_MIN_NS (10 * NS_PER_S)
/* ... or this many times its last SYN gap, if longer */
#define ES_DECIDE_GAPS 3

/* What the server did in one second of capture time. */
struct es_bucket {
    uint64_t sec;      /* the capture second this bucket holds (valid when == the asked one) */
    uint16_t attempts; /* new connection attempts (first SYNs) */
    uint16_t dropped;  /* attempts started this second whose first SYN needed a retry */
    uint16_t answered; /* first SYN-ACK of a connection, sent this second */
    uint16_t refused;  /* RSTs in answer to a SYN, sent this second */
};

/* Sums over a range of buckets. */
struct es_counts {
    uint32_t attempts; /* new attempts */
    uint32_t dropped;  /* attempts whose first SYN needed a retry */
    uint32_t answered; /* connections answered with SYN-ACK */
    uint32_t refused;  /* SYNs answered with RST */
};

/* An outage episode: a run of never-answered attempts while the server answered nobody. */
struct es_episode {
    bool active;                           /* an episode is open */
    uint64_t start_ns;                     /* first SYN of the earliest attempt */
    uint64_t end_ns;                       /* last SYN of the latest attempt */
    uint64_t added_ns;                     /* capture time the latest attempt joined */
    uint32_t attempts;                     /* attempts in the episode */
    uint32_t syns;                         /* SYNs in the episode (first and retries) */
    uint32_t lone;                         /* attempts with one SYN watched too briefly */
    uint32_t nclients;                     /* distinct client addresses (up to ES_EP_CLIENTS) */
    bool more_clients;                     /* more clients than clients[] holds */
    struct ip_addr clients[ES_EP_CLIENTS]; /* distinct client addresses seen */
    uint8_t nframes;                       /* frames[] used */
    uint64_t frames[FINDING_FRAMES_MAX];   /* first SYN frames of the first attempts */
    bool has_pending;                      /* pending holds the first attempt's own finding */
    struct finding pending;                /* emitted only if the episode stays at one attempt */
};

/* One server endpoint's recent history. */
struct es_server {
    bool used;                      /* slot holds a server */
    uint32_t gen;                   /* bumped when the slot is reused (flows hold it) */
    struct endpoint ep;             /* the server endpoint */
    uint64_t last_ns;               /* last time this slot was used (for LRU replacement) */
    uint64_t newest_sec;            /* newest bucket second written */
    struct es_bucket ring[ES_RING]; /* history, indexed by second % ES_RING */
    struct es_episode epi;          /* the open outage episode, if any */
};

/* Global state of the detector. */
struct es_priv {
    uint64_t slow_ns;        /* slow_handshake threshold */
    uint64_t now_ns;         /* newest capture time seen */
    uint32_t gen;            /* generation counter for server slots */
    struct es_server *srv;   /* ES_MAX_SERVERS slots */
    uint16_t hint[ES_HINTS]; /* endpoint hash -> server slot + 1 (0 = none): skips the scan */
    struct es_attempt *pend; /* ES_PENDING never-answered attempts awaiting a decision */
    uint32_t *free_slots;    /* free pend[] indices (a stack) */
    uint32_t nfree;          /* entries in free_slots */
    bool remote;             /* the per-flow half: ops go to the thread's sink, no servers */
};

/* The SYNs of one connection attempt. */
struct es_syns {
    uint32_t nsyn;               /* client SYNs seen (first + retries) */
    uint64_t syn_ns[ES_SYNS];    /* times of the first ES_SYNS SYNs */
    uint64_t syn_frame[ES_SYNS]; /* their frame numbers */
    uint64_t prev_syn_ns;        /* the SYN before the latest one (0 = none) */
    uint64_t last_syn_ns;        /* the latest SYN */
    uint64_t last_syn_frame;     /* its frame */
};

/*
 * A never-answered attempt waiting for its decision: a copy of what the decision needs, so that
 * on_tick can decide it once the client has been quiet long enough, without its flow.
 */
struct es_attempt {
    bool used;              /* slot in use */
    bool decided;           /* already decided (by on_tick); the flow end only frees it */
    uint64_t flow_id;       /* the flow */
    struct endpoint client; /* its client */
    struct endpoint server; /* its server */
    int16_t srv;            /* server slot */
    uint32_t srv_gen;       /* the slot's generation; 0 = none */
    struct es_syns sy;      /* its SYNs */
    bool refused;           /* a RST answered the SYN (a refusal once no SYN-ACK follows) */
    bool refused_ttl_mismatch; /* that RST's TTL differed from the server's */
    uint64_t refused_ns;    /* that RST */
    uint64_t refused_frame; /* its frame */
};

/* Per-flow state every flow has (zeroed when a flow starts): what a client SYN needs. */
struct es_early {
    struct es_syns sy;           /* the SYNs */
    uint32_t isn;                /* client ISN (raw) from the first SYN */
    uint32_t nsynack;            /* SYN-ACKs seen */
    bool acked;                  /* the client ACKed the SYN-ACK */
    uint64_t last_c2s_ns;        /* the client's latest segment */
    bool refused;                /* answered by RST (revised if a SYN-ACK follows) */
};

/* The per-flow half's slice of a flow (det_estab_flow_ops). */
struct es_fslice {
    uint32_t lazy;     /* handle of the flow's struct es_late (det_lazy), 0 = none yet */
    struct es_early e; /* the SYN side */
};

/* What the handshake of a flow answered only on a retry came to at its SYN-ACK (es_sflow.hs). */
enum es_hs {
    ES_HS_NONE = 0, /* not answered on a retry (or not answered yet) */
    ES_HS_REPORTED, /* syn_backlog_drop reported at the SYN-ACK */
    ES_HS_PENDING,  /* not enough evidence yet: judged again at the flow end */
};

/* The server half's slice of a flow (det_estab_srv_ops): what ties it to its server. */
struct es_sflow {
    uint32_t pend;    /* pending attempt slot + 1; 0 = none */
    uint32_t srv_gen; /* the server slot's generation when taken; 0 = no slot */
    int16_t srv;      /* server slot (valid when srv_gen != 0) */
    uint8_t hs;       /* enum es_hs */
};

/* The whole detector's slice (det_estab_ops): both halves' (the per-flow half's first). */
struct es_slice {
    struct es_fslice f; /* the per-flow half's */
    struct es_sflow s;  /* the server half's */
};

/*
 * The rest, taken from the pool at the flow's first packet that is not a client SYN (its
 * SYN-ACK, a reset, data): a lone SYN and its retries never take one.
 */
struct es_late {
    uint32_t syn_at_synack;      /* nsyn when the first SYN-ACK came */
    uint64_t synack_ns;          /* first SYN-ACK */
    uint64_t synack_frame;       /* its frame */
    uint64_t last_synack_ns;     /* the latest SYN-ACK */
    uint64_t ack_ns;             /* its time */
    uint64_t ack_frame;          /* its frame */
    uint32_t sa_after_ack;       /* SYN-ACKs retransmitted after the client's ACK */
    uint64_t sa_after_ack_frame; /* the first of them */
    uint32_t syn_after_ack;      /* client SYN retries after its ACK (would explain them) */
    bool has_data;               /* the client sent payload after the handshake */
    uint64_t data_frame;         /* its frame */
    uint32_t data_end;           /* relative end sequence of that payload */
    uint32_t data_retx;          /* retransmissions of client data before the server ACKed */
    uint64_t data_retx_frame;    /* the first of them */
    bool progress;               /* the server sent data, FIN or ACKed client data */
    uint64_t progress_ns;        /* when */
    bool weak_retry;             /* answered on a retry without backlog evidence (the server
                                    half's final judgement, on its copy) */
    uint32_t weak_others;        /* weak_retry: other connections the server answered then */
    bool judge_pending;          /* answered on a retry; judge again at flow end (set only on
                                    the server half's copy, from es_sflow.hs) */
    bool done_hs;                /* the handshake outcome was reported (or is clean) */
    bool done_aq;                /* accept-queue finding written */
    bool srv_reset;              /* the server reset the connection before any progress */
    uint64_t reset_frame;        /* that reset */
    bool refused_ttl_mismatch;   /* the refusing RST's TTL differed from the server's */
    uint64_t refused_ns;         /* that RST (the slice's refused says whether there is one) */
    uint64_t refused_frame;      /* its frame */
};

/* A flow's state as the functions below see it (built per call; l is NULL before it is taken). */
struct es_flow {
    struct es_early *e; /* always there */
    struct es_late *l;  /* NULL until the flow's first packet other than a client SYN */
};

/* Who a finding is about: the flow (as det_finding_init fills it) and its handshake times. */
struct es_who {
    uint64_t flow_id;         /* the flow's id */
    struct endpoint client;   /* its client */
    struct endpoint server;   /* its server */
    int64_t hs_rtt_server_ns; /* the record's handshake times when the op was made (es_slow) */
    int64_t hs_rtt_client_ns; /* (-1: unknown) */
};

/*
 * An op of the per-flow half for the server half (struct estab_op is its header, estab.h):
 * the flow as the per-flow half knows it at that moment. EOP_END of a flow answered on a
 * retry carries its struct es_late too (l; h.size says whether it is there).
 */
struct es_op {
    struct estab_op h;         /* kind and size */
    uint64_t ts;               /* the segment's time; EOP_END: the engine's clock (det_clock) */
    uint64_t frame;            /* the segment's frame */
    uint64_t end_ns;           /* EOP_END: the record's last time */
    struct es_who who;         /* the flow (a worker's id: the aggregator passes its own) */
    struct es_early e;         /* its SYN side (EOP_SYNACK: before this SYN-ACK is counted) */
    bool refused_ttl_mismatch; /* its refusal, es_late's (zero without one) */
    uint64_t refused_ns;       /* the refusing RST */
    uint64_t refused_frame;    /* its frame */
    struct es_late l;          /* EOP_END with a tail: the rest of its state */
};

/*
 * An op as the server half reads it: the op's fields, and where the flow's state is (in the
 * op received, or the flow's own state when the whole detector applies it at once).
 */
struct es_in {
    uint32_t kind;             /* enum estab_op_kind */
    uint64_t ts;               /* as struct es_op */
    uint64_t frame;            /* as struct es_op */
    uint64_t end_ns;           /* as struct es_op */
    struct es_who who;         /* the flow */
    const struct es_early *e;  /* its SYN side */
    bool refused_ttl_mismatch; /* its refusal */
    uint64_t refused_ns;       /* the refusing RST */
    uint64_t refused_frame;    /* its frame */
    const struct es_late *l;   /* EOP_END with a tail: the rest of its state; else NULL */
};

/* "1.0 s", "250.0 ms" or "0.186 ms". */
static void es_dur(char *buf, size_t n, uint64_t ns)
{
    if (ns >= NS_PER_S)
        snprintf(buf, n, "%.1f s", (double)ns / 1e9);
    else if (ns >= NS_PER_MS)
        snprintf(buf, n, "%.1f ms", (double)ns / 1e6);
    else
        snprintf(buf, n, "%.3f ms", (double)ns / 1e6);
}

/* The bucket for a capture time, reset if it held an older second. */
static struct es_bucket *es_bucket_at(struct es_server *s, uint64_t ts_ns)
{
    uint64_t sec = ts_ns / NS_PER_S;
    struct es_bucket *b = &s->ring[sec % ES_RING];
    if (b->sec != sec) {
        if (b->sec > sec)
            return NULL; /* older than the ring holds */
        memset(b, 0, sizeof(*b));
        b->sec = sec;
    }
    if (sec > s->newest_sec)
        s->newest_sec = sec;
    return b;
}

/* After snprintf returned w into buf[n]: mark a cut text with "..." at its end. */
static void es_fit(char *buf, size_t n, int w)
{
    if (w >= 0 && (size_t)w < n)
        return;
    if (n > 4)
        memcpy(buf + n - 4, "...", 4);
}

/* a - b, or 0 if b > a (capture times near zero in synthetic input). */
static uint64_t es_sub(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

static uint16_t es_inc16(uint16_t v)
{
    return v == UINT16_MAX ? v : (uint16_t)(v + 1);
}

/*
 * Sum the buckets of [a_ns, b_ns]. False when part of the range is older than the ring holds
 * (the answer is unknown).
 */
static bool es_count(const struct es_server *s, uint64_t a_ns, uint64_t b_ns, struct es_counts *c)
{
    uint64_t a = a_ns / NS_PER_S, b = b_ns / NS_PER_S;
    memset(c, 0, sizeof(*c));
    if (b > s->newest_sec)
        b = s->newest_sec;
    if (s->newest_sec >= ES_RING && a <= s->newest_sec - ES_RING)
        return false;
    for (uint64_t sec = a; sec <= b; sec++) {
        const struct es_bucket *k = &s->ring[sec % ES_RING];
        if (k->sec != sec)
            continue;
        c->attempts += k->attempts;
        c->dropped += k->dropped;
        c->answered += k->answered;
        c->refused += k->refused;
    }
    return true;
}

static void es_episode_close(struct det *d, struct es_server *s);

/* FNV-1a over the address and port: picks the hint entry of an endpoint. */
static uint32_t es_ep_hash(const struct endpoint *ep)
{
    uint32_t h = 2166136261u;
    size_t n = ep->ip.family == 6 ? 16 : 4;
    for (size_t i = 0; i < n; i++)
        h = (h ^ ep->ip.a[i]) * 16777619u;
    h = (h ^ (ep->port & 0xffu)) * 16777619u;
    return (h ^ (ep->port >> 8)) * 16777619u;
}

/* Find server ep by scanning every slot, taking (and if need be recycling, LRU) one. */
static int es_server_scan(struct det *d, const struct endpoint *ep, uint64_t now)
{
    struct es_priv *p = d->priv;
    int free_i = -1, old_i = 0;
    for (int i = 0; i < ES_MAX_SERVERS; i++) {
        struct es_server *s = &p->srv[i];
        if (!s->used) {
            if (free_i < 0)
                free_i = i;
            continue;
        }
        if (pkt_ep_eq(&s->ep, ep)) {
            s->last_ns = now;
            return i;
        }
        if (s->last_ns < p->srv[old_i].last_ns || !p->srv[old_i].used)
            old_i = i;
    }
    int i = free_i >= 0 ? free_i : old_i;
    struct es_server *s = &p->srv[i];
    if (s->used && s->epi.active)
        es_episode_close(d, s);
    memset(s, 0, sizeof(*s));
    s->used = true;
    s->gen = ++p->gen;
    s->ep = *ep;
    s->last_ns = now;
    return i;
}

/* The slot for server ep, taking (and if need be recycling) one; never fails. */
static int es_server_slot(struct det *d, const struct endpoint *ep, uint64_t now)
{
    struct es_priv *p = d->priv;
    uint32_t h = es_ep_hash(ep) % ES_HINTS;
    uint16_t hint = p->hint[h];
    if (hint && p->srv[hint - 1].used && pkt_ep_eq(&p->srv[hint - 1].ep, ep)) {
        p->srv[hint - 1].last_ns = now;
        return hint - 1; /* the common case: one lookup, no scan */
    }
    int i = es_server_scan(d, ep, now);
    p->hint[h] = (uint16_t)(i + 1);
    return i;
}

/* Server slot srv if it still holds the same server (generation gen), else NULL. */
static struct es_server *es_server_of(struct det *d, int16_t srv, uint32_t gen)
{
    struct es_priv *p = d->priv;
    if (gen == 0 || srv < 0 || srv >= ES_MAX_SERVERS)
        return NULL; /* generation 0: the flow never took a slot */
    struct es_server *s = &p->srv[srv];
    return s->used && s->gen == gen ? s : NULL;
}

/* The flow's server slot if it is still the same server, else NULL. */
static struct es_server *es_flow_server(struct det *d, const struct es_sflow *sv)
{
    return es_server_of(d, sv->srv, sv->srv_gen);
}

static void es_add_frame(struct finding *fd, uint64_t frame)
{
    if (frame && fd->nframes < FINDING_FRAMES_MAX)
        fd->frames[fd->nframes++] = frame;
}

/* Evidence: the kept SYN frames (the last one too if more were sent), then extra. */
static void es_syn_frames(struct finding *fd, const struct es_syns *sy, uint64_t extra)
{
    uint32_t n = sy->nsyn < ES_SYNS ? sy->nsyn : ES_SYNS;
    for (uint32_t i = 0; i < n && fd->nframes < FINDING_FRAMES_MAX - 2; i++)
        es_add_frame(fd, sy->syn_frame[i]);
    if (sy->nsyn > ES_SYNS)
        es_add_frame(fd, sy->last_syn_frame);
    es_add_frame(fd, extra);
}

_Static_assert(FX_GAPS_MAX == ES_SYNS - 1, "a finding keeps the gaps between the kept SYNs");

/* The typed fields of an establishment finding about SYNs sy: reason, count and gaps. */
static void es_fx_syns(struct fx_estab *x, enum estab_reason reason, const struct es_syns *sy)
{
    uint32_t k = sy->nsyn < ES_SYNS ? sy->nsyn : ES_SYNS;
    x->reason = reason;
    x->syns = sy->nsyn;
    x->ngaps = 0;
    for (uint32_t i = 1; i < k; i++)
        x->gap_ns[x->ngaps++] = sy->syn_ns[i] - sy->syn_ns[i - 1];
}

/* "3 SYNs at +0 s, +1.0 s, +3.0 s (gaps 1.0 s, 2.0 s: exponential back-off)" into buf. */
static void es_syn_story(const struct es_syns *sy, char *buf, size_t n)
{
    uint32_t k = sy->nsyn < ES_SYNS ? sy->nsyn : ES_SYNS;
    size_t at = 0;
    int w = snprintf(buf, n, "%u SYN%s at ", sy->nsyn, sy->nsyn == 1 ? "" : "s");
    at = w > 0 ? (size_t)w : 0;
    for (uint32_t i = 0; i < k && at < n; i++) {
        w = snprintf(buf + at, n - at, "%s+%.1f s", i ? ", " : "",
                     (double)(sy->syn_ns[i] - sy->syn_ns[0]) / 1e9);
        at += w > 0 ? (size_t)w : 0;
    }
    if (sy->nsyn > ES_SYNS && at < n) {
        w = snprintf(buf + at, n - at, ", ..., +%.1f s",
                     (double)es_sub(sy->last_syn_ns, sy->syn_ns[0]) / 1e9);
        at += w > 0 ? (size_t)w : 0;
    }
    bool doubling = k >= 3, constant = k >= 3;
    for (uint32_t i = 1; i < k; i++) {
        uint64_t g = sy->syn_ns[i] - sy->syn_ns[i - 1];
        if (i >= 2) {
            double r = (double)g / (double)(sy->syn_ns[i - 1] - sy->syn_ns[i - 2] + 1);
            doubling = doubling && r > 1.6 && r < 2.5;
            constant = constant && r > 0.8 && r < 1.25;
        }
    }
    if (k < 2 || at >= n)
        return;
    w = snprintf(buf + at, n - at, " (gaps ");
    at += w > 0 ? (size_t)w : 0;
    for (uint32_t i = 1; i < k && at < n; i++) {
        char g[24];
        es_dur(g, sizeof(g), sy->syn_ns[i] - sy->syn_ns[i - 1]);
        w = snprintf(buf + at, n - at, "%s%s", i > 1 ? ", " : "", g);
        at += w > 0 ? (size_t)w : 0;
    }
    if (at < n)
        snprintf(buf + at, n - at, "%s)",
                 doubling   ? ": exponential back-off, as Linux RTO"
                 : constant ? ": fixed retry interval"
                            : "");
}

static void es_client_add(struct es_episode *e, const struct ip_addr *ip)
{
    for (uint32_t i = 0; i < e->nclients; i++)
        if (pkt_ip_eq(&e->clients[i], ip))
            return;
    if (e->nclients < ES_EP_CLIENTS)
        e->clients[e->nclients++] = *ip;
    else
        e->more_clients = true;
}

/* End the server's episode: one server_unreachable, or the lone attempt's own finding. */
static void es_episode_close(struct det *d, struct es_server *s)
{
    struct es_priv *p = d->priv;
    struct es_episode *e = &s->epi;
    if (!e->active)
        return;
    if (e->attempts >= 2) {
        struct finding fd;
        memset(&fd, 0, sizeof(fd));
        fd.ts_ns = e->start_ns;
        fd.kind = FK_SERVER_UNREACHABLE;
        fd.server = s->ep;
        bool brief = e->lone == e->attempts;
        fd.sev = brief ? SEV_WARN : SEV_ERROR;
        fd.confidence = brief ? 0.4f : (e->nclients >= 2 ? 0.9f : 0.75f);
        fd.nframes = e->nframes;
        memcpy(fd.frames, e->frames, sizeof(fd.frames));
        char span[24];
        es_dur(span, sizeof(span), e->end_ns - e->start_ns);
        es_fit(
            fd.detail, sizeof(fd.detail),
            snprintf(
                fd.detail, sizeof(fd.detail),
                "%u connection attempts (%u SYNs) from %u%s client address%s over %s got no "
                "answer at all from port %u: the server is down, or the path or a firewall drops "
                "its SYNs.%s Check: is the host up, `ss -lnt` on it, firewall rules, routes.",
                e->attempts, e->syns, e->nclients, e->more_clients ? "+" : "",
                e->nclients == 1 && !e->more_clients ? "" : "es", span, s->ep.port,
                brief ? " Weak: the capture ended within 3 s of the SYNs." : ""));
        fd.fx.estab.reason = ER_UNREACHABLE;
        fd.fx.estab.attempts = e->attempts;
        fd.fx.estab.syns = e->syns;
        fd.fx.estab.clients = e->nclients;
        fd.fx.estab.duration_ns = e->end_ns - e->start_ns;
        det_emit(d, &fd);
    } else if (e->has_pending) {
        det_emit(d, &e->pending);
    }
    (void)p;
    memset(e, 0, sizeof(*e));
}

/*
 * A never-answered attempt while its server answered nobody: join it to the server's episode
 * (or start one). own is its per-flow finding, or NULL if too brief to judge alone.
 */
static void es_episode_add(struct det *d, struct es_server *s, const struct es_attempt *at,
                           const struct finding *own)
{
    struct es_episode *e = &s->epi;
    uint64_t t0 = at->sy.syn_ns[0], t1 = at->sy.last_syn_ns;
    if (e->active) {
        uint64_t a = t0 < e->start_ns ? t0 : e->start_ns;
        uint64_t b = t1 > e->end_ns ? t1 : e->end_ns;
        struct es_counts c;
        bool known = es_count(s, a, b, &c);
        if (!known || c.answered || c.refused)
            es_episode_close(d, s);
        else {
            e->start_ns = a;
            e->end_ns = b;
        }
    }
    if (!e->active) {
        memset(e, 0, sizeof(*e));
        e->active = true;
        e->start_ns = t0;
        e->end_ns = t1;
        if (own) {
            e->has_pending = true;
            e->pending = *own;
        }
    }
    e->attempts++;
    e->added_ns = ((struct es_priv *)d->priv)->now_ns;
    e->syns += at->sy.nsyn;
    if (!own)
        e->lone++;
    es_client_add(e, &at->client.ip);
    if (e->nframes < FINDING_FRAMES_MAX)
        e->frames[e->nframes++] = at->sy.syn_frame[0];
}

/* Set up the server side (servers, pending attempts) and/or the per-flow side's options. */
static int es_init_parts(struct det *d, const struct eng_config *cfg, bool servers)
{
    struct es_priv *p = calloc(1, sizeof(*p));
    if (!p)
        return ERR_NOMEM;
    p->remote = !servers;
    p->slow_ns = cfg->slow_handshake_ns ? cfg->slow_handshake_ns : NS_PER_S;
    d->priv = p;
    if (!servers)
        return 0;
    p->srv = calloc(ES_MAX_SERVERS, sizeof(*p->srv));
    p->pend = calloc(ES_PENDING, sizeof(*p->pend));
    p->free_slots = calloc(ES_PENDING, sizeof(*p->free_slots));
    if (!p->srv || !p->pend || !p->free_slots) {
        free(p->srv);
        free(p->pend);
        free(p->free_slots);
        free(p);
        d->priv = NULL;
        return ERR_NOMEM;
    }
    for (uint32_t i = 0; i < ES_PENDING; i++)
        p->free_slots[p->nfree++] = ES_PENDING - 1 - i;
    return 0;
}

static int es_init(struct det *d, const struct eng_config *cfg)
{
    return es_init_parts(d, cfg, true);
}

static int es_init_flow(struct det *d, const struct eng_config *cfg)
{
    return es_init_parts(d, cfg, false);
}

static void es_free(struct det *d)
{
    struct es_priv *p = d->priv;
    if (!p)
        return;
    free(p->srv);
    free(p->pend);
    free(p->free_slots);
    free(p);
    d->priv = NULL;
}

/* ---- findings about a flow (either half: by its es_who, not the flow) ---- */

/* The flow fields of a finding about flow w (what det_finding_init does for a flow). */
static void es_finding_init(struct finding *fd, const struct es_who *w, enum fkind k,
                            enum severity sev, uint64_t ts)
{
    memset(fd, 0, sizeof(*fd));
    fd->ts_ns = ts;
    fd->kind = k;
    fd->sev = sev;
    fd->flow_id = w->flow_id;
    fd->has_client = true;
    fd->client = w->client;
    fd->server = w->server;
    fd->confidence = 1.0f;
}

/* Flow f as a finding names it, with its record's handshake times now. */
static void es_who_of(struct es_who *w, const struct flow *f)
{
    const struct flow_record *r = flow_rec(f);
    w->flow_id = r->flow_id;
    w->client = r->client;
    w->server = r->server;
    w->hs_rtt_server_ns = r->hs_rtt_server_ns;
    w->hs_rtt_client_ns = r->hs_rtt_client_ns;
}

/* The flow fields of a finding about attempt at. */
static void es_attempt_finding(struct finding *fd, const struct es_attempt *at, enum fkind k,
                               enum severity sev, uint64_t ts)
{
    struct es_who w = {.flow_id = at->flow_id, .client = at->client, .server = at->server};
    es_finding_init(fd, &w, k, sev, ts);
}

/* The conn_refused finding of a refusal that stood (no SYN-ACK followed its RST). */
static void es_refused_emit(struct det *d, const struct es_attempt *at)
{
    struct finding fd;
    es_attempt_finding(&fd, at, FK_CONN_REFUSED, SEV_ERROR, at->refused_ns);
    fd.confidence = 1.0f;
    es_syn_frames(&fd, &at->sy, at->refused_frame);
    char after[24];
    es_dur(after, sizeof(after), es_sub(at->refused_ns, at->sy.last_syn_ns));
    es_fit(fd.detail, sizeof(fd.detail),
           snprintf(
               fd.detail, sizeof(fd.detail),
               "SYN answered by RST after %s%s: nothing listens on port %u (or a firewall rejects "
               "with a reset)%s. Check on the server: `ss -lnt 'sport = :%u'`, the service status, "
               "firewall REJECT rules.",
               after, at->sy.nsyn > 1 ? " (earlier SYNs were ignored)" : "", at->server.port,
               at->refused_ttl_mismatch ? "; its TTL differs from the server's: maybe a middlebox"
                                        : "",
               at->server.port));
    fd.fx.estab.reason = ER_REFUSED;
    fd.fx.estab.syns = at->sy.nsyn;
    fd.fx.estab.ttl_mismatch = at->refused_ttl_mismatch;
    det_emit(d, &fd);
}

/* accept_queue_overflow, abort_on_overflow=1: the server resets the completed handshake. */
static void es_aq_reset(struct det *d, const struct es_who *w, struct es_flow *st,
                        const struct pkt *pk)
{
    st->l->done_aq = true;
    struct finding fd;
    es_finding_init(&fd, w, FK_ACCEPT_QUEUE_OVERFLOW, SEV_ERROR, pk->ts_ns);
    fd.confidence = 0.8f;
    es_add_frame(&fd, st->e->sy.syn_frame[0]);
    es_add_frame(&fd, st->l->synack_frame);
    es_add_frame(&fd, st->l->ack_frame);
    if (st->l->has_data)
        es_add_frame(&fd, st->l->data_frame);
    es_add_frame(&fd, pk->frame);
    char after[24];
    es_dur(after, sizeof(after), es_sub(pk->ts_ns, st->e->last_c2s_ns));
    es_fit(
        fd.detail, sizeof(fd.detail),
        snprintf(
            fd.detail, sizeof(fd.detail),
            "The server reset the connection %s after the client completed the handshake%s, "
            "before sending anything: accept queue full with net.ipv4.tcp_abort_on_overflow=1. "
            "Check `ss -lnt` Recv-Q vs Send-Q, nstat TcpExtListenOverflows, the app's accept rate.",
            after, st->l->has_data ? " and sent data" : ""));
    fd.fx.estab.reason = ER_ACCEPT_QUEUE;
    fd.fx.estab.abort_on_overflow = true;
    fd.fx.estab.synack_retries = st->l->sa_after_ack;
    fd.fx.estab.data_retransmissions = st->l->data_retx;
    det_emit(d, &fd);
}

/* accept_queue_overflow, abort_on_overflow=0: the server ignored the ACK and re-sent SYN-ACK. */
static void es_aq_ignored(struct det *d, const struct es_who *w, struct es_flow *st, uint64_t ts)
{
    if (st->l->done_aq || !st->e->acked || st->l->sa_after_ack == 0 || st->e->refused)
        return;
    if (st->l->syn_after_ack >= st->l->sa_after_ack)
        return; /* each SYN-ACK answered a client SYN retry: not the overflow pattern */
    st->l->done_aq = true;
    struct finding fd;
    es_finding_init(&fd, w, FK_ACCEPT_QUEUE_OVERFLOW, st->l->progress ? SEV_WARN : SEV_ERROR, ts);
    fd.confidence = st->l->data_retx ? 0.9f : 0.6f;
    es_add_frame(&fd, st->e->sy.syn_frame[0]);
    es_add_frame(&fd, st->l->synack_frame);
    es_add_frame(&fd, st->l->ack_frame);
    es_add_frame(&fd, st->l->sa_after_ack_frame);
    if (st->l->has_data)
        es_add_frame(&fd, st->l->data_frame);
    es_add_frame(&fd, st->l->data_retx_frame);
    es_add_frame(&fd, st->l->reset_frame);
    char stall[24];
    uint64_t end = st->l->progress ? st->l->progress_ns : ts;
    es_dur(stall, sizeof(stall), end > st->l->ack_ns ? end - st->l->ack_ns : 0);
    es_fit(fd.detail, sizeof(fd.detail),
           snprintf(
               fd.detail, sizeof(fd.detail),
               "Client ACKed the SYN-ACK, yet the server re-sent its SYN-ACK %u time%s%s; %s after "
               "%s. Accept queue full (tcp_abort_on_overflow=0)%s. Check `ss -lnt` Recv-Q vs "
               "Send-Q, nstat TcpExtListenOverflows, the listen() backlog.",
               st->l->sa_after_ack, st->l->sa_after_ack == 1 ? "" : "s",
               st->l->data_retx ? " and left the client's data unACKed" : "",
               st->l->progress    ? "it finally responded"
               : st->l->srv_reset ? "it reset the connection"
                                  : "no progress",
               stall, st->l->data_retx ? "" : " or the ACK was lost (weaker)"));
    fd.fx.estab.reason = ER_ACCEPT_QUEUE;
    fd.fx.estab.abort_on_overflow = false;
    fd.fx.estab.synack_retries = st->l->sa_after_ack;
    fd.fx.estab.data_retransmissions = st->l->data_retx;
    fd.fx.estab.outcome = st->l->progress ? EO_DELAYED : st->l->srv_reset ? EO_RESET : EO_FAILED;
    fd.fx.estab.stall_ns = end > st->l->ack_ns ? end - st->l->ack_ns : 0;
    det_emit(d, &fd);
}

/*
 * slow_handshake: the split of the handshake time, or a retry without backlog evidence. The
 * two sides are the flow record's (TCP analysis times the handshake, tcp.c; w has them as
 * they are now): server side from the SYN the first SYN-ACK answers (copies aside), client
 * side from the latest SYN-ACK to the ACK that completes the handshake.
 */
static void es_slow(struct det *d, const struct es_who *w, struct es_flow *st, uint64_t ts)
{
    if (st->l->done_hs || st->e->nsynack == 0 || st->l->judge_pending)
        return;
    /* without the SYN (capture started after it) only the client side is known */
    bool srv_known = w->hs_rtt_server_ns >= 0;
    bool cli_known = st->e->acked && w->hs_rtt_client_ns >= 0;
    if (!srv_known && !cli_known)
        return; /* neither side of the handshake can be timed */
    uint64_t srv_ns = srv_known ? (uint64_t)w->hs_rtt_server_ns : 0;
    uint64_t cli_ns = cli_known ? (uint64_t)w->hs_rtt_client_ns : 0;
    bool slow = cli_known && srv_ns + cli_ns > ((struct es_priv *)d->priv)->slow_ns;
    if (!slow && !st->l->weak_retry)
        return;
    st->l->done_hs = true;
    struct finding fd;
    es_finding_init(&fd, w, FK_SLOW_HANDSHAKE, slow ? SEV_WARN : SEV_INFO, ts);
    fd.confidence = slow ? 1.0f : 0.3f;
    es_syn_frames(&fd, &st->e->sy, st->l->synack_frame);
    es_add_frame(&fd, st->l->ack_frame);
    char sv[32], cl[24], tot[24];
    if (srv_known)
        es_dur(sv, sizeof(sv), srv_ns);
    else
        snprintf(sv, sizeof(sv), "unknown (no SYN seen)");
    es_dur(cl, sizeof(cl), cli_ns);
    /* from the first SYN (retries included); without it, the client side */
    uint64_t end = cli_known ? st->l->ack_ns : st->l->synack_ns;
    es_dur(tot, sizeof(tot), srv_known ? es_sub(end, st->e->sy.syn_ns[0]) : cli_ns);
    if (st->l->weak_retry)
        es_fit(
            fd.detail, sizeof(fd.detail),
            snprintf(
                fd.detail, sizeof(fd.detail),
                "Connection took %s to open: the first SYN went unanswered and a retry (%u SYNs) "
                "was answered; server side %s, client side %s. Weak evidence of a SYN backlog "
                "drop: %s, so random loss of the SYN is likelier.",
                tot, st->e->sy.nsyn, sv, cli_known ? cl : "unknown",
                st->l->weak_others ? "the server answered other connections normally then"
                                   : "the server had no other connections then"));
    else
        es_fit(
            fd.detail, sizeof(fd.detail),
            snprintf(
                fd.detail, sizeof(fd.detail),
                "Handshake took %s: server side (SYN -> SYN-ACK) %s, client side (SYN-ACK -> ACK) "
                "%s. %s",
                tot, sv, cl,
                srv_ns >= cli_ns ? "The server side dominates: check server load, SYN queue "
                                   "(nstat TcpExtListenDrops) and the path to it."
                                 : "The client side dominates: the client or its path is slow."));
    fd.fx.estab.reason = st->l->weak_retry ? ER_SYN_RETRY : ER_SLOW;
    fd.fx.estab.server_side_ns = srv_known ? (int64_t)srv_ns : -1;
    fd.fx.estab.client_side_ns = cli_ns;
    fd.fx.estab.syns = st->e->sy.nsyn;
    det_emit(d, &fd);
}

/* ---- the server half: server table, pending attempts, what the ops do there ---- */

/* The attempt record of a flow (w, its server slice sv, o: the op with its SYNs and refusal). */
static void es_attempt_of(struct es_attempt *at, const struct es_who *w, const struct es_sflow *sv,
                          const struct es_in *o)
{
    memset(at, 0, sizeof(*at));
    at->used = true;
    at->flow_id = w->flow_id;
    at->client = w->client;
    at->server = w->server;
    at->srv = sv->srv;
    at->srv_gen = sv->srv_gen;
    at->sy = o->e->sy;
    at->refused = o->e->refused;
    at->refused_ttl_mismatch = o->refused_ttl_mismatch;
    at->refused_ns = o->refused_ns;
    at->refused_frame = o->refused_frame;
}

/* The flow's pending slot, if it still belongs to this flow (flow_id). */
static struct es_attempt *es_pending_of(struct det *d, const struct es_sflow *sv, uint64_t flow_id)
{
    struct es_priv *p = d->priv;
    if (sv->pend == 0 || sv->pend > ES_PENDING)
        return NULL;
    struct es_attempt *at = &p->pend[sv->pend - 1];
    return at->used && at->flow_id == flow_id ? at : NULL;
}

/* Give a pending slot back. */
static void es_pending_release(struct det *d, struct es_sflow *sv, struct es_attempt *at)
{
    struct es_priv *p = d->priv;
    if (at) {
        at->used = false;
        if (p->nfree < ES_PENDING)
            p->free_slots[p->nfree++] = (uint32_t)(at - p->pend);
    }
    sv->pend = 0;
}

/* The counts of a bucket. */
enum es_what { ES_ATTEMPT, ES_DROPPED, ES_ANSWERED, ES_REFUSED };

/* Count one what in the bucket of capture time ts of the flow's server. */
static void es_count_at(struct det *d, const struct es_sflow *sv, uint64_t ts, enum es_what what)
{
    struct es_server *s = es_flow_server(d, sv);
    struct es_bucket *b = s ? es_bucket_at(s, ts) : NULL;
    if (!b)
        return;
    uint16_t *v = what == ES_ATTEMPT    ? &b->attempts
                  : what == ES_DROPPED  ? &b->dropped
                  : what == ES_ANSWERED ? &b->answered
                                        : &b->refused;
    *v = es_inc16(*v);
}

/* The flow's server slot (taken, or recycled, at ts). */
static void es_take_server(struct det *d, struct es_sflow *sv, const struct endpoint *ep,
                           uint64_t ts)
{
    sv->srv = (int16_t)es_server_slot(d, ep, ts);
    sv->srv_gen = ((struct es_priv *)d->priv)->srv[sv->srv].gen;
}

/*
 * An attempt answered only on a retry: backlog drop or not. Judged at its SYN-ACK from the
 * history so far; when that is not enough, judged again when the flow ends (final), with the
 * history up to a second after the SYN-ACK (other clients' retries may come a little later).
 * l: the flow's synack_ns, synack_frame and syn_at_synack; the verdict goes into l too.
 */
static void es_judge_retry(struct det *d, const struct es_who *w, const struct es_sflow *sv,
                           const struct es_syns *sy, struct es_late *l, bool final)
{
    struct es_server *s = es_flow_server(d, sv);
    struct es_counts c;
    uint64_t b_ns = final ? l->synack_ns + ES_WINDOW_NS : l->synack_ns;
    bool known = s && es_count(s, es_sub(sy->syn_ns[0], ES_WINDOW_NS), b_ns, &c);
    if (known && final && c.answered > 0)
        c.answered--; /* this connection's own SYN-ACK is in the buckets by now */
    uint32_t ignored = l->syn_at_synack - 1;
    l->judge_pending = false;
    if (!known || c.answered == 0 || c.dropped < 2 || (ignored < 2 && c.dropped * 4 < c.attempts)) {
        if (final) {
            l->weak_retry = true; /* reported as slow_handshake (info) with the reason */
            l->weak_others = known ? c.answered : 0;
        } else
            l->judge_pending = true;
        return;
    }
    struct finding fd;
    es_finding_init(&fd, w, FK_SYN_BACKLOG_DROP, SEV_WARN, l->synack_ns);
    float conf = 0.6f;
    if (ignored >= 2)
        conf += 0.15f;
    if (c.dropped * 2 >= c.attempts)
        conf += 0.15f;
    fd.confidence = conf;
    es_syn_frames(&fd, sy, l->synack_frame);
    char story[160], wait[24];
    es_syn_story(sy, story, sizeof(story));
    es_dur(wait, sizeof(wait), es_sub(l->synack_ns, sy->syn_ns[0]));
    es_fit(
        fd.detail, sizeof(fd.detail),
        snprintf(fd.detail, sizeof(fd.detail),
                 "%s; answered only after %s, while the server answered %u other connections and "
                 "%u of %u attempts needed a retry: SYN queue/listen backlog full. Check nstat "
                 "TcpExtListenOverflows/ListenDrops, `ss -lnt` Send-Q, somaxconn.",
                 story, wait, c.answered, c.dropped, c.attempts));
    es_fx_syns(&fd.fx.estab, ER_BACKLOG, sy);
    fd.fx.estab.outcome = EO_DELAYED;
    fd.fx.estab.answered_others = c.answered;
    fd.fx.estab.dropped_in_window = c.dropped;
    fd.fx.estab.attempts_in_window = c.attempts;
    l->done_hs = true;
    det_emit(d, &fd);
}

/* Decide a never-answered attempt: backlog drop, unanswered, or part of an outage episode. */
static void es_unanswered(struct det *d, const struct es_attempt *at)
{
    struct es_priv *p = d->priv;
    const struct es_syns *sy = &at->sy;
    bool watched = sy->nsyn >= 2 || es_sub(p->now_ns, sy->last_syn_ns) >= ES_MIN_OBSERVE_NS;
    struct es_server *s = es_server_of(d, at->srv, at->srv_gen);
    struct es_counts c;
    bool known =
        s && es_count(s, es_sub(sy->syn_ns[0], ES_WINDOW_NS), sy->last_syn_ns + ES_WINDOW_NS, &c);
    bool episode = s && known && c.answered == 0 && c.refused == 0;
    if (!watched) { /* too brief to judge alone: no finding of its own, no text to write */
        if (episode)
            es_episode_add(d, s, at, NULL);
        return;
    }
    char story[160];
    es_syn_story(sy, story, sizeof(story));
    struct finding fd;
    if (known && c.answered > 0 && c.dropped >= 2 && sy->nsyn >= 2) {
        es_attempt_finding(&fd, at, FK_SYN_BACKLOG_DROP, SEV_ERROR, sy->syn_ns[0]);
        fd.confidence = c.dropped >= 3 && c.answered >= 2 ? 0.8f : 0.6f;
        es_syn_frames(&fd, sy, 0);
        es_fit(
            fd.detail, sizeof(fd.detail),
            snprintf(fd.detail, sizeof(fd.detail),
                     "%s, never answered, while the server answered %u other connections (%u of %u "
                     "attempts needed a retry): SYN queue/listen backlog full%s. Check nstat "
                     "TcpExtListenOverflows/ListenDrops, `ss -lnt`, somaxconn.",
                     story, c.answered, c.dropped, c.attempts,
                     c.dropped >= 3 && c.answered >= 2 ? "" : ", or loss or a firewall rule"));
        es_fx_syns(&fd.fx.estab, ER_BACKLOG, sy);
        fd.fx.estab.outcome = EO_TIMEOUT;
        fd.fx.estab.answered_others = c.answered;
        fd.fx.estab.dropped_in_window = c.dropped;
        fd.fx.estab.attempts_in_window = c.attempts;
        det_emit(d, &fd);
        return;
    }
    es_attempt_finding(&fd, at, FK_SYN_UNANSWERED, sy->nsyn >= 2 ? SEV_ERROR : SEV_WARN,
                       sy->syn_ns[0]);
    fd.confidence = sy->nsyn >= 2 ? 0.9f : 0.5f;
    es_syn_frames(&fd, sy, 0);
    es_fit(fd.detail, sizeof(fd.detail),
           snprintf(fd.detail, sizeof(fd.detail),
                    "%s, never answered: connect timeout. %s Check the server is up and listening "
                    "(`ss -lnt`), firewalls and routes; nstat TcpExtListenDrops.",
                    story,
                    known && c.answered ? "The server answered others then: a rule for this client?"
                    : sy->nsyn == 1     ? "The client never retried (scanner or short timeout)."
                                        : "No other connection to this server was answered then."));
    es_fx_syns(&fd.fx.estab, ER_TIMEOUT, sy);
    fd.fx.estab.answered_others = known ? c.answered : 0;
    if (episode) {
        es_episode_add(d, s, at, &fd);
        return;
    }
    det_emit(d, &fd);
}

/*
 * EOP_SYN: a client SYN (not a copy) the flow has recorded. The first one is a new attempt
 * and takes the server's slot; the second, before any SYN-ACK, marks the attempt as needing
 * a retry (in the bucket of its first SYN); while unanswered and not refused, the pending
 * copy follows the SYNs (the first SYN takes a slot when one is free).
 */
static void es_srv_syn(struct det *d, struct es_sflow *sv, const struct es_who *w,
                       const struct es_in *o)
{
    struct es_priv *p = d->priv;
    const struct es_early *e = o->e;
    if (e->sy.nsyn == 1) {
        es_take_server(d, sv, &w->server, o->ts);
        es_count_at(d, sv, o->ts, ES_ATTEMPT);
    } else if (e->sy.nsyn == 2 && e->nsynack == 0) {
        es_count_at(d, sv, e->sy.syn_ns[0], ES_DROPPED);
    }
    if (e->nsynack != 0 || e->refused)
        return;
    struct es_attempt *pa = es_pending_of(d, sv, w->flow_id);
    if (!pa && sv->pend == 0 && e->sy.nsyn == 1 && p->nfree > 0) {
        uint32_t i = p->free_slots[--p->nfree];
        pa = &p->pend[i];
        sv->pend = i + 1;
    }
    if (pa && !pa->decided)
        es_attempt_of(pa, w, sv, o);
}

/* EOP_SYNACK: the first SYN-ACK (o->e: the flow before it counts it). */
static void es_srv_synack(struct det *d, struct es_sflow *sv, const struct es_who *w,
                          const struct es_in *o)
{
    if (o->e->sy.nsyn == 0)
        es_take_server(d, sv, &w->server, o->ts);
    es_pending_release(d, sv, es_pending_of(d, sv, w->flow_id));
    if (o->e->sy.nsyn >= 2) {
        struct es_late l = {
            .synack_ns = o->ts, .synack_frame = o->frame, .syn_at_synack = o->e->sy.nsyn};
        es_judge_retry(d, w, sv, &o->e->sy, &l, false);
        sv->hs = l.done_hs ? ES_HS_REPORTED : ES_HS_PENDING;
    }
    es_count_at(d, sv, o->ts, ES_ANSWERED);
}

/* EOP_REFUSED: a RST answered the SYN (a refusal once no SYN-ACK follows: es_on_tick). */
static void es_srv_refused(struct det *d, struct es_sflow *sv, const struct es_who *w,
                           const struct es_in *o)
{
    struct es_attempt *pa = es_pending_of(d, sv, w->flow_id);
    if (pa && !pa->decided)
        es_attempt_of(pa, w, sv, o); /* on_tick writes the finding once it stands */
    es_count_at(d, sv, o->ts, ES_REFUSED);
}

/*
 * EOP_END: the flow ended. An attempt never answered (refused, or not at all) is decided here
 * unless on_tick did; a flow answered on a retry gets the rest of its handshake verdicts here
 * in the whole detector's order (the final backlog judgement, the ignored-ACK form of accept
 * queue overflow, slow_handshake), on the copy of its state the op carries.
 */
static void es_srv_end(struct det *d, struct es_sflow *sv, const struct es_who *w,
                       const struct es_in *o)
{
    struct es_priv *p = d->priv;
    if (o->ts > p->now_ns)
        p->now_ns = o->ts;
    struct es_attempt *pa = es_pending_of(d, sv, w->flow_id);
    bool decided = pa && pa->decided;
    es_pending_release(d, sv, pa);
    if (o->e->nsynack == 0) {
        if (decided || o->e->sy.nsyn == 0)
            return;
        struct es_attempt at;
        es_attempt_of(&at, w, sv, o);
        if (o->e->refused)
            es_refused_emit(d, &at);
        else
            es_unanswered(d, &at);
        return;
    }
    if (!o->l)
        return; /* no tail: the per-flow half gave its verdicts itself */
    struct es_early e = *o->e;
    struct es_late l = *o->l;
    struct es_flow st = {&e, &l};
    l.done_hs = sv->hs == ES_HS_REPORTED;
    l.judge_pending = sv->hs == ES_HS_PENDING;
    if (l.judge_pending)
        es_judge_retry(d, w, sv, &e.sy, &l, true);
    es_aq_ignored(d, w, &st, o->end_ns);
    es_slow(d, w, &st, o->end_ns);
}

/* Apply op o of the flow whose server slice is sv and whose id is flow_id. */
static void es_apply(struct det *d, struct es_sflow *sv, uint64_t flow_id, const struct es_in *o)
{
    struct es_who w = o->who;
    w.flow_id = flow_id;
    switch (o->kind) {
    case EOP_SYN:
        es_srv_syn(d, sv, &w, o);
        break;
    case EOP_SYNACK:
        es_srv_synack(d, sv, &w, o);
        break;
    case EOP_REFUSED:
        es_srv_refused(d, sv, &w, o);
        break;
    case EOP_END:
        es_srv_end(d, sv, &w, o);
        break;
    default:
        break;
    }
}

void estab_apply_op(struct det *d, void *slice, uint64_t flow_id, const struct estab_op *op)
{
    if (!d || !d->priv || !slice || !op || op->size < offsetof(struct es_op, l) ||
        op->size > sizeof(struct es_op))
        return;
    const struct es_op *o = (const struct es_op *)(const void *)op;
    struct es_in in = {.kind = o->h.kind,
                       .ts = o->ts,
                       .frame = o->frame,
                       .end_ns = o->end_ns,
                       .who = o->who,
                       .e = &o->e,
                       .refused_ttl_mismatch = o->refused_ttl_mismatch,
                       .refused_ns = o->refused_ns,
                       .refused_frame = o->refused_frame,
                       .l = op->size == sizeof(*o) ? &o->l : NULL};
    es_apply(d, slice, flow_id, &in);
}

/* ---- the per-flow half: the handshake of one flow, and the ops it hands the server half ---- */

/* The sink of this thread's per-flow halves (estab_set_thread_sink). */
static _Thread_local void (*es_sink)(void *ctx, const struct flow *f, const struct estab_op *op);
static _Thread_local void *es_sink_ctx;

void estab_set_thread_sink(void (*fn)(void *ctx, const struct flow *f, const struct estab_op *op),
                           void *ctx)
{
    es_sink = fn;
    es_sink_ctx = ctx;
}

/*
 * Hand the server half an op of kind about flow f now (ts, frame: the segment's; EOP_END:
 * the engine's clock, the record's last time), with the flow's state; tail: its struct
 * es_late too. The whole detector applies it at once to the flow's server slice (fs is then
 * a struct es_slice); the per-flow half sends it to the thread's sink (worker.c).
 */
static void es_send(struct det *d, const struct flow *f, void *fs, const struct es_flow *st,
                    uint32_t kind, uint64_t ts, uint64_t frame, bool tail)
{
    struct es_priv *p = d->priv;
    struct es_in in = {.kind = kind,
                       .ts = ts,
                       .frame = frame,
                       .end_ns = kind == EOP_END ? flow_rec(f)->last_ts_ns : 0,
                       .e = st->e,
                       .l = tail ? st->l : NULL};
    es_who_of(&in.who, f);
    if (st->l) {
        in.refused_ttl_mismatch = st->l->refused_ttl_mismatch;
        in.refused_ns = st->l->refused_ns;
        in.refused_frame = st->l->refused_frame;
    }
    if (!p->remote) {
        es_apply(d, &((struct es_slice *)fs)->s, in.who.flow_id, &in);
        return;
    }
    if (!es_sink)
        return;
    struct es_op o;
    o.h.kind = kind;
    o.h.size = tail ? (uint32_t)sizeof(o) : (uint32_t)offsetof(struct es_op, l);
    o.ts = in.ts;
    o.frame = in.frame;
    o.end_ns = in.end_ns;
    o.who = in.who;
    o.e = *in.e;
    o.refused_ttl_mismatch = in.refused_ttl_mismatch;
    o.refused_ns = in.refused_ns;
    o.refused_frame = in.refused_frame;
    if (tail)
        o.l = *st->l;
    es_sink(es_sink_ctx, f, &o.h);
}

/* A client SYN (first or retry). */
static void es_on_syn(struct det *d, const struct flow *f, void *fs, struct es_flow *st,
                      const struct pkt *pk, const struct tcp_seg *sg)
{
    if (sg->syn_copy)
        return; /* a copy of the previous SYN (another VLAN, a mirror), not a retry (tcp.h) */
    struct es_early *e = st->e;
    uint32_t before = e->sy.nsyn;
    if (before == 0)
        e->isn = pk->seq;
    if (e->sy.nsyn < ES_SYNS) {
        e->sy.syn_ns[e->sy.nsyn] = pk->ts_ns;
        e->sy.syn_frame[e->sy.nsyn] = pk->frame;
    }
    e->sy.nsyn++;
    e->sy.prev_syn_ns = e->sy.nsyn > 1 ? e->sy.last_syn_ns : 0;
    e->sy.last_syn_ns = pk->ts_ns;
    e->sy.last_syn_frame = pk->frame;
    if (e->acked)
        st->l->syn_after_ack++;
    /* the server half counts the first SYN and the first retry before an answer, and keeps
       the pending copy of an unanswered attempt (es_srv_syn) */
    if (before == 0 || (before == 1 && e->nsynack == 0) || (e->nsynack == 0 && !e->refused))
        es_send(d, f, fs, st, EOP_SYN, pk->ts_ns, pk->frame, false);
}

/* A server SYN-ACK. */
static void es_on_synack(struct det *d, const struct flow *f, void *fs, struct es_flow *st,
                         const struct pkt *pk)
{
    if (st->e->refused && st->e->nsynack == 0) {
        st->e->refused = false; /* the reset came before the real SYN-ACK: not a refusal */
        st->l->done_hs = false;
    }
    if (st->e->nsynack == 0) {
        st->l->synack_ns = pk->ts_ns;
        st->l->synack_frame = pk->frame;
        st->l->syn_at_synack = st->e->sy.nsyn;
        es_send(d, f, fs, st, EOP_SYNACK, pk->ts_ns, pk->frame, false);
    } else if (st->e->acked && es_sub(pk->ts_ns, st->l->last_synack_ns) >= ES_SA_RETRY_MIN_NS) {
        /* a real re-send (the SYN-ACK timer starts at 1 s), not a copy of the same frame */
        if (st->l->sa_after_ack++ == 0)
            st->l->sa_after_ack_frame = pk->frame;
    }
    st->e->nsynack++;
    st->l->last_synack_ns = pk->ts_ns;
}

/*
 * A RST in answer to the SYN: refused, unless a SYN-ACK still follows (a reset that arrives
 * before the real SYN-ACK, after which the connection goes on, is not a refusal). The finding
 * is written once no SYN-ACK followed for ES_REFUSE_CONFIRM_NS (on_tick), or at the flow end.
 */
static void es_refused(struct det *d, const struct flow *f, void *fs, struct es_flow *st,
                       const struct pkt *pk, const struct tcp_seg *sg)
{
    st->e->refused = true;
    st->l->done_hs = true;
    st->l->refused_ns = pk->ts_ns;
    st->l->refused_frame = pk->frame;
    st->l->refused_ttl_mismatch = sg->rst_ttl_mismatch;
    es_send(d, f, fs, st, EOP_REFUSED, pk->ts_ns, pk->frame, false);
}

/* Server made progress: the client's data is ACKed, or the server sent data or FIN. */
static void es_progress(struct det *d, const struct flow *f, struct es_flow *st,
                        const struct pkt *pk)
{
    st->l->progress = true;
    st->l->progress_ns = pk->ts_ns;
    if (st->l->done_aq || !st->e->acked || st->l->sa_after_ack == 0)
        return; /* es_aq_ignored would return at once: no need to name the flow */
    struct es_who w;
    es_who_of(&w, f);
    es_aq_ignored(d, &w, st, pk->ts_ns);
}

/*
 * The client's ACK that completes the handshake. A flow answered only on a retry gets no
 * slow_handshake here: the server half judged it at its SYN-ACK and either reported a backlog
 * drop or judges it again at the flow end, and es_slow stays silent in both cases (done_hs,
 * judge_pending); its verdicts come at the flow end, from the server half (es_srv_end).
 */
static void es_hs_ack(struct det *d, const struct flow *f, struct es_flow *st, const struct pkt *pk)
{
    st->e->acked = true;
    st->l->ack_ns = pk->ts_ns;
    st->l->ack_frame = pk->frame;
    if (st->l->syn_at_synack >= 2 || st->l->done_hs)
        return;
    struct es_who w;
    es_who_of(&w, f);
    es_slow(d, &w, st, pk->ts_ns);
}

/* A server RST (not refusing a SYN: es_refused). */
static void es_srv_rst(struct det *d, const struct flow *f, struct es_flow *st,
                       const struct pkt *pk)
{
    struct es_who w;
    if (st->e->acked && !st->l->progress && !st->l->done_aq && st->l->sa_after_ack > 0) {
        /* ACK ignored, SYN-ACK re-sent, then reset (the request expired): abort=0 form */
        st->l->srv_reset = true;
        st->l->reset_frame = pk->frame;
        es_who_of(&w, f);
        es_aq_ignored(d, &w, st, pk->ts_ns);
    } else if (st->e->acked && !st->l->progress && !st->l->done_aq &&
               es_sub(pk->ts_ns, st->e->last_c2s_ns) <= ES_RST_NEAR_NS) {
        es_who_of(&w, f);
        es_aq_reset(d, &w, st, pk);
    }
}

static void es_on_packet(struct det *d, const struct flow *f, void *fs, const struct pkt *pk,
                         const struct tcp_seg *sg)
{
    struct es_fslice *sl = fs;
    struct es_flow view = {&sl->e, det_lazy_at(d, sl->lazy)}, *st = &view;
    bool syn = (pk->flags & TCP_SYN) != 0, ack = (pk->flags & TCP_ACK) != 0;
    bool rst = (pk->flags & TCP_RST) != 0;
    bool client_syn = sg->dir == DIR_C2S && syn && !ack && !rst;
    if (!client_syn && !st->l) {
        st->l = det_lazy_get(d, &sl->lazy);
        if (!st->l)
            return; /* pool empty (counted): this flow's handshake is not followed further */
    }
    if (sg->dir == DIR_C2S) {
        st->e->last_c2s_ns = pk->ts_ns;
        if (syn && !ack && !rst) {
            es_on_syn(d, f, fs, st, pk, sg);
            return;
        }
        if (st->e->nsynack && !st->e->acked && ack && !syn && !rst)
            es_hs_ack(d, f, st, pk);
        if (st->e->acked && !st->l->progress && sg->len > 0 && !rst) {
            if (!st->l->has_data) {
                st->l->has_data = true;
                st->l->data_frame = pk->frame;
                st->l->data_end = pk->seq + sg->len - st->e->isn - 1;
            } else if ((int32_t)(pk->seq - st->e->isn - 1u - st->l->data_end) < 0) {
                /* starts below the end of the first data: the client re-sent it */
                if (st->l->data_retx++ == 0)
                    st->l->data_retx_frame = pk->frame;
            }
        }
        return;
    }
    /* server to client */
    if (rst) {
        if (st->e->sy.nsyn && st->e->nsynack == 0 && !st->e->refused)
            es_refused(d, f, fs, st, pk, sg);
        else
            es_srv_rst(d, f, st, pk);
        return;
    }
    if (syn && ack) {
        es_on_synack(d, f, fs, st, pk);
        return;
    }
    if (!st->e->acked || st->l->progress)
        return;
    bool fin = (pk->flags & TCP_FIN) != 0;
    bool acks_data =
        st->l->has_data && ack && (int32_t)(pk->ack - (st->e->isn + 1u + st->l->data_end)) >= 0;
    if (sg->len > 0 || fin || acks_data)
        es_progress(d, f, st, pk);
}

/*
 * The flow ends. An attempt never answered goes to the server half (es_srv_end decides it,
 * unless on_tick did), with the engine's clock: how long its last SYN was watched. A flow
 * answered on a retry goes there with its whole state (the server half holds the verdict of
 * its SYN-ACK). The others get their last verdicts here.
 */
static void es_on_flow_end(struct det *d, const struct flow *f, void *fs)
{
    struct es_fslice *sl = fs;
    struct es_flow view = {&sl->e, det_lazy_at(d, sl->lazy)}, *st = &view;
    if (st->e->sy.nsyn == 0 && st->e->nsynack == 0)
        goto release;
    if (st->e->nsynack == 0) {
        es_send(d, f, fs, st, EOP_END, det_clock(d), 0, false);
        goto release;
    }
    if (!st->l)
        goto release;
    if (st->l->syn_at_synack >= 2) {
        es_send(d, f, fs, st, EOP_END, det_clock(d), 0, true);
        goto release;
    }
    uint64_t end = flow_rec(f)->last_ts_ns;
    struct es_who w;
    es_who_of(&w, f);
    es_aq_ignored(d, &w, st, end);
    es_slow(d, &w, st, end);
release:
    det_lazy_put(d, &sl->lazy);
}

/* ---- ticks and the end (the server half) ---- */

static void es_on_tick(struct det *d, uint64_t now_ns)
{
    struct es_priv *p = d->priv;
    if (now_ns > p->now_ns)
        p->now_ns = now_ns;
    for (uint32_t i = 0; i < ES_PENDING; i++) {
        struct es_attempt *at = &p->pend[i];
        if (!at->used || at->decided)
            continue;
        if (at->refused) {
            if (es_sub(p->now_ns, at->refused_ns) >= ES_REFUSE_CONFIRM_NS) {
                es_refused_emit(d, at);
                at->decided = true;
            }
            continue;
        }
        const struct es_syns *sy = &at->sy;
        uint64_t quiet = ES_DECIDE_MIN_NS;
        if (sy->nsyn >= 2) {
            uint64_t gap = es_sub(sy->last_syn_ns, sy->prev_syn_ns);
            if (gap * ES_DECIDE_GAPS > quiet)
                quiet = gap * ES_DECIDE_GAPS;
        }
        if (es_sub(p->now_ns, sy->last_syn_ns) >= quiet) {
            es_unanswered(d, at);
            at->decided = true;
        }
    }
    for (int i = 0; i < ES_MAX_SERVERS; i++) {
        struct es_server *s = &p->srv[i];
        if (s->used && s->epi.active && es_sub(p->now_ns, s->epi.added_ns) > ES_EP_QUIET_NS)
            es_episode_close(d, s);
    }
}

static void es_on_finish(struct det *d)
{
    struct es_priv *p = d->priv;
    for (int i = 0; i < ES_MAX_SERVERS; i++)
        if (p->srv[i].used && p->srv[i].epi.active)
            es_episode_close(d, &p->srv[i]);
}

/* ---- compact flows ---- */

/*
 * The slice of a compact flow (client SYNs only): pending attempt, server slot and
 * generation, the SYN count. The SYNs' times and frames are the flow's (the client half's SYN
 * log, TCP_SYN_LOG of them), and so is the ISN (es_unpack_more).
 */
static const struct det_small_field es_small[] = {
    DET_SMALL(struct es_slice, s.pend),
    DET_SMALL(struct es_slice, s.srv),
    DET_SMALL(struct es_slice, s.srv_gen),
    DET_SMALL(struct es_slice, f.e.sy.nsyn),
};

/* The per-flow half's: the SYN count (the rest as es_unpack_more fills it in). */
static const struct det_small_field es_flow_small[] = {
    DET_SMALL(struct es_fslice, e.sy.nsyn),
};

/*
 * The server half's: all of it but hs (zero until a SYN-ACK). Nothing follows from the flow:
 * the aggregator keeps no SYN state for this detector.
 */
static const struct det_small_field es_srv_small[] = {
    DET_SMALL(struct es_sflow, pend),
    DET_SMALL(struct es_sflow, srv),
    DET_SMALL(struct es_sflow, srv_gen),
};

/* What a compact flow's per-flow slice takes from the flow: the SYNs' times and frames, the ISN. */
static void es_unpack_more(const struct flow *f, void *fs)
{
    struct es_fslice *sl = fs; /* also the start of the whole's struct es_slice */
    const struct flow_record *r = flow_rec(f);
    const struct tcp_half *h = flow_half(f, DIR_C2S);
    struct es_syns *sy = &sl->e.sy;
    uint32_t n = sy->nsyn;
    sl->e.last_c2s_ns = r->last_ts_ns;
    /* the log's entries that are not copies (es_on_syn skips copies): the first n of them */
    uint8_t at[TCP_SYN_LOG];
    uint32_t k = 0;
    for (uint32_t i = 0; i < h->nsyn_log && k < n; i++)
        if (!(h->syn_log_copies & (1u << i)))
            at[k++] = (uint8_t)i;
    if (n == 0 || k < n)
        return; /* no SYN counted; or more than the log keeps, and the check fails */
    for (uint32_t i = 0; i < n && i < ES_SYNS; i++) {
        sy->syn_ns[i] = h->syn_log_ns[at[i]];
        sy->syn_frame[i] = h->syn_log_frame[at[i]];
    }
    sy->prev_syn_ns = n > 1 ? h->syn_log_ns[at[n - 2]] : 0;
    sy->last_syn_ns = h->syn_log_ns[at[n - 1]];
    sy->last_syn_frame = h->syn_log_frame[at[n - 1]];
    sl->e.isn = h->isn;
}

_Static_assert(offsetof(struct es_slice, f) == 0, "the per-flow half's slice starts the whole's");
_Static_assert(sizeof(struct es_op) <= ESTAB_OP_MAX, "an op fits ESTAB_OP_MAX");

/* The whole detector (one engine): both halves, each op applied at once. */
const struct det_ops det_estab_ops = {
    .name = "estab",
    .flow_state_size = sizeof(struct es_slice),
    .lazy_state_size = sizeof(struct es_late),
    .init = es_init,
    .on_packet = es_on_packet,
    .on_flow_end = es_on_flow_end,
    .on_tick = es_on_tick,
    .on_finding = NULL,
    .on_finish = es_on_finish,
    .free = es_free,
    .small = es_small,
    .nsmall = sizeof(es_small) / sizeof(es_small[0]),
    .unpack_more = es_unpack_more,
};

/* The per-flow half (--workers: in each worker; no server state, ops to the thread's sink). */
const struct det_ops det_estab_flow_ops = {
    .name = "estab-flow",
    .flow_state_size = sizeof(struct es_fslice),
    .lazy_state_size = sizeof(struct es_late),
    .init = es_init_flow,
    .on_packet = es_on_packet,
    .on_flow_end = es_on_flow_end,
    .free = es_free,
    .small = es_flow_small,
    .nsmall = sizeof(es_flow_small) / sizeof(es_flow_small[0]),
    .unpack_more = es_unpack_more,
};

/* The server half (--workers: in the aggregator; applies the per-flow half's ops, ticks). */
const struct det_ops det_estab_srv_ops = {
    .name = "estab-srv",
    .flow_state_size = sizeof(struct es_sflow),
    .init = es_init,
    .on_tick = es_on_tick,
    .on_finish = es_on_finish,
    .free = es_free,
    .small = es_srv_small,
    .nsmall = sizeof(es_srv_small) / sizeof(es_srv_small[0]),
};
