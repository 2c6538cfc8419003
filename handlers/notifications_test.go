package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/certs/certtest"
	"github.com/keyward/keyward/internal/deploy"
	"github.com/keyward/keyward/internal/testenv"
)

// receiver is a real HTTP endpoint that records what it is sent and
// answers 500 to the first fail requests.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []receivedPost
	fail int
}

type receivedPost struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, fail int) *receiver {
	t.Helper()
	r := &receiver{fail: fail}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, receivedPost{header: req.Header.Clone(), body: body})
		if r.fail > 0 {
			r.fail--
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) posts() []receivedPost {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// alertWorld is a Keyward with an admin token, a project "payments" and an
// environment "production".
type alertWorld struct {
	env  *testenv.Env
	root string
}

const (
	channelsPath   = "/apiops/projects/payments/notificationChannels/"
	rulesPath      = "/apiops/projects/payments/notificationRules/"
	deliveriesPath = "/apiops/projects/payments/notificationDeliveries/"
)

func newAlertWorld(t *testing.T, dir string) *alertWorld {
	t.Helper()
	env := testenv.NewAt(t, dir)
	env.CreateUser("root", true)
	w := &alertWorld{env: env, root: env.Token("root")}
	w.must(http.MethodPost, "/apiops/projects/", map[string]string{"name": "payments"})
	w.must(http.MethodPost, "/apiops/environments/", map[string]string{"name": "production"})
	return w
}

func (w *alertWorld) must(method, path string, body any) testenv.APIResponse {
	w.env.T.Helper()
	r := w.env.API(w.root, method, path, body)
	if r.Status != http.StatusOK {
		w.env.T.Fatalf("%s %s: %d %s", method, path, r.Status, r.Raw)
	}
	return r
}

// certEnding adds a certificate to production ending in d (plus a minute,
// so that a whole number of days later it has just crossed).
func (w *alertWorld) certEnding(t *testing.T, name string, d time.Duration) {
	t.Helper()
	now := w.env.Clock.Now()
	c := certtest.NewChain(t, certtest.Options{CommonName: name + ".example.com", DNSNames: []string{name + ".example.com"},
		Now: now.Add(d + time.Minute - 90*24*time.Hour + time.Hour)})
	w.must(http.MethodPost, "/apiops/projects/payments/certificates/", certBody(name, certConfig("production", certtest.PEM(c.Leaf, c.Intermediate), "")))
}

// channel creates a channel and returns its id and secret.
func (w *alertWorld) channel(name, kind, url string) (int64, string) {
	w.env.T.Helper()
	r := w.must(http.MethodPost, channelsPath, map[string]any{"name": name, "kind": kind, "url": url})
	secret, _ := r.Body["secret"].(string)
	return int64(r.Body["channel"].(map[string]any)["id"].(float64)), secret
}

func (w *alertWorld) run(t *testing.T, env *testenv.Env) {
	t.Helper()
	if err := env.App.Notify.RunDue(context.Background()); err != nil {
		t.Fatalf("RunDue: %v", err)
	}
}

// verifySignature checks a webhook POST's X-Keyward-Signature the way an
// environment webhook's receiver does, and returns the payload.
func verifySignature(t *testing.T, p receivedPost, secret string) map[string]any {
	t.Helper()
	sig := p.header.Get(deploy.SignatureHeader)
	ts, _, ok := strings.Cut(strings.TrimPrefix(sig, "t="), ",")
	unix, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || sig != deploy.Sign([]byte(secret), time.Unix(unix, 0), p.body) {
		t.Errorf("signature %q does not verify with the channel's secret over %s", sig, p.body)
	}
	var m map[string]any
	if err := json.Unmarshal(p.body, &m); err != nil {
		t.Fatalf("payload %s: %v", p.body, err)
	}
	return m
}

// TestAlertEachThresholdOnceAcrossRestart: every threshold an object
// crosses is alerted exactly once, day after day and across a restart; a
// certificate that crossed 30, 14 and 7 days before the rule existed gets
// only the 7-day alert; each POST is signed as environment webhooks are and
// carries the object, its date, days left, the threshold and an absolute link.
func TestAlertEachThresholdOnceAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	w := newAlertWorld(t, dir)
	rc := newReceiver(t, 0)
	_, secret := w.channel("ops-hook", "WEBHOOK", rc.URL+"/hook")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("the webhook channel's secret %q", secret)
	}
	w.certEnding(t, "edge", 40*24*time.Hour)
	w.certEnding(t, "late", 5*24*time.Hour)
	rule := w.must(http.MethodPost, rulesPath, map[string]any{"name": "certs", "objectTypes": []string{"certificate"}, "channels": []string{"ops-hook"}})
	if got := fmt.Sprint(rule.Body["rule"].(map[string]any)["thresholds"]); got != "[30 14 7 1 0]" {
		t.Errorf("default thresholds %s", got)
	}

	type alert struct {
		name      string
		threshold int
	}
	var got []alert
	collect := func() {
		t.Helper()
		for _, p := range rc.posts()[len(got):] {
			m := verifySignature(t, p, secret)
			got = append(got, alert{m["name"].(string), int(m["threshold"].(float64))})
			if strings.Contains(string(p.body), secret) {
				t.Errorf("a payload carries the secret: %s", p.body)
			}
			if link, _ := m["link"].(string); !strings.HasPrefix(link, w.env.App.Config.BaseURL+"/projects/payments/certificates/") {
				t.Errorf("link %q is not absolute", link)
			}
			if m["project"] != "payments" || m["type"] != "certificate" || m["environment"] != "production" || m["rule"] != "certs" ||
				m["next"] == "" || m["event"] != "expiry.alert" || m["date"] == "" {
				t.Errorf("payload %s", p.body)
			}
			if d := int(m["daysLeft"].(float64)); d > int(m["threshold"].(float64)) {
				t.Errorf("days left %d above the threshold: %s", d, p.body)
			}
		}
	}
	env := w.env
	w.run(t, env)
	collect()
	if !slices.Equal(got, []alert{{"late", 7}}) {
		t.Fatalf("first run sent %v, want only late's 7-day alert", got)
	}
	if n := count(t, env, "SELECT count(*) FROM notification_alerts WHERE status = 'skipped'"); n != 2 {
		t.Errorf("%d skipped alerts, want 2 (late's 30 and 14 days)", n)
	}
	for day := 1; day <= 45; day++ {
		if day == 20 {
			env.Server.Close()
			if err := env.App.Close(); err != nil {
				t.Fatal(err)
			}
			env = testenv.NewWithClock(t, dir, env.Clock.Now())
		}
		env.Clock.Advance(24 * time.Hour)
		w.run(t, env)
		w.run(t, env) // a second run in the same minute sends nothing
		collect()
	}
	want := []alert{{"late", 7}, {"late", 1}, {"late", 0}, {"edge", 30}, {"edge", 14}, {"edge", 7}, {"edge", 1}, {"edge", 0}}
	if !slices.Equal(got, want) {
		t.Fatalf("alerts sent %v, want %v", got, want)
	}
	if n := count(t, env, "SELECT count(*) FROM notification_deliveries WHERE status = 'delivered' AND attempts = 1"); n != len(want) {
		t.Errorf("%d delivered deliveries, want %d", n, len(want))
	}
}

