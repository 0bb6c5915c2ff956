package pgdb

import "testing"

func TestWithDatabaseKeepsOptions(t *testing.T) {
	got, err := withDatabase("postgres://ikd:ikd@127.0.0.1:5432/ikd_test?sslmode=disable", "ikd_t_00")
	if err != nil {
		t.Fatal(err)
	}
	want := "postgres://ikd:ikd@127.0.0.1:5432/ikd_t_00?sslmode=disable"
	if got != want {
		t.Fatalf("withDatabase = %s, want %s", got, want)
	}
}
