package token

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/internal/shareddata"

	"github.com/ikd-field/ikd/kiosk"
)

var update = flag.Bool("update", false, "rewrite the golden vectors in testdata/token")

// goldenPath returns the path of a golden vector in <module root>/testdata/token.
func goldenPath(t testing.TB, name string) string {
	t.Helper()
	root, err := shareddata.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "testdata", "token", name)
}

// matchGolden compares text with the golden file name (rewriting it first under -update) and
// fails with what changed; it returns the file's text.
func matchGolden(t *testing.T, name, text, what string) string {
	t.Helper()
	path := goldenPath(t, name)
	if *update {
		if err := os.WriteFile(path, []byte(text+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	want := strings.TrimSuffix(string(b), "\n")
	if text != want {
		t.Fatalf("%s.\ngot  %s\nwant %s", what, text, want)
	}
	return want
}

// The golden vector: key testKey("registry 2026-11") (seed SHA-256("ikd test key registry
// 2026-11")), key id "reg-2026-11", typicalClaims(). Ed25519 signatures are deterministic, so
// the text is exact. Regenerate with: go test ./kiosk/token -run Golden -update
const goldenFile = "v1-typical.txt"

func TestGoldenSign(t *testing.T) {
	text, err := mustSigner(kid, regKey).Sign(typicalClaims())
	if err != nil {
		t.Fatal(err)
	}
	matchGolden(t, goldenFile, text, "token text changed; the wire format is frozen for IKD1")
}

func TestGoldenVerify(t *testing.T) {
	b, err := os.ReadFile(goldenPath(t, goldenFile))
	if err != nil {
		t.Fatal(err)
	}
	got, err := NewVerifier(trusted()).Verify(context.Background(), string(b), issuedAt.Add(5*time.Minute))
	if err != nil {
		t.Fatalf("golden token does not verify: %v", err)
	}
	c := typicalClaims()
	want := kiosk.Token{KeyID: kid, NIK: c.NIK, RegistrationID: c.RegistrationID, MaskedEmail: c.MaskedEmail,
		MaskedPhone: c.MaskedPhone, IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt}
	if got != want {
		t.Fatalf("golden token decodes to %+v\nwant %+v", got, want)
	}
}
