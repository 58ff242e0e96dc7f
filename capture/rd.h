/*
 * rd.h - a bounds-checked byte cursor: the only way flowmedic reads packet or stream bytes.
 * A read past the end sets the sticky err flag and returns 0; check rd.err once per header.
 */
#ifndef FM_RD_H
#define FM_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A window [p, end) over borrowed bytes. */
struct rd {
    const uint8_t *p;   /* next byte to read */
    const uint8_t *end; /* one past the last readable byte */
    bool err;           /* set by any read or skip that did not fit; never cleared */
};

static inline struct rd rd_init(const uint8_t *p, size_t len)
{
    struct rd r = {p, p + len, false};
    return r;
}

/* Bytes left to read. */
static inline size_t rd_left(const struct rd *r)
{
    return (size_t)(r->end - r->p);
}

/* True when n more bytes can be read. */
static inline bool rd_has(const struct rd *r, size_t n)
{
    return !r->err && rd_left(r) >= n;
}

static inline uint8_t rd_u8(struct rd *r)
{
    if (!rd_has(r, 1)) {
        r->err = true;
        return 0;
    }
    return *r->p++;
}

static inline uint16_t rd_u16(struct rd *r)
{
    if (!rd_has(r, 2)) {
        r->err = true;
        return 0;
    }
    uint16_t v = (uint16_t)((r->p[0] << 8) | r->p[1]);
    r->p += 2;
    return v;
}

static inline uint32_t rd_u24(struct rd *r)
{
    if (!rd_has(r, 3)) {
        r->err = true;
        return 0;
    }
    uint32_t v = ((uint32_t)r->p[0] << 16) | ((uint32_t)r->p[1] << 8) | r->p[2];
    r->p += 3;
    return v;
}

static inline uint32_t rd_u32(struct rd *r)
{
    if (!rd_has(r, 4)) {
        r->err = true;
        return 0;
    }
    uint32_t v = ((uint32_t)r->p[0] << 24) | ((uint32_t)r->p[1] << 16) |
                 ((uint32_t)r->p[2] << 8) | r->p[3];
    r->p += 4;
    return v;
}

/* Little-endian reads, for capture file headers written by little-endian hosts. */
static inline uint16_t rd_u16le(struct rd *r)
{
    if (!rd_has(r, 2)) {
        r->err = true;
        return 0;
    }
    uint16_t v = (uint16_t)(r->p[0] | (r->p[1] << 8));
    r->p += 2;
    return v;
}

static inline uint32_t rd_u32le(struct rd *r)
{
    if (!rd_has(r, 4)) {
        r->err = true;
        return 0;
    }
    uint32_t v = (uint32_t)r->p[0] | ((uint32_t)r->p[1] << 8) | ((uint32_t)r->p[2] << 16) |
                 ((uint32_t)r->p[3] << 24);
    r->p += 4;
    return v;
}

/* Skip n bytes; sets err if fewer remain. */
static inline void rd_skip(struct rd *r, size_t n)
{
    if (!rd_has(r, n)) {
        r->err = true;
        r->p = r->end;
        return;
    }
    r->p += n;
}

/* Copy n bytes out; sets err (and zero-fills dst) if fewer remain. */
static inline void rd_copy(struct rd *r, void *dst, size_t n)
{
    uint8_t *d = dst;
    if (!rd_has(r, n)) {
        r->err = true;
        for (size_t i = 0; i < n; i++)
            d[i] = 0;
        return;
    }
    for (size_t i = 0; i < n; i++)
        d[i] = r->p[i];
    r->p += n;
}

/* Pointer to the next n bytes, advancing past them; NULL (and err) if fewer remain. */
static inline const uint8_t *rd_ptr(struct rd *r, size_t n)
{
    if (!rd_has(r, n)) {
        r->err = true;
        return NULL;
    }
    const uint8_t *q = r->p;
    r->p += n;
    return q;
}

/*
 * A sub-cursor over the next len bytes (a length field's body), advancing r past them.
 * If fewer than len remain, r gets err set (the declared length did not fit) and the
 * sub-cursor covers what is there WITHOUT err, so a caller may still read a cut body; a
 * caller that must reject a cut body checks r's err after the call, not the sub-cursor's.
 */
static inline struct rd rd_sub(struct rd *r, size_t len)
{
    struct rd s;
    if (r->err) {
        s.p = s.end = r->end;
        s.err = true;
        return s;
    }
    if (rd_left(r) < len) {
        s.p = r->p;
        s.end = r->end;
        s.err = false;
        r->p = r->end;
        r->err = true;
        return s;
    }
    s.p = r->p;
    s.end = r->p + len;
    s.err = false;
    r->p += len;
    return s;
}

#endif
