package registry

import (
	"context"
	"crypto/ed25519"
	"errors"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/sync/registry/mail"
)

// Store is the registry's database. One driver, sqlstore, serves two databases, SQLite
// (embedded, the default) and PostgreSQL (production; several registry processes may share
// one database), and both pass the conformance suite in storetest. The rules (who wins a
// conflict, when a code is issued) live above this interface, in this package, and run inside
// InTx, so both databases enforce them the same way.
type Store interface {
	// InTx runs fn in a transaction and commits it when fn returns nil. Rows fn reads with a
	// locking read (see Tx) stay locked against other transactions, in this process or
	// another, until the end. When the database aborts the transaction for a conflict with
	// another one (serialization failure, deadlock, a busy SQLite file) fn runs again in a new
	// transaction, a bounded number of times; so fn must have no effects outside tx.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// InReadTx runs fn in a read-only transaction that sees one consistent snapshot and
	// never takes the write lock (SQLite: a deferred transaction on a query_only reader; in
	// WAL mode it does not wait for a writer). For reads only: pulls, listings, counts.
	InReadTx(ctx context.Context, fn func(ctx context.Context, tx ReadTx) error) error

	// The durable mail queue (see mail.Queue): rows written by Tx.EnqueueMail.
	mail.Queue

	// Stats counts what the registry holds.
	Stats(ctx context.Context) (Stats, error)
	// MailBacklog returns how many mails wait to be sent and when the oldest was queued (zero
	// time if none).
	MailBacklog(ctx context.Context) (n int64, oldest time.Time, err error)
	// BulkInsertRecords writes records with the database's fastest bulk path (COPY on
	// PostgreSQL), with no rules applied: the benchmark's yardstick for ingest.
	BulkInsertRecords(ctx context.Context, recs []StoredRecord) error
	// Ping checks that the database answers (the readiness check).
	Ping(ctx context.Context) error
	Close() error
}

// Errors of Store and Tx methods. A Tx method that fails with ErrExists or ErrNotFound leaves
// the transaction usable (inserts use ON CONFLICT DO NOTHING rather than failing, which
// would abort a PostgreSQL transaction), so rules can branch on them and go on.
var (
	ErrNotFound = errors.New("registry store: not found")
	ErrExists   = errors.New("registry store: already exists")
)

