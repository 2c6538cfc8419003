package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/testenv"
)

const ksBase = "/apiops/projects/payments/"

// keySetsWorld is a project with environments test and production, an
// organization acme, an application shop subscribed to API orders in test
// (key set API_KEY-shop), and a gateway token for test.
type keySetsWorld struct {
	env     *testenv.Env
	root    string
	gateway string
	key     string // API_KEY-shop's key
}

func newKeySetsWorld(t *testing.T) *keySetsWorld {
	t.Helper()
	env := testenv.New(t)
	env.CreateUser("root", true)
	w := &keySetsWorld{env: env, root: env.Token("root")}
	ctx, p := context.Background(), env.Principal("root")
	if _, err := env.App.Projects.Create(ctx, p, "payments", ""); err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"test", "production"} {
		if _, err := env.App.Environments.Create(ctx, p, environments.Input{Name: e}); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := env.App.Environments.CreateGatewayToken(ctx, p, "test", "edge", 0)
	if err != nil {
		t.Fatal(err)
	}
	w.gateway = tok.Value
	w.must(http.MethodPost, ksBase+"organizations/", map[string]any{"name": "acme"})
	w.must(http.MethodPost, ksBase+"organizations/acme/groups/", map[string]any{"name": "mobile"})
	w.app("shop")
	w.must(http.MethodPost, ksBase+"policyTemplates/", map[string]any{"name": "standard", "expiration": "90d", "manualRegeneration": true, "gracePeriod": "1h"})
	w.must(http.MethodPost, ksBase+"apis/", map[string]any{"name": "orders", "environments": []string{"test", "production"}, "authTypes": []string{"API_KEY"}, "policyTemplate": "standard"})
	w.key = w.subscribe("shop", "orders", "test")
	return w
}

func (w *keySetsWorld) must(method, path string, body any) testenv.APIResponse {
	w.env.T.Helper()
	r := w.env.API(w.root, method, path, body)
	if r.Status != http.StatusOK || r.Body["success"] != true {
		w.env.T.Fatalf("%s %s: status %d, body %s", method, path, r.Status, r.Raw)
	}
	return r
}

func (w *keySetsWorld) app(name string) {
	w.env.T.Helper()
	w.must(http.MethodPost, ksBase+"applications/", map[string]any{"name": name, "organization": "acme", "group": "mobile"})
}

// subscribe subscribes app and returns the new API key.
func (w *keySetsWorld) subscribe(app, api, env string) string {
	w.env.T.Helper()
	r := w.must(http.MethodPost, ksBase+"applications/"+app+"/subscriptions/", map[string]any{"api": api, "environment": env})
	ks := r.Body["keySets"].([]any)[0].(map[string]any)
	if c, ok := ks["credentials"].(map[string]any); ok {
		return c["key"].(string)
	}
	return ""
}

func (w *keySetsWorld) verify(token string, body any) testenv.APIResponse {
	w.env.T.Helper()
	return w.env.API(token, http.MethodPost, "/apiops/environments/test/credentials/verify", body)
}

func (w *keySetsWorld) verdict(body any) string {
	w.env.T.Helper()
	r := w.verify(w.gateway, body)
	if r.Status != http.StatusOK {
		w.env.T.Fatalf("verify: %d %s", r.Status, r.Raw)
	}
	return r.Body["code"].(string)
}

