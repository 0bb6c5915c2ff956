package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk/token"
	"github.com/ikd-field/ikd/sync/registry"
)

func TestRunRefusesBadKeys(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	garbage := filepath.Join(t.TempDir(), "registry-signing.key")
	if err := os.WriteFile(garbage, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	exposed := filepath.Join(t.TempDir(), "registry-signing.key")
	if err := os.WriteFile(exposed, []byte("not a key either"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(exposed, 0o644); err != nil { // exactly, whatever the umask
		t.Fatal(err)
	}
	tests := []struct {
		name, key, want string
	}{
		{"NoKey", "", "--key is required"},
		{"MissingFile", filepath.Join(t.TempDir(), "absent.key"), "read signing key"},
		{"NotAKey", garbage, garbage},
		{"WorldReadable", exposed, "chmod 600 " + exposed},
		{"DevZero", "/dev/zero", "more than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			c := serveConfig{keyFile: tt.key, db: "sqlite:" + filepath.Join(t.TempDir(), "registry.db"), tokenTTL: time.Minute}
			err = run(context.Background(), c, ln, nil, log)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestHTTPServerLimits(t *testing.T) {
	hs := newHTTPServer("127.0.0.1:0", http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	for _, l := range []struct {
		name     string
		got, max time.Duration
	}{
		{"ReadHeaderTimeout", hs.ReadHeaderTimeout, time.Minute},
		{"ReadTimeout", hs.ReadTimeout, time.Minute},
		{"WriteTimeout", hs.WriteTimeout, time.Minute},
		{"IdleTimeout", hs.IdleTimeout, 5 * time.Minute},
	} {
		if l.got <= 0 || l.got > l.max {
			t.Errorf("%s = %s, want set and at most %s", l.name, l.got, l.max)
		}
	}
	if hs.MaxHeaderBytes <= 0 || hs.MaxHeaderBytes > 64<<10 {
		t.Errorf("MaxHeaderBytes = %d, want set and at most 64 KiB", hs.MaxHeaderBytes)
	}
}

// startLimited serves h through newHTTPServer with its timeouts shortened, so a test can
// watch them act.
func startLimited(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config = newHTTPServer("", h, slog.New(slog.DiscardHandler))
	srv.Config.ReadHeaderTimeout = 100 * time.Millisecond
	srv.Config.ReadTimeout = 100 * time.Millisecond
	srv.Config.IdleTimeout = 100 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// TestHTTPServerCutsOffStalledClients plays clients that open a connection and then stall: in
// the headers, in the body, or idle on a keep-alive. The server must close each connection.
// The client never resumes, so the outcome does not depend on how fast the machine is; the
// 10-second read deadline only keeps a broken server from hanging the test.
func TestHTTPServerCutsOffStalledClients(t *testing.T) {
	srv := startLimited(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // reads the body as the registration handler does
		w.Write([]byte("ok\n"))
	}))
	tests := []struct {
		name, send string
	}{
		{"SlowHeaders", "POST /v1/registrations HTTP/1.1\r\nHost: registry\r\nContent-Ty"},
		{"SlowBody", "POST /v1/registrations HTTP/1.1\r\nHost: registry\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"nik\":"},
		{"IdleKeepAlive", "GET /healthz HTTP/1.1\r\nHost: registry\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tt.send); err != nil {
				t.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			got, err := io.ReadAll(conn) // returns when the server closes the connection
			if err != nil {
				t.Fatalf("connection still open (%v) after %q", err, got)
			}
		})
	}
}

// TestHTTPServerRefusesHugeHeaders: a client sending 64 KiB of headers gets 431, not a
// megabyte of buffering per connection.
func TestHTTPServerRefusesHugeHeaders(t *testing.T) {
	srv := startLimited(t, http.NotFoundHandler())
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Padding", strings.Repeat("a", 64<<10))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", resp.StatusCode)
	}
}

// TestOfficersAndTombstonesCommands drives the operator commands on a real SQLite file: an
// officer added, listed, refused a second add and disabled; tombstones listed, and a lift
// refused (a disabled supervisor, no tombstone). Lifting itself: registry's TestTombstoneLift.
func TestOfficersAndTombstonesCommands(t *testing.T) {
	ctx := context.Background()
	db := "sqlite:" + filepath.Join(t.TempDir(), "registry.db")
	keyFile := filepath.Join(t.TempDir(), "data.key")
	if err := registry.CreateDataKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	run := func(args ...string) (string, error) {
		var out strings.Builder
		err := dispatch(ctx, append(args, "--data-key-file", keyFile), &out, log)
		return out.String(), err
	}
	if _, err := run("officers", "add", "--db", db, "--id", "198001012005011001", "--name", "Rina", "--area", "Cibinong, Bojong Gede", "--role", "supervisor"); err != nil {
		t.Fatal(err)
	}
	if _, err := run("officers", "add", "--db", db, "--id", "198001012005011001", "--name", "Rina", "--area", "Cibinong", "--role", "officer"); err == nil {
		t.Fatal("a second add of the same id was accepted")
	}
	if _, err := run("officers", "add", "--db", db, "--id", "198001012005011002", "--name", "X", "--role", "admin"); err == nil {
		t.Fatal("an unknown role was accepted")
	}
	out, err := run("officers", "list", "--db", db)
	if err != nil || !strings.Contains(out, "198001012005011001") || !strings.Contains(out, "Cibinong,Bojong Gede") || !strings.Contains(out, "active") {
		t.Fatalf("list: %q %v", out, err)
	}
	if _, err := run("officers", "disable", "--db", db, "--id", "198001012005011001"); err != nil {
		t.Fatal(err)
	}
	if out, _ := run("officers", "list", "--db", db); !strings.Contains(out, "disabled") {
		t.Fatalf("after disable: %q", out)
	}
	if _, err := run("officers", "disable", "--db", db, "--id", "nobody"); err == nil {
		t.Fatal("disabling an unknown officer succeeded")
	}
	if out, err := run("tombstones", "list", "--db", db, "--nik", "3201014101900001"); err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("empty list: %q %v", out, err)
	}
	if _, err := run("tombstones", "lift", "--db", db, "--nik", "3201014101900001", "--by", "198001012005011001", "--reason", "x"); err == nil {
		t.Fatal("lift by a disabled supervisor, of no tombstone, succeeded")
	}
	if _, err := run("tombstones", "list", "--db", db, "--nik", "12"); err == nil {
		t.Fatal("a malformed NIK was accepted")
	}
}

// signingKeyFile writes a new registry signing key, mode 600, and returns its path.
func signingKeyFile(t *testing.T) string {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := token.MarshalPrivateKeyPEM("reg-test", key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "registry-signing.key")
	if err := os.WriteFile(keyFile, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return keyFile
}

// startServe runs `serve` on loopback listeners with the given citizen token file ("" for
// none) and returns the API and metrics base URLs; the server stops with the test.
func startServe(t *testing.T, tokenFile string) (api, metrics string) {
	t.Helper()
	dir := t.TempDir()
	keyFile := signingKeyFile(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	dataKeyFile := filepath.Join(dir, "data.key")
	if err := registry.CreateDataKeyFile(dataKeyFile); err != nil {
		t.Fatal(err)
	}
	c := serveConfig{keyFile: keyFile, db: "sqlite:" + filepath.Join(dir, "registry.db"), tokenTTL: time.Minute,
		citizenTokenFile: tokenFile, dataKeyFile: dataKeyFile, shutdownGrace: time.Second}
	go func() { done <- run(ctx, c, ln, mln, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return "http://" + ln.Addr().String(), "http://" + mln.Addr().String()
}

// call sends a request and returns the status and body; it waits for the server to listen.
func call(t *testing.T, method, url, body, bearer string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestServeCitizenTokenAndMetricsAddr runs the server as `serve` does: the citizen API is off
// without --citizen-token-file and needs the token with it; /metrics is only on the metrics
// listener.
func TestServeCitizenTokenAndMetricsAddr(t *testing.T) {
	const tok = "s3cret-citizen-token-0123456789"
	tokenFile := filepath.Join(t.TempDir(), "citizen.token")
	if err := os.WriteFile(tokenFile, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const reg = `{"nik":"3201014101900001","email":"siti.aminah@gmail.com","phone":"0812-3456-7789"}`
	off, offMetrics := startServe(t, "")
	on, onMetrics := startServe(t, tokenFile)
	tests := []struct {
		name, method, url, body, bearer string
		status                          int
		want                            string
	}{
		{"OffWithoutTokenFile", http.MethodPost, off + "/v1/registrations", reg, tok, http.StatusNotFound, `"code":"route.not_found"`},
		{"NoBearer", http.MethodPost, on + "/v1/registrations", reg, "", http.StatusUnauthorized, `"code":"auth.citizen_token"`},
		{"WrongBearer", http.MethodPost, on + "/v1/registrations", reg, tok + "x", http.StatusUnauthorized, `"code":"auth.citizen_token"`},
		{"RightBearer", http.MethodPost, on + "/v1/registrations", reg, tok, http.StatusCreated, `"registration_id"`},
		{"ConfirmWrongBearer", http.MethodPost, on + "/v1/registrations/x/confirm", `{"code":"123456"}`, "nope", http.StatusUnauthorized, `"code":"auth.citizen_token"`},
		{"ConfirmRightBearer", http.MethodPost, on + "/v1/registrations/x/confirm", `{"code":"123456"}`, tok, http.StatusNotFound, `"code":"registration.unknown"`},
		{"NoPublicMetrics", http.MethodGet, on + "/metrics", "", "", http.StatusNotFound, `"code":"route.not_found"`},
		{"MetricsListener", http.MethodGet, onMetrics + "/metrics", "", "", http.StatusOK,
			`ikd_registry_requests_total{route="POST /v1/registrations",status="201"} 1`},
		{"MetricsListenerOff", http.MethodGet, offMetrics + "/metrics", "", "", http.StatusOK, "ikd_registry_requests_total"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, tt.method, tt.url, tt.body, tt.bearer)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("%s %s: %d %.400s, want %d containing %s", tt.method, tt.url, status, body, tt.status, tt.want)
			}
		})
	}
}

// TestServeRefusesExposedCitizenToken: a token file others can read is refused, as the
// signing key is.
func TestServeRefusesExposedCitizenToken(t *testing.T) {
	dir := t.TempDir()
	exposed := filepath.Join(dir, "citizen.token")
	if err := os.WriteFile(exposed, []byte("s3cret-citizen-token-0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(exposed, 0o644); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short.token")
	if err := os.WriteFile(short, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, file, want string }{
		{"WorldReadable", exposed, "chmod 600 " + exposed},
		{"TooShort", short, "at least 16"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			keyFile := signingKeyFile(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			c := serveConfig{keyFile: keyFile, db: "sqlite:" + filepath.Join(t.TempDir(), "registry.db"), citizenTokenFile: tt.file}
			if err := run(context.Background(), c, ln, nil, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
