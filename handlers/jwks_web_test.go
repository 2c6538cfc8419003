package handlers_test

import (
	"bytes"
	"github.com/PuerkitoBio/goquery"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/internal/testenv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/access"
)

// jwSite is a site with an RSA key "signer" in production and staging and a
// 32-byte AES key "mac" in production, none with a JWK yet.
func jwSite(t *testing.T) (*testenv.Env, *testenv.Browser) {
	t.Helper()
	env, admin := kwSite(t)
	kwCreate(t, env, "payments", "signer", "PRIVATE_KEY", "", true, map[string][]byte{
		"production": []byte(kwRSAKey(t, 0).pem), "staging": []byte(kwRSAKey(t, 0).pem)})
	kwCreate(t, env, "payments", "mac", "SECRET_KEY", "", true, map[string][]byte{"production": bytes.Repeat([]byte{7}, 32)})
	return env, admin
}

// TestJWKListPage: full page and fragment; the empty state, then a row per
// JWK with its source, use/alg and environments.
func TestJWKListPage(t *testing.T) {
	env, admin := jwSite(t)
	p := admin.Get("/projects/payments/jwks", false)
	if p.Status != http.StatusOK || p.Doc.Find("#no-jwks").Length() != 1 || p.Doc.Find("#jwk-create").Length() != 1 {
		t.Fatalf("empty JWK list: status %d, empty state %d, create %d", p.Status, p.Doc.Find("#no-jwks").Length(), p.Doc.Find("#jwk-create").Length())
	}
	checkFragment(t, "JWK list", p, true)
	kwCreateJWK(t, env, "signer-jwk", "signer", "production")
	p = admin.Get("/projects/payments/jwks", true)
	checkFragment(t, "JWK list (htmx)", p, false)
	row := p.Doc.Find("#jwks tbody tr")
	if row.Length() != 1 || !strings.Contains(row.Text(), "signer-jwk") || !strings.Contains(row.Text(), "sig / RS256") ||
		!strings.Contains(row.Text(), "production") || row.Find(`a[href="/projects/payments/keys/signer"]`).Length() != 1 {
		t.Fatalf("JWK row: %q", row.Text())
	}
}

// TestJWKFormFollowsTheSourceKey: the algorithms offered fit the chosen key
// and use, and the environments are the key's own.
func TestJWKFormFollowsTheSourceKey(t *testing.T) {
	_, admin := jwSite(t)
	cases := []struct {
		query    string
		algs     string
		envs     string
		selected string
	}{
		{"?source=signer", "RS256,RS384,RS512,PS256,PS384,PS512", "production,staging", "signer"},
		{"?source=signer&use=enc", "RSA-OAEP,RSA-OAEP-256", "production,staging", "signer"},
		{"?sourceName=mac&use=sig", "HS256", "production", "mac"},
		{"?source=mac&use=enc", "A256KW,A256GCMKW,dir", "production", "mac"},
	}
	for _, c := range cases {
		p := admin.Get("/projects/payments/jwks/new"+c.query, true)
		if p.Status != http.StatusOK {
			t.Fatalf("%s: status %d", c.query, p.Status)
		}
		var algs, envs []string
		p.Doc.Find(`select[name="alg"] option`).Each(func(_ int, s *goquery.Selection) { algs = append(algs, s.AttrOr("value", "")) })
		p.Doc.Find(`input[name="environments"]`).Each(func(_ int, s *goquery.Selection) { envs = append(envs, s.AttrOr("value", "")) })
		sel := p.Doc.Find(`select[name="sourceName"] option[selected]`).AttrOr("value", "")
		if strings.Join(algs, ",") != c.algs || strings.Join(envs, ",") != c.envs || sel != c.selected {
			t.Errorf("%s: algs %v, environments %v, selected %q; want %s / %s / %s", c.query, algs, envs, sel, c.algs, c.envs, c.selected)
		}
	}
}

