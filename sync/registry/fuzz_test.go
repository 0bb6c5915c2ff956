package registry_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	ikdsync "github.com/ikd-field/ikd/sync"
)

// FuzzPush sends arbitrary bodies, correctly signed by an enrolled kiosk, to the batch
// endpoint: whatever arrives, the registry answers 200 with one answer per record or a 4xx
// with a reason, never a 5xx or a crash. The seeds are a real batch of an activation, a
// deactivation, a checkpoint and a code re-issue, and broken copies of it. Under -fuzz it runs slowly (the
// coverage-instrumented SQLite is most of each request); sync's FuzzOpenPushRequest covers
// the decoding at fuzzing speed.
func FuzzPush(f *testing.F) {
	e := newEnv(f, openSQLite(f))
	k := e.enroll("Cibinong")
	reg := e.register(nikSiti, "siti@example.id")
	_, act := k.activation(reg, nikSiti, t0)
	_, deact := k.deactivation(nikBudi, t0)
	_, reissue := k.reissue(reg, nikSiti, t0)
	batch, err := ikdsync.Marshal(ikdsync.PushRequest{Records: [][]byte{act, deact, k.checkpoint(10, 1, 7), reissue}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(batch)
	f.Add(batch[:len(batch)/2])
	flipped := append([]byte{}, batch...)
	flipped[len(flipped)-40] ^= 0xff
	f.Add(flipped)
	f.Add([]byte{0xa1, 0x01, 0x80})
	f.Fuzz(func(t *testing.T, body []byte) {
		e.advance(time.Millisecond) // a fresh time, so the clock check passes as the fuzzer runs
		req, err := http.NewRequest(http.MethodPost, e.http.URL+"/v1/records", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", ikdsync.ContentType)
		if err := ikdsync.SignRequest(req, k.id, k.key, body, e.now()); err != nil {
			t.Fatal(err)
		}
		status, answer := send(t, req)
		switch {
		case status == http.StatusOK:
			var resp ikdsync.PushResponse
			if err := ikdsync.Unmarshal(answer, &resp); err != nil {
				t.Fatalf("200 with an answer that does not decode: %v", err)
			}
			var req ikdsync.PushRequest
			if err := ikdsync.Unmarshal(body, &req); err != nil || len(resp.Answers) != len(req.Records) {
				t.Fatalf("%d answers for a body that decodes as %d records (%v)", len(resp.Answers), len(req.Records), err)
			}
		case status >= 400 && status < 500:
			var e apiError
			if err := json.Unmarshal(answer, &e); err != nil || e.Code == "" {
				t.Fatalf("%d without a coded reason: %q", status, answer)
			}
		default:
			t.Fatalf("status %d: %s", status, answer)
		}
	})
}
