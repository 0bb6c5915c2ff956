// Command ikd-kiosk is the officer's counter application. `ikd-kiosk --demo` runs the whole
// path from the citizen's QR to the e-mailed code with no camera, no network and no set-up:
// kiosk/app's demo puts the registry, its mail worker and an SMTP mailbox in this process.
// Without a display (DISPLAY unset) it walks through the workflow headless, printing each
// step. The fyne window comes with the UI issue.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/ikd-field/ikd/assets"
	"github.com/ikd-field/ikd/kiosk"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ikd-kiosk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	demo := fs.Bool("demo", false, "run the headless demo of the activation workflow (no camera, no network)")
	dir := fs.String("data", "", "demo data directory (default: a new temporary directory)")
	lang := fs.String("lang", os.Getenv("LANG"), "language: id (Bahasa Indonesia, default) or en")
	models := fs.String("models", os.Getenv("IKD_MODELS"), "dlib model directory for the face check (optional in the demo)")
	faces := fs.String("faces", "", "directory of face photos (tzuyu/) for the demo's photo attack (default: ../shared/testdata/faces when present, else Debian's example photos)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !*demo {
		fmt.Fprintln(stderr, "ikd-kiosk: this version has only the headless demo; run: ikd-kiosk --demo")
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := demoConfig{dir: *dir, lang: *lang, models: *models, faces: *faces, out: stdout, log: log}
	if cat, err := assets.LoadCatalog(string(kiosk.ParseLang(*lang))); err == nil {
		key := "demo.headless"
		if os.Getenv("DISPLAY") != "" {
			key = "demo.nowindow"
		}
		fmt.Fprintln(stdout, cat.T(key))
	}
	if err := runDemo(ctx, cfg); err != nil {
		fmt.Fprintf(stderr, "ikd-kiosk demo: %v\n", err)
		return 1
	}
	return 0
}