// TestAlertFailingChannelRetriedWithBackoff: a channel answering 500 is
// retried after 1 and 5 minutes (not before), each attempt recorded, and
// once it answers it is never sent again; a channel that never answers gives
// up after 1, 5 and 30 minutes (four attempts) and says why.
func TestAlertFailingChannelRetriedWithBackoff(t *testing.T) {
	w := newAlertWorld(t, t.TempDir())
	flaky, down := newReceiver(t, 2), newReceiver(t, 100)
	w.channel("flaky", "WEBHOOK", flaky.URL)
	w.channel("down", "SLACK", down.URL)
	w.certEnding(t, "edge", 3*24*time.Hour)
	w.must(http.MethodPost, rulesPath, map[string]any{"name": "all", "thresholds": []int{7}, "channels": []string{"flaky", "down"}})
	step := func(d time.Duration, wantFlaky, wantDown int) {
		t.Helper()
		w.env.Clock.Advance(d)
		w.run(t, w.env)
		if n := len(flaky.posts()); n != wantFlaky {
			t.Errorf("after %s: flaky got %d posts, want %d", d, n, wantFlaky)
		}
		if n := len(down.posts()); n != wantDown {
			t.Errorf("after %s: down got %d posts, want %d", d, n, wantDown)
		}
	}
	step(0, 1, 1)
	step(30*time.Second, 1, 1) // not yet: the first retry waits a minute
	step(30*time.Second, 2, 2)
	step(4*time.Minute, 2, 2)
	step(time.Minute, 3, 3) // flaky answers now
	step(29*time.Minute, 3, 3)
	step(time.Minute, 3, 4) // down's last attempt
	step(24*time.Hour, 3, 4)

	w.root = w.env.Token("root") // the first one expired a day ago
	r := w.must(http.MethodGet, deliveriesPath, nil)
	byChannel := map[string]map[string]any{}
	for _, d := range r.Body["resultList"].([]any) {
		byChannel[d.(map[string]any)["channel"].(string)] = d.(map[string]any)
	}
	if d := byChannel["flaky"]; d["status"] != "delivered" || d["attempts"] != 3.0 || d["statusCode"] != 204.0 || d["error"] != "" || d["deliveredAt"] == nil {
		t.Errorf("flaky's delivery: %v", d)
	}
	if d := byChannel["down"]; d["status"] != "failed" || d["attempts"] != 4.0 || d["statusCode"] != 500.0 || d["error"] != "answered 500" || d["nextAttemptAt"] != nil {
		t.Errorf("down's delivery: %v", d)
	}
	if n := count(t, w.env, "SELECT count(*) FROM notification_attempts"); n != 7 {
		t.Errorf("%d attempts recorded, want 7", n)
	}
	if !strings.Contains(w.env.Logs.String(), "notification failed") {
		t.Errorf("giving up is not logged")
	}
}

