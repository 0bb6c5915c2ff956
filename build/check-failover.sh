#!/usr/bin/env bash
# make check-failover: the registry rides the loss of its database's primary. Starts the
# pg_auto_failover formation (build/postgres-ha.sh: monitor, primary and synchronous standby on
# ports 5440-5442), then runs TestFailover (a push storm from three kiosks against two registry
# processes, kill -9 of the primary's postmaster, failover, storm resumes; nothing acknowledged
# lost, no two winners, one code mail per activation) and TestRestoreDrill (pg_basebackup plus
# archived WAL restored to a point in time; see README, operator section). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
IKD_TEST_HA_POSTGRES="$(build/postgres-ha.sh | tail -n 1)"
export IKD_TEST_HA_POSTGRES
go vet -tags faults ./sync/faultsuite/
go test -tags faults -count=1 -timeout 15m -run 'TestFailover|TestRestoreDrill' -v ./sync/faultsuite/
