package sync

import (
	"fmt"
	"time"
)

// The messages between kiosk and registry are CBOR, in the same strict codec as the record
// envelope (deterministic encoding, duplicate keys, indefinite lengths and tags refused), not
// JSON. A record already is CBOR (COSE_Sign1, about 270 bytes): in JSON it would travel as
// base64, a third bigger, on links that are 2G in a van. Maps use small integer keys for the
// same reason; an accepted record's answer is three bytes. Errors are the exception: they are
// JSON ({"code": ..., "error": ...}) so an operator with curl can read them.

// ContentType is the media type of every CBOR request and answer body.
const ContentType = "application/cbor"

// Limits of what a decoder accepts; a registry or kiosk answering more is refused.
const (
	// MaxBatch is the most records one push may carry.
	MaxBatch = 500
	// MaxPushBytes bounds a push request: MaxBatch envelopes of the largest size would not
	// fit, but a real batch (about 300 bytes a record) is far below it.
	MaxPushBytes = 2 << 20
	// MaxPageBytes bounds an uncompressed delta page.
	MaxPageBytes = 32 << 20
	// MaxPage is the most changes one delta page may carry.
	MaxPage = 20000
)

// Answer statuses.
const (
	StatusAccepted  = 1 // stored; for an activation, the citizen's code is on its way
	StatusDuplicate = 2 // the registry already had this record id and accepted it
	StatusRejected  = 3 // refused for good; Code says why
)

// PushRequest is POST /v1/records: signed outbox envelopes and, from kiosks that have one,
// the kiosk's audit head at the time of the push. The request signature covers the body, so
// the head is as authentic as the records. A registry refuses the whole push with
// ErrAuditRollback when the head went backwards; a push without a head (a kiosk built before
// the head existed) is answered as before.
type PushRequest struct {
	Records [][]byte  `cbor:"1,keyasint"`
	Head    *PushHead `cbor:"2,keyasint,omitempty"`
}

// PushHead is where the kiosk's audit chain and outbox stood when it pushed.
type PushHead struct {
	AuditSeq  int64  `cbor:"1,keyasint"` // sequence number of the newest audit entry (0: none)
	AuditHash []byte `cbor:"2,keyasint"` // its chain hash (SHA-256)
	OutboxSeq int64  `cbor:"3,keyasint"` // sequence number of the newest outbox record
}

// PushResponse answers a push: the registry's time and one answer per record, in the order of
// the request.
type PushResponse struct {
	Time    int64    `cbor:"1,keyasint"` // Unix milliseconds
	Answers []Answer `cbor:"2,keyasint"`
}

// Answer is the registry's verdict on one record.
type Answer struct {
	Status int    `cbor:"1,keyasint"`
	Code   string `cbor:"2,keyasint,omitempty"` // rejection code, one of the Err… codes
	// Winner is, for a rejected duplicate activation, the record id that activated the
	// registration.
	Winner string `cbor:"3,keyasint,omitempty"`
}

// DeltaPage answers GET /v1/changes?cursor=C: the changes for the kiosk's area after cursor,
// oldest first. Pages are applied one transaction at a time, cursor included, so a pull cut
// anywhere resumes from the last page applied.
type DeltaPage struct {
	Time      int64            `cbor:"1,keyasint"` // Unix milliseconds
	Residents []ResidentChange `cbor:"2,keyasint,omitempty"`
	Officers  []OfficerChange  `cbor:"3,keyasint,omitempty"`
	Keys      []KeyChange      `cbor:"4,keyasint,omitempty"`
	Cursor    string           `cbor:"5,keyasint"` // opaque; the next request's cursor
	More      bool             `cbor:"6,keyasint,omitempty"`
}

