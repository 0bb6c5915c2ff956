package token

import (
	"errors"
	"net/mail"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/kiosk/safetext"
)

// FuzzParseEmail: what ParseEmail accepts is one bare address net/mail reads back unchanged,
// with no line break, comma or refused character; what it refuses matches ErrInvalidEmail.
func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{"budi@gmail.com", " siti@mail.id\r\n", "a@b.id, c@d.id", "Budi <budi@gmail.com>",
		`"a b"@mail.id`, "budi@[10.0.0.1]", "b\u202E@mail.id", "ñandú@mail.id", "a@b.id (c)", "g: a@b.id;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := ParseEmail(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidEmail) {
				t.Fatalf("ParseEmail(%q): %v, want ErrInvalidEmail", in, err)
			}
			return
		}
		a, perr := mail.ParseAddress(out)
		if perr != nil || a.Name != "" || a.Address != out || out != strings.TrimSpace(in) ||
			strings.ContainsAny(out, "\r\n,") || safetext.Check(out) != nil {
			t.Fatalf("ParseEmail(%q) accepts %q (parsed %+v, %v)", in, out, a, perr)
		}
		if _, err := MaskEmail(out); err != nil {
			t.Fatalf("ParseEmail(%q) accepts %q, which MaskEmail refuses: %v", in, out, err)
		}
	})
}

// FuzzParsePhone: what ParsePhone accepts is 9 to 15 ASCII digits after an optional +.
func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{"081234567789", "+62 812-3456-7789", "(0812) 3456 7789", "0812\n34567789", "++62812345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := ParsePhone(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidPhone) {
				t.Fatalf("ParsePhone(%q): %v, want ErrInvalidPhone", in, err)
			}
			return
		}
		digits := strings.TrimPrefix(out, "+")
		if len(digits) < 9 || len(digits) > 15 || strings.Trim(digits, "0123456789") != "" {
			t.Fatalf("ParsePhone(%q) accepts %q", in, out)
		}
	})
}
