package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/ikd-field/ikd/sync/registry"
)

func testAuditHeads(t *testing.T, s registry.Store) {
	h1 := registry.AuditHead{KioskID: "k1", AuditSeq: 10, AuditHash: []byte{9, 9}, OutboxSeq: 4, At: at(0)}
	h2 := registry.AuditHead{KioskID: "k1", AuditSeq: 20, AuditHash: []byte{8}, OutboxSeq: 7, At: at(time.Hour).In(wib)}
	other := registry.AuditHead{KioskID: "k2", AuditSeq: 1, OutboxSeq: 1, At: at(0)}
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		_, err := tx.AuditHead(ctx, "k1")
		isErr(t, "no audit head", err, registry.ErrNotFound)
		for _, h := range []registry.AuditHead{h1, other, h2} {
			if err := tx.PutAuditHead(ctx, h); err != nil {
				return err
			}
		}
		return nil
	})
	h2.At = h2.At.UTC()
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, want := range []registry.AuditHead{h2, other} {
			got, err := tx.AuditHead(ctx, want.KioskID)
			if err != nil {
				return err
			}
			eq(t, "audit head "+want.KioskID, got, want)
		}
		// Audit heads are not checkpoints: each has its own row.
		_, err := tx.Checkpoint(ctx, "k1")
		isErr(t, "checkpoint beside an audit head", err, registry.ErrNotFound)
		return nil
	})
}

// testReadsBesideWriter holds a write transaction open and reads meanwhile: a read
// transaction (a pull's changes, the device listing), Stats and MailBacklog must answer while
// the writer is provably still inside its transaction, from the snapshot before it. The
// deadline only turns a read that waits for the writer into a failure instead of a hang.
func testReadsBesideWriter(t *testing.T, s registry.Store) {
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		if err := tx.InsertDevice(ctx, registry.Device{KioskID: "k-old", PublicKey: key(1), Area: "A", EnrolledAt: at(0)}); err != nil {
			return err
		}
		return tx.PutKey(ctx, registry.KeyRow{KeyID: "key-1", PublicKey: key(2)})
	})
	inside, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.InTx(context.Background(), func(ctx context.Context, tx registry.Tx) error {
			if err := tx.InsertDevice(ctx, registry.Device{KioskID: "k-new", PublicKey: key(3), Area: "A", EnrolledAt: at(0)}); err != nil {
				return err
			}
			if err := tx.PutKey(ctx, registry.KeyRow{KeyID: "key-2", PublicKey: key(4)}); err != nil {
				return err
			}
			close(inside)
			<-release
			return nil
		})
	}()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	select {
	case <-inside:
	case err := <-done:
		t.Fatalf("writer ended before holding its transaction: %v", err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var ch registry.Changes
	err := s.InReadTx(ctx, func(ctx context.Context, tx registry.ReadTx) error {
		var err error
		ch, err = tx.Changes(ctx, "A", 0, 100)
		return err
	})
	if err != nil {
		t.Fatalf("changes beside a writer: %v", err)
	}
	if len(ch.Keys) != 1 || ch.Keys[0].KeyID != "key-1" {
		t.Errorf("changes beside a writer: keys %+v, want key-1 only (the writer has not committed)", ch.Keys)
	}
	devs, err := registry.ListDevices(ctx, s)
	if err != nil {
		t.Fatalf("devices beside a writer: %v", err)
	}
	if len(devs) != 1 || devs[0].KioskID != "k-old" {
		t.Errorf("devices beside a writer: %+v, want k-old only", devs)
	}
	if st, err := s.Stats(ctx); err != nil || st.Devices != 1 {
		t.Errorf("stats beside a writer: %+v, %v; want 1 device", st, err)
	}
	if _, _, err := s.MailBacklog(ctx); err != nil {
		t.Errorf("mail backlog beside a writer: %v", err)
	}
	select {
	case err := <-done:
		t.Fatalf("the writer left its transaction during the reads (%v): the test proves nothing", err)
	default:
	}

	close(release)
	if err := <-done; err != nil {
		t.Fatalf("writer: %v", err)
	}
	devs, err = registry.ListDevices(ctx, s)
	if err != nil || len(devs) != 2 {
		t.Errorf("devices after the writer committed: %+v, %v; want 2", devs, err)
	}
}
