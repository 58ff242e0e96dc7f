/*
 * x509.h - certificate parsing and digests with OpenSSL libcrypto (the only OpenSSL user):
 * X.509 fields for cert_record, self-signed and weakness checks, RFC 6125 host name matching,
 * the MD5/SHA-256 digests behind JA3, JA4 and fingerprints, and libssl's cipher suite names.
 */
#ifndef FM_X509_H
#define FM_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/finding.h"
#include "capture/err.h"

#define X509_MAX_DNS 16   /* SAN DNS names kept for name matching */
#define X509_NAME_MAX 256 /* longest DNS name kept (RFC 1035: 253) */

/* What flowmedic keeps of one parsed certificate. */
struct x509_info {
    struct cert_record rec;                /* the record for the sinks (flow/server unset) */
    char cn[X509_NAME_MAX];                /* subject commonName, "" if none */
    uint8_t ndns;                          /* dns[] entries used */
    char dns[X509_MAX_DNS][X509_NAME_MAX]; /* SAN dNSName entries */
    bool weak_key;                         /* RSA/DSA key < 2048 bits */
    bool weak_sig;                         /* signed with MD5 or SHA-1 */
    char bad_date[48];                     /* first unreadable date as sent (escaped), or "" */
};

/*
 * Parse one DER certificate into out. ERR_FORMAT if OpenSSL cannot read it. The issuer is
 * only checked for the self-signed test (X509_check_issued + a verify with the own key).
 */
int x509_parse(const uint8_t *der, size_t len, struct x509_info *out) FM_WUR;

/*
 * RFC 6125 name check: true if host matches one of the SAN dNSName entries (or, only when
 * there are none, the subject CN). A wildcard is accepted only as the whole left-most label
 * ("*.example.com" matches "a.example.com", not "a.b.example.com" nor "example.com").
 * Comparison is case-insensitive; a trailing dot on host is ignored.
 */
bool x509_name_matches(const struct x509_info *ci, const char *host);

/* One DNS pattern against one host name, with the rules above. */
bool x509_dns_match(const char *pattern, const char *host);

/* Digest algorithms offered by x509_digest. */
enum x509_alg {
    X509_MD5 = 0,
    X509_SHA256,
};

struct x509_digest;

/* A reusable digest context (allocate once at start-up). NULL on failure. */
struct x509_digest *x509_digest_new(void);
void x509_digest_free(struct x509_digest *d);
/* Start a digest; 0 or ERR_NOMEM/ERR_FORMAT. */
int x509_digest_begin(struct x509_digest *d, enum x509_alg alg) FM_WUR;
void x509_digest_update(struct x509_digest *d, const void *p, size_t n);
/* Finish and write the lower-case hex digest (NUL-terminated, cut to outsz-1 chars). */
void x509_digest_hex(struct x509_digest *d, char *out, size_t outsz);

/* One-shot digest of p[0,n) as lower-case hex into out (cut to outsz-1 chars). */
int x509_hash_hex(enum x509_alg alg, const void *p, size_t n, char *out, size_t outsz) FM_WUR;

/*
 * Every TLS cipher suite OpenSSL's libssl knows (SSL_CIPHER_find over the IANA-assigned code
 * ranges, whether or not this build could negotiate it): add(ctx, code, IANA name) for each,
 * in increasing code order. 0, or ERR_NOMEM when libssl could not be set up.
 */
int x509_cipher_suites(void (*add)(void *ctx, uint16_t code, const char *name), void *ctx) FM_WUR;

/* A TLS 1.3 record protection key for one direction (RFC 8446 5.2, 7.3). */
struct x509_tls13_key {
    uint16_t cipher; /* TLS 1.3 cipher suite it belongs to */
    uint8_t key[32]; /* write key */
    uint8_t keylen;  /* bytes of key used */
    uint8_t iv[12];  /* write IV */
    uint8_t taglen;  /* AEAD tag length */
};

/*
 * Derive the write key and IV from a traffic secret (HKDF-Expand-Label "key" / "iv").
 * 0, or ERR_FORMAT for a suite flowmedic cannot open (only the AES-GCM and ChaCha20-Poly1305
 * suites 0x1301-0x1303) or a secret of the wrong length.
 */
int x509_tls13_derive(uint16_t cipher, const uint8_t *secret, size_t slen,
                      struct x509_tls13_key *k) FM_WUR;

/* A reusable AEAD context (allocate once at start-up). NULL on failure. */
struct x509_aead;
struct x509_aead *x509_aead_new(void);
void x509_aead_free(struct x509_aead *a);

/*
 * Decrypt and authenticate one TLSCiphertext: hdr is its 5-byte record header (the AAD),
 * ct[0, ctlen) its payload, seq the record number under this key. pt must hold ctlen bytes;
 * *ptlen gets the TLSInnerPlaintext length (content, type byte, padding). 0 or ERR_FORMAT.
 */
int x509_tls13_open(struct x509_aead *a, const struct x509_tls13_key *k, uint64_t seq,
                    const uint8_t hdr[5], const uint8_t *ct, size_t ctlen, uint8_t *pt,
                    size_t *ptlen) FM_WUR;

#endif
