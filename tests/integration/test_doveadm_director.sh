#!/bin/bash
# test_doveadm_director.sh - director.kick with wait (directorKick, then
# oboxUserWait bounded by kick.timeout, wait-accept-codes) and
# director.flush-metacache (metacacheFlush) through the doveadm HTTP API
# client.  Community Dovecot 2.3 cannot serve directorKick (no director
# here), oboxUserWait or metacacheFlush (Dovecot Pro / obox only), so a
# stand-in HTTP server (lib/http_standin.py) answers in Dovecot's shapes
# ([["doveadmResponse", [], tag]] / [["error", {"type": "exitCode",
# "exitCode": N}, tag]]) and records every request; the migration itself
# runs against the real Dovecots.  Checked: each request sequence, the
# details entries, and the failure flag director-kick-user /
# director-flush-metacache.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/doveadm_rig.sh"
dr_skip_unless_ready
dr_init dvdir

like_() {
	case "$1" in
	*"$2"*) ok_ "$3" ;;
	*) nok_ "$3"; echo "#   got: '$1'"; echo "#   expected to contain: '$2'" ;;
	esac
}
noretry='retry: {max: 0, code-max: {}}'
down=http://127.0.0.1:$(rig_free_port)
echo '{"directorKick": {"response": []}, "oboxUserWait": {"response": []}, "metacacheFlush": {"response": []}}' >"$DR_DIR/ok.json"
echo '{"directorKick": {"response": []}, "oboxUserWait": {"exitCode": 65}, "metacacheFlush": {"exitCode": 75}}' >"$DR_DIR/bad.json"
dr_http_standin good --replies "$DR_DIR/ok.json"
good=http://127.0.0.1:$DR_HTTP_STANDIN_PORT
dr_http_standin bad --replies "$DR_DIR/bad.json"
bad=http://127.0.0.1:$DR_HTTP_STANDIN_PORT
echo '{"directorStatus": {"response": [{"mail server ip": "192.0.2.7", "tag": "", "vhosts": "100", "state": "up", "state changed": "0", "users": "5"}, {"mail server ip": "127.0.0.1", "tag": "", "vhosts": "100", "state": "up", "state changed": "0", "users": "3"}]}, "directorMove": {"response": []}}' >"$DR_DIR/mv.json"
echo '{"directorStatus": {"response": [{"mail server ip": "192.0.2.7", "tag": "", "vhosts": "100", "state": "up", "state changed": "0", "users": "5"}]}, "directorMove": {"response": []}}' >"$DR_DIR/mvno.json"
dr_http_standin mv --replies "$DR_DIR/mv.json"
mv=http://127.0.0.1:$DR_HTTP_STANDIN_PORT
dr_http_standin mvno --replies "$DR_DIR/mvno.json"
mvno=http://127.0.0.1:$DR_HTTP_STANDIN_PORT
# use-sourcehost: the map names backend 10.9.9.9 (map), or nothing (nomap:
# a random tagged backend of directorStatus, then directorMove)
echo '{"directorMap": {"response": [{"user": "dus1", "hash": "1234", "mail server ip": "10.9.9.9", "expire time": "0"}]}}' >"$DR_DIR/map.json"
echo '{"directorMap": {"response": [{"user": "dus2", "hash": "1234", "mail server ip": "", "expire time": ""}]}, "directorStatus": {"response": [{"mail server ip": "10.8.8.8", "tag": "", "vhosts": "100", "state": "up", "state changed": "0", "users": "1"}, {"mail server ip": "10.9.9.9", "tag": "t1", "vhosts": "100", "state": "up", "state changed": "0", "users": "1"}]}, "directorMove": {"response": []}}' >"$DR_DIR/nomap.json"
dr_http_standin map --replies "$DR_DIR/map.json"
map=http://127.0.0.1:$DR_HTTP_STANDIN_PORT
dr_http_standin nomap --replies "$DR_DIR/nomap.json"
nomap=http://127.0.0.1:$DR_HTTP_STANDIN_PORT
mlog=$DR_DIR/marks.log
# the backend's sourcehost definition: the real source, with a pre command
# that shows %{mdb:directorSourcehost}; the users' own sourcehost is dead
$DMFCTL sourcehost add 10.9.9.9 --host 127.0.0.1 --port "$SRC_IMAP_PORT" --ssl no --commands \
	"{\"sync\": {\"pre\": {\"name\": \"/bin/sh\", \"arguments\": [\"-c\", \"echo \\\"pre \$1 \$2\\\" >> $mlog\", \"sh\", \"%{mdb:uid}\", \"%{mdb:directorSourcehost}\"]}}}" >/dev/null
