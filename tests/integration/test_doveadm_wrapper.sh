#!/bin/bash
# test_doveadm_wrapper.sh - dmf.doveadm.path as a wrapper script that aims
# doveadm at the target Dovecot with its own -c, the usual way to reach a
# second Dovecot instance:
#   #!/bin/sh
#   exec doveadm -c /etc/dovecot-target/dovecot.conf "$@"
# with config-file unset.  The per-job file (given as a later -c, which
# wins) must include the configuration the wrapper chose (the header line
# of `PATH config -n`), not doveadm's default, so the migration reaches the
# target's auth socket.  A wrapper that drops the caller's -c never reads
# the per-job file: the worker refuses to start with one clear line.
. "${abs_top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib/doveadm_rig.sh"
dr_skip_unless_ready
dr_init dvwrap

dr_user wala 'wala-Pw1' 25 3
mkdir -p "$DR_DIR/bin"
cat >"$DR_DIR/bin/doveadm-target" <<EOT
#!/bin/sh
exec /usr/bin/doveadm -c $TGT_CONF "\$@"
EOT
cat >"$DR_DIR/bin/doveadm-deaf" <<EOT
#!/bin/sh
# drops the caller's -c FILE: the per-job file is never read
while [ "\$1" = -c ]; do shift 2; done
exec /usr/bin/doveadm -c $TGT_CONF "\$@"
EOT
chmod 0755 "$DR_DIR/bin/doveadm-target" "$DR_DIR/bin/doveadm-deaf"

# the wrapper really reaches a Dovecot other than doveadm's default
check "the wrapper's 'config -n' names $TGT_CONF" \
	[ "$("$DR_DIR/bin/doveadm-target" config -n | head -n 1 | sed 's/.*: //')" = "$TGT_CONF" ]
check "  and doveadm's default configuration is another one" \
	[ "$(/usr/bin/doveadm config -n 2>/dev/null | head -n 1 | sed 's/.*: //')" != "$TGT_CONF" ]

DR_CONFIG_FILE= DR_DOVEADM=$DR_DIR/bin/doveadm-target dr_config w1 \
	"analyze-log: true" "count: {sync: true}"
dr_worker_start w1
a=$(dr_job wala 'wala-Pw1')
dr_wait "$a" --timeout $((60 * DR_SLOW))
is "$(dr_field "$a" 'j["status"]')" SUCCESS "through the wrapper: the migration succeeds"
src=$(dr_count "$SRC_CONF" wala)
is "$(dr_count "$TGT_CONF" wala)" "$src" "  the target holds what the source holds ($src)"
is "$(dr_field "$a" '"%s %s" % (j["targetMessages"], j["targetSize"])')" "$src" \
	"  targetMessages/targetSize counted through the same wrapper"
check "  no auth-userdb connect failure in the details" \
	[ "$(dr_field "$a" '"auth-userdb" in json.dumps(j.get("details"))')" = false ]
check "  the start line names the wrapper's configuration" \
	grep -q "doveadm worker: $DR_DIR/bin/doveadm-target, config $TGT_CONF (the one it reads)" "$DR_DIR/w1.log"
check "  the start check left no per-job file behind" \
	[ -z "$(ls -A "$DR_DIR/run-doveadm" 2>/dev/null)" ]
dr_stop_check w1

# deliberate mismatch: the per-job file never reaches doveadm
DR_CONFIG_FILE= DR_DOVEADM=$DR_DIR/bin/doveadm-deaf dr_config w2
dr_worker_start w2
dw_worker_wait w2 $((15 * DR_SLOW))
check "a wrapper that drops -c: the worker does not start (exit $DW_RC)" \
	[ "$DW_RC" != timeout ] && [ "$DW_RC" != 0 ]
is "$(grep -c 'does not read the per-job configuration' "$DR_DIR/w2.log")" 1 \
	"  one clear line says why"
grep 'does not read the per-job' "$DR_DIR/w2.log" | sed 's/^/#   /'

# with config-file set the check runs too (the wrapper drops that -c as
# well)
DR_CONFIG_FILE=$TGT_CONF DR_DOVEADM=$DR_DIR/bin/doveadm-deaf dr_config w3
dr_worker_start w3
dw_worker_wait w3 $((15 * DR_SLOW))
check "the deaf wrapper with config-file set is refused too (exit $DW_RC)" \
	[ "$DW_RC" != timeout ] && [ "$DW_RC" != 0 ]
echo "1..$DW_T"
