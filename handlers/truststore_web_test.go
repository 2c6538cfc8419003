package handlers_test

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/testenv"
)

// The Certificates screen's Truststore tab: an environment's added CAs
// and built-in roots, the admins' changes (each a deploy) and the export.

const tsPath = "/projects/payments/certificates/truststore"

// TestTruststorePage: full page and fragment; the tabs, the environment
// choice, the added CAs, the built-in roots (searchable, with their
// constraints), the admin's forms and the export with "changeit"; what a
// member and a stranger get.
func TestTruststorePage(t *testing.T) {
	env, admin := kwSite(t)
	chain := newTestChain(t, "edge.example.com")
	cwCreate(t, env, "root-ca", false, map[string][]byte{"staging": pemOf(chain.root)})
	for _, htmx := range []bool{false, true} {
		p := admin.Get(tsPath, htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("GET truststore (htmx %v): status %d", htmx, p.Status)
		}
		checkFragment(t, "truststore", p, !htmx)
		if p.Doc.Find(`nav.tabs a#tab-truststore[aria-current=page]`).Length() != 1 {
			t.Error("the Truststore tab is not current")
		}
		if got := p.Doc.Find(`select[name=environment] option[selected]`).AttrOr("value", ""); got != "production" {
			t.Errorf("the first environment is not shown: %q", got)
		}
		if p.Doc.Find("#no-added-cas").Length() != 1 {
			t.Error("no sentence for an empty list of added CAs")
		}
		roots := p.Doc.Find("#builtin-results table tbody tr")
		if roots.Length() < 50 || !strings.Contains(p.Doc.Find("#builtin-roots-state").Text(), "included") {
			t.Errorf("built-in roots: %d rows, %q", roots.Length(), p.Doc.Find("#builtin-roots-state").Text())
		}
		if !strings.Contains(roots.First().Find("td").Eq(2).Text(), "CA") {
			t.Errorf("the roots' constraints are not shown: %q", roots.First().Text())
		}
		for _, sel := range []string{`#add-ca-form[action="/projects/payments/certificates/truststore/cas"][enctype="multipart/form-data"] input[name=environment][value=production]`,
			`#builtin-roots-toggle input[name=include][value="0"]`, `#truststore-export-form[hx-boost=false] input[name=password][value=changeit]`,
			`#truststore-export-form input[name=format][value=jks]`, `#truststore-export-form input[name=format][value=p12]`, `#truststore-export-form input[name=format][value=pem][checked]`} {
			if p.Doc.Find(sel).Length() != 1 {
				t.Errorf("the tab lacks %s", sel)
			}
		}
	}
	// Staging offers the project's certificate there as a CA source.
	p := admin.Get(tsPath+"?environment=staging", false)
	if p.Doc.Find(`#add-ca-form select[name=certificate] option[value=root-ca]`).Length() != 1 {
		t.Error("a certificate of the project is not offered as a CA")
	}
	// The built-in roots' search.
	all := admin.Get(tsPath, false).Doc.Find("#builtin-results tbody tr").Length()
	p = admin.Get(tsPath+"?environment=production&search=ISRG", true)
	if n := p.Doc.Find("#builtin-results tbody tr").Length(); n == 0 || n >= all || !strings.Contains(p.Doc.Find("#builtin-results").Text(), "ISRG") {
		t.Errorf("search ISRG: %d of %d", n, all)
	}
	if got := p.Doc.Find(`#builtin-results p`).Text(); !strings.Contains(got, "matching “ISRG”") {
		t.Errorf("search summary %q", got)
	}
	if p := admin.Get(tsPath+"?environment=nowhere", false); p.Status != http.StatusBadRequest || !strings.Contains(p.Doc.Find("main").Text(), `Environment "nowhere" does not exist.`) {
		t.Errorf("unknown environment: status %d", p.Status)
	}
	// A member reads it without the admin's forms; a stranger gets a 404.
	env.Grant("payments", "bob", access.SecretsView)
	bob := env.Browser()
	bob.Login("bob")
	p = bob.Get(tsPath, false)
	if p.Status != http.StatusOK || p.Doc.Find("#add-ca, #builtin-roots-toggle").Length() != 0 || p.Doc.Find("#truststore-export-form").Length() != 1 {
		t.Errorf("member: status %d, admin forms %d", p.Status, p.Doc.Find("#add-ca, #builtin-roots-toggle").Length())
	}
	env.CreateUser("eve", false)
	eve := env.Browser()
	eve.Login("eve")
	if p := eve.Get(tsPath, false); p.Status != http.StatusNotFound {
		t.Errorf("stranger: status %d", p.Status)
	}
}

