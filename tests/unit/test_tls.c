/* test_tls.c - unit tests for analyzers/tls.c (records, handshake, JA3/JA4) and x509.c. */
#include <stdlib.h>
#include <string.h>

#include "analyzers/tls.h"
#include "analyzers/x509.h"
#include "tests/unit/testhelp.h"
#include "tests/unit/tls_vectors.h"

#define CAP 16384

/* What the parser reported. */
struct rec {
    unsigned hs[2][32];          /* handshake messages per direction and type (< 32) */
    unsigned hs_unparsed;        /* messages skipped as too large */
    unsigned records[2][32];     /* non-handshake records per direction and type - 16 */
    unsigned enc_records;        /* of which encrypted */
    int alert_level, alert_desc; /* last alert */
    unsigned alerts;             /* alerts seen */
    unsigned certs;              /* certificates */
    size_t cert_len[4];          /* their lengths */
    bool cert_ok[4];             /* the DER bytes equal cert_selfsigned */
};

static void ev_record(void *ctx, int dir, uint8_t type, uint32_t len, bool enc)
{
    struct rec *r = ctx;
    (void)len;
    if (type >= 16 && type < 48)
        r->records[dir][type - 16]++;
    if (enc)
        r->enc_records++;
}

static void ev_hs(void *ctx, int dir, uint8_t type, uint32_t len, bool parsed)
{
    struct rec *r = ctx;
    (void)len;
    if (type < 32)
        r->hs[dir][type]++;
    if (!parsed)
        r->hs_unparsed++;
}

static void ev_alert(void *ctx, int dir, int level, int desc)
{
    struct rec *r = ctx;
    (void)dir;
    r->alerts++;
    r->alert_level = level;
    r->alert_desc = desc;
}

static void ev_cert(void *ctx, unsigned idx, const uint8_t *der, size_t len)
{
    struct rec *r = ctx;
    if (idx < 4) {
        r->cert_len[idx] = len;
        r->cert_ok[idx] = len == sizeof(cert_selfsigned) && !memcmp(der, cert_selfsigned, len);
    }
    r->certs++;
}

/* A stream direction as the detector keeps it: unconsumed bytes at the front. */
struct pend {
    uint8_t b[4 * CAP]; /* bytes not consumed yet */
    size_t n;           /* how many */
};

static struct tls_ctx *g_ctx;
static struct pend g_pend[2];

/* Append bytes to direction dir and parse as far as possible. Returns the last parse result. */
static int feed(struct tls_conn *c, struct rec *r, int dir, const uint8_t *p, size_t n)
{
    struct tls_events ev = {r, ev_record, ev_hs, ev_alert, ev_cert, NULL, NULL};
    struct pend *q = &g_pend[dir];
    int rc = NEED_MORE;
    if (q->n + n > sizeof(q->b))
        return MALFORMED;
    memcpy(q->b + q->n, p, n);
    q->n += n;
    while (q->n) {
        size_t len = q->n < CAP ? q->n : CAP;
        rc = tls_parse(c, dir, q->b, len, g_ctx, &ev);
        if (rc < 0)
            break;
        memmove(q->b, q->b + rc, q->n - (size_t)rc);
        q->n -= (size_t)rc;
    }
    return rc;
}

static void reset(struct tls_conn *c, struct rec *r)
{
    memset(c, 0, sizeof(*c));
    memset(r, 0, sizeof(*r));
    memset(g_pend, 0, sizeof(g_pend));
}

/* The facts tshark and the FoxIO algorithm give for ch_openjdk. */
static void check_openjdk(const struct tls_conn *c, const struct rec *r)
{
    CHECK(c->seen_ch);
    CHECK_EQ_U64(r->hs[DIR_C2S][TLS_HS_CLIENT_HELLO], 1);
    CHECK(strcmp(c->rec.sni, "zeek.org") == 0);
    CHECK(strcmp(c->rec.alpn, "h2,http/1.1") == 0);
    CHECK_EQ_U64(c->rec.client_version, TLS_V13);
    CHECK_EQ_U64(c->legacy_version, TLS_V12);
    CHECK(strcmp(c->rec.ja3, "bddb16608b241c89053080cf80771423") == 0);
    CHECK(strcmp(c->rec.ja4, "t13d3113h2_1d947a95fc68_7e1102d2036b") == 0);
}

