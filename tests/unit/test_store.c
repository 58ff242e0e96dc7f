/*
 * test_store.c - unit tests of the SQLite store: schema creation, migration from version 1,
 * every record type, batching by count and time, the queue-overflow counter, a full disk,
 * bad paths (missing directory, read-only file, not a database, newer schema) and a
 * SIGKILL of a writing process.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/schema.h"
#include "store/store.h"
#include "tests/unit/testhelp.h"

/* Hand the record at p (of type t) to sink ops with state ctx, as the output thread does. */
static void sink_put(const struct sink_ops *ops, void *ctx, enum out_type t, const void *p)
{
    struct out_rec r;
    out_rec_set(&r, t, p);
    ops->put(ctx, &r);
}

static char tmpdir[256]; /* per-run scratch directory */

/* A fresh database path in tmpdir (removes old files of that name). */
static const char *db_path(const char *name)
{
    static char path[512];
    char side[600];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
    return path;
}

static void sleep_ms(unsigned ms)
{
    struct timespec d = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&d, NULL);
}

/* One integer from a query on a separate connection; -1 on error. */
static long long q_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        fprintf(stderr, "q_int(%s): %s\n", sql, db ? sqlite3_errmsg(db) : "no db");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* One text value (copied into buf); "" on error or NULL. */
static const char *q_text(const char *path, const char *sql, char *buf, size_t len)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    buf[0] = '\0';
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_text(st, 0))
        snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return buf;
}

/* Run sql on a new connection; SQLite result code. */
static int exec_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static void ep4(struct endpoint *e, uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
    memset(e, 0, sizeof(*e));
    e->ip.family = 4;
    e->ip.a[0] = a;
    e->ip.a[1] = b;
    e->ip.a[2] = c;
    e->ip.a[3] = d;
    e->port = port;
}

static struct finding mk_finding(enum fkind k, uint64_t ts_ns, const char *detail)
{
    struct finding f;
    memset(&f, 0, sizeof(f));
    f.ts_ns = ts_ns;
    f.kind = k;
    f.sev = SEV_WARN;
    f.flow_id = 7;
    f.has_client = true;
    ep4(&f.client, 192, 168, 1, 10, 40000);
    ep4(&f.server, 10, 0, 0, 5, 443);
    f.nframes = 2;
    f.frames[0] = 3;
    f.frames[1] = 9;
    f.confidence = 1.0f;
    snprintf(f.detail, sizeof(f.detail), "%s", detail);
    return f;
}

static const struct store_run_info run_info = {
    .sources = "a.pcap,b.pcap",
    .filter = "tcp port 443",
    .servers = "10.0.0.5:443",
    .options = "flowmedic -r a.pcap -r b.pcap -w x.db",
    .start_wall_ns = 1714557600ull * 1000000000ull,
};

static void test_schema_new(void)
{
    const char *path = db_path("new.db");
    char err[512], buf[256];
    struct store *s = store_open(path, &run_info, err, sizeof(err));
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_EQ_U64(store_close(s, err, sizeof(err)), 0);
    CHECK_EQ_U64(q_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    CHECK_EQ_U64(q_int(path, "PRAGMA application_id"), STORE_APPLICATION_ID);
    CHECK(strcmp(q_text(path, "PRAGMA journal_mode", buf, sizeof(buf)), "wal") == 0);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN "
                             "('runs','flows','findings','tls_handshakes','certificates',"
                             "'server_health','alerts','incidents')"),
                 8);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM sqlite_master WHERE type='view'"), 8);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM sqlite_master WHERE type='index' AND name IN "
                             "('findings_kind_server_ts','flows_worst','findings_run')"),
                 3);
    /* No summary came: the run is marked interrupted, with its description. */
    CHECK(strcmp(q_text(path, "SELECT status FROM runs", buf, sizeof(buf)), "interrupted") == 0);
    CHECK(strcmp(q_text(path, "SELECT sources FROM runs", buf, sizeof(buf)), "a.pcap,b.pcap") == 0);
    CHECK(strcmp(q_text(path, "SELECT filter FROM runs", buf, sizeof(buf)), "tcp port 443") == 0);
    CHECK_EQ_U64(q_int(path, "SELECT started FROM runs"), 1714557600);
    CHECK_EQ_U64(q_int(path, "SELECT ended IS NOT NULL FROM runs"), 1);
    /* Appending: a second run goes into the same file. */
    s = store_open(path, &run_info, err, sizeof(err));
    CHECK(s != NULL);
    if (s)
        CHECK_EQ_U64(store_close(s, err, sizeof(err)), 0);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM runs"), 2);
    CHECK_EQ_U64(q_int(path, "SELECT max(id) FROM runs"), 2);
}

