// Package faultproxy is a fault-injecting TCP proxy for tests of the kiosk ↔ registry sync
// over HTTP. A test starts a Proxy in front of a server, points the client at Proxy.URL and
// tells the proxy, connection by connection, which fault the link should suffer:
//
//   - Cut: after a given number of bytes in one direction the link closes cleanly on both
//     sides (FIN), as when the power fails at the cell tower and the operator's gateway
//     closes the sessions it was carrying. The bytes in flight beyond the cut are lost.
//   - Reset: the same, but both sides get a TCP RST (SO_LINGER 0), as when a carrier-grade
//     NAT forgets the mapping and answers the next segment with a reset.
//   - Stall: after a given number of bytes one direction stops for a while and then
//     continues, as a 2G link does when the van drives through a dead spot.
//   - Throttle: one direction trickles at a fixed rate for the whole connection, as the
//     5 KB/s a 2G link in a van delivers.
//
// A fault belongs to a connection, not to a request: an HTTP client that reuses an idle
// keep-alive connection does not pick up a fault queued with Next. A suite that wants one
// fault per request closes idle connections first (http.Transport.CloseIdleConnections)
// or disables keep-alives.
//
// Faults are deterministic: what a connection suffers depends only on the queued faults or
// the plan and on the connection's sequence number, and RandomFault draws from the caller's
// seeded generator, so a failing run of a randomised fault suite can be replayed from its
// seed. Every goroutine belongs to the Proxy and Close waits for all of them, so a test that
// closes its proxy leaves nothing running and never hangs on a stalled link.
package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Direction is the way bytes travel through the proxy.
type Direction int

const (
	// Upstream is client → server: requests, uploads.
	Upstream Direction = iota
	// Downstream is server → client: responses, downloads.
	Downstream
)

