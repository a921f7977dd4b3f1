package ui

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// fmtBytes renders a byte count with binary units: "512 B", "1.5 KiB".
func fmtBytes(n float64) string {
	if math.IsNaN(n) {
		return "-"
	}
	const unit = 1024
	if math.Abs(n) < unit {
		return fmt.Sprintf("%.0f B", n)
	}
	units := "KMGTPE"
	v := n / unit
	i := 0
	for math.Abs(v) >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	if math.Abs(v) >= 100 {
		return fmt.Sprintf("%.0f %ciB", v, units[i])
	}
	return fmt.Sprintf("%.1f %ciB", v, units[i])
}

// fmtCount renders a count compactly: 999, 1,234, 12.3k, 4.5M, 1.2G.
func fmtCount(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	a := math.Abs(v)
	switch {
	case a < 10 && v != math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a < 10_000:
		return groupThousands(int64(math.Round(v)))
	case a < 1e6:
		return fmt.Sprintf("%.1fk", v/1e3)
	case a < 1e9:
		return fmt.Sprintf("%.1fM", v/1e6)
	}
	return fmt.Sprintf("%.1fG", v/1e9)
}

// groupThousands renders n with comma separators: 1234567 -> 1,234,567.
func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// fmtPercent renders a ratio (0..1) as a percentage.
func fmtPercent(r float64) string {
	if math.IsNaN(r) {
		return "-"
	}
	if r >= 0.9995 || r == 0 {
		return fmt.Sprintf("%.0f%%", r*100)
	}
	return fmt.Sprintf("%.1f%%", r*100)
}

// fmtDuration renders a duration at a precision that suits its size:
// 210µs, 4.5ms, 12s, 3m 20s, 5h 12m, 3d 4h.
func fmtDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + fmtDuration(-d)
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

// fmtMicros renders a latency given in microseconds.
func fmtMicros(us float64) string {
	if math.IsNaN(us) {
		return "-"
	}
	return fmtDuration(time.Duration(us * float64(time.Microsecond)))
}

// fmtAge renders how long ago something happened, to a tenth of a second
// under ten seconds.
func fmtAge(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.1fs", max(0, d.Seconds()))
	}
	return fmtDuration(d.Truncate(time.Second))
}
