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

/* ---- chain verification (OpenSSL's X509_verify_cert) ---- */

/* Trust anchors: the system trust store or the --ca-file certificates. */
struct x509_trust;

/*
 * Trust anchors from the PEM files ca_files[0, n) (each one certificate or a bundle), or,
 * with n == 0, the system trust store (X509_STORE_set_default_paths: Debian's
 * /etc/ssl/certs, SSL_CERT_FILE/SSL_CERT_DIR when set), loaded at the first verification.
 * NULL with one clear line in err when a file cannot be read or holds no certificate.
 */
struct x509_trust *x509_trust_new(const char *const *ca_files, size_t n, char *err, size_t errlen);
void x509_trust_free(struct x509_trust *t);
/* True when the anchors are --ca-file's, not the system store. */
bool x509_trust_is_files(const struct x509_trust *t);

/* What a chain verification found. */
enum x509_chain_status {
    X509_CHAIN_OK = 0,     /* verifies to a trust anchor (validity dates aside) */
    X509_CHAIN_INCOMPLETE, /* the issuer of the last certificate is neither sent nor trusted */
    X509_CHAIN_UNTRUSTED,  /* anything else: self-signed, untrusted root, bad signature, ... */
    X509_CHAIN_UNCHECKED,  /* a certificate did not parse or OpenSSL failed: no verdict */
};

/* Why a chain does not verify, for the advice (code has OpenSSL's own number). */
enum x509_chain_why {
    X509_WHY_NONE = 0,       /* it verifies, or it was not checked */
    X509_WHY_MISSING_ISSUER, /* an issuer is neither sent nor trusted (incomplete) */
    X509_WHY_SELF_SIGNED,    /* the leaf is self-signed and not trusted */
    X509_WHY_UNTRUSTED_ROOT, /* the chain ends at a root that is sent but not trusted */
    X509_WHY_SIGNATURE,      /* a signature does not verify */
    X509_WHY_OTHER,          /* CA flags, path length, purpose, ... */
};

/* The verdict, and the certificate it is about. */
struct x509_chain_result {
    enum x509_chain_status status; /* the verdict */
    enum x509_chain_why why;       /* why it does not verify */
    int code;                      /* OpenSSL's X509_V_ERR_* (0: none) */
    int depth;                     /* position in the verified chain (0 = leaf) of the
                                      certificate the error is about */
    char reason[80];               /* OpenSSL's text for code, as Zeek's validation_status */
    char subject[256];             /* that certificate's one-line subject */
    char issuer[256];              /* its issuer: the one missing, or not trusted */
    char sha256[65];               /* its fingerprint (hex) */
    int64_t not_after;             /* its notAfter, seconds since the epoch */
    bool bad_not_after;            /* notAfter is not a date (not_after is 0) */
};

/*
 * Verify the chain a server sent, der[i][0, len[i]) for i < n (0 = leaf, then what the server
 * added, in its order), against t at time at_s (the capture time, seconds since the epoch),
 * for the TLS server purpose. Validity dates are left to the date checks (an expired or not
 * yet valid certificate does not fail the chain here). Allocates through OpenSSL: call once
 * per chain, not per handshake.
 */
void x509_verify_chain(struct x509_trust *t, const uint8_t *const *der, const size_t *len, size_t n,
                       int64_t at_s, struct x509_chain_result *out);

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
