package monitor

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// startKeysServer starts a server that allows DEBUG POPULATE (for the
// test's own admin client only: the watched client still forbids it).
func startKeysServer(t *testing.T) *testServer {
	t.Helper()
	return startServer(t, "--enable-debug-command", "yes")
}

// populate creates n string keys "prefix:0".. with DEBUG POPULATE.
func populate(t testing.TB, admin *redis.Client, n int, prefix string) {
	t.Helper()
	if err := admin.Do(context.Background(), "DEBUG", "POPULATE", n, prefix, 8).Err(); err != nil {
		t.Fatal(err)
	}
}

// lookupStats returns the server's keyspace_hits and keyspace_misses.
func lookupStats(t *testing.T, admin *redis.Client) (hits, misses int64) {
	t.Helper()
	info, err := admin.Info(context.Background(), "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	parsed := ParseInfo(info)
	hits, _ = parsed.Int("keyspace_hits")
	misses, _ = parsed.Int("keyspace_misses")
	return hits, misses
}

// replyMeter counts the commands a client sends and the bytes of the
// strings it receives, to show that a read is bounded.
type replyMeter struct {
	mu       sync.Mutex
	commands []string
	bytes    int64
}

func meter(c redis.UniversalClient) *replyMeter {
	m := &replyMeter{}
	c.AddHook(m)
	return m
}

func (m *replyMeter) reset() (cmds []string, bytes int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cmds, bytes = m.commands, m.bytes
	m.commands, m.bytes = nil, 0
	return cmds, bytes
}

func (m *replyMeter) observe(cmd redis.Cmder) {
	var n int64
	switch c := cmd.(type) {
	case *redis.StringCmd:
		n = int64(len(c.Val()))
	case *redis.StringSliceCmd:
		for _, s := range c.Val() {
			n += int64(len(s))
		}
	case *redis.ScanCmd:
		keys, _ := c.Val()
		for _, s := range keys {
			n += int64(len(s))
		}
	case *redis.ZSliceCmd:
		for _, z := range c.Val() {
			s, _ := z.Member.(string)
			n += int64(len(s)) + 8
		}
	case *redis.Cmd:
		n = anySize(c.Val())
	}
	var name []string
	for _, a := range cmd.Args() {
		switch v := a.(type) {
		case string:
			name = append(name, v)
		case int64:
			name = append(name, strconv.FormatInt(v, 10))
		}
	}
	m.mu.Lock()
	m.commands = append(m.commands, strings.ToUpper(strings.Join(name, " ")))
	m.bytes += n
	m.mu.Unlock()
}

func anySize(v any) int64 {
	switch x := v.(type) {
	case string:
		return int64(len(x))
	case []any:
		var n int64
		for _, e := range x {
			n += anySize(e)
		}
		return n
	}
	return 8
}

func (m *replyMeter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (m *replyMeter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		m.observe(cmd)
		return err
	}
}

func (m *replyMeter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			m.observe(c)
		}
		return err
	}
}

// browseAll runs a browse session to the end and returns the keys in
// order.
func browseAll(t *testing.T, k *Keys, q Query) []string {
	t.Helper()
	b, err := k.Browse(q)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for i := 0; !b.Done(); i++ {
		p, err := b.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Keys...)
		if i > 10_000_000 {
			t.Fatal("the scan never ends")
		}
	}
	return all
}