static void test_all_records(void)
{
    const char *path = db_path("records.db");
    char err[512], buf[512];
    struct store *s = store_open(path, &run_info, err, sizeof(err));
    CHECK(s != NULL);
    if (!s)
        return;
    uint64_t t0 = 1714557600ull * 1000000000ull;

    struct finding f = mk_finding(FK_RESET, t0 + 500000000ull, "server reset the connection");
    f.fx.reset.from = DIR_S2C;
    f.fx.reset.phase = RST_HANDSHAKE;
    f.fx.reset.ttl = 64;
    f.fx.reset.ttl_expected = 64;
    sink_put(&store_sink_ops, s, OUT_FINDING, &f);

    struct flow_record r;
    memset(&r, 0, sizeof(r));
    r.flow_id = 7;
    ep4(&r.client, 192, 168, 1, 10, 40000);
    r.server.ip.family = 6;
    r.server.ip.a[0] = 0x20;
    r.server.ip.a[1] = 0x01;
    r.server.ip.a[2] = 0x0d;
    r.server.ip.a[3] = 0xb8;
    r.server.ip.a[15] = 1;
    r.server.port = 443;
    r.first_ts_ns = t0;
    r.last_ts_ns = t0 + 2500000000ull;
    r.state = FS_CLOSED;
    r.close = CLOSE_RST_SERVER;
    r.saw_syn = true;
    r.packets[DIR_C2S] = 10;
    r.packets[DIR_S2C] = 12;
    r.bytes[DIR_C2S] = 1000;
    r.ev[DIR_C2S][TEV_RETRANSMISSION] = 2;
    r.ev[DIR_S2C][TEV_FAST_RETRANSMISSION] = 3;
    r.ev[DIR_C2S][TEV_SPURIOUS_RETRANSMISSION] = 1; /* a SYN retry: no data retransmission */
    r.data_segs[DIR_C2S] = 40;
    r.data_segs[DIR_S2C] = 60;
    r.data_retrans[DIR_C2S] = 2;
    r.data_retrans[DIR_S2C] = 3;
    r.ev[DIR_S2C][TEV_MIRROR_DUPLICATE] = 4;
    r.hs_rtt_server_ns = 1500000;
    r.hs_rtt_client_ns = -1;
    r.syn_count = 2;
    r.synack_count = 1;
    sink_put(&store_sink_ops, s, OUT_FLOW, &r);

    struct health_row h;
    memset(&h, 0, sizeof(h));
    h.start_ns = t0;
    h.len_ns = 10000000000ull;
    ep4(&h.server, 10, 0, 0, 5, 443);
    h.attempts = 20;
    h.established = 18;
    h.data_segs[0] = 100;
    h.retrans_segs[0] = 5;
    h.hs_rtt_n = 18;
    h.hs_rtt_p50 = 0.002;
    h.hs_rtt_p95 = 0.004;
    h.hs_rtt_p99 = 0.005;
    h.resp_p50 = h.resp_p95 = h.resp_p99 = NAN;
    h.error_rate = 0.1;
    h.retrans_rate = 0.05;
    sink_put(&store_sink_ops, s, OUT_HEALTH, &h);

    struct tls_record t;
    memset(&t, 0, sizeof(t));
    t.flow_id = 7;
    t.client = r.client;
    ep4(&t.server, 10, 0, 0, 5, 443);
    t.ts_ns = t0;
    t.client_version = 0x0304;
    t.version = 0x0303;
    t.cipher = 0xc02f;
    snprintf(t.sni, sizeof(t.sni), "invoice.example");
    t.outcome = TLS_FAILED_ALERT;
    t.alert_level = 2;
    t.alert_desc = 48;
    t.alert_from = DIR_C2S;
    t.duration_ns = -1;
    sink_put(&store_sink_ops, s, OUT_TLS, &t);

    struct cert_record c;
    memset(&c, 0, sizeof(c));
    snprintf(c.sha256, sizeof(c.sha256), "%064d", 1);
    snprintf(c.subject, sizeof(c.subject), "CN=invoice.example");
    c.not_before = 1700000000;
    c.not_after = 1714557600 + 86400 * 10; /* 10 days after the run */
    c.ts_ns = t0 + 1000000000ull;
    c.server = t.server;
    sink_put(&store_sink_ops, s, OUT_CERT, &c);
    c.ts_ns = t0 + 3000000000ull; /* seen again later: one row, last_seen moves */
    sink_put(&store_sink_ops, s, OUT_CERT, &c);

    struct finding a = mk_finding(FK_HEALTH_ALERT, t0 + 10000000000ull, "error rate 10 % > 5 %");
    a.flow_id = 0;
    a.has_client = false;
    a.fx.alert.rule = AR_ERROR_RATE;
    a.fx.alert.open = true;
    a.fx.alert.value = 0.1;
    a.fx.alert.threshold = 0.05;
    sink_put(&store_sink_ops, s, OUT_FINDING, &a);
    a.ts_ns = t0 + 30000000000ull;
    snprintf(a.detail, sizeof(a.detail), "error rate back to 1 %%");
    a.fx.alert.open = false;
    sink_put(&store_sink_ops, s, OUT_FINDING, &a);
    /* The close of a rule that is not open is stored, and changes no alert row. */
    struct finding bad = mk_finding(FK_HEALTH_ALERT, t0, "odd");
    bad.fx.alert.rule = AR_CERT_EXPIRING;
    bad.fx.alert.value = NAN;
    sink_put(&store_sink_ops, s, OUT_FINDING, &bad);

    struct run_summary sum;
    memset(&sum, 0, sizeof(sum));
    sum.frames = 1234;
    sum.tcp_packets = 1200;
    sum.flows = 1;
    sum.kernel_drops = 3;
    sum.first_ts_ns = t0;
    sum.last_ts_ns = t0 + 30000000000ull;
    sink_put(&store_sink_ops, s, OUT_SUMMARY, &sum);

    struct store_status st;
    CHECK_EQ_U64(store_flush_now(s), 0);
    store_get_status(s, &st);
    CHECK_EQ_U64(st.written, 9);
    CHECK_EQ_U64(st.dropped, 0);
    CHECK_EQ_U64(st.queued, 0);
    CHECK(!st.failed);
    CHECK_EQ_U64(store_close(s, err, sizeof(err)), 0);

    /* findings */
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM findings"), 4);
    CHECK(strcmp(q_text(path,
                        "SELECT client || ' ' || server || ' ' || kind || ' ' || severity "
                        "|| ' ' || frames FROM findings WHERE kind='reset'",
                        buf, sizeof(buf)),
                 "192.168.1.10:40000 10.0.0.5:443 reset warn 3,9") == 0);
    CHECK_EQ_U64(q_int(path, "SELECT server_port FROM findings WHERE kind='reset'"), 443);
    CHECK_EQ_U64(q_int(path, "SELECT abs(ts - 1714557600.5) < 1e-6 FROM findings "
                             "WHERE kind='reset'"),
                 1);
    CHECK(strcmp(q_text(path,
                        "SELECT json_extract(extra, '$.from') FROM findings "
                        "WHERE kind='reset'",
                        buf, sizeof(buf)),
                 "server") == 0);
    CHECK(strcmp(q_text(path, "SELECT extra FROM findings WHERE kind='health_alert' ORDER BY id",
                        buf, sizeof(buf)),
                 "{\"rule\":\"error_rate\",\"state\":\"open\",\"value\":0.1,"
                 "\"threshold\":0.05}") == 0);
    CHECK_EQ_U64(q_int(path, "SELECT flow_id IS NULL AND client IS NULL FROM findings "
                             "WHERE kind='health_alert' ORDER BY id LIMIT 1"),
                 1);
    /* flows */
    CHECK(strcmp(q_text(path, "SELECT server || ' ' || state || ' ' || close FROM flows", buf,
                        sizeof(buf)),
                 "[2001:db8::1]:443 closed rst_server") == 0);
    CHECK_EQ_U64(q_int(path, "SELECT retrans_total FROM flows"), 5);
    CHECK_EQ_U64(q_int(path, "SELECT retransmission_c2s * 100 + fast_retransmission_s2c * 10 + "
                             "mirror_duplicate_s2c FROM flows"),
                 234);
    CHECK_EQ_U64(q_int(path, "SELECT hs_rtt_client IS NULL AND abs(hs_rtt_server - 0.0015) < 1e-9 "
                             "FROM flows"),
                 1);
    CHECK_EQ_U64(q_int(path, "SELECT abs(last_ts - first_ts - 2.5) < 1e-6 FROM flows"), 1);
    /* health: NAN percentiles are NULL */
    CHECK_EQ_U64(q_int(path, "SELECT resp_p50 IS NULL AND hs_rtt_p99 = 0.005 AND attempts = 20 "
                             "FROM server_health"),
                 1);
    /* tls */
    CHECK(strcmp(q_text(path,
                        "SELECT version || ' ' || client_version || ' ' || outcome || ' ' "
                        "|| alert || ' ' || alert_from || ' ' || sni FROM tls_handshakes",
                        buf, sizeof(buf)),
                 "TLS 1.2 TLS 1.3 failed_alert unknown_ca client invoice.example") == 0);
    CHECK_EQ_U64(q_int(path, "SELECT duration IS NULL FROM tls_handshakes"), 1);
    /* certificates: once, with first and last seen */
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM certificates"), 1);
    CHECK_EQ_U64(q_int(path, "SELECT last_seen - first_seen FROM certificates"), 2);
    /* alerts: opened then closed */
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM alerts"), 1);
    CHECK_EQ_U64(q_int(path, "SELECT closed - opened FROM alerts WHERE rule='error_rate'"), 20);
    CHECK(strcmp(q_text(path, "SELECT close_detail FROM alerts", buf, sizeof(buf)),
                 "error rate back to 1 %") == 0);
    /* the run row */
    CHECK(strcmp(q_text(path, "SELECT status FROM runs", buf, sizeof(buf)), "complete") == 0);
    CHECK_EQ_U64(q_int(path, "SELECT packets FROM runs"), 1234);
    CHECK_EQ_U64(q_int(path, "SELECT dropped_kernel FROM runs"), 3);
    CHECK_EQ_U64(q_int(path, "SELECT last_ts - first_ts FROM runs"), 30);
    CHECK_EQ_U64(q_int(path, "SELECT store_dropped FROM runs"), 0);
    /* views answer */
    CHECK_EQ_U64(q_int(path, "SELECT reset_in_handshake FROM v_failed_connections"), 1);
    CHECK(strcmp(q_text(path, "SELECT phase || '/' || sent_by FROM v_resets_by_phase", buf,
                        sizeof(buf)),
                 "handshake/server") == 0);
    CHECK_EQ_U64(q_int(path, "SELECT retransmitted FROM v_retrans_rate"), 5);
    CHECK_EQ_U64(q_int(path, "SELECT retrans_pct_of_data * 1000 FROM v_retrans_rate"), 5000);
    /* typed finding columns */
    CHECK(strcmp(q_text(path,
                        "SELECT side || ' ' || phase || ' ' || ttl_mismatch FROM findings "
                        "WHERE kind='reset'",
                        buf, sizeof(buf)),
                 "server handshake 0") == 0);
    CHECK_EQ_U64(q_int(path, "SELECT reset_in_handshake FROM v_failed_connections"), 1);
    CHECK(strcmp(q_text(path, "SELECT sent_by || ' ' || phase FROM v_resets_by_phase", buf,
                        sizeof(buf)),
                 "server handshake") == 0);
    CHECK_EQ_U64(q_int(path, "SELECT retrans_total FROM v_worst_flows LIMIT 1"), 5);
    CHECK(strcmp(q_text(path, "SELECT alert FROM v_tls_failures", buf, sizeof(buf)),
                 "unknown_ca") == 0);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM v_certs_expiring"), 1);
    CHECK_EQ_U64(q_int(path, "SELECT days_left_at_last_run FROM v_certs_expiring"), 10);
    CHECK_EQ_U64(q_int(path, "SELECT attempts FROM v_server_health_latest"), 20);
}

