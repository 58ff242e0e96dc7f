/*
 * worker.c - N analysis threads with outputs that do not depend on N.
 *
 * Design (README.md, "Workers", says it for users):
 *
 *   reader --(ring per worker)--> worker 0..N-1 --(ring per worker)--> aggregator --> sink
 *
 * - The reader (the caller's thread) decodes frames and hands each TCP segment to worker
 *   hash(symmetric 5-tuple) % N: a copy of the packet view and its captured payload in that
 *   worker's single-producer/single-consumer ring (analyzers/ring.h; no lock, no allocation
 *   per packet). Every entry the engine would have seen (segment, malformed frame, live tick)
 *   gets a position pos (0, 1, 2 ...), and every worker gets, per batch of WK_BATCH entries,
 *   the capture time and owner of every position: so each worker advances its clock exactly
 *   as the single engine did (idle expiry, lingering closed flows, once-a-second ticks happen
 *   at the same positions for every N).
 * - Each worker is an engine of its own (own flow table, pools, caps split N ways) running
 *   the per-flow detectors (TCP events, TLS, the per-flow halves of establishment and server
 *   health). The detectors with state across flows (those not in wk_flow_dets: the server
 *   halves of establishment and server health, incidents, and the scan tracker) run once, in
 *   the aggregator: at their places in the
 *   detector table the worker's table holds proxies that send the aggregator what those
 *   detectors would have been called with (flow ends with the flow record, ticks; a segment
 *   only to a group with an on_packet, none now). The aggregator keeps a shadow per worker
 *   flow: those detectors' slices and its flow id (struct wk_shadow; the record only for
 *   the live view), and calls the detectors on one view given the record that each flow end
 *   carries. The records of one flow end (or segment) for consecutive groups are one record
 *   when nothing came between them (wk_fold). Group 0's WR_PKT (the flow record, the
 *   segment, the SYN state) goes only where the aggregator reads every segment
 *   (wk_agg_pkt_all: the live view's flow records, a detector's on_packet or stream
 *   parser); otherwise the aggregator sees a flow's ops, its end, and a WR_SCAN at a first
 *   SYN and first SYN-ACK (the scan tracker's feed, eng_run_scan), and a plain segment costs
 *   it nothing. Memory, as one engine's flow table: a worker's SYN-only flow
 *   is a compact entry (the opener's slice has a small form), and so is its shadow (struct
 *   wk_cslot: the aggregator's detectors' small forms and the SYN state their unpack_more
 *   read, which WR_IOP brings for a SYN-only flow); a shadow takes a block of
 *   the aggregator's slices (~300 bytes) when it no longer unpacks byte for byte.
 * - A detector in wk_halves is cut in two: its per-flow half in the workers (where the whole
 *   stands in det_table), its server half in the aggregator just before it. det_health's
 *   per-flow half sends WR_HOP records (struct health_op: samples, requests, responses, slow
 *   responses, outstanding requests, what its segments counted, the interval clock) keyed at
 *   the moment it made them; the server half, which sees no segment, applies them to the
 *   server of the shadow flow. The half holds plain segments' counts back until its worker's
 *   tick that may close an interval (health_flow_tick, from the opener: keyed before the
 *   server half's tick), the flow's end (health_flow_end, from the opener: before the flow's
 *   groups) or its next op sent at once (det_health.c, "What the server half reads, and
 *   when"). det_estab's per-flow half sends WR_EOP records (struct estab_op: a SYN, the
 *   first SYN-ACK, a RST refusing the SYN, an attempt's end) the same way, keyed where the
 *   whole detector made them (det_estab.c says why that keeps its order). Its server half
 *   has no on_packet nor on_flow_end (only the ops, ticks and the end), so the per-flow half
 *   runs just before the server half's group, not after it (wk_halves.flow_first): its ops
 *   come before the segment's group records and do not split them, and an op on a SYN-only
 *   flow edits the server half's slice in the shadow's packed form (wk_estab_packed): a data
 *   or ACK segment costs det_estab nothing here.
 * - det_incident is cut the same way, its per-flow half just before its server half's group
 *   (group 1, alone): the half sends WR_IOP records (struct ic_op) for the rare segments of a
 *   flow (its first, SYN, SYN-ACK, stale answer, reset, stall, capture loss, lost segment,
 *   loss retransmission) and, for the plain ones, per-flow counts (data, handshake ACK, last
 *   activity) with the flow's next op, at its end and at every tick (before group 1's tick:
 *   key sub 2 < 3); the server half has no on_packet, so group 1 gets no WR_PKT (a group
 *   none of whose detectors has an on_packet gets none). Its clock between ticks (the newest
 *   segment time, which it reads for health rows, TLS records and lone SYNs at flow end)
 *   comes from worker 0: a WR_ICLOCK per batch with each position's clock, computed from the
 *   timeline every worker gets (the reader marks SPAN duplicates in it); live, the ops' times
 *   and ticks only. incident.c ("Batching") shows why no rule can tell.
 * - Every record a worker sends carries a key (pos, phase, sub): phase orders what happened
 *   at one position as the engine did it (lingering closed flows, then idle flows, in the
 *   engine's list orders: sub is the closing / last position of the flow; then the tick of
 *   each detector in table order; then the segment itself), and the aggregator merges the
 *   workers' streams by key, taking a record only when every worker has either a record
 *   queued or has said (a watermark) that it has finished that position. So the per-server
 *   detectors see the same calls in the same order as with one engine.
 * - Flow ids: workers number flows by their first frame (unique); the aggregator gives them
 *   1, 2, 3 ... in the order they were created, as the single engine does, and rewrites the
 *   ids in every record it passes on.
 * - SPAN duplicates are found by one filter in the reader, over every packet (it compares
 *   whole signatures within the window, so its verdicts are those of the single engine).
 * - Certificates: "each (certificate, server, SNI) judged once" is decided by the aggregator
 *   (tls_certs_set_thread_judge): workers judge every time and the aggregator drops the
 *   verdicts of a key it has judged.
 * - --evidence-dir: a worker stages the frames of its segments (evidence_stage_*) and hands
 *   them to the one locked ring before it publishes any record (wk_publish, wk_emit), not a
 *   lock per packet; the aggregator names a flow's evidence only from its records.
 * - What the workers' detectors say at exit is said once, summed (wk_say_finish).
 *
 * Where the outputs may differ from one engine's (none of the samples or the corpus does):
 * when a cap is reached (the flow table and stream buffers are split N ways, so each worker
 * evicts its own least recently used flow; with server health's table full, the idle server
 * that gives way when capture times do not grow with the capture order, det_health.c); when
 * timestamps go backwards and a flow that was idle long enough is queued behind one that is
 * not (each worker walks its own LRU list); and the order of TLS stall findings of different
 * workers within one tick (by worker, not by session).
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "analyzers/worker.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/det.h"
#include "analyzers/estab.h"
#include "analyzers/flow.h"
#include "analyzers/health.h"
#include "analyzers/health_int.h" /* wk_add_health: the per-flow half's exit counts */
#include "analyzers/incident.h"
#include "analyzers/pool.h"
#include "analyzers/tcp.h"
#include "analyzers/tls.h"
#include "analyzers/tls_cert.h"
#include "capture/err.h"
#include "capture/log.h"
#include "capture/ring.h"

#define WK_BATCH 1024            /* positions per batch */
#define WK_RING_BYTES (2u << 20) /* each ring (a message takes at most a quarter) */
#define WK_WAIT_NS 20000000u     /* longest sleep before looking again */
#define WK_STATS_EVERY 16        /* batches between two published stats */
#define WK_MAX_GROUPS 8          /* runs of aggregator detectors in the table */
#define WK_POS_END UINT64_MAX    /* the position of end-of-input records */
#define WK_DEDUP_ORDER 14        /* the duplicate filter's size, as the engine's */
#define WK_PUB_FRAMES 64         /* live: frames between two watermarks and counter updates */
#define WK_PUB_NS 10000000u      /* live: or capture time between them */

/* Owner of a position in a batch: a worker index, or one of these. */
enum { OWN_MALFORMED = 0xfe, OWN_TICK = 0xfd };

/* Reader -> worker messages. */
enum wk_in_type { WI_BATCH = 1, WI_PKT, WI_MALFORMED, WI_FINISH };

/* The timeline of one batch: every position's time and owner (sent to every worker). */
struct wk_batch {
    uint32_t type;             /* WI_BATCH */
    uint32_t n;                /* positions used */
    uint64_t base;             /* position of entry 0 */
    uint64_t ts[WK_BATCH];     /* capture time of each */
    uint8_t owner[WK_BATCH];   /* worker, OWN_MALFORMED or OWN_TICK */
    uint8_t dup[WK_BATCH / 8]; /* bit i: position i is a SPAN duplicate (no detector sees it) */
};

/* A segment for its worker: the packet view, then payload_caplen bytes. */
struct wk_pkt_msg {
    uint32_t type;      /* WI_PKT */
    uint32_t dup;       /* a SPAN duplicate (the reader's filter sees every packet) */
    struct pkt p;       /* payload points nowhere; the bytes follow */
    uint32_t frame_len; /* with an evidence ring: the frame's bytes, after the payload */
    int32_t linktype;   /* the frame's link type */
};

/* A malformed frame (to worker 0, which passes it on). */
struct wk_malformed_msg {
    uint32_t type;  /* WI_MALFORMED */
    uint32_t pad;   /* alignment */
    uint64_t ts_ns; /* its time */
    uint64_t frame; /* its number */
    char what[128]; /* why */
};

/* Phases within a position, in the order the single engine does things. */
enum wk_phase {
    PH_LINGER = 0, /* a closed flow's linger ended (sub: position it closed at) */
    PH_IDLE,       /* an idle flow expired (sub: its last position) */
    PH_TICK,       /* the once-a-second tick (sub: detector index) */
    PH_PKT,        /* the segment at this position (and flows it ended or evicted) */
    PH_FIN_FLOWS,  /* end of input: open flows (sub: their last position) */
    PH_FIN,        /* end of input: detectors' on_finish (sub: detector index) */
};

/* Worker -> aggregator records. */
enum wk_out_type {
    WR_REC = 1,   /* a finding, TLS or certificate record */
    WR_NEW,       /* a flow was created (slot, first frame) */
    WR_PKT,       /* run a group of detectors on a segment (group 0 carries the data) */
    WR_END,       /* run a group's on_flow_end (group 0 carries the record) */
    WR_TICK,      /* run a group's on_tick */
    WR_FIN,       /* run a group's on_finish */
    WR_CERT_KEY,  /* tls_certs asks whether a key is judged the first time */
    WR_MALFORMED, /* eng_malformed */
    WR_WATERMARK, /* every position up to pos is done */
    WR_HOP,       /* a health op of the per-flow half (arg: slot; 0 for HOP_ADVANCE) */
    WR_EOP,       /* an establishment op of the per-flow half (arg: slot; struct estab_op
                     and its body follow the header) */
    WR_IOP,       /* an incident op of the per-flow half (arg: slot) */
    WR_ICLOCK,    /* worker 0, per batch: the incident layer's clock at its positions */
    WR_SCAN,      /* group 0's place, for the scan tracker alone: a first SYN or SYN-ACK */
    WR__COUNT
};

/* The header of every worker -> aggregator record. */
struct wk_rec {
    uint16_t type;  /* enum wk_out_type */
    uint16_t ngrp;  /* WR_PKT, WR_END: groups run, from group on (folded records, below) */
    uint16_t phase; /* enum wk_phase */
    uint16_t group; /* detector group (WR_PKT, WR_END, WR_TICK, WR_FIN) */
    uint64_t pos;   /* position */
    uint64_t sub;   /* order within (pos, phase) */
    uint64_t arg;   /* slot, time, key or frame, by type */
};

/* WR_PKT of group 0: the flow and segment as the detectors see them, then the payload. */
struct wk_pkt_rec {
    struct wk_rec h;        /* header (arg: slot) */
    struct flow_record rec; /* flow record after TCP analysis */
    struct tcp_seg seg;     /* what TCP analysis made of the segment */
    struct pkt p;           /* the segment (payload follows) */
    uint32_t has_syn;       /* the flow has sent only SYNs (FS_SYN_SENT): syn is set */
    struct tcp_syn syn;     /* then its TCP state's compact form (wk_keep) */
};

/*
 * WR_SCAN: in group 0's place when it gets no WR_PKT (wk_agg_pkt_all), what
 * eng_run_packet would have given the scan tracker: a client's first SYN (not a retry) or the
 * server's first SYN-ACK (arg: 1 then).
 */
struct wk_scan_rec {
    struct wk_rec h;                /* header (arg: answered) */
    struct endpoint client, server; /* the flow's */
    uint64_t ts_ns;                 /* the segment's time */
};

/* WR_END of group 0: the record as the flow ends. */
struct wk_end_rec {
    struct wk_rec h;        /* header (arg: slot) */
    struct flow_record rec; /* the record */
};

/* WR_HOP. */
struct wk_hop_rec {
    struct wk_rec h;     /* header (arg: slot) */
    struct health_op op; /* the op */
};

/* WR_IOP: the op, and what a compact shadow keeps of a SYN-only flow (as struct wk_pkt_rec). */
struct wk_iop_rec {
    struct wk_rec h;      /* header (arg: slot) */
    struct ic_op op;      /* the op */
    uint32_t has_syn;     /* the flow has sent only SYNs: syn and the times are set */
    struct tcp_syn syn;   /* its TCP state's compact form */
    uint64_t first_ts_ns; /* its record's times and first frame */
    uint64_t last_ts_ns;
    uint64_t first_frame;
};

