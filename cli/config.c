/* config.c - the "key = value" configuration file: thresholds, intervals, servers, limits. */
#include "cli/config.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzers/worker.h"
#include "capture/decode.h"
#include "capture/err.h"

#define CFG_LINE_MAX 1024 /* longest line accepted */

/* How a key's value is read. */
enum cfg_type {
    CT_SECONDS,   /* a duration: seconds, or with a unit (ns, us, ms, s, m, h, d) -> uint64 ns */
    CT_SECONDS_D, /* a duration in seconds as a double */
    CT_PERCENT,   /* a rate in percent ("5" or "5%") -> double fraction */
    CT_RATIO,     /* a plain fraction (0..1) -> double */
    CT_U32,       /* a count -> uint32_t */
    CT_SIZE,      /* a count or size -> size_t */
    CT_SERVER,    /* ADDR[:PORT], repeatable */
    CT_PATH,      /* a file name */
    CT_CA_FILE,   /* a file name, repeatable (ca_files) */
    CT_DB,        /* the database file (not analysis: kept here, read by cli_config_db) */
    CT_BOOL,      /* yes/no, true/false, on/off, 1/0 -> bool */
    CT_WORKERS,   /* N (1..WK_MAX) or auto (not analysis: kept here, read by cli_config_workers) */
};

/* One key: its name, type, range and where it goes. */
struct cfg_key {
    const char *name;   /* key as written (underscores also accepted for dashes) */
    enum cfg_type type; /* how to read the value */
    double lo, hi;      /* accepted range, in the value's own unit (seconds, percent, count) */
    size_t off;         /* offset of the field in struct eng_config */
};

#define OFF(f) offsetof(struct eng_config, f)

static const struct cfg_key cfg_keys[] = {
    {"server", CT_SERVER, 0, 0, 0},
    {"max-flows", CT_SIZE, 16, 100e6, OFF(max_flows)},
    {"idle-timeout", CT_SECONDS, 1, 86400, OFF(idle_timeout_ns)},
    {"closed-linger", CT_SECONDS, 0, 3600, OFF(closed_linger_ns)},
    {"dup-window", CT_SECONDS, 0, 1, OFF(dup_window_ns)},
    {"notable", CT_U32, 1, 1e9, OFF(notable_events)},
    {"stream-cap", CT_SIZE, 1024, 1 << 24, OFF(stream_cap)},
    {"stream-buffers", CT_SIZE, 1, 1e7, OFF(stream_buffers)},
    {"interval", CT_SECONDS, 1, 86400, OFF(health_interval_ns)},
    {"slow-response", CT_SECONDS_D, 0.001, 86400, OFF(slow_response_s)},
    {"error-rate", CT_PERCENT, 0, 100, OFF(alert_error_rate)},
    {"retrans-rate", CT_PERCENT, 0, 100, OFF(alert_retrans_rate)},
    {"resp-p99", CT_SECONDS_D, 0.001, 86400, OFF(alert_resp_p99_s)},
    {"cert-days", CT_U32, 0, 3650, OFF(cert_expiring_days)},
    {"tls-stall", CT_SECONDS, 1, 86400, OFF(tls_stall_ns)},
    {"slow-handshake", CT_SECONDS, 0.001, 86400, OFF(slow_handshake_ns)},
    {"tls-keylog", CT_PATH, 0, 0, OFF(tls_keylog)},
    {"ca-file", CT_CA_FILE, 0, 0, 0},
    {"db", CT_DB, 0, 0, 0},
    {"http-full-uri", CT_BOOL, 0, 0, OFF(http_full_uri)},
    {"workers", CT_WORKERS, 1, WK_MAX, 0},
    {"alert-open-intervals", CT_U32, 1, 1000, OFF(alert_open_intervals)},
    {"alert-clear-intervals", CT_U32, 1, 1000, OFF(alert_clear_intervals)},
    {"alert-clear-ratio", CT_RATIO, 0, 1, OFF(alert_clear_ratio)},
    /* incidents (README.md, "Diagnosis") */
    {"incident-window", CT_SECONDS, 1, 60, OFF(inc_window_ns)},
    {"incident-clear", CT_SECONDS, 0.001, 3600, OFF(inc_clear_ns)},
    {"incident-quiet", CT_SECONDS, 1, 86400, OFF(inc_quiet_ns)},
    {"incident-update", CT_SECONDS, 1, 86400, OFF(inc_update_ns)},
    {"incident-min-failures", CT_U32, 1, 1e6, OFF(inc_min_failures)},
    {"incident-min-attempts", CT_U32, 1, 1e6, OFF(inc_min_attempts)},
    {"incident-min-data-segments", CT_U32, 1, 1e9, OFF(inc_min_data_segs)},
    {"incident-min-requests", CT_U32, 1, 1e6, OFF(inc_min_requests)},
    {"incident-min-slow", CT_U32, 1, 1e6, OFF(inc_min_slow)},
    {"incident-min-resets", CT_U32, 1, 1e6, OFF(inc_min_resets)},
    {"incident-stall", CT_SECONDS, 0.001, 3600, OFF(inc_stall_ns)},
    {"incident-scan-targets", CT_U32, 2, 64, OFF(inc_scan_targets)},
};