func (d Direction) String() string {
	switch d {
	case Upstream:
		return "upstream"
	case Downstream:
		return "downstream"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// Kind is what a Fault does to a connection.
type Kind int

const (
	// None passes the connection clean.
	None Kind = iota
	// Cut closes both sides with FIN after Fault.After bytes in Fault.Direction.
	Cut
	// Reset closes both sides with RST after Fault.After bytes in Fault.Direction.
	Reset
	// Stall pauses Fault.Direction for Fault.Stall after Fault.After bytes, then continues.
	Stall
	// Throttle limits Fault.Direction to Fault.Rate bytes per second for the whole connection.
	Throttle
)

func (k Kind) String() string {
	switch k {
	case None:
		return "none"
	case Cut:
		return "cut"
	case Reset:
		return "reset"
	case Stall:
		return "stall"
	case Throttle:
		return "throttle"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Fault is what one connection suffers. The zero Fault is a clean connection.
type Fault struct {
	Kind      Kind
	Direction Direction
	// After is how many bytes pass in Direction before a Cut, Reset or Stall acts; a
	// negative After counts as 0 (the fault acts before the first byte). A fault whose
	// Direction carries fewer bytes than After never acts.
	After int64
	// Stall is how long a Stall pauses Direction.
	Stall time.Duration
	// Rate is the bytes per second a Throttle allows in Direction; Rate <= 0 does not limit.
	Rate int
}

func (f Fault) String() string {
	switch f.Kind {
	case Cut, Reset:
		return fmt.Sprintf("%v %v after %d B", f.Kind, f.Direction, f.After)
	case Stall:
		return fmt.Sprintf("stall %v %v after %d B", f.Direction, f.Stall, f.After)
	case Throttle:
		return fmt.Sprintf("throttle %v %d B/s", f.Direction, f.Rate)
	}
	return f.Kind.String()
}

// Stats counts what a Proxy did so far.
type Stats struct {
	// Connections is how many client connections were accepted.
	Connections int
	// DialErrors is how many accepted connections were dropped because the target refused.
	DialErrors int
	// Assigned counts, by kind, the faults handed to connections (clean ones are not counted).
	Assigned map[Kind]int
	// Applied counts, by kind, the faults that acted: a Cut, Reset or Stall whose byte offset
	// was reached, a Throttle that paced at least one chunk.
	Applied map[Kind]int
	// BytesUp and BytesDown are the bytes forwarded client → server and server → client.
	BytesUp, BytesDown int64
}

const (
	// dialTimeout bounds the dial to the target, so a dead target cannot keep a connection's
	// goroutine (and therefore Close) waiting for the kernel's minutes-long SYN retries.
	dialTimeout = 10 * time.Second
	// drainTimeout bounds how long a cut link keeps reading and discarding what the peers
	// still send. Draining is what makes a Cut a FIN rather than a RST: Linux answers with
	// a reset when a socket is closed with unread data in its receive buffer.
	drainTimeout = 2 * time.Second
	// bufSize is the copy buffer of a connection that is not throttled.
	bufSize = 32 << 10
	// throttleChunk is the most a throttled direction forwards at once, so a 5 KB/s link
	// trickles in ~100 ms steps instead of bursting a whole buffer every few seconds.
	throttleChunk = 512
)

// Proxy forwards every accepted connection to its target, applying the fault assigned to it.
type Proxy struct {
	ln     net.Listener
	target string
	clk    clock
	ctx    context.Context // cancelled by Close to abort pending dials
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	queue  []Fault
	plan   func(conn int) Fault
	seq    int
	live   map[*link]struct{}
	stats  Stats

	bytesUp, bytesDown atomic.Int64
}

// Start listens on 127.0.0.1 on a free port and forwards each accepted connection to
// target (host:port).
func Start(target string) (*Proxy, error) {
	return start(target, realClock{})
}

func start(target string, clk clock) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		ln:     ln,
		target: target,
		clk:    clk,
		ctx:    ctx,
		cancel: cancel,
		live:   make(map[*link]struct{}),
		stats:  Stats{Assigned: make(map[Kind]int), Applied: make(map[Kind]int)},
	}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr is the host:port clients dial.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is the proxy's address as an http:// base URL.
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// Next queues f for the next accepted connection that has no fault yet. Queued faults are
// used first, in order; connections accepted when the queue is empty get the plan's fault,
// or none.
func (p *Proxy) Next(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queue = append(p.queue, f)
}

// SetPlan makes plan decide the fault of each connection accepted while the Next queue is
// empty, by the connection's sequence number (0 for the first connection the proxy
// accepted). A nil plan passes those connections clean. The plan is called from the
// proxy's accept loop, one connection at a time, so it needs no locking of its own.
func (p *Proxy) SetPlan(plan func(conn int) Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.plan = plan
}

// Stats returns a copy of the proxy's counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Assigned = make(map[Kind]int, len(p.stats.Assigned))
	for k, v := range p.stats.Assigned {
		s.Assigned[k] = v
	}
	s.Applied = make(map[Kind]int, len(p.stats.Applied))
	for k, v := range p.stats.Applied {
		s.Applied[k] = v
	}
	s.BytesUp = p.bytesUp.Load()
	s.BytesDown = p.bytesDown.Load()
	return s
}

// Close stops listening, closes every live connection (stalls and throttles included) and
// returns once all of the proxy's goroutines have ended. Closing twice is harmless.
func (p *Proxy) Close() error {
	p.mu.Lock()
	already := p.closed
	p.closed = true
	live := make([]*link, 0, len(p.live))
	for l := range p.live {
		live = append(live, l)
	}
	p.mu.Unlock()

	var err error
	if !already {
		p.cancel()
		if cerr := p.ln.Close(); cerr != nil {
			err = fmt.Errorf("faultproxy: close listener: %w", cerr)
		}
	}
	for _, l := range live {
		l.abort(false)
	}
	p.wg.Wait()
	return err
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			// The listener fails only when Close closed it, or for a reason no retry would
			// fix in a test; either way no more connections come.
			return
		}
		client, ok := c.(*net.TCPConn)
		if !ok { // cannot happen with a TCP listener; refuse rather than panic
			_ = c.Close()
			continue
		}
		f, ok := p.assign()
		if !ok {
			_ = client.Close()
			return
		}
		p.wg.Add(1)
		go p.serve(client, f)
	}
}

