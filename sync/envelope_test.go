package sync

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/internal/shareddata"

	"github.com/veraison/go-cose"

	"github.com/ikd-field/ikd/kiosk"
)

var update = flag.Bool("update", false, "rewrite the golden vectors in testdata/token")

const kioskID = "kiosk-3201-0007"

func deviceKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("ikd test device key " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

var devKey = deviceKey(kioskID)

func devPub() ed25519.PublicKey { return devKey.Public().(ed25519.PublicKey) }

func mustSealer(t testing.TB, id string, key ed25519.PrivateKey) *Sealer {
	t.Helper()
	s, err := NewSealer(id, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// typicalActivation is an activation as the workflow makes it: UUIDv7 ids, a NIP officer id.
func typicalActivation() kiosk.Activation {
	return kiosk.Activation{
		ID:             "019ab0c4-5e21-7d3a-8f10-2b3c4d5e6f70",
		RegistrationID: "0190f3b2-7c1e-7a4b-9c3d-5e6f708192a3",
		NIK:            "3201014501900001",
		OfficerID:      "198705122010011003",
		KioskID:        kioskID,
		TokenKeyID:     "reg-2026-11",
		FaceBand:       kiosk.BandMatch,
		FaceScore:      0.412,
		ApprovedAt:     time.Date(2026, 11, 23, 6, 4, 31, 250e6, time.UTC),
	}
}

func typicalDeactivation() kiosk.Deactivation {
	return kiosk.Deactivation{
		ID:          "019ab0c6-0a11-7b22-9c33-4d5e6f708192",
		NIK:         "3201014501900001",
		OfficerID:   "198705122010011003",
		KioskID:     kioskID,
		Reason:      "HP hilang",
		FaceBand:    kiosk.BandUncertain,
		FaceScore:   0.55,
		EyeChecked:  true,
		ConfirmedAt: time.Date(2026, 11, 23, 7, 15, 0, 0, time.UTC),
	}
}

func typicalReissue() kiosk.CodeReissue {
	return kiosk.CodeReissue{
		ID:             "019ab0d1-2f40-7c55-8d66-7e8f90a1b2c3",
		RegistrationID: "0190f3b2-7c1e-7a4b-9c3d-5e6f708192a3",
		NIK:            "3201014501900001",
		OfficerID:      "198705122010011003",
		KioskID:        kioskID,
		RequestedAt:    time.Date(2026, 11, 24, 2, 30, 0, 500e6, time.UTC),
	}
}

func TestSealOpenActivation(t *testing.T) {
	a := typicalActivation()
	env, err := mustSealer(t, kioskID, devKey).Seal(kiosk.KindActivation, a.ID, a)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Open(env, devPub())
	if err != nil {
		t.Fatal(err)
	}
	if rec.Kind != kiosk.KindActivation || rec.ID != a.ID || rec.KioskID != kioskID || rec.Deactivation != nil {
		t.Fatalf("record header %+v", rec)
	}
	if *rec.Activation != a {
		t.Fatalf("activation\n got %+v\nwant %+v", *rec.Activation, a)
	}
}

func TestSealOpenDeactivationByPointer(t *testing.T) {
	d := typicalDeactivation()
	env, err := mustSealer(t, kioskID, devKey).Seal(kiosk.KindDeactivation, d.ID, &d)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Open(env, devPub())
	if err != nil {
		t.Fatal(err)
	}
	if rec.Kind != kiosk.KindDeactivation || rec.Activation != nil || *rec.Deactivation != d {
		t.Fatalf("record %+v, deactivation %+v; want %+v", rec, rec.Deactivation, d)
	}
}

func TestSealOpenAuditCheckpoint(t *testing.T) {
	c := kiosk.AuditCheckpoint{ID: "018f0000-0000-7000-8000-0000000000cc", KioskID: kioskID, AuditSeq: 42,
		AuditHash: bytes.Repeat([]byte{7}, 32), OutboxSeq: 17, At: time.UnixMilli(1767225600123).UTC()}
	env, err := mustSealer(t, kioskID, devKey).Seal(kiosk.KindAuditCheckpoint, c.ID, c)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Open(env, devPub())
	if err != nil {
		t.Fatal(err)
	}
	got := rec.Checkpoint
	if rec.Kind != kiosk.KindAuditCheckpoint || got == nil || got.AuditSeq != 42 || got.OutboxSeq != 17 ||
		!bytes.Equal(got.AuditHash, c.AuditHash) || !got.At.Equal(c.At) || got.KioskID != kioskID {
		t.Fatalf("record %+v, checkpoint %+v; want %+v", rec, got, c)
	}
	c.AuditHash = c.AuditHash[:31]
	if _, err := mustSealer(t, kioskID, devKey).Seal(kiosk.KindAuditCheckpoint, c.ID, c); err == nil {
		t.Error("a checkpoint with a 31-byte hash was sealed")
	}
}

func TestSealOpenCodeReissue(t *testing.T) {
	r := typicalReissue()
	for _, payload := range []any{r, &r} {
		env, err := mustSealer(t, kioskID, devKey).Seal(kiosk.KindCodeReissue, r.ID, payload)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := Open(env, devPub())
		if err != nil {
			t.Fatal(err)
		}
		if rec.Kind != kiosk.KindCodeReissue || rec.Activation != nil || rec.Deactivation != nil || rec.Reissue == nil || *rec.Reissue != r {
			t.Fatalf("record %+v, re-issue %+v; want %+v", rec, rec.Reissue, r)
		}
	}
}

func TestTimesTravelAtMillisecondsInUTC(t *testing.T) {
	a := typicalActivation()
	wib := time.FixedZone("WIB", 7*3600)
	a.ApprovedAt = time.Date(2026, 11, 23, 13, 4, 31, 123456789, wib)
	env, err := mustSealer(t, kioskID, devKey).Seal(kiosk.KindActivation, a.ID, a)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Open(env, devPub())
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 23, 6, 4, 31, 123e6, time.UTC)
	if got := rec.Activation.ApprovedAt; got != want {
		t.Fatalf("ApprovedAt = %v, want %v", got, want)
	}
}

func TestSealRejects(t *testing.T) {
	a, d, r := typicalActivation(), typicalDeactivation(), typicalReissue()
	var nilActivation *kiosk.Activation
	var nilReissue *kiosk.CodeReissue
	tests := []struct {
		name    string
		kind    kiosk.RecordKind
		id      string
		payload any
	}{
		{"KindDoesNotMatchPayload", kiosk.KindDeactivation, a.ID, a},
		{"AuditCheckpointNotYetDefined", kiosk.KindAuditCheckpoint, a.ID, a},
		{"IDDoesNotMatchPayload", kiosk.KindActivation, "another-id", a},
		{"EmptyID", kiosk.KindActivation, "", a},
		{"OtherKiosksActivation", kiosk.KindActivation, a.ID, func() kiosk.Activation { x := a; x.KioskID = "kiosk-9"; return x }()},
		{"InvalidNIK", kiosk.KindActivation, a.ID, func() kiosk.Activation { x := a; x.NIK = "123"; return x }()},
		{"NoRegistrationID", kiosk.KindActivation, a.ID, func() kiosk.Activation { x := a; x.RegistrationID = ""; return x }()},
		{"NoOfficer", kiosk.KindDeactivation, d.ID, func() kiosk.Deactivation { x := d; x.OfficerID = ""; return x }()},
		{"ReasonNotUTF8", kiosk.KindDeactivation, d.ID, func() kiosk.Deactivation { x := d; x.Reason = "HP \xffhilang"; return x }()},
		{"ReasonTooLarge", kiosk.KindDeactivation, d.ID, func() kiosk.Deactivation { x := d; x.Reason = strings.Repeat("x", maxEnvelope); return x }()},
		{"NilPointer", kiosk.KindActivation, a.ID, nilActivation},
		{"ReissueAsActivation", kiosk.KindActivation, r.ID, r},
		{"ReissueNoRegistrationID", kiosk.KindCodeReissue, r.ID, func() kiosk.CodeReissue { x := r; x.RegistrationID = ""; return x }()},
		{"ReissueNoOfficer", kiosk.KindCodeReissue, r.ID, func() kiosk.CodeReissue { x := r; x.OfficerID = ""; return x }()},
		{"ReissueInvalidNIK", kiosk.KindCodeReissue, r.ID, func() kiosk.CodeReissue { x := r; x.NIK = "3201014501900000"; return x }()},
		{"ReissueOtherKiosk", kiosk.KindCodeReissue, r.ID, func() kiosk.CodeReissue { x := r; x.KioskID = "kiosk-9"; return x }()},
		{"ReissueNilPointer", kiosk.KindCodeReissue, r.ID, nilReissue},
		{"OtherType", kiosk.KindActivation, a.ID, "activation"},
		{"NilPayload", kiosk.KindActivation, a.ID, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if env, err := mustSealer(t, kioskID, devKey).Seal(tt.kind, tt.id, tt.payload); err == nil {
				t.Fatalf("Seal succeeded: %x", env)
			}
		})
	}
}

func TestNewSealerRejects(t *testing.T) {
	if _, err := NewSealer("", devKey); err == nil {
		t.Error("empty kiosk id accepted")
	}
	if _, err := NewSealer(kioskID, devKey[:31]); err == nil {
		t.Error("short key accepted")
	}
}

// signRaw signs an arbitrary payload as a kiosk would, to build envelopes Seal refuses to make.
func signRaw(t *testing.T, key ed25519.PrivateKey, kid string, payload any, aad []byte) []byte {
	t.Helper()
	p, err := encMode.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cose.NewSigner(cose.AlgorithmEdDSA, key)
	if err != nil {
		t.Fatal(err)
	}
	h := cose.Headers{Protected: cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmEdDSA}}
	if kid != "" {
		h.Protected[cose.HeaderLabelKeyID] = []byte(kid)
	}
	env, err := cose.Sign1(nil, s, h, p, aad)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestOpenErrors(t *testing.T) {
	a := typicalActivation()
	good, err := mustSealer(t, kioskID, devKey).Seal(kiosk.KindActivation, a.ID, a)
	if err != nil {
		t.Fatal(err)
	}
	body, err := encMode.Marshal(activationWire{RegistrationID: a.RegistrationID, NIK: string(a.NIK), OfficerID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	rec := func(kind uint64, id, kiosk string, b []byte) recordWire {
		return recordWire{Kind: kind, ID: id, KioskID: kiosk, Body: b}
	}
	badNIK, _ := encMode.Marshal(activationWire{RegistrationID: "r", NIK: "3201014501900000", OfficerID: "x"})
	reissueNoReg, _ := encMode.Marshal(reissueWire{NIK: string(a.NIK), OfficerID: "x"})
	tampered := bytes.Clone(good)
	tampered[len(tampered)-70] ^= 0x01 // a byte of the payload, just before the signature

	tests := []struct {
		name string
		env  []byte
		want *kiosk.Error
	}{
		{"Empty", nil, ErrRecordMalformed},
		{"NotCBOR", []byte("{\"id\":1}"), ErrRecordMalformed},
		{"Truncated", good[:len(good)-1], ErrRecordMalformed},
		{"TruncatedToHalf", good[:len(good)/2], ErrRecordMalformed},
		{"Oversized", append(bytes.Clone(good), make([]byte, maxEnvelope)...), ErrRecordMalformed},
		{"NoKioskID", signRaw(t, devKey, "", rec(1, a.ID, kioskID, body), externalAAD), ErrRecordMalformed},
		{"TamperedPayload", tampered, ErrRecordBadSignature},
		{"OtherKiosksKey", signRaw(t, deviceKey("kiosk-9"), kioskID, rec(1, a.ID, kioskID, body), externalAAD), ErrRecordBadSignature},
		{"SignedForAnotherUse", signRaw(t, devKey, kioskID, rec(1, a.ID, kioskID, body), nil), ErrRecordBadSignature},
		{"NamesAnotherKiosk", signRaw(t, devKey, kioskID, rec(1, a.ID, "kiosk-9", body), externalAAD), ErrRecordKioskMismatch},
		{"UnknownKind", signRaw(t, devKey, kioskID, rec(9, a.ID, kioskID, body), externalAAD), ErrRecordUnknownKind},
		{"NoRecordID", signRaw(t, devKey, kioskID, rec(1, "", kioskID, body), externalAAD), ErrRecordMalformed},
		{"BodyNotAMap", signRaw(t, devKey, kioskID, rec(1, a.ID, kioskID, []byte{0x83, 1, 2, 3}), externalAAD), ErrRecordMalformed},
		{"BodyInvalidNIK", signRaw(t, devKey, kioskID, rec(1, a.ID, kioskID, badNIK), externalAAD), ErrRecordMalformed},
		{"ReissueWithoutRegistration", signRaw(t, devKey, kioskID, rec(4, a.ID, kioskID, reissueNoReg), externalAAD), ErrRecordMalformed},
		{"PayloadNotAMap", signRaw(t, devKey, kioskID, "activation", externalAAD), ErrRecordMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := Open(tt.env, devPub())
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %+v, %v; want %s", rec, err, tt.want.Code)
			}
		})
	}
}

func TestOpenWithBadDeviceKey(t *testing.T) {
	a := typicalActivation()
	env, _ := mustSealer(t, kioskID, devKey).Seal(kiosk.KindActivation, a.ID, a)
	_, err := Open(env, devPub()[:16])
	var ke *kiosk.Error
	if err == nil || errors.As(err, &ke) {
		t.Fatalf("Open with a 16-byte key: %v; want an operator error", err)
	}
}

func TestEnvelopeKioskID(t *testing.T) {
	a := typicalActivation()
	env, _ := mustSealer(t, kioskID, devKey).Seal(kiosk.KindActivation, a.ID, a)
	if got, err := EnvelopeKioskID(env); err != nil || got != kioskID {
		t.Fatalf("EnvelopeKioskID = %q, %v", got, err)
	}
	if _, err := EnvelopeKioskID([]byte{0xd2}); !errors.Is(err, ErrRecordMalformed) {
		t.Fatalf("EnvelopeKioskID of junk: %v", err)
	}
}

func TestSealIsDeterministic(t *testing.T) {
	a := typicalActivation()
	s := mustSealer(t, kioskID, devKey)
	e1, _ := s.Seal(kiosk.KindActivation, a.ID, a)
	e2, _ := s.Seal(kiosk.KindActivation, a.ID, &a)
	if !bytes.Equal(e1, e2) {
		t.Fatal("the same activation sealed to different bytes")
	}
}

func TestScoreEdgeValuesSurvive(t *testing.T) {
	for _, score := range []float64{0, 1, 0.5, 1e-9, math.Inf(1)} {
		a := typicalActivation()
		a.FaceScore = score
		env, err := mustSealer(t, kioskID, devKey).Seal(kiosk.KindActivation, a.ID, a)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := Open(env, devPub())
		if err != nil || rec.Activation.FaceScore != score {
			t.Fatalf("score %v came back as %+v, %v", score, rec.Activation, err)
		}
	}
}

// goldenPath returns <module root>/testdata/token/name.
func goldenPath(t testing.TB, name string) string {
	t.Helper()
	root, err := shareddata.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "testdata", "token", name)
}

