package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
)

// SMTPSender delivers mails to one SMTP server (normally the registry's relay), one
// connection per mail. net/smtp is frozen but complete for this: EHLO, STARTTLS, AUTH PLAIN,
// MAIL, RCPT, DATA, QUIT.
type SMTPSender struct {
	Addr string // host:port of the server
	From string // envelope and header sender, e.g. "IKD <noreply@ikd.example>"
	Host string // HELO name, also the Message-ID domain; empty uses From's domain
	// Username and Password enable AUTH PLAIN. It is only ever sent over TLS: a server that
	// does not offer STARTTLS gets no password and the send fails.
	Username, Password string
	// TLSConfig is used for STARTTLS, which is done whenever the server offers it. nil
	// verifies against the system roots; an empty ServerName is taken from Addr.
	TLSConfig *tls.Config
	// Timeout bounds the whole conversation for one mail; 0 means 1 minute.
	Timeout time.Duration
	// Now stamps the Date header; nil means time.Now.
	Now func() time.Time
}

// Send delivers m. Its errors are *SendError.
func (s *SMTPSender) Send(ctx context.Context, m Mail) error {
	if err := validateMail(m); err != nil {
		return &SendError{Permanent: true, Err: fmt.Errorf("send mail %s: %w", m.ID, err)}
	}
	// Everything below failing is about this sender or the server, not about the mail, so
	// it is temporary unless the server says otherwise in the mail transaction.
	temp := func(stage string, err error) error {
		return &SendError{Err: fmt.Errorf("send mail %s: %s: %w", m.ID, stage, err)}
	}
	from, err := parseFrom(s.From)
	if err != nil {
		return temp("config", err)
	}
	helo := s.Host
	if helo == "" {
		helo = from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	}
	if err := validateDomain(helo); err != nil {
		return temp("config", fmt.Errorf("HELO name: %w", err))
	}
	serverName, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return temp("config", fmt.Errorf("address %q: %w", s.Addr, err))
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	msg, err := Message{Mail: m, From: s.From, Domain: helo, Date: now()}.Bytes()
	if err != nil {
		return temp("compose", err)
	}

	timeout := s.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return temp("dial", err)
	}
	defer conn.Close()
	// net/smtp knows no contexts: the deadline bounds each read and write, and cancelling ctx
	// moves it to the past so that a blocked read returns at once.
	dl, _ := ctx.Deadline()
	if err := conn.SetDeadline(dl); err != nil {
		return temp("dial", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	// ctxErr prefers the context's reason over the i/o timeout it causes.
	ctxErr := func(err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("%w (%v)", context.Cause(ctx), err)
		}
		return err
	}
	setup := func(stage string, err error) error {
		// Replies during the session setup (EHLO, STARTTLS, AUTH) are about our
		// configuration or the server's state, never about this mail: even a 5xx (say, a
		// wrong password) must not fail the whole queue permanently.
		se := &SendError{Err: fmt.Errorf("send mail %s: %s: %w", m.ID, stage, ctxErr(err))}
		var te *textproto.Error
		if errors.As(err, &te) {
			se.Code = te.Code
		}
		return se
	}
	txn := func(stage string, err error) error {
		// In the mail transaction a 5xx is the server refusing this mail (unknown
		// recipient, rejected content): retrying will not help. 4xx and anything that is not
		// a reply (a broken connection) may succeed later.
		se := &SendError{Err: fmt.Errorf("send mail %s: %s: %w", m.ID, stage, ctxErr(err))}
		var te *textproto.Error
		if errors.As(err, &te) {
			se.Code = te.Code
			se.Permanent = te.Code >= 500 && te.Code < 600
		}
		return se
	}

	c, err := smtp.NewClient(conn, serverName)
	if err != nil {
		return setup("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(helo); err != nil {
		return setup("EHLO", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := s.TLSConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = serverName
		}
		if cfg.MinVersion == 0 {
			cfg.MinVersion = tls.VersionTLS12
		}
		if err := c.StartTLS(cfg); err != nil {
			return setup("STARTTLS", err)
		}
	}
	if s.Username != "" {
		if _, isTLS := c.TLSConnectionState(); !isTLS {
			return setup("AUTH", fmt.Errorf("refusing to send the password for %q over an unencrypted connection: %s did not offer STARTTLS", s.Username, s.Addr))
		}
		if ok, mechs := c.Extension("AUTH"); !ok || !hasMech(mechs, "PLAIN") {
			return setup("AUTH", fmt.Errorf("server does not offer AUTH PLAIN (offers %q)", mechs))
		}
		if err := c.Auth(plainAuth{username: s.Username, password: s.Password}); err != nil {
			return setup("AUTH", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return txn("MAIL FROM", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return txn("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return txn("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return txn("DATA", err)
	}
	// Close sends the final dot and reads the reply: from here on a nil error means the
	// server has taken responsibility for the mail.
	if err := w.Close(); err != nil {
		return txn("DATA", err)
	}
	// The mail is accepted; a failing QUIT must not make it look unsent (it would be sent
	// again), so its error is ignored.
	_ = c.Quit()
	return nil
}

func hasMech(mechs, want string) bool {
	for _, m := range strings.Fields(mechs) {
		if strings.EqualFold(m, want) {
			return true
		}
	}
	return false
}

// plainAuth is AUTH PLAIN (RFC 4616). net/smtp's PlainAuth would do, but it allows clear text
// to localhost and insists the server name match; this one refuses clear text everywhere and
// leaves name checks to TLS.
type plainAuth struct{ username, password string }

func (a plainAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS {
		return "", nil, errors.New("refusing AUTH PLAIN over an unencrypted connection")
	}
	return "PLAIN", []byte("\x00" + a.username + "\x00" + a.password), nil
}

func (a plainAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected server challenge during AUTH PLAIN")
	}
	return nil, nil
}
