package store

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

var benchResidents = flag.Int("store.residents", 200000, "snapshot size for the store benchmarks")

// population is one snapshot shared by the lookup benchmark's runs (building 200 000
// residents takes seconds); TestMain removes it.
var population struct {
	once sync.Once
	dir  string
	s    *Store
	err  error
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if population.s != nil {
		population.s.Close()
	}
	if population.dir != "" {
		os.RemoveAll(population.dir)
	}
	os.Exit(code)
}

func populationStore(b *testing.B) *Store {
	population.once.Do(func() {
		population.dir, population.err = os.MkdirTemp("", "ikd-store-bench-")
		if population.err != nil {
			return
		}
		var in bytes.Buffer
		if population.err = snapshot.WriteSynthetic(&in, 1, *benchResidents); population.err != nil {
			return
		}
		ctx := context.Background()
		population.s, population.err = Create(ctx, filepath.Join(population.dir, "kiosk.db"), []byte(testSecret), testOptions())
		if population.err == nil {
			_, population.err = population.s.ImportResidents(ctx, &in, "")
		}
	})
	if population.err != nil {
		b.Fatal(population.err)
	}
	return population.s
}

// BenchmarkImport imports the whole synthetic snapshot (one descriptor per resident) into a
// new store per iteration.
func BenchmarkImport(b *testing.B) {
	ctx := context.Background()
	var in bytes.Buffer
	if err := snapshot.WriteSynthetic(&in, 1, *benchResidents); err != nil {
		b.Fatal(err)
	}
	var size int64
	for i := 0; b.Loop(); i++ {
		path := filepath.Join(b.TempDir(), fmt.Sprintf("kiosk-%d.db", i))
		b.StopTimer()
		s, err := Create(ctx, path, []byte(testSecret), testOptions())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := s.ImportResidents(ctx, bytes.NewReader(in.Bytes()), ""); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		fi, _ := os.Stat(path)
		size = fi.Size()
		os.Remove(path)
		b.StartTimer()
	}
	b.ReportMetric(float64(*benchResidents)*float64(b.N)/b.Elapsed().Seconds(), "residents/s")
	b.ReportMetric(float64(size)/float64(*benchResidents), "bytes/resident")
}

// BenchmarkLookupByNIK looks up random residents of the snapshot and reports the p99.
func BenchmarkLookupByNIK(b *testing.B) {
	ctx := context.Background()
	s := populationStore(b)
	rng := rand.New(rand.NewPCG(5, 6))
	var times []time.Duration
	for b.Loop() {
		nik := snapshot.Synthetic(1, rng.IntN(*benchResidents)).NIK
		t0 := time.Now()
		if _, err := s.ResidentByNIK(ctx, nik); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(t0))
	}
	b.ReportMetric(float64(summarise(times).P99.Microseconds()), "p99-µs")
}

// BenchmarkEnqueueDurable appends activations with synchronous=FULL (one fsync'd commit
// each) and reports the median.
func BenchmarkEnqueueDurable(b *testing.B) {
	ctx := context.Background()
	s, _ := mustCreate(b, testOptions())
	env := bytes.Repeat([]byte{0xA5}, 300)
	var times []time.Duration
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("b%d", i)
		rec := kiosk.OutboxRecord{ID: id, Kind: kiosk.KindActivation, NIK: testNIK, RegistrationID: "reg-" + id, Envelope: env}
		t0 := time.Now()
		if err := s.Enqueue(ctx, rec, approved(id)); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(t0))
	}
	b.ReportMetric(float64(summarise(times).P50.Microseconds())/1000, "median-ms")
}

func TestRunBenchSmall(t *testing.T) {
	rep, err := RunBench(context.Background(), t.TempDir(), BenchConfig{Residents: 300, Lookups: 50, Appends: 5})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ImportedResidents != 300 || rep.DatabaseBytes == 0 || rep.Lookup.P99 == 0 || rep.Append.P50 == 0 {
		t.Errorf("report = %+v", rep)
	}
}
