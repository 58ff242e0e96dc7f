/*
 * engine.c - packets in, records out: the flow table, TCP analysis and the detector table,
 * driven only by packet timestamps (never the wall clock). Every record leaves through one
 * sink_ops (eng_out), in the order it was made.
 */
#include "analyzers/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/det.h"
#include "analyzers/flow.h"
#include "analyzers/pool.h"
#include "analyzers/scan.h"
#include "analyzers/stream.h"
#include "analyzers/tcp.h"

#define ENG_MAX_DETS 32           /* detectors in det_table */
#define ENG_MALFORMED_FINDINGS 100 /* malformed frames written as findings; the rest counted */
#define ENG_DEDUP_ORDER 14        /* 2^14 frame signatures (128 KiB: stays in cache) */

/* The engine: everything one analysis run owns. */
struct engine {
    struct eng_config cfg;                 /* options (a copy) */
    const struct sink_ops *out;            /* where records go (cli: the output queue) */
    void *out_ctx;                         /* its state */
    struct det dets[ENG_MAX_DETS];         /* detector instances, det_table order */
    size_t ndets;                          /* dets[] used */
    size_t ext_size;                       /* per-flow detector state, all detectors */
    struct flow_table *ft;                 /* the flows */
    struct tcp_dedup *dedup;               /* SPAN duplicate filter */
    struct eng_stats st;                   /* live counters */
    uint64_t next_flow_id;                 /* last flow id given out */
    uint64_t now_ns;                       /* newest capture time seen */
    uint64_t first_ts_ns;                  /* first capture time seen */
    uint64_t tick_sec;                     /* second of the last on_tick */
    bool ticked;                           /* on_tick ran at least once */
    bool in_on_finding;                    /* inside detectors' on_finding: no recursion */
    uint64_t malformed;                    /* eng_malformed calls */
    uint32_t data_retrans_ev;              /* TEV bits that make a data segment a data
                                              retransmission (from the finding-kind table) */
    uint32_t loss_retrans_ev;              /* those of them that are evidence of loss */
    uint64_t last_flow_id;                 /* flow of the last eng_packet, 0 if none */
    size_t flow_fixed;                     /* bytes of a flow's table entry (every flow) */
    struct pool *tcp_loss;                 /* TCP analysis' loss bookkeeping, two per flow */
    struct scan_table *scans;              /* who scans (fed here, read by detectors) */
    struct stream_layer *streams;          /* reassembly and delivery to stream parsers */
    bool ids_from_frames;                  /* flow id = first frame (workers: unique across
                                              them; the aggregator numbers flows) */
};

/* Bytes of lazy blocks handed out now: detectors' and TCP analysis' pools. */
static uint64_t eng_lazy_bytes(const struct engine *e)
{
    struct pool_stats ps;
    uint64_t bytes = 0;
    for (size_t i = 0; i < e->ndets; i++) {
        if (e->dets[i].lazy) {
            pool_get_stats(e->dets[i].lazy, &ps);
            bytes += (uint64_t)ps.used * ps.block;
        }
    }
    if (e->tcp_loss) {
        pool_get_stats(e->tcp_loss, &ps);
        bytes += (uint64_t)ps.used * ps.block;
    }
    if (e->ft) {
        struct flow_mem_stats fm;
        flow_table_get_mem(e->ft, &fm);
        bytes += (uint64_t)fm.blocks_used * fm.block_bytes;
    }
    if (e->streams)
        bytes += stream_layer_bytes(e->streams);
    return bytes;
}

/* Per-flow bytes in use now (fixed part of every flow + lazy blocks); remember the peak. */
static void eng_state_peak(struct engine *e)
{
    uint64_t n = flow_count(e->ft);
    uint64_t bytes = n * e->flow_fixed + eng_lazy_bytes(e);
    if (bytes > e->st.state_peak_bytes) {
        e->st.state_peak_bytes = bytes;
        e->st.state_peak_flows = n;
    }
}

const struct flow *det_flow_of_node(const struct det *d, const struct flow_node *n)
{
    return flow_of_node(d->eng->ft, n);
}

const struct flow_node *det_node_of(const struct flow *f)
{
    return f->node;
}

void *det_state(const struct det *d, const struct flow *f)
{
    return f->ext + d->off;
}

void det_count_http_reclaim(struct det *d)
{
    d->eng->st.http_reclaimed++;
}

