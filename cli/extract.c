/*
 * extract.c - `flowmedic extract`: finds the flows of a flow id, a finding or an incident in
 * a flowmedic database and writes their packets to a pcap, read again from the run's capture
 * files (matched by 5-tuple within the flow's first/last time, through the run's BPF filter)
 * or, for live runs, from the flow's evidence file in the run's --evidence-dir. Also the
 * sink that tells the evidence ring which flows to write.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1 /* realpath */
#endif
#include "cli/extract.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/decode.h"
#include "capture/log.h"
#include "store/schema.h"

enum { EXTRACT_OK = 0, EXTRACT_RUNTIME = 1, EXTRACT_USAGE = 2 };

#define EXTRACT_MAX_FLOWS 4096 /* flows one extract writes */
#define EXTRACT_SLACK_NS 2000u /* times are stored as REAL seconds: allow 2 us either side */
#define EXTRACT_SNAPLEN 262144 /* snaplen of the output file */

/* What the command line asked for. */
struct xopts {
    const char *db;  /* the database */
    const char *out; /* -o file */
    int what;        /* 'f' --flow, 'F' --finding, 'i' --incident */
    int64_t run;     /* --flow RUN, --incident RUN (-1: not given) */
    int64_t id;      /* --flow ID, --finding ID or --incident N */
};

/* One flow to extract, as the flows table has it. */
struct xflow {
    int64_t run;            /* runs.id */
    int64_t flow;           /* flow_id */
    struct endpoint client; /* client end */
    struct endpoint server; /* server end */
    uint64_t first_ns;      /* first packet, minus the slack */
    uint64_t last_ns;       /* last packet, plus the slack */
    uint64_t packets;       /* packets written */
};

/* An extraction in progress. */
struct xrun {
    sqlite3 *db;           /* read-only connection */
    int64_t ver;           /* its schema version */
    const struct xopts *o; /* options */
    struct xflow *flows;   /* flows to extract */
    size_t nflows;         /* entries used */
    pcap_t *dead;          /* the output's link type and precision */
    pcap_dumper_t *dump;   /* the output */
    int linktype;          /* of the output, -1 before the first input */
    uint64_t written;      /* packets written */
};

/* ---- the evidence sink ---- */

/* An open evidence sink. */
struct ev_sink {
    struct evidence *ev; /* the ring */
    const char *dir;     /* --evidence-dir, for the closing line */
};

static void *ev_open(const void *cfg, char *err, size_t errlen)
{
    const struct evidence_config *c = cfg;
    struct ev_sink *k = calloc(1, sizeof(*k));
    if (!k) {
        snprintf(err, errlen, "evidence: out of memory");
        return NULL;
    }
    k->ev = evidence_new(c, err, errlen);
    if (!k->ev) {
        free(k);
        return NULL;
    }
    k->dir = c->dir;
    return k;
}

/*
 * An incident's evidence flows are kept too (warnings such as retransmissions mark no flow by
 * themselves). Only a flow still followed is marked: one that already ended (or was evicted)
 * has no packets left to keep, and a slot taken for it now would never be released.
 */
static void ev_put(void *ctx, const struct out_rec *r)
{
    struct ev_sink *k = ctx;
    char path[64];
    switch (r->type) {
    case OUT_FINDING:
        if (r->u.finding.sev == SEV_ERROR && r->u.finding.flow_id)
            evidence_mark(k->ev, r->u.finding.flow_id);
        break;
    case OUT_FLOW:
        if (evidence_flow_end(k->ev, r->u.flow.flow_id) != 0)
            log_warn("evidence of flow %" PRIu64 " could not be written (%s)", r->u.flow.flow_id,
                     evidence_path(".", 0, r->u.flow.flow_id, path, sizeof(path)));
        break;
    case OUT_INCIDENT:
        for (unsigned i = 0; i < r->u.incident.nflows && i < INC_FLOWS_MAX; i++)
            if (evidence_holds(k->ev, r->u.incident.flows[i]))
                evidence_mark(k->ev, r->u.incident.flows[i]);
        break;
    default:
        break;
    }
}

