/*
 * tls_cert.c - certificate checks (RFC 5280 validity, RFC 6125 names through x509.c): a cache
 * of parsed certificates, the set of (certificate, server, SNI) already judged, the verdicts.
 */
#include "analyzers/tls_cert.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/x509.h"

#define TC_CACHE 64                /* parsed certificates kept for reuse */
#define TC_DER_MAX 2048            /* larger certificates are parsed every time */
#define TC_CHAIN_MAX 10            /* certificates of one chain kept for verification */
#define TC_CHAIN_BYTES (64 * 1024) /* their DER bytes together */

/* A parsed certificate kept for the next connection that presents the same bytes. */
struct cert_cache {
    uint64_t hash;           /* FNV-1a of der (0: empty) */
    uint64_t used;           /* last use (for replacement) */
    uint32_t len;            /* bytes of der */
    uint8_t der[TC_DER_MAX]; /* the DER bytes, compared in full */
    struct x509_info xi;     /* what x509_parse made of them */
};

/* The chain of the Certificate message being read, kept for the verifier. */
struct cert_chain {
    uint8_t der[TC_CHAIN_BYTES]; /* the certificates' DER, one after the other */
    size_t off[TC_CHAIN_MAX];    /* where each starts in der */
    size_t len[TC_CHAIN_MAX];    /* its length */
    unsigned n;                  /* certificates kept */
    unsigned sent;               /* certificates the server sent (kept or not) */
    bool overflow;               /* one did not fit: the chain is not verified */
    uint64_t hash;               /* FNV-1a over the certificates kept */
};

struct tls_certs {
    struct x509_info xi;           /* the certificate parsed last */
    uint32_t expiring_days;        /* cert_expiring window */
    uint64_t seen[TLS_CERTS_SEEN]; /* keys of (certificate, server, SNI) already judged */
    struct cert_cache *cache;      /* TC_CACHE parsed certificates */
    uint64_t cache_tick;           /* use counter for the cache */
    struct x509_trust *trust;      /* trust anchors for chain verification */
    struct cert_chain *chain;      /* the chain being read */
    uint64_t *chains;              /* TLS_CERTS_SEEN keys of (server, chain) already verified */
    uint64_t chains_verified;      /* chains given to the verifier */
    uint64_t chains_skipped;       /* chains too large, or with a certificate OpenSSL rejects */
};

struct tls_certs *tls_certs_new(uint32_t expiring_days, const char *const *ca_files, size_t nca,
                                char *err, size_t errlen)
{
    struct tls_certs *tc = calloc(1, sizeof(*tc));
    if (!tc)
        goto nomem;
    tc->cache = calloc(TC_CACHE, sizeof(*tc->cache));
    tc->chain = calloc(1, sizeof(*tc->chain));
    tc->chains = calloc(TLS_CERTS_SEEN, sizeof(*tc->chains));
    if (!tc->cache || !tc->chain || !tc->chains)
        goto nomem;
    tc->trust = x509_trust_new(ca_files, nca, err, errlen);
    if (!tc->trust) {
        tls_certs_free(tc);
        return NULL;
    }
    tc->expiring_days = expiring_days;
    return tc;
nomem:
    snprintf(err, errlen, "out of memory for the certificate checks");
    tls_certs_free(tc);
    return NULL;
}

void tls_certs_free(struct tls_certs *tc)
{
    if (!tc)
        return;
    x509_trust_free(tc->trust);
    free(tc->chains);
    free(tc->chain);
    free(tc->cache);
    free(tc);
}

/*
 * x509_parse into tc->xi, through a small cache: busy servers present the same certificate to
 * every client, and OpenSSL's decoding is far costlier than comparing the bytes.
 */
static int tc_parse_cached(struct tls_certs *tc, const uint8_t *der, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ der[i]) * 1099511628211ull;
    h |= 1;
    struct cert_cache *victim = &tc->cache[0];
    for (unsigned i = 0; i < TC_CACHE; i++) {
        struct cert_cache *e = &tc->cache[i];
        if (e->hash == h && e->len == len && memcmp(e->der, der, len) == 0) {
            e->used = ++tc->cache_tick;
            tc->xi = e->xi;
            return 0;
        }
        if (e->used < victim->used)
            victim = e;
    }
    int rc = x509_parse(der, len, &tc->xi);
    if (rc < 0 || len > TC_DER_MAX)
        return rc;
    victim->hash = h;
    victim->used = ++tc->cache_tick;
    victim->len = (uint32_t)len;
    memcpy(victim->der, der, len);
    victim->xi = tc->xi;
    return 0;
}

