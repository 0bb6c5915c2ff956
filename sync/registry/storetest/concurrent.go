package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
)

const workers = 20

// parallel runs fn(i) for i in [0, n) at once, each with store i % len(ss), and fails the test
// on any error.
func parallel(t *testing.T, ss []registry.Store, n int, fn func(i int, s registry.Store) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := fn(i, ss[i%len(ss)]); err != nil {
				errs <- fmt.Errorf("worker %d: %w", i, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// testConcurrentIncrement: read-modify-write through the locking read loses no update.
func testConcurrentIncrement(t *testing.T, ss []registry.Store) {
	in(t, ss[0], func(ctx context.Context, tx registry.Tx) error {
		return tx.InsertRegistration(ctx, registry.Registration{ID: "r1", NIK: "n1", CreatedAt: at(0), Status: registry.RegApproved})
	})
	parallel(t, ss, workers, func(i int, s registry.Store) error {
		return s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error {
			r, err := tx.Registration(ctx, "r1")
			if err != nil {
				return err
			}
			time.Sleep(time.Millisecond) // widen the window between read and write
			r.CodeTries++
			return tx.UpdateRegistration(ctx, r)
		})
	})
	in(t, ss[0], func(ctx context.Context, tx registry.Tx) error {
		r, err := tx.Registration(ctx, "r1")
		if err != nil {
			return err
		}
		eq(t, "CodeTries", r.CodeTries, workers)
		return nil
	})
}

func testConcurrentNonce(t *testing.T, ss []registry.Store) {
	var fresh atomic.Int32
	parallel(t, ss, workers, func(i int, s registry.Store) error {
		var ok bool
		err := s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error {
			var err error
			// A retried fn overwrites ok: what counts is the committed attempt's answer.
			ok, err = tx.UseNonce(ctx, "k1", "same", at(time.Duration(i)))
			return err
		})
		if ok && err == nil {
			fresh.Add(1)
		}
		return err
	})
	eq(t, "fresh uses", fresh.Load(), int32(1))
}

func testConcurrentInsertRecord(t *testing.T, ss []registry.Store) {
	winners := make([]bool, workers)
	parallel(t, ss, workers, func(i int, s registry.Store) error {
		return s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error {
			r := record("same", kiosk.KindActivation, ikdsync.StatusAccepted, at(0))
			r.KioskID = fmt.Sprint("k", i)
			ok, err := tx.InsertRecord(ctx, r)
			winners[i] = ok
			return err
		})
	})
	var won []int
	for i, ok := range winners {
		if ok {
			won = append(won, i)
		}
	}
	if len(won) != 1 {
		t.Fatalf("inserted by %v, want exactly one", won)
	}
	in(t, ss[0], func(ctx context.Context, tx registry.Tx) error {
		r, err := tx.Record(ctx, "same")
		if err != nil {
			return err
		}
		eq(t, "stored record's kiosk", r.KioskID, fmt.Sprint("k", won[0]))
		return nil
	})
}

func testConcurrentClaim(t *testing.T, ss []registry.Store) {
	const n = 50
	in(t, ss[0], func(ctx context.Context, tx registry.Tx) error {
		for i := range n {
			if err := tx.EnqueueMail(ctx, newMail(i)); err != nil {
				return err
			}
		}
		return nil
	})
	got := make([][]string, 2)
	parallel(t, ss, 2, func(i int, s registry.Store) error {
		for {
			ms, err := s.Claim(t.Context(), at(time.Second), time.Hour, 3)
			if err != nil {
				return err
			}
			if len(ms) == 0 {
				return nil
			}
			got[i] = append(got[i], ids(ms)...)
		}
	})
	all := append(slices.Clone(got[0]), got[1]...)
	slices.Sort(all)
	var want []string
	for i := range n {
		want = append(want, newMail(i).ID)
	}
	eq(t, "claimed by both", all, want) // disjoint (no duplicates) and covering
	t.Logf("claimer 0 took %d, claimer 1 took %d", len(got[0]), len(got[1]))
}

