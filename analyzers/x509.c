/*
 * x509.c - certificates (RFC 5280) and digests through OpenSSL libcrypto; host name matching
 * after RFC 6125 section 6.4. No other file includes an OpenSSL header.
 */
#include "analyzers/x509.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "capture/log.h"
#include "capture/text.h"

/* A digest in progress. */
struct x509_digest {
    EVP_MD_CTX *ctx; /* OpenSSL's context, reused */
};

struct x509_digest *x509_digest_new(void)
{
    struct x509_digest *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->ctx = EVP_MD_CTX_new();
    if (!d->ctx) {
        free(d);
        return NULL;
    }
    return d;
}

void x509_digest_free(struct x509_digest *d)
{
    if (!d)
        return;
    EVP_MD_CTX_free(d->ctx);
    free(d);
}

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
static EVP_MD *md_fetched[2];                      /* MD5, SHA-256 (NULL: not available) */
static pthread_once_t md_once = PTHREAD_ONCE_INIT; /* workers parse on several threads */

static void md_fetch(void)
{
    md_fetched[0] = EVP_MD_fetch(NULL, "MD5", NULL);
    md_fetched[1] = EVP_MD_fetch(NULL, "SHA256", NULL);
}
#endif

/*
 * The digest implementation, fetched once: with OpenSSL 3 every EVP_md5()/EVP_sha256() use
 * otherwise fetches it again under a global lock.
 */
static const EVP_MD *md_get(enum x509_alg alg)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    pthread_once(&md_once, md_fetch);
    int i = alg == X509_MD5 ? 0 : 1;
    if (md_fetched[i])
        return md_fetched[i];
#endif
    return alg == X509_MD5 ? EVP_md5() : EVP_sha256();
}

int x509_digest_begin(struct x509_digest *d, enum x509_alg alg)
{
    const EVP_MD *md = md_get(alg);
    if (!md)
        return ERR_FORMAT;
    if (EVP_DigestInit_ex(d->ctx, md, NULL) != 1)
        return ERR_NOMEM;
    return 0;
}

void x509_digest_update(struct x509_digest *d, const void *p, size_t n)
{
    if (n)
        (void)EVP_DigestUpdate(d->ctx, p, n);
}

/* Lower-case hex of b[0,n) into out, cut to outsz-1 characters. */
static void hex_out(const uint8_t *b, size_t n, char *out, size_t outsz)
{
    static const char hx[] = "0123456789abcdef";
    size_t o = 0;
    if (outsz == 0)
        return;
    for (size_t i = 0; i < n && o + 2 < outsz; i++) {
        out[o++] = hx[b[i] >> 4];
        out[o++] = hx[b[i] & 15];
    }
    out[o] = '\0';
}

void x509_digest_hex(struct x509_digest *d, char *out, size_t outsz)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(d->ctx, md, &n) != 1)
        n = 0;
    hex_out(md, n, out, outsz);
}

int x509_hash_hex(enum x509_alg alg, const void *p, size_t n, char *out, size_t outsz)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mlen = 0;
    const EVP_MD *m = md_get(alg);
    if (outsz)
        out[0] = '\0';
    if (!m || EVP_Digest(p, n, md, &mlen, m, NULL) != 1)
        return ERR_FORMAT;
    hex_out(md, mlen, out, outsz);
    return 0;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/*
 * An ASN1_TIME as seconds since the epoch into *out; false (and *out = 0) when it is missing
 * or not a date (month 13, empty, "ZZZZZZZZZZZZZ": ASN1_TIME_to_tm checks each field).
 */
static bool asn1_epoch(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    *out = 0;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) /* t NULL would mean "now" to OpenSSL */
        return false;
    int64_t days =
        days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
    *out = days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    return true;
}

/* Read notBefore and notAfter; an unreadable one is flagged and its text kept (escaped). */
static void read_dates(X509 *x, struct x509_info *out)
{
    const ASN1_TIME *nb = X509_get0_notBefore(x), *na = X509_get0_notAfter(x);
    out->rec.bad_not_before = !asn1_epoch(nb, &out->rec.not_before);
    out->rec.bad_not_after = !asn1_epoch(na, &out->rec.not_after);
    const ASN1_TIME *bad = out->rec.bad_not_before && nb  ? nb
                           : out->rec.bad_not_after && na ? na
                                                          : NULL;
    if (bad)
        text_term_n((const char *)ASN1_STRING_get0_data(bad), (size_t)ASN1_STRING_length(bad),
                    out->bad_date, sizeof(out->bad_date));
}

