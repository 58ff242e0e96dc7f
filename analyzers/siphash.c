/* siphash.c - SipHash over a byte string, and the per-run random key. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* getrandom */
#endif
#include "analyzers/siphash.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

/* 8 bytes at b as a little-endian word, whatever the host's byte order. */
static uint64_t load_le64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

uint64_t siphash_cd(const struct siphash_key *k, const void *data, size_t len, int c, int d)
{
    const uint8_t *p = data;
    struct siphash_state s;
    siphash_init(&s, k);
    size_t full = len - len % 8;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = load_le64(p + i);
        s.v3 ^= m;
        for (int r = 0; r < c; r++)
            siphash_round(&s);
        s.v0 ^= m;
    }
    /* The last block: the remaining 0..7 bytes, and the length modulo 256 in the top byte. */
    uint64_t b = (uint64_t)(len & 0xff) << 56;
    for (size_t i = 0; i < len % 8; i++)
        b |= (uint64_t)p[full + i] << (8 * i);
    s.v3 ^= b;
    for (int r = 0; r < c; r++)
        siphash_round(&s);
    s.v0 ^= b;
    s.v2 ^= 0xff;
    for (int r = 0; r < d; r++)
        siphash_round(&s);
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t siphash13(const struct siphash_key *k, const void *data, size_t len)
{
    return siphash_cd(k, data, len, 1, 3);
}

/* Read exactly len bytes from /dev/urandom; 0 or ERR_IO. */
static int urandom_read(uint8_t *buf, size_t len)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ERR_IO;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    return got == len ? 0 : ERR_IO;
}

int siphash_key_random(struct siphash_key *k)
{
    uint8_t buf[16];
    size_t got = 0;
    while (got < sizeof(buf)) {
        ssize_t n = getrandom(buf + got, sizeof(buf) - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got < sizeof(buf) && urandom_read(buf, sizeof(buf)) != 0)
        return ERR_IO;
    k->k0 = load_le64(buf);
    k->k1 = load_le64(buf + 8);
    return 0;
}
