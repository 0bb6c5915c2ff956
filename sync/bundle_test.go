package sync_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// bundleParty is a kiosk or a registry with its Ed25519 key.
type bundleParty struct {
	id   string
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
}

func newParty(t *testing.T, id string) bundleParty {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return bundleParty{id: id, pub: pub, priv: priv}
}

func (p bundleParty) registryKey() kiosk.RegistryKey {
	return kiosk.RegistryKey{KeyID: p.id, PublicKey: p.pub}
}

// trusts is a kiosk's trust store holding keys.
func trusts(keys ...bundleParty) ikdsync.TrustedKey {
	return func(kid string) (kiosk.RegistryKey, error) {
		for _, k := range keys {
			if k.id == kid {
				return k.registryKey(), nil
			}
		}
		return kiosk.RegistryKey{}, kiosk.ErrNotFound.With(fmt.Errorf("key %q", kid))
	}
}

// enrolled is the registry's device table holding kiosks.
func enrolled(kiosks ...bundleParty) func(string) (ed25519.PublicKey, bool, error) {
	return func(id string) (ed25519.PublicKey, bool, error) {
		for _, k := range kiosks {
			if k.id == id {
				return k.pub, true, nil
			}
		}
		return nil, false, nil
	}
}

// secretNIK stands for the personal data inside an envelope; it must not be readable in a bundle.
const secretNIK = "3201014501900001"

func outboxRecords(n int) []kiosk.OutboxRecord {
	var recs []kiosk.OutboxRecord
	for i := range n {
		kind := kiosk.KindActivation
		if i%3 == 2 {
			kind = kiosk.KindDeactivation
		}
		recs = append(recs, kiosk.OutboxRecord{ID: fmt.Sprintf("rec-%02d", i+1), Kind: kind, Seq: int64(10 + i),
			Envelope: []byte(fmt.Sprintf("envelope %d of NIK %s warga@example.id", i+1, secretNIK)), State: kiosk.RecordPending})
	}
	return recs
}

func sealOutbox(t *testing.T, k bundleParty, recs []kiosk.OutboxRecord, reg ...bundleParty) []byte {
	t.Helper()
	var keys []kiosk.RegistryKey
	for _, r := range reg {
		keys = append(keys, r.registryKey())
	}
	b, _, err := ikdsync.SealOutbox(k.id, k.priv, recs, keys, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOutboxBundleRoundTrip(t *testing.T) {
	k, reg, old := newParty(t, "kiosk-1"), newParty(t, "reg-2"), newParty(t, "reg-1")
	recs := outboxRecords(7)
	// Encrypted to both trusted registry keys: any registry process holding either opens it.
	b := sealOutbox(t, k, recs, old, reg)
	if bytes.Contains(b, []byte(secretNIK)) || bytes.Contains(b, []byte("warga@example.id")) {
		t.Fatal("the bundle's bytes show a NIK or an e-mail")
	}
	for _, r := range []bundleParty{reg, old} {
		ob, err := ikdsync.OpenOutbox(b, enrolled(k), r.priv)
		if err != nil {
			t.Fatalf("open with %s: %v", r.id, err)
		}
		m := ob.Manifest
		if m.KioskID != k.id || m.FirstSeq != 10 || m.LastSeq != 16 || m.Counts["activation"] != 5 || m.Counts["deactivation"] != 2 ||
			!slices.Equal(m.Recipients, []string{"reg-1", "reg-2"}) {
			t.Errorf("manifest %+v", m)
		}
		for i, r := range recs {
			if ob.IDs[i] != r.ID || !bytes.Equal(ob.Records[i], r.Envelope) {
				t.Fatalf("record %d: %s %q", i, ob.IDs[i], ob.Records[i])
			}
		}
	}
	// A registry key outside its validity is no recipient.
	expired := kiosk.RegistryKey{KeyID: "reg-0", PublicKey: newParty(t, "reg-0").pub, NotAfter: time.Now().Add(-time.Hour), NotBefore: time.Now().Add(-2 * time.Hour)}
	if _, m, err := ikdsync.SealOutbox(k.id, k.priv, recs, []kiosk.RegistryKey{expired, reg.registryKey()}, time.Now()); err != nil ||
		!slices.Equal(m.Recipients, []string{"reg-2"}) {
		t.Errorf("recipients %v, %v; want only the valid key", m.Recipients, err)
	}
	if _, _, err := ikdsync.SealOutbox(k.id, k.priv, recs, []kiosk.RegistryKey{expired}, time.Now()); err == nil {
		t.Error("sealed with no valid registry key")
	}
}

// tamper flips one byte inside the body: the CBOR still parses, the signature does not hold.
func tamper(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)-100] ^= 0x40
	return c
}

