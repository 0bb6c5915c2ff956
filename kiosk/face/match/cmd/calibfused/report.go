package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/match"
)

// Normal quantiles of the fit: FMR 1e-3 on the impostor side, FNMR 1% on the genuine side.
const (
	zFMR  = 3.090
	zFNMR = 2.326
)

// fitModern places the modern thresholds: Match where a normal fitted to the impostor
// similarities gives a false-match rate of 1e-3, NoMatch where one fitted to the genuine
// similarities gives a false-non-match rate of 1%.
func fitModern(ps []pair) (kiosk.ModernThresholds, error) {
	var g, i []float64
	for _, p := range ps {
		if p.genuine {
			g = append(g, p.cosine)
		} else {
			i = append(i, p.cosine)
		}
	}
	if len(g) < 3 || len(i) < 3 {
		return kiosk.ModernThresholds{}, fmt.Errorf("too few pairs to fit (%d genuine, %d impostor)", len(g), len(i))
	}
	mi, si := meanSD(i)
	mg, sg := meanSD(g)
	t := kiosk.ModernThresholds{Match: mi + zFMR*si, NoMatch: mg - zFNMR*sg}
	if t.NoMatch > t.Match {
		t.NoMatch = t.Match
	}
	return t, nil
}

func meanSD(v []float64) (float64, float64) {
	var m float64
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	var s float64
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return m, math.Sqrt(s / float64(len(v)-1))
}

// auc is the probability that a genuine pair is more alike than an impostor pair (ties half),
// for a score where larger means more alike.
func auc(ps []pair, score func(pair) float64) float64 {
	var g, i []float64
	for _, p := range ps {
		if p.genuine {
			g = append(g, score(p))
		} else {
			i = append(i, score(p))
		}
	}
	if len(g) == 0 || len(i) == 0 {
		return math.NaN()
	}
	var s float64
	for _, a := range g {
		for _, b := range i {
			switch {
			case a > b:
				s++
			case a == b:
				s += 0.5
			}
		}
	}
	return s / float64(len(g)*len(i))
}

// wilson is the 95% Wilson score interval of k successes in n trials.
func wilson(k, n int) (lo, hi float64) {
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	const z = 1.96
	p, nf := float64(k)/float64(n), float64(n)
	c := (p + z*z/(2*nf)) / (1 + z*z/nf)
	h := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / (1 + z*z/nf)
	return math.Max(0, c-h), math.Min(1, c+h)
}

// bands counts the bands of the genuine and impostor pairs under decide.
type bands struct{ gen, imp map[kiosk.Band]int }

func count(ps []pair, decide func(pair) kiosk.Band) bands {
	b := bands{gen: map[kiosk.Band]int{}, imp: map[kiosk.Band]int{}}
	for _, p := range ps {
		if p.genuine {
			b.gen[decide(p)]++
		} else {
			b.imp[decide(p)]++
		}
	}
	return b
}

func (b bands) add(o bands) {
	for k, v := range o.gen {
		b.gen[k] += v
	}
	for k, v := range o.imp {
		b.imp[k] += v
	}
}

func (b bands) String() string {
	ng := b.gen[kiosk.BandMatch] + b.gen[kiosk.BandUncertain] + b.gen[kiosk.BandNoMatch]
	ni := b.imp[kiosk.BandMatch] + b.imp[kiosk.BandUncertain] + b.imp[kiosk.BandNoMatch]
	fmrLo, fmrHi := wilson(b.imp[kiosk.BandMatch], ni)
	fnm := ng - b.gen[kiosk.BandMatch]
	fnLo, fnHi := wilson(fnm, ng)
	nmLo, nmHi := wilson(b.gen[kiosk.BandNoMatch], ng)
	return fmt.Sprintf("genuine %d: match %d, uncertain %d, no match %d | impostor %d: match %d, uncertain %d, no match %d\n"+
		"      FMR (impostor in match) %d/%d [95%% CI %.4f–%.4f]; genuine not in match %d/%d [%.2f–%.2f]; genuine in no match %d/%d [%.2f–%.2f]",
		ng, b.gen[kiosk.BandMatch], b.gen[kiosk.BandUncertain], b.gen[kiosk.BandNoMatch],
		ni, b.imp[kiosk.BandMatch], b.imp[kiosk.BandUncertain], b.imp[kiosk.BandNoMatch],
		b.imp[kiosk.BandMatch], ni, fmrLo, fmrHi, fnm, ng, fnLo, fnHi, b.gen[kiosk.BandNoMatch], ng, nmLo, nmHi)
}

