package sync_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// registryServer is an httptest registry that checks every signed request with the kiosk's
// device key and answers with handler.
type registryServer struct {
	*httptest.Server
	mu       stdsync.Mutex
	verified int
	bad      []string
}

func newRegistryServer(t *testing.T, pub ed25519.PublicKey, handler func(w http.ResponseWriter, r *http.Request, body []byte)) *registryServer {
	t.Helper()
	rs := &registryServer{}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/v1/enroll" {
			sr, sig, err := ikdsync.ParseSignedRequest(r)
			if err == nil {
				err = ikdsync.CheckTime(sr, time.Now())
			}
			if err == nil {
				sr.Body = body
				err = ikdsync.CheckSignature(sr, sig, pub)
			}
			rs.mu.Lock()
			if err != nil {
				rs.bad = append(rs.bad, r.URL.String()+": "+err.Error())
			} else {
				rs.verified++
			}
			rs.mu.Unlock()
			if err != nil {
				http.Error(w, `{"code":"auth.bad_signature","error":"bad"}`, http.StatusUnauthorized)
				return
			}
			if r.Method == http.MethodPost && r.Header.Get("Content-Type") != ikdsync.ContentType {
				rs.mu.Lock()
				rs.bad = append(rs.bad, "content type "+r.Header.Get("Content-Type"))
				rs.mu.Unlock()
			}
		}
		handler(w, r, body)
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *registryServer) checkSigned(t *testing.T) {
	t.Helper()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.bad) > 0 || rs.verified == 0 {
		t.Errorf("%d requests verified; refused: %v", rs.verified, rs.bad)
	}
}

func writeCBOR(t *testing.T, w http.ResponseWriter, v any) {
	b, err := ikdsync.Marshal(v)
	if err != nil {
		t.Error(err)
		return
	}
	w.Header().Set("Content-Type", ikdsync.ContentType)
	w.Write(b)
}

