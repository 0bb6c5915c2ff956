package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/ikd-field/ikd/kiosk/face/liveness/pad"
)

// report prints, per kind, how many frames reached the PAD, the mean softmax per class, and
// the error rates at the default threshold and at the one bounded by maxBPCER.
func report(w io.Writer, results []result, class int, maxBPCER float64) error {
	scores := map[string][]float64{}
	for _, kind := range kinds {
		n, det := 0, 0
		var mean []float64
		for _, r := range results {
			if r.kind != kind {
				continue
			}
			n++
			if !r.detected {
				continue
			}
			det++
			if mean == nil {
				mean = make([]float64, len(r.probs))
			}
			for i, p := range r.probs {
				mean[i] += p
			}
			scores[kind] = append(scores[kind], r.probs[class])
		}
		parts := make([]string, len(mean))
		for i := range mean {
			parts[i] = fmt.Sprintf("%.3f", mean[i]/float64(det))
		}
		fmt.Fprintf(w, "%-13s frames %d, face found in %d; mean softmax [%s]\n", kind, n, det, strings.Join(parts, " "))
	}
	bona := scores["bona fide"]
	if len(bona) == 0 {
		return fmt.Errorf("no bona fide frame reached the model")
	}
	chosen, err := pad.ThresholdForBPCER(bona, maxBPCER)
	if err != nil {
		return err
	}
	for _, op := range []struct {
		name string
		t    float64
	}{
		{"default threshold", defaultThreshold},
		{fmt.Sprintf("threshold for BPCER <= %.0f%% (chosen on these frames)", 100*maxBPCER), chosen},
	} {
		fmt.Fprintf(w, "\n%s: score[%d] >= %.4f is bona fide\n", op.name, class, op.t)
		fmt.Fprintf(w, "  BPCER                %s\n", pad.BPCER(bona, op.t))
		for _, kind := range kinds[1:] {
			fmt.Fprintf(w, "  APCER %-14s %s\n", kind, pad.APCER(scores[kind], op.t))
		}
	}
	return nil
}
