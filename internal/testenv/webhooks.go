package testenv

import (
	"runtime"
	"time"
)

// SettleWebhooks lets every webhook delivery under way finish: whenever a
// delivery waits for its next retry, the fake clock jumps to the end of that
// wait, so retries happen at once and no test sleeps for them. It fails the
// test after 10 seconds of real time.
func (e *Env) SettleWebhooks() {
	e.T.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.App.Publisher.Pending() > 0 {
		if time.Now().After(deadline) {
			e.T.Fatalf("webhook deliveries still under way after 10s (%d pending)", e.App.Publisher.Pending())
		}
		if waits := e.Clock.Sleepers(); len(waits) > 0 {
			e.Clock.Advance(waits[0])
			continue
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond) // a request in flight on loopback
	}
	e.App.Publisher.Wait()
}
