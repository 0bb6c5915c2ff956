package sync

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"

	"github.com/ikd-field/ikd/kiosk"
)

// maxIDLen bounds record and kiosk ids (a UUID is 36 bytes).
const maxIDLen = 64

// kindCodes are the wire codes of record kinds.
var kindCodes = map[kiosk.RecordKind]uint64{
	kiosk.KindActivation:      1,
	kiosk.KindDeactivation:    2,
	kiosk.KindAuditCheckpoint: 3,
	kiosk.KindCodeReissue:     4,
}

var (
	encMode    cbor.EncMode
	decMode    cbor.DecMode // records
	msgDecMode cbor.DecMode // the messages of messages.go: bigger arrays, unknown fields refused
)

func init() {
	var err error
	if encMode, err = cbor.CoreDetEncOptions().EncMode(); err != nil {
		panic(err) // static options; cannot fail at run time
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
		MaxNestedLevels:  4,
		MaxArrayElements: 64,
		MaxMapPairs:      64,
	}.DecMode()
	if err != nil {
		panic(err) // static options; cannot fail at run time
	}
	msgDecMode, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		MaxNestedLevels:   6,
		MaxArrayElements:  MaxPage,
		MaxMapPairs:       64,
	}.DecMode()
	if err != nil {
		panic(err) // static options; cannot fail at run time
	}
}

// activationWire is the body of an activation record: kiosk.Activation without the record id
// and kiosk id, which the envelope already carries.
type activationWire struct {
	RegistrationID string  `cbor:"1,keyasint"`
	NIK            string  `cbor:"2,keyasint"`
	OfficerID      string  `cbor:"3,keyasint"`
	TokenKeyID     string  `cbor:"4,keyasint"`
	FaceBand       string  `cbor:"5,keyasint"`
	FaceScore      float64 `cbor:"6,keyasint"`
	EyeChecked     bool    `cbor:"7,keyasint"`
	ApprovedAt     int64   `cbor:"8,keyasint"` // Unix milliseconds
}

// deactivationWire is the body of a deactivation record, likewise.
type deactivationWire struct {
	NIK         string  `cbor:"1,keyasint"`
	OfficerID   string  `cbor:"2,keyasint"`
	Reason      string  `cbor:"3,keyasint"`
	FaceBand    string  `cbor:"4,keyasint"`
	FaceScore   float64 `cbor:"5,keyasint"`
	EyeChecked  bool    `cbor:"6,keyasint"`
	ConfirmedAt int64   `cbor:"7,keyasint"` // Unix milliseconds
}

// checkpointWire is the body of an audit checkpoint record.
type checkpointWire struct {
	AuditSeq  int64  `cbor:"1,keyasint"`
	AuditHash []byte `cbor:"2,keyasint"`
	OutboxSeq int64  `cbor:"3,keyasint"`
	At        int64  `cbor:"4,keyasint"` // Unix milliseconds
}

// reissueWire is the body of a code re-issue record.
type reissueWire struct {
	RegistrationID string `cbor:"1,keyasint"`
	NIK            string `cbor:"2,keyasint"`
	OfficerID      string `cbor:"3,keyasint"`
	RequestedAt    int64  `cbor:"4,keyasint"` // Unix milliseconds
}

func checkReissue(r reissueWire) error {
	if r.RegistrationID == "" || r.OfficerID == "" {
		return errors.New("code re-issue without registration id or officer id")
	}
	return checkFields(r.NIK, r.RegistrationID, r.OfficerID)
}

func checkCheckpoint(c checkpointWire) error {
	if c.AuditSeq < 1 || c.OutboxSeq < 0 || len(c.AuditHash) != 32 {
		return fmt.Errorf("checkpoint at audit entry %d, outbox seq %d, %d-byte hash", c.AuditSeq, c.OutboxSeq, len(c.AuditHash))
	}
	return nil
}

