package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// The trial of issue 8, repeated: a store made and used as ikdctl would, closed, then edited
// with database/sql as an insider with sqlite3 and no unlock secret would.

const (
	supPIN = "240817"
	offPIN = "583920"
)

var (
	sup1 = kiosk.Officer{ID: "sup1", Name: "Budi Santoso", Role: kiosk.RoleSupervisor}
	off1 = kiosk.Officer{ID: "off1", Name: "Rina Wati", Role: kiosk.RoleOfficer}
	off2 = kiosk.Officer{ID: "off2", Name: "Dewi Lestari", Role: kiosk.RoleOfficer}
)

// trial is a closed store with two supervisors' worth of trust in it.
type trial struct {
	path      string
	residents []kiosk.Resident
	// older is resident 0's row while it was still active; it is inactive now.
	older storedResident
}

func trialOptions() Options {
	o := testOptions()
	o.Lockout = kiosk.LockoutPolicy{MaxAttempts: 2, Duration: time.Hour, MaxLockouts: 3}
	return o
}

func makeTrial(t *testing.T) trial {
	t.Helper()
	ctx := context.Background()
	s, path := mustCreate(t, trialOptions())
	for _, o := range []struct {
		o   kiosk.Officer
		pin string
	}{{sup1, supPIN}, {off1, offPIN}, {off2, offPIN}} {
		if err := s.AddOfficer(ctx, "", o.o, o.pin); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // off2 is locked out
		s.Login(ctx, "off2", "999999")
	}
	if err := s.SetRegistryURL(ctx, "https://registry.example.id"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLimits(ctx, Limits{Stale: kiosk.DefaultStalePolicy, Retention: DefaultRetention}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRegistryKey(ctx, "sup1", kiosk.RegistryKey{KeyID: "reg-1", PublicKey: bytes.Repeat([]byte{1}, 32)}); err != nil {
		t.Fatal(err)
	}
	rs := []kiosk.Resident{snapshot.Synthetic(5, 0), snapshot.Synthetic(5, 1), snapshot.Synthetic(5, 2)}
	if _, err := s.ApplyResidents(ctx, rs, nil, "c1"); err != nil {
		t.Fatal(err)
	}
	tr := trial{path: path, residents: rs}
	var err error
	tr.older, err = scanResident(s.db.QueryRow("SELECT " + residentColumns + " FROM residents WHERE id = 1"))
	if err != nil {
		t.Fatal(err)
	}
	inactive := rs[0]
	inactive.Status = kiosk.ResidentInactive
	if _, err := s.ApplyResidents(ctx, []kiosk.Resident{inactive}, nil, "c2"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []kiosk.OutboxRecord{activation("a1", "r1", testNIK), activation("a2", "r2", testNIK),
		deactivation("d1", rs[1].NIK)} {
		if err := s.Enqueue(ctx, r, approved(r.ID)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	return tr
}

// clone copies the closed trial store (and its anchor) so that each case edits its own.
func (tr trial) clone(t *testing.T) trial {
	t.Helper()
	c := tr
	c.path = filepath.Join(t.TempDir(), "kiosk.db")
	copyFile(t, tr.path, c.path)
	copyFile(t, tr.path+anchorSuffix, c.path+anchorSuffix)
	return c
}

func edit(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db := rawDB(t, path)
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
}

// wantTampered checks that err matches ErrTampered and names a row of table.
func wantTampered(t *testing.T, err error, table, row string) {
	t.Helper()
	if !errors.Is(err, ErrTampered) {
		t.Fatalf("err = %v, want ErrTampered", err)
	}
	var rows []RowError
	var re *RowError
	var te *TamperedError
	switch {
	case errors.As(err, &te):
		rows = te.Rows
	case errors.As(err, &re):
		rows = []RowError{*re}
	}
	if !slices.ContainsFunc(rows, func(r RowError) bool { return r.Table == table && strings.Contains(r.Row, row) }) {
		t.Fatalf("err %v does not name %s row %s", err, table, row)
	}
}

func TestSQLiteEditsAreRefused(t *testing.T) {
	ctx := context.Background()
	base := makeTrial(t)
	for _, tc := range []struct {
		name       string
		stmts      []string
		table, row string // what store verify must name first in the table
		check      func(t *testing.T, s *Store, tr trial)
	}{
		{name: "PlantedRegistryKey", table: "registry_keys", row: "evil",
			stmts: []string{"INSERT INTO registry_keys (kid, public_key, not_before, not_after, added_at) VALUES ('evil', randomblob(32), 0, 0, 0)"},
			check: func(t *testing.T, s *Store, _ trial) {
				_, err := s.RegistryKey(ctx, "evil")
				wantTampered(t, err, "registry_keys", "evil")
				keys, err := s.RegistryKeys(ctx)
				wantTampered(t, err, "registry_keys", "evil")
				if len(keys) != 1 || keys[0].KeyID != "reg-1" {
					t.Errorf("good keys = %+v, want reg-1 alone", keys)
				}
			}},
		{name: "WidenedKeyValidity", table: "registry_keys", row: "reg-1",
			stmts: []string{"UPDATE registry_keys SET not_after = 1 WHERE kid = 'reg-1'"},
			check: func(t *testing.T, s *Store, _ trial) {
				_, err := s.RegistryKey(ctx, "reg-1")
				wantTampered(t, err, "registry_keys", "reg-1")
			}},
		{name: "PromotedOfficer", table: "officers", row: "off1",
			stmts: []string{"UPDATE officers SET role = 'supervisor' WHERE id = 'off1'"},
			check: func(t *testing.T, s *Store, _ trial) {
				o, err := s.Login(ctx, "off1", offPIN)
				wantTampered(t, err, "officers", "off1")
				if o.Role == kiosk.RoleSupervisor {
					t.Error("the promoted officer signed in as a supervisor")
				}
				list, err := s.Officers(ctx)
				wantTampered(t, err, "officers", "off1")
				if len(list) != 2 || list[0].ID != "off2" || list[1].ID != "sup1" {
					t.Errorf("good officers = %+v", list)
				}
				if err := s.UnlockOfficer(ctx, kiosk.Officer{ID: "off1", Role: kiosk.RoleSupervisor}, "off2"); !errors.Is(err, ErrTampered) {
					t.Errorf("unlock by the promoted officer: err = %v, want ErrTampered", err)
				}
			}},
		{name: "LockoutCleared", table: "officers", row: "off2",
			stmts: []string{"UPDATE officers SET locked_until = 0, failed_attempts = 0, lockouts = 0 WHERE id = 'off2'"},
			check: func(t *testing.T, s *Store, _ trial) {
				_, err := s.Login(ctx, "off2", offPIN)
				wantTampered(t, err, "officers", "off2")
			}},
		{name: "DisabledCleared", table: "officers", row: "sup1",
			stmts: []string{"UPDATE officers SET disabled = 1 WHERE id = 'sup1'"},
			check: func(t *testing.T, s *Store, _ trial) {
				_, err := s.Login(ctx, "sup1", supPIN)
				wantTampered(t, err, "officers", "sup1")
			}},
		{name: "DeletedOutboxRecord", table: "outbox", row: "1",
			stmts: []string{"DELETE FROM outbox WHERE id = 'a1'"},
			check: func(t *testing.T, s *Store, _ trial) {
				used, err := s.RegistrationUsed(ctx, "r1")
				wantTampered(t, err, "outbox", "")
				if used {
					t.Error("used = true with an error")
				}
				err = s.Enqueue(ctx, activation("a1-again", "r1", testNIK), approved("a1-again"))
				wantTampered(t, err, "outbox", "")
			}},
		{name: "MarkedAcknowledged", table: "outbox", row: "a2",
			stmts: []string{"UPDATE outbox SET state = 'acknowledged' WHERE id = 'a2'"},
			check: func(t *testing.T, s *Store, _ trial) {
				recs, err := s.ToSend(ctx, 10)
				wantTampered(t, err, "outbox", "a2")
				if got := ids(recs); !slices.Equal(got, []string{"d1", "a1"}) {
					t.Errorf("to send = %v, want [d1 a1]", got)
				}
			}},
		{name: "SwappedEnvelopes", table: "outbox", row: "1",
			stmts: []string{
				"UPDATE outbox SET id = 'tmp' WHERE id = 'a1'",
				"UPDATE outbox SET id = 'a1' WHERE id = 'a2'",
				"UPDATE outbox SET id = 'a2' WHERE id = 'tmp'"},
			check: func(t *testing.T, s *Store, _ trial) {
				recs, err := s.Records(ctx, "", 10)
				wantTampered(t, err, "outbox", "a1")
				wantTampered(t, err, "outbox", "a2")
				if got := ids(recs); !slices.Equal(got, []string{"d1"}) {
					t.Errorf("records = %v, want [d1]", got)
				}
			}},
		{name: "EditedKecamatan", table: "residents", row: "2",
			stmts: []string{"UPDATE residents SET kecamatan = 'Kecamatan Lain' WHERE id = 2"},
			check: func(t *testing.T, s *Store, tr trial) {
				_, err := s.ResidentByNIK(ctx, tr.residents[1].NIK)
				wantTampered(t, err, "residents", "2")
				var seen []kiosk.NIK
				err = s.EachResident(ctx, func(r kiosk.Resident) error { seen = append(seen, r.NIK); return nil })
				wantTampered(t, err, "residents", "2")
				if !slices.Contains(seen, tr.residents[2].NIK) || slices.Contains(seen, tr.residents[1].NIK) {
					t.Errorf("1:N index got %v: the good rows must be read, the bad one not", seen)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := base.clone(t)
			edit(t, tr.path, tc.stmts...)
			tc.check(t, mustOpen(t, tr.path, trialOptions()), tr)
			rep, err := Verify(ctx, tr.path, []byte(testSecret), trialOptions())
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatal("store verify found nothing")
			}
			for _, tb := range rep.Tables {
				switch {
				case tb.Table == tc.table && (len(tb.Bad) == 0 || !strings.Contains(tb.Bad[0].Row, tc.row)):
					t.Errorf("verify %s: bad rows %v, want the first to be %s", tb.Table, tb.Bad, tc.row)
				case tb.Table != tc.table && len(tb.Bad) > 0:
					t.Errorf("verify %s: bad rows %v, want none", tb.Table, tb.Bad)
				}
			}
		})
	}
}

func TestOlderResidentRowPutBack(t *testing.T) {
	ctx := context.Background()
	tr := makeTrial(t)
	db := rawDB(t, tr.path)
	if _, err := db.Exec("UPDATE residents SET version = ?, sealed = ?, mac = ? WHERE id = 1",
		tr.older.version, tr.older.sealed, tr.older.mac); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := mustOpen(t, tr.path, trialOptions())
	err := s.EachResident(ctx, func(kiosk.Resident) error { return nil })
	wantTampered(t, err, "residents", "snapshot")
	rep, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res := rep.Tables[3]; res.Table != "residents" || len(res.Bad) != 1 || res.Bad[0].Row != "snapshot" {
		t.Errorf("verify residents = %+v, want the snapshot digest named", res)
	}
}

func TestRollBackIsDetected(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		roll func(t *testing.T, path, backup string, oldHead []byte)
	}{
		{"OlderFileCopiedBack", func(t *testing.T, path, backup string, _ []byte) {
			removeDB(path)
			copyFile(t, backup, path)
		}},
		{"OlderFileCopiedBackAnchorDeleted", func(t *testing.T, path, backup string, _ []byte) {
			removeDB(path)
			copyFile(t, backup, path)
			os.Remove(path + anchorSuffix)
		}},
		{"AuditTailDeletedAndOldHeadPutBack", func(t *testing.T, path, _ string, oldHead []byte) {
			db := rawDB(t, path)
			for _, q := range []string{"DROP TRIGGER audit_no_delete",
				"DELETE FROM audit WHERE seq > (SELECT max(seq) - 2 FROM audit)"} {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Exec("UPDATE meta SET value = ? WHERE key = 'audit_head'", oldHead); err != nil {
				t.Fatal(err)
			}
			db.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, path := mustCreate(t, testOptions())
			if err := s.Enqueue(ctx, activation("a1", "r1", testNIK), approved("a1")); err != nil {
				t.Fatal(err)
			}
			s.Close()
			backup := filepath.Join(t.TempDir(), "old.db")
			copyFile(t, path, backup)
			var oldHead []byte
			db := rawDB(t, path)
			db.QueryRow("SELECT value FROM meta WHERE key = 'audit_head'").Scan(&oldHead)
			db.Close()
			s = mustOpen(t, path, testOptions())
			for _, r := range []kiosk.OutboxRecord{activation("a2", "r2", testNIK), activation("a3", "r3", testNIK)} {
				if err := s.Enqueue(ctx, r, approved(r.ID)); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			tc.roll(t, path, backup, oldHead)

			if _, err := Open(ctx, path, []byte(testSecret), testOptions()); !errors.Is(err, ErrRolledBack) {
				t.Fatalf("Open: err = %v, want ErrRolledBack", err)
			}
			rep, err := Verify(ctx, path, []byte(testSecret), testOptions())
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(rep.Anchor, ErrRolledBack) || rep.OK() {
				t.Errorf("verify: anchor %v, ok %v; want ErrRolledBack", rep.Anchor, rep.OK())
			}

			// The operator who restored a backup on purpose resets the anchor; the audit log
			// says so, and the store opens as usual from then on.
			opts := testOptions()
			opts.Reanchor = true
			mustOpen(t, path, opts).Close()
			var action string
			db = rawDB(t, path)
			err = db.QueryRow("SELECT action FROM audit ORDER BY seq DESC LIMIT 1").Scan(&action)
			db.Close()
			if err != nil || action != "store.reanchored" {
				t.Errorf("newest audit entry %q, %v; want store.reanchored", action, err)
			}
			if s, err := Open(ctx, path, []byte(testSecret), testOptions()); err != nil {
				t.Errorf("open after the reset: %v", err)
			} else {
				s.Close()
			}
		})
	}
}

// An init killed after writing the anchor but before linking the store leaves an anchor
// without a store (sealed with that init's keys); the next init must replace it.
func TestInitIgnoresStaleAnchor(t *testing.T) {
	_, other := mustCreate(t, testOptions())
	path := filepath.Join(t.TempDir(), "kiosk.db")
	copyFile(t, other+anchorSuffix, path+anchorSuffix)
	s, err := Create(context.Background(), path, []byte(testSecret), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(context.Background(), path, []byte(testSecret), testOptions()); err != nil {
		t.Fatalf("open: %v", err)
	} else {
		s.Close()
	}
}

func TestAnchorFromAnotherKioskRefused(t *testing.T) {
	_, a := mustCreate(t, testOptions())
	_, b := mustCreate(t, testOptions())
	copyFile(t, b+anchorSuffix, a+anchorSuffix)
	if _, err := Open(context.Background(), a, []byte(testSecret), testOptions()); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("err = %v, want ErrRolledBack", err)
	}
}

func TestExpectedKioskID(t *testing.T) {
	ctx := context.Background()
	opts := testOptions()
	opts.KioskID = "kiosk-A"
	s, path := mustCreate(t, opts)
	s.Close()
	for _, tc := range []struct {
		name   string
		stmts  []string
		expect string
		want   error
	}{
		{"Matches", nil, "kiosk-A", nil},
		{"NotConfigured", nil, "", nil},
		{"AnotherKiosksDatabase", nil, "kiosk-B", ErrWrongKiosk},
		{"KioskIDEdited", []string{"UPDATE meta SET value = CAST('kiosk-B' AS BLOB) WHERE key = 'kiosk_id'"}, "kiosk-B", ErrTampered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			edit(t, path, tc.stmts...)
			o := testOptions()
			o.ExpectKioskID = tc.expect
			s, err := Open(ctx, path, []byte(testSecret), o)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestKDFFloor(t *testing.T) {
	ctx := context.Background()
	weak := testOptions()
	weak.KDF = KDFParams{Time: 1, MemoryKiB: 16, Threads: 1}
	if _, err := Create(ctx, filepath.Join(t.TempDir(), "kiosk.db"), []byte(testSecret), weak); !errors.Is(err, ErrWeakKDF) {
		t.Errorf("Create with t=1 m=16: err = %v, want ErrWeakKDF", err)
	}
	weak = testOptions()
	weak.KDF.MemoryKiB = MinKDF.MemoryKiB - 1
	if _, err := Create(ctx, filepath.Join(t.TempDir(), "kiosk.db"), []byte(testSecret), weak); !errors.Is(err, ErrWeakKDF) {
		t.Errorf("Create with m below the floor: err = %v, want ErrWeakKDF", err)
	}
	o := testOptions()
	o.PIN = PINParams{Time: 1, MemoryKiB: 1024, Threads: 1}
	s, _ := mustCreate(t, o)
	if err := s.AddOfficer(ctx, "", off1, offPIN); !errors.Is(err, ErrWeakKDF) {
		t.Errorf("AddOfficer with weak PIN hashing: err = %v, want ErrWeakKDF", err)
	}
}

func TestLockoutEscalates(t *testing.T) {
	ctx := context.Background()
	clock := &fixedClock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	opts := testOptions()
	opts.Now = clock.now
	opts.Lockout = kiosk.LockoutPolicy{MaxAttempts: 2, Duration: time.Minute, MaxLockouts: 3}
	s, _ := mustCreate(t, opts)
	for _, o := range []kiosk.Officer{sup1, off1} {
		if err := s.AddOfficer(ctx, "", o, offPIN); err != nil {
			t.Fatal(err)
		}
	}
	fail := func() error {
		s.Login(ctx, "off1", "999999")
		_, err := s.Login(ctx, "off1", "999999")
		return err
	}
	login := func() error { _, err := s.Login(ctx, "off1", offPIN); return err }
	// Lockout 1 lasts a minute, lockout 2 two minutes.
	for i, d := range []time.Duration{time.Minute, 2 * time.Minute} {
		if err := fail(); !errors.Is(err, ErrLockedOut) {
			t.Fatalf("lockout %d: err = %v, want ErrLockedOut", i+1, err)
		}
		clock.t = clock.t.Add(d - time.Second)
		if err := login(); !errors.Is(err, ErrLockedOut) {
			t.Fatalf("lockout %d, %s later: err = %v, want still locked", i+1, d-time.Second, err)
		}
		clock.t = clock.t.Add(time.Second)
	}
	if err := fail(); !errors.Is(err, ErrNeedsUnlock) {
		t.Fatalf("lockout 3: err = %v, want ErrNeedsUnlock", err)
	}
	clock.t = clock.t.AddDate(1, 0, 0)
	if err := login(); !errors.Is(err, ErrNeedsUnlock) {
		t.Fatalf("a year after lockout 3: err = %v, want ErrNeedsUnlock", err)
	}
	if err := s.UnlockOfficer(ctx, off1, "off1"); !errors.Is(err, kiosk.ErrPermission) {
		t.Errorf("unlock by an officer: err = %v, want ErrPermission", err)
	}
	if err := s.UnlockOfficer(ctx, sup1, "off1"); err != nil {
		t.Fatal(err)
	}
	if err := login(); err != nil {
		t.Fatalf("after the supervisor's unlock: %v", err)
	}
}

// TestLoginWorkIsTheSameForEveryID checks the structure of the timing defence: whatever the
// id (unknown, locked, supervisor-locked, disabled, known with a wrong or the right PIN),
// Login runs argon2id exactly once with the same parameters.
func TestLoginWorkIsTheSameForEveryID(t *testing.T) {
	ctx := context.Background()
	opts := trialOptions()
	s, _ := mustCreate(t, opts)
	dis := kiosk.Officer{ID: "dis1", Name: "Ani", Role: kiosk.RoleOfficer, Disabled: true}
	for _, o := range []kiosk.Officer{off1, off2, dis} {
		if err := s.AddOfficer(ctx, "", o, offPIN); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		s.Login(ctx, "off2", "999999")
	}
	type call struct {
		time, mem uint32
		threads   uint8
	}
	var calls []call
	real := argon2IDKey
	t.Cleanup(func() { argon2IDKey = real })
	argon2IDKey = func(pw, salt []byte, tm, mem uint32, th uint8, n uint32) []byte {
		calls = append(calls, call{tm, mem, th})
		return real(pw, salt, tm, mem, th, n)
	}
	want := call{opts.PIN.Time, opts.PIN.MemoryKiB, opts.PIN.Threads}
	for _, tc := range []struct{ name, id, pin string }{
		{"Unknown", "ghost", offPIN},
		{"UnknownNIK", string(testNIK), offPIN},
		{"TooLong", strings.Repeat("x", 200), offPIN},
		{"Locked", "off2", offPIN},
		{"Disabled", "dis1", offPIN},
		{"WrongPIN", "off1", "999999"},
		{"RightPIN", "off1", offPIN},
	} {
		calls = nil
		_, err := s.Login(ctx, tc.id, tc.pin)
		if len(calls) != 1 || calls[0] != want {
			t.Errorf("%s: argon2id calls %v, want one with %v", tc.name, calls, want)
		}
		if err != nil && strings.Contains(err.Error(), string(testNIK)) {
			t.Errorf("%s: the error echoes the typed NIK: %v", tc.name, err)
		}
	}
}

func TestCheckpointRecords(t *testing.T) {
	ctx := context.Background()
	opts := testOptions()
	opts.CheckpointEvery = 4
	opts.NewSealer = func(id string, key ed25519.PrivateKey) (kiosk.Sealer, error) { return ikdsync.NewSealer(id, key) }
	s, _ := mustCreate(t, opts)
	for i := range 4 {
		if err := s.Record(ctx, kiosk.AuditEvent{Action: "test.event", Subject: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := s.Records(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Kind != kiosk.KindAuditCheckpoint {
		t.Fatalf("outbox = %+v, want one audit checkpoint after 4 entries", recs)
	}
	rec, err := ikdsync.Open(recs[0].Envelope, s.DeviceKey().Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	var h []byte
	if err := s.db.QueryRow("SELECT hash FROM audit WHERE seq = ?", rec.Checkpoint.AuditSeq).Scan(&h); err != nil {
		t.Fatal(err)
	}
	if rec.Checkpoint.AuditSeq < 4 || !bytes.Equal(h, rec.Checkpoint.AuditHash) || rec.KioskID != s.KioskID() {
		t.Errorf("checkpoint %+v does not match audit entry hash %x", rec.Checkpoint, h)
	}
	if _, err := s.Checkpoint(ctx); err != nil {
		t.Fatalf("checkpoint on demand: %v", err)
	}
	if n, err := s.VerifyAudit(ctx); err != nil {
		t.Fatalf("audit after checkpoints (%d entries): %v", n, err)
	}
}

// toSchema1 turns a store back into schema 1 as far as the file goes: no MAC columns, no
// sealed summaries, no visit statistics, user_version 1. It is what someone holding the file can do.
func toSchema1(t *testing.T, path string) {
	t.Helper()
	auditAsSchema4(t, path, trialOptions())
	os.Remove(path + anchorSuffix)
	edit(t, path,
		"ALTER TABLE registry_keys DROP COLUMN mac",
		"ALTER TABLE officers DROP COLUMN lockouts", "ALTER TABLE officers DROP COLUMN mac",
		"ALTER TABLE outbox DROP COLUMN mac",
		"ALTER TABLE residents DROP COLUMN version", "ALTER TABLE residents DROP COLUMN mac",
		"DELETE FROM meta WHERE key IN ('outbox_head', 'resident_digest', 'identity_mac')",
		"DROP TABLE visit_stats",
		"PRAGMA user_version = 1")
}

// wrapAsSchema1 wraps the data key as a store made before schema 2 did, which needs the
// unlock secret.
func wrapAsSchema1(t *testing.T, path string) {
	t.Helper()
	db := rawDB(t, path)
	defer db.Close()
	meta := map[string][]byte{}
	for _, k := range []string{metaKDFSalt, metaKDFParams, metaWrappedKey} {
		var v []byte
		if err := db.QueryRow("SELECT value FROM meta WHERE key = ?", k).Scan(&v); err != nil {
			t.Fatal(err)
		}
		meta[k] = v
	}
	p, err := decodeKDFParams(meta[metaKDFParams])
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := unwrapDataKey([]byte(testSecret), meta[metaKDFSalt], p, meta[metaWrappedKey])
	if err != nil {
		t.Fatal(err)
	}
	aead, err := newAEAD(p.derive([]byte(testSecret), meta[metaKDFSalt]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE meta SET value = ? WHERE key = ?", sealWith(aead, key, wrapAADv1), metaWrappedKey); err != nil {
		t.Fatal(err)
	}
}

// TestSchemaSetBackIsRefused: setting a schema-2 store back to schema 1 would have its
// migration sign whatever the file holds; the data key's wrap says it was schema 2.
func TestSchemaSetBackIsRefused(t *testing.T) {
	tr := makeTrial(t)
	toSchema1(t, tr.path)
	edit(t, tr.path, "INSERT INTO registry_keys (kid, public_key, not_before, not_after, added_at) VALUES ('reg-evil', zeroblob(32), 0, 0, 0)")
	_, err := Open(context.Background(), tr.path, []byte(testSecret), trialOptions())
	var re *RowError
	if !errors.Is(err, ErrTampered) || !errors.As(err, &re) || re.Row != "user_version" {
		t.Fatalf("open: %v; want ErrTampered naming user_version", err)
	}
}

// TestMigrationSignsSchema1Store turns a new store back into a genuine schema-1 store and
// checks that the first unlock signs it, and that it verifies.
func TestMigrationSignsSchema1Store(t *testing.T) {
	ctx := context.Background()
	tr := makeTrial(t)
	toSchema1(t, tr.path)
	wrapAsSchema1(t, tr.path)
	s := mustOpen(t, tr.path, trialOptions())
	rep, err := s.Verify(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("verify after migration: %+v, %v", rep, err)
	}
	if _, err := s.Login(ctx, "sup1", supPIN); err != nil {
		t.Errorf("login after migration: %v", err)
	}
	if recs, err := s.Records(ctx, "", 10); err != nil || len(recs) != 3 {
		t.Errorf("records after migration: %d, %v", len(recs), err)
	}
	var v int
	s.db.QueryRow("PRAGMA user_version").Scan(&v)
	if v != len(migrations) {
		t.Errorf("user_version = %d, want %d", v, len(migrations))
	}
	s.Close()
	// Signed once: the key is now wrapped for a schema-2 store, so it cannot be set back.
	toSchema1(t, tr.path)
	if _, err := Open(ctx, tr.path, []byte(testSecret), trialOptions()); !errors.Is(err, ErrTampered) {
		t.Fatalf("open after setting the migrated store back: %v; want ErrTampered", err)
	}
}

func TestVerifyCleanStore(t *testing.T) {
	tr := makeTrial(t)
	rep, err := Verify(context.Background(), tr.path, []byte(testSecret), trialOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.AuditEntries == 0 {
		t.Fatalf("report %+v, want everything intact", rep)
	}
	for _, tb := range rep.Tables {
		if tb.Rows == 0 {
			t.Errorf("verify read no %s rows", tb.Table)
		}
	}
	if _, err := Verify(context.Background(), tr.path, []byte("bukan-rahasianya"), trialOptions()); !errors.Is(err, ErrWrongSecret) {
		t.Errorf("wrong secret: err = %v", err)
	}
}

// TestLockoutUsesAnchoredClock anchors the store's clock years before the PC's wall clock:
// a lockout taken then must still hold, during the run and after a restart, although the wall
// clock says it ended long ago.
func TestLockoutUsesAnchoredClock(t *testing.T) {
	ctx := context.Background()
	opts := testOptions()
	opts.Lockout = kiosk.LockoutPolicy{MaxAttempts: 1, Duration: time.Hour}
	s, path := mustCreate(t, opts)
	if err := s.AddOfficer(ctx, "", off1, offPIN); err != nil {
		t.Fatal(err)
	}
	registryTime := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.AnchorClock(ctx, registryTime); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "off1", "999999"); !errors.Is(err, ErrLockedOut) {
		t.Fatalf("err = %v, want ErrLockedOut", err)
	}
	if _, err := s.Login(ctx, "off1", offPIN); !errors.Is(err, ErrLockedOut) || !strings.Contains(err.Error(), "until 2020-01-01T01:00") {
		t.Fatalf("right PIN during the lockout: err = %v, want locked until 2020-01-01T01:00 (anchored time)", err)
	}
	s.Close()
	s = mustOpen(t, path, opts)
	if _, err := s.Login(ctx, "off1", offPIN); !errors.Is(err, ErrLockedOut) {
		t.Fatalf("after a restart: err = %v, want still locked", err)
	}
}
