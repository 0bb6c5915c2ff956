package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

const testSecret = "rahasia-kiosk-uji"

// testOptions use the argon2id floor, the cheapest the store accepts, so the suite stays fast.
func testOptions() Options {
	return Options{
		KDF: MinKDF,
		PIN: PINParams(MinKDF),
	}
}

func mustCreate(t testing.TB, opts Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s, err := Create(context.Background(), path, []byte(testSecret), opts)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func mustOpen(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, []byte(testSecret), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawDB opens the file with a second, plain connection, as an attacker or a repair tool would.
func rawDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestCreateAndOpen(t *testing.T) {
	ctx := context.Background()
	s, path := mustCreate(t, testOptions())
	id, pub := s.KioskID(), s.DeviceKey().Public().(ed25519.PublicKey)
	if id == "" {
		t.Fatal("empty kiosk id")
	}
	s.Close()

	t.Run("RightSecret", func(t *testing.T) {
		s := mustOpen(t, path, testOptions())
		if s.KioskID() != id || !pub.Equal(s.DeviceKey().Public()) {
			t.Errorf("identity changed across reopen: %s / %s", s.KioskID(), id)
		}
	})
	t.Run("WrongSecret", func(t *testing.T) {
		_, err := Open(ctx, path, []byte("bukan-rahasianya"), testOptions())
		if !errors.Is(err, ErrWrongSecret) {
			t.Fatalf("err = %v, want ErrWrongSecret", err)
		}
		if got := kiosk.OfficerMessage(err, kiosk.LangID); got != "Kata sandi kiosk salah." {
			t.Errorf("officer message = %q", got)
		}
	})
	t.Run("CreateRefusesExisting", func(t *testing.T) {
		before, _ := os.ReadFile(path)
		_, err := Create(ctx, path, []byte(testSecret), testOptions())
		if !errors.Is(err, ErrStoreExists) {
			t.Fatalf("err = %v, want ErrStoreExists", err)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Error("existing store was modified")
		}
	})
	t.Run("Missing", func(t *testing.T) {
		_, err := Open(ctx, filepath.Join(t.TempDir(), "none.db"), []byte(testSecret), testOptions())
		if !errors.Is(err, ErrStoreMissing) {
			t.Fatalf("err = %v, want ErrStoreMissing", err)
		}
	})
	t.Run("ShortSecret", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "kiosk.db")
		_, err := Create(ctx, p, []byte("pendek"), testOptions())
		if !errors.Is(err, ErrWeakSecret) {
			t.Fatalf("err = %v, want ErrWeakSecret", err)
		}
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Error("a failed Create left a file behind")
		}
	})
	t.Run("NewerSchema", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "kiosk.db")
		copyFile(t, path, p)
		if _, err := rawDB(t, p).Exec("PRAGMA user_version = 99"); err != nil {
			t.Fatal(err)
		}
		_, err := Open(ctx, p, []byte(testSecret), testOptions())
		if !errors.Is(err, ErrNewerSchema) {
			t.Fatalf("err = %v, want ErrNewerSchema", err)
		}
	})
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRejectsForeignFiles(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0x42}, 8000)...)
	random := make([]byte, 16384)
	for i := range random {
		random[i] = byte(i*7919 + i/3)
	}
	for _, tc := range []struct {
		name  string
		write func(t *testing.T, path string)
	}{
		{"PNGRenamed", func(t *testing.T, p string) { os.WriteFile(p, png, 0o600) }},
		{"RandomBytes", func(t *testing.T, p string) { os.WriteFile(p, random, 0o600) }},
		{"EmptyFile", func(t *testing.T, p string) { os.WriteFile(p, nil, 0o600) }},
		{"Directory", func(t *testing.T, p string) { os.Mkdir(p, 0o700) }},
		{"OtherAppDatabase", func(t *testing.T, p string) {
			db := rawDB(t, p)
			if _, err := db.Exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('halo')"); err != nil {
				t.Fatal(err)
			}
			db.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "kiosk.db")
			tc.write(t, p)
			before, _ := os.ReadFile(p)
			_, err := Open(context.Background(), p, []byte(testSecret), testOptions())
			if !errors.Is(err, ErrNotKioskStore) {
				t.Fatalf("err = %v, want ErrNotKioskStore", err)
			}
			t.Logf("error: %v", err)
			if after, _ := os.ReadFile(p); !bytes.Equal(before, after) {
				t.Error("Open modified a foreign file")
			}
		})
	}
}

