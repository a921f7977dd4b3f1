package monitor

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ValueAt says where a value read starts. The zero value is the start of
// any value. Pages give the positions of their neighbours (ValuePage.Next,
// ValuePage.Prev); a viewer may also build one to jump.
type ValueAt struct {
	// Offset is the first byte of a string, or the index (rank) of the
	// first element of a list or sorted set.
	Offset int64
	// Cursor is the HSCAN/SSCAN cursor of a hash or set (0 is the start).
	// Those are read forward only; a viewer keeps the pages it has seen.
	Cursor uint64
	// From is the first stream entry ID to read ("" is the first entry);
	// an incomplete ID such as a Unix time in milliseconds works too.
	From string
	// Before, for a stream, reads the window of entries just before this
	// ID instead (backward paging). It takes precedence over From.
	Before string
}

// Element is one element of a collection value. Strings are raw.
type Element struct {
	// Index is the position of a list element or the rank of a sorted-set
	// member; -1 for hashes, sets and streams.
	Index int64
	// Field is the hash field, the set or sorted-set member, or the stream
	// entry ID. It is empty for a list element.
	Field string
	// Value is the hash value or the list element.
	Value string
	// Score is a sorted-set member's score.
	Score float64
	// Pairs are a stream entry's fields and values, alternating.
	Pairs []string
}

// ValuePage is one window of a value. It is immutable.
type ValuePage struct {
	// Key and Type identify the value.
	Key  string
	Type string
	// Length is the value's size when it was read: bytes of a string,
	// elements of a collection.
	Length int64
	// At is where the page was asked to start.
	At ValueAt
	// Start is the offset of the first byte (strings) or the index of the
	// first element (lists, sorted sets) of the page; -1 for hashes, sets
	// and streams.
	Start int64
	// Data is the bytes read of a string (at most
	// KeysOptions.StringWindow), raw; decode it with DecodeValue.
	Data string
	// Elements are the elements read of a collection.
	Elements []Element
	// Next is where the following page starts, when HasNext.
	Next    ValueAt
	HasNext bool
	// Prev is where the preceding page starts, when HasPrev (strings,
	// lists, sorted sets and streams; hashes and sets read forward only).
	Prev    ValueAt
	HasPrev bool
}

// Truncated reports whether a string page holds less than the whole value.
func (p ValuePage) Truncated() bool {
	return p.Type == TypeString && (p.Start > 0 || p.Start+int64(len(p.Data)) < p.Length)
}

