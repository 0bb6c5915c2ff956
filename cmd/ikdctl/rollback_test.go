package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ikd-field/ikd/internal/pgtest"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/sqlstore"
)

// TestRollbackCaughtAtNextSync copies kiosk.db and its anchor aside after a sync, syncs more
// activations, puts the old copy back (which passes every check on the kiosk) and makes a new
// activation: the next push is refused at once with audit.rollback, the registry accepts
// nothing of it, and the kiosk keeps the record and reports the halt.
func TestRollbackCaughtAtNextSync(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) registry.Store
	}{
		{"SQLite", func(t *testing.T) registry.Store {
			st, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "registry.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}},
		{"PostgreSQL", func(t *testing.T) registry.Store {
			st, err := sqlstore.OpenPostgres(context.Background(), pgtest.FreshDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { testRollbackCaught(t, tc.open(t)) })
	}
}

func testRollbackCaught(t *testing.T, st registry.Store) {
	ctx := context.Background()
	hs := serveRegistry(t, st)
	data, secret := initStore(t)
	flags := []string{"--data", data, "--secret-file", secret}
	enrollCode, err := registry.NewEnrollCode(ctx, st, "Cibinong", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runStoreCLI(t, append([]string{"enroll", "--registry", hs.URL, "--code", enrollCode}, flags...)...); code != 0 {
		t.Fatalf("enroll: exit %d: %s%s", code, out, errOut)
	}
	provisionRegistry(t, st)
	next := 0
	activate := func(n int) (ids []string) {
		t.Helper()
		s, err := openStore(ctx, data, secret)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for range n {
			id, _ := enqueueActivation(t, hs.URL, s, snapshot.Synthetic(3, next).NIK)
			ids = append(ids, id)
			next++
		}
		return ids
	}
	sync := func() (int, string, string) {
		t.Helper()
		return runStoreCLI(t, append([]string{"sync"}, flags...)...)
	}
	accepted := func() int64 {
		t.Helper()
		stats, err := st.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return stats.ActivationsAccepted
	}

	activate(1)
	if code, out, errOut := sync(); code != 0 || !strings.Contains(out, "acknowledged 1, rejected 0") {
		t.Fatalf("first sync: exit %d: %s%s", code, out, errOut)
	}
	dbPath := storePath(data)
	old := t.TempDir()
	copyStoreFiles(t, dbPath, old)

	activate(2)
	if code, out, errOut := sync(); code != 0 || !strings.Contains(out, "acknowledged 2, rejected 0") {
		t.Fatalf("sync after the copy: exit %d: %s%s", code, out, errOut)
	}
	if n := accepted(); n != 3 {
		t.Fatalf("%d activations accepted before the roll-back, want 3", n)
	}

	// The old copy comes back with its own anchor: the kiosk cannot tell.
	for _, suffix := range []string{"", "-wal", "-shm", ".anchor"} {
		if err := os.Remove(dbPath + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
	copyStoreFiles(t, filepath.Join(old, filepath.Base(dbPath)), filepath.Dir(dbPath))
	ids := activate(1)

	t.Setenv("LANG", "id_ID.UTF-8")
	code, out, errOut := sync()
	if code != 1 || !strings.Contains(out, "push: sent 0, acknowledged 0, rejected 0") ||
		!strings.Contains(errOut, ikdsync.ErrAuditRollback.Msg.ID) {
		t.Fatalf("sync of the rolled-back kiosk: exit %d: %s%s; want the push refused with %s", code, out, errOut, ikdsync.ErrAuditRollback.Code)
	}
	if n := accepted(); n != 3 {
		t.Errorf("%d activations accepted after the roll-back, want still 3", n)
	}
	err = st.InTx(ctx, func(ctx context.Context, tx registry.Tx) error {
		_, err := tx.Record(ctx, ids[0])
		return err
	})
	if !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("the new activation at the registry: %v, want not stored", err)
	}

	// The kiosk reports the halt, keeps the record and pushes no more.
	code, out, _ = runStoreCLI(t, append([]string{"sync", "status"}, flags...)...)
	if code != 0 || !strings.Contains(out, "SYNC HALTED: "+ikdsync.ErrAuditRollback.Msg.ID) || !strings.Contains(out, "sent 1 acknowledged 1") {
		t.Errorf("sync status: exit %d: %s; want the halt and the record still to be answered", code, out)
	}
	s, err := store.Open(ctx, dbPath, []byte("kata-sandi-kiosk"), storeOptions())
	if err != nil {
		t.Fatal(err)
	}
	engine, err := newEngine(ctx, s, nil, ikdsync.DefaultBatch)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.Push(ctx); !errors.Is(err, ikdsync.ErrAuditRollback) {
		t.Errorf("push of the halted kiosk: %v, want audit.rollback", err)
	}
	if h := engine.Status().Halted; h == nil || h.Code != ikdsync.ErrAuditRollback.Code {
		t.Errorf("engine status halted %v, want audit.rollback", h)
	}
	s.Close()
}

// enqueueActivation registers a citizen with nik at the registry and queues an approved
// activation of it in s, returning the record id.
func enqueueActivation(t *testing.T, registryURL string, s *store.Store, nik kiosk.NIK) (recordID, regID string) {
	t.Helper()
	ctx := context.Background()
	reg := registerCitizen(t, registryURL, nik)
	sealer, err := ikdsync.NewSealer(s.KioskID(), s.DeviceKey())
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.Must(uuid.NewV7()).String()
	act := kiosk.Activation{ID: id, RegistrationID: reg.RegistrationID, NIK: nik, OfficerID: "sup1", KioskID: s.KioskID(),
		TokenKeyID: "reg-test", FaceBand: kiosk.BandMatch, FaceScore: 0.2, ApprovedAt: time.Now()}
	env, err := sealer.Seal(kiosk.KindActivation, id, act)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Enqueue(ctx, kiosk.OutboxRecord{ID: id, Kind: kiosk.KindActivation, NIK: nik, RegistrationID: reg.RegistrationID,
		Envelope: env, State: kiosk.RecordPending, CreatedAt: time.Now()},
		kiosk.AuditEvent{Time: time.Now(), OfficerID: "sup1", Action: "activation.approved", Subject: id})
	if err != nil {
		t.Fatal(err)
	}
	return id, reg.RegistrationID
}

// copyStoreFiles copies the database at dbPath and the files that belong to it (WAL, shared
// memory, anchor) into dir.
func copyStoreFiles(t *testing.T, dbPath, dir string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm", ".anchor"} {
		b, err := os.ReadFile(dbPath + suffix)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(dbPath)+suffix), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
