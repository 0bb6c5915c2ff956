package sync

import (
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

// DecodeDeltaPage turns a delta page as it came off the wire into the kiosk's types. It checks
// the form of every entry (NIK, dates, sex, status, references, officer roles, key sizes); the
// store checks the rest (that the birth date and sex agree with the NIK, text lengths) when it
// applies the page. Anything wrong fails with an error matching ErrMessageMalformed that names
// the entry and the field; nothing of a bad page is to be applied.
//
// Names and other text are put in NFC. A resident whose text has a character that package
// safetext refuses (a bidi override, a zero-width space...) is the exception: the page is
// still applied, the resident goes to Refused and is removed from the kiosk's snapshot rather
// than kept in an older version that the registry no longer vouches for. Failing the page
// would stop every later change from reaching the kiosk (the cursor cannot pass it) for a
// record only the registry's operator can correct; the officer finds the citizen missing
// (resident.not_found) and sends them to the Dukcapil office.
func DecodeDeltaPage(page DeltaPage) (kiosk.Delta, error) {
	if n := len(page.Residents) + len(page.Officers) + len(page.Keys); n > MaxPage {
		return kiosk.Delta{}, ErrMessageMalformed.With(fmt.Errorf("delta page: %d changes, at most %d", n, MaxPage))
	}
	d := kiosk.Delta{Cursor: page.Cursor}
	if !page.More {
		d.AsOf = MillisTime(page.Time)
	}
	for i, rc := range page.Residents {
		nik, err := kiosk.ParseNIK(rc.NIK)
		if err != nil {
			return kiosk.Delta{}, ErrMessageMalformed.With(fmt.Errorf("delta page: resident %d: nik: %w", i+1, err))
		}
		if rc.Removed {
			d.Removed = append(d.Removed, nik)
			continue
		}
		r, err := decodeResidentChange(nik, rc)
		if err != nil {
			return kiosk.Delta{}, ErrMessageMalformed.With(fmt.Errorf("delta page: resident %d (%s): %w", i+1, nik.Masked(), err))
		}
		if r, err = snapshot.CleanText(r); err != nil {
			d.Refused = append(d.Refused, kiosk.RefusedResident{NIK: nik, Err: err})
			d.Removed = append(d.Removed, nik)
			continue
		}
		d.Residents = append(d.Residents, r)
	}
	for i, oc := range page.Officers {
		if oc.ID == "" || len(oc.ID) > maxIDLen || !kiosk.Role(oc.Role).Valid() {
			return kiosk.Delta{}, ErrMessageMalformed.With(fmt.Errorf("delta page: officer %d: id of %d bytes, role %q", i+1, len(oc.ID), oc.Role))
		}
		d.Officers = append(d.Officers, kiosk.Officer{ID: oc.ID, Name: oc.Name, Role: kiosk.Role(oc.Role), Disabled: oc.Disabled})
	}
	for i, kc := range page.Keys {
		k, err := decodeKeyChange(kc)
		if err != nil {
			return kiosk.Delta{}, ErrMessageMalformed.With(fmt.Errorf("delta page: key %d: %w", i+1, err))
		}
		d.Keys = append(d.Keys, k)
	}
	return d, nil
}

func decodeResidentChange(nik kiosk.NIK, rc ResidentChange) (kiosk.Resident, error) {
	birth, err := time.Parse(time.DateOnly, rc.BirthDate)
	if err != nil {
		return kiosk.Resident{}, fmt.Errorf("birth date %q: want YYYY-MM-DD", rc.BirthDate)
	}
	sex := kiosk.Sex(rc.Sex)
	if sex != kiosk.Male && sex != kiosk.Female {
		return kiosk.Resident{}, fmt.Errorf("sex %q: want M or F", rc.Sex)
	}
	status := kiosk.ResidentStatus(rc.Status)
	if status != kiosk.ResidentActive && status != kiosk.ResidentInactive {
		return kiosk.Resident{}, fmt.Errorf("status %q: want active or inactive", rc.Status)
	}
	r := kiosk.Resident{NIK: nik, Name: rc.Name, BirthPlace: rc.BirthPlace, BirthDate: birth, Sex: sex,
		Address: rc.Address, Kecamatan: rc.Kecamatan, Status: status, Photo: rc.Photo}
	for j, b := range rc.References {
		ref, err := DecodeReference(b)
		if err != nil {
			return kiosk.Resident{}, fmt.Errorf("reference %d: %w", j+1, err)
		}
		r.References = append(r.References, ref)
	}
	if rc.Revocations != nil {
		if r.Revocations, err = decodeRevocations(*rc.Revocations); err != nil {
			return kiosk.Resident{}, err
		}
	}
	if r.Templates, err = decodeTemplates(rc.Templates); err != nil {
		return kiosk.Resident{}, err
	}
	return r, nil
}

func decodeTemplates(ts []EngineTemplate) ([]kiosk.Template, error) {
	if len(ts) > kiosk.MaxTemplates {
		return nil, fmt.Errorf("%d face templates, at most %d", len(ts), kiosk.MaxTemplates)
	}
	var out []kiosk.Template
	for i, et := range ts {
		t := kiosk.Template{Engine: et.Engine, Half: et.Half}
		if err := t.Validate(); err != nil {
			return nil, fmt.Errorf("face template %d: %w", i+1, err)
		}
		if _, dup := (kiosk.Resident{Templates: out}).TemplateOf(t.Engine); dup {
			return nil, fmt.Errorf("face template %d: a second template of %s", i+1, t.Engine)
		}
		out = append(out, t)
	}
	return out, nil
}

// MaxRevoked is the most revoked registrations one resident may carry.
const MaxRevoked = 256

func decodeRevocations(rv Revocations) (kiosk.Revocations, error) {
	if rv.DeactivatedAt < 0 {
		return kiosk.Revocations{}, fmt.Errorf("deactivated at %d", rv.DeactivatedAt)
	}
	if len(rv.Registrations) > MaxRevoked {
		return kiosk.Revocations{}, fmt.Errorf("%d revoked registrations, at most %d", len(rv.Registrations), MaxRevoked)
	}
	out := kiosk.Revocations{DeactivatedAt: MillisTime(rv.DeactivatedAt)}
	for i, g := range rv.Registrations {
		if g.ID == "" || len(g.ID) > maxIDLen || g.At <= 0 {
			return kiosk.Revocations{}, fmt.Errorf("revoked registration %d: id of %d bytes, at %d", i+1, len(g.ID), g.At)
		}
		out.Registrations = append(out.Registrations, kiosk.RevokedRegistration{ID: g.ID, At: MillisTime(g.At), Deactivated: g.Deactivated})
	}
	return out, nil
}

// EncodeRevocations is the registry's side of the revocations a resident carries; nil when
// there are none.
func EncodeRevocations(r kiosk.Revocations) *Revocations {
	if r.DeactivatedAt.IsZero() && len(r.Registrations) == 0 {
		return nil
	}
	rv := &Revocations{DeactivatedAt: TimeMillis(r.DeactivatedAt)}
	for _, g := range r.Registrations {
		rv.Registrations = append(rv.Registrations, RevokedRegistration{ID: g.ID, At: TimeMillis(g.At), Deactivated: g.Deactivated})
	}
	return rv
}

func decodeKeyChange(kc KeyChange) (kiosk.RegistryKey, error) {
	if kc.KeyID == "" || len(kc.KeyID) > maxIDLen {
		return kiosk.RegistryKey{}, fmt.Errorf("key id of %d bytes", len(kc.KeyID))
	}
	if len(kc.PublicKey) != ed25519.PublicKeySize {
		return kiosk.RegistryKey{}, fmt.Errorf("key %q: %d public key bytes, want %d", kc.KeyID, len(kc.PublicKey), ed25519.PublicKeySize)
	}
	k := kiosk.RegistryKey{KeyID: kc.KeyID, PublicKey: kc.PublicKey, NotBefore: MillisTime(kc.NotBefore), NotAfter: MillisTime(kc.NotAfter)}
	if !k.NotAfter.IsZero() && !k.NotAfter.After(k.NotBefore) {
		return kiosk.RegistryKey{}, fmt.Errorf("key %q: not after %d is not after not before %d", kc.KeyID, kc.NotAfter, kc.NotBefore)
	}
	return k, nil
}

// EncodeResidentChange is the registry's side of DecodeDeltaPage: r as it travels.
func EncodeResidentChange(r kiosk.Resident) ResidentChange {
	rc := ResidentChange{NIK: string(r.NIK), Name: r.Name, BirthPlace: r.BirthPlace, Sex: string(r.Sex),
		Address: r.Address, Kecamatan: r.Kecamatan, Status: string(r.Status), Photo: r.Photo}
	if !r.BirthDate.IsZero() {
		rc.BirthDate = r.BirthDate.Format(time.DateOnly)
	}
	for _, d := range r.References {
		rc.References = append(rc.References, EncodeReference(d))
	}
	rc.Revocations = EncodeRevocations(r.Revocations)
	for _, t := range r.Templates {
		rc.Templates = append(rc.Templates, EngineTemplate{Engine: t.Engine, Half: t.Half})
	}
	return rc
}

// EncodeKeyChange is a registry key as it travels.
func EncodeKeyChange(k kiosk.RegistryKey) KeyChange {
	return KeyChange{KeyID: k.KeyID, PublicKey: k.PublicKey, NotBefore: TimeMillis(k.NotBefore), NotAfter: TimeMillis(k.NotAfter)}
}
