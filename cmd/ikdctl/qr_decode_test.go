package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const qrFixtures = "../../testdata/qr"

func fixture(name string) string { return filepath.Join(qrFixtures, name) }

func fixtureText(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(fixture("token.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestQRDecodeRaw(t *testing.T) {
	want := fixtureText(t)
	for _, name := range []string{"token.png", "token.jpg", "token.webp"} {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, "qr", "decode", "--raw", fixture(name))
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if stdout != fixture(name)+"\t"+want+"\n" {
				t.Fatalf("output %q\nwant file, tab, token text", stdout)
			}
		})
	}
}

func TestQRDecodeRawJSON(t *testing.T) {
	want := fixtureText(t)
	code, stdout, _ := runCmd(t, "qr", "decode", "--raw", "--json",
		fixture("token.png"), fixture("no-code.png"), fixture("not-an-image.png"), fixture("missing.png"))
	if code != 1 {
		t.Fatalf("exit %d, want 1 when some images are not read", code)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want one per image:\n%s", len(lines), stdout)
	}
	type line struct{ File, Text, Error string }
	wants := []struct {
		file, text, errPart string
	}{
		{fixture("token.png"), want, ""},
		{fixture("no-code.png"), "", "no readable code"},
		{fixture("not-an-image.png"), "", "not a PNG, JPEG or WebP image"},
		{fixture("missing.png"), "", "no such file"},
	}
	for i, w := range wants {
		var got line
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i, err, lines[i])
		}
		if got.File != w.file || got.Text != w.text || !strings.Contains(got.Error, w.errPart) || (w.errPart == "") != (got.Error == "") {
			t.Errorf("line %d = %+v, want file %s, text %q, error containing %q", i, got, w.file, w.text, w.errPart)
		}
	}
}

func TestQRDecodeVerifies(t *testing.T) {
	keys := mustKeysNew(t, "--kid", "reg-test")
	dataDir, secretFile := mustKioskStore(t)
	if code, _, stderr := runCmd(t, "keys", "trust", "--data", dataDir, "--secret-file", secretFile,
		filepath.Join(keys, signingPubFile)); code != 0 {
		t.Fatalf("keys trust: exit %d: %s", code, stderr)
	}
	dir := t.TempDir()
	valid, expired := filepath.Join(dir, "valid.png"), filepath.Join(dir, "expired.png")
	for _, c := range []struct {
		out    string
		issued []string
	}{{valid, nil}, {expired, []string{"--issued-at", "2024-01-01T00:00:00Z"}}} {
		args := append([]string{"qr", "make", "--key", filepath.Join(keys, signingKeyFile), "--nik", "3201014501900001",
			"--reg-id", "0190f3b2-7c1e-7a4b-9c3d-5e6f708192a3", "--email", "budi@gmail.com", "--phone", "081234567789"}, c.issued...)
		if code, _, stderr := runCmd(t, append(args, c.out)...); code != 0 {
			t.Fatalf("qr make: exit %d: %s", code, stderr)
		}
	}

	code, stdout, stderr := runCmd(t, "qr", "decode", "--data", dataDir, "--secret-file", secretFile, valid)
	if code != 0 {
		t.Fatalf("valid token: exit %d: %s%s", code, stdout, stderr)
	}
	for _, part := range []string{valid + "\t", "NIK 3201014501900001", "registration 0190f3b2-7c1e-7a4b-9c3d-5e6f708192a3", "key reg-test"} {
		if !strings.Contains(stdout, part) {
			t.Errorf("output %q lacks %q", stdout, part)
		}
	}

	code, stdout, _ = runCmd(t, "qr", "decode", "--data", dataDir, "--secret-file", secretFile, expired)
	if code != 1 || !strings.HasPrefix(stdout, expired+"\terror: ") {
		t.Fatalf("expired token: exit %d, output %q; want exit 1 and the verification error", code, stdout)
	}
}

func TestQRDecodeUsage(t *testing.T) {
	for name, args := range map[string][]string{
		"NoImages":           {"qr", "decode", "--raw"},
		"VerifyWithoutStore": {"qr", "decode", fixture("token.png")},
		"UnknownFlag":        {"qr", "decode", "--bogus", fixture("token.png")},
	} {
		t.Run(name, func(t *testing.T) {
			if code, _, _ := runCmd(t, args...); code != 2 {
				t.Fatalf("exit %d, want 2", code)
			}
		})
	}
}

// TestQRDecodeRefusesDecompressionBomb hands qr decode what an attacker would: a small PNG
// whose header declares 20000×20000 pixels (1.6 GB as RGBA). It must be refused from the
// header, before the pixels are allocated, while the next image is still read.
func TestQRDecodeRefusesDecompressionBomb(t *testing.T) {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	// The IHDR chunk follows the 8-byte signature: length, type, width, height, ..., CRC.
	ihdr := data[8+8 : 8+8+13]
	binary.BigEndian.PutUint32(ihdr[0:], 20000)
	binary.BigEndian.PutUint32(ihdr[4:], 20000)
	binary.BigEndian.PutUint32(data[8+8+13:], crc32.ChecksumIEEE(data[8+4:8+8+13]))
	bomb := filepath.Join(t.TempDir(), "bomb.png")
	if err := os.WriteFile(bomb, data, 0o600); err != nil {
		t.Fatal(err)
	}

	code, stdout, _ := runCmd(t, "qr", "decode", "--raw", bomb, fixture("token.png"))
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(stdout, bomb+"\terror: ") || !strings.Contains(stdout, "image too large: 20000×20000") {
		t.Fatalf("output %q; want the bomb refused as too large", stdout)
	}
	if !strings.Contains(stdout, fixture("token.png")+"\t"+fixtureText(t)) {
		t.Fatalf("output %q; want the next image still read", stdout)
	}
}
