# analyzers/: packets in, records out. Files in data-flow order; tests after each group.

# Records and their one JSON encoder; the finding-kind table.
libanalyzers_a_SOURCES = analyzers/finding.h analyzers/finding.c analyzers/finding_json.c
check_PROGRAMS += tests/unit/test_finding
tests_unit_test_finding_SOURCES = tests/unit/test_finding.c tests/unit/testhelp.h
tests_unit_test_finding_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_finding

# The engine, the flow table (keyed SipHash) and TCP analysis.
libanalyzers_a_SOURCES += analyzers/engine.h analyzers/engine.c analyzers/hash.h \
	analyzers/siphash.h analyzers/siphash.c analyzers/flow.h analyzers/flow.c analyzers/pool.h analyzers/pool.c \
	analyzers/tcp.h analyzers/tcp.c
check_PROGRAMS += tests/unit/test_tcp tests/unit/test_flow tests/unit/test_siphash
tests_unit_test_tcp_SOURCES = tests/unit/test_tcp.c tests/unit/helpers.c tests/unit/helpers.h tests/unit/testhelp.h
tests_unit_test_tcp_LDADD = $(FM_LIBS)
tests_unit_test_flow_LDADD = $(FM_LIBS)
tests_unit_test_siphash_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_tcp tests/unit/test_flow tests/unit/test_siphash

# Stream reassembly and the stream parsers: TLS (X.509 through OpenSSL) and HTTP/1.x.
libanalyzers_a_SOURCES += analyzers/stream.h analyzers/stream.c analyzers/stream_layer.c \
	analyzers/tls.h analyzers/tls.c \
	analyzers/x509.h analyzers/x509.c analyzers/http.h analyzers/http.c
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

# Detectors: the table (det.h, det_table.c), then one file each.
libanalyzers_a_SOURCES += analyzers/det.h analyzers/det_table.c

# det_tcp.c: TCP events (retransmissions, resets, windows, capture loss, one direction).
libanalyzers_a_SOURCES += analyzers/det_tcp.c
TESTS += tests/tcp/samples.sh
EXTRA_DIST += tests/tcp/samples.sh tests/tcp/check.py

# det_estab.c: connection establishment (refused, unanswered SYN, backlog, accept queue,
# unreachable, slow handshake).
libanalyzers_a_SOURCES += analyzers/estab.h analyzers/det_estab.c
check_PROGRAMS += tests/unit/test_estab
tests_unit_test_estab_SOURCES = tests/unit/test_estab.c tests/unit/helpers.c tests/unit/helpers.h \
	tests/unit/testhelp.h
tests_unit_test_estab_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_estab tests/estab/samples.sh
EXTRA_DIST += tests/estab/samples.sh tests/estab/check.py

# det_tls.c: TLS handshakes and certificates.
libanalyzers_a_SOURCES += analyzers/det_tls.c analyzers/tls_cert.h analyzers/tls_cert.c
TESTS += tests/tls/samples.sh tests/tls/streamcap.sh tests/tls/cafile.sh
EXTRA_DIST += tests/tls/samples.sh tests/tls/check.py tests/tls/streamcap.sh tests/tls/cafile.sh
# certificate dates that are not dates (cert_invalid_date), certificates made with OpenSSL's API
check_PROGRAMS += tests/unit/test_x509_dates
tests_unit_test_x509_dates_SOURCES = tests/unit/test_x509_dates.c tests/unit/testhelp.h
tests_unit_test_x509_dates_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_x509_dates
# certificate chains (cert_untrusted, cert_chain_incomplete) on a PKI made with OpenSSL's API
check_PROGRAMS += tests/unit/test_x509_chain
tests_unit_test_x509_chain_SOURCES = tests/unit/test_x509_chain.c tests/unit/testhelp.h
tests_unit_test_x509_chain_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_x509_chain

# det_health.c: per-server health intervals, with its quantile sketch and alert rules.
libanalyzers_a_SOURCES += analyzers/health.h analyzers/health_int.h analyzers/health_srv.c analyzers/det_health.c analyzers/sketch.h \
	analyzers/sketch.c analyzers/alert.h analyzers/alert.c
check_PROGRAMS += tests/unit/test_health
tests_unit_test_health_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_health tests/health/samples.sh tests/health/metrics.sh \
	tests/health/live.sh tests/health/workers.sh
EXTRA_DIST += tests/health/samples.sh tests/health/metrics.sh tests/health/check.py \
	tests/health/promcheck.py tests/health/replay.py tests/health/concat.py tests/health/live.sh \
	tests/health/workers.sh tests/health/workers_gen.py

# incident.c: per server endpoint and cause, incidents that open, update and close with
# advice (fed by the other detectors' findings, health rows and TLS records); scan.c: who
# scans (fed by the engine, read by the detectors).
libanalyzers_a_SOURCES += analyzers/incident.h analyzers/incident.c analyzers/scan.h \
	analyzers/scan.c
check_PROGRAMS += tests/unit/test_incident
tests_unit_test_incident_SOURCES = tests/unit/test_incident.c tests/unit/helpers.c tests/unit/helpers.h \
	tests/unit/testhelp.h
tests_unit_test_incident_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_incident tests/incidents/diagnosis.sh tests/incidents/corpus.sh
EXTRA_DIST += tests/incidents/diagnosis.sh tests/incidents/corpus.sh \
	tests/incidents/corpus_incidents.py tests/incidents/corpus.golden

# Workers: the N-thread analysis (reader -> workers -> aggregator over capture/ring.h).
libanalyzers_a_SOURCES += analyzers/worker.h analyzers/worker.c
