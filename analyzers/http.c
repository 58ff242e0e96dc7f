/*
 * http.c - resumable HTTP/1.x framer (RFC 9112 sections 2-7): start line, header section,
 * Content-Length and chunked bodies, bodies delimited by close, pipelining, 1xx, HEAD, 101.
 */
#include "analyzers/http.h"

#include <string.h>

#include "capture/rd.h"

/* Parser states. */
enum hp_state {
    HP_IDLE = 0,   /* between messages (empty lines skipped) */
    HP_START,      /* in the request or status line */
    HP_HEADER,     /* in the header section */
    HP_BODY,       /* in a Content-Length body (remain bytes left) */
    HP_CHUNK_SIZE, /* in a chunk-size line */
    HP_CHUNK_DATA, /* in chunk data (remain bytes left) */
    HP_CHUNK_CRLF, /* in the CRLF after chunk data */
    HP_TRAILER,    /* in the trailer section after the last chunk */
    HP_BODY_EOF,   /* in a body that ends when the connection closes */
    HP_END_NOW,    /* the message ended with its header section: report END next */
    HP_OPAQUE,     /* switched protocols: bytes are no longer HTTP */
    HP_FAILED,     /* not HTTP */
};

#define HP_CHUNK_LINE_MAX 1024 /* a chunk-size line longer than this is malformed */

/* What the bytes of the current line are to struct http_meta (its cap field). */
enum hp_cap {
    CAP_METHOD = 0, /* start line: the method */
    CAP_TARGET,     /* start line: the request-target */
    CAP_SKIP,       /* the rest of the line is not kept */
    CAP_NAME,       /* header line: its name is being matched against "host:" */
    CAP_HOST_OWS,   /* after "Host:", blanks before the value */
    CAP_HOST,       /* the Host value */
};

void http_init(struct http_parser *hp, enum http_role role)
{
    memset(hp, 0, sizeof(*hp));
    hp->role = (uint8_t)role;
    hp->state = HP_IDLE;
}

bool http_done(const struct http_parser *hp)
{
    return hp->state == HP_FAILED || hp->state == HP_OPAQUE;
}

bool http_idle(const struct http_parser *hp)
{
    return hp->state == HP_IDLE;
}

static bool hp_is_tchar(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '_';
}

static uint8_t hp_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
}

bool http_looks_like_request(const uint8_t *p, size_t len)
{
    struct rd r = rd_init(p, len);
    size_t n = 0;
    while (rd_has(&r, 1)) {
        uint8_t c = rd_u8(&r);
        if (c == ' ')
            return n > 0;
        if (!hp_is_tchar(c) || ++n > 24)
            return false;
    }
    return n > 0; /* so far a method token: plausible */
}

bool http_looks_like_response(const uint8_t *p, size_t len)
{
    static const char pre[] = "HTTP/1.";
    struct rd r = rd_init(p, len);
    size_t n = 0;
    while (n < sizeof(pre) - 1 && rd_has(&r, 1))
        if (rd_u8(&r) != (uint8_t)pre[n++])
            return false;
    return n > 0;
}

/*
 * Add bytes to the current line until LF. Returns true with the line complete (CR and LF
 * stripped from line[]; *eff set to the line's full length without them).
 */
/* Keep the last HTTP_TAIL_MAX bytes of the line in tail[] (p: n more bytes of it). */
static void hp_tail(struct http_parser *hp, const uint8_t *p, size_t n)
{
    if (n >= HTTP_TAIL_MAX) {
        memcpy(hp->tail, p + n - HTTP_TAIL_MAX, HTTP_TAIL_MAX);
        hp->tail_len = HTTP_TAIL_MAX;
        return;
    }
    size_t keep = hp->tail_len < HTTP_TAIL_MAX - n ? hp->tail_len : HTTP_TAIL_MAX - n;
    memmove(hp->tail, hp->tail + hp->tail_len - keep, keep);
    memcpy(hp->tail + keep, p, n);
    hp->tail_len = (uint8_t)(keep + n);
}

/* Append byte c to a kept field of cap bytes (NUL included), or flag it cut. */
static void hp_keep(char *buf, uint16_t *len, size_t cap, bool *cut, uint8_t c)
{
    if (*len + 1u < cap) {
        buf[(*len)++] = (char)c;
        buf[*len] = '\0';
    } else {
        *cut = true;
    }
}

