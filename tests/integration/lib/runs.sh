# runs.sh - judge "one mailbox, one run" by the runs themselves, not by the
# database's records.
#
#   . "$abs_top_srcdir/tests/integration/lib/runs.sh"
#   runs_script DIR              # writes DIR/run.sh, the migration command;
#                                # its records go to DIR/runs.log
#   runs_check DIR [DESCRIPTION] # one TAP line: no two runs of a mailbox
#                                # overlapped (needs ok_/nok_ from
#                                # db_worker.sh); sets RUNS_TOTAL, RUNS_OVERLAP;
#                                # with RUNS_FROZEN=FILE, runs frozen with their
#                                # worker end at the freeze (runs_check.py)
#
# DIR/run.sh UID MS [EXIT [WORK]]: once its watcher (below) is in place, records
# "start UID PID NS", sleeps MS milliseconds (in a child, so the run is a
# process tree), runs the shell command WORK when one is given (`sh -c
# WORK`, also a child), records "end UID PID NS" and exits EXIT (default 0),
# or WORK's exit status when WORK is given.  It also writes "PID PPID" to
# DIR/parents: its parent is the worker that started it (soak_explain.py
# names it).  Each record is one short write to a file opened O_APPEND, so
# records of runs side by side do not mix, and no run waits for another:
# under a lock shared by all runs, a run frozen while it held the lock (a
# SIGSTOPped worker's session) held back every other run's records until
# it was killed, and their "end" times came late and in one burst.  A watcher in
# its own session (so no kill of the run's process group or of the worker
# reaches it) records "gone UID PID NS" when the last process of the run is
# gone, whatever killed it: every process of the run holds the write end of
# a FIFO the watcher reads, so its EOF comes the moment the last one exits
# (the time is taken at the EOF).  Should a member have closed the
# FIFO, the watcher also waits until no process of the group is left but
# zombies and processes already exiting (PF_EXITING in /proc/PID/stat: a
# killed process closes its descriptors, and so the FIFO, as it exits, and
# does nothing after; counted as live, a ps that caught one during its
# exit moved "gone" 20 ms late, and the fault soak once judged a run that
# had timed out and was killed as overlapping the next run of its mailbox
# by 5.8 ms).  The check is bash alone, no fork, so it is quick under
# load.  The watcher is bash and takes the time at the EOF without a fork
# (EPOCHREALTIME): a `date` forked there can add many milliseconds under
# load to a killed run's "gone", enough for the next run of the mailbox,
# started after the worker had seen the group gone, to look overlapping
# (the fault soak once reported a 15 ms overlap that fits this).
# A run ends at its "end" (nothing of it is left but the exiting
# shell), or, when it was killed before that, at its "gone" (children that
# outlived the shell count); one with neither is still alive and counts as
# running until now (see runs_check.py).
#
# Point a command worker at it with
#   name: /bin/sh
#   arguments: ["DIR/run.sh", "%{mdb:uid}", "%{mdb:imapoptions}"]
# and put the run's length in milliseconds in the job's imapoptions.

RUNS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

