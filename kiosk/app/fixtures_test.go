package app

import (
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

// The tests' supervisor and residents (the demo's, whose NIKs agree with their birth dates
// and sexes).
var (
	testSupervisor = kiosk.Officer{ID: "198001012005011001", Name: "Budi Santoso", Role: kiosk.RoleSupervisor}
	testPIN        = "246810"
	testResidents  = []kiosk.Resident{
		{NIK: "3201014101900001", Name: "Siti Aminah", BirthPlace: "Bogor", BirthDate: date(1990, 1, 1),
			Sex: kiosk.Female, Address: "Jl. Pajajaran No. 12, RT 02/RW 05, Bogor", Kecamatan: "Bogor Tengah", Status: kiosk.ResidentActive},
		{NIK: "3201012508850123", Name: "Agus Salim", BirthPlace: "Bogor", BirthDate: date(1985, 8, 25),
			Sex: kiosk.Male, Address: "Jl. Suryakencana No. 7, Bogor", Kecamatan: "Bogor Tengah", Status: kiosk.ResidentActive},
		{NIK: "3201015203000007", Name: "Dewi Lestari", BirthPlace: "Bogor", BirthDate: date(2000, 3, 12),
			Sex: kiosk.Female, Address: "Gg. Mawar No. 3, Bogor", Kecamatan: "Bogor Tengah", Status: kiosk.ResidentInactive},
	}
)

func date(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