$DMFCTL sourcehost add dead --host 127.0.0.1 --port "$(rig_free_port)" --ssl no >/dev/null
http() { echo "http: {type: director, url: $1, username: doveadm, password: 'st-Pw-9'}"; }

dr_source DOK "$noretry" "$(http "$good")" \
	"director: {kick: {sync: true, wait: true, timeout: 3s}, flush-metacache: {sync: true}}"
dr_source DW65 "$noretry" "$(http "$bad")" "director: {kick: {sync: true, wait: true, timeout: 2s}}" \
	"failure-flags: {pre: {director-kick-user: true}}"
dr_source DW65ACC "$noretry" "$(http "$bad")" \
	"director: {kick: {sync: true, wait: true, timeout: 2s, wait-accept-codes: [65]}}" \
	"failure-flags: {pre: {director-kick-user: true}}"
dr_source DFL "$noretry" "$(http "$bad")" "director: {flush-metacache: {sync: true}}"
dr_source DFLF "$noretry" "$(http "$bad")" "director: {flush-metacache: {sync: true}}" \
	"failure-flags: {pre: {director-flush-metacache: true}}"
dr_source DMV "$noretry" "$(http "$mv")" "director: {move-user: true}"
dr_source DMVNO "$noretry" "$(http "$mvno")" "director: {move-user: true}" \
	"failure-flags: {pre: {director-move-user: true}}"
dr_source DMVC "$noretry" "http: {type: cluster, url: $mv}" "director: {move-user: true}"
dr_source DUS "$noretry" "$(http "$map")" "director: {use-sourcehost: true}"
dr_source DUST "$noretry" "http: {type: director, url: $nomap, director-tag: t1, use-only-tagged: true}" \
	"director: {use-sourcehost: true}"
dr_source DUSF "$noretry" "http: {type: director, url: $down}" "director: {use-sourcehost: true}" \
	"failure-flags: {pre: {director-use-sourcehost: true}}"
for u in dus1 dus2 dus3; do dr_user "$u" "$u-Pw" 3 5; done
for u in dmv dmvno dmvc; do dr_user "$u" "$u-Pw" 3 4; done
for u in dok dw65 dwacc dfl dflf; do dr_user "$u" "$u-Pw" 4 2; done
dr_config w1 "$noretry"
dr_worker_start w1

reqs() { # the stand-in's requests for user U: "command params" lines
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    p = r["params"] or {}
    if p.get("user") == sys.argv[2]:
        print(r["command"], json.dumps(p, sort_keys=True), r["auth"], r["path"])' "$DR_DIR/$1.requests" "$2"
}

a=$(dr_job dok dok-Pw --source DOK)
dr_wait "$a" --timeout $((60 * DR_SLOW))
is "$(dr_field "$a" 'j["status"]')" SUCCESS "kick + wait + flush: SUCCESS"
is "$(reqs good dok | tr '\n' '|')" \
	'directorKick {"user": "dok"} Basic /doveadm/v1|oboxUserWait {"timeout": 3, "user": "dok"} Basic /doveadm/v1|metacacheFlush {"user": "dok"} Basic /doveadm/v1|' \
	"  the requests, in order: directorKick, oboxUserWait (timeout 3 s), metacacheFlush"
is "$(dr_field "$a" '"|".join(steps()[:4])')" "kick user|kick user wait|director flush metacache|count local mailbox pre sync" \
	"  the details: kick, wait, flush come first"
is "$(dr_field "$a" '[step(n)["success"] for n in ("kick user", "kick user wait", "director flush metacache")]')" \
	"[true, true, true]" "  each entry successful"
is "$(dr_count "$TGT_CONF" dok)" "$(dr_count "$SRC_CONF" dok)" "  and the migration ran"

