#!/usr/bin/env bash
# Starts a local PostgreSQL server for the tests and prints its URL (the only line on stdout):
#   export IKD_TEST_POSTGRES="$(build/postgres.sh)"
# Idempotent: installs Debian's postgresql only if missing, creates a cluster only if none exists,
# and leaves a running server, an existing role and an existing database as they are (the role's
# password and CREATEDB right are set again, so a half-finished earlier run is repaired).
# Needs root (apt-get, pg_ctlcluster, runuser).
set -euo pipefail

role=ikd
password=ikd
database=ikd_test
port=

# start_cluster starts the server holding no descriptors beyond 0-2: the daemon outlives this
# script, and an inherited pipe (such as the caller's $(...)) would keep the caller waiting.
start_cluster() (
	for p in /proc/$BASHPID/fd/*; do
		fd="${p##*/}"
		if [ "$fd" -gt 2 ]; then
			eval "exec $fd>&-" 2>/dev/null || true
		fi
	done
	pg_ctlcluster "$1" "$2" start
)

# pg_lsclusters -h: "ver cluster port status owner datadir logfile", no header.
cluster_line() { pg_lsclusters -h | awk 'NF >= 4 { print; exit }'; }

psql_admin() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"; }

main() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "postgres.sh: must run as root (try: sudo $0)"
		exit 1
	fi

	if ! command -v pg_ctlcluster >/dev/null 2>&1; then
		echo "postgres.sh: installing Debian's postgresql"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update
		apt-get install -y postgresql
	fi

	local line ver name status
	line="$(cluster_line)"
	if [ -z "$line" ]; then
		# The package's postinst normally creates "main"; some container images skip that.
		ver="$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)"
		ver="${ver:-15}"
		echo "postgres.sh: no cluster found; creating $ver/main"
		pg_createcluster "$ver" main
		line="$(cluster_line)"
	fi
	read -r ver name port status _ <<<"$line"

	case "$status" in
	online*) echo "postgres.sh: cluster $ver/$name already running on port $port" ;;
	*)
		echo "postgres.sh: starting cluster $ver/$name on port $port"
		start_cluster "$ver" "$name"
		;;
	esac

	# The server may still be finishing its start-up; give it up to 30 s to accept connections.
	local i
	for i in $(seq 1 30); do
		if psql_admin -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
			break
		fi
		sleep 1
	done
	psql_admin -d postgres -tAc 'SELECT 1' >/dev/null

	# CREATEDB lets tests make (and drop) their own throwaway databases (internal/pgtest);
	# pg_signal_backend lets DROP DATABASE ... WITH (FORCE) end the connections left in one,
	# which it refuses for a backend of another role (such as an autovacuum worker) without it.
	psql_admin -d postgres <<SQL
DO \$\$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
		CREATE ROLE $role LOGIN;
	END IF;
END
\$\$;
ALTER ROLE $role LOGIN CREATEDB PASSWORD '$password';
GRANT pg_signal_backend TO $role;
SELECT 'CREATE DATABASE $database OWNER $role'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$database')
\gexec
SQL
	echo "postgres.sh: role $role and database $database ready on port $port"
}

# Everything but the final URL goes to stderr, so callers can capture stdout as the URL.
main >&2
echo "postgres://$role:$password@127.0.0.1:$port/$database?sslmode=disable"
