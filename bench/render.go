package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// measureRender is measure 10: View() of every dashboard view at 200x60 in
// its heaviest steady state (full history, 10k rows, a full tap ring). The
// ui package's internals are unexported, so this runs its BenchmarkView in
// the main module and reads the results.
func measureRender(ctx context.Context, cfg config) ([]row, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "./ui", "-run", "^$", "-bench", "^BenchmarkView$/200x60", "-benchtime", "200x", "-benchmem", "-count", "3")
	cmd.Dir = cfg.root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test ./ui: %v: %s", err, lastLine(out))
	}
	type result struct {
		ns            []float64
		bytes, allocs float64
	}
	results := map[string]*result{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// BenchmarkView/200x60/Overview-2  200  3243702 ns/op  610778 B/op  3774 allocs/op
		if len(f) < 8 || !strings.HasPrefix(f[0], "BenchmarkView/200x60/") {
			continue
		}
		name := strings.TrimPrefix(f[0], "BenchmarkView/200x60/")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i]
		}
		ns, _ := strconv.ParseFloat(f[2], 64)
		b, _ := strconv.ParseFloat(f[4], 64)
		a, _ := strconv.ParseFloat(f[6], 64)
		r := results[name]
		if r == nil {
			r = &result{}
			results[name] = r
			order = append(order, name)
		}
		r.ns = append(r.ns, ns)
		r.bytes, r.allocs = b, a
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("no BenchmarkView/200x60 results in: %s", lastLine(out))
	}
	var rows []row
	for _, name := range order {
		r := results[name]
		t := time.Duration(median(r.ns))
		rows = append(rows, row{
			measure: fmt.Sprintf("10. render %s at 200x60 (full history, 10k rows)", name),
			ours:    fmt.Sprintf("%s, %.0f KB and %.0f allocations a frame", dur(t), r.bytes/1000, r.allocs),
			target:  "< 5 ms",
			met:     verdict(t < 5*time.Millisecond),
		})
	}
	return rows, nil
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