/*
 * Copy what struct http_meta keeps from n more bytes (no LF) of the current line of a
 * request, pos being the line's bytes before them: the method and request-target of the
 * start line, the value of the first Host header.
 */
static void hp_capture(const struct http_parser *hp, struct http_meta *m, const uint8_t *p,
                       size_t n, uint32_t pos)
{
    static const char host[] = "host:";
    if (pos == 0)
        m->cap = hp->state == HP_START ? CAP_METHOD : m->has_host ? CAP_SKIP : CAP_NAME;
    for (size_t i = 0; i < n && m->cap != CAP_SKIP; i++, pos++) {
        uint8_t c = p[i];
        switch (m->cap) {
        case CAP_METHOD:
            if (c == ' ')
                m->cap = CAP_TARGET;
            else
                hp_keep(m->method, &m->method_len, sizeof(m->method), &m->method_cut, c);
            break;
        case CAP_TARGET:
            if (c == ' ')
                m->cap = CAP_SKIP;
            else
                hp_keep(m->target, &m->target_len, sizeof(m->target), &m->target_cut, c);
            break;
        case CAP_NAME:
            if (pos >= sizeof(host) - 1 || hp_lower(c) != (uint8_t)host[pos]) {
                m->cap = CAP_SKIP;
            } else if (c == ':') {
                m->cap = CAP_HOST_OWS;
                m->has_host = true;
            }
            break;
        case CAP_HOST_OWS:
            if (c == ' ' || c == '\t')
                break;
            m->cap = CAP_HOST;
            /* fall through */
        case CAP_HOST:
            hp_keep(m->host, &m->host_len, sizeof(m->host), &m->host_cut, c);
            break;
        default:
            break;
        }
    }
}

/* The line ended: drop the CR and blanks that end a Host value. */
static void hp_capture_end(struct http_meta *m)
{
    if (m->cap != CAP_HOST)
        return;
    while (m->host_len > 0 && (m->host[m->host_len - 1] == '\r' ||
                               m->host[m->host_len - 1] == ' ' || m->host[m->host_len - 1] == '\t'))
        m->host[--m->host_len] = '\0';
    m->cap = CAP_SKIP;
}

static bool hp_line(struct http_parser *hp, struct http_meta *meta, struct rd *r, uint32_t *eff)
{
    struct rd look = *r; /* find the LF without consuming */
    size_t left = rd_left(r);
    const uint8_t *chunk = rd_ptr(&look, left);
    if (!chunk || left == 0)
        return false;
    const uint8_t *lf = memchr(chunk, '\n', left);
    size_t n = lf ? (size_t)(lf - chunk) + 1 : left; /* bytes of this line here, LF included */
    size_t body = lf ? n - 1 : n;                    /* without the LF */
    size_t room = HTTP_LINE_MAX - hp->line_len;
    size_t keep = body < room ? body : room;
    memcpy(hp->line + hp->line_len, chunk, keep);
    hp->line_len = (uint16_t)(hp->line_len + keep);
    hp_tail(hp, chunk, body);
    if (meta && (hp->state == HP_START || hp->state == HP_HEADER))
        hp_capture(hp, meta, chunk, body, hp->line_total);
    rd_skip(r, n);
    uint32_t add = n > UINT32_MAX - hp->line_total ? UINT32_MAX - hp->line_total : (uint32_t)n;
    hp->line_total += add;
    hp->header_total += add > UINT32_MAX - hp->header_total ? UINT32_MAX - hp->header_total : add;
    if (!lf)
        return false;
    if (meta)
        hp_capture_end(meta);
    uint32_t total = hp->line_total - 1;
    if (hp->line_len > 0 && hp->line_len == total && hp->line[hp->line_len - 1] == '\r') {
        hp->line_len--;
        total--;
    }
    if (hp->tail_len > 0 && hp->tail[hp->tail_len - 1] == '\r')
        hp->tail_len--;
    *eff = total;
    return true;
}

static void hp_line_reset(struct http_parser *hp)
{
    hp->line_len = 0;
    hp->line_total = 0;
    hp->tail_len = 0;
}

