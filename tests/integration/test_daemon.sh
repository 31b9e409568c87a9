#!/bin/bash
# test_daemon.sh - dmf-worker as a user runs it: --version, --check-config,
# --print-config, the simulator poller and worker with no database, jobs.max,
# environment overrides, SIGTERM within the termination timeout, and a
# plugin the loader refuses.
set -u
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/tap.sh"
src=${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${abs_top_builddir:-$src}
worker=$bld/core/worker/dmf-worker
plugins=$bld/plugins/simulator/.libs
tmp=$(mktemp -d /tmp/dmf-test-daemon.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

out=$("$worker" --version 2>&1)
like "$out" '^dmf-worker 1\.2\.0' "--version prints the version"
like "$out" 'plugin ABI 1\.' "--version prints the plugin ABI"

out=$("$worker" --check-config -c "$src/conf/dmf-worker.yml" 2>&1); rc=$?
is "$rc" 0 "the shipped dmf-worker.yml passes --check-config"
unlike "$out" 'warning' "the shipped dmf-worker.yml has no unknown keys"

printf 'dmf:\n  worker:\n    jobs:\n      max: [1, 2\n' > "$tmp/broken.yml"
out=$("$worker" --check-config -c "$tmp/broken.yml" 2>&1); rc=$?
is "$rc" 1 "broken YAML is refused"
like "$out" "broken.yml:[0-9]+:[0-9]+" "the error names file:line:column"

printf 'dmf:\n  worker:\n    jobs:\n      max: lots\n' > "$tmp/type.yml"
out=$("$worker" --check-config -c "$tmp/type.yml" 2>&1); rc=$?
is "$rc" 1 "a wrong type is refused"
like "$out" "type.yml:4:[0-9]+: key 'dmf.worker.jobs.max'" "the error names file:line:column and key"

# (a datasource: --check-config makes the start's checks, and the database
# poller's start needs one)
printf 'datasources:\n  default:\n    url: jdbc:mariadb://127.0.0.1/dmf\ndmf:\n  worker:\n    jobs:\n      maxx: 3\n' > "$tmp/typo.yml"
out=$("$worker" --check-config -c "$tmp/typo.yml" 2>&1); rc=$?
is "$rc" 0 "an unknown key is only a warning"
like "$out" "dmf.worker.jobs.maxx.*dmf.worker.jobs.max" "the warning names the key and the closest known one"
out=$("$worker" --check-config --strict -c "$tmp/typo.yml" 2>&1); rc=$?
is "$rc" 1 "--strict refuses an unknown key"

printf 'http:\n  admin:\n    username: admin\n    password: s3cr3t-pw\n' > "$tmp/secret.yml"
out=$(DATASOURCES_DEFAULT_PASSWORD=db-s3cr3t "$worker" --print-config -c "$tmp/secret.yml" 2>&1)
unlike "$out" 's3cr3t' "--print-config hides secrets from file and environment"
like "$out" '<hidden>' "--print-config shows <hidden>"

# The simulator poller + worker, no database.
cat > "$tmp/sim.yml" <<YML
dmf:
  worker:
    type: simulator
    plugin-dir: $plugins
    state:
      type: config
    poller:
      type: simulator
      simulator:
        max-jobs: 5
        limit: 12
    jobs:
      max: 3
    termination:
      timeout: 2000
  simulator:
    min-sleep: 100ms
    max-sleep: 200ms
micronaut:
  executors:
    worker-executor:
      type: fixed
      number-of-threads: 8
YML
# max concurrency from the log: +1 per start, -1 per end
concurrency() {
	awk '/job started/ {n++; if (n > m) m = n} /job (SUCCESS|FAILURE)|aborted/ {n--} END {print m + 0}' "$1"
}
timeout 60 "$worker" -c "$tmp/sim.yml" 2> "$tmp/sim.log"; rc=$?
is "$rc" 0 "simulator run exits 0 when its 12 jobs are done"
is "$(grep -c 'job SUCCESS' "$tmp/sim.log")" 12 "12 jobs logged SUCCESS"
is "$(concurrency "$tmp/sim.log")" 3 "at most jobs.max=3 ran at once"
like "$(cat "$tmp/sim.log")" '\[job sim-1 sim-user-1@sync\]' "log lines carry the job context"
like "$(cat "$tmp/sim.log")" '^[0-9-]{10}T[0-9:.]{12}Z INFO ' "log lines carry time and level"

DMF_WORKER_JOBS_MAX=1 DMF_WORKER_POLLER_SIMULATOR_LIMIT=3 \
	timeout 60 "$worker" -c "$tmp/sim.yml" 2> "$tmp/env.log"; rc=$?
is "$rc" 0 "run with environment overrides exits 0"
is "$(grep -c 'job SUCCESS' "$tmp/env.log")" 3 "DMF_WORKER_POLLER_SIMULATOR_LIMIT=3 wins over the file"
is "$(concurrency "$tmp/env.log")" 1 "DMF_WORKER_JOBS_MAX=1 wins over the file"

# SIGTERM: long jobs are aborted after the termination timeout.
DMF_SIMULATOR_MIN_SLEEP=20s DMF_SIMULATOR_MAX_SLEEP=30s DMF_WORKER_POLLER_SIMULATOR_LIMIT=0 \
	"$worker" -c "$tmp/sim.yml" 2> "$tmp/term.log" &
pid=$!
for _ in $(seq 50); do grep -q 'job started' "$tmp/term.log" && break; sleep 0.1; done
start=$(date +%s%N)
kill -TERM "$pid"
wait "$pid"; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
is "$rc" 0 "SIGTERM: exit status 0"
ok $([ "$ms" -ge 1800 ] && [ "$ms" -lt 5000 ] && echo 0 || echo 1) "SIGTERM: stopped after the 2 s termination timeout (${ms} ms)"
like "$(cat "$tmp/term.log")" 'termination timeout \(2000 ms\) reached: aborting 3 running job' "SIGTERM: running jobs aborted"
is "$(grep -c 'aborted after' "$tmp/term.log")" 3 "SIGTERM: each aborted job logged"

# SIGTERM with short jobs: they finish, nothing is aborted.
DMF_SIMULATOR_MIN_SLEEP=300ms DMF_SIMULATOR_MAX_SLEEP=400ms DMF_WORKER_POLLER_SIMULATOR_LIMIT=0 \
	"$worker" -c "$tmp/sim.yml" 2> "$tmp/term2.log" &
pid=$!
for _ in $(seq 50); do grep -q 'job started' "$tmp/term2.log" && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid"; rc=$?
is "$rc" 0 "SIGTERM with short jobs: exit 0"
unlike_files 'abort' "SIGTERM with short jobs: running jobs finished, none aborted" "$tmp/term2.log"
is "$(grep -c 'job started' "$tmp/term2.log")" "$(grep -c 'job SUCCESS' "$tmp/term2.log")" "SIGTERM with short jobs: every started job finished"

# systemd Type=notify: tests/integration/test_sdnotify.sh.

# A plugin the loader refuses stops the daemon with its reason.
out=$(DMF_WORKER_TYPE=nosuch timeout 20 "$worker" -c "$tmp/sim.yml" 2>&1); rc=$?
is "$rc" 1 "a missing plugin: exit 1"
like "$out" "plugin $plugins/nosuch.so refused: cannot stat" "a missing plugin: reason and file named"

done_testing
