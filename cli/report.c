/*
 * report.c - `flowmedic report DB [DB ...]`: reads flowmedic databases (read-only, several
 * sensors' at once: each is ATTACHed with mode=ro and their rows are unioned, labelled by
 * sensor) and prints the runs, per-server totals and rates, findings by kind and severity, TLS
 * failures, alerts, the worst flows and recent errors, as text (local time, or UTC with --utc)
 * or one JSON object (--json). Filters: --run, --sensor, --server, --since, --until.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* localtime_r, gmtime_r under -std=c11 */
#endif
#include "cli/report.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "analyzers/finding.h"
#include "capture/decode.h"
#include "capture/log.h"
#include "capture/text.h"
#include "cli/json.h"
#include "store/schema.h"

enum { REPORT_OK = 0, REPORT_RUNTIME = 1, REPORT_USAGE = 2 };

#define REPORT_DETAIL_MAX 200 /* detail cells are cut at this many bytes */
#define REPORT_CELL_MAX 96    /* text cells are cut at this many bytes */
#define REPORT_ESC_MAX 4096   /* a text cell escaped for the terminal, before the cut */
#define REPORT_MAX_COLS 24    /* columns a section may have */
#define REPORT_MAX_DBS 32     /* databases in one report (SQLite attaches at most 125) */
#define REPORT_SQL_MAX 8192   /* a statement built at run time */

/* What the command line asked for. */
struct ropts {
    const char *dbs[REPORT_MAX_DBS]; /* the database files, in command-line order */
    size_t ndb;                      /* entries in dbs */
    const char *db;                  /* what messages call them: the one file, or what (below) */
    char what[512];                  /* "A.db, B.db, ..." when there are several */
    bool has_sensor;                 /* --sensor given */
    char sensor[256];                /* --sensor NAME */
    bool has_run;         /* --run given */
    int64_t run;          /* --run N */
    bool has_server;      /* --server given */
    char server_ip[64];   /* --server address, formatted as the store writes it */
    uint16_t server_port; /* --server port, 0 = any */
    char server_arg[128]; /* --server as given */
    bool has_since;       /* --since given */
    double since;         /* seconds since the epoch */
    bool has_until;       /* --until given */
    double until;         /* seconds since the epoch */
    bool utc;             /* --utc: times in UTC */
    bool json;            /* --json: one JSON object */
};

/* A report in progress. */
struct report {
    sqlite3 *db;           /* read-only connection */
    const struct ropts *o; /* options */
    FILE *out;             /* stdout */
    bool first_key;        /* JSON: no member written yet in the top object */
    int64_t ver[REPORT_MAX_DBS]; /* each database's schema version (PRAGMA user_version) */
    dev_t dev[REPORT_MAX_DBS];   /* each database file's device and inode: one file twice */
    ino_t ino[REPORT_MAX_DBS];   /* would count its rows twice */
    bool label;                  /* name the sensor in each row (JSON, or several sensors) */
    char sql[REPORT_SQL_MAX];    /* a statement built at run time (sql_for) */
};

static void usage(FILE *to)
{
    fputs("usage: flowmedic report DB [DB ...] [--run N] [--sensor NAME] [--server ADDR[:PORT]]\n"
          "                        [--since T] [--until T] [--utc] [--json]\n"
          "  DB              a database written by flowmedic -w; several (e.g. one per sensor)\n"
          "                  are read together, each row labelled with its sensor\n"
          "  --run N         only run N (of each database; default: every run)\n"
          "  --sensor NAME   only the runs of sensor NAME (flowmedic --sensor; a database from\n"
          "                  before schema 6 is named after its file, without .db)\n"
          "  --server A[:P]  only this server endpoint (IPv6 as [addr]:port)\n"
          "  --since T       only what happened at or after T\n"
          "  --until T       only what happened before T\n"
          "                  T is epoch seconds or ISO 8601: 2024-05-01T10:00:00,\n"
          "                  \"2024-05-01 10:00\", 2024-05-01, with Z or +02:00 for a zone;\n"
          "                  without a zone, local time (UTC with --utc)\n"
          "  --utc           print times in UTC instead of local time\n"
          "  --json          print one JSON object instead of text\n",
          to);
}

/* ---- time parsing and printing ---- */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Read exactly n digits at *p into *v; false if they are not there. */
static bool digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return true;
}

/*
 * Parse T: epoch seconds ("1714557600", "1714557600.25") or ISO 8601
 * ("2024-05-01", "2024-05-01T10:00", "2024-05-01 10:00:00.5", with "Z" or "+02:00").
 * Without a zone it is local time, or UTC when utc is set. 0 or ERR_ARG.
 */
static int parse_time(const char *s, bool utc, double *out)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    double frac = 0;

    if (*s == '\0')
        return ERR_ARG;
    if (strspn(s, "0123456789.") == strlen(s)) {
        char *end = NULL;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || !end || *end)
            return ERR_ARG;
        *out = v;
        return 0;
    }
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return ERR_ARG;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
            return ERR_ARG;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &sec))
                return ERR_ARG;
            if (*p == '.' || *p == ',') {
                double scale = 0.1;
                p++;
                if (!isdigit((unsigned char)*p))
                    return ERR_ARG;
                while (isdigit((unsigned char)*p)) {
                    frac += (*p++ - '0') * scale;
                    scale /= 10;
                }
            }
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return ERR_ARG;

    bool zoned = false;
    int offset = 0; /* seconds east of UTC */
    if (*p == 'Z' || *p == 'z') {
        zoned = true;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
        if (!digits(&p, 2, &oh))
            return ERR_ARG;
        if (*p == ':')
            p++;
        if (isdigit((unsigned char)*p) && !digits(&p, 2, &om))
            return ERR_ARG;
        if (oh > 23 || om > 59)
            return ERR_ARG;
        zoned = true;
        offset = sign * (oh * 3600 + om * 60);
    }
    if (*p != '\0')
        return ERR_ARG;

    if (zoned || utc) {
        int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
                    sec - offset;
        *out = (double)t + frac;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    if (t == (time_t)-1 && !(y == 1969 && mo == 12 && d == 31))
        return ERR_ARG;
    *out = (double)t + frac;
    return 0;
}

/* "2024-05-01 10:00:00" (with ".123" when ms is set) in local time or UTC. */
static const char *fmt_time(double t, bool utc, bool ms, char *buf, size_t len)
{
    time_t sec = (time_t)t;
    if ((double)sec > t)
        sec--;
    struct tm tm;
    if (!(utc ? gmtime_r(&sec, &tm) : localtime_r(&sec, &tm))) {
        snprintf(buf, len, "%.3f", t);
        return buf;
    }
    size_t n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
    if (ms && n > 0 && n < len) {
        int msec = (int)((t - (double)sec) * 1000.0);
        if (msec > 999)
            msec = 999;
        snprintf(buf + n, len - n, ".%03d", msec);
    }
    return buf;
}

/* ---- options ---- */

/* The value of --opt V or --opt=V at argv[*i]; NULL if this is not opt. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt, bool *missing)
{
    size_t n = strlen(opt);
    const char *a = argv[*i];
    *missing = false;
    if (strncmp(a, opt, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

static int parse_opts(int argc, char **argv, struct ropts *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        bool missing = false;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(a, "--utc") == 0) {
            o->utc = true;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if ((v = opt_value(argc, argv, &i, "--run", &missing)) || missing) {
            char *end = NULL;
            if (missing) {
                log_error("report: --run needs a run number");
                return ERR_ARG;
            }
            errno = 0;
            long long n = strtoll(v, &end, 10);
            if (errno || !end || *end || end == v || n < 1) {
                log_error("report: --run %s: not a run number (1, 2, ...)", v);
                return ERR_ARG;
            }
            o->has_run = true;
            o->run = n;
        } else if ((v = opt_value(argc, argv, &i, "--server", &missing)) || missing) {
            struct endpoint e;
            if (missing || pkt_endpoint_parse(v, &e) != 0) {
                log_error("report: --server %s: expected ADDR, ADDR:PORT or [ADDR6]:PORT",
                          missing ? "" : v);
                return ERR_ARG;
            }
            o->has_server = true;
            pkt_addr_str(&e.ip, o->server_ip, sizeof(o->server_ip));
            o->server_port = e.port;
            snprintf(o->server_arg, sizeof(o->server_arg), "%s", v);
        } else if ((v = opt_value(argc, argv, &i, "--since", &missing)) || missing) {
            if (missing || parse_time(v, false, &o->since) != 0) {
                log_error("report: --since %s: expected epoch seconds or an ISO 8601 time "
                          "such as 2024-05-01T10:00:00",
                          missing ? "" : v);
                return ERR_ARG;
            }
            o->has_since = true;
        } else if ((v = opt_value(argc, argv, &i, "--until", &missing)) || missing) {
            if (missing || parse_time(v, false, &o->until) != 0) {
                log_error("report: --until %s: expected epoch seconds or an ISO 8601 time "
                          "such as 2024-05-01T10:00:00",
                          missing ? "" : v);
                return ERR_ARG;
            }
            o->has_until = true;
        } else if ((v = opt_value(argc, argv, &i, "--sensor", &missing)) || missing) {
            if (missing || !v[0] || strlen(v) >= sizeof(o->sensor)) {
                log_error("report: --sensor needs a sensor name");
                return ERR_ARG;
            }
            o->has_sensor = true;
            snprintf(o->sensor, sizeof(o->sensor), "%s", v);
        } else if (a[0] == '-' && a[1] != '\0') {
            log_error("report: unknown option %s", a);
            return ERR_ARG;
        } else if (o->ndb == REPORT_MAX_DBS) {
            log_error("report: at most %d databases at once", REPORT_MAX_DBS);
            return ERR_ARG;
        } else {
            o->dbs[o->ndb++] = a;
        }
    }
    if (!o->ndb) {
        log_error("report: which database? (flowmedic report FILE.db [FILE.db ...])");
        return ERR_ARG;
    }
    o->db = o->dbs[0];
    if (o->ndb > 1) {
        size_t used = 0;
        for (size_t k = 0; k < o->ndb && used < sizeof(o->what); k++)
            used += (size_t)snprintf(o->what + used, sizeof(o->what) - used, "%s%s", k ? ", " : "",
                                     o->dbs[k]);
        o->db = o->what;
    }
    return 0;
}

/*
 * Times without a zone are local time unless --utc is given; --utc may come after
 * --since, so those are parsed again once every option is known.
 */