// testConcurrentChanges: writers put residents while a reader pages through Changes; the
// reader must see every change exactly once, which holds only if change numbers are in
// commit order.
func testConcurrentChanges(t *testing.T, ss []registry.Store) {
	const writers, perWriter = 4, 25
	total := writers * perWriter * 2
	var done atomic.Bool
	seen := map[int64]string{}
	var readErr error
	var rd sync.WaitGroup
	rd.Add(1)
	go func() {
		defer rd.Done()
		s := ss[len(ss)-1]
		after := int64(0)
		for len(seen) < total {
			finished := done.Load()
			var ch registry.Changes
			err := s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error {
				var err error
				ch, err = tx.Changes(ctx, "K", after, 7)
				return err
			})
			if err != nil {
				readErr = err
				return
			}
			for _, r := range ch.Residents {
				if prev, dup := seen[r.Seq]; dup {
					readErr = fmt.Errorf("change %d seen twice (%s, %s)", r.Seq, prev, r.NIK)
					return
				}
				if r.Seq <= after {
					readErr = fmt.Errorf("change %d not after %d", r.Seq, after)
					return
				}
				seen[r.Seq] = r.NIK
			}
			after = ch.Last
			if finished && !ch.More && len(seen) < total {
				readErr = fmt.Errorf("writers done, reader saw %d of %d changes", len(seen), total)
				return
			}
		}
	}()
	parallel(t, ss, writers, func(w int, s registry.Store) error {
		for j := range perWriter {
			err := s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error {
				if err := tx.PutResidents(ctx, []registry.ResidentRow{
					{NIK: fmt.Sprintf("w%d-%d-a", w, j), Kecamatan: "K"},
					{NIK: fmt.Sprintf("w%d-%d-b", w, j), Kecamatan: "K"},
				}); err != nil {
					return err
				}
				// More work after the change number is taken, before commit.
				_, err := tx.UseNonce(ctx, "k", fmt.Sprintf("w%d-%d", w, j), at(0))
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	done.Store(true)
	rd.Wait()
	if readErr != nil {
		t.Fatal(readErr)
	}
	for seq := int64(1); seq <= int64(total); seq++ {
		if _, ok := seen[seq]; !ok {
			t.Errorf("change %d never seen (a gap)", seq)
		}
	}
}

// testRetryAtomic makes two transactions lock two registrations in opposite orders. On
// PostgreSQL one of them is aborted as a deadlock and InTx runs its fn again; on SQLite the
// transactions are serial anyway. Either way each fn's writes land exactly once.
func testRetryAtomic(t *testing.T, ss []registry.Store) {
	in(t, ss[0], func(ctx context.Context, tx registry.Tx) error {
		for _, id := range []string{"r1", "r2"} {
			if err := tx.InsertRegistration(ctx, registry.Registration{ID: id, NIK: "n", CreatedAt: at(0), Status: registry.RegPending}); err != nil {
				return err
			}
		}
		return nil
	})
	var calls atomic.Int32
	var ready sync.WaitGroup
	ready.Add(2)
	parallel(t, ss, 2, func(i int, s registry.Store) error {
		order := []string{"r1", "r2"}
		if i == 1 {
			order = []string{"r2", "r1"}
		}
		first := true
		return s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error {
			calls.Add(1)
			a, err := tx.Registration(ctx, order[0])
			if err != nil {
				return err
			}
			a.CodeTries++
			if err := tx.UpdateRegistration(ctx, a); err != nil {
				return err
			}
			if _, err := tx.InsertRecord(ctx, record(fmt.Sprint("retry-", i), kiosk.KindActivation, ikdsync.StatusAccepted, at(0))); err != nil {
				return err
			}
			if first {
				// Wait (bounded: on SQLite the other cannot start) until both hold a lock.
				first = false
				ready.Done()
				w := make(chan struct{})
				go func() { ready.Wait(); close(w) }()
				select {
				case <-w:
				case <-time.After(500 * time.Millisecond):
				}
			}
			b, err := tx.Registration(ctx, order[1])
			if err != nil {
				return err
			}
			b.CodeTries++
			return tx.UpdateRegistration(ctx, b)
		})
	})
	t.Logf("fn ran %d times for 2 transactions", calls.Load())
	in(t, ss[0], func(ctx context.Context, tx registry.Tx) error {
		for _, id := range []string{"r1", "r2"} {
			r, err := tx.Registration(ctx, id)
			if err != nil {
				return err
			}
			eq(t, id+" CodeTries", r.CodeTries, 2)
		}
		for i := range 2 {
			if _, err := tx.Record(ctx, fmt.Sprint("retry-", i)); err != nil {
				t.Errorf("record of transaction %d: %v", i, err)
			}
		}
		return nil
	})
}

// testManyTransactions: 50 goroutines each run a small hot-path transaction (a kiosk's sync
// request) at once; all commit.
func testManyTransactions(t *testing.T, ss []registry.Store) {
	in(t, ss[0], func(ctx context.Context, tx registry.Tx) error {
		return tx.InsertDevice(ctx, registry.Device{KioskID: "k1", PublicKey: key(1), EnrolledAt: at(0)})
	})
	parallel(t, ss, 50, func(i int, s registry.Store) error {
		return s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error {
			if _, err := tx.Device(ctx, "k1"); err != nil {
				return err
			}
			fresh, err := tx.UseNonce(ctx, "k1", fmt.Sprint("n", i), at(time.Duration(i)*time.Millisecond))
			if err != nil || !fresh {
				return fmt.Errorf("nonce: fresh %v, %w", fresh, err)
			}
			if _, err := tx.InsertRecord(ctx, record(fmt.Sprint("rec-", i), kiosk.KindActivation, ikdsync.StatusAccepted, at(0))); err != nil {
				return err
			}
			return tx.TouchDevice(ctx, "k1", at(time.Duration(i)*time.Millisecond))
		})
	})
	in(t, ss[0], func(ctx context.Context, tx registry.Tx) error {
		d, err := tx.Device(ctx, "k1")
		if err != nil {
			return err
		}
		eq(t, "last seen", d.LastSeen, at(49*time.Millisecond))
		return nil
	})
	st, err := ss[0].Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "records", st.ActivationsAccepted, int64(50))
}
