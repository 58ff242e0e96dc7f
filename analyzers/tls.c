/*
 * tls.c - resumable TLS record/handshake parser (RFC 5246, RFC 8446; JA3 after Salesforce's
 * definition, JA4 after FoxIO's technical_details/JA4.md). Every read goes through capture/rd.h.
 *
 * The caller hands the unconsumed front of a direction's stream. Records other than plaintext
 * handshake are consumed header first and their payload skipped as it arrives (so application
 * data of any size never needs buffering). Plaintext handshake records are consumed only once
 * the messages they carry have been parsed: the payloads of consecutive handshake records are
 * gathered into scratch space (a message may span records, a record may hold several messages),
 * complete messages are parsed, and the record bytes they covered are consumed.
 */
#include "analyzers/tls.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/x509.h"
#include "capture/rd.h"

#define TLS_PIECES(cap) ((cap) / 5 + 4) /* handshake record pieces that fit in cap bytes */
#define TLS_NONE ((size_t)-1)           /* "no record header" in a piece */

/* One handshake record's payload (or part of it) inside the caller's buffer. */
struct tls_piece {
    size_t hdr;    /* offset of its record header, TLS_NONE when the header was consumed */
    size_t n;      /* payload bytes present */
    uint32_t rlen; /* the record's payload length (0 for a continuation) */
};

/* Scratch space shared by all connections parsed on one thread. */
struct tls_ctx {
    size_t cap;               /* largest buffer tls_parse accepts */
    uint8_t *hs;              /* gathered handshake bytes, cap bytes */
    struct tls_piece *pieces; /* TLS_PIECES(cap) entries */
    uint16_t *u16a;           /* cap/2 + 8 entries: ciphers / sort area */
    uint16_t *u16b;           /* cap/2 + 8 entries: extension types */
    uint16_t *u16c;           /* cap/2 + 8 entries: supported groups */
    uint16_t *u16d;           /* cap/2 + 8 entries: signature algorithms */
    uint16_t *u16e;           /* cap/2 + 8 entries: JA4 sort area */
    char *text;               /* 3 * cap + 64 bytes: JA3 text */
    size_t textsz;            /* size of text */
};

struct tls_ctx *tls_ctx_new(size_t cap)
{
    if (cap < 64 || cap > (1u << 26))
        return NULL;
    struct tls_ctx *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    size_t nu = cap / 2 + 8;
    x->cap = cap;
    x->hs = malloc(cap);
    x->pieces = malloc(TLS_PIECES(cap) * sizeof(*x->pieces));
    x->u16a = malloc(nu * sizeof(uint16_t));
    x->u16b = malloc(nu * sizeof(uint16_t));
    x->u16c = malloc(nu * sizeof(uint16_t));
    x->u16d = malloc(nu * sizeof(uint16_t));
    x->u16e = malloc(nu * sizeof(uint16_t));
    x->textsz = 3 * cap + 64;
    x->text = malloc(x->textsz);
    if (!x->hs || !x->pieces || !x->u16a || !x->u16b || !x->u16c || !x->u16d || !x->u16e ||
        !x->text) {
        tls_ctx_free(x);
        return NULL;
    }
    return x;
}

void tls_ctx_free(struct tls_ctx *x)
{
    if (!x)
        return;
    free(x->hs);
    free(x->pieces);
    free(x->u16a);
    free(x->u16b);
    free(x->u16c);
    free(x->u16d);
    free(x->u16e);
    free(x->text);
    free(x);
}

bool tls_is_v13(uint16_t v)
{
    return v == TLS_V13 || (v >> 8) == TLS_V13_DRAFT_MAJOR;
}

bool tls_is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

bool tls_looks_like(const uint8_t *p, size_t n)
{
    struct rd r = rd_init(p, n);
    uint8_t type = rd_u8(&r);
    uint8_t maj = rd_u8(&r);
    uint8_t min = rd_u8(&r);
    return !r.err && type == TLS_CT_HANDSHAKE && maj == 3 && min <= 4;
}

