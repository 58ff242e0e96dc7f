/*
 * http.h - a resumable HTTP/1.x message framer for timing (RFC 9112): finds where each request
 * and response begins, where its header ends and where its body ends (Content-Length, chunked,
 * or until the connection closes), and reads the method and the status code. It keeps no
 * body bytes and no header values beyond one short line; state is a fixed-size struct. A
 * request parser may also copy the method, the request-target and the Host header value into
 * a caller's struct http_meta (bounded, cut with a flag: http_parse_meta).
 */
#ifndef FM_HTTP_H
#define FM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/err.h"

#define HTTP_LINE_MAX 40      /* bytes of a start or header line kept (the rest is skipped) */
#define HTTP_HEADER_CAP 65536 /* a header section longer than this is not HTTP */
#define HTTP_TAIL_MAX 10      /* last bytes of a line kept (", chunked" at the end of a long one) */
#define HTTP_METHOD_MAX 16    /* method bytes kept in struct http_meta, NUL included */
#define HTTP_HOST_MAX 128     /* Host header value bytes kept, NUL included */
#define HTTP_TARGET_MAX 256   /* request-target bytes kept, NUL included */

/* Which side of the conversation a parser reads. */
enum http_role {
    HTTP_ROLE_REQUEST = 0,  /* client to server */
    HTTP_ROLE_RESPONSE = 1, /* server to client */
};

/* What http_parse stopped at. */
enum http_ev {
    HTTP_EV_NONE = 0, /* input ran out (all of it consumed) */
    HTTP_EV_BEGIN,    /* the first byte of a message is next (nothing consumed) */
    HTTP_EV_HEADERS,  /* the header section ended (method/status known) */
    HTTP_EV_END,      /* the last byte of a message was consumed */
};

/* Details of the message the last event belongs to. */
struct http_msg {
    enum http_ev ev; /* the event */
    uint16_t status; /* response status code; 0 for a request */
    bool head;       /* request: the method is HEAD */
    bool connect;    /* request: the method is CONNECT */
    bool interim;    /* response: 1xx other than 101 (a final response follows) */
    bool upgrade;    /* after this message the stream is no longer HTTP (101, CONNECT 2xx) */
    uint64_t body_bytes; /* END: body bytes of the message (dechunked: chunk data only),
                            bytes stepped over by http_skip included */
};

/*
 * What a request parser copies out of the request it reads (http_parse_meta): the first
 * bytes of the method, the request-target and the Host header value (the first Host
 * header; leading and trailing blanks dropped), each NUL-terminated, with a flag when the
 * wire held more. Zeroed when a request begins. Bytes are copied as they are (not decoded
 * and not checked: the caller escapes them for output).
 */
struct http_meta {
    char method[HTTP_METHOD_MAX]; /* request method */
    char target[HTTP_TARGET_MAX]; /* request-target as sent (path and query) */
    char host[HTTP_HOST_MAX];     /* Host header value, "" if none */
    uint16_t method_len;          /* bytes in method[] */
    uint16_t target_len;          /* bytes in target[] */
    uint16_t host_len;            /* bytes in host[] */
    bool method_cut;              /* the method was longer than method[] keeps */
    bool target_cut;              /* the request-target was longer than target[] keeps */
    bool host_cut;                /* the Host value was longer than host[] keeps */
    bool has_host;                /* a Host header was seen */
    uint8_t cap;                  /* capture state of the current line (http.c) */
};

/* Parser state for one direction of one connection; zero it, then set role. */
struct http_parser {
    uint8_t role;             /* enum http_role */
    uint8_t state;            /* internal state (hp_state in http.c) */
    bool no_body;             /* caller: the response now starting answers a HEAD request */
    bool connect_req;         /* caller: the response now starting answers a CONNECT request */
    bool chunked;             /* the message body is chunked */
    bool has_len;             /* a Content-Length was given */
    bool head;                /* request method is HEAD */
    bool connect;             /* request method is CONNECT */
    uint16_t status;          /* response status code */
    uint16_t line_len;        /* bytes kept in line[] */
    uint32_t line_total;      /* bytes of the current line so far (kept or not) */
    uint32_t header_total;    /* bytes of the current header section so far */
    uint64_t remain;          /* body or chunk bytes still to come */
    uint64_t body_bytes;      /* body bytes of the current message so far */
    char line[HTTP_LINE_MAX]; /* the current line's first bytes (no CR/LF) */
    uint8_t tail_len;         /* bytes in tail[] */
    char tail[HTTP_TAIL_MAX]; /* the current line's last bytes (no CR/LF) */
};

/* Start a parser for one direction. */
void http_init(struct http_parser *hp, enum http_role role);

/*
 * Parse up to len bytes of the stream at p. Stops after the first event (see enum http_ev)
 * and fills *msg. Returns the bytes consumed (>= 0; may be 0 with HTTP_EV_BEGIN), or
 * MALFORMED when the bytes are not HTTP/1.x (the parser then stays failed).
 * Call again with the rest until it returns HTTP_EV_NONE.
 */
int http_parse(struct http_parser *hp, const uint8_t *p, size_t len, struct http_msg *msg) FM_WUR;

/*
 * http_parse for a request parser that also fills *meta (see struct http_meta) while it
 * reads a request's start line and header section; meta may be NULL (then it is
 * http_parse). The caller keeps meta between calls for the same request (it is zeroed at
 * the request's HTTP_EV_BEGIN).
 */
int http_parse_meta(struct http_parser *hp, struct http_meta *meta, const uint8_t *p, size_t len,
                    struct http_msg *msg) FM_WUR;

/*
 * The stream ended (FIN). Returns true and fills msg with HTTP_EV_END when this completes a
 * response delimited by the close of the connection.
 */
bool http_eof(struct http_parser *hp, struct http_msg *msg);

/*
 * n bytes of the stream are missing (capture loss, snaplen): true when they fall inside a body
 * whose length is known or one that runs to the close, so parsing goes on after them; when
 * they are the last bytes of a Content-Length body, msg gets its HTTP_EV_END (else
 * HTTP_EV_NONE). False when framing is lost (the caller stops using this parser).
 */
bool http_skip(struct http_parser *hp, uint64_t n, struct http_msg *msg);

/* True once the parser failed or the stream switched protocols (no more events). */
bool http_done(const struct http_parser *hp);

/* True when the parser is between messages (nothing of a message seen). */
bool http_idle(const struct http_parser *hp);

/* True when bytes look like the start of an HTTP/1.x request (method token, space). */
bool http_looks_like_request(const uint8_t *p, size_t len);

/* True when bytes look like the start of an HTTP/1.x response ("HTTP/1."). */
bool http_looks_like_response(const uint8_t *p, size_t len);

#endif