// TestAlertSlackPayloadAndTestButton: "Send test notification" posts a
// sample at once and answers with the result: a Slack message ({"text",
// "blocks"}, unsigned), a signed JSON webhook, and a failing endpoint's 500
// (not retried). A Slack URL, its credential, is never shown back.
func TestAlertSlackPayloadAndTestButton(t *testing.T) {
	w := newAlertWorld(t, t.TempDir())
	slack, hook, broken := newReceiver(t, 0), newReceiver(t, 0), newReceiver(t, 100)
	slackID, noSecret := w.channel("team-slack", "SLACK", slack.URL+"/services/T000/B000/XXXXSECRET")
	hookID, secret := w.channel("hook", "WEBHOOK", hook.URL)
	brokenID, _ := w.channel("broken", "WEBHOOK", broken.URL)
	if noSecret != "" {
		t.Errorf("a Slack channel got a secret")
	}
	r := w.must(http.MethodGet, fmt.Sprintf("%s%d/", channelsPath, slackID), nil)
	if u := r.Body["channel"].(map[string]any)["url"].(string); strings.Contains(u, "XXXXSECRET") || !strings.HasPrefix(u, "http://127.0.0.1") {
		t.Errorf("the Slack URL is shown as %q", u)
	}

	d := w.must(http.MethodPost, fmt.Sprintf("%s%d/test", channelsPath, slackID), nil).Body["delivery"].(map[string]any)
	if d["status"] != "delivered" || d["test"] != true || d["attempts"] != 1.0 {
		t.Errorf("Slack test delivery %v", d)
	}
	posts := slack.posts()
	if len(posts) != 1 || posts[0].header.Get(deploy.SignatureHeader) != "" || posts[0].header.Get("Content-Type") != "application/json" {
		t.Fatalf("Slack posts %v", posts)
	}
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text struct{ Type, Text string }
		} `json:"blocks"`
	}
	if err := json.Unmarshal(posts[0].body, &msg); err != nil || !strings.Contains(msg.Text, "[test] Certificate example-certificate (payments / production): 7 days left") ||
		len(msg.Blocks) != 1 || msg.Blocks[0].Type != "section" || msg.Blocks[0].Text.Type != "mrkdwn" || !strings.Contains(msg.Blocks[0].Text.Text, "|Open in Keyward>") {
		t.Errorf("Slack message %s (%v)", posts[0].body, err)
	}

	w.must(http.MethodPost, fmt.Sprintf("%s%d/test", channelsPath, hookID), nil)
	if p := hook.posts(); len(p) != 1 || verifySignature(t, p[0], secret)["event"] != "expiry.test" {
		t.Errorf("webhook test posts %v", p)
	}

	d = w.must(http.MethodPost, fmt.Sprintf("%s%d/test", channelsPath, brokenID), nil).Body["delivery"].(map[string]any)
	if d["status"] != "failed" || d["statusCode"] != 500.0 || d["error"] != "answered 500" {
		t.Errorf("broken test delivery %v", d)
	}
	w.env.Clock.Advance(time.Hour)
	w.run(t, w.env)
	if n := len(broken.posts()); n != 1 {
		t.Errorf("a failed test was retried: %d posts", n)
	}
	if n := count(t, w.env, "SELECT count(*) FROM audit_log WHERE action = 'notification_channel.test'"); n != 3 {
		t.Errorf("%d test sends audited, want 3", n)
	}
	h := w.must(http.MethodGet, deliveriesPath+"?size=2&page=2", nil)
	if h.Body["resultCount"] != 3.0 || len(h.Body["resultList"].([]any)) != 1 {
		t.Errorf("history page 2 of size 2: %s", h.Raw)
	}
}

