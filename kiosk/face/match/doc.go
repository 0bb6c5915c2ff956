// Package match decides whether a live face is a resident's, from dlib face descriptors,
// without cgo. The face pipeline (package face) produces descriptors; this package scores
// them and searches a snapshot 1:N; kiosk.DecideFace places the score in a band.
//
// Use:
//
//	cal, err := match.Default()                   // shipped calibration (assets/calibration)
//	s, err := cal.Score(liveFrames, references)   // fuses frames and references; smaller = more alike
//	res := kiosk.DecideFace(cal.Thresholds, nik, kiosk.FaceEvidence{Score: float64(s), ...})
//	ix, err := match.NewIndex(cal, snapshotRefs)  // once per snapshot: projects every reference
//	hits, err := ix.Search(liveFrames, match.Score(cal.Thresholds.Match)) // other NIKs the face matches
//
// The score is not raw Euclidean distance: descriptors are L2-normalised, centred and
// whitened against the within-person covariance learned from labelled descriptors (WCCN),
// compared by cosine, and mapped affinely onto the raw-distance scale (same impostor mean
// and spread as raw distance on the calibration data), so thresholds read like raw ones.
// At the shipped match threshold the people-disjoint cross-validated FMR is below 1e-3
// where raw distance needs t = 0.320 with FNMR 87.9 %; the calibrated FNMR there is about
// 73 % with one live frame and 48 % with three fused. The full table, with the command that
// prints it, is in assets/calibration/README.md.
//
// The modern engine's templates (kiosk/face.Modern) are searched 1:N by TemplateIndex: int8
// with one scale per template, 103 MB at 200,000 residents, exact brute force.
//
// This package is what runs in the kiosk. Fitting (fit.Fit, fit.CrossValidate) and
// evaluation (fit.PairScores) are offline tools in package fit, with their commands in
// cmd/ (go run ./kiosk/face/match/cmd/calibfit regenerates and checks the shipped asset).
package match
