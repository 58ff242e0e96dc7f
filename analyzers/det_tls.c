/*
 * det_tls.c - TLS handshake analysis: a buffered parser of the stream layer (stream.h) for the
 * flows it found to be TLS on any port, parses both directions (tls.c), checks certificates
 * (tls_cert.c, x509.c) and decides the outcome of each handshake (completed, failed with an
 * alert, reset, closed, no ServerHello, stalled, or - for TLS 1.3 - rejected by the client,
 * inferred from record sizes).
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/det.h"
#include "analyzers/stream.h"
#include "analyzers/tcp.h"
#include "analyzers/tls.h"
#include "analyzers/tls_cert.h"
#include "analyzers/x509.h"
#include "capture/err.h"
#include "capture/log.h"
#include "capture/rd.h"

#define TS_FRAMES FINDING_FRAMES_MAX /* evidence frames kept per session */

/* Per-flow detection state (all a flow costs when it is not TLS). */
enum tf_state {
    TF_UNKNOWN = 0, /* no payload seen yet */
    TF_ACTIVE,      /* a session is attached (sess/gen) */
    TF_NOT_TLS,     /* the first payload was not TLS */
    TF_DONE,        /* outcome reported, session released */
    TF_NO_BUFFER,   /* TLS, but the session pool was empty */
};

/* This detector's slice of a flow. */
struct tls_flow {
    uint32_t sess;    /* session index + 1, 0 if none */
    uint32_t gen;     /* the session's generation when attached */
    uint8_t state;    /* enum tf_state */
};

/* One handshake being followed (pool entry). */
struct tls_sess {
    bool used;                  /* handed out */
    uint32_t gen;               /* bumped at every release */
    bool hole[2];               /* bytes of the direction wait ahead of a hole (stream_hole) */
    struct tls_conn tc;         /* parser state; tc.rec is the record being built */
    uint64_t ch_frame;          /* frame of the ClientHello */
    uint64_t last_progress_ns;  /* last time the handshake moved forward */
    uint64_t last_pkt_ns;       /* last packet of the flow */
    uint8_t nframes;            /* frames[] used */
    uint64_t frames[TS_FRAMES]; /* evidence frames */
    bool server_data;           /* the server sent any payload */
    bool ccs[2];                /* ChangeCipherSpec sent per direction */
    bool fin_hs[2];             /* encrypted Finished seen per direction (TLS <= 1.2) */
    uint32_t enc_after_sh[2];   /* encrypted records after the ServerHello, per direction */
    uint32_t appdata[2];        /* application_data records per direction */
    uint32_t c_first_enc_len;   /* length of the client's first encrypted record */
    uint64_t c_first_enc_ns;    /* when it was seen */
    uint32_t s_enc_after_c;     /* server encrypted records after the client's first one */
    bool fin_pending;           /* TLS 1.3: the client's Finished went out; the server's next
                                   record decides (an alert-sized one, then the close: the
                                   server refused the client's certificate) */
    uint64_t fin_ns;            /* when the client's Finished went out */
    bool srv_alert_after_fin;   /* the server's first record after it was alert-sized */
    bool server_cert;           /* a server Certificate message was seen */
    bool gap_counted;           /* the stream gap was counted */
    /* TLS 1.3 decryption with a key log (--tls-keylog) */
    bool keys;                    /* the key log had this handshake's secrets */
    bool derived;                 /* keys were derived after the ServerHello */
    uint8_t secret[3][48];        /* handshake traffic secrets (client, server), then the
                                     server's first application traffic secret */
    uint8_t slen[3];              /* their lengths (0: not in the key log) */
    struct x509_tls13_key app_key;/* the server's application key (its alert after the
                                     client's Finished is under it) */
    bool app_ok;                  /* app_key was derived */
    bool srv_fin;                 /* the server's Finished was decrypted */
    uint64_t s_app_records;       /* server records after its Finished (app_key sequence) */
    bool dec[2];                  /* records of this direction are being decrypted */
    struct x509_tls13_key key[2]; /* handshake keys per direction */
    uint64_t dec_seq[2];          /* next record number per direction */
    bool via_keylog;              /* the deciding alert was read by decrypting */
    struct stream_dir sd_inner;   /* decrypted server handshake, as plaintext records */
    uint64_t inner_off;           /* next offset in sd_inner */
    struct tls_conn inner;        /* parser state of the decrypted server handshake */
};

/* One key log entry: the TLS 1.3 handshake secrets of one ClientHello.random. */
struct kl_entry {
    uint8_t random[32];    /* ClientHello.random */
    uint8_t secret[3][48]; /* CLIENT_/SERVER_HANDSHAKE_TRAFFIC_SECRET, SERVER_TRAFFIC_SECRET_0 */
    uint8_t len[3];        /* their lengths, 0 if absent */
};

/* Detector-wide state. */
struct tls_priv {
    struct stream_pool *pool; /* with a key log: a buffer per session for the decrypted flight */
    struct tls_ctx *ctx;      /* parser scratch */
    struct tls_sess *sess;    /* the session pool */
    uint32_t nsess;           /* entries in sess */
    uint32_t *free;           /* stack of free session indexes */
    uint32_t nfree;           /* entries on it */
    struct tls_certs *certs;  /* certificate checks (tls_cert.c) */
    uint64_t stall_ns;        /* stalled after this long without progress */
    /* the packet being handled (for the parser callbacks) */
    struct det *d;        /* this detector */
    struct tls_sess *cur; /* session being fed */
    uint64_t cur_ns;      /* packet time */
    uint64_t cur_frame;   /* packet frame number */
    /* counters (logged at the end) */
    uint64_t sessions;  /* TLS handshakes followed */
    uint64_t exhausted; /* TLS flows that found no free session/buffers */
    uint64_t gaps;      /* directions stopped by a hole that never filled */
    uint64_t capped;    /* directions whose handshake outgrew the stream cap */
    uint64_t malformed; /* directions stopped by malformed TLS */
    /* key log */
    struct kl_entry *kl;              /* entries sorted by random */
    size_t nkl;                       /* entries in kl */
    struct x509_aead *aead;           /* decryption context */
    uint8_t *pt;                      /* plaintext scratch, stream cap bytes */
    uint64_t decrypted;               /* handshakes read with the key log */
    uint64_t decrypt_failed;          /* records that did not authenticate with the logged keys */
    /* --workers: the other workers' sessions and chain counts (det_tls_add_counts) */
    uint64_t more_sess, more_verified, more_skipped;
};

/* Index of a session in the pool. */
static uint32_t sess_idx(const struct tls_priv *pv, const struct tls_sess *s)
{
    return (uint32_t)(s - pv->sess);
}