static int reparse_times(int argc, char **argv, struct ropts *o)
{
    if (!o->utc)
        return 0;
    for (int i = 1; i < argc; i++) {
        bool missing;
        int j = i;
        const char *v = opt_value(argc, argv, &j, "--since", &missing);
        if (v && parse_time(v, true, &o->since) != 0)
            return ERR_ARG;
        j = i;
        v = opt_value(argc, argv, &j, "--until", &missing);
        if (v && parse_time(v, true, &o->until) != 0)
            return ERR_ARG;
    }
    return 0;
}

/* ---- database ---- */

/*
 * SQL wireshark_filter(client, server): the finding's Wireshark display filter, made by the
 * one generator (finding.h) from the stored endpoints (client NULL: server-level).
 */
static void sql_wireshark_filter(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct endpoint c, s;
    char buf[WIRESHARK_FILTER_MAX];
    const char *ct = argc == 2 ? (const char *)sqlite3_value_text(argv[0]) : NULL;
    const char *st = argc == 2 ? (const char *)sqlite3_value_text(argv[1]) : NULL;
    if (!st || pkt_endpoint_parse(st, &s) != 0 || (ct && pkt_endpoint_parse(ct, &c) != 0) ||
        !wireshark_filter(ct ? &c : NULL, &s, buf, sizeof(buf))) {
        sqlite3_result_null(ctx);
        return;
    }
    sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

/* SQL cipher_name(code): the suite's IANA name (tls_cipher_name); NULL for NULL. */
static void sql_cipher_name(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    char buf[8];
    if (argc != 1 || sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    sqlite3_int64 cs = sqlite3_value_int64(argv[0]);
    if (cs < 0 || cs > 0xffff) {
        sqlite3_result_null(ctx);
        return;
    }
    sqlite3_result_text(ctx, tls_cipher_name((uint16_t)cs, buf, sizeof(buf)), -1, SQLITE_TRANSIENT);
}

/*
 * SQL alert_names(bits): the open alert rules of a health row (health_row.open_alerts) by
 * name, comma separated ("resp_p99,error_rate"); NULL when none is open.
 */
static void sql_alert_names(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    char buf[256];
    size_t at = 0;
    sqlite3_int64 bits = argc == 1 ? sqlite3_value_int64(argv[0]) : 0;
    buf[0] = '\0';
    for (int i = 0; i < 32; i++) {
        if (!(bits & ((sqlite3_int64)1 << i)))
            continue;
        /* a bit this flowmedic has no rule for (a newer database) prints as its number */
        char num[16];
        const char *name = i < AR__COUNT ? alert_rule_name((enum alert_rule)i) : NULL;
        if (!name) {
            snprintf(num, sizeof(num), "bit%d", i);
            name = num;
        }
        int n = snprintf(buf + at, sizeof(buf) - at, "%s%s", at ? "," : "", name);
        if (n < 0 || (size_t)n >= sizeof(buf) - at)
            break;
        at += (size_t)n;
    }
    if (at)
        sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
    else
        sqlite3_result_null(ctx);
}

/*
 * path as a read-only SQLite URI, "file:PATH?mode=ro": every byte but the unreserved ones and
 * '/' percent-encoded (RFC 3986), so '?', '#' and '%' in a file name stay part of it.
 */
static void ro_uri(const char *path, char *buf, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = (size_t)snprintf(buf, len, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p && o + 4 < len; p++) {
        if (isalnum(*p) || strchr("-._~/", *p)) {
            buf[o++] = (char)*p;
        } else {
            buf[o++] = '%';
            buf[o++] = hex[*p >> 4];
            buf[o++] = hex[*p & 15];
        }
    }
    buf[o < len ? o : len - 1] = '\0';
    snprintf(buf + strlen(buf), len - strlen(buf), "?mode=ro");
}

/* Run one statement without results on r->db. SQLITE_OK or its error code. */
static int exec_sql(struct report *r, const char *sql)
{
    return sqlite3_exec(r->db, sql, NULL, NULL, NULL);
}

/*
 * Attach database i as s<i>, read-only, and check that it is a flowmedic database this
 * flowmedic can read (its schema version is kept in r->ver[i]). 0 or ERR_* with err.
 */
static int attach_db(struct report *r, size_t i, char *err, size_t errlen)
{
    struct stat sb;
    const char *path = r->o->dbs[i];
    if (stat(path, &sb) != 0) {
        snprintf(err, errlen, "cannot open database %s: %s", path, strerror(errno));
        return ERR_IO;
    }
    if (!S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "%s is not a database file", path);
        return ERR_IO;
    }
    for (size_t k = 0; k < i; k++)
        if (r->dev[k] == sb.st_dev && r->ino[k] == sb.st_ino) {
            snprintf(err, errlen, "%s and %s are the same database (given twice)", r->o->dbs[k],
                     path);
            return ERR_ARG;
        }
    r->dev[i] = sb.st_dev;
    r->ino[i] = sb.st_ino;
    char uri[3 * 4096 + 32], sql[128];
    sqlite3_stmt *st = NULL;
    int64_t app = 0, ver = 0;
    ro_uri(path, uri, sizeof(uri));
    snprintf(sql, sizeof(sql), "ATTACH ?1 AS s%zu", i);
    int rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(r->db);
    }
    sqlite3_finalize(st);
    st = NULL;
    for (int k = 0; k < 2 && rc == SQLITE_OK; k++) {
        snprintf(sql, sizeof(sql), "PRAGMA s%zu.%s", i, k ? "user_version" : "application_id");
        rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
        if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            *(k ? &ver : &app) = sqlite3_column_int64(st, 0);
        else if (rc == SQLITE_OK)
            rc = sqlite3_errcode(r->db);
        sqlite3_finalize(st);
        st = NULL;
    }
    if (rc == SQLITE_NOTADB) {
        snprintf(err, errlen, "%s is not a flowmedic database (it is not a SQLite database)", path);
        return ERR_FORMAT;
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot read database %s: %s", path, sqlite3_errmsg(r->db));
        return ERR_DB;
    }
    if (app != STORE_APPLICATION_ID || ver < 1) {
        snprintf(err, errlen, "%s is not a flowmedic database", path);
        return ERR_FORMAT;
    }
    if (ver > STORE_SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "%s was written by a newer flowmedic (schema version %" PRId64
                 ", this one reads up to %d); use a newer flowmedic",
                 path, ver, STORE_SCHEMA_VERSION);
        return ERR_FORMAT;
    }
    r->ver[i] = ver;
    return 0;
}

/*
 * The report's connection: an in-memory database that holds this flowmedic's schema, empty
 * (every migration step run on it: the column set each selection table gets), with every
 * database given attached read-only. 0 or ERR_* with err.
 */