// TestAPIKeySetPermissions: the KEY_SETS matrix over every route (verify,
// taken with a gateway token, is TestAPIVerify's).
func TestAPIKeySetPermissions(t *testing.T) {
	w := newKeySetsWorld(t)
	for _, a := range []string{"gone", "suspend-me", "reactivate-me", "sub-me", "unsub-me", "act-me", "regen-me", "revoke-me"} {
		w.app(a)
	}
	w.must(http.MethodPost, ksBase+"organizations/", map[string]any{"name": "doomed"})
	w.must(http.MethodPost, ksBase+"organizations/acme/groups/", map[string]any{"name": "old"})
	w.must(http.MethodPost, ksBase+"policyTemplates/", map[string]any{"name": "unused"})
	w.must(http.MethodPost, ksBase+"apis/", map[string]any{"name": "retired", "environments": []string{"test"}, "authTypes": []string{"API_KEY"}, "policyTemplate": "standard"})
	w.must(http.MethodPost, ksBase+"applications/reactivate-me/suspend", nil)
	for _, a := range []string{"unsub-me", "act-me", "regen-me", "revoke-me"} {
		w.subscribe(a, "orders", "test")
	}
	w.must(http.MethodPost, ksBase+"keySets/API_KEY-act-me/suspend", nil)
	subs := w.must(http.MethodGet, ksBase+"applications/unsub-me/subscriptions/", nil).Body["resultList"].([]any)
	unsub := fmt.Sprintf("%sapplications/unsub-me/subscriptions/%.0f/", ksBase, subs[0].(map[string]any)["id"].(float64))
	api := map[string]any{"name": "orders", "environments": []string{"test", "production"}, "authTypes": []string{"API_KEY"}, "policyTemplate": "standard"}
	runPermissionMatrix(t, w.env, "payments", permissionAreas[2], []matrixRoute{
		{"list organizations", http.MethodGet, ksBase + "organizations/", nil, needView, ""},
		{"get organization", http.MethodGet, ksBase + "organizations/acme/", nil, needView, ""},
		{"list groups", http.MethodGet, ksBase + "organizations/acme/groups/", nil, needView, ""},
		{"list applications", http.MethodGet, ksBase + "applications/", nil, needView, ""},
		{"get application", http.MethodGet, ksBase + "applications/shop/", nil, needView, ""},
		{"list subscriptions", http.MethodGet, ksBase + "applications/shop/subscriptions/", nil, needView, ""},
		{"get subscription", http.MethodGet, ksBase + "applications/shop/subscriptions/1/", nil, needView, ""},
		{"list policies", http.MethodGet, ksBase + "policyTemplates/", nil, needView, ""},
		{"get policy", http.MethodGet, ksBase + "policyTemplates/standard/", nil, needView, ""},
		{"list APIs", http.MethodGet, ksBase + "apis/", nil, needView, ""},
		{"get API", http.MethodGet, ksBase + "apis/orders/", nil, needView, ""},
		{"list key sets", http.MethodGet, ksBase + "keySets/?status=ACTIVE", nil, needView, ""},
		{"get key set", http.MethodGet, ksBase + "keySets/API_KEY-shop/", nil, needView, ""},
		{"create organization", http.MethodPost, ksBase + "organizations/", map[string]any{"name": "matrix"}, needManage, "organization.create"},
		{"update organization", http.MethodPut, ksBase + "organizations/acme/", map[string]any{"description": "ACME"}, needManage, "organization.update"},
		{"delete organization", http.MethodDelete, ksBase + "organizations/doomed/", nil, needManage, "organization.delete"},
		{"create group", http.MethodPost, ksBase + "organizations/acme/groups/", map[string]any{"name": "matrix"}, needManage, "organization_group.create"},
		{"delete group", http.MethodDelete, ksBase + "organizations/acme/groups/old/", nil, needManage, "organization_group.delete"},
		{"create application", http.MethodPost, ksBase + "applications/", map[string]any{"name": "matrix", "organization": "acme"}, needManage, "application.create"},
		{"update application", http.MethodPut, ksBase + "applications/shop/", map[string]any{"organization": "acme", "description": "Shop"}, needManage, "application.update"},
		{"delete application", http.MethodDelete, ksBase + "applications/gone/", nil, needDeploy, "application.delete"},
		{"suspend application", http.MethodPost, ksBase + "applications/suspend-me/suspend", nil, needDeploy, "application.suspend"},
		{"reactivate application", http.MethodPost, ksBase + "applications/reactivate-me/reactivate", nil, needDeploy, "application.reactivate"},
		{"create policy", http.MethodPost, ksBase + "policyTemplates/", map[string]any{"name": "matrix", "rotation": "30d"}, needManage, "policy_template.create"},
		{"update policy", http.MethodPut, ksBase + "policyTemplates/standard/", map[string]any{"expiration": "90d", "manualRegeneration": true, "gracePeriod": "1h"}, needManage, "policy_template.update"},
		{"delete policy", http.MethodDelete, ksBase + "policyTemplates/unused/", nil, needManage, "policy_template.delete"},
		{"create API", http.MethodPost, ksBase + "apis/", map[string]any{"name": "matrix", "environments": []string{"test"}, "authTypes": []string{"API_KEY"}, "policyTemplate": "standard"}, needManage, "api.create"},
		{"update API", http.MethodPut, ksBase + "apis/orders/", api, needManage, "api.update"},
		{"delete API", http.MethodDelete, ksBase + "apis/retired/", nil, needManage, "api.delete"},
		{"subscribe", http.MethodPost, ksBase + "applications/sub-me/subscriptions/", map[string]any{"api": "orders", "environment": "test"}, needDeploy, "subscription.create"},
		{"unsubscribe", http.MethodDelete, unsub, nil, needDeploy, "subscription.delete"},
		{"retrieve credentials", http.MethodPost, ksBase + "keySets/API_KEY-shop/credentials", nil, needManage, "key_set.credentials"},
		{"activate", http.MethodPost, ksBase + "keySets/API_KEY-act-me/activate", nil, needDeploy, "key_set.activate"},
		{"suspend", http.MethodPost, ksBase + "keySets/API_KEY-shop/suspend", nil, needDeploy, "key_set.suspend"},
		{"regenerate", http.MethodPost, ksBase + "keySets/API_KEY-regen-me/regenerate", nil, needDeploy, "key_set.regenerate"},
		{"revoke", http.MethodPost, ksBase + "keySets/API_KEY-revoke-me/revoke", map[string]any{"confirm": "API_KEY-revoke-me"}, needDeploy, "key_set.revoke"},
	})
}

