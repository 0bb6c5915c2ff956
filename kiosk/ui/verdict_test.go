package ui

import (
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/face/liveness"
)

// review runs an activation with face result f to its review.
func (h *harness) review(f kiosk.FaceResult) *ReviewPanel {
	h.t.Helper()
	h.k.face = f
	h.key(fyne.KeyF2)
	p, ok := h.s.cur.(*ActivationScreen)
	if !ok || p.Review == nil {
		h.t.Fatalf("F2 gave %T with no review", h.s.cur)
	}
	return p.Review
}

// TestReviewSpeaksWithOneVoice: the review has one verdict line with one instruction and no
// score, and nothing on it contradicts it before or after the officer acts.
func TestReviewSpeaksWithOneVoice(t *testing.T) {
	for _, tt := range []struct {
		name       string
		face       kiosk.FaceResult
		noPhoto    bool
		prefix     string
		importance widget.Importance
		eyeCheck   bool // the tick is asked for
		approve    bool // Approve is shown
		supervisor bool // Approve goes through the supervisor's PIN
	}{
		{"Match", kiosk.FaceResult{Band: kiosk.BandMatch, Score: -0.02}, false, "Wajah cocok", widget.SuccessImportance, false, true, false},
		{"Uncertain", kiosk.FaceResult{Band: kiosk.BandUncertain, Score: 0.45, Capped: true}, false, "Periksa dengan mata", widget.WarningImportance, true, true, false},
		{"UncertainNoPhoto", kiosk.FaceResult{Band: kiosk.BandUncertain, Score: -1}, true, "Perlu supervisor", widget.WarningImportance, false, true, true},
		{"MatchOtherNIK", kiosk.FaceResult{Band: kiosk.BandMatch, Score: -0.02, OtherNIKs: []kiosk.NIK{"3171015001900004"}}, false,
			"Perlu supervisor", widget.WarningImportance, false, true, true},
		{"NoMatch", kiosk.FaceResult{Band: kiosk.BandNoMatch, Score: 0.8, OtherNIKs: []kiosk.NIK{"3171015001900004"}}, false,
			"Tidak cocok", widget.DangerImportance, false, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := loggedIn(t, budi)
			h.k.noPhoto = tt.noPhoto
			r := h.review(tt.face)
			if !strings.HasPrefix(r.Verdict.Text, tt.prefix) || r.Verdict.Importance != tt.importance {
				t.Fatalf("verdict %q (importance %v), want %q… (%v)", r.Verdict.Text, r.Verdict.Importance, tt.prefix, tt.importance)
			}
			for _, score := range []string{"skor", "score", "0.45", "0.8", "-0.02", "-1"} {
				if strings.Contains(r.Verdict.Text, score) {
					t.Errorf("the verdict shows a raw score: %q", r.Verdict.Text)
				}
			}
			if r.EyeCheck.Visible() != tt.eyeCheck || r.Approve.Visible() != tt.approve {
				t.Fatalf("eye check shown %v, approve shown %v", r.EyeCheck.Visible(), r.Approve.Visible())
			}
			if tt.supervisor != strings.Contains(r.Approve.Text, "PIN supervisor") {
				t.Fatalf("approve button %q", r.Approve.Text)
			}
			if tt.eyeCheck {
				// Approve waits for the tick: no "meragukan" refusal after the press.
				if !r.Approve.Disabled() {
					t.Fatal("approve enabled before the eye check")
				}
				test.Tap(r.EyeCheck)
				if r.Approve.Disabled() {
					t.Fatal("approve still disabled after the eye check")
				}
			}
			if tt.approve && !tt.supervisor {
				test.Tap(r.Approve)
				if _, ok := h.s.cur.(*ReceiptScreen); !ok || r.Error.Text != "" {
					t.Fatalf("after approval: %T, error %q", h.s.cur, r.Error.Text)
				}
			}
		})
	}
}

// TestSupervisorApprovesTheirOwnEscalation: a supervisor at the counter needs no second PIN.
func TestSupervisorApprovesTheirOwnEscalation(t *testing.T) {
	h := loggedIn(t, sari)
	h.k.noPhoto = true
	r := h.review(kiosk.FaceResult{Band: kiosk.BandUncertain})
	if r.Approve.Text != "Setujui (sebagai supervisor)" {
		t.Fatalf("approve %q", r.Approve.Text)
	}
	test.Tap(r.Approve)
	if _, ok := h.s.cur.(*ReceiptScreen); !ok {
		t.Fatalf("after approval: %T (%q)", h.s.cur, r.Error.Text)
	}
}

