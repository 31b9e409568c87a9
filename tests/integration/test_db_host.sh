#!/bin/bash
# test_db_host.sh - the plugins' `db` host table (sdk/include/dmf/host.h,
# core/host/host_db.c over core/db/db_lookup.c) against a real MariaDB:
# sourcehost and job field lookups, their errors, and -ENOTCONN without a
# pool or with the server gone.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
dw_skip_unless_ready
echo "1..14"
dw_init dbhost
TOOL="$abs_top_builddir/tests/unit/db_host_tool $DW_DIR/ctl.yml"

$DMFCTL sourcehost add imap1 --host 127.0.0.1 --port 10143 --ssl starttls \
	--commands '{"status":{"name":"doveadm"}}' >/dev/null
$DMFCTL sourcehost add imap2 >/dev/null
id=$($DMFCTL job add --source POD_1 --uid alice --email a@example.org \
	--sourcehost imap1 --priority 7)

is "$($TOOL sourcehost imap1 | tr '\n' '|')" \
	'0 imap1 127.0.0.1 10143 starttls {"status":{"name":"doveadm"}}|freed yes|' \
	"sourcehost: every field, freed by sourcehost_free"
is "$($TOOL sourcehost imap2 | head -1)" "0 imap2 imap2 143 no -" \
	"sourcehost: defaults, commands NULL"
is "$($TOOL sourcehost nope)" "-2" "unknown sourcehost: -ENOENT"
is "$($TOOL field "$id" uid)" "0 alice" "job_field uid"
is "$($TOOL field "$id" email)" "0 a@example.org" "job_field email"
is "$($TOOL field "$id" priority)" "0 7" "job_field priority"
is "$($TOOL field "$id" status)" "0 QUEUED" "job_field status as stored now"
is "$($TOOL field "$id" ruid)" "-2 -" "a NULL field: -ENOENT"
is "$($TOOL field "$id" password)" "-22 -" "a field not in the list: -EINVAL"
is "$($TOOL field 0 uid)" "-2 -" "a job without a row: -ENOENT"
is "$($TOOL field 999999 uid)" "-2 -" "an unknown job id: -ENOENT"
is "$($TOOL nopool sourcehost imap1)" "-107" "no pool: -ENOTCONN"
is "$($TOOL nopool field "$id" uid)" "-107 -" "no pool, job_field: -ENOTCONN"
mdb_stop
is "$($TOOL sourcehost imap1 2>/dev/null)" "-107" "server gone: -ENOTCONN"
