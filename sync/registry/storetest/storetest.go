// Package storetest is the conformance suite of registry.Store: sqlstore runs it on each of
// its databases (SQLite, PostgreSQL), so both keep the contract the same way.
package storetest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/mail"
)

// Run runs the suite. open returns a fresh, empty store for each subtest and closes it in
// t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) registry.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s registry.Store)
	}{
		{"EnrollCodes", testEnrollCodes},
		{"Devices", testDevices},
		{"Nonces", testNonces},
		{"Registrations", testRegistrations},
		{"Records", testRecords},
		{"CountAccepted", testCountAccepted},
		{"BulkInsertRecords", testBulkInsert},
		{"Tombstones", testTombstones},
		{"Officers", testOfficers},
		{"Checkpoints", testCheckpoints},
		{"AuditHeads", testAuditHeads},
		{"ReadsBesideWriter", testReadsBesideWriter},
		{"MailQueue", testMailQueue},
		{"MailLeaseRenew", testMailLeaseRenew},
		{"MailBacklog", testMailBacklog},
		{"Stats", testStats},
		{"Residents", testResidents},
		{"BatchReads", testBatchReads},
		{"ChangesPaging", testChangesPaging},
		{"MovesKeepHistory", testMovesKeepHistory},
		{"Revocations", testRevocations},
		{"PurgeMails", testPurgeMails},
		{"PurgeRegistrations", testPurgeRegistrations},
		{"Keys", testKeys},
		{"InTxRollback", testRollback},
		{"Ping", func(t *testing.T, s registry.Store) {
			if err := s.Ping(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
	RunConcurrent(t, func(t *testing.T) []registry.Store { return []registry.Store{open(t)} })
}

// RunConcurrent runs the concurrency tests. open returns one or more stores on one fresh,
// empty database (several: like several registry processes); goroutine i uses store
// i % len.
func RunConcurrent(t *testing.T, open func(t *testing.T) []registry.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, ss []registry.Store)
	}{
		{"ConcurrentLockingRead", testConcurrentIncrement},
		{"ConcurrentNonce", testConcurrentNonce},
		{"ConcurrentInsertRecord", testConcurrentInsertRecord},
		{"ConcurrentClaim", testConcurrentClaim},
		{"ConcurrentChanges", testConcurrentChanges},
		{"RetryIsAtomic", testRetryAtomic},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// t0 is a time at millisecond precision in UTC, the precision the contract promises.
var t0 = time.Date(2026, 3, 4, 5, 6, 7, 123_000_000, time.UTC)

// at is t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// wib is Indonesia's western time zone: times given in it come back in UTC.
var wib = time.FixedZone("WIB", 7*3600)

// in runs fn in a transaction and fails the test on an error.
func in(t *testing.T, s registry.Store, fn func(ctx context.Context, tx registry.Tx) error) {
	t.Helper()
	if err := s.InTx(t.Context(), fn); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func isErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

func key(b byte) ed25519.PublicKey { return bytes.Repeat([]byte{b}, ed25519.PublicKeySize) }

func testEnrollCodes(t *testing.T, s registry.Store) {
	live := registry.EnrollCode{Hash: []byte("hash-live"), Area: "3171010", CreatedAt: at(0), ExpiresAt: at(time.Hour)}
	old := registry.EnrollCode{Hash: []byte("hash-old"), Area: "3171020", CreatedAt: at(0), ExpiresAt: at(time.Minute)}
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		if err := tx.CreateEnrollCode(ctx, live); err != nil {
			return err
		}
		return tx.CreateEnrollCode(ctx, old)
	})
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		isErr(t, "duplicate code", tx.CreateEnrollCode(ctx, live), registry.ErrExists)
		return nil
	})
	now := at(30 * time.Minute)
	for _, tc := range []struct {
		name string
		hash []byte
		want *registry.EnrollCode
	}{
		{"live", live.Hash, &live},
		{"live again (consumed)", live.Hash, nil},
		{"expired", old.Hash, nil},
		{"expired stays unusable", old.Hash, nil},
		{"unknown", []byte("nope"), nil},
	} {
		in(t, s, func(ctx context.Context, tx registry.Tx) error {
			got, err := tx.TakeEnrollCode(ctx, tc.hash, now)
			if tc.want == nil {
				isErr(t, tc.name, err, registry.ErrNotFound)
				return nil
			}
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			eq(t, tc.name, got, *tc.want)
			return nil
		})
	}
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		_, err := tx.TakeEnrollCode(ctx, live.Hash, at(-time.Hour))
		isErr(t, "consumed code before its time", err, registry.ErrNotFound)
		return nil
	})
}

