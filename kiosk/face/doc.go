// Package face is the kiosk's face pipeline on dlib through go-face (cgo): it loads and
// checks the models, finds exactly one face in a camera frame (HOG on a downscaled copy, CNN
// as an option), reads its 5 landmarks and descriptor, judges quality (package quality), runs
// the liveness challenge across frames (package liveness), keeps the best frames and
// verifies them against a reference with the calibrated matcher (package match).
package face
