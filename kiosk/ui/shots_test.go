//go:build uishots

package ui

// Screenshot tests: every main screen drawn by the real GL driver at 1366×768 and 1920×1080,
// written as PNG files and checked for real rendering (not pixel-exact). They need a display
// with GLX (Xvfb with Mesa's software renderer is enough); build/check-ui.sh sets that up and
// bounds the run with a timeout, because fyne hangs rather than fails where GLX is missing.

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
)

var glApp fyne.App

// TestMain runs the GL app on the main goroutine, as GLFW requires, and the tests beside it.
func TestMain(m *testing.M) {
	watchdog := time.AfterFunc(4*time.Minute, func() {
		fmt.Fprintln(os.Stderr, "uishots: no progress in 4 minutes; is GLX missing?")
		os.Exit(3)
	})
	glApp = fyneapp.NewWithID("id.go.dukcapil.ikd.kiosk.uishots")
	code := 1
	go func() {
		defer fyne.Do(glApp.Quit)
		// A window that is never shown keeps the app running while each shot's window is
		// closed (fyne quits when its last window closes).
		fyne.DoAndWait(func() { glApp.NewWindow("keep") })
		code = m.Run()
	}()
	glApp.Run()
	watchdog.Stop()
	os.Exit(code)
}

// shot is one screen state to draw: it navigates a logged-in (or not) shell there.
type shot struct {
	name  string
	setup func(s *Shell, k *fakeKiosk)
	// then runs once the core's answers queued by setup reached the UI (on the GL driver
	// fyne.Do from the UI goroutine runs later, not at once as in the test driver).
	then func(s *Shell)
}

var shots = []shot{
	{"01-unlock", func(s *Shell, k *fakeKiosk) {}, nil},
	{"02-login", func(s *Shell, k *fakeKiosk) { k.locked = false; s.showLogin(); s.cur.(*LoginScreen).Choose(0) }, nil},
	{"03-home", func(s *Shell, k *fakeKiosk) { login(s, k, budi) }, nil},
	{"04-activation-scan", func(s *Shell, k *fakeKiosk) {
		login(s, k, budi)
		k.scanErr = errBadToken // the scan stops with the outline drawn
		s.showActivation()
	}, func(s *Shell) {
		p := s.cur.(*ActivationScreen)
		p.clearError()
		p.Hint.SetText(s.tx.T("ui.activation.show_qr"))
	}},
	{"05-activation-face", func(s *Shell, k *fakeKiosk) {
		login(s, k, budi)
		k.scanErr = errBadToken
		s.showActivation()
	}, func(s *Shell) {
		p := s.cur.(*ActivationScreen)
		p.clearError()
		p.Preview.SetOutline(nil)
		p.Preview.SetFace(image.Rect(250, 60, 390, 240))
		p.Hint.SetText("Tolehkan kepala perlahan ke kiri")
	}},
	{"06-review", func(s *Shell, k *fakeKiosk) {
		login(s, k, budi)
		k.face = kiosk.FaceResult{Band: kiosk.BandUncertain, Score: 0.47, OtherNIKs: []kiosk.NIK{"3171015001900004"}}
		s.showActivation()
	}, nil},
	{"07-reject", func(s *Shell, k *fakeKiosk) { login(s, k, budi); s.showActivation() },
		func(s *Shell) { s.cur.(*ActivationScreen).Review.Reject.OnTapped() }},
	{"08-receipt", func(s *Shell, k *fakeKiosk) { login(s, k, budi); s.showActivation() },
		func(s *Shell) { s.cur.(*ActivationScreen).Review.Approve.OnTapped() }},
	{"09-deactivation", func(s *Shell, k *fakeKiosk) {
		login(s, k, budi)
		s.showDeactivation()
		s.cur.(*DeactivationScreen).NIK.SetText("3171019908900003")
	}, nil},
	{"10-sync", func(s *Shell, k *fakeKiosk) {
		k.status.PushError = &kiosk.Error{Code: "sync.unavailable", Msg: kiosk.Message{ID: "Registri tidak dapat dihubungi; data tetap tersimpan dan dikirim nanti.", EN: "The registry cannot be reached."}}
		k.records = []kiosk.OutboxRecord{
			{ID: "0193a3c2-7b1e-7000-8000-000000000009", Kind: kiosk.KindActivation, RegistrationID: "0193a3c1-0000-7000-8000-000000000001",
				NIK: "3201014101900001", State: kiosk.RecordRejected, Answer: "activation.duplicate"},
			{ID: "0193a3c2-7b1e-7000-8000-00000000000a", Kind: kiosk.KindActivation, RegistrationID: "0193a3c1-0000-7000-8000-000000000002",
				NIK: "3171019908900003", State: kiosk.RecordAcknowledged},
			{ID: "0193a3c2-7b1e-7000-8000-00000000000b", Kind: kiosk.KindCodeReissue, RegistrationID: "0193a3c1-0000-7000-8000-000000000003",
				NIK: "3201010101900002", State: kiosk.RecordRejected, Answer: "reissue.code_still_valid"},
		}
		login(s, k, budi)
		s.showSync()
	}, nil},
	{"11-stats", func(s *Shell, k *fakeKiosk) { login(s, k, sari); s.showStats() }, nil},
	{"12-settings", func(s *Shell, k *fakeKiosk) { login(s, k, sari); s.showSettings() },
		func(s *Shell) { s.cur.(*SettingsScreen).TestCam.OnTapped() }},
	{"13-home-en", func(s *Shell, k *fakeKiosk) { login(s, k, budi); s.SetLang(kiosk.LangEN) }, nil},
	{"14-home-no-camera", func(s *Shell, k *fakeKiosk) { k.status.Camera = missingCamera; login(s, k, budi) }, nil},
	{"15-activation-no-camera", func(s *Shell, k *fakeKiosk) {
		k.status.Camera = missingCamera
		login(s, k, budi)
		k.scanErr = context.Canceled // the camera reads nothing
		s.showActivation()
	}, nil},
	{"16-home-no-models", func(s *Shell, k *fakeKiosk) {
		k.status.FaceModels = app.FaceUnavailable
		k.status.FaceError = app.ErrNoModels.With(errors.New("no model directory"))
		login(s, k, budi)
	}, nil},
}

