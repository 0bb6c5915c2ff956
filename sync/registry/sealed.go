package registry

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/ikd-field/ikd/sync/registry/mail"
)

// Seal returns st with personal data and activation codes sealed at rest under keys: what the
// rules write is sealed on the way into the driver and opened on the way out, so both drivers
// store only ciphertext and blind indexes without knowing it.
//
//   - NIK columns (registrations, records, tombstones, residents) hold keys.BlindNIK: lookups
//     by NIK still work, a copy of the database names nobody. Each reaches the driver as a
//     RegionalNIK, so the region key (the NIK's kecamatan code) is taken from the clear NIK.
//   - The NIK itself, needed back where a row is read by id (a registration, a record, a
//     resident in a delta), is sealed inside the row's e-mail, envelope or data.
//   - Registration e-mail and phone, record envelopes (the kiosk's signed record), resident
//     data (name, birth data, address) and the mail queue's address and code are AES-256-GCM
//     sealed, bound to their row (see DataKeys).
//
// Mails are sealed under a key of their own and their codes are erased by the driver once
// sent or failed for good. Tx methods that carry no personal data pass through: a new Tx
// method that does must be sealed here.
func Seal(st Store, keys *DataKeys) Store {
	return &sealedStore{Store: st, k: keys}
}

// Purposes: the additional data that keeps a value from opening in another column.
const (
	sealRegEmail = "registration email"
	sealRegPhone = "registration phone"
	sealEnvelope = "record envelope"
	sealResident = "resident"
	sealMailTo   = "mail to"
	sealMailCode = "mail code"
)

type sealedStore struct {
	Store
	k *DataKeys
}

func (s *sealedStore) InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	return s.Store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		st := &sealedTx{Tx: tx, k: s.k}
		if bt, ok := tx.(BatchTx); ok {
			return fn(ctx, &sealedBatchTx{sealedTx: st, bt: bt})
		}
		return fn(ctx, st)
	})
}

// Claim opens the claimed mails' address and code. A mail sealed with a key the data key file
// lacks fails the claim: that is a configuration error for the operator, and the mails stay
// queued until it is fixed. A mail whose seal is broken can never be sent: it is failed for
// good (its code erased) and left out, so that one damaged row does not stop the queue.
func (s *sealedStore) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]mail.Mail, error) {
	ms, err := s.Store.Claim(ctx, now, lease, limit)
	if err != nil {
		return nil, err
	}
	out := ms[:0]
	for _, m := range ms {
		err := s.k.openMail(&m)
		switch {
		case err == nil:
			out = append(out, m)
		case errors.Is(err, ErrUnknownDataKey):
			return nil, fmt.Errorf("claim mails: %w", err)
		default:
			if ferr := s.Store.Failed(ctx, m.ID, now, now, err.Error(), true); ferr != nil {
				return nil, fmt.Errorf("claim mails: %w", errors.Join(err, ferr))
			}
		}
	}
	return out, nil
}

func (k *DataKeys) openMail(m *mail.Mail) error {
	to, err := k.openString(k.mail, m.To, sealMailTo, m.ID)
	if err != nil {
		return err
	}
	code, err := k.openString(k.mail, m.Code, sealMailCode, m.ID)
	if err != nil {
		return err
	}
	m.To, m.Code = to, code
	return nil
}

func (s *sealedStore) BulkInsertRecords(ctx context.Context, recs []StoredRecord) error {
	sealed := make([]StoredRecord, len(recs))
	for i, r := range recs {
		sealed[i] = s.k.sealRecord(r)
	}
	return s.Store.BulkInsertRecords(ctx, sealed)
}

type sealedTx struct {
	Tx
	k *DataKeys
}

// withNIK prefixes payload with the NIK (uvarint length, bytes), so the NIK comes back from a
// row read by id, and with whether payload is nil, which the Store keeps apart from empty;
// withoutNIK splits them again.
func withNIK(nik string, payload []byte) []byte {
	b := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(nik)+1+len(payload)), uint64(len(nik)))
	b = append(b, nik...)
	if payload == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	return append(b, payload...)
}

