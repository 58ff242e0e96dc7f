# analyzers/: flow table, TCP analysis, stream parsers and detectors.
libflowmedic_a_SOURCES += analyzers/finding.h analyzers/finding.c analyzers/engine.h \
	analyzers/det.h analyzers/det_table.c analyzers/flow.h analyzers/flow.c \
	analyzers/tcp.h analyzers/tcp.c analyzers/engine.c
