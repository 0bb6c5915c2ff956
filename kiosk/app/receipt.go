package app

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math"
	"path/filepath"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/receipt"
	"github.com/ikd-field/ikd/kiosk/store"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// ErrNoSuchReceipt: the record id names no activation or deactivation in this kiosk's outbox.
var ErrNoSuchReceipt = &kiosk.Error{Code: "receipt.unknown_record", Msg: kiosk.Message{
	ID: "Tidak ada aktivasi atau penonaktifan dengan nomor rekaman ini di kiosk ini.",
	EN: "There is no activation or deactivation with this record id on this kiosk."}}

// PaperReceipt is the receipt of outbox record id as st holds it now: the signed record's
// NIK, officer, kiosk and time, the resident's name and kecamatan, and the registry's answer
// so far. The window's "Cetak" and `ikdctl receipt` both print this, so a reprint of a record
// in the same state is the same paper, byte for byte. The paper names a citizen, so issuing
// it is audited first ("receipt.issued", by: an officer id, or "operator" at the console).
func PaperReceipt(ctx context.Context, st *store.Store, id, by string) (receipt.Receipt, error) {
	recs, err := st.Records(ctx, "", math.MaxInt32)
	if err != nil {
		return receipt.Receipt{}, err
	}
	for _, rec := range recs {
		if rec.ID != id {
			continue
		}
		paper, err := paperOf(ctx, st, rec)
		if err != nil {
			return receipt.Receipt{}, err
		}
		ev := kiosk.AuditEvent{Time: st.Now(), OfficerID: by, Action: "receipt.issued", Subject: id,
			Detail: fmt.Sprintf("%s, %s", paper.Kind, paper.State)}
		if err := st.Record(ctx, ev); err != nil {
			return receipt.Receipt{}, err
		}
		return paper, nil
	}
	return receipt.Receipt{}, ErrNoSuchReceipt.With(fmt.Errorf("record %q not in the outbox", id))
}

func paperOf(ctx context.Context, st *store.Store, rec kiosk.OutboxRecord) (receipt.Receipt, error) {
	pub, _ := st.DeviceKey().Public().(ed25519.PublicKey) // a wrong type fails in Open as a wrong-sized key
	signed, err := ikdsync.Open(rec.Envelope, pub)
	if err != nil {
		return receipt.Receipt{}, fmt.Errorf("open record %s: %w", rec.ID, err)
	}
	r := receipt.Receipt{RecordID: rec.ID, Kind: rec.Kind, KioskID: signed.KioskID, State: rec.State,
		At: rec.CreatedAt.Local()}
	switch {
	case signed.Activation != nil:
		r.NIK, r.OfficerID = signed.Activation.NIK, signed.Activation.OfficerID
	case signed.Deactivation != nil:
		r.NIK, r.OfficerID = signed.Deactivation.NIK, signed.Deactivation.OfficerID
	default:
		return receipt.Receipt{}, ErrNoSuchReceipt.With(fmt.Errorf("record %s is a %s", rec.ID, rec.Kind))
	}
	// The snapshot may have dropped the resident since (moved, deceased): the receipt still
	// prints, with what the record holds.
	if res, err := st.ResidentByNIK(ctx, r.NIK); err == nil {
		r.Name, r.Area = res.Name, res.Kecamatan
	}
	return r, nil
}

// PaperReceipt implements Session.
func (s *session) PaperReceipt(ctx context.Context, id string) (receipt.Receipt, error) {
	if err := s.active(); err != nil {
		return receipt.Receipt{}, err
	}
	st, err := s.app.store()
	if err != nil {
		return receipt.Receipt{}, err
	}
	return PaperReceipt(ctx, st, id, s.officer.ID)
}

// ReceiptDir is where receipts that were not printed are kept, inside the data directory.
func ReceiptDir(dataDir string) string { return filepath.Join(dataDir, "out") }
