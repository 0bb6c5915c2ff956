package kiosk_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

func TestParseNIK(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"ValidWoman", "3201014101900001", nil},
		{"ValidMan", "3174052508850123", nil},
		{"NewPapuaProvince", "9601011203050007", nil},
		{"LeapDay2000", "3201012902000001", nil},
		{"LeapDay1996Woman", "3201016902960001", nil},
		{"TooShort", "320101410190000", kiosk.ErrNIKLength},
		{"TooLong", "32010141019000011", kiosk.ErrNIKLength},
		{"Letter", "32010141019000O1", kiosk.ErrNIKLength},
		{"Empty", "", kiosk.ErrNIKLength},
		{"UnknownProvince", "2001014101900001", kiosk.ErrNIKProvince},
		{"ProvinceZero", "0001014101900001", kiosk.ErrNIKProvince},
		{"RegencyZero", "3200014101900001", kiosk.ErrNIKRegion},
		{"DistrictZero", "3201004101900001", kiosk.ErrNIKRegion},
		{"DayZero", "3201010001900001", kiosk.ErrNIKBirthDate},
		{"Day32", "3201013201900001", kiosk.ErrNIKBirthDate},
		{"DayBetweenMenAndWomen", "3201013501900001", kiosk.ErrNIKBirthDate},
		{"Day40", "3201014001900001", kiosk.ErrNIKBirthDate},
		{"WomanDay72", "3201017201900001", kiosk.ErrNIKBirthDate},
		{"Month13", "3201010113900001", kiosk.ErrNIKBirthDate},
		{"MonthZero", "3201010100900001", kiosk.ErrNIKBirthDate},
		{"Feb30", "3201013002900001", kiosk.ErrNIKBirthDate},
		{"Feb29NonLeap", "3201012902970001", kiosk.ErrNIKBirthDate},
		{"April31", "3201013104900001", kiosk.ErrNIKBirthDate},
		{"SerialZero", "3201014101900000", kiosk.ErrNIKSerial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nik, err := kiosk.ParseNIK(tt.in)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("ParseNIK(%q) = %v, want valid", tt.in, err)
				}
				if nik.String() != tt.in {
					t.Fatalf("ParseNIK(%q) = %q", tt.in, nik)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseNIK(%q) error = %v, want %v", tt.in, err, tt.want)
			}
			if msg := kiosk.OfficerMessage(err, kiosk.LangID); msg == "" || msg == kiosk.OfficerMessage(errors.New("x"), kiosk.LangID) {
				t.Fatalf("ParseNIK(%q): no specific officer message: %q", tt.in, msg)
			}
		})
	}
}

func TestNIKDerivedFields(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		nik      string
		province string
		sex      kiosk.Sex
		birth    string
	}{
		{"3201014101900001", "Jawa Barat", kiosk.Female, "1990-01-01"},
		{"3174052508850123", "DKI Jakarta", kiosk.Male, "1985-08-25"},
		{"5171016512050002", "Bali", kiosk.Female, "2005-12-25"},
		{"1101010101260001", "Aceh", kiosk.Male, "2026-01-01"},
		{"1101010112260001", "Aceh", kiosk.Male, "1926-12-01"}, // 2026-12-01 is after now
		{"3201012902000001", "Jawa Barat", kiosk.Male, "2000-02-29"},
	}
	for _, tt := range tests {
		t.Run(tt.nik, func(t *testing.T) {
			nik, err := kiosk.ParseNIK(tt.nik)
			if err != nil {
				t.Fatal(err)
			}
			if got := nik.Province(); got != tt.province {
				t.Errorf("Province = %q, want %q", got, tt.province)
			}
			if got := nik.Sex(); got != tt.sex {
				t.Errorf("Sex = %q, want %q", got, tt.sex)
			}
			if got := nik.BirthDate(now).Format("2006-01-02"); got != tt.birth {
				t.Errorf("BirthDate = %s, want %s", got, tt.birth)
			}
		})
	}
}

func TestNIKMasked(t *testing.T) {
	nik, _ := kiosk.ParseNIK("3201014101900001")
	if got, want := nik.Masked(), "320101********01"; got != want {
		t.Fatalf("Masked = %q, want %q", got, want)
	}
}

func TestOfficerMessageLanguages(t *testing.T) {
	_, err := kiosk.ParseNIK("3201013201900001")
	if got := kiosk.OfficerMessage(err, kiosk.LangID); got != "Tanggal lahir pada NIK tidak valid." {
		t.Errorf("ID message = %q", got)
	}
	if got := kiosk.OfficerMessage(err, kiosk.LangEN); got != "The birth date in the NIK is not valid." {
		t.Errorf("EN message = %q", got)
	}
	if kiosk.ParseLang("en_US.UTF-8") != kiosk.LangEN || kiosk.ParseLang("id_ID.UTF-8") != kiosk.LangID || kiosk.ParseLang("") != kiosk.LangID {
		t.Error("ParseLang does not default to Bahasa Indonesia and recognise English")
	}
}

func FuzzParseNIK(f *testing.F) {
	for _, s := range []string{"3201014101900001", "3174052508850123", "", "0000000000000000", "32010141019000O1"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		nik, err := kiosk.ParseNIK(s)
		if err != nil {
			return
		}
		// A valid NIK's derived fields must be consistent with its digits.
		if nik.Province() == "" {
			t.Fatalf("valid NIK %q without province", s)
		}
		b := nik.BirthDate(now)
		if b.After(now) && b.Year() < 2000 {
			t.Fatalf("birth date %v of %q in the future", b, s)
		}
		day := int(s[6]-'0')*10 + int(s[7]-'0')
		wantDay := day
		if day > 40 {
			wantDay -= 40
		}
		if (nik.Sex() == kiosk.Female) != (day > 40) || b.Day() != wantDay {
			t.Fatalf("sex/day inconsistent for %q: %v %v", s, nik.Sex(), b)
		}
	})
}
