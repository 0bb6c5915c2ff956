// Package pgtest gives tests a real PostgreSQL server: the one CI starts (build/postgres.sh,
// whose URL is in IKD_TEST_POSTGRES) or a developer's local one at the default address.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the variable holding the server's URL, as printed by build/postgres.sh.
const EnvVar = "IKD_TEST_POSTGRES"

// DefaultURL is what build/postgres.sh prints for Debian's default cluster; it is tried when
// EnvVar is unset so a developer who ran the script once needs no export.
const DefaultURL = "postgres://ikd:ikd@127.0.0.1:5432/ikd_test?sslmode=disable"

// connectTimeout bounds each attempt: a missing server should skip or fail fast, not hang.
const connectTimeout = 5 * time.Second

// URL returns the URL of a server that answers. With EnvVar set, a server that does not
// answer fails the test (CI promised one); without it, the test is skipped unless a server
// answers at DefaultURL.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvVar); u != "" {
		if err := ping(u); err != nil {
			t.Fatalf("pgtest: %s is set but the server does not answer: %v (run build/postgres.sh as root)", EnvVar, err)
		}
		return u
	}
	if err := ping(DefaultURL); err != nil {
		t.Skipf("pgtest: no PostgreSQL server (%s is unset; %v); "+
			"run `sudo build/postgres.sh` and export %s=$(build/postgres.sh)", EnvVar, err, EnvVar)
	}
	return DefaultURL
}

// FreshDatabase creates an empty database with a unique name on the server of URL, drops it
// when the test ends, and returns its URL, so tests neither share state nor leave any behind.
func FreshDatabase(t testing.TB) string {
	t.Helper()
	base := URL(t)

	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("pgtest: random database name: %v", err)
	}
	name := "ikd_t_" + hex.EncodeToString(b[:])

	// The name is made here of [a-z0-9_], so quoting it as an identifier is all it needs.
	ident := pgx.Identifier{name}.Sanitize()
	if err := exec(base, "CREATE DATABASE "+ident); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// FORCE ends connections the test left open (a pool not yet closed, say).
		if err := exec(base, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})

	u, err := withDatabase(base, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return u
}

// ping connects to rawURL and runs a trivial query.
func ping(rawURL string) error {
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", redact(rawURL), err)
	}
	defer conn.Close(context.Background())
	if err := conn.Ping(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", redact(rawURL), err)
	}
	return nil
}

// exec runs one statement on its own connection; CREATE and DROP DATABASE cannot run in a
// transaction, and a short-lived connection keeps the helper free of shared state.
func exec(rawURL, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", redact(rawURL), err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// withDatabase returns rawURL pointing at database name, keeping user, host and options.
func withDatabase(rawURL, name string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", EnvVar, err)
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

// redact hides the password so it does not end up in test logs.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
