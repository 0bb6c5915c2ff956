package token

import (
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

// NewClaims builds the claims of a citizen's registration the way the registry issues them:
// the contact details masked, whole seconds (the token carries seconds), valid for ttl from
// issued (Sign refuses a lifetime that is not positive). The registry, `ikdctl qr make` and
// the demo all build their tokens with it. Contact details that ParseEmail or ParsePhone
// refuse fail with an error matching ErrInvalidEmail or ErrInvalidPhone.
func NewClaims(nik kiosk.NIK, registrationID, email, phone string, issued time.Time, ttl time.Duration) (Claims, error) {
	email, err := ParseEmail(email)
	if err != nil {
		return Claims{}, err
	}
	if phone, err = ParsePhone(phone); err != nil {
		return Claims{}, err
	}
	maskedEmail, err := MaskEmail(email)
	if err != nil {
		return Claims{}, ErrInvalidEmail.With(err)
	}
	maskedPhone, err := MaskPhone(phone)
	if err != nil {
		return Claims{}, ErrInvalidPhone.With(err)
	}
	issued = issued.Truncate(time.Second)
	return Claims{NIK: nik, RegistrationID: registrationID, MaskedEmail: maskedEmail, MaskedPhone: maskedPhone,
		IssuedAt: issued, ExpiresAt: issued.Add(ttl)}, nil
}