static int ev_close(void *ctx, char *err, size_t errlen)
{
    struct ev_sink *k = ctx;
    struct evidence_stats es;
    (void)err;
    (void)errlen;
    evidence_get_stats(k->ev, &es);
    if (!log_quiet || es.write_errors || es.over_limit)
        fprintf(stderr,
                "flowmedic: evidence of %" PRIu64 " flows written to %s (%" PRIu64
                " packets); %" PRIu64 " failed, %" PRIu64 " over the file limit, %" PRIu64
                " packets of flows not followed (pool full)\n",
                es.written, k->dir, es.packets, es.write_errors, es.over_limit, es.not_followed);
    evidence_free(k->ev);
    free(k);
    return 0;
}

const struct sink_ops evidence_sink_ops = {
    .name = "evidence",
    .open = ev_open,
    .put = ev_put,
    .close = ev_close,
    .on_analysis_thread = true,
};

struct evidence *cli_evidence_ring(void *ctx)
{
    return ctx ? ((struct ev_sink *)ctx)->ev : NULL;
}

int cli_inputs_text(const char *const *paths, size_t n, char *buf, size_t len)
{
    size_t used = 0;
    if (!len)
        return ERR_FULL;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char abs[PATH_MAX];
        const char *p = paths[i];
        if (strcmp(p, "-") != 0 && realpath(p, abs))
            p = abs;
        int k = snprintf(buf + used, len - used, "%s%s", i ? "\n" : "", p);
        if (k < 0 || (size_t)k >= len - used)
            return ERR_FULL;
        used += (size_t)k;
    }
    return 0;
}

/* ---- command line ---- */

static void usage(FILE *o)
{
    fputs("usage: flowmedic extract DB (--flow RUN:ID | --finding ID | --incident [RUN:]N)\n"
          "                         -o OUT.pcap\n"
          "  --flow RUN:ID   the flow ID of run RUN (flows.flow_id, the JSON flow_id)\n"
          "  --finding ID    the flow of finding ID (findings.id)\n"
          "  --incident [RUN:]N  every evidence flow of incident N (of run RUN when several\n"
          "                  runs have an incident N)\n"
          "  -o OUT.pcap     where to write the packets (pcap, nanosecond timestamps)\n"
          "Packets come from the run's capture files (runs.inputs), or for live runs from\n"
          "its --evidence-dir (DIR/RUN-FLOW.pcap: the first and last packets of the flow).\n",
          o);
}

static bool parse_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return false;
    *out = v;
    return true;
}

static int parse_opts(int argc, char **argv, struct xopts *o)
{
    memset(o, 0, sizeof(*o));
    o->run = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(a, "-o") == 0 || strcmp(a, "--flow") == 0 || strcmp(a, "--finding") == 0 ||
            strcmp(a, "--incident") == 0) {
            if (!v) {
                log_error("extract: %s needs a value", a);
                return ERR_ARG;
            }
            i++;
            if (strcmp(a, "-o") == 0) {
                o->out = v;
                continue;
            }
            if (o->what) {
                log_error("extract: give one of --flow, --finding, --incident");
                return ERR_ARG;
            }
            o->what = a[2] == 'f' && a[3] == 'l' ? 'f' : a[2] == 'f' ? 'F' : 'i';
            const char *colon = strchr(v, ':');
            if (o->what == 'f' || (o->what == 'i' && colon)) {
                char run[32];
                size_t n = colon ? (size_t)(colon - v) : 0;
                if (!colon || n == 0 || n >= sizeof(run)) {
                    log_error("extract: %s wants RUN:ID (e.g. 1:42), not '%s'", a, v);
                    return ERR_ARG;
                }
                memcpy(run, v, n);
                run[n] = '\0';
                if (!parse_i64(run, &o->run) || !parse_i64(colon + 1, &o->id)) {
                    log_error("extract: %s wants RUN:ID (e.g. 1:42), not '%s'", a, v);
                    return ERR_ARG;
                }
            } else if (!parse_i64(v, &o->id)) {
                log_error("extract: %s wants a number, not '%s'", a, v);
                return ERR_ARG;
            }
        } else if (a[0] == '-' && a[1]) {
            log_error("extract: unknown option %s (see flowmedic extract --help)", a);
            return ERR_ARG;
        } else if (!o->db) {
            o->db = a;
        } else {
            log_error("extract: one database at a time (got %s and %s)", o->db, a);
            return ERR_ARG;
        }
    }
    if (!o->db || !o->what || !o->out) {
        log_error("extract: give DB, one of --flow/--finding/--incident, and -o OUT.pcap "
                  "(see flowmedic extract --help)");
        return ERR_ARG;
    }
    return 0;
}

