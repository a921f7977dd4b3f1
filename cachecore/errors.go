package cachecore

import "errors"

var (
	// ErrMiss is returned by Get when the key holds no usable value: it does
	// not exist, has expired, or holds data of another format. redis.Nil
	// never leaks out of this package.
	ErrMiss = errors.New("cachecore: cache miss")

	// ErrNotFound is what a loader returns (or wraps) to say the record does
	// not exist. GetOrSet caches that answer for Options.NegativeTTL and
	// returns ErrNotFound to every caller until it expires; Get returns it
	// for a key holding such a negative entry.
	ErrNotFound = errors.New("cachecore: not found")

	// ErrCircuitOpen is returned by operations skipped because the circuit
	// breaker is open after repeated Redis failures.
	ErrCircuitOpen = errors.New("cachecore: circuit breaker open")

	// ErrInvalidKey is returned for an empty key.
	ErrInvalidKey = errors.New("cachecore: invalid key")

	// ErrInvalidTTL is returned for a negative TTL.
	ErrInvalidTTL = errors.New("cachecore: invalid ttl")

	// ErrInvalidDestination is returned when dst is nil or not a pointer.
	ErrInvalidDestination = errors.New("cachecore: destination must be a non-nil pointer")

	// ErrLoaderPanic wraps the value a panicking loader raised; every caller
	// waiting on that load receives it.
	ErrLoaderPanic = errors.New("cachecore: loader panicked")

	// ErrEncode wraps a codec's failure to encode a value.
	ErrEncode = errors.New("cachecore: cannot encode value")
)
