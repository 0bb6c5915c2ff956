package syncbench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	gosync "sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
)

// kioskSecret unlocks the benchmark's kiosk stores.
var kioskSecret = []byte("bench-kiosk-unlock-secret")

// kioskOptions are the tests' store options: the cheapest argon2id the store accepts, since
// the unlock is not what is measured.
func kioskOptions() store.Options {
	return store.Options{KDF: store.MinKDF, PIN: store.PINParams(store.MinKDF)}
}

// newKiosk creates a kiosk store in dir, enrolls it and returns it with its engine.
func newKiosk(ctx context.Context, reg *registryEnv, path string) (*store.Store, *ikdsync.Engine, error) {
	ks, err := store.Create(ctx, path, kioskSecret, kioskOptions())
	if err != nil {
		return nil, nil, fmt.Errorf("create kiosk store: %w", err)
	}
	c, err := reg.enroll(ctx, ks.KioskID(), ks.DeviceKey(), newHTTPClient())
	if err != nil {
		ks.Close()
		return nil, nil, err
	}
	eng, err := ikdsync.NewEngine(ikdsync.EngineConfig{Store: ks, Client: c, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		ks.Close()
		return nil, nil, err
	}
	return ks, eng, nil
}

// Drain is one kiosk with a full outbox and a registry to push it to.
type Drain struct {
	reg *registryEnv
	ks  *store.Store
	eng *ikdsync.Engine
	n   int
}

// DrainResult is what a drain measured.
type DrainResult struct {
	Records, Acknowledged int
	Elapsed               time.Duration
	Bytes                 int64 // on the wire, both directions, during the push
}

// PrepareDrain builds a kiosk store in dir with n activations queued (each sealed with the
// kiosk's device key for a registration that exists at the registry, and enqueued as an
// approval is) and enrolls the kiosk with a registry on st.
func PrepareDrain(ctx context.Context, dir string, st registry.Store, n int) (_ *Drain, err error) {
	reg, err := startRegistry(ctx, st)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			reg.Close()
		}
	}()
	ks, eng, err := newKiosk(ctx, reg, filepath.Join(dir, "kiosk-drain.db"))
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			ks.Close()
		}
	}()
	regs, err := insertRegistrations(ctx, st, 0, n)
	if err != nil {
		return nil, err
	}
	sealer, err := ikdsync.NewSealer(ks.KioskID(), ks.DeviceKey())
	if err != nil {
		return nil, err
	}
	approved := time.Now().UTC().Truncate(time.Millisecond)
	for _, r := range regs {
		id, env, err := sealActivation(sealer, ks.KioskID(), r, approved)
		if err != nil {
			return nil, err
		}
		if err := ks.Enqueue(ctx, kiosk.OutboxRecord{ID: id, Kind: kiosk.KindActivation, NIK: r.NIK, RegistrationID: r.ID,
			Envelope: env}, kiosk.AuditEvent{OfficerID: benchOfficer, Action: "activation.approved", Subject: id}); err != nil {
			return nil, err
		}
	}
	return &Drain{reg: reg, ks: ks, eng: eng, n: n}, nil
}

// Run pushes the whole outbox with Engine.Push and checks that every record was
// acknowledged.
func (d *Drain) Run(ctx context.Context) (DrainResult, error) {
	before := d.reg.listener.Bytes()
	start := time.Now()
	res, err := d.eng.Push(ctx)
	elapsed := time.Since(start)
	out := DrainResult{Records: d.n, Acknowledged: res.Acknowledged, Elapsed: elapsed,
		Bytes: d.reg.listener.Bytes() - before}
	if err != nil {
		return out, fmt.Errorf("drain: %w", err)
	}
	counts, err := d.ks.RecordCounts(ctx)
	if err != nil {
		return out, fmt.Errorf("drain: count outbox: %w", err)
	}
	if got := counts[kiosk.RecordAcknowledged]; got != d.n || res.Acknowledged != d.n {
		return out, fmt.Errorf("drain: %d of %d records acknowledged in the outbox (%d by the engine, %d rejected)",
			got, d.n, res.Acknowledged, res.Rejected)
	}
	return out, nil
}

