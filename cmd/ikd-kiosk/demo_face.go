package main

import (
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"os"
	"path/filepath"

	"github.com/ikd-field/ikd/internal/shareddata"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/dlib"
	"github.com/ikd-field/ikd/kiosk/face/match"
	"github.com/ikd-field/ikd/kiosk/store"
)

// photoHolder is a resident whose reference comes from one photo while someone holds another
// photo of her up to the camera.
var photoHolder = kiosk.Resident{NIK: "3201016305950004", Name: "Rina Wulandari", BirthPlace: "Bogor",
	BirthDate: date(1995, 5, 23), Sex: kiosk.Female, Address: "Jl. Veteran No. 9, Bogor",
	Kecamatan: "Bogor Tengah", Status: kiosk.ResidentActive}

// photoAttack runs the real face pipeline (go-face) on a replayed still photo: the liveness
// challenge must refuse it, and the officer rejects the flow. Without models or photos the step
// is skipped with the reason, since the demo must run on a machine with neither.
func photoAttack(ctx context.Context, cfg demoConfig, st *store.Store, deps kiosk.Deps, officer kiosk.Officer,
	dir string, n *narrator) error {
	say := n.say
	if cfg.models == "" {
		say("demo.face.unavailable", "IKD_MODELS / --models")
		return nil
	}
	faces := cfg.faces
	if faces == "" {
		shared, err := shareddata.Dir()
		if err != nil {
			say("demo.face.unavailable", err.Error())
			return nil
		}
		faces = filepath.Join(shared, "testdata", "faces")
	}
	refPhoto, livePhoto := filepath.Join(faces, "tzuyu", "2.jpg"), filepath.Join(faces, "tzuyu", "1.jpg")
	if _, err := os.Stat(livePhoto); err != nil {
		say("demo.face.unavailable", err.Error())
		return nil
	}
	engine, err := dlib.Load(cfg.models, cfg.log)
	if err != nil {
		return err
	}
	defer engine.Close()
	analyzer, err := face.NewAnalyzer(engine, face.DefaultOptions())
	if err != nil {
		return err
	}
	ref, err := describe(ctx, analyzer, refPhoto)
	if err != nil {
		return err
	}
	holder := photoHolder
	holder.References = []kiosk.Descriptor{ref}
	if _, err := st.ApplyResidents(ctx, []kiosk.Resident{holder}, nil, "demo-2"); err != nil {
		return fmt.Errorf("load resident: %w", err)
	}

	// The "camera" replays the held-up photo.
	frameDir := filepath.Join(dir, "camera")
	if err := os.MkdirAll(frameDir, 0o700); err != nil {
		return err
	}
	b, err := os.ReadFile(livePhoto)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(frameDir, "frame.jpg"), b, 0o600); err != nil {
		return err
	}
	frames, err := camera.OpenReplay(frameDir, camera.ReplayOptions{FPS: 15})
	if err != nil {
		return err
	}
	defer frames.Close()
	cal, err := match.Default()
	if err != nil {
		return err
	}
	class := engine.Models().Class(face.RecognitionFile)
	verifier, err := face.NewVerifier(cal, cal.ThresholdsFor(class), class, nil)
	if err != nil {
		return err
	}
	deps.Faces = &face.LiveVerifier{Analyzer: analyzer, Frames: frames, Verifier: verifier,
		Capture: face.DefaultCaptureConfig()}
	say("demo.photo", cfg.models)

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
	say("demo.refused", n.cat.T("demo.case.photo"), ke.Msg.In(n.lang))
	reason := "foto dipegang di depan kamera"
	if err := flow.Reject(ctx, reason); err != nil {
		return err
	}
	say("demo.photo.rejected", reason)
	return nil
}

func describe(ctx context.Context, an *face.Analyzer, path string) (face.Descriptor, error) {
	f, err := os.Open(path)
	if err != nil {
		return face.Descriptor{}, err
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		return face.Descriptor{}, fmt.Errorf("%s: %w", path, err)
	}
	obs, err := an.Analyze(ctx, img)
	if err != nil {
		return face.Descriptor{}, fmt.Errorf("reference photo %s: %w", path, err)
	}
	return obs.Descriptor, nil
}
