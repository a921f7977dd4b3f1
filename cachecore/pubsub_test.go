package cachecore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
)

// slowMachine is the OpTimeout of tests that are not about timeouts: a
// loaded machine running the race detector can take longer than the
// default 250ms for a round trip.
const slowMachine = 10 * time.Second

// inbox collects what a handler receives.
type inbox[T any] struct {
	mu       sync.Mutex
	channels []string
	msgs     []T
}

func (b *inbox[T]) handle(channel string, msg T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.channels = append(b.channels, channel)
	b.msgs = append(b.msgs, msg)
}

func (b *inbox[T]) snapshot() ([]string, []T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.channels), slices.Clone(b.msgs)
}

func (b *inbox[T]) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.msgs)
}

// keepSub fails the test on a Subscribe error and closes the subscription
// when the test ends: keepSub(t)(Subscribe(...)).
func keepSub(t *testing.T) func(*Subscription, error) *Subscription {
	return func(s *Subscription, err error) *Subscription {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
}

func TestPubSubTypedRoundTrip(t *testing.T) {
	t.Parallel()
	c, _, _ := newRealCache(t, Options{Namespace: "shop", OpTimeout: slowMachine})
	ctx := context.Background()
	var got inbox[product]
	sub := keepSub(t)(Subscribe(ctx, c, got.handle, "prices", "stock", "prices"))

	want := []product{{ID: 1, Name: "lamp", Price: 9.5}, {ID: 2, Name: "desk", Price: 120}}
	for i, p := range want {
		ch := []string{"prices", "stock"}[i]
		n, err := Publish(ctx, c, ch, p)
		if err != nil || n != 1 {
			t.Fatalf("Publish = %d, %v; want 1 receiver", n, err)
		}
	}
	waitFor(t, "2 messages", 10*time.Second, func() bool { return got.len() == 2 })
	channels, msgs := got.snapshot()
	if !slices.Equal(channels, []string{"prices", "stock"}) || !slices.Equal(msgs, want) {
		t.Fatalf("received %v %v, want channels without the namespace and %v", channels, msgs, want)
	}
	if st := sub.Stats(); st.Received != 2 || st.Delivered != 2 || st.Dropped != 0 || st.Reconnects != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPubSubChannelsAreNamespaced(t *testing.T) {
	t.Parallel()
	shop, s, rdb := newRealCache(t, Options{Namespace: "shop", OpTimeout: slowMachine})
	other, err := New(Options{Redis: rdb, Namespace: "blog", Logger: quietLogger})
	if err != nil {
		t.Fatal(err)
	}
	_ = s
	ctx := context.Background()
	var got inbox[string]
	keepSub(t)(Subscribe(ctx, shop, got.handle, "news"))

	// The same channel name in another namespace is another channel.
	if n, err := Publish(ctx, other, "news", "blog post"); err != nil || n != 0 {
		t.Fatalf("Publish in another namespace reached %d subscribers, %v", n, err)
	}
	// The Redis channel carries the prefix, and the payload is the codec's
	// bytes without the stored-value header.
	if n, err := rdb.Publish(ctx, "shop:news", `"from redis-cli"`).Result(); err != nil || n != 1 {
		t.Fatalf("raw PUBLISH to shop:news reached %d, %v", n, err)
	}
	waitFor(t, "the raw message", 10*time.Second, func() bool { return got.len() == 1 })
	if _, msgs := got.snapshot(); msgs[0] != "from redis-cli" {
		t.Fatalf("got %q", msgs[0])
	}
}

func TestPubSubPatterns(t *testing.T) {
	t.Parallel()
	c, _, rdb := newRealCache(t, Options{Namespace: "sh*p", OpTimeout: slowMachine})
	ctx := context.Background()
	var got inbox[int]
	keepSub(t)(PSubscribe(ctx, c, got.handle, "orders:*"))

	// The namespace is literal in the pattern even with a glob character:
	// "sh*p" must not match "shop".
	if n, err := rdb.Publish(ctx, "shop:orders:eu", "1").Result(); err != nil || n != 0 {
		t.Fatalf("a channel outside the namespace matched (%d), %v", n, err)
	}
	for i, ch := range []string{"orders:eu", "orders:us", "invoices:eu"} {
		if _, err := Publish(ctx, c, ch, i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Publish(ctx, c, "orders:done", 99); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "3 matching messages", 10*time.Second, func() bool { return got.len() == 3 })
	channels, msgs := got.snapshot()
	if !slices.Equal(channels, []string{"orders:eu", "orders:us", "orders:done"}) || !slices.Equal(msgs, []int{0, 1, 99}) {
		t.Fatalf("got %v %v", channels, msgs)
	}
}

func TestPubSubDecodeFailureIsCountedAndLogged(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	c, _, rdb := newRealCache(t, Options{Namespace: "ns", OpTimeout: slowMachine, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := context.Background()
	var got inbox[product]
	sub := keepSub(t)(Subscribe(ctx, c, got.handle, "p"))

	if err := rdb.Publish(ctx, "ns:p", "not json").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Publish(ctx, "ns:p", `{"id": "not a number"}`).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(ctx, c, "p", product{ID: 7}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the valid message", 10*time.Second, func() bool { return got.len() == 1 })
	if _, msgs := got.snapshot(); msgs[0].ID != 7 {
		t.Fatalf("got %+v", msgs)
	}
	if st := sub.Stats(); st.DecodeErrors != 2 || st.Received != 3 || st.Delivered != 1 {
		t.Fatalf("stats %+v", st)
	}
	if n := c.Stats().ErrorsByOp["decode"]; n != 2 {
		t.Fatalf("cache decode errors = %d, want 2", n)
	}
	// Logged once; the second failure falls in the same LogInterval.
	lines := logs.lines()
	if len(lines) != 1 || !strings.Contains(lines[0], "pubsub decode") || !strings.Contains(lines[0], "key=p") {
		t.Fatalf("log lines %q", lines)
	}
}

func TestPubSubHandlerPanicIsRecovered(t *testing.T) {
	t.Parallel()
	c, _, _ := newRealCache(t, Options{OpTimeout: slowMachine})
	ctx := context.Background()
	var got inbox[int]
	sub := keepSub(t)(Subscribe(ctx, c, func(ch string, n int) {
		if n%2 == 1 {
			panic(fmt.Sprintf("odd %d", n))
		}
		got.handle(ch, n)
	}, "nums"))
	for i := 1; i <= 4; i++ {
		if _, err := Publish(ctx, c, "nums", i); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the even numbers", 10*time.Second, func() bool { return got.len() == 2 })
	if _, msgs := got.snapshot(); !slices.Equal(msgs, []int{2, 4}) {
		t.Fatalf("got %v", msgs)
	}
	waitFor(t, "panic counters", 10*time.Second, func() bool { return sub.Stats().HandlerPanics == 2 })
	if st := sub.Stats(); st.Delivered != 2 {
		t.Fatalf("stats %+v", st)
	}
	if n := c.Stats().ErrorsByOp["handler"]; n != 2 {
		t.Fatalf("cache handler errors = %d", n)
	}
}

func TestPubSubSlowHandlerDropsAndCounts(t *testing.T) {
	t.Parallel()
	c, _, _ := newRealCache(t, Options{OpTimeout: slowMachine})
	ctx := context.Background()
	entered := make(chan struct{})
	release := make(chan struct{})
	var got inbox[int]
	var once sync.Once
	sub := keepSub(t)(Subscribe(ctx, c, func(ch string, n int) {
		once.Do(func() { close(entered); <-release })
		got.handle(ch, n)
	}, "flood"))

	if _, err := Publish(ctx, c, "flood", 0); err != nil {
		t.Fatal(err)
	}
	<-entered // the handler holds message 0 and blocks
	const extra = SubscriptionBuffer + 100
	for i := 1; i <= extra; i++ {
		if _, err := Publish(ctx, c, "flood", i); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every message to arrive", 20*time.Second, func() bool { return sub.Stats().Received == extra+1 })
	// The reader kept going while the handler was stuck: the buffer
	// filled, and the rest were dropped.
	if st := sub.Stats(); st.Dropped != extra-SubscriptionBuffer {
		t.Fatalf("dropped %d, want %d: %+v", st.Dropped, extra-SubscriptionBuffer, st)
	}
	close(release)
	waitFor(t, "the buffered messages", 20*time.Second, func() bool { return got.len() == SubscriptionBuffer+1 })
	// The oldest were kept, in order.
	if _, msgs := got.snapshot(); msgs[0] != 0 || msgs[SubscriptionBuffer] != SubscriptionBuffer {
		t.Fatalf("kept %d..%d", msgs[0], msgs[len(msgs)-1])
	}
}

func TestPubSubResubscribesAfterRestart(t *testing.T) {
	t.Parallel()
	c, s, _ := newRealCache(t, Options{Namespace: "app", OpTimeout: slowMachine})
	ctx := context.Background()
	var got, gotPattern inbox[string]
	sub := keepSub(t)(Subscribe(ctx, c, got.handle, "events", "alerts"))
	psub := keepSub(t)(PSubscribe(ctx, c, gotPattern.handle, "ev*"))

	if _, err := Publish(ctx, c, "events", "before"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first message", 10*time.Second, func() bool { return got.len() == 1 && gotPattern.len() == 1 })

	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both subscriptions to reconnect", 30*time.Second, func() bool {
		return sub.Stats().Reconnects == 1 && psub.Stats().Reconnects == 1
	})
	for _, ch := range []string{"events", "alerts"} {
		// The Cache's pool may still hold connections to the old process;
		// go-redis retries on a broken connection, but allow a few tries.
		waitFor(t, "a publish after the restart", 10*time.Second, func() bool {
			_, err := Publish(ctx, c, ch, "after")
			return err == nil
		})
	}
	waitFor(t, "messages after the restart", 10*time.Second, func() bool { return got.len() == 3 && gotPattern.len() == 2 })
	channels, msgs := got.snapshot()
	if !slices.Equal(msgs, []string{"before", "after", "after"}) || !slices.Equal(channels, []string{"events", "events", "alerts"}) {
		t.Fatalf("got %v %v", channels, msgs)
	}
}

func TestPubSubCloseWaitsForHandler(t *testing.T) {
	t.Parallel()
	c, _, _ := newRealCache(t, Options{OpTimeout: slowMachine})
	ctx := context.Background()
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	var calls, afterClose atomic.Int64
	var closed atomic.Bool
	sub, err := Subscribe(ctx, c, func(string, int) {
		if closed.Load() {
			afterClose.Add(1)
		}
		calls.Add(1)
		entered <- struct{}{}
		<-release
	}, "c")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := Publish(ctx, c, "c", i); err != nil {
			t.Fatal(err)
		}
	}
	<-entered
	waitFor(t, "all messages queued", 10*time.Second, func() bool { return sub.Stats().Received == 3 })

	closeDone := make(chan error)
	go func() { closeDone <- sub.Close() }()
	select {
	case <-closeDone:
		t.Fatal("Close returned while the handler was still running")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-closeDone; err != nil {
		t.Fatal(err)
	}
	closed.Store(true)
	// Queued messages are discarded: only the one in progress ran.
	if n := calls.Load(); n != 1 {
		t.Fatalf("handler ran %d times, want 1", n)
	}
	if err := sub.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if n, err := Publish(ctx, c, "c", 9); err != nil || n != 0 {
		t.Fatalf("Publish after Close reached %d subscribers, %v", n, err)
	}
	if afterClose.Load() != 0 {
		t.Fatal("handler ran after Close returned")
	}
}

func TestPubSubCloseFromHandler(t *testing.T) {
	t.Parallel()
	c, _, _ := newRealCache(t, Options{OpTimeout: slowMachine})
	ctx := context.Background()
	var sub *Subscription
	ready := make(chan struct{})
	closed := make(chan error, 1)
	sub, err := Subscribe(ctx, c, func(string, int) {
		<-ready
		closed <- sub.Close()
	}, "c")
	if err != nil {
		t.Fatal(err)
	}
	close(ready)
	if _, err := Publish(ctx, c, "c", 1); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close called from the handler did not return")
	}
	// Another goroutine's Close still waits for the handler loop to end.
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSubscribeBadInput(t *testing.T) {
	t.Parallel()
	c, _ := newMiniCache(t, Options{})
	ctx := context.Background()
	h := func(string, int) {}
	if _, err := Subscribe(ctx, c, h); !errors.Is(err, ErrInvalidChannel) {
		t.Fatalf("no channels: %v", err)
	}
	if _, err := Subscribe(ctx, c, h, "a", ""); !errors.Is(err, ErrInvalidChannel) {
		t.Fatalf("empty channel: %v", err)
	}
	if _, err := PSubscribe(ctx, c, h); !errors.Is(err, ErrInvalidChannel) {
		t.Fatalf("no patterns: %v", err)
	}
	if _, err := Subscribe[int](ctx, c, nil, "a"); err == nil {
		t.Fatal("nil handler accepted")
	}
	if _, err := Publish(ctx, c, "", 1); !errors.Is(err, ErrInvalidChannel) {
		t.Fatalf("Publish to an empty channel: %v", err)
	}
	if _, err := Publish(ctx, c, "a", func() {}); !errors.Is(err, ErrEncode) {
		t.Fatalf("Publish of an unencodable value: %v", err)
	}
}

func TestSubscribeWithRedisDown(t *testing.T) {
	t.Parallel()
	c, s, _ := newRealCache(t, Options{OpTimeout: 200 * time.Millisecond})
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := Subscribe(ctx, c, func(string, int) {}, "a"); err == nil {
		t.Fatal("Subscribe succeeded with Redis stopped")
	}
	if _, err := Publish(ctx, c, "a", 1); err == nil {
		t.Fatal("Publish succeeded with Redis stopped")
	}
	st := c.Stats().ErrorsByOp
	if st["subscribe"] != 1 || st["publish"] != 1 {
		t.Fatalf("errors by op %v", st)
	}
}

func TestGoroutineID(t *testing.T) {
	here := goroutineID()
	other := make(chan uint64)
	go func() { other <- goroutineID() }()
	if there := <-other; here == 0 || there == 0 || here == there {
		t.Fatalf("goroutine ids %d and %d", here, there)
	}
	if goroutineID() != here {
		t.Fatal("goroutine id not stable")
	}
}

// Subscribe returns Redis' answer to SUBSCRIBE, not just the fact that the
// command was written: a channel an ACL forbids is an error, not a
// subscription that silently receives nothing.
func TestSubscribeWaitsForConfirmation(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	ctx := context.Background()
	admin := s.Client(t)
	if err := admin.Do(ctx, "ACL", "SETUSER", "limited", "on", "nopass", "~*", "resetchannels", "&app:allowed", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	opts := s.Options()
	opts.Username, opts.Password = "limited", "any" // nopass accepts any password
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	c, err := New(Options{Redis: rdb, Namespace: "app", Logger: quietLogger})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Subscribe(ctx, c, func(string, int) {}, "allowed", "forbidden")
	if err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("Subscribe to a forbidden channel: %v", err)
	}
	keepSub(t)(Subscribe(ctx, c, func(string, int) {}, "allowed"))

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Subscribe(cancelled, c, func(string, int) {}, "allowed"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe with a cancelled context: %v", err)
	}
}
