package redisproc

import (
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
)

// freePort returns a loopback TCP port that is free right now. With max > 0
// the port is below max; with bus it also checks port+10000, which a cluster
// node uses for its bus.
func freePort(max int, bus bool) (int, error) {
	if max == 0 && !bus {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	if max == 0 {
		max = 55536
	}
	const min = 20000
	for i := 0; i < 200; i++ {
		p := min + rand.IntN(max-min)
		if !portFree(p) || (bus && !portFree(p+10000)) {
			continue
		}
		return p, nil
	}
	return 0, errors.New("redistest: no free port found")
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}
