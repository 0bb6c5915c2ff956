package shareddata

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/internal/slowtest"
)

// This package imports testing (Require skips tests) and must stay out of every shipped
// binary: a program that needs the shared data looks it up itself.
func TestSlowNotLinkedIntoCommands(t *testing.T) {
	slowtest.Skip(t, "go list over every command takes seconds")
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(gobin, "list", "-deps", "-f", "{{.ImportPath}}", "./cmd/...")
	cmd.Dir = root
	// The commands link cgo code (dlib, GL): list them as they are built, also when this
	// test runs with CGO_ENABLED=0 (make check-purego).
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	const self = "github.com/ikd-field/ikd/internal/shareddata"
	for _, p := range strings.Fields(string(out)) {
		if p == self {
			t.Fatalf("%s is linked into a command under cmd/ (go list -deps ./cmd/... lists it)", self)
		}
	}
}
