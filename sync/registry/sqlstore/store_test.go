package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ikd-field/ikd/internal/pgtest"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/mail"
	"github.com/ikd-field/ikd/sync/registry/storetest"
)

// backends are the databases every shared test runs on. fresh opens a store on a new,
// empty database; reopen opens another store on the same database as the one before.
var backends = []struct {
	name string
	dsn  func(t testing.TB) string
	open func(ctx context.Context, dsn string) (*Store, error)
}{
	{"sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "registry.db") }, OpenSQLite},
	{"postgres", func(t testing.TB) string { return pgtest.FreshDatabase(t) }, OpenPostgres},
}

func openAt(t *testing.T, open func(context.Context, string) (*Store, error), dsn string) *Store {
	t.Helper()
	s, err := open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// eachBackend runs fn as a subtest per database.
func eachBackend(t *testing.T, fn func(t *testing.T, dsn func(testing.TB) string, open func(*testing.T, string) *Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			fn(t, b.dsn, func(t *testing.T, dsn string) *Store { return openAt(t, b.open, dsn) })
		})
	}
}

func TestConformance(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn func(testing.TB) string, open func(*testing.T, string) *Store) {
		storetest.Run(t, func(t *testing.T) registry.Store { return open(t, dsn(t)) })
	})
}

// TestConformanceSealed runs the suite through registry.Seal: sealing must not change what
// the Store does.
func TestConformanceSealed(t *testing.T) {
	keys, err := registry.NewDataKeys()
	if err != nil {
		t.Fatal(err)
	}
	eachBackend(t, func(t *testing.T, dsn func(testing.TB) string, open func(*testing.T, string) *Store) {
		storetest.Run(t, func(t *testing.T) registry.Store { return registry.Seal(open(t, dsn(t)), keys) })
	})
}

// TestTwoProcesses runs the concurrency tests with two Stores on one database, as two
// registry processes would: on SQLite the file lock, busy_timeout and the busy retry keep
// them correct; on PostgreSQL two pools.
func TestTwoProcesses(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn func(testing.TB) string, open func(*testing.T, string) *Store) {
		storetest.RunConcurrent(t, func(t *testing.T) []registry.Store {
			d := dsn(t)
			return []registry.Store{open(t, d), open(t, d)}
		})
	})
}

func TestReopen(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn func(testing.TB) string, open func(*testing.T, string) *Store) {
		d := dsn(t)
		s := open(t, d)
		dev := registry.Device{KioskID: "k1", PublicKey: make([]byte, 32), Area: "A", EnrolledAt: time.UnixMilli(1_700_000_000_123).UTC()}
		if err := s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error { return tx.InsertDevice(ctx, dev) }); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s = open(t, d)
		if err := s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error {
			got, err := tx.Device(ctx, "k1")
			if err != nil {
				return err
			}
			if !got.EnrolledAt.Equal(dev.EnrolledAt) || got.Area != "A" {
				t.Errorf("after reopen: %+v", got)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
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
	eachBackend(t, func(t *testing.T, dsn func(testing.TB) string, open func(*testing.T, string) *Store) {
		s := open(t, dsn(t))
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
				if err := s.d.reader().queryRow(t.Context(), `SELECT code FROM mails WHERE id = ?`, id).Scan(&code); err != nil {
					t.Fatal(err)
				}
				if code != tt.wantCode {
					t.Errorf("code %q, want %q", code, tt.wantCode)
				}
			})
		}
	})
}

