# doveadm_rig.sh - shared setup of the doveadm worker's integration tests:
# a private MariaDB with the schema (db_worker.sh), a SOURCE Dovecot serving
# IMAP and a TARGET Dovecot (dovecot.sh), a storage key, a sourcehost for
# the source, and dmf-worker configurations of type doveadm.  Everything
# lives below one temp dir, listens on 127.0.0.1 only and is stopped by PID.
#
#   . "$abs_top_srcdir/tests/integration/lib/doveadm_rig.sh"
#   dr_skip_unless_ready          # TAP skip without root/dovecot/mariadb/plugin
#   dr_init NAME                  # MariaDB + Dovecot pair + key + sourcehost `src`
#   dr_user USER PASS [COUNT [SEED]]  # user on both sides, COUNT mails at the source
#   dr_job USER PASS [dmfctl job add options...]  # prints the job id
#   dr_config ID [YAML...]        # worker config; YAML lines go under
#                                 # dmf.doveadm.source.default (indent 8)
#   dr_worker_start ID / dw_worker_stop ID
#   dr_wait ID... [--timeout S]   # dmfctl job wait (exit status kept)
#   dr_field ID EXPR              # python expression on the job JSON `j`
#   dr_step ID NAME [EXPR]        # details entry NAME (default: the entry)
#   dr_standin                    # scripted stand-in doveadm as dmf.doveadm.path
#   dr_proxy FROM TO [MAILBOX]    # start the UID-rewriting proxy; DR_PROXY_PORT
#                                 # (DR_PROXY_HEAL=1: it stops once UID TO is expunged;
#                                 # DR_PROXY_THEN=refuse|stall|badlogin,
#                                 # DR_PROXY_THEN_FROM, DR_PROXY_THEN_COUNT:
#                                 # connections from N on fail;
#                                 # its stderr: $DR_PROXY_ERR)
#   dr_proxy_inbox USER NAME      # sourcehost NAME: a dr_proxy giving USER's last INBOX UID 2
#   dr_http_standin NAME [opts]   # stand-in doveadm HTTP API; DR_HTTP_STANDIN_PORT
#   dr_count CONF USER            # "MESSAGES VSIZE" of all mailboxes
#   dr_cleanup                    # (trap) stop everything, remove the dir
#
# Variables: DR_DIR (= DW_DIR), DMFCTL, SRC_IMAP_PORT, SRC_CONF, TGT_CONF,
# DR_KEY (storage key name), DR_CMDLOG (command log directory),
# DR_DIR/run-doveadm (the worker's runtime-dir: per-job doveadm configs;
# DR_RUNTIME_DIR puts it elsewhere, e.g. on a tmpfs as /run is).

: "${abs_top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
: "${abs_top_builddir:=$abs_top_srcdir}"
. "$abs_top_srcdir/tests/integration/lib/db_worker.sh"
. "$abs_top_srcdir/tests/integration/lib/dovecot.sh"

DR_LIB=$abs_top_srcdir/tests/integration/lib
DR_PLUGINS=${DR_PLUGINS:-$abs_top_builddir/plugins/doveadm/.libs}
DR_KEY=k1
DR_PROXY_PIDS=()
# Under ASan everything is slower: tests scale their timeouts by this.
DR_SLOW=1
case "${ASAN_OPTIONS:-}${DMF_SANITIZERS:-}" in ?*) DR_SLOW=3 ;; esac
[ -f "$abs_top_builddir/config.log" ] &&
	grep -q -- '--enable-sanitizers' "$abs_top_builddir/config.log" 2>/dev/null &&
	DR_SLOW=3

dr_skip_unless_ready() {
	if [ "$(id -u)" != 0 ] || ! command -v dovecot >/dev/null ||
		[ ! -x /usr/lib/dovecot/imap ] || [ ! -x /usr/bin/doveadm ]; then
		echo "1..0 # SKIP needs root, dovecot-core and dovecot-imapd"
		exit 0
	fi
	if ! mdb_have; then
		echo "1..0 # SKIP mariadbd is not installed"
		exit 0
	fi
	if [ -n "${DMF_SKIP_INTEGRATION:-}" ]; then
		echo "1..0 # SKIP DMF_SKIP_INTEGRATION is set"
		exit 0
	fi
	if [ ! -x "$DW_WORKER" ] || [ ! -x "$DW_CTL" ] ||
		[ ! -e "$DR_PLUGINS/doveadm.so" ]; then
		echo "Bail out! build core/worker/dmf-worker, core/dmfctl/dmfctl and plugins/doveadm/doveadm.la first"
		exit 1
	fi
}