/* An incident is one row, inserted on open and updated on update and close (UPSERT). */
static void test_incident_upsert(void)
{
    const char *path = db_path("incidents.db");
    char err[512], buf[1200];
    struct store *s = store_open(path, &run_info, err, sizeof(err));
    CHECK(s != NULL);
    if (!s)
        return;
    uint64_t t0 = 1714557600ull * 1000000000ull;
    static struct incident_record r;
    memset(&r, 0, sizeof(r));
    r.id = 1;
    r.event = IE_OPEN;
    r.ts_ns = t0 + 3000000000ull;
    r.server.ip.family = 4;
    r.server.ip.a[0] = 10;
    r.server.ip.a[3] = 5;
    r.server.port = 443;
    r.cause = IC_HOST_UNREACHABLE;
    r.layer = IL_TRANSPORT;
    r.sev = SEV_ERROR;
    r.since_ns = t0;
    r.conns_affected = 3;
    r.conns_total = 10;
    r.clients_affected = 2;
    r.confidence = 0.9f;
    r.kinds[FK_SYN_UNANSWERED] = 3;
    r.nflows = 2;
    r.flows[0] = 4;
    r.flows[1] = 9;
    snprintf(r.summary, sizeof(r.summary), "3 of 10 attempts got no answer");
    memset(r.advice, 'a', sizeof(r.advice) - 1); /* a full-length advice is kept whole */
    r.advice[sizeof(r.advice) - 1] = '\0';
    sink_put(&store_sink_ops, s, OUT_INCIDENT, &r);
    r.event = IE_UPDATE;
    r.conns_affected = 6;
    sink_put(&store_sink_ops, s, OUT_INCIDENT, &r);
    r.event = IE_CLOSE;
    r.close_reason = ICR_RECOVERED;
    r.until_ns = t0 + 10000000000ull;
    r.ts_ns = t0 + 15000000000ull;
    sink_put(&store_sink_ops, s, OUT_INCIDENT, &r);
    CHECK_EQ_U64(store_close(s, err, sizeof(err)), 0);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM incidents"), 1);
    CHECK_EQ_U64(q_int(path, "SELECT events FROM incidents"), 3);
    CHECK_EQ_U64(q_int(path, "SELECT connections_affected FROM incidents"), 6);
    CHECK_EQ_U64(q_int(path, "SELECT until - since FROM incidents"), 10);
    CHECK_EQ_U64(q_int(path, "SELECT length(advice) FROM incidents"), INC_ADVICE_MAX - 1);
    CHECK(strcmp(q_text(path, "SELECT cause || '/' || state || '/' || close_reason FROM "
                              "v_incidents", buf, sizeof(buf)),
                 "host_unreachable/closed/recovered") == 0);
    CHECK(strcmp(q_text(path, "SELECT evidence FROM incidents", buf, sizeof(buf)),
                 "{\"kinds\":{\"syn_unanswered\":3},\"flows\":[4,9],\"frames\":[]}") == 0);
    CHECK_EQ_U64(q_int(path, "SELECT json_extract(evidence, '$.kinds.syn_unanswered') "
                             "FROM incidents"), 3);
}

