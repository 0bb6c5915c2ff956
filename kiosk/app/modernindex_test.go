package app

import (
	"bytes"
	"context"
	"image"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ikd-field/ikd/internal/slowtest"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face"
)

// debianJohns are Debian's example face chips (libdlib19.1), five men, several photos each.
const debianJohns = "/usr/share/doc/libdlib19.1/examples/johns"

// johnsSnapshot is a snapshot of Debian's johns: one resident each, the first photo as the
// reference photo and its descriptor as the reference.
type johnsSnapshot struct {
	cursor    string
	residents []kiosk.Resident
}

func (s *johnsSnapshot) EachResident(_ context.Context, fn func(kiosk.Resident) error) error {
	for _, r := range s.residents {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (s *johnsSnapshot) SnapshotCursor(context.Context) (string, error) { return s.cursor, nil }

// referencesOnly is a later snapshot read without its photos (no resident look-up).
type referencesOnly struct{ s *johnsSnapshot }

func (r referencesOnly) EachResident(ctx context.Context, fn func(kiosk.Resident) error) error {
	return r.s.EachResident(ctx, fn)
}

func (referencesOnly) SnapshotCursor(context.Context) (string, error) { return "johns-2", nil }

func (s *johnsSnapshot) ResidentByNIK(_ context.Context, nik kiosk.NIK) (kiosk.Resident, error) {
	for _, r := range s.residents {
		if r.NIK == nik {
			return r, nil
		}
	}
	return kiosk.Resident{}, os.ErrNotExist
}

// The real pipeline with both engines on Debian's johns: the background build indexes each
// resident's modern template from the reference photo, and a second photo of John Schneider
// is found there as Schneider (listed when another NIK is claimed) and not as John Simm. A
// snapshot that carries the registry's templates (PhotoReferences) and no photos gives the
// same index and the same decisions.
func TestSlowModernIndexOnDebianJohns(t *testing.T) {
	slowtest.Skip(t, "the real face pipeline takes seconds")
	dir := os.Getenv("IKD_REAL_MODELS") // as the demo's real-face tests
	if dir == "" {
		dir = os.Getenv(face.ModelsEnv)
	}
	if _, err := os.Stat(filepath.Join(dir, face.ModernFile)); dir == "" || err != nil {
		t.Skipf("no %s in IKD_REAL_MODELS or IKD_MODELS (%q): run build/models.sh", face.ModernFile, dir)
	}
	people, err := os.ReadDir(debianJohns)
	if err != nil {
		t.Skipf("Debian's example photos absent (libdlib19.1): %v", err)
	}
	p, err := LoadFace(dir, face.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Modern == nil {
		t.Skipf("modern engine not loaded: %s", p.ModernReason)
	}
	if err := p.AllowUnverified(true); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	snap := &johnsSnapshot{cursor: "johns-1"}
	nikOf := map[string]kiosk.NIK{}
	var schneiderLive []face.Observation
	for i, person := range people {
		files, err := filepath.Glob(filepath.Join(debianJohns, person.Name(), "*.jpg"))
		if err != nil || len(files) < 2 {
			t.Fatalf("%s: %d photos, %v", person.Name(), len(files), err)
		}
		photo, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		obs := analyzePhoto(t, p, photo)
		nik := kiosk.NIK("320101410190000" + string(rune('1'+i)))
		nikOf[person.Name()] = nik
		snap.residents = append(snap.residents, kiosk.Resident{NIK: nik, Photo: photo, References: []kiosk.Descriptor{obs.Descriptor}})
		if person.Name() == "John_Schneider" {
			live, err := os.ReadFile(files[1])
			if err != nil {
				t.Fatal(err)
			}
			schneiderLive = []face.Observation{analyzePhoto(t, p, live)}
		}
	}
	fromRegistry := &johnsSnapshot{cursor: "johns-templates"}
	for _, r := range snap.residents {
		d, ts, err := p.PhotoReferences(ctx, r.Photo)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 1 || ts[0].Engine != p.Modern.Model().Engine || d == (kiosk.Descriptor{}) {
			t.Fatalf("photo references: %d templates (want one of %s), descriptor %v…", len(ts), p.Modern.Model().Engine, d[:4])
		}
		fromRegistry.residents = append(fromRegistry.residents, kiosk.Resident{NIK: r.NIK, References: r.References, Templates: ts})
	}
	schneider, simm := nikOf["John_Schneider"], nikOf["John_Simm"]
	for _, s := range []*johnsSnapshot{snap, fromRegistry} {
		if err := p.RefreshIndex(ctx, s); err != nil {
			t.Fatal(err)
		}
		if n, err := p.WaitModernIndex(ctx); err != nil || n != len(s.residents) {
			t.Fatalf("%s: modern index of %d templates (%v), want %d", s.cursor, n, err, len(s.residents))
		}
		for _, tc := range []struct {
			name    string
			claimed kiosk.NIK
			band    kiosk.Band
			others  []kiosk.NIK
		}{
			{"Schneider as himself", schneider, kiosk.BandMatch, nil},
			{"Schneider claiming Simm's NIK", simm, kiosk.BandNoMatch, []kiosk.NIK{schneider}},
		} {
			t.Run(s.cursor+"/"+tc.name, func(t *testing.T) {
				r, err := s.ResidentByNIK(ctx, tc.claimed)
				if err != nil {
					t.Fatal(err)
				}
				vd, err := p.Verifier().VerifyObservations(ctx, schneiderLive, r)
				if err != nil {
					t.Fatal(err)
				}
				if vd.DecidedBy != kiosk.EngineModern || vd.Band != tc.band || !slices.Equal(vd.OtherNIKs, tc.others) {
					t.Errorf("band %s by %s, others %v; want %s by modern, others %v (modern %+v)",
						vd.Band, vd.DecidedBy, vd.OtherNIKs, tc.band, tc.others, vd.Modern)
				}
			})
		}
	}
	// A later snapshot the pipeline cannot read photos of drops the index built for this one.
	if err := p.RefreshIndex(ctx, referencesOnly{snap}); err != nil {
		t.Fatal(err)
	}
	p.bg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.modernIndex != nil {
		t.Error("the modern index of an older snapshot is still used")
	}
}

// analyzePhoto is the observation of the one face in a photo chip (framed as reference photos
// are, so HOG finds a face that fills the chip).
func analyzePhoto(t *testing.T, p *FacePipeline, photo []byte) face.Observation {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(photo))
	if err != nil {
		t.Fatal(err)
	}
	obs, err := p.Analyzer.Analyze(context.Background(), framed(img))
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

// BenchmarkResidentTemplate is what one resident's modern template costs a kiosk: analysing
// the reference photo (a Debian johns chip) against reading the template the registry put in
// the snapshot.
func BenchmarkResidentTemplate(b *testing.B) {
	dir := os.Getenv(face.ModelsEnv)
	if _, err := os.Stat(filepath.Join(dir, face.ModernFile)); dir == "" || err != nil {
		b.Skipf("no %s in IKD_MODELS (%q)", face.ModernFile, dir)
	}
	files, _ := filepath.Glob(filepath.Join(debianJohns, "*", "*.jpg"))
	if len(files) == 0 {
		b.Skip("Debian's example photos absent (libdlib19.1)")
	}
	photo, err := os.ReadFile(files[0])
	if err != nil {
		b.Fatal(err)
	}
	p, err := LoadFace(dir, face.DefaultOptions(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	_, ts, err := p.PhotoReferences(ctx, photo)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		r    kiosk.Resident
	}{{"from-photo", kiosk.Resident{Photo: photo}}, {"from-snapshot", kiosk.Resident{Templates: ts}}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if e, err := p.residentTemplate(ctx, p.Modern, c.r); err != nil || e == nil {
					b.Fatal(err)
				}
			}
		})
	}
}
