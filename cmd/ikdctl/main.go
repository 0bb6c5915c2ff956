// Command ikdctl is the headless administration and diagnostics tool for an IKD kiosk.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/ikd-field/ikd/kiosk"
)

// env is what every subcommand receives: its arguments and where to write.
type env struct {
	args   []string
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	summary string
	run     func(ctx context.Context, e env) error
}

// exitError carries a specific exit status (for example 1 for "not found").
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func commands() map[string]command {
	return map[string]command{
		"init":      {"create a kiosk store: init --data DIR --secret-file F --supervisor NAME --pin-file P", runInit},
		"officer":   {"manage officers: officer add|list", runOfficer},
		"residents": {"resident snapshot: residents import FILE.ndjson | residents show NIK", runResidents},
		"audit":     {"audit log: audit verify", runAudit},
		"queue":     {"outbox records by state", runQueue},
		"store":     {"store integrity: store verify (every authenticated row, audit chain, roll-back anchor), store reanchor (after restoring a backup)", runStore},
		"enroll":    {"register with the registry: enroll --data DIR --registry URL --code CODE", runEnroll},
		"code":      {"activation codes: code reissue --data DIR --registration ID --nik NIK --officer ID --pin-file P", runCode},
		"sync":      {"one sync round: sync --data DIR [--batch N] | sync status --data DIR", runSync},
		"bundle":    {"records and changes on a USB stick: bundle export --out FILE | bundle answers --in FILE | bundle apply --in FILE", runBundle},
		"loadgen":   {"synthetic activations: loadgen --data DIR --count N [--kiosks K] [--registry URL] [--officer ID --pin-file P] [--seed S] [--registry-db DSN --data-key-file F]", runLoadgen},
		"camera":    {"webcams: camera list | camera snap --device DEV OUT.jpg", runCamera},
		"keys":      {"registry keys: keys new --out DIR | keys trust --data DIR PUBKEY", runKeys},
		"qr":        {"activation QR: qr make ... OUT.png | qr decode [--raw] [--json] IMAGE...", runQR},
		"face":      {"face verification: face eval | face verify", runFace},
		"bench":     {"benchmarks: bench store | bench qr | bench face | bench sync | bench kiosk", runBench},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: ikdctl COMMAND [flags] [args]")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
}

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one ikdctl invocation and returns its exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		return 2
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "ikdctl: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	err := cmd.run(ctx, env{args: args[1:], stdout: stdout, stderr: stderr})
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	reportError(stderr, args[0], err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// reportError prints err for the person at the terminal: an officer-facing message in Bahasa
// Indonesia and English first when there is one, then the operator's detail.
func reportError(w io.Writer, cmd string, err error) {
	var ke *kiosk.Error
	if errors.As(err, &ke) {
		fmt.Fprintf(w, "ikdctl %s: %s / %s\n  detail: %v\n", cmd, ke.Msg.ID, ke.Msg.EN, err)
		return
	}
	fmt.Fprintf(w, "ikdctl %s: %v\n", cmd, err)
}

// subcommand dispatches "ikdctl NAME SUB ..." to one of subs.
func subcommand(ctx context.Context, e env, name string, subs map[string]func(context.Context, env) error) error {
	if len(e.args) == 0 {
		return &exitError{code: 2, err: fmt.Errorf("missing subcommand (one of %s)", subNames(subs))}
	}
	f, ok := subs[e.args[0]]
	if !ok {
		return &exitError{code: 2, err: fmt.Errorf("unknown %s subcommand %q (one of %s)", name, e.args[0], subNames(subs))}
	}
	return f(ctx, env{args: e.args[1:], stdout: e.stdout, stderr: e.stderr})
}

func subNames(subs map[string]func(context.Context, env) error) string {
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	sort.Strings(names)
	return fmt.Sprint(names)
}
