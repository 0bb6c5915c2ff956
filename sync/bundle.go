package sync

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"github.com/fxamacker/cbor/v2"
	"github.com/google/uuid"
	"golang.org/x/crypto/ssh"

	"github.com/ikd-field/ikd/kiosk"
)

// A USB stick is a link too (DESIGN.md §7). Three kinds of bundle travel on it:
//
//   - outbox: the kiosk's unanswered records, signed by its device key and encrypted to the
//     registry, for `ikd-registry bundle import`;
//   - answers: the registry's answers to an outbox bundle, signed by the registry, for
//     `ikdctl bundle answers`;
//   - changes: the delta pages of an area, signed by the registry, for `ikdctl bundle apply`.
//
// Each is one strict CBOR file (the codec of the wire messages):
//
//	{1: "IKD bundle", 2: version, 3: kind, 4: signer id, 5: signer's Ed25519 public key,
//	 6: body (bytes), 7: Ed25519 signature}
//
// The signature covers bundleContext, the kind, the signer id and the body, so nothing else
// the same key signs (records are COSE_Sign1 with their own external AAD, requests start
// "IKD request v1", QR tokens are COSE) can pass as a bundle. The signer of an outbox is the
// kiosk id, of the others the registry key id; the public key travels so that a bundle signed
// by another kiosk's key (or a registry key the kiosk does not trust) is told apart from one
// whose bytes were changed.
//
// The records of an outbox are encrypted with age to every registry key the kiosk trusts and
// that is valid now: the registry's age recipient is its Ed25519 signing key read as an
// age ssh-ed25519 recipient, so it reaches the kiosk with the keys it already trusts (at
// enrolment and in every delta), under the same row MAC, with nothing new to plant. Only the
// manifest (kiosk id, counts by kind, first and last outbox sequence) is readable on the stick;
// no NIK, name or e-mail is. The record envelopes inside are the very bytes a push sends, and
// the registry ingests them through the same code path as POST /v1/records.

// BundleVersion is the bundle format this code writes and reads.
const BundleVersion = 1

// Bundle limits. A changes bundle of a whole kabupaten with photos is the biggest; a kiosk's
// outbox bundle carries at most MaxBundleRecords records (a second stick takes the rest).
const (
	MaxBundleBytes   = 1 << 30
	MaxBundleRecords = MaxPage
)

const (
	bundleMagic   = "IKD bundle"
	bundleContext = "IKD bundle v1\n"
)

// bundleHead is how every bundle file starts: a CBOR map of 7 pairs, key 1, the magic text.
var bundleHead = append([]byte{0xa7, 0x01, 0x60 + byte(len(bundleMagic))}, bundleMagic...)

// BundleKind says what a bundle carries.
type BundleKind int

const (
	KindOutboxBundle  BundleKind = 1
	KindAnswersBundle BundleKind = 2
	KindChangesBundle BundleKind = 3
)

func (k BundleKind) String() string {
	switch k {
	case KindOutboxBundle:
		return "outbox"
	case KindAnswersBundle:
		return "answers"
	case KindChangesBundle:
		return "changes"
	}
	return "kind " + strconv.Itoa(int(k))
}

