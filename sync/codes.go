package sync

import (
	"errors"
	"fmt"

	"github.com/ikd-field/ikd/kiosk"
)

// The registry's refusals, each a *kiosk.Error: the code travels on the wire (in an Answer or
// an error body) and the kiosk shows the officer the message of the same code. A code the
// kiosk does not know is shown with ErrUnknownCode's message and the code itself.

// Rejection codes of a pushed record, besides the ErrRecord… codes of envelope.go.
var (
	ErrDuplicateActivation = &kiosk.Error{Code: "activation.duplicate", Msg: kiosk.Message{
		ID: "Registrasi ini sudah diaktifkan lewat persetujuan lain yang lebih awal; tidak perlu tindakan.",
		EN: "This registration was already activated by an earlier approval; nothing to do."}}
	ErrAccountDeactivated = &kiosk.Error{Code: "activation.deactivated", Msg: kiosk.Message{
		ID: "IKD penduduk ini sudah dinonaktifkan (HP hilang); aktivasi lama ditolak. Minta penduduk mendaftar ulang di aplikasi.",
		EN: "This resident's IKD was deactivated (lost phone); the earlier activation is refused. Ask the resident to register again in the app."}}
	ErrRegistrationRevoked = &kiosk.Error{Code: "activation.registration_revoked", Msg: kiosk.Message{
		ID: "Registrasi ini dicabut sebelum disetujui; minta penduduk mendaftar ulang di aplikasi.",
		EN: "This registration was revoked before it was approved; ask the resident to register again in the app."}}
	ErrUnknownRegistration = &kiosk.Error{Code: "activation.unknown_registration", Msg: kiosk.Message{
		ID: "Registri tidak mengenal registrasi ini; minta penduduk mendaftar ulang di aplikasi.",
		EN: "The registry does not know this registration; ask the resident to register again in the app."}}
	ErrRegistrationMismatch = &kiosk.Error{Code: "activation.nik_mismatch", Msg: kiosk.Message{
		ID: "NIK pada catatan tidak sama dengan NIK registrasi; hubungi petugas TI.",
		EN: "The record's NIK differs from the registration's NIK; contact IT support."}}
	ErrDeviceRevokedRecord = &kiosk.Error{Code: "record.device_revoked", Msg: kiosk.Message{
		ID: "Catatan dibuat setelah kiosk ini dicabut dari registri; hubungi petugas TI.",
		EN: "The record was made after this kiosk was revoked at the registry; contact IT support."}}
	ErrAreaMismatch = &kiosk.Error{Code: "record.area_mismatch", Msg: kiosk.Message{
		ID: "Penduduk ini terdaftar di kecamatan lain; kiosk ini hanya melayani wilayah tempat kiosk didaftarkan. Arahkan penduduk ke kantor kecamatannya.",
		EN: "This resident is registered in another kecamatan; this kiosk serves only the area it was enrolled for. Send the resident to their own kecamatan office."}}
	ErrUnknownResident = &kiosk.Error{Code: "record.unknown_resident", Msg: kiosk.Message{
		ID: "Registri tidak mempunyai data penduduk dengan NIK ini; periksa NIK atau minta penduduk memperbarui data di Dukcapil.",
		EN: "The registry holds no resident with this NIK; check the NIK or ask the resident to update their data at Dukcapil."}}
	ErrUnknownOfficer = &kiosk.Error{Code: "record.unknown_officer", Msg: kiosk.Message{
		ID: "Petugas yang menyetujui tidak terdaftar di registri; minta admin Dukcapil mendaftarkan petugas, lalu sinkronkan.",
		EN: "The approving officer is not registered at the registry; ask the Dukcapil admin to add the officer, then sync."}}
	ErrOfficerDisabled = &kiosk.Error{Code: "record.officer_disabled", Msg: kiosk.Message{
		ID: "Petugas yang menyetujui sudah dinonaktifkan di registri; persetujuannya tidak berlaku.",
		EN: "The approving officer was disabled at the registry; their approval does not count."}}
	ErrOfficerArea = &kiosk.Error{Code: "record.officer_area", Msg: kiosk.Message{
		ID: "Petugas yang menyetujui tidak bertugas di kecamatan penduduk ini.",
		EN: "The approving officer does not serve this resident's kecamatan."}}
	ErrOfficerRole = &kiosk.Error{Code: "record.officer_role", Msg: kiosk.Message{
		ID: "Peran petugas tidak mengizinkan tindakan ini; minta supervisor.",
		EN: "The officer's role does not allow this action; ask a supervisor."}}
	ErrRecordFutureDated = &kiosk.Error{Code: "record.future_dated", Msg: kiosk.Message{
		ID: "Waktu pada catatan lebih lambat daripada waktu registri; periksa tanggal dan jam kiosk, lalu hubungi petugas TI.",
		EN: "The record is dated later than the registry's time; check the kiosk's date and time, then contact IT support."}}
	ErrRecordBeforeEnrolment = &kiosk.Error{Code: "record.before_enrolment", Msg: kiosk.Message{
		ID: "Waktu pada catatan lebih awal daripada pendaftaran kiosk ini di registri; hubungi petugas TI.",
		EN: "The record is dated before this kiosk was enrolled at the registry; contact IT support."}}
	ErrReissueConfirmed = &kiosk.Error{Code: "reissue.already_confirmed", Msg: kiosk.Message{
		ID: "Penduduk sudah memasukkan kode dan IKD-nya sudah aktif; kode baru tidak diperlukan.",
		EN: "The resident already entered the code and their IKD is active; no new code is needed."}}
	ErrReissueNotApproved = &kiosk.Error{Code: "reissue.not_approved", Msg: kiosk.Message{
		ID: "Registrasi ini belum disetujui di loket; lakukan aktivasi (pindai QR warga), bukan kirim ulang kode.",
		EN: "This registration has not been approved at a counter; activate it (scan the resident's QR) instead of re-sending the code."}}
	ErrReissueCodeValid = &kiosk.Error{Code: "reissue.code_still_valid", Msg: kiosk.Message{
		ID: "Kode aktivasi yang dikirim masih berlaku; minta penduduk memeriksa e-mail (juga folder spam). Kode baru hanya dikirim bila kode lama kedaluwarsa atau terkunci karena salah berulang kali.",
		EN: "The code sent is still valid; ask the resident to check their e-mail (and the spam folder). A new code is sent only when the old one expired or was locked by repeated wrong tries."}}
	ErrReissueRateLimited = &kiosk.Error{Code: "reissue.rate_limited", Msg: kiosk.Message{
		ID: "Kode untuk registrasi ini sudah terlalu sering dikirim ulang dalam 24 jam terakhir; coba lagi besok atau hubungi petugas TI bila ada penyalahgunaan.",
		EN: "The code of this registration was re-sent too often in the last 24 hours; try again tomorrow, or contact IT support if it is being misused."}}
	ErrAuditRollback = &kiosk.Error{Code: "audit.rollback", Msg: kiosk.Message{
		ID: "PERINGATAN: log audit kiosk ini lebih lama daripada yang sudah diterima registri. Basis data mungkin dikembalikan ke salinan lama. Hentikan layanan dan hubungi petugas TI.",
		EN: "WARNING: this kiosk's audit log is older than one the registry already received. The database may have been rolled back to an old copy. Stop serving and contact IT support."}}
)

