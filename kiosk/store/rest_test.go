package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"os"
	"strconv"
	"testing"
	"unicode/utf16"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

// TestNothingPersonalOnDisk writes a resident, an activation, an audit entry and an officer,
// then searches the raw database, WAL and shared-memory files for the NIK, the name, the
// descriptor and the photo in every encoding the store or its inputs use.
func TestNothingPersonalOnDisk(t *testing.T) {
	ctx := context.Background()
	s, path := mustCreate(t, testOptions())
	r := snapshot.Synthetic(42, 1)
	r.Name = "Siti Nurhaliza Kusumawati"
	r.Photo = bytes.Repeat([]byte("JPEGFOTOWARGA"), 20)
	if _, err := s.ImportResidents(ctx, ndjson(t, r), ""); err != nil {
		t.Fatal(err)
	}
	env := []byte(`{"nik":"` + string(r.NIK) + `","name":"` + r.Name + `"}`)
	rec := kiosk.OutboxRecord{ID: "rec-1", Kind: kiosk.KindActivation, NIK: r.NIK, RegistrationID: "reg-rahasia-77",
		Envelope: env}
	ev := kiosk.AuditEvent{OfficerID: "off1", Action: "activation.approved", Subject: r.NIK.Masked(),
		Detail: "warga " + r.Name}
	if err := s.Enqueue(ctx, rec, ev); err != nil {
		t.Fatal(err)
	}
	if err := s.AddOfficer(ctx, "", kiosk.Officer{ID: "off1", Name: "Petugas Bernama Unik", Role: kiosk.RoleOfficer}, "246810"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ResidentByNIK(ctx, r.NIK); err != nil || got.Name != r.Name {
		t.Fatalf("lookup: %+v, %v", got, err)
	}

	nikNum, _ := strconv.ParseUint(string(r.NIK), 10, 64)
	desc, _ := r.References[0].AppendBinary(nil)
	needles := map[string][]byte{
		"NIK digits":           []byte(r.NIK),
		"NIK UTF-16LE":         utf16le(string(r.NIK)),
		"NIK int64 BE":         binary.BigEndian.AppendUint64(nil, nikNum),
		"NIK int64 LE":         binary.LittleEndian.AppendUint64(nil, nikNum),
		"NIK base64":           []byte(base64.StdEncoding.EncodeToString([]byte(r.NIK)))[:20],
		"name":                 []byte(r.Name),
		"name UTF-16LE":        utf16le(r.Name),
		"officer name":         []byte("Petugas Bernama Unik"),
		"registration id":      []byte("reg-rahasia-77"),
		"descriptor head":      desc[:16],
		"descriptor tail":      desc[len(desc)-16:],
		"descriptor base64":    []byte(snapshot.EncodeDescriptor(r.References[0]))[:24],
		"photo":                []byte("JPEGFOTOWARGA"),
		"address":              []byte(r.Address),
		"birth date in a line": []byte(r.BirthDate.Format("2006-01-02")),
	}
	check := func(when string) {
		found := 0
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			b, err := os.ReadFile(path + suffix)
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			found += len(b)
			for what, needle := range needles {
				if bytes.Contains(b, needle) {
					t.Errorf("%s: %s found in %s", when, what, "kiosk.db"+suffix)
				}
			}
		}
		if found == 0 {
			t.Fatalf("%s: no database files found", when)
		}
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("expected a WAL file while open: %v", err)
	}
	check("while open")
	s.Close()
	check("after close")
}

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}
