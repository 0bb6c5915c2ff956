// Package shareddata finds, for tests and the demo, the module root and the project's
// development data: face photos, real dlib descriptors and development models, kept beside the
// repository in ../shared (or wherever $IKD_SHARED points) and never copied into it.
package shareddata

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Dir returns $IKD_SHARED, or the "shared" folder beside the module root.
func Dir() (string, error) {
	if dir := os.Getenv("IKD_SHARED"); dir != "" {
		return dir, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "..", "shared"), nil
}

// ModuleRoot returns the directory holding go.mod, found by walking up from the working
// directory (tests run in their package's directory).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("module root (go.mod) not found above the working directory; set IKD_SHARED")
		}
		dir = parent
	}
}

// Require returns the path of rel inside the shared folder, or skips t with a message that
// says how to provide it.
func Require(t testing.TB, rel ...string) string {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		t.Skipf("shared data: %v", err)
	}
	path := filepath.Join(append([]string{dir}, rel...)...)
	if _, err := os.Stat(path); err != nil {
		t.Skip(fmt.Sprintf("shared data absent (%v); set IKD_SHARED to the shared folder to run this test", err))
	}
	return path
}