static void test_migration_v1(void)
{
    const char *path = db_path("v1.db");
    char err[512], sql[256];
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, store_schema_steps[0], NULL, NULL, NULL) == SQLITE_OK);
    snprintf(sql, sizeof(sql), "PRAGMA user_version=1; PRAGMA application_id=%d",
             STORE_APPLICATION_ID);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       "INSERT INTO runs (started, sources, version, status) "
                       "VALUES (1700000000, 'old.pcap', '0.0.1', 'complete');"
                       "INSERT INTO findings (run_id, ts, kind, severity, server, server_ip, "
                       "server_port, detail) VALUES (1, 1700000001, 'conn_refused', 'error', "
                       "'10.0.0.5:443', '10.0.0.5', 443, 'refused')",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM sqlite_master WHERE name='tls_handshakes'"), 0);

    struct store *s = store_open(path, &run_info, err, sizeof(err));
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    CHECK_EQ_U64(store_close(s, err, sizeof(err)), 0);
    CHECK_EQ_U64(q_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    /* version 5: conn_state/history on flows, inputs/evidence_dir on runs */
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM pragma_table_info('flows') WHERE name IN "
                             "('conn_state','history')"),
                 2);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM pragma_table_info('runs') WHERE name IN "
                             "('inputs','evidence_dir')"),
                 2);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN "
                             "('tls_handshakes','certificates','server_health','alerts',"
                             "'incidents')"),
                 5);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM sqlite_master WHERE type='view'"), 8);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM findings WHERE kind='conn_refused'"), 1);
    CHECK_EQ_U64(q_int(path, "SELECT refused FROM v_failed_connections"), 1);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM runs"), 2);
    CHECK_EQ_U64(q_int(path, "PRAGMA integrity_check = 1") == -1, 0);
}

