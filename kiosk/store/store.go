// Package store is the kiosk's local SQLite store (modernc.org/sqlite, pure Go): the resident
// snapshot, officers, the durable outbox, the hash-chained audit log, the registry trust
// store and the kiosk's own identity, with personal data encrypted at rest.
//
// One file per kiosk. Every connection runs in WAL mode with synchronous=FULL, so a commit
// (an enqueued activation above all) has reached the disk when the call returns.
package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/ikd-field/ikd/kiosk"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Options tune a store. The zero value is the production configuration.
type Options struct {
	// KDF is used by Create only; Open reads the parameters stored in the file.
	KDF KDFParams
	// PIN is the argon2id cost of officer PIN hashes written from now on.
	PIN PINParams
	// Lockout is the failed-PIN policy; zero means kiosk.DefaultLockout.
	Lockout kiosk.LockoutPolicy
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxBytes caps the database size (SQLite max_page_count) so the store cannot fill the
	// disk the operating system needs; writes beyond it fail with ErrDiskFull. 0: no cap.
	MaxBytes int64
	// KioskID is used by Create only; empty means a fresh UUIDv7.
	KioskID string
}

func (o Options) withDefaults() Options {
	if o.KDF == (KDFParams{}) {
		o.KDF = DefaultKDF
	}
	if o.PIN == (PINParams{}) {
		o.PIN = DefaultPIN
	}
	if o.Lockout == (kiosk.LockoutPolicy{}) {
		o.Lockout = kiosk.DefaultLockout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Store is an open kiosk store. It is safe for concurrent use.
type Store struct {
	db        *sql.DB
	keys      *keyring
	opts      Options
	kioskID   string
	deviceKey ed25519.PrivateKey
}

// MinSecretLen is the shortest unlock secret Create accepts.
const MinSecretLen = 8

// ErrWeakSecret: the unlock secret chosen at Create is too short.
var ErrWeakSecret = &kiosk.Error{Code: "store.weak_secret", Msg: kiosk.Message{
	ID: fmt.Sprintf("Kata sandi kiosk terlalu pendek (minimal %d karakter).", MinSecretLen),
	EN: fmt.Sprintf("The kiosk unlock secret is too short (at least %d characters).", MinSecretLen)}}

// Create makes a new store at path, protected by secret. It refuses to touch an existing
// file (ErrStoreExists) and leaves nothing behind when it fails.
func Create(ctx context.Context, path string, secret []byte, opts Options) (_ *Store, err error) {
	opts = opts.withDefaults()
	if len(secret) < MinSecretLen {
		return nil, ErrWeakSecret
	}
	if err := opts.KDF.valid(); err != nil {
		return nil, fmt.Errorf("create store: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fileError("create store", err)
	}
	// O_EXCL makes "never overwrite" hold even against a concurrent init.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fileError("create store", err)
	}
	f.Close()
	defer func() {
		if err != nil {
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				os.Remove(p)
			}
		}
	}()

	db, err := openDB(ctx, path, opts)
	if err != nil {
		return nil, fmt.Errorf("create store: %w", err)
	}
	s, err := initialise(ctx, db, secret, opts)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("create store: %w", err)
	}
	return s, nil
}

