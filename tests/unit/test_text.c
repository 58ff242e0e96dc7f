/*
 * test_text.c - unit tests of capture/text.c (terminal escaping, UTF-8 validation) and of the
 * JSON sink's string writer that relies on it (valid UTF-8 out, controls escaped).
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/text.h"
#include "cli/json.h"
#include "tests/unit/testhelp.h"

/* text_term of s into a buffer of outsz bytes equals want. */
static int term_is(const char *s, size_t outsz, const char *want)
{
    char out[256];
    text_term(s, out, outsz);
    if (strcmp(out, want) != 0) {
        fprintf(stderr, "  text_term: got \"%s\", want \"%s\"\n", out, want);
        return 0;
    }
    return 1;
}

/* True when no byte of s is a C0 control, DEL or 0x80..0x9f outside a valid UTF-8 char, and
   no C1 character is encoded: what a terminal must never receive from the wire. */
static int terminal_safe(const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = text_utf8_next(p + i, n - i, &cp);
        if (k == 0 || text_is_unsafe(cp))
            return 0;
        i += k;
    }
    return 1;
}

static void test_utf8_next(void)
{
    uint32_t cp = 0;
    CHECK(text_utf8_next((const uint8_t *)"A", 1, &cp) == 1 && cp == 'A');
    /* U+00E9 e-acute */
    CHECK(text_utf8_next((const uint8_t *)"\xc3\xa9", 2, &cp) == 2 && cp == 0xe9);
    /* U+009B (8-bit CSI) as UTF-8: valid, and unsafe */
    CHECK(text_utf8_next((const uint8_t *)"\xc2\x9b", 2, &cp) == 2 && cp == 0x9b);
    CHECK(text_is_unsafe(cp));
    /* U+1F600 (4 bytes) */
    CHECK(text_utf8_next((const uint8_t *)"\xf0\x9f\x98\x80", 4, &cp) == 4 && cp == 0x1f600);
    /* a raw 0x9b byte (a stray continuation byte) is not UTF-8 */
    CHECK(text_utf8_next((const uint8_t *)"\x9b[2J", 4, &cp) == 0);
    /* overlong "/" (C0 AF), overlong 3-byte NUL (E0 80 80), surrogate (ED A0 80) */
    CHECK(text_utf8_next((const uint8_t *)"\xc0\xaf", 2, &cp) == 0);
    CHECK(text_utf8_next((const uint8_t *)"\xe0\x80\x80", 3, &cp) == 0);
    CHECK(text_utf8_next((const uint8_t *)"\xed\xa0\x80", 3, &cp) == 0);
    /* past U+10FFFF (F4 90 80 80), and a sequence cut short by the length */
    CHECK(text_utf8_next((const uint8_t *)"\xf4\x90\x80\x80", 4, &cp) == 0);
    CHECK(text_utf8_next((const uint8_t *)"\xe2\x80\xae", 2, &cp) == 0);
    CHECK(text_utf8_next((const uint8_t *)"", 0, &cp) == 0);
}

static void test_unsafe_set(void)
{
    CHECK(text_is_unsafe(0x00) && text_is_unsafe(0x1b) && text_is_unsafe(0x7f));
    CHECK(text_is_unsafe(0x80) && text_is_unsafe(0x9f) && !text_is_unsafe(0xa0));
    CHECK(text_is_unsafe(0x202e) && text_is_unsafe(0x2066) && text_is_unsafe(0x200f));
    CHECK(!text_is_unsafe(' ') && !text_is_unsafe('~') && !text_is_unsafe(0xe9));
    CHECK(!text_is_unsafe(0x2028 + 0x100) && !text_is_unsafe(0x1f600));
}

static void test_term(void)
{
    CHECK(term_is("CN = invoice.test", 256, "CN = invoice.test"));
    /* ESC [ 2 J (clear screen) and a bell */
    CHECK(term_is("a\x1b[2Jb\x07", 256, "a\\x1b[2Jb\\x07"));
    /* U+009B as UTF-8, and the raw byte 0x9b */
    CHECK(term_is("x\xc2\x9b"
                  "31mX",
                  256, "x\\u009b31mX"));
    CHECK(term_is("x\x9b"
                  "31mX",
                  256, "x\\x9b31mX"));
    /* DEL, tab, newline, carriage return */
    CHECK(term_is("\x7f\t\n\r", 256, "\\x7f\\x09\\x0a\\x0d"));
    /* right-to-left override U+202E */
    CHECK(term_is("gpj.\xe2\x80\xae"
                  "exe",
                  256, "gpj.\\u202eexe"));
    /* valid non-ASCII text is kept as is */
    CHECK(term_is("Soci\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", 256,
                  "Soci\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac"));
    /* invalid sequences byte by byte: overlong, surrogate, truncated at the end */
    CHECK(term_is("\xc0\xaf", 256, "\\xc0\\xaf"));
    CHECK(term_is("\xed\xa0\x80", 256, "\\xed\\xa0\\x80"));
    CHECK(term_is("ok\xe2\x80", 256, "ok\\xe2\\x80"));
    /* cut at a whole character or escape, never inside one */
    CHECK(term_is("ab\x1b", 6, "ab")); /* "\x1b" needs 4 + NUL */
    CHECK(term_is("ab\x1b", 7, "ab\\x1b"));
    CHECK(term_is("a\xc3\xa9", 3, "a")); /* no room for both bytes of e-acute + NUL */
    CHECK(term_is("a\xc3\xa9", 4, "a\xc3\xa9"));
    CHECK(term_is("abc", 1, ""));
    CHECK(term_is(NULL, 8, ""));
    char small[4] = "zzz";
    text_term("anything", small, 0); /* outsz 0: nothing written */
    CHECK(strcmp(small, "zzz") == 0);
    /* every output of a hostile string is terminal-safe */
    char out[256];
    CHECK(terminal_safe(
        text_term("\x1b]0;pwned\x07\xc2\x9b\x9b\x84\xc2\x85\x7f\xe2\x81\xa6", out, sizeof(out))));
    CHECK(text_term_n("ab\x1b"
                      "cd",
                      3, out, sizeof(out)) == out &&
          strcmp(out, "ab\\x1b") == 0);
}

/* json_put_str of s, as a string. */
static char *json_of(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    json_put_str(f, s);
    fclose(f);
    return buf;
}

static void test_json(void)
{
    char *j = json_of("a\"b\\c\n\x1b\xc2\x9b\x9b\xc3\xa9\xe2\x80\xae\x7f");
    CHECK(j && strcmp(j, "\"a\\\"b\\\\c\\n\\u001b\\u009b\\ufffd\xc3\xa9\\u202e\\u007f\"") == 0);
    if (j)
        fprintf(stderr, "  json: %s\n", j);
    CHECK(j && terminal_safe(j));
    free(j);
    /* an invalid sequence in the middle: each bad byte becomes U+FFFD, the rest is kept */
    j = json_of("x\xe2\x80y\xf0\x9f\x98\x80");
    CHECK(j && strcmp(j, "\"x\\ufffd\\ufffdy\xf0\x9f\x98\x80\"") == 0);
    free(j);
}

int main(void)
{
    TEST_RUN(test_utf8_next);
    TEST_RUN(test_unsafe_set);
    TEST_RUN(test_term);
    TEST_RUN(test_json);
    return TEST_REPORT();
}
