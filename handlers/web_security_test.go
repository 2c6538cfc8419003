package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/keyward/keyward/internal/app"
	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/config"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/keysets"
	"github.com/keyward/keyward/internal/notify"
	"github.com/keyward/keyward/internal/signing"
	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/internal/truststore"
)

// newEnvWith starts a Keyward like testenv.New, with the test configuration
// changed by mutate (e.g. CookieSecure "always").
func newEnvWith(t *testing.T, mutate func(*config.Config)) *testenv.Env {
	t.Helper()
	dir := t.TempDir()
	cfg := testenv.Config(dir)
	mutate(&cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	fc := clock.NewFake(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	logs := &testenv.SyncBuffer{}
	a, err := app.Open(context.Background(), cfg, testenv.SchemaSQL(t), app.Options{Clock: fc, LogOutput: logs})
	if err != nil {
		t.Fatalf("open app: %v", err)
	}
	e, err := a.Handler()
	if err != nil {
		t.Fatalf("build handler: %v", err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return &testenv.Env{T: t, App: a, Echo: e, Server: srv, Clock: fc, Dir: dir, Logs: logs}
}

// newSite starts a Keyward with an admin "root", a user "bob", a project
// "payments" and an environment "production", and returns a browser signed
// in as root.
func newSite(t *testing.T) (*testenv.Env, *testenv.Browser) {
	t.Helper()
	env := testenv.New(t)
	env.CreateUser("root", true)
	env.CreateUser("bob", false)
	ctx := context.Background()
	root := env.Principal("root")
	if _, err := env.App.Projects.Create(ctx, root, "payments", "Payments APIs"); err != nil {
		t.Fatalf("create project: %v", err)
	}
	if _, err := env.App.Environments.Create(ctx, root, environments.Input{Name: "production"}); err != nil {
		t.Fatalf("create environment: %v", err)
	}
	b := env.Browser()
	b.Login("root")
	return env, b
}

// rawPost posts form with the browser's cookies but without adding a CSRF
// token, and with extra headers.
func rawPost(t *testing.T, env *testenv.Env, b *testenv.Browser, path string, form url.Values, header map[string]string) testenv.Page {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, env.URL(path), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	p := testenv.Page{Status: resp.StatusCode, Header: resp.Header, Body: string(raw)}
	p.Doc, _ = goquery.NewDocumentFromReader(bytes.NewReader(raw))
	return p
}

// loginWith signs b in with an explicit password and returns the response.
func loginWith(b *testenv.Browser, user, password string) testenv.Page {
	b.Get("/login", false)
	return b.Post("/login", url.Values{"username": {user}, "password": {password}}, false)
}

// sessionCookie returns the session cookie a response sets, or nil.
func sessionCookie(p testenv.Page) *http.Cookie {
	for _, line := range p.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil && c.Name == "keyward_session" {
			return c
		}
	}
	return nil
}

// browserWithCookie is a fresh client that presents one session cookie, as
// an attacker replaying a captured cookie would.
func browserWithCookie(env *testenv.Env, value string) *testenv.Browser {
	b := env.Browser()
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(env.Server.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: "keyward_session", Value: value, Path: "/"}})
	b.Client.Jar = jar
	return b
}

// count runs a COUNT query.
func count(t *testing.T, env *testenv.Env, query string, args ...any) int {
	t.Helper()
	var n int
	if err := env.App.DB.Read.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestCSRFRefusesEveryForm posts to every state-changing web route without a
// token, with a wrong one, with another session's and with a wrong header:
// each is refused with 403 and nothing changes. The right token, as field or
// header, works.
func TestCSRFRefusesEveryForm(t *testing.T) {
	env, b := newSite(t)
	env.Token("root")
	var tokenID int64
	if err := env.App.DB.Read.QueryRow("SELECT id FROM api_tokens").Scan(&tokenID); err != nil {
		t.Fatal(err)
	}
	// A key, a JWK, a certificate with a CA in production's truststore and
	// a gateway token for the keys, JWKs, certificates, truststore and
	// gateway-token forms to act on.
	chain := newTestChain(t, "edge.example.com")
	cwCreate(t, env, "csrf-cert", false, map[string][]byte{"production": pemOf(chain.leaf)})
	if _, _, err := env.App.Truststores.Add(context.Background(), env.Principal("root"), "production", truststore.AddInput{
		Cert: certs.Input{Field: "content", Content: pemOf(chain.root), Encoding: certs.EncodingBase64PEM}, Source: "CLIPBOARD"}); err != nil {
		t.Fatal(err)
	}
	rootSHA := sha256Hex(chain.root.Raw)
	kwCreate(t, env, "payments", "csrf-key", "PRIVATE_KEY", "RSA", false, map[string][]byte{"production": []byte(kwRSAKey(t, 0).pem)})
	kwCreateJWK(t, env, "csrf-jwk", "csrf-key", "production")
	if _, err := env.App.Environments.CreateGatewayToken(context.Background(), env.Principal("root"), "production", "gw", 0); err != nil {
		t.Fatal(err)
	}
	csrfSigner, err := env.App.Signing.CreateKey(context.Background(), env.Principal("root"), "payments",
		signing.CreateInput{Label: "csrf-signer", Algorithm: "ECDSA", GenerationType: signing.GenerateAuto})
	if err != nil {
		t.Fatal(err)
	}
	signerPath := "/projects/payments/signing-keys/" + csrfSigner.CkaID
	if _, err := env.App.Signing.CreateSigner(context.Background(), env.Principal("root"), "payments",
		signing.SignerInput{Name: "csrf-alias", ActiveKey: csrfSigner.CkaID, Environments: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	ksWebSeed(t, env)
	if _, err := env.App.KeySets.CreatePolicy(context.Background(), env.Principal("root"), "payments", keysets.PolicyInput{Name: "spare"}); err != nil {
		t.Fatal(err)
	}
	var subscriptionID int64
	if err := env.App.DB.Read.QueryRow("SELECT id FROM subscriptions").Scan(&subscriptionID); err != nil {
		t.Fatal(err)
	}
	var gatewayTokenID int64
	if err := env.App.DB.Read.QueryRow("SELECT id FROM gateway_tokens").Scan(&gatewayTokenID); err != nil {
		t.Fatal(err)
	}
	hook := newReceiver(t, 0)
	if _, err := env.App.Notify.CreateChannel(context.Background(), env.Principal("root"), "payments",
		notify.ChannelInput{Name: "csrf-hook", Kind: notify.Webhook, URL: hook.URL, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Notify.CreateRule(context.Background(), env.Principal("root"), "payments",
		notify.RuleInput{Name: "csrf-rule", Channels: []string{"csrf-hook"}, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	type route struct {
		pattern, path string
		form          url.Values
	}
	routes := []route{
		{"/setup/:token", "/setup/some-token", url.Values{"username": {"eve"}, "password": {"a long enough password"}, "password2": {"a long enough password"}}},
		{"/login", "/login", url.Values{"username": {"root"}, "password": {testenv.Password}}},
		{"/logout", "/logout", url.Values{}},
		{"/projects", "/projects", url.Values{"name": {"newproj"}, "description": {"x"}}},
		{"/projects/:project", "/projects/payments", url.Values{"description": {"changed"}}},
		{"/projects/:project/members", "/projects/payments/members", url.Values{"username": {"bob"}, "preset": {"owner"}}},
		{"/projects/:project/delete", "/projects/payments/delete", url.Values{"confirm_name": {"payments"}}},
		{"/environments", "/environments", url.Values{"name": {"staging"}}},
		{"/environments/:env", "/environments/production", url.Values{"description": {"changed"}, "webhookUrl": {"https://gw.example.com/hook"}}},
		{"/admin/users", "/admin/users", url.Values{"username": {"carol"}, "password": {"another long password"}}},
		{"/admin/users/:username/disabled", "/admin/users/bob/disabled", url.Values{"disabled": {"1"}}},
		{"/admin/users/:username/admin", "/admin/users/bob/admin", url.Values{"admin": {"1"}}},
		{"/admin/users/:username/password", "/admin/users/bob/password", url.Values{"password": {"a brand new password"}}},
		{"/account/password", "/account/password", url.Values{"current_password": {testenv.Password}, "password": {"a brand new password"}}},
		{"/account/tokens", "/account/tokens", url.Values{"name": {"ci"}, "expires": {"720h"}}},
		{"/account/tokens/:id/revoke", fmt.Sprintf("/account/tokens/%d/revoke", tokenID), url.Values{}},
		{"/audit/verify", "/audit/verify", url.Values{}},
		{"/environments/:env/gateway-tokens", "/environments/production/gateway-tokens", url.Values{"name": {"edge"}}},
		{"/environments/:env/gateway-tokens/:id/revoke", fmt.Sprintf("/environments/production/gateway-tokens/%d/revoke", gatewayTokenID), url.Values{}},
		{"/projects/:project/jwks", "/projects/payments/jwks", url.Values{"name": {"new-jwk"}, "sourceName": {"csrf-key"}, "use": {"sig"},
			"alg": {"RS256"}, "environments": {"production"}, "action": {"deploy"}}},
		{"/projects/:project/jwks/:jwk/delete", "/projects/payments/jwks/csrf-jwk/delete", url.Values{"confirm_name": {"csrf-jwk"}}},
		// The key wizard posts multipart/form-data; the token check comes
		// first either way (url-encoded, the wizard answers 422).
		{"/projects/:project/keys", "/projects/payments/keys", url.Values{"name": {"new-key"}, "keyType": {"SECRET_KEY"},
			"configs[0].environment": {"production"}, "configs[0].source": {"CLIPBOARD"}, "configs[0].content": {"00112233445566778899aabbccddeeff"}, "action": {"deploy"}}},
		{"/projects/:project/keys/config-preview", "/projects/payments/keys/config-preview", url.Values{"keyType": {"SECRET_KEY"},
			"environment": {"production"}, "source": {"CLIPBOARD"}, "content": {"00112233445566778899aabbccddeeff"}}},
		{"/projects/:project/keys/:key", "/projects/payments/keys/csrf-key", url.Values{"description": {"changed"},
			"configs[0].environment": {"production"}, "action": {"deploy"}, "jwk_action": {"UPDATE"}, "confirm_name": {"csrf-key"}}},
		{"/projects/:project/keys/:key/environments/:env/deploy", "/projects/payments/keys/csrf-key/environments/production/deploy", url.Values{}},
		{"/projects/:project/keys/:key/environments/:env/undeploy", "/projects/payments/keys/csrf-key/environments/production/undeploy", url.Values{}},
		{"/projects/:project/keys/:key/delete", "/projects/payments/keys/csrf-key/delete", url.Values{"confirm_name": {"csrf-key"}, "jwk_action": {"DELETE"}}},
		// The certificate wizard posts multipart/form-data too.
		{"/projects/:project/certificates", "/projects/payments/certificates", url.Values{"name": {"new-cert"}, "configs[0].environment": {"production"},
			"configs[0].source": {"CLIPBOARD"}, "configs[0].encoding": {"BASE64PEM"}, "configs[0].content": {string(pemOf(chain.intermediate))}, "action": {"deploy"}}},
		{"/projects/:project/certificates/config-preview", "/projects/payments/certificates/config-preview", url.Values{"environment": {"production"},
			"source": {"CLIPBOARD"}, "encoding": {"BASE64PEM"}, "content": {string(pemOf(chain.intermediate))}}},
		{"/projects/:project/certificates/fetch", "/projects/payments/certificates/fetch", url.Values{"environment": {"production"}, "url": {"https://127.0.0.1:1"}}},
		{"/projects/:project/certificates/:cert", "/projects/payments/certificates/csrf-cert", url.Values{"description": {"changed"},
			"configs[0].environment": {"production"}, "configs[0].source": {"CLIPBOARD"}, "action": {"deploy"}}},
		{"/projects/:project/certificates/:cert/delete", "/projects/payments/certificates/csrf-cert/delete", url.Values{"confirm_name": {"csrf-cert"}, "jwk_action": {"DELETE"}}},
		{"/projects/:project/certificates/:cert/environments/:env/deploy", "/projects/payments/certificates/csrf-cert/environments/production/deploy", url.Values{}},
		{"/projects/:project/certificates/:cert/environments/:env/undeploy", "/projects/payments/certificates/csrf-cert/environments/production/undeploy", url.Values{}},
		{"/projects/:project/certificates/truststore/cas", "/projects/payments/certificates/truststore/cas", url.Values{"environment": {"production"},
			"source": {"CLIPBOARD"}, "encoding": {"BASE64PEM"}, "content": {string(pemOf(chain.intermediate))}}},
		{"/projects/:project/certificates/truststore/cas/:sha/remove", "/projects/payments/certificates/truststore/cas/" + rootSHA + "/remove",
			url.Values{"environment": {"production"}, "confirm_name": {"Test Root CA"}}},
		{"/projects/:project/certificates/truststore/builtin-roots", "/projects/payments/certificates/truststore/builtin-roots", url.Values{"environment": {"production"}, "include": {"0"}}},
		{"/projects/:project/certificates/truststore/export", "/projects/payments/certificates/truststore/export", url.Values{"environment": {"production"}, "format": {"pem"}}},
		// Signing keys: the PIN is set before the delete that asks for it.
		{"/admin/hsm/pin", "/admin/hsm/pin", url.Values{"pin": {"4711-csrf"}, "pin2": {"4711-csrf"}}},
		{"/projects/:project/signing-keys", "/projects/payments/signing-keys", url.Values{"label": {"new-signer"}, "algorithm": {"ECDSA"},
			"generationType": {"AUTO"}, "curve": {"P-256"}}},
		{"/projects/:project/signing-keys/:cka/environments/:env/publish", signerPath + "/environments/production/publish", url.Values{}},
		{"/projects/:project/signing-keys/:cka/environments/:env/unpublish", signerPath + "/environments/production/unpublish", url.Values{}},
		{"/projects/:project/signing-keys/:cka/delete", signerPath + "/delete", url.Values{"pin": {"4711-csrf"}}},
		{"/projects/:project/signing-keys/signers", "/projects/payments/signing-keys/signers", url.Values{"name": {"new-alias"},
			"activeKey": {csrfSigner.CkaID}, "environments": {"production"}, "leadTime": {"1h"}, "retention": {"30m"}}},
		{"/projects/:project/notifications/channels", "/projects/payments/notifications/channels", url.Values{"name": {"new-hook"}, "kind": {"SLACK"}, "url": {hook.URL}, "enabled": {"1"}}},
		{"/projects/:project/notifications/channels/:id", "/projects/payments/notifications/channels/1", url.Values{"name": {"csrf-hook"}, "kind": {"WEBHOOK"}, "enabled": {"1"}, "rotate": {"1"}}},
		{"/projects/:project/notifications/channels/:id/test", "/projects/payments/notifications/channels/1/test", url.Values{}},
		{"/projects/:project/notifications/rules", "/projects/payments/notifications/rules", url.Values{"name": {"new-rule"}, "channels": {"csrf-hook"}, "thresholds": {"7, 0"}}},
		{"/projects/:project/notifications/rules/:id", "/projects/payments/notifications/rules/1", url.Values{"name": {"csrf-rule"}, "channels": {"csrf-hook"}, "objectTypes": {"certificate"}}},
		{"/projects/:project/notifications/rules/:id/delete", "/projects/payments/notifications/rules/1/delete", url.Values{"confirm_name": {"csrf-rule"}}},
		{"/projects/:project/notifications/channels/:id/delete", "/projects/payments/notifications/channels/1/delete", url.Values{"confirm_name": {"csrf-hook"}}},
		{"/projects/:project/signing-keys/signers/:name/rotate", "/projects/payments/signing-keys/signers/csrf-alias/rotate", url.Values{"nextKey": {csrfSigner.CkaID}}},
		// Key sets: the key set API_KEY-shop-app of application shop-app, subscribed to orders.
		{"/projects/:project/key-sets/:keySet/suspend", ksSet + "/suspend", url.Values{}},
		{"/projects/:project/key-sets/:keySet/activate", ksSet + "/activate", url.Values{}},
		{"/projects/:project/key-sets/:keySet/regenerate", ksSet + "/regenerate", url.Values{"key": {"1"}}},
		{"/projects/:project/key-sets/:keySet/credentials", ksSet + "/credentials", url.Values{}},
		{"/projects/:project/key-sets/:keySet/revoke", ksSet + "/revoke", url.Values{"confirm_name": {"API_KEY-shop-app"}}},
		{"/projects/:project/policy-templates", "/projects/payments/policy-templates", url.Values{"name": {"new-policy"}, "expiration": {"30d"}}},
		{"/projects/:project/policy-templates/:policy", "/projects/payments/policy-templates/spare", url.Values{"description": {"changed"}}},
		{"/projects/:project/policy-templates/:policy/delete", "/projects/payments/policy-templates/spare/delete", url.Values{"confirm_name": {"spare"}}},
		{"/projects/:project/api-catalog", "/projects/payments/api-catalog", url.Values{"name": {"new-api"}, "environments": {"production"},
			"authTypes": {"API_KEY"}, "policyTemplate": {"standard"}}},
		{"/projects/:project/api-catalog/:api", "/projects/payments/api-catalog/orders", url.Values{"description": {"changed"}, "environments": {"production"},
			"authTypes": {"API_KEY"}, "policyTemplate": {"standard"}}},
		{"/projects/:project/organizations", "/projects/payments/organizations", url.Values{"name": {"globex"}}},
		{"/projects/:project/organizations/:org", "/projects/payments/organizations/acme", url.Values{"description": {"changed"}}},
		{"/projects/:project/organizations/:org/groups", "/projects/payments/organizations/acme/groups", url.Values{"name": {"web"}}},
		{"/projects/:project/applications", "/projects/payments/applications", url.Values{"name": {"new-app"}, "organization": {"acme"}}},
		{"/projects/:project/applications/:app", "/projects/payments/applications/shop-app", url.Values{"description": {"changed"}, "organization": {"acme"}}},
		{"/projects/:project/applications/:app/suspend", "/projects/payments/applications/shop-app/suspend", url.Values{}},
		{"/projects/:project/applications/:app/reactivate", "/projects/payments/applications/shop-app/reactivate", url.Values{}},
		{"/projects/:project/api-catalog/:api/subscribe", "/projects/payments/api-catalog/new-api/subscribe", url.Values{"application": {"new-app"}, "environment": {"production"}}},
		{"/projects/:project/applications/:app/subscriptions/:id/delete", fmt.Sprintf("/projects/payments/applications/shop-app/subscriptions/%d/delete", subscriptionID), url.Values{}},
		{"/projects/:project/api-catalog/:api/delete", "/projects/payments/api-catalog/orders/delete", url.Values{"confirm_name": {"orders"}}},
		{"/projects/:project/applications/:app/delete", "/projects/payments/applications/shop-app/delete", url.Values{"confirm_name": {"shop-app"}}},
		{"/projects/:project/organizations/:org/groups/:group/delete", "/projects/payments/organizations/acme/groups/web/delete", url.Values{}},
		{"/projects/:project/organizations/:org/delete", "/projects/payments/organizations/globex/delete", url.Values{"confirm_name": {"globex"}}},
	}

	// Every POST route of the web console is in the list above.
	covered := map[string]bool{}
	for _, r := range routes {
		covered[r.pattern] = true
	}
	for _, r := range env.Echo.Routes() {
		if r.Method == http.MethodPost && !strings.HasPrefix(r.Path, "/apiops") && !covered[r.Path] {
			t.Errorf("POST %s is not covered by the CSRF test", r.Path)
		}
	}

	other := env.Browser()
	other.Login("bob")
	if other.CSRF == "" || other.CSRF == b.CSRF {
		t.Fatalf("expected distinct CSRF tokens, got %q and %q", other.CSRF, b.CSRF)
	}
	before := testenv.TakeSnapshot(t, env)
	for _, r := range routes {
		with := func(field string) url.Values {
			f := url.Values{}
			for k, v := range r.form {
				f[k] = v
			}
			f.Set("_csrf", field)
			return f
		}
		cases := []struct {
			name string
			do   func() testenv.Page
		}{
			{"missing", func() testenv.Page { return rawPost(t, env, b, r.path, r.form, nil) }},
			{"empty", func() testenv.Page { return b.Post(r.path, with(""), false) }},
			{"wrong", func() testenv.Page { return b.Post(r.path, with("not-the-token"), false) }},
			{"other session", func() testenv.Page { return b.Post(r.path, with(other.CSRF), true) }},
			{"wrong header", func() testenv.Page {
				return rawPost(t, env, b, r.path, r.form, map[string]string{"X-CSRF-Token": other.CSRF, "HX-Request": "true"})
			}},
		}
		for _, c := range cases {
			p := c.do()
			if p.Status != http.StatusForbidden {
				t.Errorf("POST %s with %s token: status %d, want 403", r.path, c.name, p.Status)
				continue
			}
			if !strings.Contains(p.Body, "CSRF") {
				t.Errorf("POST %s with %s token: the 403 page does not say why: %s", r.path, c.name, p.Body)
			}
		}
	}
	if d := before.Changes(t); d != "" {
		t.Fatalf("refused requests changed the database: %s", d)
	}
	if p := b.Get("/projects", false); p.Status != http.StatusOK {
		t.Fatalf("the refused logout signed root out: GET /projects status %d", p.Status)
	}

	// The header works like the field (htmx sends the header).
	p := rawPost(t, env, b, "/projects", url.Values{"name": {"newproj"}}, map[string]string{"X-CSRF-Token": b.CSRF})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/projects/newproj" {
		t.Fatalf("POST /projects with X-CSRF-Token header: status %d location %q", p.Status, p.Header.Get("Location"))
	}
	if n := count(t, env, "SELECT COUNT(*) FROM projects WHERE name = 'newproj'"); n != 1 {
		t.Fatalf("project created with the header token: %d rows", n)
	}

	// With the right token every route does its work (none answers 403), so
	// the refusals above were about the token alone.
	for _, r := range routes {
		switch r.pattern {
		case "/setup/:token", "/login", "/logout", "/projects":
			continue
		}
		if p := b.Post(r.path, r.form, false); p.Status == http.StatusForbidden {
			t.Errorf("POST %s with the right token: 403 %s", r.path, p.Doc.Find("main").Text())
		}
	}
	if before.Changes(t) == "" {
		t.Fatalf("accepted requests changed nothing")
	}
}

// TestSessionIdleTimeout signs a user out after 30 minutes without a request.
func TestSessionIdleTimeout(t *testing.T) {
	env, b := newSite(t)
	for range 2 {
		env.Clock.Advance(29 * time.Minute)
		if p := b.Get("/projects", false); p.Status != http.StatusOK {
			t.Fatalf("active session ended after 29 idle minutes: status %d", p.Status)
		}
	}
	env.Clock.Advance(31 * time.Minute)
	p := b.Get("/projects", false)
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/login") {
		t.Fatalf("idle session: status %d location %q, want a redirect to /login", p.Status, p.Location())
	}
	login := b.Get(p.Location(), false)
	if flash := login.Doc.Find(".flash").Text(); !strings.Contains(flash, "session has expired") {
		t.Fatalf("sign-in page after expiry shows flash %q", flash)
	}
	if n := count(t, env, "SELECT COUNT(*) FROM web_sessions"); n != 0 {
		t.Fatalf("expired session still stored: %d rows", n)
	}
	// The flash is shown once.
	if flash := b.Get("/login", false).Doc.Find(".flash").Text(); flash != "" {
		t.Fatalf("flash shown twice: %q", flash)
	}
}

// TestSessionAbsoluteTimeout ends a session 12 hours after sign-in even when
// it is used every 20 minutes.
func TestSessionAbsoluteTimeout(t *testing.T) {
	env, b := newSite(t)
	elapsed := time.Duration(0)
	for {
		env.Clock.Advance(20 * time.Minute)
		elapsed += 20 * time.Minute
		p := b.Get("/projects", false)
		if elapsed <= 12*time.Hour {
			if p.Status != http.StatusOK {
				t.Fatalf("session ended after %s of activity: status %d", elapsed, p.Status)
			}
			continue
		}
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/login") {
			t.Fatalf("session still open after %s: status %d", elapsed, p.Status)
		}
		if flash := b.Get(p.Location(), false).Doc.Find(".flash").Text(); !strings.Contains(flash, "session has expired") {
			t.Fatalf("flash after the absolute timeout: %q", flash)
		}
		return
	}
}

// TestSessionRotationAndLogout: signing in issues a new cookie and CSRF
// token; signing out ends the server session so a copied cookie is useless.
func TestSessionRotationAndLogout(t *testing.T) {
	env := testenv.New(t)
	env.CreateUser("root", true)
	b := env.Browser()
	first := b.Get("/login", false)
	before := sessionCookie(first)
	if before == nil {
		t.Fatalf("GET /login set no session cookie")
	}
	csrfBefore := b.CSRF
	p := b.Post("/login", url.Values{"username": {"root"}, "password": {testenv.Password}}, false)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("login: status %d", p.Status)
	}
	after := sessionCookie(p)
	if after == nil || after.Value == before.Value {
		t.Fatalf("login did not rotate the session cookie")
	}
	b.Get("/account", false)
	if b.CSRF == csrfBefore {
		t.Fatalf("login did not rotate the CSRF token")
	}
	// The pre-login CSRF token and cookie are worthless now.
	if p := b.Post("/projects", url.Values{"name": {"x"}, "_csrf": {csrfBefore}}, false); p.Status != http.StatusForbidden {
		t.Fatalf("pre-login CSRF token accepted: status %d", p.Status)
	}
	if p := browserWithCookie(env, before.Value).Get("/projects", false); p.Status != http.StatusSeeOther {
		t.Fatalf("pre-login cookie authenticates: status %d", p.Status)
	}
	// A copy of the signed-in cookie works until logout, not after.
	stolen := browserWithCookie(env, after.Value)
	if p := stolen.Get("/projects", false); p.Status != http.StatusOK {
		t.Fatalf("copied signed-in cookie: status %d, want 200 before logout", p.Status)
	}
	p = b.Post("/logout", nil, false)
	if p.Status != http.StatusSeeOther || p.Location() != "/login" {
		t.Fatalf("logout: status %d location %q", p.Status, p.Location())
	}
	if n := count(t, env, "SELECT COUNT(*) FROM web_sessions"); n != 0 {
		t.Fatalf("logout left %d server sessions", n)
	}
	if p := stolen.Get("/projects", false); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/login") {
		t.Fatalf("cookie from before logout still authenticates: status %d", p.Status)
	}
	if p := b.Get("/projects", false); p.Status != http.StatusSeeOther {
		t.Fatalf("signed-out browser: status %d", p.Status)
	}
	if flash := b.Get("/login", false).Doc.Find(".flash").Text(); !strings.Contains(flash, "signed out") {
		t.Fatalf("after logout the sign-in page shows %q", flash)
	}
}

// TestSessionCookieAttributes checks HttpOnly, SameSite=Lax, Path and Secure.
func TestSessionCookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*config.Config)
		secure bool
	}{
		{"never", func(c *config.Config) {}, false},
		{"always", func(c *config.Config) { c.CookieSecure = "always" }, true},
		{"auto with an https base URL", func(c *config.Config) {
			c.CookieSecure, c.BaseURL = "auto", "https://keyward.example.com"
		}, true},
		{"auto with an http base URL", func(c *config.Config) { c.CookieSecure = "auto" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnvWith(t, tc.mutate)
			c := sessionCookie(env.Browser().Get("/login", false))
			if c == nil {
				t.Fatalf("no session cookie")
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
				t.Errorf("cookie attributes: HttpOnly=%v SameSite=%v Path=%q", c.HttpOnly, c.SameSite, c.Path)
			}
			if c.Secure != tc.secure {
				t.Errorf("Secure=%v, want %v", c.Secure, tc.secure)
			}
			if c.MaxAge != int((12 * time.Hour).Seconds()) {
				t.Errorf("Max-Age=%d, want the absolute session lifetime", c.MaxAge)
			}
		})
	}
}