static void add_frame(struct tls_sess *s, uint64_t frame)
{
    if (s->nframes && s->frames[s->nframes - 1] == frame)
        return;
    if (s->nframes < TS_FRAMES)
        s->frames[s->nframes++] = frame;
    else
        s->frames[TS_FRAMES - 1] = frame; /* keep the latest as the last piece of evidence */
}

/* A finding about session s (flow fields from the copy in the session's record). */
static void sess_finding(struct finding *out, const struct tls_sess *s, enum fkind k,
                         enum severity sev, uint64_t ts_ns)
{
    memset(out, 0, sizeof(*out));
    out->ts_ns = ts_ns;
    out->kind = k;
    out->sev = sev;
    out->flow_id = s->tc.rec.flow_id;
    out->has_client = true;
    out->client = s->tc.rec.client;
    out->server = s->tc.rec.server;
    out->confidence = 1.0f;
    out->nframes = s->nframes;
    memcpy(out->frames, s->frames, sizeof(out->frames));
}

static const char *side(int dir)
{
    return dir == DIR_C2S ? "client" : "server";
}

/* What a person should check for an alert. */
static const char *alert_hint(int desc)
{
    switch (desc) {
    case TLS_AD_CLOSE_NOTIFY:
        return "orderly close, not an error";
    case TLS_AD_UNEXPECTED_MESSAGE:
        return "a message came out of order: an incompatible implementation or a middlebox";
    case TLS_AD_BAD_RECORD_MAC:
        return "a record failed its integrity check: corruption or a middlebox rewriting bytes";
    case TLS_AD_HANDSHAKE_FAILURE:
        return "no cipher suite, group or signature algorithm both sides accept: compare the "
               "client's offer with the server's TLS configuration";
    case TLS_AD_BAD_CERTIFICATE:
    case TLS_AD_CERTIFICATE_UNKNOWN:
        return "the client rejected the server certificate: check the chain (intermediates), "
               "the names (SAN) and the validity dates";
    case TLS_AD_UNSUPPORTED_CERTIFICATE:
        return "the certificate type or key is not supported by the peer";
    case TLS_AD_CERTIFICATE_REVOKED:
        return "the certificate was revoked: replace it";
    case TLS_AD_CERTIFICATE_EXPIRED:
        return "a certificate has expired: renew it (and check the clock of the peer)";
    case TLS_AD_UNKNOWN_CA:
        return "the peer does not trust the certificate's issuer: install the intermediate "
               "certificates on the server or add the CA to the client's trust store";
    case TLS_AD_ILLEGAL_PARAMETER:
    case TLS_AD_DECODE_ERROR:
        return "a handshake field was malformed or not allowed: incompatible implementations "
               "or a middlebox";
    case TLS_AD_DECRYPT_ERROR:
        return "a signature or key exchange did not verify: wrong key or a middlebox";
    case TLS_AD_PROTOCOL_VERSION:
        return "no TLS version in common: check the minimum/maximum protocol versions on both "
               "sides";
    case TLS_AD_INSUFFICIENT_SECURITY:
        return "the server requires stronger parameters than the client offered";
    case TLS_AD_INTERNAL_ERROR:
        return "the peer hit an internal error: check its logs";
    case TLS_AD_INAPPROPRIATE_FALLBACK:
        return "a version downgrade was refused (inappropriate fallback)";
    case TLS_AD_USER_CANCELED:
        return "the user or application cancelled the handshake";
    case TLS_AD_MISSING_EXTENSION:
        return "a required extension is missing";
    case TLS_AD_UNRECOGNIZED_NAME:
        return "the server has no certificate for the requested name (SNI)";
    case TLS_AD_CERTIFICATE_REQUIRED:
        return "the server requires a client certificate";
    case TLS_AD_NO_APPLICATION_PROTOCOL:
        return "no application protocol (ALPN) in common";
    default:
        return "see RFC 8446 section 6.2 for the alert's meaning";
    }
}

/* "during the handshake (after the server's certificate)" style context for a detail. */
static const char *phase(const struct tls_sess *s)
{
    if (!s->tc.seen_sh)
        return "before the ServerHello";
    if (s->server_cert)
        return "after the server's certificate";
    if (tls_is_v13(s->tc.rec.version) && s->enc_after_sh[DIR_S2C] > 0)
        return "after the server's encrypted flight (certificate)";
    return "after the ServerHello";
}

/* The typed fields of a handshake finding: the outcome so far, from the session's record. */
static void tls_fx(const struct tls_sess *s, struct fx_tls_handshake *x)
{
    const struct tls_record *r = &s->tc.rec;
    x->outcome = r->outcome;
    x->inferred = r->inferred;
    x->version = r->version;
    x->alert_desc = (int16_t)(r->alert_desc < -1 ? -1 : r->alert_desc > 255 ? 255 : r->alert_desc);
    x->alert_from = (int8_t)(r->alert_from < 0 ? -1 : r->alert_from);
    fx_copy(x->sni, sizeof(x->sni), r->sni);
}

