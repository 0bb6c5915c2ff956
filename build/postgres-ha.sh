#!/usr/bin/env bash
# A PostgreSQL formation that survives losing its primary: pg_auto_failover (Debian's
# postgresql-15-auto-failover) with a monitor and two nodes, a primary and a synchronous
# standby, all on this machine on their own ports (the default cluster on 5432 is left alone).
#
#   build/postgres-ha.sh              starts the formation (idempotent) and prints, as its LAST
#                                     line, the registry's multi-host URL:
#                                     postgres://ikd:ikd@127.0.0.1:P1,127.0.0.1:P2/ikd_ha?target_session_attrs=read-write&sslmode=disable
#   build/postgres-ha.sh primary-pid  prints the PID of the current primary's postmaster
#   build/postgres-ha.sh state        prints pg_autoctl show state
#   build/postgres-ha.sh stop         stops the formation (keeps its data)
#
# Needs root (apt-get, runuser). The keepers run as user postgres, detached from the caller.
# Ports: IKD_HA_PORT (default 5440) for the monitor, +1 and +2 for the nodes; data under
# IKD_HA_DIR (default /var/lib/postgresql/ikd-ha). Authentication is trust on loopback and
# without TLS: a test formation. A real one uses --auth scram-sha-256 and --ssl-mode verify-full
# (see README, operator section).
set -euo pipefail

base_port="${IKD_HA_PORT:-5440}"
dir=$(realpath -m "${IKD_HA_DIR:-/var/lib/postgresql/ikd-ha}") # absolute: the keepers run from /
monitor_port=$base_port
node_ports=($((base_port + 1)) $((base_port + 2)))
role=ikd
password=ikd
database=ikd_ha
pgbin=/usr/lib/postgresql/15/bin
monitor_url="postgres://autoctl_node@127.0.0.1:$monitor_port/pg_auto_failover?sslmode=disable"

as_pg() { runuser -u postgres -- env PATH="$pgbin:$PATH" "$@"; }

# start_keeper runs "pg_autoctl run" for pgdata in the background, holding no descriptor of
# the caller's beyond 0-2 (a $(...) caller would otherwise wait for it forever) and not in
# the caller's directory: the keepers outlive it, and once it is removed (a CI checkout) a
# Postgres they restart fails with "could not identify current directory" and never returns.
start_keeper() (
	local pgdata=$1
	cd /
	for p in /proc/$BASHPID/fd/*; do
		fd="${p##*/}"
		if [ "$fd" -gt 2 ]; then
			eval "exec $fd>&-" 2>/dev/null || true
		fi
	done
	as_pg setsid pg_autoctl run --pgdata "$pgdata" </dev/null >>"$pgdata.log" 2>&1 &
)

running() { as_pg pg_autoctl status --pgdata "$1" >/dev/null 2>&1; }

ensure_package() {
	if ! command -v pg_autoctl >/dev/null 2>&1; then
		echo "postgres-ha.sh: installing Debian's postgresql-15-auto-failover"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update
		apt-get install -y postgresql-15-auto-failover
	fi
}

ensure_monitor() {
	local pgdata=$dir/monitor
	if [ ! -f "$pgdata/PG_VERSION" ]; then
		echo "postgres-ha.sh: creating the monitor on port $monitor_port"
		as_pg pg_autoctl create monitor --pgdata "$pgdata" --pgport "$monitor_port" \
			--hostname 127.0.0.1 --auth trust --no-ssl
	fi
	if ! running "$pgdata"; then
		echo "postgres-ha.sh: starting the monitor"
		start_keeper "$pgdata"
	fi
	wait_for "monitor" as_pg psql -X -q -h 127.0.0.1 -p "$monitor_port" -d pg_auto_failover -U autoctl_node -tAc 'SELECT 1'
	# A primary whose keeper stops reporting is failed over after 5 s instead of the default
	# 20 s: the registry's mail worker retries the mark of a sent mail for 10 s, and a failover
	# shorter than that sends no mail twice. (On separate machines weigh this against
	# failovers on a network hiccup.)
	as_pg psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$monitor_port" -d pg_auto_failover >/dev/null <<SQL
ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 5000;
ALTER SYSTEM SET pgautofailover.health_check_period = 1000;
SELECT pg_reload_conf();
SQL
}

# ensure_node creates node i (0 or 1) if needed and starts its keeper. The first one the
# monitor sees becomes the primary, the second its standby.
ensure_node() {
	local i=$1 pgdata=$dir/node$(($1 + 1)) port=${node_ports[$1]}
	if [ ! -f "$pgdata/PG_VERSION" ] || [ ! -f "$pgdata/../.node$(($1 + 1))-created" ]; then
		echo "postgres-ha.sh: creating node $((i + 1)) on port $port"
		# A half-made node (a killed earlier run) is removed and made again.
		as_pg pg_autoctl drop node --destroy --pgdata "$pgdata" >/dev/null 2>&1 || true
		rm -rf "$pgdata"
		# --replication-quorum true (the default) makes the standby synchronous: a commit the
		# registry saw acknowledged is on both nodes while both are healthy.
		as_pg pg_autoctl create postgres --pgdata "$pgdata" --pgport "$port" --hostname 127.0.0.1 \
			--name "node$((i + 1))" --monitor "$monitor_url" --auth trust --no-ssl \
			--dbname "$database" --replication-quorum true --candidate-priority 50
		touch "$pgdata/../.node$(($1 + 1))-created"
	fi
	if ! running "$pgdata"; then
		echo "postgres-ha.sh: starting node $((i + 1))"
		start_keeper "$pgdata"
	fi
}

