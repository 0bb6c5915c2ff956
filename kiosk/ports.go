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
	// Seal signs payload (an Activation or a Deactivation) with the kiosk's device key.
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
