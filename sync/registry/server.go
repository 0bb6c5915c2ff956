// Package registry is the central registry (DESIGN.md §8): the HTTP API kiosks sync with
// (enrollment, record batches, deltas), the citizen-app side used by tests and demos
// (register, receive the signed QR token, confirm the e-mailed code) and the rules that
// decide conflicts (ingest.go). State lives behind Store, on SQLite or PostgreSQL; the server
// itself holds none, so several processes may serve one database.
package registry

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/token"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// Server answers the registry's HTTP API.
type Server struct {
	Store     Store
	Signer    *token.Signer
	PublicKey ed25519.PublicKey
	TokenTTL  time.Duration
	// CodeKey keys the hashes of activation codes (see activation_code.go).
	CodeKey      []byte
	CodeTTL      time.Duration // default DefaultCodeTTL
	CodeMaxTries int           // default DefaultCodeMaxTries
	Now          func() time.Time
	Log          *slog.Logger
	Metrics      *Metrics // nil: no metrics
	// MailQueued is called after a commit that queued activation mails, to wake the sender.
	MailQueued func()
	// CitizenToken is the bearer token the citizen API (register, confirm) requires. Empty:
	// the citizen API is off and its routes answer 404 like any route that does not exist.
	CitizenToken []byte
	// Limits are the rate limits of enrollment and the citizen API; zero fields take the
	// defaults.
	Limits Limits
	// Retention is how long the janitor keeps mails and ended registrations.
	Retention Retention
}

// Handler returns the HTTP routes, with rate limiters of their own for each call. Metrics are
// not among them: they name every kiosk and area, so they are served on their own, private
// listener (Metrics.Handler).
func (s *Server) Handler() http.Handler {
	lim := s.Limits.withDefaults()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.ready)
	mux.HandleFunc("GET /v1/keys", s.keys)
	if len(s.CitizenToken) > 0 {
		citizen := newClientLimiter(lim.Citizen, lim.Clients)
		mux.Handle("POST /v1/registrations", s.citizen(citizen, s.register))
		mux.Handle("POST /v1/registrations/{id}/confirm", s.citizen(citizen, s.confirm))
	}
	mux.Handle("POST /v1/enroll", s.limited(newClientLimiter(lim.Enroll, lim.Clients), s.enroll))
	mux.Handle("POST /v1/records", s.authenticated(s.push, true))
	mux.Handle("GET /v1/changes", s.authenticated(s.changes, false))
	return s.withRequestID(mux)
}

// limited refuses a client over its rate with 429 before next reads anything.
func (s *Server) limited(l *clientLimiter, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait, ok := l.allow(clientKey(r), s.Now()); !ok {
			// Debug: a flood must not become a flood of log lines; the metrics count the 429s.
			s.logger(r).Debug("rate limited", "client", clientKey(r), "route", r.Pattern)
			writeTooMany(w, wait, ikdsync.ErrRateLimited.Code, ikdsync.ErrRateLimited.Msg.EN)
			return
		}
		next(w, r)
	})
}

// citizen guards a citizen API route: the client's rate first, so guessing the token is
// limited too, then the bearer token.
func (s *Server) citizen(l *clientLimiter, next http.HandlerFunc) http.Handler {
	want := sha256.Sum256(s.CitizenToken)
	return s.limited(l, func(w http.ResponseWriter, r *http.Request) {
		// Comparing hashes keeps the comparison constant-time whatever the lengths.
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ikd-citizen"`)
			w.Header().Set("Connection", "close")
			writeJSON(w, http.StatusUnauthorized, apiError{Code: "auth.citizen_token",
				Error: "the citizen API needs Authorization: Bearer with the registry's citizen token"})
			return
		}
		next(w, r)
	})
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		s.logger(r).Warn("not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, apiError{Code: "registry.not_ready", Error: "database does not answer"})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ready")
}

// KeyInfo is one trusted registry key as kiosks fetch it.
type KeyInfo struct {
	KeyID     string `json:"kid"`
	Algorithm string `json:"alg"`
	PublicKey string `json:"public_key"` // base64 of the 32-byte Ed25519 key
}

func (s *Server) keys(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, []KeyInfo{{KeyID: s.Signer.KeyID(), Algorithm: "EdDSA",
		PublicKey: base64.StdEncoding.EncodeToString(s.PublicKey)}})
}