// Tx is one transaction. Methods that say "locking" lock what they read until the
// transaction ends (SELECT … FOR UPDATE on PostgreSQL; SQLite holds one write lock for the
// whole transaction anyway). Times are stored at millisecond precision or better and come
// back in UTC; a zero time.Time stays zero. A NIK a Tx is given, as an argument or in a row,
// is a clear NIK or a sealed store's RegionalNIK: the driver stores its region key beside the
// nik column (SplitNIK) and answers with the nik column's value.
type Tx interface {
	// CreateEnrollCode stores a one-time enrollment code by its hash.
	CreateEnrollCode(ctx context.Context, c EnrollCode) error
	// TakeEnrollCode removes and returns the code with hash if it exists and has not expired
	// at now; otherwise ErrNotFound (and an expired code stays unusable).
	TakeEnrollCode(ctx context.Context, hash []byte, now time.Time) (EnrollCode, error)

	// InsertDevice adds an enrolled kiosk; ErrExists if its id is taken.
	InsertDevice(ctx context.Context, d Device) error
	// Device returns the kiosk with id, or ErrNotFound.
	Device(ctx context.Context, kioskID string) (Device, error)
	// Devices lists every kiosk, by id.
	Devices(ctx context.Context) ([]Device, error)
	// RevokeDevice sets the kiosk's revocation time (kept if it already has one); ErrNotFound
	// for an unknown kiosk.
	RevokeDevice(ctx context.Context, kioskID string, at time.Time) error
	// TouchDevice records that the kiosk synced at at (kept if at is not later).
	TouchDevice(ctx context.Context, kioskID string, at time.Time) error
	// UseNonce records a request nonce and reports whether it was new for this kiosk. Two
	// transactions using the same nonce at once: exactly one sees it as new.
	UseNonce(ctx context.Context, kioskID, nonce string, at time.Time) (fresh bool, err error)
	// PurgeNonces forgets nonces recorded before before.
	PurgeNonces(ctx context.Context, before time.Time) (int64, error)

	// InsertRegistration adds a citizen's registration; ErrExists if the id is taken.
	InsertRegistration(ctx context.Context, r Registration) error
	// Registration returns the registration with id, locking it; ErrNotFound if none.
	Registration(ctx context.Context, id string) (Registration, error)
	// RegistrationsByNIK returns every registration of nik, oldest first, locking them.
	RegistrationsByNIK(ctx context.Context, nik string) ([]Registration, error)
	// UpdateRegistration replaces the registration with r.ID; ErrNotFound if none.
	UpdateRegistration(ctx context.Context, r Registration) error

	// InsertRecord stores a received record unless one with its id exists, and reports
	// whether it did. Two transactions inserting the same id at once: exactly one inserts.
	InsertRecord(ctx context.Context, r StoredRecord) (inserted bool, err error)
	// Record returns the stored record with id, or ErrNotFound.
	Record(ctx context.Context, id string) (StoredRecord, error)
	// SetRecordAnswer replaces the stored answer of record id; ErrNotFound if none.
	SetRecordAnswer(ctx context.Context, id string, status int, code, winner string) error
	// CountAccepted counts the records of kind for registration regID that are answered
	// accepted and were received at or after since, this transaction's own included.
	CountAccepted(ctx context.Context, kind kiosk.RecordKind, regID string, since time.Time) (int, error)
	// PurgeRecords forgets records received before before (the dedup window).
	PurgeRecords(ctx context.Context, before time.Time) (int64, error)
	// PurgeMails deletes mails sent, or given up, before before (by sent time, or for one
	// given up by queue time); mails still waiting stay.
	PurgeMails(ctx context.Context, before time.Time) (int64, error)
	// PurgeRegistrations deletes registrations that ended before before: activated and
	// confirmed (by confirmation), deactivated or revoked (by revocation), pending (by
	// creation), approved with a code that expired (by expiry). Tombstones stay.
	PurgeRegistrations(ctx context.Context, before time.Time) (int64, error)

	// InsertTombstone records that nik was deactivated (a lost phone) at t.At.
	InsertTombstone(ctx context.Context, t Tombstone) error
	// LatestTombstone returns nik's latest tombstone by At that has not been lifted, or
	// ErrNotFound.
	LatestTombstone(ctx context.Context, nik string) (Tombstone, error)
	// Tombstones lists nik's tombstones, lifted or not, oldest first.
	Tombstones(ctx context.Context, nik string) ([]Tombstone, error)
	// LiftTombstones lifts every tombstone of nik not lifted yet, recording when, by whom and
	// why, and returns how many it lifted. A lifted tombstone is kept as the audit trail.
	LiftTombstones(ctx context.Context, nik string, at time.Time, by, reason string) (int64, error)

	// Checkpoint returns the newest audit checkpoint of a kiosk, locking it; ErrNotFound if none.
	Checkpoint(ctx context.Context, kioskID string) (Checkpoint, error)
	// PutCheckpoint stores c as the kiosk's newest checkpoint.
	PutCheckpoint(ctx context.Context, c Checkpoint) error
	// AuditHead returns the newest audit head a kiosk pushed with, locking it; ErrNotFound
	// if none.
	AuditHead(ctx context.Context, kioskID string) (AuditHead, error)
	// PutAuditHead stores h as the kiosk's newest audit head.
	PutAuditHead(ctx context.Context, h AuditHead) error

	// EnqueueMail adds a mail to the durable queue, due at once.
	EnqueueMail(ctx context.Context, m mail.Mail) error

	// PutResidents adds or replaces residents by NIK, each with a new change number; a
	// resident whose kecamatan changed remembers the old one (PrevKecamatan) and every area
	// it ever left, so each old area hears that it left. A row with Removed set stays as a
	// marker of the removal. The resident's Revocations are kept as they are.
	PutResidents(ctx context.Context, rs []ResidentRow) error
	// SetRevocations replaces the revocations of the resident with nik (CBOR
	// sync.Revocations) with a new change number, so the resident's areas hear of them;
	// ErrNotFound if the registry has no such resident.
	SetRevocations(ctx context.Context, nik string, data []byte) error
	// Resident returns the resident with nik, or ErrNotFound.
	Resident(ctx context.Context, nik string) (ResidentRow, error)
	// PutOfficer adds or replaces an officer by id, with a new change number.
	PutOfficer(ctx context.Context, o OfficerRow) error
	// Officer returns the officer with id, or ErrNotFound.
	Officer(ctx context.Context, id string) (OfficerRow, error)
	// Officers lists every officer, by id.
	Officers(ctx context.Context) ([]OfficerRow, error)
	// PutKey adds or replaces a registry key by id, with a new change number.
	PutKey(ctx context.Context, k KeyRow) error
	// Keys lists every registry key, by key id.
	Keys(ctx context.Context) ([]KeyRow, error)
	// Changes returns, in change-number order, up to limit changes after the change number
	// after: residents whose Kecamatan is area or who ever left area, officers of area or of every
	// area (Area ""), and keys. More reports whether there are changes after the last one
	// returned. Change numbers are assigned in commit order, so a reader never skips a change
	// that commits after it read a later one.
	Changes(ctx context.Context, area string, after int64, limit int) (Changes, error)
}

