package kiosk

import (
	"context"
	"fmt"
	"strings"
)

// State is a step of the counter workflow.
type State string

const (
	StateIdle          State = "idle"
	StateTokenScanned  State = "token_scanned" // activation: a valid QR was read
	StateNIKEntered    State = "nik_entered"   // deactivation: the officer typed a valid NIK
	StateResidentFound State = "resident_found"
	StateFaceMatched   State = "face_matched"
	StateFaceUncertain State = "face_uncertain" // the officer must compare the photo by eye
	StateFaceFailed    State = "face_failed"
	StateQueued        State = "queued" // terminal: the signed record is durable in the outbox
	StateRejected      State = "rejected"
	StateAbandoned     State = "abandoned"
)

// Terminal reports whether no further action is possible.
func (s State) Terminal() bool {
	return s == StateQueued || s == StateRejected || s == StateAbandoned
}

// Purpose is what a flow is for.
type Purpose string

const (
	PurposeActivation   Purpose = "activation"
	PurposeDeactivation Purpose = "deactivation"
)

// Deps are the adapters a flow talks to.
type Deps struct {
	Tokens    TokenVerifier
	Residents Residents
	Faces     FaceVerifier
	Outbox    Outbox
	Audit     AuditLog
	Sealer    Sealer
	Clock     Clock
	IDs       IDs
	KioskID   string
}

// Approval is the officer's decision to go ahead.
type Approval struct {
	// EyeChecked says the officer compared the citizen with the reference photo by eye;
	// required when the face band is uncertain or the face also matches other residents.
	EyeChecked bool
	// Reason is required for deactivations (for example "HP hilang").
	Reason string
}

// Flow is one citizen's visit at the counter, an explicit state machine. Every action checks
// that it is legal in the current state; a failed action leaves the state unchanged. Nothing
// is written until the flow ends: Approve writes the record and its audit entry in one
// transaction, Reject and Abandon write one audit entry.
type Flow struct {
	deps     Deps
	officer  Officer
	purpose  Purpose
	state    State
	token    Token
	nik      NIK
	resident Resident
	face     FaceResult
	record   OutboxRecord
}

// NewActivation starts an activation flow for officer.
func NewActivation(d Deps, officer Officer) *Flow {
	return &Flow{deps: d, officer: officer, purpose: PurposeActivation, state: StateIdle}
}

// NewDeactivation starts a lost-phone deactivation flow for officer.
func NewDeactivation(d Deps, officer Officer) *Flow {
	return &Flow{deps: d, officer: officer, purpose: PurposeDeactivation, state: StateIdle}
}

func (f *Flow) State() State         { return f.state }
func (f *Flow) Purpose() Purpose     { return f.purpose }
func (f *Flow) Token() Token         { return f.token }
func (f *Flow) NIK() NIK             { return f.nik }
func (f *Flow) Resident() Resident   { return f.resident }
func (f *Flow) Face() FaceResult     { return f.face }
func (f *Flow) Record() OutboxRecord { return f.record }
func (f *Flow) Officer() Officer     { return f.officer }
func (f *Flow) legal(action string, from ...State) error {
	for _, s := range from {
		if f.state == s {
			return nil
		}
	}
	return &TransitionError{From: f.state, Action: action}
}

// ScanToken verifies the QR text of an activation and refuses a registration already
// activated on this kiosk.
func (f *Flow) ScanToken(ctx context.Context, text string) error {
	if f.purpose != PurposeActivation {
		return &TransitionError{From: f.state, Action: "scan token in a deactivation"}
	}
	if err := f.legal("scan token", StateIdle); err != nil {
		return err
	}
	tok, err := f.deps.Tokens.Verify(ctx, text, f.deps.Clock.Now())
	if err != nil {
		return fmt.Errorf("verify token: %w", err)
	}
	used, err := f.deps.Outbox.RegistrationUsed(ctx, tok.RegistrationID)
	if err != nil {
		return fmt.Errorf("check registration: %w", err)
	}
	if used {
		return ErrAlreadyActivated.With(fmt.Errorf("registration %s", tok.RegistrationID))
	}
	f.token, f.nik, f.state = tok, tok.NIK, StateTokenScanned
	return nil
}

// EnterNIK takes the NIK the officer typed for a deactivation.
func (f *Flow) EnterNIK(text string) error {
	if f.purpose != PurposeDeactivation {
		return &TransitionError{From: f.state, Action: "enter NIK in an activation"}
	}
	if err := f.legal("enter NIK", StateIdle); err != nil {
		return err
	}
	nik, err := ParseNIK(strings.TrimSpace(text))
	if err != nil {
		return err
	}
	f.nik, f.state = nik, StateNIKEntered
	return nil
}

// FindResident looks the NIK up in the local snapshot. Only an active resident goes on.
func (f *Flow) FindResident(ctx context.Context) error {
	if err := f.legal("find resident", StateTokenScanned, StateNIKEntered); err != nil {
		return err
	}
	r, err := f.deps.Residents.ResidentByNIK(ctx, f.nik)
	if err != nil {
		return fmt.Errorf("find resident %s: %w", f.nik.Masked(), err)
	}
	if r.Status != ResidentActive {
		return ErrResidentInactive.With(fmt.Errorf("resident %s status %q", f.nik.Masked(), r.Status))
	}
	f.resident, f.state = r, StateResidentFound
	return nil
}