static void test_client_hello_real(void)
{
    struct tls_conn c;
    struct rec r;
    reset(&c, &r);
    CHECK(tls_looks_like(ch_openjdk, sizeof(ch_openjdk)));
    struct tls_events ev = {&r, ev_record, ev_hs, ev_alert, ev_cert, NULL, NULL};
    int rc = tls_parse(&c, DIR_C2S, ch_openjdk, sizeof(ch_openjdk), g_ctx, &ev);
    CHECK_EQ_U64(rc, sizeof(ch_openjdk));
    check_openjdk(&c, &r);
}

/* Every split of the ClientHello record into two segments gives the same result. */
static void test_split_every_byte(void)
{
    struct tls_conn c;
    struct rec r;
    unsigned bad = 0;
    for (size_t k = 1; k < sizeof(ch_openjdk); k++) {
        reset(&c, &r);
        int rc1 = feed(&c, &r, DIR_C2S, ch_openjdk, k);
        int rc2 = feed(&c, &r, DIR_C2S, ch_openjdk + k, sizeof(ch_openjdk) - k);
        if (rc1 == MALFORMED || rc2 == MALFORMED || !c.seen_ch || g_pend[0].n != 0 ||
            strcmp(c.rec.ja3, "bddb16608b241c89053080cf80771423") != 0 ||
            r.hs[DIR_C2S][TLS_HS_CLIENT_HELLO] != 1)
            bad++;
    }
    CHECK_EQ_U64(bad, 0);
    /* one byte at a time */
    reset(&c, &r);
    for (size_t k = 0; k < sizeof(ch_openjdk); k++)
        CHECK(feed(&c, &r, DIR_C2S, ch_openjdk + k, 1) != MALFORMED);
    check_openjdk(&c, &r);
}

/* Re-frame the ClientHello message into records of at most chunk bytes each. */
static size_t reframe(const uint8_t *msg, size_t mlen, size_t chunk, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < mlen; i += chunk) {
        size_t n = mlen - i < chunk ? mlen - i : chunk;
        out[o++] = 0x16;
        out[o++] = 0x03;
        out[o++] = 0x01;
        out[o++] = (uint8_t)(n >> 8);
        out[o++] = (uint8_t)n;
        memcpy(out + o, msg + i, n);
        o += n;
    }
    return o;
}

/* A handshake message spanning several records (down to 1-byte records). */
static void test_message_across_records(void)
{
    static uint8_t buf[8 * 1024];
    const size_t chunks[] = {1, 7, 100, 451};
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        struct tls_conn c;
        struct rec r;
        reset(&c, &r);
        size_t n = reframe(ch_openjdk + 5, sizeof(ch_openjdk) - 5, chunks[i], buf);
        CHECK(feed(&c, &r, DIR_C2S, buf, n) != MALFORMED);
        check_openjdk(&c, &r);
        CHECK_EQ_U64(g_pend[0].n, 0);
        /* and split into 3-byte segments */
        reset(&c, &r);
        for (size_t k = 0; k < n; k += 3)
            CHECK(feed(&c, &r, DIR_C2S, buf + k, n - k < 3 ? n - k : 3) != MALFORMED);
        check_openjdk(&c, &r);
    }
}

/* Builders for a synthetic server flight. */
static size_t put16(uint8_t *b, size_t o, unsigned v)
{
    b[o] = (uint8_t)(v >> 8);
    b[o + 1] = (uint8_t)v;
    return o + 2;
}

static size_t put24(uint8_t *b, size_t o, unsigned v)
{
    b[o] = (uint8_t)(v >> 16);
    b[o + 1] = (uint8_t)(v >> 8);
    b[o + 2] = (uint8_t)v;
    return o + 3;
}

/*
 * ServerHello body: legacy_version 0x0303, 32-byte random (rnd), empty session id, cipher,
 * null compression, extensions: renegotiation_info (ff01, 1 byte 00) and, if sv, a
 * supported_versions (002b) selecting sv.
 */
static size_t server_hello(uint8_t *b, size_t o, const uint8_t rnd[32], unsigned cipher,
                           unsigned sv)
{
    size_t start;
    b[o++] = TLS_HS_SERVER_HELLO;
    start = o;
    o += 3;
    o = put16(b, o, 0x0303);
    memcpy(b + o, rnd, 32);
    o += 32;
    b[o++] = 0; /* session id */
    o = put16(b, o, cipher);
    b[o++] = 0; /* compression */
    o = put16(b, o, sv ? 5 + 6 : 5);
    o = put16(b, o, 0xff01);
    o = put16(b, o, 1);
    b[o++] = 0;
    if (sv) {
        o = put16(b, o, 0x002b);
        o = put16(b, o, 2);
        o = put16(b, o, sv);
    }
    put24(b, start, (unsigned)(o - start - 3));
    return o;
}

