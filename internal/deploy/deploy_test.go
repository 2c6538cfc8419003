package deploy_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/testenv"
)

// hook is a webhook receiver that records every request and answers with
// the statuses it is given, in turn (the last one repeats).
type hook struct {
	mu       sync.Mutex
	statuses []int
	got      []delivery
	release  chan struct{} // when set, requests wait for it to close
	srv      *httptest.Server
}

type delivery struct {
	header http.Header
	body   []byte
}

func newHook(t *testing.T, statuses ...int) *hook {
	h := &hook{statuses: statuses}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.release != nil {
			<-h.release
		}
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		if r.Method != http.MethodPost {
			t.Errorf("webhook called with %s", r.Method)
		}
		h.got = append(h.got, delivery{header: r.Header.Clone(), body: body})
		status := h.statuses[min(len(h.got), len(h.statuses))-1]
		h.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) deliveries() []delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]delivery(nil), h.got...)
}

// world is an admin token, project payments and an environment whose
// webhook points at h; it returns the webhook secret.
func world(t *testing.T, h *hook) (*testenv.Env, string, string) {
	env := testenv.New(t)
	// Retries wait on the fake clock: SettleWebhooks moves it on.
	env.App.Publisher.Backoff = []time.Duration{time.Second, 4 * time.Second}
	env.CreateUser("root", true)
	root := env.Token("root")
	must(t, env, root, http.MethodPost, "/apiops/projects/", map[string]string{"name": "payments"})
	r := must(t, env, root, http.MethodPost, "/apiops/environments/", map[string]string{"name": "production", "webhookUrl": h.srv.URL + "/keyward"})
	return env, root, r.Body["webhookSecret"].(string)
}

func must(t *testing.T, env *testenv.Env, token, method, path string, body any) testenv.APIResponse {
	t.Helper()
	r := env.API(token, method, path, body)
	if r.Status != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Raw)
	}
	return r
}

func createKey(t *testing.T, env *testenv.Env, token, name string) {
	t.Helper()
	must(t, env, token, http.MethodPost, "/apiops/projects/payments/keys/", map[string]any{"name": name, "keyType": "SECRET_KEY",
		"cryptoKeyInfoEnvironmentList": []any{map[string]any{"environmentName": "production", "content": base64.StdEncoding.EncodeToString(make([]byte, 32))}}})
}

// history returns production's deployments, newest first.
func history(t *testing.T, env *testenv.Env, token string) (int64, []map[string]any) {
	t.Helper()
	r := must(t, env, token, http.MethodGet, "/apiops/environments/production/", nil)
	var out []map[string]any
	for _, d := range r.Body["deployments"].([]any) {
		out = append(out, d.(map[string]any))
	}
	return int64(r.Body["environment"].(map[string]any)["revision"].(float64)), out
}

// verify checks a delivery's signature header the way a receiver does and
// returns the timestamp it carries.
func verify(t *testing.T, secret string, d delivery) time.Time {
	t.Helper()
	sig := d.header.Get(deploy.SignatureHeader)
	ts, mac, ok := strings.Cut(sig, ",")
	if !ok || !strings.HasPrefix(ts, "t=") || !strings.HasPrefix(mac, "v1=") {
		t.Fatalf("%s = %q, want t=<unix>,v1=<hex>", deploy.SignatureHeader, sig)
	}
	unix, err := strconv.ParseInt(strings.TrimPrefix(ts, "t="), 10, 64)
	if err != nil {
		t.Fatalf("timestamp %q: %v", ts, err)
	}
	// An independent HMAC-SHA256 over "<t>.<body>".
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strings.TrimPrefix(ts, "t=") + "."))
	m.Write(d.body)
	want := hex.EncodeToString(m.Sum(nil))
	if got := strings.TrimPrefix(mac, "v1="); !hmac.Equal([]byte(got), []byte(want)) {
		t.Errorf("signature %s does not verify with the webhook secret", got)
	}
	at := time.Unix(unix, 0)
	if got := deploy.Sign([]byte(secret), at, d.body); got != sig {
		t.Errorf("deploy.Sign = %q, header %q", got, sig)
	}
	return at
}

