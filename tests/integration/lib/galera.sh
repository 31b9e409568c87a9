# galera.sh - a private 3-node MariaDB Galera cluster on loopback.
#
# Source this file (it sources mariadb.sh), then:
#   gal_have || { echo "1..0 # SKIP no galera-4"; exit 0; }
#   gal_start DIR [N]          # N nodes (default 3); sets GAL_N and, per
#                              # node i, GAL_PORT_i GAL_SOCK_i GAL_PID_i
#   gal_sql I "SQL"            # SQL as root on $MDB_DB on node I
#   gal_stop_node I            # SIGTERM by PID, wait until it has exited
#   gal_kill_node I            # SIGKILL by PID
#   gal_start_node I           # start node I again (joins the cluster)
#   gal_wait_synced I SECONDS  # true once node I says Synced
#   gal_stop                   # stop every node by its PID
# Node 1 bootstraps the cluster (--wsrep-new-cluster), the others join it
# by SST (wsrep_sst_method=rsync) and a node started again catches up by
# IST.  Every node listens on 127.0.0.1 only, on free ports (mysql,
# galera replication, IST, SST), keeps its data, socket and logs in DIR/nI;
# nothing outside DIR is touched.  The nodes run as the mysql user (rsync
# SST needs it), so DIR's parents must be searchable by it; the tests run
# as root.

. "$(dirname "${BASH_SOURCE[0]}")/mariadb.sh"

GAL_PROVIDER=${GAL_PROVIDER:-/usr/lib/galera/libgalera_smm.so}
GAL_N=0
GAL_ERROR=

gal_have() {
	mdb_have || return 1
	[ -e "$GAL_PROVIDER" ] || return 1
	command -v rsync >/dev/null 2>&1 || return 1
	command -v wsrep_sst_rsync >/dev/null 2>&1 || return 1
	# the SST script finds its rsync daemon's port with ss or lsof
	command -v ss >/dev/null 2>&1 || command -v lsof >/dev/null 2>&1 || return 1
	# rsync SST runs its daemon as the server's user, and a daemon
	# started by root would write as nobody: the nodes run as mysql
	[ "$(id -u)" = 0 ] && id mysql >/dev/null 2>&1 || return 1
	return 0
}

gal_var() { eval "echo \${GAL_$1_$2:-}"; }

# A free port not handed out to this cluster already.
gal_port() {
	local port
	for _ in $(seq 1 50); do
		port=$(mdb_free_port) || return 1
		case " $GAL_USED_PORTS " in *" $port "*) continue ;; esac
		GAL_USED_PORTS="$GAL_USED_PORTS $port"
		echo "$port"
		return 0
	done
	return 1
}

# gal_launch I [bootstrap]: start mariadbd of node I in the background.
gal_launch() {
	local i=$1 dir="$GAL_DIR/n$1" boot=()
	[ "${2:-}" = bootstrap ] && boot=(--wsrep-new-cluster)
	"$MDB_MARIADBD" --no-defaults --datadir="$dir/data" \
		--socket="$dir/mysqld.sock" --port="$(gal_var PORT "$i")" \
		--bind-address=127.0.0.1 --pid-file="$dir/mysqld.pid" --user=mysql \
		--log-error="$dir/mariadbd.err" --tmpdir="$dir/tmp" \
		--skip-name-resolve --innodb-buffer-pool-size=48M \
		--innodb-log-file-size=48M --innodb-flush-log-at-trx-commit=2 \
		--max-connections=300 --skip-log-bin \
		--binlog-format=ROW --innodb-autoinc-lock-mode=2 \
		--default-storage-engine=InnoDB \
		--wsrep-on=ON --wsrep-provider="$GAL_PROVIDER" \
		--wsrep-cluster-name="dmf-test-$$" \
		--wsrep-cluster-address="gcomm://$GAL_GCOMM" \
		--wsrep-node-name="n$i" \
		--wsrep-node-address="127.0.0.1:$(gal_var GPORT "$i")" \
		--wsrep-sst-method=rsync \
		--wsrep-sst-receive-address="127.0.0.1:$(gal_var SPORT "$i")" \
		--wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$(gal_var GPORT "$i");ist.recv_addr=127.0.0.1:$(gal_var IPORT "$i");gcache.size=64M;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;evs.install_timeout=PT4S" \
		--wsrep-slave-threads=2 \
		"${boot[@]}" >>"$dir/mariadbd.out" 2>&1 &
	eval "GAL_PID_$i=$!"
}

gal_sql_root() {
	"$MDB_CLIENT" --no-defaults -uroot --socket="$(gal_var SOCK "$1")" -N -B -e "$2"
}

gal_sql() {
	"$MDB_CLIENT" --no-defaults -uroot --socket="$(gal_var SOCK "$1")" -N -B \
		"$MDB_DB" -e "$2"
}