func login(s *Shell, k *fakeKiosk, who kiosk.Officer) {
	k.locked = false
	sess, _ := k.Login(nil, who.ID, pins[who.ID])
	s.sess = sess
	s.showHome()
}

func TestShotScreens(t *testing.T) {
	dir := os.Getenv("IKD_UI_SHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	for _, size := range []fyne.Size{{Width: 1366, Height: 768}, {Width: 1920, Height: 1080}} {
		for _, sh := range shots {
			name := fmt.Sprintf("%s-%dx%d", sh.name, int(size.Width), int(size.Height))
			t.Run(name, func(t *testing.T) {
				img := capture(t, size, sh)
				path := filepath.Join(dir, name+".png")
				if err := writePNG(path, img); err != nil {
					t.Fatal(err)
				}
				checkRendered(t, img, size)
				t.Logf("wrote %s", path)
			})
		}
	}
}

func capture(t *testing.T, size fyne.Size, sh shot) image.Image {
	t.Helper()
	var w fyne.Window
	var shell *Shell
	var err error
	fyne.DoAndWait(func() {
		w = glApp.NewWindow("IKD shot " + sh.name)
		w.SetPadded(false)
		w.Resize(size)
		k := newFakeKiosk()
		var s *Shell
		s, err = NewShell(w, k, Options{OutDir: t.TempDir(), Now: func() time.Time { return time.Date(2026, 12, 1, 10, 0, 0, 0, time.Local) }})
		if err != nil {
			return
		}
		s.goAsync = func(f func()) { f() }
		shell = s
		s.Start()
		sh.setup(s, k)
		w.Show()
	})
	if err != nil {
		t.Fatal(err)
	}
	if sh.then != nil {
		time.Sleep(300 * time.Millisecond)
		fyne.DoAndWait(func() { sh.then(shell) })
	}
	defer fyne.DoAndWait(w.Close)
	time.Sleep(shotWait()) // let the window map and draw a few frames
	// The window is grabbed from the X server as a person would see it: with Mesa's software
	// renderer fyne's own Canvas().Capture() reads back a black framebuffer.
	path := filepath.Join(t.TempDir(), "grab.png")
	cmd := exec.Command("import", "-window", "IKD shot "+sh.name, path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("import: %v: %s", err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode grab: %v", err)
	}
	return img
}

func writePNG(path string, img image.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("shots dir: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("shot file: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("shot png: %w", err)
	}
	return f.Close()
}

// checkRendered checks the picture is the window's size, not blank, has several colours,
// and that the header (where the title text is) has text-like contrast.
func checkRendered(t *testing.T, img image.Image, size fyne.Size) {
	t.Helper()
	b := img.Bounds()
	if b.Dx() < int(size.Width) || b.Dy() < int(size.Height) {
		t.Errorf("captured %v, want at least %v", b.Size(), size)
	}
	// A window grows to its content's minimum size: on a screen of exactly this size, what
	// lies past it (the home screen's "Lapor HP hilang" and "Kunci", say) is cut off.
	if b.Dx() > int(size.Width) || b.Dy() > int(size.Height) {
		t.Errorf("the window grew to %v to fit its content, past the %v screen", b.Size(), size)
	}
	colours := map[[3]uint32]int{}
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 12, g >> 12, bl >> 12}]++
		}
	}
	if len(colours) < 8 {
		t.Errorf("only %d colours: the screen looks blank", len(colours))
	}
	// Below the header, a laid-out page spans a fair part of the window; a page whose layout
	// collapsed (a scroll in a centre container, say) is a thin strip.
	bg := [3]uint32{}
	for c, n := range colours {
		if n > colours[bg] {
			bg = c
		}
	}
	drawn := image.Rectangle{}
	for y := b.Min.Y + 50; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if [3]uint32{r >> 12, g >> 12, bl >> 12} != bg {
				drawn = drawn.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	t.Logf("page drawn over %v", drawn)
	if drawn.Dx() < b.Dx()/4 || drawn.Dy() < b.Dy()*15/100 {
		t.Errorf("the page spans only %v of %v: its layout collapsed?", drawn.Size(), b.Size())
	}
	dark, light := 0, 0
	for y := b.Min.Y; y < b.Min.Y+40 && y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Min.X+400 && x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			lum := (r + g + bl) / 3 >> 8
			if lum < 100 {
				dark++
			} else if lum > 180 {
				light++
			}
		}
	}
	if dark < 50 || light < 50 {
		t.Errorf("the header region has no text contrast (dark %d, light %d px)", dark, light)
	}
}

// shotWait is how long a window draws before it is captured (IKD_UI_SHOT_WAIT to debug).
func shotWait() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("IKD_UI_SHOT_WAIT")); err == nil {
		return d
	}
	return 700 * time.Millisecond
}
