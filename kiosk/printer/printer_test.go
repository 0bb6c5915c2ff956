package printer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
)

// fakeTool writes a shell script standing in for lp or lpstat that prints out and exits with
// code; it also keeps what it was given on stdin.
func fakeTool(t *testing.T, dir, name, out string, code int) string {
	t.Helper()
	path := filepath.Join(dir, name)
	script := "#!/bin/sh\ncat > " + filepath.Join(dir, name+".stdin") + "\nprintf '%s\\n' '" + out + "'\nexit " + string(rune('0'+code)) + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPrintReasons(t *testing.T) {
	cases := []struct {
		name, lpOut string
		lpCode      int
		lpstatOut   string
		want        *kiosk.Error
	}{
		{"no such queue", "lp: Error - The printer or class does not exist.", 1, "scheduler is running", ErrNoQueue},
		{"scheduler down", "lp: Error - The printer or class does not exist.", 1, "scheduler is not running", ErrCUPSDown},
		{"not responding", "lp: Error - Scheduler not responding.", 1, "", ErrCUPSDown},
		{"stopped queue", `lp: Destination "PDF" is not accepting jobs.`, 1, "scheduler is running", ErrNotAccepting},
		{"other failure", "lp: Error - something new", 1, "scheduler is running", ErrPrintFailed},
		{"no job id", "done", 0, "", ErrPrintFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			p := CUPS{Queue: "PDF", LP: fakeTool(t, dir, "lp", c.lpOut, c.lpCode),
				LPStat: fakeTool(t, dir, "lpstat", c.lpstatOut, 0)}
			_, err := p.Print(context.Background(), []byte("%PDF-1.3"), "receipt")
			if !errors.Is(err, c.want) {
				t.Fatalf("Print = %v, want %s", err, c.want.Code)
			}
			var ke *kiosk.Error
			if !errors.As(err, &ke) || ke.Err == nil {
				t.Fatalf("Print = %#v: want a *kiosk.Error with lp's words as cause", err)
			}
		})
	}
}

func TestPrintSendsPDF(t *testing.T) {
	dir := t.TempDir()
	p := CUPS{Queue: "PDF", LP: fakeTool(t, dir, "lp", "request id is PDF-7 (1 file(s))", 0)}
	job, err := p.Print(context.Background(), []byte("%PDF-1.3 receipt"), "receipt")
	if err != nil || job != "PDF-7" {
		t.Fatalf("Print = %q, %v; want PDF-7", job, err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "lp.stdin"))
	if err != nil || string(got) != "%PDF-1.3 receipt" {
		t.Fatalf("lp got %q, %v", got, err)
	}
}

func TestPrintWithoutLP(t *testing.T) {
	for _, lp := range []string{filepath.Join(t.TempDir(), "no-lp"), "ikd-no-such-lp"} {
		_, err := CUPS{Queue: "PDF", LP: lp}.Print(context.Background(), nil, "receipt")
		if !errors.Is(err, ErrNoLP) {
			t.Errorf("LP %s: Print = %v, want %s", lp, err, ErrNoLP.Code)
		}
	}
}

func TestPrintRefusesBadQueueName(t *testing.T) {
	for _, q := range []string{"", "a b", "a/b", "a#b", "ant\nrean"} {
		_, err := CUPS{Queue: q, LP: "/bin/false"}.Print(context.Background(), nil, "receipt")
		if !errors.Is(err, ErrNoQueue) {
			t.Errorf("queue %q: Print = %v, want %s", q, err, ErrNoQueue.Code)
		}
	}
}
