package registry_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ikd-field/ikd/internal/pgtest"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/mail"
	"github.com/ikd-field/ikd/sync/registry/sqlstore"
)

// failingSender refuses every mail for now, quoting the address as relays do, and remembers
// the codes it was handed.
type failingSender struct {
	mu    gosync.Mutex
	codes []string
}

func (s *failingSender) Send(_ context.Context, m mail.Mail) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes = append(s.codes, m.Code)
	return &mail.SendError{Code: 451, Err: errors.New("451 4.2.0 <" + m.To + ">: mailbox busy, try later")}
}

// fillRegistry runs what puts personal data into the registry: a resident import, a
// citizen's registration, an approval at a kiosk (a mail with a code), a send that fails and
// leaves the code queued, and a lost-phone deactivation. It returns what must not be found
// at rest.
func fillRegistry(t *testing.T, st registry.Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	e := newEnv(t, st)
	data, err := ikdsync.Marshal(ikdsync.ResidentChange{NIK: nikSiti, Name: "Siti Aminah Wulandari",
		BirthPlace: "Tasikmalaya", BirthDate: "1990-01-01", Address: "Jl. Melati Raya No. 17", Kecamatan: "Cibinong"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.InTx(ctx, func(ctx context.Context, tx registry.Tx) error {
		return tx.PutResidents(ctx, []registry.ResidentRow{{NIK: nikSiti, Kecamatan: "Cibinong", Data: data}})
	}); err != nil {
		t.Fatal(err)
	}
	k := e.enroll("Cibinong")
	reg := e.register(nikSiti, "siti.aminah@example.id")
	_, act := k.activation(reg, nikSiti, t0.Add(time.Minute))
	wantAnswer(t, "activation", k.push(act)[0], ikdsync.StatusAccepted, "")
	_, deact := k.deactivation(nikBudi, t0.Add(2*time.Minute))
	wantAnswer(t, "deactivation", k.push(deact)[0], ikdsync.StatusAccepted, "")

	sender := &failingSender{}
	w := &mail.Worker{Queue: st, Sender: sender, Now: e.now}
	if sent, failed, err := w.RunOnce(ctx); err != nil || sent != 0 || failed != 1 {
		t.Fatalf("mail round: sent %d failed %d err %v, want one failed send", sent, failed, err)
	}
	if len(sender.codes) != 1 || len(sender.codes[0]) != 6 {
		t.Fatalf("sender got codes %q, want one 6-digit code (opened from the queue)", sender.codes)
	}

	// Reading back through the seal gives the clear values: the deltas carry the real NIK.
	if err := st.InTx(ctx, func(ctx context.Context, tx registry.Tx) error {
		r, err := tx.Resident(ctx, nikSiti)
		if err != nil || r.NIK != nikSiti || !bytes.Equal(r.Data, data) {
			t.Errorf("resident read back: %+v, %v", r, err)
		}
		ch, err := tx.Changes(ctx, "Cibinong", 0, 10)
		// Siti, then Budi (provisioned for his deactivation).
		if err != nil || len(ch.Residents) != 2 || ch.Residents[0].NIK != nikSiti || ch.Residents[1].NIK != nikBudi {
			t.Errorf("changes: %+v, %v", ch, err)
		}
		regs, err := tx.RegistrationsByNIK(ctx, nikSiti)
		if err != nil || len(regs) != 1 || regs[0].Email != "siti.aminah@example.id" || regs[0].NIK != nikSiti {
			t.Errorf("registrations by NIK: %+v, %v", regs, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"code": sender.codes[0], "e-mail": "siti.aminah@example.id", "phone": "0812-3456-7789",
		"NIK": nikSiti, "deactivated NIK": nikBudi, "name": "Siti Aminah", "birth place": "Tasikmalaya",
		"address": "Jl. Melati Raya",
	}
}

// TestNothingInClearInSQLiteFiles: a copy of the database file and its WAL, taken while the
// registry runs, holds no activation code and no personal data.
func TestNothingInClearInSQLiteFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.db")
	raw, err := sqlstore.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	needles := fillRegistry(t, registry.Seal(raw, testKeys(t)))
	var files int
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		files++
		for what, v := range needles {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s holds the %s in clear", filepath.Base(p), what)
			}
		}
	}
	if files < 2 {
		t.Fatalf("checked %d files, want the database and its WAL", files)
	}
}

// TestNothingInClearInPostgres: every column of every table, as PostgreSQL returns it, holds
// no activation code and no personal data.
func TestNothingInClearInPostgres(t *testing.T) {
	url := pgtest.FreshDatabase(t)
	raw, err := sqlstore.OpenPostgres(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	needles := fillRegistry(t, registry.Seal(raw, testKeys(t)))

	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tables := []string{"registrations", "records", "tombstones", "mails", "residents"}
	for _, table := range tables {
		var rows string
		// A row cast to text shows every column; bytea as hex.
		if err := conn.QueryRow(context.Background(),
			`SELECT coalesce(string_agg(t::text, E'\n'), '') FROM `+table+` t`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows == "" {
			t.Fatalf("table %s is empty: the scenario did not reach it", table)
		}
		for what, v := range needles {
			if bytes.Contains([]byte(rows), []byte(v)) || bytes.Contains([]byte(rows), []byte(hex.EncodeToString([]byte(v)))) {
				t.Errorf("table %s holds the %s in clear", table, what)
			}
		}
	}
}

// TestBrokenMailSealDoesNotStopTheQueue: a queued mail whose sealed code was damaged is failed
// for good and left out of the claim; the other mails are still handed out.
func TestBrokenMailSealDoesNotStopTheQueue(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "registry.db")
	raw, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	st := registry.Seal(raw, testKeys(t))
	if err := st.InTx(ctx, func(ctx context.Context, tx registry.Tx) error {
		for _, id := range []string{"good", "broken"} {
			if err := tx.EnqueueMail(ctx, mail.Mail{ID: id, To: id + "@example.id", Code: "123456",
				ExpiresAt: t0.Add(time.Hour), CreatedAt: t0}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Swap in the good mail's sealed code: valid ciphertext, bound to another row.
	if _, err := db.Exec(`UPDATE mails SET code = (SELECT code FROM mails WHERE id = 'good') WHERE id = 'broken'`); err != nil {
		t.Fatal(err)
	}
	ms, err := st.Claim(ctx, t0, time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].ID != "good" || ms[0].Code != "123456" || ms[0].To != "good@example.id" {
		t.Fatalf("claimed %+v, want the good mail alone, opened", ms)
	}
	var permanent bool
	var code, lastErr string
	if err := db.QueryRow(`SELECT permanent, code, last_error FROM mails WHERE id = 'broken'`).Scan(&permanent, &code, &lastErr); err != nil {
		t.Fatal(err)
	}
	if !permanent || code != "" || !strings.Contains(lastErr, "fails authentication") {
		t.Errorf("broken mail: permanent=%v code=%q last_error=%q; want failed for good, code erased", permanent, code, lastErr)
	}
}
