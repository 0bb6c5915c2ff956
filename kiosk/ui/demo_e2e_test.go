package ui

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/ikd-field/ikd/internal/slowtest"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/demo"
	"github.com/ikd-field/ikd/kiosk/receipt"
)

// stillPreview is the real kiosk with the preview's frames left out: the preview would run
// beside the test's synchronous steps, and what it draws is covered by the screenshot tests.
type stillPreview struct{ app.Kiosk }

func (stillPreview) Preview(context.Context) (<-chan app.Frame, error) {
	ch := make(chan app.Frame)
	close(ch)
	return ch, nil
}

// The screens over the real demo kiosk: the citizen registers, the officer logs in, scans,
// reviews and approves; after a sync the e-mail arrives and the citizen confirms the code.
func TestSlowDemoActivationThroughTheScreens(t *testing.T) {
	slowtest.Skip(t, "builds the whole demo world (registry, mailbox, store)")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, err := demo.NewDemo(ctx, demo.DemoConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	w.Resize(fyne.NewSize(1366, 768))
	s, err := NewShell(w, stillPreview{d.Kiosk}, Options{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s.goAsync = func(f func()) { f() }
	s.Start()

	login := s.cur.(*LoginScreen)
	login.Choose(0)
	for _, c := range demo.DemoPIN {
		test.Tap(login.Pad.Digits[c-'0'])
	}
	test.Tap(login.Pad.OK)
	if _, ok := s.cur.(*HomeScreen); !ok {
		t.Fatalf("after the demo PIN: %T (%q)", s.cur, login.Error.Text)
	}

	r := d.Activating
	reg, err := d.Citizen.Register(ctx, r.NIK, demo.DemoEmail(r), "0812-3456-7789")
	if err != nil {
		t.Fatal(err)
	}
	s.typedKey(&fyne.KeyEvent{Name: fyne.KeyF2}) // the scan runs until the camera reads the QR
	p := s.cur.(*ActivationScreen)
	if p.Review == nil {
		t.Fatalf("no review: %q", p.Error.Text)
	}
	if p.Review.Name.Text != r.Name {
		t.Fatalf("review of %q, want %q", p.Review.Name.Text, r.Name)
	}
	// The demo's citizen carries his reference photo (Debian's photos, where installed):
	// without models the eye is the check, and the photo is there to check with.
	if _, err := os.Stat("/usr/share/doc/libdlib19.1/examples/johns"); err == nil {
		if p.Review.ref == nil || p.Review.verdict != kiosk.VerdictEyeCheck {
			t.Fatalf("review: photo shown %v, verdict %s (%q)", p.Review.ref != nil, p.Review.verdict, p.Review.Verdict.Text)
		}
	}
	if p.Review.EyeCheck.Visible() {
		test.Tap(p.Review.EyeCheck)
	}
	test.Tap(p.Review.Approve)
	rc, ok := s.cur.(*ReceiptScreen)
	if !ok {
		t.Fatalf("after approval: %T (%q)", s.cur, p.Review.Error.Text)
	}
	t.Logf("receipt: %s / %s", rc.Mail.Text, rc.State.Text)

	s.k.SyncNow()
	for rc.state != kiosk.RecordAcknowledged {
		if ctx.Err() != nil {
			t.Fatalf("the record stays %s: %s", rc.state, rc.State.Text)
		}
		time.Sleep(100 * time.Millisecond)
		s.Refresh()
	}
	msg, err := d.Mailbox.WaitFor(ctx, demo.DemoEmail(r))
	if err != nil {
		t.Fatal(err)
	}
	// "Cetak" with no printer configured keeps the record's receipt PDF; it names the citizen
	// and carries the reference the e-mail repeats.
	ref := kiosk.ShortRef(rc.r.RecordID)
	if !strings.Contains(msg.Text, "Referensi tanda terima: "+ref) {
		t.Errorf("the e-mail does not repeat the receipt's reference %s:\n%s", ref, msg.Text)
	}
	test.Tap(rc.Print)
	printed := filepath.Join(s.opt.OutDir, receipt.FileName(ref))
	if _, err := os.Stat(printed); err != nil {
		t.Fatalf("Cetak: %v (%q)", err, rc.Saved.Text)
	}
	if _, err := exec.LookPath("pdftotext"); err == nil {
		text, err := exec.Command("pdftotext", printed, "-").Output()
		for _, want := range []string{r.Name, r.NIK.Masked(), ref, "Status: diterima registri"} {
			if err != nil || !strings.Contains(string(text), want) {
				t.Errorf("printed receipt lacks %q (%v):\n%s", want, err, text)
			}
		}
	}
	status, err := d.Citizen.ConfirmCode(ctx, reg.RegistrationID, msg.Code)
	if err != nil {
		t.Fatalf("confirm %q: %v", msg.Code, err)
	}
	t.Logf("receipt state %q; citizen confirmed code %s: %s", rc.State.Text, msg.Code, status)
}
