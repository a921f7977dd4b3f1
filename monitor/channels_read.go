package monitor

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/redis/go-redis/v9"
)

// shardIterator is what a Redis Cluster or Ring client offers to reach
// every node.
type shardIterator interface {
	ForEachShard(ctx context.Context, fn func(ctx context.Context, client *redis.Client) error) error
}

// channelNodes returns the servers to ask: every node of a cluster (or
// ring), else the client itself.
func channelNodes(ctx context.Context, rdb redis.UniversalClient) ([]doer, error) {
	it, ok := rdb.(shardIterator)
	if !ok {
		return []doer{rdb}, nil
	}
	var mu sync.Mutex
	var nodes []doer
	err := it.ForEachShard(ctx, func(_ context.Context, c *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		nodes = append(nodes, c)
		return nil
	})
	return nodes, err
}

// nodeChannels is what one node listed.
type nodeChannels struct {
	node           doer
	classic, shard []string
}

func (p *ChannelsPoller) refresh(ctx context.Context) *ChannelsSnapshot {
	s := &ChannelsSnapshot{Pattern: p.opts.Pattern}
	fail := func(err error) *ChannelsSnapshot {
		s.Channels, s.Err, s.Error = nil, err, err.Error()
		return s
	}
	nodes, err := channelNodes(ctx, p.rdb)
	if err != nil {
		return fail(err)
	}
	askShard := true
	if r := p.shardRefused.Load(); r != nil {
		if p.now().Sub(r.at) < refusedRetry {
			askShard, s.ShardUnavailable = false, r.reason
		} else {
			p.shardRefused.Store(nil)
		}
	}

	// List.
	listed := make([]nodeChannels, len(nodes))
	classic, shard := map[string]bool{}, map[string]bool{}
	for i, node := range nodes {
		listed[i].node = node
		names, err := p.list(ctx, node, "channels", s)
		if err != nil {
			return fail(err)
		}
		listed[i].classic = names
		for _, n := range names {
			classic[n] = true
		}
		if !askShard {
			continue
		}
		names, err = p.list(ctx, node, "shardchannels", s)
		if err != nil {
			if !isServerError(err) {
				return fail(err)
			}
			// An older server or an ACL: the classic channels still show.
			p.shardRefused.Store(&refusal{reason: err.Error(), at: p.now()})
			s.ShardUnavailable, askShard = err.Error(), false
			continue
		}
		listed[i].shard = names
		for _, n := range names {
			shard[n] = true
		}
	}

	// Keep at most MaxChannels, the first by name, classic first.
	s.Listed = len(classic) + len(shard)
	keep := func(set map[string]bool, room int) map[string]bool {
		names := make([]string, 0, len(set))
		for n := range set {
			names = append(names, n)
		}
		sort.Strings(names)
		kept := map[string]bool{}
		for _, n := range names[:min(len(names), max(room, 0))] {
			kept[n] = true
		}
		return kept
	}
	keptClassic := keep(classic, p.opts.MaxChannels)
	keptShard := keep(shard, p.opts.MaxChannels-len(keptClassic))
	s.Truncated = len(keptClassic)+len(keptShard) < s.Listed

	// Count, on each node, the kept channels it listed.
	counts := map[channelKey]int64{}
	for _, l := range listed {
		for _, kind := range []struct {
			shard bool
			names []string
			kept  map[string]bool
			sub   string
		}{{false, l.classic, keptClassic, "numsub"}, {true, l.shard, keptShard, "shardnumsub"}} {
			var ask []string
			for _, n := range kind.names {
				if kind.kept[n] {
					ask = append(ask, n)
				}
			}
			for from := 0; from < len(ask); from += numsubChunk {
				chunk := ask[from:min(from+numsubChunk, len(ask))]
				got, err := p.numsub(ctx, l.node, kind.sub, chunk, s)
				if err != nil {
					return fail(err)
				}
				for name, n := range got {
					counts[channelKey{name, kind.shard}] += n
				}
			}
		}
	}
	for k, n := range counts {
		if n > 0 {
			s.Channels = append(s.Channels, ChannelInfo{Name: k.name, Shard: k.shard, Subscribers: n})
		}
	}
	sort.Slice(s.Channels, func(i, j int) bool {
		a, b := s.Channels[i], s.Channels[j]
		if a.Subscribers != b.Subscribers {
			return a.Subscribers > b.Subscribers
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return !a.Shard && b.Shard
	})
	return s
}

// list sends PUBSUB CHANNELS (or SHARDCHANNELS) with the pattern.
func (p *ChannelsPoller) list(ctx context.Context, node doer, sub string, s *ChannelsSnapshot) ([]string, error) {
	args := []any{"pubsub", sub}
	if p.opts.Pattern != "" {
		args = append(args, p.opts.Pattern)
	}
	s.Commands++
	v, err := node.Do(ctx, args...).Result()
	if err != nil {
		return nil, err
	}
	items, ok := v.([]any)
	if !ok {
		return nil, errUnexpectedReply("PUBSUB "+sub, v)
	}
	names := make([]string, 0, len(items))
	for _, it := range items {
		if n, ok := it.(string); ok {
			names = append(names, n)
		}
	}
	return names, nil
}

// numsub sends PUBSUB NUMSUB (or SHARDNUMSUB) for channels. The reply is a
// flat list of name, count pairs (a map in RESP3 on some servers).
func (p *ChannelsPoller) numsub(ctx context.Context, node doer, sub string, channels []string, s *ChannelsSnapshot) (map[string]int64, error) {
	args := make([]any, 0, 2+len(channels))
	args = append(args, "pubsub", sub)
	for _, c := range channels {
		args = append(args, c)
	}
	s.Commands++
	v, err := node.Do(ctx, args...).Result()
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(channels))
	switch r := v.(type) {
	case []any:
		for i := 0; i+1 < len(r); i += 2 {
			name, ok1 := r[i].(string)
			n, ok2 := r[i+1].(int64)
			if ok1 && ok2 {
				out[name] = n
			}
		}
	case map[any]any:
		for k, c := range r {
			name, ok1 := k.(string)
			n, ok2 := c.(int64)
			if ok1 && ok2 {
				out[name] = n
			}
		}
	default:
		return nil, fmt.Errorf("monitor: unexpected PUBSUB %s reply of type %T", sub, v)
	}
	return out, nil
}
