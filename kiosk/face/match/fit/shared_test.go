package fit

import (
	"sync"
	"testing"

	"github.com/ikd-field/ikd/internal/shareddata"
)

// sharedDescriptorFile is the shared real descriptor file, or skips.
func sharedDescriptorFile(t testing.TB) string {
	t.Helper()
	return shareddata.Require(t, "testdata", "descriptors", "idols-dev.json")
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
