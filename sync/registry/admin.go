package registry

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"strings"
	gosync "sync"
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
	// Described is how many reference photos were described for the kiosks' face engines;
	// Undescribed says why the others were not ("line N: reason", at most maxImportErrors),
	// which leaves those residents to the references they came with.
	Described   int
	Undescribed []string
}

// PhotoDescriber describes a resident's reference photo (JPEG) with the face engines the
// kiosks run: dlib's descriptor and the other engines' templates (app.FacePipeline does,
// with the models). ImportResidentsDescribed calls it from several goroutines at once when
// given more than one worker.
type PhotoDescriber interface {
	PhotoReferences(ctx context.Context, photo []byte) (kiosk.Descriptor, []kiosk.Template, error)
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
	return ImportResidentsDescribed(ctx, st, r, nil, 0)
}

// ImportResidentsDescribed is ImportResidents that also describes each reference photo with
// faces (when not nil), chunk by chunk once the whole file is known good, workers photos at a
// time: the templates of every engine faces runs, and dlib's descriptor for a resident that
// came without one. A photo that cannot be described is reported and does not stop the import.
func ImportResidentsDescribed(ctx context.Context, st Store, r io.Reader, faces PhotoDescriber, workers int) (ImportReport, error) {
	var (
		residents []kiosk.Resident
		lineNo    []int
		rep       ImportReport
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
			residents, lineNo = append(residents, res), append(lineNo, l.No)
		}
		return true
	})
	if err != nil {
		return rep, fmt.Errorf("import residents: %w", err)
	}
	if len(rep.Errors) > 0 {
		return rep, fmt.Errorf("import residents: %d bad lines, nothing imported", len(rep.Errors))
	}
	for start := 0; start < len(residents); start += importChunk {
		end := min(start+importChunk, len(residents))
		rows := make([]ResidentRow, 0, end-start)
		describeErrs := describeChunk(ctx, faces, workers, residents[start:end])
		if ctx.Err() != nil {
			return rep, fmt.Errorf("import residents: %w", ctx.Err())
		}
		for i := start; i < end; i++ {
			res := residents[i]
			if faces != nil && len(res.Photo) > 0 {
				if err := describeErrs[i-start]; err != nil {
					if len(rep.Undescribed) < maxImportErrors {
						rep.Undescribed = append(rep.Undescribed, fmt.Sprintf("line %d: %v", lineNo[i], err))
					}
				} else {
					rep.Described++
				}
			}
			data, err := ikdsync.Marshal(ikdsync.EncodeResidentChange(res))
			if err != nil {
				return rep, fmt.Errorf("import residents: line %d: %w", lineNo[i], err)
			}
			rows = append(rows, ResidentRow{NIK: string(res.NIK), Kecamatan: res.Kecamatan, Data: data})
		}
		if err := st.InTx(ctx, func(ctx context.Context, tx Tx) error { return tx.PutResidents(ctx, rows) }); err != nil {
			return rep, fmt.Errorf("import residents %d to %d: %w", start+1, end, err)
		}
		rep.Residents += len(rows)
	}
	return rep, nil
}

// PutResidents adds or replaces residents in one transaction: the registry's population data,
// which authorizes every activation and deactivation (authorize.go).
func PutResidents(ctx context.Context, st Store, rs []kiosk.Resident) error {
	rows := make([]ResidentRow, 0, len(rs))
	for _, r := range rs {
		data, err := ikdsync.Marshal(ikdsync.EncodeResidentChange(r))
		if err != nil {
			return fmt.Errorf("resident %s: %w", r.NIK.Masked(), err)
		}
		rows = append(rows, ResidentRow{NIK: string(r.NIK), Kecamatan: r.Kecamatan, Data: data})
	}
	return st.InTx(ctx, func(ctx context.Context, tx Tx) error { return tx.PutResidents(ctx, rows) })
}

// describeChunk describes the reference photo of each resident of rs that has one, in place,
// workers at a time, and returns each one's error (nil where described or without a photo).
func describeChunk(ctx context.Context, faces PhotoDescriber, workers int, rs []kiosk.Resident) []error {
	errs := make([]error, len(rs))
	if faces == nil {
		return errs
	}
	sem := make(chan struct{}, max(1, workers))
	var wg gosync.WaitGroup
	for i := range rs {
		if len(rs[i].Photo) == 0 {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return errs
		}
		wg.Go(func() {
			defer func() { <-sem }()
			described, err := describeResident(ctx, faces, rs[i])
			if err == nil {
				rs[i] = described
			}
			errs[i] = err
		})
	}
	wg.Wait()
	return errs
}

// describeResident is r with the templates faces gives for its photo (import lines carry
// none), and dlib's descriptor from it when r came without one.
func describeResident(ctx context.Context, faces PhotoDescriber, r kiosk.Resident) (kiosk.Resident, error) {
	desc, ts, err := faces.PhotoReferences(ctx, r.Photo)
	if err != nil {
		return r, fmt.Errorf("%s: %w", r.NIK.Masked(), err)
	}
	if len(r.References) == 0 {
		r.References = []kiosk.Descriptor{desc}
	}
	r.Templates = ts
	return r, nil
}

func parseImportLine(l snapshot.Line) (kiosk.Resident, error) {
	if l.TooLong {
		return kiosk.Resident{}, fmt.Errorf("longer than %d bytes", snapshot.MaxLineBytes)
	}
	return snapshot.ParseLine(l.Text)
}