func testDevices(t *testing.T, s registry.Store) {
	devs := []registry.Device{
		{KioskID: "k-b", PublicKey: key(2), Area: "A", EnrolledAt: at(0).In(wib)},
		{KioskID: "k-a", PublicKey: key(1), Area: "B", EnrolledAt: at(time.Second), RevokedAt: at(time.Hour), LastSeen: at(time.Minute)},
		{KioskID: "k-c", PublicKey: key(3), Area: "A", EnrolledAt: at(2 * time.Second), LastSeen: at(time.Minute)},
	}
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, d := range devs {
			if err := tx.InsertDevice(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	devs[0].EnrolledAt = devs[0].EnrolledAt.UTC()
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		isErr(t, "duplicate device", tx.InsertDevice(ctx, devs[0]), registry.ErrExists)
		got, err := tx.Device(ctx, "k-b")
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "device k-b", got, devs[0])
		_, err = tx.Device(ctx, "k-x")
		isErr(t, "unknown device", err, registry.ErrNotFound)
		all, err := tx.Devices(ctx)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "devices by id", all, []registry.Device{devs[1], devs[0], devs[2]})

		// Revocation keeps the first time; touching only moves forward.
		for _, step := range []struct {
			name string
			fn   func() error
		}{
			{"revoke", func() error { return tx.RevokeDevice(ctx, "k-b", at(time.Hour)) }},
			{"revoke again later", func() error { return tx.RevokeDevice(ctx, "k-b", at(2*time.Hour)) }},
			{"revoke again earlier", func() error { return tx.RevokeDevice(ctx, "k-a", at(time.Minute)) }},
			{"touch", func() error { return tx.TouchDevice(ctx, "k-b", at(5*time.Minute)) }},
			{"touch earlier", func() error { return tx.TouchDevice(ctx, "k-b", at(4*time.Minute)) }},
			{"touch same", func() error { return tx.TouchDevice(ctx, "k-b", at(5*time.Minute)) }},
			{"touch later", func() error { return tx.TouchDevice(ctx, "k-c", at(2*time.Minute)) }},
			{"touch earlier c", func() error { return tx.TouchDevice(ctx, "k-c", at(time.Second)) }},
		} {
			if err := step.fn(); err != nil {
				t.Errorf("%s: %v", step.name, err)
			}
		}
		isErr(t, "revoke unknown", tx.RevokeDevice(ctx, "k-x", at(0)), registry.ErrNotFound)
		return nil
	})
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, tc := range []struct {
			id              string
			revoked, seenAt time.Time
		}{
			{"k-a", at(time.Hour), at(time.Minute)},
			{"k-b", at(time.Hour), at(5 * time.Minute)},
			{"k-c", time.Time{}, at(2 * time.Minute)},
		} {
			d, err := tx.Device(ctx, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			eq(t, tc.id+" revoked", d.RevokedAt, tc.revoked)
			eq(t, tc.id+" last seen", d.LastSeen, tc.seenAt)
		}
		return nil
	})
}

func testNonces(t *testing.T, s registry.Store) {
	use := func(kiosk, nonce string, when time.Time) (fresh bool) {
		in(t, s, func(ctx context.Context, tx registry.Tx) error {
			var err error
			fresh, err = tx.UseNonce(ctx, kiosk, nonce, when)
			return err
		})
		return fresh
	}
	for _, tc := range []struct {
		kiosk, nonce string
		at           time.Duration
		fresh        bool
	}{
		{"k1", "n1", 0, true},
		{"k1", "n1", time.Second, false},
		{"k2", "n1", 0, true},
		{"k1", "n2", time.Hour, true},
	} {
		if got := use(tc.kiosk, tc.nonce, at(tc.at)); got != tc.fresh {
			t.Errorf("UseNonce(%s, %s) fresh = %v, want %v", tc.kiosk, tc.nonce, got, tc.fresh)
		}
	}
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		n, err := tx.PurgeNonces(ctx, at(time.Minute))
		if err != nil {
			return err
		}
		eq(t, "purged nonces", n, int64(2))
		return nil
	})
	if !use("k1", "n1", at(2*time.Hour)) {
		t.Error("a purged nonce is not fresh again")
	}
	if use("k1", "n2", at(2*time.Hour)) {
		t.Error("a nonce recorded after the purge time was purged")
	}
}

