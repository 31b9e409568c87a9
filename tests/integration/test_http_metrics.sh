#!/bin/bash
# test_http_metrics.sh - /metrics, /metrics/{name} and /prometheus of a
# running command worker, with real curl while jobs run (some succeed, some
# fail): authentication, content type, `promtool check metrics` on scrapes
# taken mid-run, Micronaut's JSON shapes, 404 for an unknown name, the tag
# filter and 400 for a malformed tag, and every metric the shipped Grafana
# dashboard queries present on the live /prometheus.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/db_worker.sh"
. "$abs_top_srcdir/tests/integration/lib/http.sh"
dw_skip_unless_ready
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }
command -v promtool >/dev/null || { echo "1..0 # SKIP promtool (Debian package prometheus) is not installed"; exit 0; }
dw_need_command_plugin
echo "1..18"
dw_init httpmetrics

# job.sh UID OPT: OPT is "<ms>" (success) or "fail-<ms>" (exit 3)
cat >"$DW_DIR/job.sh" <<'EOT'
case "$2" in
fail-*) sleep "$(awk -v m="${2#fail-}" 'BEGIN { printf "%.3f", m / 1000 }')"; echo "failing $1" >&2; exit 3 ;;
*) sleep "$(awk -v m="$2" 'BEGIN { printf "%.3f", m / 1000 }')"; echo "done $1" ;;
esac
EOT
P=$(mdb_free_port)
B=http://127.0.0.1:$P
AUTH=(-u "admin:m3trics-pw")
cat >"$DW_DIR/m1.yml" <<EOT
micronaut:
  ssl:
    enabled: false
  server:
    port: $P
    host: 127.0.0.1
  security:
    enabled: true
http:
  admin:
    username: admin
    password: m3trics-pw
datasources:
  default:
    url: jdbc:mariadb://127.0.0.1:$MDB_PORT/$MDB_DB
    username: $MDB_USER
    password: $MDB_PASSWORD
dmf:
  command:
    source:
      default:
        command:
          sync:
            sync:
              name: /bin/sh
              arguments: ["$DW_DIR/job.sh", "%{mdb:uid}", "%{mdb:imapoptions}"]
  worker:
    type: command
    plugin-dir: $abs_top_builddir/plugins/command/.libs
    command:
      logging:
        type: "off"
    identity:
      target: default
      memberid: m1
    sources: [POD_1]
    heartbeat: 300ms
    lease: 3s
    jobs: { max: 8, cache: { refresh: 300ms } }
    termination:
      timeout: 2000
EOT
# 80 jobs of 150-600 ms, every 5th failing
mdb_sql "INSERT INTO jobs (target, source, uid, phase, imapoptions)
	SELECT 'default', 'POD_1', CONCAT('m', seq), 'sync',
	IF(seq % 5 = 0, CONCAT('fail-', 150 + seq % 4 * 100), 150 + seq % 4 * 150)
	FROM seq_1_to_80"
dw_worker_start m1
check "the worker serves HTTP" ht_wait_code 401 20 "$B/prometheus"

is "$(ht_code "$B/prometheus")" 401 "/prometheus without credentials: 401 (sensitive by default)"
is "$(ht_code "$B/metrics")" 401 "/metrics without credentials: 401"
ctype=$(curl -s -o /dev/null -w '%{content_type}' "${AUTH[@]}" "$B/prometheus")
is "$ctype" "text/plain; version=0.0.4; charset=utf-8" "/prometheus content type"

# scrapes while the jobs run
running_seen=0
for i in 1 2 3 4 5; do
	ht_body "$B/prometheus" "${AUTH[@]}" >"$DW_DIR/scrape$i.txt"
	r=$(awk '$1 == "dmf_jobs_running" { print $2 }' "$DW_DIR/scrape$i.txt")
	[ "${r%.*}" -gt 0 ] 2>/dev/null && running_seen=$((running_seen + 1))
	sleep 0.4