// TestDisablingUserEndsSessionsAndTokens: a disabled user is signed out
// everywhere, their API tokens answer 401, and they cannot sign in.
func TestDisablingUserEndsSessionsAndTokens(t *testing.T) {
	env, admin := newSite(t)
	bob := env.Browser()
	bob.Login("bob")
	tok := env.Token("bob")
	if r := env.API(tok, http.MethodGet, "/apiops/projects/", nil); r.Status != http.StatusOK {
		t.Fatalf("bob's token before disabling: %d %s", r.Status, r.Raw)
	}
	p := admin.Post("/admin/users/bob/disabled", url.Values{"disabled": {"1"}}, false)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("disable bob: status %d", p.Status)
	}
	if flash := admin.Get(p.Location(), false).Doc.Find(".flash-success").Text(); !strings.Contains(flash, "disabled") {
		t.Fatalf("disable flash: %q", flash)
	}
	if p := bob.Get("/projects", false); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/login") {
		t.Fatalf("disabled bob's session still works: status %d", p.Status)
	}
	r := env.API(tok, http.MethodGet, "/apiops/projects/", nil)
	if r.Status != http.StatusUnauthorized || r.Body["error"] != "unauthorized_client" || !strings.Contains(fmt.Sprint(r.Body["error_description"]), "disabled") {
		t.Fatalf("disabled bob's token: %d %s", r.Status, r.Raw)
	}
	if p := loginWith(env.Browser(), "bob", testenv.Password); p.Status != http.StatusUnauthorized {
		t.Fatalf("disabled bob signs in: status %d", p.Status)
	}
	// Enabling restores the tokens.
	admin.Post("/admin/users/bob/disabled", url.Values{"disabled": {"0"}}, false)
	if r := env.API(tok, http.MethodGet, "/apiops/projects/", nil); r.Status != http.StatusOK {
		t.Fatalf("re-enabled bob's token: %d %s", r.Status, r.Raw)
	}
}

