#!/bin/bash
# test_http_port_taken.sh - the worker starts while another program holds
# its HTTP port: it says so in one error line, goes on with its jobs, binds
# the port again (after 1 s, doubling) and serves once the port is free;
# the retry is logged at most once a minute.  A stop during the retry
# ends the worker at once.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
. "$abs_top_srcdir/tests/integration/lib/http.sh"
dw_skip_unless_ready
echo "1..10"
dw_init http-port-taken

# hold_port PORT: a listener of another program on 127.0.0.1:PORT; its PID
# in HOLD_PID (stopped by dw_cleanup with the workers)
hold_port() {
	python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
print("listening", flush=True)
time.sleep(600)' "$1" >"$DW_DIR/hold.out" 2>&1 &
	HOLD_PID=$!
	DW_PIDS+=("$HOLD_PID")
	for _ in $(seq 1 50); do
		grep -q listening "$DW_DIR/hold.out" && return 0
		sleep 0.1
	done
	return 1
}

P=$(mdb_free_port)
check "another program listens on the worker's port" hold_port "$P"
ht_config w1 "jobs: { max: 2 }" <<EOT
micronaut:
  ssl:
    enabled: false
  server:
    port: $P
EOT
dw_worker_start w1
log=$DW_DIR/w1.log
check "one error line names the port and the retry" bash -c \
	"for _ in \$(seq 1 100); do grep -q 'cannot serve HTTP on \* port $P: .*in use.*tries again' '$log' && exit 0; sleep 0.1; done; exit 1"
# the worker goes on: it registers and runs its jobs meanwhile
check "the worker registers meanwhile" \
	dw_wait_sql "SELECT status FROM backends WHERE name = 'default/w1'" 1 30
for i in 1 2 3; do
	$DMFCTL job add --source POD_1 --uid "port$i@example.org" >/dev/null
done
check "and runs its jobs" dw_wait_sql \
	"SELECT COUNT(*) FROM jobs WHERE status = 'SUCCESS'" 3 60
kill -TERM "$HOLD_PID"
wait "$HOLD_PID" 2>/dev/null
check "once the port is free the worker serves /health (200)" \
	ht_wait_code 200 40 "http://127.0.0.1:$P/health"
check "and says after how many attempts" \
	grep -q "the HTTP server started after [0-9]* attempt(s)" "$log"
is "$(grep -c "port $P: .*in use" "$log")" 1 "the retries are not logged each time"

# a worker that stops while it is still trying stops at once
P2=$(mdb_free_port)
check "another program listens on the second worker's port" hold_port "$P2"
ht_config w2 <<EOT
micronaut:
  ssl:
    enabled: false
  server:
    port: $P2
EOT
dw_worker_start w2
for _ in $(seq 1 100); do
	grep -q "port $P2: .*tries again" "$DW_DIR/w2.log" && break
	sleep 0.1
done
kill -TERM "$(dw_pid w2)"
dw_worker_wait w2 10
is "$DW_RC" 0 "a stop while the port is retried ends the worker (exit 0)"
check "no sanitizer report in the logs" ht_log_clean "$log" "$DW_DIR/w2.log"
