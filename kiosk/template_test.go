package kiosk_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
)

func TestTemplateHalfPrecision(t *testing.T) {
	in := []float32{0.1, -0.25, 0.0333, 1, -1e-4}
	tp, err := kiosk.NewTemplate("arcface112:0123456789abcdef", in)
	if err != nil {
		t.Fatal(err)
	}
	if len(tp.Half) != 2*len(in) {
		t.Fatalf("%d bytes for %d values", len(tp.Half), len(in))
	}
	for i, v := range tp.Values() {
		// Half precision keeps 11 significant bits.
		if d := math.Abs(float64(v - in[i])); d > math.Abs(float64(in[i]))/1024 {
			t.Errorf("value %d: %v back as %v", i, in[i], v)
		}
	}
}

func TestTemplateValidate(t *testing.T) {
	half := func(bits ...uint16) []byte {
		var b []byte
		for _, v := range bits {
			b = append(b, byte(v), byte(v>>8))
		}
		return b
	}
	for _, c := range []struct {
		name string
		t    kiosk.Template
		want string // "" for valid
	}{
		{"valid", kiosk.Template{Engine: "e", Half: half(0x3c00, 0xbc00)}, ""},
		{"no engine", kiosk.Template{Half: half(0x3c00)}, "engine name of 0 bytes"},
		{"long engine", kiosk.Template{Engine: strings.Repeat("e", kiosk.MaxTemplateEngineLen+1), Half: half(0x3c00)}, "engine name of 65 bytes"},
		{"empty", kiosk.Template{Engine: "e"}, "0 bytes"},
		{"odd length", kiosk.Template{Engine: "e", Half: []byte{1, 2, 3}}, "3 bytes"},
		{"too long", kiosk.Template{Engine: "e", Half: make([]byte, 2*kiosk.MaxTemplateDims+2)}, "4098 bytes"},
		{"NaN", kiosk.Template{Engine: "e", Half: half(0x3c00, 0x7e00)}, "value 1 is NaN"},
		{"infinite", kiosk.Template{Engine: "e", Half: half(0xfc00)}, "value 0 is -Inf"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.t.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, kiosk.ErrTemplate) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want ErrTemplate mentioning %q", err, c.want)
			}
		})
	}
	// Beyond half precision's range a value becomes infinite: refused when made, not sent.
	if _, err := kiosk.NewTemplate("e", []float32{1e5}); !errors.Is(err, kiosk.ErrTemplate) {
		t.Errorf("an embedding beyond half precision: %v", err)
	}
}

func TestResidentTemplateOf(t *testing.T) {
	a := kiosk.Template{Engine: "a", Half: []byte{0, 0x3c}}
	b := kiosk.Template{Engine: "b", Half: []byte{0, 0xbc}}
	r := kiosk.Resident{Templates: []kiosk.Template{a, b}}
	if got, ok := r.TemplateOf("b"); !ok || got.Engine != "b" || got.Values()[0] != -1 {
		t.Errorf("TemplateOf(b) = %+v, %v", got, ok)
	}
	if _, ok := r.TemplateOf("c"); ok {
		t.Error("a template of an engine the resident has none of")
	}
}
