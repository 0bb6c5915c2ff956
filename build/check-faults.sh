#!/usr/bin/env bash
# make check-faults: the fault suite (sync/faultsuite). The real registry and kiosk sync run
# as processes behind a fault-injecting proxy, with SIGKILLs of both; at the end nothing may
# be lost or duplicated and each accepted activation must have sent exactly one e-mail. It
# uses the PostgreSQL server of IKD_TEST_POSTGRES (SQLite, loudly, when there is none).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
go vet -tags faults ./sync/faultsuite/
go test -tags faults -count=1 -timeout 25m -run TestFaultSuite -v ./sync/faultsuite/
# The USB-stick issue's outside check, end to end through the real CLI (50 approvals, export,
# import twice, answers): too slow for the quick suite.
go vet -tags faults ./cmd/ikdctl/
go test -tags faults -count=1 -timeout 10m -run TestBundleOutsideCheck -v ./cmd/ikdctl/
