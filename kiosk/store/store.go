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
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/clock"
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
	// Now is the clock; nil means the store's own clock anchored to the registry's time
	// (kiosk/clock, see AnchorClock), which lockouts need.
	Now func() time.Time
	// MaxBytes caps the database size (SQLite max_page_count) so the store cannot fill the
	// disk the operating system needs; writes beyond it fail with ErrDiskFull. 0: no cap.
	MaxBytes int64
	// KioskID is used by Create only; empty means a fresh UUIDv7.
	KioskID string
	// ExpectKioskID, when a deployment configures it, is the kiosk id Open insists on: the
	// database of another kiosk opened with the same secret fails with ErrWrongKiosk.
	ExpectKioskID string
	// NewSealer, when set, builds the signer of audit checkpoint records from the kiosk's
	// identity once the store is open (sync.NewSealer); without it no checkpoint is made.
	NewSealer func(kioskID string, key ed25519.PrivateKey) (kiosk.Sealer, error)
	// CheckpointEvery is the number of audit entries after which a checkpoint record is
	// queued automatically; 0 means DefaultCheckpointEvery.
	CheckpointEvery int64
	// Reanchor makes Open accept a database that is behind or without its anchor file (an
	// operator restoring a backup): the anchor is rewritten and the reset recorded in the
	// audit log. The registry still sees the roll-back through the audit checkpoints.
	Reanchor bool

	// readOnly opens the file read-only (Verify): no journal-mode change, migration or
	// clock save, and SQLite refuses any write.
	readOnly bool
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
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = DefaultCheckpointEvery
	}
	return o
}

// Store is an open kiosk store. It is safe for concurrent use.
type Store struct {
	db        *sql.DB
	path      string // empty while Create builds the store under its temporary name
	keys      *keyring
	opts      Options
	kioskID   string
	deviceKey ed25519.PrivateKey
	clock     *clock.Clock // nil when Options.Now is set
	sealer    kiosk.Sealer // nil: no checkpoints
	anchorMu  sync.Mutex
	anchored  bool // keeps an anchor file: its data key was wrapped for schema 2 at unlock
	closed    atomic.Bool
}

// MinSecretLen is the shortest unlock secret Create accepts.
const MinSecretLen = 8

// ErrWrongKiosk: the store belongs to another kiosk than the one the deployment configures.
var ErrWrongKiosk = &kiosk.Error{Code: "store.wrong_kiosk", Msg: kiosk.Message{
	ID: "Basis data ini milik kiosk lain; pasang basis data kiosk ini atau hubungi petugas TI.",
	EN: "This database belongs to another kiosk; install this kiosk's database or contact IT support."}}

// ErrWeakSecret: the unlock secret chosen at Create is too short.
var ErrWeakSecret = &kiosk.Error{Code: "store.weak_secret", Msg: kiosk.Message{
	ID: fmt.Sprintf("Kata sandi kiosk terlalu pendek (minimal %d karakter).", MinSecretLen),
	EN: fmt.Sprintf("The kiosk unlock secret is too short (at least %d characters).", MinSecretLen)}}

// Create makes a new store at path, protected by secret. It refuses to touch an existing
// file (ErrStoreExists) and leaves nothing behind when it fails. Use Init for a store an
// officer will administer: Create's store has no supervisor.
func Create(ctx context.Context, path string, secret []byte, opts Options) (*Store, error) {
	return create(ctx, path, secret, opts, nil)
}

// Init is Create with the first supervisor. The store is built under a temporary name in the
// same directory and appears at path only once the supervisor is in it, so an init killed
// half-way leaves no file at path (only a temporary one, removed by the next successful init)
// and can simply be run again.
func Init(ctx context.Context, path string, secret []byte, opts Options, sup kiosk.Officer, pin string) (*Store, error) {
	if sup.Role != kiosk.RoleSupervisor {
		return nil, ErrInvalidOfficer.With(fmt.Errorf("first officer %s has role %q, want supervisor", sup.ID, sup.Role))
	}
	if err := ValidPIN(pin); err != nil {
		return nil, err
	}
	return create(ctx, path, secret, opts, func(s *Store) error { return s.AddOfficer(ctx, "", sup, pin) })
}