// encodeBody checks payload against the envelope fields and encodes it. It refuses what Open
// would refuse, because a record the registry cannot open would be stuck in the outbox.
func encodeBody(kind kiosk.RecordKind, id, kioskID string, payload any) (cbor.RawMessage, error) {
	switch p := payload.(type) {
	case *kiosk.Activation:
		if p == nil {
			return nil, errors.New("nil activation")
		}
		return encodeBody(kind, id, kioskID, *p)
	case *kiosk.Deactivation:
		if p == nil {
			return nil, errors.New("nil deactivation")
		}
		return encodeBody(kind, id, kioskID, *p)
	case *kiosk.AuditCheckpoint:
		if p == nil {
			return nil, errors.New("nil audit checkpoint")
		}
		return encodeBody(kind, id, kioskID, *p)
	case *kiosk.CodeReissue:
		if p == nil {
			return nil, errors.New("nil code re-issue")
		}
		return encodeBody(kind, id, kioskID, *p)
	case kiosk.CodeReissue:
		if err := checkHeader(kind, kiosk.KindCodeReissue, id, p.ID, kioskID, p.KioskID); err != nil {
			return nil, err
		}
		w := reissueWire{RegistrationID: p.RegistrationID, NIK: string(p.NIK), OfficerID: p.OfficerID,
			RequestedAt: p.RequestedAt.UnixMilli()}
		if err := checkReissue(w); err != nil {
			return nil, err
		}
		return encMode.Marshal(w)
	case kiosk.AuditCheckpoint:
		if err := checkHeader(kind, kiosk.KindAuditCheckpoint, id, p.ID, kioskID, p.KioskID); err != nil {
			return nil, err
		}
		w := checkpointWire{AuditSeq: p.AuditSeq, AuditHash: p.AuditHash, OutboxSeq: p.OutboxSeq, At: p.At.UnixMilli()}
		if err := checkCheckpoint(w); err != nil {
			return nil, err
		}
		return encMode.Marshal(w)
	case kiosk.Activation:
		if err := checkHeader(kind, kiosk.KindActivation, id, p.ID, kioskID, p.KioskID); err != nil {
			return nil, err
		}
		w := activationWire{RegistrationID: p.RegistrationID, NIK: string(p.NIK), OfficerID: p.OfficerID,
			TokenKeyID: p.TokenKeyID, FaceBand: string(p.FaceBand), FaceScore: p.FaceScore,
			EyeChecked: p.EyeChecked, ApprovedAt: p.ApprovedAt.UnixMilli()}
		if err := checkActivation(w); err != nil {
			return nil, err
		}
		return encMode.Marshal(w)
	case kiosk.Deactivation:
		if err := checkHeader(kind, kiosk.KindDeactivation, id, p.ID, kioskID, p.KioskID); err != nil {
			return nil, err
		}
		w := deactivationWire{NIK: string(p.NIK), OfficerID: p.OfficerID, Reason: p.Reason,
			FaceBand: string(p.FaceBand), FaceScore: p.FaceScore, EyeChecked: p.EyeChecked,
			ConfirmedAt: p.ConfirmedAt.UnixMilli()}
		if err := checkDeactivation(w); err != nil {
			return nil, err
		}
		return encMode.Marshal(w)
	}
	return nil, fmt.Errorf("payload is a %T, not a kiosk.Activation, kiosk.Deactivation, kiosk.AuditCheckpoint or kiosk.CodeReissue", payload)
}

func checkHeader(kind, payloadKind kiosk.RecordKind, id, payloadID, kioskID, payloadKioskID string) error {
	switch {
	case kind != payloadKind:
		return fmt.Errorf("kind %q with a %s payload", kind, payloadKind)
	case payloadID != id:
		return fmt.Errorf("payload id %q differs from record id", payloadID)
	case payloadKioskID != kioskID:
		return fmt.Errorf("payload kiosk id %q differs from the sealer's %q", payloadKioskID, kioskID)
	}
	return nil
}

// checkActivation and checkDeactivation hold the rules both Seal and Open apply.
func checkActivation(a activationWire) error {
	if a.RegistrationID == "" || a.OfficerID == "" {
		return errors.New("activation without registration id or officer id")
	}
	return checkFields(a.NIK, a.RegistrationID, a.OfficerID, a.TokenKeyID, a.FaceBand)
}

func checkDeactivation(d deactivationWire) error {
	if d.OfficerID == "" {
		return errors.New("deactivation without officer id")
	}
	return checkFields(d.NIK, d.OfficerID, d.Reason, d.FaceBand)
}

