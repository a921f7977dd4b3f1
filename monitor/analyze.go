package monitor

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// AnalyzeOptions configure [Keys.Analyze]. Every zero field means its
// documented default.
type AnalyzeOptions struct {
	// Query selects the keys analyzed ("" pattern means every key). A type
	// filter costs one TYPE per matching key.
	Query Query
	// MaxKeys is the most keys analyzed. 0 means 100,000.
	MaxKeys int
	// Rate caps the keys analyzed per second, so that the server stays
	// responsive for its other clients. 0 means 15,000; a negative value
	// means unpaced.
	Rate int
	// ScanRate caps the SCAN calls per second (what a rare pattern costs
	// while it finds few keys). 0 means 500; a negative value means
	// unpaced.
	ScanRate int
	// Batch is the COUNT of each SCAN call and the most keys per pipeline
	// of PTTL and MEMORY USAGE. Small batches keep every pause of the
	// server short. 0 means 100.
	Batch int
	// Separator splits namespaces. "" means DefaultSeparator.
	Separator string
	// Depth is how many namespace levels a prefix has: 1 groups
	// "user:42:cart" under "user:", 2 under "user:42:". 0 means 1.
	Depth int
	// MaxNamespaces caps the prefixes tracked; keys of further prefixes are
	// counted in one entry with Other set. 0 means 1000.
	MaxNamespaces int
	// Top is how many of the biggest keys are reported. 0 means 20; a
	// negative value means none.
	Top int
	// Progress, if set, is called after every batch with the result so
	// far (its Namespaces and Biggest are filled in only at the end).
	Progress func(Analysis)
}

// Defaults of AnalyzeOptions.
const (
	DefaultAnalyzeKeys   = 100_000
	DefaultAnalyzeRate   = 15_000
	DefaultScanRate      = 500
	DefaultAnalyzeBatch  = 50
	DefaultMaxNamespaces = 1000
	DefaultTopKeys       = 20
)

func (o AnalyzeOptions) withDefaults() AnalyzeOptions {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.MaxKeys, DefaultAnalyzeKeys)
	def(&o.Rate, DefaultAnalyzeRate)
	def(&o.ScanRate, DefaultScanRate)
	def(&o.Batch, DefaultAnalyzeBatch)
	def(&o.Depth, 1)
	def(&o.MaxNamespaces, DefaultMaxNamespaces)
	def(&o.Top, DefaultTopKeys)
	if o.Separator == "" {
		o.Separator = DefaultSeparator
	}
	return o
}

// Analysis is what Analyze found. It is immutable.
type Analysis struct {
	// Query is what was analyzed.
	Query Query `json:"-"`
	// Keys is how many keys were analyzed.
	Keys int64 `json:"keys"`
	// Examined estimates how many keys the scan examined; Total is the
	// key count when it started (DBSIZE summed over the masters).
	Examined int64 `json:"examined"`
	Total    int64 `json:"total"`
	// Complete reports that the scan covered the whole keyspace: it was
	// not stopped by MaxKeys or cancellation.
	Complete bool `json:"complete"`
	// Memory is the sum of the keys' MEMORY USAGE, in bytes.
	Memory int64 `json:"memory"`
	// TTL is the distribution of the remaining times to live.
	TTL TTLBuckets `json:"ttl"`
	// Namespaces are the prefixes found, by descending memory.
	Namespaces []NamespaceStats `json:"namespaces"`
	// Biggest are the largest keys by MEMORY USAGE, largest first.
	Biggest []KeySize `json:"biggest"`
	// Duration is how long the analysis took.
	Duration time.Duration `json:"duration_ns"`
}

// TTLBuckets counts keys by remaining time to live.
type TTLBuckets struct {
	// None counts keys without a TTL: in a cache, a smell (they live
	// until evicted or deleted).
	None        int64 `json:"none"`
	UnderMin    int64 `json:"under_1m"`
	UnderHour   int64 `json:"under_1h"`
	UnderDay    int64 `json:"under_1d"`
	DayOrLonger int64 `json:"1d_or_more"`
}

