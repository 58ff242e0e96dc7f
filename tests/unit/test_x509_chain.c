/*
 * test_x509_chain.c - chain verification (x509_verify_chain) on a small PKI made with
 * OpenSSL's API (EC P-256): a good chain, a leaf sent alone (incomplete), a whole chain to a
 * root the anchors lack, a self-signed leaf, a signature that does not verify, a leaf not for
 * TLS servers; validity dates never fail a chain (they are the date checks' findings), at any
 * verification time; a --ca-file that is not a certificate is refused.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyzers/x509.h"
#include "tests/unit/testhelp.h"

#define DAY ((time_t)86400)
#define NOW ((time_t)1800000000) /* 2027-01-15: the verification time of most cases */

/* One certificate and its key. */
struct tc {
    X509 *x;            /* the certificate */
    EVP_PKEY *k;        /* its key */
    unsigned char *der; /* DER of x (OPENSSL_free) */
    int len;            /* bytes of der */
};

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (e)
        X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
}

/*
 * A certificate for cn valid [nb, na] (seconds since the epoch), issued by is (NULL:
 * self-signed) and signed with sign_key (NULL: the issuer's key); a CA when ca, else a TLS
 * server leaf (or only a TLS client one when client_only).
 */
static struct tc mk(const char *cn, const struct tc *is, EVP_PKEY *sign_key, bool ca, time_t nb,
                    time_t na, bool client_only)
{
    static long serial = 1;
    struct tc c = {X509_new(), EVP_EC_gen("P-256"), NULL, 0};
    X509 *x = c.x;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, is ? X509_get_subject_name(is->x) : X509_get_subject_name(x));
    ASN1_TIME_set(X509_getm_notBefore(x), nb);
    ASN1_TIME_set(X509_getm_notAfter(x), na);
    X509_set_pubkey(x, c.k);
    X509 *ix = is ? is->x : x;
    if (ca) {
        add_ext(x, ix, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, ix, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x, ix, NID_basic_constraints, "CA:FALSE");
        add_ext(x, ix, NID_ext_key_usage, client_only ? "clientAuth" : "serverAuth");
    }
    X509_sign(x, sign_key ? sign_key : is ? is->k : c.k, EVP_sha256());
    c.len = i2d_X509(x, &c.der);
    return c;
}

static void tc_free(struct tc *c)
{
    X509_free(c->x);
    EVP_PKEY_free(c->k);
    OPENSSL_free(c->der);
}

static char root_pem[64], other_pem[64], junk[64];
static struct tc root, inter, leaf, oroot, ointer, oleaf, self, forged, client;

