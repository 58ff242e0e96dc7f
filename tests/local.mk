# tests/: unit tests, golden tests, corpus test, fuzz drivers.
