package ui

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/printer"
	"github.com/ikd-field/ikd/kiosk/receipt"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// harness is a shell over the fakes in a test window, with the slow calls made synchronous
// so that each tap's whole effect is visible when test.Tap returns.
type harness struct {
	t   *testing.T
	s   *Shell
	k   *fakeKiosk
	w   fyne.Window
	now time.Time
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	test.NewTempApp(t)
	h := &harness{t: t, k: newFakeKiosk(), now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.Local)}
	h.w = test.NewTempWindow(t, nil)
	h.w.Resize(fyne.NewSize(1366, 768))
	s, err := NewShell(h.w, h.k, Options{OutDir: t.TempDir(), Now: func() time.Time { return h.now }})
	if err != nil {
		t.Fatal(err)
	}
	s.goAsync = func(f func()) { f() }
	h.s = s
	s.Start()
	return h
}

// loggedIn is a harness past unlock and login as who.
func loggedIn(t *testing.T, who kiosk.Officer) *harness {
	h := newHarness(t)
	h.unlock("rahasia-kiosk")
	h.login(who)
	if _, ok := h.s.cur.(*HomeScreen); !ok {
		t.Fatalf("after login the screen is %T, want home", h.s.cur)
	}
	return h
}

func (h *harness) unlock(secret string) {
	p := h.s.cur.(*UnlockScreen)
	test.Type(p.Secret, secret)
	test.Tap(p.Unlock)
}

func (h *harness) login(who kiosk.Officer) {
	p := h.s.cur.(*LoginScreen)
	for i, o := range p.list {
		if o.ID == who.ID {
			test.Tap(p.Officers[i])
		}
	}
	h.pin(p.Pad, pins[who.ID])
}

func (h *harness) pin(pad *PINPad, pin string) {
	for _, c := range pin {
		test.Tap(pad.Digits[c-'0'])
	}
	test.Tap(pad.OK)
}

func (h *harness) key(name fyne.KeyName) { h.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: name}) }

func TestUnlockThenLogin(t *testing.T) {
	h := newHarness(t)
	h.unlock("salah")
	p := h.s.cur.(*UnlockScreen)
	if p.Error.Text != errWrongSecret.Msg.ID {
		t.Fatalf("wrong secret shows %q", p.Error.Text)
	}
	h.unlock("rahasia-kiosk")
	login, ok := h.s.cur.(*LoginScreen)
	if !ok {
		t.Fatalf("after unlock the screen is %T", h.s.cur)
	}
	if len(login.Officers) != 2 {
		t.Fatalf("officers listed: %d", len(login.Officers))
	}
	test.Tap(login.Officers[0])
	h.pin(login.Pad, "1111")
	if login.Error.Text != errBadPIN.Msg.ID {
		t.Fatalf("wrong PIN shows %q", login.Error.Text)
	}
	// The keyboard's digits and Enter work on the pad too.
	test.TypeOnCanvas(h.w.Canvas(), "1234")
	h.key(fyne.KeyReturn)
	home, ok := h.s.cur.(*HomeScreen)
	if !ok {
		t.Fatalf("after login the screen is %T", h.s.cur)
	}
	if !strings.Contains(home.Queue.Text, "2 menunggu") || !strings.Contains(home.Queue.Text, "1 ditolak") {
		t.Fatalf("queue: %q", home.Queue.Text)
	}
	if home.Models.Text != "Model wajah: siap" {
		t.Fatalf("models: %q", home.Models.Text)
	}
}

