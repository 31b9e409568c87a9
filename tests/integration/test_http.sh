#!/bin/bash
# test_http.sh - the worker's HTTP surfaces with real curl: HTTPS verified
# against worker.pem from dmf-worker-gen-certs, every endpoint anonymous,
# authenticated and with a wrong password, disabled and unknown paths,
# ip-patterns, the backends admin API steering a second worker (checked
# through dmfctl), and hostile requests the worker survives.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
. "$abs_top_srcdir/tests/integration/lib/http.sh"
dw_skip_unless_ready
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }
echo "1..57"
dw_init http

# -- dmf-worker-gen-certs --
certs=$DW_DIR/certs
out=$("$HT_GEN_CERTS" -d "$certs" -p 'ks pass' -n worker.example 2>&1)
check "gen-certs writes keystore.p12, worker.p12, worker.pem" \
	test -s "$certs/keystore.p12" -a -s "$certs/worker.p12" -a -s "$certs/worker.pem"
is "$(stat -c %a "$certs/keystore.p12")" 600 "keystore.p12 is 0600"
is "$(stat -c %a "$certs/worker.p12")" 600 "worker.p12 is 0600"
check "worker.pem has the SANs (localhost, 127.0.0.1, -n)" bash -c \
	"openssl x509 -in '$certs/worker.pem' -noout -ext subjectAltName | grep -q 'DNS:localhost.*IP Address:127.0.0.1.*DNS:worker.example'"
if command -v keytool >/dev/null; then
	check "worker.p12 is a Java trust store (trustedCertEntry)" bash -c \
		"keytool -list -keystore '$certs/worker.p12' -storepass 'ks pass' 2>&1 | grep -q trustedCertEntry"
else
	ok_ "# SKIP keytool is not installed"
fi
check "worker.pem holds no key" lacks PRIVATE "$certs/worker.pem"
"$HT_GEN_CERTS" -d "$certs" -p x >/dev/null 2>&1; rc=$?
is "$rc" 1 "gen-certs refuses to overwrite without -f"
out=$("$HT_GEN_CERTS" -d "$DW_DIR/certs2" 2>&1)
check "without -p a random password is generated and printed" bash -c \
	"pw=\$(echo '$out' | sed -n 's/^keystore password.*: //p'); [ \${#pw} -ge 16 ] && openssl pkcs12 -in '$DW_DIR/certs2/keystore.p12' -passin pass:\$pw -nokeys >/dev/null 2>&1"

# -- a bad server key is named with file and line by --check-config --
printf 'micronaut:\n  server:\n    port: 99999\n' >"$DW_DIR/badport.yml"
cat "$DW_DIR/ctl.yml" >>"$DW_DIR/badport.yml"
check "--check-config names file, line and key of a bad port" bash -c \
	"'$DW_WORKER' --check-config -c '$DW_DIR/badport.yml' 2>&1 | grep -q 'badport.yml:3:.*micronaut.server.port'"

# -- w1: HTTPS with the generated keystore --
P1=$(mdb_free_port)
ht_config w1 < <(ht_tls_yaml "$P1" "$certs/keystore.p12" "ks pass"; cat <<EOT
http:
  admin:
    username: admin
    password: "s3cret:pw"
endpoints:
  all:
    enabled: true
    sensitive: true
  health:
    sensitive: false
  info:
    sourceCodeOrigin:
      enabled: true
      location: file:$DW_DIR/origin.txt
EOT
)
echo "Source: https://example.org/dmf-worker" >"$DW_DIR/origin.txt"
dw_worker_start w1
B1=https://localhost:$P1
TLS=(--cacert "$certs/worker.pem")
AUTH=(-u 'admin:s3cret:pw')
check "HTTPS /health answers 200 verified against worker.pem" \
	ht_wait_code 200 20 "$B1/health" "${TLS[@]}"
is "$(ht_body "$B1/health" "${TLS[@]}")" '{"status":"UP"}' "anonymous /health: status only"
body=$(ht_body "$B1/health" "${TLS[@]}" "${AUTH[@]}")
check "authenticated /health: jdbc with MariaDB and its version per URL" bash -c \
	"echo '$body' | ht_jq '.details.jdbc.details[\"jdbc:mariadb://127.0.0.1:$MDB_PORT/$MDB_DB\"].details.database == \"MariaDB\"'"
check "authenticated /health: name, diskSpace threshold, service, jobs" bash -c \
	"echo '$body' | ht_jq '.name == \"worker\" and .details.diskSpace.details.threshold == 10485760 and .details.diskSpace.details.free > 0 and .details.service.status == \"UP\" and .details.jobs.status == \"UP\"'"
