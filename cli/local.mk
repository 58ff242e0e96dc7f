# cli/: main, options, the sink table and output queue, the sinks that live here (JSON lines,
# summary, metrics), report.
flowmedic_SOURCES += cli/main.c

# Options (command line in main.c, configuration file in config.c).
libcli_a_SOURCES = cli/opts.h cli/config.h cli/config.c

# The output queue and its thread; the sink table.
libcli_a_SOURCES += cli/output.h cli/output.c cli/sinks.h cli/sinks.c
check_PROGRAMS += tests/unit/test_output
tests_unit_test_output_SOURCES = tests/unit/test_output.c tests/unit/testhelp.h
tests_unit_test_output_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_output

# Sinks: JSON lines and the human summary.
libcli_a_SOURCES += cli/json.h cli/json.c cli/summary.h cli/summary.c

# Sink: Prometheus metrics (aggregation, exposition rendering, the atomic file writer, the
# libmicrohttpd endpoint and its web configuration: TLS, basic auth).
libcli_a_SOURCES += cli/metrics.h cli/metrics.c cli/metrics_agg.h cli/metrics_agg.c \
	cli/metrics_render.h cli/metrics_render.c cli/metrics_file.h cli/metrics_file.c \
	cli/metrics_http.h cli/metrics_http.c cli/webconfig.h cli/webconfig.c
check_PROGRAMS += tests/unit/test_metrics
tests_unit_test_metrics_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_metrics

# flowmedic report DB.
libcli_a_SOURCES += cli/report.h cli/report.c

# flowmedic extract DB; the evidence sink (--evidence-dir).
libcli_a_SOURCES += cli/extract.h cli/extract.c

# Terminal safety of the report: hostile strings in a database print escaped (capture/text.h).
TESTS += tests/report/escape.sh
TESTS += tests/report/oldv7.sh
EXTRA_DIST += tests/report/oldv7.sh
EXTRA_DIST += tests/report/escape.sh
# Several sensors' databases in one report; older schemas read as they are.
TESTS += tests/report/sensors.sh
EXTRA_DIST += tests/report/sensors.sh

# The signal handler and -Z.
TESTS += tests/cli/signal_close.sh tests/cli/user.sh tests/cli/config_env.sh tests/cli/offline.sh
EXTRA_DIST += tests/cli/signal_close.sh tests/cli/user.sh tests/cli/config_env.sh \
	tests/cli/offline.sh

# The sandbox applied after start-up (no_new_privs, seccomp): offline, live view, live
# capture with -Z, metrics, database.
libcli_a_SOURCES += cli/sandbox.h cli/sandbox.c
TESTS += tests/sandbox.sh
EXTRA_DIST += tests/sandbox.sh