// ReadTx is what a read-only transaction (Store.InReadTx) may do: the non-locking reads of
// Tx, documented there.
type ReadTx interface {
	Devices(ctx context.Context) ([]Device, error)
	Keys(ctx context.Context) ([]KeyRow, error)
	Changes(ctx context.Context, area string, after int64, limit int) (Changes, error)
	Officers(ctx context.Context) ([]OfficerRow, error)
	Tombstones(ctx context.Context, nik string) ([]Tombstone, error)
}

// BatchTx is an optional extension of Tx for a database where each statement is a round
// trip (PostgreSQL): ingest reads and writes what a batch needs in one round trip each
// instead of one per record.
type BatchTx interface {
	// InsertRecords is InsertRecord for each of rs in order, in one round trip; inserted[i]
	// answers for rs[i].
	InsertRecords(ctx context.Context, rs []StoredRecord) (inserted []bool, err error)
	// LatestTombstones answers LatestTombstone for many NIKs, the map holding only the NIKs
	// that have a tombstone.
	LatestTombstones(ctx context.Context, niks []string) (map[string]Tombstone, error)
	// Residents answers Resident for many NIKs, the map holding only the NIKs that exist.
	Residents(ctx context.Context, niks []string) (map[string]ResidentRow, error)
	// UpdateRegistrationAndEnqueueMail is UpdateRegistration(r) and EnqueueMail(m) in one
	// round trip (a new code and its mail), or none of its own: a store may send both with
	// the transaction's next statement or its commit, and then reports their error from that
	// call and refuses the commit. Both run whatever the other's outcome: after an error the
	// transaction must not commit.
	UpdateRegistrationAndEnqueueMail(ctx context.Context, r Registration, m mail.Mail) error
	// LockRegistrations reads and locks, as Registration does, those of the registrations ids
	// that exist, in id order; for the rest of the transaction Registration answers for them
	// without a round trip, including this transaction's own updates.
	LockRegistrations(ctx context.Context, ids []string) error
}

