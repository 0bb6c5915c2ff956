package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
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

// PIN and officer id limits.
const (
	MinPINLen = 6
	MaxPINLen = 32
	// MaxOfficerIDLen bounds officer ids (a NIP is 18 digits), so that whatever is typed in the
	// id field is not stored or echoed at any length.
	MaxOfficerIDLen = 32
)

// Officer errors.
var (
	ErrBadCredentials = &kiosk.Error{Code: "officer.bad_credentials", Msg: kiosk.Message{
		ID: "ID petugas atau PIN salah.", EN: "Wrong officer id or PIN."}}
	ErrLockedOut = &kiosk.Error{Code: "officer.locked_out", Msg: kiosk.Message{
		ID: "Terlalu banyak PIN salah; akun dikunci sementara. Coba lagi nanti atau hubungi supervisor.",
		EN: "Too many wrong PINs; the account is locked for a while. Try later or ask a supervisor."}}
	ErrNeedsUnlock = &kiosk.Error{Code: "officer.needs_unlock", Msg: kiosk.Message{
		ID: "Akun dikunci karena PIN salah berulang kali; minta supervisor membuka kunci akun.",
		EN: "The account is locked after repeated wrong PINs; ask a supervisor to unlock it."}}
	ErrOfficerDisabled = &kiosk.Error{Code: "officer.disabled", Msg: kiosk.Message{
		ID: "Akun petugas ini dinonaktifkan.", EN: "This officer account is disabled."}}
	ErrOfficerExists = &kiosk.Error{Code: "officer.exists", Msg: kiosk.Message{
		ID: "ID petugas sudah terdaftar.", EN: "This officer id is already registered."}}
	ErrWeakPIN = &kiosk.Error{Code: "officer.weak_pin", Msg: kiosk.Message{
		ID: fmt.Sprintf("PIN harus terdiri dari minimal %d angka (paling banyak %d).", MinPINLen, MaxPINLen),
		EN: fmt.Sprintf("A PIN must be at least %d digits (at most %d).", MinPINLen, MaxPINLen)}}
	ErrGuessablePIN = &kiosk.Error{Code: "officer.guessable_pin", Msg: kiosk.Message{
		ID: "PIN terlalu mudah ditebak (angka berulang atau berurutan, seperti 000000, 123456, 654321, 121212); pilih PIN lain.",
		EN: "The PIN is too easy to guess (repeated or sequential digits, such as 000000, 123456, 654321, 121212); choose another."}}
	ErrInvalidOfficer = &kiosk.Error{Code: "officer.invalid", Msg: kiosk.Message{
		ID: fmt.Sprintf("Data petugas tidak lengkap: ID (paling banyak %d karakter, bukan NIK), nama dan peran (officer/supervisor) wajib diisi.", MaxOfficerIDLen),
		EN: fmt.Sprintf("Incomplete officer: an id (at most %d characters, not a NIK), a name and a role (officer/supervisor) are required.", MaxOfficerIDLen)}}
)

// ValidPIN checks the PIN rule: MinPINLen to MaxPINLen digits and nothing else, not one
// digit repeated, not a run up or down (wrapping 9 to 0), not a short block repeated.
func ValidPIN(pin string) error {
	if len(pin) < MinPINLen || len(pin) > MaxPINLen {
		return ErrWeakPIN.With(fmt.Errorf("%d digits", len(pin)))
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return ErrWeakPIN.With(errors.New("non-digit character"))
		}
	}
	if step, ok := constantStep(pin); ok && (step == 0 || step == 1 || step == 9) {
		return ErrGuessablePIN.With(errors.New("repeated or sequential digits"))
	}
	for n := 2; n <= len(pin)/2; n++ {
		if len(pin)%n == 0 && strings.Repeat(pin[:n], len(pin)/n) == pin {
			return ErrGuessablePIN.With(fmt.Errorf("a block of %d digits repeated", n))
		}
	}
	return nil
}

// constantStep reports whether each digit of pin is the one before plus the same step
// (mod 10), and the step.
func constantStep(pin string) (int, bool) {
	step := (int(pin[1]) - int(pin[0]) + 10) % 10
	for i := 2; i < len(pin); i++ {
		if (int(pin[i])-int(pin[i-1])+10)%10 != step {
			return 0, false
		}
	}
	return step, true
}

