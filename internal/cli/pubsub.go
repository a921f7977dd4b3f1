package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/cachescope/cachescope/internal/sanitize"
	"github.com/cachescope/cachescope/monitor"
)

// pubsubPayloadCells is how much of a payload a text line shows.
const pubsubPayloadCells = 400

func newPubSubCmd(d *Deps, cf *connFlags) *cobra.Command {
	var asJSON bool
	var shard []string
	cmd := &cobra.Command{
		Use:   "pubsub [PATTERN]",
		Short: "Print pub/sub messages as they are published, one per line",
		Long: `pubsub subscribes to PATTERN (PSUBSCRIBE, default "*": every channel) on a
connection of its own and prints each message on one line: time, channel and
payload, with control characters and escape sequences shown escaped and long
payloads cut. With --json each line is a JSON object with the full payload
(and payload_base64 when the payload is not UTF-8 text).

Shard channels (SPUBLISH, Redis 7+) are invisible to patterns: name them
with --shard (SSUBSCRIBE). With --shard and no PATTERN only the shard
channels are followed.

If the output cannot keep up, messages are dropped and counted on stderr,
never buffered without bound; if the server disconnects the subscriber (its
client-output-buffer-limit for pubsub), that is reported on stderr and the
subscription is made again. Runs until interrupted.

Exit status: 0 interrupted, 1 server unreachable or subscription refused, 2 usage.`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			var patterns []string
			switch {
			case len(a) == 1 && a[0] == "":
				return usagef("the pattern must not be empty")
			case len(a) == 1:
				patterns = a
			case len(shard) == 0:
				patterns = []string{"*"}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			target, err := cf.open(ctx, d)
			if err != nil {
				return err
			}
			defer target.Client.Close()
			// The ring is the dashboard's; here every message goes straight
			// to the output, whole.
			tap, err := monitor.NewTap(target.Client, monitor.TapOptions{Patterns: patterns, ShardChannels: shard,
				RingSize: 1, MaxPayload: -1})
			if err != nil {
				return usageError{err}
			}
			err = runPubSub(ctx, tap, d.Stdout, d.Stderr, asJSON)
			if err != nil {
				return serverError(target, err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON lines with the full payload")
	cmd.Flags().StringArrayVar(&shard, "shard", nil, "also follow this shard channel (SSUBSCRIBE; repeatable)")
	return cmd
}

// runPubSub runs the tap, printing its messages to out and its troubles to
// errOut, until ctx ends (nil) or a subscription is refused before it ever
// worked (the error).
func runPubSub(ctx context.Context, tap *monitor.Tap, out, errOut io.Writer, asJSON bool) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	w := bufio.NewWriterSize(out, 64<<10)
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = tap.Run(ctx, func(batch []monitor.TapMessage) {
			for _, m := range batch {
				if asJSON {
					writePubSubJSON(w, m)
				} else {
					writePubSubLine(w, m)
				}
			}
			_ = w.Flush()
		})
	})
	wg.Go(func() { reportTap(ctx, tap, errOut, cancel) })
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// reportTap prints the tap's events and new drops to errOut every half
// second. A refusal before any subscription worked ends the command.
func reportTap(ctx context.Context, tap *monitor.Tap, errOut io.Writer, cancel context.CancelCauseFunc) {
	var lastEvent, lastDropped uint64
	subscribed := false
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		snap := tap.Snapshot(monitor.TapFilter{Limit: 1, After: ^uint64(0)})
		for _, e := range snap.Events {
			if e.Seq <= lastEvent {
				continue
			}
			lastEvent = e.Seq
			switch e.Kind {
			case monitor.EventSubscribed:
				subscribed = true
			case monitor.EventRefused:
				if !subscribed {
					cancel(fmt.Errorf("%s refused: %s", sanitize.Line(e.Subscription), sanitize.Line(e.Detail)))
					return
				}
				fmt.Fprintf(errOut, "cachescope: %s refused, retrying: %s\n", sanitize.Line(e.Subscription), sanitize.Line(e.Detail))
			case monitor.EventDisconnected:
				fmt.Fprintf(errOut, "cachescope: %s disconnected, reconnecting: %s\n", sanitize.Line(e.Subscription), sanitize.Line(e.Detail))
			}
		}
		if d := snap.Stats.Dropped; d > lastDropped {
			fmt.Fprintf(errOut, "cachescope: dropped %d messages: the output could not keep up (%d in all)\n", d-lastDropped, d)
			lastDropped = d
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// writePubSubLine prints a message as "time channel payload", every part
// made safe for a terminal.
func writePubSubLine(w io.Writer, m monitor.TapMessage) {
	channel := sanitize.Line(m.Channel)
	if m.Shard {
		channel += " (shard)"
	}
	payload := monitor.PayloadPreview(m.Payload, pubsubPayloadCells)
	if m.Size > pubsubPayloadCells {
		payload += fmt.Sprintf(" (%d bytes)", m.Size)
	}
	fmt.Fprintf(w, "%s  %s  %s\n", m.Time.Format("15:04:05.000"), channel, payload)
}

// pubsubJSON is one line of --json output.
type pubsubJSON struct {
	Time          time.Time `json:"time"`
	Channel       string    `json:"channel"`
	ChannelBase64 string    `json:"channel_base64,omitempty"`
	Pattern       string    `json:"pattern,omitempty"`
	Shard         bool      `json:"shard,omitempty"`
	Size          int       `json:"size"`
	Payload       string    `json:"payload"`
	// PayloadBase64 is the exact payload when it is not valid UTF-8
	// (Payload then has U+FFFD for the invalid bytes, as JSON strings
	// must be UTF-8).
	PayloadBase64 string `json:"payload_base64,omitempty"`
}

func writePubSubJSON(w io.Writer, m monitor.TapMessage) {
	line := pubsubJSON{Time: m.Time, Channel: m.Channel, Pattern: m.Pattern, Shard: m.Shard, Size: m.Size, Payload: m.Payload}
	if !utf8.ValidString(m.Payload) {
		line.PayloadBase64 = base64.StdEncoding.EncodeToString([]byte(m.Payload))
	}
	if !utf8.ValidString(m.Channel) {
		line.ChannelBase64 = base64.StdEncoding.EncodeToString([]byte(m.Channel))
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	_, _ = w.Write(append(inertJSON(b), '\n'))
}

// inertJSON escapes, as \uXXXX, the characters encoding/json leaves raw
// that a terminal would act on: C1 controls and the bidirectional
// controls. Control characters below 0x20 are escaped by encoding/json
// already. The result is the same JSON value.
func inertJSON(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 ||
			r == 0x200e || r == 0x200f || r == 0x061c || r == 0xfeff {
			if out == nil {
				out = append(make([]byte, 0, len(b)+16), b[:i]...)
			}
			out = fmt.Appendf(out, `\u%04x`, r)
		} else if out != nil {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	if out == nil {
		return b
	}
	return out
}