// TestAlertRulesAndChannelsLifecycle: get, change and delete channels and
// rules; a disabled channel or a rule without enabled channels sends
// nothing and records no alert (it is sent once one is enabled); every
// change is audited.
func TestAlertRulesAndChannelsLifecycle(t *testing.T) {
	w := newAlertWorld(t, t.TempDir())
	rc := newReceiver(t, 0)
	id, _ := w.channel("hook", "WEBHOOK", rc.URL)
	off := false
	ch := w.must(http.MethodPut, fmt.Sprintf("%s%d/", channelsPath, id), map[string]any{"name": "hook", "kind": "WEBHOOK", "enabled": &off, "rotateSecret": true})
	if ch.Body["secret"] == nil || ch.Body["channel"].(map[string]any)["enabled"] != false {
		t.Errorf("update with rotation: %s", ch.Raw)
	}
	w.certEnding(t, "edge", 24*time.Hour)
	rule := w.must(http.MethodPost, rulesPath, map[string]any{"name": "all", "channels": []string{"hook"}, "thresholds": []int{7, 7, 30}})
	ruleID := int64(rule.Body["rule"].(map[string]any)["id"].(float64))
	if got := fmt.Sprint(rule.Body["rule"].(map[string]any)["thresholds"]); got != "[30 7]" {
		t.Errorf("thresholds %s, want [30 7]", got)
	}
	w.run(t, w.env)
	if n := count(t, w.env, "SELECT count(*) FROM notification_alerts"); n != 0 || len(rc.posts()) != 0 {
		t.Fatalf("a rule whose only channel is disabled recorded %d alerts and sent %d", n, len(rc.posts()))
	}
	on := true
	w.must(http.MethodPut, fmt.Sprintf("%s%d/", channelsPath, id), map[string]any{"name": "hook", "kind": "WEBHOOK", "enabled": &on})
	w.run(t, w.env)
	if len(rc.posts()) != 1 {
		t.Fatalf("after enabling the channel: %d posts", len(rc.posts()))
	}
	r := w.must(http.MethodPut, fmt.Sprintf("%s%d/", rulesPath, ruleID), map[string]any{"name": "renamed", "channels": []string{"hook"}, "objectTypes": []string{"signer_rotation"}})
	if got := r.Body["rule"].(map[string]any); got["name"] != "renamed" || fmt.Sprint(got["objectTypes"]) != "[signer_rotation]" {
		t.Errorf("updated rule %v", got)
	}
	if got := w.must(http.MethodGet, fmt.Sprintf("%s%d/", rulesPath, ruleID), nil).Body["rule"].(map[string]any); got["name"] != "renamed" {
		t.Errorf("get rule %v", got)
	}
	if l := w.must(http.MethodGet, rulesPath, nil).Body; l["resultCount"] != 1.0 {
		t.Errorf("rule list %v", l)
	}
	w.must(http.MethodDelete, fmt.Sprintf("%s%d/", rulesPath, ruleID), nil)
	w.must(http.MethodDelete, fmt.Sprintf("%s%d/", channelsPath, id), nil)
	if l := w.must(http.MethodGet, channelsPath, nil).Body; l["resultCount"] != 0.0 {
		t.Errorf("channel list after delete %v", l)
	}
	if h := w.must(http.MethodGet, deliveriesPath, nil).Body["resultList"].([]any); len(h) != 1 || h[0].(map[string]any)["channel"] != "hook" {
		t.Errorf("the history lost the deleted channel's delivery: %v", h)
	}
	if r := w.env.API(w.root, http.MethodGet, fmt.Sprintf("%s%d/", rulesPath, ruleID), nil); r.Status != http.StatusNotFound {
		t.Errorf("deleted rule: %d", r.Status)
	}
	for _, a := range []string{"notification_channel.create", "notification_channel.update", "notification_rule.create", "notification_rule.update",
		"notification_rule.delete", "notification_channel.delete"} {
		if n := count(t, w.env, "SELECT count(*) FROM audit_log WHERE action = ? AND outcome = 'success'", a); n == 0 {
			t.Errorf("no %s in the audit log", a)
		}
	}
}

