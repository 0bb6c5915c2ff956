package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Mailbox is the demo's in-process SMTP server on loopback: the registry's mail worker
// delivers the activation e-mails to it, and the demo panel shows them.
type Mailbox struct {
	srv  *smtp.Server
	ln   net.Listener
	done chan struct{}

	mu      sync.Mutex
	msgs    []MailMessage
	changed chan struct{} // closed and replaced at every new message
}

// MailMessage is one e-mail the mailbox received, parsed.
type MailMessage struct {
	Received time.Time
	From, To string
	Subject  string
	Text     string // the Indonesian part (the preferred one), or the only text
	Code     string // the 6-digit activation code found in Text
}

// codeLine finds the code in the Indonesian text ("Kode aktivasi IKD Anda: 123456").
var codeLine = regexp.MustCompile(`Kode aktivasi IKD Anda: (\d{6})`)

// OpenMailbox listens on a loopback port and serves SMTP until Close.
func OpenMailbox(log *slog.Logger) (*Mailbox, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo mailbox: %w", err)
	}
	m := &Mailbox{ln: ln, done: make(chan struct{}), changed: make(chan struct{})}
	m.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{box: m}, nil }))
	m.srv.Domain = "mailbox.demo"
	m.srv.ReadTimeout, m.srv.WriteTimeout = time.Minute, time.Minute
	m.srv.MaxMessageBytes = 1 << 20
	go func() {
		defer close(m.done)
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			log.Warn("demo mailbox stopped", "err", err)
		}
	}()
	return m, nil
}

// Addr is the server's host:port.
func (m *Mailbox) Addr() string { return m.ln.Addr().String() }

// Messages returns what arrived so far, oldest first.
func (m *Mailbox) Messages() []MailMessage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]MailMessage(nil), m.msgs...)
}

// Changed is closed when a message arrives after the call (for the demo panel to refresh).
func (m *Mailbox) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// WaitFor waits for the first message to address to.
func (m *Mailbox) WaitFor(ctx context.Context, to string) (MailMessage, error) {
	for {
		changed := m.Changed()
		for _, msg := range m.Messages() {
			if strings.EqualFold(msg.To, to) {
				return msg, nil
			}
		}
		select {
		case <-ctx.Done():
			return MailMessage{}, fmt.Errorf("wait for the e-mail to %s: %w", to, ctx.Err())
		case <-changed:
		}
	}
}

// Close stops the server.
func (m *Mailbox) Close() error {
	err := m.srv.Close()
	<-m.done
	return err
}

func (m *Mailbox) add(msg MailMessage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	close(m.changed)
	m.changed = make(chan struct{})
}

// mailSession is one SMTP conversation.
type mailSession struct {
	box  *Mailbox
	from string
	to   []string
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }

func (s *mailSession) Data(r io.Reader) error {
	msg, err := ParseMail(r)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: err.Error()}
	}
	for _, to := range s.to {
		m := msg
		m.To = to
		s.box.add(m)
	}
	return nil
}

// ParseMail reads an activation e-mail: its headers, its preferred text part (the last
// part of a multipart/alternative) and the code in it.
func ParseMail(r io.Reader) (MailMessage, error) {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return MailMessage{}, fmt.Errorf("parse mail: %w", err)
	}
	out := MailMessage{Received: time.Now(), From: msg.Header.Get("From"), To: msg.Header.Get("To")}
	if out.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return MailMessage{}, fmt.Errorf("parse mail subject: %w", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return MailMessage{}, fmt.Errorf("parse mail content type: %w", err)
	}
	var text []byte
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(msg.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return MailMessage{}, fmt.Errorf("parse mail part: %w", err)
			}
			// multipart.Reader undoes quoted-printable itself; the last part is preferred.
			if text, err = io.ReadAll(p); err != nil {
				return MailMessage{}, fmt.Errorf("parse mail part: %w", err)
			}
		}
	} else {
		body := io.Reader(msg.Body)
		if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(body)
		}
		if text, err = io.ReadAll(body); err != nil {
			return MailMessage{}, fmt.Errorf("parse mail body: %w", err)
		}
	}
	out.Text = strings.ReplaceAll(string(text), "\r\n", "\n")
	if c := codeLine.FindStringSubmatch(out.Text); c != nil {
		out.Code = c[1]
	}
	return out, nil
}
