//go:build faults

package faultsuite

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ikd-field/ikd/internal/faultproxy"
	"github.com/ikd-field/ikd/internal/loadgen"
	"github.com/ikd-field/ikd/internal/pgtest"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/storeopen"
)

const (
	nKiosks      = 3
	nActivations = 150
	nDouble      = 20 // registrations approved on two kiosks while offline
	minFaults    = 200
	targetFaults = 240
	maxIters     = 2000 // bounds the fault loop whatever the faults do
	secretText   = "kata-sandi-kiosk-uji"
	citizenToken = "citizen-api-token-uji-0123456789"
	supPIN       = "240817"
	area         = loadgen.DefaultKecamatan
)

// suite is the running system: registry process, proxy, kiosks.
type suite struct {
	t      *testing.T
	ctx    context.Context
	dsn    string
	keys   string // the registry's data key file
	regKey string // the registry's signing key file
	reg    *registryProc
	proxy  *faultproxy.Proxy
	secret string // secret file
	pin    string // PIN file
	// citizenTokenFile holds citizenToken, the registry's citizen API token.
	citizenTokenFile string
	dirs             []string
	kills            int
	mail             *mailServer
	seed             uint64
}

func TestFaultSuite(t *testing.T) {
	start := time.Now()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("IKD_FAULT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("IKD_FAULT_SEED %q: %v", s, err)
		}
		seed = v
	}
	fmt.Printf("fault-suite seed %d (replay with IKD_FAULT_SEED=%d)\n", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	popSeed := seed % 1000003

	s := setup(t)
	s.seed = seed
	ctx := s.ctx

	// The load: activations spread over the kiosks by the real command, with their residents
	// and officer provisioned at the registry, which authorizes every record.
	if _, err := runTool(ctx, "ikdctl", "loadgen", "--data", filepath.Dir(s.dirs[0]), "--kiosks", strconv.Itoa(nKiosks),
		"--count", strconv.Itoa(nActivations), "--seed", strconv.FormatUint(popSeed, 10), "--officer", "sup1",
		"--pin-file", s.pin, "--secret-file", s.secret, "--registry-db", s.dsn, "--data-key-file", s.keys,
		"--citizen-token-file", s.citizenTokenFile); err != nil {
		t.Fatal(err)
	}
	regDB, err := storeopen.OpenSealed(ctx, s.dsn, s.keys)
	if err != nil {
		t.Fatal(err)
	}
	defer regDB.Close()
	// ikdctl loadgen gives kiosk k (0-based) the residents k, k+K, k+2K, ...
	resident := func(i int) kiosk.NIK {
		return loadgen.Residents(loadgen.Config{Count: 1, Offset: i, Seed: popSeed})[0].NIK
	}

	// The same registrations approved on kiosk 1 and then, offline, on kiosk 2.
	var first, second loadgen.Result
	dblCfg := loadgen.Config{Count: nDouble, Offset: 100000, Seed: popSeed, CitizenToken: citizenToken}
	s.withStore(0, func(st *store.Store, o kiosk.Officer) {
		c := dblCfg
		c.Store, c.Officer, c.RegistryDB = st, o, regDB
		var err error
		if first, err = loadgen.Run(ctx, c); err != nil {
			t.Fatal(err)
		}
	})
	// Lost phones crossing offline activations: on another kiosk (either may arrive first)
	// and on the kiosk that approved (the deactivation always goes first).
	crossKiosk := []kiosk.NIK{resident(0), resident(3), resident(6)}
	sameKiosk := []kiosk.NIK{resident(2), resident(5), resident(8), resident(11), resident(14)}
	s.withStore(1, func(st *store.Store, o kiosk.Officer) {
		c := dblCfg
		c.Store, c.Officer = st, o
		if _, err := loadgen.AddResidents(ctx, st, loadgen.Residents(c)); err != nil {
			t.Fatal(err)
		}
		tokens := make([]string, len(first.Registrations))
		for i, r := range first.Registrations {
			tokens[i] = r.Token
		}
		var err error
		if second, err = loadgen.ApproveTokens(ctx, c, tokens); err != nil {
			t.Fatal(err)
		}
		s.deactivate(st, o, crossKiosk)
	})
	s.withStore(2, func(st *store.Store, o kiosk.Officer) { s.deactivate(st, o, sameKiosk) })

	// The faults.
	faults := s.faultLoop(rng, seed)

	// Clean rounds until every record is answered, then lost phones of accepted activations.
	s.proxy.SetPlan(nil)
	s.drainKiosks()
	laterLost := []kiosk.NIK{resident(1), resident(4), resident(7)}
	s.withStore(0, func(st *store.Store, o kiosk.Officer) { s.deactivate(st, o, laterLost) })
	s.drainKiosks()

	stats := s.waitMails(regDB)

	v := s.verify(regDB, first, second, crossKiosk, sameKiosk)
	msgs := s.mail.messages()
	distinct := map[string]bool{}
	perTo := map[string]int{}
	for _, m := range msgs {
		distinct[m.messageID] = true
		perTo[m.to]++
	}
	extraMails := len(msgs) - len(distinct)
	for _, n := range perTo {
		if n > 1 {
			extraMails += n - 1
		}
	}
	duplicated := v.duplicated + extraMails
	t.Logf("e-mails: %d received, %d distinct Message-IDs, %d recipients; registry accepted %d, sent %d",
		len(msgs), len(distinct), len(perTo), stats.ActivationsAccepted, stats.MailsSent)
	if len(msgs) != len(distinct) {
		t.Errorf("%d e-mails but %d distinct Message-IDs: a mail was sent twice", len(msgs), len(distinct))
	}
	if int64(len(distinct)) != stats.ActivationsAccepted {
		t.Errorf("%d distinct e-mails, registry accepted %d activations", len(distinct), stats.ActivationsAccepted)
	}
	if stats.ActivationsAccepted != int64(v.winners) {
		t.Errorf("registry counts %d accepted activations, the records show %d winners", stats.ActivationsAccepted, v.winners)
	}
	s.confirmSome(first, msgs, 5)

	summary := fmt.Sprintf("fault-suite faults %d lost %d duplicated %d emails %d accepted %d",
		faults, v.lost, duplicated, len(msgs), stats.ActivationsAccepted)
	fmt.Println(summary)
	t.Logf("%s (seed %d, %s)", summary, seed, time.Since(start).Round(time.Second))
	if v.lost != 0 || duplicated != 0 || faults < minFaults {
		t.Errorf("fault suite failed: lost %d duplicated %d faults %d (want >= %d)", v.lost, duplicated, faults, minFaults)
	}
}

