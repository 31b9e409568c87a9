#!/bin/bash
# test_doveadm_shcommands.sh - a sourcehost definition's own per-phase
# commands (its `commands` JSON: {"sync": {"pre", "sync", "post",
# "failure"}, "cutover": {...}}) replace the source block's
# command.<phase>.<step> for the users of that sourcehost; what the
# sourcehost leaves out comes from the block, then the built-in default
# (docs/doveadm.md "Sourcehost commands").  Real Dovecot on both sides:
# the sourcehost's migration command syncs INBOX only (-m INBOX), which the
# target shows.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/doveadm_rig.sh"
dr_skip_unless_ready
dr_init dvshc

mlog=$DR_DIR/marks.log
# mark WHAT (YAML) / jmark WHAT (JSON): append "WHAT <uid>" to $mlog
mark() {
	echo "{name: /bin/sh, arguments: [\"-c\", \"echo \\\"\$1 \$2\\\" >> $mlog\", sh, \"$1\", \"%{mdb:uid}\"]}"
}
jmark() {
	echo "{\"name\": \"/bin/sh\", \"arguments\": [\"-c\", \"echo \\\"\$1 \$2\\\" >> $mlog\", \"sh\", \"$1\", \"%{mdb:uid}\"]}"
}
# cmark WHAT (JSON): "WHAT <uid> <container>" (%{mdb:container}, set by
# fetch-container as the job's property, ABI 1.4)
cmark() {
	echo "{\"name\": \"/bin/sh\", \"arguments\": [\"-c\", \"echo \\\"\$1 \$2 \$3\\\" >> $mlog\", \"sh\", \"$1\", \"%{mdb:uid}\", \"%{mdb:container}\"]}"
}
printf 'box-sha:x:1:1::/h::userdb_container=c-sha-42\n' >"$DR_DIR/passwd.container"
like_() {
	case "$1" in
	*"$2"*) ok_ "$3" ;;
	*) nok_ "$3"; echo "#   got: '$1'"; echo "#   expected to contain: '$2'" ;;
	esac
}
noretry='retry: {max: 0, code-max: {}}'
dr_source SHC "$noretry" \
	"command: {sync: {pre: $(mark pre-block), post: $(mark post-block), failure: $(mark failure-block)}, cutover: {pre: $(mark pre-cut-block), post: $(mark post-cut-block)}}" \
	"failure-flags: {pre: {pre-migration-command: true}}" \
	"fetch-container: true" "container-file: $DR_DIR/passwd.container"

inbox_only='{"name": "doveadm", "sub-command": {"name": "backup", "arguments": ["imapc:"], "options": [{"name": "-R"}, {"name": "-m", "value": "INBOX"}, {"name": "-u", "value": "%{mdb:uid}"}]}}'
$DMFCTL sourcehost add shA --host 127.0.0.1 --port "$SRC_IMAP_PORT" --ssl no --commands \
	"{\"sync\": {\"pre\": $(jmark pre-sh), \"sync\": $inbox_only, \"failure\": $(jmark failure-sh)},
	  \"cutover\": {\"post\": $(cmark post-cut-sh)}}" >/dev/null ||
	echo "Bail out! sourcehost add shA"
$DMFCTL sourcehost add shF --host 127.0.0.1 --port "$SRC_IMAP_PORT" --ssl no --commands \
	"{\"sync\": {\"pre\": {\"name\": \"/bin/false\"}, \"failure\": $(jmark failure-sh)}}" >/dev/null
$DMFCTL sourcehost add shBad --host 127.0.0.1 --port "$SRC_IMAP_PORT" --ssl no --commands \
	'{"sync": "doveadm backup"}' >/dev/null
$DMFCTL sourcehost add shBadCmd --host 127.0.0.1 --port "$SRC_IMAP_PORT" --ssl no --commands \
	'{"sync": {"sync": {"name": "/bin/true"}}}' >/dev/null