func TestWebhookIsSignedAndCarriesTheRevision(t *testing.T) {
	h := newHook(t, http.StatusNoContent)
	env, root, secret := world(t, h)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("webhook secret %q", secret)
	}
	createKey(t, env, root, "session-key")
	env.SettleWebhooks()

	got := h.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	d := got[0]
	if ct := d.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if at := verify(t, secret, d); !at.Equal(env.Clock.Now().Truncate(time.Second)) {
		t.Errorf("signed at %v, want the clock's %v", at, env.Clock.Now())
	}
	var ev deploy.Event
	if err := json.Unmarshal(d.body, &ev); err != nil {
		t.Fatalf("body %s: %v", d.body, err)
	}
	rev, deps := history(t, env, root)
	if ev.Environment != "production" || ev.Revision != rev || ev.Action != deploy.Deploy || ev.Project != "payments" ||
		ev.ObjectType != "key" || ev.ObjectName != "session-key" || ev.DeploymentID == 0 {
		t.Errorf("event %+v, want the deploy of key session-key at revision %d", ev, rev)
	}
	if deps[0]["webhookStatus"] != "delivered: 204 (attempt 1)" {
		t.Errorf("history: webhookStatus %v", deps[0]["webhookStatus"])
	}
	// A body changed in transit no longer matches the signature.
	tampered := delivery{header: d.header, body: []byte(strings.Replace(string(d.body), `"revision":1`, `"revision":9`, 1))}
	ts, _, _ := strings.Cut(d.header.Get(deploy.SignatureHeader), ",")
	unix, _ := strconv.ParseInt(strings.TrimPrefix(ts, "t="), 10, 64)
	if deploy.Sign([]byte(secret), time.Unix(unix, 0), tampered.body) == d.header.Get(deploy.SignatureHeader) {
		t.Error("a tampered body verifies")
	}

	// Undeploy notifies too, with the next revision.
	env.Clock.Advance(time.Minute)
	must(t, env, root, http.MethodDelete, "/apiops/projects/payments/keys/session-key/environments/production/", nil)
	env.SettleWebhooks()
	got = h.deliveries()
	if len(got) != 2 {
		t.Fatalf("%d deliveries, want 2", len(got))
	}
	verify(t, secret, got[1])
	if err := json.Unmarshal(got[1].body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Action != deploy.Undeploy || ev.Revision != rev+1 {
		t.Errorf("undeploy event %+v, want revision %d", ev, rev+1)
	}
}

func TestWebhookFailureIsRetriedAndNeverUndoesTheDeploy(t *testing.T) {
	h := newHook(t, http.StatusInternalServerError)
	env, root, secret := world(t, h)
	createKey(t, env, root, "session-key")
	env.SettleWebhooks()

	got := h.deliveries()
	if want := len(env.App.Publisher.Backoff) + 1; len(got) != want {
		t.Fatalf("%d attempts, want %d", len(got), want)
	}
	for _, d := range got {
		verify(t, secret, d)
		if string(d.body) != string(got[0].body) {
			t.Error("a retry sent another body")
		}
	}
	rev, deps := history(t, env, root)
	if deps[0]["webhookStatus"] != "failed after 3 attempts: 500 Internal Server Error" {
		t.Errorf("webhookStatus %v", deps[0]["webhookStatus"])
	}
	if deps[0]["success"] != true || deps[0]["action"] != "deploy" {
		t.Errorf("deployment %v: a failing webhook must not fail the deploy", deps[0])
	}
	// The key stays deployed at that revision.
	k := must(t, env, root, http.MethodGet, "/apiops/projects/payments/keys/session-key/", nil).Body["key"].(map[string]any)
	e := k["environments"].([]any)[0].(map[string]any)
	if e["deployed"] != true || e["deployedRevision"] != float64(rev) {
		t.Errorf("production after a failed webhook: %v", e)
	}
	if !strings.Contains(env.Logs.String(), "webhook failed") || strings.Contains(env.Logs.String(), secret) {
		t.Error("the failure is not logged as a warning, or the log holds the secret")
	}
}

// TestWebhookRetryWaitsOnTheClock: a failed delivery retries only once the
// clock has moved past its backoff, and closing the app stops a delivery
// that waits, which records that it was stopped before the database closes.
func TestWebhookRetryWaitsOnTheClock(t *testing.T) {
	h := newHook(t, http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusOK)
	env, root, _ := world(t, h)
	createKey(t, env, root, "session-key")
	waitFor(t, func() bool { return len(env.Clock.Sleepers()) == 1 })
	if got := env.Clock.Sleepers()[0]; got != time.Second {
		t.Fatalf("first retry waits %v, want 1s", got)
	}
	env.Clock.Advance(999 * time.Millisecond)
	if n := len(h.deliveries()); n != 1 {
		t.Fatalf("%d attempts before the backoff passed, want 1", n)
	}
	env.Clock.Advance(time.Millisecond)
	waitFor(t, func() bool { return len(h.deliveries()) == 2 && len(env.Clock.Sleepers()) == 1 })
	if got := env.Clock.Sleepers()[0]; got != 4*time.Second {
		t.Fatalf("second retry waits %v, want 4s", got)
	}
	if !env.App.Publisher.Close(5 * time.Second) {
		t.Fatal("Close did not stop the waiting delivery")
	}
	if n := len(h.deliveries()); n != 2 {
		t.Errorf("%d attempts after Close, want 2", n)
	}
	var status string
	if err := env.App.DB.Read.QueryRow("SELECT webhook_status FROM deployments ORDER BY id DESC LIMIT 1").Scan(&status); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(status, "stopped: Keyward shut down before attempt 3") {
		t.Errorf("webhookStatus after Close = %q", status)
	}
	// A publication after Close is not delivered (and stays pending).
	createKey(t, env, root, "later-key")
	if env.App.Publisher.Pending() != 0 {
		t.Error("a delivery started after Close")
	}
}

