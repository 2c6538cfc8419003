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
		if !strings.Contains(p.Doc.Find("#actions-unavailable").Text(), "Activate: The key set is ACTIVE") ||
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
