package sqlstore

import (
	"context"
	"errors"
)

// deferringTx holds writes whose outcome the transaction reads only from memory (a new code's
// registration update and its mail: the registration is locked and kept current in tx.locked)
// and sends them ahead of the transaction's next statement, in the same round trip where that
// is a pipeline, or before the commit. An accepted activation then costs no round trip of its
// own. A held write's error comes from that later call, and again from the commit, which it
// refuses: a caller that takes the error for its own read's cannot commit the failed write.
type deferringTx struct {
	dbTx
	held   []heldStmt
	failed error // a held write's error
}

type heldStmt struct {
	stmt
	check func(affected int64) error // the error the write's caller would have had
}

func (d *deferringTx) hold(s stmt, check func(affected int64) error) {
	d.held = append(d.held, heldStmt{s, check})
}

// send runs the held statements and then more in one pipeline and returns more's counts.
func (d *deferringTx) send(ctx context.Context, more []stmt) ([]int64, error) {
	if len(d.held) == 0 {
		return d.dbTx.pipeline(ctx, more)
	}
	held := d.held
	d.held = nil
	all := make([]stmt, 0, len(held)+len(more))
	for _, h := range held {
		all = append(all, h.stmt)
	}
	n, err := d.dbTx.pipeline(ctx, append(all, more...))
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(held))
	for i, h := range held {
		errs[i] = h.check(n[i])
	}
	if err := errors.Join(errs...); err != nil {
		d.failed = err
		return nil, err
	}
	return n[len(held):], nil
}

func (d *deferringTx) flush(ctx context.Context) error {
	if len(d.held) == 0 {
		return nil
	}
	_, err := d.send(ctx, nil)
	return err
}

func (d *deferringTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	if err := d.flush(ctx); err != nil {
		return 0, err
	}
	return d.dbTx.exec(ctx, q, args...)
}

func (d *deferringTx) query(ctx context.Context, q string, args ...any) (rows, error) {
	if err := d.flush(ctx); err != nil {
		return nil, err
	}
	return d.dbTx.query(ctx, q, args...)
}

func (d *deferringTx) queryRow(ctx context.Context, q string, args ...any) row {
	if err := d.flush(ctx); err != nil {
		return errRow{err}
	}
	return d.dbTx.queryRow(ctx, q, args...)
}

func (d *deferringTx) batch(ctx context.Context, q string, args [][]any) ([]int64, error) {
	if len(d.held) == 0 {
		return d.dbTx.batch(ctx, q, args)
	}
	return d.send(ctx, repeated(q, args))
}

func (d *deferringTx) pipeline(ctx context.Context, stmts []stmt) ([]int64, error) {
	return d.send(ctx, stmts)
}

func (d *deferringTx) commit(ctx context.Context) error {
	if err := d.flush(ctx); err != nil {
		return err
	}
	if d.failed != nil {
		return d.failed
	}
	return d.dbTx.commit(ctx)
}
