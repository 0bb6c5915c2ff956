package demo

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/sync/registry/mail"
)

// The mailbox reads the registry's own activation e-mail: the Indonesian part and its code.
func TestParseMailFindsTheCode(t *testing.T) {
	m := mail.Message{Mail: mail.Mail{ID: "m1", To: "agus.salim@mail.demo", Code: "042917", RegistrationID: "r1",
		ExpiresAt: time.Now().Add(time.Hour)}, From: "IKD <no-reply@ikd.invalid>", Domain: "ikd.invalid", Date: time.Now()}
	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseMail(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got.Code != "042917" || !strings.HasPrefix(got.Text, "Kode aktivasi IKD Anda: 042917") || got.Subject == "" {
		t.Fatalf("parsed %+v", got)
	}
}