void *det_lazy_get(struct det *d, uint32_t *h)
{
    if (!d->lazy)
        return NULL;
    if (*h)
        return pool_at(d->lazy, *h);
    *h = pool_get(d->lazy);
    if (!*h) {
        d->eng->st.lazy_exhausted++;
        return NULL;
    }
    eng_state_peak(d->eng);
    return pool_at(d->lazy, *h);
}

void *det_lazy_block(const struct det *d, uint32_t h)
{
    return d->lazy && h ? pool_at(d->lazy, h) : NULL;
}

void det_lazy_put(struct det *d, uint32_t *h)
{
    if (!d->lazy || !*h)
        return;
    pool_put(d->lazy, *h);
    *h = 0;
}

/* The TCP events whose kinds count as data retransmissions (fk_info), and as evidence of loss
   too if loss (the kind table: nothing else says what a kind means). */
static uint32_t eng_data_retrans_events(bool loss)
{
    uint32_t m = 0;
    for (int k = 0; k < FK__COUNT; k++) {
        const struct fk_info *i = fk_info((enum fkind)k);
        if (i->data_retransmission && (!loss || i->loss_evidence) && i->tev >= 0 &&
            i->tev < TEV__COUNT)
            m |= 1u << i->tev;
    }
    return m;
}

/* Classify segment s of flow record r as data / data retransmission and count it. */
static void eng_count_data(const struct engine *e, struct flow_record *r, int dir,
                           struct tcp_seg *s)
{
    s->data = s->len > 0 && !(s->ev & (1u << TEV_KEEP_ALIVE));
    s->data_retrans = s->data && (s->ev & e->data_retrans_ev) != 0;
    s->loss_retrans = s->data && (s->ev & e->loss_retrans_ev) != 0;
    if (s->data)
        r->data_segs[dir]++;
    if (s->data_retrans)
        r->data_retrans[dir]++;
}

/* Bytes of each stream window (--stream-cap; at least 1 KiB). */
static size_t eng_stream_cap(const struct eng_config *cfg)
{
    size_t cap = cfg->stream_cap ? cfg->stream_cap : 16384;
    return cap < 1024 ? 1024 : cap;
}

void eng_config_default(struct eng_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_flows = 262144;
    cfg->idle_timeout_ns = 300 * NS_PER_S;
    cfg->closed_linger_ns = 5 * NS_PER_S;
    cfg->dup_window_ns = 1000000; /* 1 ms */
    cfg->notable_events = 1;
    cfg->stream_cap = 16 * 1024;
    cfg->stream_buffers = 4096;
    cfg->health_interval_ns = 10 * NS_PER_S;
    cfg->slow_response_s = 5.0;
    cfg->alert_error_rate = 0.05;
    cfg->alert_retrans_rate = 0.05;
    cfg->alert_resp_p99_s = 5.0;
    cfg->cert_expiring_days = 30;
    cfg->tls_stall_ns = 10 * NS_PER_S;
    cfg->slow_handshake_ns = NS_PER_S;
    cfg->tls_keylog = NULL;
    cfg->alert_open_intervals = 1;
    cfg->alert_clear_intervals = 3;
    cfg->alert_clear_ratio = 0.8;
    cfg->tcp_report_ns = 60 * NS_PER_S;
    cfg->inc_window_ns = 10 * NS_PER_S;
    cfg->inc_clear_ns = 5 * NS_PER_S;
    cfg->inc_quiet_ns = 60 * NS_PER_S;
    cfg->inc_update_ns = 10 * NS_PER_S;
    cfg->inc_min_failures = 2;
    cfg->inc_min_attempts = 10;
    cfg->inc_min_data_segs = 20;
    cfg->inc_min_requests = 5;
    cfg->inc_min_slow = 2;
    cfg->inc_min_resets = 1;
    cfg->inc_stall_ns = NS_PER_S;
    cfg->inc_scan_targets = 20;
}

/* Hand a copy of the record at p (of type t) to the output: the one place records leave. */
static void eng_out(struct engine *e, enum out_type t, const void *p)
{
    struct out_rec r;
    if (!e->out)
        return;
    out_rec_set(&r, t, p);
    e->out->put(e->out_ctx, &r);
}

/* Hand a finding to the output and (once, no recursion) to the detectors. */
static void eng_emit(struct engine *e, const struct finding *f)
{
    if ((unsigned)f->kind < FK__COUNT)
        e->st.findings[f->kind]++;
    eng_out(e, OUT_FINDING, f);
    if (e->in_on_finding)
        return;
    e->in_on_finding = true;
    for (size_t i = 0; i < e->ndets; i++)
        if (e->dets[i].ops->on_finding)
            e->dets[i].ops->on_finding(&e->dets[i], f);
    e->in_on_finding = false;
}

