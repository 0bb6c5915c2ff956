//go:build faults

package faultsuite

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/storeopen"
)

const (
	drillActivations = 60
	pgBin            = "/usr/lib/postgresql/15/bin"
	restorePoint     = "ikd-drill"
)

// drillCluster is a PostgreSQL cluster of its own, run as user postgres, archiving its WAL
// the way README's operator section says.
type drillCluster struct {
	t                   *testing.T
	dir, data, wal      string
	base, port, logPath string
}

// TestRestoreDrill drills the operator's backup and restore: a base backup (pg_basebackup)
// plus archived WAL, restored to a named restore point after part of the kiosks' records
// were acknowledged and mailed. The registry then runs on the restored database; the
// records acknowledged after the point are gone from it, the kiosks' resends of them are
// accepted again, the records of before the point are answered as duplicates, and no
// registration mailed before the point is mailed again. Registrations mailed after the
// point get a second mail with a new code: the first code died with the lost database.
func TestRestoreDrill(t *testing.T) {
	if os.Getenv(haEnvVar) == "" {
		t.Skipf("%s is unset: run `make check-failover` (the drill runs a PostgreSQL cluster of its own as root)", haEnvVar)
	}
	ctx := context.Background()
	began := time.Now().Add(-time.Minute) // the kiosks' clocks may lag a little
	pc := newDrillCluster(t)
	pc.start()
	pc.sql("CREATE ROLE ikd LOGIN PASSWORD 'ikd'")
	pc.sql("CREATE DATABASE drill OWNER ikd")
	dsn := "postgres://ikd:ikd@127.0.0.1:" + pc.port + "/drill?sslmode=disable"
	// The base backup comes first: the whole run is replayed from the archive.
	pc.pg("pg_basebackup", "-h", "127.0.0.1", "-p", pc.port, "-U", "postgres", "-D", pc.base, "-X", "stream", "-c", "fast")

	work := t.TempDir()
	s := newSuite(t, work, dsn, 1, false)
	s.seed = testSeed(t)
	s.loadgen(drillActivations)
	regDB, err := storeopen.OpenSealed(ctx, dsn, s.keys)
	if err != nil {
		t.Fatal(err)
	}

	// Kiosks 1 and 2 sync before the restore point, kiosk 3 after it; each phase waits for
	// its mails.
	s.drainKiosks(0, 1)
	s.waitMails(regDB)
	mailedBefore := s.mail.messages()
	pc.sql("SELECT pg_create_restore_point('" + restorePoint + "')")
	s.drainKiosks(2)
	s.waitMails(regDB)
	mailedAfter := len(s.mail.messages()) - len(mailedBefore)
	regDB.Close()

	// The server is lost, once its last WAL segment is archived.
	seg := pc.sql("SELECT pg_walfile_name(pg_switch_wal())")
	for pc.sql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") < seg {
		time.Sleep(100 * time.Millisecond)
	}
	s.reg.kill()
	pc.pg(filepath.Join(pgBin, "pg_ctl"), "-D", pc.data, "-m", "immediate", "-w", "stop")

	pc.restore(restorePoint)
	s.reg.start()
	regDB, err = storeopen.OpenSealed(ctx, dsn, s.keys)
	if err != nil {
		t.Fatal(err)
	}
	defer regDB.Close()

	// What the restored registry has of each kiosk's acknowledged records, and what it
	// answers to their resend.
	var beforeKept, afterLost, resentAccepted, beforeReaccepted int
	for k := range s.dirs {
		st := s.openKiosk(k)
		recs, err := st.Records(ctx, kiosk.RecordAcknowledged, 1<<20)
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			t.Fatalf("kiosk %d has no acknowledged record", k+1)
		}
		for _, r := range recs {
			known := regDB.InTx(ctx, func(ctx context.Context, tx registry.Tx) error {
				_, err := tx.Record(ctx, r.ID)
				return err
			}) == nil
			switch {
			case k < 2 && !known:
				t.Errorf("kiosk %d record %s, acknowledged before the restore point, is not in the restored registry", k+1, r.ID)
			case k < 2:
				beforeKept++
			case known:
				t.Errorf("kiosk 3 record %s, acknowledged after the restore point, is in the restored registry", r.ID)
			default:
				afterLost++
			}
		}
		// The operator's resend (README): every acknowledged record made since the drill began.
		out, err := runTool(ctx, "ikdctl", "sync", "resend", "--data", s.dirs[k], "--secret-file", s.secret,
			"--since", began.Format(time.RFC3339))
		if err != nil {
			t.Fatal(err)
		}
		var sent, accepted, duplicate, rejected int
		if _, err := fmt.Sscanf(out, "resend: sent %d, accepted again %d, duplicate %d, rejected %d",
			&sent, &accepted, &duplicate, &rejected); err != nil || sent != len(recs) || rejected != 0 {
			t.Fatalf("kiosk %d resend of %d records: %q (%v)", k+1, len(recs), out, err)
		}
		if k < 2 {
			beforeReaccepted += accepted
			if accepted != 0 || duplicate != len(recs) {
				t.Errorf("kiosk %d, acknowledged before the restore point: resend %q", k+1, out)
			}
		} else {
			resentAccepted += accepted
			if accepted != len(recs) {
				t.Errorf("kiosk 3, acknowledged after the restore point: resend %q", out)
			}
		}
	}
	stats := s.waitMails(regDB)

	// Mails: one per recipient mailed before the point; recipients mailed after it have a
	// second mail, of another Message-ID and a new code, which confirms the registration.
	perTo := map[string][]mailMsg{}
	for _, m := range s.mail.messages() {
		perTo[m.to] = append(perTo[m.to], m)
	}
	beforeTo := map[string]bool{}
	for _, m := range mailedBefore {
		beforeTo[m.to] = true
	}
	mailedTwiceBefore, secondCodes := 0, 0
	for to, ms := range perTo {
		switch {
		case beforeTo[to] && len(ms) != 1:
			mailedTwiceBefore++
			t.Errorf("%s, mailed before the restore point, got %d mails", to, len(ms))
		case !beforeTo[to] && len(ms) == 2 && ms[0].messageID != ms[1].messageID && ms[0].code != ms[1].code:
			secondCodes++
		case !beforeTo[to]:
			t.Errorf("%s, mailed after the restore point: %d mails %+v, want a first one and one with a new code", to, len(ms), ms)
		}
	}
	if afterLost == 0 || resentAccepted != afterLost || int64(beforeKept+resentAccepted) != stats.ActivationsAccepted {
		t.Errorf("restored registry: %d records kept, %d lost, %d resent and accepted; registry counts %d accepted activations",
			beforeKept, afterLost, resentAccepted, stats.ActivationsAccepted)
	}
	s.confirmNew(regDB, perTo, beforeTo)
	summary := fmt.Sprintf("restore-drill acknowledged-before-point %d kept %d acknowledged-after-point %d lost-by-restore %d resent-accepted %d before-point-reaccepted %d mailed-before-point %d mailed-again %d mailed-after-point %d second-codes %d",
		len(mailedBefore), beforeKept, afterLost, afterLost, resentAccepted, beforeReaccepted, len(mailedBefore), mailedTwiceBefore,
		mailedAfter, secondCodes)
	fmt.Println(summary)
	t.Log(summary)
}

