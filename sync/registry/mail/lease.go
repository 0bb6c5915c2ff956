package mail

import (
	"context"
	"sync"
	"time"
)

// leaseKeeper keeps a claimed batch's lease while the Worker sends it. The lease is short
// (a process that dies holding mails delays them by at most one lease) and this keeper
// renews it every RenewEvery, moving it from the value it holds to a new one (Queue.Renew),
// so a mail whose lease ran out and was claimed by another Worker is never renewed back.
// A mail it finds lost is not sent; a send in progress is cancelled when its mail is lost or
// when renewals fail until the lease is about to end, before another Worker may claim it.
type leaseKeeper struct {
	w *Worker

	mu     sync.Mutex
	held   map[string]bool // unsent mails of the batch this Worker still holds
	lost   map[string]bool // mails whose lease was lost while held
	until  time.Time       // the lease of every held mail: claimed and renewed together
	cur    string          // the mail being sent, "" between sends
	cancel context.CancelFunc

	stop chan struct{}
	done chan struct{}
}

// keepLease starts renewing the lease (until) of mails; Close stops it.
func (w *Worker) keepLease(ctx context.Context, mails []Mail, until time.Time) *leaseKeeper {
	k := &leaseKeeper{w: w, held: map[string]bool{}, lost: map[string]bool{}, until: until,
		stop: make(chan struct{}), done: make(chan struct{})}
	for _, m := range mails {
		k.held[m.ID] = true
	}
	go k.run(ctx)
	return k
}

func (k *leaseKeeper) run(ctx context.Context) {
	defer close(k.done)
	t := time.NewTicker(k.w.renewEvery())
	defer t.Stop()
	for {
		select {
		case <-k.stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			k.renew(ctx)
		}
	}
}

// margin is how close to its end a lease may come before this Worker stops relying on it:
// a third of it, room for a renewal that is late.
func (k *leaseKeeper) margin() time.Duration { return k.w.lease() / 3 }

func (k *leaseKeeper) renew(ctx context.Context) {
	k.mu.Lock()
	ids := make([]string, 0, len(k.held))
	for id := range k.held {
		ids = append(ids, id)
	}
	from := k.until
	k.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	to := k.w.now().Add(k.w.lease())
	rctx, cancel := context.WithTimeout(ctx, k.margin())
	got, err := k.w.Queue.Renew(rctx, ids, from, to)
	cancel()

	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		k.w.log().Warn("mail lease not renewed", "mails", len(ids), "err", err)
		if !k.w.now().Before(k.until.Add(-k.margin())) {
			// Another Worker may claim these soon: stop sending them.
			for id := range k.held {
				k.loseLocked(id)
			}
		}
		return
	}
	renewed := make(map[string]bool, len(got))
	for _, id := range got {
		renewed[id] = true
	}
	for _, id := range ids {
		if !renewed[id] && k.held[id] {
			k.loseLocked(id)
		}
	}
	k.until = to
}

func (k *leaseKeeper) loseLocked(id string) {
	delete(k.held, id)
	k.lost[id] = true
	if id == k.cur && k.cancel != nil {
		k.cancel()
	}
	k.w.log().Warn("mail lease lost; leaving the mail to whoever claims it", "mail", id)
}

// begin returns the context to send mail id in, cancelled if its lease is lost, or false
// when this Worker no longer holds the mail long enough to start sending it.
func (k *leaseKeeper) begin(ctx context.Context, id string) (context.Context, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.held[id] || !k.w.now().Before(k.until.Add(-k.margin())) {
		return nil, false
	}
	sctx, cancel := context.WithCancel(ctx)
	k.cur, k.cancel = id, cancel
	return sctx, true
}

// end stops renewing mail id, whose send is over, and reports whether its lease was lost
// during the send.
func (k *leaseKeeper) end(id string) (lost bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cancel != nil {
		k.cancel()
	}
	k.cur, k.cancel = "", nil
	delete(k.held, id)
	return k.lost[id]
}

// Close stops the renewals. Mails still held keep their lease until it ends.
func (k *leaseKeeper) Close() {
	close(k.stop)
	<-k.done
}
