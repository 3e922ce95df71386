package line

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"strconv"
)

// keyNamespace is the UUIDv5 namespace of KeyFrom.
var keyNamespace = [16]byte{0x6c, 0x69, 0x6e, 0x65, 0x2d, 0x72, 0x65, 0x74, 0x72, 0x79, 0x2d, 0x6b, 0x65, 0x79, 0x00, 0x01}

// NewRetryKey returns a random (version 4) UUID for X-Line-Retry-Key.
func NewRetryKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

// KeyFrom derives a deterministic retry key (a version 5 UUID) from parts,
// e.g. KeyFrom("order", orderID, "thanks-v1"), so that a send repeated for the
// same business event reuses its key and is accepted only once.
func KeyFrom(parts ...string) string {
	name := make([]byte, 0, 64)
	for _, p := range parts {
		name = strconv.AppendInt(name, int64(len(p)), 10)
		name = append(name, ':')
		name = append(name, p...)
	}
	return uuid5(keyNamespace, name)
}

// chunkKey derives the key of chunk i of a multicast sent with key.
func chunkKey(key string, i int) string {
	ns, _ := parseUUID(key)
	return uuid5(ns, []byte("multicast-chunk:"+strconv.Itoa(i)))
}

func uuid5(ns [16]byte, name []byte) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write(name)
	var b [16]byte
	copy(b[:], h.Sum(nil))
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// parseUUID parses the hyphenated hex form LINE expects.
func parseUUID(s string) ([16]byte, bool) {
	var b [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return b, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	if _, err := hex.Decode(b[:], []byte(h)); err != nil {
		return b, false
	}
	return b, true
}

// ValidRetryKey reports whether s has the form LINE accepts as a retry key.
func ValidRetryKey(s string) bool { _, ok := parseUUID(s); return ok }

func retryKey(k string) (string, error) {
	if k == "" {
		return NewRetryKey(), nil
	}
	if !ValidRetryKey(k) {
		return "", invalid("RetryKey", "%q is not a hyphenated hex UUID", k)
	}
	return k, nil
}
