//go:build faults

package faultsuite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	netmail "net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// bin holds the binaries TestMain builds: the suite runs the registry and the kiosk's sync
// as real processes, so that it can SIGKILL them.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "faultsuite-bin-")
	if err != nil {
		log.Fatal(err)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		goCmd, err := exec.LookPath("go")
		if err != nil {
			goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		build := exec.Command(goCmd, "build", "-o", dir+string(filepath.Separator), "github.com/ikd-field/ikd/cmd/ikd-registry",
			"github.com/ikd-field/ikd/cmd/ikdctl")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			log.Printf("faultsuite: build binaries: %v", err)
			return 1
		}
		bin = dir
		return m.Run()
	}()
	os.Exit(code)
}

// runTool runs a built binary to completion and returns its stdout; a non-zero exit fails.
func runTool(ctx context.Context, name string, args ...string) (string, error) {
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(bin, name), args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w\n%s%s", name, strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), nil
}

// freeAddr returns a loopback address that was free a moment ago; the registry listens on
// the same one across restarts, so the proxy's target stays valid.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// registryProc is the ikd-registry serve process, restartable on the same address and DB.
type registryProc struct {
	t      *testing.T
	addr   string
	args   []string
	logf   *os.File
	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

func (r *registryProc) start() {
	r.t.Helper()
	r.starts++
	cmd := exec.Command(filepath.Join(bin, "ikd-registry"), append([]string{"serve", "--addr", r.addr}, r.args...)...)
	cmd.Stdout, cmd.Stderr = r.logf, r.logf
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start registry: %v", err)
	}
	r.cmd, r.exited = cmd, make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { _ = c.Wait(); close(done) }(cmd, r.exited)
	// Ready means the database answers; bounded only to catch a registry that never comes up.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get("http://" + r.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-r.exited:
			r.t.Fatalf("registry exited during start (see %s)", r.logf.Name())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("registry not ready after 2 minutes (see %s)", r.logf.Name())
		}
	}
}

// kill SIGKILLs the registry and waits until it is gone.
func (r *registryProc) kill() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.exited
	r.cmd = nil
}

// mailServer is a real SMTP server (go-smtp) on loopback that records every message.
type mailServer struct {
	addr string
	mu   gosync.Mutex
	msgs []mailMsg
}

type mailMsg struct {
	messageID, to, code string
}

var codeRE = regexp.MustCompile(`activation code: (\d{6})`)

func startMailServer(t *testing.T) *mailServer {
	t.Helper()
	ms := &mailServer{}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &mailSession{srv: ms}, nil }))
	s.Domain = "mx.test"
	s.ReadTimeout, s.WriteTimeout = 30*time.Second, 30*time.Second
	s.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ms.addr = l.Addr().String()
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(l) }()
	t.Cleanup(func() { s.Close(); l.Close(); <-done })
	return ms
}

func (ms *mailServer) messages() []mailMsg {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]mailMsg(nil), ms.msgs...)
}

type mailSession struct {
	srv *mailServer
	to  []string
}

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := mailMsg{to: strings.Join(s.to, ",")}
	if msg, err := netmail.ReadMessage(bytes.NewReader(b)); err == nil {
		m.messageID = msg.Header.Get("Message-ID")
	}
	if c := codeRE.FindSubmatch(b); c != nil {
		m.code = string(c[1])
	}
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, m)
	s.srv.mu.Unlock()
	return nil
}

func (s *mailSession) Reset()        { s.to = nil }
func (s *mailSession) Logout() error { return nil }

// errKilled marks a sync process the suite killed on purpose.
var errKilled = errors.New("killed by the suite")
