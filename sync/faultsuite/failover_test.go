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
	work := t.TempDir()
	s := newSuite(t, work, dsn, 2, false)
	s.seed = seed
	sc := s.load(failoverActivations)
	open := s.openRecords()

	// The storm: every kiosk syncs in a loop until its outbox is answered; the primary dies
	// once a random share (up to half) of the storm's batches were ingested.
	logs := []string{filepath.Join(work, "registry.log"), filepath.Join(work, "registry-2.log")}
	killAfter := 1 + rng.IntN(open/failoverBatch/2)
	var wg gosync.WaitGroup
	for k := range s.dirs {
		wg.Add(1)
		go func() { defer wg.Done(); s.storm(k) }()
	}
	for len(ingested(t, logs)) < killAfter {
		time.Sleep(5 * time.Millisecond)
	}
	pid := primaryPID(t)
	killedAt := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill primary postmaster %d: %v", pid, err)
	}
	t.Logf("killed the primary's postmaster (pid %d) after %d ingested batches", pid, killAfter)
	wg.Wait()

	var recovery time.Duration = -1
	before := 0
	for _, at := range ingested(t, logs) {
		if at.After(killedAt) {
			if d := at.Sub(killedAt); recovery < 0 || d < recovery {
				recovery = d
			}
		} else {
			before++
		}
	}
	if recovery < 0 {
		t.Fatalf("no batch was ingested after the kill: the storm ended before it (%d batches before)", before)
	}

	o := s.settle(sc)
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
	summary := fmt.Sprintf("failover acknowledged %d lost %d two-winners %d accepted %d emails %d message-ids %d recipients %d redelivered %d batches-before-kill %d kill-to-first-batch %s",
		acked, o.lost, o.duplicated, o.stats.ActivationsAccepted, o.mails, o.distinct, o.recipients, o.redelivered,
		before, recovery.Round(time.Millisecond))
	fmt.Println(summary)
	t.Logf("%s (seed %d, %s)", summary, seed, time.Since(start).Round(time.Second))
	if o.lost != 0 || o.duplicated != 0 || o.extraMails != 0 {
		t.Errorf("failover failed: lost %d, registrations with two winners %d, second codes mailed %d", o.lost, o.duplicated, o.extraMails)
	}
	if o.redelivered != 0 {
		// At-least-once delivery (sync/registry/mail): a mail the relay accepted while the
		// database failed over is sent again, with the same Message-ID and code.
		t.Logf("NOTE: %d mails delivered twice with the same Message-ID", o.redelivered)
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
		st := s.openKiosk(k)
		c, err := st.RecordCounts(s.ctx)
		st.Close()
		if err != nil {
			s.t.Fatalf("kiosk %d counts: %v", k+1, err)
		}
		open += c[kiosk.RecordPending] + c[kiosk.RecordSent]
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
		st := s.openKiosk(k)
		c, err := st.RecordCounts(s.ctx)
		st.Close()
		if err != nil {
			s.t.Errorf("kiosk %d counts: %v", k+1, err)
			return
		}
		if c[kiosk.RecordPending]+c[kiosk.RecordSent] == 0 {
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