struct cert_record *tls_certs_parse(struct tls_certs *tc, const uint8_t *der, size_t len)
{
    return tc_parse_cached(tc, der, len) < 0 ? NULL : &tc->xi.rec;
}

/* Date of t (seconds since the epoch) as YYYY-MM-DD. */
static void ymd(int64_t t, char *out, size_t outsz)
{
    int64_t z = (t >= 0 ? t : t - 86399) / 86400 + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    fx_fmt(out, outsz, "%04lld-%02u-%02u", (long long)(y + (m <= 2)), m, d);
}

/* The judge of this thread (tls_certs_set_thread_judge), or NULL. */
static _Thread_local bool (*tc_judge)(void *ctx, uint64_t key);
static _Thread_local void *tc_judge_ctx;

void tls_certs_set_thread_judge(bool (*judge)(void *ctx, uint64_t key), void *ctx)
{
    tc_judge = judge;
    tc_judge_ctx = ctx;
}

/* True the first time (certificate, server, SNI) is seen (then remembered). */
bool tls_certs_first_key(uint64_t *seen, uint64_t h)
{
    uint64_t *slot = &seen[h % TLS_CERTS_SEEN];
    if (*slot == h)
        return false;
    *slot = h;
    return true;
}

/* FNV-1a of a server endpoint on top of h. */
static uint64_t tc_hash_server(uint64_t h, const struct endpoint *server)
{
    for (size_t i = 0; i < sizeof(server->ip.a); i++)
        h = (h ^ server->ip.a[i]) * 1099511628211ull;
    return (h ^ server->port) * 1099511628211ull;
}

/* True the first time key h is judged: by the workers' aggregator when one is set on this
   thread (tls_certs_set_thread_judge), else by the table seen. */
static bool tc_judge_first(uint64_t *seen, uint64_t h)
{
    h |= 1; /* never 0, the empty slot */
    return tc_judge ? tc_judge(tc_judge_ctx, h) : tls_certs_first_key(seen, h);
}

static bool tc_first_time(struct tls_certs *tc, const struct endpoint *server, const char *sni)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *q = tc->xi.rec.sha256; *q; q++)
        h = (h ^ (uint8_t)*q) * 1099511628211ull;
    h = tc_hash_server(h, server);
    for (const char *q = sni; *q; q++)
        h = (h ^ (uint8_t)*q) * 1099511628211ull;
    return tc_judge_first(tc->seen, h);
}