// AddOfficer registers o with pin. actorID is the supervisor doing it (recorded in the audit
// log; empty for the first supervisor at init).
func (s *Store) AddOfficer(ctx context.Context, actorID string, o kiosk.Officer, pin string) error {
	if o.ID == "" || len(o.ID) > MaxOfficerIDLen || o.Name == "" || !o.Role.Valid() || containsNIK(o.ID) {
		return ErrInvalidOfficer
	}
	if err := ValidPIN(pin); err != nil {
		return err
	}
	p := s.opts.PIN
	if err := KDFParams(p).strongEnough(); err != nil {
		return fmt.Errorf("add officer %s: PIN hash: %w", o.ID, err)
	}
	row := officerRow{id: o.ID, role: string(o.Role), disabled: o.Disabled, salt: randomBytes(saltSize), params: p.encode()}
	row.hash = s.pinHash(o.ID, pin, row.salt, p)
	now := s.now()
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO officers
			(id, name_sealed, role, disabled, pin_hash, pin_salt, pin_params, created_at, mac)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.ID, s.keys.seal([]byte(o.Name), officerAAD(o.ID)), row.role, row.disabled,
			row.hash, row.salt, row.params, now.UnixNano(), s.keys.rowMAC("officers", row.fields()))
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

const officerColumns = `id, name_sealed, role, disabled, pin_hash, pin_salt, pin_params, failed_attempts,
	locked_until, lockouts, mac`

// storedOfficer is an officer row with its sealed name and MAC.
type storedOfficer struct {
	officerRow
	name, mac []byte
}

func scanOfficer(row interface{ Scan(...any) error }) (storedOfficer, error) {
	var o storedOfficer
	err := row.Scan(&o.id, &o.name, &o.role, &o.disabled, &o.hash, &o.salt, &o.params, &o.failed,
		&o.locked, &o.lockouts, &o.mac)
	return o, err
}

// openOfficer checks the row's MAC and decrypts it into an Officer.
func (s *Store) openOfficer(o storedOfficer) (kiosk.Officer, error) {
	if !s.keys.checkRow("officers", o.fields(), o.mac) {
		return kiosk.Officer{}, tampered("officers", o.id, "MAC does not match (role, status or lockout edited outside the kiosk)")
	}
	name, err := s.keys.open(o.name, officerAAD(o.id))
	if err != nil {
		return kiosk.Officer{}, tampered("officers", o.id, err.Error())
	}
	return kiosk.Officer{ID: o.id, Name: string(name), Role: kiosk.Role(o.role), Disabled: o.disabled}, nil
}

// Officers lists all officers, ordered by id. Rows that fail their integrity check are left
// out and reported in an error matching ErrTampered, returned with the good officers.
func (s *Store) Officers(ctx context.Context) ([]kiosk.Officer, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+officerColumns+" FROM officers ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list officers: %w", classify(err))
	}
	defer rows.Close()
	var (
		out []kiosk.Officer
		bad skipped
	)
	for rows.Next() {
		row, err := scanOfficer(rows)
		if err != nil {
			return nil, fmt.Errorf("list officers: %w", classify(err))
		}
		o, err := s.openOfficer(row)
		if err != nil {
			bad.add(ctx, *rowErr(err))
			continue
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list officers: %w", classify(err))
	}
	return out, bad.err()
}

// Login checks an officer's PIN. Wrong PINs count towards the lockout policy; both failed
// and successful attempts are audited. An unknown id, a locked one and a wrong PIN do the same
// argon2id work, so ids cannot be told apart by timing; an unknown id is recorded and
// reported only as its blind index (it may be a NIK typed in the wrong field).
func (s *Store) Login(ctx context.Context, id, pin string) (kiosk.Officer, error) {
	if len(id) > MaxOfficerIDLen || len(pin) > MaxPINLen {
		s.pinHash(id, pin, make([]byte, saltSize), s.opts.PIN)
		return kiosk.Officer{}, fmt.Errorf("login: %w", ErrBadCredentials.With(errors.New("id or PIN too long")))
	}
	var o kiosk.Officer
	shown := id
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		o, shown, err = s.login(ctx, tx, id, pin)
		return err
	})
	if err != nil {
		return kiosk.Officer{}, fmt.Errorf("login %s: %w", shown, err)
	}
	return o, nil
}