/*
 * WR_ICLOCK (worker 0, keyed at the batch's first position before anything of it): g[i] is
 * the newest time of the segments the detectors saw up to position base + i (SPAN duplicates
 * and malformed frames are not segments), which the incident layer's clock is between ticks.
 */
struct wk_iclock_rec {
    struct wk_rec h; /* header (arg: base) */
    uint64_t n;      /* positions */
    uint64_t g[];    /* n times */
};

/* WR_MALFORMED. */
struct wk_malformed_rec {
    struct wk_rec h; /* header (arg: frame) */
    uint64_t ts_ns;  /* time */
    char what[128];  /* why */
};

/* A run of aggregator detectors: indices [lo, hi) of the aggregator's table. */
struct wk_group {
    size_t lo, hi; /* range */
    bool pkt;      /* one of them has an on_packet: the group gets segments (WR_PKT) */
};

struct workers;

/* Published counters of a worker (read by the reader thread for wk_get_stats). */
struct wk_pub {
    pthread_mutex_t mu;        /* guards st and live */
    struct eng_stats st;       /* the worker engine's counters */
    struct wk_live_stats live; /* live: what it read */
};

/* One worker. */
struct wk_worker {
    struct workers *w;     /* the whole */
    unsigned id;           /* index */
    struct engine *eng;    /* its engine */
    struct ring *in;       /* from the reader */
    struct ring *out;      /* to the aggregator */
    struct ring_event *ev; /* where it sleeps */
    pthread_t thread;      /* its thread */
    bool started;          /* thread created */
    /* The key of the records being made (worker thread only). */
    uint64_t pos;         /* position */
    uint16_t phase;       /* enum wk_phase */
    uint64_t sub;         /* order within the phase */
    int mode;             /* MODE_* below: what the engine is doing */
    uint32_t *free_slots; /* shadow slots free (a stack) */
    uint32_t nfree;       /* entries in free_slots */
    uint32_t nslots;      /* slots 1..nslots */
    unsigned batches;     /* batches done (for WK_STATS_EVERY) */
    struct wk_rec *fold;  /* the WR_PKT / WR_END record pushed last, not yet published, that
                             the next group's proxy may extend (NULL: none) */
    uint64_t iclk;        /* worker 0: the incident layer's clock so far (WR_ICLOCK) */
    struct det *health;   /* its det_health_flow_ops (health_flow_tick), or NULL */
    unsigned published;   /* batches done when the counters were last published */
    struct wk_pub pub;    /* counters for wk_get_stats */
    char tag[24];         /* "worker N: " before its messages */
    /* Live (wk_new_opts with a capture group; worker thread only). */
    struct cap_source *cap;  /* its capture handle, else NULL */
    uint64_t floor;          /* the lowest position it may still use (its watermark + 1) */
    uint64_t live_sec;       /* the second its clock reached, + 1 (0: none yet) */
    unsigned drained;        /* frames read after the stop (wk_live_drained) */
    struct wk_live_stats rd; /* what it read (published in pub.live) */
    /* --evidence-dir (worker thread only): frames go to the one locked ring in batches. */
    struct evidence_stage *ev_stage; /* its staging, or NULL without an evidence ring */
    const struct cap_frame *ev_cur;  /* the frame of the segment being analysed, not staged yet */
    bool ev_cur_keep;                /* its bytes stay in the input ring until the batch ends */
};

enum { MODE_ADVANCE, MODE_PACKET, MODE_FINISH };

/* One entry of the id map (key and value side by side: one cache line per probe). */
struct wk_id {
    uint64_t key; /* first frame; 0 = empty */
    uint64_t val; /* flow id */
};

/*
 * Open-addressing map: first frame of a flow -> its id (aggregator), for the flows alive. It
 * starts small and doubles at half full, up to twice the flow cap: a table sized for the cap
 * from the start (16 MiB by default) made every put and delete a cache and TLB miss.
 */
struct wk_idmap {
    struct wk_id *e; /* entries */
    size_t mask;     /* capacity - 1 */
    size_t n;        /* entries used */
    size_t max;      /* the largest capacity */
};

/*
 * What the aggregator keeps of one worker flow between its records, besides its id
 * (wk_src.gid): where its detector slices are (compact in wk_src.cp, or a block of
 * wk_src.blocks) and what its stream layer keeps in a flow (nothing while no aggregator
 * detector parses streams). Not a whole struct flow (1000 bytes: the TCP state of both
 * directions, unused here): the detectors are called on the aggregator's one view
 * (workers.view), given the flow record that the WR_PKT or WR_END being run carries and the
 * slot's slices. The record itself is kept per slot only for the live view
 * (wk_opts.flow_view: wk_src.recs).
 */
struct wk_shadow {
    uint32_t stream; /* struct flow's stream, proto and stream_holes */
    uint8_t proto;
    uint8_t stream_holes;
    uint8_t fresh;  /* new: its slices are zero (WK_FRESH_ESTAB: but det_estab's server
                       half's, whose small form is in the compact form's place) */
    uint32_t block; /* its slices' block in wk_src.blocks; 0: compact (struct wk_cslot) */
};

/* wk_shadow.fresh: a new shadow with zero slices, or so but for det_estab's server half's. */
enum { WK_FRESH = 1, WK_FRESH_ESTAB = 2 };

/*
 * The slices of a compact shadow (while its flow has sent only SYNs, as the flow table keeps
 * one engine's SYN-only flows): the detectors' small forms (after this struct) and what
 * their unpack_more read of the flow (the record's times and first frame, the TCP state's
 * compact form). wk_keep stores a shadow so only when unpacking it gives its slices back
 * byte for byte; otherwise the shadow takes a block, until the flow ends.
 */
struct wk_cslot {
    uint64_t first_ts_ns, last_ts_ns, first_frame; /* of the record */
    struct tcp_syn syn;                            /* of the TCP state */
};

/* The aggregator's view of one worker. */
struct wk_src {
    struct wk_rec *head;      /* next record, NULL if none queued */
    size_t head_len;          /* its length in the ring */
    uint64_t wm;              /* positions done (watermark + 1; 0 = none) */
    bool done;                /* finished (its last watermark came) */
    bool hold;                /* a WR_PKT group 0 is in use: keep its bytes (no release) */
    struct wk_pkt_rec *pkt;   /* that record */
    struct wk_shadow *shadow; /* nslots + 1 shadow flows */
    struct flow_record *recs; /* wk_opts.flow_view: their records (for the live view), else NULL */
    uint8_t *cp;              /* nslots + 1 compact forms (workers.cp_size bytes each) */
    struct pool *blocks;      /* the slices of shadows that are not compact */
    struct flow_record end;   /* the record of the flow end being run (WR_END, group 0) */
    uint64_t *gid;            /* their flow ids */
    unsigned taken;           /* records taken since the last release */
};

struct workers {
    unsigned n;                  /* workers */
    struct engine *single;       /* n = 1: the engine, nothing else is used */
    struct eng_config cfg;       /* options (aggregator's: the whole caps) */
    struct wk_worker wk[WK_MAX]; /* the workers */
    /* Reader side. */
    struct ring_event *rd_ev;     /* the reader sleeps here (rings full) */
    struct wk_batch *cur[WK_MAX]; /* each worker's batch message being filled */
    struct wk_batch tl;           /* the timeline of the batch being filled */
    bool in_batch;                /* cur[] are reserved */
    uint64_t next_pos;            /* next position */
    uint64_t last_ts;             /* newest time given (for wk_tick ordering) */
    struct tcp_dedup *dedup;      /* the SPAN duplicate filter, over every packet */
    /* Aggregator side. */
    struct engine *agg;                    /* the per-server detectors */
    const struct det_ops *agg_table[32];   /* its detector table */
    struct wk_group groups[WK_MAX_GROUPS]; /* their runs in det_table order */
    size_t ngroups;                        /* groups[] used */
    const struct det_ops *wk_table[48];    /* the workers' detector table (with proxies) */
    bool agg_payload;                      /* an aggregator detector reads payload (a stream
                                              parser): segments carry it */
    struct det *agg_health;                /* the server half of det_health, or NULL */
    struct det *agg_estab;                 /* the server half of det_estab, or NULL */
    struct det *agg_inc;                   /* the server half of det_incident, or NULL */
    size_t last_pkt_group;                 /* the last group with on_packet (WR_PKT) */
    bool pkt_all;                          /* group 0 gets every segment (wk_agg_pkt_all) */
    uint64_t iclk_base, iclk_n, iclk_prev; /* WR_ICLOCK being used: positions [base, base +
                                              n), and the clock before base */
    uint64_t iclk[WK_BATCH];               /* its times */
    struct flow view;                      /* the flow the aggregator's detectors are given */
    struct flow unp;                       /* a compact shadow being unpacked */
    uint8_t *view_ext;                     /* a compact shadow's slices, unpacked (ext_size) */
    uint8_t *check_ext;                    /* what the packed slices unpack to (wk_keep) */
    uint8_t *small_tmp;                    /* the slices packed (small_size) */
    size_t ext_size;                       /* eng_ext_size of the aggregator */
    size_t small_size;                     /* eng_small_bytes of the aggregator */
    size_t cp_size;                        /* a struct wk_cslot and the small forms */
    struct ring_event *agg_ev;             /* the aggregator sleeps here */
    pthread_t agg_thread;                  /* its thread */
    bool agg_started;                      /* created */
    struct wk_src src[WK_MAX];             /* per worker */
    struct wk_idmap ids;                   /* first frame -> flow id */
    uint64_t agg_recs[WR__COUNT];          /* records the aggregator took, by type (-v) */
    uint64_t next_id;                      /* last flow id given */
    uint64_t cert_seen[TLS_CERTS_SEEN];    /* certificate keys judged */
    bool cert_suppress;                    /* drop the verdicts that follow */
    const struct sink_ops *out;            /* for n = 1 */
    void *out_ctx;                         /* its state */
    /* wk_new_opts. */
    struct wk_opts live;       /* the capture group and clock (src NULL offline), evidence */
    _Atomic int live_stop;     /* wk_finish: stop reading */
    _Atomic uint64_t frame_no; /* frames numbered so far, over every handle */
    _Atomic int live_failed;   /* a handle failed (live_err) */
    _Atomic int live_drain_cut; /* a worker left frames the kernel had queued (cap_read_queued) */
    /* The live view's flow list (wk_snapshot_flows asks, the aggregator takes it). */
    pthread_mutex_t snap_mu;  /* guards snap and snap_n */
    bool snap_mu_ok;          /* snap_mu was made */
    struct flow_record *snap; /* the list, worst first (snap_max entries) */
    size_t snap_max;          /* its capacity (the first request's max) */
    size_t snap_n;            /* entries in it */
    _Atomic int snap_req;     /* a new list is wanted */
    char live_err[320];       /* why (written once, before live_failed is set) */
};

/* ------------------------------------------------------------------------------------------ */
/* Which detectors run where. */

/*
 * Detectors whose state spans flows run in the aggregator; the others (only per-flow state)
 * run in the workers. A detector not listed here is run in the aggregator: it reads only the
 * flow record there (flow_half is not kept in shadow flows), so list a per-flow detector in
 * wk_flow_dets only if it keeps nothing across flows.
 */
static const struct det_ops *const wk_flow_dets[] = {&det_tcp_ops, &det_tls_ops, NULL};

/*
 * Detectors made of a per-flow half (run in the workers, where the whole one stands in the
 * table) and a server half (run in the aggregator, just before it, or after it with
 * flow_first): det_estab and det_incident run their per-flow half first (the ops of a
 * segment, flow end or tick reach the aggregator before the server half's own call for it,
 * as the whole detector made them first; det_estab.c, incident.c "Batching"), det_health
 * its per-flow half after.
 */
static const struct {
    const struct det_ops *whole, *srv, *flow;
    bool flow_first; /* the per-flow half runs just before the server half, not after it:
                        the server half has no on_packet nor on_flow_end, so its ops come
                        before the group's records, in the same order, without splitting them */
} wk_halves[] = {
    {&det_estab_ops, &det_estab_srv_ops, &det_estab_flow_ops, true},
    {&det_health_ops, &det_health_srv_ops, &det_health_flow_ops, false},
    {&det_incident_ops, &det_incident_srv_ops, &det_incident_flow_ops, true},
};

static bool wk_is_flow_det(const struct det_ops *o)
{
    for (size_t i = 0; wk_flow_dets[i]; i++)
        if (wk_flow_dets[i] == o)
            return true;
    return false;
}

/* ------------------------------------------------------------------------------------------ */
/* Worker side: proxies and the record writer. */

/* The slice a flow has for the proxies (the first proxy's). */
struct wk_slice {
    uint32_t slot;       /* shadow slot (0: none yet) */
    uint64_t last_pos;   /* position of its latest segment (its place in the LRU list) */
    uint64_t closed_pos; /* position of its latest segment before it closed */
};

/* The worker being set up (eng_new_dets calls init on the setting-up thread). */
static struct wk_worker *wk_init_target;
/* Next proxy group index given by init (setting-up thread). */
static unsigned wk_init_group;

/* A proxy det's state: its worker and group (group ~0u: the opener). */
struct wk_proxy {
    struct wk_worker *k; /* the worker */
    unsigned group;      /* aggregator detector group, or WK_OPENER */
};
#define WK_OPENER 0xffffu

/*
 * --evidence-dir: the frame of the segment just analysed (k->ev_cur) to k's staging, by its
 * flow (the engine's last flow; a new flow's id is its first frame). Nothing when the engine
 * has no flow for it (yet: mid-segment, before the lookup).
 */