// Close stops the registry and closes the kiosk store.
func (d *Drain) Close() error { return errors.Join(d.reg.Close(), d.ks.Close()) }

// Ingest is a fleet of enrolled kiosk simulators, each with its own device key and its
// activations sealed for registrations of its own, ready to push.
type Ingest struct {
	reg     *registryEnv
	kiosks  []*ingestKiosk
	n       int
	records []registry.StoredRecord // what the registry will store, for BulkInsert
	pubs    map[string]ed25519.PublicKey
}

type ingestKiosk struct {
	client  *ikdsync.Client
	batches [][][]byte
}

// IngestResult is what an ingest run measured.
type IngestResult struct {
	Records, Accepted int
	Elapsed           time.Duration
}

// RPS is records per second of wall time.
func (r IngestResult) RPS() float64 { return float64(r.Records) / r.Elapsed.Seconds() }

// PrepareIngest enrolls kiosks simulators with a registry on st and seals n activations
// between them (distinct registrations, created at the registry), in batches of
// ikdsync.DefaultBatch.
func PrepareIngest(ctx context.Context, st registry.Store, kiosks, n int) (_ *Ingest, err error) {
	if kiosks < 1 || n < kiosks {
		return nil, fmt.Errorf("ingest: %d records for %d kiosks", n, kiosks)
	}
	reg, err := startRegistry(ctx, st)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			reg.Close()
		}
	}()
	regs, err := insertRegistrations(ctx, st, 0, n)
	if err != nil {
		return nil, err
	}
	in := &Ingest{reg: reg, n: n, pubs: map[string]ed25519.PublicKey{}}
	approved := time.Now().UTC().Truncate(time.Millisecond)
	for k := range kiosks {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("kiosk key: %w", err)
		}
		id := "kiosk-bench-" + uuid.NewString()[:8]
		c, err := reg.enroll(ctx, id, key, newHTTPClient())
		if err != nil {
			return nil, err
		}
		in.pubs[id] = key.Public().(ed25519.PublicKey)
		sealer, err := ikdsync.NewSealer(id, key)
		if err != nil {
			return nil, err
		}
		ik := &ingestKiosk{client: c}
		// Kiosk k gets every kiosks-th registration, so all kiosks have work until the end.
		var batch [][]byte
		for i := k; i < n; i += kiosks {
			recID, env, err := sealActivation(sealer, id, regs[i], approved)
			if err != nil {
				return nil, err
			}
			in.records = append(in.records, registry.StoredRecord{ID: recID, KioskID: id, Kind: kiosk.KindActivation,
				RegistrationID: regs[i].ID, NIK: string(regs[i].NIK), At: approved, ReceivedAt: time.Now(),
				Status: ikdsync.StatusAccepted, Envelope: env})
			batch = append(batch, env)
			if len(batch) == ikdsync.DefaultBatch {
				ik.batches, batch = append(ik.batches, batch), nil
			}
		}
		if len(batch) > 0 {
			ik.batches = append(ik.batches, batch)
		}
		in.kiosks = append(in.kiosks, ik)
	}
	return in, nil
}

// Run has every kiosk push its batches one after another, all kiosks at once, and checks
// that every record was accepted.
func (in *Ingest) Run(ctx context.Context) (IngestResult, error) {
	var (
		wg       gosync.WaitGroup
		mu       gosync.Mutex
		accepted int
		errs     []error
	)
	start := time.Now()
	for _, k := range in.kiosks {
		wg.Go(func() {
			ok := 0
			for _, b := range k.batches {
				resp, err := k.client.Push(ctx, b, nil)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				for _, a := range resp.Answers {
					if a.Status == ikdsync.StatusAccepted {
						ok++
					}
				}
			}
			mu.Lock()
			accepted += ok
			mu.Unlock()
		})
	}
	wg.Wait()
	res := IngestResult{Records: in.n, Accepted: accepted, Elapsed: time.Since(start)}
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("ingest: %w", err)
	}
	if accepted != in.n {
		return res, fmt.Errorf("ingest: %d of %d records accepted", accepted, in.n)
	}
	return res, nil
}

