/*
 * webconfig.h - the web configuration file of the metrics endpoint (--web-config), in the
 * format of the Prometheus exporter toolkit (a small YAML subset):
 *
 *   tls_server_config:
 *     cert_file: server.crt      # PEM; relative paths are relative to the file's directory
 *     key_file: server.key
 *   basic_auth_users:
 *     prometheus: $2y$10$...     # bcrypt hash of the password
 *
 * and basic-auth checking against the bcrypt hashes (crypt(3) of libxcrypt, constant-time
 * comparison).
 */
#ifndef FM_WEBCONFIG_H
#define FM_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define WC_MAX_USERS 64      /* basic_auth_users entries */
#define WC_MAX_NAME 128      /* bytes of a user name */
#define WC_MAX_HASH 128      /* bytes of a password hash */
#define WC_MAX_PEM (1 << 20) /* bytes of a certificate or key file */

/* One user allowed in. */
struct wc_user {
    char name[WC_MAX_NAME]; /* user name */
    char hash[WC_MAX_HASH]; /* bcrypt hash ("$2b$" or "$2y$" ...) */
};

/* A parsed web configuration. */
struct webconfig {
    char *cert_pem;                     /* certificate chain (PEM), or NULL without TLS */
    char *key_pem;                      /* private key (PEM), or NULL without TLS */
    struct wc_user users[WC_MAX_USERS]; /* basic_auth_users */
    size_t nusers;                      /* entries in users; 0 = no authentication */
};

/*
 * Read path into wc (which it zeroes first), including the certificate and key files. 0, or -1
 * with "PATH:LINE: what is wrong" in err. Free with webconfig_free, also after a failure.
 */
int webconfig_load(const char *path, struct webconfig *wc, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Parse text (for tests; dir resolves relative file names, NULL = do not read the files). */
int webconfig_parse(const char *text, const char *name, const char *dir, struct webconfig *wc,
                    char *err, size_t errlen) __attribute__((warn_unused_result));

void webconfig_free(struct webconfig *wc);

/*
 * True when user and password match an entry. Takes the time of one bcrypt computation whether
 * the user exists or not, and compares in constant time.
 */
bool webconfig_check(const struct webconfig *wc, const char *user, const char *password);

#endif
