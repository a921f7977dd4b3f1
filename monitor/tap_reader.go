package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
)

// runSubscription keeps subscription i alive until ctx is done: subscribe,
// read until the connection fails, report, wait, and again.
func (t *Tap) runSubscription(ctx context.Context, i int, s tapSubscription) {
	delay := t.opts.ReconnectDelay
	for ctx.Err() == nil {
		confirmed, err := t.subscribeAndRead(ctx, i, s)
		t.setSubscribed(i, false)
		if ctx.Err() != nil {
			return
		}
		if confirmed {
			t.event(EventDisconnected, s.command(), disconnectReason(err))
			delay = t.opts.ReconnectDelay // it worked until now: retry soon
		} else {
			t.event(EventRefused, s.command(), err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, maxReconnectDelay)
	}
}

// subscribeAndRead opens a connection, subscribes and reads messages until
// the connection fails or ctx ends. confirmed says whether the server
// confirmed the subscription before the failure.
func (t *Tap) subscribeAndRead(ctx context.Context, i int, s tapSubscription) (confirmed bool, err error) {
	var ps *redis.PubSub
	if s.shard {
		ps = t.rdb.SSubscribe(ctx)
		err = ps.SSubscribe(ctx, s.names...)
	} else {
		ps = t.rdb.PSubscribe(ctx)
		err = ps.PSubscribe(ctx, s.names...)
	}
	// Closing the PubSub is what interrupts a read blocked on the socket.
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
		}
		_ = ps.Close()
	}()
	if err != nil {
		return false, err
	}

	pending := len(s.names) // confirmations still expected
	pinged := false
	for {
		if t.beforeReceive != nil {
			t.beforeReceive()
		}
		v, err := ps.ReceiveTimeout(ctx, idlePing)
		if err != nil {
			if isTimeout(err) && ctx.Err() == nil {
				if pinged {
					return confirmed, fmt.Errorf("no reply to PING in %v", idlePing)
				}
				// A quiet subscription: make sure the connection lives.
				if err := ps.Ping(ctx); err != nil {
					return confirmed, err
				}
				pinged = true
				continue
			}
			return confirmed, err
		}
		pinged = false
		switch v := v.(type) {
		case *redis.Message:
			t.enqueue(v, s.shard)
		case *redis.Subscription:
			if pending > 0 {
				pending--
				if pending == 0 {
					confirmed = true
					t.setSubscribed(i, true)
					t.event(EventSubscribed, s.command(), "")
				}
			}
		}
	}
}

// enqueue hands a message to the accounting goroutine, or drops and counts
// it when the queue is full. It never waits: the reader must keep the
// socket drained.
func (t *Tap) enqueue(msg *redis.Message, shard bool) {
	payload := msg.Payload
	if msg.PayloadSlice != nil {
		payload = strings.Join(msg.PayloadSlice, " ")
	}
	size := len(payload)
	t.received.Add(1)
	t.receivedBytes.Add(uint64(size))
	if limit := t.opts.MaxPayload; limit >= 0 && size > limit {
		// A copy, so the full payload is not kept alive by its prefix.
		payload = strings.Clone(cutPayload(payload, limit))
	}
	m := TapMessage{Time: t.now(), Channel: msg.Channel, Pattern: msg.Pattern, Shard: shard, Payload: payload, Size: size}
	cost := int64(msgCost(&m))
	if queued := t.queuedBytes.Add(cost); queued > int64(t.opts.QueueBytes) && queued > cost {
		t.queuedBytes.Add(-cost)
		t.drop(size)
		return
	}
	select {
	case t.queue <- m:
	default:
		t.queuedBytes.Add(-cost)
		t.drop(size)
	}
}

func (t *Tap) drop(size int) {
	t.dropped.Add(1)
	t.droppedBytes.Add(uint64(size))
}

// cutPayload cuts s to at most limit bytes, backing off to a rune start
// when s is UTF-8 text, so the cut does not show a broken character.
func cutPayload(s string, limit int) string {
	if limit >= len(s) {
		return s
	}
	cut := limit
	for back := 1; back < utf8.UTFMax && cut > 0 && !utf8.RuneStart(s[cut]); back++ {
		cut--
	}
	if !utf8.RuneStart(s[cut]) {
		cut = limit // not UTF-8 there: a plain byte cut
	}
	return s[:cut]
}

// process is the accounting goroutine: it takes queued messages in
// batches, accounts them, and hands them to deliver.
func (t *Tap) process(ctx context.Context, deliver func([]TapMessage)) {
	for {
		var first TapMessage
		select {
		case <-ctx.Done():
			return
		case first = <-t.queue:
		}
		batch := make([]TapMessage, 1, maxBatch)
		batch[0] = first
	drain:
		for len(batch) < maxBatch {
			select {
			case m := <-t.queue:
				batch = append(batch, m)
			default:
				break drain
			}
		}
		var cost int64
		for i := range batch {
			cost += int64(msgCost(&batch[i]))
		}
		t.queuedBytes.Add(-cost)
		t.account(batch)
		if deliver != nil {
			deliver(batch)
		}
	}
}

// isTimeout reports a read deadline that passed (no message in time).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// disconnectReason explains a lost subscription connection. Redis closes a
// subscriber's connection without a word when it exceeds the pubsub class
// of client-output-buffer-limit, so an EOF is most likely that.
func disconnectReason(err error) string {
	switch {
	case err == nil:
		return "the connection ended"
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF):
		return "the server closed the connection (" + err.Error() + "); it does that to a subscriber past its " +
			"client-output-buffer-limit for pubsub, and on restart, CLIENT KILL or timeout"
	}
	return err.Error()
}
