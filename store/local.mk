# store/: the SQLite sink (schema and migrations, batched writer thread).
libstore_a_SOURCES = store/store.h store/store.c store/schema.h store/schema.c

# Unit tests for the store: schema, migration, batching, overflow, bad paths, SIGKILL.
check_PROGRAMS += tests/unit/test_store
tests_unit_test_store_SOURCES = tests/unit/test_store.c tests/unit/testhelp.h
tests_unit_test_store_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_store

# End-to-end, crash and bad-path tests of the database (need the flowmedic binary).
TESTS += tests/store/e2e.sh tests/store/crash.sh tests/store/deferidx.sh tests/store/liveidx.sh tests/store/badpath.sh tests/store/diskfull.sh tests/store/locked.sh \
	tests/store/retain.sh
EXTRA_DIST += tests/store/e2e.sh tests/store/crash.sh tests/store/deferidx.sh tests/store/liveidx.sh tests/store/badpath.sh tests/store/diskfull.sh tests/store/locked.sh \
	tests/store/retain.sh
