/*
 * tls.h - a resumable TLS record and handshake parser (RFC 5246, RFC 8446) over reassembled
 * bytes: ClientHello/ServerHello fields, JA3/JA3S/JA4, certificates, CCS, alerts, and record
 * sizes of what is encrypted. It never allocates while parsing; all scratch space is in
 * struct tls_ctx, made once at start-up.
 */
#ifndef FM_TLS_H
#define FM_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/finding.h"
#include "capture/err.h"

/* The TLS detector (det_tls.c), for det_table.c. */
struct det_ops;
extern const struct det_ops det_tls_ops;

/*
 * --workers: add what another worker's instance counted for the exit lines (sessions, the
 * connections not analysed, chains, ...) to into, whose on_finish then says the sums, as one
 * engine would (analyzers/worker.c, wk_say_finish).
 */
struct det;
void det_tls_add_counts(struct det *into, const struct det *from);

/* Record content types. */
enum tls_ct {
    TLS_CT_CCS = 20,
    TLS_CT_ALERT = 21,
    TLS_CT_HANDSHAKE = 22,
    TLS_CT_APPDATA = 23,
    TLS_CT_HEARTBEAT = 24,
};

/* Handshake message types used here. */
enum tls_hs {
    TLS_HS_CLIENT_HELLO = 1,
    TLS_HS_SERVER_HELLO = 2,
    TLS_HS_NEW_SESSION_TICKET = 4,
    TLS_HS_ENCRYPTED_EXTENSIONS = 8,
    TLS_HS_CERTIFICATE = 11,
    TLS_HS_SERVER_KEY_EXCHANGE = 12,
    TLS_HS_CERTIFICATE_REQUEST = 13,
    TLS_HS_SERVER_HELLO_DONE = 14,
    TLS_HS_CERTIFICATE_VERIFY = 15,
    TLS_HS_CLIENT_KEY_EXCHANGE = 16,
    TLS_HS_FINISHED = 20,
};

/* Extension types read here (IANA TLS ExtensionType registry). */
enum tls_ext {
    TLS_EXT_SERVER_NAME = 0,           /* RFC 6066 */
    TLS_EXT_SUPPORTED_GROUPS = 10,     /* RFC 8422, RFC 7919 */
    TLS_EXT_EC_POINT_FORMATS = 11,     /* RFC 8422 */
    TLS_EXT_SIGNATURE_ALGORITHMS = 13, /* RFC 8446 */
    TLS_EXT_ALPN = 16,                 /* RFC 7301 */
    TLS_EXT_SUPPORTED_VERSIONS = 43,   /* RFC 8446 */
};

/* server_name NameType host_name (RFC 6066 3). */
#define TLS_SNI_HOST_NAME 0

#define TLS_SSL2 0x0002 /* SSL 2.0 as JA4 names it */
#define TLS_SSL3 0x0300
#define TLS_V10 0x0301
#define TLS_V11 0x0302
#define TLS_V12 0x0303
#define TLS_V13 0x0304
#define TLS_V13_DRAFT_MAJOR 0x7f /* TLS 1.3 drafts: 0x7fNN */
#define DTLS_V10 0xfeff
#define DTLS_V12 0xfefd
#define DTLS_V13 0xfefc
#define TLS_MAX_RECORD (16384 + 2048) /* largest TLSCiphertext fragment (RFC 5246 6.2.3) */

/* Record-layer state of one direction. */
struct tls_dir {
    uint32_t cur_left;   /* payload bytes still to come of the record whose header was read */
    uint32_t hs_discard; /* bytes of an oversized handshake message still to skip */
    uint8_t cur_type;    /* content type of that record */
    bool cur_enc;        /* that record is encrypted (opaque) */
    bool enc;            /* this side sent ChangeCipherSpec before TLS 1.2 Finished: later
                            handshake records are encrypted */
    bool dead;           /* malformed input: parsing this direction stopped */
    uint32_t records;    /* records seen (headers read) */
};

/* One connection's parser state and what it learned (fields of rec filled as they appear). */
struct tls_conn {
    struct tls_dir d[2];       /* per direction (DIR_C2S, DIR_S2C) */
    struct tls_record rec;     /* sni, alpn, ja3, ja3s, ja4, client_version, version, cipher,
                                  hello_retry; the flow and outcome fields are the caller's */
    uint16_t legacy_version;   /* ClientHello legacy_version */
    uint8_t client_random[32]; /* ClientHello.random (the key log's lookup key) */
    bool seen_ch;              /* a ClientHello was parsed */
    bool seen_sh;              /* a ServerHello (not a HelloRetryRequest) was parsed */
    uint16_t ncerts;           /* certificates handed to on_cert */
};

