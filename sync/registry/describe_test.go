package registry_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
)

// fakeDescriber describes a photo by its bytes: "face:<x>" gives descriptor and template
// values x, anything else has no face. It counts its calls, which may come at once.
type fakeDescriber struct{ calls atomic.Int32 }

const fakeEngine = "arcface112:fake"

func (f *fakeDescriber) PhotoReferences(_ context.Context, photo []byte) (kiosk.Descriptor, []kiosk.Template, error) {
	f.calls.Add(1)
	var d kiosk.Descriptor
	x, ok := bytes.CutPrefix(photo, []byte("face:"))
	if !ok || len(x) != 1 {
		return d, nil, errors.New("no face in the photo")
	}
	v := float32(x[0]-'0') / 10
	d[0] = v
	t, err := kiosk.NewTemplate(fakeEngine, []float32{v, -v})
	return d, []kiosk.Template{t}, err
}

// An import with the face engines describes every reference photo once: the templates go
// with the resident to the kiosks, dlib's descriptor fills in only where the resident came
// without one, and a photo without a face is reported and imported as it came.
func TestImportDescribesReferencePhotos(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	ctx := context.Background()
	rs := make([]kiosk.Resident, 5)
	for i := range rs {
		rs[i] = snapshot.Synthetic(21, i)
	}
	rs[0].Photo, rs[0].References = []byte("face:3"), nil // described: descriptor and template
	rs[1].Photo = []byte("face:5")                        // keeps its e-KTP descriptor
	rs[2].Photo = []byte("no face here")                  // reported, imported as it came
	// rs[3] has no photo: nothing to describe.
	rs[4].Photo = []byte("face:7")
	var in bytes.Buffer
	for _, r := range rs {
		line, err := snapshot.EncodeLine(r)
		if err != nil {
			t.Fatal(err)
		}
		in.Write(append(line, '\n'))
	}
	faces := &fakeDescriber{}
	rep, err := registry.ImportResidentsDescribed(ctx, e.st, &in, faces, 3)
	if err != nil || rep.Residents != 5 || rep.Described != 3 || faces.calls.Load() != 4 {
		t.Fatalf("import: %+v %v, %d photos described", rep, err, faces.calls.Load())
	}
	if len(rep.Undescribed) != 1 || !strings.HasPrefix(rep.Undescribed[0], "line 3: ") ||
		!strings.Contains(rep.Undescribed[0], "no face in the photo") {
		t.Errorf("undescribed %q", rep.Undescribed)
	}

	got := pullAll(t, e.enroll("Cibinong"), "", 10)
	d, err := ikdsync.DecodeDeltaPage(ikdsync.DeltaPage{Residents: got.residents, Cursor: "1"})
	if err != nil {
		t.Fatal(err)
	}
	byNIK := map[kiosk.NIK]kiosk.Resident{}
	for _, r := range d.Residents {
		byNIK[r.NIK] = r
	}
	template := func(v float32) []kiosk.Template {
		tp, err := kiosk.NewTemplate(fakeEngine, []float32{v, -v})
		if err != nil {
			t.Fatal(err)
		}
		return []kiosk.Template{tp}
	}
	for i, want := range []struct {
		refs      []kiosk.Descriptor
		templates []kiosk.Template
	}{
		{[]kiosk.Descriptor{{0: 0.3}}, template(0.3)},
		{rs[1].References, template(0.5)},
		{rs[2].References, nil},
		{rs[3].References, nil},
		{rs[4].References, template(0.7)},
	} {
		r := byNIK[rs[i].NIK]
		if !refsClose(r.References, want.refs) || !reflect.DeepEqual(r.Templates, want.templates) {
			t.Errorf("resident %d pulled with references %v… and templates %+v; want %v… and %+v",
				i, firstValues(r.References), r.Templates, firstValues(want.refs), want.templates)
		}
	}
}

// refsClose compares descriptors as they travel: in half precision.
func refsClose(a, b []kiosk.Descriptor) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		for j := range a[i] {
			if d := a[i][j] - b[i][j]; d > 1e-3 || d < -1e-3 {
				return false
			}
		}
	}
	return true
}

func firstValues(ds []kiosk.Descriptor) []float32 {
	if len(ds) == 0 {
		return nil
	}
	return ds[0][:2]
}

// A cancelled import stops describing and writes nothing further.
func TestImportDescribedStopsWhenCancelled(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	ctx, cancel := context.WithCancel(context.Background())
	r := snapshot.Synthetic(22, 0)
	r.Photo = []byte("face:1")
	line, err := snapshot.EncodeLine(r)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	rep, err := registry.ImportResidentsDescribed(ctx, e.st, bytes.NewReader(line), &fakeDescriber{}, 1)
	if !errors.Is(err, context.Canceled) || rep.Residents != 0 {
		t.Fatalf("cancelled import: %+v %v", rep, err)
	}
}
