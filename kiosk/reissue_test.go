package kiosk_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
)

func TestReissueCodeQueuesSignedRecord(t *testing.T) {
	h := newHarness()
	var sealed kiosk.CodeReissue
	seal := h.sealer.SealFn
	h.sealer.SealFn = func(kind kiosk.RecordKind, id string, payload any) ([]byte, error) {
		sealed, _ = payload.(kiosk.CodeReissue)
		return seal(kind, id, payload)
	}
	rec, err := kiosk.ReissueCode(context.Background(), h.deps(), officer, " reg-1 ", testNIK)
	if err != nil {
		t.Fatal(err)
	}
	want := kiosk.CodeReissue{ID: rec.ID, RegistrationID: "reg-1", NIK: testNIK, OfficerID: officer.ID,
		KioskID: "kiosk-1", RequestedAt: testNow}
	if sealed != want {
		t.Fatalf("sealed %+v, want %+v", sealed, want)
	}
	if rec.Kind != kiosk.KindCodeReissue || rec.RegistrationID != "reg-1" || rec.NIK != testNIK ||
		rec.State != kiosk.RecordPending || len(rec.Envelope) == 0 {
		t.Fatalf("record %+v", rec)
	}
	if len(h.outbox.Records) != 1 || h.outbox.Records[0].ID != rec.ID || len(h.outbox.Events) != 1 {
		t.Fatalf("outbox %+v", h.outbox)
	}
	ev := h.outbox.Events[0]
	if ev.Action != "code_reissue.requested" || ev.OfficerID != officer.ID || ev.Subject != rec.ID ||
		strings.Contains(ev.Detail, string(testNIK)) {
		t.Fatalf("audit event %+v (never a plain NIK)", ev)
	}
}

func TestReissueCodeRefuses(t *testing.T) {
	queueFull := errors.New("disk full")
	cases := []struct {
		name  string
		reg   string
		nik   kiosk.NIK
		fail  error
		want  error
		wantK bool // want is a *kiosk.Error to match by errors.Is
	}{
		{"no registration", "  ", testNIK, nil, kiosk.ErrReissueNoRegistration, true},
		{"invalid NIK", "reg-1", "3201014101900000", nil, nil, true},
		{"outbox refuses", "reg-1", testNIK, queueFull, queueFull, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness()
			h.outbox.Err = c.fail
			_, err := kiosk.ReissueCode(context.Background(), h.deps(), officer, c.reg, c.nik)
			if err == nil {
				t.Fatal("accepted")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if _, ok := errors.AsType[*kiosk.Error](err); c.wantK && !ok {
				t.Fatalf("error %v is not a *kiosk.Error", err)
			}
			if len(h.outbox.Records) != 0 {
				t.Fatalf("queued %+v", h.outbox.Records)
			}
		})
	}
}
