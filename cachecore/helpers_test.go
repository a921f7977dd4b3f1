package cachecore

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
)

var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// newRealCache returns a Cache on a fresh real redis-server.
func newRealCache(t *testing.T, opts Options) (*Cache, *redistest.Server, *redis.Client) {
	t.Helper()
	s := redistest.Start(t)
	rdb := s.Client(t)
	opts.Redis = rdb
	if opts.Logger == nil {
		opts.Logger = quietLogger
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, s, rdb
}

// newMiniCache returns a Cache on an in-process miniredis, for logic that
// does not depend on real server behaviour.
func newMiniCache(t *testing.T, opts Options) (*Cache, *miniredis.Miniredis) {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = rdb.Close() })
	opts.Redis = rdb
	if opts.Logger == nil {
		opts.Logger = quietLogger
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, mr
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.TrimSpace(l.buf.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// commandCounter is a go-redis hook counting the commands a client sends.
type commandCounter struct {
	mu    sync.Mutex
	names map[string]int
}

func countCommands(rdb *redis.Client) *commandCounter {
	cc := &commandCounter{names: map[string]int{}}
	rdb.AddHook(cc)
	return cc
}

func (cc *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (cc *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		cc.add(cmd)
		return next(ctx, cmd)
	}
}

func (cc *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			cc.add(cmd)
		}
		return next(ctx, cmds)
	}
}

func (cc *commandCounter) add(cmd redis.Cmder) {
	cc.mu.Lock()
	cc.names[cmd.Name()]++
	cc.mu.Unlock()
}

func (cc *commandCounter) total() int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	n := 0
	for _, v := range cc.names {
		n += v
	}
	return n
}

type product struct {
	ID    int     `json:"id"`
	Name  string  `json:"name"`
	Price float64 `json:"price"`
}
