package registry_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"slices"
	gosync "sync"
	"testing"
	"time"

	"github.com/ikd-field/ikd/internal/pgtest"
	"github.com/ikd-field/ikd/kiosk"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/sqlstore"
)

// stickRecord is a record as the kiosk's outbox holds it.
func stickRecord(id string, kind kiosk.RecordKind, seq int, env []byte) kiosk.OutboxRecord {
	return kiosk.OutboxRecord{ID: id, Kind: kind, Seq: int64(seq), Envelope: env, State: kiosk.RecordPending}
}

// stick seals recs as k's outbox bundle, encrypted to the registry's key.
func (k *kioskSim) stick(recs ...kiosk.OutboxRecord) []byte {
	k.e.t.Helper()
	reg := kiosk.RegistryKey{KeyID: k.e.key.KeyID, PublicKey: k.e.key.Key.Public().(ed25519.PublicKey)}
	b, _, err := ikdsync.SealOutbox(k.id, k.key, recs, []kiosk.RegistryKey{reg}, k.e.now())
	if err != nil {
		k.e.t.Fatal(err)
	}
	return b
}

// importStick imports b and opens the answers as k would.
func (k *kioskSim) importStick(b []byte) (ikdsync.BundleAnswers, registry.BundleReport) {
	k.e.t.Helper()
	out, rep, err := k.e.srv.ImportBundle(context.Background(), b, k.e.key)
	if err != nil {
		k.e.t.Fatal(err)
	}
	trusted := func(kid string) (kiosk.RegistryKey, error) {
		if kid != k.e.key.KeyID {
			return kiosk.RegistryKey{}, kiosk.ErrNotFound
		}
		return kiosk.RegistryKey{KeyID: kid, PublicKey: k.e.key.Key.Public().(ed25519.PublicKey)}, nil
	}
	a, err := ikdsync.OpenAnswers(out, k.id, trusted)
	if err != nil {
		k.e.t.Fatal(err)
	}
	return a, rep
}

func statuses(answers []ikdsync.Answer) []int {
	var out []int
	for _, a := range answers {
		out = append(out, a.Status)
	}
	return out
}

// TestBundleImport: a stick goes through the rules of a push; imported twice, or after the
// network brought the same records, it is answered duplicate and mails nothing.
func TestBundleImport(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) registry.Store) {
		e := newEnv(t, open(t))
		k := e.enroll(testArea)
		var recs []kiosk.OutboxRecord
		for i := range 4 {
			nik := fmt.Sprintf("32010145019000%02d", i+1)
			id, env := k.activation(e.register(nik, fmt.Sprintf("warga%d@example.id", i)), nik, e.now())
			recs = append(recs, stickRecord(id, kiosk.KindActivation, i+1, env))
		}
		// An activation by an officer the registry does not know: refused by authorization,
		// exactly as over the network.
		nik := "3201014501900099"
		e.provision(nik, testArea)
		id, env := k.activationBy("nobody", e.register(nik, "x@example.id"), nik, e.now())
		recs = append(recs, stickRecord(id, kiosk.KindActivation, 5, env))

		// Records 1 and 2 go over the network first.
		if got := statuses(k.push(recs[0].Envelope, recs[1].Envelope)); !slices.Equal(got, []int{1, 1}) {
			t.Fatalf("network push: %v", got)
		}
		if n := len(e.sentMails()); n != 2 {
			t.Fatalf("%d mails after the push, want 2", n)
		}

		stick := k.stick(recs...)
		a, rep := k.importStick(stick)
		want := []int{ikdsync.StatusDuplicate, ikdsync.StatusDuplicate, ikdsync.StatusAccepted, ikdsync.StatusAccepted, ikdsync.StatusRejected}
		if got := statuses(a.Answers); !slices.Equal(got, want) || a.Answers[4].Code != ikdsync.ErrUnknownOfficer.Code {
			t.Fatalf("answers %+v, want statuses %v", a.Answers, want)
		}
		if !slices.Equal(a.IDs, []string{recs[0].ID, recs[1].ID, recs[2].ID, recs[3].ID, recs[4].ID}) || a.KioskID != k.id {
			t.Errorf("answers for %s %v", a.KioskID, a.IDs)
		}
		if rep.Accepted != 2 || rep.Duplicate != 2 || rep.Rejected[ikdsync.ErrUnknownOfficer.Code] != 1 || rep.Mails != 2 {
			t.Errorf("report %+v", rep)
		}
		if n := len(e.sentMails()); n != 2 {
			t.Errorf("%d mails after the stick, want 2 (records 3 and 4)", n)
		}

		// The same stick again, and then its records over the network: duplicates, no mail.
		a, rep = k.importStick(stick)
		want = []int{ikdsync.StatusDuplicate, ikdsync.StatusDuplicate, ikdsync.StatusDuplicate, ikdsync.StatusDuplicate, ikdsync.StatusRejected}
		if got := statuses(a.Answers); !slices.Equal(got, want) || rep.Mails != 0 {
			t.Errorf("second import: %v, %d mails; want %v and none", got, rep.Mails, want)
		}
		if got := statuses(k.push(recs[2].Envelope, recs[3].Envelope)); !slices.Equal(got, []int{2, 2}) {
			t.Errorf("network push after the stick: %v, want duplicates", got)
		}
		if n := len(e.sentMails()); n != 0 {
			t.Errorf("%d mails after the repeats, want none", n)
		}
		if s := e.stats(); s.ActivationsAccepted != 4 {
			t.Errorf("stats %+v, want 4 accepted activations", s)
		}
	})
}

