# http.sh - helpers for the HTTP surface tests (on top of db_worker.sh).
#   ht_config MEMBERID [dmf.worker YAML...] < TOP   # like dw_config, with the
#                      micronaut/http/endpoints YAML read from stdin instead
#                      of dw_config's micronaut block (its first 5 lines)
#   ht_code URL [curl args...]     # prints the HTTP status (000: no answer)
#   ht_body URL [curl args...]     # prints the body
#   ht_wait_code CODE SECONDS URL [curl args...]
#   ht_jq FILTER < JSON            # true when FILTER holds; false on empty
#                      input, which plain `jq -e` would count as success
#   ht_tls_yaml PORT KEYSTORE PASSWORD  # micronaut: HTTPS on PORT with the
#                      PKCS12 KEYSTORE, authentication on (ht_config's stdin)
HT_GEN_CERTS=$abs_top_srcdir/conf/dmf-worker-gen-certs

ht_config() {
	local id=$1 top
	shift
	top=$(cat)
	dw_config "$id" "$@"
	{
		printf '%s\n' "$top"
		tail -n +6 "$DW_DIR/$id.yml"
	} >"$DW_DIR/$id.yml.new" && mv "$DW_DIR/$id.yml.new" "$DW_DIR/$id.yml"
}

ht_tls_yaml() {
	cat <<EOT
micronaut:
  ssl:
    enabled: true
    port: $1
    key-store:
      path: file:$2
      type: PKCS12
      password: $3
  security:
    enabled: true
EOT
}

ht_code() {
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$url"
}

ht_body() {
	local url=$1
	shift
	curl -s --max-time 10 "$@" "$url"
}

ht_jq() {
	jq -n -e "input | ($1)" >/dev/null 2>&1
}
export -f ht_jq # for checks run as bash -c "..."

ht_wait_code() {
	local want=$1 secs=$2 url=$3 got
	shift 3
	for _ in $(seq 1 $((secs * 5))); do
		got=$(ht_code "$url" "$@")
		[ "$got" = "$want" ] && return 0
		sleep 0.2
	done
	echo "# waited $secs s for $url to answer $want, last $got"
	# why: curl's own error, and a server that did not start
	curl -sS -o /dev/null --max-time 10 "$@" "$url" 2>&1 | sed 's/^/#   /'
	grep -h 'cannot serve\|without its HTTP server' "${DW_DIR:-/nonexistent}"/*.log 2>/dev/null |
		sed 's/^/#   /'
	return 1
}

# no sanitizer report and no crash in a worker's log
ht_log_clean() {
	lacks -E 'Sanitizer|runtime error' "$@"
}
