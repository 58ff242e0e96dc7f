/*
 * sinks.c - the sink table: one line per output (its sink_ops and the function that builds
 * its configuration from the options), opened and closed in table order. Records reach the
 * sinks in this order too, from the output thread (cli/output.c).
 */
#include "cli/sinks.h"

#include <limits.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>

#include "capture/clock.h"
#include "capture/log.h"
#include "cli/extract.h"
#include "cli/json.h"
#include "cli/metrics.h"
#include "cli/summary.h"
#include "store/store.h"
#include "tui/tui.h"

const char *cli_db_path(const struct opts *o)
{
    return o->no_db ? NULL : o->db; /* no default file: without -w nothing is written */
}

/* --tui: the live view. */
static const void *tui_cfg(const struct opts *o, void *buf)
{
    struct tui_opts *to = buf;
    if (!o->tui)
        return NULL;
    *to = (struct tui_opts){
        .color = !o->no_color && !getenv("NO_COLOR"),
        .error_rate = o->eng.alert_error_rate,
        .retrans_rate = o->eng.alert_retrans_rate,
        .resp_p99_s = o->eng.alert_resp_p99_s,
    };
    return to;
}

/* --json: JSON lines on stdout. */
static const void *json_cfg(const struct opts *o, void *buf)
{
    struct json_opts *jo = buf;
    if (!o->json)
        return NULL;
    jo->out = stdout;
    return jo;
}

/*
 * The human summary (-q: the problems only), unless --json -q says the JSON is enough; after
 * the live view has ended, when there is one.
 */
static const void *summary_cfg(const struct opts *o, void *buf)
{
    struct summary_opts *so = buf;
    if (o->json && log_quiet)
        return NULL;
    *so = (struct summary_opts){
        .out = o->json ? stderr : stdout,
        .problems_only = log_quiet != 0,
        .defer = o->tui,
    };
    return so;
}

/* The database's configuration and the text it points to. */
struct store_cfg {
    struct store_sink_opts so; /* what store_sink_ops.open reads */
    char sources[2048];        /* "iface:eth1" or the files, comma separated */
};

/* -w DB, or the config file's db = PATH (no database otherwise). */
static const void *store_cfg(const struct opts *o, void *buf)
{
    struct store_cfg *c = buf;
    _Static_assert(sizeof(struct store_cfg) <= CLI_SINK_CFG_MAX, "store_cfg too large");
    const char *path = cli_db_path(o);
    if (!path)
        return NULL;
    size_t used = 0;
    c->sources[0] = '\0';
    if (o->iface)
        snprintf(c->sources, sizeof(c->sources), "iface:%s", o->iface);
    for (size_t i = 0; i < o->ninputs && used < sizeof(c->sources); i++)
        used += (size_t)snprintf(c->sources + used, sizeof(c->sources) - used, "%s%s", i ? "," : "",
                                 o->inputs[i]);
    static char inputs[MAX_INPUTS * 512], evdir[PATH_MAX];
    if (cli_inputs_text(o->inputs, o->ninputs, inputs, sizeof(inputs)) != 0)
        inputs[0] = '\0';
    if (!o->evidence.dir || cli_inputs_text(&o->evidence.dir, 1, evdir, sizeof(evdir)) != 0)
        evdir[0] = '\0';
    c->so = (struct store_sink_opts){
        .path = path,
        .ri =
            {
                .sources = c->sources,
                .filter = o->filter,
                .servers = o->servers_text[0] ? o->servers_text : NULL,
                .options = o->cmdline,
                .inputs = inputs[0] ? inputs : NULL,
                .evidence_dir = evdir[0] ? evdir : NULL,
                .sensor = o->sensor[0] ? o->sensor : NULL,
                .start_wall_ns = clock_real_ns(),
                .retain_days = o->retain_days,
            },
    };
    return &c->so;
}

/* --metrics-listen, --metrics-file (--web-config alone is refused by metrics_new). */
static const void *metrics_cfg(const struct opts *o, void *buf)
{
    struct metrics_opts *mo = buf;
    if (!o->metrics_listen && !o->metrics_file && !o->web_config)
        return NULL;
    *mo = (struct metrics_opts){
        .listen = o->metrics_listen,
        .web = o->web_config ? &o->web : NULL,
        .file = o->metrics_file,
        .file_follow = o->metrics_file_follow,
    };
    return mo;
}

/* --evidence-dir: the evidence ring's marks and files. */
static const void *evidence_cfg(const struct opts *o, void *buf)
{
    (void)buf;
    return o->evidence.dir ? &o->evidence : NULL;
}

/* The table: open and fan-out order (cli_sinks_close closes in reverse). */
static const struct cli_sink cli_sink_table[] = {
    {&json_sink_ops, json_cfg},         {&summary_sink_ops, summary_cfg},
    {&evidence_sink_ops, evidence_cfg}, {&store_sink_ops, store_cfg},
    {&metrics_sink_ops, metrics_cfg},   {&tui_sink_ops, tui_cfg},
};

_Static_assert(sizeof(cli_sink_table) / sizeof(cli_sink_table[0]) <= OUTPUT_MAX_SINKS,
               "more sinks in the table than an output fans out to");

int cli_sinks_open(struct cli_sinks *set, const struct opts *o)
{
    alignas(max_align_t) unsigned char buf[CLI_SINK_CFG_MAX];
    char err[512];
    set->n = 0;
    for (size_t i = 0; i < sizeof(cli_sink_table) / sizeof(cli_sink_table[0]); i++) {
        const struct cli_sink *line = &cli_sink_table[i];
        const void *cfg = line->cfg(o, buf);
        if (!cfg)
            continue;
        err[0] = '\0';
        void *ctx = line->ops->open(cfg, err, sizeof(err));
        if (!ctx) {
            log_error("%s", err[0] ? err : "cannot open an output");
            cli_sinks_close(set);
            return -1;
        }
        set->s[set->n++] = (struct out_sink){line->ops, ctx};
    }
    return 0;
}

void *cli_sinks_find(const struct cli_sinks *set, const struct sink_ops *ops)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->s[i].ops == ops)
            return set->s[i].ctx;
    return NULL;
}

/* Close entry k (if still open); logs the error. */
static int close_entry(struct out_sink *k)
{
    char err[512];
    if (!k->ctx)
        return 0;
    void *ctx = k->ctx;
    k->ctx = NULL;
    if (!k->ops->close)
        return 0;
    err[0] = '\0';
    if (k->ops->close(ctx, err, sizeof(err)) != 0) {
        log_error("%s", err[0] ? err : "an output failed");
        return -1;
    }
    return 0;
}

int cli_sinks_close_one(struct cli_sinks *set, const struct sink_ops *ops)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->s[i].ops == ops)
            return close_entry(&set->s[i]);
    return 0;
}

int cli_sinks_close(struct cli_sinks *set)
{
    int rc = 0;
    for (size_t i = set->n; i-- > 0;) /* the live view first: it gives the terminal back */
        if (close_entry(&set->s[i]) != 0)
            rc = -1;
    set->n = 0;
    return rc;
}
