/*
 * sinks.h - the table of sinks (cli/sinks.c): which outputs a run opens, with what
 * configuration, in which order records reach them. Adding a sink is one file that
 * implements struct sink_ops (analyzers/finding.h) and one line in the table.
 */
#ifndef FM_SINKS_H
#define FM_SINKS_H

#include <stdbool.h>
#include <stddef.h>

#include "analyzers/finding.h"
#include "cli/opts.h"
#include "cli/output.h"

#define CLI_SINK_CFG_MAX 4096 /* bytes a table line's cfg function may build its config in */

/* One line of the sink table. */
struct cli_sink {
    const struct sink_ops *ops; /* the sink */
    /* This run's configuration for it, built in buf (CLI_SINK_CFG_MAX bytes, aligned for
       any type); NULL when the run does not want the sink. */
    const void *(*cfg)(const struct opts *o, void *buf);
};

/* The sinks a run opened, in table order. */
struct cli_sinks {
    struct out_sink s[OUTPUT_MAX_SINKS]; /* opened sinks (ctx NULL once closed) */
    size_t n;                            /* entries used */
};

/* The database a run writes (-w, or the config file's db = PATH), NULL for none. */
const char *cli_db_path(const struct opts *o);

/*
 * Open every sink of the table that o wants, in table order. On failure logs the reason,
 * closes what was opened and returns -1.
 */
int cli_sinks_open(struct cli_sinks *set, const struct opts *o);

/* The state of the opened sink ops, NULL if the run does not have it. */
void *cli_sinks_find(const struct cli_sinks *set, const struct sink_ops *ops);

/* Close the sink ops now, if open (0 if not); its error is logged. 0 or -1. */
int cli_sinks_close_one(struct cli_sinks *set, const struct sink_ops *ops);

/* Close every sink still open, in reverse table order; errors are logged. 0, or -1 if any
   failed. */
int cli_sinks_close(struct cli_sinks *set);

#endif
