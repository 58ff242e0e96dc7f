# analyzers/: flow table, TCP analysis, stream parsers and detectors.
libflowmedic_a_SOURCES += analyzers/finding.h analyzers/finding.c analyzers/finding_json.c analyzers/engine.h \
	analyzers/det.h analyzers/det_table.c analyzers/hash.h analyzers/siphash.h analyzers/siphash.c \
	analyzers/flow.h analyzers/flow.c analyzers/pool.h analyzers/pool.c \
	analyzers/tcp.h analyzers/tcp.c analyzers/engine.c
check_PROGRAMS += tests/unit/test_finding
tests_unit_test_finding_SOURCES = tests/unit/test_finding.c tests/unit/testhelp.h
tests_unit_test_finding_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_finding
# incidents (issue 11): per server and cause, open / update / close with advice
libflowmedic_a_SOURCES += analyzers/incident.h analyzers/incident.c analyzers/scan.h \
	analyzers/scan.c
check_PROGRAMS += tests/unit/test_incident
tests_unit_test_incident_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_incident tests/incidents/diagnosis.sh tests/incidents/corpus.sh
EXTRA_DIST += tests/incidents/diagnosis.sh tests/incidents/corpus.sh \
	tests/incidents/corpus_incidents.py tests/incidents/corpus.golden
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
EXTRA_DIST += tests/estab/samples.sh tests/estab/check.py
libflowmedic_a_SOURCES += analyzers/health.h analyzers/health_int.h analyzers/health_srv.c \
	analyzers/det_health.c
# TCP events detector (issue 3)
libflowmedic_a_SOURCES += analyzers/det_tcp.c
TESTS += tests/health/samples.sh tests/health/metrics.sh
EXTRA_DIST += tests/health/samples.sh tests/health/metrics.sh tests/health/check.py \
	tests/health/promcheck.py tests/health/replay.py tests/health/concat.py
# TLS handshake analysis (issue 5): stream reassembly, TLS parser, X.509 (OpenSSL), detector
libflowmedic_a_SOURCES += analyzers/stream.h analyzers/stream.c analyzers/tls.h analyzers/tls.c \
	analyzers/x509.h analyzers/x509.c analyzers/tls_cert.h analyzers/tls_cert.c analyzers/det_tls.c
check_PROGRAMS += tests/unit/test_tls tests/unit/test_stream tests/fuzz/fuzz_tls_replay
tests_unit_test_tls_SOURCES = tests/unit/test_tls.c tests/unit/tls_vectors.h tests/unit/testhelp.h
tests_unit_test_tls_LDADD = $(FM_LIBS)
tests_unit_test_stream_SOURCES = tests/unit/test_stream.c tests/unit/testhelp.h
tests_unit_test_stream_LDADD = $(FM_LIBS)
tests_fuzz_fuzz_tls_replay_SOURCES = tests/fuzz/fuzz_tls.c
tests_fuzz_fuzz_tls_replay_CPPFLAGS = $(AM_CPPFLAGS) -DFM_FUZZ_MAIN
tests_fuzz_fuzz_tls_replay_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_tls tests/unit/test_stream tests/fuzz/fuzz_tls_replay
if FUZZ
check_PROGRAMS += tests/fuzz/fuzz_tls
tests_fuzz_fuzz_tls_SOURCES = tests/fuzz/fuzz_tls.c
tests_fuzz_fuzz_tls_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_tls_LDADD = $(FM_LIBS)
endif
TESTS += tests/tls/samples.sh tests/tls/streamcap.sh
EXTRA_DIST += tests/tls/samples.sh tests/tls/check.py tests/tls/streamcap.sh
check_PROGRAMS += tests/unit/test_tcp tests/unit/test_flow tests/unit/test_siphash
tests_unit_test_tcp_LDADD = $(FM_LIBS)
tests_unit_test_flow_LDADD = $(FM_LIBS)
tests_unit_test_siphash_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_tcp tests/unit/test_flow tests/unit/test_siphash
TESTS += tests/health/live.sh
EXTRA_DIST += tests/health/live.sh
TESTS += tests/tcp/samples.sh
EXTRA_DIST += tests/tcp/samples.sh tests/tcp/check.py
# certificate dates that are not dates (cert_invalid_date), certificates made with OpenSSL's API
check_PROGRAMS += tests/unit/test_x509_dates
tests_unit_test_x509_dates_SOURCES = tests/unit/test_x509_dates.c tests/unit/testhelp.h
tests_unit_test_x509_dates_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_x509_dates
