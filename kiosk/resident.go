package kiosk

import (
	"fmt"
	"time"
)

// ResidentStatus is the registry's status of a resident record.
type ResidentStatus string

const (
	ResidentActive   ResidentStatus = "active"
	ResidentInactive ResidentStatus = "inactive"
)

// Resident is one entry of the kiosk's resident snapshot for its service area.
type Resident struct {
	NIK        NIK
	Name       string
	BirthPlace string
	BirthDate  time.Time
	Sex        Sex
	Address    string
	Kecamatan  string
	Status     ResidentStatus
	// References are the reference face descriptors from the e-KTP record; may be empty.
	References []Descriptor
	// Photo is an optional small reference photo (JPEG) for the officer's eye check.
	Photo []byte
	// Templates are references for other face engines than dlib, at most one per engine,
	// computed from the photo by the registry; may be empty (the kiosk then computes them).
	Templates []Template
	// Revocations are what the registry ended for this NIK, as of the last pull.
	Revocations Revocations
}

// Revocations are a resident's deactivation and revoked registrations.
type Revocations struct {
	// DeactivatedAt is when the NIK was reported lost (a deactivation in force); zero: never.
	DeactivatedAt time.Time
	Registrations []RevokedRegistration
}

// RevokedRegistration is a registration the registry ended.
type RevokedRegistration struct {
	ID          string
	At          time.Time
	Deactivated bool // ended by the NIK's deactivation; otherwise revoked at the registry
}

// Refuses returns why an activation of registration regID, whose QR was issued at issuedAt,
// must not go ahead, or nil. A registration made after the NIK was reported lost (the new
// phone) may be activated; its QR is necessarily issued after the deactivation, while a QR
// issued at or before it belongs to a registration the deactivation ended.
func (r Revocations) Refuses(regID string, issuedAt time.Time) error {
	for _, g := range r.Registrations {
		if g.ID != regID {
			continue
		}
		if g.Deactivated {
			return ErrRegistrationDeactivated.With(fmt.Errorf("registration %s ended by a deactivation at %s", regID, g.At.Format(time.RFC3339)))
		}
		return ErrRegistrationRevoked.With(fmt.Errorf("registration %s revoked at %s", regID, g.At.Format(time.RFC3339)))
	}
	if !r.DeactivatedAt.IsZero() && !issuedAt.After(r.DeactivatedAt) {
		return ErrRegistrationDeactivated.With(fmt.Errorf("QR issued %s, NIK reported lost %s",
			issuedAt.Format(time.RFC3339), r.DeactivatedAt.Format(time.RFC3339)))
	}
	return nil
}

// Role is an officer's role at the kiosk.
type Role string

const (
	RoleOfficer    Role = "officer"
	RoleSupervisor Role = "supervisor"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleOfficer || r == RoleSupervisor }

// Officer is a Dukcapil officer who can sign in at the kiosk.
type Officer struct {
	ID       string // stable id, e.g. the employee number (NIP)
	Name     string
	Role     Role
	Disabled bool
}

// LockoutPolicy says how many failed PIN attempts lock an officer out, and for how long.
type LockoutPolicy struct {
	MaxAttempts int
	// Duration is the first lockout; each one after it, until a successful login, lasts twice
	// as long as the one before.
	Duration time.Duration
	// MaxLockouts: the lockout that reaches it lasts until a supervisor unlocks the account
	// (0: never).
	MaxLockouts int
}

// DefaultLockout locks an officer out for 5 minutes after 5 failed attempts, then 10, and
// after the third lockout (15 wrong PINs) until a supervisor unlocks the account.
var DefaultLockout = LockoutPolicy{MaxAttempts: 5, Duration: 5 * time.Minute, MaxLockouts: 3}
