/*
 * incident.c - the incident layer: per server endpoint and cause, one incident that opens,
 * updates and closes, with its scope, evidence, confidence and the advice to act on.
 *
 * Evidence comes from typed records only: the TCP facts of each segment (struct tcp_seg; the
 * server half gets them as the per-flow half's struct ic_op), finding kinds, flow records,
 * health rows and TLS records. Everything runs in capture time.
 *
 * How it works (README.md, "Diagnosis", says it for readers):
 * - Per server endpoint, a ring of one-second buckets counts events (attempts by the second of
 *   their first SYN, answers, refusals, unanswered attempts, data segments, retransmissions,
 *   server aborts, ...). A cause is judged over the last window (default 10 s) of buckets.
 * - An event of a cause creates a candidate incident for (server, cause) that gathers the
 *   evidence (kinds, flows, frames, clients, scope). Each second of capture time the candidate
 *   is judged: BAD (the threshold is crossed: it opens), GOOD (positive evidence of recovery
 *   after the last evidence: an open incident closes as recovered) or NONE (no traffic that
 *   could tell: an open incident stays open, and closes as no_traffic after the quiet period).
 * - A connection attempt counts as failed once its first SYN retry goes unanswered (decided on
 *   the tick, not at flow end); one answered after a retry is a retried one (evidence for
 *   syn_queue_overflow, not a failure); a RST answering the SYN counts as a refusal only when
 *   no SYN-ACK follows it within a second.
 * - A client probing many ports or hosts is a scan: its own incident (info), and its probes are
 *   kept out of every server's counts.
 * - Two halves (incident.h): what a segment means for its flow (icf_*, the per-flow half, in
 *   the workers) becomes a struct ic_op for the rare segments and pending counts for the plain
 *   ones; everything that spans flows (ic_apply and the rest: servers, buckets, attempts,
 *   incidents, scans) is the server half. One engine runs both (det_incident_ops) with the
 *   same code, each segment at once ("Batching" below says why no rule can tell).
 */
#include "analyzers/incident.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/det.h"
#include "analyzers/scan.h"
#include "capture/decode.h"
#include "capture/err.h"

