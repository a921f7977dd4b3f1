//go:build !race

package monitor

// raceEnabled reports a build with the race detector.
const raceEnabled = false
