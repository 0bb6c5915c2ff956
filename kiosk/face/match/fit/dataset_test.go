package fit

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face/match"
)

func b64(d match.Descriptor) string {
	b, _ := d.AppendBinary(nil)
	return base64.StdEncoding.EncodeToString(b)
}

func datasetJSON(idols, faces string) string {
	return fmt.Sprintf(`{"idols": [%s], "faces": [%s]}`, idols, faces)
}

const (
	idolA = `{"id": "a", "name": "Ana", "band_name": "X"}`
	idolB = `{"id": "b", "name": "Bea", "band_name": "Y"}`
)

func TestReadDataset(t *testing.T) {
	var d match.Descriptor
	d[0], d[127] = 0.25, -1
	nan := d
	nan[3] = float32(math.NaN())
	short := base64.StdEncoding.EncodeToString(make([]byte, 508))
	face := func(id, desc string) string { return fmt.Sprintf(`{"idol_id": %q, "descriptor": %q}`, id, desc) }

	t.Run("Valid", func(t *testing.T) {
		in := datasetJSON(idolA+","+idolB, face("b", b64(d))+","+face("a", b64(d)))
		ds, err := ReadDataset(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		if len(ds.People) != 2 || ds.People[1] != (Person{ID: "b", Name: "Bea", Group: "Y"}) {
			t.Fatalf("people %+v", ds.People)
		}
		if len(ds.Faces) != 2 || ds.Faces[0].Person != 1 || ds.Faces[1].Person != 0 || ds.Faces[0].Descriptor != d {
			t.Fatalf("faces %+v", ds.Faces)
		}
	})
	tests := []struct {
		name    string
		in      string
		want    error
		section string
		index   int
	}{
		{"BadBase64", datasetJSON(idolA, face("a", b64(d))+","+face("a", "!!not base64")), ErrBadBase64, "faces", 1},
		{"WrongLength", datasetJSON(idolA, face("a", short)), kiosk.ErrDescriptorLength, "faces", 0},
		{"NaN", datasetJSON(idolA, face("a", b64(nan))), kiosk.ErrDescriptorNotFinite, "faces", 0},
		{"UnknownIdol", datasetJSON(idolA, face("a", b64(d))+","+face("zz", b64(d))), ErrUnknownPerson, "faces", 1},
		{"DuplicateIdol", datasetJSON(idolA+","+idolB+","+idolA, face("a", b64(d))), ErrDuplicatePerson, "idols", 2},
		{"EmptyIdolID", datasetJSON(`{"id": ""}`, face("", b64(d))), ErrEmptyPersonID, "idols", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadDataset(strings.NewReader(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			var de *DatasetError
			if !errors.As(err, &de) || de.Section != tt.section || de.Index != tt.index {
				t.Fatalf("error %v does not point at %s[%d]", err, tt.section, tt.index)
			}
		})
	}
	t.Run("NoFaces", func(t *testing.T) {
		if _, err := ReadDataset(strings.NewReader(datasetJSON(idolA, ""))); !errors.Is(err, ErrNoFaces) {
			t.Fatalf("error %v, want ErrNoFaces", err)
		}
	})
	t.Run("NotJSON", func(t *testing.T) {
		if _, err := ReadDataset(strings.NewReader(`{"idols": [`)); err == nil || !strings.Contains(err.Error(), "decode descriptor file") {
			t.Fatalf("error %v, want a decode error", err)
		}
	})
	t.Run("MissingFile", func(t *testing.T) {
		if _, err := LoadDataset(t.TempDir() + "/absent.json"); err == nil || !strings.Contains(err.Error(), "open descriptor file") {
			t.Fatalf("error %v, want an open error", err)
		}
	})
}

func FuzzReadDataset(f *testing.F) {
	var d match.Descriptor
	d[1] = 0.5
	f.Add(datasetJSON(idolA, fmt.Sprintf(`{"idol_id": "a", "descriptor": %q}`, b64(d))))
	f.Add(datasetJSON(idolA+","+idolB, `{"idol_id": "b", "descriptor": "AAAA"}`))
	f.Add(`{"idols": null, "faces": [{}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		ds, err := ReadDataset(strings.NewReader(in))
		if err != nil {
			return
		}
		if len(ds.Faces) == 0 {
			t.Fatal("accepted a file with no faces")
		}
		for i, fc := range ds.Faces {
			if fc.Person < 0 || fc.Person >= len(ds.People) {
				t.Fatalf("face %d points at person %d of %d", i, fc.Person, len(ds.People))
			}
			if err := fc.Descriptor.Validate(); err != nil {
				t.Fatalf("face %d accepted with %v", i, err)
			}
		}
	})
}
