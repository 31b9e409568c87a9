#!/bin/bash
# startup.sh [BUILDDIR] - the daemon's time from exec to its first job, and
# its resident memory when idle (paused) and when running 100 simulated
# jobs at once.  Prints figures; asserts nothing.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bld=${1:-$top/_build}
worker=$bld/core/worker/dmf-worker
tmp=$(mktemp -d /tmp/dmf-bench-startup.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
write_conf() { # initial limit max min-sleep max-sleep
	cat > "$tmp/b.yml" <<YML
dmf:
  worker:
    type: simulator
    plugin-dir: $bld/plugins/simulator/.libs
    state: {type: config, initial: $1}
    poller: {type: simulator, simulator: {max-jobs: 1000, limit: $2}}
    jobs: {max: $3}
    termination: {timeout: 1s}
  simulator: {min-sleep: $4, max-sleep: $5}
micronaut:
  executors:
    worker-executor: {type: cached}
YML
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# exec -> first "job started", 20 runs
write_conf STARTED 1 1 0 0
total=0 best=999999
for i in $(seq 20); do
	t0=$(date +%s%N)
	"$worker" -c "$tmp/b.yml" 2> "$tmp/run.log"
	t1=$(date -d "$(grep -m1 'job started' "$tmp/run.log" | awk '{print $1}')" +%s%N)
	us=$(( (t1 - t0) / 1000 ))
	total=$((total + us)); [ $us -lt $best ] && best=$us
done
echo "start to first job: mean $((total / 20 / 1000)).$(( (total / 20) % 1000 / 100 )) ms, best $((best / 1000)).$((best % 1000 / 100)) ms (20 runs)"
t0=$(date +%s%N); for i in $(seq 20); do /bin/true; done; t1=$(date +%s%N)
echo "  for scale: exec of /bin/true: $(( (t1 - t0) / 20 / 1000 )) us"

# idle RSS (paused)
write_conf STOPPED 0 10 0 0
"$worker" -c "$tmp/b.yml" 2> "$tmp/idle.log" &
pid=$!; sleep 1
echo "idle RSS (paused, 10 slots): $(rss_kb $pid) kB"
kill -TERM $pid; wait $pid || true

# RSS with 100 jobs sleeping at once
write_conf STARTED 0 100 5s 5s
"$worker" -c "$tmp/b.yml" 2> "$tmp/busy.log" &
pid=$!; sleep 2
echo "RSS with 100 simulated jobs running: $(rss_kb $pid) kB ($(grep -c 'job started' "$tmp/busy.log") started)"
kill -TERM $pid; wait $pid || true
