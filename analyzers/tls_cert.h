/*
 * tls_cert.h - certificate checks of TLS handshakes: each certificate of a server's chain is
 * parsed (through a small cache of recent certificates) and judged once per (certificate,
 * server, SNI): a validity date that is not a date, expired, not yet valid, expiring within
 * N days, name mismatch, self-signed, weak key or signature; and the chain as a whole is
 * verified once per (server, chain) against the trust anchors: incomplete or untrusted.
 * det_tls follows the handshakes and turns the verdicts into findings.
 */
#ifndef FM_TLS_CERT_H
#define FM_TLS_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "analyzers/finding.h"

struct tls_certs;

/*
 * A checker with an expiring window of expiring_days, verifying chains against the PEM files
 * ca_files[0, nca) (none: the system trust store). NULL with one clear line in err (out of
 * memory, or a --ca-file that cannot be read).
 */
struct tls_certs *tls_certs_new(uint32_t expiring_days, const char *const *ca_files, size_t nca,
                                char *err, size_t errlen);
void tls_certs_free(struct tls_certs *tc);

/*
 * Parse one certificate (DER). The record is the checker's scratch (the caller fills its
 * flow, server, time and chain position), valid until the next parse; NULL if it does not
 * parse.
 */
struct cert_record *tls_certs_parse(struct tls_certs *tc, const uint8_t *der, size_t len);

/*
 * Judge the certificate parsed last, at position idx of the chain, presented by server for
 * sni ("" if none) at now_s (seconds since the epoch): each problem goes to verdict (kind,
 * severity, a readable detail, the certificate's record). A
 * (certificate, server, SNI) already judged is not judged again (every connection to a server
 * with an expired certificate would say the same thing; a slot collision only repeats one).
 */
void tls_certs_check(struct tls_certs *tc, unsigned idx, const struct endpoint *server,
                     const char *sni, int64_t now_s,
                     void (*verdict)(void *ctx, enum fkind k, enum severity sev, const char *detail,
                                     const struct cert_record *c),
                     void *ctx);

/*
 * Keep certificate idx of the server's Certificate message being read (DER, copied into the
 * checker's fixed chain buffer; idx 0 starts a new chain). Certificates past the buffer are
 * dropped and the chain is then not verified.
 */
void tls_certs_chain_add(struct tls_certs *tc, unsigned idx, const uint8_t *der, size_t len);

/*
 * The Certificate message ended: verify the chain kept since idx 0 with OpenSSL's verifier
 * (x509_verify_chain) at now_s, once per (server, chain): a chain already judged for this
 * server is not verified again. A chain that does not verify gives one verdict: kind
 * cert_chain_incomplete or cert_untrusted, its severity (warn against the system trust
 * store, error against --ca-file), a readable detail and the typed fields.
 */
void tls_certs_chain_check(struct tls_certs *tc, const struct endpoint *server, int64_t now_s,
                           void (*verdict)(void *ctx, enum fkind k, enum severity sev,
                                           const char *detail, const struct fx_cert *x),
                           void *ctx);

/* Chains verified, and chains not verified (too large, or a certificate did not parse). */
void tls_certs_chain_counts(const struct tls_certs *tc, uint64_t *verified, uint64_t *skipped);

/*
 * Workers (analyzers/worker.c): on the calling thread, ask judge(ctx, key) instead of the
 * table of this tls_certs whether (certificate, server, SNI) is judged the first time, so
 * that one aggregator decides it for every worker. NULL restores the table.
 */
/* (certificate, server, SNI) keys remembered by one judge (a direct-mapped table). */
#define TLS_CERTS_SEEN 4096

/* The judge itself: true the first time key is seen in seen[TLS_CERTS_SEEN] (then kept). */
bool tls_certs_first_key(uint64_t *seen, uint64_t key);

void tls_certs_set_thread_judge(bool (*judge)(void *ctx, uint64_t key), void *ctx);

#endif