func TestActivationApproveAndReceipt(t *testing.T) {
	h := loggedIn(t, budi)
	h.key(fyne.KeyF2)
	p, ok := h.s.cur.(*ActivationScreen)
	if !ok {
		t.Fatalf("F2 shows %T", h.s.cur)
	}
	if p.Review == nil {
		t.Fatal("no review after scan and face")
	}
	if !p.Preview.Face.Visible() || p.Preview.Outline[0].Visible() {
		t.Fatal("the face step should show the face box and no QR outline")
	}
	r := p.Review
	if r.Name.Text != siti.Name || !strings.Contains(r.Contact.Text, "s***@gmail.com") || !strings.Contains(r.Contact.Text, "0812****789") {
		t.Fatalf("review: %q / %q", r.Name.Text, r.Contact.Text)
	}
	// One verdict, one instruction, no score.
	if r.Verdict.Text != "Wajah cocok. Bacakan data kepada warga, lalu tekan Setujui." || strings.Contains(r.Verdict.Text, "0.21") ||
		r.Verdict.Importance != widget.SuccessImportance {
		t.Fatalf("verdict: %q", r.Verdict.Text)
	}
	if r.EyeCheck.Visible() {
		t.Fatal("eye check asked for a clear match")
	}
	test.Tap(r.Approve)
	rc, ok := h.s.cur.(*ReceiptScreen)
	if !ok {
		t.Fatalf("after approval the screen is %T (error %q)", h.s.cur, r.Error.Text)
	}
	if rc.Mail.Text != "Kode aktivasi akan dikirim ke e-mail s***@gmail.com setelah data terkirim ke registri." {
		t.Fatalf("receipt: %q", rc.Mail.Text)
	}
	if rc.State.Text != "Status: menunggu sinkronisasi" {
		t.Fatalf("state: %q", rc.State.Text)
	}
	ref := kiosk.ShortRef(rc.r.RecordID)
	if rc.Ref.Text != "Referensi: "+ref || !strings.Contains(rc.Lines.Text, siti.NIK.Masked()) {
		t.Fatalf("receipt: %q / %q (want reference %s)", rc.Ref.Text, rc.Lines.Text, ref)
	}
	h.k.records[0].State = kiosk.RecordAcknowledged
	h.s.Refresh()
	if rc.State.Text != "Status: diterima registri" {
		t.Fatalf("state after sync: %q", rc.State.Text)
	}
	// The line about the code follows the record: no "will be sent after sync" once sent.
	if rc.Mail.Text != "Registri sudah mengirim kode aktivasi ke s***@gmail.com; warga memasukkannya di aplikasi IKD di HP-nya." {
		t.Fatalf("receipt after sync: %q", rc.Mail.Text)
	}
	h.k.records[0].State, h.k.records[0].Answer = kiosk.RecordRejected, "activation.duplicate"
	h.s.Refresh()
	if rc.Mail.Text != "Registri menolak aktivasi ini; tidak ada kode yang dikirim." || !strings.HasPrefix(rc.State.Text, "Ditolak registri: ") {
		t.Fatalf("receipt after a refusal: %q / %q", rc.Mail.Text, rc.State.Text)
	}
}