// Bundle refusals. Each is refused with nothing stored.
var (
	ErrBundleMalformed = &kiosk.Error{Code: "bundle.malformed", Msg: kiosk.Message{
		ID: "Berkas pada flashdisk bukan bundel IKD yang dapat dibaca (versi lain atau rusak); buat ulang bundelnya.",
		EN: "The file on the stick is not an IKD bundle that can be read (another version, or damaged); make the bundle again."}}
	ErrBundleTruncated = &kiosk.Error{Code: "bundle.truncated", Msg: kiosk.Message{
		ID: "Bundel pada flashdisk terpotong (penyalinan tidak selesai); salin ulang bundelnya.",
		EN: "The bundle on the stick is cut short (the copy did not finish); copy the bundle again."}}
	ErrBundleTampered = &kiosk.Error{Code: "bundle.tampered", Msg: kiosk.Message{
		ID: "Isi bundel telah diubah setelah ditandatangani; bundel ditolak. Buat ulang bundelnya dan laporkan ke petugas TI.",
		EN: "The bundle was changed after it was signed and is refused. Make the bundle again and report it to IT support."}}
	ErrBundleForeignKey = &kiosk.Error{Code: "bundle.foreign_key", Msg: kiosk.Message{
		ID: "Bundel tidak ditandatangani dengan kunci kiosk yang disebutnya (kiosk lain atau kiosk tak terdaftar); bundel ditolak.",
		EN: "The bundle is not signed with the key of the kiosk it names (another kiosk, or one not enrolled); it is refused."}}
	ErrBundleOtherKiosk = &kiosk.Error{Code: "bundle.other_kiosk", Msg: kiosk.Message{
		ID: "Jawaban pada flashdisk ditujukan untuk kiosk lain; gunakan bundel jawaban kiosk ini.",
		EN: "The answers on the stick are for another kiosk; use this kiosk's answers bundle."}}
	ErrBundleWrongRegistry = &kiosk.Error{Code: "bundle.wrong_registry", Msg: kiosk.Message{
		ID: "Bundel berasal dari atau ditujukan ke registri lain yang tidak dipercaya; bundel ditolak.",
		EN: "The bundle comes from, or is meant for, another registry that is not trusted; it is refused."}}
	ErrBundleWrongArea = &kiosk.Error{Code: "bundle.wrong_area", Msg: kiosk.Message{
		ID: "Data pada flashdisk untuk wilayah lain daripada wilayah kiosk ini; minta bundel untuk kecamatan kiosk ini.",
		EN: "The data on the stick is for another area than this kiosk's; ask for a bundle of this kiosk's kecamatan."}}
	ErrBundleOld = &kiosk.Error{Code: "bundle.old", Msg: kiosk.Message{
		ID: "Data pada flashdisk lebih lama daripada data kiosk; tidak diterapkan agar data tidak mundur. Minta bundel terbaru.",
		EN: "The data on the stick is older than the kiosk's; it is not applied, so the data does not go back. Ask for a newer bundle."}}
	ErrBundleReplayed = &kiosk.Error{Code: "bundle.replayed", Msg: kiosk.Message{
		ID: "Bundel ini sudah diterapkan; kiosk sudah memiliki semua isinya.",
		EN: "This bundle was already applied; the kiosk already has everything in it."}}
	ErrBundleGap = &kiosk.Error{Code: "bundle.gap", Msg: kiosk.Message{
		ID: "Data pada flashdisk dimulai setelah data kiosk berakhir; ada perubahan yang terlewat. Minta bundel sejak kursor kiosk ini (ikdctl sync status).",
		EN: "The data on the stick starts after the kiosk's ends; changes in between are missing. Ask for a bundle from this kiosk's cursor (ikdctl sync status)."}}
)

// bundleFile is a bundle as it lies on the stick.
type bundleFile struct {
	Magic     string `cbor:"1,keyasint"`
	Version   int    `cbor:"2,keyasint"`
	Kind      int    `cbor:"3,keyasint"`
	Signer    string `cbor:"4,keyasint"`
	SignerKey []byte `cbor:"5,keyasint"`
	Body      []byte `cbor:"6,keyasint"`
	Signature []byte `cbor:"7,keyasint"`
}

// Bundle is a parsed bundle whose signature is not checked yet.
type Bundle struct {
	Kind      BundleKind
	Signer    string            // kiosk id (outbox) or registry key id
	SignerKey ed25519.PublicKey // the key the bundle claims to be signed with
	body, sig []byte
}

// bundleDecMode is msgDecMode with room for the records of an outbox and the pages of a delta.
var bundleDecMode = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		MaxNestedLevels:   6,
		MaxArrayElements:  MaxBundleRecords,
		MaxMapPairs:       64,
	}.DecMode()
	if err != nil {
		panic(err) // static options; cannot fail at run time
	}
	return m
}()

