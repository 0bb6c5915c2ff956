package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

// Subject is the mail's subject. It is in Bahasa Indonesia alone because a subject has no
// alternatives; the body carries an English part as well.
const Subject = "Kode aktivasi IKD Anda"

// wib is Waktu Indonesia Barat, the zone of Asia/Jakarta. Jakarta has kept UTC+7 without
// daylight saving since 1964, so a fixed zone gives the same times as the tz database without
// depending on tzdata being installed on the registry's machines.
var wib = time.FixedZone("WIB", 7*60*60)

// Message is the text of one activation mail. The fields that change between two sends of
// the same mail (Date, Boundary) are explicit so that a test can fix them.
type Message struct {
	Mail Mail
	// From is the sender as an RFC 5322 address, e.g. "IKD <noreply@ikd.example>".
	From string
	// Domain is the right-hand side of the Message-ID.
	Domain string
	// Date is the Date header.
	Date time.Time
	// Boundary is the multipart boundary; empty picks a random one.
	Boundary string
}

// Bytes returns the message in wire form: CRLF line endings, 7-bit clean.
func (msg Message) Bytes() ([]byte, error) {
	if err := validateMail(msg.Mail); err != nil {
		return nil, err
	}
	from, err := parseFrom(msg.From)
	if err != nil {
		return nil, err
	}
	if err := validateDomain(msg.Domain); err != nil {
		return nil, err
	}
	if msg.Date.IsZero() {
		return nil, errors.New("message: no date")
	}

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if msg.Boundary != "" {
		if err := mw.SetBoundary(msg.Boundary); err != nil {
			return nil, fmt.Errorf("message: boundary: %w", err)
		}
	} else {
		// The multipart writer's own random boundary is fine too; this one starts with "=_",
		// which quoted-printable output can never contain, so it cannot occur in a body.
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("message: boundary: %w", err)
		}
		if err := mw.SetBoundary("=_ikd_" + hex.EncodeToString(b[:])); err != nil {
			return nil, fmt.Errorf("message: boundary: %w", err)
		}
	}

	to := (&mail.Address{Address: msg.Mail.To}).String()
	header := []struct{ k, v string }{
		{"Date", msg.Date.Format(time.RFC1123Z)},
		{"From", from.String()},
		{"To", to},
		{"Message-ID", MessageID(msg.Mail.ID, msg.Domain)},
		{"Subject", mime.QEncoding.Encode("utf-8", Subject)},
		{"MIME-Version", "1.0"},
		{"Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()})},
		// RFC 3834: tells vacation responders and the like not to answer.
		{"Auto-Submitted", "auto-generated"},
	}
	var out bytes.Buffer
	for _, h := range header {
		if strings.ContainsAny(h.v, "\r\n") {
			// Every value above is validated or encoded; this is the last line of defence
			// against header injection should that ever change.
			return nil, fmt.Errorf("message: header %s contains a line break", h.k)
		}
		fmt.Fprintf(&out, "%s: %s\r\n", h.k, h.v)
	}
	out.WriteString("\r\n")

	// multipart/alternative lists the parts in increasing order of preference (RFC 2046
	// §5.1.4), so the Indonesian part, the one a reader should see, comes last.
	parts := []struct{ lang, text string }{
		{"en", englishText(msg.Mail)},
		{"id", indonesianText(msg.Mail)},
	}
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		h.Set("Content-Language", p.lang)
		w, err := mw.CreatePart(h)
		if err != nil {
			return nil, fmt.Errorf("message: %s part: %w", p.lang, err)
		}
		qw := quotedprintable.NewWriter(w)
		if _, err := qw.Write([]byte(p.text)); err != nil {
			return nil, fmt.Errorf("message: %s part: %w", p.lang, err)
		}
		if err := qw.Close(); err != nil {
			return nil, fmt.Errorf("message: %s part: %w", p.lang, err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("message: %w", err)
	}
	out.Write(buf.Bytes())
	return out.Bytes(), nil
}

// MessageID returns the Message-ID header value for queue id at domain. It depends on
// nothing else, so every send of one queued mail carries the same Message-ID and a duplicate
// after a crash (see the package doc) can be recognised. An id that is not a valid dot-atom
// is hex-encoded rather than refused: it is the queue's own key, not the citizen's input.
func MessageID(id, domain string) string {
	left := id
	if !isDotAtom(id) {
		left = "x" + hex.EncodeToString([]byte(id))
	}
	return "<" + left + "@" + domain + ">"
}

func indonesianText(m Mail) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Kode aktivasi IKD Anda: %s\n\n", m.Code)
	if m.Replaces {
		b.WriteString("Kode ini menggantikan kode yang dikirim sebelumnya atas permintaan petugas\n")
		b.WriteString("di loket; kode lama tidak berlaku lagi.\n\n")
	}
	fmt.Fprintf(&b, "Kode ini berlaku sampai %s WIB.\n\n", formatIndonesian(m.ExpiresAt))
	// The code goes into the app on the citizen's phone: the kiosk has no screen for it.
	b.WriteString("Jangan berikan kode ini kepada siapa pun, termasuk petugas. Masukkan kode\n")
	b.WriteString("ini di aplikasi IKD di HP Anda, pada aktivasi yang Anda mulai di aplikasi\n")
	b.WriteString("sebelum datang ke loket.\n\n")
	b.WriteString("Jika Anda tidak meminta aktivasi IKD, abaikan e-mail ini.\n")
	if m.RecordID != "" {
		fmt.Fprintf(&b, "\nReferensi tanda terima: %s (sama dengan tanda terima dari loket)\n", kiosk.ShortRef(m.RecordID))
	}
	if m.RegistrationID != "" {
		fmt.Fprintf(&b, "Nomor registrasi: %s\n", m.RegistrationID)
	}
	b.WriteString("\n-- \nE-mail ini dikirim otomatis. Mohon tidak membalas.\n")
	return b.String()
}