/* ---- database ---- */

static int open_db(struct xrun *x)
{
    struct stat sb;
    const char *path = x->o->db;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        log_error("cannot open database %s: %s", path,
                  errno ? strerror(errno) : "not a regular file");
        return ERR_IO;
    }
    int rc = sqlite3_open_v2(path, &x->db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_stmt *st = NULL;
    int64_t app = 0;
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(x->db, 5000);
        rc = sqlite3_prepare_v2(x->db,
                                "SELECT (SELECT application_id FROM pragma_application_id), "
                                "(SELECT user_version FROM pragma_user_version)",
                                -1, &st, NULL);
    }
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        app = sqlite3_column_int64(st, 0);
        x->ver = sqlite3_column_int64(st, 1);
    } else if (rc == SQLITE_OK) {
        rc = sqlite3_errcode(x->db);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK || app != STORE_APPLICATION_ID || x->ver < 1) {
        log_error("%s is not a flowmedic database%s%s", path, rc != SQLITE_OK ? ": " : "",
                  rc != SQLITE_OK ? sqlite3_errstr(rc) : "");
        return ERR_FORMAT;
    }
    return 0;
}

static bool table_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    bool yes = false;
    if (sqlite3_prepare_v2(db,
                           "SELECT 1 FROM sqlite_master WHERE type IN ('table','view') "
                           "AND name = ?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        yes = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return yes;
}

static bool column_exists(sqlite3 *db, const char *table, const char *col)
{
    sqlite3_stmt *st = NULL;
    bool yes = false;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, col, -1, SQLITE_STATIC);
        yes = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return yes;
}

/* Add run:flow to the list, with its endpoints and times from the flows table. */
static int add_flow(struct xrun *x, int64_t run, int64_t flow)
{
    for (size_t i = 0; i < x->nflows; i++)
        if (x->flows[i].run == run && x->flows[i].flow == flow)
            return 0;
    if (x->nflows == EXTRACT_MAX_FLOWS) {
        log_error("extract: more than %d flows; extract fewer at a time", EXTRACT_MAX_FLOWS);
        return ERR_FULL;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(x->db,
                                "SELECT client, server, first_ts, last_ts FROM flows "
                                "WHERE run_id = ? AND flow_id = ?",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        log_error("reading %s failed: %s", x->o->db, sqlite3_errmsg(x->db));
        return ERR_DB;
    }
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_int64(st, 2, flow);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        log_error("%s has no flow %" PRId64 ":%" PRId64 " (run:flow_id; flows are written when "
                  "they end, so a run killed before that has none)",
                  x->o->db, run, flow);
        return ERR_ARG;
    }
    struct xflow *f = &x->flows[x->nflows];
    memset(f, 0, sizeof(*f));
    f->run = run;
    f->flow = flow;
    const char *c = (const char *)sqlite3_column_text(st, 0);
    const char *s = (const char *)sqlite3_column_text(st, 1);
    double t0 = sqlite3_column_double(st, 2), t1 = sqlite3_column_double(st, 3);
    rc = c && s && pkt_endpoint_parse(c, &f->client) == 0 &&
                 pkt_endpoint_parse(s, &f->server) == 0 && t0 > 0 && t1 >= t0
             ? 0
             : ERR_FORMAT;
    sqlite3_finalize(st);
    if (rc != 0) {
        log_error("%s: flow %" PRId64 ":%" PRId64 " has unreadable endpoints or times", x->o->db,
                  run, flow);
        return rc;
    }
    uint64_t a = (uint64_t)(t0 * 1e9 + 0.5), b = (uint64_t)(t1 * 1e9 + 0.5);
    f->first_ns = a > EXTRACT_SLACK_NS ? a - EXTRACT_SLACK_NS : 0;
    f->last_ns = b + EXTRACT_SLACK_NS;
    x->nflows++;
    return 0;
}

