package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/ikd-field/ikd/kiosk/store"
)

// benchStore measures the store at a realistic snapshot size and prints a table.
func benchStore(ctx context.Context, e env) error {
	fs := newFlags("bench store", e)
	residents := fs.Int("residents", 200000, "snapshot size (residents with one descriptor each)")
	lookups := fs.Int("lookups", 10000, "NIK lookups to time")
	appends := fs.Int("appends", 200, "durable outbox appends to time")
	dir := fs.String("dir", "", "directory for the scratch store (default: a temporary directory, removed after)")
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if *residents < 1 || *lookups < 1 || *appends < 1 || fs.NArg() != 0 {
		return usageError("bench store [--residents N] [--lookups N] [--appends N] [--dir DIR]")
	}
	scratch := *dir
	if scratch == "" {
		d, err := os.MkdirTemp("", "ikd-bench-store-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		scratch = d
	}
	cfg := store.BenchConfig{Residents: *residents, Lookups: *lookups, Appends: *appends}
	fmt.Fprintf(e.stderr, "building a store of %d synthetic residents in %s ...\n", cfg.Residents, scratch)
	rep, err := store.RunBench(ctx, scratch, cfg)
	if err != nil {
		return fmt.Errorf("bench store: %w", err)
	}
	k := store.DefaultKDF
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEASURE\tRESULT")
	fmt.Fprintf(tw, "create + unlock (argon2id t=%d m=%dMiB p=%d)\t%s\n", k.Time, k.MemoryKiB/1024, k.Threads, rep.Unlock.Round(time.Millisecond))
	fmt.Fprintf(tw, "import %d residents (1 transaction)\t%s (%.0f residents/s)\n", rep.ImportedResidents,
		rep.Import.Round(time.Millisecond), float64(rep.ImportedResidents)/rep.Import.Seconds())
	fmt.Fprintf(tw, "lookup by NIK p50 / p99 / max (%d)\t%s / %s / %s\n", cfg.Lookups, us(rep.Lookup.P50), us(rep.Lookup.P99), us(rep.Lookup.Max))
	fmt.Fprintf(tw, "durable append p50 / p99 / max (%d)\t%s / %s / %s\n", cfg.Appends, us(rep.Append.P50), us(rep.Append.P99), us(rep.Append.Max))
	fmt.Fprintf(tw, "database size\t%.1f MB (%.0f bytes/resident)\n", float64(rep.DatabaseBytes)/1e6, rep.BytesPerResident)
	return tw.Flush()
}

func us(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d.Microseconds())/1000) }
