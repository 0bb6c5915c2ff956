package registry_test

import (
	"testing"

	"github.com/ikd-field/ikd/sync/registry"
)

func TestSplitNIK(t *testing.T) {
	for _, c := range []struct{ in, region, nik string }{
		{"3201234501900001", "320123", "3201234501900001"},
		{registry.RegionalNIK("320123", "ab12"), "320123", "ab12"},
		{registry.RegionalNIK("", "ab12"), "", "ab12"},
		{registry.RegionalNIK("320123", ""), "", ""},
		{"", "", ""},
		{"n1", "", "n1"},
	} {
		region, nik := registry.SplitNIK(c.in)
		if region != c.region || nik != c.nik {
			t.Errorf("SplitNIK(%q) = %q, %q; want %q, %q", c.in, region, nik, c.region, c.nik)
		}
	}
}
