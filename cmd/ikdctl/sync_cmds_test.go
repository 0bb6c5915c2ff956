package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	"github.com/ikd-field/ikd/kiosk/token"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/sqlitestore"
)

// testRegistry serves a real registry on SQLite over loopback.
func testRegistry(t *testing.T) (*httptest.Server, registry.Store) {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewSigner("reg-1", priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.EnsureKey(context.Background(), st, "reg-1", pub, time.Now()); err != nil {
		t.Fatal(err)
	}
	srv := &registry.Server{Store: st, Signer: signer, PublicKey: pub, TokenTTL: time.Hour, CodeKey: []byte("k"),
		Now: time.Now, Log: slog.New(slog.DiscardHandler)}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs, st
}

func TestEnrollAndSync(t *testing.T) {
	hs, st := testRegistry(t)
	ctx := context.Background()
	data, secret := initStore(t)
	flags := []string{"--data", data, "--secret-file", secret}

	code, _, errOut := runStoreCLI(t, append([]string{"sync"}, flags...)...)
	if code != 2 || !strings.Contains(errOut, "not enrolled") {
		t.Fatalf("sync before enrollment: exit %d: %s", code, errOut)
	}
	code, _, errOut = runStoreCLI(t, append([]string{"enroll", "--registry", hs.URL, "--code", "WRONG-CODE1"}, flags...)...)
	if code == 0 || !strings.Contains(errOut, "enrollment code") {
		t.Fatalf("enroll with a wrong code: exit %d: %s", code, errOut)
	}
	enrollCode, err := registry.NewEnrollCode(ctx, st, "Cibinong", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runStoreCLI(t, append([]string{"enroll", "--registry", hs.URL, "--code", enrollCode}, flags...)...)
	if code != 0 || !strings.Contains(out, "for Cibinong") || !strings.Contains(out, "1 registry key(s)") {
		t.Fatalf("enroll: exit %d: %s%s", code, out, errOut)
	}

	// Residents at the registry, and one approved activation in the kiosk's outbox.
	var ndjson bytes.Buffer
	if err := snapshot.WriteSynthetic(&ndjson, 3, 30); err != nil {
		t.Fatal(err)
	}
	if _, err := registry.ImportResidents(ctx, st, &ndjson); err != nil {
		t.Fatal(err)
	}
	nik := snapshot.Synthetic(3, 0).NIK
	resp, err := http.Post(hs.URL+"/v1/registrations", "application/json",
		strings.NewReader(`{"nik":"`+string(nik)+`","email":"warga@example.id","phone":"081234567789"}`))
	if err != nil {
		t.Fatal(err)
	}
	var reg registry.RegistrationResponse
	if err := json.NewDecoder(resp.Body).Decode(&reg); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s, err := openStore(ctx, data, secret)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := ikdsync.NewSealer(s.KioskID(), s.DeviceKey())
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.Must(uuid.NewV7()).String()
	act := kiosk.Activation{ID: id, RegistrationID: reg.RegistrationID, NIK: nik, OfficerID: "sup1", KioskID: s.KioskID(),
		TokenKeyID: "reg-1", FaceBand: kiosk.BandMatch, FaceScore: 0.2, ApprovedAt: time.Now()}
	env, err := sealer.Seal(kiosk.KindActivation, id, act)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Enqueue(ctx, kiosk.OutboxRecord{ID: id, Kind: kiosk.KindActivation, NIK: nik, RegistrationID: reg.RegistrationID,
		Envelope: env, State: kiosk.RecordPending, CreatedAt: time.Now()},
		kiosk.AuditEvent{Time: time.Now(), OfficerID: "sup1", Action: "activation.approved", Subject: id})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}

	code, out, errOut = runStoreCLI(t, append([]string{"sync"}, flags...)...)
	if code != 0 || !strings.Contains(out, "acknowledged 1, rejected 0") || !strings.Contains(out, "residents +30") ||
		!strings.Contains(out, "pending: 0") {
		t.Fatalf("sync: exit %d: %s%s", code, out, errOut)
	}
	code, out, _ = runStoreCLI(t, append([]string{"sync", "status"}, flags...)...)
	if code != 0 || !strings.Contains(out, "pending 0 sent 0 acknowledged 1 rejected 0") || !strings.Contains(out, hs.URL) {
		t.Fatalf("sync status: exit %d: %s", code, out)
	}
	if stats, err := st.Stats(ctx); err != nil || stats.ActivationsAccepted != 1 || stats.MailsQueued != 1 {
		t.Fatalf("registry stats %+v %v", stats, err)
	}

	// The registry gone: the round fails with the officer's words and nothing is lost.
	hs.Close()
	t.Setenv("LANG", "id_ID.UTF-8")
	code, _, errOut = runStoreCLI(t, append([]string{"sync"}, flags...)...)
	if code != 1 || !strings.Contains(errOut, "tidak dapat dihubungi") {
		t.Fatalf("sync with the registry down: exit %d: %s", code, errOut)
	}
}