static int open_db(struct report *r, char *err, size_t errlen)
{
    int rc = sqlite3_open_v2(":memory:", &r->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(r->db, "wireshark_filter", 2,
                                     SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_wireshark_filter,
                                     NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(r->db, "cipher_name", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                     NULL, sql_cipher_name, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(r->db, "alert_names", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                     NULL, sql_alert_names, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_limit(r->db, SQLITE_LIMIT_ATTACHED, REPORT_MAX_DBS) >= 0 ? SQLITE_OK
                                                                              : SQLITE_ERROR;
    for (int v = 0; rc == SQLITE_OK && v < STORE_SCHEMA_VERSION; v++)
        rc = exec_sql(r, store_schema_steps[v]);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot set up the report: %s",
                 r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
        return ERR_DB;
    }
    sqlite3_busy_timeout(r->db, 5000);
    for (size_t i = 0; i < r->o->ndb; i++) {
        int e = attach_db(r, i, err, errlen);
        if (e != 0)
            return e;
    }
    return 0;
}

/* Bind every filter parameter the statement uses (:run, :sip, :sport, :since, :until). */
static void bind_filters(const struct report *r, sqlite3_stmt *st)
{
    const struct ropts *o = r->o;
    int i;
    if ((i = sqlite3_bind_parameter_index(st, ":run")) && o->has_run)
        sqlite3_bind_int64(st, i, o->run);
    if ((i = sqlite3_bind_parameter_index(st, ":sip")) && o->has_server)
        sqlite3_bind_text(st, i, o->server_ip, -1, SQLITE_STATIC);
    if ((i = sqlite3_bind_parameter_index(st, ":sport")) && o->has_server && o->server_port)
        sqlite3_bind_int(st, i, o->server_port);
    if ((i = sqlite3_bind_parameter_index(st, ":since")) && o->has_since)
        sqlite3_bind_double(st, i, o->since);
    if ((i = sqlite3_bind_parameter_index(st, ":until")) && o->has_until)
        sqlite3_bind_double(st, i, o->until);
    if ((i = sqlite3_bind_parameter_index(st, ":sensor")) && o->has_sensor)
        sqlite3_bind_text(st, i, o->sensor, -1, SQLITE_STATIC);
    /* Names of flow closes and TLS outcomes, as the store wrote them. */
    if ((i = sqlite3_bind_parameter_index(st, ":c_refused")))
        sqlite3_bind_text(st, i, close_name(CLOSE_REFUSED), -1, SQLITE_STATIC);
    if ((i = sqlite3_bind_parameter_index(st, ":c_unanswered")))
        sqlite3_bind_text(st, i, close_name(CLOSE_UNANSWERED), -1, SQLITE_STATIC);
    if ((i = sqlite3_bind_parameter_index(st, ":t_completed")))
        sqlite3_bind_text(st, i, tls_outcome_name(TLS_COMPLETED), -1, SQLITE_STATIC);
    if ((i = sqlite3_bind_parameter_index(st, ":t_progress")))
        sqlite3_bind_text(st, i, tls_outcome_name(TLS_IN_PROGRESS), -1, SQLITE_STATIC);
}

static int exec_bound(struct report *r, const char *sql, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        bind_filters(r, st);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE || rc == SQLITE_ROW)
            rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK)
        snprintf(err, errlen, "reading database %s failed: %s", r->o->db, sqlite3_errmsg(r->db));
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0 : ERR_DB;
}

#define SERVER_FILTER                                                                              \
    "(:sip IS NULL OR (server_ip = :sip AND (:sport IS NULL OR server_port = :sport)))"
#define RUN_FILTER "(:run IS NULL OR run_id = :run)"

/*
 * sel_kinds: what each finding kind means (layer, failure reason), from the kind table of
 * this flowmedic (fk_info), so the report never spells a kind's meaning out in SQL.
 */
static int kinds_table(struct report *r, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_exec(r->db,
                          "CREATE TEMP TABLE sel_kinds (kind TEXT PRIMARY KEY, layer TEXT NOT NULL,"
                          " fail TEXT, data_retransmission INTEGER NOT NULL)",
                          NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(r->db, "INSERT INTO sel_kinds VALUES (?, ?, ?, ?)", -1, &st, NULL);
    for (int k = 0; rc == SQLITE_OK && k < FK__COUNT; k++) {
        const struct fk_info *i = fk_info((enum fkind)k);
        sqlite3_bind_text(st, 1, i->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, fk_layer_name(i->layer), -1, SQLITE_STATIC);
        if (i->fail != FAIL_NONE)
            sqlite3_bind_text(st, 3, fail_name(i->fail), -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 3);
        sqlite3_bind_int(st, 4, i->data_retransmission);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(r->db);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "reading database %s failed: %s", r->o->db, sqlite3_errmsg(r->db));
        return ERR_DB;
    }
    return 0;
}

/*
 * What each selection table is made of: a table of every database, the run column that
 * --run and the sensor label go by, the time filter (--since, --until), and whether --server
 * applies.
 */
/* A column added by a schema step, read from an older database as the step's migration does. */
struct sel_legacy_col {
    const char *col;  /* the column */
    const char *expr; /* SQL over the older row (NULL ends the list) */
};

/* A table added by a schema step, read from an older database as the step's migration does. */
struct sel_legacy_table {
    const char *needs_table, *needs_col; /* what the older database must have */
    /* the rows of schema S's older tables, columns named as the table's */
    void (*query)(char *buf, size_t len, const char *schema);
};

/* Findings before version 3: side, phase and ttl_mismatch were in the JSON extra. */
static const struct sel_legacy_col findings_v3[] = {
    {"side", STORE_V3_SIDE_SQL},
    {"phase", STORE_V3_PHASE_SQL},
    {"ttl_mismatch", STORE_V3_TTL_MISMATCH_SQL},
    {NULL, NULL},
};

/* Incident requests before version 8: in the incidents' evidence JSON. */
static void incident_requests_v8_sql(char *buf, size_t len, const char *schema)
{
    snprintf(buf, len, STORE_V8_REQUESTS_SQL("%s"), schema);
}

static const struct sel_legacy_table incident_requests_v8 = {"incidents", "evidence",
                                                             incident_requests_v8_sql};

struct sel_source {
    const char *table;   /* the table in each database */
    const char *sel;     /* the temporary table its selected rows go to */
    const char *run_col; /* its run id column (NULL: it is the runs table) */
    const char *when;    /* the time filter */
    bool by_server;      /* has server_ip and server_port */
    /* an older schema's column this one lacks: read by its migration's expression */
    const struct sel_legacy_col *legacy_cols;
    /* an older schema without the table: its migration's query over what it had */
    const struct sel_legacy_table *legacy_table;
};

#define SEL_TS_WHEN "(:since IS NULL OR ts >= :since) AND (:until IS NULL OR ts < :until)"

static const struct sel_source sel_sources[] = {
    {.table = "runs", .sel = "sel_runs", .when = "1"},
    {.table = "flows", .sel = "sel_flows", .run_col = "run_id", .by_server = true,
     .when = "(:since IS NULL OR last_ts >= :since) AND (:until IS NULL OR first_ts < :until)"},
    {.table = "findings", .sel = "sel_findings", .run_col = "run_id", .by_server = true,
     .when = SEL_TS_WHEN, .legacy_cols = findings_v3},
    {.table = "tls_handshakes", .sel = "sel_tls", .run_col = "run_id", .by_server = true,
     .when = SEL_TS_WHEN},
    {.table = "server_health", .sel = "sel_health", .run_col = "run_id", .by_server = true,
     .when = "(:since IS NULL OR start + len > :since) AND (:until IS NULL OR start < :until)"},
    {.table = "alerts", .sel = "sel_alerts", .run_col = "run_id", .by_server = true,
     .when = "(:since IS NULL OR coalesce(closed, 1e18) >= :since) AND"
             " (:until IS NULL OR opened < :until)"},
    {.table = "incidents", .sel = "sel_incidents", .run_col = "run_id", .by_server = true,
     .when = "(:since IS NULL OR coalesce(until, updated) >= :since) AND"
             " (:until IS NULL OR since < :until)"},
    {.table = "certificates", .sel = "sel_certs", .run_col = "last_run_id", .when = "1"},
    {.table = "http_requests", .sel = "sel_http", .run_col = "run_id", .by_server = true,
     .when = SEL_TS_WHEN},
    {.table = "incident_requests", .sel = "sel_increq", .run_col = "run_id", .when = "1",
     .legacy_table = &incident_requests_v8},
};

#define REPORT_MAX_TABLE_COLS 128 /* columns of one table read */

/* The column names of schema.table (at most REPORT_MAX_TABLE_COLS); -1 on error. */
static int table_cols(struct report *r, const char *schema, const char *table, char names[][64])
{
    sqlite3_stmt *st = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(r->db, "SELECT name FROM pragma_table_info(?1, ?2)", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, schema, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW && n < REPORT_MAX_TABLE_COLS)
        snprintf(names[n++], 64, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return n;
}

/* The column names of a query's rows (at most REPORT_MAX_TABLE_COLS); -1 on error. */
static int query_cols(struct report *r, const char *query, char names[][64])
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db, query, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int n = sqlite3_column_count(st);
    if (n > REPORT_MAX_TABLE_COLS)
        n = REPORT_MAX_TABLE_COLS;
    for (int c = 0; c < n; c++)
        snprintf(names[c], 64, "%s", sqlite3_column_name(st, c));
    sqlite3_finalize(st);
    return n;
}

static bool has_col(char names[][64], int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* The label of a database's runs without a sensor: its file name without ".db". */
static void fallback_sensor(const char *path, char *buf, size_t len)
{
    const char *base = strrchr(path, '/');
    snprintf(buf, len, "%s", base ? base + 1 : path);
    size_t n = strlen(buf);
    if (n > 3 && strcmp(buf + n - 3, ".db") == 0)
        buf[n - 3] = '\0';
}

/*
 * Copy the selected rows of database i's src->table into src->sel, by column name: a column
 * the database lacks (an older schema: opened read-only, it is not migrated) stays NULL, or
 * for findings before version 3 is read from the JSON extra as the v3 migration does. Each row
 * gets the sensor of its run and the database's index. A table the database lacks adds none.
 */
static int select_from(struct report *r, size_t i, const struct sel_source *src, char *err,
                       size_t errlen)
{
    static char mine[REPORT_MAX_TABLE_COLS][64], theirs[REPORT_MAX_TABLE_COLS][64],
        runs[REPORT_MAX_TABLE_COLS][64];
    char schema[24], fb[256];
    snprintf(schema, sizeof(schema), "s%zu", i);
    int nm = table_cols(r, "main", src->table, mine);
    int nt = table_cols(r, schema, src->table, theirs);
    int nr = table_cols(r, schema, "runs", runs);
    if (nm < 0 || nt < 0 || nr < 0) {
        snprintf(err, errlen, "reading database %s failed: %s", r->o->dbs[i],
                 sqlite3_errmsg(r->db));
        return ERR_DB;
    }
    char source[2048];
    if (nt == 0) {
        /* an older schema without this table: none of it, or its migration's reading */
        const struct sel_legacy_table *lt = src->legacy_table;
        if (!lt)
            return 0;
        char had[REPORT_MAX_TABLE_COLS][64];
        int nh = table_cols(r, schema, lt->needs_table, had);
        if (nh < 0 || !has_col(had, nh, lt->needs_col))
            return 0;
        char q[sizeof(source) - 2];
        lt->query(q, sizeof(q), schema);
        nt = query_cols(r, q, theirs);
        if (nt <= 0) {
            snprintf(err, errlen, "reading database %s failed: %s", r->o->dbs[i],
                     sqlite3_errmsg(r->db));
            return ERR_DB;
        }
        snprintf(source, sizeof(source), "(%s)", q);
    } else {
        snprintf(source, sizeof(source), "%s.%s", schema, src->table);
    }
    fallback_sensor(r->o->dbs[i], fb, sizeof(fb));
    char *fbq = sqlite3_mprintf("%Q", fb);
    char into[4096], from[6144];
    size_t ui = 0, uf = 0;
    for (int c = 0; c < nm; c++) {
        const char *expr = NULL;
        if (has_col(theirs, nt, mine[c]))
            expr = mine[c];
        for (const struct sel_legacy_col *l = src->legacy_cols; !expr && l && l->col; l++)
            if (strcmp(mine[c], l->col) == 0)
                expr = l->expr;
        if (!expr)
            continue;
        ui += (size_t)snprintf(into + ui, ui < sizeof(into) ? sizeof(into) - ui : 0, ",\"%s\"",
                               mine[c]);
        uf += (size_t)snprintf(from + uf, uf < sizeof(from) ? sizeof(from) - uf : 0, ",%s%s%s",
                               expr == mine[c] ? "t.\"" : "", expr, expr == mine[c] ? "\"" : "");
    }
    char sensor[512];
    if (src->run_col && has_col(runs, nr, "sensor"))
        snprintf(sensor, sizeof(sensor),
                 "coalesce((SELECT rr.sensor FROM %s.runs rr WHERE rr.id = t.%s), %s)", schema,
                 src->run_col, fbq);
    else
        snprintf(sensor, sizeof(sensor), "%s", fbq);
    int n;
    if (!src->run_col)
        n = snprintf(r->sql, sizeof(r->sql),
                     "INSERT INTO sel_runs (db%s) SELECT %zu%s FROM %s.runs t", into, i, from,
                     schema);
    else
        n = snprintf(r->sql, sizeof(r->sql),
                     "INSERT INTO %s (sensor, db%s) SELECT %s, %zu%s FROM %s t"
                     " WHERE (:run IS NULL OR t.%s = :run) AND %s AND %s",
                     src->sel, into, sensor, i, from, source, src->run_col,
                     src->by_server ? SERVER_FILTER : "1", src->when);
    if (ui >= sizeof(into) || uf >= sizeof(from) || n < 0 || (size_t)n >= sizeof(r->sql)) {
        sqlite3_free(fbq);
        snprintf(err, errlen, "reading database %s failed: table %s has too many columns",
                 r->o->dbs[i], src->table);
        return ERR_DB;
    }
    int rc = exec_bound(r, r->sql, err, errlen);
    if (rc == 0 && !src->run_col) { /* a run without a sensor: named after its file */
        snprintf(r->sql, sizeof(r->sql),
                 "UPDATE sel_runs SET sensor = %s WHERE db = %zu AND sensor IS NULL", fbq, i);
        rc = exec_bound(r, r->sql, err, errlen);
    }
    sqlite3_free(fbq);
    return rc;
}
/*
 * The selection, as temporary tables: every section reads these. Each has the columns of this
 * flowmedic's table plus the sensor of the row's run and the index of its database (sel_runs
 * has its own sensor column); the rows of every database are in it.
 */
static int select_rows(struct report *r, char *err, size_t errlen)
{
    size_t nsrc = sizeof(sel_sources) / sizeof(sel_sources[0]);
    for (size_t k = 0; k < nsrc; k++) {
        const struct sel_source *src = &sel_sources[k];
        snprintf(r->sql, sizeof(r->sql),
                 "CREATE TEMP TABLE %s AS SELECT %s0 AS db, * FROM main.%s WHERE 0", src->sel,
                 src->run_col ? "NULL AS sensor, " : "", src->table);
        if (exec_bound(r, r->sql, err, errlen) != 0)
            return ERR_DB;
        for (size_t i = 0; i < r->o->ndb; i++)
            if (select_from(r, i, src, err, errlen) != 0)
                return ERR_DB;
        if (r->o->has_sensor) {
            snprintf(r->sql, sizeof(r->sql), "DELETE FROM %s WHERE sensor IS NOT :sensor",
                     src->sel);
            if (exec_bound(r, r->sql, err, errlen) != 0)
                return ERR_DB;
        }
    }
    /* The databases, for the runs' and the JSON's "databases". */
    if (exec_bound(r,
                   "CREATE TEMP TABLE sel_dbs (db INTEGER PRIMARY KEY, path TEXT, "
                   "schema_version INTEGER)",
                   err, errlen) != 0)
        return ERR_DB;
    for (size_t i = 0; i < r->o->ndb; i++) {
        char *q = sqlite3_mprintf("INSERT INTO sel_dbs VALUES (%d, %Q, %lld)", (int)i, r->o->dbs[i],
                                  (long long)r->ver[i]);
        int rc = q ? exec_bound(r, q, err, errlen) : ERR_DB;
        sqlite3_free(q);
        if (rc != 0)
            return ERR_DB;
    }
    /* Median handshake RTTs per sensor and server (lower median). */
    static const char median[] =
        "CREATE TEMP TABLE sel_median AS SELECT sensor, server,"
        " max(CASE WHEN which = 0 AND rn = (n + 1) / 2 THEN v END) AS srv,"
        " max(CASE WHEN which = 1 AND rn = (n + 1) / 2 THEN v END) AS cli FROM ("
        " SELECT sensor, server, 0 AS which, hs_rtt_server AS v,"
        " row_number() OVER (PARTITION BY sensor, server ORDER BY hs_rtt_server) AS rn,"
        " count(*) OVER (PARTITION BY sensor, server) AS n FROM sel_flows"
        " WHERE hs_rtt_server IS NOT NULL"
        " UNION ALL SELECT sensor, server, 1, hs_rtt_client,"
        " row_number() OVER (PARTITION BY sensor, server ORDER BY hs_rtt_client),"
        " count(*) OVER (PARTITION BY sensor, server) FROM sel_flows"
        " WHERE hs_rtt_client IS NOT NULL) GROUP BY sensor, server";
    if (exec_bound(r, median, err, errlen) != 0)
        return ERR_DB;
    /* Name the sensor in every row when there are several (JSON: always). */
    sqlite3_stmt *st = NULL;
    int64_t nsensors = 0;
    if (sqlite3_prepare_v2(r->db, "SELECT count(DISTINCT sensor) FROM sel_runs", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        nsensors = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    r->label = r->o->json || r->o->ndb > 1 || nsensors > 1;
    return kinds_table(r, err, errlen);
}

/*
 * sql with its sensor tokens replaced: "{S}" by "sensor, " and "{FS}" by "f.sensor AS sensor, "
 * when rows are labelled with their sensor, by nothing otherwise. The result is r->sql.
 */
static const char *sql_for(struct report *r, const char *sql)
{
    size_t o = 0;
    for (const char *p = sql; *p && o + 32 < sizeof(r->sql); p++) {
        const char *rep = NULL;
        size_t skip = 0;
        if (strncmp(p, "{S}", 3) == 0)
            rep = "sensor, ", skip = 3;
        else if (strncmp(p, "{FS}", 4) == 0)
            rep = "f.sensor AS sensor, ", skip = 4;
        if (!rep) {
            r->sql[o++] = *p;
            continue;
        }
        if (r->label)
            o += (size_t)snprintf(r->sql + o, sizeof(r->sql) - o, "%s", rep);
        p += skip - 1;
    }
    r->sql[o] = '\0';
    return r->sql;
}

/* ---- output ---- */

/* Columns that hold times (REAL seconds since the epoch). */
static bool is_time_col(const char *name)
{
    static const char *const names[] = {"ts",        "started",    "ended",    "first_ts",
                                        "last_ts",   "opened",     "closed",   "start",
                                        "not_after", "first_seen", "last_seen",
                                        "since",     "until",      "updated",  "first",
                                        "last"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * Text of column c escaped for a terminal (capture/text.h): every string in the database may
 * have come from the wire (SNI, certificate names, HTTP lines). NULL when the column is NULL.
 */
static const char *col_text(sqlite3_stmt *st, int c, char *buf, size_t len)
{
    const char *t = (const char *)sqlite3_column_text(st, c);
    return t ? text_term(t, buf, len) : NULL;
}

/*
 * Text of column c escaped for a terminal (col_text), or def when NULL. The result lives in
 * one of a few rotating buffers, so several may appear in one printf.
 */
static const char *col_esc(sqlite3_stmt *st, int c, const char *def)
{
    static char bufs[8][4096];
    static unsigned next;
    char *b = bufs[next++ % 8];
    const char *t = col_text(st, c, b, sizeof(bufs[0]));
    return t ? t : def;
}

/* Text of one cell; *num says whether to right-align it. */
static const char *cell_text(const struct report *r, sqlite3_stmt *st, int c, char *buf, size_t len,
                             bool *num)
{
    const char *name = sqlite3_column_name(st, c);
    int type = sqlite3_column_type(st, c);
    *num = type == SQLITE_INTEGER || type == SQLITE_FLOAT;
    if (type == SQLITE_NULL) {
        *num = true;
        return "-";
    }
    if (is_time_col(name) && *num) {
        *num = false;
        return fmt_time(sqlite3_column_double(st, c), r->o->utc, strcmp(name, "ts") == 0, buf, len);
    }
    if (type == SQLITE_INTEGER) {
        snprintf(buf, len, "%lld", (long long)sqlite3_column_int64(st, c));
    } else if (type == SQLITE_FLOAT) {
        double v = sqlite3_column_double(st, c);
        if (ends_with(name, "_pct") || ends_with(name, "_ms"))
            snprintf(buf, len, "%.2f", v);
        else if (strstr(name, "days"))
            snprintf(buf, len, "%.1f", v);
        else
            snprintf(buf, len, "%.3f", v);
    } else {
        char esc[REPORT_ESC_MAX];
        size_t max = strcmp(name, "detail") == 0 || strcmp(name, "wireshark_filter") == 0
                         ? REPORT_DETAIL_MAX
                         : REPORT_CELL_MAX;
        size_t n = strlen(col_text(st, c, esc, sizeof(esc)));
        size_t keep = n <= max && n < len ? n : (max < len - 4 ? max : len - 4) - 3;
        while (keep > 0 && (esc[keep] & 0xc0) == 0x80)
            keep--; /* never cut inside a UTF-8 character */
        memcpy(buf, esc, keep);
        memcpy(buf + keep, keep < n ? "..." : "", keep < n ? 4 : 1);
    }
    return buf;
}

/* One JSON value of a cell: numbers as numbers, times as epoch seconds, *_json raw. */
static void cell_json(FILE *out, sqlite3_stmt *st, int c)
{
    const char *name = sqlite3_column_name(st, c);
    switch (sqlite3_column_type(st, c)) {
    case SQLITE_NULL:
        fputs("null", out);
        break;
    case SQLITE_INTEGER:
        fprintf(out, "%lld", (long long)sqlite3_column_int64(st, c));
        break;
    case SQLITE_FLOAT:
        if (is_time_col(name))
            fprintf(out, "%.6f", sqlite3_column_double(st, c));
        else
            fprintf(out, "%.9g", sqlite3_column_double(st, c));
        break;
    default: {
        const char *t = (const char *)sqlite3_column_text(st, c);
        if (ends_with(name, "_json") && t && t[0] == '{')
            fputs(t, out);
        else
            json_put_str(out, t ? t : "");
    }
    }
}

/* A JSON key (without "_json") for a column. */
static void key_json(FILE *out, const char *name)
{
    char k[64];
    snprintf(k, sizeof(k), "%s", name);
    size_t n = strlen(k);
    if (n > 5 && strcmp(k + n - 5, "_json") == 0)
        k[n - 5] = '\0';
    json_put_str(out, k);
}

static void json_member(struct report *r, const char *key)
{
    fputs(r->first_key ? "" : ",", r->out);
    r->first_key = false;
    json_put_str(r->out, key);
    putc(':', r->out);
}

/*
 * Run sql and print it: as a table under title (text), or as key: [ {...}, ... ] (JSON).
 * empty is printed in text mode when there are no rows. 0 or ERR_DB.
 */
static int section(struct report *r, const char *key, const char *title, const char *empty,
                   const char *sql, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, sql_for(r, sql), -1, &st, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "reading database %s failed: %s", r->o->db, sqlite3_errmsg(r->db));
        return ERR_DB;
    }
    bind_filters(r, st);
    int ncol = sqlite3_column_count(st);
    if (ncol > REPORT_MAX_COLS)
        ncol = REPORT_MAX_COLS;
    char buf[256];
    bool num;

    if (r->o->json) {
        json_member(r, key);
        putc('[', r->out);
        size_t n = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            fputs(n++ ? ",{" : "{", r->out);
            for (int c = 0; c < ncol; c++) {
                if (c)
                    putc(',', r->out);
                key_json(r->out, sqlite3_column_name(st, c));
                putc(':', r->out);
                cell_json(r->out, st, c);
            }
            putc('}', r->out);
        }
        putc(']', r->out);
    } else {
        /* Two passes: widths, then the rows. */
        size_t w[REPORT_MAX_COLS];
        bool right[REPORT_MAX_COLS] = {false};
        size_t rows = 0;
        for (int c = 0; c < ncol; c++)
            w[c] = strlen(sqlite3_column_name(st, c));
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            rows++;
            for (int c = 0; c < ncol; c++) {
                size_t l = strlen(cell_text(r, st, c, buf, sizeof(buf), &num));
                if (l > w[c])
                    w[c] = l;
                if (num && sqlite3_column_type(st, c) != SQLITE_NULL)
                    right[c] = true;
            }
        }
        fprintf(r->out, "\n%s\n", title);
        if (rc == SQLITE_DONE && rows == 0) {
            fprintf(r->out, "  %s\n", empty);
        } else if (rc == SQLITE_DONE) {
            sqlite3_reset(st);
            fputs(" ", r->out);
            for (int c = 0; c < ncol; c++) {
                char h[64];
                snprintf(h, sizeof(h), "%s", sqlite3_column_name(st, c));
                for (char *p = h; *p; p++)
                    if (*p == '_')
                        *p = ' ';
                fprintf(r->out, " %*s%-*s", right[c] ? (int)(w[c] - strlen(h)) : 0, "",
                        right[c] || c == ncol - 1 ? 0 : (int)w[c], h);
            }
            fputs("\n", r->out);
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                fputs(" ", r->out);
                for (int c = 0; c < ncol; c++) {
                    const char *t = cell_text(r, st, c, buf, sizeof(buf), &num);
                    if (c == ncol - 1 && !right[c])
                        fprintf(r->out, " %s", t);
                    else if (right[c])
                        fprintf(r->out, " %*s", (int)w[c], t);
                    else
                        fprintf(r->out, " %-*s", (int)w[c], t);
                }
                fputs("\n", r->out);
            }
        }
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "reading database %s failed: %s", r->o->db, sqlite3_errmsg(r->db));
        sqlite3_finalize(st);
        return ERR_DB;
    }
    sqlite3_finalize(st);
    return 0;
}

