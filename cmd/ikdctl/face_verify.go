package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/ikd-field/ikd/internal/imagefile"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
	"github.com/ikd-field/ikd/kiosk/face"
	"github.com/ikd-field/ikd/kiosk/face/quality"
)

// devModelDir is where a development checkout keeps the shared models.
const devModelDir = "../shared/models"

func faceVerify(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("face verify", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	models := fs.String("models", "", "model directory (default $IKD_MODELS, else "+devModelDir+")")
	reference := fs.String("reference", "", "reference photo with one face")
	descriptor := fs.String("descriptor", "", "reference descriptor: base64 of 128 little-endian float32")
	detector := fs.String("detector", "hog", "face detector: hog or cnn (about 1 s per image)")
	detectWidth := fs.Int("detect-width", 1280, "detect on the image scaled down to at most this width")
	// A diagnostic that records nothing: like the demo and the tests, it lets the modern
	// engine decide by default; the kiosk's production default is the opposite.
	allowUnverified := fs.Bool("allow-unverified-models", true, "let a face model whose licence is unverified decide (the modern engine's fr_feature.onnx); false shows what a production kiosk decides")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: ikdctl face verify [--models DIR] (--reference IMG | --descriptor B64) IMG...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(e.args); err != nil {
		return err
	}
	if (*reference == "") == (*descriptor == "") {
		return &exitError{code: 2, err: errors.New("give exactly one of --reference and --descriptor")}
	}
	if fs.NArg() == 0 {
		return &exitError{code: 2, err: errors.New("no images to verify")}
	}
	det, err := face.ParseDetector(*detector)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	var ref face.Descriptor
	if *descriptor != "" {
		if ref, err = faceVerifyDecodeDescriptor(*descriptor); err != nil {
			return &exitError{code: 2, err: err}
		}
	}

	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opt := face.DefaultOptions()
	opt.Detector, opt.DetectWidth = det, *detectWidth
	p, err := app.LoadFace(face.ResolveModelDir(*models, devModelDir), opt, log)
	if err != nil {
		return err
	}
	defer p.Close()
	if err := p.AllowUnverified(*allowUnverified); err != nil {
		return err
	}
	an, verifier, model := p.Analyzer, p.Verifier(), p.Model
	if *reference != "" {
		img, err := imagefile.Read(*reference)
		if err != nil {
			return fmt.Errorf("reference %s: %w", *reference, err)
		}
		obs, err := an.Analyze(ctx, img)
		if err != nil {
			return fmt.Errorf("reference %s: %w", *reference, err)
		}
		ref = obs.Descriptor
		if p.Modern != nil {
			// The modern engine compares templates of the same engine only: the reference
			// photo gives one, a bare --descriptor does not.
			emb, err := p.Modern.Embed(ctx, img, obs.Shape)
			if err != nil {
				return fmt.Errorf("reference %s: %w", *reference, err)
			}
			verifier = verifier.WithModern(p.Modern, oneTemplate(emb))
		}
	}
	fmt.Fprintf(e.stderr, "face engines: %s\n", p.Engines())

	failed := 0
	for _, path := range fs.Args() {
		obs, err := faceVerifyAnalyze(ctx, an, path)
		var hint quality.Hint
		switch {
		case errors.As(err, &hint):
			fmt.Fprintf(e.stdout, "%s\thint %s\t%s\n", path, hint.Code, hint.String())
			failed++
			continue
		case err != nil:
			fmt.Fprintf(e.stdout, "%s\terror %v\n", path, err)
			failed++
			continue
		}
		if h, bad := obs.Quality.Hint(); bad {
			fmt.Fprintf(e.stdout, "%s\thint %s\t%s\n", path, h.Code, h.String())
			failed++
			continue
		}
		v, err := verifier.VerifyObservations(ctx, []face.Observation{obs}, kiosk.Resident{References: []kiosk.Descriptor{ref}})
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		note := ""
		switch {
		case v.Capped:
			note = fmt.Sprintf("\t(match capped to uncertain: the recognition model is %s, not dlib's weights)", model)
		case v.Guarded:
			note = "\t(match by score, but the raw distance is too large: uncertain, compare the photos by eye)"
		}
		if v.Disagree {
			note = "\t(the engines disagree: uncertain, compare the photos by eye)"
		}
		modern := ""
		if v.Modern != nil {
			modern = fmt.Sprintf("\tsimilarity %.4f\tdlib_score %.4f", v.Modern.Similarity, v.DlibScore)
		}
		fmt.Fprintf(e.stdout, "%s\tdistance %.4f\tscore %.4f\tband %s%s\tdecided_by %s%s\n", path, v.Distance, float64(v.Score), v.Band, modern, v.DecidedBy, note)
	}
	if !model.MayMatch() {
		fmt.Fprintf(e.stderr, "WARNING: recognition model is %s, not dlib's weights: these results identify no one\n", model)
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d images could not be verified", failed, fs.NArg())}
	}
	return nil
}

// oneTemplate is the reference photo's modern template, for every resident asked about.
type oneTemplate face.Embedding

func (t oneTemplate) Template(context.Context, *face.Modern, kiosk.NIK) (face.Embedding, error) {
	return face.Embedding(t), nil
}

func faceVerifyDecodeDescriptor(s string) (face.Descriptor, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return face.Descriptor{}, fmt.Errorf("--descriptor: not base64: %w", err)
	}
	d, err := kiosk.DecodeDescriptor(b)
	if err != nil {
		return face.Descriptor{}, fmt.Errorf("--descriptor: %w", err)
	}
	return d, nil
}

func faceVerifyAnalyze(ctx context.Context, an *face.Analyzer, path string) (face.Observation, error) {
	img, err := imagefile.Read(path)
	if err != nil {
		return face.Observation{}, err
	}
	return an.Analyze(ctx, img)
}