/* Write the handshake_failed finding for a failed outcome. */
static void emit_failed(struct tls_priv *pv, struct tls_sess *s, uint64_t ts)
{
    const struct tls_record *r = &s->tc.rec;
    struct finding f;
    char sni[96], vb[32];
    sess_finding(&f, s, FK_TLS_HANDSHAKE_FAILED, r->outcome == TLS_STALLED ? SEV_WARN : SEV_ERROR,
                 ts);
    fx_fmt(sni, sizeof(sni), "%s%s", r->sni[0] ? " for " : "", r->sni);
    const char *ver = r->version ? tls_version_name(r->version, vb, sizeof(vb)) : "no version";
    double secs = (double)(ts - (uint64_t)r->ts_ns) / 1e9;
    switch (r->outcome) {
    case TLS_FAILED_ALERT:
        if (r->alert_desc >= 0)
            fx_fmt(f.detail, sizeof(f.detail),
                 "TLS handshake%s failed: %s sent fatal alert %s(%d) %s (%s%s) - %s", sni,
                 side(r->alert_from), tls_alert_name(r->alert_desc), r->alert_desc, phase(s), ver,
                 s->via_keylog ? ", read with the key log" : "", alert_hint(r->alert_desc));
        else
            fx_fmt(f.detail, sizeof(f.detail),
                 "TLS handshake%s failed: %s sent an encrypted alert before the handshake "
                 "completed (%s) - the alert itself is not readable without keys",
                 sni, side(r->alert_from), ver);
        break;
    case TLS_RESET:
        fx_fmt(f.detail, sizeof(f.detail),
             "TLS handshake%s reset by the %s %s, %.3f s after the ClientHello (%s) - "
             "check the %s's TLS configuration and logs, or a middlebox/firewall resetting "
             "TLS",
             sni, side(r->alert_from), phase(s), secs, ver, side(r->alert_from));
        break;
    case TLS_CLOSED:
        fx_fmt(f.detail, sizeof(f.detail),
             "TLS handshake%s closed by the %s %s %s, %.3f s after the ClientHello (%s) - the "
             "%s gave up on the handshake: check its logs",
             sni, side(r->alert_from), phase(s),
             r->alert_desc == TLS_AD_CLOSE_NOTIFY ? "with close_notify" : "(FIN) without an alert",
             secs, ver, side(r->alert_from));
        break;
    case TLS_NO_SERVER_HELLO:
        fx_fmt(f.detail, sizeof(f.detail),
             "no ServerHello%s: the server did not answer the ClientHello for %.3f s%s - "
             "check that a TLS service listens on %u and is not overloaded",
             sni, secs,
             r->alert_from >= 0
                 ? (r->alert_from == DIR_C2S ? " (the client gave up)" : " (the server closed)")
                 : "",
             (unsigned)r->server.port);
        break;
    case TLS_STALLED:
        fx_fmt(f.detail, sizeof(f.detail),
             "TLS handshake%s stalled %s: no progress for %.1f s (%s) - one side waits for "
             "the other: check for packet loss or an overloaded server",
             sni, phase(s), (double)pv->stall_ns / 1e9, ver);
        break;
    case TLS_REJECTED_INFERRED:
        f.confidence = 0.7f;
        if (r->alert_from == DIR_S2C) {
            fx_fmt(f.detail, sizeof(f.detail),
                 "server rejected the client's certificate (or its absence)%s (inferred: TLS 1.3 "
                 "encrypts alerts; after the client's Finished the server's only record was "
                 "alert-sized, then the connection closed without application data from the "
                 "server) - check the client certificate, its CA in the server's client CA "
                 "list, ssl_verify_client",
                 sni);
            break;
        }
        fx_fmt(f.detail, sizeof(f.detail),
             "client rejected the server's certificate/handshake%s (inferred: TLS 1.3 "
             "encrypts alerts; the client answered the server's flight with one %u-byte "
             "encrypted record, the size of an alert, then closed, and no application data "
             "flowed) - check the certificate chain, names and validity",
             sni, (unsigned)s->c_first_enc_len);
        break;
    default:
        return;
    }
    tls_fx(s, &f.fx.tls_hs);
    det_emit(pv->d, &f);
}

/* Give a session back to the pool. */
static void sess_release(struct tls_priv *pv, struct tls_sess *s)
{
    if (pv->pool)
        stream_close(pv->pool, &s->sd_inner);
    s->used = false;
    s->gen++;
    pv->free[pv->nfree++] = sess_idx(pv, s);
}

/* The outcome is final: report it and release the session. */
static void sess_finish(struct tls_priv *pv, struct tls_sess *s, enum tls_outcome o, uint64_t ts)
{
    struct tls_record *r = &s->tc.rec;
    if (r->outcome == TLS_IN_PROGRESS)
        r->outcome = o;
    if (r->outcome == TLS_REJECTED_INFERRED)
        r->inferred = true;
    if (!s->tc.seen_ch) {
        /* It only looked like TLS (no ClientHello could be read): nothing to report. */
        sess_release(pv, s);
        return;
    }
    if (r->outcome != TLS_COMPLETED && r->outcome != TLS_IN_PROGRESS)
        emit_failed(pv, s, ts);
    det_emit_tls(pv->d, r);
    sess_release(pv, s);
}

/*
 * Bytes of the handshake are missing from the capture (a hole that never filled): what happened
 * after it cannot be read, so no failure is claimed - the outcome stays undecided (in_progress).
 */
static bool sess_lost_bytes(const struct tls_sess *s)
{
    return s->hole[0] || s->hole[1] || s->gap_counted;
}

/* Expected AEAD tag length of a TLS 1.3 suite. */
static uint32_t tag_len(uint16_t cs)
{
    return cs == 0x1305 ? 8 : 16;
}

/* An alert-sized TLS 1.3 record: 2 alert bytes + 1 inner type + tag. */
static bool alert_sized(const struct tls_sess *s, uint32_t len)
{
    return len == 3 + tag_len(s->tc.rec.cipher);
}

static void mark_completed(struct tls_sess *s, uint64_t ts)
{
    struct tls_record *r = &s->tc.rec;
    if (r->outcome != TLS_IN_PROGRESS)
        return;
    r->outcome = TLS_COMPLETED;
    r->duration_ns = (int64_t)(ts - r->ts_ns);
}

/*
 * TLS 1.3: the client's Finished is out. The handshake is complete for the client, but a server
 * that refuses the client's certificate says so only now, with an encrypted alert after its own
 * Finished; so completion waits for the server's next record (or the close).
 */
static void fin_sent(struct tls_sess *s, uint64_t ts)
{
    if (s->tc.rec.outcome != TLS_IN_PROGRESS || s->fin_pending)
        return;
    s->fin_pending = true;
    s->fin_ns = ts;
}

/* The pending TLS 1.3 handshake completed after all (the server went on, or nothing said no). */
static void fin_confirm(struct tls_sess *s)
{
    if (s->fin_pending && !s->srv_alert_after_fin)
        mark_completed(s, s->fin_ns);
}

/* Value of one hex digit, -1 if none. */
static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parse hex text h[0, n) into out (n/2 bytes, at most max); the byte count or -1. */
static int unhex(const char *h, size_t n, uint8_t *out, size_t max)
{
    if (n % 2 || n / 2 > max)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int a = hexval((unsigned char)h[i]), b = hexval((unsigned char)h[i + 1]);
        if (a < 0 || b < 0)
            return -1;
        out[i / 2] = (uint8_t)(a << 4 | b);
    }
    return (int)(n / 2);
}

static int kl_cmp(const void *a, const void *b)
{
    return memcmp(((const struct kl_entry *)a)->random, ((const struct kl_entry *)b)->random, 32);
}

/* The key log entry of a ClientHello.random, or NULL. */
static const struct kl_entry *kl_find(const struct tls_priv *pv, const uint8_t random[32])
{
    struct kl_entry key;
    memcpy(key.random, random, 32);
    return pv->kl ? bsearch(&key, pv->kl, pv->nkl, sizeof(key), kl_cmp) : NULL;
}

#define KL_MAX 1000000 /* key log lines read at most */

/*
 * Read the TLS 1.3 handshake secrets of an SSLKEYLOGFILE (NSS key log format: "LABEL
 * <client random hex> <secret hex>"). Other labels are ignored. 0 or a negative enum err.
 */