// Refusals of a whole request.
var (
	ErrMessageMalformed = &kiosk.Error{Code: "sync.malformed", Msg: kiosk.Message{
		ID: "Pesan sinkronisasi rusak; perbarui perangkat lunak atau hubungi petugas TI.",
		EN: "The sync message is damaged; update the software or contact IT support."}}
	ErrUnauthenticated = &kiosk.Error{Code: "auth.missing", Msg: kiosk.Message{
		ID: "Permintaan tidak bertanda tangan perangkat; kiosk perlu didaftarkan (ikdctl enroll).",
		EN: "The request carries no device signature; the kiosk needs enrolling (ikdctl enroll)."}}
	ErrDeviceRevoked = &kiosk.Error{Code: "auth.device_revoked", Msg: kiosk.Message{
		ID: "Kiosk ini telah dicabut dari registri; hubungi petugas TI.",
		EN: "This kiosk was revoked at the registry; contact IT support."}}
	// ErrBadRequestSignature is also the answer for a kiosk id the registry does not know:
	// one answer for both, so nobody can learn which kiosk ids exist by asking.
	ErrBadRequestSignature = &kiosk.Error{Code: "auth.bad_signature", Msg: kiosk.Message{
		ID: "Registri tidak mengenali kiosk ini atau tanda tangan perangkatnya tidak sah; daftarkan ulang kiosk dengan kode pendaftaran baru atau hubungi petugas TI.",
		EN: "The registry does not recognise this kiosk or its device signature; enroll the kiosk again with a new enrollment code or contact IT support."}}
	ErrReplay = &kiosk.Error{Code: "auth.replay", Msg: kiosk.Message{
		ID: "Permintaan yang sama dikirim ulang dan ditolak; sinkronisasi akan dicoba lagi.",
		EN: "The same request was sent again and refused; sync will retry."}}
	ErrClockSkew = &kiosk.Error{Code: "auth.clock_skew", Msg: kiosk.Message{
		ID: "Jam kiosk berbeda terlalu jauh dari jam registri; periksa tanggal dan jam komputer.",
		EN: "The kiosk's clock is too far from the registry's; check the computer's date and time."}}
	ErrEnrollCode = &kiosk.Error{Code: "enroll.bad_code", Msg: kiosk.Message{
		ID: "Kode pendaftaran salah, sudah dipakai, atau kedaluwarsa; minta kode baru.",
		EN: "The enrollment code is wrong, used or expired; ask for a new one."}}
	ErrAlreadyEnrolled = &kiosk.Error{Code: "enroll.kiosk_exists", Msg: kiosk.Message{
		ID: "Kiosk dengan ID ini sudah terdaftar dengan kunci lain; hubungi petugas TI.",
		EN: "A kiosk with this id is already enrolled with another key; contact IT support."}}
	ErrRateLimited = &kiosk.Error{Code: "rate.limited", Msg: kiosk.Message{
		ID: "Terlalu banyak permintaan ke registri; tunggu sebentar lalu coba lagi.",
		EN: "Too many requests to the registry; wait a moment and try again."}}
	ErrRegistryUnavailable = &kiosk.Error{Code: "sync.unavailable", Msg: kiosk.Message{
		ID: "Registri tidak dapat dihubungi; data tetap aman di kiosk dan akan dikirim saat terhubung.",
		EN: "The registry cannot be reached; the data is safe on the kiosk and will be sent when connected."}}
	ErrRegistryAnswer = &kiosk.Error{Code: "sync.bad_answer", Msg: kiosk.Message{
		ID: "Registri memberi jawaban yang tidak dapat dibaca; data tetap aman di kiosk dan akan dikirim ulang.",
		EN: "The registry gave an answer that cannot be read; the data is safe on the kiosk and will be sent again."}}
	ErrUnknownCode = &kiosk.Error{Code: "sync.unknown_code", Msg: kiosk.Message{
		ID: "Registri menolak dengan alasan yang tidak dikenal kiosk ini; perbarui perangkat lunak.",
		EN: "The registry refused with a reason this kiosk does not know; update the software."}}
)

