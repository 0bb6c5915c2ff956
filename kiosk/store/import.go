package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/kiosk/store/snapshot"
)

// ErrImportRejected: the import file has invalid lines, and nothing was imported. The cause
// is an *ImportError listing them.
var ErrImportRejected = &kiosk.Error{Code: "residents.rejected", Msg: kiosk.Message{
	ID: "Data penduduk berisi baris tidak valid; tidak ada yang diimpor. Perbaiki baris yang disebut lalu ulangi.",
	EN: "The resident data has invalid lines; nothing was imported. Fix the lines listed and retry."}}

// LineError is one rejected import line.
type LineError struct {
	Line int
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// ImportError lists the rejected lines of an import: the first MaxReportedLines of them, and
// how many there were in all.
type ImportError struct {
	Lines    []LineError
	Rejected int
}

// MaxReportedLines caps the lines an ImportError lists; a wholly wrong file (a different
// format) should not produce 200 000 messages.
const MaxReportedLines = 100

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d invalid lines", e.Rejected)
	for _, l := range e.Lines {
		b.WriteString("\n  ")
		b.WriteString(l.Error())
	}
	if more := e.Rejected - len(e.Lines); more > 0 {
		fmt.Fprintf(&b, "\n  ... and %d more", more)
	}
	return b.String()
}

// ImportResidents imports a resident snapshot from NDJSON, all or nothing: the lines are
// parsed, validated and encrypted in parallel and written in one transaction with the cursor,
// and if any line is invalid (or a NIK appears twice) nothing is written and the error, which
// matches ErrImportRejected, lists every bad line (up to MaxReportedLines) with its number.
// A NIK already in the snapshot is replaced. Blank lines are ignored.
func (s *Store) ImportResidents(ctx context.Context, r io.Reader, cursor string) (SnapshotCounts, error) {
	var c SnapshotCounts
	ierr := &ImportError{}
	err := s.write(ctx, func(tx *sql.Tx) error {
		w, err := s.newSnapshotWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.close()
		seen := make(map[string]int)
		reject := func(line int, err error) {
			if ierr.Rejected++; len(ierr.Lines) < MaxReportedLines {
				ierr.Lines = append(ierr.Lines, LineError{Line: line, Err: err})
			}
		}
		err = s.parseLines(ctx, r, func(p parsedLine) error {
			if p.err != nil {
				reject(p.no, p.err)
				return nil
			}
			if first, dup := seen[string(p.sr.bi)]; dup {
				reject(p.no, fmt.Errorf("the same NIK as line %d", first))
				return nil
			}
			seen[string(p.sr.bi)] = p.no
			if ierr.Rejected > 0 {
				return nil // keep reading to report every bad line; nothing will be written
			}
			return w.put(ctx, p.sr)
		})
		if err != nil {
			return err
		}
		if ierr.Rejected > 0 {
			return ErrImportRejected.With(ierr)
		}
		if c.Added, c.Updated, err = w.finish(ctx, cursor, 0); err != nil {
			return err
		}
		// A snapshot file says nothing of its own age: the residents count from the import.
		if err := s.setAsOf(ctx, tx, metaResidentsAsOf, s.now()); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, kiosk.AuditEvent{Action: "residents.imported",
			Detail: fmt.Sprintf("added %d updated %d cursor %q", c.Added, c.Updated, cursor)})
	})
	if err != nil {
		return SnapshotCounts{Rejected: ierr.Rejected}, fmt.Errorf("import residents: %w", err)
	}
	return c, nil
}

// parsedLine is one line after parsing, validation and encryption.
type parsedLine struct {
	no  int
	sr  sealedResident
	err error
}

// lineChunk is a batch of lines handed to a worker; done receives exactly one result.
type lineChunk struct {
	lines []snapshot.Line
	done  chan []parsedLine
}

const chunkLines = 256

// parseLines reads r, parses and seals lines on all cores, and calls emit for each line in
// file order from the calling goroutine. It returns emit's first error or a read error; all
// goroutines it starts have stopped when it returns.
func (s *Store) parseLines(ctx context.Context, r io.Reader, emit func(parsedLine) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan lineChunk)
	order := make(chan lineChunk, runtime.GOMAXPROCS(0)*2)
	var wg sync.WaitGroup
	defer wg.Wait()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for ch := range jobs {
				out := make([]parsedLine, len(ch.lines))
				for i, l := range ch.lines {
					out[i] = s.parseLine(l)
				}
				ch.done <- out
			}
		})
	}
	var readErr error
	wg.Go(func() {
		defer close(order)
		defer close(jobs)
		readErr = snapshot.ReadLines(r, snapshot.MaxLineBytes, chunkLines, func(lines []snapshot.Line) bool {
			ch := lineChunk{lines: lines, done: make(chan []parsedLine, 1)}
			for _, c := range []chan lineChunk{jobs, order} {
				select {
				case c <- ch:
				case <-ctx.Done():
					return false
				}
			}
			return true
		})
	})
	for ch := range order {
		for _, p := range <-ch.done {
			if err := emit(p); err != nil {
				cancel()
				for range order { // let the reader finish so wg.Wait returns
				}
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return readErr
}

func (s *Store) parseLine(l snapshot.Line) parsedLine {
	if l.TooLong {
		return parsedLine{no: l.No, err: fmt.Errorf("longer than %d bytes", snapshot.MaxLineBytes)}
	}
	r, err := snapshot.ParseLine(l.Text)
	if err != nil {
		return parsedLine{no: l.No, err: err}
	}
	return parsedLine{no: l.No, sr: s.sealResident(r)}
}
