#!/bin/bash
# test_secrets_env.sh - every secret of the configuration given by
# environment variable (the spec's documented way) reaches neither the
# commands the worker runs (/proc/PID/environ and cmdline of the command
# and of its child) nor anything the worker shows: the log at debug level,
# --print-config, the job's details and the command logs (issue 10).
# The command prints its whole environment and a line holding the secrets
# it might have seen, so that any leak would show in those places.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
dw_skip_unless_ready
CW_PLUGINS=$abs_top_builddir/plugins/command/.libs
dw_need_command_plugin
echo "1..18"
dw_init secenv
OUT=$DW_DIR/out
LOGS=$DW_DIR/cmdlogs
mkdir -p "$OUT" "$LOGS"
openssl rand -hex 32 >"$DW_DIR/k1.key"

# the secrets, each given by environment variable only
HTTP_PW=HttpAdm1nPw
K1_SECRET=K1StoreSecret9
SSL_PW=SslKsPw55x
MASTER_PW=MasterPw77x
INJ_TOKEN=InjTok88x
SECRETS=("$MDB_PASSWORD" "$HTTP_PW" "$K1_SECRET" "$SSL_PW" "$MASTER_PW" "$INJ_TOKEN")
# secret_env COMMAND...: exec COMMAND with the secrets in its environment
# (in a subshell or in the background, so that $! is COMMAND's own PID)
secret_env() {
	exec env DATASOURCES_DEFAULT_PASSWORD="$MDB_PASSWORD" \
		DATASOURCES_DEFAULT_URL="jdbc:mariadb://127.0.0.1:$MDB_PORT/$MDB_DB?user=$MDB_USER&password=$MDB_PASSWORD" \
		HTTP_ADMIN_PASSWORD="$HTTP_PW" \
		DMF_WORKER_CRYPTO_STORAGEKEYS_K1_SECRET="$K1_SECRET" \
		MICRONAUT_SSL_KEY_STORE_PASSWORD="$SSL_PW" \
		DMF_COMMAND_SOURCE_DEFAULT_IMAPC_MASTER_PASSWORD="$MASTER_PW" \
		DMF_COMMAND_SOURCE_DEFAULT_COMMAND_INJECT_TOKEN="$INJ_TOKEN" \
		LOGGER_LEVELS_ROOT=DEBUG \
		"$@"
}
# leaks FILE...: the secrets found in the files (none: empty)
leaks() {
	local s found=
	for s in "${SECRETS[@]}"; do
		if cat "$@" 2>/dev/null | tr '\0' '\n' | grep -qF -- "$s"; then
			found="$found $s"
		fi
	done
	echo "${found# }"
}

# The command: records its own and its child's environ and cmdline, then
# prints its environment (stdout) and a line naming the secrets (stderr),
# as a careless script would.
cat >"$DW_DIR/cmd.sh" <<EOT
out='$OUT'
cat /proc/\$\$/environ >"\$out/\$1.environ"
cat /proc/\$\$/cmdline >"\$out/\$1.cmdline"
sleep 1 & c=\$!
cat /proc/\$c/environ >"\$out/\$1.child.environ"
cat /proc/\$c/cmdline >"\$out/\$1.child.cmdline"
kill \$c
env
echo "leaked? db=$MDB_PASSWORD token=$INJ_TOKEN master=$MASTER_PW http=$HTTP_PW" >&2
echo "url jdbc:mariadb://h/db?password=$MDB_PASSWORD"
exit 0
EOT

cat >"$DW_DIR/w1.yml" <<EOT
micronaut:
  ssl:
    enabled: false
  server:
    port: -1 # any free port: tests run side by side
datasources:
  default:
    username: $MDB_USER
dmf:
  command:
    source:
      default:
        command:
          sync:
            sync:
              name: /bin/sh
              arguments: ["$DW_DIR/cmd.sh", "%{mdb:uid}"]
  worker:
    type: command
    plugin-dir: $CW_PLUGINS
    command:
      logging:
        type: file
        file:
          format: "%(source)-%(user)-%(job).log"
          location: $LOGS
          delete-on-success: false
    crypto:
      storageKeys:
        k1:
          file: $DW_DIR/k1.key
    identity:
      target: default
      memberid: w1
    sources: [POD_1]
    heartbeat: 300ms
    lease: 3s
    jobs: { max: 2, cache: { refresh: 300ms } }
    termination:
      timeout: 1000
EOT

(secret_env "$DW_WORKER" -c "$DW_DIR/w1.yml" --print-config) >"$DW_DIR/print.yml" 2>&1
check "--print-config runs" grep -q 'memberid: w1' "$DW_DIR/print.yml"
is "$(leaks "$DW_DIR/print.yml")" "" "--print-config shows none of the secrets"
check "--print-config shows the URL's password as <hidden>" \
	grep -q 'password=<hidden>' "$DW_DIR/print.yml"

j1=$($DMFCTL job add --source POD_1 --uid envdump1)
j2=$($DMFCTL job add --source POD_1 --uid envdump2)
secret_env "$DW_WORKER" -c "$DW_DIR/w1.yml" >>"$DW_DIR/w1.log" 2>&1 &
DW_PID_w1=$!
DW_PIDS+=($!)
check "both jobs end SUCCESS" \
	dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE status = 'SUCCESS'" 2 30
dw_worker_stop w1
is "$(kill -0 "$DW_PID_w1" 2>/dev/null && echo running || echo gone)" gone \
	"the worker stopped (the PID the test holds is the worker's own)"

check "the commands recorded their environment" \
	grep -qa 'PATH=' "$OUT/envdump1.environ" "$OUT/envdump2.environ"
is "$(leaks "$OUT"/*.environ)" "" "no secret in any command's /proc/PID/environ"
is "$(leaks "$OUT"/*.child.environ)" "" "no secret in their children's environ"
is "$(leaks "$OUT"/*.cmdline)" "" "no secret in any command's or child's cmdline"
is "$(tr '\0' '\n' <"$OUT/envdump1.environ" | grep -c '^DATASOURCES_\|^HTTP_ADMIN\|^DMF_WORKER_CRYPTO\|^MICRONAUT_\|^LOGGER_')" 0 \
	"no configuration variable at all in a command's environment"
check "the log is at debug level" grep -q 'DEBUG.*running' "$DW_DIR/w1.log"
is "$(leaks "$DW_DIR/w1.log")" "" "no secret in the worker log (debug)"
$DMFCTL job show "$j1" >"$DW_DIR/j1.json"
$DMFCTL job show "$j2" >"$DW_DIR/j2.json"
check "job show has the command's output in its details" \
	grep -q 'leaked?' "$DW_DIR/j1.json"
check "the output line in the details has every secret <hidden>" \
	grep -q 'leaked? db=<hidden> token=<hidden> master=<hidden> http=<hidden>' "$DW_DIR/j1.json"
is "$(leaks "$DW_DIR/j1.json" "$DW_DIR/j2.json")" "" "no secret in the jobs' details"
is "$(find "$LOGS" -type f | wc -l)" 2 "two command logs"
is "$(leaks "$LOGS"/*)" "" "no secret in the command logs"
check "the command logs show the output, secrets <hidden>" \
	grep -q 'password=<hidden>' "$LOGS"/*
exit ${DW_FAILED:-0}