// TestBundleImportRefusals: each bad stick is refused with its named error and nothing is
// stored or mailed.
func TestBundleImportRefusals(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	k, other := e.enroll(testArea), e.enroll(testArea)
	nik := "3201014501900001"
	id, env := k.activation(e.register(nik, "warga@example.id"), nik, e.now())
	good := k.stick(stickRecord(id, kiosk.KindActivation, 1, env))

	// kiosk-2's key signing in kiosk-1's name, with kiosk-1's record inside.
	impostor := &kioskSim{e: e, id: k.id, key: other.key}
	foreign := impostor.stick(stickRecord(id, kiosk.KindActivation, 1, env))
	// Encrypted to another registry.
	_, strangerKey, _ := ed25519.GenerateKey(rand.Reader)
	elsewhere, _, err := ikdsync.SealOutbox(k.id, k.key, []kiosk.OutboxRecord{stickRecord(id, kiosk.KindActivation, 1, env)},
		[]kiosk.RegistryKey{{KeyID: "reg-elsewhere", PublicKey: strangerKey.Public().(ed25519.PublicKey)}}, e.now())
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(good)
	tampered[len(tampered)-100] ^= 1

	for _, tc := range []struct {
		name string
		b    []byte
		want *kiosk.Error
	}{
		{"Tampered", tampered, ikdsync.ErrBundleTampered},
		{"Truncated", good[:len(good)-70], ikdsync.ErrBundleTruncated},
		{"AnotherKiosksKey", foreign, ikdsync.ErrBundleForeignKey},
		{"WrongRegistry", elsewhere, ikdsync.ErrBundleWrongRegistry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := e.srv.ImportBundle(context.Background(), tc.b, e.key)
			if !errors.Is(err, tc.want) || out != nil {
				t.Fatalf("err = %v, answers %d bytes; want %s", err, len(out), tc.want.Code)
			}
			err = e.st.InTx(context.Background(), func(ctx context.Context, tx registry.Tx) error {
				_, err := tx.Record(ctx, id)
				return err
			})
			if !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("record after a refused stick: %v, want not stored", err)
			}
			if n := len(e.sentMails()); n != 0 {
				t.Errorf("%d mails after a refused stick", n)
			}
		})
	}
	// The good stick still goes through afterwards.
	if a, _ := k.importStick(good); a.Answers[0].Status != ikdsync.StatusAccepted {
		t.Errorf("good stick after the refusals: %+v", a.Answers)
	}
}

