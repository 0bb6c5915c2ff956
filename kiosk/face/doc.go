// Package face is the kiosk's face pipeline in pure Go: it checks and classifies the model
// files (models.go), scales each camera frame and finds exactly one face in it through a
// Recognizer (analyze.go; dlib in package kiosk/face/dlib is the only cgo), judges its
// quality (package quality), runs the liveness challenge across frames (capture.go, package
// liveness), keeps the best frames, and measures them against the resident and the snapshot
// (verify.go, package match). The band itself is decided in the core: kiosk.DecideFace.
//
// Where to look:
//
//	recognizer.go  the Recognizer interface dlib implements, RawFace, Detector
//	analyze.go     one frame → one Observation: detect on the scaled frame, describe once
//	               from a crop around the face (box, landmarks, descriptor, quality)
//	capture.go     frames → liveness challenge → best-N descriptors
//	live.go        kiosk.FaceVerifier: camera loop, officer-facing liveness errors
//	verify.go      score + 1:N search → kiosk.DecideFace
//	models.go      model files, SHA-256 classes (published, converted, development, stand-in)
package face
