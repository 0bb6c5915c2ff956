// Package sync is the kiosk's link to the registry (DESIGN.md §7): the signed record envelope
// (this file), the messages kiosk and registry exchange and why they are CBOR rather than
// JSON (messages.go), request signatures and why not mutual TLS (auth.go), the registry's
// answer codes (codes.go), the kiosk's HTTP client (client.go) and its background sync
// engine (engine.go). The registry's side is sync/registry.
//
// Importers that also use the standard library's sync name this package, e.g.
// ikdsync "github.com/ikd-field/ikd/sync".
package sync

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	"github.com/ikd-field/ikd/kiosk"
)

// The envelope is a tagged COSE_Sign1 (RFC 9052) signed with the kiosk's Ed25519 device key:
//
//	protected header: alg (1) = EdDSA (-8), kid (4) = the kiosk id's text as bytes
//	external AAD:     "IKD record v1" (not sent; binds the signature to this use, so nothing
//	                  else the device key signs, such as request signatures, can pass as a record)
//	payload:          CBOR map {1: kind, 2: record id, 3: kiosk id, 4: body}
//
// kind is 1 for an activation, 2 for a deactivation, 3 for an audit checkpoint and 4 for a
// code re-issue. The body is a CBOR map with small integer keys (see activationWire,
// deactivationWire, checkpointWire and reissueWire); the record id and kiosk id are not
// repeated in it. Times travel as Unix milliseconds, so they come back from Open in UTC at
// millisecond precision. Encoding is CBOR core deterministic: a record
// always seals to the same bytes.

// externalAAD is the COSE external additional data of every record signature.
var externalAAD = []byte("IKD record v1")

// maxEnvelope bounds what Open reads; a typical activation envelope is about 250 bytes.
const maxEnvelope = 16 << 10

// Open errors. They are *kiosk.Error values: the registry returns the code as the rejection
// reason, and the kiosk shows the officer the message.
var (
	ErrRecordMalformed = &kiosk.Error{Code: "record.malformed", Msg: kiosk.Message{
		ID: "Catatan rusak sehingga ditolak registri; hubungi petugas TI.",
		EN: "The record is damaged and was refused by the registry; contact IT support."}}
	ErrRecordBadSignature = &kiosk.Error{Code: "record.bad_signature", Msg: kiosk.Message{
		ID: "Tanda tangan perangkat pada catatan tidak sah; kiosk mungkin perlu didaftarkan ulang. Hubungi petugas TI.",
		EN: "The device signature on the record is not valid; the kiosk may need to be enrolled again. Contact IT support."}}
	ErrRecordKioskMismatch = &kiosk.Error{Code: "record.kiosk_mismatch", Msg: kiosk.Message{
		ID: "Catatan tidak berasal dari kiosk yang menandatanganinya; hubungi petugas TI.",
		EN: "The record does not belong to the kiosk that signed it; contact IT support."}}
	ErrRecordUnknownKind = &kiosk.Error{Code: "record.unknown_kind", Msg: kiosk.Message{
		ID: "Jenis catatan tidak dikenal registri; perbarui perangkat lunak.",
		EN: "The registry does not know this kind of record; update the software."}}
)

// Record is an opened, verified envelope.
type Record struct {
	Kind         kiosk.RecordKind
	ID           string
	KioskID      string
	Activation   *kiosk.Activation      // set when Kind is kiosk.KindActivation
	Deactivation *kiosk.Deactivation    // set when Kind is kiosk.KindDeactivation
	Checkpoint   *kiosk.AuditCheckpoint // set when Kind is kiosk.KindAuditCheckpoint
	Reissue      *kiosk.CodeReissue     // set when Kind is kiosk.KindCodeReissue
}

// Sealer signs outbox records with the kiosk's device key. It implements kiosk.Sealer and is
// safe for concurrent use.
type Sealer struct {
	kioskID string
	signer  cose.Signer
}

var _ kiosk.Sealer = (*Sealer)(nil)

// NewSealer returns a Sealer for the kiosk kioskID and its device key.
func NewSealer(kioskID string, key ed25519.PrivateKey) (*Sealer, error) {
	if kioskID == "" || len(kioskID) > maxIDLen {
		return nil, fmt.Errorf("record sealer: kiosk id must be 1 to %d bytes, got %d", maxIDLen, len(kioskID))
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("record sealer: Ed25519 private key must be %d bytes, got %d", ed25519.PrivateKeySize, len(key))
	}
	s, err := cose.NewSigner(cose.AlgorithmEdDSA, key)
	if err != nil {
		return nil, fmt.Errorf("record sealer: %w", err)
	}
	return &Sealer{kioskID: kioskID, signer: s}, nil
}