/* A version 2 database: old rows get the typed columns from their JSON, views use them. */
static void test_migration_v2(void)
{
    const char *path = db_path("v2.db");
    char err[512], sql[256], buf[256];
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, store_schema_steps[0], NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(db, store_schema_steps[1], NULL, NULL, NULL) == SQLITE_OK);
    snprintf(sql, sizeof(sql), "PRAGMA user_version=2; PRAGMA application_id=%d",
             STORE_APPLICATION_ID);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(
              db,
              "INSERT INTO runs (started, sources, version, status) "
              "VALUES (1700000000, 'old.pcap', '0.0.2', 'complete');"
              "INSERT INTO findings (run_id, ts, kind, severity, server, server_ip, server_port, "
              "detail, extra) VALUES (1, 1700000001, 'reset', 'warn', '10.0.0.5:443', "
              "'10.0.0.5', 443, 'RST', '{\"from\":\"client\",\"phase\":\"handshake\",\"ttl\":60,"
              "\"ttl_expected\":64,\"ttl_mismatch\":true}');"
              "INSERT INTO findings (run_id, ts, kind, severity, server, server_ip, server_port, "
              "detail, extra) VALUES (1, 1700000002, 'tls_handshake_failed', 'error', "
              "'10.0.0.5:443', '10.0.0.5', 443, 'failed', '{\"outcome\":\"failed_alert\","
              "\"alert_from\":\"server\"}');"
              "INSERT INTO findings (run_id, ts, kind, severity, server, server_ip, server_port, "
              "detail, extra) VALUES (1, 1700000003, 'reset', 'warn', '10.0.0.5:443', "
              "'10.0.0.5', 443, 'odd', 'not json')",
              NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    struct store *s = store_open(path, &run_info, err, sizeof(err));
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    CHECK_EQ_U64(store_close(s, err, sizeof(err)), 0);
    CHECK_EQ_U64(q_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    CHECK(strcmp(q_text(path,
                        "SELECT side || ' ' || phase || ' ' || ttl_mismatch FROM findings "
                        "WHERE id = 1",
                        buf, sizeof(buf)),
                 "client handshake 1") == 0);
    CHECK(strcmp(q_text(path, "SELECT side FROM findings WHERE id = 2", buf, sizeof(buf)),
                 "server") == 0);
    CHECK_EQ_U64(q_int(path, "SELECT side IS NULL AND phase IS NULL FROM findings WHERE id = 3"),
                 1);
    CHECK_EQ_U64(q_int(path, "SELECT reset_in_handshake FROM v_failed_connections"), 1);
    CHECK_EQ_U64(q_int(path, "SELECT ttl_mismatch FROM v_resets_by_phase WHERE phase = "
                             "'handshake'"),
                 1);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM v_resets_by_phase WHERE phase = 'unknown'"), 1);
    CHECK_EQ_U64(q_int(path, "PRAGMA integrity_check = 1") == -1, 0);
}

/* A version 4 database (incidents, no evidence columns): version 5 adds the evidence columns,
 * its incidents and flows stay, old flows have NULL conn_state and history. */
static void test_migration_v4(void)
{
    const char *path = db_path("v4.db");
    char err[512], sql[256];
    sqlite3 *db = NULL;
    CHECK(STORE_SCHEMA_VERSION >= 5);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    for (int i = 0; i < 4; i++)
        CHECK(sqlite3_exec(db, store_schema_steps[i], NULL, NULL, NULL) == SQLITE_OK);
    snprintf(sql, sizeof(sql), "PRAGMA user_version=4; PRAGMA application_id=%d",
             STORE_APPLICATION_ID);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       "INSERT INTO runs (started, sources, version, status) "
                       "VALUES (1700000000, 'old.pcap', '0.0.4', 'complete');"
                       "INSERT INTO incidents (run_id, id, server, server_ip, server_port, cause, "
                       "layer, severity, since, state, updated, events, summary, advice, "
                       "evidence) VALUES (1, 1, '10.0.0.5:443', '10.0.0.5', 443, "
                       "'service_down', 'transport', 'error', 1700000001, 'closed', "
                       "1700000002, 2, 's', 'a', '{\"flows\":[3]}')",
                       NULL, NULL, NULL) == SQLITE_OK);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM pragma_table_info('flows') WHERE name IN "
                             "('conn_state','history')"),
                 0);
    sqlite3_close(db);
    struct store *s = store_open(path, &run_info, err, sizeof(err));
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    CHECK_EQ_U64(store_close(s, err, sizeof(err)), 0);
    CHECK_EQ_U64(q_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM pragma_table_info('flows') WHERE name IN "
                             "('conn_state','history')"),
                 2);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM pragma_table_info('runs') WHERE name IN "
                             "('inputs','evidence_dir')"),
                 2);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM v_incidents WHERE cause = 'service_down'"), 1);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM runs WHERE id = 1 AND inputs IS NULL"), 1);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM runs"), 2);
    CHECK_EQ_U64(q_int(path, "PRAGMA integrity_check = 1") == -1, 0);
}

static void test_refuse_newer(void)
{
    const char *path = db_path("newer.db");
    char err[512], sql[128];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE runs (id INTEGER PRIMARY KEY); PRAGMA user_version=%d; "
             "PRAGMA application_id=%d",
             STORE_SCHEMA_VERSION + 1, STORE_APPLICATION_ID);
    CHECK(exec_sql(path, sql) == SQLITE_OK);
    struct store *s = store_open(path, &run_info, err, sizeof(err));
    CHECK(s == NULL);
    CHECK(strstr(err, "newer flowmedic") != NULL);
    CHECK(strstr(err, "newer.db") != NULL);
    if (s)
        CHECK(store_close(s, err, sizeof(err)) >= ERR_DB);
    /* Untouched. */
    CHECK_EQ_U64(q_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION + 1);
}