// deciders are the rules compared: dlib alone (the shipped calibration for the converted
// model), the modern model alone, and DecideFace with both (the kiosk's rule).
func deciders(dlibTh kiosk.FaceThresholds, mt kiosk.ModernThresholds) []struct {
	name   string
	decide func(pair) kiosk.Band
} {
	th := dlibTh
	th.Modern = mt
	th.Modern.AllowUnverified = true
	modern := func(p pair) *kiosk.ModernEvidence {
		return &kiosk.ModernEvidence{Similarity: p.cosine, Model: kiosk.ModelPublished, Licence: kiosk.LicenceUnverified}
	}
	return []struct {
		name   string
		decide func(pair) kiosk.Band
	}{
		{"dlib alone", func(p pair) kiosk.Band {
			return kiosk.DecideFace(dlibTh, "", kiosk.FaceEvidence{Score: p.dlibScore, Distance: p.raw, Model: kiosk.ModelConverted}).Band
		}},
		{"modern alone", func(p pair) kiosk.Band {
			return kiosk.DecideFace(kiosk.FaceThresholds{Match: math.Inf(-1), NoMatch: math.Inf(1), Modern: th.Modern}, "",
				kiosk.FaceEvidence{Score: math.NaN(), Model: kiosk.ModelStandIn, Modern: modern(p)}).Band
		}},
		{"DecideFace, both", func(p pair) kiosk.Band {
			return kiosk.DecideFace(th, "", kiosk.FaceEvidence{Score: p.dlibScore, Distance: p.raw, Model: kiosk.ModelConverted, Modern: modern(p)}).Band
		}},
	}
}

func report(w io.Writer, samples []sample) error {
	c, err := match.Default()
	if err != nil {
		return err
	}
	dlibTh := c.ThresholdsFor(kiosk.ModelConverted)
	ps, err := pairs(c, samples)
	if err != nil {
		return err
	}
	bySet := map[string][]pair{}
	var setNames []string
	for _, p := range ps {
		if _, ok := bySet[p.set]; !ok {
			setNames = append(setNames, p.set)
		}
		bySet[p.set] = append(bySet[p.set], p)
	}
	fmt.Fprintf(w, "shipped thresholds: dlib (converted) %+v; modern (fr_feature.onnx) match ≥ %.2f, no match < %.2f\n\n",
		dlibTh, face.FRFeatureThresholds.Match, face.FRFeatureThresholds.NoMatch)
	for _, name := range setNames {
		sp := bySet[name]
		fmt.Fprintf(w, "%s: AUC dlib calibrated %.3f, dlib raw %.3f, modern %.3f\n", name,
			auc(sp, func(p pair) float64 { return -p.dlibScore }), auc(sp, func(p pair) float64 { return -p.raw }),
			auc(sp, func(p pair) float64 { return p.cosine }))
		if fit, err := fitModern(sp); err == nil {
			fmt.Fprintf(w, "  modern thresholds this set alone would fit: match ≥ %.3f, no match < %.3f\n", fit.Match, fit.NoMatch)
		}
		for _, d := range deciders(dlibTh, face.FRFeatureThresholds) {
			fmt.Fprintf(w, "  %-17s %s\n", d.name, count(sp, d.decide))
		}
	}
	// People-disjoint: fit the modern thresholds on half the people of the East Asian set and
	// count the other half's pairs, both ways round.
	sp := bySet["shared photos"]
	if len(sp) == 0 {
		return nil
	}
	var people []string
	for _, p := range sp {
		for _, who := range []string{p.a, p.b} {
			if !slices.Contains(people, who) {
				people = append(people, who)
			}
		}
	}
	sort.Strings(people)
	fold := func(who string) int { return slices.Index(people, who) % 2 }
	fmt.Fprintf(w, "\nshared photos, people-disjoint 2-fold (%d people; fit on one half, count the other):\n", len(people))
	total := map[string]bands{}
	for k := range 2 {
		var fitOn, test []pair
		for _, p := range sp {
			switch {
			case fold(p.a) == k && fold(p.b) == k:
				fitOn = append(fitOn, p)
			case fold(p.a) != k && fold(p.b) != k:
				test = append(test, p)
			}
		}
		mt, err := fitModern(fitOn)
		if err != nil {
			return fmt.Errorf("fold %d: %w", k, err)
		}
		fmt.Fprintf(w, "  fold %d: fitted match ≥ %.3f, no match < %.3f\n", k, mt.Match, mt.NoMatch)
		for _, d := range deciders(dlibTh, mt) {
			b := count(test, d.decide)
			if t, ok := total[d.name]; ok {
				t.add(b)
			} else {
				total[d.name] = b
			}
		}
	}
	for _, d := range deciders(dlibTh, face.FRFeatureThresholds) {
		fmt.Fprintf(w, "  %-17s %s\n", d.name, total[d.name])
	}
	return nil
}
