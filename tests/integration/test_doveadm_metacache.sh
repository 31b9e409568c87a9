#!/bin/bash
# test_doveadm_metacache.sh - metacache flush/clean after the sync (spec
# 3.5): on-success and on-failure, the legacy flush-metacache key, their
# place in the order of operations (before the post command), their
# details entries, and failure-flags flush-metacache / clean-metacache.
#
# STAND-IN: `doveadm metacache` exists only in Dovecot Pro (obox), so
# dmf.doveadm.path is the scripted stand-in lib/doveadm_standin.sh: it
# records the metacache calls and answers them (exit 0, or the exit code
# and Error line a case asks for); the sync and the counts go to the real
# doveadm.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/doveadm_rig.sh"
dr_skip_unless_ready
dr_init dvmeta

like_() {
	case "$1" in
	*"$2"*) ok_ "$3" ;;
	*) nok_ "$3"; echo "#   got: '$1'"; echo "#   expected to contain: '$2'" ;;
	esac
}
mlog=$DR_DIR/marks.log
mark() {
	echo "{name: /bin/sh, arguments: [\"-c\", \"echo \\\"\$1 \$2\\\" >> $mlog\", sh, \"$1\", \"%{mdb:uid}\"]}"
}
noretry='retry: {max: 0, code-max: {}}'
both='metacache: {flush: {on-success: true, on-failure: true}, clean: {on-success: true, on-failure: true}}'

dr_source MC "$noretry" "$both" "command: {sync: {post: $(mark post), failure: $(mark failure)}}"
dr_source LEGACY "$noretry" "flush-metacache: true"
dr_source ONFAIL "$noretry" \
	"metacache: {flush: {on-success: false, on-failure: true}, clean: {on-success: false, on-failure: true}}" \
	"command: {sync: {failure: $(mark failure)}}"
dr_source FLUSHFLAG "$noretry" "$both" "command: {sync: {post: $(mark post), failure: $(mark failure)}}" \
	"failure-flags: {pre: {flush-metacache: true}}"
dr_source CLEANFLAG "$noretry" "$both" "command: {sync: {post: $(mark post), failure: $(mark failure)}}" \
	"failure-flags: {pre: {clean-metacache: true}}"

for u in mc1 mc2 leg bad flushf cleanf; do dr_user "$u" "$u-Pw" 6 5; done
dr_standin
S=${DR_STANDIN:?}
# mc2, flushf: the flush fails; cleanf: the clean fails
echo "mc2:all flushf:all" >"$S/metacache-flush.fail"
echo "cleanf:all" >"$S/metacache-clean.fail"
echo 'doveadm(USER): Error: metacache flush: stand-in: obox PUT failed' >"$S/metacache-flush.msg"
echo 'doveadm(USER): Error: metacache clean: stand-in: obox DELETE failed' >"$S/metacache-clean.msg"
dr_config w1 "$noretry"
dr_worker_start w1

declare -A job
enq() { job[$1]=$(dr_job "$1" "${3:-$1-Pw}" --source "$2"); }
enq mc1 MC
enq mc2 MC
enq leg LEGACY
enq bad ONFAIL 'wrong-password'
enq flushf FLUSHFLAG
enq cleanf CLEANFLAG
dr_wait "${job[@]}" --timeout $((60 * DR_SLOW))
st() { dr_field "${job[$1]}" 'j["status"]'; }
mcalls() { grep -E "^metacache-(flush|clean) .* -u $1\$" "$S/calls.log" | awk '{ print $1 }' | tr '\n' ' '; }

is "$(st mc1)" SUCCESS "flush+clean on success: SUCCESS"
is "$(mcalls mc1)" "metacache-flush metacache-clean " "  doveadm metacache flush, then clean, for the user"
is "$(dr_field "${job[mc1]}" 'steps()[-3:]')" \
	'["flush user metacache", "clean user metacache", "post migration command"]' \
	"  details: flush, clean, then the post command (spec 3.15)"
is "$(dr_step "${job[mc1]}" 'flush user metacache' '[s["success"], s["exitCode"], s["command"]]')" \
	"[true, 0, \"doveadm -c $TGT_CONF metacache flush -u mc1\"]" "  details entry of the flush (spec 3.16 form)"
is "$(dr_step "${job[mc1]}" 'clean user metacache' '[s["success"], s["exitCode"], s["command"]]')" \
	"[true, 0, \"doveadm -c $TGT_CONF metacache clean -u mc1\"]" "  details entry of the clean"

is "$(st mc2)" SUCCESS "a failing flush without its flag: SUCCESS"
is "$(dr_step "${job[mc2]}" 'flush user metacache' '[s["success"], s["exitCode"]]')" '[false, 75]' \
	"  details: flush failed with 75"
like_ "$(dr_step "${job[mc2]}" 'flush user metacache' 's["errors"]')" "stand-in: obox PUT failed" \
	"  details: the flush's Error line"
is "$(grep -c '^post mc2$' "$mlog")" 1 "  the post command still ran"

is "$(st leg)" SUCCESS "legacy flush-metacache: true"
is "$(mcalls leg)" "metacache-flush " "  flushes on success and does not clean"

is "$(st bad)" FAILURE "a failed migration with on-failure flush+clean"
is "$(mcalls bad)" "metacache-flush metacache-clean " "  flush and clean ran after the failure"
is "$(grep -c '^failure bad$' "$mlog")" 1 "  and the failure command"

is "$(st flushf)" FAILURE "failing flush with failure-flags.pre.flush-metacache: FAILURE"
is "$(grep -c '^failure flushf$' "$mlog")" 1 "  the failure command ran"
is "$(grep -c '^post flushf$' "$mlog")" 0 "  the post command did not"
is "$(st cleanf)" FAILURE "failing clean with failure-flags.pre.clean-metacache: FAILURE"
is "$(dr_step "${job[cleanf]}" 'clean user metacache' '[s["success"], s["exitCode"]]')" '[false, 75]' \
	"  details: clean failed with 75"
is "$(dr_step "${job[cleanf]}" dsync 's["success"]')" true "  after a successful migration"
is "$(grep -c '^failure cleanf$' "$mlog")" 1 "  the failure command ran"
dr_stop_check w1
echo "1..$DW_T"
