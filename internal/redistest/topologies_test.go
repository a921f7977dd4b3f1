package redistest

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestSentinelGroupFailsOver(t *testing.T) {
	t.Parallel()
	g := StartSentinel(t, SentinelConfig{})
	if len(g.Servers) != 2 || len(g.Sentinels) != 3 {
		t.Fatalf("%d servers, %d sentinels", len(g.Servers), len(g.Sentinels))
	}
	ctx := context.Background()
	master, err := g.MasterAddr(ctx)
	if err != nil || master != g.Servers[0].Addr {
		t.Fatalf("master %q (%v), want %s", master, err, g.Servers[0].Addr)
	}
	rdb := redis.NewFailoverClient(g.FailoverOptions())
	t.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}

	promoted, err := g.Failover(30 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if promoted != g.Servers[1].Addr {
		t.Fatalf("promoted %s, want the replica %s", promoted, g.Servers[1].Addr)
	}
	// The failover client follows, and the data came along.
	eventually(t, "the client to follow the failover", func() bool {
		v, err := rdb.Get(ctx, "k").Result()
		return err == nil && v == "v" && rdb.Set(ctx, "k2", "v", 0).Err() == nil
	})

	// A crash of the new master: the sentinels promote the old one back.
	killed, err := g.KillMaster()
	if err != nil || killed != promoted {
		t.Fatalf("killed %q (%v), want %s", killed, err, promoted)
	}
	again, err := g.WaitNewMaster(killed, 60*time.Second)
	if err != nil || again != g.Servers[0].Addr {
		t.Fatalf("after the crash the master is %q (%v), want %s", again, err, g.Servers[0].Addr)
	}
	var pids []int
	for _, s := range append(g.Servers, g.Sentinels...) {
		pids = append(pids, s.Pid())
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pids)
}

func TestTLSServer(t *testing.T) {
	t.Parallel()
	s, files := StartTLS(t, "yes")
	ctx := context.Background()
	if err := s.Client(t).Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("TLS client with the CA and a client certificate: %v", err)
	}
	// No plain-text port.
	plain := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer plain.Close()
	if err := plain.Ping(ctx).Err(); err == nil {
		t.Fatal("the server answered plain text")
	}
	// Without a client certificate the server refuses (tls-auth-clients yes).
	cfg := files.ClientConfig()
	cfg.Certificates = nil
	noCert := redis.NewClient(&redis.Options{Addr: s.Addr, TLSConfig: cfg, MaxRetries: -1})
	defer noCert.Close()
	if err := noCert.Ping(ctx).Err(); err == nil {
		t.Fatal("the server accepted a client without a certificate")
	}
	// A client that does not trust the CA refuses the server.
	untrusting := redis.NewClient(&redis.Options{Addr: s.Addr, TLSConfig: &tls.Config{}, MaxRetries: -1})
	defer untrusting.Close()
	if err := untrusting.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("client without the CA: %v", err)
	}
}

func TestACLUsers(t *testing.T) {
	t.Parallel()
	s := StartACL(t)
	ctx := context.Background()
	admin := s.Client(t)
	if err := admin.HSet(ctx, "h", "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	ro := redis.NewClient(ACLOptions(s, ReadOnlyUser, ReadOnlyPassword))
	defer ro.Close()
	for name, err := range map[string]error{
		"INFO":         ro.Info(ctx).Err(),
		"SCAN":         ro.Scan(ctx, 0, "*", 10).Err(),
		"TYPE":         ro.Type(ctx, "h").Err(),
		"PTTL":         ro.PTTL(ctx, "h").Err(),
		"MEMORY USAGE": ro.MemoryUsage(ctx, "h").Err(),
		"HSCAN":        ro.HScan(ctx, "h", 0, "", 10).Err(),
		"SLOWLOG GET":  ro.SlowLogGet(ctx, 10).Err(),
		"PUBSUB":       ro.PubSubChannels(ctx, "*").Err(),
	} {
		if err != nil {
			t.Errorf("read-only user, %s: %v", name, err)
		}
	}
	for name, err := range map[string]error{
		"SET":        ro.Set(ctx, "k", "v", 0).Err(),
		"UNLINK":     ro.Unlink(ctx, "h").Err(),
		"EXPIRE":     ro.Expire(ctx, "h", time.Second).Err(),
		"PUBLISH":    ro.Publish(ctx, "c", "m").Err(),
		"CONFIG SET": ro.ConfigSet(ctx, "maxmemory", "1").Err(),
		"FLUSHALL":   ro.FlushAll(ctx).Err(),
	} {
		if err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
			t.Errorf("read-only user, %s: %v, want NOPERM", name, err)
		}
	}
	rw := redis.NewClient(ACLOptions(s, WriterUser, WriterPassword))
	defer rw.Close()
	if err := rw.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("writer: %v", err)
	}
	bad := redis.NewClient(ACLOptions(s, ReadOnlyUser, "wrong"))
	defer bad.Close()
	if err := bad.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("wrong password: %v", err)
	}
	var rerr redis.Error
	if err := bad.Ping(ctx).Err(); !errors.As(err, &rerr) {
		t.Fatalf("wrong password is not a server error: %T", err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
