package snapshot

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxLineBytes bounds one import line; a resident with a photo is well below it.
const MaxLineBytes = 1 << 20

// Line is one non-blank line of an NDJSON stream, numbered from 1 as an editor would.
type Line struct {
	No      int
	Text    []byte // including the newline; nil when TooLong
	TooLong bool   // longer than the limit; its text was skipped, the lines after it are read
}

// ReadLines splits r into numbered non-blank lines of at most maxLine bytes and calls send
// with chunks of up to chunk lines, until EOF (it returns nil) or until send returns false
// (it returns nil too; the caller knows why it stopped). Read errors are returned with the
// line number.
func ReadLines(r io.Reader, maxLine, chunk int, send func([]Line) bool) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var lines []Line
	for no := 1; ; no++ {
		l := Line{No: no}
		var err error
		for {
			var frag []byte
			frag, err = br.ReadSlice('\n')
			if l.TooLong || len(l.Text)+len(frag) > maxLine {
				l.TooLong, l.Text = true, nil
			} else {
				l.Text = append(l.Text, frag...)
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				break
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read line %d: %w", no, err)
		}
		if l.TooLong || len(bytes.TrimSpace(l.Text)) > 0 {
			lines = append(lines, l)
		}
		if len(lines) == chunk || (errors.Is(err, io.EOF) && len(lines) > 0) {
			if !send(lines) {
				return nil
			}
			lines = nil
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
	}
}
