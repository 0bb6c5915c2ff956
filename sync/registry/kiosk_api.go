package registry

import (
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ikd-field/ikd/kiosk"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// The kiosk-facing API: enrollment, then signed pushes and pulls (see sync/auth.go).

type ctxKey int

const ctxLogger ctxKey = iota

// withRequestID gives every request an id (the client's X-Request-Id if it sent a sane one),
// echoed in the answer and attached to every log line of the request, and counts it under
// the pattern mux routes it to: the mux sets Request.Pattern only on the request it passes
// down, so the pattern is asked of the mux here.
func (s *Server) withRequestID(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if len(id) == 0 || len(id) > 64 || strings.ContainsFunc(id, func(c rune) bool { return c < '!' || c > '~' }) {
			id = uuid.Must(uuid.NewV7()).String()
		}
		w.Header().Set("X-Request-Id", id)
		log := s.Log.With("request_id", id)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		var out http.ResponseWriter = sw
		_, pattern := mux.Handler(r)
		if pattern == "" {
			out = &muxErrorWriter{ResponseWriter: sw}
		}
		start := time.Now()
		mux.ServeHTTP(out, r.WithContext(context.WithValue(r.Context(), ctxLogger, log)))
		s.Metrics.request(pattern, sw.status)
		log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"ms", time.Since(start).Milliseconds())
	})
}

// muxErrorWriter turns the ServeMux's own plain-text 404 and 405 into the JSON error every
// other answer is.
type muxErrorWriter struct {
	http.ResponseWriter
	replaced bool
}

func (w *muxErrorWriter) WriteHeader(code int) {
	switch code {
	case http.StatusNotFound:
		writeJSON(w.ResponseWriter, code, apiError{Code: "route.not_found", Error: "no such route"})
	case http.StatusMethodNotAllowed:
		writeJSON(w.ResponseWriter, code, apiError{Code: "route.method_not_allowed", Error: "method not allowed; see the Allow header"})
	default:
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.replaced = true
}

func (w *muxErrorWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil // the mux's text, already answered as JSON
	}
	return w.ResponseWriter.Write(b)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) logger(r *http.Request) *slog.Logger {
	if l, ok := r.Context().Value(ctxLogger).(*slog.Logger); ok {
		return l
	}
	return s.Log
}

// writeKioskError answers a refusal the kiosk shows the officer: the *kiosk.Error's code and
// its English text (the kiosk has the Indonesian text of every code).
func (s *Server) writeKioskError(w http.ResponseWriter, r *http.Request, status int, err error) {
	e, ok := errors.AsType[*kiosk.Error](err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	s.logger(r).Info("kiosk request refused", "code", e.Code, "status", status, "err", err)
	writeJSON(w, status, apiError{Code: e.Code, Error: e.Msg.EN})
}

// checkContentType refuses a request body not declared as CBOR.
func checkContentType(r *http.Request) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != ikdsync.ContentType {
		return ikdsync.ErrMessageMalformed.With(fmt.Errorf("the Content-Type must be %s", ikdsync.ContentType))
	}
	return nil
}

// readBody reads a CBOR body of at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, int, error) {
	if err := checkContentType(r); err != nil {
		return nil, http.StatusUnsupportedMediaType, err
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if tooLarge(err) {
		return nil, http.StatusRequestEntityTooLarge, ikdsync.ErrMessageMalformed.With(
			fmt.Errorf("request body larger than %d bytes", limit))
	}
	if err != nil {
		return nil, http.StatusBadRequest, ikdsync.ErrMessageMalformed.With(fmt.Errorf("read body: %w", err))
	}
	return b, 0, nil
}

// A signed request's body is read only once its headers name a known kiosk at a sane time,
// and then within a deadline for its declared length: bodyFloor plus the time the bytes take
// at slowLinkRate, a little under the 5 KB/s of a 2G link in a van. A full 2 MiB batch gets
// about 9 minutes; the usual batch of a few KiB, seconds.
const (
	bodyFloor    = 15 * time.Second
	slowLinkRate = 4 << 10 // bytes per second
)

func bodyDeadline(n int64) time.Duration {
	return bodyFloor + time.Duration(n)*time.Second/slowLinkRate
}

