package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"golang.org/x/crypto/argon2"
)

// PINParams are the argon2id parameters of officer PIN hashes; each hash stores its own, so
// raising them later does not lock anyone out.
type PINParams struct {
	Time      uint32
	MemoryKiB uint32
	Threads   uint8
}

// DefaultPIN is OWASP's minimum argon2id configuration (t=2, 19 MiB, p=1). A 6-digit PIN is
// a small space, so the real protection is elsewhere: the hash input is first keyed with a
// pepper derived from the data key (a stolen file without the unlock secret gives nothing to
// brute-force) and online guessing is stopped by the lockout policy.
var DefaultPIN = PINParams{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}

// MinPINLen is the shortest PIN accepted.
const MinPINLen = 6

// Officer errors.
var (
	ErrBadCredentials = &kiosk.Error{Code: "officer.bad_credentials", Msg: kiosk.Message{
		ID: "ID petugas atau PIN salah.", EN: "Wrong officer id or PIN."}}
	ErrLockedOut = &kiosk.Error{Code: "officer.locked_out", Msg: kiosk.Message{
		ID: "Terlalu banyak PIN salah; akun dikunci sementara. Coba lagi nanti atau hubungi supervisor.",
		EN: "Too many wrong PINs; the account is locked for a while. Try later or ask a supervisor."}}
	ErrOfficerDisabled = &kiosk.Error{Code: "officer.disabled", Msg: kiosk.Message{
		ID: "Akun petugas ini dinonaktifkan.", EN: "This officer account is disabled."}}
	ErrOfficerExists = &kiosk.Error{Code: "officer.exists", Msg: kiosk.Message{
		ID: "ID petugas sudah terdaftar.", EN: "This officer id is already registered."}}
	ErrWeakPIN = &kiosk.Error{Code: "officer.weak_pin", Msg: kiosk.Message{
		ID: fmt.Sprintf("PIN harus terdiri dari minimal %d angka.", MinPINLen),
		EN: fmt.Sprintf("A PIN must be at least %d digits.", MinPINLen)}}
	ErrInvalidOfficer = &kiosk.Error{Code: "officer.invalid", Msg: kiosk.Message{
		ID: "Data petugas tidak lengkap: ID, nama dan peran (officer/supervisor) wajib diisi.",
		EN: "Incomplete officer: id, name and role (officer/supervisor) are required."}}
)

// ValidPIN checks the PIN rule: at least MinPINLen digits and nothing else.
func ValidPIN(pin string) error {
	if len(pin) < MinPINLen {
		return ErrWeakPIN.With(fmt.Errorf("%d digits", len(pin)))
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return ErrWeakPIN.With(errors.New("non-digit character"))
		}
	}
	return nil
}

// AddOfficer registers o with pin. actorID is the supervisor doing it (recorded in the audit
// log; empty for the first supervisor at init).
func (s *Store) AddOfficer(ctx context.Context, actorID string, o kiosk.Officer, pin string) error {
	if o.ID == "" || o.Name == "" || !o.Role.Valid() || containsNIK(o.ID) {
		return ErrInvalidOfficer
	}
	if err := ValidPIN(pin); err != nil {
		return err
	}
	p := s.opts.PIN
	salt := randomBytes(saltSize)
	hash := s.pinHash(o.ID, pin, salt, p)
	now := s.now()
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO officers
			(id, name_sealed, role, disabled, pin_hash, pin_salt, pin_params, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			o.ID, s.keys.seal([]byte(o.Name), officerAAD(o.ID)), string(o.Role), o.Disabled,
			hash, salt, p.encode(), now.UnixNano())
		if isConstraint(err) {
			return ErrOfficerExists.With(fmt.Errorf("officer %s", o.ID))
		}
		if err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, kiosk.AuditEvent{Time: now, OfficerID: actorID,
			Action: "officer.added", Subject: o.ID, Detail: string(o.Role)})
	})
	if err != nil {
		return fmt.Errorf("add officer %s: %w", o.ID, err)
	}
	return nil
}

// Officers lists all officers, ordered by id.
func (s *Store) Officers(ctx context.Context) ([]kiosk.Officer, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, name_sealed, role, disabled FROM officers ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list officers: %w", classify(err))
	}
	defer rows.Close()
	var out []kiosk.Officer
	for rows.Next() {
		var o kiosk.Officer
		var name []byte
		if err := rows.Scan(&o.ID, &name, &o.Role, &o.Disabled); err != nil {
			return nil, fmt.Errorf("list officers: %w", classify(err))
		}
		plain, err := s.keys.open(name, officerAAD(o.ID))
		if err != nil {
			return nil, fmt.Errorf("officer %s: %w", o.ID, err)
		}
		o.Name = string(plain)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list officers: %w", classify(err))
	}
	return out, nil
}