static int kl_load(struct tls_priv *pv, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        log_error("--tls-keylog %s: cannot open it", path);
        return ERR_IO;
    }
    size_t cap = 0;
    char line[512];
    while (fgets(line, sizeof(line), f) && pv->nkl < KL_MAX) {
        int which;
        if (strncmp(line, "CLIENT_HANDSHAKE_TRAFFIC_SECRET ", 32) == 0)
            which = 0;
        else if (strncmp(line, "SERVER_HANDSHAKE_TRAFFIC_SECRET ", 32) == 0)
            which = 1;
        else if (strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24) == 0)
            which = 2;
        else
            continue;
        char *rnd = line + (which == 2 ? 24 : 32), *sp = strchr(rnd, ' ');
        if (!sp)
            continue;
        char *sec = sp + 1;
        size_t sl = strcspn(sec, " \r\n");
        struct kl_entry e;
        memset(&e, 0, sizeof(e));
        int n = unhex(sec, sl, e.secret[which], sizeof(e.secret[which]));
        if (unhex(rnd, (size_t)(sp - rnd), e.random, 32) != 32 || n <= 0)
            continue;
        e.len[which] = (uint8_t)n;
        if (pv->nkl == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct kl_entry *k = realloc(pv->kl, nc * sizeof(*k));
            if (!k) {
                fclose(f);
                return ERR_NOMEM;
            }
            pv->kl = k;
            cap = nc;
        }
        pv->kl[pv->nkl++] = e;
    }
    fclose(f);
    if (!pv->nkl)
        return 0;
    /* Sort, then merge the client and server lines of each random into one entry. */
    qsort(pv->kl, pv->nkl, sizeof(pv->kl[0]), kl_cmp);
    size_t o = 0;
    for (size_t i = 0; i < pv->nkl; i++) {
        if (o && memcmp(pv->kl[o - 1].random, pv->kl[i].random, 32) == 0) {
            for (int w = 0; w < 3; w++) {
                if (pv->kl[i].len[w]) {
                    memcpy(pv->kl[o - 1].secret[w], pv->kl[i].secret[w], pv->kl[i].len[w]);
                    pv->kl[o - 1].len[w] = pv->kl[i].len[w];
                }
            }
        } else {
            pv->kl[o++] = pv->kl[i];
        }
    }
    pv->nkl = o;
    return 0;
}

/* After a TLS 1.3 ServerHello: derive the handshake keys of both directions from the key log. */
static void keys_derive(struct tls_priv *pv, struct tls_sess *s)
{
    s->derived = true;
    for (int dir = 0; dir < 2; dir++) {
        if (!s->slen[dir] ||
            x509_tls13_derive(s->tc.rec.cipher, s->secret[dir], s->slen[dir], &s->key[dir]) < 0)
            continue;
        s->dec[dir] = true;
        s->dec_seq[dir] = 0;
    }
    s->app_ok = s->slen[2] && x509_tls13_derive(s->tc.rec.cipher, s->secret[2], s->slen[2],
                                                &s->app_key) == 0;
    if (s->dec[DIR_S2C] && stream_open(pv->pool, &s->sd_inner, 0) < 0)
        s->dec[DIR_S2C] = false; /* no buffer for the decrypted flight */
    memset(&s->inner, 0, sizeof(s->inner));
    s->inner.rec.version = TLS_V13;
    if (s->dec[DIR_C2S] || s->dec[DIR_S2C])
        pv->decrypted++;
}

/*
 * The server's first record after the client's Finished, with its application key from the
 * key log: decrypted, so an alert refusing the client's certificate is read and named.
 */
static bool want_app_record(const struct tls_sess *s, int dir)
{
    return dir == DIR_S2C && !s->dec[DIR_S2C] && s->app_ok && s->srv_fin && s->fin_pending &&
           s->s_enc_after_c == 0;
}

static bool ev_want_enc(void *ctx, int dir)
{
    struct tls_priv *pv = ctx;
    return pv->cur->dec[dir] || want_app_record(pv->cur, dir);
}

static void ev_handshake(void *ctx, int dir, uint8_t type, uint32_t len, bool parsed);
static void ev_alert(void *ctx, int dir, int level, int desc);
static void ev_cert(void *ctx, unsigned idx, const uint8_t *der, size_t len);

/* Decrypted server handshake bytes: parse them as plaintext handshake records. */
static void inner_feed(struct tls_priv *pv, struct tls_sess *s, const uint8_t *p, size_t n)
{
    const struct tls_events ev = {pv, NULL, ev_handshake, ev_alert, ev_cert, NULL, NULL};
    uint8_t hdr[5] = {TLS_CT_HANDSHAKE, 3, 3, (uint8_t)(n >> 8), (uint8_t)n};
    (void)stream_add(&s->sd_inner, s->inner_off, hdr, sizeof(hdr));
    (void)stream_add(&s->sd_inner, s->inner_off + sizeof(hdr), p, n);
    s->inner_off += sizeof(hdr) + n;
    for (;;) {
        size_t len;
        const uint8_t *b = stream_data(&s->sd_inner, &len);
        if (len == 0)
            return;
        int r = tls_parse(&s->inner, DIR_S2C, b, len, pv->ctx, &ev);
        if (r < 0) {
            s->dec[DIR_S2C] = false;
            return;
        }
        stream_consume(&s->sd_inner, (size_t)r);
    }
}

/* Parser callback: a whole encrypted record of a direction whose handshake keys we have. */
static void ev_enc_record(void *ctx, int dir, const uint8_t *rec, size_t len)
{
    struct tls_priv *pv = ctx;
    struct tls_sess *s = pv->cur;
    size_t n = 0;
    if (!s->dec[dir]) { /* want_app_record: the server's first word after the client's flight */
        if (len < 5 || s->s_app_records == 0 ||
            x509_tls13_open(pv->aead, &s->app_key, s->s_app_records - 1, rec, rec + 5, len - 5,
                            pv->pt, &n) < 0) {
            pv->decrypt_failed++;
            s->app_ok = false;
            return;
        }
        while (n > 0 && pv->pt[n - 1] == 0)
            n--; /* padding */
        if (n >= 3 && pv->pt[n - 1] == TLS_CT_ALERT) {
            s->via_keylog = true;
            ev_alert(pv, dir, pv->pt[0], pv->pt[1]);
        }
        s->app_ok = false; /* one record is all it takes */
        return;
    }
    if (len < 5 || x509_tls13_open(pv->aead, &s->key[dir], s->dec_seq[dir]++, rec, rec + 5, len - 5,
                                   pv->pt, &n) < 0) {
        pv->decrypt_failed++;
        s->dec[dir] = false;
        return;
    }
    while (n > 0 && pv->pt[n - 1] == 0)
        n--; /* padding */
    if (n == 0) {
        s->dec[dir] = false;
        return;
    }
    uint8_t type = pv->pt[--n];
    if (type == TLS_CT_ALERT && n >= 2) {
        s->dec[dir] = false;
        s->via_keylog = true;
        ev_alert(pv, dir, pv->pt[0], pv->pt[1]);
        return;
    }
    if (type != TLS_CT_HANDSHAKE) {
        s->dec[dir] = false; /* application data: the handshake keys are behind us */
        return;
    }
    if (dir == DIR_S2C) {
        inner_feed(pv, s, pv->pt, n);
        return;
    }
    /* The client's flight: its Finished completes the handshake. */
    struct rd r = rd_init(pv->pt, n);
    while (rd_left(&r) >= 4) {
        uint8_t mt = rd_u8(&r);
        rd_skip(&r, rd_u24(&r));
        if (!r.err && mt == TLS_HS_FINISHED) {
            s->dec[DIR_C2S] = false;
            fin_sent(s, pv->cur_ns);
        }
    }
}

