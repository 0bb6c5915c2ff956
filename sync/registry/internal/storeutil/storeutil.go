// Package storeutil holds what the registry's store drivers share beyond SQL.
package storeutil

import (
	"slices"

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
