package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
)

// fileState is what Verify must leave alone: every file in the store's directory, with its
// bytes and modification time.
type fileState map[string]struct {
	data  []byte
	mtime time.Time
}

func dirState(t *testing.T, dir string) fileState {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := fileState{}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		st[e.Name()] = struct {
			data  []byte
			mtime time.Time
		}{b, fi.ModTime()}
	}
	return st
}

func sameState(t *testing.T, before, after fileState) {
	t.Helper()
	for name, b := range before {
		a, ok := after[name]
		switch {
		case !ok:
			t.Errorf("%s: removed by verify", name)
		case !bytes.Equal(a.data, b.data):
			t.Errorf("%s: content changed by verify", name)
		case !a.mtime.Equal(b.mtime):
			t.Errorf("%s: modified by verify (%s, was %s)", name, a.mtime, b.mtime)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("%s: created by verify", name)
		}
	}
}

// TestVerifyIsReadOnly: Verify changes no byte of the store, its WAL or its anchor, whether
// the store is closed or open in the kiosk with commits still in the WAL; and a store that
// needs a migration is reported, not migrated.
func TestVerifyIsReadOnly(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, path string) (cleanup func())
		wantErr error
	}{
		{"Closed", func(t *testing.T, path string) func() { return func() {} }, nil},
		{"OpenWithWAL", func(t *testing.T, path string) func() {
			s := mustOpen(t, path, trialOptions())
			if err := s.Record(ctx, kiosk.AuditEvent{Time: time.Now(), OfficerID: "sup1", Action: "test.write"}); err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
				t.Fatalf("no WAL to keep: %v", err)
			}
			return func() { s.Close() }
		}, nil},
		{"NeedsMigration", func(t *testing.T, path string) func() {
			toSchema1(t, path)
			wrapAsSchema1(t, path)
			return func() {}
		}, ErrNeedsMigration},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := makeTrial(t)
			cleanup := tc.prepare(t, tr.path)
			defer cleanup()
			before := dirState(t, filepath.Dir(tr.path))
			rep, err := Verify(ctx, tr.path, []byte(testSecret), trialOptions())
			switch {
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("verify: %v; want %v", err, tc.wantErr)
			case tc.wantErr == nil && (err != nil || !rep.OK()):
				t.Fatalf("verify: %+v, %v; want a clean report", rep, err)
			}
			sameState(t, before, dirState(t, filepath.Dir(tr.path)))
		})
	}
}