// TestAlertBadInputChangesNothing: each bad request is a 400 naming the
// field, and changes nothing but the audit log.
func TestAlertBadInputChangesNothing(t *testing.T) {
	w := newAlertWorld(t, t.TempDir())
	id, _ := w.channel("hook", "WEBHOOK", "https://hooks.example.com/kw")
	w.must(http.MethodPost, rulesPath, map[string]any{"name": "all", "channels": []string{"hook"}})
	for _, c := range []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"bad URL", http.MethodPost, channelsPath, map[string]any{"name": "x", "kind": "WEBHOOK", "url": "ftp://hooks.example.com"}, "url"},
		{"relative URL", http.MethodPost, channelsPath, map[string]any{"name": "x", "kind": "SLACK", "url": "/hook"}, "url"},
		{"no URL", http.MethodPost, channelsPath, map[string]any{"name": "x", "kind": "SLACK"}, "url"},
		{"unknown kind", http.MethodPost, channelsPath, map[string]any{"name": "x", "kind": "EMAIL", "url": "https://x.example.com"}, "kind"},
		{"bad channel name", http.MethodPost, channelsPath, map[string]any{"name": "no spaces", "kind": "SLACK", "url": "https://x.example.com"}, "name"},
		{"duplicate channel", http.MethodPost, channelsPath, map[string]any{"name": "hook", "kind": "SLACK", "url": "https://x.example.com"}, "name"},
		{"bad URL on change", http.MethodPut, fmt.Sprintf("%s%d/", channelsPath, id), map[string]any{"name": "hook", "kind": "WEBHOOK", "url": "mailto:a@b"}, "url"},
		{"unknown type", http.MethodPost, rulesPath, map[string]any{"name": "r", "objectTypes": []string{"certificate", "password"}, "channels": []string{"hook"}}, "objectTypes[1]"},
		{"negative threshold", http.MethodPost, rulesPath, map[string]any{"name": "r", "thresholds": []int{7, -1}, "channels": []string{"hook"}}, "thresholds[1]"},
		{"huge threshold", http.MethodPost, rulesPath, map[string]any{"name": "r", "thresholds": []int{99999}, "channels": []string{"hook"}}, "thresholds[0]"},
		{"duplicate rule", http.MethodPost, rulesPath, map[string]any{"name": "all", "channels": []string{"hook"}}, "name"},
		{"unknown channel", http.MethodPost, rulesPath, map[string]any{"name": "r", "channels": []string{"hook", "nope"}}, "channels[1]"},
		{"no channel", http.MethodPost, rulesPath, map[string]any{"name": "r", "channels": []string{}}, "channels"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := testenv.TakeSnapshot(t, w.env)
			r := w.env.API(w.root, c.method, c.path, c.body)
			if r.Status != http.StatusBadRequest || r.Body["field"] != c.field || r.Body["error"] != "bad_request" {
				t.Errorf("status %d, body %s; want 400 about %s", r.Status, r.Raw, c.field)
			}
			if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
				t.Errorf("a refused request changed %s", d)
			}
		})
	}
	for _, path := range []string{channelsPath + "999/", channelsPath + "abc/", rulesPath + "999/"} {
		if r := w.env.API(w.root, http.MethodGet, path, nil); r.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d", path, r.Status)
		}
	}
}

