// Package mail sends the registry's activation-code e-mails over SMTP from a durable queue.
package mail

import (
	"context"
	"time"
)

// Mail is one queued e-mail.
type Mail struct {
	ID             string // queue id, stable; used in Message-ID so a retried send is recognisable
	To             string // recipient address
	Code           string // the 6-digit code
	RegistrationID string
	ExpiresAt      time.Time // when the code expires
	Attempts       int       // sends tried so far
	CreatedAt      time.Time
}

// Queue is the durable mail queue. Implementations are database tables; several registry
// processes may share one.
type Queue interface {
	// Claim leases up to limit mails that are due at now (next attempt <= now, not sent, lease
	// expired) for lease; a claimed mail is not returned to another caller until the lease ends.
	Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Mail, error)
	// Sent marks mail id delivered and forgets its code. Idempotent.
	Sent(ctx context.Context, id string, at time.Time) error
	// Failed records a failed attempt and when to try again (next); permanent stops retrying
	// and keeps the error for the operator.
	Failed(ctx context.Context, id string, at, next time.Time, reason string, permanent bool) error
}
