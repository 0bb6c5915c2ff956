package registry_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ikd-field/ikd/internal/pgtest"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/token"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/mail"
	"github.com/ikd-field/ikd/sync/registry/sqlstore"
)

// testKeys seals the stores of the rules tests, as ikd-registry does.
func testKeys(t testing.TB) *registry.DataKeys {
	t.Helper()
	keys, err := registry.NewDataKeys()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func openSQLite(t testing.TB) registry.Store {
	t.Helper()
	st, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return registry.Seal(st, testKeys(t))
}

func openPostgres(t *testing.T) registry.Store {
	t.Helper()
	st, err := sqlstore.OpenPostgres(context.Background(), pgtest.FreshDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return registry.Seal(st, testKeys(t))
}

// eachStore runs fn against both drivers: the rules must hold the same way on each.
func eachStore(t *testing.T, fn func(t *testing.T, open func(t *testing.T) registry.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, func(t *testing.T) registry.Store { return openSQLite(t) }) })
	t.Run("postgres", func(t *testing.T) { fn(t, openPostgres) })
}

// env is a registry with a settable clock, served over HTTP on loopback.
type env struct {
	t     testing.TB
	st    registry.Store
	srv   *registry.Server
	http  *httptest.Server
	mu    gosync.Mutex
	clock time.Time
	key   registry.BundleKey // the registry's signing key, "reg-test"
}

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// citizenToken is the citizen API's bearer token in tests.
const citizenToken = "citizen-test-token"

// unlimited lifts the rate limits: the rules' tests register many citizens from one address
// on a clock that stands still.
var unlimited = registry.Limits{Enroll: registry.Rate{PerSecond: 1e6, Burst: 1e6},
	Citizen: registry.Rate{PerSecond: 1e6, Burst: 1e6}, OpenRegistrations: 1000}

func newEnv(t testing.TB, st registry.Store) *env {
	t.Helper()
	return newEnvWith(t, st, func(s *registry.Server) { s.Limits = unlimited })
}

// newEnvWith is newEnv with the server changed by configure before it serves.
func newEnvWith(t testing.TB, st registry.Store, configure func(*registry.Server)) *env {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewSigner("reg-test", priv)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, clock: t0, key: registry.BundleKey{KeyID: "reg-test", Key: priv}}
	e.srv = &registry.Server{Store: st, Signer: signer, PublicKey: pub, TokenTTL: 10 * time.Minute,
		CodeKey: []byte("test code key"), Now: e.now, Log: slog.New(slog.DiscardHandler),
		Metrics: registry.NewMetrics(st), CitizenToken: []byte(citizenToken)}
	configure(e.srv)
	if err := registry.EnsureKey(context.Background(), st, "reg-test", pub, t0); err != nil {
		t.Fatal(err)
	}
	e.http = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.http.Close)
	return e
}

func (e *env) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.clock
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.clock = e.clock.Add(d)
	e.mu.Unlock()
}

// register registers a citizen through the citizen API and returns the registration id.
func (e *env) register(nik, email string) string {
	e.t.Helper()
	status, body := e.tryRegister(nik, email)
	var r registry.RegistrationResponse
	if status != http.StatusCreated || json.Unmarshal(body, &r) != nil {
		e.t.Fatalf("register %s: status %d %s", nik, status, body)
	}
	return r.RegistrationID
}

// tryRegister registers a citizen and returns the answer, whatever it is.
func (e *env) tryRegister(nik, email string) (int, []byte) {
	e.t.Helper()
	body := `{"nik":"` + nik + `","email":"` + email + `","phone":"0812-3456-7789"}`
	return send(e.t, citizenRequest(e.t, e.http.URL+"/v1/registrations", body, citizenToken))
}