void det_emit(struct det *d, const struct finding *f)
{
    if (d && d->eng && f)
        eng_emit(d->eng, f);
}

uint64_t det_clock(const struct det *d)
{
    return d && d->eng ? d->eng->now_ns : 0;
}

void det_emit_health(struct det *d, const struct health_row *h)
{
    struct engine *e = d->eng;
    eng_out(e, OUT_HEALTH, h);
    for (size_t i = 0; i < e->ndets; i++)
        if (e->dets[i].ops->on_health && &e->dets[i] != d)
            e->dets[i].ops->on_health(&e->dets[i], h);
}

void det_emit_tls(struct det *d, const struct tls_record *t)
{
    struct engine *e = d->eng;
    eng_out(e, OUT_TLS, t);
    for (size_t i = 0; i < e->ndets; i++)
        if (e->dets[i].ops->on_tls && &e->dets[i] != d)
            e->dets[i].ops->on_tls(&e->dets[i], t);
}

void det_emit_incident(struct det *d, const struct incident_record *r)
{
    eng_out(d->eng, OUT_INCIDENT, r);
}

void det_emit_cert(struct det *d, const struct cert_record *c)
{
    eng_out(d->eng, OUT_CERT, c);
}

void det_emit_http(struct det *d, const struct http_record *r)
{
    eng_out(d->eng, OUT_HTTP, r);
}

void det_finding_init(struct finding *out, const struct flow *f, enum fkind k,
                      enum severity sev, uint64_t ts_ns)
{
    memset(out, 0, sizeof(*out));
    out->ts_ns = ts_ns;
    out->kind = k;
    out->sev = sev;
    out->confidence = 1.0f;
    if (f) {
        out->flow_id = f->rec.flow_id;
        out->has_client = true;
        out->client = f->rec.client;
        out->server = f->rec.server;
    }
}

const struct tcp_half *flow_half(const struct flow *f, int dir)
{
    return &f->half[dir == DIR_C2S ? DIR_C2S : DIR_S2C];
}

const struct flow_record *flow_rec(const struct flow *f)
{
    return &f->rec;
}

/*
 * Only one direction of f was captured. A lone SYN (and its retries) is not counted: an
 * unanswered SYN is the establishment detector's business, not a capture problem.
 */
static bool eng_one_direction(const struct flow *f)
{
    return !(f->half[DIR_C2S].seen && f->half[DIR_S2C].seen) && f->rec.state != FS_SYN_SENT;
}

/*
 * Report flow f as ended: its close reason, detectors' last word, then the sinks.
 * The caller releases it (or flow_create reuses it).
 */
static void eng_close_flow(struct engine *e, struct flow *f, enum flow_close why)
{
    struct flow_record *r = &f->rec;
    if (!f->closed || r->close == CLOSE_OPEN) {
        if (r->state == FS_SYN_SENT && why != CLOSE_EVICTED)
            r->close = CLOSE_UNANSWERED;
        else if (r->state == FS_FIN_WAIT && (why == CLOSE_IDLE || why == CLOSE_OPEN))
            r->close = CLOSE_HALF_FIN;
        else
            r->close = why;
    }
    r->one_direction = eng_one_direction(f);
    for (size_t i = 0; i < e->ndets; i++)
        if (e->dets[i].ops->on_flow_end)
            e->dets[i].ops->on_flow_end(&e->dets[i], f, f->ext + e->dets[i].off);
    stream_layer_flow_end(e->streams, f);
    eng_out(e, OUT_FLOW, r);
    tcp_flow_end(f, e->tcp_loss);
}

static void eng_end_flow(struct engine *e, struct flow *f, enum flow_close why)
{
    eng_close_flow(e, f, why);
    flow_release(e->ft, f);
}

/* flow_create's eviction callback: the table is full and f is the least recently used. */
static void eng_evict(void *ctx, struct flow *f)
{
    struct engine *e = ctx;
    e->st.evicted++;
    eng_close_flow(e, f, CLOSE_EVICTED);
}

/* Bytes of a detector's small form: its det_ops.small fields, packed. */
static size_t eng_small_size(const struct det_ops *o)
{
    size_t n = 0;
    for (size_t j = 0; j < o->nsmall; j++)
        n += o->small[j].size;
    return n;
}

