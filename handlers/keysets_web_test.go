package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/keysets"
	"github.com/keyward/keyward/internal/testenv"
)

// The web console's Key Sets area (seed 003): the Keys list, the key set
// details with its actions, the API Catalog with Subscribe, and the pages
// of policy templates, organizations and applications.

// ksWebSeed adds to a site with project payments and environment
// production: policy template standard (90d expiration, 30d rotation,
// manual regeneration, 1h grace period), API orders in production with
// API_KEY, organization acme with group mobile, application shop-app in
// it, subscribed to orders in production: key set API_KEY-shop-app.
// It returns the subscription's result (with the key's value).
func ksWebSeed(t *testing.T, env *testenv.Env) keysets.SubscribeResult {
	t.Helper()
	ctx, root, ks := context.Background(), env.Principal("root"), env.App.KeySets
	if _, err := ks.CreatePolicy(ctx, root, "payments", keysets.PolicyInput{Name: "standard", Expiration: "90d", Rotation: "30d",
		ManualRegeneration: true, GracePeriod: "1h"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.CreateAPI(ctx, root, "payments", keysets.APIInput{Name: "orders", Description: "Order intake", Environments: []string{"production"},
		AuthTypes: []string{keysets.APIKey}, PolicyTemplate: "standard"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.CreateOrganization(ctx, root, "payments", "acme", "ACME Corp"); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.CreateGroup(ctx, root, "payments", "acme", "mobile"); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.CreateApplication(ctx, root, "payments", keysets.ApplicationInput{Name: "shop-app", Organization: "acme", Group: "mobile"}); err != nil {
		t.Fatal(err)
	}
	res, err := ks.Subscribe(ctx, root, "payments", "shop-app", keysets.SubscribeInput{API: "orders", Environment: "production"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

const ksSet = "/projects/payments/key-sets/API_KEY-shop-app"

// ksViewer signs bob in with KEY_SETS:VIEW only.
func ksViewer(t *testing.T, env *testenv.Env) *testenv.Browser {
	t.Helper()
	env.Grant("payments", "bob", access.KeySetsView)
	bob := env.Browser()
	bob.Login("bob")
	return bob
}

func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestKeySetList: the columns, each row linking to its details, every
// filter on the server (status, type, API, environment, organization,
// group, application, dates, free text), paging that keeps the filters, a
// bad filter answered 422 beside nothing changed, and 404 for a project
// the user cannot see.
func TestKeySetList(t *testing.T) {
	env, admin := newSite(t)
	ksWebSeed(t, env)
	ctx, root, ks := context.Background(), env.Principal("root"), env.App.KeySets
	if _, err := ks.CreateApplication(ctx, root, "payments", keysets.ApplicationInput{Name: "web-app", Organization: "acme"}); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(48 * time.Hour)
	if _, err := ks.Subscribe(ctx, root, "payments", "web-app", keysets.SubscribeInput{API: "orders", Environment: "production"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Suspend(ctx, root, "payments", "API_KEY-web-app"); err != nil {
		t.Fatal(err)
	}
	admin.Login("root") // two days later: the session has expired
	rows := func(p testenv.Page) []string {
		var out []string
		p.Doc.Find("#key-sets tbody tr td:first-child a").Each(func(_ int, a *goquery.Selection) { out = append(out, a.Text()) })
		return out
	}
	for _, htmx := range []bool{false, true} {
		p := admin.Get("/projects/payments/key-sets", htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("GET list (htmx %v): %d", htmx, p.Status)
		}
		checkFragment(t, "key set list", p, !htmx)
		if got := strings.Join(texts(p.Doc, "#key-sets thead th"), "|"); got != "Key set|Status|Type|Environment|Application|Organization|LATEST key|Created|Expires|Last rotated" {
			t.Errorf("columns %q", got)
		}
		if got := rows(p); strings.Join(got, ",") != "API_KEY-web-app,API_KEY-shop-app" {
			t.Errorf("rows %v", got)
		}
		row := p.Doc.Find("#key-set-API_KEY-shop-app")
		if row.Find(`a[href="`+ksSet+`"]`).Length() != 1 || !strings.Contains(squash(row.Text()), "ACTIVE API_KEY production shop-app acme") ||
			!strings.Contains(row.Text(), "2026-11-23") || !strings.Contains(row.Text(), "2027-02-21") {
			t.Errorf("row %q", squash(row.Text()))
		}
		if p.Doc.Find(`#key-set-filters[hx-get="/projects/payments/key-sets"][hx-select="#key-set-results"]`).Length() != 1 {
			t.Errorf("the filters are not swapped by htmx")
		}
	}
	for query, want := range map[string]string{
		"status=SUSPENDED":                            "API_KEY-web-app",
		"status=active":                               "API_KEY-shop-app",
		"authType=CLIENT_CREDENTIALS":                 "",
		"api=orders":                                  "API_KEY-web-app,API_KEY-shop-app",
		"environment=production":                      "API_KEY-web-app,API_KEY-shop-app",
		"organization=acme&group=mobile":              "API_KEY-shop-app",
		"group=mobile":                                "API_KEY-shop-app",
		"application=web-app":                         "API_KEY-web-app",
		"search=SHOP":                                 "API_KEY-shop-app",
		"createdFrom=2026-11-24":                      "API_KEY-web-app",
		"createdTo=2026-11-23":                        "API_KEY-shop-app",
		"expiresFrom=2027-02-21&expiresTo=2027-02-21": "API_KEY-shop-app",
		"rotatedFrom=2026-01-01":                      "",
	} {
		p := admin.Get("/projects/payments/key-sets?"+query, true)
		if got := strings.Join(rows(p), ","); p.Status != http.StatusOK || got != want {
			t.Errorf("%s: status %d rows %q, want %q", query, p.Status, got, want)
		}
		if want == "" && p.Doc.Find("#no-key-sets").Text() != "No key set matches these filters." {
			t.Errorf("%s: empty list says %q", query, p.Doc.Find("#no-key-sets").Text())
		}
	}
	// Paging keeps the filters.
	p := admin.Get("/projects/payments/key-sets?api=orders&size=1", false)
	if got := rows(p); len(got) != 1 || !strings.Contains(p.Doc.Find(".pager").Text(), "2 key set(s) · page 1 of 2") ||
		p.Doc.Find(`.pager a[href="?api=orders&size=1&page=2"]`).Length() != 1 {
		t.Errorf("page 1 of 2: %v %q", got, squash(p.Doc.Find(".pager").Text()))
	}
	if p.Doc.Find("select[name=api] option[value=orders][selected]").Length() != 1 {
		t.Errorf("the API chosen is not kept")
	}
	// Bad filters: 422 with the message, the value kept.
	before := testenv.TakeSnapshot(t, env)
	for query, want := range map[string]string{
		"expiresFrom=tomorrow": `expiresFrom "tomorrow" is not a time`,
		"status=LOST":          `"LOST" is not a status`,
		"api=nope":             `API "nope" does not exist`,
		"createdFrom=2026-11-25&createdTo=2026-11-24": "createdTo must be after createdFrom",
		"page=0": "page must be a whole number",
	} {
		for _, htmx := range []bool{false, true} {
			p := admin.Get("/projects/payments/key-sets?"+query, htmx)
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Doc.Find("#key-set-filter-error").Text(), want) || p.Doc.Find("#key-sets").Length() != 0 {
				t.Errorf("%s: status %d, error %q", query, p.Status, p.Doc.Find("#key-set-filter-error").Text())
			}
		}
	}
	if p := admin.Get("/projects/payments/key-sets?expiresFrom=tomorrow", false); p.Doc.Find(`input[name=expiresFrom][aria-invalid=true]`).AttrOr("value", "") != "tomorrow" {
		t.Errorf("the bad date is not kept and marked")
	}
	if d := before.Changes(t); d != "" {
		t.Errorf("listing changed data: %s", d)
	}
	bob := env.Browser()
	bob.Login("bob")
	for _, path := range []string{"/projects/payments/key-sets", ksSet, "/projects/payments/api-catalog", "/projects/payments/applications/shop-app",
		"/projects/payments/organizations", "/projects/payments/policy-templates/standard", "/projects/payments/key-sets?status=LOST"} {
		if p := bob.Get(path, false); p.Status != http.StatusNotFound {
			t.Errorf("bob (no member) GET %s: %d, want 404", path, p.Status)
		}
	}
	// The project page links the area for a viewer.
	viewer := ksViewer(t, env)
	if p := viewer.Get("/projects/payments", false); p.Doc.Find(`#area-key-sets a[href="/projects/payments/key-sets"]`).Length() != 1 ||
		p.Doc.Find(`#area-api-catalog a[href="/projects/payments/api-catalog"]`).Length() != 1 || p.Doc.Find("#area-keys").Length() != 0 {
		t.Errorf("the project page does not link the Key Sets area")
	}
}

// ksActions are the ids of the action buttons a page offers.
func ksActions(p testenv.Page) []string {
	var out []string
	p.Doc.Find("#key-set-actions button").Each(func(_ int, b *goquery.Selection) { out = append(out, b.AttrOr("id", "")) })
	return out
}

// TestKeySetDetails: status, Authorized APIs linking to the catalog, the
// subscription behind them, the policy, the timeline with scheduled
// milestones, the keys with LATEST (never a value), and the actions that
// apply. A viewer sees everything but the actions; posting one is 403 and
// changes nothing.
func TestKeySetDetails(t *testing.T) {
	env, admin := newSite(t)
	res := ksWebSeed(t, env)
	value := res.KeySets[0].Credentials.Key
	for _, htmx := range []bool{false, true} {
		p := admin.Get(ksSet, htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("GET details (htmx %v): %d", htmx, p.Status)
		}
		checkFragment(t, "key set details", p, !htmx)
		if strings.Contains(p.Body, value) {
			t.Fatal("the details show the key's value")
		}
		if p.Doc.Find("h1").Text() != "API_KEY-shop-app" || p.Doc.Find("#key-set-status").Text() != "ACTIVE" {
			t.Errorf("heading %q status %q", p.Doc.Find("h1").Text(), p.Doc.Find("#key-set-status").Text())
		}
		if p.Doc.Find(`#authorized-apis li a[href="/projects/payments/api-catalog/orders"]`).Text() != "orders" ||
			p.Doc.Find(`#key-set-subscriptions a[href^="/projects/payments/applications/shop-app#subscription-"]`).Length() != 1 {
			t.Errorf("authorized APIs %q", squash(p.Doc.Find("#authorized-apis").Text()))
		}
		pol := p.Doc.Find("#key-set-policy")
		if got := squash(pol.Find(".rule-expiration").Text() + "|" + pol.Find(".rule-rotation").Text() + "|" + pol.Find(".rule-regeneration").Text() + "|" +
			pol.Find(".rule-grace").Text()); got != "after 90d|every 30d|allowed|1h: a replaced key still verifies that long" ||
			!strings.Contains(pol.Text(), "Next rotation at 2026-12-23 09:00:00 UTC") {
			t.Errorf("policy %q", got)
		}
		var timeline []string
		p.Doc.Find("#timeline tbody tr").Each(func(_ int, r *goquery.Selection) {
			timeline = append(timeline, squash(r.Find(".step-title").Text()+" | "+r.Find(".event-scheduled").Text()+" | "+r.Find(".event-actual").Text()))
		})
		want := []string{"Created | — | 2026-11-23 09:00:00 UTC", "Provisioned | — | 2026-11-23 09:00:00 UTC",
			"Rotation | 2026-12-23 09:00:00 UTC | scheduled", "Expiration | 2027-02-21 09:00:00 UTC | scheduled"}
		if strings.Join(timeline, "\n") != strings.Join(want, "\n") {
			t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(timeline, "\n"), strings.Join(want, "\n"))
		}
		key := p.Doc.Find("#keys tbody tr#key-1")
		if key.Find("#latest").Text() != "LATEST" || !strings.HasPrefix(key.Find("code").Text(), "kw_ak_…") || key.Find("code").Text() != "kw_ak_…"+value[len(value)-4:] {
			t.Errorf("key row %q", squash(key.Text()))
		}
		if got := strings.Join(ksActions(p), ","); got != "action-suspend,action-regenerate,action-revoke,retrieve-credentials" {
			t.Errorf("actions %s", got)
		}
		if p.Doc.Find("#actions-unavailable").Length() != 0 ||
			p.Doc.Find(`dialog#key-set-revoke form[action="`+ksSet+`/revoke"] input[name=confirm_name]`).Length() != 1 {
			t.Errorf("unavailable %q, or no revocation dialog", p.Doc.Find("#actions-unavailable").Text())
		}
	}
	viewer := ksViewer(t, env)
	p := viewer.Get(ksSet, false)
	if p.Status != http.StatusOK || len(ksActions(p)) != 0 || p.Doc.Find("dialog#key-set-revoke, #key-set-actions form").Length() != 0 {
		t.Errorf("viewer: status %d, actions %v", p.Status, ksActions(p))
	}
	if !strings.Contains(p.Doc.Find("#key-set-actions").Text(), "The lifecycle actions need KEY_SETS:MANAGE and KEY_SETS:DEPLOY_UNDEPLOY; Retrieve Credentials needs KEY_SETS:MANAGE.") {
		t.Errorf("viewer's actions say %q", squash(p.Doc.Find("#key-set-actions").Text()))
	}
	before := testenv.TakeSnapshot(t, env)
	for _, a := range []string{"suspend", "activate", "regenerate", "credentials", "revoke"} {
		if p := viewer.Post(ksSet+"/"+a, url.Values{"confirm_name": {"API_KEY-shop-app"}}, false); p.Status != http.StatusForbidden || strings.Contains(p.Body, value) {
			t.Errorf("viewer POST %s: %d", a, p.Status)
		}
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Errorf("refused actions changed data: %s", d)
	}
	if p := admin.Get("/projects/payments/key-sets/nope", false); p.Status != http.StatusNotFound {
		t.Errorf("unknown key set: %d", p.Status)
	}
}

// TestKeySetActions: Suspend, then the page offers Activate; a second
// Suspend is refused (409) on the page with the actions to retry, nothing
// changed; Regenerate shows the new key once and makes it LATEST;
// Retrieve Credentials shows it again (and the grace-period key); a wrong
// typed name for Revoke opens the dialog again (422), nothing changed;
// the right one revokes and no action is left.
func TestKeySetActions(t *testing.T) {
	env, admin := newSite(t)
	ksWebSeed(t, env)
	p := admin.Post(ksSet+"/suspend", nil, false)
	if p.Status != http.StatusSeeOther || p.Location() != ksSet {
		t.Fatalf("suspend: %d %q", p.Status, p.Location())
	}
	p = admin.Get(ksSet, false)
	if p.Doc.Find(".flash-success").Text() != "Key set API_KEY-shop-app suspended." || p.Doc.Find("#key-set-status").Text() != "SUSPENDED" ||
		strings.Join(ksActions(p), ",") != "action-activate,action-regenerate,action-revoke,retrieve-credentials" {
		t.Errorf("after suspend: %q %q %v", p.Doc.Find(".flash").Text(), p.Doc.Find("#key-set-status").Text(), ksActions(p))
	}
	before := testenv.TakeSnapshot(t, env)
	for _, htmx := range []bool{false, true} {
		p = admin.Post(ksSet+"/suspend", nil, htmx)
		checkFragment(t, "refused suspend", p, !htmx)
		if p.Status != http.StatusConflict || !strings.Contains(p.Doc.Find("#action-error").Text(), "The key set is SUSPENDED: only an ACTIVE key set can be suspended.") ||
			p.Doc.Find("#action-activate").Length() != 1 {
			t.Errorf("second suspend: %d %q", p.Status, p.Doc.Find("#action-error").Text())
		}
		p = admin.Post(ksSet+"/revoke", url.Values{"confirm_name": {"API_KEY-shop"}}, htmx)
		if p.Status != http.StatusUnprocessableEntity || p.Doc.Find("dialog#key-set-revoke[data-dialog-autoopen]").Length() != 1 ||
			!strings.Contains(p.Doc.Find("#key-set-revoke-error").Text(), `Type the key set's name, "API_KEY-shop-app"`) {
			t.Errorf("revoke with a wrong name: %d %q", p.Status, p.Doc.Find("#key-set-revoke-error").Text())
		}
		p = admin.Post(ksSet+"/regenerate", url.Values{"key": {"7"}}, htmx)
		if p.Status != http.StatusConflict || !strings.Contains(p.Doc.Find("#action-error").Text(), "Key #7 is not LATEST") {
			t.Errorf("regenerate key 7: %d %q", p.Status, p.Doc.Find("#action-error").Text())
		}
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Fatalf("refused actions changed data: %s", d)
	}
	// Activate again, then Regenerate: the new key, once.
	if p := admin.Post(ksSet+"/activate", nil, true); p.Status != http.StatusNoContent || p.Location() != ksSet {
		t.Fatalf("activate (htmx): %d %q", p.Status, p.Location())
	}
	p = admin.Post(ksSet+"/regenerate", url.Values{"key": {"1"}}, false)
	newKey := p.Doc.Find("#regenerated code#new-key").Text()
	if p.Status != http.StatusOK || !strings.HasPrefix(newKey, "kw_ak_") || p.Header.Get("HX-Push-Url") != ksSet ||
		p.Doc.Find("#keys tr#key-2 #latest").Length() != 1 || !strings.Contains(p.Doc.Find(".flash-success").Text(), "key #2 replaces the previous key") {
		t.Fatalf("regenerate: %d key %q %q", p.Status, newKey, p.Doc.Find(".flash").Text())
	}
	if p := admin.Get(ksSet, false); strings.Contains(p.Body, newKey) || p.Doc.Find("#regenerated").Length() != 0 {
		t.Error("the new key is shown again")
	}
	p = admin.Post(ksSet+"/credentials", nil, false)
	if p.Status != http.StatusOK || p.Doc.Find("#retrieved-2-key").Text() != newKey || p.Doc.Find("#retrieved-1-key").Length() != 1 ||
		!strings.Contains(p.Doc.Find("#retrieved").Text(), "grace period") {
		t.Errorf("retrieve: %d %q", p.Status, squash(p.Doc.Find("#retrieved").Text()))
	}
	if n := count(t, env, "SELECT COUNT(*) FROM audit_log WHERE action = 'key_set.credentials'"); n != 1 {
		t.Errorf("%d retrievals audited", n)
	}
	p = admin.Post(ksSet+"/revoke", url.Values{"confirm_name": {"API_KEY-shop-app"}}, false)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", p.Status, p.Doc.Find("main").Text())
	}
	p = admin.Get(ksSet, false)
	if p.Doc.Find("#key-set-status").Text() != "REVOKED" || strings.Join(ksActions(p), ",") != "retrieve-credentials" ||
		!strings.Contains(p.Doc.Find("#actions-unavailable").Text(), "Revoke Key: The key set is REVOKED") {
		t.Errorf("after revoke: %q %v", p.Doc.Find("#key-set-status").Text(), ksActions(p))
	}
	if got := squash(p.Doc.Find("#timeline tr.event-REVOKED").Text()); !strings.Contains(got, "Revoked") || !strings.Contains(got, "root") {
		t.Errorf("timeline's revocation %q", got)
	}
}

// TestAPICatalogSubscribe: the catalog and an API's page (types, policy,
// environments, subscribers); Subscribe shows the new key set's value once
// and a reused key set without values; a refused subscription re-renders
// the form with the message beside its field, nothing changed; a viewer is
// offered no form and is refused.
func TestAPICatalogSubscribe(t *testing.T) {
	env, admin := newSite(t)
	ksWebSeed(t, env)
	ctx, root, ks := context.Background(), env.Principal("root"), env.App.KeySets
	if _, err := ks.CreateAPI(ctx, root, "payments", keysets.APIInput{Name: "billing", Environments: []string{"production"},
		AuthTypes: []string{keysets.APIKey, keysets.ClientCredentials}, PolicyTemplate: "standard"}); err != nil {
		t.Fatal(err)
	}
	p := admin.Get("/projects/payments/api-catalog", false)
	if got := squash(p.Doc.Find("#api-orders").Text()); !strings.Contains(got, "Order intake API_KEY standard production 1") {
		t.Errorf("catalog row %q", got)
	}
	p = admin.Get("/projects/payments/api-catalog/billing", true)
	if p.Doc.Find("#api-auth-types").Text() == "" || !strings.Contains(p.Doc.Find("#api-auth-types").Text(), "CLIENT_CREDENTIALS") ||
		p.Doc.Find(`#api-policy a[href="/projects/payments/policy-templates/standard"]`).Length() != 1 || p.Doc.Find("#no-subscribers").Length() != 1 {
		t.Errorf("API page %q", squash(p.Doc.Find("#api-info").Text()))
	}
	before := testenv.TakeSnapshot(t, env)
	for _, c := range []struct {
		name, field, want string
		form              url.Values
		status            int
	}{
		{"no application", "application", "Choose the application to subscribe.", url.Values{"environment": {"production"}}, 422},
		{"unknown environment", "environment", `"staging"`, url.Values{"application": {"shop-app"}, "environment": {"staging"}}, 422},
	} {
		p := admin.Post("/projects/payments/api-catalog/billing/subscribe", c.form, true)
		if p.Status != c.status || !strings.Contains(p.Doc.Find("#"+c.field+"-error").Text(), c.want) {
			t.Errorf("%s: %d %q (form %q)", c.name, p.Status, p.Doc.Find("#"+c.field+"-error").Text(), p.Doc.Find("#subscribe-error").Text())
		}
	}
	p = admin.Post("/projects/payments/api-catalog/orders/subscribe", url.Values{"application": {"shop-app"}, "environment": {"production"}}, false)
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Doc.Find("#subscribe-error").Text(), `Application "shop-app" is already subscribed to API "orders"`) {
		t.Errorf("second subscription: %d %q", p.Status, p.Doc.Find("#subscribe-error").Text())
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Fatalf("refused subscriptions changed data: %s", d)
	}
	// shop-app to billing: its API_KEY set is reused, a CLIENT_CREDENTIALS one created.
	p = admin.Post("/projects/payments/api-catalog/billing/subscribe", url.Values{"application": {"shop-app"}, "environment": {"production"}}, false)
	if p.Status != http.StatusOK || p.Header.Get("HX-Push-Url") != "/projects/payments/api-catalog/billing" {
		t.Fatalf("subscribe: %d %s", p.Status, p.Doc.Find("main").Text())
	}
	if p.Doc.Find("#reused-API_KEY-shop-app").Length() != 1 || p.Doc.Find("#subscribed-API_KEY-shop-app code").Length() != 0 {
		t.Errorf("reused set %q", squash(p.Doc.Find("#subscribed-API_KEY-shop-app").Text()))
	}
	id, secret := p.Doc.Find("#cred-CLIENT_CREDENTIALS-shop-app-client-id").Text(), p.Doc.Find("#cred-CLIENT_CREDENTIALS-shop-app-client-secret").Text()
	if !strings.HasPrefix(id, "kw_") || !strings.HasPrefix(secret, "kw_") || p.Doc.Find(`#subscribers a[href="/projects/payments/applications/shop-app"]`).Length() != 1 {
		t.Errorf("created set: id %q secret %q", id, secret)
	}
	if p := admin.Get("/projects/payments/api-catalog/billing", false); strings.Contains(p.Body, secret) {
		t.Error("the secret is shown again")
	}
	// A viewer sees the catalog, no form, and is refused.
	viewer := ksViewer(t, env)
	p = viewer.Get("/projects/payments/api-catalog/orders", false)
	if p.Status != http.StatusOK || p.Doc.Find("#subscribe-form, #api-form, #api-delete-open").Length() != 0 {
		t.Errorf("viewer: %d, forms %d", p.Status, p.Doc.Find("form").Length())
	}
	if p := viewer.Post("/projects/payments/api-catalog/orders/subscribe", url.Values{"application": {"shop-app"}, "environment": {"production"}}, false); p.Status != http.StatusForbidden {
		t.Errorf("viewer subscribe: %d", p.Status)
	}
}

// TestKeySetCatalogForms: creating and editing policy templates, APIs,
// organizations, groups and applications; each bad input answers 422 with
// the message beside its field, the values kept and nothing changed; a
// delete of something in use is refused with the message; suspending an
// application suspends its key set and reactivating it reactivates it.
func TestKeySetCatalogForms(t *testing.T) {
	env, admin := newSite(t)
	ksWebSeed(t, env)
	before := testenv.TakeSnapshot(t, env)
	for _, c := range []struct {
		path, field, want string
		form              url.Values
	}{
		{"/projects/payments/policy-templates", "rotation", "is longer than the expiration", url.Values{"name": {"short"}, "expiration": {"7d"}, "rotation": {"30d"}}},
		{"/projects/payments/policy-templates", "expiration", `"-1d" is not a duration`, url.Values{"name": {"neg"}, "expiration": {"-1d"}}},
		{"/projects/payments/policy-templates", "name", `A policy template named "standard" already exists`, url.Values{"name": {"standard"}}},
		{"/projects/payments/policy-templates/standard", "gracePeriod", "must be shorter than the rotation", url.Values{"expiration": {"90d"}, "rotation": {"1h"}, "gracePeriod": {"2h"}}},
		{"/projects/payments/api-catalog", "authTypes", "Choose at least one authentication type", url.Values{"name": {"x"}, "environments": {"production"}, "policyTemplate": {"standard"}}},
		{"/projects/payments/api-catalog", "policyTemplate", "Choose the policy template", url.Values{"name": {"x"}, "environments": {"production"}, "authTypes": {"API_KEY"}}},
		{"/projects/payments/api-catalog/orders", "environments", "Name at least one environment.", url.Values{"authTypes": {"API_KEY"}, "policyTemplate": {"standard"}}},
		{"/projects/payments/organizations", "name", `An organization named "acme" already exists`, url.Values{"name": {"acme"}}},
		{"/projects/payments/applications", "organization", "Choose the organization", url.Values{"name": {"lonely"}}},
		{"/projects/payments/applications", "group", `Organization "acme" has no group "web"`, url.Values{"name": {"lonely"}, "organization": {"acme"}, "group": {"web"}}},
		{"/projects/payments/applications/shop-app", "organization", `Organization "nope" does not exist`, url.Values{"organization": {"nope"}}},
		{"/projects/payments/organizations/acme/groups", "group-name", `already has a group named "mobile"`, url.Values{"name": {"mobile"}}},
	} {
		for _, htmx := range []bool{false, true} {
			p := admin.Post(c.path, c.form, htmx)
			checkFragment(t, c.path, p, !htmx)
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Doc.Find("#"+c.field+"-error.field-error").Text(), c.want) {
				t.Errorf("POST %s %v: %d, beside %s %q, want %q (message %q)", c.path, c.form, p.Status, c.field, p.Doc.Find("#"+c.field+"-error").Text(), c.want,
					squash(p.Doc.Find(".form-error").Text()))
			}
			if n := c.form.Get("name"); n != "" && c.field != "group-name" && p.Doc.Find(`input[name=name][value="`+n+`"]`).Length() != 1 {
				t.Errorf("POST %s: the name is not kept", c.path)
			}
		}
	}
	for path, want := range map[string]string{
		"/projects/payments/policy-templates/standard/delete":        `Policy template "standard" is in use by API(s) "orders"`,
		"/projects/payments/api-catalog/orders/delete":               `API "orders" is in use by 1 subscription(s)`,
		"/projects/payments/organizations/acme/delete":               `Organization "acme" owns application(s) "shop-app"`,
		"/projects/payments/applications/shop-app/delete":            `Application "shop-app" is subscribed to "orders (production)"`,
		"/projects/payments/organizations/acme/groups/mobile/delete": `Group "mobile" holds application(s) "shop-app"`,
	} {
		name := strings.Split(path, "/")[4]
		p := admin.Post(path, url.Values{"confirm_name": {name}}, false)
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Doc.Find("main").Text(), want) {
			t.Errorf("POST %s: %d, want the message %q: %q", path, p.Status, want, squash(p.Doc.Find(".form-error").Text()))
		}
	}
	if p := admin.Post("/projects/payments/policy-templates/standard/delete", url.Values{"confirm_name": {"standar"}}, false); p.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(p.Doc.Find("#policy-delete-error").Text(), "Type the policy template's name exactly") || p.Doc.Find("dialog#policy-delete[data-dialog-autoopen]").Length() != 1 {
		t.Errorf("a wrong typed name: %d %q", p.Status, p.Doc.Find("#policy-delete-error").Text())
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Fatalf("refused forms changed data: %s", d)
	}

	// The good path: a policy, edited; an API on it; an organization and an application.
	p := admin.Post("/projects/payments/policy-templates", url.Values{"name": {"strict"}, "expiration": {"30d"}, "activationRequired": {"true"}}, false)
	if p.Status != http.StatusSeeOther || p.Location() != "/projects/payments/policy-templates/strict" {
		t.Fatalf("create policy: %d %s", p.Status, squash(p.Doc.Find(".form-error, .field-error").Text()))
	}
	p = admin.Get(p.Location(), false)
	if !strings.Contains(p.Doc.Find(".flash-success").Text(), "expiration 30d, rotation none") || p.Doc.Find("#policy-rules .rule-activation").Text() != "required: new key sets start PENDING" ||
		p.Doc.Find(`#policy-form input[name=expiration][value="30d"]`).Length() != 1 || p.Doc.Find(`#policy-form input[name=activationRequired][checked]`).Length() != 1 {
		t.Errorf("new policy page: %q", squash(p.Doc.Find("#policy-rules").Text()))
	}
	if p := admin.Post("/projects/payments/policy-templates/strict", url.Values{"expiration": {"60d"}, "manualRegeneration": {"true"}}, false); p.Status != http.StatusSeeOther {
		t.Errorf("edit policy: %d", p.Status)
	}
	if p := admin.Post("/projects/payments/api-catalog", url.Values{"name": {"ledger"}, "environments": {"production"}, "authTypes": {"CLIENT_CREDENTIALS"},
		"policyTemplate": {"strict"}}, false); p.Status != http.StatusSeeOther || p.Location() != "/projects/payments/api-catalog/ledger" {
		t.Errorf("create API: %d %s", p.Status, squash(p.Doc.Find(".field-error").Text()))
	}
	if p := admin.Post("/projects/payments/organizations", url.Values{"name": {"globex"}, "description": {"Globex"}}, false); p.Status != http.StatusSeeOther {
		t.Errorf("create organization: %d", p.Status)
	}
	if p := admin.Post("/projects/payments/applications", url.Values{"name": {"hr-app"}, "organization": {"globex"}}, false); p.Status != http.StatusSeeOther ||
		p.Location() != "/projects/payments/applications/hr-app" {
		t.Errorf("create application: %d %s", p.Status, squash(p.Doc.Find(".field-error").Text()))
	}
	p = admin.Get("/projects/payments/organizations/globex", false)
	if p.Doc.Find(`#organization-applications a[href="/projects/payments/applications/hr-app"]`).Length() != 1 {
		t.Errorf("organization page %q", squash(p.Doc.Find("#organization-applications").Text()))
	}
	// Suspend and reactivate the application: its key set follows.
	if p := admin.Post("/projects/payments/applications/shop-app/suspend", nil, false); p.Status != http.StatusSeeOther {
		t.Fatalf("suspend application: %d", p.Status)
	}
	p = admin.Get("/projects/payments/applications/shop-app", false)
	if p.Doc.Find("#application-status").Text() != "SUSPENDED" || !strings.Contains(p.Doc.Find("#key-set-API_KEY-shop-app").Text(), "SUSPENDED") ||
		p.Doc.Find("#application-reactivate").Length() != 1 {
		t.Errorf("suspended application %q", squash(p.Doc.Find("#application-key-sets").Text()))
	}
	if p := admin.Post("/projects/payments/applications/shop-app/suspend", nil, false); p.Status != http.StatusConflict ||
		!strings.Contains(p.Doc.Find("#application-error").Text(), "SUSPENDED already") {
		t.Errorf("second suspend: %d %q", p.Status, p.Doc.Find("#application-error").Text())
	}
	if p := admin.Post("/projects/payments/applications/shop-app/reactivate", nil, false); p.Status != http.StatusSeeOther {
		t.Fatalf("reactivate: %d", p.Status)
	}
	if p := admin.Get(ksSet, false); p.Doc.Find("#key-set-status").Text() != "ACTIVE" {
		t.Errorf("after reactivating the application the key set is %q", p.Doc.Find("#key-set-status").Text())
	}
	// A viewer gets no forms and 403 on a post.
	viewer := ksViewer(t, env)
	for _, path := range []string{"/projects/payments/policy-templates", "/projects/payments/policy-templates/standard", "/projects/payments/api-catalog",
		"/projects/payments/organizations", "/projects/payments/organizations/acme", "/projects/payments/applications", "/projects/payments/applications/shop-app"} {
		p := viewer.Get(path, false)
		if p.Status != http.StatusOK || p.Doc.Find("main form, main dialog, [data-dialog-open]").Length() != 0 {
			t.Errorf("viewer GET %s: %d, %d forms", path, p.Status, p.Doc.Find("main form").Length())
		}
	}
	snap := testenv.TakeSnapshot(t, env)
	for _, path := range []string{"/projects/payments/policy-templates", "/projects/payments/applications/shop-app/suspend", "/projects/payments/organizations/acme/groups"} {
		if p := viewer.Post(path, url.Values{"name": {"sneaky"}}, false); p.Status != http.StatusForbidden {
			t.Errorf("viewer POST %s: %d", path, p.Status)
		}
	}
	if d := snap.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Errorf("a viewer changed data: %s", d)
	}
}
