# mariadb.sh - start and stop a private MariaDB server for a test.
#
# Source this file, then:
#   mdb_have || { echo "1..0 # SKIP mariadbd not installed"; exit 0; }
#   mdb_start DIR [extra mariadbd options...]   # sets MDB_PORT MDB_SOCKET MDB_PID
#   mdb_sql "SELECT 1"                          # runs SQL as root on $MDB_DB
#   mdb_stop                                    # stops the server by its PID
#   mdb_restart_after SECONDS                   # stop, wait, start again
# The server listens on 127.0.0.1 on a free port and on a socket in DIR,
# runs as root (the tests run as root), keeps its data in DIR/data and
# logs to DIR/mariadbd.err.  Nothing outside DIR is touched.

MDB_DB=${MDB_DB:-migration}
MDB_USER=${MDB_USER:-dmf}
MDB_PASSWORD=${MDB_PASSWORD:-dmfpass}

mdb_find() {
	local name
	for name in "$@"; do
		if command -v "$name" >/dev/null 2>&1; then
			command -v "$name"
			return 0
		fi
		for dir in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin; do
			if [ -x "$dir/$name" ]; then
				echo "$dir/$name"
				return 0
			fi
		done
	done
	return 1
}

# True when a MariaDB server and its install tool exist on this machine.
mdb_have() {
	MDB_MARIADBD=$(mdb_find mariadbd mysqld) || return 1
	MDB_INSTALL_DB=$(mdb_find mariadb-install-db mysql_install_db) || return 1
	MDB_CLIENT=$(mdb_find mariadb mysql) || return 1
	return 0
}

