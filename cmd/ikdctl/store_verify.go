package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/store"
)

// kioskIDEnv names the kiosk id a deployment expects the store to belong to (optional).
const kioskIDEnv = "IKD_KIOSK_ID"

// storeOptions are the options every command opens the store with (app.StoreOptions), with
// the kiosk id the deployment expects, if it sets one.
func storeOptions() store.Options { return app.StoreOptions(os.Getenv(kioskIDEnv)) }

func runStore(ctx context.Context, e env) error {
	return subcommand(ctx, e, "store", map[string]func(context.Context, env) error{
		"verify":   storeVerify,
		"reanchor": storeReanchor,
		"purge":    storePurge,
	})
}

// storeVerify checks every authenticated row, the audit chain and the roll-back anchor, and
// names the first bad row of each table. It only reads: the store is opened read-only, so a
// check can never change the evidence (the registry learns how far the store has grown from
// the audit head every push carries).
func storeVerify(ctx context.Context, e env) error {
	path, secret, err := storeArgs(e, "store verify")
	if err != nil {
		return err
	}
	rep, err := store.Verify(ctx, path, secret, storeOptions())
	if err != nil {
		return err
	}
	for _, t := range rep.Tables {
		if len(t.Bad) == 0 {
			fmt.Fprintf(e.stdout, "%-14s ok (%d rows)\n", t.Table, t.Rows)
			continue
		}
		fmt.Fprintf(e.stdout, "%-14s BAD: %d of %d rows; first: %s %s: %s\n", t.Table, len(t.Bad), t.Rows,
			t.Table, t.Bad[0].Row, t.Bad[0].Reason)
	}
	var ce *store.ChainError
	switch {
	case rep.Audit == nil:
		fmt.Fprintf(e.stdout, "%-14s ok (%d entries)\n", "audit", rep.AuditEntries)
	case errors.As(rep.Audit, &ce):
		fmt.Fprintf(e.stdout, "%-14s BAD: first broken entry %d: %s\n", "audit", ce.Entry, ce.Reason)
	default:
		fmt.Fprintf(e.stdout, "%-14s BAD: %v\n", "audit", rep.Audit)
	}
	if rep.Anchor != nil {
		fmt.Fprintf(e.stdout, "%-14s BAD: %v\n", "anchor", errors.Unwrap(rep.Anchor))
	} else {
		fmt.Fprintf(e.stdout, "%-14s ok\n", "anchor")
	}
	if !rep.OK() {
		return &exitError{code: 1, err: errors.New("the kiosk store fails verification: " +
			kiosk.OfficerMessage(store.ErrTampered, kiosk.LangEN))}
	}
	return nil
}

// storeReanchor accepts the database as it stands against a missing or newer anchor file,
// for an operator who restored a backup on purpose: the reset is recorded in the audit log
// and a checkpoint is queued. The registry, which has seen the newer head, still refuses the
// kiosk's next push (audit.rollback).
func storeReanchor(ctx context.Context, e env) error {
	path, secret, err := storeArgs(e, "store reanchor")
	if err != nil {
		return err
	}
	opts := storeOptions()
	opts.Reanchor = true
	s, err := store.Open(ctx, path, secret, opts)
	if err != nil {
		return err
	}
	defer s.Close()
	c, err := s.Checkpoint(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "anchor matches the database; checkpoint %s queued (audit entry %d, outbox record %d)\n",
		c.ID, c.AuditSeq, c.OutboxSeq)
	return nil
}

// storeArgs parses the flags of the store subcommands: the store's path and the unlock secret.
func storeArgs(e env, name string) (path string, secret []byte, err error) {
	fs := newFlags(name, e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	if err := fs.Parse(e.args); err != nil {
		return "", nil, err
	}
	if fs.NArg() != 0 {
		return "", nil, usageError(name + " --data DIR [--secret-file F]")
	}
	secret, err = readSecret(*secretFile)
	return storePath(*data), secret, err
}