// "Cetak" prints the record's PDF receipt on the configured printer; with none configured, or
// when the printer fails, the PDF is kept in the data directory and the officer reads which
// file, never a path.
func TestReceiptPrint(t *testing.T) {
	approve := func(t *testing.T, pr Printer) (*harness, *ReceiptScreen) {
		h := loggedIn(t, budi)
		h.s.opt.Printer, h.s.opt.PrinterName = pr, "PDF"
		h.key(fyne.KeyF2)
		test.Tap(h.s.cur.(*ActivationScreen).Review.Approve)
		rc, ok := h.s.cur.(*ReceiptScreen)
		if !ok {
			t.Fatalf("after approval the screen is %T", h.s.cur)
		}
		if rc.Print.Text != "Cetak" {
			t.Fatalf("print button %q", rc.Print.Text)
		}
		test.Tap(rc.Print)
		if rc.Print.Disabled() {
			t.Fatal("the print button stays disabled after printing")
		}
		return h, rc
	}
	saved := func(t *testing.T, h *harness, rc *ReceiptScreen) []byte {
		name := receipt.FileName(kiosk.ShortRef(rc.r.RecordID))
		pdf, err := os.ReadFile(filepath.Join(h.s.opt.OutDir, name))
		if err != nil {
			t.Fatalf("saved receipt: %v (%q)", err, rc.Saved.Text)
		}
		if !strings.Contains(rc.Saved.Text, name) || strings.Contains(rc.Saved.Text, "/") {
			t.Fatalf("the officer reads %q: want the file name %s and no path", rc.Saved.Text, name)
		}
		return pdf
	}
	t.Run("no printer", func(t *testing.T) {
		h, rc := approve(t, nil)
		pdf := saved(t, h, rc)
		if !strings.HasPrefix(rc.Saved.Text, "Belum ada printer yang diatur") {
			t.Fatalf("saved: %q", rc.Saved.Text)
		}
		want, err := receipt.PDF(mustPaper(t, h, rc))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(pdf, want) {
			t.Fatal("the saved PDF is not the record's receipt")
		}
	})
	t.Run("printer", func(t *testing.T) {
		pr := &fakePrinter{}
		h, rc := approve(t, pr)
		ref := kiosk.ShortRef(rc.r.RecordID)
		if rc.Saved.Text != "Tanda terima dicetak di printer PDF." || pr.title != "IKD-"+ref {
			t.Fatalf("printed: %q, job title %q", rc.Saved.Text, pr.title)
		}
		want, _ := receipt.PDF(mustPaper(t, h, rc))
		if !bytes.Equal(pr.pdf, want) {
			t.Fatal("the printer did not get the record's receipt")
		}
		if _, err := os.Stat(filepath.Join(h.s.opt.OutDir, receipt.FileName(ref))); err == nil {
			t.Fatal("a printed receipt was also saved")
		}
	})
	t.Run("printer fails", func(t *testing.T) {
		h, rc := approve(t, &fakePrinter{err: printer.ErrNoQueue.With(errors.New("lp: no such queue"))})
		saved(t, h, rc)
		if !strings.HasPrefix(rc.Saved.Text, "Tanda terima gagal dicetak: "+printer.ErrNoQueue.Msg.ID) {
			t.Fatalf("failed print: %q", rc.Saved.Text)
		}
	})
}

func mustPaper(t *testing.T, h *harness, rc *ReceiptScreen) receipt.Receipt {
	t.Helper()
	paper, err := h.s.sess.PaperReceipt(context.Background(), rc.r.RecordID)
	if err != nil {
		t.Fatal(err)
	}
	return paper
}

func TestActivationHandScannerAndUncertainFace(t *testing.T) {
	h := loggedIn(t, budi)
	h.k.scanErr = errBadToken // the camera reads a bad QR first
	h.k.face = kiosk.FaceResult{Band: kiosk.BandUncertain, Score: 0.5, OtherNIKs: []kiosk.NIK{"3171015001900004"}}
	test.Tap(h.s.cur.(*HomeScreen).Activate)
	p := h.s.cur.(*ActivationScreen)
	if p.Error.Text != errBadToken.Msg.ID || !p.Retry.Visible() {
		t.Fatalf("bad QR shows %q", p.Error.Text)
	}
	if !p.Preview.Outline[0].Visible() {
		t.Fatal("the QR candidate's outline is not drawn over the preview")
	}
	test.Type(p.Token, "IKD1:rusak")
	p.Token.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if p.Error.Text != errBadToken.Msg.ID || p.Review != nil {
		t.Fatalf("bad typed token: %q", p.Error.Text)
	}
	test.Type(p.Token, "IKD1:valid")
	test.Tap(p.Use)
	r := p.Review
	if r == nil {
		t.Fatalf("no review after a typed token (%q)", p.Error.Text)
	}
	// A possible second identity: the supervisor's PIN, not the officer's tick.
	if r.EyeCheck.Visible() || !strings.HasPrefix(r.Verdict.Text, "Perlu supervisor") || !strings.Contains(r.Verdict.Text, "3171015001900004") ||
		strings.Contains(r.Verdict.Text, "0.5") || r.Approve.Text != "Setujui (PIN supervisor)" {
		t.Fatalf("uncertain face with a 1:N hit: eye check %v, verdict %q, approve %q", r.EyeCheck.Visible(), r.Verdict.Text, r.Approve.Text)
	}
	test.Tap(r.Approve)
	if r.Supervisor == nil {
		t.Fatalf("approve asked for no supervisor (%q)", r.Error.Text)
	}
	h.pin(r.Supervisor.Pad, pins[sari.ID])
	if _, ok := h.s.cur.(*ReceiptScreen); !ok {
		t.Fatalf("after the supervisor's PIN: %T (%q)", h.s.cur, r.Error.Text)
	}
	if a := h.k.sess.visits[0].approval; a.Supervisor.ID != sari.ID || a.EyeChecked {
		t.Fatalf("approval %+v: want the supervisor named and no eye check claimed", a)
	}
}

