#!/bin/bash
# test_doveadm_sync.sh - the doveadm worker end to end with real Dovecot:
# full sync of several mailboxes (nested, spaced, non-ASCII folders; one
# empty mailbox), an incremental sync after mails were added and expunged
# at the source (saved/expunged right per mailbox), and a cutover.  Jobs
# are enqueued with dmfctl, run by dmf-worker through the doveadm plugin,
# and checked from the database's records and from both Dovecots.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/doveadm_rig.sh"
dr_skip_unless_ready

dr_init dvsync

dr_user alice 'alice-Pw1' 120 1
dr_user bob 'bob-Pw2' 60 2
dr_user carol 'carol-Pw3' 0

# "box<TAB>uid" of every message of USER at the source
uids() {
	doveadm -c "$SRC_CONF" -f tab fetch -u "$1" 'mailbox uid' all |
		tail -n +2 | LC_ALL=C sort
}
# per-mailbox difference of two uid listings: {"box": n} of lines only in A
only_in() {
	python3 - "$1" "$2" <<'PY'
import collections, json, sys
a = set(open(sys.argv[1]).read().splitlines())
b = set(open(sys.argv[2]).read().splitlines())
c = collections.Counter(l.split("\t")[0] for l in a - b if l)
print(json.dumps(dict(c), sort_keys=True, ensure_ascii=False))
PY
}
boxes_json() { # box=count|... as {"box": count} without zero counts
	echo "$1" | tr '|' '\n' | python3 -c '
import json, sys
d = {}
for l in sys.stdin.read().splitlines():
    if l:
        k, v = l.rsplit("=", 1)
        if int(v):
            d[k] = int(v)
print(json.dumps(d, sort_keys=True, ensure_ascii=False))'
}

dr_config w1
dr_worker_start w1
t0=$(date +%s.%N)
a=$(dr_job alice 'alice-Pw1')
b=$(dr_job bob 'bob-Pw2')
c=$(dr_job carol 'carol-Pw3')
dr_wait "$a" "$b" "$c" --timeout $((60 * DR_SLOW))
is "$DR_WAIT_RC" 0 "full sync: dmfctl job wait says all three SUCCESS"
echo "# three full syncs through the worker: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"

for u in alice bob carol; do
	case $u in alice) id=$a ;; bob) id=$b ;; carol) id=$c ;; esac
	src=$(dr_count "$SRC_CONF" $u)
	is "$(dr_count "$TGT_CONF" $u)" "$src" "$u: target holds what the source holds ($src)"
	is "$(dr_field "$id" '"%s %s" % (j["targetMessages"], j["targetSize"])')" "$src" \
		"$u: targetMessages/targetSize are the target's count"
	is "$(dr_field "$id" '"%s %s" % (j["originMessages"], j["originSize"])')" "$src" \
		"$u: originMessages/originSize are the source's count"
	is "$(dr_field "$id" 'j["syncSaved"]')" "${src% *}" "$u: syncSaved is every message"
	is "$(dr_step "$id" dsync 'json.dumps(s["saved"], sort_keys=True, ensure_ascii=False) if s.get("saved") else "{}"')" \
		"$(boxes_json "$(dr_boxes "$SRC_CONF" $u)")" "$u: dsync.saved per mailbox equals the source's mailboxes"
done
is "$(dr_boxes "$TGT_CONF" alice)" "$(dr_boxes "$SRC_CONF" alice)" \
	"alice: every folder (nested, spaced, non-ASCII) has the same count on both sides"
is "$(dr_field "$a" 'steps()')" \
	'["count local mailbox pre sync", "dsync", "make target durable", "count local mailbox post sync", "count remote mailbox"]' \
	"details list the steps in the spec's order"
is "$(dr_step "$a" dsync '[s["success"], s["exitCode"], s["attempts"], s["errors"]]')" \
	"[true, 0, 1, []]" "dsync: success, exit 0, 1 attempt, no errors"
like_() { case "$1" in *"$2"*) ok_ "$3" ;; *) nok_ "$3"; echo "#   got: '$1'"; echo "#   expected to contain: '$2'" ;; esac; }
like_ "$(dr_step "$a" dsync 's["command"]')" "backup -R -l 60 -u alice imapc:" \
	"dsync.command shows the doveadm backup command, with dsync's user lock"
