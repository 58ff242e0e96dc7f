/*
 * webconfig.c - reader of the exporter-toolkit web configuration (only the YAML this format
 * needs: comments, two levels of "key: value" mappings, plain, single- and double-quoted
 * scalars; anything else is refused with its line number) and bcrypt basic-auth checks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* crypt_r */
#endif
#include "cli/webconfig.h"

#include <crypt.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WC_MAX_FILE (64 * 1024) /* bytes of a web configuration file */
#define WC_MAX_LINE 1024        /* bytes of one of its lines */

/* The sections (top-level keys) flowmedic reads. */
enum wc_section { WC_NONE, WC_TLS, WC_USERS };

/* Parser state over the lines of one file. */
struct wc_parse {
    const char *name;          /* file name for messages */
    unsigned line;             /* current line number */
    enum wc_section sec;       /* section the indented lines belong to */
    int child_indent;          /* indentation of the section's entries, -1 before the first */
    bool seen_tls, seen_users; /* sections already given */
    char cert[4096];           /* tls_server_config.cert_file, "" when absent */
    char key[4096];            /* tls_server_config.key_file, "" when absent */
    char *err;                 /* message buffer */
    size_t errlen;             /* its size */
};

static int wc_fail(struct wc_parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "NAME:LINE: message" into the error buffer; returns -1. */
static int wc_fail(struct wc_parse *p, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s:%u: %s", p->name, p->line, msg);
    return -1;
}

static bool wc_keychar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == '@';
}

/* The rest of a line after a scalar: blanks, then nothing or a comment. */
static bool wc_rest_empty(const char *s)
{
    s += strspn(s, " ");
    return *s == 0 || *s == '#';
}

/*
 * A quoted scalar starting at *s (at the quote) into out; *s moves past it. Single quotes
 * double '' for a quote; double quotes know \\ and \" only. 0 or -1.
 */
static int wc_quoted(struct wc_parse *p, const char **s, char *out, size_t len)
{
    char q = **s;
    const char *c = *s + 1;
    size_t o = 0;
    for (;; c++) {
        if (*c == 0)
            return wc_fail(p, "unterminated %s-quoted string", q == '"' ? "double" : "single");
        char ch = *c;
        if (ch == q) {
            if (q == '\'' && c[1] == '\'')
                c++;
            else
                break;
        } else if (q == '"' && ch == '\\') {
            if (c[1] != '\\' && c[1] != '"')
                return wc_fail(p, "unsupported escape \\%c in a double-quoted string", c[1]);
            ch = *++c;
        }
        if (o + 1 >= len)
            return wc_fail(p, "value too long (at most %zu bytes)", len - 1);
        out[o++] = ch;
    }
    out[o] = 0;
    *s = c + 1;
    return 0;
}

/* A value: quoted, plain (to a comment or the line's end) or empty. 0 or -1. */
static int wc_value(struct wc_parse *p, const char *s, char *out, size_t len)
{
    s += strspn(s, " ");
    if (*s == '"' || *s == '\'') {
        if (wc_quoted(p, &s, out, len) != 0)
            return -1;
        if (!wc_rest_empty(s))
            return wc_fail(p, "unexpected text after the quoted value");
        return 0;
    }
    if (*s && strchr("[]{}&*!|>%@`,", *s))
        return wc_fail(p, "unsupported YAML ('%c'): write the value plain or quoted", *s);
    if (s[0] == '-' && (s[1] == ' ' || s[1] == 0))
        return wc_fail(p, "unsupported YAML: lists are not used in this file");
    size_t n = 0;
    while (s[n] && !(s[n] == '#' && n > 0 && s[n - 1] == ' ') && !(s[n] == '#' && n == 0))
        n++;
    while (n > 0 && s[n - 1] == ' ')
        n--;
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == ':' && s[i + 1] == ' ')
            return wc_fail(p, "unsupported YAML: ': ' inside a plain value (quote it)");
    if (n >= len)
        return wc_fail(p, "value too long (at most %zu bytes)", len - 1);
    memcpy(out, s, n);
    out[n] = 0;
    if (strcmp(out, "~") == 0 || strcmp(out, "null") == 0)
        out[0] = 0;
    return 0;
}

/* "key:" at s: the key (plain or quoted) into key; *rest points after the colon. 0 or -1. */
static int wc_key(struct wc_parse *p, const char *s, char *key, size_t len, const char **rest)
{
    if (*s == '"' || *s == '\'') {
        if (wc_quoted(p, &s, key, len) != 0)
            return -1;
    } else {
        size_t n = 0;
        while (wc_keychar(s[n]))
            n++;
        if (n == 0)
            return wc_fail(p, "expected 'key: value'");
        if (n >= len)
            return wc_fail(p, "key too long");
        memcpy(key, s, n);
        key[n] = 0;
        s += n;
    }
    if (*s != ':' || (s[1] != ' ' && s[1] != 0))
        return wc_fail(p, "expected ':' after '%s'", key);
    *rest = s + 1;
    return 0;
}

