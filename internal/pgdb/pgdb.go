// Package pgdb makes throwaway PostgreSQL databases: one per test (internal/pgtest) or per
// benchmark measurement (sync/syncbench), so none inherits another's rows. It does not import
// testing, so benchmark code linked into ikdctl can use it.
package pgdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Create makes an empty database named prefix plus random hex on the server of baseURL and
// returns its URL (baseURL's user, host and options, another database) and a function that
// drops it, ending any connection still open to it.
func Create(ctx context.Context, baseURL, prefix string) (string, func() error, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("random database name: %w", err)
	}
	name := prefix + hex.EncodeToString(b[:])
	// The name is made here of [a-z0-9_], so quoting it as an identifier is all it needs.
	ident := pgx.Identifier{name}.Sanitize()
	dbURL, err := withDatabase(baseURL, name)
	if err != nil {
		return "", nil, err
	}
	if err := Exec(ctx, baseURL, "CREATE DATABASE "+ident); err != nil {
		return "", nil, err
	}
	drop := func() error {
		// A backend that is still going away (an autovacuum worker, a pool's last connection)
		// can make one DROP fail; a few tries a moment apart outlast it.
		var err error
		for try := range 5 {
			if err = Exec(context.WithoutCancel(ctx), baseURL, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err == nil {
				return nil
			}
			time.Sleep(time.Duration(try+1) * 200 * time.Millisecond)
		}
		return err
	}
	return dbURL, drop, nil
}

// withDatabase returns rawURL pointing at database name, keeping user, host and options.
func withDatabase(rawURL, name string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("parse PostgreSQL URL: %w", err)
	}
	u.Path, u.RawPath = "/"+name, ""
	return u.String(), nil
}

// Exec runs one statement on a connection of its own: CREATE and DROP DATABASE cannot run in
// a transaction, and a short-lived connection keeps callers free of shared state. pgxpool's
// own settings in the URL (pool_max_conns, say) are no server parameters and are left out.
func Exec(ctx context.Context, rawURL, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if u, err := url.Parse(rawURL); err == nil {
		q := u.Query()
		for k := range q {
			if strings.HasPrefix(k, "pool_") {
				q.Del(k)
			}
		}
		u.RawQuery = q.Encode()
		rawURL = u.String()
	}
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", Redact(rawURL), err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// Redact hides the password of a URL, for messages and logs.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
