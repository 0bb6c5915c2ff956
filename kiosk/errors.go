package kiosk

import (
	"errors"
	"fmt"
)

// Lang selects the language of officer-facing text.
type Lang string

// Supported languages; Bahasa Indonesia is the default.
const (
	LangID Lang = "id"
	LangEN Lang = "en"
)

// ParseLang returns the language for a code such as "id", "en", "id_ID.UTF-8" or "en_US";
// anything else falls back to Bahasa Indonesia.
func ParseLang(s string) Lang {
	if len(s) >= 2 && (s[:2] == "en" || s[:2] == "EN") {
		return LangEN
	}
	return LangID
}

// Message is officer-facing text in Bahasa Indonesia and English.
type Message struct {
	ID string
	EN string
}

// In returns the text in lang.
func (m Message) In(lang Lang) string {
	if lang == LangEN {
		return m.EN
	}
	return m.ID
}

// Error is an error that reads well to the officer and still carries what an operator needs:
// a stable code to branch on, the officer-facing message and the underlying cause.
// errors.Is matches another *Error with the same Code.
type Error struct {
	Code string  // stable identifier, e.g. "nik.birth_date"
	Msg  Message // what the officer reads
	Err  error   // operator-facing cause; may be nil
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s (%s): %v", e.Msg.EN, e.Code, e.Err)
	}
	return fmt.Sprintf("%s (%s)", e.Msg.EN, e.Code)
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// With returns a copy of e that wraps cause, keeping the code and message.
func (e *Error) With(cause error) *Error {
	c := *e
	c.Err = cause
	return &c
}

// OfficerMessage returns the officer-facing text of err in lang: the message of the outermost
// *Error in its chain, or a generic message that points to the log.
func OfficerMessage(err error, lang Lang) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg.In(lang)
	}
	return msgInternal.In(lang)
}

var msgInternal = Message{
	ID: "Terjadi kesalahan sistem; hubungi petugas TI (lihat log).",
	EN: "A system error occurred; contact IT support (see the log).",
}

