package mail

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

func TestMaskAddresses(t *testing.T) {
	tests := []struct{ in, want string }{
		{"warga@example.id", "w***@example.id"},
		{"550 5.1.1 <warga.satu+ikd@mail.example.co.id>: Recipient address rejected",
			"550 5.1.1 <w***@mail.example.co.id>: Recipient address rejected"},
		{"two: a@x.id, budi@y.id", "two: a***@x.id, b***@y.id"},
		{"no address here: 451 try later", "no address here: 451 try later"},
	}
	for _, tt := range tests {
		if got := MaskAddresses(tt.in); got != tt.want {
			t.Errorf("MaskAddresses(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestWorkerMasksRefusedAddress: a relay's 550 quotes the recipient; neither the queue's
// last error nor the log may keep the full address.
func TestWorkerMasksRefusedAddress(t *testing.T) {
	start := time.Date(2026, 1, 2, 7, 49, 0, 0, time.UTC)
	m := queuedMail(1, start)
	for _, permanent := range []bool{true, false} {
		code := 450
		if permanent {
			code = 550
		}
		ts := startServer(t, serverOpts{rcptErr: func(int) error {
			return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 1, 1},
				Message: "<" + m.To + ">: Recipient address rejected"}
		}})
		q := newMemQueue(m)
		var logs bytes.Buffer
		w := &Worker{
			Queue:  q,
			Sender: &SMTPSender{Addr: ts.addr, From: "noreply@ikd.example", Host: "registry.ikd.example", Timeout: 10 * time.Second},
			Now:    func() time.Time { return start },
			Log:    slog.New(slog.NewJSONHandler(&logs, nil)),
		}
		if _, failed, err := w.RunOnce(context.Background()); err != nil || failed != 1 {
			t.Fatalf("code %d: RunOnce failed=%d err=%v, want 1 failed send", code, failed, err)
		}
		it := q.get(m.ID)
		if it.permanent != permanent {
			t.Errorf("code %d: permanent=%v", code, it.permanent)
		}
		for what, s := range map[string]string{"reason": it.reason, "log": logs.String()} {
			if strings.Contains(s, m.To) {
				t.Errorf("code %d: %s holds the address: %s", code, what, s)
			}
			if !strings.Contains(s, MaskAddress(m.To)) {
				t.Errorf("code %d: %s lacks the masked address %s: %s", code, what, MaskAddress(m.To), s)
			}
		}
	}
}
