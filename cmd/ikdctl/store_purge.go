package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"time"

	"github.com/ikd-field/ikd/kiosk/store"
)

// storePurge erases the evidence the kiosk no longer needs (store.Purge): records the
// registry answered more than the retention period ago lose their sealed envelope and NIK
// index, old audit entries their detail; ids, states and the audit hash chain stay, and
// `ikdctl store verify` still passes. --dry-run only counts.
func storePurge(ctx context.Context, e env) error {
	const name = "store purge"
	fs := newFlags(name, e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	dryRun := fs.Bool("dry-run", false, "say what would be purged, change nothing")
	days := fs.Int("retention-days", 0,
		"keep the evidence of a record this many days after the registry answered it (default: the supervisor's setting, else 30)")
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "retention-days" })
	// More days than a Duration holds would wrap round to a short retention and purge
	// evidence the supervisor meant to keep.
	tooLong := int64(*days) > int64(math.MaxInt64/(24*time.Hour))
	if fs.NArg() != 0 || *days < 0 || (given && *days < 1) || tooLong {
		return usageError(name + " --data DIR [--secret-file F] [--retention-days N (N >= 1)] [--dry-run]")
	}
	secret, err := readSecret(*secretFile)
	if err != nil {
		return err
	}
	s, err := store.Open(ctx, storePath(*data), secret, storeOptions())
	if err != nil {
		return err
	}
	defer s.Close()
	retention := time.Duration(*days) * 24 * time.Hour
	if *days == 0 {
		// The period the supervisor set on the kiosk, as the kiosk's own purge uses it.
		l, err := s.Limits(ctx)
		if err != nil {
			return err
		}
		if retention = l.Retention; retention == 0 {
			retention = store.DefaultRetention
		}
	}
	rep, err := s.Purge(ctx, retention, *dryRun)
	if err != nil {
		return err
	}
	verb := "purged"
	if *dryRun {
		verb = "would purge"
	}
	fmt.Fprintf(e.stdout, "%s: evidence of %d answered records (envelope, NIK index), detail of %d audit entries; answered before %s\n",
		verb, rep.Records, rep.AuditDetails, rep.Before.UTC().Format(time.RFC3339))
	if rep.TamperedSkips > 0 {
		fmt.Fprintf(e.stdout, "left alone: %d records that fail their integrity check (run ikdctl store verify)\n", rep.TamperedSkips)
	}
	return nil
}