/* Case-insensitive: does line[0..len) start with the lower-case name followed by ':'? */
static bool hp_header_is(const struct http_parser *hp, const char *name, size_t *val)
{
    size_t n = strlen(name);
    if (hp->line_len <= n || hp->line[n] != ':')
        return false;
    for (size_t i = 0; i < n; i++)
        if (hp_lower((uint8_t)hp->line[i]) != (uint8_t)name[i])
            return false;
    size_t v = n + 1;
    while (v < hp->line_len && (hp->line[v] == ' ' || hp->line[v] == '\t'))
        v++;
    *val = v;
    return true;
}

/* Content-Length value at line[v..); false when not a decimal number. */
static bool hp_content_length(struct http_parser *hp, size_t v, bool truncated)
{
    uint64_t n = 0;
    size_t digits = 0, end = hp->line_len;
    while (end > v && (hp->line[end - 1] == ' ' || hp->line[end - 1] == '\t'))
        end--;
    if (truncated)
        return false;
    for (size_t i = v; i < end; i++) {
        char c = hp->line[i];
        if (c < '0' || c > '9' || ++digits > 18)
            return false;
        n = n * 10 + (uint64_t)(c - '0');
    }
    if (digits == 0)
        return false;
    if (hp->has_len && hp->remain != n)
        return false; /* conflicting lengths (RFC 9112 6.3) */
    hp->has_len = true;
    hp->remain = n;
    return true;
}

/*
 * Transfer-Encoding value: chunked when its last coding is "chunked". The value is read from
 * line[v..) or, for a line longer than what line[] keeps, from its last bytes (tail[]).
 */
static void hp_transfer_encoding(struct http_parser *hp, size_t v, bool truncated)
{
    static const char ck[] = "chunked";
    const char *t = truncated ? hp->tail : hp->line;
    size_t start = truncated ? 0 : v, end = truncated ? hp->tail_len : hp->line_len;
    while (end > start && (t[end - 1] == ' ' || t[end - 1] == '\t'))
        end--;
    if (end - start < 7)
        return;
    for (size_t i = 0; i < 7; i++)
        if (hp_lower((uint8_t)t[end - 7 + i]) != (uint8_t)ck[i])
            return;
    if ((!truncated && end - start == 7) ||
        (end - start > 7 && (t[end - 8] == ',' || t[end - 8] == ' ' || t[end - 8] == '\t')))
        hp->chunked = true;
}

/* Request line "METHOD SP target SP HTTP/1.x". */
static bool hp_request_line(struct http_parser *hp, uint32_t eff)
{
    bool truncated = eff > hp->line_len;
    size_t m = 0;
    while (m < hp->line_len && hp_is_tchar((uint8_t)hp->line[m]))
        m++;
    if (m == 0 || m > 24 || m >= hp->line_len || hp->line[m] != ' ')
        return false;
    hp->head = m == 4 && memcmp(hp->line, "HEAD", 4) == 0;
    hp->connect = m == 7 && memcmp(hp->line, "CONNECT", 7) == 0;
    if (truncated)
        return m + 1 < hp->line_len; /* the version is beyond what we keep */
    if (hp->line_len < m + 2 + 9)
        return false;
    const char *ver = hp->line + hp->line_len - 9;
    return ver[0] == ' ' && memcmp(ver + 1, "HTTP/1.", 7) == 0 && ver[8] >= '0' && ver[8] <= '9' &&
           hp->line[m + 1] != ' ';
}

/* Status line "HTTP/1.x SP DDD [SP reason]". */
static bool hp_status_line(struct http_parser *hp)
{
    const char *l = hp->line;
    if (hp->line_len < 12 || memcmp(l, "HTTP/1.", 7) != 0 || l[7] < '0' || l[7] > '9' ||
        l[8] != ' ')
        return false;
    uint16_t st = 0;
    for (int i = 9; i < 12; i++) {
        if (l[i] < '0' || l[i] > '9')
            return false;
        st = (uint16_t)(st * 10 + (l[i] - '0'));
    }
    if (st < 100 || (hp->line_len > 12 && l[12] != ' '))
        return false;
    hp->status = st;
    return true;
}