is "$(ht_code "$B1/health" "${TLS[@]}" -u admin:wrong)" 401 "/health with a wrong password: 401"
check "401 carries WWW-Authenticate: Basic realm" bash -c \
	"curl -s -D - -o /dev/null --cacert '$certs/worker.pem' -u admin:wrong '$B1/info' | grep -qi '^WWW-Authenticate: Basic realm='"
is "$(ht_code "$B1/health" --cacert "$DW_DIR/certs2/worker.pem")" 000 "a client trusting another certificate refuses the server"
is "$(ht_code "$B1/health/liveness" "${TLS[@]}")" 200 "/health/liveness: 200"
is "$(ht_code "$B1/health/readiness" "${TLS[@]}")" 200 "/health/readiness: 200 once registered"
is "$(ht_code "$B1/info" "${TLS[@]}")" 401 "anonymous /info (sensitive): 401"
is "$(ht_code "$B1/info" "${TLS[@]}" -u admin:nope)" 401 "/info with a wrong password: 401"
body=$(ht_body "$B1/info" "${TLS[@]}" "${AUTH[@]}")
check "/info: version, gitCommit, plugin simulator, sourceCodeOrigin" bash -c \
	"echo '$body' | ht_jq '(.date | type) == \"number\" and .version != \"\" and .gitCommit != \"\" and .plugin.name == \"simulator\" and (.plugin.abi | test(\"^1\\\\.\")) and (.sourceCodeOrigin | test(\"example.org\"))'"
is "$(ht_code "$B1/metrics" "${TLS[@]}" "${AUTH[@]}")" 200 "/metrics authenticated: 200 (test_http_metrics.sh checks it whole)"
is "$(ht_code "$B1/nope" "${TLS[@]}" "${AUTH[@]}")" 404 "unknown path: 404"
is "$(ht_code "$B1/health" "${TLS[@]}" -X DELETE)" 405 "wrong method: 405"
is "$(ht_code "$B1/health" "${TLS[@]}" -H 'Authorization: Basic %%%not-base64')" 401 "broken base64 in Authorization: 401"
is "$(ht_code "$B1/health" "${TLS[@]}" -H 'Authorization: Bearer abc')" 401 "another scheme: 401"
is "$(grep -c 'HTTP authentication failed from' "$DW_DIR/w1.log")" 1 "failed logins logged once per address per minute"
check "the failed passwords are not logged" lacks -E 'wrong|nope' "$DW_DIR/w1.log"

# -- w2: plain HTTP, ip-patterns, disabled endpoint, anonymous details --
P2=$(mdb_free_port)
ht_config w2 "jobs: { max: 3 }" <<EOT
micronaut:
  ssl:
    enabled: false
  server:
    port: $P2
    max-connections: 100
    idle-timeout: 5s
  security:
    ip-patterns:
      - 127.0.0.*
http:
  admin:
    username: admin
    password: pw2
endpoints:
  info:
    enabled: false
  health:
    details-visible: ANONYMOUS
EOT
dw_worker_start w2
B2=http://127.0.0.1:$P2
check "plain HTTP on micronaut.server.port" ht_wait_code 200 20 "$B2/health"
check "details-visible ANONYMOUS: details without credentials" bash -c \
	"curl -s '$B2/health' | ht_jq '.details.diskSpace.status == \"UP\"'"
