package token

import "testing"

func TestMaskEmail(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"Typical", "budi@gmail.com", "b***i@gmail.com"},
		{"LongLocalPartSameMask", "budi.santoso.1987@yahoo.co.id", "b***7@yahoo.co.id"},
		{"TwoCharacterLocal", "bu@gmail.com", "b***@gmail.com"},
		{"OneCharacterLocal", "b@gmail.com", "b***@gmail.com"},
		{"DomainLowercased", "Budi@GMail.COM", "B***i@gmail.com"},
		{"SurroundingSpaces", "  siti@mail.id \n", "s***i@mail.id"},
		{"NonASCIILocal", "ñandú@mail.id", "ñ***ú@mail.id"},
		{"QuotedLocalWithAt", `"a@b"@mail.id`, `"***"@mail.id`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MaskEmail(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("MaskEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestMaskEmailRejects(t *testing.T) {
	for name, in := range map[string]string{
		"NoAt":           "budi.gmail.com",
		"NoLocal":        "@gmail.com",
		"NoDomainDot":    "budi@localhost",
		"EmptyDomain":    "budi@",
		"DomainDotFirst": "budi@.com",
		"DomainDotLast":  "budi@gmail.",
		"Empty":          "",
		"InvalidUTF8":    "\xff@mail.id",
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := MaskEmail(in); err == nil {
				t.Fatalf("MaskEmail(%q) = %q, want an error", in, got)
			}
		})
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"Typical", "081234567789", "0812****789"},
		{"International", "+6281234567789", "0812****789"},
		{"WithSeparators", "0812-3456-7789", "0812****789"},
		{"WithSpacesAndParens", "(0812) 3456 7789", "0812****789"},
		{"ShortestAccepted", "081234567", "0812****567"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MaskPhone(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("MaskPhone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestMaskPhoneRejects(t *testing.T) {
	for name, in := range map[string]string{
		"TooShort":      "08123456",
		"TooLong":       "0812345678901234",
		"Letters":       "0812abc67789",
		"Empty":         "",
		"ForeignNumber": "+1 555 123 4567",
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := MaskPhone(in); err == nil {
				t.Fatalf("MaskPhone(%q) = %q, want an error", in, got)
			}
		})
	}
}