func testRegistrations(t *testing.T, s registry.Store) {
	full := registry.Registration{
		ID: "r-full", NIK: "3171010101900001", Email: "a@example.id", Phone: "+6281200000001",
		CreatedAt: at(0), Status: registry.RegApproved, RevokedAt: at(9 * time.Hour),
		ActivationRecord: "rec-1", ApprovedAt: at(time.Hour), CodeHash: []byte{1, 2, 3},
		CodeExpires: at(2 * time.Hour), CodeTries: 2, ConfirmedAt: at(90 * time.Minute),
	}
	cases := []registry.Registration{
		full,
		{ID: "r-zero", NIK: "3171010101900002", CreatedAt: at(0), Status: registry.RegPending},
		{ID: "r-empty-hash", NIK: "3171010101900003", CreatedAt: at(0), Status: registry.RegPending, CodeHash: []byte{}},
	}
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, r := range cases {
			if err := tx.InsertRegistration(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		isErr(t, "duplicate registration", tx.InsertRegistration(ctx, full), registry.ErrExists)
		for _, want := range cases {
			got, err := tx.Registration(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			eq(t, want.ID, got, want)
			if (got.CodeHash == nil) != (want.CodeHash == nil) {
				t.Errorf("%s: CodeHash nil = %v, want %v", want.ID, got.CodeHash == nil, want.CodeHash == nil)
			}
		}
		_, err := tx.Registration(ctx, "r-x")
		isErr(t, "unknown registration", err, registry.ErrNotFound)
		return nil
	})

	// By NIK: oldest first, whatever the insertion order.
	nik := "3171010101900009"
	byNIK := []registry.Registration{
		{ID: "r-3", NIK: nik, CreatedAt: at(3 * time.Hour), Status: registry.RegPending},
		{ID: "r-1", NIK: nik, CreatedAt: at(time.Hour), Status: registry.RegRevoked, RevokedAt: at(2 * time.Hour)},
		{ID: "r-2", NIK: nik, CreatedAt: at(2 * time.Hour), Status: registry.RegDeactivated},
	}
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, r := range byNIK {
			if err := tx.InsertRegistration(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		got, err := tx.RegistrationsByNIK(ctx, nik)
		if err != nil {
			return err
		}
		eq(t, "by NIK", got, []registry.Registration{byNIK[1], byNIK[2], byNIK[0]})
		got, err = tx.RegistrationsByNIK(ctx, "0000000000000000")
		if err != nil || len(got) != 0 {
			t.Errorf("unknown NIK: %v, %v; want none", got, err)
		}

		upd := full
		upd.Status, upd.CodeTries, upd.CodeHash, upd.ConfirmedAt, upd.Email = registry.RegActivated, 3, nil, time.Time{}, "b@example.id"
		if err := tx.UpdateRegistration(ctx, upd); err != nil {
			return err
		}
		got1, err := tx.Registration(ctx, full.ID)
		if err != nil {
			return err
		}
		eq(t, "updated", got1, upd)
		upd.ID = "r-x"
		isErr(t, "update unknown", tx.UpdateRegistration(ctx, upd), registry.ErrNotFound)
		return nil
	})
}

func record(id string, kind kiosk.RecordKind, status int, received time.Time) registry.StoredRecord {
	return registry.StoredRecord{
		ID: id, KioskID: "k1", Kind: kind, NIK: "3171010101900001", At: received.Add(-time.Minute),
		ReceivedAt: received, Status: status, Envelope: []byte("env-" + id),
	}
}

func testRecords(t *testing.T, s registry.Store) {
	full := registry.StoredRecord{
		ID: "rec-full", KioskID: "k1", Kind: kiosk.KindActivation, RegistrationID: "r1", NIK: "3171010101900001",
		At: at(0).In(wib), ReceivedAt: at(time.Minute), Status: ikdsync.StatusRejected,
		Code: "activation.duplicate", Winner: "rec-0", Envelope: []byte{0xd2, 0x84},
	}
	cases := []registry.StoredRecord{
		full,
		{ID: "rec-nil", KioskID: "k1", Kind: kiosk.KindDeactivation, ReceivedAt: at(2 * time.Minute), Status: ikdsync.StatusAccepted},
		{ID: "rec-empty", KioskID: "k1", Kind: kiosk.KindAuditCheckpoint, ReceivedAt: at(3 * time.Minute), Envelope: []byte{}},
	}
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, r := range cases {
			ok, err := tx.InsertRecord(ctx, r)
			if err != nil {
				return err
			}
			if !ok {
				t.Errorf("insert %s: not inserted", r.ID)
			}
		}
		return nil
	})
	cases[0].At = cases[0].At.UTC()
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		dup := full
		dup.KioskID, dup.Envelope = "k2", []byte("other")
		ok, err := tx.InsertRecord(ctx, dup)
		if err != nil || ok {
			t.Errorf("duplicate insert: inserted %v, %v; want false", ok, err)
		}
		for _, want := range cases {
			got, err := tx.Record(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			eq(t, want.ID, got, want)
			if (got.Envelope == nil) != (want.Envelope == nil) {
				t.Errorf("%s: Envelope nil = %v, want %v", want.ID, got.Envelope == nil, want.Envelope == nil)
			}
		}
		_, err = tx.Record(ctx, "rec-x")
		isErr(t, "unknown record", err, registry.ErrNotFound)

		if err := tx.SetRecordAnswer(ctx, full.ID, ikdsync.StatusAccepted, "", ""); err != nil {
			return err
		}
		got, err := tx.Record(ctx, full.ID)
		if err != nil {
			return err
		}
		want := cases[0]
		want.Status, want.Code, want.Winner = ikdsync.StatusAccepted, "", ""
		eq(t, "answer replaced", got, want)
		isErr(t, "answer unknown", tx.SetRecordAnswer(ctx, "rec-x", 1, "", ""), registry.ErrNotFound)

		n, err := tx.PurgeRecords(ctx, at(2*time.Minute+time.Millisecond))
		if err != nil {
			return err
		}
		eq(t, "purged records", n, int64(2))
		for _, tc := range []struct {
			id   string
			gone bool
		}{{"rec-full", true}, {"rec-nil", true}, {"rec-empty", false}} {
			_, err := tx.Record(ctx, tc.id)
			if gone := errors.Is(err, registry.ErrNotFound); gone != tc.gone {
				t.Errorf("after purge, %s gone = %v (%v), want %v", tc.id, gone, err, tc.gone)
			}
		}
		return nil
	})
}

func testCountAccepted(t *testing.T, s registry.Store) {
	reissue := func(id, reg string, status int, received time.Time) registry.StoredRecord {
		r := record(id, kiosk.KindCodeReissue, status, received)
		r.RegistrationID = reg
		return r
	}
	act := record("act-1", kiosk.KindActivation, ikdsync.StatusAccepted, at(time.Minute))
	act.RegistrationID = "r1"
	recs := []registry.StoredRecord{
		act, // another kind
		reissue("ri-old", "r1", ikdsync.StatusAccepted, at(0)), // before since
		reissue("ri-1", "r1", ikdsync.StatusAccepted, at(time.Hour)),
		reissue("ri-rejected", "r1", ikdsync.StatusRejected, at(time.Hour)),
		reissue("ri-other", "r2", ikdsync.StatusAccepted, at(time.Hour)),
	}
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, r := range recs {
			if _, err := tx.InsertRecord(ctx, r); err != nil {
				return err
			}
		}
		// The transaction's own insert counts, and since is inclusive.
		if _, err := tx.InsertRecord(ctx, reissue("ri-2", "r1", ikdsync.StatusAccepted, at(time.Minute))); err != nil {
			return err
		}
		for _, tc := range []struct {
			kind  kiosk.RecordKind
			reg   string
			since time.Time
			want  int
		}{
			{kiosk.KindCodeReissue, "r1", at(time.Minute), 2},
			{kiosk.KindCodeReissue, "r1", at(0), 3},
			{kiosk.KindCodeReissue, "r1", at(2 * time.Hour), 0},
			{kiosk.KindCodeReissue, "r2", at(0), 1},
			{kiosk.KindCodeReissue, "r-x", at(0), 0},
			{kiosk.KindActivation, "r1", at(0), 1},
		} {
			n, err := tx.CountAccepted(ctx, tc.kind, tc.reg, tc.since)
			if err != nil {
				return err
			}
			eq(t, fmt.Sprintf("%s of %s since %v", tc.kind, tc.reg, tc.since), n, tc.want)
		}
		return nil
	})
}

func testBulkInsert(t *testing.T, s registry.Store) {
	var recs []registry.StoredRecord
	for i := range 500 {
		recs = append(recs, record(fmt.Sprintf("bulk-%03d", i), kiosk.KindActivation, ikdsync.StatusAccepted, at(time.Duration(i)*time.Millisecond)))
	}
	recs[7].Envelope = nil
	if err := s.BulkInsertRecords(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	if err := s.BulkInsertRecords(t.Context(), nil); err != nil {
		t.Errorf("empty bulk insert: %v", err)
	}
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, i := range []int{0, 7, 499} {
			got, err := tx.Record(ctx, recs[i].ID)
			if err != nil {
				return err
			}
			eq(t, recs[i].ID, got, recs[i])
		}
		return nil
	})
	st, err := s.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "accepted activations", st.ActivationsAccepted, int64(500))
}