# A TCP port on 127.0.0.1 that nobody listens on now, outside the kernel's
# ephemeral range: a port in that range, found free, can become the local
# end of any outgoing connection on the machine (a parallel test's) before
# the server meant for it binds it (EADDRINUSE).
mdb_free_port() {
	local port lo=32768 hi=60999 base=20000 span=30000
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
	if [ "$lo" -ge 12000 ]; then
		base=10000 span=$((lo - 10000))
	elif [ "$hi" -le 63000 ]; then
		base=$((hi + 1)) span=$((65000 - hi))
	fi
	for _ in $(seq 1 50); do
		port=$((base + RANDOM % span))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

# mdb_start DIR [options]: initialise DIR/data when needed, start mariadbd
# and wait until it answers; create the $MDB_DB database and the $MDB_USER
# account.  Extra arguments go to mariadbd as they are.
mdb_start() {
	MDB_DIR=$1
	shift
	mdb_have || return 1
	mkdir -p "$MDB_DIR/tmp"
	MDB_SOCKET=$MDB_DIR/mysqld.sock
	MDB_PIDFILE=$MDB_DIR/mysqld.pid
	local auto_port=0
	if [ -z "${MDB_PORT:-}" ]; then
		MDB_PORT=$(mdb_free_port) || return 1
		auto_port=1
	fi
	if [ ! -d "$MDB_DIR/data/mysql" ]; then
		"$MDB_INSTALL_DB" --no-defaults --auth-root-authentication-method=normal \
			--datadir="$MDB_DIR/data" --user=root --skip-test-db \
			--tmpdir="$MDB_DIR/tmp" \
			>"$MDB_DIR/install.log" 2>&1 || {
			echo "# mariadb-install-db failed:" >&2
			sed 's/^/# /' "$MDB_DIR/install.log" >&2
			return 1
		}
	fi
	MDB_EXTRA_ARGS=("$@")
	# A port found free can be taken by a test running in parallel before
	# mariadbd binds it: pick another one and try again.
	for _ in 1 2 3 4 5; do
		mdb_launch 2>"$MDB_DIR/launch.err" && break
		if [ "$auto_port" = 1 ] &&
			grep -q 'error: 98\|Address already in use' "$MDB_DIR/mariadbd.err"; then
			: >"$MDB_DIR/mariadbd.err"
			MDB_PORT=$(mdb_free_port) || return 1
			continue
		fi
		cat "$MDB_DIR/launch.err" >&2
		return 1
	done
	kill -0 "$MDB_PID" 2>/dev/null || { cat "$MDB_DIR/launch.err" >&2; return 1; }
	mdb_sql_root "CREATE DATABASE IF NOT EXISTS \`$MDB_DB\`;
		CREATE USER IF NOT EXISTS '$MDB_USER'@'127.0.0.1' IDENTIFIED BY '$MDB_PASSWORD';
		CREATE USER IF NOT EXISTS '$MDB_USER'@'localhost' IDENTIFIED BY '$MDB_PASSWORD';
		GRANT ALL ON \`$MDB_DB\`.* TO '$MDB_USER'@'127.0.0.1';
		GRANT ALL ON \`$MDB_DB\`.* TO '$MDB_USER'@'localhost';" || return 1
	export MDB_PORT MDB_SOCKET MDB_DIR MDB_DB MDB_USER MDB_PASSWORD
	MDB_URL="jdbc:mariadb://127.0.0.1:$MDB_PORT/$MDB_DB"
	export MDB_URL
}

# Start mariadbd on the existing data directory (used by mdb_start and to
# bring a stopped server back on the same port).
mdb_launch() {
	"$MDB_MARIADBD" --no-defaults --datadir="$MDB_DIR/data" \
		--socket="$MDB_SOCKET" --port="$MDB_PORT" --bind-address=127.0.0.1 \
		--pid-file="$MDB_PIDFILE" --user=root --log-error="$MDB_DIR/mariadbd.err" \
		--tmpdir="$MDB_DIR/tmp" \
		--skip-name-resolve --innodb-buffer-pool-size=64M \
		--innodb-log-file-size=48M --innodb-flush-log-at-trx-commit=2 \
		--max-connections=300 --skip-log-bin \
		"${MDB_EXTRA_ARGS[@]}" >>"$MDB_DIR/mariadbd.out" 2>&1 &
	MDB_PID=$!
	export MDB_PID
	for _ in $(seq 1 300); do
		if "$MDB_CLIENT" --no-defaults -uroot --socket="$MDB_SOCKET" \
			-e 'SELECT 1' >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$MDB_PID" 2>/dev/null; then
			echo "# mariadbd exited during start:" >&2
			tail -n 20 "$MDB_DIR/mariadbd.err" | sed 's/^/# /' >&2
			return 1
		fi
		sleep 0.1
	done
	echo "# mariadbd did not become ready in 30 s" >&2
	return 1
}

# SQL as root over the socket, on no database.
mdb_sql_root() {
	"$MDB_CLIENT" --no-defaults -uroot --socket="$MDB_SOCKET" -N -B -e "$1"
}

# SQL as root on $MDB_DB; prints tab-separated rows without headers.
mdb_sql() {
	"$MDB_CLIENT" --no-defaults -uroot --socket="$MDB_SOCKET" -N -B \
		"$MDB_DB" -e "$1"
}

# Stop the server by its PID and wait until it has exited.
mdb_stop() {
	[ -n "${MDB_PID:-}" ] || return 0
	if kill -0 "$MDB_PID" 2>/dev/null; then
		kill -TERM "$MDB_PID" 2>/dev/null
		for _ in $(seq 1 300); do
			kill -0 "$MDB_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$MDB_PID" 2>/dev/null; then
			kill -KILL "$MDB_PID" 2>/dev/null
		fi
	fi
	wait "$MDB_PID" 2>/dev/null
	MDB_PID=
}

# Stop the server, wait SECONDS, start it again on the same port.
mdb_restart_after() {
	mdb_stop
	sleep "$1"
	mdb_launch
}

# The server's version number as MMmmpp (101106 for 10.11.6).
mdb_version_number() {
	mdb_sql_root "SELECT VERSION()" | sed -E 's/^([0-9]+)\.([0-9]+)\.([0-9]+).*/\1 \2 \3/' |
		awk '{ printf "%d%02d%02d\n", $1, $2, $3 }'
}
