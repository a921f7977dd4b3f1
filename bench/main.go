// Command bench measures cachescope beside the libraries and tools a Go
// team would use instead, on redis-server processes it starts itself, and
// prints one table: for each measure cachescope's figure, the best peer's,
// their ratio and the target. See BENCHMARKS.md ("Peers") and run.sh.
//
//	bench [-c 50] [-rounds 3] [-d 1.5s] [-only 1,2,...] [-markdown FILE]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

type measure struct {
	id  string
	run func(context.Context, config) ([]row, error)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == stampedeChildCmd {
		stampedeChild(os.Args[2:])
		return
	}
	conc := flag.Int("c", 50, "concurrent goroutines of the throughput measures")
	nrounds := flag.Int("rounds", 3, "rounds of each throughput measure")
	d := flag.Duration("d", 1500*time.Millisecond, "duration of one contender in one round")
	only := flag.String("only", "", "comma-separated measure numbers to run (default: all)")
	md := flag.String("markdown", "", "also write the table as Markdown to this file")
	root := flag.String("root", "..", "the main module's directory")
	flag.Parse()

	self, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	absRoot, _ := filepath.Abs(*root)
	cfg := config{conc: *conc, rounds: *nrounds, d: *d, self: self, root: absRoot}
	measures := []measure{
		{"1", measureHits}, {"2", measureNear}, {"3", measureStampede}, {"4", measureBulk},
		{"5", measureLimiter}, {"6", measureInvalidation}, {"7", measureDashboard},
		{"8", measureExplorer}, {"9", measureTap}, {"10", measureRender},
	}
	want := strings.Split(*only, ",")
	ctx := context.Background()
	header := machine()
	fmt.Println(header)
	start := time.Now()
	var rows []row
	failed := false
	for _, m := range measures {
		if *only != "" && !slices.Contains(want, m.id) {
			continue
		}
		t0 := time.Now()
		rs, err := m.run(ctx, cfg)
		if err != nil {
			log.Printf("measure %s failed: %v", m.id, err)
			failed = true
			rows = append(rows, row{measure: "measure " + m.id, ours: "FAILED: " + err.Error(), met: "NO"})
			continue
		}
		log.Printf("measure %s done in %v", m.id, time.Since(t0).Round(time.Second))
		rows = append(rows, rs...)
	}
	fmt.Println()
	printTable(os.Stdout, rows)
	fmt.Printf("\ntotal %v\n", time.Since(start).Round(time.Second))
	if *md != "" {
		f, err := os.Create(*md)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(f, "%s\n\n", header)
		printMarkdown(f, rows)
		for _, r := range rows {
			if r.note != "" {
				fmt.Fprintf(f, "\n- %s: %s", r.measure, r.note)
			}
		}
		fmt.Fprintf(f, "\n\ntotal %v\n", time.Since(start).Round(time.Second))
		_ = f.Close()
	}
	if failed {
		os.Exit(1)
	}
}

// machine describes where the run happens.
func machine() string {
	cpu := "cpu unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	server := "redis-server unknown"
	if out, err := exec.Command("redis-server", "--version").Output(); err == nil {
		server = strings.TrimSpace(string(out))
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = ", load average " + strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return fmt.Sprintf("machine: %d CPUs (%s), GOMAXPROCS %d, %s%s\n%s", runtime.NumCPU(), cpu, runtime.GOMAXPROCS(0), runtime.Version(), load, server)
}