/* Wrap body bytes b[from, to) as one record of type t, written at out. */
static size_t record(uint8_t *out, uint8_t t, const uint8_t *body, size_t n)
{
    out[0] = t;
    out[1] = 0x03;
    out[2] = 0x03;
    put16(out, 3, (unsigned)n);
    memcpy(out + 5, body, n);
    return 5 + n;
}

/*
 * TLS 1.2 server flight coalesced in one buffer: one handshake record holding ServerHello +
 * Certificate (cert_selfsigned) + ServerHelloDone, then CCS, a 40-byte encrypted Finished
 * and a plaintext fatal alert unknown_ca(48).
 */
static size_t server_flight12(uint8_t *out)
{
    static uint8_t hs[4096];
    uint8_t rnd[32];
    memset(rnd, 0x42, sizeof(rnd));
    size_t o = server_hello(hs, 0, rnd, 0xc02f, 0);
    hs[o++] = TLS_HS_CERTIFICATE;
    o = put24(hs, o, (unsigned)(3 + 3 + sizeof(cert_selfsigned)));
    o = put24(hs, o, (unsigned)(3 + sizeof(cert_selfsigned)));
    o = put24(hs, o, (unsigned)sizeof(cert_selfsigned));
    memcpy(hs + o, cert_selfsigned, sizeof(cert_selfsigned));
    o += sizeof(cert_selfsigned);
    hs[o++] = TLS_HS_SERVER_HELLO_DONE;
    o = put24(hs, o, 0);
    size_t n = record(out, TLS_CT_HANDSHAKE, hs, o);
    const uint8_t ccs[1] = {1};
    uint8_t fin[40];
    memset(fin, 0xee, sizeof(fin));
    const uint8_t alert[2] = {2, 48};
    n += record(out + n, TLS_CT_CCS, ccs, 1);
    n += record(out + n, TLS_CT_HANDSHAKE, fin, sizeof(fin));
    n += record(out + n, TLS_CT_ALERT, alert, 2);
    return n;
}

static void check_flight12(const struct tls_conn *c, const struct rec *r)
{
    CHECK(c->seen_sh);
    CHECK_EQ_U64(c->rec.version, TLS_V12);
    CHECK_EQ_U64(c->rec.cipher, 0xc02f);
    CHECK(strlen(c->rec.ja3s) == 32);
    CHECK_EQ_U64(r->hs[DIR_S2C][TLS_HS_SERVER_HELLO], 1);
    CHECK_EQ_U64(r->hs[DIR_S2C][TLS_HS_CERTIFICATE], 1);
    CHECK_EQ_U64(r->hs[DIR_S2C][TLS_HS_SERVER_HELLO_DONE], 1);
    CHECK_EQ_U64(r->certs, 1);
    CHECK(r->cert_ok[0]);
    CHECK_EQ_U64(r->records[DIR_S2C][TLS_CT_CCS - 16], 1);
    CHECK_EQ_U64(r->records[DIR_S2C][TLS_CT_HANDSHAKE - 16], 1); /* the encrypted Finished */
    CHECK_EQ_U64(r->enc_records, 1);
    CHECK_EQ_U64(r->alerts, 1);
    CHECK(r->alert_level == 2 && r->alert_desc == 48);
    CHECK(c->d[DIR_S2C].enc);
}

static void test_coalesced_and_split_flight(void)
{
    static uint8_t fl[4096];
    size_t n = server_flight12(fl);
    struct tls_conn c;
    struct rec r;
    reset(&c, &r);
    CHECK(feed(&c, &r, DIR_S2C, fl, n) != MALFORMED);
    check_flight12(&c, &r);
    CHECK_EQ_U64(g_pend[1].n, 0);
    unsigned bad = 0;
    for (size_t k = 1; k < n; k++) {
        reset(&c, &r);
        int a = feed(&c, &r, DIR_S2C, fl, k);
        int b = feed(&c, &r, DIR_S2C, fl + k, n - k);
        if (a == MALFORMED || b == MALFORMED || !c.seen_sh || r.certs != 1 || !r.cert_ok[0] ||
            r.alerts != 1 || r.alert_desc != 48 || r.enc_records != 1 || g_pend[1].n != 0)
            bad++;
    }
    CHECK_EQ_U64(bad, 0);
}

