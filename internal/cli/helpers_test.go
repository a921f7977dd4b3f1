package cli

import (
	"context"
	"strconv"
	"testing"
	"time"
)

func itoa(n int) string { return strconv.Itoa(n) }

func contextWithTimeout(t *testing.T, ms int) (context.Context, context.CancelFunc) {
	t.Helper()
	return context.WithTimeout(context.Background(), time.Duration(ms)*time.Millisecond)
}
