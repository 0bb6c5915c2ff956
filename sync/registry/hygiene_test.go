package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	"github.com/ikd-field/ikd/sync/registry"
)

// TestRegistrationRefusesUnsendableContacts: an address the mail could never go to (or that
// would add mail headers) is refused at registration with its own code, and nothing is stored.
func TestRegistrationRefusesUnsendableContacts(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	post := func(email, phone string) (int, apiError, registry.RegistrationResponse) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"nik": "3201014101900001", "email": email, "phone": phone})
		resp, err := http.DefaultClient.Do(citizenRequest(t, e.http.URL+"/v1/registrations", string(body), citizenToken))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var raw json.RawMessage
		_ = json.NewDecoder(resp.Body).Decode(&raw)
		var ae apiError
		var ok registry.RegistrationResponse
		_ = json.Unmarshal(raw, &ae)
		_ = json.Unmarshal(raw, &ok)
		return resp.StatusCode, ae, ok
	}
	for _, tt := range []struct {
		name, email, phone, code string
	}{
		{"CRLFHeader", "siti@mail.id\r\nBcc: semua@mail.id", "081234567789", "registration.invalid_email"},
		{"TrailingCRLF", "siti@mail.id\r\n", "081234567789", "registration.invalid_email"},
		{"Comma", "siti@mail.id,budi@mail.id", "081234567789", "registration.invalid_email"},
		{"DisplayName", "Siti Aminah <siti@mail.id>", "081234567789", "registration.invalid_email"},
		{"QuotedDisplayName", `"Siti" <siti@mail.id>`, "081234567789", "registration.invalid_email"},
		{"RLO", "siti\u202E@mail.id", "081234567789", "registration.invalid_email"},
		{"PhoneLF", "siti@mail.id", "081234567789\n", "registration.invalid_phone"},
		{"PhoneLetters", "siti@mail.id", "0812-CALL-ME", "registration.invalid_phone"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, ae, _ := post(tt.email, tt.phone)
			if status != http.StatusUnprocessableEntity || ae.Code != tt.code || !strings.Contains(ae.Error, " / ") {
				t.Fatalf("status %d %+v, want 422 %s with the message in both languages", status, ae, tt.code)
			}
		})
	}
	if n := e.stats().Registrations; n != 0 {
		t.Fatalf("%d registrations stored from refused requests", n)
	}

	status, ae, reg := post("  siti@mail.id ", "0812 3456 7789")
	if status != http.StatusCreated {
		t.Fatalf("good contacts: status %d %+v", status, ae)
	}
	err := e.st.InTx(context.Background(), func(ctx context.Context, tx registry.Tx) error {
		r, err := tx.Registration(ctx, reg.RegistrationID)
		if err == nil && r.Email != "siti@mail.id" {
			t.Errorf("stored e-mail %q", r.Email)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestImportResidentsRefusesUnsafeText: lines with names that could be spoofed on the
// officer's screen are reported with their numbers and nothing is imported (the import is all
// or nothing); the good lines go in once those are fixed, and reach the kiosk in NFC.
func TestImportResidentsRefusesUnsafeText(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	ctx := context.Background()
	rs := make([]kiosk.Resident, 5)
	for i := range rs {
		rs[i] = snapshot.Synthetic(6, i)
	}
	rs[0].Name = "De\u0301sire\u0301e Putri"
	bad := map[int]string{2: "Siti \u202Ehanima", 4: "Siti\u2060Aminah"}
	var in, good bytes.Buffer
	for i, r := range rs {
		if name, ok := bad[i+1]; ok {
			r.Name = name
		}
		line, err := snapshot.EncodeLine(r)
		if err != nil {
			t.Fatal(err)
		}
		in.Write(append(line, '\n'))
		if _, ok := bad[i+1]; !ok {
			good.Write(append(line, '\n'))
		}
	}

	rep, err := registry.ImportResidents(ctx, e.st, &in)
	want := []string{
		"line 2: name: character 6 (byte 5): U+202E RIGHT-TO-LEFT OVERRIDE is a bidirectional control",
		"line 4: name: character 5 (byte 4): U+2060 WORD JOINER is an invisible character",
	}
	if err == nil || rep.Residents != 0 || strings.Join(rep.Errors, "\n") != strings.Join(want, "\n") {
		t.Fatalf("import: %+v %v; want errors %q", rep, err, want)
	}
	k := e.enroll("Cibinong")
	if got := pullAll(t, k, "", 10); len(got.residents) != 0 {
		t.Fatalf("%d residents after a refused import", len(got.residents))
	}

	if rep, err := registry.ImportResidents(ctx, e.st, &good); err != nil || rep.Residents != len(rs)-len(bad) {
		t.Fatalf("good lines: %+v %v", rep, err)
	}
	got := pullAll(t, k, "", 10)
	if len(got.residents) != len(rs)-len(bad) {
		t.Fatalf("pulled %d residents", len(got.residents))
	}
	for _, r := range got.residents {
		if r.NIK == string(rs[0].NIK) && r.Name != "Désirée Putri" {
			t.Errorf("NFD name travels as %+q, want NFC", r.Name)
		}
	}
}
