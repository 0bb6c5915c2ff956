package fit

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ikd-field/ikd/kiosk/face/match"
)

// nuisanceDataset: people whose faces vary mostly along a few shared "nuisance" directions
// (think lighting), which within-class whitening should learn to discount.
func nuisanceDataset(people, faces int, seed uint64) *Dataset {
	rng := rand.New(rand.NewPCG(seed, 9))
	var nuisance [4]match.Descriptor
	for k := range nuisance {
		for i := range nuisance[k] {
			nuisance[k][i] = float32(rng.NormFloat64())
		}
	}
	ds := &Dataset{}
	for p := range people {
		ds.People = append(ds.People, Person{ID: fmt.Sprint(p)})
		var centre [match.Dim]float64
		for i := range centre {
			centre[i] = 0.1 * rng.NormFloat64()
		}
		for range faces {
			var d match.Descriptor
			for i := range d {
				d[i] = float32(centre[i] + 0.02*rng.NormFloat64())
			}
			for k := range nuisance {
				a := 0.1 * rng.NormFloat64()
				for i := range d {
					d[i] += float32(a) * nuisance[k][i]
				}
			}
			ds.Faces = append(ds.Faces, Face{Person: p, Descriptor: d})
		}
	}
	return ds
}

func TestCrossValidate(t *testing.T) {
	ds := nuisanceDataset(30, 4, 1)
	cv := CVOptions{Folds: 5, Repeats: 2, Seed: 3}
	t.Run("EveryPersonHeldOutOncePerRepeat", func(t *testing.T) {
		res, err := CrossValidate(ds, Spec{}, cv)
		if err != nil {
			t.Fatal(err)
		}
		// Genuine pairs are scored only when their person is held out: 2 × 30 × C(4,2).
		if got := len(res.Pooled.Genuine); got != 2*30*6 {
			t.Fatalf("genuine pairs %d, want %d", got, 2*30*6)
		}
		// Impostor pairs only within a held-out group of 6 people: 2 × 5 × C(24,2) − genuine.
		if got, want := len(res.Pooled.Impostor), 2*5*(24*23/2-6*6); got != want {
			t.Fatalf("impostor pairs %d, want %d", got, want)
		}
		people := 0
		for _, f := range res.Folds {
			people += f.People
		}
		if people != 2*30 {
			t.Fatalf("held-out people %d over all folds, want %d", people, 2*30)
		}
	})
	t.Run("WhiteningDiscountsNuisance", func(t *testing.T) {
		plain, err := CrossValidate(ds, Spec{}, cv)
		if err != nil {
			t.Fatal(err)
		}
		white, err := CrossValidate(ds, ShippedSpec, cv)
		if err != nil {
			t.Fatal(err)
		}
		fp := plain.Pooled.FNMR(plain.Pooled.ThresholdForFMR(0.01))
		fw := white.Pooled.FNMR(white.Pooled.ThresholdForFMR(0.01))
		if fw >= fp {
			t.Fatalf("FNMR at FMR 1%%: whitened %.3f, plain %.3f", fw, fp)
		}
	})
	t.Run("FusedFramesHelp", func(t *testing.T) {
		// Without whitening the nuisance leaves errors for fusion to remove.
		one, _ := CrossValidate(ds, Spec{}, cv)
		fused := Spec{Frames: 3}
		three, err := CrossValidate(ds, fused, cv)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := one.Pooled.FNMR(one.Pooled.ThresholdForFMR(0.01)), three.Pooled.FNMR(three.Pooled.ThresholdForFMR(0.01)); a == 0 || b >= a {
			t.Fatalf("FNMR at FMR 1%%: 3 frames %.3f, 1 frame %.3f", b, a)
		}
	})
	t.Run("TooFewPeople", func(t *testing.T) {
		if _, err := CrossValidate(nuisanceDataset(5, 3, 1), Spec{}, cv); err == nil {
			t.Fatal("5 people accepted for 5 folds")
		}
	})
	t.Run("BadOptions", func(t *testing.T) {
		if _, err := CrossValidate(ds, Spec{}, CVOptions{Folds: 1, Repeats: 1}); err == nil {
			t.Fatal("1 fold accepted")
		}
	})
}

func TestFitErrors(t *testing.T) {
	t.Run("OnePerson", func(t *testing.T) {
		ds := nuisanceDataset(1, 5, 1)
		if _, err := Fit(ds, DefaultFitConfig); !errors.Is(err, ErrTooFewPeople) {
			t.Fatalf("error %v, want ErrTooFewPeople", err)
		}
	})
	t.Run("BadShrink", func(t *testing.T) {
		cfg := DefaultFitConfig
		cfg.Spec.Fit.Shrink = 1
		if _, err := Fit(nuisanceDataset(10, 3, 1), cfg); err == nil {
			t.Fatal("shrink 1 accepted")
		}
	})
	t.Run("SingularWithoutShrink", func(t *testing.T) {
		// 10 people × 3 faces give 20 within-class degrees of freedom for 128 dimensions.
		cfg := DefaultFitConfig
		cfg.Spec.Fit.Shrink = 0
		if _, err := Fit(nuisanceDataset(10, 3, 1), cfg); err == nil {
			t.Fatal("a singular within-class covariance was whitened")
		}
	})
}
