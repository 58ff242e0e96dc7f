/* json.h - the JSON-lines sink (--json): one object per flow, finding, health row and run. */
#ifndef FM_JSON_H
#define FM_JSON_H

#include <stdio.h>

#include "analyzers/finding.h"

struct json_sink;

/* A sink writing to out (not closed by json_free). NULL on allocation failure. */
struct json_sink *json_new(FILE *out);
struct sink json_sink_of(struct json_sink *j);
/* Nonzero when a write to out failed (e.g. a closed pipe or a full disk). */
int json_error(const struct json_sink *j);
void json_free(struct json_sink *j);

/*
 * Write s as a JSON string literal (with quotes) to out: always valid UTF-8 (bytes that are not
 * become U+FFFD), with C0, DEL, C1 and bidi controls escaped as \\uHHHH so that the line is
 * also safe on a terminal. Exposed for report and tests.
 */
void json_put_str(FILE *out, const char *s);

#endif