func initialise(ctx context.Context, db *sql.DB, secret []byte, opts Options) (*Store, error) {
	if _, err := db.ExecContext(ctx, "PRAGMA journal_mode = WAL"); err != nil {
		return nil, classify(err)
	}
	if err := migrate(ctx, db, 0); err != nil {
		return nil, err
	}
	dataKey, salt := randomBytes(keySize), randomBytes(saltSize)
	wrapped, err := wrapDataKey(secret, salt, opts.KDF, dataKey)
	if err != nil {
		return nil, err
	}
	keys, err := newKeyring(dataKey)
	if err != nil {
		return nil, err
	}
	id := opts.KioskID
	if id == "" {
		u, err := uuid.NewV7()
		if err != nil {
			return nil, fmt.Errorf("kiosk id: %w", err)
		}
		id = u.String()
	}
	_, devKey, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, fmt.Errorf("device key: %w", err)
	}
	s := &Store{db: db, keys: keys, opts: opts, kioskID: id, deviceKey: devKey}
	err = s.write(ctx, func(tx *sql.Tx) error {
		for k, v := range map[string][]byte{
			metaKDFSalt:    salt,
			metaKDFParams:  opts.KDF.encode(),
			metaWrappedKey: wrapped,
			metaKioskID:    []byte(id),
			metaDeviceKey:  keys.seal(devKey.Seed(), []byte(metaDeviceKey)),
		} {
			if err := setMeta(ctx, tx, k, v); err != nil {
				return err
			}
		}
		return s.appendAudit(ctx, tx, kiosk.AuditEvent{Action: "store.created", Subject: id})
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Open opens the store at path with secret. It fails with ErrStoreMissing, ErrNotKioskStore
// (another application's database, or not a database at all), ErrNewerSchema or
// ErrWrongSecret; an older schema is migrated forward.
func Open(ctx context.Context, path string, secret []byte, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fileError("open store", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("open store %s: %w", path, ErrNotKioskStore.With(errors.New("is a directory")))
	}
	db, err := openDB(ctx, path, opts)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s, err := unlock(ctx, db, secret, opts)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

func unlock(ctx context.Context, db *sql.DB, secret []byte, opts Options) (*Store, error) {
	// Identify the file before writing anything to it: no journal-mode change or migration
	// may touch another application's database.
	appID, version, err := header(ctx, db)
	if err != nil {
		return nil, err
	}
	if appID != applicationID {
		return nil, ErrNotKioskStore.With(fmt.Errorf("application_id %#x, want %#x", appID, applicationID))
	}
	if _, err := db.ExecContext(ctx, "PRAGMA journal_mode = WAL"); err != nil {
		return nil, classify(err)
	}
	if err := migrate(ctx, db, version); err != nil {
		return nil, err
	}
	meta, err := readMeta(ctx, db, metaKDFSalt, metaKDFParams, metaWrappedKey, metaKioskID, metaDeviceKey)
	if err != nil {
		return nil, err
	}
	params, err := decodeKDFParams(meta[metaKDFParams])
	if err != nil {
		return nil, ErrNotKioskStore.With(err)
	}
	dataKey, err := unwrapDataKey(secret, meta[metaKDFSalt], params, meta[metaWrappedKey])
	if err != nil {
		return nil, err
	}
	keys, err := newKeyring(dataKey)
	if err != nil {
		return nil, err
	}
	seed, err := keys.open(meta[metaDeviceKey], []byte(metaDeviceKey))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, ErrCorrupt.With(fmt.Errorf("device key: %v", err))
	}
	return &Store{db: db, keys: keys, opts: opts, kioskID: string(meta[metaKioskID]),
		deviceKey: ed25519.NewKeyFromSeed(seed)}, nil
}

// openDB opens the file (never creating it) with the per-connection settings every
// connection needs. journal_mode is persistent in the file and is set after identification.
func openDB(ctx context.Context, path string, opts Options) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("mode", "rw")
	q.Set("_txlock", "immediate") // writers queue at BEGIN, so read-then-write never deadlocks
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)") // a commit is on disk when it returns (power cut)
	// 32 MiB page cache: a 200 000-resident import otherwise spills index pages to the WAL
	// and rewrites them (measured: 25% less CPU, half the system time).
	q.Add("_pragma", "cache_size(-32768)")
	if opts.MaxBytes > 0 {
		q.Add("_pragma", fmt.Sprintf("max_page_count(%d)", max(opts.MaxBytes/4096, 1)))
	}
	dsn := (&url.URL{Scheme: "file", Path: abs}).String() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	db.SetConnMaxIdleTime(time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, classify(err)
	}
	return db, nil
}

// fileError maps an operating-system failure on the store file to a store error.
func fileError(op string, err error) error {
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s: %w", op, ErrStoreExists.With(err))
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: %w", op, ErrStoreMissing.With(err))
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s: %w", op, ErrReadOnly.With(err))
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Close closes the database. Committed data is already durable.
func (s *Store) Close() error { return s.db.Close() }

// KioskID is the kiosk's identity, generated at Create.
func (s *Store) KioskID() string { return s.kioskID }

// DeviceKey is the kiosk's Ed25519 signing key, generated at Create and stored encrypted.
func (s *Store) DeviceKey() ed25519.PrivateKey { return s.deviceKey }

func (s *Store) now() time.Time { return s.opts.Now() }

// write runs fn in one IMMEDIATE transaction and commits it durably.
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		var keep errKeep
		if !errors.As(err, &keep) {
			return classify(err)
		}
		if err := tx.Commit(); err != nil {
			return classify(err)
		}
		return keep.err
	}
	return classify(tx.Commit())
}

// errKeep is an error after which write still commits: a rejected login must keep its
// attempt counter and audit entry.
type errKeep struct{ err error }

func (e errKeep) Error() string { return e.err.Error() }
