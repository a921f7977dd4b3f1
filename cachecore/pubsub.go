package cachecore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrInvalidChannel is returned for a subscription without channels or
// patterns, and for an empty channel or pattern name.
var ErrInvalidChannel = errors.New("cachecore: invalid channel")

// SubscriptionBuffer is how many received messages wait for a slow handler.
// Each Subscription reads from Redis without ever waiting for its handler;
// when this many messages are already waiting, a new message is dropped
// and counted in SubscriptionStats.Dropped. Dropping the newest message
// keeps the connection drained: blocking instead would let Redis buffer
// the backlog and, past client-output-buffer-limit, disconnect the
// subscriber, losing more.
const SubscriptionBuffer = 1024

// subscribeTimeout bounds how long Subscribe waits for Redis to confirm,
// when the caller's context has no earlier deadline.
const subscribeTimeout = 10 * time.Second

// Publish encodes msg with the cache's Codec and publishes it on channel
// (prefixed with the Namespace, as keys are). It returns the number of
// subscribers that received it, as PUBLISH does; on Redis Cluster that is
// the subscribers connected to the node that took the PUBLISH, although
// every subscriber in the cluster receives the message.
//
// Messages carry the codec's bytes only, without the header stored values
// have (see DecodeEnvelope): a message lives for one delivery, so there is
// no stored format to evolve, and services in other languages (or
// redis-cli) can publish and read them directly.
//
// Publish goes through the circuit breaker and Options.OpTimeout like
// every other command. Failures count under "publish" in Stats.ErrorsByOp.
func Publish[T any](ctx context.Context, c *Cache, channel string, msg T) (int64, error) {
	if err := checkChannel(channel); err != nil {
		return 0, err
	}
	payload, err := c.opts.Codec.Marshal(msg)
	if err != nil {
		c.countError(opPublish, nil)
		return 0, fmt.Errorf("%w for channel %q: %v", ErrEncode, channel, err)
	}
	var receivers int64
	err = c.call(ctx, opPublish, nil, func(ctx context.Context) (err error) {
		receivers, err = c.rdb.Publish(ctx, c.prefix+channel, payload).Result()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("cachecore: publish to %q: %w", channel, err)
	}
	return receivers, nil
}

// Subscribe subscribes to channels (prefixed with the Namespace, as
// Publish does) and calls handler with every message, decoded with the
// cache's Codec into a T, and the channel it came on without the
// Namespace prefix. It returns once Redis has confirmed every
// subscription, or an error if that does not happen before ctx ends (or
// within 10s). ctx bounds only the subscribing: the subscription lasts
// until Close.
//
// The handler runs on one goroutine per Subscription, one message at a
// time, in the order Redis sent them. A message that does not decode into
// a T is counted (SubscriptionStats.DecodeErrors, and "decode" in
// Stats.ErrorsByOp), logged at most once per Options.LogInterval and
// skipped. A handler panic is recovered, counted (HandlerPanics, and
// "handler" in Stats.ErrorsByOp) and logged; the next message is
// delivered as usual. A handler slower than the publishers gets at most
// SubscriptionBuffer messages queued; newer ones are dropped and counted
// (SubscriptionStats.Dropped). Pub/sub is at-most-once: messages published
// while the connection is down are lost, as in Redis itself.
//
// When the connection breaks (Redis restarts, a failover), go-redis
// reconnects and subscribes again by itself, and the handler receives
// what is published after that; SubscriptionStats.Reconnects counts it.
// On Redis Cluster classic pub/sub is broadcast over the cluster bus, so
// a subscription on any node receives messages published on any other.
//
// Subscribe without channels, or with an empty channel name, returns
// ErrInvalidChannel. Duplicate channels are subscribed once.
func Subscribe[T any](ctx context.Context, c *Cache, handler func(channel string, msg T), channels ...string) (*Subscription, error) {
	return subscribe(ctx, c, handler, false, channels)
}

// PSubscribe is Subscribe for glob patterns (Redis PSUBSCRIBE syntax:
// * ? [...] and \ to escape), which match channels within the Namespace:
// with Namespace "shop", the pattern "orders:*" matches "shop:orders:eu",
// and the handler receives "orders:eu". Use EscapeGlob to embed literal
// text in a pattern.
func PSubscribe[T any](ctx context.Context, c *Cache, handler func(channel string, msg T), patterns ...string) (*Subscription, error) {
	return subscribe(ctx, c, handler, true, patterns)
}

func subscribe[T any](ctx context.Context, c *Cache, handler func(string, T), pattern bool, names []string) (*Subscription, error) {
	if handler == nil {
		return nil, errors.New("cachecore: Subscribe needs a handler")
	}
	what := "channel"
	if pattern {
		what = "pattern"
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: no %ss to subscribe to", ErrInvalidChannel, what)
	}
	full := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, name := range names {
		if name == "" {
			return nil, fmt.Errorf("%w: empty %s name", ErrInvalidChannel, what)
		}
		n := c.channelName(name, pattern)
		if !seen[n] {
			seen[n] = true
			full = append(full, n)
		}
	}

	s := newSubscription(c, len(full))
	s.deliver = func(m *redis.Message) { deliver(s, m, handler) }

	sctx, cancel := context.WithTimeout(ctx, subscribeTimeout)
	defer cancel()
	if pattern {
		s.ps = c.rdb.PSubscribe(sctx)
	} else {
		s.ps = c.rdb.Subscribe(sctx)
	}
	// A read honours the context's deadline but not its cancellation;
	// closing the PubSub ends a read at once.
	stop := context.AfterFunc(sctx, func() { _ = s.ps.Close() })
	var err error
	if pattern {
		err = s.ps.PSubscribe(sctx, full...)
	} else {
		err = s.ps.Subscribe(sctx, full...)
	}
	if err == nil {
		err = s.awaitConfirmations(sctx)
	}
	if !stop() {
		// The context ended and closed the PubSub: whatever failed after
		// that failed because of it.
		err = fmt.Errorf("no confirmation from Redis: %w", sctx.Err())
	}
	if err == nil {
		s.start()
	}
	if err != nil {
		_ = s.Close()
		c.countError(opSubscribe, nil)
		return nil, fmt.Errorf("cachecore: subscribe to %s %q: %w", what, names, err)
	}
	return s, nil
}

// channelName returns the Redis channel or pattern for a caller's name.
func (c *Cache) channelName(name string, pattern bool) string {
	if c.prefix == "" {
		return name
	}
	if pattern {
		return EscapeGlob(c.opts.Namespace) + ":" + name
	}
	return c.prefix + name
}

// deliver decodes one message and calls the handler, recovering a panic.
func deliver[T any](s *Subscription, m *redis.Message, handler func(string, T)) {
	c := s.cache
	channel := strings.TrimPrefix(m.Channel, c.prefix)
	var msg T
	if err := c.opts.Codec.Unmarshal([]byte(m.Payload), &msg); err != nil {
		s.decodeErrors.Add(1)
		c.countError(opDecode, nil)
		c.errlog.log("pubsub decode", channel, err)
		return
	}
	defer func() {
		if r := recover(); r != nil {
			s.handlerPanics.Add(1)
			c.countError(opHandler, nil)
			c.errlog.log("pubsub handler", channel, fmt.Errorf("handler panicked: %v", r))
		}
	}()
	handler(channel, msg)
	s.delivered.Add(1)
}

func checkChannel(channel string) error {
	if channel == "" {
		return fmt.Errorf("%w: empty channel name", ErrInvalidChannel)
	}
	return nil
}
