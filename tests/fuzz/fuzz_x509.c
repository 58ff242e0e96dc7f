/*
 * fuzz_x509.c - libFuzzer target for the certificate path (analyzers/x509.c): a DER
 * certificate (input starting with 0x30, an ASN.1 SEQUENCE) is parsed with x509_parse as
 * det_tls.c does for every certificate of a Certificate message, and the result is matched
 * against host names (RFC 6125 rules, wildcards). Any other input is "pattern NUL host" for
 * x509_dns_match alone.
 *
 * Checked beyond memory safety: every text field of the record is NUL-terminated inside its
 * array and at most X509_MAX_DNS names are kept.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort unless s holds a NUL within its n bytes. */
static void fz_terminated(const char *s, size_t n)
{
    if (memchr(s, '\0', n) == NULL)
        abort();
}

static void fz_cert(const uint8_t *data, size_t size)
{
    static struct x509_info xi; /* large: keep it off the stack */
    if (x509_parse(data, size, &xi) != 0)
        return;
    fz_terminated(xi.rec.subject, sizeof(xi.rec.subject));
    fz_terminated(xi.rec.issuer, sizeof(xi.rec.issuer));
    fz_terminated(xi.rec.sans, sizeof(xi.rec.sans));
    fz_terminated(xi.rec.serial, sizeof(xi.rec.serial));
    fz_terminated(xi.rec.key_type, sizeof(xi.rec.key_type));
    fz_terminated(xi.rec.sig_alg, sizeof(xi.rec.sig_alg));
    fz_terminated(xi.rec.sha256, sizeof(xi.rec.sha256));
    fz_terminated(xi.cn, sizeof(xi.cn));
    if (xi.ndns > X509_MAX_DNS)
        abort();
    static const char *const hosts[] = {"invoice.test", "a.invoice.test", "localhost",
                                        "example.com.", ""};
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
        (void)x509_name_matches(&xi, hosts[i]);
    for (unsigned i = 0; i < xi.ndns; i++) {
        fz_terminated(xi.dns[i], sizeof(xi.dns[i]));
        (void)x509_name_matches(&xi, xi.dns[i]);
    }
    if (xi.cn[0])
        (void)x509_name_matches(&xi, xi.cn);
}

/* "pattern\0host" (both cut to 300 bytes) through x509_dns_match. */
static void fz_match(const uint8_t *data, size_t size)
{
    char pat[301], host[301];
    const uint8_t *nul = memchr(data, 0, size);
    size_t pl = nul ? (size_t)(nul - data) : size;
    size_t hl = nul ? size - pl - 1 : 0;
    pl = pl > 300 ? 300 : pl;
    hl = hl > 300 ? 300 : hl;
    memcpy(pat, data, pl);
    pat[pl] = '\0';
    if (hl)
        memcpy(host, nul + 1, hl);
    host[hl] = '\0';
    (void)x509_dns_match(pat, host);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size && data[0] == 0x30)
        fz_cert(data, size);
    else
        fz_match(data, size);
    return 0;
}
