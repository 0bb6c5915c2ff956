package mail

import (
	"bytes"
	"flag"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func testMail() Mail {
	return Mail{
		ID:             "0190b6d2-7c1e-7a4b-9f00-5a1e2b3c4d5e",
		To:             "warga@example.co.id",
		Code:           "123456",
		RegistrationID: "REG-2026-000042",
		RecordID:       "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",      // kiosk.ShortRef: 7FDK-SGSA
		ExpiresAt:      time.Date(2026, 1, 2, 8, 4, 0, 0, time.UTC), // 15.04 WIB, a Friday
		CreatedAt:      time.Date(2026, 1, 2, 7, 49, 0, 0, time.UTC),
	}
}

// The mail repeats the receipt's reference and sends the citizen to the IKD app, the only
// place the code is entered (the kiosk has no such screen).
func TestMessageReferenceAndWhereToEnter(t *testing.T) {
	for _, c := range []struct{ text, app string }{
		{indonesianText(testMail()), "aplikasi IKD di HP Anda"},
		{englishText(testMail()), "IKD app on your phone"},
	} {
		text := c.text
		if !strings.Contains(text, kiosk.ShortRef(testMail().RecordID)) || !strings.Contains(text, "7FDK-SGSA") {
			t.Errorf("no receipt reference 7FDK-SGSA in:\n%s", text)
		}
		if !strings.Contains(strings.Join(strings.Fields(text), " "), c.app) {
			t.Errorf("does not say the code goes into the IKD app:\n%s", text)
		}
		for _, bad := range []string{"di kios", "kiosk or app", "at the IKD kiosk"} {
			if strings.Contains(text, bad) {
				t.Errorf("tells the citizen to enter the code at the kiosk (%q):\n%s", bad, text)
			}
		}
	}
	noRecord := testMail()
	noRecord.RecordID = ""
	if text := indonesianText(noRecord); strings.Contains(text, "Referensi tanda terima") {
		t.Errorf("a reference without a record:\n%s", text)
	}
}

func TestMessageGolden(t *testing.T) {
	replacement := testMail()
	replacement.ID, replacement.Replaces = "0190b6d3-0a2b-7c4d-8e5f-60718293a4b5", true
	for _, tc := range []struct {
		golden string
		mail   Mail
	}{
		{"message.golden", testMail()},
		{"message-replaces.golden", replacement},
	} {
		t.Run(tc.golden, func(t *testing.T) { checkGolden(t, tc.golden, tc.mail) })
	}
}

// checkGolden compares the message of m with testdata/golden.
func checkGolden(t *testing.T, golden string, m Mail) {
	msg := Message{
		Mail:     m,
		From:     "Registri IKD <noreply@ikd.example>",
		Domain:   "registry.ikd.example",
		Date:     time.Date(2026, 1, 2, 7, 49, 5, 0, time.UTC),
		Boundary: "=_ikd_golden",
	}
	got, err := msg.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", golden)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("message differs from %s (run with -update if intended):\n%s", path, got)
	}
	// Every line ends in CRLF, and none is longer than RFC 5322's 78 characters.
	for i, line := range strings.SplitAfter(string(got), "\n") {
		if line == "" {
			continue
		}
		if !strings.HasSuffix(line, "\r\n") {
			t.Errorf("line %d does not end in CRLF: %q", i+1, line)
		}
		if len(line) > 78+2 {
			t.Errorf("line %d is %d characters long", i+1, len(line)-2)
		}
	}
	checkMessage(t, got, msg.Mail, "<"+m.ID+"@registry.ikd.example>")
	replaceNote := strings.Contains(string(got), "menggantikan") && strings.Contains(string(got), "replaces")
	if replaceNote != m.Replaces {
		t.Errorf("the message says it replaces an earlier code: %v, want %v", replaceNote, m.Replaces)
	}
}

// part is one decoded body part.
type part struct {
	lang, contentType, text string
}

// parseMessage parses raw as a mail client would and returns its header and text parts.
func parseMessage(t *testing.T, raw []byte) (mail.Header, []part) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var parts []part
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		parts = append(parts, part{p.Header.Get("Content-Language"), p.Header.Get("Content-Type"), string(b)})
	}
	return m.Header, parts
}