/* The keylog path outlives the parse (cfg keeps a pointer to it). */
static char cfg_keylog[4096];
/* So do the ca-file paths. */
static char cfg_ca_files[ENG_MAX_CA_FILES][4096];

/* The db key's value ("" when not given). */
static char cfg_db[4096];

const char *cli_config_db(void)
{
    return cfg_db[0] ? cfg_db : NULL;
}

/* The workers key's value: -1 when not given, 0 for auto, else N. */
static int cfg_workers = -1;

int cli_config_workers(void)
{
    return cfg_workers;
}

/* Strip leading and trailing blanks in place; returns the start. */
static char *cfg_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = 0;
    return s;
}

/* A number with an optional unit suffix (durations: to seconds; percent: "%"). */
static bool cfg_number(const char *v, enum cfg_type t, double *out)
{
    static const struct {
        const char *unit;
        double mul;
    } units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1},
                 {"m", 60},    {"h", 3600},  {"d", 86400}};
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || isnan(x) || isinf(x))
        return false;
    while (*end == ' ')
        end++;
    if (*end == 0) {
        *out = x;
        return true;
    }
    if (t == CT_PERCENT && strcmp(end, "%") == 0) {
        *out = x;
        return true;
    }
    if (t == CT_SECONDS || t == CT_SECONDS_D)
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strcmp(end, units[i].unit) == 0) {
                *out = x * units[i].mul;
                return true;
            }
    return false;
}

/* Apply one key = value. 0, or ERR_ARG with the reason in err. */
static int cfg_apply(const struct cfg_key *k, const char *v, struct eng_config *cfg, char *why,
                     size_t whylen)
{
    char *base = (char *)cfg;
    double x;
    if (k->type == CT_SERVER) {
        if (cfg->nservers == ENG_MAX_SERVERS) {
            snprintf(why, whylen, "at most %d servers", ENG_MAX_SERVERS);
            return ERR_ARG;
        }
        if (pkt_endpoint_parse(v, &cfg->servers[cfg->nservers]) != 0) {
            snprintf(why, whylen, "'%s' is not ADDR, ADDR:PORT or [IPv6]:PORT", v);
            return ERR_ARG;
        }
        cfg->nservers++;
        return 0;
    }
    if (k->type == CT_CA_FILE) {
        size_t n = strlen(v);
        if (n == 0 || n >= sizeof(cfg_ca_files[0])) {
            snprintf(why, whylen, "a file name is expected");
            return ERR_ARG;
        }
        if (cfg->nca_files >= ENG_MAX_CA_FILES) {
            snprintf(why, whylen, "at most %d files (put the certificates in one bundle)",
                     ENG_MAX_CA_FILES);
            return ERR_ARG;
        }
        memcpy(cfg_ca_files[cfg->nca_files], v, n + 1);
        cfg->ca_files[cfg->nca_files] = cfg_ca_files[cfg->nca_files];
        cfg->nca_files++;
        return 0;
    }
    if (k->type == CT_DB) {
        size_t n = strlen(v);
        if (n == 0 || n >= sizeof(cfg_db)) {
            snprintf(why, whylen, "a file name is expected");
            return ERR_ARG;
        }
        memcpy(cfg_db, v, n + 1);
        return 0;
    }
    if (k->type == CT_WORKERS) {
        if (strcmp(v, "auto") == 0) {
            cfg_workers = 0;
            return 0;
        }
        if (!cfg_number(v, CT_U32, &x) || x < k->lo || x > k->hi || x != floor(x)) {
            snprintf(why, whylen, "'%s' is not auto or a whole number between %g and %g", v, k->lo,
                     k->hi);
            return ERR_ARG;
        }
        cfg_workers = (int)x;
        return 0;
    }
    if (k->type == CT_PATH) {
        size_t n = strlen(v);
        if (n == 0 || n >= sizeof(cfg_keylog)) {
            snprintf(why, whylen, "a file name is expected");
            return ERR_ARG;
        }
        memcpy(cfg_keylog, v, n + 1);
        const char *p = cfg_keylog;
        memcpy(base + k->off, &p, sizeof(p));
        return 0;
    }
    if (k->type == CT_BOOL) {
        static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false",
                                                                                    "off", "0"};
        for (size_t i = 0; i < 4; i++)
            if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
                bool b = strcasecmp(v, yes[i]) == 0;
                memcpy(base + k->off, &b, sizeof(b));
                return 0;
            }
        snprintf(why, whylen, "'%s' is not yes or no", v);
        return ERR_ARG;
    }
    if (!cfg_number(v, k->type, &x) || x < k->lo || x > k->hi) {
        static const char *const unit[] = {"seconds", "seconds", "percent", "", "", "",
                                           "",        "",        "",        "", "", ""};
        snprintf(why, whylen, "'%s' is not a number between %g and %g%s%s", v, k->lo, k->hi,
                 unit[k->type][0] ? " " : "", unit[k->type]);
        return ERR_ARG;
    }
    switch (k->type) {
    case CT_SECONDS: {
        uint64_t ns = (uint64_t)llround(x * 1e9);
        memcpy(base + k->off, &ns, sizeof(ns));
        break;
    }
    case CT_SECONDS_D:
    case CT_RATIO:
        memcpy(base + k->off, &x, sizeof(x));
        break;
    case CT_PERCENT: {
        double f = x / 100.0;
        memcpy(base + k->off, &f, sizeof(f));
        break;
    }
    case CT_U32: {
        uint32_t u = (uint32_t)x;
        memcpy(base + k->off, &u, sizeof(u));
        break;
    }
    default: {
        size_t z = (size_t)x;
        memcpy(base + k->off, &z, sizeof(z));
        break;
    }
    }
    return 0;
}

