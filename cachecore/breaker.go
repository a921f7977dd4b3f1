package cachecore

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// BreakerState is the state of the circuit breaker that protects callers
// from waiting on a failing Redis.
type BreakerState int32

const (
	// BreakerClosed: calls go to Redis.
	BreakerClosed BreakerState = iota
	// BreakerHalfOpen: the cooldown has passed; one probe call is let
	// through, and its outcome closes or reopens the breaker.
	BreakerHalfOpen
	// BreakerOpen: calls fail fast with ErrCircuitOpen.
	BreakerOpen
)

func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerHalfOpen:
		return "half-open"
	case BreakerOpen:
		return "open"
	}
	return "unknown"
}

// BreakerStats describes the circuit breaker.
type BreakerStats struct {
	State BreakerState `json:"state"`
	// Opens counts how many times the breaker opened.
	Opens int64 `json:"opens"`
	// ConsecutiveFailures is the current run of failed Redis calls.
	ConsecutiveFailures int64 `json:"consecutive_failures"`
}

// breaker is a consecutive-failure circuit breaker built on atomics, so the
// closed path (every call) costs two atomic loads.
type breaker struct {
	threshold int64 // <= 0 disables the breaker
	cooldown  time.Duration
	now       func() time.Time

	state    atomic.Int32
	failures atomic.Int64
	openedAt atomic.Int64 // unix nanoseconds
	probing  atomic.Bool
	opens    atomic.Int64
}

// allow reports whether a call may go to Redis, and whether it is the
// half-open probe whose outcome decides the breaker's state.
func (b *breaker) allow() (ok, probe bool) {
	if b.threshold <= 0 {
		return true, false
	}
	switch BreakerState(b.state.Load()) {
	case BreakerClosed:
		return true, false
	case BreakerOpen:
		if b.now().UnixNano()-b.openedAt.Load() < int64(b.cooldown) {
			return false, false
		}
		b.state.CompareAndSwap(int32(BreakerOpen), int32(BreakerHalfOpen))
	}
	if b.probing.CompareAndSwap(false, true) {
		return true, true
	}
	return false, false
}

// outcome of one call that allow let through.
type outcome int

const (
	outcomeSuccess outcome = iota
	outcomeFailure
	outcomeUnknown // the caller gave up: says nothing about Redis
)

func (b *breaker) record(o outcome, probe bool) {
	if b.threshold <= 0 {
		return
	}
	switch o {
	case outcomeSuccess:
		b.failures.Store(0)
		if probe || BreakerState(b.state.Load()) != BreakerClosed {
			b.state.Store(int32(BreakerClosed))
		}
	case outcomeFailure:
		n := b.failures.Add(1)
		if probe {
			b.trip()
		} else if n >= b.threshold && b.state.CompareAndSwap(int32(BreakerClosed), int32(BreakerOpen)) {
			b.openedAt.Store(b.now().UnixNano())
			b.opens.Add(1)
		}
	}
	if probe {
		b.probing.Store(false)
	}
}

func (b *breaker) trip() {
	b.openedAt.Store(b.now().UnixNano())
	b.state.Store(int32(BreakerOpen))
	b.opens.Add(1)
}

func (b *breaker) stats() BreakerStats {
	return BreakerStats{
		State:               BreakerState(b.state.Load()),
		Opens:               b.opens.Load(),
		ConsecutiveFailures: b.failures.Load(),
	}
}

// classify decides what a Redis call's error says about Redis' health. A
// reply error such as WRONGTYPE means Redis is up; connection errors,
// timeouts and replies saying the server cannot serve (LOADING, MASTERDOWN,
// CLUSTERDOWN, TRYAGAIN) are failures. A cancelled caller says nothing.
func classify(caller context.Context, err error) outcome {
	if err == nil || errors.Is(err, redis.Nil) {
		return outcomeSuccess
	}
	if caller.Err() != nil {
		return outcomeUnknown
	}
	var rerr redis.Error
	if errors.As(err, &rerr) && !isNetError(err) {
		msg := rerr.Error()
		for _, p := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN"} {
			if strings.HasPrefix(msg, p) {
				return outcomeFailure
			}
		}
		return outcomeSuccess
	}
	return outcomeFailure
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}
