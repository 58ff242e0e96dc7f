/*
 * metrics_http.h - the /metrics endpoint, served by GNU libmicrohttpd on its own thread:
 * bounded connections (in total and per client address), an idle timeout and a deadline for
 * each whole request, dual-stack listening, and optional TLS and basic authentication from an
 * exporter-toolkit web configuration file (webconfig.h).
 */
#ifndef FM_METRICS_HTTP_H
#define FM_METRICS_HTTP_H

#include <stddef.h>

#include "cli/webconfig.h"

#define MH_MAX_CONNS 256     /* connections at once */
#define MH_PER_ADDR_CONNS 16 /* connections at once from one client address */
#define MH_IDLE_TIMEOUT_S 5  /* a connection silent this long is closed */
#define MH_DEADLINE_S 10     /* a request (from its first byte to its answer) gets this long */
#define MH_REQ_MEMORY 16384  /* bytes of request head kept per connection (longer: 414/431) */
#define MH_AUTH_PER_S 4      /* password checks (bcrypt) per second beyond the cached ones */

struct mx_http;

/*
 * Listen on spec: ":PORT", "*:PORT" and "[::]:PORT" mean every address (IPv6 and IPv4),
 * "ADDR:PORT" or "[ADDR6]:PORT" one address. web is the loaded web configuration (TLS and
 * users; the certificate and key are used during the call only), or NULL. NULL on failure
 * with a one-line reason in err.
 */
struct mx_http *mx_http_start(const char *spec, const struct webconfig *web, char *err,
                              size_t errlen);

/* Replace the text served on /metrics (copied). */
void mx_http_publish(struct mx_http *h, const char *text, size_t len);

/* Stop serving, close every connection, free h. NULL is fine. */
void mx_http_stop(struct mx_http *h);

#endif
