#!/bin/bash
# test_doveadm_http.sh - the doveadm HTTP API client (core/client/) against
# the real SOURCE Dovecot started with its doveadm HTTP listener on
# loopback (doveadm_api_key and doveadm_password set): the remote count over
# HTTP (count.remote-protocol: http, mailboxStatus with remote-http.mailbox-mask)
# and director.kick with http.type cluster (doveadm's `kick`, which
# disconnects a real IMAP session of the user).  Then every kind of HTTP
# failure (connection refused, 401, timeout, malformed JSON, a TLS
# certificate that does not verify) fails only its step, with the reason in
# the details, and fails the job only when the step's failure flag says so.
# The last three come from the stand-in server lib/http_standin.py (a
# healthy Dovecot never answers that way).  The trust stores: PKCS#12
# (keytool) against the stand-in's TLS; PEM against the real Dovecot's
# doveadm HTTP listener with TLS, trusted and not.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/doveadm_rig.sh"
dr_skip_unless_ready

API_KEY="k3y-$RANDOM-api"
API_PW="pw-$RANDOM-doveadm"
HTTP_PORT_SRC=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
RIG_SRC_EXTRA="doveadm_api_key = $API_KEY
doveadm_password = $API_PW
service doveadm {
  inet_listener http {
    address = 127.0.0.1
    port = $HTTP_PORT_SRC
  }
}"
dr_init dvhttp

like_() {
	case "$1" in
	*"$2"*) ok_ "$3" ;;
	*) nok_ "$3"; echo "#   got: '$1'"; echo "#   expected to contain: '$2'" ;;
	esac
}
noretry='retry: {max: 0, code-max: {}}'
url=http://127.0.0.1:$HTTP_PORT_SRC
down=http://127.0.0.1:$(rig_free_port)

# the stand-ins: malformed JSON, a reply slower than read-timeout, TLS
# with a self-signed certificate nobody trusts
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 \
	-keyout "$DR_DIR/st.key" -out "$DR_DIR/st.crt" >/dev/null 2>&1
dr_http_standin bad --mode malformed
bad=http://127.0.0.1:$DR_HTTP_STANDIN_PORT
dr_http_standin slow --mode slow --delay 4
slow=http://127.0.0.1:$DR_HTTP_STANDIN_PORT
printf '{"mailboxStatus": {"response": [{"mailbox": "INBOX", "messages": "7", "vsize": "700"}, {"mailbox": "Sent", "messages": "2", "vsize": "20"}]}, "kick": {"exitCode": 68}}' >"$DR_DIR/replies.json"
dr_http_standin tls --tls "$DR_DIR/st.crt" "$DR_DIR/st.key" --replies "$DR_DIR/replies.json"
tls=https://127.0.0.1:$DR_HTTP_STANDIN_PORT

remote_http='count: {remote-protocol: http, remote-http: {mailbox-mask: [INBOX, "INBOX/*", "*"]}}'
dr_source HKEY "$noretry" "$remote_http" "director: {kick: {sync: true}}" \
	"http: {type: cluster, url: $url, api-key: '$API_KEY'}"
dr_source HPW "$noretry" "$remote_http" \
	"http: {type: cluster, url: $url/doveadm/v1, username: doveadm, password: '$API_PW'}"
dr_source H401 "$noretry" "$remote_http" "director: {kick: {sync: true}}" \
	"http: {type: cluster, url: $url, password: 'wrong-$API_PW'}"
dr_source H401F "$noretry" "$remote_http" \
	"http: {type: cluster, url: $url, password: 'wrong-$API_PW'}" \
	"failure-flags: {pre: {count-remote: true}}"
dr_source HDOWN "$noretry" "director: {kick: {sync: true}}" "http: {type: cluster, url: $down}" \
	"failure-flags: {pre: {director-kick-user: true}}"
dr_source HBAD "$noretry" "$remote_http" "http: {type: cluster, url: $bad, api-key: standin-api-key}"
dr_source HSLOW "$noretry" "$remote_http" "http: {type: cluster, url: $slow, api-key: standin-api-key}"
dr_source HTLS "$noretry" "$remote_http" "director: {kick: {sync: true}}" \
	"http: {type: cluster, url: $tls, api-key: standin-api-key}"

