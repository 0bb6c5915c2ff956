package kiosktest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/kiosktest"
)

func TestNilFieldIsAnUnexpectedCall(t *testing.T) {
	ctx := context.Background()
	calls := map[string]func() error{
		"TokenVerifier": func() error { _, err := (&kiosktest.TokenVerifier{}).Verify(ctx, "", time.Time{}); return err },
		"Residents":     func() error { _, err := (&kiosktest.Residents{}).ResidentByNIK(ctx, ""); return err },
		"FaceVerifier":  func() error { _, err := (&kiosktest.FaceVerifier{}).VerifyFace(ctx, kiosk.Resident{}); return err },
		"Outbox.Enqueue": func() error {
			return (&kiosktest.Outbox{}).Enqueue(ctx, kiosk.OutboxRecord{}, kiosk.AuditEvent{})
		},
		"Outbox.RegistrationUsed": func() error { _, err := (&kiosktest.Outbox{}).RegistrationUsed(ctx, ""); return err },
		"AuditLog":                func() error { return (&kiosktest.AuditLog{}).Record(ctx, kiosk.AuditEvent{}) },
		"Sealer":                  func() error { _, err := (&kiosktest.Sealer{}).Seal(kiosk.KindActivation, "", nil); return err },
		"TrustStore":              func() error { _, err := (&kiosktest.TrustStore{}).RegistryKey(ctx, ""); return err },
		"OfficerLogin":            func() error { _, err := (&kiosktest.OfficerLogin{}).Login(ctx, "", ""); return err },
		"SyncStore.ToSend":        func() error { _, err := (&kiosktest.SyncStore{}).ToSend(ctx, 1); return err },
		"SyncStore.MarkSent":      func() error { return (&kiosktest.SyncStore{}).MarkSent(ctx, nil) },
		"SyncStore.RecordAnswers": func() error { return (&kiosktest.SyncStore{}).RecordAnswers(ctx, nil) },
		"SyncStore.RecordCounts":  func() error { _, err := (&kiosktest.SyncStore{}).RecordCounts(ctx); return err },
		"SyncStore.SnapshotCursor": func() error {
			_, err := (&kiosktest.SyncStore{}).SnapshotCursor(ctx)
			return err
		},
		"SyncStore.ApplyDelta": func() error {
			_, err := (&kiosktest.SyncStore{}).ApplyDelta(ctx, kiosk.Delta{})
			return err
		},
		"SyncStore.AnchorClock": func() error { return (&kiosktest.SyncStore{}).AnchorClock(ctx, time.Time{}) },
		"Clock":                 func() error { return recovered(func() { (&kiosktest.Clock{}).Now() }) },
		"IDs":                   func() error { return recovered(func() { (&kiosktest.IDs{}).NewID() }) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, kiosktest.ErrUnexpectedCall) {
			t.Errorf("%s with a nil field: %v, want ErrUnexpectedCall", name, err)
		}
	}
}

// recovered runs f and returns the error it panicked with.
func recovered(f func()) (err error) {
	defer func() { err, _ = recover().(error) }()
	f()
	return nil
}
