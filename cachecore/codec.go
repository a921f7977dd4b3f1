package cachecore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Codec turns values into bytes and back. Implementations must be safe for
// concurrent use.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// JSONCodec is the default Codec, using encoding/json.
type JSONCodec struct{}

// Marshal encodes v as JSON.
func (JSONCodec) Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// Unmarshal decodes JSON data into v.
func (JSONCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// Every value cachecore writes starts with a small header, so that a
// negative-cache marker, the early-refresh metadata and a later format
// change can be told apart from user data:
//
//	byte 0     envelopeMagic (0xCC)
//	byte 1     format version (1)
//	byte 2     flags: bit 0 negative entry, bit 1 refresh metadata present
//	[8 bytes]  expiry, Unix milliseconds, big endian       (if bit 1)
//	[4 bytes]  load duration, microseconds, big endian     (if bit 1)
//	rest       the codec's bytes (empty for a negative entry)
//
// A value that does not start with this header (written by another
// program, or by a future format) reads as a miss and is counted as a
// decode error.
const (
	envelopeMagic   = 0xCC
	envelopeVersion = 1

	flagNegative = 1 << 0
	flagMeta     = 1 << 1

	headerLen     = 3
	metaLen       = 12
	maxLoadMicros = 1<<32 - 1
)

// errForeignValue marks a stored value that is not a cachecore envelope of a
// version this code reads.
var errForeignValue = errors.New("cachecore: value is not a cachecore envelope of a known version")

// Envelope is a decoded cachecore value, as stored in Redis. The dashboard
// uses it to show cachecore entries for what they are.
type Envelope struct {
	// Version is the format version of the header.
	Version int
	// Negative reports a negative-cache entry: the loader said ErrNotFound.
	Negative bool
	// ExpiresAt and LoadDuration are set when the entry was written with
	// early refresh metadata; otherwise they are zero.
	ExpiresAt    time.Time
	LoadDuration time.Duration
	// Payload is the codec's encoding of the value (JSON by default).
	Payload []byte
}

// IsEnvelope reports whether b looks like a value written by cachecore.
func IsEnvelope(b []byte) bool {
	return len(b) >= headerLen && b[0] == envelopeMagic && b[1] == envelopeVersion
}

// DecodeEnvelope parses the header of a stored value. Payload aliases b.
func DecodeEnvelope(b []byte) (Envelope, error) {
	if !IsEnvelope(b) {
		return Envelope{}, errForeignValue
	}
	flags := b[2]
	env := Envelope{Version: int(b[1]), Negative: flags&flagNegative != 0}
	rest := b[headerLen:]
	if flags&flagMeta != 0 {
		if len(rest) < metaLen {
			return Envelope{}, fmt.Errorf("%w: truncated metadata", errForeignValue)
		}
		env.ExpiresAt = time.UnixMilli(int64(binary.BigEndian.Uint64(rest[:8])))
		env.LoadDuration = time.Duration(binary.BigEndian.Uint32(rest[8:12])) * time.Microsecond
		rest = rest[metaLen:]
	}
	env.Payload = rest
	return env, nil
}

// refreshMeta is the early-refresh information stored with a value.
type refreshMeta struct {
	expiresAt time.Time
	load      time.Duration
}

// encodeEnvelope returns header+payload in one allocation.
func encodeEnvelope(payload []byte, negative bool, meta *refreshMeta) []byte {
	n := headerLen + len(payload)
	if meta != nil {
		n += metaLen
	}
	b := make([]byte, headerLen, n)
	b[0], b[1] = envelopeMagic, envelopeVersion
	if negative {
		b[2] |= flagNegative
	}
	if meta != nil {
		b[2] |= flagMeta
		b = binary.BigEndian.AppendUint64(b, uint64(meta.expiresAt.UnixMilli()))
		us := meta.load.Microseconds()
		if us < 0 {
			us = 0
		}
		if us > maxLoadMicros {
			us = maxLoadMicros
		}
		b = binary.BigEndian.AppendUint32(b, uint32(us))
	}
	return append(b, payload...)
}