/* One-line form of an X.509 name ("CN = a, O = b"). */
static void name_line(const X509_NAME *n, char *out, size_t outsz)
{
    out[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return;
    unsigned long fl = XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB;
    if (X509_NAME_print_ex(b, n, 0, fl) >= 0) {
        char *p = NULL;
        long len = BIO_get_mem_data(b, &p);
        if (len > 0 && p) {
            size_t c = (size_t)len < outsz - 1 ? (size_t)len : outsz - 1;
            memcpy(out, p, c);
            out[c] = '\0';
        }
    }
    BIO_free(b);
}

/* Append s to a comma-separated list in out (bounded). */
static void list_add(char *out, size_t outsz, const char *s)
{
    size_t o = strlen(out);
    int n = snprintf(out + o, outsz - o, "%s%s", o ? "," : "", s);
    if (n < 0 || (size_t)n >= outsz - o)
        out[o] = '\0'; /* keep whole entries only */
}

/* Copy an ASN1 string of printable characters as a C string (bounded); false if not clean. */
static bool asn1_copy(const ASN1_STRING *s, char *out, size_t outsz)
{
    const unsigned char *d = ASN1_STRING_get0_data(s);
    int len = ASN1_STRING_length(s);
    if (!d || len <= 0 || (size_t)len >= outsz)
        return false;
    for (int i = 0; i < len; i++) {
        if (d[i] < 0x21 || d[i] > 0x7e)
            return false;
    }
    memcpy(out, d, (size_t)len);
    out[len] = '\0';
    return true;
}

/* Subject alternative names: DNS into ci->dns and the list; IP addresses into the list. */
static void read_sans(X509 *x, struct x509_info *ci)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (!gens)
        return;
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char buf[X509_NAME_MAX];
        if (g->type == GEN_DNS) {
            if (!asn1_copy(g->d.dNSName, buf, sizeof(buf)))
                continue;
            if (ci->ndns < X509_MAX_DNS)
                memcpy(ci->dns[ci->ndns++], buf, strlen(buf) + 1);
            list_add(ci->rec.sans, sizeof(ci->rec.sans), buf);
        } else if (g->type == GEN_IPADD) {
            int len = ASN1_STRING_length(g->d.iPAddress);
            const unsigned char *d = ASN1_STRING_get0_data(g->d.iPAddress);
            if (d && (len == 4 || len == 16) &&
                inet_ntop(len == 4 ? AF_INET : AF_INET6, d, buf, sizeof(buf)))
                list_add(ci->rec.sans, sizeof(ci->rec.sans), buf);
        }
    }
    GENERAL_NAMES_free(gens);
}

/* Subject commonName (the last one, as browsers used to), if printable. */
static void read_cn(X509 *x, struct x509_info *ci)
{
    const X509_NAME *n = X509_get_subject_name(x);
    int idx = -1, last = -1;
    while ((idx = X509_NAME_get_index_by_NID(n, NID_commonName, idx)) >= 0)
        last = idx;
    if (last < 0)
        return;
    const X509_NAME_ENTRY *e = X509_NAME_get_entry(n, last);
    if (e && !asn1_copy(X509_NAME_ENTRY_get_data(e), ci->cn, sizeof(ci->cn)))
        ci->cn[0] = '\0';
}

/* Serial number as hex. */
static void read_serial(X509 *x, struct x509_info *ci)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    if (!bn)
        return;
    char *h = BN_bn2hex(bn);
    if (h) {
        snprintf(ci->rec.serial, sizeof(ci->rec.serial), "%s", h);
        OPENSSL_free(h);
    }
    BN_free(bn);
}

