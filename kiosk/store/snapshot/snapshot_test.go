package snapshot

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/ikd-field/ikd/kiosk"
)

func TestParseLine(t *testing.T) {
	want := Synthetic(11, 4)
	line, _ := EncodeLine(want)
	got, err := ParseLine(line)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	nan := want
	nan.References = []kiosk.Descriptor{{0: math.Float32frombits(0x7fc00000)}}
	line, _ = EncodeLine(nan)
	if _, err := ParseLine(line); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("NaN descriptor: err = %v", err)
	}
}

func FuzzParseLine(f *testing.F) {
	for i := range 3 {
		line, _ := EncodeLine(Synthetic(1, i))
		f.Add(line)
	}
	f.Add([]byte(`{"nik":"3201014501900001","name":"A","birth_place":"B","birth_date":"1990-01-05","sex":"F","address":"C","kecamatan":"D","status":"active"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := ParseLine(line)
		if err != nil {
			return
		}
		// Whatever parses must survive the store's own encoding unchanged.
		enc, err := EncodeLine(r)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseLine(enc)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", enc, err)
		}
		if fmt.Sprint(again) != fmt.Sprint(r) {
			t.Fatalf("round trip changed the resident:\n%+v\n%+v", r, again)
		}
	})
}

// FuzzReadLines checks the splitter against a plain split: every non-blank line is reported
// once with its number and exact text, or as too long.
func FuzzReadLines(f *testing.F) {
	f.Add([]byte("a\n\nb\r\n  \nccccccccccccc"), 4, 2)
	f.Add([]byte("\n\n\n"), 1, 1)
	f.Fuzz(func(t *testing.T, in []byte, maxLine, chunk int) {
		maxLine, chunk = 1+abs(maxLine)%100, 1+abs(chunk)%10
		segs := bytes.SplitAfter(in, []byte("\n"))
		var got []Line
		err := ReadLines(bytes.NewReader(in), maxLine, chunk, func(ls []Line) bool {
			if len(ls) == 0 || len(ls) > chunk {
				t.Fatalf("chunk of %d lines, limit %d", len(ls), chunk)
			}
			got = append(got, ls...)
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		next := 0
		for i, seg := range segs {
			if len(seg) <= maxLine && len(bytes.TrimSpace(seg)) == 0 {
				continue // blank; a blank line over the limit is still reported as too long
			}
			if next >= len(got) {
				t.Fatalf("line %d %q not reported", i+1, seg)
			}
			l := got[next]
			next++
			if l.No != i+1 || l.TooLong != (len(seg) > maxLine) || (!l.TooLong && !bytes.Equal(l.Text, seg)) {
				t.Fatalf("line %d %q reported as %+v (max %d)", i+1, seg, l, maxLine)
			}
		}
		if next != len(got) {
			t.Fatalf("%d extra lines reported", len(got)-next)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
