package faultproxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// hangGuard bounds every blocking step. It only catches hangs; no verdict depends on it.
const hangGuard = 30 * time.Second

// backend is a TCP server the proxy forwards to. Each connection is handed to handle; Close
// waits for every handler so that goroutine counts are stable afterwards.
type backend struct {
	ln net.Listener
	wg sync.WaitGroup
}

func newBackend(t *testing.T, handle func(c net.Conn)) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	b := &backend{ln: ln}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(hangGuard))
				handle(c)
			}()
		}
	}()
	t.Cleanup(b.Close)
	return b
}

func (b *backend) Addr() string { return b.ln.Addr().String() }

func (b *backend) Close() {
	_ = b.ln.Close()
	b.wg.Wait()
}

// sinkResult is what a sink backend saw on one connection.
type sinkResult struct {
	n   int64
	err error // the error that ended reading; nil for a clean EOF
}

// newSink counts the bytes each connection sends until it ends and reports them.
func newSink(t *testing.T) (*backend, chan sinkResult) {
	got := make(chan sinkResult, 16)
	b := newBackend(t, func(c net.Conn) {
		n, err := io.Copy(io.Discard, c)
		got <- sinkResult{n, err}
	})
	return b, got
}

// newSource sends size bytes of a known pattern on each connection, then closes it.
func newSource(t *testing.T, size int) *backend {
	data := pattern(size)
	return newBackend(t, func(c net.Conn) {
		_, _ = c.Write(data)
		_ = c.(*net.TCPConn).CloseWrite()
		// Wait for the client to finish so our close does not race its reads; a cut link
		// hands us EOF, a reset one an error.
		_, _ = io.Copy(io.Discard, c)
	})
}

func newEcho(t *testing.T) *backend {
	return newBackend(t, func(c net.Conn) { _, _ = io.Copy(c, c) })
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func startProxy(t *testing.T, target string, clk clock) *Proxy {
	t.Helper()
	p, err := start(target, clk)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func dial(t *testing.T, p *Proxy) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatalf("dial proxy: %v", err)
	}
	_ = c.SetDeadline(time.Now().Add(hangGuard))
	t.Cleanup(func() { _ = c.Close() })
	return c.(*net.TCPConn)
}

func receive(t *testing.T, ch chan sinkResult) sinkResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(hangGuard):
		t.Fatal("backend never finished: hang")
		return sinkResult{}
	}
}

// A Cut forwards exactly After bytes in its direction, then both peers see a clean EOF.
func TestCutIsByteExact(t *testing.T) {
	const total = 200_000
	sizes := []int64{0, 1, 511, 512, 513, 4096, 32 << 10, 32<<10 + 1, 100_000}

	t.Run("upstream", func(t *testing.T) {
		sink, got := newSink(t)
		p := startProxy(t, sink.Addr(), realClock{})
		for _, n := range sizes {
			p.Next(Fault{Kind: Cut, Direction: Upstream, After: n})
			c := dial(t, p)
			go func() { _, _ = c.Write(pattern(total)) }() // fails once the cut drains away
			r := receive(t, got)
			if r.n != n || r.err != nil {
				t.Errorf("cut after %d: server got %d bytes, end %v; want exactly %d and EOF", n, r.n, r.err, n)
			}
			// The client reads EOF, not a reset: a cut is a FIN.
			if _, err := io.Copy(io.Discard, c); err != nil {
				t.Errorf("cut after %d: client read ended with %v, want EOF", n, err)
			}
		}
		if s := p.Stats(); s.Applied[Cut] != len(sizes) || s.BytesUp != sum(sizes) {
			t.Errorf("stats %+v: want %d cuts applied and %d bytes up", s, len(sizes), sum(sizes))
		}
	})

	t.Run("downstream", func(t *testing.T) {
		src := newSource(t, total)
		p := startProxy(t, src.Addr(), realClock{})
		want := pattern(total)
		for _, n := range sizes {
			p.Next(Fault{Kind: Cut, Direction: Downstream, After: n})
			c := dial(t, p)
			b, err := io.ReadAll(c)
			if err != nil {
				t.Errorf("cut after %d: client read ended with %v, want EOF", n, err)
			}
			if int64(len(b)) != n || !bytes.Equal(b, want[:len(b)]) {
				t.Errorf("cut after %d: client got %d bytes (prefix intact %v), want exactly %d",
					n, len(b), bytes.Equal(b, want[:min(len(b), len(want))]), n)
			}
		}
	})
}

func sum(xs []int64) int64 {
	var s int64
	for _, x := range xs {
		s += x
	}
	return s
}

