package camera

import (
	"errors"
	"io/fs"
)

// State is the camera's condition in words an officer can act on.
type State string

// Camera states. StateNone and StateStarting are set by the kiosk (no camera configured,
// first open under way); a Reopener reports the others.
const (
	StateNone         State = "none"
	StateStarting     State = "starting"
	StateReady        State = "ready"
	StateMissing      State = "missing"      // no such device, nothing to replay
	StateBusy         State = "busy"         // another program holds the device
	StateLost         State = "lost"         // it delivered frames, then failed
	StateReconnecting State = "reconnecting" // re-opening after a loss
	StateFailed       State = "failed"       // permission, format and the like: see the error
)

// OpenState classifies a failure to open a source.
func OpenState(err error) State {
	switch {
	case errors.Is(err, ErrNoCamera), errors.Is(err, fs.ErrNotExist), errors.Is(err, ErrEmptyReplay):
		return StateMissing
	case errors.Is(err, ErrCameraBusy):
		return StateBusy
	}
	return StateFailed
}
