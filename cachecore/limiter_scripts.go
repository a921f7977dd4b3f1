package cachecore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// The limiter's decisions are Lua scripts because a decision is a
// read-modify-write of one key that must be atomic across every process
// sharing the limit, must use one clock (the server's), and must set the
// key's TTL in the same step as its value: the classic INCR-then-EXPIRE
// leaves a counter without a TTL forever when the client dies between the
// two commands.
//
// Every script reads TIME once and works in microseconds since
// 2020-01-01 00:00 UTC (limiterEpoch), which keeps the numbers well inside
// the 2^53 that a Lua double holds exactly. Every script returns
//
//	{allowed (0 or 1), remaining, retry_after_us, reset_after_us, now_us}
//
// as integers: counts are rounded down and durations up before they are
// returned, so Redis's truncation of Lua numbers to integers loses nothing
// and never shortens a RetryAfter. Stored values are written with
// string.format (%d, %.17g) because Lua's own number-to-string conversion
// keeps only 14 digits.
//
// A denial writes nothing. A peek (n == 0) asks about one unit and writes
// nothing. A RetryAfter is found by solving for the time the request fits
// and then checking it with the same function a later call will evaluate,
// stepping a microsecond at a time past any floating-point rounding, so
// retrying after it is admitted (if nobody else spent units meanwhile).

// limiterEpoch is the origin of the scripts' clock, as Unix seconds.
const limiterEpoch = 1577836800 // 2020-01-01T00:00:00Z

const limiterScriptClock = `
local t = redis.call('TIME')
local now = (tonumber(t[1]) - 1577836800) * 1000000 + tonumber(t[2])
local period = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local want = n
if want == 0 then want = 1 end
`

// limiterGCRAScript stores "<w>:<d>": at time w (µs) the theoretical
// arrival time was w+d. Keeping the offset d apart from the large w keeps
// full precision in the arithmetic, which only ever needs tat-now.
var limiterGCRAScript = redis.NewScript(limiterScriptClock + `
local interval = period / rate
local w, d = now, 0
local stored = redis.call('GET', KEYS[1])
if stored then
  local sw, sd = string.match(stored, '^(%d+):([0-9.e+-]+)$')
  w, d = tonumber(sw), tonumber(sd)
  if not w or not d or w > 1e16 or d ~= d or d < 0 or d > 1e300 then
    return redis.error_reply('ERR cachecore: unexpected rate limit state in ' .. KEYS[1])
  end
end
-- time (µs) still owed at time 'at': how far the arrival time is ahead
local function owed(at)
  local o = (w - at) + d
  if o < 0 then return 0 end
  return o
end
local eps = 1e-9
local base = owed(now)
if base / interval + want > burst + eps then
  local at = now + math.ceil(base - (burst - want) * interval)
  if at <= now then at = now + 1 end
  local i = 0
  while owed(at) / interval + want > burst + eps and i < 1000 do
    at = at + 1
    i = i + 1
  end
  local remaining = math.max(math.floor(burst - base / interval + eps), 0)
  return {0, remaining, at - now, math.ceil(base), now}
end
if n > 0 then
  base = base + n * interval
  redis.call('SET', KEYS[1], string.format('%d:%.17g', now, base), 'PX', math.ceil(base / 1000) + 1)
end
local remaining = math.max(math.floor(burst - base / interval + eps), 0)
return {1, remaining, 0, math.ceil(base), now}
`)

// limiterFixedScript stores "<window>:<count>"; the window number in the
// value (not just the TTL) decides which window a count belongs to, so the
// exact moment Redis expires the key never matters.
var limiterFixedScript = redis.NewScript(limiterScriptClock + `
local window = math.floor(now / period)
local left = (window + 1) * period - now
local count = 0
local stored = redis.call('GET', KEYS[1])
if stored then
  local sw, sc = string.match(stored, '^(%d+):(%d+)$')
  if not sw then
    return redis.error_reply('ERR cachecore: unexpected rate limit state in ' .. KEYS[1])
  end
  if tonumber(sw) == window then count = tonumber(sc) end
end
if count + want > rate then
  return {0, math.max(rate - count, 0), left, left, now}
end
if n > 0 then
  count = count + n
  redis.call('SET', KEYS[1], string.format('%d:%d', window, count), 'PX', math.ceil(left / 1000) + 1)
end
local reset = 0
if count > 0 then reset = left end
return {1, rate - count, 0, reset, now}
`)