func TestOutboxBundleRefusals(t *testing.T) {
	k, other, reg, stranger := newParty(t, "kiosk-1"), newParty(t, "kiosk-2"), newParty(t, "reg-1"), newParty(t, "reg-x")
	good := sealOutbox(t, k, outboxRecords(3), reg)
	// kiosk-2's key signing a bundle in kiosk-1's name.
	impostor := sealOutbox(t, bundleParty{id: k.id, priv: other.priv}, outboxRecords(3), reg)
	answers, err := ikdsync.SealAnswers(reg.id, reg.priv, ikdsync.BundleAnswers{KioskID: k.id})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		b        []byte
		registry bundleParty
		want     *kiosk.Error
	}{
		{"Tampered", tamper(good), reg, ikdsync.ErrBundleTampered},
		{"Truncated", good[:len(good)/2], reg, ikdsync.ErrBundleTruncated},
		{"TruncatedToNothing", nil, reg, ikdsync.ErrBundleTruncated},
		{"AnotherKiosksKey", impostor, reg, ikdsync.ErrBundleForeignKey},
		{"KioskNotEnrolled", sealOutbox(t, newParty(t, "kiosk-9"), outboxRecords(1), reg), reg, ikdsync.ErrBundleForeignKey},
		{"WrongRegistry", good, stranger, ikdsync.ErrBundleWrongRegistry},
		{"NotABundle", []byte("PK\x03\x04 a zip file"), reg, ikdsync.ErrBundleMalformed},
		{"AnswersNotOutbox", answers, reg, ikdsync.ErrBundleMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ob, err := ikdsync.OpenOutbox(tc.b, enrolled(k, other), tc.registry.priv)
			if !errors.Is(err, tc.want) || ob.Records != nil {
				t.Errorf("err = %v, %d records; want %s", err, len(ob.Records), tc.want.Code)
			}
		})
	}
}