// TestAPIKeySetBadInput: each bad request is answered with its status and
// the field (or the status) it is about, and changes nothing.
func TestAPIKeySetBadInput(t *testing.T) {
	w := newKeySetsWorld(t)
	w.must(http.MethodPost, ksBase+"apis/", map[string]any{"name": "test-only", "environments": []string{"test"}, "authTypes": []string{"API_KEY"}, "policyTemplate": "standard"})
	w.must(http.MethodPost, ksBase+"policyTemplates/", map[string]any{"name": "fixed"})
	w.must(http.MethodPost, ksBase+"apis/", map[string]any{"name": "fixed-api", "environments": []string{"test"}, "authTypes": []string{"API_KEY"}, "policyTemplate": "fixed"})
	w.subscribe("shop", "fixed-api", "test")
	w.must(http.MethodPost, ksBase+"keySets/API_KEY-shop/revoke", map[string]any{"confirm": "API_KEY-shop"})
	sub := ksBase + "applications/shop/subscriptions/"
	pol := ksBase + "policyTemplates/"
	for _, c := range []struct {
		name, method, path string
		body               any
		status             int
		field, says        string
	}{
		{"unknown API", http.MethodPost, sub, map[string]any{"api": "nope", "environment": "test"}, 400, "api", `API "nope" does not exist`},
		{"unknown environment", http.MethodPost, sub, map[string]any{"api": "orders", "environment": "nope"}, 400, "environment", `"nope" does not exist`},
		{"environment the API does not run in", http.MethodPost, sub, map[string]any{"api": "test-only", "environment": "production"}, 400, "environment", "does not run in"},
		{"unknown application", http.MethodPost, ksBase + "applications/nope/subscriptions/", map[string]any{"api": "orders", "environment": "test"}, 404, "", `"nope" does not exist`},
		{"subscribed twice", http.MethodPost, sub, map[string]any{"api": "orders", "environment": "test"}, 400, "", "already subscribed"},
		{"unknown policy", http.MethodPost, ksBase + "apis/", map[string]any{"name": "x", "environments": []string{"test"}, "authTypes": []string{"API_KEY"}, "policyTemplate": "nope"}, 400, "policyTemplate", "does not exist"},
		{"unknown auth type", http.MethodPost, ksBase + "apis/", map[string]any{"name": "x", "environments": []string{"test"}, "authTypes": []string{"BASIC"}, "policyTemplate": "standard"}, 400, "authTypes[0]", "not an authentication type"},
		{"unknown organization", http.MethodPost, ksBase + "applications/", map[string]any{"name": "x", "organization": "nope"}, 400, "organization", "does not exist"},
		{"duplicate application", http.MethodPost, ksBase + "applications/", map[string]any{"name": "shop", "organization": "acme"}, 400, "name", "already exists"},
		{"duplicate policy", http.MethodPost, pol, map[string]any{"name": "standard"}, 400, "name", "already exists"},
		{"zero duration", http.MethodPost, pol, map[string]any{"name": "x", "expiration": "0d"}, 400, "expiration", "longer than zero"},
		{"negative duration", http.MethodPost, pol, map[string]any{"name": "x", "rotation": "-5h"}, 400, "rotation", "longer than zero"},
		{"not a duration", http.MethodPost, pol, map[string]any{"name": "x", "gracePeriod": "soon"}, 400, "gracePeriod", "not a duration"},
		{"rotation longer than expiration", http.MethodPost, pol, map[string]any{"name": "x", "expiration": "30d", "rotation": "31d"}, 400, "rotation", "longer than the expiration"},
		{"policy in use", http.MethodDelete, pol + "standard/", nil, 400, "", `in use by API(s) "orders"`},
		{"API in use", http.MethodDelete, ksBase + "apis/orders/", nil, 400, "", "in use by 1 subscription"},
		{"suspend a revoked key set", http.MethodPost, ksBase + "keySets/API_KEY-shop/suspend", nil, 409, "", "REVOKED"},
		{"regenerate a revoked key set", http.MethodPost, ksBase + "keySets/API_KEY-shop/regenerate", nil, 409, "", "REVOKED"},
		{"regenerate under a policy that forbids it", http.MethodPost, ksBase + "keySets/API_KEY-shop-2/regenerate", nil, 409, "", "does not allow manual regeneration"},
		{"revoke without the typed name", http.MethodPost, ksBase + "keySets/API_KEY-shop-2/revoke", map[string]any{"confirm": "yes"}, 400, "confirm", "Type the key set's name"},
		{"unknown list filter value", http.MethodGet, ksBase + "keySets/?status=LOST", nil, 400, "status", "not a status"},
		{"bad list date", http.MethodGet, ksBase + "keySets/?expiresFrom=tomorrow", nil, 400, "expiresFrom", "not a time"},
		{"unknown list environment", http.MethodGet, ksBase + "keySets/?environment=nope", nil, 400, "environment", "does not exist"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := testenv.TakeSnapshot(t, w.env)
			r := w.env.API(w.root, c.method, c.path, c.body)
			d, _ := r.Body["error_description"].(string)
			if r.Status != c.status || r.Body["field"] != nil && r.Body["field"] != c.field || c.field != "" && r.Body["field"] != c.field || !strings.Contains(d, c.says) {
				t.Errorf("%d %s, want %d field %q saying %q", r.Status, r.Raw, c.status, c.field, c.says)
			}
			if diff := before.Changes(t, testenv.AuditMayGrow); diff != "" {
				t.Errorf("a refused request changed %s", diff)
			}
		})
	}
}

