#!/bin/bash
# test_db_ctl.sh - dmfctl against a real MariaDB: idempotent migration,
# exit codes, job add/show/list/wait/requeue/cancel, sourcehosts; job rows
# the worker cannot use fail with their reason; the worker refuses a
# schema it does not know.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
dw_skip_unless_ready
echo "1..26"
dw_init ctl
rc() { "$@" >/dev/null 2>&1; echo $?; }

is "$($DMFCTL db migrate)" "schema is up to date (version 3)" "db migrate is idempotent"
# a migration interrupted after 003's ALTER, before its version row: the
# run again counts the duplicate columns as done
mdb_sql "DELETE FROM schema_version WHERE version = 3"
is "$($DMFCTL db migrate 2>&1 | tail -1):$(mdb_sql "SELECT COUNT(*) FROM schema_version WHERE version = 3")" \
	"schema migrated from version 2 to 3:1" "003 applied again after an interruption"
is "$(rc $DMFCTL db status)" 0 "db status exits 0 on a current schema"
is "$(rc $DMFCTL)" 1 "no command: exit 1"
is "$(rc $DMFCTL job frobnicate)" 1 "unknown subcommand: exit 1"
is "$(rc $DMFCTL job add --uid u)" 1 "job add without --source: exit 1"
is "$(rc $DMFCTL job add --source NOPE --uid u)" 2 "unknown source: exit 2"
is "$(rc $DMFCTL job show 12345)" 2 "unknown job: exit 2"
is "$(rc $DMFCTL backend pause default/nobody)" 2 "unknown backend: exit 2"
is "$(rc $DMFCTL job add --source POD_1 --uid u --password-stdin)" 1 \
	"--password-stdin without --key: exit 1"
for c in db job backend sourcehost target source; do
	out=$($DMFCTL $c --help)
	check "$c --help prints usage" [ -n "$out" ]
done
$DMFCTL sourcehost add imap1 --host 127.0.0.1 --port 10143 --ssl starttls \
	--commands '{"status": {"name": "doveadm"}}' >/dev/null
is "$($DMFCTL sourcehost show imap1 | grep -c '"ssl": "starttls"')" 1 "sourcehost show"
id=$($DMFCTL job add --source POD_1 --uid alice --sourcehost imap1 --phase cutover --priority 7)
check "job add prints the new id ($id)" [ "$id" -gt 0 ]
is "$($DMFCTL job show "$id" | grep -c '"phase": "cutover"')" 1 "job show is JSON with the job's fields"
is "$($DMFCTL job list --status QUEUED | tail -n +2 | wc -l)" 1 "job list --status QUEUED"
is "$($DMFCTL job cancel "$id")" "job $id canceled" "job cancel of a queued job"
is "$(rc $DMFCTL job wait "$id" --timeout 2)" 4 "job wait: a canceled job exits 4"
is "$($DMFCTL job requeue "$id")" "job $id queued" "job requeue"
is "$(rc $DMFCTL job wait "$id" --timeout 1)" 4 "job wait: timeout exits 4"

# rows the worker cannot use: they fail with the reason, the worker goes on
mdb_sql "DELETE FROM jobs"
mdb_sql "INSERT INTO jobs (target, source, uid, phase) VALUES
	('default', 'POD_1', NULL, 'sync'),
	('default', 'GHOST', 'u2', 'sync'),
	('default', 'POD_1', 'u3', 'resync'),
	('default', 'POD_1', 'u5', 'sync')"
mdb_sql "INSERT INTO jobs (target, source, uid, phase, sourcehost) VALUES
	('default', 'POD_1', 'u4', 'sync', 'no-such-host')"
dw_config w1 "sources: [POD_1, GHOST]" "jobs: { max: 2, cache: { refresh: 300ms } }"
dw_worker_start w1
dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')" 0 20 >/dev/null
is "$(mdb_sql "SELECT CONCAT(COALESCE(uid, '-'), ':', status, ':', COALESCE(error, '')) FROM jobs ORDER BY id" | tr '\n' '|')" \
	"-:FAILURE:job has no uid|u2:FAILURE:unknown source 'GHOST'|u3:FAILURE:bad phase 'resync' (sync or cutover)|u5:SUCCESS:|u4:FAILURE:unknown sourcehost 'no-such-host'|" \
	"bad rows fail with their reason and the good one succeeds"
dw_worker_stop w1

# a schema newer than the worker knows
mdb_sql "INSERT INTO schema_version (version, name) VALUES (99, 'future')"
"$DW_WORKER" -c "$DW_DIR/w1.yml" >"$DW_DIR/refuse.log" 2>&1
is "$?:$(grep -c 'unknown to this worker' "$DW_DIR/refuse.log")" "1:1" \
	"the worker refuses an unknown schema with one clear line"
