//go:build cgo

package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/internal/slowtest"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/storeopen"
)

// `residents import --models --workers 2` through the real engines on Debian's example photos: each
// resident that came with a photo and no descriptor leaves the registry with dlib's
// descriptor and the modern engine's template, as a kiosk would have computed them; a photo
// with no face is named and its resident imported as it came.
func TestSlowResidentsImportDescribesPhotos(t *testing.T) {
	slowtest.Skip(t, "loads the face models and analyses photos")
	models := os.Getenv("IKD_REAL_MODELS")
	if _, err := os.Stat(filepath.Join(models, face.ModernFile)); models == "" || err != nil {
		t.Skipf("no %s in IKD_REAL_MODELS (%q): run build/models.sh", face.ModernFile, models)
	}
	photos, _ := filepath.Glob("/usr/share/doc/libdlib19.1/examples/johns/John_S*/*.jpg")
	if len(photos) < 2 {
		t.Skip("Debian's example photos absent (libdlib19.1)")
	}
	ctx := context.Background()
	dir := t.TempDir()
	db, keyFile := "sqlite:"+filepath.Join(dir, "registry.db"), filepath.Join(dir, "data.key")
	if err := registry.CreateDataKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	var in bytes.Buffer
	residents := []kiosk.Resident{snapshot.Synthetic(5, 0), snapshot.Synthetic(5, 1)}
	var err error
	if residents[0].Photo, err = os.ReadFile(photos[0]); err != nil {
		t.Fatal(err)
	}
	residents[0].References = nil
	residents[1].Photo = []byte{0xff, 0xd8, 0xff, 0xe0} // the start of a JPEG, no more
	for _, r := range residents {
		line, err := snapshot.EncodeLine(r)
		if err != nil {
			t.Fatal(err)
		}
		in.Write(append(line, '\n'))
	}
	file := filepath.Join(dir, "residents.ndjson")
	if err := os.WriteFile(file, in.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err = dispatch(ctx, []string{"residents", "import", "--db", db, "--data-key-file", keyFile, "--models", models, "--workers", "2", file}, &out, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"describing reference photos with dlib and fr_feature.onnx (" + face.EnginePrefix,
		"photo not described: line 2: " + residents[1].NIK.Masked() + ": reference photo:", "), 2 at a time\n", "imported 2 residents", "described 1 reference photos"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	// The kiosk's own pipeline on the same photo gives the template the registry stored.
	p, err := app.LoadFace(models, face.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	wantDesc, wantTemplates, err := p.PhotoReferences(ctx, residents[0].Photo)
	if err != nil {
		t.Fatal(err)
	}
	st, err := storeopen.OpenSealed(ctx, db, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i, r := range residents {
		var row registry.ResidentRow
		if err := st.InTx(ctx, func(ctx context.Context, tx registry.Tx) (err error) {
			row, err = tx.Resident(ctx, string(r.NIK))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var rc ikdsync.ResidentChange
		if err := ikdsync.Unmarshal(row.Data, &rc); err != nil {
			t.Fatal(err)
		}
		d, err := ikdsync.DecodeDeltaPage(ikdsync.DeltaPage{Residents: []ikdsync.ResidentChange{rc}, Cursor: "c"})
		if err != nil {
			t.Fatal(err)
		}
		got := d.Residents[0]
		switch i {
		case 0:
			if len(got.Templates) != 1 || got.Templates[0].Engine != wantTemplates[0].Engine ||
				face.Cosine(got.Templates[0].Values(), wantTemplates[0].Values()) < 0.9999 ||
				len(got.References) != 1 || got.References[0][0]-wantDesc[0] > 1e-3 || wantDesc[0]-got.References[0][0] > 1e-3 {
				t.Errorf("described resident pulled with %d references and templates %v", len(got.References), engines(got.Templates))
			}
		case 1:
			if len(got.Templates) != 0 || len(got.References) != 1 {
				t.Errorf("undescribed resident pulled with %d references and templates %v", len(got.References), engines(got.Templates))
			}
		}
	}
}

func engines(ts []kiosk.Template) []string {
	var e []string
	for _, t := range ts {
		e = append(e, t.Engine)
	}
	return e
}