// TestAPIVerify: a gateway's verify answers for valid, pending, suspended,
// revoked, expired (with the scheduler stopped), unsubscribed, unknown and
// mistyped credentials, from its environment's token only, and counts every
// answer in the metrics.
func TestAPIVerify(t *testing.T) {
	w := newKeySetsWorld(t)
	w.must(http.MethodPost, ksBase+"apis/", map[string]any{"name": "billing", "environments": []string{"test"}, "authTypes": []string{"API_KEY"}, "policyTemplate": "standard"})
	body := func(key, api string) map[string]any { return map[string]any{"key": key, "api": api} }
	r := w.verify(w.gateway, body(w.key, "orders"))
	if r.Status != 200 || r.Body["valid"] != true || r.Body["code"] != "VALID" || r.Body["keySet"] != "API_KEY-shop" || r.Body["application"] != "shop" ||
		r.Body["organization"] != "acme" || r.Body["expiresAt"] == nil {
		t.Fatalf("valid key: %d %s", r.Status, r.Raw)
	}
	if c := w.verdict(body(w.key, "billing")); c != "NOT_SUBSCRIBED" {
		t.Errorf("for an API not subscribed: %s", c)
	}
	mistyped := w.key[:10] + string("AB"[strings.IndexByte("AB", w.key[10])+1&1]) + w.key[11:]
	for _, c := range []struct{ name, key, want string }{
		{"checksum mismatch", mistyped, "MALFORMED"},
		{"truncated", w.key[:20], "MALFORMED"},
		{"unknown", "kw_ak_" + strings.Repeat("0", 32) + "000000", "MALFORMED"},
	} {
		before := testenv.TakeSnapshot(t, w.env)
		r := w.verify(w.gateway, body(c.key, ""))
		if r.Body["code"] != c.want || !strings.HasPrefix(fmt.Sprint(r.Body["message"]), "key: ") {
			t.Errorf("%s: %s", c.name, r.Raw)
		}
		if d := before.Changes(t); d != "" {
			t.Errorf("%s changed %s", c.name, d)
		}
	}
	w.must(http.MethodPost, ksBase+"keySets/API_KEY-shop/suspend", nil)
	if c := w.verdict(body(w.key, "")); c != "SUSPENDED" {
		t.Errorf("suspended: %s", c)
	}
	w.must(http.MethodPost, ksBase+"keySets/API_KEY-shop/activate", nil)
	if c := w.verdict(body(w.key, "orders")); c != "VALID" {
		t.Errorf("reactivated: %s", c)
	}
	// Expired, with no scheduler running (testenv's ManualSchedule).
	w.env.Clock.Advance(91 * 24 * time.Hour)
	if c := w.verdict(body(w.key, "")); c != "EXPIRED" {
		t.Errorf("expired: %s", c)
	}
	w.root = w.env.Token("root") // the first one has expired too
	key2 := w.subscribe("shop", "billing", "test")
	if c := w.verdict(body(key2, "billing")); c != "VALID" {
		t.Errorf("a new key after the old set expired: %s", c)
	}
	w.must(http.MethodPost, ksBase+"keySets/API_KEY-shop-2/revoke", map[string]any{"confirm": "API_KEY-shop-2"})
	if c := w.verdict(body(key2, "")); c != "REVOKED" {
		t.Errorf("revoked: %s", c)
	}
	// Who may ask, and what it may send.
	if r := w.verify(w.root, body(w.key, "")); r.Status != http.StatusForbidden {
		t.Errorf("a personal token: %d %s", r.Status, r.Raw)
	}
	tok, err := w.env.App.Environments.CreateGatewayToken(context.Background(), w.env.Principal("root"), "production", "prod", 0)
	if err != nil {
		t.Fatal(err)
	}
	if r := w.verify(tok.Value, body(w.key, "")); r.Status != http.StatusForbidden {
		t.Errorf("another environment's gateway token: %d %s", r.Status, r.Raw)
	}
	if r := w.verify(w.gateway, map[string]any{}); r.Status != http.StatusBadRequest || r.Body["field"] != "key" {
		t.Errorf("an empty body: %d %s", r.Status, r.Raw)
	}
	if r := w.verify(w.gateway, map[string]any{"key": strings.Repeat("x", 9000)}); r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("an oversized body: %d %s", r.Status, r.Raw)
	}
	resp, err := http.Get(w.env.URL("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, code := range []string{"VALID", "MALFORMED", "SUSPENDED", "EXPIRED", "REVOKED", "NOT_SUBSCRIBED"} {
		if !strings.Contains(string(metrics), `keyward_credential_verifications_total{code="`+code+`"}`) {
			t.Errorf("/metrics does not count %s", code)
		}
	}
}

