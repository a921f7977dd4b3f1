package monitor

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/cachecore"
)

func TestHugeStringPagesWithoutReadingEverything(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	ctx := t.Context()
	const size = 100 << 20
	// SETRANGE past the end makes a 100 MB string at once.
	if err := s.admin.SetRange(ctx, "big", size-5, "tail!").Err(); err != nil {
		t.Fatal(err)
	}
	s.admin.SetRange(ctx, "big", 0, "head")
	k := NewKeys(s.watched, KeysOptions{})
	m := meter(s.watched)
	meta, err := k.Inspect(ctx, "big")
	if err != nil || meta.Length != size {
		t.Fatalf("meta %+v %v", meta, err)
	}
	p, err := k.ReadValue(ctx, "big", TypeString, ValueAt{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Data) != DefaultStringWindow || p.Length != size || !p.HasNext || p.HasPrev || !p.Truncated() || !strings.HasPrefix(p.Data, "head") {
		t.Fatalf("first page: %d bytes, length %d, next %v prev %v", len(p.Data), p.Length, p.HasNext, p.HasPrev)
	}
	p2, err := k.ReadValue(ctx, "big", TypeString, p.Next)
	if err != nil || p2.Start != DefaultStringWindow || len(p2.Data) != DefaultStringWindow || !p2.HasPrev || p2.Prev.Offset != 0 {
		t.Fatalf("second page: start %d, %d bytes, %v", p2.Start, len(p2.Data), err)
	}
	last, err := k.ReadValue(ctx, "big", TypeString, ValueAt{Offset: size - 10})
	if err != nil || last.Data[len(last.Data)-5:] != "tail!" || last.HasNext || len(last.Data) != 10 {
		t.Fatalf("last page: %q %v", last.Data, err)
	}
	_, read := m.reset()
	if read > 4*DefaultStringWindow {
		t.Fatalf("read %d bytes of a 100 MB string for three windows", read)
	}
	d := DecodeValue(p.Data, p.Truncated())
	if d.Kind != KindBinary || !d.Truncated {
		t.Fatalf("decoded as %s", d.Kind)
	}
}

func TestMillionFieldHashPagesWithoutReadingEverything(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	ctx := t.Context()
	// HSETs of 1000 fields, 100 per pipeline: quick, and no single
	// command blocks the server for long.
	for chunk := 0; chunk < 10; chunk++ {
		p := s.admin.Pipeline()
		for c := 0; c < 100; c++ {
			fields := make([]any, 0, 2000)
			for f := 0; f < 1000; f++ {
				i := (chunk*100+c)*1000 + f + 1
				fields = append(fields, fmt.Sprintf("field:%d", i), i)
			}
			p.HSet(ctx, "huge", fields...)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	k := NewKeys(s.watched, KeysOptions{ElementWindow: 100})
	m := meter(s.watched)
	meta, err := k.Inspect(ctx, "huge")
	if err != nil || meta.Length != 1_000_000 || meta.Type != TypeHash {
		t.Fatalf("meta %+v %v", meta, err)
	}
	seen := map[string]bool{}
	at := ValueAt{}
	for i := 0; i < 5; i++ {
		p, err := k.ReadValue(ctx, "huge", TypeHash, at)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Elements) == 0 || len(p.Elements) > 300 || !p.HasNext || p.Length != 1_000_000 {
			t.Fatalf("page %d: %d elements, next %v", i, len(p.Elements), p.HasNext)
		}
		for _, e := range p.Elements {
			if !strings.HasPrefix(e.Field, "field:") || e.Field[len("field:"):] != e.Value {
				t.Fatalf("element %+v", e)
			}
			seen[e.Field] = true
		}
		at = p.Next
	}
	cmds, read := m.reset()
	for _, c := range cmds {
		if strings.HasPrefix(c, "HGETALL") || strings.HasPrefix(c, "HKEYS") || strings.HasPrefix(c, "HVALS") {
			t.Fatalf("sent %s", c)
		}
	}
	if read > 100_000 || len(seen) < 400 {
		t.Fatalf("read %d bytes, %d distinct fields in five pages", read, len(seen))
	}
}

func TestListAndSortedSetWindows(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	ctx := t.Context()
	var items []any
	var zs []redis.Z
	for i := 0; i < 250; i++ {
		items = append(items, fmt.Sprintf("e%d", i))
		zs = append(zs, redis.Z{Score: float64(i), Member: fmt.Sprintf("m%d", i)})
	}
	s.admin.RPush(ctx, "list", items...)
	s.admin.ZAdd(ctx, "zset", zs...)
	k := NewKeys(s.watched, KeysOptions{ElementWindow: 100})
	for _, typ := range []string{TypeList, TypeZSet} {
		key, prefix := "list", "e"
		if typ == TypeZSet {
			key, prefix = "zset", "m"
		}
		name := func(e Element) string {
			if typ == TypeList {
				return e.Value
			}
			return e.Field
		}
		p, err := k.ReadValue(ctx, key, typ, ValueAt{})
		if err != nil || len(p.Elements) != 100 || p.Length != 250 || !p.HasNext || p.HasPrev {
			t.Fatalf("%s first: %d %v", typ, len(p.Elements), err)
		}
		p, _ = k.ReadValue(ctx, key, typ, p.Next)
		p, _ = k.ReadValue(ctx, key, typ, p.Next)
		if len(p.Elements) != 50 || p.HasNext || p.Start != 200 || name(p.Elements[49]) != prefix+"249" || p.Elements[49].Index != 249 {
			t.Fatalf("%s last: %+v", typ, p)
		}
		back, _ := k.ReadValue(ctx, key, typ, p.Prev)
		if back.Start != 100 || name(back.Elements[0]) != prefix+"100" {
			t.Fatalf("%s back: start %d", typ, back.Start)
		}
		jump, _ := k.ReadValue(ctx, key, typ, ValueAt{Offset: 242})
		if name(jump.Elements[0]) != prefix+"242" || len(jump.Elements) != 8 {
			t.Fatalf("%s jump: %+v", typ, jump.Elements[0])
		}
		if typ == TypeZSet && jump.Elements[0].Score != 242 {
			t.Fatalf("score %v", jump.Elements[0].Score)
		}
		past, err := k.ReadValue(ctx, key, typ, ValueAt{Offset: 1000})
		if err != nil || len(past.Elements) != 0 || past.HasNext {
			t.Fatalf("%s past the end: %+v %v", typ, past, err)
		}
	}
}

func TestSetAndStreamWindows(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	ctx := t.Context()
	for i := 0; i < 1000; i++ {
		s.admin.SAdd(ctx, "set", fmt.Sprintf("member-%d", i))
	}
	for i := 1; i <= 250; i++ {
		s.admin.XAdd(ctx, &redis.XAddArgs{Stream: "stream", ID: fmt.Sprintf("%d-0", i), Values: []string{"z", "last", "a", fmt.Sprint(i), "z", "again"}})
	}
	k := NewKeys(s.watched, KeysOptions{ElementWindow: 100})
	members := map[string]bool{}
	at := ValueAt{}
	for i := 0; ; i++ {
		p, err := k.ReadValue(ctx, "set", TypeSet, at)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Elements {
			members[e.Field] = true
		}
		if !p.HasNext {
			break
		}
		at = p.Next
		if i > 100 {
			t.Fatal("no end")
		}
	}
	if len(members) != 1000 {
		t.Fatalf("%d members", len(members))
	}

	p, err := k.ReadValue(ctx, "stream", TypeStream, ValueAt{})
	if err != nil || len(p.Elements) != 100 || p.Elements[0].Field != "1-0" || !p.HasNext || p.HasPrev {
		t.Fatalf("stream first: %+v %v", p.Elements[:1], err)
	}
	// Fields keep their order and repeats.
	if fmt.Sprint(p.Elements[0].Pairs) != "[z last a 1 z again]" {
		t.Fatalf("pairs %v", p.Elements[0].Pairs)
	}
	p2, _ := k.ReadValue(ctx, "stream", TypeStream, p.Next)
	if p2.Elements[0].Field != "101-0" || !p2.HasPrev {
		t.Fatalf("stream second starts %s", p2.Elements[0].Field)
	}
	back, err := k.ReadValue(ctx, "stream", TypeStream, p2.Prev)
	if err != nil || len(back.Elements) != 100 || back.Elements[0].Field != "1-0" || back.Elements[99].Field != "100-0" {
		t.Fatalf("stream back: %d elements from %s (%v)", len(back.Elements), back.Elements[0].Field, err)
	}
	seek, _ := k.ReadValue(ctx, "stream", TypeStream, ValueAt{From: "245"})
	if len(seek.Elements) != 6 || seek.Elements[0].Field != "245-0" || seek.HasNext {
		t.Fatalf("seek: %d from %s", len(seek.Elements), seek.Elements[0].Field)
	}
	if _, err := k.ReadValue(ctx, "stream", TypeStream, ValueAt{Before: "bogus"}); !errors.Is(err, ErrBadQuery) {
		t.Fatalf("bad ID: %v", err)
	}
}

func TestReadValueOfAGoneOrChangedKey(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	ctx := t.Context()
	s.admin.Set(ctx, "k", "v", 0)
	k := NewKeys(s.watched, KeysOptions{})
	if _, err := k.ReadValue(ctx, "gone", TypeString, ValueAt{}); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("gone: %v", err)
	}
	if _, err := k.ReadValue(ctx, "k", TypeHash, ValueAt{}); !errors.Is(err, ErrTypeChanged) {
		t.Fatalf("changed: %v", err)
	}
	if _, err := k.ReadValue(ctx, "k", "module-type", ValueAt{}); !errors.Is(err, ErrBadQuery) {
		t.Fatalf("unknown type: %v", err)
	}
	if _, err := k.ReadValue(ctx, "k", TypeString, ValueAt{Offset: -1}); !errors.Is(err, ErrBadQuery) {
		t.Fatalf("negative offset: %v", err)
	}
}

func TestDecodeValue(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	ctx := t.Context()
	cache, err := cachecore.New(cachecore.Options{Redis: s.admin, Namespace: "app", TTLJitter: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := cache.Set(ctx, "user:1", map[string]any{"name": "Ada", "id": 1}, time.Minute); err != nil {
		t.Fatal(err)
	}
	raw := s.admin.Get(ctx, "app:user:1").Val()
	d := DecodeValue(raw, false)
	if d.Kind != KindEnvelope || d.PayloadKind != KindJSON || d.Envelope == nil || d.Envelope.Negative || d.Envelope.Version != 1 {
		t.Fatalf("envelope: %+v", d)
	}
	if !strings.HasPrefix(d.Text, "cachecore entry (format v1)\n") || !strings.Contains(d.Text, "{\n  \"id\": 1,\n  \"name\": \"Ada\"\n}") {
		t.Fatalf("envelope text:\n%s", d.Text)
	}

	cases := []struct {
		in        string
		truncated bool
		kind      ValueKind
		text      string
	}{
		{"", false, KindEmpty, ""},
		{`{"a":[1,2]}`, false, KindJSON, "{\n  \"a\": [\n    1,\n    2\n  ]\n}"},
		{`[1,`, true, KindText, `[1,`},
		{"42", false, KindText, "42"},
		{"héllo\nwörld\x1b[31m", false, KindText, "héllo\nwörld\x1b[31m"},
		{"日本" + "語"[:2], true, KindText, "日本" + "語"[:2]},
		{"\x00\x01\x02hello world, binary\xff", false, KindBinary,
			"00000000  00 01 02 68 65 6c 6c 6f  20 77 6f 72 6c 64 2c 20  |...hello world, |\n" +
				"00000010  62 69 6e 61 72 79 ff                              |binary.|\n"},
	}
	for _, c := range cases {
		d := DecodeValue(c.in, c.truncated)
		if d.Kind != c.kind || d.Text != c.text {
			t.Errorf("DecodeValue(%q) = %s %q, want %s %q", c.in, d.Kind, d.Text, c.kind, c.text)
		}
	}
	// The hex dump numbers lines from the window's offset.
	if got := HexDump("ab", 0x10000); !strings.HasPrefix(got, "00010000  61 62") {
		t.Fatalf("offset dump %q", got)
	}
}
