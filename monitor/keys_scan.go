package monitor

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Cursor is where a key scan continues: one SCAN cursor per master (one on
// a single server), the progress so far, and the keys already fetched that
// did not fit in the last page. It is opaque and immutable; the zero Cursor
// starts a scan. A cursor stays valid as long as the masters it was made
// on are the masters: after a cluster topology change (a master added,
// removed or failed over), resuming it fails with ErrCursorStale.
type Cursor struct {
	nodes   []cursorNode // nil before the first page
	pending []string     // keys fetched, accepted, not yet returned
	// progress kept after the scan is done
	doneExamined, doneTotal int64
}

// cursorNode is the scan position on one master.
type cursorNode struct {
	addr     string
	pos      uint64
	done     bool
	size     int64 // DBSIZE when the scan started on it
	examined int64 // estimated keys examined so far
}

// IsZero reports whether c is the start of a scan.
func (c Cursor) IsZero() bool { return c.nodes == nil && len(c.pending) == 0 && c.doneTotal == 0 }

func (c Cursor) examined() int64 {
	if c.nodes == nil {
		return c.doneExamined
	}
	var n int64
	for _, node := range c.nodes {
		n += node.examined
	}
	return n
}

func (c Cursor) total() int64 {
	if c.nodes == nil {
		return c.doneTotal
	}
	var n int64
	for _, node := range c.nodes {
		n += node.size
	}
	return n
}

// withProgress returns an empty cursor that remembers a finished scan's
// progress figures.
func (Cursor) withProgress(examined, total int64) Cursor {
	return Cursor{doneExamined: examined, doneTotal: total}
}

// clone copies c so that a page never shares mutable state with the cursor
// it started from.
func (c Cursor) clone() Cursor {
	c.nodes = append([]cursorNode(nil), c.nodes...)
	c.pending = append([]string(nil), c.pending...)
	return c
}

// primary is a server that owns keys.
type primary struct {
	addr   string
	client redis.Cmdable
}

// primaries lists the servers that own keys: every master of a cluster,
// every shard of a ring (sorted by address), or the one server behind a
// plain or failover client.
func primaries(ctx context.Context, rdb redis.UniversalClient) ([]primary, error) {
	var (
		mu  sync.Mutex
		out []primary
	)
	collect := func(_ context.Context, c *redis.Client) error {
		mu.Lock()
		out = append(out, primary{addr: c.Options().Addr, client: c})
		mu.Unlock()
		return nil
	}
	var err error
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, collect)
	case *redis.Ring:
		err = c.ForEachShard(ctx, collect)
	default:
		addr := ""
		if c, ok := rdb.(*redis.Client); ok {
			addr = c.Options().Addr
		}
		return []primary{{addr: addr, client: rdb}}, nil
	}
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].addr < out[j].addr })
	return out, nil
}

// scanLimits bound one page: at most limit keys, SCAN COUNT count, and
// about maxExamined keys examined.
type scanLimits struct {
	limit, count, maxExamined int
}

func (k *Keys) pageLimits(limit int) scanLimits {
	return scanLimits{limit: limit, count: k.opts.ScanCount, maxExamined: k.opts.MaxExamined}
}

