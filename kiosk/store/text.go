package store

import (
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

// ErrUnsafeResidentText: a resident stored before imports and syncs checked text holds a
// character (a bidi override, a zero-width space...) that could make the review screen show
// a name or address other than the one stored.
var ErrUnsafeResidentText = &kiosk.Error{Code: "resident.unsafe_text", Msg: kiosk.Message{
	ID: "Data penduduk ini memuat karakter tersembunyi atau karakter kontrol, sehingga nama atau alamat bisa tampil keliru; aktivasi tidak dapat dilanjutkan. Laporkan ke supervisor dan arahkan warga ke kantor Dukcapil.",
	EN: "This resident's data holds hidden or control characters, so the name or address could display wrongly; the activation cannot continue. Report it to the supervisor and refer the citizen to the Dukcapil office."}}

// checkStoredText refuses to hand out a resident whose text package safetext refuses, so that
// such a record from an older store never reaches the officer's screen. Text merely not in NFC
// is handed out as stored: it displays the same.
func checkStoredText(r kiosk.Resident) error {
	if _, err := snapshot.CleanText(r); err != nil {
		return ErrUnsafeResidentText.With(err)
	}
	return nil
}
