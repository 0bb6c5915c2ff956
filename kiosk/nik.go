package kiosk

import (
	"fmt"
	"time"
)

// NIK is a structurally valid Nomor Induk Kependudukan: 16 digits laid out as
// PPKKCC DDMMYY SSSS (province, regency, district, birth date with +40 on the day for women,
// serial). Construct it with ParseNIK; the zero value is not a valid NIK.
type NIK string

// Sex as encoded in the NIK and the resident record.
type Sex string

const (
	Male   Sex = "M"
	Female Sex = "F"
)

// provinces are the 38 province codes in use (Kepmendagri 100.1.1-6117/2022, which added the
// four new Papua provinces).
var provinces = map[string]string{
	"11": "Aceh", "12": "Sumatera Utara", "13": "Sumatera Barat", "14": "Riau", "15": "Jambi",
	"16": "Sumatera Selatan", "17": "Bengkulu", "18": "Lampung", "19": "Kepulauan Bangka Belitung",
	"21": "Kepulauan Riau", "31": "DKI Jakarta", "32": "Jawa Barat", "33": "Jawa Tengah",
	"34": "DI Yogyakarta", "35": "Jawa Timur", "36": "Banten", "51": "Bali",
	"52": "Nusa Tenggara Barat", "53": "Nusa Tenggara Timur", "61": "Kalimantan Barat",
	"62": "Kalimantan Tengah", "63": "Kalimantan Selatan", "64": "Kalimantan Timur",
	"65": "Kalimantan Utara", "71": "Sulawesi Utara", "72": "Sulawesi Tengah",
	"73": "Sulawesi Selatan", "74": "Sulawesi Tenggara", "75": "Gorontalo", "76": "Sulawesi Barat",
	"81": "Maluku", "82": "Maluku Utara", "91": "Papua", "92": "Papua Barat", "93": "Papua Selatan",
	"94": "Papua Tengah", "95": "Papua Pegunungan", "96": "Papua Barat Daya",
}

// NIK validation errors; each names what is wrong so the officer can re-check the card.
var (
	ErrNIKLength = &Error{Code: "nik.length", Msg: Message{
		ID: "NIK harus 16 digit angka.", EN: "A NIK must be 16 digits."}}
	ErrNIKProvince = &Error{Code: "nik.province", Msg: Message{
		ID: "Kode provinsi pada NIK tidak valid.", EN: "The province code in the NIK is not valid."}}
	ErrNIKRegion = &Error{Code: "nik.region", Msg: Message{
		ID: "Kode kabupaten/kota atau kecamatan pada NIK tidak valid.",
		EN: "The regency or district code in the NIK is not valid."}}
	ErrNIKBirthDate = &Error{Code: "nik.birth_date", Msg: Message{
		ID: "Tanggal lahir pada NIK tidak valid.", EN: "The birth date in the NIK is not valid."}}
	ErrNIKSerial = &Error{Code: "nik.serial", Msg: Message{
		ID: "Nomor urut pada NIK tidak valid (harus 0001–9999).",
		EN: "The serial number in the NIK is not valid (must be 0001–9999)."}}
)

// ParseNIK validates s and returns it as a NIK.
func ParseNIK(s string) (NIK, error) {
	if len(s) != 16 {
		return "", ErrNIKLength.With(fmt.Errorf("got %d characters", len(s)))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", ErrNIKLength.With(fmt.Errorf("non-digit at position %d", i+1))
		}
	}
	if _, ok := provinces[s[0:2]]; !ok {
		return "", ErrNIKProvince.With(fmt.Errorf("province %s", s[0:2]))
	}
	if s[2:4] == "00" || s[4:6] == "00" {
		return "", ErrNIKRegion.With(fmt.Errorf("regency %s district %s", s[2:4], s[4:6]))
	}
	day, month, yy := num(s[6:8]), num(s[8:10]), num(s[10:12])
	if day > 40 {
		day -= 40
	}
	// The century is not encoded; the date is real if it exists in either century
	// (29 February in year 00 only exists in 2000).
	if !realDate(1900+yy, month, day) && !realDate(2000+yy, month, day) {
		return "", ErrNIKBirthDate.With(fmt.Errorf("day %s month %s year %s", s[6:8], s[8:10], s[10:12]))
	}
	if s[12:16] == "0000" {
		return "", ErrNIKSerial
	}
	return NIK(s), nil
}

func num(two string) int { return int(two[0]-'0')*10 + int(two[1]-'0') }

func realDate(year, month, day int) bool {
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	return t.Day() == day && int(t.Month()) == month
}

// String returns the 16 digits.
func (n NIK) String() string { return string(n) }

// Masked hides the birth date and serial for logs and receipts: "320101********01".
func (n NIK) Masked() string {
	if len(n) != 16 {
		return "invalid-nik"
	}
	return string(n[0:6]) + "********" + string(n[14:16])
}

// ProvinceCode returns the two-digit province code.
func (n NIK) ProvinceCode() string { return string(n[0:2]) }

// Province returns the province name.
func (n NIK) Province() string { return provinces[n.ProvinceCode()] }

// Sex returns the sex encoded in the birth day (+40 for women).
func (n NIK) Sex() Sex {
	if num(string(n[6:8])) > 40 {
		return Female
	}
	return Male
}

// BirthDate returns the birth date, choosing the latest century that does not put it after now.
func (n NIK) BirthDate(now time.Time) time.Time {
	day, month, yy := num(string(n[6:8])), num(string(n[8:10])), num(string(n[10:12]))
	if day > 40 {
		day -= 40
	}
	d := time.Date(2000+yy, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if d.After(now) || !realDate(2000+yy, month, day) {
		d = time.Date(1900+yy, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	}
	return d
}
