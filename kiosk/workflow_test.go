package kiosk_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/kiosktest"
)

const (
	testNIK   = kiosk.NIK("3201014101900001")
	otherNIK  = kiosk.NIK("3174052508850123")
	testToken = "IKD1:TEST"
)

var testNow = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// harness wires a flow to fakes whose behaviour each test can change.
type harness struct {
	tokens    *kiosktest.TokenVerifier
	residents *kiosktest.Residents
	faces     *kiosktest.FaceVerifier
	outbox    *kiosktest.MemOutbox
	sealer    *kiosktest.Sealer
	band      kiosk.Band
	resident  kiosk.Resident
}

func newHarness() *harness {
	h := &harness{outbox: &kiosktest.MemOutbox{}, band: kiosk.BandMatch}
	h.resident = kiosk.Resident{NIK: testNIK, Name: "Siti Aminah", Status: kiosk.ResidentActive,
		References: []kiosk.Descriptor{{0.1}}, Photo: []byte{0xff, 0xd8, 0xff}}
	h.tokens = &kiosktest.TokenVerifier{VerifyFn: func(ctx context.Context, text string, now time.Time) (kiosk.Token, error) {
		if text != testToken {
			return kiosk.Token{}, &kiosk.Error{Code: "token.damaged", Msg: kiosk.Message{ID: "QR rusak", EN: "QR damaged"}}
		}
		return kiosk.Token{KeyID: "k1", NIK: testNIK, RegistrationID: "reg-1", IssuedAt: now, ExpiresAt: now.Add(10 * time.Minute)}, nil
	}}
	h.residents = &kiosktest.Residents{ResidentByNIKFn: func(ctx context.Context, nik kiosk.NIK) (kiosk.Resident, error) {
		if nik != h.resident.NIK {
			return kiosk.Resident{}, kiosk.ErrResidentNotFound
		}
		return h.resident, nil
	}}
	h.faces = &kiosktest.FaceVerifier{VerifyFaceFn: func(ctx context.Context, r kiosk.Resident) (kiosk.FaceResult, error) {
		return kiosk.FaceResult{Band: h.band, Score: 0.3}, nil
	}}
	h.sealer = &kiosktest.Sealer{SealFn: func(kind kiosk.RecordKind, id string, payload any) ([]byte, error) {
		return []byte(fmt.Sprintf("%s/%s/%+v", kind, id, payload)), nil
	}}
	return h
}

func (h *harness) deps() kiosk.Deps {
	return kiosk.Deps{Tokens: h.tokens, Residents: h.residents, Faces: h.faces, Outbox: h.outbox,
		Audit: h.outbox, Sealer: h.sealer, Clock: kiosktest.FixedClock(testNow), IDs: kiosktest.SequentialIDs(), KioskID: "kiosk-1"}
}

var officer = kiosk.Officer{ID: "198001012005011001", Name: "Budi", Role: kiosk.RoleOfficer}

// action is one thing an officer can do to a flow.
type action struct {
	name string
	do   func(f *kiosk.Flow) error
}

var actions = []action{
	{"scan", func(f *kiosk.Flow) error { return f.ScanToken(context.Background(), testToken) }},
	{"nik", func(f *kiosk.Flow) error { return f.EnterNIK(string(testNIK)) }},
	{"find", func(f *kiosk.Flow) error { return f.FindResident(context.Background()) }},
	{"face", func(f *kiosk.Flow) error { return f.VerifyFace(context.Background()) }},
	{"approve", func(f *kiosk.Flow) error {
		return f.Approve(context.Background(), kiosk.Approval{EyeChecked: true, Reason: "HP hilang"})
	}},
	{"reject", func(f *kiosk.Flow) error { return f.Reject(context.Background(), "warga menolak foto") }},
	{"abandon", func(f *kiosk.Flow) error { return f.Abandon(context.Background()) }},
}

func act(name string) action {
	for _, a := range actions {
		if a.name == name {
			return a
		}
	}
	panic("no action " + name)
}

