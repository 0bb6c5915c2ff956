package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/ikd-field/ikd/internal/secretfile"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/store"
)

// Helpers every command that opens the kiosk store uses (keys trust, qr decode, ...):
// dataDirFlag and secretFlag register --data and --secret-file on a flag set, and openStore
// opens DIR/kiosk.db with the secret from the file or $IKD_SECRET.

// secretEnv names the environment variable read when --secret-file is not given.
const secretEnv = "IKD_SECRET"

// defaultDataDir is $XDG_DATA_HOME/ikd-kiosk, or ~/.local/share/ikd-kiosk.
func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "ikd-kiosk")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "ikd-kiosk")
	}
	return "ikd-kiosk"
}

func dataDirFlag(fs *flag.FlagSet) *string {
	return fs.String("data", defaultDataDir(), "kiosk data directory (holds "+app.StoreFile+")")
}

func secretFlag(fs *flag.FlagSet) *string {
	return fs.String("secret-file", "", "file holding the kiosk unlock secret (default: $"+secretEnv+")")
}

func storePath(dataDir string) string { return filepath.Join(dataDir, app.StoreFile) }

// readSecret returns the unlock secret from secretFile, or from $IKD_SECRET when no file is
// given. A trailing newline in the file is not part of the secret.
func readSecret(secretFile string) ([]byte, error) {
	var secret []byte
	switch {
	case secretFile != "":
		b, err := secretfile.Read(secretFile)
		if err != nil {
			return nil, fmt.Errorf("read unlock secret: %w", err)
		}
		secret = bytes.TrimRight(b, "\r\n")
	case os.Getenv(secretEnv) != "":
		secret = []byte(os.Getenv(secretEnv))
	default:
		return nil, &exitError{code: 2, err: errors.New("no kiosk unlock secret: give --secret-file F or set " + secretEnv)}
	}
	if len(secret) == 0 {
		return nil, &exitError{code: 2, err: fmt.Errorf("the unlock secret in %s is empty", secretFile)}
	}
	return secret, nil
}

// openStore opens the kiosk store in dataDir with the secret from secretFile or $IKD_SECRET.
func openStore(ctx context.Context, dataDir, secretFile string) (*store.Store, error) {
	secret, err := readSecret(secretFile)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, storePath(dataDir), secret, storeOptions())
}

// readPIN reads an officer PIN from a file (trailing newline trimmed), to sign in with: a PIN
// set before today's PIN rules still signs in.
// signIn opens the store and signs officerID in with the PIN in pinFile: commands that act in
// an officer's name (the audit log records them).
func signIn(ctx context.Context, dataDir, secretFile, officerID, pinFile string) (*store.Store, kiosk.Officer, error) {
	pin, err := readPIN(pinFile)
	if err != nil {
		return nil, kiosk.Officer{}, err
	}
	s, err := openStore(ctx, dataDir, secretFile)
	if err != nil {
		return nil, kiosk.Officer{}, err
	}
	o, err := s.Login(ctx, officerID, pin)
	if err != nil {
		s.Close()
		return nil, kiosk.Officer{}, err
	}
	return s, o, nil
}

func readPIN(pinFile string) (string, error) {
	if pinFile == "" {
		return "", &exitError{code: 2, err: errors.New("--pin-file is required")}
	}
	b, err := secretfile.Read(pinFile)
	if err != nil {
		return "", fmt.Errorf("read PIN: %w", err)
	}
	return string(bytes.TrimRight(b, "\r\n")), nil
}

// readNewPIN reads a PIN being set and checks the PIN rules.
func readNewPIN(pinFile string) (string, error) {
	pin, err := readPIN(pinFile)
	if err != nil {
		return "", err
	}
	if err := store.ValidPIN(pin); err != nil {
		return "", &exitError{code: 2, err: err}
	}
	return pin, nil
}

func usageError(format string, a ...any) error {
	return &exitError{code: 2, err: fmt.Errorf("usage: "+format, a...)}
}