/* Public key type and size; weak when RSA/DSA under 2048 bits. */
static void read_key(X509 *x, struct x509_info *ci)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    const char *name = "unknown";
    if (!pk) {
        snprintf(ci->rec.key_type, sizeof(ci->rec.key_type), "%s", name);
        return;
    }
    int id = EVP_PKEY_base_id(pk);
    switch (id) {
    case EVP_PKEY_RSA:
        name = "RSA";
        break;
    case EVP_PKEY_RSA_PSS:
        name = "RSA-PSS";
        break;
    case EVP_PKEY_DSA:
        name = "DSA";
        break;
    case EVP_PKEY_EC:
        name = "EC";
        break;
    case EVP_PKEY_ED25519:
        name = "Ed25519";
        break;
    case EVP_PKEY_ED448:
        name = "Ed448";
        break;
    default:
        break;
    }
    snprintf(ci->rec.key_type, sizeof(ci->rec.key_type), "%s", name);
    ci->rec.key_bits = EVP_PKEY_bits(pk);
    if ((id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS || id == EVP_PKEY_DSA) &&
        ci->rec.key_bits < 2048)
        ci->weak_key = true;
    if (id == EVP_PKEY_EC && ci->rec.key_bits < 224)
        ci->weak_key = true;
}

/* Signature algorithm name; weak when its digest is MD5 or SHA-1. */
static void read_sig(X509 *x, struct x509_info *ci)
{
    int nid = X509_get_signature_nid(x);
    const char *ln = nid != NID_undef ? OBJ_nid2ln(nid) : NULL;
    snprintf(ci->rec.sig_alg, sizeof(ci->rec.sig_alg), "%s", ln ? ln : "unknown");
    int md = NID_undef, pk = NID_undef;
    if (nid != NID_undef && OBJ_find_sigid_algs(nid, &md, &pk) == 1) {
        if (md == NID_md5 || md == NID_sha1 || md == NID_md5_sha1 || md == NID_md2 || md == NID_md4)
            ci->weak_sig = true;
    }
}

int x509_parse(const uint8_t *der, size_t len, struct x509_info *out)
{
    memset(out, 0, sizeof(*out));
    if (len == 0 || len > 0x7fffffff)
        return ERR_FORMAT;
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (!x)
        return ERR_FORMAT;
    size_t used = (size_t)(p - der);
    if (x509_hash_hex(X509_SHA256, der, used, out->rec.sha256, sizeof(out->rec.sha256)) < 0) {
        X509_free(x);
        return ERR_FORMAT;
    }
    name_line(X509_get_subject_name(x), out->rec.subject, sizeof(out->rec.subject));
    name_line(X509_get_issuer_name(x), out->rec.issuer, sizeof(out->rec.issuer));
    read_sans(x, out);
    read_cn(x, out);
    read_serial(x, out);
    read_dates(x, out);
    read_key(x, out);
    read_sig(x, out);
    if (X509_check_issued(x, x) == X509_V_OK) {
        EVP_PKEY *pk = X509_get0_pubkey(x);
        out->rec.self_signed = pk && X509_verify(x, pk) == 1;
    }
    X509_free(x);
    return 0;
}

/* Case-insensitive equality of a[0,n) and b[0,n). */
static bool ieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return false;
    }
    return true;
}

/* Length of s without one trailing dot. */
static size_t trimmed_len(const char *s)
{
    size_t n = strlen(s);
    if (n && s[n - 1] == '.')
        n--;
    return n;
}

bool x509_dns_match(const char *pattern, const char *host)
{
    size_t pl = trimmed_len(pattern), hl = trimmed_len(host);
    if (pl == 0 || hl == 0)
        return false;
    if (pattern[0] != '*')
        return pl == hl && ieq(pattern, host, pl) && !memchr(pattern, '*', pl);
    /* Wildcard: only "*." as the whole left-most label, with at least two labels after it. */
    if (pl < 3 || pattern[1] != '.')
        return false;
    const char *rest = pattern + 2;
    size_t rl = pl - 2;
    if (!memchr(rest, '.', rl) || memchr(rest, '*', rl))
        return false;
    const char *dot = memchr(host, '.', hl);
    if (!dot || dot == host)
        return false;
    size_t hrest = hl - (size_t)(dot + 1 - host);
    return hrest == rl && ieq(dot + 1, rest, rl);
}

