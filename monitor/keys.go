package monitor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/cachecore"
)

// Keys browses a keyspace for the keys view and `cachescope keys`: SCAN
// pages with a resumable cursor (one per master), metadata for the rows on
// screen, bounded value reads, and on-demand analysis. It only reads; writes
// go through [Actions]. It is safe for concurrent use.
//
// Every string it returns (keys, values, fields) is the server's raw bytes,
// unsanitized: keys must round-trip exactly so that a binary key can be
// deleted, so the caller sanitizes (internal/sanitize) when it displays.
//
// # Keyspace hits and misses
//
// In Redis 7 TYPE, PTTL, OBJECT ENCODING, EXISTS, STRLEN/HLEN/LLEN/SCARD/
// ZCARD/XLEN, GETRANGE, LRANGE, ZRANGE, XRANGE, HSCAN/SSCAN/ZSCAN and DUMP
// each count one keyspace hit (or one miss for an absent key), like an
// application's GET; MEMORY USAGE, SCAN, UNLINK, PEXPIRE, PERSIST and
// RESTORE count nothing. SCAN's TYPE option looks up every examined key
// that matches the pattern and counts it as a hit, a number the client
// cannot know, so Keys never sends it: a type filter is applied with
// pipelined TYPE calls, which are counted. Every lookup the explorer
// causes is added to [Lookups] (see KeysOptions.Lookups), so that whoever
// shows the server's hit rate can subtract them.
type Keys struct {
	rdb     redis.UniversalClient
	opts    KeysOptions
	lookups *Lookups
}

// KeysOptions configure [Keys]. Every zero field means its documented
// default.
type KeysOptions struct {
	// PageSize is the most keys a page holds. 0 means 100.
	PageSize int
	// ScanCount is the COUNT hint of each SCAN call: roughly how many keys
	// the server examines per call. 0 means 1000.
	ScanCount int
	// MaxExamined is the budget of examined keys per page: a page that
	// has not filled up by then is returned short, with the cursor to
	// continue, so a rare pattern on a huge keyspace never blocks. 0 means
	// 50,000 (about 50 SCAN calls at the default ScanCount).
	MaxExamined int
	// MaxTracked bounds the memory a [Browser] uses to drop the duplicates
	// SCAN may return while the server resizes its table: it remembers a
	// 64-bit hash of at most this many keys (16 bytes each at most). Past
	// it, duplicates are no longer filtered. 0 means 1,000,000; a negative
	// value turns de-duplication off.
	MaxTracked int
	// StringWindow is how many bytes of a string a value read returns.
	// 0 means 64 KiB.
	StringWindow int
	// ElementWindow is how many elements of a hash, list, set, sorted set
	// or stream a value read returns (a hint for hashes and sets, whose
	// HSCAN/SSCAN may return a few more). 0 means 100.
	ElementWindow int
	// MemorySamples is the SAMPLES argument of MEMORY USAGE: how many
	// nested elements are sampled to estimate a collection's size. 0 means
	// 5.
	MemorySamples int
	// Lookups receives the keyspace hits and misses Keys causes. nil means
	// a counter of its own, returned by [Keys.Lookups].
	Lookups *Lookups
}

// Defaults of KeysOptions.
const (
	DefaultPageSize      = 100
	DefaultScanCount     = 1000
	DefaultMaxExamined   = 50_000
	DefaultMaxTracked    = 1_000_000
	DefaultStringWindow  = 64 << 10
	DefaultElementWindow = 100
	DefaultMemorySamples = 5
)

func (o KeysOptions) withDefaults() KeysOptions {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.PageSize, DefaultPageSize)
	def(&o.ScanCount, DefaultScanCount)
	def(&o.MaxExamined, DefaultMaxExamined)
	if o.MaxTracked == 0 {
		o.MaxTracked = DefaultMaxTracked
	}
	def(&o.StringWindow, DefaultStringWindow)
	def(&o.ElementWindow, DefaultElementWindow)
	def(&o.MemorySamples, DefaultMemorySamples)
	return o
}

// NewKeys returns a browser of rdb's keyspace: a single server, the master
// behind a Sentinel failover client, every master of a *redis.ClusterClient
// or every shard of a *redis.Ring. It shares rdb; it does not close it.
func NewKeys(rdb redis.UniversalClient, opts KeysOptions) *Keys {
	opts = opts.withDefaults()
	l := opts.Lookups
	if l == nil {
		l = new(Lookups)
	}
	return &Keys{rdb: rdb, opts: opts, lookups: l}
}

// Options returns the options with every default filled in.
func (k *Keys) Options() KeysOptions { return k.opts }

