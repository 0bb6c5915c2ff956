package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

// The sealed column of a resident holds everything personal in one compact binary record,
// encrypted as a whole: one AES-GCM operation per lookup, and no column that leaks a length
// or a shared value across rows.
//
//	version byte (1)
//	NIK, name, birth place, birth date (YYYY-MM-DD), sex, address, status: uvarint length + bytes
//	uvarint count, then count × 128 little-endian float32 descriptors
//	uvarint length + photo bytes
//	(version 2) uvarint deactivation time (Unix ms, 0: none), uvarint count, then count ×
//	(uvarint length + registration id, uvarint revocation time in Unix ms, one byte: 1 if
//	ended by a deactivation)
//	(version 3) uvarint count, then count × (uvarint length + engine, uvarint length +
//	half-precision template)
//
// Revocations live in the sealed record rather than a table of their own so that they share
// its encryption, MAC and snapshot digest: editing the file cannot lift one. Records written
// as version 1 read as having none, and records before version 3 as having no templates.

const residentCodecVersion = 3

func encodeResident(r kiosk.Resident) []byte {
	b := make([]byte, 0, 64+len(r.Name)+len(r.Address)+len(r.References)*kiosk.DescriptorBytes+len(r.Photo)+len(r.Templates)*1100)
	b = append(b, residentCodecVersion)
	for _, f := range []string{string(r.NIK), r.Name, r.BirthPlace, r.BirthDate.Format(time.DateOnly), string(r.Sex),
		r.Address, string(r.Status)} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = binary.AppendUvarint(b, uint64(len(r.References)))
	for _, d := range r.References {
		b, _ = d.AppendBinary(b) // never fails
	}
	b = binary.AppendUvarint(b, uint64(len(r.Photo)))
	b = append(b, r.Photo...)
	b = binary.AppendUvarint(b, uint64(unixMilli(r.Revocations.DeactivatedAt)))
	b = binary.AppendUvarint(b, uint64(len(r.Revocations.Registrations)))
	for _, g := range r.Revocations.Registrations {
		b = binary.AppendUvarint(b, uint64(len(g.ID)))
		b = append(b, g.ID...)
		b = binary.AppendUvarint(b, uint64(unixMilli(g.At)))
		flag := byte(0)
		if g.Deactivated {
			flag = 1
		}
		b = append(b, flag)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Templates)))
	for _, t := range r.Templates {
		b = binary.AppendUvarint(b, uint64(len(t.Engine)))
		b = append(b, t.Engine...)
		b = binary.AppendUvarint(b, uint64(len(t.Half)))
		b = append(b, t.Half...)
	}
	return b
}

func unixMilli(t time.Time) int64 {
	if t.IsZero() || t.UnixMilli() < 0 {
		return 0
	}
	return t.UnixMilli()
}

func milliTime(ms uint64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(ms)).UTC()
}

var errTruncated = errors.New("truncated resident record")

// decodeResident is the inverse of encodeResident; kecamatan comes from the row. The NIK is
// sealed too (the row holds only its blind index) so that a 1:N search can name who matched.
func decodeResident(b []byte) (kiosk.Resident, error) {
	var r kiosk.Resident
	if len(b) == 0 || b[0] < 1 || b[0] > residentCodecVersion {
		return r, fmt.Errorf("resident record version %v", b[:min(len(b), 1)])
	}
	version := b[0]
	b = b[1:]
	uvarint := func() (uint64, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 {
			return 0, errTruncated
		}
		b = b[k:]
		return n, nil
	}
	next := func() ([]byte, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, errTruncated
		}
		f := b[k : k+int(n)]
		b = b[k+int(n):]
		return f, nil
	}
	var fields [7]string
	for i := range fields {
		f, err := next()
		if err != nil {
			return r, err
		}
		fields[i] = string(f)
	}
	birth, err := time.Parse(time.DateOnly, fields[3])
	if err != nil {
		return r, fmt.Errorf("resident birth date: %w", err)
	}
	r.NIK, r.Name, r.BirthPlace, r.BirthDate, r.Sex, r.Address, r.Status =
		kiosk.NIK(fields[0]), fields[1], fields[2], birth, kiosk.Sex(fields[4]), fields[5], kiosk.ResidentStatus(fields[6])
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64((len(b)-k)/kiosk.DescriptorBytes) {
		return r, errTruncated
	}
	b = b[k:]
	for range n {
		d, err := kiosk.DecodeDescriptor(b[:kiosk.DescriptorBytes])
		if err != nil {
			return r, fmt.Errorf("resident reference: %w", err)
		}
		r.References = append(r.References, d)
		b = b[kiosk.DescriptorBytes:]
	}
	photo, err := next()
	if err != nil {
		return r, err
	}
	if len(photo) > 0 {
		r.Photo = photo
	}
	if version >= 2 {
		if r.Revocations, err = decodeRevocations(next, uvarint, &b); err != nil {
			return r, err
		}
	}
	if version >= 3 {
		if r.Templates, err = decodeTemplates(next, uvarint); err != nil {
			return r, err
		}
	}
	if len(b) != 0 {
		return r, fmt.Errorf("resident record has %d trailing bytes", len(b))
	}
	return r, nil
}

func decodeRevocations(next func() ([]byte, error), uvarint func() (uint64, error), b *[]byte) (kiosk.Revocations, error) {
	var rv kiosk.Revocations
	at, err := uvarint()
	if err != nil {
		return rv, err
	}
	rv.DeactivatedAt = milliTime(at)
	n, err := uvarint()
	if err != nil {
		return rv, err
	}
	if n > uint64(len(*b)/3) { // each entry takes at least three bytes
		return rv, errTruncated
	}
	for range n {
		id, err := next()
		if err != nil {
			return rv, err
		}
		at, err := uvarint()
		if err != nil {
			return rv, err
		}
		if len(*b) == 0 || (*b)[0] > 1 {
			return rv, errTruncated
		}
		rv.Registrations = append(rv.Registrations, kiosk.RevokedRegistration{ID: string(id), At: milliTime(at), Deactivated: (*b)[0] == 1})
		*b = (*b)[1:]
	}
	return rv, nil
}

func decodeTemplates(next func() ([]byte, error), uvarint func() (uint64, error)) ([]kiosk.Template, error) {
	n, err := uvarint()
	if err != nil {
		return nil, err
	}
	if n > kiosk.MaxTemplates {
		return nil, fmt.Errorf("resident record has %d face templates, at most %d", n, kiosk.MaxTemplates)
	}
	var ts []kiosk.Template
	for range n {
		engine, err := next()
		if err != nil {
			return nil, err
		}
		half, err := next()
		if err != nil {
			return nil, err
		}
		t := kiosk.Template{Engine: string(engine), Half: half}
		if err := t.Validate(); err != nil {
			return nil, fmt.Errorf("resident record: %w", err)
		}
		ts = append(ts, t)
	}
	return ts, nil
}