// decodeStrict decodes b into v, telling a cut-short input (ErrBundleTruncated) from
// anything else wrong (ErrBundleMalformed).
func decodeStrict(b []byte, v any, what string) error {
	err := bundleDecMode.Unmarshal(b, v)
	switch {
	case err == nil:
		return nil
	case len(b) == 0 || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return ErrBundleTruncated.With(fmt.Errorf("%s: %w", what, err))
	}
	return ErrBundleMalformed.With(fmt.Errorf("%s: %w", what, err))
}

// ParseBundle reads the outer form of a bundle strictly, checking nothing cryptographic.
func ParseBundle(b []byte) (Bundle, error) {
	if len(b) > MaxBundleBytes {
		return Bundle{}, ErrBundleMalformed.With(fmt.Errorf("%d bytes, at most %d", len(b), MaxBundleBytes))
	}
	// Every bundle starts with the same bytes (a map of 7, key 1, the magic): without them
	// the file is something else, and a file that stops inside them was cut.
	if len(b) < len(bundleHead) && bytes.HasPrefix(bundleHead, b) {
		return Bundle{}, ErrBundleTruncated.With(fmt.Errorf("%d bytes", len(b)))
	}
	if !bytes.HasPrefix(b, bundleHead) {
		return Bundle{}, ErrBundleMalformed.With(errors.New("not an IKD bundle"))
	}
	var f bundleFile
	if err := decodeStrict(b, &f, "bundle"); err != nil {
		return Bundle{}, err
	}
	switch {
	case f.Magic != bundleMagic:
		return Bundle{}, ErrBundleMalformed.With(fmt.Errorf("not an IKD bundle (magic %q)", f.Magic))
	case f.Version != BundleVersion:
		return Bundle{}, ErrBundleMalformed.With(fmt.Errorf("bundle version %d; this software reads version %d", f.Version, BundleVersion))
	case f.Kind < int(KindOutboxBundle) || f.Kind > int(KindChangesBundle):
		return Bundle{}, ErrBundleMalformed.With(fmt.Errorf("unknown bundle kind %d", f.Kind))
	case f.Signer == "" || len(f.Signer) > maxIDLen:
		return Bundle{}, ErrBundleMalformed.With(fmt.Errorf("signer id of %d bytes", len(f.Signer)))
	case len(f.SignerKey) != ed25519.PublicKeySize || len(f.Signature) != ed25519.SignatureSize:
		return Bundle{}, ErrBundleMalformed.With(fmt.Errorf("signer key of %d bytes, signature of %d", len(f.SignerKey), len(f.Signature)))
	}
	return Bundle{Kind: BundleKind(f.Kind), Signer: f.Signer, SignerKey: f.SignerKey, body: f.Body, sig: f.Signature}, nil
}

func bundleMessage(kind BundleKind, signer string, body []byte) []byte {
	m := make([]byte, 0, len(bundleContext)+len(signer)+len(body)+8)
	m = append(m, bundleContext...)
	m = strconv.AppendInt(m, int64(kind), 10)
	m = append(m, '\n')
	m = append(m, signer...)
	m = append(m, '\n')
	return append(m, body...)
}

// verify checks the bundle's signature against pub, the key the verifier holds for the
// signer: another key is errOther's refusal, a failing signature is tampering.
func (b Bundle) verify(pub ed25519.PublicKey, errOther *kiosk.Error) error {
	if len(pub) != ed25519.PublicKeySize || !bytes.Equal(pub, b.SignerKey) {
		return errOther.With(fmt.Errorf("%s bundle signed by %q with a key that is not the one held for it", b.Kind, b.Signer))
	}
	if !ed25519.Verify(pub, bundleMessage(b.Kind, b.Signer, b.body), b.sig) {
		return ErrBundleTampered.With(fmt.Errorf("%s bundle of %q: the signature does not match its content", b.Kind, b.Signer))
	}
	return nil
}