// TestJWKCreateThroughTheForm: Save and Deploy publishes the JWK in the
// JWKS; bad input re-renders 422 beside the field and creates nothing.
func TestJWKCreateThroughTheForm(t *testing.T) {
	env, admin := jwSite(t)
	admin.Get("/projects/payments/jwks/new", false)
	bad := []struct {
		form  url.Values
		field string
		want  string
	}{
		{url.Values{"name": {"bad name"}, "sourceName": {"signer"}, "use": {"sig"}, "alg": {"RS256"}, "environments": {"production"}}, "name", "not valid"},
		{url.Values{"name": {"j"}, "sourceName": {"signer"}, "use": {"sig"}, "alg": {"HS256"}, "environments": {"production"}}, "alg", "does not fit"},
		{url.Values{"name": {"j"}, "sourceName": {"signer"}, "use": {"sig"}, "alg": {"RS256"}}, "environmentNames", "at least one environment"},
		{url.Values{"name": {"j"}, "sourceName": {"mac"}, "use": {"sig"}, "alg": {"HS256"}, "environments": {"staging"}}, "environmentNames", "no configuration in environment"},
	}
	before := testenv.TakeSnapshot(t, env)
	for _, c := range bad {
		c.form.Set("action", "deploy")
		p := admin.Post("/projects/payments/jwks", c.form, false)
		msg := p.Doc.Find(`[aria-invalid="true"]`).Parent().Find(".field-error").Text()
		if c.field == "environmentNames" {
			msg = p.Doc.Find("fieldset .field-error").Text()
		}
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(msg, c.want) {
			t.Errorf("%v: status %d, message %q; want 422 and %q beside %s", c.form, p.Status, msg, c.want, c.field)
		}
		if p.Doc.Find(`input[name="name"]`).AttrOr("value", "") != c.form.Get("name") {
			t.Errorf("%v: the typed name was not kept", c.form)
		}
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Fatalf("a refused JWK form changed data: %s", d)
	}
	p := admin.Post("/projects/payments/jwks", url.Values{"name": {"signer-jwk"}, "sourceName": {"signer"}, "use": {"sig"},
		"alg": {"PS256"}, "kid": {"gw-2026"}, "environments": {"production", "staging"}, "action": {"deploy"}}, false)
	if p.Status != http.StatusSeeOther || p.Location() != "/projects/payments/jwks/signer-jwk" {
		t.Fatalf("create: status %d location %q body %s", p.Status, p.Location(), p.Body)
	}
	for _, e := range []string{"production", "staging"} {
		keys := kwJWKS(t, env, e)
		if len(keys) != 1 || keys[0]["kid"] != "gw-2026" || keys[0]["alg"] != "PS256" || keys[0]["n"] != kwRSAKey(t, 0).modulus() {
			t.Errorf("JWKS of %s: %v", e, keys)
		}
	}
	// Save without deploy creates it but publishes nothing.
	p = admin.Post("/projects/payments/jwks", url.Values{"name": {"mac-jwk"}, "sourceName": {"mac"}, "use": {"sig"},
		"alg": {"HS256"}, "environments": {"production"}, "action": {"save"}}, false)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("save: status %d", p.Status)
	}
	if d, ok := kwJWK(t, env, "mac-jwk"); !ok || d.Environments[0].DeployedRevision != 0 {
		t.Errorf("saved JWK: %+v, %v; want not deployed", d, ok)
	}
}

