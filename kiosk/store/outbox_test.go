package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

const testNIK = kiosk.NIK("3201014501900001")

func activation(id, reg string, nik kiosk.NIK) kiosk.OutboxRecord {
	return kiosk.OutboxRecord{ID: id, Kind: kiosk.KindActivation, NIK: nik, RegistrationID: reg,
		Envelope: []byte(`{"id":"` + id + `","nik":"` + string(nik) + `"}`)}
}

func deactivation(id string, nik kiosk.NIK) kiosk.OutboxRecord {
	return kiosk.OutboxRecord{ID: id, Kind: kiosk.KindDeactivation, NIK: nik,
		Envelope: []byte(`{"id":"` + id + `","nik":"` + string(nik) + `"}`)}
}

func approved(id string) kiosk.AuditEvent {
	return kiosk.AuditEvent{OfficerID: "199001012020011001", Action: "activation.approved", Subject: id}
}

func auditLen(t *testing.T, s *Store) int64 {
	t.Helper()
	n, err := s.VerifyAudit(context.Background())
	if err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
	return n
}

func TestOutbox(t *testing.T) {
	ctx := context.Background()
	s, _ := mustCreate(t, testOptions())

	if err := s.Enqueue(ctx, activation("a1", "reg-1", testNIK), approved("a1")); err != nil {
		t.Fatal(err)
	}
	t.Run("SecondApprovalSameRegistration", func(t *testing.T) {
		before := auditLen(t, s)
		err := s.Enqueue(ctx, activation("a2", "reg-1", testNIK), approved("a2"))
		if !errors.Is(err, kiosk.ErrAlreadyActivated) {
			t.Fatalf("err = %v, want ErrAlreadyActivated", err)
		}
		if auditLen(t, s) != before {
			t.Error("a refused enqueue wrote an audit entry")
		}
		if used, _ := s.RegistrationUsed(ctx, "reg-1"); !used {
			t.Error("RegistrationUsed(reg-1) = false")
		}
		if used, _ := s.RegistrationUsed(ctx, "reg-2"); used {
			t.Error("RegistrationUsed(reg-2) = true")
		}
	})
	t.Run("SameRecordIDTwice", func(t *testing.T) {
		err := s.Enqueue(ctx, activation("a1", "reg-9", testNIK), approved("a1"))
		if !errors.Is(err, ErrDuplicateRecord) {
			t.Fatalf("err = %v, want ErrDuplicateRecord", err)
		}
	})
	t.Run("SecondDeactivationWhileOpen", func(t *testing.T) {
		if err := s.Enqueue(ctx, deactivation("d1", testNIK), approved("d1")); err != nil {
			t.Fatal(err)
		}
		err := s.Enqueue(ctx, deactivation("d2", testNIK), approved("d2"))
		if !errors.Is(err, kiosk.ErrAlreadyDeactivated) {
			t.Fatalf("err = %v, want ErrAlreadyDeactivated", err)
		}
	})
	t.Run("DeactivationsSentFirst", func(t *testing.T) {
		recs, err := s.ToSend(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || recs[0].ID != "d1" || recs[1].ID != "a1" {
			t.Fatalf("to send = %v", ids(recs))
		}
		if string(recs[1].Envelope) != `{"id":"a1","nik":"`+string(testNIK)+`"}` || recs[1].NIK != "" {
			t.Errorf("record read back: %+v", recs[1])
		}
	})
	t.Run("Answers", func(t *testing.T) {
		if err := s.MarkSent(ctx, []string{"a1", "d1"}); err != nil {
			t.Fatal(err)
		}
		err := s.RecordAnswers(ctx, []kiosk.RecordAnswer{
			{ID: "d1", State: kiosk.RecordAcknowledged},
			{ID: "a1", State: kiosk.RecordRejected, Reason: "registrasi dicabut"},
		})
		if err != nil {
			t.Fatal(err)
		}
		// A repeated answer (the push was retried) changes nothing.
		if err := s.RecordAnswers(ctx, []kiosk.RecordAnswer{{ID: "a1", State: kiosk.RecordAcknowledged}}); err != nil {
			t.Fatal(err)
		}
		rej, _ := s.Records(ctx, kiosk.RecordRejected, 10)
		if len(rej) != 1 || rej[0].ID != "a1" || rej[0].Answer != "registrasi dicabut" {
			t.Errorf("rejected = %+v", rej)
		}
		counts, _ := s.RecordCounts(ctx)
		if counts[kiosk.RecordAcknowledged] != 1 || counts[kiosk.RecordRejected] != 1 || counts[kiosk.RecordPending] != 0 {
			t.Errorf("counts = %v", counts)
		}
		if err := s.RecordAnswers(ctx, []kiosk.RecordAnswer{{ID: "nope", State: kiosk.RecordAcknowledged}}); !errors.Is(err, ErrUnknownRecord) {
			t.Errorf("unknown record: err = %v", err)
		}
		// A rejected activation still uses up its registration.
		if err := s.Enqueue(ctx, activation("a3", "reg-1", testNIK), approved("a3")); !errors.Is(err, kiosk.ErrAlreadyActivated) {
			t.Errorf("after rejection: err = %v", err)
		}
	})
	t.Run("NewDeactivationAfterAcknowledged", func(t *testing.T) {
		if err := s.Enqueue(ctx, deactivation("d3", testNIK), approved("d3")); err != nil {
			t.Fatalf("err = %v, want a new deactivation allowed", err)
		}
	})
	t.Run("InvalidRecords", func(t *testing.T) {
		for _, rec := range []kiosk.OutboxRecord{
			{Kind: kiosk.KindActivation, RegistrationID: "r", NIK: testNIK, Envelope: []byte("x")},
			{ID: "x1", Kind: kiosk.KindActivation, NIK: testNIK, Envelope: []byte("x")},
			{ID: "x2", Kind: kiosk.KindDeactivation, Envelope: []byte("x")},
			{ID: "x3", Kind: "payment", Envelope: []byte("x")},
			{ID: "x4", Kind: kiosk.KindAuditCheckpoint},
		} {
			if err := s.Enqueue(ctx, rec, approved(rec.ID)); !errors.Is(err, ErrInvalidRecord) {
				t.Errorf("%+v: err = %v, want ErrInvalidRecord", rec, err)
			}
		}
	})
	t.Run("PlainNIKInAuditSubject", func(t *testing.T) {
		ev := approved("a9")
		ev.Subject = "nik " + string(testNIK)
		err := s.Enqueue(ctx, activation("a9", "reg-9", testNIK), ev)
		if !errors.Is(err, ErrPlainNIK) {
			t.Fatalf("err = %v, want ErrPlainNIK", err)
		}
		if used, _ := s.RegistrationUsed(ctx, "reg-9"); used {
			t.Error("the record was written although its audit entry was refused")
		}
	})
}

func reissue(id, reg string, nik kiosk.NIK) kiosk.OutboxRecord {
	return kiosk.OutboxRecord{ID: id, Kind: kiosk.KindCodeReissue, NIK: nik, RegistrationID: reg,
		Envelope: []byte(`{"id":"` + id + `","registration_id":"` + reg + `"}`)}
}

func TestOutboxCodeReissue(t *testing.T) {
	ctx := context.Background()
	s, _ := mustCreate(t, testOptions())
	ev := func(id string) kiosk.AuditEvent {
		return kiosk.AuditEvent{OfficerID: "199001012020011001", Action: "code_reissue.requested", Subject: id}
	}
	if err := s.Enqueue(ctx, activation("a1", "reg-1", testNIK), approved("a1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, reissue("c1", "reg-1", testNIK), ev("c1")); err != nil {
		t.Fatalf("a re-issue for an activated registration: %v", err)
	}
	if err := s.Enqueue(ctx, reissue("c2", "reg-1", testNIK), ev("c2")); !errors.Is(err, kiosk.ErrReissuePending) {
		t.Fatalf("a second re-issue while the first is open: %v, want ErrReissuePending", err)
	}
	if err := s.Enqueue(ctx, reissue("c3", "reg-2", testNIK), ev("c3")); err != nil {
		t.Fatalf("a re-issue of another registration: %v", err)
	}
	recs, err := s.ToSend(ctx, 10)
	if err != nil || len(recs) != 3 || recs[1].ID != "c1" || recs[1].Kind != kiosk.KindCodeReissue {
		t.Fatalf("to send %v, %v", ids(recs), err)
	}
	if err := s.MarkSent(ctx, []string{"c1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, reissue("c4", "reg-1", testNIK), ev("c4")); !errors.Is(err, kiosk.ErrReissuePending) {
		t.Fatalf("a re-issue while the first is sent: %v, want ErrReissuePending", err)
	}
	// Once the registry answered, another may be asked for (the registry has its own limit).
	if err := s.RecordAnswers(ctx, []kiosk.RecordAnswer{{ID: "c1", State: kiosk.RecordRejected, Reason: "reissue.code_still_valid"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, reissue("c5", "reg-1", testNIK), ev("c5")); err != nil {
		t.Fatalf("a re-issue after the answer: %v", err)
	}
	for _, rec := range []kiosk.OutboxRecord{
		{ID: "x1", Kind: kiosk.KindCodeReissue, NIK: testNIK, Envelope: []byte("x")},
		{ID: "x2", Kind: kiosk.KindCodeReissue, RegistrationID: "reg-3", Envelope: []byte("x")},
	} {
		if err := s.Enqueue(ctx, rec, ev(rec.ID)); !errors.Is(err, ErrInvalidRecord) {
			t.Errorf("%+v: err = %v, want ErrInvalidRecord", rec, err)
		}
	}
}

func ids(recs []kiosk.OutboxRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func TestConcurrentEnqueue(t *testing.T) {
	ctx := context.Background()
	s, _ := mustCreate(t, testOptions())
	if _, err := s.ImportResidents(ctx, ndjson(t, snapshot.Synthetic(1, 0)), ""); err != nil {
		t.Fatal(err)
	}
	const workers, each = 4, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*2)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				errs <- s.Enqueue(ctx, activation(id, "reg-"+id, testNIK), approved(id))
				_, err := s.ResidentByNIK(ctx, snapshot.Synthetic(1, 0).NIK)
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	counts, _ := s.RecordCounts(ctx)
	if counts[kiosk.RecordPending] != workers*each {
		t.Errorf("pending = %d, want %d", counts[kiosk.RecordPending], workers*each)
	}
	// One entry at create, one import, one per record.
	if n := auditLen(t, s); n != 2+workers*each {
		t.Errorf("audit length = %d, want %d", n, 2+workers*each)
	}
}

// TestMigrationKeepsOutboxForReissues: a schema-3 store, whose outbox allowed three kinds,
// keeps its records (and their MACs) when migration 4 rebuilds the table for re-issues.
func TestMigrationKeepsOutboxForReissues(t *testing.T) {
	ctx := context.Background()
	tr := makeTrial(t)
	auditAsSchema4(t, tr.path, trialOptions())
	edit(t, tr.path,
		`CREATE TABLE outbox_v3 (
			seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
			kind TEXT NOT NULL CHECK (kind IN ('activation', 'deactivation', 'audit_checkpoint')),
			nik_bi BLOB, reg_bi BLOB, envelope BLOB NOT NULL,
			state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'acknowledged', 'rejected')),
			answer TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, mac BLOB
		) STRICT`,
		"INSERT INTO outbox_v3 SELECT * FROM outbox",
		"DROP TABLE outbox",
		"ALTER TABLE outbox_v3 RENAME TO outbox",
		"PRAGMA user_version = 3")
	s := mustOpen(t, tr.path, trialOptions())
	if rep, err := s.Verify(ctx); err != nil || !rep.OK() {
		t.Fatalf("verify after migration: %+v, %v", rep, err)
	}
	recs, err := s.Records(ctx, "", 10)
	if err != nil || len(recs) != 3 {
		t.Fatalf("records after migration: %d, %v", len(recs), err)
	}
	ev := kiosk.AuditEvent{OfficerID: "sup1", Action: "code_reissue.requested", Subject: "c1"}
	if err := s.Enqueue(ctx, reissue("c1", "reg-1", testNIK), ev); err != nil {
		t.Fatalf("a re-issue after migration: %v", err)
	}
}