// TestTouchTargets: the eye check and the reject reasons are rows a finger hits, the whole
// row, at least 44 px high.
func TestTouchTargets(t *testing.T) {
	h := loggedIn(t, budi)
	r := h.review(kiosk.FaceResult{Band: kiosk.BandUncertain})
	if sz := r.EyeCheck.Size(); sz.Height < 44 {
		t.Fatalf("eye check %v: under 44 px high", sz)
	}
	// The far right end of the row, well away from the box and its text.
	test.TapAt(r.EyeCheck, fyne.NewPos(r.EyeCheck.Size().Width-4, r.EyeCheck.Size().Height-4))
	if !r.EyeCheck.Checked {
		t.Fatal("a tap on the row's end does not tick the box")
	}
	test.Tap(r.Reject)
	for i, b := range r.Rejecting.Reasons {
		if b.Size().Height < 44 {
			t.Errorf("reason %d %q: %v high", i, b.Text, b.Size())
		}
	}
	test.Tap(r.Rejecting.Reasons[1])
	if r.Rejecting.Selected() != app.RejectNotPresent {
		t.Fatalf("tapped reason 1, selected %q", r.Rejecting.Selected())
	}
}

// TestRejectByKeyboard: a no-match review goes to the rejection with Enter; the note has the
// focus, ↑/↓ choose the reason and Enter rejects.
func TestRejectByKeyboard(t *testing.T) {
	h := loggedIn(t, budi)
	r := h.review(kiosk.FaceResult{Band: kiosk.BandNoMatch})
	h.key(fyne.KeyReturn)
	rj := r.Rejecting
	if rj == nil || h.w.Canvas().Focused() != rj.Note {
		t.Fatalf("Enter on a no-match review: rejecting %v, focused %T", rj != nil, h.w.Canvas().Focused())
	}
	rj.Note.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	rj.Note.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	if rj.Selected() != app.RejectNotPresent {
		t.Fatalf("↓↓ chose %q", rj.Selected())
	}
	rj.Note.TypedKey(&fyne.KeyEvent{Name: fyne.KeyUp})
	rj.Note.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if _, ok := h.s.cur.(*HomeScreen); !ok {
		t.Fatalf("Enter did not reject: %T (%q)", h.s.cur, rj.Error.Text)
	}
	if v := h.k.sess.visits[0]; v.reason != app.RejectFaceMismatch {
		t.Fatalf("rejected for %q", v.reason)
	}
}

// TestEnterConfirms: Enter is each screen's default action, also where no field has focus.
func TestEnterConfirms(t *testing.T) {
	h := loggedIn(t, budi)
	h.key(fyne.KeyReturn) // home: start an activation
	a, ok := h.s.cur.(*ActivationScreen)
	if !ok {
		t.Fatalf("Enter on home: %T", h.s.cur)
	}
	if h.w.Canvas().Focused() != nil {
		t.Fatalf("on a clear match nothing should hold the keyboard, %T does", h.w.Canvas().Focused())
	}
	h.key(fyne.KeyReturn) // review: approve
	if _, ok := h.s.cur.(*ReceiptScreen); !ok {
		t.Fatalf("Enter on the review: %T (%q)", h.s.cur, a.Review.Error.Text)
	}
	h.key(fyne.KeyReturn) // receipt: done
	if _, ok := h.s.cur.(*HomeScreen); !ok {
		t.Fatalf("Enter on the receipt: %T", h.s.cur)
	}
	h.s.showSync()
	before := h.k.syncs
	h.key(fyne.KeyReturn)
	if h.k.syncs != before+1 {
		t.Fatal("Enter on the sync panel did not sync")
	}
	// An eye check review: the box has the focus, Space ticks it, Enter approves.
	h.s.showHome()
	r := h.review(kiosk.FaceResult{Band: kiosk.BandUncertain})
	if h.w.Canvas().Focused() != r.EyeCheck {
		t.Fatalf("eye check review: focused %T", h.w.Canvas().Focused())
	}
	test.Type(r.EyeCheck, " ") // Space on the focused box
	r.EyeCheck.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if _, ok := h.s.cur.(*ReceiptScreen); !ok {
		t.Fatalf("Space and Enter on the eye check: %T (checked %v, %q)", h.s.cur, r.EyeCheck.Checked, r.Error.Text)
	}
}

