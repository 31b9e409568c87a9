#!/bin/bash
# test_doveadm_progress.sh - live job progress: while a doveadm job runs
# against a slow source (an IMAP proxy holding every message body 30 ms),
# `dmfctl job show` shows a growing progressSaved (written with the
# heartbeat from what the plugin reports through the host's metrics
# table), elapsedSeconds and savedPerSecond, and `dmfctl job list --status
# RUNNING` lists the job with it; once the job ended its syncSaved is at
# least the last progress.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/doveadm_rig.sh"
dr_skip_unless_ready
echo "1..12"
# okv 1|0 DESCRIPTION
okv() { if [ "$1" = 1 ]; then ok_ "$2"; else nok_ "$2"; fi; }

dr_init dvprog
dr_user dave 'dave-Pw1' 200 3
DR_PROXY_DELAY=30 dr_proxy 999999 999998
$DMFCTL sourcehost add slow --host 127.0.0.1 --port "$DR_PROXY_PORT" \
	--ssl no >/dev/null || { echo "Bail out! sourcehost slow"; exit 1; }

dr_config w1
dr_worker_start w1
id=$(dr_job dave 'dave-Pw1' --sourcehost slow)

# poll: "status progressSaved elapsedSeconds savedPerSecond"
seen=()
listed=no
deadline=$(($(date +%s) + 30 * DR_SLOW))
while [ "$(date +%s)" -lt "$deadline" ]; do
	line=$(dr_field "$id" '"%s %s %s %s" % (j["status"], j["progressSaved"], j["elapsedSeconds"], j["savedPerSecond"])')
	set -- $line
	case $1 in
	QUEUED) ;;
	RUNNING)
		if [ "$2" != None ]; then
			seen+=("$2 $3 $4")
			if [ $listed = no ] &&
				$DMFCTL job list --status RUNNING --json | python3 -c '
import json, sys
rows = json.load(sys.stdin)
sys.exit(0 if any(r["id"] == int(sys.argv[1]) and (r["progressSaved"] or 0) > 0
                  for r in rows) else 1)' "$id"; then
				listed=yes
				echo "# job list --status RUNNING:"
				$DMFCTL job list --status RUNNING | sed 's/^/#   /'
			fi
		fi
		;;
	*) break ;;
	esac
	sleep 0.25
done
dr_wait "$id" --timeout $((30 * DR_SLOW))
is "$DR_WAIT_RC" 0 "the job ends with SUCCESS"
echo "# progress seen while RUNNING (saved elapsed rate): ${#seen[@]} readings"
for s in "${seen[@]}"; do echo "#   $s"; done

vals=$(printf '%s\n' "${seen[@]}" | awk '{ print $1 }' | uniq)
nvals=$(printf '%s\n' "$vals" | grep -c .)
okv "$([ "$nvals" -ge 2 ] && echo 1 || echo 0)" \
	"progressSaved took at least two values while the job ran ($(echo $vals))"
sorted=$(printf '%s\n' "$vals" | sort -n | tr '\n' ' ')
is "$sorted" "$(printf '%s\n' "$vals" | tr '\n' ' ')" "progressSaved only grew"
first=$(printf '%s\n' "$vals" | head -1)
final=$(dr_field "$id" 'j["syncSaved"]')
okv "$([ "${first:-0}" -gt 0 ] && [ "${first:-0}" -lt "${final:-0}" ] && echo 1 || echo 0)" \
	"the first progress ($first) is above 0 and below the final syncSaved ($final)"
last=$(printf '%s\n' "$vals" | tail -1)
okv "$([ "${last:-0}" -le "${final:-0}" ] && echo 1 || echo 0)" \
	"the last progress ($last) is at most syncSaved ($final)"
is "$final" 200 "syncSaved counts every message"
okv "$(printf '%s\n' "${seen[@]}" | awk '$2 > 0 && $3 > 0 { n++ } END { print (n > 0 ? 1 : 0) }')" \
	"elapsedSeconds and savedPerSecond are positive while it runs"
is "$listed" yes "job list --status RUNNING shows the job with its progress"
is "$(dr_field "$id" '"%s %s" % (j["elapsedSeconds"], j["savedPerSecond"])')" "None None" \
	"elapsed and rate are null once the job ended"
okv "$(dr_field "$id" '1 if j["progressUpdated"] and j["progressBytes"] > 0 else 0')" \
	"progressUpdated and progressBytes were written"
dr_stop_check w1
