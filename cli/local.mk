# cli/: main, options, JSON lines, the end-of-run summary, report.
flowmedic_SOURCES += cli/main.c
libflowmedic_a_SOURCES += cli/json.h cli/json.c cli/summary.h cli/summary.c
libflowmedic_a_SOURCES += cli/report.h cli/report.c
# server health (issue 6): Prometheus metrics and the configuration file
libflowmedic_a_SOURCES += cli/metrics.h cli/metrics.c cli/config.h cli/config.c
check_PROGRAMS += tests/unit/test_metrics
tests_unit_test_metrics_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_metrics
# signal handler and -Z checks (issue 14)
TESTS += tests/cli/signal_close.sh tests/cli/user.sh
EXTRA_DIST += tests/cli/signal_close.sh tests/cli/user.sh