/* ServerHello.random of a HelloRetryRequest. */
static const uint8_t hrr_rnd[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

static void test_hrr_and_tls13(void)
{
    static uint8_t hs[512], buf[1024];
    struct tls_conn c;
    struct rec r;
    reset(&c, &r);
    size_t o = server_hello(hs, 0, hrr_rnd, 0x1301, TLS_V13);
    size_t n = record(buf, TLS_CT_HANDSHAKE, hs, o);
    CHECK(feed(&c, &r, DIR_S2C, buf, n) != MALFORMED);
    CHECK(c.rec.hello_retry);
    CHECK(!c.seen_sh);
    uint8_t rnd[32];
    memset(rnd, 7, sizeof(rnd));
    o = server_hello(hs, 0, rnd, 0x1302, TLS_V13);
    n = record(buf, TLS_CT_HANDSHAKE, hs, o);
    const uint8_t ccs[1] = {1};
    uint8_t enc[60];
    memset(enc, 0x99, sizeof(enc));
    n += record(buf + n, TLS_CT_CCS, ccs, 1);
    n += record(buf + n, TLS_CT_APPDATA, enc, sizeof(enc));
    n += record(buf + n, TLS_CT_HANDSHAKE, enc, 19); /* after a 1.3 ServerHello: opaque */
    CHECK(feed(&c, &r, DIR_S2C, buf, n) != MALFORMED);
    CHECK(c.seen_sh);
    CHECK_EQ_U64(c.rec.version, TLS_V13);
    CHECK_EQ_U64(c.rec.cipher, 0x1302);
    CHECK(!c.d[DIR_S2C].enc); /* a 1.3 CCS does not switch encryption */
    CHECK_EQ_U64(r.enc_records, 2);
    CHECK_EQ_U64(r.hs[DIR_S2C][TLS_HS_SERVER_HELLO], 2);
}

static void test_hostile(void)
{
    struct tls_conn c;
    struct rec r;
    static uint8_t buf[2048];

    /* record length 0xffff with 3 bytes: beyond the largest legal record */
    const uint8_t big[] = {0x16, 0x03, 0x01, 0xff, 0xff, 0x01, 0x00, 0x00};
    reset(&c, &r);
    CHECK(feed(&c, &r, DIR_C2S, big, sizeof(big)) == MALFORMED);
    CHECK(c.d[DIR_C2S].dead);
    /* and once dead, the direction stays dead */
    CHECK(feed(&c, &r, DIR_C2S, ch_openjdk, sizeof(ch_openjdk)) == MALFORMED);

    /* handshake length larger than its record, then a record of another type */
    const uint8_t cut[] = {0x16, 0x03, 0x03, 0x00, 0x08, 0x01, 0x00, 0x10, 0x00, 0x03,
                           0x03, 0xaa, 0xbb, 0x14, 0x03, 0x03, 0x00, 0x01, 0x01};
    reset(&c, &r);
    CHECK(feed(&c, &r, DIR_C2S, cut, 13) != MALFORMED); /* waits for the rest */
    CHECK(!c.seen_ch);
    CHECK(feed(&c, &r, DIR_C2S, cut + 13, sizeof(cut) - 13) == MALFORMED);

    /* a handshake message too large to ever buffer is skipped, not parsed */
    const uint8_t huge[] = {0x16, 0x03, 0x03, 0x00, 0x08, 0x0b, 0xff, 0xff, 0xff, 0x00,
                            0x00, 0x00, 0x00, 0x14, 0x03, 0x03, 0x00, 0x01, 0x01};
    reset(&c, &r);
    CHECK(feed(&c, &r, DIR_S2C, huge, 13) != MALFORMED);
    CHECK_EQ_U64(r.hs_unparsed, 1);
    CHECK_EQ_U64(r.certs, 0);

    /* extension block length overflowing the message */
    memcpy(buf, ch_openjdk, sizeof(ch_openjdk));
    /* find the extensions length field: after the compression methods */
    size_t o = 5 + 4 + 2 + 32;
    o += 1 + buf[o];                             /* session id */
    o += 2 + ((size_t)buf[o] << 8 | buf[o + 1]); /* cipher suites */
    o += 1 + buf[o];                             /* compression */
    buf[o] = 0xff;
    buf[o + 1] = 0xff;
    reset(&c, &r);
    CHECK(feed(&c, &r, DIR_C2S, buf, sizeof(ch_openjdk)) == MALFORMED);
    CHECK(!c.seen_ch);

    /* one extension's length overflowing the extension block */
    memcpy(buf, ch_openjdk, sizeof(ch_openjdk));
    buf[o + 2 + 2] = 0x7f; /* first extension's length high byte */
    reset(&c, &r);
    CHECK(feed(&c, &r, DIR_C2S, buf, sizeof(ch_openjdk)) == MALFORMED);

    /* an odd cipher suites length */
    memcpy(buf, ch_openjdk, sizeof(ch_openjdk));
    size_t cs = 5 + 4 + 2 + 32;
    cs += 1 + buf[cs];
    buf[cs + 1] ^= 1;
    reset(&c, &r);
    CHECK(feed(&c, &r, DIR_C2S, buf, sizeof(ch_openjdk)) == MALFORMED);

    /* not TLS at all */
    const uint8_t http[] = "GET / HTTP/1.1\r\n";
    CHECK(!tls_looks_like(http, sizeof(http) - 1));
    reset(&c, &r);
    CHECK(feed(&c, &r, DIR_C2S, http, sizeof(http) - 1) == MALFORMED);

    /* a zero-length record of every type is harmless */
    const uint8_t empty[] = {0x17, 0x03, 0x03, 0x00, 0x00, 0x16, 0x03, 0x03, 0x00, 0x00};
    reset(&c, &r);
    CHECK(feed(&c, &r, DIR_C2S, empty, sizeof(empty)) != MALFORMED);
    CHECK_EQ_U64(g_pend[0].n, 0);
}

/* The JA4 document's own example (FoxIO technical_details/JA4.md). */
static void test_ja4_spec(void)
{
    const uint16_t ciphers[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
                                0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
    const uint16_t exts[] = {0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d,
                             0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015};
    const uint16_t sigs[] = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601};
    uint16_t sort[32];
    char text[512], out[64];
    struct tls_ja4_in in = {TLS_V13, true, ciphers, 15, exts, 16, sigs, 8, (const uint8_t *)"h2",
                            2};
    CHECK(tls_ja4(&in, sort, text, sizeof(text), out, sizeof(out)) == 0);
    CHECK(strcmp(out, "t13d1516h2_8daaf6152771_e5627efa2ab1") == 0);
    in.nsigalgs = 0; /* no signature algorithms: no trailing underscore */
    CHECK(tls_ja4(&in, sort, text, sizeof(text), out, sizeof(out)) == 0);
    CHECK(strcmp(out + 24, "6d807ffa2a79") == 0);
    /* ALPN with non-alphanumeric ends: first and last hex characters */
    in.alpn = (const uint8_t *)"\x30\xab";
    CHECK(tls_ja4(&in, sort, text, sizeof(text), out, sizeof(out)) == 0);
    CHECK(out[8] == '3' && out[9] == 'b');
    in.alpn = NULL;
    in.sni = false;
    in.version = TLS_V12;
    in.nciphers = 0;
    CHECK(tls_ja4(&in, sort, text, sizeof(text), out, sizeof(out)) == 0);
    CHECK(strncmp(out, "t12i001600_000000000000_", 24) == 0);
}

static void test_names(void)
{
    char b[32];
    CHECK(strcmp(tls_alert_name(46), "certificate_unknown") == 0);
    CHECK(strcmp(tls_alert_name(48), "unknown_ca") == 0);
    CHECK(strcmp(tls_alert_name(0), "close_notify") == 0);
    CHECK(strcmp(tls_alert_name(116), "certificate_required") == 0);
    CHECK(strcmp(tls_alert_name(999), "unknown") == 0);
    CHECK(strcmp(tls_version_name(TLS_V13, b, sizeof(b)), "TLS 1.3") == 0);
    CHECK(strcmp(tls_version_name(0x7f10, b, sizeof(b)), "TLS 1.3 (draft 16)") == 0);
    CHECK(strcmp(tls_version_name(0x1234, b, sizeof(b)), "0x1234") == 0);
    CHECK(strcmp(tls_cipher_name(0x1301, b, sizeof(b)), "TLS_AES_128_GCM_SHA256") == 0);
    /* OpenSSL's names (also for suites this build would not negotiate), the legacy ones
       OpenSSL built without weak ciphers lacks (RC4, 3DES) */
    CHECK(strcmp(tls_cipher_name(0xc02c, b, sizeof(b)),
                 "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384") == 0);
    CHECK(strcmp(tls_cipher_name(0xcca8, b, sizeof(b)),
                 "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256") == 0);
    CHECK(strcmp(tls_cipher_name(0x0005, b, sizeof(b)), "TLS_RSA_WITH_RC4_128_SHA") == 0);
    CHECK(strcmp(tls_cipher_name(0x000a, b, sizeof(b)), "TLS_RSA_WITH_3DES_EDE_CBC_SHA") == 0);
    CHECK(strcmp(tls_cipher_name(0xc0ad, b, sizeof(b)), "TLS_ECDHE_ECDSA_WITH_AES_256_CCM") == 0);
    CHECK(strcmp(tls_cipher_name(0x0001, b, sizeof(b)), "TLS_RSA_WITH_NULL_MD5") == 0);
    CHECK(strcmp(tls_cipher_name(0x00ff, b, sizeof(b)), "TLS_EMPTY_RENEGOTIATION_INFO_SCSV") == 0);
    CHECK(strcmp(tls_cipher_name(0x5600, b, sizeof(b)), "TLS_FALLBACK_SCSV") == 0);
    /* unknown (GREASE, unassigned): the number */
    CHECK(strcmp(tls_cipher_name(0x0a0a, b, sizeof(b)), "0x0a0a") == 0);
    CHECK(strcmp(tls_cipher_name(0xfeff, b, sizeof(b)), "0xfeff") == 0);
    CHECK(tls_is_grease(0x0a0a) && tls_is_grease(0xfafa) && !tls_is_grease(0x0a1a));
}

static void test_x509(void)
{
    struct x509_info xi;
    CHECK(x509_parse(cert_taleo, sizeof(cert_taleo), &xi) == 0);
    CHECK_EQ_U64(xi.rec.not_before, 1304467200);
    CHECK_EQ_U64(xi.rec.not_after, 1467676799);
    CHECK(strcmp(xi.rec.key_type, "RSA") == 0);
    CHECK_EQ_U64(xi.rec.key_bits, 2048);
    CHECK(strcmp(xi.rec.sig_alg, "sha1WithRSAEncryption") == 0);
    CHECK(xi.weak_sig);
    CHECK(!xi.weak_key);
    CHECK(!xi.rec.self_signed);
    CHECK(strcmp(xi.rec.sans, "*.taleo.net,taleo.net") == 0);
    CHECK(strstr(xi.rec.subject, "CN = *.taleo.net") != NULL);
    CHECK(strstr(xi.rec.issuer, "COMODO High-Assurance Secure Server CA") != NULL);
    CHECK_EQ_U64(strlen(xi.rec.sha256), 64);
    char fp[65];
    CHECK(x509_hash_hex(X509_SHA256, cert_taleo, sizeof(cert_taleo), fp, sizeof(fp)) == 0);
    CHECK(strcmp(fp, xi.rec.sha256) == 0);
    CHECK(x509_name_matches(&xi, "www.taleo.net"));
    CHECK(x509_name_matches(&xi, "WWW.Taleo.NET."));
    CHECK(x509_name_matches(&xi, "taleo.net"));
    CHECK(!x509_name_matches(&xi, "a.b.taleo.net"));
    CHECK(!x509_name_matches(&xi, "taleo.net.example.com"));
    CHECK(!x509_name_matches(&xi, "invoice.test"));

    CHECK(x509_parse(cert_selfsigned, sizeof(cert_selfsigned), &xi) == 0);
    CHECK(xi.rec.self_signed);
    CHECK(!xi.weak_sig);
    CHECK_EQ_U64(xi.ndns, 0);
    CHECK(xi.cn[0] == '\0');
    CHECK(!x509_name_matches(&xi, "localhost"));

    uint8_t junk[64];
    memset(junk, 0x30, sizeof(junk));
    CHECK(x509_parse(junk, sizeof(junk), &xi) == ERR_FORMAT);
    CHECK(x509_parse(cert_taleo, 100, &xi) == ERR_FORMAT);
}

static void test_dns_match(void)
{
    CHECK(x509_dns_match("invoice.test", "INVOICE.test"));
    CHECK(!x509_dns_match("invoice.test", "other.test"));
    CHECK(x509_dns_match("*.example.com", "a.example.com"));
    CHECK(!x509_dns_match("*.example.com", "example.com"));
    CHECK(!x509_dns_match("*.example.com", ".example.com"));
    CHECK(!x509_dns_match("*.example.com", "a.b.example.com"));
    CHECK(!x509_dns_match("f*.example.com", "foo.example.com")); /* partial label */
    CHECK(!x509_dns_match("*.com", "example.com"));              /* too broad */
    CHECK(!x509_dns_match("a.*.example.com", "a.b.example.com"));
    CHECK(!x509_dns_match("", "a"));
    CHECK(x509_dns_match("host.example.", "host.example"));
}

static void test_digest(void)
{
    char out[65];
    CHECK(x509_hash_hex(X509_MD5, "abc", 3, out, sizeof(out)) == 0);
    CHECK(strcmp(out, "900150983cd24fb0d6963f7d28e17f72") == 0);
    struct x509_digest *d = x509_digest_new();
    CHECK(d != NULL);
    CHECK(x509_digest_begin(d, X509_SHA256) == 0);
    x509_digest_update(d, "a", 1);
    x509_digest_update(d, "bc", 2);
    x509_digest_hex(d, out, 13);
    CHECK(strcmp(out, "ba7816bf8f01") == 0);
    x509_digest_free(d);
}

/* RFC 8448 section 3: server handshake traffic secret -> write key and IV (AES-128-GCM). */
static void test_tls13_derive(void)
{
    const uint8_t sec[32] = {0xb6, 0x7b, 0x7d, 0x69, 0x0c, 0xc1, 0x6c, 0x4e, 0x75, 0xe5, 0x42,
                             0x13, 0xcb, 0x2d, 0x37, 0xb4, 0xe9, 0xc9, 0x12, 0xbc, 0xde, 0xd9,
                             0x10, 0x5d, 0x42, 0xbe, 0xfd, 0x59, 0xd3, 0x91, 0xad, 0x38};
    const uint8_t key[16] = {0x3f, 0xce, 0x51, 0x60, 0x09, 0xc2, 0x17, 0x27,
                             0xd0, 0xf2, 0xe4, 0xe8, 0x6e, 0xe4, 0x03, 0xbc};
    const uint8_t iv[12] = {0x5d, 0x31, 0x3e, 0xb2, 0x67, 0x12, 0x76, 0xee, 0x13, 0x00, 0x0b, 0x30};
    struct x509_tls13_key k;
    CHECK(x509_tls13_derive(0x1301, sec, sizeof(sec), &k) == 0);
    CHECK_EQ_U64(k.keylen, 16);
    CHECK(memcmp(k.key, key, 16) == 0);
    CHECK(memcmp(k.iv, iv, 12) == 0);
    CHECK(x509_tls13_derive(0x1302, sec, sizeof(sec), &k) == ERR_FORMAT); /* needs 48 bytes */
    CHECK(x509_tls13_derive(0x1305, sec, sizeof(sec), &k) == ERR_FORMAT); /* CCM: not opened */
}

/*
 * A real encrypted TLS 1.3 alert: frame 9 of samples/tls13-expired.pcap (GnuTLS client,
 * TLS_AES_256_GCM_SHA384) and the client's CLIENT_HANDSHAKE_TRAFFIC_SECRET from the key log
 * written alongside it (tests/gen/tls.sh). Wireshark with that key log shows
 * "Alert (Level: Fatal, Description: Bad Certificate)".
 */
static void test_tls13_decrypt(void)
{
    const uint8_t secret[48] = {0x08, 0x30, 0x44, 0x5d, 0x86, 0xba, 0x16, 0x19, 0x4a, 0xa4,
                                0x90, 0x3b, 0xd9, 0x68, 0xdf, 0x1c, 0x78, 0x99, 0x58, 0xc1,
                                0x50, 0xc0, 0x78, 0x04, 0x6b, 0xe6, 0xaa, 0xeb, 0x65, 0x6c,
                                0xb1, 0x43, 0xaa, 0xec, 0xa8, 0xbc, 0xf5, 0x91, 0x90, 0xe2,
                                0xa6, 0x11, 0xc8, 0xb9, 0xc5, 0x9b, 0x03, 0xaf};
    uint8_t rec[24] = {0x17, 0x03, 0x03, 0x00, 0x13, 0x3b, 0x1c, 0x62, 0xa1, 0xbe, 0x72, 0x5d,
                       0x93, 0xa2, 0xb5, 0x8f, 0xc6, 0xeb, 0xc3, 0x3c, 0x3d, 0x5b, 0x01, 0x8b};
    struct x509_tls13_key k;
    struct x509_aead *a = x509_aead_new();
    uint8_t pt[32];
    size_t n = 0;
    CHECK(a != NULL);
    CHECK(x509_tls13_derive(0x1302, secret, sizeof(secret), &k) == 0);
    CHECK(x509_tls13_open(a, &k, 0, rec, rec + 5, 19, pt, &n) == 0);
    CHECK_EQ_U64(n, 3);
    CHECK(pt[0] == 2 && pt[1] == 42 && pt[2] == TLS_CT_ALERT); /* fatal bad_certificate */
    CHECK(x509_tls13_open(a, &k, 1, rec, rec + 5, 19, pt, &n) == ERR_FORMAT); /* wrong seq */
    rec[10] ^= 1;
    CHECK(x509_tls13_open(a, &k, 0, rec, rec + 5, 19, pt, &n) == ERR_FORMAT); /* tampered */
    CHECK(x509_tls13_open(a, &k, 0, rec, rec + 5, 10, pt, &n) == ERR_FORMAT); /* shorter than tag */
    x509_aead_free(a);
}

/* tls_walk's header callback for the tests: marks application_data records of 100+ bytes. */
static int walk_headers;
static bool walk_mark_big_appdata(void *ctx, uint8_t type, uint16_t len)
{
    (void)ctx;
    walk_headers++;
    return type == TLS_CT_APPDATA && len >= 100;
}

/* The record-header walk: split anywhere, marks per record, skips inside a body, rejects
   what is not TLS. */
static void test_walk(void)
{
    /* a handshake record of 3 bytes, an application_data record of 120 bytes, one of 2 */
    uint8_t b[5 + 3 + 5 + 120 + 5 + 2];
    size_t n = 0;
    const uint8_t h1[] = {22, 3, 3, 0, 3}, h2[] = {23, 3, 3, 0, 120}, h3[] = {23, 3, 3, 0, 2};
    memcpy(b + n, h1, 5), n += 5;
    memset(b + n, 'h', 3), n += 3;
    memcpy(b + n, h2, 5), n += 5;
    memset(b + n, 'a', 120), n += 120;
    memcpy(b + n, h3, 5), n += 5;
    memset(b + n, 'z', 2), n += 2;
    /* every split: the marked bytes are seen in exactly the calls that hold some of them */
    for (size_t cut = 0; cut <= n; cut++) {
        struct tls_walk w;
        memset(&w, 0, sizeof(w));
        walk_headers = 0;
        int r1 = tls_walk(&w, b, cut, walk_mark_big_appdata, NULL);
        int r2 = tls_walk(&w, b + cut, n - cut, walk_mark_big_appdata, NULL);
        CHECK(walk_headers == 3);
        /* bytes 12 (the big record's last header byte) to 132 belong to the marked record */
        CHECK(r1 == (cut > 12 ? 1 : 0));
        CHECK(r2 == (cut < 133 ? 1 : 0));
    }
    /* a gap inside the big record's body is stepped over; one beyond it is not */
    struct tls_walk w;
    memset(&w, 0, sizeof(w));
    CHECK(tls_walk(&w, b, 20, walk_mark_big_appdata, NULL) == 1);
    CHECK(!tls_walk_skip(&w, 200));
    CHECK(tls_walk_skip(&w, 100));
    CHECK(tls_walk(&w, b + 120, n - 120, walk_mark_big_appdata, NULL) == 1);
    memset(&w, 0, sizeof(w));
    CHECK(!tls_walk_skip(&w, 1)); /* between records: nothing to step over */
    /* not TLS: a bad content type, or a record longer than TLS allows */
    const uint8_t bad1[] = {'G', 'E', 'T', ' ', '/'}, bad2[] = {23, 3, 3, 0xff, 0xff};
    memset(&w, 0, sizeof(w));
    CHECK(tls_walk(&w, bad1, sizeof(bad1), walk_mark_big_appdata, NULL) == MALFORMED);
    memset(&w, 0, sizeof(w));
    CHECK(tls_walk(&w, bad2, sizeof(bad2), walk_mark_big_appdata, NULL) == MALFORMED);
}

int main(void)
{
    g_ctx = tls_ctx_new(CAP);
    if (!g_ctx)
        return 1;
    TEST_RUN(test_client_hello_real);
    TEST_RUN(test_split_every_byte);
    TEST_RUN(test_message_across_records);
    TEST_RUN(test_coalesced_and_split_flight);
    TEST_RUN(test_hrr_and_tls13);
    TEST_RUN(test_hostile);
    TEST_RUN(test_ja4_spec);
    TEST_RUN(test_names);
    TEST_RUN(test_x509);
    TEST_RUN(test_dns_match);
    TEST_RUN(test_digest);
    TEST_RUN(test_tls13_derive);
    TEST_RUN(test_tls13_decrypt);
    TEST_RUN(test_walk);
    tls_ctx_free(g_ctx);
    return TEST_REPORT();
}