// assign picks the next connection's fault; false when the proxy is closed.
func (p *Proxy) assign() (Fault, bool) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return Fault{}, false
	}
	seq := p.seq
	p.seq++
	p.stats.Connections++
	var f Fault
	queued := len(p.queue) > 0
	if queued {
		f = p.queue[0]
		p.queue = p.queue[1:]
	}
	plan := p.plan
	p.mu.Unlock()

	// The plan is called without the lock so that it may use the proxy (Stats, Next).
	if !queued && plan != nil {
		f = plan(seq)
	}
	if f.Kind != None {
		p.mu.Lock()
		p.stats.Assigned[f.Kind]++
		p.mu.Unlock()
	}
	return f, true
}

func (p *Proxy) applied(k Kind) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Applied[k]++
}

func (p *Proxy) serve(client *net.TCPConn, f Fault) {
	defer p.wg.Done()
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(p.ctx, "tcp", p.target)
	if err != nil {
		p.mu.Lock()
		p.stats.DialErrors++
		p.mu.Unlock()
		_ = client.Close()
		return
	}
	server, ok := c.(*net.TCPConn)
	if !ok {
		_ = c.Close()
		_ = client.Close()
		return
	}
	l := &link{p: p, fault: f, client: client, server: server, quit: make(chan struct{})}

	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = client.Close()
		_ = server.Close()
		return
	}
	p.live[l] = struct{}{}
	p.mu.Unlock()

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); l.pipe(Upstream, client, server) }()
	go func() { defer wg.Done(); l.pipe(Downstream, server, client) }()
	wg.Wait()
	_ = client.Close()
	_ = server.Close()

	p.mu.Lock()
	delete(p.live, l)
	p.mu.Unlock()
}

// link is one proxied connection: the client's socket, the server's, and its fault.
type link struct {
	p              *Proxy
	fault          Fault
	client, server *net.TCPConn

	quitOnce sync.Once
	quit     chan struct{} // closed when the link is cut or torn down: wakes stalls and pacing
	cut      atomic.Bool   // set by a Cut: both pipes discard what they read until EOF
	abortOne sync.Once
}

func (l *link) stop() { l.quitOnce.Do(func() { close(l.quit) }) }

// abort closes both sockets at once, with RST when rst is set. It unblocks both pipes.
func (l *link) abort(rst bool) {
	l.stop()
	l.abortOne.Do(func() {
		if rst {
			_ = l.client.SetLinger(0)
			_ = l.server.SetLinger(0)
		}
		_ = l.client.Close()
		_ = l.server.Close()
	})
}

// doCut half-closes both sides so each peer reads EOF after what was forwarded, aborts any
// write still in progress in the other direction, and lets both pipes drain for a bounded
// time so that the final close does not turn into a reset.
func (l *link) doCut() {
	l.cut.Store(true)
	l.stop()
	_ = l.client.CloseWrite()
	_ = l.server.CloseWrite()
	now := time.Now()
	_ = l.client.SetWriteDeadline(now)
	_ = l.server.SetWriteDeadline(now)
	_ = l.client.SetReadDeadline(now.Add(drainTimeout))
	_ = l.server.SetReadDeadline(now.Add(drainTimeout))
}

// drain reads and discards src until it fails: EOF, the drain deadline, or a close.
func drain(src *net.TCPConn) {
	_, _ = io.Copy(io.Discard, src)
}