/* Parser callback: a record other than plaintext handshake. */
static void ev_record(void *ctx, int dir, uint8_t type, uint32_t len, bool enc)
{
    struct tls_priv *pv = ctx;
    struct tls_sess *s = pv->cur;
    bool v13 = s->tc.seen_sh && tls_is_v13(s->tc.rec.version);
    s->last_progress_ns = pv->cur_ns;
    if (type == TLS_CT_CCS) {
        s->ccs[dir] = true;
        return;
    }
    if (type == TLS_CT_APPDATA)
        s->appdata[dir]++;
    if (enc && dir == DIR_S2C && s->srv_fin)
        s->s_app_records++; /* the sequence number of the server's application key */
    if (!enc || !s->tc.seen_sh)
        return;
    s->enc_after_sh[dir]++;
    if (!v13) {
        if (type == TLS_CT_HANDSHAKE && s->ccs[dir] && !s->fin_hs[dir]) {
            s->fin_hs[dir] = true;
            add_frame(s, pv->cur_frame);
            if (s->fin_hs[0] && s->fin_hs[1])
                mark_completed(s, pv->cur_ns);
        } else if (type == TLS_CT_APPDATA && s->fin_hs[0] && s->fin_hs[1]) {
            mark_completed(s, pv->cur_ns);
        }
        return;
    }
    if (type != TLS_CT_APPDATA)
        return;
    if (dir == DIR_C2S) {
        if (s->enc_after_sh[DIR_C2S] == 1) {
            s->c_first_enc_len = len;
            s->c_first_enc_ns = pv->cur_ns;
            add_frame(s, pv->cur_frame);
            if (!alert_sized(s, len))
                fin_sent(s, pv->cur_ns); /* the client's Finished */
        } else if (!s->fin_pending) {
            fin_sent(s, s->c_first_enc_ns); /* more data after it: not an alert */
        }
    } else if (s->enc_after_sh[DIR_C2S] > 0) {
        s->s_enc_after_c++;
        if (s->fin_pending && s->s_enc_after_c == 1 && alert_sized(s, len)) {
            s->srv_alert_after_fin = true; /* decided at the close */
            add_frame(s, pv->cur_frame);
        } else {
            s->srv_alert_after_fin = false; /* the server went on after the client spoke */
            fin_sent(s, s->c_first_enc_ns);
            fin_confirm(s);
        }
    }
}

/* tls_certs_chain_check's verdict: the chain of the session being fed does not verify. */
static void chain_verdict(void *ctx, enum fkind k, enum severity sev, const char *detail,
                          const struct fx_cert *x)
{
    struct tls_priv *pv = ctx;
    struct finding f;
    sess_finding(&f, pv->cur, k, sev, pv->cur_ns);
    fx_fmt(f.detail, sizeof(f.detail), "%s", detail);
    f.fx.cert = *x;
    det_emit(pv->d, &f);
}

/* Parser callback: a plaintext handshake message. */
static void ev_handshake(void *ctx, int dir, uint8_t type, uint32_t len, bool parsed)
{
    struct tls_priv *pv = ctx;
    struct tls_sess *s = pv->cur;
    (void)len;
    s->last_progress_ns = pv->cur_ns;
    if (type == TLS_HS_CLIENT_HELLO && dir == DIR_C2S && !s->ch_frame) {
        s->ch_frame = pv->cur_frame;
        s->tc.rec.ts_ns = pv->cur_ns;
        add_frame(s, pv->cur_frame);
        const struct kl_entry *e = s->tc.seen_ch ? kl_find(pv, s->tc.client_random) : NULL;
        if (e) {
            s->keys = true;
            memcpy(s->secret, e->secret, sizeof(s->secret));
            memcpy(s->slen, e->len, sizeof(s->slen));
        }
    } else if (type == TLS_HS_SERVER_HELLO && dir == DIR_S2C) {
        add_frame(s, pv->cur_frame);
        if (s->keys && !s->derived && s->tc.seen_sh && tls_is_v13(s->tc.rec.version))
            keys_derive(pv, s);
    } else if (type == TLS_HS_FINISHED && dir == DIR_S2C) {
        s->dec[DIR_S2C] = false; /* decrypted: the server switches to application keys */
        s->srv_fin = true;
    } else if (type == TLS_HS_CERTIFICATE && dir == DIR_S2C) {
        s->server_cert = true;
        if (!parsed)
            pv->capped++;
        else /* the whole chain was handed to ev_cert: verify it */
            tls_certs_chain_check(pv->certs, &s->tc.rec.server, (int64_t)(pv->cur_ns / NS_PER_S),
                                  chain_verdict, pv);
    }
}

