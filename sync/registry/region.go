package registry

import "strings"

// The region key is where a row of a hot table (registrations, records, tombstones,
// residents, mails) would live if the registry is sharded by region (docs/SCALING.md): the
// first six digits of the row's NIK, province, kabupaten/kota and kecamatan (PPKKCC). It
// names the kecamatan that issued the NIK, no person, and is kept in a plain column next to
// the NIK column, which may hold a blind index.

// regionSep joins a region to a blind index in RegionalNIK; neither a NIK (digits) nor a
// blind index (hex) contains it.
const regionSep = "~"

// Region returns the region key of a clear NIK: its first six digits, or "" for anything
// that is not 16 characters long (a record without a NIK). The schema's back-fill
// (sqlstore migration 6) applies the same rule.
func Region(nik string) string {
	if len(nik) != 16 {
		return ""
	}
	return nik[:6]
}

// RegionalNIK is how a sealed store hands its Store a NIK it only stores blinded: the region
// of the clear NIK in front of the blind index, so the region comes from the NIK before it
// is blinded. The empty NIK stays empty.
func RegionalNIK(region, blind string) string {
	if blind == "" {
		return ""
	}
	return region + regionSep + blind
}

// SplitNIK returns the region key and the value of the nik column for a NIK a Store is
// given: a clear NIK (its Region, itself) or a sealed store's RegionalNIK.
func SplitNIK(s string) (region, nik string) {
	if r, b, ok := strings.Cut(s, regionSep); ok {
		return r, b
	}
	return Region(s), s
}