// pipe copies src to dst in direction dir, applying the link's fault if it is for dir.
func (l *link) pipe(dir Direction, src, dst *net.TCPConn) {
	f := l.fault
	if f.Direction != dir {
		f = Fault{}
	}
	pending := f.Kind == Cut || f.Kind == Reset || f.Kind == Stall
	after := max(f.After, 0)
	var pace *pacer
	size := bufSize
	if f.Kind == Throttle && f.Rate > 0 {
		size = min(throttleChunk, f.Rate)
		pace = &pacer{clk: l.p.clk, rate: f.Rate, burst: size}
	}
	counter := &l.p.bytesUp
	if dir == Downstream {
		counter = &l.p.bytesDown
	}
	paced := false
	var passed int64

	// act runs the pending fault once After bytes have passed; false means the pipe is done
	// forwarding (the link was cut, reset or closed).
	act := func() bool {
		if !pending || passed < after {
			return true
		}
		pending = false
		l.p.applied(f.Kind)
		switch f.Kind {
		case Cut:
			l.doCut()
			return false
		case Reset:
			l.abort(true)
			return false
		case Stall:
			return l.p.clk.sleep(f.Stall, l.quit) && !l.cut.Load()
		}
		return true
	}

	buf := make([]byte, size)
	for {
		if !act() {
			drain(src)
			return
		}
		n, rerr := src.Read(buf)
		if l.cut.Load() {
			drain(src)
			return
		}
		data := buf[:n]
		for len(data) > 0 {
			chunk := data
			if pending && passed+int64(len(chunk)) > after {
				chunk = chunk[:after-passed]
			}
			if pace != nil {
				if !paced {
					paced = true
					l.p.applied(Throttle)
				}
				if !pace.wait(len(chunk), l.quit) {
					l.finish(src)
					return
				}
			}
			w, werr := dst.Write(chunk)
			passed += int64(w)
			counter.Add(int64(w))
			if werr != nil {
				l.finish(src)
				return
			}
			data = data[len(chunk):]
			if !act() {
				drain(src)
				return
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) && !l.cut.Load() {
				// The peer finished sending: pass its FIN on and let the other direction
				// carry on, as HTTP clients that half-close expect.
				_ = dst.CloseWrite()
				return
			}
			l.finish(src)
			return
		}
	}
}

// finish ends a pipe that can no longer forward: on a cut link it drains src (the cut is
// being torn down gracefully); otherwise the connection is broken and both sides are closed.
func (l *link) finish(src *net.TCPConn) {
	if l.cut.Load() {
		drain(src)
		return
	}
	l.abort(false)
}

// pacer is a token bucket in its GCRA form: tat is when the bucket would be full again.
// Integer durations keep it exact, so a fake clock gives the same sleeps on every run.
type pacer struct {
	clk     clock
	rate    int
	burst   int
	tat     time.Time
	started bool
}

func (p *pacer) cost(n int) time.Duration {
	return time.Duration(int64(n) * int64(time.Second) / int64(p.rate))
}

// wait blocks until n more bytes may pass; false if quit closed first.
func (p *pacer) wait(n int, quit <-chan struct{}) bool {
	now := p.clk.now()
	if !p.started || p.tat.Before(now) {
		p.tat = now
		p.started = true
	}
	p.tat = p.tat.Add(p.cost(n))
	if wake := p.tat.Add(-p.cost(p.burst)); wake.After(now) {
		return p.clk.sleep(wake.Sub(now), quit)
	}
	return true
}

// clock is the time the proxy paces and stalls by; tests substitute a fake one so that
// their verdicts do not depend on how fast the machine is.
type clock interface {
	now() time.Time
	// sleep waits d, or until quit closes; false when quit closed first.
	sleep(d time.Duration, quit <-chan struct{}) bool
}

type realClock struct{}

func (realClock) now() time.Time { return time.Now() }

func (realClock) sleep(d time.Duration, quit <-chan struct{}) bool {
	if d <= 0 {
		select {
		case <-quit:
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-quit:
		return false
	}
}

// RandomFault draws a fault of one of the four kinds a 2G link in a van produces, with
// equal odds: a Cut or Reset at a uniform byte offset in [0, maxAfter), a Stall of 50–500 ms
// at such an offset, or a 5000 B/s Throttle; the direction is uniform. It always draws the
// same number of values from r, so the faults of a seeded suite do not shift when one
// kind's parameters change. maxAfter <= 0 puts every offset at 0.
func RandomFault(r *rand.Rand, maxAfter int64) Fault {
	kind := Cut + Kind(r.IntN(4))
	dir := Direction(r.IntN(2))
	var after int64
	if maxAfter > 0 {
		after = r.Int64N(maxAfter)
	} else {
		_ = r.Int64() // keep the draw count fixed
	}
	stall := 50*time.Millisecond + time.Duration(r.Int64N(int64(450*time.Millisecond)+1))
	f := Fault{Kind: kind, Direction: dir}
	switch kind {
	case Cut, Reset:
		f.After = after
	case Stall:
		f.After = after
		f.Stall = stall
	case Throttle:
		f.Rate = 5000
	}
	return f
}
