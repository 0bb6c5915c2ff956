package sync

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Answer size limits besides MaxPageBytes. A push answer is a few bytes a record, at most a
// code and a winner id (each bounded here by 2*maxIDLen, with room for the map around them),
// an enrollment answer a handful of keys, an error a line of JSON: anything bigger is not the
// registry talking.
const (
	maxPushAnswerBytes   = 64 + MaxBatch*(64+2*maxIDLen)
	maxEnrollAnswerBytes = 1 << 20
	maxErrorBytes        = 16 << 10
)

// Client talks to the registry's HTTP API. Every request but Enroll is signed with the
// kiosk's device key (see SignRequest). It is safe for concurrent use.
type Client struct {
	BaseURL string // e.g. "https://registry.example.go.id"
	KioskID string
	Key     ed25519.PrivateKey // the device key
	HTTP    *http.Client       // nil: a client with connection and header timeouts
	Now     func() time.Time   // the time put in request signatures; nil: time.Now
}

// defaultHTTP bounds connecting and waiting for an answer's headers but not reading the body:
// a full delta page on a 2G link takes minutes, and the caller's context bounds the whole.
var defaultHTTP = &http.Client{Transport: func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = time.Minute
	t.TLSHandshakeTimeout = 30 * time.Second
	return t
}()}

// Enroll registers the kiosk's device key with the one-time code (POST /v1/enroll). It needs
// no prior enrollment; the request proves possession of the key by signing EnrollProof.
func (c *Client) Enroll(ctx context.Context, code string) (EnrollResponse, error) {
	if len(c.Key) != ed25519.PrivateKeySize {
		return EnrollResponse{}, errors.New("enroll: the device key is not an Ed25519 private key")
	}
	body, err := Marshal(EnrollRequest{Code: code, KioskID: c.KioskID, PublicKey: c.Key.Public().(ed25519.PublicKey),
		Signature: ed25519.Sign(c.Key, EnrollProof(code, c.KioskID))})
	if err != nil {
		return EnrollResponse{}, fmt.Errorf("enroll: %w", err)
	}
	var out EnrollResponse
	if err := c.do(ctx, http.MethodPost, "/v1/enroll", body, false, maxEnrollAnswerBytes, &out); err != nil {
		return EnrollResponse{}, fmt.Errorf("enroll: %w", err)
	}
	return out, nil
}

// Push sends signed outbox envelopes (POST /v1/records) with the kiosk's audit head (nil:
// none) and returns the registry's answers, one per envelope in the same order. An answer
// that does not decode, has another number of answers, or an answer with an unknown status or
// a rejection without a code fails with an error matching ErrRegistryAnswer: nothing of it is
// to be recorded.
func (c *Client) Push(ctx context.Context, envelopes [][]byte, head *PushHead) (PushResponse, error) {
	if len(envelopes) == 0 || len(envelopes) > MaxBatch {
		return PushResponse{}, fmt.Errorf("push: %d records, want 1 to %d", len(envelopes), MaxBatch)
	}
	body, err := Marshal(PushRequest{Records: envelopes, Head: head})
	if err != nil {
		return PushResponse{}, fmt.Errorf("push: %w", err)
	}
	if len(body) > MaxPushBytes {
		return PushResponse{}, fmt.Errorf("push: request of %d bytes, at most %d", len(body), MaxPushBytes)
	}
	var out PushResponse
	if err := c.do(ctx, http.MethodPost, "/v1/records", body, true, maxPushAnswerBytes, &out); err != nil {
		return PushResponse{}, fmt.Errorf("push %d records: %w", len(envelopes), err)
	}
	if err := checkAnswers(len(envelopes), out.Answers); err != nil {
		return PushResponse{}, fmt.Errorf("push %d records: %w", len(envelopes), err)
	}
	return out, nil
}

// checkAnswers refuses a push answer that cannot be recorded: another number of answers than
// records, an unknown status, or a rejection without a code. Nothing of such an answer is
// kept, so the records are sent again.
func checkAnswers(records int, answers []Answer) error {
	if len(answers) != records {
		return ErrRegistryAnswer.With(fmt.Errorf("%d answers for %d records", len(answers), records))
	}
	for i, a := range answers {
		switch {
		case a.Status == StatusAccepted, a.Status == StatusDuplicate:
		case a.Status == StatusRejected && a.Code != "":
		default:
			return ErrRegistryAnswer.With(fmt.Errorf("answer %d: status %d, code %q", i+1, a.Status, a.Code))
		}
	}
	return nil
}

// Changes asks for the changes after cursor (GET /v1/changes), at most limit of them (0: the
// registry's default). The page is not decoded into the kiosk's types; see DecodeDeltaPage.
func (c *Client) Changes(ctx context.Context, cursor string, limit int) (DeltaPage, error) {
	q := url.Values{"cursor": {cursor}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out DeltaPage
	// No Accept-Encoding of ours: the transport then asks for gzip and unzips by itself, and
	// the limit applies to the unzipped page.
	if err := c.do(ctx, http.MethodGet, "/v1/changes?"+q.Encode(), nil, true, MaxPageBytes, &out); err != nil {
		return DeltaPage{}, fmt.Errorf("changes after %q: %w", cursor, err)
	}
	return out, nil
}

// do sends one request and decodes a 2xx answer of at most limit bytes into out. Its errors
// are *kiosk.Error values: ErrRegistryUnavailable for the network (wrapping the cause), the
// registry's own code for an error answer, ErrRegistryAnswer for anything unreadable.
func (c *Client) do(ctx context.Context, method, target string, body []byte, sign bool, limit int64, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+target, rd)
	if err != nil {
		return fmt.Errorf("registry request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", ContentType)
	}
	req.Header.Set("Accept", ContentType)
	if sign {
		now := time.Now
		if c.Now != nil {
			now = c.Now
		}
		if err := SignRequest(req, c.KioskID, c.Key, body, now()); err != nil {
			return err
		}
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return ErrRegistryUnavailable.With(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return answerError(resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		// The link dropped in the middle of the answer.
		return ErrRegistryUnavailable.With(fmt.Errorf("reading the answer: %w", err))
	}
	if int64(len(b)) > limit {
		return ErrRegistryAnswer.With(fmt.Errorf("HTTP %d: answer larger than %d bytes", resp.StatusCode, limit))
	}
	if err := Unmarshal(b, out); err != nil {
		return ErrRegistryAnswer.With(fmt.Errorf("HTTP %d: %w", resp.StatusCode, err))
	}
	return nil
}

// answerError reads a non-2xx answer. The registry's errors are JSON with a code; a proxy's
// or captive portal's HTML page has none and reads as a bad answer with the status.
func answerError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	var e struct {
		Code  string `json:"code"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Code == "" {
		return ErrRegistryAnswer.With(fmt.Errorf("HTTP %d without an error code: %q", resp.StatusCode, snippet(b)))
	}
	ke := ErrorForCode(e.Code)
	cause := fmt.Errorf("HTTP %d: %s", resp.StatusCode, snippet([]byte(e.Error)))
	if ke.Err != nil { // an unknown code: keep the code in the chain
		cause = fmt.Errorf("%w; %w", ke.Err, cause)
	}
	return ke.With(cause)
}

// snippet is the start of b, safe to log.
func snippet(b []byte) string {
	const n = 120
	if len(b) > n {
		b = b[:n]
	}
	return strings.ToValidUTF8(string(b), string(utf8.RuneError))
}
