package cachecore

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/cachescope/cachescope/internal/redistest"
)

// BenchmarkLimiterAllow measures Allow decisions per second for each
// algorithm against a real redis-server, from about 50 goroutines over
// 1000 keys (mostly allowed), with batching on (the default) and off. The
// comparison with redis_rate is in bench/.
func BenchmarkLimiterAllow(b *testing.B) {
	srv := redistest.Start(b)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("bench:%d", i)
	}
	for _, a := range limiterAlgorithms {
		for _, inFlight := range []int{0, -1} {
			name := a.String()
			if inFlight < 0 {
				name += "/unbatched"
			}
			b.Run(name, func(b *testing.B) {
				l := NewLimiter(srv.Client(b), LimiterOptions{MaxInFlight: inFlight})
				limit := Limit{Algorithm: a, Rate: 1000, Period: 1e9}
				var next atomic.Uint64
				b.SetParallelism(max(1, 50/runtime.GOMAXPROCS(0)))
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := l.Allow(context.Background(), keys[next.Add(1)%uint64(len(keys))], limit); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
			})
		}
	}
}
