package registry

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ikd-field/ikd/internal/secretfile"
)

// The data key file holds the keys that seal personal data at rest (see Seal). It is text,
// mode 0600, one item a line; blank lines and lines starting with # are ignored:
//
//	ikd-registry data keys v1
//	index <base64 of 32 random bytes>
//	key <id> <base64 of 32 random bytes>
//	key <id> <base64 of 32 random bytes>
//	current <id>
//
// Every sealed value names the id of the key that sealed it, so after a rotation (a new key
// line, current pointing at it) old rows stay readable with the old key and new writes use
// the new one. The index key is separate and never rotates: the NIK blind index must give the
// same value for the same NIK whatever data key is current, or every lookup of a row written
// before the rotation would miss (see README, "Data keys").
const dataKeyFileHeader = "ikd-registry data keys v1"

const dataKeySize = 32

// Errors of the data keys. Callers branch on them with errors.Is.
var (
	// ErrDataKeyFile: the data key file is not in the format above.
	ErrDataKeyFile = errors.New("registry: bad data key file")
	// ErrNotSealed: a stored value is not a sealed value (written without sealing, or damaged).
	ErrNotSealed = errors.New("registry: stored value is not sealed")
	// ErrUnknownDataKey: a stored value was sealed with a key id the data key file lacks (an
	// old key removed too early, or the wrong file).
	ErrUnknownDataKey = errors.New("registry: value sealed with a data key not in the data key file")
	// ErrSealBroken: a sealed value fails authentication: changed, moved to another row or
	// sealed under another key with the same id.
	ErrSealBroken = errors.New("registry: sealed value fails authentication")
)

// DataKeys are the registry's keys for personal data at rest, read from a data key file.
// Each data key yields two AES-256-GCM keys by HKDF, one for personal fields and one for the
// mail queue, so that no key serves two jobs. Safe for concurrent use.
type DataKeys struct {
	current uint32
	fields  map[uint32]cipher.AEAD
	mail    map[uint32]cipher.AEAD
	blind   []byte // HMAC-SHA256 key of the NIK blind index, from the index key
}

// dataKeySet is the parsed file.
type dataKeySet struct {
	index   []byte
	keys    map[uint32][]byte
	current uint32
}

// ReadDataKeys reads the data key file at path (see secretfile.Read for the mode check).
func ReadDataKeys(path string) (*DataKeys, error) {
	b, err := secretfile.Read(path)
	if err != nil {
		return nil, fmt.Errorf("data key file: %w", err)
	}
	set, err := parseDataKeys(b)
	if err != nil {
		return nil, fmt.Errorf("data key file %s: %w", path, err)
	}
	return set.keyring()
}

// NewDataKeys returns fresh random keys that exist only in memory: for tests and benchmarks
// whose databases are thrown away.
func NewDataKeys() (*DataKeys, error) {
	return newDataKeySet().keyring()
}

// CreateDataKeyFile writes a new data key file at path with mode 0600, refusing to replace an
// existing file (it would make every sealed row unreadable).
func CreateDataKeyFile(path string) error {
	set := newDataKeySet()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create data key file: %w", err)
	}
	_, werr := f.Write(set.format())
	// 0600 whatever the umask was (it can only have removed bits, but be exact).
	err = errors.Join(werr, f.Chmod(0o600), f.Sync(), f.Close())
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write data key file %s: %w", path, err)
	}
	return nil
}

