package registry

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	ikdsync "github.com/ikd-field/ikd/sync"
)

// The registry's side of the stick (see sync/bundle.go): an outbox bundle is ingested batch
// by batch through pushRecords, the core of POST /v1/records, and a changes bundle is made of
// the pages changesPage gives GET /v1/changes. A stick and the network therefore mix freely:
// whichever brings a record second is answered duplicate and mails nothing.

// BundleKey is the registry key that signs answers and changes bundles and whose age identity
// opens outbox bundles: the --key of `ikd-registry serve`.
type BundleKey struct {
	KeyID string
	Key   ed25519.PrivateKey
}

// BundleReport says what an import did.
type BundleReport struct {
	Manifest            ikdsync.OutboxManifest
	Accepted, Duplicate int
	Rejected            map[string]int // by code
	Mails               int            // code mails queued
}

// ImportBundle ingests an outbox bundle and returns the signed answers bundle for its kiosk.
// A bundle that is not one, is cut short, was changed, is signed by a key not the enrolled
// kiosk's or is encrypted to another registry is refused with the sync.ErrBundle… error and
// nothing stored. A kiosk revoked at the registry gets every record rejected, as over the
// network. Each batch commits on its own: an import cut short is simply run again.
func (s *Server) ImportBundle(ctx context.Context, bundle []byte, key BundleKey) ([]byte, BundleReport, error) {
	var dev Device
	lookup := func(kioskID string) (ed25519.PublicKey, bool, error) {
		err := s.Store.InTx(ctx, func(ctx context.Context, tx Tx) error {
			d, err := tx.Device(ctx, kioskID)
			dev = d
			return err
		})
		if errors.Is(err, ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		return dev.PublicKey, true, nil
	}
	ob, err := ikdsync.OpenOutbox(bundle, lookup, key.Key)
	if err != nil {
		return nil, BundleReport{}, err
	}
	rep := BundleReport{Manifest: ob.Manifest, Rejected: map[string]int{}}
	answers := make([]ikdsync.Answer, 0, len(ob.Records))
	for start := 0; start < len(ob.Records); start += ikdsync.MaxBatch {
		end := min(start+ikdsync.MaxBatch, len(ob.Records))
		// No audit head: a stick may be older than a push already received, and its records
		// are checked one by one as any push's are (a stale checkpoint is refused).
		a, mails, err := s.pushRecords(ctx, dev, ob.Records[start:end], nil)
		if err != nil {
			return nil, rep, fmt.Errorf("import bundle %s: records %d to %d: %w", ob.Manifest.BundleID, start+1, end, err)
		}
		answers = append(answers, a...)
		rep.Mails += mails
	}
	for _, a := range answers {
		switch a.Status {
		case ikdsync.StatusAccepted:
			rep.Accepted++
		case ikdsync.StatusDuplicate:
			rep.Duplicate++
		default:
			rep.Rejected[a.Code]++
		}
	}
	out, err := ikdsync.SealAnswers(key.KeyID, key.Key, ikdsync.BundleAnswers{KioskID: dev.KioskID,
		BundleID: ob.Manifest.BundleID, Time: s.Now().UnixMilli(), IDs: ob.IDs, Answers: answers})
	if err != nil {
		return nil, rep, err
	}
	s.Log.Info("outbox bundle imported", "kiosk_id", dev.KioskID, "bundle_id", ob.Manifest.BundleID,
		"records", len(answers), "accepted", rep.Accepted, "duplicate", rep.Duplicate, "mails_queued", rep.Mails)
	return out, rep, nil
}

// ChangesBundle makes the signed changes bundle of area (a kecamatan, or a comma-separated
// list as a device is enrolled for) after the change number since (0: everything): the pages
// a kiosk of that area pulling from since would get, in order.
func (s *Server) ChangesBundle(ctx context.Context, area string, since int64, key BundleKey) ([]byte, ikdsync.BundleChanges, error) {
	area, err := ParseAreas(area)
	if err != nil {
		return nil, ikdsync.BundleChanges{}, err
	}
	if since < 0 {
		return nil, ikdsync.BundleChanges{}, fmt.Errorf("changes bundle: cursor %d", since)
	}
	dev := Device{Area: area}
	c := ikdsync.BundleChanges{Area: area, Since: since, Until: since}
	for {
		p, err := s.changesPage(ctx, dev, c.Until, defaultPage)
		if err != nil {
			return nil, c, fmt.Errorf("changes bundle of %q after %d: %w", area, c.Until, err)
		}
		c.Pages = append(c.Pages, p)
		if c.Until, err = cursorOf(p); err != nil {
			return nil, c, err
		}
		c.Time = p.Time
		if !p.More {
			break
		}
	}
	b, err := ikdsync.SealChanges(key.KeyID, key.Key, c)
	return b, c, err
}

func cursorOf(p ikdsync.DeltaPage) (int64, error) {
	var n int64
	if _, err := fmt.Sscan(p.Cursor, &n); err != nil {
		return 0, fmt.Errorf("page cursor %q: %w", p.Cursor, err)
	}
	return n, nil
}