static void test_not_a_database(void)
{
    const char *path = db_path("text.db");
    char err[512];
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (!fp)
        return;
    for (int i = 0; i < 100; i++)
        fputs("this is a text file, not a database\n", fp);
    fclose(fp);
    struct store *s = store_open(path, &run_info, err, sizeof(err));
    CHECK(s == NULL);
    CHECK(strstr(err, "not a flowmedic database") != NULL);
    CHECK(strstr(err, "not a SQLite database") != NULL);

    /* A SQLite database of some other program. */
    path = db_path("other.db");
    CHECK(exec_sql(path, "CREATE TABLE t (x); INSERT INTO t VALUES (1)") == SQLITE_OK);
    s = store_open(path, &run_info, err, sizeof(err));
    CHECK(s == NULL);
    CHECK(strstr(err, "not a flowmedic database") != NULL);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM sqlite_master"), 1);
}

static void test_bad_paths(void)
{
    char err[512], path[512];
    snprintf(path, sizeof(path), "%s/no/such/dir/x.db", tmpdir);
    struct store *s = store_open(path, &run_info, err, sizeof(err));
    CHECK(s == NULL);
    CHECK(strstr(err, "does not exist") != NULL);
    CHECK(strstr(err, "/no/such/dir") != NULL);

    /* Read-only file: root ignores modes, so use the immutable attribute where possible. */
    const char *ro = db_path("ro.db");
    s = store_open(ro, &run_info, err, sizeof(err));
    CHECK(s != NULL);
    if (s)
        CHECK_EQ_U64(store_close(s, err, sizeof(err)), 0);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "chattr +i '%s' 2>/dev/null", ro);
    int immutable = system(cmd) == 0;
    if (!immutable) {
        if (getuid() == 0) {
            fprintf(stderr, "  (chattr +i not available: read-only check skipped)\n");
            return;
        }
        chmod(ro, 0444);
    }
    s = store_open(ro, &run_info, err, sizeof(err));
    CHECK(s == NULL);
    CHECK(strstr(err, "read-only") != NULL);
    if (s)
        CHECK(store_close(s, err, sizeof(err)) >= ERR_DB);
    if (immutable) {
        snprintf(cmd, sizeof(cmd), "chattr -i '%s'", ro);
        CHECK(system(cmd) == 0);
    }
}

/* Wait until written reaches want (or 3 s pass); returns written. */
static uint64_t wait_written(struct store *s, uint64_t want)
{
    struct store_status st;
    for (int i = 0; i < 300; i++) {
        store_get_status(s, &st);
        if (st.written >= want)
            return st.written;
        sleep_ms(10);
    }
    return st.written;
}

static void test_batching(void)
{
    const char *path = db_path("batch.db");
    char err[512];
    struct store_tuning tune = {.batch_records = 10, .batch_ms = 60000};
    struct store *s = store_open_tuned(path, &run_info, &tune, err, sizeof(err));
    CHECK(s != NULL);
    if (!s)
        return;
    for (int i = 0; i < 25; i++) {
        struct finding f = mk_finding(FK_RETRANSMISSION, 1000000000ull * (uint64_t)(i + 1), "r");
        sink_put(&store_sink_ops, s, OUT_FINDING, &f);
    }
    /* Two full batches are committed by count; the open batch of 5 waits for its time. */
    CHECK_EQ_U64(wait_written(s, 20), 20);
    sleep_ms(200);
    struct store_status st;
    store_get_status(s, &st);
    CHECK_EQ_U64(st.written, 20);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM findings"), 20);
    /* store_flush_now commits the open batch. */
    CHECK_EQ_U64(store_flush_now(s), 0);
    store_get_status(s, &st);
    CHECK_EQ_U64(st.written, 25);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM findings"), 25);
    CHECK_EQ_U64(store_close(s, err, sizeof(err)), 0);

    /* By time: 3 records, batch of 1000, committed once the 100 ms batch age passes. */
    path = db_path("batch_time.db");
    tune.batch_records = 1000;
    tune.batch_ms = 100;
    s = store_open_tuned(path, &run_info, &tune, err, sizeof(err));
    CHECK(s != NULL);
    if (!s)
        return;
    for (int i = 0; i < 3; i++) {
        struct finding f = mk_finding(FK_DUP_ACK, 1000000000ull, "d");
        sink_put(&store_sink_ops, s, OUT_FINDING, &f);
    }
    CHECK_EQ_U64(wait_written(s, 3), 3);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM findings"), 3);
    CHECK_EQ_U64(store_close(s, err, sizeof(err)), 0);
}

