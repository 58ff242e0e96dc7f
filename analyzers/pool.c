/*
 * pool.c - fixed-size blocks from one allocation made at start-up, a stack of free indexes
 * (the most recently freed block is reused first, so memory that was never touched stays
 * untouched: a SYN flood that takes no blocks costs none).
 */
#include "analyzers/pool.h"

#include <stdlib.h>
#include <string.h>

struct pool {
    uint8_t *mem;       /* nblocks * size bytes */
    size_t size;        /* bytes per block */
    size_t nblocks;     /* blocks */
    uint32_t *free;     /* stack of free block indexes */
    size_t nfree;       /* entries on the stack */
    size_t peak;        /* most blocks handed out at once */
    uint64_t exhausted; /* pool_get calls that found the stack empty */
};

struct pool *pool_new(size_t nblocks, size_t size)
{
    if (nblocks == 0 || size == 0 || nblocks >= UINT32_MAX || nblocks > SIZE_MAX / size)
        return NULL;
    struct pool *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->mem = calloc(nblocks, size);
    p->free = malloc(nblocks * sizeof(*p->free));
    if (!p->mem || !p->free)
        goto free_pool;
    p->size = size;
    p->nblocks = nblocks;
    for (size_t i = 0; i < nblocks; i++)
        p->free[i] = (uint32_t)(nblocks - 1 - i);
    p->nfree = nblocks;
    return p;

free_pool:
    free(p->mem);
    free(p->free);
    free(p);
    return NULL;
}

void pool_free(struct pool *p)
{
    if (!p)
        return;
    free(p->mem);
    free(p->free);
    free(p);
}

uint32_t pool_get(struct pool *p)
{
    if (p->nfree == 0) {
        p->exhausted++;
        return 0;
    }
    uint32_t i = p->free[--p->nfree];
    memset(p->mem + (size_t)i * p->size, 0, p->size);
    size_t used = p->nblocks - p->nfree;
    if (used > p->peak)
        p->peak = used;
    return i + 1;
}

void *pool_at(const struct pool *p, uint32_t h)
{
    if (h == 0 || h > p->nblocks)
        return NULL;
    return p->mem + (size_t)(h - 1) * p->size;
}

void pool_put(struct pool *p, uint32_t h)
{
    if (h == 0 || h > p->nblocks || p->nfree == p->nblocks)
        return;
    p->free[p->nfree++] = h - 1;
}

void pool_get_stats(const struct pool *p, struct pool_stats *st)
{
    st->block = p->size;
    st->nblocks = p->nblocks;
    st->used = p->nblocks - p->nfree;
    st->peak = p->peak;
    st->exhausted = p->exhausted;
}