/* The header section ended: decide how the body is delimited. */
static void hp_body_start(struct http_parser *hp, struct http_msg *msg)
{
    msg->ev = HTTP_EV_HEADERS;
    msg->status = hp->status;
    msg->head = hp->head;
    msg->connect = hp->connect;
    msg->interim = false;
    msg->upgrade = false;
    msg->body_bytes = 0;
    if (hp->role == HTTP_ROLE_RESPONSE) {
        if (hp->status == 101 || (hp->connect_req && hp->status / 100 == 2)) {
            msg->upgrade = true;
            hp->state = HP_END_NOW;
            return;
        }
        if (hp->status / 100 == 1) {
            msg->interim = true;
            hp->state = HP_END_NOW;
            return;
        }
        if (hp->no_body || hp->status == 204 || hp->status == 304) {
            hp->state = HP_END_NOW;
            return;
        }
    }
    if (hp->chunked) {
        hp->state = HP_CHUNK_SIZE;
        hp_line_reset(hp);
    } else if (hp->has_len) {
        hp->state = hp->remain ? HP_BODY : HP_END_NOW;
    } else {
        hp->state = hp->role == HTTP_ROLE_RESPONSE ? HP_BODY_EOF : HP_END_NOW;
    }
}

/* The message ended: fill END and go back to idle (or opaque after an upgrade). */
static void hp_end(struct http_parser *hp, struct http_msg *msg)
{
    msg->ev = HTTP_EV_END;
    msg->status = hp->status;
    msg->head = hp->head;
    msg->connect = hp->connect;
    msg->interim = hp->role == HTTP_ROLE_RESPONSE && hp->status / 100 == 1 && hp->status != 101;
    msg->upgrade = hp->role == HTTP_ROLE_RESPONSE &&
                   (hp->status == 101 || (hp->connect_req && hp->status / 100 == 2));
    msg->body_bytes = hp->body_bytes;
    hp->state = msg->upgrade ? HP_OPAQUE : HP_IDLE;
    hp->no_body = false;
    hp->connect_req = false;
}

/* Chunk-size line: hex digits, then optional extensions. */
static bool hp_chunk_size(struct http_parser *hp, uint32_t eff)
{
    uint64_t n = 0;
    size_t digits = 0;
    if (eff > hp->line_len && hp->line_len < 17)
        return false;
    for (size_t i = 0; i < hp->line_len; i++) {
        uint8_t c = hp_lower((uint8_t)hp->line[i]);
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c == ';' || c == ' ' || c == '\t')
            break;
        else
            return false;
        if (++digits > 15)
            return false;
        n = n * 16 + (uint64_t)d;
    }
    if (digits == 0)
        return false;
    hp->remain = n;
    return true;
}

/* One step of the line-based states; returns false when the input is malformed. */
static bool hp_line_state(struct http_parser *hp, struct http_meta *meta, struct rd *r,
                          struct http_msg *msg)
{
    uint32_t eff;
    if (!hp_line(hp, meta, r, &eff)) {
        uint32_t cap = hp->state == HP_CHUNK_SIZE || hp->state == HP_CHUNK_CRLF ? HP_CHUNK_LINE_MAX
                                                                                : HTTP_HEADER_CAP;
        return hp->line_total <= cap && hp->header_total <= HTTP_HEADER_CAP;
    }
    if (hp->header_total > HTTP_HEADER_CAP && hp->state != HP_CHUNK_SIZE &&
        hp->state != HP_CHUNK_CRLF)
        return false;
    bool truncated = eff > hp->line_len;
    switch (hp->state) {
    case HP_START:
        if (hp->role == HTTP_ROLE_REQUEST ? !hp_request_line(hp, eff) : !hp_status_line(hp))
            return false;
        hp->state = HP_HEADER;
        break;
    case HP_HEADER: {
        size_t v;
        if (eff == 0) {
            hp_body_start(hp, msg);
            break;
        }
        if (hp_header_is(hp, "content-length", &v)) {
            if (!hp_content_length(hp, v, truncated))
                return false;
        } else if (hp_header_is(hp, "transfer-encoding", &v)) {
            hp_transfer_encoding(hp, v, truncated);
        }
        break;
    }
    case HP_CHUNK_SIZE:
        if (!hp_chunk_size(hp, eff))
            return false;
        hp->state = hp->remain ? HP_CHUNK_DATA : HP_TRAILER;
        hp->header_total = 0;
        break;
    case HP_CHUNK_CRLF:
        if (eff != 0)
            return false;
        hp->state = HP_CHUNK_SIZE;
        hp->header_total = 0;
        break;
    case HP_TRAILER:
        if (eff == 0)
            hp_end(hp, msg);
        break;
    default:
        return false;
    }
    hp_line_reset(hp);
    return true;
}

