# cli/: main, options, JSON lines, the end-of-run summary, report.
flowmedic_SOURCES += cli/main.c
libflowmedic_a_SOURCES += cli/json.h cli/json.c cli/summary.h cli/summary.c cli/opts.h cli/output.h cli/output.c \
	cli/sinks.h cli/sinks.c
libflowmedic_a_SOURCES += cli/report.h cli/report.c
# the sandbox applied after start-up (no_new_privs, seccomp)
libflowmedic_a_SOURCES += cli/sandbox.h cli/sandbox.c
# server health (issue 6): Prometheus metrics and the configuration file
# Metrics: aggregation, exposition rendering, the atomic file writer, the HTTP endpoint
# (libmicrohttpd) and its web configuration (TLS, basic auth; issue 14)
libflowmedic_a_SOURCES += cli/metrics.h cli/metrics.c cli/metrics_agg.h cli/metrics_agg.c \
	cli/metrics_render.h cli/metrics_render.c cli/metrics_file.h cli/metrics_file.c \
	cli/metrics_http.h cli/metrics_http.c cli/webconfig.h cli/webconfig.c \
	cli/config.h cli/config.c
check_PROGRAMS += tests/unit/test_metrics
tests_unit_test_metrics_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_metrics
# signal handler and -Z checks (issue 14)
TESTS += tests/cli/signal_close.sh tests/cli/user.sh
EXTRA_DIST += tests/cli/signal_close.sh tests/cli/user.sh
# Terminal safety of the report: hostile strings in a database print escaped (capture/text.h).
TESTS += tests/report/escape.sh
EXTRA_DIST += tests/report/escape.sh
# The sandbox (cli/sandbox.c): offline, live view, live capture with -Z, metrics, database.
TESTS += tests/sandbox.sh
EXTRA_DIST += tests/sandbox.sh
# The output queue and its thread.
check_PROGRAMS += tests/unit/test_output
tests_unit_test_output_SOURCES = tests/unit/test_output.c tests/unit/testhelp.h
tests_unit_test_output_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_output