// TestKeySetValuesNeverInClear: no credential value is stored in plain
// form, listed, logged or put in the bundle; Retrieve Credentials shows it.
func TestKeySetValuesNeverInClear(t *testing.T) {
	w := newKeySetsWorld(t)
	w.must(http.MethodPost, ksBase+"apis/", map[string]any{"name": "partners", "environments": []string{"test"}, "authTypes": []string{"CLIENT_CREDENTIALS"}, "policyTemplate": "standard"})
	r := w.must(http.MethodPost, ksBase+"applications/shop/subscriptions/", map[string]any{"api": "partners", "environment": "test"})
	cc := r.Body["keySets"].([]any)[0].(map[string]any)["credentials"].(map[string]any)
	regen := w.must(http.MethodPost, ksBase+"keySets/API_KEY-shop/regenerate", nil).Body["credentials"].(map[string]any)["key"].(string)
	values := []string{w.key, regen, cc["clientId"].(string), cc["clientSecret"].(string)}
	got := w.must(http.MethodPost, ksBase+"keySets/API_KEY-shop/credentials", nil)
	if !strings.Contains(string(got.Raw), regen) || !strings.Contains(string(got.Raw), w.key) {
		t.Errorf("Retrieve Credentials does not show the LATEST key and the one in its grace period: %s", got.Raw)
	}
	var seen strings.Builder
	for _, p := range []string{"keySets/", "keySets/API_KEY-shop/", "keySets/CLIENT_CREDENTIALS-shop/", "applications/shop/subscriptions/", "apis/partners/"} {
		seen.Write(w.must(http.MethodGet, ksBase+p, nil).Raw)
	}
	seen.Write(w.env.API(w.gateway, http.MethodGet, "/apiops/environments/test/bundle", nil).Raw)
	seen.Write(w.must(http.MethodGet, "/apiops/audit/?project=payments&size=500", nil).Raw)
	seen.WriteString(testenv.TakeSnapshot(t, w.env).String())
	seen.WriteString(w.env.Logs.String())
	if err := w.env.App.DB.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(filepath.Join(w.env.Dir, "keyward.db"))
	if err != nil {
		t.Fatal(err)
	}
	seen.Write(file)
	for _, v := range values {
		if strings.Contains(seen.String(), v) || strings.Contains(seen.String(), v[6:len(v)-4]) {
			t.Errorf("value %s… appears in clear", v[:8])
		}
	}
	if !strings.Contains(seen.String(), "kw_ak_…"+regen[len(regen)-4:]) {
		t.Error("the list does not show the LATEST key's prefix and last four")
	}
}