// scan types text as a hand scanner does (every character at once, then Enter) where no
// field has the focus.
func (h *harness) scan(text string) {
	test.TypeOnCanvas(h.w.Canvas(), text)
	h.key(fyne.KeyReturn)
}

// TestScannerCaughtAnywhere: a hand scanner's activation QR or NIK reaches the right screen
// from wherever the officer is; a visit in progress is not left for it, and says so.
func TestScannerCaughtAnywhere(t *testing.T) {
	t.Run("TokenOnHome", func(t *testing.T) {
		h := loggedIn(t, budi)
		h.scan("IKD1:valid")
		p, ok := h.s.cur.(*ActivationScreen)
		if !ok || p.Review == nil {
			t.Fatalf("a QR scanned on home: %T", h.s.cur)
		}
		if v := h.k.sess.visits[0]; v.nik != siti.NIK {
			t.Fatalf("visit NIK %q", v.nik)
		}
	})
	t.Run("NIKOnHome", func(t *testing.T) {
		h := loggedIn(t, budi)
		h.scan(string(siti.NIK))
		p, ok := h.s.cur.(*DeactivationScreen)
		if !ok || p.Review == nil {
			t.Fatalf("a NIK scanned on home: %T", h.s.cur)
		}
	})
	t.Run("TokenInTheNIKField", func(t *testing.T) {
		h := loggedIn(t, budi)
		h.key(fyne.KeyF3)
		d := h.s.cur.(*DeactivationScreen)
		test.Type(d.NIK, "IKD1:valid") // F3 was pressed, the citizen shows a QR
		d.NIK.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		if p, ok := h.s.cur.(*ActivationScreen); !ok || p.Review == nil {
			t.Fatalf("a QR scanned into the NIK field: %T", h.s.cur)
		}
	})
	t.Run("SlowTypingIsNoScan", func(t *testing.T) {
		h := loggedIn(t, budi)
		for _, c := range string(siti.NIK) {
			h.now = h.now.Add(time.Second)
			test.TypeOnCanvas(h.w.Canvas(), string(c))
		}
		h.key(fyne.KeyReturn)
		if _, ok := h.s.cur.(*DeactivationScreen); ok {
			t.Fatal("digits typed a second apart were taken for a scan")
		}
	})
	t.Run("MidVisit", func(t *testing.T) {
		h := loggedIn(t, budi)
		r := h.review(kiosk.FaceResult{Band: kiosk.BandMatch})
		p := h.s.cur.(*ActivationScreen)
		h.scan("IKD1:valid")
		if h.s.cur != p || p.Error.Text != errScanMidVisit.Msg.ID || r != p.Review {
			t.Fatalf("a QR scanned mid-visit: %T, error %q", h.s.cur, p.Error.Text)
		}
		if len(h.k.sess.visits) != 1 || h.k.sess.visits[0].state == kiosk.StateAbandoned {
			t.Fatal("the visit in progress was left for a scan")
		}
	})
	t.Run("NotLoggedIn", func(t *testing.T) {
		h := newHarness(t)
		h.unlock("rahasia-kiosk")
		h.scan("IKD1:valid")
		l, ok := h.s.cur.(*LoginScreen)
		if !ok {
			t.Fatalf("a scan before login: %T", h.s.cur)
		}
		// Sixteen digits and Enter on the login screen are a (wrong) PIN, not a scan.
		test.Tap(l.Officers[0])
		h.scan(string(siti.NIK))
		if l.Error.Text != errBadPIN.Msg.ID {
			t.Fatalf("Enter after 16 digits at login: %q", l.Error.Text)
		}
	})
}

