//go:build faults

package faultsuite

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ikd-field/ikd/internal/pgdb"
	"github.com/ikd-field/ikd/kiosk"
)

// haEnvVar names the multi-host URL of the pg_auto_failover formation build/postgres-ha.sh
// starts; TestFailover needs it, and root, to kill the primary's postmaster.
const haEnvVar = "IKD_TEST_HA_POSTGRES"

const (
	failoverActivations = 300
	failoverBatch       = 3 // records a push: small batches make the storm many transactions
)

// haScript is build/postgres-ha.sh, from this package's directory (where go test runs).
var haScript = filepath.Join("..", "..", "build", "postgres-ha.sh")

// TestFailover runs a push storm from the kiosks against two registry processes on the HA
// formation, SIGKILLs the primary's postmaster after a random number of ingested batches,
// lets the storm ride the failover, and then checks that every record any kiosk saw
// acknowledged is in the registry, that no registration has two winners and that each
// accepted activation has exactly one code mail (one Message-ID per recipient).
func TestFailover(t *testing.T) {
	haURL := os.Getenv(haEnvVar)
	if haURL == "" {
		t.Skipf("%s is unset: run `make check-failover`, which starts the formation with build/postgres-ha.sh", haEnvVar)
	}
	start := time.Now()
	seed := testSeed(t)
	fmt.Printf("failover seed %d (replay with IKD_FAULT_SEED=%d)\n", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 3))

	ctx := context.Background()
	dsn, drop, err := pgdb.Create(ctx, haURL, "pgha_failover_")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Errorf("drop database: %v", err)
		}
	})
	waitReplayed(t, dsn)
	work := t.TempDir()
	s := newSuite(t, work, dsn, 2, false)
	s.seed = seed
	sc := s.load(failoverActivations)
	open := s.openRecords()
	walStart := walLSN(t, dsn)

	// The storm: every kiosk syncs in a loop until its outbox is answered; the primary dies
	// once a random share (up to half) of the storm's batches were ingested.
	logs := []string{filepath.Join(work, "registry.log"), filepath.Join(work, "registry-2.log")}
	t.Cleanup(func() { keepLogs(t, logs) })
	killAfter := 1 + rng.IntN(open/failoverBatch/2)
	var wg gosync.WaitGroup
	for k := range s.dirs {
		wg.Add(1)
		go func() { defer wg.Done(); s.storm(k) }()
	}
	for len(ingested(t, logs)) < killAfter {
		time.Sleep(5 * time.Millisecond)
	}
	// The primary's machine stops: its keeper freezes and its postmaster is killed. A killed
	// postmaster alone (IKD_FAILOVER_KILL=postmaster) is often restarted in place by its
	// keeper before the monitor fails over: a restart, not the failover this test is about.
	machine := os.Getenv("IKD_FAILOVER_KILL") != "postmaster"
	pid := primaryPID(t)
	oldNode := nodeOf(t, pid)
	resume := func() {}
	if machine {
		resume = freezeKeeper(t, pid)
	}
	killedAt := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill primary postmaster %d: %v", pid, err)
	}
	t.Logf("killed the primary's postmaster (pid %d, %s) after %d ingested batches", pid, oldNode, killAfter)
	// Wait for a primary again: the other node, or (keeper alive) a restarted postmaster.
	newNode := ""
	for {
		time.Sleep(50 * time.Millisecond)
		p, err := exec.Command(haScript, "primary-pid").Output()
		if err != nil {
			continue
		}
		if np, err := strconv.Atoi(strings.TrimSpace(string(p))); err == nil && np != pid {
			if newNode = nodeOf(t, np); newNode != oldNode || !machine {
				break
			}
		}
	}
	promotedAt := time.Now()
	resume()
	wg.Wait()

	// A batch logged between the kill and the promotion was committed by the dying primary's
	// backends, which outlive their postmaster for a moment (and were on the standby, which
	// acknowledged them). Recovery is the time to the first batch after the new primary
	// answered: an upper bound by the poll above (50 ms plus the script's run).
	var recovery time.Duration = -1
	before, dying := 0, 0
	for _, at := range ingested(t, logs) {
		switch {
		case !at.After(killedAt):
			before++
		case !at.After(promotedAt):
			dying++
		default:
			if d := at.Sub(killedAt); recovery < 0 || d < recovery {
				recovery = d
			}
		}
	}
	if recovery < 0 {
		t.Fatalf("no batch was ingested after the failover: the storm ended before it (%d batches before the kill)", before)
	}

	o := s.settle(sc)
	walBytes := walSince(t, dsn, walStart)
	acked := 0
	for k := range s.dirs {
		st := s.openKiosk(k)
		c, err := st.RecordCounts(ctx)
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		acked += c[kiosk.RecordAcknowledged]
	}
	summary := fmt.Sprintf("failover %s->%s promoted-after %s acknowledged %d lost %d two-winners %d accepted %d emails %d message-ids %d recipients %d redelivered %d batches-before-kill %d batches-of-dying-primary %d wal-bytes-per-record %d kill-to-first-batch %s",
		oldNode, newNode, promotedAt.Sub(killedAt).Round(time.Millisecond), acked, o.lost, o.duplicated, o.stats.ActivationsAccepted, o.mails, o.distinct, o.recipients, o.redelivered,
		before, dying, walBytes/int64(max(acked, 1)), recovery.Round(time.Millisecond))
	fmt.Println(summary)
	t.Logf("%s (seed %d, %s)", summary, seed, time.Since(start).Round(time.Second))
	if o.lost != 0 || o.duplicated != 0 || o.extraMails != 0 {
		t.Errorf("failover failed: lost %d, registrations with two winners %d, second codes mailed %d", o.lost, o.duplicated, o.extraMails)
	}
	// Delivery is at-least-once (sync/registry/mail): the mark of a mail the relay accepted
	// is retried for 10 s, and after a lost mark the registry sends nothing more until the
	// database takes writes (registry.GuardMail). So a longer outage sends at most one mail
	// per registry process a second time, with the same Message-ID and code.
	if o.redelivered > len(s.regs) {
		t.Errorf("%d mails delivered a second time, want at most one per registry process (%d)", o.redelivered, len(s.regs))
	}
}

