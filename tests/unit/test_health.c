/*
 * test_health.c - unit tests of server health: the quantile sketch's error bound against exact
 * quantiles, the HTTP/1.x framer (pipelining, keep-alive, chunked, Content-Length, HEAD, 1xx,
 * close-delimited bodies, split at every byte) and alert hysteresis.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/alert.h"
#include "analyzers/engine.h"
#include "analyzers/http.h"
#include "analyzers/sketch.h"
#include "capture/decode.h"
#include "tests/unit/testhelp.h"

/* A small deterministic PRNG (xorshift64*), so failures reproduce. */
static uint64_t rng_state = 88172645463325252ull;

static double rng_unit(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define NSAMPLES 20000

/* Check the sketch against the exact nearest-rank sample (rank ceil(q n)) for several q. */
static void check_bound(double *v, size_t n)
{
    static struct sketch s;
    static const double qs[] = {0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1};
    sketch_reset(&s);
    for (size_t i = 0; i < n; i++)
        sketch_add(&s, v[i]);
    CHECK_EQ_U64(s.n, n);
    qsort(v, n, sizeof(v[0]), cmp_double);
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        double r1 = ceil(qs[i] * (double)n - 1e-9);
        double exact = v[r1 <= 1 ? 0 : (size_t)r1 - 1];
        double est = sketch_quantile(&s, qs[i]);
        double rel = fabs(est - exact) / exact;
        if (rel > SKETCH_ALPHA * (1 + 1e-9))
            fprintf(stderr, "q=%g exact=%g est=%g rel=%g\n", qs[i], exact, est, rel);
        CHECK(rel <= SKETCH_ALPHA * (1 + 1e-9));
    }
}

static void test_sketch_bound(void)
{
    static double v[NSAMPLES];
    /* log-uniform over 10 us .. 100 s: every decade of response times */
    for (size_t i = 0; i < NSAMPLES; i++)
        v[i] = 1e-5 * pow(10, 7 * rng_unit());
    check_bound(v, NSAMPLES);
    /* exponential around 50 ms with a 1 % tail at 6 s (a slow server) */
    for (size_t i = 0; i < NSAMPLES; i++)
        v[i] = rng_unit() < 0.01 ? 6 + rng_unit() : -0.05 * log(1 - rng_unit()) + 1e-4;
    check_bound(v, NSAMPLES);
    /* few samples: small n is where rank rounding matters */
    for (size_t n = 1; n <= 7; n++) {
        for (size_t i = 0; i < n; i++)
            v[i] = 0.001 + rng_unit();
        check_bound(v, n);
    }
}

static void test_sketch_edges(void)
{
    static struct sketch a, b;
    sketch_reset(&a);
    CHECK(isnan(sketch_quantile(&a, 0.5)));
    sketch_add(&a, NAN);
    CHECK_EQ_U64(a.n, 0);
    sketch_add(&a, 0);   /* below the range: reported as the minimum seen */
    sketch_add(&a, 2e5); /* above the range: reported as the maximum seen */
    CHECK(sketch_quantile(&a, 0) == 0);
    CHECK(sketch_quantile(&a, 1) == 2e5);
    /* a single value comes back within alpha (and exactly, thanks to the min/max clamp) */
    sketch_reset(&a);
    sketch_add(&a, 6.0);
    CHECK(sketch_quantile(&a, 0.99) == 6.0);
    /* nearest rank: one slow answer in four is the p99 (and the p95), not the p50 */
    sketch_reset(&a);
    sketch_add(&a, 0.002);
    sketch_add(&a, 0.003);
    sketch_add(&a, 0.001);
    sketch_add(&a, 6.0);
    CHECK(fabs(sketch_quantile(&a, 0.99) - 6.0) <= 6.0 * SKETCH_ALPHA);
    CHECK(fabs(sketch_quantile(&a, 0.95) - 6.0) <= 6.0 * SKETCH_ALPHA);
    CHECK(fabs(sketch_quantile(&a, 0.5) - 0.002) <= 0.002 * SKETCH_ALPHA);
    /* merge equals adding everything to one sketch */
    sketch_reset(&a);
    sketch_reset(&b);
    static struct sketch all;
    sketch_reset(&all);
    for (int i = 0; i < 1000; i++) {
        double x = 0.001 * (1 + i);
        sketch_add(i % 2 ? &a : &b, x);
        sketch_add(&all, x);
    }
    sketch_merge(&a, &b);
    CHECK_EQ_U64(a.n, 1000);
    CHECK(sketch_quantile(&a, 0.5) == sketch_quantile(&all, 0.5));
    CHECK(sketch_quantile(&a, 0.99) == sketch_quantile(&all, 0.99));
    CHECK(sizeof(struct sketch) < 6000); /* fixed size, no allocation */
}

/*
 * Feed buf to a fresh parser in pieces cut at the given points and write the events as text:
 * "B" begin, "H<status>" headers (h for a HEAD request), "E" end, "I" interim end, "U" upgrade
 * end, "X" malformed, "F" end at close. heads[] says which responses answer a HEAD request.
 */
static void run_parser(enum http_role role, const char *buf, const size_t *cuts, size_t ncuts,
                       const bool *heads, bool eof, char *out, size_t outlen)
{
    struct http_parser hp;
    struct http_msg m;
    size_t len = strlen(buf), pos = 0, used = 0, nresp = 0;
    http_init(&hp, role);
    out[0] = 0;
    for (size_t c = 0; c <= ncuts; c++) {
        size_t end = c < ncuts ? cuts[c] : len;
        while (pos <= end) {
            int n = http_parse(&hp, (const uint8_t *)buf + pos, end - pos, &m);
            if (n < 0) {
                used += (size_t)snprintf(out + used, outlen - used, "X");
                return;
            }
            pos += (size_t)n;
            if (m.ev == HTTP_EV_NONE)
                break;
            if (m.ev == HTTP_EV_BEGIN) {
                if (role == HTTP_ROLE_RESPONSE && heads)
                    hp.no_body = heads[nresp];
                used += (size_t)snprintf(out + used, outlen - used, "B");
            } else if (m.ev == HTTP_EV_HEADERS) {
                used += (size_t)snprintf(out + used, outlen - used, "%c%u ", m.head ? 'h' : 'H',
                                         m.status);
            } else {
                if (!m.interim)
                    nresp++;
                used += (size_t)snprintf(out + used, outlen - used, "%s",
                                         m.upgrade   ? "U"
                                         : m.interim ? "I"
                                                     : "E");
            }
        }
    }
    CHECK_EQ_U64(pos, len);
    if (eof && http_eof(&hp, &m))
        used += (size_t)snprintf(out + used, outlen - used, "F");
}

