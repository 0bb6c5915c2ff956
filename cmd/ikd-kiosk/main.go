// Command ikd-kiosk is the officer's counter application: `ikd-kiosk --data DIR` opens the
// kiosk's window over its encrypted store, camera and registry. `ikd-kiosk --demo` opens the
// window over an in-process registry, mailbox and scripted camera when a display is there,
// and otherwise walks through the workflow headless with real components (encrypted store,
// signed tokens, QR scanning of a synthetic camera frame, the face pipeline where its models
// are present) and no camera or network.
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
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/demo"
)

func main() {
	if os.Getenv(probeEnv) != "" {
		os.Exit(probeWindow())
	}
	app.LimitMemory()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ikd-kiosk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	demoMode := fs.Bool("demo", false, "run the headless demo of the activation workflow (no camera, no network)")
	dir := fs.String("data", "", "demo data directory (default: a new temporary directory)")
	lang := fs.String("lang", os.Getenv("LANG"), "language: id (Bahasa Indonesia, default) or en")
	models := fs.String("models", os.Getenv("IKD_MODELS"), "dlib model directory for the face check (optional in the demo)")
	faces := fs.String("faces", "", "directory of face photos (tzuyu/) for the demo's photo attack (default: ../shared/testdata/faces when present, else Debian's example photos)")
	cam := fs.String("camera", "/dev/video0", `camera: a V4L2 device, "synthetic", "replay:DIR", or "" for none`)
	width := fs.Int("width", 1280, "camera width")
	height := fs.Int("height", 720, "camera height")
	registryURL := fs.String("registry", "", "registry URL (default: the one the kiosk was enrolled with)")
	allowUnverified := fs.Bool("allow-unverified-models", false, "let a face model whose licence is unverified decide a match (the demo always does; a production store should not)")
	headless := fs.Bool("headless", false, "with --demo: the headless walk-through even when a display is available")
	statusFile := fs.String("status-file", "", "debug: keep the window's state (screen, buttons and their places, fields, texts) in this file, for scripted walk-throughs")
	queue := fs.String("printer", os.Getenv("IKD_PRINTER"), "CUPS queue receipts are printed on (lp -d QUEUE; default $IKD_PRINTER); none: receipts are saved as PDF in the data directory")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The window's log says which screen is shown and each change of the camera's state.
	windowLog := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if !*demoMode {
		if *dir == "" {
			fmt.Fprintln(stderr, "ikd-kiosk: --data DIR (the kiosk's data directory) is required; or try: ikd-kiosk --demo")
			return 2
		}
		cfg := app.Config{DataDir: *dir, ModelDir: *models, RegistryURL: *registryURL, Lang: kiosk.ParseLang(*lang), Log: windowLog,
			AllowUnverifiedModels: *allowUnverified,
			Camera:                app.CameraConfig{Device: *cam, Width: *width, Height: *height}}
		if err := runKiosk(ctx, cfg, *statusFile, *queue); err != nil {
			fmt.Fprintf(stderr, "ikd-kiosk: %v\n", err)
			return 1
		}
		return 0
	}
	if !*headless && canOpenWindow(ctx) {
		cfg := demo.DemoConfig{Dir: *dir, ModelDir: *models, Faces: *faces, Lang: kiosk.ParseLang(*lang), Log: windowLog}
		if err := runWindowDemo(ctx, cfg, stdout, *statusFile, *queue); err != nil {
			fmt.Fprintf(stderr, "ikd-kiosk demo: %v\n", err)
			return 1
		}
		return 0
	}
	cfg := demo.StoryConfig{Dir: *dir, Lang: *lang, Models: *models, Faces: *faces, Printer: *queue, Out: stdout, Log: log}
	if cat, err := assets.LoadCatalog(string(kiosk.ParseLang(*lang))); err == nil {
		key := "demo.headless"
		if os.Getenv("DISPLAY") != "" {
			key = "demo.nowindow"
		}
		fmt.Fprintln(stdout, cat.T(key))
	}
	if err := demo.RunStory(ctx, cfg); err != nil {
		fmt.Fprintf(stderr, "ikd-kiosk demo: %v\n", err)
		return 1
	}
	return 0
}