static void wk_evidence_stage_cur(struct wk_worker *k)
{
    const struct cap_frame *f = k->ev_cur;
    uint64_t id = f ? eng_last_flow_id(k->eng) : 0;
    if (!id)
        return;
    evidence_stage_packet(k->ev_stage, id, id == f->number, f, k->ev_cur_keep);
    k->ev_cur = NULL;
}

/*
 * Hand k's staged frames to the evidence ring: before any of k's records is published, so
 * that the aggregator, which names a flow's evidence by its records (evidence_alias when it
 * numbers the flow, then marks and flow ends through the sinks), finds every frame the
 * worker analysed before them. mid: a segment is being analysed (ring_reserve about to
 * publish its first records): its frame goes too once its flow is known.
 */
static void wk_evidence_flush(struct wk_worker *k, bool mid)
{
    if (!k->ev_stage)
        return;
    if (mid)
        wk_evidence_stage_cur(k);
    evidence_stage_flush(k->ev_stage);
}

/* The frame of the segment about to be analysed (f NULL: none); staged by wk_evidence_seg_end. */
static void wk_evidence_seg_begin(struct wk_worker *k, const struct cap_frame *f, bool keep)
{
    k->ev_cur = k->ev_stage ? f : NULL;
    k->ev_cur_keep = keep;
}

static void wk_evidence_seg_end(struct wk_worker *k)
{
    if (k->ev_cur)
        wk_evidence_stage_cur(k);
    k->ev_cur = NULL;
}

static struct wk_rec *wk_emit(struct wk_worker *k, uint32_t type, size_t len, uint16_t group,
                              uint64_t arg)
{
    k->fold = NULL; /* another record follows it (and ring_reserve may publish) */
    struct wk_rec *r = ring_try_reserve(k->out, len);
    if (!r) { /* ring_reserve publishes: the evidence of what it publishes goes first */
        wk_evidence_flush(k, true);
        r = ring_reserve(k->out, len);
    }
    if (!r)
        return NULL; /* larger than a ring message: cannot happen for the sizes used */
    r->type = (uint16_t)type;
    r->ngrp = 1;
    r->phase = k->phase;
    r->group = group;
    r->pos = k->pos;
    r->sub = k->sub;
    r->arg = arg;
    return r;
}

static void wk_emit_simple(struct wk_worker *k, uint32_t type, uint16_t group, uint64_t arg)
{
    if (wk_emit(k, type, sizeof(struct wk_rec), group, arg))
        ring_push(k->out);
}

/*
 * Folding: the records of one segment (or flow end) for consecutive detector groups are one
 * record when nothing came between them (det_tls, between the groups, rarely emits): the
 * proxy of group g extends the record pushed last, still unpublished, that ends at group g.
 * The aggregator runs the groups of a record in one call, as it would have run them one
 * record after the other (nothing of another worker can come between: same key).
 */
static bool wk_fold(struct wk_worker *k, uint32_t type, unsigned group, uint64_t slot)
{
    struct wk_rec *r = k->fold;
    if (!r || r->type != type || r->arg != slot || (unsigned)r->group + r->ngrp != group ||
        r->pos != k->pos || r->phase != k->phase || r->sub != k->sub)
        return false;
    r->ngrp++;
    return true;
}

/* Push the WR_PKT / WR_END record just written; the next group may extend it. */
static void wk_push_foldable(struct wk_worker *k, struct wk_rec *r)
{
    ring_push(k->out);
    k->fold = r;
}

/* Publish the worker's records (nothing published may be extended any more). */
static void wk_publish(struct wk_worker *k)
{
    wk_evidence_flush(k, false);
    k->fold = NULL;
    ring_publish(k->out);
}

static int wk_proxy_init(struct det *d, const struct eng_config *cfg)
{
    (void)cfg;
    struct wk_proxy *px = calloc(1, sizeof(*px));
    if (!px)
        return ERR_NOMEM;
    px->k = wk_init_target;
    px->group = wk_init_group == 0 ? WK_OPENER : wk_init_group - 1;
    wk_init_group++;
    d->priv = px;
    return 0;
}

static void wk_proxy_free(struct det *d)
{
    free(d->priv);
    d->priv = NULL;
}

/* The opener's slice of f (the opener is entry 0 of the workers' table). */
static struct wk_slice *wk_slice_of(const struct flow *f)
{
    return (struct wk_slice *)(void *)f->ext; /* entry 0: offset 0 */
}

static void wk_open_packet(struct det *d, const struct flow *f, void *fs, const struct pkt *p,
                           const struct tcp_seg *s)
{
    (void)p;
    (void)s;
    struct wk_proxy *px = d->priv;
    struct wk_worker *k = px->k;
    struct wk_slice *sl = fs;
    sl->last_pos = k->pos;
    if (sl->slot || !k->nfree)
        return;
    /* a new flow: its shadow slot, and its provisional id (first frame) to number it by */
    sl->slot = k->free_slots[--k->nfree];
    struct wk_rec *r = wk_emit(k, WR_NEW, sizeof(*r) + sizeof(uint64_t), 0, sl->slot);
    if (r) {
        memcpy(r + 1, &f->rec.flow_id, sizeof(uint64_t));
        ring_push(k->out);
    }
}

static void wk_open_flow_end(struct det *d, const struct flow *f, void *fs)
{
    struct wk_proxy *px = d->priv;
    struct wk_worker *k = px->k;
    struct wk_slice *sl = fs;
    if (k->mode == MODE_ADVANCE) {
        k->phase = f->closed ? PH_LINGER : PH_IDLE;
        k->sub = f->closed ? sl->closed_pos : sl->last_pos;
    } else if (k->mode == MODE_FINISH) {
        k->phase = PH_FIN_FLOWS;
        k->sub = sl->last_pos;
    }
    if (k->health) /* the counts health's per-flow half held back for f, before the groups */
        health_flow_end(k->health, f, f->ext + k->health->off);
}

static void wk_open_tick(struct det *d, uint64_t now_ns)
{
    struct wk_proxy *px = d->priv;
    px->k->phase = PH_TICK;
    px->k->sub = 0;
    if (px->k->health) /* the counts health's flows held back, before its server half ticks */
        health_flow_tick(px->k->health, now_ns);
}

static void wk_open_finish(struct det *d)
{
    struct wk_proxy *px = d->priv;
    px->k->phase = PH_FIN;
    px->k->sub = 0;
}

static void wk_group_packet(struct det *d, const struct flow *f, void *fs, const struct pkt *p,
                            const struct tcp_seg *s)
{
    (void)fs;
    struct wk_proxy *px = d->priv;
    struct wk_worker *k = px->k;
    struct wk_slice *sl = wk_slice_of(f);
    if (px->group == 0 && !k->w->pkt_all) {
        /* nothing in the aggregator reads this segment but the scan tracker, at its moments
           (as eng_run_packet feeds it) */
        bool probe = s->syn && !s->syn_retry, answer = !probe && s->synack && !s->synack_retry;
        struct wk_scan_rec *r =
            probe || answer
                ? (struct wk_scan_rec *)wk_emit(k, WR_SCAN, sizeof(*r), 0, answer ? 1 : 0)
                : NULL;
        if (r) {
            r->client = f->rec.client;
            r->server = f->rec.server;
            r->ts_ns = p->ts_ns;
            ring_push(k->out);
        }
    } else if (px->group != 0 && !k->w->groups[px->group].pkt) {
        /* nothing of the group reads segments */
    } else if (px->group != 0) {
        if (!wk_fold(k, WR_PKT, px->group, sl->slot)) {
            struct wk_rec *r = wk_emit(k, WR_PKT, sizeof(*r), (uint16_t)px->group, sl->slot);
            if (r)
                wk_push_foldable(k, r);
        }
    } else {
        /* the payload only if an aggregator detector parses streams (none since det_health's
           per-flow half runs here) */
        size_t pay = p->payload && k->w->agg_payload ? p->payload_caplen : 0;
        struct wk_pkt_rec *r =
            (struct wk_pkt_rec *)wk_emit(k, WR_PKT, sizeof(*r) + pay, 0, sl->slot);
        if (r) {
            r->rec = f->rec;
            r->seg = *s;
            r->p = *p;
            r->p.payload = NULL;
            if (pay)
                memcpy(r + 1, p->payload, pay);
            r->p.payload_caplen = (uint32_t)pay;
            r->has_syn = f->rec.state == FS_SYN_SENT;
            if (r->has_syn)
                tcp_syn_pack(f, &r->syn);
            wk_push_foldable(k, &r->h);
        }
    }
    if (px->group == k->w->ngroups - 1 && !f->closed)
        sl->closed_pos = k->pos; /* the last proxy: flow_set_closed comes after it */
}

static void wk_group_flow_end(struct det *d, const struct flow *f, void *fs)
{
    (void)fs;
    struct wk_proxy *px = d->priv;
    struct wk_worker *k = px->k;
    struct wk_slice *sl = wk_slice_of(f);
    if (px->group != 0) {
        if (!wk_fold(k, WR_END, px->group, sl->slot)) {
            struct wk_rec *r = wk_emit(k, WR_END, sizeof(*r), (uint16_t)px->group, sl->slot);
            if (r)
                wk_push_foldable(k, r);
        }
    } else {
        struct wk_end_rec *r = (struct wk_end_rec *)wk_emit(k, WR_END, sizeof(*r), 0, sl->slot);
        if (r) {
            r->rec = f->rec;
            wk_push_foldable(k, &r->h);
        }
    }
    if (px->group == k->w->ngroups - 1 && sl->slot) {
        k->free_slots[k->nfree++] = sl->slot;
        sl->slot = 0;
    }
}

static void wk_group_tick(struct det *d, uint64_t now_ns)
{
    struct wk_proxy *px = d->priv;
    struct wk_worker *k = px->k;
    k->sub = 2 * px->group + 1; /* the group's own place; the detectors after it: + 1 */
    if (k->id == 0)
        wk_emit_simple(k, WR_TICK, (uint16_t)px->group, now_ns);
    k->sub++;
}

static void wk_group_finish(struct det *d)
{
    struct wk_proxy *px = d->priv;
    struct wk_worker *k = px->k;
    k->sub = 2 * px->group + 1;
    if (k->id == 0)
        wk_emit_simple(k, WR_FIN, (uint16_t)px->group, 0);
    k->sub++;
}

/*
 * The opener's slice of a compact flow (client SYNs only): all of it, so that a worker's
 * SYN-only flow stays a compact entry as in one engine (without it, every worker flow took
 * its full block: 1.2 KiB per flow under a SYN flood).
 */
static const struct det_small_field wk_slice_small[] = {
    DET_SMALL(struct wk_slice, slot),
    DET_SMALL(struct wk_slice, last_pos),
    DET_SMALL(struct wk_slice, closed_pos),
};

static const struct det_ops wk_opener_ops = {
    .name = "worker-opener",
    .flow_state_size = sizeof(struct wk_slice),
    .small = wk_slice_small,
    .nsmall = sizeof(wk_slice_small) / sizeof(wk_slice_small[0]),
    .init = wk_proxy_init,
    .on_packet = wk_open_packet,
    .on_flow_end = wk_open_flow_end,
    .on_tick = wk_open_tick,
    .on_finish = wk_open_finish,
    .free = wk_proxy_free,
};

static const struct det_ops wk_group_ops = {
    .name = "worker-proxy",
    .init = wk_proxy_init,
    .on_packet = wk_group_packet,
    .on_flow_end = wk_group_flow_end,
    .on_tick = wk_group_tick,
    .on_finish = wk_group_finish,
    .free = wk_proxy_free,
};

/* The worker engine's sink: findings, TLS and certificate records go to the aggregator. */
static void wk_out_put(void *ctx, const struct out_rec *r)
{
    struct wk_worker *k = ctx;
    if (r->type == OUT_FLOW || r->type == OUT_SUMMARY)
        return; /* the aggregator writes flows from its shadows, and the summary */
    size_t len = out_rec_size(r->type);
    struct wk_rec *h = wk_emit(k, WR_REC, sizeof(*h) + len, 0, 0);
    if (!h)
        return;
    memcpy(h + 1, r, len);
    ring_push(k->out);
}

static const struct sink_ops wk_out_ops = {
    .name = "worker",
    .put = wk_out_put,
};

/*
 * The health ops of this worker's per-flow half: to the aggregator, keyed like every record,
 * so the server half applies them where the whole detector would have (the half sends a
 * HOP_ADVANCE only when it may close an interval, det_health.c). They do not split a
 * segment's records: group 0's is the only one (group 1 gets none). What a flow held back is
 * sent before its flow-end groups run (wk_open_flow_end), so that it does not split those.
 */
static void wk_health_op(void *ctx, const struct flow *f, const struct health_op *op)
{
    struct wk_worker *k = ctx;
    uint64_t slot = 0;
    if (op->kind != HOP_ADVANCE) {
        slot = wk_slice_of(f)->slot;
        if (!slot)
            return; /* no shadow flow: the aggregator has no server for it either */
    }
    struct wk_hop_rec *r = (struct wk_hop_rec *)wk_emit(k, WR_HOP, sizeof(*r), 0, slot);
    if (r) {
        r->op = *op;
        ring_push(k->out);
    }
}

/*
 * The establishment ops of this worker's per-flow half: to the aggregator as they are made
 * (a SYN, the first SYN-ACK, a refusing RST, an attempt's end), keyed like every record, so
 * the server half applies them where the whole detector would have.
 */
static void wk_estab_op(void *ctx, const struct flow *f, const struct estab_op *op)
{
    struct wk_worker *k = ctx;
    uint64_t slot = wk_slice_of(f)->slot;
    if (!slot || op->size > ESTAB_OP_MAX)
        return; /* no shadow flow: the aggregator has no server for it either */
    struct wk_rec *r = wk_emit(k, WR_EOP, sizeof(*r) + op->size, 0, slot);
    if (r) {
        memcpy(r + 1, op, op->size);
        ring_push(k->out);
    }
}

