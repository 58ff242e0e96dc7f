/*
 * text.h - strings that came from the wire (SNI, certificate names, HTTP lines, alert text),
 * made safe to show: escaped for terminals, or repaired to valid UTF-8 for JSON (RFC 3629).
 * A leaf helper like rd.h: every sink that prints such a string goes through it.
 */
#ifndef FM_TEXT_H
#define FM_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Decode the UTF-8 character at p[0, n): returns its length (1..4) and sets *cp, or 0 when
 * the bytes are not valid UTF-8 there (a stray continuation byte such as a raw 0x9B, a
 * truncated sequence, an overlong form, a surrogate or a value past U+10FFFF).
 */
size_t text_utf8_next(const uint8_t *p, size_t n, uint32_t *cp);

/*
 * True for a character a terminal or a reader could be misled by: C0 controls (U+0000..U+001F),
 * DEL, C1 controls (U+0080..U+009F, U+009B being the 8-bit CSI) and the Unicode bidirectional
 * controls (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069) that reorder the text
 * around them.
 */
bool text_is_unsafe(uint32_t cp);

/*
 * Copy s for a terminal into out (outsz bytes, always NUL-terminated when outsz > 0):
 * C0 controls, DEL and bytes that are not valid UTF-8 become "\xHH"; C1 and bidi controls
 * become "\uHHHH"; everything else is copied as is. Output is cut at a whole character or
 * escape, never inside one. Returns out.
 */
const char *text_term(const char *s, char *out, size_t outsz);

/* text_term over the first n bytes of s (which need not be NUL-terminated). Returns out. */
const char *text_term_n(const char *s, size_t n, char *out, size_t outsz);

/* Write the decimal digits of v at p (no NUL; room for 20); returns how many. */
size_t text_fmt_u64(char *p, uint64_t v);

#endif
