/* schema.h - the flowmedic database schema as a list of migration steps (store/ internal). */
#ifndef FM_STORE_SCHEMA_H
#define FM_STORE_SCHEMA_H

/* PRAGMA user_version written by this flowmedic; a database above it is refused. */
#define STORE_SCHEMA_VERSION 2

/* PRAGMA application_id of a flowmedic database ("FMed"). */
#define STORE_APPLICATION_ID 0x464d6564

/*
 * store_schema_steps[v] takes a database from user_version v to v + 1 (index 0 creates
 * version 1 from nothing). A new database runs every step, so the migrations are the
 * only schema code there is. STORE_SCHEMA_VERSION entries.
 */
extern const char *const store_schema_steps[STORE_SCHEMA_VERSION];

#endif
