package camera

import (
	"strings"

	"github.com/ikd-field/ikd/kiosk"
)

// Sentinel errors callers branch on (errors.Is). Each carries officer text in Bahasa
// Indonesia and English; kiosk.OfficerMessage reads it.
var (
	// ErrNoCamera: the device node does not exist or no capture device is attached.
	ErrNoCamera error = &kiosk.Error{Code: "camera.none", Msg: kiosk.Message{ID: "kamera tidak ditemukan", EN: "no camera found"}}
	// ErrDeviceGone: the camera stopped delivering frames mid-session (unplugged, read
	// error, or no frame within the frame timeout). Re-opening may bring it back.
	ErrDeviceGone error = &kiosk.Error{Code: "camera.gone", Msg: kiosk.Message{ID: "kamera terputus", EN: "camera disconnected"}}
	// ErrCameraBusy: another program holds the camera.
	ErrCameraBusy error = &kiosk.Error{Code: "camera.busy", Msg: kiosk.Message{ID: "kamera sedang dipakai aplikasi lain", EN: "camera is in use by another program"}}
	// ErrCameraPermission: the kiosk user may not open the device (not in the video group).
	ErrCameraPermission error = &kiosk.Error{Code: "camera.permission", Msg: kiosk.Message{ID: "tidak ada izin membuka kamera", EN: "no permission to open the camera"}}
	// ErrUnsupportedCamera: the device offers neither MJPEG nor YUYV, or no usable size.
	ErrUnsupportedCamera error = &kiosk.Error{Code: "camera.unsupported", Msg: kiosk.Message{ID: "format kamera tidak didukung", EN: "camera format not supported"}}
	// ErrBadFrames: the camera keeps sending frames that cannot be decoded.
	ErrBadFrames error = &kiosk.Error{Code: "camera.bad_frames", Msg: kiosk.Message{ID: "gambar dari kamera rusak", EN: "camera sends corrupt frames"}}
)

// DeviceError reports a failed operation on one camera device. Kind is one of the
// sentinels above (errors.Is matches it); Err is the underlying cause for the operator.
type DeviceError struct {
	Device string // e.g. "/dev/video0"
	Op     string // e.g. "open", "read frame"
	Kind   error
	Err    error
}

func (e *DeviceError) Error() string {
	var b strings.Builder
	b.WriteString("camera ")
	b.WriteString(e.Device)
	b.WriteString(": ")
	b.WriteString(e.Op)
	if e.Kind != nil {
		b.WriteString(": ")
		b.WriteString(e.Kind.Error())
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *DeviceError) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}
