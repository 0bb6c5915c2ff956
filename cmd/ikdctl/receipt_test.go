package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/receipt"
	"github.com/ikd-field/ikd/kiosk/store"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// receiptStore is a kiosk store holding one resident and one approved activation of theirs;
// it returns the data directory, the secret file, the resident and the record id.
func receiptStore(t *testing.T) (data, secret string, res kiosk.Resident, id string) {
	t.Helper()
	ctx := context.Background()
	data, secret = initStore(t)
	st := openTestStore(t, data, secret)
	res = snapshot.Synthetic(9, 1)
	if _, err := st.ApplyResidents(ctx, []kiosk.Resident{res}, nil, "c1"); err != nil {
		t.Fatal(err)
	}
	sealer, err := ikdsync.NewSealer(st.KioskID(), st.DeviceKey())
	if err != nil {
		t.Fatal(err)
	}
	id = uuid.Must(uuid.NewV7()).String()
	act := kiosk.Activation{ID: id, RegistrationID: uuid.Must(uuid.NewV7()).String(), NIK: res.NIK, OfficerID: "sup1",
		KioskID: st.KioskID(), TokenKeyID: "reg-test", FaceBand: kiosk.BandMatch, FaceScore: 0.2, ApprovedAt: time.Now()}
	env, err := sealer.Seal(kiosk.KindActivation, id, act)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Enqueue(ctx, kiosk.OutboxRecord{ID: id, Kind: kiosk.KindActivation, NIK: res.NIK,
		RegistrationID: act.RegistrationID, Envelope: env, State: kiosk.RecordPending, CreatedAt: time.Now()},
		kiosk.AuditEvent{Time: time.Now(), OfficerID: "sup1", Action: "activation.approved", Subject: id}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return data, secret, res, id
}

// `ikdctl receipt` writes the PDF the window prints for the record: the same bytes, naming the
// citizen, the masked NIK and the reference.
func TestReceiptPDF(t *testing.T) {
	data, secret, res, id := receiptStore(t)
	out := filepath.Join(t.TempDir(), "r.pdf")
	code, stdout, stderr := runStoreCLI(t, "receipt", "--data", data, "--secret-file", secret, id, "--pdf", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	ref := kiosk.ShortRef(id)
	if !strings.Contains(stdout, ref) || !strings.Contains(stdout, out) {
		t.Fatalf("output %q lacks the reference %s or the file", stdout, ref)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// The paper names a citizen: who issued it is in the audit log, and the chain holds.
	if issued := receiptIssues(t, data, id); issued != store.OperatorActor {
		t.Errorf("audit entries receipt.issued for %s by %q, want one by %q", id, issued, store.OperatorActor)
	}
	if code, out, errOut := runStoreCLI(t, "audit", "verify", "--data", data, "--secret-file", secret); code != 0 {
		t.Fatalf("audit verify after the receipt: exit %d: %s%s", code, out, errOut)
	}
	st := openTestStore(t, data, secret)
	paper, err := app.PaperReceipt(context.Background(), st, id, "sup1")
	if err != nil {
		t.Fatal(err)
	}
	want, err := receipt.PDF(paper)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("ikdctl receipt wrote other bytes than the window prints")
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("receipt file mode %v, %v: a receipt names a citizen", fi.Mode(), err)
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext not installed (poppler-utils): the text check is skipped")
	}
	text, err := exec.Command("pdftotext", out, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{res.Name, res.NIK.Masked(), ref, "Status: belum terkirim ke registri"} {
		if !strings.Contains(string(text), w) {
			t.Errorf("receipt text lacks %q:\n%s", w, text)
		}
	}
}

// receiptIssues returns the actors of the audit's receipt.issued entries for record id,
// comma-separated in order.
func receiptIssues(t *testing.T, data, id string) string {
	t.Helper()
	db, err := sql.Open("sqlite", storePath(data))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var by sql.NullString
	err = db.QueryRow(`SELECT group_concat(officer_id, ',') FROM (SELECT officer_id FROM audit
		WHERE action = 'receipt.issued' AND subject = ? ORDER BY seq)`, id).Scan(&by)
	if err != nil {
		t.Fatal(err)
	}
	return by.String
}

func TestReceiptFailures(t *testing.T) {
	data, secret, _, id := receiptStore(t)
	out := filepath.Join(t.TempDir(), "r.pdf")
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no record id", []string{"--data", data, "--secret-file", secret, "--pdf", out}, 2, "usage: receipt"},
		{"no output", []string{"--data", data, "--secret-file", secret, id}, 2, "usage: receipt"},
		{"two ids", []string{"--data", data, "--secret-file", secret, id, id, "--pdf", out}, 2, "usage: receipt"},
		{"unknown record", []string{"--data", data, "--secret-file", secret, "0190a1b2-0000-7000-8000-000000000000", "--pdf", out},
			1, app.ErrNoSuchReceipt.Msg.ID},
		{"unwritable file", []string{"--data", data, "--secret-file", secret, id, "--pdf", filepath.Join(out, "x", "r.pdf")},
			1, "write receipt"},
		{"no printer", []string{"--data", data, "--secret-file", secret, id, "--printer", "bad/queue"}, 1, "Printer yang diatur tidak ada"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runStoreCLI(t, append([]string{"receipt"}, c.args...)...)
			if code != c.code || !strings.Contains(stderr, c.stderr) {
				t.Fatalf("exit %d, want %d with %q\n%s%s", code, c.code, c.stderr, stdout, stderr)
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("a failed receipt left a file")
	}
}
