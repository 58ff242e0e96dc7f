/*
 * stream.h - the stream layer: the engine reassembles each TCP flow once per direction and
 * delivers the bytes, in order, to the application parsers (TLS, HTTP/1, response-time
 * turn-taking) through one interface, struct stream_ops (probe / parse / gap / eof), after
 * deciding once per flow which protocol it carries. Below it, bounded in-order reassembly
 * buffers (struct stream_dir) from pools that allocate each one at first use and then reuse
 * it, all within one byte budget; a direction keeps a window of at most cap bytes starting at
 * the first byte its parser has not consumed yet.
 */
#ifndef FM_STREAM_H
#define FM_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/err.h"

#define STREAM_MAX_RANGES 8 /* out-of-order ranges held beyond the in-order edge */

/* Default byte budget of all stream buffers together (4096 buffers of the default 16 KiB). */
#define STREAM_DEFAULT_BUDGET ((size_t)64 << 20)

/*
 * The byte budget of every pool's buffers together (--stream-budget); set it before any
 * pool hands out buffers. A stream_open that would go past it fails like an empty pool.
 */
void stream_set_budget(size_t bytes);
size_t stream_budget(void);
/* Bytes of stream buffers allocated now, all pools together. */
size_t stream_allocated(void);

/* A pool of equal buffers, each allocated on first use and then reused. */
struct stream_pool;

/* Up to nbuf buffers of cap bytes each (cap >= 64). NULL on failure. */
struct stream_pool *stream_pool_new(size_t nbuf, size_t cap);
void stream_pool_free(struct stream_pool *sp);
/* Buffer size of the pool. */
size_t stream_pool_cap(const struct stream_pool *sp);
/* Buffers currently handed out. */
size_t stream_pool_used(const struct stream_pool *sp);

/* A byte range [s, e) in relative sequence space. */
struct stream_range {
    uint64_t s; /* first byte */
    uint64_t e; /* one past the last byte */
};

/* One direction's reassembly state (lives in the flow; zeroed = no buffer). */
struct stream_dir {
    uint8_t *buf;                             /* pool buffer, NULL if none */
    uint32_t slot;                            /* the pool slot buf belongs to */
    uint32_t cap;                             /* size of buf */
    uint32_t len;                             /* in-order bytes at buf[0, len) */
    uint64_t base;                            /* relative sequence number of buf[0] */
    uint8_t nr;                               /* r[] entries used */
    struct stream_range r[STREAM_MAX_RANGES]; /* out-of-order data held, sorted, disjoint,
                                                 all beyond base + len */
    bool gap;                                 /* a hole could not be tracked: stop parsing */
    bool full;                                /* bytes past the window were dropped */
    uint64_t dropped;                         /* bytes dropped past the window */
};

/* What stream_add did with a segment. */
enum stream_add_res {
    STREAM_IN_ORDER = 0, /* new bytes extended the in-order data */
    STREAM_OOO,          /* new bytes held beyond a hole */
    STREAM_OLD,          /* nothing new: a retransmission of bytes already held or consumed */
    STREAM_CAPPED,       /* new bytes fell past the window and were dropped (full is set) */
    STREAM_GAP,          /* the hole could not be tracked (gap is set); nothing stored */
};

/*
 * Take a buffer from the pool for sd, whose first byte has relative sequence first_seq.
 * 0, or ERR_FULL when the pool is empty or the byte budget spent (sd is left without one).
 */
int stream_open(struct stream_pool *sp, struct stream_dir *sd, uint64_t first_seq) FM_WUR;

/* Give sd's buffer back to the pool (no-op without one); sd is zeroed. */
void stream_close(struct stream_pool *sp, struct stream_dir *sd);

/*
 * Add a segment's payload at relative sequence seq. Bytes before the in-order edge and bytes
 * already held are ignored (the first copy wins); bytes past base + cap are dropped.
 */
enum stream_add_res stream_add(struct stream_dir *sd, uint64_t seq, const uint8_t *data,
                               size_t len);

/* The in-order bytes not consumed yet. */
static inline const uint8_t *stream_data(const struct stream_dir *sd, size_t *len)
{
    *len = sd->len;
    return sd->buf;
}

/* Drop n in-order bytes from the front (the parser consumed them), sliding the window. */
void stream_consume(struct stream_dir *sd, size_t n);

/* True when out-of-order data is waiting for a hole to fill. */
static inline bool stream_has_hole(const struct stream_dir *sd)
{
    return sd->nr > 0;
}

/* ---- the stream layer (stream_layer.c): reassembly once per flow, one parser interface ---- */

struct det;
struct flow;
struct pkt;
struct tcp_seg;
struct pool;

/* What a flow carries, decided once from its first payload (stream_proto). */
enum stream_proto {
    STREAM_PROTO_UNKNOWN = 0, /* no payload yet */
    STREAM_PROTO_TLS,         /* the client spoke first, a TLS handshake record */
    STREAM_PROTO_HTTP,        /* the client spoke first, an HTTP/1.x request line */
    STREAM_PROTO_OTHER,       /* anything else (or the server spoke first) */
};

/* In-order bytes of one direction handed to a parser. */
struct stream_chunk {
    int dir;             /* DIR_C2S or DIR_S2C */
    uint64_t off;        /* stream offset of b[0] (0 = the direction's first byte) */
    const uint8_t *b;    /* the bytes, borrowed for the call */
    size_t n;            /* how many */
    bool full;           /* buffered parser: b is the whole window (nothing more can come
                            until some of it is consumed) */
    const struct pkt *p; /* the packet that made them deliverable (its time and frame) */
};

