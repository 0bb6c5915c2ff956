package sqlstore

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/mail"
)

// hotTables are the tables distributed by region in docs/SCALING.md.
var hotTables = []string{"registrations", "records", "tombstones", "residents", "mails"}

// TestRegionColumns: every hot table has a NOT NULL region column, and no unique key of a
// hot table lacks it beyond those docs/SCALING.md lists as changed only at distribution time
// (a table distributed by region needs the region in each unique key).
func TestRegionColumns(t *testing.T) {
	// withoutRegion are the unique keys known to lack the region, as table(columns).
	withoutRegion := []string{"registrations(id)", "records(id)", "mails(id)", "tombstones(id)",
		"residents(nik)", "residents(seq)"}
	eachBackend(t, func(t *testing.T, dsn func(testing.TB) string, open func(*testing.T, string) *Store) {
		s := open(t, dsn(t))
		ctx := t.Context()
		var seen int
		for _, table := range hotTables {
			nullable, err := regionNullable(ctx, s, table)
			if err != nil {
				t.Errorf("%s: %v", table, err)
				continue
			}
			if nullable {
				t.Errorf("%s: region is nullable", table)
			}
			keys, err := uniqueKeys(ctx, s, table)
			if err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			for name, cols := range keys {
				seen++
				key := table + "(" + strings.Join(cols, ", ") + ")"
				if !slices.Contains(cols, "region") && !slices.Contains(withoutRegion, key) {
					t.Errorf("unique key %s on %s lacks the region", name, key)
				}
			}
		}
		// registrations, records, mails and residents have unique keys: fewer read means the
		// query is wrong, not the schema.
		if seen < 5 {
			t.Errorf("read %d unique keys of the hot tables, want at least 5", seen)
		}
	})
}

// regionNullable reports whether table's region column accepts NULL; an error if it has none.
func regionNullable(ctx context.Context, s *Store, table string) (bool, error) {
	var q string
	if _, ok := s.d.(*pgDialect); ok {
		q = `SELECT is_nullable = 'YES' FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? AND column_name = 'region'`
	} else {
		q = `SELECT "notnull" = 0 FROM pragma_table_info(?) WHERE name = 'region'`
	}
	var nullable bool
	if err := s.d.reader().queryRow(ctx, q, table).Scan(&nullable); err != nil {
		return false, fmt.Errorf("region column: %w", err)
	}
	return nullable, nil
}

// uniqueKeys returns the columns, in order, of table's unique indexes, primary key included
// (SQLite's INTEGER PRIMARY KEY is the rowid and has none).
func uniqueKeys(ctx context.Context, s *Store, table string) (map[string][]string, error) {
	var q string
	if _, ok := s.d.(*pgDialect); ok {
		q = `SELECT i.relname, a.attname FROM pg_index x
			JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
			JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) ON true
			JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
			WHERE c.relname = ? AND x.indisunique
			AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
			ORDER BY i.relname, k.n`
	} else {
		q = `SELECT l.name, i.name FROM pragma_index_list(?) l JOIN pragma_index_info(l.name) i
			WHERE l."unique" = 1 ORDER BY l.name, i.seqno`
	}
	rows, err := s.d.reader().query(ctx, q, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	keys := map[string][]string{}
	for rows.Next() {
		var name, col string
		if err := rows.Scan(&name, &col); err != nil {
			return nil, err
		}
		keys[name] = append(keys[name], col)
	}
	return keys, rows.Err()
}

// recordingDialect records every statement its transactions run.
type recordingDialect struct {
	dialect
	mu    sync.Mutex
	stmts []string
}

func (d *recordingDialect) begin(ctx context.Context, readOnly bool) (dbTx, error) {
	t, err := d.dialect.begin(ctx, readOnly)
	if err != nil {
		return nil, err
	}
	return &recordingTx{dbTx: t, d: d}, nil
}

func (d *recordingDialect) record(q string) {
	d.mu.Lock()
	d.stmts = append(d.stmts, q)
	d.mu.Unlock()
}

// take returns the statements recorded since the last take.
func (d *recordingDialect) take() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.stmts
	d.stmts = nil
	return s
}

