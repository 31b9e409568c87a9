#!/bin/bash
# test_dashboard.sh - conf/grafana/dmf-worker-dashboard.json is valid JSON
# that Grafana imports as is (a datasource input, every panel on it), and
# every metric its queries use is one the worker exports: the Prometheus
# rendering of a registry populated like the running worker's
# (tests/unit/metrics_dump; tests/integration/test_http_metrics.sh checks a
# live /prometheus).
set -u
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/tap.sh"
src=${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${abs_top_builddir:-$src}
dash=$src/conf/grafana/dmf-worker-dashboard.json
tmp=$(mktemp -d /tmp/dmf-test-dash.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

python3 -m json.tool "$dash" > /dev/null 2> "$tmp/json.err"
is "$?" 0 "the dashboard is valid JSON (python3 -m json.tool)"
"$bld/tests/unit/metrics_dump" > "$tmp/prom.txt" 2> "$tmp/dump.err"
is "$?" 0 "metrics_dump renders the worker's metrics"
python3 - "$dash" "$tmp/prom.txt" > "$tmp/check.out" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
prom = open(sys.argv[2]).read()
names = set(re.findall(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{| )', prom, re.M))
inputs = [i["name"] for i in d.get("__inputs", []) if i.get("type") == "datasource"]
print("input", "DS_PROMETHEUS" in inputs)
bad_ds = [p["title"] for p in d["panels"]
          if p.get("datasource", {}).get("uid") != "${DS_PROMETHEUS}"
          or any(t.get("datasource", {}).get("uid") != "${DS_PROMETHEUS}" for t in p["targets"])]
print("panels", len(d["panels"]), "bad-datasource", len(bad_ds))
funcs = {"sum", "by", "rate", "histogram_quantile", "le", "label_values", "instance"}
used = set()
for p in d["panels"]:
    for t in p["targets"]:
        e = re.sub(r'\{[^}]*\}', '', t["expr"])
        e = re.sub(r'\[[^\]]*\]', '', e)
        e = re.sub(r'\([^()]*\b(by|without)\s*\(', '(', e)
        for w in re.findall(r'[a-zA-Z_:][a-zA-Z0-9_:]*', e):
            if w not in funcs and not w.isdigit() and w not in ("phase", "source", "class", "outcome"):
                used.add(w)
for v in d["templating"]["list"]:
    used.update(re.findall(r'label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*)', v["query"]["query"]))
missing = sorted(u for u in used if u not in names)
print("used", len(used))
print("missing", " ".join(missing) if missing else "none")
PY
out=$(cat "$tmp/check.out")
like "$out" 'input True' "a datasource input DS_PROMETHEUS, as Grafana's import asks for"
like "$out" 'bad-datasource 0' "every panel and query uses the input's datasource"
like "$out" 'panels ([89]|[1-9][0-9])' "panels for jobs, failures, durations, messages, bytes, pool, leases"
is "$(sed -n 's/^missing //p' "$tmp/check.out")" none "every metric the dashboard queries is exported ($(sed -n 's/^used //p' "$tmp/check.out") names)"
for m in dmf_jobs_running dmf_jobs_failed_total dmf_jobs_duration_seconds_bucket dmf_messages_saved_total dmf_migrated_bytes_total hikaricp_connections_active dmf_lease_renewals_failed_total; do
	like "$(cat "$dash")" "$m" "the dashboard shows $m"
done
done_testing
