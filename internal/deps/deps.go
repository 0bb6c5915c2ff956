//go:build tools

package deps
import (
 _ "github.com/makiuchi-d/gozxing"
 _ "modernc.org/sqlite"
 _ "github.com/blackjack/webcam"
 _ "golang.org/x/crypto/argon2"
 _ "github.com/fxamacker/cbor/v2"
 _ "github.com/veraison/go-cose"
 _ "github.com/google/uuid"
 _ "golang.org/x/image/webp"
 _ "gonum.org/v1/gonum/mat"
)
