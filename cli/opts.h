/* opts.h - everything flowmedic's command line says (filled by main.c, read by the sink table). */
#ifndef FM_OPTS_H
#define FM_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "analyzers/engine.h"
#include "capture/evidence.h"
#include "capture/source.h"
#include "cli/webconfig.h"

#define MAX_INPUTS 256

/* --sandbox / --no-sandbox; without either, -Z turns the sandbox on. */
enum { SANDBOX_AUTO = 0, SANDBOX_ON, SANDBOX_OFF };

/* Everything the command line says. */
struct opts {
    const char *inputs[MAX_INPUTS]; /* -r files in order */
    size_t ninputs;                 /* entries in inputs */
    const char *iface;              /* -i */
    char *filter;                   /* -f or trailing words (owned) */
    const char *db;                 /* -w, else the config file's db (NULL: no database) */
    bool no_db;                     /* --no-db */
    double retain_days;             /* --retain: delete runs older than this from the db */
    bool json;                      /* --json */
    bool tui;                       /* --tui */
    size_t stream_budget;           /* --stream-budget: bytes of all stream buffers */
    bool no_color;                  /* --no-color */
    double speed;                   /* --speed: replay pace for --tui; 0 = max */
    const char *user;               /* -Z */
    int sandbox;                    /* SANDBOX_AUTO (on with -Z), SANDBOX_ON, SANDBOX_OFF */
    const char *sandbox_selftest;   /* hidden --sandbox-selftest: forbidden call to try */
    struct cap_live_opts live;      /* -s, -p, -B, --immediate */
    const char *metrics_listen;     /* --metrics-listen */
    const char *metrics_file;       /* --metrics-file */
    bool metrics_file_follow;       /* --metrics-file-follow */
    const char *web_config;         /* --web-config */
    struct webconfig web;           /* its content, loaded with the options */
    const char *config;             /* --config */
    struct evidence_config evidence; /* --evidence-dir, --evidence-packets */
    struct eng_config eng;          /* analysis options */
    char sensor[256];               /* --sensor, else the host name ("" if unknown) */
    unsigned workers;               /* --workers: analysis threads; 0 = auto (resolve_workers) */
    bool workers_given;             /* --workers was on the command line (it wins over the file) */
    char servers_text[1024];        /* --server values as given, for the runs table */
    char cmdline[2048];             /* the command line, for the runs table */
};

#endif