// TestJWKDetailsAndDelete: the page shows the public JSON, the kid and the
// JWKS URL with copy buttons, never a secret JWK's material; deleting needs
// the typed name and takes the JWK out of the JWKS.
func TestJWKDetailsAndDelete(t *testing.T) {
	env, admin := jwSite(t)
	kwCreateJWK(t, env, "signer-jwk", "signer", "production")
	p := admin.Get("/projects/payments/jwks/signer-jwk", false)
	pre := p.Doc.Find("#json-production").Text()
	if p.Status != http.StatusOK || !strings.Contains(pre, kwRSAKey(t, 0).modulus()) || strings.Contains(pre, `"d"`) ||
		p.Doc.Find(`[data-copy="json-production"]`).Length() != 1 || p.Doc.Find(`[data-copy="kid-production"]`).Length() != 1 ||
		!strings.HasSuffix(p.Doc.Find("#url-production").Text(), "/jwks/payments/production") {
		t.Fatalf("JWK page: status %d, JSON %q", p.Status, pre)
	}
	if !strings.Contains(p.Doc.Find("#jwk-source").Text(), "signer") {
		t.Errorf("source: %q", p.Doc.Find("#jwk-source").Text())
	}
	if _, err := env.App.Secrets.CreateJWK(t.Context(), env.Principal("root"), "payments",
		jwkInput("mac-jwk", "mac", "HS256", "production"), true); err != nil {
		t.Fatal(err)
	}
	secret := admin.Get("/projects/payments/jwks/mac-jwk", false)
	if strings.Contains(secret.Body, `"k"`) || secret.Doc.Find("pre").Length() != 0 || !strings.Contains(secret.Body, "never published") {
		t.Errorf("secret JWK page shows material or no warning")
	}

	// Delete opens the shared confirmation dialog at the typed name.
	for _, htmx := range []bool{false, true} {
		p := admin.Get("/projects/payments/jwks/signer-jwk", htmx)
		dlg := p.Doc.Find("dialog#jwk-delete.confirm-dialog")
		form := dlg.Find(`form[method=post][action="/projects/payments/jwks/signer-jwk/delete"]`)
		if p.Doc.Find(`#jwk-delete-open[data-dialog-open="jwk-delete"]`).Length() != 1 || form.Find("input[name=_csrf]").Length() != 1 ||
			dlg.Find("h3").Text() != "Delete JWK" || dlg.Find("[data-dialog-choice], [data-dialog-choice-field]").Length() != 0 {
			t.Fatalf("JWK delete dialog (htmx %v): %q", htmx, strings.Join(strings.Fields(dlg.Text()), " "))
		}
		if !strings.Contains(dlg.Text(), "Deleting removes the JWK from every environment's JWKS. Type the JWK's name, signer-jwk, to confirm.") ||
			form.Find(`[data-dialog-step="confirm"]:not([hidden]) input[name=confirm_name][data-confirm-for="jwk-delete-confirm"]`).Length() != 1 ||
			form.Find(`button#jwk-delete-confirm[type=submit][data-confirm-name="signer-jwk"][disabled]`).Text() != "Delete" {
			t.Errorf("JWK delete dialog (htmx %v) steps: %q", htmx, strings.Join(strings.Fields(dlg.Text()), " "))
		}
	}
	before := testenv.TakeSnapshot(t, env)
	p = admin.Post("/projects/payments/jwks/signer-jwk/delete", url.Values{"confirm_name": {"signer"}}, false)
	if d := before.Changes(t, testenv.AuditMayGrow); p.Status != http.StatusSeeOther || d != "" {
		t.Fatalf("delete with the wrong name: status %d, changed %s", p.Status, d)
	}
	p = admin.Post("/projects/payments/jwks/signer-jwk/delete", url.Values{"confirm_name": {"signer-jwk"}}, false)
	if p.Status != http.StatusSeeOther || p.Location() != "/projects/payments/jwks" {
		t.Fatalf("delete: status %d location %q", p.Status, p.Location())
	}
	if keys := kwJWKS(t, env, "production"); len(keys) != 0 {
		t.Errorf("JWKS after delete: %v", keys)
	}
}

// TestJWKPagesPermissions: a SECRETS:VIEW member reads the pages but sees
// no Create or Delete and is refused 403 on the form and its posts.
func TestJWKPagesPermissions(t *testing.T) {
	env, _ := jwSite(t)
	kwCreateJWK(t, env, "signer-jwk", "signer", "production")
	env.Grant("payments", "bob", access.SecretsView)
	bob := env.Browser()
	bob.Login("bob")
	if p := bob.Get("/projects/payments/jwks", false); p.Status != http.StatusOK || p.Doc.Find("#jwk-create").Length() != 0 {
		t.Errorf("viewer list: status %d, create button %d", p.Status, p.Doc.Find("#jwk-create").Length())
	}
	if p := bob.Get("/projects/payments/jwks/signer-jwk", false); p.Status != http.StatusOK || p.Doc.Find("#jwk-delete-open").Length() != 0 {
		t.Errorf("viewer page: status %d, delete button %d", p.Status, p.Doc.Find("#jwk-delete-open").Length())
	}
	before := testenv.TakeSnapshot(t, env)
	if p := bob.Get("/projects/payments/jwks/new", false); p.Status != http.StatusForbidden {
		t.Errorf("viewer form: status %d, want 403", p.Status)
	}
	if p := bob.Post("/projects/payments/jwks", url.Values{"name": {"x"}, "sourceName": {"signer"}, "use": {"sig"}, "alg": {"RS256"}, "environments": {"production"}}, false); p.Status != http.StatusForbidden {
		t.Errorf("viewer create: status %d, want 403", p.Status)
	}
	if p := bob.Post("/projects/payments/jwks/signer-jwk/delete", url.Values{"confirm_name": {"signer-jwk"}}, false); p.Status != http.StatusForbidden {
		t.Errorf("viewer delete: status %d, want 403", p.Status)
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Errorf("a refused JWK request changed data: %s", d)
	}
}

func jwkInput(name, key, alg string, envs ...string) secrets.JWKInput {
	return secrets.JWKInput{Name: name, SourceType: secrets.SourceKey, SourceName: key, Use: "sig", Alg: alg, Environments: envs}
}