// TestTruststoreAddAndRemove: a CA added from a file, from pasted text and
// from a certificate of the project, each a deploy listed with who added
// it; a leaf certificate or a duplicate is refused beside the field;
// removing needs the typed alias.
func TestTruststoreAddAndRemove(t *testing.T) {
	env, admin := kwSite(t)
	chain := newTestChain(t, "edge.example.com")
	other := newTestChain(t, "other.example.com")
	cwCreate(t, env, "other-root", false, map[string][]byte{"production": pemOf(other.root)})
	admin.Get(tsPath, false)
	rev := kwRevision(t, env, "production")
	p := kwSubmit(t, env, admin, tsPath+"/cas", url.Values{"environment": {"production"}, "source": {"FILE"}, "alias": {"test-root"}},
		[]kwFile{{"file", "root.cer", chain.root.Raw}}, false)
	if p.Status != http.StatusSeeOther || p.Location() != tsPath+"?environment=production" || kwRevision(t, env, "production") != rev+1 {
		t.Fatalf("add from a file: status %d %q %.300s", p.Status, p.Location(), p.Body)
	}
	p = admin.Get(tsPath+"?environment=production", false)
	if got := p.Doc.Find(".flash").Text(); !strings.Contains(got, "CA CN=Test Root CA,O=Keyward Test added to the truststore of production.") {
		t.Errorf("flash %q", got)
	}
	row := p.Doc.Find("#added-cas tbody tr")
	if row.Length() != 1 || !strings.Contains(row.Text(), "test-root") || !strings.Contains(row.Text(), "root") || !strings.Contains(row.Text(), "Import from File") {
		t.Errorf("added CA row %q", row.Text())
	}
	// The chain of the edge certificate is anchored now.
	cwCreate(t, env, "edge", false, map[string][]byte{"production": pemOf(chain.leaf, chain.intermediate)})
	if a := admin.Get("/projects/payments/certificates/edge", false).Doc.Find("#env-production .cert-analysis .verdict").Text(); !strings.Contains(a, "anchored by CN=Test Root CA") {
		t.Errorf("analysis with the root trusted: %q", a)
	}
	// Pasted, the second certificate of a chain (position 2).
	p = kwSubmit(t, env, admin, tsPath+"/cas", url.Values{"environment": {"production"}, "source": {"CLIPBOARD"}, "encoding": {"BASE64PEM"},
		"content": {string(pemOf(chain.leaf, chain.intermediate))}, "position": {"2"}}, nil, true)
	if p.Status != http.StatusNoContent {
		t.Errorf("add pasted (htmx): status %d %.300s", p.Status, p.Body)
	}
	// A certificate of the project.
	p = kwSubmit(t, env, admin, tsPath+"/cas", url.Values{"environment": {"production"}, "source": {"CERTIFICATE"}, "certificate": {"other-root"}}, nil, false)
	if p.Status != http.StatusSeeOther {
		t.Errorf("add a project's certificate: status %d %.300s", p.Status, p.Body)
	}
	p = admin.Get(tsPath+"?environment=production", false)
	if got := texts(p.Doc, "#added-cas tbody tr td:first-child"); strings.Join(got, ",") != "test-root,Test Intermediate CA,Test Root CA" && len(got) != 3 {
		t.Errorf("added CAs %v", got)
	}
	before := testenv.TakeSnapshot(t, env)
	for _, c := range []struct {
		what string
		form url.Values
		sel  string
		want string
	}{
		{"a leaf", url.Values{"source": {"CLIPBOARD"}, "encoding": {"BASE64PEM"}, "content": {string(pemOf(chain.leaf))}}, "#add-ca-content-error", "is not a CA certificate"},
		{"a duplicate", url.Values{"source": {"CLIPBOARD"}, "encoding": {"BASE64PEM"}, "content": {string(pemOf(chain.root))}}, "#add-ca-content-error", "already in the truststore"},
		{"a private key", url.Values{"source": {"CLIPBOARD"}, "encoding": {"BASE64PEM"}, "content": {kwRSAKey(t, 0).pem}}, "#add-ca-content-error", "private key"},
		{"a bad position", url.Values{"source": {"CLIPBOARD"}, "encoding": {"BASE64PEM"}, "content": {string(pemOf(chain.root))}, "position": {"5"}}, "#add-ca-form small.field-error", "Choose one of the 1"},
		{"no file", url.Values{"source": {"FILE"}}, "#add-ca-content-error", "Choose the CA certificate's file."},
	} {
		c.form.Set("environment", "production")
		for _, htmx := range []bool{false, true} {
			p := kwSubmit(t, env, admin, tsPath+"/cas", c.form, nil, htmx)
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Doc.Find(c.sel).Text(), c.want) {
				t.Errorf("%s (htmx %v): status %d, %s says %q", c.what, htmx, p.Status, c.sel, p.Doc.Find(c.sel).Text())
			}
			if p.Doc.Find(`details#add-ca[open]`).Length() != 1 || p.Doc.Find(`#add-ca-form textarea[name=content]`).Text() != c.form.Get("content") {
				t.Errorf("%s: the form is not open with what was typed", c.what)
			}
		}
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Errorf("refused adds changed the database: %s", d)
	}
	// Remove: the dialog asks for the alias.
	p = admin.Get(tsPath+"?environment=production", false)
	sha := sha256Hex(chain.root.Raw)
	dlg := p.Doc.Find("#ca-" + sha + " dialog")
	if dlg.Find(`form[action="/projects/payments/certificates/truststore/cas/`+sha+`/remove"] input[type=hidden][name=environment][value=production]`).Length() != 1 ||
		dlg.Find(`button[data-confirm-name="test-root"]`).Text() != "Remove" || !strings.Contains(dlg.Text(), "Type the CA's alias, test-root, to confirm.") {
		t.Errorf("remove dialog %q", strings.Join(strings.Fields(dlg.Text()), " "))
	}
	rev = kwRevision(t, env, "production")
	admin.Post(tsPath+"/cas/"+sha+"/remove", url.Values{"environment": {"production"}, "confirm_name": {"wrong"}}, false)
	if kwRevision(t, env, "production") != rev || !strings.Contains(admin.Get(tsPath, false).Doc.Find(".flash").Text(), "Type the CA's alias exactly") {
		t.Error("a wrong alias removed the CA, or said nothing")
	}
	p = admin.Post(tsPath+"/cas/"+sha+"/remove", url.Values{"environment": {"production"}, "confirm_name": {"test-root"}}, false)
	if p.Status != http.StatusSeeOther || kwRevision(t, env, "production") != rev+1 {
		t.Errorf("remove: status %d", p.Status)
	}
	if got := admin.Get(tsPath, false).Doc.Find(".flash").Text(); !strings.Contains(got, "removed from the truststore of production") {
		t.Errorf("flash %q", got)
	}
	// Only admins change a truststore.
	env.Grant("payments", "bob", access.SecretsView, access.SecretsManage, access.SecretsDeploy)
	bob := env.Browser()
	bob.Login("bob")
	bob.Get(tsPath, false)
	if p := kwSubmit(t, env, bob, tsPath+"/cas", url.Values{"environment": {"production"}, "source": {"CLIPBOARD"}, "encoding": {"BASE64PEM"},
		"content": {string(pemOf(chain.root))}}, nil, false); p.Status != http.StatusForbidden {
		t.Errorf("a member's add: status %d", p.Status)
	}
	for _, path := range []string{tsPath + "/builtin-roots", tsPath + "/cas/" + sha256Hex(other.root.Raw) + "/remove"} {
		if p := bob.Post(path, url.Values{"environment": {"production"}, "include": {"0"}, "confirm_name": {"Test Root CA"}}, false); p.Status != http.StatusForbidden {
			t.Errorf("a member's %s: status %d", path, p.Status)
		}
	}
}

