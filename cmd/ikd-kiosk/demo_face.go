package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"time"

	"github.com/ikd-field/ikd/internal/shareddata"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/dlib"
	"github.com/ikd-field/ikd/kiosk/face/match"
	"github.com/ikd-field/ikd/kiosk/store"
)

// demoFace is the real face pipeline (go-face over dlib) the demo's face steps run on.
type demoFace struct {
	engine   *dlib.Engine
	analyzer *face.Analyzer
	verifier *face.Verifier
}

// openDemoFace loads the models of cfg. Without a model directory, or with its files
// missing, it returns nil and the reason to print: the demo must run on a machine without
// models.
func openDemoFace(cfg demoConfig) (*demoFace, string, error) {
	if cfg.models == "" {
		return nil, "IKD_MODELS / --models", nil
	}
	engine, err := dlib.Load(cfg.models, cfg.log)
	if errors.Is(err, face.ErrModelMissing) {
		return nil, err.Error(), nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("face models: %w", err)
	}
	analyzer, err := face.NewAnalyzer(engine, face.DefaultOptions())
	if err != nil {
		engine.Close()
		return nil, "", err
	}
	cal, err := match.Default()
	if err != nil {
		engine.Close()
		return nil, "", err
	}
	class := engine.Models().Class(face.RecognitionFile)
	verifier, err := face.NewVerifier(cal, cal.ThresholdsFor(class), class, nil)
	if err != nil {
		engine.Close()
		return nil, "", err
	}
	return &demoFace{engine: engine, analyzer: analyzer, verifier: verifier}, "", nil
}

func (d *demoFace) Close() error { return d.engine.Close() }

// sayModels prints each model file's class and where it comes from.
func (d *demoFace) sayModels(n *narrator) {
	var rec, lm, det string
	for _, f := range d.engine.Models().Files {
		s := string(f.Class)
		if f.Source != "" {
			s += " (" + f.Source + ")"
		}
		switch f.File {
		case face.RecognitionFile:
			rec = s
		case face.ShapePredictorFile:
			lm = s
		case face.CNNDetectorFile:
			det = s
		}
	}
	n.say("demo.models", rec, lm, det)
}

// verifierFor is the counter's live verifier over frames.
func (d *demoFace) verifierFor(frames camera.Source) *face.LiveVerifier {
	return &face.LiveVerifier{Analyzer: d.analyzer, Frames: frames, Verifier: d.verifier,
		Capture: face.DefaultCaptureConfig(),
		// Frames come from files, as fast as this (shared, possibly loaded) machine analyses
		// them; the challenge's own timeout counts the frames' timestamps.
		Timeout: 2 * time.Minute}
}

// describe computes a reference descriptor from one photo, framed as the camera's are.
func (d *demoFace) describe(ctx context.Context, path string, chip bool) (kiosk.Descriptor, error) {
	img, err := photoFrame(path, chip, false, image.Point{})
	if err != nil {
		return kiosk.Descriptor{}, err
	}
	obs, err := d.analyzer.Analyze(ctx, img)
	if err != nil {
		return kiosk.Descriptor{}, fmt.Errorf("reference photo %s: %w", path, err)
	}
	return obs.Descriptor, nil
}

// citizenFace gives the activating citizen a reference descriptor from one of Debian's photos
// of John Schneider and returns the demo's citizen, who shows the camera other photos of him.
// Without Debian's photos it returns nil and the reason.
func (d *demoFace) citizenFace(ctx context.Context, r *kiosk.Resident, dir string, n *narrator) (*demoCitizen, string, error) {
	refPhoto := filepath.Join(debianJohns, demoJohn.dir, demoJohn.reference)
	if _, err := os.Stat(refPhoto); err != nil {
		return nil, err.Error() + " (Debian's libdlib19.1)", nil
	}
	ref, err := d.describe(ctx, refPhoto, true)
	if err != nil {
		return nil, "", err
	}
	r.References = []kiosk.Descriptor{ref}
	c, err := newDemoCitizen(debianJohns, filepath.Join(dir, "camera", "citizen"), demoJohn)
	if err != nil {
		return nil, "", err
	}
	n.say("demo.citizen", r.Name, refPhoto, len(demoJohn.frontal)+1)
	return c, "", nil
}

