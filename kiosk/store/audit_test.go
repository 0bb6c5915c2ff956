package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
)

// auditStore makes a closed store with an audit log of 1 (creation) + 5 entries.
func auditStore(t *testing.T) string {
	t.Helper()
	s, path := mustCreate(t, testOptions())
	for i := range 5 {
		ev := kiosk.AuditEvent{OfficerID: "op1", Action: "test.event", Subject: fmt.Sprintf("rec-%d", i),
			Detail: "detail"}
		if err := s.Record(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if n := auditLen(t, s); n != 6 {
		t.Fatalf("audit length = %d, want 6", n)
	}
	s.Close()
	return path
}

// tamper edits the file through a second connection, as someone holding the file would:
// dropping the append-only triggers first.
func tamper(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db := rawDB(t, path)
	for _, q := range append([]string{"DROP TRIGGER audit_no_update", "DROP TRIGGER audit_no_delete"}, stmts...) {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
}

func TestAuditDetectsTampering(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(t *testing.T, db *sql.DB)
		stmts []string
		entry int64
		says  string
	}{
		{name: "EditedAction", stmts: []string{"UPDATE audit SET action = 'x' WHERE seq = 3"}, entry: 3, says: "edited"},
		{name: "EditedTime", stmts: []string{"UPDATE audit SET at = at + 1 WHERE seq = 4"}, entry: 4, says: "edited"},
		{name: "DeletedMiddle", stmts: []string{"DELETE FROM audit WHERE seq = 2"}, entry: 2, says: "missing"},
		{name: "DeletedNewest", stmts: []string{"DELETE FROM audit WHERE seq = 6"}, entry: 6, says: "missing"},
		{name: "DeletedAll", stmts: []string{"DELETE FROM audit"}, entry: 1, says: "missing"},
		{name: "Renumbered", stmts: []string{"DELETE FROM audit WHERE seq = 6", "UPDATE audit SET seq = 6 WHERE seq = 5"}, entry: 5, says: "missing"},
		{name: "HeadRemoved", stmts: []string{"DELETE FROM meta WHERE key = 'audit_head'"}, entry: 1, says: "head"},
		{name: "RehashedWithoutKey", edit: rehashFrom(3), entry: 3, says: "seal is invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := auditStore(t)
			tamper(t, path, tc.stmts...)
			if tc.edit != nil {
				tc.edit(t, rawDB(t, path))
			}
			// Verify reports what Open refuses (a store behind its anchor), so the chain's
			// own finding is seen (the anchor has its tests in integrity_test.go).
			rep, err := Verify(context.Background(), path, []byte(testSecret), testOptions())
			if err != nil {
				t.Fatal(err)
			}
			err = rep.Audit
			if !errors.Is(err, ErrAuditBroken) {
				t.Fatalf("err = %v, want ErrAuditBroken", err)
			}
			var ce *ChainError
			if !errors.As(err, &ce) {
				t.Fatalf("err %v carries no *ChainError", err)
			}
			if ce.Entry != tc.entry || !strings.Contains(ce.Reason, tc.says) {
				t.Errorf("got %v, want entry %d saying %q", ce, tc.entry, tc.says)
			}
		})
	}
}

// rehashFrom edits entry seq and recomputes the plain SHA-256 chain from there on, as an
// attacker who knows the format but not the key would.
func rehashFrom(seq int64) func(*testing.T, *sql.DB) {
	return func(t *testing.T, db *sql.DB) {
		if _, err := db.Exec("DROP TRIGGER IF EXISTS audit_no_update"); err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query("SELECT seq, at, officer_id, action, subject, detail_sealed, prev_hash, hash_version, detail_digest FROM audit WHERE seq >= ? ORDER BY seq", seq-1)
		if err != nil {
			t.Fatal(err)
		}
		var es []auditEntry
		var prev []byte
		for rows.Next() {
			var e auditEntry
			var p []byte
			rows.Scan(&e.seq, &e.at, &e.officer, &e.action, &e.subject, &e.detail, &p, &e.version, &e.digest)
			if prev == nil {
				prev = p
			}
			es = append(es, e)
		}
		rows.Close()
		for i, e := range es {
			if e.seq == seq {
				e.action = "forged"
			}
			h := e.hash(prev)
			if i > 0 {
				if _, err := db.Exec("UPDATE audit SET action = ?, prev_hash = ?, hash = ? WHERE seq = ?", e.action, prev, h, e.seq); err != nil {
					t.Fatal(err)
				}
			}
			prev = h
		}
		if len(prev) != sha256.Size {
			t.Fatal("no entries rehashed")
		}
	}
}

func TestAuditRejectsPlainNIK(t *testing.T) {
	s, _ := mustCreate(t, testOptions())
	for _, subject := range []string{string(testNIK), "warga " + string(testNIK) + " datang"} {
		err := s.Record(context.Background(), kiosk.AuditEvent{Action: "x", Subject: subject})
		if !errors.Is(err, ErrPlainNIK) {
			t.Errorf("subject %q: err = %v, want ErrPlainNIK", subject, err)
		}
	}
	if err := s.Record(context.Background(), kiosk.AuditEvent{Action: "x", Subject: testNIK.Masked()}); err != nil {
		t.Errorf("masked NIK refused: %v", err)
	}
}

func TestAuditTriggersStopEdits(t *testing.T) {
	path := auditStore(t)
	db := rawDB(t, path)
	if _, err := db.Exec("UPDATE audit SET action = 'x' WHERE seq = 1"); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("update: err = %v, want append-only refusal", err)
	}
	if _, err := db.Exec("DELETE FROM audit WHERE seq = 1"); err == nil {
		t.Error("delete succeeded")
	}
}