// The golden envelope: device key deviceKey(kioskID), typicalActivation(), as hex.
// Regenerate with: go test ./sync -run Golden -update
const goldenEnvelope = "envelope-activation.hex"

func TestGoldenEnvelope(t *testing.T) {
	a := typicalActivation()
	env, err := mustSealer(t, kioskID, devKey).Seal(kiosk.KindActivation, a.ID, a)
	if err != nil {
		t.Fatal(err)
	}
	path := goldenPath(t, goldenEnvelope)
	if *update {
		if err := os.WriteFile(path, []byte(hex.EncodeToString(env)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	want, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(env, want) {
		t.Fatalf("envelope bytes changed; the record wire format is frozen.\ngot  %x\nwant %x", env, want)
	}
	rec, err := Open(want, devPub())
	if err != nil || *rec.Activation != a {
		t.Fatalf("golden envelope opens to %+v, %v", rec.Activation, err)
	}
	t.Logf("typical activation envelope: %d bytes", len(want))
}

// The golden re-issue envelope: device key deviceKey(kioskID), typicalReissue(), as hex.
const goldenReissue = "envelope-code-reissue.hex"

func TestGoldenReissueEnvelope(t *testing.T) {
	r := typicalReissue()
	env, err := mustSealer(t, kioskID, devKey).Seal(kiosk.KindCodeReissue, r.ID, r)
	if err != nil {
		t.Fatal(err)
	}
	path := goldenPath(t, goldenReissue)
	if *update {
		if err := os.WriteFile(path, []byte(hex.EncodeToString(env)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readGoldenHex(t, goldenReissue)
	if !bytes.Equal(env, want) {
		t.Fatalf("envelope bytes changed; the record wire format is frozen.\ngot  %x\nwant %x", env, want)
	}
	rec, err := Open(want, devPub())
	if err != nil || rec.Reissue == nil || *rec.Reissue != r {
		t.Fatalf("golden envelope opens to %+v, %v", rec.Reissue, err)
	}
}

// readGoldenHex reads a golden envelope of testdata/token.
func readGoldenHex(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(goldenPath(t, name))
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	env, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func BenchmarkSeal(b *testing.B) {
	a := typicalActivation()
	s := mustSealer(b, kioskID, devKey)
	for b.Loop() {
		if _, err := s.Seal(kiosk.KindActivation, a.ID, a); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	a := typicalActivation()
	env, err := mustSealer(b, kioskID, devKey).Seal(kiosk.KindActivation, a.ID, a)
	if err != nil {
		b.Fatal(err)
	}
	pub := devPub()
	for b.Loop() {
		if _, err := Open(env, pub); err != nil {
			b.Fatal(err)
		}
	}
}

// TestVerifySignature: the signature check alone refuses what Open refuses for the envelope
// and its signature, and passes a validly signed record whose body Open would refuse.
func TestVerifySignature(t *testing.T) {
	a := typicalActivation()
	good, err := mustSealer(t, kioskID, devKey).Seal(kiosk.KindActivation, a.ID, a)
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(good)
	tampered[len(tampered)-70] ^= 0x01
	body, _ := encMode.Marshal(activationWire{RegistrationID: a.RegistrationID, NIK: string(a.NIK), OfficerID: "x"})
	unknownKind := signRaw(t, devKey, kioskID, recordWire{Kind: 9, ID: a.ID, KioskID: kioskID, Body: body}, externalAAD)
	tests := []struct {
		name string
		env  []byte
		pub  ed25519.PublicKey
		want *kiosk.Error // nil: verified
	}{
		{"Good", good, devPub(), nil},
		{"SignedButUnknownKind", unknownKind, devPub(), nil},
		{"Tampered", tampered, devPub(), ErrRecordBadSignature},
		{"OtherKiosksKey", good, deviceKey("kiosk-9").Public().(ed25519.PublicKey), ErrRecordBadSignature},
		{"Truncated", good[:len(good)/2], devPub(), ErrRecordMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature(tt.env, tt.pub)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("VerifySignature = %v; want %v", err, tt.want)
			}
		})
	}
}
