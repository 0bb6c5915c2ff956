package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

var (
	_ kiosk.SyncStore    = (*Store)(nil)
	_ kiosk.OfficerLogin = (*Store)(nil)
)

// registryActor is the audit log's actor of changes that came from the registry.
const registryActor = "registry"

// ApplyDelta implements kiosk.SyncStore: one page of registry changes (residents and
// removals, officers, keys) and its cursor in one transaction, so a pull cut anywhere resumes
// from the last page applied and never leaves a page half applied. Anything invalid in the
// page (a resident, an officer record, a key, a key id reused for other key bytes) rejects
// the whole page and changes nothing.
//
// Officers are updated only if the kiosk knows them: PINs never travel, so an officer new to
// the kiosk waits (counted as skipped) until a supervisor adds them with a PIN. An update
// keeps the officer's PIN and lockout state.
func (s *Store) ApplyDelta(ctx context.Context, d kiosk.Delta) (kiosk.DeltaCounts, error) {
	sealed, err := s.sealResidents(d.Residents)
	if err != nil {
		return kiosk.DeltaCounts{}, fmt.Errorf("apply delta: %w", err)
	}
	for i, o := range d.Officers {
		if o.ID == "" || len(o.ID) > MaxOfficerIDLen || o.Name == "" || !o.Role.Valid() || containsNIK(o.ID) {
			return kiosk.DeltaCounts{}, fmt.Errorf("apply delta: officer %d: %w", i+1,
				ErrInvalidOfficer.With(fmt.Errorf("id of %d bytes, role %q", len(o.ID), o.Role)))
		}
	}
	for i, k := range d.Keys {
		if err := validRegistryKey(k); err != nil {
			return kiosk.DeltaCounts{}, fmt.Errorf("apply delta: key %d: %w", i+1, err)
		}
	}
	now := s.now()
	var c kiosk.DeltaCounts
	err = s.write(ctx, func(tx *sql.Tx) error {
		c = kiosk.DeltaCounts{}
		rc, err := s.applyResidents(ctx, tx, sealed, d.Removed, "")
		if err != nil {
			return fmt.Errorf("residents: %w", err)
		}
		c.ResidentsAdded, c.ResidentsUpdated, c.ResidentsRemoved = rc.Added, rc.Updated, rc.Removed
		for _, o := range d.Officers {
			known, changed, err := s.updateOfficer(ctx, tx, o, now)
			switch {
			case err != nil:
				return fmt.Errorf("officer %s: %w", o.ID, err)
			case !known:
				c.OfficersSkipped++
			case changed:
				c.OfficersUpdated++
			}
		}
		for _, k := range d.Keys {
			changed, err := s.putRegistryKey(ctx, tx, registryActor, k, now, true)
			if err != nil {
				return fmt.Errorf("key %q: %w", k.KeyID, err)
			}
			if changed {
				c.Keys++
			}
		}
		if !d.AsOf.IsZero() {
			for _, k := range []string{metaResidentsAsOf, metaKeysAsOf, metaRevocationsAsOf} {
				if err := s.setAsOf(ctx, tx, k, d.AsOf); err != nil {
					return err
				}
			}
		}
		if d.Cursor != "" {
			return setMeta(ctx, tx, metaResidentCursor, []byte(d.Cursor))
		}
		return nil
	})
	if err != nil {
		return kiosk.DeltaCounts{}, fmt.Errorf("apply delta: %w", err)
	}
	return c, nil
}

// updateOfficer sets the name, role and disabled flag of a known officer to the registry's,
// keeping the PIN and lockout state, with a fresh MAC and an audit entry. It reports whether
// the kiosk knows the officer and whether anything changed. A row that fails its integrity
// check fails the call: the registry's data must not launder a tampered row with a new MAC.
func (s *Store) updateOfficer(ctx context.Context, tx *sql.Tx, o kiosk.Officer, now time.Time) (known, changed bool, err error) {
	row, err := scanOfficer(tx.QueryRowContext(ctx, "SELECT "+officerColumns+" FROM officers WHERE id = ?", o.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	cur, err := s.openOfficer(row)
	if err != nil {
		return true, false, err
	}
	if cur == o {
		return true, false, nil
	}
	var what []string
	if cur.Name != o.Name {
		what = append(what, "name")
	}
	if cur.Role != o.Role {
		what = append(what, "role "+string(o.Role))
	}
	if cur.Disabled != o.Disabled {
		what = append(what, fmt.Sprintf("disabled %t", o.Disabled))
	}
	row.role, row.disabled = string(o.Role), o.Disabled
	_, err = tx.ExecContext(ctx, "UPDATE officers SET name_sealed = ?, role = ?, disabled = ?, mac = ? WHERE id = ?",
		s.keys.seal([]byte(o.Name), officerAAD(o.ID)), row.role, row.disabled, s.keys.rowMAC("officers", row.fields()), o.ID)
	if err != nil {
		return true, false, err
	}
	return true, true, s.appendAudit(ctx, tx, kiosk.AuditEvent{Time: now, OfficerID: registryActor,
		Action: "officer.updated", Subject: o.ID, Detail: strings.Join(what, ", ")})
}