int tls_walk(struct tls_walk *w, const uint8_t *b, size_t n,
             bool (*on_header)(void *ctx, uint8_t type, uint16_t len), void *ctx)
{
    struct rd r = rd_init(b, n);
    bool seen = false;
    while (rd_has(&r, 1)) {
        if (w->remain == 0 && w->hlen < 5) {
            w->hdr[w->hlen++] = rd_u8(&r);
            if (w->hlen < 5)
                continue;
            struct rd hr = rd_init(w->hdr, 5);
            w->type = rd_u8(&hr);
            uint8_t major = rd_u8(&hr);
            rd_skip(&hr, 1);
            uint16_t len = rd_u16(&hr);
            if (w->type < TLS_CT_CCS || w->type > TLS_CT_HEARTBEAT || major != 3 ||
                len > TLS_MAX_RECORD)
                return MALFORMED;
            w->remain = len;
            w->mark = on_header(ctx, w->type, len);
            if (w->remain == 0)
                w->hlen = 0;
        } else {
            size_t k = rd_left(&r) < w->remain ? rd_left(&r) : w->remain;
            rd_skip(&r, k);
            w->remain = (uint16_t)(w->remain - k);
            if (w->remain == 0)
                w->hlen = 0;
        }
        seen |= w->mark;
    }
    return seen;
}

bool tls_walk_skip(struct tls_walk *w, uint64_t n)
{
    if (w->hlen < 5 || n > w->remain)
        return false;
    w->remain = (uint16_t)(w->remain - n);
    if (w->remain == 0)
        w->hlen = 0;
    return true;
}

/*
 * Cipher suite names: OpenSSL's (x509_cipher_suites), read once on first use by whichever
 * thread asks first (the analysis, the JSON sink, the live view, the report).
 */
#define CS_NAMES_MAX 512 /* suites kept (OpenSSL 3 knows about 200) */
#define CS_NAME_LEN 64   /* longest IANA name, NUL included */

/* One named suite. */
struct cs_name {
    uint16_t code;          /* suite code */
    char name[CS_NAME_LEN]; /* IANA name */
};

static struct cs_name cs_names[CS_NAMES_MAX]; /* sorted by code (x509_cipher_suites' order) */
static size_t cs_count;                       /* cs_names[] used */
static pthread_once_t cs_once = PTHREAD_ONCE_INIT;

static void cs_add(void *ctx, uint16_t code, const char *name)
{
    (void)ctx;
    if (cs_count >= CS_NAMES_MAX || strlen(name) >= CS_NAME_LEN)
        return;
    cs_names[cs_count].code = code;
    memcpy(cs_names[cs_count].name, name, strlen(name) + 1);
    cs_count++;
}

/*
 * Legacy suites that OpenSSL builds without weak ciphers (Debian's: no-weak-ssl-ciphers) do
 * not know, yet old clients and servers still negotiate: named here so that a report shows
 * RC4 or 3DES for what it is. Sorted by code; OpenSSL's table wins where both have a code.
 */
static const struct {
    uint16_t code;    /* suite code */
    const char *name; /* IANA name */
} cs_legacy[] = {
    {0x0004, "TLS_RSA_WITH_RC4_128_MD5"},
    {0x0005, "TLS_RSA_WITH_RC4_128_SHA"},
    {0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"},
    {0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"},
};

static void cs_load(void)
{
    if (x509_cipher_suites(cs_add, NULL) < 0)
        cs_count = 0;
    /* merge the legacy names in, keeping the order */
    for (size_t i = 0; i < sizeof(cs_legacy) / sizeof(cs_legacy[0]); i++) {
        size_t at = 0;
        while (at < cs_count && cs_names[at].code < cs_legacy[i].code)
            at++;
        if ((at < cs_count && cs_names[at].code == cs_legacy[i].code) || cs_count >= CS_NAMES_MAX)
            continue;
        memmove(&cs_names[at + 1], &cs_names[at], (cs_count - at) * sizeof(cs_names[0]));
        cs_names[at].code = cs_legacy[i].code;
        snprintf(cs_names[at].name, sizeof(cs_names[at].name), "%s", cs_legacy[i].name);
        cs_count++;
    }
}

const char *tls_cipher_name(uint16_t cs, char *buf, size_t bufsz)
{
    pthread_once(&cs_once, cs_load);
    size_t lo = 0, hi = cs_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cs_names[mid].code == cs)
            return cs_names[mid].name;
        if (cs_names[mid].code < cs)
            lo = mid + 1;
        else
            hi = mid;
    }
    snprintf(buf, bufsz, "0x%04x", cs);
    return buf;
}