/*
 * The incident ops of this worker's per-flow half: to the aggregator, keyed like every
 * record (the server half applies them where the whole detector did the same), with what a
 * compact shadow keeps when the flow is still SYN-only (an op may change its small form).
 */
static void wk_inc_op(void *ctx, const struct flow *f, const struct ic_op *op)
{
    struct wk_worker *k = ctx;
    uint64_t slot = wk_slice_of(f)->slot;
    if (!slot)
        return; /* no shadow flow: the aggregator has no state for it either */
    struct wk_iop_rec *r = (struct wk_iop_rec *)wk_emit(k, WR_IOP, sizeof(*r), 0, slot);
    if (!r)
        return;
    r->op = *op;
    r->has_syn = f->rec.state == FS_SYN_SENT;
    if (r->has_syn) {
        tcp_syn_pack(f, &r->syn);
        r->first_ts_ns = f->rec.first_ts_ns;
        r->last_ts_ns = f->rec.last_ts_ns;
        r->first_frame = f->rec.first_frame;
    }
    ring_push(k->out);
}

/*
 * Worker 0, before batch b: the incident layer's clock at each of its positions (the newest
 * time of a segment the detectors saw; struct wk_iclock_rec), from the timeline every worker
 * gets, for the aggregator's server half (incident_clock).
 */
static void wk_inc_clock(struct wk_worker *k, const struct wk_batch *b)
{
    if (k->id != 0 || !k->w->agg_inc || !b->n)
        return;
    k->pos = b->base;
    k->phase = PH_LINGER;
    k->sub = 0;
    struct wk_iclock_rec *r = (struct wk_iclock_rec *)wk_emit(
        k, WR_ICLOCK, sizeof(*r) + sizeof(uint64_t) * b->n, 0, b->base);
    if (!r)
        return;
    r->n = b->n;
    for (uint32_t i = 0; i < b->n; i++) {
        bool seg = b->owner[i] < WK_MAX && !(b->dup[i / 8] & (1u << (i % 8)));
        if (seg && b->ts[i] > k->iclk)
            k->iclk = b->ts[i];
        r->g[i] = k->iclk;
    }
    ring_push(k->out);
}

/* tls_certs' judge on a worker: judge every time, let the aggregator decide (WR_CERT_KEY). */
static bool wk_cert_judge(void *ctx, uint64_t key)
{
    wk_emit_simple(ctx, WR_CERT_KEY, 0, key);
    return true;
}

static void wk_publish_stats(struct wk_worker *k)
{
    struct eng_stats st;
    eng_get_stats(k->eng, &st);
    pthread_mutex_lock(&k->pub.mu);
    k->pub.st = st;
    pthread_mutex_unlock(&k->pub.mu);
}

/* The engine's clock to ts at k->pos (offline and live alike). */
static void wk_advance(struct wk_worker *k, uint64_t ts)
{
    k->mode = MODE_ADVANCE;
    k->phase = PH_LINGER;
    k->sub = 0;
    eng_tick(k->eng, ts);
}

/* Segment p through k's engine at k->pos (dup as eng_packet_dup). */
static void wk_segment(struct wk_worker *k, const struct pkt *p, int dup)
{
    k->mode = MODE_PACKET;
    k->phase = PH_PKT;
    k->sub = 0;
    eng_packet_dup(k->eng, p, dup);
}

/* A malformed or truncated frame (worker 0 offline, the frame's worker live). */
static void wk_emit_malformed(struct wk_worker *k, uint64_t frame, uint64_t ts_ns,
                              const char *what)
{
    k->phase = PH_PKT;
    k->sub = 0;
    struct wk_malformed_rec *r =
        (struct wk_malformed_rec *)wk_emit(k, WR_MALFORMED, sizeof(*r), 0, frame);
    if (r) {
        r->ts_ns = ts_ns;
        snprintf(r->what, sizeof(r->what), "%s", what);
        ring_push(k->out);
    }
}

/* Run one batch: every position's time, this worker's segments at their places. */
static void wk_run_batch(struct wk_worker *k, const struct wk_batch *b)
{
    wk_inc_clock(k, b);
    for (uint32_t i = 0; i < b->n; i++) {
        k->pos = b->base + i;
        uint8_t o = b->owner[i];
        if (o == OWN_MALFORMED) {
            size_t len;
            if (k->id != 0)
                continue;
            ring_take(k->in); /* the batch message, or the previous one */
            const struct wk_malformed_msg *m = ring_peek(k->in, &len);
            if (!m || m->type != WI_MALFORMED)
                continue; /* cannot happen: the reader queued it with the batch */
            wk_emit_malformed(k, m->frame, m->ts_ns, m->what);
            continue;
        }
        wk_advance(k, b->ts[i]);
        if (o != k->id)
            continue;
        size_t len;
        ring_take(k->in);
        struct wk_pkt_msg *m = ring_peek(k->in, &len);
        if (!m || m->type != WI_PKT)
            continue; /* cannot happen */
        struct pkt p = m->p;
        p.payload = p.payload_caplen ? (const uint8_t *)(m + 1) : NULL;
        struct cap_frame f = {.ts_ns = p.ts_ns,
                              .caplen = m->frame_len,
                              .wirelen = p.wirelen,
                              .linktype = m->linktype,
                              .data = (const uint8_t *)(m + 1) + p.payload_caplen,
                              .number = p.frame};
        /* the frame's bytes stay in the input ring until the batch is released */
        wk_evidence_seg_begin(k, m->frame_len ? &f : NULL, true);
        wk_segment(k, &p, m->dup ? 1 : 0);
        wk_evidence_seg_end(k);
    }
    wk_evidence_flush(k, false); /* before the input ring's messages are released */
}

/* End of input for worker k: its open flows, its detectors' on_finish, the last watermark. */
static void wk_worker_end(struct wk_worker *k)
{
    k->mode = MODE_FINISH;
    k->pos = WK_POS_END;
    k->phase = PH_FIN_FLOWS;
    k->sub = 0;
    log_set_thread(k->tag, 1); /* the exit lines are said once, summed: wk_say_finish */
    eng_finish(k->eng, NULL);
    log_set_thread(k->tag, 0);
    wk_publish_stats(k);
    k->phase = PH_FIN;
    k->sub = WK_POS_END;
    wk_emit_simple(k, WR_WATERMARK, 0, WK_POS_END);
    wk_publish(k);
}

static bool wk_in_ready(void *ctx)
{
    struct wk_worker *k = ctx;
    return ring_readable(k->in);
}

/*
 * What a worker thread sets up for itself, offline (wk_worker_main) or live (wk_live_main):
 * the certificate judge and the health and establishment ops' sinks of its detectors, its
 * log tag and thread name; wk_thread_end undoes the first three.
 */
static void wk_thread_begin(struct wk_worker *k)
{
    tls_certs_set_thread_judge(wk_cert_judge, k);
    health_set_thread_sink(wk_health_op, k);
    estab_set_thread_sink(wk_estab_op, k);
    incident_set_thread_sink(wk_inc_op, k);
    snprintf(k->tag, sizeof(k->tag), "worker %u: ", k->id);
    log_set_thread(k->tag, 0);
    char name[16];
    snprintf(name, sizeof(name), "fm-worker%u", k->id);
    pthread_setname_np(pthread_self(), name);
}

static void wk_thread_end(void)
{
    tls_certs_set_thread_judge(NULL, NULL);
    health_set_thread_sink(NULL, NULL);
    estab_set_thread_sink(NULL, NULL);
    incident_set_thread_sink(NULL, NULL);
}

static void *wk_worker_main(void *arg)
{
    struct wk_worker *k = arg;
    wk_thread_begin(k);
    for (;;) {
        size_t len;
        uint32_t *type = ring_peek(k->in, &len);
        if (!type) {
            wk_publish(k);
            if (k->batches != k->published) { /* idle: the counters are current for once */
                wk_publish_stats(k);
                k->published = k->batches;
            }
            ring_event_wait(k->ev, wk_in_ready, k, WK_WAIT_NS);
            continue;
        }
        if (*type == WI_FINISH) {
            ring_take(k->in);
            ring_release(k->in);
            wk_worker_end(k);
            break;
        }
        if (*type != WI_BATCH) { /* cannot happen: skip it */
            ring_take(k->in);
            ring_release(k->in);
            continue;
        }
        const struct wk_batch *b = (const struct wk_batch *)type;
        uint64_t n = b->n, base = b->base; /* the message is the reader's again once released */
        wk_run_batch(k, b);
        ring_take(k->in);
        ring_release(k->in);
        if (n) {
            k->pos = base + n - 1;
            k->phase = PH_FIN;
            k->sub = WK_POS_END;
            wk_emit_simple(k, WR_WATERMARK, 0, k->pos);
        }
        wk_publish(k);
        if (++k->batches % WK_STATS_EVERY == 0)
            wk_publish_stats(k);
    }
    wk_thread_end();
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Live: each worker reads its own capture handle (wk_new_live; README "Workers"). */

/*
 * Positions of live workers are capture times (ns): worker k's records carry the time of its
 * packet (or of its idle clock), never below k->floor, so that each worker's stream stays in
 * order and behind its watermarks; the aggregator merges the streams by time as it merges
 * the offline positions. Ties between workers go by worker index.
 */
static void wk_live_at(struct wk_worker *k, uint64_t ts)
{
    k->pos = ts > k->floor ? ts : k->floor;
}

/*
 * k's clock to ts (a frame's time, or the idle clock): the engine's advance (lingering and
 * idle flows, then the ticks), keyed at the start of ts's second when ts is the first of a
 * new second, else at ts. So every worker's tick of a second comes at the same position, before
 * any record of that second: what health's and the incident layer's per-flow halves held back
 * for the last second reaches the server halves before worker 0's tick closes it, as offline,
 * where every worker ticks at the first position of the second. (Keyed at its own time, a
 * worker whose clock reached the second after worker 0's sent those counts after the close,
 * into the next interval.) The frame itself is then at its own time.
 */
static void wk_live_advance(struct wk_worker *k, uint64_t ts)
{
    uint64_t sec = ts / NS_PER_S;
    if (sec + 1 > k->live_sec) {
        k->live_sec = sec + 1;
        wk_live_at(k, sec * NS_PER_S);
    } else {
        wk_live_at(k, ts);
    }
    wk_advance(k, ts);
    wk_live_at(k, ts);
}

/* Every position up to k->pos is done: say so, and publish what was read. */
static void wk_live_watermark(struct wk_worker *k)
{
    if (k->pos >= k->floor) {
        k->phase = PH_FIN;
        k->sub = WK_POS_END;
        wk_emit_simple(k, WR_WATERMARK, 0, k->pos);
        k->floor = k->pos + 1;
    }
    wk_publish(k);
    pthread_mutex_lock(&k->pub.mu);
    k->pub.live = k->rd;
    pthread_mutex_unlock(&k->pub.mu);
}

/* One frame of k's handle: decode, then the engine (as wk_run_batch does a position). */
static void wk_live_frame(struct wk_worker *k, struct cap_frame *f)
{
    struct workers *w = k->w;
    f->number = atomic_fetch_add(&w->frame_no, 1) + 1; /* unique over the handles: flow ids */
    k->rd.frames++;
    k->rd.bytes += f->wirelen;
    if (!k->rd.first_ts || f->ts_ns < k->rd.first_ts)
        k->rd.first_ts = f->ts_ns;
    if (f->ts_ns > k->rd.last_ts)
        k->rd.last_ts = f->ts_ns;
    struct pkt p;
    enum pkt_kind kind = pkt_decode(f->linktype, f->data, f->caplen, f->wirelen, f->ts_ns,
                                    f->number, &p, &k->rd.dst);
    if (kind != PKT_TCP && kind != PKT_MALFORMED && kind != PKT_TRUNCATED)
        return;
    k->rd.late += f->ts_ns < k->floor; /* handed on at the worker's clock, not its own */
    wk_live_advance(k, f->ts_ns);
    if (kind == PKT_TCP) {
        wk_evidence_seg_begin(k, f, false); /* libpcap's buffer: copied into the staging */
        wk_segment(k, &p, -1); /* the engine's own duplicate filter: see README "Workers" */
        wk_evidence_seg_end(k);
        return;
    }
    wk_emit_malformed(k, f->number, f->ts_ns, pkt_malformed_what(kind));
}

/* Nothing to read: move k's clock to the common idle time (wall clock less the lateness). */
static void wk_live_idle(struct wk_worker *k)
{
    const struct wk_opts *l = &k->w->live;
    uint64_t now = l->wall_ns();
    if (now <= l->lateness_ns || now - l->lateness_ns < k->floor)
        return;
    wk_live_advance(k, now - l->lateness_ns);
}

/*
 * After the stop, each frame the kernel had queued for k's handle (cap_read_queued): analysed as
 * any (a SIGINT right after the traffic left them unread, and their flows unreported), with
 * a watermark every WK_PUB_FRAMES frames.
 */
static void wk_live_drained(void *ctx, struct cap_frame *f)
{
    struct wk_worker *k = ctx;
    wk_live_frame(k, f);
    if (++k->drained % WK_PUB_FRAMES == 0)
        wk_live_watermark(k);
}

static void *wk_live_main(void *arg)
{
    struct wk_worker *k = arg;
    struct workers *w = k->w;
    wk_thread_begin(k); /* the health sink too: without it live workers dropped the health ops */
    unsigned pending = 0;
    while (!atomic_load(&w->live_stop)) {
        struct cap_frame f;
        int rc = cap_next(k->cap, &f);
        if (rc == 0) {
            wk_live_frame(k, &f);
            if (++pending < WK_PUB_FRAMES && k->pos < k->floor + WK_PUB_NS)
                continue;
        } else if (rc == ERR_AGAIN) {
            wk_live_idle(k);
        } else if (rc == ERR_EOF) {
            break; /* cap_break: wk_finish */
        } else {
            if (!atomic_exchange(&w->live_failed, 1)) {
                snprintf(w->live_err, sizeof(w->live_err), "%s", cap_error(k->cap));
                atomic_store(&w->live_failed, 2);
            }
            break;
        }
        pending = 0;
        wk_live_watermark(k);
        if (++k->batches % WK_STATS_EVERY == 0 || rc == ERR_AGAIN)
            wk_publish_stats(k);
    }
    if (!atomic_load(&w->live_failed) && !cap_read_queued(k->cap, wk_live_drained, k))
        atomic_store(&w->live_drain_cut, 1);
    wk_live_watermark(k);
    wk_worker_end(k);
    wk_thread_end();
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Aggregator. */

static uint64_t wk_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

#define WK_IDMAP_MIN 4096 /* entries at start */

static int wk_idmap_init(struct wk_idmap *m, size_t flows)
{
    size_t cap = WK_IDMAP_MIN;
    m->max = WK_IDMAP_MIN;
    while (m->max < 2 * flows)
        m->max <<= 1;
    m->e = calloc(cap, sizeof(*m->e));
    m->mask = cap - 1;
    m->n = 0;
    return m->e ? 0 : ERR_NOMEM;
}

static void wk_idmap_set(struct wk_idmap *m, uint64_t k, uint64_t v)
{
    size_t i = wk_mix(k) & m->mask;
    while (m->e[i].key && m->e[i].key != k)
        i = (i + 1) & m->mask;
    m->n += m->e[i].key == 0;
    m->e[i].key = k;
    m->e[i].val = v;
}

/* Twice the capacity (once per doubling of the flows alive, never per packet). */
static void wk_idmap_grow(struct wk_idmap *m)
{
    size_t cap = (m->mask + 1) * 2;
    struct wk_id *e = calloc(cap, sizeof(*e));
    if (!e)
        return; /* stays as it is: fuller, still correct until the last free entry */
    struct wk_id *old = m->e;
    size_t ocap = m->mask + 1;
    m->e = e;
    m->mask = cap - 1;
    m->n = 0;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].key)
            wk_idmap_set(m, old[i].key, old[i].val);
    free(old);
}

