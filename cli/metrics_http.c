/*
 * metrics_http.c - the /metrics endpoint on libmicrohttpd: one thread runs the daemon's epoll
 * loop and, between rounds, cuts connections whose request outlived its deadline (a client
 * that trickles bytes defeats an idle timeout, not a deadline). Basic auth is checked against
 * bcrypt hashes; a credential that passed once is remembered as a salted SHA-256 digest, so
 * regular scrapes do not pay for bcrypt and guessing is limited to MH_AUTH_PER_S per second.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2 */
#endif
#include "cli/metrics_http.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture/clock.h"
#include "cli/webconfig.h"

#define MH_NS 1000000000ull
#define MH_POLL_MS 200 /* the loop wakes at least this often to enforce deadlines */
#define MH_REALM "flowmedic"

/* One open connection, for the deadline. */
struct mh_conn {
    bool used;         /* slot in use */
    bool cut;          /* shut down already */
    int fd;            /* its socket */
    uint64_t start_ns; /* start of its current request (monotonic) */
};

struct mx_http {
    pthread_mutex_t mu;                        /* guards snap and snap_len */
    char *snap;                                /* the text served on /metrics */
    size_t snap_len;                           /* its length */
    struct MHD_Daemon *d;                      /* the daemon */
    int wake[2];                               /* self-pipe that stops the thread */
    bool thr_started;                          /* the thread runs */
    pthread_t thr;                             /* the thread */
    struct webconfig wc;                       /* users (TLS: cert_pem/key_pem borrowed at start) */
    struct mh_conn conns[MH_MAX_CONNS];        /* open connections */
    unsigned char salt[16];                    /* salt of the credential digests */
    unsigned char ok_digest[WC_MAX_USERS][32]; /* digest of the last credential that passed */
    bool ok_valid[WC_MAX_USERS];               /* ok_digest holds one */
    uint64_t auth_window_ns;                   /* start of the current 1 s rate window */
    unsigned auth_in_window;                   /* bcrypt checks in that window */
    bool started;                              /* start-up done: log libmicrohttpd's messages */
    char mhd_err[256];                         /* libmicrohttpd's last message during start-up */
};

/* ---- listening socket ---- */

/* Split "HOST:PORT" / "[HOST]:PORT" into host (may be "") and port. 0 or -1. */
static int mh_split(const char *spec, char *host, size_t hlen, const char **port, char *err,
                    size_t errlen)
{
    const char *colon = strrchr(spec, ':');
    if (!colon || colon[1] == 0) {
        snprintf(err, errlen, "--metrics-listen '%s': expected ADDR:PORT", spec);
        return -1;
    }
    size_t hl = (size_t)(colon - spec);
    const char *h = spec;
    if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= hlen) {
        snprintf(err, errlen, "--metrics-listen '%s': address too long", spec);
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = 0;
    *port = colon + 1;
    return 0;
}

/* A socket bound to ai and listening, or -1 with errno. v6only for AF_INET6 sockets. */
static int mh_bind(int family, const struct sockaddr *sa, socklen_t salen, int v6only)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)))
        goto fail;
    if (bind(fd, sa, salen) != 0 || listen(fd, 128) != 0)
        goto fail;
    return fd;
fail : {
    int e = errno;
    close(fd);
    errno = e;
}
    return -1;
}

