package cachecore

import (
	"bufio"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNearStoreDropsAFillInvalidatedWhileInFlight(t *testing.T) {
	s := newNearStore(100, 1<<20)
	far := time.Now().Add(time.Hour).UnixNano()
	now := time.Now().UnixNano()

	tok, ep := s.begin("k")
	s.invalidate("k") // a write reported while the read was in flight
	s.commit("k", tok, ep, []byte("old"), far)
	if _, ok := s.get("k", now); ok {
		t.Fatal("a value read before an invalidation was stored")
	}

	tok, ep = s.begin("k")
	s.flush() // tracking lost while the read was in flight
	s.commit("k", tok, ep, []byte("old"), far)
	if _, ok := s.get("k", now); ok {
		t.Fatal("a value read before a flush was stored")
	}

	tok, ep = s.begin("k")
	if tok2, _ := s.begin("k"); tok2 != 0 {
		t.Fatal("a second fill of the same key was registered")
	}
	s.commit("k", tok, ep, []byte("new"), far)
	if v, ok := s.get("k", now); !ok || string(v) != "new" {
		t.Fatalf("clean fill not stored: %q %v", v, ok)
	}
	if _, ok := s.get("k", far); ok {
		t.Fatal("served at its deadline")
	}
}

func TestNearStoreEvictsUnusedEntriesFirst(t *testing.T) {
	s := newNearStore(nearShards*4, 1<<30) // 4 entries per shard
	far := time.Now().Add(time.Hour).UnixNano()
	now := time.Now().UnixNano()
	put := func(k string) {
		tok, ep := s.begin(k)
		s.commit(k, tok, ep, []byte(k), far)
	}
	// Find five keys of one shard.
	var keys []string
	first := s.shard("k0")
	for i := 0; len(keys) < 5; i++ {
		k := "k" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		if s.shard(k) == first {
			keys = append(keys, k)
		}
	}
	for _, k := range keys[:4] {
		put(k)
	}
	for _, k := range keys[1:4] {
		s.get(k, now) // used; keys[0] is not
	}
	put(keys[4])
	if _, ok := s.get(keys[0], now); ok {
		t.Error("the unused entry survived")
	}
	for _, k := range keys[1:] {
		if _, ok := s.get(k, now); !ok {
			t.Errorf("%s evicted", k)
		}
	}
	if n, _ := s.usage(); n != 4 {
		t.Errorf("%d entries", n)
	}
}

func TestReadRespRejectsMalformedInput(t *testing.T) {
	for _, in := range []string{
		"", "\r\n", "?x\r\n", ":abc\r\n", "$5\r\nab\r\n", "$-5\r\n", "*2\r\n:1\r\n",
		"$3\r\nabcXY", "*99999999999\r\n", "+OK\n", strings.Repeat("*1\r\n", 40) + ":1\r\n",
		strings.Repeat("|0\r\n", 1_000_000) + ":1\r\n", // attributes without end
	} {
		_, err := readResp(bufio.NewReader(strings.NewReader(in)))
		if err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	if v, err := readResp(bufio.NewReader(strings.NewReader("|1\r\n+ttl\r\n:3\r\n:7\r\n"))); err != nil || v != int64(7) {
		t.Fatalf("a reply after an attribute: %#v %v", v, err)
	}
	v, err := readResp(bufio.NewReader(strings.NewReader(">2\r\n$10\r\ninvalidate\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n")))
	push, ok := v.(respPush)
	if err != nil || !ok || len(push) != 2 || push[0] != "invalidate" {
		t.Fatalf("push: %#v %v", v, err)
	}
	v, err = readResp(bufio.NewReader(strings.NewReader("%1\r\n+id\r\n:42\r\n")))
	if err != nil || helloClientID(v) != 42 {
		t.Fatalf("map: %#v %v", v, err)
	}
	v, _ = readResp(bufio.NewReader(strings.NewReader("-ERR unknown command 'HELLO'\r\n")))
	var rerr respError
	if !errors.As(asError(v), &rerr) {
		t.Fatalf("error reply: %#v", v)
	}
}

func TestIsPlain(t *testing.T) {
	type inner struct {
		A [3]int
		S string
	}
	type outer struct {
		I inner
		F float64
	}
	type withPtr struct{ P *int }
	type withAny struct{ V any }
	for _, c := range []struct {
		v    any
		want bool
	}{
		{0, true}, {"", true}, {product{}, true}, {outer{}, true}, {[2]string{}, true},
		{[]int{}, false}, {map[string]int{}, false}, {withPtr{}, false}, {withAny{}, false}, {tagged{}, false},
	} {
		if got := isPlain(reflect.TypeOf(c.v)); got != c.want {
			t.Errorf("isPlain(%T) = %v", c.v, got)
		}
	}
}

// A copy expires its key's PTTL after the read was sent, not after the
// answer arrived: the server measured the PTTL in between, so a copy
// committed late (a read that waited in a batch) still never outlives
// its key.
func TestNearCopyExpiresCountingFromTheReadSent(t *testing.T) {
	clock := time.Unix(1000, 0)
	n := &nearCache{opts: NearOptions{MaxAge: time.Hour}, store: newNearStore(100, 1<<20), now: func() time.Time { return clock }}
	n.up.Store(true)
	sent := clock
	tok, ep := n.begin("k")
	clock = clock.Add(300 * time.Millisecond) // the answer arrives late
	n.commit("k", tok, ep, []byte("v"), time.Second, sent)
	if _, ok := n.store.get("k", sent.Add(999*time.Millisecond).UnixNano()); !ok {
		t.Fatal("the copy is gone before its key")
	}
	if _, ok := n.store.get("k", sent.Add(time.Second+time.Millisecond).UnixNano()); ok {
		t.Fatal("the copy outlives its key (expiry counted from the answer, not the read)")
	}
}
