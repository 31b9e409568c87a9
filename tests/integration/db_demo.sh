#!/bin/bash
# db_demo.sh - the simulator worker against its own MariaDB, driven by
# dmfctl: start a private mariadbd, migrate, start one worker, enqueue
# jobs, wait for them and show the results.  Everything lives in a
# temporary directory and is stopped by PID at the end.
# Usage: tests/integration/db_demo.sh [BUILDDIR]   (default: .)
set -u
abs_top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
abs_top_builddir=$(cd "${1:-.}" && pwd)
export abs_top_srcdir abs_top_builddir
. "$abs_top_srcdir/tests/integration/lib/db_worker.sh"
dw_skip_unless_ready >/dev/null
echo "== starting a private MariaDB and migrating the schema"
dw_init demo
echo "   mariadbd pid $MDB_PID on 127.0.0.1:$MDB_PORT, data in $DW_DIR"
$DMFCTL db status
$DMFCTL sourcehost add imap1 --host 127.0.0.1 --port 143 --ssl no
echo "== starting the worker default/demo (simulator, sleeps 0.2-1 s)"
DW_MIN_SLEEP=200ms DW_MAX_SLEEP=1s
dw_config demo "jobs: { max: 3, cache: { refresh: 1s } }"
dw_worker_start demo
echo "== enqueuing jobs with dmfctl job add"
ids=()
for u in alice bob carol dave erin; do
	ids+=("$($DMFCTL job add --source POD_1 --uid "$u@example.com" --sourcehost imap1)")
done
ids+=("$($DMFCTL job add --source POD_1 --uid alice@example.com --phase cutover --priority 5)")
echo "   job ids: ${ids[*]}"
echo "== dmfctl job wait ${ids[*]}"
$DMFCTL job wait "${ids[@]}" --timeout 60 && echo "   all SUCCESS"
$DMFCTL job list
echo "== dmfctl job show ${ids[0]}"
$DMFCTL job show "${ids[0]}"
echo "== dmfctl backend show default/demo"
$DMFCTL backend show default/demo
echo "== stopping (dmfctl backend stop default/demo)"
$DMFCTL backend stop default/demo
dw_worker_wait demo 30
echo "   worker exited with $DW_RC"
