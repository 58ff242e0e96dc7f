# analyzers/: flow table, TCP analysis, stream parsers and detectors.
libflowmedic_a_SOURCES += analyzers/finding.h analyzers/finding.c analyzers/engine.h \
	analyzers/det.h analyzers/det_table.c analyzers/flow.h analyzers/flow.c \
	analyzers/tcp.h analyzers/tcp.c analyzers/engine.c
# server health (issue 6): quantile sketch, HTTP/1.x framer, alert rules, the health detector
libflowmedic_a_SOURCES += analyzers/sketch.h analyzers/sketch.c analyzers/http.h \
	analyzers/http.c analyzers/alert.h analyzers/alert.c
check_PROGRAMS += tests/unit/test_health
tests_unit_test_health_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_health
# connection establishment (issue 4): refused, unanswered SYN, backlog, accept queue, unreachable
libflowmedic_a_SOURCES += analyzers/estab.h analyzers/det_estab.c
check_PROGRAMS += tests/unit/test_estab
tests_unit_test_estab_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_estab
TESTS += tests/estab/samples.sh
EXTRA_DIST += tests/estab/samples.sh tests/estab/check.py docs/establishment.md
libflowmedic_a_SOURCES += analyzers/health.h analyzers/det_health.c
# TCP events detector (issue 3)
libflowmedic_a_SOURCES += analyzers/det_tcp.c
TESTS += tests/health/samples.sh tests/health/metrics.sh
EXTRA_DIST += tests/health/samples.sh tests/health/metrics.sh tests/health/check.py \
	tests/health/promcheck.py tests/health/replay.py docs/health.md
