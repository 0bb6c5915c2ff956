package store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/clock"
)

// Roll-back defence. A row MAC says a row was written by this kiosk, not that it is the newest
// row: a whole older kiosk.db copied back, or the audit tail deleted together with an older
// sealed audit_head, is internally consistent. Two anchors outside the file catch that:
//
//   - the anchor file beside the database (kiosk.db.anchor): the newest audit entry (sequence
//     number and chain hash) and outbox sequence number, MACed, rewritten after every commit
//     that moves them. Open refuses a database behind its anchor (ErrRolledBack), and a
//     database without one once it has had one (its data key is wrapped for schema 2, see
//     wrapAADRowMACs). It does not help against someone who copies back the anchor file too.
//   - the audit head (AuditHead) every push carries and audit checkpoint records in the
//     outbox, signed by the device key, which the registry keeps: a roll-back behind the
//     newest head or checkpoint the registry holds is refused at the next push, even for
//     someone with the unlock secret (sync/registry/push_head.go).

// ErrRolledBack: the database is older than what this kiosk recorded outside it.
var ErrRolledBack = &kiosk.Error{Code: "store.rolled_back", Msg: kiosk.Message{
	ID: "Basis data kiosk lebih lama daripada catatan terakhirnya (disalin ulang atau dipulihkan); laporkan ke supervisor dan hubungi petugas TI.",
	EN: "The kiosk database is older than its last record (copied back or restored); report it to a supervisor and contact IT support."}}

// DefaultCheckpointEvery is how many audit entries pass between automatic checkpoints.
const DefaultCheckpointEvery = 100

const anchorSuffix = ".anchor"

var anchorMagic = []byte("IKD anchor v1\x00")

// anchorState is where the chain and the outbox stood at a commit.
type anchorState struct {
	auditSeq  int64
	auditHash []byte
	outboxSeq int64
}

func (k *keyring) encodeAnchor(a anchorState) []byte {
	b := append(bytes.Clone(anchorMagic), i64(a.auditSeq)...)
	b = append(b, a.auditHash...)
	b = append(b, i64(a.outboxSeq)...)
	m := hmac.New(sha256.New, k.anchor)
	m.Write(b)
	return m.Sum(b)
}

func (k *keyring) decodeAnchor(b []byte) (anchorState, error) {
	n := len(anchorMagic) + 8 + sha256.Size + 8
	if len(b) != n+sha256.Size || !bytes.HasPrefix(b, anchorMagic) {
		return anchorState{}, errors.New("anchor file is malformed")
	}
	m := hmac.New(sha256.New, k.anchor)
	m.Write(b[:n])
	if !hmac.Equal(m.Sum(nil), b[n:]) {
		return anchorState{}, errors.New("anchor file seal is invalid (written by another kiosk or edited)")
	}
	b = b[len(anchorMagic):]
	return anchorState{auditSeq: int64(binary.BigEndian.Uint64(b)), auditHash: bytes.Clone(b[8 : 8+sha256.Size]),
		outboxSeq: int64(binary.BigEndian.Uint64(b[8+sha256.Size:]))}, nil
}

// currentAnchor reads where the store stands now.
func (s *Store) currentAnchor(ctx context.Context, q querier) (anchorState, error) {
	seq, h, err := s.auditHead(ctx, q)
	if err != nil {
		return anchorState{}, err
	}
	oh, err := s.outboxHead(ctx, q)
	if err != nil {
		return anchorState{}, err
	}
	return anchorState{auditSeq: seq, auditHash: bytes.Clone(h), outboxSeq: oh.last}, nil
}

// checkAnchor compares the database with its anchor file (anchorStatus). A store that never
// had one (migrated just now) gets one; with Options.Reanchor a missing or older anchor is
// replaced and the reset recorded in the audit log.
func (s *Store) checkAnchor(ctx context.Context) error {
	err := s.anchorStatus(ctx, s.db)
	switch {
	case errors.Is(err, errNoAnchor):
		slog.InfoContext(ctx, "store: no anchor file; writing one", "path", s.path+anchorSuffix)
		cur, err := s.currentAnchor(ctx, s.db)
		if err != nil {
			return err
		}
		s.updateAnchor(ctx, cur)
		return nil
	case errors.Is(err, ErrRolledBack) && s.opts.Reanchor:
		slog.WarnContext(ctx, "store: anchor reset by the operator", "path", s.path+anchorSuffix, "was", err)
		if err := os.Remove(s.path + anchorSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("reset anchor: %w", err)
		}
		// The audit entry's commit writes the fresh anchor; the registry still sees the
		// roll-back at the next push.
		cause := err
		if u := errors.Unwrap(err); u != nil {
			cause = u
		}
		return s.write(ctx, func(tx *sql.Tx) error {
			return s.appendAudit(ctx, tx, kiosk.AuditEvent{Time: s.now(), OfficerID: OperatorActor,
				Action: "store.reanchored", Subject: s.kioskID, Detail: cause.Error()})
		})
	}
	return err
}