// reach drives a new flow to state via legal actions.
func reach(t *testing.T, h *harness, p kiosk.Purpose, state kiosk.State) *kiosk.Flow {
	t.Helper()
	f := kiosk.NewActivation(h.deps(), officer)
	first := "scan"
	if p == kiosk.PurposeDeactivation {
		f, first = kiosk.NewDeactivation(h.deps(), officer), "nik"
	}
	paths := map[kiosk.State][]string{
		kiosk.StateIdle:          nil,
		kiosk.StateTokenScanned:  {first},
		kiosk.StateNIKEntered:    {first},
		kiosk.StateResidentFound: {first, "find"},
		kiosk.StateFaceMatched:   {first, "find", "face"},
		kiosk.StateFaceUncertain: {first, "find", "face"},
		kiosk.StateFaceFailed:    {first, "find", "face"},
		kiosk.StateQueued:        {first, "find", "face", "approve"},
		kiosk.StateRejected:      {first, "reject"},
		kiosk.StateAbandoned:     {"abandon"},
	}
	switch state {
	case kiosk.StateFaceUncertain:
		h.band = kiosk.BandUncertain
	case kiosk.StateFaceFailed:
		h.band = kiosk.BandNoMatch
	}
	for _, n := range paths[state] {
		if err := act(n).do(f); err != nil {
			t.Fatalf("reach %s: %s: %v", state, n, err)
		}
	}
	if f.State() != state {
		t.Fatalf("reach %s: got %s", state, f.State())
	}
	return f
}

func TestTransitions(t *testing.T) {
	// legal[purpose][state] lists the actions allowed there, with the state each leads to.
	type next map[string]kiosk.State
	face := kiosk.State("face-*") // depends on the band
	legal := map[kiosk.Purpose]map[kiosk.State]next{
		kiosk.PurposeActivation: {
			kiosk.StateIdle:          {"scan": kiosk.StateTokenScanned, "abandon": kiosk.StateAbandoned},
			kiosk.StateTokenScanned:  {"find": kiosk.StateResidentFound, "reject": kiosk.StateRejected, "abandon": kiosk.StateAbandoned},
			kiosk.StateResidentFound: {"face": face, "reject": kiosk.StateRejected, "abandon": kiosk.StateAbandoned},
			kiosk.StateFaceMatched:   {"face": face, "approve": kiosk.StateQueued, "reject": kiosk.StateRejected, "abandon": kiosk.StateAbandoned},
			kiosk.StateFaceUncertain: {"face": face, "approve": kiosk.StateQueued, "reject": kiosk.StateRejected, "abandon": kiosk.StateAbandoned},
			kiosk.StateFaceFailed:    {"face": face, "reject": kiosk.StateRejected, "abandon": kiosk.StateAbandoned},
			kiosk.StateQueued:        {},
			kiosk.StateRejected:      {},
			kiosk.StateAbandoned:     {},
		},
		kiosk.PurposeDeactivation: {
			kiosk.StateIdle:          {"nik": kiosk.StateNIKEntered, "abandon": kiosk.StateAbandoned},
			kiosk.StateNIKEntered:    {"find": kiosk.StateResidentFound, "reject": kiosk.StateRejected, "abandon": kiosk.StateAbandoned},
			kiosk.StateResidentFound: {"face": face, "reject": kiosk.StateRejected, "abandon": kiosk.StateAbandoned},
			kiosk.StateFaceMatched:   {"face": face, "approve": kiosk.StateQueued, "reject": kiosk.StateRejected, "abandon": kiosk.StateAbandoned},
			kiosk.StateFaceUncertain: {"face": face, "approve": kiosk.StateQueued, "reject": kiosk.StateRejected, "abandon": kiosk.StateAbandoned},
			kiosk.StateFaceFailed:    {"face": face, "reject": kiosk.StateRejected, "abandon": kiosk.StateAbandoned},
			kiosk.StateQueued:        {},
			kiosk.StateRejected:      {},
			kiosk.StateAbandoned:     {},
		},
	}
	for purpose, states := range legal {
		for state, allowed := range states {
			for _, a := range actions {
				t.Run(fmt.Sprintf("%s/%s/%s", purpose, state, a.name), func(t *testing.T) {
					h := newHarness()
					f := reach(t, h, purpose, state)
					recordsBefore, eventsBefore := len(h.outbox.Records), len(h.outbox.Events)
					err := a.do(f)
					want, ok := allowed[a.name]
					if !ok {
						var te *kiosk.TransitionError
						if !errors.As(err, &te) && !errors.Is(err, kiosk.ErrFaceNotMatched) {
							t.Fatalf("%s in %s: err = %v, want a refusal", a.name, state, err)
						}
						if f.State() != state {
							t.Fatalf("refused %s moved the flow from %s to %s", a.name, state, f.State())
						}
						if len(h.outbox.Records) != recordsBefore || len(h.outbox.Events) != eventsBefore {
							t.Fatalf("refused %s wrote something", a.name)
						}
						return
					}
					if err != nil {
						t.Fatalf("%s in %s: %v", a.name, state, err)
					}
					if want == face {
						want = state
						if state == kiosk.StateResidentFound {
							want = kiosk.StateFaceMatched
						}
					}
					if f.State() != want {
						t.Fatalf("%s in %s: state %s, want %s", a.name, state, f.State(), want)
					}
				})
			}
		}
	}
}