// Codes lists every *kiosk.Error the registry may send, so the kiosk can show the message of
// a code that arrives on the wire.
var Codes = []*kiosk.Error{
	ErrRecordMalformed, ErrRecordBadSignature, ErrRecordKioskMismatch, ErrRecordUnknownKind,
	ErrDuplicateActivation, ErrAccountDeactivated, ErrRegistrationRevoked, ErrUnknownRegistration,
	ErrRegistrationMismatch, ErrDeviceRevokedRecord, ErrAuditRollback,
	ErrAreaMismatch, ErrUnknownResident, ErrUnknownOfficer, ErrOfficerDisabled, ErrOfficerArea, ErrOfficerRole,
	ErrRecordFutureDated, ErrRecordBeforeEnrolment,
	ErrReissueConfirmed, ErrReissueNotApproved, ErrReissueCodeValid, ErrReissueRateLimited,
	ErrMessageMalformed, ErrUnauthenticated, ErrDeviceRevoked, ErrBadRequestSignature,
	ErrReplay, ErrClockSkew, ErrEnrollCode, ErrAlreadyEnrolled, ErrRateLimited, ErrRegistryUnavailable, ErrRegistryAnswer,
}

// ErrorForCode returns the *kiosk.Error of a code received from the registry; an unknown code
// gives ErrUnknownCode wrapping the code, so nothing the registry says is silently dropped.
func ErrorForCode(code string) *kiosk.Error {
	for _, e := range Codes {
		if e.Code == code {
			return e
		}
	}
	return ErrUnknownCode.With(fmt.Errorf("registry code %q", code))
}

// CodeOf returns the *kiosk.Error code in err's chain, or "" if there is none.
func CodeOf(err error) string {
	if e, ok := errors.AsType[*kiosk.Error](err); ok {
		return e.Code
	}
	return ""
}
