package kiosk

import (
	"context"
	"fmt"
	"strings"
)

// ReissueCode asks the registry for a new activation code of registration regID, approved at
// a counter and not yet confirmed, whose code expired or was burned by wrong guesses: it
// seals the request as officer and queues it with its audit entry. Whether the old code may
// be replaced is the registry's decision (it alone knows the code's state); its answer comes
// back with the next sync. No face check: the record changes nothing but where the code goes,
// and it goes only to the e-mail address the citizen registered.
func ReissueCode(ctx context.Context, d Deps, officer Officer, regID string, nik NIK) (OutboxRecord, error) {
	regID = strings.TrimSpace(regID)
	if regID == "" {
		return OutboxRecord{}, ErrReissueNoRegistration
	}
	if _, err := ParseNIK(string(nik)); err != nil {
		return OutboxRecord{}, err
	}
	now := d.Clock.Now()
	rec := OutboxRecord{ID: d.IDs.NewID(), Kind: KindCodeReissue, NIK: nik, RegistrationID: regID,
		State: RecordPending, CreatedAt: now}
	env, err := d.Sealer.Seal(rec.Kind, rec.ID, CodeReissue{ID: rec.ID, RegistrationID: regID, NIK: nik,
		OfficerID: officer.ID, KioskID: d.KioskID, RequestedAt: now})
	if err != nil {
		return OutboxRecord{}, fmt.Errorf("seal %s: %w", rec.Kind, err)
	}
	rec.Envelope = env
	ev := AuditEvent{Time: now, OfficerID: officer.ID, Action: "code_reissue.requested", Subject: rec.ID,
		Detail: fmt.Sprintf("nik=%s registration=%s", nik.Masked(), regID)}
	if err := d.Outbox.Enqueue(ctx, rec, ev); err != nil {
		return OutboxRecord{}, fmt.Errorf("queue %s: %w", rec.Kind, err)
	}
	return rec, nil
}
