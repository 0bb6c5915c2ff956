package app

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// ResendResult counts the registry's answers to a Resend.
type ResendResult struct {
	Sent, Accepted, Duplicate, Rejected int
	// Rejections name each rejected record and the registry's code.
	Rejections []string
}

// Resend sends the records the kiosk holds as acknowledged and made at or after since to the
// registry at url again, batch records a request, and changes nothing in the kiosk's store.
// It is for after the registry's database was restored to an earlier point (README, operator
// section): the registry accepts again what the restore lost and answers duplicate for what
// it kept, so nothing is accepted twice and a generous since costs only bandwidth.
func Resend(ctx context.Context, s *store.Store, url string, hc *http.Client, since time.Time, batch int) (ResendResult, error) {
	var res ResendResult
	if batch < 1 || batch > ikdsync.MaxBatch {
		return res, fmt.Errorf("resend: batch %d, want 1 to %d", batch, ikdsync.MaxBatch)
	}
	all, err := s.Records(ctx, kiosk.RecordAcknowledged, 1<<30)
	if err != nil {
		return res, fmt.Errorf("resend: read the outbox: %w", err)
	}
	var recs []kiosk.OutboxRecord
	for _, r := range all {
		if !r.CreatedAt.Before(since) {
			recs = append(recs, r)
		}
	}
	c := &ikdsync.Client{BaseURL: url, KioskID: s.KioskID(), Key: s.DeviceKey(), HTTP: hc, Now: s.Now}
	for i := 0; i < len(recs); i += batch {
		part := recs[i:min(i+batch, len(recs))]
		envs := make([][]byte, len(part))
		for j, r := range part {
			envs[j] = r.Envelope
		}
		// No audit head: the resent records are old, and the next sync round carries the head.
		resp, err := c.Push(ctx, envs, nil)
		if err != nil {
			return res, fmt.Errorf("resend: %d of %d records answered: %w", res.Sent, len(recs), err)
		}
		res.Sent += len(part)
		for j, a := range resp.Answers {
			switch a.Status {
			case ikdsync.StatusAccepted:
				res.Accepted++
			case ikdsync.StatusDuplicate:
				res.Duplicate++
			default:
				res.Rejected++
				res.Rejections = append(res.Rejections, part[j].ID+": "+a.Code)
			}
		}
	}
	return res, nil
}