done
check "dmf_jobs_running > 0 in scrapes taken while jobs run ($running_seen of 5)" [ "$running_seen" -ge 1 ]
lint_ok=0
for i in 1 2 3 4 5; do
	promtool check metrics <"$DW_DIR/scrape$i.txt" >"$DW_DIR/lint$i.txt" 2>&1
	rc=$?
	# exit 3 is lint only; the one remark allowed is the spec's name
	# system_cpu_count (Micrometer's, kept for existing dashboards)
	rest=$(grep -v '^system_cpu_count non-histogram and non-summary metrics should not have "_count" suffix$' "$DW_DIR/lint$i.txt")
	if { [ $rc = 0 ] || [ $rc = 3 ]; } && [ -z "$rest" ]; then
		lint_ok=$((lint_ok + 1))
	else
		echo "# promtool exit $rc on scrape $i:"
		sed 's/^/#   /' "$DW_DIR/lint$i.txt" | head -10
	fi
done
is "$lint_ok" 5 "promtool check metrics passes on every scrape taken mid-run"

check "all 80 jobs ended" dw_wait_sql "SELECT COUNT(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')" 0 60
ht_body "$B/prometheus" "${AUTH[@]}" >"$DW_DIR/final.txt"
check "64 jobs counted succeeded" grep -qE '^dmf_jobs_succeeded_total\{source="POD_1",phase="sync"\} 64$' "$DW_DIR/final.txt"
check "16 jobs counted failed, class job" grep -qE '^dmf_jobs_failed_total\{source="POD_1",phase="sync",class="job"\} 16$' "$DW_DIR/final.txt"
check "no per-user label (no uid m1..m80 in any label)" lacks -E '"m[0-9]+"' "$DW_DIR/final.txt"

# /metrics JSON
names=$(ht_body "$B/metrics" "${AUTH[@]}")
check "/metrics lists names, sorted" python3 -c "
import json, sys
n = json.loads(sys.argv[1])['names']
assert n == sorted(n) and len(n) > 20, n
for want in ('process.uptime', 'hikaricp.connections.active', 'dmf.jobs.claimed', 'executor.active', 'system.cpu.count'):
    assert want in n, want" "$names"
up=$(ht_body "$B/metrics/process.uptime" "${AUTH[@]}")
check "/metrics/process.uptime: name and a VALUE measurement" python3 -c "
import json, sys
d = json.loads(sys.argv[1])
assert d['name'] == 'process.uptime' and d['measurements'][0]['statistic'] == 'VALUE' and d['measurements'][0]['value'] > 0, d" "$up"
is "$(ht_code "$B/metrics/no.such.metric" "${AUTH[@]}")" 404 "/metrics/{unknown}: 404"
is "$(ht_code "$B/metrics/dmf.jobs.claimed?tag=phase" "${AUTH[@]}")" 400 "a malformed tag: 400"
check "  with Micronaut's message" bash -c "curl -s -u 'admin:m3trics-pw' '$B/metrics/dmf.jobs.claimed?tag=phase' | grep -q 'Tags must be in the form key:value'"
f=$(ht_body "$B/metrics/dmf.jobs.failed?tag=class:job" "${AUTH[@]}")
check "the tag filter: class:job counts 16 and class leaves availableTags" python3 -c "
import json, sys
d = json.loads(sys.argv[1])
m = {x['statistic']: x['value'] for x in d['measurements']}
assert m['COUNT'] == 16, d
assert all(t['tag'] != 'class' for t in d.get('availableTags', [])), d" "$f"

# every metric of the dashboard on the live /prometheus (the ones that only
# exist once a job was retried or rescued, or a doveadm job saved messages,
# are checked by test_dashboard.sh on a populated registry)
missing=$(python3 - "$abs_top_srcdir/conf/grafana/dmf-worker-dashboard.json" "$DW_DIR/final.txt" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
live = set(re.findall(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{| )', open(sys.argv[2]).read(), re.M))
event_only = {"dmf_jobs_retried_total", "dmf_jobs_rescued_total",
              "dmf_messages_saved_total", "dmf_messages_expunged_total",
              "dmf_migrated_bytes_total", "histogram_quantile"}
used = set()
for p in d["panels"]:
    for t in p["targets"]:
        e = re.sub(r'\{[^}]*\}|\[[^\]]*\]', '', t["expr"])
        used.update(w for w in re.findall(r'\b[a-z_]+_[a-z_0-9]+\b', e))
print(" ".join(sorted(u for u in used if u not in live and u not in event_only)) or "none")
PY
)
is "$missing" none "every metric the Grafana dashboard queries is on the live /prometheus"
dw_worker_stop m1
check "no sanitizer report in the worker's log" ht_log_clean "$DW_DIR/m1.log"