// A Reset ends the connection with an RST on both sides, not an EOF.
func TestReset(t *testing.T) {
	t.Run("downstream", func(t *testing.T) {
		src := newSource(t, 100_000)
		p := startProxy(t, src.Addr(), realClock{})
		for _, n := range []int64{0, 1000} {
			p.Next(Fault{Kind: Reset, Direction: Downstream, After: n})
			nc, err := net.Dial("tcp", p.Addr())
			if errors.Is(err, syscall.ECONNRESET) {
				continue // the reset beat the handshake's completion: a reset all the same
			}
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			c := nc.(*net.TCPConn)
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(hangGuard))
			b, err := io.ReadAll(c)
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("reset after %d: client read ended with %v, want ECONNRESET", n, err)
			}
			// The reset discards what sat in the proxy's send buffer, as a real one does.
			if int64(len(b)) > n {
				t.Errorf("reset after %d: client got %d bytes, more than forwarded", n, len(b))
			}
		}
	})
	t.Run("upstream", func(t *testing.T) {
		sink, got := newSink(t)
		p := startProxy(t, sink.Addr(), realClock{})
		p.Next(Fault{Kind: Reset, Direction: Upstream, After: 700})
		c := dial(t, p)
		go func() { _, _ = c.Write(pattern(50_000)) }()
		r := receive(t, got)
		if !errors.Is(r.err, syscall.ECONNRESET) || r.n > 700 {
			t.Errorf("server got %d bytes, end %v; want at most 700 and ECONNRESET", r.n, r.err)
		}
		if _, err := io.Copy(io.Discard, c); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("client read ended with %v, want ECONNRESET", err)
		}
		if s := p.Stats(); s.Applied[Reset] != 1 {
			t.Errorf("stats %+v: want 1 reset applied", s)
		}
	})
}

// fakeClock advances only when the proxy sleeps, so paced and stalled durations are exact
// and independent of the machine's speed.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_000_000, 0)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(d time.Duration, quit <-chan struct{}) bool {
	select {
	case <-quit:
		return false
	default:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.slept = append(c.slept, d)
	return true
}

func (c *fakeClock) total() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var s time.Duration
	for _, d := range c.slept {
		s += d
	}
	return s
}

// A Stall pauses one direction for its duration and then delivers everything.
func TestStall(t *testing.T) {
	const size = 50_000
	for _, tc := range []struct {
		name string
		clk  clock
	}{{"fakeclock", newFakeClock()}, {"realclock", realClock{}}} {
		t.Run(tc.name, func(t *testing.T) {
			src := newSource(t, size)
			p := startProxy(t, src.Addr(), tc.clk)
			const stall = 300 * time.Millisecond
			p.Next(Fault{Kind: Stall, Direction: Downstream, After: 1000, Stall: stall})
			c := dial(t, p)
			began := time.Now()
			b, err := io.ReadAll(c)
			if err != nil || !bytes.Equal(b, pattern(size)) {
				t.Fatalf("got %d bytes, err %v; want all %d intact", len(b), err, size)
			}
			if fc, ok := tc.clk.(*fakeClock); ok {
				if len(fc.slept) != 1 || fc.slept[0] != stall {
					t.Errorf("proxy slept %v, want exactly one %v stall", fc.slept, stall)
				}
			} else if el := time.Since(began); el < stall {
				t.Errorf("transfer took %v, less than the %v stall", el, stall)
			}
			if s := p.Stats(); s.Applied[Stall] != 1 || s.BytesDown != size {
				t.Errorf("stats %+v: want 1 stall applied, %d bytes down", s, size)
			}
		})
	}
}

// A Throttle paces its direction at Rate: with the fake clock the paced time is exact; on
// the real clock only a lower bound is asserted, since slow machines only make it longer.
func TestThrottle(t *testing.T) {
	const size, rate = 20_000, 5000
	// The bucket starts full with one 512-byte chunk, so pacing 20000 bytes takes the time
	// of the other 19488: 3.8976 s.
	const paced = time.Duration((size - throttleChunk) * int64(time.Second) / rate)

	t.Run("fakeclock", func(t *testing.T) {
		clk := newFakeClock()
		sink, got := newSink(t)
		p := startProxy(t, sink.Addr(), clk)
		p.Next(Fault{Kind: Throttle, Direction: Upstream, Rate: rate})
		c := dial(t, p)
		if _, err := c.Write(pattern(size)); err != nil {
			t.Fatalf("write: %v", err)
		}
		_ = c.CloseWrite()
		if r := receive(t, got); r.n != size || r.err != nil {
			t.Fatalf("server got %d bytes, end %v; want %d", r.n, r.err, size)
		}
		if d := clk.total(); d != paced {
			t.Errorf("paced for %v, want %v", d, paced)
		}
		for _, d := range clk.slept {
			if d > time.Duration(throttleChunk*int64(time.Second)/rate) {
				t.Errorf("one sleep of %v: the link bursts instead of trickling", d)
			}
		}
	})

	t.Run("realclock", func(t *testing.T) {
		src := newSource(t, size)
		p := startProxy(t, src.Addr(), realClock{})
		p.Next(Fault{Kind: Throttle, Direction: Downstream, Rate: rate})
		c := dial(t, p)
		began := time.Now()
		b, err := io.ReadAll(c)
		el := time.Since(began)
		if err != nil || !bytes.Equal(b, pattern(size)) {
			t.Fatalf("got %d bytes, err %v; want all %d intact", len(b), err, size)
		}
		if el < 3*time.Second {
			t.Errorf("20 KB at 5 KB/s took %v, want at least 3 s", el)
		}
		if s := p.Stats(); s.Applied[Throttle] != 1 {
			t.Errorf("stats %+v: want 1 throttle applied", s)
		}
	})
}

