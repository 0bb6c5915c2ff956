package registry

import (
	"container/list"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	gosync "sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is a token bucket: PerSecond requests a second on average, Burst at once.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Limits bound what one client may ask of the unauthenticated routes. A client is the
// connection's IP address (an IPv6 client its /64, which one subscriber usually holds whole),
// never a forwarded-for header, which is whatever the client writes. Zero fields take the
// defaults.
type Limits struct {
	Enroll  Rate // POST /v1/enroll; default DefaultEnrollRate
	Citizen Rate // the citizen API, register and confirm together; default DefaultCitizenRate
	// OpenRegistrations is how many open registrations (QR still valid, or code sent and not
	// yet expired) one NIK may have; default DefaultOpenRegistrations.
	OpenRegistrations int
	// Clients is how many clients each limiter remembers; default DefaultLimiterClients.
	Clients int
}

// Default limits. A site enrolls a handful of kiosks in a day; a citizen registers and
// confirms a few times; 3 open registrations cover a lost QR and a typo in the e-mail.
var (
	DefaultEnrollRate        = Rate{PerSecond: 0.1, Burst: 5}
	DefaultCitizenRate       = Rate{PerSecond: 1, Burst: 10}
	DefaultOpenRegistrations = 3
	DefaultLimiterClients    = 10000
)

func (l Limits) withDefaults() Limits {
	if l.Enroll == (Rate{}) {
		l.Enroll = DefaultEnrollRate
	}
	if l.Citizen == (Rate{}) {
		l.Citizen = DefaultCitizenRate
	}
	if l.OpenRegistrations <= 0 {
		l.OpenRegistrations = DefaultOpenRegistrations
	}
	if l.Clients <= 0 {
		l.Clients = DefaultLimiterClients
	}
	return l
}

// clientLimiter keeps a token bucket per client for at most max clients. When full it forgets
// the client seen least recently, so a flood of addresses costs a bounded table; a forgotten
// client merely starts again with a full bucket.
type clientLimiter struct {
	rate  Rate
	max   int
	mu    gosync.Mutex
	order *list.List // of *clientBucket, most recently seen first
	byKey map[string]*list.Element
}

type clientBucket struct {
	key string
	lim *rate.Limiter
}

func newClientLimiter(r Rate, max int) *clientLimiter {
	return &clientLimiter{rate: r, max: max, order: list.New(), byKey: make(map[string]*list.Element)}
}

// allow takes one token of client's bucket at now, or reports how long until one is there.
func (l *clientLimiter) allow(client string, now time.Time) (wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *clientBucket
	if el, found := l.byKey[client]; found {
		l.order.MoveToFront(el)
		b = el.Value.(*clientBucket)
	} else {
		if l.order.Len() >= l.max {
			oldest := l.order.Back()
			l.order.Remove(oldest)
			delete(l.byKey, oldest.Value.(*clientBucket).key)
		}
		b = &clientBucket{key: client, lim: rate.NewLimiter(rate.Limit(l.rate.PerSecond), l.rate.Burst)}
		l.byKey[client] = l.order.PushFront(b)
	}
	res := b.lim.ReserveN(now, 1)
	if !res.OK() {
		return time.Hour, false // a burst of 0: the route is closed to everyone
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d, false
	}
	return 0, true
}

// clientKey is the limiter key of r's client.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64) // cannot fail for a 128-bit address
		return p.String()
	}
	return a.String()
}

// writeTooMany answers 429 with the seconds to wait, rounded up, in Retry-After, and closes
// the connection rather than draining a body nobody will read.
func writeTooMany(w http.ResponseWriter, wait time.Duration, code, msg string) {
	w.Header().Set("Connection", "close")
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	writeJSON(w, http.StatusTooManyRequests, apiError{Code: code, Error: msg})
}
