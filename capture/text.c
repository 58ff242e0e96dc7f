/*
 * text.c - terminal escaping and UTF-8 validation of wire strings (RFC 3629 section 4 for
 * what a valid UTF-8 sequence is; ECMA-48 for the C0/C1 control sets).
 */
#include "capture/text.h"

#include <stdio.h>
#include <string.h>

size_t text_utf8_next(const uint8_t *p, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    uint8_t b = p[0];
    size_t len;
    uint32_t v, min;
    if (b < 0x80) {
        *cp = b;
        return 1;
    } else if (b >= 0xc2 && b <= 0xdf) {
        len = 2, v = b & 0x1fu, min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
        len = 3, v = b & 0x0fu, min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
        len = 4, v = b & 0x07u, min = 0x10000;
    } else {
        return 0; /* continuation byte, 0xc0/0xc1 (always overlong) or 0xf5..0xff */
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3fu);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

bool text_is_unsafe(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
           cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

const char *text_term_n(const char *s, size_t n, char *out, size_t outsz)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t o = 0;
    if (outsz == 0)
        return out;
    for (size_t i = 0; i < n && p[i];) {
        char esc[16];
        uint32_t cp = 0;
        size_t k = text_utf8_next(p + i, n - i, &cp);
        const char *piece = (const char *)p + i;
        size_t plen = k;
        if (k == 0) {
            snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
            piece = esc, plen = 4, k = 1;
        } else if (text_is_unsafe(cp) && cp < 0x80) {
            snprintf(esc, sizeof(esc), "\\x%02x", (unsigned)cp);
            piece = esc, plen = 4;
        } else if (text_is_unsafe(cp)) {
            snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
            piece = esc, plen = 6;
        }
        if (plen >= outsz - o)
            break; /* no room for the whole piece and the NUL */
        memcpy(out + o, piece, plen);
        o += plen;
        i += k;
    }
    out[o] = '\0';
    return out;
}

const char *text_term(const char *s, char *out, size_t outsz)
{
    return text_term_n(s, s ? strlen(s) : 0, out, outsz);
}

size_t text_fmt_u64(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}