like_ "$(dr_step "$a" 'count remote mailbox' 's["command"]')" "mail=imapc:" \
	"the remote count goes through imapc"
is "$(dr_step "$c" dsync 's.get("saved", {})')" "{}" "carol (empty): nothing saved"
is "$(dr_field "$a" '"%s %s" % (j["status"], j["backend"])')" "SUCCESS default/w1" \
	"the job ran on worker default/w1"

# incremental: add and expunge at the source, sync again
uids alice >"$DR_DIR/before"
rig_genmail --seed 11 expunge alice 'alice-Pw1' --count 15 >/dev/null
rig_genmail --seed 12 --start 5000 add alice 'alice-Pw1' --count 25 >/dev/null
uids alice >"$DR_DIR/after"
want_saved=$(only_in "$DR_DIR/after" "$DR_DIR/before")
want_expunged=$(only_in "$DR_DIR/before" "$DR_DIR/after")
i=$(dr_job alice 'alice-Pw1')
dr_wait "$i" --timeout $((60 * DR_SLOW))
is "$DR_WAIT_RC" 0 "incremental sync: SUCCESS"
is "$(dr_field "$i" '"%s %s" % (j["syncSaved"], j["syncExpunged"])')" "25 15" \
	"incremental sync: 25 saved, 15 expunged"
is "$(dr_step "$i" dsync 'json.dumps(s.get("saved", {}), sort_keys=True, ensure_ascii=False)')" \
	"$want_saved" "incremental: saved per mailbox is right ($want_saved)"
is "$(dr_step "$i" dsync 'json.dumps(s.get("expunged", {}), sort_keys=True, ensure_ascii=False)')" \
	"$want_expunged" "incremental: expunged per mailbox is right ($want_expunged)"
src=$(dr_count "$SRC_CONF" alice)
is "$(dr_count "$TGT_CONF" alice)" "$src" "incremental: counts equal on both sides ($src)"
is "$(dr_field "$i" '"%s %s" % (j["targetMessages"], j["targetSize"])')" "$src" \
	"incremental: targetMessages/targetSize"
is "$(dr_boxes "$TGT_CONF" alice)" "$(dr_boxes "$SRC_CONF" alice)" \
	"incremental: per-folder counts equal"
n=$(dr_job bob 'bob-Pw2')
dr_wait "$n" --timeout $((30 * DR_SLOW))
is "$(dr_field "$n" '"%s %s %s" % (j["status"], j["syncSaved"], j["syncExpunged"])')" \
	"SUCCESS 0 0" "a sync with nothing changed saves and expunges nothing"

# cutover
rig_genmail --seed 13 --start 6000 add alice 'alice-Pw1' --count 5 >/dev/null
rig_genmail --seed 14 expunge bob 'bob-Pw2' --count 3 >/dev/null
ca=$(dr_job alice 'alice-Pw1' --phase cutover)
cb=$(dr_job bob 'bob-Pw2' --phase cutover)
dr_wait "$ca" "$cb" --timeout $((60 * DR_SLOW))
is "$DR_WAIT_RC" 0 "cutover: both SUCCESS"
is "$(dr_field "$ca" '"%s %s %s" % (j["phase"], j["syncSaved"], j["syncExpunged"])')" "cutover 5 0" \
	"cutover alice: 5 saved"
is "$(dr_field "$cb" '"%s %s %s" % (j["phase"], j["syncSaved"], j["syncExpunged"])')" "cutover 0 3" \
	"cutover bob: 3 expunged"
for u in alice bob; do
	src=$(dr_count "$SRC_CONF" $u)
	is "$(dr_count "$TGT_CONF" $u)" "$src" "cutover $u: counts equal ($src)"
done
is "$(dr_field "$ca" '"%s %s" % (j["originMessages"], j["targetMessages"])')" \
	"$(dr_field "$ca" '"%s %s" % (j["targetMessages"], j["originMessages"])')" \
	"cutover: origin and target counts agree in the job record"
is "$(mdb_sql "SELECT COUNT(*) FROM jobs WHERE status <> 'SUCCESS'")" 0 "no job ended otherwise"
is "$(grep -c -E 'ERROR|CRIT' "$DR_DIR/w1.log")" 0 "the worker logged no errors"
dr_stop_check w1
echo "1..$DW_T"
