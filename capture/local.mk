# capture/: sources, decode and leaf helpers.
libflowmedic_a_SOURCES += capture/err.h capture/log.h capture/log.c capture/rd.h \
	capture/pkt.h capture/source.h capture/source.c capture/decode.h capture/decode.c