// TestPasswordChangesEndSessions: an admin's reset ends all of the user's
// sessions; changing one's own password ends the other sessions only.
func TestPasswordChangesEndSessions(t *testing.T) {
	env, admin := newSite(t)
	bob := env.Browser()
	bob.Login("bob")
	const reset = "reset by the admin 1"
	p := admin.Post("/admin/users/bob/password", url.Values{"password": {reset}}, false)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("reset: status %d %s", p.Status, p.Body)
	}
	if p := bob.Get("/projects", false); p.Status != http.StatusSeeOther {
		t.Fatalf("bob's session survived a password reset: status %d", p.Status)
	}
	if p := loginWith(env.Browser(), "bob", testenv.Password); p.Status != http.StatusUnauthorized {
		t.Fatalf("old password after reset: status %d", p.Status)
	}
	laptop, phone := env.Browser(), env.Browser()
	if p := loginWith(laptop, "bob", reset); p.Status != http.StatusSeeOther {
		t.Fatalf("new password after reset: status %d", p.Status)
	}
	if p := loginWith(phone, "bob", reset); p.Status != http.StatusSeeOther {
		t.Fatalf("second sign-in: status %d", p.Status)
	}
	laptop.Get("/account", false)
	p = laptop.Post("/account/password", url.Values{"current_password": {reset}, "password": {"bob's own new password"}}, false)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("own password change: status %d %s", p.Status, p.Doc.Find("main").Text())
	}
	if p := laptop.Get("/account", false); p.Status != http.StatusOK {
		t.Fatalf("the session that changed the password ended: status %d", p.Status)
	}
	if p := phone.Get("/account", false); p.Status != http.StatusSeeOther {
		t.Fatalf("bob's other session survived his password change: status %d", p.Status)
	}
}