/* Listen as spec says; the socket or -1 with the reason in err. */
static int mh_listen(const char *spec, char *err, size_t errlen)
{
    char host[128];
    const char *port;
    if (mh_split(spec, host, sizeof(host), &port, err, errlen) != 0)
        return -1;
    bool any = host[0] == 0 || strcmp(host, "*") == 0 || strcmp(host, "::") == 0;
    struct addrinfo hints = {.ai_family = any ? AF_INET6 : AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(any ? NULL : host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "--metrics-listen '%s': %s", spec, gai_strerror(rc));
        return -1;
    }
    /* every address: one IPv6 socket that takes IPv4 too; IPv4 alone where IPv6 is off */
    int fd = mh_bind(ai->ai_family, ai->ai_addr, ai->ai_addrlen, any ? 0 : 1);
    if (fd < 0 && any && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)) {
        struct sockaddr_in v4 = {.sin_family = AF_INET,
                                 .sin_port = ((struct sockaddr_in6 *)ai->ai_addr)->sin6_port,
                                 .sin_addr.s_addr = htonl(INADDR_ANY)};
        fd = mh_bind(AF_INET, (struct sockaddr *)&v4, sizeof(v4), 0);
    }
    if (fd < 0)
        snprintf(err, errlen, "--metrics-listen '%s': %s", spec, strerror(errno));
    freeaddrinfo(ai);
    return fd;
}

/* ---- connections and deadlines ---- */

static void mh_notify_conn(void *cls, struct MHD_Connection *c, void **socket_context,
                           enum MHD_ConnectionNotificationCode toe)
{
    struct mx_http *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct mh_conn *k = *socket_context;
        if (k)
            k->used = false;
        *socket_context = NULL;
        return;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    for (size_t i = 0; i < MH_MAX_CONNS; i++) {
        struct mh_conn *k = &h->conns[i];
        if (k->used)
            continue;
        *k = (struct mh_conn){
            .used = true, .fd = ci ? ci->connect_fd : -1, .start_ns = clock_mono_ns()};
        *socket_context = k;
        return;
    }
    /* cannot happen (as many slots as the connection limit): do not keep it untimed */
    if (ci)
        shutdown(ci->connect_fd, SHUT_RDWR);
}

/* A request ended: the connection's next request gets a deadline of its own. */
static void mh_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con_cls;
    (void)toe;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct mh_conn *k = ci ? ci->socket_context : NULL;
    if (k)
        k->start_ns = clock_mono_ns();
}

/* Cut connections whose request outlived the deadline; libmicrohttpd then closes them. */
static void mh_reap(struct mx_http *h)
{
    uint64_t now = clock_mono_ns();
    for (size_t i = 0; i < MH_MAX_CONNS; i++) {
        struct mh_conn *k = &h->conns[i];
        if (k->used && !k->cut && k->fd >= 0 && now - k->start_ns > MH_DEADLINE_S * MH_NS) {
            shutdown(k->fd, SHUT_RDWR);
            k->cut = true;
        }
    }
}

/* ---- authentication ---- */

