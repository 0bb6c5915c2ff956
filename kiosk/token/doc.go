// Package token makes and verifies the IKD activation QR token (DESIGN.md §4).
//
// The token follows the EU digital COVID certificate's container rather than inventing one:
//
//	IKD1:<base45(COSE_Sign1)>
//	IKD1:<base45(zlib(COSE_Sign1))>    (zlib optional, as in the DCC)
//
// "IKD1:" names the format and its version. It and base45 (RFC 9285) use only the QR
// alphanumeric character set, so a QR code stores the text at 5.5 bits per character.
//
// After base45 decoding, the first byte says what follows. 0xD2 (CBOR tag 18) starts a tagged
// COSE_Sign1 message (RFC 9052). A zlib header (RFC 1950: compression method 8 in the low
// nibble and a valid header check, such as 0x78 0xDA) starts a zlib stream that inflates to
// one. The verifier accepts both forms, as DCC verifiers do, and caps the inflated size. This
// package's Signer never compresses: measured on a typical token, zlib turns 161 bytes into
// 177, because the signature and the ids do not compress and zlib adds 6 bytes of framing.
//
// The COSE_Sign1 uses Ed25519 (alg -8, EdDSA). Its protected header holds alg (1) and kid (4),
// the registry key id's text as a byte string; the unprotected header is ignored. A crit
// header (2) may name only alg and kid: a token that marks any other header critical, or whose
// crit is malformed, is refused (RFC 9052 §3.1) with ErrCriticalHeader. The payload
// is a CBOR map with small integer keys, CWT-style (RFC 8392). Keys 4 (exp) and 6 (iat) keep
// their CWT meaning and encoding, integer seconds since the Unix epoch, so a generic CWT viewer
// shows the times right; the other keys are IKD's own:
//
//	key  claim  CBOR type        meaning
//	1    ver    unsigned         format version, 1
//	2    nik    unsigned         the citizen's NIK, its 16 digits as a number
//	3    reg    bytes(16)/text   registration id: a canonical UUID as its 16 bytes, else text
//	4    exp    integer          expires at, Unix seconds
//	5    eml    text             masked e-mail the officer reads back, "b***i@gmail.com"
//	6    iat    integer          issued at, Unix seconds
//	7    tel    text             masked phone number, "0812****789"
//
// Unknown keys are ignored, so later minor additions stay readable by older kiosks.
//
// The Verifier checks, in order: the prefix; the structure; that the key id is in the trust
// store; the signature; the claims; the key's validity window at the token's issue time (so a
// token signed by an older, still valid key verifies after a rotation); the lifetime exp−iat
// against a maximum; and the time window, with a clock skew tolerance. Every failure is a
// *kiosk.Error with an officer-facing message. One check is not here: whether the registration
// was already activated on this kiosk needs the outbox, so the workflow makes it and reports
// kiosk.ErrAlreadyActivated.
package token