bool x509_name_matches(const struct x509_info *ci, const char *host)
{
    if (ci->ndns) {
        for (unsigned i = 0; i < ci->ndns; i++) {
            if (x509_dns_match(ci->dns[i], host))
                return true;
        }
        return false;
    }
    return ci->cn[0] && x509_dns_match(ci->cn, host);
}

/* Trust anchors and the verification context, reused for every chain. */
struct x509_trust {
    X509_STORE *store;    /* the anchors */
    X509_STORE_CTX *vctx; /* one verification at a time */
    bool files;           /* from --ca-file (else the system store) */
    bool loaded;          /* the system store was loaded (lazily) */
};

struct x509_trust *x509_trust_new(const char *const *ca_files, size_t n, char *err, size_t errlen)
{
    struct x509_trust *t = calloc(1, sizeof(*t));
    if (!t || !(t->store = X509_STORE_new()) || !(t->vctx = X509_STORE_CTX_new())) {
        snprintf(err, errlen, "out of memory for the certificate trust store");
        x509_trust_free(t);
        return NULL;
    }
    t->files = n > 0;
    t->loaded = n > 0;
    for (size_t i = 0; i < n; i++) {
        int before = sk_X509_OBJECT_num(X509_STORE_get0_objects(t->store));
        if (X509_STORE_load_locations(t->store, ca_files[i], NULL) != 1 ||
            sk_X509_OBJECT_num(X509_STORE_get0_objects(t->store)) <= before) {
            snprintf(err, errlen, "--ca-file %s: cannot read it, or it holds no PEM certificate",
                     ca_files[i]);
            x509_trust_free(t);
            return NULL;
        }
    }
    return t;
}

void x509_trust_free(struct x509_trust *t)
{
    if (!t)
        return;
    X509_STORE_CTX_free(t->vctx);
    X509_STORE_free(t->store);
    free(t);
}

bool x509_trust_is_files(const struct x509_trust *t)
{
    return t->files;
}

/*
 * Validity dates are the date checks' (cert_expired, cert_not_yet_valid, cert_expiring,
 * cert_invalid_date): forgive those errors so that the verifier goes on to what it alone
 * can say. Any other error stops the verification with its code.
 */
static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
    if (ok)
        return 1;
    switch (X509_STORE_CTX_get_error(ctx)) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
        return 1;
    default:
        return 0;
    }
}

/* The certificate the error is about: its names, fingerprint and notAfter into out. */
static void chain_cert_info(X509 *x, struct x509_chain_result *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mlen = 0;
    name_line(X509_get_subject_name(x), out->subject, sizeof(out->subject));
    name_line(X509_get_issuer_name(x), out->issuer, sizeof(out->issuer));
    if (X509_digest(x, md_get(X509_SHA256), md, &mlen) == 1)
        hex_out(md, mlen, out->sha256, sizeof(out->sha256));
    out->bad_not_after = !asn1_epoch(X509_get0_notAfter(x), &out->not_after);
}

