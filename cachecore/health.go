package cachecore

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// Health is the result of a health check.
type Health struct {
	// Status is "up" or "down".
	Status string `json:"status"`
	// Latency is the PING round trip.
	Latency time.Duration `json:"latency_ns"`
	// Error says why Redis is down; "" when up.
	Error string `json:"error,omitempty"`
	// Breaker is the circuit breaker's state ("closed", "half-open",
	// "open").
	Breaker string `json:"breaker"`
	// Near is the near cache's state ("off", "starting", "on", "down",
	// "unsupported"); NearReason says why it is not on.
	Near       string `json:"near"`
	NearReason string `json:"near_reason,omitempty"`
}

// healthTimeout bounds the PING of a health check.
const healthTimeout = time.Second

// Health pings Redis with a short timeout (1s, or the caller's deadline if
// sooner). It bypasses the circuit breaker, so it reports Redis' own state.
func (c *Cache) Health(ctx context.Context) Health {
	pctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	start := time.Now()
	err := c.rdb.Ping(pctx).Err()
	h := Health{Status: "up", Latency: time.Since(start), Breaker: c.breaker.stats().State.String(), Near: nearOff}
	if c.near != nil {
		ns := c.near.stats()
		h.Near, h.NearReason = ns.State, ns.Reason
	}
	if err != nil {
		h.Status, h.Error = "down", err.Error()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			h.Error = diagnoseTimeout(c.rdb)
		}
	}
	return h
}

// diagnoseTimeout explains a PING that ran out of time. go-redis retries a
// refused connection until the deadline and then reports only the
// deadline, which hides the real cause; a direct dial tells "connection
// refused" (the server is gone) from a server that accepts connections but
// does not answer (hung or overloaded).
func diagnoseTimeout(rdb redis.UniversalClient) string {
	msg := "no reply to PING within " + healthTimeout.String()
	cl, ok := rdb.(*redis.Client)
	if !ok || cl.Options().Network == "unix" {
		return msg
	}
	conn, err := net.DialTimeout("tcp", cl.Options().Addr, 200*time.Millisecond)
	if err != nil {
		return err.Error()
	}
	_ = conn.Close()
	return msg + " (the server accepts connections but does not answer)"
}
