package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

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

var _ = fmt.Sprintf
var _ = url.Values{}
var _ = http.StatusOK
