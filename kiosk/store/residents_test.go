package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

func ndjson(t testing.TB, rs ...kiosk.Resident) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	for _, r := range rs {
		line, err := snapshot.EncodeLine(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	return &b
}

func TestImportAndLookup(t *testing.T) {
	ctx := context.Background()
	s, _ := mustCreate(t, testOptions())
	rs := []kiosk.Resident{snapshot.Synthetic(7, 0), snapshot.Synthetic(7, 1), snapshot.Synthetic(7, 2)}
	rs[2].References = nil
	rs[1].Photo = []byte("\xff\xd8\xff\xe0 tiny jpeg")

	c, err := s.ImportResidents(ctx, ndjson(t, rs...), "cursor-1")
	if err != nil {
		t.Fatal(err)
	}
	if c != (SnapshotCounts{Added: 3}) {
		t.Errorf("counts = %+v, want 3 added", c)
	}
	for _, want := range rs {
		got, err := s.ResidentByNIK(ctx, want.NIK)
		if err != nil {
			t.Fatalf("lookup %s: %v", want.NIK.Masked(), err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("lookup %s:\n got %+v\nwant %+v", want.NIK.Masked(), got, want)
		}
	}
	if cur, _ := s.SnapshotCursor(ctx); cur != "cursor-1" {
		t.Errorf("cursor = %q", cur)
	}

	t.Run("ReimportUpdates", func(t *testing.T) {
		changed := rs[0]
		changed.Address = "Jl. Baru 2"
		c, err := s.ImportResidents(ctx, ndjson(t, changed, snapshot.Synthetic(7, 3)), "cursor-2")
		if err != nil {
			t.Fatal(err)
		}
		if c != (SnapshotCounts{Added: 1, Updated: 1}) {
			t.Errorf("counts = %+v, want 1 added 1 updated", c)
		}
		got, _ := s.ResidentByNIK(ctx, changed.NIK)
		if got.Address != "Jl. Baru 2" {
			t.Errorf("address = %q after re-import", got.Address)
		}
	})
	t.Run("UnknownNIK", func(t *testing.T) {
		_, err := s.ResidentByNIK(ctx, "3201010101010099")
		if !errors.Is(err, kiosk.ErrResidentNotFound) {
			t.Fatalf("err = %v, want ErrResidentNotFound", err)
		}
	})
	t.Run("ApplyDelta", func(t *testing.T) {
		inactive := rs[1]
		inactive.Status = kiosk.ResidentInactive
		c, err := s.ApplyResidents(ctx, []kiosk.Resident{inactive}, []kiosk.NIK{rs[2].NIK}, "cursor-3")
		if err != nil {
			t.Fatal(err)
		}
		if c != (SnapshotCounts{Updated: 1, Removed: 1}) {
			t.Errorf("counts = %+v", c)
		}
		if _, err := s.ResidentByNIK(ctx, rs[2].NIK); !errors.Is(err, kiosk.ErrResidentNotFound) {
			t.Errorf("removed resident: err = %v", err)
		}
		if got, _ := s.ResidentByNIK(ctx, rs[1].NIK); got.Status != kiosk.ResidentInactive {
			t.Errorf("status = %s", got.Status)
		}
		if cur, _ := s.SnapshotCursor(ctx); cur != "cursor-3" {
			t.Errorf("cursor = %q", cur)
		}
	})
}

func TestImportRejectsBadLines(t *testing.T) {
	ctx := context.Background()
	s, _ := mustCreate(t, testOptions())
	if _, err := s.ImportResidents(ctx, ndjson(t, snapshot.Synthetic(3, 0)), "before"); err != nil {
		t.Fatal(err)
	}
	good := func(i int) string {
		l, _ := snapshot.EncodeLine(snapshot.Synthetic(3, i))
		return string(l)
	}
	edit := func(i int, from, to string) string { return strings.Replace(good(i), from, to, 1) }
	r := snapshot.Synthetic(3, 5)
	lines := []struct{ text, reason string }{
		{good(1), ""},
		{`{"nik":`, "not a JSON object"},
		{edit(2, `"nik":"32`, `"nik":"99`), "province"},
		{edit(3, `"sex":"F"`, `"sex":"M"`), "sex M does not match the NIK"},
		{edit(5, r.BirthDate.Format(time.DateOnly), r.BirthDate.AddDate(0, 0, 1).Format(time.DateOnly)), "birth_date"},
		{edit(6, `"status":"active"`, `"status":"dead"`), "status"},
		{edit(7, `"descriptor":"`, `"descriptor":"AAAA`), "descriptor"},
		{edit(8, `"name":"`, `"nama":"`), "unknown field"},
		{good(1), "the same NIK as line 1"},
		{edit(9, `"birth_date":"`, `"birth_date":"x`), "not a date"},
		{good(10) + ` {}`, "extra data"},
		{strings.Repeat(" ", snapshot.MaxLineBytes+10), "longer than"},
		{"", ""}, // blank lines are ignored
		{good(11), ""},
	}
	var in strings.Builder
	for _, l := range lines {
		in.WriteString(l.text + "\n")
	}
	c, err := s.ImportResidents(ctx, strings.NewReader(in.String()), "after")
	if !errors.Is(err, ErrImportRejected) {
		t.Fatalf("err = %v, want ErrImportRejected", err)
	}
	var ie *ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("err %v carries no *ImportError", err)
	}
	var want []int
	for i, l := range lines {
		if l.reason != "" {
			want = append(want, i+1)
		}
	}
	if c.Rejected != len(want) || ie.Rejected != len(want) {
		t.Errorf("rejected = %d / %d, want %d", c.Rejected, ie.Rejected, len(want))
	}
	for i, le := range ie.Lines {
		if i >= len(want) || le.Line != want[i] {
			t.Errorf("line error %d is for line %d, want %v", i, le.Line, want)
			continue
		}
		if reason := lines[le.Line-1].reason; !strings.Contains(le.Err.Error(), reason) {
			t.Errorf("line %d: %q does not say %q", le.Line, le.Err, reason)
		}
	}
	// Nothing was imported: the good lines are absent and the cursor is unchanged.
	if n, _ := s.ResidentCount(ctx); n != 1 {
		t.Errorf("residents = %d after a rejected import, want 1", n)
	}
	if cur, _ := s.SnapshotCursor(ctx); cur != "before" {
		t.Errorf("cursor = %q after a rejected import", cur)
	}
}

func TestImportReportsAtMostCapLines(t *testing.T) {
	s, _ := mustCreate(t, testOptions())
	in := strings.Repeat("bukan json\n", MaxReportedLines+20)
	_, err := s.ImportResidents(context.Background(), strings.NewReader(in), "")
	var ie *ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v", err)
	}
	if len(ie.Lines) != MaxReportedLines || ie.Rejected != MaxReportedLines+20 {
		t.Errorf("reported %d of %d", len(ie.Lines), ie.Rejected)
	}
	if !strings.Contains(ie.Error(), "and 20 more") {
		t.Errorf("error text does not mention the rest: %s", ie.Error()[len(ie.Error())-40:])
	}
}

