// Package assets embeds the kiosk's static files: UI translations (Bahasa Indonesia first,
// English) and, in subpackages, learned parameters such as the face score calibration.
package assets

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
)

//go:embed i18n/*.json
var i18nFS embed.FS

// Catalog maps message keys to text in one language.
type Catalog map[string]string

// LoadCatalog returns the UI text for lang ("id" or "en").
func LoadCatalog(lang string) (Catalog, error) {
	b, err := i18nFS.ReadFile("i18n/" + lang + ".json")
	if err != nil {
		return nil, fmt.Errorf("load catalog %q: %w", lang, err)
	}
	var c Catalog
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("parse catalog %q: %w", lang, err)
	}
	return c, nil
}

// T returns the text for key, formatted with args; a missing key shows itself so that it is
// noticed rather than silently blank.
func (c Catalog) T(key string, args ...any) string {
	s, ok := c[key]
	if !ok {
		return "!" + key
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// Keys returns the catalog's keys in order.
func (c Catalog) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