// TestLoginFailureDoesNotRevealUser gives the same answer for a wrong
// password, an unknown user and a disabled account.
func TestLoginFailureDoesNotRevealUser(t *testing.T) {
	env, admin := newSite(t)
	admin.Post("/admin/users/bob/disabled", url.Values{"disabled": {"1"}}, false)
	var msgs []string
	for _, c := range []struct{ user, password string }{
		{"root", "wrong password!"},
		{"nobody", "wrong password!"},
		{"bob", testenv.Password},
	} {
		p := loginWith(env.Browser(), c.user, c.password)
		if p.Status != http.StatusUnauthorized {
			t.Fatalf("login %s: status %d", c.user, p.Status)
		}
		msgs = append(msgs, strings.TrimSpace(p.Doc.Find(".form-error").Text()))
		if got := p.Doc.Find(`input[name="username"]`).AttrOr("value", ""); got != c.user {
			t.Errorf("login form lost the username: %q", got)
		}
		if strings.Contains(p.Body, c.password) {
			t.Errorf("login page echoes the password")
		}
	}
	if msgs[0] != "Invalid username or password." || msgs[1] != msgs[0] || msgs[2] != msgs[0] {
		t.Fatalf("login failure messages differ: %q", msgs)
	}
}

// TestLoginThrottleAndLock: after 3 failures each attempt must wait, after 5
// the account locks for 15 minutes even for the right password; failures
// and refusals are audited.
func TestLoginThrottleAndLock(t *testing.T) {
	env := testenv.New(t)
	env.CreateUser("alice", false)
	b := env.Browser()
	fail := func(i int) {
		t.Helper()
		p := loginWith(b, "alice", fmt.Sprintf("wrong-password-%d", i))
		if p.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d %s", i, p.Status, p.Doc.Find(".form-error").Text())
		}
	}
	refused := func(password, want string) {
		t.Helper()
		p := loginWith(b, "alice", password)
		msg := p.Doc.Find(".form-error").Text()
		if p.Status != http.StatusTooManyRequests || !strings.Contains(msg, want) {
			t.Fatalf("attempt while throttled: status %d message %q, want 429 %q", p.Status, msg, want)
		}
	}
	for i := 1; i <= 3; i++ {
		fail(i)
	}
	refused("wrong-password-x", "Wait 2s")
	refused(testenv.Password, "Wait")
	env.Clock.Advance(2 * time.Second)
	fail(4)
	refused(testenv.Password, "Wait 4s")
	env.Clock.Advance(4 * time.Second)
	fail(5)
	refused(testenv.Password, "locked")
	env.Clock.Advance(14 * time.Minute)
	refused(testenv.Password, "locked")
	env.Clock.Advance(time.Minute)
	if p := loginWith(b, "alice", testenv.Password); p.Status != http.StatusSeeOther {
		t.Fatalf("after 15 minutes: status %d %s", p.Status, p.Doc.Find(".form-error").Text())
	}

	if n := count(t, env, `SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login' AND actor = 'alice'
		AND outcome = 'denied' AND detail = 'wrong password' AND source_addr = '127.0.0.1'`); n != 5 {
		t.Errorf("audited wrong passwords: %d, want 5", n)
	}
	if n := count(t, env, `SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login' AND actor = 'alice'
		AND outcome = 'denied' AND (detail LIKE '%Wait%' OR detail LIKE '%locked%')`); n != 5 {
		t.Errorf("audited throttled attempts: %d, want 5", n)
	}
	if n := count(t, env, `SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login' AND actor = 'alice' AND outcome = 'success'`); n != 1 {
		t.Errorf("audited sign-ins: %d, want 1", n)
	}
	if n := count(t, env, `SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%wrong-password-%'`); n != 0 {
		t.Errorf("a typed password reached the audit log")
	}
}