void x509_verify_chain(struct x509_trust *t, const uint8_t *const *der, const size_t *len, size_t n,
                       int64_t at_s, struct x509_chain_result *out)
{
    memset(out, 0, sizeof(*out));
    out->status = X509_CHAIN_UNCHECKED;
    if (!t->loaded) {
        t->loaded = true;
        if (X509_STORE_set_default_paths(t->store) != 1)
            ERR_clear_error();
        /* the bundle is read now, the hashed directory as certificates are looked up */
        if (sk_X509_OBJECT_num(X509_STORE_get0_objects(t->store)) == 0) {
            const char *file = getenv(X509_get_default_cert_file_env());
            const char *dir = getenv(X509_get_default_cert_dir_env());
            log_warn("TLS: no CA certificate in the system trust store's bundle %s: chains are "
                     "checked against %s alone (install ca-certificates, or give --ca-file)",
                     file ? file : X509_get_default_cert_file(),
                     dir ? dir : X509_get_default_cert_dir());
        }
    }
    STACK_OF(X509) *sent = sk_X509_new_null();
    if (!sent || n == 0)
        goto free_sent;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = der[i];
        X509 *x = len[i] <= 0x7fffffff ? d2i_X509(NULL, &p, (long)len[i]) : NULL;
        if (!x || !sk_X509_push(sent, x)) {
            X509_free(x);
            goto free_sent;
        }
    }
    X509_STORE_CTX *c = t->vctx;
    if (X509_STORE_CTX_init(c, t->store, sk_X509_value(sent, 0), sent) != 1)
        goto free_sent;
    X509_STORE_CTX_set_purpose(c, X509_PURPOSE_SSL_SERVER);
    X509_STORE_CTX_set_time(c, 0, (time_t)at_s);
    X509_STORE_CTX_set_verify_cb(c, verify_cb);
    int rc = X509_verify_cert(c);
    if (rc == 1) {
        out->status = X509_CHAIN_OK;
    } else {
        out->code = X509_STORE_CTX_get_error(c);
        out->depth = X509_STORE_CTX_get_error_depth(c);
        snprintf(out->reason, sizeof(out->reason), "%s", X509_verify_cert_error_string(out->code));
        X509 *at = X509_STORE_CTX_get_current_cert(c);
        if (!at)
            at = sk_X509_value(sent, 0);
        chain_cert_info(at, out);
        out->status = X509_CHAIN_UNTRUSTED;
        switch (out->code) {
        case X509_V_OK: /* failed without saying why (out of memory): no verdict */
            out->status = X509_CHAIN_UNCHECKED;
            break;
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
            out->status = X509_CHAIN_INCOMPLETE;
            out->why = X509_WHY_MISSING_ISSUER;
            break;
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
            out->why = X509_WHY_SELF_SIGNED;
            break;
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
            out->why = X509_WHY_UNTRUSTED_ROOT;
            break;
        case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
        case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
            out->why = X509_WHY_SIGNATURE;
            break;
        default:
            out->why = X509_WHY_OTHER;
            break;
        }
    }
    X509_STORE_CTX_cleanup(c);
free_sent:
    sk_X509_pop_free(sent, X509_free);
    ERR_clear_error();
}

/* The IANA code ranges that hold TLS cipher suites (RFC 8446 B.4, the TLS registry). */
static const struct {
    uint16_t first, last; /* inclusive */
} cs_ranges[] = {
    {0x0000, 0x00ff}, /* SSL 3.0 .. TLS 1.2 suites, TLS_EMPTY_RENEGOTIATION_INFO_SCSV */
    {0x1300, 0x13ff}, /* TLS 1.3 */
    {0x5600, 0x5600}, /* TLS_FALLBACK_SCSV */
    {0xc000, 0xc1ff}, /* ECDHE, SRP, ARIA, Camellia, CCM, GOST */
    {0xcc00, 0xccff}, /* ChaCha20-Poly1305 */
    {0xd000, 0xd0ff}, /* ECDHE_PSK with AES-GCM/CCM */
};

int x509_cipher_suites(void (*add)(void *ctx, uint16_t code, const char *name), void *ctx)
{
    SSL_CTX *sc = SSL_CTX_new(TLS_method());
    SSL *ssl = sc ? SSL_new(sc) : NULL;
    if (!ssl) {
        SSL_CTX_free(sc);
        return ERR_NOMEM;
    }
    for (size_t r = 0; r < sizeof(cs_ranges) / sizeof(cs_ranges[0]); r++) {
        for (uint32_t code = cs_ranges[r].first; code <= cs_ranges[r].last; code++) {
            const unsigned char b[2] = {(unsigned char)(code >> 8), (unsigned char)code};
            const SSL_CIPHER *c = SSL_CIPHER_find(ssl, b);
            const char *name = c ? SSL_CIPHER_standard_name(c) : NULL;
            if (c && SSL_CIPHER_get_protocol_id(c) == code && name && strncmp(name, "TLS_", 4) == 0)
                add(ctx, (uint16_t)code, name);
        }
    }
    SSL_free(ssl);
    SSL_CTX_free(sc);
    return 0;
}

/* A reusable cipher context. */
struct x509_aead {
    EVP_CIPHER_CTX *ctx; /* OpenSSL's context, reused */
};

struct x509_aead *x509_aead_new(void)
{
    struct x509_aead *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->ctx = EVP_CIPHER_CTX_new();
    if (!a->ctx) {
        free(a);
        return NULL;
    }
    return a;
}

