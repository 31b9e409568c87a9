#!/bin/bash
# demo.sh - build dmf-worker and run its main job on a self-contained
# default: the worker runs simulated migration jobs (no database needed),
# at most jobs.max at a time, logs each outcome and stops by itself.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
[ "$(id -u)" -eq 0 ] && bash scripts/deps.sh
./autogen.sh > /tmp/dmf-autogen.log 2>&1 || { cat /tmp/dmf-autogen.log; exit 1; }
mkdir -p _build
(cd _build && [ -f Makefile ] || "$top/configure" -q 2> >(grep -v "cannot remove 'core'" >&2))
make -C _build -j"$jobs" > _build/build.log 2>&1 || { tail -40 _build/build.log; exit 1; }

work=$(mktemp -d /tmp/dmf-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/dmf-worker.yml" <<YML
dmf:
  worker:
    type: simulator
    plugin-dir: $top/_build/plugins/simulator/.libs
    identity:
      target: demo
      memberid: 1
    sources: POD_1
    state:
      type: config
      initial: STARTED
    poller:
      type: simulator
      simulator:
        max-jobs: 5
        limit: 20
    jobs:
      max: 4
    termination:
      timeout: 30s
  simulator:
    min-sleep: 200ms
    max-sleep: 1500ms
YML
echo "== dmf-worker: 20 simulated migration jobs, at most 4 at a time"
"$top/_build/core/dmf-worker" -c "$work/dmf-worker.yml"