// checkFields checks the NIK and that every text is valid UTF-8, which CBOR text requires.
func checkFields(nik string, texts ...string) error {
	if _, err := kiosk.ParseNIK(nik); err != nil {
		return err
	}
	for _, s := range texts {
		if !utf8.ValidString(s) {
			return fmt.Errorf("text %q is not valid UTF-8", s)
		}
	}
	return nil
}

// decodeBody decodes the body of a verified record.
func decodeBody(w recordWire) (Record, error) {
	rec := Record{ID: w.ID, KioskID: w.KioskID}
	switch w.Kind {
	case kindCodes[kiosk.KindActivation]:
		var a activationWire
		if err := decMode.Unmarshal(w.Body, &a); err != nil {
			return Record{}, ErrRecordMalformed.With(fmt.Errorf("activation body: %w", err))
		}
		if err := checkActivation(a); err != nil {
			return Record{}, ErrRecordMalformed.With(fmt.Errorf("activation body: %w", err))
		}
		rec.Kind = kiosk.KindActivation
		rec.Activation = &kiosk.Activation{ID: w.ID, RegistrationID: a.RegistrationID, NIK: kiosk.NIK(a.NIK),
			OfficerID: a.OfficerID, KioskID: w.KioskID, TokenKeyID: a.TokenKeyID, FaceBand: kiosk.Band(a.FaceBand),
			FaceScore: a.FaceScore, EyeChecked: a.EyeChecked, ApprovedAt: time.UnixMilli(a.ApprovedAt).UTC()}
	case kindCodes[kiosk.KindDeactivation]:
		var d deactivationWire
		if err := decMode.Unmarshal(w.Body, &d); err != nil {
			return Record{}, ErrRecordMalformed.With(fmt.Errorf("deactivation body: %w", err))
		}
		if err := checkDeactivation(d); err != nil {
			return Record{}, ErrRecordMalformed.With(fmt.Errorf("deactivation body: %w", err))
		}
		rec.Kind = kiosk.KindDeactivation
		rec.Deactivation = &kiosk.Deactivation{ID: w.ID, NIK: kiosk.NIK(d.NIK), OfficerID: d.OfficerID, KioskID: w.KioskID,
			Reason: d.Reason, FaceBand: kiosk.Band(d.FaceBand), FaceScore: d.FaceScore, EyeChecked: d.EyeChecked,
			ConfirmedAt: time.UnixMilli(d.ConfirmedAt).UTC()}
	case kindCodes[kiosk.KindAuditCheckpoint]:
		var c checkpointWire
		if err := decMode.Unmarshal(w.Body, &c); err != nil {
			return Record{}, ErrRecordMalformed.With(fmt.Errorf("checkpoint body: %w", err))
		}
		if err := checkCheckpoint(c); err != nil {
			return Record{}, ErrRecordMalformed.With(fmt.Errorf("checkpoint body: %w", err))
		}
		rec.Kind = kiosk.KindAuditCheckpoint
		rec.Checkpoint = &kiosk.AuditCheckpoint{ID: w.ID, KioskID: w.KioskID, AuditSeq: c.AuditSeq,
			AuditHash: c.AuditHash, OutboxSeq: c.OutboxSeq, At: time.UnixMilli(c.At).UTC()}
	case kindCodes[kiosk.KindCodeReissue]:
		var r reissueWire
		if err := decMode.Unmarshal(w.Body, &r); err != nil {
			return Record{}, ErrRecordMalformed.With(fmt.Errorf("code re-issue body: %w", err))
		}
		if err := checkReissue(r); err != nil {
			return Record{}, ErrRecordMalformed.With(fmt.Errorf("code re-issue body: %w", err))
		}
		rec.Kind = kiosk.KindCodeReissue
		rec.Reissue = &kiosk.CodeReissue{ID: w.ID, RegistrationID: r.RegistrationID, NIK: kiosk.NIK(r.NIK),
			OfficerID: r.OfficerID, KioskID: w.KioskID, RequestedAt: time.UnixMilli(r.RequestedAt).UTC()}
	default:
		return Record{}, ErrRecordUnknownKind.With(fmt.Errorf("kind %d", w.Kind))
	}
	return rec, nil
}
