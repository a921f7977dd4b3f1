package cli

import (
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachescope/cachescope/internal/sanitize"
	"github.com/cachescope/cachescope/monitor"
)

type analyzeFlags struct {
	typ, sep                 string
	sample, rate, top, depth int
	asJSON                   bool
}

func newAnalyzeCmd(d *Deps, cf *connFlags) *cobra.Command {
	var f analyzeFlags
	cmd := &cobra.Command{
		Use:   "analyze [PATTERN]",
		Short: "Report memory, key counts and TTLs per namespace, and the biggest keys",
		Long: `analyze scans up to --sample keys matching PATTERN (default "*") at most
--rate keys per second, so the server stays responsive, and reports the
memory and key count of each namespace (the part of the key before the
first ":"), the distribution of TTLs, how many keys have none (a cache
smell: they live until evicted) and the biggest keys. It only reads.

With --json the result is one object: keys, examined, total, complete,
memory, ttl, namespaces, biggest, duration_ms; a prefix or key that is not
valid UTF-8 also gets a _base64 field with its exact bytes.

Exit status: 0 ok, 1 server error or interrupted, 2 usage.`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if f.sample <= 0 || f.rate < 0 || f.top < 0 || f.depth <= 0 {
				return usagef("--sample and --depth must be positive, --rate and --top not negative")
			}
			opts := monitor.AnalyzeOptions{Query: monitor.Query{Type: f.typ}, MaxKeys: f.sample, Rate: f.rate,
				Top: f.top, Depth: f.depth, Separator: f.sep}
			if len(a) == 1 {
				opts.Query.Pattern = a[0]
			}
			if opts.Rate == 0 {
				opts.Rate = -1 // the flag's 0 means unpaced
			}
			if opts.Top == 0 {
				opts.Top = -1
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			target, err := cf.open(ctx, d)
			if err != nil {
				return err
			}
			defer target.Client.Close()
			if isTerminal(d.Stderr) {
				opts.Progress = analyzeProgress(d.Stderr)
			}
			k := monitor.NewKeys(target.Client, monitor.KeysOptions{})
			res, err := k.Analyze(ctx, opts)
			if isTerminal(d.Stderr) {
				fmt.Fprint(d.Stderr, "\r\x1b[K")
			}
			if err != nil && res.Keys == 0 {
				return serverError(target, usageIfBadQuery(err))
			}
			if perr := printAnalysis(d.Stdout, res, f.asJSON); perr != nil {
				return perr
			}
			if err != nil {
				return serverError(target, err)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.sample, "sample", monitor.DefaultAnalyzeKeys, "analyze at most this many keys")
	fl.IntVar(&f.rate, "rate", monitor.DefaultAnalyzeRate, "analyze at most this many keys per second (0: unpaced)")
	fl.StringVar(&f.typ, "type", "", "only keys of this type")
	fl.IntVar(&f.top, "top", monitor.DefaultTopKeys, "how many of the biggest keys to list")
	fl.IntVar(&f.depth, "depth", 1, "namespace levels per prefix (2: \"user:42:\")")
	fl.StringVar(&f.sep, "separator", monitor.DefaultSeparator, "namespace separator")
	fl.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
	return cmd
}

// usageIfBadQuery turns an invalid query into a usage error.
func usageIfBadQuery(err error) error {
	if errors.Is(err, monitor.ErrBadQuery) {
		return usageError{err}
	}
	return err
}

func analyzeProgress(w io.Writer) func(monitor.Analysis) {
	return throttledLine(w, func(a monitor.Analysis) string {
		return fmt.Sprintf("analyzed %d keys, examined ~%d of ~%d", a.Keys, a.Examined, a.Total)
	})
}

type namespaceJSON struct {
	Prefix       string `json:"prefix"`
	PrefixBase64 string `json:"prefix_base64,omitempty"`
	Other        bool   `json:"other,omitempty"`
	Keys         int64  `json:"keys"`
	Memory       int64  `json:"memory"`
	NoTTL        int64  `json:"no_ttl"`
}

type bigKeyJSON struct {
	Key       string `json:"key"`
	KeyBase64 string `json:"key_base64,omitempty"`
	Type      string `json:"type"`
	Memory    int64  `json:"memory"`
	TTLMs     int64  `json:"ttl_ms"`
}

type analysisJSON struct {
	Keys       int64              `json:"keys"`
	Examined   int64              `json:"examined"`
	Total      int64              `json:"total"`
	Complete   bool               `json:"complete"`
	Memory     int64              `json:"memory"`
	TTL        monitor.TTLBuckets `json:"ttl"`
	Namespaces []namespaceJSON    `json:"namespaces"`
	Biggest    []bigKeyJSON       `json:"biggest"`
	DurationMs int64              `json:"duration_ms"`
}

func printAnalysis(w io.Writer, a monitor.Analysis, asJSON bool) error {
	if asJSON {
		j := analysisJSON{Keys: a.Keys, Examined: a.Examined, Total: a.Total, Complete: a.Complete, Memory: a.Memory,
			TTL: a.TTL, Namespaces: []namespaceJSON{}, Biggest: []bigKeyJSON{}, DurationMs: a.Duration.Milliseconds()}
		for _, n := range a.Namespaces {
			j.Namespaces = append(j.Namespaces, namespaceJSON{Prefix: n.Prefix, PrefixBase64: keyBase64(n.Prefix),
				Other: n.Other, Keys: n.Keys, Memory: n.Memory, NoTTL: n.NoTTL})
		}
		for _, b := range a.Biggest {
			ttl := int64(-1)
			if b.HasTTL {
				ttl = b.TTL.Milliseconds()
			}
			j.Biggest = append(j.Biggest, bigKeyJSON{Key: b.Key, KeyBase64: keyBase64(b.Key), Type: b.Type, Memory: b.Memory, TTLMs: ttl})
		}
		return jsonLine(w, j)
	}
	scope := "the whole keyspace"
	if !a.Complete {
		scope = fmt.Sprintf("a sample (about %d of ~%d keys examined)", a.Examined, a.Total)
	}
	fmt.Fprintf(w, "%d keys, %s, analyzed in %s over %s\n", a.Keys, monitor.FormatBytes(a.Memory), a.Duration.Round(time.Millisecond), scope)
	pct := func(n int64) string {
		if a.Keys == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", float64(n)*100/float64(a.Keys))
	}
	fmt.Fprintf(w, "\nTTL\n  %-12s %8d %7s\n", "none", a.TTL.None, pct(a.TTL.None))
	for _, row := range []struct {
		name string
		n    int64
	}{{"< 1m", a.TTL.UnderMin}, {"< 1h", a.TTL.UnderHour}, {"< 1d", a.TTL.UnderDay}, {">= 1d", a.TTL.DayOrLonger}} {
		fmt.Fprintf(w, "  %-12s %8d %7s\n", row.name, row.n, pct(row.n))
	}
	fmt.Fprintf(w, "\n%-32s %8s %10s %8s\n", "NAMESPACE", "KEYS", "MEMORY", "NO TTL")
	for i, n := range a.Namespaces {
		if i == 30 && len(a.Namespaces) > 31 {
			fmt.Fprintf(w, "  ... %d more (--json lists all)\n", len(a.Namespaces)-30)
			break
		}
		name := sanitize.Truncate(sanitize.Line(n.Prefix), 32)
		switch {
		case n.Other:
			name = "(other namespaces)"
		case n.Prefix == "":
			name = "(no namespace)"
		}
		fmt.Fprintf(w, "%-32s %8d %10s %8d\n", name, n.Keys, monitor.FormatBytes(n.Memory), n.NoTTL)
	}
	if len(a.Biggest) > 0 {
		fmt.Fprintf(w, "\n%-7s %10s %-9s %s\n", "TYPE", "MEMORY", "TTL", "BIGGEST KEYS")
		for _, b := range a.Biggest {
			fmt.Fprintf(w, "%-7s %10s %-9s %s\n", sanitize.Line(b.Type), monitor.FormatBytes(b.Memory), monitor.FormatTTL(b.TTL, b.HasTTL), sanitize.Line(b.Key))
		}
	}
	return nil
}
