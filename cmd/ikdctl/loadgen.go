package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"path/filepath"

	"github.com/ikd-field/ikd/internal/loadgen"
	"github.com/ikd-field/ikd/internal/secretfile"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/storeopen"
)

// runLoadgen registers synthetic citizens and approves them through the kiosk workflow, so
// the kiosks' outboxes fill with real activation records for a load or fault test.
func runLoadgen(ctx context.Context, e env) error {
	fs := newFlags("loadgen", e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	registryURL := fs.String("registry", "", "the registry's citizen API URL (default: each kiosk's registry)")
	count := fs.Int("count", 0, "registrations to make, spread round-robin over the kiosks (required)")
	kiosks := fs.Int("kiosks", 1, "number of kiosks: more than 1 means --data holds kiosk-01 .. kiosk-K")
	officer := fs.String("officer", "", "officer id who approves (default: a fresh officer made for this run)")
	pinFile := fs.String("pin-file", "", "file holding the officer's PIN (with --officer)")
	seed := fs.Uint64("seed", 1, "seed of the synthetic population")
	offset := fs.Int("offset", 0, "index of the first synthetic resident")
	kecamatan := fs.String("kecamatan", loadgen.DefaultKecamatan, "the residents' kecamatan (the kiosks' area)")
	registryDB := fs.String("registry-db", "", "also add the residents to this registry database (sqlite:PATH or postgres://...)")
	dataKeyFile := fs.String("data-key-file", "", "the registry's data key file (with --registry-db)")
	tokenFile := fs.String("citizen-token-file", "", "file (mode 600) holding the registry's citizen API token (required)")
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if *count <= 0 || *kiosks < 1 || fs.NArg() != 0 || (*officer != "") != (*pinFile != "") || *tokenFile == "" {
		return usageError("loadgen --data DIR --count N --citizen-token-file T [--registry URL] [--kiosks K] [--officer ID --pin-file P] [--seed S] [--registry-db DSN --data-key-file F]")
	}
	citizenToken, err := secretfile.Read(*tokenFile)
	if err != nil {
		return fmt.Errorf("--citizen-token-file: %w", err)
	}
	var pin string
	if *officer != "" {
		if pin, err = readPIN(*pinFile); err != nil {
			return err
		}
	}
	var regDB registry.Store
	if *registryDB != "" {
		st, err := storeopen.OpenSealed(ctx, *registryDB, *dataKeyFile)
		if err != nil {
			return fmt.Errorf("--registry-db: %w", err)
		}
		defer st.Close()
		regDB = st
	}
	dirs := []string{*data}
	if *kiosks > 1 {
		dirs = dirs[:0]
		for k := 1; k <= *kiosks; k++ {
			dirs = append(dirs, filepath.Join(*data, fmt.Sprintf("kiosk-%02d", k)))
		}
	}
	var total, residents int
	for k, dir := range dirs {
		// Registration i goes to kiosk i mod K.
		n := *count / len(dirs)
		if k < *count%len(dirs) {
			n++
		}
		if n == 0 {
			continue
		}
		res, err := loadKiosk(ctx, dir, *secretFile, *officer, pin, loadgen.Config{RegistryURL: *registryURL,
			CitizenToken: string(bytes.TrimSpace(citizenToken)), Count: n, Offset: *offset + k, Stride: len(dirs), Seed: *seed, Kecamatan: *kecamatan, RegistryDB: regDB})
		if err != nil {
			return fmt.Errorf("kiosk %s: %w", dir, err)
		}
		fmt.Fprintf(e.stdout, "%s: %d registrations approved, %d residents added\n", dir, len(res.Registrations), res.ResidentsAdded)
		total += len(res.Registrations)
		residents += res.ResidentsAdded
	}
	fmt.Fprintf(e.stdout, "loadgen: %d registrations approved on %d kiosk(s), %d residents added\n", total, len(dirs), residents)
	return nil
}

// loadKiosk opens one kiosk store, logs the officer in and runs the load on it.
func loadKiosk(ctx context.Context, dir, secretFile, officerID, pin string, cfg loadgen.Config) (loadgen.Result, error) {
	s, err := openStore(ctx, dir, secretFile)
	if err != nil {
		return loadgen.Result{}, err
	}
	defer s.Close()
	if officerID == "" {
		if officerID, pin, err = loadOfficer(ctx, s); err != nil {
			return loadgen.Result{}, err
		}
	}
	o, err := s.Login(ctx, officerID, pin)
	if err != nil {
		return loadgen.Result{}, fmt.Errorf("log in %s: %w", officerID, err)
	}
	cfg.Store, cfg.Officer = s, o
	return loadgen.Run(ctx, cfg)
}

// loadOfficer adds an officer for this run with a random PIN that is never shown: a load run
// needs someone logged in, and no fixed PIN should exist on a kiosk.
func loadOfficer(ctx context.Context, s *store.Store) (id, pin string, err error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1e12))
	if err != nil {
		return "", "", err
	}
	m, err := rand.Int(rand.Reader, big.NewInt(1e8))
	if err != nil {
		return "", "", err
	}
	id, pin = fmt.Sprintf("loadgen-%012d", n), fmt.Sprintf("%08d", m)
	if err := store.ValidPIN(pin); err != nil {
		// A random PIN the rules refuse (a run of one digit, say): draw again.
		return loadOfficer(ctx, s)
	}
	if err := s.AddOfficer(ctx, "ikdctl loadgen", kiosk.Officer{ID: id, Name: "Loadgen", Role: kiosk.RoleOfficer}, pin); err != nil {
		return "", "", fmt.Errorf("add loadgen officer: %w", err)
	}
	return id, pin, nil
}