/* Keys of the exporter toolkit that flowmedic does not implement (refused, not ignored). */
static bool wc_known_unsupported(const char *key)
{
    static const char *const keys[] = {"client_auth_type",
                                       "client_ca_file",
                                       "client_allowed_sans",
                                       "min_version",
                                       "max_version",
                                       "cipher_suites",
                                       "curve_preferences",
                                       "prefer_server_cipher_suites",
                                       "cert",
                                       "key"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(key, keys[i]) == 0)
            return true;
    return false;
}

/* A top-level line: opens a section. */
static int wc_top(struct wc_parse *p, const char *key, const char *rest)
{
    char v[64];
    if (wc_value(p, rest, v, sizeof(v)) != 0)
        return -1;
    if (strcmp(key, "tls_server_config") == 0) {
        if (p->seen_tls)
            return wc_fail(p, "tls_server_config given twice");
        p->seen_tls = true;
        p->sec = WC_TLS;
    } else if (strcmp(key, "basic_auth_users") == 0) {
        if (p->seen_users)
            return wc_fail(p, "basic_auth_users given twice");
        p->seen_users = true;
        p->sec = WC_USERS;
    } else if (strcmp(key, "http_server_config") == 0 || strcmp(key, "rate_limit") == 0) {
        return wc_fail(p, "%s is not supported by flowmedic", key);
    } else {
        return wc_fail(p,
                       "unknown key '%s' (flowmedic reads tls_server_config and "
                       "basic_auth_users)",
                       key);
    }
    if (v[0])
        return wc_fail(p, "%s: expected its entries on the following, indented lines", key);
    p->child_indent = -1;
    return 0;
}

/* bcrypt's "$2a$", "$2b$" or "$2y$", a two-digit cost, '$' and 53 characters of its base64. */
static bool wc_is_bcrypt(const char *h)
{
    if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) || h[3] != '$' ||
        h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9' || h[6] != '$')
        return false;
    for (const char *c = h + 7; *c; c++)
        if (!wc_keychar(*c) && *c != '/')
            return false;
    return true;
}

static int wc_tls_entry(struct wc_parse *p, const char *key, const char *rest)
{
    char *dst = strcmp(key, "cert_file") == 0  ? p->cert
                : strcmp(key, "key_file") == 0 ? p->key
                                               : NULL;
    if (!dst) {
        if (wc_known_unsupported(key))
            return wc_fail(p, "tls_server_config.%s is not supported by flowmedic", key);
        return wc_fail(p, "unknown key tls_server_config.%s (cert_file and key_file are read)",
                       key);
    }
    if (dst[0])
        return wc_fail(p, "%s given twice", key);
    if (wc_value(p, rest, dst, sizeof(p->cert)) != 0)
        return -1;
    if (!dst[0])
        return wc_fail(p, "%s: empty file name", key);
    return 0;
}

static int wc_user_entry(struct wc_parse *p, struct webconfig *wc, const char *key,
                         const char *rest)
{
    for (size_t i = 0; i < wc->nusers; i++)
        if (strcmp(wc->users[i].name, key) == 0)
            return wc_fail(p, "user '%s' given twice", key);
    if (wc->nusers == WC_MAX_USERS)
        return wc_fail(p, "more than %d users", WC_MAX_USERS);
    struct wc_user *u = &wc->users[wc->nusers];
    if (strlen(key) >= sizeof(u->name))
        return wc_fail(p, "user name too long");
    if (wc_value(p, rest, u->hash, sizeof(u->hash)) != 0)
        return -1;
    if (!wc_is_bcrypt(u->hash))
        return wc_fail(p,
                       "user '%s': the password must be given as a bcrypt hash "
                       "($2y$ or $2b$, 60 characters), e.g. from htpasswd -nBC 10 %s",
                       key, key);
    memcpy(u->name, key, strlen(key) + 1);
    wc->nusers++;
    return 0;
}

/* One line (without its newline). */
static int wc_line(struct wc_parse *p, struct webconfig *wc, const char *s)
{
    size_t indent = strspn(s, " ");
    if (s[indent] == '\t')
        return wc_fail(p, "tab in indentation (YAML allows spaces only)");
    const char *c = s + indent;
    if (*c == 0 || *c == '#')
        return 0;
    if (c[0] == '-' && (c[1] == ' ' || c[1] == 0) && strcmp(c, "---") != 0)
        return wc_fail(p, "unsupported YAML: lists are not used in this file");
    if (indent == 0 && (strcmp(c, "---") == 0 || strncmp(c, "--- ", 4) == 0)) {
        if (p->line != 1 && (p->seen_tls || p->seen_users))
            return wc_fail(p, "only one YAML document is read");
        return 0;
    }
    char key[WC_MAX_NAME];
    const char *rest = NULL;
    if (wc_key(p, c, key, sizeof(key), &rest) != 0)
        return -1;
    if (indent == 0)
        return wc_top(p, key, rest);
    if (p->sec == WC_NONE)
        return wc_fail(p, "unexpected indentation");
    if (p->child_indent < 0)
        p->child_indent = (int)indent;
    if ((int)indent != p->child_indent)
        return wc_fail(p, "inconsistent indentation (%zu spaces, expected %d)", indent,
                       p->child_indent);
    if (p->sec == WC_TLS)
        return wc_tls_entry(p, key, rest);
    return wc_user_entry(p, wc, key, rest);
}

