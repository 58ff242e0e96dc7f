/*
 * pool.h - a pool of equal fixed-size blocks of per-flow state, sized and allocated at
 * start-up, handed out by index when a flow first needs one and taken back when it ends.
 * No allocation after pool_new; running out is counted, never an allocation.
 */
#ifndef FM_POOL_H
#define FM_POOL_H

#include <stddef.h>
#include <stdint.h>

struct pool;

/* What a pool holds now and held at most (for the bytes-per-flow accounting). */
struct pool_stats {
    size_t block;       /* bytes per block */
    size_t nblocks;     /* blocks in the pool */
    size_t used;        /* blocks handed out now */
    size_t peak;        /* the most handed out at once */
    uint64_t exhausted; /* pool_get calls that found no free block */
};

/* nblocks blocks of size bytes each (both > 0). NULL on failure. */
struct pool *pool_new(size_t nblocks, size_t size);
void pool_free(struct pool *p);

/* A zeroed block: its handle (index + 1), or 0 when the pool is empty (counted). */
uint32_t pool_get(struct pool *p);

/* The block of handle h (h from pool_get, not yet put back); NULL for h == 0. */
void *pool_at(const struct pool *p, uint32_t h);

/* Give block h back (no-op for h == 0). */
void pool_put(struct pool *p, uint32_t h);

void pool_get_stats(const struct pool *p, struct pool_stats *st);

#endif
