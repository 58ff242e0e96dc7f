# cli/: main, options, JSON lines, report.
flowmedic_SOURCES += cli/main.c
