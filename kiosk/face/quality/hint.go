// Package quality judges whether one camera frame of a face is good enough to describe: face
// size, head pose from dlib's 5 or 68 landmarks (FromShape), sharpness, exposure and
// contrast. Every failure comes with a hint the citizen can act on, in Bahasa Indonesia first
// and English. It is pure Go and knows nothing of dlib.
package quality

import "fmt"

// Hint is an instruction for the citizen in front of the camera, with a stable code for
// logs and tests. It is also used as an error.
type Hint struct {
	Code string
	ID   string // Bahasa Indonesia
	EN   string
}

func (h Hint) String() string { return h.ID + " / " + h.EN }

// Error makes a Hint usable as an error value; errors.Is matches by code.
func (h Hint) Error() string { return fmt.Sprintf("%s (%s)", h.EN, h.Code) }

// Is matches another Hint with the same code.
func (h Hint) Is(target error) bool {
	t, ok := target.(Hint)
	return ok && t.Code == h.Code
}

// Hints the quality gate and the face pipeline give.
var (
	HintNoFace       = Hint{"face.none", "Wajah tidak terlihat: hadap ke kamera", "No face found: look at the camera"}
	HintSeveralFaces = Hint{"face.several", "Terlihat lebih dari satu wajah: hanya satu orang di depan kamera", "More than one face: only one person in front of the camera"}
	HintTooSmall     = Hint{"face.too_small", "Mendekat ke kamera", "Come closer to the camera"}
	HintTooLarge     = Hint{"face.too_large", "Mundur sedikit dari kamera", "Move back a little"}
	HintOffCentre    = Hint{"face.off_centre", "Posisikan wajah di tengah layar", "Centre your face on the screen"}
	HintRoll         = Hint{"face.roll", "Tegakkan kepala", "Hold your head upright"}
	HintYaw          = Hint{"face.yaw", "Hadap lurus ke kamera", "Face the camera straight on"}
	HintBlurry       = Hint{"face.blurry", "Diam sebentar, gambar buram", "Hold still, the image is blurry"}
	HintTooDark      = Hint{"face.too_dark", "Terlalu gelap: cari tempat yang lebih terang", "Too dark: move to better light"}
	HintTooBright    = Hint{"face.too_bright", "Terlalu terang: hindari cahaya langsung ke wajah", "Too bright: avoid direct light on the face"}
	HintLowContrast  = Hint{"face.low_contrast", "Cahaya kurang merata: hadapkan wajah ke arah cahaya", "Flat lighting: turn your face towards the light"}
)
