package store

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

// BenchConfig sizes a store benchmark.
type BenchConfig struct {
	Residents int // snapshot size, with one descriptor each
	Lookups   int // NIK lookups timed one by one
	Appends   int // durable outbox appends timed one by one
}

// BenchReport is what RunBench measured.
type BenchReport struct {
	Config            BenchConfig
	Unlock            time.Duration // Create: argon2id with DefaultKDF, plus schema
	Import            time.Duration // ImportResidents of the whole snapshot
	Lookup            Latency
	Append            Latency
	BytesPerResident  float64 // database file size after import and close, per resident
	DatabaseBytes     int64
	ImportedResidents int
}

// Latency summarises timed operations.
type Latency struct {
	P50, P99, Max time.Duration
}

func summarise(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	slices.Sort(d)
	return Latency{P50: d[len(d)/2], P99: d[len(d)*99/100], Max: d[len(d)-1]}
}

// RunBench builds a store in dir (which must not hold one) with the production key
// derivation and measures import, lookup, durable append and size. It leaves the store file
// in dir; the caller removes dir.
func RunBench(ctx context.Context, dir string, cfg BenchConfig) (BenchReport, error) {
	rep := BenchReport{Config: cfg}
	var in bytes.Buffer
	if err := snapshot.WriteSynthetic(&in, 1, cfg.Residents); err != nil {
		return rep, err
	}
	path := filepath.Join(dir, "kiosk.db")
	start := time.Now()
	s, err := Create(ctx, path, []byte("bench-unlock-secret"), Options{})
	if err != nil {
		return rep, err
	}
	defer func() {
		if s != nil {
			s.Close()
		}
	}()
	rep.Unlock = time.Since(start)

	start = time.Now()
	c, err := s.ImportResidents(ctx, &in, "bench")
	if err != nil {
		return rep, err
	}
	rep.Import, rep.ImportedResidents = time.Since(start), c.Added

	rng := rand.New(rand.NewPCG(2, 3))
	times := make([]time.Duration, 0, max(cfg.Lookups, cfg.Appends))
	for range cfg.Lookups {
		nik := snapshot.Synthetic(1, rng.IntN(max(cfg.Residents, 1))).NIK
		t0 := time.Now()
		_, err := s.ResidentByNIK(ctx, nik)
		times = append(times, time.Since(t0))
		if err != nil && cfg.Residents > 0 {
			return rep, fmt.Errorf("lookup %s: %w", nik.Masked(), err)
		}
	}
	rep.Lookup = summarise(times)

	times = times[:0]
	envelope := bytes.Repeat([]byte{0xA5}, 300) // about the size of a signed activation
	for i := range cfg.Appends {
		id := fmt.Sprintf("bench-%d", i)
		rec := kiosk.OutboxRecord{ID: id, Kind: kiosk.KindActivation, NIK: snapshot.Synthetic(1, i).NIK,
			RegistrationID: "reg-" + id, Envelope: envelope}
		t0 := time.Now()
		err := s.Enqueue(ctx, rec, kiosk.AuditEvent{OfficerID: "bench", Action: "activation.approved", Subject: id})
		times = append(times, time.Since(t0))
		if err != nil {
			return rep, err
		}
	}
	rep.Append = summarise(times)

	if err := s.Close(); err != nil {
		return rep, err
	}
	s = nil
	fi, err := os.Stat(path)
	if err != nil {
		return rep, err
	}
	rep.DatabaseBytes = fi.Size()
	if cfg.Residents > 0 {
		rep.BytesPerResident = float64(fi.Size()) / float64(cfg.Residents)
	}
	return rep, nil
}