// RotateDataKeyFile adds a new random key to the data key file at path and makes it current,
// keeping the older keys and the index key, and returns the new key's id. The file is
// replaced atomically (a temporary file in the same directory, then rename).
func RotateDataKeyFile(path string) (uint32, error) {
	b, err := secretfile.Read(path)
	if err != nil {
		return 0, fmt.Errorf("data key file: %w", err)
	}
	set, err := parseDataKeys(b)
	if err != nil {
		return 0, fmt.Errorf("data key file %s: %w", path, err)
	}
	id := slices.Max(slices.Collect(maps.Keys(set.keys))) + 1
	if id == 0 {
		return 0, fmt.Errorf("data key file %s: %w: key ids exhausted", path, ErrDataKeyFile)
	}
	key := make([]byte, dataKeySize)
	rand.Read(key)
	set.keys[id], set.current = key, id

	tmp, err := os.CreateTemp(filepath.Dir(path), ".data-key-*")
	if err != nil {
		return 0, fmt.Errorf("rotate data key file: %w", err)
	}
	_, werr := tmp.Write(set.format())
	if err := errors.Join(werr, tmp.Chmod(0o600), tmp.Sync(), tmp.Close()); err != nil {
		os.Remove(tmp.Name())
		return 0, fmt.Errorf("rotate data key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return 0, fmt.Errorf("rotate data key file: %w", err)
	}
	return id, nil
}

func newDataKeySet() *dataKeySet {
	set := &dataKeySet{index: make([]byte, dataKeySize), keys: map[uint32][]byte{1: make([]byte, dataKeySize)}, current: 1}
	rand.Read(set.index)
	rand.Read(set.keys[1])
	return set
}

func (s *dataKeySet) format() []byte {
	var b bytes.Buffer
	b.WriteString(dataKeyFileHeader + "\n")
	b.WriteString("# Keys that seal personal data in the registry database. Keep every key line:\n")
	b.WriteString("# rows sealed with a key stay unreadable without it. Never change the index line.\n")
	fmt.Fprintf(&b, "index %s\n", base64.StdEncoding.EncodeToString(s.index))
	for _, id := range slices.Sorted(maps.Keys(s.keys)) {
		fmt.Fprintf(&b, "key %d %s\n", id, base64.StdEncoding.EncodeToString(s.keys[id]))
	}
	fmt.Fprintf(&b, "current %d\n", s.current)
	return b.Bytes()
}

func parseDataKeys(b []byte) (*dataKeySet, error) {
	set := &dataKeySet{keys: map[uint32][]byte{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	header := false
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		bad := func(why string) error {
			// The line itself is not quoted: it may hold a key.
			return fmt.Errorf("%w: line %d: %s", ErrDataKeyFile, n, why)
		}
		if !header {
			if line != dataKeyFileHeader {
				return nil, bad("want the header " + strconv.Quote(dataKeyFileHeader))
			}
			header = true
			continue
		}
		f := strings.Fields(line)
		switch {
		case f[0] == "index" && len(f) == 2:
			if set.index != nil {
				return nil, bad("a second index key")
			}
			k, err := base64.StdEncoding.DecodeString(f[1])
			if err != nil || len(k) != dataKeySize {
				return nil, bad("the index key is not 32 bytes of base64")
			}
			set.index = k
		case f[0] == "key" && len(f) == 3:
			id, err := parseKeyID(f[1])
			if err != nil {
				return nil, bad(err.Error())
			}
			if _, dup := set.keys[id]; dup {
				return nil, bad(fmt.Sprintf("key id %d twice", id))
			}
			k, err := base64.StdEncoding.DecodeString(f[2])
			if err != nil || len(k) != dataKeySize {
				return nil, bad(fmt.Sprintf("key %d is not 32 bytes of base64", id))
			}
			set.keys[id] = k
		case f[0] == "current" && len(f) == 2:
			if set.current != 0 {
				return nil, bad("a second current line")
			}
			id, err := parseKeyID(f[1])
			if err != nil {
				return nil, bad(err.Error())
			}
			set.current = id
		default:
			return nil, bad("want index, key or current")
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDataKeyFile, err)
	}
	switch {
	case !header:
		return nil, fmt.Errorf("%w: empty", ErrDataKeyFile)
	case set.index == nil:
		return nil, fmt.Errorf("%w: no index key", ErrDataKeyFile)
	case set.current == 0:
		return nil, fmt.Errorf("%w: no current line", ErrDataKeyFile)
	case set.keys[set.current] == nil:
		return nil, fmt.Errorf("%w: current key %d has no key line", ErrDataKeyFile, set.current)
	}
	return set, nil
}

func parseKeyID(s string) (uint32, error) {
	id, err := strconv.ParseUint(s, 10, 32)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("key id %q is not a number from 1 to %d", s, uint32(1<<32-1))
	}
	return uint32(id), nil
}

func (s *dataKeySet) keyring() (*DataKeys, error) {
	k := &DataKeys{current: s.current, fields: map[uint32]cipher.AEAD{}, mail: map[uint32]cipher.AEAD{}}
	blind, err := hkdf.Key(sha256.New, s.index, nil, "ikd-registry nik blind index v1", dataKeySize)
	if err != nil {
		return nil, fmt.Errorf("derive blind index key: %w", err)
	}
	k.blind = blind
	for id, key := range s.keys {
		for _, p := range []struct {
			dst   map[uint32]cipher.AEAD
			label string
		}{{k.fields, "ikd-registry personal data v1"}, {k.mail, "ikd-registry mail queue v1"}} {
			sub, err := hkdf.Key(sha256.New, key, nil, p.label, dataKeySize)
			if err != nil {
				return nil, fmt.Errorf("derive data key %d: %w", id, err)
			}
			block, err := aes.NewCipher(sub)
			if err != nil {
				return nil, fmt.Errorf("data key %d: %w", id, err)
			}
			aead, err := cipher.NewGCM(block)
			if err != nil {
				return nil, fmt.Errorf("data key %d: %w", id, err)
			}
			p.dst[id] = aead
		}
	}
	return k, nil
}

// A sealed value is version (1 byte) | key id (4 bytes, big endian) | nonce (12) | AES-GCM
// ciphertext and tag. The additional data names the value's purpose and its row, so a value
// copied into another column or row fails to open.
const (
	sealVersion   = 1
	sealHeaderLen = 1 + 4 + 12
)

func (k *DataKeys) seal(ring map[uint32]cipher.AEAD, plain []byte, purpose, row string) []byte {
	aead := ring[k.current]
	out := make([]byte, sealHeaderLen, sealHeaderLen+len(plain)+aead.Overhead())
	out[0] = sealVersion
	binary.BigEndian.PutUint32(out[1:5], k.current)
	rand.Read(out[5:sealHeaderLen])
	return aead.Seal(out, out[5:sealHeaderLen], plain, sealAAD(out[:5], purpose, row))
}

func (k *DataKeys) open(ring map[uint32]cipher.AEAD, sealed []byte, purpose, row string) ([]byte, error) {
	if len(sealed) < sealHeaderLen+16 || sealed[0] != sealVersion {
		return nil, fmt.Errorf("%s of %s: %w", purpose, row, ErrNotSealed)
	}
	id := binary.BigEndian.Uint32(sealed[1:5])
	aead, ok := ring[id]
	if !ok {
		return nil, fmt.Errorf("%s of %s: %w (key id %d)", purpose, row, ErrUnknownDataKey, id)
	}
	plain, err := aead.Open(nil, sealed[5:sealHeaderLen], sealed[sealHeaderLen:], sealAAD(sealed[:5], purpose, row))
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", purpose, row, ErrSealBroken)
	}
	return plain, nil
}