func newFlags(name string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// runInit creates a kiosk store and its first supervisor.
func runInit(ctx context.Context, e env) error {
	fs := newFlags("init", e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	name := fs.String("supervisor", "", "the first supervisor's name (required)")
	id := fs.String("id", "", "the supervisor's officer id (default: the name)")
	pinFile := fs.String("pin-file", "", "file holding the supervisor's PIN, 6+ digits (required)")
	kioskID := fs.String("kiosk-id", "", "kiosk id (default: a new UUIDv7)")
	kdfTime := fs.Uint("kdf-time", uint(store.DefaultKDF.Time), "argon2id passes for the unlock secret")
	kdfMem := fs.Uint("kdf-memory", uint(store.DefaultKDF.MemoryKiB), "argon2id memory in KiB for the unlock secret")
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if *name == "" || fs.NArg() != 0 {
		return usageError("init --data DIR --secret-file F --supervisor NAME [--id ID] --pin-file P")
	}
	if *id == "" {
		*id = *name
	}
	secret, err := readSecret(*secretFile)
	if err != nil {
		return err
	}
	pin, err := readNewPIN(*pinFile)
	if err != nil {
		return err
	}
	path := storePath(*data)
	opts := storeOptions()
	opts.KioskID = *kioskID
	opts.KDF = store.KDFParams{Time: uint32(*kdfTime), MemoryKiB: uint32(*kdfMem), Threads: store.DefaultKDF.Threads}
	sup := kiosk.Officer{ID: *id, Name: *name, Role: kiosk.RoleSupervisor}
	// Init builds the store under a temporary name: a store without its supervisor cannot be
	// administered, so it never appears at path.
	s, err := store.Init(ctx, path, secret, opts, sup, pin)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created kiosk store %s\nkiosk id:   %s\ndevice key: ed25519 %s\nsupervisor: %s (%s)\n",
		path, s.KioskID(), hex.EncodeToString(s.DeviceKey().Public().(ed25519.PublicKey)), sup.ID, sup.Name)
	return s.Close()
}

func runOfficer(ctx context.Context, e env) error {
	return subcommand(ctx, e, "officer", map[string]func(context.Context, env) error{
		"add":    officerAdd,
		"list":   officerList,
		"unlock": officerUnlock,
	})
}

func officerAdd(ctx context.Context, e env) error {
	fs := newFlags("officer add", e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	id := fs.String("id", "", "officer id, e.g. the NIP (required)")
	name := fs.String("name", "", "officer name (required)")
	role := fs.String("role", string(kiosk.RoleOfficer), "officer or supervisor")
	pinFile := fs.String("pin-file", "", "file holding the PIN, 6+ digits (required)")
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if *id == "" || *name == "" || !kiosk.Role(*role).Valid() || fs.NArg() != 0 {
		return usageError("officer add --data DIR --id ID --name NAME --role officer|supervisor --pin-file P")
	}
	pin, err := readNewPIN(*pinFile)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, *data, *secretFile)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.AddOfficer(ctx, "ikdctl", kiosk.Officer{ID: *id, Name: *name, Role: kiosk.Role(*role)}, pin); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "added %s %s (%s)\n", *role, *id, *name)
	return nil
}