/*
 * flow_compact's pack: every detector's small form, one after the other; a small form is the
 * slice's det_ops.small fields, one after the other.
 */
static void eng_pack(void *ctx, const struct flow *f, uint8_t *small)
{
    const struct engine *e = ctx;
    for (size_t i = 0; i < e->ndets; i++) {
        const struct det *d = &e->dets[i];
        const uint8_t *fs = f->ext + d->off;
        uint8_t *to = small + d->small_off;
        for (size_t j = 0; j < d->ops->nsmall; j++) {
            const struct det_small_field *x = &d->ops->small[j];
            memcpy(to, fs + x->off, x->size);
            to += x->size;
        }
    }
}

/* flow_compact's unpack: the detectors' slices of a compact flow back from their small forms. */
static void eng_unpack(void *ctx, struct flow *f, const uint8_t *small)
{
    const struct engine *e = ctx;
    for (size_t i = 0; i < e->ndets; i++) {
        const struct det *d = &e->dets[i];
        uint8_t *fs = f->ext + d->off;
        const uint8_t *from = small + d->small_off;
        for (size_t j = 0; j < d->ops->nsmall; j++) {
            const struct det_small_field *x = &d->ops->small[j];
            memcpy(fs + x->off, from, x->size);
            from += x->size;
        }
        if (d->ops->unpack_more)
            d->ops->unpack_more(f, fs);
    }
}

struct engine *eng_new(const struct eng_config *cfg, const struct sink_ops *out, void *out_ctx)
{
    return eng_new_dets(cfg, det_table, out, out_ctx);
}

struct engine *eng_new_dets(const struct eng_config *cfg, const struct det_ops *const *table,
                            const struct sink_ops *out, void *out_ctx)
{
    if (!cfg || cfg->max_flows == 0 || (out && !out->put) || cfg->nservers > ENG_MAX_SERVERS)
        return NULL;
    struct engine *e = calloc(1, sizeof(*e));
    if (e) {
        e->data_retrans_ev = eng_data_retrans_events(false);
        e->loss_retrans_ev = eng_data_retrans_events(true);
    }
    if (!e)
        return NULL;
    e->cfg = *cfg;
    e->out = out;
    e->out_ctx = out_ctx;
    size_t small = 0; /* bytes of the detectors' small forms in a compact entry */
    for (size_t i = 0; table[i]; i++) {
        if (e->ndets == ENG_MAX_DETS)
            goto free_engine;
        struct det *d = &e->dets[e->ndets++];
        d->ops = table[i];
        d->eng = e;
        d->off = e->ext_size;
        /* 8-byte alignment: slices hold nothing wider than uint64_t */
        e->ext_size += (d->ops->flow_state_size + 7) & ~(size_t)7;
        for (size_t j = 0; j < d->ops->nsmall; j++)
            if (d->ops->small[j].off + (size_t)d->ops->small[j].size > d->ops->flow_state_size)
                goto free_engine; /* a small field outside the slice */
        d->small_off = small;
        small += eng_small_size(d->ops); /* packed: eng_pack/eng_unpack copy bytes */
    }
    struct flow_compact cp = {small, e->cfg.max_flows, eng_pack, eng_unpack, e};
    e->ft = flow_table_new_compact(e->cfg.max_flows, e->ext_size, &cp);
    if (!e->ft)
        goto free_engine;
    struct flow_mem_stats fm;
    flow_table_get_mem(e->ft, &fm);
    e->flow_fixed = fm.entry_bytes;
    e->st.flow_fixed_bytes = fm.entry_bytes;
    e->st.flow_struct_bytes = fm.entry_struct_bytes;
    for (size_t i = 0; i < e->ndets; i++) {
        struct det *d = &e->dets[i];
        if (d->ops->lazy_state_size &&
            !(d->lazy = pool_new(e->cfg.max_flows, d->ops->lazy_state_size)))
            goto free_pools;
    }
    if (e->cfg.max_flows > SIZE_MAX / 2 ||
        !(e->tcp_loss = pool_new(2 * e->cfg.max_flows, sizeof(struct tcp_loss))))
        goto free_pools;
    e->dedup = tcp_dedup_new(ENG_DEDUP_ORDER);
    if (!e->dedup)
        goto free_pools;
    e->scans = scan_new(e->cfg.inc_scan_targets ? e->cfg.inc_scan_targets : 20);
    if (!e->scans)
        goto free_dedup;
    e->streams = stream_layer_new(e->dets, e->ndets, e->cfg.max_flows, eng_stream_cap(&e->cfg),
                                  e->cfg.stream_buffers ? e->cfg.stream_buffers : 4096);
    if (!e->streams)
        goto free_scans;
    for (size_t i = 0; i < e->ndets; i++) {
        struct det *d = &e->dets[i];
        if (d->ops->init && d->ops->init(d, &e->cfg) != 0) {
            e->ndets = i; /* free only the ones that initialised */
            goto free_dets;
        }
    }
    return e;

free_dets:
    for (size_t i = 0; i < e->ndets; i++)
        if (e->dets[i].ops->free)
            e->dets[i].ops->free(&e->dets[i]);
    stream_layer_free(e->streams);
free_scans:
    scan_free(e->scans);
free_dedup:
    tcp_dedup_free(e->dedup);
free_pools:
    pool_free(e->tcp_loss);
    for (size_t i = 0; i < e->ndets; i++)
        pool_free(e->dets[i].lazy);
    flow_table_free(e->ft);
free_engine:
    free(e);
    return NULL;
}

