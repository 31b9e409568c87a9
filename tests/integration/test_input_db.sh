#!/bin/bash
# test_input_db.sh - careless and hostile input against a real Migration
# Database (issue 10): --check-config makes every check the start makes
# (heartbeat 0, a lease of 1 ms); a start refused after the backend was
# registered leaves it stopped, not running with a dead pid; -c '' is
# refused; the memberid's origin is logged; `dmfctl job list` escapes
# control characters in its table; `dmfctl job add` refuses an over-long
# or non-UTF-8 --uid with exit 1 and a clear message before SQL sees it.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
dw_skip_unless_ready
echo "1..18"
dw_init input

# --- --check-config and the start agree ---
dw_config hb0 "heartbeat: 0"
sed -i 's/^    heartbeat: .*/    heartbeat: 0/' "$DW_DIR/hb0.yml"
"$DW_WORKER" -c "$DW_DIR/hb0.yml" --check-config >"$DW_DIR/hb0.check" 2>&1
is "$?" 1 "--check-config refuses dmf.worker.heartbeat: 0"
check "and says why" grep -q 'dmf.worker.heartbeat: must be between 1 ms and 1 day' "$DW_DIR/hb0.check"
dw_config l1
sed -i 's/^    lease: .*/    lease: 1ms/' "$DW_DIR/l1.yml"
"$DW_WORKER" -c "$DW_DIR/l1.yml" --check-config >"$DW_DIR/l1.check" 2>&1
is "$?" 1 "--check-config refuses a lease of 1 ms"
check "and says why" grep -q 'dmf.worker.lease (1 ms) must be at least twice' "$DW_DIR/l1.check"
dw_config ok
"$DW_WORKER" -c "$DW_DIR/ok.yml" --check-config >/dev/null 2>&1
is "$?" 0 "--check-config accepts a good file"

# a datasource URL the start refuses: refused, its password never echoed
dw_config badurl
sed -i 's|^    url: .*|    url: "postgres://u:Pw1234567@h/db?password=Qw7654321"|' "$DW_DIR/badurl.yml"
"$DW_WORKER" -c "$DW_DIR/badurl.yml" --check-config >"$DW_DIR/badurl.check" 2>&1
is "$?" 1 "--check-config refuses a datasource URL the start refuses"
is "$(grep -c 'Pw1234567\|Qw7654321' "$DW_DIR/badurl.check"):$(grep -c "postgres://u:<hidden>@h/db?password=<hidden>' is not a jdbc" "$DW_DIR/badurl.check")" "0:1" \
	"the message shows the URL with its passwords <hidden>"

# the start registers the backend, then the poller refuses heartbeat 0
dw_worker_start hb0
dw_worker_wait hb0 20
is "$DW_RC" 1 "a start with heartbeat 0 exits 1"
is "$(mdb_sql "SELECT status FROM backends WHERE name = 'default/hb0'")" 3 \
	"the backend it registered is marked stopped (3), not running"
check "the log names the memberid's origin" \
	grep -q "memberid 'hb0' from dmf.worker.identity.memberid" "$DW_DIR/hb0.log"

# -c ''
"$DW_WORKER" -c '' --check-config >"$DW_DIR/empty.out" 2>&1
is "$?" 2 "-c '' is refused (exit 2)"
check "with a clear message" grep -q 'the file name is empty' "$DW_DIR/empty.out"

# --- dmfctl job list: control characters escaped in the table ---
mdb_sql "INSERT INTO jobs (target, source, uid) VALUES ('default', 'POD_1', CONCAT('esc', CHAR(27), '[2J', CHAR(13), 'cr', CHAR(9), 'tab'))"
$DMFCTL job list >"$DW_DIR/list.txt"
is "$(grep -c $'\e\|\r' "$DW_DIR/list.txt")" 0 "job list writes no ESC or CR"
check "job list shows them escaped" grep -qF 'esc\x1b[2J\rcr\ttab' "$DW_DIR/list.txt"
is "$(awk -F'\t' 'NR > 1 { print NF }' "$DW_DIR/list.txt" | sort -u)" \
	"$(head -1 "$DW_DIR/list.txt" | awk -F'\t' '{ print NF }')" \
	"every row has as many columns as the header"

# --- dmfctl job add validates first ---
long=$(printf 'u%.0s' $(seq 1 300))
$DMFCTL job add --source POD_1 --uid "$long" >"$DW_DIR/long.out" 2>&1
rc=$?
is "$rc:$(grep -c 'too long (300 characters; at most 255)' "$DW_DIR/long.out")" "1:1" \
	"an over-long --uid: exit 1, says how long"
$DMFCTL job add --source POD_1 --uid $'bad\xff\xfeutf8' >"$DW_DIR/utf.out" 2>&1
rc=$?
is "$rc:$(grep -c -- '--uid is not valid UTF-8' "$DW_DIR/utf.out")" "1:1" \
	"a non-UTF-8 --uid: exit 1, says so"
is "$(mdb_sql "SELECT COUNT(*) FROM jobs")" 1 "neither reached the database"
exit ${DW_FAILED:-0}
