/*
 * stream.h - bounded in-order reassembly of one direction of a TCP byte stream for stream
 * parsers (TLS). Buffers come from pools that allocate each one at first use and then reuse
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

#endif