// checkMessage asserts what a citizen must see in the mail, whatever its exact bytes.
func checkMessage(t *testing.T, raw []byte, m Mail, wantID string) {
	t.Helper()
	h, parts := parseMessage(t, raw)
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil || subject != Subject {
		t.Errorf("Subject = %q, %v", subject, err)
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != m.To {
		t.Errorf("To = %v, %v", to, err)
	}
	if got := h.Get("Message-ID"); got != wantID {
		t.Errorf("Message-ID = %q, want %q", got, wantID)
	}
	if h.Get("MIME-Version") != "1.0" {
		t.Errorf("MIME-Version = %q", h.Get("MIME-Version"))
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if len(parts) != 2 {
		t.Fatalf("%d parts, want 2", len(parts))
	}
	// The preferred part is the last one: Indonesian.
	en, id := parts[0], parts[1]
	if en.lang != "en" || id.lang != "id" {
		t.Errorf("part languages %q, %q; want en, id", en.lang, id.lang)
	}
	for _, p := range parts {
		if p.contentType != "text/plain; charset=utf-8" {
			t.Errorf("part %s Content-Type %q", p.lang, p.contentType)
		}
	}
	for _, want := range []string{
		"Kode aktivasi IKD Anda: " + m.Code,
		"berlaku sampai",
		formatIndonesian(m.ExpiresAt) + " WIB",
		"Jangan berikan kode ini kepada siapa pun",
		"Jika Anda tidak meminta aktivasi IKD, abaikan e-mail ini.",
	} {
		if !strings.Contains(id.text, want) {
			t.Errorf("Indonesian part lacks %q:\n%s", want, id.text)
		}
	}
	if !strings.HasPrefix(id.text, "Kode aktivasi IKD Anda: "+m.Code) {
		t.Errorf("Indonesian part does not start with the code line:\n%s", id.text)
	}
	for _, want := range []string{
		"Your IKD activation code: " + m.Code,
		formatEnglish(m.ExpiresAt) + " WIB",
		"Do not share this code",
		"If you did not request IKD activation, ignore this e-mail.",
	} {
		if !strings.Contains(en.text, want) {
			t.Errorf("English part lacks %q:\n%s", want, en.text)
		}
	}
}

func TestFormatWIB(t *testing.T) {
	tests := []struct {
		in     time.Time
		id, en string
	}{
		{time.Date(2026, 1, 2, 8, 4, 0, 0, time.UTC), "Jumat, 2 Januari 2026 pukul 15.04", "Friday, 2 January 2026 at 15:04"},
		// 17:30 UTC is already the next day in Jakarta.
		{time.Date(2026, 8, 16, 17, 30, 0, 0, time.UTC), "Senin, 17 Agustus 2026 pukul 00.30", "Monday, 17 August 2026 at 00:30"},
		{time.Date(2026, 5, 3, 9, 0, 0, 0, time.FixedZone("WITA", 8*3600)), "Minggu, 3 Mei 2026 pukul 08.00", "Sunday, 3 May 2026 at 08:00"},
	}
	for _, tt := range tests {
		if got := formatIndonesian(tt.in); got != tt.id {
			t.Errorf("formatIndonesian(%v) = %q, want %q", tt.in, got, tt.id)
		}
		if got := formatEnglish(tt.in); got != tt.en {
			t.Errorf("formatEnglish(%v) = %q, want %q", tt.in, got, tt.en)
		}
	}
}

func TestMessageRejects(t *testing.T) {
	base := Message{Mail: testMail(), From: "noreply@ikd.example", Domain: "ikd.example", Date: time.Unix(1767340145, 0)}
	tests := []struct {
		name string
		edit func(*Message)
	}{
		{"CRLF in To", func(m *Message) { m.Mail.To = "warga@example.co.id\r\nBcc: evil@example.com" }},
		{"LF in To", func(m *Message) { m.Mail.To = "warga@example.co.id\nBcc: evil@example.com" }},
		{"name in To", func(m *Message) { m.Mail.To = "Warga <warga@example.co.id>" }},
		{"two recipients", func(m *Message) { m.Mail.To = "a@example.com, b@example.com" }},
		{"not an address", func(m *Message) { m.Mail.To = "warga" }},
		{"non-ASCII address", func(m *Message) { m.Mail.To = "wargá@example.co.id" }},
		{"empty To", func(m *Message) { m.Mail.To = "" }},
		{"short code", func(m *Message) { m.Mail.Code = "12345" }},
		{"code with CRLF", func(m *Message) { m.Mail.Code = "1234\r\n" }},
		{"no code (already sent)", func(m *Message) { m.Mail.Code = "" }},
		{"no expiry", func(m *Message) { m.Mail.ExpiresAt = time.Time{} }},
		{"no id", func(m *Message) { m.Mail.ID = "" }},
		{"CRLF in registration id", func(m *Message) { m.Mail.RegistrationID = "x\r\nBcc: y@example.com" }},
		{"CRLF in From", func(m *Message) { m.From = "noreply@ikd.example\r\nBcc: y@example.com" }},
		{"bad domain", func(m *Message) { m.Domain = "ikd.example>\r\nX: y" }},
		{"no date", func(m *Message) { m.Date = time.Time{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base
			tt.edit(&m)
			if b, err := m.Bytes(); err == nil {
				t.Fatalf("Bytes() succeeded:\n%s", b)
			} else if strings.Contains(err.Error(), "123456") {
				t.Errorf("error quotes the code: %v", err)
			}
		})
	}
	if _, err := base.Bytes(); err != nil {
		t.Fatalf("base message: %v", err)
	}
}

func TestMessageID(t *testing.T) {
	tests := []struct{ id, want string }{
		{"0190b6d2-7c1e", "<0190b6d2-7c1e@h.example>"},
		{"42", "<42@h.example>"},
		{"a b>\r\n", "<x6120623e0d0a@h.example>"},
		{".x", "<x2e78@h.example>"},
	}
	for _, tt := range tests {
		if got := MessageID(tt.id, "h.example"); got != tt.want {
			t.Errorf("MessageID(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

func TestRandomBoundary(t *testing.T) {
	m := Message{Mail: testMail(), From: "noreply@ikd.example", Domain: "ikd.example", Date: time.Unix(1767340145, 0)}
	a, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Error("two messages share a boundary")
	}
	checkMessage(t, a, m.Mail, "<"+m.Mail.ID+"@ikd.example>")
}