func TestRejectNeedsReason(t *testing.T) {
	h := loggedIn(t, budi)
	h.k.face = kiosk.FaceResult{Band: kiosk.BandNoMatch, Score: 0.8}
	h.key(fyne.KeyF2)
	p := h.s.cur.(*ActivationScreen)
	test.Tap(p.Review.Reject)
	rj := p.Review.Rejecting
	test.Tap(rj.Submit)
	if rj.Error.Text != kiosk.ErrReasonRequired.Msg.ID {
		t.Fatalf("reject with no reason: %q", rj.Error.Text)
	}
	rj.Choose(app.RejectOther)
	test.Tap(rj.Submit)
	if rj.Error.Text != kiosk.ErrReasonRequired.Msg.ID {
		t.Fatalf("other without a note: %q", rj.Error.Text)
	}
	test.Type(rj.Note, "Warga tidak membawa HP sendiri")
	test.Tap(rj.Submit)
	home, ok := h.s.cur.(*HomeScreen)
	if !ok {
		t.Fatalf("after rejection: %T", h.s.cur)
	}
	v := h.k.sess.visits[0]
	if v.reason != app.RejectOther || v.note == "" || home.Notice.Text == "" {
		t.Fatalf("rejected with %q %q, notice %q", v.reason, v.note, home.Notice.Text)
	}
}

func TestEscAbandonsVisit(t *testing.T) {
	h := loggedIn(t, budi)
	h.k.scanErr = errBadToken
	h.key(fyne.KeyF2)
	p := h.s.cur.(*ActivationScreen)
	p.Token.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape}) // from the focused scanner field
	if _, ok := h.s.cur.(*HomeScreen); !ok {
		t.Fatalf("Esc shows %T", h.s.cur)
	}
	if st := h.k.sess.visits[0].state; st != kiosk.StateAbandoned {
		t.Fatalf("visit left in %s", st)
	}
}

func TestDeactivationValidatesNIK(t *testing.T) {
	h := loggedIn(t, budi)
	h.k.settings.SupervisorForDeactivation = true
	h.key(fyne.KeyF3)
	p, ok := h.s.cur.(*DeactivationScreen)
	if !ok {
		t.Fatalf("F3 shows %T", h.s.cur)
	}
	test.Type(p.NIK, "317101")
	if p.Validity.Text != kiosk.ErrNIKLength.Msg.ID || !p.Next.Disabled() {
		t.Fatalf("short NIK: %q", p.Validity.Text)
	}
	p.NIK.SetText("9971014508900003")
	if p.Validity.Text != kiosk.ErrNIKProvince.Msg.ID {
		t.Fatalf("bad province: %q", p.Validity.Text)
	}
	p.NIK.SetText("3171019908900003")
	if p.Validity.Text != kiosk.ErrNIKBirthDate.Msg.ID {
		t.Fatalf("bad birth date: %q", p.Validity.Text)
	}
	p.NIK.SetText(string(siti.NIK))
	if p.Next.Disabled() {
		t.Fatalf("valid NIK: %q", p.Validity.Text)
	}
	test.Tap(p.Next)
	if p.Review == nil {
		t.Fatalf("no review (%q)", p.Error.Text)
	}
	if p.Review.Reason.Text != "HP hilang" {
		t.Fatalf("reason: %q", p.Review.Reason.Text)
	}
	// A lost phone does not look like an activation: its own button words and colour.
	if p.Review.Approve.Text != "Nonaktifkan IKD (PIN supervisor)" || p.Review.Approve.Importance != widget.WarningImportance {
		t.Fatalf("approve button %q (importance %v)", p.Review.Approve.Text, p.Review.Approve.Importance)
	}
	test.Tap(p.Review.Approve)
	sup := p.Review.Supervisor
	if sup == nil {
		t.Fatal("no supervisor confirmation")
	}
	h.pin(sup.Pad, "0000")
	if sup.Error.Text != errBadPIN.Msg.ID {
		t.Fatalf("wrong supervisor PIN: %q", sup.Error.Text)
	}
	// The supervisor types the PIN on the keyboard: nothing focused swallows the digits.
	test.TypeOnCanvas(h.w.Canvas(), pins[sari.ID])
	h.key(fyne.KeyReturn)
	rc, ok := h.s.cur.(*ReceiptScreen)
	if !ok {
		t.Fatalf("after confirmation: %T", h.s.cur)
	}
	if h.k.sess.visits[0].approval.Reason != "HP hilang" || !strings.Contains(rc.Title.Text, "penonaktifan") {
		t.Fatalf("approval %+v, title %q", h.k.sess.visits[0].approval, rc.Title.Text)
	}
}