// ReadValue reads one window of key's value, which has type typ (from
// [Keys.Meta] or [Keys.Inspect]), starting at at. It never reads a whole
// value of unknown size: a string by GETRANGE (StringWindow bytes), a
// list by LRANGE and a sorted set by ZRANGE (ElementWindow elements), a
// hash or set by one HSCAN or SSCAN call, a stream by XRANGE or XREVRANGE.
// It sends TYPE, the length command and the read in one pipeline, and
// returns ErrNoSuchKey when the key is gone and ErrTypeChanged when it no
// longer has type typ.
func (k *Keys) ReadValue(ctx context.Context, key, typ string, at ValueAt) (ValuePage, error) {
	if at.Offset < 0 {
		return ValuePage{}, fmt.Errorf("%w: negative offset %d", ErrBadQuery, at.Offset)
	}
	w := int64(k.opts.ElementWindow)
	var (
		length *redis.IntCmd
		read   redis.Cmder
		typeOf *redis.StatusCmd
	)
	before, from := "", "-"
	if typ == TypeStream {
		var err error
		if before, from, err = streamBounds(at); err != nil {
			return ValuePage{}, err
		}
	}
	_, err := k.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		typeOf = p.Type(ctx, key)
		switch typ {
		case TypeString:
			length = p.StrLen(ctx, key)
			read = p.GetRange(ctx, key, at.Offset, at.Offset+int64(k.opts.StringWindow)-1)
		case TypeList:
			length = p.LLen(ctx, key)
			read = p.LRange(ctx, key, at.Offset, at.Offset+w-1)
		case TypeZSet:
			length = p.ZCard(ctx, key)
			read = p.ZRangeWithScores(ctx, key, at.Offset, at.Offset+w-1)
		case TypeHash:
			length = p.HLen(ctx, key)
			read = p.HScan(ctx, key, at.Cursor, "", w)
		case TypeSet:
			length = p.SCard(ctx, key)
			read = p.SScan(ctx, key, at.Cursor, "", w)
		case TypeStream:
			length = p.XLen(ctx, key)
			// Do rather than XRange: go-redis reads an entry's fields into
			// a map, which loses their order and repeated fields.
			if before != "" {
				read = p.Do(ctx, "XREVRANGE", key, before, "-", "COUNT", w)
			} else {
				read = p.Do(ctx, "XRANGE", key, from, "+", "COUNT", w)
			}
		default:
			return fmt.Errorf("%w: cannot read a value of type %q", ErrBadQuery, typ)
		}
		return nil
	})
	if typeOf == nil || read == nil {
		return ValuePage{}, err // the type was refused before anything was sent
	}
	if err := pipeError(ctx, err); err != nil {
		return ValuePage{}, fmt.Errorf("monitor: read value: %w", err)
	}
	t, err := typeOf.Result()
	if err != nil {
		return ValuePage{}, fmt.Errorf("monitor: read value: %w", err)
	}
	// TYPE, the length and the read are each one lookup of the same key.
	if t == TypeNone {
		k.lookups.add(0, 3)
		return ValuePage{}, ErrNoSuchKey
	}
	k.lookups.add(3, 0)
	if t != typ {
		return ValuePage{}, fmt.Errorf("%w: %s is now a %s, not a %s", ErrTypeChanged, strconv.Quote(key), t, typ)
	}
	if err := firstErr(length, read); err != nil {
		return ValuePage{}, fmt.Errorf("monitor: read value: %w", err)
	}
	page := ValuePage{Key: key, Type: typ, Length: length.Val(), At: at, Start: -1}
	switch cmd := read.(type) {
	case *redis.StringCmd:
		page.Data = cmd.Val()
		page.Start = at.Offset
		window := int64(k.opts.StringWindow)
		page.HasNext = at.Offset+int64(len(page.Data)) < page.Length
		page.Next = ValueAt{Offset: at.Offset + int64(len(page.Data))}
		page.HasPrev = at.Offset > 0
		page.Prev = ValueAt{Offset: max(0, at.Offset-window)}
	case *redis.StringSliceCmd: // LRANGE
		page.Start = at.Offset
		for i, v := range cmd.Val() {
			page.Elements = append(page.Elements, Element{Index: at.Offset + int64(i), Value: v})
		}
		indexNeighbours(&page, w)
	case *redis.ZSliceCmd:
		page.Start = at.Offset
		for i, z := range cmd.Val() {
			member, _ := z.Member.(string)
			page.Elements = append(page.Elements, Element{Index: at.Offset + int64(i), Field: member, Score: z.Score})
		}
		indexNeighbours(&page, w)
	case *redis.ScanCmd:
		items, cursor := cmd.Val()
		if typ == TypeHash {
			for i := 0; i+1 < len(items); i += 2 {
				page.Elements = append(page.Elements, Element{Index: -1, Field: items[i], Value: items[i+1]})
			}
		} else {
			for _, m := range items {
				page.Elements = append(page.Elements, Element{Index: -1, Field: m})
			}
		}
		page.HasNext, page.Next = cursor != 0, ValueAt{Cursor: cursor}
	case *redis.Cmd: // XRANGE, XREVRANGE
		msgs, err := parseStreamEntries(cmd.Val())
		if err != nil {
			return ValuePage{}, fmt.Errorf("monitor: read stream: %w", err)
		}
		if before != "" { // XREVRANGE: newest first
			for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
				msgs[i], msgs[j] = msgs[j], msgs[i]
			}
		}
		for _, m := range msgs {
			page.Elements = append(page.Elements, Element{Index: -1, Field: m.id, Pairs: m.pairs})
		}
		if n := len(msgs); n > 0 {
			page.Next, page.HasNext = ValueAt{From: nextStreamID(msgs[n-1].id)}, before != "" || int64(n) == w
			page.Prev, page.HasPrev = ValueAt{Before: msgs[0].id}, before == "" && from != "-" || before != "" && int64(n) == w
		} else if before != "" {
			page.Next, page.HasNext = ValueAt{From: at.Before}, true
		}
	}
	return page, nil
}