/* flow_foreach callback of eng_clock_back: no flow may stay in the future. */
static void eng_clamp_flow(void *ctx, struct flow *f)
{
    uint64_t now = *(const uint64_t *)ctx;
    if (f->rec.last_ts_ns > now)
        f->rec.last_ts_ns = now;
    if (f->closed && f->closed_ts_ns > now)
        f->closed_ts_ns = now;
}

/*
 * Time went back by more than the idle timeout: an earlier frame carried a bogus future
 * timestamp (or inputs were concatenated out of order). The clock follows the packets again,
 * and flows stamped in the future are brought back to now, or they would look busy forever
 * and block idle expiry (the LRU list is ordered by arrival, not by timestamp). Rare: O(flows).
 */
static void eng_clock_back(struct engine *e, uint64_t now)
{
    flow_foreach(e->ft, eng_clamp_flow, &now);
}

/* Capture time moved to now: expire lingering closed and idle flows, tick detectors. */
static void eng_advance(struct engine *e, uint64_t now)
{
    if (now < e->now_ns) {
        if (now + e->cfg.idle_timeout_ns >= e->now_ns)
            now = e->now_ns; /* slightly out-of-order timestamps do not move the clock back */
        else
            eng_clock_back(e, now);
    }
    e->now_ns = now;
    if (!e->first_ts_ns)
        e->first_ts_ns = now;
    struct flow *f;
    while ((f = flow_oldest_closed(e->ft)) && now > f->closed_ts_ns &&
           now - f->closed_ts_ns > e->cfg.closed_linger_ns)
        eng_end_flow(e, f, f->rec.close);
    uint64_t last;
    while (flow_oldest_ts(e->ft, &last) && now > last && now - last > e->cfg.idle_timeout_ns) {
        e->st.idle_expired++;
        eng_end_flow(e, flow_oldest(e->ft), CLOSE_IDLE);
    }
    uint64_t sec = now / NS_PER_S;
    if (!e->ticked || sec != e->tick_sec) {
        e->ticked = true;
        e->tick_sec = sec;
        for (size_t i = 0; i < e->ndets; i++)
            if (e->dets[i].ops->on_tick)
                e->dets[i].ops->on_tick(&e->dets[i], now);
    }
}

/* A new flow for p; *dir is p's direction in it. NULL only if the table cannot give one. */
static struct flow *eng_new_flow(struct engine *e, const struct pkt *p, int *dir)
{
    struct flow *f = flow_create(e->ft, p, eng_evict, e);
    if (!f)
        return NULL;
    *dir = DIR_C2S;
    if (tcp_pick_server(p, e->cfg.servers, e->cfg.nservers) == 1) {
        f->rec.client = p->dst;
        f->rec.server = p->src;
        *dir = DIR_S2C;
    }
    f->rec.flow_id = e->ids_from_frames ? p->frame : ++e->next_flow_id;
    f->rec.first_ts_ns = p->ts_ns;
    f->rec.last_ts_ns = p->ts_ns;
    f->rec.first_frame = p->frame;
    tcp_flow_start(f, p);
    e->st.flows_created++;
    eng_state_peak(e);
    return f;
}

/*
 * Store f after a change (flow_commit). A compact flow that needs its block when none is left
 * (impossible with one block per table entry) is ended as evicted, counted; NULL then.
 */