// readSignedBody reads the body of a request whose headers passed. Its length must be
// declared (Content-Length) and at most ikdsync.MaxPushBytes; the buffer is exactly that.
func readSignedBody(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	n := r.ContentLength
	switch {
	case n < 0:
		return nil, http.StatusLengthRequired, ikdsync.ErrMessageMalformed.With(errors.New("the request needs a Content-Length"))
	case n > ikdsync.MaxPushBytes:
		return nil, http.StatusRequestEntityTooLarge, ikdsync.ErrMessageMalformed.With(
			fmt.Errorf("request body of %d bytes, at most %d", n, ikdsync.MaxPushBytes))
	}
	if r.Method != http.MethodGet {
		if err := checkContentType(r); err != nil {
			return nil, http.StatusUnsupportedMediaType, err
		}
	}
	if n == 0 {
		return nil, 0, nil
	}
	// Not supported by every ResponseWriter (a test recorder); the server-wide read timeout
	// then stays.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyDeadline(n)))
	b := make([]byte, n)
	if _, err := io.ReadFull(r.Body, b); err != nil {
		return nil, http.StatusBadRequest, ikdsync.ErrMessageMalformed.With(fmt.Errorf("read body: %w", err))
	}
	return b, 0, nil
}

type deviceRequest struct {
	dev  Device
	body []byte
}

// authenticated checks the device signature of a request before next runs. Everything that
// needs no body is decided first, on the headers: their form, the time, that the kiosk
// exists. A request failing any of these is answered at once with its body unread and the
// connection closed, so an unauthenticated client costs no buffer and no long deadline. An
// unknown kiosk gets the answer of a bad signature, so kiosk ids cannot be probed.
//
// A revoked device is refused after its signature is verified (refusing it earlier would
// tell anyone that the id exists), except on push when allowRevoked: its records then each
// get a definite rejection, so the kiosk's queue comes to an end instead of retrying forever.
func (s *Server) authenticated(next func(http.ResponseWriter, *http.Request, deviceRequest), allowRevoked bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refuse := func(status int, err error) {
			w.Header().Set("Connection", "close")
			s.writeKioskError(w, r, status, err)
		}
		sr, sig, err := ikdsync.ParseSignedRequest(r)
		if err != nil {
			refuse(http.StatusUnauthorized, err)
			return
		}
		now := s.Now()
		if err := ikdsync.CheckTime(sr, now); err != nil {
			refuse(http.StatusUnauthorized, err)
			return
		}
		unknown := ikdsync.ErrBadRequestSignature.With(fmt.Errorf("unknown kiosk %q", sr.KioskID))
		var dev Device
		err = s.Store.InTx(r.Context(), func(ctx context.Context, tx Tx) error {
			d, err := tx.Device(ctx, sr.KioskID)
			dev = d
			return err
		})
		if errors.Is(err, ErrNotFound) {
			refuse(http.StatusUnauthorized, unknown)
			return
		}
		if err != nil {
			s.fail(w, r, fmt.Errorf("kiosk %q: %w", sr.KioskID, err))
			return
		}
		body, status, err := readSignedBody(w, r)
		if err != nil {
			refuse(status, err)
			return
		}
		sr.Body = body
		if err := ikdsync.CheckSignature(sr, sig, dev.PublicKey); err != nil {
			refuse(http.StatusUnauthorized, err) // the same answer, headers included, as an unknown kiosk
			return
		}
		// A full delta page on a slow link takes minutes to send; the server-wide write
		// deadline is for small answers.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(10 * time.Minute))
		err = s.Store.InTx(r.Context(), func(ctx context.Context, tx Tx) error {
			// Read again: the kiosk may have been revoked while its body arrived.
			d, err := tx.Device(ctx, sr.KioskID)
			if errors.Is(err, ErrNotFound) {
				return unknown
			}
			if err != nil {
				return err
			}
			fresh, err := tx.UseNonce(ctx, sr.KioskID, sr.Nonce, now)
			if err != nil {
				return err
			}
			if !fresh {
				return ikdsync.ErrReplay.With(fmt.Errorf("kiosk %q nonce %q", sr.KioskID, sr.Nonce))
			}
			dev = d
			return tx.TouchDevice(ctx, d.KioskID, now)
		})
		if err != nil {
			s.writeKioskError(w, r, http.StatusUnauthorized, err)
			return
		}
		if !dev.RevokedAt.IsZero() && !allowRevoked {
			s.writeKioskError(w, r, http.StatusForbidden, ikdsync.ErrDeviceRevoked.With(fmt.Errorf("kiosk %q", dev.KioskID)))
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), ctxLogger, s.logger(r).With("kiosk_id", dev.KioskID)))
		next(w, r, deviceRequest{dev: dev, body: body})
	})
}