// confirmNew takes up to three registrations mailed after the restore point: the code of
// their first mail, lost with the database, is refused; the code of the second confirms.
func (s *suite) confirmNew(regDB registry.Store, perTo map[string][]mailMsg, before map[string]bool) {
	done := 0
	for to, ms := range perTo {
		if before[to] || len(ms) != 2 || done == 3 {
			continue
		}
		// ikdctl loadgen mails resident i at warga-SEED-i@DOMAIN.
		var seed uint64
		var i int
		if _, err := fmt.Sscanf(strings.SplitN(to, "@", 2)[0], "warga-%d-%d", &seed, &i); err != nil {
			s.t.Fatalf("recipient %s: %v", to, err)
		}
		var regs []registry.Registration
		if err := regDB.InTx(s.ctx, func(ctx context.Context, tx registry.Tx) error {
			var err error
			regs, err = tx.RegistrationsByNIK(ctx, string(s.resident(i)))
			return err
		}); err != nil || len(regs) != 1 {
			s.t.Fatalf("registration of %s: %v (%d found)", to, err, len(regs))
		}
		if st := s.confirm(regs[0].ID, ms[0].code); st == http.StatusOK {
			s.t.Errorf("registration %s confirmed with the code mailed before the restore", regs[0].ID)
		}
		if st := s.confirm(regs[0].ID, ms[1].code); st != http.StatusOK {
			s.t.Errorf("registration %s: the code mailed after the restore answers HTTP %d", regs[0].ID, st)
		}
		done++
	}
	if done == 0 {
		s.t.Errorf("no registration mailed after the restore point to confirm")
	}
}

