package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/internal/slowtest"
	"github.com/ikd-field/ikd/kiosk/face/facetest"
)

func TestSlowCalibport(t *testing.T) {
	slowtest.Skip(t, "long numeric run: build/test.sh runs it in the pass without -race")
	in := facetest.WriteDescriptorFile(t, 20, 5)
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
		wantOut []string
	}{
		{"Table", []string{"-descriptors", in, "-own", "0,0.03", "-common", "0,0.02"},
			"", []string{"0.000 0.000 1", "0.030 0.020 1", "derived for the measured port error"}},
		{"NoDescriptors", nil, "-descriptors", nil},
		{"UnpairedLengths", []string{"-descriptors", in, "-own", "0,0.03", "-common", "0"}, "-own has 2 entries", nil},
		{"NegativeLength", []string{"-descriptors", in, "-own", "-0.1", "-common", "0"}, "≥ 0", nil},
		{"NoSeeds", []string{"-descriptors", in, "-seeds", "0"}, "-seeds", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(tc.args, &stdout, &stderr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, stdout.String())
				}
			}
		})
	}
}
