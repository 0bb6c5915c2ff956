package snapshot

import (
	"errors"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/kiosk/safetext"
)

func TestParseLineRefusesUnsafeText(t *testing.T) {
	r := Synthetic(2, 1)
	for _, tt := range []struct {
		name, field, bad string
		class            safetext.Class
	}{
		{"RLO in name", "name", r.Name + "\u202Eabc", safetext.Bidi},
		{"zero width in name", "name", "Si\u200Bti", safetext.Invisible},
		{"NUL in name", "name", "Siti\x00", safetext.Control},
		{"TAB in name", "name", "Siti\tAminah", safetext.Control},
		{"replacement character in name", "name", "Siti \uFFFD", safetext.InvalidUTF8},
		{"LF in birth place", "birth_place", "Bogor\nJakarta", safetext.Control},
		{"BOM in address", "address", "\uFEFFJl. Mawar 1", safetext.Invisible},
		{"soft hyphen in kecamatan", "kecamatan", "Cibi\u00ADnong", safetext.Invisible},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bad := r
			switch tt.field {
			case "name":
				bad.Name = tt.bad
			case "birth_place":
				bad.BirthPlace = tt.bad
			case "address":
				bad.Address = tt.bad
			case "kecamatan":
				bad.Kecamatan = tt.bad
			}
			line, err := EncodeLine(bad)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseLine(line)
			e, ok := errors.AsType[*safetext.Error](err)
			if !ok || e.Class != tt.class || !strings.HasPrefix(err.Error(), tt.field+": character ") {
				t.Fatalf("ParseLine: %v; want a %s error of class %v", err, tt.field, tt.class)
			}
			if err := Validate(bad); err == nil {
				t.Errorf("Validate accepts %+q", tt.bad)
			}
		})
	}
}

// A line whose bytes are not UTF-8 is refused too: encoding/json would have turned the byte
// into U+FFFD without a word.
func TestParseLineRefusesInvalidUTF8(t *testing.T) {
	line, _ := EncodeLine(Synthetic(2, 1))
	line = []byte(strings.Replace(string(line), `"name":"`, "\"name\":\"\xff", 1))
	_, err := ParseLine(line)
	if e, ok := errors.AsType[*safetext.Error](err); !ok || e.Class != safetext.InvalidUTF8 {
		t.Fatalf("ParseLine: %v; want invalid UTF-8", err)
	}
}

func TestParseLineNormalisesToNFC(t *testing.T) {
	nfc, nfd := Synthetic(2, 1), Synthetic(2, 1)
	nfc.Name, nfd.Name = "Désirée Nguyễn", "De\u0301sire\u0301e Nguye\u0302\u0303n"
	nfc.Address, nfd.Address = "Jl. Ñuñez", "Jl. N\u0303un\u0303ez"
	a, _ := EncodeLine(nfc)
	b, _ := EncodeLine(nfd)
	ra, err1 := ParseLine(a)
	rb, err2 := ParseLine(b)
	if err1 != nil || err2 != nil || ra.Name != rb.Name || ra.Address != rb.Address || rb.Name != nfc.Name {
		t.Fatalf("NFC line: %q %q %v; NFD line: %q %q %v", ra.Name, ra.Address, err1, rb.Name, rb.Address, err2)
	}
	if err := Validate(nfd); err == nil || !strings.Contains(err.Error(), "NFC") {
		t.Errorf("Validate of a resident not in NFC: %v", err)
	}
}
