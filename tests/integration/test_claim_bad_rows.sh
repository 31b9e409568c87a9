#!/bin/bash
# test_claim_bad_rows.sh - queued rows the claim cannot take, among good
# rows (issue 9 item 3): attempts at the column's maximum (1264 on
# attempts + 1), a priority whose generated prio_key overflows (stored by
# an admin session without strict mode), and a uid and an imapoptions the
# database returns with a NUL byte.  Each fails alone with its reason in the
# job's error; the good rows all run.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
dw_skip_unless_ready
echo "1..7"
dw_init badrows
dw_enqueue 30 10
mdb_sql "INSERT INTO jobs (target, source, uid, phase) VALUES ('default', 'POD_1', 'maxed', 'sync');
	UPDATE jobs SET attempts = 4294967295 WHERE uid = 'maxed';
	INSERT INTO jobs (target, source, uid, phase) VALUES ('default', 'POD_1', CONCAT('nul', CHAR(0), 'x'), 'sync');
	INSERT INTO jobs (target, source, uid, phase, imapoptions) VALUES ('default', 'POD_1', 'nulopt', 'sync', CONCAT('a', CHAR(0), 'b'));
	SET SESSION sql_mode = '';
	INSERT INTO jobs (target, source, uid, phase, priority) VALUES ('default', 'POD_1', 'prio', 'sync', -2147483648);"
echo "# prio row stored: $(mdb_sql "SELECT COUNT(*) FROM jobs WHERE uid = 'prio'")"
dw_config w1 "jobs: { max: 4, cache: { refresh: 300ms } }"
dw_worker_start w1
check "every job ended" \
	dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')" 0 30
is "$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status = 'SUCCESS' AND uid LIKE 'user%'")" 30 \
	"the 30 good jobs ran"
err() { mdb_sql "SELECT CONCAT(status, ': ', COALESCE(error, '')) FROM jobs WHERE $1"; }
e=$(err "uid = 'maxed'")
echo "# maxed: $e"
check "attempts at its maximum: FAILURE with the reason" grep -q '^FAILURE: .*Out of range.*attempts' <<<"$e"
e=$(err "uid LIKE 'nul%x'")
echo "# uid with NUL: $e"
check "uid with a NUL byte: FAILURE naming the column" grep -q '^FAILURE: column uid contains a NUL byte' <<<"$e"
e=$(err "uid = 'nulopt'")
echo "# imapoptions with NUL: $e"
check "imapoptions with a NUL byte: FAILURE naming the column" grep -q '^FAILURE: column imapoptions contains a NUL byte' <<<"$e"
e=$(err "uid = 'prio'")
echo "# priority overflowing prio_key: $e"
check "priority overflowing prio_key: FAILURE with the reason" grep -q "^FAILURE: .*Out of range.*prio_key" <<<"$e"
check "the worker is still running" kill -0 "$(dw_pid w1)"