/* Count n body bytes of the current message (saturating). */
static void hp_body(struct http_parser *hp, uint64_t n)
{
    hp->body_bytes = n > UINT64_MAX - hp->body_bytes ? UINT64_MAX : hp->body_bytes + n;
}

int http_parse(struct http_parser *hp, const uint8_t *p, size_t len, struct http_msg *msg)
{
    return http_parse_meta(hp, NULL, p, len, msg);
}

int http_parse_meta(struct http_parser *hp, struct http_meta *meta, const uint8_t *p, size_t len,
                    struct http_msg *msg)
{
    if (hp->role != HTTP_ROLE_REQUEST)
        meta = NULL;
    if (len > (size_t)INT32_MAX)
        len = (size_t)INT32_MAX; /* the caller sees fewer bytes consumed and calls again */
    struct rd r = rd_init(p, len);
    msg->ev = HTTP_EV_NONE;
    while (msg->ev == HTTP_EV_NONE && hp->state != HP_FAILED) {
        if (hp->state == HP_END_NOW) {
            hp_end(hp, msg);
            break;
        }
        if (!rd_has(&r, 1))
            break;
        switch (hp->state) {
        case HP_IDLE: {
            struct rd look = r;
            uint8_t c = rd_u8(&look);
            if (c == '\r' || c == '\n') {
                r = look;
                break;
            }
            bool keep_no_body = hp->no_body, keep_connect = hp->connect_req;
            uint8_t role = hp->role;
            http_init(hp, (enum http_role)role);
            hp->no_body = keep_no_body;
            hp->connect_req = keep_connect;
            hp->state = HP_START;
            msg->ev = HTTP_EV_BEGIN;
            msg->status = 0;
            msg->head = msg->connect = msg->interim = msg->upgrade = false;
            msg->body_bytes = 0;
            break;
        }
        case HP_BODY:
        case HP_CHUNK_DATA: {
            size_t n = rd_left(&r) < hp->remain ? rd_left(&r) : (size_t)hp->remain;
            rd_skip(&r, n);
            hp->remain -= n;
            hp_body(hp, n);
            if (hp->remain == 0) {
                if (hp->state == HP_BODY) {
                    hp_end(hp, msg);
                } else {
                    hp->state = HP_CHUNK_CRLF;
                    hp_line_reset(hp);
                }
            }
            break;
        }
        case HP_BODY_EOF:
        case HP_OPAQUE:
            if (hp->state == HP_BODY_EOF)
                hp_body(hp, rd_left(&r));
            rd_skip(&r, rd_left(&r));
            break;
        default:
            if (!hp_line_state(hp, meta, &r, msg))
                hp->state = HP_FAILED;
            break;
        }
    }
    if (hp->state == HP_FAILED) {
        msg->ev = HTTP_EV_NONE;
        return MALFORMED;
    }
    return (int)(len - rd_left(&r));
}

bool http_skip(struct http_parser *hp, uint64_t n, struct http_msg *msg)
{
    msg->ev = HTTP_EV_NONE;
    switch (hp->state) {
    case HP_BODY:
        if (n > hp->remain)
            return false;
        hp->remain -= n;
        hp_body(hp, n);
        if (hp->remain == 0)
            hp_end(hp, msg);
        return true;
    case HP_CHUNK_DATA:
        if (n > hp->remain)
            return false;
        hp->remain -= n;
        hp_body(hp, n);
        if (hp->remain == 0) {
            hp->state = HP_CHUNK_CRLF;
            hp_line_reset(hp);
        }
        return true;
    case HP_BODY_EOF:
        hp_body(hp, n);
        return true;
    case HP_OPAQUE:
        return true;
    default:
        return false;
    }
}

bool http_eof(struct http_parser *hp, struct http_msg *msg)
{
    msg->ev = HTTP_EV_NONE;
    if (hp->state != HP_BODY_EOF)
        return false;
    hp_end(hp, msg);
    return true;
}
