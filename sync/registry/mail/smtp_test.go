package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

func TestSMTPSender(t *testing.T) {
	srvTLS, pool := selfSigned(t)
	trust := &tls.Config{RootCAs: pool}
	smtpErr := func(code int, msg string) error {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: msg}
	}

	tests := []struct {
		name       string
		server     serverOpts
		noServer   bool // send to a closed port
		sender     func(*SMTPSender)
		mail       func(*Mail)
		wantErr    bool
		permanent  bool
		code       int
		errHas     string
		wantTLS    bool
		wantUser   string
		wantNoAuth bool // the server must not have seen AUTH
	}{
		{name: "plain delivery"},
		{
			name:    "STARTTLS offered",
			server:  serverOpts{tls: srvTLS},
			sender:  func(s *SMTPSender) { s.TLSConfig = trust },
			wantTLS: true,
		},
		{
			name:     "AUTH over TLS",
			server:   serverOpts{tls: srvTLS, user: "registry", pass: "s3cret"},
			sender:   func(s *SMTPSender) { s.TLSConfig = trust; s.Username, s.Password = "registry", "s3cret" },
			wantTLS:  true,
			wantUser: "registry",
		},
		{
			name:    "AUTH wrong password is temporary",
			server:  serverOpts{tls: srvTLS, user: "registry", pass: "s3cret"},
			sender:  func(s *SMTPSender) { s.TLSConfig = trust; s.Username, s.Password = "registry", "wrong" },
			wantErr: true, code: 535, errHas: "AUTH",
		},
		{
			name:    "AUTH without TLS refused",
			server:  serverOpts{insecureAuth: true, user: "registry", pass: "s3cret"},
			sender:  func(s *SMTPSender) { s.Username, s.Password = "registry", "s3cret" },
			wantErr: true, errHas: "unencrypted connection", wantNoAuth: true,
		},
		{
			name:    "untrusted certificate",
			server:  serverOpts{tls: srvTLS},
			wantErr: true, errHas: "STARTTLS",
		},
		{
			name:    "451 on RCPT is temporary",
			server:  serverOpts{rcptErr: func(int) error { return smtpErr(451, "try again later") }},
			wantErr: true, code: 451, errHas: "RCPT TO",
		},
		{
			name:    "550 on RCPT is permanent",
			server:  serverOpts{rcptErr: func(int) error { return smtpErr(550, "no such user") }},
			wantErr: true, permanent: true, code: 550, errHas: "no such user",
		},
		{
			name:    "554 after DATA is permanent",
			server:  serverOpts{dataErr: func(int) error { return smtpErr(554, "rejected") }},
			wantErr: true, permanent: true, code: 554, errHas: "DATA",
		},
		{
			name:     "server unreachable",
			noServer: true,
			wantErr:  true, errHas: "dial",
		},
		{
			name:    "header injection in To",
			mail:    func(m *Mail) { m.To = "warga@example.co.id\r\nBcc: evil@example.com" },
			wantErr: true, permanent: true, errHas: "line break",
		},
		{
			name:    "display name in To",
			mail:    func(m *Mail) { m.To = "Evil <evil@example.com>" },
			wantErr: true, permanent: true, errHas: "bare address",
		},
		{
			name:    "bad From is temporary",
			sender:  func(s *SMTPSender) { s.From = "not an address" },
			wantErr: true, errHas: "sender address",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ts *testServer
			addr := ""
			if tt.noServer {
				addr = closedAddr(t)
			} else {
				ts = startServer(t, tt.server)
				addr = ts.addr
			}
			s := &SMTPSender{
				Addr:    addr,
				From:    "Registri IKD <noreply@ikd.example>",
				Host:    "registry.ikd.example",
				Timeout: 10 * time.Second,
			}
			if tt.sender != nil {
				tt.sender(s)
			}
			m := testMail()
			if tt.mail != nil {
				tt.mail(&m)
			}
			err := s.Send(context.Background(), m)
			if tt.wantErr {
				var se *SendError
				if !errors.As(err, &se) {
					t.Fatalf("Send() = %v, want a *SendError", err)
				}
				if se.Permanent != tt.permanent || IsPermanent(err) != tt.permanent {
					t.Errorf("Permanent = %v, want %v (%v)", se.Permanent, tt.permanent, err)
				}
				if se.Code != tt.code {
					t.Errorf("Code = %d, want %d (%v)", se.Code, tt.code, err)
				}
				if !strings.Contains(err.Error(), tt.errHas) {
					t.Errorf("error %q lacks %q", err, tt.errHas)
				}
				if !strings.Contains(err.Error(), m.ID) {
					t.Errorf("error %q does not name the mail", err)
				}
				if strings.Contains(err.Error(), m.Code) || strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error %q leaks a secret", err)
				}
				if ts != nil {
					if got := ts.messages(); len(got) != 0 {
						t.Errorf("server received %d messages, want none", len(got))
					}
					if tt.wantNoAuth && ts.authCount() != 0 {
						t.Errorf("server saw %d AUTH attempts, want none", ts.authCount())
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Send() = %v", err)
			}
			got := ts.messages()
			if len(got) != 1 {
				t.Fatalf("server received %d messages, want 1", len(got))
			}
			r := got[0]
			if r.from != "noreply@ikd.example" || len(r.to) != 1 || r.to[0] != m.To {
				t.Errorf("envelope %q -> %q", r.from, r.to)
			}
			if r.tls != tt.wantTLS {
				t.Errorf("TLS = %v, want %v", r.tls, tt.wantTLS)
			}
			if r.user != tt.wantUser {
				t.Errorf("AUTH user = %q, want %q", r.user, tt.wantUser)
			}
			checkMessage(t, r.data, m, "<"+m.ID+"@registry.ikd.example>")
		})
	}
}

// A cancelled context stops a send that waits on a silent server.
func TestSMTPSenderContext(t *testing.T) {
	l, addr := silentListener(t)
	defer l.Close()
	s := &SMTPSender{Addr: addr, From: "noreply@ikd.example", Timeout: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Send(ctx, testMail()) }()
	cancel()
	select {
	case err := <-done:
		if err == nil || IsPermanent(err) || !errors.Is(err, context.Canceled) {
			t.Fatalf("Send() = %v, want a temporary error wrapping context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Send did not return after ctx was cancelled")
	}
}
