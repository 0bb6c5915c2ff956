// Package slowtest marks the tests that make test runs once, without the race detector.
//
// build/test.sh runs the suite twice: every test under the race detector with -short, where
// slow tests skip, then only the slow tests (-run '^TestSlow') without it. A slow test that
// were not named TestSlow… would run in neither pass, so Skip fails it, in the race pass
// already.
package slowtest

import (
	"strings"
	"testing"
)

// Prefix starts the name of every test that calls Skip; build/test.sh's slow pass selects
// tests by it.
const Prefix = "TestSlow"

// Skip skips t under -short, saying why the test is slow, and fails it when its name does
// not start with Prefix.
func Skip(t testing.TB, why string) {
	t.Helper()
	if !strings.HasPrefix(t.Name(), Prefix) {
		t.Fatalf("%s is a slow test: name it %s… so that make test's slow pass runs it", t.Name(), Prefix)
	}
	if testing.Short() {
		t.Skip("-short: " + why)
	}
}
