/*
 * store.c - the SQLite sink. The analysis thread copies records into a bounded ring of
 * fixed-size slots; one writer thread drains it into batched transactions (every
 * batch_records records or batch_ms milliseconds) over statements prepared once, in WAL
 * mode with synchronous=NORMAL, so that a killed process loses at most the open batch.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime, strnlen, nanosleep under -std=c11 */
#endif
#include "store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture/clock.h"
#include "capture/decode.h"
#include "capture/log.h"
#include "capture/text.h"
#include "store/schema.h"

#ifndef FM_VERSION
#define FM_VERSION "unknown"
#endif

#define STORE_DEFAULT_SLOTS 4096
#define STORE_MAX_SLOTS (1u << 20)
#define STORE_DEFAULT_BATCH 16384 /* records per transaction (or STORE_DEFAULT_BATCH_MS) */
#define STORE_DEFAULT_BATCH_MS 500
#define STORE_PAGE_SIZE_STR "16384" /* page size of a database this writer creates */
#define STORE_WAKE 64            /* queued records that wake a gathering writer */
#define STORE_CHUNK 256          /* records taken from the queue per lock */
#define STORE_BUSY_MS 5000       /* at open, wait this long for another writer's lock */
#define STORE_CLOSE_BUSY_MS 60000 /* at close, wait this long for it (during the run: always) */
#define STORE_BUSY_LOG_MS 1000    /* say that we wait once a wait is this long */
#define STORE_BUSY_SLEEP_MS 200   /* longest sleep between two tries for the lock */
#define RETAIN_BATCH 1000         /* rows deleted per retention transaction */
#define RETAIN_EVERY_S 3600       /* look for expired runs again this often (long live runs) */
#define RETAIN_MAX_TABLES 16      /* tables with a run_id column that retention handles */
#define STORE_FLUSH_WAIT_MS 5000 /* store_flush_now gives up after this */
#define STORE_INC_CACHE_MAX 65536 /* incidents whose evidence rows the writer remembers */

/* The flow table columns per TCP event; schema.c has one pair per event. */
_Static_assert(TEV__COUNT == 12, "a new TCP event needs flows columns and a schema migration");

/* Who uses the connection, which decides how long the busy handler waits for a lock. */
enum store_phase {
    PHASE_OPEN = 0, /* store_open: give up after STORE_BUSY_MS */
    PHASE_RUN,      /* the writer: wait as long as it takes, until store_close is called */
    PHASE_CLOSE,    /* store_close: give up STORE_CLOSE_BUSY_MS after it was called */
};

/* How the writer thread is waiting; the producer wakes it only when it must. */
enum writer_sleep {
    SLEEP_NONE = 0, /* working */
    SLEEP_TIMED,    /* a batch is open: wake at wake_at() records or at the deadline */
    SLEEP_IDLE,     /* nothing open: wake on the first record */
};

/* Prepared statements, prepared once at open. */
enum stmt_id {
    ST_BEGIN = 0,
    ST_COMMIT,
    ST_FINDING,
    ST_FLOW,
    ST_HEALTH,
    ST_TLS,
    ST_CERT_INS,
    ST_CERT_UPD,
    ST_ALERT_OPEN,
    ST_ALERT_CLOSE,
    ST_INCIDENT,
    ST_INC_FLOWS_DEL,
    ST_INC_FLOW,
    ST_INC_REQS_DEL,
    ST_INC_REQ,
    ST_HTTP,
    ST__COUNT
};

struct store {
    sqlite3 *db;                 /* the connection (writer thread after open) */
    sqlite3_stmt *st[ST__COUNT]; /* prepared statements */
    int64_t run_id;              /* this run's runs.id */
    char path[1024];             /* database path, for messages */
    struct store_tuning tune;    /* queue and batch settings */
    bool block_when_full;        /* producer waits instead of dropping */
    bool live;                   /* a live capture: a new database gets its indexes at once */

    /* The queue: shared, guarded by mu. */
    pthread_mutex_t mu;                   /* guards everything in this block */
    pthread_cond_t cv_work;               /* writer: records, stop or flush request */
    pthread_cond_t cv_space;              /* producer: a slot was freed */
    pthread_cond_t cv_flushed;            /* flush requester: flush_done advanced */
    struct out_rec *slots;                /* queue_slots slots, allocated at open */
    size_t head;                          /* index of the oldest queued record */
    size_t count;                         /* records queued */
    uint64_t queue_dropped;               /* records dropped because the queue was full */
    uint64_t lost;                        /* records lost to a write error */
    uint64_t written;                     /* records committed */
    uint64_t written_by_type[OUT__COUNT]; /* committed per record type */
    uint64_t flush_req;                   /* flush requests made (sequence) */
    uint64_t flush_done;                  /* flush requests served (sequence) */
    bool stop;                            /* store_close: drain, commit, exit */
    uint64_t stop_ns;                     /* monotonic time stop was set */
    bool locked;                          /* waiting now for another program's lock */
    uint64_t lock_waits;                  /* long waits for the lock (logged ones) */
    uint64_t lock_wait_ns;                /* their total time */
    bool writer_done;                     /* the writer thread has exited */
    enum writer_sleep writer_sleep;       /* how the writer waits now (wake-up policy) */
    bool failed;                          /* a write failed; nothing more is written */
    char error[256];                      /* why it failed */
    bool have_summary;                    /* summary holds the run's totals */
    struct run_summary summary;           /* from on_summary */

    /* Connection state: only the thread using the connection touches it (open, writer, close). */
    enum store_phase phase; /* who uses the connection now */
    uint64_t busy_since_ns; /* start of the current wait for a lock */
    bool busy_logged;       /* the current wait was announced */

    /* Writer-thread state (no lock: only the writer touches it). */
    pthread_t writer;                    /* the writer thread */
    bool writer_started;                 /* writer was created (join it) */
    bool txn_open;                       /* a batch transaction is open */
    uint32_t in_txn;                     /* records in the open batch */
    uint64_t in_txn_by_type[OUT__COUNT]; /* the same per record type */
    uint64_t txn_deadline_ns;            /* monotonic time at which to commit the batch */

    /* Retention (--retain), done by the writer between batches: writer-thread state too. */
    double retain_days;      /* delete other runs older than this; 0 = never */
    bool retain_pending;     /* expired runs may remain: keep deleting */
    uint64_t retain_next_ns; /* monotonic time of the next look for expired runs */
    int64_t retain_run;      /* the run being deleted, 0 = none */
    unsigned retain_table;   /* index into retain_tables being emptied */
    unsigned retain_ntables; /* tables with a run_id column */
    char retain_tables[RETAIN_MAX_TABLES][64]; /* their names */
    uint64_t retain_rows;                      /* rows deleted of the current run */
    uint64_t retain_txns;                      /* transactions that took to delete */
    uint64_t retain_runs_done;                 /* runs deleted by this store */

    /* Incident evidence rows written so far, by incident id (writer-thread state too). */
    struct inc_written *incw; /* [incw_cap], zeroed: nothing written for that id */
    size_t incw_cap;          /* entries allocated (grows to STORE_INC_CACHE_MAX) */
};

/*
 * The evidence flows written for one incident of this run: an incident's later events
 * usually keep its first flows and add some, so only the new ones are inserted.
 */
struct inc_written {
    uint8_t nflows;                /* incident_flows rows of this incident */
    uint8_t nrequests;             /* incident_requests rows of this incident */
    uint64_t flows[INC_FLOWS_MAX]; /* their flow ids, in order */
};

/* ---- small helpers ---- */

static double ns_to_s(uint64_t ns)
{
    return (double)ns / 1e9;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}


/* ---- opening: path checks, format checks, migrations ---- */

/* Directory part of path into dir ("." when there is none). */
static void path_dir(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, len, ".");
    } else if (slash == path) {
        snprintf(dir, len, "/");
    } else {
        size_t n = (size_t)(slash - path);
        if (n >= len)
            n = len - 1;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
}

/*
 * Check before SQLite sees the path, so that each bad path gets its own clear message:
 * the directory must exist and be writable (WAL adds -wal and -shm files beside the
 * database), an existing file must be a writable regular file.
 */
static int check_path(const char *path, char *err, size_t errlen)
{
    char dir[1024];
    struct stat sb;

    if (path[0] == '\0') {
        set_err(err, errlen, "the database path is empty");
        return ERR_ARG;
    }
    path_dir(path, dir, sizeof(dir));
    if (stat(dir, &sb) != 0) {
        set_err(err, errlen, "cannot create database %s: directory %s does not exist", path, dir);
        return ERR_IO;
    }
    if (!S_ISDIR(sb.st_mode)) {
        set_err(err, errlen, "cannot create database %s: %s is not a directory", path, dir);
        return ERR_IO;
    }
    if (stat(path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            set_err(err, errlen, "database %s is a directory, not a file", path);
            return ERR_IO;
        }
        if (!S_ISREG(sb.st_mode)) {
            set_err(err, errlen, "database %s is not a regular file", path);
            return ERR_IO;
        }
        if (access(path, R_OK | W_OK) != 0) {
            set_err(err, errlen, "database %s is read-only (%s)", path, strerror(errno));
            return ERR_PERM;
        }
        if (access(dir, W_OK) != 0) {
            set_err(err, errlen,
                    "cannot write database %s: its directory %s is read-only (%s); "
                    "WAL mode needs to create %s-wal there",
                    path, dir, strerror(errno), path);
            return ERR_PERM;
        }
    } else if (access(dir, W_OK) != 0) {
        set_err(err, errlen, "cannot create database %s: directory %s is read-only (%s)", path, dir,
                strerror(errno));
        return ERR_PERM;
    }
    return 0;
}

/*
 * Whether rc means the disk (or the user's quota) is full: SQLITE_FULL, or an I/O error
 * whose system errno is ENOSPC/EDQUOT (creating or growing the -shm or -wal file on a full
 * file system is reported as "disk I/O error").
 */
static bool disk_full(sqlite3 *db, int rc)
{
    if ((rc & 0xff) == SQLITE_FULL)
        return true;
    if ((rc & 0xff) != SQLITE_IOERR || !db)
        return false;
    int e = sqlite3_system_errno(db);
    return e == ENOSPC || e == EDQUOT;
}

