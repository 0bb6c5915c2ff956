package main

import (
	"context"
	"net/http"
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

	approvedInOutbox(t, st, hs.URL, data, secret)

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

	// A resend (after a registry restore) of what the registry kept: answered duplicate.
	since := time.Now().Add(-time.Hour).Format(time.RFC3339)
	code, out, errOut = runStoreCLI(t, append([]string{"sync", "resend", "--since", since}, flags...)...)
	if code != 0 || !strings.Contains(out, "resend: sent 1, accepted again 0, duplicate 1, rejected 0") {
		t.Fatalf("sync resend: exit %d: %s%s", code, out, errOut)
	}
	code, out, _ = runStoreCLI(t, append([]string{"sync", "resend", "--since", time.Now().Add(time.Hour).Format(time.RFC3339)}, flags...)...)
	if code != 0 || !strings.Contains(out, "resend: sent 0,") {
		t.Fatalf("sync resend of nothing: exit %d: %s", code, out)
	}
	for _, bad := range [][]string{{"sync", "resend"}, {"sync", "resend", "--since", "yesterday"}, {"sync", "resend", "--since", since, "--batch", "0"}} {
		if code, _, errOut := runStoreCLI(t, append(bad, flags...)...); code != 2 || !strings.Contains(errOut, "usage: sync resend") {
			t.Errorf("%v: exit %d: %s", bad, code, errOut)
		}
	}

	// The registry gone: the round fails with the officer's words and nothing is lost.
	hs.Close()
	t.Setenv("LANG", "id_ID.UTF-8")
	code, _, errOut = runStoreCLI(t, append([]string{"sync"}, flags...)...)
	if code != 1 || !strings.Contains(errOut, "tidak dapat dihubungi") {
		t.Fatalf("sync with the registry down: exit %d: %s", code, errOut)
	}
}

// approvedInOutbox puts residents and officer sup1 at the registry, registers a citizen, and
// queues an activation of the registration approved by sup1 in the kiosk's outbox.
func approvedInOutbox(t *testing.T, st registry.Store, url, data, secret string) (regID string, nik kiosk.NIK) {
	t.Helper()
	ctx := context.Background()
	provisionRegistry(t, st)
	nik = snapshot.Synthetic(3, 0).NIK
	s, err := openStore(ctx, data, secret)
	if err != nil {
		t.Fatal(err)
	}
	_, regID = enqueueActivation(t, url, s, nik)
	s.Close()
	return regID, nik
}

// enrolled inits a kiosk store and enrolls it with the registry for Cibinong.
func enrolled(t *testing.T, st registry.Store, url string) (data, secret string) {
	t.Helper()
	data, secret = initStore(t)
	enrollCode, err := registry.NewEnrollCode(context.Background(), st, "Cibinong", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runStoreCLI(t, "enroll", "--data", data, "--secret-file", secret, "--registry", url, "--code", enrollCode); code != 0 {
		t.Fatalf("enroll: exit %d: %s%s", code, out, errOut)
	}
	return data, secret
}

// confirm posts a code to the citizen API and returns the HTTP status.
func confirm(t *testing.T, url, regID, code string) int {
	t.Helper()
	resp := citizenPost(t, url+"/v1/registrations/"+regID+"/confirm", `{"code":"`+code+`"}`)
	resp.Body.Close()
	return resp.StatusCode
}

// TestCodeReissue: support staff re-issue a burned code with ikdctl; the next sync sends the
// signed record, the registry accepts it and mails a replacement code that activates.
func TestCodeReissue(t *testing.T) {
	st, hs, _, _ := testRegistry(t)
	ctx := context.Background()
	data, secret := enrolled(t, st, hs.URL)
	flags := []string{"--data", data, "--secret-file", secret}
	regID, nik := approvedInOutbox(t, st, hs.URL, data, secret)
	if code, out, errOut := runStoreCLI(t, append([]string{"sync"}, flags...)...); code != 0 || !strings.Contains(out, "acknowledged 1, rejected 0") {
		t.Fatalf("sync: exit %d: %s%s", code, out, errOut)
	}
	first, err := st.Claim(ctx, time.Now(), time.Hour, 10)
	if err != nil || len(first) != 1 {
		t.Fatalf("first mail %+v, %v", first, err)
	}
	wrong := "000000"
	if first[0].Code == wrong {
		wrong = "111111"
	}
	for range registry.DefaultCodeMaxTries {
		confirm(t, hs.URL, regID, wrong)
	}
	if got := confirm(t, hs.URL, regID, first[0].Code); got != http.StatusTooManyRequests {
		t.Fatalf("the burned code: HTTP %d", got)
	}

	pin := writeFile(t, "pin-reissue", "240817\n")
	reissue := append([]string{"code", "reissue", "--registration", regID, "--nik", string(nik), "--officer", "sup1", "--pin-file", pin}, flags...)
	if code, _, errOut := runStoreCLI(t, append([]string{"code", "reissue", "--registration", regID, "--nik", "123", "--officer", "sup1", "--pin-file", pin}, flags...)...); code == 0 {
		t.Fatalf("a re-issue with an invalid NIK: exit 0: %s", errOut)
	}
	code, out, errOut := runStoreCLI(t, reissue...)
	if code != 0 || !strings.Contains(out, "queued code re-issue") || strings.Contains(out, string(nik)) {
		t.Fatalf("code reissue: exit %d: %s%s", code, out, errOut)
	}
	if code, out, errOut := runStoreCLI(t, append([]string{"sync"}, flags...)...); code != 0 || !strings.Contains(out, "sent 1, acknowledged 1, rejected 0") {
		t.Fatalf("sync of the re-issue: exit %d: %s%s", code, out, errOut)
	}
	second, err := st.Claim(ctx, time.Now(), time.Hour, 10)
	if err != nil || len(second) != 1 || !second[0].Replaces || second[0].RegistrationID != regID {
		t.Fatalf("replacement mail %+v, %v", second, err)
	}
	if got := confirm(t, hs.URL, regID, second[0].Code); got != http.StatusOK {
		t.Fatalf("the replacement code: HTTP %d", got)
	}
}