func setup(t *testing.T) *suite {
	ctx := context.Background()
	work := t.TempDir()
	s := &suite{t: t, ctx: ctx, dsn: database(t, work)}
	s.mail = startMailServer(t)
	if _, err := runTool(ctx, "ikdctl", "keys", "new", "--out", filepath.Join(work, "keys")); err != nil {
		t.Fatal(err)
	}
	s.keys = filepath.Join(work, "keys", "registry-data.key")
	s.regKey = filepath.Join(work, "keys", "registry-signing.key")
	if _, err := runTool(ctx, "ikd-registry", "keys", "new-data-key", "--out", s.keys); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(work, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	s.citizenTokenFile = writeSecret(t, work, "citizen.token", citizenToken)
	s.reg = &registryProc{t: t, addr: freeAddr(t), logf: logf, args: []string{
		"--key", s.regKey, "--db", s.dsn, "--data-key-file", s.keys,
		// The load registers every citizen from this one address; no metrics listener, whose
		// fixed default port another run on this machine may hold.
		"--citizen-token-file", s.citizenTokenFile, "--citizen-rate", "1000", "--citizen-burst", "1000",
		"--metrics-addr", "",
		"--smtp", s.mail.addr, "--smtp-from", "IKD Dukcapil <no-reply@ikd.test>",
		// A killed registry's claimed mails come back after the lease: keep it short.
		"--mail-lease", "40s", "--shutdown-grace", "1s"}}
	s.reg.start()
	t.Cleanup(s.reg.kill)
	if s.proxy, err = faultproxy.Start(s.reg.addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.proxy.Close() })

	s.secret = writeSecret(t, work, "secret", secretText)
	s.pin = writeSecret(t, work, "pin", supPIN)
	// The kiosks' supervisor signs every record: the registry must list them for the area.
	if _, err := runTool(ctx, "ikd-registry", "officers", "add", "--db", s.dsn, "--data-key-file", s.keys,
		"--id", "sup1", "--name", "Budi Santoso", "--area", area, "--role", "supervisor"); err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= nKiosks; k++ {
		dir := filepath.Join(work, "kiosks", fmt.Sprintf("kiosk-%02d", k))
		s.dirs = append(s.dirs, dir)
		if _, err := runTool(ctx, "ikdctl", "init", "--data", dir, "--secret-file", s.secret, "--supervisor", "Budi Santoso",
			"--id", "sup1", "--pin-file", s.pin, "--kdf-time", "2", "--kdf-memory", "19456"); err != nil {
			t.Fatal(err)
		}
		code, err := runTool(ctx, "ikd-registry", "enroll-code", "--db", s.dsn, "--data-key-file", s.keys, "--area", area)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := runTool(ctx, "ikdctl", "enroll", "--data", dir, "--secret-file", s.secret, "--registry", s.proxy.URL(),
			"--code", strings.TrimSpace(code)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// database is a fresh PostgreSQL database, or SQLite when no server exists (never in CI,
// where IKD_TEST_POSTGRES is set and a missing server fails the test).
func database(t *testing.T, work string) string {
	if os.Getenv(pgtest.EnvVar) == "" {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		conn, err := pgx.Connect(ctx, pgtest.DefaultURL)
		cancel()
		if err != nil {
			t.Logf("!!!!!!!! NO POSTGRESQL SERVER (%v): the fault suite runs on SQLite; "+
				"set %s to test the production database !!!!!!!!", err, pgtest.EnvVar)
			return "sqlite:" + filepath.Join(work, "registry.db")
		}
		conn.Close(context.Background())
	}
	return pgtest.FreshDatabase(t)
}

func writeSecret(t *testing.T, dir, name, text string) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// openKiosk opens kiosk k's store in this process, as ikdctl does. Only while no ikdctl
// process has it open.
func (s *suite) openKiosk(k int) *store.Store {
	st, err := store.Open(s.ctx, filepath.Join(s.dirs[k], "kiosk.db"), []byte(secretText), store.Options{
		NewSealer: func(id string, key ed25519.PrivateKey) (kiosk.Sealer, error) { return ikdsync.NewSealer(id, key) }})
	if err != nil {
		s.t.Fatalf("open kiosk %d: %v", k+1, err)
	}
	return st
}

func (s *suite) withStore(k int, fn func(*store.Store, kiosk.Officer)) {
	st := s.openKiosk(k)
	defer st.Close()
	o, err := st.Login(s.ctx, "sup1", supPIN)
	if err != nil {
		s.t.Fatalf("kiosk %d: login: %v", k+1, err)
	}
	fn(st, o)
}

func (s *suite) deactivate(st *store.Store, o kiosk.Officer, niks []kiosk.NIK) {
	var rs []kiosk.Resident
	for _, n := range niks {
		r, err := st.ResidentByNIK(s.ctx, n)
		if err != nil {
			// A resident of another kiosk's share of the population: bring it here.
			idx := -1
			for i := range nActivations {
				if loadgen.Residents(loadgen.Config{Count: 1, Offset: i, Seed: s.popSeed()})[0].NIK == n {
					idx = i
				}
			}
			if idx < 0 {
				s.t.Fatalf("resident %s unknown", n)
			}
			r = loadgen.Residents(loadgen.Config{Count: 1, Offset: idx, Seed: s.popSeed()})[0]
		}
		rs = append(rs, r)
	}
	if _, err := loadgen.AddResidents(s.ctx, st, rs); err != nil {
		s.t.Fatal(err)
	}
	if _, err := loadgen.Deactivate(s.ctx, loadgen.Config{Store: st, Officer: o}, niks); err != nil {
		s.t.Fatal(err)
	}
}

// faultLoop syncs the kiosks through the faulty proxy, killing processes at random moments,
// until targetFaults faults acted, and returns the number of faults.
func (s *suite) faultLoop(rng *rand.Rand, seed uint64) int {
	t := s.t
	planRng := rand.New(rand.NewPCG(seed, 2)) // the proxy's accept loop has its own generator
	s.proxy.SetPlan(func(int) faultproxy.Fault {
		// Offsets up to 300 B land in request or answer headers, up to 1200 B in small bodies
		// and answers, up to 5000 B anywhere in a batch of a few envelopes.
		maxAfter := []int64{300, 1200, 5000}[planRng.IntN(3)]
		f := faultproxy.RandomFault(planRng, maxAfter)
		if planRng.IntN(5) == 0 {
			return faultproxy.Fault{}
		}
		return f
	})
	faults := func() int {
		n := s.kills
		for _, v := range s.proxy.Stats().Applied {
			n += v
		}
		return n
	}
	iters, syncKills, regKills, replays := 0, 0, 0, 0
	var sticks stickStats
	// Each kiosk's full outbox leaves on a stick first, racing its own sync over the faulty
	// link; later sticks carry what the faults left behind.
	for k := range nKiosks {
		s.stick(k, rng, &sticks)
	}
	for ; iters < maxIters && faults() < targetFaults; iters++ {
		k := rng.IntN(nKiosks)
		cmd := exec.Command(filepath.Join(bin, "ikdctl"), "sync", "--data", s.dirs[k], "--secret-file", s.secret,
			"--batch", strconv.Itoa(1+rng.IntN(6)), "--timeout", "90s")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		// A round takes from tens of milliseconds (nothing to push) to seconds (throttled), so
		// kills land anywhere from before the first request to the last answer.
		action, delay := rng.IntN(10), time.Duration(5+rng.IntN(800))*time.Millisecond
		if action < 3 { // kill the kiosk's sync or the registry mid-round
			select {
			case <-done:
			case <-time.After(delay):
				if action < 2 {
					_ = cmd.Process.Kill()
					syncKills++
				} else {
					s.reg.kill()
					s.reg.start()
					regKills++
				}
				s.kills++
			}
		}
		select {
		case <-done:
		case <-time.After(3 * time.Minute): // only a hang gets here
			_ = cmd.Process.Kill()
			t.Fatalf("ikdctl sync of kiosk %d hung", k+1)
		}
		if iters%12 == 11 {
			replays += s.replay(rng.IntN(nKiosks))
		}
		if iters%7 == 3 {
			s.stick(rng.IntN(nKiosks), rng, &sticks)
		}
	}
	st := s.proxy.Stats()
	t.Logf("fault loop: %d sync runs, %d connections, applied %v, %d sync kills, %d registry kills, %d replayed records",
		iters, st.Connections, st.Applied, syncKills, regKills, replays)
	t.Logf("sticks: %d exported carrying %d records, %d imports (%d killed; the others: %d accepted, %d duplicate), %d answers applied (%d killed), %d sticks or answers lost",
		sticks.exported, sticks.records, sticks.imports, sticks.importKills, sticks.accepted, sticks.duplicate, sticks.answers, sticks.answerKills, sticks.lost)
	return faults()
}

// stickStats counts what the sticks of the fault loop did.
type stickStats struct {
	exported, records, imports, importKills, answers, answerKills, lost int
	accepted, duplicate                                                 int // answers of the imports that finished
}

// stick carries kiosk k's unanswered records on a USB stick with the real commands: export,
// `ikd-registry bundle import` at the registry while the kiosk syncs the same records over
// the faulty network at once, then the answers back. Imports and answer applications are
// SIGKILLed part-way at random (an unplugged stick, a laptop switched off), and some sticks or
// answer files are lost: the network, or a later stick, must bring every record still, once.
func (s *suite) stick(k int, rng *rand.Rand, st *stickStats) {
	t := s.t
	dir := t.TempDir()
	file, answers := filepath.Join(dir, "outbox.ikdb"), filepath.Join(dir, "answers.ikdb")
	out, err := runTool(s.ctx, "ikdctl", "bundle", "export", "--data", s.dirs[k], "--secret-file", s.secret, "--out", file)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if _, err := fmt.Sscanf(out[strings.Index(out, ": ")+2:], "%d records", &n); err != nil {
		return // nothing pending: no bundle written
	}
	st.exported++
	st.records += n
	if rng.IntN(6) == 0 {
		st.lost++ // the stick never reaches the office
		return
	}
	// The kiosk syncs over the network while the stick is imported.
	syncCmd := exec.Command(filepath.Join(bin, "ikdctl"), "sync", "--data", s.dirs[k], "--secret-file", s.secret, "--timeout", "90s")
	if err := syncCmd.Start(); err != nil {
		t.Fatal(err)
	}
	imported, out := s.killable(rng, &st.importKills, "ikd-registry", "bundle", "import", "--db", s.dsn, "--data-key-file", s.keys,
		"--key", s.regKey, "--in", file, "--answers", answers)
	_ = syncCmd.Wait()
	st.imports++
	if i := strings.Index(out, "accepted "); imported && i >= 0 {
		var a, d int
		if _, err := fmt.Sscanf(out[i:], "accepted %d duplicate %d", &a, &d); err == nil {
			st.accepted, st.duplicate = st.accepted+a, st.duplicate+d
		}
	}
	if !imported || rng.IntN(6) == 0 {
		st.lost++ // the answers never come back
		return
	}
	if ok, _ := s.killable(rng, &st.answerKills, "ikdctl", "bundle", "answers", "--data", s.dirs[k], "--secret-file", s.secret, "--in", answers); ok {
		st.answers++
	}
}

// killable runs a tool, SIGKILLing it after a random delay one time in three, and reports
// whether it ran to a successful end, with its output. A run that fails unkilled fails the
// suite.
func (s *suite) killable(rng *rand.Rand, kills *int, name string, args ...string) (bool, string) {
	var out, errOut strings.Builder
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if rng.IntN(3) == 0 {
		select {
		case err := <-done:
			return err == nil, out.String()
		case <-time.After(time.Duration(5+rng.IntN(400)) * time.Millisecond):
			_ = cmd.Process.Kill()
			<-done
			*kills++
			s.kills++
			return false, ""
		}
	}
	if err := <-done; err != nil {
		s.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, errOut.String())
	}
	return true, out.String()
}

// replay pushes copies of envelopes kiosk k already had acknowledged, as a kiosk restored
// from a backup would: each must come back as a duplicate, never accepted again.
func (s *suite) replay(k int) int {
	st := s.openKiosk(k)
	defer st.Close()
	recs, err := st.Records(s.ctx, kiosk.RecordAcknowledged, 8)
	if err != nil || len(recs) == 0 {
		return 0
	}
	envs := make([][]byte, len(recs))
	for i, r := range recs {
		envs[i] = r.Envelope
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true // one connection, one fault
	c := &ikdsync.Client{BaseURL: s.proxy.URL(), KioskID: st.KioskID(), Key: st.DeviceKey(), Now: st.Now,
		HTTP: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
	resp, err := c.Push(s.ctx, envs, nil)
	if err != nil {
		return 0 // the link's fault; the next replay tries again
	}
	for i, a := range resp.Answers {
		if a.Status == ikdsync.StatusAccepted {
			s.t.Errorf("replayed record %s (acknowledged before) was accepted again", recs[i].ID)
		}
	}
	return len(recs)
}

// drainKiosks runs clean sync rounds until every kiosk record is answered.
func (s *suite) drainKiosks() {
	for round := 0; ; round++ {
		open := 0
		for k := range s.dirs {
			_, _ = runTool(s.ctx, "ikdctl", "sync", "--data", s.dirs[k], "--secret-file", s.secret)
			st := s.openKiosk(k)
			c, err := st.RecordCounts(s.ctx)
			st.Close()
			if err != nil {
				s.t.Fatalf("kiosk %d counts: %v", k+1, err)
			}
			open += c[kiosk.RecordPending] + c[kiosk.RecordSent]
		}
		if open == 0 {
			return
		}
		if round == 10 {
			s.t.Fatalf("%d records still unanswered after %d clean rounds", open, round+1)
		}
	}
}

// waitMails waits until the mail worker has sent every accepted activation's mail.
func (s *suite) waitMails(db registry.Store) registry.Stats {
	deadline := time.Now().Add(5 * time.Minute) // the mail lease is 40 s; this only catches a stuck queue
	for {
		st, err := db.Stats(s.ctx)
		if err != nil {
			s.t.Fatal(err)
		}
		if st.MailsQueued == 0 && st.MailsSent == st.ActivationsAccepted && int64(len(s.mail.messages())) >= st.MailsSent {
			return st
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("mail queue not drained: %+v, %d received", st, len(s.mail.messages()))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type verdict struct {
	lost, duplicated, winners int
}

// verify checks every kiosk record against the registry's database.
// The activations of laterLost NIKs were accepted before their deactivation was made, so
// they fall under the default rule.
func (s *suite) verify(db registry.Store, first, second loadgen.Result, crossKiosk, sameKiosk []kiosk.NIK) verdict {
	t := s.t
	var v verdict
	in := func(set []kiosk.NIK, n string) bool {
		for _, x := range set {
			if string(x) == n {
				return true
			}
		}
		return false
	}
	// The rule: of two approvals, the earlier (approval time, then record id) wins.
	winnerOf := map[string]string{} // registration → record that must win
	for i := range first.Registrations {
		a, b := first.Registrations[i], second.Registrations[i]
		w := a.RecordID
		if b.ApprovedAt.Before(a.ApprovedAt) || (b.ApprovedAt.Equal(a.ApprovedAt) && b.RecordID < a.RecordID) {
			w = b.RecordID
		}
		winnerOf[a.ID] = w
	}
	acceptedPerReg := map[string][]string{}
	codes := map[string]int{}
	for k := range s.dirs {
		st := s.openKiosk(k)
		recs, err := st.Records(s.ctx, "", 1<<20)
		st.Close()
		if err != nil {
			t.Fatalf("kiosk %d records: %v", k+1, err)
		}
		for _, r := range recs {
			var rr registry.StoredRecord
			err := db.InTx(s.ctx, func(ctx context.Context, tx registry.Tx) error {
				var err error
				rr, err = tx.Record(ctx, r.ID)
				return err
			})
			if err != nil {
				v.lost++
				t.Errorf("kiosk %d record %s (%s, %s): not in the registry: %v", k+1, r.ID, r.Kind, r.State, err)
				continue
			}
			if rr.KioskID != st.KioskID() {
				t.Errorf("record %s stored for kiosk %s, sent by %s", r.ID, rr.KioskID, st.KioskID())
			}
			kioskCode := ""
			if r.State == kiosk.RecordRejected {
				kioskCode, _, _ = strings.Cut(r.Answer, ":")
			} else if r.State != kiosk.RecordAcknowledged {
				t.Errorf("record %s left %s", r.ID, r.State)
			}
			codes[string(r.State)+" "+kioskCode]++
			regAccepted := rr.Status == ikdsync.StatusAccepted
			if regAccepted && rr.Kind == kiosk.KindActivation {
				acceptedPerReg[rr.RegistrationID] = append(acceptedPerReg[rr.RegistrationID], rr.ID)
			}
			// What the rules say this record's answer must be.
			var ok bool
			switch w, dbl := winnerOf[rr.RegistrationID]; {
			case rr.Kind != kiosk.KindActivation:
				ok = regAccepted && r.State == kiosk.RecordAcknowledged
			case in(sameKiosk, rr.NIK):
				ok = !regAccepted && rr.Code == ikdsync.ErrAccountDeactivated.Code && kioskCode == rr.Code
			case in(crossKiosk, rr.NIK):
				ok = (regAccepted && r.State == kiosk.RecordAcknowledged) ||
					(!regAccepted && rr.Code == ikdsync.ErrAccountDeactivated.Code && kioskCode == rr.Code)
			case dbl && rr.ID == w:
				ok = regAccepted && r.State == kiosk.RecordAcknowledged
			case dbl:
				// The later approval; its kiosk was told accepted if it arrived first.
				ok = !regAccepted && rr.Code == ikdsync.ErrDuplicateActivation.Code && rr.Winner == w &&
					(r.State == kiosk.RecordAcknowledged || kioskCode == rr.Code)
			default:
				ok = regAccepted && r.State == kiosk.RecordAcknowledged
			}
			if !ok {
				t.Errorf("kiosk %d %s %s: kiosk %s %q, registry status %d code %q winner %q", k+1, rr.Kind, r.ID,
					r.State, r.Answer, rr.Status, rr.Code, rr.Winner)
			}
		}
	}
	for reg, ids := range acceptedPerReg {
		if len(ids) > 1 {
			v.duplicated++
			t.Errorf("registration %s has %d accepted activations: %v", reg, len(ids), ids)
		}
		var r registry.Registration
		if err := db.InTx(s.ctx, func(ctx context.Context, tx registry.Tx) error {
			var err error
			r, err = tx.Registration(ctx, reg)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if r.ActivationRecord != ids[0] {
			t.Errorf("registration %s: winner %s, the accepted record is %s", reg, r.ActivationRecord, ids[0])
		}
	}
	v.winners = len(acceptedPerReg)
	t.Logf("kiosk records by answer: %v", codes)
	return v
}

// confirmSome confirms up to n e-mailed codes of the doubly approved registrations through
// the citizen API: the code in the mail must be the one the registry issued.
func (s *suite) confirmSome(regs loadgen.Result, msgs []mailMsg, n int) {
	byTo := map[string]mailMsg{}
	for _, m := range msgs {
		if m.code == "" {
			s.t.Errorf("mail %s to %s has no code", m.messageID, m.to)
		}
		byTo[m.to] = m
	}
	confirmed := 0
	for _, r := range regs.Registrations {
		m, ok := byTo[r.Email]
		if !ok || confirmed == n {
			continue
		}
		req, err := http.NewRequest(http.MethodPost, "http://"+s.reg.addr+"/v1/registrations/"+r.ID+"/confirm",
			strings.NewReader(`{"code":"`+m.code+`"}`))
		if err != nil {
			s.t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+citizenToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			s.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			s.t.Errorf("confirm registration %s with the e-mailed code: HTTP %d", r.ID, resp.StatusCode)
		}
		confirmed++
	}
	if confirmed == 0 {
		s.t.Errorf("no e-mailed code of the doubly approved registrations to confirm")
	}
}

func (s *suite) popSeed() uint64 { return s.seed % 1000003 }
