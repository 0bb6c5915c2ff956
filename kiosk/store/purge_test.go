package store

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/internal/slowtest"
	"github.com/ikd-field/ikd/kiosk"
)

// clockAt is a settable store clock.
type clockAt struct{ t time.Time }

func (c *clockAt) now() time.Time { return c.t }

// purgeStore holds n acknowledged activations answered at the clock's start, one rejected,
// one still pending and one sent, with their audit entries.
func purgeStore(t testing.TB, n int) (*Store, string, *clockAt) {
	t.Helper()
	ctx := context.Background()
	c := &clockAt{t: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}
	opts := testOptions()
	opts.Now = c.now
	s, path := mustCreate(t, opts)
	var answers []kiosk.RecordAnswer
	for i := range n + 3 {
		id := fmt.Sprintf("rec-%d", i)
		rec := kiosk.OutboxRecord{ID: id, Kind: kiosk.KindActivation, NIK: testNIK, RegistrationID: "reg-" + id,
			Envelope: []byte("signed " + id)}
		if err := s.Enqueue(ctx, rec, kiosk.AuditEvent{OfficerID: "off1", Action: "activation.approved", Subject: id,
			Detail: "nik=" + testNIK.Masked() + " band=match"}); err != nil {
			t.Fatal(err)
		}
		switch {
		case i < n:
			answers = append(answers, kiosk.RecordAnswer{ID: id, State: kiosk.RecordAcknowledged})
		case i == n:
			answers = append(answers, kiosk.RecordAnswer{ID: id, State: kiosk.RecordRejected, Reason: "activation.duplicate"})
		case i == n+1:
			if err := s.MarkSent(ctx, []string{id}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.RecordAnswers(ctx, answers); err != nil {
		t.Fatal(err)
	}
	return s, path, c
}

func TestPurge(t *testing.T) {
	ctx := context.Background()
	s, path, c := purgeStore(t, 5)
	entries, err := s.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Within the retention period nothing goes.
	c.t = c.t.Add(DefaultRetention - time.Hour)
	if rep, err := s.Purge(ctx, DefaultRetention, false); err != nil || rep.Records+rep.AuditDetails != 0 {
		t.Fatalf("purge inside retention: %+v %v", rep, err)
	}
	c.t = c.t.Add(2 * time.Hour)
	dry, err := s.Purge(ctx, DefaultRetention, true)
	if err != nil {
		t.Fatal(err)
	}
	// 5 acknowledged + 1 rejected records; their approvals' and answers' audit details, and
	// the store's creation; not the approvals of the two open records.
	if dry.Records != 6 || dry.AuditDetails != 1+6+6 {
		t.Fatalf("dry run: %+v", dry)
	}
	if again, _ := s.Purge(ctx, DefaultRetention, true); again != dry {
		t.Fatalf("a dry run changed something: %+v then %+v", dry, again)
	}
	rep, err := s.Purge(ctx, DefaultRetention, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != dry.Records || rep.AuditDetails != dry.AuditDetails {
		t.Fatalf("purge %+v, dry run said %+v", rep, dry)
	}
	recs, err := s.Records(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		open := r.State == kiosk.RecordPending || r.State == kiosk.RecordSent
		if open != (len(r.Envelope) > 0) {
			t.Errorf("record %s (%s): envelope of %d bytes", r.ID, r.State, len(r.Envelope))
		}
	}
	// The chain keeps its hashes and verifies; the purge itself is one more entry.
	n, err := s.VerifyAudit(ctx)
	if err != nil || n != entries+1 {
		t.Fatalf("audit after purge: %d entries (%d before), %v", n, entries, err)
	}
	if v, err := s.Verify(ctx); err != nil || !v.OK() {
		t.Fatalf("verify after purge: %+v %v", v, err)
	}
	// A purged activation still refuses its registration a second time.
	if used, err := s.RegistrationUsed(ctx, "reg-rec-0"); err != nil || !used {
		t.Errorf("registration of a purged record: used %v, %v", used, err)
	}
	if rep, _ := s.Purge(ctx, DefaultRetention, false); rep.Records+rep.AuditDetails != 0 {
		t.Errorf("second purge found more: %+v", rep)
	}
	db := rawDB(t, path)
	var left int
	if err := db.QueryRow(`SELECT count(*) FROM outbox WHERE nik_bi IS NOT NULL`).Scan(&left); err != nil || left != 2 {
		t.Errorf("records with a NIK index after purge: %d (%v), want the 2 open ones", left, err)
	}
}

// The trigger lets the purge's erasure through and nothing else, and the chain catches an
// erased detail the purge would not have erased.
func TestPurgeAuditGuards(t *testing.T) {
	ctx := context.Background()
	s, path, _ := purgeStore(t, 1)
	db := rawDB(t, path)
	for _, stmt := range []string{
		`UPDATE audit SET subject = 'x' WHERE seq = 2`,
		`UPDATE audit SET detail_sealed = x'00' WHERE seq = 2`,
		`UPDATE audit SET detail_sealed = x'', action = 'y' WHERE seq = 2`,
		`UPDATE audit SET hash_version = 1, detail_sealed = x'' WHERE seq = 2`,
		`DELETE FROM audit WHERE seq = 2`,
	} {
		if _, err := db.Exec(stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused", stmt, err)
		}
	}
	// An entry written before schema 5 hashes its detail: erasing it (trigger dropped) breaks
	// the chain.
	if _, err := db.Exec(`DROP TRIGGER audit_no_update; UPDATE audit SET hash_version = 1 WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyAudit(ctx); !errors.Is(err, ErrAuditBroken) {
		t.Errorf("version flipped: %v, want broken", err)
	}
	if _, err := db.Exec(`UPDATE audit SET hash_version = 2, detail_digest = x'00' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyAudit(ctx); !errors.Is(err, ErrAuditBroken) {
		t.Errorf("digest edited: %v, want broken", err)
	}
}

// A purged record's envelope cannot be emptied by hand on a record still open.
func TestPurgedEnvelopeOnOpenRecordIsTampering(t *testing.T) {
	ctx := context.Background()
	s, path, _ := purgeStore(t, 1)
	if _, err := rawDB(t, path).Exec(`UPDATE outbox SET envelope = x'' WHERE state = 'pending'`); err != nil {
		t.Fatal(err)
	}
	v, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v.OK() {
		t.Fatalf("an emptied pending envelope passed: %+v", v)
	}
}

// purgeChildEnv makes the test binary act as the purging process the crash test kills.
const purgeChildEnv = "IKD_STORE_PURGE_CHILD"

// TestSlowPurgeCrashSafety kills a purging process with SIGKILL once its first batch is on disk,
// then checks that the store verifies and that a second purge finishes the job.
func TestSlowPurgeCrashSafety(t *testing.T) {
	if path := os.Getenv(purgeChildEnv); path != "" {
		purgeChild(path)
		return
	}
	slowtest.Skip(t, "spawns processes")
	ctx := context.Background()
	const records = 3 * purgeBatch
	s, path, _ := purgeStore(t, records)
	s.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestSlowPurgeCrashSafety$", "-test.count=1")
	cmd.Env = append(os.Environ(), purgeChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "purging" {
	}
	// Kill as soon as the first batch is on disk: the purge is then half done.
	db := rawDB(t, path)
	for {
		var purged int
		if err := db.QueryRow(`SELECT count(*) FROM outbox WHERE length(envelope) = 0`).Scan(&purged); err != nil {
			t.Fatal(err)
		}
		if purged > 0 {
			break
		}
	}
	cmd.Process.Kill() // SIGKILL: no deferred code, no clean close
	cmd.Wait()

	c := &clockAt{t: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC).Add(DefaultRetention + time.Hour)}
	opts := testOptions()
	opts.Now = c.now
	s = mustOpen(t, path, opts)
	if v, err := s.Verify(ctx); err != nil || !v.OK() {
		t.Fatalf("verify after the killed purge: %+v %v", v, err)
	}
	left, err := s.Purge(ctx, DefaultRetention, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after the kill: %d of %d records still to purge, %d audit details", left.Records, records+1, left.AuditDetails)
	rep, err := s.Purge(ctx, DefaultRetention, false)
	if err != nil || rep.Records != left.Records {
		t.Fatalf("second purge: %+v %v, want %d records", rep, err, left.Records)
	}
	if v, err := s.Verify(ctx); err != nil || !v.OK() {
		t.Fatalf("verify after the second purge: %+v %v", v, err)
	}
	if again, _ := s.Purge(ctx, DefaultRetention, true); again.Records != 0 || again.AuditDetails != 0 {
		t.Fatalf("left after both purges: %+v", again)
	}
}

// purgeChild purges the store at path again and again until killed; the parent kills it when
// the first batch is on disk, so the kill lands in the middle of the first purge.
func purgeChild(path string) {
	ctx := context.Background()
	c := &clockAt{t: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC).Add(DefaultRetention + time.Hour)}
	opts := testOptions()
	opts.Now = c.now
	s, err := Open(ctx, path, []byte(testSecret), opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "purge child:", err)
		os.Exit(3)
	}
	fmt.Println("purging")
	for {
		if _, err := s.Purge(ctx, DefaultRetention, false); err != nil {
			fmt.Fprintln(os.Stderr, "purge child:", err)
			os.Exit(4)
		}
	}
}

// auditAsSchema4 rewrites the audit log of the store at path as a store before schema 5 wrote
// it: every entry hashed over its detail (version 1), migration 5's columns and trigger gone,
// the schema at 4, and the anchor rewritten for the new hashes.
func auditAsSchema4(t *testing.T, path string, opts Options) {
	t.Helper()
	ctx := context.Background()
	s := mustOpen(t, path, opts)
	if _, err := s.db.ExecContext(ctx, "DROP TRIGGER audit_no_update"); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.QueryContext(ctx, "SELECT seq, at, officer_id, action, subject, detail_sealed FROM audit ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	var es []auditEntry
	for rows.Next() {
		e := auditEntry{version: 1}
		if err := rows.Scan(&e.seq, &e.at, &e.officer, &e.action, &e.subject, &e.detail); err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	rows.Close()
	prev := make([]byte, 32)
	for _, e := range es {
		h := e.hash(prev)
		if _, err := s.db.ExecContext(ctx, "UPDATE audit SET prev_hash = ?, hash = ?, mac = ? WHERE seq = ?",
			prev, h, s.auditMAC("entry", e.seq, h), e.seq); err != nil {
			t.Fatal(err)
		}
		prev = h
	}
	last := es[len(es)-1].seq
	head := append(binary.BigEndian.AppendUint64(nil, uint64(last)), prev...)
	if err := setMeta(ctx, s.db, metaAuditHead, append(head, s.auditMAC("head", last, prev)...)); err != nil {
		t.Fatal(err)
	}
	cur, err := s.currentAnchor(ctx, s.db)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path + anchorSuffix) // writeAnchor keeps an anchor that has seen as much
	if err := s.writeAnchor(path, cur); err != nil {
		t.Fatal(err)
	}
	s.Close()
	edit(t, path, "ALTER TABLE audit DROP COLUMN hash_version", "ALTER TABLE audit DROP COLUMN detail_digest",
		`CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
			BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END`,
		"PRAGMA user_version = 4")
}

// A store from before schema 5 migrates with its audit chain intact; its old entries keep
// their detail through a purge, and the entries written after the migration can be purged.
func TestMigrationKeepsOldAuditChain(t *testing.T) {
	ctx := context.Background()
	tr := makeTrial(t)
	auditAsSchema4(t, tr.path, trialOptions())
	c := &clockAt{t: time.Now().Add(2 * DefaultRetention)}
	opts := trialOptions()
	opts.Now = c.now
	s := mustOpen(t, tr.path, opts)
	before, err := s.VerifyAudit(ctx)
	if err != nil {
		t.Fatalf("audit after migration: %v", err)
	}
	if err := s.Record(ctx, kiosk.AuditEvent{Action: "x", Subject: "y", Detail: "z", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Purge(ctx, DefaultRetention, false)
	if err != nil || rep.AuditDetails != 1 {
		t.Fatalf("purge: %+v %v, want only the new entry's detail", rep, err)
	}
	if n, err := s.VerifyAudit(ctx); err != nil || n != before+2 {
		t.Fatalf("audit after purge: %d, %v", n, err)
	}
}