/* What the parser tells its user, in stream order. Any callback may be NULL. */
struct tls_events {
    void *ctx; /* the user's */
    /* A record header other than a plaintext handshake record (those give on_handshake). */
    void (*on_record)(void *ctx, int dir, uint8_t type, uint32_t len, bool encrypted);
    /* A plaintext handshake message, after its fields went into tls_conn.rec. parsed is false
       for a message too large to buffer (skipped unread). */
    void (*on_handshake)(void *ctx, int dir, uint8_t type, uint32_t len, bool parsed);
    /* An alert: level and description, or -1/-1 when it was encrypted. */
    void (*on_alert)(void *ctx, int dir, int level, int desc);
    /* One certificate of a server Certificate message (idx 0 = leaf), DER bytes borrowed. */
    void (*on_cert)(void *ctx, unsigned idx, const uint8_t *der, size_t len);
    /* True when the user wants whole application_data records of dir (to decrypt them). */
    bool (*want_enc)(void *ctx, int dir);
    /* A whole application_data record (header + payload), after its on_record. */
    void (*on_enc_record)(void *ctx, int dir, const uint8_t *rec, size_t len);
};

/* Shared scratch space for one parsing thread. */
struct tls_ctx;

/* Scratch for streams of at most cap buffered bytes. NULL on failure. */
struct tls_ctx *tls_ctx_new(size_t cap);
void tls_ctx_free(struct tls_ctx *x);

/*
 * Parse the bytes buf[0, len) of direction dir (the unconsumed front of that direction's
 * stream). Returns the bytes consumed (the caller drops them and calls again with more),
 * NEED_MORE when nothing could be consumed, or MALFORMED (the direction is dead from then on).
 * len must not exceed the cap given to tls_ctx_new.
 */
int tls_parse(struct tls_conn *c, int dir, const uint8_t *buf, size_t len, struct tls_ctx *x,
              const struct tls_events *ev) FM_WUR;

/*
 * A resumable walk over the record headers of one direction (RFC 8446 5.1) that keeps no
 * record bytes: for timing application data on connections the handshake parser no longer
 * follows. Zero it to start.
 */
struct tls_walk {
    uint8_t hdr[5];  /* header bytes collected */
    uint8_t hlen;    /* bytes in hdr[] */
    uint8_t type;    /* content type of the record being walked */
    bool mark;       /* the record being walked was marked by on_header */
    uint16_t remain; /* body bytes of that record still to come */
};

/*
 * Walk b[0, n). Each complete header calls on_header(ctx, type, len), whose return marks the
 * record. Returns 1 when bytes of a marked record (its header's last byte or body bytes) were
 * among them, 0 when not, MALFORMED when the bytes are not TLS records (stop walking).
 */
int tls_walk(struct tls_walk *w, const uint8_t *b, size_t n,
             bool (*on_header)(void *ctx, uint8_t type, uint16_t len), void *ctx) FM_WUR;

/* n bytes are missing: true when they fall inside the body of the record being walked. */
bool tls_walk_skip(struct tls_walk *w, uint64_t n);

/* True if p[0, n) starts like a TLS handshake record (type 22, version 3.0 - 3.4). */
bool tls_looks_like(const uint8_t *p, size_t n);

/* True for TLS 1.3 or one of its drafts (0x7fxx). */
bool tls_is_v13(uint16_t v);
/* True for a GREASE value (RFC 8701). */
bool tls_is_grease(uint16_t v);

/* Build a JA4 fingerprint string; exposed for tests. See tls.c for the inputs. */
struct tls_ja4_in {
    uint16_t version;        /* highest offered version (supported_versions or legacy) */
    bool sni;                /* server_name present */
    const uint16_t *ciphers; /* cipher suites, GREASE removed */
    size_t nciphers;         /* entries in ciphers */
    const uint16_t *exts;    /* extension types, GREASE removed, in wire order */
    size_t nexts;            /* entries in exts */
    const uint16_t *sigalgs; /* signature algorithms in wire order, GREASE removed */
    size_t nsigalgs;         /* entries in sigalgs */
    const uint8_t *alpn;     /* first ALPN value, NULL if none */
    size_t alpn_len;         /* its length */
};
/*
 * Write JA4 into out (at least 37 bytes). sort is scratch of max(nciphers, nexts) entries,
 * text scratch of 5 * (max(nciphers, nexts + nsigalgs) + 1) bytes. 0 or a negative enum err.
 */
int tls_ja4(const struct tls_ja4_in *in, uint16_t *sort, char *text, size_t textsz, char *out,
            size_t outsz) FM_WUR;

#endif
