# tui/: the ncurses live view.