func TestAnswersBundle(t *testing.T) {
	reg, stranger := newParty(t, "reg-1"), newParty(t, "reg-x")
	a := ikdsync.BundleAnswers{KioskID: "kiosk-1", BundleID: "b1", Time: 1000, IDs: []string{"r1", "r2", "r3"},
		Answers: []ikdsync.Answer{{Status: ikdsync.StatusAccepted}, {Status: ikdsync.StatusDuplicate},
			{Status: ikdsync.StatusRejected, Code: ikdsync.ErrUnknownOfficer.Code}}}
	good, err := ikdsync.SealAnswers(reg.id, reg.priv, a)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := ikdsync.SealAnswers(reg.id, stranger.priv, a) // the trusted key id, another key
	if err != nil {
		t.Fatal(err)
	}
	untrusted, err := ikdsync.SealAnswers(stranger.id, stranger.priv, a)
	if err != nil {
		t.Fatal(err)
	}

	st := newMemStore(4) // r1..r4
	got, err := ikdsync.OpenAnswers(good, "kiosk-1", trusts(reg))
	if err != nil {
		t.Fatal(err)
	}
	res, err := ikdsync.ApplyAnswers(context.Background(), st, got)
	if err != nil || res != (ikdsync.PushResult{Sent: 3, Acknowledged: 2, Rejected: 1}) {
		t.Fatalf("apply: %+v, %v", res, err)
	}
	s := st.states()
	if s["r1"].State != kiosk.RecordAcknowledged || s["r2"].State != kiosk.RecordAcknowledged ||
		s["r3"].State != kiosk.RecordRejected || s["r4"].State != kiosk.RecordPending {
		t.Errorf("states %+v", s)
	}

	for _, tc := range []struct {
		name  string
		b     []byte
		kiosk string
		want  *kiosk.Error
	}{
		{"OtherKiosk", good, "kiosk-2", ikdsync.ErrBundleOtherKiosk},
		{"Tampered", tamper(good), "kiosk-1", ikdsync.ErrBundleTampered},
		{"Truncated", good[:len(good)-10], "kiosk-1", ikdsync.ErrBundleTruncated},
		{"ForgedKeyUnderTrustedID", forged, "kiosk-1", ikdsync.ErrBundleWrongRegistry},
		{"UntrustedRegistry", untrusted, "kiosk-1", ikdsync.ErrBundleWrongRegistry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ikdsync.OpenAnswers(tc.b, tc.kiosk, trusts(reg)); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %s", err, tc.want.Code)
			}
		})
	}
	t.Run("UnknownRecordStoresNothing", func(t *testing.T) {
		st := newMemStore(2)
		b := a
		b.IDs = []string{"r1", "r2", "r9"}
		if _, err := ikdsync.ApplyAnswers(context.Background(), st, b); err == nil {
			t.Fatal("answers for an unknown record applied")
		}
		if s := st.states(); s["r1"].State != kiosk.RecordPending || s["r2"].State != kiosk.RecordPending {
			t.Errorf("states %+v after a refused bundle", s)
		}
	})
}

// changes makes a changes bundle of area with a page per cursor in cursors after since, one
// resident removal per page.
func changes(t *testing.T, reg bundleParty, area string, since int64, cursors ...int64) []byte {
	t.Helper()
	c := ikdsync.BundleChanges{Area: area, Since: since, Until: since, Time: 5000}
	for i, cur := range cursors {
		nik := fmt.Sprintf("32010145019%05d", cur)
		c.Pages = append(c.Pages, ikdsync.DeltaPage{Time: 5000, Cursor: strconv.FormatInt(cur, 10), More: i < len(cursors)-1,
			Residents: []ikdsync.ResidentChange{{NIK: nik, Removed: true}}})
		c.Until = cur
	}
	b, err := ikdsync.SealChanges(reg.id, reg.priv, c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func applyChanges(t *testing.T, st *memStore, b []byte, reg bundleParty) (ikdsync.PullResult, error) {
	t.Helper()
	c, err := ikdsync.OpenChanges(b, trusts(reg))
	if err != nil {
		return ikdsync.PullResult{}, err
	}
	return ikdsync.ApplyChanges(context.Background(), st, "Cibinong", c, quiet)
}

func TestChangesBundle(t *testing.T) {
	reg, stranger := newParty(t, "reg-1"), newParty(t, "reg-x")
	full := changes(t, reg, "Cibinong", 0, 3, 7, 9)

	st := newMemStore(0)
	res, err := applyChanges(t, st, full, reg)
	if err != nil || res.Pages != 3 || st.cursor != "9" {
		t.Fatalf("apply: %+v, cursor %q, %v", res, st.cursor, err)
	}
	// The stick was made at registry time 5000 (ms), maybe days ago: the kiosk's clock stays.
	if len(st.anchors) != 0 {
		t.Errorf("a stick anchored the kiosk's clock to %v", st.anchors)
	}

	for _, tc := range []struct {
		name   string
		cursor string
		b      []byte
		want   *kiosk.Error
	}{
		{"Replayed", "9", full, ikdsync.ErrBundleReplayed},
		{"OldAfterNewerPull", "12", full, ikdsync.ErrBundleOld},
		{"Gap", "2", changes(t, reg, "Cibinong", 5, 7), ikdsync.ErrBundleGap},
		{"WrongArea", "", changes(t, reg, "Bojonggede", 0, 3), ikdsync.ErrBundleWrongArea},
		{"Tampered", "", tamper(full), ikdsync.ErrBundleTampered},
		{"Truncated", "", full[:len(full)-1], ikdsync.ErrBundleTruncated},
		{"UntrustedRegistry", "", changes(t, stranger, "Cibinong", 0, 3), ikdsync.ErrBundleWrongRegistry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore(0)
			st.cursor = tc.cursor
			if _, err := applyChanges(t, st, tc.b, reg); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %s", err, tc.want.Code)
			}
			if len(st.deltas) != 0 || st.cursor != tc.cursor {
				t.Errorf("%d pages applied, cursor %q: a refused bundle stored something", len(st.deltas), st.cursor)
			}
		})
	}

	t.Run("ResumesAfterACut", func(t *testing.T) {
		st := newMemStore(0)
		calls := 0
		st.applyFn = func(kiosk.Delta) error {
			if calls++; calls == 2 {
				return errors.New("power cut")
			}
			return nil
		}
		if _, err := applyChanges(t, st, full, reg); err == nil || st.cursor != "3" {
			t.Fatalf("cut apply: %v, cursor %q; want the first page kept", err, st.cursor)
		}
		res, err := applyChanges(t, st, full, reg)
		if err != nil || res.Pages != 2 || st.cursor != "9" {
			t.Errorf("resumed apply: %+v, cursor %q, %v; want the two pages left", res, st.cursor, err)
		}
	})
	t.Run("FromAnHTTPCursorInsideAPage", func(t *testing.T) {
		st := newMemStore(0)
		st.cursor = "5" // pulled over the network up to 5
		res, err := applyChanges(t, st, full, reg)
		if err != nil || res.Pages != 2 || st.cursor != "9" {
			t.Errorf("apply: %+v, cursor %q, %v", res, st.cursor, err)
		}
	})
}