func (b *TTLBuckets) add(ttl time.Duration, has bool) {
	switch {
	case !has:
		b.None++
	case ttl < time.Minute:
		b.UnderMin++
	case ttl < time.Hour:
		b.UnderHour++
	case ttl < 24*time.Hour:
		b.UnderDay++
	default:
		b.DayOrLonger++
	}
}

// NamespaceStats are the totals of one key prefix.
type NamespaceStats struct {
	// Prefix is the namespace with its trailing separator ("user:"); ""
	// for keys without a separator. Raw bytes.
	Prefix string `json:"prefix"`
	// Other marks the entry that sums the prefixes past MaxNamespaces.
	Other bool `json:"other,omitempty"`
	// Keys, Memory (bytes) and NoTTL (keys without a TTL) are totals.
	Keys   int64 `json:"keys"`
	Memory int64 `json:"memory"`
	NoTTL  int64 `json:"no_ttl"`
}

// KeySize is one of the biggest keys.
type KeySize struct {
	Key    string        `json:"key"`
	Type   string        `json:"type"`
	Memory int64         `json:"memory"`
	TTL    time.Duration `json:"ttl_ns"`
	HasTTL bool          `json:"has_ttl"`
}

// Analyze scans up to MaxKeys keys, paced (Rate keys and ScanRate SCAN
// calls per second), and reports memory and key counts per namespace, the
// TTL distribution and the biggest keys. For each key it sends PTTL and
// MEMORY USAGE (SAMPLES KeysOptions.MemorySamples) in pipelines of at most
// Batch keys, so the server never pauses long. Cancelling ctx stops it
// promptly: the partial analysis is returned with ctx's error.
func (k *Keys) Analyze(ctx context.Context, opts AnalyzeOptions) (Analysis, error) {
	opts = opts.withDefaults()
	q, err := opts.Query.check()
	if err != nil {
		return Analysis{}, err
	}
	if opts.MaxKeys < 0 || opts.Batch < 0 || opts.Depth < 0 || opts.MaxNamespaces < 0 {
		return Analysis{}, fmt.Errorf("%w: analyze options must not be negative", ErrBadQuery)
	}
	a := &analyzer{k: k, opts: opts, start: time.Now(), ns: make(map[string]*NamespaceStats)}
	a.res.Query = q
	a.keyPace = newPacer(opts.Rate)
	a.scanPace = newPacer(opts.ScanRate)
	err = a.run(ctx, q)
	res := a.finish(ctx)
	if err != nil {
		return res, err
	}
	return res, nil
}

type analyzer struct {
	k                 *Keys
	opts              AnalyzeOptions
	start             time.Time
	keyPace, scanPace *pacer
	res               Analysis
	ns                map[string]*NamespaceStats
	other             *NamespaceStats
	top               sizeHeap
}

func (a *analyzer) run(ctx context.Context, q Query) error {
	seen := newKeySet(a.opts.MaxKeys)
	lim := scanLimits{count: a.opts.Batch, maxExamined: a.opts.Batch}
	var cur Cursor
	for a.res.Keys < int64(a.opts.MaxKeys) {
		if err := a.scanPace.wait(ctx, 1); err != nil {
			return err
		}
		lim.limit = min(a.opts.Batch, a.opts.MaxKeys-int(a.res.Keys))
		page, err := a.k.scanPage(ctx, q, cur, lim, seen)
		if err != nil {
			return err
		}
		if len(page.Keys) > 0 {
			if err := a.keyPace.wait(ctx, len(page.Keys)); err != nil {
				return err
			}
			if err := a.measure(ctx, page.Keys); err != nil {
				return err
			}
		}
		a.res.Examined, a.res.Total = page.Examined, page.Total
		if page.Done {
			a.res.Complete = true
			break
		}
		cur = page.Next
		if a.opts.Progress != nil {
			a.opts.Progress(a.snapshot())
		}
	}
	return nil
}

