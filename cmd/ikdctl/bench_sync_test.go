package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/internal/pgtest"
)

var benchSyncLastLine = regexp.MustCompile(`^sync-bench drain-10k-s \d+\.\d{2} bytes-per-activation \d+ ingest-sqlite-rps \d+ ` +
	`ingest-postgres-rps \d+ postgres-bulk-rps \d+ snapshot-200k-s \d+\.\d{2} snapshot-200k-mb \d+ ` +
	`ingest-postgres-unsealed-rps \d+ sealing-cost-pct -?\d+\.\d signature-floor-rps \d+ ingest-of-floor \d+\.\d{2}$`)

// TestBenchSyncTiny runs `bench sync` at a tiny size and checks the table's shape; no timing
// is asserted.
func TestBenchSyncTiny(t *testing.T) {
	code, stdout, stderr := runCmd(t, "bench", "sync", "--activations", "20", "--kiosks", "2", "--residents", "50",
		"--postgres", pgtest.URL(t))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if last := lines[len(lines)-1]; !benchSyncLastLine.MatchString(last) {
		t.Errorf("last line %q does not match %v", last, benchSyncLastLine)
	}
	for _, want := range []string{"MEASURE", "load average", "drain 20 activations", "snapshot pull 50 residents"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestBenchSyncWithoutPostgres(t *testing.T) {
	t.Setenv(postgresEnv, "")
	code, _, stderr := runCmd(t, "bench", "sync")
	if code == 0 || !strings.Contains(stderr, "sudo build/postgres.sh") || !strings.Contains(stderr, "export IKD_TEST_POSTGRES") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}
