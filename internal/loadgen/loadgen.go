// Package loadgen drives an enrolled kiosk store through real activations: it registers
// synthetic citizens through the registry's citizen API, takes each signed QR token through
// the kiosk's own workflow (token verification against the trust store, snapshot lookup,
// sealing with the device key, the durable outbox) and leaves the records queued for sync.
// Only the face port is a fake: there is no camera in a load test, and the face decision is
// not what the load exercises.
package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	"github.com/ikd-field/ikd/kiosk/token"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
)

// Defaults of the zero Config fields.
const (
	DefaultKecamatan = "Cibinong"
	DefaultDomain    = "warga.example"
	// residentChunk bounds one ApplyResidents transaction, so a large run does not hold the
	// store's write lock for long.
	residentChunk = 500
)

// Config says what Run generates.
type Config struct {
	Store *store.Store // an enrolled kiosk store (its registry key trusted)
	// RegistryURL is the citizen API's base URL; empty: the store's registry URL.
	RegistryURL string
	// CitizenToken is the citizen API's bearer token (ikd-registry --citizen-token-file).
	CitizenToken string
	// Count residents are generated, the i-th being snapshot.Synthetic(Seed, Offset+i*Stride)
	// (Stride 0 counts as 1), so several kiosks can share one population without overlap.
	Count, Offset, Stride int
	Seed                  uint64
	Kecamatan             string // default DefaultKecamatan
	Domain                string // e-mail domain; default DefaultDomain
	// Officer is who approves; it must be logged in already (store.Login).
	Officer kiosk.Officer
	// RegistryDB, when set, also gets the residents (the registry's population data).
	RegistryDB registry.Store
	// HTTP is the client for the citizen API; nil: a client without keep-alives.
	HTTP *http.Client
}

// Registration is one citizen taken through the workflow.
type Registration struct {
	ID       string // registration id
	NIK      kiosk.NIK
	Email    string
	Token    string // the signed QR text
	RecordID string // the queued activation record; "" if not approved
	// ApprovedAt is the approval time by the kiosk's clock: with RecordID it decides which of
	// two approvals of one registration wins.
	ApprovedAt time.Time
}

// Result lists what Run or ApproveTokens did, in generation order.
type Result struct {
	Registrations []Registration
	// ResidentsAdded counts residents that were missing from the kiosk snapshot.
	ResidentsAdded int
}

// Run creates cfg.Count synthetic residents where missing, registers each, and approves each
// token on cfg.Store through the workflow.
func Run(ctx context.Context, cfg Config) (Result, error) {
	var res Result
	if err := cfg.check(); err != nil {
		return res, err
	}
	residents := Residents(cfg)
	added, err := AddResidents(ctx, cfg.Store, residents)
	if err != nil {
		return res, err
	}
	res.ResidentsAdded = added
	if cfg.RegistryDB != nil {
		if err := ensureRegistryResidents(ctx, cfg.RegistryDB, residents); err != nil {
			return res, err
		}
	}
	base, err := cfg.registryURL(ctx)
	if err != nil {
		return res, err
	}
	hc := cfg.httpClient()
	flow := cfg.deps()
	for i, r := range residents {
		email := fmt.Sprintf("warga-%d-%d@%s", cfg.Seed, cfg.index(i), cfg.domain())
		reg, err := register(ctx, hc, base, cfg.CitizenToken, r.NIK, email, cfg.index(i))
		if err != nil {
			return res, err
		}
		rec, err := approve(ctx, flow, cfg.Officer, reg.Token)
		if err != nil {
			return res, fmt.Errorf("approve registration %s: %w", reg.ID, err)
		}
		reg.RecordID, reg.ApprovedAt = rec.ID, rec.CreatedAt
		res.Registrations = append(res.Registrations, reg)
	}
	return res, nil
}

// ApproveTokens approves already-issued tokens on cfg.Store (another kiosk than the one that
// approved them first, say: two kiosks approving one registration while offline). The
// tokens' residents must be in the store's snapshot; Count, Offset and Stride are ignored.
func ApproveTokens(ctx context.Context, cfg Config, tokens []string) (Result, error) {
	var res Result
	cfg.Count = len(tokens)
	if err := cfg.check(); err != nil {
		return res, err
	}
	flow := cfg.deps()
	v := token.NewVerifier(cfg.Store)
	for _, text := range tokens {
		tok, err := v.Verify(ctx, text, cfg.Store.Now())
		if err != nil {
			return res, fmt.Errorf("approve token: %w", err)
		}
		rec, err := approve(ctx, flow, cfg.Officer, text)
		if err != nil {
			return res, fmt.Errorf("approve registration %s: %w", tok.RegistrationID, err)
		}
		res.Registrations = append(res.Registrations, Registration{ID: tok.RegistrationID, NIK: tok.NIK,
			Token: text, RecordID: rec.ID, ApprovedAt: rec.CreatedAt})
	}
	return res, nil
}

