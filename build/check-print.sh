#!/usr/bin/env bash
# make check-print: prints real receipts through CUPS to a CUPS-PDF queue and reads the
# printed PDFs back with pdftotext. Starts cupsd and the queue with build/cups.sh (root).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
export IKD_TEST_PRINTER=${IKD_TEST_PRINTER:-PDF}
IKD_TEST_PRINTER_OUT=$(IKD_PRINTER_QUEUE=$IKD_TEST_PRINTER build/cups.sh)
export IKD_TEST_PRINTER_OUT
go vet -tags cups ./kiosk/printer/ ./cmd/ikdctl/
go test -tags cups -count=1 -timeout 10m -run 'CUPS' -v ./kiosk/printer/ ./cmd/ikdctl/
