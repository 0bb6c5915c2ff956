package face

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ikd-field/ikd/camera"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/face/liveness"
)

// LiveVerifier is the counter's kiosk.FaceVerifier: it runs a capture with a randomised
// liveness challenge on frames from a camera source and hands the best frames to the
// Verifier (score, 1:N search, kiosk.DecideFace).
type LiveVerifier struct {
	Analyzer *Analyzer
	Frames   camera.Source
	Verifier *Verifier
	Capture  CaptureConfig
	// Timeout bounds one capture; 0 means 20 s.
	Timeout time.Duration
	// OnProgress, if set, receives each frame's progress (the prompt to show the citizen).
	OnProgress func(Progress)
	// Direction picks the challenge's turn; nil means liveness.RandomDirection.
	Direction func() (liveness.Direction, error)
}

var _ kiosk.FaceVerifier = (*LiveVerifier)(nil)

// Officer-facing liveness failures: each says what to do next.
var (
	ErrLivenessFrozen = &kiosk.Error{Code: "face.liveness_frozen", Msg: kiosk.Message{
		ID: "Wajah tidak bergerak seperti foto atau layar; minta warga sendiri berdiri di depan kamera, lalu ulangi.",
		EN: "The face does not move, like a photo or a screen; ask the citizen to stand in front of the camera, then retry."}}
	ErrLivenessTimeout = &kiosk.Error{Code: "face.liveness_timeout", Msg: kiosk.Message{
		ID: "Pemeriksaan wajah tidak selesai tepat waktu; ulangi dan ikuti petunjuk di layar.",
		EN: "The face check did not finish in time; retry and follow the prompts on screen."}}
	ErrLivenessWrongTurn = &kiosk.Error{Code: "face.liveness_wrong_turn", Msg: kiosk.Message{
		ID: "Kepala menoleh ke arah yang salah; ulangi dan menoleh sesuai petunjuk.",
		EN: "The head turned the wrong way; retry and turn as prompted."}}
	ErrLivenessInconsistent = &kiosk.Error{Code: "face.liveness_inconsistent", Msg: kiosk.Message{
		ID: "Wajah berganti selama pemeriksaan; ulangi dengan hanya satu orang di depan kamera.",
		EN: "The face changed during the check; retry with only one person in front of the camera."}}
)

// VerifyFace implements kiosk.FaceVerifier.
func (v *LiveVerifier) VerifyFace(ctx context.Context, r kiosk.Resident) (kiosk.FaceResult, error) {
	pick := v.Direction
	if pick == nil {
		pick = liveness.RandomDirection
	}
	dir, err := pick()
	if err != nil {
		return kiosk.FaceResult{}, err
	}
	capture, err := NewCapture(v.Analyzer, v.Capture, dir)
	if err != nil {
		return kiosk.FaceResult{}, err
	}
	timeout := v.Timeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var seq uint64
	for {
		f, err := v.Frames.Next(ctx)
		if err != nil {
			return kiosk.FaceResult{}, captureError(ctx, err)
		}
		if f.Seq == seq {
			continue // the same camera frame again is not evidence of anything
		}
		seq = f.Seq
		p, err := capture.Step(ctx, f.Image, f.Captured)
		if err != nil {
			return kiosk.FaceResult{}, captureError(ctx, err)
		}
		if v.OnProgress != nil {
			v.OnProgress(p)
		}
		if p.State == liveness.Passed || p.State == liveness.Failed {
			break
		}
	}
	if _, err := capture.Result(); err != nil {
		return kiosk.FaceResult{}, livenessError(err)
	}
	vd, err := v.Verifier.VerifyObservations(ctx, capture.Best(), r)
	if err != nil {
		return kiosk.FaceResult{}, err
	}
	return vd.FaceResult, nil
}

// captureError turns the capture deadline into the officer's timeout message.
func captureError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ErrLivenessTimeout.With(err)
	}
	return fmt.Errorf("face capture: %w", err)
}

func livenessError(err error) error {
	for _, m := range []struct {
		cause error
		as    *kiosk.Error
	}{
		{liveness.ErrFrozen, ErrLivenessFrozen},
		{liveness.ErrTimeout, ErrLivenessTimeout},
		{liveness.ErrWrongTurn, ErrLivenessWrongTurn},
		{liveness.ErrInconsistent, ErrLivenessInconsistent},
	} {
		if errors.Is(err, m.cause) {
			return m.as.With(err)
		}
	}
	return fmt.Errorf("face capture: %w", err)
}