static void wk_idmap_put(struct wk_idmap *m, uint64_t k, uint64_t v)
{
    if (2 * (m->n + 1) > m->mask + 1 && m->mask + 1 < m->max)
        wk_idmap_grow(m);
    if (m->n + 1 > m->mask)
        return; /* full (growth failed): the flow keeps its provisional id (cannot happen
                   below the flow cap with memory to spare) */
    wk_idmap_set(m, k, v);
}

static uint64_t wk_idmap_get(const struct wk_idmap *m, uint64_t k)
{
    if (!k)
        return 0;
    size_t i = wk_mix(k) & m->mask;
    while (m->e[i].key) {
        if (m->e[i].key == k)
            return m->e[i].val;
        i = (i + 1) & m->mask;
    }
    return k; /* not a worker's flow: leave it (cannot happen) */
}

/* Remove k (linear probing: move the entries after it back into the gap). */
static void wk_idmap_del(struct wk_idmap *m, uint64_t k)
{
    size_t i = wk_mix(k) & m->mask;
    while (m->e[i].key && m->e[i].key != k)
        i = (i + 1) & m->mask;
    if (!m->e[i].key)
        return;
    m->e[i].key = 0;
    m->n--;
    size_t j = i;
    for (;;) {
        j = (j + 1) & m->mask;
        if (!m->e[j].key)
            return;
        size_t home = wk_mix(m->e[j].key) & m->mask;
        /* the entry at j may move to i if its home is not in (i, j] (cyclically) */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        m->e[i] = m->e[j];
        m->e[j].key = 0;
        i = j;
    }
}

/* key(a) < key(b): by position, phase, order, then worker. */
static bool wk_before(const struct wk_rec *a, unsigned ia, const struct wk_rec *b, unsigned ib)
{
    if (a->pos != b->pos)
        return a->pos < b->pos;
    if (a->phase != b->phase)
        return a->phase < b->phase;
    if (a->sub != b->sub)
        return a->sub < b->sub;
    return ia < ib;
}

/*
 * A certificate verdict (a kind whose typed fields are a certificate's, FX_CERT in the kind
 * table): what a WR_CERT_KEY the aggregator has seen before suppresses (every such kind, also
 * ones added later).
 */
static bool wk_cert_verdict(enum fkind k)
{
    return fk_info(k)->family == FX_CERT;
}

/*
 * A worker's finding, TLS or certificate record: ids rewritten (in the ring: the message is
 * the aggregator's until it releases it), then as if made here.
 */
static void wk_agg_rec(struct workers *w, struct wk_rec *h)
{
    struct out_rec *r = (struct out_rec *)(void *)(h + 1);
    switch (r->type) {
    case OUT_FINDING:
        if (w->cert_suppress && wk_cert_verdict(r->u.finding.kind))
            return;
        r->u.finding.flow_id = wk_idmap_get(&w->ids, r->u.finding.flow_id);
        break;
    case OUT_TLS:
        r->u.tls.flow_id = wk_idmap_get(&w->ids, r->u.tls.flow_id);
        break;
    case OUT_CERT:
        r->u.cert.flow_id = wk_idmap_get(&w->ids, r->u.cert.flow_id);
        break;
    case OUT_HTTP:
        r->u.http.flow_id = wk_idmap_get(&w->ids, r->u.http.flow_id);
        break;
    default:
        break;
    }
    w->cert_suppress = false;
    eng_put(w->agg, r);
}

static struct wk_shadow *wk_shadow(struct workers *w, unsigned i, uint64_t slot)
{
    struct wk_src *s = &w->src[i];
    if (slot == 0 || slot > w->wk[i].nslots)
        return NULL;
    return &s->shadow[slot];
}

static struct wk_cslot *wk_cslot(struct workers *w, unsigned i, uint64_t slot)
{
    return (struct wk_cslot *)(void *)(w->src[i].cp + slot * w->cp_size);
}

/*
 * det_estab's server half's slice (slice) from its small form in compact form c, or (pack)
 * the other way: its fields only (eng_small_pack / eng_small_unpack do every detector's).
 */
static void wk_estab_small(struct workers *w, struct wk_cslot *c, uint8_t *slice, bool pack)
{
    const struct det *d = w->agg_estab;
    uint8_t *at = (uint8_t *)(c + 1) + d->small_off;
    for (size_t j = 0; j < d->ops->nsmall; j++) {
        const struct det_small_field *x = &d->ops->small[j];
        if (pack)
            memcpy(at, slice + x->off, x->size);
        else
            memcpy(slice + x->off, at, x->size);
        at += x->size;
    }
}

/* Slices (ext, ext_size bytes) from their small forms, with the flow's c and syn, as flow.c. */
static void wk_unpack(struct workers *w, const struct wk_cslot *c, const struct tcp_syn *syn,
                      const uint8_t *small, uint8_t *ext)
{
    struct flow *f = &w->unp;
    memset(f, 0, sizeof(*f));
    memset(ext, 0, w->ext_size);
    f->ext = ext;
    f->rec.first_ts_ns = c->first_ts_ns;
    f->rec.last_ts_ns = c->last_ts_ns;
    f->rec.first_frame = c->first_frame;
    tcp_syn_unpack(f, syn);
    eng_small_unpack(w->agg, f, small);
}

/* The slices of worker i's slot: its block, or its compact form unpacked into view_ext. */
static uint8_t *wk_ext(struct workers *w, unsigned i, uint64_t slot, struct wk_shadow *sh)
{
    if (sh->block)
        return pool_at(w->src[i].blocks, sh->block);
    if (sh->fresh) {
        memset(w->view_ext, 0, w->ext_size);
        if (sh->fresh == WK_FRESH_ESTAB)
            wk_estab_small(w, wk_cslot(w, i, slot), w->view_ext + w->agg_estab->off, false);
    } else {
        const struct wk_cslot *c = wk_cslot(w, i, slot);
        wk_unpack(w, c, &c->syn, (const uint8_t *)(c + 1), w->view_ext);
    }
    return w->view_ext;
}

/*
 * After the slices of worker i's slot were used (ext: what wk_ext gave): keep a compact
 * shadow compact when its flow is still SYN-only (syn: the TCP state's compact form the
 * record brought, else NULL) and unpacking the packed slices gives them back byte for byte
 * (the record rec's times, then, are what the next unpack uses); else give it a block.
 */
static void wk_keep(struct workers *w, unsigned i, uint64_t slot, struct wk_shadow *sh,
                    const uint8_t *ext, const struct flow_record *rec, const struct tcp_syn *syn)
{
    if (sh->block)
        return;
    if (syn) {
        struct flow *f = &w->unp;
        f->ext = (uint8_t *)(uintptr_t)ext;
        eng_small_pack(w->agg, f, w->small_tmp);
        struct wk_cslot c = {rec->first_ts_ns, rec->last_ts_ns, rec->first_frame, *syn};
        wk_unpack(w, &c, syn, w->small_tmp, w->check_ext);
        if (memcmp(w->check_ext, ext, w->ext_size) == 0) {
            struct wk_cslot *to = wk_cslot(w, i, slot);
            *to = c;
            memcpy(to + 1, w->small_tmp, w->small_size);
            sh->fresh = 0;
            return;
        }
    }
    sh->block = pool_get(w->src[i].blocks); /* as many blocks as slots: never 0 */
    uint8_t *b = pool_at(w->src[i].blocks, sh->block);
    if (b)
        memcpy(b, ext, w->ext_size);
    sh->fresh = 0;
}

/*
 * A new shadow (sh->fresh) made compact as it is: zero slices (but det_estab's server half's,
 * whose small form is already in place with WK_FRESH_ESTAB) are zero small forms, and a zero
 * struct wk_cslot (no SYN: no unpack_more reads it while its detector's slice is zero; the
 * first op that sets one, WR_IOP, brings the flow's SYN state, wk_agg_iop).
 */
static void wk_fresh_pack(struct workers *w, unsigned i, uint64_t slot, struct wk_shadow *sh)
{
    struct wk_cslot *c = wk_cslot(w, i, slot);
    uint8_t *small = (uint8_t *)(c + 1);
    const struct det *e = w->agg_estab;
    size_t eat = 0, elen = 0;
    if (sh->fresh == WK_FRESH_ESTAB && e) {
        eat = e->small_off;
        for (size_t j = 0; j < e->ops->nsmall; j++)
            elen += e->ops->small[j].size;
    }
    memset(c, 0, sizeof(*c));
    memset(small, 0, eat);
    memset(small + eat + elen, 0, w->small_size - eat - elen);
    sh->fresh = 0;
}

/*
 * Health op op of the flow in worker i's slot. On a compact shadow (a SYN-only flow's: its
 * SYNs' counts) or a new one (wk_fresh_pack) only the server half's slice can change: it
 * alone is taken from its small form and put back, when nothing outside its small fields was
 * set (the server half has no unpack_more); else the shadow takes a block.
 */
static void wk_hop_apply(struct workers *w, unsigned i, uint64_t slot, struct wk_shadow *sh,
                         const struct health_op *op)
{
    const struct det *d = w->agg_health;
    const struct det_ops *o = d->ops;
    uint8_t fs[64], back[64];
    if (!sh->block && sh->fresh && !o->unpack_more && o->flow_state_size <= sizeof(fs))
        wk_fresh_pack(w, i, slot, sh);
    if (sh->block || sh->fresh || o->unpack_more || o->flow_state_size > sizeof(fs)) {
        uint8_t *ext = wk_ext(w, i, slot, sh);
        health_apply_op(w->agg_health, ext + d->off, op);
        wk_keep(w, i, slot, sh, ext, NULL, NULL);
        return;
    }
    uint8_t *small = (uint8_t *)(wk_cslot(w, i, slot) + 1) + d->small_off;
    memset(fs, 0, o->flow_state_size);
    const uint8_t *from = small;
    for (size_t j = 0; j < o->nsmall; j++) {
        memcpy(fs + o->small[j].off, from, o->small[j].size);
        from += o->small[j].size;
    }
    health_apply_op(w->agg_health, fs, op);
    memset(back, 0, o->flow_state_size);
    for (size_t j = 0; j < o->nsmall; j++)
        memcpy(back + o->small[j].off, fs + o->small[j].off, o->small[j].size);
    if (memcmp(back, fs, o->flow_state_size) == 0) {
        uint8_t *to = small;
        for (size_t j = 0; j < o->nsmall; j++) {
            memcpy(to, fs + o->small[j].off, o->small[j].size);
            to += o->small[j].size;
        }
        return;
    }
    uint8_t *ext = wk_ext(w, i, slot, sh); /* the other slices, as they were */
    memcpy(ext + d->off, fs, o->flow_state_size);
    wk_keep(w, i, slot, sh, ext, NULL, NULL);
}

/* The aggregator's view of the flow in worker i's slot, with its record rec. */
static struct flow *wk_view(struct workers *w, unsigned i, uint64_t slot, struct wk_shadow *sh,
                            const struct flow_record *rec)
{
    struct flow *f = &w->view;
    f->rec = *rec;
    f->rec.flow_id = w->src[i].gid[slot];
    if (w->src[i].recs)
        w->src[i].recs[slot] = f->rec;
    f->ext = wk_ext(w, i, slot, sh);
    f->stream = sh->stream;
    f->proto = sh->proto;
    f->stream_holes = sh->stream_holes;
    return f;
}

