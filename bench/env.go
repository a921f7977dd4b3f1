package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/cachecore"
	"github.com/cachescope/cachescope/internal/redisproc"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// env is one redis-server started for a group of measures, with the
// clients made on it; close stops them all, in reverse order.
type env struct {
	srv  *redisproc.Server
	addr string
	conc int

	mu      sync.Mutex
	closers []func()
}

// startEnv starts a throwaway redis-server (persistence off, free loopback
// port) with extra arguments.
func startEnv(conc int, args ...string) (*env, error) {
	srv, err := redisproc.Start(redisproc.Config{Args: args})
	if err != nil {
		return nil, err
	}
	return &env{srv: srv, addr: srv.Addr, conc: conc}, nil
}

func (e *env) onClose(f func()) {
	e.mu.Lock()
	e.closers = append(e.closers, f)
	e.mu.Unlock()
}

func (e *env) close() {
	e.mu.Lock()
	cs := e.closers
	e.closers = nil
	e.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
	_ = e.srv.Close()
}

// goredis returns a new go-redis client. PoolSize is the concurrency, so
// no contender waits for a connection: the comparison is of the clients,
// not of pool contention.
func (e *env) goredis() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: e.addr, PoolSize: e.conc, ContextTimeoutEnabled: true})
	e.onClose(func() { _ = c.Close() })
	return c
}

// cache returns a cachecore Cache on a client of its own. OpTimeout is
// raised from its 250ms default (unless set) so that a scheduling stall of
// this shared machine fails no read: a failed read stops a run, as a
// failing contender would otherwise look fast. The peers' clients have no
// per-operation timeout at all.
func (e *env) cache(o cachecore.Options) (*cachecore.Cache, error) {
	o.Redis = e.goredis()
	if o.OpTimeout == 0 {
		o.OpTimeout = 2 * time.Second
	}
	o.Logger = quiet
	c, err := cachecore.New(o)
	if err != nil {
		return nil, err
	}
	e.onClose(func() { _ = c.Close() })
	return c, nil
}

// flush empties the server between measures (a throwaway server of ours).
func (e *env) flush(ctx context.Context) error {
	c := redis.NewClient(&redis.Options{Addr: e.addr})
	defer c.Close()
	return c.FlushAll(ctx).Err()
}
