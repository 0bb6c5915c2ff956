package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/ikd-field/ikd/internal/loadgen"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/mail"
)

// smtpSink is a real SMTP server (go-smtp) on loopback that records each recipient.
type smtpSink struct {
	addr string
	mu   gosync.Mutex
	to   []string
}

func startSMTPSink(t *testing.T) *smtpSink {
	t.Helper()
	sink := &smtpSink{}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: sink}, nil }))
	s.Domain = "mx.test"
	s.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink.addr = l.Addr().String()
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(l) }()
	t.Cleanup(func() { s.Close(); <-done })
	return sink
}

func (s *smtpSink) recipients() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.to...)
}

type sinkSession struct {
	sink *smtpSink
	to   []string
}

func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *sinkSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.sink.mu.Lock()
	s.sink.to = append(s.sink.to, s.to...)
	s.sink.mu.Unlock()
	return nil
}
func (s *sinkSession) Reset()        { s.to = nil }
func (s *sinkSession) Logout() error { return nil }

// drainMails sends every queued mail to the sink as the registry's mail worker does, and
// returns how many it sent.
func drainMails(t *testing.T, st registry.Store, sink *smtpSink) int {
	t.Helper()
	w := &mail.Worker{Queue: st, Sender: &mail.SMTPSender{Addr: sink.addr, From: "IKD <no-reply@ikd.test>"},
		Log: quietLog()}
	total := 0
	for {
		sent, failed, err := w.RunOnce(context.Background())
		if err != nil || failed != 0 {
			t.Fatalf("mail round: %d sent, %d failed, %v", sent, failed, err)
		}
		if sent == 0 {
			return total
		}
		total += sent
	}
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runStoreCLI(t, args...)
	if code != 0 {
		t.Fatalf("ikdctl %s: exit %d\n%s%s", strings.Join(args[:2], " "), code, out, errOut)
	}
	return out
}