// VerifyFace captures and checks the live face. It may be repeated (new light, glasses off)
// until the officer approves or rejects. A resident without reference descriptors goes to the
// uncertain band without a capture: only the officer's eye can decide.
func (f *Flow) VerifyFace(ctx context.Context) error {
	if err := f.legal("verify face", StateResidentFound, StateFaceMatched, StateFaceUncertain, StateFaceFailed); err != nil {
		return err
	}
	if len(f.resident.References) == 0 {
		f.face, f.state = FaceResult{Band: BandUncertain, Score: -1}, StateFaceUncertain
		return nil
	}
	res, err := f.deps.Faces.VerifyFace(ctx, f.resident)
	if err != nil {
		return fmt.Errorf("verify face: %w", err)
	}
	f.face = res
	switch res.Band {
	case BandMatch:
		f.state = StateFaceMatched
	case BandUncertain:
		f.state = StateFaceUncertain
	default:
		f.state = StateFaceFailed
	}
	return nil
}

// Approve seals the record and queues it durably with its audit entry. A face that did not
// match cannot be approved; an uncertain one, or one that also matches other residents, needs
// the officer's eye check.
func (f *Flow) Approve(ctx context.Context, a Approval) error {
	if f.state == StateFaceFailed {
		return ErrFaceNotMatched
	}
	if err := f.legal("approve", StateFaceMatched, StateFaceUncertain); err != nil {
		return err
	}
	if NeedsEyeCheck(f.face) && !a.EyeChecked {
		return ErrEyeCheckRequired
	}
	reason := strings.TrimSpace(a.Reason)
	if f.purpose == PurposeDeactivation && reason == "" {
		return ErrReasonRequired
	}
	now := f.deps.Clock.Now()
	rec := OutboxRecord{ID: f.deps.IDs.NewID(), NIK: f.nik, State: RecordPending, CreatedAt: now}
	var payload any
	if f.purpose == PurposeActivation {
		rec.Kind, rec.RegistrationID = KindActivation, f.token.RegistrationID
		payload = Activation{
			ID: rec.ID, RegistrationID: f.token.RegistrationID, NIK: f.nik, OfficerID: f.officer.ID,
			KioskID: f.deps.KioskID, TokenKeyID: f.token.KeyID, FaceBand: f.face.Band,
			FaceScore: f.face.Score, EyeChecked: a.EyeChecked, ApprovedAt: now,
		}
	} else {
		rec.Kind = KindDeactivation
		payload = Deactivation{
			ID: rec.ID, NIK: f.nik, OfficerID: f.officer.ID, KioskID: f.deps.KioskID, Reason: reason,
			FaceBand: f.face.Band, FaceScore: f.face.Score, EyeChecked: a.EyeChecked, ConfirmedAt: now,
		}
	}
	env, err := f.deps.Sealer.Seal(rec.Kind, rec.ID, payload)
	if err != nil {
		return fmt.Errorf("seal %s: %w", rec.Kind, err)
	}
	rec.Envelope = env
	ev := AuditEvent{Time: now, OfficerID: f.officer.ID, Action: string(rec.Kind) + ".approved",
		Subject: rec.ID, Detail: fmt.Sprintf("nik=%s band=%s score=%.3f eye_checked=%t", f.nik.Masked(), f.face.Band, f.face.Score, a.EyeChecked)}
	if err := f.deps.Outbox.Enqueue(ctx, rec, ev); err != nil {
		return fmt.Errorf("queue %s: %w", rec.Kind, err)
	}
	f.record, f.state = rec, StateQueued
	return nil
}

// Reject ends the flow with the officer's reason, recorded in the audit log.
func (f *Flow) Reject(ctx context.Context, reason string) error {
	if err := f.legal("reject", StateTokenScanned, StateNIKEntered, StateResidentFound, StateFaceMatched, StateFaceUncertain, StateFaceFailed); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return ErrReasonRequired
	}
	if err := f.audit(ctx, "rejected", reason); err != nil {
		return err
	}
	f.state = StateRejected
	return nil
}

// Abandon ends the flow without a decision (the citizen left, the officer cancelled). An
// abandoned flow that had started is recorded in the audit log; one still idle leaves no trace.
func (f *Flow) Abandon(ctx context.Context) error {
	if f.state.Terminal() {
		return &TransitionError{From: f.state, Action: "abandon"}
	}
	if f.state != StateIdle {
		if err := f.audit(ctx, "abandoned", "at "+string(f.state)); err != nil {
			return err
		}
	}
	f.state = StateAbandoned
	return nil
}

func (f *Flow) audit(ctx context.Context, outcome, detail string) error {
	ev := AuditEvent{Time: f.deps.Clock.Now(), OfficerID: f.officer.ID,
		Action: string(f.purpose) + "." + outcome, Subject: f.nik.Masked(), Detail: detail}
	if f.token.RegistrationID != "" {
		ev.Detail += " registration=" + f.token.RegistrationID
	}
	if err := f.deps.Audit.Record(ctx, ev); err != nil {
		return fmt.Errorf("audit %s: %w", ev.Action, err)
	}
	return nil
}
