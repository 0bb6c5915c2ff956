package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	ikdsync "github.com/ikd-field/ikd/sync"
)

// The audit head a push carries (sync.PushHead) is checked in the push's transaction, before
// any record: a kiosk whose database went back in time gets its whole push refused with
// ErrAuditRollback and nothing of it is stored. The head is compared with the newest head
// the kiosk pushed with and with its newest checkpoint. It went back when its audit sequence
// number is lower, when the number is the same but the hash differs, or when its outbox
// sequence number is lower. A head further along is accepted and recorded: without the audit
// entries in between the registry cannot check that it extends the chain it saw, so a
// copied-back database that has since written more audit entries than the registry last saw
// passes this check (its outbox sequence number still has to catch up too, and its
// checkpoints are still checked when they arrive).
//
// A push without a head comes from a kiosk built before heads existed; it is answered as
// before, and such a kiosk is protected by its checkpoints alone.

// checkPushHeadForm refuses a head that cannot be a kiosk's.
func checkPushHeadForm(h *ikdsync.PushHead) error {
	if h != nil && (h.AuditSeq < 0 || h.OutboxSeq < 0 || len(h.AuditHash) != sha256.Size) {
		return ikdsync.ErrMessageMalformed.With(fmt.Errorf("audit head: seq %d, %d-byte hash, outbox seq %d",
			h.AuditSeq, len(h.AuditHash), h.OutboxSeq))
	}
	return nil
}

// checkPushHead compares h with what tx holds for the kiosk and records it when it moved on.
func (s *Server) checkPushHead(ctx context.Context, tx Tx, kioskID string, h *ikdsync.PushHead, now time.Time) error {
	if h == nil {
		return nil
	}
	prev, err := tx.AuditHead(ctx, kioskID)
	seen := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("audit head of %s: %w", kioskID, err)
	}
	if seen {
		if err := s.headBehind(kioskID, "pushed", h, prev.AuditSeq, prev.AuditHash, prev.OutboxSeq); err != nil {
			return err
		}
	}
	cp, err := tx.Checkpoint(ctx, kioskID)
	switch {
	case err == nil:
		if err := s.headBehind(kioskID, "checkpoint", h, cp.AuditSeq, cp.AuditHash, cp.OutboxSeq); err != nil {
			return err
		}
	case !errors.Is(err, ErrNotFound):
		return fmt.Errorf("checkpoint of %s: %w", kioskID, err)
	}
	if seen && h.AuditSeq == prev.AuditSeq && h.OutboxSeq == prev.OutboxSeq {
		return nil
	}
	return tx.PutAuditHead(ctx, AuditHead{KioskID: kioskID, AuditSeq: h.AuditSeq, AuditHash: h.AuditHash,
		OutboxSeq: h.OutboxSeq, At: now})
}

// headBehind returns ErrAuditRollback when h is behind the head (seq, hash, outboxSeq) the
// registry already has from what.
func (s *Server) headBehind(kioskID, what string, h *ikdsync.PushHead, seq int64, hash []byte, outboxSeq int64) error {
	if h.AuditSeq > seq && h.OutboxSeq >= outboxSeq ||
		h.AuditSeq == seq && bytes.Equal(h.AuditHash, hash) && h.OutboxSeq >= outboxSeq {
		return nil
	}
	s.Log.Error("AUDIT ROLLBACK: a kiosk pushed with an audit head older than one already received; push refused",
		"kiosk_id", kioskID, "newest_from", what, "audit_seq", h.AuditSeq, "newest_audit_seq", seq,
		"outbox_seq", h.OutboxSeq, "newest_outbox_seq", outboxSeq)
	return ikdsync.ErrAuditRollback.With(fmt.Errorf("kiosk %q: audit entry %d, outbox record %d; the registry has seen entry %d, record %d (%s)",
		kioskID, h.AuditSeq, h.OutboxSeq, seq, outboxSeq, what))
}