// photoHolder is a resident whose reference comes from one photo while someone holds another
// photo of her up to the camera.
var photoHolder = kiosk.Resident{NIK: "3201016305950004", Name: "Rina Wulandari", BirthPlace: "Bogor",
	BirthDate: date(1995, 5, 23), Sex: kiosk.Female, Address: "Jl. Veteran No. 9, Bogor",
	Kecamatan: "Bogor Tengah", Status: kiosk.ResidentActive}

// debianHolder is the same with Debian's photos, of a man.
var debianHolder = kiosk.Resident{NIK: "3201011407920005", Name: "Hendra Gunawan", BirthPlace: "Bogor",
	BirthDate: date(1992, 7, 14), Sex: kiosk.Male, Address: "Jl. Veteran No. 11, Bogor",
	Kecamatan: "Bogor Tengah", Status: kiosk.ResidentActive}

// heldPhoto picks the photo attack's resident and photos: the shared photos (tzuyu) when
// present, else Debian's face chips. It returns an empty reason when one set is there.
func heldPhoto(cfg demoConfig) (holder kiosk.Resident, ref, held string, chip bool, reason string) {
	faces := cfg.faces
	if faces == "" {
		if shared, err := shareddata.Dir(); err == nil {
			faces = filepath.Join(shared, "testdata", "faces")
		}
	}
	ref, held = filepath.Join(faces, "tzuyu", "2.jpg"), filepath.Join(faces, "tzuyu", "1.jpg")
	if _, err := os.Stat(held); err == nil {
		return photoHolder, ref, held, false, ""
	}
	p := debianPhotoHolder
	ref, held = filepath.Join(debianJohns, p.dir, p.reference), filepath.Join(debianJohns, p.dir, p.held)
	if _, err := os.Stat(held); err != nil {
		return kiosk.Resident{}, "", "", false, err.Error()
	}
	return debianHolder, ref, held, true, ""
}

// photoAttack runs the real face pipeline on a replayed still photo: the liveness challenge
// must refuse it, and the officer rejects the flow.
func (d *demoFace) photoAttack(ctx context.Context, cfg demoConfig, st *store.Store, deps kiosk.Deps, officer kiosk.Officer,
	dir string, n *narrator) error {
	holder, refPhoto, livePhoto, chip, reason := heldPhoto(cfg)
	if reason != "" {
		n.say("demo.face.unavailable", reason)
		return nil
	}
	ref, err := d.describe(ctx, refPhoto, chip)
	if err != nil {
		return err
	}
	holder.References = []kiosk.Descriptor{ref}
	if _, err := st.ApplyResidents(ctx, []kiosk.Resident{holder}, nil, "demo-2"); err != nil {
		return fmt.Errorf("load resident: %w", err)
	}

	// The "camera" replays the held-up photo.
	frameDir := filepath.Join(dir, "camera", "held")
	if err := writeFrames(frameDir, []string{livePhoto}, chip, false, centred); err != nil {
		return err
	}
	frames, err := camera.OpenReplay(frameDir, camera.ReplayOptions{FPS: 15})
	if err != nil {
		return err
	}
	defer frames.Close()
	deps.Faces = d.verifierFor(frames)
	n.say("demo.photo", holder.Name, filepath.Dir(livePhoto))

	flow := kiosk.NewDeactivation(deps, officer)
	if err := flow.EnterNIK(holder.NIK.String()); err != nil {
		return err
	}
	if err := flow.FindResident(ctx); err != nil {
		return err
	}
	err = flow.VerifyFace(ctx)
	var ke *kiosk.Error
	if !errors.As(err, &ke) {
		return fmt.Errorf("demo: a held-up photo was not refused by the face check: %v", err)
	}
	n.say("demo.refused", n.cat.T("demo.case.photo"), ke.Msg.In(n.lang))
	reason = "foto dipegang di depan kamera"
	if err := flow.Reject(ctx, reason); err != nil {
		return err
	}
	n.say("demo.photo.rejected", reason)
	return nil
}