static struct flow *eng_commit(struct engine *e, struct flow *f)
{
    struct flow *kept = flow_commit(e->ft, f);
    if (!kept) {
        e->st.evicted++;
        eng_end_flow(e, f, CLOSE_EVICTED);
    } else if (kept != f) {
        eng_state_peak(e); /* it took its block */
    }
    return kept;
}

void eng_packet(struct engine *e, const struct pkt *p)
{
    eng_packet_dup(e, p, -1);
}

void eng_packet_dup(struct engine *e, const struct pkt *p, int dup)
{
    int dir = DIR_C2S;
    e->st.packets++;
    e->last_flow_id = 0;
    eng_advance(e, p->ts_ns);
    struct flow *f = flow_lookup(e->ft, p, &dir);
    if (dup < 0)
        dup = tcp_dedup_check(e->dedup, p, e->cfg.dup_window_ns);
    if (dup) {
        e->st.mirror_duplicates++;
        if (f) {
            f->rec.ev[dir][TEV_MIRROR_DUPLICATE]++;
            e->last_flow_id = f->rec.flow_id; /* the copy is evidence too */
            eng_commit(e, f);
        }
        return;
    }
    if (f) {
        if (tcp_is_reuse(f, p, dir)) {
            eng_end_flow(e, f, CLOSE_REUSED);
            f = NULL;
        }
    }
    bool created = false;
    if (!f) {
        f = eng_new_flow(e, p, &dir);
        if (!f)
            return;
        created = true;
    }
    flow_touch(e->ft, f);
    e->last_flow_id = f->rec.flow_id;
    struct flow_record *r = &f->rec;
    r->packets[dir]++;
    r->bytes[dir] += p->tcp_len;
    if (p->ts_ns > r->last_ts_ns)
        r->last_ts_ns = p->ts_ns;
    struct tcp_seg s;
    memset(&s, 0, sizeof(s));
    s.flow_new = created;
    bool closed = tcp_analyze(f, p, dir, &s, e->tcp_loss);
    eng_count_data(e, r, dir, &s);
    eng_run_packet(e, f, p, &s, 0, e->ndets); /* scan, stream layer, every detector */
    f = eng_commit(e, f);
    if (closed && f)
        flow_set_closed(e->ft, f, p->ts_ns);
}

void eng_malformed(struct engine *e, uint64_t ts_ns, uint64_t frame, const char *what)
{
    e->malformed++;
    if (e->malformed > ENG_MALFORMED_FINDINGS)
        return;
    struct finding fd;
    det_finding_init(&fd, NULL, FK_MALFORMED, SEV_INFO, ts_ns);
    fd.frames[0] = frame;
    fd.nframes = 1;
    snprintf(fd.detail, sizeof(fd.detail), "frame %llu could not be decoded: %s%s",
             (unsigned long long)frame, what ? what : "malformed",
             e->malformed == ENG_MALFORMED_FINDINGS
                 ? " (further malformed frames are counted in the summary, not reported)"
                 : "");
    eng_emit(e, &fd);
}

uint64_t eng_last_flow_id(const struct engine *e)
{
    return e->last_flow_id;
}

void eng_tick(struct engine *e, uint64_t now_ns)
{
    eng_advance(e, now_ns);
}

void eng_finish(struct engine *e, struct run_summary *sum)
{
    struct flow *f;
    while ((f = flow_oldest(e->ft)))
        eng_end_flow(e, f, CLOSE_OPEN);
    for (size_t i = 0; i < e->ndets; i++)
        if (e->dets[i].ops->on_finish)
            e->dets[i].ops->on_finish(&e->dets[i]);
    if (sum)
        eng_summary(e, sum);
}

void eng_summary(struct engine *e, struct run_summary *sum)
{
    sum->tcp_packets = e->st.packets;
    sum->flows = e->st.flows_created;
    sum->evicted = e->st.evicted;
    sum->mirror_duplicates = e->st.mirror_duplicates;
    sum->mirror_dup_overflow = e->st.mirror_dup_overflow + tcp_dedup_overflows(e->dedup);
    sum->http_reclaimed = e->st.http_reclaimed;
    if (sum->malformed < e->malformed)
        sum->malformed = e->malformed;
    memcpy(sum->findings, e->st.findings, sizeof(sum->findings));
    if (!sum->first_ts_ns)
        sum->first_ts_ns = e->first_ts_ns;
    if (!sum->last_ts_ns)
        sum->last_ts_ns = e->now_ns;
    eng_out(e, OUT_SUMMARY, sum);
}

