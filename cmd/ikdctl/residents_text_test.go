package main

import (
	"strings"
	"testing"

	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

// `ikdctl residents import` names the file, the line and the character of a name that could
// be spoofed on the review screen.
func TestResidentsImportNamesUnsafeText(t *testing.T) {
	data, secret := initStore(t)
	good := snapshot.Synthetic(9, 1)
	bad := snapshot.Synthetic(9, 2)
	bad.Name = "Siti \u202Ehanima"
	a, _ := snapshot.EncodeLine(good)
	b, _ := snapshot.EncodeLine(bad)
	file := writeFile(t, "rlo.ndjson", string(a)+"\n"+string(b)+"\n")
	code, out, errOut := runStoreCLI(t, "residents", "import", "--data", data, "--secret-file", secret, file)
	if code != 1 || !strings.Contains(out, "rejected 1") ||
		!strings.Contains(errOut, "rlo.ndjson:2: name: character 6 (byte 5): U+202E RIGHT-TO-LEFT OVERRIDE") {
		t.Fatalf("exit %d\noutput:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
