package redisproc

import "testing"

func TestFreePortBounded(t *testing.T) {
	for i := 0; i < 20; i++ {
		p, err := freePort(55536, true)
		if err != nil {
			t.Fatal(err)
		}
		if p >= 55536 || p < 20000 {
			t.Fatalf("port %d outside [20000, 55536)", p)
		}
	}
}