// Seal signs payload, a kiosk.Activation, kiosk.Deactivation, kiosk.AuditCheckpoint or
// kiosk.CodeReissue (or a pointer to one) whose kind is kind, whose ID is id and whose
// KioskID is the sealer's kiosk.
func (s *Sealer) Seal(kind kiosk.RecordKind, id string, payload any) ([]byte, error) {
	if id == "" || len(id) > maxIDLen {
		return nil, fmt.Errorf("seal record: id must be 1 to %d bytes, got %d", maxIDLen, len(id))
	}
	body, err := encodeBody(kind, id, s.kioskID, payload)
	if err != nil {
		return nil, fmt.Errorf("seal %s record %s: %w", kind, id, err)
	}
	rec, err := encMode.Marshal(recordWire{Kind: kindCodes[kind], ID: id, KioskID: s.kioskID, Body: body})
	if err != nil {
		return nil, fmt.Errorf("seal %s record %s: %w", kind, id, err)
	}
	headers := cose.Headers{Protected: cose.ProtectedHeader{
		cose.HeaderLabelAlgorithm: cose.AlgorithmEdDSA,
		cose.HeaderLabelKeyID:     []byte(s.kioskID),
	}}
	env, err := cose.Sign1(nil, s.signer, headers, rec, externalAAD)
	if err != nil {
		return nil, fmt.Errorf("seal %s record %s: %w", kind, id, err)
	}
	if len(env) > maxEnvelope {
		return nil, fmt.Errorf("seal %s record %s: envelope of %d bytes exceeds %d", kind, id, len(env), maxEnvelope)
	}
	return env, nil
}

// EnvelopeKioskID returns the kiosk id an envelope claims to come from, without verifying
// anything, so the registry can look up that kiosk's device key and then call Open.
func EnvelopeKioskID(envelope []byte) (string, error) {
	msg, err := decodeSign1(envelope)
	if err != nil {
		return "", err
	}
	return kidOf(msg)
}

// Open verifies envelope against the kiosk's device key pub and decodes it. Envelope errors
// are the ErrRecord… values above; a wrong-sized pub is an operator error.
func Open(envelope []byte, pub ed25519.PublicKey) (Record, error) {
	msg, kid, err := verified(envelope, pub)
	if err != nil {
		return Record{}, err
	}
	var w recordWire
	if err := decMode.Unmarshal(msg.Payload, &w); err != nil {
		return Record{}, ErrRecordMalformed.With(fmt.Errorf("record: %w", err))
	}
	if w.KioskID != kid {
		return Record{}, ErrRecordKioskMismatch.With(fmt.Errorf("signed by %q, names kiosk %q", kid, w.KioskID))
	}
	if w.ID == "" || len(w.ID) > maxIDLen {
		return Record{}, ErrRecordMalformed.With(fmt.Errorf("record id of %d bytes", len(w.ID)))
	}
	rec, err := decodeBody(w)
	if err != nil {
		return Record{}, err
	}
	return rec, nil
}

// VerifySignature checks envelope's signature against the kiosk's device key pub without
// decoding the record: the least work the registry does per record (the ingest benchmark's
// floor). Errors are those of Open.
func VerifySignature(envelope []byte, pub ed25519.PublicKey) error {
	_, _, err := verified(envelope, pub)
	return err
}

// verified decodes envelope's COSE_Sign1 and checks its signature, returning the message and
// the kiosk id it names.
func verified(envelope []byte, pub ed25519.PublicKey) (*cose.Sign1Message, string, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, "", fmt.Errorf("open record: device key is %d bytes, not an Ed25519 public key", len(pub))
	}
	msg, err := decodeSign1(envelope)
	if err != nil {
		return nil, "", err
	}
	kid, err := kidOf(msg)
	if err != nil {
		return nil, "", err
	}
	v, err := cose.NewVerifier(cose.AlgorithmEdDSA, pub)
	if err != nil {
		return nil, "", fmt.Errorf("open record: %w", err)
	}
	if err := msg.Verify(externalAAD, v); err != nil {
		return nil, "", ErrRecordBadSignature.With(fmt.Errorf("kiosk %q: %w", kid, err))
	}
	return msg, kid, nil
}

func decodeSign1(envelope []byte) (*cose.Sign1Message, error) {
	if len(envelope) > maxEnvelope {
		return nil, ErrRecordMalformed.With(fmt.Errorf("envelope is %d bytes, more than %d", len(envelope), maxEnvelope))
	}
	var msg cose.Sign1Message
	if err := msg.UnmarshalCBOR(envelope); err != nil {
		return nil, ErrRecordMalformed.With(fmt.Errorf("COSE_Sign1: %w", err))
	}
	return &msg, nil
}

func kidOf(msg *cose.Sign1Message) (string, error) {
	b, ok := msg.Headers.Protected[cose.HeaderLabelKeyID].([]byte)
	if !ok || len(b) == 0 || len(b) > maxIDLen {
		return "", ErrRecordMalformed.With(errors.New("no kiosk id (kid) in the protected header"))
	}
	return string(b), nil
}

// recordWire is the signed payload of an envelope.
type recordWire struct {
	Kind    uint64          `cbor:"1,keyasint"`
	ID      string          `cbor:"2,keyasint"`
	KioskID string          `cbor:"3,keyasint"`
	Body    cbor.RawMessage `cbor:"4,keyasint"`
}