func sealBundle(kind BundleKind, signer string, key ed25519.PrivateKey, body any) ([]byte, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("seal %s bundle: the key is not an Ed25519 private key", kind)
	}
	b, err := Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("seal %s bundle: %w", kind, err)
	}
	out, err := Marshal(bundleFile{Magic: bundleMagic, Version: BundleVersion, Kind: int(kind), Signer: signer,
		SignerKey: key.Public().(ed25519.PublicKey), Body: b, Signature: ed25519.Sign(key, bundleMessage(kind, signer, b))})
	if err != nil {
		return nil, fmt.Errorf("seal %s bundle: %w", kind, err)
	}
	return out, nil
}

// expect refuses a bundle of another kind than want.
func (b Bundle) expect(want BundleKind) error {
	if b.Kind != want {
		return ErrBundleMalformed.With(fmt.Errorf("a %s bundle, not an %s bundle", b.Kind, want))
	}
	return nil
}

// OutboxManifest is the readable part of an outbox bundle.
type OutboxManifest struct {
	KioskID    string         `cbor:"1,keyasint"`
	BundleID   string         `cbor:"2,keyasint"`
	Created    int64          `cbor:"3,keyasint"` // Unix milliseconds, the kiosk's clock
	Counts     map[string]int `cbor:"4,keyasint"` // records by kind
	FirstSeq   int64          `cbor:"5,keyasint"` // lowest outbox sequence number carried
	LastSeq    int64          `cbor:"6,keyasint"` // highest
	Recipients []string       `cbor:"7,keyasint"` // the registry key ids it is encrypted to
}

type outboxBody struct {
	Manifest OutboxManifest `cbor:"1,keyasint"`
	Sealed   []byte         `cbor:"2,keyasint"` // age, of outboxPlain
}

// outboxPlain is what the age encryption hides. It repeats the kiosk and bundle ids so the
// sealed part cannot be moved under another manifest.
type outboxPlain struct {
	KioskID  string   `cbor:"1,keyasint"`
	BundleID string   `cbor:"2,keyasint"`
	IDs      []string `cbor:"3,keyasint"`
	Records  [][]byte `cbor:"4,keyasint"`
}

// OutboxBundle is an opened outbox bundle: the manifest, and the record ids with their
// envelopes in the order the kiosk listed them.
type OutboxBundle struct {
	Manifest OutboxManifest
	IDs      []string
	Records  [][]byte
}

// ageRecipient is a registry key as an age recipient.
func ageRecipient(pub ed25519.PublicKey) (age.Recipient, error) {
	sk, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return agessh.NewEd25519Recipient(sk)
}