func TestSyncPanel(t *testing.T) {
	h := loggedIn(t, budi)
	h.k.status.PushError = &kiosk.Error{Code: "sync.unavailable", Msg: kiosk.Message{ID: "Registri tidak dapat dihubungi.", EN: "The registry cannot be reached."}}
	h.k.records = []kiosk.OutboxRecord{{ID: "rec-9", Kind: kiosk.KindActivation, State: kiosk.RecordRejected, Answer: "activation.duplicate"}}
	h.key(fyne.KeyF5)
	p, ok := h.s.cur.(*SyncScreen)
	if !ok || h.k.syncs != 1 {
		t.Fatalf("F5 shows %T, %d syncs", h.s.cur, h.k.syncs)
	}
	if !strings.Contains(p.Counts.Text, "Menunggu: 2") || !strings.Contains(p.Counts.Text, "Ditolak: 1") {
		t.Fatalf("counts: %q", p.Counts.Text)
	}
	if !strings.Contains(p.LastErr.Text, "Registri tidak dapat dihubungi.") {
		t.Fatalf("last error: %q", p.LastErr.Text)
	}
	if len(p.rejected) != 1 || strings.Contains(h.s.registryReason("activation.duplicate"), "activation.duplicate") {
		t.Fatalf("rejected: %v, reason %q", p.rejected, h.s.registryReason("activation.duplicate"))
	}
	test.Tap(p.SyncNow)
	if h.k.syncs != 2 {
		t.Fatalf("syncs: %d", h.k.syncs)
	}
}

