package main

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/ikd-field/ikd/kiosk"
	ikdsync "github.com/ikd-field/ikd/sync"
)

func runCode(ctx context.Context, e env) error {
	return subcommand(ctx, e, "code", map[string]func(context.Context, env) error{
		"reissue": codeReissue,
	})
}

// codeReissue queues a request for a new activation code of a registration this kiosk's
// officer approved, for support staff helping a citizen whose code expired or was burned.
// The officer signs in with their PIN: the record is signed in their name. The next sync
// sends it; the registry decides and mails the citizen.
func codeReissue(ctx context.Context, e env) error {
	fs := newFlags("code reissue", e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	regID := fs.String("registration", "", "the registration id (required)")
	nikText := fs.String("nik", "", "the registration's NIK (required)")
	officerID := fs.String("officer", "", "the officer's id (required)")
	pinFile := fs.String("pin-file", "", "file holding the officer's PIN (required)")
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if *regID == "" || *nikText == "" || *officerID == "" || fs.NArg() != 0 {
		return usageError("code reissue --data DIR --registration ID --nik NIK --officer ID --pin-file P")
	}
	nik, err := kiosk.ParseNIK(*nikText)
	if err != nil {
		return err
	}
	s, o, err := signIn(ctx, *data, *secretFile, *officerID, *pinFile)
	if err != nil {
		return err
	}
	defer s.Close()
	sealer, err := ikdsync.NewSealer(s.KioskID(), s.DeviceKey())
	if err != nil {
		return err
	}
	deps := kiosk.Deps{Outbox: s, Audit: s, Sealer: sealer, Clock: storeClock(s.Now), IDs: uuidIDs{}, KioskID: s.KioskID()}
	rec, err := kiosk.ReissueCode(ctx, deps, o, *regID, nik)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "queued code re-issue %s for registration %s (NIK %s) by %s; run ikdctl sync to send it\n",
		rec.ID, *regID, nik.Masked(), o.ID)
	return nil
}

// storeClock is the store's anchored clock as a kiosk.Clock.
type storeClock func() time.Time

func (f storeClock) Now() time.Time { return f() }

// uuidIDs gives record ids as UUIDv7, as the kiosk app does.
type uuidIDs struct{}

func (uuidIDs) NewID() string { return uuid.Must(uuid.NewV7()).String() }
