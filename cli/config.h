/*
 * config.h - the configuration file (--config FILE, else /etc/flowmedic.conf if present):
 * "key = value" lines, '#' comments, keys named like the long options. The command line
 * overrides it.
 */
#ifndef FM_CONFIG_H
#define FM_CONFIG_H

#include <stddef.h>

#include "analyzers/engine.h"

/*
 * Read path into cfg (which holds the defaults already). 0 on success; ERR_IO when the file
 * cannot be read, ERR_ARG for a bad line, with "PATH:LINE: what is wrong" in err.
 */
int cli_config_load(const char *path, struct eng_config *cfg, char *err, size_t errlen);

/* Apply one "key=value" (a configuration file line, from --set). 0, or ERR_ARG with err. */
int cli_config_set(const char *kv, struct eng_config *cfg, char *err, size_t errlen);

/*
 * The configuration's "db = PATH" (file or --set), or NULL: the database to write when the
 * command line gives no -w (and no --no-db).
 */
const char *cli_config_db(void);

/*
 * The configuration's "workers = N|auto" (file or --set): -1 when not given, 0 for auto, else
 * N (1..WK_MAX). --workers on the command line wins.
 */
int cli_config_workers(void);

#endif
