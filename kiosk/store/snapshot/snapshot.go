// Package snapshot is the outside format of the kiosk's resident snapshot: NDJSON import
// lines, and the checks every resident passes before the store accepts it, whether it comes
// from a file or from a sync. It has no database dependency, so its parser fuzzes fast.
package snapshot

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/safetext"
)

// residentLine is one line of a resident NDJSON import:
//
//	{"nik":"3201014501900001","name":"Siti Aminah","birth_place":"Bogor",
//	 "birth_date":"1990-01-05","sex":"F","address":"Jl. Mawar 1","kecamatan":"Cibinong",
//	 "status":"active","descriptor":"<base64 of 128 little-endian float32>"}
//
// descriptor and photo (base64 JPEG) are optional. Unknown fields are rejected so that a
// misspelt field name is caught instead of silently dropping data.
type residentLine struct {
	NIK        string `json:"nik"`
	Name       string `json:"name"`
	BirthPlace string `json:"birth_place"`
	BirthDate  string `json:"birth_date"`
	Sex        string `json:"sex"`
	Address    string `json:"address"`
	Kecamatan  string `json:"kecamatan"`
	Status     string `json:"status"`
	Descriptor string `json:"descriptor"`
	Photo      string `json:"photo"`
}

// Limits on one resident.
const (
	maxTextField = 500
	maxPhotoSize = 256 << 10
)

// ParseLine parses and validates one NDJSON line. The NIK must be valid and agree
// with the sex and birth date fields: a NIK whose digits say otherwise is a data error at the
// source, and importing it would make the face check compare against the wrong person's
// data, so it is rejected rather than corrected.
func ParseLine(line []byte) (kiosk.Resident, error) {
	var l residentLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return kiosk.Resident{}, fmt.Errorf("not a JSON object of resident fields: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return kiosk.Resident{}, errors.New("extra data after the JSON object")
	}
	nik, err := kiosk.ParseNIK(l.NIK)
	if err != nil {
		return kiosk.Resident{}, fmt.Errorf("nik: %w", err)
	}
	birth, err := time.Parse(time.DateOnly, l.BirthDate)
	if err != nil {
		return kiosk.Resident{}, fmt.Errorf("birth_date %q is not a date (YYYY-MM-DD)", l.BirthDate)
	}
	r := kiosk.Resident{NIK: nik, Name: l.Name, BirthPlace: l.BirthPlace, BirthDate: birth,
		Sex: kiosk.Sex(l.Sex), Address: l.Address, Kecamatan: l.Kecamatan,
		Status: kiosk.ResidentStatus(l.Status)}
	if l.Descriptor != "" {
		d, err := decodeDescriptor(l.Descriptor)
		if err != nil {
			return kiosk.Resident{}, err
		}
		r.References = []kiosk.Descriptor{d}
	}
	if l.Photo != "" {
		if r.Photo, err = base64.StdEncoding.DecodeString(l.Photo); err != nil {
			return kiosk.Resident{}, fmt.Errorf("photo: not base64: %w", err)
		}
	}
	if r, err = CleanText(r); err != nil {
		return kiosk.Resident{}, err
	}
	return r, Validate(r)
}

// CleanText returns r with its free-text fields in NFC, or an error that names the field and
// wraps the *safetext.Error of the first refused character (see package safetext for why
// they are refused rather than removed).
func CleanText(r kiosk.Resident) (kiosk.Resident, error) {
	for _, f := range textFields(&r) {
		v, err := safetext.Clean(*f.v)
		if err != nil {
			return kiosk.Resident{}, fmt.Errorf("%s: %w", f.name, err)
		}
		*f.v = v
	}
	return r, nil
}

// textField is a free-text field of a resident that comes from outside.
type textField struct {
	name string
	v    *string
}

func textFields(r *kiosk.Resident) []textField {
	return []textField{{"name", &r.Name}, {"birth_place", &r.BirthPlace}, {"address", &r.Address},
		{"kecamatan", &r.Kecamatan}}
}

func decodeDescriptor(s string) (kiosk.Descriptor, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return kiosk.Descriptor{}, fmt.Errorf("descriptor: not base64: %w", err)
	}
	d, err := kiosk.DecodeDescriptor(b)
	if err != nil {
		return kiosk.Descriptor{}, fmt.Errorf("descriptor: %w", err)
	}
	return d, nil
}

// EncodeDescriptor is the import format of a descriptor: base64 of 128 little-endian float32.
func EncodeDescriptor(d kiosk.Descriptor) string {
	b, _ := d.AppendBinary(nil) // never fails
	return base64.StdEncoding.EncodeToString(b)
}

// Validate checks a resident from any source (import or sync) before it is stored.
func Validate(r kiosk.Resident) error {
	if _, err := kiosk.ParseNIK(string(r.NIK)); err != nil {
		return fmt.Errorf("nik: %w", err)
	}
	for _, f := range textFields(&r) {
		v := *f.v
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("%s is empty", f.name)
		}
		if len(v) > maxTextField {
			return fmt.Errorf("%s is %d bytes, at most %d", f.name, len(v), maxTextField)
		}
		if err := safetext.Check(v); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		if !safetext.IsClean(v) {
			return fmt.Errorf("%s is not in Unicode NFC", f.name)
		}
	}
	if r.Sex != kiosk.Male && r.Sex != kiosk.Female {
		return fmt.Errorf("sex %q: want M or F", r.Sex)
	}
	if r.Sex != r.NIK.Sex() {
		return fmt.Errorf("sex %s does not match the NIK, which encodes %s", r.Sex, r.NIK.Sex())
	}
	if err := birthMatchesNIK(r.BirthDate, r.NIK); err != nil {
		return err
	}
	if r.Status != kiosk.ResidentActive && r.Status != kiosk.ResidentInactive {
		return fmt.Errorf("status %q: want active or inactive", r.Status)
	}
	for i, d := range r.References {
		for _, v := range d {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("descriptor %d holds NaN or infinity", i+1)
			}
		}
	}
	if len(r.Photo) > maxPhotoSize {
		return fmt.Errorf("photo is %d bytes, at most %d", len(r.Photo), maxPhotoSize)
	}
	return nil
}

// birthMatchesNIK checks day, month and two-digit year against the NIK's DDMMYY (the day of
// women carries +40).
func birthMatchesNIK(birth time.Time, nik kiosk.NIK) error {
	day := birth.Day()
	if nik.Sex() == kiosk.Female {
		day += 40
	}
	want := fmt.Sprintf("%02d%02d%02d", day, int(birth.Month()), birth.Year()%100)
	if got := string(nik[6:12]); got != want {
		return fmt.Errorf("birth_date %s does not match the NIK, which encodes %s", birth.Format(time.DateOnly), got)
	}
	return nil
}

// EncodeLine renders r as an import line (without the newline); the inverse of ParseLine.
func EncodeLine(r kiosk.Resident) ([]byte, error) {
	l := residentLine{NIK: string(r.NIK), Name: r.Name, BirthPlace: r.BirthPlace,
		BirthDate: r.BirthDate.Format(time.DateOnly), Sex: string(r.Sex), Address: r.Address,
		Kecamatan: r.Kecamatan, Status: string(r.Status)}
	if len(r.References) > 0 {
		l.Descriptor = EncodeDescriptor(r.References[0])
	}
	if len(r.Photo) > 0 {
		l.Photo = base64.StdEncoding.EncodeToString(r.Photo)
	}
	return json.Marshal(l)
}