func testTombstones(t *testing.T, s registry.Store) {
	nik := "3171010101900001"
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		_, err := tx.LatestTombstone(ctx, nik)
		isErr(t, "no tombstone", err, registry.ErrNotFound)
		for _, ts := range []registry.Tombstone{
			{NIK: nik, At: at(2 * time.Hour), RecordID: "d-2"},
			{NIK: nik, At: at(3 * time.Hour).In(wib), RecordID: "d-3"},
			{NIK: nik, At: at(time.Hour), RecordID: "d-1"},
			{NIK: "3171010101900002", At: at(4 * time.Hour), RecordID: "d-other"},
		} {
			if err := tx.InsertTombstone(ctx, ts); err != nil {
				return err
			}
		}
		return nil
	})
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		got, err := tx.LatestTombstone(ctx, nik)
		if err != nil {
			return err
		}
		eq(t, "latest tombstone", got, registry.Tombstone{NIK: nik, At: at(3 * time.Hour), RecordID: "d-3"})
		return nil
	})
	// Lifting ends every tombstone of the NIK in force, keeps them listed with who and why,
	// and touches no other NIK.
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		n, err := tx.LiftTombstones(ctx, nik, at(5*time.Hour), "sup-1", "salah NIK")
		if err != nil {
			return err
		}
		eq(t, "lifted", n, int64(3))
		_, err = tx.LatestTombstone(ctx, nik)
		isErr(t, "latest after the lift", err, registry.ErrNotFound)
		if m, ok := tx.(registry.BatchTx); ok {
			got, err := m.LatestTombstones(ctx, []string{nik, "3171010101900002"})
			if err != nil {
				return err
			}
			eq(t, "latest tombstones after the lift", len(got), 1)
		}
		all, err := tx.Tombstones(ctx, nik)
		if err != nil {
			return err
		}
		eq(t, "listed", len(all), 3)
		eq(t, "oldest listed first", all[0].RecordID, "d-1")
		eq(t, "lift kept", all[2], registry.Tombstone{NIK: nik, At: at(3 * time.Hour), RecordID: "d-3",
			LiftedAt: at(5 * time.Hour), LiftedBy: "sup-1", LiftReason: "salah NIK"})
		again, err := tx.LiftTombstones(ctx, nik, at(6*time.Hour), "sup-2", "lagi")
		if err != nil {
			return err
		}
		eq(t, "lifted again", again, int64(0))
		other, err := tx.LatestTombstone(ctx, "3171010101900002")
		if err != nil {
			return err
		}
		eq(t, "other NIK", other.RecordID, "d-other")
		return nil
	})
}

func testOfficers(t *testing.T, s registry.Store) {
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		_, err := tx.Officer(ctx, "o1")
		isErr(t, "no officer", err, registry.ErrNotFound)
		for _, o := range []registry.OfficerRow{
			{ID: "o2", Area: "A,B", Name: "Dua", Role: kiosk.RoleOfficer},
			{ID: "o1", Area: "", Name: "Satu", Role: kiosk.RoleSupervisor},
			{ID: "o2", Area: "A", Name: "Dua", Role: kiosk.RoleOfficer, Disabled: true},
		} {
			if err := tx.PutOfficer(ctx, o); err != nil {
				return err
			}
		}
		o, err := tx.Officer(ctx, "o2")
		if err != nil {
			return err
		}
		o.Seq = 0
		eq(t, "replaced officer", o, registry.OfficerRow{ID: "o2", Area: "A", Name: "Dua", Role: kiosk.RoleOfficer, Disabled: true})
		all, err := tx.Officers(ctx)
		if err != nil {
			return err
		}
		eq(t, "officers", len(all), 2)
		eq(t, "by id", all[0].ID+all[1].ID, "o1o2")
		return nil
	})
}

func testCheckpoints(t *testing.T, s registry.Store) {
	c1 := registry.Checkpoint{KioskID: "k1", RecordID: "cp-1", AuditSeq: 10, AuditHash: []byte{9, 9}, OutboxSeq: 4, At: at(0)}
	c2 := registry.Checkpoint{KioskID: "k1", RecordID: "cp-2", AuditSeq: 20, AuditHash: []byte{8}, OutboxSeq: 7, At: at(time.Hour)}
	other := registry.Checkpoint{KioskID: "k2", RecordID: "cp-x", AuditSeq: 1, OutboxSeq: 1, At: at(0)}
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		_, err := tx.Checkpoint(ctx, "k1")
		isErr(t, "no checkpoint", err, registry.ErrNotFound)
		for _, c := range []registry.Checkpoint{c1, other, c2} {
			if err := tx.PutCheckpoint(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, want := range []registry.Checkpoint{c2, other} {
			got, err := tx.Checkpoint(ctx, want.KioskID)
			if err != nil {
				return err
			}
			eq(t, "checkpoint "+want.KioskID, got, want)
		}
		return nil
	})
}

func newMail(i int) mail.Mail {
	return mail.Mail{
		ID: fmt.Sprintf("m-%03d", i), To: fmt.Sprintf("c%d@example.id", i), Code: fmt.Sprintf("%06d", i),
		RegistrationID: fmt.Sprintf("r-%d", i), ExpiresAt: at(time.Hour), CreatedAt: at(time.Duration(i) * time.Millisecond),
	}
}

