package registry

import (
	"errors"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/token"
)

// contactError is the citizen API's answer to contact details token.NewClaims refused: a
// code the citizen's app branches on and the message in Bahasa Indonesia, then English.
func contactError(err error) apiError {
	for _, c := range []struct {
		sentinel *kiosk.Error
		code     string
	}{{token.ErrInvalidEmail, "registration.invalid_email"}, {token.ErrInvalidPhone, "registration.invalid_phone"}} {
		if errors.Is(err, c.sentinel) {
			return apiError{Code: c.code, Error: c.sentinel.Msg.ID + " / " + c.sentinel.Msg.EN}
		}
	}
	return apiError{Code: "registration.invalid_contact", Error: err.Error()}
}
