package keysets_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keysets"
	"github.com/keyward/keyward/internal/testenv"
)

// fixture is a project with two environments, an organization, an
// application, and a gateway principal per environment.
type fixture struct {
	env  *testenv.Env
	ctx  context.Context
	root access.Principal
	ks   *keysets.Service
}

const project = "payments"

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return fixtureOn(t, testenv.New(t))
}

func fixtureOn(t *testing.T, env *testenv.Env) *fixture {
	t.Helper()
	f := &fixture{env: env, ctx: context.Background(), ks: env.App.KeySets}
	env.CreateUser("root", true)
	f.root = env.Principal("root")
	if _, err := env.App.Projects.Create(f.ctx, f.root, project, ""); err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"test", "production"} {
		if _, err := env.App.Environments.Create(f.ctx, f.root, environments.Input{Name: e}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.ks.CreateOrganization(f.ctx, f.root, project, "acme", "ACME Corp"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ks.CreateGroup(f.ctx, f.root, project, "acme", "mobile"); err != nil {
		t.Fatal(err)
	}
	f.app(t, "shop-app")
	return f
}

func (f *fixture) app(t *testing.T, name string) {
	t.Helper()
	if _, err := f.ks.CreateApplication(f.ctx, f.root, project, keysets.ApplicationInput{Name: name, Organization: "acme", Group: "mobile"}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) policy(t *testing.T, in keysets.PolicyInput) {
	t.Helper()
	if _, err := f.ks.CreatePolicy(f.ctx, f.root, project, in); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) api(t *testing.T, name, policy string, types ...string) {
	t.Helper()
	if _, err := f.ks.CreateAPI(f.ctx, f.root, project, keysets.APIInput{Name: name, Environments: []string{"test", "production"}, AuthTypes: types, PolicyTemplate: policy}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) subscribe(t *testing.T, app, api, env string) keysets.SubscribeResult {
	t.Helper()
	r, err := f.ks.Subscribe(f.ctx, f.root, project, app, keysets.SubscribeInput{API: api, Environment: env})
	if err != nil {
		t.Fatalf("subscribe %s to %s in %s: %v", app, api, env, err)
	}
	return r
}

func (f *fixture) get(t *testing.T, name string) keysets.Details {
	t.Helper()
	d, err := f.ks.Get(f.ctx, f.root, project, name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func gateway(env string) access.Principal {
	return access.Principal{Username: "gateway", Via: "gateway:gw", GatewayEnvironment: env}
}

func (f *fixture) verify(t *testing.T, env string, in keysets.VerifyInput) string {
	t.Helper()
	r, err := f.ks.Verify(f.ctx, gateway(env), env, in)
	if err != nil {
		t.Fatal(err)
	}
	return r.Code
}

func wantCode(t *testing.T, err error, code errs.Code, contains string) {
	t.Helper()
	if !errs.Is(err, code) || !strings.Contains(errs.MessageOf(err), contains) {
		t.Fatalf("err = %v (code %s), want %s containing %q", err, errs.CodeOf(err), code, contains)
	}
}

func TestLifecycleTransitions(t *testing.T) {
	f := newFixture(t)
	f.policy(t, keysets.PolicyInput{Name: "gated", ManualRegeneration: true, ActivationRequired: true})
	f.api(t, "orders", "gated", "API_KEY")
	r := f.subscribe(t, "shop-app", "orders", "test")
	if len(r.KeySets) != 1 || r.KeySets[0].Name != "API_KEY-shop-app" || r.KeySets[0].Status != keysets.Pending || r.KeySets[0].Reused || r.KeySets[0].Credentials == nil {
		t.Fatalf("subscribe = %+v", r.KeySets)
	}
	key := r.KeySets[0].Credentials.Key
	name := r.KeySets[0].Name
	in := keysets.VerifyInput{Key: key, API: "orders"}
	if c := f.verify(t, "test", in); c != keysets.CodePending {
		t.Fatalf("pending key verifies %s", c)
	}
	// Not allowed from PENDING: 409 naming the status.
	_, err := f.ks.Suspend(f.ctx, f.root, project, name)
	wantCode(t, err, errs.StateConflict, "PENDING")
	_, err = f.ks.Revoke(f.ctx, f.root, project, name, name)
	wantCode(t, err, errs.StateConflict, "PENDING")

	d, err := f.ks.Activate(f.ctx, f.root, project, name)
	if err != nil || d.Status != keysets.Active || d.Keys[0].Status != keysets.Active || d.Keys[0].ActivatedAt == nil {
		t.Fatalf("activate: %v %+v", err, d.Keys)
	}
	if c := f.verify(t, "test", in); c != keysets.CodeValid {
		t.Fatalf("active key verifies %s", c)
	}
	if c := f.verify(t, "production", in); c != keysets.CodeNotFound {
		t.Fatalf("a test key in production verifies %s", c)
	}
	if d, err = f.ks.Suspend(f.ctx, f.root, project, name); err != nil || d.Status != keysets.Suspended {
		t.Fatalf("suspend: %v %s", err, d.Status)
	}
	if c := f.verify(t, "test", in); c != keysets.CodeSuspended {
		t.Fatalf("suspended key verifies %s", c)
	}
	// Regenerating a suspended key set issues a suspended key.
	d, creds, err := f.ks.Regenerate(f.ctx, f.root, project, name, 0)
	if err != nil || len(d.Keys) != 2 || !d.Keys[0].Latest || d.Keys[0].Status != keysets.Suspended || d.Keys[1].Status != keysets.Revoked || creds.Key == "" || creds.Key == key {
		t.Fatalf("regenerate: %v %+v", err, d.Keys)
	}
	_, _, err = f.ks.Regenerate(f.ctx, f.root, project, name, 1)
	wantCode(t, err, errs.StateConflict, "not LATEST")
	if d, err = f.ks.Activate(f.ctx, f.root, project, name); err != nil || d.Status != keysets.Active {
		t.Fatalf("reactivate: %v", err)
	}
	if c := f.verify(t, "test", keysets.VerifyInput{Key: creds.Key}); c != keysets.CodeValid {
		t.Fatalf("new key verifies %s", c)
	}
	if c := f.verify(t, "test", in); c != keysets.CodeRevoked {
		t.Fatalf("old key (no grace period) verifies %s", c)
	}
	_, err = f.ks.Revoke(f.ctx, f.root, project, name, "wrong")
	if errs.FieldOf(err) != "confirm" {
		t.Fatalf("revoke without the typed name: %v", err)
	}
	if d, err = f.ks.Revoke(f.ctx, f.root, project, name, name); err != nil || d.Status != keysets.Revoked {
		t.Fatalf("revoke: %v", err)
	}
	if c := f.verify(t, "test", keysets.VerifyInput{Key: creds.Key}); c != keysets.CodeRevoked {
		t.Fatalf("revoked key verifies %s", c)
	}
	for _, act := range []func() error{
		func() error { _, err := f.ks.Activate(f.ctx, f.root, project, name); return err },
		func() error { _, err := f.ks.Suspend(f.ctx, f.root, project, name); return err },
		func() error { _, _, err := f.ks.Regenerate(f.ctx, f.root, project, name, 0); return err },
	} {
		wantCode(t, act(), errs.StateConflict, "REVOKED")
	}
	var types []string
	for _, e := range f.get(t, name).Timeline {
		types = append(types, e.Type)
	}
	want := "CREATED PROVISIONED SUSPENDED KEY_RETIRED REGENERATED ACTIVATED REVOKED"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("timeline %s, want %s", got, want)
	}
	for _, a := range f.get(t, name).Actions {
		if a.Allowed {
			t.Errorf("action %s is offered on a revoked key set", a.Name)
		}
	}
}

func TestRegenerateForbiddenByPolicy(t *testing.T) {
	f := newFixture(t)
	f.policy(t, keysets.PolicyInput{Name: "fixed"})
	f.api(t, "orders", "fixed", "API_KEY")
	r := f.subscribe(t, "shop-app", "orders", "test")
	before := testenv.TakeSnapshot(t, f.env)
	_, _, err := f.ks.Regenerate(f.ctx, f.root, project, r.KeySets[0].Name, 0)
	wantCode(t, err, errs.StateConflict, `"fixed" does not allow manual regeneration`)
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Errorf("a refused regeneration changed %s", d)
	}
}

func TestSubscribeReusesValidKeySets(t *testing.T) {
	f := newFixture(t)
	f.policy(t, keysets.PolicyInput{Name: "standard", Expiration: "90d", ManualRegeneration: true})
	f.policy(t, keysets.PolicyInput{Name: "strict", Expiration: "30d"})
	f.api(t, "orders", "standard", "API_KEY", "CLIENT_CREDENTIALS")
	f.api(t, "billing", "standard", "API_KEY")
	f.api(t, "ledger", "strict", "API_KEY")
	f.api(t, "stock", "standard", "API_KEY")
	first := f.subscribe(t, "shop-app", "orders", "test")
	if len(first.KeySets) != 2 || first.KeySets[1].AuthType != "CLIENT_CREDENTIALS" || first.KeySets[1].Credentials.ClientID == "" || first.KeySets[1].Credentials.ClientSecret == "" {
		t.Fatalf("orders: %+v", first.KeySets)
	}
	// Same application, environment, type and policy: reused, no values.
	second := f.subscribe(t, "shop-app", "billing", "test")
	if ks := second.KeySets[0]; !ks.Reused || ks.Name != "API_KEY-shop-app" || ks.Credentials != nil {
		t.Fatalf("billing: %+v", ks)
	}
	if d := f.get(t, "API_KEY-shop-app"); strings.Join(d.AuthorizedAPIs, ",") != "billing,orders" || len(d.Subscriptions) != 2 {
		t.Fatalf("authorized %v, subscriptions %d", d.AuthorizedAPIs, len(d.Subscriptions))
	}
	// The client-credentials set authorizes only the API with that type.
	if d := f.get(t, "CLIENT_CREDENTIALS-shop-app"); strings.Join(d.AuthorizedAPIs, ",") != "orders" {
		t.Fatalf("client credentials authorized %v", d.AuthorizedAPIs)
	}
	// Another policy: a new set, named with a suffix.
	if ks := f.subscribe(t, "shop-app", "ledger", "test").KeySets[0]; ks.Reused || ks.Name != "API_KEY-shop-app-2" {
		t.Fatalf("ledger: %+v", ks)
	}
	// Another environment: a new set.
	if ks := f.subscribe(t, "shop-app", "orders", "production").KeySets[0]; ks.Reused {
		t.Fatalf("orders in production reused %s", ks.Name)
	}
	// A revoked set is not reused.
	if _, err := f.ks.Revoke(f.ctx, f.root, project, "API_KEY-shop-app", "API_KEY-shop-app"); err != nil {
		t.Fatal(err)
	}
	if ks := f.subscribe(t, "shop-app", "stock", "test").KeySets[0]; ks.Reused || ks.Name != "API_KEY-shop-app-4" {
		t.Fatalf("stock after revocation: %+v", ks)
	}
	// An expired set (even before the scheduler ran) is not reused.
	f.api(t, "reports", "strict", "API_KEY")
	f.env.Clock.Advance(31 * 24 * time.Hour)
	if ks := f.subscribe(t, "shop-app", "reports", "test").KeySets[0]; ks.Reused || ks.Name != "API_KEY-shop-app-5" {
		t.Fatalf("reports after the strict set expired: %+v", ks)
	}
}
