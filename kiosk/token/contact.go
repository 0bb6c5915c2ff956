package token

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/safetext"
)

// Errors of ParseEmail and ParsePhone; NewClaims returns them too. The message is for the
// citizen who typed the contact details.
var (
	ErrInvalidEmail = &kiosk.Error{Code: "contact.invalid_email", Msg: kiosk.Message{
		ID: "Alamat e-mail tidak valid: tulis satu alamat saja, tanpa nama, koma, spasi atau baris baru (contoh: budi@gmail.com).",
		EN: "The e-mail address is not valid: give one bare address, with no name, comma, space or line break (for example budi@gmail.com)."}}
	ErrInvalidPhone = &kiosk.Error{Code: "contact.invalid_phone", Msg: kiosk.Message{
		ID: "Nomor HP tidak valid: tulis 9 sampai 15 angka, boleh diawali + (contoh: 081234567789).",
		EN: "The phone number is not valid: 9 to 15 digits, optionally starting with + (for example 081234567789)."}}
)

// maxEmailLen is the longest address SMTP carries (RFC 5321's path limit less the brackets).
const maxEmailLen = 254

// ParseEmail returns addr, less surrounding white space, if it is exactly one bare address
// that mail is sent to as it stands. A display name ("Budi <budi@mail.id>"), a list
// ("a@mail.id, b@mail.id"), a comment, quoting, a line break anywhere (which would inject
// mail headers) or an address net/mail would rewrite is refused: an address accepted but
// sent differently fails for good, long after the citizen has left. Characters that
// package safetext refuses are refused too, since the masked address is read back to the
// citizen from the officer's screen.
func ParseEmail(addr string) (string, error) {
	if strings.ContainsAny(addr, "\r\n") {
		return "", ErrInvalidEmail.With(errors.New("e-mail address has a line break"))
	}
	s := strings.TrimSpace(addr)
	if len(s) > maxEmailLen {
		return "", ErrInvalidEmail.With(fmt.Errorf("e-mail address of %d bytes, at most %d", len(s), maxEmailLen))
	}
	if err := safetext.Check(s); err != nil {
		return "", ErrInvalidEmail.With(fmt.Errorf("e-mail address: %w", err))
	}
	a, err := mail.ParseAddress(s)
	switch {
	case err != nil:
		return "", ErrInvalidEmail.With(fmt.Errorf("e-mail address %q: %w", s, err))
	case a.Name != "":
		return "", ErrInvalidEmail.With(fmt.Errorf("e-mail address %q has a display name", s))
	case a.Address != s:
		return "", ErrInvalidEmail.With(fmt.Errorf("e-mail address %q is not a bare address (it reads as %q)", s, a.Address))
	case strings.Contains(s, "@["):
		return "", ErrInvalidEmail.With(fmt.Errorf("e-mail address %q has an IP address for a domain", s))
	}
	if _, err := MaskEmail(s); err != nil {
		return "", ErrInvalidEmail.With(err)
	}
	return s, nil
}

// ParsePhone returns phone as digits with an optional leading +, the separators people type
// (spaces, dashes, dots, parentheses) removed, if it is an Indonesian number MaskPhone takes.
// Anything else, a line break or a letter included, is refused.
func ParsePhone(phone string) (string, error) {
	s := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')':
			return -1
		}
		return r
	}, phone)
	digits := strings.TrimPrefix(s, "+")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return "", ErrInvalidPhone.With(fmt.Errorf("phone number %q: want digits with an optional leading +", phone))
	}
	if _, err := MaskPhone(s); err != nil {
		return "", ErrInvalidPhone.With(err)
	}
	return s, nil
}