static void test_queue_overflow(void)
{
    const char *path = db_path("overflow.db");
    char err[512], buf[64];
    struct store_tuning tune = {.queue_slots = 4, .writer_delay_us = 20000};
    struct store_run_info live = run_info;
    live.sources = "iface:eth1"; /* auto policy: a live capture drops instead of waiting */
    struct store *s = store_open_tuned(path, &live, &tune, err, sizeof(err));
    CHECK(s != NULL);
    if (!s)
        return;
    for (int i = 0; i < 50; i++) {
        struct finding f = mk_finding(FK_RETRANSMISSION, 1000000000ull, "r");
        sink_put(&store_sink_ops, s, OUT_FINDING, &f);
    }
    struct store_status st;
    store_get_status(s, &st);
    uint64_t dropped = st.dropped;
    CHECK(dropped >= 40);
    CHECK(st.queued <= 4);
    int rc = store_close(s, err, sizeof(err));
    CHECK(rc == ERR_FULL);
    CHECK(strstr(err, "records were not written") != NULL);
    CHECK(strstr(err, "queue full") != NULL);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM findings") + dropped, 50);
    CHECK_EQ_U64(q_int(path, "SELECT store_dropped FROM runs"), dropped);
    CHECK(strcmp(q_text(path, "SELECT status FROM runs", buf, sizeof(buf)), "incomplete") == 0);

    /* The same from files (auto policy: wait for the writer): nothing is lost. */
    path = db_path("block.db");
    struct store_run_info ri = run_info;
    tune.writer_delay_us = 1000;
    s = store_open_tuned(path, &ri, &tune, err, sizeof(err));
    CHECK(s != NULL);
    if (!s)
        return;
    for (int i = 0; i < 50; i++) {
        struct finding f = mk_finding(FK_RETRANSMISSION, 1000000000ull, "r");
        sink_put(&store_sink_ops, s, OUT_FINDING, &f);
    }
    CHECK_EQ_U64(store_close(s, err, sizeof(err)), 0);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM findings"), 50);

    /* STORE_FULL_DROP forces dropping for any source. */
    path = db_path("drop.db");
    ri.when_full = STORE_FULL_DROP;
    tune.writer_delay_us = 20000;
    s = store_open_tuned(path, &ri, &tune, err, sizeof(err));
    CHECK(s != NULL);
    if (!s)
        return;
    for (int i = 0; i < 50; i++) {
        struct finding f = mk_finding(FK_RETRANSMISSION, 1000000000ull, "r");
        sink_put(&store_sink_ops, s, OUT_FINDING, &f);
    }
    CHECK(store_close(s, err, sizeof(err)) == ERR_FULL);
    CHECK(q_int(path, "SELECT count(*) FROM findings") < 50);
}

static void test_disk_full(void)
{
    const char *path = db_path("full.db");
    char err[512], buf[512];
    /* max_page_count below the current size clamps it there: any growth is SQLITE_FULL. */
    struct store_tuning tune = {.max_pages = 1, .batch_records = 50};
    struct store *s = store_open_tuned(path, &run_info, &tune, err, sizeof(err));
    CHECK(s != NULL);
    if (!s)
        return;
    for (int i = 0; i < 400; i++) {
        struct finding f = mk_finding(FK_RETRANSMISSION, 1000000000ull, "");
        memset(f.detail, 'x', sizeof(f.detail) - 1);
        sink_put(&store_sink_ops, s, OUT_FINDING, &f);
    }
    CHECK(store_flush_now(s) == ERR_DB);
    struct store_status st;
    store_get_status(s, &st);
    CHECK(st.failed);
    CHECK(strstr(st.error, "full") != NULL);
    int rc = store_close(s, err, sizeof(err));
    CHECK(rc != 0);
    CHECK(strstr(err, "disk is full") != NULL);
    CHECK(strstr(err, "records were not written") != NULL);
    long long n = q_int(path, "SELECT count(*) FROM findings");
    CHECK(n >= 0 && n < 400);
    CHECK(strcmp(q_text(path, "PRAGMA integrity_check", buf, sizeof(buf)), "ok") == 0);
    CHECK(strcmp(q_text(path, "SELECT status FROM runs", buf, sizeof(buf)), "failed") == 0);
}

/*
 * A child writes findings in small batches and reports each commit on a pipe; the parent
 * kills it with SIGKILL mid-stream. The database must pass integrity_check and hold at
 * least every record whose commit was reported.
 */
static void test_sigkill(void)
{
    const char *path = db_path("killed.db");
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char err[512];
        close(fds[0]);
        struct store_tuning tune = {.batch_records = 100};
        struct store *s = store_open_tuned(path, &run_info, &tune, err, sizeof(err));
        if (!s)
            _exit(2);
        uint64_t last = 0;
        for (uint64_t i = 0;; i++) {
            struct finding f = mk_finding(FK_RETRANSMISSION, 1000000000ull + i, "r");
            sink_put(&store_sink_ops, s, OUT_FINDING, &f);
            struct store_status st;
            store_get_status(s, &st);
            if (st.written != last) {
                last = st.written;
                if (write(fds[1], &last, sizeof(last)) != sizeof(last))
                    _exit(3);
            }
            if (i % 50 == 0)
                sleep_ms(1);
        }
    }
    close(fds[1]);
    uint64_t committed = 0, v;
    while (committed < 3000 && read(fds[0], &v, sizeof(v)) == sizeof(v))
        committed = v;
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    while (read(fds[0], &v, sizeof(v)) == sizeof(v))
        committed = v;
    close(fds[0]);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    char buf[64];
    CHECK(strcmp(q_text(path, "PRAGMA integrity_check", buf, sizeof(buf)), "ok") == 0);
    long long n = q_int(path, "SELECT count(*) FROM findings");
    CHECK(committed >= 3000);
    CHECK(n >= (long long)committed);
    CHECK(strcmp(q_text(path, "SELECT status FROM runs", buf, sizeof(buf)), "running") == 0);
    /* And the killed database takes a new run. */
    char err[512];
    struct store *s = store_open(path, &run_info, err, sizeof(err));
    CHECK(s != NULL);
    if (s)
        CHECK_EQ_U64(store_close(s, err, sizeof(err)), 0);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM runs"), 2);
}

