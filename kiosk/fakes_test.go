package kiosk_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

// Fakes for the workflow's ports: structs of function fields, one place.

type fakeTokens struct {
	VerifyFn func(ctx context.Context, text string, now time.Time) (kiosk.Token, error)
}

func (f *fakeTokens) Verify(ctx context.Context, text string, now time.Time) (kiosk.Token, error) {
	return f.VerifyFn(ctx, text, now)
}

type fakeResidents struct {
	ResidentByNIKFn func(ctx context.Context, nik kiosk.NIK) (kiosk.Resident, error)
}

func (f *fakeResidents) ResidentByNIK(ctx context.Context, nik kiosk.NIK) (kiosk.Resident, error) {
	return f.ResidentByNIKFn(ctx, nik)
}

type fakeFaces struct {
	VerifyFaceFn func(ctx context.Context, r kiosk.Resident) (kiosk.FaceResult, error)
}

func (f *fakeFaces) VerifyFace(ctx context.Context, r kiosk.Resident) (kiosk.FaceResult, error) {
	return f.VerifyFaceFn(ctx, r)
}

// memOutbox keeps queued records and audit events in memory, enforcing the same uniqueness
// rules as the real store.
type memOutbox struct {
	records  []kiosk.OutboxRecord
	events   []kiosk.AuditEvent
	failWith error
}

func (m *memOutbox) Enqueue(ctx context.Context, rec kiosk.OutboxRecord, ev kiosk.AuditEvent) error {
	if m.failWith != nil {
		return m.failWith
	}
	for _, r := range m.records {
		if rec.Kind == kiosk.KindActivation && r.RegistrationID == rec.RegistrationID {
			return kiosk.ErrAlreadyActivated
		}
	}
	m.records = append(m.records, rec)
	m.events = append(m.events, ev)
	return nil
}

func (m *memOutbox) RegistrationUsed(ctx context.Context, regID string) (bool, error) {
	for _, r := range m.records {
		if r.RegistrationID == regID {
			return true, nil
		}
	}
	return false, nil
}

func (m *memOutbox) Record(ctx context.Context, ev kiosk.AuditEvent) error {
	if m.failWith != nil {
		return m.failWith
	}
	m.events = append(m.events, ev)
	return nil
}

type fakeSealer struct {
	SealFn func(kind kiosk.RecordKind, id string, payload any) ([]byte, error)
}

func (f *fakeSealer) Seal(kind kiosk.RecordKind, id string, payload any) ([]byte, error) {
	return f.SealFn(kind, id, payload)
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

type seqIDs struct{ n int }

func (s *seqIDs) NewID() string { s.n++; return fmt.Sprintf("rec-%d", s.n) }

var (
	_ kiosk.TokenVerifier = (*fakeTokens)(nil)
	_ kiosk.Residents     = (*fakeResidents)(nil)
	_ kiosk.FaceVerifier  = (*fakeFaces)(nil)
	_ kiosk.Outbox        = (*memOutbox)(nil)
	_ kiosk.AuditLog      = (*memOutbox)(nil)
	_ kiosk.Sealer        = (*fakeSealer)(nil)
	_ kiosk.Clock         = fixedClock{}
	_ kiosk.IDs           = (*seqIDs)(nil)
)