// PutOfficer adds or changes an officer in the registry's list; kiosks of its area (every area
// when area is empty) receive it at their next pull. The list authorizes every record at ingest.
func PutOfficer(ctx context.Context, st Store, o OfficerRow) error {
	o, err := checkOfficer(o)
	if err != nil {
		return err
	}
	return st.InTx(ctx, func(ctx context.Context, tx Tx) error { return tx.PutOfficer(ctx, o) })
}

// AddOfficer is PutOfficer for an id the registry does not hold yet.
func AddOfficer(ctx context.Context, st Store, o OfficerRow) error {
	o, err := checkOfficer(o)
	if err != nil {
		return err
	}
	return st.InTx(ctx, func(ctx context.Context, tx Tx) error {
		_, err := tx.Officer(ctx, o.ID)
		switch {
		case err == nil:
			return fmt.Errorf("officer %s: %w (change it with officers put)", o.ID, ErrExists)
		case !errors.Is(err, ErrNotFound):
			return err
		}
		return tx.PutOfficer(ctx, o)
	})
}

func checkOfficer(o OfficerRow) (OfficerRow, error) {
	o.ID, o.Name = strings.TrimSpace(o.ID), strings.TrimSpace(o.Name)
	if o.ID == "" || !o.Role.Valid() {
		return o, fmt.Errorf("officer: an id and a role (%s or %s) are required", kiosk.RoleOfficer, kiosk.RoleSupervisor)
	}
	if strings.TrimSpace(o.Area) != "" {
		areas, err := ParseAreas(o.Area)
		if err != nil {
			return o, fmt.Errorf("officer %s: %w", o.ID, err)
		}
		o.Area = areas
	}
	return o, nil
}

// ListOfficers returns the registry's officers by id.
func ListOfficers(ctx context.Context, st Store) ([]OfficerRow, error) {
	var list []OfficerRow
	err := st.InReadTx(ctx, func(ctx context.Context, tx ReadTx) error {
		var err error
		list, err = tx.Officers(ctx)
		return err
	})
	return list, err
}

// DisableOfficer stops an officer: kiosks refuse their login after the next pull and the
// registry refuses every record of theirs that arrives from then on, also one made offline
// before (the safe side when an officer is disabled for fraud).
func DisableOfficer(ctx context.Context, st Store, id string) error {
	return st.InTx(ctx, func(ctx context.Context, tx Tx) error {
		o, err := tx.Officer(ctx, id)
		if err != nil {
			return fmt.Errorf("officer %q: %w", id, err)
		}
		o.Disabled = true
		return tx.PutOfficer(ctx, o)
	})
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
		if err := tx.UpdateRegistration(ctx, r); err != nil {
			return err
		}
		return refreshRevocations(ctx, tx, r.NIK)
	})
}

// ListTombstones returns nik's deactivation tombstones, lifted ones included, oldest first.
func ListTombstones(ctx context.Context, st Store, nik string) ([]Tombstone, error) {
	var ts []Tombstone
	err := st.InReadTx(ctx, func(ctx context.Context, tx ReadTx) error {
		var err error
		ts, err = tx.Tombstones(ctx, nik)
		return err
	})
	return ts, err
}

// LiftTombstone ends a wrongful deactivation of nik: its tombstones stop refusing activations
// and the registrations they ended are restored to where they stood (an approved one whose code
// the deactivation erased needs its code re-issued at a counter). by must be an active
// supervisor in the registry's list and reason is required; both stay on the tombstone as its
// audit trail. It returns how many tombstones it lifted.
func LiftTombstone(ctx context.Context, st Store, nik, by, reason string, now time.Time) (int64, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return 0, errors.New("lift tombstone: a reason is required")
	}
	var n int64
	err := st.InTx(ctx, func(ctx context.Context, tx Tx) error {
		sup, err := tx.Officer(ctx, by)
		switch {
		case errors.Is(err, ErrNotFound):
			return fmt.Errorf("lift tombstone: %q is not an officer in the registry's list", by)
		case err != nil:
			return err
		case sup.Disabled || sup.Role != kiosk.RoleSupervisor:
			return fmt.Errorf("lift tombstone: %q is not an active supervisor", by)
		}
		ts, err := tx.Tombstones(ctx, nik)
		if err != nil {
			return err
		}
		ended := map[time.Time]bool{}
		for _, t := range ts {
			if t.LiftedAt.IsZero() {
				ended[t.At] = true
			}
		}
		if n, err = tx.LiftTombstones(ctx, nik, now, by, reason); err != nil {
			return err
		}
		regs, err := tx.RegistrationsByNIK(ctx, nik)
		if err != nil {
			return err
		}
		for _, r := range regs {
			if r.Status != RegDeactivated || !ended[r.RevokedAt] {
				continue
			}
			switch {
			case r.ActivationRecord == "":
				r.Status = RegPending
			case !r.ConfirmedAt.IsZero():
				r.Status = RegActivated
			default:
				r.Status = RegApproved
			}
			r.RevokedAt = time.Time{}
			if err := tx.UpdateRegistration(ctx, r); err != nil {
				return err
			}
		}
		return refreshRevocations(ctx, tx, nik)
	})
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("lift tombstone: NIK %s has no tombstone in force: %w", kiosk.NIK(nik).Masked(), ErrNotFound)
	}
	return n, nil
}
