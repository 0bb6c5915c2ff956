//go:build faults

// The outside check of the USB-stick issue takes ~45 s (50 approvals through the real CLI): it
// runs in make check-faults with the fault suite, not in the quick suite.

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/internal/loadgen"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
)

// TestBundleOutsideCheck is the outside check, end to end on a real SQLite registry
// and a real SMTP server: a kiosk that never synced after its enrolment approves 50
// activations and exports them; the registry imports the stick (50 accepted, 50 e-mails, no
// NIK, name or e-mail readable on the stick); importing it again mails nothing; the kiosk
// applies the answers and has nothing pending.
func TestBundleOutsideCheck(t *testing.T) {
	const n, seed = 50, 7
	ctx := context.Background()
	st, dsn, dataKeyFile := sealedRegistryDB(t)
	hs, srv, key := serveRegistryWithKey(t, st)
	sink := startSMTPSink(t)
	dir, secret := t.TempDir(), writeFile(t, "secret", "kata-sandi-kiosk\n")
	kioskFlags := []string{"--data", dir, "--secret-file", secret}
	enrolledKiosk(t, st, hs.URL, dir, secret)
	if err := registry.AddOfficer(ctx, st, registry.OfficerRow{ID: "sup1", Name: "Budi Santoso", Area: "Cibinong", Role: kiosk.RoleSupervisor}); err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, "loadgen", "--data", dir, "--secret-file", secret, "--count", fmt.Sprint(n), "--seed", fmt.Sprint(seed),
		"--citizen-token-file", writeFile(t, "citizen.token", testCitizenToken+"\n"),
		"--officer", "sup1", "--pin-file", writeFile(t, "pin", "240817\n"), "--registry-db", dsn, "--data-key-file", dataKeyFile)
	if !strings.Contains(out, fmt.Sprintf("%d registrations approved", n)) {
		t.Fatalf("loadgen: %s", out)
	}
	if out := mustCLI(t, append([]string{"sync", "status"}, kioskFlags...)...); !strings.Contains(out, `snapshot cursor ""`) ||
		!strings.Contains(out, fmt.Sprintf("pending %d sent 0", n)) {
		t.Fatalf("before the stick: %s; want a kiosk that never synced with %d pending", out, n)
	}

	stick := filepath.Join(t.TempDir(), "outbox.ikdb")
	out = mustCLI(t, append([]string{"bundle", "export", "--out", stick}, kioskFlags...)...)
	// The stick carries the kiosk's audit head as a checkpoint, as a push carries it.
	if !strings.Contains(out, fmt.Sprintf("%d records (activation %d, audit_checkpoint 1)", n+1, n)) {
		t.Fatalf("export: %s", out)
	}
	b, err := os.ReadFile(stick)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		r := snapshot.Synthetic(seed, i)
		email := fmt.Sprintf("warga-%d-%d@%s", seed, i, loadgen.DefaultDomain)
		for _, secret := range []string{string(r.NIK), r.Name, email} {
			if bytes.Contains(b, []byte(secret)) {
				t.Fatalf("the stick's bytes show %q", secret)
			}
		}
	}
	t.Logf("stick of %d activations: %d bytes, %d a record", n, len(b), len(b)/n)
	// Records stay pending: a second export carries them all again, with the same checkpoint.
	again := filepath.Join(t.TempDir(), "outbox-2.ikdb")
	if out := mustCLI(t, append([]string{"bundle", "export", "--out", again}, kioskFlags...)...); !strings.Contains(out, fmt.Sprintf("%d records (activation %d, audit_checkpoint 1)", n+1, n)) {
		t.Fatalf("second export: %s", out)
	}

	answers, rep, err := srv.ImportBundle(ctx, b, key)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Accepted != n+1 || rep.Mails != n || len(rep.Rejected) != 0 {
		t.Fatalf("import: %+v, want %d activations and the checkpoint accepted, %[2]d mailed", rep, n)
	}
	if sent := drainMails(t, st, sink); sent != n || len(sink.recipients()) != n {
		t.Fatalf("%d mails sent, %d received, want %d", sent, len(sink.recipients()), n)
	}
	// The second stick of the same records: every one a duplicate, no mail.
	b2, err := os.ReadFile(again)
	if err != nil {
		t.Fatal(err)
	}
	for _, stick := range [][]byte{b, b2} {
		_, rep, err := srv.ImportBundle(ctx, stick, key)
		if err != nil || rep.Duplicate != n+1 || rep.Mails != 0 {
			t.Fatalf("import again: %+v, %v; want %d duplicates and no mail", rep, err, n)
		}
	}
	if sent := drainMails(t, st, sink); sent != 0 || len(sink.recipients()) != n {
		t.Fatalf("after the repeats: %d more mails, %d received; want none more", sent, len(sink.recipients()))
	}

	answersFile := filepath.Join(t.TempDir(), "answers.ikdb")
	if err := ikdsync.WriteBundleFile(answersFile, answers); err != nil {
		t.Fatal(err)
	}
	out = mustCLI(t, append([]string{"bundle", "answers", "--in", answersFile}, kioskFlags...)...)
	// Nothing is left: the checkpoint queued at export was answered with the activations.
	if !strings.Contains(out, fmt.Sprintf("acknowledged %d, rejected 0", n+1)) || !strings.Contains(out, "pending: 0\n") {
		t.Fatalf("answers: %s", out)
	}
	if out := mustCLI(t, append([]string{"queue"}, kioskFlags...)...); !strings.Contains(out, "pending       0\n") {
		t.Errorf("queue after the answers: %s", out)
	}
	// A network sync afterwards has nothing to send and mails nothing.
	if out := mustCLI(t, append([]string{"sync"}, kioskFlags...)...); !strings.Contains(out, "pending: 0") {
		t.Errorf("sync after the stick: %s", out)
	}
	if out := mustCLI(t, append([]string{"bundle", "export", "--out", filepath.Join(t.TempDir(), "x")}, kioskFlags...)...); !strings.Contains(out, "no bundle written") {
		t.Errorf("export with nothing pending: %s", out)
	}
	if sent := drainMails(t, st, sink); sent != 0 {
		t.Errorf("%d mails after the network sync", sent)
	}
}
