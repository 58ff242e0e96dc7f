/* schema.h - the flowmedic database schema as a list of migration steps (store/ internal). */
#ifndef FM_STORE_SCHEMA_H
#define FM_STORE_SCHEMA_H

/* PRAGMA user_version written by this flowmedic; a database above it is refused. */
#define STORE_SCHEMA_VERSION 9

/*
 * The typed finding columns of version 3 as read from the JSON extra of an older row: the
 * v3 migration fills old rows with these, and `flowmedic report` on a database it may not
 * upgrade (opened read-only, version < 3) reads old rows through the same expressions.
 */
#define STORE_V3_SIDE_SQL                                                                          \
    "CASE WHEN json_valid(extra) THEN coalesce(json_extract(extra, '$.from'),"                     \
    " nullif(json_extract(extra, '$.alert_from'), '')) END"
#define STORE_V3_PHASE_SQL                                                                         \
    "CASE WHEN kind = 'reset' AND json_valid(extra) THEN json_extract(extra, '$.phase') END"
#define STORE_V3_TTL_MISMATCH_SQL                                                                  \
    "CASE WHEN json_valid(extra) THEN json_extract(extra, '$.ttl_mismatch') END"

/*
 * The HTTP requests of an older incident row as the v8 migration reads them from its evidence
 * JSON (the only reader of that JSON): columns run_id, incident_id, flow_id, frame, status,
 * method, path, from incidents of schema S ("main", "s0", ...).
 */
#define STORE_V8_REQUESTS_SQL(S)                                                                   \
    "SELECT i.run_id AS run_id, i.id AS incident_id, json_extract(j.value, '$.flow_id') AS"        \
    " flow_id, json_extract(j.value, '$.frame') AS frame, json_extract(j.value, '$.status') AS"    \
    " status, json_extract(j.value, '$.method') AS method, json_extract(j.value, '$.path') AS"     \
    " path FROM " S ".incidents i, json_each(CASE WHEN"                                            \
    " json_valid(i.evidence) THEN i.evidence ELSE '{}' END, '$.requests') j ORDER BY i.rowid, "    \
    "j.id"

/* PRAGMA application_id of a flowmedic database ("FMed"). */
#define STORE_APPLICATION_ID 0x464d6564

/*
 * store_schema_steps[v] takes a database from user_version v to v + 1 (index 0 creates
 * version 1 from nothing). A new database runs every step, so the migrations are the
 * only schema code there is. STORE_SCHEMA_VERSION entries.
 */
extern const char *const store_schema_steps[STORE_SCHEMA_VERSION];

#endif