/* The flow of finding id. */
static int select_finding(struct xrun *x, int64_t id)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->db, "SELECT run_id, flow_id, kind, server FROM findings WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK) {
        log_error("reading %s failed: %s", x->o->db, sqlite3_errmsg(x->db));
        return ERR_DB;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        log_error("%s has no finding %" PRId64, x->o->db, id);
        return ERR_ARG;
    }
    int64_t run = sqlite3_column_int64(st, 0);
    bool has_flow = sqlite3_column_type(st, 1) != SQLITE_NULL && sqlite3_column_int64(st, 1) > 0;
    int64_t flow = sqlite3_column_int64(st, 1);
    if (!has_flow) {
        log_error("finding %" PRId64 " (%s) is about server %s, not one flow: nothing to extract",
                  id, (const char *)sqlite3_column_text(st, 2),
                  (const char *)sqlite3_column_text(st, 3));
        sqlite3_finalize(st);
        return ERR_ARG;
    }
    sqlite3_finalize(st);
    return add_flow(x, run, flow);
}

/* Add every "RUN:ID" or plain ID (of run) found in text (JSON array, comma list, ...). */
static int add_flow_list(struct xrun *x, int64_t run, const char *text, size_t *added)
{
    const char *p = text;
    while (p && *p) {
        if (*p < '0' || *p > '9') {
            p++;
            continue;
        }
        char *end;
        long long a = strtoll(p, &end, 10);
        int64_t r = run, fl = a;
        if (*end == ':' && end[1] >= '0' && end[1] <= '9') {
            r = a;
            fl = strtoll(end + 1, &end, 10);
        }
        int rc = add_flow(x, r, fl);
        if (rc != 0)
            return rc;
        (*added)++;
        p = end;
    }
    return 0;
}

/*
 * The evidence flows of incident n. The database lists them per incident: in the table
 * incident_flows (run_id, incident_id, flow_id; schema version 8 on), or before that in an
 * incidents column evidence_flows, flows or evidence (a JSON object whose "flows" member lists
 * them: the only form older databases have).
 */
