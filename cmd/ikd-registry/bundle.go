package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"time"

	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
)

const bundleUsage = "usage: ikd-registry bundle import --db DB --key FILE --in BUNDLE --answers OUT | " +
	"bundle changes --db DB --key FILE --area KECAMATAN [--since CURSOR] --out FILE"

// bundleCmd carries records and changes on a USB stick (see sync/bundle.go).
func bundleCmd(ctx context.Context, sub string, args []string, out io.Writer, log *slog.Logger) error {
	switch sub {
	case "import":
		return bundleImport(ctx, args, out, log)
	case "changes":
		return bundleChanges(ctx, args, out, log)
	}
	return errors.New(bundleUsage)
}

// bundleServer opens the database and the key a bundle command needs.
func bundleServer(ctx context.Context, fs *flag.FlagSet, args []string, log *slog.Logger) (*registry.Server, registry.BundleKey, func(), error) {
	keyFile := fs.String("key", "", "registry signing key (PEM, as `serve` uses)")
	codeTTL := fs.Duration("code-ttl", registry.DefaultCodeTTL, "lifetime of e-mailed activation codes")
	st, rest, err := openDB(ctx, fs, args)
	if err != nil {
		return nil, registry.BundleKey{}, nil, err
	}
	fail := func(err error) (*registry.Server, registry.BundleKey, func(), error) {
		st.Close()
		return nil, registry.BundleKey{}, nil, err
	}
	if len(rest) != 0 || *keyFile == "" {
		return fail(errors.New(bundleUsage))
	}
	kid, key, codeKey, err := readRegistryKey(*keyFile)
	if err != nil {
		return fail(err)
	}
	srv := &registry.Server{Store: st, CodeKey: codeKey, CodeTTL: *codeTTL, Now: time.Now, Log: log}
	return srv, registry.BundleKey{KeyID: kid, Key: key}, func() { st.Close() }, nil
}

func bundleImport(ctx context.Context, args []string, out io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("bundle import", flag.ContinueOnError)
	in := fs.String("in", "", "the outbox bundle from `ikdctl bundle export`")
	answersOut := fs.String("answers", "", "where to write the signed answers for `ikdctl bundle answers`")
	srv, key, done, err := bundleServer(ctx, fs, args, log)
	if err != nil {
		return err
	}
	defer done()
	if *in == "" || *answersOut == "" {
		return errors.New(bundleUsage)
	}
	b, err := ikdsync.ReadBundleFile(*in)
	if err != nil {
		return err
	}
	answers, rep, err := srv.ImportBundle(ctx, b, key)
	if err != nil {
		return err
	}
	if err := ikdsync.WriteBundleFile(*answersOut, answers); err != nil {
		return err
	}
	m := rep.Manifest
	fmt.Fprintf(out, "bundle %s of kiosk %s: %d records (outbox %d to %d)\n", m.BundleID, m.KioskID,
		rep.Accepted+rep.Duplicate+rejected(rep), m.FirstSeq, m.LastSeq)
	fmt.Fprintf(out, "accepted %d duplicate %d rejected %d, code e-mails queued %d\n", rep.Accepted, rep.Duplicate, rejected(rep), rep.Mails)
	for _, code := range slices.Sorted(maps.Keys(rep.Rejected)) {
		fmt.Fprintf(out, "rejected %s: %d\n", code, rep.Rejected[code])
	}
	fmt.Fprintf(out, "answers written to %s\n", *answersOut)
	return nil
}

func rejected(rep registry.BundleReport) int {
	n := 0
	for _, c := range rep.Rejected {
		n += c
	}
	return n
}

func bundleChanges(ctx context.Context, args []string, out io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("bundle changes", flag.ContinueOnError)
	area := fs.String("area", "", "the kecamatan (or comma-separated list) the kiosk was enrolled for")
	since := fs.String("since", "", "the kiosk's snapshot cursor (`ikdctl sync status`); empty: everything")
	outFile := fs.String("out", "", "where to write the signed changes bundle for `ikdctl bundle apply`")
	srv, key, done, err := bundleServer(ctx, fs, args, log)
	if err != nil {
		return err
	}
	defer done()
	if *area == "" || *outFile == "" {
		return errors.New(bundleUsage)
	}
	var after int64
	if *since != "" {
		if after, err = strconv.ParseInt(*since, 10, 64); err != nil || after < 0 {
			return fmt.Errorf("--since %q: want a cursor as `ikdctl sync status` shows it", *since)
		}
	}
	b, c, err := srv.ChangesBundle(ctx, *area, after, key)
	if err != nil {
		return err
	}
	if err := ikdsync.WriteBundleFile(*outFile, b); err != nil {
		return err
	}
	var res, off, keys int
	for _, p := range c.Pages {
		res, off, keys = res+len(p.Residents), off+len(p.Officers), keys+len(p.Keys)
	}
	fmt.Fprintf(out, "changes of %s after %d up to %d: %d page(s), %d resident(s), %d officer(s), %d key(s), %d bytes, written to %s\n",
		c.Area, c.Since, c.Until, len(c.Pages), res, off, keys, len(b), *outFile)
	return nil
}
