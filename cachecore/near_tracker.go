package cachecore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// tracker owns the near cache's tracking connection: it dials with the
// client's own dialer (TLS, Sentinel resolution) and credentials, turns on
// RESP3 and broadcast tracking of the cache's prefix, and reads Redis'
// invalidation pushes until the connection is lost; then the near cache is
// flushed and the tracker dials again, with backoff.
type tracker struct {
	opts   *redis.Options
	near   *nearCache
	logger *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	conn   net.Conn // the connection being dialed or tracking, for close
	live   net.Conn // conn once tracking is on: the only one sync writes to
	connID int64

	writeMu sync.Mutex // PINGs come from the pinger and from sync
	syncMu  sync.Mutex
	syncs   map[string]chan struct{} // PING tokens awaited by sync
}

// Timings of the tracking connection; variables so tests can shorten them.
var (
	trackerPingEvery  = 2 * time.Second
	trackerDialTimout = 5 * time.Second
	trackerMaxBackoff = 5 * time.Second
)

// errTrackingUnsupported marks a server that cannot track (no RESP3, no
// CLIENT TRACKING): the near cache says "unsupported", not "down".
var errTrackingUnsupported = errors.New("tracking unsupported")

func startTracker(opts *redis.Options, near *nearCache, logger *slog.Logger) *tracker {
	ctx, cancel := context.WithCancel(context.Background())
	t := &tracker{opts: opts, near: near, logger: logger, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go t.run()
	return t
}

func (t *tracker) close() {
	t.cancel()
	t.mu.Lock()
	if t.conn != nil {
		_ = t.conn.Close()
	}
	t.mu.Unlock()
	<-t.done
}

// run connects, tracks until the connection is lost, and reconnects.
func (t *tracker) run() {
	defer close(t.done)
	backoff := 50 * time.Millisecond
	for t.ctx.Err() == nil {
		conn, rd, err := t.connect()
		if err != nil {
			state := nearDown
			if errors.Is(err, errTrackingUnsupported) {
				state = nearUnsupported
			}
			t.near.trackingDown(state, err.Error())
			select {
			case <-time.After(backoff):
			case <-t.ctx.Done():
				return
			}
			backoff = min(2*backoff, trackerMaxBackoff)
			if state == nearUnsupported {
				backoff = trackerMaxBackoff
			}
			continue
		}
		backoff = 50 * time.Millisecond
		t.near.trackingUp()
		err = t.track(conn, rd)
		_ = conn.Close()
		if t.ctx.Err() != nil {
			return
		}
		t.near.trackingDown(nearDown, "tracking connection lost: "+err.Error())
		t.logger.Warn("cachecore: near cache flushed: tracking connection lost", "err", err)
	}
}

// connect dials and turns tracking on.
func (t *tracker) connect() (net.Conn, *bufio.Reader, error) {
	ctx, cancel := context.WithTimeout(t.ctx, trackerDialTimout)
	defer cancel()
	conn, err := t.opts.Dialer(ctx, t.opts.Network, t.opts.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dial: %w", err)
	}
	t.mu.Lock()
	t.conn = conn
	t.mu.Unlock()
	if t.ctx.Err() != nil { // closed while dialing
		_ = conn.Close()
		return nil, nil, t.ctx.Err()
	}
	dl, _ := ctx.Deadline()
	_ = conn.SetDeadline(dl)
	rd := bufio.NewReaderSize(conn, 64<<10)
	fail := func(err error) (net.Conn, *bufio.Reader, error) {
		_ = conn.Close()
		return nil, nil, err
	}

	hello := []string{"HELLO", "3"}
	user, pass, err := t.credentials(ctx)
	if err != nil {
		return fail(fmt.Errorf("credentials: %w", err))
	}
	if pass != "" {
		if user == "" {
			user = "default"
		}
		hello = append(hello, "AUTH", user, pass)
	}
	hello = append(hello, "SETNAME", "cachecore-near")
	reply, err := t.roundTrip(conn, rd, hello...)
	if err != nil {
		return fail(fmt.Errorf("HELLO 3: %w", err))
	}
	var rerr respError
	if errors.As(asError(reply), &rerr) {
		if strings.Contains(strings.ToLower(string(rerr)), "unknown command") || strings.HasPrefix(string(rerr), "NOPROTO") {
			return fail(fmt.Errorf("%w: the server does not speak RESP3 (Redis 6 or later is needed): %s", errTrackingUnsupported, firstLine(string(rerr))))
		}
		return fail(fmt.Errorf("HELLO 3: %s", firstLine(string(rerr))))
	}
	id := helloClientID(reply)

	tracking := []string{"CLIENT", "TRACKING", "ON", "BCAST"}
	if t.near.prefix != "" {
		tracking = append(tracking, "PREFIX", t.near.prefix)
	}
	reply, err = t.roundTrip(conn, rd, tracking...)
	if err != nil {
		return fail(fmt.Errorf("CLIENT TRACKING: %w", err))
	}
	if e := asError(reply); e != nil {
		return fail(fmt.Errorf("%w: CLIENT TRACKING refused: %s", errTrackingUnsupported, firstLine(e.Error())))
	}
	_ = conn.SetDeadline(time.Time{})
	t.mu.Lock()
	t.connID, t.live = id, conn
	t.mu.Unlock()
	return conn, rd, nil
}

// track reads pushes until the connection fails or the tracker closes. A
// PING every trackerPingEvery, and a read deadline of three of them, find
// a connection that died without a word (a host gone, a partition).
func (t *tracker) track(conn net.Conn, rd *bufio.Reader) error {
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(trackerPingEvery)
		defer tick.Stop()
		ping := appendRespCommand(nil, "PING")
		for {
			select {
			case <-tick.C:
				if err := t.write(conn, ping); err != nil {
					_ = conn.Close()
					return
				}
			case <-stop:
				return
			}
		}
	}()
	for {
		_ = conn.SetReadDeadline(time.Now().Add(3 * trackerPingEvery))
		v, err := readResp(rd)
		if err != nil {
			return err
		}
		push, ok := v.(respPush)
		if !ok { // a PONG, or an error reply to a PING
			if token, ok := v.(string); ok {
				t.synced(token)
			}
			continue
		}
		if len(push) < 2 {
			continue
		}
		if kind, _ := push[0].(string); kind != "invalidate" {
			continue
		}
		switch keys := push[1].(type) {
		case nil: // FLUSHALL / FLUSHDB: every key is gone
			t.near.flush()
		case []any:
			names := make([]string, 0, len(keys))
			for _, k := range keys {
				if s, ok := k.(string); ok {
					names = append(names, s)
				}
			}
			t.near.invalidated(names)
		}
	}
}