// TestBundleOutsideCheck is the outside check, end to end on a real SQLite registry
// and a real SMTP server: a kiosk that never synced after its enrolment approves 50
// activations and exports them; the registry imports the stick (50 accepted, 50 e-mails, no
// NIK, name or e-mail readable on the stick); importing it again mails nothing; the kiosk
// applies the answers and has nothing pending.
func TestBundleOutsideCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("approves 50 activations through the CLI (about 40 s); runs in the full pass")
	}
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
	if !strings.Contains(out, fmt.Sprintf("%d records (activation %d)", n, n)) {
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
	// Records stay pending: a second export carries them all again.
	again := filepath.Join(t.TempDir(), "outbox-2.ikdb")
	if out := mustCLI(t, append([]string{"bundle", "export", "--out", again}, kioskFlags...)...); !strings.Contains(out, fmt.Sprintf("%d records", n)) {
		t.Fatalf("second export: %s", out)
	}

	answers, rep, err := srv.ImportBundle(ctx, b, key)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Accepted != n || rep.Mails != n || len(rep.Rejected) != 0 {
		t.Fatalf("import: %+v, want %d accepted and mailed", rep, n)
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
		if err != nil || rep.Duplicate != n || rep.Mails != 0 {
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
	// No activation is left. The 100th audit entry (50 approvals, then 50 answers) queued the
	// kiosk's periodic audit checkpoint, as a network sync's answers would have: it is the one
	// record that waits, for the next stick or sync.
	if !strings.Contains(out, fmt.Sprintf("acknowledged %d, rejected 0", n)) || !strings.Contains(out, "pending: 1 (audit_checkpoint 1)") {
		t.Fatalf("answers: %s", out)
	}
	if out := mustCLI(t, append([]string{"sync", "status"}, kioskFlags...)...); !strings.Contains(out, fmt.Sprintf("pending 1 sent 0 acknowledged %d rejected 0", n)) {
		t.Errorf("after the answers: %s", out)
	}
	// A network sync afterwards sends only the checkpoint and mails nothing.
	if out := mustCLI(t, append([]string{"sync"}, kioskFlags...)...); !strings.Contains(out, "push: sent 1, acknowledged 1, rejected 0") ||
		!strings.Contains(out, "pending: 0") {
		t.Errorf("sync after the stick: %s", out)
	}
	if out := mustCLI(t, append([]string{"bundle", "export", "--out", filepath.Join(t.TempDir(), "x")}, kioskFlags...)...); !strings.Contains(out, "no bundle written") {
		t.Errorf("export with nothing pending: %s", out)
	}
	if sent := drainMails(t, st, sink); sent != 0 {
		t.Errorf("%d mails after the network sync", sent)
	}
}

// TestBundleChangesApply: deltas on a stick reach a kiosk that never synced, an old stick
// cannot roll it back, the same stick twice is refused, and a stick of another kiosk's answers
// is refused; every refusal names its reason.
func TestBundleChangesApply(t *testing.T) {
	ctx := context.Background()
	st, _, _ := sealedRegistryDB(t)
	hs, srv, key := serveRegistryWithKey(t, st)
	dir, secret := t.TempDir(), writeFile(t, "secret", "kata-sandi-kiosk\n")
	flags := []string{"--data", dir, "--secret-file", secret}
	enrolledKiosk(t, st, hs.URL, dir, secret)
	provisionRegistry(t, st)

	write := func(b []byte) string {
		t.Helper()
		f := filepath.Join(t.TempDir(), "changes.ikdb")
		if err := ikdsync.WriteBundleFile(f, b); err != nil {
			t.Fatal(err)
		}
		return f
	}
	first, c1, err := srv.ChangesBundle(ctx, "Cibinong", 0, key)
	if err != nil {
		t.Fatal(err)
	}
	oldStick := write(first)
	out := mustCLI(t, append([]string{"bundle", "apply", "--in", oldStick}, flags...)...)
	if !strings.Contains(out, "residents +30") || !strings.Contains(out, fmt.Sprintf("cursor %d", c1.Until)) {
		t.Fatalf("apply: %s", out)
	}
	wantRefused := func(file string, e *kiosk.Error) {
		t.Helper()
		code, out, errOut := runStoreCLI(t, append([]string{"bundle", "apply", "--in", file}, flags...)...)
		if code == 0 || !strings.Contains(errOut, e.Code) {
			t.Errorf("apply %s: exit %d\n%s%s; want %s", filepath.Base(file), code, out, errOut, e.Code)
		}
	}
	wantRefused(oldStick, ikdsync.ErrBundleReplayed)

	// The registry changes; the newer stick from the kiosk's cursor brings only that.
	if err := registry.AddOfficer(ctx, st, registry.OfficerRow{ID: "off2", Name: "Siti", Area: "Cibinong", Role: kiosk.RoleOfficer}); err != nil {
		t.Fatal(err)
	}
	newer, _, err := srv.ChangesBundle(ctx, "Cibinong", c1.Until, key)
	if err != nil {
		t.Fatal(err)
	}
	if out := mustCLI(t, append([]string{"bundle", "apply", "--in", write(newer)}, flags...)...); !strings.Contains(out, "residents +0 ~0 -0, officers updated 0 (skipped 1)") {
		t.Errorf("newer stick: %s", out)
	}
	wantRefused(oldStick, ikdsync.ErrBundleOld)
	other, _, err := srv.ChangesBundle(ctx, "Bojonggede", 0, key)
	if err != nil {
		t.Fatal(err)
	}
	wantRefused(write(other), ikdsync.ErrBundleWrongArea)
	tampered := bytes.Clone(newer)
	tampered[len(tampered)-80] ^= 1
	wantRefused(write(tampered), ikdsync.ErrBundleTampered)
	wantRefused(write(newer[:len(newer)-3]), ikdsync.ErrBundleTruncated)

	// Answers made for another kiosk.
	foreign, err := ikdsync.SealAnswers(key.KeyID, key.Key, ikdsync.BundleAnswers{KioskID: "kiosk-elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runStoreCLI(t, append([]string{"bundle", "answers", "--in", write(foreign)}, flags...)...)
	if code == 0 || !strings.Contains(errOut, ikdsync.ErrBundleOtherKiosk.Code) {
		t.Errorf("answers of another kiosk: exit %d\n%s%s", code, out, errOut)
	}
}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestBundleNeedsEnrolment: a kiosk that was never enrolled has no registry to encrypt to or
// trust; every bundle command says so, and a missing flag is a usage error.
func TestBundleNeedsEnrolment(t *testing.T) {
	dir, secret := initStore(t)
	f := filepath.Join(t.TempDir(), "stick.ikdb")
	for _, args := range [][]string{
		{"bundle", "export", "--out", f},
		{"bundle", "answers", "--in", f},
		{"bundle", "apply", "--in", f},
	} {
		code, out, errOut := runStoreCLI(t, append(args, "--data", dir, "--secret-file", secret)...)
		if code != 2 || !strings.Contains(errOut, "not enrolled") {
			t.Errorf("%s: exit %d\n%s%s; want 2 and not enrolled", strings.Join(args[:2], " "), code, out, errOut)
		}
		code, _, errOut = runStoreCLI(t, args[0], args[1], "--data", dir, "--secret-file", secret)
		if code != 2 || !strings.Contains(errOut, "usage") {
			t.Errorf("%s without a file: exit %d %s", strings.Join(args[:2], " "), code, errOut)
		}
	}
	if _, err := os.Stat(f); err == nil {
		t.Error("a bundle was written by a kiosk that is not enrolled")
	}
}
