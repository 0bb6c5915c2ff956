package registry

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

func TestClientKey(t *testing.T) {
	tests := []struct {
		remote, want string
	}{
		{"192.0.2.7:51000", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:51000", "192.0.2.7"},
		// One subscriber's /64 is one client, whichever address of it they use.
		{"[2001:db8:1:2:aaaa::1]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb::9]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:3::1]:443", "2001:db8:1:3::/64"},
		{"not an address", "not an address"},
	}
	for _, tt := range tests {
		t.Run(tt.remote, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if got := clientKey(r); got != tt.want {
				t.Fatalf("clientKey(%q) = %q, want %q", tt.remote, got, tt.want)
			}
		})
	}
}

// TestClientLimiterIsBounded: a flood of addresses keeps at most max buckets, forgetting the
// least recently seen, and a client that keeps coming back stays limited.
func TestClientLimiterIsBounded(t *testing.T) {
	now := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	l := newClientLimiter(Rate{PerSecond: 1, Burst: 1}, 100)
	if _, ok := l.allow("regular", now); !ok {
		t.Fatal("first request refused")
	}
	for i := range 10000 {
		if _, ok := l.allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256), now); !ok {
			t.Fatalf("a new client %d refused", i)
		}
		if i%50 == 0 { // the regular client keeps asking, and stays remembered and limited
			if wait, ok := l.allow("regular", now); ok || wait != time.Second {
				t.Fatalf("regular client after %d others: ok %v wait %v, want refused for 1s", i, ok, wait)
			}
		}
		if n, m := l.order.Len(), len(l.byKey); n > 100 || m != n {
			t.Fatalf("%d buckets, %d keys; at most 100", n, m)
		}
	}
	if _, ok := l.allow("regular", now.Add(time.Second)); !ok {
		t.Fatal("regular client refused after its wait")
	}
}

func TestOpenRegistrations(t *testing.T) {
	now := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	ttl := 10 * time.Minute
	tests := []struct {
		name  string
		regs  []Registration
		open  int
		waitS int
	}{
		{"None", nil, 0, 0},
		{"PendingValidQR", []Registration{{Status: RegPending, CreatedAt: now.Add(-4 * time.Minute)}}, 1, 360},
		{"PendingExpiredQR", []Registration{{Status: RegPending, CreatedAt: now.Add(-ttl)}}, 0, 0},
		{"ApprovedCodeValid", []Registration{{Status: RegApproved, CodeExpires: now.Add(time.Hour)}}, 1, 3600},
		{"ApprovedCodeExpired", []Registration{{Status: RegApproved, CodeExpires: now}}, 0, 0},
		{"ClosedStates", []Registration{{Status: RegActivated, CreatedAt: now}, {Status: RegRevoked, CreatedAt: now},
			{Status: RegDeactivated, CreatedAt: now}}, 0, 0},
		{"EarliestClosing", []Registration{{Status: RegApproved, CodeExpires: now.Add(time.Hour)},
			{Status: RegPending, CreatedAt: now.Add(-9 * time.Minute)}, {Status: RegPending, CreatedAt: now}}, 3, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, wait := openRegistrations(tt.regs, now, ttl)
			if n != tt.open || wait != time.Duration(tt.waitS)*time.Second {
				t.Fatalf("open %d wait %v, want %d and %ds", n, wait, tt.open, tt.waitS)
			}
		})
	}
}
