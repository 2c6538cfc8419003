package keysets_test

import (
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/keysets"
	"github.com/keyward/keyward/internal/testenv"
)

const day = 24 * time.Hour

// TestSchedulerRotatesOnceAcrossRestarts: a rotation due while the server
// runs is applied by RunDue with its actual time; after a restart (a new
// App on the same file, later in time) the catch-up applies the next one,
// and nothing is applied twice.
func TestSchedulerRotatesOnceAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	f := fixtureOn(t, testenv.NewWithClock(t, dir, start))
	f.policy(t, keysets.PolicyInput{Name: "rotating", Expiration: "90d", Rotation: "30d"})
	f.api(t, "orders", "rotating", "API_KEY")
	r := f.subscribe(t, "shop-app", "orders", "test")
	name, key1 := r.KeySets[0].Name, r.KeySets[0].Credentials.Key

	f.env.Clock.Advance(30*day + 2*time.Hour)
	if n, err := f.ks.RunDue(f.ctx); err != nil || n != 1 {
		t.Fatalf("RunDue = %d, %v; want 1 rotation", n, err)
	}
	if n, err := f.ks.RunDue(f.ctx); err != nil || n != 0 {
		t.Fatalf("second RunDue = %d, %v; want nothing", n, err)
	}
	d := f.get(t, name)
	if len(d.Keys) != 2 || d.Keys[0].Status != keysets.Active || d.Keys[1].Status != keysets.Revoked || d.Status != keysets.Active {
		t.Fatalf("after the rotation: %s %+v", d.Status, d.Keys)
	}
	if c := f.verify(t, "test", keysets.VerifyInput{Key: key1}); c != keysets.CodeRevoked {
		t.Fatalf("the rotated key verifies %s", c)
	}
	rot := doneEvents(d, keysets.EventRotation)
	if len(rot) != 1 || rot[0].ActualAt == nil || !rot[0].ActualAt.Equal(start.Add(30*day+2*time.Hour)) || rot[0].Delay != 2*time.Hour {
		t.Fatalf("rotation event %+v", rot)
	}
	// The first key's expiration was superseded.
	for _, e := range d.Timeline {
		if e.Type == keysets.EventExpiration && e.KeySeq == 1 && e.State != keysets.StateCancelled {
			t.Errorf("key #1's expiration is %s", e.State)
		}
	}
	f.env.App.Close()

	// Restart 40 days later: the catch-up at start rotates key #2 (due at
	// day 60) once.
	env2 := testenv.NewWithClock(t, dir, start.Add(70*day))
	d2, err := env2.App.KeySets.Get(f.ctx, env2.Principal("root"), project, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(d2.Keys) != 3 || !d2.Keys[0].Latest || d2.Keys[0].Seq != 3 {
		t.Fatalf("after restart: %+v", d2.Keys)
	}
	if n, err := env2.App.KeySets.RunDue(f.ctx); err != nil || n != 0 {
		t.Fatalf("RunDue after the catch-up = %d, %v", n, err)
	}
	rot = doneEvents(d2, keysets.EventRotation)
	if len(rot) != 2 || !rot[1].ActualAt.Equal(start.Add(70*day)) || rot[1].Delay != 10*day-2*time.Hour {
		t.Fatalf("rotations %+v", rot)
	}
	if !strings.Contains(rot[1].Detail, "late") {
		t.Errorf("a late rotation's detail does not say so: %q", rot[1].Detail)
	}
}

func doneEvents(d keysets.Details, typ string) []keysets.Event {
	var out []keysets.Event
	for _, e := range d.Timeline {
		if e.Type == typ && e.State == keysets.StateDone {
			out = append(out, e)
		}
	}
	return out
}

// TestRotationWinsOverExpirationTheSameDay: rotation and expiration due
// the same day: the key is rotated, not expired.
func TestRotationWinsOverExpirationTheSameDay(t *testing.T) {
	f := newFixture(t)
	f.policy(t, keysets.PolicyInput{Name: "same-day", Expiration: "30d", Rotation: "30d"})
	f.api(t, "orders", "same-day", "API_KEY")
	name := f.subscribe(t, "shop-app", "orders", "test").KeySets[0].Name
	f.env.Clock.Advance(30*day + time.Minute)
	if n, err := f.ks.RunDue(f.ctx); err != nil || n != 1 {
		t.Fatalf("RunDue = %d, %v", n, err)
	}
	d := f.get(t, name)
	if d.Status != keysets.Active || len(d.Keys) != 2 || len(doneEvents(d, keysets.EventExpiration)) != 0 || len(doneEvents(d, keysets.EventRotation)) != 1 {
		t.Fatalf("status %s, %d keys, timeline %+v", d.Status, len(d.Keys), d.Timeline)
	}
}

// TestExpirationRefusedBeforeTheSchedulerRuns: verify refuses an expired
// key from its stored expiry; RunDue then marks the key set EXPIRED.
func TestExpirationRefusedBeforeTheSchedulerRuns(t *testing.T) {
	f := newFixture(t)
	f.policy(t, keysets.PolicyInput{Name: "short", Expiration: "7d"})
	f.api(t, "orders", "short", "API_KEY")
	r := f.subscribe(t, "shop-app", "orders", "test")
	key := r.KeySets[0].Credentials.Key
	f.env.Clock.Advance(7*day - time.Second)
	if c := f.verify(t, "test", keysets.VerifyInput{Key: key}); c != keysets.CodeValid {
		t.Fatalf("before expiry: %s", c)
	}
	f.env.Clock.Advance(time.Second)
	if c := f.verify(t, "test", keysets.VerifyInput{Key: key}); c != keysets.CodeExpired {
		t.Fatalf("at expiry, scheduler not run: %s", c)
	}
	if n, err := f.ks.RunDue(f.ctx); err != nil || n != 1 {
		t.Fatalf("RunDue = %d, %v", n, err)
	}
	if d := f.get(t, r.KeySets[0].Name); d.Status != keysets.Expired || d.Keys[0].Status != keysets.Expired {
		t.Fatalf("after RunDue: %s %s", d.Status, d.Keys[0].Status)
	}
}

