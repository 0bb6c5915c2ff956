// Package kiosktest holds the fakes of the kiosk's ports (kiosk/ports.go), one per
// interface, for the tests of the core and of the packages around it.
//
// Each fake is a struct of function fields named after its methods (Outbox.EnqueueFn for
// Outbox.Enqueue), and each method calls its field. A nil field means the call was not
// expected: a method with an error result returns an error matching ErrUnexpectedCall that
// names the method, and the two without one (Clock.Now, IDs.NewID) panic with that error. A
// zero-value fake never answers silently.
//
// Ready-made fakes for what tests commonly need: FixedClock, SequentialIDs, Keyring, and
// MemOutbox, an in-memory Outbox and AuditLog.
//
// The package is pure Go and does not import testing, so that non-test code (a demo) can use
// it too.
package kiosktest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

// ErrUnexpectedCall is what a fake's method answers when its function field is nil.
var ErrUnexpectedCall = errors.New("kiosktest: unexpected call")

func unexpected(method string) error {
	return fmt.Errorf("%w to %s (its function field is nil)", ErrUnexpectedCall, method)
}

var (
	_ kiosk.TokenVerifier = (*TokenVerifier)(nil)
	_ kiosk.Residents     = (*Residents)(nil)
	_ kiosk.FaceVerifier  = (*FaceVerifier)(nil)
	_ kiosk.Outbox        = (*Outbox)(nil)
	_ kiosk.AuditLog      = (*AuditLog)(nil)
	_ kiosk.Sealer        = (*Sealer)(nil)
	_ kiosk.Clock         = (*Clock)(nil)
	_ kiosk.IDs           = (*IDs)(nil)
	_ kiosk.TrustStore    = (*TrustStore)(nil)
)

// TokenVerifier is a fake kiosk.TokenVerifier.
type TokenVerifier struct {
	VerifyFn func(ctx context.Context, text string, now time.Time) (kiosk.Token, error)
}

// Verify calls VerifyFn.
func (f *TokenVerifier) Verify(ctx context.Context, text string, now time.Time) (kiosk.Token, error) {
	if f.VerifyFn == nil {
		return kiosk.Token{}, unexpected("TokenVerifier.Verify")
	}
	return f.VerifyFn(ctx, text, now)
}

// Residents is a fake kiosk.Residents.
type Residents struct {
	ResidentByNIKFn func(ctx context.Context, nik kiosk.NIK) (kiosk.Resident, error)
}

// ResidentByNIK calls ResidentByNIKFn.
func (f *Residents) ResidentByNIK(ctx context.Context, nik kiosk.NIK) (kiosk.Resident, error) {
	if f.ResidentByNIKFn == nil {
		return kiosk.Resident{}, unexpected("Residents.ResidentByNIK")
	}
	return f.ResidentByNIKFn(ctx, nik)
}

// FaceVerifier is a fake kiosk.FaceVerifier.
type FaceVerifier struct {
	VerifyFaceFn func(ctx context.Context, r kiosk.Resident) (kiosk.FaceResult, error)
}

// VerifyFace calls VerifyFaceFn.
func (f *FaceVerifier) VerifyFace(ctx context.Context, r kiosk.Resident) (kiosk.FaceResult, error) {
	if f.VerifyFaceFn == nil {
		return kiosk.FaceResult{}, unexpected("FaceVerifier.VerifyFace")
	}
	return f.VerifyFaceFn(ctx, r)
}

// Outbox is a fake kiosk.Outbox. MemOutbox is a ready-made one.
type Outbox struct {
	EnqueueFn          func(ctx context.Context, rec kiosk.OutboxRecord, ev kiosk.AuditEvent) error
	RegistrationUsedFn func(ctx context.Context, regID string) (bool, error)
}

// Enqueue calls EnqueueFn.
func (f *Outbox) Enqueue(ctx context.Context, rec kiosk.OutboxRecord, ev kiosk.AuditEvent) error {
	if f.EnqueueFn == nil {
		return unexpected("Outbox.Enqueue")
	}
	return f.EnqueueFn(ctx, rec, ev)
}

// RegistrationUsed calls RegistrationUsedFn.
func (f *Outbox) RegistrationUsed(ctx context.Context, regID string) (bool, error) {
	if f.RegistrationUsedFn == nil {
		return false, unexpected("Outbox.RegistrationUsed")
	}
	return f.RegistrationUsedFn(ctx, regID)
}

// AuditLog is a fake kiosk.AuditLog. MemOutbox is a ready-made one.
type AuditLog struct {
	RecordFn func(ctx context.Context, ev kiosk.AuditEvent) error
}

// Record calls RecordFn.
func (f *AuditLog) Record(ctx context.Context, ev kiosk.AuditEvent) error {
	if f.RecordFn == nil {
		return unexpected("AuditLog.Record")
	}
	return f.RecordFn(ctx, ev)
}

// Sealer is a fake kiosk.Sealer.
type Sealer struct {
	SealFn func(kind kiosk.RecordKind, id string, payload any) ([]byte, error)
}

// Seal calls SealFn.
func (f *Sealer) Seal(kind kiosk.RecordKind, id string, payload any) ([]byte, error) {
	if f.SealFn == nil {
		return nil, unexpected("Sealer.Seal")
	}
	return f.SealFn(kind, id, payload)
}

// Clock is a fake kiosk.Clock. FixedClock is a ready-made one.
type Clock struct {
	NowFn func() time.Time
}

// Now calls NowFn; it panics if NowFn is nil.
func (f *Clock) Now() time.Time {
	if f.NowFn == nil {
		panic(unexpected("Clock.Now"))
	}
	return f.NowFn()
}