/* Keep what the aggregator's layers changed in the view (the detectors only read it). */
static void wk_view_keep(struct workers *w, struct wk_shadow *sh)
{
    sh->stream = w->view.stream;
    sh->proto = w->view.proto;
    sh->stream_holes = w->view.stream_holes;
}

/*
 * An op on a compact or new shadow (sh) touches only the server half's slice: apply it to
 * that slice taken from the packed form (a new shadow's: zero) and put it back, without
 * unpacking the shadow (a new one becomes WK_FRESH_ESTAB). The slice packs back byte for
 * byte while its flow is SYN-only (its small form is all of it); when an op gave it more (a
 * SYN-ACK's verdict), the shadow takes a block with the slice as the op left it.
 */
static void wk_estab_packed(struct workers *w, unsigned i, uint64_t slot, struct wk_shadow *sh,
                            const struct estab_op *op)
{
    const struct det *d = w->agg_estab;
    uint8_t slice[64], rest[64];
    size_t n = d->ops->flow_state_size;
    struct wk_cslot *c = wk_cslot(w, i, slot);
    if (n > sizeof(slice)) { /* cannot happen (12 bytes): the unpacked way */
        uint8_t *ext = wk_ext(w, i, slot, sh);
        estab_apply_op((struct det *)(uintptr_t)d, ext + d->off, w->src[i].gid[slot], op);
        wk_keep(w, i, slot, sh, ext, NULL, NULL);
        return;
    }
    memset(slice, 0, sizeof(slice));
    if (sh->fresh != WK_FRESH)
        wk_estab_small(w, c, slice, false);
    estab_apply_op((struct det *)(uintptr_t)d, slice, w->src[i].gid[slot], op);
    memcpy(rest, slice, n);
    for (size_t j = 0; j < d->ops->nsmall; j++)
        memset(rest + d->ops->small[j].off, 0, d->ops->small[j].size);
    bool packs = true;
    for (size_t b = 0; b < n; b++)
        packs = packs && rest[b] == 0;
    if (!packs) {
        uint8_t *ext = wk_ext(w, i, slot, sh); /* the other slices, unpacked */
        memcpy(ext + d->off, slice, n);
        wk_keep(w, i, slot, sh, ext, NULL, NULL);
        return;
    }
    wk_estab_small(w, c, slice, true);
    if (sh->fresh)
        sh->fresh = WK_FRESH_ESTAB;
}

/*
 * An establishment op of worker i's per-flow half: the server half applies it to its slice
 * of the flow. The per-flow half runs before the server half's group (wk_halves.flow_first),
 * so an op made during a segment comes before that segment's group records and does not
 * split them; on a SYN-only (or new) flow it edits the packed form (wk_estab_packed), on a
 * flow past its SYNs the block.
 */
static void wk_agg_estab(struct workers *w, unsigned i, const struct wk_rec *h)
{
    struct wk_shadow *sh = wk_shadow(w, i, h->arg);
    if (!w->agg_estab || !sh)
        return;
    const struct estab_op *op = (const struct estab_op *)(const void *)(h + 1);
    if (w->src[i].head_len < sizeof(*h) + sizeof(*op) ||
        op->size > w->src[i].head_len - sizeof(*h))
        return; /* cannot happen: wk_estab_op wrote op->size bytes after the header */
    if (sh->block) {
        uint8_t *ext = pool_at(w->src[i].blocks, sh->block);
        estab_apply_op(w->agg_estab, ext + w->agg_estab->off, w->src[i].gid[h->arg], op);
    } else {
        wk_estab_packed(w, i, h->arg, sh, op);
    }
}

/*
 * The incident layer's clock before anything at position pos: the newest segment time before
 * it (WR_ICLOCK; records come in position order, so a batch's clock is there before them).
 */
static void wk_agg_inc_clock(struct workers *w, uint64_t pos)
{
    if (!pos || !w->iclk_n)
        return;
    uint64_t q = pos - 1;
    uint64_t t = q < w->iclk_base               ? w->iclk_prev
                 : q - w->iclk_base < w->iclk_n ? w->iclk[q - w->iclk_base]
                                                : w->iclk[w->iclk_n - 1];
    incident_clock(w->agg_inc, t);
}

/* WR_ICLOCK: the clock of the next batch's positions. */
static void wk_agg_iclock(struct workers *w, const struct wk_iclock_rec *r)
{
    if (r->n == 0 || r->n > WK_BATCH)
        return; /* cannot happen */
    w->iclk_prev = w->iclk_n ? w->iclk[w->iclk_n - 1] : 0;
    w->iclk_base = r->h.arg;
    w->iclk_n = r->n;
    memcpy(w->iclk, r->g, sizeof(uint64_t) * r->n);
}

/* WR_IOP: the op applied to worker i's shadow flow, kept compact while it is SYN-only. */
static void wk_agg_iop(struct workers *w, unsigned i, const struct wk_iop_rec *r)
{
    struct wk_shadow *sh = wk_shadow(w, i, r->h.arg);
    if (!sh || !w->agg_inc)
        return;
    uint8_t *ext = wk_ext(w, i, r->h.arg, sh);
    incident_apply_op(w->agg_inc, ext + w->agg_inc->off, w->src[i].gid[r->h.arg], &r->op);
    struct flow_record rec;
    rec.first_ts_ns = r->first_ts_ns;
    rec.last_ts_ns = r->last_ts_ns;
    rec.first_frame = r->first_frame;
    wk_keep(w, i, r->h.arg, sh, ext, &rec, r->has_syn ? &r->syn : NULL);
}

/* Process one record of worker i. */
static void wk_agg_one(struct workers *w, unsigned i, struct wk_rec *h)
{
    struct wk_src *s = &w->src[i];
    struct wk_shadow *sh;
    struct flow *f;
    if (h->type < WR__COUNT)
        w->agg_recs[h->type]++;
    if (h->type != WR_REC && h->type != WR_CERT_KEY)
        w->cert_suppress = false;
    if (w->agg_inc && !w->live.src)
        wk_agg_inc_clock(w, h->pos);
    switch (h->type) {
    case WR_REC:
        wk_agg_rec(w, h);
        break;
    case WR_CERT_KEY:
        w->cert_suppress = !tls_certs_first_key(w->cert_seen, h->arg);
        break;
    case WR_NEW: {
        sh = wk_shadow(w, i, h->arg);
        if (!sh)
            break;
        uint64_t prov;
        memcpy(&prov, h + 1, sizeof(prov));
        if (sh->block)
            pool_put(s->blocks, sh->block); /* cannot happen: given back at its end */
        memset(sh, 0, sizeof(*sh));         /* a new flow for the engine's layers too */
        sh->fresh = WK_FRESH;
        s->gid[h->arg] = ++w->next_id;
        if (s->recs) {
            memset(&s->recs[h->arg], 0, sizeof(s->recs[h->arg]));
            s->recs[h->arg].flow_id = w->next_id;
        }
        wk_idmap_put(&w->ids, prov, w->next_id);
        evidence_alias(w->live.evidence, prov, w->next_id); /* its evidence, by this id */
        break;
    }
    case WR_PKT: {
        size_t lo = w->groups[h->group].lo, hi = w->groups[h->group + h->ngrp - 1].hi;
        bool last = h->group + h->ngrp > w->last_pkt_group; /* its last group with segments ran */
        if (h->group == 0) {
            struct wk_pkt_rec *r = (struct wk_pkt_rec *)(void *)h;
            sh = wk_shadow(w, i, h->arg);
            if (!sh)
                break;
            f = wk_view(w, i, h->arg, sh, &r->rec);
            if (!last) {
                /* kept until the segment's last group: free what came before it now, so
                   that the worker always has room for the rest of the group */
                ring_release(w->wk[i].out);
                s->taken = 0;
                s->pkt = r;
                s->hold = true;
            }
            struct pkt p = r->p;
            p.payload = p.payload_caplen ? (const uint8_t *)(r + 1) : NULL;
            eng_run_packet(w->agg, f, &p, &r->seg, lo, hi);
            wk_view_keep(w, sh);
            wk_keep(w, i, h->arg, sh, f->ext, &f->rec, r->has_syn ? &r->syn : NULL);
        } else if (s->pkt) {
            sh = wk_shadow(w, i, h->arg);
            if (!sh)
                break;
            f = wk_view(w, i, h->arg, sh, &s->pkt->rec);
            struct pkt p = s->pkt->p;
            p.payload = p.payload_caplen ? (const uint8_t *)(s->pkt + 1) : NULL;
            eng_run_packet(w->agg, f, &p, &s->pkt->seg, lo, hi);
            wk_view_keep(w, sh);
            wk_keep(w, i, h->arg, sh, f->ext, &f->rec, s->pkt->has_syn ? &s->pkt->syn : NULL);
            if (last) {
                s->pkt = NULL;
                s->hold = false;
            }
        }
        break;
    }
    case WR_END: {
        size_t lo = w->groups[h->group].lo, hi = w->groups[h->group + h->ngrp - 1].hi;
        sh = wk_shadow(w, i, h->arg);
        if (!sh)
            break;
        if (h->group == 0) /* the groups after it come next (only det_tls between) */
            s->end = ((const struct wk_end_rec *)(const void *)h)->rec;
        f = wk_view(w, i, h->arg, sh, &s->end);
        eng_run_flow_end(w->agg, f, lo, hi);
        wk_view_keep(w, sh);
        if (h->group + h->ngrp != w->ngroups)
            wk_keep(w, i, h->arg, sh, f->ext, &f->rec, NULL); /* for its later groups */
        else if (sh->block) {
            pool_put(s->blocks, sh->block);
            sh->block = 0;
        }
        if (h->group + h->ngrp == w->ngroups) {
            struct out_rec o;
            out_rec_set(&o, OUT_FLOW, &f->rec);
            eng_put(w->agg, &o);
            wk_idmap_del(&w->ids, f->rec.first_frame);
            s->gid[h->arg] = 0;
        }
        break;
    }
    case WR_TICK:
        eng_run_tick(w->agg, h->arg, w->groups[h->group].lo, w->groups[h->group].hi);
        break;
    case WR_FIN:
        eng_run_finish(w->agg, w->groups[h->group].lo, w->groups[h->group].hi);
        break;
    case WR_HOP: {
        const struct wk_hop_rec *r = (const struct wk_hop_rec *)(const void *)h;
        if (!w->agg_health)
            break;
        if (r->op.kind == HOP_ADVANCE) {
            health_apply_op(w->agg_health, NULL, &r->op);
            break;
        }
        sh = wk_shadow(w, i, h->arg);
        if (sh)
            wk_hop_apply(w, i, h->arg, sh, &r->op);
        break;
    }
    case WR_EOP:
        wk_agg_estab(w, i, h);
        break;
    case WR_IOP:
        wk_agg_iop(w, i, (const struct wk_iop_rec *)(const void *)h);
        break;
    case WR_ICLOCK:
        wk_agg_iclock(w, (const struct wk_iclock_rec *)(const void *)h);
        break;
    case WR_SCAN: {
        const struct wk_scan_rec *r = (const struct wk_scan_rec *)(const void *)h;
        eng_run_scan(w->agg, &r->client, &r->server, r->ts_ns, h->arg != 0);
        break;
    }
    case WR_MALFORMED: {
        const struct wk_malformed_rec *r = (const struct wk_malformed_rec *)(const void *)h;
        eng_malformed(w->agg, r->ts_ns, h->arg, r->what);
        break;
    }
    default:
        break;
    }
}

/* Look at worker i's next record (watermarks are taken here). */
static void wk_agg_fill(struct workers *w, unsigned i)
{
    struct wk_src *s = &w->src[i];
    while (!s->head && !s->done) {
        size_t len;
        struct wk_rec *h = ring_peek(w->wk[i].out, &len);
        if (!h)
            return;
        if (h->type != WR_WATERMARK) {
            s->head = h;
            s->head_len = len;
            return;
        }
        if (h->arg == WK_POS_END)
            s->done = true;
        else
            s->wm = h->arg + 1;
        ring_take(w->wk[i].out);
        s->taken++;
    }
}

static void wk_agg_release(struct workers *w)
{
    for (unsigned i = 0; i < w->n; i++) {
        struct wk_src *s = &w->src[i];
        if (s->taken && !s->hold) {
            ring_release(w->wk[i].out);
            s->taken = 0;
        }
    }
}

/*
 * The aggregator's wait condition: a worker it is waiting for (no record in hand, not done)
 * has something new. A worker whose head record is peeked reads as readable until it is
 * taken: counting it made the aggregator spin while the other worker caught up.
 */
static bool wk_agg_ready(void *ctx)
{
    struct workers *w = ctx;
    for (unsigned i = 0; i < w->n; i++)
        if (!w->src[i].head && !w->src[i].done && ring_readable(w->wk[i].out))
            return true;
    return false;
}

/* Flows in the live view's order (qsort). */
static int wk_snap_cmp(const void *a, const void *b)
{
    if (eng_flow_worse(a, b))
        return -1;
    return eng_flow_worse(b, a) ? 1 : 0;
}