func TestImportCancelled(t *testing.T) {
	s, _ := mustCreate(t, testOptions())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var b bytes.Buffer
	if err := snapshot.WriteSynthetic(&b, 1, 2000); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportResidents(ctx, &b, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n, _ := s.ResidentCount(context.Background()); n != 0 {
		t.Errorf("%d residents after a cancelled import", n)
	}
}

// EachResident gives every resident whole: its references (none for some) and its templates.
func TestEachResidentGivesReferencesAndTemplates(t *testing.T) {
	ctx := context.Background()
	s, _ := mustCreate(t, testOptions())
	rs := []kiosk.Resident{snapshot.Synthetic(9, 0), snapshot.Synthetic(9, 1), snapshot.Synthetic(9, 2)}
	rs[1].References = nil
	rs[2].References = append(rs[2].References, kiosk.Descriptor{0.5, -0.25})
	tp, err := kiosk.NewTemplate("arcface112-crop2:test", []float32{0.5, 0.5})
	if err != nil {
		t.Fatal(err)
	}
	rs[1].Templates = []kiosk.Template{tp}
	if _, err := s.ApplyResidents(ctx, rs, nil, "c1"); err != nil {
		t.Fatal(err)
	}
	refs, templates := map[kiosk.NIK][]kiosk.Descriptor{}, map[kiosk.NIK][]kiosk.Template{}
	err = s.EachResident(ctx, func(r kiosk.Resident) error {
		refs[r.NIK], templates[r.NIK] = r.References, r.Templates
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantRefs := map[kiosk.NIK][]kiosk.Descriptor{rs[0].NIK: rs[0].References, rs[1].NIK: nil, rs[2].NIK: rs[2].References}
	wantTemplates := map[kiosk.NIK][]kiosk.Template{rs[0].NIK: nil, rs[1].NIK: rs[1].Templates, rs[2].NIK: nil}
	if !reflect.DeepEqual(refs, wantRefs) || !reflect.DeepEqual(templates, wantTemplates) {
		t.Fatalf("references %v, templates %v; want %v, %v", refs, templates, wantRefs, wantTemplates)
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.EachResident(ctx, func(kiosk.Resident) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("EachResident did not stop at the callback's error: %v after %d calls", err, calls)
	}
}

// A snapshot write raises SQLite's page cache for its own transaction only: afterwards every
// pooled connection has the small one again, so a kiosk that has read its whole snapshot does
// not keep 32 MiB per connection (a rejected import included).
func TestSnapshotWriteLeavesTheSmallPageCache(t *testing.T) {
	ctx := context.Background()
	s, _ := mustCreate(t, testOptions())
	var rs []kiosk.Resident
	for i := range 50 {
		rs = append(rs, snapshot.Synthetic(1, i))
	}
	if _, err := s.ImportResidents(ctx, ndjson(t, rs...), "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportResidents(ctx, strings.NewReader("not json\n"), "c2"); err == nil {
		t.Fatal("a bad line imported")
	}
	if _, err := s.ApplyResidents(ctx, rs[:5], nil, "c3"); err != nil {
		t.Fatal(err)
	}
	// Hold every connection the pool may have, so the writers' ones are among them.
	var conns []*sql.Conn
	for range 4 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		var kib int
		if err := c.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&kib); err != nil {
			t.Fatal(err)
		}
		if kib != -readCacheKiB {
			t.Errorf("connection %d: cache_size %d, want %d", i, kib, -readCacheKiB)
		}
		c.Close()
	}
}
