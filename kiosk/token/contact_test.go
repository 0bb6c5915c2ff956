package token

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

func TestParseEmail(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"Typical", "budi@gmail.com", "budi@gmail.com"},
		{"SurroundingSpaces", "  siti@mail.id ", "siti@mail.id"},
		{"PlusAndDots", "budi.santoso+ikd@yahoo.co.id", "budi.santoso+ikd@yahoo.co.id"},
		{"NonASCIILocal", "ñandú@mail.id", "ñandú@mail.id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := ParseEmail(tt.in); err != nil || got != tt.want {
				t.Fatalf("ParseEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseEmailRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"CRLFHeaderInjection": "budi@gmail.com\r\nBcc: all@example.id",
		"TrailingCRLF":        "budi@gmail.com\r\n",
		"LF":                  "budi@gmail.com\n",
		"Comma":               "budi@gmail.com,siti@mail.id",
		"CommaSpace":          "budi@gmail.com, siti@mail.id",
		"DisplayName":         "Budi <budi@gmail.com>",
		"QuotedDisplayName":   `"Budi" <budi@gmail.com>`,
		"AngleBrackets":       "<budi@gmail.com>",
		"Comment":             "budi@gmail.com (Budi)",
		"QuotedLocal":         `"a b"@mail.id`,
		"GroupSyntax":         "teman: budi@gmail.com;",
		"IPLiteral":           "budi@[10.0.0.1]",
		"NoDomainDot":         "budi@localhost",
		"NoAt":                "budi.gmail.com",
		"Empty":               "",
		"InnerSpace":          "bu di@gmail.com",
		"RLO":                 "budi\u202E@gmail.com",
		"ZeroWidth":           "bu\u200Bdi@gmail.com",
		"NUL":                 "budi\x00@gmail.com",
		"InvalidUTF8":         "bu\xffdi@gmail.com",
		"TooLong":             strings.Repeat("a", 64) + "@" + strings.Repeat("b", 190) + ".id",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseEmail(in)
			if !errors.Is(err, ErrInvalidEmail) {
				t.Fatalf("ParseEmail(%q) = %q, %v; want ErrInvalidEmail", in, got, err)
			}
		})
	}
}

func TestParsePhone(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"Typical", "081234567789", "081234567789"},
		{"International", "+6281234567789", "+6281234567789"},
		{"Separators", "(0812) 3456-7789", "081234567789"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := ParsePhone(tt.in); err != nil || got != tt.want {
				t.Fatalf("ParsePhone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
	for name, in := range map[string]string{
		"CRLF":          "081234567789\r\n",
		"Letters":       "0812abc67789",
		"PlusInside":    "0812+34567789",
		"TwoPluses":     "++6281234567789",
		"OnlyPlus":      "+",
		"Empty":         "",
		"ArabicDigits":  "٠٨١٢٣٤٥٦٧٧٨٩",
		"TooShort":      "08123456",
		"TooLong":       "0812345678901234",
		"ZeroWidth":     "0812\u200B34567789",
		"ForeignNumber": "+15551234567",
	} {
		t.Run("Refuses"+name, func(t *testing.T) {
			if got, err := ParsePhone(in); !errors.Is(err, ErrInvalidPhone) {
				t.Fatalf("ParsePhone(%q) = %q, %v; want ErrInvalidPhone", in, got, err)
			}
		})
	}
}

func TestNewClaimsRefusesContacts(t *testing.T) {
	nik := kiosk.NIK("3201014501900001")
	now := time.Unix(1_800_000_000, 0)
	if _, err := NewClaims(nik, "r1", "budi@gmail.com\r\nBcc: x@y.id", "081234567789", now, time.Minute); !errors.Is(err, ErrInvalidEmail) {
		t.Errorf("CRLF e-mail: %v", err)
	}
	if _, err := NewClaims(nik, "r1", "Budi <budi@gmail.com>", "081234567789", now, time.Minute); !errors.Is(err, ErrInvalidEmail) {
		t.Errorf("display name: %v", err)
	}
	if _, err := NewClaims(nik, "r1", "budi@gmail.com", "0812 3456 7789\n", now, time.Minute); !errors.Is(err, ErrInvalidPhone) {
		t.Errorf("phone with LF: %v", err)
	}
	c, err := NewClaims(nik, "r1", " budi@gmail.com ", "+62 812-3456-7789", now, time.Minute)
	if err != nil || c.MaskedEmail != "b***i@gmail.com" || c.MaskedPhone != "0812****789" {
		t.Errorf("good contacts: %+v %v", c, err)
	}
}
