package monitor

import (
	"testing"

	"github.com/redis/go-redis/v9"
)

// Every poller of one failover client shares its dial hook: monitor.Sample
// makes a poller per call, and a hook added each time would make every
// command of the application's client walk a longer chain.
func TestPollersOfOneFailoverClientShareTheirHook(t *testing.T) {
	fc := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{"127.0.0.1:1"}})
	t.Cleanup(func() { _ = fc.Close() })
	p1, p2 := NewPoller(fc, Options{}), NewPoller(fc, Options{})
	if p1.node.tracker == nil || p1.node.tracker != p2.node.tracker {
		t.Fatalf("trackers %p and %p: want one per client", p1.node.tracker, p2.node.tracker)
	}
	other := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{"127.0.0.1:1"}})
	t.Cleanup(func() { _ = other.Close() })
	if NewPoller(other, Options{}).node.tracker == p1.node.tracker {
		t.Fatal("two clients share a tracker")
	}
}