b=$(dr_job dw65 dw65-Pw --source DW65)
c=$(dr_job dwacc dwacc-Pw --source DW65ACC)
d=$(dr_job dfl dfl-Pw --source DFL)
e=$(dr_job dflf dflf-Pw --source DFLF)
dr_wait "$b" "$c" "$d" "$e" --timeout $((60 * DR_SLOW))
is "$(dr_field "$b" 'j["status"]')" FAILURE "oboxUserWait exit 65 with director-kick-user: FAILURE"
like_ "$(dr_step "$b" 'kick user wait' 's["errors"]')" "exitCode 65" "  the wait entry gives the reason"
is "$(dr_step "$b" 'kick user wait' 's["exitCode"]')" 65 "  and its exit code"
is "$(dr_step "$b" dsync 's')" None "  no migration"
like_ "$(dr_field "$b" 'j["error"]')" "director-kick-user" "  the error names the flag"
is "$(dr_field "$c" 'j["status"]')" SUCCESS "wait-accept-codes [65]: the same reply is accepted"
is "$(dr_step "$c" 'kick user wait' 's["success"]')" true "  the wait entry counts as success"
is "$(dr_field "$d" 'j["status"]')" SUCCESS "metacacheFlush exit 75 without a flag: SUCCESS"
like_ "$(dr_step "$d" 'director flush metacache' 's["errors"]')" "exitCode 75" "  the reason in the entry"
is "$(dr_field "$e" 'j["status"]')" FAILURE "metacacheFlush exit 75 with director-flush-metacache: FAILURE"
is "$(reqs bad dflf | cut -d' ' -f1 | tr '\n' ' ')" "metacacheFlush " "  one metacacheFlush request, no kick"
# move-user (spec 3.8): directorStatus, this worker (127.0.0.1 is one of
# its addresses) among the backends, directorMove of the target user
m=$(dr_job dmv dmv-Pw --source DMV)
n=$(dr_job dmvno dmvno-Pw --source DMVNO)
o=$(dr_job dmvc dmvc-Pw --source DMVC)
dr_wait "$m" "$n" "$o" --timeout $((60 * DR_SLOW))
is "$(dr_field "$m" 'j["status"]')" SUCCESS "move-user: SUCCESS"
is "$(python3 -c 'import json,sys; print("|".join(r["command"] + " " + json.dumps(r["params"], sort_keys=True) for r in map(json.loads, open(sys.argv[1]))))' "$DR_DIR/mv.requests")" \
	'directorStatus {}|directorMove {"host": "127.0.0.1", "user": "dmv"}' \
	"  directorStatus, then directorMove of the user to this worker's address"
is "$(dr_step "$m" 'move user' 's["success"]')" true "  move user entry: success"
is "$(dr_field "$n" 'j["status"]')" FAILURE "move-user, this worker not a backend, flagged: FAILURE"
like_ "$(dr_step "$n" 'move user' 's["errors"]')" "not among the director's backends" "  the reason"
is "$(cut -d'"' -f4 "$DR_DIR/mvno.requests" | tr '\n' ' ')" "directorStatus " "  no directorMove was sent"
is "$(dr_field "$o" 'j["status"]')" FAILURE "move-user with http.type cluster: FAILURE"
like_ "$(dr_field "$o" 'j["error"]')" "director.move-user" "  a configuration error naming the key"
check "  and the worker said so at start" grep -q "DMVC.director.move-user.*needs http.type director" "$DR_DIR/w1.log"
# use-sourcehost (spec 3.7)
p=$(dr_job dus1 dus1-Pw --source DUS --sourcehost dead)
q=$(dr_job dus2 dus2-Pw --source DUST --sourcehost dead)
r=$(dr_job dus3 dus3-Pw --source DUSF --sourcehost dead)
dr_wait "$p" "$q" "$r" --timeout $((60 * DR_SLOW))
is "$(dr_field "$p" 'j["status"]')" SUCCESS "use-sourcehost (mapped): SUCCESS through the backend's sourcehost"
is "$(cut -d'"' -f4 "$DR_DIR/map.requests" | tr '\n' ' ')" "directorMap " "  one directorMap, no move"
is "$(grep ' dus1 ' "$mlog")" "pre dus1 10.9.9.9" "  the backend's pre command ran, with %{mdb:directorSourcehost}"
is "$(dr_count "$TGT_CONF" dus1)" "$(dr_count "$SRC_CONF" dus1)" "  migrated from the backend's host, not the dead one"
is "$(dr_step "$p" 'use sourcehost' 's["success"]')" true "  use sourcehost entry: success"
is "$(dr_field "$q" 'j["status"]')" SUCCESS "use-sourcehost (no backend yet): SUCCESS"
is "$(python3 -c 'import json,sys; print("|".join(r["command"] + " " + json.dumps(r["params"], sort_keys=True) for r in map(json.loads, open(sys.argv[1]))))' "$DR_DIR/nomap.requests")" \
	'directorMap {"user": "dus2"}|directorStatus {}|directorMove {"host": "10.9.9.9", "user": "dus2"}' \
	"  directorMap, directorStatus, directorMove to the only backend tagged t1"
is "$(dr_field "$r" 'j["status"]')" FAILURE "director down, flagged use-sourcehost: FAILURE"
like_ "$(dr_step "$r" 'use sourcehost' 's["errors"]')" "Connection refused" "  the reason"
check "the stand-in password is in no log" dr_no_secret st-Pw-9 "$DR_DIR/w1.log" "$DR_CMDLOG"
dr_stop_check w1
echo "1..$DW_T"