/* A growing text in a fixed buffer; overflow sets err and keeps what fit. */
struct tbuf {
    char *p;   /* the buffer */
    size_t sz; /* its size (> 0) */
    size_t n;  /* characters written (excluding the NUL) */
    bool err;  /* something did not fit */
};

static void tb_ch(struct tbuf *t, char c)
{
    if (t->n + 1 >= t->sz) {
        t->err = true;
        return;
    }
    t->p[t->n++] = c;
    t->p[t->n] = '\0';
}

/* Append v in decimal. */
static void tb_dec(struct tbuf *t, unsigned v)
{
    char d[12];
    int k = 0;
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && k < (int)sizeof(d));
    while (k > 0)
        tb_ch(t, d[--k]);
}

/* Append v as 4 lower-case hex digits. */
static void tb_hex4(struct tbuf *t, uint16_t v)
{
    static const char hx[] = "0123456789abcdef";
    for (int sh = 12; sh >= 0; sh -= 4)
        tb_ch(t, hx[(v >> sh) & 15]);
}

/* Append a list of u16 values separated by sep, in decimal or 4-hex. */
static void tb_list(struct tbuf *t, const uint16_t *v, size_t n, bool hex, char sep)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            tb_ch(t, sep);
        if (hex)
            tb_hex4(t, v[i]);
        else
            tb_dec(t, v[i]);
    }
}

static void tb_reset(struct tbuf *t)
{
    t->n = 0;
    t->err = false;
    t->p[0] = '\0';
}

static int cmp_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

static bool is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* JA4 version label. */
static const char *ja4_version(uint16_t v)
{
    switch (v) {
    case TLS_V13:
        return "13";
    case TLS_V12:
        return "12";
    case TLS_V11:
        return "11";
    case TLS_V10:
        return "10";
    case TLS_SSL3:
        return "s3";
    case TLS_SSL2:
        return "s2";
    case DTLS_V10:
        return "d1";
    case DTLS_V12:
        return "d2";
    case DTLS_V13:
        return "d3";
    default:
        return "00";
    }
}

/* SHA-256 of s[0,n), first 12 hex characters, into out[13]; "000000000000" when n is 0. */
static int hash12(const char *s, size_t n, char out[13])
{
    char full[65];
    if (n == 0) {
        memcpy(out, "000000000000", 13);
        return 0;
    }
    int rc = x509_hash_hex(X509_SHA256, s, n, full, sizeof(full));
    if (rc < 0)
        return rc;
    memcpy(out, full, 12);
    out[12] = '\0';
    return 0;
}

int tls_ja4(const struct tls_ja4_in *in, uint16_t *sort, char *text, size_t textsz, char *out,
            size_t outsz)
{
    static const char hx[] = "0123456789abcdef";
    char alpn[3] = "00";
    if (in->alpn && in->alpn_len > 0) {
        uint8_t f = in->alpn[0], l = in->alpn[in->alpn_len - 1];
        if (is_alnum(f) && is_alnum(l)) {
            alpn[0] = (char)f;
            alpn[1] = (char)l;
        } else {
            alpn[0] = hx[f >> 4];
            alpn[1] = hx[l & 15];
        }
    }
    unsigned nc = in->nciphers > 99 ? 99 : (unsigned)in->nciphers;
    unsigned ne = in->nexts > 99 ? 99 : (unsigned)in->nexts;
    struct tbuf t = {text, textsz, 0, false};
    char hb[13], hc[13];
    int rc;

    if (textsz == 0)
        return ERR_ARG;
    tb_reset(&t);
    memcpy(sort, in->ciphers, in->nciphers * sizeof(uint16_t));
    qsort(sort, in->nciphers, sizeof(uint16_t), cmp_u16);
    tb_list(&t, sort, in->nciphers, true, ',');
    if (t.err)
        return ERR_FULL;
    rc = hash12(t.p, t.n, hb);
    if (rc < 0)
        return rc;

    size_t k = 0;
    for (size_t i = 0; i < in->nexts; i++) {
        if (in->exts[i] != TLS_EXT_SERVER_NAME && in->exts[i] != TLS_EXT_ALPN)
            sort[k++] = in->exts[i];
    }
    qsort(sort, k, sizeof(uint16_t), cmp_u16);
    tb_reset(&t);
    tb_list(&t, sort, k, true, ',');
    if (in->nsigalgs) {
        tb_ch(&t, '_');
        tb_list(&t, in->sigalgs, in->nsigalgs, true, ',');
    }
    if (t.err)
        return ERR_FULL;
    rc = hash12(t.p, k ? t.n : 0, hc);
    if (rc < 0)
        return rc;
    snprintf(out, outsz, "t%s%c%02u%02u%c%c_%s_%s", ja4_version(in->version), in->sni ? 'd' : 'i',
             nc, ne, alpn[0], alpn[1], hb, hc);
    return 0;
}

