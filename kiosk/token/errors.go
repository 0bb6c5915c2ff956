package token

import "github.com/ikd-field/ikd/kiosk"

// Errors of Verify. Each is a *kiosk.Error: callers branch with errors.Is, the UI shows the
// officer message, the log gets the wrapped cause.
var (
	// ErrNotIKD: the text is not an IKD activation token at all (another QR code).
	ErrNotIKD = &kiosk.Error{Code: "token.not_ikd", Msg: kiosk.Message{
		ID: "Kode QR ini bukan QR aktivasi IKD; minta warga membuka QR aktivasi di aplikasi IKD.",
		EN: "This QR code is not an IKD activation QR; ask the citizen to open the activation QR in the IKD app."}}
	// ErrUnsupportedVersion: an IKD token of a format version this kiosk does not know.
	ErrUnsupportedVersion = &kiosk.Error{Code: "token.unsupported_version", Msg: kiosk.Message{
		ID: "QR dibuat oleh versi aplikasi IKD yang belum didukung kiosk ini; perbarui perangkat lunak kiosk.",
		EN: "The QR was made by an IKD app version this kiosk does not support yet; update the kiosk software."}}
	// ErrDamaged: the text has the IKD prefix but its base45, zlib, CBOR or COSE structure is
	// broken, typically a truncated or misread scan.
	ErrDamaged = &kiosk.Error{Code: "token.damaged", Msg: kiosk.Message{
		ID: "QR aktivasi rusak atau terbaca tidak lengkap; pindai ulang, atau minta warga membuat ulang QR di aplikasi IKD.",
		EN: "The activation QR is damaged or was read incompletely; scan again, or ask the citizen to regenerate the QR in the IKD app."}}
	// ErrCriticalHeader: the token marks a header critical (crit, RFC 9052 §3.1) that this
	// kiosk does not understand, or its crit header is malformed; verifying it while ignoring
	// that header could accept what the issuer meant to restrict.
	ErrCriticalHeader = &kiosk.Error{Code: "token.critical_header", Msg: kiosk.Message{
		ID: "QR memakai fitur keamanan yang tidak dikenal kiosk ini; jangan lanjutkan aktivasi. Perbarui perangkat lunak kiosk, dan laporkan ke supervisor bila terulang.",
		EN: "The QR uses a security feature this kiosk does not understand; do not continue the activation. Update the kiosk software, and report it to the supervisor if it happens again."}}
	// ErrUnknownKey: the token's key id is not in the kiosk's trust store.
	ErrUnknownKey = &kiosk.Error{Code: "token.unknown_key", Msg: kiosk.Message{
		ID: "QR ditandatangani dengan kunci yang belum dikenal kiosk ini; lakukan sinkronisasi kiosk lalu pindai ulang.",
		EN: "The QR is signed with a key this kiosk does not know yet; sync the kiosk, then scan again."}}
	// ErrKeyNotValid: the key is known but was not valid when the token says it was issued.
	ErrKeyNotValid = &kiosk.Error{Code: "token.key_not_valid", Msg: kiosk.Message{
		ID: "Kunci penandatangan QR tidak berlaku untuk waktu terbit QR ini; minta warga membuat ulang QR, lalu sinkronisasi kiosk bila masih gagal.",
		EN: "The QR's signing key is not valid for the time the QR was issued; ask the citizen to regenerate the QR, and sync the kiosk if it still fails."}}
	// ErrBadSignature: the signature does not verify: forged or altered.
	ErrBadSignature = &kiosk.Error{Code: "token.bad_signature", Msg: kiosk.Message{
		ID: "Tanda tangan QR tidak sah: QR ini bukan dari aplikasi IKD resmi atau telah diubah. Jangan lanjutkan aktivasi; laporkan ke supervisor.",
		EN: "The QR signature is not valid: the QR is not from the official IKD app or was altered. Do not continue the activation; report it to the supervisor."}}
	// ErrExpired: the token's expiry (plus the skew tolerance) has passed.
	ErrExpired = &kiosk.Error{Code: "token.expired", Msg: kiosk.Message{
		ID: "QR kedaluwarsa, minta warga membuat ulang QR di aplikasi IKD.",
		EN: "The QR has expired; ask the citizen to regenerate the QR in the IKD app."}}
	// ErrNotYetValid: the token was issued after now (beyond the skew tolerance).
	ErrNotYetValid = &kiosk.Error{Code: "token.not_yet_valid", Msg: kiosk.Message{
		ID: "QR belum berlaku; jam kiosk mungkin salah. Periksa tanggal dan jam kiosk, lakukan sinkronisasi, lalu pindai ulang.",
		EN: "The QR is not valid yet; the kiosk clock may be wrong. Check the kiosk date and time, sync, then scan again."}}
	// ErrLifetimeTooLong: exp−iat exceeds the maximum lifetime; the official app never issues
	// such tokens, so it is a replay-friendly token from a misconfigured or rogue issuer.
	ErrLifetimeTooLong = &kiosk.Error{Code: "token.lifetime", Msg: kiosk.Message{
		ID: "Masa berlaku QR melebihi batas yang diizinkan; minta warga membuat ulang QR di aplikasi IKD, dan laporkan ke supervisor bila terulang.",
		EN: "The QR's validity period exceeds the allowed limit; ask the citizen to regenerate the QR in the IKD app, and report it to the supervisor if it happens again."}}
	// ErrNIKInvalid: the signed NIK is not a valid NIK; it wraps kiosk.ParseNIK's error, so
	// errors.Is also matches kiosk.ErrNIKBirthDate and the like.
	ErrNIKInvalid = &kiosk.Error{Code: "token.nik_invalid", Msg: kiosk.Message{
		ID: "NIK di dalam QR tidak valid; minta warga memeriksa data registrasi di aplikasi IKD atau ke kantor Dukcapil.",
		EN: "The NIK inside the QR is not valid; ask the citizen to check the registration in the IKD app or at the Dukcapil office."}}
)