// indexNeighbours sets Next and Prev of a page read by index.
func indexNeighbours(p *ValuePage, w int64) {
	end := p.Start + int64(len(p.Elements))
	p.HasNext, p.Next = end < p.Length, ValueAt{Offset: end}
	p.HasPrev, p.Prev = p.Start > 0, ValueAt{Offset: max(0, p.Start-w)}
}

func firstErr(cmds ...redis.Cmder) error {
	for _, c := range cmds {
		if err := c.Err(); err != nil {
			return err
		}
	}
	return nil
}

// streamBounds turns at into the XREVRANGE end (before, exclusive) or the
// XRANGE start (from).
func streamBounds(at ValueAt) (before, from string, err error) {
	if at.Before != "" {
		prev, err := prevStreamID(at.Before)
		if err != nil {
			return "", "", err
		}
		if prev == "" { // nothing precedes 0-0
			prev = "0-0"
		}
		return prev, "", nil
	}
	if at.From == "" {
		return "", "-", nil
	}
	return "", at.From, nil
}

// parseStreamID splits "ms-seq" (or "ms").
func parseStreamID(id string) (ms, seq uint64, err error) {
	msPart, seqPart, hasSeq := strings.Cut(id, "-")
	ms, err = strconv.ParseUint(msPart, 10, 64)
	if err == nil && hasSeq {
		seq, err = strconv.ParseUint(seqPart, 10, 64)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %q is not a stream ID", ErrBadQuery, id)
	}
	return ms, seq, nil
}

// nextStreamID returns the smallest ID after id, to continue an XRANGE
// exclusively on any Redis version (the "(" prefix needs 6.2).
func nextStreamID(id string) string {
	ms, seq, err := parseStreamID(id)
	if err != nil {
		return id
	}
	if seq == ^uint64(0) {
		return strconv.FormatUint(ms+1, 10) + "-0"
	}
	return strconv.FormatUint(ms, 10) + "-" + strconv.FormatUint(seq+1, 10)
}

// prevStreamID returns the largest ID before id, "" before 0-0.
func prevStreamID(id string) (string, error) {
	ms, seq, err := parseStreamID(id)
	if err != nil {
		return "", err
	}
	switch {
	case seq > 0:
		return strconv.FormatUint(ms, 10) + "-" + strconv.FormatUint(seq-1, 10), nil
	case ms > 0:
		return strconv.FormatUint(ms-1, 10) + "-" + strconv.FormatUint(^uint64(0), 10), nil
	}
	return "", nil
}

type streamEntry struct {
	id    string
	pairs []string
}

// parseStreamEntries reads an XRANGE reply: [[id, [field, value, ...]], ...].
// A malformed reply is an error, never a panic.
func parseStreamEntries(reply any) ([]streamEntry, error) {
	list, ok := reply.([]any)
	if !ok {
		return nil, errUnexpectedValueReply
	}
	out := make([]streamEntry, 0, len(list))
	for _, item := range list {
		pair, ok := item.([]any)
		if !ok || len(pair) != 2 {
			return nil, errUnexpectedValueReply
		}
		id, ok := pair[0].(string)
		if !ok {
			return nil, errUnexpectedValueReply
		}
		e := streamEntry{id: id}
		fields, _ := pair[1].([]any) // nil for a deleted entry's fields
		for _, f := range fields {
			s, ok := f.(string)
			if !ok {
				return nil, errUnexpectedValueReply
			}
			e.pairs = append(e.pairs, s)
		}
		out = append(out, e)
	}
	return out, nil
}

// errUnexpectedValueReply reports a reply of a shape the reader does not
// know.
var errUnexpectedValueReply = errors.New("unexpected reply")
