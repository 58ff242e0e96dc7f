# tests/: golden tests, tshark cross-check, corpus run, bad-input tests (unit tests live in
# each module's local.mk).
TESTS += tests/golden.sh tests/tshark-xcheck.sh tests/corpus.sh tests/workers.sh tests/badinput.sh tests/live.sh \
	tests/workers-live.sh tests/workers-exit.sh tests/live-prefilter.sh tests/live-stop.sh \
	tests/gen/check-samples.sh tests/synflood.sh tests/metrics/endpoint.sh tests/metrics/file.sh \
	tests/incidents/judge.sh tests/incidents/samples.sh tests/incidents/live.sh tests/incidents/workers.sh \
	tests/incidents/edges.sh \
	tests/frame-numbers.sh
EXTRA_DIST += tests/lib.sh tests/golden.sh tests/update-golden.sh tests/TESTLIST tests/golden \
	tests/tshark-xcheck.sh tests/tshark_xcheck.py tests/corpus.sh tests/corpus_check.py \
	tests/workers.sh tests/workers.py tests/workers-live.sh tests/workers-exit.sh tests/live-prefilter.sh tests/live-stop.sh \
	tests/badinput.sh tests/live.sh tests/synflood.sh tests/check-all.sh tests/gen samples bench docs/samples.md \
	tests/metrics/endpoint.sh tests/metrics/endpoint.py tests/metrics/file.sh tests/incidents \
	tests/frame-numbers.sh tests/frame_numbers.py
# evidence and records (issue 13): Zeek conn_state/history, extract, --evidence-dir
TESTS += tests/evidence/conn_state.sh tests/evidence/extract.sh tests/evidence/live.sh tests/evidence/same.sh \
	tests/evidence/wsfilter.sh
EXTRA_DIST += tests/evidence/conn_state.sh tests/evidence/conn_state.py tests/evidence/extract.sh \
	tests/evidence/extract.py tests/evidence/live.sh tests/evidence/wsfilter.sh \
	tests/evidence/wsfilter.py tests/evidence/same.sh
check_PROGRAMS += tests/evidence/test_evidence
tests_evidence_test_evidence_SOURCES = tests/evidence/test_evidence.c tests/unit/testhelp.h
tests_evidence_test_evidence_LDADD = $(FM_LIBS)
TESTS += tests/evidence/test_evidence
# JSON output: every member emitted on the samples (lines and report --json) is documented in
# README.md's field tables, with its type (issue 13).
TESTS += tests/json/fields.sh
EXTRA_DIST += tests/json/fields.sh tests/json/fields.py
# per-request HTTP records (issue 13): against tshark on every sample; the README's query
TESTS += tests/http/xcheck.sh tests/http/store.sh
EXTRA_DIST += tests/http/xcheck.sh tests/http/xcheck.py tests/http/store.sh