func (s *Server) push(w http.ResponseWriter, r *http.Request, req deviceRequest) {
	var msg ikdsync.PushRequest
	if err := ikdsync.Unmarshal(req.body, &msg); err != nil {
		s.writeKioskError(w, r, http.StatusBadRequest, err)
		return
	}
	answers, mails, err := s.pushRecords(r.Context(), req.dev, msg.Records, msg.Head)
	switch {
	case errors.Is(err, ikdsync.ErrMessageMalformed):
		s.writeKioskError(w, r, http.StatusBadRequest, err)
		return
	case errors.Is(err, ikdsync.ErrAuditRollback):
		s.writeKioskError(w, r, http.StatusConflict, err)
		return
	case err != nil:
		s.fail(w, r, fmt.Errorf("ingest %d records: %w", len(msg.Records), err))
		return
	}
	s.logger(r).Info("batch ingested", "records", len(answers), "mails_queued", mails)
	s.writeCBOR(w, r, ikdsync.PushResponse{Time: s.Now().UnixMilli(), Answers: answers})
}

// pushRecords is the core of a push, shared by POST /v1/records and a stick's import (so
// both have exactly the same rules, authorization and idempotency): it checks the batch's
// form, ingests it, counts the answers and wakes the mail worker. It returns the answers and
// how many code mails it queued. A batch of the wrong size or a malformed head fails with
// an error matching ErrMessageMalformed; a head that went back, with ErrAuditRollback.
func (s *Server) pushRecords(ctx context.Context, dev Device, records [][]byte, head *ikdsync.PushHead) ([]ikdsync.Answer, int, error) {
	if len(records) == 0 || len(records) > ikdsync.MaxBatch {
		return nil, 0, ikdsync.ErrMessageMalformed.With(
			fmt.Errorf("%d records in a batch; 1 to %d allowed", len(records), ikdsync.MaxBatch))
	}
	if err := checkPushHeadForm(head); err != nil {
		return nil, 0, err
	}
	answers, mails, err := s.ingest(ctx, dev, records, head)
	if err != nil {
		return nil, 0, err
	}
	for _, a := range answers {
		s.Metrics.answer(a)
	}
	if len(mails) > 0 && s.MailQueued != nil {
		s.MailQueued()
	}
	return answers, len(mails), nil
}

// Page sizes of a pull.
const (
	defaultPage = 2000
)

func (s *Server) changes(w http.ResponseWriter, r *http.Request, req deviceRequest) {
	q := r.URL.Query()
	var after int64
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 0 {
			s.writeKioskError(w, r, http.StatusBadRequest, ikdsync.ErrMessageMalformed.With(fmt.Errorf("cursor %q", c)))
			return
		}
		after = n
	}
	limit := defaultPage
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > ikdsync.MaxPage {
			s.writeKioskError(w, r, http.StatusBadRequest, ikdsync.ErrMessageMalformed.With(
				fmt.Errorf("limit %q; 1 to %d allowed", l, ikdsync.MaxPage)))
			return
		}
		limit = n
	}
	page, err := s.changesPage(r.Context(), req.dev, after, limit)
	if err != nil {
		s.fail(w, r, fmt.Errorf("changes after %d: %w", after, err))
		return
	}
	s.writeCBOR(w, r, page)
}

