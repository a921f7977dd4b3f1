package monitor

import "time"

// TapMessage is one message the tap received. Channel, Pattern and Payload
// are untrusted text from the server: sanitize them before they reach a
// terminal (see [FormatPayload] and [PayloadPreview]).
type TapMessage struct {
	// Seq numbers the messages the tap accounted, from 1 (dropped
	// messages have no number). It increases by one per message; a
	// consumer may use it to see what is new since its last snapshot.
	Seq uint64
	// Time is when the tap's reader took the message off the socket,
	// local clock.
	Time time.Time
	// Channel is the channel the message was published to.
	Channel string
	// Pattern is the pattern that matched (PSUBSCRIBE); "" for a shard
	// channel (SSUBSCRIBE) or a plain channel subscription.
	Pattern string
	// Shard is true for a message on a shard channel (SPUBLISH).
	Shard bool
	// Payload is the message, cut to TapOptions.MaxPayload bytes (never
	// inside a UTF-8 sequence when the payload is valid UTF-8).
	Payload string
	// Size is the payload's full size in bytes, before any cut.
	Size int
}

// Truncated reports whether Payload is shorter than the message was.
func (m TapMessage) Truncated() bool { return len(m.Payload) < m.Size }

// TapFilter selects the messages of a [Tap.Snapshot]. The zero value
// selects the newest messages of the ring, up to the whole ring.
//
// Matching is by substring, ignoring ASCII case, on the raw text (before
// sanitizing).
type TapFilter struct {
	// Channel keeps messages whose channel contains it; "" keeps all.
	Channel string
	// Text keeps messages whose payload (as kept, so possibly cut) or
	// channel contains it; "" keeps all.
	Text string
	// Limit is the most messages returned: the newest that match. 0 or
	// less means every match in the ring.
	Limit int
	// After keeps only messages with Seq > After, for a consumer that
	// wants what is new since the last message it saw. 0 keeps all.
	After uint64
}

// TapState is where a tap's subscriptions stand.
type TapState string

// States of a tap.
const (
	// TapStarting: Run has not subscribed yet.
	TapStarting TapState = "starting"
	// TapSubscribed: every subscription is confirmed by the server.
	TapSubscribed TapState = "subscribed"
	// TapReconnecting: a subscription lost its connection (or was
	// refused) and is waiting to try again.
	TapReconnecting TapState = "reconnecting"
	// TapStopped: Run has returned (or never ran).
	TapStopped TapState = "stopped"
)

// TapEventKind says what a [TapEvent] reports.
type TapEventKind string

// Kinds of tap events.
const (
	// EventSubscribed: a subscription was confirmed by the server (at
	// start and after each reconnect).
	EventSubscribed TapEventKind = "subscribed"
	// EventDisconnected: the connection of a subscription was lost; Detail
	// says why. The tap reconnects and subscribes again.
	EventDisconnected TapEventKind = "disconnected"
	// EventRefused: the server refused a subscription (an ACL without
	// pub/sub permission, a server without SSUBSCRIBE) or the connection
	// could not be made; the tap tries again later.
	EventRefused TapEventKind = "refused"
	// EventDropping: the tap began dropping messages because its
	// consumer fell behind. One event per episode; Stats.Dropped counts
	// every message.
	EventDropping TapEventKind = "dropping"
)

// TapEvent is something that happened to a tap's subscriptions. Detail may
// quote the server (an error reply): it is untrusted text.
type TapEvent struct {
	// Seq numbers the events of one tap, from 1.
	Seq  uint64
	Time time.Time
	Kind TapEventKind
	// Subscription names the subscription concerned, as the command that
	// makes it: "PSUBSCRIBE *", "SSUBSCRIBE orders:{1}".
	Subscription string
	// Detail says more: the reason of a disconnect, the error of a
	// refusal.
	Detail string
}

// TapStats are a tap's counters. Received = Accounted + Dropped + (messages
// still queued between the reader and the accounting).
type TapStats struct {
	// State is where the subscriptions stand.
	State TapState
	// Started is when Run began; zero before.
	Started time.Time
	// Received and ReceivedBytes count the messages (and payload bytes)
	// the readers took off the sockets.
	Received, ReceivedBytes uint64
	// Accounted counts the messages that reached the ring, the channel
	// rates and the deliver callback (all of them, unless dropped).
	Accounted uint64
	// Dropped and DroppedBytes count the messages dropped because the
	// consumer fell behind (the queue between the reader and the
	// accounting was full): they are in Received and in the total rates,
	// not in the channel rates nor in the ring.
	Dropped, DroppedBytes uint64
	// SkippedWhilePaused counts messages accounted while the ring was
	// paused: they are in the rates but not in the ring.
	SkippedWhilePaused uint64
	// Disconnects counts lost connections (every reconnect follows one).
	Disconnects int
	// Paused reports whether the ring is frozen (see [Tap.SetPaused]).
	Paused bool
	// InRing and RingBytes are what the ring holds now.
	InRing, RingBytes int
	// MsgsPerSec and BytesPerSec are every received message (dropped ones
	// included) per second over TapOptions.RateWindow; DroppedPerSec is
	// the dropped part of MsgsPerSec.
	MsgsPerSec, BytesPerSec, DroppedPerSec float64
}

// ChannelRate is the traffic of one channel as the tap counted it.
type ChannelRate struct {
	// Channel is the channel's name; "" for the aggregate of the channels
	// past TapOptions.MaxChannels (TapSnapshot.Other).
	Channel string
	// Shard is true for a shard channel.
	Shard bool
	// Messages and Bytes are counted since the tap started (or since the
	// channel was first seen after its slot was recycled).
	Messages, Bytes uint64
	// MsgsPerSec and BytesPerSec cover the last TapOptions.RateWindow.
	MsgsPerSec, BytesPerSec float64
	// History is messages per second in each of the last
	// TapOptions.History seconds, oldest first; the last element is the
	// current, partial second. Always TapOptions.History long.
	History []float64
	// LastSeen is the time of the channel's newest message.
	LastSeen time.Time
}

// TapSnapshot is an immutable view of a tap: nothing in it changes after
// [Tap.Snapshot] returns it, and the caller may keep it as long as it
// likes.
type TapSnapshot struct {
	// Time is when the snapshot was taken.
	Time time.Time
	// Patterns and ShardChannels are what the tap subscribes to.
	Patterns, ShardChannels []string
	// Messages are the ring's messages matching the filter, oldest first:
	// the newest Limit of them.
	Messages []TapMessage
	// Matched is how many messages of the ring matched (it may exceed
	// len(Messages)).
	Matched int
	// Stats are the tap's counters.
	Stats TapStats
	// Channels are the tracked channels, busiest (messages per second)
	// first, then by name.
	Channels []ChannelRate
	// Other aggregates the channels past TapOptions.MaxChannels; its
	// Channel is "". Zero when there are none.
	Other ChannelRate
	// Events are the most recent events, oldest first (at most 64).
	Events []TapEvent
}
