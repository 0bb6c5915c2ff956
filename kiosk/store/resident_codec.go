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

const residentCodecVersion = 1

func encodeResident(r kiosk.Resident) []byte {
	b := make([]byte, 0, 64+len(r.Name)+len(r.Address)+len(r.References)*kiosk.DescriptorBytes+len(r.Photo))
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
	return append(b, r.Photo...)
}

var errTruncated = errors.New("truncated resident record")

// decodeResident is the inverse of encodeResident; kecamatan comes from the row. The NIK is
// sealed too (the row holds only its blind index) so that a 1:N search can name who matched.
func decodeResident(b []byte) (kiosk.Resident, error) {
	var r kiosk.Resident
	if len(b) == 0 || b[0] != residentCodecVersion {
		return r, fmt.Errorf("resident record version %v", b[:min(len(b), 1)])
	}
	b = b[1:]
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
	if len(b) != 0 {
		return r, fmt.Errorf("resident record has %d trailing bytes", len(b))
	}
	return r, nil
}
