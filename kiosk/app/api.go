// Package app is the kiosk's composition root: from a Config it builds everything a running
// kiosk needs (store, anchored clock, ids, token verifier, sealer, face pipeline with its 1:N
// index, camera bus, sync engine) and exposes it to the fyne screens, the headless demo and
// ikdctl through the interfaces in this file. cmd/ only parses flags and calls Open.
package app

import (
	"context"
	"image"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/receipt"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// Kiosk is a running kiosk before and after unlock. Its methods are safe for concurrent use
// from the UI goroutine and background goroutines.
type Kiosk interface {
	// Unlock opens the encrypted store with the kiosk's unlock secret and starts the
	// background work (model loading, camera, sync). A wrong secret fails with a *kiosk.Error
	// and leaves the kiosk locked.
	Unlock(ctx context.Context, secret []byte) error
	// Locked reports whether Unlock has not succeeded yet.
	Locked() bool
	// Officers lists who may log in (for the login screen's list), after Unlock.
	Officers(ctx context.Context) ([]kiosk.Officer, error)
	// Login checks an officer's PIN and starts their session.
	Login(ctx context.Context, officerID, pin string) (Session, error)
	// Status is what the home screen and the sync panel show; cheap, never blocks on I/O.
	Status() Status
	// RetryCamera opens the configured camera again now instead of after the backoff.
	RetryCamera()
	// SyncNow asks the sync engine for a round now; it returns at once.
	SyncNow()
	// SyncRound runs one push and one pull now and waits for them: the officer's manual sync,
	// answered in words. ErrNotEnrolled when the kiosk has no registry yet.
	SyncRound(ctx context.Context) (ikdsync.RoundResult, error)
	// Preview subscribes to the camera's latest frames for the live preview; cancel ends it.
	Preview(ctx context.Context) (<-chan Frame, error)
	// Settings returns the current settings.
	Settings() Settings
	// Close stops everything and closes the store.
	Close() error
}

// Session is one logged-in officer at the counter.
type Session interface {
	Officer() kiosk.Officer
	// NewActivation starts a citizen's activation visit.
	NewActivation() Visit
	// NewDeactivation starts a lost-phone deactivation visit.
	NewDeactivation() Visit
	// ConfirmSupervisor checks a supervisor's PIN for a supervisor-only action (settings,
	// confirming a deactivation where configured); the current officer if a supervisor
	// needs no second PIN but still passes it.
	ConfirmSupervisor(ctx context.Context, supervisorID, pin string) (kiosk.Officer, error)
	// UpdateSettings applies settings within their safe bounds; supervisor only.
	UpdateSettings(ctx context.Context, by kiosk.Officer, s Settings) error
	// Stats returns the counter statistics of day (local date).
	Stats(ctx context.Context, day time.Time) (DailySummary, error)
	// Records lists outbox records in state (all if empty), newest first, for the sync panel.
	// Activations and code re-issues carry their registration id and NIK, read from the
	// signed record, so the panel can offer a re-issue of an activation's code.
	Records(ctx context.Context, state kiosk.RecordState, limit int) ([]kiosk.OutboxRecord, error)
	// PaperReceipt is the printable receipt of record id in its current state (see PaperReceipt).
	PaperReceipt(ctx context.Context, id string) (receipt.Receipt, error)
	// ReissueCode asks the registry for a new activation code of registrationID (approved at
	// a counter, not confirmed, its code expired or burned by wrong tries): it queues a signed
	// code_reissue record with its audit entry and asks for a sync. The registry's answer
	// shows in Records after the sync.
	ReissueCode(ctx context.Context, registrationID string, nik kiosk.NIK) (kiosk.OutboxRecord, error)
	// KeepAlive records the officer's activity at the screen (keys, taps), so that the
	// session's idle lock follows the window's; it refuses a session already locked.
	KeepAlive() error
	// Lock ends the session (idle timeout, officer switch).
	Lock()
}

// Visit is one citizen at the counter: the workflow's state machine plus the camera steps and
// the per-step timings. Every method returns the officer-facing *kiosk.Error of the core on
// a refusal and leaves the visit where it was.
type Visit interface {
	Purpose() kiosk.Purpose
	State() kiosk.State
	// ScanQR watches the camera until a QR token is read and verified (or ctx ends);
	// progress, if set, receives the outline of each QR candidate for the preview overlay.
	ScanQR(ctx context.Context, progress func(ScanProgress)) error
	// EnterToken accepts a token typed by a hand scanner into a field.
	EnterToken(ctx context.Context, text string) error
	// EnterNIK starts a deactivation from a typed NIK; the error says why a NIK is invalid.
	EnterNIK(ctx context.Context, text string) error
	// FindResident looks the citizen up in the snapshot.
	FindResident(ctx context.Context) error
	// CaptureFace runs capture, quality gate, liveness and matching on the camera; progress
	// receives the face box and the hint to show the citizen. It waits for the models with
	// FaceLoading progress while they load.
	CaptureFace(ctx context.Context, progress func(FaceProgress)) error
	// Review is what the officer sees before deciding.
	Review() Review
	// Approve queues the signed record; Reject records the reason (a list code plus free text).
	Approve(ctx context.Context, a kiosk.Approval) (Receipt, error)
	Reject(ctx context.Context, reason RejectReason, note string) error
	// Abandon ends the visit (the citizen left).
	Abandon(ctx context.Context) error
	// Timings are the visit's per-step durations so far.
	Timings() Timings
}

// Frame is one camera frame for the preview.
type Frame struct {
	Image    image.Image
	Seq      uint64
	Captured time.Time
}

// ScanProgress is the QR scanner's view of one frame.
type ScanProgress struct {
	Outline []image.Point // corners of the QR code read (TL, TR, BR, BL), empty if none
	Hint    string        // message key for the officer/citizen, e.g. HintQRRead ("scan.read")
}

// FaceProgress is the face step's view of one frame.
type FaceProgress struct {
	Loading bool            // models still loading
	Box     image.Rectangle // the face found, empty if none
	Hint    string          // message key of the prompt to show large (quality or liveness)
	Prompt  kiosk.Message   // the prompt's text in both languages, as the face package words it
}

// Review is what the officer reads back to the citizen and compares before approving.
type Review struct {
	Token     kiosk.Token // masked e-mail and phone to read back
	Resident  kiosk.Resident
	Reference image.Image // the reference photo, nil if the snapshot has none
	Live      image.Image // the best live capture
	Face      kiosk.FaceResult
}

// Receipt is what the citizen takes away after approval.
type Receipt struct {
	RecordID    string
	Purpose     kiosk.Purpose
	MaskedEmail string // "Kode aktivasi akan dikirim ke a***@gmail.com setelah sinkronisasi"
	NIK         kiosk.NIK
	Name        string
	At          time.Time
	KioskID     string
	OfficerID   string
}

// RejectReason is the short list of reasons an officer rejects a visit for.
type RejectReason string

const (
	RejectFaceMismatch RejectReason = "face_mismatch" // not the same person
	RejectNotPresent   RejectReason = "not_present"   // the citizen is not the one in the token
	RejectDocument     RejectReason = "document"      // resident data do not agree
	RejectCitizenAsked RejectReason = "citizen_asked" // the citizen withdrew
	RejectOther        RejectReason = "other"         // free text required
)

// Timings are the durations of a visit's steps.
type Timings struct {
	Scan, Resident, Face, Decision, Total time.Duration
}

// Status is the kiosk's state for the home screen and the sync panel.
type Status struct {
	Locked     bool
	FaceModels string // FaceLoading, FaceReady or FaceUnavailable
	FaceError  error  // why they are unavailable (the officer reads its *kiosk.Error)
	// FaceEngines names the engines and model classes that decide (FacePipeline.Engines),
	// an unverified licence among them; "" until the models are loaded.
	FaceEngines string
	Camera      CameraStatus // ready, missing, busy, lost, reconnecting… with the device and why
	Online      bool         // the last sync lane attempt reached the registry
	Pending     int
	Counts      map[kiosk.RecordState]int
	PushSuccess time.Time
	PullSuccess time.Time
	PushError   *kiosk.Error
	PullError   *kiosk.Error
	// SyncHalted is the registry's refusal that stopped pushes (a roll-back of this kiosk's
	// database), kept in the store until an operator intervenes; nil if none.
	SyncHalted  *kiosk.Error
	ClockStatus string // "synced", "restored", "unanchored"
	// SyncUnavailable says why there is no sync engine (not enrolled); "" when it runs.
	SyncUnavailable string
	// Data is when the residents, keys and revocations were last brought up to date, Now the
	// kiosk's time they are measured against, and Stale the policy's verdict on them for an
	// activation (deactivations are never limited).
	Data  kiosk.DataAges
	Now   time.Time
	Stale kiosk.StaleVerdict
}

// Settings are what a supervisor may change.
type Settings struct {
	CameraDevice string
	CameraWidth  int
	CameraHeight int
	RegistryURL  string
	IdleLock     time.Duration
	Lang         kiosk.Lang
	// Thresholds may only move within the calibration's safe bounds (stricter, not looser).
	Thresholds kiosk.FaceThresholds
	// SupervisorForDeactivation: a lost-phone deactivation needs a supervisor's PIN.
	SupervisorForDeactivation bool
	// Stale are the limits on how old the kiosk's data may be for an activation; zero:
	// kiosk.DefaultStalePolicy. Kept in the store with Retention across restarts.
	Stale kiosk.StalePolicy
	// Retention is how long an answered record's evidence is kept (store.Purge); zero:
	// DefaultRetention.
	Retention time.Duration
}

// DailySummary is a day's counter statistics, exportable as CSV for the Dinas.
type DailySummary struct {
	Day                            time.Time
	Served, Activated, Deactivated int
	RejectedBy                     map[RejectReason]int
	Abandoned                      int
	MedianVisit, P90Visit          time.Duration
	Visits                         []VisitStat
}

// VisitStat is one visit's outcome and step timings.
type VisitStat struct {
	At      time.Time
	Purpose kiosk.Purpose
	Outcome string // "approved", "rejected:<reason>", "abandoned"
	Timings Timings
}