func enqueue(t *testing.T, s registry.Store, ms ...mail.Mail) {
	t.Helper()
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, m := range ms {
			if err := tx.EnqueueMail(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

func ids(ms []mail.Mail) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func testMailQueue(t *testing.T, s registry.Store) {
	ctx := t.Context()
	m1, m2, m3 := newMail(1), newMail(2), newMail(3)
	m2.Replaces = true
	// m2's registration was approved by a kiosk record: Claim reads that record id (the
	// receipt's reference in the mail) from the registration; the others have none.
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		return tx.InsertRegistration(ctx, registry.Registration{ID: m2.RegistrationID, NIK: "3171010101900099",
			CreatedAt: at(0), Status: registry.RegApproved, ActivationRecord: "rec-2", ApprovedAt: at(0)})
	})
	enqueue(t, s, m1, m2, m3)
	m2.RecordID = "rec-2"
	// A mail enqueued in a transaction that rolls back is not queued.
	boom := errors.New("boom")
	err := s.InTx(ctx, func(ctx context.Context, tx registry.Tx) error {
		if err := tx.EnqueueMail(ctx, newMail(4)); err != nil {
			return err
		}
		return boom
	})
	isErr(t, "rolled back enqueue", err, boom)

	lease := time.Minute
	claim := func(now time.Time, limit int) []mail.Mail {
		t.Helper()
		ms, err := s.Claim(ctx, now, lease, limit)
		if err != nil {
			t.Fatalf("claim: %v", err)
		}
		return ms
	}
	// Due at once, all fields back, limit respected.
	got := claim(at(0), 2)
	eq(t, "first claim", got, []mail.Mail{m1, m2})
	eq(t, "leased mails are not claimed again", ids(claim(at(30*time.Second), 10)), []string{"m-003"})
	eq(t, "nothing due before the lease ends", ids(claim(at(59*time.Second), 10)), []string{})
	eq(t, "lease over", ids(claim(at(time.Minute), 1)), []string{"m-001"})

	// m1 fails and is retried at next; m2 fails for good; m3 is sent.
	steps := []struct {
		name string
		err  error
		want error
	}{
		{"failed m1", s.Failed(ctx, m1.ID, at(time.Minute), at(10*time.Minute), "451 try later", false), nil},
		{"failed m2", s.Failed(ctx, m2.ID, at(time.Minute), at(2*time.Minute), "550 no such user", true), nil},
		{"sent m3", s.Sent(ctx, m3.ID, at(time.Minute)), nil},
		{"sent m3 again", s.Sent(ctx, m3.ID, at(2*time.Minute)), nil},
		{"failed after sent", s.Failed(ctx, m3.ID, at(3*time.Minute), at(4*time.Minute), "late", false), nil},
		{"sent unknown", s.Sent(ctx, "m-x", at(0)), registry.ErrNotFound},
		{"failed unknown", s.Failed(ctx, "m-x", at(0), at(0), "", false), registry.ErrNotFound},
	}
	for _, st := range steps {
		if st.want == nil && st.err != nil {
			t.Errorf("%s: %v", st.name, st.err)
		}
		if st.want != nil {
			isErr(t, st.name, st.err, st.want)
		}
	}
	eq(t, "before the next attempt", ids(claim(at(9*time.Minute), 10)), []string{})
	got = claim(at(10*time.Minute), 10)
	want := m1
	want.Attempts = 1
	eq(t, "retried", got, []mail.Mail{want})
	eq(t, "permanent and sent mails are never claimed", ids(claim(at(1000*time.Hour), 10)), []string{"m-001"})
	if ms := claim(at(0), 0); len(ms) != 0 {
		t.Errorf("limit 0 claimed %v", ids(ms))
	}
}

// testMailLeaseRenew: Renew moves only leases the caller still holds, so a Worker whose lease
// ran out and was claimed by another never takes the mail back.
func testMailLeaseRenew(t *testing.T, s registry.Store) {
	ctx := t.Context()
	m1, m2, m3 := newMail(1), newMail(2), newMail(3)
	enqueue(t, s, m1, m2, m3)
	lease := 10 * time.Second
	renew := func(what string, ids []string, held, until time.Time, want []string) {
		t.Helper()
		got, err := s.Renew(ctx, ids, held, until)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		slices.Sort(got)
		eq(t, what, append([]string{}, got...), want)
	}
	claimed, err := s.Claim(ctx, at(0), lease, 3)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "claimed", ids(claimed), []string{"m-001", "m-002", "m-003"})
	all := []string{"m-001", "m-002", "m-003"}
	renew("renewed by the holder", all, at(lease), at(8*time.Second+lease), all)
	renew("not held at the old lease", all, at(lease), at(9*time.Second+lease), []string{})
	if ms, err := s.Claim(ctx, at(lease+time.Second), lease, 3); err != nil || len(ms) != 0 {
		t.Fatalf("claim while renewed: %v, %v", ids(ms), err)
	}
	if err := s.Sent(ctx, m1.ID, at(9*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Failed(ctx, m2.ID, at(9*time.Second), at(9*time.Second), "451", false); err != nil {
		t.Fatal(err)
	}
	renew("sent and failed mails are not renewed", all, at(8*time.Second+lease), at(16*time.Second+lease),
		[]string{"m-003"})
	// The holder stops renewing (killed); another claims m3 and m2 once the lease ends.
	taken, err := s.Claim(ctx, at(16*time.Second+lease), lease, 3)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "claimed by another", ids(taken), []string{"m-002", "m-003"})
	renew("the old holder cannot take it back", []string{"m-003"}, at(16*time.Second+lease), at(20*time.Second+lease),
		[]string{})
	renew("the new holder renews", []string{"m-002", "m-003"}, at(16*time.Second+2*lease), at(20*time.Second+2*lease),
		[]string{"m-002", "m-003"})
}

func testMailBacklog(t *testing.T, s registry.Store) {
	ctx := t.Context()
	backlog := func() (int64, time.Time) {
		t.Helper()
		n, oldest, err := s.MailBacklog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n, oldest
	}
	if n, oldest := backlog(); n != 0 || !oldest.IsZero() {
		t.Errorf("empty backlog: %d, %v", n, oldest)
	}
	enqueue(t, s, newMail(3), newMail(1), newMail(2))
	n, oldest := backlog()
	eq(t, "backlog", n, int64(3))
	eq(t, "oldest", oldest, newMail(1).CreatedAt)
	if err := s.Sent(ctx, "m-001", at(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Failed(ctx, "m-002", at(time.Second), at(time.Minute), "retry", false); err != nil {
		t.Fatal(err)
	}
	n, oldest = backlog()
	eq(t, "backlog after sent", n, int64(2))
	eq(t, "oldest after sent", oldest, newMail(2).CreatedAt)
	if err := s.Failed(ctx, "m-002", at(time.Second), at(time.Minute), "bounced", true); err != nil {
		t.Fatal(err)
	}
	n, oldest = backlog()
	eq(t, "backlog after permanent", n, int64(1))
	eq(t, "oldest after permanent", oldest, newMail(3).CreatedAt)
}

func testStats(t *testing.T, s registry.Store) {
	ctx := t.Context()
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "empty stats", st, registry.Stats{})
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		for i := range 2 {
			if err := tx.InsertDevice(ctx, registry.Device{KioskID: fmt.Sprint("k", i), PublicKey: key(1), EnrolledAt: at(0)}); err != nil {
				return err
			}
		}
		for i := range 3 {
			if err := tx.InsertRegistration(ctx, registry.Registration{ID: fmt.Sprint("r", i), CreatedAt: at(0), Status: registry.RegPending}); err != nil {
				return err
			}
		}
		for i, r := range []struct {
			kind   kiosk.RecordKind
			status int
		}{
			{kiosk.KindActivation, ikdsync.StatusAccepted},
			{kiosk.KindActivation, ikdsync.StatusAccepted},
			{kiosk.KindActivation, ikdsync.StatusRejected},
			{kiosk.KindDeactivation, ikdsync.StatusAccepted},
			{kiosk.KindDeactivation, ikdsync.StatusRejected},
			{kiosk.KindAuditCheckpoint, ikdsync.StatusAccepted},
		} {
			if _, err := tx.InsertRecord(ctx, record(fmt.Sprint("rec", i), r.kind, r.status, at(0))); err != nil {
				return err
			}
		}
		for i := range 4 {
			if err := tx.EnqueueMail(ctx, newMail(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err := s.Sent(ctx, "m-000", at(0)); err != nil {
		t.Fatal(err)
	}
	st, err = s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "stats", st, registry.Stats{Devices: 2, Registrations: 3, ActivationsAccepted: 2, Deactivations: 1, MailsSent: 1, MailsQueued: 3})
}

func changes(t *testing.T, s registry.Store, area string, after int64, limit int) registry.Changes {
	t.Helper()
	var ch registry.Changes
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		var err error
		ch, err = tx.Changes(ctx, area, after, limit)
		return err
	})
	return ch
}

// testBatchReads: a store offering registry.BatchTx answers for many keys what Tx answers
// for each, and Registration answers a locked registration with this transaction's updates.
// A store without it passes trivially (it is optional).
func testBatchReads(t *testing.T, s registry.Store) {
	rs := []registry.ResidentRow{{NIK: "3171010101900001", Kecamatan: "A", Data: []byte("one")},
		{NIK: "3171010101900002", Kecamatan: "B", Data: nil, Removed: true}}
	regs := []registry.Registration{{ID: "r-1", NIK: rs[0].NIK, CreatedAt: at(0), Status: registry.RegPending},
		{ID: "r-2", NIK: rs[1].NIK, CreatedAt: at(0), Status: registry.RegPending, CodeHash: []byte{}}}
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, r := range regs {
			if err := tx.InsertRegistration(ctx, r); err != nil {
				return err
			}
		}
		return tx.PutResidents(ctx, rs)
	})
	offered := false
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		bt, ok := tx.(registry.BatchTx)
		if offered = ok; !ok {
			return nil
		}
		got, err := bt.Residents(ctx, []string{rs[0].NIK, rs[1].NIK, "3171010101900009"})
		if err != nil {
			return err
		}
		eq(t, "residents found", len(got), 2)
		for _, r := range rs {
			want, err := tx.Resident(ctx, r.NIK)
			if err != nil {
				return err
			}
			eq(t, "resident "+r.NIK, got[r.NIK], want)
		}
		recs := []registry.StoredRecord{record("b-1", kiosk.KindActivation, 1, at(0)), record("b-2", kiosk.KindActivation, 1, at(0)),
			record("b-1", kiosk.KindActivation, 1, at(time.Hour))}
		inserted, err := bt.InsertRecords(ctx, recs)
		if err != nil {
			return err
		}
		eq(t, "inserted, the repeat not", inserted, []bool{true, true, false})
		again, err := bt.InsertRecords(ctx, recs[1:2])
		if err != nil {
			return err
		}
		eq(t, "inserted before", again, []bool{false})
		got1, err := tx.Record(ctx, "b-1")
		if err != nil {
			return err
		}
		eq(t, "first of the repeats kept", got1.ReceivedAt, at(0))
		if err := bt.LockRegistrations(ctx, []string{"r-2", "r-1", "r-none"}); err != nil {
			return err
		}
		r1, err := tx.Registration(ctx, "r-1")
		if err != nil {
			return err
		}
		eq(t, "locked registration", r1, regs[0])
		r1.Status, r1.ApprovedAt = registry.RegApproved, at(time.Hour)
		if err := tx.UpdateRegistration(ctx, r1); err != nil {
			return err
		}
		r1again, err := tx.Registration(ctx, "r-1")
		if err != nil {
			return err
		}
		eq(t, "locked registration after its update", r1again, r1)
		r1.CodeHash, r1.CodeTries = []byte{9}, 1
		if err := bt.UpdateRegistrationAndEnqueueMail(ctx, r1, newMail(7)); err != nil {
			return err
		}
		if r1again, err = tx.Registration(ctx, "r-1"); err != nil {
			return err
		}
		eq(t, "locked registration after the code's update", r1again, r1)
		r2, err := tx.Registration(ctx, "r-2")
		if err != nil {
			return err
		}
		eq(t, "empty code hash kept", r2.CodeHash != nil, true)
		_, err = tx.Registration(ctx, "r-none")
		isErr(t, "unknown locked registration", err, registry.ErrNotFound)
		return nil
	})
	if !offered {
		return
	}
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		got, err := tx.Registration(ctx, "r-1")
		if err != nil {
			return err
		}
		eq(t, "update committed", got.Status, registry.RegApproved)
		eq(t, "code committed", got.CodeHash, []byte{9})
		return nil
	})
	// A failed code write fails the transaction, at once or (a store that defers the writes
	// to the next statement) at a later call and the commit, even when that later call's
	// error is taken for its own: nothing of it commits.
	r1 := regs[0]
	r1.Status, r1.ApprovedAt, r1.CodeHash = registry.RegApproved, at(time.Hour), []byte{10}
	gone := registry.Registration{ID: "r-gone", NIK: rs[0].NIK, Status: registry.RegApproved}
	before, err := s.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what string
		reg  registry.Registration
		m    mail.Mail
		want error
	}{
		{"the same mail again", r1, newMail(7), registry.ErrExists},
		{"an unknown registration", gone, newMail(8), registry.ErrNotFound},
	} {
		err := s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error {
			bt := tx.(registry.BatchTx)
			if err := bt.LockRegistrations(ctx, []string{"r-1"}); err != nil {
				return err
			}
			if err := bt.UpdateRegistrationAndEnqueueMail(ctx, tc.reg, tc.m); err != nil {
				return err
			}
			_, err := tx.Resident(ctx, "3171010101900009") // not found: the error is taken as the read's
			if !errors.Is(err, registry.ErrNotFound) {
				return err
			}
			return nil
		})
		isErr(t, tc.what, err, tc.want)
	}
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		got, err := tx.Registration(ctx, "r-1")
		if err != nil {
			return err
		}
		eq(t, "code after the failed writes", got.CodeHash, []byte{9})
		return nil
	})
	after, err := s.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "mails queued after the failed writes", after.MailsQueued, before.MailsQueued)
}