dr_init() {
	dw_init "$1"
	trap dr_cleanup EXIT
	DR_DIR=$DW_DIR
	chmod 0755 "$DR_DIR"
	rig_init "$DR_DIR/rig" || {
		echo "Bail out! rig_init failed"
		exit 1
	}
	dovecot_source_start || { echo "Bail out! source Dovecot"; exit 1; }
	dovecot_target_start || { echo "Bail out! target Dovecot"; exit 1; }
	DR_CMDLOG=$DR_DIR/cmdlog
	mkdir -p "$DR_CMDLOG"
	chmod 0700 "$DR_CMDLOG"
	python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())' \
		>"$DR_DIR/$DR_KEY.key"
	chmod 0600 "$DR_DIR/$DR_KEY.key"
	# dmfctl needs the key to wrap passwords
	cat >>"$DR_DIR/ctl.yml" <<EOT
dmf:
  worker:
    crypto:
      storageKeys:
        $DR_KEY:
          file: $DR_DIR/$DR_KEY.key
EOT
	$DMFCTL sourcehost add src --host 127.0.0.1 --port "$SRC_IMAP_PORT" \
		--ssl no >/dev/null || {
		echo "Bail out! dmfctl sourcehost add"
		exit 1
	}
	DR_HTTP_PORT=$(rig_free_port)
}

