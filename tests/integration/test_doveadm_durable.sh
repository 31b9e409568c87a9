#!/bin/bash
# test_doveadm_durable.sh - durability: job (docs/doveadm.md, "Durable at
# the end of the job"), with the real source and target Dovecot:
#   - the default: the migration command runs with -o mail_fsync=never, and
#     the step `make target durable` (syncfs() of the user's filesystems)
#     comes right after the successful dsync and before the post count;
#   - durability: dovecot: no such setting, no such step;
#   - a filesystem the worker must not trust: the test hook
#     DMF_TEST_FS_TYPE=0x6969 makes statfs() report NFS for every path:
#     the target's mail_fsync applies, logged once per source;
#   - a failing syncfs(): the test hook DMF_TEST_SYNCFS_ERROR=EIO makes
#     every syncfs() fail with EIO after the real syncfs() ran (an
#     honest real failure needs a block device with write errors, which
#     the rig does not have): the job fails with the reason, the post
#     count does not run, the failure command does.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/doveadm_rig.sh"
dr_skip_unless_ready
dr_init dvdur

like_() {
	case "$1" in
	*"$2"*) ok_ "$3" ;;
	*) nok_ "$3"; echo "#   got: '$1'"; echo "#   expected to contain: '$2'" ;;
	esac
}
unlike_() {
	case "$1" in
	*"$2"*) nok_ "$3"; echo "#   got: '$1'"; echo "#   expected not to contain: '$2'" ;;
	*) ok_ "$3" ;;
	esac
}
mlog=$DR_DIR/marks.log
mark() {
	echo "{name: /bin/sh, arguments: [\"-c\", \"echo \\\"\$1 \$2\\\" >> $mlog\", sh, \"$1\", \"%{mdb:uid}\"]}"
}
noretry='retry: {max: 0, code-max: {}}'
cmds="command: {sync: {post: $(mark post), failure: $(mark failure)}}"

dr_source DOVE "$noretry" "durability: dovecot" "$cmds"
for u in d1 d2 dv n1 n2 f1; do dr_user "$u" "$u-Pw" 12 3; done
dr_config w1 "$noretry" "$cmds"
dr_worker_start w1

declare -A job
enq() { job[$1]=$(dr_job "$1" "$1-Pw" --source "${2:-POD_1}"); }
st() { dr_field "${job[$1]}" 'j["status"]'; }
cmd() { dr_step "${job[$1]}" dsync 's["command"]'; }

enq d1
enq dv DOVE
dr_wait "${job[d1]}" "${job[dv]}" --timeout $((60 * DR_SLOW))

# --- durability: job (the default) ---
is "$(st d1)" SUCCESS "durability: job (default): SUCCESS"
like_ "$(cmd d1)" " -o mail_fsync=never " "  the migration command runs with -o mail_fsync=never"
is "$(dr_field "${job[d1]}" 'steps()')" \
	'["count local mailbox pre sync", "dsync", "make target durable", "count local mailbox post sync", "count remote mailbox", "post migration command"]' \
	"  details: dsync, make target durable, then the post count (order)"
is "$(dr_step "${job[d1]}" 'make target durable' \
	'[s["success"], s["errors"], type(s["durationMs"]).__name__, sorted(set(f["filesystem"] for f in s["filesystems"]))]')" \
	'[true, [], "int", ["ext2/ext3/ext4"]]' "  the step: success, its duration, the filesystem"
mailpath=$(doveadm -c "$TGT_CONF" mailbox path -u d1 INBOX)
is "$(dr_step "${job[d1]}" 'make target durable' '[f["path"] for f in s["filesystems"]][0]')" \
	"$mailpath" "  it synced the user's INBOX path as doveadm mailbox path prints it"
is "$(dr_step "${job[d1]}" 'make target durable' 'sum(1 for f in s["filesystems"] if f["synced"])')" 1 \
	"  one syncfs() for the one filesystem (mail, index and control share it)"
is "$(dr_field "${job[d1]}" 'j["targetMessages"]')" "$(dr_count "$TGT_CONF" d1 | cut -d' ' -f1)" \
	"  the post count still counts the target"
is "$(grep -c '^post d1$' "$mlog")" 1 "  the post command ran"

# --- durability: dovecot ---
is "$(st dv)" SUCCESS "durability: dovecot: SUCCESS"
unlike_ "$(cmd dv)" "mail_fsync" "  the migration command sets no mail_fsync"
is "$(dr_field "${job[dv]}" '"make target durable" in steps()')" false "  and has no durable step"
is "$(grep -c 'durability: job does not apply' "$DR_DIR/w1.log")" 0 \
	"  no fallback logged on the trusted local filesystem"
dr_stop_check w1

# --- an untrusted filesystem (injected NFS f_type) ---
dr_config w2 "$noretry" "$cmds"
DMF_TEST_FS_TYPE=0x6969 dr_worker_start w2
enq n1
enq n2
dr_wait "${job[n1]}" "${job[n2]}" --timeout $((60 * DR_SLOW))
is "$(st n1)/$(st n2)" SUCCESS/SUCCESS "f_type NFS: both jobs SUCCESS"
unlike_ "$(cmd n1)$(cmd n2)" "mail_fsync" "  the target's mail_fsync applies (no -o mail_fsync)"
is "$(dr_field "${job[n1]}" '"make target durable" in steps()')" false "  no durable step"
is "$(grep -c 'WARN.*durability: job does not apply to source POD_1: .* is on nfs (f_type 0x6969), where syncfs() is not a durability guarantee; the target.s mail_fsync applies' "$DR_DIR/w2.log")" 1 \
	"  logged once for the source (two jobs)"
dr_stop_check w2

# --- a failing syncfs() (injected EIO) ---
dr_config w3 "$noretry" "$cmds"
DMF_TEST_SYNCFS_ERROR=EIO dr_worker_start w3
enq f1
dr_wait "${job[f1]}" --timeout $((60 * DR_SLOW))
is "$(st f1)" FAILURE "syncfs() fails with EIO: FAILURE"
like_ "$(dr_field "${job[f1]}" 'j["error"]')" \
	"making the target durable failed: syncfs $(doveadm -c "$TGT_CONF" mailbox path -u f1 INBOX): Input/output error" \
	"  the job's error names the call, the path and the reason"
is "$(dr_field "${job[f1]}" 'steps()')" \
	'["count local mailbox pre sync", "dsync", "make target durable", "post migration failure command"]' \
	"  details: dsync, the failed durable step, the failure command (no post count)"
is "$(dr_step "${job[f1]}" 'make target durable' '[s["success"], len(s["errors"])]')" '[false, 1]' \
	"  the step failed with its error line"
is "$(grep -c '^failure f1$' "$mlog")/$(grep -c '^post f1$' "$mlog")" 1/0 "  the failure command ran, the post command did not"
dr_stop_check w3
echo "1..$DW_T"
