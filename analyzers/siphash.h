/*
 * siphash.h - SipHash-1-3, the keyed hash of the flow table and the SPAN duplicate filter
 * (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012). With a key drawn at
 * random for each run, whoever sends the packets cannot choose tuples that share a bucket.
 */
#ifndef FM_SIPHASH_H
#define FM_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#include "capture/err.h"

/* A 128-bit SipHash key: the 16 key bytes read as two little-endian words. */
struct siphash_key {
    uint64_t k0; /* key bytes 0..7 */
    uint64_t k1; /* key bytes 8..15 */
};

/*
 * Fill k from the kernel's random source (getrandom, else /dev/urandom). 0, or ERR_IO when
 * neither gives 16 bytes.
 */
int siphash_key_random(struct siphash_key *k) FM_WUR;

/* SipHash-c-d of len bytes at data (c compression and d finalisation rounds; 1-3 or 2-4). */
uint64_t siphash_cd(const struct siphash_key *k, const void *data, size_t len, int c, int d);

/* SipHash-1-3 of len bytes at data. */
uint64_t siphash13(const struct siphash_key *k, const void *data, size_t len);

/* ---- the hot path: words instead of bytes, inlined ---- */

static inline uint64_t siphash_rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

/* The four state words and one SipRound over them (the ARX network of the paper, §2). */
struct siphash_state {
    uint64_t v0, v1, v2, v3; /* the internal state */
};

static inline void siphash_round(struct siphash_state *s)
{
    s->v0 += s->v1;
    s->v1 = siphash_rotl(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = siphash_rotl(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = siphash_rotl(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = siphash_rotl(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = siphash_rotl(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = siphash_rotl(s->v2, 32);
}

/* Initialisation: the key xored with "somepseudorandomlygeneratedbytes". */
static inline void siphash_init(struct siphash_state *s, const struct siphash_key *k)
{
    s->v0 = k->k0 ^ 0x736f6d6570736575ULL;
    s->v1 = k->k1 ^ 0x646f72616e646f6dULL;
    s->v2 = k->k0 ^ 0x6c7967656e657261ULL;
    s->v3 = k->k1 ^ 0x7465646279746573ULL;
}

/* One message word with one compression round (SipHash-1-x). */
static inline void siphash13_word(struct siphash_state *s, uint64_t m)
{
    s->v3 ^= m;
    siphash_round(s);
    s->v0 ^= m;
}

/* The last block (the message length in bytes, no tail) and three finalisation rounds. */
static inline uint64_t siphash13_final(struct siphash_state *s, size_t nwords)
{
    siphash13_word(s, (uint64_t)(nwords * 8) << 56);
    s->v2 ^= 0xff;
    siphash_round(s);
    siphash_round(s);
    siphash_round(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/*
 * SipHash-1-3 of n words: the same value as siphash13() of their 8*n little-endian bytes
 * (tests/unit/test_siphash.c checks it), without a byte loop.
 */
static inline uint64_t siphash13_words(const struct siphash_key *k, const uint64_t *w, size_t n)
{
    struct siphash_state s;
    siphash_init(&s, k);
    for (size_t i = 0; i < n; i++)
        siphash13_word(&s, w[i]);
    return siphash13_final(&s, n);
}

#endif