#define IC_RING 64            /* one-second buckets of history per server */
#define IC_MAX_SERVERS 512    /* server endpoints tracked at once (idle ones give way) */
#define IC_HINTS 1024         /* endpoint hash -> server slot hints */
#define IC_MAX_INC 512        /* candidate and open incidents at once */
#define IC_PENDING 4096       /* connection attempts awaiting a decision at once */
#define IC_SRV_CLIENTS 8      /* recent client addresses per server (pools, dependencies) */
#define IC_INC_CLIENTS 64     /* distinct client addresses counted exactly per incident */
#define IC_REFUSE_CONFIRM_NS (1500 * 1000000ull) /* a refusal stands when no SYN-ACK follows
                                                      this soon (a client's first SYN retry) */
#define IC_LONE_SYN_NS (3 * NS_PER_S) /* a lone SYN never retried: failed after this long */
/* attempts begun this soon after an answered one: one burst (a SYN queue fills within a
   burst; a firewall rule or a dead host does not start between two attempts this close) */
#define IC_BURST_NS (100 * 1000000ull)
#define IC_CERT_FLOWS 8       /* flows with certificate findings remembered per server */
#define IC_NSUB 10            /* TLS handshake failure sub-reasons */
#define IC_LOSS_INFO 0.3      /* loss from this share of the retransmission threshold: info */
/* http_5xx requests per server kept until their interval's health row opens an http_errors
   candidate (then they are its evidence) */
#define IC_HTTP_PEND 8

/* Per-second event counters of a server. */
enum ic_b {
    B_ATTEMPTS = 0, /* new attempts (by the second of their first SYN) */
    B_ANSWERED,     /* attempts answered with a SYN-ACK (by their first SYN's second) */
    B_ANSWERED_1ST, /* ... answered on the first SYN */
    B_RETRIED,      /* ... answered only after a SYN retry */
    B_UNANSWERED,   /* attempts failed: first retry unanswered (by their first SYN's second) */
    B_REFUSED,      /* refusals that stood (by the RST's second) */
    B_EST,          /* handshakes completed */
    B_FIN,          /* connections closed normally (FIN) */
    B_DATA,         /* data segments, both ways (not SYN, not keep-alive) */
    B_RETX,         /* data retransmissions (not spurious, never SYN/SYN-ACK) */
    B_CAPLOSS,      /* ACKs covering bytes the capture never saw */
    B_SRV_RESET,    /* server aborts of connections */
    B_FORGED,       /* resets with a TTL the real endpoint does not use */
    B_STALL,        /* zero windows held longer than the stall time */
    B_AQ,           /* accept_queue_overflow findings */
    B_TLS_OK,       /* TLS handshakes completed */
    B_TLS_FAIL,     /* TLS handshakes failed */
    B_TLS_NEWCERT,  /* completed with another certificate than the bad one */
    B_CERT,         /* certificate findings */
    B_RESP_N,       /* responses timed (health rows) */
    B_SLOW,         /* slow responses (health rows) */
    B_P99_BAD,      /* health rows whose p99 was over the threshold with enough samples */
    B_ROW_FAST,     /* health rows with responses, none slow, p99 under the threshold */
    B_REQ,          /* HTTP responses (health rows) */
    B_5XX,          /* HTTP 5xx (health rows) */
    B_UNANS_NEAR,   /* of B_UNANSWERED: first SYN less than IC_BURST_NS after the first SYN of
                       an answered attempt (ic_unanswered_after, ic_mixed) */
    B_RETR_NEAR,    /* such an attempt answered after all (of B_RETRIED) */
    B__COUNT
};

struct ic_bucket {
    uint64_t sec;           /* capture second held (valid when equal to the one asked) */
    uint32_t n[B__COUNT];   /* counters */
};

/* An http_5xx request waiting for the health row of its interval. */
struct ic_http_ev {
    uint64_t ts;            /* when its status was read */
    uint8_t kind;           /* its finding's kind */
    struct ip_addr client;  /* its client */
    struct inc_request req; /* what the incident's evidence lists */
};

/* One server endpoint. */
struct ic_srv {
    bool used;                              /* slot in use */
    uint32_t gen;                           /* bumped on reuse (flows hold it) */
    struct endpoint ep;                     /* the server */
    uint64_t last_ns;                       /* last event (LRU) */
    uint64_t newest_sec;                    /* newest bucket second written */
    uint64_t conns;                         /* attempts seen, cumulative */
    uint8_t nclients;                       /* clients[] used */
    uint8_t client_next;                    /* next clients[] entry to overwrite */
    struct ip_addr clients[IC_SRV_CLIENTS]; /* recent client addresses */
    uint16_t inc[IC__COUNT];                /* candidate/open incident slot + 1 per cause */
    uint64_t unreach_closed_ns;             /* when its last host_unreachable incident closed */
    uint64_t ans_last_ns;                   /* the latest first SYN of an answered attempt */
    uint8_t nclaimed;                       /* claimed[] next entry (ring) */
    uint64_t claimed[IC_CERT_FLOWS];        /* flows whose reset another cause explains (an
                                               accept-queue abort, a TLS handshake reset) */
    uint8_t ncert;                          /* cert_flow[] used (ring) */
    uint64_t cert_flow[IC_CERT_FLOWS];      /* flows with certificate findings */
    uint8_t nchain;                         /* chain_flow[] next entry (ring) */
    uint64_t chain_flow[IC_CERT_FLOWS];     /* flows whose chain did not verify against the
                                               system trust store (not yet evidence) */
    uint8_t chain_kind[IC_CERT_FLOWS];      /* their finding kind (FK_CERT_UNTRUSTED or
                                               FK_CERT_CHAIN_INCOMPLETE) */
    struct ic_bucket ring[IC_RING];         /* history, by second % IC_RING */
    uint8_t nhttp;                          /* http[] used */
    struct ic_http_ev http[IC_HTTP_PEND];   /* http_5xx requests not yet in an incident */
};

/* A candidate or open incident. */
struct ic_inc {
    bool used;                 /* slot in use */
    bool open;                 /* opened (emitted); else a candidate */
    uint16_t srv;              /* server slot + 1 (0: a scan) */
    uint32_t srv_gen;          /* its generation */
    uint64_t last_ev_ns;       /* newest evidence */
    uint64_t last_emit_ns;     /* last open/update emitted */
    uint64_t emitted_affected; /* conns_affected at that time */
    enum severity emitted_sev; /* severity at that time */
    uint64_t att_base;         /* attempts counted before the candidate began */
    uint64_t conns_at_start;   /* server's cumulative attempts when the candidate began */
    uint32_t nclients;         /* clients[] used */
    bool more_clients;         /* more than clients[] holds */
    struct ip_addr clients[IC_INC_CLIENTS]; /* distinct clients with evidence */
    uint32_t retx_dir[2];      /* network_loss: retransmissions per direction */
    uint32_t lost_dir[2];      /* network_loss: segments never captured per direction */
    uint32_t unanswered;       /* syn_queue_overflow: attempts that failed */
    uint32_t retried;          /* syn_queue_overflow: attempts answered after a retry */
    bool err_sev;              /* evidence of error severity was seen */
    uint32_t sub[IC_NSUB];     /* tls_handshake sub-reasons */
    uint8_t stall_dir_mask;    /* receiver_stall: 1 = client stopped reading, 2 = server */
    char bad_sha[65];          /* tls_certificate: the bad leaf certificate */
    int alert_desc;            /* tls_certificate: the client's alert naming it (0 = none) */
    uint64_t http_total;       /* http_errors: HTTP responses counted with its evidence */
    bool days_left_set;        /* tls_certificate: days_left is set */
    double days_left;          /* tls_certificate: fewest days to notAfter (negative: expired) */
    double resp_p99;           /* slow_responses: p99 of the latest bad interval (s), 0 = unknown */
    double hs_p50;             /* slow_responses: handshake RTT p50 then (s), 0 = unknown */
    bool has_worst;            /* worst holds a window */
    uint32_t worst[B__COUNT];  /* the window of its worst rate (ic_rate) at its emits: what
                                  its close describes (the last window may have recovered) */
    struct incident_record rec;/* the record (id, scope, evidence; filled on emit) */
};

/* A connection attempt awaiting its decision. */
struct ic_att {
    bool used;            /* slot in use */
    bool failed;          /* counted as unanswered (a late SYN-ACK revises it) */
    bool near;            /* ... and as B_UNANS_NEAR */
    bool refused;         /* a RST answered the SYN */
    uint64_t flow_id;     /* the flow */
    uint16_t srv;         /* server slot + 1 */
    uint32_t srv_gen;     /* its generation */
    struct ip_addr client;/* client address */
    uint32_t nsyn;        /* SYNs seen */
    uint64_t syn_ns;      /* first SYN */
    uint64_t syn_frame;   /* its frame */
    uint32_t isn;         /* the client's ISN (a refusing RST ACKs isn + 1) */
    uint64_t retry_ns;    /* first retry (0 = none) */
    uint64_t rst_ns;      /* the refusal */
    uint64_t rst_frame;   /* its frame */
};

/*
 * The per-flow half's global state (det_incident_flow_ops, and the whole detector's flow
 * side): the flows whose plain segments are counted but not yet given to the server half.
 */
struct icf {
    struct det *d;                  /* its detector (the whole one, or the per-flow half) */
    struct ic *whole;               /* the whole detector's server side (ops applied at once),
                                       NULL in the per-flow half (ops go to the sink) */
    size_t fl_off;                  /* struct ic_fflow's offset in the detector's slice */
    size_t sv_off;                  /* the whole's struct ic_flow offset in it */
    const struct flow_node **dirty; /* flows that had pending counts since the last tick
                                       (their table entries; an entry may since have ended or
                                       been flushed: icf_flush_all skips it then) */
    uint32_t ndirty;                /* entries used */
    uint32_t cap;                   /* entries allocated (doubled when full) */
    uint32_t max;                   /* at most this many (the flow table's size): past it a
                                       flow's plain segments are sent at once */
    uint64_t stall_ns;              /* inc_stall_ns (default filled in) */
};

/* Global state (the server half's, and the whole detector's). */
struct ic {
    struct eng_config cfg;    /* thresholds (defaults filled in) */
    uint64_t now_ns;          /* newest capture time */
    uint64_t next_id;         /* last incident id given */
    uint32_t gen;             /* server generations */
    struct ic_srv *srv;       /* IC_MAX_SERVERS */
    uint16_t hint[IC_HINTS];  /* endpoint hash -> server slot + 1 */
    struct ic_inc *inc;       /* IC_MAX_INC */
    struct ic_att *att;       /* IC_PENDING */
    uint32_t *free_att;       /* free att[] indices */
    uint32_t nfree;           /* entries in free_att */
    const struct scan_table *scans; /* who scans (the engine's tracker) */
    int8_t loss_kind[TEV__COUNT];   /* TCP event -> the loss-retransmission kind it names (the
                                       last such kind in the table), -1 for none */
    uint32_t loss_mask;             /* events with a loss_kind */
    struct icf fh;                  /* the whole detector's flow side */
    uint64_t *tick_last; /* per server slot: its newest plain segment since the last tick,
                            into last_ns at the tick ("Batching"; one array: the tick
                            reads it whole) */
};

/* Per-flow state of the server half (zeroed when a flow starts). */
struct ic_flow {
    uint16_t srv;            /* server slot + 1; 0 = not tracked */
    uint32_t srv_gen;        /* its generation */
    bool srv_done;           /* looked up */
    bool scan;               /* a scanner's probe: ignored */
    uint32_t pend;           /* pending attempt slot + 1 */
    bool attempt;            /* the first SYN was counted */
    bool answered;           /* a SYN-ACK came */
    uint32_t nsyn;           /* client SYNs */
    uint64_t syn_ns;         /* first SYN */
    uint16_t aff;            /* causes this flow already counts as affected (bit per cause) */
    bool rst_suspect;        /* a reset whose TTL differed from its sender's (ICW_END) */
    bool forged;             /* ... and no later packet of its sender had that TTL */
    int8_t rst_dir;          /* its direction */
    uint64_t rst_ns;         /* its time */
    uint64_t rst_frame;      /* its frame */
};

/* Flags of the per-flow half (ic_fflow.fl): what its flow did so far. */
enum { IFF_ATTEMPT = 1, IFF_ANSWERED = 2, IFF_STALE = 4 };

/* Per-flow state of the per-flow half (zeroed when a flow starts; what every segment reads
   first, in one cache line). */
struct ic_fflow {
    uint8_t fl;              /* IFF_* */
    bool zw[2];              /* a zero window is advertised by this side now */
    bool zw_done[2];         /* its stall was counted */
    bool rst_suspect;        /* a reset whose TTL differed from its sender's */
    int8_t rst_dir;          /* its direction */
    uint8_t rst_ttl;         /* its TTL */
    bool p_any;              /* plain segments are pending (p_*) */
    bool listed;             /* in icf.dirty since the last tick */
    uint32_t p_data, p_est;  /* pending counts: data segments, handshake ACKs (second of p_last) */
    uint64_t p_last;         /* the newest of them */
    uint64_t zw_ns[2];       /* since when */
    uint64_t zw_frame[2];    /* first zero-window frame */
    uint64_t rst_ns;         /* its time */
    uint64_t rst_frame;      /* its frame */
    uint32_t after_same;     /* later packets of that sender with the reset's TTL */
};

/* The whole detector's slice: both halves'. */
struct ic_whole {
    struct ic_flow sv;  /* server side */
    struct ic_fflow fl; /* flow side */
};

static const char *const cause_names[IC__COUNT] = {
    [IC_SERVICE_DOWN] = "service_down",
    [IC_HOST_UNREACHABLE] = "host_unreachable",
    [IC_SYN_QUEUE_OVERFLOW] = "syn_queue_overflow",
    [IC_ACCEPT_QUEUE_OVERFLOW] = "accept_queue_overflow",
    [IC_NETWORK_LOSS] = "network_loss",
    [IC_SERVER_RESETS] = "server_resets",
    [IC_FORGED_RESETS] = "forged_resets",
    [IC_TLS_CERTIFICATE] = "tls_certificate",
    [IC_TLS_HANDSHAKE] = "tls_handshake",
    [IC_SLOW_RESPONSES] = "slow_responses",
    [IC_HTTP_ERRORS] = "http_errors",
    [IC_RECEIVER_STALL] = "receiver_stall",
    [IC_CAPTURE_LOSS] = "capture_loss",
    [IC_SCAN] = "scan",
};

static const enum inc_layer cause_layers[IC__COUNT] = {
    [IC_SERVICE_DOWN] = IL_TRANSPORT,      [IC_HOST_UNREACHABLE] = IL_TRANSPORT,
    [IC_SYN_QUEUE_OVERFLOW] = IL_TRANSPORT, [IC_ACCEPT_QUEUE_OVERFLOW] = IL_TRANSPORT,
    [IC_NETWORK_LOSS] = IL_NETWORK,        [IC_SERVER_RESETS] = IL_TRANSPORT,
    [IC_FORGED_RESETS] = IL_NETWORK,       [IC_TLS_CERTIFICATE] = IL_TLS,
    [IC_TLS_HANDSHAKE] = IL_TLS,           [IC_SLOW_RESPONSES] = IL_APPLICATION,
    [IC_HTTP_ERRORS] = IL_APPLICATION,     [IC_RECEIVER_STALL] = IL_TRANSPORT,
    [IC_CAPTURE_LOSS] = IL_CAPTURE,        [IC_SCAN] = IL_NETWORK,
};

static const char *const layer_names[] = {"network", "transport", "tls", "application",
                                          "capture"};
static const char *const event_names[] = {"open", "update", "close"};
static const char *const close_names[] = {"", "recovered", "no_traffic", "end_of_input"};

/* TLS handshake failure sub-reasons. */
enum {
    SUB_VERSION = 0, SUB_CIPHER, SUB_CLIENT_CERT, SUB_UNKNOWN_CA, SUB_OTHER_ALERT,
    SUB_NO_SERVER_HELLO, SUB_INFERRED, SUB_RESET, SUB_CLOSED, SUB_STALLED
};
static const char *const sub_names[IC_NSUB] = {
    "version", "cipher", "client certificate", "unknown CA", "other alert",
    "no ServerHello", "inferred", "reset during the handshake", "closed during the handshake",
    "stalled"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *inc_cause_name(enum inc_cause c)
{
    return (unsigned)c < IC__COUNT ? cause_names[c] : "?";
}

int inc_cause_from_name(const char *name)
{
    for (int i = 0; name && i < IC__COUNT; i++)
        if (strcmp(cause_names[i], name) == 0)
            return i;
    return -1;
}

enum inc_layer inc_cause_layer(enum inc_cause c)
{
    return (unsigned)c < IC__COUNT ? cause_layers[c] : IL_NETWORK;
}

const char *inc_layer_name(enum inc_layer l)
{
    return (unsigned)l < NELEM(layer_names) ? layer_names[l] : "?";
}

const char *inc_event_name(enum inc_event e)
{
    return (unsigned)e < NELEM(event_names) ? event_names[e] : "?";
}

const char *inc_close_name(enum inc_close r)
{
    return (unsigned)r < NELEM(close_names) ? close_names[r] : "?";
}

/* ---- small helpers ---- */

static struct ic *ic_of(struct det *d)
{
    return d->priv;
}

static bool ic_ip_eq(const struct ip_addr *a, const struct ip_addr *b)
{
    return a->family == b->family && memcmp(a->a, b->a, sizeof(a->a)) == 0;
}

static bool ic_ep_eq(const struct endpoint *a, const struct endpoint *b)
{
    return a->port == b->port && ic_ip_eq(&a->ip, &b->ip);
}

/* FNV-1a of an address (and a port, when port >= 0). */
static uint32_t ic_hash(const struct ip_addr *ip, int port)
{
    uint32_t h = 2166136261u;
    size_t n = ip->family == 6 ? 16 : 4;
    for (size_t i = 0; i < n; i++)
        h = (h ^ ip->a[i]) * 16777619u;
    if (port >= 0) {
        h = (h ^ ((unsigned)port & 0xffu)) * 16777619u;
        h = (h ^ ((unsigned)port >> 8)) * 16777619u;
    }
    return h;
}

static uint64_t ic_sub(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

static uint64_t ic_window_s(const struct ic *p)
{
    uint64_t w = p->cfg.inc_window_ns / NS_PER_S;
    if (w < 1)
        w = 1;
    return w > IC_RING - 2 ? IC_RING - 2 : w;
}

/* ---- servers and buckets ---- */

/* The bucket of server s for capture time ts (reset if it held an older second), or NULL. */
static struct ic_bucket *ic_bucket(struct ic_srv *s, uint64_t ts)
{
    uint64_t sec = ts / NS_PER_S;
    if (s->newest_sec >= IC_RING && sec <= s->newest_sec - IC_RING)
        return NULL; /* older than the ring holds */
    struct ic_bucket *b = &s->ring[sec % IC_RING];
    if (b->sec != sec) {
        memset(b, 0, sizeof(*b));
        b->sec = sec;
    }
    if (sec > s->newest_sec)
        s->newest_sec = sec;
    return b;
}

static void ic_count(struct ic_srv *s, uint64_t ts, enum ic_b k, int delta)
{
    struct ic_bucket *b = ic_bucket(s, ts);
    if (!b)
        return;
    if (delta < 0 && b->n[k] < (uint32_t)-delta)
        b->n[k] = 0;
    else
        b->n[k] += (uint32_t)delta;
}

/* Sum the buckets of seconds [a, b] into out. */
static void ic_sum(const struct ic_srv *s, uint64_t a, uint64_t b, uint32_t *out)
{
    memset(out, 0, sizeof(uint32_t) * B__COUNT);
    if (b > s->newest_sec)
        b = s->newest_sec;
    if (s->newest_sec >= IC_RING && a + IC_RING <= s->newest_sec)
        a = s->newest_sec - IC_RING + 1;
    for (uint64_t sec = a; sec <= b; sec++) {
        const struct ic_bucket *k = &s->ring[sec % IC_RING];
        if (k->sec != sec)
            continue;
        for (int i = 0; i < B__COUNT; i++)
            out[i] += k->n[i];
    }
}

static void ic_srv_client(struct ic_srv *s, const struct ip_addr *ip)
{
    for (uint8_t i = 0; i < s->nclients; i++)
        if (ic_ip_eq(&s->clients[i], ip))
            return;
    s->clients[s->client_next] = *ip;
    s->client_next = (uint8_t)((s->client_next + 1) % IC_SRV_CLIENTS);
    if (s->nclients < IC_SRV_CLIENTS)
        s->nclients++;
}

static bool ic_srv_has_client(const struct ic_srv *s, const struct ip_addr *ip)
{
    for (uint8_t i = 0; i < s->nclients; i++)
        if (ic_ip_eq(&s->clients[i], ip))
            return true;
    return false;
}

static bool ic_srv_busy(const struct ic_srv *s)
{
    for (int c = 0; c < IC__COUNT; c++)
        if (s->inc[c])
            return true;
    return false;
}

/* The slot of server ep (taking, if need be recycling, one); 0 when every slot is busy. */
static uint16_t ic_server(struct ic *p, const struct endpoint *ep, uint64_t now)
{
    uint32_t h = ic_hash(&ep->ip, ep->port) % IC_HINTS;
    uint16_t hint = p->hint[h];
    if (hint && p->srv[hint - 1].used && ic_ep_eq(&p->srv[hint - 1].ep, ep)) {
        p->srv[hint - 1].last_ns = now;
        return hint;
    }
    int free_i = -1, old_i = -1;
    for (int i = 0; i < IC_MAX_SERVERS; i++) {
        struct ic_srv *s = &p->srv[i];
        if (!s->used) {
            if (free_i < 0)
                free_i = i;
            continue;
        }
        if (ic_ep_eq(&s->ep, ep)) {
            s->last_ns = now;
            p->hint[h] = (uint16_t)(i + 1);
            return (uint16_t)(i + 1);
        }
        if (!ic_srv_busy(s) && (old_i < 0 || s->last_ns < p->srv[old_i].last_ns))
            old_i = i;
    }
    int i = free_i >= 0 ? free_i : old_i;
    if (i < 0)
        return 0;
    struct ic_srv *s = &p->srv[i];
    memset(s, 0, sizeof(*s));
    p->tick_last[i] = 0; /* the slot's previous server's */
    s->used = true;
    s->gen = ++p->gen;
    s->ep = *ep;
    s->last_ns = now;
    p->hint[h] = (uint16_t)(i + 1);
    return (uint16_t)(i + 1);
}

static struct ic_srv *ic_srv_at(struct ic *p, uint16_t srv, uint32_t gen)
{
    if (srv == 0 || srv > IC_MAX_SERVERS)
        return NULL;
    struct ic_srv *s = &p->srv[srv - 1];
    return s->used && s->gen == gen ? s : NULL;
}

static void ic_claim(struct ic_srv *s, uint64_t id);

/* ---- incidents: candidates, evidence ---- */

static void ic_inc_free(struct ic *p, struct ic_inc *in)
{
    struct ic_srv *s = ic_srv_at(p, in->srv, in->srv_gen);
    if (s && s->inc[in->rec.cause] == (uint16_t)(in - p->inc + 1))
        s->inc[in->rec.cause] = 0;
    memset(in, 0, sizeof(*in));
}

/* A free incident slot; a stale candidate gives way when none is free. NULL if all are open. */
static struct ic_inc *ic_inc_slot(struct ic *p)
{
    struct ic_inc *old = NULL;
    for (int i = 0; i < IC_MAX_INC; i++) {
        struct ic_inc *in = &p->inc[i];
        if (!in->used)
            return in;
        if (!in->open && (!old || in->last_ev_ns < old->last_ev_ns))
            old = in;
    }
    if (old)
        ic_inc_free(p, old);
    return old;
}

/* Attempts to server s in the window before ts. */
static uint64_t ic_attempts_before(const struct ic *p, const struct ic_srv *s, uint64_t ts)
{
    uint32_t c[B__COUNT];
    uint64_t sec = ts / NS_PER_S;
    ic_sum(s, ic_sub(sec, ic_window_s(p)), sec, c);
    return c[B_ATTEMPTS];
}

/* The candidate or open incident of (server, cause), created if need be; NULL if no room. */
static struct ic_inc *ic_inc_get(struct ic *p, uint16_t srv, enum inc_cause cause, uint64_t ts)
{
    struct ic_srv *s = &p->srv[srv - 1];
    struct ic_inc *in = s->inc[cause] ? &p->inc[s->inc[cause] - 1] : NULL;
    if (in && !in->open && ic_sub(ts, in->last_ev_ns) > p->cfg.inc_window_ns) {
        ic_inc_free(p, in); /* a stale candidate: start again */
        in = NULL;
    }
    if (in)
        return in;
    in = ic_inc_slot(p);
    if (!in)
        return NULL;
    in->used = true;
    in->srv = srv;
    in->srv_gen = s->gen;
    in->rec.cause = cause;
    in->rec.layer = inc_cause_layer(cause);
    in->rec.server = s->ep;
    in->rec.since_ns = ts;
    in->last_ev_ns = ts;
    in->att_base = ic_attempts_before(p, s, ts);
    in->conns_at_start = s->conns;
    s->inc[cause] = (uint16_t)(in - p->inc + 1);
    return in;
}

static void ic_add_u64(uint64_t *arr, uint8_t *n, uint8_t cap, uint64_t v)
{
    if (!v)
        return;
    for (uint8_t i = 0; i < *n; i++)
        if (arr[i] == v)
            return;
    if (*n < cap)
        arr[(*n)++] = v;
}

static void ic_add_client(struct ic_inc *in, const struct ip_addr *ip)
{
    if (!ip || !ip->family)
        return;
    for (uint32_t i = 0; i < in->nclients; i++)
        if (ic_ip_eq(&in->clients[i], ip))
            return;
    if (in->nclients < IC_INC_CLIENTS)
        in->clients[in->nclients++] = *ip;
    else
        in->more_clients = true;
}

/* What one piece of evidence says. */
struct ic_ev {
    uint64_t ts;              /* when it happened */
    int kind;                 /* finding kind it counts as, -1 for none */
    uint64_t flow_id;         /* its flow, 0 if none */
    uint64_t frame;           /* its frame, 0 if none */
    const struct ip_addr *ip; /* its client, NULL if none */
    bool new_conn;            /* the flow was not counted as affected before */
};

/* Record evidence for (server, cause). Returns the incident (NULL if no room). */
static struct ic_inc *ic_evidence(struct ic *p, uint16_t srv, enum inc_cause cause,
                                  const struct ic_ev *e)
{
    if (!srv)
        return NULL;
    struct ic_inc *in = ic_inc_get(p, srv, cause, e->ts);
    if (!in)
        return NULL;
    if (e->ts > in->last_ev_ns)
        in->last_ev_ns = e->ts;
    if (e->ts < in->rec.since_ns && !in->open)
        in->rec.since_ns = e->ts;
    if (e->kind >= 0 && e->kind < FK__COUNT)
        in->rec.kinds[e->kind]++;
    ic_add_u64(in->rec.flows, &in->rec.nflows, INC_FLOWS_MAX, e->flow_id);
    ic_add_u64(in->rec.frames, &in->rec.nframes, INC_FRAMES_MAX, e->frame);
    ic_add_client(in, e->ip);
    if (e->new_conn)
        in->rec.conns_affected++;
    return in;
}

/* Evidence from a flow's segment (flow id, its client ip): counts the flow once per cause. */
static struct ic_inc *ic_flow_ev(struct ic *p, struct ic_flow *st, uint64_t id,
                                 const struct ip_addr *ip, enum inc_cause cause, uint64_t ts,
                                 int kind, uint64_t frame)
{
    struct ic_ev e = {ts, kind, id, frame, ip, !(st->aff & (1u << cause))};
    st->aff |= (uint16_t)(1u << cause);
    return ic_evidence(p, st->srv, cause, &e);
}

/* ---- text ---- */

/* Append to buf (size n) at *at, never past the end. */
static void ic_cat(char *buf, size_t n, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void ic_cat(char *buf, size_t n, size_t *at, const char *fmt, ...)
{
    if (*at >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *at, n - *at, fmt, ap);
    va_end(ap);
    if (w > 0)
        *at = *at + (size_t)w < n ? *at + (size_t)w : n - 1;
}

static const char *const advice_text[IC__COUNT] = {
    [IC_SERVICE_DOWN] =
        "Nothing accepts connections on this port: the service is stopped, crashed or listens "
        "on another address/port, or a firewall REJECT rule answers with a reset. On the server: "
        "`ss -lnt 'sport = :PORT'` (is anything listening?), the service status and its logs "
        "(systemctl status / journalctl -u), the bind address in its configuration, and "
        "`iptables -S` / `nft list ruleset` for REJECT rules. Restart or fix the service; "
        "clients recover as soon as it listens again.",
    [IC_HOST_UNREACHABLE] =
        "SYNs get no answer at all: the host is down, or a firewall, security group or route "
        "drops them before they reach a listener. Check that the host is up (ping from the "
        "client side, console), `ss -lnt` on it, firewall DROP rules on the host (`iptables -S`, "
        "`nft list ruleset`) and on the path (security groups, ACLs), the routes in both "
        "directions and any rate limit on SYNs. If only some clients are affected, look for a "
        "rule that matches them.",
    [IC_SYN_QUEUE_OVERFLOW] =
        "The server drops SYNs while it answers others: its SYN queue / listen backlog is full "
        "(or, if the drops look random, the path loses SYNs). On the server: "
        "`nstat -az TcpExtListenOverflows TcpExtListenDrops TcpExtTCPReqQFullDrop`, and "
        "`ss -lnt` (Send-Q is the backlog). Raise net.ipv4.tcp_max_syn_backlog and "
        "net.core.somaxconn (sysctl -w, then persist in /etc/sysctl.d), raise the listen() "
        "backlog of the service (e.g. nginx `listen ... backlog=`, the app server's backlog "
        "setting), keep net.ipv4.tcp_syncookies=1, and check the application accepts fast "
        "enough (a slow accept loop fills the queue).",
    [IC_ACCEPT_QUEUE_OVERFLOW] =
        "Handshakes complete but the application does not accept() them fast enough: the "
        "accept queue is full, so the kernel drops the client's final ACK (or resets it with "
        "net.ipv4.tcp_abort_on_overflow=1). On the server: `ss -lnt` (Recv-Q at or above "
        "Send-Q on the listener), `nstat -az TcpExtListenOverflows TcpExtListenDrops`. Raise the "
        "listen() backlog and net.core.somaxconn, add workers/threads to the service, and find "
        "what blocks its accept loop (CPU, locks, a slow dependency).",
    [IC_NETWORK_LOSS] =
        "Data segments are being retransmitted: packets are lost on the "
        "path. Loss downstream of the tap means the originals were captured, then lost further "
        "on; upstream means they never reached the tap. Check interface errors and drops on "
        "the hosts and switches along that side (`ip -s link`, `ethtool -S`, switch counters), "
        "duplex/MTU mismatches, congested links and policers/shapers, and "
        "`nstat -az TcpRetransSegs TcpExtTCPLostRetransmit` on the sender.",
    [IC_SERVER_RESETS] =
        "The server aborts established connections with a reset. Usual reasons: the "
        "application crashed or was restarted, it closes sockets with unread data or "
        "SO_LINGER 0, a timeout in the application or a proxy in front of it, or the connection "
        "table (conntrack, a load balancer) dropped the connection. Check the service logs at "
        "these times, its restart history, keep-alive/idle timeouts of the service and of any "
        "proxy, and `nstat -az TcpExtTCPAbortOnData TcpExtTCPAbortOnClose`.",
    [IC_FORGED_RESETS] =
        "Resets arrive whose TTL/hop limit differs from the real endpoint's: a middlebox "
        "(IPS, firewall, proxy, DPI device) injects them on its behalf. Check the IPS/firewall "
        "logs for blocked sessions at these times, its idle timeouts and policy for this "
        "service, and whether the resets match a signature or a connection-table limit.",
    [IC_TLS_CERTIFICATE] =
        "The server presents a certificate clients reject or soon will: check its notAfter and "
        "notBefore (`openssl s_client -connect HOST:PORT -servername NAME </dev/null | openssl "
        "x509 -noout -dates -subject -ext subjectAltName`), that the SAN covers the name "
        "clients use, and that the full chain is served. Renew the certificate before its "
        "notAfter (certbot renew / your CA), install it with its intermediates, and reload the "
        "service.",
    [IC_TLS_HANDSHAKE] =
        "TLS handshakes fail. By sub-reason: version - enable a protocol version both sides "
        "accept (ssl_protocols / MinProtocol); cipher - allow a common cipher suite and group "
        "(ssl_ciphers, CipherString); client certificate - the server requires or rejects the "
        "client's certificate (ssl_verify_client, the client CA list, the client's cert and "
        "key); unknown CA - the client does not trust the issuer (serve the intermediates, "
        "update the client's CA bundle); no ServerHello - the service behind the port does not "
        "speak TLS or is overloaded. Reproduce with `openssl s_client -connect HOST:PORT "
        "-servername NAME` and read the server's TLS error log.",
    [IC_SLOW_RESPONSES] =
        "Responses are slower than the threshold. If the time is the server's (think time: "
        "much longer than the network round trip), look at the application: its logs and "
        "slow-query logs, CPU and memory, worker pool saturation, locks, and its own "
        "dependencies (databases, APIs) at these times. If it is the network's (round trip "
        "time is large too), check the path latency and loss.",
    [IC_HTTP_ERRORS] =
        "The server answers HTTP 5xx above the threshold. Read the application and proxy error "
        "logs at these times (which URLs, which upstream), check the upstream/backends of a "
        "proxy (502/503/504 are upstream failures or timeouts), the application's health, its "
        "dependencies and recent deployments.",
    [IC_RECEIVER_STALL] =
        "A side advertises a zero receive window for long: its application stopped reading "
        "from the socket (busy, blocked or deadlocked), so the sender must wait. Check the "
        "reading process on that side (CPU, blocking calls, thread dumps), `ss -tnpi` (Recv-Q "
        "grows on the stalled side) and its buffer settings (net.ipv4.tcp_rmem).",
    [IC_CAPTURE_LOSS] =
        "The capture itself lost packets (ACKs cover data the capture never saw): this is not "
        "the network's fault, and rates measured here may be off. Check the sensor: kernel "
        "drops (the summary's drops, `ip -s link` on the capture interface), the mirror/SPAN "
        "port's oversubscription, the capture buffer (-B), snaplen, and CPU of the sensor.",
    [IC_SCAN] =
        "One client probes many ports or hosts: a port scan or service discovery. Its probes "
        "are kept out of the servers' health and incidents. Check whether the scanner is "
        "known (inventory, vulnerability scanner); if not, block it at the firewall and look "
        "for other activity from that address.",
};

static void ic_ep_str(const struct endpoint *e, char *buf, size_t n)
{
    pkt_endpoint_str(e, buf, n);
}

/* Backends of one pool sit in one network: the same /24 (IPv4) or /64 (IPv6). */
static bool ic_same_net(const struct ip_addr *a, const struct ip_addr *b)
{
    if (a->family != b->family)
        return false;
    return memcmp(a->a, b->a, a->family == 6 ? 8 : 3) == 0;
}

/*
 * Pools: other servers on the same port, in the same network, sharing a client with s (the
 * balancer, seen from its mirror port); *bad of them have an open incident of cause c.
 */
static uint32_t ic_pool(struct ic *p, const struct ic_srv *s, enum inc_cause c, uint32_t *bad)
{
    uint32_t peers = 0;
    *bad = 0;
    for (int i = 0; i < IC_MAX_SERVERS; i++) {
        const struct ic_srv *t = &p->srv[i];
        if (!t->used || t == s || t->ep.port != s->ep.port || !ic_same_net(&t->ep.ip, &s->ep.ip) ||
            ic_sub(p->now_ns, t->last_ns) > p->cfg.inc_window_ns * 3)
            continue;
        bool shared = false;
        for (uint8_t k = 0; k < s->nclients && !shared; k++)
            shared = ic_srv_has_client(t, &s->clients[k]);
        if (!shared)
            continue;
        peers++;
        if (t->inc[c] && p->inc[t->inc[c] - 1].open)
            (*bad)++;
    }
    return peers;
}

/* Some client address of a is also a client of b. */
static bool ic_share_client(const struct ic_srv *a, const struct ic_srv *b)
{
    for (uint8_t k = 0; k < a->nclients; k++)
        if (ic_srv_has_client(b, &a->clients[k]))
            return true;
    return false;
}

/*
 * Dependencies of server s (incident in, slow_responses or http_errors): an open incident of
 * another server that s's own address connects to (any cause), or, when s calls it from
 * another of its addresses (a capture on the server host, -i any), a server slow or failing
 * in the same interval whose clients are not s's, whose trouble began no later than s's (with
 * a second of slack) and, for slowness, whose p99 is not above s's (s waits for it).
 */
static const struct ic_inc *ic_dependency(struct ic *p, const struct ic_srv *s,
                                          const struct ic_inc *in)
{
    const struct ic_inc *weak = NULL;
    for (int i = 0; i < IC_MAX_INC; i++) {
        const struct ic_inc *d = &p->inc[i];
        if (!d->used || !d->open || d == in || d->rec.cause == IC_SCAN)
            continue;
        const struct ic_srv *t = ic_srv_at(p, d->srv, d->srv_gen);
        if (!t || t == s || ic_ip_eq(&t->ep.ip, &s->ep.ip))
            continue;
        if (ic_srv_has_client(t, &s->ep.ip))
            return d;
        bool app = d->rec.cause == IC_SLOW_RESPONSES || d->rec.cause == IC_HTTP_ERRORS;
        if (weak || !app || ic_share_client(s, t) || d->rec.since_ns > in->rec.since_ns + NS_PER_S)
            continue;
        if (in->rec.cause == IC_SLOW_RESPONSES && d->rec.cause == IC_SLOW_RESPONSES &&
            (d->resp_p99 > in->resp_p99 * 1.05 ||
             (d->resp_p99 >= in->resp_p99 && d->rec.since_ns >= in->rec.since_ns)))
            continue; /* not faster, nor earlier: s is not the one waiting */
        weak = d;
    }
    return weak;
}

static uint32_t ic_max_sub(const struct ic_inc *in)
{
    uint32_t best = SUB_OTHER_ALERT, n = 0;
    for (uint32_t i = 0; i < IC_NSUB; i++)
        if (in->sub[i] > n) {
            n = in->sub[i];
            best = i;
        }
    return best;
}

/* Kind k's findings are evidence of r's cause (fk_info inc_role and inc_cause). */
static bool ic_kind_of_cause(const struct incident_record *r, int k)
{
    const struct fk_info *ki = fk_info((enum fkind)k);
    return ki->inc_role != IR_NONE && ki->inc_cause == (int)r->cause;
}

/* Findings in r's evidence of the kinds that feed its cause. */
static uint32_t ic_cause_kinds(const struct incident_record *r)
{
    uint32_t n = 0;
    for (int k = 0; k < FK__COUNT; k++)
        if (ic_kind_of_cause(r, k))
            n += r->kinds[k];
    return n;
}

/*
 * The next kind after `after` (-1: the first) in r's evidence that its cause names, in the
 * kinds' fk_info.inc_rank order; -1 when none is left.
 */
static int ic_named_kind(const struct incident_record *r, int after)
{
    unsigned from = after >= 0 ? fk_info((enum fkind)after)->inc_rank : 0;
    int best = -1;
    unsigned best_rank = 0;
    for (int k = 0; k < FK__COUNT; k++) {
        unsigned rank = fk_info((enum fkind)k)->inc_rank;
        if (!rank || !r->kinds[k] || !ic_kind_of_cause(r, k))
            continue;
        if (rank < from || (rank == from && k <= after))
            continue;
        if (best < 0 || rank < best_rank) {
            best = k;
            best_rank = rank;
        }
    }
    return best;
}

/* The counters whose ratio is cause's rate (a rate-based cause), else false. */
static bool ic_rate(enum inc_cause cause, enum ic_b *num, enum ic_b *den)
{
    switch (cause) {
    case IC_HTTP_ERRORS: *num = B_5XX, *den = B_REQ; return true;
    case IC_NETWORK_LOSS: *num = B_RETX, *den = B_DATA; return true;
    default: return false;
    }
}

/* Keep window c as in's worst if its rate is the highest seen so far. */
static void ic_keep_worst(struct ic_inc *in, const uint32_t *c)
{
    enum ic_b num, den;
    if (!c || !ic_rate(in->rec.cause, &num, &den) || !c[den])
        return;
    if (in->has_worst &&
        (uint64_t)c[num] * in->worst[den] <= (uint64_t)in->worst[num] * c[den])
        return;
    memcpy(in->worst, c, sizeof(in->worst));
    in->has_worst = true;
}

/*
 * The one-line summary of in. c: the window the summary describes; closing: it is the
 * incident's worst, not the last.
 */
static void ic_summary(struct ic *p, struct ic_inc *in, const uint32_t *c, bool closing)
{
    struct incident_record *r = &in->rec;
    char *b = r->summary;
    size_t n = sizeof(r->summary), at = 0;
    struct ic_srv *s = ic_srv_at(p, in->srv, in->srv_gen);
    unsigned long long aff = (unsigned long long)r->conns_affected;
    unsigned long long tot = (unsigned long long)r->conns_total;
    switch (r->cause) {
    case IC_SERVICE_DOWN:
        ic_cat(b, n, &at, "%llu of %llu connection attempts refused (RST to SYN): nothing listens "
               "on port %u", aff, tot, r->server.port);
        break;
    case IC_HOST_UNREACHABLE:
        ic_cat(b, n, &at, "%llu of %llu connection attempts got no answer at all (host down or "
               "SYNs dropped by a firewall)", aff, tot);
        break;
    case IC_SYN_QUEUE_OVERFLOW:
        ic_cat(b, n, &at, "SYNs dropped while others were answered: %u attempt%s answered only "
               "after a SYN retry, %u never answered, of %llu", in->retried,
               in->retried == 1 ? "" : "s", in->unanswered, tot);
        break;
    case IC_ACCEPT_QUEUE_OVERFLOW:
        ic_cat(b, n, &at, "%llu connection%s completed the handshake but were not accepted "
               "(accept queue full)", aff, aff == 1 ? "" : "s");
        break;
    case IC_NETWORK_LOSS: {
        int dir = in->retx_dir[1] >= in->retx_dir[0] ? 1 : 0;
        uint32_t rx = in->retx_dir[0] + in->retx_dir[1];
        uint32_t up = in->lost_dir[dir] < in->retx_dir[dir] ? in->lost_dir[dir] : in->retx_dir[dir];
        ic_cat(b, n, &at, "%u data retransmissions", rx);
        if (c && c[B_DATA] && c[B_RETX])
            ic_cat(b, n, &at, " (%.1f %% of %u data segments in %s window)",
                   100.0 * c[B_RETX] / c[B_DATA], c[B_DATA], closing ? "its worst" : "the last");
        ic_cat(b, n, &at, ", mostly %s; lost %s",
               dir ? "server to client" : "client to server",
               up * 2 > in->retx_dir[dir] ? "upstream of the tap (never captured)"
                                          : "downstream of the tap (the originals were captured)");
        break;
    }
    case IC_SERVER_RESETS:
        ic_cat(b, n, &at, "the server aborted %llu connection%s with a reset", aff,
               aff == 1 ? "" : "s");
        break;
    case IC_FORGED_RESETS:
        ic_cat(b, n, &at, "%llu connection%s reset by a packet whose TTL differs from the real "
               "endpoint's (a middlebox injected it)", aff, aff == 1 ? "" : "s");
        break;
    case IC_TLS_CERTIFICATE: {
        ic_cat(b, n, &at, "certificate problem:");
        bool first = true;
        for (int k = ic_named_kind(r, -1); k >= 0; k = ic_named_kind(r, k))
            if (fk_info((enum fkind)k)->inc_words) {
                ic_cat(b, n, &at, "%s %s", first ? "" : ",", fk_info((enum fkind)k)->inc_words);
                first = false;
            }
        if (in->alert_desc)
            ic_cat(b, n, &at, "%s rejected by the client (alert %s)", first ? "" : ";",
                   tls_alert_name(in->alert_desc));
        if (in->days_left_set && in->days_left >= 0)
            ic_cat(b, n, &at, "; notAfter in %.1f days", in->days_left);
        else if (in->days_left_set)
            ic_cat(b, n, &at, "; notAfter passed %.1f days ago", -in->days_left);
        ic_cat(b, n, &at, " (%llu connection%s)", aff, aff == 1 ? "" : "s");
        break;
    }
    case IC_TLS_HANDSHAKE:
        ic_cat(b, n, &at, "%llu TLS handshake%s failed (%s)", aff, aff == 1 ? "" : "s",
               sub_names[ic_max_sub(in)]);
        break;
    case IC_SLOW_RESPONSES:
    {
        uint32_t slow = ic_cause_kinds(r);
        ic_cat(b, n, &at, "%u slow response%s", slow, slow == 1 ? "" : "s");
    }
        if (in->resp_p99 > 0)
            ic_cat(b, n, &at, ", p99 %.2f s", in->resp_p99);
        if (in->hs_p50 > 0 && in->resp_p99 > 0)
            ic_cat(b, n, &at, "; the time is the %s (network round trip %.3f ms)",
                   in->resp_p99 > 10 * in->hs_p50 ? "server's (think time)" : "network's",
                   in->hs_p50 * 1e3);
        break;
    case IC_HTTP_ERRORS:
        if (c && c[B_REQ])
            ic_cat(b, n, &at, "HTTP 5xx for %u of %u responses (%.0f %%)%s", c[B_5XX],
                   c[B_REQ], 100.0 * c[B_5XX] / c[B_REQ], closing ? " at worst" : "");
        else
            ic_cat(b, n, &at, "HTTP 5xx responses over the threshold");
        break;
    case IC_RECEIVER_STALL:
        ic_cat(b, n, &at, "%s advertised a zero window for more than %.1f s (%llu connection%s)",
               in->stall_dir_mask == 3   ? "both sides"
               : in->stall_dir_mask == 2 ? "the server"
                                         : "the client",
               (double)p->cfg.inc_stall_ns / 1e9, aff, aff == 1 ? "" : "s");
        break;
    case IC_CAPTURE_LOSS:
        ic_cat(b, n, &at, "the capture missed data that was acknowledged (%u time%s): capture "
               "loss, not network loss", r->kinds[FK_CAPTURE_LOSS],
               r->kinds[FK_CAPTURE_LOSS] == 1 ? "" : "s");
        break;
    case IC_SCAN:
    default: {
        char cl[64], sv[64];
        ic_ep_str(&r->client, cl, sizeof(cl));
        ic_ep_str(&r->server, sv, sizeof(sv));
        size_t l = strlen(cl);
        if (l > 2 && strcmp(cl + l - 2, ":0") == 0)
            cl[l - 2] = '\0'; /* an address, not an endpoint */
        l = strlen(sv);
        if (l > 2 && strcmp(sv + l - 2, ":0") == 0)
            sv[l - 2] = '\0';
        ic_cat(b, n, &at, "%s probed %llu ports/hosts (%s first), most of them unanswered or "
               "refused", cl, aff, sv);
        break;
    }
    }
    if (s && r->cause != IC_SCAN) {
        uint32_t bad = 0, peers = ic_pool(p, s, r->cause, &bad);
        if (peers >= 1 && bad < peers)
            ic_cat(b, n, &at, "; %u of %u backends on port %u (its peers are fine)", bad + 1,
                   peers + 1, s->ep.port);
        if (r->cause == IC_SLOW_RESPONSES || r->cause == IC_HTTP_ERRORS) {
            const struct ic_inc *dep = ic_dependency(p, s, in);
            if (dep) {
                char de[64];
                ic_ep_str(&dep->rec.server, de, sizeof(de));
                ic_cat(b, n, &at, "; likely cause: its dependency %s (%s, incident %llu)", de,
                       inc_cause_name(dep->rec.cause), (unsigned long long)dep->rec.id);
            }
        }
    }
}

/* The full advice of in: the cause's text, with specifics. */
static void ic_advice(struct ic *p, struct ic_inc *in)
{
    struct incident_record *r = &in->rec;
    size_t n = sizeof(r->advice), at = 0;
    char port[8];
    snprintf(port, sizeof(port), "%u", r->server.port);
    /* the text with PORT replaced by the server's port */
    const char *t = advice_text[r->cause];
    while (*t && at + 1 < n) {
        if (strncmp(t, "PORT", 4) == 0) {
            ic_cat(r->advice, n, &at, "%s", port);
            t += 4;
        } else {
            r->advice[at++] = *t++;
            r->advice[at] = '\0';
        }
    }
    if (r->cause == IC_TLS_HANDSHAKE)
        ic_cat(r->advice, n, &at, " Here: mostly %s.", sub_names[ic_max_sub(in)]);
    /* the sentence each kind of its evidence adds (fk_info.inc_advice), in the kinds' order */
    for (int k = ic_named_kind(r, -1); k >= 0; k = ic_named_kind(r, k))
        if (fk_info((enum fkind)k)->inc_advice)
            ic_cat(r->advice, n, &at, "%s", fk_info((enum fkind)k)->inc_advice);
    if (r->cause == IC_SLOW_RESPONSES || r->cause == IC_HTTP_ERRORS) {
        struct ic_srv *s = ic_srv_at(p, in->srv, in->srv_gen);
        const struct ic_inc *dep = s ? ic_dependency(p, s, in) : NULL;
        if (dep) {
            char de[64];
            ic_ep_str(&dep->rec.server, de, sizeof(de));
            ic_cat(r->advice, n, &at,
                   " This server's own connections to %s fail or are slow at the same time "
                   "(%s incident #%llu): start there.",
                   de, inc_cause_name(dep->rec.cause), (unsigned long long)dep->rec.id);
        }
    }
}


/* ---- emit ---- */

static enum severity ic_severity(const struct ic *p, const struct ic_inc *in, const uint32_t *c)
{
    switch (in->rec.cause) {
    case IC_SERVICE_DOWN:
    case IC_HOST_UNREACHABLE:
    case IC_TLS_HANDSHAKE:
    case IC_HTTP_ERRORS:
        return SEV_ERROR;
    case IC_SYN_QUEUE_OVERFLOW: /* error when connections failed, warn when all got through */
        return in->unanswered ? SEV_ERROR : SEV_WARN;
    case IC_ACCEPT_QUEUE_OVERFLOW:
    case IC_TLS_CERTIFICATE:
        return in->err_sev ? SEV_ERROR : SEV_WARN;
    case IC_NETWORK_LOSS: {
        /* from the window's rate; never lowered while open */
        enum severity sv = SEV_INFO;
        double thr = p->cfg.alert_retrans_rate * (c ? c[B_DATA] : 0);
        if (c && c[B_DATA] && c[B_RETX] >= 4.0 * thr)
            sv = SEV_ERROR;
        else if (c && c[B_DATA] && c[B_RETX] > thr)
            sv = SEV_WARN;
        return in->open && in->emitted_sev > sv ? in->emitted_sev : sv;
    }
    case IC_SCAN:
        return SEV_INFO;
    default:
        return SEV_WARN;
    }
}

static float ic_confidence(const struct ic_inc *in)
{
    const struct incident_record *r = &in->rec;
    float base;
    switch (r->cause) {
    case IC_SERVICE_DOWN: base = 0.9f; break;
    case IC_HOST_UNREACHABLE: base = in->nclients >= 2 ? 0.9f : 0.75f; break;
    case IC_SYN_QUEUE_OVERFLOW: base = in->unanswered + in->retried >= 5 ? 0.8f : 0.6f; break;
    case IC_ACCEPT_QUEUE_OVERFLOW: base = 0.8f; break;
    case IC_FORGED_RESETS: base = 0.7f; break;
    case IC_TLS_HANDSHAKE: base = in->sub[SUB_INFERRED] ? 0.6f : 0.95f; break;
    case IC_CAPTURE_LOSS: base = 0.8f; break;
    case IC_SCAN: base = 0.8f; break;
    default: base = 0.9f; break;
    }
    if (r->conns_affected <= 1 && r->cause != IC_SCAN)
        base -= 0.2f;
    return base < 0.1f ? 0.1f : base;
}

/* Fill the record's derived fields and hand it to the sinks. */
static void ic_emit(struct det *d, struct ic_inc *in, enum inc_event ev, uint64_t now,
                    const uint32_t *c)
{
    struct ic *p = ic_of(d);
    struct incident_record *r = &in->rec;
    struct ic_srv *s = ic_srv_at(p, in->srv, in->srv_gen);
    r->event = ev;
    r->ts_ns = now;
    if (!r->id)
        r->id = ++p->next_id;
    r->sev = ic_severity(p, in, c);
    if (s && r->cause != IC_SCAN)
        r->conns_total = in->att_base + ic_sub(s->conns, in->conns_at_start);
    if (r->cause == IC_HTTP_ERRORS)
        r->conns_total = in->http_total;
    if (r->conns_total < r->conns_affected)
        r->conns_total = r->conns_affected;
    r->clients_affected = in->nclients;
    r->confidence = ic_confidence(in);
    /* a close describes the worst window the incident had (the last one may have recovered) */
    ic_keep_worst(in, c);
    bool closing = ev == IE_CLOSE && in->has_worst;
    ic_summary(p, in, closing ? in->worst : c, closing);
    ic_advice(p, in);
    in->last_emit_ns = now;
    in->emitted_affected = r->conns_affected;
    in->emitted_sev = r->sev;
    det_emit_incident(d, r);
}

static void ic_open(struct det *d, struct ic_inc *in, uint64_t now, const uint32_t *c)
{
    in->open = true;
    ic_emit(d, in, IE_OPEN, now, c);
}

static void ic_close(struct det *d, struct ic_inc *in, uint64_t now, enum inc_close why,
                     uint64_t until, const uint32_t *c)
{
    struct ic *p = ic_of(d);
    in->rec.close_reason = why;
    in->rec.until_ns = until > in->rec.since_ns ? until : in->rec.since_ns;
    struct ic_srv *s = ic_srv_at(p, in->srv, in->srv_gen);
    if (s && in->rec.cause == IC_HOST_UNREACHABLE)
        s->unreach_closed_ns = now; /* its failed attempts stay in the window a while */
    ic_emit(d, in, IE_CLOSE, now, c);
    ic_inc_free(p, in);
}

/* ---- judging ---- */

enum ic_verdict { V_NONE = 0, V_BAD, V_GOOD };

/*
 * Counter k, less counter minus (B__COUNT: none), summed over the window's seconds after the
 * last one with an answered attempt.
 */
static uint32_t ic_after_answered(const struct ic *p, const struct ic_srv *s, uint64_t now,
                                  enum ic_b k, enum ic_b minus)
{
    uint64_t now_sec = now / NS_PER_S, w = ic_window_s(p);
    uint32_t n = 0;
    for (uint64_t sec = now_sec; sec + w > now_sec && sec > 0; sec--) {
        const struct ic_bucket *b = &s->ring[sec % IC_RING];
        if (b->sec != sec)
            continue;
        if (b->n[B_ANSWERED])
            break;
        n += b->n[k] - (minus < B__COUNT ? b->n[minus] : 0);
    }
    return n;
}

/*
 * Failed attempts after the last second with an answered one, but not those begun within
 * IC_BURST_NS of an answered attempt: a burst that the server answers and then drops (a full
 * SYN queue) may run into the next second, and the attempts there are no sign that it answers
 * nobody (syn-backlog.pcap's burst of 0.6 ms, replayed in 80 ms across a second's edge, read
 * as host_unreachable: tests/incidents/edges.sh). A host that stops answering is seen once
 * attempts begun later than that fail (firewall-window.pcap: its first failed attempt began
 * 0.35 s after the last answered one).
 */
static uint32_t ic_unanswered_after(const struct ic *p, const struct ic_srv *s, uint64_t now)
{
    return ic_after_answered(p, s, now, B_UNANSWERED, B_UNANS_NEAR);
}

/*
 * Failed or retried attempts in the window's seconds that also had first-try answers, and in
 * the other seconds those that had failed less than IC_BURST_NS after an answered one began
 * (the same burst across a second's edge; ic_unanswered_after).
 */
static uint32_t ic_mixed(const struct ic *p, const struct ic_srv *s, uint64_t now)
{
    uint64_t now_sec = now / NS_PER_S, w = ic_window_s(p);
    uint32_t n = 0;
    for (uint64_t sec = now_sec; sec + w > now_sec && sec > 0; sec--) {
        const struct ic_bucket *b = &s->ring[sec % IC_RING];
        if (b->sec != sec)
            continue;
        if (b->n[B_ANSWERED_1ST])
            n += b->n[B_UNANSWERED] + b->n[B_RETRIED];
        else
            n += b->n[B_UNANS_NEAR] + b->n[B_RETR_NEAR];
    }
    return n;
}

/* Judge in on its server's window c and the counts since its last evidence (cs). */
static enum ic_verdict ic_judge(const struct ic *p, const struct ic_srv *s, const struct ic_inc *in,
                                const uint32_t *c, const uint32_t *cs, uint64_t now)
{
    const struct eng_config *g = &p->cfg;
    bool bad = false, good = false;
    bool quiet = ic_sub(now, in->last_ev_ns) >= g->inc_clear_ns;
    uint32_t failed = c[B_UNANSWERED] + c[B_RETRIED];
    switch (in->rec.cause) {
    case IC_SERVICE_DOWN:
        bad = ic_after_answered(p, s, now, B_REFUSED, B__COUNT) >= g->inc_min_failures ||
            (c[B_REFUSED] >= g->inc_min_failures && c[B_REFUSED] >= c[B_ANSWERED]);
        good = quiet && cs[B_ANSWERED];
        break;
    case IC_HOST_UNREACHABLE:
        bad = ic_unanswered_after(p, s, now) >= g->inc_min_failures;
        good = quiet && cs[B_ANSWERED];
        break;
    case IC_SYN_QUEUE_OVERFLOW: {
        /* failures in the same seconds as first-try answers (dropped while others are
           answered), unless the host answers nobody now (host_unreachable's case) */
        const struct ic_inc *un =
            s->inc[IC_HOST_UNREACHABLE] ? &p->inc[s->inc[IC_HOST_UNREACHABLE] - 1] : NULL;
        bool unreachable = (un && un->open) ||
                           ic_unanswered_after(p, s, now) >= g->inc_min_failures ||
                           (s->unreach_closed_ns &&
                            ic_sub(now, s->unreach_closed_ns) < g->inc_window_ns);
        bad = !unreachable && c[B_ATTEMPTS] >= g->inc_min_attempts &&
            ic_mixed(p, s, now) >= g->inc_min_failures &&
            failed >= g->alert_error_rate * c[B_ATTEMPTS];
        good = quiet && cs[B_ANSWERED_1ST];
        break;
    }
    case IC_ACCEPT_QUEUE_OVERFLOW:
        bad = c[B_AQ] >= g->inc_min_failures;
        good = quiet && cs[B_EST];
        break;
    case IC_NETWORK_LOSS:
        /* info from IC_LOSS_INFO of the threshold on (not a page), warn from the threshold */
        bad = c[B_DATA] >= g->inc_min_data_segs && c[B_RETX] >= 2 &&
            c[B_RETX] > IC_LOSS_INFO * g->alert_retrans_rate * c[B_DATA];
        good = c[B_DATA] >= g->inc_min_data_segs &&
               c[B_RETX] <= IC_LOSS_INFO * g->alert_retrans_rate * g->alert_clear_ratio * c[B_DATA];
        break;
    case IC_SERVER_RESETS:
        bad = c[B_SRV_RESET] >= g->inc_min_resets;
        good = quiet && (cs[B_FIN] || cs[B_EST]);
        break;
    case IC_FORGED_RESETS:
        bad = c[B_FORGED] >= 1;
        good = quiet && (cs[B_FIN] || cs[B_EST]);
        break;
    case IC_TLS_CERTIFICATE:
        bad = c[B_CERT] >= 1;
        good = quiet && cs[B_TLS_NEWCERT];
        break;
    case IC_TLS_HANDSHAKE:
        bad = c[B_TLS_FAIL] >= 1;
        good = quiet && cs[B_TLS_OK];
        break;
    case IC_SLOW_RESPONSES:
        bad = c[B_SLOW] >= g->inc_min_slow || c[B_P99_BAD];
        good = cs[B_ROW_FAST] && !cs[B_SLOW];
        break;
    case IC_HTTP_ERRORS:
        bad = c[B_REQ] >= g->inc_min_requests && c[B_5XX] &&
            c[B_5XX] > g->alert_error_rate * c[B_REQ];
        good = cs[B_REQ] && !cs[B_5XX];
        break;
    case IC_RECEIVER_STALL:
        bad = c[B_STALL] >= 1;
        good = quiet && (cs[B_DATA] || cs[B_FIN]);
        break;
    case IC_CAPTURE_LOSS:
        bad = c[B_CAPLOSS] >= g->inc_min_failures;
        good = quiet && cs[B_DATA] >= g->inc_min_data_segs;
        break;
    default:
        return V_NONE;
    }
    /* an open incident with positive evidence of recovery after its last evidence closes,
       even while that older evidence is still inside the window */
    if (in->open && good)
        return V_GOOD;
    return bad ? V_BAD : good ? V_GOOD : V_NONE;
}

/* A scan incident: open while probes come, closed after a window without them. */
static void ic_tick_scan(struct det *d, struct ic_inc *in, uint64_t now)
{
    struct ic *p = ic_of(d);
    if (!in->open) {
        ic_open(d, in, now, NULL);
        return;
    }
    if (ic_sub(now, in->last_ev_ns) > p->cfg.inc_window_ns) {
        ic_close(d, in, now, ICR_NO_TRAFFIC, in->last_ev_ns, NULL);
        return;
    }
    if (in->rec.conns_affected != in->emitted_affected &&
        ic_sub(now, in->last_emit_ns) >= p->cfg.inc_update_ns)
        ic_emit(d, in, IE_UPDATE, now, NULL);
}

/* Judge one candidate or open incident at capture time now. */
static void ic_tick_inc(struct det *d, struct ic_inc *in, uint64_t now)
{
    struct ic *p = ic_of(d);
    if (in->rec.cause == IC_SCAN) {
        ic_tick_scan(d, in, now);
        return;
    }
    struct ic_srv *s = ic_srv_at(p, in->srv, in->srv_gen);
    if (!s) {
        if (in->open)
            ic_close(d, in, now, ICR_NO_TRAFFIC, in->last_ev_ns, NULL);
        else
            ic_inc_free(p, in);
        return;
    }
    uint64_t now_sec = now / NS_PER_S;
    uint32_t c[B__COUNT], cs[B__COUNT];
    ic_sum(s, ic_sub(now_sec, ic_window_s(p)) + 1, now_sec, c);
    ic_sum(s, in->last_ev_ns / NS_PER_S + 1, now_sec, cs);
    enum ic_verdict v = ic_judge(p, s, in, c, cs, now);
    if (!in->open) {
        if (v == V_BAD)
            ic_open(d, in, now, c);
        else if (ic_sub(now, in->last_ev_ns) > p->cfg.inc_window_ns)
            ic_inc_free(p, in);
        return;
    }
    if (v == V_GOOD) {
        ic_close(d, in, now, ICR_RECOVERED, in->last_ev_ns, c);
        return;
    }
    if (v == V_NONE && ic_sub(now, in->last_ev_ns) >= p->cfg.inc_quiet_ns) {
        ic_close(d, in, now, ICR_NO_TRAFFIC, in->last_ev_ns, c);
        return;
    }
    /* updates: on a change of scope or severity, at most every inc_update_ns */
    if (ic_sub(now, in->last_emit_ns) < p->cfg.inc_update_ns)
        return;
    if (in->rec.conns_affected != in->emitted_affected || ic_severity(p, in, c) != in->emitted_sev)
        ic_emit(d, in, IE_UPDATE, now, c);
}

/* ---- connection attempts ---- */

static struct ic_att *ic_att_of(struct ic *p, const struct ic_flow *st, uint64_t flow_id)
{
    if (st->pend == 0 || st->pend > IC_PENDING)
        return NULL;
    struct ic_att *a = &p->att[st->pend - 1];
    return a->used && a->flow_id == flow_id ? a : NULL;
}

static void ic_att_release(struct ic *p, struct ic_att *a)
{
    if (!a || !a->used)
        return;
    a->used = false;
    if (p->nfree < IC_PENDING)
        p->free_att[p->nfree++] = (uint32_t)(a - p->att);
}

static bool ic_client_is_scanner(const struct ic *p, const struct ip_addr *ip)
{
    return scan_is_scanner(p->scans, ip);
}

/* Decide attempt a now (tick or flow end): a refusal that stood, or a failed attempt. */
static void ic_att_decide(struct ic *p, struct ic_att *a, uint64_t now, bool final)
{
    struct ic_srv *s = ic_srv_at(p, a->srv, a->srv_gen);
    if (!s || ic_client_is_scanner(p, &a->client)) {
        ic_att_release(p, a);
        return;
    }
    struct ic_ev e = {0, -1, a->flow_id, 0, &a->client, true};
    if (a->refused) {
        if (!final && ic_sub(now, a->rst_ns) < IC_REFUSE_CONFIRM_NS)
            return;
        ic_count(s, a->rst_ns, B_REFUSED, 1);
        e.ts = a->rst_ns;
        e.kind = FK_CONN_REFUSED;
        e.frame = a->rst_frame;
        ic_evidence(p, a->srv, IC_SERVICE_DOWN, &e);
        ic_att_release(p, a);
        return;
    }
    if (a->failed)
        return;
    bool due;
    if (a->nsyn >= 2) {
        uint64_t wait = ic_sub(a->retry_ns, a->syn_ns);
        if (wait < NS_PER_S)
            wait = NS_PER_S;
        due = ic_sub(now, a->retry_ns) >= wait;
    } else {
        due = ic_sub(now, a->syn_ns) >= IC_LONE_SYN_NS;
    }
    if (!due && !(final && a->nsyn >= 2))
        return;
    a->failed = true;
    ic_count(s, a->syn_ns, B_UNANSWERED, 1);
    a->near = s->ans_last_ns && a->syn_ns >= s->ans_last_ns &&
              a->syn_ns - s->ans_last_ns < IC_BURST_NS;
    if (a->near)
        ic_count(s, a->syn_ns, B_UNANS_NEAR, 1);
    e.ts = a->syn_ns;
    e.kind = FK_SYN_UNANSWERED;
    e.frame = a->syn_frame;
    /* evidence for both readings; the window decides which one opens */
    ic_evidence(p, a->srv, IC_HOST_UNREACHABLE, &e);
    struct ic_inc *q = ic_evidence(p, a->srv, IC_SYN_QUEUE_OVERFLOW, &e);
    if (q) {
        q->unanswered++;
        q->err_sev = true;
    }
}

/* ---- scan tracking ---- */

/* The open scan incident of scanner ip, or NULL. */
static struct ic_inc *ic_scan_inc(struct ic *p, const struct ip_addr *ip)
{
    for (int i = 0; i < IC_MAX_INC; i++)
        if (p->inc[i].used && p->inc[i].rec.cause == IC_SCAN &&
            ic_ip_eq(&p->inc[i].rec.client.ip, ip))
            return &p->inc[i];
    return NULL;
}

/* A new attempt of flow id (op: its first segment): true when its client is a scanner (the
   probe is the scan incident's evidence and nothing else's). */
static bool ic_scan_probe(struct det *d, uint64_t id, const struct ic_op *op)
{
    struct ic *p = ic_of(d);
    const struct scan_client *c = scan_lookup(p->scans, &op->client);
    if (!c || !c->scanner)
        return false;
    struct ic_inc *in = ic_scan_inc(p, &c->ip);
    if (!in) {
        in = ic_inc_slot(p);
        if (!in)
            return true;
        in->used = true;
        in->rec.cause = IC_SCAN;
        in->rec.layer = IL_NETWORK;
        in->rec.server = c->first_target;
        in->rec.server.port = 0;
        in->rec.has_client = true;
        in->rec.client.ip = c->ip;
        in->rec.since_ns = c->first_ns;
        in->rec.conns_affected = c->ntargets ? c->ntargets - 1 : 0; /* this one is added below */
    }
    in->last_ev_ns = op->ts;
    ic_add_u64(in->rec.flows, &in->rec.nflows, INC_FLOWS_MAX, id);
    ic_add_u64(in->rec.frames, &in->rec.nframes, INC_FRAMES_MAX, op->frame);
    in->rec.conns_affected++;
    in->rec.conns_total = in->rec.conns_affected;
    in->nclients = 1;
    return true;
}

/* ---- detector callbacks ---- */

static void ic_loss_map(struct ic *p);

static int ic_init(struct det *d, const struct eng_config *cfg)
{
    struct ic *p = calloc(1, sizeof(*p));
    if (!p)
        return ERR_NOMEM;
    p->cfg = *cfg;
    struct eng_config def;
    eng_config_default(&def);
#define IC_DEF(f) if (!p->cfg.f) p->cfg.f = def.f
    IC_DEF(inc_window_ns);
    IC_DEF(inc_clear_ns);
    IC_DEF(inc_quiet_ns);
    IC_DEF(inc_update_ns);
    IC_DEF(inc_min_failures);
    IC_DEF(inc_min_attempts);
    IC_DEF(inc_min_data_segs);
    IC_DEF(inc_min_requests);
    IC_DEF(inc_min_slow);
    IC_DEF(inc_min_resets);
    IC_DEF(inc_stall_ns);
    IC_DEF(inc_scan_targets);
    IC_DEF(alert_error_rate);
    IC_DEF(alert_retrans_rate);
    IC_DEF(alert_resp_p99_s);
    IC_DEF(alert_clear_ratio);
#undef IC_DEF
    p->srv = calloc(IC_MAX_SERVERS, sizeof(*p->srv));
    p->inc = calloc(IC_MAX_INC, sizeof(*p->inc));
    p->att = calloc(IC_PENDING, sizeof(*p->att));
    p->free_att = calloc(IC_PENDING, sizeof(*p->free_att));
    p->tick_last = calloc(IC_MAX_SERVERS, sizeof(*p->tick_last));
    p->scans = det_scans(d);
    if (!p->srv || !p->inc || !p->att || !p->free_att || !p->tick_last) {
        free(p->tick_last);
        free(p->srv);
        free(p->inc);
        free(p->att);
        free(p->free_att);
        free(p);
        return ERR_NOMEM;
    }
    for (uint32_t i = 0; i < IC_PENDING; i++)
        p->free_att[p->nfree++] = IC_PENDING - 1 - i;
    ic_loss_map(p);
    d->priv = p;
    return 0;
}

static void ic_free(struct det *d)
{
    struct ic *p = ic_of(d);
    if (!p)
        return;
    free(p->srv);
    free(p->inc);
    free(p->att);
    free(p->free_att);
    free(p->fh.dirty);
    free(p->tick_last);
    free(p);
    d->priv = NULL;
}

/* The flow's first segment (op): scan check, server slot. */
static void ic_flow_start(struct det *d, struct ic_flow *st, uint64_t id, const struct ic_op *op)
{
    struct ic *p = ic_of(d);
    st->srv_done = true;
    if ((op->what & ICW_SYN) && ic_scan_probe(d, id, op)) {
        st->scan = true;
        return;
    }
    st->srv = ic_server(p, &op->server, op->ts);
    st->srv_gen = st->srv ? p->srv[st->srv - 1].gen : 0;
}

/* A client SYN (first or retry). */
static void ic_on_syn(struct ic *p, struct ic_srv *s, struct ic_flow *st, uint64_t id,
                      const struct ic_op *op)
{
    st->nsyn++;
    if (!st->attempt) {
        st->attempt = true;
        st->syn_ns = op->ts;
        s->conns++;
        ic_count(s, op->ts, B_ATTEMPTS, 1);
        ic_srv_client(s, &op->client);
        if (p->nfree > 0 && !st->answered) {
            uint32_t i = p->free_att[--p->nfree];
            struct ic_att *a = &p->att[i];
            memset(a, 0, sizeof(*a));
            a->used = true;
            a->flow_id = id;
            a->srv = st->srv;
            a->srv_gen = st->srv_gen;
            a->client = op->client;
            a->nsyn = 1;
            a->syn_ns = op->ts;
            a->syn_frame = op->frame;
            a->isn = op->seq;
            st->pend = i + 1;
        }
        return;
    }
    struct ic_att *a = ic_att_of(p, st, id);
    if (a) {
        a->nsyn++;
        if (!a->retry_ns)
            a->retry_ns = op->ts;
    }
}

/* The server's first SYN-ACK: answered (maybe after retries; maybe after a RST). */
static void ic_on_synack(struct det *d, struct ic_srv *s, struct ic_flow *st, uint64_t id,
                         const struct ic_op *op)
{
    struct ic *p = ic_of(d);
    st->answered = true;
    struct ic_att *a = ic_att_of(p, st, id);
    if (!st->attempt) {
        ic_att_release(p, a);
        return;
    }
    uint64_t t0 = st->syn_ns;
    ic_count(s, t0, B_ANSWERED, 1);
    if (t0 > s->ans_last_ns)
        s->ans_last_ns = t0;
    if (a && a->failed) {
        ic_count(s, t0, B_UNANSWERED, -1); /* answered after all: retried, not failed */
        if (a->near) {
            ic_count(s, t0, B_UNANS_NEAR, -1);
            ic_count(s, t0, B_RETR_NEAR, 1);
        }
    }
    bool was_failed = a && a->failed;
    if (was_failed) { /* revise the evidence given when its first retry went unanswered */
        for (int c = IC_HOST_UNREACHABLE; c <= IC_SYN_QUEUE_OVERFLOW; c++) {
            struct ic_inc *x = s->inc[c] ? &p->inc[s->inc[c] - 1] : NULL;
            if (x && x->rec.kinds[FK_SYN_UNANSWERED])
                x->rec.kinds[FK_SYN_UNANSWERED]--;
            if (x && c == IC_HOST_UNREACHABLE && x->rec.conns_affected)
                x->rec.conns_affected--;
        }
    }
    if (st->nsyn >= 2 || was_failed) {
        ic_count(s, t0, B_RETRIED, 1);
        struct ic_ev e = {t0,          FK_SYN_BACKLOG_DROP,
                          id,          op->frame,
                          &op->client, !(st->aff & (1u << IC_SYN_QUEUE_OVERFLOW)) && !was_failed};
        st->aff |= 1u << IC_SYN_QUEUE_OVERFLOW;
        struct ic_inc *q = ic_evidence(p, st->srv, IC_SYN_QUEUE_OVERFLOW, &e);
        if (q) {
            q->retried++;
            if (a && a->failed && q->unanswered)
                q->unanswered--;
        }
    } else {
        ic_count(s, t0, B_ANSWERED_1ST, 1);
    }
    ic_att_release(p, a);
    st->pend = 0;
}

/*
 * The finding kind of a loss retransmission with TCP events ev (tcp_seg.loss_retrans): the
 * kind with data_retransmission and loss_evidence whose event is set (the later one in the
 * kind table if several: a fast retransmission over a plain one), from the map ic_init built.
 */
static enum fkind ic_loss_kind(const struct ic *p, uint32_t ev)
{
    int kind = -1;
    for (uint32_t m = ev & p->loss_mask; m; m &= m - 1) {
        int k = p->loss_kind[__builtin_ctz(m)];
        if (k > kind)
            kind = k;
    }
    return kind >= 0 ? (enum fkind)kind : FK_RETRANSMISSION;
}

/* The event -> loss-retransmission kind map (once, at init: the kind table is constant). */
static void ic_loss_map(struct ic *p)
{
    memset(p->loss_kind, -1, sizeof(p->loss_kind));
    p->loss_mask = 0;
    for (int k = 0; k < FK__COUNT; k++) {
        const struct fk_info *i = fk_info((enum fkind)k);
        if (i->data_retransmission && i->loss_evidence && i->tev >= 0 && i->tev < TEV__COUNT &&
            i->tev < 32) {
            p->loss_kind[i->tev] = (int8_t)k;
            p->loss_mask |= 1u << i->tev;
        }
    }
}

/*
 * One op of flow id (its server-half state st) applied, in the order the whole detector did
 * these things for one segment: the flow's earlier plain segments first, then its own.
 */
static void ic_apply(struct det *d, struct ic_flow *st, uint64_t id, const struct ic_op *op)
{
    struct ic *p = ic_of(d);
    uint32_t w = op->what;
    if ((w & ICW_SEG) && op->ts > p->now_ns)
        p->now_ns = op->ts;
    if (w & ICW_END) {
        st->rst_suspect = op->rst_dir >= 0;
        st->forged = op->forged != 0;
        st->rst_dir = op->rst_dir;
        st->rst_ns = op->rst_ns;
        st->rst_frame = op->rst_frame;
    }
    if (w & ICW_START)
        ic_flow_start(d, st, id, op);
    if (st->scan)
        return;
    struct ic_srv *s = ic_srv_at(p, st->srv, st->srv_gen);
    if (!s)
        return;
    if (w & ICW_PEND) {
        uint64_t *tl = &p->tick_last[s - p->srv];
        if (op->p_last > *tl)
            *tl = op->p_last;
        if (op->n_data)
            ic_count(s, op->p_last, B_DATA, (int)op->n_data);
        if (op->n_est)
            ic_count(s, op->p_last, B_EST, (int)op->n_est);
    }
    if (!(w & ICW_SEG))
        return;
    s->last_ns = op->ts;
    if (w & ICW_SYN)
        ic_on_syn(p, s, st, id, op);
    if ((w & ICW_STALE) && st->pend && !st->answered) {
        /* the server answered with something else (a stale ACK): reachable, not a failure */
        ic_att_release(p, ic_att_of(p, st, id));
        st->pend = 0;
    }
    if ((w & ICW_SYNACK) && !st->answered)
        ic_on_synack(d, s, st, id, op);
    if (w & ICW_EST)
        ic_count(s, op->ts, B_EST, 1);
    if (w & ICW_REFUSE) {
        struct ic_att *a = ic_att_of(p, st, id);
        /* the client's TCP accepts a RST in SYN-SENT only when it ACKs the SYN (RFC 9293
           3.10.7.3); another one is ignored by the client, so it refuses nothing */
        bool valid = (op->flags & TCP_ACK) && a && op->ack == a->isn + 1;
        if (a && !a->refused && valid) {
            a->refused = true;
            a->rst_ns = op->ts;
            a->rst_frame = op->frame;
        }
    }
    if (w & ICW_SRV_RESET) {
        bool aq = false; /* explained by another cause: evidence for that cause only */
        for (int i = 0; i < IC_CERT_FLOWS; i++)
            aq |= s->claimed[i] == id;
        if (!aq) {
            ic_count(s, op->ts, B_SRV_RESET, 1);
            ic_flow_ev(p, st, id, &op->client, IC_SERVER_RESETS, op->ts, FK_RESET, op->frame);
        }
    }
    if (w & ICW_STALL) {
        ic_count(s, op->ts, B_STALL, 1);
        struct ic_inc *in = ic_flow_ev(p, st, id, &op->client, IC_RECEIVER_STALL, op->zw_ns,
                                       FK_ZERO_WINDOW, op->zw_frame);
        if (in)
            in->stall_dir_mask |= (uint8_t)(op->stall_dir == DIR_C2S ? 1 : 2);
    }
    if (w & ICW_CAPLOSS) {
        ic_count(s, op->ts, B_CAPLOSS, 1);
        ic_flow_ev(p, st, id, &op->client, IC_CAPTURE_LOSS, op->ts, FK_CAPTURE_LOSS, op->frame);
    }
    if (!(w & ICW_DATA))
        return;
    /* data and data retransmissions as every rate counts them (tcp_seg.data, .data_retrans:
       SYN and SYN-ACK retries and keep-alives never are) */
    ic_count(s, op->ts, B_DATA, 1);
    if (w & ICW_LOST) {
        struct ic_inc *in = s->inc[IC_NETWORK_LOSS] ? &p->inc[s->inc[IC_NETWORK_LOSS] - 1] : NULL;
        if (in)
            in->lost_dir[op->dir]++;
    }
    /* only retransmissions that are evidence of loss (fk_info loss_evidence: a spurious one,
       whose original arrived, is not) */
    if (!(w & ICW_RETX))
        return;
    ic_count(s, op->ts, B_RETX, 1);
    int kind = ic_loss_kind(p, op->ev);
    struct ic_inc *in =
        ic_flow_ev(p, st, id, &op->client, IC_NETWORK_LOSS, op->ts, kind, op->frame);
    if (in) {
        in->retx_dir[op->dir]++;
        if (op->lost > in->lost_dir[op->dir])
            in->lost_dir[op->dir] = op->lost;
    }
}

/* A plain segment of the flow st at ts in one engine: what ICW_PEND does for a batch of them. */
static void ic_plain(struct ic *p, const struct ic_flow *st, uint64_t ts, bool data, bool est)
{
    if (st->scan)
        return;
    struct ic_srv *s = ic_srv_at(p, st->srv, st->srv_gen);
    if (!s)
        return;
    uint64_t *tl = &p->tick_last[s - p->srv];
    if (ts > *tl)
        *tl = ts;
    if (data)
        ic_count(s, ts, B_DATA, 1);
    if (est)
        ic_count(s, ts, B_EST, 1);
}

void incident_apply_op(struct det *d, void *slice, uint64_t flow_id, const struct ic_op *op)
{
    ic_apply(d, slice, flow_id, op);
}

void incident_clock(struct det *d, uint64_t ts)
{
    struct ic *p = ic_of(d);
    if (ts > p->now_ns)
        p->now_ns = ts;
}

static void ic_on_flow_end(struct det *d, const struct flow *f, void *fs)
{
    struct ic *p = ic_of(d);
    struct ic_flow *st = fs;
    const struct flow_record *r = flow_rec(f);
    if (st->scan)
        return;
    struct ic_att *a = ic_att_of(p, st, r->flow_id);
    if (a) {
        ic_att_decide(p, a, p->now_ns, true);
        ic_att_release(p, a);
    }
    struct ic_srv *s = ic_srv_at(p, st->srv, st->srv_gen);
    if (!s)
        return;
    if (r->close == CLOSE_FIN || r->close == CLOSE_HALF_FIN)
        ic_count(s, r->last_ts_ns, B_FIN, 1);
    if (st->rst_suspect) {
        /* the sender's later packets with the reset's TTL: it was the endpoint's own */
        if (st->forged) {
            ic_count(s, st->rst_ns, B_FORGED, 1);
            ic_flow_ev(p, st, r->flow_id, &r->client.ip, IC_FORGED_RESETS, st->rst_ns, FK_RESET,
                       st->rst_frame);
        } else if (st->rst_dir == DIR_S2C) {
            ic_count(s, st->rst_ns, B_SRV_RESET, 1);
            ic_flow_ev(p, st, r->flow_id, &r->client.ip, IC_SERVER_RESETS, st->rst_ns, FK_RESET,
                       st->rst_frame);
        }
    }
}

static void ic_on_tick(struct det *d, uint64_t now)
{
    struct ic *p = ic_of(d);
    if (now > p->now_ns)
        p->now_ns = now;
    now = p->now_ns;
    for (int i = 0; i < IC_MAX_SERVERS; i++) { /* the plain segments' activity */
        if (!p->tick_last[i])
            continue;
        if (p->tick_last[i] > p->srv[i].last_ns)
            p->srv[i].last_ns = p->tick_last[i];
        p->tick_last[i] = 0;
    }
    for (uint32_t i = 0; i < IC_PENDING; i++)
        if (p->att[i].used)
            ic_att_decide(p, &p->att[i], now, false);
    for (int i = 0; i < IC_MAX_INC; i++)
        if (p->inc[i].used)
            ic_tick_inc(d, &p->inc[i], now);
}

/* Flow id's reset is explained by another cause (not a server abort of its own). */
static void ic_claim(struct ic_srv *s, uint64_t id)
{
    s->claimed[s->nclaimed] = id;
    s->nclaimed = (uint8_t)((s->nclaimed + 1) % IC_CERT_FLOWS);
}

/* Remember that flow id had a certificate finding on server s. */
static void ic_cert_flow(struct ic_srv *s, uint64_t id)
{
    s->cert_flow[s->ncert % IC_CERT_FLOWS] = id;
    s->ncert = (uint8_t)((s->ncert + 1) % (2 * IC_CERT_FLOWS));
}

static bool ic_is_cert_flow(const struct ic_srv *s, uint64_t id)
{
    for (int i = 0; i < IC_CERT_FLOWS; i++)
        if (id && s->cert_flow[i] == id)
            return true;
    return false;
}

/*
 * Remember that flow id's chain did not verify against the system trust store (kind k): that
 * alone is no incident (the clients' trust store may hold the private CA the sensor lacks),
 * but the client rejecting that very handshake makes it one (ic_on_tls).
 */
static void ic_chain_flow(struct ic_srv *s, uint64_t id, enum fkind k)
{
    s->chain_flow[s->nchain % IC_CERT_FLOWS] = id;
    s->chain_kind[s->nchain % IC_CERT_FLOWS] = (uint8_t)k;
    s->nchain = (uint8_t)((s->nchain + 1) % IC_CERT_FLOWS);
}

/* The chain finding kind of flow id, or -1 if its chain was not found wanting. */
static int ic_chain_kind(const struct ic_srv *s, uint64_t id)
{
    for (int i = 0; i < IC_CERT_FLOWS; i++)
        if (id && s->chain_flow[i] == id)
            return s->chain_kind[i];
    return -1;
}

/* The slot of server ep (index + 1) if it is tracked, else 0; changes nothing. */
static uint16_t ic_server_find(const struct ic *p, const struct endpoint *ep)
{
    uint16_t hint = p->hint[ic_hash(&ep->ip, ep->port) % IC_HINTS];
    if (hint && p->srv[hint - 1].used && ic_ep_eq(&p->srv[hint - 1].ep, ep))
        return hint;
    for (int i = 0; i < IC_MAX_SERVERS; i++)
        if (p->srv[i].used && ic_ep_eq(&p->srv[i].ep, ep))
            return (uint16_t)(i + 1);
    return 0;
}

/*
 * An http_5xx request as evidence of http_errors: its flow, response frame, client and the
 * request itself. Its timing (since, last evidence) and scope (responses, from the health
 * rows) are not touched, so the incident opens and closes on the health rows alone.
 */
static void ic_http_attach(struct ic_inc *in, const struct ic_http_ev *e)
{
    in->rec.kinds[e->kind]++;
    ic_add_u64(in->rec.flows, &in->rec.nflows, INC_FLOWS_MAX, e->req.flow_id);
    ic_add_u64(in->rec.frames, &in->rec.nframes, INC_FRAMES_MAX, e->req.frame);
    ic_add_client(in, &e->client);
    if (in->rec.nrequests < INC_REQUESTS_MAX)
        in->rec.requests[in->rec.nrequests++] = e->req;
}

/* The pending http_5xx requests of s become in's evidence (those of the window before
   since_ns on; older ones are dropped), or are dropped when in is NULL. */
static void ic_http_drain(const struct ic *p, struct ic_srv *s, struct ic_inc *in,
                          uint64_t since_ns)
{
    uint64_t from = ic_sub(since_ns, p->cfg.inc_window_ns);
    for (uint8_t i = 0; in && i < s->nhttp; i++)
        if (s->http[i].ts >= from)
            ic_http_attach(in, &s->http[i]);
    s->nhttp = 0;
}

/* An http_5xx finding (fk_info inc_role IR_ATTACHES): evidence for the server's candidate or
   incident of its cause (http_errors) if one is current, else kept until the health row of
   its interval. */
static void ic_http_5xx(struct ic *p, const struct finding *f)
{
    enum inc_cause cause = (enum inc_cause)fk_info(f->kind)->inc_cause;
    if (f->has_client && ic_client_is_scanner(p, &f->client.ip))
        return;
    uint16_t srv = ic_server_find(p, &f->server);
    if (!srv)
        return;
    struct ic_srv *s = &p->srv[srv - 1];
    struct ic_http_ev e;
    memset(&e, 0, sizeof(e));
    e.ts = f->ts_ns;
    e.kind = (uint8_t)f->kind;
    if (f->has_client)
        e.client = f->client.ip;
    e.req.flow_id = f->flow_id;
    e.req.frame = f->nframes ? f->frames[f->nframes - 1] : 0;
    e.req.status = f->fx.http.status;
    fx_copy(e.req.method, sizeof(e.req.method), f->fx.http.method);
    fx_copy(e.req.path, sizeof(e.req.path), f->fx.http.path);
    struct ic_inc *in = s->inc[cause] ? &p->inc[s->inc[cause] - 1] : NULL;
    if (in && (in->open || ic_sub(f->ts_ns, in->last_ev_ns) <= p->cfg.inc_window_ns)) {
        ic_http_attach(in, &e);
        return;
    }
    if (s->nhttp < IC_HTTP_PEND)
        s->http[s->nhttp++] = e;
}

static void ic_on_finding(struct det *d, const struct finding *f)
{
    struct ic *p = ic_of(d);
    const struct fk_info *ki = fk_info(f->kind);
    if (ki->inc_role == IR_ATTACHES) {
        ic_http_5xx(p, f);
        return;
    }
    if (ki->inc_role != IR_OPENS)
        return;
    /* the kind table says which cause a finding opens; what the finding adds is the cause's */
    enum inc_cause cause = (enum inc_cause)ki->inc_cause;
    bool aq = cause == IC_ACCEPT_QUEUE_OVERFLOW;
    bool chain = ki->cert_evidence == CE_CHAIN;
    /* a chain judged against --ca-file (error: the anchors the clients use) is evidence by
       itself, as an expired certificate is; against the system store it waits for a client
       to reject the handshake (ic_chain_flow) */
    bool cert = cause == IC_TLS_CERTIFICATE && (!chain || f->sev == SEV_ERROR);
    bool slow = cause == IC_SLOW_RESPONSES;
    if (f->has_client && ic_client_is_scanner(p, &f->client.ip))
        return;
    uint16_t srv = ic_server(p, &f->server, f->ts_ns);
    if (!srv)
        return;
    struct ic_srv *s = &p->srv[srv - 1];
    if (chain && !cert) {
        ic_chain_flow(s, f->flow_id, f->kind);
        return;
    }
    struct ic_ev e = {f->ts_ns, (int)f->kind, f->flow_id, f->nframes ? f->frames[0] : 0,
                      f->has_client ? &f->client.ip : NULL, true};
    struct ic_inc *in = s->inc[cause] ? &p->inc[s->inc[cause] - 1] : NULL;
    for (uint8_t i = 0; in && i < in->rec.nflows; i++)
        if (in->rec.flows[i] == f->flow_id)
            e.new_conn = false;
    if (aq) {
        ic_count(s, f->ts_ns, B_AQ, 1);
        ic_claim(s, f->flow_id);
    }
    if (cert) {
        ic_count(s, f->ts_ns, B_CERT, 1);
        ic_cert_flow(s, f->flow_id);
    }
    if (slow)
        ic_count(s, f->ts_ns, B_SLOW, 1);
    in = ic_evidence(p, srv, cause, &e);
    /* error evidence: a connection the accept queue failed (not one accepted late), or a
       certificate already invalid */
    if (in && aq && f->fx.estab.outcome != EO_DELAYED)
        in->err_sev = true;
    if (in && cert && f->sev == SEV_ERROR)
        in->err_sev = true;
    if (in && cert && ki->cert_expiry &&
        (in->days_left_set == false || f->fx.cert.days_left < in->days_left)) {
        in->days_left = f->fx.cert.days_left;
        in->days_left_set = true;
    }
}

/* Sub-reason of a failed handshake. */
static int ic_tls_sub(const struct tls_record *t)
{
    switch (t->outcome) {
    case TLS_NO_SERVER_HELLO: return SUB_NO_SERVER_HELLO;
    case TLS_REJECTED_INFERRED: /* the server's alert after the client's flight: its cert */
        return t->alert_from == DIR_S2C ? SUB_CLIENT_CERT : SUB_INFERRED;
    case TLS_RESET: return SUB_RESET;
    case TLS_CLOSED: return SUB_CLOSED;
    case TLS_STALLED: return SUB_STALLED;
    default: break;
    }
    switch (t->alert_desc) {
    case 70: /* protocol_version */
        return SUB_VERSION;
    case 40: /* handshake_failure: before a ServerHello, nothing in common was offered; after
                it, from the server, the client's certificate (or its absence) was refused */
        if (t->version == 0)
            return SUB_CIPHER;
        return t->alert_from == DIR_S2C ? SUB_CLIENT_CERT : SUB_OTHER_ALERT;
    case 71: /* insufficient_security */
        return SUB_CIPHER;
    case 116: /* certificate_required */
        return SUB_CLIENT_CERT;
    case 48: /* unknown_ca: from the server after its hello, it distrusts the client's cert */
        return t->alert_from == DIR_S2C && t->version ? SUB_CLIENT_CERT : SUB_UNKNOWN_CA;
    case 42: /* bad_certificate */
    case 43: /* unsupported_certificate */
    case 46: /* certificate_unknown */
        return t->alert_from == DIR_S2C ? SUB_CLIENT_CERT : SUB_UNKNOWN_CA;
    default:
        return SUB_OTHER_ALERT;
    }
}

/* An alert about the peer's certificate (or, for decrypt_error, a signature in it); -1 (an
   encrypted alert) counts too: the certificate is the usual reason then. */
static bool ic_cert_alert(int desc)
{
    return desc < 0 || desc == 42 || desc == 43 || desc == 44 || desc == 45 || desc == 46 ||
           desc == 48 || desc == 51;
}

static void ic_on_tls(struct det *d, const struct tls_record *t)
{
    struct ic *p = ic_of(d);
    if (t->outcome == TLS_IN_PROGRESS || ic_client_is_scanner(p, &t->client.ip))
        return;
    uint16_t srv = ic_server(p, &t->server, t->ts_ns);
    if (!srv)
        return;
    struct ic_srv *s = &p->srv[srv - 1];
    uint64_t ts = p->now_ns > t->ts_ns ? p->now_ns : t->ts_ns;
    struct ic_inc *ci = s->inc[IC_TLS_CERTIFICATE] ? &p->inc[s->inc[IC_TLS_CERTIFICATE] - 1] : NULL;
    bool cert_flow = ic_is_cert_flow(s, t->flow_id);
    if (ci && cert_flow && t->leaf_sha256[0] && !ci->bad_sha[0])
        snprintf(ci->bad_sha, sizeof(ci->bad_sha), "%s", t->leaf_sha256);
    if (t->outcome == TLS_COMPLETED) {
        ic_count(s, ts, B_TLS_OK, 1);
        if (ci && ci->bad_sha[0] && t->leaf_sha256[0] && strcmp(ci->bad_sha, t->leaf_sha256) != 0)
            ic_count(s, ts, B_TLS_NEWCERT, 1);
        return;
    }
    struct ic_ev e = {ts, FK_TLS_HANDSHAKE_FAILED, t->flow_id, 0, &t->client.ip, true};
    /* the client refused the server's flight: its alert, or (TLS 1.3) the inferred rejection */
    bool client_rejected = t->alert_from == DIR_C2S &&
                           (t->outcome == TLS_REJECTED_INFERRED ||
                            (t->outcome == TLS_FAILED_ALERT && ic_cert_alert(t->alert_desc)));
    int chain_kind = ic_chain_kind(s, t->flow_id);
    if (!cert_flow && chain_kind >= 0 && client_rejected) {
        /* a chain the system store does not verify, and the client rejects it too */
        ic_count(s, ts, B_CERT, 1);
        e.kind = chain_kind;
        struct ic_inc *in = ic_evidence(p, srv, IC_TLS_CERTIFICATE, &e);
        if (in) {
            in->err_sev = true;
            if (t->alert_desc > 0)
                in->alert_desc = t->alert_desc;
        }
        return;
    }
    /* the client itself says the certificate is expired or revoked (alert in the clear) */
    bool client_cert_alert = t->alert_from == DIR_C2S && (t->alert_desc == 44 || t->alert_desc == 45);
    if (client_cert_alert && !cert_flow) {
        ic_count(s, ts, B_CERT, 1);
        struct ic_inc *in = ic_evidence(p, srv, IC_TLS_CERTIFICATE, &e);
        if (in) {
            in->err_sev = true;
            in->alert_desc = t->alert_desc;
        }
        return;
    }
    if (cert_flow) {
        /* the certificate is why it failed: evidence for tls_certificate; a connection the
           client gave up on is an error whatever the certificate finding's own severity */
        ic_count(s, ts, B_CERT, 1);
        e.new_conn = false;
        struct ic_inc *in = ic_evidence(p, srv, IC_TLS_CERTIFICATE, &e);
        if (in && client_rejected) {
            in->err_sev = true;
            if (t->alert_desc > 0 && !in->alert_desc)
                in->alert_desc = t->alert_desc;
        }
        return;
    }
    ic_count(s, ts, B_TLS_FAIL, 1);
    if (t->outcome == TLS_RESET)
        ic_claim(s, t->flow_id); /* its reset is this failure, not a server abort */
    struct ic_inc *in = ic_evidence(p, srv, IC_TLS_HANDSHAKE, &e);
    if (in)
        in->sub[ic_tls_sub(t)]++;
}

static void ic_on_health(struct det *d, const struct health_row *h)
{
    struct ic *p = ic_of(d);
    uint64_t end = h->start_ns + h->len_ns;
    uint64_t ts = end > p->now_ns ? p->now_ns : end;
    if (ts && ts == end)
        ts--; /* inside the interval it describes */
    bool slow = h->slow_responses > 0 ||
                (h->resp_n >= 10 && !isnan(h->resp_p99) && h->resp_p99 > p->cfg.alert_resp_p99_s);
    bool err = h->http_5xx > 0;
    if (!h->resp_n && !h->http_requests && !slow && !err)
        return;
    uint16_t srv = ic_server(p, &h->server, ts);
    if (!srv)
        return;
    struct ic_srv *s = &p->srv[srv - 1];
    ic_count(s, ts, B_RESP_N, (int)(h->resp_n ? h->resp_n : h->slow_responses));

    bool p99_bad =
        h->resp_n >= 10 && !isnan(h->resp_p99) && h->resp_p99 > p->cfg.alert_resp_p99_s;
    if (p99_bad && !h->slow_responses) /* else the slow_response findings carry the times */
        ic_count(s, ts, B_P99_BAD, 1);
    else if (h->resp_n && !h->slow_responses && !p99_bad)
        ic_count(s, ts, B_ROW_FAST, 1); /* a whole interval of timely responses */
    uint64_t req = h->http_requests > h->http_5xx ? h->http_requests : h->http_5xx;
    ic_count(s, ts, B_REQ, (int)req);
    ic_count(s, ts, B_5XX, (int)h->http_5xx);
    struct ic_ev e = {ts, -1, 0, 0, NULL, false};
    if (slow && !h->slow_responses) { /* p99 alone (the slow ones come as findings) */
        struct ic_inc *in = ic_evidence(p, srv, IC_SLOW_RESPONSES, &e);
        if (in && !isnan(h->resp_p99) && h->resp_p99 > in->resp_p99)
            in->resp_p99 = h->resp_p99;
        if (in && !isnan(h->hs_rtt_p50))
            in->hs_p50 = h->hs_rtt_p50;
    }
    if (err) {
        e.new_conn = false;
        struct ic_inc *in = ic_evidence(p, srv, IC_HTTP_ERRORS, &e);
        if (in) { /* its scope is in responses: 5xx of all */
            in->rec.conns_affected += h->http_5xx;
            in->http_total += req;
        }
        ic_http_drain(p, s, in, h->start_ns);
    }
}

static void ic_on_finish(struct det *d)
{
    struct ic *p = ic_of(d);
    ic_on_tick(d, p->now_ns);
    for (int i = 0; i < IC_MAX_INC; i++) {
        struct ic_inc *in = &p->inc[i];
        if (!in->used)
            continue;
        if (in->open) {
            uint32_t c[B__COUNT];
            struct ic_srv *s = ic_srv_at(p, in->srv, in->srv_gen);
            uint64_t sec = p->now_ns / NS_PER_S;
            if (s)
                ic_sum(s, ic_sub(sec, ic_window_s(p)) + 1, sec, c);
            ic_close(d, in, p->now_ns, ICR_END_OF_INPUT, p->now_ns, s ? c : NULL);
        } else
            ic_inc_free(p, in);
    }
}

/* ---- the per-flow half ---- */

/* The sink of this thread's per-flow halves (incident_set_thread_sink). */
static _Thread_local void (*ic_sink)(void *ctx, const struct flow *f, const struct ic_op *op);
static _Thread_local void *ic_sink_ctx;

void incident_set_thread_sink(void (*fn)(void *ctx, const struct flow *f, const struct ic_op *op),
                              void *ctx)
{
    ic_sink = fn;
    ic_sink_ctx = ctx;
}

static struct ic_fflow *icf_slice(const struct icf *h, const struct flow *f)
{
    return (struct ic_fflow *)(void *)((uint8_t *)det_state(h->d, f) + h->fl_off);
}

/* Set up h for detector d; batch: the per-flow half's (a list of flows to flush at ticks). */
static int icf_init(struct icf *h, struct det *d, const struct eng_config *cfg, bool batch)
{
    struct eng_config def;
    eng_config_default(&def);
    h->d = d;
    h->stall_ns = cfg->inc_stall_ns ? cfg->inc_stall_ns : def.inc_stall_ns;
    if (!batch)
        return 0;
    size_t flows = cfg->max_flows ? cfg->max_flows : 262144;
    h->max = flows < UINT32_MAX / 2 ? (uint32_t)flows : UINT32_MAX / 2;
    h->cap = h->max < 4096 ? h->max : 4096;
    h->dirty = calloc(h->cap, sizeof(*h->dirty));
    return h->dirty ? 0 : ERR_NOMEM;
}

/*
 * Flow f's op: its pending counts go with it (they came before), then to the server side at
 * once (the whole detector) or to the sink (the per-flow half; worker.c sends it keyed at
 * this moment, the server half applies it there).
 */
static void icf_send(struct icf *h, const struct flow *f, struct ic_fflow *st, struct ic_op *op)
{
    const struct flow_record *r = flow_rec(f);
    if (st->p_any)
        op->what |= ICW_PEND;
    op->n_data = st->p_data;
    op->n_est = st->p_est;
    op->p_last = st->p_last;
    st->p_data = st->p_est = 0;
    st->p_last = 0;
    st->p_any = false;
    op->client = r->client.ip;
    op->server = r->server;
    if (h->whole) { /* st is in the whole's slice, beside its server side */
        struct ic_flow *sv = (struct ic_flow *)(void *)((uint8_t *)st - h->fl_off + h->sv_off);
        ic_apply(h->d, sv, r->flow_id, op);
    } else if (ic_sink) {
        ic_sink(ic_sink_ctx, f, op);
    }
}

/* Every flow's pending counts, before the server side's tick reads them (and at finish). */
static void icf_flush_all(struct icf *h)
{
    for (uint32_t i = 0; i < h->ndirty; i++) {
        const struct flow *f = det_flow_of_node(h->d, h->dirty[i]);
        if (!f)
            continue; /* ended (its end sent its counts), or its entry now a SYN-only flow's */
        struct ic_fflow *st = icf_slice(h, f);
        st->listed = false;
        if (!st->p_any)
            continue; /* sent with an op or listed twice (its entry was reused) */
        struct ic_op op;
        memset(&op, 0, sizeof(op));
        icf_send(h, f, st, &op);
    }
    h->ndirty = 0;
}

/* List flow f (st) for the next tick's flush: twice the entries when full (rare: once per
   doubling of the flows with plain segments in one second, never per packet), up to h->max
   (entries of flows that ended stay until the tick: without a bound, churn would grow it). */
static bool icf_list(struct icf *h, const struct flow *f, struct ic_fflow *st)
{
    if (h->ndirty == h->cap) {
        if (h->cap >= h->max)
            return false;
        uint32_t cap = h->cap > h->max / 2 ? h->max : 2 * h->cap;
        const struct flow_node **n = realloc(h->dirty, sizeof(*h->dirty) * cap);
        if (!n)
            return false;
        h->dirty = n;
        h->cap = cap;
    }
    h->dirty[h->ndirty++] = det_node_of(f);
    st->listed = true;
    return true;
}

/*
 * Zero windows: a side that keeps its window at zero for the stall time has stalled (true:
 * ICW_STALL, once per side; st->zw_ns and zw_frame say since when).
 */
static bool icf_zero_window(const struct icf *h, struct ic_fflow *st, const struct pkt *pk,
                            const struct tcp_seg *sg)
{
    int dir = sg->dir;
    bool stall = false;
    if (sg->ev & (1u << TEV_ZERO_WINDOW)) {
        if (!st->zw[dir]) {
            st->zw[dir] = true;
            st->zw_ns[dir] = pk->ts_ns;
            st->zw_frame[dir] = pk->frame;
        } else if (!st->zw_done[dir] && ic_sub(pk->ts_ns, st->zw_ns[dir]) >= h->stall_ns) {
            stall = true;
        }
    } else if (pk->win != 0 && !(pk->flags & (TCP_SYN | TCP_RST)) && st->zw[dir]) {
        st->zw[dir] = false; /* reopened: a stall if it was held long enough */
        stall = !st->zw_done[dir] && ic_sub(pk->ts_ns, st->zw_ns[dir]) >= h->stall_ns;
    }
    if (stall)
        st->zw_done[dir] = true;
    return stall;
}

/*
 * One segment of flow f: what it means for its server, as ic_apply's order lists it. The
 * rare segments are an op each; a plain one (data, the handshake ACK, any other segment: the
 * server's activity) only adds to the flow's pending counts, sent with the flow's next op,
 * at its end or at the next tick (see "Batching" below).
 */
static void icf_packet(struct icf *h, const struct flow *f, struct ic_fflow *st,
                       const struct pkt *pk, const struct tcp_seg *sg)
{
    uint32_t what = 0;
    int dir = sg->dir;
    if (sg->flow_new)
        what |= ICW_START;
    if (st->rst_suspect && dir == st->rst_dir && !(pk->flags & TCP_RST) &&
        pk->ttl == st->rst_ttl)
        st->after_same++;
    if (sg->syn && dir == DIR_C2S) {
        what |= ICW_SYN;
        st->fl |= IFF_ATTEMPT;
    }
    if (dir == DIR_S2C && !sg->synack && !(pk->flags & TCP_RST) &&
        (st->fl & (IFF_ATTEMPT | IFF_ANSWERED | IFF_STALE)) == IFF_ATTEMPT) {
        what |= ICW_STALE; /* the server half drops its pending attempt (once) */
        st->fl |= IFF_STALE;
    }
    if (sg->synack && !(st->fl & IFF_ANSWERED)) {
        what |= ICW_SYNACK;
        st->fl |= IFF_ANSWERED;
    }
    if (sg->rst == RST_ANSWER_TO_SYN) {
        what |= ICW_REFUSE;
    } else if (sg->rst != RST_NONE && sg->rst_ttl_mismatch && !st->rst_suspect) {
        st->rst_suspect = true; /* judged at flow end (later packets may revise) */
        st->rst_dir = (int8_t)dir;
        st->rst_ttl = pk->ttl;
        st->rst_ns = pk->ts_ns;
        st->rst_frame = pk->frame;
    } else if (sg->rst == RST_MID && dir == DIR_S2C && !st->rst_suspect) {
        what |= ICW_SRV_RESET;
    }
    if (icf_zero_window(h, st, pk, sg))
        what |= ICW_STALL;
    if (sg->ev & (1u << TEV_CAPTURE_LOSS))
        what |= ICW_CAPLOSS;
    bool data = sg->data && !(pk->flags & TCP_SYN);
    if (data && (sg->ev & (1u << TEV_LOST_SEGMENT)))
        what |= ICW_LOST;
    if (data && sg->loss_retrans)
        what |= ICW_RETX;
    if (!what && h->whole) { /* plain, in one engine: counted at once */
        struct ic_flow *sv = (struct ic_flow *)(void *)((uint8_t *)st - h->fl_off + h->sv_off);
        ic_plain(h->whole, sv, pk->ts_ns, data, sg->hs_ack);
        return;
    }
    if (!what) {
        /* plain: counted for the flow, by second (a clock moved back flushes first) */
        if (st->p_any && st->p_last / NS_PER_S != pk->ts_ns / NS_PER_S) {
            struct ic_op c;
            memset(&c, 0, sizeof(c));
            icf_send(h, f, st, &c);
        }
        st->p_data += data;
        st->p_est += sg->hs_ack;
        st->p_last = pk->ts_ns;
        st->p_any = true;
        if (!st->listed && !icf_list(h, f, st)) {
            struct ic_op c; /* list full: sent now (ICW_PEND, read at the tick: the same) */
            memset(&c, 0, sizeof(c));
            icf_send(h, f, st, &c);
        }
        return;
    }
    struct ic_op op;
    memset(&op, 0, sizeof(op));
    op.what = what | ICW_SEG | (data ? ICW_DATA : 0) | (sg->hs_ack ? ICW_EST : 0);
    op.dir = (uint8_t)dir;
    op.flags = pk->flags;
    op.seq = pk->seq;
    op.ack = pk->ack;
    op.ev = sg->ev;
    op.ts = pk->ts_ns;
    op.frame = pk->frame;
    op.lost = flow_rec(f)->ev[dir][TEV_LOST_SEGMENT];
    if (what & ICW_STALL) {
        op.stall_dir = (uint8_t)dir;
        op.zw_ns = st->zw_ns[dir];
        op.zw_frame = st->zw_frame[dir];
    }
    op.rst_dir = -1;
    icf_send(h, f, st, &op);
}

/* Flow f ends: its pending counts, and the reset it suspected with its verdict. */
static void icf_flow_end(struct icf *h, const struct flow *f, struct ic_fflow *st)
{
    if (!st->p_any && !st->rst_suspect)
        return;
    struct ic_op op;
    memset(&op, 0, sizeof(op));
    op.rst_dir = -1;
    if (st->rst_suspect) {
        op.what = ICW_END;
        op.rst_dir = st->rst_dir;
        op.rst_ns = st->rst_ns;
        op.rst_frame = st->rst_frame;
        op.forged = st->after_same == 0;
    }
    icf_send(h, f, st, &op);
}

/*
 * Batching: what the per-flow half keeps back, and why no rule can tell.
 *
 * A plain segment (no op above) changes, in the whole detector, only its server's bucket
 * counts B_DATA and B_EST of its second and the server's last activity (and the clock,
 * below). One engine applies it at once (ic_plain); the per-flow half counts it in the flow
 * and sends the counts with the flow's next op, at its end and at every tick (icf_flush_all:
 * worker.c places the half before the server half's group, so this comes before its tick,
 * key sub 2 < 3), and when a segment of another second comes without a tick between (the
 * clock moved back), first. ic_apply (ICW_PEND) does what ic_plain does. They are read:
 * - B_DATA, B_EST: by ic_judge and ic_severity/ic_summary (the window sums c, cs), only on a
 *   tick (ic_tick_inc) or at finish (ic_on_finish). ic_attempts_before (a new candidate, at
 *   any op, finding, TLS record or health row) sums only B_ATTEMPTS; ic_after_answered and
 *   ic_mixed (ticks) read only attempt counters, which ops set (SYN, SYN-ACK, refusal) or
 *   ticks and flow ends (ic_att_decide). ic_on_synack, ic_on_finding, ic_on_tls, ic_on_health
 *   and ic_apply only add to buckets and incidents (lost_dir, retx_dir: only at the ops
 *   ICW_LOST, ICW_RETX, sent at that segment). So a count only has to be in its bucket by the
 *   next tick.
 * - Last activity: by ic_pool (emit: ticks, finish) and by ic_server's choice of the least
 *   recently active server to recycle when all IC_MAX_SERVERS slots are taken, which can
 *   happen between ticks (a new flow, finding, TLS record or health row). So plain segments
 *   go to ic_srv.tick_last, which ic_on_tick folds into last_ns; ops set last_ns at once.
 *   Between ticks the choice sees the plain segments up to the last tick and every op: the
 *   same for every N and in one engine (the one change this cut made: before, the choice saw
 *   every segment's time; it is an LRU choice within the current second).
 * - A bucket's second: a count goes to the second of its segment, flushed within the second;
 *   only a count older than the ring (64 s) behind the server's newest second could land
 *   where a later flush has not yet moved that newest second.
 * - The clock (ic.now_ns, the newest segment time of any flow): read between ticks by
 *   ic_on_health (the row's time), ic_on_tls (the record's) and ic_on_flow_end (whether a
 *   lone SYN waited long enough). The whole detector sees every segment; the server half
 *   gets the ops' times and, from worker.c, before each record, the newest time of the
 *   segments before its position (incident_clock; offline exact: worker 0 sends it per
 *   batch from the timeline every worker gets; live, the ops' times and ticks only).
 * The ops themselves are applied where the whole detector did the same, in the same order:
 * keyed at their segment, after the server-table detectors and det_tls (as in det_table).
 */

static int icf_flow_init(struct det *d, const struct eng_config *cfg)
{
    struct icf *h = calloc(1, sizeof(*h));
    if (!h)
        return ERR_NOMEM;
    if (icf_init(h, d, cfg, true) != 0) {
        free(h);
        return ERR_NOMEM;
    }
    d->priv = h;
    return 0;
}

static void icf_flow_free(struct det *d)
{
    struct icf *h = d->priv;
    if (!h)
        return;
    free(h->dirty);
    free(h);
    d->priv = NULL;
}

static void icf_on_packet(struct det *d, const struct flow *f, void *fs, const struct pkt *p,
                          const struct tcp_seg *s)
{
    icf_packet(d->priv, f, fs, p, s);
}

static void icf_on_flow_end(struct det *d, const struct flow *f, void *fs)
{
    icf_flow_end(d->priv, f, fs);
}

static void icf_on_tick(struct det *d, uint64_t now_ns)
{
    (void)now_ns;
    icf_flush_all(d->priv);
}

static void icf_on_finish(struct det *d)
{
    icf_flush_all(d->priv); /* nothing: every flow ended first */
}

/* ---- the whole detector: both halves, each op applied at once ---- */

static int ic_whole_init(struct det *d, const struct eng_config *cfg)
{
    int rc = ic_init(d, cfg);
    if (rc != 0)
        return rc;
    struct ic *p = ic_of(d);
    if (icf_init(&p->fh, d, cfg, false) != 0) {
        ic_free(d);
        return ERR_NOMEM;
    }
    p->fh.whole = p;
    p->fh.fl_off = offsetof(struct ic_whole, fl);
    p->fh.sv_off = offsetof(struct ic_whole, sv);
    return 0;
}

static void ic_whole_packet(struct det *d, const struct flow *f, void *fs, const struct pkt *p,
                            const struct tcp_seg *s)
{
    struct ic *ic = ic_of(d);
    struct ic_whole *st = fs;
    if (p->ts_ns > ic->now_ns)
        ic->now_ns = p->ts_ns;
    icf_packet(&ic->fh, f, &st->fl, p, s);
}

static void ic_whole_flow_end(struct det *d, const struct flow *f, void *fs)
{
    struct ic_whole *st = fs;
    icf_flow_end(&ic_of(d)->fh, f, &st->fl);
    ic_on_flow_end(d, f, &st->sv);
}

/*
 * The slice of a compact flow (client SYNs only): server slot and generation, the pending
 * attempt and three flags; the SYN count and first SYN time are the flow's (ic_unpack_more;
 * flow.h; the engine checks that it unpacks byte for byte). The per-flow half keeps its
 * flags.
 */
static const struct det_small_field ic_small[] = {
    DET_SMALL(struct ic_flow, srv),  DET_SMALL(struct ic_flow, srv_gen),
    DET_SMALL(struct ic_flow, pend), DET_SMALL(struct ic_flow, srv_done),
    DET_SMALL(struct ic_flow, scan), DET_SMALL(struct ic_flow, attempt),
};

static const struct det_small_field icf_small[] = {
    DET_SMALL(struct ic_fflow, fl),
};

static const struct det_small_field ic_whole_small[] = {
    DET_SMALL(struct ic_whole, sv.srv),  DET_SMALL(struct ic_whole, sv.srv_gen),
    DET_SMALL(struct ic_whole, sv.pend), DET_SMALL(struct ic_whole, sv.srv_done),
    DET_SMALL(struct ic_whole, sv.scan), DET_SMALL(struct ic_whole, sv.attempt),
    DET_SMALL(struct ic_whole, fl.fl),
};

/* What a compact flow's slice takes from the flow: the counted attempt's SYNs. */
static void ic_unpack_more(const struct flow *f, void *fs)
{
    struct ic_flow *st = fs;
    const struct flow_record *r = flow_rec(f);
    if (st->attempt) {
        st->nsyn = r->syn_count;
        st->syn_ns = r->first_ts_ns;
    }
}

static void ic_whole_unpack_more(const struct flow *f, void *fs)
{
    ic_unpack_more(f, &((struct ic_whole *)fs)->sv);
}

const struct det_ops det_incident_ops = {
    .name = "incident",
    .flow_state_size = sizeof(struct ic_whole),
    .init = ic_whole_init,
    .on_packet = ic_whole_packet,
    .on_flow_end = ic_whole_flow_end,
    .on_tick = ic_on_tick,
    .on_finding = ic_on_finding,
    .on_finish = ic_on_finish,
    .free = ic_free,
    .on_health = ic_on_health,
    .on_tls = ic_on_tls,
    .small = ic_whole_small,
    .nsmall = NELEM(ic_whole_small),
    .unpack_more = ic_whole_unpack_more,
};

const struct det_ops det_incident_srv_ops = {
    .name = "incident-srv",
    .flow_state_size = sizeof(struct ic_flow),
    .init = ic_init,
    .on_flow_end = ic_on_flow_end,
    .on_tick = ic_on_tick,
    .on_finding = ic_on_finding,
    .on_finish = ic_on_finish,
    .free = ic_free,
    .on_health = ic_on_health,
    .on_tls = ic_on_tls,
    .small = ic_small,
    .nsmall = NELEM(ic_small),
    .unpack_more = ic_unpack_more,
};

const struct det_ops det_incident_flow_ops = {
    .name = "incident-flow",
    .flow_state_size = sizeof(struct ic_fflow),
    .init = icf_flow_init,
    .on_packet = icf_on_packet,
    .on_flow_end = icf_on_flow_end,
    .on_tick = icf_on_tick,
    .on_finish = icf_on_finish,
    .free = icf_flow_free,
    .small = icf_small,
    .nsmall = NELEM(icf_small),
};
