package cachecore

import (
	"bytes"
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Subscription is a live subscription created by Subscribe or PSubscribe.
// Close it when done.
type Subscription struct {
	cache   *Cache
	ps      *redis.PubSub
	deliver func(*redis.Message)

	queue chan *redis.Message // waiting for the handler
	done  chan struct{}       // closed by Close: stop delivering

	// wanted is how many channels or patterns Subscribe asked for, and
	// confirmed those Redis has confirmed.
	wanted    int
	confirmed map[string]bool

	handlerGoroutine atomic.Uint64 // id of the goroutine running the handler

	received, delivered, dropped  atomic.Int64
	decodeErrors, handlerPanics   atomic.Int64
	connections                   atomic.Int64 // subscribed connections, the first included
	readerDone, handlerLoopExited chan struct{}
	started                       bool // the goroutines run; set before Subscribe returns

	closeOnce sync.Once
	closeErr  error
}

// SubscriptionStats are a Subscription's counters.
type SubscriptionStats struct {
	// Received counts messages that arrived from Redis, dropped ones
	// included.
	Received int64 `json:"received"`
	// Delivered counts handler calls that returned normally.
	Delivered int64 `json:"delivered"`
	// Dropped counts messages discarded because SubscriptionBuffer
	// messages were already waiting for the handler.
	Dropped int64 `json:"dropped"`
	// DecodeErrors counts messages that did not decode into the
	// subscription's type; they are skipped.
	DecodeErrors int64 `json:"decode_errors"`
	// HandlerPanics counts handler calls that panicked.
	HandlerPanics int64 `json:"handler_panics"`
	// Reconnects counts how many times the subscription was restored on a
	// new connection after losing one.
	Reconnects int64 `json:"reconnects"`
}

func newSubscription(c *Cache, wanted int) *Subscription {
	return &Subscription{
		cache:             c,
		queue:             make(chan *redis.Message, SubscriptionBuffer),
		done:              make(chan struct{}),
		wanted:            wanted,
		confirmed:         make(map[string]bool, wanted),
		readerDone:        make(chan struct{}),
		handlerLoopExited: make(chan struct{}),
	}
}

// start runs the two goroutines of a subscription: the reader takes every
// message go-redis receives and queues it without waiting, the handler
// loop calls the handler. Keeping them apart is what lets a slow handler
// cost dropped messages (counted) rather than a stalled connection.
func (s *Subscription) start() {
	// go-redis' own channel sits between its receiving goroutine and the
	// reader; the reader never blocks, so that channel never fills and
	// go-redis never drops a message on its own (it would, silently,
	// after its send timeout). Its health check pings an idle connection
	// and reconnects when the ping fails.
	in := s.ps.ChannelWithSubscriptions(redis.WithChannelSize(128))
	s.started = true
	go s.read(in)
	go s.handleLoop()
}

func (s *Subscription) read(in <-chan any) {
	defer close(s.readerDone)
	for m := range in {
		switch m := m.(type) {
		case *redis.Subscription:
			s.confirm(m)
		case *redis.Message:
			s.enqueue(m)
		}
	}
}

// awaitConfirmations reads the replies to SUBSCRIBE until Redis has
// confirmed every channel. An error reply (a NOPERM from an ACL, say)
// comes back here, so Subscribe can return it instead of a subscription
// that silently receives nothing.
func (s *Subscription) awaitConfirmations(ctx context.Context) error {
	for len(s.confirmed) < s.wanted {
		m, err := s.ps.Receive(ctx)
		if err != nil {
			return err
		}
		switch m := m.(type) {
		case *redis.Subscription:
			s.confirm(m)
		case *redis.Message: // published to a channel confirmed already
			s.enqueue(m)
		}
	}
	return nil
}

// enqueue hands a message to the handler loop without ever waiting.
func (s *Subscription) enqueue(m *redis.Message) {
	s.received.Add(1)
	select {
	case s.queue <- m:
	default:
		s.dropped.Add(1)
	}
}

// confirm records a subscription reply. Redis numbers the subscriptions
// of a connection from 1, so a count of 1 marks a new connection: the
// first one, or a reconnection on which go-redis subscribed again.
func (s *Subscription) confirm(m *redis.Subscription) {
	if m.Kind != "subscribe" && m.Kind != "psubscribe" {
		return
	}
	if m.Count == 1 {
		s.connections.Add(1)
	}
	if len(s.confirmed) < s.wanted {
		s.confirmed[m.Channel] = true
	}
}

func (s *Subscription) handleLoop() {
	defer close(s.handlerLoopExited)
	s.handlerGoroutine.Store(goroutineID())
	for {
		// Checked first so that no message starts after Close, even when
		// the queue is not empty.
		select {
		case <-s.done:
			return
		default:
		}
		select {
		case <-s.done:
			return
		case m := <-s.queue:
			s.deliver(m)
		}
	}
}

// Stats returns a copy of the subscription's counters.
func (s *Subscription) Stats() SubscriptionStats {
	return SubscriptionStats{
		Received:      s.received.Load(),
		Delivered:     s.delivered.Load(),
		Dropped:       s.dropped.Load(),
		DecodeErrors:  s.decodeErrors.Load(),
		HandlerPanics: s.handlerPanics.Load(),
		Reconnects:    max(0, s.connections.Load()-1),
	}
}

// Close unsubscribes and waits until the handler has returned, so that no
// handler call runs or starts once Close returns. Messages still queued
// are discarded. Close is idempotent: later calls wait the same way and
// return the first call's result. Called from the handler itself, Close
// does not wait for that handler call (it could not finish otherwise).
func (s *Subscription) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		if s.ps != nil {
			s.closeErr = s.ps.Close()
		}
	})
	if !s.started {
		return s.closeErr
	}
	<-s.readerDone
	if id := s.handlerGoroutine.Load(); id == 0 || id != goroutineID() {
		<-s.handlerLoopExited
	}
	return s.closeErr
}

// goroutineID returns the id of the calling goroutine, read from the
// header of its stack trace ("goroutine 42 [running]:"). Go does not
// expose it otherwise; Close needs it only to tell a call from inside the
// handler, which must not wait for itself, from any other.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
