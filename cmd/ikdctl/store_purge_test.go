package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store"
)

// store purge --dry-run says what would go and changes nothing; without it the evidence goes
// and store verify still passes.
func TestStorePurge(t *testing.T) {
	data, secret := initStore(t)
	ctx := context.Background()
	key, err := os.ReadFile(secret)
	if err != nil {
		t.Fatal(err)
	}
	// Three activations the registry answered 40 days ago, one still pending.
	opts := storeOptions()
	opts.Now = func() time.Time { return time.Now().Add(-40 * 24 * time.Hour) }
	s, err := store.Open(ctx, storePath(data), []byte(strings.TrimSpace(string(key))), opts)
	if err != nil {
		t.Fatal(err)
	}
	var answers []kiosk.RecordAnswer
	for i := range 4 {
		id := fmt.Sprintf("rec-%d", i)
		rec := kiosk.OutboxRecord{ID: id, Kind: kiosk.KindActivation, NIK: "3201014101900001", RegistrationID: "reg-" + id,
			Envelope: []byte("signed " + id)}
		if err := s.Enqueue(ctx, rec, kiosk.AuditEvent{OfficerID: "sup1", Action: "activation.approved", Subject: id}); err != nil {
			t.Fatal(err)
		}
		if i < 3 {
			answers = append(answers, kiosk.RecordAnswer{ID: id, State: kiosk.RecordAcknowledged})
		}
	}
	if err := s.RecordAnswers(ctx, answers); err != nil {
		t.Fatal(err)
	}
	// The supervisor keeps evidence 60 days on this kiosk: a purge without the flag follows it.
	if err := s.SetLimits(ctx, store.Limits{Retention: 60 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	run := func(args ...string) string {
		t.Helper()
		code, out, errOut := runStoreCLI(t, append(args, "--data", data, "--secret-file", secret)...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}
	dry := run("store", "purge", "--dry-run", "--retention-days", "30")
	if !strings.Contains(dry, "would purge: evidence of 3 answered records") {
		t.Fatalf("dry run: %s", dry)
	}
	// The cut-off moves with the clock; the counts must not.
	counts := func(out string) string { before, _, _ := strings.Cut(out, "; answered before"); return before }
	if again := run("store", "purge", "--dry-run", "--retention-days", "30"); counts(again) != counts(dry) {
		t.Fatalf("dry run changed the store: %q then %q", dry, again)
	}
	// 213,504 days overflow a Duration to about 25 minutes: refused, nothing purged.
	for _, days := range []string{"213504", "106752"} {
		if code, out, _ := runStoreCLI(t, "store", "purge", "--data", data, "--secret-file", secret, "--retention-days", days); code == 0 {
			t.Errorf("retention of %s days accepted: %s", days, out)
		}
	}
	if again := run("store", "purge", "--dry-run", "--retention-days", "30"); counts(again) != counts(dry) {
		t.Fatalf("a refused retention changed the store: %q then %q", dry, again)
	}
	if out := run("store", "purge"); !strings.Contains(out, "purged: evidence of 0 answered records") {
		t.Fatalf("purge with the kiosk's 60 days: %s", out)
	}
	if out := run("store", "purge", "--retention-days", "30"); !strings.Contains(out, "purged: evidence of 3 answered records") {
		t.Fatalf("purge: %s", out)
	}
	if out := run("store", "verify"); !strings.Contains(out, "audit          ok") || !strings.Contains(out, "outbox         ok (4 rows)") {
		t.Fatalf("verify after purge: %s", out)
	}
	if code, _, errOut := runStoreCLI(t, "store", "purge", "--data", data, "--secret-file", secret, "--retention-days", "0"); code == 0 {
		t.Errorf("retention of 0 days accepted: %s", errOut)
	}
}