/* Salted SHA-256 of user and password. */
static bool mh_digest(const struct mx_http *h, const char *user, const char *pw,
                      unsigned char out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(ctx, h->salt, sizeof(h->salt)) == 1 &&
              EVP_DigestUpdate(ctx, user, strlen(user) + 1) == 1 &&
              EVP_DigestUpdate(ctx, pw, strlen(pw)) == 1 && EVP_DigestFinal_ex(ctx, out, &n) == 1 &&
              n == 32;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* Room for one more bcrypt check in this second. */
static bool mh_rate_ok(struct mx_http *h)
{
    uint64_t now = clock_mono_ns();
    if (now - h->auth_window_ns >= MH_NS) {
        h->auth_window_ns = now;
        h->auth_in_window = 0;
    }
    if (h->auth_in_window >= MH_AUTH_PER_S)
        return false;
    h->auth_in_window++;
    return true;
}

/* The credential check: 1 passed, 0 refused, -1 too many checks now. */
static int mh_auth(struct mx_http *h, const char *user, const char *pw)
{
    size_t i = 0;
    while (i < h->wc.nusers && strcmp(h->wc.users[i].name, user) != 0)
        i++;
    unsigned char dg[32];
    bool have = mh_digest(h, user, pw, dg);
    if (i < h->wc.nusers && have && h->ok_valid[i] && CRYPTO_memcmp(dg, h->ok_digest[i], 32) == 0)
        return 1;
    if (!mh_rate_ok(h))
        return -1;
    if (!webconfig_check(&h->wc, user, pw))
        return 0;
    if (have && i < h->wc.nusers) {
        memcpy(h->ok_digest[i], dg, 32);
        h->ok_valid[i] = true;
    }
    return 1;
}

/* ---- requests ---- */

static enum MHD_Result mh_reply(struct MHD_Connection *c, unsigned status, const char *ctype,
                                const char *text, size_t len, bool must_free)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)text, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (must_free)
            free((void *)text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (status == MHD_HTTP_TOO_MANY_REQUESTS)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    enum MHD_Result rc = status == MHD_HTTP_UNAUTHORIZED
                             ? MHD_queue_basic_auth_fail_response(c, MH_REALM, r)
                             : MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

#define MH_TEXT "text/plain; charset=utf-8"
#define MH_MSG(s) s, sizeof(s) - 1, false

/* 1 when the request may go on, else the answer was queued (or failed) into *rc. */
static bool mh_check_auth(struct mx_http *h, struct MHD_Connection *c, enum MHD_Result *rc)
{
    if (h->wc.nusers == 0)
        return true;
    char *pw = NULL;
    char *user = MHD_basic_auth_get_username_password(c, &pw);
    int ok = user && pw ? mh_auth(h, user, pw) : 0;
    if (pw) {
        memset(pw, 0, strlen(pw));
        MHD_free(pw);
    }
    if (user)
        MHD_free(user);
    if (ok == 1)
        return true;
    if (ok < 0)
        *rc = mh_reply(c, MHD_HTTP_TOO_MANY_REQUESTS, MH_TEXT,
                       MH_MSG("too many password checks; "
                              "try again in a second\n"));
    else
        *rc = mh_reply(c, MHD_HTTP_UNAUTHORIZED, MH_TEXT, MH_MSG("authentication required\n"));
    return false;
}

static enum MHD_Result mh_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    struct mx_http *h = cls;
    (void)version;
    (void)upload_data;
    static int seen; /* *con_cls marker: the request head was seen */
    bool get =
        strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    /*
     * GET and HEAD are answered once the whole request is in (the second call), which keeps the
     * connection reusable; other methods at once, before any body (libmicrohttpd then closes).
     */
    if (*con_cls == NULL && get) {
        *con_cls = &seen;
        return MHD_YES;
    }
    if (*upload_data_size != 0) { /* a body sent with GET: read and ignored */
        *upload_data_size = 0;
        return MHD_YES;
    }
    enum MHD_Result rc = MHD_NO;
    if (!mh_check_auth(h, c, &rc))
        return rc;
    if (!get)
        return mh_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, MH_TEXT,
                        MH_MSG("only GET and HEAD are served\n"));
    if (strcmp(url, "/metrics") != 0)
        return mh_reply(c, MHD_HTTP_NOT_FOUND, MH_TEXT,
                        MH_MSG("flowmedic: metrics are on /metrics\n"));
    pthread_mutex_lock(&h->mu);
    size_t len = h->snap ? h->snap_len : 0;
    char *copy = malloc(len + 1);
    if (copy && len)
        memcpy(copy, h->snap, len);
    pthread_mutex_unlock(&h->mu);
    if (!copy)
        return mh_reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, MH_TEXT, MH_MSG("out of memory\n"));
    return mh_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", copy, len, true);
}

/* libmicrohttpd's messages: the last one during start-up explains a failure; later ones (about
   misbehaving clients) are dropped. */
static void mh_logger(void *cls, const char *fmt, va_list ap)
{
    struct mx_http *h = cls;
    char msg[256];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = 0;
    if (!h->started)
        memcpy(h->mhd_err, msg, sizeof(msg));
}

/* ---- the thread ---- */

