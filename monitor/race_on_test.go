//go:build race

package monitor

// raceEnabled reports a build with the race detector, which slows every
// goroutine several times: load tests relax what depends on speed.
const raceEnabled = true
