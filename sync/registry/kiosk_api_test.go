package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
)

func wantError(t *testing.T, what string, status int, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("%s: status %d, body %q is not a JSON error", what, status, body)
	}
	if status != wantStatus || e.Code != wantCode || e.Error == "" {
		t.Fatalf("%s: status %d code %q (%q), want %d %q", what, status, e.Code, e.Error, wantStatus, wantCode)
	}
}

func TestEnrollment(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	ctx := context.Background()
	code, err := registry.NewEnrollCode(ctx, e.st, "Cibinong", e.now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	k := e.newKiosk()
	status, body := k.enrollWith(strings.ToLower(code)) // typed by hand
	if status != http.StatusOK {
		t.Fatalf("enroll: %d %s", status, body)
	}
	var resp ikdsync.EnrollResponse
	if err := ikdsync.Unmarshal(body, &resp); err != nil || resp.Area != "Cibinong" || len(resp.Keys) != 1 || resp.Keys[0].KeyID != "reg-test" {
		t.Fatalf("enroll response %+v %v", resp, err)
	}
	status, body = e.newKiosk().enrollWith(code)
	wantError(t, "code used twice", status, body, http.StatusForbidden, ikdsync.ErrEnrollCode.Code)
	status, body = e.newKiosk().enrollWith("AAAAA-BBBBB")
	wantError(t, "wrong code", status, body, http.StatusForbidden, ikdsync.ErrEnrollCode.Code)

	expiring, err := registry.NewEnrollCode(ctx, e.st, "Cibinong", e.now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e.advance(time.Hour)
	status, body = e.newKiosk().enrollWith(expiring)
	wantError(t, "expired code", status, body, http.StatusForbidden, ikdsync.ErrEnrollCode.Code)

	again, err := registry.NewEnrollCode(ctx, e.st, "Cibinong", e.now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	imposter := e.newKiosk()
	imposter.id = k.id
	status, body = imposter.enrollWith(again)
	wantError(t, "taken kiosk id", status, body, http.StatusConflict, ikdsync.ErrAlreadyEnrolled.Code)

	if _, err := registry.NewEnrollCode(ctx, e.st, " ", e.now(), time.Hour); err == nil {
		t.Fatal("enrollment code without an area")
	}
}

// TestRequestAuthentication plays every way a request can fail to prove its kiosk.
func TestRequestAuthentication(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	k := e.enroll("Cibinong")
	stranger := e.newKiosk()
	signed := func(k *kioskSim, at time.Time) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, e.http.URL+"/v1/changes", nil)
		if err := ikdsync.SignRequest(req, k.id, k.key, nil, at); err != nil {
			t.Fatal(err)
		}
		return req
	}
	replayed := signed(k, e.now())
	if status, body := send(t, replayed.Clone(context.Background())); status != http.StatusOK {
		t.Fatalf("first use: %d %s", status, body)
	}
	tampered := signed(k, e.now())
	tampered.URL.RawQuery = "cursor=0&limit=1"
	forged := signed(k, e.now())
	forged.Header.Set(ikdsync.HeaderSignature, strings.Repeat("A", 86))
	tests := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"Unsigned", func() *http.Request { r, _ := http.NewRequest(http.MethodGet, e.http.URL+"/v1/changes", nil); return r }(),
			http.StatusUnauthorized, ikdsync.ErrUnauthenticated.Code},
		{"UnknownDevice", signed(stranger, e.now()), http.StatusUnauthorized, ikdsync.ErrBadRequestSignature.Code},
		{"Replayed", replayed, http.StatusUnauthorized, ikdsync.ErrReplay.Code},
		{"TamperedQuery", tampered, http.StatusUnauthorized, ikdsync.ErrBadRequestSignature.Code},
		{"ForgedSignature", forged, http.StatusUnauthorized, ikdsync.ErrBadRequestSignature.Code},
		{"ClockBehind", signed(k, e.now().Add(-ikdsync.MaxSkew-time.Second)), http.StatusUnauthorized, ikdsync.ErrClockSkew.Code},
		{"ClockAhead", signed(k, e.now().Add(ikdsync.MaxSkew+time.Second)), http.StatusUnauthorized, ikdsync.ErrClockSkew.Code},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := send(t, tt.req)
			wantError(t, tt.name, status, body, tt.status, tt.code)
		})
	}

	// A pushed body changed after signing.
	b, _ := ikdsync.Marshal(ikdsync.PushRequest{Records: [][]byte{[]byte("x")}})
	req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/v1/records", bytes.NewReader(append(b, 0)))
	req.Header.Set("Content-Type", ikdsync.ContentType)
	if err := ikdsync.SignRequest(req, k.id, k.key, b, e.now()); err != nil {
		t.Fatal(err)
	}
	status, body := send(t, req)
	wantError(t, "tampered body", status, body, http.StatusUnauthorized, ikdsync.ErrBadRequestSignature.Code)
}