/* ServerHello.random of a HelloRetryRequest (RFC 8446 4.1.3): SHA-256("HelloRetryRequest"). */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* Copy n bytes as printable text into out (bounded), replacing other bytes with '?'. */
static void copy_text(char *out, size_t outsz, size_t at, const uint8_t *p, size_t n)
{
    size_t o = at;
    for (size_t i = 0; i < n && o + 1 < outsz; i++)
        out[o++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    if (o < outsz)
        out[o] = '\0';
}

/* server_name (RFC 6066 3): the first host_name entry. */
static void ext_sni(struct tls_conn *c, struct rd e)
{
    struct rd list = rd_sub(&e, rd_u16(&e));
    while (!list.err && rd_left(&list) >= 3) {
        uint8_t type = rd_u8(&list);
        uint16_t n = rd_u16(&list);
        const uint8_t *name = rd_ptr(&list, n);
        if (!name)
            return;
        if (type == TLS_SNI_HOST_NAME && n > 0) {
            copy_text(c->rec.sni, sizeof(c->rec.sni), 0, name, n);
            return;
        }
    }
}

/* ALPN (RFC 7301): protocol names, comma separated; the first one for JA4. */
static void ext_alpn(struct tls_conn *c, struct rd e, const uint8_t **first, size_t *first_len)
{
    struct rd list = rd_sub(&e, rd_u16(&e));
    size_t o = 0;
    while (!list.err && rd_left(&list) >= 1) {
        uint8_t n = rd_u8(&list);
        const uint8_t *p = rd_ptr(&list, n);
        if (!p)
            return;
        if (!*first) {
            *first = p;
            *first_len = n;
        }
        if (o && o + 1 < sizeof(c->rec.alpn))
            c->rec.alpn[o++] = ',';
        copy_text(c->rec.alpn, sizeof(c->rec.alpn), o, p, n);
        o = strlen(c->rec.alpn);
    }
}

/* Decode a list of u16 values (lenbytes = 1 or 2 byte length prefix), GREASE removed. */
static size_t u16_list(struct rd e, int lenbytes, uint16_t *out, size_t max)
{
    size_t len = lenbytes == 1 ? rd_u8(&e) : rd_u16(&e);
    struct rd l = rd_sub(&e, len);
    size_t n = 0;
    while (!l.err && rd_left(&l) >= 2 && n < max) {
        uint16_t v = rd_u16(&l);
        if (!tls_is_grease(v))
            out[n++] = v;
    }
    return n;
}

/* Where the ClientHello's fingerprint inputs are. */
struct ch_view {
    size_t nciph;         /* ciphers in x->u16a */
    size_t next;          /* extension types in x->u16b */
    size_t ngroups;       /* groups in x->u16c */
    struct rd pf;         /* ec_point_formats list body */
    bool has_pf;          /* ec_point_formats present */
    size_t nsig;          /* signature algorithms in x->u16d */
    const uint8_t *alpn;  /* first ALPN value */
    size_t alpn_len;      /* its length */
    uint16_t max_version; /* highest supported_versions entry, 0 if none */
    bool sni;             /* server_name present */
};

/* One ClientHello extension. */
static void ch_ext(struct tls_conn *c, struct tls_ctx *x, struct ch_view *v, uint16_t type,
                   struct rd e)
{
    size_t max = x->cap / 2 + 8;
    switch (type) {
    case TLS_EXT_SERVER_NAME:
        v->sni = true;
        ext_sni(c, e);
        break;
    case TLS_EXT_ALPN:
        ext_alpn(c, e, &v->alpn, &v->alpn_len);
        break;
    case TLS_EXT_SUPPORTED_GROUPS:
        v->ngroups = u16_list(e, 2, x->u16c, max);
        break;
    case TLS_EXT_EC_POINT_FORMATS:
        /* a list cut short by its extension is no list (rd_sub flags e, not the sub-cursor) */
        v->pf = rd_sub(&e, rd_u8(&e));
        v->has_pf = !e.err;
        break;
    case TLS_EXT_SIGNATURE_ALGORITHMS:
        v->nsig = u16_list(e, 2, x->u16d, max);
        break;
    case TLS_EXT_SUPPORTED_VERSIONS: {
        uint16_t vers[64];
        size_t n = u16_list(e, 1, vers, 64);
        for (size_t i = 0; i < n; i++) {
            if (vers[i] > v->max_version)
                v->max_version = vers[i];
        }
        break;
    }
    default:
        break;
    }
}

/* JA3 (Salesforce): "version,ciphers,extensions,groups,point_formats", decimal, GREASE out. */
static int ch_ja3(struct tls_conn *c, struct tls_ctx *x, const struct ch_view *v)
{
    struct tbuf t = {x->text, x->textsz, 0, false};
    tb_reset(&t);
    tb_dec(&t, c->legacy_version);
    tb_ch(&t, ',');
    tb_list(&t, x->u16a, v->nciph, false, '-');
    tb_ch(&t, ',');
    tb_list(&t, x->u16b, v->next, false, '-');
    tb_ch(&t, ',');
    tb_list(&t, x->u16c, v->ngroups, false, '-');
    tb_ch(&t, ',');
    if (v->has_pf) {
        struct rd pf = v->pf;
        bool first = true;
        while (rd_left(&pf) >= 1) {
            if (!first)
                tb_ch(&t, '-');
            tb_dec(&t, rd_u8(&pf));
            first = false;
        }
    }
    if (t.err)
        return ERR_FULL;
    return x509_hash_hex(X509_MD5, t.p, t.n, c->rec.ja3, sizeof(c->rec.ja3));
}

/* ClientHello (RFC 8446 4.1.2): versions, SNI, ALPN, JA3, JA4. */
static int parse_client_hello(struct tls_conn *c, struct rd *r, struct tls_ctx *x)
{
    struct ch_view v;
    memset(&v, 0, sizeof(v));
    uint16_t legacy = rd_u16(r);
    const uint8_t *random = rd_ptr(r, 32);
    uint8_t sid_len = rd_u8(r);
    rd_skip(r, sid_len);
    uint16_t cl = rd_u16(r);
    struct rd cs = rd_sub(r, cl);
    uint8_t comp_len = rd_u8(r);
    rd_skip(r, comp_len);
    if (r->err || !random || sid_len > 32 || cl % 2 || comp_len == 0)
        return MALFORMED;
    if (c->seen_ch)
        return 0; /* a second ClientHello (after HelloRetryRequest): keep the first's prints */
    while (rd_left(&cs) >= 2) {
        uint16_t s = rd_u16(&cs);
        if (!tls_is_grease(s))
            x->u16a[v.nciph++] = s;
    }
    if (rd_left(r) > 0) {
        struct rd ex = rd_sub(r, rd_u16(r));
        if (r->err)
            return MALFORMED;
        while (rd_left(&ex) > 0) {
            uint16_t type = rd_u16(&ex);
            uint16_t len = rd_u16(&ex);
            struct rd e = rd_sub(&ex, len);
            if (ex.err)
                return MALFORMED;
            if (!tls_is_grease(type))
                x->u16b[v.next++] = type;
            ch_ext(c, x, &v, type, e);
        }
    }
    c->seen_ch = true;
    c->legacy_version = legacy;
    memcpy(c->client_random, random, sizeof(c->client_random));
    c->rec.client_version = v.max_version ? v.max_version : legacy;
    if (ch_ja3(c, x, &v) < 0)
        c->rec.ja3[0] = '\0';
    struct tls_ja4_in j = {
        .version = c->rec.client_version,
        .sni = v.sni,
        .ciphers = x->u16a,
        .nciphers = v.nciph,
        .exts = x->u16b,
        .nexts = v.next,
        .sigalgs = x->u16d,
        .nsigalgs = v.nsig,
        .alpn = v.alpn,
        .alpn_len = v.alpn_len,
    };
    if (tls_ja4(&j, x->u16e, x->text, x->textsz, c->rec.ja4, sizeof(c->rec.ja4)) < 0)
        c->rec.ja4[0] = '\0';
    return 0;
}

/* ServerHello or HelloRetryRequest (RFC 8446 4.1.3, 4.1.4): version, cipher, JA3S. */
static int parse_server_hello(struct tls_conn *c, struct rd *r, struct tls_ctx *x)
{
    uint16_t legacy = rd_u16(r);
    const uint8_t *random = rd_ptr(r, 32);
    uint8_t sid_len = 0;
    bool draft =
        (legacy >> 8) == TLS_V13_DRAFT_MAJOR; /* TLS 1.3 drafts: no session id, no compression */
    if (!draft) {
        sid_len = rd_u8(r);
        rd_skip(r, sid_len);
    }
    uint16_t cipher = rd_u16(r);
    if (!draft)
        (void)rd_u8(r); /* compression method */
    if (r->err || !random || sid_len > 32)
        return MALFORMED;
    uint16_t selected = 0;
    size_t next = 0, max = x->cap / 2 + 8;
    if (rd_left(r) > 0) {
        struct rd ex = rd_sub(r, rd_u16(r));
        if (r->err)
            return MALFORMED;
        while (rd_left(&ex) > 0) {
            uint16_t type = rd_u16(&ex);
            uint16_t len = rd_u16(&ex);
            struct rd e = rd_sub(&ex, len);
            if (ex.err)
                return MALFORMED;
            if (next < max)
                x->u16b[next++] = type;
            if (type == TLS_EXT_SUPPORTED_VERSIONS && len == 2)
                selected = rd_u16(&e);
        }
    }
    if (memcmp(random, hrr_random, sizeof(hrr_random)) == 0) {
        c->rec.hello_retry = true;
        if (selected)
            c->rec.version = selected;
        return 0;
    }
    if (c->seen_sh)
        return 0;
    c->seen_sh = true;
    c->rec.version = selected ? selected : legacy;
    c->rec.cipher = cipher;
    struct tbuf t = {x->text, x->textsz, 0, false};
    tb_reset(&t);
    tb_dec(&t, legacy);
    tb_ch(&t, ',');
    tb_dec(&t, cipher);
    tb_ch(&t, ',');
    tb_list(&t, x->u16b, next, false, '-');
    if (t.err || x509_hash_hex(X509_MD5, t.p, t.n, c->rec.ja3s, sizeof(c->rec.ja3s)) < 0)
        c->rec.ja3s[0] = '\0';
    return 0;
}

/* Certificate (RFC 5246 7.4.2; RFC 8446 4.4.2 when read in the clear): each DER entry. */
static int parse_certificate(struct tls_conn *c, struct rd *r, const struct tls_events *ev)
{
    bool v13 = tls_is_v13(c->rec.version);
    if (v13)
        rd_skip(r, rd_u8(r)); /* certificate_request_context */
    struct rd list = rd_sub(r, rd_u24(r));
    if (r->err)
        return MALFORMED;
    while (rd_left(&list) > 0) {
        uint32_t n = rd_u24(&list);
        const uint8_t *der = rd_ptr(&list, n);
        if (!der)
            return MALFORMED;
        if (ev && ev->on_cert)
            ev->on_cert(ev->ctx, c->ncerts, der, n);
        c->ncerts++;
        if (v13)
            rd_skip(&list, rd_u16(&list)); /* per-certificate extensions */
        if (list.err)
            return MALFORMED;
    }
    return 0;
}

/* One complete plaintext handshake message. */
static int handle_msg(struct tls_conn *c, int dir, uint8_t type, const uint8_t *body, uint32_t len,
                      struct tls_ctx *x, const struct tls_events *ev)
{
    struct rd r = rd_init(body, len);
    int rc = 0;
    if (type == TLS_HS_CLIENT_HELLO && dir == DIR_C2S)
        rc = parse_client_hello(c, &r, x);
    else if (type == TLS_HS_SERVER_HELLO && dir == DIR_S2C)
        rc = parse_server_hello(c, &r, x);
    else if (type == TLS_HS_CERTIFICATE && dir == DIR_S2C)
        rc = parse_certificate(c, &r, ev);
    if (rc < 0)
        return rc;
    if (ev && ev->on_handshake)
        ev->on_handshake(ev->ctx, dir, type, len, true);
    return 0;
}

/* A record header: validated type, version and length. */
static bool read_header(const uint8_t *p, size_t n, uint8_t *type, uint32_t *len)
{
    struct rd r = rd_init(p, n);
    *type = rd_u8(&r);
    uint8_t maj = rd_u8(&r);
    uint8_t min = rd_u8(&r);
    *len = rd_u16(&r);
    return !r.err && *type >= TLS_CT_CCS && *type <= TLS_CT_HEARTBEAT && maj == 3 && min <= 4 &&
           *len <= TLS_MAX_RECORD;
}

/* Gather the payload bytes of consecutive plaintext handshake records at buf into x->hs. */
static int hs_gather(struct tls_dir *d, const uint8_t *buf, size_t len, struct tls_ctx *x,
                     size_t *npieces, size_t *total, bool *other)
{
    size_t o = 0, np = 0, t = 0;
    bool more = true;
    *other = false;
    if (d->cur_left) {
        size_t n = d->cur_left < len ? d->cur_left : len;
        x->pieces[np++] = (struct tls_piece){TLS_NONE, n, 0};
        memcpy(x->hs, buf, n);
        o = t = n;
        more = n == d->cur_left;
    }
    while (more && len - o >= 5 && np < TLS_PIECES(x->cap)) {
        uint8_t type;
        uint32_t rlen;
        if (!read_header(buf + o, len - o, &type, &rlen))
            return MALFORMED;
        if (type != TLS_CT_HANDSHAKE) {
            *other = true;
            break;
        }
        size_t n = len - o - 5 < rlen ? len - o - 5 : rlen;
        x->pieces[np++] = (struct tls_piece){o, n, rlen};
        memcpy(x->hs + t, buf + o + 5, n);
        t += n;
        o += 5 + n;
        more = n == rlen;
    }
    *npieces = np;
    *total = t;
    return 0;
}

/*
 * Plaintext handshake records at buf (a record header, or the rest of a record whose header
 * was consumed): parse every complete message, consume what they covered.
 */
static int hs_run(struct tls_conn *c, int dir, const uint8_t *buf, size_t len, struct tls_ctx *x,
                  const struct tls_events *ev)
{
    struct tls_dir *d = &c->d[dir];
    size_t np = 0, total = 0, pos = 0;
    bool other = false;
    int rc = hs_gather(d, buf, len, x, &np, &total, &other);
    if (rc < 0)
        return rc;
    size_t max_msg = x->cap - x->cap / 8;
    for (;;) {
        if (d->hs_discard) {
            size_t k = d->hs_discard < total - pos ? d->hs_discard : total - pos;
            pos += k;
            d->hs_discard -= (uint32_t)k;
            if (d->hs_discard)
                break;
        }
        if (total - pos < 4)
            break;
        struct rd r = rd_init(x->hs + pos, total - pos);
        uint8_t type = rd_u8(&r);
        uint32_t mlen = rd_u24(&r);
        if ((size_t)mlen + 4 > max_msg) {
            if (ev && ev->on_handshake)
                ev->on_handshake(ev->ctx, dir, type, mlen, false);
            d->hs_discard = mlen + 4;
            continue;
        }
        if (rd_left(&r) < mlen)
            break;
        rc = handle_msg(c, dir, type, x->hs + pos + 4, mlen, x, ev);
        if (rc < 0)
            return rc;
        pos += 4 + (size_t)mlen;
    }
    /* A message cut by a record of another type (RFC 8446 5.1 forbids interleaving). */
    if (other && (pos < total || d->hs_discard))
        return MALFORMED;
    /* Consume the records (or parts) whose payload bytes were all parsed. */
    size_t off = 0;
    for (size_t i = 0; i < np; i++) {
        const struct tls_piece *pc = &x->pieces[i];
        if (pc->hdr != TLS_NONE) {
            d->cur_type = TLS_CT_HANDSHAKE;
            d->cur_enc = false;
            d->cur_left = pc->rlen;
            d->records++;
            off += 5;
        }
        size_t take = pos < pc->n ? pos : pc->n;
        off += take;
        pos -= take;
        d->cur_left -= (uint32_t)take;
        if (d->cur_left)
            break;
    }
    return (int)off;
}

int tls_parse(struct tls_conn *c, int dir, const uint8_t *buf, size_t len, struct tls_ctx *x,
              const struct tls_events *ev)
{
    struct tls_dir *d = &c->d[dir & 1];
    size_t off = 0;
    dir &= 1;
    if (d->dead)
        return MALFORMED;
    if (len > x->cap)
        len = x->cap;
    for (;;) {
        if (d->cur_left && d->cur_type == TLS_CT_HANDSHAKE && !d->cur_enc) {
            int r = hs_run(c, dir, buf + off, len - off, x, ev);
            if (r < 0)
                goto malformed;
            if (r == 0)
                break;
            off += (size_t)r;
            continue;
        }
        if (d->cur_left) {
            size_t take = d->cur_left < len - off ? d->cur_left : len - off;
            if (take == 0)
                break;
            off += take;
            d->cur_left -= (uint32_t)take;
            continue;
        }
        if (len - off < 5)
            break;
        uint8_t type;
        uint32_t rlen;
        if (!read_header(buf + off, len - off, &type, &rlen))
            goto malformed;
        /* After a TLS 1.3 ServerHello nothing but a second ClientHello is plaintext handshake. */
        bool v13_hs = type == TLS_CT_HANDSHAKE && c->seen_sh && tls_is_v13(c->rec.version);
        bool enc = type == TLS_CT_APPDATA || (type == TLS_CT_HANDSHAKE && (d->enc || v13_hs)) ||
                   (type == TLS_CT_ALERT && rlen != 2);
        if (type == TLS_CT_HANDSHAKE && !enc) {
            int r = hs_run(c, dir, buf + off, len - off, x, ev);
            if (r < 0)
                goto malformed;
            if (r == 0)
                break;
            off += (size_t)r;
            continue;
        }
        if (type == TLS_CT_ALERT && !enc) {
            if (len - off < 7)
                break;
            struct rd r = rd_init(buf + off + 5, 2);
            int level = rd_u8(&r), desc = rd_u8(&r);
            d->records++;
            if (ev && ev->on_record)
                ev->on_record(ev->ctx, dir, type, rlen, false);
            if (ev && ev->on_alert)
                ev->on_alert(ev->ctx, dir, level, desc);
            off += 7;
            continue;
        }
        if (type == TLS_CT_APPDATA && ev && ev->want_enc && ev->on_enc_record &&
            5 + (size_t)rlen <= x->cap && ev->want_enc(ev->ctx, dir)) {
            /* The user decrypts: hand over the whole record once it is all here. */
            if (len - off < 5 + (size_t)rlen)
                break;
            d->records++;
            if (ev->on_record)
                ev->on_record(ev->ctx, dir, type, rlen, true);
            ev->on_enc_record(ev->ctx, dir, buf + off, 5 + (size_t)rlen);
            off += 5 + (size_t)rlen;
            continue;
        }
        if (type == TLS_CT_CCS && !tls_is_v13(c->rec.version))
            d->enc = true;
        d->records++;
        if (ev && ev->on_record)
            ev->on_record(ev->ctx, dir, type, rlen, enc);
        if (type == TLS_CT_ALERT && ev && ev->on_alert)
            ev->on_alert(ev->ctx, dir, -1, -1);
        d->cur_type = type;
        d->cur_enc = enc;
        d->cur_left = rlen;
        off += 5;
    }
    return off ? (int)off : NEED_MORE;
malformed:
    d->dead = true;
    return MALFORMED;
}
