# tui/: the ncurses live view (tui.c) and the model it draws from (model.c, no ncurses).
libtui_a_SOURCES = tui/tui.h tui/tui.c tui/model.h tui/model.c

# Unit tests for the model.
check_PROGRAMS += tests/unit/test_tui_model
tests_unit_test_tui_model_SOURCES = tests/unit/test_tui_model.c tests/unit/testhelp.h
tests_unit_test_tui_model_LDADD = $(FM_LIBS)
TESTS += tests/unit/test_tui_model

# The live view driven in tmux (skips when tmux is missing).
TESTS += tests/tui/tmux.sh
EXTRA_DIST += tests/tui/tmux.sh
