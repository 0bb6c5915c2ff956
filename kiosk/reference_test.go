package kiosk

import (
	"strings"
	"testing"
)

func TestShortRef(t *testing.T) {
	// The expected values were computed independently (Python hashlib); they are fixed: the receipt, the window and the registry's e-mail must
	// keep agreeing across releases, so a change of the derivation has to fail here.
	cases := []struct{ id, want string }{
		{"", "WERC-8GMR"},
		{"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "7FDK-SGSA"},
	}
	for _, c := range cases {
		got := ShortRef(c.id)
		if got != c.want {
			t.Errorf("ShortRef(%q) = %q, want %q", c.id, got, c.want)
		}
	}
	seen := map[string]string{}
	for i := 0; i < 2000; i++ {
		id := "0190a1b2-c3d4-7e5f-8a9b-" + strings.Repeat("0", 8) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
		ref := ShortRef(id)
		if len(ref) != 9 || ref[4] != '-' || strings.ContainsAny(ref, "ILOU") {
			t.Fatalf("ShortRef(%q) = %q: want XXXX-XXXX in Crockford base32", id, ref)
		}
		if prev, ok := seen[ref]; ok {
			t.Fatalf("ShortRef collision between %q and %q: %s", prev, id, ref)
		}
		seen[ref] = id
	}
}