void eng_get_stats(const struct engine *e, struct eng_stats *st)
{
    *st = e->st;
    st->lazy_bytes = eng_lazy_bytes(e);
    struct pool_stats ps;
    pool_get_stats(e->tcp_loss, &ps);
    st->lazy_exhausted += ps.exhausted;
    struct flow_mem_stats fm;
    flow_table_get_mem(e->ft, &fm);
    st->lazy_exhausted += fm.blocks_exhausted;
    st->stream_buf_exhausted = stream_layer_exhausted(e->streams);
    st->flows_active = flow_count(e->ft);
    st->mirror_dup_overflow += tcp_dedup_overflows(e->dedup);
    st->last_ts_ns = e->now_ns;
}

/* How bad a flow looks for the live view: data retransmissions plus resets. */
static uint64_t eng_score(const struct flow_record *r)
{
    uint64_t s = 0;
    for (int d = 0; d < 2; d++)
        s += r->data_retrans[d] + r->ev[d][TEV_RESET];
    return s;
}

/* True when a should be listed before b (worse, then newer). */
bool eng_flow_worse(const struct flow_record *a, const struct flow_record *b)
{
    uint64_t sa = eng_score(a), sb = eng_score(b);
    if (sa != sb)
        return sa > sb;
    if (a->last_ts_ns != b->last_ts_ns)
        return a->last_ts_ns > b->last_ts_ns;
    return a->flow_id > b->flow_id;
}

/* A min-heap (by eng_worse) of the best max records seen so far. */
struct eng_snap {
    struct flow_record *out; /* heap storage */
    size_t max;              /* capacity */
    size_t n;                /* entries used */
};

static void eng_snap_swap(struct flow_record *a, struct flow_record *b)
{
    struct flow_record t = *a;
    *a = *b;
    *b = t;
}

static void eng_snap_add(void *ctx, const struct flow *f)
{
    struct eng_snap *h = ctx;
    if (h->max == 0) /* closed flows in their linger are shown too, as closed */
        return;
    size_t i;
    if (h->n < h->max) {
        i = h->n++;
        h->out[i] = f->rec;
        h->out[i].one_direction = eng_one_direction(f);
        while (i > 0 && eng_flow_worse(&h->out[(i - 1) / 2], &h->out[i])) {
            eng_snap_swap(&h->out[(i - 1) / 2], &h->out[i]);
            i = (i - 1) / 2;
        }
        return;
    }
    if (!eng_flow_worse(&f->rec, &h->out[0]))
        return;
    h->out[0] = f->rec;
    h->out[0].one_direction = eng_one_direction(f);
    i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && eng_flow_worse(&h->out[m], &h->out[l]))
            m = l;
        if (r < h->n && eng_flow_worse(&h->out[m], &h->out[r]))
            m = r;
        if (m == i)
            break;
        eng_snap_swap(&h->out[i], &h->out[m]);
        i = m;
    }
}

static int eng_snap_cmp(const void *a, const void *b)
{
    const struct flow_record *x = a, *y = b;
    if (eng_flow_worse(x, y))
        return -1;
    return eng_flow_worse(y, x) ? 1 : 0;
}

size_t eng_snapshot_flows(const struct engine *e, struct flow_record *out, size_t max)
{
    struct eng_snap h = {out, max, 0};
    flow_foreach_view(e->ft, eng_snap_add, &h);
    qsort(out, h.n, sizeof(*out), eng_snap_cmp);
    return h.n;
}

void eng_free(struct engine *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->ndets; i++)
        if (e->dets[i].ops->free)
            e->dets[i].ops->free(&e->dets[i]);
    stream_layer_free(e->streams);
    scan_free(e->scans);
    tcp_dedup_free(e->dedup);
    pool_free(e->tcp_loss);
    for (size_t i = 0; i < e->ndets; i++)
        pool_free(e->dets[i].lazy);
    flow_table_free(e->ft);
    free(e);
}

const struct scan_table *det_scans(const struct det *d)
{
    return d && d->eng ? d->eng->scans : NULL;
}

/*
 * The pieces analyzers/worker.c runs the detectors with when the flows are split among
 * workers (engine.h says why): detectors [lo, hi) of the table on a flow the caller owns.
 */
void eng_flow_ids_from_frames(struct engine *e)
{
    e->ids_from_frames = true;
}

size_t eng_ext_size(const struct engine *e)
{
    return e->ext_size;
}