// TestIdleLockWarnsFirst: the idle lock counts down over the screen first; any key cancels
// it and the visit goes on. When it locks, the visit is recorded as abandoned and the next
// home screen says so.
func TestIdleLockWarnsFirst(t *testing.T) {
	h := loggedIn(t, budi)
	p := h.review(kiosk.FaceResult{Band: kiosk.BandMatch})
	h.now = h.now.Add(5*time.Minute - 20*time.Second)
	h.s.Refresh()
	if !h.s.IdleWarn.Visible() || !strings.Contains(h.s.IdleWarn.Text, "20 detik") {
		t.Fatalf("countdown: visible %v, %q", h.s.IdleWarn.Visible(), h.s.IdleWarn.Text)
	}
	alive := h.k.sess.keepAlives
	h.key(fyne.KeyDown) // any key
	if h.s.IdleWarn.Visible() {
		t.Fatal("a key did not cancel the countdown")
	}
	if h.k.sess.keepAlives != alive+1 {
		t.Fatal("the session was not told the officer is back: the core would lock the visit anyway")
	}
	h.now = h.now.Add(4 * time.Minute)
	h.s.Refresh()
	if a, ok := h.s.cur.(*ActivationScreen); !ok || a.Review != p {
		t.Fatalf("the visit did not survive the cancelled countdown: %T", h.s.cur)
	}
	h.now = h.now.Add(2 * time.Minute)
	h.s.Refresh()
	if _, ok := h.s.cur.(*LoginScreen); !ok {
		t.Fatalf("after the idle time: %T", h.s.cur)
	}
	if st := h.k.sess.visits[0].state; st != kiosk.StateAbandoned {
		t.Fatalf("visit left in %s", st)
	}
	h.login(budi)
	home := h.s.cur.(*HomeScreen)
	if !strings.Contains(home.Notice.Text, "dicatat sebagai ditinggalkan") || home.Notice.Importance != widget.WarningImportance {
		t.Fatalf("home after the lock: %q (importance %v)", home.Notice.Text, home.Notice.Importance)
	}
}

// TestStepBarFollowsTheVisit: the visit shows where it is.
func TestStepBarFollowsTheVisit(t *testing.T) {
	h := loggedIn(t, budi)
	h.k.scanErr = errBadToken
	h.key(fyne.KeyF2)
	p := h.s.cur.(*ActivationScreen)
	if p.Steps.cur != stepFirst || !strings.Contains(p.Steps.Labels[0].Text, "Pindai QR") {
		t.Fatalf("at the scan: step %d %q", p.Steps.cur, p.Steps.Labels[0].Text)
	}
	test.Type(p.Token, "IKD1:valid")
	test.Tap(p.Use)
	if p.Steps.cur != stepReview || !strings.HasPrefix(p.Steps.Labels[1].Text, "✓") {
		t.Fatalf("at the review: step %d, face step %q", p.Steps.cur, p.Steps.Labels[1].Text)
	}
	h.key(fyne.KeyEscape)
	h.key(fyne.KeyF3)
	if d := h.s.cur.(*DeactivationScreen); !strings.Contains(d.Steps.Labels[0].Text, "Ketik NIK") {
		t.Fatalf("lost phone's first step %q", d.Steps.Labels[0].Text)
	}
}

// TestTurnArrowPointsTheCitizensWay: the head-turn prompt is an arrow towards the side the
// citizen turns to as they face the screen, over a mirrored picture in which they turn that
// way too; the face box is mirrored with the picture.
func TestTurnArrowPointsTheCitizensWay(t *testing.T) {
	test.NewTempApp(t)
	p := newPreview()
	w := test.NewTempWindow(t, p.view())
	w.Resize(fyne.NewSize(660, 400))
	p.Mirror = true
	p.SetFrame(testFrame(640, 360))
	p.SetFace(image.Rect(40, 100, 140, 220)) // on the frame's left: the citizen's own right
	width := p.root.Size().Width
	if x := p.Face.Position().X; x < width/2 {
		t.Fatalf("mirrored face box at x=%v of %v: not on the right", x, width)
	}
	for _, tt := range []struct {
		code string
		left bool
	}{{liveness.PromptTurnLeft.Code, true}, {liveness.PromptTurnRight.Code, false}} {
		p.SetTurn(turnOf(tt.code))
		shaft := p.Arrow[0]
		tip, tail := shaft.Position2.X, shaft.Position1.X
		if !shaft.Visible() || (tip < tail) != tt.left || (tip < width/2) != tt.left {
			t.Fatalf("%s: arrow from %v to %v in %v, visible %v", tt.code, tail, tip, width, shaft.Visible())
		}
	}
	p.SetTurn(turnOf(liveness.PromptReturn.Code))
	if p.Arrow[0].Visible() {
		t.Fatal("arrow shown after the turn")
	}
}

