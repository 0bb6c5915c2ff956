// Package syncbench measures the sync path end to end: a real kiosk store and engine, the real
// registry server (sync/registry.Server) on real stores (SQLite and PostgreSQL), over
// loopback HTTP with every byte on the wire counted at the TCP level. `ikdctl bench sync`
// prints its report; the Go benchmarks in this package run the same paths at smaller sizes.
package syncbench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"github.com/ikd-field/ikd/internal/pgdb"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	"github.com/ikd-field/ikd/kiosk/token"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
)

// Area is the kecamatan every benchmark kiosk serves; the synthetic residents live there.
const Area = "Cibinong"

// benchOfficer approves every activation of the benchmark.
const benchOfficer = "198001012005011001"

// countingListener counts every byte read from and written to the connections it accepts,
// HTTP headers and chunk framing included: what a kiosk's data plan pays for.
type countingListener struct {
	net.Listener
	read, written atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, l: l}, nil
}

// Bytes is the total in both directions so far.
func (l *countingListener) Bytes() int64 { return l.read.Load() + l.written.Load() }

type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.l.read.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.l.written.Add(int64(n))
	return n, err
}

// registryEnv is a registry server on a store, listening on loopback.
type registryEnv struct {
	Store    registry.Store
	URL      string
	listener *countingListener
	http     *http.Server
	done     chan error
}

// startRegistry serves st the way ikd-registry does, with logging discarded (a log line per
// batch would be measured as well, but it is not what the benchmark is about).
func startRegistry(ctx context.Context, st registry.Store) (*registryEnv, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("registry key: %w", err)
	}
	signer, err := token.NewSigner("reg-bench", priv)
	if err != nil {
		return nil, err
	}
	if err := registry.EnsureKey(ctx, st, "reg-bench", pub, time.Now()); err != nil {
		return nil, fmt.Errorf("publish registry key: %w", err)
	}
	srv := &registry.Server{Store: st, Signer: signer, PublicKey: pub, TokenTTL: 10 * time.Minute,
		CodeKey: []byte("bench code key"), Now: time.Now, Log: slog.New(slog.DiscardHandler),
		// Every kiosk of the benchmark enrolls from this one address.
		Limits: registry.Limits{Enroll: registry.Rate{PerSecond: 1e6, Burst: 1e6}}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	cl := &countingListener{Listener: ln}
	e := &registryEnv{Store: st, URL: "http://" + ln.Addr().String(), listener: cl,
		http: &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 30 * time.Second}, done: make(chan error, 1)}
	go func() { e.done <- e.http.Serve(cl) }()
	return e, nil
}

// Close stops the server; the store stays open (its owner closes it).
func (e *registryEnv) Close() error {
	err := e.http.Close()
	if serr := <-e.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// newHTTPClient is a kiosk's own HTTP client: its own connections, as separate devices have.
// The transport is the library default's clone, so gzip is negotiated as the real client
// does.
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{Transport: t}
}

// enroll enrolls a kiosk with key for Area through the real enrollment API.
func (e *registryEnv) enroll(ctx context.Context, kioskID string, key ed25519.PrivateKey, hc *http.Client) (*ikdsync.Client, error) {
	code, err := registry.NewEnrollCode(ctx, e.Store, Area, time.Now(), time.Hour)
	if err != nil {
		return nil, err
	}
	c := &ikdsync.Client{BaseURL: e.URL, KioskID: kioskID, Key: key, HTTP: hc}
	if _, err := c.Enroll(ctx, code); err != nil {
		return nil, fmt.Errorf("enroll %s: %w", kioskID, err)
	}
	return c, nil
}

// registration is a citizen's registration made for the benchmark.
type registration struct {
	ID  string
	NIK kiosk.NIK
}

// insertRegistrations creates n pending registrations straight through the store (the
// citizen API would sign a token for each, which is not what is measured), residents
// first..first+n-1 of the synthetic population (put in the registry's population data with
// them, and benchOfficer in its officer list, so ingest authorizes their activations), in
// chunks of one transaction each.
func insertRegistrations(ctx context.Context, st registry.Store, first, n int) ([]registration, error) {
	regs := make([]registration, n)
	now := time.Now().Add(-time.Hour).Truncate(time.Second)
	for i := range regs {
		regs[i] = registration{ID: uuid.Must(uuid.NewV7()).String(), NIK: snapshot.Synthetic(7, first+i).NIK}
	}
	err := registry.AddOfficer(ctx, st, registry.OfficerRow{ID: benchOfficer, Name: "Petugas Bench", Area: Area, Role: kiosk.RoleOfficer})
	if err != nil && !errors.Is(err, registry.ErrExists) {
		return nil, fmt.Errorf("officer: %w", err)
	}
	const chunk = 2000
	for start := 0; start < n; start += chunk {
		part := regs[start:min(start+chunk, n)]
		err := st.InTx(ctx, func(ctx context.Context, tx registry.Tx) error {
			rows := make([]registry.ResidentRow, 0, len(part))
			for i := range part {
				r := snapshot.Synthetic(7, first+start+i)
				data, err := ikdsync.Marshal(ikdsync.EncodeResidentChange(r))
				if err != nil {
					return err
				}
				rows = append(rows, registry.ResidentRow{NIK: string(r.NIK), Kecamatan: r.Kecamatan, Data: data})
			}
			if err := tx.PutResidents(ctx, rows); err != nil {
				return fmt.Errorf("residents: %w", err)
			}
			for _, r := range part {
				if err := tx.InsertRegistration(ctx, registry.Registration{ID: r.ID, NIK: string(r.NIK),
					Email: "warga@example.id", Phone: "0812-3456-7789", CreatedAt: now, Status: registry.RegPending}); err != nil {
					return fmt.Errorf("registration %s: %w", r.ID, err)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("insert registrations: %w", err)
		}
	}
	return regs, nil
}

// sealActivation seals an activation of reg as the kiosk does when an officer approves it.
func sealActivation(sealer *ikdsync.Sealer, kioskID string, reg registration, approved time.Time) (id string, env []byte, err error) {
	id = uuid.Must(uuid.NewV7()).String()
	env, err = sealer.Seal(kiosk.KindActivation, id, kiosk.Activation{ID: id, RegistrationID: reg.ID, NIK: reg.NIK,
		OfficerID: benchOfficer, KioskID: kioskID, TokenKeyID: "reg-bench", FaceBand: kiosk.BandMatch,
		FaceScore: 0.21, ApprovedAt: approved})
	if err != nil {
		return "", nil, fmt.Errorf("seal activation: %w", err)
	}
	return id, env, nil
}

// FreshDatabase creates an empty database on the PostgreSQL server of baseURL and returns
// its URL and a function that drops it. Each measurement gets its own, so none inherits
// another's rows or bloat.
func FreshDatabase(ctx context.Context, baseURL string) (string, func() error, error) {
	return pgdb.Create(ctx, baseURL, "ikd_bench_")
}