// ResidentChange is a resident added to or changed in the area, or (Removed) one that left it.
type ResidentChange struct {
	NIK        string `cbor:"1,keyasint"`
	Removed    bool   `cbor:"2,keyasint,omitempty"`
	Name       string `cbor:"3,keyasint,omitempty"`
	BirthPlace string `cbor:"4,keyasint,omitempty"`
	BirthDate  string `cbor:"5,keyasint,omitempty"` // YYYY-MM-DD
	Sex        string `cbor:"6,keyasint,omitempty"`
	Address    string `cbor:"7,keyasint,omitempty"`
	Kecamatan  string `cbor:"8,keyasint,omitempty"`
	Status     string `cbor:"9,keyasint,omitempty"`
	// References are face descriptors, each 128 IEEE half-precision values, little-endian
	// (256 bytes; see EncodeReference).
	References [][]byte `cbor:"10,keyasint,omitempty"`
	Photo      []byte   `cbor:"11,keyasint,omitempty"` // JPEG
	// Revocations are what the registry ended for this NIK, so an offline kiosk refuses a
	// stale QR at the counter rather than the registry after the citizen has gone.
	Revocations *Revocations `cbor:"12,keyasint,omitempty"`
	// Templates are the resident's references for face engines other than dlib, computed
	// by the registry from Photo when it has the models; a kiosk computes what is missing.
	Templates []EngineTemplate `cbor:"13,keyasint,omitempty"`
}

// EngineTemplate is a face engine's reference: the engine's identity (model and version, as
// face.ModernModel.Engine names it) and the embedding in little-endian half precision.
type EngineTemplate struct {
	Engine string `cbor:"1,keyasint"`
	Half   []byte `cbor:"2,keyasint"`
}

// Revocations of a resident: the NIK's deactivation (a lost phone) and the registrations the
// registry ended.
type Revocations struct {
	// DeactivatedAt is when the NIK was last reported lost (a deactivation not lifted), Unix
	// milliseconds; 0: none in force. A registration made before it cannot be activated.
	DeactivatedAt int64                 `cbor:"1,keyasint,omitempty"`
	Registrations []RevokedRegistration `cbor:"2,keyasint,omitempty"`
}

// RevokedRegistration is a registration the registry ended.
type RevokedRegistration struct {
	ID string `cbor:"1,keyasint"`
	At int64  `cbor:"2,keyasint"` // Unix milliseconds
	// Deactivated: ended by the NIK's deactivation (a lost phone); otherwise revoked at the
	// registry.
	Deactivated bool `cbor:"3,keyasint,omitempty"`
}

// OfficerChange is an officer's registry record. The PIN never travels: it is set at the kiosk.
type OfficerChange struct {
	ID       string `cbor:"1,keyasint"`
	Name     string `cbor:"2,keyasint,omitempty"`
	Role     string `cbor:"3,keyasint"`
	Disabled bool   `cbor:"4,keyasint,omitempty"`
}

// KeyChange is a registry token-signing key with its validity window.
type KeyChange struct {
	KeyID     string `cbor:"1,keyasint"`
	PublicKey []byte `cbor:"2,keyasint"`
	NotBefore int64  `cbor:"3,keyasint,omitempty"` // Unix milliseconds; 0: no start
	NotAfter  int64  `cbor:"4,keyasint,omitempty"` // Unix milliseconds; 0: no end
}

// EnrollRequest is POST /v1/enroll: a kiosk registering its device key with a one-time code.
// Signature is the device key's signature of EnrollProof(code, kioskID), proving the kiosk
// holds the key it registers.
type EnrollRequest struct {
	Code      string `cbor:"1,keyasint"`
	KioskID   string `cbor:"2,keyasint"`
	PublicKey []byte `cbor:"3,keyasint"`
	Signature []byte `cbor:"4,keyasint"`
}

// EnrollResponse tells an enrolled kiosk its area, the registry's time and keys.
type EnrollResponse struct {
	Time int64       `cbor:"1,keyasint"` // Unix milliseconds
	Area string      `cbor:"2,keyasint"` // the kecamatan this kiosk serves
	Keys []KeyChange `cbor:"3,keyasint"`
}

// EnrollProof is what the device key signs to enroll.
func EnrollProof(code, kioskID string) []byte {
	return []byte("IKD enroll v1\n" + code + "\n" + kioskID)
}

// Marshal encodes a message in the canonical codec.
func Marshal(v any) ([]byte, error) {
	b, err := encMode.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b, nil
}

// Unmarshal decodes one message strictly: unknown fields, trailing bytes, duplicate keys and
// oversized arrays are refused with an error matching ErrMessageMalformed.
func Unmarshal(b []byte, v any) error {
	if err := msgDecMode.Unmarshal(b, v); err != nil {
		return ErrMessageMalformed.With(fmt.Errorf("%T: %w", v, err))
	}
	return nil
}

// MillisTime turns a wire time into a time.Time (zero for 0).
func MillisTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// TimeMillis turns a time into its wire form (0 for the zero time).
func TimeMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
