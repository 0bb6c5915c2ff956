// Package safetext checks and normalises free text about a person that comes from outside
// (resident names, birth places, addresses): what the kiosk stores and shows the officer must
// read the same as what its bytes say. Characters that render as nothing, reorder the text
// around them, break a line or stand for bytes lost in a conversion would let two different
// records look alike on the review screen, or one record look like another, so they are
// refused, not dropped: a silently changed name is a data error of its own. Accepted text is
// returned in NFC, so the same name typed precomposed or decomposed is stored the same.
package safetext

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Class is why a character is refused.
type Class int

// The classes of refused characters.
const (
	// InvalidUTF8: a byte that is not UTF-8, or U+FFFD, which stands for one that was lost
	// in an earlier conversion.
	InvalidUTF8 Class = iota + 1
	// Control: C0 and C1 controls (NUL, TAB, CR, LF, DEL...) and the line and paragraph
	// separators U+2028 and U+2029.
	Control
	// Bidi: the bidirectional controls (Unicode's Bidi_Control property: U+061C, U+200E,
	// U+200F, U+202A–U+202E, U+2066–U+2069), which reorder what is displayed.
	Bidi
	// Invisible: the other format characters and default-ignorable code points (zero-width
	// space and joiners, word joiner, BOM, soft hyphen, Mongolian vowel separator, variation
	// selectors, tags, Hangul fillers...), which render as nothing.
	Invisible
	// Marks: a combining mark with no base character before it, or more than MaxMarks in a
	// row, which draw over the text around them.
	Marks
	// Unassigned: private-use, surrogate, noncharacter and unassigned code points, which no
	// font shows the same way.
	Unassigned
)

func (c Class) String() string {
	switch c {
	case InvalidUTF8:
		return "invalid UTF-8"
	case Control:
		return "a control character"
	case Bidi:
		return "a bidirectional control"
	case Invisible:
		return "an invisible character"
	case Marks:
		return "a stray or stacked combining mark"
	case Unassigned:
		return "an unassigned or private-use character"
	}
	return fmt.Sprintf("class %d", int(c))
}

// MaxMarks is the most combining marks accepted on one base character; Latin, Arabic and
// Javanese names need at most three.
const MaxMarks = 4

// Error is a refused character: what it is, and where it is in the text as given.
type Error struct {
	Class  Class
	Rune   rune // utf8.RuneError for a byte that is not UTF-8 (see Byte)
	Byte   byte // the byte that is not UTF-8; 0 otherwise
	Pos    int  // 1-based character position, counting each invalid byte as one character
	Offset int  // 0-based byte offset
}

func (e *Error) Error() string {
	if e.Class == InvalidUTF8 && e.Rune == utf8.RuneError && e.Byte != 0 {
		return fmt.Sprintf("character %d (byte %d): byte 0x%02X is invalid UTF-8", e.Pos, e.Offset, e.Byte)
	}
	return fmt.Sprintf("character %d (byte %d): %s is %s", e.Pos, e.Offset, Describe(e.Rune), e.Class)
}

// Describe names r for a message: "U+202E RIGHT-TO-LEFT OVERRIDE", or just "U+XXXX" for a
// character not among those refused most often.
func Describe(r rune) string {
	if name, ok := names[r]; ok {
		return fmt.Sprintf("U+%04X %s", r, name)
	}
	return fmt.Sprintf("U+%04X", r)
}

var names = map[rune]string{
	0x00: "NULL", 0x09: "CHARACTER TABULATION", 0x0A: "LINE FEED", 0x0D: "CARRIAGE RETURN",
	0x7F: "DELETE", 0x85: "NEXT LINE", 0xAD: "SOFT HYPHEN", 0x034F: "COMBINING GRAPHEME JOINER",
	0x061C: "ARABIC LETTER MARK", 0x180E: "MONGOLIAN VOWEL SEPARATOR",
	0x200B: "ZERO WIDTH SPACE", 0x200C: "ZERO WIDTH NON-JOINER", 0x200D: "ZERO WIDTH JOINER",
	0x200E: "LEFT-TO-RIGHT MARK", 0x200F: "RIGHT-TO-LEFT MARK",
	0x2028: "LINE SEPARATOR", 0x2029: "PARAGRAPH SEPARATOR",
	0x202A: "LEFT-TO-RIGHT EMBEDDING", 0x202B: "RIGHT-TO-LEFT EMBEDDING",
	0x202C: "POP DIRECTIONAL FORMATTING", 0x202D: "LEFT-TO-RIGHT OVERRIDE",
	0x202E: "RIGHT-TO-LEFT OVERRIDE", 0x2060: "WORD JOINER",
	0x2066: "LEFT-TO-RIGHT ISOLATE", 0x2067: "RIGHT-TO-LEFT ISOLATE",
	0x2068: "FIRST STRONG ISOLATE", 0x2069: "POP DIRECTIONAL ISOLATE",
	0x3164: "HANGUL FILLER", 0xFEFF: "ZERO WIDTH NO-BREAK SPACE", 0xFFFD: "REPLACEMENT CHARACTER",
}

// Check returns the first refused character of s as an *Error, or nil.
func Check(s string) error {
	pos, marks := 0, 0
	for off, r := range s {
		pos++
		if r >= 0x20 && r < 0x7F { // printable ASCII, the common case
			marks = 0
			continue
		}
		if r == utf8.RuneError {
			e := &Error{Class: InvalidUTF8, Rune: r, Pos: pos, Offset: off}
			if _, size := utf8.DecodeRuneInString(s[off:]); size == 1 {
				e.Byte = s[off]
			}
			return e
		}
		if unicode.IsMark(r) {
			if marks++; pos == 1 || marks > MaxMarks {
				return &Error{Class: Marks, Rune: r, Pos: pos, Offset: off}
			}
		} else {
			marks = 0
		}
		if c := classify(r); c != 0 {
			return &Error{Class: c, Rune: r, Pos: pos, Offset: off}
		}
	}
	return nil
}

// classify returns the class of a refused valid rune, or 0.
func classify(r rune) Class {
	switch {
	case unicode.IsControl(r) || r == 0x2028 || r == 0x2029:
		return Control
	case unicode.Is(unicode.Bidi_Control, r):
		return Bidi
	case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) ||
		unicode.Is(unicode.Variation_Selector, r):
		return Invisible
	case !unicode.IsGraphic(r):
		return Unassigned
	}
	return 0
}

// Clean checks s and returns it in NFC. The check runs on s as given, so an error's position
// is where the character is in the caller's input; NFC maps no accepted character to a
// refused one (FuzzClean asserts that Clean's result passes Clean unchanged).
func Clean(s string) (string, error) {
	if err := Check(s); err != nil {
		return "", err
	}
	return norm.NFC.String(s), nil
}

// IsClean reports whether s is what Clean returns for it: no refused character, and NFC.
func IsClean(s string) bool { return Check(s) == nil && norm.NFC.IsNormalString(s) }
