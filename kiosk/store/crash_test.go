package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/internal/slowtest"
	"github.com/ikd-field/ikd/kiosk"
)

// crashChildEnv makes the test binary act as the writer that the crash test kills.
const crashChildEnv = "IKD_STORE_CRASH_CHILD"

// TestSlowCrashSafety kills a writer process with SIGKILL in the middle of a stream of Enqueue
// calls, several times, and checks after each kill that every record the writer reported as
// committed is in the store and that the audit chain still verifies.
func TestSlowCrashSafety(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	slowtest.Skip(t, "spawns processes")
	ctx := context.Background()
	s, path := mustCreate(t, testOptions())
	s.Close()
	var committed []string
	for round := range 4 {
		committed = append(committed, runAndKill(t, path, round, 25+round*20)...)
		s := mustOpen(t, path, testOptions())
		recs, err := s.Records(ctx, "", 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		have := make(map[string]bool, len(recs))
		for _, r := range recs {
			have[r.ID] = true
		}
		for _, id := range committed {
			if !have[id] {
				t.Fatalf("round %d: record %s was reported committed but is missing", round, id)
			}
		}
		n, err := s.VerifyAudit(ctx)
		if err != nil {
			t.Fatalf("round %d: audit: %v", round, err)
		}
		if n < int64(len(committed))+1 {
			t.Fatalf("round %d: audit has %d entries for %d records", round, n, len(committed))
		}
		t.Logf("round %d: %d records reported committed, %d stored, audit %d entries", round, len(committed), len(recs), n)
		s.Close()
	}
}

// runAndKill starts a writer on path, kills it after it reports after records, and returns
// the ids it reported.
func runAndKill(t *testing.T, path string, round, after int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSlowCrashSafety$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path, fmt.Sprintf("IKD_STORE_CRASH_ROUND=%d", round))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var ids []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		id, ok := strings.CutPrefix(sc.Text(), "committed ")
		if !ok {
			continue
		}
		ids = append(ids, id)
		if len(ids) == after {
			cmd.Process.Kill() // SIGKILL: no deferred code, no clean close
			break
		}
	}
	for sc.Scan() { // records the child finished before the signal landed count as committed
		if id, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
			ids = append(ids, id)
		}
	}
	cmd.Wait()
	if len(ids) < after {
		t.Fatalf("writer exited after %d records, before the kill", len(ids))
	}
	return ids
}

func crashChild(path string) {
	ctx := context.Background()
	s, err := Open(ctx, path, []byte(testSecret), testOptions())
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(3)
	}
	round := os.Getenv("IKD_STORE_CRASH_ROUND")
	for i := range 100000 {
		id := fmt.Sprintf("r%s-%d", round, i)
		rec := kiosk.OutboxRecord{ID: id, Kind: kiosk.KindActivation, NIK: testNIK,
			RegistrationID: "reg-" + id, Envelope: []byte("signed " + id)}
		if err := s.Enqueue(ctx, rec, kiosk.AuditEvent{OfficerID: "off1", Action: "activation.approved", Subject: id}); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(4)
		}
		fmt.Fprintf(os.Stdout, "committed %s\n", id) // os.Stdout is unbuffered
	}
	os.Exit(0)
}

// initChildEnv makes the test binary act as an init that the test kills half-way.
const initChildEnv = "IKD_STORE_INIT_CHILD"

// TestSlowInitKilledLeavesNoStore kills an init after the store file exists but before its
// supervisor does, and checks that nothing is left at the store's path and that init can
// simply be run again.
func TestSlowInitKilledLeavesNoStore(t *testing.T) {
	if path := os.Getenv(initChildEnv); path != "" {
		initChild(path)
		return
	}
	slowtest.Skip(t, "spawns a process")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSlowInitKilledLeavesNoStore$", "-test.count=1")
	cmd.Env = append(os.Environ(), initChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe() // the child waits on it forever; the kill ends it
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "building" {
	}
	cmd.Process.Kill()
	cmd.Wait()

	if _, err := Open(ctx, path, []byte(testSecret), testOptions()); !errors.Is(err, ErrStoreMissing) {
		t.Fatalf("Open after the killed init: err = %v, want ErrStoreMissing", err)
	}
	if left, _ := filepath.Glob(path + initSuffix + "*"); len(left) == 0 {
		t.Fatal("the killed init left no temporary file: the kill came too late to test anything")
	}
	s, err := Init(ctx, path, []byte(testSecret), testOptions(), sup1, supPIN)
	if err != nil {
		t.Fatalf("init again: %v", err)
	}
	defer s.Close()
	if o, err := s.Login(ctx, "sup1", supPIN); err != nil || o.Role != kiosk.RoleSupervisor {
		t.Fatalf("supervisor after the second init: %+v, %v", o, err)
	}
	if left, _ := filepath.Glob(path + initSuffix + "*"); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	if _, err := Init(ctx, path, []byte(testSecret), testOptions(), sup1, supPIN); !errors.Is(err, ErrStoreExists) {
		t.Errorf("init over an existing store: err = %v, want ErrStoreExists", err)
	}
}

func initChild(path string) {
	_, err := create(context.Background(), path, []byte(testSecret), testOptions(), func(*Store) error {
		fmt.Println("building")
		io.Copy(io.Discard, os.Stdin) // until killed
		return nil
	})
	fmt.Fprintln(os.Stderr, "init child: not killed:", err)
	os.Exit(3)
}
