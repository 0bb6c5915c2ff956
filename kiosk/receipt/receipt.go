// Package receipt renders the paper receipt a citizen takes away from the counter as a PDF for
// an 80 mm receipt roll. It is pure: a record in, bytes out, no printer and no files, so the
// window's "Cetak" button and `ikdctl receipt` print the same bytes for the same record.
//
// The receipt is a citizen's document and is always in Bahasa Indonesia, like the Indonesian
// part of the registry's e-mail; the officer's language setting does not change it.
package receipt

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/ikd-field/ikd/kiosk"
)

// Paper geometry in millimetres. 80 mm is the common thermal receipt roll at Dukcapil
// counters; its printable width is about 72 mm, hence the 4 mm margins. The page is as long
// as its content, so a roll printer cuts it right after the last line.
const (
	PageWidth = 80.0
	margin    = 4.0
	textWidth = PageWidth - 2*margin
)

// Receipt is what the paper says: one approved activation or deactivation record and the
// registry's answer so far.
type Receipt struct {
	RecordID  string
	Kind      kiosk.RecordKind // kiosk.KindActivation or kiosk.KindDeactivation
	Name      string
	NIK       kiosk.NIK
	At        time.Time // the approval; printed in At's own location (callers pass local time)
	Area      string    // the resident's kecamatan, the kiosk's service area
	KioskID   string
	OfficerID string
	State     kiosk.RecordState
}

// Errors for a receipt that cannot be printed; both mean the caller built it wrong.
var (
	ErrNoRecord = errors.New("receipt: no record id")
	ErrKind     = errors.New("receipt: not an activation or deactivation record")
)

// Ref is the reference printed in large type, the same as kiosk.ShortRef of the record id.
func (r Receipt) Ref() string { return kiosk.ShortRef(r.RecordID) }

// Title is the receipt's heading.
func (r Receipt) Title() string {
	if r.Kind == kiosk.KindDeactivation {
		return "TANDA TERIMA PENONAKTIFAN IKD"
	}
	return "TANDA TERIMA AKTIVASI IKD"
}

// StatusLine says where the record is, in the citizen's words.
func (r Receipt) StatusLine() string {
	switch r.State {
	case kiosk.RecordSent:
		return "Status: terkirim, menunggu jawaban registri"
	case kiosk.RecordAcknowledged:
		return "Status: diterima registri"
	case kiosk.RecordRejected:
		return "Status: ditolak registri"
	}
	return "Status: belum terkirim ke registri"
}

// Next says what happens next, in step with the status: the code is still to be sent, has
// been sent, or will not be sent; the code is entered in the IKD app on the citizen's phone.
func (r Receipt) Next() string {
	deact := r.Kind == kiosk.KindDeactivation
	switch {
	case r.State == kiosk.RecordAcknowledged && deact:
		return "IKD di HP yang hilang sudah dinonaktifkan oleh registri."
	case r.State == kiosk.RecordAcknowledged:
		return "Kode aktivasi sudah dikirim ke e-mail yang Anda daftarkan di aplikasi IKD. " +
			"Masukkan kode itu di aplikasi IKD di HP Anda."
	case r.State == kiosk.RecordRejected && deact:
		return "Registri menolak penonaktifan ini; IKD di HP lama belum dinonaktifkan. " +
			"Hubungi petugas dengan menyebut referensi di atas."
	case r.State == kiosk.RecordRejected:
		return "Registri menolak aktivasi ini; tidak ada kode yang dikirim. " +
			"Hubungi petugas dengan menyebut referensi di atas."
	case deact:
		return "IKD di HP yang hilang akan dinonaktifkan setelah data terkirim ke registri."
	}
	return "Kode aktivasi akan dikirim ke e-mail yang Anda daftarkan di aplikasi IKD " +
		"setelah data terkirim ke registri. Masukkan kode itu di aplikasi IKD di HP Anda."
}

func (r Receipt) kindWords() string {
	if r.Kind == kiosk.KindDeactivation {
		return "Penonaktifan (HP hilang)"
	}
	return "Aktivasi"
}

