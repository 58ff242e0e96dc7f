# cli/: main, options, JSON lines, the end-of-run summary, report.
flowmedic_SOURCES += cli/main.c
libflowmedic_a_SOURCES += cli/json.h cli/json.c cli/summary.h cli/summary.c
libflowmedic_a_SOURCES += cli/report.h cli/report.c