func create(ctx context.Context, path string, secret []byte, opts Options, populate func(*Store) error) (*Store, error) {
	opts = opts.withDefaults()
	if len(secret) < MinSecretLen {
		return nil, ErrWeakSecret
	}
	if err := opts.KDF.strongEnough(); err != nil {
		return nil, fmt.Errorf("create store: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fileError("create store", err)
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, fileError("create store", fs.ErrExist)
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+initSuffix+"*")
	if err != nil {
		return nil, fileError("create store", err)
	}
	tmp := f.Name()
	f.Close()
	defer removeDB(tmp) // gone after the link below; everything when something failed

	db, err := openDB(ctx, tmp, opts)
	if err != nil {
		return nil, fmt.Errorf("create store: %w", err)
	}
	s, err := initialise(ctx, db, secret, opts)
	if err == nil && populate != nil {
		err = populate(s)
	}
	if err == nil {
		// Before the link: a store in place always has its anchor, so a missing one means
		// it was removed (anchorStatus).
		var cur anchorState
		if cur, err = s.currentAnchor(ctx, s.db); err == nil {
			err = s.writeAnchor(path, cur)
		}
	}
	// Closing the last connection checkpoints the WAL into the file and removes it, so the
	// one file is the whole store when it is linked into place.
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("create store: %w", err)
	}
	// A hard link, unlike rename, never replaces a store another init created meanwhile.
	if err := os.Link(tmp, path); err != nil {
		return nil, fileError("create store", err)
	}
	syncDir(dir)
	removeStaleInits(path)
	if s.db, err = openDB(ctx, path, opts); err != nil {
		return nil, fmt.Errorf("create store: %w", err)
	}
	s.path = path
	if err := s.initSealer(); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("create store: %w", err)
	}
	s.afterCommit(ctx)
	return s, nil
}

// initSuffix names the temporary file a store is built in.
const initSuffix = ".init-"

func removeDB(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		os.Remove(p)
	}
}

// removeStaleInits removes what killed inits left behind. A concurrent init that is still
// running loses its file, but it could not have linked it into place anyway.
func removeStaleInits(path string) {
	stale, _ := filepath.Glob(path + initSuffix + "*")
	for _, p := range stale {
		os.Remove(p)
	}
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: the link is durable at the next sync otherwise
		d.Close()
	}
}

func initialise(ctx context.Context, db *sql.DB, secret []byte, opts Options) (*Store, error) {
	if _, err := db.ExecContext(ctx, "PRAGMA journal_mode = WAL"); err != nil {
		return nil, classify(err)
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
	if err := migrate(ctx, db, 0, keys); err != nil {
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
	s := &Store{db: db, keys: keys, opts: opts, kioskID: id, deviceKey: devKey, anchored: true}
	s.initClock(nil)
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
		if err := setIdentityMAC(ctx, tx, keys, []byte(id)); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, kiosk.AuditEvent{Action: "store.created", Subject: id})
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Open opens the store at path with secret. It fails with ErrStoreMissing, ErrNotKioskStore
// (another application's database, or not a database at all), ErrNewerSchema,
// ErrWrongSecret, ErrWrongKiosk (Options.ExpectKioskID), ErrTampered (the kiosk id was
// edited) or ErrRolledBack (the file is older than its anchor); an older schema is migrated
// forward.
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
	if err == nil {
		s.path = path
		err = s.checkAnchor(ctx)
	}
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
	if opts.readOnly {
		if err := checkSchema(version); err != nil {
			return nil, err
		}
	} else {
		if _, err := db.ExecContext(ctx, "PRAGMA journal_mode = WAL"); err != nil {
			return nil, classify(err)
		}
		if err := migrate(ctx, db, version, nil); err != nil {
			return nil, err
		}
	}
	meta, err := readMeta(ctx, db, metaKDFSalt, metaKDFParams, metaWrappedKey, metaKioskID, metaDeviceKey)
	if err != nil {
		return nil, err
	}
	params, err := decodeKDFParams(meta[metaKDFParams])
	if err != nil {
		return nil, ErrNotKioskStore.With(err)
	}
	dataKey, rowMACs, err := unwrapDataKey(secret, meta[metaKDFSalt], params, meta[metaWrappedKey])
	if err != nil {
		return nil, err
	}
	if rowMACs && version < rowMACSchema {
		return nil, tampered("meta", "user_version", fmt.Sprintf("schema set back to %d below %d (its migration would sign edited rows)", version, rowMACSchema))
	}
	keys, err := newKeyring(dataKey)
	if err != nil {
		return nil, err
	}
	if opts.readOnly && !rowMACs {
		return nil, ErrNeedsMigration.With(errors.New("the data key is not yet wrapped for authenticated rows"))
	}
	if err := migrate(ctx, db, version, keys); err != nil {
		return nil, err
	}
	if !rowMACs { // signed by the migration just now (or by an earlier one cut short)
		if err := rewrapDataKey(ctx, db, secret, meta[metaKDFSalt], params, dataKey); err != nil {
			return nil, err
		}
	}
	seed, err := keys.open(meta[metaDeviceKey], []byte(metaDeviceKey))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, ErrCorrupt.With(fmt.Errorf("device key: %v", err))
	}
	idMAC, err := getMeta(ctx, db, metaIdentityMAC)
	if err != nil {
		return nil, err
	}
	kioskID := string(meta[metaKioskID])
	if !keys.checkRow("identity", identityFields(kioskID, meta[metaDeviceKey]), idMAC) {
		return nil, tampered("meta", metaKioskID, "kiosk id does not match its seal")
	}
	if opts.ExpectKioskID != "" && opts.ExpectKioskID != kioskID {
		return nil, ErrWrongKiosk.With(fmt.Errorf("store belongs to kiosk %s, this kiosk is %s", kioskID, opts.ExpectKioskID))
	}
	s := &Store{db: db, keys: keys, opts: opts, kioskID: kioskID, deviceKey: ed25519.NewKeyFromSeed(seed), anchored: rowMACs}
	anchor, err := getMeta(ctx, db, metaClockAnchor)
	if err != nil {
		return nil, err
	}
	s.initClock(anchor)
	return s, s.initSealer()
}

