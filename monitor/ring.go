package monitor

// ring is a fixed-capacity circular buffer: pushing beyond its capacity
// overwrites the oldest element, so memory stays bounded however long the
// poller runs. It is not safe for concurrent use; the poller owns it and
// hands out copies.
type ring[T any] struct {
	buf   []T
	start int // index of the oldest element
	n     int // number of elements held
}

func newRing[T any](capacity int) *ring[T] {
	if capacity < 1 {
		capacity = 1
	}
	return &ring[T]{buf: make([]T, capacity)}
}

// push appends v, dropping the oldest element when full.
func (r *ring[T]) push(v T) {
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = v
		r.n++
		return
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % len(r.buf)
}

// len returns the number of elements held.
func (r *ring[T]) len() int { return r.n }

// cap returns the capacity.
func (r *ring[T]) cap() int { return len(r.buf) }

// at returns the i-th element, oldest first (0 <= i < len).
func (r *ring[T]) at(i int) T { return r.buf[(r.start+i)%len(r.buf)] }

// last returns the newest element and whether there is one.
func (r *ring[T]) last() (T, bool) {
	if r.n == 0 {
		var zero T
		return zero, false
	}
	return r.at(r.n - 1), true
}

// slice returns a new slice with the elements, oldest first.
func (r *ring[T]) slice() []T {
	out := make([]T, r.n)
	for i := range out {
		out[i] = r.at(i)
	}
	return out
}

// reset empties the ring, keeping its capacity.
func (r *ring[T]) reset() {
	clear(r.buf)
	r.start, r.n = 0, 0
}