// Lookups returns the counter of the keyspace hits and misses k causes.
func (k *Keys) Lookups() *Lookups { return k.lookups }

// Lookups counts the keyspace hits and misses (INFO stats keyspace_hits,
// keyspace_misses) that cachescope's own reads caused on the server. A
// dashboard that shows the server's hit rate subtracts the change of these
// counters between two INFO samples from the change of the server's, so
// that browsing keys does not make the application look better or worse.
// The counts are exact for single commands; in the rare case a key vanishes
// between two commands of one metadata read, a miss may be counted as a hit.
// It is safe for concurrent use; the zero value is ready.
type Lookups struct {
	hits, misses atomic.Int64
}

// Load returns the cumulative hits and misses counted so far.
func (l *Lookups) Load() (hits, misses int64) {
	if l == nil {
		return 0, 0
	}
	return l.hits.Load(), l.misses.Load()
}

// add counts lookups; it accepts a nil receiver.
func (l *Lookups) add(hits, misses int64) {
	if l == nil {
		return
	}
	if hits != 0 {
		l.hits.Add(hits)
	}
	if misses != 0 {
		l.misses.Add(misses)
	}
}

// countExists counts one lookup of a key that existed or not.
func (l *Lookups) countExists(exists bool) {
	if exists {
		l.add(1, 0)
	} else {
		l.add(0, 1)
	}
}

// Key types, as TYPE names them.
const (
	TypeString = "string"
	TypeList   = "list"
	TypeSet    = "set"
	TypeZSet   = "zset"
	TypeHash   = "hash"
	TypeStream = "stream"
	// TypeNone is what TYPE says of a key that does not exist.
	TypeNone = "none"
)

// validType reports whether t is a type a [Query] may filter on.
func validType(t string) bool {
	switch t {
	case TypeString, TypeList, TypeSet, TypeZSet, TypeHash, TypeStream:
		return true
	}
	return false
}

// Errors of the keys explorer.
var (
	// ErrBadQuery reports an invalid pattern or type filter.
	ErrBadQuery = errors.New("monitor: invalid key query")
	// ErrCursorStale reports a cursor whose masters are gone (the
	// cluster's topology changed since the scan started): start again.
	ErrCursorStale = errors.New("monitor: the scan cursor no longer matches the servers (topology changed); start the scan again")
	// ErrNoSuchKey reports a key that does not exist (any more).
	ErrNoSuchKey = errors.New("monitor: no such key")
	// ErrTypeChanged reports a key whose type is not the one a value read
	// expected (it was deleted and written again as another type).
	ErrTypeChanged = errors.New("monitor: the key changed type")
)

// Query selects keys.
type Query struct {
	// Pattern is a Redis glob (SCAN MATCH): "user:*", "session:??". ""
	// means "*". A pattern without glob characters (see
	// cachecore.HasGlob; escape them with cachecore.EscapeGlob) names one
	// key and is looked up directly instead of scanned.
	Pattern string
	// Type keeps only keys of this type (TypeString, TypeHash, ...). ""
	// means every type.
	Type string
}

// check validates q and fills in the default pattern.
func (q Query) check() (Query, error) {
	if q.Pattern == "" {
		q.Pattern = "*"
	}
	if q.Type != "" && !validType(q.Type) {
		return q, fmt.Errorf("%w: unknown type %q (string, list, set, zset, hash or stream)", ErrBadQuery, q.Type)
	}
	return q, nil
}

// Exact reports whether q names one key rather than a pattern.
func (q Query) Exact() bool { return q.Pattern != "" && !cachecore.HasGlob(q.Pattern) }

// Page is one page of a key scan. It is immutable.
type Page struct {
	// Keys are the keys of this page, at most KeysOptions.PageSize, raw
	// bytes in Go strings.
	Keys []string
	// Next continues the scan after this page. It is the zero Cursor once
	// Done.
	Next Cursor
	// Done reports that the scan covered the whole keyspace: there is no
	// next page.
	Done bool
	// Exact reports an exact lookup (a pattern without glob characters):
	// Keys holds that key if it exists (and has the queried type).
	Exact bool
	// Examined estimates how many keys the scan has examined since it
	// started, across pages (from SCAN's COUNT, capped by Total; exact once
	// Done).
	Examined int64
	// Total is the number of keys in the scanned databases when the scan
	// started (DBSIZE summed over the masters): show "examined X of
	// ~Total".
	Total int64
	// Calls is how many SCAN calls this page took.
	Calls int
	// Budget reports that the page stopped short because its
	// examined-keys budget (KeysOptions.MaxExamined) was spent: call Next
	// again to continue.
	Budget bool
	// Duplicates is how many keys SCAN returned again that a [Browser]
	// dropped from this page (always 0 from [Keys.ScanPage]).
	Duplicates int
}

