package match

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// sharedDescriptorFile is ../shared/testdata/descriptors/idols-dev.json beside the module
// root, or under $IKD_SHARED.
func sharedDescriptorFile(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("IKD_SHARED")
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			t.Skipf("shared data: %v", err)
		}
		dir = filepath.Join(root, "..", "shared")
	}
	path := filepath.Join(dir, "testdata", "descriptors", "idols-dev.json")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("shared descriptor file absent (%v); set IKD_SHARED to the shared folder to run this test", err)
	}
	return path
}

func moduleRoot() (string, error) {
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
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

var devSet struct {
	once sync.Once
	ds   *Dataset
	err  error
}

// sharedDataset loads idols-dev.json once per test binary.
func sharedDataset(t testing.TB) *Dataset {
	t.Helper()
	path := sharedDescriptorFile(t)
	devSet.once.Do(func() { devSet.ds, devSet.err = LoadDataset(path) })
	if devSet.err != nil {
		t.Fatal(devSet.err)
	}
	return devSet.ds
}