func TestOpenCorruptStore(t *testing.T) {
	s, path := mustCreate(t, testOptions())
	s.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Scribble over every page but the header page: the schema and meta tables are gone.
	for i := 4096; i < len(b); i++ {
		b[i] = byte(i * 31)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), path, []byte(testSecret), testOptions())
	if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotKioskStore) {
		t.Fatalf("err = %v, want ErrCorrupt or ErrNotKioskStore", err)
	}
	t.Logf("error: %v", err)
}

func TestReadOnlyDirectory(t *testing.T) {
	s, path := mustCreate(t, testOptions())
	s.Close()
	dir := filepath.Dir(path)
	makeReadOnly(t, dir)
	_, err := Open(context.Background(), path, []byte(testSecret), testOptions())
	if !errors.Is(err, ErrReadOnly) {
		t.Fatalf("err = %v, want ErrReadOnly", err)
	}
	t.Logf("error: %v", err)
	_, err = Create(context.Background(), filepath.Join(dir, "other.db"), []byte(testSecret), testOptions())
	if !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Create: err = %v, want ErrReadOnly", err)
	}
}

// makeReadOnly makes dir unwritable. Root ignores permission bits, so as root the directory
// is made immutable with chattr (CAP_LINUX_IMMUTABLE), and the test skips if that fails.
func makeReadOnly(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		return
	}
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("running as root and chattr +i failed (%v: %s): cannot make a directory read-only", err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
}

func TestDiskFull(t *testing.T) {
	// A real full disk needs a tiny filesystem (tmpfs, root only). SQLite's max_page_count
	// fails writes with the same SQLITE_FULL result code a full disk gives, which is what the
	// store maps; that is what this test exercises.
	ctx := context.Background()
	opts := testOptions()
	opts.MaxBytes = 400 << 10
	s, _ := mustCreate(t, opts)
	var full error
	for i := 0; i < 100 && full == nil; i++ {
		var buf bytes.Buffer
		for j := range 50 {
			line, _ := snapshot.EncodeLine(snapshot.Synthetic(1, i*50+j))
			buf.Write(append(line, '\n'))
		}
		_, full = s.ImportResidents(ctx, &buf, "")
	}
	if !errors.Is(full, ErrDiskFull) {
		t.Fatalf("err = %v, want ErrDiskFull", full)
	}
	t.Logf("error: %v", full)
	// The store stays usable: reads work, and the failed import left the audit chain intact.
	if _, err := s.ResidentCount(ctx); err != nil {
		t.Errorf("count after disk full: %v", err)
	}
	if _, err := s.VerifyAudit(ctx); err != nil {
		t.Errorf("audit after disk full: %v", err)
	}
}

// fixedClock is a settable clock for lockout tests.
type fixedClock struct{ t time.Time }

func (c *fixedClock) now() time.Time { return c.t }

func TestDurabilitySettings(t *testing.T) {
	s, _ := mustCreate(t, testOptions())
	var mode string
	var sync, fk int
	if err := s.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	s.db.QueryRow("PRAGMA synchronous").Scan(&sync)
	s.db.QueryRow("PRAGMA foreign_keys").Scan(&fk)
	if mode != "wal" || sync != 2 || fk != 1 {
		t.Errorf("journal_mode=%s synchronous=%d foreign_keys=%d, want wal, 2 (FULL), 1", mode, sync, fk)
	}
}