void tls_certs_check(struct tls_certs *tc, unsigned idx, const struct endpoint *server,
                     const char *sni, int64_t now,
                     void (*verdict)(void *ctx, enum fkind k, enum severity sev, const char *detail,
                                     const struct cert_record *c),
                     void *ctx)
{
    if (!tc_first_time(tc, server, sni))
        return;
    const struct x509_info *ci = &tc->xi;
    const struct cert_record *c = &ci->rec;
    char d1[16], d2[16], det[FINDING_DETAIL_MAX];
    const char *who = idx == 0 ? "server certificate" : "chain certificate";
    ymd(c->not_before, d1, sizeof(d1));
    ymd(c->not_after, d2, sizeof(d2));
    if (c->bad_not_before || c->bad_not_after) {
        /* not a date: neither expired nor valid; say so instead of comparing a 0 */
        fx_fmt(det, sizeof(det),
               "%s '%.120s' has a %s that is not a valid date ('%s') - clients reject it; "
               "reissue the certificate",
               who, c->subject, c->bad_not_after ? "notAfter" : "notBefore",
               ci->bad_date[0] ? ci->bad_date : "missing");
        verdict(ctx, FK_CERT_INVALID_DATE, SEV_WARN, det, c);
    } else if (now > c->not_after) {
        fx_fmt(det, sizeof(det),
               "%s '%.120s' expired on %s (%lld days before this connection) - renew it", who,
               c->subject, d2, (long long)((now - c->not_after) / 86400));
        verdict(ctx, FK_CERT_EXPIRED, SEV_ERROR, det, c);
    } else if (now < c->not_before) {
        fx_fmt(det, sizeof(det),
               "%s '%.120s' is not valid before %s - check the server's certificate and the "
               "clocks",
               who, c->subject, d1);
        verdict(ctx, FK_CERT_NOT_YET_VALID, SEV_ERROR, det, c);
    } else if (c->not_after - now < (int64_t)tc->expiring_days * 86400) {
        fx_fmt(det, sizeof(det), "%s '%.120s' expires on %s (in %lld days) - renew it soon", who,
               c->subject, d2, (long long)((c->not_after - now) / 86400));
        verdict(ctx, FK_CERT_EXPIRING, SEV_WARN, det, c);
    }
    if (idx == 0 && sni[0] && !x509_name_matches(ci, sni)) {
        fx_fmt(det, sizeof(det),
               "server certificate does not match the requested name '%.80s' (it covers: "
               "%.120s) - install a certificate for that name or fix the client's URL",
               sni,
               c->sans[0]  ? c->sans
               : ci->cn[0] ? ci->cn
                           : "no names");
        verdict(ctx, FK_CERT_NAME_MISMATCH, SEV_ERROR, det, c);
    }
    if (idx == 0 && c->self_signed) {
        fx_fmt(det, sizeof(det),
               "server certificate '%.150s' is self-signed - clients will not trust it unless "
               "it is pinned or installed as a CA",
               c->subject);
        verdict(ctx, FK_CERT_SELF_SIGNED, SEV_WARN, det, c);
    }
    if (ci->weak_key || (ci->weak_sig && !c->self_signed)) {
        fx_fmt(det, sizeof(det), "%s '%.120s' is weak:%s%s - replace it", who, c->subject,
               ci->weak_key ? " small key" : "", ci->weak_sig ? " MD5/SHA-1 signature" : "");
        size_t o = strlen(det);
        if (ci->weak_key && o < sizeof(det))
            fx_fmt(det + o, sizeof(det) - o, " (%s %d bits)", c->key_type, c->key_bits);
        verdict(ctx, FK_CERT_WEAK, SEV_WARN, det, c);
    }
}

/* Forget the chain kept: the next certificate starts a new one. */
static void chain_reset(struct cert_chain *ch)
{
    ch->n = ch->sent = 0;
    ch->overflow = false;
    ch->hash = 1469598103934665603ull; /* FNV-1a offset basis */
}

void tls_certs_chain_add(struct tls_certs *tc, unsigned idx, const uint8_t *der, size_t len)
{
    struct cert_chain *ch = tc->chain;
    /* idx counts the connection's certificates: a later Certificate message (renegotiation)
       goes on counting, and starts a new chain because the last one was checked (reset) */
    if (idx == 0 || ch->sent == 0)
        chain_reset(ch);
    ch->sent++;
    size_t at = ch->n ? ch->off[ch->n - 1] + ch->len[ch->n - 1] : 0;
    if (ch->overflow || ch->n >= TC_CHAIN_MAX || len > sizeof(ch->der) - at) {
        ch->overflow = true;
        return;
    }
    memcpy(ch->der + at, der, len);
    ch->off[ch->n] = at;
    ch->len[ch->n] = len;
    ch->n++;
    for (size_t i = 0; i < len; i++)
        ch->hash = (ch->hash ^ der[i]) * 1099511628211ull;
    ch->hash = (ch->hash ^ 0xff) * 1099511628211ull; /* a boundary: [a][bc] is not [ab][c] */
}

/* True the first time (server, chain) is seen (then remembered). */
static bool tc_chain_first_time(struct tls_certs *tc, const struct endpoint *server)
{
    /* a key apart from the certificate keys: the aggregator holds both in one table */
    uint64_t h = tc_hash_server(tc->chain->hash, server);
    return tc_judge_first(tc->chains, h ^ 0x9e3779b97f4a7c15ull);
}