func testKey(t *testing.T) ed25519.PrivateKey {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// TestRegistryGarbage: whatever unreadable thing the registry (or something in between)
// answers, the lane fails with a specific error and no record is stored as answered.
func TestRegistryGarbage(t *testing.T) {
	key := testKey(t)
	valid2, _ := ikdsync.Marshal(ikdsync.PushResponse{Time: 1, Answers: []ikdsync.Answer{{Status: 1}, {Status: 1}}})
	cases := map[string]struct {
		answer func(w http.ResponseWriter)
		want   *kiosk.Error
	}{
		"NonCBOR200": {func(w http.ResponseWriter) { w.Write([]byte("OK, thanks")) }, ikdsync.ErrRegistryAnswer},
		"WrongAnswerCount": {func(w http.ResponseWriter) {
			b, _ := ikdsync.Marshal(ikdsync.PushResponse{Time: 1, Answers: []ikdsync.Answer{{Status: 1}}})
			w.Write(b)
		}, ikdsync.ErrRegistryAnswer},
		"UnknownStatus": {func(w http.ResponseWriter) {
			b, _ := ikdsync.Marshal(ikdsync.PushResponse{Time: 1, Answers: []ikdsync.Answer{{Status: 1}, {Status: 9}}})
			w.Write(b)
		}, ikdsync.ErrRegistryAnswer},
		"RejectionWithoutCode": {func(w http.ResponseWriter) {
			b, _ := ikdsync.Marshal(ikdsync.PushResponse{Time: 1, Answers: []ikdsync.Answer{{Status: 1}, {Status: 3}}})
			w.Write(b)
		}, ikdsync.ErrRegistryAnswer},
		"TruncatedBody": {func(w http.ResponseWriter) { w.Write(valid2[:len(valid2)/2]) }, ikdsync.ErrRegistryAnswer},
		"TrailingBytes": {func(w http.ResponseWriter) { w.Write(append(bytes.Clone(valid2), 0)) }, ikdsync.ErrRegistryAnswer},
		"CutMidAnswer": {func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", strconv.Itoa(len(valid2)))
			w.Write(valid2[:3])
		}, ikdsync.ErrRegistryUnavailable},
		"Oversized": {func(w http.ResponseWriter) { w.Write(make([]byte, 4<<20)) }, ikdsync.ErrRegistryAnswer},
		"HTMLErrorPage": {func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
		}, ikdsync.ErrRegistryAnswer},
		"CaptivePortal200HTML": {func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>Login to WiFi</html>"))
		}, ikdsync.ErrRegistryAnswer},
		"500WithCode": {func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"code":"auth.clock_skew","error":"request time is 9m from the registry's"}`))
		}, ikdsync.ErrClockSkew},
		"UnknownCode": {func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"code":"registry.new_thing","error":"?"}`))
		}, ikdsync.ErrUnknownCode},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := newRegistryServer(t, key.Public().(ed25519.PublicKey), func(w http.ResponseWriter, r *http.Request, _ []byte) {
				if r.URL.Path == "/v1/records" {
					tc.answer(w)
					return
				}
				writeCBOR(t, w, ikdsync.DeltaPage{Time: 1, Cursor: "c"})
			})
			st := newMemStore(2)
			c := &ikdsync.Client{BaseURL: srv.URL, KioskID: "kiosk-1", Key: key}
			e := newEngine(t, st, c, nil)
			res, _ := e.Round(context.Background())
			if !errors.Is(res.PushErr, tc.want) {
				t.Fatalf("push err = %v, want %s", res.PushErr, tc.want.Code)
			}
			if s := e.Status().Push; s.LastError == nil || s.LastError.Code != tc.want.Code {
				t.Errorf("push status %+v, want %s", s, tc.want.Code)
			}
			for id, r := range st.states() {
				if r.State != kiosk.RecordSent || r.Answer != "" {
					t.Errorf("%s stored as %s %q", id, r.State, r.Answer)
				}
			}
			if res.PullErr != nil {
				t.Errorf("pull failed with push: %v", res.PullErr)
			}
			srv.checkSigned(t)
		})
	}
	t.Run("Unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		st := newMemStore(1)
		e := newEngine(t, st, &ikdsync.Client{BaseURL: srv.URL, KioskID: "k", Key: key}, nil)
		res, _ := e.Round(context.Background())
		if !errors.Is(res.PushErr, ikdsync.ErrRegistryUnavailable) || !errors.Is(res.PullErr, ikdsync.ErrRegistryUnavailable) {
			t.Errorf("errors %v / %v, want ErrRegistryUnavailable", res.PushErr, res.PullErr)
		}
	})
	t.Run("PullGarbage", func(t *testing.T) {
		for name, body := range map[string][]byte{
			"NonCBOR":      []byte("{}"),
			"UnknownField": mustMarshal(t, map[int]any{1: 1, 5: "c", 99: true}),
		} {
			srv := newRegistryServer(t, key.Public().(ed25519.PublicKey), func(w http.ResponseWriter, r *http.Request, _ []byte) {
				w.Write(body)
			})
			st := newMemStore(0)
			_, err := newEngine(t, st, &ikdsync.Client{BaseURL: srv.URL, KioskID: "k", Key: key}, nil).Round(context.Background())
			if !errors.Is(err, ikdsync.ErrRegistryAnswer) || len(st.deltas) != 0 {
				t.Errorf("%s: err = %v, %d deltas", name, err, len(st.deltas))
			}
		}
	})
}

func mustMarshal(t *testing.T, v any) []byte {
	b, err := ikdsync.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEnroll(t *testing.T) {
	key := testKey(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req ikdsync.EnrollRequest
		if r.URL.Path != "/v1/enroll" || ikdsync.Unmarshal(body, &req) != nil ||
			!ed25519.Verify(req.PublicKey, ikdsync.EnrollProof(req.Code, req.KioskID), req.Signature) {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"code":"sync.malformed","error":"bad enroll"}`))
			return
		}
		if req.Code != "123-456" {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"code":"enroll.bad_code","error":"used"}`))
			return
		}
		writeCBOR(t, w, ikdsync.EnrollResponse{Time: 5, Area: "Cibinong"})
	}))
	defer srv.Close()
	c := &ikdsync.Client{BaseURL: srv.URL + "/", KioskID: "kiosk-7", Key: key}
	resp, err := c.Enroll(context.Background(), "123-456")
	if err != nil || resp.Area != "Cibinong" {
		t.Fatalf("enroll: %+v, %v", resp, err)
	}
	if _, err := c.Enroll(context.Background(), "999"); !errors.Is(err, ikdsync.ErrEnrollCode) {
		t.Errorf("bad code: %v, want ErrEnrollCode", err)
	}
}