func officerList(ctx context.Context, e env) error {
	fs := newFlags("officer list", e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	s, err := openStore(ctx, *data, *secretFile)
	if err != nil {
		return err
	}
	defer s.Close()
	// A row that fails its integrity check is left out and reported after the good ones.
	officers, listErr := s.Officers(ctx)
	if listErr != nil && !errors.Is(listErr, store.ErrTampered) {
		return listErr
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tSTATUS")
	for _, o := range officers {
		status := "active"
		if o.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", o.ID, o.Name, o.Role, status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return listErr
}

func runResidents(ctx context.Context, e env) error {
	return subcommand(ctx, e, "residents", map[string]func(context.Context, env) error{
		"import": residentsImport,
		"show":   residentsShow,
	})
}

func residentsImport(ctx context.Context, e env) error {
	fs := newFlags("residents import", e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	cursor := fs.String("cursor", "", "registry sync cursor the snapshot is current to")
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("residents import --data DIR [--cursor C] FILE.ndjson (- for stdin)")
	}
	var in io.Reader = os.Stdin
	if fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	s, err := openStore(ctx, *data, *secretFile)
	if err != nil {
		return err
	}
	defer s.Close()
	start := time.Now()
	c, err := s.ImportResidents(ctx, in, *cursor)
	var ie *store.ImportError
	if errors.As(err, &ie) {
		for _, l := range ie.Lines {
			fmt.Fprintf(e.stderr, "%s:%d: %v\n", fs.Arg(0), l.Line, l.Err)
		}
		if more := ie.Rejected - len(ie.Lines); more > 0 {
			fmt.Fprintf(e.stderr, "%s: ... and %d more invalid lines\n", fs.Arg(0), more)
		}
		fmt.Fprintf(e.stdout, "added 0 updated 0 rejected %d\n", ie.Rejected)
		return &exitError{code: 1, err: fmt.Errorf("%d invalid lines; nothing imported", ie.Rejected)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "added %d updated %d rejected 0 (%.1fs)\n", c.Added, c.Updated, time.Since(start).Seconds())
	return nil
}

func residentsShow(ctx context.Context, e env) error {
	fs := newFlags("residents show", e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("residents show --data DIR NIK")
	}
	nik, err := kiosk.ParseNIK(fs.Arg(0))
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	s, err := openStore(ctx, *data, *secretFile)
	if err != nil {
		return err
	}
	defer s.Close()
	r, err := s.ResidentByNIK(ctx, nik)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, row := range [][2]string{
		{"NIK", string(r.NIK)}, {"name", r.Name}, {"birth", r.BirthPlace + ", " + r.BirthDate.Format(time.DateOnly)},
		{"sex", string(r.Sex)}, {"address", r.Address}, {"kecamatan", r.Kecamatan}, {"status", string(r.Status)},
		{"descriptors", fmt.Sprint(len(r.References))}, {"photo", fmt.Sprintf("%d bytes", len(r.Photo))},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}

func runAudit(ctx context.Context, e env) error {
	return subcommand(ctx, e, "audit", map[string]func(context.Context, env) error{
		"verify": auditVerify,
	})
}

func auditVerify(ctx context.Context, e env) error {
	fs := newFlags("audit verify", e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	s, err := openStore(ctx, *data, *secretFile)
	if err != nil {
		return err
	}
	defer s.Close()
	n, err := s.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "audit log intact: %d entries\n", n)
	return nil
}

// runQueue shows the outbox: counts per state, then the records.
func runQueue(ctx context.Context, e env) error {
	fs := newFlags("queue", e)
	data, secretFile := dataDirFlag(fs), secretFlag(fs)
	state := fs.String("state", "", "list only records in this state (pending, sent, acknowledged, rejected)")
	limit := fs.Int("limit", 50, "list at most this many records")
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	states := []kiosk.RecordState{kiosk.RecordPending, kiosk.RecordSent, kiosk.RecordAcknowledged, kiosk.RecordRejected}
	if *state != "" && !slices.Contains(states, kiosk.RecordState(*state)) {
		return usageError("queue --data DIR [--state pending|sent|acknowledged|rejected] [--limit N]")
	}
	s, err := openStore(ctx, *data, *secretFile)
	if err != nil {
		return err
	}
	defer s.Close()
	// Records that fail their integrity check are left out and reported after the good ones.
	counts, countErr := s.RecordCounts(ctx)
	if countErr != nil && !errors.Is(countErr, store.ErrTampered) {
		return countErr
	}
	for _, st := range states {
		fmt.Fprintf(e.stdout, "%-13s %d\n", st, counts[st])
	}
	recs, err := s.Records(ctx, kiosk.RecordState(*state), *limit)
	if err != nil && !errors.Is(err, store.ErrTampered) {
		return err
	}
	if len(recs) == 0 {
		return err // Records checks every row, so it names what RecordCounts left out
	}
	fmt.Fprintln(e.stdout)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSTATE\tCREATED\tANSWER")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Kind, r.State, r.CreatedAt.Local().Format(time.DateTime), r.Answer)
	}
	if ferr := tw.Flush(); ferr != nil {
		return ferr
	}
	return err
}