/* Two runs writing one database at the same time (two sensors, one file): both land. */
static void test_two_writers(void)
{
    const char *path = db_path("two.db");
    char err[512];
    struct store_tuning tune = {.batch_records = 7, .batch_ms = 20};
    struct store *a = store_open_tuned(path, &run_info, &tune, err, sizeof(err));
    struct store *b = store_open_tuned(path, &run_info, &tune, err, sizeof(err));
    CHECK(a != NULL && b != NULL);
    if (!a || !b)
        return;
    for (int i = 0; i < 500; i++) {
        struct finding f = mk_finding(FK_DUP_ACK, 1000000000ull + (uint64_t)i, "a");
        sink_put(&store_sink_ops, a, OUT_FINDING, &f);
        snprintf(f.detail, sizeof(f.detail), "b");
        sink_put(&store_sink_ops, b, OUT_FINDING, &f);
    }
    CHECK_EQ_U64(store_close(a, err, sizeof(err)), 0);
    CHECK_EQ_U64(store_close(b, err, sizeof(err)), 0);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM runs"), 2);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM findings WHERE run_id = 1"), 500);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM findings WHERE run_id = 2"), 500);
    CHECK_EQ_U64(q_int(path, "SELECT count(DISTINCT detail) FROM findings GROUP BY run_id "
                             "ORDER BY 1 DESC LIMIT 1"),
                 1);
}

/* Poll until the store says it waits for a lock (or 5 s pass). */
static bool wait_locked(struct store *s)
{
    struct store_status st;
    for (int i = 0; i < 500; i++) {
        store_get_status(s, &st);
        if (st.locked)
            return true;
        sleep_ms(10);
    }
    return false;
}

/*
 * Another program holds the write lock (issue 14, item 4): the writer waits and keeps the
 * records queued instead of failing; live, what does not fit in the queue is counted as not
 * written and the exit message says why; after the lock is released the rest is written.
 * At close it waits only so long, then says the database stayed locked.
 */
static void test_locked_by_another_program(void)
{
    const char *path = db_path("locked.db");
    char err[512], buf[64];
    sqlite3 *other = NULL;
    struct store_tuning tune = {.queue_slots = 16, .batch_records = 4, .batch_ms = 20};
    struct store_run_info live = run_info;
    live.sources = "iface:eth1"; /* drop when full: never stall a live capture */
    struct store *s = store_open_tuned(path, &live, &tune, err, sizeof(err));
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(sqlite3_open(path, &other) == SQLITE_OK);
    CHECK(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
    for (int i = 0; i < 10; i++) {
        struct finding f = mk_finding(FK_RETRANSMISSION, 1000000000ull, "before");
        sink_put(&store_sink_ops, s, OUT_FINDING, &f);
    }
    CHECK(wait_locked(s));
    for (int i = 0; i < 100; i++) {
        struct finding f = mk_finding(FK_RETRANSMISSION, 2000000000ull, "during");
        sink_put(&store_sink_ops, s, OUT_FINDING, &f);
    }
    struct store_status st;
    store_get_status(s, &st);
    CHECK(!st.failed);
    CHECK(st.dropped >= 100 - 16);
    CHECK(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    CHECK_EQ_U64(store_flush_now(s), 0); /* the queued records go in once the lock is free */
    store_get_status(s, &st);
    uint64_t dropped = st.dropped;
    CHECK(dropped >= 100 - 16);
    CHECK_EQ_U64(st.written + dropped, 110);
    for (int i = 0; i < 5; i++) {
        struct finding f = mk_finding(FK_RETRANSMISSION, 3000000000ull, "after");
        sink_put(&store_sink_ops, s, OUT_FINDING, &f);
    }
    CHECK_EQ_U64(store_flush_now(s), 0);
    store_get_status(s, &st);
    CHECK(!st.locked);
    CHECK_EQ_U64(st.dropped, dropped);
    CHECK_EQ_U64(st.written + dropped, 115);
    CHECK(store_close(s, err, sizeof(err)) == ERR_FULL);
    CHECK(strstr(err, "another program held the database's lock") != NULL);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM findings") + dropped, 115);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM findings WHERE detail = 'after'"), 5);
    CHECK_EQ_U64(q_int(path, "SELECT store_dropped FROM runs"), dropped);
    CHECK(strcmp(q_text(path, "SELECT status FROM runs", buf, sizeof(buf)), "incomplete") == 0);

    /* Still locked when the run ends: give up after close_busy_ms, and say so. */
    path = db_path("locked_close.db");
    tune.close_busy_ms = 300;
    s = store_open_tuned(path, &run_info, &tune, err, sizeof(err));
    CHECK(s != NULL);
    sqlite3_close(other);
    other = NULL;
    if (!s)
        return;
    CHECK(sqlite3_open(path, &other) == SQLITE_OK);
    CHECK(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
    for (int i = 0; i < 3; i++) {
        struct finding f = mk_finding(FK_DUP_ACK, 1000000000ull, "d");
        sink_put(&store_sink_ops, s, OUT_FINDING, &f);
    }
    CHECK(store_close(s, err, sizeof(err)) == ERR_IO);
    CHECK(strstr(err, "stayed locked by another program") != NULL);
    CHECK(strstr(err, "3 records were not written") != NULL);
    CHECK(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(other);
    CHECK_EQ_U64(q_int(path, "SELECT count(*) FROM findings"), 0);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/fm_test_store_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    TEST_RUN(test_schema_new);
    TEST_RUN(test_all_records);
    TEST_RUN(test_incident_upsert);
    TEST_RUN(test_migration_v1);
    TEST_RUN(test_migration_v2);
    TEST_RUN(test_migration_v4);
    TEST_RUN(test_refuse_newer);
    TEST_RUN(test_not_a_database);
    TEST_RUN(test_bad_paths);
    TEST_RUN(test_batching);
    TEST_RUN(test_queue_overflow);
    TEST_RUN(test_disk_full);
    TEST_RUN(test_two_writers);
    TEST_RUN(test_locked_by_another_program);
    TEST_RUN(test_sigkill);
    if (th_failed == 0) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    } else {
        fprintf(stderr, "files kept in %s\n", tmpdir);
    }
    return TEST_REPORT();
}
