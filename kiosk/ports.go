package kiosk

import (
	"context"
	"time"
)

// The interfaces below are what the workflow needs from the outside world. Each method
// states the contract callers rely on.

// TokenVerifier checks an activation QR's text offline.
type TokenVerifier interface {
	// Verify parses and verifies text at time now. It returns a *Error (malformed, unknown
	// key, bad signature, expired, not yet valid, invalid NIK) the officer can act on.
	Verify(ctx context.Context, text string, now time.Time) (Token, error)
}

// Residents is the local resident snapshot.
type Residents interface {
	// ResidentByNIK returns the resident or an error matching ErrResidentNotFound.
	ResidentByNIK(ctx context.Context, nik NIK) (Resident, error)
}

// FaceVerifier captures the live face and compares it with the resident's references.
type FaceVerifier interface {
	// VerifyFace runs capture, quality, liveness and matching, and returns DecideFace's
	// result for what it measured. An error means no verdict could be reached (for example
	// the citizen left); a verdict of no match is not an error.
	VerifyFace(ctx context.Context, r Resident) (FaceResult, error)
}

// Outbox is the durable queue of signed records.
type Outbox interface {
	// Enqueue stores rec and ev in one transaction and returns only once both are durable
	// (survive a power cut). It fails with ErrAlreadyActivated or ErrAlreadyDeactivated when
	// an equivalent record is already queued, and then writes nothing.
	Enqueue(ctx context.Context, rec OutboxRecord, ev AuditEvent) error
	// RegistrationUsed reports whether an activation for regID was already queued here.
	RegistrationUsed(ctx context.Context, regID string) (bool, error)
}

// AuditLog is the append-only audit trail.
type AuditLog interface {
	// Record appends ev durably.
	Record(ctx context.Context, ev AuditEvent) error
}

// Sealer turns a record payload into the signed bytes that go on the wire.
type Sealer interface {
	// Seal signs payload (an Activation, Deactivation, AuditCheckpoint or CodeReissue) with
	// the kiosk's device key.
	Seal(kind RecordKind, id string, payload any) ([]byte, error)
}

// Clock tells the time. Kiosks anchor it to the registry's time (see DESIGN.md §4).
type Clock interface {
	Now() time.Time
}

// IDs makes record ids (time-ordered and unique, such as UUIDv7).
type IDs interface {
	NewID() string
}

// TrustStore holds the registry keys the kiosk trusts.
type TrustStore interface {
	// RegistryKey returns the key with id kid, or an error matching ErrNotFound.
	RegistryKey(ctx context.Context, kid string) (RegistryKey, error)
}

// OfficerLogin checks an officer's PIN.
type OfficerLogin interface {
	// Login returns the officer when pin is theirs and they may log in now. It fails with a
	// *Error the officer can act on: unknown officer or wrong PIN (the same message, so ids
	// cannot be probed), locked out (with the time left), disabled. Every attempt is audited.
	Login(ctx context.Context, id, pin string) (Officer, error)
}

// SyncStore is what the sync engine needs from the kiosk's store. Every method is one
// transaction: what it reports done is durable, and a crash in the middle leaves nothing half
// applied.
type SyncStore interface {
	// ToSend returns up to limit records the registry has not answered (pending, and sent but
	// unanswered: delivery is idempotent by record id), deactivations first, then oldest first.
	// Records that fail their integrity check are left out and reported in an error returned
	// with the good ones.
	ToSend(ctx context.Context, limit int) ([]OutboxRecord, error)
	// MarkSent moves pending records to sent, before they go on the wire.
	MarkSent(ctx context.Context, ids []string) error
	// RecordAnswers stores the registry's answers, each with an audit entry. An answer for a
	// record already answered is ignored (the first answer stands); one for an unknown record
	// fails the whole call and stores nothing.
	RecordAnswers(ctx context.Context, answers []RecordAnswer) error
	// RecordCounts returns how many records are in each state.
	RecordCounts(ctx context.Context) (map[RecordState]int, error)
	// SnapshotCursor is the registry cursor the local data is current to ("" before the
	// first pull).
	SnapshotCursor(ctx context.Context) (string, error)
	// ApplyDelta applies one page of registry changes and its cursor together.
	ApplyDelta(ctx context.Context, d Delta) (DeltaCounts, error)
	// AnchorClock anchors the kiosk's clock to the registry's time, read at a successful round.
	AnchorClock(ctx context.Context, registryTime time.Time) error
	// AuditHead is where the audit chain and the outbox stand now, read in one snapshot; it
	// goes with every push so the registry sees a database copied back at once.
	AuditHead(ctx context.Context) (AuditHead, error)
	// HaltSync records durably that the registry refused this kiosk's pushes with code (a
	// roll-back): pushes stop until an operator intervenes. Records stay in the outbox.
	HaltSync(ctx context.Context, code, detail string) error
	// SyncHalt returns the code HaltSync recorded, "" when pushes may go on.
	SyncHalt(ctx context.Context) (string, error)
}

// AuditHead is where a kiosk's audit chain and outbox stand.
type AuditHead struct {
	AuditSeq  int64  // the newest audit entry (0: none)
	AuditHash []byte // its chain hash
	OutboxSeq int64  // the newest outbox record
}

// RecordAnswer is the registry's verdict on one outbox record, as the kiosk keeps it.
type RecordAnswer struct {
	ID     string
	State  RecordState // RecordAcknowledged (accepted or duplicate) or RecordRejected
	Reason string      // for a rejection: the registry's code, then the officer's words
}

// Delta is one page of changes from the registry.
type Delta struct {
	Residents []Resident // added or changed, for this kiosk's area
	Removed   []NIK      // left the area
	// Officers are the registry's officer records. PINs never travel: an officer the kiosk
	// does not know yet is counted as skipped until a supervisor adds them with a PIN.
	Officers []Officer
	Keys     []RegistryKey // added or changed (rotation, end of validity)
	Cursor   string
	// AsOf is the registry's time of the last page of a pull (nothing more to come): the
	// kiosk's residents, keys and revocations are then up to date as of it. Zero on the
	// pages before it.
	AsOf time.Time
	// Refused are residents the page carried whose text the kiosk will not store (see
	// sync.DecodeDeltaPage); their NIKs are also in Removed, so no older copy stays either.
	Refused []RefusedResident
}

// RefusedResident is a resident of a delta that was not stored, and why.
type RefusedResident struct {
	NIK NIK
	Err error
}

// Freshness reports how old the kiosk's data is (see StalePolicy).
type Freshness interface {
	DataAges(ctx context.Context) (DataAges, error)
}

// DeltaCounts reports what a delta changed.
type DeltaCounts struct {
	ResidentsAdded, ResidentsUpdated, ResidentsRemoved int
	OfficersUpdated, OfficersSkipped                   int
	Keys                                               int
}
