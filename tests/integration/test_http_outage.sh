#!/bin/bash
# test_http_outage.sh - the worker starts while the Migration Database is
# down: it keeps running, /health and /health/readiness answer 503 DOWN,
# and once the database is started it registers and /health turns UP; a
# later outage turns /health DOWN again (503) while the worker goes on.
# The server's keystore is one made by the JDK's keytool -genkeypair.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
. "$abs_top_srcdir/tests/integration/lib/http.sh"
dw_skip_unless_ready
command -v keytool >/dev/null || { echo "1..0 # SKIP keytool is not installed"; exit 0; }
echo "1..20"
dw_init http-outage

ks=$DW_DIR/keytool.p12
keytool -genkeypair -alias worker -keyalg RSA -keysize 2048 \
	-dname CN=localhost -ext SAN=dns:localhost,ip:127.0.0.1 \
	-storetype pkcs12 -storepass kt-pass -keystore "$ks" -validity 30 \
	>/dev/null 2>&1
keytool -exportcert -rfc -alias worker -keystore "$ks" -storepass kt-pass \
	>"$DW_DIR/kt.pem" 2>/dev/null
check "keytool made a keystore" test -s "$ks" -a -s "$DW_DIR/kt.pem"

P=$(mdb_free_port)
ht_config w1 <<EOT
micronaut:
  ssl:
    enabled: true
    port: $P
    key-store:
      path: file:$ks
      password: kt-pass
http:
  admin:
    username: admin
    password: pw
EOT
mdb_stop
dw_worker_start w1
B=https://localhost:$P
TLS=(--cacert "$DW_DIR/kt.pem")
check "with the database down the keytool keystore serves: /health 503" \
	ht_wait_code 503 15 "$B/health" "${TLS[@]}"
is "$(ht_body "$B/health" "${TLS[@]}")" '{"status":"DOWN"}' "anonymous body says DOWN"
is "$(ht_code "$B/health/readiness" "${TLS[@]}")" 503 "readiness 503 while not registered"
check "jdbc DOWN with an error in the details" bash -c \
	"curl -s --cacert '$DW_DIR/kt.pem' -u admin:pw '$B/health' | ht_jq '.details.jdbc.status == \"DOWN\" and .details.service.status == \"DOWN\"'"
sleep 2
check "the worker keeps running" kill -0 "$(dw_pid w1)"
is "$(grep -c 'Migration Database is unreachable' "$DW_DIR/w1.log")" 1 "the failure is logged once (per minute)"
mdb_launch || { echo "Bail out! mariadbd did not come back"; exit 1; }
check "the worker registers once the database answers" \
	dw_wait_sql "SELECT status FROM backends WHERE name = 'default/w1'" 1 40
check "and logs how long it waited" \
	grep -q "the Migration Database answers after [2-9][0-9]* attempt(s) in [0-9]* s: starting" "$DW_DIR/w1.log"
check "/health turns UP (200)" ht_wait_code 200 15 "$B/health" "${TLS[@]}"
mdb_stop
check "database stopped again: /health 503" ht_wait_code 503 15 "$B/health" "${TLS[@]}"
jobs_down() {
	for _ in $(seq 1 50); do
		curl -s --cacert "$DW_DIR/kt.pem" -u admin:pw "$B/health" |
			ht_jq '.details.jobs.status == "DOWN" and (.details.jobs.details.leases | length) > 0' && return 0
		sleep 0.2
	done
	return 1
}
check "the jobs indicator is DOWN while the leases cannot be renewed" jobs_down
log_soon() { # log_soon PATTERN: PATTERN in w1's log within 10 s
	for _ in $(seq 1 50); do
		grep -q "$1" "$DW_DIR/w1.log" && return 0
		sleep 0.2
	done
	return 1
}
check "a claim fails during the outage" log_soon 'cannot fetch jobs'
sleep 2 # an outage of several state refreshes and claims (checks below)
mdb_launch || { echo "Bail out! mariadbd did not come back"; exit 1; }
check "and 200 after the restart" ht_wait_code 200 20 "$B/health" "${TLS[@]}"
check "the worker kept running throughout" kill -0 "$(dw_pid w1)"
# the state is refreshed every heartbeat: the outage is one line, not
# three a second, and its end another
is "$(grep -c 'cannot refresh the worker state' "$DW_DIR/w1.log")" 1 \
	"the state refresh failure is logged once (per minute)"
check "and its end is logged" log_soon 'the worker state is refreshed again, after [0-9]* failed attempt'
# the claims back off 0.5 s doubling to 5 s: one line too
is "$(grep -c 'cannot fetch jobs' "$DW_DIR/w1.log")" 1 \
	"the fetch failure is logged once (per minute)"
check "and its end is logged" log_soon 'jobs are fetched again, after [0-9]* failed attempt'
check "no sanitizer report in the log" ht_log_clean "$DW_DIR/w1.log"
