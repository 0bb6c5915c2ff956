package syncbench_test

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/internal/pgtest"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/sqlstore"
	"github.com/ikd-field/ikd/sync/syncbench"
)

var summary = regexp.MustCompile(`^sync-bench drain-10k-s [0-9.]+ bytes-per-activation [0-9]+ ingest-sqlite-rps [0-9]+ ` +
	`ingest-postgres-rps [0-9]+ postgres-bulk-rps [0-9]+ snapshot-200k-s [0-9.]+ snapshot-200k-mb [0-9]+ ` +
	`ingest-postgres-unsealed-rps [0-9]+ sealing-cost-pct -?[0-9.]+ signature-floor-rps [0-9]+ ingest-of-floor [0-9.]+$`)

// TestRunTiny runs the whole benchmark at a tiny size: every record acknowledged or
// accepted, every resident pulled, and the table ends with the summary line. No timing is
// asserted: the numbers depend on the machine.
func TestRunTiny(t *testing.T) {
	rep, err := syncbench.Run(context.Background(), syncbench.Config{Activations: 50, Kiosks: 4, Residents: 500,
		PostgresURL: pgtest.URL(t), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Drain.Acknowledged != 50 || rep.IngestSQLite.Accepted != 50 || rep.IngestPostgres.Accepted != 100 ||
		rep.IngestPostgresUnsealed.Accepted != 100 ||
		rep.SignatureFloor.Records != 100 || rep.Bulk.Records != 50 || rep.Snapshot.Added != 500 {
		t.Errorf("report %+v", rep)
	}
	if rep.Drain.Bytes == 0 || rep.Snapshot.Bytes == 0 {
		t.Errorf("no bytes counted: drain %d, snapshot %d", rep.Drain.Bytes, rep.Snapshot.Bytes)
	}
	var out bytes.Buffer
	if err := rep.Write(&out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if last := lines[len(lines)-1]; !summary.MatchString(last) {
		t.Errorf("last line %q does not match %s", last, summary)
	}
	if !strings.Contains(out.String(), "MEASURE") || !strings.Contains(lines[1], "load average") {
		t.Errorf("table:\n%s", out.String())
	}
}

func TestRunWithoutPostgres(t *testing.T) {
	_, err := syncbench.Run(context.Background(), syncbench.Config{Activations: 1, Kiosks: 1, Residents: 1, Dir: t.TempDir()})
	if err != syncbench.ErrNoPostgres || !strings.Contains(err.Error(), "sudo build/postgres.sh") {
		t.Errorf("err = %v", err)
	}
}

// sealed seals st with throwaway data keys, as the registry's store is.
func sealed(b *testing.B, st registry.Store) registry.Store {
	keys, err := registry.NewDataKeys()
	if err != nil {
		b.Fatal(err)
	}
	return registry.Seal(st, keys)
}

func sqliteStore(b *testing.B) registry.Store {
	st, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "registry.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return sealed(b, st)
}

func postgresStore(b *testing.B) registry.Store {
	st, err := sqlstore.OpenPostgres(context.Background(), pgtest.FreshDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return sealed(b, st)
}

// BenchmarkDrain pushes b.N queued activations from one kiosk store with Engine.Push.
func BenchmarkDrain(b *testing.B) {
	ctx := context.Background()
	b.StopTimer()
	d, err := syncbench.PrepareDrain(ctx, b.TempDir(), sqliteStore(b), b.N)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.StartTimer()
	res, err := d.Run(ctx)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(res.Bytes)/float64(b.N), "wire-B/op")
}

func benchIngest(b *testing.B, st registry.Store) {
	ctx := context.Background()
	b.StopTimer()
	kiosks := min(8, b.N)
	in, err := syncbench.PrepareIngest(ctx, st, kiosks, b.N)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	b.StartTimer()
	res, err := in.Run(ctx)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.RPS(), "rec/s")
}

// BenchmarkIngestSQLite has up to 8 kiosk simulators push b.N records at once.
func BenchmarkIngestSQLite(b *testing.B) { benchIngest(b, sqliteStore(b)) }

// BenchmarkIngestPostgres is BenchmarkIngestSQLite on PostgreSQL.
func BenchmarkIngestPostgres(b *testing.B) { benchIngest(b, postgresStore(b)) }