// VerifyFloor verifies the signatures of the fleet's records, and nothing else, on every core
// the registry has (GOMAXPROCS goroutines): the rate no ingest can beat, since the registry
// checks each record's signature.
func (in *Ingest) VerifyFloor() (IngestResult, error) {
	var (
		next atomic.Int64
		wg   gosync.WaitGroup
		errs = make([]error, runtime.GOMAXPROCS(0))
	)
	start := time.Now()
	for w := range errs {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(in.records)); i = next.Add(1) - 1 {
				r := in.records[i]
				if err := ikdsync.VerifySignature(r.Envelope, in.pubs[r.KioskID]); err != nil {
					errs[w] = fmt.Errorf("signature floor: record %s: %w", r.ID, err)
					return
				}
			}
		})
	}
	wg.Wait()
	res := IngestResult{Records: len(in.records), Accepted: len(in.records), Elapsed: time.Since(start)}
	return res, errors.Join(errs...)
}

// Records returns the rows the registry stores for this fleet's records: the same shapes
// (ids, envelopes, kinds) for the bulk yardstick.
func (in *Ingest) Records() []registry.StoredRecord { return in.records }

// Close stops the registry.
func (in *Ingest) Close() error { return in.reg.Close() }

// BulkInsert times st.BulkInsertRecords of recs, the database's fastest path with no rules:
// the yardstick ingest is compared with.
func BulkInsert(ctx context.Context, st registry.Store, recs []registry.StoredRecord) (IngestResult, error) {
	start := time.Now()
	if err := st.BulkInsertRecords(ctx, recs); err != nil {
		return IngestResult{}, fmt.Errorf("bulk insert: %w", err)
	}
	return IngestResult{Records: len(recs), Accepted: len(recs), Elapsed: time.Since(start)}, nil
}

// Snapshot is a registry holding a population and a new kiosk with an empty store.
type Snapshot struct {
	reg *registryEnv
	ks  *store.Store
	eng *ikdsync.Engine
	n   int
}

// SnapshotResult is what a first full pull measured.
type SnapshotResult struct {
	Residents, Added, Pages int
	Elapsed                 time.Duration
	Bytes                   int64 // on the wire, both directions, during the pull
}

// PrepareSnapshot imports n synthetic residents (one reference descriptor each) into st the
// way `ikd-registry residents import` does and enrolls a kiosk with an empty store in dir.
func PrepareSnapshot(ctx context.Context, dir string, st registry.Store, n int) (_ *Snapshot, err error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(snapshot.WriteSynthetic(pw, 1, n)) }()
	rep, err := registry.ImportResidents(ctx, st, pr)
	pr.Close()
	if err != nil {
		return nil, err
	}
	if rep.Residents != n {
		return nil, fmt.Errorf("snapshot: %d of %d residents imported", rep.Residents, n)
	}
	reg, err := startRegistry(ctx, st)
	if err != nil {
		return nil, err
	}
	ks, eng, err := newKiosk(ctx, reg, filepath.Join(dir, "kiosk-snapshot.db"))
	if err != nil {
		reg.Close()
		return nil, err
	}
	return &Snapshot{reg: reg, ks: ks, eng: eng, n: n}, nil
}

// Run pulls everything with Engine.Pull and checks that every resident arrived.
func (s *Snapshot) Run(ctx context.Context) (SnapshotResult, error) {
	before := s.reg.listener.Bytes()
	start := time.Now()
	res, err := s.eng.Pull(ctx)
	out := SnapshotResult{Residents: s.n, Added: res.Counts.ResidentsAdded, Pages: res.Pages,
		Elapsed: time.Since(start), Bytes: s.reg.listener.Bytes() - before}
	if err != nil {
		return out, fmt.Errorf("snapshot pull: %w", err)
	}
	if out.Added != s.n {
		return out, fmt.Errorf("snapshot pull: %d of %d residents added", out.Added, s.n)
	}
	return out, nil
}

// Close stops the registry and closes the kiosk store.
func (s *Snapshot) Close() error { return errors.Join(s.reg.Close(), s.ks.Close()) }
