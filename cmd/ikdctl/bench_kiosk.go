package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/app/appbench"
	"github.com/ikd-field/ikd/kiosk/face"
)

// benchKiosk measures the kiosk application against issue 10's goals (see appbench).
func benchKiosk(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("bench kiosk", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	models := fs.String("models", "", "model directory (default $IKD_MODELS, else "+devModelDir+"); \"none\" runs without the face pipeline")
	residents := fs.Int("residents", 200000, "residents in the snapshot of the memory and start-up store")
	previewFor := fs.Duration("preview", 10*time.Second, "how long the preview's frames are counted")
	fps := fs.Float64("fps", 30, "pace of the synthetic 1280×720 camera")
	runs := fs.Int("runs", 5, "start-ups and demo visits")
	kioskBin := fs.String("kiosk-bin", "", "ikd-kiosk binary to time the window's start-up under $DISPLAY (\"\" skips it)")
	inProcess := fs.Bool("memory-in-process", false, "measure memory in this process instead of a fresh child")
	quick := fs.Bool("quick", false, "tiny sizes for tests: 100 residents, a 1 s preview, 1 run, memory in process (numbers are not meaningful)")
	memoryChild := fs.String("memory-child", "", "internal: measure the memory of the store in DIR and print it as JSON")
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return &exitError{code: 2, err: fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	dir := face.ResolveModelDir(*models, devModelDir)
	if *models == "none" {
		dir = ""
	}
	if *memoryChild != "" {
		app.LimitMemory() // as ikd-kiosk
		m, err := appbench.MeasureMemory(ctx, *memoryChild, dir)
		if err != nil {
			return err
		}
		return json.NewEncoder(e.stdout).Encode(m)
	}
	if *quick {
		*residents, *previewFor, *runs, *inProcess = 100, time.Second, 1, true
	}
	work, err := os.MkdirTemp("", "ikd-bench-kiosk-")
	if err != nil {
		return fmt.Errorf("bench kiosk: %w", err)
	}
	defer os.RemoveAll(work)
	o := appbench.Options{Dir: work, ModelDir: dir, Residents: *residents, PreviewFor: *previewFor, PreviewFPS: *fps,
		Runs: *runs, KioskBin: *kioskBin}
	if !*inProcess {
		o.Memory = func(ctx context.Context, store string) (appbench.Memory, error) {
			return memoryInChild(ctx, store, dir)
		}
	}
	rep, err := appbench.Run(ctx, o)
	if err != nil {
		return fmt.Errorf("bench kiosk: %w", err)
	}
	return rep.Write(e.stdout)
}

// memoryInChild runs `ikdctl bench kiosk --memory-child` so that the resident memory counts
// the kiosk's working set only, not this process's earlier measurements.
func memoryInChild(ctx context.Context, store, models string) (appbench.Memory, error) {
	var m appbench.Memory
	self, err := os.Executable()
	if err != nil {
		return m, fmt.Errorf("memory child: %w", err)
	}
	if models == "" {
		models = "none"
	}
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, self, "bench", "kiosk", "--memory-child", store, "--models", models)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return m, fmt.Errorf("memory child: %w: %s", err, errOut.Bytes())
	}
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		return m, fmt.Errorf("memory child output: %w", err)
	}
	return m, nil
}