// TestAlertPermissions: the notification routes' matrix. Reading takes any
// VIEW permission in the project (AUDIT:VIEW included), changing and testing
// any MANAGE permission; a member with neither (SIGNING_KEYS:SIGN alone) is
// refused with 403 naming them, a non-member gets 404, no token 401. A
// refusal changes nothing; a refused change is audited as denied.
func TestAlertPermissions(t *testing.T) {
	w := newAlertWorld(t, t.TempDir())
	rc := newReceiver(t, 0)
	w.channel("hook", "WEBHOOK", rc.URL)
	w.channel("doomed", "SLACK", rc.URL)
	w.must(http.MethodPost, rulesPath, map[string]any{"name": "all", "channels": []string{"hook"}})
	w.must(http.MethodPost, rulesPath, map[string]any{"name": "doomed", "channels": []string{"hook"}})
	type role struct {
		name         string
		token        string
		member       bool
		view, manage bool
	}
	mk := func(user string, admin bool, perms ...access.Permission) string {
		w.env.CreateUser(user, admin)
		if len(perms) > 0 {
			w.env.Grant("payments", user, perms...)
		}
		return w.env.Token(user)
	}
	roles := []role{
		{name: "no token"},
		{name: "non-member", token: mk("outsider", false)},
		{name: "SIGNING_KEYS:SIGN only", token: mk("signer", false, access.SigningKeysSign), member: true},
		{name: "AUDIT:VIEW", token: mk("auditor", false, access.AuditView), member: true, view: true},
		{name: "SECRETS:VIEW", token: mk("viewer", false, access.SecretsView), member: true, view: true},
		{name: "KEY_SETS:MANAGE", token: mk("manager", false, access.KeySetsView, access.KeySetsManage), member: true, view: true, manage: true},
		{name: "admin", token: mk("admin", true), view: true, manage: true},
	}
	routes := []struct {
		name, method, path string
		body               any
		manage             bool
		action             string
	}{
		{"list channels", http.MethodGet, channelsPath, nil, false, ""},
		{"get channel", http.MethodGet, channelsPath + "1/", nil, false, ""},
		{"list rules", http.MethodGet, rulesPath, nil, false, ""},
		{"get rule", http.MethodGet, rulesPath + "1/", nil, false, ""},
		{"list deliveries", http.MethodGet, deliveriesPath, nil, false, ""},
		{"create channel", http.MethodPost, channelsPath, map[string]any{"name": "new", "kind": "SLACK", "url": rc.URL}, true, "notification_channel.create"},
		{"change channel", http.MethodPut, channelsPath + "1/", map[string]any{"name": "hook", "kind": "WEBHOOK"}, true, "notification_channel.update"},
		{"test channel", http.MethodPost, channelsPath + "1/test", nil, true, "notification_channel.test"},
		{"create rule", http.MethodPost, rulesPath, map[string]any{"name": "new", "channels": []string{"hook"}}, true, "notification_rule.create"},
		{"change rule", http.MethodPut, rulesPath + "1/", map[string]any{"name": "all", "channels": []string{"hook"}, "thresholds": []int{3}}, true, "notification_rule.update"},
		{"delete rule", http.MethodDelete, rulesPath + "2/", nil, true, "notification_rule.delete"},
		{"delete channel", http.MethodDelete, channelsPath + "2/", nil, true, "notification_channel.delete"},
	}
	for _, rt := range routes {
		written := false
		for _, rl := range roles {
			want := http.StatusOK
			switch {
			case rl.token == "":
				want = http.StatusUnauthorized
			case !rl.member && !rl.manage:
				want = nonMemberStatus
			case rt.manage && !rl.manage || !rt.manage && !rl.view:
				want = http.StatusForbidden
			}
			if want == http.StatusOK && written {
				continue
			}
			t.Run(rt.name+"/"+rl.name, func(t *testing.T) {
				before, audit := testenv.TakeSnapshot(t, w.env), len(auditRows(t, w.env))
				auth := ""
				if rl.token != "" {
					auth = "Bearer " + rl.token
				}
				r := apiSend(t, w.env, apiRequest{Method: rt.method, Path: rt.path, Authorization: auth, Body: rt.body})
				checkAPIAnswer(t, r, want)
				if want == http.StatusOK {
					return
				}
				if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
					t.Errorf("a refused request changed %s", d)
				}
				if want == http.StatusUnauthorized || rt.action == "" {
					checkRefusal(t, w.env, audit)
				} else {
					checkRefusal(t, w.env, audit, rt.action)
				}
				if d, _ := r.Body["error_description"].(string); want == http.StatusForbidden && !strings.Contains(d, "MANAGE") && !strings.Contains(d, "AUDIT:VIEW") {
					t.Errorf("the 403 does not name the permissions it needs: %q", d)
				}
			})
			if want == http.StatusOK && rt.method != http.MethodGet {
				written = true
			}
		}
	}
}