static void *mh_thread(void *arg)
{
    struct mx_http *h = arg;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
    int efd = di ? di->epoll_fd : -1;
    for (;;) {
        int ms = MH_POLL_MS;
        MHD_UNSIGNED_LONG_LONG to;
        if (MHD_get_timeout(h->d, &to) == MHD_YES && to < (MHD_UNSIGNED_LONG_LONG)ms)
            ms = (int)to;
        struct pollfd pf[2] = {{.fd = efd, .events = POLLIN}, {.fd = h->wake[0], .events = POLLIN}};
        int n = poll(pf, 2, ms);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (pf[1].revents & (POLLIN | POLLHUP)))
            break;
        MHD_run(h->d);
        mh_reap(h);
    }
    return NULL;
}

/* Start the daemon on fd (which it then owns). 0 or -1 with the reason in err. */
static int mh_daemon(struct mx_http *h, int fd, const char *spec, char *err, size_t errlen)
{
    bool tls = h->wc.cert_pem != NULL;
    if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(err, errlen, "--web-config: this libmicrohttpd was built without TLS");
        close(fd);
        return -1;
    }
    struct MHD_OptionItem tls_opts[] = {
        {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, h->wc.cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, h->wc.key_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (tls ? MHD_USE_TLS : 0);
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, mh_access, h, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)MH_MAX_CONNS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)MH_PER_ADDR_CONNS, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)MH_IDLE_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MH_REQ_MEMORY, MHD_OPTION_NOTIFY_CONNECTION,
        mh_notify_conn, h, MHD_OPTION_NOTIFY_COMPLETED, mh_completed, h, MHD_OPTION_EXTERNAL_LOGGER,
        mh_logger, h, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, errlen, "--metrics-listen '%s': cannot start the HTTP server%s%s%s", spec,
                 h->mhd_err[0] ? ": " : "", h->mhd_err,
                 tls ? " (are cert_file and key_file a PEM certificate and its private key?)" : "");
        close(fd);
        return -1;
    }
    return 0;
}

struct mx_http *mx_http_start(const char *spec, const struct webconfig *web, char *err,
                              size_t errlen)
{
    struct mx_http *h = calloc(1, sizeof(*h));
    if (!h) {
        snprintf(err, errlen, "metrics: out of memory");
        return NULL;
    }
    pthread_mutex_init(&h->mu, NULL);
    h->wake[0] = h->wake[1] = -1;
    if (web)
        h->wc = *web;
    if (getrandom(h->salt, sizeof(h->salt), 0) != (ssize_t)sizeof(h->salt)) {
        snprintf(err, errlen, "--metrics-listen: getrandom: %s", strerror(errno));
        goto fail;
    }
    if (pipe2(h->wake, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "--metrics-listen: pipe: %s", strerror(errno));
        goto fail;
    }
    int fd = mh_listen(spec, err, errlen);
    int rc = fd < 0 ? -1 : mh_daemon(h, fd, spec, err, errlen);
    h->wc.cert_pem = h->wc.key_pem = NULL; /* the caller's; the daemon has its own copy */
    if (rc != 0)
        goto fail;
    h->started = true;
    if (pthread_create(&h->thr, NULL, mh_thread, h) != 0) {
        snprintf(err, errlen, "--metrics-listen: cannot start the listener thread");
        goto fail;
    }
    h->thr_started = true;
    return h;
fail:
    mx_http_stop(h);
    return NULL;
}

void mx_http_publish(struct mx_http *h, const char *text, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return;
    memcpy(copy, text, len);
    copy[len] = 0;
    pthread_mutex_lock(&h->mu);
    char *old = h->snap;
    h->snap = copy;
    h->snap_len = len;
    pthread_mutex_unlock(&h->mu);
    free(old);
}

void mx_http_stop(struct mx_http *h)
{
    if (!h)
        return;
    if (h->thr_started) {
        char c = 'q';
        ssize_t w;
        do
            w = write(h->wake[1], &c, 1);
        while (w < 0 && errno == EINTR);
        pthread_join(h->thr, NULL);
    }
    if (h->d)
        MHD_stop_daemon(h->d);
    for (int i = 0; i < 2; i++)
        if (h->wake[i] >= 0)
            close(h->wake[i]);
    pthread_mutex_destroy(&h->mu);
    free(h->snap);
    free(h);
}