static const char runs_sql[] =
    "SELECT id, status, started, ended, sources, filter, servers, version, first_ts, last_ts,"
    " packets, tcp_packets, bytes, flows, dropped_kernel, dropped_if, malformed, evicted,"
    " mirror_duplicates, store_dropped, error, options, sensor,"
    " (SELECT path FROM sel_dbs d WHERE d.db = sel_runs.db) AS database"
    " FROM sel_runs WHERE (:run IS NULL OR id = :run)"
    " AND (:since IS NULL OR coalesce(last_ts, ended, 1e18) >= :since)"
    " AND (:until IS NULL OR coalesce(first_ts, started) < :until)"
    " ORDER BY db, id";

/* The runs, one block each (text). */
static int runs_text(struct report *r, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    char a[64], b[64];
    size_t n = 0;
    int rc = sqlite3_prepare_v2(r->db, runs_sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "reading database %s failed: %s", r->o->db, sqlite3_errmsg(r->db));
        return ERR_DB;
    }
    bind_filters(r, st);
    fputs("\nRuns\n", r->out);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char tb[REPORT_ESC_MAX], c4[REPORT_ESC_MAX];
        const char *status = col_text(st, 1, tb, sizeof(tb));
        const char *text;
        n++;
        if (status && strcmp(status, "running") == 0)
            status = "running, or killed before it finished";
        fprintf(r->out, "  run %lld", (long long)sqlite3_column_int64(st, 0));
        if (r->label)
            fprintf(r->out, " of sensor %s (%s)", col_esc(st, 22, "?"), col_esc(st, 23, "?"));
        fprintf(r->out, ": %s, %s", (text = col_text(st, 4, c4, sizeof(c4))) && *text ? text : "?",
                status ? status : "?");
        fprintf(r->out, ", flowmedic %s\n", (text = col_text(st, 7, c4, sizeof(c4))) ? text : "?");
        fprintf(r->out, "    ran %s",
                fmt_time(sqlite3_column_double(st, 2), r->o->utc, false, a, sizeof(a)));
        if (sqlite3_column_type(st, 3) != SQLITE_NULL)
            fprintf(r->out, " .. %s",
                    fmt_time(sqlite3_column_double(st, 3), r->o->utc, false, b, sizeof(b)));
        if ((text = col_text(st, 5, c4, sizeof(c4))))
            fprintf(r->out, "; filter \"%s\"", text);
        if ((text = col_text(st, 6, c4, sizeof(c4))))
            fprintf(r->out, "; servers %s", text);
        fputs("\n", r->out);
        if (sqlite3_column_type(st, 8) != SQLITE_NULL)
            fprintf(r->out, "    capture %s .. %s\n",
                    fmt_time(sqlite3_column_double(st, 8), r->o->utc, false, a, sizeof(a)),
                    fmt_time(sqlite3_column_double(st, 9), r->o->utc, false, b, sizeof(b)));
        if (sqlite3_column_type(st, 10) != SQLITE_NULL)
            fprintf(
                r->out,
                "    %lld packets (%lld TCP), %lld flows; dropped: %lld by the kernel, "
                "%lld by the interface; %lld malformed, %lld flows evicted, "
                "%lld mirror duplicates\n",
                (long long)sqlite3_column_int64(st, 10), (long long)sqlite3_column_int64(st, 11),
                (long long)sqlite3_column_int64(st, 13), (long long)sqlite3_column_int64(st, 14),
                (long long)sqlite3_column_int64(st, 15), (long long)sqlite3_column_int64(st, 16),
                (long long)sqlite3_column_int64(st, 17), (long long)sqlite3_column_int64(st, 18));
        if (sqlite3_column_int64(st, 19) > 0 || sqlite3_column_type(st, 20) != SQLITE_NULL)
            fprintf(r->out, "    NOT STORED: %lld records%s%s\n",
                    (long long)sqlite3_column_int64(st, 19),
                    sqlite3_column_type(st, 20) != SQLITE_NULL ? " - " : "",
                    sqlite3_column_type(st, 20) != SQLITE_NULL ? col_text(st, 20, c4, sizeof(c4))
                                                               : "");
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "reading database %s failed: %s", r->o->db, sqlite3_errmsg(r->db));
        return ERR_DB;
    }
    if (n == 0)
        fputs("  no run matches\n", r->out);
    return 0;
}