// PDF renders the receipt. The bytes depend on the receipt alone (the document dates are the
// approval time), so a reprint of a record in the same state is byte for byte the same.
func PDF(r Receipt) ([]byte, error) {
	if r.RecordID == "" {
		return nil, ErrNoRecord
	}
	if r.Kind != kiosk.KindActivation && r.Kind != kiosk.KindDeactivation {
		return nil, fmt.Errorf("%w: %q", ErrKind, r.Kind)
	}
	// Lay out once on a long page to learn the height, then for real on a page that fits.
	probe := newDoc(300)
	draw(probe, r)
	height := probe.GetY() + margin
	if err := probe.Error(); err != nil {
		return nil, fmt.Errorf("receipt layout: %w", err)
	}
	doc := newDoc(height)
	draw(doc, r)
	var buf bytes.Buffer
	if err := doc.Output(&buf); err != nil {
		return nil, fmt.Errorf("receipt pdf: %w", err)
	}
	return buf.Bytes(), nil
}

func newDoc(height float64) *fpdf.Fpdf {
	size := fpdf.SizeType{Wd: PageWidth, Ht: height}
	doc := fpdf.NewCustom(&fpdf.InitType{UnitStr: "mm", Size: size})
	doc.SetMargins(margin, margin, margin)
	doc.SetAutoPageBreak(false, 0)
	doc.SetCatalogSort(true)
	doc.SetTitle("Tanda terima IKD", true)
	doc.SetCreator("IKD kiosk", true)
	doc.AddPage()
	return doc
}

func draw(doc *fpdf.Fpdf, r Receipt) {
	// The core fonts speak cp1252; names with letters outside it print as '?' rather than
	// as mojibake.
	tr := doc.UnicodeTranslatorFromDescriptor("cp1252")
	doc.SetCreationDate(r.At)
	doc.SetModificationDate(r.At)

	line := func() {
		y := doc.GetY() + 1.5
		doc.SetLineWidth(0.3)
		doc.SetDashPattern([]float64{1, 1}, 0)
		doc.Line(margin, y, PageWidth-margin, y)
		doc.SetY(y + 2)
	}
	center := func(style string, size, h float64, s string) {
		doc.SetFont("Helvetica", style, size)
		doc.MultiCell(textWidth, h, tr(s), "", "C", false)
	}
	field := func(label, value string) {
		doc.SetFont("Helvetica", "", 9)
		doc.CellFormat(20, 4.6, tr(label), "", 0, "L", false, 0, "")
		doc.SetFont("Helvetica", "B", 9)
		if doc.GetStringWidth(tr(value)) > textWidth-20 {
			// A long id (a kiosk's UUID) stays on one line rather than breaking mid-word.
			doc.SetFont("Helvetica", "B", 7)
		}
		doc.MultiCell(textWidth-20, 4.6, tr(value), "", "L", false)
	}

	center("B", 11, 5.5, r.Title())
	center("", 8, 4, "Identitas Kependudukan Digital")
	line()
	center("", 8, 4, "Referensi")
	center("B", 20, 9, r.Ref())
	center("", 7.5, 3.6, "Sebutkan referensi ini bila menghubungi petugas.")
	line()
	field("Nama", r.Name)
	field("NIK", r.NIK.Masked())
	field("Jenis", r.kindWords())
	field("Waktu", r.At.Format("02-01-2006 15:04 MST"))
	field("Kecamatan", r.Area)
	field("Kiosk", r.KioskID)
	field("Petugas", r.OfficerID)
	line()
	center("B", 10, 5, r.StatusLine())
	doc.SetFont("Helvetica", "", 9)
	doc.MultiCell(textWidth, 4.4, tr(r.Next()), "", "L", false)
	if r.Kind == kiosk.KindActivation {
		doc.Ln(1)
		doc.SetFont("Helvetica", "I", 8)
		doc.MultiCell(textWidth, 3.8, tr("Jangan berikan kode aktivasi kepada siapa pun, termasuk petugas."), "", "L", false)
	}
	line()
	doc.SetFont("Helvetica", "", 6.5)
	doc.MultiCell(textWidth, 3.2, tr("Rekaman: "+r.RecordID), "", "C", false)
}

// FileName is the name a receipt of reference ref is saved under: one file per record, so a
// reprint replaces the earlier copy rather than piling up.
func FileName(ref string) string { return "tanda-terima-" + ref + ".pdf" }