gal_state() {
	gal_sql_root "$1" "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null |
		cut -f2
}

# gal_wait_synced I SECONDS
gal_wait_synced() {
	local pid st
	pid=$(gal_var PID "$1")
	for _ in $(seq 1 $(($2 * 10))); do
		st=$(gal_state "$1")
		[ "$st" = Synced ] && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			gal_report "$1" "exited during start"
			return 1
		fi
		sleep 0.1
	done
	gal_report "$1" "not Synced after $2 s (state '$st')"
	return 1
}

# gal_report I WHAT: why node I did not start, for the test's output.  The
# server's and the SST script's error lines of every node come first (a
# joiner's failure is often the donor's SST script), then the tail of node
# I's log; GAL_ERROR holds node I's first error line for a Bail out line.
gal_report() {
	local j f
	echo "# galera node $1 $2" >&2
	for j in $(seq 1 "$GAL_N"); do
		f=$GAL_DIR/n$j/mariadbd.err
		[ -e "$f" ] || continue
		grep -E '\[ERROR\]|WSREP_SST: \[ERROR\]|Neither lsof' "$f" | head -n 12 |
			sed "s/^/# n$j: /" >&2
	done
	tail -n 12 "$GAL_DIR/n$1/mariadbd.err" 2>/dev/null | sed 's/^/# /' >&2
	GAL_ERROR=$(grep -m1 -E '\[ERROR\]' "$GAL_DIR/n$1/mariadbd.err" 2>/dev/null |
		cut -c1-300)
	GAL_ERROR="node $1 $2${GAL_ERROR:+: $GAL_ERROR}"
}

# gal_start DIR [N]
gal_start() {
	local i n=${2:-3} dir
	GAL_DIR=$1
	GAL_N=$n
	GAL_USED_PORTS=
	GAL_GCOMM=
	gal_have || return 1
	mkdir -p "$GAL_DIR" && chmod 0755 "$GAL_DIR" || return 1
	for i in $(seq 1 "$n"); do
		dir="$GAL_DIR/n$i"
		mkdir -p "$dir/tmp" "$dir/data" && chown -R mysql: "$dir" || return 1
		eval "GAL_SOCK_$i=$dir/mysqld.sock"
		eval "GAL_PORT_$i=$(gal_port)" && eval "GAL_GPORT_$i=$(gal_port)" &&
			eval "GAL_IPORT_$i=$(gal_port)" && eval "GAL_SPORT_$i=$(gal_port)" ||
			return 1
		GAL_GCOMM="$GAL_GCOMM${GAL_GCOMM:+,}127.0.0.1:$(gal_var GPORT "$i")"
	done
	# node 1 is initialised and bootstraps; the others get its data by SST
	"$MDB_INSTALL_DB" --no-defaults --auth-root-authentication-method=normal \
		--datadir="$GAL_DIR/n1/data" --user=mysql --skip-test-db \
		--tmpdir="$GAL_DIR/n1/tmp" >"$GAL_DIR/n1/install.log" 2>&1 || {
		echo "# mariadb-install-db failed:" >&2
		sed 's/^/# /' "$GAL_DIR/n1/install.log" >&2
		return 1
	}
	gal_launch 1 bootstrap
	gal_wait_synced 1 60 || return 1
	gal_sql_root 1 "CREATE DATABASE IF NOT EXISTS \`$MDB_DB\`;
		CREATE USER IF NOT EXISTS '$MDB_USER'@'127.0.0.1' IDENTIFIED BY '$MDB_PASSWORD';
		CREATE USER IF NOT EXISTS '$MDB_USER'@'localhost' IDENTIFIED BY '$MDB_PASSWORD';
		GRANT ALL ON \`$MDB_DB\`.* TO '$MDB_USER'@'127.0.0.1';
		GRANT ALL ON \`$MDB_DB\`.* TO '$MDB_USER'@'localhost';" || return 1
	# one joiner at a time: a donor serves one SST
	for i in $(seq 2 "$n"); do
		gal_launch "$i"
		gal_wait_synced "$i" 90 || return 1
	done
	export MDB_DB MDB_USER MDB_PASSWORD
}

gal_stop_node() {
	local pid
	pid=$(gal_var PID "$1")
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 1 300); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	eval "GAL_PID_$1="
}

gal_kill_node() {
	local pid
	pid=$(gal_var PID "$1")
	[ -n "$pid" ] || return 0
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	eval "GAL_PID_$1="
}

# gal_start_node I: start a stopped node again; it rejoins the others
gal_start_node() {
	gal_launch "$1"
	gal_wait_synced "$1" 90
}

gal_stop() {
	local i
	for i in $(seq "$GAL_N" -1 1); do
		gal_stop_node "$i"
	done
}
