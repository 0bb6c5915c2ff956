package token

import (
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"
)

// understoodHeaders are the protected header labels Verify acts on: alg and kid. A crit
// header (RFC 9052 §3.1) naming any other label says the issuer relies on a rule this kiosk
// does not apply, so the token is refused rather than verified without it.
var understoodHeaders = map[int64]bool{cose.HeaderLabelAlgorithm: true, cose.HeaderLabelKeyID: true}

// headerDec decodes the COSE_Sign1 envelope for checkCritical. Unlike claimsDec it allows the
// COSE_Sign1 tag; a decoding failure is a damaged token, so it may be stricter than go-cose
// but never looser.
var headerDec = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		IntDec:           cbor.IntDecConvertSigned,
		MaxNestedLevels:  8,
		MaxArrayElements: 64,
		MaxMapPairs:      64,
	}.DecMode()
	if err != nil {
		panic(err) // static options; cannot fail at run time
	}
	return dm
}()

// checkCritical refuses a tagged COSE_Sign1 whose crit header is malformed (not an array,
// empty, a label that is not an integer or text, or absent from the protected header),
// names a label Verify does not understand, or sits in the unprotected header. It runs before
// go-cose decodes the message, which would call a malformed crit merely damaged and accept an
// unknown one.
func checkCritical(raw []byte) error {
	var tag cbor.RawTag
	if err := headerDec.Unmarshal(raw, &tag); err != nil {
		return ErrDamaged.With(fmt.Errorf("COSE_Sign1: %w", err))
	}
	var parts []cbor.RawMessage
	if err := headerDec.Unmarshal(tag.Content, &parts); err != nil || len(parts) != 4 {
		return ErrDamaged.With(errors.New("COSE_Sign1: not an array of 4 items"))
	}
	var protectedBytes []byte
	if err := headerDec.Unmarshal(parts[0], &protectedBytes); err != nil {
		return ErrDamaged.With(fmt.Errorf("COSE_Sign1 protected header: %w", err))
	}
	protected := map[any]any{}
	if len(protectedBytes) > 0 { // a zero-length bstr is an empty protected header
		if err := headerDec.Unmarshal(protectedBytes, &protected); err != nil {
			return ErrDamaged.With(fmt.Errorf("COSE_Sign1 protected header: %w", err))
		}
	}
	var unprotected map[any]any
	if err := headerDec.Unmarshal(parts[1], &unprotected); err != nil {
		return ErrDamaged.With(fmt.Errorf("COSE_Sign1 unprotected header: %w", err))
	}
	if _, ok := unprotected[cose.HeaderLabelCritical]; ok {
		return ErrCriticalHeader.With(errors.New("crit in the unprotected header"))
	}
	crit, ok := protected[cose.HeaderLabelCritical]
	if !ok {
		return nil
	}
	labels, ok := crit.([]any)
	if !ok {
		return ErrCriticalHeader.With(fmt.Errorf("crit is a %T, not an array", crit))
	}
	if len(labels) == 0 {
		return ErrCriticalHeader.With(errors.New("crit is an empty array"))
	}
	for _, l := range labels {
		switch l := l.(type) {
		case int64:
			if _, present := protected[l]; !present {
				return ErrCriticalHeader.With(fmt.Errorf("crit names label %d, absent from the protected header", l))
			}
			if !understoodHeaders[l] {
				return ErrCriticalHeader.With(fmt.Errorf("crit names label %d, which this verifier does not understand", l))
			}
		case string:
			return ErrCriticalHeader.With(fmt.Errorf("crit names label %q, which this verifier does not understand", clip(l, 16)))
		default:
			return ErrCriticalHeader.With(fmt.Errorf("crit label is a %T, not an integer or text", l))
		}
	}
	return nil
}