// SealOutbox makes the outbox bundle of recs (as ToSend returns them) for kiosk kioskID,
// signed by its device key and encrypted to every registry key valid at now. It fails when
// no registry key is valid: the kiosk is not enrolled.
func SealOutbox(kioskID string, key ed25519.PrivateKey, recs []kiosk.OutboxRecord, registryKeys []kiosk.RegistryKey, now time.Time) ([]byte, OutboxManifest, error) {
	if len(recs) == 0 || len(recs) > MaxBundleRecords {
		return nil, OutboxManifest{}, fmt.Errorf("outbox bundle: %d records, want 1 to %d", len(recs), MaxBundleRecords)
	}
	m := OutboxManifest{KioskID: kioskID, BundleID: uuid.Must(uuid.NewV7()).String(), Created: now.UnixMilli(),
		Counts: map[string]int{}}
	var recipients []age.Recipient
	for _, k := range registryKeys {
		if !k.ValidAt(now) {
			continue
		}
		r, err := ageRecipient(k.PublicKey)
		if err != nil {
			return nil, OutboxManifest{}, fmt.Errorf("outbox bundle: registry key %q: %w", k.KeyID, err)
		}
		recipients = append(recipients, r)
		m.Recipients = append(m.Recipients, k.KeyID)
	}
	if len(recipients) == 0 {
		return nil, OutboxManifest{}, errors.New("outbox bundle: no registry key is valid now; enroll the kiosk first (ikdctl enroll)")
	}
	plain := outboxPlain{KioskID: kioskID, BundleID: m.BundleID}
	for _, r := range recs {
		plain.IDs = append(plain.IDs, r.ID)
		plain.Records = append(plain.Records, r.Envelope)
		m.Counts[string(r.Kind)]++
		if m.FirstSeq == 0 || r.Seq < m.FirstSeq {
			m.FirstSeq = r.Seq
		}
		m.LastSeq = max(m.LastSeq, r.Seq)
	}
	pb, err := Marshal(plain)
	if err != nil {
		return nil, OutboxManifest{}, fmt.Errorf("outbox bundle: %w", err)
	}
	var sealed bytes.Buffer
	w, err := age.Encrypt(&sealed, recipients...)
	if err != nil {
		return nil, OutboxManifest{}, fmt.Errorf("outbox bundle: encrypt: %w", err)
	}
	if _, err := w.Write(pb); err != nil {
		return nil, OutboxManifest{}, fmt.Errorf("outbox bundle: encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, OutboxManifest{}, fmt.Errorf("outbox bundle: encrypt: %w", err)
	}
	b, err := sealBundle(KindOutboxBundle, kioskID, key, outboxBody{Manifest: m, Sealed: sealed.Bytes()})
	return b, m, err
}

// OpenOutbox verifies and decrypts an outbox bundle at the registry. deviceKey returns the
// enrolled device key of a kiosk id (found false: no such kiosk); registryKey is the
// registry's signing key, whose age identity opens the records.
func OpenOutbox(b []byte, deviceKey func(kioskID string) (ed25519.PublicKey, bool, error), registryKey ed25519.PrivateKey) (OutboxBundle, error) {
	bu, err := ParseBundle(b)
	if err != nil {
		return OutboxBundle{}, err
	}
	if err := bu.expect(KindOutboxBundle); err != nil {
		return OutboxBundle{}, err
	}
	pub, found, err := deviceKey(bu.Signer)
	if err != nil {
		return OutboxBundle{}, fmt.Errorf("outbox bundle of %q: %w", bu.Signer, err)
	}
	if !found {
		return OutboxBundle{}, ErrBundleForeignKey.With(fmt.Errorf("kiosk %q is not enrolled here", bu.Signer))
	}
	if err := bu.verify(pub, ErrBundleForeignKey); err != nil {
		return OutboxBundle{}, err
	}
	var body outboxBody
	if err := decodeStrict(bu.body, &body, "outbox bundle body"); err != nil {
		return OutboxBundle{}, err
	}
	if body.Manifest.KioskID != bu.Signer {
		return OutboxBundle{}, ErrBundleForeignKey.With(fmt.Errorf("manifest names kiosk %q, signed by %q", body.Manifest.KioskID, bu.Signer))
	}
	id, err := agessh.NewEd25519Identity(registryKey)
	if err != nil {
		return OutboxBundle{}, fmt.Errorf("outbox bundle: registry key: %w", err)
	}
	r, err := age.Decrypt(bytes.NewReader(body.Sealed), id)
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) {
		return OutboxBundle{}, ErrBundleWrongRegistry.With(fmt.Errorf("encrypted to registry keys %v, none of them this registry's", body.Manifest.Recipients))
	}
	if err != nil {
		// Signed, so made so by the kiosk itself: damaged before it was signed.
		return OutboxBundle{}, ErrBundleMalformed.With(fmt.Errorf("outbox bundle: decrypt: %w", err))
	}
	pb, err := io.ReadAll(io.LimitReader(r, MaxBundleBytes))
	if err != nil {
		return OutboxBundle{}, ErrBundleMalformed.With(fmt.Errorf("outbox bundle: decrypt: %w", err))
	}
	var plain outboxPlain
	if err := decodeStrict(pb, &plain, "outbox bundle records"); err != nil {
		return OutboxBundle{}, err
	}
	if err := checkOutboxPlain(body.Manifest, plain); err != nil {
		return OutboxBundle{}, err
	}
	return OutboxBundle{Manifest: body.Manifest, IDs: plain.IDs, Records: plain.Records}, nil
}