// TestDeactivationShowsCameraState: the lost-phone report says what is wrong with the camera
// before the face step, as the activation does, with a retry.
func TestDeactivationShowsCameraState(t *testing.T) {
	h := loggedIn(t, budi)
	h.k.status.Camera = app.CameraStatus{State: camera.StateMissing, Device: "/dev/video0"}
	h.key(fyne.KeyF3)
	p := h.s.cur.(*DeactivationScreen)
	want := h.s.cameraText(h.k.status.Camera)
	if want == "" || p.CamState.Text != want || p.Preview.Status.Text != want || !p.CamRetry.Visible() {
		t.Fatalf("camera state %q / %q (retry %v), want %q", p.CamState.Text, p.Preview.Status.Text, p.CamRetry.Visible(), want)
	}
	h.k.status.Camera = app.CameraStatus{State: camera.StateReady, Device: "/dev/video0"}
	h.s.Refresh()
	if p.CamState.Text != "" || p.CamRetry.Visible() {
		t.Fatalf("camera back: %q", p.CamState.Text)
	}
}

// TestSettingsTakeTheKeyboard: the settings open with the first field focused.
func TestSettingsTakeTheKeyboard(t *testing.T) {
	h := loggedIn(t, sari)
	test.Tap(h.s.cur.(*HomeScreen).Settings)
	p, ok := h.s.cur.(*SettingsScreen)
	if !ok || h.w.Canvas().Focused() != p.Camera {
		t.Fatalf("settings: %T, focused %T", h.s.cur, h.w.Canvas().Focused())
	}
}

// TestExportFailureInWords: a statistics export that cannot be written says what to check,
// not "system error".
func TestExportFailureInWords(t *testing.T) {
	h := loggedIn(t, sari)
	blocked := filepath.Join(t.TempDir(), "berkas")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	h.s.opt.OutDir = filepath.Join(blocked, "keluaran") // a directory under a file
	test.Tap(h.s.cur.(*HomeScreen).Stats)
	p := h.s.cur.(*StatsScreen)
	test.Tap(p.Export)
	if !strings.Contains(p.Saved.Text, errExportFailed.Msg.ID) {
		t.Fatalf("export failure: %q", p.Saved.Text)
	}
}

// TestEscClosesThePanelFirst: Esc on the supervisor's PIN pad or the reject reasons goes back
// to the decision; only Esc on the decision ends the visit.
func TestEscClosesThePanelFirst(t *testing.T) {
	h := loggedIn(t, budi)
	h.k.noPhoto = true
	r := h.review(kiosk.FaceResult{Band: kiosk.BandUncertain})
	test.Tap(r.Approve)
	if r.Supervisor == nil {
		t.Fatal("no PIN pad")
	}
	h.key(fyne.KeyEscape)
	if r.Supervisor != nil {
		t.Fatal("Esc left the PIN pad open")
	}
	test.Tap(r.Reject)
	h.key(fyne.KeyEscape)
	if r.Rejecting != nil {
		t.Fatal("Esc left the reasons open")
	}
	if _, ok := h.s.cur.(*ActivationScreen); !ok || h.k.sess.visits[0].state == kiosk.StateAbandoned {
		t.Fatalf("Esc on a panel ended the visit: %T", h.s.cur)
	}
	h.key(fyne.KeyEscape)
	if h.k.sess.visits[0].state != kiosk.StateAbandoned {
		t.Fatal("Esc on the decision did not end the visit")
	}
}

// FuzzScanMidVisit: whatever a hand scanner types (a damaged code, a long one, control
// characters), routing it never panics and never ends the visit in progress.
func FuzzScanMidVisit(f *testing.F) {
	for _, seed := range []string{"IKD1:valid", "IKD1:", string(siti.NIK), "3171014508900003x", "IKD1:\x00\n", "ikd1:valid", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if text == "" {
			return // Enter alone is the officer approving
		}
		h := loggedIn(t, budi)
		h.review(kiosk.FaceResult{Band: kiosk.BandMatch})
		h.scan(text)
		p, ok := h.s.cur.(*ActivationScreen)
		if !ok || h.k.sess.visits[0].state == kiosk.StateAbandoned || len(h.k.sess.visits) != 1 {
			t.Fatalf("scan %q left the visit: %T", text, h.s.cur)
		}
		if p.Error.Text != errScanMidVisit.Msg.ID && p.Error.Text != errScanUnknown.Msg.ID {
			t.Fatalf("scan %q mid-visit said %q", text, p.Error.Text)
		}
	})
}