// TestTruststoreBuiltinRoots: leaving the built-in roots out (and back in)
// is a deploy, and the tab says so.
func TestTruststoreBuiltinRoots(t *testing.T) {
	env, admin := kwSite(t)
	admin.Get(tsPath, false)
	rev := kwRevision(t, env, "staging")
	p := admin.Post(tsPath+"/builtin-roots", url.Values{"environment": {"staging"}, "include": {"0"}}, false)
	if p.Status != http.StatusSeeOther || p.Location() != tsPath+"?environment=staging" || kwRevision(t, env, "staging") != rev+1 {
		t.Fatalf("leave out: status %d %q", p.Status, p.Location())
	}
	p = admin.Get(tsPath+"?environment=staging", false)
	if !strings.Contains(p.Doc.Find(".flash").Text(), "The built-in roots are left out of the truststore of staging.") ||
		!strings.Contains(p.Doc.Find("#builtin-roots-state").Text(), "left out") || p.Doc.Find(`#builtin-roots-toggle input[name=include][value="1"]`).Length() != 1 ||
		p.Doc.Find("#builtin-results table.left-out").Length() != 1 {
		t.Errorf("left out: %q", p.Doc.Find("#builtin-roots-state").Text())
	}
	if got := admin.Get(tsPath+"?environment=production", false).Doc.Find("#builtin-roots-state").Text(); !strings.Contains(got, "included") {
		t.Errorf("production is unchanged: %q", got)
	}
	admin.Post(tsPath+"/builtin-roots", url.Values{"environment": {"staging"}, "include": {"1"}}, false)
	if kwRevision(t, env, "staging") != rev+2 {
		t.Error("including them again is not a deploy")
	}
}

