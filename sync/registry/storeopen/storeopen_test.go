package storeopen

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// haURL is the form build/postgres-ha.sh prints: both nodes of the formation, and only a
// read-write server will do.
const haURL = "postgres://ikd:secret@127.0.0.1:5441,127.0.0.1:5442/ikd_ha?target_session_attrs=read-write&sslmode=disable"

func TestMultiHostURL(t *testing.T) {
	if got, want := Redact(haURL), "postgres://ikd:xxxxx@127.0.0.1:5441,127.0.0.1:5442/ikd_ha?target_session_attrs=read-write&sslmode=disable"; got != want {
		t.Errorf("Redact = %s, want %s", got, want)
	}
	// The pool the registry opens (sqlstore.OpenPostgres) tries the hosts in order and keeps the
	// first that is not in recovery.
	cfg, err := pgxpool.ParseConfig(haURL)
	if err != nil {
		t.Fatal(err)
	}
	cc := cfg.ConnConfig
	if cc.Host != "127.0.0.1" || cc.Port != 5441 || len(cc.Fallbacks) != 1 || cc.Fallbacks[0].Port != 5442 {
		t.Errorf("hosts: %s:%d then %+v, want 127.0.0.1:5441 then 127.0.0.1:5442", cc.Host, cc.Port, cc.Fallbacks)
	}
	if cc.ValidateConnect == nil {
		t.Error("target_session_attrs=read-write sets no check of the server")
	}
}

func TestOpenRefusesOtherSchemes(t *testing.T) {
	_, err := Open(t.Context(), "mysql://u:hunter2@h/db")
	if err == nil {
		t.Fatal("Open accepted a mysql URL")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the error shows the password: %v", err)
	}
}
