/* summary.h - the human summary printed at the end of a run: top servers, findings, drops. */
#ifndef FM_SUMMARY_H
#define FM_SUMMARY_H

#include <stdio.h>

#include "analyzers/finding.h"

/* The summary sink's configuration (sink_ops.open's cfg). */
struct summary_opts {
    FILE *out; /* where the text goes (not closed) */
};

/* Collects per-server totals from flows and findings; prints to out at the summary record. */
extern const struct sink_ops summary_sink_ops;

#endif
