package registry

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// Authorization at ingest: a signature says which kiosk sent a record, not that the kiosk may
// do what the record says. Every activation, deactivation and code re-issue is checked, in the batch's
// transaction, against what the registry itself holds:
//
//   - the resident (by NIK) exists, has not been removed, and lives (now) in an area the kiosk
//     was enrolled for;
//   - the officer named in the record is in the registry's list, not disabled, serves the
//     resident's kecamatan (or every area), and has a role that allows the action;
//   - the record's time lies between the kiosk's enrolment and the registry's clock, each
//     with the request clock skew allowed (a deactivation dated 2099 would otherwise lock a
//     NIK out for good, and an activation dated 2000 would displace every honest approval).

// areaSep separates the kecamatan of a device or officer that serves several (a Dukcapil
// kabupaten/kota office).
const areaSep = ","

// ParseAreas normalises a list of kecamatan: comma-separated, trimmed, without blanks or
// repeats, in the order given. At least one is required.
func ParseAreas(s string) (string, error) {
	var out []string
	for a := range strings.SplitSeq(s, areaSep) {
		a = strings.TrimSpace(a)
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return "", errors.New("an area (kecamatan, or a comma-separated list) is required")
	}
	return strings.Join(out, areaSep), nil
}

// splitAreas returns the kecamatan of a stored area list.
func splitAreas(areas string) []string {
	if areas == "" {
		return nil
	}
	return strings.Split(areas, areaSep)
}

// Serves reports whether the kiosk was enrolled for kecamatan.
func (d Device) Serves(kecamatan string) bool {
	return slices.Contains(splitAreas(d.Area), kecamatan)
}

// serves reports whether the officer may act for kecamatan: officers of every area (Area "")
// anywhere, others in the kecamatan of their list.
func (o OfficerRow) serves(kecamatan string) bool {
	return o.Area == "" || slices.Contains(splitAreas(o.Area), kecamatan)
}

// rolesFor are the roles allowed to sign each kind of record. Both counter roles may approve
// an activation, confirm a lost phone or re-issue a code; a kiosk may ask more of its own officers (a
// supervisor for deactivations), which is its setting, not the registry's rule.
var rolesFor = map[kiosk.RecordKind][]kiosk.Role{
	kiosk.KindActivation:   {kiosk.RoleOfficer, kiosk.RoleSupervisor},
	kiosk.KindDeactivation: {kiosk.RoleOfficer, kiosk.RoleSupervisor},
	kiosk.KindCodeReissue:  {kiosk.RoleOfficer, kiosk.RoleSupervisor},
}

// batchAuth caches the officers and residents a batch reads, so a batch of 200 records by one
// officer reads that officer once.
type batchAuth struct {
	officers  map[string]officerLookup
	residents map[string]residentLookup
}

type officerLookup struct {
	o   OfficerRow
	err error
}

type residentLookup struct {
	r   ResidentRow
	err error
}

// prefetch reads the residents of the batch's records in one query when the store can
// (BatchTx); otherwise each record reads its own.
func (b *batchAuth) prefetch(ctx context.Context, tx Tx, todo []*ingested) error {
	bt, ok := tx.(BatchTx)
	if !ok {
		return nil
	}
	var niks []string
	for _, in := range todo {
		switch in.rec.Kind {
		case kiosk.KindActivation:
			niks = append(niks, string(in.rec.Activation.NIK))
		case kiosk.KindDeactivation:
			niks = append(niks, string(in.rec.Deactivation.NIK))
		case kiosk.KindCodeReissue:
			niks = append(niks, string(in.rec.Reissue.NIK))
		}
	}
	if len(niks) == 0 {
		return nil
	}
	m, err := bt.Residents(ctx, niks)
	if err != nil {
		return fmt.Errorf("residents of the batch: %w", err)
	}
	b.residents = make(map[string]residentLookup, len(niks))
	for _, nik := range niks {
		if r, ok := m[nik]; ok {
			b.residents[nik] = residentLookup{r: r}
		} else {
			b.residents[nik] = residentLookup{err: fmt.Errorf("resident: %w", ErrNotFound)}
		}
	}
	return nil
}

func (b *batchAuth) officer(ctx context.Context, tx Tx, id string) (OfficerRow, error) {
	if l, ok := b.officers[id]; ok {
		return l.o, l.err
	}
	o, err := tx.Officer(ctx, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return OfficerRow{}, err
	}
	if b.officers == nil {
		b.officers = map[string]officerLookup{}
	}
	b.officers[id] = officerLookup{o, err}
	return o, err
}

func (b *batchAuth) resident(ctx context.Context, tx Tx, nik string) (ResidentRow, error) {
	if l, ok := b.residents[nik]; ok {
		return l.r, l.err
	}
	r, err := tx.Resident(ctx, nik)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return ResidentRow{}, err
	}
	if b.residents == nil {
		b.residents = map[string]residentLookup{}
	}
	b.residents[nik] = residentLookup{r, err}
	return r, err
}