void x509_aead_free(struct x509_aead *a)
{
    if (!a)
        return;
    EVP_CIPHER_CTX_free(a->ctx);
    free(a);
}

/* HKDF-Expand-Label(secret, label, "", n) of RFC 8446 7.1 into out. */
static int expand_label(const EVP_MD *md, const uint8_t *secret, size_t slen, const char *label,
                        uint8_t *out, size_t n)
{
    uint8_t info[64];
    size_t ll = strlen(label), o = 0;
    if (6 + ll + 4 > sizeof(info))
        return ERR_ARG;
    info[o++] = (uint8_t)(n >> 8);
    info[o++] = (uint8_t)n;
    info[o++] = (uint8_t)(6 + ll);
    memcpy(info + o, "tls13 ", 6);
    o += 6;
    memcpy(info + o, label, ll);
    o += ll;
    info[o++] = 0; /* empty context */
    int rc = ERR_FORMAT;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    if (!pc)
        return ERR_NOMEM;
    size_t outlen = n;
    if (EVP_PKEY_derive_init(pc) == 1 &&
        EVP_PKEY_CTX_hkdf_mode(pc, EVP_PKEY_HKDEF_MODE_EXPAND_ONLY) == 1 &&
        EVP_PKEY_CTX_set_hkdf_md(pc, md) == 1 &&
        EVP_PKEY_CTX_set1_hkdf_key(pc, secret, (int)slen) == 1 &&
        EVP_PKEY_CTX_add1_hkdf_info(pc, info, (int)o) == 1 &&
        EVP_PKEY_derive(pc, out, &outlen) == 1 && outlen == n)
        rc = 0;
    EVP_PKEY_CTX_free(pc);
    return rc;
}

int x509_tls13_derive(uint16_t cipher, const uint8_t *secret, size_t slen, struct x509_tls13_key *k)
{
    const EVP_MD *md = cipher == 0x1302 ? EVP_sha384() : EVP_sha256();
    memset(k, 0, sizeof(*k));
    switch (cipher) {
    case 0x1301:
        k->keylen = 16;
        break;
    case 0x1302:
    case 0x1303:
        k->keylen = 32;
        break;
    default:
        return ERR_FORMAT;
    }
    if (slen != (size_t)EVP_MD_size(md))
        return ERR_FORMAT;
    k->cipher = cipher;
    k->taglen = 16;
    if (expand_label(md, secret, slen, "key", k->key, k->keylen) < 0 ||
        expand_label(md, secret, slen, "iv", k->iv, sizeof(k->iv)) < 0)
        return ERR_FORMAT;
    return 0;
}

int x509_tls13_open(struct x509_aead *a, const struct x509_tls13_key *k, uint64_t seq,
                    const uint8_t hdr[5], const uint8_t *ct, size_t ctlen, uint8_t *pt,
                    size_t *ptlen)
{
    const EVP_CIPHER *c = k->cipher == 0x1301   ? EVP_aes_128_gcm()
                          : k->cipher == 0x1302 ? EVP_aes_256_gcm()
                                                : EVP_chacha20_poly1305();
    uint8_t nonce[12], tag[16];
    int n1 = 0, n2 = 0;
    *ptlen = 0;
    if (!k->keylen || ctlen < k->taglen || ctlen - k->taglen > 0x7fffffff)
        return ERR_FORMAT;
    memcpy(nonce, k->iv, sizeof(nonce));
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(seq >> (8 * i));
    size_t n = ctlen - k->taglen;
    memcpy(tag, ct + n, k->taglen);
    EVP_CIPHER_CTX *x = a->ctx;
    if (EVP_DecryptInit_ex(x, c, NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, (int)sizeof(nonce), NULL) != 1 ||
        EVP_DecryptInit_ex(x, NULL, NULL, k->key, nonce) != 1 ||
        EVP_DecryptUpdate(x, NULL, &n1, hdr, 5) != 1 ||
        EVP_DecryptUpdate(x, pt, &n1, ct, (int)n) != 1 ||
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, k->taglen, tag) != 1 ||
        EVP_DecryptFinal_ex(x, pt + n1, &n2) != 1)
        return ERR_FORMAT;
    *ptlen = (size_t)n1 + (size_t)n2;
    return 0;
}