func testResidents(t *testing.T, s registry.Store) {
	rs := []registry.ResidentRow{
		{NIK: "n1", Kecamatan: "A", Data: []byte("one")},
		{NIK: "n2", Kecamatan: "A", Data: []byte{}},
		{NIK: "n3", Kecamatan: "B", Data: nil, PrevKecamatan: "ignored"},
	}
	in(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.PutResidents(ctx, rs) })
	var before int64 // the last change so far
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		var last int64
		defer func() { before = last }()
		for i, want := range rs {
			got, err := tx.Resident(ctx, want.NIK)
			if err != nil {
				return err
			}
			if got.Seq <= last {
				t.Errorf("%s: change number %d not above %d", want.NIK, got.Seq, last)
			}
			last = got.Seq
			want.Seq, want.PrevKecamatan = got.Seq, ""
			eq(t, want.NIK, got, want)
			if (got.Data == nil) != (rs[i].Data == nil) {
				t.Errorf("%s: Data nil = %v, want %v", want.NIK, got.Data == nil, rs[i].Data == nil)
			}
		}
		_, err := tx.Resident(ctx, "n-x")
		isErr(t, "unknown resident", err, registry.ErrNotFound)
		return nil
	})

	// n1 moves from A to C; n2 is removed in A; n1 then changes again within C.
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		return tx.PutResidents(ctx, []registry.ResidentRow{
			{NIK: "n1", Kecamatan: "C", Data: []byte("one moved")},
			{NIK: "n2", Kecamatan: "A", Removed: true},
		})
	})
	var moved registry.ResidentRow
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		var err error
		moved, err = tx.Resident(ctx, "n1")
		if err != nil {
			return err
		}
		eq(t, "moved", moved.PrevKecamatan, "A")
		eq(t, "moved to", moved.Kecamatan, "C")
		removed, err := tx.Resident(ctx, "n2")
		if err != nil {
			return err
		}
		if !removed.Removed || removed.Kecamatan != "A" {
			t.Errorf("removed resident: %+v", removed)
		}
		return nil
	})
	for _, tc := range []struct {
		area string
		want []string
	}{
		{"A", []string{"n1", "n2"}}, // the old area hears that n1 left
		{"C", []string{"n1"}},
		{"B", []string{}},
	} {
		ch := changes(t, s, tc.area, before, 100)
		got := []string{}
		for _, r := range ch.Residents {
			got = append(got, r.NIK)
		}
		eq(t, "changes of "+tc.area, got, tc.want)
	}
	// A change within the new area keeps the old one informed until it changes again.
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		return tx.PutResidents(ctx, []registry.ResidentRow{{NIK: "n1", Kecamatan: "C", Data: []byte("again")}})
	})
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		r, err := tx.Resident(ctx, "n1")
		if err != nil {
			return err
		}
		if r.Seq <= moved.Seq {
			t.Errorf("change number %d not above %d", r.Seq, moved.Seq)
		}
		eq(t, "prev kept", r.PrevKecamatan, "A")
		return nil
	})
}

