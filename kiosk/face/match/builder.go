package match

import (
	"fmt"
	"slices"
)

// IndexBuilder makes an Index from references read one at a time (a snapshot read row by
// row), projecting them in batches as they come: unlike NewIndex it never holds a slice of
// every reference beside the index, which at 200,000 references doubled the kiosk's peak
// memory while the index was built.
type IndexBuilder struct {
	ix      *Index
	pending []Reference
	err     error
}

// builderBatch is how many references are projected at once, in parallel.
const builderBatch = 8192

// NewIndexBuilder starts an index for about n references (a hint: more may be added).
func NewIndexBuilder(c *Calibration, n int) *IndexBuilder {
	checks := (c.rows - 1) / block
	n = max(n, 0)
	return &IndexBuilder{
		ix: &Index{cal: c, dim: c.rows, checks: checks, keys: make([]string, 0, n),
			vecs: make([]uint16, 0, n*c.rows), tails: make([]float32, 0, n*checks)},
		pending: make([]Reference, 0, min(max(n, 1), builderBatch)),
	}
}

// Add adds a reference. A NaN or infinite value is an error naming it, as in NewIndex; the
// builder then refuses everything after it.
func (b *IndexBuilder) Add(key string, d Descriptor) error {
	if b.err != nil {
		return b.err
	}
	if err := d.Validate(); err != nil {
		b.err = fmt.Errorf("index reference %d (%s): %w", len(b.ix.keys)+len(b.pending), key, err)
		return b.err
	}
	b.pending = append(b.pending, Reference{Key: key, Descriptor: d})
	if len(b.pending) == builderBatch {
		b.flush()
	}
	return nil
}

// flush projects the pending references onto the end of the index.
func (b *IndexBuilder) flush() {
	ix, refs := b.ix, b.pending
	start := len(ix.keys)
	for _, r := range refs {
		ix.keys = append(ix.keys, r.Key)
	}
	// Every value is written below, so growing in place needs no temporary slice.
	ix.vecs = slices.Grow(ix.vecs, len(refs)*ix.dim)[:len(ix.vecs)+len(refs)*ix.dim]
	ix.tails = slices.Grow(ix.tails, len(refs)*ix.checks)[:len(ix.tails)+len(refs)*ix.checks]
	ix.project(refs, start)
	clear(b.pending) // drop the keys for the collector
	b.pending = b.pending[:0]
}

// Index returns the index of everything added; the builder must not be used after.
func (b *IndexBuilder) Index() (*Index, error) {
	if b.err != nil {
		return nil, b.err
	}
	b.flush()
	ix := b.ix
	b.ix = nil
	return ix, nil
}
