/* summary.h - the human summary printed at the end of a run: top servers, findings, drops. */
#ifndef FM_SUMMARY_H
#define FM_SUMMARY_H

#include <stdio.h>

#include "analyzers/finding.h"

struct summary;

/* A sink that collects per-server totals; prints to out at on_summary. NULL on failure. */
struct summary *summary_new(FILE *out);
struct sink summary_sink_of(struct summary *s);
void summary_free(struct summary *s);

#endif