func englishText(m Mail) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Your IKD activation code: %s\n\n", m.Code)
	if m.Replaces {
		b.WriteString("This code replaces the one sent before, at an officer's request at the\n")
		b.WriteString("counter; the earlier code no longer works.\n\n")
	}
	fmt.Fprintf(&b, "This code is valid until %s WIB (UTC+7).\n\n", formatEnglish(m.ExpiresAt))
	b.WriteString("Do not share this code with anyone, including officers. Enter it in the\n")
	b.WriteString("IKD app on your phone, in the activation you started in the app before\n")
	b.WriteString("coming to the counter.\n\n")
	b.WriteString("If you did not request IKD activation, ignore this e-mail.\n")
	if m.RecordID != "" {
		fmt.Fprintf(&b, "\nReceipt reference: %s (the same as on the receipt from the counter)\n", kiosk.ShortRef(m.RecordID))
	}
	if m.RegistrationID != "" {
		fmt.Fprintf(&b, "Registration number: %s\n", m.RegistrationID)
	}
	b.WriteString("\n-- \nThis e-mail was sent automatically. Please do not reply.\n")
	return b.String()
}

var (
	idDays   = [...]string{"Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"}
	idMonths = [...]string{"Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli",
		"Agustus", "September", "Oktober", "November", "Desember"}
)

// formatIndonesian writes t in WIB the way Indonesian text does: "Jumat, 2 Januari 2026
// pukul 15.04". Go's layouts know only English names, hence the tables.
func formatIndonesian(t time.Time) string {
	t = t.In(wib)
	return fmt.Sprintf("%s, %d %s %d pukul %02d.%02d",
		idDays[t.Weekday()], t.Day(), idMonths[t.Month()-1], t.Year(), t.Hour(), t.Minute())
}

func formatEnglish(t time.Time) string {
	return t.In(wib).Format("Monday, 2 January 2006 at 15:04")
}

// validateMail checks what comes from the queue. A failure here is permanent: sending the
// same mail again cannot fix it.
func validateMail(m Mail) error {
	if _, err := parseRecipient(m.To); err != nil {
		return err
	}
	if len(m.Code) != 6 || strings.Trim(m.Code, "0123456789") != "" {
		// The code itself is not quoted: errors end up in logs and in the queue.
		return errors.New("mail has no valid 6-digit code")
	}
	if m.ExpiresAt.IsZero() {
		return errors.New("mail has no expiry time")
	}
	if m.ID == "" {
		return errors.New("mail has no id")
	}
	if strings.ContainsAny(m.RegistrationID, "\r\n") {
		return errors.New("registration id contains a line break")
	}
	return nil
}

// parseRecipient accepts a bare addr-spec: the queue holds an address, not a display name.
func parseRecipient(to string) (string, error) {
	if strings.ContainsAny(to, "\r\n") {
		return "", errors.New("recipient address contains a line break (header injection?)")
	}
	a, err := mail.ParseAddress(to)
	if err != nil {
		return "", fmt.Errorf("invalid recipient address: %w", err)
	}
	if a.Address != to {
		return "", errors.New("invalid recipient address: want a bare address, without name or brackets")
	}
	if !isASCII(a.Address) {
		// Non-ASCII mailboxes need SMTPUTF8 end to end and raw UTF-8 headers (RFC 6531/6532),
		// which the relay cannot be assumed to support.
		return "", errors.New("invalid recipient address: non-ASCII addresses are not supported")
	}
	return a.Address, nil
}

func parseFrom(from string) (*mail.Address, error) {
	if strings.ContainsAny(from, "\r\n") {
		return nil, errors.New("sender address contains a line break")
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("invalid sender address: %w", err)
	}
	if !isASCII(a.Address) {
		return nil, errors.New("invalid sender address: non-ASCII addresses are not supported")
	}
	return a, nil
}

func validateDomain(d string) error {
	if d == "" || !isDotAtom(d) {
		return fmt.Errorf("invalid host name %q", d)
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// isDotAtom reports whether s is an RFC 5322 dot-atom-text.
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.':
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