func testChangesPaging(t *testing.T, s registry.Store) {
	// Interleave the three kinds so the merge by change number matters.
	type change struct {
		kind, id string
		area     string // residents and officers
	}
	all := []change{
		{"resident", "n1", "A"}, {"officer", "o1", "A"}, {"key", "key1", ""}, {"resident", "n2", "B"},
		{"officer", "o2", ""}, {"officer", "o3", "B"}, {"resident", "n3", "A"}, {"key", "key2", ""},
		{"resident", "n4", "A"},
	}
	for _, c := range all {
		in(t, s, func(ctx context.Context, tx registry.Tx) error {
			switch c.kind {
			case "resident":
				return tx.PutResidents(ctx, []registry.ResidentRow{{NIK: c.id, Kecamatan: c.area, Data: []byte(c.id)}})
			case "officer":
				return tx.PutOfficer(ctx, registry.OfficerRow{ID: c.id, Area: c.area, Name: "Officer " + c.id, Role: kiosk.RoleSupervisor, Disabled: c.id == "o2"})
			default:
				return tx.PutKey(ctx, registry.KeyRow{KeyID: c.id, PublicKey: key(7), NotBefore: at(0), NotAfter: at(24 * time.Hour)})
			}
		})
	}
	for _, tc := range []struct {
		area  string
		limit int
		want  []string
	}{
		{"A", 2, []string{"n1", "o1", "key1", "o2", "n3", "key2", "n4"}},
		{"A", 3, []string{"n1", "o1", "key1", "o2", "n3", "key2", "n4"}},
		{"B", 2, []string{"key1", "n2", "o2", "o3", "key2"}},
		{"Z", 100, []string{"key1", "o2", "key2"}},
	} {
		var got []string
		after, pages := int64(0), 0
		for {
			ch := changes(t, s, tc.area, after, tc.limit)
			pages++
			n := len(ch.Residents) + len(ch.Officers) + len(ch.Keys)
			if n > tc.limit {
				t.Fatalf("%s: page of %d changes, limit %d", tc.area, n, tc.limit)
			}
			// Merge the page by change number.
			type seqd struct {
				seq int64
				id  string
			}
			var page []seqd
			for _, r := range ch.Residents {
				page = append(page, seqd{r.Seq, r.NIK})
			}
			for _, o := range ch.Officers {
				page = append(page, seqd{o.Seq, o.ID})
				if o.ID == "o2" && (!o.Disabled || o.Role != kiosk.RoleSupervisor || o.Name != "Officer o2") {
					t.Errorf("officer o2: %+v", o)
				}
			}
			for _, k := range ch.Keys {
				page = append(page, seqd{k.Seq, k.KeyID})
				if !bytes.Equal(k.PublicKey, key(7)) || !k.NotBefore.Equal(at(0)) || !k.NotAfter.Equal(at(24*time.Hour)) {
					t.Errorf("key %s: %+v", k.KeyID, k)
				}
			}
			for i := range page {
				for j := i + 1; j < len(page); j++ {
					if page[j].seq < page[i].seq {
						page[i], page[j] = page[j], page[i]
					}
				}
			}
			max := after
			for _, p := range page {
				if p.seq <= after {
					t.Errorf("%s: change %d not after %d", tc.area, p.seq, after)
				}
				got = append(got, p.id)
				max = p.seq
			}
			eq(t, tc.area+" Last", ch.Last, max)
			if !ch.More {
				if n == tc.limit && pages < 10 {
					// A full last page is allowed only if nothing follows: check.
					if next := changes(t, s, tc.area, ch.Last, tc.limit); len(next.Residents)+len(next.Officers)+len(next.Keys) != 0 {
						t.Errorf("%s: More false but changes follow", tc.area)
					}
				}
				break
			}
			if n == 0 || pages > 20 {
				t.Fatalf("%s: More with an empty page", tc.area)
			}
			after = ch.Last
		}
		eq(t, fmt.Sprintf("changes of %s by %d", tc.area, tc.limit), got, tc.want)
	}
	// An empty page keeps after.
	ch := changes(t, s, "A", 1000, 5)
	eq(t, "empty page", ch.Last, int64(1000))
	if ch.More {
		t.Error("empty page: More")
	}
}

