package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"unicode/utf8"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/cachescope/cachescope/internal/connect"
	"github.com/cachescope/cachescope/internal/sanitize"
	"github.com/cachescope/cachescope/monitor"
)

func newKeysCmd(d *Deps, cf *connFlags) *cobra.Command {
	var typ string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "keys [PATTERN]",
		Short: "List keys matching a pattern, with type, TTL and size",
		Long: `keys lists the keys matching PATTERN (a Redis glob, default "*") with their
type, time to live and memory, walking the keyspace with SCAN page by page
(never KEYS), on every master of a cluster. A pattern without glob
characters looks up that one key; escape * ? [ ] \ with a backslash to
match them literally.

With --json it prints one JSON object per key: key, type, ttl_ms (-1 for
none), memory (bytes, -1 if unknown), encoding and length; a key that is not
valid UTF-8 also gets key_base64, its exact bytes.

Exit status: 0 ok, 1 server error or interrupted, 2 usage.`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if limit < 0 {
				return usagef("--limit must not be negative (0 means no limit)")
			}
			q := monitor.Query{Type: typ}
			if len(a) == 1 {
				q.Pattern = a[0]
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			target, err := cf.open(ctx, d)
			if err != nil {
				return err
			}
			defer target.Client.Close()
			k := monitor.NewKeys(target.Client, monitor.KeysOptions{PageSize: 500})
			b, err := k.Browse(q)
			if err != nil {
				return usageError{err}
			}
			return listKeys(ctx, d, target, k, b, limit, asJSON)
		},
	}
	cmd.Flags().StringVar(&typ, "type", "", "only keys of this type: string, list, set, zset, hash or stream")
	cmd.Flags().IntVar(&limit, "limit", 1000, "stop after this many keys (0: no limit)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per key")
	return cmd
}

// listKeys prints the keys of a browse session, page by page.
func listKeys(ctx context.Context, d *Deps, target *connect.Target, k *monitor.Keys, b *monitor.Browser, limit int, asJSON bool) error {
	printed := 0
	if !asJSON {
		fmt.Fprintf(d.Stdout, "%-7s %-9s %9s  %s\n", "TYPE", "TTL", "SIZE", "KEY")
	}
	var last monitor.Page
	cut := false
	for !b.Done() && (limit == 0 || printed < limit) {
		page, err := b.Next(ctx)
		if err != nil {
			return serverError(target, err)
		}
		last = page
		keys := page.Keys
		if limit > 0 && len(keys) > limit-printed {
			keys, cut = keys[:limit-printed], true
		}
		metas, err := k.Meta(ctx, keys)
		if err != nil {
			return serverError(target, err)
		}
		for _, m := range metas {
			if !m.Exists {
				continue // deleted or expired since the scan saw it
			}
			printed++
			if asJSON {
				if err := jsonLine(d.Stdout, keyJSON(m)); err != nil {
					return err
				}
				continue
			}
			size := "?"
			if m.Memory >= 0 {
				size = monitor.FormatBytes(m.Memory)
			}
			fmt.Fprintf(d.Stdout, "%-7s %-9s %9s  %s\n", sanitize.Line(m.Type), monitor.FormatTTL(m.TTL, m.HasTTL), size, sanitize.Line(m.Key))
		}
	}
	if cut || !b.Done() {
		fmt.Fprintf(d.Stderr, "(stopped at --limit %d after examining about %d of ~%d keys; --limit 0 lists all)\n",
			limit, last.Examined, last.Total)
	}
	return nil
}

// keyRow is the JSON form of one key.
type keyRow struct {
	Key       string `json:"key"`
	KeyBase64 string `json:"key_base64,omitempty"`
	Type      string `json:"type"`
	TTLMs     int64  `json:"ttl_ms"`
	Memory    int64  `json:"memory"`
	Encoding  string `json:"encoding"`
	Length    int64  `json:"length"`
}

func keyJSON(m monitor.KeyMeta) keyRow {
	r := keyRow{Key: m.Key, KeyBase64: keyBase64(m.Key), Type: m.Type, TTLMs: -1, Memory: m.Memory, Encoding: m.Encoding, Length: m.Length}
	if m.HasTTL {
		r.TTLMs = m.TTL.Milliseconds()
	}
	return r
}

// keyBase64 returns the exact bytes of a key that JSON cannot carry (it
// replaces invalid UTF-8), and "" for a valid UTF-8 key.
func keyBase64(key string) string {
	if utf8.ValidString(key) {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte(key))
}

// jsonLine writes v as one line of JSON that is also safe on a terminal.
func jsonLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(terminalSafeJSON(b), '\n'))
	return err
}

// terminalSafeJSON escapes, as \uXXXX, the characters that encoding/json
// leaves raw but a terminal may act on (C1 controls, bidirectional
// overrides: see internal/sanitize). They can only occur inside JSON
// strings, where the escape means the same character, so the document's
// value is unchanged.
func terminalSafeJSON(b []byte) []byte {
	safe := true
	for _, c := range b {
		if c >= 0x80 {
			safe = false
			break
		}
	}
	if safe {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r >= 0x80 && !sanitize.Safe(string(b[i:i+size])) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

// serverError makes an error from the server one line for the user: what
// went wrong and what to do (connect.Explain), secrets redacted, control
// characters escaped (errors may quote keys). Usage errors and
// cancellations pass through.
func serverError(target *connect.Target, err error) error {
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return err
	case errors.Is(err, context.Canceled):
		return errors.New("interrupted")
	}
	return explainedError{msg: sanitize.Line(target.Display) + ": " + target.Explain(err), err: err}
}

// explainedError is a server error as the user reads it; the original
// stays reachable for errors.Is.
type explainedError struct {
	msg string
	err error
}

func (e explainedError) Error() string { return e.msg }
func (e explainedError) Unwrap() error { return e.err }

// isTerminal reports whether f is a terminal; tests replace it.
var isTerminal = func(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(file.Fd())
}