func (t *tracker) write(conn net.Conn, b []byte) error {
	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	_ = conn.SetWriteDeadline(time.Now().Add(trackerPingEvery))
	_, err := conn.Write(b)
	return err
}

// sync returns once every invalidation Redis queued for this connection
// before now has been applied: Redis answers a PING after the pushes
// queued before it. It is false if the connection is down or ctx ends.
func (t *tracker) sync(ctx context.Context) bool {
	t.mu.Lock()
	conn := t.live // never one still in its handshake, whose replies it would take
	t.mu.Unlock()
	if conn == nil {
		return false
	}
	token := "sync-" + newToken()
	ch := make(chan struct{})
	t.syncMu.Lock()
	if t.syncs == nil {
		t.syncs = make(map[string]chan struct{})
	}
	t.syncs[token] = ch
	t.syncMu.Unlock()
	defer func() {
		t.syncMu.Lock()
		delete(t.syncs, token)
		t.syncMu.Unlock()
	}()
	if t.write(conn, appendRespCommand(nil, "PING", token)) != nil {
		return false
	}
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}

func (t *tracker) synced(token string) {
	t.syncMu.Lock()
	ch, ok := t.syncs[token]
	delete(t.syncs, token)
	t.syncMu.Unlock()
	if ok {
		close(ch)
	}
}

// roundTrip sends one command and reads its reply, skipping pushes.
func (t *tracker) roundTrip(conn net.Conn, rd *bufio.Reader, args ...string) (any, error) {
	if _, err := conn.Write(appendRespCommand(nil, args...)); err != nil {
		return nil, err
	}
	for {
		v, err := readResp(rd)
		if err != nil {
			return nil, err
		}
		if _, push := v.(respPush); !push {
			return v, nil
		}
	}
}

func (t *tracker) credentials(ctx context.Context) (user, pass string, err error) {
	switch {
	case t.opts.CredentialsProviderContext != nil:
		return t.opts.CredentialsProviderContext(ctx)
	case t.opts.CredentialsProvider != nil:
		user, pass = t.opts.CredentialsProvider()
		return user, pass, nil
	}
	return t.opts.Username, t.opts.Password, nil
}

// clientID returns the server's id of the tracking connection (0 if not
// connected); tests use it to kill the connection.
func (t *tracker) clientID() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.connID
}

func asError(v any) error {
	if e, ok := v.(respError); ok {
		return e
	}
	return nil
}

// helloClientID finds "id" in HELLO's reply (a map read as key/value
// pairs).
func helloClientID(v any) int64 {
	items, _ := v.([]any)
	for i := 0; i+1 < len(items); i += 2 {
		if k, _ := items[i].(string); k == "id" {
			id, _ := items[i+1].(int64)
			return id
		}
	}
	return 0
}

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