static const char servers_sql[] =
    "SELECT {FS}f.server AS server, count(*) AS flows, sum(saw_syn) AS attempts,"
    " sum(saw_syn AND hs_rtt_client IS NOT NULL) AS established,"
    " sum(close = :c_refused) AS refused, sum(close = :c_unanswered) AS unanswered,"
    " sum(reset_c2s + reset_s2c > 0) AS reset,"
    " sum(packets_c2s + packets_s2c) AS packets, sum(retrans_total) AS retrans,"
    " round(100.0 * sum(data_retrans_c2s + data_retrans_s2c)"
    " / nullif(sum(data_segs_c2s + data_segs_s2c), 0), 2) AS retrans_pct,"
    " round(1000 * m.srv, 3) AS hs_rtt_srv_ms, round(1000 * m.cli, 3) AS hs_rtt_cli_ms,"
    " (SELECT count(*) FROM sel_findings e WHERE e.server = f.server AND e.sensor IS f.sensor"
    "  AND e.severity = 'error') AS errors"
    " FROM sel_flows f LEFT JOIN sel_median m ON m.server = f.server AND m.sensor IS f.sensor"
    " GROUP BY f.sensor, f.server ORDER BY flows DESC, f.sensor, f.server LIMIT 50";

static const char kinds_sql[] =
    "SELECT f.kind AS kind, coalesce(k.layer, '?') AS layer,"
    " sum(severity = 'error') AS error, sum(severity = 'warn') AS warn,"
    " sum(severity = 'info') AS info, count(*) AS total"
    " FROM sel_findings f LEFT JOIN sel_kinds k ON k.kind = f.kind"
    " GROUP BY f.kind ORDER BY error DESC, warn DESC, total DESC, f.kind";

