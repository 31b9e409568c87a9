#!/bin/bash
# test_sdnotify.sh - the systemd notify protocol as a Type=notify unit with
# WatchdogSec= sees it, through a listener on a temporary NOTIFY_SOCKET:
# READY=1, STATUS= lines that follow the worker's state, WATCHDOG=1 at half
# of WATCHDOG_USEC from the main loop (also while draining), none when
# WATCHDOG_PID names another process, EXTEND_TIMEOUT_USEC= repeated while
# a drain runs long, and STOPPING=1.  The -Werror build notifies through
# libsystemd when configure found it, the ASan build through the daemon's
# own protocol code (scripts/test.sh), so both are checked.
set -u
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/tap.sh"
src=${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${abs_top_builddir:-$src}
worker=$bld/core/worker/dmf-worker
plugins=$bld/plugins/simulator/.libs
tmp=$(mktemp -d /tmp/dmf-test-notify.XXXXXX)
lpid=
trap '[ -n "$lpid" ] && kill "$lpid" 2>/dev/null; rm -rf "$tmp"' EXIT
if grep -q '^#define HAVE_LIBSYSTEMD 1' "$bld/dmf-build.h" 2>/dev/null; then
	diag "this build notifies through libsystemd"
else
	diag "this build notifies through its own protocol code"
fi

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
        max-jobs: 2
        limit: 0
    jobs:
      max: 2
    termination:
      timeout: 20s
  simulator:
    min-sleep: 8s
    max-sleep: 8s
YML

# listen SOCKET OUT: every datagram as "<ms since start> <message>"
listen() {
	python3 - "$1" > "$2" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
t0 = time.monotonic()
while True:
    msg = s.recv(4096).decode()
    print("%d %s" % ((time.monotonic() - t0) * 1000, msg), flush=True)
PY
	lpid=$!
	for _ in $(seq 50); do [ -S "$1" ] && break; sleep 0.1; done
}
stop_listener() {
	kill "$lpid" 2>/dev/null
	wait "$lpid" 2>/dev/null
	lpid=
}
msgs() { cut -d' ' -f2- "$1"; }

# 1. Watchdog on (WATCHDOG_USEC=600 ms: a keep-alive every 300 ms), two 8 s
# jobs, SIGTERM once they run: the drain waits for them (termination 20 s).
listen "$tmp/n1.sock" "$tmp/n1.out"
NOTIFY_SOCKET=$tmp/n1.sock WATCHDOG_USEC=600000 \
	"$worker" -c "$tmp/sim.yml" 2> "$tmp/w1.log" &
wpid=$!
for _ in $(seq 100); do [ "$(grep -c 'job started' "$tmp/w1.log")" -ge 2 ] && break; sleep 0.1; done
sleep 1
kill -TERM "$wpid"
wait "$wpid"; rc=$?
sleep 0.2
stop_listener
is "$rc" 0 "worker with the watchdog on: exit 0 after the drain"
is "$(msgs "$tmp/n1.out" | grep -c '^READY=1$')" 1 "READY=1 sent once"
is "$(msgs "$tmp/n1.out" | grep -c '^STOPPING=1$')" 1 "STOPPING=1 sent once"
like "$(msgs "$tmp/n1.out" | grep '^STATUS=' | head -3 | tr '\n' '|')" \
	'STATUS=running: [0-9] job\(s\) running, up to 2 at once' "STATUS= shows the state and the running jobs"
like "$(msgs "$tmp/n1.out" | grep '^STATUS=' | tr '\n' '|')" \
	'STATUS=stopping: waiting for 2 running job\(s\)' "STATUS= shows the drain"
ready_ms=$(grep ' READY=1$' "$tmp/n1.out" | cut -d' ' -f1)
stop_ms=$(grep ' STOPPING=1$' "$tmp/n1.out" | cut -d' ' -f1)
n_wd=$(msgs "$tmp/n1.out" | grep -c '^WATCHDOG=1$')
life=$((stop_ms - ready_ms))
diag "READY at $ready_ms ms, STOPPING at $stop_ms ms, $n_wd keep-alives"
# one every 300 ms: allow for scheduling, but it must keep pace
ok $([ "$n_wd" -ge $((life / 300 * 2 / 3)) ] && echo 0 || echo 1) \
	"WATCHDOG=1 keeps pace with half of WATCHDOG_USEC ($n_wd in $life ms)"
gap=$(awk '$2 == "WATCHDOG=1" { if (p != "" && $1 - p > m) m = $1 - p; p = $1 } END { print m + 0 }' "$tmp/n1.out")
ok $([ "$gap" -lt 600 ] && echo 0 || echo 1) "no gap between keep-alives reaches WATCHDOG_USEC (longest $gap ms)"
term_ms=$(awk '/STATUS=stopping/ { print $1; exit }' "$tmp/n1.out")
wd_drain=$(awk -v t="$term_ms" '$2 == "WATCHDOG=1" && $1 > t' "$tmp/n1.out" | wc -l)
ok $([ "$wd_drain" -ge 5 ] && echo 0 || echo 1) "keep-alives go on while draining ($wd_drain)"
ext=$(msgs "$tmp/n1.out" | grep -c '^EXTEND_TIMEOUT_USEC=15000000$')
ok $([ "$ext" -ge 2 ] && echo 0 || echo 1) "EXTEND_TIMEOUT_USEC=15000000 repeated during the long drain ($ext)"
first_ext=$(awk '$2 ~ /^EXTEND_TIMEOUT_USEC=/ { print $1; exit }' "$tmp/n1.out")
ok $([ -n "$first_ext" ] && [ "$first_ext" -ge "$term_ms" ] && [ "$first_ext" -lt "$stop_ms" ] && echo 0 || echo 1) \
	"the extension comes between the start of the drain and STOPPING=1"
is "$(grep -c 'job SUCCESS' "$tmp/w1.log")" 2 "the drained jobs finished"
like "$(cat "$tmp/w1.log")" 'systemd watchdog: a keep-alive every 300 ms' "the watchdog interval is logged"

# 2. WATCHDOG_PID of another process: the watchdog is not ours, no WATCHDOG=1.
sed -e 's/min-sleep: 8s/min-sleep: 100ms/' -e 's/max-sleep: 8s/max-sleep: 100ms/' \
	-e 's/limit: 0/limit: 6/' "$tmp/sim.yml" > "$tmp/short.yml"
listen "$tmp/n2.sock" "$tmp/n2.out"
NOTIFY_SOCKET=$tmp/n2.sock WATCHDOG_USEC=200000 WATCHDOG_PID=1 \
	timeout 60 "$worker" -c "$tmp/short.yml" 2> "$tmp/w2.log"; rc=$?
sleep 0.2
stop_listener
is "$rc" 0 "worker with another process's watchdog: exit 0"
is "$(msgs "$tmp/n2.out" | grep -c '^WATCHDOG=1$')" 0 "no WATCHDOG=1 when WATCHDOG_PID is not this process"
is "$(msgs "$tmp/n2.out" | grep -c '^READY=1$')" 1 "READY=1 still sent"

# 3. An abstract NOTIFY_SOCKET (@name) works the same.
abs="@dmf-notify-$$-$RANDOM"
python3 - "$abs" > "$tmp/n3.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1][1:])
s.settimeout(30)
try:
    while True:
        m = s.recv(4096).decode()
        print(m, flush=True)
        if m == "STOPPING=1":
            break
except socket.timeout:
    pass
PY
lpid=$!
sleep 0.5
NOTIFY_SOCKET=$abs timeout 60 "$worker" -c "$tmp/short.yml" 2> "$tmp/w3.log"
wait "$lpid"
lpid=
is "$(grep -v '^STATUS=' "$tmp/n3.out" | tr '\n' ' ')" "READY=1 STOPPING=1 " "abstract NOTIFY_SOCKET: READY=1 then STOPPING=1"
unlike_files 'ERROR: (Address|Undefined)Sanitizer|runtime error' "no sanitizer report" "$tmp/w1.log" "$tmp/w2.log" "$tmp/w3.log"
done_testing
