package localsts

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"strconv"
	"strings"
)

// b32 is the unpadded standard base32 alphabet (A–Z, 2–7) that AWS key ids use.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Key id prefixes the server mints.
const (
	prefixAccessKey = "AKIA"
	prefixTempKey   = "ASIA"
	prefixUser      = "AIDA"
	prefixRole      = "AROA"
)

// keyBodyLen and uniqueIDBodyLen are the lengths after the 4-character prefix of access key ids
// (20 in all) and of user and role unique ids (21 in all), as AWS mints them.
const (
	keyBodyLen      = 16
	uniqueIDBodyLen = 17
)

// encodeID builds prefix + a base32 body whose first 48 bits carry account the way modern AWS
// ids do: bit 47 set, the account in bits 7–46, filler elsewhere. Offline decoders (drop the
// prefix, base32-decode, (v & 0x7fffffffff80) >> 7) therefore read back the account, which keeps
// GetAccessKeyInfo and the sidecar's offline guess in agreement. filler must hold at least
// bodyLen*5/8+1 bytes.
func encodeID(prefix, account string, filler []byte, bodyLen int) string {
	acct, _ := strconv.ParseUint(account, 10, 64)
	v := uint64(1)<<47 | (acct&0xffffffffff)<<7 | uint64(filler[0]&0x7f)
	n := (bodyLen*5 + 7) / 8
	b := make([]byte, n)
	for i := 0; i < 6; i++ {
		b[i] = byte(v >> (40 - 8*i))
	}
	copy(b[6:], filler[1:])
	return prefix + b32.EncodeToString(b)[:bodyLen]
}

// stableID is a deterministic unique id for a named entity, so user and role ids survive a
// restart of the server like IAM's do.
func stableID(prefix, account, name string) string {
	sum := sha256.Sum256([]byte(prefix + "\x00" + account + "\x00" + name))
	return encodeID(prefix, account, sum[:], uniqueIDBodyLen)
}

// randomBytes returns n bytes from crypto/rand; it panics only if the OS has no entropy source,
// in which case nothing secret could be minted anyway.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("localsts: crypto/rand: " + err.Error())
	}
	return b
}

// newTempKeyID mints an ASIA key id in account.
func newTempKeyID(account string) string {
	return encodeID(prefixTempKey, account, randomBytes(16), keyBodyLen)
}

// newSecret mints a 40-character secret access key in AWS's alphabet.
func newSecret() string {
	return base64.StdEncoding.EncodeToString(randomBytes(30))
}

// sessionTokenBytes is how much randomness a session token carries before any padding; real
// tokens are several hundred characters, and clients must cope with that length.
const sessionTokenBytes = 384

// maxMinimumSessionTokenSize is the largest MinimumSessionTokenSize STS accepts.
const maxMinimumSessionTokenSize = 4096

// newSessionToken mints an unguessable session token of at least minSize characters.
func newSessionToken(minSize int) string {
	n := sessionTokenBytes
	if need := (minSize*3 + 3) / 4; need > n {
		n = need
	}
	return base64.StdEncoding.EncodeToString(randomBytes(n))
}

// newRequestID returns a random version-4 UUID, the form of STS request ids.
func newRequestID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	var sb strings.Builder
	for i, x := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			sb.WriteByte('-')
		}
		sb.WriteByte(hex[x>>4])
		sb.WriteByte(hex[x&0xf])
	}
	return sb.String()
}
