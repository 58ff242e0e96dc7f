/*
 * test_x509_dates.c - certificates made with OpenSSL's API (EC P-256, signed by their own key)
 * whose validity dates are not dates (month 13, empty, "ZZZZZZZZZZZZZ") go through
 * x509_parse: the date is flagged unreadable, kept as text, and not turned into 1970-01-01;
 * a readable date still gives the right epoch. Also a subject holding ESC and U+009B comes
 * out of the X.509 path with the ESC escaped by OpenSSL and both safe after text_term.
 */
#include <openssl/asn1.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/x509.h"
#include "capture/text.h"
#include "tests/unit/testhelp.h"

/* A self-signed certificate for CN=cn whose notBefore/notAfter hold nb/na verbatim (as a
   UTCTime when 13 bytes or shorter, else GeneralizedTime); DER into *der (free it). */
static int make_cert(const char *nb, const char *na, const char *cn, unsigned char **der)
{
    int len = -1;
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    if (!k || !x)
        goto out;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, n);
    ASN1_TIME *t[2] = {X509_getm_notBefore(x), X509_getm_notAfter(x)};
    const char *v[2] = {nb, na};
    for (int i = 0; i < 2; i++) {
        /* set the bytes directly: ASN1_TIME_set_string would refuse a bad date */
        ASN1_STRING_set(t[i], v[i], (int)strlen(v[i]));
        t[i]->type = strlen(v[i]) > 13 ? V_ASN1_GENERALIZEDTIME : V_ASN1_UTCTIME;
    }
    X509_set_pubkey(x, k);
    if (X509_sign(x, k, EVP_sha256()) <= 0)
        goto out;
    *der = NULL;
    len = i2d_X509(x, der);
out:
    X509_free(x);
    EVP_PKEY_free(k);
    return len;
}

/* Parse a made certificate; -1 when it could not be made or parsed. */
static int parse(const char *nb, const char *na, const char *cn, struct x509_info *xi)
{
    unsigned char *der = NULL;
    int len = make_cert(nb, na, cn, &der);
    int rc = len > 0 ? x509_parse(der, (size_t)len, xi) : -1;
    OPENSSL_free(der);
    return rc;
}

static struct x509_info xi; /* large: static */

static void test_good_dates(void)
{
    CHECK(parse("250101000000Z", "20301231235959Z", "invoice.test", &xi) == 0);
    CHECK(!xi.rec.bad_not_before && !xi.rec.bad_not_after && xi.bad_date[0] == '\0');
    CHECK_EQ_U64(xi.rec.not_before, 1735689600u); /* 2025-01-01T00:00:00Z */
    CHECK_EQ_U64(xi.rec.not_after, 1924991999u);  /* 2030-12-31T23:59:59Z */
}

static void test_bad_not_after(void)
{
    /* month 13, empty, letters, February 30 (a UTCTime without seconds is a date: not here) */
    static const char *const bad[] = {"251301000000Z", "", "ZZZZZZZZZZZZZ", "250230000000Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = parse("250101000000Z", bad[i], "invoice.test", &xi);
        CHECK(rc == 0);
        if (rc != 0) {
            fprintf(stderr, "  notAfter '%s': not parsed\n", bad[i]);
            continue;
        }
        CHECK(xi.rec.bad_not_after && !xi.rec.bad_not_before);
        CHECK(xi.rec.not_after == 0);
        CHECK(strcmp(xi.bad_date, bad[i]) == 0);
        CHECK(xi.rec.not_before == 1735689600);
    }
}

static void test_bad_not_before(void)
{
    CHECK(parse("ZZZZZZZZZZZZZ", "301231235959Z", "invoice.test", &xi) == 0);
    CHECK(xi.rec.bad_not_before && !xi.rec.bad_not_after);
    CHECK(strcmp(xi.bad_date, "ZZZZZZZZZZZZZ") == 0);
    /* control bytes in a bad date are kept escaped */
    CHECK(parse("25\x1b[2J\xc2\x9b"
                "0000Z",
                "301231235959Z", "x", &xi) == 0);
    CHECK(xi.rec.bad_not_before && strcmp(xi.bad_date, "25\\x1b[2J\\u009b0000Z") == 0);
}

static void test_hostile_subject(void)
{
    char out[512];
    CHECK(parse("250101000000Z", "301231235959Z",
                "a\x1b[2Jb\xc2\x9b"
                "31mc",
                &xi) == 0);
    fprintf(stderr, "  subject as OpenSSL prints it: %s\n",
            text_term(xi.rec.subject, out, sizeof(out)));
    CHECK(strchr(xi.rec.subject, 0x1b) == NULL);       /* OpenSSL's ESC_CTRL: "\1B" */
    CHECK(strstr(xi.rec.subject, "\xc2\x9b") != NULL); /* C1 passes OpenSSL's escaping... */
    text_term(xi.rec.subject, out, sizeof(out));
    CHECK(strstr(out, "\xc2\x9b") == NULL && strstr(out, "\\u009b31mc") != NULL); /* ...not ours */
    CHECK(xi.cn[0] == '\0'); /* a CN with controls is not used for name matching at all */
}

int main(void)
{
    TEST_RUN(test_good_dates);
    TEST_RUN(test_bad_not_after);
    TEST_RUN(test_bad_not_before);
    TEST_RUN(test_hostile_subject);
    return TEST_REPORT();
}