/* Sift entry i of the min-heap h[0..n) (least bad at the root) down. */
static void wk_snap_down(struct flow_record *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && eng_flow_worse(&h[m], &h[l]))
            m = l;
        if (r < n && eng_flow_worse(&h[m], &h[r]))
            m = r;
        if (m == i)
            return;
        struct flow_record t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/*
 * The live view's list from the shadow flows: the flows every worker has open (also closed
 * ones in their linger), as the aggregator has merged them so far, with the output's ids.
 * The worst snap_max, as eng_snapshot_flows picks them. Under snap_mu (the main thread only
 * copies it out).
 */
static void wk_agg_snapshot(struct workers *w)
{
    atomic_store(&w->snap_req, 0);
    pthread_mutex_lock(&w->snap_mu);
    struct flow_record *h = w->snap;
    size_t n = 0;
    for (unsigned i = 0; i < w->n && w->snap_max; i++) {
        const struct wk_src *s = &w->src[i];
        if (!s->recs)
            break; /* not asked for (wk_opts.flow_view) */
        for (uint32_t slot = 1; slot <= w->wk[i].nslots; slot++) {
            if (!s->gid[slot])
                continue;
            struct flow_record r = s->recs[slot];
            r.flow_id = s->gid[slot];
            r.one_direction = !(r.packets[DIR_C2S] && r.packets[DIR_S2C]) &&
                              r.state != FS_SYN_SENT; /* as the engine says it */
            if (n < w->snap_max) {
                size_t j = n++;
                h[j] = r;
                while (j > 0 && eng_flow_worse(&h[(j - 1) / 2], &h[j])) {
                    struct flow_record t = h[j];
                    h[j] = h[(j - 1) / 2];
                    h[(j - 1) / 2] = t;
                    j = (j - 1) / 2;
                }
            } else if (eng_flow_worse(&r, &h[0])) {
                h[0] = r;
                wk_snap_down(h, n, 0);
            }
        }
    }
    qsort(h, n, sizeof(*h), wk_snap_cmp);
    w->snap_n = n;
    pthread_mutex_unlock(&w->snap_mu);
}

size_t wk_snapshot_flows(struct workers *w, struct flow_record *out, size_t max)
{
    if (w->single)
        return eng_snapshot_flows(w->single, out, max);
    if (!w->snap_mu_ok || !max)
        return 0;
    pthread_mutex_lock(&w->snap_mu);
    if (!w->snap) { /* the first request sets the size (not on the packet path) */
        w->snap = calloc(max, sizeof(*w->snap));
        w->snap_max = w->snap ? max : 0;
    }
    size_t n = w->snap_n < max ? w->snap_n : max;
    if (n)
        memcpy(out, w->snap, n * sizeof(*out));
    pthread_mutex_unlock(&w->snap_mu);
    atomic_store(&w->snap_req, 1);
    ring_event_wake(w->agg_ev);
    return n;
}

static void *wk_agg_main(void *arg)
{
    struct workers *w = arg;
    pthread_setname_np(pthread_self(), "fm-aggregator");
    for (;;) {
        if (atomic_load_explicit(&w->snap_req, memory_order_relaxed))
            wk_agg_snapshot(w);
        int best = -1;
        bool all_done = true;
        for (unsigned i = 0; i < w->n; i++) {
            wk_agg_fill(w, i);
            struct wk_src *s = &w->src[i];
            if (s->head) {
                all_done = false;
                if (best < 0 || wk_before(s->head, i, w->src[best].head, (unsigned)best))
                    best = (int)i;
            } else if (!s->done) {
                all_done = false;
            }
        }
        if (all_done)
            break;
        bool can = best >= 0;
        for (unsigned i = 0; can && i < w->n; i++) {
            const struct wk_src *s = &w->src[i];
            if (!s->head && !s->done && s->wm <= w->src[best].head->pos)
                can = false; /* worker i may still send something before it */
        }
        if (!can) {
            wk_agg_release(w);
            ring_event_wait(w->agg_ev, wk_agg_ready, w, WK_WAIT_NS);
            continue;
        }
        struct wk_src *s = &w->src[best];
        wk_agg_one(w, (unsigned)best, s->head);
        s->head = NULL;
        ring_take(w->wk[best].out);
        if (++s->taken >= 256 && !s->hold) {
            ring_release(w->wk[best].out);
            s->taken = 0;
        }
    }
    wk_agg_release(w);
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Set-up. */

/* Split det_table into the workers' table (with proxies) and the aggregator's groups. */
static int wk_tables(struct workers *w)
{
    size_t nw = 0, na = 0;
    bool in_group = false;
    w->wk_table[nw++] = &wk_opener_ops;
    for (size_t i = 0; det_table[i]; i++) {
        const struct det_ops *o = det_table[i], *flow_half = NULL;
        bool flow_first = false;
        for (size_t j = 0; j < sizeof(wk_halves) / sizeof(wk_halves[0]); j++)
            if (o == wk_halves[j].whole) {
                o = wk_halves[j].srv;
                flow_half = wk_halves[j].flow;
                flow_first = wk_halves[j].flow_first;
            }
        if (nw + 3 >= sizeof(w->wk_table) / sizeof(w->wk_table[0]) ||
            na + 1 >= sizeof(w->agg_table) / sizeof(w->agg_table[0]))
            return ERR_ARG;
        if (flow_first) { /* the per-flow half first: the server half opens a group after it */
            w->wk_table[nw++] = flow_half;
            flow_half = NULL;
            in_group = false;
        }
        if (wk_is_flow_det(o)) {
            w->wk_table[nw++] = o;
            in_group = false;
            continue;
        }
        if (!in_group) {
            if (w->ngroups == WK_MAX_GROUPS)
                return ERR_ARG;
            w->groups[w->ngroups].lo = na;
            w->groups[w->ngroups].hi = na;
            w->ngroups++;
            w->wk_table[nw++] = &wk_group_ops;
            in_group = true;
        }
        w->agg_table[na++] = o;
        w->groups[w->ngroups - 1].hi = na;
        if (o->on_packet) {
            w->groups[w->ngroups - 1].pkt = true;
            w->last_pkt_group = w->ngroups - 1;
        }
        w->agg_payload = w->agg_payload || o->stream;
        if (flow_half) { /* the per-flow half runs after the server half: a new group follows */
            w->wk_table[nw++] = flow_half;
            in_group = false;
        }
    }
    if (w->ngroups == 0) { /* every detector is per-flow: one empty group keeps the protocol */
        w->groups[0].lo = w->groups[0].hi = 0;
        w->ngroups = 1;
        w->wk_table[nw++] = &wk_group_ops;
    }
    w->wk_table[nw] = NULL;
    w->agg_table[na] = NULL;
    return 0;
}

/*
 * Whether group 0 gets a WR_PKT for every segment: only when something in the aggregator reads
 * segments (a detector's on_packet or stream parser) or the flow record between a flow's start
 * and end (the live view's list: wk_src.recs). Otherwise a segment costs the aggregator
 * nothing but for the scan tracker's moments (WR_SCAN); the slices change only by ops and flow
 * ends, which carry what they need (the record comes with WR_END; a compact shadow's SYN state
 * with WR_IOP, the one op whose slice reads it when unpacked).
 */
static bool wk_agg_pkt_all(const struct workers *w)
{
    if (w->live.flow_view || w->agg_payload)
        return true;
    for (size_t g = 0; g < w->ngroups; g++)
        if (w->groups[g].pkt)
            return true;
    return false;
}

static size_t wk_share(size_t total, unsigned n)
{
    size_t s = (total + n - 1) / n;
    return s ? s : 1;
}

static int wk_new_worker(struct workers *w, unsigned i)
{
    struct wk_worker *k = &w->wk[i];
    k->w = w;
    k->id = i;
    struct eng_config c = w->cfg;
    c.max_flows = wk_share(w->cfg.max_flows, w->n);
    c.stream_buffers = wk_share(w->cfg.stream_buffers, w->n);
    if (pthread_mutex_init(&k->pub.mu, NULL) != 0)
        return ERR_NOMEM;
    k->ev = ring_event_new();
    if (!k->ev)
        return ERR_NOMEM;
    k->cap = w->live.src ? cap_handle(w->live.src, i) : NULL;
    if (!k->cap) { /* a live worker reads its own handle (wk_live_main): no ring from the reader */
        k->in = ring_new(WK_RING_BYTES, k->ev, w->rd_ev);
        if (!k->in)
            return ERR_NOMEM;
    }
    k->out = ring_new(WK_RING_BYTES, w->agg_ev, k->ev);
    if (!k->out)
        return ERR_NOMEM;
    if (w->live.evidence) {
        /* offline a batch's frames stay in the input ring until it ends (no copy); live a
           copy of each, handed over at every watermark (WK_PUB_FRAMES frames at most) */
        k->ev_stage = evidence_stage_new(w->live.evidence, k->cap ? WK_PUB_FRAMES : WK_BATCH,
                                         k->cap != NULL);
        if (!k->ev_stage)
            return ERR_NOMEM;
    }
    k->nslots = (uint32_t)c.max_flows;
    k->free_slots = malloc(sizeof(uint32_t) * k->nslots);
    if (!k->free_slots)
        return ERR_NOMEM;
    for (uint32_t s = 0; s < k->nslots; s++)
        k->free_slots[s] = k->nslots - s; /* slot 1 on top */
    k->nfree = k->nslots;
    wk_init_target = k;
    wk_init_group = 0;
    log_set_thread(NULL, i > 0); /* what the detectors say at start, worker 0 says once */
    k->eng = eng_new_dets(&c, w->wk_table, &wk_out_ops, k);
    log_set_thread(NULL, 0);
    wk_init_target = NULL;
    if (!k->eng)
        return ERR_NOMEM;
    k->health = eng_det(k->eng, &det_health_flow_ops);
    eng_flow_ids_from_frames(k->eng);
    struct wk_src *s = &w->src[i];
    size_t ext = eng_ext_size(w->agg);
    s->shadow = calloc((size_t)k->nslots + 1, sizeof(*s->shadow));
    s->cp = calloc((size_t)k->nslots + 1, w->cp_size);
    s->blocks = pool_new((size_t)k->nslots + 1, ext ? ext : 1);
    s->gid = calloc((size_t)k->nslots + 1, sizeof(*s->gid));
    if (w->live.flow_view)
        s->recs = calloc((size_t)k->nslots + 1, sizeof(*s->recs));
    if (!s->shadow || !s->cp || !s->blocks || !s->gid || (w->live.flow_view && !s->recs))
        return ERR_NOMEM;
    /* shadows are set up when first used (WR_NEW): the kernel commits only those pages */
    return 0;
}

/* Start a thread with SIGINT/SIGTERM blocked (the main thread handles them). */
static int wk_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    int rc = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc == 0 ? 0 : ERR_NOMEM;
}

struct workers *wk_new_opts(const struct eng_config *cfg, unsigned n, const struct sink_ops *out,
                            void *out_ctx, const struct wk_opts *live)
{
    if (!cfg || n == 0 || n > WK_MAX ||
        (live && live->src && (n < 2 || cap_handles(live->src) != n || !live->wall_ns)))
        return NULL;
    struct workers *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->n = n;
    w->cfg = *cfg;
    w->out = out;
    w->out_ctx = out_ctx;
    if (live)
        w->live = *live;
    if (n == 1) {
        w->single = eng_new(cfg, out, out_ctx);
        if (!w->single)
            goto fail;
        return w;
    }
    if (wk_tables(w) != 0)
        goto fail;
    w->pkt_all = wk_agg_pkt_all(w);
    evidence_use_aliases(w->live.evidence); /* the aggregator numbers the flows */
    if (pthread_mutex_init(&w->snap_mu, NULL) != 0)
        goto fail;
    w->snap_mu_ok = true;
    w->agg = eng_new_dets(cfg, w->agg_table, out, out_ctx);
    w->agg_health = w->agg ? eng_det(w->agg, &det_health_srv_ops) : NULL;
    w->agg_estab = w->agg ? eng_det(w->agg, &det_estab_srv_ops) : NULL;
    w->agg_inc = w->agg ? eng_det(w->agg, &det_incident_srv_ops) : NULL;
    w->rd_ev = ring_event_new();
    w->agg_ev = ring_event_new();
    w->dedup = tcp_dedup_new(WK_DEDUP_ORDER);
    if (!w->agg || !w->dedup || !w->rd_ev || !w->agg_ev ||
        wk_idmap_init(&w->ids, cfg->max_flows) != 0)
        goto fail;
    w->ext_size = eng_ext_size(w->agg);
    w->small_size = eng_small_bytes(w->agg);
    w->cp_size = (sizeof(struct wk_cslot) + w->small_size + 7) & ~(size_t)7;
    w->view_ext = calloc(1, w->ext_size + 1);
    w->check_ext = calloc(1, w->ext_size + 1);
    w->small_tmp = calloc(1, w->small_size + 1);
    if (!w->view_ext || !w->check_ext || !w->small_tmp)
        goto fail;
    for (unsigned i = 0; i < n; i++)
        if (wk_new_worker(w, i) != 0)
            goto fail;
    for (unsigned i = 0; i < n; i++) {
        struct wk_worker *k = &w->wk[i];
        if (wk_start(&k->thread, k->cap ? wk_live_main : wk_worker_main, k) != 0)
            goto fail;
        k->started = true;
    }
    if (wk_start(&w->agg_thread, wk_agg_main, w) != 0)
        goto fail;
    w->agg_started = true;
    return w;

fail:
    wk_free(w);
    return NULL;
}

struct workers *wk_new(const struct eng_config *cfg, unsigned n, const struct sink_ops *out,
                       void *out_ctx)
{
    return wk_new_opts(cfg, n, out, out_ctx, NULL);
}

