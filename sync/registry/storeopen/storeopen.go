// Package storeopen opens the registry's database named by a --db value: "sqlite:PATH" for
// the embedded default, "postgres://…" (or "postgresql://…") for PostgreSQL.
package storeopen

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/sqlstore"
)

// Open opens and migrates the database dsn names.
func Open(ctx context.Context, dsn string) (registry.Store, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, fmt.Errorf("--db %q: no file after sqlite:", dsn)
		}
		return sqlstore.OpenSQLite(ctx, path)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return sqlstore.OpenPostgres(ctx, dsn)
	}
	return nil, fmt.Errorf("--db %q: want sqlite:PATH or postgres://USER@HOST/DB", Redact(dsn))
}

// ErrNoDataKey: no --data-key-file was given. The registry does not run with personal data
// in clear.
var ErrNoDataKey = errors.New("--data-key-file is required (make one with: ikd-registry keys new-data-key --out FILE)")

// OpenSealed opens the database dsn names with personal data sealed under the keys in the
// data key file at keyFile (see registry.Seal).
func OpenSealed(ctx context.Context, dsn, keyFile string) (registry.Store, error) {
	if keyFile == "" {
		return nil, ErrNoDataKey
	}
	keys, err := registry.ReadDataKeys(keyFile)
	if err != nil {
		return nil, err
	}
	st, err := Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return registry.Seal(st, keys), nil
}

// Redact returns dsn without its password, for logs.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	return u.Redacted()
}
