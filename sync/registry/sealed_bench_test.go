package registry

import (
	"bytes"
	"testing"
)

// BenchmarkSealOneActivation is the sealing work of ingesting one accepted activation: the
// registration opened and sealed again, the record envelope sealed, the tombstone lookup's
// blind index, the mail's address and code sealed. Compare with the ingest rate of
// `ikdctl bench sync` to price sealing apart from the noise of a database benchmark.
func BenchmarkSealOneActivation(b *testing.B) {
	k, err := NewDataKeys()
	if err != nil {
		b.Fatal(err)
	}
	const nik = "3201014101900001"
	reg := k.sealReg(Registration{ID: "0190b6d2-7c1e-7a4b-9f00-5a1e2b3c4d5e", NIK: nik,
		Email: "siti.aminah@example.id", Phone: "0812-3456-7789"})
	rec := StoredRecord{ID: "0190b6d2-7c1e-7a4b-9f00-5a1e2b3c4d5f", NIK: nik, Envelope: bytes.Repeat([]byte{0xa5}, 400)}
	for b.Loop() {
		r, err := k.openReg(reg)
		if err != nil {
			b.Fatal(err)
		}
		k.sealReg(r)
		k.sealRecord(rec)
		k.BlindNIK(nik)
		k.sealString(k.mail, r.Email, sealMailTo, rec.ID)
		k.sealString(k.mail, "123456", sealMailCode, rec.ID)
	}
}
