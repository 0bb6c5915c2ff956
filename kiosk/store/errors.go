package store

import (
	"errors"

	"github.com/ikd-field/ikd/kiosk"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Errors the store returns; callers branch on them with errors.Is. Each carries the text the
// officer or the operator reads, in Bahasa Indonesia and English.
var (
	ErrWrongSecret = &kiosk.Error{Code: "store.wrong_secret", Msg: kiosk.Message{
		ID: "Kata sandi kiosk salah.",
		EN: "Wrong kiosk unlock secret."}}
	ErrNotKioskStore = &kiosk.Error{Code: "store.not_kiosk_store", Msg: kiosk.Message{
		ID: "Berkas ini bukan basis data kiosk IKD (rusak atau milik aplikasi lain).",
		EN: "This file is not an IKD kiosk database (damaged or another application's)."}}
	ErrNewerSchema = &kiosk.Error{Code: "store.newer_schema", Msg: kiosk.Message{
		ID: "Basis data kiosk dibuat oleh versi aplikasi yang lebih baru; perbarui aplikasi kiosk.",
		EN: "The kiosk database was written by a newer version; update the kiosk software."}}
	ErrStoreExists = &kiosk.Error{Code: "store.exists", Msg: kiosk.Message{
		ID: "Basis data kiosk sudah ada; tidak akan ditimpa.",
		EN: "A kiosk database already exists; it will not be overwritten."}}
	ErrStoreMissing = &kiosk.Error{Code: "store.missing", Msg: kiosk.Message{
		ID: "Basis data kiosk belum dibuat; jalankan \"ikdctl init\" terlebih dahulu.",
		EN: "The kiosk database does not exist yet; run \"ikdctl init\" first."}}
	ErrCorrupt = &kiosk.Error{Code: "store.corrupt", Msg: kiosk.Message{
		ID: "Basis data kiosk rusak; pulihkan dari cadangan atau hubungi petugas TI.",
		EN: "The kiosk database is damaged; restore a backup or contact IT support."}}
	ErrDiskFull = &kiosk.Error{Code: "store.disk_full", Msg: kiosk.Message{
		ID: "Penyimpanan penuh; data tidak tersimpan. Kosongkan ruang disk lalu ulangi.",
		EN: "Storage is full; nothing was saved. Free disk space and try again."}}
	ErrReadOnly = &kiosk.Error{Code: "store.read_only", Msg: kiosk.Message{
		ID: "Basis data kiosk tidak dapat ditulis (folder hanya-baca atau tanpa izin).",
		EN: "The kiosk database cannot be written (read-only folder or no permission)."}}
	ErrBusy = &kiosk.Error{Code: "store.busy", Msg: kiosk.Message{
		ID: "Basis data kiosk sedang dipakai proses lain; coba lagi sebentar.",
		EN: "The kiosk database is in use by another process; try again shortly."}}
	// ErrNeedsMigration: Verify found a store of an older schema; it checks, it does not
	// migrate (Open does).
	ErrNeedsMigration = &kiosk.Error{Code: "store.needs_migration", Msg: kiosk.Message{
		ID: "Basis data kiosk memakai skema lama; buka sekali dengan aplikasi kiosk untuk memperbaruinya, lalu periksa lagi.",
		EN: "The kiosk database has an older schema; open it once with the kiosk application to upgrade it, then verify again."}}
)

// classify maps a SQLite failure to the store error an officer can act on, keeping the
// original as the cause. Errors that are not SQLite's pass through unchanged.
func classify(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff { // primary result code; extended codes are on
	case sqlite3.SQLITE_FULL:
		return ErrDiskFull.With(err)
	case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH:
		return ErrReadOnly.With(err)
	case sqlite3.SQLITE_NOTADB:
		return ErrNotKioskStore.With(err)
	case sqlite3.SQLITE_CORRUPT:
		return ErrCorrupt.With(err)
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return ErrBusy.With(err)
	}
	return err
}

// isConstraint reports whether err is a SQLite constraint violation.
func isConstraint(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}
