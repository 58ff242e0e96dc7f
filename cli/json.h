/* json.h - the JSON-lines sink (--json): one object per flow, finding, health row and run. */
#ifndef FM_JSON_H
#define FM_JSON_H

#include <stdio.h>

#include "analyzers/finding.h"

/*
 * The version of flowmedic's JSON output (the JSON lines and `report --json`), on the first
 * line ({"type":"meta","schema":N}), on the summary line and in the report's object. Adding a
 * member, a line type, a finding kind or an incident cause keeps it; renaming or removing a
 * member, or changing its type, unit or meaning, raises it (README.md, "JSON output").
 */
#define JSON_SCHEMA_VERSION 1

/* The JSON sink's configuration (sink_ops.open's cfg). */
struct json_opts {
    FILE *out; /* where lines go (not closed; flushed at close, whose error says a write
                  failed, e.g. a closed pipe or a full disk) */
};

/* JSON lines: one object per record, in the order the analysis made them. */
extern const struct sink_ops json_sink_ops;

/*
 * Write s as a JSON string literal (with quotes) to out: always valid UTF-8 (bytes that are not
 * become U+FFFD), with C0, DEL, C1 and bidi controls escaped as \\uHHHH so that the line is
 * also safe on a terminal. Exposed for report and tests.
 */
void json_put_str(FILE *out, const char *s);

#endif