// limiterSlidingScript stores "<window>:<current>:<previous>" and lives
// until the end of the next window, where it still serves as "previous".
var limiterSlidingScript = redis.NewScript(limiterScriptClock + `
local window = math.floor(now / period)
local start = window * period
local cur, prev = 0, 0
local stored = redis.call('GET', KEYS[1])
if stored then
  local sw, sc, sp = string.match(stored, '^(%d+):(%d+):(%d+)$')
  if not sw then
    return redis.error_reply('ERR cachecore: unexpected rate limit state in ' .. KEYS[1])
  end
  sw = tonumber(sw)
  if sw == window then
    cur, prev = tonumber(sc), tonumber(sp)
  elseif sw == window - 1 then
    prev = tonumber(sc)
  end
end
-- the weighted count at time 'at' if nothing more is spent; written as a
-- later call will compute it, so a RetryAfter checked here holds there
local function estimate(at)
  if at < start + period then
    return prev * (1 - (at - start) / period) + cur
  elseif at < start + 2 * period then
    return cur * (1 - (at - (window + 1) * period) / period) + 0
  end
  return 0
end
local function resetAfter()
  if cur > 0 then return start + 2 * period - now end
  if prev > 0 then return start + period - now end
  return 0
end
local eps = 1e-9
local est = estimate(now)
if est + want > rate + eps then
  local at
  if cur + want <= rate then
    at = start + math.ceil((1 - (rate - cur - want) / prev) * period)
  else
    at = start + period + math.ceil((1 - (rate - want) / cur) * period)
  end
  if at <= now then at = now + 1 end
  local i = 0
  while estimate(at) + want > rate + eps and i < 1000 do
    at = at + 1
    i = i + 1
  end
  return {0, math.max(math.floor(rate - est + eps), 0), at - now, resetAfter(), now}
end
if n > 0 then
  cur = cur + n
  est = est + n
  redis.call('SET', KEYS[1], string.format('%d:%d:%d', window, cur, prev), 'PX', math.ceil((start + 2 * period - now) / 1000) + 1)
end
return {1, math.max(math.floor(rate - est + eps), 0), 0, resetAfter(), now}
`)

func limiterScriptFor(a Algorithm) *redis.Script {
	switch a {
	case FixedWindow:
		return limiterFixedScript
	case SlidingWindow:
		return limiterSlidingScript
	}
	return limiterGCRAScript
}

var errLimiterReply = errors.New("unexpected reply from rate limit script")

// limiterCall is one decision to ask Redis for.
type limiterCall struct {
	ctx    context.Context
	script *redis.Script
	keys   []string
	args   []any

	// Set by a batch before done is closed.
	res  Result
	err  error
	done chan struct{}
}

func newLimiterCall(ctx context.Context, stateKey string, limit Limit, burst, n int) *limiterCall {
	return &limiterCall{
		ctx:    ctx,
		script: limiterScriptFor(limit.Algorithm),
		keys:   []string{stateKey},
		args:   []any{limit.Period.Microseconds(), limit.Rate, burst, n},
	}
}

// run asks Redis alone: EVALSHA, then EVAL if the server answers NOSCRIPT.
func (c *limiterCall) run(rdb redis.Scripter) (Result, error) {
	return parseLimiterReply(c.script.Run(c.ctx, rdb, c.keys, c.args...))
}

// parseLimiterReply checks a script's reply, which is untrusted.
func parseLimiterReply(cmd *redis.Cmd) (Result, error) {
	vals, err := cmd.Int64Slice()
	if err != nil {
		return Result{}, err
	}
	if len(vals) != 5 || vals[0] < 0 || vals[0] > 1 || vals[1] < 0 || vals[2] < 0 || vals[3] < 0 || vals[4] < 0 {
		return Result{}, fmt.Errorf("%w: %v", errLimiterReply, vals)
	}
	const maxMicros = int64(1<<63-1) / int64(time.Microsecond)
	if vals[2] > maxMicros || vals[3] > maxMicros || vals[1] > limiterMaxCount || vals[4] > maxMicros-limiterEpoch*1e6 {
		return Result{}, fmt.Errorf("%w: %v", errLimiterReply, vals)
	}
	return Result{
		Allowed:    vals[0] == 1,
		Remaining:  int(vals[1]),
		RetryAfter: time.Duration(vals[2]) * time.Microsecond,
		ResetAfter: time.Duration(vals[3]) * time.Microsecond,
		serverTime: time.UnixMicro(limiterEpoch*1e6 + vals[4]),
	}, nil
}