// scanPage fills one page from cur. seen, if not nil, drops keys returned
// before in the session; it is only updated when the page succeeds.
func (k *Keys) scanPage(ctx context.Context, q Query, cur Cursor, lim scanLimits, seen *keySet) (Page, error) {
	limit := lim.limit
	if q.Exact() {
		return k.exactPage(ctx, q)
	}
	if err := ctx.Err(); err != nil {
		return Page{}, err
	}
	nodes, err := primaries(ctx, k.rdb)
	if err != nil {
		return Page{}, fmt.Errorf("monitor: list masters: %w", err)
	}
	byAddr := make(map[string]primary, len(nodes))
	for _, n := range nodes {
		byAddr[n.addr] = n
	}
	next := cur.clone()
	if next.nodes == nil {
		if next.nodes, err = startNodes(ctx, nodes); err != nil {
			return Page{}, err
		}
	}
	// A master gone or added means slots moved under the cursor: keys
	// could be missed, so the scan must start again.
	if len(next.nodes) != len(nodes) {
		return Page{}, ErrCursorStale
	}
	for _, n := range next.nodes {
		if _, ok := byAddr[n.addr]; !ok {
			return Page{}, ErrCursorStale
		}
	}

	page := Page{}
	accepted := make(map[string]struct{}) // keys taken in this call
	// take moves keys into the page or, once it is full, into pending.
	take := func(keys []string) {
		for _, key := range keys {
			if _, dup := accepted[key]; dup || (seen != nil && seen.has(key)) {
				page.Duplicates++
				continue
			}
			accepted[key] = struct{}{}
			if len(page.Keys) < limit {
				page.Keys = append(page.Keys, key)
			} else {
				next.pending = append(next.pending, key)
			}
		}
	}
	pending := next.pending
	next.pending = nil
	for i, key := range pending {
		if len(page.Keys) < limit {
			page.Keys = append(page.Keys, key)
		} else {
			next.pending = append(next.pending, pending[i:]...)
			break
		}
	}

	var examinedNow int64
	count := int64(lim.count)
	for len(page.Keys) < limit && examinedNow < int64(lim.maxExamined) {
		i := firstUndone(next.nodes)
		if i < 0 {
			break
		}
		n := &next.nodes[i]
		keys, pos, err := byAddr[n.addr].client.Scan(ctx, n.pos, q.Pattern, count).Result()
		if err != nil {
			return Page{}, fmt.Errorf("monitor: scan %s: %w", n.addr, err)
		}
		page.Calls++
		examinedNow += count
		n.pos = pos
		n.examined = min(n.examined+count, max(n.size, n.examined))
		if pos == 0 {
			n.done = true
			n.examined = max(n.size, n.examined)
		}
		if q.Type != "" && len(keys) > 0 {
			if keys, err = k.filterType(ctx, byAddr[n.addr].client, keys, q.Type); err != nil {
				return Page{}, err
			}
		}
		take(keys)
	}
	page.Examined, page.Total = next.examined(), next.total()
	page.Done = firstUndone(next.nodes) < 0 && len(next.pending) == 0
	page.Budget = !page.Done && len(page.Keys) < limit
	page.Next = next
	if seen != nil {
		for key := range accepted {
			seen.add(key)
		}
	}
	return page, nil
}

func firstUndone(nodes []cursorNode) int {
	for i, n := range nodes {
		if !n.done {
			return i
		}
	}
	return -1
}

// startNodes reads each master's DBSIZE, the denominator of the progress.
func startNodes(ctx context.Context, nodes []primary) ([]cursorNode, error) {
	out := make([]cursorNode, len(nodes))
	for i, n := range nodes {
		size, err := n.client.DBSize(ctx).Result()
		if err != nil {
			return nil, fmt.Errorf("monitor: dbsize %s: %w", n.addr, err)
		}
		out[i] = cursorNode{addr: n.addr, size: size}
	}
	return out, nil
}

// filterType keeps the keys of type typ, asking TYPE of each in one
// pipeline (SCAN's own TYPE option would count hits the client cannot
// know; see Keys).
func (k *Keys) filterType(ctx context.Context, node redis.Cmdable, keys []string, typ string) ([]string, error) {
	cmds := make([]*redis.StatusCmd, len(keys))
	_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, key := range keys {
			cmds[i] = p.Type(ctx, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("monitor: type filter: %w", err)
	}
	out := keys[:0:0]
	for i, cmd := range cmds {
		t := cmd.Val()
		k.lookups.countExists(t != TypeNone)
		if t == typ {
			out = append(out, keys[i])
		}
	}
	return out, nil
}

// exactPage looks up the one key a pattern without glob characters names.
func (k *Keys) exactPage(ctx context.Context, q Query) (Page, error) {
	key := unescapeGlob(q.Pattern)
	t, err := k.rdb.Type(ctx, key).Result()
	if err != nil {
		return Page{}, fmt.Errorf("monitor: type: %w", err)
	}
	k.lookups.countExists(t != TypeNone)
	p := Page{Exact: true, Done: true, Examined: 1, Total: 1}
	if t != TypeNone && (q.Type == "" || q.Type == t) {
		p.Keys = []string{key}
	}
	return p, nil
}

// unescapeGlob turns a pattern without glob characters into the key it
// matches: "\x" is a literal x, and a trailing backslash matches itself, as
// in Redis' stringmatchlen.
func unescapeGlob(p string) string {
	b := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+1 < len(p) {
			i++
		}
		b = append(b, p[i])
	}
	return string(b)
}
