package pgstore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ikd-field/ikd/internal/pgtest"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/mail"
	"github.com/ikd-field/ikd/sync/registry/storetest"
)

// testURL returns the URL of a fresh, empty database (see internal/pgtest).
func testURL(t *testing.T) string { return pgtest.FreshDatabase(t) }

func open(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) registry.Store { return open(t, testURL(t)) })
}

// TestConformanceSealed runs the suite through registry.Seal: sealing must not change what
// the Store does.
func TestConformanceSealed(t *testing.T) {
	keys, err := registry.NewDataKeys()
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, func(t *testing.T) registry.Store { return registry.Seal(open(t, testURL(t)), keys) })
}

// TestTwoProcesses runs the concurrency tests with two Stores (two pools) on one database,
// as two registry processes would.
func TestTwoProcesses(t *testing.T) {
	storetest.RunConcurrent(t, func(t *testing.T) []registry.Store {
		u := testURL(t)
		return []registry.Store{open(t, u), open(t, u)}
	})
}

// TestConcurrentOpen starts several stores at once on an empty database: the schema is
// migrated once and all of them work.
func TestConcurrentOpen(t *testing.T) {
	u := testURL(t)
	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(t.Context(), u)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	var rows, versions int
	if err := stores[0].pool.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	if rows != len(migrations) || versions != len(migrations) {
		t.Errorf("schema_migrations: %d rows, %d versions; want %d", rows, versions, len(migrations))
	}
	for i, s := range stores {
		if err := s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error {
			_, err := tx.UseNonce(ctx, "k", string(rune('a'+i)), time.Now())
			return err
		}); err != nil {
			t.Errorf("store %d: %v", i, err)
		}
	}
}

func TestReopen(t *testing.T) {
	u := testURL(t)
	s, err := Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	d := registry.Device{KioskID: "k1", PublicKey: make([]byte, 32), Area: "A", EnrolledAt: time.UnixMilli(1_700_000_000_123).UTC()}
	if err := s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error { return tx.InsertDevice(ctx, d) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, u)
	if err := s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error {
		got, err := tx.Device(ctx, "k1")
		if err != nil {
			return err
		}
		if !got.EnrolledAt.Equal(d.EnrolledAt) || got.Area != "A" {
			t.Errorf("after reopen: %+v", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	u := testURL(t)
	s := open(t, u)
	if _, err := s.pool.Exec(t.Context(), `INSERT INTO schema_migrations (version) VALUES (99)`); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(t.Context(), u)
	if err == nil {
		s2.Close()
	}
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open: %v, want ErrNewerSchema", err)
	}
}

// TestUnreachable: a server that does not answer fails Open with an error naming it, within
// the caller's deadline. 192.0.2.1 (TEST-NET-1) drops packets; port 1 on localhost refuses.
func TestUnreachable(t *testing.T) {
	for _, tc := range []struct{ name, url, host string }{
		{"refused", "postgres://ikd:secret@127.0.0.1:1/ikd?sslmode=disable", "127.0.0.1"},
		{"silent", "postgres://ikd:secret@192.0.2.1:5432/ikd?sslmode=disable", "192.0.2.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			start := time.Now()
			s, err := Open(ctx, tc.url)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Open took %v", d)
			}
			if !strings.Contains(err.Error(), tc.host) {
				t.Errorf("error does not name %s: %v", tc.host, err)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error shows the password: %v", err)
			}
			t.Log(err)
		})
	}
}

// BenchmarkIngest measures a kiosk sync's hot path: per record, one transaction with the
// nonce, the device check and touch, and the dedup insert, from 50 goroutines at once.
func BenchmarkIngest(b *testing.B) {
	u := pgtest.FreshDatabase(b)
	s, err := Open(b.Context(), u)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.InTx(b.Context(), func(ctx context.Context, tx registry.Tx) error {
		return tx.InsertDevice(ctx, registry.Device{KioskID: "k", PublicKey: make([]byte, 32), EnrolledAt: time.Now()})
	}); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(max(1, 50/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			id := fmt.Sprint("rec-", i)
			now := time.Now()
			err := s.InTx(b.Context(), func(ctx context.Context, tx registry.Tx) error {
				if _, err := tx.UseNonce(ctx, "k", id, now); err != nil {
					return err
				}
				if _, err := tx.Device(ctx, "k"); err != nil {
					return err
				}
				if _, err := tx.InsertRecord(ctx, registry.StoredRecord{ID: id, KioskID: "k", Kind: "activation", ReceivedAt: now, Status: 1, Envelope: make([]byte, 600)}); err != nil {
					return err
				}
				return tx.TouchDevice(ctx, "k", now)
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// TestLatestTombstones: the batch read answers what LatestTombstone answers for each NIK, and
// leaves out NIKs without a tombstone.
func TestLatestTombstones(t *testing.T) {
	s := open(t, testURL(t))
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	err := s.InTx(t.Context(), func(ctx context.Context, rtx registry.Tx) error {
		for i, ts := range []registry.Tombstone{{NIK: "a", At: t0, RecordID: "r1"}, {NIK: "a", At: t0.Add(time.Hour), RecordID: "r2"},
			{NIK: "a", At: t0.Add(time.Minute), RecordID: "r3"}, {NIK: "b", At: t0, RecordID: "r4"}} {
			if err := rtx.InsertTombstone(ctx, ts); err != nil {
				return fmt.Errorf("tombstone %d: %w", i, err)
			}
		}
		got, err := rtx.(registry.TombstonesTx).LatestTombstones(ctx, []string{"a", "b", "c"})
		if err != nil {
			return err
		}
		if len(got) != 2 {
			t.Errorf("got %d tombstones, want 2: %+v", len(got), got)
		}
		for _, nik := range []string{"a", "b"} {
			want, err := rtx.LatestTombstone(ctx, nik)
			if err != nil {
				return err
			}
			if got[nik] != want {
				t.Errorf("%s: %+v, want %+v", nik, got[nik], want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMailCodeForgotten: the queue keeps a mail's code only while it may still be sent.
func TestMailCodeForgotten(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		name     string
		outcome  func(s *Store, id string) error
		wantCode string
	}{
		{"Sent", func(s *Store, id string) error { return s.Sent(t.Context(), id, now) }, ""},
		{"FailedForGood", func(s *Store, id string) error {
			return s.Failed(t.Context(), id, now, now, "550 refused", true)
		}, ""},
		{"FailedForNow", func(s *Store, id string) error {
			return s.Failed(t.Context(), id, now, now.Add(time.Minute), "451 later", false)
		}, "123456"},
	}
	s := open(t, testURL(t))
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("m%d", i)
			if err := s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error {
				return tx.EnqueueMail(ctx, mail.Mail{ID: id, To: "a@example.id", Code: "123456", ExpiresAt: now, CreatedAt: now})
			}); err != nil {
				t.Fatal(err)
			}
			if err := tt.outcome(s, id); err != nil {
				t.Fatal(err)
			}
			var code string
			if err := s.pool.QueryRow(t.Context(), `SELECT code FROM mails WHERE id = $1`, id).Scan(&code); err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Errorf("code %q, want %q", code, tt.wantCode)
			}
		})
	}
}
