package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/mail"
	"github.com/ikd-field/ikd/sync/registry/storetest"
)

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) registry.Store {
		return open(t, filepath.Join(t.TempDir(), "registry.db"))
	})
}

// TestConformanceSealed runs the suite through registry.Seal: sealing must not change what
// the Store does.
func TestConformanceSealed(t *testing.T) {
	keys, err := registry.NewDataKeys()
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, func(t *testing.T) registry.Store {
		return registry.Seal(open(t, filepath.Join(t.TempDir(), "registry.db")), keys)
	})
}

// TestTwoStoresOneFile runs the concurrency tests with two Stores on one file, as two
// registry processes would: the file lock, busy_timeout and the busy retry keep them correct.
func TestTwoStoresOneFile(t *testing.T) {
	storetest.RunConcurrent(t, func(t *testing.T) []registry.Store {
		p := filepath.Join(t.TempDir(), "registry.db")
		return []registry.Store{open(t, p), open(t, p)}
	})
}

func TestManyGoroutinesInTx(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "registry.db"))
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

func TestReopen(t *testing.T) {
	p := filepath.Join(t.TempDir(), "registry.db")
	s, err := Open(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	d := registry.Device{KioskID: "k1", PublicKey: make([]byte, 32), Area: "A", EnrolledAt: time.UnixMilli(1_700_000_000_123).UTC()}
	if err := s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error { return tx.InsertDevice(ctx, d) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, p)
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

func TestPragmas(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "registry.db"))
	for _, tc := range []struct {
		pragma, want string
	}{
		{"journal_mode", "wal"}, {"synchronous", "2"}, {"foreign_keys", "1"}, {"busy_timeout", "10000"},
		{"application_id", fmt.Sprint(applicationID)}, {"user_version", fmt.Sprint(len(migrations))},
	} {
		for name, db := range map[string]*sql.DB{"writer": s.w, "reader": s.r} {
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
				open(t, p).Close()
			}
			db, err := sql.Open("sqlite", p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(tc.setup); err != nil {
				t.Fatal(err)
			}
			db.Close()
			s, err := Open(t.Context(), p)
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
		s := open(t, p)
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
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, filepath.Join(t.TempDir(), "registry.db"))
			if err := s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error {
				return tx.EnqueueMail(ctx, mail.Mail{ID: "m1", To: "a@example.id", Code: "123456", ExpiresAt: now, CreatedAt: now})
			}); err != nil {
				t.Fatal(err)
			}
			if err := tt.outcome(s, "m1"); err != nil {
				t.Fatal(err)
			}
			var code string
			if err := s.r.QueryRowContext(t.Context(), `SELECT code FROM mails WHERE id = 'm1'`).Scan(&code); err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Errorf("code %q, want %q", code, tt.wantCode)
			}
		})
	}
}