// TestAPIKeySetListFilters: free text matches key set and application
// names anywhere, whatever the case (the trigram index from three
// characters, a scan below), and the organization, group and API filters
// count exactly what they list.
func TestAPIKeySetListFilters(t *testing.T) {
	w := newKeySetsWorld(t)
	w.must(http.MethodPost, ksBase+"organizations/", map[string]any{"name": "globex"})
	w.must(http.MethodPost, ksBase+"applications/", map[string]any{"name": "Billing-Portal", "organization": "globex"})
	w.app("warehouse")
	w.must(http.MethodPost, ksBase+"apis/", map[string]any{"name": "stock", "environments": []string{"test"}, "authTypes": []string{"API_KEY", "CLIENT_CREDENTIALS"}, "policyTemplate": "standard"})
	w.subscribe("Billing-Portal", "orders", "test")
	w.subscribe("warehouse", "stock", "test")
	w.subscribe("shop", "orders", "production")
	list := func(query string) (names []string, count float64) {
		t.Helper()
		r := w.must(http.MethodGet, ksBase+"keySets/"+query, nil)
		for _, it := range r.Body["resultList"].([]any) {
			names = append(names, it.(map[string]any)["name"].(string))
		}
		slices.Sort(names)
		return names, r.Body["resultCount"].(float64)
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"?search=portal", []string{"API_KEY-Billing-Portal"}},    // the application's name, another case
		{"?search=BILLING-P", []string{"API_KEY-Billing-Portal"}}, // the key set's name
		{"?search=ware", []string{"API_KEY-warehouse", "CLIENT_CREDENTIALS-warehouse"}},
		{"?search=sh", []string{"API_KEY-shop", "API_KEY-shop-2"}}, // two characters: the scan
		{"?search=nothing-like-it", nil},
		{`?search=%22quoted%22`, nil}, // quotes are text, not FTS syntax
		{"?organization=globex", []string{"API_KEY-Billing-Portal"}},
		{"?organization=acme&group=mobile", []string{"API_KEY-shop", "API_KEY-shop-2", "API_KEY-warehouse", "CLIENT_CREDENTIALS-warehouse"}},
		{"?api=stock", []string{"API_KEY-warehouse", "CLIENT_CREDENTIALS-warehouse"}},
		{"?api=orders&environment=production", []string{"API_KEY-shop-2"}},
		{"?organization=acme&authType=CLIENT_CREDENTIALS", []string{"CLIENT_CREDENTIALS-warehouse"}},
	} {
		got, count := list(c.query)
		if !slices.Equal(got, c.want) || count != float64(len(c.want)) {
			t.Errorf("%s: %v (resultCount %v), want %v", c.query, got, count, c.want)
		}
	}
	// The header's search finds the key set (through the same trigram
	// index) and the application.
	res, err := w.env.App.Search.Find(context.Background(), w.env.Principal("root"), "PORTAL")
	var found []string
	for _, r := range res {
		found = append(found, r.Kind+" "+r.Name+" "+r.Link)
	}
	if err != nil || !slices.Equal(found, []string{"Application Billing-Portal /projects/payments/applications/Billing-Portal",
		"Key set API_KEY-Billing-Portal /projects/payments/key-sets/API_KEY-Billing-Portal"}) {
		t.Errorf("search PORTAL: %v, %v", found, err)
	}
}