dr_user sha sha-Pw 30 1
dr_user shb shb-Pw 12 2
dr_user shf shf-Pw 5 3
dr_user shx shx-Pw 5 4
dr_user shy shy-Pw 5 5
dr_config w1 "$noretry"
dr_worker_start w1

a=$(dr_job sha sha-Pw --source SHC --sourcehost shA)
b=$(dr_job shb shb-Pw --source SHC)
f=$(dr_job shf shf-Pw --source SHC --sourcehost shF)
x=$(dr_job shx shx-Pw --source SHC --sourcehost shBad)
y=$(dr_job shy shy-Pw --source SHC --sourcehost shBadCmd)
dr_wait "$a" "$b" "$f" "$x" "$y" --timeout $((60 * DR_SLOW))

# sourcehost shA: its pre and sync, the block's post
is "$(dr_field "$a" 'j["status"]')" SUCCESS "shA user: SUCCESS"
is "$(grep ' sha$' "$mlog" | tr '\n' '|')" "pre-sh sha|post-block sha|" \
	"  the sourcehost's pre command replaces the block's; the block's post runs (the sourcehost has none)"
inbox_src=$(doveadm -c "$SRC_CONF" -f tab mailbox status -u sha messages INBOX | tail -n 1 | cut -f 2)
is "$(dr_boxes "$TGT_CONF" sha)" "INBOX=$inbox_src|" \
	"  the sourcehost's migration command ran: the target has INBOX only ($inbox_src)"
check "  the source has more than INBOX (so the check can fail)" \
	[ "$(dr_boxes "$SRC_CONF" sha | tr '|' '\n' | grep -c .)" -gt 1 ]
like_ "$(dr_step "$a" dsync 's["command"]')" "-m INBOX" "  dsync.command is the sourcehost's"

# a user of a sourcehost without commands: the block's
is "$(dr_field "$b" 'j["status"]')" SUCCESS "sourcehost without commands: SUCCESS"
is "$(grep ' shb$' "$mlog" | tr '\n' '|')" "pre-block shb|post-block shb|" "  the block's pre and post"
is "$(dr_count "$TGT_CONF" shb)" "$(dr_count "$SRC_CONF" shb)" "  the default migration command (everything)"

# shF: its pre fails (flagged by the block), its failure command runs
is "$(dr_field "$f" 'j["status"]')" FAILURE "shF: the sourcehost's failing pre command fails the job (block's flag)"
is "$(grep ' shf$' "$mlog" | tr '\n' '|')" "failure-sh shf|" "  the sourcehost's failure command, not the block's"
like_ "$(dr_field "$f" 'json.dumps(j["details"])')" "/bin/false" "  preMigrationCommand shows the sourcehost's command"

# malformed definitions: a configuration error naming the sourcehost
is "$(dr_field "$x" 'j["status"]')" FAILURE "commands.sync not an object: FAILURE"
like_ "$(dr_field "$x" 'j["error"]')" "commands.sync of sourcehost shBad must be an object" "  the error names it"
is "$(dr_field "$y" 'j["status"]')" FAILURE "a sourcehost migration command that is not doveadm: FAILURE"
like_ "$(dr_field "$y" 'j["error"]')" "sourcehost shBadCmd commands.sync.sync" "  the error names where it came from"

# cutover: the sourcehost's cutover post, the block's cutover pre, the
# default migration command (shA has no cutover.sync): now all folders
c=$(dr_job sha sha-Pw --source SHC --sourcehost shA --phase cutover --imapoptions box-sha)
dr_wait "$c" --timeout $((60 * DR_SLOW))
is "$(dr_field "$c" 'j["status"]')" SUCCESS "shA cutover: SUCCESS"
is "$(grep ' sha' "$mlog" | tail -n 2 | tr '\n' '|')" "pre-cut-block sha|post-cut-sh sha c-sha-42|" \
	"  the block's cutover pre, the sourcehost's cutover post (with %{mdb:container})"
is "$(dr_count "$TGT_CONF" sha)" "$(dr_count "$SRC_CONF" sha)" "  the default command migrated every folder"
dr_stop_check w1
echo "1..$DW_T"