// FuzzParseBundle: no input makes the bundle readers panic, and what they accept is whole.
func FuzzParseBundle(f *testing.F) {
	reg := bundleParty{id: "reg-1"}
	reg.pub, reg.priv, _ = ed25519.GenerateKey(rand.Reader)
	k := bundleParty{id: "kiosk-1"}
	k.pub, k.priv, _ = ed25519.GenerateKey(rand.Reader)
	out, _, err := ikdsync.SealOutbox(k.id, k.priv, outboxRecords(2), []kiosk.RegistryKey{reg.registryKey()}, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	ans, _ := ikdsync.SealAnswers(reg.id, reg.priv, ikdsync.BundleAnswers{KioskID: k.id, IDs: []string{"r1"},
		Answers: []ikdsync.Answer{{Status: ikdsync.StatusAccepted}}})
	ch, _ := ikdsync.SealChanges(reg.id, reg.priv, ikdsync.BundleChanges{Area: "A", Until: 1,
		Pages: []ikdsync.DeltaPage{{Cursor: "1"}}})
	for _, s := range [][]byte{out, ans, ch, nil, {0xa0}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		bu, err := ikdsync.ParseBundle(b)
		if err == nil && (bu.Signer == "" || len(bu.SignerKey) != ed25519.PublicKeySize) {
			t.Fatalf("accepted a bundle without signer: %+v", bu)
		}
		if ob, err := ikdsync.OpenOutbox(b, enrolled(k), reg.priv); err == nil && len(ob.IDs) != len(ob.Records) {
			t.Fatalf("opened an outbox of %d ids for %d records", len(ob.IDs), len(ob.Records))
		}
		_, _ = ikdsync.OpenAnswers(b, k.id, trusts(reg))
		if c, err := ikdsync.OpenChanges(b, trusts(reg)); err == nil && len(c.Pages) == 0 {
			t.Fatal("opened changes without pages")
		}
	})
}