static const char health_sql[] =
    "SELECT {S}server, count(*) AS intervals, sum(attempts) AS attempts,"
    " sum(established) AS established,"
    " sum(failed_refused + failed_timeout + failed_backlog + failed_reset + failed_tls)"
    " AS failed,"
    " round(100 * max(error_rate), 2) AS worst_error_pct,"
    " round(100 * max(retrans_rate), 2) AS worst_retrans_pct,"
    " round(1000 * max(hs_rtt_p95), 3) AS worst_hs_rtt_p95_ms,"
    " round(1000 * max(resp_p99), 3) AS worst_resp_p99_ms"
    " FROM sel_health GROUP BY sensor, server ORDER BY failed DESC, sensor, server LIMIT 50";

/* Per server and interval, newest 200 rows: how health developed over time. */
static const char health_time_sql[] =
    "SELECT * FROM (SELECT {S}server, start, attempts, established,"
    " failed_refused + failed_timeout + failed_backlog + failed_reset + failed_tls AS failed,"
    " resets, round(100 * error_rate, 2) AS error_pct, round(100 * retrans_rate, 2) AS retrans_pct,"
    " round(1000 * hs_rtt_p50, 3) AS hs_rtt_p50_ms, round(1000 * hs_rtt_p99, 3) AS hs_rtt_p99_ms,"
    " round(1000 * resp_p50, 3) AS resp_p50_ms, round(1000 * resp_p99, 3) AS resp_p99_ms,"
    " alert_names(open_alerts) AS alerts FROM sel_health ORDER BY start DESC, sensor, server LIMIT 200)"
    " ORDER BY {S}server, start";

/* TLS versions and cipher suites each server negotiated. */
static const char tls_versions_sql[] =
    "SELECT {S}server, coalesce(version, 'none') AS version,"
    " CASE WHEN cipher IS NULL THEN '-' ELSE cipher_name(cipher) END AS cipher,"
    " count(*) AS handshakes, sum(outcome = :t_completed) AS completed,"
    " round(1000 * avg(duration), 3) AS avg_duration_ms FROM sel_tls"
    " GROUP BY sensor, server, version, cipher ORDER BY {S}server, handshakes DESC LIMIT 50";

static const char tls_sql[] =
    "SELECT {S}server, coalesce(sni, '') AS sni, outcome, coalesce(alert, '') AS alert,"
    " coalesce(alert_from, '') AS alert_from, max(inferred) AS inferred,"
    " count(*) AS handshakes, max(ts) AS last_ts FROM sel_tls"
    " WHERE outcome NOT IN (:t_completed, :t_progress)"
    " GROUP BY sensor, server, sni, outcome, alert, alert_from ORDER BY handshakes DESC LIMIT 20";

static const char alerts_sql[] =
    "SELECT {S}server, rule, opened, closed, open_detail AS detail FROM sel_alerts"
    " ORDER BY opened DESC LIMIT 20";

static const char certs_sql[] =
    "SELECT {S}c.last_server AS server, c.subject, c.not_after,"
    " round((c.not_after - (SELECT max(coalesce(last_ts, started)) FROM sel_runs rr"
    " WHERE rr.db = c.db)) / 86400.0, 1) AS days_left_at_last_run FROM sel_certs c"
    " WHERE (c.not_after IS NULL" /* an unreadable notAfter (cert_invalid_date) */
    " OR c.not_after <= (SELECT max(coalesce(last_ts, started)) FROM sel_runs rr"
    " WHERE rr.db = c.db) + 30 * 86400)"
    " ORDER BY c.not_after IS NOT NULL, c.not_after LIMIT 20";

static const char resets_sql[] =
    "SELECT {S}server, coalesce(side, '?') AS sent_by, coalesce(phase, '?') AS phase,"
    " count(*) AS resets, sum(coalesce(ttl_mismatch, 0)) AS ttl_mismatch,"
    " min(ts) AS first_ts, max(ts) AS last_ts"
    " FROM sel_findings WHERE kind = 'reset'"
    " GROUP BY sensor, server, sent_by, phase ORDER BY resets DESC, sensor, server LIMIT 20";

static const char worst_sql[] =
    "SELECT {S}client, server, first_ts, round(last_ts - first_ts, 3) AS duration_s,"
    " packets_c2s + packets_s2c AS packets, retrans_total AS retrans,"
    " lost_segment_c2s + lost_segment_s2c AS lost,"
    " zero_window_c2s + zero_window_s2c AS zero_windows,"
    " reset_c2s + reset_s2c AS resets, close, conn_state, history FROM sel_flows"
    " WHERE retrans_total + lost_segment_c2s + lost_segment_s2c + reset_c2s + reset_s2c"
    " + zero_window_c2s + zero_window_s2c > 0"
    " ORDER BY retrans DESC, lost DESC, resets DESC, zero_windows DESC LIMIT 10";

static const char errors_json_sql[] =
    "SELECT {S}run_id, ts, kind, severity, flow_id, client, server, detail, frames,"
    " round(confidence, 2) AS confidence,"
    " wireshark_filter(client, server) AS wireshark_filter,"
    " CASE WHEN json_valid(extra) THEN extra END AS extra_json FROM sel_findings"
    " WHERE severity = 'error' ORDER BY ts DESC, id DESC LIMIT 20";

#define INCIDENTS_COLS                                                                             \
    "SELECT run_id, id, severity, cause, layer, server, client, since, until, state,"              \
    " close_reason, updated, events, connections_affected, connections_total,"                     \
    " clients_affected, round(confidence, 2) AS confidence, summary, advice,"                      \
    " CASE WHEN json_valid(evidence) THEN evidence END AS evidence_json, sensor"