// errNoAnchor: the store has no anchor file and never had one.
var errNoAnchor = errors.New("no anchor file yet")

// anchorStatus returns nil when the database has reached its anchor, errNoAnchor for a store
// that never had one, and ErrRolledBack when it is behind the anchor, the anchor is malformed
// or sealed by another kiosk, or a store that had one has lost it.
func (s *Store) anchorStatus(ctx context.Context, q querier) error {
	b, err := os.ReadFile(s.path + anchorSuffix)
	switch {
	case errors.Is(err, fs.ErrNotExist) && s.anchored:
		return ErrRolledBack.With(errors.New("anchor file is missing (deleted, or the database was copied without it)"))
	case errors.Is(err, fs.ErrNotExist):
		return errNoAnchor
	case err != nil:
		return fmt.Errorf("read anchor: %w", err)
	case len(b) > 1024:
		return ErrRolledBack.With(errors.New("anchor file is malformed"))
	}
	a, err := s.keys.decodeAnchor(b)
	if err != nil {
		return ErrRolledBack.With(err)
	}
	return s.behind(ctx, q, a)
}

// behind returns ErrRolledBack when the store is behind a.
func (s *Store) behind(ctx context.Context, q querier, a anchorState) error {
	cur, err := s.currentAnchor(ctx, q)
	if err != nil {
		return err
	}
	if cur.auditSeq < a.auditSeq {
		return ErrRolledBack.With(fmt.Errorf("audit log ends at entry %d, the anchor has seen entry %d", cur.auditSeq, a.auditSeq))
	}
	if cur.outboxSeq < a.outboxSeq {
		return ErrRolledBack.With(fmt.Errorf("outbox ends at record %d, the anchor has seen record %d", cur.outboxSeq, a.outboxSeq))
	}
	var h []byte
	err = q.QueryRowContext(ctx, "SELECT hash FROM audit WHERE seq = ?", a.auditSeq).Scan(&h)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return classify(err)
	}
	if a.auditSeq > 0 && !bytes.Equal(h, a.auditHash) {
		return ErrRolledBack.With(fmt.Errorf("audit entry %d differs from the anchored one (history rewritten)", a.auditSeq))
	}
	return nil
}

// updateAnchor rewrites the anchor file when the store has moved to cur. Best effort: a
// failure only weakens the defence, so it is logged, never returned to the committed write.
func (s *Store) updateAnchor(ctx context.Context, cur anchorState) {
	if s.path == "" {
		return
	}
	if err := s.writeAnchor(s.path, cur); err != nil {
		slog.WarnContext(ctx, "store: anchor not updated", "err", err)
	}
}

