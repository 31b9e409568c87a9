#!/bin/bash
# doveadm_standin.sh - a scripted stand-in for doveadm, for what community
# Dovecot 2.3 cannot do: `metacache flush|clean` (Dovecot Pro only) and the
# obox errors that trigger the parallel-writes and storage-timeout retries
# (no obox in community Dovecot).  Everything else is handed to the real
# doveadm ($STANDIN_REAL, default /usr/bin/doveadm) unchanged, so the sync
# itself is real.
#
# Set it up with dr_standin (doveadm_rig.sh), which writes a small `doveadm`
# wrapper exporting STANDIN_DIR; use that wrapper as dmf.doveadm.path.
# In $STANDIN_DIR:
#   calls.log      one line per call: KIND then the arguments, shell-quoted
#   KIND.n         how many calls of KIND were made (KIND.USER.n: by -u USER)
#   KIND.fail      which calls of KIND fail, blank-separated: "all", N (the
#                  Nth call), USER:all, USER:N (the Nth call for -u USER)
#   KIND.exit      their exit code (default 75); KIND.USER.exit wins
#   KIND.msg       the stderr lines they print (default: a generic Error:);
#                  KIND.USER.msg wins
#   KIND.delegate  when present, a failing call still runs the real doveadm
#                  after printing its lines (and exits with KIND.exit)
# KIND is one of: sync (backup/sync), status-local, status-remote (mailbox
# status with mail=imapc: or -S), metacache-flush, metacache-clean, other.
# Messages may use USER for the -u user.
set -u
dir=${STANDIN_DIR:?STANDIN_DIR not set}
real=${STANDIN_REAL:-/usr/bin/doveadm}

# find the sub-command after the global options
user=
remote=0
cmd=
i=1
args=("$@")
while [ $i -le $# ]; do
	a=${!i}
	case "$a" in
	-c | -f | -i | -S)
		[ "$a" = -S ] && remote=1
		i=$((i + 2)); continue ;;
	-o)
		j=$((i + 1)); case "${!j:-}" in mail=imapc:*) remote=1 ;; esac
		i=$((i + 2)); continue ;;
	-D | -v) i=$((i + 1)); continue ;;
	-*) i=$((i + 1)); continue ;;
	esac
	cmd=$a
	break
done
sub=
j=$((i + 1))
[ $j -le $# ] && sub=${!j}
for ((k = 1; k <= $#; k++)); do
	case "${!k}" in
	-u) n=$((k + 1)); user=${!n:-} ;;
	-S) remote=1 ;;
	mail=imapc:*) remote=1 ;;
	esac
done

case "$cmd $sub" in
"backup "* | "sync "*) kind=sync ;;
"mailbox status")
	if [ $remote = 1 ]; then kind=status-remote; else kind=status-local; fi ;;
"metacache flush") kind=metacache-flush ;;
"metacache clean") kind=metacache-clean ;;
*) kind=other ;;
esac

# record the call (flock: jobs run in parallel)
counts=$(
	exec 9>>"$dir/.lock"
	flock 9
	c=$(cat "$dir/$kind.n" 2>/dev/null || echo 0)
	c=$((c + 1))
	echo "$c" >"$dir/$kind.n"
	u=$(cat "$dir/$kind.$user.n" 2>/dev/null || echo 0)
	u=$((u + 1))
	echo "$u" >"$dir/$kind.$user.n"
	{
		printf '%s' "$kind"
		printf ' %q' "$@"
		printf '\n'
	} >>"$dir/calls.log"
	echo "$c $u"
)
n=${counts% *}
nu=${counts#* }

fail=0
if [ -f "$dir/$kind.fail" ]; then
	for f in $(cat "$dir/$kind.fail"); do
		case "$f" in
		all | "$n" | "$user:all" | "$user:$nu") fail=1 ;;
		esac
	done
fi

if [ $fail = 1 ]; then
	code=$(cat "$dir/$kind.$user.exit" 2>/dev/null ||
		cat "$dir/$kind.exit" 2>/dev/null || echo 75)
	if [ -f "$dir/$kind.$user.msg" ]; then
		sed "s/USER/$user/g" "$dir/$kind.$user.msg" >&2
	elif [ -f "$dir/$kind.msg" ]; then
		sed "s/USER/$user/g" "$dir/$kind.msg" >&2
	else
		echo "doveadm($user): Error: stand-in: $kind failed (call $n)" >&2
	fi
	if [ -f "$dir/$kind.delegate" ]; then
		"$real" "$@"
	fi
	exit "$code"
fi

case $kind in
metacache-*)
	# Dovecot Pro only: succeed quietly
	exit 0 ;;
esac
exec "$real" "$@"