func checkOutboxPlain(m OutboxManifest, p outboxPlain) error {
	switch {
	case p.KioskID != m.KioskID || p.BundleID != m.BundleID:
		return ErrBundleMalformed.With(fmt.Errorf("sealed records of kiosk %q bundle %q under the manifest of %q bundle %q",
			p.KioskID, p.BundleID, m.KioskID, m.BundleID))
	case len(p.IDs) != len(p.Records) || len(p.Records) == 0:
		return ErrBundleMalformed.With(fmt.Errorf("%d record ids for %d records", len(p.IDs), len(p.Records)))
	}
	n := 0
	for _, c := range m.Counts {
		n += c
	}
	if n != len(p.Records) {
		return ErrBundleMalformed.With(fmt.Errorf("manifest counts %d records, the bundle carries %d", n, len(p.Records)))
	}
	for i, id := range p.IDs {
		if id == "" || len(id) > maxIDLen {
			return ErrBundleMalformed.With(fmt.Errorf("record %d: id of %d bytes", i+1, len(id)))
		}
	}
	return nil
}

// BundleAnswers are the registry's answers to an outbox bundle, one per record, in the
// order of the bundle.
type BundleAnswers struct {
	KioskID  string   `cbor:"1,keyasint"`
	BundleID string   `cbor:"2,keyasint"` // the outbox bundle answered
	Time     int64    `cbor:"3,keyasint"` // the registry's time, Unix milliseconds
	IDs      []string `cbor:"4,keyasint"`
	Answers  []Answer `cbor:"5,keyasint"`
}

// SealAnswers signs a's file with the registry key kid.
func SealAnswers(kid string, key ed25519.PrivateKey, a BundleAnswers) ([]byte, error) {
	if len(a.IDs) != len(a.Answers) {
		return nil, fmt.Errorf("answers bundle: %d ids for %d answers", len(a.IDs), len(a.Answers))
	}
	return sealBundle(KindAnswersBundle, kid, key, a)
}

// TrustedKey returns the registry key the kiosk trusts under a key id (an error matching
// kiosk.ErrNotFound when there is none); kiosk.TrustStore.RegistryKey with its context.
type TrustedKey func(kid string) (kiosk.RegistryKey, error)

// verifyRegistryBundle checks a bundle signed by the registry against the kiosk's trust.
func verifyRegistryBundle(bu Bundle, trusted TrustedKey) error {
	k, err := trusted(bu.Signer)
	if errors.Is(err, kiosk.ErrNotFound) {
		return ErrBundleWrongRegistry.With(fmt.Errorf("signed by registry key %q, which this kiosk does not trust", bu.Signer))
	}
	if err != nil {
		return fmt.Errorf("%s bundle: registry key %q: %w", bu.Kind, bu.Signer, err)
	}
	return bu.verify(k.PublicKey, ErrBundleWrongRegistry)
}

// OpenAnswers verifies an answers bundle for the kiosk kioskID.
func OpenAnswers(b []byte, kioskID string, trusted TrustedKey) (BundleAnswers, error) {
	bu, err := ParseBundle(b)
	if err != nil {
		return BundleAnswers{}, err
	}
	if err := bu.expect(KindAnswersBundle); err != nil {
		return BundleAnswers{}, err
	}
	if err := verifyRegistryBundle(bu, trusted); err != nil {
		return BundleAnswers{}, err
	}
	var a BundleAnswers
	if err := decodeStrict(bu.body, &a, "answers bundle body"); err != nil {
		return BundleAnswers{}, err
	}
	if a.KioskID != kioskID {
		return BundleAnswers{}, ErrBundleOtherKiosk.With(fmt.Errorf("answers for kiosk %q, this is %q", a.KioskID, kioskID))
	}
	if len(a.IDs) != len(a.Answers) {
		return BundleAnswers{}, ErrBundleMalformed.With(fmt.Errorf("%d ids for %d answers", len(a.IDs), len(a.Answers)))
	}
	if err := checkAnswers(len(a.IDs), a.Answers); err != nil {
		return BundleAnswers{}, ErrBundleMalformed.With(err)
	}
	return a, nil
}

