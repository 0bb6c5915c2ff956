package mail

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Mail is one queued e-mail.
type Mail struct {
	ID             string // queue id, stable; used in Message-ID so a retried send is recognisable
	To             string // recipient address
	Code           string // the 6-digit code
	RegistrationID string // the registration the code activates; shown as a reference for support
	// RecordID is the kiosk record that approved the registration; the mail shows its
	// kiosk.ShortRef, the reference on the citizen's receipt. The queue does not store it: Claim
	// reads it from the registration, which keeps it (empty for a registration unknown there).
	RecordID  string
	ExpiresAt time.Time // when the code expires (shown in the mail, Asia/Jakarta time, WIB)
	Replaces  bool      // the code replaces an earlier one of the registration (re-issued at a counter)
	Attempts  int       // sends tried so far
	CreatedAt time.Time
}

// Queue is the durable mail queue. Implementations are database tables; several registry
// processes may share one.
type Queue interface {
	// Claim leases up to limit mails that are due at now (next attempt <= now, not sent, lease
	// expired) for lease; a claimed mail is not returned to another caller until the lease ends.
	Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Mail, error)
	// Renew moves the lease of the mails ids from held (the lease the caller holds, as Claim
	// or its last Renew set it) to until and returns the ids it renewed. A mail whose lease
	// the caller no longer holds (it ran out and another caller claimed the mail, or the mail
	// was recorded sent or failed) is left alone and not returned.
	Renew(ctx context.Context, ids []string, held, until time.Time) ([]string, error)
	// Sent marks mail id delivered and forgets its code. Idempotent.
	Sent(ctx context.Context, id string, at time.Time) error
	// Failed records a failed attempt and when to try again (next); permanent=true stops
	// retrying (e.g. 5xx recipient refused), forgets the code and keeps the error for the
	// operator.
	Failed(ctx context.Context, id string, at, next time.Time, reason string, permanent bool) error
}

// Sender delivers one message.
type Sender interface {
	Send(ctx context.Context, m Mail) error
}

// SendError is the error a Sender returns to tell the Worker whether retrying can help.
type SendError struct {
	// Permanent is true when the same mail will never be accepted: a 5xx reply to MAIL, RCPT
	// or DATA, or a mail that cannot be written (invalid address, missing code).
	Permanent bool
	// Code is the SMTP reply code, 0 when the failure was not a reply (network, TLS, validation).
	Code int
	Err  error
}

func (e *SendError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("smtp: send failed (code %d)", e.Code)
	}
	return e.Err.Error()
}

func (e *SendError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is, or wraps, a permanent *SendError. Errors that are not
// SendErrors are temporary: a Sender that cannot tell should let the mail be retried.
func IsPermanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}