/* What to do about a chain that does not verify, by OpenSSL's error (kept short: the
   detail also names the certificate, its issuer and OpenSSL's reason). */
static const char *chain_hint(const struct x509_chain_result *v)
{
    switch (v->why) {
    case X509_WHY_SELF_SIGNED:
        return "clients trust a self-signed certificate only where it is pinned or installed "
               "as a CA";
    case X509_WHY_UNTRUSTED_ROOT:
        return "the certificate is not issued by a CA the clients trust";
    case X509_WHY_SIGNATURE:
        return "a damaged certificate, or not issued by the intermediate sent with it";
    default:
        return "check the chain with openssl verify -untrusted chain.pem";
    }
}

void tls_certs_chain_check(struct tls_certs *tc, const struct endpoint *server, int64_t now_s,
                           void (*verdict)(void *ctx, enum fkind k, enum severity sev,
                                           const char *detail, const struct fx_cert *x),
                           void *ctx)
{
    struct cert_chain *ch = tc->chain;
    if (ch->n == 0 || !tc_chain_first_time(tc, server)) {
        chain_reset(ch);
        return;
    }
    if (ch->overflow) {
        tc->chains_skipped++;
        chain_reset(ch);
        return;
    }
    const uint8_t *der[TC_CHAIN_MAX];
    for (unsigned i = 0; i < ch->n; i++)
        der[i] = ch->der + ch->off[i];
    struct x509_chain_result v;
    x509_verify_chain(tc->trust, der, ch->len, ch->n, now_s, &v);
    unsigned sent = ch->sent;
    chain_reset(ch);
    if (v.status == X509_CHAIN_UNCHECKED) {
        tc->chains_skipped++;
        return;
    }
    tc->chains_verified++;
    if (v.status == X509_CHAIN_OK)
        return;
    bool files = x509_trust_is_files(tc->trust);
    const char *anchors = files ? "--ca-file" : "the system trust store";
    struct fx_cert x;
    memset(&x, 0, sizeof(x));
    fx_copy(x.sha256, sizeof(x.sha256), v.sha256);
    x.chain_pos = v.depth;
    x.not_after = v.not_after;
    x.days_left = v.bad_not_after ? NAN : fx_days_left(v.not_after, now_s);
    fx_copy(x.subject, sizeof(x.subject), v.subject);
    x.verify_code = v.code;
    x.chain_sent = (uint8_t)(sent > 255 ? 255 : sent);
    x.ca_file = files;
    fx_copy(x.issuer, sizeof(x.issuer), v.issuer);
    fx_copy(x.reason, sizeof(x.reason), v.reason);
    char det[FINDING_DETAIL_MAX];
    enum severity sev = files ? SEV_ERROR : SEV_WARN;
    if (v.status == X509_CHAIN_INCOMPLETE) {
        fx_fmt(det, sizeof(det),
               "the server sent %u certificate%s but not the issuer of '%.40s': '%.50s' is "
               "not in %s either - install the intermediate certificate in the server's chain "
               "(nginx: ssl_certificate holds leaf + intermediates)",
               sent, sent == 1 ? "" : "s", v.subject, v.issuer, anchors);
        verdict(ctx, FK_CERT_CHAIN_INCOMPLETE, sev, det, &x);
        return;
    }
    if (v.why == X509_WHY_UNTRUSTED_ROOT)
        fx_fmt(det, sizeof(det),
               "the chain the server sent (%u certificates) ends at root '%.60s', which is not "
               "in %s (%s) - %s%s",
               sent, v.subject, anchors, v.reason, chain_hint(&v),
               files ? "" : " (a private CA: give its root with --ca-file)");
    else
        fx_fmt(det, sizeof(det), "'%.40s' (issuer '%.40s') does not verify against %s: %s - %s",
               v.subject, v.issuer, anchors, v.reason, chain_hint(&v));
    verdict(ctx, FK_CERT_UNTRUSTED, sev, det, &x);
}

void tls_certs_chain_counts(const struct tls_certs *tc, uint64_t *verified, uint64_t *skipped)
{
    *verified = tc->chains_verified;
    *skipped = tc->chains_skipped;
}