// TestMalformedPushes: bad bodies get a 4xx with a reason and change nothing.
func TestMalformedPushes(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	k := e.enroll("Cibinong")
	tooMany := make([][]byte, ikdsync.MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = []byte{0}
	}
	many, _ := ikdsync.Marshal(ikdsync.PushRequest{Records: tooMany})
	empty, _ := ikdsync.Marshal(ikdsync.PushRequest{})
	valid, _ := ikdsync.Marshal(ikdsync.PushRequest{Records: [][]byte{[]byte("x")}})
	tests := []struct {
		name   string
		body   []byte
		status int
	}{
		{"NotCBOR", []byte("{\"records\":[]}"), http.StatusBadRequest},
		{"Truncated", valid[:len(valid)-1], http.StatusBadRequest},
		{"TrailingBytes", append(append([]byte{}, valid...), 0xf6), http.StatusBadRequest},
		{"UnknownField", []byte{0xa2, 0x01, 0x80, 0x09, 0x00}, http.StatusBadRequest},
		{"Empty", empty, http.StatusBadRequest},
		{"TooManyRecords", many, http.StatusBadRequest},
		{"Oversized", bytes.Repeat([]byte{0}, ikdsync.MaxPushBytes+1), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := k.do(http.MethodPost, "/v1/records", tt.body)
			wantError(t, tt.name, status, body, tt.status, ikdsync.ErrMessageMalformed.Code)
		})
	}
	req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/v1/records", bytes.NewReader(valid))
	req.Header.Set("Content-Type", "application/json")
	if err := ikdsync.SignRequest(req, k.id, k.key, valid, e.now()); err != nil {
		t.Fatal(err)
	}
	status, body := send(t, req)
	wantError(t, "content type", status, body, http.StatusUnsupportedMediaType, ikdsync.ErrMessageMalformed.Code)
	if s := e.stats(); s.ActivationsAccepted != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestChanges pulls residents, officers and keys in pages, and sees a resident who moved away
// leave the old area.
func TestChanges(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(*testing.T) registry.Store) {
		e := newEnv(t, open(t))
		ctx := context.Background()
		var ndjson bytes.Buffer
		if err := snapshot.WriteSynthetic(&ndjson, 1, 25); err != nil {
			t.Fatal(err)
		}
		rep, err := registry.ImportResidents(ctx, e.st, &ndjson)
		if err != nil || rep.Residents != 25 {
			t.Fatalf("import: %+v %v", rep, err)
		}
		if err := registry.PutOfficer(ctx, e.st, registry.OfficerRow{ID: "199001012015011001", Name: "Rina", Role: kiosk.RoleSupervisor}); err != nil {
			t.Fatal(err)
		}
		if err := registry.PutOfficer(ctx, e.st, registry.OfficerRow{ID: "199001012015011002", Name: "Elsewhere", Role: kiosk.RoleOfficer, Area: "Sukaraja"}); err != nil {
			t.Fatal(err)
		}
		k := e.enroll("Cibinong")
		all := pullAll(t, k, "", 10)
		if len(all.residents) != 25 || len(all.officers) != 1 || len(all.keys) != 1 || all.pages != 3 {
			t.Fatalf("pulled %d residents, %d officers, %d keys in %d pages", len(all.residents), len(all.officers), len(all.keys), all.pages)
		}
		if all.officers[0].ID != "199001012015011001" || all.keys[0].KeyID != "reg-test" {
			t.Fatalf("officers %+v keys %+v", all.officers, all.keys)
		}
		d, err := ikdsync.DecodeDeltaPage(ikdsync.DeltaPage{Residents: all.residents[:1], Cursor: "1"})
		if err != nil || len(d.Residents) != 1 || d.Residents[0].NIK != snapshot.Synthetic(1, 0).NIK ||
			len(d.Residents[0].References) != 1 {
			t.Fatalf("decoded %+v %v", d, err)
		}

		moved := snapshot.Synthetic(1, 3)
		moved.Kecamatan = "Sukaraja"
		line, err := snapshot.EncodeLine(moved)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := registry.ImportResidents(ctx, e.st, bytes.NewReader(line)); err != nil {
			t.Fatal(err)
		}
		next := pullAll(t, k, all.cursor, 10)
		if len(next.residents) != 1 || !next.residents[0].Removed || next.residents[0].NIK != string(moved.NIK) {
			t.Fatalf("after the move: %+v", next.residents)
		}
		if again := pullAll(t, k, next.cursor, 10); len(again.residents) != 0 || again.cursor != next.cursor {
			t.Fatalf("nothing new expected, got %+v", again)
		}
		status, body := k.do(http.MethodGet, "/v1/changes?cursor=x", nil)
		wantError(t, "bad cursor", status, body, http.StatusBadRequest, ikdsync.ErrMessageMalformed.Code)
		status, body = k.do(http.MethodGet, fmt.Sprintf("/v1/changes?limit=%d", ikdsync.MaxPage+1), nil)
		wantError(t, "bad limit", status, body, http.StatusBadRequest, ikdsync.ErrMessageMalformed.Code)
	})
}

