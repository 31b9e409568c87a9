#!/bin/bash
# soak.sh [JOBS [WORKERS]] - the full fault soak (issue 15): 2,000 jobs of
# the command worker over 4 workers (defaults) with random faults of every
# kind (kill -9, SIGSTOP past the lease, MariaDB restarts, a full
# command-log disk, hanging, flooding and stalled-IMAP jobs), judged by the
# recorded runs and the database (tests/integration/lib/soak.sh, the same
# code as the bounded tests/integration/test_soak.sh of the test suite).
# Needs root (tmpfs mount) and a build in _build (`make` there first, or
# set abs_top_builddir).  Prints TAP and a "# soak: ..." line with the
# figures; SOAK_SEED repeats a run's job mix and fault order.
top=$(cd "$(dirname "$0")/.." && pwd)
export abs_top_srcdir=$top
export abs_top_builddir=${abs_top_builddir:-$top/_build}
export SOAK_JOBS=${1:-${SOAK_JOBS:-2000}} SOAK_WORKERS=${2:-${SOAK_WORKERS:-4}}
export SOAK_MAX_SECONDS=${SOAK_MAX_SECONDS:-900}
. "$top/tests/integration/lib/soak.sh"
soak_skip_unless_ready
soak_run
