package main

import (
	"context"
	"fmt"
)

// officerUnlock lifts the lockout of an officer who reached the last lockout, which only a
// supervisor can: the supervisor signs in with their PIN first.
func officerUnlock(ctx context.Context, e env) error {
	fs := newFlags("officer unlock", e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	id := fs.String("id", "", "the locked officer's id (required)")
	by := fs.String("by", "", "the supervisor's officer id (required)")
	pinFile := fs.String("pin-file", "", "file holding the supervisor's PIN (required)")
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if *id == "" || *by == "" || fs.NArg() != 0 {
		return usageError("officer unlock --data DIR --id ID --by SUPERVISOR --pin-file P")
	}
	s, sup, err := signIn(ctx, *data, *secretFile, *by, *pinFile)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.UnlockOfficer(ctx, sup, *id); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "unlocked %s (by %s)\n", *id, sup.ID)
	return nil
}