func withoutNIK(b []byte) (nik string, payload []byte, err error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n >= uint64(len(b)-w) {
		return "", nil, ErrNotSealed
	}
	nik, rest := string(b[w:w+int(n)]), b[w+int(n):]
	switch {
	case rest[0] == 0 && len(rest) == 1:
		return nik, nil, nil
	case rest[0] == 1:
		return nik, rest[1:], nil
	}
	return "", nil, ErrNotSealed
}

func (k *DataKeys) sealReg(r Registration) Registration {
	r.Email = k.sealString(k.fields, string(withNIK(r.NIK, []byte(r.Email))), sealRegEmail, r.ID)
	r.Phone = k.sealString(k.fields, r.Phone, sealRegPhone, r.ID)
	r.NIK = k.regionalNIK(r.NIK)
	return r
}

func (k *DataKeys) openReg(r Registration) (Registration, error) {
	email, err := k.openString(k.fields, r.Email, sealRegEmail, r.ID)
	if err != nil {
		return Registration{}, err
	}
	nik, e, err := withoutNIK([]byte(email))
	if err != nil {
		return Registration{}, fmt.Errorf("registration %s: %w", r.ID, err)
	}
	if r.Phone, err = k.openString(k.fields, r.Phone, sealRegPhone, r.ID); err != nil {
		return Registration{}, err
	}
	r.NIK, r.Email = nik, string(e)
	return r, nil
}

func (k *DataKeys) sealRecord(r StoredRecord) StoredRecord {
	r.Envelope = k.seal(k.fields, withNIK(r.NIK, r.Envelope), sealEnvelope, r.ID)
	r.NIK = k.regionalNIK(r.NIK)
	return r
}

func (k *DataKeys) openRecord(r StoredRecord) (StoredRecord, error) {
	plain, err := k.open(k.fields, r.Envelope, sealEnvelope, r.ID)
	if err != nil {
		return StoredRecord{}, err
	}
	nik, env, err := withoutNIK(plain)
	if err != nil {
		return StoredRecord{}, fmt.Errorf("record %s: %w", r.ID, err)
	}
	r.NIK, r.Envelope = nik, env
	return r, nil
}

// Residents are bound to their blind index: the row has no other stable name.
func (k *DataKeys) sealResident(r ResidentRow) ResidentRow {
	bi := k.BlindNIK(r.NIK)
	r.Data = k.seal(k.fields, withNIK(r.NIK, r.Data), sealResident, bi)
	r.NIK = RegionalNIK(Region(r.NIK), bi)
	return r
}

func (k *DataKeys) openResident(r ResidentRow) (ResidentRow, error) {
	plain, err := k.open(k.fields, r.Data, sealResident, r.NIK)
	if err != nil {
		return ResidentRow{}, err
	}
	nik, data, err := withoutNIK(plain)
	if err != nil {
		return ResidentRow{}, fmt.Errorf("resident: %w", err)
	}
	r.NIK, r.Data = nik, data
	return r, nil
}

// regionalNIK is nik as the driver takes it: its blind index with its region (RegionalNIK).
// The region is the NIK's kecamatan code, which the kiosk's area and the resident's
// kecamatan already name in clear; the rest of the NIK stays blinded.
func (k *DataKeys) regionalNIK(nik string) string {
	return RegionalNIK(Region(nik), k.BlindNIK(nik))
}

func (t *sealedTx) InsertRegistration(ctx context.Context, r Registration) error {
	return t.Tx.InsertRegistration(ctx, t.k.sealReg(r))
}

func (t *sealedTx) UpdateRegistration(ctx context.Context, r Registration) error {
	return t.Tx.UpdateRegistration(ctx, t.k.sealReg(r))
}

