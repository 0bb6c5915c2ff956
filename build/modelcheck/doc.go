// Package modelcheck holds the tests of the face-api → dlib model converter
// (face_api_to_dlib.cc) and of the models build/models.sh installs. They are heavy (a C++
// converter, cgo and dlib), so they build only with the "models" tag: `make check-models`.
package modelcheck