/* Parse one line (already without its newline). 0, or ERR_ARG with the reason in why. */
static int cfg_line(char *line, struct eng_config *cfg, char *why, size_t whylen)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = 0;
    char *s = cfg_trim(line);
    if (*s == 0)
        return 0;
    char *eq = strchr(s, '=');
    if (!eq) {
        snprintf(why, whylen, "expected 'key = value'");
        return ERR_ARG;
    }
    *eq = 0;
    char *key = cfg_trim(s), *val = cfg_trim(eq + 1);
    for (char *c = key; *c; c++)
        if (*c == '_')
            *c = '-';
    if (*val == 0) {
        snprintf(why, whylen, "'%s' has no value", key);
        return ERR_ARG;
    }
    for (size_t i = 0; i < sizeof(cfg_keys) / sizeof(cfg_keys[0]); i++)
        if (strcmp(key, cfg_keys[i].name) == 0) {
            char inner[256];
            if (cfg_apply(&cfg_keys[i], val, cfg, inner, sizeof(inner)) != 0) {
                snprintf(why, whylen, "%s: %s", key, inner);
                return ERR_ARG;
            }
            return 0;
        }
    snprintf(why, whylen, "unknown key '%s'", key);
    return ERR_ARG;
}

int cli_config_load(const char *path, struct eng_config *cfg, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read the configuration: %s", path, strerror(errno));
        return ERR_IO;
    }
    char line[CFG_LINE_MAX + 2];
    unsigned lineno = 0;
    int rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        size_t n = strlen(line);
        if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
            snprintf(err, errlen, "%s:%u: line longer than %d bytes", path, lineno, CFG_LINE_MAX);
            rc = ERR_ARG;
            break;
        }
        char why[400];
        if (cfg_line(line, cfg, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
            rc = ERR_ARG;
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = ERR_IO;
    }
    fclose(f);
    return rc;
}

int cli_config_set(const char *kv, struct eng_config *cfg, char *err, size_t errlen)
{
    char buf[4200], why[256];
    snprintf(buf, sizeof(buf), "%s", kv);
    char *eq = strchr(buf, '=');
    if (!eq) {
        snprintf(err, errlen, "--set '%s': KEY=VALUE expected", kv);
        return ERR_ARG;
    }
    *eq = 0;
    const char *key = cfg_trim(buf), *val = cfg_trim(eq + 1);
    for (size_t i = 0; i < sizeof(cfg_keys) / sizeof(cfg_keys[0]); i++) {
        if (strcmp(cfg_keys[i].name, key) != 0)
            continue;
        if (cfg_apply(&cfg_keys[i], val, cfg, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "--set %s: %s", key, why);
            return ERR_ARG;
        }
        return 0;
    }
    snprintf(err, errlen, "--set: unknown key '%s' (the keys are the configuration file's)", key);
    return ERR_ARG;
}