// BundleChanges are the delta pages of an area after a cursor, as a pull would fetch them.
type BundleChanges struct {
	Area  string
	Since int64 // the change number the first page starts after (0: everything)
	Until int64 // the last page's cursor
	Time  int64 // the registry's time, Unix milliseconds
	Pages []DeltaPage
}

type changesBody struct {
	Area  string   `cbor:"1,keyasint"`
	Since int64    `cbor:"2,keyasint"`
	Until int64    `cbor:"3,keyasint"`
	Time  int64    `cbor:"4,keyasint"`
	Pages [][]byte `cbor:"5,keyasint"` // each a DeltaPage, decoded with the page limits
}

// SealChanges signs c's file with the registry key kid.
func SealChanges(kid string, key ed25519.PrivateKey, c BundleChanges) ([]byte, error) {
	if err := checkChain(c); err != nil {
		return nil, fmt.Errorf("changes bundle: %w", err)
	}
	body := changesBody{Area: c.Area, Since: c.Since, Until: c.Until, Time: c.Time}
	for _, p := range c.Pages {
		b, err := Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("changes bundle: %w", err)
		}
		body.Pages = append(body.Pages, b)
	}
	return sealBundle(KindChangesBundle, kid, key, body)
}

// checkChain checks that the pages follow each other from Since to Until as a pull's would:
// each page's cursor after the one before, More on every page but the last.
func checkChain(c BundleChanges) error {
	if len(c.Pages) == 0 || c.Since < 0 {
		return fmt.Errorf("%d pages since %d", len(c.Pages), c.Since)
	}
	prev := c.Since
	for i, p := range c.Pages {
		cur, err := strconv.ParseInt(p.Cursor, 10, 64)
		last := i == len(c.Pages)-1
		switch {
		case err != nil:
			return fmt.Errorf("page %d: cursor %q", i+1, p.Cursor)
		case cur < prev || (cur == prev && !last):
			return fmt.Errorf("page %d: cursor %d after %d", i+1, cur, prev)
		case p.More == last:
			return fmt.Errorf("page %d of %d: more %v", i+1, len(c.Pages), p.More)
		}
		prev = cur
	}
	if prev != c.Until {
		return fmt.Errorf("the last page ends at %d, the bundle says %d", prev, c.Until)
	}
	return nil
}

// OpenChanges verifies a changes bundle against the kiosk's trusted registry keys.
func OpenChanges(b []byte, trusted TrustedKey) (BundleChanges, error) {
	bu, err := ParseBundle(b)
	if err != nil {
		return BundleChanges{}, err
	}
	if err := bu.expect(KindChangesBundle); err != nil {
		return BundleChanges{}, err
	}
	if err := verifyRegistryBundle(bu, trusted); err != nil {
		return BundleChanges{}, err
	}
	var body changesBody
	if err := decodeStrict(bu.body, &body, "changes bundle body"); err != nil {
		return BundleChanges{}, err
	}
	c := BundleChanges{Area: body.Area, Since: body.Since, Until: body.Until, Time: body.Time}
	for i, pb := range body.Pages {
		if len(pb) > MaxPageBytes {
			return BundleChanges{}, ErrBundleMalformed.With(fmt.Errorf("page %d of %d bytes", i+1, len(pb)))
		}
		var p DeltaPage
		if err := Unmarshal(pb, &p); err != nil {
			return BundleChanges{}, ErrBundleMalformed.With(fmt.Errorf("page %d: %w", i+1, err))
		}
		c.Pages = append(c.Pages, p)
	}
	if err := checkChain(c); err != nil {
		return BundleChanges{}, ErrBundleMalformed.With(err)
	}
	return c, nil
}
