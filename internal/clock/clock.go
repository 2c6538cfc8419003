// Package clock lets services read the time, and wait, through a value that
// tests can move forward: session expiry, lockouts, token expiry and the
// waits between webhook retries all follow it, so no test sleeps for real.
package clock

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock returns the current time in UTC and waits on it.
type Clock interface {
	Now() time.Time
	// Sleep waits d, or until ctx ends; it reports whether the whole
	// wait passed.
	Sleep(ctx context.Context, d time.Duration) bool
}

// System is the real clock.
type System struct{}

// Now returns time.Now in UTC, truncated to microseconds so that values
// survive a round trip through SQLite text unchanged.
func (System) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Sleep waits d of real time, or until ctx ends.
func (System) Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Fake is a settable clock for tests. Sleep returns once Advance has moved
// the time past its deadline.
type Fake struct {
	mu      sync.Mutex
	t       time.Time
	waiters []waiter
}

type waiter struct {
	until time.Time
	done  chan struct{}
}

// NewFake returns a Fake set to t.
func NewFake(t time.Time) *Fake { return &Fake{t: t.UTC()} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Advance moves the fake time forward by d, ending the sleeps it passes.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if !w.until.After(f.t) {
			close(w.done)
		} else {
			kept = append(kept, w)
		}
	}
	f.waiters = kept
}

// Sleep waits until the fake time has advanced by d, or until ctx ends.
func (f *Fake) Sleep(ctx context.Context, d time.Duration) bool {
	f.mu.Lock()
	w := waiter{until: f.t.Add(d), done: make(chan struct{})}
	if d <= 0 {
		f.mu.Unlock()
		return ctx.Err() == nil
	}
	f.waiters = append(f.waiters, w)
	f.mu.Unlock()
	select {
	case <-w.done:
		return true
	case <-ctx.Done():
		f.mu.Lock()
		for i, o := range f.waiters {
			if o.done == w.done {
				f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
				break
			}
		}
		f.mu.Unlock()
		return false
	}
}

// Sleepers returns the durations still to pass, soonest first, of the
// sleeps under way: tests wait for a goroutine to be asleep before they
// advance the time past its wake-up.
func (f *Fake) Sleepers() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]time.Duration, len(f.waiters))
	for i, w := range f.waiters {
		out[i] = w.until.Sub(f.t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