/* Write c as PEM into a new temporary file named into path. */
static void write_pem(const struct tc *c, char *path, size_t n)
{
    snprintf(path, n, "/tmp/fm-x509-chain-XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    CHECK(f != NULL);
    if (f) {
        PEM_write_X509(f, c->x);
        fclose(f);
    }
}

/* Verify chain[0, n) against the anchors in pem at time at; the result into r. */
static void verify(const char *pem, const struct tc *const *chain, size_t n, time_t at,
                   struct x509_chain_result *r)
{
    char err[256];
    const uint8_t *der[8];
    size_t len[8];
    for (size_t i = 0; i < n; i++) {
        der[i] = chain[i]->der;
        len[i] = (size_t)chain[i]->len;
    }
    struct x509_trust *t = x509_trust_new(&pem, 1, err, sizeof(err));
    CHECK(t != NULL && x509_trust_is_files(t));
    if (!t)
        return;
    x509_verify_chain(t, der, len, n, at, r);
    x509_trust_free(t);
}

static void setup(void)
{
    root = mk("test root", NULL, NULL, true, NOW - 1000 * DAY, NOW + 3000 * DAY, false);
    inter = mk("test intermediate", &root, NULL, true, NOW - 500 * DAY, NOW + 1000 * DAY, false);
    leaf = mk("invoice.test", &inter, NULL, false, NOW - 10 * DAY, NOW + 80 * DAY, false);
    oroot = mk("other root", NULL, NULL, true, NOW - 1000 * DAY, NOW + 3000 * DAY, false);
    ointer = mk("other intermediate", &oroot, NULL, true, NOW - 500 * DAY, NOW + 900 * DAY, false);
    oleaf = mk("invoice.test", &ointer, NULL, false, NOW - 10 * DAY, NOW + 80 * DAY, false);
    self = mk("invoice.test", NULL, NULL, false, NOW - 10 * DAY, NOW + 80 * DAY, false);
    /* names the intermediate as its issuer, but is signed with another key */
    EVP_PKEY *wrong = EVP_EC_gen("P-256");
    forged = mk("invoice.test", &inter, wrong, false, NOW - 10 * DAY, NOW + 80 * DAY, false);
    EVP_PKEY_free(wrong);
    client = mk("invoice.test", &inter, NULL, false, NOW - 10 * DAY, NOW + 80 * DAY, true);
    write_pem(&root, root_pem, sizeof(root_pem));
    write_pem(&oroot, other_pem, sizeof(other_pem));
}

static struct x509_chain_result r;

static void test_good_chain(void)
{
    const struct tc *c[] = {&leaf, &inter};
    verify(root_pem, c, 2, NOW, &r);
    CHECK(r.status == X509_CHAIN_OK && r.code == 0 && r.why == X509_WHY_NONE);
    /* the anchor sent too is fine */
    const struct tc *c3[] = {&leaf, &inter, &root};
    verify(root_pem, c3, 3, NOW, &r);
    CHECK(r.status == X509_CHAIN_OK);
}

static void test_incomplete(void)
{
    const struct tc *c[] = {&leaf};
    verify(root_pem, c, 1, NOW, &r);
    CHECK(r.status == X509_CHAIN_INCOMPLETE && r.why == X509_WHY_MISSING_ISSUER);
    CHECK_EQ_U64(r.code, 20); /* X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY */
    CHECK(strcmp(r.subject, "CN = invoice.test") == 0);
    CHECK(strcmp(r.issuer, "CN = test intermediate") == 0);
    CHECK(strcmp(r.reason, "unable to get local issuer certificate") == 0);
    CHECK(strlen(r.sha256) == 64 && r.depth == 0 && r.not_after == (int64_t)(NOW + 80 * DAY));
    /* the intermediate sent, its root not trusted: incomplete too, about the intermediate */
    const struct tc *c2[] = {&leaf, &inter};
    verify(other_pem, c2, 2, NOW, &r);
    CHECK(r.status == X509_CHAIN_INCOMPLETE && r.depth == 1);
    CHECK(strcmp(r.issuer, "CN = test root") == 0);
}

static void test_untrusted(void)
{
    const struct tc *c[] = {&oleaf, &ointer, &oroot};
    verify(root_pem, c, 3, NOW, &r);
    CHECK(r.status == X509_CHAIN_UNTRUSTED && r.why == X509_WHY_UNTRUSTED_ROOT);
    CHECK_EQ_U64(r.code, 19); /* X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN */
    CHECK(strcmp(r.subject, "CN = other root") == 0 && r.depth == 2);
    const struct tc *s[] = {&self};
    verify(root_pem, s, 1, NOW, &r);
    CHECK(r.status == X509_CHAIN_UNTRUSTED && r.why == X509_WHY_SELF_SIGNED);
    CHECK_EQ_U64(r.code, 18); /* X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT */
    const struct tc *f[] = {&forged, &inter};
    verify(root_pem, f, 2, NOW, &r);
    CHECK(r.status == X509_CHAIN_UNTRUSTED && r.why == X509_WHY_SIGNATURE);
    CHECK_EQ_U64(r.code, 7); /* X509_V_ERR_CERT_SIGNATURE_FAILURE */
    /* a leaf for TLS clients only: not a server certificate */
    const struct tc *p[] = {&client, &inter};
    verify(root_pem, p, 2, NOW, &r);
    CHECK(r.status == X509_CHAIN_UNTRUSTED && r.why == X509_WHY_OTHER);
    CHECK_EQ_U64(r.code, 26); /* X509_V_ERR_INVALID_PURPOSE */
}

/* Dates are not the verifier's: expired or not yet valid, the chain still verifies. */
static void test_dates_forgiven(void)
{
    const struct tc *c[] = {&leaf, &inter};
    verify(root_pem, c, 2, NOW + 200 * DAY, &r); /* the leaf expired */
    CHECK(r.status == X509_CHAIN_OK);
    verify(root_pem, c, 2, NOW + 5000 * DAY, &r); /* everything expired */
    CHECK(r.status == X509_CHAIN_OK);
    verify(root_pem, c, 2, NOW - 2000 * DAY, &r); /* nothing valid yet */
    CHECK(r.status == X509_CHAIN_OK);
    /* and the missing issuer is still found wanting at another time */
    const struct tc *l[] = {&leaf};
    verify(root_pem, l, 1, NOW + 200 * DAY, &r);
    CHECK(r.status == X509_CHAIN_INCOMPLETE);
}

static void test_bad_input(void)
{
    char err[256];
    /* a file without a certificate, and one that does not exist */
    snprintf(junk, sizeof(junk), "/tmp/fm-x509-junk-XXXXXX");
    int fd = mkstemp(junk);
    CHECK(fd >= 0 && write(fd, "not a certificate\n", 18) == 18);
    if (fd >= 0)
        close(fd);
    const char *files[] = {junk, "/nonexistent/ca.pem"};
    for (int i = 0; i < 2; i++) {
        struct x509_trust *t = x509_trust_new(&files[i], 1, err, sizeof(err));
        CHECK(t == NULL && strstr(err, files[i]) != NULL);
        x509_trust_free(t);
    }
    /* a certificate that does not parse: no verdict */
    const uint8_t garbage[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    const uint8_t *der[] = {garbage};
    size_t len[] = {sizeof(garbage)};
    const char *pem = root_pem;
    struct x509_trust *t = x509_trust_new(&pem, 1, err, sizeof(err));
    CHECK(t != NULL);
    if (t) {
        x509_verify_chain(t, der, len, 1, NOW, &r);
        CHECK(r.status == X509_CHAIN_UNCHECKED);
        x509_trust_free(t);
    }
    unlink(junk);
}

int main(void)
{
    setup();
    TEST_RUN(test_good_chain);
    TEST_RUN(test_incomplete);
    TEST_RUN(test_untrusted);
    TEST_RUN(test_dates_forgiven);
    TEST_RUN(test_bad_input);
    unlink(root_pem);
    unlink(other_pem);
    struct tc *all[] = {&root, &inter, &leaf, &oroot, &ointer, &oleaf, &self, &forged, &client};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        tc_free(all[i]);
    return TEST_REPORT();
}
