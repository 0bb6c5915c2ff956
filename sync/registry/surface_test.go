package registry_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	gosync "sync"
	"testing"
	"time"

	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
)

// countingBody is a request body of n zero bytes that counts what the server reads of it.
type countingBody struct {
	mu   gosync.Mutex
	left int
	read int
}

func (b *countingBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), b.left)
	clear(p[:n])
	b.left -= n
	b.read += n
	return n, nil
}

func (b *countingBody) Close() error { return nil }

func (b *countingBody) bytesRead() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.read
}

// TestUnauthenticatedBodyIsNotRead: a push whose headers do not name a known kiosk at a sane
// time, or that does not declare a length the registry accepts, is refused without a byte of
// its body read, and the connection is not kept for draining it.
func TestUnauthenticatedBodyIsNotRead(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	k := e.enroll("Cibinong")
	stranger := e.newKiosk()
	const size = ikdsync.MaxPushBytes
	tests := []struct {
		name   string
		signer *kioskSim // nil: unsigned
		at     time.Time
		length int64 // the declared Content-Length; -1: none (chunked)
		status int
		code   string
	}{
		{"Unsigned", nil, e.now(), size, http.StatusUnauthorized, ikdsync.ErrUnauthenticated.Code},
		{"UnknownKiosk", stranger, e.now(), size, http.StatusUnauthorized, ikdsync.ErrBadRequestSignature.Code},
		{"ClockSkew", k, e.now().Add(-ikdsync.MaxSkew - time.Second), size, http.StatusUnauthorized, ikdsync.ErrClockSkew.Code},
		{"NoContentLength", k, e.now(), -1, http.StatusLengthRequired, ikdsync.ErrMessageMalformed.Code},
		{"DeclaredTooLarge", k, e.now(), size + 1, http.StatusRequestEntityTooLarge, ikdsync.ErrMessageMalformed.Code},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := &countingBody{left: size + 1}
			req := httptest.NewRequest(http.MethodPost, "/v1/records", nil)
			req.Body, req.ContentLength = body, tt.length
			req.Header.Set("Content-Type", ikdsync.ContentType)
			if tt.signer != nil {
				// Signed over some other body: the signature is never looked at.
				if err := ikdsync.SignRequest(req, tt.signer.id, tt.signer.key, []byte("x"), tt.at); err != nil {
					t.Fatal(err)
				}
			}
			rec := httptest.NewRecorder()
			e.srv.Handler().ServeHTTP(rec, req)
			wantError(t, tt.name, rec.Code, rec.Body.Bytes(), tt.status, tt.code)
			if n := body.bytesRead(); n != 0 {
				t.Errorf("the server read %d bytes of the body", n)
			}
			if c := rec.Header().Get("Connection"); c != "close" {
				t.Errorf("Connection: %q, want close", c)
			}
		})
	}
}