func testKeys(t *testing.T, s registry.Store) {
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		keys, err := tx.Keys(ctx)
		eq(t, "no keys", len(keys), 0)
		return err
	})
	k2 := registry.KeyRow{KeyID: "reg-2", PublicKey: key(2), NotBefore: at(time.Hour)}
	k1 := registry.KeyRow{KeyID: "reg-1", PublicKey: key(1), NotBefore: at(0)}
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		if err := tx.PutKey(ctx, k2); err != nil {
			return err
		}
		return tx.PutKey(ctx, k1)
	})
	// Rotation: reg-1 gets an end, and its change number moves on.
	k1.NotAfter = at(48 * time.Hour)
	in(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.PutKey(ctx, k1) })
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		keys, err := tx.Keys(ctx)
		if err != nil {
			return err
		}
		eq(t, "keys", len(keys), 2)
		eq(t, "ordered by id", keys[0].KeyID, "reg-1")
		eq(t, "rotated end", keys[0].NotAfter, k1.NotAfter)
		eq(t, "start", keys[1].NotBefore, k2.NotBefore)
		eq(t, "no end", keys[1].NotAfter.IsZero(), true)
		eq(t, "public key", []byte(keys[1].PublicKey), []byte(k2.PublicKey))
		if keys[0].Seq <= keys[1].Seq {
			t.Errorf("rotated key's change number %d not after %d", keys[0].Seq, keys[1].Seq)
		}
		return nil
	})
}

func testRollback(t *testing.T, s registry.Store) {
	boom := errors.New("boom")
	err := s.InTx(t.Context(), func(ctx context.Context, tx registry.Tx) error {
		if err := tx.InsertDevice(ctx, registry.Device{KioskID: "k1", PublicKey: key(1), EnrolledAt: at(0)}); err != nil {
			return err
		}
		if _, err := tx.UseNonce(ctx, "k1", "n1", at(0)); err != nil {
			return err
		}
		if err := tx.PutResidents(ctx, []registry.ResidentRow{{NIK: "n1", Kecamatan: "A"}}); err != nil {
			return err
		}
		return fmt.Errorf("rule says no: %w", boom)
	})
	isErr(t, "InTx", err, boom)
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		_, err := tx.Device(ctx, "k1")
		isErr(t, "device after rollback", err, registry.ErrNotFound)
		fresh, err := tx.UseNonce(ctx, "k1", "n1", at(0))
		if err != nil || !fresh {
			t.Errorf("nonce after rollback: fresh %v, %v", fresh, err)
		}
		_, err = tx.Resident(ctx, "n1")
		isErr(t, "resident after rollback", err, registry.ErrNotFound)
		return nil
	})
	// The change number of the rolled-back write is not used up.
	in(t, s, func(ctx context.Context, tx registry.Tx) error {
		return tx.PutResidents(ctx, []registry.ResidentRow{{NIK: "n2", Kecamatan: "A"}})
	})
	eq(t, "first change number", changes(t, s, "A", 0, 10).Last, int64(1))
}
