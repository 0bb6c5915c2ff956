package kiosk

import "time"

// Band is the face-match decision band.
type Band string

const (
	BandMatch     Band = "match"
	BandUncertain Band = "uncertain" // the officer compares the photo by eye
	BandNoMatch   Band = "no_match"
)

// FaceResult is the outcome of a live face check against a resident's references.
type FaceResult struct {
	Band  Band
	Score float64 // calibrated distance-like score; smaller is more alike
	// Live is the descriptor used for the decision, kept for the 1:N check.
	Live Descriptor
	// OtherNIKs are residents other than the claimed one whose references also match the
	// live face: a possible impostor or duplicate record that the officer must see.
	OtherNIKs []NIK
	// Capped is true when the score fell in the match band but the recognition model may
	// not report a match (see ModelClass.MayMatch), so Band is uncertain.
	Capped bool
	// Guarded is true when the score fell in the match band but the raw descriptor distance
	// did not (see FaceThresholds.MatchMaxDistance), so Band is uncertain.
	Guarded bool
}

// Token is what the kiosk learns from a verified activation QR.
type Token struct {
	KeyID          string
	NIK            NIK
	RegistrationID string
	MaskedEmail    string
	MaskedPhone    string
	IssuedAt       time.Time
	ExpiresAt      time.Time
}

// Activation is an approved IKD activation, the payload of an outbox record.
type Activation struct {
	ID             string    `json:"id"` // record id (UUIDv7); makes delivery idempotent
	RegistrationID string    `json:"registration_id"`
	NIK            NIK       `json:"nik"`
	OfficerID      string    `json:"officer_id"`
	KioskID        string    `json:"kiosk_id"`
	TokenKeyID     string    `json:"token_key_id"`
	FaceBand       Band      `json:"face_band"`
	FaceScore      float64   `json:"face_score"`
	EyeChecked     bool      `json:"eye_checked"` // the officer confirmed an uncertain match by eye
	ApprovedAt     time.Time `json:"approved_at"`
}

// Deactivation is a lost-phone deactivation, the payload of an outbox record.
type Deactivation struct {
	ID          string    `json:"id"`
	NIK         NIK       `json:"nik"`
	OfficerID   string    `json:"officer_id"`
	KioskID     string    `json:"kiosk_id"`
	Reason      string    `json:"reason"`
	FaceBand    Band      `json:"face_band"`
	FaceScore   float64   `json:"face_score"`
	EyeChecked  bool      `json:"eye_checked"`
	ConfirmedAt time.Time `json:"confirmed_at"`
}

// CodeReissue asks the registry for a new activation code for a registration approved at a
// kiosk whose code expired or was burned by wrong tries, the payload of an outbox record. The
// registry kills the old code and mails a new one; the citizen need not register again.
type CodeReissue struct {
	ID             string    `json:"id"`
	RegistrationID string    `json:"registration_id"`
	NIK            NIK       `json:"nik"`
	OfficerID      string    `json:"officer_id"`
	KioskID        string    `json:"kiosk_id"`
	RequestedAt    time.Time `json:"requested_at"`
}

// AuditCheckpoint is the payload of an audit checkpoint record: how far this kiosk's audit
// log and outbox had grown, signed by its device key. The registry keeps the newest one, so
// a kiosk database rolled back to before it (audit tail removed, an older file copied back)
// is caught at the next sync even by someone who holds the unlock secret.
type AuditCheckpoint struct {
	ID        string    `json:"id"`
	KioskID   string    `json:"kiosk_id"`
	AuditSeq  int64     `json:"audit_seq"`  // sequence number of the newest audit entry
	AuditHash []byte    `json:"audit_hash"` // its chain hash (SHA-256)
	OutboxSeq int64     `json:"outbox_seq"` // sequence number of the newest outbox record
	At        time.Time `json:"at"`
}

// RecordKind is the kind of an outbox record.
type RecordKind string

const (
	KindActivation      RecordKind = "activation"
	KindDeactivation    RecordKind = "deactivation"
	KindAuditCheckpoint RecordKind = "audit_checkpoint"
	KindCodeReissue     RecordKind = "code_reissue"
)

// RecordState is where an outbox record is in its delivery.
type RecordState string

const (
	RecordPending      RecordState = "pending"
	RecordSent         RecordState = "sent"
	RecordAcknowledged RecordState = "acknowledged"
	RecordRejected     RecordState = "rejected"
)

// OutboxRecord is a signed record waiting for, or done with, delivery to the registry.
type OutboxRecord struct {
	ID             string
	Kind           RecordKind
	NIK            NIK    // for duplicate checks; stored as a blind index only
	RegistrationID string // empty for deactivations and checkpoints
	Envelope       []byte // the signed wire bytes, exactly as they will be sent
	State          RecordState
	Answer         string // the registry's answer (reason for a rejection)
	CreatedAt      time.Time
	Seq            int64 // the outbox's sequence number, set by the store when it reads the record
}

// AuditEvent is one entry for the append-only, hash-chained audit log.
type AuditEvent struct {
	Time      time.Time
	OfficerID string
	Action    string // e.g. "activation.approved", "activation.rejected", "officer.login_failed"
	Subject   string // what it is about, never a plain NIK: a masked NIK or a record id
	Detail    string
}

// RegistryKey is a registry public key the kiosk trusts for activation tokens. Keys rotate:
// tokens signed by an older key verify while that key is inside its validity window.
type RegistryKey struct {
	KeyID     string
	PublicKey []byte // Ed25519 public key, 32 bytes
	NotBefore time.Time
	NotAfter  time.Time // zero: no end
}

// ValidAt reports whether the key may verify a token issued at t.
func (k RegistryKey) ValidAt(t time.Time) bool {
	if !k.NotBefore.IsZero() && t.Before(k.NotBefore) {
		return false
	}
	return k.NotAfter.IsZero() || t.Before(k.NotAfter)
}