// SQLite's page cache, per connection. Small by default: a kiosk of 200,000 residents reads
// its whole snapshot at start (dlib's 1:N index) and again in the background (the modern
// templates), and a 32 MiB cache on each pooled connection stayed resident after it (kiosk
// VmRSS 348 MB against 231 MB with the small one). A snapshot write raises it on its own
// connection for its transaction (snapshotWriter): a 200,000-resident import otherwise spills
// index pages to the WAL and rewrites them (25% less CPU, half the system time).
const (
	readCacheKiB = 2048
	bulkCacheKiB = 32768
)

// openDB opens the file (never creating it) with the per-connection settings every
// connection needs. journal_mode is persistent in the file and is set after identification.
func openDB(ctx context.Context, path string, opts Options) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if opts.readOnly {
		q.Set("mode", "ro")
		if _, err := os.Stat(abs + "-wal"); errors.Is(err, fs.ErrNotExist) {
			// No connection has the file open (the last one removes the WAL). A read-only
			// connection would still create the WAL and shared-memory files and leave them;
			// immutable reads the file alone. A kiosk that opens the store meanwhile is not
			// seen, which a check of a closed store does not need.
			q.Set("immutable", "1")
		}
	} else {
		q.Set("mode", "rw")
		q.Set("_txlock", "immediate") // writers queue at BEGIN, so read-then-write never deadlocks
	}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)") // a commit is on disk when it returns (power cut)
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", readCacheKiB))
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

// Close saves the clock's anchor and closes the database. Committed data is already durable.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if s.opts.readOnly {
		return s.db.Close()
	}
	if err := s.saveClock(context.Background()); err != nil {
		slog.Warn("store: clock anchor not saved", "err", err)
	}
	return s.db.Close()
}

// initSealer builds the checkpoint signer once the kiosk's identity is known.
func (s *Store) initSealer() error {
	if s.opts.NewSealer == nil {
		return nil
	}
	sealer, err := s.opts.NewSealer(s.kioskID, s.deviceKey)
	if err != nil {
		return fmt.Errorf("checkpoint sealer: %w", err)
	}
	s.sealer = sealer
	return nil
}

// KioskID is the kiosk's identity, generated at Create.
func (s *Store) KioskID() string { return s.kioskID }

// DeviceKey is the kiosk's Ed25519 signing key, generated at Create and stored encrypted.
func (s *Store) DeviceKey() ed25519.PrivateKey { return s.deviceKey }

// now is the store's clock: Options.Now, or else the clock anchored to the registry's time
// (kiosk/clock), which setting the PC's wall clock does not move while the kiosk runs.
func (s *Store) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return s.clock.Now()
}

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
		s.afterCommit(ctx)
		return keep.err
	}
	if err := tx.Commit(); err != nil {
		return classify(err)
	}
	s.afterCommit(ctx)
	return nil
}

// errKeep is an error after which write still commits: a rejected login must keep its
// attempt counter and audit entry.
type errKeep struct{ err error }

func (e errKeep) Error() string { return e.err.Error() }
