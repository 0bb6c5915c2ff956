package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/ikd-field/ikd/sync/syncbench"
)

// postgresEnv names the variable build/postgres.sh's URL is kept in, as the tests read it.
const postgresEnv = "IKD_TEST_POSTGRES"

// benchSync measures kiosk-to-registry sync over loopback HTTP (see sync/syncbench) and
// prints one table whose last line is the machine-readable summary.
func benchSync(ctx context.Context, e env) error {
	fs := newFlags("bench sync", e)
	activations := fs.Int("activations", 10000, "activations drained from one kiosk, and records of each ingest run")
	kiosks := fs.Int("kiosks", 50, "concurrent kiosk simulators of the ingest runs")
	residents := fs.Int("residents", 200000, "residents of the snapshot pull")
	pg := fs.String("postgres", os.Getenv(postgresEnv), "PostgreSQL server URL where databases may be created (default $"+postgresEnv+")")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (kiosk and registry sides) to this file")
	dir := fs.String("dir", "", "directory for the scratch databases (default: a temporary directory, removed after)")
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if *activations < 1 || *kiosks < 1 || *residents < 1 || *activations < *kiosks || fs.NArg() != 0 {
		return usageError("bench sync [--activations N] [--kiosks N] [--residents N] [--postgres URL] [--dir DIR] [--cpuprofile FILE]")
	}
	if *pg == "" {
		return fmt.Errorf("bench sync: %w", syncbench.ErrNoPostgres)
	}
	scratch := *dir
	if scratch == "" {
		d, err := os.MkdirTemp("", "ikd-bench-sync-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		scratch = d
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("bench sync: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("bench sync: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := syncbench.Run(ctx, syncbench.Config{Activations: *activations, Kiosks: *kiosks, Residents: *residents,
		PostgresURL: *pg, Dir: scratch, Progress: e.stderr})
	if err != nil {
		return fmt.Errorf("bench sync: %w", err)
	}
	return rep.Write(e.stdout)
}
