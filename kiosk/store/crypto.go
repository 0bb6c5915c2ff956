package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"

	"github.com/ikd-field/ikd/kiosk"
	"golang.org/x/crypto/argon2"
)

// KDFParams are the argon2id parameters that turn the kiosk unlock secret into the key that
// wraps the data key. They are stored beside the salt so a store keeps opening after the
// defaults change.
type KDFParams struct {
	Time      uint32
	MemoryKiB uint32
	Threads   uint8
}

// DefaultKDF follows RFC 9106 §4's second recommendation (t=3, 64 MiB), with two lanes for the
// two-core PCs counters have. It costs about a quarter of a second, once per unlock.
var DefaultKDF = KDFParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 2}

// Limits on stored parameters: a tampered meta table must not make Open allocate gigabytes.
const (
	maxKDFMemoryKiB = 1 << 20 // 1 GiB
	maxKDFTime      = 64
)

func (p KDFParams) valid() error {
	if p.Time < 1 || p.Time > maxKDFTime || p.MemoryKiB < 8*uint32(p.Threads) ||
		p.MemoryKiB > maxKDFMemoryKiB || p.Threads < 1 {
		return fmt.Errorf("argon2id parameters out of range: t=%d m=%dKiB p=%d", p.Time, p.MemoryKiB, p.Threads)
	}
	return nil
}

// MinKDF is the weakest argon2id configuration a new store or PIN hash accepts: OWASP's
// minimum for argon2id (t=2, 19 MiB, p=1). Stores made before the floor still open.
var MinKDF = KDFParams{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}

// ErrWeakKDF: the argon2id parameters asked for are below MinKDF.
var ErrWeakKDF = &kiosk.Error{Code: "store.weak_kdf", Msg: kiosk.Message{
	ID: fmt.Sprintf("Parameter argon2id terlalu lemah (minimal t=%d, memori %d KiB).", MinKDF.Time, MinKDF.MemoryKiB),
	EN: fmt.Sprintf("The argon2id parameters are too weak (at least t=%d, %d KiB of memory).", MinKDF.Time, MinKDF.MemoryKiB)}}

// strongEnough checks p for a new store or PIN hash: in range and at least MinKDF (more
// passes do not make up for less memory, the cost that hurts GPU guessing).
func (p KDFParams) strongEnough() error {
	if err := p.valid(); err != nil {
		return err
	}
	if p.Time < MinKDF.Time || p.MemoryKiB < MinKDF.MemoryKiB {
		return ErrWeakKDF.With(fmt.Errorf("t=%d m=%dKiB", p.Time, p.MemoryKiB))
	}
	return nil
}

func (p KDFParams) derive(secret, salt []byte) []byte {
	return argon2.IDKey(secret, salt, p.Time, p.MemoryKiB, p.Threads, 32)
}

const (
	keySize   = 32
	saltSize  = 16
	nonceSize = 12
)

// The wrapped data key's AAD binds it to its purpose and says whether the store's trust rows
// are authenticated (schema 2 on). Schema 2 signs the rows of an older store once, at its
// first unlock; without the second label anyone could set user_version back to 1, drop the
// MAC columns and have the next unlock sign their edits. Changing the label needs the unlock
// secret.
var (
	wrapAADv1      = []byte("ikd-kiosk data key v1")
	wrapAADRowMACs = []byte("ikd-kiosk data key v2: trust rows authenticated")
)

// wrapDataKey encrypts dataKey under the key derived from secret, for a store whose trust
// rows are authenticated.
func wrapDataKey(secret, salt []byte, p KDFParams, dataKey []byte) ([]byte, error) {
	aead, err := newAEAD(p.derive(secret, salt))
	if err != nil {
		return nil, err
	}
	return sealWith(aead, dataKey, wrapAADRowMACs), nil
}

