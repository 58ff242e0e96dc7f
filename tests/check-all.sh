#!/bin/sh
# check-all.sh - the whole test suite: build with -Werror, `make check`, then `make distcheck`,
# whose VPATH build from the release tarball runs the same suite under ASan + UBSan.
set -e
cd "$(dirname "$0")/.."
[ -x configure ] || ./autogen.sh
[ -f Makefile ] || ./configure --enable-werror
jobs=$(nproc 2>/dev/null || echo 2)
make -j"$jobs"
make -j"$jobs" check || { cat test-suite.log; exit 1; }
make -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-werror --enable-sanitizers"
echo "check-all: all tests passed, plain and under ASan + UBSan"
