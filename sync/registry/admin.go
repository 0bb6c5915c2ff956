package registry

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// Operator actions behind `ikd-registry` subcommands. Each is one or a few transactions on
// the store; none needs the HTTP server running.

// ImportReport says what a residents import did.
type ImportReport struct {
	Residents int
	Errors    []string // "line N: reason", at most maxImportErrors
}

const (
	maxImportErrors = 100
	importChunk     = 5000
)

// ImportResidents loads residents in the NDJSON of `ikdctl residents import`. The whole file
// is checked first and nothing is written if any line is bad; then residents go in as
// chunks, one transaction each. Re-running an import is harmless (residents are replaced by
// NIK), so a run cut short is finished by running it again.
func ImportResidents(ctx context.Context, st Store, r io.Reader) (ImportReport, error) {
	var (
		rows []ResidentRow
		rep  ImportReport
	)
	seen := map[string]int{}
	err := snapshot.ReadLines(r, snapshot.MaxLineBytes, importChunk, func(lines []snapshot.Line) bool {
		for _, l := range lines {
			res, err := parseImportLine(l)
			if err == nil {
				if first, dup := seen[string(res.NIK)]; dup {
					err = fmt.Errorf("same NIK as line %d", first)
				}
			}
			if err != nil {
				if len(rep.Errors) < maxImportErrors {
					rep.Errors = append(rep.Errors, fmt.Sprintf("line %d: %v", l.No, err))
				}
				continue
			}
			seen[string(res.NIK)] = l.No
			data, err := ikdsync.Marshal(ikdsync.EncodeResidentChange(res))
			if err != nil {
				rep.Errors = append(rep.Errors, fmt.Sprintf("line %d: %v", l.No, err))
				continue
			}
			rows = append(rows, ResidentRow{NIK: string(res.NIK), Kecamatan: res.Kecamatan, Data: data})
		}
		return true
	})
	if err != nil {
		return rep, fmt.Errorf("import residents: %w", err)
	}
	if len(rep.Errors) > 0 {
		return rep, fmt.Errorf("import residents: %d bad lines, nothing imported", len(rep.Errors))
	}
	for start := 0; start < len(rows); start += importChunk {
		chunk := rows[start:min(start+importChunk, len(rows))]
		if err := st.InTx(ctx, func(ctx context.Context, tx Tx) error { return tx.PutResidents(ctx, chunk) }); err != nil {
			return rep, fmt.Errorf("import residents %d to %d: %w", start+1, start+len(chunk), err)
		}
		rep.Residents += len(chunk)
	}
	return rep, nil
}

func parseImportLine(l snapshot.Line) (kiosk.Resident, error) {
	if l.TooLong {
		return kiosk.Resident{}, fmt.Errorf("longer than %d bytes", snapshot.MaxLineBytes)
	}
	return snapshot.ParseLine(l.Text)
}

// PutOfficer adds or changes an officer in the registry's list; kiosks of area (every area
// when area is empty) receive it at their next pull.
func PutOfficer(ctx context.Context, st Store, o OfficerRow) error {
	if strings.TrimSpace(o.ID) == "" || !o.Role.Valid() {
		return fmt.Errorf("officer: an id and a role (%s or %s) are required", kiosk.RoleOfficer, kiosk.RoleSupervisor)
	}
	return st.InTx(ctx, func(ctx context.Context, tx Tx) error { return tx.PutOfficer(ctx, o) })
}

// PutKey publishes a registry token-signing key (or changes its validity window, to retire
// it after a rotation).
func PutKey(ctx context.Context, st Store, kid string, pub ed25519.PublicKey, notBefore, notAfter time.Time) error {
	if kid == "" || len(pub) != ed25519.PublicKeySize {
		return errors.New("registry key: a key id and an Ed25519 public key are required")
	}
	return st.InTx(ctx, func(ctx context.Context, tx Tx) error {
		return tx.PutKey(ctx, KeyRow{KeyID: kid, PublicKey: pub, NotBefore: notBefore, NotAfter: notAfter})
	})
}

// EnsureKey publishes the registry's signing key unless a key with its id is there.
func EnsureKey(ctx context.Context, st Store, kid string, pub ed25519.PublicKey, now time.Time) error {
	return st.InTx(ctx, func(ctx context.Context, tx Tx) error {
		keys, err := tx.Keys(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k.KeyID == kid {
				return nil
			}
		}
		return tx.PutKey(ctx, KeyRow{KeyID: kid, PublicKey: pub, NotBefore: now.Add(-time.Hour)})
	})
}

// ListDevices returns every enrolled kiosk.
func ListDevices(ctx context.Context, st Store) ([]Device, error) {
	var devs []Device
	err := st.InReadTx(ctx, func(ctx context.Context, tx ReadTx) error {
		var err error
		devs, err = tx.Devices(ctx)
		return err
	})
	return devs, err
}

// RevokeDevice stops a kiosk: its pulls are refused and every record it sends from then on
// is rejected.
func RevokeDevice(ctx context.Context, st Store, kioskID string, now time.Time) error {
	return st.InTx(ctx, func(ctx context.Context, tx Tx) error { return tx.RevokeDevice(ctx, kioskID, now) })
}

// RevokeRegistration withdraws a citizen's registration: an activation approved after now is
// rejected, and an unconfirmed code stops working.
func RevokeRegistration(ctx context.Context, st Store, id string, now time.Time) error {
	return st.InTx(ctx, func(ctx context.Context, tx Tx) error {
		r, err := tx.Registration(ctx, id)
		if err != nil {
			return fmt.Errorf("registration %s: %w", id, err)
		}
		if r.Status == RegRevoked {
			return nil
		}
		r.Status, r.RevokedAt, r.CodeHash = RegRevoked, now, nil
		return tx.UpdateRegistration(ctx, r)
	})
}
