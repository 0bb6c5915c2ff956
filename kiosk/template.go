package kiosk

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/x448/float16"
)

// Template is a resident's reference for a face engine other than dlib (dlib's are
// References): the engine's identity, which names the model file's version, and the
// embedding as little-endian IEEE half-precision values. A kiosk compares a template only
// with a live embedding of the same engine.
type Template struct {
	Engine string
	Half   []byte
}

// Template limits: what a registry may send and a kiosk keeps for one resident.
const (
	MaxTemplates         = 4
	MaxTemplateEngineLen = 64
	MaxTemplateDims      = 2048
)

// ErrTemplate: a template that cannot be used (no engine, a wrong length, a NaN or infinite
// value).
var ErrTemplate = errors.New("unusable face template")

// NewTemplate is engine's template of the embedding values, in half precision.
func NewTemplate(engine string, values []float32) (Template, error) {
	b := make([]byte, 0, 2*len(values))
	for _, v := range values {
		b = binary.LittleEndian.AppendUint16(b, float16.Fromfloat32(v).Bits())
	}
	t := Template{Engine: engine, Half: b}
	return t, t.Validate()
}

// Values is the embedding, back in float32.
func (t Template) Values() []float32 { return t.AppendValues(nil) }

// AppendValues appends the embedding in float32 to dst: a pass over every resident reuses one
// buffer rather than allocate one per template.
func (t Template) AppendValues(dst []float32) []float32 {
	for i := 0; i+1 < len(t.Half); i += 2 {
		dst = append(dst, float16.Frombits(binary.LittleEndian.Uint16(t.Half[i:])).Float32())
	}
	return dst
}

// Validate reports ErrTemplate for an engine name that is empty or too long, a length that is
// not whole half-precision values within MaxTemplateDims, or a NaN or infinite value (half
// precision overflows to infinity beyond 65504, so an out-of-range embedding shows here).
func (t Template) Validate() error {
	if t.Engine == "" || len(t.Engine) > MaxTemplateEngineLen {
		return fmt.Errorf("%w: engine name of %d bytes", ErrTemplate, len(t.Engine))
	}
	if len(t.Half) == 0 || len(t.Half)%2 != 0 || len(t.Half) > 2*MaxTemplateDims {
		return fmt.Errorf("%w: %s: %d bytes, want 2 to %d, even", ErrTemplate, t.Engine, len(t.Half), 2*MaxTemplateDims)
	}
	for i := 0; i < len(t.Half); i += 2 {
		h := float16.Frombits(binary.LittleEndian.Uint16(t.Half[i:]))
		if h.IsNaN() || h.IsInf(0) {
			return fmt.Errorf("%w: %s: value %d is %v", ErrTemplate, t.Engine, i/2, h.Float32())
		}
	}
	return nil
}

// TemplateOf is r's template of engine, if it carries one.
func (r Resident) TemplateOf(engine string) (Template, bool) {
	for _, t := range r.Templates {
		if t.Engine == engine {
			return t, true
		}
	}
	return Template{}, false
}
