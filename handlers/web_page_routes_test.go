package handlers_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/notify"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/internal/signing"
	"github.com/keyward/keyward/internal/testenv"
)

// notPages are the GET routes that answer something other than an HTML
// page of the console, each with why; an entry ending in "*" covers every
// route pattern it begins. Every other GET route must have a sample in
// TestEveryPageFullAndFragment.
var notPages = map[string]string{
	"/apiops/*":                           "the REST API answers JSON",
	"/static*":                            "embedded CSS, JavaScript and htmx",
	"/jwks/:projectName/:environmentName": "the public JWKS gateways read, JSON",
	"/healthz":                            "liveness probe, JSON",
	"/readyz":                             "readiness probe, JSON",
	"/metrics":                            "Prometheus metrics, text",
	"/audit.csv":                          "the audit log as a CSV download",
	"/expiring.csv":                       "the expiry overview as a CSV download",
	"/projects/:project/certificates/:cert/export": "a certificate download: PEM, DER, PKCS#7 or a ZIP of every environment",
}

// covers reports whether the notPages entry covers the route pattern.
func covers(entry, pattern string) bool {
	if prefix, ok := strings.CutSuffix(entry, "*"); ok {
		return strings.HasPrefix(pattern, prefix)
	}
	return entry == pattern
}

// notPage returns why the route pattern is not a page, or "".
func notPage(pattern string) string {
	for entry, why := range notPages {
		if covers(entry, pattern) {
			return why
		}
	}
	return ""
}

// pageSample is how TestEveryPageFullAndFragment opens one GET route: a URL
// showing the fixture's data, whether it is a page for signed-out visitors,
// and the selector of the page's main content. A part is a piece of a form
// that htmx swaps in (it has no heading).
type pageSample struct {
	url, content string
	anonymous    bool
	part         bool
}

