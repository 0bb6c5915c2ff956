// Package pgtest gives tests a real PostgreSQL server: the one CI starts (build/postgres.sh,
// whose URL is in IKD_TEST_POSTGRES) or a developer's local one at the default address.
package pgtest

import (
	"context"
	"fmt"
	"github.com/ikd-field/ikd/internal/pgdb"
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
	u, drop, err := pgdb.Create(context.Background(), URL(t), "ikd_t_")
	if err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	return u
}

// ping connects to rawURL and runs a trivial query.
func ping(rawURL string) error {
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", pgdb.Redact(rawURL), err)
	}
	defer conn.Close(context.Background())
	if err := conn.Ping(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", pgdb.Redact(rawURL), err)
	}
	return nil
}