// TestGracePeriod: after a regeneration the previous key verifies until
// the end of the policy's grace period.
func TestGracePeriod(t *testing.T) {
	f := newFixture(t)
	f.policy(t, keysets.PolicyInput{Name: "graceful", ManualRegeneration: true, GracePeriod: "1h"})
	f.api(t, "orders", "graceful", "API_KEY")
	r := f.subscribe(t, "shop-app", "orders", "test")
	old := r.KeySets[0].Credentials.Key
	_, creds, err := f.ks.Regenerate(f.ctx, f.root, project, r.KeySets[0].Name, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		advance time.Duration
		key     string
		want    string
	}{{0, old, keysets.CodeValid}, {0, creds.Key, keysets.CodeValid}, {59 * time.Minute, old, keysets.CodeValid}, {time.Minute, old, keysets.CodeRevoked}, {0, creds.Key, keysets.CodeValid}} {
		f.env.Clock.Advance(c.advance)
		if got := f.verify(t, "test", keysets.VerifyInput{Key: c.key}); got != c.want {
			t.Fatalf("after %s more: %s, want %s", c.advance, got, c.want)
		}
	}
}

// TestApplicationCascade: suspending an application suspends its active key
// sets; reactivating it reactivates those, not one suspended on its own.
func TestApplicationCascade(t *testing.T) {
	f := newFixture(t)
	f.policy(t, keysets.PolicyInput{Name: "plain"})
	f.api(t, "orders", "plain", "API_KEY", "CLIENT_CREDENTIALS")
	r := f.subscribe(t, "shop-app", "orders", "test")
	apiKey, cc := r.KeySets[0], r.KeySets[1]
	if _, err := f.ks.Suspend(f.ctx, f.root, project, cc.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ks.SuspendApplication(f.ctx, f.root, project, "shop-app"); err != nil {
		t.Fatal(err)
	}
	if d := f.get(t, apiKey.Name); d.Status != keysets.Suspended || !d.SuspendedByApplication {
		t.Fatalf("api key set %s by app %t", d.Status, d.SuspendedByApplication)
	}
	if c := f.verify(t, "test", keysets.VerifyInput{Key: apiKey.Credentials.Key}); c != keysets.CodeSuspended {
		t.Fatalf("key of a suspended application verifies %s", c)
	}
	_, err := f.ks.Activate(f.ctx, f.root, project, apiKey.Name)
	wantCode(t, err, "state_conflict", "reactivate the application first")
	if _, err := f.ks.ReactivateApplication(f.ctx, f.root, project, "shop-app"); err != nil {
		t.Fatal(err)
	}
	if d := f.get(t, apiKey.Name); d.Status != keysets.Active {
		t.Fatalf("api key set after reactivation: %s", d.Status)
	}
	if d := f.get(t, cc.Name); d.Status != keysets.Suspended {
		t.Fatalf("the key set suspended on its own was reactivated: %s", d.Status)
	}
	if c := f.verify(t, "test", keysets.VerifyInput{ClientID: cc.Credentials.ClientID, ClientSecret: cc.Credentials.ClientSecret}); c != keysets.CodeSuspended {
		t.Fatalf("client credentials verify %s", c)
	}
	if _, err := f.ks.Activate(f.ctx, f.root, project, cc.Name); err != nil {
		t.Fatal(err)
	}
	if c := f.verify(t, "test", keysets.VerifyInput{ClientID: cc.Credentials.ClientID, ClientSecret: cc.Credentials.ClientSecret, API: "orders"}); c != keysets.CodeValid {
		t.Fatalf("client credentials verify %s", c)
	}
	if c := f.verify(t, "test", keysets.VerifyInput{ClientID: cc.Credentials.ClientID, ClientSecret: apiKey.Credentials.Key}); c != keysets.CodeMalformed {
		t.Fatalf("a wrong secret kind verifies %s", c)
	}
}

// TestUnsubscribeKeepsSharedKeySets: unsubscribing never touches a key set
// another subscription uses; the last one's removal revokes it.
func TestUnsubscribeKeepsSharedKeySets(t *testing.T) {
	f := newFixture(t)
	f.policy(t, keysets.PolicyInput{Name: "plain"})
	f.api(t, "orders", "plain", "API_KEY")
	f.api(t, "billing", "plain", "API_KEY")
	a := f.subscribe(t, "shop-app", "orders", "test")
	b := f.subscribe(t, "shop-app", "billing", "test")
	key := a.KeySets[0].Credentials.Key
	if err := f.ks.Unsubscribe(f.ctx, f.root, project, "shop-app", a.Subscription.ID); err != nil {
		t.Fatal(err)
	}
	if c := f.verify(t, "test", keysets.VerifyInput{Key: key, API: "orders"}); c != keysets.CodeNotSubscribed {
		t.Fatalf("for the unsubscribed API: %s", c)
	}
	if c := f.verify(t, "test", keysets.VerifyInput{Key: key, API: "billing"}); c != keysets.CodeValid {
		t.Fatalf("for the API still subscribed: %s", c)
	}
	if err := f.ks.Unsubscribe(f.ctx, f.root, project, "shop-app", b.Subscription.ID); err != nil {
		t.Fatal(err)
	}
	if d := f.get(t, a.KeySets[0].Name); d.Status != keysets.Revoked {
		t.Fatalf("after the last unsubscription: %s", d.Status)
	}
}