// TestKeySetsInTheExpiryOverview: a live key set's expiration (and its
// rotation, when the policy rotates) is in the overview; revoking it takes
// it out in the same transaction.
func TestKeySetsInTheExpiryOverview(t *testing.T) {
	w := newKeySetsWorld(t)
	w.must(http.MethodPost, ksBase+"policyTemplates/", map[string]any{"name": "rotating", "expiration": "90d", "rotation": "30d"})
	w.must(http.MethodPost, ksBase+"apis/", map[string]any{"name": "stock", "environments": []string{"test"}, "authTypes": []string{"API_KEY"}, "policyTemplate": "rotating"})
	w.subscribe("shop", "stock", "test")
	items := func() []string {
		t.Helper()
		var out []string
		for _, it := range w.must(http.MethodGet, "/apiops/expiring/?project=payments", nil).Body["resultList"].([]any) {
			m := it.(map[string]any)
			out = append(out, fmt.Sprintf("%s %s %s %v", m["type"], m["name"], m["environment"], m["daysLeft"]))
		}
		return out
	}
	want := []string{"key_set_rotation API_KEY-shop-2 test 30", "key_set_expiration API_KEY-shop test 90", "key_set_expiration API_KEY-shop-2 test 90"}
	if got := items(); !slices.Equal(got, want) {
		t.Fatalf("overview: %v, want %v", got, want)
	}
	w.must(http.MethodPost, ksBase+"keySets/API_KEY-shop/revoke", map[string]any{"confirm": "API_KEY-shop"})
	if got := items(); !slices.Equal(got, []string{want[0], want[2]}) {
		t.Errorf("after revoking API_KEY-shop: %v", got)
	}
}