/* Parser callback: an alert. */
static void ev_alert(void *ctx, int dir, int level, int desc)
{
    struct tls_priv *pv = ctx;
    struct tls_sess *s = pv->cur;
    struct tls_record *r = &s->tc.rec;
    bool in_hs = r->outcome == TLS_IN_PROGRESS;
    add_frame(s, pv->cur_frame);
    if (level < 0) {
        /*
         * Encrypted alert: a failure only while the handshake is still going, before any
         * application data (after it, it is the close_notify of a session whose completion was
         * not seen, e.g. TLS 1.2 False Start or bytes missing from the capture).
         */
        if (in_hs && s->tc.seen_sh && r->alert_from < 0 && !s->appdata[0] && !s->appdata[1] &&
            !tls_is_v13(r->version) && !sess_lost_bytes(s)) {
            r->alert_from = dir;
            r->alert_level = -1;
            r->alert_desc = -1;
            r->outcome = TLS_FAILED_ALERT;
        }
        return;
    }
    struct finding f;
    char sni[96];
    bool fatal = level == TLS_ALERT_FATAL;
    enum severity sev = desc == TLS_AD_CLOSE_NOTIFY ? SEV_INFO : fatal ? SEV_ERROR : SEV_WARN;
    sess_finding(&f, s, FK_TLS_ALERT, sev, pv->cur_ns);
    fx_fmt(sni, sizeof(sni), "%s%s", r->sni[0] ? " for " : "", r->sni);
    fx_fmt(f.detail, sizeof(f.detail), "%s sent %s alert %s(%d)%s %s%s - %s", side(dir),
         fatal                        ? "fatal"
         : level == TLS_ALERT_WARNING ? "warning"
                                      : "unknown-level",
         tls_alert_name(desc), desc, sni, in_hs ? phase(s) : "after the handshake",
         s->via_keylog ? " (encrypted; read with the key log)" : "", alert_hint(desc));
    f.fx.tls_alert.desc = (int16_t)desc;
    f.fx.tls_alert.level = (uint8_t)level;
    f.fx.tls_alert.from = (uint8_t)dir;
    f.fx.tls_alert.during_handshake = in_hs;
    fx_copy(f.fx.tls_alert.sni, sizeof(f.fx.tls_alert.sni), r->sni);
    det_emit(pv->d, &f);
    if (in_hs && (fatal || desc == TLS_AD_CLOSE_NOTIFY) && r->alert_from < 0) {
        r->alert_from = dir;
        r->alert_level = level;
        r->alert_desc = desc;
        r->outcome = desc == TLS_AD_CLOSE_NOTIFY ? TLS_CLOSED : TLS_FAILED_ALERT;
    }
}

/* tls_certs_check's verdict: a certificate finding about the session being fed. */
static void cert_verdict(void *ctx, enum fkind k, enum severity sev, const char *detail,
                         const struct cert_record *c)
{
    struct tls_priv *pv = ctx;
    struct finding f;
    sess_finding(&f, pv->cur, k, sev, pv->cur_ns);
    fx_fmt(f.detail, sizeof(f.detail), "%s", detail);
    fx_copy(f.fx.cert.sha256, sizeof(f.fx.cert.sha256), c->sha256);
    f.fx.cert.chain_pos = c->chain_pos;
    /* days until notAfter at the packet's time (negative once expired), for health rules;
       NAN (null in JSON) when notAfter is not a date (cert_invalid_date) */
    f.fx.cert.days_left =
        c->bad_not_after ? NAN : fx_days_left(c->not_after, (int64_t)(pv->cur_ns / NS_PER_S));
    f.fx.cert.not_after = c->not_after;
    fx_copy(f.fx.cert.subject, sizeof(f.fx.cert.subject), c->subject);
    det_emit(pv->d, &f);
}

/* Parser callback: one certificate of the server's chain (records it, then checks it). */
static void ev_cert(void *ctx, unsigned idx, const uint8_t *der, size_t len)
{
    struct tls_priv *pv = ctx;
    struct tls_sess *s = pv->cur;
    tls_certs_chain_add(pv->certs, idx, der, len);
    struct cert_record *c = tls_certs_parse(pv->certs, der, len);
    if (!c)
        return;
    c->chain_pos = (int)idx;
    c->flow_id = s->tc.rec.flow_id;
    c->ts_ns = pv->cur_ns;
    c->server = s->tc.rec.server;
    if (idx == 0)
        memcpy(s->tc.rec.leaf_sha256, c->sha256, sizeof(s->tc.rec.leaf_sha256));
    det_emit_cert(pv->d, c);
    tls_certs_check(pv->certs, idx, &c->server, s->tc.rec.sni, (int64_t)(pv->cur_ns / NS_PER_S),
                    cert_verdict, pv);
}

/*
 * Run the parser over the unconsumed bytes b[0, n) of direction dir (full: they fill the
 * window). Returns the bytes consumed.
 */
static size_t feed(struct tls_priv *pv, struct tls_sess *s, int dir, const uint8_t *b, size_t n,
                   bool full)
{
    static const struct tls_events evt = {NULL,    ev_record,   ev_handshake, ev_alert,
                                          ev_cert, ev_want_enc, ev_enc_record};
    struct tls_events ev = evt;
    size_t used = 0;
    ev.ctx = pv;
    while (used < n && !s->tc.d[dir].dead) {
        int r = tls_parse(&s->tc, dir, b + used, n - used, pv->ctx, &ev);
        if (r == MALFORMED) {
            pv->malformed++;
            break;
        }
        if (r == NEED_MORE || r <= 0) {
            if (full && used == 0) {
                pv->capped++; /* a message larger than the window: give up on this side */
                s->tc.d[dir].dead = true;
            }
            break;
        }
        used += (size_t)r;
        if (s->tc.rec.outcome != TLS_IN_PROGRESS)
            break;
    }
    return used;
}

/* Attach a new session to flow f for its first payload (a TLS ClientHello). */
static struct tls_sess *sess_open(struct tls_priv *pv, const struct flow *f, struct tls_flow *tf)
{
    if (pv->nfree == 0) {
        tf->state = TF_NO_BUFFER;
        pv->exhausted++;
        return NULL;
    }
    uint32_t i = pv->free[--pv->nfree];
    struct tls_sess *s = &pv->sess[i];
    uint32_t gen = s->gen;
    memset(s, 0, sizeof(*s));
    s->gen = gen;
    s->used = true;
    const struct flow_record *fr = flow_rec(f);
    struct tls_record *r = &s->tc.rec;
    r->flow_id = fr->flow_id;
    r->client = fr->client;
    r->server = fr->server;
    r->alert_level = r->alert_desc = r->alert_from = -1;
    r->duration_ns = -1;
    tf->state = TF_ACTIVE;
    tf->sess = i + 1;
    tf->gen = s->gen;
    pv->sessions++;
    return s;
}

/* The flow's session, if it is still attached. */
static struct tls_sess *flow_sess(struct tls_priv *pv, struct tls_flow *tf)
{
    if (tf->state != TF_ACTIVE || tf->sess == 0 || tf->sess > pv->nsess)
        return NULL;
    struct tls_sess *s = &pv->sess[tf->sess - 1];
    if (!s->used || s->gen != tf->gen) {
        tf->state = TF_DONE;
        return NULL;
    }
    return s;
}