// citizenRequest is a citizen API POST of a JSON body with the bearer token (none if empty).
func citizenRequest(t testing.TB, url, body, token string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// kioskSim is an enrolled kiosk that seals and signs like the real one.
type kioskSim struct {
	e      *env
	id     string
	key    ed25519.PrivateKey
	sealer *ikdsync.Sealer
}

func (e *env) enroll(area string) *kioskSim {
	e.t.Helper()
	code, err := registry.NewEnrollCode(context.Background(), e.st, area, e.now(), time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	k := e.newKiosk()
	if status, body := k.enrollWith(code); status != http.StatusOK {
		e.t.Fatalf("enroll: %d %s", status, body)
	}
	return k
}

func (e *env) newKiosk() *kioskSim {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	id := "kiosk-" + uuid.NewString()[:8]
	sealer, err := ikdsync.NewSealer(id, key)
	if err != nil {
		e.t.Fatal(err)
	}
	return &kioskSim{e: e, id: id, key: key, sealer: sealer}
}

func (k *kioskSim) enrollWith(code string) (int, []byte) {
	req := ikdsync.EnrollRequest{Code: code, KioskID: k.id, PublicKey: k.key.Public().(ed25519.PublicKey),
		Signature: ed25519.Sign(k.key, ikdsync.EnrollProof(code, k.id))}
	b, err := ikdsync.Marshal(req)
	if err != nil {
		k.e.t.Fatal(err)
	}
	resp, err := http.Post(k.e.http.URL+"/v1/enroll", ikdsync.ContentType, bytes.NewReader(b))
	if err != nil {
		k.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// do sends a signed request and returns the status and body.
func (k *kioskSim) do(method, target string, body []byte) (int, []byte) {
	k.e.t.Helper()
	req, err := http.NewRequest(method, k.e.http.URL+target, bytes.NewReader(body))
	if err != nil {
		k.e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", ikdsync.ContentType)
	}
	if err := ikdsync.SignRequest(req, k.id, k.key, body, k.e.now()); err != nil {
		k.e.t.Fatal(err)
	}
	return send(k.e.t, req)
}

func send(t testing.TB, req *http.Request) (int, []byte) {
	t.Helper()
	resp, b := do(t, req)
	return resp.StatusCode, b
}

// push sends envelopes and returns the answers.
func (k *kioskSim) push(envs ...[]byte) []ikdsync.Answer {
	k.e.t.Helper()
	answers, err := k.tryPush(envs...)
	if err != nil {
		k.e.t.Fatal(err)
	}
	return answers
}

// tryPush is push for other goroutines than the test's: it reports instead of failing.
func (k *kioskSim) tryPush(envs ...[]byte) ([]ikdsync.Answer, error) {
	b, err := ikdsync.Marshal(ikdsync.PushRequest{Records: envs})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, k.e.http.URL+"/v1/records", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ikdsync.ContentType)
	if err := ikdsync.SignRequest(req, k.id, k.key, b, k.e.now()); err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("push: %d %s", resp.StatusCode, body)
	}
	var pr ikdsync.PushResponse
	if err := ikdsync.Unmarshal(body, &pr); err != nil {
		return nil, err
	}
	if len(pr.Answers) != len(envs) {
		return nil, fmt.Errorf("%d answers for %d records", len(pr.Answers), len(envs))
	}
	return pr.Answers, nil
}

// The harness's officer and area: activation and deactivation provision both at the registry
// (a resident of testArea, an officer of testArea), so a record they make is authorized.
const (
	testOfficer = "198001012005011001"
	testArea    = "Cibinong"
)

// provision puts nik as a resident of area (unless the registry has it) and testOfficer as an
// officer of testArea (unless it exists).
func (e *env) provision(nik, area string) {
	e.t.Helper()
	ctx := context.Background()
	err := e.st.InTx(ctx, func(ctx context.Context, tx registry.Tx) error {
		if _, err := tx.Officer(ctx, testOfficer); errors.Is(err, registry.ErrNotFound) {
			if err := tx.PutOfficer(ctx, registry.OfficerRow{ID: testOfficer, Name: "Petugas Uji", Area: testArea, Role: kiosk.RoleOfficer}); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		_, err := tx.Resident(ctx, nik)
		if !errors.Is(err, registry.ErrNotFound) {
			return err
		}
		data, err := ikdsync.Marshal(ikdsync.EncodeResidentChange(kiosk.Resident{NIK: kiosk.NIK(nik), Name: "Warga " + nik, Kecamatan: area}))
		if err != nil {
			return err
		}
		return tx.PutResidents(ctx, []registry.ResidentRow{{NIK: nik, Kecamatan: area, Data: data}})
	})
	if err != nil {
		e.t.Fatalf("provision %s: %v", nik, err)
	}
}

func (k *kioskSim) activation(regID, nik string, approved time.Time) (string, []byte) {
	k.e.t.Helper()
	k.e.provision(nik, testArea)
	return k.activationBy(testOfficer, regID, nik, approved)
}

// activationBy is an activation approved by officer, with nothing provisioned.
func (k *kioskSim) activationBy(officer, regID, nik string, approved time.Time) (string, []byte) {
	k.e.t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	env, err := k.sealer.Seal(kiosk.KindActivation, id, kiosk.Activation{ID: id, RegistrationID: regID, NIK: kiosk.NIK(nik),
		OfficerID: officer, KioskID: k.id, TokenKeyID: "reg-test", FaceBand: kiosk.BandMatch,
		FaceScore: 0.2, ApprovedAt: approved})
	if err != nil {
		k.e.t.Fatal(err)
	}
	return id, env
}

func (k *kioskSim) deactivation(nik string, confirmed time.Time) (string, []byte) {
	k.e.t.Helper()
	k.e.provision(nik, testArea)
	return k.deactivationBy(testOfficer, nik, confirmed)
}

// deactivationBy is a deactivation confirmed by officer, with nothing provisioned.
func (k *kioskSim) deactivationBy(officer, nik string, confirmed time.Time) (string, []byte) {
	k.e.t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	env, err := k.sealer.Seal(kiosk.KindDeactivation, id, kiosk.Deactivation{ID: id, NIK: kiosk.NIK(nik),
		OfficerID: officer, KioskID: k.id, Reason: "HP hilang", FaceBand: kiosk.BandMatch,
		FaceScore: 0.2, ConfirmedAt: confirmed})
	if err != nil {
		k.e.t.Fatal(err)
	}
	return id, env
}

func (k *kioskSim) reissue(regID, nik string, requested time.Time) (string, []byte) {
	k.e.t.Helper()
	k.e.provision(nik, testArea)
	return k.reissueBy(testOfficer, regID, nik, requested)
}

// reissueBy is a code re-issue requested by officer, with nothing provisioned.
func (k *kioskSim) reissueBy(officer, regID, nik string, requested time.Time) (string, []byte) {
	k.e.t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	env, err := k.sealer.Seal(kiosk.KindCodeReissue, id, kiosk.CodeReissue{ID: id, RegistrationID: regID,
		NIK: kiosk.NIK(nik), OfficerID: officer, KioskID: k.id, RequestedAt: requested})
	if err != nil {
		k.e.t.Fatal(err)
	}
	return id, env
}

func (k *kioskSim) checkpoint(auditSeq, outboxSeq int64, hash byte) []byte {
	k.e.t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	env, err := k.sealer.Seal(kiosk.KindAuditCheckpoint, id, kiosk.AuditCheckpoint{ID: id, KioskID: k.id,
		AuditSeq: auditSeq, AuditHash: bytes.Repeat([]byte{hash}, 32), OutboxSeq: outboxSeq, At: k.e.now()})
	if err != nil {
		k.e.t.Fatal(err)
	}
	return env
}

// mails claims every queued mail (as the mail worker would) and returns them by registration.
func (e *env) mails() map[string]string {
	e.t.Helper()
	ms, err := e.st.Claim(context.Background(), e.now().Add(time.Hour), time.Minute, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range ms {
		if _, dup := out[m.RegistrationID]; dup {
			e.t.Fatalf("two mails for registration %s", m.RegistrationID)
		}
		out[m.RegistrationID] = m.Code
	}
	return out
}

// sentMails claims every queued mail and marks it sent, so each mail is returned once however
// far the clock moves afterwards.
func (e *env) sentMails() []mail.Mail {
	e.t.Helper()
	ctx := context.Background()
	ms, err := e.st.Claim(ctx, e.now().Add(time.Hour), time.Minute, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range ms {
		if err := e.st.Sent(ctx, m.ID, e.now()); err != nil {
			e.t.Fatal(err)
		}
	}
	return ms
}

func (e *env) stats() registry.Stats {
	e.t.Helper()
	s, err := e.st.Stats(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func wantAnswer(t *testing.T, what string, got ikdsync.Answer, status int, code string) {
	t.Helper()
	if got.Status != status || got.Code != code {
		t.Fatalf("%s: answer %+v, want status %d code %q", what, got, status, code)
	}
}
