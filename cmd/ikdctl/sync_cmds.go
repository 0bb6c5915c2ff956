package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/store"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// runEnroll registers the kiosk's device key with the registry and remembers the registry.
func runEnroll(ctx context.Context, e env) error {
	fs := newFlags("enroll", e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	registryURL := fs.String("registry", "", "the registry's URL, e.g. https://registry.example.go.id")
	code := fs.String("code", "", "the one-time enrollment code from `ikd-registry enroll-code`")
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if *registryURL == "" || *code == "" || fs.NArg() != 0 {
		return usageError("enroll --data DIR --registry URL --code CODE")
	}
	s, err := openStore(ctx, *data, *secretFile)
	if err != nil {
		return err
	}
	defer s.Close()
	en, err := app.Enroll(ctx, s, *registryURL, *code, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "enrolled kiosk %s for %s at %s; %d registry key(s) trusted\n",
		s.KioskID(), en.Area, *registryURL, en.Keys)
	return nil
}

// runSync runs one sync round (`sync`), shows the queue and link (`sync status`) or resends
// acknowledged records after a registry restore (`sync resend`).
func runSync(ctx context.Context, e env) error {
	if len(e.args) > 0 && e.args[0] == "status" {
		return syncStatus(ctx, env{args: e.args[1:], stdout: e.stdout, stderr: e.stderr})
	}
	if len(e.args) > 0 && e.args[0] == "resend" {
		return syncResend(ctx, env{args: e.args[1:], stdout: e.stdout, stderr: e.stderr})
	}
	fs := newFlags("sync", e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	timeout := fs.Duration("timeout", 10*time.Minute, "give up the round after this long")
	batch := fs.Int("batch", ikdsync.DefaultBatch, fmt.Sprintf("records per push request, 1 to %d", ikdsync.MaxBatch))
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if *batch < 1 || *batch > ikdsync.MaxBatch || fs.NArg() != 0 {
		return usageError("sync --data DIR [--batch N (1 to %d)] [--timeout D]", ikdsync.MaxBatch)
	}
	s, err := openStore(ctx, *data, *secretFile)
	if err != nil {
		return err
	}
	defer s.Close()
	engine, err := newEngine(ctx, s, nil, *batch)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	r, _ := engine.Round(ctx) // each lane's error is reported below, after what went through
	c := r.Pull.Counts
	fmt.Fprintf(e.stdout, "push: sent %d, acknowledged %d, rejected %d\n", r.Push.Sent, r.Push.Acknowledged, r.Push.Rejected)
	fmt.Fprintf(e.stdout, "pull: %d page(s), residents +%d ~%d -%d, officers updated %d (skipped %d), keys %d\n",
		r.Pull.Pages, c.ResidentsAdded, c.ResidentsUpdated, c.ResidentsRemoved, c.OfficersUpdated, c.OfficersSkipped, c.Keys)
	fmt.Fprintf(e.stdout, "pending: %d\n", engine.Status().Pending)
	lang := kiosk.ParseLang(os.Getenv("LANG"))
	var errs []error
	for lane, err := range map[string]error{"push": r.PushErr, "pull": r.PullErr} {
		if err != nil {
			fmt.Fprintf(e.stderr, "%s failed: %s\n", lane, kiosk.OfficerMessage(err, lang))
			errs = append(errs, fmt.Errorf("%s: %w", lane, err))
		}
	}
	if len(errs) > 0 {
		return &exitError{code: 1, err: errors.Join(errs...)}
	}
	return nil
}

// syncResend sends the acknowledged records made since a time to the registry again, after
// its database was restored to an earlier point (see app.Resend).
func syncResend(ctx context.Context, e env) error {
	fs := newFlags("sync resend", e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	sinceText := fs.String("since", "", "records made at or after this time, RFC 3339 (the restore target, less a margin)")
	batch := fs.Int("batch", ikdsync.DefaultBatch, fmt.Sprintf("records per push request, 1 to %d", ikdsync.MaxBatch))
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	since, err := time.Parse(time.RFC3339, *sinceText)
	if err != nil || *batch < 1 || *batch > ikdsync.MaxBatch || fs.NArg() != 0 {
		return usageError("sync resend --data DIR --since 2006-01-02T15:04:05+07:00 [--batch N (1 to %d)]", ikdsync.MaxBatch)
	}
	s, err := openStore(ctx, *data, *secretFile)
	if err != nil {
		return err
	}
	defer s.Close()
	url, err := enrolledURL(ctx, s)
	if err != nil {
		return err
	}
	r, err := app.Resend(ctx, s, url, nil, since, *batch)
	fmt.Fprintf(e.stdout, "resend: sent %d, accepted again %d, duplicate %d, rejected %d\n", r.Sent, r.Accepted, r.Duplicate, r.Rejected)
	for _, rej := range r.Rejections {
		fmt.Fprintf(e.stdout, "rejected %s\n", rej)
	}
	return err
}

// newEngine builds the sync engine for an enrolled store.
func newEngine(ctx context.Context, s *store.Store, hc *http.Client, batch int) (*ikdsync.Engine, error) {
	url, err := enrolledURL(ctx, s)
	if err != nil {
		return nil, err
	}
	return app.NewSyncEngine(s, url, hc, nil, batch)
}

// enrolledURL is the registry an enrolled store syncs with; not enrolled is a usage error.
func enrolledURL(ctx context.Context, s *store.Store) (string, error) {
	url, err := s.RegistryURL(ctx)
	if err != nil {
		return "", err
	}
	if url == "" {
		return "", &exitError{code: 2, err: errors.New("this kiosk is not enrolled: run ikdctl enroll --registry URL --code CODE")}
	}
	return url, nil
}

func syncStatus(ctx context.Context, e env) error {
	fs := newFlags("sync status", e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	s, err := openStore(ctx, *data, *secretFile)
	if err != nil {
		return err
	}
	defer s.Close()
	url, err := s.RegistryURL(ctx)
	if err != nil {
		return err
	}
	if url == "" {
		url = "(not enrolled)"
	}
	counts, countErr := s.RecordCounts(ctx)
	if countErr != nil && !errors.Is(countErr, store.ErrTampered) {
		return countErr
	}
	cursor, err := s.SnapshotCursor(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "kiosk %s, registry %s, snapshot cursor %q\n", s.KioskID(), url, cursor)
	fmt.Fprintf(e.stdout, "pending %d sent %d acknowledged %d rejected %d\n", counts[kiosk.RecordPending],
		counts[kiosk.RecordSent], counts[kiosk.RecordAcknowledged], counts[kiosk.RecordRejected])
	halt, err := s.SyncHalt(ctx)
	if err != nil {
		return err
	}
	if halt != "" {
		fmt.Fprintf(e.stdout, "SYNC HALTED: %s\n", kiosk.OfficerMessage(ikdsync.ErrorForCode(halt), kiosk.ParseLang(os.Getenv("LANG"))))
	}
	rejected, err := s.Records(ctx, kiosk.RecordRejected, 20)
	if err != nil && !errors.Is(err, store.ErrTampered) {
		return err
	}
	for _, r := range rejected {
		fmt.Fprintf(e.stdout, "rejected %s %s: %s\n", r.Kind, r.ID, r.Answer)
	}
	return countErr
}
