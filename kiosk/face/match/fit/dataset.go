package fit

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face/match"
)

// A Dataset is a set of labelled face descriptors in the format of go-face-testdata's
// idols.json (see ../shared/testdata/descriptors/README.md):
//
//	{"idols": [{"id": "<uuid>", "name": "...", "band_name": "..."}, ...],
//	 "faces": [{"descriptor": "<base64 of 128 LE float32>", "idol_id": "<uuid>"}, ...]}
//
// It is what calibration is fitted on and evaluated with.
type Dataset struct {
	People []Person
	Faces  []Face
}

// Person is one labelled identity.
type Person struct {
	ID    string
	Name  string
	Group string // band_name in the source format
}

// Face is one descriptor of a known person.
type Face struct {
	Person     int // index into Dataset.People
	Descriptor match.Descriptor
}

// Errors for a descriptor file that cannot be used; a *DatasetError wraps them.
var (
	ErrBadBase64       = errors.New("descriptor is not valid base64")
	ErrUnknownPerson   = errors.New("idol_id is not in idols")
	ErrEmptyPersonID   = errors.New("empty id")
	ErrDuplicatePerson = errors.New("duplicate idol id")
	ErrNoFaces         = errors.New("no faces")
)

// DatasetError says which entry of a descriptor file is wrong.
type DatasetError struct {
	Section string // "idols" or "faces"
	Index   int    // position in that array
	Err     error
}

func (e *DatasetError) Error() string {
	return fmt.Sprintf("%s[%d]: %v", e.Section, e.Index, e.Err)
}

func (e *DatasetError) Unwrap() error { return e.Err }

type datasetFile struct {
	Idols []struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		BandName string `json:"band_name"`
	} `json:"idols"`
	Faces []struct {
		Descriptor string `json:"descriptor"`
		IdolID     string `json:"idol_id"`
	} `json:"faces"`
}

// ReadDataset parses a descriptor file. Every face must name a listed idol and carry a finite
// 128-value descriptor; the first bad entry is reported as a *DatasetError.
func ReadDataset(r io.Reader) (*Dataset, error) {
	var f datasetFile
	if err := json.NewDecoder(r).Decode(&f); err != nil {
		return nil, fmt.Errorf("decode descriptor file: %w", err)
	}
	ds := &Dataset{People: make([]Person, 0, len(f.Idols)), Faces: make([]Face, 0, len(f.Faces))}
	index := make(map[string]int, len(f.Idols))
	for i, p := range f.Idols {
		if p.ID == "" {
			return nil, &DatasetError{Section: "idols", Index: i, Err: ErrEmptyPersonID}
		}
		if _, dup := index[p.ID]; dup {
			return nil, &DatasetError{Section: "idols", Index: i, Err: fmt.Errorf("%w %q", ErrDuplicatePerson, p.ID)}
		}
		index[p.ID] = len(ds.People)
		ds.People = append(ds.People, Person{ID: p.ID, Name: p.Name, Group: p.BandName})
	}
	for i, fc := range f.Faces {
		person, ok := index[fc.IdolID]
		if !ok {
			return nil, &DatasetError{Section: "faces", Index: i, Err: fmt.Errorf("%w: %q", ErrUnknownPerson, fc.IdolID)}
		}
		raw, err := base64.StdEncoding.DecodeString(fc.Descriptor)
		if err != nil {
			return nil, &DatasetError{Section: "faces", Index: i, Err: fmt.Errorf("%w: %v", ErrBadBase64, err)}
		}
		d, err := kiosk.DecodeDescriptor(raw)
		if err != nil {
			return nil, &DatasetError{Section: "faces", Index: i, Err: err}
		}
		ds.Faces = append(ds.Faces, Face{Person: person, Descriptor: d})
	}
	if len(ds.Faces) == 0 {
		return nil, fmt.Errorf("descriptor file: %w", ErrNoFaces)
	}
	return ds, nil
}

// LoadDataset reads a descriptor file from disk.
func LoadDataset(path string) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open descriptor file: %w", err)
	}
	defer f.Close()
	ds, err := ReadDataset(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ds, nil
}

// split returns each face's person index and descriptor as parallel slices.
func (ds *Dataset) split() ([]match.Descriptor, []int) {
	descs := make([]match.Descriptor, len(ds.Faces))
	labels := make([]int, len(ds.Faces))
	for i, f := range ds.Faces {
		descs[i], labels[i] = f.Descriptor, f.Person
	}
	return descs, labels
}
