// Package kiosk is the domain core of the IKD field kiosk: NIK, residents, officers,
// activations and deactivations, and the counter workflow as an explicit state machine.
//
// It is pure Go: no GUI, no cgo, no SQL. It talks to the outside world through the small
// interfaces in ports.go; adapters in subpackages (store, face, qr, token) and in camera/ and
// sync/ implement them, and cmd/ wires them together.
package kiosk