// TestRewrite: each dialect turns the shared SQL into its own.
func TestRewrite(t *testing.T) {
	const q = `SELECT id FROM mails WHERE id = ? AND NOT permanent AND at > ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`
	for _, tc := range []struct {
		name string
		r    *rewriter
		q    string
		want string
	}{
		{"postgres", pgSQL, q, `SELECT id FROM mails WHERE id = $1 AND NOT permanent AND at > $2 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`},
		{"sqlite", sqliteSQL, q, `SELECT id FROM mails WHERE id = ? AND permanent = 0 AND at > ? ORDER BY id LIMIT ?`},
		{"sqlite lock", sqliteSQL, `SELECT x FROM t WHERE id = ? FOR UPDATE`, `SELECT x FROM t WHERE id = ?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 2 { // the second answer comes from the cache
				if got := tc.r.rewrite(tc.q); got != tc.want {
					t.Errorf("rewrite:\n got %s\nwant %s", got, tc.want)
				}
			}
		})
	}
}

// TestClaimUsesPartialIndex: on SQLite the claim's rewritten condition matches the partial
// index mails_due, so the planner reads only the mails still waiting.
func TestClaimUsesPartialIndex(t *testing.T) {
	s := openAt(t, OpenSQLite, filepath.Join(t.TempDir(), "registry.db"))
	rows, err := s.d.reader().query(t.Context(), `EXPLAIN QUERY PLAN SELECT id FROM mails
		WHERE sent_at IS NULL AND NOT permanent AND next_attempt <= ? AND leased_until <= ?`, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if !strings.Contains(strings.Join(plan, "; "), "mails_due") {
		t.Errorf("plan does not use mails_due: %q", plan)
	}
}

// SQLite only.

func TestManyGoroutinesInTx(t *testing.T) {
	s := openAt(t, OpenSQLite, filepath.Join(t.TempDir(), "registry.db"))
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error {
				if _, err := tx.UseNonce(ctx, "k", fmt.Sprint(i), time.Now()); err != nil {
					return err
				}
				_, err := tx.Devices(ctx)
				return err
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestPragmas(t *testing.T) {
	s := openAt(t, OpenSQLite, filepath.Join(t.TempDir(), "registry.db"))
	for _, tc := range []struct {
		pragma, want string
	}{
		{"journal_mode", "wal"}, {"synchronous", "2"}, {"foreign_keys", "1"}, {"busy_timeout", "10000"},
		{"application_id", fmt.Sprint(applicationID)}, {"user_version", fmt.Sprint(len(migrations))},
	} {
		for name, db := range map[string]*sql.DB{"writer": s.d.(*sqliteDialect).w, "reader": s.d.(*sqliteDialect).r} {
			var got string
			if err := db.QueryRow("PRAGMA " + tc.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("%s: %s = %s, want %s", name, tc.pragma, got, tc.want)
			}
		}
	}
}

func TestRefusedFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup string
		want  error
	}{
		{"newer schema", fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = 99", applicationID), ErrNewerSchema},
		{"other application", "PRAGMA application_id = 1229669425", ErrForeignFile}, // a kiosk store
		{"foreign tables", "CREATE TABLE t (x)", ErrForeignFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "registry.db")
			if tc.name == "newer schema" {
				openAt(t, OpenSQLite, p).Close()
			}
			db, err := sql.Open("sqlite", p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(tc.setup); err != nil {
				t.Fatal(err)
			}
			db.Close()
			s, err := OpenSQLite(t.Context(), p)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open: %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
}

// TestFilesPrivate: the database, its WAL and shared-memory file are 0600 whatever the umask,
// and a file an older version left 0644 is tightened when opened.
func TestFilesPrivate(t *testing.T) {
	old := syscall.Umask(0) // the most permissive: nothing may rely on the umask
	defer syscall.Umask(old)
	for _, existing := range []bool{false, true} {
		p := filepath.Join(t.TempDir(), "registry.db")
		if existing {
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		s := openAt(t, OpenSQLite, p)
		// A write makes sure the WAL exists.
		if err := s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error {
			_, err := tx.UseNonce(ctx, "k", "n", time.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{p, p + "-wal", p + "-shm"} {
			fi, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("existing=%v: %s has mode %04o, want 0600", existing, filepath.Base(f), fi.Mode().Perm())
			}
		}
	}
}

// PostgreSQL only.

// TestConcurrentOpen starts several stores at once on an empty database: the schema is
// migrated once and all of them work.
func TestConcurrentOpen(t *testing.T) {
	u := pgtest.FreshDatabase(t)
	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = OpenPostgres(t.Context(), u)
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
	if err := stores[0].d.(*pgDialect).pool.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions); err != nil {
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

func TestNewerSchemaRefused(t *testing.T) {
	u := pgtest.FreshDatabase(t)
	s := openAt(t, OpenPostgres, u)
	if _, err := s.d.(*pgDialect).pool.Exec(t.Context(), `INSERT INTO schema_migrations (version) VALUES (99)`); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenPostgres(t.Context(), u)
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
			s, err := OpenPostgres(ctx, tc.url)
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
	s, err := OpenPostgres(b.Context(), u)
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
	s := openAt(t, OpenPostgres, pgtest.FreshDatabase(t))
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	err := s.InTx(t.Context(), func(ctx context.Context, rtx registry.Tx) error {
		for i, ts := range []registry.Tombstone{{NIK: "a", At: t0, RecordID: "r1"}, {NIK: "a", At: t0.Add(time.Hour), RecordID: "r2"},
			{NIK: "a", At: t0.Add(time.Minute), RecordID: "r3"}, {NIK: "b", At: t0, RecordID: "r4"}} {
			if err := rtx.InsertTombstone(ctx, ts); err != nil {
				return fmt.Errorf("tombstone %d: %w", i, err)
			}
		}
		got, err := rtx.(registry.BatchTx).LatestTombstones(ctx, []string{"a", "b", "c"})
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