// Login checks an officer's PIN. Wrong PINs count towards the lockout policy; both failed
// and successful attempts are audited. An unknown id and a wrong PIN give the same error and
// take the same time, so ids cannot be probed.
func (s *Store) Login(ctx context.Context, id, pin string) (kiosk.Officer, error) {
	var o kiosk.Officer
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		o, err = s.login(ctx, tx, id, pin)
		return err
	})
	if err != nil {
		return kiosk.Officer{}, fmt.Errorf("login %s: %w", id, err)
	}
	return o, nil
}

// login runs inside one write transaction so that concurrent attempts cannot both slip under
// the attempt limit. A rejected login still commits: its counter and audit entry must stay.
func (s *Store) login(ctx context.Context, tx *sql.Tx, id, pin string) (kiosk.Officer, error) {
	now := s.now()
	audit := func(action, detail string) error {
		return s.appendAudit(ctx, tx, kiosk.AuditEvent{Time: now, OfficerID: id, Action: action,
			Subject: id, Detail: detail})
	}
	var (
		o                  = kiosk.Officer{ID: id}
		name, hash, salt   []byte
		params             string
		failed, lockedNano int64
	)
	err := tx.QueryRowContext(ctx, `SELECT name_sealed, role, disabled, pin_hash, pin_salt, pin_params,
		failed_attempts, locked_until FROM officers WHERE id = ?`, id).
		Scan(&name, &o.Role, &o.Disabled, &hash, &salt, &params, &failed, &lockedNano)
	if errors.Is(err, sql.ErrNoRows) {
		s.pinHash(id, pin, make([]byte, saltSize), s.opts.PIN) // same cost as a real check
		if err := audit("officer.login_failed", "unknown officer"); err != nil {
			return o, err
		}
		return o, errKeep{ErrBadCredentials}
	}
	if err != nil {
		return o, err
	}
	if until := time.Unix(0, lockedNano); now.Before(until) {
		if err := audit("officer.login_locked", "locked until "+until.UTC().Format(time.RFC3339)); err != nil {
			return o, err
		}
		return o, errKeep{ErrLockedOut.With(fmt.Errorf("locked until %s", until.UTC().Format(time.RFC3339)))}
	}
	p, err := decodePINParams(params)
	if err != nil {
		return o, ErrCorrupt.With(fmt.Errorf("officer %s: %w", id, err))
	}
	if subtle.ConstantTimeCompare(s.pinHash(id, pin, salt, p), hash) != 1 {
		failed++
		detail, locked := fmt.Sprintf("attempt %d of %d", failed, s.opts.Lockout.MaxAttempts), int64(0)
		if failed >= int64(s.opts.Lockout.MaxAttempts) {
			locked = now.Add(s.opts.Lockout.Duration).UnixNano()
			failed = 0
			detail += "; locked for " + s.opts.Lockout.Duration.String()
		}
		if _, err := tx.ExecContext(ctx, "UPDATE officers SET failed_attempts = ?, locked_until = ? WHERE id = ?",
			failed, locked, id); err != nil {
			return o, err
		}
		if err := audit("officer.login_failed", detail); err != nil {
			return o, err
		}
		if locked != 0 {
			return o, errKeep{ErrLockedOut.With(errors.New(detail))}
		}
		return o, errKeep{ErrBadCredentials.With(errors.New(detail))}
	}
	if o.Disabled {
		if err := audit("officer.login_failed", "disabled"); err != nil {
			return o, err
		}
		return o, errKeep{ErrOfficerDisabled}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE officers SET failed_attempts = 0, locked_until = 0 WHERE id = ?", id); err != nil {
		return o, err
	}
	if err := audit("officer.login", string(o.Role)); err != nil {
		return o, err
	}
	plain, err := s.keys.open(name, officerAAD(id))
	if err != nil {
		return o, err
	}
	o.Name = string(plain)
	return o, nil
}

// pinHash is argon2id over the PIN keyed with the pepper and bound to the officer id.
func (s *Store) pinHash(id, pin string, salt []byte, p PINParams) []byte {
	m := hmac.New(sha256.New, s.keys.pin)
	m.Write([]byte(id))
	m.Write([]byte{0})
	m.Write([]byte(pin))
	return argon2.IDKey(m.Sum(nil), salt, p.Time, p.MemoryKiB, p.Threads, 32)
}

func officerAAD(id string) []byte { return append([]byte("officer\x00"), id...) }

func (p PINParams) encode() string {
	return fmt.Sprintf("argon2id t=%d m=%d p=%d", p.Time, p.MemoryKiB, p.Threads)
}

func decodePINParams(s string) (PINParams, error) {
	var p PINParams
	if _, err := fmt.Sscanf(s, "argon2id t=%d m=%d p=%d", &p.Time, &p.MemoryKiB, &p.Threads); err != nil {
		return p, fmt.Errorf("pin params %q: %w", s, err)
	}
	k := KDFParams(p)
	return p, k.valid()
}