// Browser is one browse session: a query scanned page by page, with the
// duplicates SCAN may return dropped (see KeysOptions.MaxTracked). A key
// that exists for the whole session appears exactly once; a key added or
// deleted meanwhile may or may not appear. Create one per filter with
// [Keys.Browse]; its methods are safe for concurrent use (calls to Next are
// serialized).
type Browser struct {
	k     *Keys
	query Query

	mu   sync.Mutex
	cur  Cursor
	seen *keySet
	done bool
}

// Browse starts a browse session for q. It does not contact the server.
func (k *Keys) Browse(q Query) (*Browser, error) {
	q, err := q.check()
	if err != nil {
		return nil, err
	}
	b := &Browser{k: k, query: q}
	if k.opts.MaxTracked > 0 {
		b.seen = newKeySet(k.opts.MaxTracked)
	}
	return b, nil
}

// Query returns the session's query (with the default pattern filled in).
func (b *Browser) Query() Query { return b.query }

// Done reports whether the scan is complete.
func (b *Browser) Done() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.done
}

// Cursor returns where the next page starts.
func (b *Browser) Cursor() Cursor {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cur
}

// Next returns the next page: up to PageSize new keys, or fewer when the
// examined-keys budget ran out (Page.Budget) or the scan ended (Page.Done).
// After Done it returns an empty page with Done set. On an error (ctx
// cancelled included) the session stays where it was and Next can be
// called again.
func (b *Browser) Next(ctx context.Context) (Page, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return Page{Done: true, Exact: b.query.Exact(), Examined: b.cur.examined(), Total: b.cur.total()}, nil
	}
	p, err := b.k.scanPage(ctx, b.query, b.cur, b.k.pageLimits(b.k.opts.PageSize), b.seen)
	if err != nil {
		return Page{}, err
	}
	b.cur, b.done = p.Next, p.Done
	if p.Done {
		// Keep the progress figures for later calls.
		b.cur = p.Next.withProgress(p.Examined, p.Total)
		p.Next = Cursor{}
	}
	return p, nil
}

// ScanPage returns one page of q starting at cur (the zero Cursor starts a
// scan), with at most limit keys (0 means PageSize). It keeps no state: the
// page's Next cursor continues it. Unlike a [Browser] it does not drop the
// duplicates SCAN may return.
func (k *Keys) ScanPage(ctx context.Context, q Query, cur Cursor, limit int) (Page, error) {
	q, err := q.check()
	if err != nil {
		return Page{}, err
	}
	if limit <= 0 {
		limit = k.opts.PageSize
	}
	p, err := k.scanPage(ctx, q, cur, k.pageLimits(limit), nil)
	if err == nil && p.Done {
		p.Next = Cursor{}
	}
	return p, err
}

// KeyMeta is what the keys view shows about one key. It is immutable.
type KeyMeta struct {
	// Key is the key, raw.
	Key string
	// Exists is false when the key is gone (deleted or expired since it
	// was listed); the other fields are then zero.
	Exists bool
	// Type is TypeString, TypeHash, ... .
	Type string
	// TTL is the remaining time to live; meaningful when HasTTL.
	TTL time.Duration
	// HasTTL is false for a key without expiry.
	HasTTL bool
	// Memory is MEMORY USAGE (bytes, estimated for collections by
	// sampling); -1 when the server did not say (MEMORY refused by ACL, or
	// a server without it).
	Memory int64
	// Encoding is OBJECT ENCODING: "embstr", "listpack", "hashtable", ...
	Encoding string
	// Length is the size of the value: bytes of a string, elements of a
	// collection (STRLEN, HLEN, LLEN, SCARD, ZCARD, XLEN); -1 when unknown.
	Length int64
}

// Meta returns the metadata of keys (the rows on screen), in order: TYPE,
// PTTL, MEMORY USAGE and OBJECT ENCODING of every key in one pipeline, then
// the length commands (which depend on the type) in a second one.
// Cancelling ctx (the user scrolled away) abandons it. Keys that are gone
// come back with Exists false.
func (k *Keys) Meta(ctx context.Context, keys []string) ([]KeyMeta, error) {
	return k.meta(ctx, keys)
}

// Inspect returns the metadata of one key, or ErrNoSuchKey.
func (k *Keys) Inspect(ctx context.Context, key string) (KeyMeta, error) {
	m, err := k.meta(ctx, []string{key})
	if err != nil {
		return KeyMeta{}, err
	}
	if !m[0].Exists {
		return m[0], ErrNoSuchKey
	}
	return m[0], nil
}
