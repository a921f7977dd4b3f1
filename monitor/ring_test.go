package monitor

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestRingWrapsAroundAndStaysBounded(t *testing.T) {
	r := newRing[int](4)
	if _, ok := r.last(); ok || r.len() != 0 || len(r.slice()) != 0 {
		t.Fatal("new ring not empty")
	}
	for i := 1; i <= 3; i++ {
		r.push(i)
	}
	if got := r.slice(); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("before wrap: %v", got)
	}
	for i := 4; i <= 1000; i++ {
		r.push(i)
		if r.len() > 4 || len(r.buf) != 4 {
			t.Fatalf("grew to len %d, buf %d", r.len(), len(r.buf))
		}
	}
	if got := r.slice(); !slices.Equal(got, []int{997, 998, 999, 1000}) {
		t.Fatalf("after wrap: %v", got)
	}
	if v, ok := r.last(); !ok || v != 1000 || r.at(0) != 997 || r.cap() != 4 {
		t.Fatalf("last %v %v, at(0) %v", v, ok, r.at(0))
	}
	// A slice is a copy: later pushes do not change it.
	s := r.slice()
	r.push(1001)
	if !slices.Equal(s, []int{997, 998, 999, 1000}) {
		t.Fatalf("slice changed under a push: %v", s)
	}
	r.reset()
	if r.len() != 0 || r.cap() != 4 {
		t.Fatalf("reset: len %d cap %d", r.len(), r.cap())
	}
	r.push(7)
	if got := r.slice(); !slices.Equal(got, []int{7}) {
		t.Fatalf("after reset: %v", got)
	}
	if newRing[int](0).cap() != 1 {
		t.Fatal("zero capacity not raised to 1")
	}
}

func TestHistoryIsBoundedAndAligned(t *testing.T) {
	r := newRing[point](900)
	t0 := time.Unix(0, 0)
	for i := 0; i < 5000; i++ {
		p := point{time: t0.Add(time.Duration(i) * time.Second), ops: float64(i), hitRate: nan, used: float64(i * 2)}
		r.push(p)
	}
	h := historyOf(r)
	if h.Len() != 900 {
		t.Fatalf("history len %d, want 900", h.Len())
	}
	cols := [][]float64{h.OpsPerSec, h.HitRate, h.HitsPerSec, h.MissesPerSec, h.UsedMemory, h.MaxMemory, h.EvictedPerSec,
		h.ExpiredPerSec, h.Clients, h.BlockedClients, h.NetInPerSec, h.NetOutPerSec, h.CPUPercent, h.Keys, h.RTTMillis}
	for i, c := range cols {
		if len(c) != 900 {
			t.Fatalf("column %d has %d points", i, len(c))
		}
	}
	if h.OpsPerSec[0] != 4100 || h.OpsPerSec[899] != 4999 || h.UsedMemory[899] != 9998 || !h.Times[899].Equal(t0.Add(4999*time.Second)) {
		t.Fatalf("oldest %v newest %v", h.OpsPerSec[0], h.OpsPerSec[899])
	}
	if !math.IsNaN(h.HitRate[10]) {
		t.Fatal("NaN lost")
	}
}