// authorize decides whether dev may have made rec. It returns the refusal (nil when allowed)
// or an error of the database. Audit checkpoints speak only for the kiosk itself and need no
// more than the device signature.
func (b *batchAuth) authorize(ctx context.Context, tx Tx, dev Device, rec ikdsync.Record, now time.Time) (*kiosk.Error, error) {
	var (
		nik       kiosk.NIK
		officerID string
		at        time.Time
	)
	switch rec.Kind {
	case kiosk.KindActivation:
		nik, officerID, at = rec.Activation.NIK, rec.Activation.OfficerID, rec.Activation.ApprovedAt
	case kiosk.KindDeactivation:
		nik, officerID, at = rec.Deactivation.NIK, rec.Deactivation.OfficerID, rec.Deactivation.ConfirmedAt
	case kiosk.KindCodeReissue:
		nik, officerID, at = rec.Reissue.NIK, rec.Reissue.OfficerID, rec.Reissue.RequestedAt
	default:
		return nil, nil
	}
	switch {
	case at.After(now.Add(ikdsync.MaxSkew)):
		return ikdsync.ErrRecordFutureDated.With(fmt.Errorf("%s dated %s, registry time %s", rec.Kind, at.UTC(), now.UTC())), nil
	case at.Before(dev.EnrolledAt.Add(-ikdsync.MaxSkew)):
		return ikdsync.ErrRecordBeforeEnrolment.With(fmt.Errorf("%s dated %s, kiosk enrolled %s", rec.Kind, at.UTC(), dev.EnrolledAt.UTC())), nil
	}

	res, err := b.resident(ctx, tx, string(nik))
	switch {
	case errors.Is(err, ErrNotFound) || (err == nil && res.Removed):
		return ikdsync.ErrUnknownResident.With(fmt.Errorf("NIK %s", nik.Masked())), nil
	case err != nil:
		return nil, fmt.Errorf("resident of the record: %w", err)
	case !dev.Serves(res.Kecamatan):
		return ikdsync.ErrAreaMismatch.With(fmt.Errorf("resident of %q, kiosk enrolled for %q", res.Kecamatan, dev.Area)), nil
	}

	o, err := b.officer(ctx, tx, officerID)
	switch {
	case errors.Is(err, ErrNotFound):
		return ikdsync.ErrUnknownOfficer.With(fmt.Errorf("officer %q", officerID)), nil
	case err != nil:
		return nil, fmt.Errorf("officer of the record: %w", err)
	case o.Disabled:
		return ikdsync.ErrOfficerDisabled.With(fmt.Errorf("officer %q", officerID)), nil
	case !o.serves(res.Kecamatan):
		return ikdsync.ErrOfficerArea.With(fmt.Errorf("officer %q of %q, resident of %q", officerID, o.Area, res.Kecamatan)), nil
	case !slices.Contains(rolesFor[rec.Kind], o.Role):
		return ikdsync.ErrOfficerRole.With(fmt.Errorf("officer %q is %s; %s needs one of %v", officerID, o.Role, rec.Kind, rolesFor[rec.Kind])), nil
	}
	return nil, nil
}

// changesFor is Tx.Changes for every area dev serves. A kiosk of several kecamatan gets one
// page merged from a page per area: cut at the lowest change number an incomplete page reached
// (so nothing after the cursor is skipped), repeats (officers of every area, keys, a resident
// moving between two of its areas) once, and at most limit changes.
func changesFor(ctx context.Context, tx ReadTx, dev Device, after int64, limit int) (Changes, error) {
	areas := splitAreas(dev.Area)
	if len(areas) == 1 {
		return tx.Changes(ctx, areas[0], after, limit)
	}
	var (
		pages []Changes
		cut   int64 = -1
		more  bool
		last  = after
	)
	for _, a := range areas {
		ch, err := tx.Changes(ctx, a, after, limit)
		if err != nil {
			return Changes{}, fmt.Errorf("changes of %q: %w", a, err)
		}
		pages = append(pages, ch)
		if ch.More && (cut < 0 || ch.Last < cut) {
			cut = ch.Last
		}
		more = more || ch.More
		last = max(last, ch.Last)
	}
	if cut < 0 {
		cut = last
	}
	var (
		out  Changes
		seen = map[int64]bool{}
	)
	take := func(seq int64) bool {
		if seq > cut || seen[seq] {
			return false
		}
		seen[seq] = true
		return true
	}
	for _, p := range pages {
		for _, r := range p.Residents {
			if take(r.Seq) {
				out.Residents = append(out.Residents, r)
			}
		}
		for _, o := range p.Officers {
			if take(o.Seq) {
				out.Officers = append(out.Officers, o)
			}
		}
		for _, k := range p.Keys {
			if take(k.Seq) {
				out.Keys = append(out.Keys, k)
			}
		}
	}
	slices.SortFunc(out.Residents, func(a, b ResidentRow) int { return cmp.Compare(a.Seq, b.Seq) })
	slices.SortFunc(out.Officers, func(a, b OfficerRow) int { return cmp.Compare(a.Seq, b.Seq) })
	slices.SortFunc(out.Keys, func(a, b KeyRow) int { return cmp.Compare(a.Seq, b.Seq) })
	if len(seen) > limit {
		// Keep the limit lowest change numbers.
		seqs := slices.Sorted(maps.Keys(seen))
		cut, more = seqs[limit-1], true
		out.Residents = slices.DeleteFunc(out.Residents, func(r ResidentRow) bool { return r.Seq > cut })
		out.Officers = slices.DeleteFunc(out.Officers, func(o OfficerRow) bool { return o.Seq > cut })
		out.Keys = slices.DeleteFunc(out.Keys, func(k KeyRow) bool { return k.Seq > cut })
	}
	out.Last, out.More = cut, more
	return out, nil
}