// waitFor polls cond for up to 5 seconds (goroutines reaching a state, not
// time passing).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWebhookSucceedsOnARetry(t *testing.T) {
	h := newHook(t, http.StatusServiceUnavailable, http.StatusOK)
	env, root, _ := world(t, h)
	createKey(t, env, root, "session-key")
	env.SettleWebhooks()
	if got := len(h.deliveries()); got != 2 {
		t.Errorf("%d attempts, want 2", got)
	}
	if _, deps := history(t, env, root); deps[0]["webhookStatus"] != "delivered: 200 (attempt 2)" {
		t.Errorf("webhookStatus %v", deps[0]["webhookStatus"])
	}
}

func TestWebhookUnreachable(t *testing.T) {
	h := newHook(t, http.StatusOK)
	env, root, _ := world(t, h)
	h.srv.Close()
	createKey(t, env, root, "session-key")
	env.SettleWebhooks()
	_, deps := history(t, env, root)
	if s, _ := deps[0]["webhookStatus"].(string); !strings.HasPrefix(s, "failed after 3 attempts: ") || !strings.Contains(s, "refused") {
		t.Errorf("webhookStatus %q", s)
	}
}

// TestWebhookDoesNotHoldUpTheDeploy answers the API call while the webhook
// is still waiting, with the outcome "pending" until it arrives.
func TestWebhookDoesNotHoldUpTheDeploy(t *testing.T) {
	h := newHook(t, http.StatusOK)
	h.release = make(chan struct{})
	env, root, _ := world(t, h)
	done := make(chan struct{})
	go func() {
		defer close(done)
		createKey(t, env, root, "session-key")
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		close(h.release)
		t.Fatal("the deploy waited for the webhook")
	}
	if _, deps := history(t, env, root); deps[0]["webhookStatus"] != "pending" {
		t.Errorf("webhookStatus %v while the webhook waits, want pending", deps[0]["webhookStatus"])
	}
	close(h.release)
	env.SettleWebhooks()
	if _, deps := history(t, env, root); deps[0]["webhookStatus"] != "delivered: 200 (attempt 1)" {
		t.Errorf("webhookStatus %v", deps[0]["webhookStatus"])
	}
}

// TestListenersHearCommittedPublicationsOnly: a listener (such as the JWKS
// cache) is told about each committed publication, and never about a
// refused one.
func TestListenersHearCommittedPublicationsOnly(t *testing.T) {
	env := testenv.New(t)
	env.CreateUser("root", true)
	env.CreateUser("manny", false)
	root, manny := env.Token("root"), env.Token("manny")
	must(t, env, root, http.MethodPost, "/apiops/projects/", map[string]string{"name": "payments"})
	must(t, env, root, http.MethodPost, "/apiops/environments/", map[string]string{"name": "production"})
	env.Grant("payments", "manny", access.SecretsView, access.SecretsManage)
	var mu sync.Mutex
	var heard []deploy.Published
	env.App.Publisher.Listen(func(_ context.Context, done []deploy.Published) {
		mu.Lock()
		defer mu.Unlock()
		heard = append(heard, done...)
	})
	createKey(t, env, root, "k1")
	body := map[string]any{"name": "k2", "keyType": "SECRET_KEY", "cryptoKeyInfoEnvironmentList": []any{
		map[string]any{"environmentName": "production", "content": base64.StdEncoding.EncodeToString(make([]byte, 32))},
		map[string]any{"environmentName": "production", "content": base64.StdEncoding.EncodeToString(make([]byte, 32))}}}
	if r := env.API(root, http.MethodPost, "/apiops/projects/payments/keys/", body); r.Status != http.StatusBadRequest {
		t.Errorf("a key configured twice in production: %d %s", r.Status, r.Raw)
	}
	body["cryptoKeyInfoEnvironmentList"] = body["cryptoKeyInfoEnvironmentList"].([]any)[:1]
	if r := env.API(manny, http.MethodPost, "/apiops/projects/payments/keys/", body); r.Status != http.StatusForbidden {
		t.Errorf("manny deploying: %d %s", r.Status, r.Raw)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(heard) != 1 {
		t.Fatalf("listeners heard %d publications, want 1: %+v", len(heard), heard)
	}
	p := heard[0]
	if p.Revision != 1 || p.Change.Environment.Name != "production" || p.Change.Environment.Revision != 1 || p.Change.Project != "payments" ||
		p.Change.ObjectType != "key" || p.Change.ObjectName != "k1" || p.Change.Action != deploy.Deploy || p.DeploymentID == 0 {
		t.Errorf("heard %+v", p)
	}
}

// TestSign pins the signature format against a value computed by hand, so
// that receivers written from the documentation keep verifying.
func TestSign(t *testing.T) {
	secret, body := []byte("whsec_test"), []byte(`{"environment":"production","revision":7}`)
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("1795424400." + string(body)))
	want := "t=1795424400,v1=" + hex.EncodeToString(m.Sum(nil))
	if got := deploy.Sign(secret, at, body); got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
	if deploy.Sign([]byte("whsec_other"), at, body) == want {
		t.Error("another secret gives the same signature")
	}
}
