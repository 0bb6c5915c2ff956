package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/safetext"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

// A name that could be spoofed on the review screen is refused with its line number; the
// import is all or nothing, so the good lines go in once the bad ones are fixed, with names
// in NFC.
func TestImportRefusesUnsafeNamesByLine(t *testing.T) {
	ctx := context.Background()
	s, _ := mustCreate(t, testOptions())
	rs := make([]kiosk.Resident, 6)
	for i := range rs {
		rs[i] = snapshot.Synthetic(4, i)
	}
	rs[0].Name = "De\u0301sire\u0301e Putri" // NFD: stored as NFC
	bad := map[int]struct {
		edit func(*kiosk.Resident)
		want string
	}{
		2: {func(r *kiosk.Resident) { r.Name = "Siti \u202Ehanima" }, "name: character 6 (byte 5): U+202E RIGHT-TO-LEFT OVERRIDE"},
		4: {func(r *kiosk.Resident) { r.Name = "Siti\u200BAminah" }, "name: character 5 (byte 4): U+200B ZERO WIDTH SPACE"},
		5: {func(r *kiosk.Resident) { r.BirthPlace = "Bogor\x00" }, "birth_place: character 6 (byte 5): U+0000 NULL"},
	}
	var in, good strings.Builder
	for i, r := range rs {
		if b, ok := bad[i+1]; ok {
			b.edit(&r)
		} else {
			good.WriteString(ndjson(t, r).String())
		}
		in.WriteString(ndjson(t, r).String())
	}

	_, err := s.ImportResidents(ctx, strings.NewReader(in.String()), "c1")
	ie, ok := errors.AsType[*ImportError](err)
	if !errors.Is(err, ErrImportRejected) || !ok {
		t.Fatalf("err = %v, want ErrImportRejected with an *ImportError", err)
	}
	if len(ie.Lines) != len(bad) {
		t.Fatalf("rejected lines %v, want %d of them", ie.Lines, len(bad))
	}
	for _, le := range ie.Lines {
		b, ok := bad[le.Line]
		if !ok {
			t.Errorf("good line %d rejected: %v", le.Line, le.Err)
			continue
		}
		if _, isText := errors.AsType[*safetext.Error](le.Err); !isText || !strings.Contains(le.Error(), b.want) {
			t.Errorf("line %d: %q, want a *safetext.Error saying %q", le.Line, le.Error(), b.want)
		}
	}
	if n, _ := s.ResidentCount(ctx); n != 0 {
		t.Fatalf("%d residents after a rejected import", n)
	}

	c, err := s.ImportResidents(ctx, strings.NewReader(good.String()), "c2")
	if err != nil || c.Added != len(rs)-len(bad) {
		t.Fatalf("good lines: %+v %v", c, err)
	}
	got, err := s.ResidentByNIK(ctx, rs[0].NIK)
	if err != nil || got.Name != "Désirée Putri" {
		t.Errorf("NFD name stored as %+q (%v), want NFC", got.Name, err)
	}
}

// Residents that reach the store without the import's parser (a delta, the demo) are checked
// there too.
func TestApplyResidentsRefusesUnsafeText(t *testing.T) {
	ctx := context.Background()
	s, _ := mustCreate(t, testOptions())
	r := snapshot.Synthetic(4, 1)
	r.Address = "Jl. Mawar\r\n1"
	if _, err := s.ApplyResidents(ctx, []kiosk.Resident{snapshot.Synthetic(4, 0), r}, nil, "c"); !errors.Is(err, ErrImportRejected) {
		t.Fatalf("err = %v, want ErrImportRejected", err)
	}
	if n, _ := s.ResidentCount(ctx); n != 0 {
		t.Errorf("%d residents stored", n)
	}
}

// A resident an older version stored without the text check is not handed to the review
// screen; the officer reads why.
func TestResidentByNIKRefusesUnsafeStoredText(t *testing.T) {
	ctx := context.Background()
	s, _ := mustCreate(t, testOptions())
	old, clean := snapshot.Synthetic(4, 2), snapshot.Synthetic(4, 3)
	old.Name = "Siti \u202Ehanima"
	clean.Name = "De\u0301sire\u0301e" // NFD displays the same: handed out as stored
	// Written as an older version wrote them: no checks.
	err := s.write(ctx, func(tx *sql.Tx) error {
		w, err := s.newSnapshotWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.close()
		for _, r := range []kiosk.Resident{old, clean} {
			if err := w.put(ctx, s.sealResident(r)); err != nil {
				return err
			}
		}
		_, _, err = w.finish(ctx, "", 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ResidentByNIK(ctx, old.NIK)
	if !errors.Is(err, ErrUnsafeResidentText) || !strings.Contains(err.Error(), "U+202E") {
		t.Fatalf("err = %v, want ErrUnsafeResidentText naming the character", err)
	}
	if msg := kiosk.OfficerMessage(err, kiosk.LangID); msg != ErrUnsafeResidentText.Msg.ID {
		t.Errorf("officer reads %q", msg)
	}
	if got, err := s.ResidentByNIK(ctx, clean.NIK); err != nil || got.Name != clean.Name {
		t.Errorf("NFD resident: %q %v", got.Name, err)
	}
}
