package registry

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/ikd-field/ikd/kiosk"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry/mail"
)

// The conflict rules. They give the same final state whatever order records arrive in, from
// however many kiosks and registry processes:
//
//   - A registration is activated once. The winner is the earliest approval by approval time,
//     ties broken by record id. A later approval is rejected with activation.duplicate naming
//     the winner. An earlier approval that arrives after a later one was accepted takes over
//     as the winner; the one it displaces is answered activation.duplicate from then on (its
//     kiosk may already have been told "accepted": either way the registration is activated,
//     and the citizen's code, issued at the first acceptance, stays the one code).
//   - A deactivation (lost phone) leaves a tombstone for the NIK and ends every registration
//     of the NIK made before it, activated or not. An activation of such a registration is
//     rejected with activation.deactivated, so a stale offline activation can never re-enable
//     a reported-lost account; a registration made after the deactivation (the new phone) can
//     be activated.
//   - An activation of a revoked registration is rejected (activation.registration_revoked).
//   - Every record of a revoked kiosk is rejected (record.device_revoked).
//   - An audit checkpoint older than the newest one received from the kiosk is rejected
//     (audit.rollback): the kiosk's database was rolled back.
//   - A code re-issue replaces the code of a registration approved at a kiosk and not yet
//     confirmed, only when that code expired or was burned by wrong tries (so re-issues cannot
//     flood a mailbox while a code works), and at most maxReissues times in reissueWindow.
//     The old code dies with the new one's issue. A batch applies its activations first, so a
//     re-issue may follow the approval it refers to in one push.
//
// A record id seen before gets its stored answer again (accepted becomes duplicate), so
// delivery is idempotent. Each rule reads what it decides on with a locking read inside the
// batch's transaction, so two registry processes cannot both accept.

// ingested is one record of a batch on its way to an answer.
type ingested struct {
	index  int
	rec    ikdsync.Record
	env    []byte
	answer ikdsync.Answer
	mailed *mail.Mail // the code mail this record queued, if any
	// inserted is InsertRecord's answer for this record when the batch inserted it ahead
	// (BatchTx), nil when apply inserts it.
	inserted *bool
}

// order sorts a batch: deactivations first, then activations, then code re-issues, each by
// record time and id, so a batch's outcome does not depend on the order the kiosk listed it in.
func (in ingested) order() (int, time.Time, string) {
	switch in.rec.Kind {
	case kiosk.KindDeactivation:
		return 0, in.rec.Deactivation.ConfirmedAt, in.rec.ID
	case kiosk.KindActivation:
		return 1, in.rec.Activation.ApprovedAt, in.rec.ID
	case kiosk.KindCodeReissue:
		return 2, in.rec.Reissue.RequestedAt, in.rec.ID
	default:
		return 3, in.rec.Checkpoint.At, in.rec.ID
	}
}

func compareIngested(a, b *ingested) int {
	ka, ta, ia := a.order()
	kb, tb, ib := b.order()
	return cmp.Or(cmp.Compare(ka, kb), ta.Compare(tb), cmp.Compare(ia, ib))
}