func TestActivationApproved(t *testing.T) {
	h := newHarness()
	f := reach(t, h, kiosk.PurposeActivation, kiosk.StateFaceMatched)
	if err := f.Approve(context.Background(), kiosk.Approval{}); err != nil {
		t.Fatal(err)
	}
	if len(h.outbox.Records) != 1 || len(h.outbox.Events) != 1 {
		t.Fatalf("outbox has %d records and %d events, want 1 and 1", len(h.outbox.Records), len(h.outbox.Events))
	}
	rec := h.outbox.Records[0]
	if rec.Kind != kiosk.KindActivation || rec.RegistrationID != "reg-1" || rec.NIK != testNIK || rec.State != kiosk.RecordPending {
		t.Fatalf("record = %+v", rec)
	}
	if !strings.Contains(string(rec.Envelope), "RegistrationID:reg-1") || !strings.Contains(string(rec.Envelope), "KioskID:kiosk-1") {
		t.Fatalf("envelope does not seal the activation: %s", rec.Envelope)
	}
	ev := h.outbox.Events[0]
	if ev.Action != "activation.approved" || ev.Subject != rec.ID || strings.Contains(ev.Detail, string(testNIK)) {
		t.Fatalf("audit event = %+v (must not hold the plain NIK)", ev)
	}
}

func TestDeactivationNeedsReason(t *testing.T) {
	h := newHarness()
	f := reach(t, h, kiosk.PurposeDeactivation, kiosk.StateFaceMatched)
	if err := f.Approve(context.Background(), kiosk.Approval{Reason: "  "}); !errors.Is(err, kiosk.ErrReasonRequired) {
		t.Fatalf("approve without reason: %v", err)
	}
	if err := f.Approve(context.Background(), kiosk.Approval{Reason: "HP hilang"}); err != nil {
		t.Fatal(err)
	}
	if rec := h.outbox.Records[0]; rec.Kind != kiosk.KindDeactivation || rec.RegistrationID != "" {
		t.Fatalf("record = %+v", rec)
	}
}

