/*
 * fuzz_http.c - libFuzzer target for the HTTP/1.x framer (analyzers/http.c, RFC 9112), both
 * directions of one connection, driven the way det_health.c drives it: responses are told
 * whether they answer a HEAD or CONNECT request, missing bytes go through http_skip and the
 * server's end of stream through http_eof.
 *
 * Input: a sequence of chunks, each one control byte then data. Control bit 0 is the
 * direction (0 request, 1 response), bit 1 says "these bytes were not captured" (http_skip
 * instead of http_parse), bits 2-7 give the chunk length - 1 (1..64).
 *
 * Checked beyond memory safety: the parser never claims more bytes than it was given, an
 * HTTP_EV_NONE consumes everything, and it never stops twice in a row without progress
 * (the caller's loop would spin). Requests are read with http_parse_meta (the meta zeroed at
 * each request's BEGIN, as det_health does): its fields stay terminated and within their
 * sizes, each string no longer than its length field (a NUL byte on the wire ends it early).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_PIPELINE 8 /* requests remembered for HEAD/CONNECT, as det_health's queue */

/* The connection as the caller sees it. */
struct fz_conn {
    struct http_parser hp[2];  /* request, response parsers */
    bool failed[2];            /* the direction's parser returned MALFORMED */
    bool head[FZ_PIPELINE];    /* queued request was HEAD */
    bool connect[FZ_PIPELINE]; /* queued request was CONNECT */
    unsigned qhead, qlen;      /* request queue */
    struct http_meta meta;     /* the request being read */
};

/* struct http_meta's promises: terminated, within its arrays, lengths as said. */
static void fz_check_meta(const struct http_meta *m)
{
    if (m->method_len >= sizeof(m->method) || m->target_len >= sizeof(m->target) ||
        m->host_len >= sizeof(m->host) || strnlen(m->method, sizeof(m->method)) > m->method_len ||
        strnlen(m->target, sizeof(m->target)) > m->target_len ||
        strnlen(m->host, sizeof(m->host)) > m->host_len)
        abort();
}

/* Act on one event as det_health.c does. */
static void fz_event(struct fz_conn *c, int dir, const struct http_msg *m)
{
    if (dir == 0 && m->ev == HTTP_EV_HEADERS && c->qlen < FZ_PIPELINE) {
        unsigned at = (c->qhead + c->qlen) % FZ_PIPELINE;
        c->head[at] = m->head;
        c->connect[at] = m->connect;
        c->qlen++;
    } else if (dir == 1 && m->ev == HTTP_EV_BEGIN && c->qlen) {
        c->hp[1].no_body = c->head[c->qhead];
        c->hp[1].connect_req = c->connect[c->qhead];
    } else if (dir == 1 && m->ev == HTTP_EV_END && !m->interim && c->qlen) {
        c->qhead = (c->qhead + 1) % FZ_PIPELINE;
        c->qlen--;
    }
}

/* Parse n bytes of direction dir to the end, checking the framer's promises. */
static void fz_parse(struct fz_conn *c, int dir, const uint8_t *p, size_t n)
{
    size_t off = 0;
    unsigned idle = 0;
    while (!c->failed[dir]) {
        struct http_msg m;
        int r = http_parse_meta(&c->hp[dir], dir == 0 ? &c->meta : NULL, p + off, n - off, &m);
        fz_check_meta(&c->meta);
        if (dir == 0 && m.ev == HTTP_EV_BEGIN)
            memset(&c->meta, 0, sizeof(c->meta));
        if (r < 0) {
            c->failed[dir] = true;
            return;
        }
        if ((size_t)r > n - off)
            abort(); /* claimed more than it was given */
        if (m.ev == HTTP_EV_NONE && (size_t)r != n - off)
            abort(); /* "input ran out" must mean all of it was consumed */
        off += (size_t)r;
        idle = r == 0 ? idle + 1 : 0;
        if (idle > 2)
            abort(); /* no progress: the caller's loop would never end */
        if (m.ev == HTTP_EV_NONE)
            return;
        fz_event(c, dir, &m);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fz_conn c;
    memset(&c, 0, sizeof(c));
    http_init(&c.hp[0], HTTP_ROLE_REQUEST);
    http_init(&c.hp[1], HTTP_ROLE_RESPONSE);
    size_t i = 0;
    bool first[2] = {true, true};
    while (i < size) {
        uint8_t ctl = data[i++];
        int dir = ctl & 1;
        size_t n = (size_t)(ctl >> 2) + 1;
        if (n > size - i)
            n = size - i;
        if (first[dir]) { /* how det_health decides that a flow speaks HTTP */
            (void)(dir ? http_looks_like_response(data + i, n)
                       : http_looks_like_request(data + i, n));
            first[dir] = false;
        }
        if (ctl & 2) {
            struct http_msg m;
            if (!c.failed[dir] && http_skip(&c.hp[dir], n, &m)) {
                if (m.ev == HTTP_EV_END)
                    fz_event(&c, dir, &m);
            } else {
                c.failed[dir] = true; /* framing lost: the caller stops using the parser */
            }
        } else {
            fz_parse(&c, dir, data + i, n);
        }
        i += n;
    }
    struct http_msg m;
    if (!c.failed[1] && http_eof(&c.hp[1], &m))
        fz_event(&c, 1, &m);
    (void)http_done(&c.hp[0]);
    (void)http_idle(&c.hp[1]);
    return 0;
}