/* A FIN or RST ends the handshake: decide how. */
static void on_close(struct tls_priv *pv, struct tls_sess *s, int dir, bool rst)
{
    struct tls_record *r = &s->tc.rec;
    add_frame(s, pv->cur_frame);
    if (r->outcome == TLS_IN_PROGRESS && s->fin_pending) {
        if (s->srv_alert_after_fin) {
            /* the server's only word after the client's flight was an alert, then the close:
               it refused the client's certificate (or its absence) */
            r->alert_from = DIR_S2C;
            sess_finish(pv, s, TLS_REJECTED_INFERRED, pv->cur_ns);
            return;
        }
        fin_confirm(s);
    }
    if (r->outcome != TLS_IN_PROGRESS) {
        sess_finish(pv, s, r->outcome, pv->cur_ns);
        return;
    }
    if (sess_lost_bytes(s)) {
        if (!s->gap_counted) {
            s->gap_counted = true;
            pv->gaps++;
        }
        sess_finish(pv, s, TLS_IN_PROGRESS, pv->cur_ns);
        return;
    }
    bool v13 = s->tc.seen_sh && tls_is_v13(r->version);
    if (v13 && dir == DIR_C2S && s->enc_after_sh[DIR_S2C] > 0 && s->enc_after_sh[DIR_C2S] == 1 &&
        alert_sized(s, s->c_first_enc_len) && s->s_enc_after_c == 0) {
        r->alert_from = DIR_C2S;
        sess_finish(pv, s, TLS_REJECTED_INFERRED, pv->cur_ns);
        return;
    }
    r->alert_from = dir;
    if (!s->server_data)
        sess_finish(pv, s, rst && dir == DIR_S2C ? TLS_RESET : TLS_NO_SERVER_HELLO, pv->cur_ns);
    else
        sess_finish(pv, s, rst ? TLS_RESET : TLS_CLOSED, pv->cur_ns);
}

/* The packet being handled, for the parser callbacks. */
static void touch(struct tls_priv *pv, struct tls_sess *s, int dir, const struct pkt *p)
{
    pv->cur = s;
    pv->cur_ns = p->ts_ns;
    pv->cur_frame = p->frame;
    s->last_pkt_ns = p->ts_ns;
    if (!s->last_progress_ns)
        s->last_progress_ns = p->ts_ns;
    if (dir == DIR_S2C && p->payload && p->payload_caplen)
        s->server_data = true;
}

/* The flow's first payload: a session for it if it is TLS (the stream layer's decision). */
static int tls_probe(struct det *d, const struct flow *f, void *fs, enum stream_proto proto,
                     bool can_buffer, const struct pkt *p)
{
    struct tls_priv *pv = d->priv;
    struct tls_flow *tf = fs;
    (void)p;
    pv->d = d;
    if (proto != STREAM_PROTO_TLS) {
        tf->state = TF_NOT_TLS;
        return STREAM_NOT_MINE;
    }
    if (!can_buffer) {
        tf->state = TF_NO_BUFFER;
        pv->exhausted++;
        return STREAM_NOT_MINE;
    }
    return sess_open(pv, f, tf) ? STREAM_FOLLOW : STREAM_NOT_MINE;
}

static int tls_parse_cb(struct det *d, const struct flow *f, void *fs, const struct stream_chunk *c)
{
    struct tls_priv *pv = d->priv;
    struct tls_flow *tf = fs;
    (void)f;
    pv->d = d;
    struct tls_sess *s = flow_sess(pv, tf);
    if (!s)
        return STREAM_DONE;
    int dir = c->dir & 1;
    touch(pv, s, dir, c->p);
    size_t used = feed(pv, s, dir, c->b, c->n, c->full);
    if (s->tc.d[dir].dead)
        return STREAM_DONE_DIR; /* nothing more to read this way */
    return (int)used;
}

/* A hole that will not fill: what follows it cannot be read. */
static int tls_gap(struct det *d, const struct flow *f, void *fs, const struct stream_gap *g)
{
    struct tls_priv *pv = d->priv;
    (void)f;
    (void)g;
    struct tls_sess *s = flow_sess(pv, fs);
    if (s && !s->gap_counted) {
        s->gap_counted = true;
        pv->gaps++;
    }
    return STREAM_DONE_DIR;
}

/* Handshake records are read whole: holes are waited for while a session follows. */
static bool tls_framed(struct det *d, const struct flow *f, void *fs, int dir)
{
    struct tls_priv *pv = d->priv;
    struct tls_flow *tf = fs;
    (void)f;
    if (tf->state != TF_ACTIVE || tf->sess == 0 || tf->sess > pv->nsess)
        return false;
    const struct tls_sess *s = &pv->sess[tf->sess - 1];
    return s->used && s->gen == tf->gen && !s->tc.d[dir & 1].dead;
}

static const struct stream_ops tls_stream_ops = {
    .buffered = true,
    .probe = tls_probe,
    .parse = tls_parse_cb,
    .gap = tls_gap,
    .eof = NULL,
    .framed = tls_framed,
};

static void tls_on_packet(struct det *d, const struct flow *f, void *fs, const struct pkt *p,
                          const struct tcp_seg *sg)
{
    struct tls_priv *pv = d->priv;
    struct tls_flow *tf = fs;
    int dir = sg->dir & 1;
    pv->d = d;
    struct tls_sess *s = flow_sess(pv, tf);
    if (!s)
        return;
    touch(pv, s, dir, p);
    s->hole[0] = stream_hole(f, DIR_C2S);
    s->hole[1] = stream_hole(f, DIR_S2C);
    if (s->tc.d[dir].dead && dir == DIR_C2S && !s->tc.seen_ch) {
        /* It only started like TLS: give everything back and stop looking. */
        sess_release(pv, s);
        tf->state = TF_NOT_TLS;
        return;
    }
    if (s->tc.rec.outcome == TLS_COMPLETED || s->tc.rec.outcome == TLS_FAILED_ALERT) {
        sess_finish(pv, s, s->tc.rec.outcome, p->ts_ns);
        tf->state = TF_DONE;
        return;
    }
    bool rst = sg->rst != RST_NONE || (p->flags & TCP_RST);
    if (rst || (p->flags & TCP_FIN)) {
        on_close(pv, s, dir, rst);
        tf->state = TF_DONE;
    }
}

static void tls_on_flow_end(struct det *d, const struct flow *f, void *fs)
{
    struct tls_priv *pv = d->priv;
    struct tls_flow *tf = fs;
    pv->d = d;
    struct tls_sess *s = flow_sess(pv, tf);
    if (!s)
        return;
    pv->cur = s;
    pv->cur_ns = s->last_pkt_ns;
    s->hole[0] = stream_hole(f, DIR_C2S);
    s->hole[1] = stream_hole(f, DIR_S2C);
    if ((s->hole[0] || s->hole[1]) && !s->gap_counted) {
        s->gap_counted = true;
        pv->gaps++;
    }
    struct tls_record *r = &s->tc.rec;
    if (s->srv_alert_after_fin && r->outcome == TLS_IN_PROGRESS) {
        r->alert_from = DIR_S2C;
        sess_finish(pv, s, TLS_REJECTED_INFERRED, s->last_pkt_ns);
        tf->state = TF_DONE;
        return;
    }
    fin_confirm(s);
    enum tls_outcome o = r->outcome;
    if (o == TLS_IN_PROGRESS && s->tc.seen_ch && !sess_lost_bytes(s) &&
        s->last_pkt_ns - s->last_progress_ns >= pv->stall_ns)
        o = s->server_data ? TLS_STALLED : TLS_NO_SERVER_HELLO;
    sess_finish(pv, s, o, s->last_pkt_ns);
    tf->state = TF_DONE;
}

