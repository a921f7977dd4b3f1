package cachecore

import "time"

// Temporary: replaced by limiter.go when the limiter branch merges.

type Algorithm int
type Limit struct {
	Algorithm Algorithm
	Rate      int
	Period    time.Duration
	Burst     int
}
type Result struct {
	Allowed                bool
	Remaining              int
	RetryAfter, ResetAfter time.Duration
}