// loadgen fills the kiosks' outboxes with n activations by the real command, their residents
// and officer provisioned at the registry.
func (s *suite) loadgen(n int) {
	s.nActivations = n
	if _, err := runTool(s.ctx, "ikdctl", "loadgen", "--data", filepath.Dir(s.dirs[0]), "--kiosks", strconv.Itoa(nKiosks),
		"--count", strconv.Itoa(n), "--seed", strconv.FormatUint(s.popSeed(), 10), "--officer", "sup1",
		"--pin-file", s.pin, "--secret-file", s.secret, "--registry-db", s.dsn, "--data-key-file", s.keys,
		"--citizen-token-file", s.citizenTokenFile); err != nil {
		s.t.Fatal(err)
	}
}

func newDrillCluster(t *testing.T) *drillCluster {
	dir, err := os.MkdirTemp("", "ikd-drill-")
	if err != nil {
		t.Fatal(err)
	}
	pg, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("the drill runs PostgreSQL as user postgres: %v", err)
	}
	uid, _ := strconv.Atoi(pg.Uid)
	gid, _ := strconv.Atoi(pg.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatalf("chown %s (the drill needs root): %v", dir, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	c := &drillCluster{t: t, dir: dir, data: filepath.Join(dir, "data"), wal: filepath.Join(dir, "wal"),
		base: filepath.Join(dir, "base"), port: port, logPath: filepath.Join(dir, "postgres.log")}
	t.Cleanup(func() {
		_, _ = c.run(filepath.Join(pgBin, "pg_ctl"), "-D", c.data, "-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
	})
	c.pg("mkdir", c.wal)
	c.pg(filepath.Join(pgBin, "initdb"), "-D", c.data, "-U", "postgres", "--auth", "trust")
	// The settings README's operator section gives for a registry database: WAL archived,
	// each segment copied once and never overwritten.
	conf := fmt.Sprintf(`
port = %s
listen_addresses = '127.0.0.1'
unix_socket_directories = '%s'
wal_level = replica
archive_mode = on
archive_command = 'test ! -f %s/%%f && cp %%p %s/%%f'
`, port, dir, c.wal, c.wal)
	c.appendConf(conf)
	return c
}

func (c *drillCluster) appendConf(text string) {
	f, err := os.OpenFile(filepath.Join(c.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		c.t.Fatal(err)
	}
}

func (c *drillCluster) start() {
	c.pg(filepath.Join(pgBin, "pg_ctl"), "-D", c.data, "-l", c.logPath, "-w", "start")
}

// restore replaces the data directory by the base backup and recovers it from the archive
// up to the named restore point, then promotes it.
func (c *drillCluster) restore(point string) {
	c.pg("mv", c.data, c.data+".lost")
	c.pg("cp", "-a", c.base, c.data)
	c.pg("touch", filepath.Join(c.data, "recovery.signal"))
	c.appendConf(fmt.Sprintf(`
restore_command = 'cp %s/%%f %%p'
recovery_target_name = '%s'
recovery_target_action = 'promote'
`, c.wal, point))
	c.start()
	for c.sql("SELECT pg_is_in_recovery()") != "f" {
		time.Sleep(100 * time.Millisecond)
	}
}

// run runs a command as user postgres.
func (c *drillCluster) run(name string, args ...string) (string, error) {
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c *drillCluster) pg(name string, args ...string) string {
	c.t.Helper()
	out, err := c.run(name, args...)
	if err != nil {
		log, _ := os.ReadFile(c.logPath)
		c.t.Fatalf("%s %s: %v\n%s\nserver log:\n%s", name, strings.Join(args, " "), err, out, log)
	}
	return out
}

func (c *drillCluster) sql(q string) string {
	c.t.Helper()
	return strings.TrimSpace(c.pg(filepath.Join(pgBin, "psql"), "-X", "-q", "-h", "127.0.0.1", "-p", c.port, "-U", "postgres",
		"-d", "postgres", "-v", "ON_ERROR_STOP=1", "-tAc", q))
}