// Through real HTTP: a response cut after 10 bytes (inside the status line) or inside the
// body fails the request; the next, clean connection succeeds.
func TestHTTPDownstreamCut(t *testing.T) {
	body := bytes.Repeat([]byte("registry "), 200) // 1800 bytes; the headers are ~120
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	p := startProxy(t, srv.Listener.Addr().String(), realClock{})
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: hangGuard}
	get := func() ([]byte, error) {
		resp, err := client.Get(p.URL() + "/sync")
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		return b, err
	}

	for _, tc := range []struct {
		after int64
		want  error // nil: any error will do
	}{
		// Go's client reads the 10 bytes "HTTP/1.1 2" as a whole status line and reports a
		// malformed status code rather than an EOF; any error is the right outcome.
		{10, nil},
		{300, io.ErrUnexpectedEOF},
	} {
		// Faults attach to connections: drop the idle keep-alive one so the request dials.
		tr.CloseIdleConnections()
		p.Next(Fault{Kind: Cut, Direction: Downstream, After: tc.after})
		_, err := get()
		if err == nil {
			t.Fatalf("cut after %d: request through a cut link succeeded", tc.after)
		}
		if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("cut after %d: request failed with %v, want %v", tc.after, err, tc.want)
		}
		t.Logf("cut after %d: %v", tc.after, err)

		got, err := get()
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("clean request after cut at %d: %d bytes, err %v", tc.after, len(got), err)
		}
	}
	if s := p.Stats(); s.Connections != 4 || s.Applied[Cut] != 2 {
		t.Errorf("stats %+v: want 4 connections, 2 cuts", s)
	}
}

// Queued faults go first, in order; then the plan decides by sequence number.
func TestNextThenPlan(t *testing.T) {
	sink, got := newSink(t)
	p := startProxy(t, sink.Addr(), realClock{})
	p.Next(Fault{Kind: Cut, Direction: Upstream, After: 3})
	p.Next(Fault{Kind: Cut, Direction: Upstream, After: 5})
	var mu sync.Mutex
	var asked []int
	p.SetPlan(func(conn int) Fault {
		mu.Lock()
		asked = append(asked, conn)
		mu.Unlock()
		if conn == 3 {
			return Fault{Kind: Cut, Direction: Upstream, After: 7}
		}
		return Fault{}
	})
	want := []int64{3, 5, 10, 7, 10}
	for i, w := range want {
		c := dial(t, p)
		if _, err := c.Write(pattern(10)); err != nil {
			t.Fatalf("conn %d: write: %v", i, err)
		}
		_ = c.CloseWrite()
		if r := receive(t, got); r.n != w {
			t.Errorf("conn %d: server got %d bytes, want %d", i, r.n, w)
		}
		_ = c.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(asked) != "[2 3 4]" {
		t.Errorf("plan asked for connections %v, want [2 3 4]", asked)
	}
	if s := p.Stats(); s.Assigned[Cut] != 3 || s.Connections != 5 {
		t.Errorf("stats %+v: want 3 cuts assigned over 5 connections", s)
	}
}

// Close ends stalled, throttled and idle connections and leaves no goroutine behind.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		echo := newEcho(t)
		defer echo.Close()
		p, err := Start(echo.Addr())
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		p.Next(Fault{Kind: Stall, Direction: Upstream, After: 0, Stall: time.Hour})
		p.Next(Fault{Kind: Throttle, Direction: Downstream, Rate: 1})
		p.Next(Fault{Kind: None})
		var conns []net.Conn
		for range 3 {
			c, err := net.Dial("tcp", p.Addr())
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			_ = c.SetDeadline(time.Now().Add(hangGuard))
			if _, err := c.Write([]byte("hello")); err != nil {
				t.Fatalf("write: %v", err)
			}
			conns = append(conns, c)
		}
		// Wait until all three are live so Close has connections to tear down.
		for i := 0; i < 3000 && len(p.liveLinks()) < 3; i++ {
			time.Sleep(time.Millisecond)
		}
		done := make(chan error, 1)
		go func() { done <- p.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("close: %v", err)
			}
		case <-time.After(hangGuard):
			t.Fatal("Close hung")
		}
		for _, c := range conns {
			// Every client sees its connection end rather than hang.
			if _, err := io.Copy(io.Discard, c); isTimeout(err) {
				t.Errorf("client connection still open after Close")
			}
			_ = c.Close()
		}
		if err := p.Close(); err != nil {
			t.Errorf("second close: %v", err)
		}
	}()
	// Goroutines of the test runtime (timers, the closed connections' pollers) can take a
	// moment to exit; retry a bounded number of times rather than judge by wall clock.
	after := runtime.NumGoroutine()
	for i := 0; i < 500 && after > before; i++ {
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond)
		after = runtime.NumGoroutine()
	}
	if after > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after Close:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