static void tls_on_tick(struct det *d, uint64_t now_ns)
{
    struct tls_priv *pv = d->priv;
    pv->d = d;
    for (uint32_t i = 0; i < pv->nsess; i++) {
        struct tls_sess *s = &pv->sess[i];
        if (!s->used || !s->tc.seen_ch || s->tc.rec.outcome != TLS_IN_PROGRESS)
            continue;
        if (now_ns < s->last_progress_ns || now_ns - s->last_progress_ns < pv->stall_ns ||
            sess_lost_bytes(s))
            continue;
        pv->cur = s;
        pv->cur_ns = now_ns;
        if (s->fin_pending && !s->srv_alert_after_fin) {
            /* the client finished and nothing said no for the stall time: completed */
            fin_confirm(s);
            sess_finish(pv, s, TLS_COMPLETED, now_ns);
            continue;
        }
        sess_finish(pv, s, s->server_data ? TLS_STALLED : TLS_NO_SERVER_HELLO,
                    s->last_progress_ns + pv->stall_ns);
    }
}

static void tls_free(struct det *d);

static int tls_init(struct det *d, const struct eng_config *cfg)
{
    struct tls_priv *pv = calloc(1, sizeof(*pv));
    if (!pv)
        return ERR_NOMEM;
    size_t cap = cfg->stream_cap ? cfg->stream_cap : 16384;
    size_t nbuf = cfg->stream_buffers ? cfg->stream_buffers : 4096;
    if (cap < 1024)
        cap = 1024;
    pv->nsess = (uint32_t)(nbuf / 2 ? nbuf / 2 : 1);
    /* with a key log, a buffer per session holds the decrypted server flight */
    if (cfg->tls_keylog)
        pv->pool = stream_pool_new(pv->nsess, cap);
    pv->ctx = tls_ctx_new(cap);
    pv->sess = calloc(pv->nsess, sizeof(*pv->sess));
    pv->free = calloc(pv->nsess, sizeof(*pv->free));
    char err[512];
    pv->certs =
        tls_certs_new(cfg->cert_expiring_days, cfg->ca_files, cfg->nca_files, err, sizeof(err));
    if (!pv->certs)
        log_error("TLS: %s", err);
    if ((cfg->tls_keylog && !pv->pool) || !pv->ctx || !pv->sess || !pv->free || !pv->certs) {
        tls_certs_free(pv->certs);
        stream_pool_free(pv->pool);
        tls_ctx_free(pv->ctx);
        free(pv->sess);
        free(pv->free);
        free(pv);
        return ERR_NOMEM;
    }
    for (uint32_t i = 0; i < pv->nsess; i++)
        pv->free[i] = pv->nsess - 1 - i;
    pv->nfree = pv->nsess;
    pv->stall_ns = cfg->tls_stall_ns ? cfg->tls_stall_ns : 10 * NS_PER_S;
    d->priv = pv;
    if (cfg->tls_keylog) {
        int rc = kl_load(pv, cfg->tls_keylog);
        pv->aead = x509_aead_new();
        pv->pt = malloc(cap);
        if (rc < 0 || !pv->aead || !pv->pt) {
            tls_free(d);
            return rc < 0 ? rc : ERR_NOMEM;
        }
        if (!pv->nkl)
            log_warn("--tls-keylog %s: no TLS 1.3 handshake secrets in it", cfg->tls_keylog);
    }
    return 0;
}

static void tls_on_finish(struct det *d)
{
    struct tls_priv *pv = d->priv;
    if (pv->exhausted)
        log_warn("TLS: %llu TLS connections not analysed: all %llu stream sessions were busy "
                 "or the stream buffers' byte budget was spent (raise stream-buffers in the "
                 "configuration file, or --stream-budget)",
                 (unsigned long long)pv->exhausted,
                 (unsigned long long)(pv->nsess + pv->more_sess));
    log_info("TLS: %llu handshakes followed, %llu stream gaps, %llu capped, %llu malformed",
             (unsigned long long)pv->sessions, (unsigned long long)pv->gaps,
             (unsigned long long)pv->capped, (unsigned long long)pv->malformed);
    uint64_t verified, skipped;
    tls_certs_chain_counts(pv->certs, &verified, &skipped);
    verified += pv->more_verified;
    skipped += pv->more_skipped;
    if (verified || skipped)
        log_info("TLS: %llu certificate chains verified, %llu not (too large or unreadable)",
                 (unsigned long long)verified, (unsigned long long)skipped);
    if (pv->nkl)
        log_info("TLS: key log: %zu secrets, %llu handshakes decrypted, %llu records failed",
                 pv->nkl, (unsigned long long)pv->decrypted,
                 (unsigned long long)pv->decrypt_failed);
}

void det_tls_add_counts(struct det *into, const struct det *from)
{
    struct tls_priv *a = into->priv;
    const struct tls_priv *b = from->priv;
    if (!a || !b)
        return;
    uint64_t verified, skipped;
    tls_certs_chain_counts(b->certs, &verified, &skipped);
    a->more_sess += b->nsess + b->more_sess;
    a->more_verified += verified + b->more_verified;
    a->more_skipped += skipped + b->more_skipped;
    a->sessions += b->sessions;
    a->exhausted += b->exhausted;
    a->gaps += b->gaps;
    a->capped += b->capped;
    a->malformed += b->malformed;
    a->decrypted += b->decrypted;
    a->decrypt_failed += b->decrypt_failed;
}

static void tls_free(struct det *d)
{
    struct tls_priv *pv = d->priv;
    if (!pv)
        return;
    free(pv->kl);
    tls_certs_free(pv->certs);
    x509_aead_free(pv->aead);
    free(pv->pt);
    stream_pool_free(pv->pool);
    tls_ctx_free(pv->ctx);
    free(pv->sess);
    free(pv->free);
    free(pv);
    d->priv = NULL;
}

const struct det_ops det_tls_ops = {
    .name = "tls",
    .flow_state_size = sizeof(struct tls_flow),
    .init = tls_init,
    .on_packet = tls_on_packet,
    .on_flow_end = tls_on_flow_end,
    .on_tick = tls_on_tick,
    .on_finding = NULL,
    .on_finish = tls_on_finish,
    .free = tls_free,
    /* no small fields: nothing is set before the first payload (stream layer) */
    .stream = &tls_stream_ops,
};