dr_cleanup() {
	local pid
	for pid in "${DR_PROXY_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [ -n "${DW_FAILED:-}" ] && [ -n "${DR_DIR:-}" ]; then
		for f in "$DR_DIR"/rig/tgt/dovecot.log "$DR_CMDLOG"/*; do
			[ -f "$f" ] || continue
			echo "# --- tail of $f"
			tail -n 15 "$f" | sed 's/^/#   /'
		done
	fi
	[ -n "${DW_KEEP:-}" ] && RIG_KEEP=1
	rig_cleanup
	dw_cleanup
}

# dr_user USER PASS [COUNT [SEED]]: the user on both sides; COUNT mails
# generated at the source over IMAP (folders included).
dr_user() {
	rig_add_user "$1" "$2"
	if [ "${3:-0}" -gt 0 ]; then
		rig_genmail --seed "${4:-1}" fill "$1" "$2" --count "$3" >/dev/null || {
			echo "# genmail fill $1 failed"
			return 1
		}
	fi
}

# dr_job USER PASS [options...]: enqueue a job for USER at sourcehost src
# with PASS wrapped by the storage key; prints the job id.
# --source defaults to POD_1 and --sourcehost to src unless given.
dr_job() {
	local user=$1 pass=$2 a def=()
	shift 2
	case " $* " in *" --source "*) ;; *) def+=(--source POD_1) ;; esac
	case " $* " in *" --sourcehost "*) ;; *) def+=(--sourcehost src) ;; esac
	printf '%s\n' "$pass" | $DMFCTL job add "${def[@]}" --uid "$user" \
		--password-stdin --key "$DR_KEY" "$@"
}

# dr_source NAME [YAML lines under dmf.doveadm.source.NAME, indent 8]:
# another source, served by the next dr_config's worker, with its own
# block (blocks are used whole, not merged with default).
DR_SOURCES=(POD_1)
DR_BLOCKS=()
dr_source() {
	local name=$1 line
	shift
	$DMFCTL source add "$name" >/dev/null || return 1
	DR_SOURCES+=("$name")
	DR_BLOCKS+=("      $name:")
	for line in "$@"; do DR_BLOCKS+=("        $line"); done
}

# dr_config ID [YAML lines under dmf.doveadm.source.default, indent 8]
# DR_DOVEADM: dmf.doveadm.path (default /usr/bin/doveadm); DR_JOBS_MAX (2);
# DR_CONFIG_FILE: dmf.doveadm.config-file (default $TGT_CONF; empty: unset);
# DR_WORKER_YAML: more lines under dmf.worker (indent 4);
# DR_DOVEADM_YAML: more lines under dmf.doveadm (indent 4);
# DR_MICRONAUT_YAML: more lines under micronaut (indent 2).
dr_config() {
	local id=$1 line
	shift
	{
		cat <<EOT
micronaut:
  server:
    host: 127.0.0.1
    port: $DR_HTTP_PORT
  ssl:
    enabled: false
EOT
		printf '%s\n' "${DR_MICRONAUT_YAML[@]}" | sed '/^$/d; s/^/  /'
		cat <<EOT
datasources:
  default:
    url: jdbc:mariadb://127.0.0.1:$MDB_PORT/$MDB_DB
    username: $MDB_USER
    password: $MDB_PASSWORD
dmf:
  worker:
    type: doveadm
    plugin-dir: $DR_PLUGINS
    identity:
      target: default
      memberid: $id
    sources: [$(IFS=,; echo "${DR_SOURCES[*]}")]
    heartbeat: 500ms
    lease: 20s
    jobs:
      max: ${DR_JOBS_MAX:-2}
      cache:
        refresh: 300ms
    termination:
      timeout: 10000
    crypto:
      storageKeys:
        $DR_KEY:
          file: $DR_DIR/$DR_KEY.key
    command:
      logging:
        type: file
        file:
          format: "%(source)-%(user)-%(phase)-%(job).log"
          location: $DR_CMDLOG
EOT
		printf '%s\n' "${DR_WORKER_YAML[@]}" | sed '/^$/d; s/^/    /'
		cat <<EOT
  doveadm:
    path: ${DR_DOVEADM:-/usr/bin/doveadm}
    runtime-dir: ${DR_RUNTIME_DIR:-$DR_DIR/run-doveadm}
EOT
		[ "${DR_CONFIG_FILE-$TGT_CONF}" = "" ] ||
			echo "    config-file: ${DR_CONFIG_FILE-$TGT_CONF}"
		printf '%s\n' "${DR_DOVEADM_YAML[@]}" | sed '/^$/d; s/^/    /'
		cat <<EOT
    source:
      default:
EOT
		[ $# -gt 0 ] || echo "        analyze-log: true"
		for line in "$@"; do echo "        $line"; done
		for line in "${DR_BLOCKS[@]}"; do echo "$line"; done
	} >"$DR_DIR/$id.yml"
}
DR_WORKER_YAML=()
DR_DOVEADM_YAML=()
DR_MICRONAUT_YAML=()

dr_worker_start() { dw_worker_start "$@"; }

# dr_wait ID... [--timeout S]: dmfctl job wait; sets DR_WAIT_RC
dr_wait() {
	$DMFCTL job wait "$@" >/dev/null 2>&1
	DR_WAIT_RC=$?
	return $DR_WAIT_RC
}

# dr_json ID: the job as JSON (dmfctl job show)
dr_json() { $DMFCTL job show "$1"; }

# dr_field ID EXPR: evaluate a python expression over the job JSON `j`
# (details entries reachable through step(NAME)); prints the result (JSON
# for lists and maps, plain text for scalars, `None` when missing).
dr_field() {
	dr_json "$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
def step(name):
    for e in j.get("details") or []:
        if isinstance(e, dict) and name in e:
            return e[name]
    return None
def steps():
    return [k for e in j.get("details") or [] if isinstance(e, dict) for k in e]
try:
    v = eval(sys.argv[1])
except Exception as e:
    v = "ERROR: %r" % (e,)
if isinstance(v, (dict, list)):
    print(json.dumps(v, sort_keys=True, ensure_ascii=False))
elif isinstance(v, bool):
    print("true" if v else "false")
else:
    print(v)
' "$2"
}

# dr_step ID NAME [EXPR over `s`]: one details entry (or EXPR of it)
dr_step() {
	dr_field "$1" "(lambda s: ${3:-s})(step('$2'))"
}

# dr_count CONF USER: "MESSAGES VSIZE" summed over every mailbox
dr_count() { rig_count "$@"; }

# dr_boxes CONF USER: "box=messages" per non-empty mailbox, sorted, joined
# by |.  (Empty ones are left out: a parent that is only a name at the
# source, like Ünïcødé of Ünïcødé/日本語, becomes an empty mailbox at the
# target.)
dr_boxes() {
	doveadm -c "$1" -f tab mailbox status -u "$2" messages 'INBOX/*' INBOX '*' |
		awk -F '\t' 'NR > 1 && $2 != 0 { print $1 "=" $2 }' | LC_ALL=C sort | tr '\n' '|'
}

# dr_standin: write a `doveadm` wrapper around doveadm_standin.sh with its
# own control dir $DR_STANDIN and make it dmf.doveadm.path (DR_DOVEADM) of
# the next dr_config.  Do not call it in $(...).
dr_standin() {
	DR_STANDIN=$DR_DIR/standin
	mkdir -p "$DR_STANDIN"
	cat >"$DR_STANDIN/doveadm" <<EOT
#!/bin/bash
STANDIN_DIR=$DR_STANDIN exec bash $DR_LIB/doveadm_standin.sh "\$@"
EOT
	chmod 0755 "$DR_STANDIN/doveadm"
	DR_DOVEADM=$DR_STANDIN/doveadm
}

# dr_proxy FROM TO [MAILBOX]: a UID-rewriting IMAP proxy in front of the
# source (imap_uid_proxy.py); sets DR_PROXY_PORT.
dr_proxy() {
	local pf=$DR_DIR/proxy.$$.$RANDOM
	python3 "$DR_LIB/imap_uid_proxy.py" --upstream-port "$SRC_IMAP_PORT" \
		--from-uid "$1" --to-uid "$2" --mailbox "${3:-INBOX}" \
		--delay-ms "${DR_PROXY_DELAY:-0}" ${DR_PROXY_HEAL:+--heal} \
		${DR_PROXY_THEN:+--then "$DR_PROXY_THEN" --then-from "${DR_PROXY_THEN_FROM:-2}" --then-count "${DR_PROXY_THEN_COUNT:-0}"} \
		--port-file "$pf" >/dev/null 2>"$pf.err" &
	DR_PROXY_PIDS+=($!)
	for _ in $(seq 1 100); do
		[ -s "$pf" ] && break
		sleep 0.05
	done
	DR_PROXY_PORT=$(cat "$pf")
	DR_PROXY_ERR=$pf.err
}

# dr_proxy_inbox USER NAME: a sourcehost NAME behind a dr_proxy that gives
# the user's last INBOX message the UID 2 (the DR_PROXY_* settings apply)
dr_proxy_inbox() {
	local next
	next=$(doveadm -c "$SRC_CONF" -f tab mailbox status -u "$1" uidnext INBOX | tail -n 1 | awk -F "\t" "{ print \$NF }")
	dr_proxy $((next - 1)) 2 INBOX
	$DMFCTL sourcehost add "$2" --host 127.0.0.1 --port "$DR_PROXY_PORT" --ssl no >/dev/null
	echo "# $2: proxy on port $DR_PROXY_PORT rewrites INBOX UID $((next - 1)) to 2${DR_PROXY_THEN:+, then $DR_PROXY_THEN}"
}

# dr_http_standin NAME [http_standin.py options...]: start a stand-in
# doveadm HTTP API (lib/http_standin.py) logging to $DR_DIR/NAME.requests;
# sets DR_HTTP_STANDIN_PORT.
dr_http_standin() {
	local name=$1 pf
	shift
	pf=$DR_DIR/$name.port
	python3 "$DR_LIB/http_standin.py" --log "$DR_DIR/$name.requests" \
		--port-file "$pf" "$@" 2>"$DR_DIR/$name.err" &
	DR_PROXY_PIDS+=($!)
	for _ in $(seq 1 100); do
		[ -s "$pf" ] && break
		sleep 0.05
	done
	DR_HTTP_STANDIN_PORT=$(cat "$pf")
}

# dr_stop_check ID: stop worker ID with SIGTERM; TAP: it exits 0 and its
# log holds no sanitizer report (ASan/UBSan runs)
dr_stop_check() {
	dw_worker_stop "$1"
	is "$DW_RC" 0 "worker $1 stops cleanly on SIGTERM"
	is "$(grep -c -E 'Sanitizer|runtime error:' "$DR_DIR/$1.log")" 0 \
		"worker $1: no sanitizer report in its log"
}

# dr_no_secret SECRET FILES...: true when SECRET is in none of FILES
dr_no_secret() {
	local s=$1
	shift
	lacks -rF -- "$s" "$@"
}
