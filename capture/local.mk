# capture/: sources, decode and leaf helpers.
libcapture_a_SOURCES = capture/err.h capture/log.h capture/log.c capture/rd.h \
	capture/pkt.h capture/clock.h capture/text.h capture/text.c capture/source.h capture/source.c \
	capture/decode.h capture/decode.c \
	capture/evidence.h capture/evidence.c \
	capture/ring.h capture/ring.c capture/fanout.h capture/fanout.c

# The SPSC ring between threads (capture threads, reader, workers, aggregator).
check_PROGRAMS += tests/unit/test_ring
tests_unit_test_ring_SOURCES = tests/unit/test_ring.c tests/unit/testhelp.h
tests_unit_test_ring_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_ring

# Unit tests for decode.
check_PROGRAMS += tests/unit/test_decode
tests_unit_test_decode_SOURCES = tests/unit/test_decode.c tests/unit/testhelp.h
tests_unit_test_decode_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_decode

# Fuzzing: fuzz_decode's entry point, replayed by a plain main over samples/ and the corpus in
# make check; with --enable-fuzz (CC=clang) also a real libFuzzer binary tests/fuzz/fuzz_decode.
check_PROGRAMS += tests/fuzz/fuzz_replay
tests_fuzz_fuzz_replay_SOURCES = tests/fuzz/fuzz_decode.c tests/fuzz/fuzz_replay.c
tests_fuzz_fuzz_replay_LDADD = $(FM_LIBS)
TESTS += tests/fuzz_replay.sh
EXTRA_DIST += tests/fuzz_replay.sh tests/fuzz/corpus/decode
CLEANFILES += tests/fuzz_replay.err

if FUZZ
# Coverage for libFuzzer in every object; ASan's runtime supplies the coverage callbacks to
# the programs that are not fuzzers.
AM_CFLAGS += -fsanitize=fuzzer-no-link,address
AM_LDFLAGS += -fsanitize=address
check_PROGRAMS += tests/fuzz/fuzz_decode
tests_fuzz_fuzz_decode_SOURCES = tests/fuzz/fuzz_decode.c
tests_fuzz_fuzz_decode_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_decode_LDADD = $(FM_LIBS)
endif

# Decode every frame of the shared corpus and compare TCP counts with tshark's (skips if absent).
check_PROGRAMS += tests/unit/decode_count
tests_unit_decode_count_SOURCES = tests/unit/decode_count.c
tests_unit_decode_count_LDADD = $(FM_LIBS)
TESTS += tests/decode_corpus.sh
EXTRA_DIST += tests/decode_corpus.sh

# Unit tests for the capture source (files written to a temporary directory).
check_PROGRAMS += tests/unit/test_source
tests_unit_test_source_SOURCES = tests/unit/test_source.c tests/unit/testhelp.h
tests_unit_test_source_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_source

# Unit tests for text.c (terminal escaping, UTF-8) and the JSON string writer built on it.
check_PROGRAMS += tests/unit/test_text
tests_unit_test_text_SOURCES = tests/unit/test_text.c tests/unit/testhelp.h
tests_unit_test_text_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_text
