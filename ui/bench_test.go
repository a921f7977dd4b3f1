package ui

import "testing"

// BenchmarkView renders each view at 120x40 with a full 15-minute history
// (900 points per series), the dashboard's worst steady case.
func BenchmarkView(b *testing.B) {
	snap := fakeSnapshot(900)
	for i, name := range []string{"overview", "slowlog"} {
		b.Run(name, func(b *testing.B) {
			a := newTestApp(b, 120, 40)
			a.Update(SnapshotMsg{Snap: snap})
			a.active = i
			b.ReportAllocs()
			for b.Loop() {
				_ = a.View()
			}
		})
	}
}
