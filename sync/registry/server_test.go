package registry_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/kiosktest"
	"github.com/ikd-field/ikd/kiosk/token"
	"github.com/ikd-field/ikd/sync/registry"
)

// apiError is the JSON body of an error answer.
type apiError struct {
	Code  string `json:"code"`
	Error string `json:"error"`
}

func newServer(t *testing.T, now time.Time) *httptest.Server {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewSigner("reg-test", priv)
	if err != nil {
		t.Fatal(err)
	}
	s := &registry.Server{Store: openSQLite(t), Signer: signer, PublicKey: pub, TokenTTL: 10 * time.Minute,
		Now: func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		CitizenToken: []byte(citizenToken), Limits: unlimited}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func TestRegistrationTokenVerifiesWithPublishedKey(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	srv := newServer(t, now)

	resp, err := http.Get(srv.URL + "/v1/keys")
	if err != nil {
		t.Fatal(err)
	}
	var keys []registry.KeyInfo
	if err := json.NewDecoder(resp.Body).Decode(&keys); err != nil || len(keys) != 1 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	resp.Body.Close()
	pub, err := base64.StdEncoding.DecodeString(keys[0].PublicKey)
	if err != nil {
		t.Fatal(err)
	}

	body := `{"nik":"3201014101900001","email":"siti.aminah@gmail.com","phone":"0812-3456-7789"}`
	resp, err = http.DefaultClient.Do(citizenRequest(t, srv.URL+"/v1/registrations", body, citizenToken))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var reg registry.RegistrationResponse
	if err := json.NewDecoder(resp.Body).Decode(&reg); err != nil {
		t.Fatal(err)
	}
	v := token.NewVerifier(kiosktest.Keyring(kiosk.RegistryKey{KeyID: keys[0].KeyID, PublicKey: pub}))
	tok, err := v.Verify(context.Background(), reg.Token, now.Add(time.Minute))
	if err != nil {
		t.Fatalf("verify issued token: %v", err)
	}
	if tok.NIK != "3201014101900001" || tok.RegistrationID != reg.RegistrationID || !tok.ExpiresAt.Equal(now.Add(10*time.Minute)) {
		t.Fatalf("token = %+v", tok)
	}
	if strings.Contains(tok.MaskedEmail, "aminah") || strings.Contains(tok.MaskedPhone, "3456") {
		t.Fatalf("contact data not masked: %q %q", tok.MaskedEmail, tok.MaskedPhone)
	}
}

func TestRegistrationRejectsBadInput(t *testing.T) {
	srv := newServer(t, time.Now())
	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"NotJSON", `nik=1`, http.StatusBadRequest, "invalid JSON"},
		{"UnknownField", `{"nik":"3201014101900001","x":1}`, http.StatusBadRequest, "unknown field"},
		{"TooLarge", `{"nik":"` + strings.Repeat("1", 8000) + `"}`, http.StatusRequestEntityTooLarge, "too large"},
		{"BadNIKDate", `{"nik":"3201013201900001","email":"a@b.id","phone":"081234567789"}`, http.StatusUnprocessableEntity, "Tanggal lahir"},
		{"BadEmail", `{"nik":"3201014101900001","email":"nobody","phone":"081234567789"}`, http.StatusUnprocessableEntity, "e-mail"},
		{"BadPhone", `{"nik":"3201014101900001","email":"a@b.id","phone":"12"}`, http.StatusUnprocessableEntity, "phone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(citizenRequest(t, srv.URL+"/v1/registrations", tt.body, citizenToken))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e apiError
			_ = json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != tt.status || !strings.Contains(e.Error, tt.want) {
				t.Fatalf("status %d error %q, want %d containing %q", resp.StatusCode, e.Error, tt.status, tt.want)
			}
		})
	}
}

// TestRegistrationRefusesBodiesItWouldMisread plays a client that sends what another parser
// (a proxy, a log pipeline) could read differently: a body not declared as JSON, a second
// value after the first, padding past the size limit.
func TestRegistrationRefusesBodiesItWouldMisread(t *testing.T) {
	srv := newServer(t, time.Now())
	const valid = `{"nik":"3201014101900001","email":"siti.aminah@gmail.com","phone":"0812-3456-7789"}`
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		want        string // part of the error; "" when accepted
	}{
		{"NoContentType", "", valid, http.StatusUnsupportedMediaType, "application/json"},
		{"TextPlain", "text/plain", valid, http.StatusUnsupportedMediaType, "application/json"},
		{"FormEncoded", "application/x-www-form-urlencoded", valid, http.StatusUnsupportedMediaType, "application/json"},
		{"JSONLookalike", "application/jsonp", valid, http.StatusUnsupportedMediaType, "application/json"},
		{"BadMediaParameter", "application/json; charset", valid, http.StatusUnsupportedMediaType, "application/json"},
		{"JSONWithCharset", "application/json; charset=utf-8", valid, http.StatusCreated, ""},
		{"JSONUpperCase", "Application/JSON", valid, http.StatusCreated, ""},
		{"TrailingNewline", "application/json", valid + "\r\n", http.StatusCreated, ""},
		{"SecondObject", "application/json", valid + `{"nik":"3201014501900001"}`, http.StatusBadRequest, "trailing data"},
		{"TrailingGarbage", "application/json", valid + "x", http.StatusBadRequest, "trailing data"},
		{"TrailingArray", "application/json", valid + " []", http.StatusBadRequest, "trailing data"},
		{"PaddingPastLimit", "application/json", valid + strings.Repeat(" ", 8000), http.StatusRequestEntityTooLarge, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/registrations", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			req.Header.Set("Authorization", "Bearer "+citizenToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e apiError
			_ = json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != tt.status || !strings.Contains(e.Error, tt.want) || (tt.want == "") != (e.Error == "") {
				t.Fatalf("status %d error %q, want %d containing %q", resp.StatusCode, e.Error, tt.status, tt.want)
			}
		})
	}
}