// Each failure keeps the flow where it was and writes nothing.
func TestFailuresLeaveNothing(t *testing.T) {
	boom := errors.New("disk full")
	tests := []struct {
		name    string
		purpose kiosk.Purpose
		from    kiosk.State
		setup   func(h *harness)
		do      func(f *kiosk.Flow) error
		want    error
	}{
		{"DamagedToken", kiosk.PurposeActivation, kiosk.StateIdle, nil,
			func(f *kiosk.Flow) error { return f.ScanToken(context.Background(), "garbage") },
			&kiosk.Error{Code: "token.damaged"}},
		{"SecondActivationSameRegistration", kiosk.PurposeActivation, kiosk.StateIdle,
			func(h *harness) {
				h.outbox.Records = []kiosk.OutboxRecord{{RegistrationID: "reg-1", Kind: kiosk.KindActivation}}
			},
			act("scan").do, kiosk.ErrAlreadyActivated},
		{"InvalidTypedNIK", kiosk.PurposeDeactivation, kiosk.StateIdle, nil,
			func(f *kiosk.Flow) error { return f.EnterNIK("3201013201900001") }, kiosk.ErrNIKBirthDate},
		{"ResidentNotInSnapshot", kiosk.PurposeActivation, kiosk.StateTokenScanned,
			func(h *harness) { h.resident.NIK = otherNIK }, act("find").do, kiosk.ErrResidentNotFound},
		{"ResidentInactive", kiosk.PurposeActivation, kiosk.StateTokenScanned,
			func(h *harness) { h.resident.Status = kiosk.ResidentInactive }, act("find").do, kiosk.ErrResidentInactive},
		{"FaceCaptureFailed", kiosk.PurposeActivation, kiosk.StateResidentFound,
			func(h *harness) {
				h.faces.VerifyFaceFn = func(context.Context, kiosk.Resident) (kiosk.FaceResult, error) { return kiosk.FaceResult{}, boom }
			}, act("face").do, boom},
		{"UncertainWithoutEyeCheck", kiosk.PurposeActivation, kiosk.StateFaceUncertain, nil,
			func(f *kiosk.Flow) error { return f.Approve(context.Background(), kiosk.Approval{}) }, kiosk.ErrEyeCheckRequired},
		{"NoMatchApproved", kiosk.PurposeActivation, kiosk.StateFaceFailed, nil,
			act("approve").do, kiosk.ErrFaceNotMatched},
		{"RejectWithoutReason", kiosk.PurposeActivation, kiosk.StateFaceFailed, nil,
			func(f *kiosk.Flow) error { return f.Reject(context.Background(), " ") }, kiosk.ErrReasonRequired},
		{"SealFails", kiosk.PurposeActivation, kiosk.StateFaceMatched,
			func(h *harness) {
				h.sealer.SealFn = func(kiosk.RecordKind, string, any) ([]byte, error) { return nil, boom }
			}, act("approve").do, boom},
		{"OutboxFull", kiosk.PurposeActivation, kiosk.StateFaceMatched,
			func(h *harness) { h.outbox.Err = boom }, act("approve").do, boom},
		{"AuditFullOnReject", kiosk.PurposeActivation, kiosk.StateFaceMatched,
			func(h *harness) { h.outbox.Err = boom }, act("reject").do, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness()
			f := reach(t, h, tt.purpose, tt.from)
			if tt.setup != nil {
				tt.setup(h)
			}
			before := len(h.outbox.Records)
			events := len(h.outbox.Events)
			err := tt.do(f)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if f.State() != tt.from {
				t.Fatalf("state moved from %s to %s", tt.from, f.State())
			}
			if len(h.outbox.Records) != before || len(h.outbox.Events) != events {
				t.Fatal("a failed action wrote something")
			}
		})
	}
}

func TestFaceAlsoMatchesOtherResident(t *testing.T) {
	h := newHarness()
	h.faces.VerifyFaceFn = func(context.Context, kiosk.Resident) (kiosk.FaceResult, error) {
		return kiosk.FaceResult{Band: kiosk.BandMatch, Score: 0.2, OtherNIKs: []kiosk.NIK{otherNIK}}, nil
	}
	f := reach(t, h, kiosk.PurposeActivation, kiosk.StateFaceMatched)
	// A possible second identity is not the officer's tick to approve.
	for _, a := range []kiosk.Approval{{}, {EyeChecked: true}, {EyeChecked: true, Supervisor: officer}} {
		if err := f.Approve(context.Background(), a); !errors.Is(err, kiosk.ErrSupervisorRequired) {
			t.Fatalf("approve a face that matches another NIK with %+v: %v", a, err)
		}
	}
	sup := kiosk.Officer{ID: "197502022000032002", Name: "Sari", Role: kiosk.RoleSupervisor}
	if err := f.Approve(context.Background(), kiosk.Approval{Supervisor: sup}); err != nil {
		t.Fatal(err)
	}
	ev := h.outbox.Events[len(h.outbox.Events)-1]
	if !strings.Contains(ev.Detail, "supervisor="+sup.ID) || !strings.Contains(ev.Detail, "escalation=other_nik") {
		t.Fatalf("audit detail %q does not name the supervisor and the reason", ev.Detail)
	}
}

