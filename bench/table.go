package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one line of the table: cachescope's figure beside the best peer's.
// ratio is always "times better than the peer" (a rate over a rate, or a
// time under a time); 0 when there is no peer.
type row struct {
	measure string
	ours    string
	peer    string // name and figure; "" when there is no peer
	ratio   float64
	target  string
	met     string // "yes", "NO", or "-" (no target)
	note    string
}

func verdict(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tcachescope\tbest peer\tratio\ttarget\tmet?")
	fmt.Fprintln(tw, "-------\t----------\t---------\t-----\t------\t----")
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r.cells(), "\t"))
	}
	_ = tw.Flush()
	var notes []string
	for _, r := range rows {
		if r.note != "" {
			notes = append(notes, fmt.Sprintf("- %s: %s", r.measure, r.note))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "notes:")
		fmt.Fprintln(w, strings.Join(notes, "\n"))
	}
}

// printMarkdown prints the same table for BENCHMARKS.md.
func printMarkdown(w io.Writer, rows []row) {
	fmt.Fprintln(w, "| measure | cachescope | best peer | ratio | target | met? |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|")
	for _, r := range rows {
		cells := r.cells()
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, "|", "\\|") // a shell pipe in a peer's name
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}

// cells are the row's columns as printed: measure, ours, peer, ratio,
// target, met ("-" where there is no peer or ratio).
func (r row) cells() []string {
	ratio, peer := "-", r.peer
	if r.ratio > 0 {
		ratio = fmt.Sprintf("%.2fx", r.ratio)
	}
	if peer == "" {
		peer = "-"
	}
	return []string{r.measure, r.ours, peer, ratio, r.target, r.met}
}

func perSec(x float64) string {
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%.2fM/s", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.1fk/s", x/1e3)
	}
	return fmt.Sprintf("%.0f/s", x)
}

func dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.0f µs", float64(d)/1e3)
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// best returns the index of the highest median rate among rates[from:].
func best(rates [][]float64, from int) int {
	bi, bv := -1, math.Inf(-1)
	for i := from; i < len(rates); i++ {
		if m := median(rates[i]); m > bv {
			bi, bv = i, m
		}
	}
	return bi
}
