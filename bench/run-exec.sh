#!/bin/sh
# run-exec.sh - build and run the exec service benchmark:
#   bench/run-exec.sh [RUNS] [MIB]
# Prints microseconds per /bin/true through the exec service vs a plain
# fork/execv/waitpid loop (as a ratio) and output capture in MB/s.
# Run from a configured build directory (or set BUILDDIR).
set -e
builddir=${BUILDDIR:-.}
make -C "$builddir" -s bench/exec_bench >/dev/null
exec "$builddir/bench/exec_bench" "${1:-1000}" "${2:-256}"
