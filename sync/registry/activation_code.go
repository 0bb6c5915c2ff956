package registry

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// The 6-digit activation code. Six digits are only a million values, so the hash is keyed
// (HMAC-SHA256 under the registry's code key): a copy of the database alone does not give the
// codes away by trying them all. The registration id is part of what is hashed, so one
// code's hash says nothing about another's.

// Defaults of the code's limits.
const (
	DefaultCodeTTL      = 24 * time.Hour
	DefaultCodeMaxTries = 5
)

func newActivationCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("activation code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func (s *Server) codeHash(regID, code string) []byte {
	m := hmac.New(sha256.New, s.CodeKey)
	m.Write([]byte("IKD activation code v1\x00" + regID + "\x00" + code))
	return m.Sum(nil)
}

func (s *Server) codeTTL() time.Duration {
	if s.CodeTTL > 0 {
		return s.CodeTTL
	}
	return DefaultCodeTTL
}

func (s *Server) codeMaxTries() int {
	if s.CodeMaxTries > 0 {
		return s.CodeMaxTries
	}
	return DefaultCodeMaxTries
}

// Confirm errors: the citizen-side answers to a code. Each is a *ConfirmError with a stable
// code the app branches on.
var (
	ErrCodeWrong          = &ConfirmError{Code: "code.wrong", Msg: "Kode salah"}
	ErrCodeExpired        = &ConfirmError{Code: "code.expired", Msg: "Kode sudah kedaluwarsa; minta kode baru di loket"}
	ErrCodeTooManyTries   = &ConfirmError{Code: "code.too_many_tries", Msg: "Terlalu banyak percobaan; minta kode baru di loket"}
	ErrAlreadyActivated   = &ConfirmError{Code: "registration.already_activated", Msg: "IKD sudah aktif"}
	ErrRegDeactivated     = &ConfirmError{Code: "registration.deactivated", Msg: "IKD ini sudah dinonaktifkan; daftar ulang di aplikasi"}
	ErrRegRevoked         = &ConfirmError{Code: "registration.revoked", Msg: "Registrasi ini sudah dicabut; daftar ulang di aplikasi"}
	ErrNotApproved        = &ConfirmError{Code: "registration.not_approved", Msg: "Registrasi belum disetujui di loket"}
	ErrRegistrationAbsent = &ConfirmError{Code: "registration.unknown", Msg: "Registrasi tidak dikenal"}
)

// ConfirmError is why a code was not accepted. TriesLeft is set for a wrong code.
type ConfirmError struct {
	Code      string
	Msg       string // Bahasa Indonesia, for the app
	TriesLeft int
}

func (e *ConfirmError) Error() string {
	if e.Code == ErrCodeWrong.Code {
		return fmt.Sprintf("%s (%s): %d tries left", e.Msg, e.Code, e.TriesLeft)
	}
	return fmt.Sprintf("%s (%s)", e.Msg, e.Code)
}

// Is matches another *ConfirmError with the same code.
func (e *ConfirmError) Is(target error) bool {
	t, ok := target.(*ConfirmError)
	return ok && t.Code == e.Code
}

// Confirm checks a citizen's code for registration regID and activates it when it is right.
// A wrong code counts a try, in the same transaction that reads the count, so parallel
// guesses cannot exceed the limit.
func (s *Server) Confirm(ctx context.Context, regID, code string) error {
	var result error
	err := s.Store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		result = nil
		reg, err := tx.Registration(ctx, regID)
		if errors.Is(err, ErrNotFound) {
			result = ErrRegistrationAbsent
			return nil
		}
		if err != nil {
			return err
		}
		now := s.Now()
		switch {
		case reg.Status == RegActivated:
			result = ErrAlreadyActivated
		case reg.Status == RegDeactivated:
			result = ErrRegDeactivated
		case reg.Status == RegRevoked:
			result = ErrRegRevoked
		case reg.Status != RegApproved || reg.CodeHash == nil:
			result = ErrNotApproved
		case reg.CodeTries >= s.codeMaxTries():
			result = ErrCodeTooManyTries
		case !now.Before(reg.CodeExpires):
			result = ErrCodeExpired
		case !hmac.Equal(s.codeHash(reg.ID, code), reg.CodeHash):
			reg.CodeTries++
			if left := s.codeMaxTries() - reg.CodeTries; left > 0 {
				result = &ConfirmError{Code: ErrCodeWrong.Code, Msg: ErrCodeWrong.Msg, TriesLeft: left}
			} else {
				result = ErrCodeTooManyTries
			}
			return tx.UpdateRegistration(ctx, reg)
		default:
			reg.Status, reg.ConfirmedAt, reg.CodeHash = RegActivated, now, nil
			return tx.UpdateRegistration(ctx, reg)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("confirm registration %s: %w", regID, err)
	}
	return result
}
