// Command invalidatebench compares cachecore.InvalidatePattern with the
// shell pipeline people use instead,
//
//	redis-cli --scan --pattern P | xargs -n 1000 redis-cli unlink
//
// on the same throwaway redis-server in the same run: 1M keys, of which
// 500k match. It prints the time of each, per round, and the ratio of the
// medians.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/cachecore"
	"github.com/cachescope/cachescope/internal/redistest"
)

func main() {
	keys := flag.Int("keys", 1_000_000, "total keys; half of them match")
	rounds := flag.Int("rounds", 3, "rounds of each")
	flag.Parse()

	srv, err := redistest.NewServer(redistest.Config{Args: []string{"--enable-debug-command", "yes"}})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	rdb := redis.NewClient(srv.Options())
	defer rdb.Close()
	cache, err := cachecore.New(cachecore.Options{Redis: rdb, OpTimeout: 10 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	half := *keys / 2
	fill := func() {
		must(rdb.FlushAll(ctx).Err())
		must(rdb.Do(ctx, "DEBUG", "POPULATE", half, "match").Err())
		must(rdb.Do(ctx, "DEBUG", "POPULATE", *keys-half, "keep").Err())
	}
	check := func(what string) {
		if n := rdb.DBSize(ctx).Val(); n != int64(*keys-half) {
			log.Fatalf("%s left %d keys, want %d", what, n, *keys-half)
		}
	}
	port := fmt.Sprint(srv.Port)
	shell := fmt.Sprintf("redis-cli -p %s --scan --pattern 'match:*' | xargs -n 1000 redis-cli -p %s unlink >/dev/null", port, port)

	var cli, lib []time.Duration
	for r := 0; r < *rounds; r++ {
		fill()
		start := time.Now()
		cmd := exec.Command("sh", "-c", shell)
		cmd.Stderr = os.Stderr
		must(cmd.Run())
		cli = append(cli, time.Since(start))
		check("redis-cli pipeline")

		fill()
		start = time.Now()
		res, err := cache.InvalidatePattern(ctx, "match:*", cachecore.InvalidateOptions{})
		must(err)
		lib = append(lib, time.Since(start))
		check("InvalidatePattern")
		if res.Deleted != int64(half) {
			log.Fatalf("InvalidatePattern deleted %d, want %d", res.Deleted, half)
		}
		fmt.Printf("round %d: redis-cli pipeline %v, InvalidatePattern %v\n", r+1, cli[r].Round(time.Millisecond), lib[r].Round(time.Millisecond))
	}
	mc, ml := median(cli), median(lib)
	fmt.Printf("median: redis-cli pipeline %v, InvalidatePattern %v, speedup %.2fx (%d of %d keys)\n",
		mc.Round(time.Millisecond), ml.Round(time.Millisecond), float64(mc)/float64(ml), half, *keys)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