// TestSyncPanelReissue: an acknowledged activation offers "Kirim ulang kode aktivasi"; the tap
// queues a re-issue for its registration and NIK, and the list then shows it with its state.
func TestSyncPanelReissue(t *testing.T) {
	h := loggedIn(t, budi)
	const nik = kiosk.NIK("3201014101900001")
	h.k.records = []kiosk.OutboxRecord{
		{ID: "act-ok", Kind: kiosk.KindActivation, RegistrationID: "reg-ok", NIK: nik, State: kiosk.RecordAcknowledged},
		{ID: "act-no", Kind: kiosk.KindActivation, RegistrationID: "reg-no", NIK: nik, State: kiosk.RecordRejected, Answer: "activation.duplicate"},
		{ID: "act-wait", Kind: kiosk.KindActivation, RegistrationID: "reg-wait", NIK: nik, State: kiosk.RecordPending},
		{ID: "dea", Kind: kiosk.KindDeactivation, NIK: nik, State: kiosk.RecordAcknowledged},
	}
	h.key(fyne.KeyF5)
	p := h.s.cur.(*SyncScreen)
	if len(p.codes) != 3 {
		t.Fatalf("codes list %v, want the three activations", p.codes)
	}
	row := func(i int) (*widget.Label, *widget.Button) {
		o := p.Codes.CreateItem()
		p.Codes.UpdateItem(i, o)
		var (
			l *widget.Label
			b *widget.Button
		)
		for _, c := range o.(*fyne.Container).Objects {
			switch w := c.(type) {
			case *widget.Label:
				l = w
			case *widget.Button:
				b = w
			}
		}
		return l, b
	}
	for i, rec := range p.codes {
		_, b := row(i)
		if want := rec.ID == "act-ok"; b.Visible() != want {
			t.Errorf("%s: re-send button visible %v, want %v", rec.ID, b.Visible(), want)
		}
	}
	_, b := row(0)
	if b.Text != "Kirim ulang kode aktivasi" {
		t.Fatalf("button %q", b.Text)
	}
	test.Tap(b)
	last := h.k.records[len(h.k.records)-1]
	if last.Kind != kiosk.KindCodeReissue || last.RegistrationID != "reg-ok" || last.NIK != nik {
		t.Fatalf("queued %+v", last)
	}
	if p.Notice.Text == "" || p.Error.Text != "" {
		t.Fatalf("notice %q, error %q", p.Notice.Text, p.Error.Text)
	}
	if len(p.codes) != 4 {
		t.Fatalf("after the tap the list has %d rows, want the re-issue too", len(p.codes))
	}
	l, b := row(3)
	if b.Visible() || !strings.Contains(l.Text, "Kirim ulang kode") || !strings.Contains(l.Text, "menunggu") {
		t.Fatalf("re-issue row %q, button visible %v", l.Text, b.Visible())
	}
	// A second tap before the answer is refused in words.
	_, b = row(0)
	test.Tap(b)
	if !strings.Contains(p.Error.Text, "menunggu sinkronisasi") {
		t.Fatalf("second re-send: error %q", p.Error.Text)
	}
	// The registry's answer shows in words after the sync.
	h.k.records[4].State, h.k.records[4].Answer = kiosk.RecordRejected, "reissue.code_still_valid"
	p.refresh()
	if l, _ := row(3); !strings.Contains(l.Text, "masih berlaku") {
		t.Fatalf("answered re-issue row %q", l.Text)
	}
}

func TestSupervisorOnlyScreens(t *testing.T) {
	h := loggedIn(t, budi)
	test.Tap(h.s.cur.(*HomeScreen).Settings)
	sup, ok := h.s.cur.(*SupervisorScreen)
	if !ok {
		t.Fatalf("an officer's settings tap shows %T", h.s.cur)
	}
	h.pin(sup.Pad, pins[sari.ID])
	st, ok := h.s.cur.(*SettingsScreen)
	if !ok {
		t.Fatalf("after the supervisor's PIN: %T", h.s.cur)
	}
	test.Tap(st.TestCam)
	if st.Preview == nil || st.Preview.Image.Image == nil {
		t.Fatal("the camera test view shows no picture")
	}
	st.IdleMin.SetText("lima")
	test.Tap(st.Save)
	if !strings.Contains(st.Error.Text, "angka") {
		t.Fatalf("a non-number: %q", st.Error.Text)
	}
	st.IdleMin.SetText("10")
	st.Lang.SetSelected("English")
	test.Tap(st.Save)
	home, ok := h.s.cur.(*HomeScreen)
	if !ok || h.k.settings.IdleLock != 10*time.Minute || h.k.settings.Lang != kiosk.LangEN {
		t.Fatalf("after save: %T, %+v", h.s.cur, h.k.settings)
	}
	if home.Activate.Text != "Activate IKD" {
		t.Fatalf("language not applied: %q", home.Activate.Text)
	}
}