// ingest answers a batch of envelopes from device dev, all in one transaction, after checking
// the kiosk's audit head (checkPushHead).
func (s *Server) ingest(ctx context.Context, dev Device, envelopes [][]byte, head *ikdsync.PushHead) ([]ikdsync.Answer, []mail.Mail, error) {
	answers := make([]ikdsync.Answer, len(envelopes))
	var todo []*ingested
	for i, env := range envelopes {
		rec, err := openEnvelope(dev, env)
		if err != nil {
			answers[i] = reject(err)
			continue
		}
		todo = append(todo, &ingested{index: i, rec: rec, env: env})
	}
	slices.SortFunc(todo, compareIngested)

	var mails []mail.Mail
	err := s.Store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		mails = mails[:0]
		now := s.Now()
		if err := s.checkPushHead(ctx, tx, dev.KioskID, head, now); err != nil {
			return err
		}
		tombs := &batchTombstones{}
		auth := &batchAuth{}
		if err := auth.prefetch(ctx, tx, todo); err != nil {
			return err
		}
		for _, in := range todo {
			in.mailed, in.inserted = nil, nil
		}
		for _, in := range todo {
			if (in.rec.Kind == kiosk.KindActivation || in.rec.Kind == kiosk.KindCodeReissue) && !tombs.read {
				// The batch is sorted with every deactivation first, so the tombstones read
				// here include those this batch made. A deactivation another process commits
				// after this read is still seen: it marks the NIK's registrations deactivated,
				// and applyActivation reads the registration with a lock after this point.
				if err := tombs.prefetch(ctx, tx, dev, todo, now); err != nil {
					return err
				}
			}
			a, err := s.apply(ctx, tx, dev, in, now, tombs, auth)
			if err != nil {
				return fmt.Errorf("record %s: %w", in.rec.ID, err)
			}
			in.answer = a
			if in.mailed != nil {
				mails = append(mails, *in.mailed)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for _, in := range todo {
		answers[in.index] = in.answer
	}
	return answers, mails, nil
}

// batchTombstones holds the latest tombstones of a batch's activation NIKs, read in one query
// when the store can (BatchTx); otherwise each activation reads its own. With them it locks
// the registrations the batch's activations and re-issues name, in one query, and inserts the
// batch's activation records in one round trip: the rules read no activation record but the
// one a later approval displaces, and nothing counts them, so inserting them ahead of their
// decisions (each still gets its answer written when it is not accepted) changes no outcome.
type batchTombstones struct {
	read  bool
	byNIK map[string]Tombstone // nil: not prefetched
}

func (b *batchTombstones) prefetch(ctx context.Context, tx Tx, dev Device, todo []*ingested, now time.Time) error {
	b.read = true
	bt, ok := tx.(BatchTx)
	if !ok {
		return nil
	}
	var (
		niks, regs []string
		acts       []*ingested
		recs       []StoredRecord
	)
	for _, in := range todo {
		switch in.rec.Kind {
		case kiosk.KindActivation:
			niks = append(niks, string(in.rec.Activation.NIK))
			regs = append(regs, in.rec.Activation.RegistrationID)
			acts, recs = append(acts, in), append(recs, storedRecord(dev, in, now))
		case kiosk.KindCodeReissue:
			regs = append(regs, in.rec.Reissue.RegistrationID)
		}
	}
	if len(recs) > 0 {
		inserted, err := bt.InsertRecords(ctx, recs)
		if err != nil {
			return fmt.Errorf("records of the batch: %w", err)
		}
		for i, in := range acts {
			in.inserted = &inserted[i]
		}
	}
	if err := bt.LockRegistrations(ctx, regs); err != nil {
		return fmt.Errorf("registrations of the batch: %w", err)
	}
	m, err := bt.LatestTombstones(ctx, niks)
	if err != nil {
		return fmt.Errorf("tombstones of the batch: %w", err)
	}
	if m == nil {
		m = map[string]Tombstone{}
	}
	b.byNIK = m
	return nil
}

// latest is tx.LatestTombstone(nik) for an activation's NIK, from the prefetched map when
// there is one.
func (b *batchTombstones) latest(ctx context.Context, tx Tx, nik string) (Tombstone, error) {
	if b == nil || b.byNIK == nil {
		return tx.LatestTombstone(ctx, nik)
	}
	if t, ok := b.byNIK[nik]; ok {
		return t, nil
	}
	return Tombstone{}, ErrNotFound
}

// openEnvelope verifies an envelope against the device that sent the request.
func openEnvelope(dev Device, env []byte) (ikdsync.Record, error) {
	kid, err := ikdsync.EnvelopeKioskID(env)
	if err != nil {
		return ikdsync.Record{}, err
	}
	if kid != dev.KioskID {
		return ikdsync.Record{}, ikdsync.ErrRecordKioskMismatch.With(fmt.Errorf("sent by %q, signed as %q", dev.KioskID, kid))
	}
	return ikdsync.Open(env, dev.PublicKey)
}

func reject(err error) ikdsync.Answer {
	code := ikdsync.CodeOf(err)
	if code == "" {
		code = ikdsync.ErrRecordMalformed.Code
	}
	return ikdsync.Answer{Status: ikdsync.StatusRejected, Code: code}
}

func rejectWith(e *kiosk.Error) ikdsync.Answer {
	return ikdsync.Answer{Status: ikdsync.StatusRejected, Code: e.Code}
}

var accepted = ikdsync.Answer{Status: ikdsync.StatusAccepted}

// storedRecord is the row of in, from dev, received at now, as accepted.
func storedRecord(dev Device, in *ingested, now time.Time) StoredRecord {
	stored := StoredRecord{ID: in.rec.ID, KioskID: dev.KioskID, Kind: in.rec.Kind, ReceivedAt: now,
		Status: ikdsync.StatusAccepted, Envelope: in.env}
	switch in.rec.Kind {
	case kiosk.KindActivation:
		stored.RegistrationID, stored.NIK, stored.At = in.rec.Activation.RegistrationID, string(in.rec.Activation.NIK), in.rec.Activation.ApprovedAt
	case kiosk.KindDeactivation:
		stored.NIK, stored.At = string(in.rec.Deactivation.NIK), in.rec.Deactivation.ConfirmedAt
	case kiosk.KindCodeReissue:
		stored.RegistrationID, stored.NIK, stored.At = in.rec.Reissue.RegistrationID, string(in.rec.Reissue.NIK), in.rec.Reissue.RequestedAt
	case kiosk.KindAuditCheckpoint:
		stored.At = in.rec.Checkpoint.At
	}
	return stored
}

// apply decides one record inside tx. It first claims the record id: a record seen before
// (or being ingested by another process right now, whose commit InsertRecord waits for) gets
// its stored answer and changes nothing else.
func (s *Server) apply(ctx context.Context, tx Tx, dev Device, in *ingested, now time.Time, tombs *batchTombstones, auth *batchAuth) (ikdsync.Answer, error) {
	var (
		inserted bool
		err      error
	)
	if in.inserted != nil {
		inserted = *in.inserted
	} else if inserted, err = tx.InsertRecord(ctx, storedRecord(dev, in, now)); err != nil {
		return ikdsync.Answer{}, err
	}
	if !inserted {
		prev, err := tx.Record(ctx, in.rec.ID)
		if err != nil {
			return ikdsync.Answer{}, err
		}
		if prev.KioskID != dev.KioskID {
			// Another kiosk's record id: ids are UUIDv7, so this is a bug or an attack, not a repeat.
			return rejectWith(ikdsync.ErrRecordKioskMismatch), nil
		}
		if prev.Status == ikdsync.StatusAccepted {
			return ikdsync.Answer{Status: ikdsync.StatusDuplicate}, nil
		}
		return ikdsync.Answer{Status: prev.Status, Code: prev.Code, Winner: prev.Winner}, nil
	}

	var refusal *kiosk.Error
	if dev.RevokedAt.IsZero() {
		if refusal, err = auth.authorize(ctx, tx, dev, in.rec, now); err != nil {
			return ikdsync.Answer{}, err
		}
	}
	if refusal != nil {
		s.Log.Warn("record refused by authorization", "kiosk_id", dev.KioskID, "record_id", in.rec.ID,
			"kind", in.rec.Kind, "code", refusal.Code, "err", refusal)
	}
	var a ikdsync.Answer
	switch {
	case !dev.RevokedAt.IsZero():
		a = rejectWith(ikdsync.ErrDeviceRevokedRecord)
	case refusal != nil:
		a = rejectWith(refusal)
	case in.rec.Kind == kiosk.KindActivation:
		a, err = s.applyActivation(ctx, tx, in, now, tombs)
	case in.rec.Kind == kiosk.KindDeactivation:
		a, err = applyDeactivation(ctx, tx, in.rec.Deactivation)
	case in.rec.Kind == kiosk.KindCodeReissue:
		a, err = s.applyReissue(ctx, tx, in, now)
	default:
		a, err = s.applyCheckpoint(ctx, tx, in.rec.Checkpoint)
	}
	if err != nil {
		return ikdsync.Answer{}, err
	}
	if a.Status != ikdsync.StatusAccepted {
		if err := tx.SetRecordAnswer(ctx, in.rec.ID, a.Status, a.Code, a.Winner); err != nil {
			return ikdsync.Answer{}, err
		}
	}
	return a, nil
}

func (s *Server) applyActivation(ctx context.Context, tx Tx, in *ingested, now time.Time, tombs *batchTombstones) (ikdsync.Answer, error) {
	act := in.rec.Activation
	reg, err := tx.Registration(ctx, act.RegistrationID)
	if errors.Is(err, ErrNotFound) {
		return rejectWith(ikdsync.ErrUnknownRegistration), nil
	}
	if err != nil {
		return ikdsync.Answer{}, err
	}
	switch {
	case reg.NIK != string(act.NIK):
		return rejectWith(ikdsync.ErrRegistrationMismatch), nil
	case reg.Status == RegRevoked:
		return rejectWith(ikdsync.ErrRegistrationRevoked), nil
	case reg.Status == RegDeactivated:
		return rejectWith(ikdsync.ErrAccountDeactivated), nil
	}
	// A tombstone made after the registration ends it even if the deactivation record
	// arrived before the registration existed here (the registration table and the kiosks
	// are not in step).
	tomb, err := tombs.latest(ctx, tx, reg.NIK)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return ikdsync.Answer{}, err
	}
	if err == nil && !tomb.At.Before(reg.CreatedAt) {
		reg.Status, reg.RevokedAt, reg.CodeHash = RegDeactivated, tomb.At, nil
		if err := tx.UpdateRegistration(ctx, reg); err != nil {
			return ikdsync.Answer{}, err
		}
		if err := refreshRevocations(ctx, tx, reg.NIK); err != nil {
			return ikdsync.Answer{}, err
		}
		return rejectWith(ikdsync.ErrAccountDeactivated), nil
	}

	if reg.ActivationRecord != "" {
		if reg.ActivationRecord == act.ID {
			// This record already won (its dedup row was purged after the retention window).
			return ikdsync.Answer{Status: ikdsync.StatusDuplicate}, nil
		}
		if !earlier(act.ApprovedAt, act.ID, reg.ApprovedAt, reg.ActivationRecord) {
			return ikdsync.Answer{Status: ikdsync.StatusRejected, Code: ikdsync.ErrDuplicateActivation.Code,
				Winner: reg.ActivationRecord}, nil
		}
		// An earlier approval displaces the winner; the code already issued stays.
		if err := tx.SetRecordAnswer(ctx, reg.ActivationRecord, ikdsync.StatusRejected,
			ikdsync.ErrDuplicateActivation.Code, act.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return ikdsync.Answer{}, err
		}
		reg.ActivationRecord, reg.ApprovedAt = act.ID, act.ApprovedAt
		return accepted, tx.UpdateRegistration(ctx, reg)
	}

	reg.Status, reg.ActivationRecord, reg.ApprovedAt = RegApproved, act.ID, act.ApprovedAt
	return accepted, s.issueCode(ctx, tx, in, reg, now, false)
}

// issueCode gives reg a new code, which replaces (kills) any earlier one, stores it and queues
// its mail; replaces says so in the mail.
func (s *Server) issueCode(ctx context.Context, tx Tx, in *ingested, reg Registration, now time.Time, replaces bool) error {
	code, err := newActivationCode()
	if err != nil {
		return err
	}
	reg.CodeHash, reg.CodeExpires, reg.CodeTries = s.codeHash(reg.ID, code), now.Add(s.codeTTL()), 0
	m := mail.Mail{ID: uuid.Must(uuid.NewV7()).String(), To: reg.Email, Code: code, RegistrationID: reg.ID,
		RecordID: reg.ActivationRecord, ExpiresAt: reg.CodeExpires, Replaces: replaces, CreatedAt: now}
	if bt, ok := tx.(BatchTx); ok {
		if err := bt.UpdateRegistrationAndEnqueueMail(ctx, reg, m); err != nil {
			return err
		}
	} else {
		if err := tx.UpdateRegistration(ctx, reg); err != nil {
			return err
		}
		if err := tx.EnqueueMail(ctx, m); err != nil {
			return err
		}
	}
	in.mailed = &m
	return nil
}

// The limit of code re-issues per registration: each one mails the citizen, and whoever
// burned one code by guessing could burn the next.
const (
	maxReissues   = 3
	reissueWindow = 24 * time.Hour
)

func (s *Server) applyReissue(ctx context.Context, tx Tx, in *ingested, now time.Time) (ikdsync.Answer, error) {
	r := in.rec.Reissue
	reg, err := tx.Registration(ctx, r.RegistrationID)
	if errors.Is(err, ErrNotFound) {
		return rejectWith(ikdsync.ErrUnknownRegistration), nil
	}
	if err != nil {
		return ikdsync.Answer{}, err
	}
	switch {
	case reg.NIK != string(r.NIK):
		return rejectWith(ikdsync.ErrRegistrationMismatch), nil
	case reg.Status == RegActivated:
		return rejectWith(ikdsync.ErrReissueConfirmed), nil
	case reg.Status == RegRevoked:
		return rejectWith(ikdsync.ErrRegistrationRevoked), nil
	case reg.Status == RegDeactivated:
		return rejectWith(ikdsync.ErrAccountDeactivated), nil
	case reg.Status != RegApproved:
		return rejectWith(ikdsync.ErrReissueNotApproved), nil
	case reg.CodeTries < s.codeMaxTries() && now.Before(reg.CodeExpires):
		return rejectWith(ikdsync.ErrReissueCodeValid), nil
	}
	// The registration's row lock (Registration above) orders concurrent re-issues of it, so
	// the count cannot be raced. It includes this record, stored as accepted before the rules.
	n, err := tx.CountAccepted(ctx, kiosk.KindCodeReissue, reg.ID, now.Add(-reissueWindow))
	if err != nil {
		return ikdsync.Answer{}, err
	}
	if n > maxReissues {
		s.Log.Warn("code re-issue refused: limit reached", "registration_id", reg.ID, "record_id", r.ID,
			"kiosk_id", r.KioskID, "reissues", n-1, "window", reissueWindow)
		return rejectWith(ikdsync.ErrReissueRateLimited), nil
	}
	s.Log.Info("activation code re-issued", "registration_id", reg.ID, "record_id", r.ID,
		"kiosk_id", r.KioskID, "officer_id", r.OfficerID, "burned", reg.CodeTries >= s.codeMaxTries())
	return accepted, s.issueCode(ctx, tx, in, reg, now, true)
}

// earlier reports whether approval (at, id) comes before (otherAt, otherID).
func earlier(at time.Time, id string, otherAt time.Time, otherID string) bool {
	if c := at.Compare(otherAt); c != 0 {
		return c < 0
	}
	return id < otherID
}

func applyDeactivation(ctx context.Context, tx Tx, d *kiosk.Deactivation) (ikdsync.Answer, error) {
	if err := tx.InsertTombstone(ctx, Tombstone{NIK: string(d.NIK), At: d.ConfirmedAt, RecordID: d.ID}); err != nil {
		return ikdsync.Answer{}, err
	}
	regs, err := tx.RegistrationsByNIK(ctx, string(d.NIK))
	if err != nil {
		return ikdsync.Answer{}, err
	}
	for _, r := range regs {
		if r.CreatedAt.After(d.ConfirmedAt) || r.Status == RegDeactivated || r.Status == RegRevoked {
			continue
		}
		r.Status, r.RevokedAt, r.CodeHash = RegDeactivated, d.ConfirmedAt, nil
		if err := tx.UpdateRegistration(ctx, r); err != nil {
			return ikdsync.Answer{}, err
		}
	}
	if err := refreshRevocations(ctx, tx, string(d.NIK)); err != nil {
		return ikdsync.Answer{}, err
	}
	return accepted, nil
}

func (s *Server) applyCheckpoint(ctx context.Context, tx Tx, c *kiosk.AuditCheckpoint) (ikdsync.Answer, error) {
	prev, err := tx.Checkpoint(ctx, c.KioskID)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return ikdsync.Answer{}, err
	case c.AuditSeq < prev.AuditSeq || c.OutboxSeq < prev.OutboxSeq ||
		(c.AuditSeq == prev.AuditSeq && !bytes.Equal(c.AuditHash, prev.AuditHash)):
		s.Log.Error("AUDIT ROLLBACK: a kiosk sent an audit checkpoint older than one already received",
			"kiosk_id", c.KioskID, "record_id", c.ID, "audit_seq", c.AuditSeq, "newest_audit_seq", prev.AuditSeq,
			"outbox_seq", c.OutboxSeq, "newest_outbox_seq", prev.OutboxSeq)
		return rejectWith(ikdsync.ErrAuditRollback), nil
	case c.AuditSeq == prev.AuditSeq && c.OutboxSeq == prev.OutboxSeq:
		return accepted, nil // the same point again, from a new checkpoint record
	}
	return accepted, tx.PutCheckpoint(ctx, Checkpoint{KioskID: c.KioskID, RecordID: c.ID, AuditSeq: c.AuditSeq,
		AuditHash: c.AuditHash, OutboxSeq: c.OutboxSeq, At: c.At})
}