type pulled struct {
	residents []ikdsync.ResidentChange
	officers  []ikdsync.OfficerChange
	keys      []ikdsync.KeyChange
	cursor    string
	pages     int
}

func pullAll(t *testing.T, k *kioskSim, cursor string, limit int) pulled {
	t.Helper()
	p := pulled{cursor: cursor}
	for {
		status, body := k.do(http.MethodGet, fmt.Sprintf("/v1/changes?cursor=%s&limit=%d", p.cursor, limit), nil)
		if status != http.StatusOK {
			t.Fatalf("pull: %d %s", status, body)
		}
		var page ikdsync.DeltaPage
		if err := ikdsync.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		p.pages++
		p.residents = append(p.residents, page.Residents...)
		p.officers = append(p.officers, page.Officers...)
		p.keys = append(p.keys, page.Keys...)
		p.cursor = page.Cursor
		if !page.More {
			return p
		}
	}
}

// TestMetricsAndHealth: the metrics are on their own handler, not the public one, and count
// requests under the routes' real patterns.
func TestMetricsAndHealth(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	k := e.enroll("Cibinong")
	reg := e.register(nikSiti, "siti@example.id")
	_, act := k.activation(reg, nikSiti, e.now())
	k.push(act)
	for path, want := range map[string]string{
		"/healthz": "ok",
		"/readyz":  "ready",
	} {
		req, _ := http.NewRequest(http.MethodGet, e.http.URL+path, nil)
		status, body := send(t, req)
		if status != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d, want %q in %.300s", path, status, want, body)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, e.http.URL+"/metrics", nil)
	status, body := send(t, req)
	wantError(t, "public /metrics", status, body, http.StatusNotFound, "route.not_found")

	rec := httptest.NewRecorder()
	e.srv.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	metrics := rec.Body.String()
	for _, m := range []string{
		`ikd_registry_records_total{answer="accepted"} 1`,
		"ikd_registry_mail_queue_depth 1",
		"ikd_registry_kiosk_sync_lag_seconds{",
		`ikd_registry_requests_total{route="POST /v1/enroll",status="200"} 1`,
		`ikd_registry_requests_total{route="POST /v1/registrations",status="201"} 1`,
		`ikd_registry_requests_total{route="POST /v1/records",status="200"} 1`,
		`ikd_registry_requests_total{route="GET /healthz",status="200"} 1`,
		`ikd_registry_requests_total{route="unmatched",status="404"} 1`,
	} {
		if !strings.Contains(metrics, m) {
			t.Errorf("metrics lack %q in\n%s", m, metrics)
		}
	}
	e.st.Close()
	req, _ = http.NewRequest(http.MethodGet, e.http.URL+"/readyz", nil)
	if status, _ := send(t, req); status != http.StatusServiceUnavailable {
		t.Errorf("readyz with the database closed: %d, want 503", status)
	}
}
