/* summary.h - the human summary printed at the end of a run: top servers, findings, drops. */
#ifndef FM_SUMMARY_H
#define FM_SUMMARY_H

#include <stdbool.h>
#include <stdio.h>

#include "analyzers/finding.h"

/* The summary sink's configuration (sink_ops.open's cfg). */
struct summary_opts {
    FILE *out;          /* where the text goes (not closed) */
    bool problems_only; /* -q: only incidents, error and warning findings and capture loss;
                           nothing at all when there is none */
    bool defer;         /* print at close, not at the summary record (the live view holds the
                           terminal until it ends) */
};

/*
 * Collects per-server totals from flows and findings and the incidents' latest state;
 * prints to out at the summary record (at close with defer).
 */
extern const struct sink_ops summary_sink_ops;

#endif