static int select_incident(struct xrun *x, int64_t n)
{
    if (!table_exists(x->db, "incidents")) {
        log_error("%s has no incidents table (schema version %" PRId64 "; it was written by a "
                  "flowmedic without incidents): use --flow RUN:ID or --finding ID",
                  x->o->db, x->ver);
        return ERR_ARG;
    }
    const char *sql = NULL;
    bool has_run = column_exists(x->db, "incidents", "run_id");
    if (has_run && table_exists(x->db, "incident_flows")) /* version 8 on */
        sql = "SELECT i.run_id, f.flow_id FROM incidents i LEFT JOIN incident_flows f"
              " ON f.run_id = i.run_id AND f.incident_id = i.id WHERE i.id = ?1"
              " AND (?2 < 0 OR i.run_id = ?2) ORDER BY i.run_id, f.rowid";
    else if (has_run && column_exists(x->db, "incidents", "evidence_flows"))
        sql = "SELECT run_id, evidence_flows FROM incidents WHERE id = ?1"
              " AND (?2 < 0 OR run_id = ?2) ORDER BY run_id";
    else if (has_run && column_exists(x->db, "incidents", "evidence"))
        sql = "SELECT run_id, CASE WHEN json_valid(evidence) THEN json_extract(evidence, "
              "'$.flows') END FROM incidents WHERE id = ?1 AND (?2 < 0 OR run_id = ?2)"
              " ORDER BY run_id";
    if (!sql) {
        log_error("%s: the incidents table lists no evidence flows this flowmedic can read",
                  x->o->db);
        return ERR_FORMAT;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(x->db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("reading %s failed: %s", x->o->db, sqlite3_errmsg(x->db));
        return ERR_DB;
    }
    sqlite3_bind_int64(st, 1, n);
    sqlite3_bind_int64(st, 2, x->o->run);
    size_t added = 0;
    bool found = false;
    int64_t first_run = -1;
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        found = true;
        int64_t run = sqlite3_column_int64(st, 0);
        if (first_run >= 0 && run != first_run) {
            log_error("%s: runs %" PRId64 " and %" PRId64 " both have an incident %" PRId64
                      ": give --incident RUN:%" PRId64,
                      x->o->db, first_run, run, n, n);
            rc = ERR_ARG;
            break;
        }
        first_run = run;
        if (sqlite3_column_type(st, 1) == SQLITE_INTEGER) {
            rc = add_flow(x, run, sqlite3_column_int64(st, 1));
            added += rc == 0;
        } else {
            rc = add_flow_list(x, run, (const char *)sqlite3_column_text(st, 1), &added);
        }
    }
    sqlite3_finalize(st);
    if (rc != 0)
        return rc;
    if (!found) {
        if (x->o->run >= 0)
            log_error("%s has no incident %" PRId64 ":%" PRId64, x->o->db, x->o->run, n);
        else
            log_error("%s has no incident %" PRId64, x->o->db, n);
        return ERR_ARG;
    }
    if (!added) {
        log_error("incident %" PRId64 " lists no evidence flow: nothing to extract", n);
        return ERR_ARG;
    }
    return 0;
}

/* ---- packets ---- */

/* Is p between f's endpoints (either direction)? */
static bool same_tuple(const struct xflow *f, const struct pkt *p)
{
    return (pkt_ep_eq(&p->src, &f->client) && pkt_ep_eq(&p->dst, &f->server)) ||
           (pkt_ep_eq(&p->src, &f->server) && pkt_ep_eq(&p->dst, &f->client));
}

/* Does p belong to flow f: its endpoints, within its first and last packet times? */
static bool matches(const struct xflow *f, const struct pkt *p)
{
    return p->ts_ns >= f->first_ns && p->ts_ns <= f->last_ns && same_tuple(f, p);
}

/* Open the output for linktype on first use; a second link type is refused. */
static int out_ready(struct xrun *x, int linktype, const char *from)
{
    if (x->dump) {
        if (linktype == x->linktype)
            return 0;
        log_error("%s has link type %s, the packets already written %s: extract these flows "
                  "one at a time",
                  from, cap_linktype_name(linktype), cap_linktype_name(x->linktype));
        return ERR_FORMAT;
    }
    x->dead =
        pcap_open_dead_with_tstamp_precision(linktype, EXTRACT_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
    if (!x->dead) {
        log_error("out of memory");
        return ERR_NOMEM;
    }
    x->dump = pcap_dump_open(x->dead, x->o->out);
    if (!x->dump) {
        log_error("cannot write %s: %s", x->o->out, pcap_geterr(x->dead));
        return ERR_IO;
    }
    x->linktype = linktype;
    return 0;
}

/*
 * Copy the packets of run's flows (flows[] entries with that run) from capture file path,
 * through filter when the run had one. evidence: the file is one flow's evidence (all of it
 * belongs to the flow, no time window).
 */
static int copy_file(struct xrun *x, int64_t run, const char *path, const char *filter,
                     bool evidence)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (!pc) {
        log_error("run %" PRId64 ": cannot read %s: %s", run, path, perr);
        return ERR_IO;
    }
    int rc = 0;
    struct bpf_program prog;
    bool has_prog = false;
    if (filter && *filter && !evidence) {
        if (pcap_compile(pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            log_error("run %" PRId64 ": its filter '%s' does not compile for %s: %s", run, filter,
                      path, pcap_geterr(pc));
            rc = ERR_ARG;
            goto close_pc;
        }
        has_prog = true;
    }
    int linktype = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t frame = 0;
    struct decode_stats ds;
    memset(&ds, 0, sizeof(ds));
    int r;
    while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
        frame++;
        if (has_prog && pcap_offline_filter(&prog, h, data) == 0)
            continue;
        uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
        struct pkt p;
        if (pkt_decode(linktype, data, h->caplen, h->len, ts, frame, &p, &ds) != PKT_TCP)
            continue;
        for (size_t i = 0; i < x->nflows; i++) {
            struct xflow *f = &x->flows[i];
            if (f->run != run || !(evidence ? same_tuple(f, &p) : matches(f, &p)))
                continue;
            rc = out_ready(x, linktype, path);
            if (rc != 0)
                goto free_prog;
            pcap_dump((u_char *)x->dump, h, data);
            f->packets++;
            x->written++;
            break;
        }
    }
    if (r == PCAP_ERROR)
        log_warn("run %" PRId64 ": %s ends early: %s (the packets before were read)", run, path,
                 pcap_geterr(pc));
free_prog:
    if (has_prog)
        pcap_freecode(&prog);
close_pc:
    pcap_close(pc);
    return rc;
}