func TestStatsExportCSV(t *testing.T) {
	h := loggedIn(t, sari) // a supervisor needs no second PIN
	test.Tap(h.s.cur.(*HomeScreen).Stats)
	p, ok := h.s.cur.(*StatsScreen)
	if !ok {
		t.Fatalf("stats shows %T", h.s.cur)
	}
	if !strings.Contains(p.Summary.Text, "dilayani 3") || !strings.Contains(p.Summary.Text, "waktu tengah 95 s, 9 dari 10 kunjungan di bawah 140 s") {
		t.Fatalf("summary: %q", p.Summary.Text)
	}
	test.Tap(p.Export)
	b, err := os.ReadFile(filepath.Join(h.s.opt.OutDir, "statistik-2026-12-01.csv"))
	if err != nil {
		t.Fatalf("%v (%q)", err, p.Saved.Text)
	}
	for _, want := range []string{"scan_s,resident_s,face_s", "activation,approved,4.0,1.0,9.0,30.0,44.0", "rejected:face_mismatch,1", "p90_visit_s,140.0"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("csv lacks %q:\n%s", want, b)
		}
	}
}

func TestIdleLockAndOfficerSwitch(t *testing.T) {
	h := loggedIn(t, budi)
	h.key(fyne.KeyF2)
	sess := h.k.sess
	h.now = h.now.Add(4 * time.Minute)
	h.s.Refresh()
	if _, ok := h.s.cur.(*ActivationScreen); !ok {
		t.Fatalf("locked early: %T", h.s.cur)
	}
	h.now = h.now.Add(5 * time.Minute)
	h.s.Refresh()
	if _, ok := h.s.cur.(*LoginScreen); !ok || !sess.locked {
		t.Fatalf("after the idle time: %T, session locked %v", h.s.cur, sess.locked)
	}
	if st := sess.visits[0].state; st != kiosk.StateAbandoned {
		t.Fatalf("visit left in %s by the idle lock", st)
	}
	h.login(sari) // another officer, no restart
	if h.s.sess.Officer().ID != sari.ID {
		t.Fatalf("officer: %v", h.s.sess.Officer())
	}
}

func TestLanguageSwitchAtRunTime(t *testing.T) {
	h := loggedIn(t, budi)
	if h.s.cur.(*HomeScreen).Deactivate.Text != "Lapor HP hilang" {
		t.Fatal("Bahasa Indonesia is not the default")
	}
	h.s.SetLang(kiosk.LangEN)
	if got := h.s.cur.(*HomeScreen).Deactivate.Text; got != "Report a lost phone" {
		t.Fatalf("after switching: %q", got)
	}
	if h.s.sess == nil {
		t.Fatal("the switch logged the officer out")
	}
}

func TestHomeShowsSyncHalt(t *testing.T) {
	h := loggedIn(t, budi)
	p := h.s.cur.(*HomeScreen)
	if p.Halt.Visible() {
		t.Fatalf("halt shown without a halt: %q", p.Halt.Text)
	}
	h.k.status.SyncHalted = ikdsync.ErrAuditRollback
	p.refresh()
	if !p.Halt.Visible() || !strings.Contains(p.Halt.Text, "SINKRONISASI DIHENTIKAN") ||
		!strings.Contains(p.Halt.Text, ikdsync.ErrAuditRollback.Msg.ID) {
		t.Fatalf("halt: visible %v, %q; want the roll-back message", p.Halt.Visible(), p.Halt.Text)
	}
	h.k.status.SyncHalted = nil
	p.refresh()
	if p.Halt.Visible() {
		t.Fatalf("halt still shown after it ended: %q", p.Halt.Text)
	}
}