type recordingTx struct {
	dbTx
	d *recordingDialect
}

func (t *recordingTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	t.d.record(q)
	return t.dbTx.exec(ctx, q, args...)
}

func (t *recordingTx) query(ctx context.Context, q string, args ...any) (rows, error) {
	t.d.record(q)
	return t.dbTx.query(ctx, q, args...)
}

func (t *recordingTx) queryRow(ctx context.Context, q string, args ...any) row {
	t.d.record(q)
	return t.dbTx.queryRow(ctx, q, args...)
}

func (t *recordingTx) batch(ctx context.Context, q string, args [][]any) ([]int64, error) {
	t.d.record(q)
	return t.dbTx.batch(ctx, q, args)
}

func (t *recordingTx) pipeline(ctx context.Context, stmts []stmt) ([]int64, error) {
	for _, s := range stmts {
		t.d.record(s.q)
	}
	return t.dbTx.pipeline(ctx, stmts)
}

var (
	hotTableRE = regexp.MustCompile(`\b(?:FROM|INTO|UPDATE|JOIN)\s+(registrations|records|tombstones|residents|mails)\b`)
	// regionRE is the region predicate of a read or update (regionPred, or a batch's
	// region = ANY) or the region column of an insert.
	regionRE = regexp.MustCompile(`region IN \(\?, ''\)|region = ANY\(\?\)|INSERT INTO \w+ \([^)]*\bregion\b`)
)

