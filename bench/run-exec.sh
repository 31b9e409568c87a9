#!/bin/sh
# run-exec.sh - build and run the exec service benchmark:
#   bench/run-exec.sh [RUNS] [MIB]
# Prints microseconds per /bin/true through the exec service vs a plain
# fork/execv/waitpid loop (as a ratio), output capture in MB/s, and the
# spawning process's own CPU per command: once with commands started
# through dmf-exec-gate, once forked.
# Run from a configured build directory (or set BUILDDIR).
set -e
builddir=${BUILDDIR:-.}
make -C "$builddir" -s bench/exec_bench core/exec/dmf-exec-gate >/dev/null
gate=$(cd "$builddir" && pwd)/core/exec/dmf-exec-gate
echo "== commands through the gate program ($gate)"
DMF_EXEC_GATE=$gate "$builddir/bench/exec_bench" "${1:-1000}" "${2:-256}"
echo "== commands forked (DMF_EXEC_GATE empty)"
DMF_EXEC_GATE= "$builddir/bench/exec_bench" "${1:-1000}" "${2:-64}"