// testSeed is IKD_FAULT_SEED or the clock.
func testSeed(t *testing.T) uint64 {
	if s := os.Getenv("IKD_FAULT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("IKD_FAULT_SEED %q: %v", s, err)
		}
		return v
	}
	return uint64(time.Now().UnixNano())
}

// openRecords counts the kiosks' records not yet answered.
func (s *suite) openRecords() int {
	open := 0
	for k := range s.dirs {
		open += s.unanswered(k)
	}
	return open
}

// storm runs kiosk k's sync until its outbox is answered. A round that fails (its registry
// lost the database) is simply run again, as the kiosk's own scheduler would.
func (s *suite) storm(k int) {
	deadline := time.Now().Add(5 * time.Minute) // only a registry that never recovers gets here
	for time.Now().Before(deadline) {
		_, _ = runTool(s.ctx, "ikdctl", "sync", "--data", s.dirs[k], "--secret-file", s.secret,
			"--batch", strconv.Itoa(failoverBatch), "--timeout", "60s")
		if s.unanswered(k) == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Errorf("kiosk %d: outbox not answered after 5 minutes of storm", k+1)
}

// ingested returns the times of the "batch ingested" lines of the registries' JSON logs: a
// batch's transaction committed and its answers went to the kiosk.
func ingested(t *testing.T, logs []string) []time.Time {
	var at []time.Time
	for _, p := range logs {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var line struct {
				Time time.Time `json:"time"`
				Msg  string    `json:"msg"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "batch ingested" {
				at = append(at, line.Time)
			}
		}
		f.Close()
	}
	return at
}

// primaryPID asks build/postgres-ha.sh for the PID of the current primary's postmaster.
func primaryPID(t *testing.T) int {
	out, err := exec.Command(haScript, "primary-pid").Output()
	if err != nil {
		t.Fatalf("%s primary-pid: %v", haScript, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("%s primary-pid printed %q", haScript, out)
	}
	return pid
}

// waitReplayed waits until dsn's database, just created on the primary, can be connected to
// through the multi-host URL: pgx gives up at the first host that answers "database does not
// exist", which a standby does until it has replayed the CREATE DATABASE.
func waitReplayed(t *testing.T, dsn string) {
	for try := 0; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, dsn)
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return
		}
		if try == 300 {
			t.Fatalf("database not on every node after a minute: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// keepLogs copies the registries' logs out of the test's directory when it failed.
func keepLogs(t *testing.T, logs []string) {
	if !t.Failed() {
		return
	}
	dir, err := os.MkdirTemp("", "ikd-failover-logs-")
	if err != nil {
		return
	}
	for _, p := range logs {
		if b, err := os.ReadFile(p); err == nil {
			_ = os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o600)
		}
	}
	t.Logf("registry logs kept in %s", dir)
}

// walLSN is the primary's current WAL position.
func walLSN(t *testing.T, dsn string) string {
	var lsn string
	queryHA(t, dsn, "SELECT pg_current_wal_lsn()::text", nil, &lsn)
	return lsn
}

// walSince is the WAL the primary wrote since from (SCALING.md's bytes per record: the
// storm's records, registrations, mails and their marks, nonces; across the failover, as
// the new timeline continues the old one's positions).
func walSince(t *testing.T, dsn, from string) int64 {
	var n int64
	queryHA(t, dsn, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint", []any{from}, &n)
	return n
}

func queryHA(t *testing.T, dsn, q string, args []any, dest any) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(ctx, q, args...).Scan(dest); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// nodeOf names the pg_auto_failover node whose postmaster is pid: its data directory.
func nodeOf(t *testing.T, pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatalf("postmaster %d: %v", pid, err)
	}
	args := strings.Split(string(b), "\x00")
	for i, a := range args {
		if a == "-D" && i+1 < len(args) {
			return filepath.Base(args[i+1])
		}
	}
	t.Fatalf("postmaster %d: no -D in %q", pid, args)
	return ""
}

// freezeKeeper stops (SIGSTOP) the pg_autoctl processes that keep the postmaster pid: its
// parent "pg_autoctl run" and that one's pg_autoctl children. The returned func, also run at
// cleanup, lets them go on; they then find their node demoted and rejoin as the standby.
func freezeKeeper(t *testing.T, pid int) func() {
	ppid := func(p int) int {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p))
		if err != nil {
			return 0
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PPid:"); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(v))
				return n
			}
		}
		return 0
	}
	comm := func(p int) string {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p))
		return strings.TrimSpace(string(b))
	}
	// postmaster -> "pg_autoctl: start/stop postgres" -> "pg_autoctl run".
	main := ppid(ppid(pid))
	if comm(main) != "pg_autoctl" {
		t.Fatalf("postmaster %d: no pg_autoctl keeper above it (found %d %q)", pid, main, comm(main))
	}
	keepers := []int{main}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if p, err := strconv.Atoi(e.Name()); err == nil && ppid(p) == main && comm(p) == "pg_autoctl" {
			keepers = append(keepers, p)
		}
	}
	// runuser, which started the keeper, stops itself when its child stops (job control):
	// resume it too, or it never reaps the keeper.
	resumed := append([]int{ppid(main)}, keepers...)
	for _, p := range keepers {
		if err := syscall.Kill(p, syscall.SIGSTOP); err != nil {
			t.Fatalf("freeze keeper %d: %v", p, err)
		}
	}
	var once gosync.Once
	resume := func() {
		once.Do(func() {
			for _, p := range resumed {
				_ = syscall.Kill(p, syscall.SIGCONT)
			}
		})
	}
	t.Cleanup(resume)
	return resume
}
