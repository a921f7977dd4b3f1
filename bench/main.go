// Command bench measures cachescope beside the libraries and tools a Go
// team would use instead, on redis-server processes it starts itself, and
// prints one table: for each measure cachescope's figure, the best peer's,
// their ratio and the target. See BENCHMARKS.md ("Peers") and run.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"
)

func main() {
	conc := flag.Int("c", 50, "concurrent goroutines of the throughput measures")
	nrounds := flag.Int("rounds", 3, "rounds of each throughput measure")
	dur := flag.Duration("d", 1500*time.Millisecond, "duration of one contender in one round")
	flag.Parse()
	ctx := context.Background()
	e, err := startEnv(*conc)
	if err != nil {
		log.Fatal(err)
	}
	defer e.close()
	cs, err := hitContenders(ctx, e, 10_000)
	if err != nil {
		log.Fatal(err)
	}
	rates, err := rounds(ctx, cs, *conc, *nrounds, *dur)
	if err != nil {
		log.Fatal(err)
	}
	for i, c := range cs {
		fmt.Fprintf(os.Stdout, "%-28s %10.0f/s  %.2fx raw\n", c.name, median(rates[i]), pairedRatio(rates[i], rates[0]))
	}
}
