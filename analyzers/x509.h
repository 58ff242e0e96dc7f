/*
 * x509.h - certificate parsing and digests with OpenSSL libcrypto (the only OpenSSL user):
 * X.509 fields for cert_record, self-signed and weakness checks, RFC 6125 host name matching,
 * and the MD5/SHA-256 digests behind JA3, JA4 and fingerprints.
 */
#ifndef FM_X509_H
#define FM_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../capture/err.h"
#include "finding.h"

#define X509_MAX_DNS 16   /* SAN DNS names kept for name matching */
#define X509_NAME_MAX 256 /* longest DNS name kept (RFC 1035: 253) */

/* What flowmedic keeps of one parsed certificate. */
struct x509_info {
    struct cert_record rec;                 /* the record for the sinks (flow/server unset) */
    char cn[X509_NAME_MAX];                 /* subject commonName, "" if none */
    uint8_t ndns;                           /* dns[] entries used */
    char dns[X509_MAX_DNS][X509_NAME_MAX];  /* SAN dNSName entries */
    bool weak_key;                          /* RSA/DSA key < 2048 bits */
    bool weak_sig;                          /* signed with MD5 or SHA-1 */
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

#endif