runs_script() {
	local dir=$1
	mkdir -p "$dir/fifo"
	: >"$dir/runs.log"
	{
		echo '#!/bin/sh'
		echo "# one recorded run of mailbox \$1 lasting \$2 ms"
		echo "log='$dir/runs.log'"
		echo "parents='$dir/parents'"
		echo "fifo='$dir/fifo/'\$\$"
		echo "watchers='$dir/watchers'"
		cat <<'EOT'
rec() { t=$(date +%s%N); printf '%s %s %s %s\n' "$1" "$2" "$3" "$t" >>"$log"; }
pg=$(ps -o pgid= -p $$ | tr -d ' ')
rm -f "$fifo"
mkfifo "$fifo"
setsid bash -c 'g=$2
	live() { local f s
		for f in /proc/[0-9]*/stat; do
			read -r s 2>/dev/null <"$f" || continue
			s=${s##*) }; set -- $s
			[ "$3" = "$g" ] || continue
			case $1 in Z|X) continue ;; esac
			[ $(($7 & 4)) -eq 0 ] && return 0
		done
		return 1; }
	while read -r _; do :; done <"$1"; t=${EPOCHREALTIME//[.,]/}000
	while live; do sleep 0.02; t=${EPOCHREALTIME//[.,]/}000; done
	rm -f "$1"
	printf "gone %s %s %s\n" "$3" "$4" "$t" >>"$5"' \
	w "$fifo" "$pg" "$1" $$ "$log" </dev/null >/dev/null 2>&1 &
# for runs_kill_left: a run killed before it opened the FIFO leaves its
# watcher waiting for a writer forever
echo "$! $fifo" >>"$watchers"
exec 9>"$fifo"
# the run starts once the watcher holds the FIFO: a run killed before this
# point did no work and left no "start" without a "gone"
echo "$$ $PPID" >>"$parents"
rec start "$1" $$
ms=${2:-1000}
case "$ms" in ''|*[!0-9]*) ms=1000 ;; esac
sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
rc=${3:-0}
if [ -n "${4:-}" ]; then
	sh -c "$4"
	rc=$?
fi
rec end "$1" $$
exit $rc
EOT
	} >"$dir/run.sh"
	chmod 0755 "$dir/run.sh"
}

runs_check() {
	local dir=$1 desc=${2:-"no two runs of one mailbox overlapped"} out
	out=$(python3 "$RUNS_LIB_DIR/runs_check.py" ${RUNS_FROZEN:+--frozen "$RUNS_FROZEN"} "$dir/runs.log")
	local rc=$?
	RUNS_TOTAL=$(sed -n 's/^runs \([0-9]*\) .*/\1/p' <<<"$out")
	RUNS_OVERLAP=$(sed -n 's/^runs [0-9]* overlapping \([0-9]*\).*/\1/p' <<<"$out")
	if [ $rc -eq 0 ]; then ok_ "$desc ($out)"; else
		nok_ "$desc"
		sed 's/^/#   /' <<<"$out" | head -40
	fi
}

# runs_worker_config DIR MEMBERID [YAML...]: $DW_DIR/MEMBERID.yml, a
# command worker (db_worker.sh's database, target default, source POD_1)
# whose migration command is DIR/run.sh UID MS with MS from the job's
# imapoptions; extra lines go under dmf.worker, indented 4.  Heartbeat and
# lease: $DW_HEARTBEAT (300ms) and $DW_LEASE (3s).
runs_worker_config() {
	local dir=$1 id=$2
	shift 2
	{
		cat <<EOT
micronaut:
  ssl:
    enabled: false
  server:
    port: -1 # any free port: tests run side by side
datasources:
  default:
    url: jdbc:mariadb://127.0.0.1:$MDB_PORT/$MDB_DB
    username: $MDB_USER
    password: $MDB_PASSWORD
dmf:
  command:
    source:
      default:
        command:
          sync:
            sync:
              name: /bin/sh
              arguments: ["$dir/run.sh", "%{mdb:uid}", "%{mdb:imapoptions}"]
  worker:
    type: command
    plugin-dir: $abs_top_builddir/plugins/command/.libs
    command:
      logging:
        type: "off"
    identity:
      target: default
      memberid: $id
    sources: [POD_1]
    heartbeat: ${DW_HEARTBEAT:-300ms}
    lease: ${DW_LEASE:-3s}
    termination:
      timeout: 1000
EOT
		for line in "$@"; do echo "    $line"; done
	} >"$DW_DIR/$id.yml"
}

# runs_kill_left DIR: SIGKILL the process group of every run with no
# "gone" record yet (a run's pid is its group), for cleanup.
runs_kill_left() {
	local pid fifo
	for pid in $(python3 "$RUNS_LIB_DIR/runs_check.py" --alive "$1/runs.log" |
		sed -n 's/^alive [^ ]* //p'); do
		kill -KILL -- "-$pid" 2>/dev/null
	done
	# watchers still waiting (their run died before it opened the FIFO):
	# by PID, when that PID is still the watcher of that FIFO
	[ -f "$1/watchers" ] || return 0
	while read -r pid fifo; do
		tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF " $fifo " &&
			kill -KILL "$pid" 2>/dev/null
	done <"$1/watchers"
}

# runs_wait_idle DIR SECONDS: wait until no recorded run is alive.
runs_wait_idle() {
	local dir=$1 i
	for i in $(seq 1 $(($2 * 10))); do
		python3 "$RUNS_LIB_DIR/runs_check.py" --alive "$dir/runs.log" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}