func (p *Proxy) liveLinks() []*link {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ls []*link
	for l := range p.live {
		ls = append(ls, l)
	}
	return ls
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestRandomFaultIsDeterministicAndInRange(t *testing.T) {
	const maxAfter = 4096
	a := rand.New(rand.NewPCG(42, 7))
	b := rand.New(rand.NewPCG(42, 7))
	seen := map[Kind]int{}
	dirs := map[Direction]int{}
	for i := range 2000 {
		f, g := RandomFault(a, maxAfter), RandomFault(b, maxAfter)
		if f != g {
			t.Fatalf("draw %d: %v and %v from the same seed", i, f, g)
		}
		seen[f.Kind]++
		dirs[f.Direction]++
		switch f.Kind {
		case Cut, Reset:
			if f.After < 0 || f.After >= maxAfter {
				t.Errorf("%v: offset out of [0,%d)", f, maxAfter)
			}
		case Stall:
			if f.After < 0 || f.After >= maxAfter || f.Stall < 50*time.Millisecond || f.Stall > 500*time.Millisecond {
				t.Errorf("%v: out of range", f)
			}
		case Throttle:
			if f.Rate != 5000 {
				t.Errorf("%v: want 5000 B/s", f)
			}
		default:
			t.Errorf("draw %d: kind %v", i, f.Kind)
		}
	}
	for _, k := range []Kind{Cut, Reset, Stall, Throttle} {
		if seen[k] < 300 {
			t.Errorf("kind %v drawn %d times of 2000", k, seen[k])
		}
	}
	if dirs[Upstream] < 800 || dirs[Downstream] < 800 {
		t.Errorf("directions %v: not both drawn", dirs)
	}
	if f := RandomFault(a, 0); f.After != 0 {
		t.Errorf("maxAfter 0 gave offset %d", f.After)
	}
}

// A burst of random faults over concurrent echo connections: every connection ends (no
// hang), what arrives is an intact prefix of what was sent, and clean ones are complete.
func TestRandomFaultsNeverHang(t *testing.T) {
	const conns, size = 60, 3000
	echo := newEcho(t)
	p := startProxy(t, echo.Addr(), realClock{})
	r := rand.New(rand.NewPCG(1, 2))
	faults := make([]Fault, conns)
	for i := range faults {
		if i%4 == 0 {
			continue // a quarter clean
		}
		faults[i] = RandomFault(r, 2*size)
	}
	p.SetPlan(func(conn int) Fault {
		if conn < len(faults) {
			return faults[conn]
		}
		return Fault{}
	})
	want := pattern(size)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range conns {
		// Dials are sequential and the proxy accepts in backlog order, so connection i
		// gets faults[i].
		c := dial(t, p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			go func() { _, _ = c.Write(want); _ = c.CloseWrite() }()
			b, err := io.ReadAll(c)
			mu.Lock()
			defer mu.Unlock()
			if isTimeout(err) {
				t.Errorf("conn %d (%v): hung", i, faults[i])
			}
			if !bytes.Equal(b, want[:min(len(b), size)]) || len(b) > size {
				t.Errorf("conn %d (%v): %d bytes, not a prefix of what was sent", i, faults[i], len(b))
			}
			clean := faults[i].Kind == None || faults[i].Kind == Stall || faults[i].Kind == Throttle
			if clean && (err != nil || len(b) != size) {
				t.Errorf("conn %d (%v): %d bytes, err %v; want all %d", i, faults[i], len(b), err, size)
			}
		}()
	}
	wg.Wait()
}