// TestLoginLockIgnoresUsernameCase: the user lock counts "alice", "ALICE"
// and "Alice" as one account, since sign-in treats them as one.
func TestLoginLockIgnoresUsernameCase(t *testing.T) {
	env := testenv.New(t)
	env.CreateUser("alice", false)
	b := env.Browser()
	for i, name := range []string{"alice", "ALICE", "Alice", "aLICE", "AlIcE"} {
		if p := loginWith(b, name, "wrong password"); p.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d as %s: status %d", i+1, name, p.Status)
		}
		env.Clock.Advance(time.Minute)
	}
	p := loginWith(b, "alice", testenv.Password)
	if p.Status != http.StatusTooManyRequests || !strings.Contains(p.Doc.Find(".form-error").Text(), "locked") {
		t.Fatalf("after 5 failures in mixed case: status %d %q", p.Status, p.Doc.Find(".form-error").Text())
	}
}

// TestLoginAddressLock locks an address after 20 failures spread over many
// usernames; other addresses are not affected.
func TestLoginAddressLock(t *testing.T) {
	env := testenv.New(t)
	env.CreateUser("root", true)
	b := env.Browser()
	for i := range 20 {
		if p := loginWith(b, fmt.Sprintf("guess%d", i), "wrong password"); p.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d %s", i+1, p.Status, p.Doc.Find(".form-error").Text())
		}
		env.Clock.Advance(61 * time.Second) // past the longest per-attempt wait
	}
	p := loginWith(b, "root", testenv.Password)
	if p.Status != http.StatusTooManyRequests || !strings.Contains(p.Doc.Find(".form-error").Text(), "locked") {
		t.Fatalf("after 20 failures from one address: status %d %q", p.Status, p.Doc.Find(".form-error").Text())
	}
	if _, _, err := env.App.Auth.Login(context.Background(), "root", testenv.Password, "10.0.0.2"); err != nil {
		t.Fatalf("another address is locked too: %v", err)
	}
	if n := count(t, env, `SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login' AND outcome = 'denied' AND actor LIKE 'guess%'`); n != 20 {
		t.Errorf("audited failures: %d, want 20", n)
	}
}