// TestChangesBundleIsThePull: a changes bundle carries exactly the pages a kiosk of the area
// pulling from the same cursor gets over HTTP.
func TestChangesBundleIsThePull(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	k := e.enroll(testArea)
	for i := range 5 {
		e.provision(fmt.Sprintf("32010145019000%02d", i+1), testArea)
	}
	e.provision("3201014501900077", "Bojonggede") // another area: not in the bundle
	pull := func(cursor string) ikdsync.DeltaPage {
		t.Helper()
		status, body := k.do(http.MethodGet, "/v1/changes?cursor="+cursor, nil)
		var p ikdsync.DeltaPage
		if status != http.StatusOK || ikdsync.Unmarshal(body, &p) != nil {
			t.Fatalf("pull after %s: %d %s", cursor, status, body)
		}
		p.Time = 0
		return p
	}
	for _, since := range []int64{0, 3} {
		_, c, err := e.srv.ChangesBundle(context.Background(), testArea, since, e.key)
		if err != nil {
			t.Fatal(err)
		}
		cursor := fmt.Sprint(since)
		for i, p := range c.Pages {
			p.Time = 0
			want := pull(cursor)
			b1, _ := ikdsync.Marshal(p)
			b2, _ := ikdsync.Marshal(want)
			if !bytes.Equal(b1, b2) {
				t.Errorf("since %d page %d: %+v, the pull gives %+v", since, i+1, p, want)
			}
			cursor = p.Cursor
		}
		if c.Area != testArea || c.Since != since || fmt.Sprint(c.Until) != cursor {
			t.Errorf("bundle %s %d..%d, last cursor %s", c.Area, c.Since, c.Until, cursor)
		}
	}
	if _, _, err := e.srv.ChangesBundle(context.Background(), " , ", 0, e.key); err == nil {
		t.Error("changes bundle of no area")
	}
}

// TestStickAndNetworkRace: a stick imported at one registry process while the kiosk pushes
// the same records over the network to another, on one PostgreSQL database: every record is
// accepted exactly once, the other side answered duplicate, and one mail goes per activation.
func TestStickAndNetworkRace(t *testing.T) {
	url := pgtest.FreshDatabase(t)
	keys := testKeys(t)
	open := func() registry.Store {
		st, err := sqlstore.OpenPostgres(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return registry.Seal(st, keys)
	}
	e1, e2 := newEnv(t, open()), newEnv(t, open())
	e2.key = e1.key // both processes run with the same --key
	k := e1.enroll(testArea)
	const n = 60
	var recs []kiosk.OutboxRecord
	for i := range n {
		nik := fmt.Sprintf("320101010190%04d", i+1)
		id, env := k.activation(e1.register(nik, fmt.Sprintf("warga%d@example.id", i)), nik, t0.Add(time.Duration(i)*time.Second))
		recs = append(recs, stickRecord(id, kiosk.KindActivation, i+1, env))
	}
	stick := k.stick(recs...)
	net := &kioskSim{e: e2, id: k.id, key: k.key, sealer: k.sealer} // the kiosk, on the second process

	var (
		wg          gosync.WaitGroup
		stickAns    []ikdsync.Answer
		netAns      []ikdsync.Answer
		stickErr    error
		netErr      error
		stickReport registry.BundleReport
	)
	wg.Go(func() {
		var out []byte
		out, stickReport, stickErr = e1.srv.ImportBundle(context.Background(), stick, e1.key)
		if stickErr == nil {
			var a ikdsync.BundleAnswers
			a, stickErr = ikdsync.OpenAnswers(out, k.id, func(string) (kiosk.RegistryKey, error) {
				return kiosk.RegistryKey{KeyID: e1.key.KeyID, PublicKey: e1.key.Key.Public().(ed25519.PublicKey)}, nil
			})
			stickAns = a.Answers
		}
	})
	wg.Go(func() {
		for i := 0; i < n; i += 10 {
			var envs [][]byte
			for _, r := range recs[i : i+10] {
				envs = append(envs, r.Envelope)
			}
			a, err := net.tryPush(envs...)
			if err != nil {
				netErr = err
				return
			}
			netAns = append(netAns, a...)
		}
	})
	wg.Wait()
	if stickErr != nil || netErr != nil {
		t.Fatalf("stick: %v; network: %v", stickErr, netErr)
	}
	for i := range n {
		s, w := stickAns[i].Status, netAns[i].Status
		if !(s == ikdsync.StatusAccepted && w == ikdsync.StatusDuplicate) && !(s == ikdsync.StatusDuplicate && w == ikdsync.StatusAccepted) {
			t.Errorf("record %d: stick %d, network %d; want one accepted and one duplicate", i+1, s, w)
		}
	}
	if s := e1.stats(); s.ActivationsAccepted != n || s.MailsQueued != n {
		t.Fatalf("stats %+v: want %d accepted activations and %d mails", s, n, n)
	}
	t.Logf("stick accepted %d, network accepted %d", stickReport.Accepted, n-stickReport.Accepted)
}