#define INCIDENTS_ORDER                                                                            \
    " ORDER BY CASE severity WHEN 'error' THEN 0 WHEN 'warn' THEN 1 ELSE 2 END,"                   \
    " CASE state WHEN 'open' THEN 0 ELSE 1 END, connections_affected DESC, since, db, run_id, id"
static const char incidents_sql[] = INCIDENTS_COLS " FROM sel_incidents" INCIDENTS_ORDER;
/* The same for the text Diagnosis, with the row's database (column 21: diagnosis_requests). */
static const char diagnosis_sql[] = INCIDENTS_COLS ", db FROM sel_incidents" INCIDENTS_ORDER;

/* HTTP errors: the URLs with the most 5xx answers, their statuses, clients and times. */
static const char http_errors_sql[] =
    "SELECT server, coalesce(host, '-') AS host, path, count(*) AS errors,"
    " group_concat(DISTINCT status) AS statuses, count(DISTINCT client_ip) AS clients,"
    " min(ts) AS first, max(ts) AS last,"
    " round(1000 * max(response_time), 3) AS max_response_ms FROM sel_http"
    " WHERE status BETWEEN 500 AND 599"
    " GROUP BY server, host, path ORDER BY errors DESC, server, host, path LIMIT 20";

/* The HTTP records (JSON only): the first REPORT_HTTP_MAX of the selection, in time order. */
#define REPORT_HTTP_MAX "10000"
static const char http_json_sql[] =
    "SELECT run_id, flow_id, trans_depth, ts, client, server, method, host, path, status,"
    " request_body_bytes, response_body_bytes, response_time, state, gap_bytes, truncated,"
    " request_frame, response_frame FROM sel_http ORDER BY ts, run_id, flow_id, trans_depth"
    " LIMIT " REPORT_HTTP_MAX;

/* Repeated findings of one kind and server, grouped (the newest detail, never cut). */
static const char grouped_sql[] =
    "SELECT kind, severity, server, count(*) AS count, count(DISTINCT client_ip) AS clients,"
    " min(ts) AS first, max(ts) AS last,"
    " (SELECT g.detail FROM sel_findings g WHERE g.kind = f.kind AND g.server = f.server"
    "  AND g.severity = f.severity AND g.sensor IS f.sensor ORDER BY g.ts DESC, g.id DESC"
    "  LIMIT 1) AS detail,"
    /* the one flow's filter when every finding is of one client, else the server's frames */
    " wireshark_filter(CASE WHEN count(DISTINCT coalesce(client, '')) = 1 THEN max(client) END,"
    " server) AS wireshark_filter, f.sensor AS sensor"
    " FROM sel_findings f WHERE severity IN ('error', 'warn')"
    " GROUP BY f.sensor, kind, severity, server"
    " ORDER BY CASE severity WHEN 'error' THEN 0 ELSE 1 END, count DESC, server, kind LIMIT 40";

/* Print text wrapped at REPORT_WRAP columns, every line indented by indent spaces. */
#define REPORT_WRAP 100
static void put_wrapped(FILE *out, const char *text, int indent)
{
    const char *p = text ? text : "";
    int width = REPORT_WRAP - indent;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        int len = (int)strlen(p);
        int cut = len;
        if (len > width) {
            cut = width;
            while (cut > 0 && p[cut] != ' ')
                cut--;
            if (cut == 0) /* one word longer than the line: keep it whole */
                for (cut = width; p[cut] && p[cut] != ' '; cut++)
                    ;
        }
        fprintf(out, "%*s%.*s\n", indent, "", cut, p);
        p += cut;
    }
}

/* Text: for each database before schema version v, "(DB: schema version N: what)". */
static void old_schema_note(struct report *r, int64_t v, const char *what)
{
    for (size_t i = 0; i < r->o->ndb; i++)
        if (r->ver[i] < v)
            fprintf(r->out,
                    "  (%s: schema version %lld, before %lld: %s; writing a run into it with -w "
                    "upgrades it)\n",
                    r->o->dbs[i], (long long)r->ver[i], (long long)v, what);
}

/*
 * The HTTP requests an incident's evidence lists (http_errors), one line: method, path,
 * status and frame of each, escaped for the terminal. Nothing when it lists none. The
 * incident is the diagnosis_sql row inc: run and id in columns 0 and 1, its database in db_col.
 */
static void diagnosis_requests(struct report *r, sqlite3_stmt *inc, int db_col)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db,
                           "SELECT method, path, status, frame FROM sel_increq"
                           " WHERE db = ?1 AND run_id = ?2 AND incident_id = ?3 ORDER BY rowid",
                           -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return;
    }
    sqlite3_bind_int64(st, 1, sqlite3_column_int64(inc, db_col));
    sqlite3_bind_int64(st, 2, sqlite3_column_int64(inc, 0));
    sqlite3_bind_int64(st, 3, sqlite3_column_int64(inc, 1));
    bool first = true;
    while (sqlite3_step(st) == SQLITE_ROW) {
        fprintf(r->out, "%s%s %s -> %lld (frame %lld)", first ? "        requests: " : ", ",
                col_esc(st, 0, "?"), col_esc(st, 1, "?"), (long long)sqlite3_column_int64(st, 2),
                (long long)sqlite3_column_int64(st, 3));
        first = false;
    }
    if (!first)
        fputs("\n", r->out);
    sqlite3_finalize(st);
}

/* The Diagnosis section (text): one line per incident, worst first, the full advice below. */
static int diagnosis_text(struct report *r, char *err, size_t errlen)
{
    fputs("\nDiagnosis (incidents, worst first)\n", r->out);
    old_schema_note(r, 4, "no incidents recorded");
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, diagnosis_sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "reading database %s failed: %s", r->o->db, sqlite3_errmsg(r->db));
        return ERR_DB;
    }
    size_t n = 0;
    char a[64], b[64];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char sev[8];
        snprintf(sev, sizeof(sev), "%s", col_esc(st, 2, "?"));
        for (char *q = sev; *q; q++)
            *q = (char)(*q >= 'a' && *q <= 'z' ? *q - 32 : *q);
        n++;
        fprintf(r->out, "  %-5s %s %s", sev, col_esc(st, 3, "?"), col_esc(st, 5, "?"));
        if (r->label)
            fprintf(r->out, " on sensor %s", col_esc(st, 20, "?"));
        if (sqlite3_column_type(st, 6) != SQLITE_NULL)
            fprintf(r->out, " from %s", col_esc(st, 6, "?"));
        fprintf(r->out, " since %s",
                fmt_time(sqlite3_column_double(st, 7), r->o->utc, false, a, sizeof(a)));
        if (strcmp(col_esc(st, 9, ""), "open") == 0)
            fputs(" (still open)", r->out);
        else
            fprintf(r->out, " until %s (%s)",
                    sqlite3_column_type(st, 8) == SQLITE_NULL
                        ? "?"
                        : fmt_time(sqlite3_column_double(st, 8), r->o->utc, false, b, sizeof(b)),
                    col_esc(st, 10, "closed"));
        fprintf(r->out, "; %lld of %lld connections, %lld client%s: %s\n",
                (long long)sqlite3_column_int64(st, 13), (long long)sqlite3_column_int64(st, 14),
                (long long)sqlite3_column_int64(st, 15),
                sqlite3_column_int64(st, 15) == 1 ? "" : "s", col_esc(st, 17, ""));
        fprintf(r->out, "        layer %s, confidence %.2f, incident %lld of run %lld. What to do:\n",
                col_esc(st, 4, "?"), sqlite3_column_double(st, 16),
                (long long)sqlite3_column_int64(st, 1), (long long)sqlite3_column_int64(st, 0));
        put_wrapped(r->out, col_esc(st, 18, ""), 8);
        diagnosis_requests(r, st, 21);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "reading database %s failed: %s", r->o->db, sqlite3_errmsg(r->db));
        return ERR_DB;
    }
    bool any_v4 = false; /* a database that records incidents */
    for (size_t i = 0; i < r->o->ndb; i++)
        any_v4 = any_v4 || r->ver[i] >= 4;
    if (n == 0 && any_v4)
        fputs("  no incidents: no problem crossed its threshold (the findings below are the "
              "details)\n",
              r->out);
    return 0;
}

/* Repeated findings grouped (text): one line per kind and server, the detail below, whole. */
static int grouped_text(struct report *r, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, grouped_sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "reading database %s failed: %s", r->o->db, sqlite3_errmsg(r->db));
        return ERR_DB;
    }
    bind_filters(r, st);
    fputs("\nError and warning findings, grouped by kind and server (the newest detail)\n", r->out);
    size_t n = 0;
    char a[64], b[64];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        n++;
        long long cnt = (long long)sqlite3_column_int64(st, 3);
        fprintf(r->out, "  %-5s %s %s", col_esc(st, 1, "?"), col_esc(st, 0, "?"),
                col_esc(st, 2, "?"));
        if (r->label)
            fprintf(r->out, " on sensor %s", col_esc(st, 9, "?"));
        fprintf(r->out, ": %lld time%s", cnt, cnt == 1 ? "" : "s");
        if (cnt > 1)
            fprintf(r->out, " from %s to %s",
                    fmt_time(sqlite3_column_double(st, 5), r->o->utc, true, a, sizeof(a)),
                    fmt_time(sqlite3_column_double(st, 6), r->o->utc, true, b, sizeof(b)));
        else
            fprintf(r->out, " at %s",
                    fmt_time(sqlite3_column_double(st, 5), r->o->utc, true, a, sizeof(a)));
        long long cl = (long long)sqlite3_column_int64(st, 4);
        if (cl > 0)
            fprintf(r->out, ", %lld client%s", cl, cl == 1 ? "" : "s");
        fputs("\n", r->out);
        put_wrapped(r->out, col_esc(st, 7, ""), 8);
        if (sqlite3_column_type(st, 8) != SQLITE_NULL)
            fprintf(r->out, "        Wireshark: %s\n", col_esc(st, 8, ""));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "reading database %s failed: %s", r->o->db, sqlite3_errmsg(r->db));
        return ERR_DB;
    }
    if (n == 0)
        fputs("  no error or warning findings\n", r->out);
    return 0;
}