void wk_live_stats(struct workers *w, struct wk_live_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->drain_cut = w && atomic_load(&w->live_drain_cut);
    for (unsigned i = 0; w && w->live.src && i < w->n; i++) {
        struct wk_worker *k = &w->wk[i];
        pthread_mutex_lock(&k->pub.mu);
        struct wk_live_stats s = k->pub.live;
        pthread_mutex_unlock(&k->pub.mu);
        st->frames += s.frames;
        st->bytes += s.bytes;
        if (s.first_ts && (!st->first_ts || s.first_ts < st->first_ts))
            st->first_ts = s.first_ts;
        if (s.last_ts > st->last_ts)
            st->last_ts = s.last_ts;
        st->dst.frames += s.dst.frames;
        st->dst.tcp += s.dst.tcp;
        st->dst.other += s.dst.other;
        st->dst.fragments += s.dst.fragments;
        st->dst.malformed += s.dst.malformed;
        st->dst.truncated += s.dst.truncated;
        st->dst.unsupported += s.dst.unsupported;
        st->dst.vlan += s.dst.vlan;
        st->late += s.late;
    }
}

void wk_live_stop(struct workers *w)
{
    if (!w || !w->live.src)
        return;
    atomic_store(&w->live_stop, 1);
    cap_break(w->live.src);
    for (unsigned i = 0; i < w->n; i++) { /* each finishes by itself (wk_live_main) */
        if (w->wk[i].started)
            pthread_join(w->wk[i].thread, NULL);
        w->wk[i].started = false;
    }
}

const char *wk_live_error(struct workers *w)
{
    return w && atomic_load(&w->live_failed) == 2 ? w->live_err : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Reader side. */

/* Hand the batch being filled to every worker. */
static void wk_end_batch(struct workers *w)
{
    if (!w->in_batch)
        return;
    for (unsigned i = 0; i < w->n; i++) {
        struct wk_batch *b = w->cur[i];
        b->type = WI_BATCH;
        b->n = w->tl.n;
        b->base = w->tl.base;
        memcpy(b->ts, w->tl.ts, sizeof(uint64_t) * w->tl.n);
        memcpy(b->owner, w->tl.owner, w->tl.n);
        memcpy(b->dup, w->tl.dup, (w->tl.n + 7) / 8);
        ring_publish(w->wk[i].in);
    }
    w->in_batch = false;
}

/* Reserve every worker's batch message (it goes before the batch's segments). */
static void wk_begin_batch(struct workers *w)
{
    for (unsigned i = 0; i < w->n; i++) {
        w->cur[i] = ring_reserve(w->wk[i].in, sizeof(struct wk_batch));
        ring_push(w->wk[i].in);
    }
    w->tl.n = 0;
    w->tl.base = w->next_pos;
    memset(w->tl.dup, 0, sizeof(w->tl.dup));
    w->in_batch = true;
}

/* A message of len bytes for worker i in the current batch (ending it first if full). */
static void *wk_slot(struct workers *w, unsigned i, size_t len)
{
    if (!w->in_batch)
        wk_begin_batch(w);
    void *m = ring_try_reserve(w->wk[i].in, len);
    if (m)
        return m;
    /* the worker needs this batch to free space; the next batch's message goes first */
    wk_end_batch(w);
    ring_wait_room(w->wk[i].in, len + sizeof(struct wk_batch) + 64);
    wk_begin_batch(w);
    return ring_try_reserve(w->wk[i].in, len);
}

/* Record the position's time and owner; end the batch when full. */
static void wk_note(struct workers *w, uint64_t ts, uint8_t owner)
{
    if (!w->in_batch)
        wk_begin_batch(w);
    w->tl.ts[w->tl.n] = ts;
    w->tl.owner[w->tl.n] = owner;
    w->tl.n++;
    w->next_pos++;
    if (w->tl.n == WK_BATCH)
        wk_end_batch(w);
}

static uint64_t wk_ep_hash(const struct endpoint *e)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)e->port << 8) ^ e->ip.family;
    for (size_t i = 0; i < sizeof(e->ip.a); i += 8) {
        uint64_t v;
        memcpy(&v, e->ip.a + i, 8);
        h = wk_mix(h ^ v);
    }
    return wk_mix(h);
}

void wk_packet(struct workers *w, const struct pkt *p)
{
    wk_frame(w, p, NULL);
}

void wk_frame(struct workers *w, const struct pkt *p, const struct cap_frame *f)
{
    if (w->single) {
        eng_packet(w->single, p);
        return;
    }
    /* symmetric: both directions of a flow sum to the same value */
    unsigned i = (unsigned)((wk_ep_hash(&p->src) + wk_ep_hash(&p->dst)) % w->n);
    size_t pay = p->payload ? p->payload_caplen : 0;
    size_t fl = f && w->live.evidence ? f->caplen : 0;
    if (fl > EVIDENCE_SNAPLEN)
        fl = EVIDENCE_SNAPLEN; /* what the ring keeps of a frame (--evidence-dir has no -s) */
    struct wk_pkt_msg *m = wk_slot(w, i, sizeof(*m) + pay + fl);
    if (!m)
        return; /* a frame larger than a ring message: cannot happen below 512 KiB */
    m->type = WI_PKT;
    m->dup = tcp_dedup_check(w->dedup, p, w->cfg.dup_window_ns);
    m->p = *p;
    m->p.payload = NULL;
    m->p.payload_caplen = (uint32_t)pay;
    m->frame_len = (uint32_t)fl;
    m->linktype = f ? f->linktype : 0;
    if (pay)
        memcpy(m + 1, p->payload, pay);
    if (fl)
        memcpy((uint8_t *)(m + 1) + pay, f->data, fl);
    ring_push(w->wk[i].in);
    if (m->dup) /* wk_slot began the batch: this is position tl.n */
        w->tl.dup[w->tl.n / 8] |= (uint8_t)(1u << (w->tl.n % 8));
    wk_note(w, p->ts_ns, (uint8_t)i);
    w->last_ts = p->ts_ns;
}

void wk_malformed(struct workers *w, uint64_t ts_ns, uint64_t frame, const char *what)
{
    if (w->single) {
        eng_malformed(w->single, ts_ns, frame, what);
        return;
    }
    struct wk_malformed_msg *m = wk_slot(w, 0, sizeof(*m));
    if (!m)
        return;
    m->type = WI_MALFORMED;
    m->ts_ns = ts_ns;
    m->frame = frame;
    snprintf(m->what, sizeof(m->what), "%s", what ? what : "malformed");
    ring_push(w->wk[0].in);
    wk_note(w, ts_ns, OWN_MALFORMED);
}

void wk_tick(struct workers *w, uint64_t now_ns)
{
    if (w->single) {
        eng_tick(w->single, now_ns);
        return;
    }
    wk_note(w, now_ns, OWN_TICK);
    wk_end_batch(w);
}

void wk_flush(struct workers *w)
{
    if (!w->single)
        wk_end_batch(w);
}

/* What a worker's per-flow half of det_health counted for its exit lines (hl_on_finish). */
static void wk_add_health(struct det *into, const struct det *from)
{
    struct hl *a = into->priv;
    const struct hl *b = from->priv;
    if (!a || !b)
        return;
    a->rq_blocks += b->rq_blocks; /* the request slots followed at once, over the workers */
    a->rq_reclaimed += b->rq_reclaimed;
    a->rq_overflows += b->rq_overflows;
}

/*
 * Worker detectors whose on_finish says what they counted (exit warnings, -v lines): each
 * worker's runs muted (wk_worker_end), and worker 0's runs again once the others' counts are
 * added to it, so that each line is said once with the sums, as by one engine (not once per
 * worker). on_finish of these does nothing else then (the per-flow half of det_health has no
 * server table; det_tls only logs).
 */
static const struct {
    const struct det_ops *ops;
    void (*add)(struct det *into, const struct det *from);
} wk_said_at_exit[] = {
    {&det_tls_ops, det_tls_add_counts},
    {&det_health_flow_ops, wk_add_health},
};

static void wk_say_finish(struct workers *w)
{
    for (size_t j = 0; j < sizeof(wk_said_at_exit) / sizeof(wk_said_at_exit[0]); j++) {
        struct det *d0 = eng_det(w->wk[0].eng, wk_said_at_exit[j].ops);
        if (!d0 || !d0->ops->on_finish)
            continue;
        for (unsigned i = 1; i < w->n; i++) {
            struct det *di = eng_det(w->wk[i].eng, wk_said_at_exit[j].ops);
            if (di)
                wk_said_at_exit[j].add(d0, di);
        }
        d0->ops->on_finish(d0);
    }
}

void wk_finish(struct workers *w, struct run_summary *sum)
{
    if (w->single) {
        eng_finish(w->single, sum);
        return;
    }
    if (w->live.src)
        wk_live_stop(w);
    wk_end_batch(w);
    for (unsigned i = 0; i < w->n && !w->live.src; i++) {
        uint32_t *m = ring_reserve(w->wk[i].in, sizeof(uint64_t));
        if (m) {
            *m = WI_FINISH;
            ring_push(w->wk[i].in);
        }
        ring_publish(w->wk[i].in);
    }
    for (unsigned i = 0; i < w->n; i++) {
        if (w->wk[i].started)
            pthread_join(w->wk[i].thread, NULL);
        w->wk[i].started = false;
    }
    if (w->agg_started)
        pthread_join(w->agg_thread, NULL);
    w->agg_started = false;
    wk_say_finish(w);
    if (w->live.evidence) {
        uint64_t frames = 0, flushes = 0;
        for (unsigned i = 0; i < w->n; i++) {
            uint64_t a, b;
            evidence_stage_counts(w->wk[i].ev_stage, &a, &b);
            frames += a;
            flushes += b;
        }
        log_info("evidence: the workers handed %" PRIu64 " frames to the ring in %" PRIu64
                 " batches (one lock each)",
                 frames, flushes);
    }
    for (unsigned i = 0; i < w->n; i++) {
        struct eng_stats st;
        eng_get_stats(w->wk[i].eng, &st);
        eng_add_stats(w->agg, &st);
    }
    struct eng_stats rd = {.mirror_dup_overflow = tcp_dedup_overflows(w->dedup)};
    eng_add_stats(w->agg, &rd);
    if (sum)
        eng_summary(w->agg, sum);
}

void wk_get_stats(struct workers *w, struct eng_stats *st)
{
    if (w->single) {
        eng_get_stats(w->single, st);
        return;
    }
    memset(st, 0, sizeof(*st));
    for (unsigned i = 0; i < w->n; i++) {
        struct wk_worker *k = &w->wk[i];
        pthread_mutex_lock(&k->pub.mu);
        struct eng_stats s = k->pub.st;
        pthread_mutex_unlock(&k->pub.mu);
        st->packets += s.packets;
        st->flows_created += s.flows_created;
        st->flows_active += s.flows_active;
        st->evicted += s.evicted;
        st->idle_expired += s.idle_expired;
        st->mirror_duplicates += s.mirror_duplicates;
        st->mirror_dup_overflow += s.mirror_dup_overflow;
        st->stream_buf_exhausted += s.stream_buf_exhausted;
        st->lazy_bytes += s.lazy_bytes;
        st->lazy_exhausted += s.lazy_exhausted;
        st->http_reclaimed += s.http_reclaimed;
        st->state_peak_bytes += s.state_peak_bytes;
        st->state_peak_flows += s.state_peak_flows;
        st->flow_fixed_bytes = s.flow_fixed_bytes;
        st->flow_struct_bytes = s.flow_struct_bytes;
        for (int j = 0; j < FK__COUNT; j++)
            st->findings[j] += s.findings[j];
        if (s.last_ts_ns > st->last_ts_ns)
            st->last_ts_ns = s.last_ts_ns;
    }
    st->mirror_dup_overflow += tcp_dedup_overflows(w->dedup); /* the reader's: this thread */
}

struct engine *wk_engine(struct workers *w)
{
    return w ? w->single : NULL;
}

unsigned wk_count(const struct workers *w)
{
    return w ? w->n : 0;
}

void wk_agg_counts(const struct workers *w, struct wk_agg_counts *c)
{
    memset(c, 0, sizeof(*c));
    if (!w || w->n < 2)
        return;
    for (int t = 0; t < WR__COUNT; t++)
        c->records += w->agg_recs[t];
    c->segments = w->agg_recs[WR_PKT];
    c->ops = w->agg_recs[WR_HOP] + w->agg_recs[WR_EOP] + w->agg_recs[WR_IOP];
}

void wk_free(struct workers *w)
{
    if (!w)
        return;
    if (w->single) {
        eng_free(w->single);
        free(w);
        return;
    }
    bool running = w->agg_started;
    for (unsigned i = 0; i < w->n; i++)
        running = running || w->wk[i].started;
    if (running) /* not finished (an error path): finish without a summary */
        wk_finish(w, NULL);
    for (unsigned i = 0; i < w->n; i++) {
        struct wk_worker *k = &w->wk[i];
        eng_free(k->eng);
        ring_free(k->in);
        ring_free(k->out);
        evidence_stage_free(k->ev_stage);
        ring_event_free(k->ev);
        free(k->free_slots);
        if (k->ev)
            pthread_mutex_destroy(&k->pub.mu);
        free(w->src[i].shadow);
        free(w->src[i].recs);
        free(w->src[i].cp);
        pool_free(w->src[i].blocks);
        free(w->src[i].gid);
    }
    eng_free(w->agg);
    if (w->snap_mu_ok)
        pthread_mutex_destroy(&w->snap_mu);
    free(w->snap);
    free(w->view_ext);
    free(w->check_ext);
    free(w->small_tmp);
    tcp_dedup_free(w->dedup);
    ring_event_free(w->rd_ev);
    ring_event_free(w->agg_ev);
    free(w->ids.e);
    free(w);
}