// pageFixture is newSite plus what every page needs to show something: a
// setup link (taken before any user exists), a deployed RSA key "signer"
// with a JWK "signer-jwk" in production, a deployed certificate "edge" in
// production, an EC signing key "jwt-signer" (signingCKA reads its CKA_ID)
// and an API token of root.
func pageFixture(t *testing.T) (env *testenv.Env, admin, anon *testenv.Browser, setupToken string) {
	t.Helper()
	env = testenv.New(t)
	ctx := context.Background()
	setupToken, err := env.App.Auth.NewSetupToken(ctx)
	if err != nil || setupToken == "" {
		t.Fatalf("setup token %q: %v", setupToken, err)
	}
	env.CreateUser("root", true)
	env.CreateUser("bob", false)
	root := env.Principal("root")
	if _, err := env.App.Projects.Create(ctx, root, "payments", "Payments APIs"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Environments.Create(ctx, root, environments.Input{Name: "production"}); err != nil {
		t.Fatal(err)
	}
	key := secrets.KeyInput{Name: "signer", Type: "PRIVATE_KEY", ListField: "configs", Configs: []secrets.ConfigInput{
		{Field: "configs[0]", Environment: "production", Content: privatePEM(t, testKeys().rsaA)}}}
	if _, err := env.App.Secrets.CreateKey(ctx, root, "payments", key, true); err != nil {
		t.Fatal(err)
	}
	jwk := secrets.JWKInput{Name: "signer-jwk", SourceType: secrets.SourceKey, SourceName: "signer", Use: "sig", Alg: "RS256", Environments: []string{"production"}}
	if _, err := env.App.Secrets.CreateJWK(ctx, root, "payments", jwk, true); err != nil {
		t.Fatal(err)
	}
	chain := newTestChain(t, "edge.example.com")
	cert := secrets.CertificateInput{Name: "edge", ListField: "configs", Configs: []secrets.CertConfigInput{{Field: "configs[0]", Environment: "production",
		Source: secrets.SourceClipboard, Encoding: "BASE64PEM", Content: pemOf(chain.leaf, chain.intermediate)}}}
	if _, err := env.App.Secrets.CreateCertificate(ctx, root, "payments", cert, true); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Signing.CreateKey(ctx, root, "payments", signing.CreateInput{Label: "jwt-signer", Algorithm: "ECDSA", GenerationType: signing.GenerateAuto}); err != nil {
		t.Fatal(err)
	}
	env.Token("root")
	admin = env.Browser()
	admin.Login("root")
	return env, admin, env.Browser(), setupToken
}

// TestEveryPageFullAndFragment opens every GET route of the web console,
// as Echo lists them, as a full document and as an htmx fragment: each is
// 200 text/html with Vary: HX-Request; the full page has the layout (title,
// navigation) around its content, the fragment the content without it. A GET
// route without a sample (or a reason not to be a page) fails the test.
func TestEveryPageFullAndFragment(t *testing.T) {
	env, admin, anon, setupToken := pageFixture(t)
	cka := signingCKA(t, env, "jwt-signer")
	if _, err := env.App.Signing.CreateSigner(context.Background(), env.Principal("root"), "payments",
		signing.SignerInput{Name: "jwt-alias", ActiveKey: cka, Environments: []string{"production"}, LeadTime: time.Hour}); err != nil {
		t.Fatal(err)
	}
	root := env.Principal("root")
	if _, err := env.App.Notify.CreateChannel(context.Background(), root, "payments", notify.ChannelInput{Name: "ops", Kind: notify.Slack,
		URL: "https://hooks.example.com/services/x", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Notify.CreateRule(context.Background(), root, "payments", notify.RuleInput{Name: "certs", Types: []string{"certificate"},
		Channels: []string{"ops"}, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	ksWebSeed(t, env)
	samples := map[string]pageSample{
		"/projects/:project/notifications":    {url: "/projects/payments/notifications", content: "#deliveries"},
		"/setup/:token":                       {url: "/setup/" + setupToken, content: `form[action^="/setup/"]`, anonymous: true},
		"/login":                              {url: "/login", content: `form[action="/login"]`, anonymous: true},
		"/":                                   {url: "/", content: "#expiry-summary"},
		"/projects":                           {url: "/projects", content: "#projects"},
		"/projects/:project":                  {url: "/projects/payments", content: "#members"},
		"/environments":                       {url: "/environments", content: "#environments"},
		"/environments/:env":                  {url: "/environments/production", content: "#history"},
		"/admin/users":                        {url: "/admin/users", content: "#users"},
		"/admin/users/:username":              {url: "/admin/users/bob", content: "#password-reset"},
		"/account":                            {url: "/account", content: "#tokens"},
		"/audit":                              {url: "/audit", content: "#audit-results"},
		"/expiring":                           {url: "/expiring?within=30d", content: "#expiry-results"},
		"/search":                             {url: "/search?q=pay", content: "#search-results"},
		"/projects/:project/keys":             {url: "/projects/payments/keys", content: "#keys"},
		"/projects/:project/keys/new":         {url: "/projects/payments/keys/new", content: "#key-form"},
		"/projects/:project/keys/algorithms":  {url: "/projects/payments/keys/algorithms?keyType=PRIVATE_KEY", content: "#algorithm-field", part: true},
		"/projects/:project/keys/:key":        {url: "/projects/payments/keys/signer", content: "#configurations"},
		"/projects/:project/keys/:key/edit":   {url: "/projects/payments/keys/signer/edit", content: "#key-form"},
		"/projects/:project/jwks":             {url: "/projects/payments/jwks", content: "#jwks"},
		"/projects/:project/certificates":     {url: "/projects/payments/certificates", content: "#certificates"},
		"/projects/:project/certificates/new": {url: "/projects/payments/certificates/new", content: "#certificate-form"},
		"/projects/:project/certificates/truststore":    {url: "/projects/payments/certificates/truststore?environment=production", content: "#builtin-roots"},
		"/projects/:project/certificates/:cert":         {url: "/projects/payments/certificates/edge", content: "#configurations"},
		"/projects/:project/certificates/:cert/edit":    {url: "/projects/payments/certificates/edge/edit", content: "#certificate-form"},
		"/projects/:project/jwks/new":                   {url: "/projects/payments/jwks/new", content: "#jwk-form"},
		"/projects/:project/jwks/:jwk":                  {url: "/projects/payments/jwks/signer-jwk", content: "#jwk-source"},
		"/projects/:project/signing-keys":               {url: "/projects/payments/signing-keys", content: "#signing-keys"},
		"/projects/:project/signing-keys/new":           {url: "/projects/payments/signing-keys/new", content: "#signing-key-form"},
		"/projects/:project/signing-keys/label-check":   {url: "/projects/payments/signing-keys/label-check?label=jwt-signer", content: "#label-hint", part: true},
		"/projects/:project/signing-keys/:cka":          {url: "/projects/payments/signing-keys/" + cka, content: "#public-key"},
		"/projects/:project/signing-keys/signers/new":   {url: "/projects/payments/signing-keys/signers/new", content: "#signer-form"},
		"/projects/:project/signing-keys/signers/:name": {url: "/projects/payments/signing-keys/signers/jwt-alias", content: "#signer-timeline"},
		"/projects/:project/signing-keys/signers/:name/rotation-plan": {url: "/projects/payments/signing-keys/signers/jwt-alias/rotation-plan?activateAt=2026-12-01T09:00",
			content: "#rotation-plan", part: true},
		"/admin/hsm":                                  {url: "/admin/hsm", content: "#token-info"},
		"/projects/:project/key-sets":                 {url: "/projects/payments/key-sets?status=ACTIVE", content: "#key-set-results"},
		"/projects/:project/key-sets/:keySet":         {url: "/projects/payments/key-sets/API_KEY-shop-app", content: "#key-set-timeline"},
		"/projects/:project/api-catalog":              {url: "/projects/payments/api-catalog", content: "#apis"},
		"/projects/:project/api-catalog/:api":         {url: "/projects/payments/api-catalog/orders", content: "#subscribers"},
		"/projects/:project/policy-templates":         {url: "/projects/payments/policy-templates", content: "#policies"},
		"/projects/:project/policy-templates/:policy": {url: "/projects/payments/policy-templates/standard", content: "#policy-rules"},
		"/projects/:project/organizations":            {url: "/projects/payments/organizations", content: "#organizations"},
		"/projects/:project/organizations/:org":       {url: "/projects/payments/organizations/acme", content: "#groups"},
		"/projects/:project/applications":             {url: "/projects/payments/applications", content: "#applications"},
		"/projects/:project/applications/:app":        {url: "/projects/payments/applications/shop-app", content: "#application-subscriptions"},
	}
	var patterns []string
	for _, r := range env.Echo.Routes() {
		if r.Method == http.MethodGet && !slices.Contains(patterns, r.Path) {
			patterns = append(patterns, r.Path)
		}
	}
	slices.Sort(patterns)
	for entry := range notPages {
		if !slices.ContainsFunc(patterns, func(p string) bool { return covers(entry, p) }) {
			t.Errorf("notPages lists %s, which covers no GET route", entry)
		}
	}
	for p := range samples {
		if !slices.Contains(patterns, p) || notPage(p) != "" {
			t.Errorf("the samples have %s, which is not a GET page route", p)
		}
	}
	for _, pattern := range patterns {
		if notPage(pattern) != "" {
			continue
		}
		pg, ok := samples[pattern]
		if !ok {
			t.Errorf("GET %s has no sample URL: add it to the samples of TestEveryPageFullAndFragment (or, if it is not an HTML page, to notPages with the reason)", pattern)
			continue
		}
		t.Run(pattern, func(t *testing.T) {
			b := admin
			if pg.anonymous {
				b = anon
			}
			for _, htmx := range []bool{false, true} {
				what := "GET " + pg.url
				if htmx {
					what = "htmx " + what
				}
				p := b.Get(pg.url, htmx)
				if p.Status != http.StatusOK {
					t.Errorf("%s: status %d, want 200", what, p.Status)
					continue
				}
				if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
					t.Errorf("%s: Content-Type %q, want text/html", what, ct)
				}
				checkSecurityHeaders(t, what, p.Header)
				if !htmx {
					if !strings.Contains(p.Body, "<html") || p.Doc.Find("head title").Length() != 1 ||
						p.Doc.Find("header.topbar nav").Length() != 1 || p.Doc.Find("main "+pg.content).Length() != 1 {
						t.Errorf("%s is not a full page with title, navigation and %s", what, pg.content)
					}
					// A project's pages carry its side navigation, with the
					// page's own area marked.
					if strings.HasPrefix(pattern, "/projects/:project") && !pg.part {
						if n := p.Doc.Find(`#project-nav a[aria-current="page"]`).Length(); p.Doc.Find("#project-nav").Length() != 1 || n != 1 {
							t.Errorf("%s: the project navigation is missing or marks %d areas, want 1", what, n)
						}
					}
					continue
				}
				if p.Doc.Find("#project-nav").Length() != 0 {
					t.Errorf("%s: a fragment for part of a page carries the project navigation", what)
				}
				if strings.Contains(p.Body, "<html") || strings.Contains(p.Body, "<title") ||
					p.Doc.Find("header.topbar").Length() != 0 {
					t.Errorf("%s is not a fragment: %.200s", what, p.Body)
				}
				if p.Doc.Find(pg.content).Length() != 1 || !pg.part && p.Doc.Find("h1").Length() != 1 {
					t.Errorf("%s lacks the page content %s (and its heading)", what, pg.content)
				}
			}
		})
	}
	// Error pages carry the headers too.
	p := admin.Get("/projects/nope", false)
	if p.Status != http.StatusNotFound {
		t.Fatalf("missing project: status %d", p.Status)
	}
	checkSecurityHeaders(t, "404 page", p.Header)
}