// TestManualSyncAnswers: a manual sync ends with an answer in words, what was sent and taken
// or why it failed; the progress line is neutral and gone once answered.
func TestManualSyncAnswers(t *testing.T) {
	for _, tt := range []struct {
		name       string
		round      ikdsync.RoundResult
		err        error
		want       string
		importance widget.Importance
	}{
		{"Done", ikdsync.RoundResult{Push: ikdsync.PushResult{Sent: 3, Acknowledged: 2, Rejected: 1},
			Pull: ikdsync.PullResult{Counts: kiosk.DeltaCounts{ResidentsAdded: 4, ResidentsRemoved: 1, OfficersUpdated: 1}}},
			nil, "Sinkronisasi selesai: 3 catatan terkirim (2 diterima, 1 ditolak registri); 5 perubahan data penduduk, 1 petugas, 0 kunci diterima.",
			widget.SuccessImportance},
		{"NotEnrolled", ikdsync.RoundResult{}, app.ErrNotEnrolled,
			"Sinkronisasi gagal: Kiosk belum didaftarkan ke registri — hubungi supervisor", widget.DangerImportance},
		{"Unreachable", ikdsync.RoundResult{}, ikdsync.ErrRegistryUnavailable,
			"Sinkronisasi gagal: Registri tidak dapat dihubungi", widget.DangerImportance},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := loggedIn(t, budi)
			h.k.round, h.k.roundErr = tt.round, tt.err
			h.key(fyne.KeyF5)
			p := h.s.cur.(*SyncScreen)
			if h.k.syncs != 1 || !strings.HasPrefix(p.Outcome.Text, tt.want) || p.Outcome.Importance != tt.importance {
				t.Fatalf("%d rounds, outcome %q (importance %v), want %q (%v)", h.k.syncs, p.Outcome.Text, p.Outcome.Importance, tt.want, tt.importance)
			}
			if p.Progress.Text != "" || p.Progress.Importance == widget.DangerImportance || p.SyncNow.Disabled() {
				t.Fatalf("after the answer: progress %q, button disabled %v", p.Progress.Text, p.SyncNow.Disabled())
			}
		})
	}
}

// TestFieldsTakeTheKeyboard: a hand scanner types into whatever has focus, so each screen with
// a field gives it the focus when it opens.
func TestFieldsTakeTheKeyboard(t *testing.T) {
	h := newHarness(t)
	if u, ok := h.s.cur.(*UnlockScreen); !ok || h.w.Canvas().Focused() != u.Secret {
		t.Fatalf("unlock: %T, focused %T", h.s.cur, h.w.Canvas().Focused())
	}
	h.unlock("rahasia-kiosk")
	h.login(budi)
	h.k.scanErr = context.Canceled // the camera reads nothing: the screen stays at the scan
	h.key(fyne.KeyF2)
	a, ok := h.s.cur.(*ActivationScreen)
	if !ok || h.w.Canvas().Focused() != a.Token {
		t.Fatalf("activation: %T, focused %T", h.s.cur, h.w.Canvas().Focused())
	}
	h.key(fyne.KeyEscape)
	h.key(fyne.KeyF3)
	d, ok := h.s.cur.(*DeactivationScreen)
	if !ok || h.w.Canvas().Focused() != d.NIK {
		t.Fatalf("deactivation: %T, focused %T", h.s.cur, h.w.Canvas().Focused())
	}
}

// TestLostPhoneNotFoundSaysWhatNext: a NIK the kiosk does not hold ends the search with the
// reason and what to do, not a "searching…" that never ends.
func TestLostPhoneNotFoundSaysWhatNext(t *testing.T) {
	h := loggedIn(t, budi)
	h.key(fyne.KeyF3)
	p := h.s.cur.(*DeactivationScreen)
	p.NIK.SetText("3171010101900009")
	test.Tap(p.Next)
	if p.Error.Text != kiosk.ErrResidentNotFound.Msg.ID || strings.Contains(p.Hint.Text, "Mencari") ||
		!strings.Contains(p.Hint.Text, "Periksa NIK") {
		t.Fatalf("not found: error %q, hint %q", p.Error.Text, p.Hint.Text)
	}
}

// TestModelsMissingInWords: the home screen says why the face models are missing in the
// officer's language, with no developer English.
func TestModelsMissingInWords(t *testing.T) {
	h := newHarness(t)
	h.k.status.FaceModels, h.k.status.FaceError = app.FaceUnavailable, app.ErrNoModels.With(errors.New("no model directory (IKD_MODELS / --models)"))
	h.unlock("rahasia-kiosk")
	h.login(budi)
	got := h.s.modelsText(h.k.status)
	if got != "Model wajah tidak tersedia: "+app.ErrNoModels.Msg.ID || strings.Contains(got, "IKD_MODELS") {
		t.Fatalf("models line %q", got)
	}
}
