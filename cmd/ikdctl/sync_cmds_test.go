package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	"github.com/ikd-field/ikd/sync/registry"
)

func TestEnrollAndSync(t *testing.T) {
	st, hs, _, _ := testRegistry(t)
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
	if err := registry.AddOfficer(ctx, st, registry.OfficerRow{ID: "sup1", Name: "Supervisor", Area: "Cibinong", Role: kiosk.RoleSupervisor}); err != nil {
		t.Fatal(err)
	}
	nik := snapshot.Synthetic(3, 0).NIK
	s, err := openStore(ctx, data, secret)
	if err != nil {
		t.Fatal(err)
	}
	enqueueActivation(t, hs.URL, s, nik)
	s.Close()

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