// Sentinel errors adapters return and the workflow branches on.
var (
	// ErrNotFound is returned by lookups when nothing matches.
	ErrNotFound = &Error{Code: "not_found", Msg: Message{ID: "Data tidak ditemukan.", EN: "Not found."}}
	// ErrResidentNotFound: the NIK is not in this kiosk's resident snapshot.
	ErrResidentNotFound = &Error{Code: "resident.not_found", Msg: Message{
		ID: "NIK tidak ada dalam data penduduk kiosk ini; lakukan sinkronisasi atau arahkan ke kantor Dukcapil.",
		EN: "This NIK is not in this kiosk's resident data; sync or refer the citizen to the Dukcapil office."}}
	// ErrResidentInactive: the resident record is not active (deceased, moved, blocked).
	ErrResidentInactive = &Error{Code: "resident.inactive", Msg: Message{
		ID: "Status penduduk tidak aktif; aktivasi IKD tidak dapat dilakukan.",
		EN: "The resident's status is inactive; IKD cannot be activated."}}
	// ErrNoReference: the resident has no reference face descriptor to compare with.
	ErrNoReference = &Error{Code: "resident.no_reference", Msg: Message{
		ID: "Data wajah rujukan penduduk tidak tersedia; bandingkan foto secara manual.",
		EN: "No reference face data for this resident; compare the photo by eye."}}
	// ErrAlreadyActivated: the registration id was already approved on this kiosk.
	ErrAlreadyActivated = &Error{Code: "token.already_activated", Msg: Message{
		ID: "Registrasi ini sudah diaktivasi di kiosk ini; QR tidak dapat dipakai lagi.",
		EN: "This registration was already activated on this kiosk; the QR cannot be used again."}}
	// ErrAlreadyDeactivated: a deactivation for this NIK is already queued.
	ErrAlreadyDeactivated = &Error{Code: "deactivation.duplicate", Msg: Message{
		ID: "Penonaktifan untuk NIK ini sudah tercatat dan menunggu sinkronisasi.",
		EN: "A deactivation for this NIK is already recorded and waiting for sync."}}
	// ErrReissuePending: a code re-issue for this registration is queued and not answered yet.
	ErrReissuePending = &Error{Code: "reissue.pending", Msg: Message{
		ID: "Permintaan kirim ulang kode untuk registrasi ini sudah tercatat dan menunggu sinkronisasi.",
		EN: "A request to re-send the code of this registration is already recorded and waiting for sync."}}
	// ErrReissueNoRegistration: a code re-issue names no registration.
	ErrReissueNoRegistration = &Error{Code: "reissue.no_registration", Msg: Message{
		ID: "Pilih registrasi yang kode aktivasinya akan dikirim ulang.",
		EN: "Choose the registration whose activation code is to be re-sent."}}
	// ErrReasonRequired: a rejection or deactivation needs a reason.
	ErrReasonRequired = &Error{Code: "workflow.reason_required", Msg: Message{
		ID: "Alasan wajib diisi.", EN: "A reason is required."}}
	// ErrEyeCheckRequired: an uncertain face match needs the officer's explicit visual check.
	ErrEyeCheckRequired = &Error{Code: "workflow.eye_check_required", Msg: Message{
		ID: "Kecocokan wajah meragukan: bandingkan foto secara langsung lalu konfirmasi.",
		EN: "The face match is uncertain: compare the photo by eye, then confirm."}}
	// ErrSupervisorRequired: the face also matches another NIK, or must be compared by eye
	// with no reference photo; only a supervisor may approve it.
	ErrSupervisorRequired = &Error{Code: "workflow.supervisor_required", Msg: Message{
		ID: "Perlu PIN supervisor untuk menyetujui kunjungan ini, atau tolak kunjungan.",
		EN: "This visit needs a supervisor's PIN to be approved, or reject it."}}
	// ErrFaceNotMatched: the face did not match; the flow can only be rejected.
	ErrFaceNotMatched = &Error{Code: "workflow.face_not_matched", Msg: Message{
		ID: "Wajah tidak cocok dengan data penduduk; aktivasi tidak dapat disetujui.",
		EN: "The face does not match the resident record; the activation cannot be approved."}}
	// ErrRegistrationRevoked: the registry withdrew the registration the QR belongs to.
	ErrRegistrationRevoked = &Error{Code: "registration.revoked", Msg: Message{
		ID: "Registrasi ini telah dicabut oleh Dukcapil; QR tidak dapat dipakai. Warga perlu mendaftar ulang di aplikasi IKD.",
		EN: "Dukcapil revoked this registration; the QR cannot be used. The citizen needs to register again in the IKD app."}}
	// ErrRegistrationDeactivated: the NIK was reported lost (deactivated) after the QR's
	// registration was made, which ended it.
	ErrRegistrationDeactivated = &Error{Code: "registration.deactivated", Msg: Message{
		ID: "NIK ini dilaporkan hilang (HP hilang) setelah QR ini dibuat; QR tidak berlaku. Warga perlu mendaftar ulang di aplikasi IKD dengan HP barunya.",
		EN: "This NIK was reported lost (lost phone) after this QR was made; the QR is void. The citizen needs to register again in the IKD app on the new phone."}}
	// ErrStaleSupervisor: the kiosk's data is old enough that an activation needs a
	// supervisor's PIN (see StalePolicy).
	ErrStaleSupervisor = &Error{Code: "stale.supervisor_required", Msg: Message{
		ID: "Data kiosk sudah lama tidak diperbarui; aktivasi perlu PIN supervisor. Lakukan sinkronisasi atau pasang stik data terbaru.",
		EN: "The kiosk's data has not been updated for a long time; an activation needs a supervisor's PIN. Sync, or apply a recent data stick."}}
	// ErrStaleBlocked: the kiosk's data is past the hard limit; activations stop until it is
	// updated. Deactivations go on.
	ErrStaleBlocked = &Error{Code: "stale.activation_blocked", Msg: Message{
		ID: "Data kiosk terlalu lama tidak diperbarui; aktivasi dihentikan. Lakukan sinkronisasi atau pasang stik data terbaru dari kantor kecamatan. Penonaktifan (HP hilang) tetap bisa dilakukan.",
		EN: "The kiosk's data is too old; activations are stopped. Sync, or apply a recent data stick from the kecamatan office. Deactivations (lost phone) still work."}}
	// ErrPermission: the officer's role does not allow the action.
	ErrPermission = &Error{Code: "officer.permission", Msg: Message{
		ID: "Peran Anda tidak diizinkan melakukan tindakan ini.",
		EN: "Your role is not allowed to do this."}}
)

// TransitionError reports an action that is not legal in the workflow's current state.
type TransitionError struct {
	From   State
	Action string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("workflow: %s is not allowed in state %s", e.Action, e.From)
}
