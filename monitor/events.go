package monitor

// maxEvents is how many topology events snapshots carry.
const maxEvents = 32

// eventLog keeps the most recent topology events. Each add makes a new
// slice, so the slices handed out in snapshots never change.
type eventLog struct {
	events []TopologyEvent
}

func (l *eventLog) add(e TopologyEvent) {
	keep := l.events
	if len(keep) >= maxEvents {
		keep = keep[len(keep)-maxEvents+1:]
	}
	next := make([]TopologyEvent, 0, len(keep)+1)
	next = append(next, keep...)
	l.events = append(next, e)
}

// list returns the events, oldest first; the caller must not modify them.
func (l *eventLog) list() []TopologyEvent { return l.events }
