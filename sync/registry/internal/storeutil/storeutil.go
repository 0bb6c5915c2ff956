// Package storeutil holds what the registry's store drivers share beyond SQL.
package storeutil

import (
	"context"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/ikd-field/ikd/sync/registry"
)

// TrimChanges cuts a page read as up to limit+1 rows of each kind (all after ch.Last) down to
// the limit lowest change numbers, setting Last and More.
func TrimChanges(ch registry.Changes, limit int) registry.Changes {
	var seqs []int64
	for _, r := range ch.Residents {
		seqs = append(seqs, r.Seq)
	}
	for _, o := range ch.Officers {
		seqs = append(seqs, o.Seq)
	}
	for _, k := range ch.Keys {
		seqs = append(seqs, k.Seq)
	}
	if len(seqs) == 0 {
		return ch
	}
	slices.Sort(seqs)
	cut := seqs[len(seqs)-1]
	if len(seqs) > limit {
		cut, ch.More = seqs[limit-1], true
	}
	ch.Last = cut
	ch.Residents = slices.DeleteFunc(ch.Residents, func(r registry.ResidentRow) bool { return r.Seq > cut })
	ch.Officers = slices.DeleteFunc(ch.Officers, func(o registry.OfficerRow) bool { return o.Seq > cut })
	ch.Keys = slices.DeleteFunc(ch.Keys, func(k registry.KeyRow) bool { return k.Seq > cut })
	return ch
}

// Backoff sleeps a jittered delay of about attempt×step before a transaction is retried, so
// transactions that conflicted do not meet again in step; it returns early when ctx ends.
func Backoff(ctx context.Context, attempt int, step time.Duration) error {
	d := time.Duration(attempt) * step
	d += rand.N(d)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// UnixNano is how the drivers store a time: Unix nanoseconds, the zero time as 0.
func UnixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromUnixNano reads what UnixNano stored, in UTC.
func FromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
