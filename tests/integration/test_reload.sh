#!/bin/bash
# test_reload.sh - SIGHUP while jobs run (command worker, simulator poller,
# no database): the per-source command, the command logging and the log
# level of the reloaded file apply to the jobs that start after it; a job
# that started before runs to its end with the settings it started with; a
# change that needs a restart is named and keeps its running value; a file
# that does not load changes nothing and names its file and line; the
# worker never stops.
set -u
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/tap.sh"
src=${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${abs_top_builddir:-$src}
worker=$bld/core/worker/dmf-worker
plugins=$bld/plugins/command/.libs
[ -e "$plugins/command.so" ] || { echo "Bail out! build plugins/command first"; exit 1; }
tmp=$(mktemp -d /tmp/dmf-test-reload.XXXXXX)
wpid=
trap '[ -n "$wpid" ] && kill -KILL "$wpid" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/logs" "$tmp/out"

# The command: sh cmd.sh TAG UID, records "TAG UID" and how long it ran.
cat > "$tmp/cmd.sh" <<'EOT'
printf '%s %s start\n' "$1" "$2" >> "$OUT_DIR/runs"
[ -e "$OUT_DIR/slow-$2" ] && sleep 3
printf '%s %s end\n' "$1" "$2" >> "$OUT_DIR/runs"
echo "output of $1 for $2"
EOT

# conf TAG LEVEL LOGGING JOBS_MAX
conf() {
	cat > "$tmp/w.yml" <<EOT
logger:
  levels:
    root: $2
dmf:
  command:
    source:
      default:
        command:
          sync:
            sync:
              name: /usr/bin/env
              arguments: ["OUT_DIR=$tmp/out", "/bin/sh", "$tmp/cmd.sh", "$1", "%{mdb:uid}"]
  worker:
    type: command
    plugin-dir: $plugins
    state:
      type: config
    poller:
      type: simulator
      simulator:
        max-jobs: 1
        max-wait-ms: 200
        limit: 0
    sources: [POD_1]
    jobs:
      max: $4
    termination:
      timeout: 10s
    command:
      logging:
        type: $3
        file:
          format: "%(user)-%(phase).log"
          location: $tmp/logs
EOT
}

conf A info off 2
"$worker" -c "$tmp/w.yml" 2> "$tmp/w.log" &
wpid=$!
wait_for() { # wait_for SECONDS COMMAND...
	local i
	for i in $(seq 1 $(($1 * 10))); do "${@:2}" && return 0; sleep 0.1; done
	return 1
}
has_runs() {
	local n
	n=$(grep -c "^$1 .* end$" "$tmp/out/runs" 2>/dev/null)
	[ "${n:-0}" -ge "$2" ]
}
wait_for 20 has_runs A 3
ok $? "jobs run with the first command (tag A)"
is "$(ls "$tmp/logs" | wc -l)" 0 "command logging is off"
unlike_files ' DEBUG ' "no debug lines at level info" "$tmp/w.log"

# a job that is running when the reload comes: its uid is made slow
next=$(($(grep -c ' end$' "$tmp/out/runs") + 2))
touch "$tmp/out/slow-sim-user-$next" "$tmp/out/slow-sim-user-$((next + 1))"
wait_for 20 grep -q "^A sim-user-$next start" "$tmp/out/runs"
ok $? "a slow job (sim-user-$next) started before the reload"

conf B debug file 5
kill -HUP "$wpid"
wait_for 20 grep -q 'SIGHUP: configuration reloaded' "$tmp/w.log"
ok $? "SIGHUP: the worker says the configuration was reloaded"
like "$(cat "$tmp/w.log")" 'SIGHUP: 1 changed setting\(s\) need a restart and keep their running value: dmf\.worker\.jobs\.max' \
	"SIGHUP: the change that needs a restart is named"
wait_for 20 has_runs B 3
ok $? "jobs that start after the reload run the new command (tag B)"
wait_for 20 grep -q "^A sim-user-$next end" "$tmp/out/runs"
ok $? "the job that ran during the reload ended with the command it started with"
is "$(grep -c "^B sim-user-$next " "$tmp/out/runs")" 0 "  and was not run again with the new one"
ok $([ "$(ls "$tmp/logs" | wc -l)" -ge 3 ] && echo 0 || echo 1) "command logs are written for the new jobs"
like "$(cat "$tmp/logs"/*.log | head -50)" 'output of B' "  holding the new command's output"
like "$(cat "$tmp/w.log")" ' DEBUG ' "the log level debug applies"
is "$(awk '/job started/ {n++; if (n > m) m = n} /job (SUCCESS|FAILURE)|aborted/ {n--} END {print m + 0}' "$tmp/w.log")" 2 \
	"jobs.max keeps its running value (2) until a restart"

# A file that does not load: nothing changes, the error names file and line.
printf 'dmf:\n  worker:\n    jobs:\n      max: [1, 2\n' > "$tmp/w.yml"
n_b=$(grep -c '^B .* end$' "$tmp/out/runs")
kill -HUP "$wpid"
wait_for 20 grep -q 'SIGHUP: .*w\.yml:[0-9]*:[0-9]*.*the running configuration is kept' "$tmp/w.log"
ok $? "a broken file: the error names file:line and the running configuration is kept"
wait_for 20 has_runs B $((n_b + 3))
ok $? "  jobs go on with the last good configuration"

# A file with a bad reloadable value: refused whole.
conf C loud off 2
kill -HUP "$wpid"
wait_for 20 grep -q 'SIGHUP: .*logger.levels.root.*the running configuration is kept' "$tmp/w.log"
ok $? "an unknown log level refuses the reload, naming the key"
sleep 1
is "$(grep -c '^C ' "$tmp/out/runs")" 0 "  and the command of that file is not used"
conf C info off 2
kill -HUP "$wpid"
wait_for 20 has_runs C 2
ok $? "a good file afterwards applies (tag C)"
ok $(kill -0 "$wpid" 2>/dev/null; echo $?) "the worker kept running through every reload"
kill -TERM "$wpid"
wait "$wpid"; rc=$?
wpid=
is "$rc" 0 "the worker stops cleanly on SIGTERM"
unlike_files 'ERROR: (Address|Undefined|Leak)Sanitizer|runtime error' "no sanitizer report" "$tmp/w.log"
done_testing