// TestIngestStatementsCarryRegion runs the store methods ingest and its authorization call on
// a recording dialect, sealed and not, and checks that each statement addressing a hot table
// by NIK, or writing one, carries the region key: it stays in one region's shard. The
// statements that address a hot table by id (registration, record) are listed apart: ids do
// not carry their region yet (docs/SCALING.md).
func TestIngestStatementsCarryRegion(t *testing.T) {
	keys, err := registry.NewDataKeys()
	if err != nil {
		t.Fatal(err)
	}
	const nik = "3201234501900001"
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	reg := registry.Registration{ID: "reg-1", NIK: nik, Email: "a@example.org", Phone: "0812", CreatedAt: t0,
		Status: registry.RegPending}
	rec := func(id string) registry.StoredRecord {
		return registry.StoredRecord{ID: id, KioskID: "k1", Kind: kiosk.KindActivation, RegistrationID: reg.ID,
			NIK: nik, At: t0, ReceivedAt: t0, Status: ikdsync.StatusAccepted, Envelope: []byte{1}}
	}
	m := mail.Mail{ID: "mail-1", To: "a@example.org", Code: "123456", RegistrationID: reg.ID, ExpiresAt: t0.Add(time.Hour), CreatedAt: t0}
	m2 := m
	m2.ID = "mail-2"

	// Each step is one store call as ingest makes it; byID marks a lookup by id.
	type step struct {
		name string
		byID bool
		run  func(ctx context.Context, tx registry.Tx) error
	}
	steps := []step{
		{"InsertRegistration", false, func(ctx context.Context, tx registry.Tx) error { return tx.InsertRegistration(ctx, reg) }},
		{"PutResidents", false, func(ctx context.Context, tx registry.Tx) error {
			return tx.PutResidents(ctx, []registry.ResidentRow{{NIK: nik, Kecamatan: "Cibinong", Data: []byte{1}}})
		}},
		{"InsertRecord", false, func(ctx context.Context, tx registry.Tx) error { _, err := tx.InsertRecord(ctx, rec("r1")); return err }},
		{"Resident", false, func(ctx context.Context, tx registry.Tx) error { _, err := tx.Resident(ctx, nik); return err }},
		{"RegistrationsByNIK", false, func(ctx context.Context, tx registry.Tx) error { _, err := tx.RegistrationsByNIK(ctx, nik); return err }},
		{"InsertTombstone", false, func(ctx context.Context, tx registry.Tx) error {
			return tx.InsertTombstone(ctx, registry.Tombstone{NIK: nik, At: t0, RecordID: "r0"})
		}},
		{"LatestTombstone", false, func(ctx context.Context, tx registry.Tx) error { _, err := tx.LatestTombstone(ctx, nik); return err }},
		{"UpdateRegistration", false, func(ctx context.Context, tx registry.Tx) error {
			r := reg
			r.Status = registry.RegApproved
			return tx.UpdateRegistration(ctx, r)
		}},
		{"SetRevocations", false, func(ctx context.Context, tx registry.Tx) error { return tx.SetRevocations(ctx, nik, []byte{1}) }},
		{"Registration", true, func(ctx context.Context, tx registry.Tx) error { _, err := tx.Registration(ctx, reg.ID); return err }},
		{"Record", true, func(ctx context.Context, tx registry.Tx) error { _, err := tx.Record(ctx, "r1"); return err }},
		{"SetRecordAnswer", true, func(ctx context.Context, tx registry.Tx) error {
			return tx.SetRecordAnswer(ctx, "r1", ikdsync.StatusRejected, "x", "")
		}},
		{"CountAccepted", true, func(ctx context.Context, tx registry.Tx) error {
			_, err := tx.CountAccepted(ctx, kiosk.KindCodeReissue, reg.ID, t0)
			return err
		}},
		{"EnqueueMail", true, func(ctx context.Context, tx registry.Tx) error { return tx.EnqueueMail(ctx, m) }},
	}
	batchSteps := []step{
		{"InsertRecords", false, func(ctx context.Context, tx registry.Tx) error {
			_, err := tx.(registry.BatchTx).InsertRecords(ctx, []registry.StoredRecord{rec("r2"), rec("r3")})
			return err
		}},
		{"LatestTombstones", false, func(ctx context.Context, tx registry.Tx) error {
			_, err := tx.(registry.BatchTx).LatestTombstones(ctx, []string{nik, "3201234501900002"})
			return err
		}},
		{"Residents", false, func(ctx context.Context, tx registry.Tx) error {
			_, err := tx.(registry.BatchTx).Residents(ctx, []string{nik})
			return err
		}},
		{"UpdateRegistrationAndEnqueueMail", false, func(ctx context.Context, tx registry.Tx) error {
			return tx.(registry.BatchTx).UpdateRegistrationAndEnqueueMail(ctx, reg, m2)
		}},
		{"LockRegistrations", true, func(ctx context.Context, tx registry.Tx) error {
			return tx.(registry.BatchTx).LockRegistrations(ctx, []string{reg.ID})
		}},
	}
	eachBackend(t, func(t *testing.T, dsn func(testing.TB) string, open func(*testing.T, string) *Store) {
		for _, sealed := range []bool{false, true} {
			t.Run(fmt.Sprintf("sealed=%v", sealed), func(t *testing.T) {
				s := open(t, dsn(t))
				rec := &recordingDialect{dialect: s.d}
				s.d = rec
				var st registry.Store = s
				if sealed {
					st = registry.Seal(s, keys)
				}
				all := steps
				if s.d.batchReads() {
					all = append(slices.Clone(steps), batchSteps...)
				}
				for _, step := range all {
					rec.take()
					if err := st.InTx(t.Context(), step.run); err != nil {
						t.Fatalf("%s: %v", step.name, err)
					}
					var hot int
					for _, q := range rec.take() {
						if !hotTableRE.MatchString(q) {
							continue
						}
						hot++
						if !step.byID && !regionRE.MatchString(q) {
							t.Errorf("%s: statement without the region key:\n%s", step.name, q)
						}
					}
					if hot == 0 {
						t.Errorf("%s: recorded no statement on a hot table", step.name)
					}
				}
				// The region came from the clear NIK, also where the NIK column holds a blind index.
				for _, table := range hotTables {
					var n int
					var region string
					if err := s.d.reader().queryRow(t.Context(), `SELECT count(DISTINCT region), min(region) FROM `+table).Scan(&n, &region); err != nil {
						t.Fatalf("%s: %v", table, err)
					}
					if n != 1 || region != registry.Region(nik) {
						t.Errorf("%s: %d regions, the least %q; want only %q", table, n, region, registry.Region(nik))
					}
				}
			})
		}
	})
}