size_t eng_small_bytes(const struct engine *e)
{
    size_t n = 0;
    for (size_t i = 0; i < e->ndets; i++)
        n += eng_small_size(e->dets[i].ops);
    return n;
}

void eng_small_pack(const struct engine *e, const struct flow *f, uint8_t *small)
{
    eng_pack((void *)(uintptr_t)e, f, small);
}

void eng_small_unpack(const struct engine *e, struct flow *f, const uint8_t *small)
{
    eng_unpack((void *)(uintptr_t)e, f, small);
}

struct det *eng_det(struct engine *e, const struct det_ops *ops)
{
    for (size_t i = 0; i < e->ndets; i++)
        if (e->dets[i].ops == ops)
            return &e->dets[i];
    return NULL;
}

void eng_run_packet(struct engine *e, struct flow *f, const struct pkt *p,
                    const struct tcp_seg *s, size_t lo, size_t hi)
{
    const struct flow_record *r = &f->rec;
    if (lo == 0) {
        if (s->syn && !s->syn_retry)
            scan_probe(e->scans, &r->client, &r->server, p->ts_ns);
        else if (s->synack && !s->synack_retry)
            scan_answered(e->scans, &r->client.ip);
        stream_layer_segment(e->streams, f, p, s);
    }
    bool bytes = stream_layer_planned(e->streams); /* most packets: nothing for the parsers */
    for (size_t i = lo; i < hi && i < e->ndets; i++) {
        struct det *d = &e->dets[i];
        if (bytes && d->ops->stream)
            stream_layer_deliver(e->streams, d, f, f->ext + d->off);
        if (d->ops->on_packet)
            d->ops->on_packet(d, f, f->ext + d->off, p, s);
    }
    if (hi >= e->ndets)
        stream_layer_done(e->streams, f);
}

void eng_run_scan(struct engine *e, const struct endpoint *client, const struct endpoint *server,
                  uint64_t ts_ns, bool answered)
{
    if (answered)
        scan_answered(e->scans, &client->ip);
    else
        scan_probe(e->scans, client, server, ts_ns);
}

void eng_run_flow_end(struct engine *e, struct flow *f, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi && i < e->ndets; i++)
        if (e->dets[i].ops->on_flow_end)
            e->dets[i].ops->on_flow_end(&e->dets[i], f, f->ext + e->dets[i].off);
    if (hi >= e->ndets)
        stream_layer_flow_end(e->streams, f);
}

void eng_run_tick(struct engine *e, uint64_t now_ns, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi && i < e->ndets; i++)
        if (e->dets[i].ops->on_tick)
            e->dets[i].ops->on_tick(&e->dets[i], now_ns);
}

void eng_run_finish(struct engine *e, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi && i < e->ndets; i++)
        if (e->dets[i].ops->on_finish)
            e->dets[i].ops->on_finish(&e->dets[i]);
}

void eng_put(struct engine *e, const struct out_rec *r)
{
    switch (r->type) {
    case OUT_FINDING:
        eng_emit(e, &r->u.finding);
        break;
    case OUT_TLS:
        eng_out(e, OUT_TLS, &r->u.tls);
        for (size_t i = 0; i < e->ndets; i++)
            if (e->dets[i].ops->on_tls)
                e->dets[i].ops->on_tls(&e->dets[i], &r->u.tls);
        break;
    case OUT_HEALTH:
        eng_out(e, OUT_HEALTH, &r->u.health);
        for (size_t i = 0; i < e->ndets; i++)
            if (e->dets[i].ops->on_health)
                e->dets[i].ops->on_health(&e->dets[i], &r->u.health);
        break;
    default:
        eng_out(e, r->type, &r->u);
        break;
    }
}

void eng_add_stats(struct engine *e, const struct eng_stats *w)
{
    e->st.packets += w->packets;
    e->st.flows_created += w->flows_created;
    e->st.evicted += w->evicted;
    e->st.idle_expired += w->idle_expired;
    e->st.mirror_duplicates += w->mirror_duplicates;
    e->st.mirror_dup_overflow += w->mirror_dup_overflow;
    e->st.stream_buf_exhausted += w->stream_buf_exhausted;
    e->st.lazy_exhausted += w->lazy_exhausted;
    e->st.http_reclaimed += w->http_reclaimed;
    e->st.state_peak_bytes += w->state_peak_bytes;
    e->st.state_peak_flows += w->state_peak_flows;
    if (w->last_ts_ns > e->now_ns)
        e->now_ns = w->last_ts_ns;
}
