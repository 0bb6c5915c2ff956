package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ikd-field/ikd/kiosk"
)

// metaSyncHalt holds the code of a registry refusal that stops pushes (see HaltSync). It
// carries no MAC: deleting it only lets the kiosk push again, and the registry refuses again.
const metaSyncHalt = "sync_halt"

// AuditHead implements kiosk.SyncStore: the audit head and the outbox head, read in one
// read transaction so they belong to the same commit.
func (s *Store) AuditHead(ctx context.Context) (kiosk.AuditHead, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return kiosk.AuditHead{}, fmt.Errorf("audit head: %w", classify(err))
	}
	defer tx.Rollback()
	cur, err := s.currentAnchor(ctx, tx)
	if err != nil {
		return kiosk.AuditHead{}, fmt.Errorf("audit head: %w", err)
	}
	return kiosk.AuditHead{AuditSeq: cur.auditSeq, AuditHash: cur.auditHash, OutboxSeq: cur.outboxSeq}, nil
}

// HaltSync implements kiosk.SyncStore. The halt lives in the database, so a restart does not
// resume pushing; restoring the newest copy of the database (which has no halt) or enrolling
// the kiosk again are the operator's ways out.
func (s *Store) HaltSync(ctx context.Context, code, detail string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := setMeta(ctx, tx, metaSyncHalt, []byte(code)); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, kiosk.AuditEvent{Time: s.now(), OfficerID: registryActor,
			Action: "sync.halted", Subject: s.kioskID, Detail: code + ": " + detail})
	})
	if err != nil {
		return fmt.Errorf("halt sync: %w", err)
	}
	return nil
}

// SyncHalt implements kiosk.SyncStore.
func (s *Store) SyncHalt(ctx context.Context) (string, error) {
	v, err := getMeta(ctx, s.db, metaSyncHalt)
	if err != nil {
		return "", fmt.Errorf("sync halt: %w", err)
	}
	return string(v), nil
}
