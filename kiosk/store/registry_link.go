package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"net/url"
)

// The registry link: where this kiosk syncs, set by `ikdctl enroll`. It carries a row MAC:
// someone who can write the file but lacks the unlock secret must not be able to point the
// kiosk at a registry of their own, which would receive its records and could feed it
// residents and token keys.

const metaRegistryURL = "registry_url"

// SetRegistryURL stores the registry the kiosk enrolled with.
func (s *Store) SetRegistryURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ErrInvalidRecord.With(fmt.Errorf("registry URL %q: want http(s)://host[:port]", raw))
	}
	b := []byte(u.String())
	if err := setMeta(ctx, s.db, metaRegistryURL, append(s.keys.rowMAC("registry_url", macFields{b}), b...)); err != nil {
		return fmt.Errorf("save registry URL: %w", classify(err))
	}
	return nil
}

// RegistryURL returns the registry the kiosk enrolled with, "" before enrollment, or an
// error matching ErrTampered when the stored value was changed outside the kiosk.
func (s *Store) RegistryURL(ctx context.Context) (string, error) {
	return s.registryURL(ctx, s.db)
}

func (s *Store) registryURL(ctx context.Context, q querier) (string, error) {
	v, err := getMeta(ctx, q, metaRegistryURL)
	if err != nil || v == nil {
		return "", err
	}
	if len(v) < sha256.Size || !s.keys.checkRow("registry_url", macFields{v[sha256.Size:]}, v[:sha256.Size]) {
		return "", tampered("meta", metaRegistryURL, "MAC does not match (edited outside the kiosk)")
	}
	return string(v[sha256.Size:]), nil
}

func (s *Store) verifyRegistryLink(ctx context.Context, tx *sql.Tx) (TableReport, error) {
	t := TableReport{Table: "registry link"}
	u, err := s.registryURL(ctx, tx)
	if re := rowErr(err); re != nil {
		t.Rows, t.Bad = 1, append(t.Bad, *re)
		return t, nil
	}
	if u != "" {
		t.Rows = 1
	}
	return t, err
}

// The area the registry enrolled the kiosk for, also set by `ikdctl enroll`, with a row MAC
// like the URL: a delta carried on a stick is applied only when it is for this area, so
// editing the area would let a stick of another kecamatan replace the residents.
const metaRegistryArea = "registry_area"

// SetRegistryArea stores the area (kecamatan, or a comma-separated list) the kiosk enrolled for.
func (s *Store) SetRegistryArea(ctx context.Context, area string) error {
	if area == "" {
		return ErrInvalidRecord.With(fmt.Errorf("empty registry area"))
	}
	b := []byte(area)
	if err := setMeta(ctx, s.db, metaRegistryArea, append(s.keys.rowMAC("registry_area", macFields{b}), b...)); err != nil {
		return fmt.Errorf("save registry area: %w", classify(err))
	}
	return nil
}

// RegistryArea returns the area the kiosk enrolled for, "" when unknown (before enrollment, or
// enrolled by a version that did not keep it), or an error matching ErrTampered.
func (s *Store) RegistryArea(ctx context.Context) (string, error) {
	v, err := getMeta(ctx, s.db, metaRegistryArea)
	if err != nil || v == nil {
		return "", err
	}
	if len(v) < sha256.Size || !s.keys.checkRow("registry_area", macFields{v[sha256.Size:]}, v[:sha256.Size]) {
		return "", tampered("meta", metaRegistryArea, "MAC does not match (edited outside the kiosk)")
	}
	return string(v[sha256.Size:]), nil
}
