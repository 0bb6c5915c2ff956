package safetext_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/ikd-field/ikd/kiosk/safetext"
)

func TestCleanRefuses(t *testing.T) {
	for _, tt := range []struct {
		name  string
		in    string
		class safetext.Class
		r     rune
		pos   int
	}{
		{"invalid byte", "Siti\xffAminah", safetext.InvalidUTF8, utf8.RuneError, 5},
		{"truncated sequence", "Sit\xc3", safetext.InvalidUTF8, utf8.RuneError, 4},
		{"replacement character", "Siti A\uFFFDminah", safetext.InvalidUTF8, 0xFFFD, 7},
		{"NUL", "Siti\x00", safetext.Control, 0, 5},
		{"CR", "Siti\rAminah", safetext.Control, '\r', 5},
		{"LF", "Siti\nAminah", safetext.Control, '\n', 5},
		{"TAB", "Siti\tAminah", safetext.Control, '\t', 5},
		{"DEL", "Siti\x7f", safetext.Control, 0x7F, 5},
		{"C1 next line", "Siti\u0085Aminah", safetext.Control, 0x85, 5},
		{"line separator", "Siti\u2028Aminah", safetext.Control, 0x2028, 5},
		{"paragraph separator", "Siti\u2029Aminah", safetext.Control, 0x2029, 5},
		{"RLO", "Siti \u202Ehanima", safetext.Bidi, 0x202E, 6},
		{"LRE", "\u202ASiti", safetext.Bidi, 0x202A, 1},
		{"RLE", "Siti\u202B", safetext.Bidi, 0x202B, 5},
		{"PDF", "Siti\u202C", safetext.Bidi, 0x202C, 5},
		{"LRO", "Siti\u202D", safetext.Bidi, 0x202D, 5},
		{"LRI", "Siti\u2066", safetext.Bidi, 0x2066, 5},
		{"RLI", "Siti\u2067", safetext.Bidi, 0x2067, 5},
		{"FSI", "Siti\u2068", safetext.Bidi, 0x2068, 5},
		{"PDI", "Siti\u2069", safetext.Bidi, 0x2069, 5},
		{"LRM", "Siti\u200E", safetext.Bidi, 0x200E, 5},
		{"RLM", "Siti\u200F", safetext.Bidi, 0x200F, 5},
		{"ALM", "Siti\u061C", safetext.Bidi, 0x061C, 5},
		{"zero width space", "Si\u200Bti", safetext.Invisible, 0x200B, 3},
		{"ZWNJ", "Si\u200Cti", safetext.Invisible, 0x200C, 3},
		{"ZWJ", "Si\u200Dti", safetext.Invisible, 0x200D, 3},
		{"word joiner", "Si\u2060ti", safetext.Invisible, 0x2060, 3},
		{"BOM", "\uFEFFSiti", safetext.Invisible, 0xFEFF, 1},
		{"Mongolian vowel separator", "Si\u180Eti", safetext.Invisible, 0x180E, 3},
		{"soft hyphen", "Ami\u00ADnah", safetext.Invisible, 0xAD, 4},
		{"combining grapheme joiner", "Siti\u034F", safetext.Invisible, 0x034F, 5},
		{"Hangul filler", "Siti\u3164", safetext.Invisible, 0x3164, 5},
		{"variation selector", "Siti\uFE0F", safetext.Invisible, 0xFE0F, 5},
		{"tag character", "Siti\U000E0041", safetext.Invisible, 0xE0041, 5},
		{"leading mark", "\u0301Siti", safetext.Marks, 0x0301, 1},
		{"stacked marks", "Sit" + "i" + strings.Repeat("\u0301", safetext.MaxMarks+1), safetext.Marks, 0x0301, 5 + safetext.MaxMarks},
		{"private use", "Siti\uE000", safetext.Unassigned, 0xE000, 5},
		{"noncharacter", "Siti\uFFFE", safetext.Unassigned, 0xFFFE, 5},
		{"position counts characters", "Désirée\u202E", safetext.Bidi, 0x202E, 8},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := safetext.Clean(tt.in)
			e, ok := errors.AsType[*safetext.Error](err)
			if !ok {
				t.Fatalf("Clean(%+q) = %+q, %v; want a *safetext.Error", tt.in, got, err)
			}
			if e.Class != tt.class || e.Rune != tt.r || e.Pos != tt.pos {
				t.Errorf("Clean(%+q): class %v rune %U pos %d; want %v %U %d", tt.in, e.Class, e.Rune, e.Pos, tt.class, tt.r, tt.pos)
			}
			if want := strings.IndexRune(tt.in, tt.r); tt.r != utf8.RuneError && e.Offset != want && tt.class != safetext.Marks {
				t.Errorf("offset %d, want %d", e.Offset, want)
			}
			if msg := err.Error(); !strings.Contains(msg, "character ") {
				t.Errorf("message %q does not say where", msg)
			}
			if safetext.IsClean(tt.in) {
				t.Errorf("IsClean(%+q) = true", tt.in)
			}
		})
	}
}

