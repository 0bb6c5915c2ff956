package ui

import (
	"fmt"

	"github.com/ikd-field/ikd/assets"
	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/app"
)

// Text is the UI's language at run time: both catalogs are loaded once so that switching
// language never fails halfway through a visit.
type Text struct {
	lang     kiosk.Lang
	catalogs map[kiosk.Lang]assets.Catalog
}

// NewText loads both catalogs and starts in lang.
func NewText(lang kiosk.Lang) (*Text, error) {
	t := &Text{lang: lang, catalogs: map[kiosk.Lang]assets.Catalog{}}
	for _, l := range []kiosk.Lang{kiosk.LangID, kiosk.LangEN} {
		c, err := assets.LoadCatalog(string(l))
		if err != nil {
			return nil, fmt.Errorf("ui text: %w", err)
		}
		t.catalogs[l] = c
	}
	if lang != kiosk.LangEN {
		t.lang = kiosk.LangID
	}
	return t, nil
}

// Lang is the current language.
func (t *Text) Lang() kiosk.Lang { return t.lang }

// SetLang switches the language; screens are rebuilt by the shell to pick it up.
func (t *Text) SetLang(l kiosk.Lang) {
	if l == kiosk.LangEN {
		t.lang = kiosk.LangEN
		return
	}
	t.lang = kiosk.LangID
}

// T returns the text of key in the current language, formatted with args.
func (t *Text) T(key string, args ...any) string { return t.catalogs[t.lang].T(key, args...) }

// Err returns err in the officer's words (the *kiosk.Error message, or the generic one).
func (t *Text) Err(err error) string { return kiosk.OfficerMessage(err, t.lang) }

// hintKeys map the core's progress hints (kiosk/app) to the UI's words for the citizen.
var hintKeys = map[string]string{
	app.HintShowQR:      "ui.activation.show_qr",
	app.HintQRRead:      "ui.scan.read",
	app.HintFaceLoading: "ui.face.loading",
}

// Hint returns the text of a hint key from the core (scan and face progress); an empty key
// gives an empty text.
func (t *Text) Hint(key string) string {
	if key == "" {
		return ""
	}
	if k, ok := hintKeys[key]; ok {
		return t.T(k)
	}
	return t.T(key)
}