// TestEngineWithRealStore runs a round between the real kiosk store and an httptest registry
// speaking the real messages: records sealed by the store's device key are opened by the
// registry, answers land in the outbox, and two delta pages (the first gzipped) land in the
// snapshot with their cursor.
func TestEngineWithRealStore(t *testing.T) {
	ctx := context.Background()
	opts := store.Options{KDF: store.MinKDF, PIN: store.PINParams(store.MinKDF)}
	s, err := store.Init(ctx, filepath.Join(t.TempDir(), "kiosk.db"), []byte("rahasia-uji-yang-cukup-panjang"), opts,
		kiosk.Officer{ID: "sup1", Name: "Dewi", Role: kiosk.RoleSupervisor}, "482916")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pub := s.DeviceKey().Public().(ed25519.PublicKey)
	sealer, err := ikdsync.NewSealer(s.KioskID(), s.DeviceKey())
	if err != nil {
		t.Fatal(err)
	}
	res := []kiosk.Resident{snapshot.Synthetic(21, 0), snapshot.Synthetic(21, 1), snapshot.Synthetic(21, 2)}
	for i, id := range []string{"rec-1", "rec-2"} {
		a := kiosk.Activation{ID: id, RegistrationID: "reg-" + id, NIK: res[i].NIK, OfficerID: "sup1", KioskID: s.KioskID(),
			TokenKeyID: "k1", FaceBand: kiosk.BandMatch, FaceScore: 0.3, ApprovedAt: time.Now().UTC().Truncate(time.Millisecond)}
		env, err := sealer.Seal(kiosk.KindActivation, id, a)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Enqueue(ctx, kiosk.OutboxRecord{ID: id, Kind: kiosk.KindActivation, NIK: a.NIK, RegistrationID: a.RegistrationID,
			Envelope: env}, kiosk.AuditEvent{Action: "activation.approved", Subject: id}); err != nil {
			t.Fatal(err)
		}
	}
	regKey := testKey(t).Public().(ed25519.PublicKey)
	srv := newRegistryServer(t, pub, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch r.URL.Path {
		case "/v1/records":
			var req ikdsync.PushRequest
			if err := ikdsync.Unmarshal(body, &req); err != nil {
				t.Error(err)
			}
			resp := ikdsync.PushResponse{Time: time.Now().UnixMilli()}
			for _, env := range req.Records {
				rec, err := ikdsync.Open(env, pub)
				switch {
				case err != nil:
					resp.Answers = append(resp.Answers, ikdsync.Answer{Status: ikdsync.StatusRejected, Code: ikdsync.CodeOf(err)})
				case rec.ID == "rec-2":
					resp.Answers = append(resp.Answers, ikdsync.Answer{Status: ikdsync.StatusRejected, Code: "activation.duplicate", Winner: "other-9"})
				default:
					resp.Answers = append(resp.Answers, ikdsync.Answer{Status: ikdsync.StatusAccepted})
				}
			}
			writeCBOR(t, w, resp)
		case "/v1/changes":
			var page ikdsync.DeltaPage
			switch r.URL.Query().Get("cursor") {
			case "":
				page = ikdsync.DeltaPage{Cursor: "p1", More: true, Keys: []ikdsync.KeyChange{{KeyID: "reg-9", PublicKey: regKey}}}
				for _, rr := range res {
					page.Residents = append(page.Residents, ikdsync.EncodeResidentChange(rr))
				}
			case "p1":
				page = ikdsync.DeltaPage{Cursor: "p2", Officers: []ikdsync.OfficerChange{
					{ID: "sup1", Name: "Dewi Lestari", Role: "supervisor"}, {ID: "new-1", Name: "Agus", Role: "officer"}},
					Residents: []ikdsync.ResidentChange{{NIK: string(res[2].NIK), Removed: true}}}
			default:
				t.Errorf("cursor %q", r.URL.Query().Get("cursor"))
			}
			page.Time = time.Now().UnixMilli()
			b, _ := ikdsync.Marshal(page)
			if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") && page.More {
				w.Header().Set("Content-Encoding", "gzip")
				zw := gzip.NewWriter(w)
				zw.Write(b)
				zw.Close()
				return
			}
			w.Write(b)
		default:
			http.NotFound(w, r)
		}
	})
	c := &ikdsync.Client{BaseURL: srv.URL, KioskID: s.KioskID(), Key: s.DeviceKey()}
	e := newEngine(t, s, c, func(c *ikdsync.EngineConfig) { c.Now = time.Now })
	round, err := e.Round(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv.checkSigned(t)
	if round.Push != (ikdsync.PushResult{Sent: 2, Acknowledged: 1, Rejected: 1}) || round.Pull.Pages != 2 {
		t.Errorf("round %+v", round)
	}
	want := kiosk.DeltaCounts{ResidentsAdded: 3, ResidentsRemoved: 1, OfficersUpdated: 1, OfficersSkipped: 1, Keys: 1}
	if round.Pull.Counts != want {
		t.Errorf("pull counts %+v, want %+v", round.Pull.Counts, want)
	}
	recs, err := s.Records(ctx, "", 10)
	if err != nil || len(recs) != 2 {
		t.Fatalf("records %v, %v", recs, err)
	}
	if recs[0].State != kiosk.RecordAcknowledged || recs[1].State != kiosk.RecordRejected ||
		!strings.HasPrefix(recs[1].Answer, "activation.duplicate: ") || !strings.HasSuffix(recs[1].Answer, "(catatan other-9)") {
		t.Errorf("records %s %q / %s %q", recs[0].State, recs[0].Answer, recs[1].State, recs[1].Answer)
	}
	got, err := s.ResidentByNIK(ctx, res[0].NIK)
	if err != nil || got.Name != res[0].Name || len(got.References) != len(res[0].References) {
		t.Errorf("resident: %+v, %v", got.Name, err)
	}
	if _, err := s.ResidentByNIK(ctx, res[2].NIK); !errors.Is(err, kiosk.ErrResidentNotFound) {
		t.Errorf("removed resident: %v", err)
	}
	if cur, _ := s.SnapshotCursor(ctx); cur != "p2" {
		t.Errorf("cursor %q", cur)
	}
	if _, err := s.RegistryKey(ctx, "reg-9"); err != nil {
		t.Errorf("key: %v", err)
	}
	if offs, _ := s.Officers(ctx); len(offs) != 1 || offs[0].Name != "Dewi Lestari" {
		t.Errorf("officers %+v", offs)
	}
	if st := e.Status(); st.Pending != 0 || st.Push.LastError != nil || st.Pull.LastError != nil {
		t.Errorf("status %+v", st)
	}
	if rep, err := s.Verify(ctx); err != nil || !rep.OK() {
		t.Errorf("verify: %+v, %v", rep, err)
	}
}