// lockedForever is locked_until for an officer only a supervisor can unlock.
const lockedForever = math.MaxInt64

// login runs inside one write transaction so that concurrent attempts cannot both slip under
// the attempt limit. A rejected login still commits: its counter and audit entry must stay.
// It returns the officer, and how to name the id in logs and errors.
func (s *Store) login(ctx context.Context, tx *sql.Tx, id, pin string) (kiosk.Officer, string, error) {
	now := s.now()
	shown := id
	audit := func(action, detail string) error {
		return s.appendAudit(ctx, tx, kiosk.AuditEvent{Time: now, OfficerID: shown, Action: action,
			Subject: shown, Detail: detail})
	}
	row, err := scanOfficer(tx.QueryRowContext(ctx, "SELECT "+officerColumns+" FROM officers WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		shown = s.unknownID(id)
		s.pinHash(id, pin, make([]byte, saltSize), s.opts.PIN) // same cost as a real check
		if err := audit("officer.login_failed", "unknown officer"); err != nil {
			return kiosk.Officer{}, shown, err
		}
		return kiosk.Officer{}, shown, errKeep{ErrBadCredentials}
	}
	if err != nil {
		return kiosk.Officer{}, shown, err
	}
	p, perr := decodePINParams(row.params)
	if perr != nil {
		p = s.opts.PIN
	}
	// Hash before any verdict: a locked or tampered id costs what a wrong PIN costs.
	ok := subtle.ConstantTimeCompare(s.pinHash(id, pin, row.salt, p), row.hash) == 1
	o, err := s.openOfficer(row)
	if err != nil {
		if aerr := audit("officer.login_refused", "officer row fails its integrity check"); aerr != nil {
			return kiosk.Officer{}, shown, aerr
		}
		return kiosk.Officer{}, shown, errKeep{err}
	}
	if perr != nil {
		return kiosk.Officer{}, shown, ErrCorrupt.With(fmt.Errorf("officer %s: %w", id, perr))
	}
	if row.locked == lockedForever {
		if err := audit("officer.login_locked", "locked until a supervisor unlocks"); err != nil {
			return kiosk.Officer{}, shown, err
		}
		return kiosk.Officer{}, shown, errKeep{ErrNeedsUnlock}
	}
	if until := time.Unix(0, row.locked); now.Before(until) {
		if err := audit("officer.login_locked", "locked until "+until.UTC().Format(time.RFC3339)); err != nil {
			return kiosk.Officer{}, shown, err
		}
		return kiosk.Officer{}, shown, errKeep{ErrLockedOut.With(fmt.Errorf("locked until %s", until.UTC().Format(time.RFC3339)))}
	}
	if !ok {
		return kiosk.Officer{}, shown, s.failedLogin(ctx, tx, row, now, audit)
	}
	if o.Disabled {
		if err := audit("officer.login_failed", "disabled"); err != nil {
			return kiosk.Officer{}, shown, err
		}
		return kiosk.Officer{}, shown, errKeep{ErrOfficerDisabled}
	}
	row.failed, row.locked, row.lockouts = 0, 0, 0
	if err := s.updateLockout(ctx, tx, row.officerRow); err != nil {
		return kiosk.Officer{}, shown, err
	}
	if err := audit("officer.login", string(o.Role)); err != nil {
		return kiosk.Officer{}, shown, err
	}
	return o, shown, nil
}

// failedLogin counts a wrong PIN. Each lockout lasts twice as long as the one before it; after
// Lockout.MaxLockouts of them in a row, only a supervisor can unlock the account.
func (s *Store) failedLogin(ctx context.Context, tx *sql.Tx, row storedOfficer, now time.Time, audit func(string, string) error) error {
	pol := s.opts.Lockout
	row.failed++
	detail := fmt.Sprintf("attempt %d of %d", row.failed, pol.MaxAttempts)
	var lockErr error
	if row.failed >= int64(pol.MaxAttempts) {
		row.failed = 0
		row.lockouts++
		if pol.MaxLockouts > 0 && row.lockouts >= int64(pol.MaxLockouts) {
			row.locked = lockedForever
			detail += fmt.Sprintf("; lockout %d: locked until a supervisor unlocks", row.lockouts)
			lockErr = ErrNeedsUnlock.With(errors.New(detail))
		} else {
			d := pol.Duration << min(row.lockouts-1, 16)
			row.locked = now.Add(d).UnixNano()
			detail += fmt.Sprintf("; lockout %d: locked for %s", row.lockouts, d)
			lockErr = ErrLockedOut.With(errors.New(detail))
		}
	}
	if err := s.updateLockout(ctx, tx, row.officerRow); err != nil {
		return err
	}
	if err := audit("officer.login_failed", detail); err != nil {
		return err
	}
	if lockErr != nil {
		return errKeep{lockErr}
	}
	return errKeep{wrongPIN(pol.MaxAttempts-int(row.failed), errors.New(detail))}
}

// wrongPIN is ErrBadCredentials saying how many tries are left before the lockout, so the
// officer can stop and ask before being locked out.
func wrongPIN(left int, detail error) *kiosk.Error {
	e := ErrBadCredentials.With(detail)
	e.Msg = kiosk.Message{
		ID: fmt.Sprintf("PIN salah; sisa %d kali coba sebelum akun dikunci sementara.", left),
		EN: fmt.Sprintf("Wrong PIN; %d tries left before the account is locked for a while.", left)}
	return e
}

// updateLockout writes an officer's lockout state with a fresh MAC.
func (s *Store) updateLockout(ctx context.Context, tx *sql.Tx, o officerRow) error {
	_, err := tx.ExecContext(ctx, "UPDATE officers SET failed_attempts = ?, locked_until = ?, lockouts = ?, mac = ? WHERE id = ?",
		o.failed, o.locked, o.lockouts, s.keys.rowMAC("officers", o.fields()), o.id)
	return err
}

// UnlockOfficer clears the lockout of officer id. by must be a supervisor the store knows,
// as Login returned them.
func (s *Store) UnlockOfficer(ctx context.Context, by kiosk.Officer, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		sup, err := scanOfficer(tx.QueryRowContext(ctx, "SELECT "+officerColumns+" FROM officers WHERE id = ?", by.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return kiosk.ErrPermission.With(fmt.Errorf("unknown officer %s", by.ID))
		}
		if err != nil {
			return err
		}
		actor, err := s.openOfficer(sup)
		if err != nil {
			return err
		}
		if actor.Role != kiosk.RoleSupervisor || actor.Disabled {
			return kiosk.ErrPermission.With(fmt.Errorf("%s is not an active supervisor", by.ID))
		}
		row, err := scanOfficer(tx.QueryRowContext(ctx, "SELECT "+officerColumns+" FROM officers WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return kiosk.ErrNotFound.With(fmt.Errorf("officer %s", id))
		}
		if err != nil {
			return err
		}
		if _, err := s.openOfficer(row); err != nil {
			return err
		}
		row.failed, row.locked, row.lockouts = 0, 0, 0
		if err := s.updateLockout(ctx, tx, row.officerRow); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, kiosk.AuditEvent{OfficerID: by.ID, Action: "officer.unlocked", Subject: id})
	})
	if err != nil {
		return fmt.Errorf("unlock officer %s: %w", id, err)
	}
	return nil
}

// unknownID names an id that is not an officer by its blind index: what was typed may be a
// NIK or a PIN in the wrong field, and must not reach the audit log or an error in clear.
func (s *Store) unknownID(id string) string {
	return "unknown:" + hex.EncodeToString(s.keys.blindIndex("officer id", id)[:8])
}

// argon2IDKey is argon2.IDKey; the timing-equalisation test counts its calls.
var argon2IDKey = argon2.IDKey

// pinHash is argon2id over the PIN keyed with the pepper and bound to the officer id.
func (s *Store) pinHash(id, pin string, salt []byte, p PINParams) []byte {
	m := hmac.New(sha256.New, s.keys.pin)
	m.Write([]byte(id))
	m.Write([]byte{0})
	m.Write([]byte(pin))
	return argon2IDKey(m.Sum(nil), salt, p.Time, p.MemoryKiB, p.Threads, 32)
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