// TestNoPhotoNeedsSupervisor: an eye check with nothing to compare with is a supervisor's.
func TestNoPhotoNeedsSupervisor(t *testing.T) {
	h := newHarness()
	h.resident.Photo = nil
	f := reach(t, h, kiosk.PurposeActivation, kiosk.StateFaceUncertain)
	if err := f.Approve(context.Background(), kiosk.Approval{EyeChecked: true}); !errors.Is(err, kiosk.ErrSupervisorRequired) {
		t.Fatalf("eye check with no photo: %v", err)
	}
	sup := kiosk.Officer{ID: "197502022000032002", Name: "Sari", Role: kiosk.RoleSupervisor}
	if err := f.Approve(context.Background(), kiosk.Approval{Supervisor: sup}); err != nil {
		t.Fatal(err)
	}
	if ev := h.outbox.Events[0]; !strings.Contains(ev.Detail, "escalation=no_reference_photo") {
		t.Fatalf("audit detail %q", ev.Detail)
	}
	// A clear match needs no photo: it was compared with the reference descriptors.
	h2 := newHarness()
	h2.resident.Photo = nil
	f2 := reach(t, h2, kiosk.PurposeActivation, kiosk.StateFaceMatched)
	if err := f2.Approve(context.Background(), kiosk.Approval{}); err != nil {
		t.Fatalf("clear match without a photo: %v", err)
	}
}

func TestReviewVerdict(t *testing.T) {
	other := []kiosk.NIK{otherNIK}
	for _, tt := range []struct {
		name  string
		face  kiosk.FaceResult
		photo bool
		want  kiosk.Verdict
		esc   []kiosk.Escalation
	}{
		{"Match", kiosk.FaceResult{Band: kiosk.BandMatch}, true, kiosk.VerdictMatch, nil},
		{"MatchNoPhoto", kiosk.FaceResult{Band: kiosk.BandMatch}, false, kiosk.VerdictMatch, nil},
		{"Uncertain", kiosk.FaceResult{Band: kiosk.BandUncertain}, true, kiosk.VerdictEyeCheck, nil},
		{"UncertainNoPhoto", kiosk.FaceResult{Band: kiosk.BandUncertain}, false, kiosk.VerdictSupervisor, []kiosk.Escalation{kiosk.EscalateNoPhoto}},
		{"MatchOtherNIK", kiosk.FaceResult{Band: kiosk.BandMatch, OtherNIKs: other}, true, kiosk.VerdictSupervisor, []kiosk.Escalation{kiosk.EscalateOtherNIK}},
		{"Both", kiosk.FaceResult{Band: kiosk.BandUncertain, OtherNIKs: other}, false, kiosk.VerdictSupervisor,
			[]kiosk.Escalation{kiosk.EscalateOtherNIK, kiosk.EscalateNoPhoto}},
		{"NoMatch", kiosk.FaceResult{Band: kiosk.BandNoMatch, OtherNIKs: other}, false, kiosk.VerdictNoMatch, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, esc := kiosk.ReviewVerdict(tt.face, tt.photo)
			if v != tt.want || fmt.Sprint(esc) != fmt.Sprint(tt.esc) {
				t.Fatalf("verdict %s %v, want %s %v", v, esc, tt.want, tt.esc)
			}
		})
	}
}

func TestNoReferenceGoesToEyeCheck(t *testing.T) {
	h := newHarness()
	h.resident.References = nil
	h.faces.VerifyFaceFn = func(context.Context, kiosk.Resident) (kiosk.FaceResult, error) {
		t.Fatal("face verifier called without references")
		return kiosk.FaceResult{}, nil
	}
	f := reach(t, h, kiosk.PurposeActivation, kiosk.StateResidentFound)
	if err := f.VerifyFace(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.State() != kiosk.StateFaceUncertain {
		t.Fatalf("state %s, want %s", f.State(), kiosk.StateFaceUncertain)
	}
}

func TestRejectedAndAbandonedWriteOnlyAudit(t *testing.T) {
	for _, end := range []string{"reject", "abandon"} {
		t.Run(end, func(t *testing.T) {
			h := newHarness()
			f := reach(t, h, kiosk.PurposeActivation, kiosk.StateFaceMatched)
			if err := act(end).do(f); err != nil {
				t.Fatal(err)
			}
			if len(h.outbox.Records) != 0 {
				t.Fatalf("%s queued a record", end)
			}
			if len(h.outbox.Events) != 1 || !strings.HasPrefix(h.outbox.Events[0].Action, "activation.") {
				t.Fatalf("%s audit events = %+v", end, h.outbox.Events)
			}
		})
	}
	t.Run("AbandonIdle", func(t *testing.T) {
		h := newHarness()
		f := reach(t, h, kiosk.PurposeActivation, kiosk.StateAbandoned)
		if len(h.outbox.Events) != 0 || f.State() != kiosk.StateAbandoned {
			t.Fatalf("abandoning an idle flow wrote %d events", len(h.outbox.Events))
		}
	})
}