// Deactivate queues a lost-phone deactivation of each NIK on cfg.Store through the workflow
// and returns the record ids. The residents must be in the store's snapshot.
func Deactivate(ctx context.Context, cfg Config, niks []kiosk.NIK) ([]string, error) {
	cfg.Count = len(niks)
	if err := cfg.check(); err != nil {
		return nil, err
	}
	d := cfg.deps()
	ids := make([]string, 0, len(niks))
	for _, nik := range niks {
		f := kiosk.NewDeactivation(d, cfg.Officer)
		if err := f.EnterNIK(string(nik)); err != nil {
			return ids, fmt.Errorf("deactivate %s: %w", nik.Masked(), err)
		}
		if err := f.FindResident(ctx); err != nil {
			return ids, fmt.Errorf("deactivate %s: %w", nik.Masked(), err)
		}
		if err := f.VerifyFace(ctx); err != nil {
			return ids, fmt.Errorf("deactivate %s: %w", nik.Masked(), err)
		}
		if err := f.Approve(ctx, kiosk.Approval{EyeChecked: true, Reason: "HP hilang"}); err != nil {
			return ids, fmt.Errorf("deactivate %s: %w", nik.Masked(), err)
		}
		ids = append(ids, f.Record().ID)
	}
	return ids, nil
}

func (cfg Config) check() error {
	switch {
	case cfg.Store == nil:
		return errors.New("loadgen: no kiosk store")
	case cfg.Count < 0:
		return fmt.Errorf("loadgen: count %d", cfg.Count)
	case cfg.Officer.ID == "":
		return errors.New("loadgen: no logged-in officer")
	}
	return nil
}

func (cfg Config) index(i int) int { return cfg.Offset + i*max(cfg.Stride, 1) }

func (cfg Config) kecamatan() string {
	if cfg.Kecamatan == "" {
		return DefaultKecamatan
	}
	return cfg.Kecamatan
}

func (cfg Config) domain() string {
	if cfg.Domain == "" {
		return DefaultDomain
	}
	return cfg.Domain
}

func (cfg Config) registryURL(ctx context.Context) (string, error) {
	if cfg.RegistryURL != "" {
		return cfg.RegistryURL, nil
	}
	u, err := cfg.Store.RegistryURL(ctx)
	if err != nil {
		return "", fmt.Errorf("loadgen: registry URL: %w", err)
	}
	if u == "" {
		return "", errors.New("loadgen: the kiosk is not enrolled and no registry URL was given")
	}
	return u, nil
}

func (cfg Config) httpClient() *http.Client {
	if cfg.HTTP != nil {
		return cfg.HTTP
	}
	// No keep-alives: a fault-injecting proxy in front of the registry assigns faults per
	// connection, and a load run should not ride one connection through all of them.
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableKeepAlives = true
	return &http.Client{Transport: t, Timeout: time.Minute}
}

// deps are the workflow's ports on the real store, sealer and trust store; only the face
// verifier is a fake.
func (cfg Config) deps() kiosk.Deps {
	s := cfg.Store
	sealer, err := ikdsync.NewSealer(s.KioskID(), s.DeviceKey())
	if err != nil {
		// The store's own device key always makes a sealer; anything else is a broken store.
		panic(fmt.Sprintf("loadgen: sealer for kiosk %s: %v", s.KioskID(), err))
	}
	return kiosk.Deps{Tokens: token.NewVerifier(s), Residents: s, Faces: matchingFace{}, Outbox: s, Audit: s,
		Sealer: sealer, Clock: s, IDs: uuidV7{}, KioskID: s.KioskID()}
}

// approve takes one token through the activation workflow and returns the queued record.
func approve(ctx context.Context, d kiosk.Deps, officer kiosk.Officer, text string) (kiosk.OutboxRecord, error) {
	f := kiosk.NewActivation(d, officer)
	if err := f.ScanToken(ctx, text); err != nil {
		return kiosk.OutboxRecord{}, err
	}
	if err := f.FindResident(ctx); err != nil {
		return kiosk.OutboxRecord{}, err
	}
	if err := f.VerifyFace(ctx); err != nil {
		return kiosk.OutboxRecord{}, err
	}
	if err := f.Approve(ctx, kiosk.Approval{EyeChecked: f.State() == kiosk.StateFaceUncertain}); err != nil {
		return kiosk.OutboxRecord{}, err
	}
	return f.Record(), nil
}

// matchingFace is the fake face port: every citizen matches their reference.
type matchingFace struct{}

func (matchingFace) VerifyFace(_ context.Context, r kiosk.Resident) (kiosk.FaceResult, error) {
	var live kiosk.Descriptor
	if len(r.References) > 0 {
		live = r.References[0]
	}
	return kiosk.FaceResult{Band: kiosk.BandMatch, Score: 0.2, Live: live}, nil
}

type uuidV7 struct{}

func (uuidV7) NewID() string { return uuid.Must(uuid.NewV7()).String() }