/* Read a whole file of at most max bytes into a new string. NULL with errno set. */
static char *wc_slurp(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    int bad = !buf ? ENOMEM : ferror(f) ? EIO : n > max ? EFBIG : 0;
    fclose(f);
    if (bad) {
        free(buf);
        errno = bad;
        return NULL;
    }
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

/* Read a PEM file named in the configuration, relative to dir unless absolute. */
static int wc_read_pem(struct wc_parse *p, const char *dir, const char *key, const char *file,
                       char **out)
{
    char path[8192];
    if (file[0] == '/' || !dir)
        snprintf(path, sizeof(path), "%s", file);
    else
        snprintf(path, sizeof(path), "%s/%s", dir, file);
    size_t n;
    *out = wc_slurp(path, WC_MAX_PEM, &n);
    if (!*out) {
        snprintf(p->err, p->errlen, "%s: tls_server_config.%s %s: %s", p->name, key, path,
                 errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
        return -1;
    }
    if (!strstr(*out, "-----BEGIN ") || strlen(*out) != n) {
        snprintf(p->err, p->errlen, "%s: tls_server_config.%s %s: not a PEM file", p->name, key,
                 path);
        return -1;
    }
    return 0;
}

/* After the last line: the TLS pair is complete, and the files are read. */
static int wc_finish(struct wc_parse *p, const char *dir, struct webconfig *wc)
{
    if (p->seen_tls && (!p->cert[0] || !p->key[0]))
        return wc_fail(p, "tls_server_config needs both cert_file and key_file");
    if (p->seen_users && wc->nusers == 0)
        return wc_fail(p, "basic_auth_users has no users");
    if (!p->seen_tls || !dir)
        return 0;
    if (wc_read_pem(p, dir, "cert_file", p->cert, &wc->cert_pem) != 0 ||
        wc_read_pem(p, dir, "key_file", p->key, &wc->key_pem) != 0)
        return -1;
    return 0;
}

int webconfig_parse(const char *text, const char *name, const char *dir, struct webconfig *wc,
                    char *err, size_t errlen)
{
    memset(wc, 0, sizeof(*wc));
    struct wc_parse p = {.name = name, .child_indent = -1, .err = err, .errlen = errlen};
    const char *s = text;
    while (*s) {
        p.line++;
        size_t n = strcspn(s, "\n");
        char line[WC_MAX_LINE];
        if (n >= sizeof(line))
            return wc_fail(&p, "line longer than %d bytes", WC_MAX_LINE - 1);
        memcpy(line, s, n);
        line[n] = 0;
        if (n > 0 && line[n - 1] == '\r')
            line[n - 1] = 0;
        if (wc_line(&p, wc, line) != 0)
            return -1;
        s += n;
        if (*s == '\n')
            s++;
    }
    return wc_finish(&p, dir, wc);
}

int webconfig_load(const char *path, struct webconfig *wc, char *err, size_t errlen)
{
    memset(wc, 0, sizeof(*wc));
    size_t n;
    char *text = wc_slurp(path, WC_MAX_FILE, &n);
    if (!text) {
        snprintf(err, errlen, "--web-config %s: %s", path,
                 errno == EFBIG ? "larger than 64 KiB" : strerror(errno));
        return -1;
    }
    if (strlen(text) != n) {
        snprintf(err, errlen, "--web-config %s: NUL byte in the file", path);
        free(text);
        return -1;
    }
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    int rc = webconfig_parse(text, path, dir, wc, err, errlen);
    free(text);
    return rc;
}

void webconfig_free(struct webconfig *wc)
{
    free(wc->cert_pem);
    if (wc->key_pem)
        memset(wc->key_pem, 0, strlen(wc->key_pem));
    free(wc->key_pem);
    wc->cert_pem = wc->key_pem = NULL;
}

/* Equal strings of equal length, in time that depends only on the length. */
static bool wc_equal_ct(const char *a, const char *b)
{
    size_t n = strlen(a);
    if (n != strlen(b))
        return false;
    volatile unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

bool webconfig_check(const struct webconfig *wc, const char *user, const char *password)
{
    if (wc->nusers == 0)
        return false;
    /* an unknown user costs one bcrypt computation too (against the first user's hash) */
    const struct wc_user *u = NULL;
    for (size_t i = 0; i < wc->nusers && !u; i++)
        if (strcmp(wc->users[i].name, user) == 0)
            u = &wc->users[i];
    const char *hash = u ? u->hash : wc->users[0].hash;
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    if (!cd)
        return false;
    const char *out = crypt_r(password, hash, cd);
    bool ok = out && out[0] != '*' && wc_equal_ct(out, hash) && u != NULL;
    memset(cd, 0, sizeof(*cd));
    free(cd);
    return ok;
}
