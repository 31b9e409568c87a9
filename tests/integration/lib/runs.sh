# runs.sh - judge "one mailbox, one run" by the runs themselves, not by the
# database's records.
#
#   . "$abs_top_srcdir/tests/integration/lib/runs.sh"
#   runs_script DIR              # writes DIR/run.sh, the migration command;
#                                # its records go to DIR/runs.log
#   runs_check DIR [DESCRIPTION] # one TAP line: no two runs of a mailbox
#                                # overlapped (needs ok_/nok_ from
#                                # db_worker.sh); sets RUNS_TOTAL, RUNS_OVERLAP
#
# DIR/run.sh UID MS [EXIT]: records "start UID PID NS" under flock on
# DIR/runs.lock, sleeps MS milliseconds (in a child, so the run is a process
# tree), records "end UID PID NS" and exits EXIT (default 0).  A watcher in
# its own session (so no kill of the run's process group or of the worker
# reaches it) records "gone UID PID NS" once the run's process group is
# gone, whatever killed it, with NS the last time it saw the group alive
# (a clock read before a kill -0 that succeeded: the group surely lived
# then; the time it first saw it gone would count its polling delay as
# run time).  A run ends at the later of its "end" and "gone"; one with
# neither is still alive and counts as running until now.
#
# Point a command worker at it with
#   name: /bin/sh
#   arguments: ["DIR/run.sh", "%{mdb:uid}", "%{mdb:imapoptions}"]
# and put the run's length in milliseconds in the job's imapoptions.

RUNS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

runs_script() {
	local dir=$1
	mkdir -p "$dir"
	: >"$dir/runs.log"
	cat >"$dir/run.sh" <<EOT
#!/bin/sh
# one recorded run of mailbox \$1 lasting \$2 ms
log='$dir/runs.log'
lock='$dir/runs.lock'
rec() { flock "\$lock" sh -c 'printf "%s %s %s %s\n" "\$1" "\$2" "\$3" "\$(date +%s%N)" >>"\$4"' rec "\$1" "\$2" "\$3" "\$log"; }
rec start "\$1" \$\$
pg=\$(ps -o pgid= -p \$\$ | tr -d ' ')
setsid sh -c 'seen=0; t=\$(date +%s%N); while kill -0 "-\$1" 2>/dev/null; do seen=\$t; sleep 0.02; t=\$(date +%s%N); done
	flock "\$3" sh -c "printf \"gone %s %s %s\\\\n\" \"\\\$1\" \"\\\$2\" \"\\\$4\" >>\"\\\$3\"" x "\$2" "\$4" "\$5" "\$seen"' \\
	w "\$pg" "\$1" "\$lock" \$\$ "\$log" </dev/null >/dev/null 2>&1 &
ms=\${2:-1000}
case "\$ms" in ''|*[!0-9]*) ms=1000 ;; esac
sleep "\$(awk -v m="\$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
rec end "\$1" \$\$
exit \${3:-0}
EOT
	chmod 0755 "$dir/run.sh"
}

runs_check() {
	local dir=$1 desc=${2:-"no two runs of one mailbox overlapped"} out
	out=$(python3 "$RUNS_LIB_DIR/runs_check.py" "$dir/runs.log")
	local rc=$?
	RUNS_TOTAL=$(sed -n 's/^runs \([0-9]*\) .*/\1/p' <<<"$out")
	RUNS_OVERLAP=$(sed -n 's/^runs [0-9]* overlapping \([0-9]*\).*/\1/p' <<<"$out")
	if [ $rc -eq 0 ]; then ok_ "$desc ($out)"; else
		nok_ "$desc"
		sed 's/^/#   /' <<<"$out" | head -40
	fi
}