func (t *sealedTx) Registration(ctx context.Context, id string) (Registration, error) {
	r, err := t.Tx.Registration(ctx, id)
	if err != nil {
		return Registration{}, err
	}
	return t.k.openReg(r)
}

func (t *sealedTx) RegistrationsByNIK(ctx context.Context, nik string) ([]Registration, error) {
	rs, err := t.Tx.RegistrationsByNIK(ctx, t.k.regionalNIK(nik))
	if err != nil {
		return nil, err
	}
	for i := range rs {
		if rs[i], err = t.k.openReg(rs[i]); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

func (t *sealedTx) InsertRecord(ctx context.Context, r StoredRecord) (bool, error) {
	return t.Tx.InsertRecord(ctx, t.k.sealRecord(r))
}

func (t *sealedTx) Record(ctx context.Context, id string) (StoredRecord, error) {
	r, err := t.Tx.Record(ctx, id)
	if err != nil {
		return StoredRecord{}, err
	}
	return t.k.openRecord(r)
}

func (t *sealedTx) InsertTombstone(ctx context.Context, ts Tombstone) error {
	ts.NIK = t.k.regionalNIK(ts.NIK)
	return t.Tx.InsertTombstone(ctx, ts)
}

func (t *sealedTx) LatestTombstone(ctx context.Context, nik string) (Tombstone, error) {
	ts, err := t.Tx.LatestTombstone(ctx, t.k.regionalNIK(nik))
	if err != nil {
		return Tombstone{}, err
	}
	ts.NIK = nik
	return ts, nil
}

func (t *sealedTx) EnqueueMail(ctx context.Context, m mail.Mail) error {
	return t.Tx.EnqueueMail(ctx, t.k.sealMail(m))
}

// sealMail seals a queued mail's address and code.
func (k *DataKeys) sealMail(m mail.Mail) mail.Mail {
	m.To = k.sealString(k.mail, m.To, sealMailTo, m.ID)
	m.Code = k.sealString(k.mail, m.Code, sealMailCode, m.ID)
	return m
}

func (t *sealedTx) PutResidents(ctx context.Context, rs []ResidentRow) error {
	sealed := make([]ResidentRow, len(rs))
	for i, r := range rs {
		sealed[i] = t.k.sealResident(r)
	}
	return t.Tx.PutResidents(ctx, sealed)
}

func (t *sealedTx) SetRevocations(ctx context.Context, nik string, data []byte) error {
	return t.Tx.SetRevocations(ctx, t.k.regionalNIK(nik), data)
}

func (t *sealedTx) Resident(ctx context.Context, nik string) (ResidentRow, error) {
	r, err := t.Tx.Resident(ctx, t.k.regionalNIK(nik))
	if err != nil {
		return ResidentRow{}, err
	}
	return t.k.openResident(r)
}

func (t *sealedTx) Changes(ctx context.Context, area string, after int64, limit int) (Changes, error) {
	return t.k.openChanges(t.Tx.Changes(ctx, area, after, limit))
}

func (k *DataKeys) openChanges(ch Changes, err error) (Changes, error) {
	if err != nil {
		return Changes{}, err
	}
	for i := range ch.Residents {
		if ch.Residents[i], err = k.openResident(ch.Residents[i]); err != nil {
			return Changes{}, err
		}
	}
	return ch, nil
}

func (t *sealedTx) Tombstones(ctx context.Context, nik string) ([]Tombstone, error) {
	return t.k.tombstones(ctx, t.Tx, nik)
}

// tombstones lists nik's tombstones by its blind index and gives them the NIK back.
func (k *DataKeys) tombstones(ctx context.Context, tx ReadTx, nik string) ([]Tombstone, error) {
	ts, err := tx.Tombstones(ctx, k.regionalNIK(nik))
	for i := range ts {
		ts[i].NIK = nik
	}
	return ts, err
}

func (t *sealedTx) LiftTombstones(ctx context.Context, nik string, at time.Time, by, reason string) (int64, error) {
	return t.Tx.LiftTombstones(ctx, t.k.regionalNIK(nik), at, by, reason)
}

func (s *sealedStore) InReadTx(ctx context.Context, fn func(ctx context.Context, tx ReadTx) error) error {
	return s.Store.InReadTx(ctx, func(ctx context.Context, tx ReadTx) error {
		return fn(ctx, sealedReadTx{ReadTx: tx, k: s.k})
	})
}

// sealedReadTx is the seal of a read outside the write lock: residents opened, NIKs looked up
// by blind index.
type sealedReadTx struct {
	ReadTx
	k *DataKeys
}

func (t sealedReadTx) Changes(ctx context.Context, area string, after int64, limit int) (Changes, error) {
	return t.k.openChanges(t.ReadTx.Changes(ctx, area, after, limit))
}

func (t sealedReadTx) Tombstones(ctx context.Context, nik string) ([]Tombstone, error) {
	return t.k.tombstones(ctx, t.ReadTx, nik)
}

// sealedBatchTx keeps the driver's one-query batch reads (BatchTx) behind the seal.
type sealedBatchTx struct {
	*sealedTx
	bt BatchTx
}

var _ BatchTx = (*sealedBatchTx)(nil)

// blindNIKs returns niks as the driver takes them (regionalNIK) and the NIK of each blind
// index, as the driver answers.
func (t *sealedBatchTx) blindNIKs(niks []string) ([]string, map[string]string) {
	byIndex := make(map[string]string, len(niks))
	bis := make([]string, len(niks))
	for i, nik := range niks {
		bi := t.k.BlindNIK(nik)
		bis[i] = RegionalNIK(Region(nik), bi)
		byIndex[bi] = nik
	}
	return bis, byIndex
}

func (t *sealedBatchTx) LatestTombstones(ctx context.Context, niks []string) (map[string]Tombstone, error) {
	bis, byIndex := t.blindNIKs(niks)
	m, err := t.bt.LatestTombstones(ctx, bis)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Tombstone, len(m))
	for bi, ts := range m {
		nik, ok := byIndex[bi]
		if !ok {
			return nil, fmt.Errorf("latest tombstones: driver answered for a NIK not asked about")
		}
		ts.NIK = nik
		out[nik] = ts
	}
	return out, nil
}

func (t *sealedBatchTx) Residents(ctx context.Context, niks []string) (map[string]ResidentRow, error) {
	bis, byIndex := t.blindNIKs(niks)
	m, err := t.bt.Residents(ctx, bis)
	if err != nil {
		return nil, err
	}
	out := make(map[string]ResidentRow, len(m))
	for bi, r := range m {
		nik, ok := byIndex[bi]
		if !ok {
			return nil, fmt.Errorf("residents: driver answered for a NIK not asked about")
		}
		if r, err = t.k.openResident(r); err != nil {
			return nil, err
		}
		out[nik] = r
	}
	return out, nil
}

func (t *sealedBatchTx) InsertRecords(ctx context.Context, rs []StoredRecord) ([]bool, error) {
	sealed := make([]StoredRecord, len(rs))
	for i, r := range rs {
		sealed[i] = t.k.sealRecord(r)
	}
	return t.bt.InsertRecords(ctx, sealed)
}

func (t *sealedBatchTx) UpdateRegistrationAndEnqueueMail(ctx context.Context, r Registration, m mail.Mail) error {
	return t.bt.UpdateRegistrationAndEnqueueMail(ctx, t.k.sealReg(r), t.k.sealMail(m))
}

// LockRegistrations needs nothing sealed: registration ids are not personal data, and
// Registration opens what the driver answers.
func (t *sealedBatchTx) LockRegistrations(ctx context.Context, ids []string) error {
	return t.bt.LockRegistrations(ctx, ids)
}
