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
	"time"

	"github.com/emersion/go-smtp"

	"github.com/ikd-field/ikd/kiosk"
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

// TestBundleExportLeavesTamperedRecordsBehind drives sync.ExportOutbox's left-out path through
// the real kiosk store: a record edited outside the kiosk stays behind and is named on stderr,
// the good ones travel with a checkpoint, and the edited one is still in the outbox.
func TestBundleExportLeavesTamperedRecordsBehind(t *testing.T) {
	ctx := context.Background()
	st, _, _ := sealedRegistryDB(t)
	hs := serveRegistry(t, st)
	dir, secret := t.TempDir(), writeFile(t, "secret", "kata-sandi-kiosk\n")
	enrolledKiosk(t, st, hs.URL, dir, secret)
	s := openTestStore(t, dir, secret)
	for i := range 3 {
		id := fmt.Sprintf("rec-%d", i)
		rec := kiosk.OutboxRecord{ID: id, Kind: kiosk.KindActivation, NIK: "3201014101900001", RegistrationID: "reg-" + id,
			Envelope: []byte("signed " + id), State: kiosk.RecordPending, CreatedAt: time.Now()}
		if err := s.Enqueue(ctx, rec, kiosk.AuditEvent{OfficerID: "sup1", Action: "activation.approved", Subject: id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	sqliteEdit(t, dir, "UPDATE outbox SET created_at = created_at + 1 WHERE id = 'rec-1'")

	stick := filepath.Join(t.TempDir(), "outbox.ikdb")
	code, out, errOut := runStoreCLI(t, "bundle", "export", "--out", stick, "--data", dir, "--secret-file", secret)
	if code != 0 || !strings.Contains(out, "3 records (activation 2, audit_checkpoint 1)") ||
		!strings.Contains(errOut, "records left out") || !strings.Contains(errOut, "rec-1") {
		t.Fatalf("export: exit %d\n%s%s\nwant 2 activations and a checkpoint, rec-1 named as left out", code, out, errOut)
	}
	if _, err := os.Stat(stick); err != nil {
		t.Fatalf("no bundle written: %v", err)
	}
	if code, out, _ := runStoreCLI(t, "store", "verify", "--data", dir, "--secret-file", secret); code != 1 || !strings.Contains(out, "outbox         BAD: 1 of 4 rows") {
		t.Fatalf("the edited record after the export: exit %d\n%s", code, out)
	}
}
