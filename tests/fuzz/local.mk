# tests/fuzz/: libFuzzer targets beyond fuzz_decode and fuzz_tls (capture/ and analyzers/
# local.mk): the whole engine, the HTTP/1 framer and the X.509 path. Each target's entry point
# is also linked with the plain driver fuzz_replay.c, which `make check` runs over the target's
# committed seed corpus (tests/fuzz/corpus/TARGET) and its regression inputs
# (tests/fuzz/regress/TARGET: every crash the fuzzers found). `make fuzz` (--enable-fuzz,
# CC=clang) runs every libFuzzer target for FUZZ_SECONDS each.
check_PROGRAMS += tests/fuzz/replay_engine tests/fuzz/replay_http tests/fuzz/replay_x509 \
	tests/fuzz/replay_tls
tests_fuzz_replay_engine_SOURCES = tests/fuzz/fuzz_engine.c tests/fuzz/fuzz_replay.c
tests_fuzz_replay_engine_LDADD = $(FM_LIBS)
tests_fuzz_replay_http_SOURCES = tests/fuzz/fuzz_http.c tests/fuzz/fuzz_replay.c
tests_fuzz_replay_http_LDADD = $(FM_LIBS)
tests_fuzz_replay_x509_SOURCES = tests/fuzz/fuzz_x509.c tests/fuzz/fuzz_replay.c
tests_fuzz_replay_x509_LDADD = $(FM_LIBS)
tests_fuzz_replay_tls_SOURCES = tests/fuzz/fuzz_tls.c tests/fuzz/fuzz_replay.c
tests_fuzz_replay_tls_LDADD = $(FM_LIBS)
TESTS += tests/fuzz/replay.sh
EXTRA_DIST += tests/fuzz/replay.sh tests/fuzz/run.sh tests/fuzz/mkcorpus.py tests/fuzz/README.md \
	tests/fuzz/corpus/engine tests/fuzz/corpus/http tests/fuzz/corpus/x509 tests/fuzz/corpus/tls \
	tests/fuzz/regress
CLEANFILES += tests/fuzz/replay.err

FUZZ_SECONDS = 60
FUZZ_TARGETS = decode tls engine http x509
if FUZZ
check_PROGRAMS += tests/fuzz/fuzz_engine tests/fuzz/fuzz_http tests/fuzz/fuzz_x509
tests_fuzz_fuzz_engine_SOURCES = tests/fuzz/fuzz_engine.c
tests_fuzz_fuzz_engine_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_engine_LDADD = $(FM_LIBS)
tests_fuzz_fuzz_http_SOURCES = tests/fuzz/fuzz_http.c
tests_fuzz_fuzz_http_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_http_LDADD = $(FM_LIBS)
tests_fuzz_fuzz_x509_SOURCES = tests/fuzz/fuzz_x509.c
tests_fuzz_fuzz_x509_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_x509_LDADD = $(FM_LIBS)

# Run each libFuzzer target for FUZZ_SECONDS (one at a time); FUZZ_TARGETS picks a subset.
fuzz: $(FUZZ_TARGETS:%=tests/fuzz/fuzz_%)
	FUZZ_SECONDS='$(FUZZ_SECONDS)' top_srcdir='$(abs_top_srcdir)' \
		top_builddir='$(abs_top_builddir)' $(SHELL) $(srcdir)/tests/fuzz/run.sh $(FUZZ_TARGETS)
else
fuzz:
	@echo "make fuzz needs a libFuzzer build: ./configure CC=clang --enable-fuzz [--enable-sanitizers]" >&2
	@exit 1
endif
.PHONY: fuzz
clean-local: clean-fuzz
clean-fuzz:
	rm -rf tests/fuzz/work
.PHONY: clean-fuzz