// IDs is a fake kiosk.IDs. SequentialIDs is a ready-made one.
type IDs struct {
	NewIDFn func() string
}

// NewID calls NewIDFn; it panics if NewIDFn is nil.
func (f *IDs) NewID() string {
	if f.NewIDFn == nil {
		panic(unexpected("IDs.NewID"))
	}
	return f.NewIDFn()
}

// TrustStore is a fake kiosk.TrustStore. Keyring is a ready-made one.
type TrustStore struct {
	RegistryKeyFn func(ctx context.Context, kid string) (kiosk.RegistryKey, error)
}

// RegistryKey calls RegistryKeyFn.
func (f *TrustStore) RegistryKey(ctx context.Context, kid string) (kiosk.RegistryKey, error) {
	if f.RegistryKeyFn == nil {
		return kiosk.RegistryKey{}, unexpected("TrustStore.RegistryKey")
	}
	return f.RegistryKeyFn(ctx, kid)
}

var (
	_ kiosk.OfficerLogin = (*OfficerLogin)(nil)
	_ kiosk.SyncStore    = (*SyncStore)(nil)
)

// OfficerLogin is a fake kiosk.OfficerLogin.
type OfficerLogin struct {
	LoginFn func(ctx context.Context, id, pin string) (kiosk.Officer, error)
}

// Login calls LoginFn.
func (f *OfficerLogin) Login(ctx context.Context, id, pin string) (kiosk.Officer, error) {
	if f.LoginFn == nil {
		return kiosk.Officer{}, unexpected("OfficerLogin.Login")
	}
	return f.LoginFn(ctx, id, pin)
}

// SyncStore is a fake kiosk.SyncStore.
type SyncStore struct {
	ToSendFn         func(ctx context.Context, limit int) ([]kiosk.OutboxRecord, error)
	MarkSentFn       func(ctx context.Context, ids []string) error
	RecordAnswersFn  func(ctx context.Context, answers []kiosk.RecordAnswer) error
	RecordCountsFn   func(ctx context.Context) (map[kiosk.RecordState]int, error)
	SnapshotCursorFn func(ctx context.Context) (string, error)
	ApplyDeltaFn     func(ctx context.Context, d kiosk.Delta) (kiosk.DeltaCounts, error)
	AnchorClockFn    func(ctx context.Context, registryTime time.Time) error
	// AuditHeadFn nil: an empty log. SyncHaltFn nil: no halt. HaltSyncFn nil: unexpected.
	AuditHeadFn func(ctx context.Context) (kiosk.AuditHead, error)
	HaltSyncFn  func(ctx context.Context, code, detail string) error
	SyncHaltFn  func(ctx context.Context) (string, error)
}

// ToSend calls ToSendFn.
func (f *SyncStore) ToSend(ctx context.Context, limit int) ([]kiosk.OutboxRecord, error) {
	if f.ToSendFn == nil {
		return nil, unexpected("SyncStore.ToSend")
	}
	return f.ToSendFn(ctx, limit)
}

// MarkSent calls MarkSentFn.
func (f *SyncStore) MarkSent(ctx context.Context, ids []string) error {
	if f.MarkSentFn == nil {
		return unexpected("SyncStore.MarkSent")
	}
	return f.MarkSentFn(ctx, ids)
}

// RecordAnswers calls RecordAnswersFn.
func (f *SyncStore) RecordAnswers(ctx context.Context, answers []kiosk.RecordAnswer) error {
	if f.RecordAnswersFn == nil {
		return unexpected("SyncStore.RecordAnswers")
	}
	return f.RecordAnswersFn(ctx, answers)
}

// RecordCounts calls RecordCountsFn.
func (f *SyncStore) RecordCounts(ctx context.Context) (map[kiosk.RecordState]int, error) {
	if f.RecordCountsFn == nil {
		return nil, unexpected("SyncStore.RecordCounts")
	}
	return f.RecordCountsFn(ctx)
}

// SnapshotCursor calls SnapshotCursorFn.
func (f *SyncStore) SnapshotCursor(ctx context.Context) (string, error) {
	if f.SnapshotCursorFn == nil {
		return "", unexpected("SyncStore.SnapshotCursor")
	}
	return f.SnapshotCursorFn(ctx)
}

// ApplyDelta calls ApplyDeltaFn.
func (f *SyncStore) ApplyDelta(ctx context.Context, d kiosk.Delta) (kiosk.DeltaCounts, error) {
	if f.ApplyDeltaFn == nil {
		return kiosk.DeltaCounts{}, unexpected("SyncStore.ApplyDelta")
	}
	return f.ApplyDeltaFn(ctx, d)
}

// AnchorClock calls AnchorClockFn.
func (f *SyncStore) AnchorClock(ctx context.Context, registryTime time.Time) error {
	if f.AnchorClockFn == nil {
		return unexpected("SyncStore.AnchorClock")
	}
	return f.AnchorClockFn(ctx, registryTime)
}

// AuditHead calls AuditHeadFn.
func (f *SyncStore) AuditHead(ctx context.Context) (kiosk.AuditHead, error) {
	if f.AuditHeadFn == nil {
		return kiosk.AuditHead{}, nil
	}
	return f.AuditHeadFn(ctx)
}

// HaltSync calls HaltSyncFn.
func (f *SyncStore) HaltSync(ctx context.Context, code, detail string) error {
	if f.HaltSyncFn == nil {
		return unexpected("SyncStore.HaltSync")
	}
	return f.HaltSyncFn(ctx, code, detail)
}

// SyncHalt calls SyncHaltFn.
func (f *SyncStore) SyncHalt(ctx context.Context) (string, error) {
	if f.SyncHaltFn == nil {
		return "", nil
	}
	return f.SyncHaltFn(ctx)
}