is "$(ht_code "$B2/info" -u admin:pw2)" 404 "endpoints.info.enabled false: 404"
if curl -s -o /dev/null --max-time 3 "http://[::1]:$P2/health" 2>/dev/null ||
	[ "$(ht_code "http://[::1]:$P2/health")" != 000 ]; then
	is "$(ht_code "http://[::1]:$P2/health")" 403 "ip-patterns refuse ::1: 403"
else
	ok_ "# SKIP no IPv6 loopback"
fi
is "$(ht_code "$B2/health")" 200 "ip-patterns allow 127.0.0.1"

# -- the backends admin API on w1, steering w2 --
API=$B1/dmf/admin/api/v2/targets/default/backends
is "$(ht_code "$API" "${TLS[@]}")" 401 "admin API anonymous: 401"
body=$(ht_body "$API/default%2Fw2" "${TLS[@]}" "${AUTH[@]}")
check "GET backends/default%2Fw2: the spec's fields" bash -c \
	"echo '$body' | ht_jq '.name == \"default/w2\" and .target == \"default\" and .initialState == 1 and .maxThreads == 3 and .status == 1 and (.threads | type) == \"number\" and .command == null and (.updated | test(\"Z\$\"))'"
check "GET backends lists w1 and w2" bash -c \
	"curl -s --cacert '$certs/worker.pem' -u 'admin:s3cret:pw' '$API' | ht_jq '[.[].name] == [\"default/w1\", \"default/w2\"]'"
is "$(ht_code "$API/default%2Fnone" "${TLS[@]}" "${AUTH[@]}")" 404 "unknown backend: 404"
is "$(ht_code "${API/default\/backends/nosuch/backends}" "${TLS[@]}" "${AUTH[@]}")" 404 "unknown target: 404"
patch() { ht_code "$API" "${TLS[@]}" "${AUTH[@]}" -X PATCH -H 'Content-Type: application/json' "$@"; }
is "$(patch -d '{"name":"default/w2","command":"PAUSE"}')" 200 "PATCH command PAUSE: 200"
check "w2 obeys: dmfctl shows it paused (status 0)" \
	dw_wait_sql "SELECT status FROM backends WHERE name = 'default/w2'" 0 10
check "dmfctl backend show default/w2 says so" bash -c \
	"$DMFCTL backend show default/w2 | grep -Eiq 'status[^0-9]*0'"
is "$(patch -d '{"name":"default/w2","maxThreads":7}')" 200 "PATCH maxThreads 7: 200"
check "dmfctl backend show: maxThreads 7" bash -c \
	"$DMFCTL backend show default/w2 | grep -Eiq 'maxThreads[^0-9]*7'"
check "w2 follows maxThreads" bash -c "sleep 1.5; grep -q 'maxThreads changed from 3 to 7' '$DW_DIR/w2.log'"
is "$(patch -d '{"name":"default/w2","command":"RESUME"}')" 200 "PATCH command RESUME: 200"
check "w2 running again" dw_wait_sql "SELECT status FROM backends WHERE name = 'default/w2'" 1 10
is "$(patch -d 'not json')" 400 "PATCH body not JSON: 400"
is "$(patch -d '{"name":"default/w2","command":"EXPLODE"}')" 400 "PATCH unknown command: 400"
is "$(patch -d '{"name":"default/none","maxThreads":1}')" 404 "PATCH unknown backend: 404"
head -c 10485760 /dev/zero | tr '\0' ' ' | sed 's/^/[/; s/$/]/' >"$DW_DIR/big.json"
is "$(patch --data-binary "@$DW_DIR/big.json")" 413 "PATCH with 10 MB of JSON: 413"

# -- hostile requests on w2 (plain HTTP) --
python3 - "$P2" "$(dw_pid w2)" >"$DW_DIR/hostile.out" 2>&1 <<'EOPY'
import socket, sys, time
port = int(sys.argv[1])
def raw(data, read=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(data)
        if not read:
            return ""
        got = s.recv(200).decode("latin-1")
        return got.split("\r\n")[0]
    except Exception as e:
        return "error " + type(e).__name__
    finally:
        s.close()
print("bigheader", raw(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1048576 + b"\r\n\r\n"))
print("nul", raw(b"GET /hea\0lth HTTP/1.1\r\nHost: x\r\n\r\n"))
socks = []
for i in range(2000):
    try:
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=2))
    except Exception:
        break
print("opened", len(socks))
time.sleep(1)
print("fds", len(__import__("os").listdir("/proc/%s/fd" % sys.argv[2])) if len(sys.argv) > 2 else 0)
for s in socks:
    s.close()
EOPY
check "a 1 MB header gets a clean 4xx" grep -Eq '^bigheader (HTTP/1.1 4[0-9][0-9]|error)' "$DW_DIR/hostile.out"
# the path ends at the NUL for libmicrohttpd: an unknown path, 404
check "a request line with NUL bytes gets a clean 4xx" grep -Eq '^nul HTTP/1.1 4[0-9][0-9]' "$DW_DIR/hostile.out"
check "2,000 connections opened against the limit of 100" grep -q '^opened 2000' "$DW_DIR/hostile.out"
fds=$(sed -n 's/^fds //p' "$DW_DIR/hostile.out")
check "the connection limit holds (worker had $fds fds open)" test "${fds:-9999}" -lt 200
sleep 0.5
check "after 2,000 idle connections /health still answers" ht_wait_code 200 10 "$B2/health"
check "both workers are still running" kill -0 "$(dw_pid w1)" "$(dw_pid w2)"
check "no sanitizer report in the logs" ht_log_clean "$DW_DIR/w1.log" "$DW_DIR/w2.log"
