package snapshot

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

// Synthetic returns the i-th resident of a reproducible synthetic population (for
// benchmarks and tests): a valid NIK whose sex and birth date agree with the fields, and a
// random unit-length descriptor. Distinct i below 9999×28×12×60 give distinct NIKs.
func Synthetic(seed uint64, i int) kiosk.Resident {
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	serial := i%9999 + 1
	rest := i / 9999
	day, month, year := rest%28+1, (rest/28)%12+1, 1940+(rest/(28*12))%60
	sex := kiosk.Male
	nikDay := day
	if i%2 == 1 {
		sex, nikDay = kiosk.Female, day+40
	}
	nik := kiosk.NIK(fmt.Sprintf("320101%02d%02d%02d%04d", nikDay, month, year%100, serial))
	var d kiosk.Descriptor
	randomUnit(rng, d[:])
	return kiosk.Resident{
		NIK: nik, Name: fmt.Sprintf("Warga Sintetis %d", i), BirthPlace: "Bogor",
		BirthDate: time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), Sex: sex,
		Address:   fmt.Sprintf("Jl. Contoh No. %d, RT %02d RW %02d", i%200+1, i%20+1, i%10+1),
		Kecamatan: "Cibinong", Status: kiosk.ResidentActive, References: []kiosk.Descriptor{d},
	}
}

// SyntheticTemplate is a random unit template of engine with dims values for the i-th
// resident of the synthetic population (seed as Synthetic's), as a registry that described
// the resident's photo would send.
func SyntheticTemplate(seed uint64, i int, engine string, dims int) (kiosk.Template, error) {
	v := make([]float32, dims)
	randomUnit(rand.New(rand.NewPCG(seed, uint64(i)+1<<63)), v)
	return kiosk.NewTemplate(engine, v)
}

// randomUnit fills v with a random direction: normal values scaled to unit length.
func randomUnit(rng *rand.Rand, v []float32) {
	var norm float64
	for j := range v {
		v[j] = float32(rng.NormFloat64())
		norm += float64(v[j]) * float64(v[j])
	}
	for j := range v {
		v[j] /= float32(math.Sqrt(norm))
	}
}

// WriteSynthetic writes residents 0..n-1 of the synthetic population as import lines.
func WriteSynthetic(w io.Writer, seed uint64, n int) error {
	bw := bufio.NewWriter(w)
	for i := range n {
		line, err := EncodeLine(Synthetic(seed, i))
		if err != nil {
			return err
		}
		bw.Write(line)
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
	}
	return bw.Flush()
}
