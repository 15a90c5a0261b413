package ststest

import (
	"sync"
	"time"
)

// Clock is real time moved by an offset the test controls, for a local STS or a sidecar whose
// credentials a test expires or brings into a refresh window. It is safe for concurrent use; the
// zero value reads real time.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is real time plus the offset: pass it as a server's clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Shift is how far the clock has been moved.
func (c *Clock) Shift() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// Set moves the clock so that it reads t now.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = time.Until(t)
}