// EnrollCode is a one-time code that lets one kiosk enroll for an area.
type EnrollCode struct {
	Hash      []byte // SHA-256 of the code; the code itself is never stored
	Area      string // kecamatan
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Device is an enrolled kiosk.
type Device struct {
	KioskID    string
	PublicKey  ed25519.PublicKey
	Area       string
	EnrolledAt time.Time
	RevokedAt  time.Time // zero: not revoked
	LastSeen   time.Time // last authenticated request; zero: never
}

// RegistrationStatus is where a citizen's registration stands.
type RegistrationStatus string

const (
	RegPending     RegistrationStatus = "pending"     // registered, not yet approved at a kiosk
	RegApproved    RegistrationStatus = "approved"    // approved at a kiosk; code sent, not confirmed
	RegActivated   RegistrationStatus = "activated"   // the citizen confirmed the code
	RegDeactivated RegistrationStatus = "deactivated" // the NIK reported a lost phone after this registration
	RegRevoked     RegistrationStatus = "revoked"     // withdrawn at the registry
)

// Registration is a citizen's request for IKD, made in the app.
type Registration struct {
	ID        string
	NIK       string
	Email     string
	Phone     string
	CreatedAt time.Time
	Status    RegistrationStatus
	RevokedAt time.Time // when it was revoked or deactivated; zero otherwise
	// ActivationRecord is the winning activation record's id and ApprovedAt its approval time.
	ActivationRecord string
	ApprovedAt       time.Time
	// The activation code: hashed, with its expiry, the wrong tries so far and when it was
	// confirmed.
	CodeHash    []byte
	CodeExpires time.Time
	CodeTries   int
	ConfirmedAt time.Time
}

// StoredRecord is a record received from a kiosk, with the answer it got: the dedup state.
type StoredRecord struct {
	ID             string
	KioskID        string
	Kind           kiosk.RecordKind
	RegistrationID string // activations and code re-issues
	NIK            string
	At             time.Time // approval (activation), confirmation (deactivation), request (re-issue) or checkpoint time
	ReceivedAt     time.Time
	Status         int    // sync.StatusAccepted or sync.StatusRejected
	Code           string // rejection code
	Winner         string // for activation.duplicate: the winning record
	Envelope       []byte // the signed bytes, kept as evidence
}

// Tombstone marks a NIK deactivated after a lost phone.
type Tombstone struct {
	NIK      string
	At       time.Time // the deactivation's confirmation time
	RecordID string
	// A supervisor at the registry lifted it (a wrongful deactivation): it no longer refuses
	// activations. Zero LiftedAt: in force.
	LiftedAt   time.Time
	LiftedBy   string
	LiftReason string
}

// Checkpoint is a kiosk's newest audit checkpoint.
type Checkpoint struct {
	KioskID   string
	RecordID  string
	AuditSeq  int64
	AuditHash []byte
	OutboxSeq int64
	At        time.Time
}

// AuditHead is the newest audit head a kiosk pushed with (sync.PushHead).
type AuditHead struct {
	KioskID   string
	AuditSeq  int64
	AuditHash []byte
	OutboxSeq int64
	At        time.Time // when the push carrying it was received
}

// ResidentRow is a resident in the registry's population data.
type ResidentRow struct {
	NIK           string
	Kecamatan     string
	PrevKecamatan string // set by PutResidents when Kecamatan changed
	Removed       bool
	Data          []byte // the resident as a CBOR sync.ResidentChange
	Revocations   []byte // CBOR sync.Revocations, set by SetRevocations; nil: none
	Seq           int64  // change number, assigned by the store
}

// OfficerRow is an officer in the registry's list.
type OfficerRow struct {
	ID       string
	Area     string // "" for every area
	Name     string
	Role     kiosk.Role
	Disabled bool
	Seq      int64
}

// KeyRow is a registry token-signing key.
type KeyRow struct {
	KeyID     string
	PublicKey ed25519.PublicKey
	NotBefore time.Time
	NotAfter  time.Time
	Seq       int64
}

// Changes is one page of changes for an area.
type Changes struct {
	Residents []ResidentRow
	Officers  []OfficerRow
	Keys      []KeyRow
	Last      int64 // the highest change number in the page; after, if the page is empty
	More      bool
}

// Stats are the registry's counts, for `ikd-registry stats` and the metrics.
type Stats struct {
	Devices             int64
	Registrations       int64
	ActivationsAccepted int64 // activation records answered accepted
	Deactivations       int64 // deactivation records accepted
	MailsSent           int64
	MailsQueued         int64
}