// unwrapDataKey recovers the data key and whether it was wrapped for a store with
// authenticated rows; a wrong secret fails GCM authentication and is reported as
// ErrWrongSecret.
func unwrapDataKey(secret, salt []byte, p KDFParams, wrapped []byte) (key []byte, rowMACs bool, err error) {
	if err := p.valid(); err != nil {
		return nil, false, ErrNotKioskStore.With(err)
	}
	aead, err := newAEAD(p.derive(secret, salt))
	if err != nil {
		return nil, false, err
	}
	key, err = openWith(aead, wrapped, wrapAADRowMACs)
	rowMACs = err == nil
	if !rowMACs {
		key, err = openWith(aead, wrapped, wrapAADv1)
	}
	if err != nil {
		return nil, false, ErrWrongSecret.With(err)
	}
	if len(key) != keySize {
		return nil, false, ErrNotKioskStore.With(fmt.Errorf("data key is %d bytes", len(key)))
	}
	return key, rowMACs, nil
}

// keyring holds the keys derived from the data key, one per purpose (HKDF-SHA256 with a
// label each), so that no key serves two jobs.
type keyring struct {
	fields cipher.AEAD // personal data, biometrics, envelopes, the device key
	blind  []byte      // HMAC key of the NIK and registration blind indexes
	audit  []byte      // HMAC key that seals the audit chain
	pin    []byte      // pepper mixed into officer PIN hashes
	rows   []byte      // HMAC key of the rows that grant trust (see integrity.go)
	anchor []byte      // HMAC key of the roll-back anchor kept beside the file
	// rowHMACs are HMAC-SHA256 states keyed with rows, reused: every outbox read checks the
	// MAC of every row, and a fresh HMAC per row (two hashes of the key) was a tenth of the
	// push lane.
	rowHMACs sync.Pool
}

func newKeyring(dataKey []byte) (*keyring, error) {
	sub := func(label string) ([]byte, error) {
		return hkdf.Key(sha256.New, dataKey, nil, "ikd-kiosk "+label+" v1", keySize)
	}
	fieldKey, err := sub("field encryption")
	if err != nil {
		return nil, fmt.Errorf("derive field key: %w", err)
	}
	aead, err := newAEAD(fieldKey)
	if err != nil {
		return nil, err
	}
	k := &keyring{fields: aead}
	for _, d := range []struct {
		dst   *[]byte
		label string
	}{{&k.blind, "blind index"}, {&k.audit, "audit mac"}, {&k.pin, "pin pepper"},
		{&k.rows, "row mac"}, {&k.anchor, "anchor mac"}} {
		if *d.dst, err = sub(d.label); err != nil {
			return nil, fmt.Errorf("derive %s key: %w", d.label, err)
		}
	}
	k.rowHMACs.New = func() any { return hmac.New(sha256.New, k.rows) }
	return k, nil
}

// seal encrypts plain with a fresh random nonce; aad ties the ciphertext to its row.
func (k *keyring) seal(plain, aad []byte) []byte { return sealWith(k.fields, plain, aad) }

// open decrypts what seal produced for the same aad.
func (k *keyring) open(sealed, aad []byte) ([]byte, error) {
	p, err := openWith(k.fields, sealed, aad)
	if err != nil {
		return nil, ErrCorrupt.With(fmt.Errorf("decrypt: %w", err))
	}
	return p, nil
}

// blindIndex is the keyed HMAC-SHA256 of value under a domain label ("nik", "registration"):
// equal values give equal indexes, and without the key an index reveals nothing.
func (k *keyring) blindIndex(label, value string) []byte {
	m := hmac.New(sha256.New, k.blind)
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	return cipher.NewGCM(block)
}

func sealWith(aead cipher.AEAD, plain, aad []byte) []byte {
	out := make([]byte, nonceSize, nonceSize+len(plain)+aead.Overhead())
	rand.Read(out[:nonceSize]) // crypto/rand.Read never fails (Go 1.24+)
	return aead.Seal(out, out[:nonceSize], plain, aad)
}

var errShortCiphertext = errors.New("ciphertext too short")

func openWith(aead cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < nonceSize+aead.Overhead() {
		return nil, errShortCiphertext
	}
	return aead.Open(nil, sealed[:nonceSize], sealed[nonceSize:], aad)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