// TestAlertNotificationsPage: the page's forms add a webhook channel (its
// secret shown once) and a rule; a refused rule re-renders with the message
// beside the thresholds and changes nothing; the test button answers an
// htmx fragment with the result, which the history then lists; a member
// holding only AUDIT:VIEW sees the page without forms; delete asks for the name.
func TestAlertNotificationsPage(t *testing.T) {
	env, b := newSite(t)
	rc := newReceiver(t, 0)
	p := b.Get("/projects/payments", false)
	if p.Doc.Find(`.project-main a[href="/projects/payments/notifications"]`).Length() != 1 {
		t.Fatalf("the project page does not link its notifications")
	}
	p = b.Post("/projects/payments/notifications/channels", url.Values{"name": {"ops"}, "kind": {"WEBHOOK"}, "url": {rc.URL}, "enabled": {"1"}}, false)
	secret := strings.TrimSpace(p.Doc.Find("#channel-secret-value").Text())
	if p.Status != http.StatusOK || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("add channel: %d, secret %q", p.Status, secret)
	}
	if again := b.Get("/projects/payments/notifications", false); strings.Contains(again.Body, secret) {
		t.Errorf("the secret is shown twice")
	}

	before := testenv.TakeSnapshot(t, env)
	p = b.Post("/projects/payments/notifications/rules", url.Values{"name": {"certs"}, "channels": {"ops"}, "thresholds": {"7, -2"}}, true)
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Doc.Find("#rule-create .field-error").Text(), "Threshold -2") ||
		p.Doc.Find(`#rule-create input[name="thresholds"]`).AttrOr("value", "") != "7, -2" {
		t.Fatalf("refused rule: %d %s", p.Status, p.Doc.Find("#rule-create").Text())
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Errorf("a refused rule changed %s", d)
	}
	p = b.Post("/projects/payments/notifications/rules", url.Values{"name": {"certs"}, "channels": {"ops"}, "objectTypes": {"certificate"}, "enabled": {"1"}}, false)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("add rule: %d %s", p.Status, p.Body)
	}
	p = b.Get("/projects/payments/notifications", false)
	if row := p.Doc.Find("#rule-list tbody tr").First().Text(); !strings.Contains(row, "30, 14, 7, 1, 0") || !strings.Contains(row, "Certificate") {
		t.Errorf("rule row %q", row)
	}

	p = b.Post("/projects/payments/notifications/channels/1/test", url.Values{}, true)
	if p.Status != http.StatusOK || !strings.Contains(p.Doc.Find("#test-result").Text(), "Delivered") || p.Doc.Find("h1").Length() != 0 {
		t.Fatalf("test button: %d %s", p.Status, p.Body)
	}
	if len(rc.posts()) != 1 {
		t.Errorf("the test sent %d posts", len(rc.posts()))
	}
	p = b.Get("/projects/payments/notifications", true)
	if row := p.Doc.Find("#delivery-list tbody tr").Text(); !strings.Contains(row, "delivered") || !strings.Contains(row, "[test] Certificate example-certificate") {
		t.Errorf("history row %q", row)
	}

	env.CreateUser("audrey", false)
	env.Grant("payments", "audrey", access.AuditView)
	ab := env.Browser()
	ab.Login("audrey")
	p = ab.Get("/projects/payments/notifications", false)
	if p.Status != http.StatusOK || p.Doc.Find("#channel-list").Length() != 1 || p.Doc.Find("form#channel-create, form#rule-create, [hx-post]").Length() != 0 {
		t.Errorf("an auditor's page: %d, forms %d", p.Status, p.Doc.Find("form#channel-create, form#rule-create").Length())
	}
	if p := ab.Post("/projects/payments/notifications/channels/1/test", url.Values{}, false); p.Status != http.StatusForbidden {
		t.Errorf("an auditor's test send: %d", p.Status)
	}

	b.Get("/projects/payments/notifications", false)
	if p := b.Post("/projects/payments/notifications/channels/1/delete", url.Values{"confirm_name": {"wrong"}}, false); p.Status != http.StatusSeeOther || count(t, env, "SELECT count(*) FROM notification_channels") != 1 {
		t.Errorf("a delete with the wrong name: %d", p.Status)
	}
	b.Get("/projects/payments/notifications", false)
	if p := b.Post("/projects/payments/notifications/channels/1/delete", url.Values{"confirm_name": {"ops"}}, false); p.Status != http.StatusSeeOther || count(t, env, "SELECT count(*) FROM notification_channels") != 0 {
		t.Errorf("delete: %d", p.Status)
	}
}