// TestFullBatchAnswerFits: the answer to MaxBatch records, each rejected with the longest
// code and a winner id of the longest allowed size, is within the push answer limit.
func TestFullBatchAnswerFits(t *testing.T) {
	key := testKey(t)
	srv := newRegistryServer(t, key.Public().(ed25519.PublicKey), func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req ikdsync.PushRequest
		if err := ikdsync.Unmarshal(body, &req); err != nil {
			t.Error(err)
		}
		resp := ikdsync.PushResponse{Time: time.Now().UnixMilli()}
		long := ""
		for _, e := range ikdsync.Codes {
			if len(e.Code) > len(long) {
				long = e.Code
			}
		}
		for range req.Records {
			resp.Answers = append(resp.Answers, ikdsync.Answer{Status: ikdsync.StatusRejected, Code: long, Winner: strings.Repeat("w", 64)})
		}
		writeCBOR(t, w, resp)
	})
	envs := make([][]byte, ikdsync.MaxBatch)
	for i := range envs {
		envs[i] = []byte("e")
	}
	c := &ikdsync.Client{BaseURL: srv.URL, KioskID: "k", Key: key}
	resp, err := c.Push(context.Background(), envs, nil)
	if err != nil || len(resp.Answers) != ikdsync.MaxBatch {
		t.Fatalf("push: %d answers, %v", len(resp.Answers), err)
	}
	if _, err := c.Push(context.Background(), append(envs, []byte("e")), nil); err == nil {
		t.Error("a push of more than MaxBatch records was sent")
	}
}
