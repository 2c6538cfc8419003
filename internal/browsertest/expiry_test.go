package browsertest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/certs/certtest"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/keysets"
	"github.com/keyward/keyward/internal/testenv"
)

// The expiry test runs Keyward in this process (internal/testenv), on the
// fake clock (2026-11-23 09:00 UTC), so that every object ends at a known
// number of days from now.

const (
	exProject = "payments"
	exOther   = "billing"
	exMember  = "vera"
)

// exWorld is what exSetUp made: the admin's API token (the overview's
// "token" object too) and what the side navigation must count.
type exWorld struct {
	token string
}

// TestExpiryDashboardAndNavigationInBrowser: in a project payments with a
// certificate ending in 5 days, one expired yesterday, one in 45 days, a
// signer alias rotating in 3 days, a key set whose policy rotates its key
// every 20 days, a truststore CA ending in 25 days and a personal token in
// 10 days (and a project billing with a certificate in 60 days), an admin
// sees on the dashboard the counts the overview gives and the rows, whose
// links open the object's page. On Expiring, the filters (within, type,
// project) swap the results with htmx and push the URL, the Name header
// sorts, size=2 pages with Next and Previous, the days-left badges are
// coloured by status and the CSV link carries the filter; a crafted bad
// type shows its error beside the field. The project's side navigation
// opens each area with the clicked item marked aria-current and the counts
// right; a member with SECRETS:VIEW only sees the secrets areas.
// Screenshots expiry-*.png and nav-*.png.
func TestExpiryDashboardAndNavigationInBrowser(t *testing.T) {
	env := testenv.New(t)
	env.CreateUser("admin", true)
	t.Cleanup(func() { signerErrorLogs(t, env) })
	w := exSetUp(t, env)
	b := NewBrowser(t, env.Server.URL)
	signerSignIn(t, b)

	exDashboard(t, b, env, w)
	exOverview(t, b)
	exNavigation(t, b)

	// The member with SECRETS:VIEW only.
	signOutBrowser(t, b)
	exSignInAs(t, b, exMember)
	b.Navigate("/projects/" + exProject)
	b.WaitVisible("#project-nav")
	if got := exNavIDs(b); !slices.Equal(got, []string{"overview", "keys", "certificates", "truststore", "jwks", "notifications", "expiring"}) {
		t.Errorf("the member's side navigation: %v", got)
	}
	exWantCounts(t, b, map[string]string{"keys": "1", "certificates": "3", "jwks": "0"})
	exVisit(t, b, "certificates", "/projects/"+exProject+"/certificates")
	assertPage(t, b, "member's certificates")
	b.Screenshot("nav-member")
	// The member's dashboard and overview leave out the signer rotation.
	b.Navigate("/expiring")
	if txt := b.Text("#expiry-results"); strings.Contains(txt, "payments-token") || strings.Contains(txt, "billing-tls") {
		t.Errorf("the member's overview shows what they may not see:\n%s", txt)
	}
}