// TestAlertScheduleRetriesOnTheClock: the background schedule sends at
// once, then retries a failed delivery on its one-minute tick of the clock
// (no real waiting), and stops when its context ends.
func TestAlertScheduleRetriesOnTheClock(t *testing.T) {
	w := newAlertWorld(t, t.TempDir())
	rc := newReceiver(t, 1)
	w.channel("hook", "WEBHOOK", rc.URL)
	w.certEnding(t, "edge", 24*time.Hour)
	w.must(http.MethodPost, rulesPath, map[string]any{"name": "all", "channels": []string{"hook"}})
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		w.env.App.Notify.Schedule(ctx, func(err error) { t.Error(err) })
	}()
	deadline := time.Now().Add(10 * time.Second)
	delivered := func() int {
		return count(t, w.env, "SELECT count(*) FROM notification_deliveries WHERE status = 'delivered' AND attempts = 2")
	}
	for delivered() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the schedule made %d attempts (clock %s)", len(rc.posts()), w.env.Clock.Now())
		}
		if len(w.env.Clock.Sleepers()) > 0 { // asleep between runs: one tick
			w.env.Clock.Advance(time.Minute)
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the schedule did not stop when its context ended")
	}
	if n := len(rc.posts()); n != 2 {
		t.Errorf("%d posts, want 2 (a failure, then its retry)", n)
	}
}

// TestAlertChannelCannotReachInternalAddresses: a channel's URL is a project
// member's choice, so deliveries follow the certificate fetches' address
// policy: link-local (cloud metadata) and loopback addresses are refused at
// connect time, and the delivery records why, without the URL.
func TestAlertChannelCannotReachInternalAddresses(t *testing.T) {
	w := newAlertWorld(t, t.TempDir())
	for _, c := range []struct{ name, url, want string }{
		{"metadata", "http://169.254.169.254/latest/meta-data/", "link-local"},
		{"metadata6", "http://[fe80::a9fe:a9fe]/latest/", "link-local"},
		{"unspecified", "http://0.0.0.0:9/hook", "unspecified"},
	} {
		id, _ := w.channel(c.name, "WEBHOOK", c.url)
		d := w.must(http.MethodPost, fmt.Sprintf("%s%d/test", channelsPath, id), nil).Body["delivery"].(map[string]any)
		errText, _ := d["error"].(string)
		if d["status"] != "failed" || !strings.Contains(errText, c.want) || strings.Contains(errText, c.url) {
			t.Errorf("%s: delivery %v, want a refusal naming a %s address and not the URL", c.name, d, c.want)
		}
	}
}