/* Bytes of one direction that will never be delivered (they were not captured). */
struct stream_gap {
    int dir;             /* DIR_C2S or DIR_S2C */
    uint64_t off;        /* stream offset of the first missing byte */
    uint64_t n;          /* missing bytes (> 0) */
    bool cut;            /* the end of the packet p was cut by the snaplen (else: segments
                            that never came, or held bytes not kept) */
    const struct pkt *p; /* the packet at which they were given up */
};

/* What probe, parse and gap return besides a byte count. */
enum stream_verdict {
    STREAM_NOT_MINE = 0,  /* probe: do not follow this flow */
    STREAM_FOLLOW = 1,    /* probe: follow it; parse/gap/eof/framed calls come from now on */
    STREAM_DONE_DIR = -1, /* parse/gap: nothing more of this direction, please */
    STREAM_DONE = -2,     /* parse/gap: nothing more of this flow, please */
};

/*
 * An application parser: a detector that reads the reassembled stream sets det_ops.stream.
 * The contract, per flow (fs is the detector's own per-flow slice, as in det_ops):
 *
 * - probe is called once, at the flow's first segment with payload, with the protocol the
 *   layer decided (the same for every parser; stream_proto(f) tells it later too). Return
 *   STREAM_FOLLOW to get the flow's bytes, else STREAM_NOT_MINE (never asked again). A
 *   buffered parser is told whether buffers could be had (can_buffer); without them it
 *   should decline.
 * - parse gets new in-order bytes of one direction, each byte once, in stream order, at the
 *   packet that made them deliverable (a segment, or the one that filled a hole). An
 *   unbuffered parser (stream_ops.buffered false) must take them all and returns c->n (or a
 *   verdict). A buffered parser (at most one, det_tls) is handed every byte it has not
 *   consumed yet, from a window of the --stream-cap size kept by the layer; it returns the
 *   bytes it consumed (the rest is handed again with the next ones), or a verdict.
 * - gap says that n bytes at off will never come (a hole given up, bytes cut by the snaplen,
 *   bytes held beyond a hole that the layer could not keep); the next parse starts after
 *   them. Returns 0 or a verdict. A buffered parser's window cannot step over a hole: after
 *   its gap call it gets nothing more of that direction.
 * - eof: the direction ended (a FIN), after its last bytes were delivered.
 * - framed says whether the parser still reads messages in direction dir (so a segment
 *   ahead of a hole is worth holding until the hole fills) rather than timing bytes as they
 *   come. Holes are held only when some following parser is framed.
 *
 * Verdicts stop the calls: STREAM_DONE_DIR for that direction, STREAM_DONE for the flow. The
 * parser's on_packet runs right after its stream calls for the same packet. probe, parse and
 * gap are required; eof and framed may be NULL (no FIN wanted; never framed).
 */
struct stream_ops {
    bool buffered; /* keeps unconsumed bytes in the layer's window (see parse) */
    int (*probe)(struct det *d, const struct flow *f, void *fs, enum stream_proto proto,
                 bool can_buffer, const struct pkt *p);
    int (*parse)(struct det *d, const struct flow *f, void *fs, const struct stream_chunk *c);
    int (*gap)(struct det *d, const struct flow *f, void *fs, const struct stream_gap *g);
    void (*eof)(struct det *d, const struct flow *f, void *fs, int dir, const struct pkt *p);
    bool (*framed)(struct det *d, const struct flow *f, void *fs, int dir);
};

/* The layer of one engine. */
struct stream_layer;

/*
 * A layer for up to max_flows flows feeding the stream parsers among dets[0, ndets) (those
 * with ops->stream), with buffers of cap bytes (nbuf of them at most). NULL on failure.
 */
struct stream_layer *stream_layer_new(struct det *dets, size_t ndets, size_t max_flows, size_t cap,
                                      size_t nbuf);
void stream_layer_free(struct stream_layer *sl);

/*
 * Reassemble segment sg of flow f (the flow's layer state is taken at its first payload) and
 * work out what it makes deliverable; then stream_layer_deliver(d) hands that to detector d (call
 * it for each detector in table order, just before its on_packet), and stream_layer_done
 * ends the packet.
 */
void stream_layer_segment(struct stream_layer *sl, struct flow *f, const struct pkt *p,
                          const struct tcp_seg *sg);
void stream_layer_deliver(struct stream_layer *sl, struct det *d, const struct flow *f, void *fs);
/* Has this packet anything for the parsers (else stream_layer_deliver would do nothing)? */
bool stream_layer_planned(const struct stream_layer *sl);
void stream_layer_done(struct stream_layer *sl, struct flow *f);

/* Flow f ends (after the detectors' on_flow_end): its layer state goes back to the pool. */
void stream_layer_flow_end(struct stream_layer *sl, struct flow *f);

/* Bytes of layer state handed out now (blocks and buffers). */
uint64_t stream_layer_bytes(const struct stream_layer *sl);

/* Buffers the layer could not get (pool empty or byte budget spent). */
uint64_t stream_layer_exhausted(const struct stream_layer *sl);

/* What the flow carries (STREAM_PROTO_UNKNOWN before its first payload). */
enum stream_proto stream_proto(const struct flow *f);

/* True while bytes of direction dir wait ahead of a hole (as of the current segment). */
bool stream_hole(const struct flow *f, int dir);

#endif
