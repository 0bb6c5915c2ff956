package sync

import (
	"context"
	"errors"
	"fmt"

	"github.com/ikd-field/ikd/kiosk"
)

// Roll-back at sync. Every push carries the kiosk's audit head; a registry that has seen this
// kiosk further along refuses the whole push with ErrAuditRollback (a kiosk.db copied back
// together with its anchor file passes every check on the kiosk itself). The kiosk then
// records the refusal in its store and pushes nothing more: records stay in the outbox, and
// the refusal survives a restart, until an operator restores the newest database or enrolls
// the kiosk again.

// errHalted is the cause of the lane error while pushes are halted.
var errHalted = errors.New("pushes stopped after the registry refused this kiosk's audit head; an operator must restore the newest database or enroll the kiosk again")

// halted returns the recorded refusal as the lane's error, nil when pushes may go on.
func (e *Engine) halted(ctx context.Context) error {
	code, err := e.cfg.Store.SyncHalt(ctx)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	if code == "" {
		return nil
	}
	ke := ErrorForCode(code).With(errHalted)
	e.setHalt(ke)
	return ke
}

// pushHead reads the head that goes with a push.
func (e *Engine) pushHead(ctx context.Context) (*PushHead, error) {
	h, err := e.cfg.Store.AuditHead(ctx)
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	return &PushHead{AuditSeq: h.AuditSeq, AuditHash: h.AuditHash, OutboxSeq: h.OutboxSeq}, nil
}

// haltOn records the halt when err is the registry's roll-back refusal, and returns err.
func (e *Engine) haltOn(ctx context.Context, err error) error {
	if !errors.Is(err, ErrAuditRollback) {
		return err
	}
	e.log.Error("sync: THE REGISTRY REFUSED THIS KIOSK'S AUDIT HEAD (database rolled back); pushes stop", "err", err)
	if herr := e.cfg.Store.HaltSync(ctx, ErrAuditRollback.Code, err.Error()); herr != nil {
		// The registry refuses every later push anyway; the halt only saves the round trips.
		e.log.Error("sync: recording the halt", "err", herr)
	}
	e.setHalt(officerError(err))
	return err
}

func (e *Engine) setHalt(ke *kiosk.Error) {
	e.mu.Lock()
	e.halt = ke
	e.mu.Unlock()
}
