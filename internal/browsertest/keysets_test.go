package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/keysets"
	"github.com/keyward/keyward/internal/testenv"
)

// The key sets test runs Keyward in this process (internal/testenv), as
// the signer alias test does, so that it can hold a gateway token of the
// environment and ask the verify endpoint what a gateway would be told.

const (
	ksProject = "payments"
	ksEnv     = "production"
	ksName    = "API_KEY-shop-app"
	ksPage    = "/projects/" + ksProject + "/key-sets/" + ksName
)

// TestKeySetsInBrowser: in a project with an organization acme and an
// application shop-app, an admin creates the policy template standard
// (90d expiration, 30d rotation, manual regeneration) and the API orders
// (production, API_KEY) from the Key Sets area's tabs, subscribes shop-app
// to it and sees the new key once; a gateway of production verifies it.
// The Keys list filters on the server (status, free text); the details
// show the key set, its policy, timeline and LATEST key. Suspend: verify
// answers SUSPENDED; Activate: VALID again; Regenerate shows the new key
// once, the old one is refused; Revoke asks for the typed name (Revoke
// stays disabled with a wrong one), then verify answers REVOKED and no
// action is left. Screenshots keysets-*.png at each step.
func TestKeySetsInBrowser(t *testing.T) {
	env := testenv.New(t)
	env.CreateUser("admin", true)
	t.Cleanup(func() { signerErrorLogs(t, env) })
	gateway := ksSetUp(t, env)
	b := NewBrowser(t, env.Server.URL)
	signerSignIn(t, b)

	b.Navigate("/projects/" + ksProject)
	boostedClick(t, b, `#area-key-sets a[href="/projects/`+ksProject+`/key-sets"]`, "h1", "Key Sets")
	b.WaitText("#no-key-sets", "This project has no key sets yet.")
	assertPage(t, b, "empty Keys list")

	ksCreatePolicy(t, b)
	ksCreateAPI(t, b)
	key := ksSubscribe(t, b)
	ksWantVerify(t, env, gateway, key, "VALID")

	ksFilter(t, b)
	boostedClick(t, b, `#key-sets a[href="`+ksPage+`"]`, "h1", ksName)
	b.WaitText("#key-set-status", "ACTIVE")
	b.WaitText("#authorized-apis", "orders")
	b.WaitText("#keys tr#key-1", "LATEST")
	b.WaitText("#timeline tr.event-ROTATION .event-scheduled", "2026-12-23 09:00:00 UTC")
	if strings.Contains(b.Text("main"), key) {
		t.Error("the details show the key's value")
	}
	assertPage(t, b, "details")
	b.Screenshot("keysets-details")

	// Suspend: the gateway refuses the key.
	b.Click("#action-suspend")
	b.WaitText(".flash", "Key set "+ksName+" suspended.")
	b.WaitText("#key-set-status", "SUSPENDED")
	ksWantVerify(t, env, gateway, key, "SUSPENDED")
	b.WaitVisible("#action-activate")
	assertPage(t, b, "suspended")
	b.Screenshot("keysets-suspended")

	// Activate: valid again.
	b.Click("#action-activate")
	b.WaitText(".flash", "Key set "+ksName+" activated.")
	b.WaitText("#key-set-status", "ACTIVE")
	ksWantVerify(t, env, gateway, key, "VALID")

	// Regenerate: the new key once; the old one is revoked (no grace period).
	b.Click("#action-regenerate")
	b.WaitText(".flash", "key #2 replaces the previous key")
	newKey := strings.TrimSpace(b.Text("#regenerated #new-key"))
	if !strings.HasPrefix(newKey, "kw_") || newKey == key {
		t.Fatalf("regenerated key %q", newKey)
	}
	b.WaitText("#keys tr#key-2", "LATEST")
	ksWantVerify(t, env, gateway, newKey, "VALID")
	ksWantVerify(t, env, gateway, key, "REVOKED")
	assertPage(t, b, "regenerated")
	b.Screenshot("keysets-regenerated")

	// Revoke, with the typed name.
	b.Click("#action-revoke")
	b.WaitVisible("#key-set-revoke input[name=confirm_name]")
	b.WaitText("#key-set-revoke", "Type the key set's name, "+ksName+", to confirm.")
	dialogCentred(t, b, "#key-set-revoke")
	b.Fill("#key-set-revoke input[name=confirm_name]", "API_KEY-shop")
	if !Eval[bool](b, `document.querySelector("#key-set-revoke-confirm").disabled`) {
		t.Error("Revoke Key is enabled with a wrong name")
	}
	b.Fill("#key-set-revoke input[name=confirm_name]", ksName)
	assertPage(t, b, "revoke dialog")
	viewportShot(t, b, "keysets-revoke-confirm")
	b.Click("#key-set-revoke-confirm")
	b.WaitText(".flash", "Key set "+ksName+" revoked.")
	b.WaitText("#key-set-status", "REVOKED")
	b.WaitText("#actions-unavailable", "The key set is REVOKED")
	if b.Has("#action-suspend") || b.Has("#action-activate") || b.Has("#action-regenerate") || b.Has("#action-revoke") {
		t.Error("a lifecycle action is offered on a revoked key set")
	}
	b.WaitText("#timeline tr.event-REVOKED", "admin")
	ksWantVerify(t, env, gateway, newKey, "REVOKED")
	assertPage(t, b, "revoked")
	b.Screenshot("keysets-revoked")
}

