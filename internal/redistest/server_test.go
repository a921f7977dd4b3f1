package redistest

import (
	"context"
	"testing"
	"time"
)

func TestStartRestartPause(t *testing.T) {
	s := Start(t, "--maxmemory", "10mb")
	ctx := context.Background()
	c := s.Client(t)
	if got, err := c.ConfigGet(ctx, "maxmemory").Result(); err != nil || got["maxmemory"] != "10485760" {
		t.Fatalf("extra args not applied: %v %v", got, err)
	}
	if got, _ := c.ConfigGet(ctx, "save").Result(); got["save"] != "" {
		t.Fatalf("persistence should be off, save=%q", got["save"])
	}
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("ping succeeded against a stopped server")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Fatalf("restarted server should be empty: n=%d err=%v", n, err)
	}

	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := c.Ping(tctx).Err(); err == nil {
		t.Fatal("ping answered by a paused server")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("context deadline not honoured: ping took %v", d)
	}
	if err := s.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("ping after resume: %v", err)
	}
}

func TestTwoServersDistinctPorts(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Port == b.Port {
		t.Fatalf("two servers share port %d", a.Port)
	}
}
