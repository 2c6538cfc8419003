package handlers_test

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/certs/certtest"
	"github.com/keyward/keyward/internal/testenv"
)

// expiringWorld holds one object of every type with an end date, at known
// distances from the test clock:
//   - payments: certificate "edge-soon" in production (5 days), certificate
//     "edge-old" in development (expired 1 day ago), a signer rotation
//     (activate in 3 days, retire 3 days + 1h later);
//   - billing: certificate "billing-tls" in production (60 days);
//   - development's truststore: CA "partner-root" (20 days);
//   - vic's token (10 days), pat's token (40 days), a production gateway
//     token (100 days).
type expiringWorld struct {
	*secretsWorld
	vicToken, patToken string // the token values, which must never appear
	gateway            string
}

func newExpiringWorld(t *testing.T) *expiringWorld {
	t.Helper()
	w, _ := signingWorld(t)
	// signingWorld's grants replace the secrets world's: vic views both areas.
	w.env.Grant("payments", "vic", access.SecretsView, access.SigningKeysView)
	w.env.Grant("payments", "dora", access.SecretsView, access.SecretsManage, access.SecretsDeploy, access.SigningKeysView, access.SigningKeysManage, access.SigningKeysDeploy)
	ctx := context.Background()
	now := w.env.Clock.Now()
	// certtest leaves are valid from an hour before Now for 90 days.
	leafEnding := func(cn string, in time.Duration) []byte {
		c := certtest.NewChain(t, certtest.Options{CommonName: cn, DNSNames: []string{cn}, Now: now.Add(in - 90*24*time.Hour + time.Hour)})
		return certtest.PEM(c.Leaf, c.Intermediate)
	}
	w.must(w.dora, http.MethodPost, certsPath, certBody("edge-soon", certConfig("production", leafEnding("edge.example.com", 5*24*time.Hour+time.Minute), "")))
	w.must(w.dora, http.MethodPost, certsPath, certBody("edge-old", certConfig("development", leafEnding("old.example.com", -24*time.Hour+time.Minute), "")))
	w.must(w.root, http.MethodPost, "/apiops/projects/billing/certificates/", certBody("billing-tls", certConfig("production", leafEnding("billing.example.com", 60*24*time.Hour+time.Minute), "")))

	ca := certtest.NewChain(t, certtest.Options{Now: now})
	tmpl := certtest.CATemplate("Partner Root CA", now.Add(-time.Hour), now.Add(20*24*time.Hour+time.Minute))
	caCert := certtest.Issue(t, tmpl, nil, ca.RootKey, ca.RootKey.Public())
	w.must(w.root, http.MethodPost, "/apiops/environments/development/truststore/", map[string]any{"content": base64.StdEncoding.EncodeToString(certtest.PEM(caCert)), "alias": "partner-root"})

	k1 := w.must(w.dora, http.MethodPost, signingPath, map[string]any{"label": "tokens-a", "algorithm": "ECDSA"}).Body["signingKey"].(map[string]any)["ckaId"].(string)
	k2 := w.must(w.dora, http.MethodPost, signingPath, map[string]any{"label": "tokens-b", "algorithm": "ECDSA"}).Body["signingKey"].(map[string]any)["ckaId"].(string)
	w.must(w.dora, http.MethodPost, signingPath+"signers/", map[string]any{"name": "payments-token", "activeKey": k1, "environments": []string{"production"},
		"leadTime": "1h", "retention": "1h"})
	w.must(w.dora, http.MethodPost, signingPath+"signers/payments-token/rotate", map[string]any{"nextKey": k2,
		"activateAt": now.Add(3*24*time.Hour + time.Minute).Format(time.RFC3339)})

	vt, err := w.env.App.Auth.CreateToken(ctx, w.env.Principal("vic"), "", "vic-ci", 10*24*time.Hour+time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := w.env.App.Auth.CreateToken(ctx, w.env.Principal("pat"), "", "pat-ci", 40*24*time.Hour+time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	gw := w.must(w.root, http.MethodPost, "/apiops/environments/production/gatewayTokens/", map[string]any{"name": "edge-gw", "expiresIn": "100d"})
	return &expiringWorld{secretsWorld: w, vicToken: vt.Value, patToken: pt.Value, gateway: gw.Body["token"].(string)}
}

// TestExpiringListsEveryTypeWithDaysLeft: the admin sees one row per object
// with an end date, soonest first, with the days left and the status; each
// user sees only what their projects and permissions allow; no secret value
// appears in a row or the CSV.
func TestExpiringListsEveryTypeWithDaysLeft(t *testing.T) {
	w := newExpiringWorld(t)
	r := w.must(w.root, http.MethodGet, "/apiops/expiring/", nil)
	type row struct {
		typ, name, env, project, status string
		days                            int
	}
	var got []row
	for _, it := range r.Body["resultList"].([]any) {
		m := it.(map[string]any)
		if m["type"] == "api_token" && strings.HasPrefix(m["name"].(string), "test-") {
			continue // the test environment's own tokens (a day each)
		}
		got = append(got, row{m["type"].(string), m["name"].(string), m["environment"].(string), m["project"].(string), m["status"].(string), int(m["daysLeft"].(float64))})
		if m["link"] == "" || m["next"] == "" {
			t.Errorf("%v has no link or next step", m)
		}
	}
	want := []row{
		{"certificate", "edge-old", "development", "payments", "expired", -1},
		{"signer_rotation", "payments-token", "", "payments", "critical", 3},
		{"signer_rotation", "payments-token", "", "payments", "critical", 3},
		{"certificate", "edge-soon", "production", "payments", "critical", 5},
		{"api_token", "vic-ci", "", "", "warning", 10},
		{"truststore_ca", "partner-root", "development", "", "warning", 20},
		{"api_token", "pat-ci", "", "", "ok", 40},
		{"certificate", "billing-tls", "production", "billing", "ok", 60},
		{"gateway_token", "edge-gw", "production", "", "ok", 100},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the admin's overview:\n got %v\nwant %v", got, want)
	}

	names := func(token, query string) []string {
		t.Helper()
		var out []string
		for _, it := range w.must(token, http.MethodGet, "/apiops/expiring/"+query, nil).Body["resultList"].([]any) {
			if name := it.(map[string]any)["name"].(string); !strings.HasPrefix(name, "test-") {
				out = append(out, name)
			}
		}
		return out
	}
	// vic: SECRETS:VIEW and SIGNING_KEYS:VIEW in payments only, and her own token.
	if got := names(w.vic, ""); !slices.Equal(got, []string{"edge-old", "payments-token", "payments-token", "edge-soon", "vic-ci", "partner-root"}) {
		t.Errorf("vic sees %v", got)
	}
	// pat: no project at all: the truststore and his own token.
	if got := names(w.pat, ""); !slices.Equal(got, []string{"partner-root", "pat-ci"}) {
		t.Errorf("pat sees %v", got)
	}
	if got := names(w.root, "?within=7d"); !slices.Equal(got, []string{"edge-old", "payments-token", "payments-token", "edge-soon"}) {
		t.Errorf("within=7d: %v", got)
	}
	if got := names(w.root, "?within=30d&type=certificate"); !slices.Equal(got, []string{"edge-old", "edge-soon"}) {
		t.Errorf("within=30d&type=certificate: %v", got)
	}
	if got := names(w.root, "?environment=production&sort=-date"); !slices.Equal(got, []string{"edge-gw", "billing-tls", "edge-soon"}) {
		t.Errorf("environment=production&sort=-date: %v", got)
	}
	if got := names(w.root, "?status=critical"); !slices.Equal(got, []string{"payments-token", "payments-token", "edge-soon"}) {
		t.Errorf("status=critical: %v", got)
	}
	if got := names(w.root, "?status=expired"); !slices.Equal(got, []string{"edge-old"}) {
		t.Errorf("status=expired: %v", got)
	}
	if got := names(w.root, "?status=ok&type=certificate"); !slices.Equal(got, []string{"billing-tls"}) {
		t.Errorf("status=ok&type=certificate: %v", got)
	}
	if got := names(w.root, "?project=billing"); !slices.Equal(got, []string{"billing-tls"}) {
		t.Errorf("project=billing: %v", got)
	}
	if got := names(w.root, "?type=certificate&sort=name&size=2&page=2"); !slices.Equal(got, []string{"edge-soon"}) {
		t.Errorf("sort=name, page 2 of size 2: %v", got)
	}

	// Nothing secret, in the JSON or the CSV.
	b := w.env.Browser()
	b.Login("root")
	csvPage := b.Get("/expiring.csv", false)
	if csvPage.Status != http.StatusOK || csvPage.Header.Get("Content-Disposition") != `attachment; filename="keyward-expiring.csv"` {
		t.Fatalf("CSV: %d %v", csvPage.Status, csvPage.Header)
	}
	csvBody := csvPage.Body
	for _, body := range []string{string(r.Raw), csvBody} {
		for _, secret := range []string{w.vicToken, w.patToken, w.gateway} {
			if strings.Contains(body, secret) || strings.Contains(body, secret[len(secret)-12:]) {
				t.Fatalf("a token value appears in the overview")
			}
		}
	}
	rows, err := csv.NewReader(strings.NewReader(csvBody)).ReadAll()
	if err != nil || len(rows) < len(want)+1 || rows[0][0] != "type" || rows[1][3] != "edge-old" || rows[1][6] != "-1" || rows[1][7] != "expired" {
		t.Errorf("CSV (%v): %q", err, rows)
	}
}

// TestExpiringFollowsTheObjects: the overview changes in the transaction that
// changes the object: a revoked token, a deleted certificate and a rotation
// step that ran leave it; days left count down with the clock.
func TestExpiringFollowsTheObjects(t *testing.T) {
	w := newExpiringWorld(t)
	ctx := context.Background()
	if err := w.env.App.Auth.RevokeToken(ctx, w.env.Principal("pat"), tokenID(t, w.env, "pat", "pat-ci")); err != nil {
		t.Fatal(err)
	}
	w.must(w.dora, http.MethodDelete, certsPath+"edge-old/", nil)
	w.env.Clock.Advance(3*24*time.Hour + 2*time.Minute) // past the activation, before the retirement
	if err := w.env.App.Signing.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range w.must(w.env.Token("root"), http.MethodGet, "/apiops/expiring/?within=30d", nil).Body["resultList"].([]any) {
		m := it.(map[string]any)
		if strings.HasPrefix(m["name"].(string), "test-") {
			continue
		}
		detail, _, _ := strings.Cut(strings.Fields(m["detail"].(string) + " -")[0], ",")
		got = append(got, m["name"].(string)+" "+m["status"].(string)+" "+detail)
	}
	want := []string{"payments-token critical retire", "edge-soon critical CN=edge.example.com", "vic-ci critical vic", "partner-root warning CN=Partner"}
	if !slices.Equal(got, want) {
		t.Errorf("after revoking, deleting, rotating and 3 days:\n got %v\nwant %v", got, want)
	}
}

// TestExpiringBadFiltersNameTheField: each bad filter is a 400 naming its
// parameter; a project the caller cannot see is a 404 like everywhere else.
func TestExpiringBadFiltersNameTheField(t *testing.T) {
	w := newExpiringWorld(t)
	for _, c := range []struct {
		query, field string
		status       int
	}{
		{"?within=soon", "within", http.StatusBadRequest},
		{"?within=-3d", "within", http.StatusBadRequest},
		{"?type=password", "type", http.StatusBadRequest},
		{"?status=soonish", "status", http.StatusBadRequest},
		{"?sort=colour", "sort", http.StatusBadRequest},
		{"?size=0", "size", http.StatusBadRequest},
		{"?environment=staging", "environment", http.StatusBadRequest},
		{"?project=billing", "", http.StatusNotFound},
		{"?project=nowhere", "", http.StatusNotFound},
	} {
		r := w.env.API(w.vic, http.MethodGet, "/apiops/expiring/"+c.query, nil)
		if r.Status != c.status || c.field != "" && r.Body["field"] != c.field {
			t.Errorf("%s: %d %s, want %d naming %q", c.query, r.Status, r.Raw, c.status, c.field)
		}
	}
	if r := w.env.API("", http.MethodGet, "/apiops/expiring/", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("without a token: %d", r.Status)
	}
}

// TestExpiredGatewayTokenIsRefused: a gateway token with an expiry stops
// reading the bundle at that moment, with a message that says why.
func TestExpiredGatewayTokenIsRefused(t *testing.T) {
	w := newExpiringWorld(t)
	if r := w.bundle(t, "production", w.gateway, nil); r.Status != http.StatusOK {
		t.Fatalf("bundle before expiry: %d %s", r.Status, r.Raw)
	}
	w.env.Clock.Advance(100*24*time.Hour + time.Second)
	r := w.bundle(t, "production", w.gateway, nil)
	if r.Status != http.StatusUnauthorized || !strings.Contains(string(r.Raw), "expired") {
		t.Fatalf("bundle after expiry: %d %s", r.Status, r.Raw)
	}
	// A bad expiry is a 400 naming expiresIn, and creates no token.
	root := w.env.Token("root")
	for _, bad := range []string{"soon", "-3d", "0d", "2000d"} {
		before := testenv.TakeSnapshot(t, w.env)
		r := w.env.API(root, http.MethodPost, "/apiops/environments/production/gatewayTokens/", map[string]any{"name": "x", "expiresIn": bad})
		if r.Status != http.StatusBadRequest || r.Body["field"] != "expiresIn" {
			t.Errorf("expiresIn %q: %d %s", bad, r.Status, r.Raw)
		}
		if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
			t.Errorf("expiresIn %q changed: %s", bad, d)
		}
	}
}

func tokenID(t *testing.T, env *testenv.Env, user, name string) int64 {
	t.Helper()
	var id int64
	if err := env.App.DB.Read.QueryRow(`SELECT t.id FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.username = ? AND t.name = ?`, user, name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestExpiryMetric: /metrics carries one keyward_expiry_timestamp_seconds
// series per object with an end date, its value the end as a Unix time.
func TestExpiryMetric(t *testing.T) {
	w := newExpiringWorld(t)
	resp, err := http.Get(w.env.URL("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var lines []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "keyward_expiry_timestamp_seconds{") && !strings.Contains(l, `name="root/test-`) &&
			!strings.Contains(l, "/test-") {
			lines = append(lines, l)
		}
	}
	at := func(d time.Duration) string {
		return strconv.FormatFloat(float64(w.env.Clock.Now().Add(d).Unix()), 'e', -1, 64)
	}
	for _, want := range []string{
		`keyward_expiry_timestamp_seconds{environment="production",name="edge-gw",project="",type="gateway_token"} ` + at(100*24*time.Hour),
		`keyward_expiry_timestamp_seconds{environment="",name="vic/vic-ci",project="",type="api_token"} ` + at(10*24*time.Hour+time.Minute),
		`keyward_expiry_timestamp_seconds{environment="",name="payments-token",project="payments",type="signer_rotation"} ` + at(3*24*time.Hour+time.Minute),
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("missing %s in\n%s", want, strings.Join(lines, "\n"))
		}
	}
	if len(lines) != 8 { // 3 certificates, 1 CA, 1 signer (the sooner step), 2 personal tokens, 1 gateway token
		t.Errorf("%d series, want 8:\n%s", len(lines), strings.Join(lines, "\n"))
	}
}

// TestDashboard: the home page counts and lists what ends soon as the
// overview does for the same user, shows the last deployments and a failed
// environment webhook, and what each visible project holds; another user
// sees none of a project they are not in.
func TestDashboard(t *testing.T) {
	w := newExpiringWorld(t)
	failing := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { rw.WriteHeader(http.StatusInternalServerError) }))
	defer failing.Close()
	w.must(w.root, http.MethodPost, "/apiops/environments/", map[string]any{"name": "staging", "webhookUrl": failing.URL})
	ca := certtest.NewChain(t, certtest.Options{Now: w.env.Clock.Now()})
	w.must(w.root, http.MethodPost, "/apiops/environments/staging/truststore/", map[string]any{"content": base64.StdEncoding.EncodeToString(certtest.PEM(ca.Root)), "alias": "staging-root"})
	w.env.SettleWebhooks()

	statuses := func(token string) map[string]int {
		out := map[string]int{}
		for _, it := range w.must(token, http.MethodGet, "/apiops/expiring/?within=30d&size=500", nil).Body["resultList"].([]any) {
			out[it.(map[string]any)["status"].(string)]++
		}
		return out
	}
	root := w.env.Token("root") // before the page: a token is one more item
	b := w.env.Browser()
	b.Login("root")
	p := b.Get("/", false)
	want := statuses(root)
	for id, n := range map[string]int{"#count-expired": want["expired"], "#count-7d": want["critical"], "#count-30d": want["warning"]} {
		if got := strings.TrimSpace(p.Doc.Find(id + " strong").Text()); got != strconv.Itoa(n) {
			t.Errorf("%s shows %q, want %d (as the overview counts)", id, got, n)
		}
	}
	if want["expired"] != 1 || want["critical"] < 3 {
		t.Errorf("the world has 1 expired and at least 3 critical items: %v", want)
	}
	soon := p.Doc.Find("#soon-items").Text()
	for _, name := range []string{"edge-old", "payments-token"} {
		if !strings.Contains(soon, name) {
			t.Errorf("the next 30 days lack %s", name)
		}
	}
	// The test users' own day-long tokens fill the rest of the first ten.
	if n := p.Doc.Find("#soon-items tbody tr").Length(); n != 10 || p.Doc.Find("#soon-more").Length() != 1 {
		t.Errorf("%d rows and no link to the rest", n)
	}
	if f := p.Doc.Find("#failed-deliveries").Text(); !strings.Contains(f, "environment webhook") || !strings.Contains(f, "truststore") || !strings.Contains(f, "failed after") {
		t.Errorf("failed deliveries: %q", f)
	}
	if d := p.Doc.Find("#recent-deployments").Text(); !strings.Contains(d, "staging") {
		t.Errorf("last deployments: %q", d)
	}
	row := p.Doc.Find(`#project-areas tr[data-project="payments"]`).Text()
	if fields := strings.Fields(row); len(fields) != 7 || fields[2] != "2" || fields[4] != "2" {
		t.Errorf("payments row %q, want 2 certificates and 2 signing keys", fields)
	}

	// pat is in no project: the truststore's CA, his token, no payments.
	b = w.env.Browser()
	b.Login("pat")
	p = b.Get("/", false)
	if body := p.Doc.Find("main").Text(); strings.Contains(body, "edge-") || strings.Contains(body, "payments") || strings.Contains(body, "billing") {
		t.Errorf("pat's dashboard shows another project's objects")
	}
	if !strings.Contains(p.Doc.Find("#soon-items").Text(), "partner-root") {
		t.Errorf("pat's dashboard lacks the truststore CA every user can see")
	}
}

// TestHeaderSearch: the search finds objects of every kind by any part of
// their name, whatever the case, only in the projects (and areas) the user
// can see; the header box gets the results as a fragment.
func TestHeaderSearch(t *testing.T) {
	w := newExpiringWorld(t)
	find := func(user, q string) []string {
		t.Helper()
		b := w.env.Browser()
		b.Login(user)
		p := b.Get("/search?q="+url.QueryEscape(q), true)
		if p.Status != http.StatusOK {
			t.Fatalf("search %q as %s: %d", q, user, p.Status)
		}
		var out []string
		p.Doc.Find("#search-results li").Each(func(_ int, s *goquery.Selection) {
			out = append(out, strings.Join(strings.Fields(s.Text()), " ")+" -> "+s.Find("a").AttrOr("href", ""))
		})
		return out
	}
	got := find("root", "EDGE")
	for _, want := range []string{
		"Certificate edge-old in payments -> /projects/payments/certificates/edge-old",
		"Certificate edge-soon in payments -> /projects/payments/certificates/edge-soon",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("root's search for EDGE lacks %q: %v", want, got)
		}
	}
	if got := find("root", "tokens-"); len(got) != 2 || !strings.HasPrefix(got[0], "Signing key tokens-a (") {
		t.Errorf("signing keys by label: %v", got)
	}
	if got := find("root", "payments-tok"); !slices.Contains(got, "Signer alias payments-token in payments -> /projects/payments/signing-keys/signers/payments-token") {
		t.Errorf("signer alias: %v", got)
	}
	if got := find("root", "bill"); !slices.Contains(got, "Project billing -> /projects/billing") || !slices.Contains(got, "Certificate billing-tls in billing -> /projects/billing/certificates/billing-tls") {
		t.Errorf("root's search for bill: %v", got)
	}
	// vic is in payments only; pat in no project.
	if got := find("vic", "bill"); len(got) != 0 {
		t.Errorf("vic finds billing's objects: %v", got)
	}
	if got := find("pat", "edge"); len(got) != 0 {
		t.Errorf("pat finds payments' certificates: %v", got)
	}
	if got := find("pat", "prod"); !slices.Equal(got, []string{"Environment production -> /environments/production"}) {
		t.Errorf("pat's search for prod: %v", got)
	}
	// The truststores are every user's; users only admins'.
	if got := find("pat", "partner"); !slices.Equal(got, []string{"Truststore CA partner-root (development) -> /environments/development"}) {
		t.Errorf("pat's search for partner: %v", got)
	}
	if got := find("root", "manny"); !slices.Equal(got, []string{"User manny -> /admin/users/manny"}) {
		t.Errorf("root's search for manny: %v", got)
	}
	if got := find("pat", "manny"); len(got) != 0 {
		t.Errorf("pat finds users: %v", got)
	}
	b := w.env.Browser()
	b.Login("vic")
	if p := b.Get("/search?q="+strings.Repeat("x", 101), false); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "at most 100") {
		t.Errorf("a 101-character search: %d", p.Status)
	}
	if p := b.Get("/projects/payments", false); p.Doc.Find(`header input#global-search[hx-get="/search"]`).Length() != 1 {
		t.Errorf("the header has no search box")
	}
}

// TestProjectNavigationCounts: the side navigation counts what each area
// holds, marks the page's own area, and lists only the areas the user may
// open.
func TestProjectNavigationCounts(t *testing.T) {
	w := newExpiringWorld(t)
	root := w.env.Token("root")
	entries := len(w.must(root, http.MethodGet, "/apiops/audit/?project=payments&size=500", nil).Body["resultList"].([]any))
	nav := func(user, path string) (map[string]string, string) {
		t.Helper()
		b := w.env.Browser()
		b.Login(user)
		p := b.Get(path, false)
		items := map[string]string{}
		p.Doc.Find("#project-nav a").Each(func(_ int, a *goquery.Selection) {
			items[strings.TrimPrefix(a.AttrOr("id", ""), "nav-")] = strings.TrimSpace(a.Find(".count").Text())
		})
		return items, strings.TrimPrefix(p.Doc.Find(`#project-nav a[aria-current="page"]`).AttrOr("id", ""), "nav-")
	}
	items, current := nav("root", "/projects/payments/signing-keys")
	want := map[string]string{"overview": "", "keys": "0", "certificates": "2", "truststore": "1", "jwks": "0", "signing-keys": "2",
		"key-sets": "0", "api-catalog": "0", "notifications": "0", "expiring": "", "audit": strconv.Itoa(entries)}
	for id, n := range want {
		got, ok := items[id]
		if !ok || id != "expiring" && got != n {
			t.Errorf("root's nav item %s: %q (present %v), want %q", id, got, ok, n)
		}
	}
	if current != "signing-keys" || entries < 5 {
		t.Errorf("current %q, audit entries %d", current, entries)
	}
	// vic holds SECRETS:VIEW and SIGNING_KEYS:VIEW only.
	items, current = nav("vic", "/projects/payments/certificates/truststore")
	for _, id := range []string{"key-sets", "api-catalog", "audit"} {
		if _, ok := items[id]; ok {
			t.Errorf("vic's nav offers %s", id)
		}
	}
	if current != "truststore" || items["certificates"] != "2" {
		t.Errorf("vic on the truststore: current %q, items %v", current, items)
	}
}