// measure sends PTTL and MEMORY USAGE for a batch and adds the results.
func (a *analyzer) measure(ctx context.Context, keys []string) error {
	ttls := make([]*redis.DurationCmd, len(keys))
	mems := make([]*redis.IntCmd, len(keys))
	_, err := a.k.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, key := range keys {
			ttls[i] = p.PTTL(ctx, key)
			mems[i] = p.MemoryUsage(ctx, key, a.k.opts.MemorySamples)
		}
		return nil
	})
	if err := pipeError(ctx, err); err != nil {
		return fmt.Errorf("monitor: analyze: %w", err)
	}
	var hits, misses int64
	for i, key := range keys {
		ttl, err := ttls[i].Result()
		if err != nil {
			return fmt.Errorf("monitor: analyze: pttl: %w", err)
		}
		if ttl == -2 {
			misses++
			continue // expired or deleted since the scan
		}
		hits++
		mem, err := mems[i].Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return fmt.Errorf("monitor: analyze: memory usage: %w", err)
		}
		a.add(key, mem, ttl, ttl >= 0)
	}
	a.k.lookups.add(hits, misses)
	return nil
}

func (a *analyzer) add(key string, mem int64, ttl time.Duration, hasTTL bool) {
	a.res.Keys++
	a.res.Memory += mem
	a.res.TTL.add(ttl, hasTTL)
	ns := a.namespace(namespaceOf(key, a.opts.Separator, a.opts.Depth))
	ns.Keys++
	ns.Memory += mem
	if !hasTTL {
		ns.NoTTL++
	}
	ks := KeySize{Key: key, Memory: mem, TTL: max(ttl, 0), HasTTL: hasTTL}
	if len(a.top) < a.opts.Top {
		heap.Push(&a.top, ks)
	} else if a.opts.Top > 0 && mem > a.top[0].Memory {
		a.top[0] = ks
		heap.Fix(&a.top, 0)
	}
}

func (a *analyzer) namespace(prefix string) *NamespaceStats {
	if ns, ok := a.ns[prefix]; ok {
		return ns
	}
	if len(a.ns) >= a.opts.MaxNamespaces {
		if a.other == nil {
			a.other = &NamespaceStats{Other: true}
		}
		return a.other
	}
	ns := &NamespaceStats{Prefix: prefix}
	a.ns[prefix] = ns
	return ns
}

// namespaceOf returns the first depth namespace levels of key with their
// trailing separator, or "" for a key without a separator.
func namespaceOf(key, sep string, depth int) string {
	end := 0
	for level := 0; level < depth; level++ {
		i := strings.Index(key[end:], sep)
		if i < 0 {
			break
		}
		end += i + len(sep)
	}
	return key[:end]
}

// snapshot copies the running totals (without namespaces and biggest
// keys, which are sorted once at the end).
func (a *analyzer) snapshot() Analysis {
	r := a.res
	r.Duration = time.Since(a.start)
	return r
}

// finish sorts the namespaces and the biggest keys, and asks the type of
// the latter.
func (a *analyzer) finish(ctx context.Context) Analysis {
	r := a.snapshot()
	for _, ns := range a.ns {
		r.Namespaces = append(r.Namespaces, *ns)
	}
	sort.Slice(r.Namespaces, func(i, j int) bool {
		x, y := r.Namespaces[i], r.Namespaces[j]
		if x.Memory != y.Memory {
			return x.Memory > y.Memory
		}
		return x.Prefix < y.Prefix
	})
	if a.other != nil {
		r.Namespaces = append(r.Namespaces, *a.other)
	}
	r.Biggest = append([]KeySize(nil), a.top...)
	sort.Slice(r.Biggest, func(i, j int) bool { return r.Biggest[i].Memory > r.Biggest[j].Memory })
	if len(r.Biggest) > 0 && ctx.Err() == nil {
		types := make([]*redis.StatusCmd, len(r.Biggest))
		_, _ = a.k.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, ks := range r.Biggest {
				types[i] = p.Type(ctx, ks.Key)
			}
			return nil
		})
		for i, cmd := range types {
			if t, err := cmd.Result(); err == nil {
				a.k.lookups.countExists(t != TypeNone)
				r.Biggest[i].Type = t
			}
		}
	}
	return r
}

// sizeHeap is a min-heap of keys by memory: the smallest of the biggest on
// top, to be replaced.
type sizeHeap []KeySize

func (h sizeHeap) Len() int           { return len(h) }
func (h sizeHeap) Less(i, j int) bool { return h[i].Memory < h[j].Memory }
func (h sizeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *sizeHeap) Push(x any)        { *h = append(*h, x.(KeySize)) }
func (h *sizeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
