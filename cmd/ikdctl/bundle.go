package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store"
	ikdsync "github.com/ikd-field/ikd/sync"
)

// runBundle carries records and changes on a USB stick (see sync/bundle.go): the kiosk's
// half of `ikd-registry bundle import|changes`.
func runBundle(ctx context.Context, e env) error {
	return subcommand(ctx, e, "bundle", map[string]func(context.Context, env) error{
		"export":  bundleExport,
		"answers": bundleAnswers,
		"apply":   bundleApply,
	})
}

// openEnrolled opens the store of an enrolled kiosk.
func openEnrolled(ctx context.Context, data, secretFile string) (*store.Store, error) {
	s, err := openStore(ctx, data, secretFile)
	if err != nil {
		return nil, err
	}
	url, err := s.RegistryURL(ctx)
	if err == nil && url == "" {
		err = &exitError{code: 2, err: errors.New("this kiosk is not enrolled: run ikdctl enroll --registry URL --code CODE")}
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// bundleExport writes the records the registry has not answered as an outbox bundle. They
// stay pending: a lost stick loses nothing, and the next export carries them again.
func bundleExport(ctx context.Context, e env) error {
	fs := newFlags("bundle export", e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	out := fs.String("out", "", "the bundle file to write (on the stick)")
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return usageError("bundle export --data DIR --out FILE")
	}
	s, err := openEnrolled(ctx, *data, *secretFile)
	if err != nil {
		return err
	}
	defer s.Close()
	x, err := ikdsync.ExportOutbox(ctx, s)
	if err != nil {
		return err
	}
	if x.LeftOut != nil {
		fmt.Fprintf(e.stderr, "bundle export: records left out: %v\n", x.LeftOut)
	}
	if x.Bundle == nil {
		fmt.Fprintln(e.stdout, "no records wait for the registry; no bundle written")
		return nil
	}
	if err := ikdsync.WriteBundleFile(*out, x.Bundle); err != nil {
		return err
	}
	m := x.Manifest
	fmt.Fprintf(e.stdout, "bundle %s of kiosk %s: %d records%s, outbox %d to %d, %d bytes, written to %s\n",
		m.BundleID, m.KioskID, x.Records, kindList(m.Counts), m.FirstSeq, m.LastSeq, len(x.Bundle), *out)
	fmt.Fprintln(e.stdout, "the records stay pending until the registry's answers are applied (ikdctl bundle answers)")
	return nil
}

// trusted is the store's trust as sync.TrustedKey.
func trusted(ctx context.Context, s *store.Store) ikdsync.TrustedKey {
	return func(kid string) (kiosk.RegistryKey, error) { return s.RegistryKey(ctx, kid) }
}

// readStick parses the flags of `bundle NAME --data DIR --in FILE` and returns the enrolled
// kiosk's store (the caller closes it) and the file's bytes.
func readStick(ctx context.Context, e env, name, inHelp string) (*store.Store, []byte, error) {
	fs := newFlags("bundle "+name, e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	in := fs.String("in", "", inHelp)
	if err := fs.Parse(e.args); err != nil {
		return nil, nil, err
	}
	if *in == "" || fs.NArg() != 0 {
		return nil, nil, usageError("bundle " + name + " --data DIR --in FILE")
	}
	s, err := openEnrolled(ctx, *data, *secretFile)
	if err != nil {
		return nil, nil, err
	}
	b, err := ikdsync.ReadBundleFile(*in)
	if err != nil {
		return nil, nil, errors.Join(err, s.Close())
	}
	return s, b, nil
}

// bundleAnswers applies the registry's answers to an outbox bundle.
func bundleAnswers(ctx context.Context, e env) error {
	s, b, err := readStick(ctx, e, "answers", "the answers file from `ikd-registry bundle import`")
	if err != nil {
		return err
	}
	defer s.Close()
	a, err := ikdsync.OpenAnswers(b, s.KioskID(), trusted(ctx, s))
	if err != nil {
		return err
	}
	r, err := ikdsync.ApplyAnswers(ctx, s, a)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "answers of bundle %s: %d records, acknowledged %d, rejected %d\n", a.BundleID, r.Sent, r.Acknowledged, r.Rejected)
	// What still waits, by kind (records approved after the export, or a periodic audit
	// checkpoint), leaves with the next stick or sync.
	left, err := s.ToSend(ctx, ikdsync.MaxBundleRecords)
	if err != nil && len(left) == 0 {
		return err
	}
	byKind := map[string]int{}
	for _, rec := range left {
		byKind[string(rec.Kind)]++
	}
	fmt.Fprintf(e.stdout, "pending: %d%s\n", len(left), kindList(byKind))
	return err
}

// kindList is " (kind n, ...)" of counts by kind, "" for none.
func kindList(counts map[string]int) string {
	if len(counts) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// bundleApply applies a changes bundle from the registry.
func bundleApply(ctx context.Context, e env) error {
	s, b, err := readStick(ctx, e, "apply", "the changes file from `ikd-registry bundle changes`")
	if err != nil {
		return err
	}
	defer s.Close()
	c, err := ikdsync.OpenChanges(b, trusted(ctx, s))
	if err != nil {
		return err
	}
	area, err := s.RegistryArea(ctx)
	if err != nil {
		return err
	}
	r, err := ikdsync.ApplyChanges(ctx, s, area, c, nil)
	if err != nil {
		return err
	}
	cursor, err := s.SnapshotCursor(ctx)
	if err != nil {
		return err
	}
	n := r.Counts
	fmt.Fprintf(e.stdout, "changes of %s %d to %d: %d page(s), residents +%d ~%d -%d, officers updated %d (skipped %d), keys %d; cursor %s\n",
		c.Area, c.Since, c.Until, r.Pages, n.ResidentsAdded, n.ResidentsUpdated, n.ResidentsRemoved, n.OfficersUpdated, n.OfficersSkipped, n.Keys, cursor)
	return nil
}
