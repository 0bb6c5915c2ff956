package pgtest

import (
	"context"
	"github.com/ikd-field/ikd/internal/pgdb"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestFreshDatabase(t *testing.T) {
	base := URL(t)

	var first, second string
	t.Run("create", func(t *testing.T) {
		first = FreshDatabase(t)
		second = FreshDatabase(t)
		if first == second {
			t.Fatalf("two calls gave the same database: %s", pgdb.Redact(first))
		}

		ctx := context.Background()
		conn, err := pgx.Connect(ctx, first)
		if err != nil {
			t.Fatalf("connect to the fresh database: %v", err)
		}
		defer conn.Close(ctx)

		var tables int
		if err := conn.QueryRow(ctx,
			`SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`,
		).Scan(&tables); err != nil {
			t.Fatalf("count tables: %v", err)
		}
		if tables != 0 {
			t.Fatalf("fresh database has %d tables, want 0", tables)
		}

		// Usable: the owner can create and read a table (on PostgreSQL 15 only the database
		// owner may create in public, so this also checks ownership).
		if _, err := conn.Exec(ctx, `CREATE TABLE t (n int); INSERT INTO t VALUES (42)`); err != nil {
			t.Fatalf("create table: %v", err)
		}
		var n int
		if err := conn.QueryRow(ctx, `SELECT n FROM t`).Scan(&n); err != nil || n != 42 {
			t.Fatalf("read back: n=%d err=%v", n, err)
		}
		// The connection is deliberately left open: the cleanup's FORCE must cope with it.
	})

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", pgdb.Redact(base), err)
	}
	defer conn.Close(ctx)
	for _, u := range []string{first, second} {
		name := dbName(t, u)
		if !strings.HasPrefix(name, "ikd_t_") {
			t.Errorf("database name %q lacks the ikd_t_ prefix", name)
		}
		var exists bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
			t.Fatalf("look up %s: %v", name, err)
		}
		if exists {
			t.Errorf("database %s still exists after the subtest's cleanup", name)
		}
	}
}

func dbName(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("parse %s: %v", pgdb.Redact(rawURL), err)
	}
	return strings.TrimPrefix(u.Path, "/")
}