// writeAnchor writes cur as the anchor of the database at dbPath, unless the anchor there has
// already seen as much (a later commit, or another process sharing the store).
func (s *Store) writeAnchor(dbPath string, cur anchorState) error {
	s.anchorMu.Lock()
	defer s.anchorMu.Unlock()
	path := dbPath + anchorSuffix
	if b, err := os.ReadFile(path); err == nil {
		if old, err := s.keys.decodeAnchor(b); err == nil && old.auditSeq >= cur.auditSeq && old.outboxSeq >= cur.outboxSeq {
			return nil
		}
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	if err := writeSynced(tmp, s.keys.encodeAnchor(cur)); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// afterCommit runs after every committed write: the anchor follows the store, and a
// checkpoint is queued every CheckpointEvery audit entries.
func (s *Store) afterCommit(ctx context.Context) {
	cur, err := s.currentAnchor(ctx, s.db)
	if err != nil {
		slog.WarnContext(ctx, "store: anchor not updated", "err", err)
		return
	}
	s.updateAnchor(ctx, cur)
	if s.sealer == nil {
		return
	}
	v, err := getMeta(ctx, s.db, metaCheckpointSeq)
	if err != nil {
		return
	}
	// An edited or missing mark counts as no checkpoint yet: tampering brings the next
	// checkpoint forward rather than suppressing it.
	var last int64
	if len(v) == 8+sha256.Size && s.keys.checkRow("checkpoint", macFields{v[:8]}, v[8:]) {
		last = int64(binary.BigEndian.Uint64(v))
	}
	if cur.auditSeq-last < s.opts.CheckpointEvery {
		return
	}
	if _, err := s.Checkpoint(ctx); err != nil {
		slog.WarnContext(ctx, "store: checkpoint not queued", "err", err)
	}
}

// metaCheckpointSeq is the audit entry of the newest checkpoint (8 bytes), MACed.
const metaCheckpointSeq = "checkpoint_seq"

// ErrNoSealer: Checkpoint needs Options.NewSealer.
var ErrNoSealer = &kiosk.Error{Code: "store.no_sealer", Msg: msgInternalError}

// Checkpoint queues a signed audit checkpoint record: the newest audit entry and outbox record
// as they stand now. It returns the checkpoint.
func (s *Store) Checkpoint(ctx context.Context) (kiosk.AuditCheckpoint, error) {
	if s.sealer == nil {
		return kiosk.AuditCheckpoint{}, ErrNoSealer
	}
	u, err := uuid.NewV7()
	if err != nil {
		return kiosk.AuditCheckpoint{}, fmt.Errorf("checkpoint id: %w", err)
	}
	c := kiosk.AuditCheckpoint{ID: u.String(), KioskID: s.kioskID, At: s.now().UTC()}
	err = s.write(ctx, func(tx *sql.Tx) error {
		cur, err := s.currentAnchor(ctx, tx)
		if err != nil {
			return err
		}
		c.AuditSeq, c.AuditHash, c.OutboxSeq = cur.auditSeq, cur.auditHash, cur.outboxSeq
		env, err := s.sealer.Seal(kiosk.KindAuditCheckpoint, c.ID, c)
		if err != nil {
			return err
		}
		// The checkpoint's own audit entry is the next one: counting from it, a checkpoint
		// never triggers another.
		mark := i64(cur.auditSeq + 1)
		if err := setMeta(ctx, tx, metaCheckpointSeq, append(mark, s.keys.rowMAC("checkpoint", macFields{mark})...)); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, kiosk.OutboxRecord{ID: c.ID, Kind: kiosk.KindAuditCheckpoint, Envelope: env,
			CreatedAt: c.At}, kiosk.AuditEvent{Time: c.At, Action: "audit.checkpoint", Subject: c.ID,
			Detail: fmt.Sprintf("audit entry %d, outbox record %d", c.AuditSeq, c.OutboxSeq)})
	})
	if err != nil {
		return kiosk.AuditCheckpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	return c, nil
}

// The store's own clock (lockout times) is kiosk/clock's anchored clock. Its anchor is kept
// in meta under the row key, so editing it cannot move lockout times either.
const metaClockAnchor = "clock_anchor"

func (s *Store) initClock(saved []byte) {
	if s.opts.Now != nil {
		return
	}
	m := clock.System()
	if len(saved) == 16+sha256.Size && s.keys.checkRow("clock", macFields{saved[:16]}, saved[16:]) {
		s.clock = clock.Restore(clock.Anchor{
			Registry: time.Unix(0, int64(binary.BigEndian.Uint64(saved))),
			Wall:     time.Unix(0, int64(binary.BigEndian.Uint64(saved[8:])))}, m)
		return
	}
	// Never synced: start from the wall clock, then count monotonically, so setting the PC's
	// clock forward while the kiosk runs does not end a lockout.
	s.clock = clock.New(m)
	s.clock.Anchor(m.Read().Wall)
}

// AnchorClock sets the store's clock to the registry's time seen at a sync and persists it.
func (s *Store) AnchorClock(ctx context.Context, registryTime time.Time) error {
	if s.clock == nil {
		return nil
	}
	s.clock.Anchor(registryTime)
	return s.saveClock(ctx)
}

func (s *Store) saveClock(ctx context.Context) error {
	if s.clock == nil {
		return nil
	}
	a, ok := s.clock.Save()
	if !ok {
		return nil
	}
	b := append(i64(a.Registry.UnixNano()), i64(a.Wall.UnixNano())...)
	b = append(b, s.keys.rowMAC("clock", macFields{b})...)
	if err := setMeta(ctx, s.db, metaClockAnchor, b); err != nil {
		return fmt.Errorf("save clock anchor: %w", classify(err))
	}
	return nil
}

// writeSynced writes a new file and flushes it before it is renamed into place: some
// filesystems can otherwise leave an empty file under the new name after a power cut, and an
// empty anchor reads as a roll-back that locks the kiosk until an operator resets it.
func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Now is the store's time: the registry-anchored clock (or Options.Now). It is the time the
// kiosk signs its sync requests with.
func (s *Store) Now() time.Time { return s.now() }

// ClockStatus says where the store's time comes from ("synced", "restored", "unanchored"),
// for the officer's status line; "external" when Options.Now sets the clock.
func (s *Store) ClockStatus() string {
	if s.clock == nil {
		return "external"
	}
	return s.clock.Status().String()
}