// exSetUp makes the world through the services and the API.
func exSetUp(t *testing.T, env *testenv.Env) exWorld {
	t.Helper()
	ctx, p := context.Background(), env.Principal("admin")
	now := env.Clock.Now()
	for _, pr := range []string{exProject, exOther} {
		if _, err := env.App.Projects.Create(ctx, p, pr, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range []string{"production", "development"} {
		if _, err := env.App.Environments.Create(ctx, p, environments.Input{Name: e}); err != nil {
			t.Fatal(err)
		}
	}
	// The admin's token ends in 10 days: one of the overview's objects.
	tok, err := env.App.Auth.CreateToken(ctx, p, "", "ci-deploy", 10*24*time.Hour+time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	w := exWorld{token: tok.Value}
	api := func(method, path string, body any) map[string]any {
		t.Helper()
		r := env.API(w.token, method, path, body)
		if r.Status != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Raw)
		}
		return r.Body
	}
	b64 := base64.StdEncoding.EncodeToString
	// certtest leaves are valid from an hour before Now for 90 days.
	cert := func(project, name, env, cn string, in time.Duration) {
		c := certtest.NewChain(t, certtest.Options{CommonName: cn, DNSNames: []string{cn}, Now: now.Add(in - 90*24*time.Hour + time.Hour)})
		api(http.MethodPost, "/apiops/projects/"+project+"/certificates/", map[string]any{"name": name, "description": "tls",
			"certificateEnvironmentList": []any{map[string]any{"environmentName": env, "content": b64(certtest.PEM(c.Leaf, c.Intermediate))}}})
	}
	day := 24 * time.Hour
	cert(exProject, "edge-soon", "production", "edge.example.com", 5*day+time.Minute)
	cert(exProject, "edge-old", "development", "old.example.com", -day+time.Minute)
	cert(exProject, "api-tls", "production", "api.example.com", 45*day+time.Minute)
	cert(exOther, "billing-tls", "production", "billing.example.com", 60*day+time.Minute)

	secret := make([]byte, 32)
	rand.Read(secret)
	api(http.MethodPost, "/apiops/projects/"+exProject+"/keys/", map[string]any{"name": "session-key", "description": "sessions", "keyType": "SECRET_KEY",
		"cryptoKeyInfoEnvironmentList": []any{map[string]any{"environmentName": "development", "content": b64(secret), "alias": "session"}}})

	ca := certtest.NewChain(t, certtest.Options{Now: now})
	caCert := certtest.Issue(t, certtest.CATemplate("Partner Root CA", now.Add(-time.Hour), now.Add(25*day+time.Minute)), nil, ca.RootKey, ca.RootKey.Public())
	api(http.MethodPost, "/apiops/environments/development/truststore/", map[string]any{"content": b64(certtest.PEM(caCert)), "alias": "partner-root"})

	// A signer alias rotating to its second key in 3 days.
	signing := "/apiops/projects/" + exProject + "/signingKeys/"
	api(http.MethodPut, "/apiops/hsm/pin/", map[string]any{"pin": "2468"})
	k1 := api(http.MethodPost, signing, map[string]any{"label": "tokens-a", "algorithm": "ECDSA"})["signingKey"].(map[string]any)["ckaId"].(string)
	k2 := api(http.MethodPost, signing, map[string]any{"label": "tokens-b", "algorithm": "ECDSA"})["signingKey"].(map[string]any)["ckaId"].(string)
	api(http.MethodPost, signing+"signers/", map[string]any{"name": "payments-token", "activeKey": k1, "environments": []string{"production"},
		"leadTime": "1h", "retention": "1h"})
	api(http.MethodPost, signing+"signers/payments-token/rotate", map[string]any{"nextKey": k2,
		"activateAt": now.Add(3*day + time.Minute).Format(time.RFC3339)})

	// A key set whose policy rotates the key every 20 days.
	ks := env.App.KeySets
	if _, err := ks.CreatePolicy(ctx, p, exProject, keysets.PolicyInput{Name: "rotating", Expiration: "90d", Rotation: "20d"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.CreateOrganization(ctx, p, exProject, "acme", "ACME Corp"); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.CreateApplication(ctx, p, exProject, keysets.ApplicationInput{Name: "shop-app", Organization: "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.CreateAPI(ctx, p, exProject, keysets.APIInput{Name: "orders", Environments: []string{"production"}, AuthTypes: []string{"API_KEY"}, PolicyTemplate: "rotating"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Subscribe(ctx, p, exProject, "shop-app", keysets.SubscribeInput{API: "orders", Environment: "production"}); err != nil {
		t.Fatal(err)
	}

	env.CreateUser(exMember, false)
	env.Grant(exProject, exMember, access.SecretsView)
	return w
}

// exDashboard: the counts are the overview's, the rows link to the objects.
func exDashboard(t *testing.T, b *Browser, env *testenv.Env, w exWorld) {
	t.Helper()
	statuses := map[string]int{}
	for _, it := range env.API(w.token, http.MethodGet, "/apiops/expiring/?within=30d&size=500", nil).Body["resultList"].([]any) {
		statuses[it.(map[string]any)["status"].(string)]++
	}
	// edge-old; the rotation's two steps and edge-soon; ci-deploy, the key
	// set's rotation and partner-root.
	if statuses["expired"] != 1 || statuses["critical"] != 3 || statuses["warning"] != 3 {
		t.Errorf("the overview's statuses in 30 days: %v", statuses)
	}
	b.Navigate("/")
	b.WaitText("h1", "Dashboard")
	for id, n := range map[string]int{"#count-expired": statuses["expired"], "#count-7d": statuses["critical"], "#count-30d": statuses["warning"]} {
		if got := strings.TrimSpace(b.Text(id + " strong")); got != strconv.Itoa(n) {
			t.Errorf("%s shows %q, want %d", id, got, n)
		}
	}
	rows := Eval[[]string](b, `[...document.querySelectorAll("#soon-items tbody tr")].map(r => r.dataset.type + " " + r.querySelector("a").innerText)`)
	want := []string{"certificate edge-old", "signer_rotation payments-token", "signer_rotation payments-token", "certificate edge-soon",
		"api_token ci-deploy", "key_set_rotation API_KEY-shop-app", "truststore_ca partner-root"}
	if !slices.Equal(rows, want) {
		t.Errorf("the dashboard's rows:\n got %v\nwant %v", rows, want)
	}
	exWantBadges(t, b, "#soon-items")
	exWantFits(t, b, "the dashboard", "#soon-items", "#recent-deployments table", "#project-areas table")
	// The sections stand one under the other, none drawn over another.
	if got := Eval[string](b, `(function(){
		const s = [...document.querySelectorAll("main section")].map(e => [e.id, e.getBoundingClientRect()]);
		for (let i = 1; i < s.length; i++) if (s[i][1].top < s[i-1][1].bottom - 1) return s[i][0] + " overlaps " + s[i-1][0];
		return "";
	})()`); got != "" {
		t.Errorf("the dashboard's sections: %s", got)
	}
	assertPage(t, b, "dashboard")
	b.Screenshot("expiry-dashboard")

	// A row's link opens the object's page.
	boostedClick(t, b, `#soon-items tr[data-type=certificate].expiry-critical a`, "h1", "edge-soon")
	b.WaitURL("/projects/" + exProject + "/certificates/edge-soon")
	assertPage(t, b, "certificate from the dashboard")
	b.Navigate("/")
	boostedClick(t, b, `#soon-items tr[data-type=key_set_rotation] a`, "h1", "API_KEY-shop-app")
	assertPage(t, b, "key set from the dashboard")
	// The 7-day card opens the overview filtered to what it counts.
	b.Navigate("/")
	boostedClick(t, b, "#count-7d", "h1", "Expiring")
	if got := value(b, "#expiry-filters select[name=status]"); got != "critical" {
		t.Errorf("the 7-day card's overview filter status=%q", got)
	}
	b.WaitText("#expiry-count", "3 objects")
	b.Navigate("/")
	boostedClick(t, b, "#count-expired", "h1", "Expiring")
	b.WaitText("#expiry-count", "1 object")
}

// exOverview: filters, sort, paging, badges, CSV and a bad filter.
func exOverview(t *testing.T, b *Browser) {
	t.Helper()
	boostedClick(t, b, `header a[href="/expiring"]`, "h1", "Expiring")
	b.WaitText("#expiry-count", "10 objects")
	exWantBadges(t, b, "#expiry-items")
	exWantFits(t, b, "the overview", "#expiry-items")
	exWantLevel(t, b)
	assertPage(t, b, "overview")
	b.Screenshot("expiry-overview")

	Eval[bool](b, `(window.__keywardMarker = true)`)
	b.Select("#expiry-filters select[name=within]", "7d")
	exFilter(t, b, "within=7d", "4 objects")
	// Only the filters that are set reach the address bar.
	if u := b.URL(); !strings.HasSuffix(u, "/expiring?within=7d") {
		t.Errorf("after filtering within 7d the address is %s, want …/expiring?within=7d", u)
	}
	if got := exNames(b); !slices.Equal(got, []string{"edge-old", "payments-token", "payments-token", "edge-soon"}) {
		t.Errorf("within 7d: %v", got)
	}
	b.Screenshot("expiry-within-7d")

	b.Select("#expiry-filters select[name=type]", "certificate")
	exFilter(t, b, "type=certificate", "2 objects")
	b.Select("#expiry-filters select[name=within]", "")
	b.Select("#expiry-filters select[name=project]", exProject)
	exFilter(t, b, "project="+exProject, "3 objects")
	if got := exNames(b); !slices.Equal(got, []string{"edge-old", "edge-soon", "api-tls"}) {
		t.Errorf("payments' certificates by date: %v", got)
	}

	// Sort by name from the header.
	b.WaitHTMXReady(`#expiry-items thead a[href*="sort=name"]`)
	b.Click(`#expiry-items thead a[href*="sort=name"]`)
	b.waitFor("the rows sorted by name", func() bool { return slices.Equal(exNames(b), []string{"api-tls", "edge-old", "edge-soon"}) })
	b.waitFor("sort=name in the URL", func() bool { return strings.Contains(b.URL(), "sort=name") })
	b.WaitText("#expiry-items thead", "Name ↑")
	exWantBadges(t, b, "#expiry-items")
	csv := Eval[string](b, `document.querySelector("#expiry-csv").getAttribute("href")`)
	u, err := url.Parse(csv)
	if err != nil || u.Path != "/expiring.csv" || u.Query().Get("type") != "certificate" || u.Query().Get("project") != exProject || u.Query().Get("sort") != "name" || u.Query().Has("within") {
		t.Errorf("the CSV link %q does not carry the filter", csv)
	}
	body := Eval[string](b, `(function(h){ const x = new XMLHttpRequest(); x.open("GET", h, false); x.send(); return x.status + "\n" + x.responseText; })(%s)`, csv)
	if lines := strings.Split(strings.TrimSpace(body), "\n"); len(lines) != 5 || lines[0] != "200" || !strings.HasPrefix(lines[2], "certificate,payments,production,api-tls,") {
		t.Errorf("the CSV download:\n%s", body)
	}
	if !Eval[bool](b, `window.__keywardMarker === true`) {
		t.Error("filtering reloaded the whole page: htmx did not swap the results")
	}
	assertPage(t, b, "filtered and sorted")
	b.Screenshot("expiry-filtered-sorted")

	// Two a page: Next and Previous keep the filter and the sort.
	b.Navigate("/expiring?type=certificate&project=" + exProject + "&sort=name&size=2")
	b.WaitText("#expiry-page", "Page 1 of 2")
	if got := exNames(b); !slices.Equal(got, []string{"api-tls", "edge-old"}) {
		t.Errorf("page 1: %v", got)
	}
	b.WaitHTMXReady("#expiry-next")
	b.Click("#expiry-next")
	b.WaitText("#expiry-page", "Page 2 of 2")
	if got := exNames(b); !slices.Equal(got, []string{"edge-soon"}) {
		t.Errorf("page 2: %v", got)
	}
	b.waitFor("page=2 in the URL", func() bool { return strings.Contains(b.URL(), "page=2") && strings.Contains(b.URL(), "size=2") })
	if b.Has("#expiry-next") {
		t.Error("a Next link on the last page")
	}
	assertPage(t, b, "page 2")
	b.Screenshot("expiry-page-2")
	b.WaitHTMXReady("#expiry-prev")
	b.Click("#expiry-prev")
	b.WaitText(".pager", "Page 1")

	// A type from a crafted URL: the error beside the field, no results.
	b.Navigate("/expiring?type=password&within=30d")
	b.WaitText("#expiry-filters label:has(select[name=type]) .field-error", `Type "password" is not one of`)
	if !b.Has(`#expiry-filters select[name=type][aria-invalid=true]`) || b.Has(`#expiry-filters select[name=within][aria-invalid=true]`) {
		t.Error("aria-invalid is not on the type field alone")
	}
	if b.Has("#expiry-items") {
		t.Error("results shown under a bad filter")
	}
	// The select shows the value refused, the results say why they are
	// missing without repeating the message, the date is still given.
	if got := value(b, "#expiry-filters select[name=type]"); got != "password" {
		t.Errorf("the type select shows %q, not the value refused", got)
	}
	b.WaitText("#expiry-filter-error", "Nothing is listed until the filter marked above is corrected.")
	if strings.Contains(b.Text("#expiry-filter-error"), "password") {
		t.Errorf("the results repeat the field's error: %q", b.Text("#expiry-filter-error"))
	}
	b.WaitText("hgroup", "Days are counted from 2026-11-23 09:00:00 UTC.")
	exWantLevel(t, b)
	assertPage(t, b, "bad type", "status of 422")
	b.Screenshot("expiry-bad-type")
}

// exNavigation visits each area from the side navigation.
func exNavigation(t *testing.T, b *Browser) {
	t.Helper()
	base := "/projects/" + exProject
	b.Navigate(base)
	b.WaitVisible("#project-nav")
	if got := exNavIDs(b); !slices.Equal(got, []string{"overview", "keys", "certificates", "truststore", "jwks", "signing-keys", "key-sets",
		"api-catalog", "notifications", "expiring", "audit"}) {
		t.Errorf("the admin's side navigation: %v", got)
	}
	counts := map[string]string{"keys": "1", "certificates": "3", "jwks": "0", "signing-keys": "2", "key-sets": "1", "api-catalog": "1", "expiring": "5"}
	exWantCounts(t, b, counts)
	exWantFits(t, b, "the project page")
	exWantNavBeside(t, b)
	assertPage(t, b, "project overview")
	b.Screenshot("nav-overview")
	for _, area := range []struct{ id, path string }{
		{"keys", "/keys"}, {"certificates", "/certificates"}, {"truststore", "/certificates/truststore"}, {"jwks", "/jwks"},
		{"signing-keys", "/signing-keys"}, {"key-sets", "/key-sets"}, {"api-catalog", "/api-catalog"}, {"notifications", "/notifications"},
	} {
		exVisit(t, b, area.id, base+area.path)
		exWantCounts(t, b, counts)
		exWantFits(t, b, area.id)
		exWantNavBeside(t, b)
		assertPage(t, b, area.id+" from the side navigation")
		b.Screenshot("nav-" + area.id)
	}
	// The expiring link leaves the project for the overview, filtered.
	boostedClick(t, b, "#nav-expiring", "h1", "Expiring")
	b.WaitText("#expiry-count", "5 objects")
}

// exVisit clicks the side navigation's item id and waits for its page,
// with that item (alone) marked current.
func exVisit(t *testing.T, b *Browser, id, path string) {
	t.Helper()
	Eval[bool](b, `(window.__keywardMarker = true)`)
	b.WaitHTMXReady("#nav-" + id)
	b.Click("#nav-" + id)
	b.WaitURL(path)
	b.waitFor(id+" marked current", func() bool {
		return b.evalQuiet(`[...document.querySelectorAll("#project-nav [aria-current=page]")].map(a => a.id).join(",")`) == "nav-"+id
	})
	if !Eval[bool](b, `window.__keywardMarker === true`) {
		t.Errorf("the side navigation's %s reloaded the whole page", id)
	}
}

func exNavIDs(b *Browser) []string {
	return Eval[[]string](b, `[...document.querySelectorAll("#project-nav a")].map(a => a.id.replace(/^nav-/, ""))`)
}

func exWantCounts(t *testing.T, b *Browser, want map[string]string) {
	t.Helper()
	for id, n := range want {
		if got := strings.TrimSpace(b.Text("#nav-" + id + " .count")); got != n {
			t.Errorf("on %s the side navigation counts %s %s, want %s", b.Path(), got, id, n)
		}
	}
}

// exFilter submits the filters and waits for the swapped results and the
// pushed URL.
func exFilter(t *testing.T, b *Browser, inURL, count string) {
	t.Helper()
	b.WaitHTMXReady("#expiry-filters button[type=submit]")
	b.Click("#expiry-filters button[type=submit]")
	b.WaitText("#expiry-count", count)
	b.waitFor(inURL+" in the URL", func() bool { return strings.Contains(b.URL(), inURL) })
	b.WaitHTMXIdle()
}

func exNames(b *Browser) []string {
	return Eval[[]string](b, `[...document.querySelectorAll("#expiry-items tbody td.name a")].map(a => a.innerText)`)
}

// exWantBadges: each row's days-left badge is coloured by its status.
func exWantBadges(t *testing.T, b *Browser, table string) {
	t.Helper()
	bad := Eval[[]string](b, `[...document.querySelectorAll(%s + " tbody tr")].filter(r => {
		const want = {expired: "bad", critical: "bad", warning: "warn", ok: "ok"}[r.className.replace(/^expiry-/, "")];
		const badge = r.querySelector(".badge");
		return !want || !badge || !badge.classList.contains(want);
	}).map(r => r.className + ": " + r.innerText)`, table)
	if len(bad) > 0 {
		t.Errorf("badges not coloured by status in %s:\n%s", table, strings.Join(bad, "\n"))
	}
}

func signOutBrowser(t *testing.T, b *Browser) {
	t.Helper()
	b.Navigate("/")
	b.Click(`header form[action="/logout"] button`)
	b.WaitURL("/login")
}

func exSignInAs(t *testing.T, b *Browser, user string) {
	t.Helper()
	b.Navigate("/login")
	b.WaitText("h1", "Sign in")
	b.Fill("input[name=username]", user)
	b.Fill("input[name=password]", testenv.Password)
	b.Click("form button[type=submit]")
	b.WaitURL("/")
	assertPage(t, b, user+" signed in")
}

// exWantFits: the page does not scroll sideways, and each table (those
// given, or every table of the page) fits the box it is in: no column cut
// off behind a scrollbar.
func exWantFits(t *testing.T, b *Browser, where string, tables ...string) {
	t.Helper()
	if over := Eval[float64](b, `document.documentElement.scrollWidth - window.innerWidth`); over > 0 {
		t.Errorf("%s: the page is %.0f px wider than the window", where, over)
	}
	sel := "main table"
	if len(tables) > 0 {
		sel = strings.Join(tables, ", ")
	}
	for _, over := range Eval[[]string](b, `[...document.querySelectorAll(%s)].filter(e => e.checkVisibility() && e.scrollWidth > e.parentElement.clientWidth + 1)
		.map(e => (e.id || e.parentElement.closest("[id]").id) + " by " + (e.scrollWidth - e.parentElement.clientWidth) + " px")`, sel) {
		t.Errorf("%s: a table is wider than its box: %s", where, over)
	}
}

// exWantLevel: the Filter button is level with the selects beside it.
func exWantLevel(t *testing.T, b *Browser) {
	t.Helper()
	off := Eval[float64](b, `(function(){
		const mid = e => { const r = e.getBoundingClientRect(); return (r.top + r.bottom) / 2; };
		return mid(document.querySelector("#expiry-filters button[type=submit]")) - mid(document.querySelector("#expiry-filters select[name=within]"));
	})()`)
	if off > 3 || off < -3 {
		t.Errorf("on %s the Filter button is %.0f px off the selects' middle", b.URL(), off)
	}
}

// exWantNavBeside: the side navigation stays inside the page's margin and
// clear of the content.
func exWantNavBeside(t *testing.T, b *Browser) {
	t.Helper()
	if got := Eval[string](b, `(function(){
		const main = document.querySelector("main"), cs = getComputedStyle(main);
		const left = main.getBoundingClientRect().left + parseFloat(cs.paddingLeft);
		const content = document.querySelector(".project-main").getBoundingClientRect().left;
		for (const a of document.querySelectorAll("#project-nav a")) {
			const r = a.getBoundingClientRect();
			if (r.left < left - 1) return a.id + " starts " + Math.round(left - r.left) + " px left of the page's margin";
			if (r.right > content - 8) return a.id + " ends " + Math.round(r.right - content + 8) + " px too close to the content";
		}
		return "";
	})()`); got != "" {
		t.Errorf("on %s: %s", b.Path(), got)
	}
}