// Residents returns the synthetic residents cfg describes (Count, Offset, Stride, Seed,
// Kecamatan), the ones Run registers.
func Residents(cfg Config) []kiosk.Resident {
	residents := make([]kiosk.Resident, cfg.Count)
	for i := range residents {
		r := snapshot.Synthetic(cfg.Seed, cfg.index(i))
		r.Kecamatan = cfg.kecamatan()
		residents[i] = r
	}
	return residents
}

// AddResidents adds the residents missing from the kiosk snapshot and returns how many it
// added, keeping the snapshot cursor (the registry has not sent them; the next pull continues
// from where it was).
func AddResidents(ctx context.Context, s *store.Store, rs []kiosk.Resident) (int, error) {
	var missing []kiosk.Resident
	for _, r := range rs {
		_, err := s.ResidentByNIK(ctx, r.NIK)
		switch {
		case errors.Is(err, kiosk.ErrResidentNotFound):
			missing = append(missing, r)
		case err != nil:
			return 0, fmt.Errorf("loadgen: look up resident %s: %w", r.NIK.Masked(), err)
		}
	}
	cursor, err := s.SnapshotCursor(ctx)
	if err != nil {
		return 0, fmt.Errorf("loadgen: snapshot cursor: %w", err)
	}
	for start := 0; start < len(missing); start += residentChunk {
		chunk := missing[start:min(start+residentChunk, len(missing))]
		if _, err := s.ApplyResidents(ctx, chunk, nil, cursor); err != nil {
			return start, fmt.Errorf("loadgen: add residents %d to %d: %w", start+1, start+len(chunk), err)
		}
	}
	return len(missing), nil
}

// ensureRegistryResidents adds the residents missing from the registry's population data.
func ensureRegistryResidents(ctx context.Context, st registry.Store, rs []kiosk.Resident) error {
	for start := 0; start < len(rs); start += residentChunk {
		chunk := rs[start:min(start+residentChunk, len(rs))]
		err := st.InTx(ctx, func(ctx context.Context, tx registry.Tx) error {
			var rows []registry.ResidentRow
			for _, r := range chunk {
				_, err := tx.Resident(ctx, string(r.NIK))
				if err == nil {
					continue
				}
				if !errors.Is(err, registry.ErrNotFound) {
					return err
				}
				data, err := ikdsync.Marshal(ikdsync.EncodeResidentChange(r))
				if err != nil {
					return err
				}
				rows = append(rows, registry.ResidentRow{NIK: string(r.NIK), Kecamatan: r.Kecamatan, Data: data})
			}
			if len(rows) == 0 {
				return nil
			}
			return tx.PutResidents(ctx, rows)
		})
		if err != nil {
			return fmt.Errorf("loadgen: registry residents %d to %d: %w", start+1, start+len(chunk), err)
		}
	}
	return nil
}

// maxRetryWait is the longest Retry-After of a 429 that register waits out; a longer one
// (a NIK with too many open registrations) is an error.
const maxRetryWait = time.Minute

// register registers one citizen through the citizen API. A load run from one address meets
// the registry's per-client rate limit: a 429 is waited out as its Retry-After says.
func register(ctx context.Context, hc *http.Client, base, token string, nik kiosk.NIK, email string, i int) (Registration, error) {
	for {
		reg, wait, err := registerOnce(ctx, hc, base, token, nik, email, i)
		if err == nil || wait <= 0 || wait > maxRetryWait {
			return reg, err
		}
		select {
		case <-ctx.Done():
			return Registration{}, fmt.Errorf("register %s: %w", nik.Masked(), ctx.Err())
		case <-time.After(wait):
		}
	}
}

// registerOnce sends one registration; wait is the Retry-After of a 429.
func registerOnce(ctx context.Context, hc *http.Client, base, token string, nik kiosk.NIK, email string, i int) (reg Registration, wait time.Duration, err error) {
	body, err := json.Marshal(registry.RegistrationRequest{NIK: string(nik), Email: email,
		Phone: fmt.Sprintf("0812-%04d-%04d", (i/10000)%10000, i%10000)})
	if err != nil {
		return Registration{}, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/v1/registrations",
		bytes.NewReader(body))
	if err != nil {
		return Registration{}, 0, fmt.Errorf("register %s: %w", nik.Masked(), err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return Registration{}, 0, fmt.Errorf("register %s: %w", nik.Masked(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return Registration{}, 0, fmt.Errorf("register %s: read answer: %w", nik.Masked(), err)
	}
	if resp.StatusCode != http.StatusCreated {
		if resp.StatusCode == http.StatusTooManyRequests {
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
				wait = time.Duration(s) * time.Second
			}
		}
		return Registration{}, wait, fmt.Errorf("register %s: HTTP %d: %s", nik.Masked(), resp.StatusCode, bytes.TrimSpace(b))
	}
	var rr registry.RegistrationResponse
	if err := json.Unmarshal(b, &rr); err != nil || rr.RegistrationID == "" || rr.Token == "" {
		return Registration{}, 0, fmt.Errorf("register %s: unreadable answer %q", nik.Masked(), b)
	}
	return Registration{ID: rr.RegistrationID, NIK: nik, Email: email, Token: rr.Token}, 0, nil
}