/* Read a text column of runs row run into buf ("" when NULL). */
static int run_text(struct xrun *x, int64_t run, const char *col, char *buf, size_t len)
{
    char sql[128];
    sqlite3_stmt *st = NULL;
    buf[0] = '\0';
    if (!column_exists(x->db, "runs", col))
        return 0;
    snprintf(sql, sizeof(sql), "SELECT %s FROM runs WHERE id = ?", col);
    if (sqlite3_prepare_v2(x->db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("reading %s failed: %s", x->o->db, sqlite3_errmsg(x->db));
        return ERR_DB;
    }
    sqlite3_bind_int64(st, 1, run);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        log_error("%s has no run %" PRId64, x->o->db, run);
        return ERR_ARG;
    }
    const char *t = (const char *)sqlite3_column_text(st, 0);
    if (t)
        snprintf(buf, len, "%s", t);
    sqlite3_finalize(st);
    return 0;
}

/* Every flow of run from its evidence directory (live runs, or inputs gone). */
static int copy_evidence(struct xrun *x, int64_t run, const char *dir)
{
    for (size_t i = 0; i < x->nflows; i++) {
        char path[PATH_MAX + 64];
        struct xflow *f = &x->flows[i];
        if (f->run != run)
            continue;
        evidence_path(dir, run, (uint64_t)f->flow, path, sizeof(path));
        if (access(path, R_OK) != 0) {
            log_error("run %" PRId64 " flow %" PRId64 ": no evidence file %s (evidence is "
                      "written for flows with an error finding or in an incident)",
                      run, f->flow, path);
            return ERR_IO;
        }
        int rc = copy_file(x, run, path, NULL, true);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The packets of run's flows: its capture files when they are there, else its evidence. */
static int copy_run(struct xrun *x, int64_t run)
{
    static char inputs[65536], sources[65536];
    char evdir[PATH_MAX], filter[4096];
    int rc = run_text(x, run, "inputs", inputs, sizeof(inputs));
    if (rc == 0)
        rc = run_text(x, run, "sources", sources, sizeof(sources));
    if (rc == 0)
        rc = run_text(x, run, "evidence_dir", evdir, sizeof(evdir));
    if (rc == 0)
        rc = run_text(x, run, "filter", filter, sizeof(filter));
    if (rc != 0)
        return rc;
    if (!inputs[0] && strncmp(sources, "iface:", 6) != 0) {
        /* written before runs.inputs existed: the paths as they were given */
        snprintf(inputs, sizeof(inputs), "%s", sources);
        for (char *c = inputs; *c; c++)
            if (*c == ',')
                *c = '\n';
    }
    bool files_ok = inputs[0] != '\0';
    for (char *line = inputs; files_ok && *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%.*s", (int)n, line);
        if (strcmp(path, "-") == 0 || access(path, R_OK) != 0)
            files_ok = false;
        line = nl ? nl + 1 : line + n;
    }
    if (!files_ok && evdir[0])
        return copy_evidence(x, run, evdir);
    if (!files_ok) {
        if (!inputs[0])
            log_error("run %" PRId64 " captured live (%s) without --evidence-dir: its packets "
                      "were not kept",
                      run, sources);
        else if (strstr(inputs, "-") == inputs && (!inputs[1] || inputs[1] == '\n'))
            log_error("run %" PRId64 " read its capture from stdin: the packets are not on disk "
                      "(use --evidence-dir to keep evidence)",
                      run);
        else
            log_error("run %" PRId64 ": its capture files are not readable any more (%s)", run,
                      inputs);
        return ERR_IO;
    }
    for (char *line = inputs; *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        rc = copy_file(x, run, line, filter[0] ? filter : NULL, false);
        if (rc != 0)
            return rc;
        line = nl ? nl + 1 : line + strlen(line);
    }
    return 0;
}

static int extract(struct xrun *x)
{
    int rc = open_db(x);
    if (rc != 0)
        return rc;
    x->flows = calloc(EXTRACT_MAX_FLOWS, sizeof(*x->flows));
    if (!x->flows) {
        log_error("out of memory");
        return ERR_NOMEM;
    }
    if (x->o->what == 'f')
        rc = add_flow(x, x->o->run, x->o->id);
    else if (x->o->what == 'F')
        rc = select_finding(x, x->o->id);
    else
        rc = select_incident(x, x->o->id);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < x->nflows; i++) {
        bool done = false;
        for (size_t j = 0; j < i; j++)
            done |= x->flows[j].run == x->flows[i].run;
        if (!done && (rc = copy_run(x, x->flows[i].run)) != 0)
            return rc;
    }
    for (size_t i = 0; i < x->nflows; i++) {
        char a[64], b[64];
        const struct xflow *f = &x->flows[i];
        log_info("flow %" PRId64 ":%" PRId64 " %s -> %s: %" PRIu64 " packets", f->run, f->flow,
                 pkt_endpoint_str(&f->client, a, sizeof(a)),
                 pkt_endpoint_str(&f->server, b, sizeof(b)), f->packets);
        if (!f->packets)
            log_warn("flow %" PRId64 ":%" PRId64 ": no packet found (were the capture files "
                     "changed since the run?)",
                     f->run, f->flow);
    }
    if (!x->written) {
        log_error("no packet of the %zu flow%s found: %s not written", x->nflows,
                  x->nflows == 1 ? "" : "s", x->o->out);
        return ERR_IO;
    }
    if (pcap_dump_flush(x->dump) != 0) {
        log_error("writing %s failed: %s", x->o->out, strerror(errno));
        return ERR_IO;
    }
    fprintf(stderr, "flowmedic extract: %" PRIu64 " packets of %zu flow%s written to %s\n",
            x->written, x->nflows, x->nflows == 1 ? "" : "s", x->o->out);
    return 0;
}

int cli_extract_main(int argc, char **argv)
{
    struct xopts o;
    struct xrun x;
    int rc = parse_opts(argc, argv, &o);
    if (rc != 0)
        return rc > 0 ? EXTRACT_OK : EXTRACT_USAGE;
    memset(&x, 0, sizeof(x));
    x.o = &o;
    x.linktype = -1;
    rc = extract(&x);
    if (x.dump)
        pcap_dump_close(x.dump);
    if (x.dead)
        pcap_close(x.dead);
    if (rc != 0 && x.dump)
        unlink(o.out);
    sqlite3_close(x.db);
    free(x.flows);
    return rc == 0 ? EXTRACT_OK : EXTRACT_RUNTIME;
}