# wait_for retries a command for up to 120 s.
wait_for() {
	local what=$1 i
	shift
	for i in $(seq 1 120); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 1
	done
	echo "postgres-ha.sh: $what not ready after 120 s; see $dir/*.log" >&2
	exit 1
}

# healthy: one primary and one secondary, both reported and assigned so (a formation still
# settling has "wait_primary", "catchingup" and the like).
healthy() {
	local states
	states="$(as_pg psql -X -q -h 127.0.0.1 -p "$monitor_port" -d pg_auto_failover -U autoctl_node -tA -F ' ' -c \
		"SELECT reportedstate, goalstate FROM pgautofailover.node WHERE formationid = 'default' ORDER BY reportedstate")"
	[ "$states" = "$(printf 'primary primary\nsecondary secondary')" ]
}

primary_port() {
	local p
	for p in "${node_ports[@]}"; do
		if [ "$(as_pg psql -X -q -h 127.0.0.1 -p "$p" -d postgres -tAc 'SELECT NOT pg_is_in_recovery()' 2>/dev/null)" = t ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

primary_pid() {
	local p i
	p="$(primary_port)" || {
		echo "postgres-ha.sh: no primary answers" >&2
		exit 1
	}
	for i in 0 1; do
		if [ "${node_ports[$i]}" = "$p" ]; then
			head -n 1 "$dir/node$((i + 1))/postmaster.pid"
			return 0
		fi
	done
}

# ensure_role retries: a formation that has just turned healthy may still restart or
# reconfigure its primary, and CI once saw the keeper terminate this very session while its
# commit waited for the synchronous standby. The SQL is idempotent.
ensure_role() {
	local i
	for i in $(seq 1 30); do
		if healthy && role_sql; then
			return 0
		fi
		echo "postgres-ha.sh: the role did not take (formation settling?); trying again" >&2
		sleep 2
	done
	echo "postgres-ha.sh: could not set up role $role in 30 tries; see $dir/*.log" >&2
	exit 1
}

role_sql() {
	local p
	p="$(primary_port)" || return 1
	# A commit waits for the synchronous standby; one that went away must not hang us.
	as_pg timeout 30 psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$p" -d postgres <<SQL
DO \$\$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
		CREATE ROLE $role LOGIN;
	END IF;
END
\$\$;
ALTER ROLE $role LOGIN CREATEDB PASSWORD '$password';
GRANT pg_signal_backend TO $role;
ALTER DATABASE $database OWNER TO $role;
SQL
}

# forget_old_formation removes what pg_autoctl keeps outside the data directories (config,
# state and pid files under the postgres user's XDG directories and /tmp) for a formation at
# $dir whose directory is gone: a new formation there would otherwise take up the old node
# records and refuse its own fresh clusters ("Unknown PostgreSQL system identifier").
forget_old_formation() {
	local home
	home=$(getent passwd postgres | cut -d: -f6)
	rm -rf "$home/.config/pg_autoctl$dir" "$home/.local/share/pg_autoctl$dir" "/tmp/pg_autoctl$dir"
}

main() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "postgres-ha.sh: must run as root (try: sudo $0)"
		exit 1
	fi
	ensure_package
	if [ ! -d "$dir" ]; then
		forget_old_formation
	fi
	install -d -o postgres -g postgres "$dir"
	ensure_monitor
	# The standby is created only once the primary is up, so that it clones it. A formation
	# made before is restarted whole: its primary may be node 2, which node 1 waits for.
	ensure_node 0
	if [ ! -f "$dir/.node2-created" ]; then
		wait_for "node 1" primary_port
	fi
	ensure_node 1
	echo "postgres-ha.sh: waiting for a primary and a synchronous standby"
	wait_for "the formation" healthy
	ensure_role
	echo "postgres-ha.sh: formation healthy (monitor $monitor_port, nodes ${node_ports[*]})"
}

case "${1:-}" in
primary-pid)
	primary_pid
	;;
state)
	as_pg pg_autoctl show state --pgdata "$dir/monitor"
	;;
stop)
	for d in node2 node1 monitor; do
		as_pg pg_autoctl stop --pgdata "$dir/$d" 2>/dev/null || true
	done
	;;
"")
	# Everything but the final URL goes to stderr, so callers can capture stdout as the URL.
	main >&2
	echo "postgres://$role:$password@127.0.0.1:${node_ports[0]},127.0.0.1:${node_ports[1]}/$database?target_session_attrs=read-write&sslmode=disable"
	;;
*)
	echo "usage: $0 [primary-pid|state|stop]" >&2
	exit 2
	;;
esac
