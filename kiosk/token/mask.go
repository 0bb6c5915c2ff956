package token

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The masks below are what the token carries instead of the citizen's contact details: enough
// for the officer to read back ("b***i at gmail.com, nomor 0812 sekian 789?") and for the
// citizen to recognise, too little to contact or look someone up. The masked part is always
// three or four stars, whatever its length, so the mask does not leak the length either.

// MaskEmail masks the local part of an e-mail address, keeping its first and last character
// and the domain: "budi@gmail.com" → "b***i@gmail.com". A local part of one or two characters
// keeps only the first.
func MaskEmail(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return "", fmt.Errorf("mask e-mail: %q has no @", addr)
	}
	local, domain := addr[:at], strings.ToLower(addr[at+1:])
	if local == "" || !utf8.ValidString(local) {
		return "", fmt.Errorf("mask e-mail: %q has no valid local part", addr)
	}
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.ContainsAny(domain, "@ \t") {
		return "", fmt.Errorf("mask e-mail: %q has no valid domain", addr)
	}
	first, _ := utf8.DecodeRuneInString(local)
	masked := string(first) + "***"
	if utf8.RuneCountInString(local) >= 3 {
		last, _ := utf8.DecodeLastRuneInString(local)
		masked += string(last)
	}
	return masked + "@" + domain, nil
}

// MaskPhone masks an Indonesian mobile number, keeping the first four and last three digits:
// "081234567789" → "0812****789". Spaces, dashes, dots and parentheses are ignored, and the
// international form "+62…" is written the national way "0…".
func MaskPhone(phone string) (string, error) {
	digits := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')':
			return -1
		}
		return r
	}, phone)
	if rest, ok := strings.CutPrefix(digits, "+62"); ok {
		digits = "0" + rest
	}
	if strings.Trim(digits, "0123456789") != "" || digits == "" {
		return "", fmt.Errorf("mask phone: %q is not a phone number", phone)
	}
	// Indonesian numbers are 9 to 13 digits in national form; allow a little beyond.
	if len(digits) < 9 || len(digits) > 15 {
		return "", errors.New("mask phone: a phone number has 9 to 15 digits")
	}
	return digits[:4] + "****" + digits[len(digits)-3:], nil
}
