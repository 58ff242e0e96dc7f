/*
 * hash.h - 64-bit mixing for small internal indexes (the flow table and the SPAN duplicate
 * filter use keyed SipHash instead: siphash.h).
 */
#ifndef FM_HASH_H
#define FM_HASH_H

#include <stdint.h>
#include <string.h>

/* 64-bit finaliser (MurmurHash3 fmix64): every input bit affects every output bit. */
static inline uint64_t hash_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* 8 bytes at b as a host-order integer (any alignment). */
static inline uint64_t hash_load64(const uint8_t *b)
{
    uint64_t v;
    memcpy(&v, b, sizeof(v));
    return v;
}

#endif