// outboxSource is a kiosk store as ExportOutbox reads it: Checkpoint queues a checkpoint
// record, bad is reported beside the records as ToSend reports records failing their check.
type outboxSource struct {
	k           bundleParty
	keys        []kiosk.RegistryKey
	recs        []kiosk.OutboxRecord
	bad         error
	checkpoints int
}

func (s *outboxSource) ToSend(context.Context, int) ([]kiosk.OutboxRecord, error) {
	return slices.Clone(s.recs), s.bad
}

func (s *outboxSource) Checkpoint(context.Context) (kiosk.AuditCheckpoint, error) {
	s.checkpoints++
	s.recs = append(s.recs, kiosk.OutboxRecord{ID: fmt.Sprintf("cp-%d", s.checkpoints), Kind: kiosk.KindAuditCheckpoint,
		Seq: int64(100 + s.checkpoints), Envelope: []byte("checkpoint"), State: kiosk.RecordPending})
	return kiosk.AuditCheckpoint{}, nil
}

func (s *outboxSource) RegistryKeys(context.Context) ([]kiosk.RegistryKey, error) { return s.keys, nil }
func (s *outboxSource) KioskID() string                                           { return s.k.id }
func (s *outboxSource) DeviceKey() ed25519.PrivateKey                             { return s.k.priv }
func (s *outboxSource) Now() time.Time                                            { return time.Now() }

// ExportOutbox adds an audit checkpoint to a stick that lacks one (once), carries the good
// records past bad ones, writes nothing when nothing waits and refuses without a registry key.
func TestExportOutbox(t *testing.T) {
	k, reg := newParty(t, "kiosk-1"), newParty(t, "reg-1")
	keys := []kiosk.RegistryKey{reg.registryKey()}
	bad := errors.New("outbox record rec-09: MAC does not match")
	for _, tc := range []struct {
		name            string
		src             outboxSource
		wantIDs         []string
		wantCheckpoints int
		wantErr         bool
	}{
		{name: "nothing waits", src: outboxSource{keys: keys}},
		{name: "records get a checkpoint", src: outboxSource{keys: keys, recs: outboxRecords(2)},
			wantIDs: []string{"rec-01", "rec-02", "cp-1"}, wantCheckpoints: 1},
		{name: "a checkpoint already queued", src: outboxSource{keys: keys, recs: append(outboxRecords(1),
			kiosk.OutboxRecord{ID: "cp-0", Kind: kiosk.KindAuditCheckpoint, Seq: 50, Envelope: []byte("c")})},
			wantIDs: []string{"rec-01", "cp-0"}},
		{name: "bad records stay behind", src: outboxSource{keys: keys, recs: outboxRecords(1), bad: bad},
			wantIDs: []string{"rec-01", "cp-1"}, wantCheckpoints: 1},
		{name: "only bad records", src: outboxSource{keys: keys, bad: bad}, wantErr: true},
		{name: "no registry key", src: outboxSource{recs: outboxRecords(1)}, wantCheckpoints: 1, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.src
			src.k = k
			x, err := ikdsync.ExportOutbox(context.Background(), &src)
			if (err != nil) != tc.wantErr || src.checkpoints != tc.wantCheckpoints {
				t.Fatalf("err %v, %d checkpoints queued; want error %v, %d", err, src.checkpoints, tc.wantErr, tc.wantCheckpoints)
			}
			if tc.wantErr {
				return
			}
			if !errors.Is(x.LeftOut, src.bad) || x.Records != len(tc.wantIDs) || (x.Bundle == nil) != (len(tc.wantIDs) == 0) {
				t.Fatalf("export %d records, bundle %d bytes, left out %v", x.Records, len(x.Bundle), x.LeftOut)
			}
			if x.Bundle == nil {
				return
			}
			ob, err := ikdsync.OpenOutbox(x.Bundle, enrolled(k), reg.priv)
			if err != nil || !slices.Equal(ob.IDs, tc.wantIDs) || ob.Manifest.BundleID != x.Manifest.BundleID {
				t.Fatalf("bundle holds %v (%v), want %v", ob.IDs, err, tc.wantIDs)
			}
		})
	}
}