DR_MICRONAUT_YAML=("http:" "  services:" "    doveadm:" "      read-timeout: 1s" "      connect-timeout: 1s")
for u in hkey hpw h401 h401f hdown hbad hslow htls; do
	dr_user "$u" "$u-Pw" 6 3
done

# a real IMAP session of hkey at the source, to be kicked
python3 - "$SRC_IMAP_PORT" "$DR_DIR/imap.state" <<'PY' &
import imaplib, sys, time
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("hkey", "hkey-Pw")
open(sys.argv[2], "w").write("in\n")
try:
    for _ in range(600):
        m.noop()
        time.sleep(0.1)
    open(sys.argv[2], "a").write("still in\n")
except Exception as e:
    open(sys.argv[2], "a").write("kicked\n")
PY
imap_pid=$!
for _ in $(seq 1 50); do [ -s "$DR_DIR/imap.state" ] && break; sleep 0.1; done
check "the IMAP session of hkey is logged in at the source" grep -q '^in' "$DR_DIR/imap.state"

dr_config w1 "$noretry"
dr_worker_start w1
declare -A id
for u in hkey hpw h401 h401f hdown hbad hslow htls; do
	src=$(echo "$u" | tr a-z A-Z)
	id[$u]=$(dr_job "$u" "$u-Pw" --source "$src")
done
dr_wait "${id[@]}" --timeout $((60 * DR_SLOW))

# api key: the kick (cluster: doveadm kick) ended the real IMAP session
a=${id[hkey]}
is "$(dr_field "$a" 'j["status"]')" SUCCESS "api key: SUCCESS"
is "$(dr_field "$a" 'steps()[0]')" "kick user" "  the kick is the very first step"
is "$(dr_step "$a" 'kick user' 's["success"]')" true "  kick user: success"
like_ "$(dr_step "$a" 'kick user' 's["command"]')" 'kick {"mask":["hkey"]}' "  the request it made"
wait "$imap_pid" 2>/dev/null
is "$(tail -n 1 "$DR_DIR/imap.state")" kicked "  the user's IMAP session at the source was disconnected"
src=$(dr_count "$SRC_CONF" hkey)
is "$(dr_field "$a" '"%s %s" % (j["originMessages"], j["originSize"])')" "$src" \
	"  remote count over HTTP (mailboxStatus) = the source's ($src)"
like_ "$(dr_step "$a" 'count remote mailbox' 's["command"]')" \
	'mailboxStatus {"field":["messages","vsize"],"mailboxMask":["INBOX","INBOX/*","*"],"user":"hkey"}' \
	"  count remote mailbox shows the mailboxStatus call"

# password (Basic doveadm:PW), full URL: a second user with nothing to kick
b=${id[hpw]}
is "$(dr_field "$b" 'j["status"]')" SUCCESS "password: SUCCESS"
src=$(dr_count "$SRC_CONF" hpw)
is "$(dr_field "$b" '"%s %s" % (j["originMessages"], j["originSize"])')" "$src" \
	"  remote count over HTTP with Basic auth ($src)"

# 401 without a flag: the steps fail, the job does not
c=${id[h401]}
is "$(dr_field "$c" 'j["status"]')" SUCCESS "HTTP 401, no failure flag: SUCCESS"
like_ "$(dr_step "$c" 'kick user' 's["errors"]')" "refused the credentials (HTTP 401)" "  kick user: the reason"
is "$(dr_step "$c" 'kick user' 's["success"]')" false "  kick user: success false"
like_ "$(dr_step "$c" 'count remote mailbox' 's["errors"]')" "HTTP 401" "  count remote mailbox: the reason"
is "$(dr_field "$c" 'j.get("originMessages")')" None "  no origin count stored"
is "$(dr_step "$c" dsync 's["success"]')" true "  the migration ran"
d=${id[h401f]}
is "$(dr_field "$d" 'j["status"]')" FAILURE "HTTP 401 with failure-flags.pre.count-remote: FAILURE"
like_ "$(dr_field "$d" 'j["error"]')" "count-remote" "  the error names the flag"

# connection refused, flagged kick: the job fails before the migration
e=${id[hdown]}
is "$(dr_field "$e" 'j["status"]')" FAILURE "connection refused, flagged kick: FAILURE"
like_ "$(dr_step "$e" 'kick user' 's["errors"]')" "Connection refused" "  kick user: the reason"
is "$(dr_step "$e" dsync 's')" None "  no migration after the flagged failure"