// changesPage is the core of a pull, shared by GET /v1/changes and a stick's changes bundle:
// the page of changes for dev after the change number after, at most limit of them.
func (s *Server) changesPage(ctx context.Context, dev Device, after int64, limit int) (ikdsync.DeltaPage, error) {
	var ch Changes
	err := s.Store.InReadTx(ctx, func(ctx context.Context, tx ReadTx) error {
		var err error
		ch, err = changesFor(ctx, tx, dev, after, limit)
		return err
	})
	if err != nil {
		return ikdsync.DeltaPage{}, err
	}
	page, err := deltaPage(dev, ch)
	if err != nil {
		return ikdsync.DeltaPage{}, err
	}
	page.Time = s.Now().UnixMilli()
	return page, nil
}

// deltaPage turns stored changes into the wire page for dev: a resident who lives outside the
// kiosk's areas now is sent as removed.
func deltaPage(dev Device, ch Changes) (ikdsync.DeltaPage, error) {
	page := ikdsync.DeltaPage{Cursor: strconv.FormatInt(ch.Last, 10), More: ch.More}
	for _, rr := range ch.Residents {
		if rr.Removed || !dev.Serves(rr.Kecamatan) {
			page.Residents = append(page.Residents, ikdsync.ResidentChange{NIK: rr.NIK, Removed: true})
			continue
		}
		var rc ikdsync.ResidentChange
		if err := ikdsync.Unmarshal(rr.Data, &rc); err != nil {
			return ikdsync.DeltaPage{}, fmt.Errorf("stored resident %d: %w", rr.Seq, err)
		}
		page.Residents = append(page.Residents, rc)
	}
	for _, o := range ch.Officers {
		page.Officers = append(page.Officers, ikdsync.OfficerChange{ID: o.ID, Name: o.Name, Role: string(o.Role), Disabled: o.Disabled})
	}
	for _, k := range ch.Keys {
		page.Keys = append(page.Keys, keyChange(k))
	}
	return page, nil
}

// writeCBOR answers v, gzipped when the client accepts it and the body is worth compressing.
func (s *Server) writeCBOR(w http.ResponseWriter, r *http.Request, v any) {
	b, err := ikdsync.Marshal(v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ikdsync.ContentType)
	if len(b) < 1024 || !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
		return
	}
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Set("Vary", "Accept-Encoding")
	w.WriteHeader(http.StatusOK)
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	_, _ = zw.Write(b)
	if err := zw.Close(); err != nil {
		s.logger(r).Debug("write answer", "err", err)
	}
}

// Enrollment codes: printed by `ikd-registry enroll-code`, typed into `ikdctl enroll`.
// Ten characters of an alphabet without look-alikes (no 0/O, 1/I/L), about 48 bits: enough
// for a one-time code that expires within a day and is checked by hash.
const enrollAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// NewEnrollCode stores and returns a one-time enrollment code for area (one kecamatan, or a
// comma-separated list for a kabupaten/kota office), valid for ttl.
func NewEnrollCode(ctx context.Context, st Store, area string, now time.Time, ttl time.Duration) (string, error) {
	area, err := ParseAreas(area)
	if err != nil {
		return "", fmt.Errorf("enrollment code: %w", err)
	}
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("enrollment code: %w", err)
	}
	code := make([]byte, 0, 11)
	for i, c := range b {
		if i == 5 {
			code = append(code, '-')
		}
		code = append(code, enrollAlphabet[int(c)%len(enrollAlphabet)])
	}
	err = st.InTx(ctx, func(ctx context.Context, tx Tx) error {
		return tx.CreateEnrollCode(ctx, EnrollCode{Hash: enrollHash(string(code)), Area: area, CreatedAt: now, ExpiresAt: now.Add(ttl)})
	})
	if err != nil {
		return "", fmt.Errorf("store enrollment code: %w", err)
	}
	return string(code), nil
}

func normalizeEnrollCode(code string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(code))
}

func enrollHash(code string) []byte {
	sum := sha256.Sum256([]byte("IKD enroll code v1\x00" + normalizeEnrollCode(code)))
	return sum[:]
}

