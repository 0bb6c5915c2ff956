package safetext_test

import (
	"errors"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/ikd-field/ikd/kiosk/safetext"
)

// FuzzClean: Clean never panics; what it accepts is valid NFC UTF-8 that it accepts again
// unchanged; what it refuses is named at a position inside the input.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"Siti Aminah", "De\u0301sire\u0301e", "a\u202Eb", "\xff", "a\x00b",
		"\u0301", "e\u0301\u0302\u0303\u0304\u0305", "\uFEFF", "ꦱꦶꦠꦶ", "\u1100\u1161\u11A8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := safetext.Clean(s)
		if err != nil {
			e, ok := errors.AsType[*safetext.Error](err)
			if !ok {
				t.Fatalf("Clean(%+q): %T %v, want *safetext.Error", s, err, err)
			}
			if e.Offset < 0 || e.Offset >= len(s) || e.Pos < 1 || e.Pos > len(s) {
				t.Fatalf("Clean(%+q): position %d offset %d outside the input", s, e.Pos, e.Offset)
			}
			return
		}
		if !utf8.ValidString(out) || !norm.NFC.IsNormalString(out) {
			t.Fatalf("Clean(%+q) = %+q: not valid NFC", s, out)
		}
		again, err := safetext.Clean(out)
		if err != nil || again != out {
			t.Fatalf("Clean(Clean(%+q)) = %+q, %v; want %+q", s, again, err, out)
		}
		if !safetext.IsClean(out) {
			t.Fatalf("IsClean(Clean(%+q)) = false", s)
		}
	})
}