# stand-ins: malformed JSON, timeout, TLS
f=${id[hbad]}
is "$(dr_field "$f" 'j["status"]')" SUCCESS "malformed JSON: the job still succeeds"
like_ "$(dr_step "$f" 'count remote mailbox' 's["errors"]')" "malformed JSON from 127.0.0.1" "  the reason"
g=${id[hslow]}
is "$(dr_field "$g" 'j["status"]')" SUCCESS "no answer within read-timeout: SUCCESS"
like_ "$(dr_step "$g" 'count remote mailbox' 's["errors"]')" "did not answer within 2000 ms" "  the reason"
h=${id[htls]}
is "$(dr_field "$h" 'j["status"]')" SUCCESS "untrusted TLS certificate: SUCCESS"
like_ "$(dr_step "$h" 'kick user' 's["errors"]')" "certificate does not verify" "  kick user: the reason"
like_ "$(dr_step "$h" 'count remote mailbox' 's["errors"]')" "certificate does not verify" "  the reason"
is "$(cat "$DR_DIR/tls.requests" 2>/dev/null | grep -c '"command"')" 0 \
	"  no request reached the untrusted server"
is "$(grep -c '"command": "mailboxStatus"' "$DR_DIR/bad.requests")" 1 "  the malformed stand-in got its one request"

dr_stop_check w1

# a second worker that trusts the stand-in's certificate through a PKCS#12
# trust store written by keytool: the same source now works, and its calls
# (two per job, two jobs) share one TCP connection
keytool -importcert -noprompt -alias standin -file "$DR_DIR/st.crt" \
	-keystore "$DR_DIR/trust.p12" -storetype PKCS12 -storepass 'tr-Pw1' >/dev/null 2>&1
check "keytool wrote the trust store" [ -s "$DR_DIR/trust.p12" ]
DR_MICRONAUT_YAML=("http:" "  services:" "    doveadm:" "      ssl:" "        enabled: true"
	"        trust-store: {path: 'file:$DR_DIR/trust.p12', password: 'tr-Pw1', type: PKCS12}")
dr_config w2 "$noretry"
dr_worker_start w2
: >"$DR_DIR/tls.requests"
t1=$(dr_job htls htls-Pw --source HTLS)
dr_wait "$t1" --timeout $((60 * DR_SLOW))
t2=$(dr_job htls htls-Pw --source HTLS)
dr_wait "$t2" --timeout $((60 * DR_SLOW))
is "$(dr_field "$t1" 'j["status"]') $(dr_step "$t1" 'count remote mailbox' 's["success"]')" "SUCCESS true" \
	"PKCS#12 trust store: the TLS call verifies"
is "$(dr_field "$t2" '"%s %s" % (j["originMessages"], j["originSize"])')" "9 720" \
	"  origin counts summed from the mailboxStatus reply (7+2, 700+20)"
is "$(grep -c . "$DR_DIR/tls.requests")" 4 "  the stand-in recorded kick + mailboxStatus for both jobs"
is "$(python3 -c 'import json,sys; print(len({json.loads(l)["client_port"] for l in open(sys.argv[1])}))' "$DR_DIR/tls.requests")" 1 \
	"  all four calls came on one TCP connection (reused across jobs)"
is "$(python3 -c 'import json,sys; print(sorted({json.loads(l)["auth"] for l in open(sys.argv[1])}))' "$DR_DIR/tls.requests")" "['X-Dovecot-API']" \
	"  each with the X-Dovecot-API header"
dr_stop_check w2

# a PEM trust store (ssl.trust-store.type: PEM, an extension) against the
# real Dovecot's doveadm HTTP listener with TLS: the source Dovecot is
# restarted with its `inet_listener http` set to ssl = yes (doveadm serves
# HTTP only on a listener named "http"; on another name it speaks the
# doveadm protocol), with a certificate signed by a test CA.
# With the CA as the PEM trust store the remote count verifies; with
# another certificate as the trust store (a .crt name, no type: PEM too)
# the real server's certificate does not verify, which fails only the
# count step, and the job only with failure-flags.pre.count-remote.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dmf-test-ca \
	-keyout "$DR_DIR/ca.key" -out "$DR_DIR/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
	-keyout "$DR_DIR/dv.key" -out "$DR_DIR/dv.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' >"$DR_DIR/dv.ext"