func (s *Server) enroll(w http.ResponseWriter, r *http.Request) {
	body, status, err := readBody(w, r, 4<<10)
	if err != nil {
		s.writeKioskError(w, r, status, err)
		return
	}
	var req ikdsync.EnrollRequest
	if err := ikdsync.Unmarshal(body, &req); err != nil {
		s.writeKioskError(w, r, http.StatusBadRequest, err)
		return
	}
	if req.KioskID == "" || len(req.KioskID) > 64 || len(req.PublicKey) != ed25519.PublicKeySize ||
		!ed25519.Verify(req.PublicKey, ikdsync.EnrollProof(req.Code, req.KioskID), req.Signature) {
		s.writeKioskError(w, r, http.StatusBadRequest, ikdsync.ErrBadRequestSignature.With(
			errors.New("enrollment: kiosk id, public key or proof of possession invalid")))
		return
	}
	now := s.Now()
	var (
		area string
		keys []KeyRow
	)
	err = s.Store.InTx(r.Context(), func(ctx context.Context, tx Tx) error {
		c, err := tx.TakeEnrollCode(ctx, enrollHash(req.Code), now)
		if errors.Is(err, ErrNotFound) {
			return ikdsync.ErrEnrollCode
		}
		if err != nil {
			return err
		}
		err = tx.InsertDevice(ctx, Device{KioskID: req.KioskID, PublicKey: req.PublicKey, Area: c.Area, EnrolledAt: now})
		if errors.Is(err, ErrExists) {
			return ikdsync.ErrAlreadyEnrolled.With(fmt.Errorf("kiosk %q", req.KioskID))
		}
		if err != nil {
			return err
		}
		area = c.Area
		keys, err = tx.Keys(ctx) // every registry key the new kiosk must trust
		return err
	})
	switch {
	case errors.Is(err, ikdsync.ErrEnrollCode):
		s.writeKioskError(w, r, http.StatusForbidden, err)
		return
	case errors.Is(err, ikdsync.ErrAlreadyEnrolled):
		s.writeKioskError(w, r, http.StatusConflict, err)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	resp := ikdsync.EnrollResponse{Time: now.UnixMilli(), Area: area, Keys: make([]ikdsync.KeyChange, 0, len(keys))}
	for _, k := range keys {
		resp.Keys = append(resp.Keys, keyChange(k))
	}
	s.logger(r).Info("kiosk enrolled", "kiosk_id", req.KioskID, "area", area,
		"key", hex.EncodeToString(req.PublicKey[:8]))
	s.writeCBOR(w, r, resp)
}

func keyChange(k KeyRow) ikdsync.KeyChange {
	return ikdsync.EncodeKeyChange(kiosk.RegistryKey{KeyID: k.KeyID, PublicKey: k.PublicKey, NotBefore: k.NotBefore, NotAfter: k.NotAfter})
}

// ConfirmRequest is what the citizen's app sends with the e-mailed code.
type ConfirmRequest struct {
	Code string `json:"code"`
}

// ConfirmResponse is the answer to a right code.
type ConfirmResponse struct {
	Status string `json:"status"` // "activated"
}

// confirmAnswer is the answer to a refused code.
type confirmAnswer struct {
	Code      string `json:"code"`
	Error     string `json:"error"`
	TriesLeft int    `json:"tries_left,omitempty"`
}

func (s *Server) confirm(w http.ResponseWriter, r *http.Request) {
	var req ConfirmRequest
	if status, err := decodeJSON(w, r, &req); err != nil {
		writeJSON(w, status, apiError{Code: "request.invalid", Error: err.Error()})
		return
	}
	err := s.Confirm(r.Context(), r.PathValue("id"), strings.TrimSpace(req.Code))
	if err == nil {
		s.logger(r).Info("registration activated", "registration_id", r.PathValue("id"))
		writeJSON(w, http.StatusOK, ConfirmResponse{Status: "activated"})
		return
	}
	ce, ok := errors.AsType[*ConfirmError](err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	status := http.StatusConflict
	switch ce.Code {
	case ErrRegistrationAbsent.Code:
		status = http.StatusNotFound
	case ErrCodeWrong.Code:
		status = http.StatusUnprocessableEntity
	case ErrCodeTooManyTries.Code:
		status = http.StatusTooManyRequests
	case ErrCodeExpired.Code:
		status = http.StatusGone
	}
	writeJSON(w, status, confirmAnswer{Code: ce.Code, Error: ce.Msg, TriesLeft: ce.TriesLeft})
}