// TestUnsignedSlowBodiesAnsweredAtOnce plays clients that declare a full-size push, send a
// few bytes of it and stall. Each gets its 401 while its body is still unsent, and the
// server closes the connection. The clients never send the rest, so the outcome does not
// depend on the machine's speed; the read deadline only keeps a broken server from hanging
// the test.
func TestUnsignedSlowBodiesAnsweredAtOnce(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	addr := e.http.Listener.Addr().String()
	const clients = 20
	errs := make(chan error, clients)
	var wg gosync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			head := fmt.Sprintf("POST /v1/records HTTP/1.1\r\nHost: registry\r\nContent-Type: %s\r\n"+
				"IKD-Kiosk: kiosk-%d\r\nContent-Length: %d\r\n\r\n\xa1\x01", ikdsync.ContentType, i, ikdsync.MaxPushBytes)
			if _, err := io.WriteString(conn, head); err != nil {
				errs <- err
				return
			}
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				errs <- fmt.Errorf("client %d: no answer while its body is unsent: %w", i, err)
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusUnauthorized || !bytes.Contains(b, []byte(ikdsync.ErrUnauthenticated.Code)) {
				errs <- fmt.Errorf("client %d: %d %q %v", i, resp.StatusCode, b, err)
				return
			}
			if _, err := conn.Read(make([]byte, 1)); err == nil {
				errs <- fmt.Errorf("client %d: connection still open after the refusal", i)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestUnknownKioskAnswersAsBadSignature: a kiosk id the registry does not know gets the same
// status, headers and body as a known kiosk with a wrong signature, so ids cannot be probed.
func TestUnknownKioskAnswersAsBadSignature(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	k := e.enroll("Cibinong")
	stranger := e.newKiosk()
	body, err := ikdsync.Marshal(ikdsync.PushRequest{Records: [][]byte{[]byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	answer := func(signer *kioskSim, forge bool) (int, http.Header, []byte) {
		req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/v1/records", bytes.NewReader(body))
		req.Header.Set("Content-Type", ikdsync.ContentType)
		if err := ikdsync.SignRequest(req, signer.id, signer.key, body, e.now()); err != nil {
			t.Fatal(err)
		}
		if forge {
			other := e.newKiosk()
			if err := ikdsync.SignRequest(req, signer.id, other.key, body, e.now()); err != nil {
				t.Fatal(err)
			}
		}
		resp, b := do(t, req)
		return resp.StatusCode, resp.Header, b
	}
	uStatus, uHeader, uBody := answer(stranger, false)
	bStatus, bHeader, bBody := answer(k, true)
	if uStatus != bStatus || !bytes.Equal(uBody, bBody) {
		t.Fatalf("unknown kiosk: %d %s; bad signature: %d %s", uStatus, uBody, bStatus, bBody)
	}
	for _, h := range []string{"Content-Type", "Connection", "Content-Length"} {
		if uHeader.Get(h) != bHeader.Get(h) {
			t.Errorf("%s: unknown kiosk %q, bad signature %q", h, uHeader.Get(h), bHeader.Get(h))
		}
	}
	wantError(t, "unknown kiosk", uStatus, uBody, http.StatusUnauthorized, ikdsync.ErrBadRequestSignature.Code)
}

// wantRetry checks a 429 with its code and a Retry-After of want seconds.
func wantRetry(t *testing.T, what string, resp *http.Response, body []byte, code string, want int) {
	t.Helper()
	wantError(t, what, resp.StatusCode, body, http.StatusTooManyRequests, code)
	if got, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || got != want {
		t.Fatalf("%s: Retry-After %q, want %d", what, resp.Header.Get("Retry-After"), want)
	}
}

// do sends req and returns the answer with its whole body read.
func do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestRateLimits(t *testing.T) {
	limits := registry.Limits{Enroll: registry.Rate{PerSecond: 0.1, Burst: 3},
		Citizen: registry.Rate{PerSecond: 0.5, Burst: 4}, OpenRegistrations: 1000}
	e := newEnvWith(t, openSQLite(t), func(s *registry.Server) { s.Limits = limits })
	tests := []struct {
		name  string
		req   func() *http.Request
		burst int
		ok    int // the status of a request within the limit
		wait  time.Duration
	}{
		{"Enroll", func() *http.Request {
			k := e.newKiosk()
			b, _ := ikdsync.Marshal(ikdsync.EnrollRequest{Code: "AAAAA-BBBBB", KioskID: k.id})
			req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/v1/enroll", bytes.NewReader(b))
			req.Header.Set("Content-Type", ikdsync.ContentType)
			return req
		}, 3, http.StatusBadRequest, 10 * time.Second},
		{"Register", func() *http.Request {
			return citizenRequest(t, e.http.URL+"/v1/registrations",
				`{"nik":"`+nikSiti+`","email":"siti@example.id","phone":"0812-3456-7789"}`, citizenToken)
		}, 4, http.StatusCreated, 2 * time.Second},
		{"ConfirmSharesTheCitizenBucket", func() *http.Request {
			return citizenRequest(t, e.http.URL+"/v1/registrations/none/confirm", `{"code":"123456"}`, citizenToken)
		}, 0, 0, 2 * time.Second},
		{"WrongTokenIsLimitedToo", func() *http.Request {
			return citizenRequest(t, e.http.URL+"/v1/registrations", `{}`, "guess")
		}, 0, 0, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.burst {
				if resp, body := do(t, tt.req()); resp.StatusCode != tt.ok {
					t.Fatalf("request %d within the burst: %d %s", i+1, resp.StatusCode, body)
				}
			}
			resp, body := do(t, tt.req())
			wantRetry(t, "over the limit", resp, body, ikdsync.ErrRateLimited.Code, int(tt.wait.Seconds()))
		})
	}
	e.advance(10 * time.Second)
	if resp, body := do(t, tests[0].req()); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("enroll after the wait: %d %s", resp.StatusCode, body)
	}
}

// TestOpenRegistrationsCap: a NIK may hold a few open registrations; more wait until the
// first one's QR expires. Other NIKs are not affected.
func TestOpenRegistrationsCap(t *testing.T) {
	e := newEnvWith(t, openSQLite(t), func(s *registry.Server) {
		s.Limits = unlimited
		s.Limits.OpenRegistrations = 3
	})
	for range 3 {
		e.register(nikSiti, "siti@example.id")
	}
	e.advance(time.Minute)
	req := citizenRequest(t, e.http.URL+"/v1/registrations",
		`{"nik":"`+nikSiti+`","email":"siti@example.id","phone":"0812-3456-7789"}`, citizenToken)
	resp, body := do(t, req)
	wantRetry(t, "fourth open registration", resp, body, "registration.too_many_open", int((9 * time.Minute).Seconds()))
	e.register(nikBudi, "budi@example.id")
	e.advance(9 * time.Minute) // the first QRs expire
	e.register(nikSiti, "siti@example.id")
}

func TestCitizenAPIAuthorization(t *testing.T) {
	off := newEnvWith(t, openSQLite(t), func(s *registry.Server) { s.CitizenToken = nil })
	on := newEnv(t, openSQLite(t))
	const reg = `{"nik":"` + nikSiti + `","email":"siti@example.id","phone":"0812-3456-7789"}`
	tests := []struct {
		name, url, body, token string
		status                 int
		code                   string
	}{
		{"OffRegister", off.http.URL + "/v1/registrations", reg, citizenToken, http.StatusNotFound, "route.not_found"},
		{"OffConfirm", off.http.URL + "/v1/registrations/x/confirm", `{"code":"123456"}`, citizenToken, http.StatusNotFound, "route.not_found"},
		{"NoToken", on.http.URL + "/v1/registrations", reg, "", http.StatusUnauthorized, "auth.citizen_token"},
		{"WrongToken", on.http.URL + "/v1/registrations", reg, citizenToken + "x", http.StatusUnauthorized, "auth.citizen_token"},
		{"PrefixOfToken", on.http.URL + "/v1/registrations", reg, citizenToken[:5], http.StatusUnauthorized, "auth.citizen_token"},
		{"ConfirmWrongToken", on.http.URL + "/v1/registrations/x/confirm", `{"code":"123456"}`, "x", http.StatusUnauthorized, "auth.citizen_token"},
		{"ConfirmRightToken", on.http.URL + "/v1/registrations/x/confirm", `{"code":"123456"}`, citizenToken, http.StatusNotFound, "registration.unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, citizenRequest(t, tt.url, tt.body, tt.token))
			wantError(t, tt.name, resp.StatusCode, body, tt.status, tt.code)
		})
	}
	resp, body := do(t, citizenRequest(t, on.http.URL+"/v1/registrations", reg, citizenToken))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("right token: %d %s", resp.StatusCode, body)
	}
}

// TestUnroutedAnswersAreJSON: the mux's own 404 and 405 are JSON errors like every other.
func TestUnroutedAnswersAreJSON(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	tests := []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{http.MethodGet, "/nope", http.StatusNotFound, "route.not_found", ""},
		{http.MethodGet, "/metrics", http.StatusNotFound, "route.not_found", ""},
		{http.MethodGet, "/v1/records", http.StatusMethodNotAllowed, "route.method_not_allowed", "POST"},
		{http.MethodDelete, "/v1/keys", http.StatusMethodNotAllowed, "route.method_not_allowed", "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, e.http.URL+tt.path, nil)
			resp, body := do(t, req)
			wantError(t, tt.path, resp.StatusCode, body, tt.status, tt.code)
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if got := resp.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
		})
	}
}
