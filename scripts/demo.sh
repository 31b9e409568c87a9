#!/bin/bash
# demo.sh - the README's main command: build dmf-worker and migrate a few
# mailboxes end to end, on this machine alone.
#
# It installs the Debian packages (scripts/deps.sh, as root), builds into
# _build, then in a temporary directory starts its own MariaDB (the
# Migration Database) and a SOURCE Dovecot serving IMAP, both on
# 127.0.0.1, and a TARGET Dovecot configuration; creates the schema,
# target, source and sourcehost with dmfctl; fills 4 source mailboxes
# (nested, spaced and non-ASCII folders); enqueues one sync job per user
# (passwords wrapped with a storage key); runs dmf-worker with the doveadm
# plugin (dsync over imapc, 2 jobs at a time); waits with `dmfctl job
# wait`; prints each job's status and counts next to what both Dovecots
# hold; then adds and expunges mail at the source and runs a cutover
# round.  Everything is stopped by PID and removed at the end.
#
#   scripts/demo.sh              the doveadm migration (about a minute)
#   scripts/demo.sh --simulator  then also the simulator worker against its
#                                own MariaDB, driven by dmfctl
#   DEMO_KEEP=1 scripts/demo.sh  keep the temporary directory
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
simulator=0
[ "${1:-}" = --simulator ] && simulator=1
jobs=$(nproc 2>/dev/null || echo 2)
if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: run me as root (Dovecot drops to a mail user, doveadm runs as root)" >&2
	exit 1
fi
bash scripts/deps.sh

echo "== building into _build"
./autogen.sh >/tmp/dmf-autogen.log 2>&1 || { cat /tmp/dmf-autogen.log; exit 1; }
mkdir -p _build
(cd _build && [ -f Makefile ] || "$top/configure" -q 2> >(grep -v "cannot remove 'core'" >&2))
make -C _build -j"$jobs" >_build/build.log 2>&1 || { tail -40 _build/build.log; exit 1; }

export abs_top_srcdir=$top abs_top_builddir=$top/_build
set +eu
. "$top/tests/integration/lib/doveadm_rig.sh"
[ -n "${DEMO_KEEP:-}" ] && DW_KEEP=1
t_start=$(date +%s)

# ---------------------------------------------------------------- setup ---
echo "== starting a private MariaDB (the Migration Database) and creating the schema"
DW_DIR=$(mktemp -d /tmp/dmf-demo.XXXXXX)
DR_DIR=$DW_DIR
chmod 0755 "$DR_DIR"
trap dr_cleanup EXIT
mdb_start "$DR_DIR/db" || { echo "demo: cannot start mariadbd" >&2; exit 1; }
echo "   mariadbd pid $MDB_PID on 127.0.0.1:$MDB_PORT"
python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())' >"$DR_DIR/$DR_KEY.key"
chmod 0600 "$DR_DIR/$DR_KEY.key"
cat >"$DR_DIR/ctl.yml" <<EOT
datasources:
  default:
    url: jdbc:mariadb://127.0.0.1:$MDB_PORT/$MDB_DB
    username: $MDB_USER
    password: $MDB_PASSWORD
dmf:
  worker:
    crypto:
      storageKeys:
        $DR_KEY:
          file: $DR_DIR/$DR_KEY.key
EOT
DMFCTL="$DW_CTL -c $DR_DIR/ctl.yml --schema-dir $top/core/db/schema"
show() { echo "   \$ dmfctl $*"; $DMFCTL "$@" | sed 's/^/     /'; }
show db migrate

echo "== starting the SOURCE Dovecot (IMAP) and the TARGET Dovecot"
rig_init "$DR_DIR/rig" || exit 1
dovecot_source_start || exit 1
dovecot_target_start || exit 1
echo "   source IMAP on 127.0.0.1:$SRC_IMAP_PORT (pid $(rig_pid src)), target config $TGT_CONF (pid $(rig_pid tgt))"
show target add default
show source add POD_1
show sourcehost add imap-src --host 127.0.0.1 --port "$SRC_IMAP_PORT" --ssl no

echo "== generating the source mailboxes over IMAP"
users=(anna ben chiara dmitri)
counts=(300 220 160 90)
for i in 0 1 2 3; do
	rig_add_user "${users[$i]}" "${users[$i]}-Secret-$i" >/dev/null
done
gens=()
for i in 0 1 2 3; do
	rig_genmail --seed $((i + 1)) fill "${users[$i]}" "${users[$i]}-Secret-$i" \
		--count "${counts[$i]}" >"$DR_DIR/gen.${users[$i]}" &
	gens+=($!)
done
for p in "${gens[@]}"; do wait "$p"; done # (not `wait`: mariadbd is a child too)
for i in 0 1 2 3; do
	echo "   ${users[$i]}: $(cat "$DR_DIR/gen.${users[$i]}") in $(rig_src_doveadm mailbox list -u "${users[$i]}" | wc -l) folders"
done