// RegistrationRequest is what the IKD app sends when a citizen registers.
type RegistrationRequest struct {
	NIK   string `json:"nik"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

// RegistrationResponse carries the QR token the app shows at the counter.
type RegistrationResponse struct {
	RegistrationID string    `json:"registration_id"`
	Token          string    `json:"token"`
	ExpiresAt      time.Time `json:"expires_at"`
}

// apiError is the JSON body of every error answer.
type apiError struct {
	Code  string `json:"code,omitempty"`
	Error string `json:"error"`
}

// maxRequestBytes bounds a registration request; a real one is about 100 bytes.
const maxRequestBytes = 4 << 10

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	var req RegistrationRequest
	if status, err := decodeJSON(w, r, &req); err != nil {
		writeJSON(w, status, apiError{Code: "request.invalid", Error: err.Error()})
		return
	}
	nik, err := kiosk.ParseNIK(strings.TrimSpace(req.NIK))
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Code: "registration.invalid_nik", Error: kiosk.OfficerMessage(err, kiosk.LangID)})
		return
	}
	id, err := uuid.NewV7()
	if err != nil {
		s.fail(w, r, fmt.Errorf("registration id: %w", err))
		return
	}
	now := s.Now().Truncate(time.Second)
	claims, err := token.NewClaims(nik, id.String(), req.Email, req.Phone, now, s.TokenTTL)
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, contactError(err))
		return
	}
	reg := Registration{ID: id.String(), NIK: string(nik), Email: strings.TrimSpace(req.Email),
		Phone: strings.TrimSpace(req.Phone), CreatedAt: now, Status: RegPending}
	maxOpen := s.Limits.withDefaults().OpenRegistrations
	var wait time.Duration
	err = s.Store.InTx(r.Context(), func(ctx context.Context, tx Tx) error {
		regs, err := tx.RegistrationsByNIK(ctx, reg.NIK)
		if err != nil {
			return err
		}
		var n int
		if n, wait = openRegistrations(regs, now, s.TokenTTL); n >= maxOpen {
			return errTooManyOpen
		}
		return tx.InsertRegistration(ctx, reg)
	})
	if errors.Is(err, errTooManyOpen) {
		s.logger(r).Info("registration refused: too many open", "nik", nik.Masked(), "open", maxOpen)
		writeTooMany(w, wait, "registration.too_many_open", fmt.Sprintf(
			"this NIK already has %d open registrations; use one of them or wait until one expires", maxOpen))
		return
	}
	if err != nil {
		s.fail(w, r, fmt.Errorf("store registration: %w", err))
		return
	}
	text, err := s.Signer.Sign(claims)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.logger(r).Info("registration", "registration_id", claims.RegistrationID, "nik", nik.Masked())
	writeJSON(w, http.StatusCreated, RegistrationResponse{RegistrationID: claims.RegistrationID,
		Token: text, ExpiresAt: claims.ExpiresAt})
}

var errTooManyOpen = errors.New("too many open registrations")

// openRegistrations counts the registrations that may still lead to an activation the citizen
// completes: pending ones whose QR token has not expired, approved ones whose code has not.
// wait is how long until the first of them closes.
func openRegistrations(regs []Registration, now time.Time, tokenTTL time.Duration) (n int, wait time.Duration) {
	for _, reg := range regs {
		var closes time.Time
		switch reg.Status {
		case RegPending:
			closes = reg.CreatedAt.Add(tokenTTL)
		case RegApproved:
			closes = reg.CodeExpires
		}
		if !closes.After(now) {
			continue
		}
		if n == 0 || closes.Sub(now) < wait {
			wait = closes.Sub(now)
		}
		n++
	}
	return n, wait
}

// Errors of decodeJSON, the reasons a request body is refused before it is looked at.
var (
	errContentType  = errors.New("the Content-Type must be application/json")
	errTooLarge     = fmt.Errorf("request body too large (more than %d bytes)", maxRequestBytes)
	errTrailingData = errors.New("invalid JSON: trailing data after the JSON value")
)

// decodeJSON decodes exactly one JSON value of at most maxRequestBytes from r's body into v
// and says which status to answer when it cannot. Trailing data is refused rather than
// ignored, so what the server acts on is the whole of what the client sent.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) (status int, err error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return http.StatusUnsupportedMediaType, errContentType
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if tooLarge(err) {
			return http.StatusRequestEntityTooLarge, errTooLarge
		}
		return http.StatusBadRequest, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF { // anything but white space up to the end
		if tooLarge(err) {
			return http.StatusRequestEntityTooLarge, errTooLarge
		}
		return http.StatusBadRequest, errTrailingData
	}
	return 0, nil
}

func tooLarge(err error) bool {
	_, ok := errors.AsType[*http.MaxBytesError](err)
	return ok
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.logger(r).Error("request failed", "err", err)
	writeJSON(w, http.StatusInternalServerError, apiError{Code: "registry.internal", Error: "internal error"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		slog.Debug("write response", "err", err)
	}
}