func TestErrorMessageNamesTheCharacter(t *testing.T) {
	for in, want := range map[string]string{
		"Siti \u202Eabc": "character 6 (byte 5): U+202E RIGHT-TO-LEFT OVERRIDE is a bidirectional control",
		"ab\x00":         "character 3 (byte 2): U+0000 NULL is a control character",
		"ab\xfe":         "character 3 (byte 2): byte 0xFE is invalid UTF-8",
		"a\u200Bb":       "character 2 (byte 1): U+200B ZERO WIDTH SPACE is an invisible character",
	} {
		if err := safetext.Check(in); err == nil || err.Error() != want {
			t.Errorf("Check(%+q) = %v, want %q", in, err, want)
		}
	}
}

func TestCleanAccepts(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"ASCII", "Siti Aminah", "Siti Aminah"},
		{"punctuation of addresses", "Jl. Mawar No. 1, RT 002/RW 005 (belakang masjid) #3", "Jl. Mawar No. 1, RT 002/RW 005 (belakang masjid) #3"},
		{"apostrophe and hyphen", "Ma'ruf Al-Amin", "Ma'ruf Al-Amin"},
		{"NFC stays", "Désirée", "Désirée"},
		{"NFD is composed", "De\u0301sire\u0301e", "Désirée"},
		{"Vietnamese with two marks", "Nguye\u0323\u0302n", "Nguyện"},
		{"Arabic", "محمد", "محمد"},
		{"Javanese script", "ꦱꦶꦠꦶ", "ꦱꦶꦠꦶ"},
		{"Chinese", "林美玲", "林美玲"},
		{"no-break space", "Siti\u00A0Aminah", "Siti\u00A0Aminah"},
		{"empty", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := safetext.Clean(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("Clean(%+q) = %+q, %v; want %+q", tt.in, got, err, tt.want)
			}
			if !safetext.IsClean(got) {
				t.Errorf("IsClean(%+q) = false", got)
			}
		})
	}
}

// The same name typed precomposed or decomposed is stored as the same bytes.
func TestCleanNFCAndNFDAgree(t *testing.T) {
	for _, name := range []string{"Désirée Ñúñez", "Nguyễn Thị Ánh", "Çağlar Öztürk", "Ångström"} {
		nfc, err1 := safetext.Clean(norm.NFC.String(name))
		nfd, err2 := safetext.Clean(norm.NFD.String(name))
		if err1 != nil || err2 != nil || nfc != nfd {
			t.Errorf("%s: NFC input gives %+q (%v), NFD input %+q (%v)", name, nfc, err1, nfd, err2)
		}
		if norm.NFD.String(name) == nfc {
			t.Errorf("%s: the test's NFD form is already NFC", name)
		}
	}
	if safetext.IsClean(norm.NFD.String("Désirée")) {
		t.Error("IsClean accepts NFD text")
	}
}
