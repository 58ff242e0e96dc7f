# store/: the SQLite sink.
