package kiosktest

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

// FixedClock returns a clock that always says t.
func FixedClock(t time.Time) *Clock {
	return &Clock{NowFn: func() time.Time { return t }}
}

// SequentialIDs returns ids "rec-1", "rec-2", ...; it is safe for concurrent use.
func SequentialIDs() *IDs {
	var n atomic.Int64
	return &IDs{NewIDFn: func() string { return fmt.Sprintf("rec-%d", n.Add(1)) }}
}

// Keyring returns a trust store holding keys, each under its KeyID. Any other kid is
// answered with an error matching kiosk.ErrNotFound.
func Keyring(keys ...kiosk.RegistryKey) *TrustStore {
	byID := make(map[string]kiosk.RegistryKey, len(keys))
	for _, k := range keys {
		byID[k.KeyID] = k
	}
	return &TrustStore{RegistryKeyFn: func(_ context.Context, kid string) (kiosk.RegistryKey, error) {
		k, ok := byID[kid]
		if !ok {
			return kiosk.RegistryKey{}, kiosk.ErrNotFound.With(fmt.Errorf("registry key %q", kid))
		}
		return k, nil
	}}
}

// MemOutbox is an in-memory kiosk.Outbox and kiosk.AuditLog: Enqueue appends to Records and
// Events, Record to Events. Like the store, it refuses an activation whose registration id is
// already in Records with kiosk.ErrAlreadyActivated and then writes nothing; unlike the store,
// it does not refuse a second open deactivation of a NIK.
// Its zero value is an empty outbox. It is not safe for concurrent use.
type MemOutbox struct {
	Records []kiosk.OutboxRecord
	Events  []kiosk.AuditEvent
	// Err, when set, makes Enqueue and Record fail with it and write nothing.
	Err error
}

var (
	_ kiosk.Outbox   = (*MemOutbox)(nil)
	_ kiosk.AuditLog = (*MemOutbox)(nil)
)

// Enqueue implements kiosk.Outbox.
func (m *MemOutbox) Enqueue(_ context.Context, rec kiosk.OutboxRecord, ev kiosk.AuditEvent) error {
	if m.Err != nil {
		return m.Err
	}
	for _, r := range m.Records {
		if rec.Kind == kiosk.KindActivation && r.RegistrationID == rec.RegistrationID {
			return kiosk.ErrAlreadyActivated
		}
	}
	m.Records = append(m.Records, rec)
	m.Events = append(m.Events, ev)
	return nil
}

// RegistrationUsed implements kiosk.Outbox: whether a record of regID is in Records.
func (m *MemOutbox) RegistrationUsed(_ context.Context, regID string) (bool, error) {
	for _, r := range m.Records {
		if r.RegistrationID == regID {
			return true, nil
		}
	}
	return false, nil
}

// Record implements kiosk.AuditLog.
func (m *MemOutbox) Record(_ context.Context, ev kiosk.AuditEvent) error {
	if m.Err != nil {
		return m.Err
	}
	m.Events = append(m.Events, ev)
	return nil
}
