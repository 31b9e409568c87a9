#!/bin/bash
# test_soak.sh - the bounded short fault soak (lib/soak.sh): 600 jobs of
# the command worker over 4 workers, every kind of fault at least once
# (kill -9, SIGSTOP past the lease, MariaDB restarts, a full command-log
# disk, hanging, flooding and stalled-IMAP jobs), judged by the recorded
# runs and the database.  scripts/soak.sh runs the full one (2,000 jobs).
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/soak.sh"
soak_skip_unless_ready
SOAK_JOBS=${SOAK_JOBS:-600} SOAK_WORKERS=${SOAK_WORKERS:-4} SOAK_MAX_SECONDS=${SOAK_MAX_SECONDS:-60}
soak_run