// sealAAD binds the header (so the key id cannot be swapped), the purpose and the row.
func sealAAD(header []byte, purpose, row string) []byte {
	aad := make([]byte, 0, len(header)+len(purpose)+1+len(row))
	aad = append(aad, header...)
	aad = append(aad, purpose...)
	aad = append(aad, 0)
	return append(aad, row...)
}

// sealString seals s into text (base64) for a TEXT column.
func (k *DataKeys) sealString(ring map[uint32]cipher.AEAD, s, purpose, row string) string {
	return base64.RawStdEncoding.EncodeToString(k.seal(ring, []byte(s), purpose, row))
}

func (k *DataKeys) openString(ring map[uint32]cipher.AEAD, s, purpose, row string) (string, error) {
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("%s of %s: %w", purpose, row, ErrNotSealed)
	}
	plain, err := k.open(ring, b, purpose, row)
	return string(plain), err
}

// BlindNIK returns the NIK's blind index as stored in the nik columns: hex HMAC-SHA256 under
// the index key. Equal NIKs give equal indexes, so lookups and uniqueness work, but the column
// cannot be read back or brute-forced without the key. The empty NIK (records without one)
// stays empty.
func (k *DataKeys) BlindNIK(nik string) string {
	if nik == "" {
		return ""
	}
	m := hmac.New(sha256.New, k.blind)
	m.Write([]byte("nik\x00"))
	m.Write([]byte(nik))
	return hex.EncodeToString(m.Sum(nil))
}