/* Explain a SQLite error code from opening or reading path. */
static int db_err(const char *path, sqlite3 *db, int rc, const char *what, char *err, size_t errlen)
{
    int prim = rc & 0xff;
    if (prim == SQLITE_IOERR && disk_full(db, rc))
        prim = SQLITE_FULL;
    switch (prim) {
    case SQLITE_NOTADB:
        set_err(err, errlen, "%s is not a flowmedic database (it is not a SQLite database)", path);
        return ERR_FORMAT;
    case SQLITE_CORRUPT:
        set_err(err, errlen, "database %s is damaged (%s)", path,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        return ERR_FORMAT;
    case SQLITE_READONLY:
        set_err(err, errlen, "database %s is read-only (%s)", path,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        return ERR_PERM;
    case SQLITE_FULL:
        set_err(err, errlen, "%s %s failed: the disk is full (%s%s%s)", what, path,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc),
                (rc & 0xff) == SQLITE_IOERR ? ": " : "",
                (rc & 0xff) == SQLITE_IOERR ? strerror(sqlite3_system_errno(db)) : "");
        return ERR_IO;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        set_err(err, errlen, "database %s is locked by another program (%s)", path,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        return ERR_DB;
    default:
        set_err(err, errlen, "%s %s failed: %s", what, path,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        return ERR_DB;
    }
}

/* Read one integer from a single-row query (a PRAGMA). */
static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        *out = 0;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- deferred indexes (a new database written offline) ---- */

/*
 * A new database written by an offline run gets the secondary indexes of its large,
 * append-only tables at the end of the run (store_close), built in one go, instead of
 * updating them row by row: about 0.26 s of the writer's CPU for the 40 000-flow bench
 * capture against 0.13 s to build them at the end. The definitions wait in the table
 * pending_indexes, created and filled in the same transaction that creates the schema, so a
 * run killed before its end leaves them recorded: the next open for writing builds them,
 * and until then `flowmedic report` and sqlite3 read the tables without them (slower).
 * The indexes the writer's own statements use (alerts, incident evidence) are kept.
 */
#define PENDING_INDEXES_MAX 32

static const char defer_indexes_sql[] =
    "CREATE TABLE pending_indexes (name TEXT PRIMARY KEY, sql TEXT NOT NULL);\n"
    "INSERT INTO pending_indexes SELECT name, sql FROM sqlite_master WHERE type = 'index' "
    "AND sql IS NOT NULL AND tbl_name IN ('flows', 'findings', 'tls_handshakes', "
    "'server_health', 'http_requests') ORDER BY name;\n";

/*
 * The rows of the one-column query sql into names (at most max, each under 512 bytes); how
 * many, or -1 with *rc set: SQLite's error, or SQLITE_TOOBIG when they do not fit (never
 * cut or left out: the caller drops what it did not read).
 */
static int query_names(sqlite3 *db, const char *sql, char (*names)[512], int max, int *rc)
{
    sqlite3_stmt *st = NULL;
    int n = 0;
    *rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    while (*rc == SQLITE_OK && (*rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(st, 0);
        size_t len = v ? strlen((const char *)v) : 0;
        if (n >= max || len >= sizeof(names[0])) {
            *rc = SQLITE_TOOBIG;
            break;
        }
        memcpy(names[n++], v ? (const char *)v : "", len + 1);
        *rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (*rc != SQLITE_DONE)
        return -1;
    *rc = SQLITE_OK;
    return n;
}

/* Inside the transaction that created the schema: record the indexes to build, drop them. */
static int defer_indexes(sqlite3 *db)
{
    char names[PENDING_INDEXES_MAX][512];
    char sql[600];
    int rc = sqlite3_exec(db, defer_indexes_sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return rc;
    int n = query_names(db, "SELECT name FROM pending_indexes", names, PENDING_INDEXES_MAX, &rc);
    for (int i = 0; rc == SQLITE_OK && i < n; i++) {
        snprintf(sql, sizeof(sql), "DROP INDEX \"%.500s\"", names[i]);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    return rc;
}

/*
 * Build the indexes recorded in pending_indexes (those that do not exist yet) and drop the
 * table, in one transaction; nothing to do without it. SQLite's result code.
 */
static int build_pending_indexes(struct store *s)
{
    char sqls[PENDING_INDEXES_MAX][512];
    int64_t pending = 0;
    const char *has = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                      "name = 'pending_indexes'";
    int rc = query_int(s->db, has, &pending);
    if (rc != SQLITE_OK || pending == 0)
        return rc;
    uint64_t t0 = clock_mono_ns();
    int n = 0;
    rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = query_int(s->db, has, &pending); /* another flowmedic may have built them */
    if (rc != SQLITE_OK || pending == 0)
        goto commit;
    n = query_names(s->db,
                    "SELECT p.sql FROM pending_indexes p WHERE NOT EXISTS (SELECT 1 FROM "
                    "sqlite_master m WHERE m.type = 'index' AND m.name = p.name) "
                    "ORDER BY p.name",
                    sqls, PENDING_INDEXES_MAX, &rc);
    for (int i = 0; rc == SQLITE_OK && i < n; i++)
        rc = sqlite3_exec(s->db, sqls[i], NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "DROP TABLE pending_indexes", NULL, NULL, NULL);
commit:
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        if (rc != SQLITE_TOOBIG)
            rc = sqlite3_extended_errcode(s->db);
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    if (pending)
        log_info("database %s: built %d deferred indexes in %.3f s", s->path, n,
                 ns_to_s(clock_mono_ns() - t0));
    return SQLITE_OK;
}

/*
 * Decide what the file is and bring it to STORE_SCHEMA_VERSION: a new (empty) database is
 * created by running every migration step; an older flowmedic database is migrated; a newer
 * one, or any other SQLite database, is refused.
 */
static int check_and_migrate(struct store *s, char *err, size_t errlen)
{
    int64_t app = 0, ver = 0, nobj = 0;
    char sql[128];
    int rc;

    rc = query_int(s->db, "PRAGMA application_id", &app);
    if (rc == SQLITE_OK)
        rc = query_int(s->db, "PRAGMA user_version", &ver);
    if (rc == SQLITE_OK)
        rc = query_int(s->db, "SELECT count(*) FROM sqlite_master", &nobj);
    if (rc != SQLITE_OK)
        return db_err(s->path, s->db, rc, "opening database", err, errlen);
    if (nobj > 0 && app != STORE_APPLICATION_ID) {
        set_err(err, errlen,
                "%s is a SQLite database but not a flowmedic database; "
                "choose another file for -w",
                s->path);
        return ERR_FORMAT;
    }
    if (ver > STORE_SCHEMA_VERSION) {
        set_err(err, errlen,
                "%s was written by a newer flowmedic (schema version %" PRId64
                ", this flowmedic %s knows up to %d); use a newer flowmedic or another file",
                s->path, ver, FM_VERSION, STORE_SCHEMA_VERSION);
        return ERR_FORMAT;
    }
    if (nobj > 0 && ver < 1) {
        set_err(err, errlen, "%s is a damaged flowmedic database (schema version %" PRId64 ")",
                s->path, ver);
        return ERR_FORMAT;
    }

    /*
     * A new file gets 16 KiB pages (SQLite's default is 4 KiB; an existing file keeps its own):
     * the writer's B-trees are shallower and it writes a quarter as many pages and WAL frames,
     * 0.54 -> 0.45 s of writer CPU on the 40 000-flow bench capture. It must come before the
     * first write, which journal_mode=WAL is.
     */
    if (nobj == 0)
        rc = sqlite3_exec(s->db, "PRAGMA page_size=" STORE_PAGE_SIZE_STR, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return db_err(s->path, s->db, rc, "opening database", err, errlen);
    if (nobj > 0) { /* a run killed before its end left its indexes to build */
        rc = build_pending_indexes(s);
        if (rc != SQLITE_OK)
            return db_err(s->path, s->db, rc, "building the indexes of", err, errlen);
    }
    if (ver == STORE_SCHEMA_VERSION)
        return 0;

    rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return db_err(s->path, s->db, rc, "writing database", err, errlen);
    /* Another flowmedic may have migrated it while we waited for the lock. */
    rc = query_int(s->db, "PRAGMA user_version", &ver);
    for (int64_t v = ver; rc == SQLITE_OK && v < STORE_SCHEMA_VERSION; v++) {
        rc = sqlite3_exec(s->db, store_schema_steps[v], NULL, NULL, NULL);
        if (rc == SQLITE_OK && ver > 0)
            log_info("database %s: migrated schema version %" PRId64 " to %" PRId64, s->path, v,
                     v + 1);
    }
    if (rc == SQLITE_OK && ver == 0 && !s->live)
        rc = defer_indexes(s->db);
    if (rc == SQLITE_OK) {
        snprintf(sql, sizeof(sql), "PRAGMA user_version=%d; PRAGMA application_id=%d",
                 STORE_SCHEMA_VERSION, STORE_APPLICATION_ID);
        rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        int ret = db_err(s->path, s->db, rc, "creating the schema in", err, errlen);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return ret;
    }
    return 0;
}

/* INSERT for flows, with one column pair per TCP event named by tcp_ev_name. */
static int flow_insert_sql(char *buf, size_t len)
{
    size_t used = 0;
    int n = snprintf(buf, len,
                     "INSERT INTO flows (run_id, flow_id, client, server, client_ip, "
                     "client_port, server_ip, server_port, first_ts, last_ts, first_frame, "
                     "state, close, saw_syn, one_direction, packets_c2s, packets_s2c, "
                     "bytes_c2s, bytes_s2c, retrans_total, hs_rtt_server, hs_rtt_client, "
                     "syn_count, synack_count, data_segs_c2s, data_segs_s2c, "
                     "data_retrans_c2s, data_retrans_s2c");
    if (n < 0 || (size_t)n >= len)
        return ERR_FULL;
    used = (size_t)n;
    for (int e = 0; e < TEV__COUNT; e++) {
        const char *name = tcp_ev_name((enum tcp_ev)e);
        n = snprintf(buf + used, len - used, ", %s_c2s, %s_s2c", name, name);
        if (n < 0 || (size_t)n >= len - used)
            return ERR_FULL;
        used += (size_t)n;
    }
    n = snprintf(buf + used, len - used, ", conn_state, history) VALUES (?");
    if (n < 0 || (size_t)n >= len - used)
        return ERR_FULL;
    used += (size_t)n;
    for (int i = 1; i < 30 + 2 * TEV__COUNT; i++) {
        n = snprintf(buf + used, len - used, ",?");
        if (n < 0 || (size_t)n >= len - used)
            return ERR_FULL;
        used += (size_t)n;
    }
    n = snprintf(buf + used, len - used, ")");
    if (n < 0 || (size_t)n >= len - used)
        return ERR_FULL;
    return 0;
}

static const char *const stmt_sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_FINDING] = "INSERT INTO findings (run_id, ts, kind, severity, flow_id, client, server, "
                   "client_ip, client_port, server_ip, server_port, detail, frames, "
                   "confidence, extra, side, phase, ttl_mismatch, http_method, http_host, "
                   "http_path, http_status, response_time) "
                   "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_FLOW] = NULL, /* built by flow_insert_sql */
    [ST_HEALTH] = "INSERT INTO server_health (run_id, start, len, server, server_ip, "
                  "server_port, attempts, established, failed_refused, failed_timeout, "
                  "failed_backlog, failed_reset, failed_tls, syn_retries, synack_retries, "
                  "resets, zero_windows, data_segs_c2s, data_segs_s2c, retrans_segs_c2s, "
                  "retrans_segs_s2c, bytes_c2s, bytes_s2c, http_requests, http_5xx, "
                  "slow_responses, hs_rtt_n, hs_rtt_p50, hs_rtt_p95, hs_rtt_p99, resp_n, "
                  "resp_p50, resp_p95, resp_p99, error_rate, retrans_rate, open_alerts) "
                  "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
                  "?,?,?,?,?)",
    [ST_TLS] = "INSERT INTO tls_handshakes (run_id, flow_id, ts, client, server, server_ip, "
               "server_port, client_version, version, cipher, hello_retry, sni, alpn, ja3, "
               "ja3s, ja4, outcome, inferred, alert_level, alert, alert_from, duration, "
               "leaf_sha256) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_CERT_INS] = "INSERT OR IGNORE INTO certificates (sha256, subject, issuer, sans, "
                    "serial, not_before, not_after, key_type, key_bits, sig_alg, "
                    "self_signed, chain_pos, first_seen, last_seen, first_run_id, "
                    "last_run_id, first_server, last_server) "
                    "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?13,?14,?14,?15,?15)",
    [ST_CERT_UPD] = "UPDATE certificates SET last_seen = max(last_seen, ?2), "
                    "first_seen = min(first_seen, ?2), last_run_id = ?3, last_server = ?4 "
                    "WHERE sha256 = ?1",
    [ST_ALERT_OPEN] = "INSERT INTO alerts (run_id, server, server_ip, server_port, rule, "
                      "opened, open_detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_ALERT_CLOSE] = "UPDATE alerts SET closed = ?6, close_detail = ?7 "
                       "WHERE run_id = ?1 AND server_ip = ?3 AND server_port = ?4 "
                       "AND closed IS NULL AND rule = ?5",
    [ST_INCIDENT] =
        "INSERT INTO incidents (run_id, id, server, server_ip, server_port, client, cause, "
        "layer, severity, since, until, state, close_reason, updated, events, "
        "connections_affected, connections_total, clients_affected, confidence, summary, "
        "advice, evidence) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,1,?15,?16,"
        "?17,?18,?19,?20,?21) ON CONFLICT(run_id, id) DO UPDATE SET severity = ?9, "
        "since = ?10, until = ?11, state = ?12, close_reason = ?13, updated = ?14, "
        "events = events + 1, connections_affected = ?15, connections_total = ?16, "
        "clients_affected = ?17, confidence = ?18, summary = ?19, advice = ?20, "
        "evidence = ?21",
    [ST_INC_FLOWS_DEL] = "DELETE FROM incident_flows WHERE run_id = ?1 AND incident_id = ?2",
    [ST_INC_FLOW] = "INSERT INTO incident_flows (run_id, incident_id, flow_id) VALUES (?1,?2,?3)",
    [ST_INC_REQS_DEL] = "DELETE FROM incident_requests WHERE run_id = ?1 AND incident_id = ?2",
    [ST_INC_REQ] = "INSERT INTO incident_requests (run_id, incident_id, flow_id, frame, status, "
                   "method, path) VALUES (?1,?2,?3,?4,?5,?6,?7)",
    [ST_HTTP] = "INSERT INTO http_requests (run_id, flow_id, trans_depth, ts, client, server, "
                "client_ip, client_port, server_ip, server_port, method, host, path, status, "
                "request_body_bytes, response_body_bytes, response_time, state, gap_bytes, "
                "truncated, request_frame, response_frame) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
};

static int prepare_all(struct store *s, char *err, size_t errlen)
{
    char flow_sql[2048];
    if (flow_insert_sql(flow_sql, sizeof(flow_sql)) != 0) {
        set_err(err, errlen, "internal error: flows INSERT does not fit");
        return ERR_DB;
    }
    for (int i = 0; i < ST__COUNT; i++) {
        const char *sql = i == ST_FLOW ? flow_sql : stmt_sql[i];
        int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
        if (rc != SQLITE_OK) {
            set_err(err, errlen, "database %s: preparing a statement failed: %s", s->path,
                    sqlite3_errmsg(s->db));
            return ERR_DB;
        }
    }
    return 0;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s && s[0])
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Insert this run's row; committed at once so that even a killed run is listed. */
static int insert_run(struct store *s, const struct store_run_info *ri, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "INSERT INTO runs (started, sources, filter, servers, options, "
                                "version, status, inputs, evidence_dir, sensor) "
                                "VALUES (?,?,?,?,?,?,'running',?,?,?)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        uint64_t start = ri && ri->start_wall_ns ? ri->start_wall_ns : clock_real_ns();
        sqlite3_bind_double(st, 1, ns_to_s(start));
        sqlite3_bind_text(st, 2, ri && ri->sources ? ri->sources : "", -1, SQLITE_TRANSIENT);
        bind_text_or_null(st, 3, ri ? ri->filter : NULL);
        bind_text_or_null(st, 4, ri ? ri->servers : NULL);
        bind_text_or_null(st, 5, ri ? ri->options : NULL);
        sqlite3_bind_text(st, 6, FM_VERSION, -1, SQLITE_STATIC);
        bind_text_or_null(st, 7, ri ? ri->inputs : NULL);
        bind_text_or_null(st, 8, ri ? ri->evidence_dir : NULL);
        bind_text_or_null(st, 9, ri ? ri->sensor : NULL);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return db_err(s->path, s->db, rc, "writing database", err, errlen);
    s->run_id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

static void *writer_main(void *arg);

/*
 * SQLite's memory statistics take a global mutex around every malloc and free, and this
 * SQLite (Debian's) has no lookaside allocator, so every bound value and cursor is one: a
 * tenth of the writer's time. Nothing here reads the statistics. The setting must come
 * before SQLite initialises, so it is made once, before the first connection (sqlite3_config
 * refuses it harmlessly when SQLite was initialised already).
 */
static pthread_once_t sqlite_setup_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Queue size: tuning, else FLOWMEDIC_STORE_QUEUE, else the default. */
static size_t queue_slots(const struct store_tuning *t)
{
    if (t && t->queue_slots)
        return t->queue_slots < STORE_MAX_SLOTS ? t->queue_slots : STORE_MAX_SLOTS;
    const char *env = getenv("FLOWMEDIC_STORE_QUEUE");
    if (env && *env) {
        char *end = NULL;
        unsigned long v = strtoul(env, &end, 10);
        if (end && *end == '\0' && v > 0)
            return v < STORE_MAX_SLOTS ? (size_t)v : STORE_MAX_SLOTS;
        log_warn("FLOWMEDIC_STORE_QUEUE=%s is not a positive number; using %d", env,
                 STORE_DEFAULT_SLOTS);
    }
    return STORE_DEFAULT_SLOTS;
}

static int init_sync(struct store *s)
{
    pthread_condattr_t ca;
    if (pthread_mutex_init(&s->mu, NULL) != 0)
        return ERR_NOMEM;
    if (pthread_condattr_init(&ca) != 0)
        return ERR_NOMEM;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int bad = pthread_cond_init(&s->cv_work, &ca) || pthread_cond_init(&s->cv_space, &ca) ||
              pthread_cond_init(&s->cv_flushed, &ca);
    pthread_condattr_destroy(&ca);
    return bad ? ERR_NOMEM : 0;
}

static void store_free(struct store *s)
{
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(s->st[i]);
    if (s->db)
        sqlite3_close(s->db);
    pthread_cond_destroy(&s->cv_work);
    pthread_cond_destroy(&s->cv_space);
    pthread_cond_destroy(&s->cv_flushed);
    pthread_mutex_destroy(&s->mu);
    free(s->slots);
    free(s->incw);
    free(s);
}

/*
 * SQLite's busy handler: another program holds the write lock (a retention DELETE, a VACUUM,
 * the sqlite3 shell in a transaction). Sleep with back-off and try again; during the run, as
 * long as it takes (the records stay queued: offline the analysis waits for room, live what
 * does not fit is counted as dropped), and say so once the wait is long. Returns 0 to give up.
 */
static int busy_handler(void *arg, int count)
{
    struct store *s = arg;
    uint64_t now = clock_mono_ns();
    if (count == 0)
        s->busy_since_ns = now;
    uint64_t waited_ms = (now - s->busy_since_ns) / 1000000u;
    pthread_mutex_lock(&s->mu);
    bool stopping = s->stop;
    uint64_t since_stop_ms = stopping ? (now - s->stop_ns) / 1000000u : 0;
    size_t queued = s->count;
    pthread_mutex_unlock(&s->mu);
    if (s->phase == PHASE_OPEN && waited_ms >= STORE_BUSY_MS)
        return 0;
    if (s->phase != PHASE_OPEN && stopping && since_stop_ms >= s->tune.close_busy_ms)
        return 0;
    if (s->phase != PHASE_OPEN && !s->busy_logged && waited_ms >= STORE_BUSY_LOG_MS) {
        s->busy_logged = true;
        pthread_mutex_lock(&s->mu);
        s->locked = true;
        pthread_mutex_unlock(&s->mu);
        log_warn("database %s is locked by another program; waiting for it%s (%zu records "
                 "queued)",
                 s->path, stopping ? " (the run has ended: for a minute at most)" : "", queued);
    }
    uint64_t ms = count < 8 ? (uint64_t)1 << count : STORE_BUSY_SLEEP_MS;
    if (ms > STORE_BUSY_SLEEP_MS)
        ms = STORE_BUSY_SLEEP_MS;
    struct timespec d = {.tv_sec = 0, .tv_nsec = (long)(ms * 1000000u)};
    nanosleep(&d, NULL);
    return 1;
}

/* A statement got the lock: if a long wait was announced, say that writing resumes. */
static void busy_done(struct store *s)
{
    if (!s->busy_logged)
        return;
    uint64_t waited = clock_mono_ns() - s->busy_since_ns;
    s->busy_logged = false;
    pthread_mutex_lock(&s->mu);
    s->locked = false;
    s->lock_waits++;
    s->lock_wait_ns += waited;
    size_t queued = s->count;
    pthread_mutex_unlock(&s->mu);
    log_warn("database %s: the other program released its lock after %.1f s; writing the %zu "
             "queued records",
             s->path, (double)waited / 1e9, queued);
}

struct store *store_open_tuned(const char *path, const struct store_run_info *ri,
                               const struct store_tuning *t, char *err, size_t errlen)
{
    struct store *s;
    int rc;

    set_err(err, errlen, "%s", "");
    if (!path) {
        set_err(err, errlen, "no database path given");
        return NULL;
    }
    if (check_path(path, err, errlen) != 0)
        return NULL;
    s = calloc(1, sizeof(*s));
    if (!s) {
        set_err(err, errlen, "out of memory opening database %s", path);
        return NULL;
    }
    if (init_sync(s) != 0) {
        set_err(err, errlen, "cannot set up the database writer for %s", path);
        free(s);
        return NULL;
    }
    snprintf(s->path, sizeof(s->path), "%s", path);
    s->tune.queue_slots = queue_slots(t);
    s->tune.batch_records = t && t->batch_records ? t->batch_records : STORE_DEFAULT_BATCH;
    s->tune.batch_ms = t && t->batch_ms ? t->batch_ms : STORE_DEFAULT_BATCH_MS;
    s->tune.writer_delay_us = t ? t->writer_delay_us : 0;
    s->tune.max_pages = t ? t->max_pages : 0;
    s->tune.close_busy_ms = t && t->close_busy_ms ? t->close_busy_ms : STORE_CLOSE_BUSY_MS;
    s->retain_days = ri && ri->retain_days > 0 ? ri->retain_days : 0;
    s->retain_pending = s->retain_days > 0;
    s->live = ri && ri->sources && strncmp(ri->sources, "iface:", 6) == 0;
    if (ri && ri->when_full == STORE_FULL_WAIT)
        s->block_when_full = true;
    else if (ri && ri->when_full == STORE_FULL_DROP)
        s->block_when_full = false;
    else /* auto: a live capture must never stall; files may wait for the disk */
        s->block_when_full = !s->live;
    s->slots = calloc(s->tune.queue_slots, sizeof(*s->slots));
    if (!s->slots) {
        set_err(err, errlen, "out of memory for the database queue (%zu records)",
                s->tune.queue_slots);
        goto fail;
    }

    pthread_once(&sqlite_setup_once, sqlite_setup);
    rc = sqlite3_open_v2(path, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        db_err(path, s->db, rc, "opening database", err, errlen);
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    s->phase = PHASE_OPEN;
    sqlite3_busy_handler(s->db, busy_handler, s);
    /*
     * Before the schema is created or migrated: its commits too go without the fsync of the
     * WAL that SQLite's default (FULL) makes at each one (2 fewer at the creation). The cache
     * size comes after: set before the page size of a new file, it measured 11 MiB more RSS.
     */
    rc = sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        db_err(path, s->db, rc, "opening database", err, errlen);
        goto fail;
    }
    if (check_and_migrate(s, err, errlen) != 0)
        goto fail;
    rc = sqlite3_exec(s->db, "PRAGMA cache_size=-16384", NULL, NULL, NULL);
    if (rc == SQLITE_OK && s->tune.max_pages) {
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%" PRIu32, s->tune.max_pages);
        rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        db_err(path, s->db, rc, "opening database", err, errlen);
        goto fail;
    }
    if (prepare_all(s, err, errlen) != 0)
        goto fail;
    if (insert_run(s, ri, err, errlen) != 0)
        goto fail;
    s->phase = PHASE_RUN; /* the writer's from here; pthread_create orders this write */
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        set_err(err, errlen, "cannot start the database writer thread for %s", path);
        goto fail;
    }
    s->writer_started = true;
    return s;

fail:
    store_free(s);
    return NULL;
}

struct store *store_open(const char *path, const struct store_run_info *ri, char *err,
                         size_t errlen)
{
    return store_open_tuned(path, ri, NULL, err, errlen);
}

/* ---- the writer thread ---- */

/* Mark the store failed (first error wins); the open batch is rolled back and lost. */
static void writer_fail(struct store *s, const char *what)
{
    int rc = sqlite3_extended_errcode(s->db);
    char msg[256];
    pthread_mutex_lock(&s->mu);
    bool stopping = s->stop;
    pthread_mutex_unlock(&s->mu);
    if ((rc & 0xff) == SQLITE_BUSY && stopping)
        snprintf(msg, sizeof(msg),
                 "database %.160s stayed locked by another program for %.1f s after the run "
                 "ended",
                 s->path, s->tune.close_busy_ms / 1000.0);
    else if ((rc & 0xff) == SQLITE_BUSY)
        snprintf(msg, sizeof(msg),
                 "writing database %.160s failed (%s): locked by another "
                 "program (%s)",
                 s->path, what, sqlite3_errmsg(s->db));
    else if (disk_full(s->db, rc))
        snprintf(msg, sizeof(msg), "writing database %.160s failed: the disk is full (%s%s%s)",
                 s->path, sqlite3_errmsg(s->db), (rc & 0xff) == SQLITE_IOERR ? ": " : "",
                 (rc & 0xff) == SQLITE_IOERR ? strerror(sqlite3_system_errno(s->db)) : "");
    else
        snprintf(msg, sizeof(msg), "writing database %.160s failed (%s): %s", s->path, what,
                 sqlite3_errmsg(s->db));
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_lock(&s->mu);
    if (!s->failed) {
        s->failed = true;
        snprintf(s->error, sizeof(s->error), "%s", msg);
    }
    s->lost += s->in_txn;
    pthread_mutex_unlock(&s->mu);
    s->txn_open = false;
    s->in_txn = 0;
    memset(s->in_txn_by_type, 0, sizeof(s->in_txn_by_type));
}

/* Step a statement that returns no rows, then reset it; SQLite's result code. */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void txn_commit(struct store *s)
{
    if (!s->txn_open)
        return;
    if (step_done(s->st[ST_COMMIT]) != SQLITE_OK) {
        writer_fail(s, "commit");
        return;
    }
    busy_done(s);
    pthread_mutex_lock(&s->mu);
    s->written += s->in_txn;
    for (int i = 0; i < OUT__COUNT; i++)
        s->written_by_type[i] += s->in_txn_by_type[i];
    uint64_t w[OUT__COUNT];
    memcpy(w, s->written_by_type, sizeof(w));
    pthread_mutex_unlock(&s->mu);
    /* tests/store/crash.sh reads this line to know what must survive a kill. */
    log_info("store: committed %" PRIu32 " records: findings %" PRIu64 " flows %" PRIu64
             " health %" PRIu64 " tls %" PRIu64 " certs %" PRIu64,
             s->in_txn, w[OUT_FINDING], w[OUT_FLOW], w[OUT_HEALTH], w[OUT_TLS], w[OUT_CERT]);
    s->txn_open = false;
    s->in_txn = 0;
    memset(s->in_txn_by_type, 0, sizeof(s->in_txn_by_type));
}

/* An endpoint's text columns, kept by the caller until its statement has been stepped. */
struct ep_text {
    char ep[PKT_ENDPOINT_STRLEN]; /* "ip:port" ("[ip6]:port") */
    char ip[48]; /* the address alone */
};

/*
 * Bind an endpoint as "ip:port" text (i), ip text (i_ip) and port (i_port). The text is
 * bound without a copy (SQLITE_STATIC) from t, which must outlive the step; so are the
 * records' own strings below (the queue slot is not reused until the step is done).
 */
static void bind_ep(sqlite3_stmt *st, const struct endpoint *e, int i, int i_ip, int i_port,
                    struct ep_text *t)
{
    /* The address is formatted once, for both columns. */
    pkt_addr_str(&e->ip, t->ip, sizeof(t->ip));
    size_t il = strnlen(t->ip, sizeof(t->ip) - 1);
    if (i > 0)
        sqlite3_bind_text(st, i, t->ep, (int)pkt_endpoint_fmt(e, t->ip, il, t->ep),
                          SQLITE_STATIC);
    if (i_ip > 0)
        sqlite3_bind_text(st, i_ip, t->ip, (int)il, SQLITE_STATIC);
    if (i_port > 0)
        sqlite3_bind_int(st, i_port, e->port);
}

/* Bind the first cap bytes of s, up to a NUL, as text (what "%.*s" would copy). */
static void bind_cut(sqlite3_stmt *st, int i, const char *s, size_t cap)
{
    sqlite3_bind_text(st, i, s, (int)strnlen(s, cap), SQLITE_STATIC);
}

static void bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
    sqlite3_bind_int64(st, i, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

/* NAN (no sample) becomes NULL. */
static void bind_real_or_null(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v) || isinf(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

/* Bind a fixed-size char array that may lack its NUL as text (NULL when empty). */
static void bind_fixed(sqlite3_stmt *st, int i, const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, s, (int)n, SQLITE_STATIC);
}

/* The HTTP finding columns (http_method .. response_time) from index i on; NULL if none. */
static void bind_http_columns(sqlite3_stmt *st, const struct finding *f, int i)
{
    if (fk_info(f->kind)->family == FX_SLOW_RESPONSE) {
        if (f->fx.slow.status > 0)
            sqlite3_bind_int(st, i + 3, f->fx.slow.status);
        if (f->fx.slow.response_s >= 0)
            sqlite3_bind_double(st, i + 4, f->fx.slow.response_s);
        return;
    }
    if (fk_info(f->kind)->family != FX_HTTP)
        return;
    bind_fixed(st, i, f->fx.http.method, sizeof(f->fx.http.method));
    bind_fixed(st, i + 1, f->fx.http.host, sizeof(f->fx.http.host));
    bind_fixed(st, i + 2, f->fx.http.path, sizeof(f->fx.http.path));
    sqlite3_bind_int(st, i + 3, f->fx.http.status);
    bind_real_or_null(st, i + 4, f->fx.http.response_s);
}

/* The typed finding columns (side, phase, ttl_mismatch) at the given indexes; NULL if none. */
static void bind_typed_columns(sqlite3_stmt *st, const struct finding *f, int side, int phase,
                               int ttl)
{
    switch (fk_info(f->kind)->family) {
    case FX_RESET:
        sqlite3_bind_text(st, side, dir_side_name(f->fx.reset.from), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, phase, rst_phase_name(f->fx.reset.phase), -1, SQLITE_STATIC);
        sqlite3_bind_int(st, ttl, f->fx.reset.ttl_mismatch);
        break;
    case FX_TLS_ALERT:
        sqlite3_bind_text(st, side, dir_side_name(f->fx.tls_alert.from), -1, SQLITE_STATIC);
        break;
    case FX_TLS_HANDSHAKE:
        if (f->fx.tls_hs.alert_from >= 0)
            sqlite3_bind_text(st, side, dir_side_name(f->fx.tls_hs.alert_from), -1, SQLITE_STATIC);
        break;
    case FX_ESTAB:
        if (f->fx.estab.reason == ER_REFUSED)
            sqlite3_bind_int(st, ttl, f->fx.estab.ttl_mismatch);
        break;
    default:
        break;
    }
}

static int write_finding(struct store *s, const struct finding *f)
{
    sqlite3_stmt *st = s->st[ST_FINDING];
    char frames[FINDING_FRAMES_MAX * 21 + 1];
    char extra[FINDING_JSON_MAX + 2];
    struct ep_text cl, sv;
    size_t used = 0;
    double ts = ns_to_s(f->ts_ns);

    for (unsigned i = 0; i < f->nframes && i < FINDING_FRAMES_MAX; i++) {
        if (i)
            frames[used++] = ',';
        used += text_fmt_u64(frames + used, f->frames[i]); /* 20 digits and a comma each: fits */
    }
    frames[used] = '\0';
    /* The members written straight into "{...}": their length is below FINDING_JSON_MAX. */
    size_t nm = finding_json_members(f, extra + 1, FINDING_JSON_MAX);
    extra[0] = '{';
    extra[1 + nm] = '}';
    extra[2 + nm] = '\0';

    sqlite3_bind_int64(st, 1, s->run_id);
    sqlite3_bind_double(st, 2, ts);
    sqlite3_bind_text(st, 3, fk_name(f->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, sev_name(f->sev), -1, SQLITE_STATIC);
    if (f->flow_id)
        bind_u64(st, 5, f->flow_id);
    if (f->has_client)
        bind_ep(st, &f->client, 6, 8, 9, &cl);
    bind_ep(st, &f->server, 7, 10, 11, &sv);
    /* The strings are fixed-size copies; never trust them to be terminated. */
    bind_cut(st, 12, f->detail, sizeof(f->detail) - 1); /* as the old copy, NUL included */
    bind_text_or_null(st, 13, frames);
    sqlite3_bind_double(st, 14, fx_confidence(f->confidence));
    if (nm)
        sqlite3_bind_text(st, 15, extra, (int)nm + 2, SQLITE_STATIC);
    bind_typed_columns(st, f, 16, 17, 18);
    bind_http_columns(st, f, 19);
    int rc = step_done(st);
    if (rc != SQLITE_OK || fk_info(f->kind)->family != FX_HEALTH_ALERT)
        return rc;

    /* health_alert: open or close a row of the alerts history. */
    sqlite3_stmt *a = s->st[f->fx.alert.open ? ST_ALERT_OPEN : ST_ALERT_CLOSE];
    sqlite3_bind_int64(a, 1, s->run_id);
    bind_ep(a, &f->server, 2, 3, 4, &sv);
    sqlite3_bind_text(a, 5, alert_rule_name(f->fx.alert.rule), -1, SQLITE_STATIC);
    sqlite3_bind_double(a, 6, ts);
    bind_cut(a, 7, f->detail, sizeof(f->detail) - 1);
    return step_done(a);
}

static int write_flow(struct store *s, const struct flow_record *r)
{
    sqlite3_stmt *st = s->st[ST_FLOW];
    uint64_t retrans = r->data_retrans[DIR_C2S] + r->data_retrans[DIR_S2C];
    struct ep_text cl, sv;

    sqlite3_bind_int64(st, 1, s->run_id);
    bind_u64(st, 2, r->flow_id);
    bind_ep(st, &r->client, 3, 5, 6, &cl);
    bind_ep(st, &r->server, 4, 7, 8, &sv);
    sqlite3_bind_double(st, 9, ns_to_s(r->first_ts_ns));
    sqlite3_bind_double(st, 10, ns_to_s(r->last_ts_ns));
    bind_u64(st, 11, r->first_frame);
    sqlite3_bind_text(st, 12, flow_state_name(r->state), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, close_name(r->close), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 14, r->saw_syn);
    sqlite3_bind_int(st, 15, r->one_direction);
    bind_u64(st, 16, r->packets[DIR_C2S]);
    bind_u64(st, 17, r->packets[DIR_S2C]);
    bind_u64(st, 18, r->bytes[DIR_C2S]);
    bind_u64(st, 19, r->bytes[DIR_S2C]);
    bind_u64(st, 20, retrans);
    if (r->hs_rtt_server_ns >= 0)
        sqlite3_bind_double(st, 21, (double)r->hs_rtt_server_ns / 1e9);
    if (r->hs_rtt_client_ns >= 0)
        sqlite3_bind_double(st, 22, (double)r->hs_rtt_client_ns / 1e9);
    sqlite3_bind_int64(st, 23, r->syn_count);
    sqlite3_bind_int64(st, 24, r->synack_count);
    bind_u64(st, 25, r->data_segs[DIR_C2S]);
    bind_u64(st, 26, r->data_segs[DIR_S2C]);
    bind_u64(st, 27, r->data_retrans[DIR_C2S]);
    bind_u64(st, 28, r->data_retrans[DIR_S2C]);
    for (int e = 0; e < TEV__COUNT; e++) {
        sqlite3_bind_int64(st, 29 + 2 * e, r->ev[DIR_C2S][e]);
        sqlite3_bind_int64(st, 30 + 2 * e, r->ev[DIR_S2C][e]);
    }
    sqlite3_bind_text(st, 29 + 2 * TEV__COUNT, conn_state_name(r->conn_state), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 30 + 2 * TEV__COUNT, r->history, -1, SQLITE_STATIC);
    return step_done(st);
}

static int write_health(struct store *s, const struct health_row *h)
{
    sqlite3_stmt *st = s->st[ST_HEALTH];
    const uint64_t counts[] = {
        h->attempts,     h->established,  h->failed_refused, h->failed_timeout,  h->failed_backlog,
        h->failed_reset, h->failed_tls,   h->syn_retries,    h->synack_retries,  h->resets,
        h->zero_windows, h->data_segs[0], h->data_segs[1],   h->retrans_segs[0], h->retrans_segs[1],
        h->bytes[0],     h->bytes[1],     h->http_requests,  h->http_5xx,        h->slow_responses,
    };
    struct ep_text sv;
    int i = 1;
    sqlite3_bind_int64(st, i++, s->run_id);
    sqlite3_bind_double(st, i++, ns_to_s(h->start_ns));
    sqlite3_bind_double(st, i++, ns_to_s(h->len_ns));
    bind_ep(st, &h->server, i, i + 1, i + 2, &sv);
    i += 3;
    for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++)
        bind_u64(st, i++, counts[k]);
    sqlite3_bind_int64(st, i++, h->hs_rtt_n);
    bind_real_or_null(st, i++, h->hs_rtt_p50);
    bind_real_or_null(st, i++, h->hs_rtt_p95);
    bind_real_or_null(st, i++, h->hs_rtt_p99);
    sqlite3_bind_int64(st, i++, h->resp_n);
    bind_real_or_null(st, i++, h->resp_p50);
    bind_real_or_null(st, i++, h->resp_p95);
    bind_real_or_null(st, i++, h->resp_p99);
    bind_real_or_null(st, i++, h->error_rate);
    bind_real_or_null(st, i++, h->retrans_rate);
    sqlite3_bind_int64(st, i, h->open_alerts);
    return step_done(st);
}

static int write_tls(struct store *s, const struct tls_record *t)
{
    sqlite3_stmt *st = s->st[ST_TLS];
    char vbuf[2][16];
    char abuf[24];
    struct ep_text cl, sv;

    sqlite3_bind_int64(st, 1, s->run_id);
    bind_u64(st, 2, t->flow_id);
    sqlite3_bind_double(st, 3, ns_to_s(t->ts_ns));
    bind_ep(st, &t->client, 4, 0, 0, &cl);
    bind_ep(st, &t->server, 5, 6, 7, &sv);
    if (t->client_version)
        sqlite3_bind_text(st, 8, tls_version_name(t->client_version, vbuf[0], 16), -1,
                          SQLITE_STATIC);
    if (t->version)
        sqlite3_bind_text(st, 9, tls_version_name(t->version, vbuf[1], 16), -1, SQLITE_STATIC);
    if (t->cipher)
        sqlite3_bind_int(st, 10, t->cipher);
    sqlite3_bind_int(st, 11, t->hello_retry);
    bind_fixed(st, 12, t->sni, sizeof(t->sni));
    bind_fixed(st, 13, t->alpn, sizeof(t->alpn));
    bind_fixed(st, 14, t->ja3, sizeof(t->ja3));
    bind_fixed(st, 15, t->ja3s, sizeof(t->ja3s));
    bind_fixed(st, 16, t->ja4, sizeof(t->ja4));
    sqlite3_bind_text(st, 17, tls_outcome_name(t->outcome), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 18, t->inferred);
    if (t->alert_level >= 0)
        sqlite3_bind_int(st, 19, t->alert_level);
    if (t->alert_desc >= 0) {
        const char *name = tls_alert_name(t->alert_desc);
        if (strcmp(name, "unknown") == 0) {
            snprintf(abuf, sizeof(abuf), "alert_%d", t->alert_desc);
            name = abuf;
        }
        sqlite3_bind_text(st, 20, name, -1, SQLITE_STATIC);
    }
    if (t->alert_from == DIR_C2S || t->alert_from == DIR_S2C)
        sqlite3_bind_text(st, 21, t->alert_from == DIR_C2S ? "client" : "server", -1,
                          SQLITE_STATIC);
    if (t->duration_ns >= 0)
        sqlite3_bind_double(st, 22, (double)t->duration_ns / 1e9);
    bind_fixed(st, 23, t->leaf_sha256, sizeof(t->leaf_sha256));
    return step_done(st);
}

static int write_cert(struct store *s, const struct cert_record *c)
{
    sqlite3_stmt *st = s->st[ST_CERT_INS];
    char server[64];
    double ts = ns_to_s(c->ts_ns);
    pkt_endpoint_str(&c->server, server, sizeof(server));

    if (strnlen(c->sha256, sizeof(c->sha256)) == 0)
        return SQLITE_OK; /* nothing to key it by: not a certificate we can keep */
    bind_fixed(st, 1, c->sha256, sizeof(c->sha256));
    bind_fixed(st, 2, c->subject, sizeof(c->subject));
    bind_fixed(st, 3, c->issuer, sizeof(c->issuer));
    bind_fixed(st, 4, c->sans, sizeof(c->sans));
    bind_fixed(st, 5, c->serial, sizeof(c->serial));
    if (c->bad_not_before) /* not a date: NULL, so that no view reads it as 1970 */
        sqlite3_bind_null(st, 6);
    else
        sqlite3_bind_double(st, 6, (double)c->not_before);
    if (c->bad_not_after)
        sqlite3_bind_null(st, 7);
    else
        sqlite3_bind_double(st, 7, (double)c->not_after);
    bind_fixed(st, 8, c->key_type, sizeof(c->key_type));
    sqlite3_bind_int(st, 9, c->key_bits);
    bind_fixed(st, 10, c->sig_alg, sizeof(c->sig_alg));
    sqlite3_bind_int(st, 11, c->self_signed);
    sqlite3_bind_int(st, 12, c->chain_pos);
    sqlite3_bind_double(st, 13, ts);
    sqlite3_bind_int64(st, 14, s->run_id);
    sqlite3_bind_text(st, 15, server, -1, SQLITE_STATIC);
    int rc = step_done(st);
    if (rc != SQLITE_OK)
        return rc;
    st = s->st[ST_CERT_UPD];
    bind_fixed(st, 1, c->sha256, sizeof(c->sha256));
    sqlite3_bind_double(st, 2, ts);
    sqlite3_bind_int64(st, 3, s->run_id);
    sqlite3_bind_text(st, 4, server, -1, SQLITE_STATIC);
    return step_done(st);
}

/*
 * Item i of a comma-separated list of numbers at buf + used (what snprintf "%s%" PRIu64 wrote,
 * without its cost): the new length, len when it does not fit (the caller stores "{}").
 */
static size_t put_u64_list(char *buf, size_t len, size_t used, unsigned i, uint64_t v)
{
    if (len - used < 22) /* a comma, 20 digits and the NUL */
        return len;
    if (i)
        buf[used++] = ',';
    used += text_fmt_u64(buf + used, v);
    buf[used] = '\0';
    return used;
}

/* The evidence of an incident as JSON (the same object as in its JSON line). */
static void incident_evidence(const struct incident_record *r, char *buf, size_t len)
{
    size_t used = 0;
    int n = snprintf(buf, len, "{\"kinds\":{");
    used = n > 0 ? (size_t)n : 0;
    bool first = true;
    for (int k = 0; k < FK__COUNT && used < len; k++) {
        if (!r->kinds[k])
            continue;
        n = snprintf(buf + used, len - used, "%s\"%s\":%u", first ? "" : ",",
                     fk_name((enum fkind)k), r->kinds[k]);
        used += n > 0 ? (size_t)n : 0;
        first = false;
    }
    if (used < len) {
        n = snprintf(buf + used, len - used, "},\"flows\":[");
        used += n > 0 ? (size_t)n : 0;
    }
    for (unsigned i = 0; i < r->nflows && i < INC_FLOWS_MAX && used < len; i++)
        used = put_u64_list(buf, len, used, i, r->flows[i]);
    if (used < len) {
        n = snprintf(buf + used, len - used, "],\"frames\":[");
        used += n > 0 ? (size_t)n : 0;
    }
    for (unsigned i = 0; i < r->nframes && i < INC_FRAMES_MAX && used < len; i++)
        used = put_u64_list(buf, len, used, i, r->frames[i]);
    if (used < len) {
        n = snprintf(buf + used, len - used, "]");
        used += n > 0 ? (size_t)n : 0;
    }
    char reqs[INC_REQUESTS_JSON_MAX];
    if (used < len && incident_requests_json(r, reqs, sizeof(reqs))) {
        n = snprintf(buf + used, len - used, ",%s", reqs);
        used += n > 0 ? (size_t)n : 0;
    }
    if (used < len) {
        n = snprintf(buf + used, len - used, "}");
        used += n > 0 ? (size_t)n : 0;
    }
    if (used >= len)
        snprintf(buf, len, "{}"); /* never store cut JSON */
}

/* Delete the rows of incident r from table statement del (incident_flows, _requests). */
static int delete_incident_rows(struct store *s, sqlite3_stmt *del, const struct incident_record *r)
{
    sqlite3_bind_int64(del, 1, s->run_id);
    bind_u64(del, 2, r->id);
    return step_done(del);
}

/*
 * What this run wrote for incident id so far (zeroed: nothing), or NULL when it is not
 * remembered (ids past STORE_INC_CACHE_MAX, or no memory): then its rows are replaced.
 */
static struct inc_written *inc_written(struct store *s, uint64_t id)
{
    if (id == 0 || id > STORE_INC_CACHE_MAX)
        return NULL;
    if (id > s->incw_cap) {
        size_t cap = s->incw_cap ? s->incw_cap : 256;
        while (cap < id)
            cap *= 2;
        if (cap > STORE_INC_CACHE_MAX)
            cap = STORE_INC_CACHE_MAX;
        struct inc_written *w = realloc(s->incw, cap * sizeof(*w));
        if (!w)
            return NULL;
        memset(w + s->incw_cap, 0, (cap - s->incw_cap) * sizeof(*w));
        s->incw = w;
        s->incw_cap = cap;
    }
    return &s->incw[id - 1];
}

/*
 * The evidence flows and HTTP requests of incident r as rows, replacing its earlier ones:
 * when the flows written before are the start of r's list, only the rest is inserted (the
 * rows and their order are those a full rewrite gives), and a table with no rows of this
 * incident is not searched.
 */
static int write_incident_rows(struct store *s, const struct incident_record *r)
{
    struct inc_written *w = inc_written(s, r->id);
    unsigned nf = r->nflows < INC_FLOWS_MAX ? r->nflows : INC_FLOWS_MAX;
    unsigned first = 0; /* flows[first..nf) are inserted */
    int rc = SQLITE_OK;
    if (w && w->nflows <= nf && memcmp(w->flows, r->flows, w->nflows * sizeof(r->flows[0])) == 0)
        first = w->nflows;
    else
        rc = delete_incident_rows(s, s->st[ST_INC_FLOWS_DEL], r);
    if (rc == SQLITE_OK && (!w || w->nrequests))
        rc = delete_incident_rows(s, s->st[ST_INC_REQS_DEL], r);
    if (w) { /* on an error the store fails: nothing more is written */
        w->nflows = (uint8_t)nf;
        memcpy(w->flows, r->flows, nf * sizeof(r->flows[0]));
        w->nrequests = r->nrequests < INC_REQUESTS_MAX ? r->nrequests : INC_REQUESTS_MAX;
    }
    for (unsigned i = first; rc == SQLITE_OK && i < nf; i++) {
        sqlite3_stmt *st = s->st[ST_INC_FLOW];
        sqlite3_bind_int64(st, 1, s->run_id);
        bind_u64(st, 2, r->id);
        bind_u64(st, 3, r->flows[i]);
        rc = step_done(st);
    }
    for (unsigned i = 0; rc == SQLITE_OK && i < r->nrequests && i < INC_REQUESTS_MAX; i++) {
        const struct inc_request *q = &r->requests[i];
        sqlite3_stmt *st = s->st[ST_INC_REQ];
        sqlite3_bind_int64(st, 1, s->run_id);
        bind_u64(st, 2, r->id);
        bind_u64(st, 3, q->flow_id);
        bind_u64(st, 4, q->frame);
        sqlite3_bind_int(st, 5, q->status);
        bind_cut(st, 6, q->method, sizeof(q->method) - 1); /* as fx_copy cut them */
        bind_cut(st, 7, q->path, sizeof(q->path) - 1);
        rc = step_done(st);
    }
    return rc;
}

/* One incident event: the incident's row, inserted on open and updated after (UPSERT). */
static int write_incident(struct store *s, const struct incident_record *r)
{
    sqlite3_stmt *st = s->st[ST_INCIDENT];
    char evidence[4096];
    struct ep_text cl, sv;
    incident_evidence(r, evidence, sizeof(evidence));
    sqlite3_bind_int64(st, 1, s->run_id);
    bind_u64(st, 2, r->id);
    bind_ep(st, &r->server, 3, 4, 5, &sv);
    if (r->has_client)
        bind_ep(st, &r->client, 6, 0, 0, &cl);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_text(st, 7, inc_cause_name(r->cause), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, inc_layer_name(r->layer), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, sev_name(r->sev), -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 10, ns_to_s(r->since_ns));
    if (r->until_ns)
        sqlite3_bind_double(st, 11, ns_to_s(r->until_ns));
    else
        sqlite3_bind_null(st, 11);
    sqlite3_bind_text(st, 12, r->event == IE_CLOSE ? "closed" : "open", -1, SQLITE_STATIC);
    if (r->event == IE_CLOSE)
        sqlite3_bind_text(st, 13, inc_close_name(r->close_reason), -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 13);
    sqlite3_bind_double(st, 14, ns_to_s(r->ts_ns));
    bind_u64(st, 15, r->conns_affected);
    bind_u64(st, 16, r->conns_total);
    bind_u64(st, 17, r->clients_affected);
    sqlite3_bind_double(st, 18, fx_confidence(r->confidence));
    bind_cut(st, 19, r->summary, sizeof(r->summary) - 1);
    bind_cut(st, 20, r->advice, sizeof(r->advice) - 1);
    sqlite3_bind_text(st, 21, evidence, -1, SQLITE_STATIC);
    int rc = step_done(st);
    if (rc == SQLITE_OK)
        rc = write_incident_rows(s, r);
    return rc;
}

/* One HTTP request/response exchange: a row of http_requests. */
static int write_http(struct store *s, const struct http_record *h)
{
    sqlite3_stmt *st = s->st[ST_HTTP];
    char cut[32] = "";
    static const char *const cut_names[] = {"method", "host", "path"};
    for (unsigned i = 0; i < 3; i++)
        if (h->cut & (1u << i))
            snprintf(cut + strlen(cut), sizeof(cut) - strlen(cut), "%s%s", cut[0] ? "," : "",
                     cut_names[i]);
    sqlite3_bind_int64(st, 1, s->run_id);
    bind_u64(st, 2, h->flow_id);
    sqlite3_bind_int64(st, 3, h->trans_depth);
    sqlite3_bind_double(st, 4, ns_to_s(h->ts_ns));
    struct ep_text cl, sv;
    bind_ep(st, &h->client, 5, 7, 8, &cl);
    bind_ep(st, &h->server, 6, 9, 10, &sv);
    bind_cut(st, 11, h->method, sizeof(h->method));
    if (h->has_host)
        bind_cut(st, 12, h->host, sizeof(h->host));
    bind_cut(st, 13, h->path, sizeof(h->path));
    if (h->status)
        sqlite3_bind_int(st, 14, h->status);
    bind_u64(st, 15, h->req_body_bytes);
    bind_u64(st, 16, h->resp_body_bytes);
    if (h->response_ns >= 0)
        sqlite3_bind_double(st, 17, (double)h->response_ns / 1e9);
    sqlite3_bind_text(st, 18, http_state_name(h->state), -1, SQLITE_STATIC);
    bind_u64(st, 19, h->gap_bytes);
    bind_text_or_null(st, 20, cut);
    bind_u64(st, 21, h->req_frame);
    if (h->resp_frame)
        bind_u64(st, 22, h->resp_frame);
    return step_done(st);
}

static int write_rec(struct store *s, const struct out_rec *r)
{
    switch (r->type) {
    case OUT_FINDING:
        return write_finding(s, &r->u.finding);
    case OUT_FLOW:
        return write_flow(s, &r->u.flow);
    case OUT_HEALTH:
        return write_health(s, &r->u.health);
    case OUT_TLS:
        return write_tls(s, &r->u.tls);
    case OUT_CERT:
        return write_cert(s, &r->u.cert);
    case OUT_INCIDENT:
        return write_incident(s, &r->u.incident);
    case OUT_HTTP:
        return write_http(s, &r->u.http);
    case OUT_SUMMARY: /* kept aside by store_put, never queued */
    case OUT__COUNT:
        break;
    }
    return SQLITE_MISUSE;
}

/* Write one record into the open batch (opening one if needed); commit a full batch. */
static void writer_put(struct store *s, const struct out_rec *r)
{
    if (s->failed) { /* only the writer sets failed, so reading it here is safe */
        pthread_mutex_lock(&s->mu);
        s->lost++;
        pthread_mutex_unlock(&s->mu);
        return;
    }
    if (!s->txn_open) {
        if (step_done(s->st[ST_BEGIN]) != SQLITE_OK) {
            writer_fail(s, "begin");
            pthread_mutex_lock(&s->mu);
            s->lost++;
            pthread_mutex_unlock(&s->mu);
            return;
        }
        busy_done(s);
        s->txn_open = true;
        s->txn_deadline_ns = clock_mono_ns() + (uint64_t)s->tune.batch_ms * 1000000u;
    }
    s->in_txn++;
    s->in_txn_by_type[r->type]++;
    if (write_rec(s, r) != SQLITE_OK) {
        writer_fail(s, "insert");
        return;
    }
    if (s->tune.writer_delay_us) {
        struct timespec d = {.tv_sec = s->tune.writer_delay_us / 1000000u,
                             .tv_nsec = (long)(s->tune.writer_delay_us % 1000000u) * 1000};
        nanosleep(&d, NULL);
    }
    if (s->in_txn >= s->tune.batch_records)
        txn_commit(s);
}

static struct timespec ns_to_ts(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
                          .tv_nsec = (long)(ns % 1000000000u)};
    return ts;
}

/* Queued records at which the producer wakes a writer that is gathering a batch. */
static size_t wake_at(const struct store *s)
{
    size_t n = STORE_WAKE;
    if (s->tune.queue_slots < n)
        n = s->tune.queue_slots;
    if (s->tune.batch_records < n)
        n = s->tune.batch_records;
    return n;
}

/* ---- retention (--retain DAYS) ---- */

/* Stop retention for this run after an error (the records still get written). */
static void retain_fail(struct store *s, const char *what)
{
    log_warn("database %s: deleting old runs (--retain) stopped: %s: %s", s->path, what,
             sqlite3_errmsg(s->db));
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->retain_pending = false;
    s->retain_run = 0;
}

/* The tables that hold rows per run (a run_id column), found in the schema itself. */
static int retain_find_tables(struct store *s)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p "
                                "WHERE m.type = 'table' AND m.name <> 'runs' AND "
                                "p.name = 'run_id' ORDER BY m.name",
                                -1, &st, NULL);
    s->retain_ntables = 0;
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *name = sqlite3_column_text(st, 0);
        if (name && s->retain_ntables < RETAIN_MAX_TABLES)
            snprintf(s->retain_tables[s->retain_ntables++], sizeof(s->retain_tables[0]), "%s",
                     (const char *)name);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * The oldest run to delete, or 0: one other than ours that ended (or, never having ended,
 * started) before the cutoff. A run without an end that still wrote findings or health rows
 * after the cutoff (a live run of another flowmedic, still going) is kept.
 */
static int64_t retain_next_run(struct store *s, double cutoff)
{
    sqlite3_stmt *st = NULL;
    int64_t id = 0;
    int rc = sqlite3_prepare_v2(
        s->db,
        "SELECT id FROM runs r WHERE id <> ?1 AND coalesce(ended, started) < ?2 AND "
        "(ended IS NOT NULL OR (NOT EXISTS (SELECT 1 FROM findings WHERE run_id = r.id AND "
        "ts >= ?2) AND NOT EXISTS (SELECT 1 FROM server_health WHERE run_id = r.id AND "
        "start >= ?2))) ORDER BY id LIMIT 1",
        -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, s->run_id);
        sqlite3_bind_double(st, 2, cutoff);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            id = sqlite3_column_int64(st, 0);
        else if (rc != SQLITE_DONE)
            id = -1;
    } else {
        id = -1;
    }
    sqlite3_finalize(st);
    return id;
}

/* Run sql (with ?1 = the run being deleted) in its own short transaction; changes or -1. */
static int64_t retain_exec(struct store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (step_done(s->st[ST_BEGIN]) != SQLITE_OK)
        return -1;
    busy_done(s);
    s->retain_txns++;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, s->retain_run);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    int64_t n = sqlite3_changes(s->db);
    if (step_done(s->st[ST_COMMIT]) != SQLITE_OK)
        return -1;
    return n;
}

/*
 * One small step of retention, between batches of records and never inside one: find the
 * next expired run, or delete up to RETAIN_BATCH of its rows from one table, or, when its
 * tables are empty, its certificates seen last in it and the run row itself.
 */
static void retain_step(struct store *s)
{
    char sql[256];
    if (s->retain_run == 0) {
        if (s->retain_ntables == 0 && retain_find_tables(s) != SQLITE_OK) {
            retain_fail(s, "reading the schema");
            return;
        }
        double cutoff = (double)clock_real_ns() / 1e9 - s->retain_days * 86400.0;
        int64_t id = retain_next_run(s, cutoff);
        if (id < 0) {
            retain_fail(s, "looking for old runs");
            return;
        }
        if (id == 0) { /* nothing (more) to delete: look again later */
            s->retain_pending = false;
            s->retain_next_ns = clock_mono_ns() + (uint64_t)RETAIN_EVERY_S * 1000000000u;
            return;
        }
        s->retain_run = id;
        s->retain_table = 0;
        s->retain_rows = 0;
        s->retain_txns = 0;
        return;
    }
    if (s->retain_table < s->retain_ntables) {
        const char *t = s->retain_tables[s->retain_table];
        snprintf(sql, sizeof(sql),
                 "DELETE FROM \"%s\" WHERE rowid IN (SELECT rowid FROM \"%s\" WHERE "
                 "run_id = ?1 LIMIT %d)",
                 t, t, RETAIN_BATCH);
        int64_t n = retain_exec(s, sql);
        if (n < 0) {
            retain_fail(s, "deleting rows of an old run");
            return;
        }
        s->retain_rows += (uint64_t)n;
        if (n < RETAIN_BATCH)
            s->retain_table++;
        return;
    }
    int64_t n = retain_exec(s, "DELETE FROM certificates WHERE last_run_id = ?1");
    if (n >= 0)
        s->retain_rows += (uint64_t)n;
    if (n < 0 || retain_exec(s, "DELETE FROM runs WHERE id = ?1") < 0) {
        retain_fail(s, "deleting an old run");
        return;
    }
    log_info("database %s: deleted run %" PRId64 " (older than %g days, %" PRIu64
             " rows in %" PRIu64 " transactions)",
             s->path, s->retain_run, s->retain_days, s->retain_rows, s->retain_txns);
    s->retain_runs_done++;
    s->retain_run = 0;
}

static void *writer_main(void *arg)
{
    struct store *s = arg;

    pthread_mutex_lock(&s->mu);
    for (;;) {
        /*
         * With a batch open, gather records until a wake-up's worth is queued or the batch
         * is due; with none, sleep until the first record comes.
         */
        if (s->retain_days > 0 && !s->retain_pending && clock_mono_ns() >= s->retain_next_ns)
            s->retain_pending = true; /* a long live run: look for expired runs again */
        while ((s->count == 0 || (s->txn_open && s->count < wake_at(s))) && !s->stop &&
               s->flush_done == s->flush_req &&
               !(s->retain_pending && !s->txn_open && !s->failed)) {
            if (s->txn_open) {
                struct timespec dl = ns_to_ts(s->txn_deadline_ns);
                s->writer_sleep = SLEEP_TIMED;
                int rc = pthread_cond_timedwait(&s->cv_work, &s->mu, &dl);
                s->writer_sleep = SLEEP_NONE;
                if (rc == ETIMEDOUT)
                    break;
            } else {
                s->writer_sleep = SLEEP_IDLE;
                pthread_cond_wait(&s->cv_work, &s->mu);
                s->writer_sleep = SLEEP_NONE;
            }
        }
        /* Retention goes between batches, one small transaction at a time. */
        if (s->retain_pending && !s->txn_open && !s->failed) {
            pthread_mutex_unlock(&s->mu);
            retain_step(s);
            pthread_mutex_lock(&s->mu);
        }
        size_t n = s->count < STORE_CHUNK ? s->count : STORE_CHUNK;
        size_t head = s->head;
        uint64_t flush_seq = s->flush_req;
        bool stopping = s->stop;
        pthread_mutex_unlock(&s->mu);

        for (size_t i = 0; i < n; i++)
            writer_put(s, &s->slots[(head + i) % s->tune.queue_slots]);

        pthread_mutex_lock(&s->mu);
        s->head = (head + n) % s->tune.queue_slots;
        s->count -= n;
        pthread_cond_broadcast(&s->cv_space);
        bool drained = s->count == 0;
        bool flush = flush_seq != s->flush_done;
        pthread_mutex_unlock(&s->mu);

        if (s->txn_open &&
            ((drained && (flush || stopping)) || clock_mono_ns() >= s->txn_deadline_ns))
            txn_commit(s);

        pthread_mutex_lock(&s->mu);
        if (drained && flush) {
            s->flush_done = flush_seq;
            pthread_cond_broadcast(&s->cv_flushed);
        }
        if (drained && stopping && !(s->retain_pending && !s->failed))
            break; /* an unfinished retention is finished first (small steps still) */
    }
    s->writer_done = true;
    pthread_cond_broadcast(&s->cv_space);
    pthread_cond_broadcast(&s->cv_flushed);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- the sink (output thread) ---- */

/* Copy r into the queue (waiting for room, or counting a drop, when it is full). */
static void q_push(struct store *s, const struct out_rec *r)
{
    pthread_mutex_lock(&s->mu);
    while (s->count == s->tune.queue_slots) {
        if (!s->block_when_full || s->writer_done || s->stop) {
            s->queue_dropped++;
            pthread_mutex_unlock(&s->mu);
            return;
        }
        pthread_cond_wait(&s->cv_space, &s->mu);
    }
    memcpy(&s->slots[(s->head + s->count) % s->tune.queue_slots], r, out_rec_size(r->type));
    s->count++;
    /* One wake-up per batch of records, not per record: the hot path stays cheap. */
    if (s->writer_sleep == SLEEP_IDLE || (s->writer_sleep == SLEEP_TIMED && s->count >= wake_at(s)))
        pthread_cond_signal(&s->cv_work);
    pthread_mutex_unlock(&s->mu);
}

void store_put(struct store *s, const struct out_rec *r)
{
    if (r->type == OUT_SUMMARY) { /* kept, not queued: it must not be lost to a full queue */
        pthread_mutex_lock(&s->mu);
        s->summary = r->u.summary;
        s->have_summary = true;
        pthread_mutex_unlock(&s->mu);
        return;
    }
    if ((unsigned)r->type < OUT__COUNT)
        q_push(s, r);
}

static void store_sink_put(void *ctx, const struct out_rec *r)
{
    store_put(ctx, r);
}

static void *store_sink_open(const void *cfg, char *err, size_t errlen)
{
    const struct store_sink_opts *o = cfg;
    return store_open(o->path, &o->ri, err, errlen);
}

static int store_sink_close(void *ctx, char *err, size_t errlen)
{
    return store_close(ctx, err, errlen);
}

const struct sink_ops store_sink_ops = {
    .name = "store",
    .open = store_sink_open,
    .put = store_sink_put,
    .close = store_sink_close,
};

int64_t store_run_id(const struct store *s)
{
    return s ? s->run_id : 0;
}

void store_get_status(struct store *s, struct store_status *st)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&s->mu);
    st->queued = s->count;
    st->written = s->written;
    st->dropped = s->queue_dropped + s->lost;
    st->failed = s->failed;
    st->locked = s->locked;
    snprintf(st->error, sizeof(st->error), "%s", s->error);
    pthread_mutex_unlock(&s->mu);
}

int store_flush_now(struct store *s)
{
    int ret = 0;
    struct timespec dl = ns_to_ts(clock_mono_ns() + (uint64_t)STORE_FLUSH_WAIT_MS * 1000000u);

    pthread_mutex_lock(&s->mu);
    uint64_t seq = ++s->flush_req;
    pthread_cond_signal(&s->cv_work);
    while (s->flush_done < seq && !s->writer_done) {
        if (pthread_cond_timedwait(&s->cv_flushed, &s->mu, &dl) == ETIMEDOUT) {
            ret = ERR_AGAIN;
            break;
        }
    }
    if (s->failed)
        ret = ERR_DB;
    pthread_mutex_unlock(&s->mu);
    return ret;
}

/* Final update of the run row: end time, the summary's totals, what was not written. */
static int finish_run(struct store *s, uint64_t not_written, const char *status, const char *error)
{
    sqlite3_stmt *st = NULL;
    const struct run_summary *m = &s->summary;
    int rc = sqlite3_prepare_v2(
        s->db,
        "UPDATE runs SET ended = ?2, store_dropped = ?3, status = ?4, error = ?5, "
        "first_ts = coalesce(?6, first_ts), last_ts = coalesce(?7, last_ts), "
        "packets = coalesce(?8, packets), tcp_packets = coalesce(?9, tcp_packets), "
        "bytes = coalesce(?10, bytes), flows = coalesce(?11, flows), "
        "dropped_kernel = coalesce(?12, dropped_kernel), dropped_if = coalesce(?13, dropped_if), "
        "malformed = coalesce(?14, malformed), evicted = coalesce(?15, evicted), "
        "mirror_duplicates = coalesce(?16, mirror_duplicates) WHERE id = ?1",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, s->run_id);
    sqlite3_bind_double(st, 2, ns_to_s(clock_real_ns()));
    bind_u64(st, 3, not_written);
    sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
    bind_text_or_null(st, 5, error);
    if (s->have_summary) {
        if (m->first_ts_ns)
            sqlite3_bind_double(st, 6, ns_to_s(m->first_ts_ns));
        if (m->last_ts_ns)
            sqlite3_bind_double(st, 7, ns_to_s(m->last_ts_ns));
        bind_u64(st, 8, m->frames);
        bind_u64(st, 9, m->tcp_packets);
        bind_u64(st, 10, m->bytes);
        bind_u64(st, 11, m->flows);
        bind_u64(st, 12, m->kernel_drops);
        bind_u64(st, 13, m->if_drops);
        bind_u64(st, 14, m->malformed);
        bind_u64(st, 15, m->evicted);
        bind_u64(st, 16, m->mirror_duplicates);
    }
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int store_close(struct store *s, char *err, size_t errlen)
{
    int ret = 0;
    char msg[512] = "";
    const char *status = "complete";

    set_err(err, errlen, "%s", "");
    if (!s)
        return 0;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    s->stop_ns = clock_mono_ns();
    pthread_cond_signal(&s->cv_work);
    pthread_mutex_unlock(&s->mu);
    if (s->writer_started)
        pthread_join(s->writer, NULL);
    s->phase = PHASE_CLOSE;

    /* The writer has exited: everything below runs alone. */
    uint64_t not_written = s->queue_dropped + s->lost;
    if (s->failed) {
        snprintf(msg, sizeof(msg), "%s; %" PRIu64 " records were not written", s->error,
                 not_written);
        status = "failed";
        ret = ERR_IO;
    } else if (not_written && s->lock_waits) {
        snprintf(msg, sizeof(msg),
                 "%" PRIu64 " records were not written to %.300s (queue full while another "
                 "program held the database's lock, %.1f s in all)",
                 not_written, s->path, (double)s->lock_wait_ns / 1e9);
        status = "incomplete";
        ret = ERR_FULL;
    } else if (not_written) {
        snprintf(msg, sizeof(msg),
                 "%" PRIu64 " records were not written to %.300s (queue full: the database "
                 "could not keep up)",
                 not_written, s->path);
        status = "incomplete";
        ret = ERR_FULL;
    } else if (!s->have_summary) {
        status = "interrupted";
    }
    int rc = finish_run(s, not_written, status, msg);
    if (rc != SQLITE_OK && ret == 0) {
        char tmp[512];
        db_err(s->path, s->db, rc, "finishing the run in database", tmp, sizeof(tmp));
        snprintf(msg, sizeof(msg), "%s", tmp);
        ret = ERR_IO;
    }
    for (int i = 0; i < ST__COUNT; i++) {
        sqlite3_finalize(s->st[i]);
        s->st[i] = NULL;
    }
    /* The run row is final: now the deferred indexes (a kill from here leaves them pending). */
    if (!s->failed) {
        rc = build_pending_indexes(s);
        if (rc != SQLITE_OK) {
            char tmp[512];
            db_err(s->path, s->db, rc, "building the indexes of", tmp, sizeof(tmp));
            log_warn("%s; the next run that writes it builds them", tmp);
        }
    }
    rc = sqlite3_close(s->db);
    s->db = NULL;
    if (rc != SQLITE_OK && ret == 0) {
        snprintf(msg, sizeof(msg), "closing database %.300s failed: %s", s->path,
                 sqlite3_errstr(rc));
        ret = ERR_IO;
    }
    set_err(err, errlen, "%s", msg);
    store_free(s);
    return ret;
}