/* The sensors of the selected runs with their databases, in command-line order. */
static const char sensors_sql[] =
    "SELECT sensor, (SELECT path FROM sel_dbs d WHERE d.db = r.db) AS database, count(*) AS runs"
    " FROM sel_runs r WHERE (:run IS NULL OR id = :run) GROUP BY db, sensor ORDER BY db, sensor";

/* JSON: "sensors": [{"sensor":..,"database":..,"runs":N}, ...]. */
static int sensors_json(struct report *r, char *err, size_t errlen)
{
    return section(r, "sensors", "", "", sensors_sql, err, errlen);
}

/* Text: "Sensors: alpha (a.db, 1 run), beta (b.db, 2 runs)". */
static int sensors_text(struct report *r, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, sensors_sql, -1, &st, NULL);
    size_t n = 0;
    if (rc == SQLITE_OK) {
        bind_filters(r, st);
        fputs("Sensors:", r->out);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            long long runs = (long long)sqlite3_column_int64(st, 2);
            fprintf(r->out, "%s %s (%s, %lld run%s)", n++ ? "," : "", col_esc(st, 0, "?"),
                    col_esc(st, 1, "?"), runs, runs == 1 ? "" : "s");
        }
        fputs(n ? "\n" : " none\n", r->out);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "reading database %s failed: %s", r->o->db, sqlite3_errmsg(r->db));
        return ERR_DB;
    }
    return 0;
}

static int report_all(struct report *r, char *err, size_t errlen)
{
    const struct ropts *o = r->o;
    char tz[64] = "";
    time_t now = time(NULL);
    struct tm tm;

    if (localtime_r(&now, &tm))
        strftime(tz, sizeof(tz), "%Z", &tm);
    if (o->json) {
        fputs("{", r->out);
        r->first_key = true;
        json_member(r, "schema");
        fprintf(r->out, "%d", JSON_SCHEMA_VERSION);
        json_member(r, "database");
        if (o->ndb == 1)
            json_put_str(r->out, o->db);
        else
            fputs("null", r->out);
        json_member(r, "databases");
        for (size_t i = 0; i < o->ndb; i++) {
            fputs(i ? ",{\"path\":" : "[{\"path\":", r->out);
            json_put_str(r->out, o->dbs[i]);
            fprintf(r->out, ",\"schema_version\":%lld}", (long long)r->ver[i]);
        }
        fputs("]", r->out);
        if (sensors_json(r, err, errlen) != 0)
            return ERR_DB;
        json_member(r, "filters");
        fputs("{\"run\":", r->out);
        if (o->has_run)
            fprintf(r->out, "%" PRId64, o->run);
        else
            fputs("null", r->out);
        fputs(",\"sensor\":", r->out);
        if (o->has_sensor)
            json_put_str(r->out, o->sensor);
        else
            fputs("null", r->out);
        fputs(",\"server\":", r->out);
        if (o->has_server)
            json_put_str(r->out, o->server_arg);
        else
            fputs("null", r->out);
        fputs(",\"since\":", r->out);
        if (o->has_since)
            fprintf(r->out, "%.6f", o->since);
        else
            fputs("null", r->out);
        fputs(",\"until\":", r->out);
        if (o->has_until)
            fprintf(r->out, "%.6f", o->until);
        else
            fputs("null", r->out);
        fputs("}", r->out);
        if (section(r, "incidents", "", "", incidents_sql, err, errlen) != 0)
            return ERR_DB;
        if (section(r, "runs", "", "", runs_sql, err, errlen) != 0)
            return ERR_DB;
    } else {
        char a[64], b[64];
        fprintf(r->out, "flowmedic report of %s (times in %s)\n", o->db,
                o->utc ? "UTC" : (tz[0] ? tz : "local time"));
        if (r->label && sensors_text(r, err, errlen) != 0)
            return ERR_DB;
        if (o->has_run || o->has_server || o->has_since || o->has_until || o->has_sensor) {
            fputs("Only:", r->out);
            if (o->has_run)
                fprintf(r->out, " run %" PRId64 ";", o->run);
            if (o->has_sensor) {
                char esc[REPORT_ESC_MAX];
                fprintf(r->out, " sensor %s;", text_term(o->sensor, esc, sizeof(esc)));
            }
            if (o->has_server)
                fprintf(r->out, " server %s;", o->server_arg);
            if (o->has_since)
                fprintf(r->out, " since %s;", fmt_time(o->since, o->utc, false, a, sizeof(a)));
            if (o->has_until)
                fprintf(r->out, " until %s;", fmt_time(o->until, o->utc, false, b, sizeof(b)));
            fputs("\n", r->out);
        }
        if (diagnosis_text(r, err, errlen) != 0 || runs_text(r, err, errlen) != 0)
            return ERR_DB;
    }
    if (section(r, "servers",
                "Servers (from flows: attempts = SYNs seen, reset = flows with a RST, retrans ="
                " data retransmissions\n (SYN and SYN-ACK retries are not), retrans pct = of"
                " data segments,\n hs rtt = median SYN->SYN-ACK (srv) and"
                " SYN-ACK->ACK (cli) in ms, errors = error findings)",
                "no flows", servers_sql, err, errlen) != 0 ||
        section(r, "findings_by_kind", "Findings by kind and severity", "no findings", kinds_sql,
                err, errlen) != 0)
        return ERR_DB;
    if (section(r, "resets",
                "Resets (who sent them, in which phase; ttl mismatch = likely forged by a "
                "middlebox)",
                "no resets", resets_sql, err, errlen) != 0)
        return ERR_DB;
    if ((section(r, "server_health", "Server health (worst interval per server)",
                 "no health intervals recorded", health_sql, err, errlen) != 0 ||
         section(r, "server_health_over_time",
                 "Server health over time (per interval; the newest 200 rows)",
                 "no health intervals recorded", health_time_sql, err, errlen) != 0 ||
         section(r, "tls_versions", "TLS versions and cipher suites per server",
                 "no TLS handshakes", tls_versions_sql, err, errlen) != 0 ||
         section(r, "tls_failures", "TLS handshake failures", "no failed TLS handshakes", tls_sql,
                 err, errlen) != 0 ||
         section(r, "alerts", "Server alerts (newest first)", "no alerts", alerts_sql, err,
                 errlen) != 0 ||
         section(r, "certs_expiring",
                 "Certificates expired, expiring within 30 days of the last run, "
                 "or with an unreadable notAfter (-)",
                 "none", certs_sql, err, errlen) != 0))
        return ERR_DB;
    if (!o->json)
        old_schema_note(r, 2, "no TLS, health or alert tables");
    if ((section(r, "http_errors",
                          "HTTP errors (URLs answered 5xx: count, statuses, clients, first and "
                          "last time)",
                          "no HTTP 5xx responses", http_errors_sql, err, errlen) != 0 ||
                  (o->json && section(r, "http", "", "", http_json_sql, err, errlen) != 0)))
        return ERR_DB;
    if (section(r, "worst_flows",
                "Worst flows (most retransmissions, losses, resets, zero windows)",
                "no flow had retransmissions, losses, resets or zero windows", worst_sql, err,
                errlen) != 0 ||
        (o->json && (section(r, "findings_grouped", "", "", grouped_sql, err, errlen) != 0 ||
                     section(r, "recent_errors", "", "", errors_json_sql, err, errlen) != 0)) ||
        (!o->json && grouped_text(r, err, errlen) != 0))
        return ERR_DB;
    if (o->json)
        fputs("}\n", r->out);
    return 0;
}

int cli_report_main(int argc, char **argv)
{
    struct ropts o;
    struct report r;
    char err[512] = "";

    int rc = parse_opts(argc, argv, &o);
    if (rc == 1)
        return REPORT_OK; /* --help */
    if (rc == 0 && reparse_times(argc, argv, &o) != 0)
        rc = ERR_ARG;
    if (rc != 0) {
        fputs("Try 'flowmedic report --help'.\n", stderr);
        return REPORT_USAGE;
    }
    memset(&r, 0, sizeof(r));
    r.o = &o;
    r.out = stdout;
    rc = open_db(&r, err, sizeof(err));
    if (rc == 0)
        rc = select_rows(&r, err, sizeof(err));
    if (rc == 0)
        rc = report_all(&r, err, sizeof(err));
    sqlite3_close(r.db);
    if (rc != 0) {
        fflush(stdout);
        log_error("%s", err);
        return REPORT_RUNTIME;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        log_error("report: writing to stdout failed: %s", strerror(errno));
        return REPORT_RUNTIME;
    }
    return REPORT_OK;
}