openssl x509 -req -in "$DR_DIR/dv.csr" -CA "$DR_DIR/ca.pem" -CAkey "$DR_DIR/ca.key" \
	-CAcreateserial -days 2 -extfile "$DR_DIR/dv.ext" -out "$DR_DIR/dv.crt" >/dev/null 2>&1
check "openssl made a CA and a server certificate it signed" \
	openssl verify -CAfile "$DR_DIR/ca.pem" "$DR_DIR/dv.crt"
cat >>"$SRC_CONF" <<EOT
ssl = yes
ssl_cert = <$DR_DIR/dv.crt
ssl_key = <$DR_DIR/dv.key
service doveadm {
  inet_listener http {
    ssl = yes
  }
}
EOT
dovecot_source_stop
dovecot_source_start || { echo "Bail out! restart the source Dovecot with TLS"; exit 1; }
https=https://127.0.0.1:$HTTP_PORT_SRC
dr_source HPEM "$noretry" "$remote_http" "http: {type: cluster, url: $https, api-key: '$API_KEY'}"
dr_source HPEMF "$noretry" "$remote_http" "http: {type: cluster, url: $https, api-key: '$API_KEY'}" \
	"failure-flags: {pre: {count-remote: true}}"
dr_user hpem hpem-Pw 6 4
DR_MICRONAUT_YAML=("http:" "  services:" "    doveadm:" "      ssl:" "        enabled: true"
	"        trust-store: {path: '$DR_DIR/ca.pem', type: PEM}")
dr_config w3 "$noretry"
dr_worker_start w3
p1=$(dr_job hpem hpem-Pw --source HPEM)
dr_wait "$p1" --timeout $((60 * DR_SLOW))
src=$(dr_count "$SRC_CONF" hpem)
is "$(dr_field "$p1" 'j["status"]') $(dr_step "$p1" 'count remote mailbox' 's["success"]')" "SUCCESS true" \
	"PEM trust store (the CA): the real Dovecot's TLS listener verifies"
is "$(dr_field "$p1" '"%s %s" % (j["originMessages"], j["originSize"])')" "$src" \
	"  remote count over HTTPS = the source's ($src)"
like_ "$(dr_step "$p1" 'count remote mailbox' 's["command"]')" "($https)" "  over the https URL"
dr_stop_check w3
DR_MICRONAUT_YAML=("http:" "  services:" "    doveadm:" "      ssl:" "        enabled: true"
	"        trust-store: {path: 'file:$DR_DIR/st.crt'}")
dr_config w4 "$noretry"
dr_worker_start w4
p2=$(dr_job hpem hpem-Pw --source HPEM)
p3=$(dr_job hpem hpem-Pw --source HPEMF)
dr_wait "$p2" "$p3" --timeout $((60 * DR_SLOW))
is "$(dr_field "$p2" 'j["status"]')" SUCCESS "PEM trust store that does not hold the issuer: the job succeeds"
is "$(dr_step "$p2" 'count remote mailbox' 's["success"]')" false "  its count remote mailbox step fails"
like_ "$(dr_step "$p2" 'count remote mailbox' 's["errors"]')" "certificate does not verify" "  with the reason"
is "$(dr_field "$p2" 'j.get("originMessages")')" None "  no origin count stored"
is "$(dr_field "$p3" 'j["status"]')" FAILURE "  with failure-flags.pre.count-remote: FAILURE"
like_ "$(dr_field "$p3" 'j["error"]')" "count-remote" "  the error names the flag"
like_ "$(dr_step "$p3" 'count remote mailbox' 's["errors"]')" "certificate does not verify" "  and the entry the reason"
dr_stop_check w4

# secrets: the API key and password are nowhere
check "no API key or password in the worker log, details or command logs" \
	dr_no_secret "$API_KEY" "$DR_DIR/w1.log" "$DR_CMDLOG"
check "  (password)" dr_no_secret "$API_PW" "$DR_DIR/w1.log" "$DR_CMDLOG"
check "  (details)" [ -z "$(for u in "${id[@]}"; do dr_json "$u"; done | grep -F -e "$API_KEY" -e "$API_PW")" ]
check "  (the trust store password)" dr_no_secret tr-Pw1 "$DR_DIR/w2.log" "$DR_CMDLOG"
check "  (the API key over HTTPS)" dr_no_secret "$API_KEY" "$DR_DIR/w3.log" "$DR_DIR/w4.log"
echo "1..$DW_T"
