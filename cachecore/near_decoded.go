package cachecore

import (
	"reflect"
	"sync"
)

// A near-cache hit is mostly the codec's work: decoding the same bytes
// again on every read. For values whose type holds no references (numbers,
// strings, booleans, arrays and structs of those), a decoded copy can be
// kept beside the bytes and handed out by value: a copy of such a value
// shares nothing the caller could mutate (strings are immutable), so the
// result is the one decoding would give. Types with pointers, slices, maps
// or interfaces are always decoded afresh.

// nearDecoded is the decoded value of an entry, boxed as an any holding a
// T.
type nearDecoded struct {
	typ reflect.Type
	val any
}

var plainTypes sync.Map // reflect.Type -> bool

// isPlain reports whether values of t can be shared by copying: no
// pointers, slices, maps, interfaces, channels or functions anywhere
// inside.
func isPlain(t reflect.Type) bool {
	if v, ok := plainTypes.Load(t); ok {
		return v.(bool)
	}
	plain := plainKind(t, 0)
	plainTypes.Store(t, plain)
	return plain
}

func plainKind(t reflect.Type, depth int) bool {
	if depth > 32 {
		return false
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.String:
		return true
	case reflect.Array:
		return plainKind(t.Elem(), depth+1)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if !plainKind(t.Field(i).Type, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// decodedAs returns the entry's decoded value if it was decoded as t.
func (e *nearEntry) decodedAs(t reflect.Type) (any, bool) {
	d := e.decoded.Load()
	if d == nil || d.typ != t {
		return nil, false
	}
	return d.val, true
}

// keepDecoded keeps v (a T, decoded from e.raw into a zero T) when T is
// plain.
func (e *nearEntry) keepDecoded(t reflect.Type, v any) {
	if isPlain(t) {
		e.decoded.Store(&nearDecoded{typ: t, val: v})
	}
}