# ------------------------------------------------------------ the worker ---
echo "== starting dmf-worker default/demo (doveadm plugin, jobs.max 2)"
DR_HTTP_PORT=$(rig_free_port)
DR_CMDLOG=$DR_DIR/cmdlog
mkdir -p "$DR_CMDLOG" && chmod 0700 "$DR_CMDLOG"
dr_config demo
echo "   configuration ($DR_DIR/demo.yml), the doveadm part:"
sed -n '/^  doveadm:/,$p' "$DR_DIR/demo.yml" | sed 's/^/     /'
dr_worker_start demo
echo "   dmf-worker pid $(dw_pid demo)"

# table IDS...: each job's record next to what both Dovecots hold
table() {
	printf '   %-4s %-7s %-8s %-7s %8s %5s %5s | %15s %15s | %15s %15s  %s\n' \
		job user phase status attempts saved expunged \
		"job target" "doveadm target" "job origin" "doveadm source" match
	local id u line tgt src
	for id in "$@"; do
		line=$($DMFCTL job show "$id" | python3 -c '
import json, sys
j = json.load(sys.stdin)
d = next((e["dsync"] for e in j.get("details") or [] if "dsync" in e), {})
print(j["uid"], j["phase"], j["status"], d.get("attempts", "-"),
      j.get("syncSaved"), j.get("syncExpunged"),
      "%s/%s" % (j.get("targetMessages"), j.get("targetSize")),
      "%s/%s" % (j.get("originMessages"), j.get("originSize")))')
		set -- $line
		u=$1
		tgt=$(dr_count "$TGT_CONF" "$u" | tr ' ' /)
		src=$(dr_count "$SRC_CONF" "$u" | tr ' ' /)
		local match=no
		[ "$7" = "$tgt" ] && [ "$8" = "$src" ] && [ "$tgt" = "$src" ] && match=yes
		printf '   %-4s %-7s %-8s %-7s %8s %5s %5s | %15s %15s | %15s %15s  %s\n' \
			"$id" "$u" "$2" "$3" "$4" "$5" "$6" "$7" "$tgt" "$8" "$src" "$match"
	done
	echo "   (counts are messages/bytes; 'job' columns are the database's record,"
	echo "    'doveadm' columns are counted now on each Dovecot)"
}

echo "== enqueuing one sync job per user (dmfctl job add --password-stdin --key $DR_KEY)"
ids=()
for i in 0 1 2 3; do
	ids+=("$(printf '%s\n' "${users[$i]}-Secret-$i" | $DMFCTL job add --source POD_1 \
		--uid "${users[$i]}" --sourcehost imap-src --password-stdin --key "$DR_KEY")")
done
echo "   job ids: ${ids[*]}"
echo "== dmfctl job wait ${ids[*]}"
t=$(date +%s.%N)
$DMFCTL job wait "${ids[@]}" --timeout 300 && echo "   all SUCCESS in $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
table "${ids[@]}"
echo "== one job's details (dmfctl job show ${ids[0]}, details)"
$DMFCTL job show "${ids[0]}" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["details"]:
    for k, v in e.items():
        extra = ""
        if k == "dsync":
            extra = " saved=%s" % json.dumps(v.get("saved", {}), ensure_ascii=False)
        print("     %-30s success=%s exit=%s%s" % (k, v.get("success"), v.get("exitCode"), extra))
        if k == "dsync":
            print("       command: %s" % v.get("command"))'

echo "== cutover: the users keep using the source: new mail arrives, some is deleted"
rig_genmail --seed 21 --start 5000 add anna anna-Secret-0 --count 12 >/dev/null
rig_genmail --seed 22 expunge ben ben-Secret-1 --count 7 >/dev/null
rig_genmail --seed 23 --start 5000 add chiara chiara-Secret-2 --count 3 >/dev/null
echo "   anna +12, ben -7, chiara +3, dmitri unchanged"
cids=()
for i in 0 1 2 3; do
	cids+=("$(printf '%s\n' "${users[$i]}-Secret-$i" | $DMFCTL job add --source POD_1 \
		--uid "${users[$i]}" --sourcehost imap-src --password-stdin --key "$DR_KEY" \
		--phase cutover --priority 10)")
done
echo "== dmfctl job wait ${cids[*]}"
$DMFCTL job wait "${cids[@]}" --timeout 300 && echo "   all SUCCESS"
table "${cids[@]}"

echo "== stopping the worker (dmfctl backend stop default/demo)"
$DMFCTL backend stop default/demo >/dev/null
dw_worker_wait demo 30
echo "   dmf-worker exited with $DW_RC"
bad=$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status <> 'SUCCESS'")
echo "== done in $(($(date +%s) - t_start)) s: $((${#ids[@]} + ${#cids[@]})) jobs, $bad not SUCCESS; stopping MariaDB and Dovecot, removing $DR_DIR"
dr_cleanup
trap - EXIT

if [ "$simulator" = 1 ]; then
	echo
	echo "== the simulator job worker against its own MariaDB (tests/integration/db_demo.sh)"
	bash "$top/tests/integration/db_demo.sh" "$top/_build"
fi
[ "$bad" = 0 ]
