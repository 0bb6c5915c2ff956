package assets

import (
	"slices"
	"strings"
	"testing"
)

// Every UI text exists in both languages, with the same format verbs.
func TestCatalogsAgree(t *testing.T) {
	id, err := LoadCatalog("id")
	if err != nil {
		t.Fatal(err)
	}
	en, err := LoadCatalog("en")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(id.Keys(), en.Keys()) {
		t.Fatalf("catalog keys differ:\nid: %v\nen: %v", id.Keys(), en.Keys())
	}
	for _, k := range id.Keys() {
		if strings.Count(id[k], "%") != strings.Count(en[k], "%") {
			t.Errorf("%s: format verbs differ: %q vs %q", k, id[k], en[k])
		}
		if id[k] == "" || en[k] == "" {
			t.Errorf("%s: empty text", k)
		}
	}
}

func TestMissingKeyIsVisible(t *testing.T) {
	c := Catalog{"a": "x %d"}
	if got := c.T("b"); got != "!b" {
		t.Fatalf("T(missing) = %q", got)
	}
	if got := c.T("a", 3); got != "x 3" {
		t.Fatalf("T(a, 3) = %q", got)
	}
	if _, err := LoadCatalog("fr"); err == nil {
		t.Fatal("LoadCatalog(fr) succeeded")
	}
}