// ksSetUp makes the project, the environment with a gateway token (whose
// value it returns), the organization acme and the application shop-app.
func ksSetUp(t *testing.T, env *testenv.Env) string {
	t.Helper()
	ctx, p := context.Background(), env.Principal("admin")
	if _, err := env.App.Projects.Create(ctx, p, ksProject, "Payments APIs"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Environments.Create(ctx, p, environments.Input{Name: ksEnv}); err != nil {
		t.Fatal(err)
	}
	tok, err := env.App.Environments.CreateGatewayToken(ctx, p, ksEnv, "edge", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.KeySets.CreateOrganization(ctx, p, ksProject, "acme", "ACME Corp"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.KeySets.CreateApplication(ctx, p, ksProject, keysets.ApplicationInput{Name: "shop-app", Organization: "acme"}); err != nil {
		t.Fatal(err)
	}
	return tok.Value
}

func ksCreatePolicy(t *testing.T, b *Browser) {
	t.Helper()
	boostedClick(t, b, "#tab-policies", "h1", "Policy templates")
	b.Fill("#policy-form input[name=name]", "standard")
	b.Fill("#policy-form input[name=expiration]", "90d")
	b.Fill("#policy-form input[name=rotation]", "120d")
	b.Click("#policy-form input[name=manualRegeneration]")
	b.Click("#policy-submit")
	// A rotation longer than the expiration is refused beside the field.
	b.WaitText("#rotation-error", "is longer than the expiration")
	assertPage(t, b, "policy refused", "status of 422")
	b.Screenshot("keysets-policy-refused")
	b.Fill("#policy-form input[name=rotation]", "30d")
	b.Click("#policy-submit")
	b.WaitURL("/projects/" + ksProject + "/policy-templates/standard")
	b.WaitText(".flash", "Policy template standard created: expiration 90d, rotation 30d, manual regeneration true")
	b.WaitText(".rule-rotation", "every 30d")
	assertPage(t, b, "policy created")
}

func ksCreateAPI(t *testing.T, b *Browser) {
	t.Helper()
	boostedClick(t, b, "#tab-apis", "h1", "API Catalog")
	b.Fill("#api-form input[name=name]", "orders")
	b.Fill("#api-form input[name=description]", "Order intake")
	b.Click(`#api-form input[name=environments][value="` + ksEnv + `"]`)
	b.Click(`#api-form input[name=authTypes][value=API_KEY]`)
	b.Select("#api-form select[name=policyTemplate]", "standard")
	assertPage(t, b, "create API form")
	b.Screenshot("keysets-api-create")
	b.Click("#api-submit")
	b.WaitURL("/projects/" + ksProject + "/api-catalog/orders")
	b.WaitText(".flash", "API orders added to the catalog, with policy template standard.")
	b.WaitText("#no-subscribers", "No application is subscribed yet.")
	assertPage(t, b, "API page")
}

// ksSubscribe subscribes shop-app to orders in production and returns the
// key shown once.
func ksSubscribe(t *testing.T, b *Browser) string {
	t.Helper()
	b.Select("#subscribe-form select[name=application]", "shop-app")
	b.Select("#subscribe-form select[name=environment]", ksEnv)
	b.Click("#subscribe-submit")
	b.WaitText("#subscribed", "Application shop-app subscribed to orders in production.")
	key := strings.TrimSpace(b.Text("#cred-" + ksName + "-key"))
	if !strings.HasPrefix(key, "kw_") {
		t.Fatalf("the new key %q", key)
	}
	b.WaitText("#subscribers", "shop-app")
	assertPage(t, b, "subscribed")
	b.Screenshot("keysets-subscribed")
	// Shown once: the page again does not carry it.
	b.Navigate("/projects/" + ksProject + "/api-catalog/orders")
	b.WaitText("#subscribers", "shop-app")
	if strings.Contains(b.Text("main"), key) {
		t.Error("the key is shown again")
	}
	return key
}

// ksFilter filters the Keys list on the server, as htmx swaps the results.
func ksFilter(t *testing.T, b *Browser) {
	t.Helper()
	b.Navigate("/projects/" + ksProject + "/key-sets")
	b.WaitText("#key-sets", ksName)
	b.Select("#key-set-filters select[name=status]", "SUSPENDED")
	b.Click("#key-set-filter")
	b.WaitText("#no-key-sets", "No key set matches these filters.")
	b.Select("#key-set-filters select[name=status]", "ACTIVE")
	b.Fill("#key-set-filters input[name=search]", "shop")
	b.Click("#key-set-filter")
	b.WaitText("#key-sets", ksName)
	b.waitFor("the filters in the URL", func() bool {
		u := b.URL()
		return strings.Contains(u, "/key-sets?") && strings.Contains(u, "search=shop") && strings.Contains(u, "status=ACTIVE")
	})
	assertPage(t, b, "filtered list")
	b.Screenshot("keysets-filtered")
}

// ksWantVerify asks production's verify endpoint about key, as a gateway.
func ksWantVerify(t *testing.T, env *testenv.Env, gateway, key, code string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"key": key})
	req, err := http.NewRequest(http.MethodPost, env.URL("/apiops/environments/"+ksEnv+"/credentials/verify"), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+gateway)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Valid bool   `json:"valid"`
		Code  string `json:"code"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("verify: status %d: %v", resp.StatusCode, err)
	}
	if got.Code != code || got.Valid != (code == "VALID") {
		t.Errorf("verify %s…: %+v, want %s", key[:10], got, code)
	}
}
