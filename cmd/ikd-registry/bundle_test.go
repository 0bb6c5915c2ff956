package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/token"
	ikdsync "github.com/ikd-field/ikd/sync"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/storeopen"
)

// TestBundleCommands runs `bundle import` and `bundle changes` as an operator would, on a
// sealed SQLite database (so --data-key-file is required, as on every command that opens it).
func TestBundleCommands(t *testing.T) {
	ctx := context.Background()
	db := "sqlite:" + filepath.Join(t.TempDir(), "registry.db")
	dataKey := filepath.Join(t.TempDir(), "data.key")
	if err := registry.CreateDataKeyFile(dataKey); err != nil {
		t.Fatal(err)
	}
	keyFile := signingKeyFile(t)
	kid, regKey, err := token.ReadPrivateKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	regPub := regKey.Public().(ed25519.PublicKey)

	// An enrolled kiosk, and a stick of two audit checkpoints (records that need no resident).
	devPub, devKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	st, err := storeopen.OpenSealed(ctx, db, dataKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	err = st.InTx(ctx, func(ctx context.Context, tx registry.Tx) error {
		return tx.InsertDevice(ctx, registry.Device{KioskID: "kiosk-1", PublicKey: devPub, Area: "Cibinong", EnrolledAt: now.Add(-time.Hour)})
	})
	if err == nil {
		err = registry.EnsureKey(ctx, st, kid, regPub, now)
	}
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := ikdsync.NewSealer("kiosk-1", devKey)
	if err != nil {
		t.Fatal(err)
	}
	var recs []kiosk.OutboxRecord
	for i, id := range []string{"cp-1", "cp-2"} {
		env, err := sealer.Seal(kiosk.KindAuditCheckpoint, id, kiosk.AuditCheckpoint{ID: id, KioskID: "kiosk-1",
			AuditSeq: int64(10 * (i + 1)), AuditHash: bytes.Repeat([]byte{byte(i + 1)}, 32), OutboxSeq: int64(i + 1), At: now})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, kiosk.OutboxRecord{ID: id, Kind: kiosk.KindAuditCheckpoint, Seq: int64(i + 1), Envelope: env})
	}
	b, _, err := ikdsync.SealOutbox("kiosk-1", devKey, recs, []kiosk.RegistryKey{{KeyID: kid, PublicKey: regPub}}, now)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	stick := filepath.Join(dir, "outbox.ikdb")
	if err := os.WriteFile(stick, b, 0o600); err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(dir, "tampered.ikdb")
	bad := bytes.Clone(b)
	bad[len(bad)-100] ^= 1
	if err := os.WriteFile(tampered, bad, 0o600); err != nil {
		t.Fatal(err)
	}

	log := slog.New(slog.DiscardHandler)
	run := func(args ...string) (string, error) {
		var out strings.Builder
		err := dispatch(ctx, args, &out, log)
		return out.String(), err
	}
	trust := func(k string) (kiosk.RegistryKey, error) {
		if k != kid {
			return kiosk.RegistryKey{}, kiosk.ErrNotFound
		}
		return kiosk.RegistryKey{KeyID: kid, PublicKey: regPub}, nil
	}
	answers := filepath.Join(dir, "answers.ikdb")
	imp := []string{"bundle", "import", "--db", db, "--data-key-file", dataKey, "--key", keyFile, "--in", stick, "--answers", answers}

	if _, err := run("bundle", "import"); err == nil {
		t.Error("bundle import without flags succeeded")
	}
	if _, err := run("bundle", "import", "--db", db, "--key", keyFile, "--in", stick, "--answers", answers); err == nil ||
		!strings.Contains(err.Error(), "data-key-file") {
		t.Errorf("import without --data-key-file: %v", err)
	}
	out, err := run(append(imp[:8:8], "--in", tampered, "--answers", answers)...)
	if !errors.Is(err, ikdsync.ErrBundleTampered) {
		t.Errorf("tampered stick: %q, %v", out, err)
	}
	if _, err := os.Stat(answers); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("answers written for a refused stick: %v", err)
	}
	for i, want := range []string{"accepted 2 duplicate 0 rejected 0", "accepted 0 duplicate 2 rejected 0"} {
		out, err := run(imp...)
		if err != nil || !strings.Contains(out, want) || !strings.Contains(out, "kiosk kiosk-1: 2 records (outbox 1 to 2)") {
			t.Fatalf("import %d: %q, %v; want %q", i+1, out, err, want)
		}
		ab, err := os.ReadFile(answers)
		if err != nil {
			t.Fatal(err)
		}
		a, err := ikdsync.OpenAnswers(ab, "kiosk-1", trust)
		if err != nil || len(a.Answers) != 2 || a.IDs[1] != "cp-2" {
			t.Fatalf("answers: %+v, %v", a, err)
		}
	}

	changes := filepath.Join(dir, "changes.ikdb")
	out, err = run("bundle", "changes", "--db", db, "--data-key-file", dataKey, "--key", keyFile, "--area", "Cibinong", "--out", changes)
	if err != nil || !strings.Contains(out, "changes of Cibinong after 0 up to ") {
		t.Fatalf("changes: %q, %v", out, err)
	}
	cb, err := os.ReadFile(changes)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ikdsync.OpenChanges(cb, trust)
	if err != nil || c.Area != "Cibinong" || len(c.Pages) != 1 || len(c.Pages[0].Keys) != 1 {
		t.Fatalf("changes bundle: %+v, %v", c, err)
	}
	for _, args := range [][]string{
		{"--area", "Cibinong", "--since", "-3", "--out", changes},
		{"--area", "Cibinong", "--since", "x", "--out", changes},
		{"--out", changes},
	} {
		if _, err := run(append([]string{"bundle", "changes", "--db", db, "--data-key-file", dataKey, "--key", keyFile}, args...)...); err == nil {
			t.Errorf("changes %v succeeded", args)
		}
	}
	if _, err := run("bundle", "export"); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("unknown bundle subcommand: %v", err)
	}
}
