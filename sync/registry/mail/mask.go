package mail

import (
	"regexp"
	"strings"
)

// addrRE matches an unquoted addr-spec anywhere in a text, such as the recipient a relay
// quotes in its refusal ("550 5.1.1 <warga@example.id>: Recipient address rejected").
var addrRE = regexp.MustCompile("[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*")

// MaskAddress keeps the first character of the local part and the domain of addr
// ("w***@example.id"): enough for an operator to tell mails and relays apart, not enough to
// name the citizen.
func MaskAddress(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return "***"
	}
	return local[:1] + "***@" + domain
}

// MaskAddresses masks every address in s (see MaskAddress).
func MaskAddresses(s string) string {
	return addrRE.ReplaceAllStringFunc(s, MaskAddress)
}
