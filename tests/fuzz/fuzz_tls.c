/*
 * fuzz_tls.c - libFuzzer target for the TLS parser (analyzers/tls.c), stream reassembly
 * (analyzers/stream.c) and certificate parsing (analyzers/x509.c), both directions at once.
 *
 * Input: a sequence of chunks, each one control byte then data. Control bit 0 is the direction,
 * bit 1 says "out of order: deliver this chunk 8 bytes later than it belongs", bits 2-7 give
 * the chunk length - 1 (1..64). The chunk's bytes go through stream_add at the direction's
 * sequence number and the in-order bytes through tls_parse, as det_tls.c does.
 *
 * Without libFuzzer (FM_FUZZ_MAIN), main() replays files given as arguments and then runs a
 * deterministic mutation loop over built-in seeds, so `make check` exercises it under ASan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/stream.h"
#include "analyzers/tls.h"
#include "analyzers/x509.h"

#define FZ_CAP 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parser callbacks: touch what they are given. */
static void fz_cert(void *ctx, unsigned idx, const uint8_t *der, size_t len)
{
    struct tls_conn *c = ctx;
    struct x509_info xi;
    (void)idx;
    if (x509_parse(der, len, &xi) == 0 && c->rec.sni[0])
        (void)x509_name_matches(&xi, c->rec.sni);
}

static void fz_alert(void *ctx, int dir, int level, int desc)
{
    (void)ctx;
    (void)dir;
    (void)level;
    (void)tls_alert_name(desc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct stream_pool *sp;
    static struct tls_ctx *x;
    static struct tls_conn c;
    if (!sp) {
        sp = stream_pool_new(2, FZ_CAP);
        x = tls_ctx_new(FZ_CAP);
        if (!sp || !x)
            abort();
    }
    memset(&c, 0, sizeof(c));
    struct stream_dir sd[2];
    uint64_t seq[2] = {0, 0};
    if (stream_open(sp, &sd[0], 0) < 0 || stream_open(sp, &sd[1], 0) < 0)
        abort();
    struct tls_events ev = {&c, NULL, NULL, fz_alert, fz_cert, NULL, NULL};
    size_t i = 0;
    while (i < size) {
        uint8_t ctl = data[i++];
        int dir = ctl & 1;
        size_t n = (size_t)(ctl >> 2) + 1;
        if (n > size - i)
            n = size - i;
        uint64_t at = seq[dir];
        if (ctl & 2)
            at += 8; /* leave a hole that a later chunk may fill */
        (void)stream_add(&sd[dir], at, data + i, n);
        seq[dir] += n;
        i += n;
        for (;;) {
            size_t len;
            const uint8_t *b = stream_data(&sd[dir], &len);
            if (len == 0)
                break;
            int r = tls_parse(&c, dir, b, len, x, &ev);
            if (r < 0)
                break;
            if ((size_t)r > len)
                abort(); /* the parser may never claim more than it was given */
            stream_consume(&sd[dir], (size_t)r);
        }
    }
    stream_close(sp, &sd[0]);
    stream_close(sp, &sd[1]);
    return 0;
}

#ifdef FM_FUZZ_MAIN
#include "tests/unit/tls_vectors.h"

/* Wrap bytes as chunks of the input format (direction dir, in order, 64 bytes each). */
static size_t to_chunks(const uint8_t *p, size_t n, int dir, uint8_t *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 65 <= cap; i += 64) {
        size_t k = n - i < 64 ? n - i : 64;
        out[o++] = (uint8_t)(((k - 1) << 2) | (unsigned)dir);
        memcpy(out + o, p + i, k);
        o += k;
    }
    return o;
}

/* A small deterministic PRNG (xorshift64). */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A server flight: one handshake record with a Certificate message carrying cert_taleo. */
static size_t cert_flight(uint8_t *b)
{
    size_t clen = sizeof(cert_taleo), o = 0;
    size_t mlen = 3 + 3 + clen, rlen = 4 + mlen;
    const uint8_t hdr[] = {0x16,
                           0x03,
                           0x03,
                           (uint8_t)(rlen >> 8),
                           (uint8_t)rlen,
                           0x0b,
                           0,
                           (uint8_t)(mlen >> 8),
                           (uint8_t)mlen,
                           0,
                           (uint8_t)((clen + 3) >> 8),
                           (uint8_t)(clen + 3),
                           0,
                           (uint8_t)(clen >> 8),
                           (uint8_t)clen};
    memcpy(b, hdr, sizeof(hdr));
    o = sizeof(hdr);
    memcpy(b + o, cert_taleo, clen);
    return o + clen;
}

int main(int argc, char **argv)
{
    static uint8_t seed[8192], buf[8192], flight[2048];
    size_t n = to_chunks(ch_openjdk, sizeof(ch_openjdk), 0, seed, sizeof(seed));
    size_t fl = cert_flight(flight);
    n += to_chunks(flight, fl, 1, seed + n, sizeof(seed) - n);
    for (int a = 1; a < argc; a++) {
        FILE *f = fopen(argv[a], "rb");
        if (!f) {
            fprintf(stderr, "fuzz_tls: cannot open %s\n", argv[a]);
            return 1;
        }
        size_t k = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, k);
    }
    uint64_t s = 0x9e3779b97f4a7c15ull;
    unsigned iters = 20000;
    LLVMFuzzerTestOneInput(seed, n);
    for (unsigned it = 0; it < iters; it++) {
        memcpy(buf, seed, n);
        size_t len = n;
        unsigned muts = 1 + (unsigned)(rnd(&s) % 8);
        for (unsigned m = 0; m < muts; m++) {
            size_t at = (size_t)(rnd(&s) % len);
            switch (rnd(&s) % 4) {
            case 0:
                buf[at] ^= (uint8_t)(1u << (rnd(&s) % 8));
                break;
            case 1:
                buf[at] = (uint8_t)rnd(&s);
                break;
            case 2:
                buf[at] = (uint8_t)(rnd(&s) % 2 ? 0xff : 0x00);
                break;
            default:
                len = at + 1;
                break; /* truncate */
            }
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("fuzz_tls: %u mutated inputs and %d files replayed without a fault\n", iters + 1,
           argc - 1);
    return 0;
}
#endif
