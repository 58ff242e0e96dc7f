# capture/: sources, decode and leaf helpers.
libflowmedic_a_SOURCES += capture/err.h capture/log.h capture/log.c capture/rd.h \
	capture/pkt.h capture/source.h capture/source.c capture/decode.h capture/decode.c

# Unit tests for decode.
check_PROGRAMS += tests/unit/test_decode
tests_unit_test_decode_SOURCES = tests/unit/test_decode.c tests/unit/testhelp.h
tests_unit_test_decode_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_decode