// TestTruststoreExport: PEM, JKS and PKCS#12 downloads with their types;
// a keystore without a password is refused beside the field.
func TestTruststoreExport(t *testing.T) {
	env, admin := kwSite(t)
	chain := newTestChain(t, "edge.example.com")
	admin.Get(tsPath, false)
	kwSubmit(t, env, admin, tsPath+"/cas", url.Values{"environment": {"staging"}, "source": {"CLIPBOARD"}, "encoding": {"BASE64PEM"},
		"content": {string(pemOf(chain.root))}, "alias": {"test-root"}}, nil, false)
	admin.Post(tsPath+"/builtin-roots", url.Values{"environment": {"staging"}, "include": {"0"}}, false)
	admin.Get(tsPath, false)
	env.Grant("payments", "bob", access.SecretsView)
	bob := env.Browser()
	bob.Login("bob")
	bob.Get(tsPath, false)
	p := bob.Post(tsPath+"/export", url.Values{"environment": {"staging"}, "format": {"pem"}, "password": {"changeit"}}, false)
	if p.Status != http.StatusOK || p.Header.Get("Content-Type") != "application/x-pem-file" || p.Header.Get("Content-Disposition") != "attachment; filename=truststore-staging.pem" {
		t.Fatalf("PEM: %d %v", p.Status, p.Header)
	}
	block, rest := pem.Decode([]byte(p.Body))
	if block == nil || len(strings.TrimSpace(string(rest))) != 0 {
		t.Fatalf("PEM body %q", p.Body)
	}
	if c, err := x509.ParseCertificate(block.Bytes); err != nil || !c.Equal(chain.root) {
		t.Errorf("the PEM bundle holds %v (%v)", c, err)
	}
	for format, ct := range map[string]string{"jks": "application/x-java-keystore", "p12": "application/x-pkcs12"} {
		p := bob.Post(tsPath+"/export", url.Values{"environment": {"staging"}, "format": {format}, "password": {"changeit"}}, false)
		if p.Status != http.StatusOK || p.Header.Get("Content-Type") != ct || !strings.Contains(p.Header.Get("Content-Disposition"), "truststore-staging."+format) || len(p.Body) < 100 {
			t.Errorf("%s: %d %v", format, p.Status, p.Header)
		}
	}
	p = bob.Post(tsPath+"/export", url.Values{"environment": {"staging"}, "format": {"jks"}, "password": {""}}, true)
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Doc.Find("#truststore-export-form small.field-error").Text(), "changeit") {
		t.Errorf("no password: status %d %q", p.Status, p.Doc.Find("#truststore-export-form small.field-error").Text())
	}
}
