package receipt

import (
	"bytes"
	"errors"
	"flag"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func siti(state kiosk.RecordState) Receipt {
	return Receipt{
		RecordID:  "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
		Kind:      kiosk.KindActivation,
		Name:      "Siti Nurhaliza",
		NIK:       "3271046504900002",
		At:        time.Date(2026, 12, 7, 11, 6, 0, 0, time.FixedZone("WIB", 7*3600)),
		Area:      "Bogor Tengah",
		KioskID:   "01a24ebc-06df-7975-a41f-fe5837f6218e",
		OfficerID: "budi",
		State:     state,
	}
}

// pdfText is the PDF's text as pdftotext reads it, the way the outside check and a person
// copying from the printed file do.
func pdfText(t *testing.T, pdf []byte, layout bool) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext not installed (Debian package poppler-utils, see build/packages.txt)")
	}
	path := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{path, "-"}
	if layout {
		args = []string{"-layout", path, "-"}
	}
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

func TestPDFText(t *testing.T) {
	deact := siti(kiosk.RecordPending)
	deact.Kind = kiosk.KindDeactivation
	cases := []struct {
		name    string
		r       Receipt
		want    []string
		notWant []string
	}{
		{"activation pending", siti(kiosk.RecordPending),
			[]string{"TANDA TERIMA AKTIVASI IKD", "Siti Nurhaliza", "327104********02", "7FDK-SGSA",
				"Status: belum terkirim ke registri", "akan dikirim", "setelah data terkirim ke registri",
				"aplikasi IKD di HP Anda", "07-12-2026 11:06 WIB", "Bogor Tengah", "budi",
				"01a24ebc-06df-7975-a41f-fe5837f6218e"},
			[]string{"diterima registri", "sudah dikirim", "3271046504900002", "di kios"}},
		{"activation accepted", siti(kiosk.RecordAcknowledged),
			[]string{"Status: diterima registri", "sudah dikirim", "7FDK-SGSA"},
			[]string{"akan dikirim", "setelah data terkirim"}},
		{"activation sent", siti(kiosk.RecordSent),
			[]string{"Status: terkirim, menunggu jawaban registri", "akan dikirim"}, []string{"sudah dikirim"}},
		{"activation refused", siti(kiosk.RecordRejected),
			[]string{"Status: ditolak registri", "tidak ada kode yang dikirim"}, []string{"akan dikirim", "sudah dikirim"}},
		{"deactivation", deact,
			[]string{"TANDA TERIMA PENONAKTIFAN IKD", "Penonaktifan (HP hilang)", "akan dinonaktifkan"},
			[]string{"Kode aktivasi"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pdf, err := PDF(c.r)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Join(strings.Fields(pdfText(t, pdf, false)), " ")
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("receipt text lacks %q:\n%s", w, text)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(text, w) {
					t.Errorf("receipt text has %q:\n%s", w, text)
				}
			}
		})
	}
}

func TestPDFSameBytes(t *testing.T) {
	a, err := PDF(siti(kiosk.RecordPending))
	if err != nil {
		t.Fatal(err)
	}
	b, err := PDF(siti(kiosk.RecordPending))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two renders of one record differ: a reprint would not be the same receipt")
	}
	c, err := PDF(siti(kiosk.RecordAcknowledged))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c) {
		t.Fatal("the receipt does not change when the registry accepts")
	}
}

func TestPDFRefusesBadRecord(t *testing.T) {
	noID := siti(kiosk.RecordPending)
	noID.RecordID = ""
	checkpoint := siti(kiosk.RecordPending)
	checkpoint.Kind = kiosk.KindAuditCheckpoint
	for _, c := range []struct {
		r    Receipt
		want error
	}{{noID, ErrNoRecord}, {checkpoint, ErrKind}} {
		if _, err := PDF(c.r); !errors.Is(err, c.want) {
			t.Errorf("PDF(%+v) = %v, want %v", c.r, err, c.want)
		}
	}
}

// TestPDFLayoutGolden pins where the words stand on the paper (pdftotext -layout).
func TestPDFLayoutGolden(t *testing.T) {
	pdf, err := PDF(siti(kiosk.RecordPending))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "receipt-layout.golden", []byte(pdfText(t, pdf, true)))
}

// TestPDFImageGolden renders page 1 at 100 dpi with poppler and compares it with the golden
// image pixel by pixel: a receipt whose text collapsed, vanished or ran off the roll fails.
// A small share of pixels may differ, for anti-aliasing between poppler versions.
func TestPDFImageGolden(t *testing.T) {
	bin, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Skip("pdftoppm not installed (Debian package poppler-utils, see build/packages.txt)")
	}
	pdf, err := PDF(siti(kiosk.RecordAcknowledged))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "r.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-r", "100", "-gray", "-png", "-singlefile", in, filepath.Join(dir, "r")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "r.png"))
	if err != nil {
		t.Fatal(err)
	}
	goldenPath := filepath.Join("testdata", "receipt-accepted.png")
	if *update {
		if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	gi, wi := decodePNG(t, got), decodePNG(t, want)
	// 80 mm at 100 dpi is 315 pixels.
	if gi.Bounds() != wi.Bounds() || gi.Bounds().Dx() != 315 {
		t.Fatalf("rendered %v, golden %v (80 mm at 100 dpi is 315 px wide)", gi.Bounds(), wi.Bounds())
	}
	differ, ink := 0, 0
	b := gi.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g, _, _, _ := gi.At(x, y).RGBA()
			w, _, _, _ := wi.At(x, y).RGBA()
			if w>>8 < 128 {
				ink++
			}
			if d := int(g>>8) - int(w>>8); d > 64 || d < -64 {
				differ++
			}
		}
	}
	if ink < 2000 {
		t.Fatalf("golden image has only %d dark pixels: not a printed receipt", ink)
	}
	if max := b.Dx() * b.Dy() / 200; differ > max {
		t.Fatalf("%d pixels differ from %s (at most %d allowed)", differ, goldenPath, max)
	}
}

func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// Names and ids come from the resident snapshot and the store: any text prints, none panics
// or breaks the layout into an error.
func FuzzPDF(f *testing.F) {
	f.Add("Siti Nurhaliza", "Bogor Tengah", "kiosk-bogor-01")
	f.Add("Ṡiti \u202E Nur", "", "01a24ebc-06df-7975-a41f-fe5837f6218e01a24ebc-06df-7975-a41f-fe5837f6218e")
	f.Add(strings.Repeat("W", 400), "\x00\xff", "")
	f.Fuzz(func(t *testing.T, name, area, kioskID string) {
		r := siti(kiosk.RecordPending)
		r.Name, r.Area, r.KioskID = name, area, kioskID
		pdf, err := PDF(r)
		if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Fatalf("PDF(%q, %q, %q) = %d bytes, %v", name, area, kioskID, len(pdf), err)
		}
	})
}
