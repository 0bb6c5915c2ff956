package registry_test

import (
	"bytes"
	"net/http"
	"testing"

	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
)

// pushWithHead sends envs with head and returns the HTTP status and body.
func (k *kioskSim) pushWithHead(head *ikdsync.PushHead, envs ...[]byte) (int, []byte) {
	k.e.t.Helper()
	b, err := ikdsync.Marshal(ikdsync.PushRequest{Records: envs, Head: head})
	if err != nil {
		k.e.t.Fatal(err)
	}
	return k.do(http.MethodPost, "/v1/records", b)
}

func head(seq int64, hash byte, outbox int64) *ikdsync.PushHead {
	return &ikdsync.PushHead{AuditSeq: seq, AuditHash: bytes.Repeat([]byte{hash}, 32), OutboxSeq: outbox}
}

// TestPushHeadRollback walks one kiosk's pushes through the head rules: a head that went
// back refuses the whole push (nothing of it stored, so the same record is accepted later
// with a good head), a head further along is accepted and recorded, and a push without a
// head (an older kiosk) is answered as before.
func TestPushHeadRollback(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(*testing.T) registry.Store) {
		e := newEnv(t, open(t))
		k := e.enroll("Cibinong")
		var refused [][]byte
		for _, step := range []struct {
			name       string
			head       *ikdsync.PushHead
			wantStatus int
			wantCode   string
		}{
			{"no head (older kiosk)", nil, http.StatusOK, ""},
			{"first head", head(10, 1, 3), http.StatusOK, ""},
			{"same head again", head(10, 1, 3), http.StatusOK, ""},
			{"further along", head(12, 2, 4), http.StatusOK, ""},
			{"lower audit seq", head(11, 2, 4), http.StatusConflict, ikdsync.ErrAuditRollback.Code},
			{"same seq, other hash", head(12, 3, 4), http.StatusConflict, ikdsync.ErrAuditRollback.Code},
			{"outbox behind", head(13, 4, 3), http.StatusConflict, ikdsync.ErrAuditRollback.Code},
			{"malformed head", &ikdsync.PushHead{AuditSeq: 14, AuditHash: []byte{1}, OutboxSeq: 5}, http.StatusBadRequest, ikdsync.ErrMessageMalformed.Code},
			{"no head after heads", nil, http.StatusOK, ""},
			{"same head as recorded", head(12, 2, 4), http.StatusOK, ""},
		} {
			_, env := k.deactivation(nikBudi, e.now())
			status, body := k.pushWithHead(step.head, env)
			if step.wantCode != "" {
				wantError(t, step.name, status, body, step.wantStatus, step.wantCode)
				refused = append(refused, env)
				continue
			}
			if status != step.wantStatus {
				t.Fatalf("%s: status %d %s, want %d", step.name, status, body, step.wantStatus)
			}
		}
		for _, env := range refused {
			wantAnswer(t, "a refused push's record, sent again", k.push(env)[0], ikdsync.StatusAccepted, "")
		}
	})
}

// TestPushHeadBehindCheckpoint: a kiosk that so far sent only checkpoints is held to its
// newest checkpoint by its first head.
func TestPushHeadBehindCheckpoint(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(*testing.T) registry.Store) {
		e := newEnv(t, open(t))
		k := e.enroll("Cibinong")
		wantAnswer(t, "checkpoint", k.push(k.checkpoint(100, 9, 1))[0], ikdsync.StatusAccepted, "")
		_, env := k.deactivation(nikBudi, e.now())
		for _, step := range []struct {
			name       string
			head       *ikdsync.PushHead
			wantStatus int
		}{
			{"before the checkpoint", head(99, 1, 10), http.StatusConflict},
			{"at the checkpoint, other hash", head(100, 2, 9), http.StatusConflict},
			{"at the checkpoint", head(100, 1, 9), http.StatusOK},
		} {
			status, body := k.pushWithHead(step.head, env)
			if step.wantStatus != http.StatusOK {
				wantError(t, step.name, status, body, step.wantStatus, ikdsync.ErrAuditRollback.Code)
			} else if status != http.StatusOK {
				t.Fatalf("%s: status %d %s", step.name, status, body)
			}
		}
	})
}