/* The same events whole, cut at every single byte, and cut in two at every position. */
static void check_splits(enum http_role role, const char *buf, const bool *heads, bool eof,
                         const char *want)
{
    static size_t cuts[4096];
    char got[512];
    size_t len = strlen(buf);
    run_parser(role, buf, NULL, 0, heads, eof, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fprintf(stderr, "whole: got '%s' want '%s'\n", got, want);
    CHECK(strcmp(got, want) == 0);
    for (size_t i = 0; i < len && i < 4096; i++)
        cuts[i] = i + 1;
    run_parser(role, buf, cuts, len, heads, eof, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fprintf(stderr, "bytewise: got '%s' want '%s'\n", got, want);
    CHECK(strcmp(got, want) == 0);
    int bad = 0;
    for (size_t i = 0; i <= len; i++) {
        cuts[0] = i;
        run_parser(role, buf, cuts, 1, heads, eof, got, sizeof(got));
        bad += strcmp(got, want) != 0;
    }
    CHECK(bad == 0);
}

static void test_http_requests(void)
{
    /* keep-alive GET, then a POST with a Content-Length body, then a chunked PUT, pipelined */
    const char *req = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                      "POST /invoice HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world"
                      "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5\r\nabcde\r\n3;ext=1\r\nfgh\r\n0\r\nX-Trailer: 1\r\n\r\n"
                      "\r\nHEAD /d HTTP/1.0\r\n\r\n";
    check_splits(HTTP_ROLE_REQUEST, req, NULL, false, "BH0 EBH0 EBH0 EBh0 E");
    /* a long request line: the version is beyond the kept bytes but the framing holds */
    char longreq[400];
    snprintf(longreq, sizeof(longreq), "GET /%0300d HTTP/1.1\r\nHost: y\r\n\r\n", 7);
    check_splits(HTTP_ROLE_REQUEST, longreq, NULL, false, "BH0 E");
}

static void test_http_responses(void)
{
    static const bool heads[] = {false, false, true, false, false, false};
    /* 200 with Content-Length, 503 chunked, a HEAD answer (no body despite its length),
       100 Continue then 204, then a body delimited by the close of the connection */
    const char *resp =
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcde"
        "HTTP/1.1 503 Service Unavailable\r\ntransfer-encoding: gzip, chunked\r\n\r\n"
        "a\r\n0123456789\r\n0\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"
        "HTTP/1.0 200 OK\r\nServer: z\r\n\r\nuntil the end";
    check_splits(HTTP_ROLE_RESPONSE, resp, heads, true,
                 "BH200 EBH503 EBH200 EBH100 IBH204 EBH200 F");
    /* 304 has no body; Content-Length: 0 ends at the header */
    check_splits(HTTP_ROLE_RESPONSE,
                 "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"
                 "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
                 NULL, false, "BH304 EBH404 E");
    /* a Transfer-Encoding line longer than what the parser keeps still ends in chunked */
    check_splits(HTTP_ROLE_RESPONSE,
                 "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, deflate, compress, x-custom-coding, "
                 "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
                 NULL, false, "BH200 EBH204 E");
    /* ... and one that ends in another coding is not chunked (the body runs to the close) */
    check_splits(HTTP_ROLE_RESPONSE,
                 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip, deflate, x-custom-coding, "
                 "br\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                 NULL, true, "BH200 F");
    /* 101 switches protocols: what follows is not HTTP and raises no more events */
    check_splits(HTTP_ROLE_RESPONSE,
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
                 NULL, false, "BH101 U");
}

static void test_http_malformed(void)
{
    char got[64];
    /* not HTTP: an SSH banner as a response, TLS bytes as a request, a bad length */
    run_parser(HTTP_ROLE_RESPONSE, "SSH-2.0-OpenSSH_9.2\r\n", NULL, 0, NULL, false, got,
               sizeof(got));
    CHECK(strcmp(got, "BX") == 0);
    run_parser(HTTP_ROLE_REQUEST, "\x16\x03\x01\x02\x01\x01\x01\x01\xfc\x03\x03\r\n", NULL, 0, NULL,
               false, got, sizeof(got));
    CHECK(strcmp(got, "BX") == 0);
    run_parser(HTTP_ROLE_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n", NULL, 0, NULL,
               false, got, sizeof(got));
    CHECK(strcmp(got, "BX") == 0);
    run_parser(HTTP_ROLE_RESPONSE,
               "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", NULL, 0, NULL,
               false, got, sizeof(got));
    CHECK(strcmp(got, "BX") == 0);
    run_parser(HTTP_ROLE_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
               NULL, 0, NULL, false, got, sizeof(got));
    CHECK(strcmp(got, "BH200 X") == 0);
    /* a header section that never ends is cut off at the cap, not buffered */
    static char big[HTTP_HEADER_CAP + 200];
    memcpy(big, "HTTP/1.1 200 OK\r\n", 17);
    for (size_t i = 17; i < sizeof(big) - 1; i++)
        big[i] = (i % 50 == 0) ? '\n' : 'a';
    big[sizeof(big) - 1] = 0;
    run_parser(HTTP_ROLE_RESPONSE, big, NULL, 0, NULL, false, got, sizeof(got));
    CHECK(strcmp(got, "BX") == 0);
    CHECK(http_looks_like_request((const uint8_t *)"GET / HTTP/1.1", 14));
    CHECK(http_looks_like_request((const uint8_t *)"OPTI", 4));
    CHECK(!http_looks_like_request((const uint8_t *)"\x16\x03\x01", 3));
    CHECK(!http_looks_like_request((const uint8_t *)" GET", 4));
}

/* Mutated messages cut at random points: the framer never reads past its input, never stalls
   (every call consumes bytes or reports an event) and stays failed once it failed. */
static void test_http_random(void)
{
    static const char *const seeds[] = {
        "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n0\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nbody until close",
    };
    uint8_t buf[256];
    int stalls = 0, overruns = 0;
    for (int iter = 0; iter < 20000; iter++) {
        const char *seed = seeds[iter % 3];
        size_t len = strlen(seed);
        memcpy(buf, seed, len);
        int nmut = (int)(rng_unit() * 4);
        for (int m = 0; m < nmut; m++)
            buf[(size_t)(rng_unit() * (double)len)] = (uint8_t)(rng_unit() * 256);
        struct http_parser hp;
        http_init(&hp, iter % 3 == 0 ? HTTP_ROLE_REQUEST : HTTP_ROLE_RESPONSE);
        size_t pos = 0;
        while (pos < len) {
            size_t chunk = 1 + (size_t)(rng_unit() * (double)(len - pos));
            size_t end = pos + chunk, at = pos;
            int guard = 0;
            while (at <= end && guard++ < 1000) {
                struct http_msg msg;
                int n = http_parse(&hp, buf + at, end - at, &msg);
                if (n < 0) {
                    CHECK(http_done(&hp));
                    at = end;
                    break;
                }
                if ((size_t)n > end - at)
                    overruns++;
                at += (size_t)n;
                if (msg.ev == HTTP_EV_NONE)
                    break;
            }
            if (guard >= 1000)
                stalls++;
            if (at != end && !http_done(&hp))
                stalls++;
            pos = end;
        }
    }
    CHECK(stalls == 0);
    CHECK(overruns == 0);
}

/* Bytes missing inside a body of known length are stepped over; elsewhere framing is lost. */
static void test_http_skip(void)
{
    struct http_parser hp;
    struct http_msg m;
    const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
    http_init(&hp, HTTP_ROLE_RESPONSE);
    CHECK(!http_skip(&hp, 1, &m)); /* between messages: framing lost */
    int n = http_parse(&hp, (const uint8_t *)h, strlen(h), &m);
    CHECK(n == 0 && m.ev == HTTP_EV_BEGIN);
    n = http_parse(&hp, (const uint8_t *)h, strlen(h), &m);
    CHECK(m.ev == HTTP_EV_HEADERS && m.status == 200);
    int n2 = http_parse(&hp, (const uint8_t *)h + n, strlen(h) - (size_t)n, &m);
    CHECK(m.ev == HTTP_EV_NONE && (size_t)(n + n2) == strlen(h)); /* 10 of 100 body bytes */
    CHECK(!http_skip(&hp, 91, &m));                               /* past the body's end */
    CHECK(http_skip(&hp, 80, &m) && m.ev == HTTP_EV_NONE);        /* 10 left */
    n = http_parse(&hp, (const uint8_t *)"abcdefghijHTTP/1.1", 18, &m);
    CHECK(n == 10 && m.ev == HTTP_EV_END);
    /* missing bytes that end the body end the message */
    http_init(&hp, HTTP_ROLE_RESPONSE);
    do
        n = http_parse(&hp, (const uint8_t *)h, strlen(h) - 10, &m);
    while (m.ev != HTTP_EV_NONE && n == 0);
    CHECK(http_skip(&hp, 100, &m) && m.ev == HTTP_EV_END && m.status == 200);
    CHECK(http_idle(&hp));
    /* chunk data: inside a chunk yes, past its end no */
    const char *c = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\nxy";
    http_init(&hp, HTTP_ROLE_RESPONSE);
    size_t at = 0;
    do {
        n = http_parse(&hp, (const uint8_t *)c + at, strlen(c) - at, &m);
        CHECK(n >= 0);
        at += (size_t)(n > 0 ? n : 0);
    } while (m.ev != HTTP_EV_NONE && n >= 0);
    CHECK(http_skip(&hp, 60, &m));
    CHECK(!http_skip(&hp, 3, &m));
    CHECK(http_skip(&hp, 1, &m) && m.ev == HTTP_EV_NONE);
    n = http_parse(&hp, (const uint8_t *)"z\r\n0\r\n\r\n", 8, &m);
    CHECK(n == 8 && m.ev == HTTP_EV_END);
    /* a body running to the close takes any gap */
    http_init(&hp, HTTP_ROLE_RESPONSE);
    const char *e = "HTTP/1.0 200 OK\r\n\r\nstart";
    at = 0;
    do {
        n = http_parse(&hp, (const uint8_t *)e + at, strlen(e) - at, &m);
        at += (size_t)(n > 0 ? n : 0);
    } while (m.ev != HTTP_EV_NONE && n >= 0);
    CHECK(http_skip(&hp, 1000000, &m));
    CHECK(http_eof(&hp, &m) && m.ev == HTTP_EV_END);
}

/*
 * Run a request through http_parse_meta in two pieces cut at `cut` (the meta zeroed at each
 * BEGIN, as det_health does); returns the meta of request number `which` (0-based) in *out
 * and the END events' body byte counts in bodies[].
 */
static void meta_parse(const char *buf, size_t len, size_t cut, int which, struct http_meta *out,
                       uint64_t *bodies, int *nbodies)
{
    struct http_parser hp;
    struct http_meta m;
    struct http_msg msg;
    size_t pos = 0;
    int nreq = -1;
    *nbodies = 0;
    memset(&m, 0, sizeof(m));
    memset(out, 0, sizeof(*out));
    http_init(&hp, HTTP_ROLE_REQUEST);
    for (int piece = 0; piece < 2; piece++) {
        size_t end = piece == 0 ? cut : len;
        while (pos <= end) {
            int n = http_parse_meta(&hp, &m, (const uint8_t *)buf + pos, end - pos, &msg);
            CHECK(n >= 0);
            if (n < 0)
                return;
            pos += (size_t)n;
            if (msg.ev == HTTP_EV_NONE)
                break;
            if (msg.ev == HTTP_EV_BEGIN) {
                if (nreq == which)
                    *out = m;
                memset(&m, 0, sizeof(m));
                nreq++;
            } else if (msg.ev == HTTP_EV_END) {
                bodies[(*nbodies)++] = msg.body_bytes;
            }
        }
    }
    if (nreq == which)
        *out = m;
}

/* The parser copies method, request-target and the first Host value whatever the cuts. */
static void test_http_meta(void)
{
    static const char req[] = "POST /pay?card=4111&x=\"y\" HTTP/1.1\r\nUser-Agent: t\r\n"
                              "hOsT:  \tshop.example:8443 \t\r\nHost: second\r\n"
                              "Content-Length: 5\r\n\r\nhello"
                              "GET /c HTTP/1.1\r\nHostile: no\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
    size_t len = strlen(req);
    int bad = 0;
    for (size_t cut = 0; cut <= len; cut++) {
        struct http_meta a, b;
        uint64_t bodies[4];
        int nb;
        meta_parse(req, len, cut, 0, &a, bodies, &nb);
        bad += strcmp(a.method, "POST") != 0 || strcmp(a.target, "/pay?card=4111&x=\"y\"") != 0 ||
               strcmp(a.host, "shop.example:8443") != 0 || !a.has_host || a.method_cut ||
               a.target_cut || a.host_cut || nb != 2 || bodies[0] != 5 || bodies[1] != 7;
        meta_parse(req, len, cut, 1, &b, bodies, &nb);
        bad += strcmp(b.method, "GET") != 0 || strcmp(b.target, "/c") != 0 || b.has_host ||
               b.host[0] != 0;
    }
    CHECK(bad == 0);
    /* over the kept lengths: cut and flagged, the rest of the framing holds */
    static char big[1200];
    char path[400], host[300];
    memset(path, 'p', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = 0;
    memset(host, 'h', sizeof(host) - 1);
    host[sizeof(host) - 1] = 0;
    snprintf(big, sizeof(big), "VERYLONGMETHODNAMEXYZ %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host);
    struct http_meta c;
    uint64_t bodies[4];
    int nb;
    meta_parse(big, strlen(big), 10, 0, &c, bodies, &nb);
    CHECK(c.method_cut && c.target_cut && c.host_cut && nb == 1);
    CHECK_EQ_U64(strlen(c.method), HTTP_METHOD_MAX - 1);
    CHECK_EQ_U64(strlen(c.target), HTTP_TARGET_MAX - 1);
    CHECK_EQ_U64(strlen(c.host), HTTP_HOST_MAX - 1);
    CHECK(memcmp(c.target, path, HTTP_TARGET_MAX - 1) == 0);
}

static void test_alert_hysteresis(void)
{
    struct alert_cfg c = {.threshold = 5.0, .clear_ratio = 0.8, .open_after = 1, .clear_after = 3};
    struct alert_state a = {0};
    CHECK(alert_step(&a, &c, 1.0, false, 10) == ALERT_SAME);
    CHECK(alert_step(&a, &c, 5.0, false, 20) == ALERT_SAME); /* not above: equal */
    CHECK(alert_step(&a, &c, 6.0, false, 30) == ALERT_OPENED);
    CHECK(a.open && a.opened_ns == 30);
    /* inside the hysteresis band (4 < v <= 5) never counts as clear */
    CHECK(alert_step(&a, &c, 4.5, false, 40) == ALERT_SAME);
    CHECK(alert_step(&a, &c, 4.9, false, 50) == ALERT_SAME);
    CHECK(alert_step(&a, &c, 4.2, false, 60) == ALERT_SAME);
    CHECK(alert_step(&a, &c, 4.1, false, 70) == ALERT_SAME);
    CHECK(a.open);
    /* two clear intervals, then a bad one: the hold time starts again */
    CHECK(alert_step(&a, &c, 1.0, false, 80) == ALERT_SAME);
    CHECK(alert_step(&a, &c, 1.0, false, 90) == ALERT_SAME);
    CHECK(alert_step(&a, &c, 7.0, false, 100) == ALERT_SAME);
    CHECK(alert_step(&a, &c, 1.0, false, 110) == ALERT_SAME);
    CHECK(alert_step(&a, &c, 1.0, false, 120) == ALERT_SAME);
    /* no data while requests are pending does not clear; an idle server does */
    CHECK(alert_step(&a, &c, NAN, false, 130) == ALERT_SAME);
    CHECK(a.open);
    CHECK(alert_step(&a, &c, NAN, true, 140) == ALERT_CLOSED);
    CHECK(!a.open);
    /* open_after = 2 needs two bad intervals in a row */
    c.open_after = 2;
    CHECK(alert_step(&a, &c, 9.0, false, 150) == ALERT_SAME);
    CHECK(alert_step(&a, &c, 1.0, false, 160) == ALERT_SAME);
    CHECK(alert_step(&a, &c, 9.0, false, 170) == ALERT_SAME);
    CHECK(alert_step(&a, &c, 9.0, false, 180) == ALERT_OPENED);
    /* flapping values around the threshold cause exactly one open and no close */
    struct alert_state b = {0};
    int opens = 0, closes = 0;
    c.open_after = 1;
    for (int i = 0; i < 100; i++) {
        enum alert_change ch = alert_step(&b, &c, i % 2 ? 5.5 : 4.5, false, (uint64_t)i);
        opens += ch == ALERT_OPENED;
        closes += ch == ALERT_CLOSED;
    }
    CHECK(opens == 1 && closes == 0);
}

/* ---- the health detector through the engine: synthetic HTTP connections ---- */

#define NS 1000000000ull
#define MAX_ROWS 64
#define MAX_FINDINGS 64

/* What the sinks received. */
static struct health_row rows[MAX_ROWS];
static int nrows;
static struct finding found[MAX_FINDINGS];
static int nfound;
static uint64_t frame_no;

static int nrows_all;    /* every row, also those beyond MAX_ROWS */
static int nrows_port80; /* rows of port 80 */

static void cap_health(void *ctx, const struct health_row *h)
{
    (void)ctx;
    nrows_all++;
    nrows_port80 += h->server.port == 80;
    if (nrows < MAX_ROWS)
        rows[nrows++] = *h;
}

static void cap_finding(void *ctx, const struct finding *f)
{
    (void)ctx;
    if (nfound < MAX_FINDINGS &&
        (f->kind == FK_SLOW_RESPONSE || f->kind == FK_HEALTH_ALERT || f->kind == FK_HTTP_5XX))
        found[nfound++] = *f;
}

#define MAX_HTTP 64
static struct http_record http_recs[MAX_HTTP]; /* the http records received */
static int nhttp;
static int nhttp_reclaimed;              /* records in state reclaimed (all of them) */
static struct http_record reclaimed_rec; /* the first of them */
#define REAL_PORT 40000                  /* test_records_pool's answered connection */
static struct http_record real_recs[4];  /* the records of client port REAL_PORT */
static int nreal;

/* The harness's sink: keeps health rows and findings. */
static void cap_put(void *ctx, const struct out_rec *r)
{
    if (r->type == OUT_HEALTH)
        cap_health(ctx, &r->u.health);
    else if (r->type == OUT_FINDING)
        cap_finding(ctx, &r->u.finding);
    if (r->type == OUT_HTTP && r->u.http.state == HS_RECLAIMED && !nhttp_reclaimed++)
        reclaimed_rec = r->u.http;
    if (r->type == OUT_HTTP && r->u.http.client.port == REAL_PORT && nreal < 4)
        real_recs[nreal++] = r->u.http;
    if (r->type == OUT_HTTP && nhttp < MAX_HTTP)
        http_recs[nhttp++] = r->u.http;
}

static const struct sink_ops cap_ops = {.name = "test", .put = cap_put};

/* One segment of len payload bytes between client port cport and the server 10.9.9.2:sport. */
static void tx_bin(struct engine *e, uint64_t ts, bool c2s, uint16_t cport, uint16_t sport,
                   uint8_t flags, uint32_t seq, uint32_t ack, const uint8_t *data, size_t len)
{
    struct pkt p;
    memset(&p, 0, sizeof(p));
    struct endpoint cl, sv;
    CHECK(pkt_endpoint_parse("10.9.9.1", &cl) == 0);
    CHECK(pkt_endpoint_parse("10.9.9.2", &sv) == 0);
    cl.port = cport;
    sv.port = sport;
    p.ts_ns = ts;
    p.frame = ++frame_no;
    p.src = c2s ? cl : sv;
    p.dst = c2s ? sv : cl;
    p.ttl = 64;
    p.ip_id = (uint16_t)frame_no;
    p.seq = seq;
    p.ack = ack;
    p.win = 65535;
    p.flags = flags;
    p.tcp_hlen = 20;
    p.tcp_len = data ? (uint32_t)len : 0;
    p.payload = data;
    p.payload_caplen = p.tcp_len;
    p.tcp_csum = (uint16_t)(frame_no * 7);
    p.caplen = p.wirelen = 54 + p.tcp_len;
    eng_packet(e, &p);
}

/* One segment between client port cport and the server 10.9.9.2:80. */
static void tx(struct engine *e, uint64_t ts, bool c2s, uint16_t cport, uint8_t flags, uint32_t seq,
               uint32_t ack, const char *data)
{
    tx_bin(e, ts, c2s, cport, 80, flags, seq, ack, (const uint8_t *)data, data ? strlen(data) : 0);
}

/* A connection with one GET answered after delay_ns with the given status line. */
static void http_conn(struct engine *e, uint64_t t, uint16_t cport, uint64_t delay_ns,
                      const char *status)
{
    static const char req[] = "GET /invoice HTTP/1.1\r\nHost: x\r\n\r\n";
    char resp[128];
    snprintf(resp, sizeof(resp), "HTTP/1.1 %s\r\nContent-Length: 2\r\n\r\nok", status);
    uint32_t c = 1000, s = 5000, lq = (uint32_t)strlen(req), lr = (uint32_t)strlen(resp);
    tx(e, t, true, cport, TCP_SYN, c, 0, NULL);
    tx(e, t + 100000, false, cport, TCP_SYN | TCP_ACK, s, c + 1, NULL);
    tx(e, t + 200000, true, cport, TCP_ACK, c + 1, s + 1, NULL);
    tx(e, t + 300000, true, cport, TCP_PSH | TCP_ACK, c + 1, s + 1, req);
    tx(e, t + 400000, false, cport, TCP_ACK, s + 1, c + 1 + lq, NULL);
    uint64_t r = t + 300000 + delay_ns;
    tx(e, r, false, cport, TCP_PSH | TCP_ACK, s + 1, c + 1 + lq, resp);
    tx(e, r + 100000, true, cport, TCP_ACK | TCP_FIN, c + 1 + lq, s + 1 + lr, NULL);
    tx(e, r + 200000, false, cport, TCP_ACK | TCP_FIN, s + 1 + lr, c + 2 + lq, NULL);
    tx(e, r + 300000, true, cport, TCP_ACK, c + 2 + lq, s + 2 + lr, NULL);
}

static const struct finding *alert_finding(enum alert_rule rule, bool open, int *count)
{
    const struct finding *first = NULL;
    *count = 0;
    for (int i = 0; i < nfound; i++)
        if (found[i].kind == FK_HEALTH_ALERT && found[i].fx.alert.rule == rule &&
            found[i].fx.alert.open == open) {
            if (!first)
                first = &found[i];
            ++*count;
        }
    return first;
}

static void test_detector_http(void)
{
    struct eng_config cfg;
    eng_config_default(&cfg);
    cfg.max_flows = 1024;
    struct engine *e = eng_new(&cfg, &cap_ops, NULL);
    CHECK(e != NULL);
    if (!e)
        return;
    nrows = nfound = 0;
    /* 1000 s (interval 100): 4 fast answers; 1010: one answer after 6 s among 3 fast ones,
       and a 503; 1020..1050: fast answers only (the alerts clear after 3 intervals) */
    uint64_t t0 = 1000 * NS;
    uint16_t port = 40000;
    for (int i = 0; i < 4; i++)
        http_conn(e, t0 + (uint64_t)i * 2 * NS, port++, 2000000, "200 OK");
    http_conn(e, t0 + 10 * NS, port++, 6 * NS, "200 OK");
    for (int i = 0; i < 3; i++)
        http_conn(e, t0 + 10 * NS + (uint64_t)(i + 1) * NS, port++, 1000000, "200 OK");
    http_conn(e, t0 + 14 * NS, port++, 1000000, "503 Service Unavailable");
    for (int k = 2; k < 6; k++)
        for (int i = 0; i < 3; i++)
            http_conn(e, t0 + (uint64_t)k * 10 * NS + (uint64_t)i * 3 * NS, port++, 3000000,
                      "200 OK");
    struct run_summary sum;
    memset(&sum, 0, sizeof(sum));
    eng_finish(e, &sum);
    eng_free(e);

    CHECK(nrows == 6);
    uint64_t req = 0, att = 0, est = 0, x5 = 0;
    for (int i = 0; i < nrows; i++) {
        req += rows[i].http_requests;
        att += rows[i].attempts;
        est += rows[i].established;
        x5 += rows[i].http_5xx;
        CHECK(rows[i].len_ns == 10 * NS);
        CHECK(rows[i].start_ns == t0 + (uint64_t)i * 10 * NS);
        CHECK(rows[i].server.port == 80);
    }
    CHECK_EQ_U64(req, 21);
    CHECK_EQ_U64(att, 21);
    CHECK_EQ_U64(est, 21);
    CHECK_EQ_U64(x5, 1);
    if (nrows < 6)
        return;
    /* interval 0: 4 answers of 2 ms; the handshake RTT is 200 us */
    CHECK_EQ_U64(rows[0].resp_n, 4);
    CHECK(fabs(rows[0].resp_p99 - 0.002) <= 0.002 * SKETCH_ALPHA);
    CHECK(fabs(rows[0].hs_rtt_p50 - 0.0002) <= 0.0002 * SKETCH_ALPHA);
    CHECK(rows[0].error_rate == 0 && rows[0].open_alerts == 0);
    /* interval 1: the slow answer arrives at 1016 s, so it is in this interval with 4 others;
       p99 (nearest rank) is the slow one; error rate 1/5 */
    CHECK_EQ_U64(rows[1].resp_n, 5);
    CHECK(fabs(rows[1].resp_p99 - 6.0) <= 6.0 * SKETCH_ALPHA);
    CHECK(fabs(rows[1].resp_p50 - 0.001) <= 0.001 * SKETCH_ALPHA);
    CHECK_EQ_U64(rows[1].slow_responses, 1);
    CHECK(fabs(rows[1].error_rate - 0.2) < 1e-9);
    CHECK(rows[1].open_alerts == 3); /* resp_p99 and error_rate */
    CHECK(rows[2].open_alerts == 3 && rows[3].open_alerts == 3);
    CHECK(rows[4].open_alerts == 0); /* cleared after 3 clear intervals (2, 3, 4) */
    /* one slow_response finding, with its timing */
    int nslow = 0;
    for (int i = 0; i < nfound; i++)
        if (found[i].kind == FK_SLOW_RESPONSE) {
            nslow++;
            CHECK(fabs(found[i].fx.slow.response_s - 6) < 5e-6);
            CHECK(found[i].fx.slow.status == 200);
            CHECK(found[i].nframes == 2);
        }
    CHECK(nslow == 1);
    int n;
    const struct finding *f = alert_finding(AR_RESP_P99, true, &n);
    CHECK(n == 1 && f && f->ts_ns == t0 + 20 * NS && f->sev == SEV_ERROR && f->flow_id == 0);
    f = alert_finding(AR_RESP_P99, false, &n);
    CHECK(n == 1 && f && f->ts_ns == t0 + 50 * NS && f->sev == SEV_INFO);
    f = alert_finding(AR_ERROR_RATE, true, &n);
    CHECK(n == 1 && f && fabs(f->fx.alert.value - 0.2) < 1e-9 && f->fx.alert.threshold == 0.05);
    alert_finding(AR_ERROR_RATE, false, &n);
    CHECK(n == 1);
}

/* A port scan fills the server table: busy servers are kept, idle ones give way, and single
   refused SYNs raise no error-rate alert. */
static void test_detector_scan(void)
{
    struct eng_config cfg;
    eng_config_default(&cfg);
    cfg.max_flows = 4096;
    struct engine *e = eng_new(&cfg, &cap_ops, NULL);
    CHECK(e != NULL);
    if (!e)
        return;
    nrows = nfound = nrows_all = nrows_port80 = 0;
    uint64_t t0 = 2000 * NS;
    for (int i = 0; i < 1100; i++) {
        uint64_t t = t0 + (uint64_t)i * 1000000; /* 1.1 s of SYNs, each refused */
        tx_bin(e, t, true, 50000, (uint16_t)(1000 + i), TCP_SYN, 7000, 0, NULL, 0);
        tx_bin(e, t + 10000, false, 50000, (uint16_t)(1000 + i), TCP_RST | TCP_ACK, 0, 7001, NULL,
               0);
    }
    /* the service, after the scan's interval closed: it must be tracked */
    http_conn(e, t0 + 20 * NS, 40000, 2000000, "200 OK");
    struct run_summary sum;
    memset(&sum, 0, sizeof(sum));
    eng_finish(e, &sum);
    eng_free(e);
    CHECK(nrows_all == 1024 + 1); /* the table's 1024 busy scanned ports, then the service */
    CHECK(nrows_port80 == 1);
    int alerts = 0;
    for (int i = 0; i < nfound; i++)
        alerts += found[i].kind == FK_HEALTH_ALERT;
    CHECK(alerts == 0);
}

/* Append a TLS record header (type, TLS 1.2 version, len) and len filler bytes to buf. */
static size_t tls_rec(uint8_t *buf, size_t at, uint8_t type, uint16_t len)
{
    buf[at] = type;
    buf[at + 1] = 3;
    buf[at + 2] = 3;
    buf[at + 3] = (uint8_t)(len >> 8);
    buf[at + 4] = (uint8_t)len;
    memset(buf + at + 5, 0xab, len);
    return at + 5 + len;
}

/*
 * A TLS connection to :443 timed by turn-taking: ClientHello / server flight / client
 * Finished (and, for TLS 1.3, session tickets right after it) / request / answer after
 * delay_ns. Returns nothing; findings and rows go to the capture sinks.
 */
static void tls_conn(struct engine *e, uint64_t t, uint16_t cport, bool tls13, uint64_t delay_ns)
{
    static uint8_t b[6000];
    uint32_t c = 100, s = 900;
    size_t n;
    tx_bin(e, t, true, cport, 443, TCP_SYN, c, 0, NULL, 0);
    tx_bin(e, t + 100000, false, cport, 443, TCP_SYN | TCP_ACK, s, c + 1, NULL, 0);
    tx_bin(e, t + 200000, true, cport, 443, TCP_ACK, c + 1, s + 1, NULL, 0);
    c++, s++;
    n = tls_rec(b, 0, 22, 200); /* ClientHello */
    tx_bin(e, t + 300000, true, cport, 443, TCP_PSH | TCP_ACK, c, s, b, n);
    c += (uint32_t)n;
    n = tls_rec(b, 0, 22, 90); /* ServerHello, then encrypted (1.3) or clear (1.2) flight */
    n = tls_rec(b, n, 20, 1);
    n = tls_rec(b, n, tls13 ? 23 : 22, 600);
    tx_bin(e, t + 900000, false, cport, 443, TCP_PSH | TCP_ACK, s, c, b, n);
    s += (uint32_t)n;
    n = tls_rec(b, 0, 20, 1); /* client CCS + Finished (type 23 in 1.3, 22 in 1.2) */
    n = tls_rec(b, n, tls13 ? 23 : 22, 53);
    tx_bin(e, t + 1500000, true, cport, 443, TCP_PSH | TCP_ACK, c, s, b, n);
    c += (uint32_t)n;
    if (!tls13) { /* the server's CCS + Finished */
        n = tls_rec(b, 0, 20, 1);
        n = tls_rec(b, n, 22, 40);
        tx_bin(e, t + 1800000, false, cport, 443, TCP_PSH | TCP_ACK, s, c, b, n);
        s += (uint32_t)n;
    }
    n = tls_rec(b, 0, 23, 80); /* the request */
    uint64_t req = t + 2000000;
    tx_bin(e, req, true, cport, 443, TCP_PSH | TCP_ACK, c, s, b, n);
    c += (uint32_t)n;
    if (tls13) { /* two NewSessionTickets, sent on the Finished, in their own segments */
        for (int k = 0; k < 2; k++) {
            n = tls_rec(b, 0, 23, 250);
            tx_bin(e, t + 2500000 + (uint64_t)k * 10000, false, cport, 443, TCP_PSH | TCP_ACK, s, c,
                   b, n);
            s += (uint32_t)n;
        }
    }
    n = tls_rec(b, 0, 23, 4000); /* the answer */
    tx_bin(e, req + delay_ns, false, cport, 443, TCP_PSH | TCP_ACK, s, c, b, n);
    s += (uint32_t)n;
    tx_bin(e, req + delay_ns + 100000, true, cport, 443, TCP_ACK | TCP_FIN, c, s, NULL, 0);
    tx_bin(e, req + delay_ns + 200000, false, cport, 443, TCP_ACK | TCP_FIN, s, c + 1, NULL, 0);
    tx_bin(e, req + delay_ns + 300000, true, cport, 443, TCP_ACK, c + 1, s + 1, NULL, 0);
}

static void test_detector_tls(void)
{
    struct eng_config cfg;
    eng_config_default(&cfg);
    cfg.max_flows = 1024;
    struct engine *e = eng_new(&cfg, &cap_ops, NULL);
    CHECK(e != NULL);
    if (!e)
        return;
    nrows = nfound = nrows_all = nrows_port80 = 0;
    uint64_t t0 = 3000 * NS;
    tls_conn(e, t0, 41000, false, 7 * NS);           /* TLS 1.2, answered after 7 s */
    tls_conn(e, t0 + 20 * NS, 41001, true, 6 * NS);  /* TLS 1.3, tickets, answer after 6 s */
    tls_conn(e, t0 + 40 * NS, 41002, true, 4000000); /* TLS 1.3, answer after 4 ms */
    struct run_summary sum;
    memset(&sum, 0, sizeof(sum));
    eng_finish(e, &sum);
    eng_free(e);
    /* the handshake is not a request: one sample per connection, timed from the request */
    double want[3] = {7, 6, 0.004};
    int k = 0;
    for (int i = 0; i < nrows; i++) {
        if (rows[i].resp_n == 0)
            continue;
        CHECK_EQ_U64(rows[i].resp_n, 1);
        if (k < 3)
            CHECK(fabs(rows[i].resp_p50 - want[k]) <= want[k] * SKETCH_ALPHA);
        k++;
    }
    CHECK(k == 3);
    int nslow = 0;
    for (int i = 0; i < nfound; i++)
        if (found[i].kind == FK_SLOW_RESPONSE) {
            nslow++;
            CHECK(strcmp(found[i].fx.slow.protocol, "TLS") == 0);
            CHECK(found[i].fx.slow.status == 0);
        }
    CHECK(nslow == 2);
}

/* One keep-alive connection with n GETs, each answered after delay_ns. */
static void http_keepalive(struct engine *e, uint64_t t, uint16_t cport, int n, uint64_t delay_ns)
{
    static const char req[] = "GET /batch HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    uint32_t c = 1000, s = 5000, lq = (uint32_t)strlen(req), lr = (uint32_t)strlen(resp);
    tx(e, t, true, cport, TCP_SYN, c, 0, NULL);
    tx(e, t + 100000, false, cport, TCP_SYN | TCP_ACK, s, c + 1, NULL);
    tx(e, t + 200000, true, cport, TCP_ACK, c + 1, s + 1, NULL);
    c++, s++;
    for (int i = 0; i < n; i++) {
        t += 300000;
        tx(e, t, true, cport, TCP_PSH | TCP_ACK, c, s, req);
        c += lq;
        t += delay_ns;
        tx(e, t, false, cport, TCP_PSH | TCP_ACK, s, c, resp);
        s += lr;
    }
    tx(e, t + 100000, true, cport, TCP_ACK | TCP_FIN, c, s, NULL);
    tx(e, t + 200000, false, cport, TCP_ACK | TCP_FIN, s, c + 1, NULL);
    tx(e, t + 300000, true, cport, TCP_ACK, c + 1, s + 1, NULL);
}

/* Six slow answers on one connection: four findings (the last says so), six counted. */
static void test_detector_slow_cap(void)
{
    struct eng_config cfg;
    eng_config_default(&cfg);
    cfg.max_flows = 1024;
    cfg.health_interval_ns = 100 * NS;
    struct engine *e = eng_new(&cfg, &cap_ops, NULL);
    CHECK(e != NULL);
    if (!e)
        return;
    nrows = nfound = nrows_all = nrows_port80 = 0;
    http_keepalive(e, 5000 * NS, 42000, 6, 5500000000ull);
    struct run_summary sum;
    memset(&sum, 0, sizeof(sum));
    eng_finish(e, &sum);
    eng_free(e);
    int nslow = 0;
    uint64_t counted = 0, reqs = 0;
    for (int i = 0; i < nfound; i++)
        nslow += found[i].kind == FK_SLOW_RESPONSE;
    for (int i = 0; i < nrows; i++) {
        counted += rows[i].slow_responses;
        reqs += rows[i].http_requests;
        CHECK(rows[i].len_ns == 100 * NS); /* --interval from the configuration */
    }
    CHECK(nslow == 4);
    CHECK_EQ_U64(counted, 6);
    CHECK_EQ_U64(reqs, 6);
    const struct finding *last = NULL;
    for (int i = 0; i < nfound; i++)
        if (found[i].kind == FK_SLOW_RESPONSE)
            last = &found[i];
    CHECK(last && strstr(last->detail, "only counted") != NULL);
}

/* A keep-alive connection whose first response body lost a segment in the capture: the body
   length steps over it and the second request is still framed as HTTP. */
static void test_detector_gap(void)
{
    struct eng_config cfg;
    eng_config_default(&cfg);
    cfg.max_flows = 1024;
    struct engine *e = eng_new(&cfg, &cap_ops, NULL);
    CHECK(e != NULL);
    if (!e)
        return;
    nrows = nfound = nrows_all = nrows_port80 = 0;
    static const char req[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char hdr[] = "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n";
    static char body[1000];
    memset(body, 'b', sizeof(body) - 1);
    uint32_t c = 1001, sv = 5001, lq = (uint32_t)strlen(req), lh = (uint32_t)strlen(hdr);
    uint64_t t = 6000 * NS;
    uint16_t cp = 43000;
    tx(e, t, true, cp, TCP_SYN, c - 1, 0, NULL);
    tx(e, t + 100000, false, cp, TCP_SYN | TCP_ACK, sv - 1, c, NULL);
    tx(e, t + 200000, true, cp, TCP_ACK, c, sv, NULL);
    tx(e, t + 300000, true, cp, TCP_PSH | TCP_ACK, c, sv, req);
    c += lq;
    tx(e, t + 800000, false, cp, TCP_ACK, sv, c, hdr);
    sv += lh;
    tx(e, t + 900000, false, cp, TCP_ACK, sv, c, body); /* body 0..999 */
    sv += 999;
    sv += 999; /* body 999..1997 never captured */
    tx(e, t + 1100000, false, cp, TCP_ACK, sv, c, body);
    sv += 999;
    tx(e, t + 1200000, false, cp, TCP_PSH | TCP_ACK, sv, c, "bbb"); /* the body's last bytes */
    sv += 3;
    tx(e, t + 2000000, true, cp, TCP_PSH | TCP_ACK, c, sv, req); /* second request */
    c += lq;
    tx(e, t + 2000000 + 7 * NS, false, cp, TCP_PSH | TCP_ACK, sv, c,
       "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
    struct run_summary sum;
    memset(&sum, 0, sizeof(sum));
    eng_finish(e, &sum);
    eng_free(e);
    uint64_t reqs = 0, x5 = 0, resp = 0;
    for (int i = 0; i < nrows; i++) {
        reqs += rows[i].http_requests;
        x5 += rows[i].http_5xx;
        resp += rows[i].resp_n;
    }
    CHECK_EQ_U64(reqs, 2);
    CHECK_EQ_U64(x5, 1);
    CHECK_EQ_U64(resp, 2);
    int nslow = 0;
    for (int i = 0; i < nfound; i++)
        if (found[i].kind == FK_SLOW_RESPONSE) {
            nslow++;
            CHECK(strcmp(found[i].fx.slow.protocol, "HTTP") == 0);
            CHECK(found[i].fx.slow.status == 503);
        }
    CHECK(nslow == 1);
}

/* A whole response missing from the capture: the server side is framed afresh at the next
   response, so later statuses and times are still read as HTTP. */
static void test_detector_resync(void)
{
    struct eng_config cfg;
    eng_config_default(&cfg);
    cfg.max_flows = 1024;
    struct engine *e = eng_new(&cfg, &cap_ops, NULL);
    CHECK(e != NULL);
    if (!e)
        return;
    nrows = nfound = nrows_all = nrows_port80 = 0;
    static const char req[] = "GET /r HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    static const char bad[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
    uint32_t c = 1001, sv = 5001, lq = (uint32_t)strlen(req);
    uint64_t t = 7000 * NS;
    uint16_t cp = 44000;
    tx(e, t, true, cp, TCP_SYN, c - 1, 0, NULL);
    tx(e, t + 100000, false, cp, TCP_SYN | TCP_ACK, sv - 1, c, NULL);
    tx(e, t + 200000, true, cp, TCP_ACK, c, sv, NULL);
    tx(e, t + 300000, true, cp, TCP_PSH | TCP_ACK, c, sv, req);
    c += lq;
    sv += (uint32_t)strlen(ok); /* the first answer is never captured */
    tx(e, t + 1 * NS, true, cp, TCP_PSH | TCP_ACK, c, sv, req);
    c += lq;
    tx(e, t + 1 * NS + 2000000, false, cp, TCP_PSH | TCP_ACK, sv, c, bad);
    sv += (uint32_t)strlen(bad);
    tx(e, t + 2 * NS, true, cp, TCP_PSH | TCP_ACK, c, sv, req);
    c += lq;
    tx(e, t + 8 * NS, false, cp, TCP_PSH | TCP_ACK, sv, c, ok);
    struct run_summary sum;
    memset(&sum, 0, sizeof(sum));
    eng_finish(e, &sum);
    eng_free(e);
    uint64_t reqs = 0, x5 = 0, resp = 0;
    for (int i = 0; i < nrows; i++) {
        reqs += rows[i].http_requests;
        x5 += rows[i].http_5xx;
        resp += rows[i].resp_n;
    }
    CHECK_EQ_U64(reqs, 3);
    CHECK_EQ_U64(x5, 1);
    CHECK_EQ_U64(resp, 1); /* the 503 cannot be matched to its request after the gap */
    int nslow = 0;
    for (int i = 0; i < nfound; i++)
        if (found[i].kind == FK_SLOW_RESPONSE) {
            nslow++;
            CHECK(fabs(found[i].fx.slow.response_s - 6) < 5e-6);
            CHECK(found[i].fx.slow.status == 200);
        }
    CHECK(nslow == 1);
}

/* Reordering at the tap: a response's last bytes arrive before the rest; they are held, stepped
   over once the hole fills (they end the body), and the connection stays framed as HTTP. Then a
   hole that is never filled: the next message start shows it, and the body still ends. */
static void test_detector_reorder(void)
{
    struct eng_config cfg;
    eng_config_default(&cfg);
    cfg.max_flows = 1024;
    struct engine *e = eng_new(&cfg, &cap_ops, NULL);
    CHECK(e != NULL);
    if (!e)
        return;
    nrows = nfound = nrows_all = nrows_port80 = 0;
    static const char req[] = "GET /o HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    static const char bad[] = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
    uint32_t c = 1001, sv = 5001, lq = (uint32_t)strlen(req), lr = (uint32_t)strlen(resp);
    uint64_t t = 8000 * NS;
    uint16_t cp = 45000;
    tx(e, t, true, cp, TCP_SYN, c - 1, 0, NULL);
    tx(e, t + 100000, false, cp, TCP_SYN | TCP_ACK, sv - 1, c, NULL);
    tx(e, t + 200000, true, cp, TCP_ACK, c, sv, NULL);
    tx(e, t + 300000, true, cp, TCP_PSH | TCP_ACK, c, sv, req);
    c += lq;
    /* the answer: its last 4 bytes first, then the rest 1 ms later */
    tx(e, t + 6 * NS, false, cp, TCP_PSH | TCP_ACK, sv + lr - 4, c, "6789");
    char head[128];
    memcpy(head, resp, lr - 4);
    head[lr - 4] = 0;
    tx(e, t + 6 * NS + 1000000, false, cp, TCP_ACK, sv, c, head);
    sv += lr;
    tx(e, t + 7 * NS, true, cp, TCP_PSH | TCP_ACK, c, sv, req);
    c += lq;
    tx(e, t + 7 * NS + 2500000, false, cp, TCP_PSH | TCP_ACK, sv, c, bad);
    sv += (uint32_t)strlen(bad);
    /* a third answer whose middle 10 body bytes are never captured: its last 10 are held, and
       the fourth answer (a message start) shows the hole will not be filled */
    tx(e, t + 8 * NS, true, cp, TCP_PSH | TCP_ACK, c, sv, req);
    c += lq;
    static const char h3[] = "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\naaaaaaaaaa";
    tx(e, t + 8 * NS + 1000000, false, cp, TCP_ACK, sv, c, h3);
    sv += (uint32_t)strlen(h3);
    tx(e, t + 8 * NS + 1200000, false, cp, TCP_PSH | TCP_ACK, sv + 10, c, "cccccccccc");
    sv += 20;
    tx(e, t + 8 * NS + 5000000, true, cp, TCP_PSH | TCP_ACK, c, sv, req);
    c += lq;
    tx(e, t + 8 * NS + 7000000, false, cp, TCP_PSH | TCP_ACK, sv, c, bad);
    struct run_summary sum;
    memset(&sum, 0, sizeof(sum));
    eng_finish(e, &sum);
    eng_free(e);
    uint64_t reqs = 0, x5 = 0, resp_n = 0;
    double p99 = NAN;
    for (int i = 0; i < nrows; i++) {
        reqs += rows[i].http_requests;
        x5 += rows[i].http_5xx;
        resp_n += rows[i].resp_n;
        if (rows[i].resp_n)
            p99 = rows[i].resp_p99;
    }
    CHECK_EQ_U64(reqs, 4);
    CHECK_EQ_U64(x5, 2);
    CHECK_EQ_U64(resp_n, 4);
    /* the first answer began with the bytes that came 1 ms after its tail: 6.0007 s */
    CHECK(fabs(p99 - 6.0007) <= 6.0007 * SKETCH_ALPHA);
    int nslow = 0;
    for (int i = 0; i < nfound; i++)
        if (found[i].kind == FK_SLOW_RESPONSE) {
            nslow++;
            CHECK(fabs(found[i].fx.slow.response_s - 6.0007) < 5e-5);
            CHECK(found[i].fx.slow.status == 200);
        }
    CHECK(nslow == 1);
}

/* One connection's handshake on client port cp; *c and *sv are the next sequence numbers. */
static void hs(struct engine *e, uint64_t t, uint16_t cp, uint32_t *c, uint32_t *sv)
{
    *c = 1001;
    *sv = 5001;
    tx(e, t, true, cp, TCP_SYN, *c - 1, 0, NULL);
    tx(e, t + 100000, false, cp, TCP_SYN | TCP_ACK, *sv - 1, *c, NULL);
    tx(e, t + 200000, true, cp, TCP_ACK, *c, *sv, NULL);
}

/* Send data on one side and advance its sequence. */
static void say(struct engine *e, uint64_t t, uint16_t cp, bool c2s, uint32_t *c, uint32_t *sv,
                const char *data)
{
    tx(e, t, c2s, cp, TCP_PSH | TCP_ACK, c2s ? *c : *sv, c2s ? *sv : *c, data);
    if (c2s)
        *c += (uint32_t)strlen(data);
    else
        *sv += (uint32_t)strlen(data);
}

static struct engine *rec_engine(bool full_uri)
{
    struct eng_config cfg;
    eng_config_default(&cfg);
    cfg.max_flows = 1024;
    cfg.http_full_uri = full_uri;
    nrows = nfound = nrows_all = nrows_port80 = nhttp = 0;
    return eng_new(&cfg, &cap_ops, NULL);
}

static void rec_finish(struct engine *e)
{
    struct run_summary sum;
    memset(&sum, 0, sizeof(sum));
    eng_finish(e, &sum);
    eng_free(e);
}

/* The http records of a keep-alive connection: fields, body bytes, 5xx, no response. */
static void test_records_fields(void)
{
    struct engine *e = rec_engine(false);
    CHECK(e != NULL);
    if (!e)
        return;
    uint32_t c, sv;
    uint64_t t = 9000 * NS;
    uint16_t cp = 45000;
    hs(e, t, cp, &c, &sv);
    uint64_t f0 = frame_no;
    say(e, t + 1000000, cp, true, &c, &sv,
        "POST /pay?card=4111 HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 5\r\n\r\n");
    say(e, t + 1100000, cp, true, &c, &sv, "hello"); /* the body in its own segment */
    say(e, t + 3100000, cp, false, &c, &sv,
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\nworld!\r\n"
        "0\r\n\r\n");
    say(e, t + 1 * NS, cp, true, &c, &sv, "GET /api/x HTTP/1.1\r\nHost: shop.example\r\n\r\n");
    say(e, t + 1 * NS + 500000, cp, false, &c, &sv,
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\ndown");
    say(e, t + 2 * NS, cp, true, &c, &sv, "GET /never HTTP/1.1\r\n\r\n"); /* no Host */
    tx(e, t + 3 * NS, false, cp, TCP_FIN | TCP_ACK, sv, c, NULL);
    tx(e, t + 3 * NS + 100, true, cp, TCP_FIN | TCP_ACK, c, sv + 1, NULL);
    rec_finish(e);
    CHECK(nhttp == 3);
    if (nhttp != 3)
        return;
    const struct http_record *a = &http_recs[0], *b = &http_recs[1], *n = &http_recs[2];
    CHECK(strcmp(a->method, "POST") == 0 && strcmp(a->path, "/pay") == 0);
    CHECK(strcmp(a->host, "shop.example") == 0 && a->has_host && a->cut == 0);
    CHECK(a->status == 200 && a->state == HS_COMPLETE && a->trans_depth == 1);
    CHECK_EQ_U64(a->req_body_bytes, 5);
    CHECK_EQ_U64(a->resp_body_bytes, 11);
    CHECK(a->ts_ns == t + 1000000 && a->req_frame == f0 + 1 && a->resp_frame == f0 + 3);
    CHECK(a->response_ns == 2000000); /* the body's segment ended the request */
    CHECK(a->client.port == cp && a->server.port == 80 && a->flow_id != 0);
    CHECK(strcmp(b->method, "GET") == 0 && strcmp(b->path, "/api/x") == 0 && b->status == 503);
    CHECK(b->trans_depth == 2 && b->response_ns == 500000 && b->resp_body_bytes == 4);
    CHECK(strcmp(n->path, "/never") == 0 && !n->has_host && n->status == 0);
    CHECK(n->state == HS_NO_RESPONSE && n->response_ns == -1 && n->resp_frame == 0);
    CHECK(n->trans_depth == 3);
    /* one http_5xx finding, for the 503, with the record's fields */
    int n5 = 0;
    for (int i = 0; i < nfound; i++) {
        if (found[i].kind != FK_HTTP_5XX)
            continue;
        n5++;
        CHECK(found[i].fx.http.status == 503 && strcmp(found[i].fx.http.path, "/api/x") == 0);
        CHECK(strcmp(found[i].fx.http.method, "GET") == 0);
        CHECK(strcmp(found[i].fx.http.host, "shop.example") == 0);
        CHECK(fabs(found[i].fx.http.response_s - 0.0005) < 1e-9 &&
              found[i].fx.http.trans_depth == 2);
        CHECK(found[i].nframes == 2 && found[i].frames[0] == b->req_frame &&
              found[i].frames[1] == b->resp_frame);
        char js[FINDING_JSON_MAX];
        CHECK(finding_json_members(&found[i], js, sizeof(js)) > 0);
        CHECK(strstr(js, "\"path\":\"/api/x\",\"status\":503") != NULL);
    }
    CHECK(n5 == 1);
}

/* Pipelining: 3 requests in one segment are answered in order; 5 awaiting at once overflow. */
static void test_records_pipeline(void)
{
    struct engine *e = rec_engine(true);
    CHECK(e != NULL);
    if (!e)
        return;
    uint32_t c, sv;
    uint64_t t = 9100 * NS;
    uint16_t cp = 45100;
    hs(e, t, cp, &c, &sv);
    say(e, t + 1000000, cp, true, &c, &sv,
        "GET /1?a=1 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: h\r\n\r\n"
        "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n");
    say(e, t + 2000000, cp, false, &c, &sv,
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 404 Not Found\r\nContent-Length: 9"
        "\r\n\r\nHTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n");
    uint16_t cp2 = 45101;
    hs(e, t + 1 * NS, cp2, &c, &sv);
    say(e, t + 1 * NS + 1000000, cp2, true, &c, &sv,
        "GET /q/0 HTTP/1.1\r\n\r\nGET /q/1 HTTP/1.1\r\n\r\nGET /q/2 HTTP/1.1\r\n\r\n"
        "GET /q/3 HTTP/1.1\r\n\r\nGET /q/4 HTTP/1.1\r\n\r\nGET /q/5 HTTP/1.1\r\n\r\n");
    rec_finish(e);
    CHECK(nhttp == 8);
    if (nhttp != 8)
        return;
    static const char *const paths[] = {"/1?a=1", "/2",   "/3",   "/q/0",
                                        "/q/1",   "/q/2", "/q/3", "/q/4"};
    static const uint16_t st[] = {200, 404, 500, 0, 0, 0, 0, 0};
    for (int i = 0; i < 8; i++) {
        CHECK(strcmp(http_recs[i].path, paths[i]) == 0);
        CHECK(http_recs[i].status == st[i]);
        CHECK(http_recs[i].trans_depth == (uint32_t)(i < 3 ? i + 1 : i - 2));
        CHECK(http_recs[i].state == (i < 3 ? HS_COMPLETE : HS_PIPELINE_OVERFLOW));
    }
    CHECK(http_recs[1].resp_body_bytes == 0); /* HEAD: no body although Content-Length 9 */
    CHECK(http_recs[0].ts_ns == http_recs[2].ts_ns &&
          http_recs[0].req_frame == http_recs[2].req_frame);
}

/* Bytes never captured: stepped over inside a body (gap_bytes), or the exchange lost (gap). */
static void test_records_gap(void)
{
    struct engine *e = rec_engine(false);
    CHECK(e != NULL);
    if (!e)
        return;
    uint32_t c, sv;
    uint64_t t = 9200 * NS;
    uint16_t cp = 45200;
    hs(e, t, cp, &c, &sv);
    say(e, t + 1000000, cp, true, &c, &sv, "GET /big HTTP/1.1\r\n\r\n");
    say(e, t + 2000000, cp, false, &c, &sv,
        "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n0123456789");
    sv += 10; /* 10 body bytes never captured */
    say(e, t + 3000000, cp, false, &c, &sv, "0123456789");
    say(e, t + 4000000, cp, true, &c, &sv, "GET /lost HTTP/1.1\r\n\r\n");
    sv += 60; /* its whole response never captured */
    say(e, t + 5000000, cp, true, &c, &sv, "GET /after HTTP/1.1\r\n\r\n");
    say(e, t + 6000000, cp, false, &c, &sv,
        "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
    rec_finish(e);
    CHECK(nhttp == 3);
    if (nhttp != 3)
        return;
    CHECK(strcmp(http_recs[0].path, "/big") == 0 && http_recs[0].state == HS_COMPLETE);
    /* the 10 bytes never captured and the 10 after them, held behind the hole until the next
       response showed it would not be filled, then stepped over unparsed */
    CHECK_EQ_U64(http_recs[0].gap_bytes, 20);
    CHECK_EQ_U64(http_recs[0].resp_body_bytes, 30);
    /* the lost response: both requests awaiting an answer are written as gap, and the 502 that
       follows the hole is not paired with either (it cannot be told which it answers) */
    CHECK(strcmp(http_recs[1].path, "/lost") == 0 && http_recs[1].state == HS_GAP);
    CHECK(strcmp(http_recs[2].path, "/after") == 0 && http_recs[2].state == HS_GAP);
}

/* Hostile and long fields: cut at the documented lengths and flagged; bytes kept as sent. */
static void test_records_bounds(void)
{
    struct engine *e = rec_engine(false);
    CHECK(e != NULL);
    if (!e)
        return;
    uint32_t c, sv;
    uint64_t t = 9300 * NS;
    uint16_t cp = 45300;
    static char req[1400];
    char path[600], host[300];
    memset(path, 'a', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = 0;
    memset(host, 'h', sizeof(host) - 1);
    host[sizeof(host) - 1] = 0;
    hs(e, t, cp, &c, &sv);
    snprintf(req, sizeof(req), "GET %s?x HTTP/1.1\r\nHost: %s\r\n\r\n", path, host);
    say(e, t + 1000000, cp, true, &c, &sv, req);
    say(e, t + 2000000, cp, false, &c, &sv, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    say(e, t + 3000000, cp, true, &c, &sv, "GET /a?b HTTP/1.1\r\nHost: \x1b[2J\"\\\r\n\r\n");
    say(e, t + 4000000, cp, false, &c, &sv, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    rec_finish(e);
    CHECK(nhttp == 2);
    if (nhttp != 2)
        return;
    CHECK(http_recs[0].cut == (HTTP_CUT_HOST | HTTP_CUT_PATH));
    CHECK_EQ_U64(strlen(http_recs[0].path), HTTP_REC_PATH_MAX - 1);
    CHECK_EQ_U64(strlen(http_recs[0].host), HTTP_REC_HOST_MAX - 1);
    CHECK(strcmp(http_recs[1].host, "\x1b[2J\"\\") == 0 && http_recs[1].cut == 0);
    CHECK(strcmp(http_recs[1].path, "/a") == 0);
}

/*
 * More HTTP connections at once than request slots, every slot held by a request never
 * answered (a flood of idle connections): a later connection still gets slots, those of the
 * connection idle the longest (not the oldest: the first one was active again), whose waiting
 * request is written in state reclaimed and which is timed by turns from then on (counted).
 */
static void test_records_pool(void)
{
    struct eng_config cfg;
    eng_config_default(&cfg);
    cfg.max_flows = 8192; /* request slots for a quarter: 2048 */
    nrows = nfound = nrows_all = nrows_port80 = nhttp = nhttp_reclaimed = nreal = 0;
    struct engine *e = eng_new(&cfg, &cap_ops, NULL);
    CHECK(e != NULL);
    if (!e)
        return;
    uint64_t t = 9400 * NS;
    uint32_t c0 = 0, sv0 = 0, c1 = 0, sv1 = 0;
    for (int i = 0; i < 2048; i++) {
        uint32_t c, sv;
        uint16_t cp = (uint16_t)(20000 + i);
        hs(e, t + (uint64_t)i * 1000, cp, &c, &sv);
        say(e, t + (uint64_t)i * 1000 + 500, cp, true, &c, &sv, "GET /x HTTP/1.1\r\n\r\n");
        if (i == 0)
            c0 = c, sv0 = sv;
        if (i == 1)
            c1 = c, sv1 = sv;
    }
    /* the first connection is answered and asks again: now 20001 is the longest idle */
    t += 3 * NS;
    say(e, t, 20000, false, &c0, &sv0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    say(e, t + 1000, 20000, true, &c0, &sv0, "GET /again HTTP/1.1\r\n\r\n");
    struct eng_stats st;
    eng_get_stats(e, &st);
    CHECK_EQ_U64(st.http_reclaimed, 0);
    /* the real server's later connection: parsed as HTTP and timed request by request */
    uint32_t c, sv;
    t += NS;
    hs(e, t, REAL_PORT, &c, &sv);
    say(e, t + 1000000, REAL_PORT, true, &c, &sv, "GET /real HTTP/1.1\r\nHost: r\r\n\r\n");
    say(e, t + 3000000, REAL_PORT, false, &c, &sv,
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    say(e, t + 4000000, REAL_PORT, true, &c, &sv, "GET /two HTTP/1.1\r\nHost: r\r\n\r\n");
    say(e, t + 7000000, REAL_PORT, false, &c, &sv, "HTTP/1.1 404 No\r\nContent-Length: 0\r\n\r\n");
    eng_get_stats(e, &st);
    CHECK_EQ_U64(st.http_reclaimed, 1);
    CHECK(nreal == 2);
    if (nreal == 2) {
        CHECK(strcmp(real_recs[0].path, "/real") == 0 && real_recs[0].state == HS_COMPLETE);
        CHECK(real_recs[0].status == 200 && real_recs[0].response_ns == 2000000);
        CHECK(strcmp(real_recs[1].path, "/two") == 0 && real_recs[1].state == HS_COMPLETE);
        CHECK(real_recs[1].status == 404 && real_recs[1].response_ns == 3000000);
        CHECK(real_recs[1].trans_depth == 2);
    }
    /* the reclaimed connection's waiting request, written when its slots were taken */
    CHECK(nhttp_reclaimed == 1);
    CHECK(reclaimed_rec.client.port == 20001 && strcmp(reclaimed_rec.path, "/x") == 0);
    CHECK(reclaimed_rec.response_ns == -1 && reclaimed_rec.status == 0);
    /* its late answer is timed as a turn (from its request's end), without a record */
    say(e, t + 9000000, 20001, false, &c1, &sv1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    struct run_summary sum;
    memset(&sum, 0, sizeof(sum));
    eng_finish(e, &sum);
    eng_free(e);
    CHECK_EQ_U64(sum.http_reclaimed, 1);
    CHECK(nhttp_reclaimed == 1 && nreal == 2);
    uint64_t reqs = 0, samples = 0;
    for (int i = 0; i < nrows; i++) {
        reqs += rows[i].http_requests;
        samples += rows[i].resp_n;
    }
    CHECK_EQ_U64(reqs, 2048 + 1 + 2); /* every request of every connection was counted */
    CHECK_EQ_U64(samples, 1 + 2 + 1); /* 20000's answer, the real two, 20001's turn */
}

int main(void)
{
    TEST_RUN(test_sketch_bound);
    TEST_RUN(test_sketch_edges);
    TEST_RUN(test_http_requests);
    TEST_RUN(test_http_responses);
    TEST_RUN(test_http_malformed);
    TEST_RUN(test_http_random);
    TEST_RUN(test_http_skip);
    TEST_RUN(test_http_meta);
    TEST_RUN(test_alert_hysteresis);
    TEST_RUN(test_detector_http);
    TEST_RUN(test_detector_scan);
    TEST_RUN(test_detector_tls);
    TEST_RUN(test_detector_slow_cap);
    TEST_RUN(test_detector_gap);
    TEST_RUN(test_detector_resync);
    TEST_RUN(test_detector_reorder);
    TEST_RUN(test_records_fields);
    TEST_RUN(test_records_pipeline);
    TEST_RUN(test_records_gap);
    TEST_RUN(test_records_bounds);
    TEST_RUN(test_records_pool);
    return TEST_REPORT();
}
