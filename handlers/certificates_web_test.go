package handlers_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/internal/testenv"
	"github.com/smallstep/pkcs7"
)

// The web console's certificates pages (seed 001): the list, the wizard
// with its "New Certificate Definition" dialog (preview, fetch, pick), the
// certificate's page, exports, the JWK Connection and delete dialogs. The
// test clock is 2026-11-23 09:00 UTC.

var cwKey struct {
	once sync.Once
	key  *ecdsa.PrivateKey
}

// cwSigner is one P-256 key the tests' self-signed certificates share.
func cwSigner() *ecdsa.PrivateKey {
	cwKey.once.Do(func() {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		cwKey.key = k
	})
	return cwKey.key
}

var cwSerial struct {
	sync.Mutex
	n int64
}

// cwSelfSigned is a self-signed leaf certificate for cn ending at notAfter.
func cwSelfSigned(t *testing.T, cn string, notAfter time.Time) *x509.Certificate {
	t.Helper()
	cwSerial.Lock()
	cwSerial.n++
	serial := cwSerial.n + 1000
	cwSerial.Unlock()
	k := cwSigner()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"Keyward Web Test"}},
		DNSNames: []string{cn}, NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cwRSACert is a self-signed certificate of the RSA test key i.
func cwRSACert(t *testing.T, i int, cn string) *x509.Certificate {
	t.Helper()
	k := kwRSAKey(t, i).key
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(500 + i)), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// cwCreate creates a certificate through the service, as root: the PEM of
// each environment pasted as BASE64PEM.
func cwCreate(t *testing.T, env *testenv.Env, name string, deployNow bool, configs map[string][]byte) {
	t.Helper()
	in := secrets.CertificateInput{Name: name, Description: "Certificate " + name, ListField: "configs"}
	envs := make([]string, 0, len(configs))
	for e := range configs {
		envs = append(envs, e)
	}
	sort.Strings(envs)
	for i, e := range envs {
		in.Configs = append(in.Configs, secrets.CertConfigInput{Field: fmt.Sprintf("configs[%d]", i), Environment: e, Alias: name + "-" + e,
			Source: secrets.SourceClipboard, Encoding: "BASE64PEM", Content: configs[e]})
	}
	if _, err := env.App.Secrets.CreateCertificate(context.Background(), env.Principal("root"), "payments", in, deployNow); err != nil {
		t.Fatalf("create certificate %s: %v", name, err)
	}
}

// cwCreateJWK makes a deployed ES256 JWK from a certificate.
func cwCreateJWK(t *testing.T, env *testenv.Env, name, cert, alg string, envs ...string) {
	t.Helper()
	in := secrets.JWKInput{Name: name, SourceType: secrets.SourceCertificate, SourceName: cert, Use: "sig", Alg: alg, Environments: envs}
	if _, err := env.App.Secrets.CreateJWK(context.Background(), env.Principal("root"), "payments", in, true); err != nil {
		t.Fatalf("create JWK %s: %v", name, err)
	}
}

// cwPreview posts the dialog's fields to the preview route; an htmx row
// is parsed inside a table.
func cwPreview(t *testing.T, env *testenv.Env, b *testenv.Browser, path string, fields url.Values, files []kwFile, htmx bool) testenv.Page {
	t.Helper()
	p := kwSubmit(t, env, b, path, fields, files, htmx)
	if htmx && strings.HasPrefix(strings.TrimSpace(p.Body), "<tr") {
		p.Doc, _ = goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + p.Body + "</tbody></table>"))
	}
	return p
}

const cwPreviewPath = "/projects/payments/certificates/config-preview"

// cwPaste is the dialog's fields for a pasted certificate.
func cwPaste(index int, envName, content, encoding, alias string) url.Values {
	return url.Values{"index": {fmt.Sprint(index)}, "environment": {envName}, "source": {"CLIPBOARD"}, "content": {content},
		"encoding": {encoding}, "alias": {alias}, "step": {"apply"}}
}

// TestCertificateListPage: the empty state, then a row per certificate
// with subject, issuer, expiry per environment (coloured: expired, within
// 30 days) and deploy state; search, the environment and expiry filters,
// paging that keeps them; errors for bad filters and hidden projects.
func TestCertificateListPage(t *testing.T) {
	env, admin := kwSite(t)
	for _, htmx := range []bool{false, true} {
		p := admin.Get("/projects/payments/certificates", htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("GET certificates (htmx %v): status %d", htmx, p.Status)
		}
		checkSecurityHeaders(t, "certificate list", p.Header)
		checkFragment(t, "certificate list", p, !htmx)
		if got := p.Doc.Find("#no-certificates").Text(); !strings.Contains(got, "This project has no certificates yet. Use Create to add one.") {
			t.Errorf("empty list says %q", got)
		}
		if p.Doc.Find(`a#certificate-create[href="/projects/payments/certificates/new"]`).Length() != 1 {
			t.Errorf("empty list offers no Create")
		}
		if got := texts(p.Doc, "nav.tabs a"); strings.Join(got, "|") != "Certificates|Truststore" ||
			p.Doc.Find(`nav.tabs a#tab-certificates[aria-current=page]`).Length() != 1 ||
			p.Doc.Find(`nav.tabs a#tab-truststore[href="/projects/payments/certificates/truststore"]`).Length() != 1 {
			t.Errorf("tabs %q", got)
		}
	}
	now := env.Clock.Now()
	cwCreate(t, env, "expired", false, map[string][]byte{"production": pemOf(cwSelfSigned(t, "old.example.com", now.AddDate(0, 0, -3).Add(-12*time.Hour)))})
	cwCreate(t, env, "soon", true, map[string][]byte{"production": pemOf(cwSelfSigned(t, "soon.example.com", now.AddDate(0, 0, 5))),
		"staging": pemOf(cwSelfSigned(t, "soon.example.com", now.AddDate(0, 0, 60)))})
	chain := newTestChain(t, "edge.example.com")
	cwCreate(t, env, "edge", true, map[string][]byte{"staging": pemOf(chain.leaf, chain.intermediate)})
	for i := range 26 {
		cwCreate(t, env, fmt.Sprintf("bulk-%02d", i), false, map[string][]byte{"staging": pemOf(cwSelfSigned(t, fmt.Sprintf("bulk%d.example.com", i), now.AddDate(1, 0, 0)))})
	}
	names := func(p testenv.Page) []string { return texts(p.Doc, "#certificates tbody tr td:first-child a") }

	p := admin.Get("/projects/payments/certificates?search=soon", true)
	row := p.Doc.Find("#certificate-soon")
	if row.Length() != 1 {
		t.Fatalf("no row for soon: %s", p.Body)
	}
	cells := row.Find("td")
	if got := strings.TrimSpace(cells.Eq(1).Text()); got != "CN=soon.example.com,O=Keyward Web Test" {
		t.Errorf("subject cell %q", got)
	}
	if got := strings.TrimSpace(cells.Eq(2).Text()); got != "CN=soon.example.com,O=Keyward Web Test" {
		t.Errorf("issuer cell %q", got)
	}
	expiry := cells.Eq(3)
	if prod := expiry.Find("div").Eq(0); !strings.Contains(prod.Text(), "production") || prod.Find(".badge.expiry.warn").Length() != 1 ||
		!strings.Contains(prod.Text(), "2026-11-28 · 5 days left") {
		t.Errorf("production expiry %q (want amber, 5 days left)", prod.Text())
	}
	if stg := expiry.Find("div").Eq(1); stg.Find(".badge.expiry.ok").Length() != 1 || !strings.Contains(stg.Text(), "60 days left") {
		t.Errorf("staging expiry %q", stg.Text())
	}
	if dep := cells.Eq(4); dep.Find(".badge.ok").Length() != 2 || !strings.Contains(dep.Text(), "production r") {
		t.Errorf("deploy state %q", dep.Text())
	}
	if row.Find(`a[href="/projects/payments/certificates/soon/export"][hx-boost=false]`).Length() != 1 {
		t.Errorf("no Export (ZIP) link in the row")
	}
	old := admin.Get("/projects/payments/certificates?search=expired", false).Doc.Find("#certificate-expired")
	if old.Find(".badge.expiry.bad").Length() != 1 || !strings.Contains(old.Text(), "expired 3 days ago") || !strings.Contains(old.Text(), "not deployed") {
		t.Errorf("expired row %q", old.Text())
	}

	for _, htmx := range []bool{false, true} {
		p := admin.Get("/projects/payments/certificates", htmx)
		if got := names(p); len(got) != 25 || got[0] != "bulk-00" {
			t.Errorf("page 1 (htmx %v): %d %v", htmx, len(got), got)
		}
		if pager := strings.Join(strings.Fields(p.Doc.Find(".pager").Text()), " "); !strings.Contains(pager, "29 certificate(s) · page 1 of 2") {
			t.Errorf("pager %q", pager)
		}
	}
	if got := names(admin.Get("/projects/payments/certificates?page=2", false)); strings.Join(got, ",") != "bulk-25,edge,expired,soon" {
		t.Errorf("page 2: %v", got)
	}
	for _, c := range []struct {
		query string
		want  string
	}{
		{"search=intermediate", "edge"}, // the issuer
		{"search=SOON", "soon"},
		{"expiry=7", "expired,soon"},
		{"expiry=30", "expired,soon"},
		{"expiry=expired", "expired"},
		{"environment=production", "expired,soon"},
		{"environment=staging&expiry=90", "edge,soon"},
		{"environment=staging&expiry=30", ""},
		{"environment=production&search=nothing", ""},
	} {
		for _, htmx := range []bool{false, true} {
			p := admin.Get("/projects/payments/certificates?"+c.query, htmx)
			if got := strings.Join(names(p), ","); got != c.want {
				t.Errorf("?%s (htmx %v): %q, want %q", c.query, htmx, got, c.want)
			}
			if c.want == "" && p.Doc.Find("#no-certificates").Text() != "No certificate matches these filters." {
				t.Errorf("?%s: %q", c.query, p.Doc.Find("#no-certificates").Text())
			}
			q, _ := url.ParseQuery(c.query)
			if v := q.Get("expiry"); v != "" && p.Doc.Find(`select[name="expiry"] option[selected]`).AttrOr("value", "") != v {
				t.Errorf("?%s: the expiry select does not keep %s", c.query, v)
			}
		}
	}
	// Paging keeps the filters.
	next := admin.Get("/projects/payments/certificates?search=bulk&environment=staging", false).Doc.Find(".pager a").Last().AttrOr("href", "")
	if next != "?environment=staging&search=bulk&page=2" {
		t.Errorf("next link %q", next)
	}
	if got := names(admin.Get("/projects/payments/certificates"+next, true)); len(got) != 1 || got[0] != "bulk-25" {
		t.Errorf("page 2 of the search: %v", got)
	}
	for q, want := range map[string]string{"environment=nowhere": `Environment "nowhere" does not exist.`, "expiry=soon": `Expiry "soon" is not one of`} {
		p := admin.Get("/projects/payments/certificates?"+q, false)
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Doc.Find("main").Text(), want) {
			t.Errorf("?%s: status %d, %q", q, p.Status, strings.TrimSpace(p.Doc.Find("main").Text()))
		}
	}
	// A viewer sees the list without Create; a non-member gets a 404.
	env.Grant("payments", "bob", access.SecretsView)
	bob := env.Browser()
	bob.Login("bob")
	if p := bob.Get("/projects/payments/certificates", false); p.Status != http.StatusOK || p.Doc.Find("#certificate-create").Length() != 0 {
		t.Errorf("viewer: status %d, create %d", p.Status, p.Doc.Find("#certificate-create").Length())
	}
	env.CreateUser("eve", false)
	eve := env.Browser()
	eve.Login("eve")
	if p := eve.Get("/projects/payments/certificates", false); p.Status != http.StatusNotFound {
		t.Errorf("hidden project: status %d", p.Status)
	}
}

// TestCertificateWizardSteps: the create page has the seed's steps, a
// Configuration table (empty at first) whose rows are entered in the "New
// Certificate Definition" dialog, which sits outside the wizard's form and
// offers the three sources with their fields.
func TestCertificateWizardSteps(t *testing.T) {
	_, admin := kwSite(t)
	for _, htmx := range []bool{false, true} {
		p := admin.Get("/projects/payments/certificates/new", htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("GET new (htmx %v): status %d", htmx, p.Status)
		}
		checkFragment(t, "certificate wizard", p, !htmx)
		if got := texts(p.Doc, "#certificate-form section.step h2"); strings.Join(got, "|") != "1 Definition|2 Configuration|3 Save" {
			t.Errorf("steps %q", got)
		}
		if p.Doc.Find(`form#certificate-form[method=post][enctype="multipart/form-data"][action="/projects/payments/certificates"]`).Length() != 1 {
			t.Fatal("no multipart form posting to /projects/payments/certificates")
		}
		if p.Doc.Find(`#certificate-form input[name=name]`).Length() != 1 || p.Doc.Find(`#certificate-form textarea[name=description]`).Length() != 1 {
			t.Error("the Definition lacks name or description")
		}
		if got := texts(p.Doc, "#config-table thead th"); strings.Join(got[:7], "|") != "Environment|Source|Alias|Certificate|Expires|State|Deployed" {
			t.Errorf("configuration columns %q", got)
		}
		if p.Doc.Find("#config-rows tr").Length() != 0 || p.Doc.Find(`button#config-new[data-row-new="cert-config-dialog"]`).Text() != "New Certificate Definition" {
			t.Error("the table is not empty or there is no New Certificate Definition button")
		}
		dlg := p.Doc.Find("dialog#cert-config-dialog")
		if dlg.Length() != 1 || dlg.ParentsFiltered("form").Length() != 0 {
			t.Fatal("no configuration dialog outside the wizard's form")
		}
		if dlg.Find(`form#cert-config-form[hx-post="`+cwPreviewPath+`"][hx-encoding="multipart/form-data"][hx-target="#cert-config-fields"]`).Length() != 1 {
			t.Error("the dialog's form does not post to the preview route")
		}
		f := &goquery.Document{Selection: dlg.Find("#cert-config-fields")}
		if got := texts(f, `fieldset.source-choice label`); strings.Join(got, "|") != "Receive via HTTPS/LDAPS Connection|Import from File|Paste from Clipboard" {
			t.Errorf("sources %q", got)
		}
		if got := texts(f, `select[name="environment"] option`); strings.Join(got, ",") != "Choose…,production,staging" {
			t.Errorf("environments %q", got)
		}
		if got := texts(f, `select[name="encoding"] option`); strings.Join(got, ",") != "BASE64PEM,BASE64" {
			t.Errorf("encodings %q", got)
		}
		for _, sel := range []string{`input[name="url"]`, `button#cert-fetch[hx-post="/projects/payments/certificates/fetch"]`,
			`input[type=file][name="file"][accept=".pem,.crt,.cer,.cert,.der,.p7b,.p7c,.p12,.pfx"]`,
			`[data-pkcs12-password][hidden] input[type=password][name="password"]`, `textarea[name="content"]`, `input[name="alias"]`,
			`input[type=hidden][name="index"][value="0"]`, `input[type=hidden][name="chain"]`, `input[type=hidden][name="pick"][data-pick]`,
			`button#cert-config-preview[name=step][value=preview]`} {
			if f.Find(sel).Length() != 1 {
				t.Errorf("the dialog lacks %s", sel)
			}
		}
		if got := texts(&goquery.Document{Selection: dlg}, "footer button"); strings.Join(got, "|") != "Apply|Cancel" {
			t.Errorf("dialog buttons %q", got)
		}
		if p.Doc.Find(`button#certificate-save[value=save]`).Text() != "Save" || p.Doc.Find(`button#certificate-save-deploy[value=deploy]`).Length() != 1 {
			t.Error("no Save and Save and Deploy")
		}
	}
}

// TestCertificateConfigPreview: Apply with a certificate that passes
// answers its row (htmx: retargeted to the table, with the event that
// closes the dialog); Preview answers the fields with the content parsed;
// content holding several certificates is shown to pick one first, and
// the pick is the row's. Nothing is written.
func TestCertificateConfigPreview(t *testing.T) {
	env, admin := kwSite(t)
	chain := newTestChain(t, "edge.example.com")
	admin.Get("/projects/payments/certificates/new", false)
	before, audits := testenv.TakeSnapshot(t, env), auditCount(t, env)
	leafPEM := string(pemOf(chain.leaf))
	for _, htmx := range []bool{false, true} {
		p := cwPreview(t, env, admin, cwPreviewPath, cwPaste(0, "production", leafPEM, "BASE64PEM", "edge"), nil, htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("apply (htmx %v): status %d: %s", htmx, p.Status, p.Body)
		}
		row := p.Doc.Find("tr#config-0")
		if row.Length() != 1 {
			t.Fatalf("apply (htmx %v) answered no row: %s", htmx, p.Body)
		}
		if got := row.Find("td.material .subject").Text(); got != "CN=edge.example.com" {
			t.Errorf("row subject %q", got)
		}
		if !strings.Contains(row.Text(), "Paste from Clipboard") || !strings.Contains(row.Text(), "2027-01-01 · 38 days left") || row.Find(".badge.state-new").Length() != 1 {
			t.Errorf("row %q", strings.Join(strings.Fields(row.Text()), " "))
		}
		for name, want := range map[string]string{"configs[0].environment": "production", "configs[0].source": "CLIPBOARD",
			"configs[0].content": leafPEM, "configs[0].encoding": "BASE64PEM", "configs[0].alias": "edge", "configs[0].pick": "0"} {
			if got := row.Find(`input[type=hidden][name="`+name+`"]`).AttrOr("value", "<none>"); got != want {
				t.Errorf("hidden %s = %q, want %q", name, got, want)
			}
		}
		if htmx {
			if p.Header.Get("HX-Retarget") != "#config-rows" || p.Header.Get("HX-Reswap") != "beforeend" || p.Header.Get("HX-Trigger") != "config-applied" {
				t.Errorf("htmx headers %v", p.Header)
			}
		} else if !strings.Contains(p.Body, "<html") || p.Doc.Find("h1").Text() != "Configuration checked" {
			t.Errorf("plain apply is not a page of its own")
		}
	}
	// Replacing row 3.
	f := cwPaste(3, "production", leafPEM, "BASE64PEM", "edge")
	f.Set("replace", "1")
	if p := cwPreview(t, env, admin, cwPreviewPath, f, nil, true); p.Header.Get("HX-Retarget") != "#config-3" || p.Header.Get("HX-Reswap") != "outerHTML" {
		t.Errorf("replace: headers %v", p.Header)
	}

	// Preview: the fields with the content parsed, the dialog open.
	f = cwPaste(0, "production", leafPEM, "BASE64PEM", "edge")
	f.Set("step", "preview")
	p := cwPreview(t, env, admin, cwPreviewPath, f, nil, true)
	if p.Status != http.StatusOK || p.Header.Get("HX-Trigger") != "" || p.Doc.Find("#cert-config-fields").Length() != 1 {
		t.Fatalf("preview: status %d, trigger %q", p.Status, p.Header.Get("HX-Trigger"))
	}
	details := p.Doc.Find("#cert-preview table.cert-details")
	for _, want := range []string{"CN=edge.example.com", "CN=Test Intermediate CA,O=Keyward Test", "DNS:edge.example.com", "ECDSA", "P-256",
		"ECDSA-SHA256", "2027-01-01", "serverAuth", "digitalSignature", "not a CA", "Authority key identifier"} {
		if !strings.Contains(details.Text(), want) {
			t.Errorf("the preview lacks %q: %s", want, strings.Join(strings.Fields(details.Text()), " "))
		}
	}
	if got := details.Find(`button[data-copy-text]`).Eq(1).AttrOr("data-copy-text", ""); strings.ReplaceAll(got, ":", "") != strings.ToUpper(sha256Hex(chain.leaf.Raw)) {
		t.Errorf("SHA-256 copy button carries %q", got)
	}
	if !strings.Contains(p.Doc.Find("#cert-preview .cert-analysis").Text(), "not trusted") {
		t.Errorf("analysis %q", p.Doc.Find("#cert-preview .cert-analysis").Text())
	}
	if p.Doc.Find(`textarea[name=content]`).Text() != leafPEM || p.Doc.Find(`input[name=picked]`).AttrOr("value", "") != "1" {
		t.Error("the previewed fields lose the content or are not marked picked")
	}

	// Several certificates: Apply shows them to pick one; Apply again with
	// the pick adds the row for the certificate picked.
	bundle := string(pemOf(chain.leaf, chain.intermediate, chain.root))
	p = cwPreview(t, env, admin, cwPreviewPath, cwPaste(0, "staging", bundle, "BASE64PEM", ""), nil, true)
	if p.Status != http.StatusOK || p.Doc.Find("tr.config-row").Length() != 0 {
		t.Fatalf("a bundle's first Apply: status %d, %s", p.Status, p.Body)
	}
	choices := p.Doc.Find("ol.cert-choices li.cert-choice")
	if choices.Length() != 3 || !strings.Contains(p.Doc.Find("#cert-preview").Text(), "The content holds 3 certificates.") ||
		choices.Eq(0).Find(`input[type=radio][name=pick_choice][value="0"][data-pick-radio][checked]`).Length() != 1 ||
		!strings.Contains(choices.Eq(2).Text(), "CN=Test Root CA") {
		t.Errorf("choices: %d %q", choices.Length(), strings.Join(strings.Fields(p.Doc.Find("#cert-preview").Text()), " "))
	}
	f = cwPaste(0, "staging", bundle, "BASE64PEM", "")
	f.Set("picked", "1")
	f.Set("pick", "1")
	p = cwPreview(t, env, admin, cwPreviewPath, f, nil, true)
	if got := p.Doc.Find("tr#config-0 td.material .subject").Text(); got != "CN=Test Intermediate CA,O=Keyward Test" ||
		p.Doc.Find(`input[name="configs[0].pick"]`).AttrOr("value", "") != "1" {
		t.Errorf("the picked row: %q", got)
	}
	// A pick the content does not have: the choices again, with the message.
	f.Set("pick", "7")
	p = cwPreview(t, env, admin, cwPreviewPath, f, nil, true)
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Doc.Find("#cert-config-pick-error").Text(), "Choose one of the 3 certificate(s)") ||
		p.Doc.Find("li.cert-choice").Length() != 3 {
		t.Errorf("bad pick: status %d, %q", p.Status, p.Doc.Find("#cert-config-pick-error").Text())
	}
	// A file: its bytes travel in the row.
	p = cwPreview(t, env, admin, cwPreviewPath, url.Values{"index": {"1"}, "environment": {"staging"}, "source": {"FILE"}, "step": {"apply"}},
		[]kwFile{{"file", "edge.cer", chain.leaf.Raw}}, true)
	if got := p.Doc.Find(`input[name="configs[1].upload"]`).AttrOr("value", ""); got != base64.StdEncoding.EncodeToString(chain.leaf.Raw) ||
		p.Doc.Find(`input[name="configs[1].file_name"]`).AttrOr("value", "") != "edge.cer" || !strings.Contains(p.Doc.Find("tr#config-1").Text(), "Import from File") {
		t.Errorf("file row: %s", p.Body)
	}
	if d := before.Changes(t); d != "" {
		t.Errorf("the preview changed the database: %s", d)
	}
	if auditCount(t, env) != audits {
		t.Errorf("the preview wrote audit entries")
	}
}

// TestCertificateConfigPreviewErrors: a refused configuration answers the
// dialog's fields (422) with the message beside the field and what was
// typed kept; a missing permission is a 403, a hidden project a 404.
func TestCertificateConfigPreviewErrors(t *testing.T) {
	env, admin := kwSite(t)
	chain := newTestChain(t, "edge.example.com")
	cwCreate(t, env, "taken", false, map[string][]byte{"production": pemOf(chain.root)})
	leafPEM := string(pemOf(chain.leaf))
	leafB64 := base64.StdEncoding.EncodeToString(chain.leaf.Raw)
	keyPEM := kwRSAKey(t, 0).pem
	admin.Get("/projects/payments/certificates/new", false)
	cases := []struct {
		what   string
		fields url.Values
		files  []kwFile
		sel    string
		want   string
	}{
		{"not a certificate", cwPaste(0, "production", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", "BASE64PEM", ""),
			nil, "#cert-config-content-error", "certificate"},
		{"a private key", cwPaste(0, "production", keyPEM, "BASE64PEM", ""), nil, "#cert-config-content-error", "private key"},
		{"PEM declared BASE64", cwPaste(0, "production", leafPEM, "BASE64", ""), nil, "#cert-config-content-error", "This looks like PEM; choose BASE64PEM."},
		{"base64 declared BASE64PEM", cwPaste(0, "production", leafB64, "BASE64PEM", ""), nil, "#cert-config-content-error", "This looks like base64 of DER; choose BASE64."},
		{"an alias taken in the environment", cwPaste(0, "production", leafPEM, "BASE64PEM", "taken-production"), nil, "#cert-config-alias-error",
			`Alias "taken-production" is already used by certificate "taken" in environment "production".`},
		{"an unknown environment", cwPaste(0, "nowhere", leafPEM, "BASE64PEM", ""), nil, "#cert-config-fields select[name=environment] + small.field-error", `"nowhere"`},
		{"no environment", cwPaste(0, "", leafPEM, "BASE64PEM", ""), nil, "#cert-config-fields select[name=environment] + small.field-error", "nvironment"},
		{"no file", url.Values{"index": {"0"}, "environment": {"production"}, "source": {"FILE"}, "step": {"apply"}}, nil, "#cert-config-content-error", "empty"},
		{"a file not accepted", url.Values{"index": {"0"}, "environment": {"production"}, "source": {"FILE"}}, []kwFile{{"file", "edge.txt", []byte(leafPEM)}},
			"#cert-config-content-error", ".txt"},
	}
	before := testenv.TakeSnapshot(t, env)
	for _, c := range cases {
		for _, htmx := range []bool{false, true} {
			p := cwPreview(t, env, admin, cwPreviewPath, c.fields, c.files, htmx)
			if p.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s (htmx %v): status %d: %.300s", c.what, htmx, p.Status, p.Body)
				continue
			}
			if got := p.Doc.Find(c.sel).Text(); !strings.Contains(got, c.want) {
				t.Errorf("%s (htmx %v): %s says %q, want %q", c.what, htmx, c.sel, got, c.want)
			}
			checkFragment(t, c.what, p, !htmx)
			if p.Doc.Find("tr.config-row").Length() != 0 {
				t.Errorf("%s: a row was answered", c.what)
			}
			if got := p.Doc.Find(`#cert-config-fields input[name=alias]`).AttrOr("value", ""); got != c.fields.Get("alias") {
				t.Errorf("%s: alias kept as %q", c.what, got)
			}
		}
	}
	if d := before.Changes(t); d != "" {
		t.Errorf("refused previews changed the database: %s", d)
	}
	// A viewer may not preview (403), nor see the wizard; a non-member gets 404.
	env.Grant("payments", "bob", access.SecretsView)
	bob := env.Browser()
	bob.Login("bob")
	if p := bob.Get("/projects/payments/certificates/new", false); p.Status != http.StatusForbidden {
		t.Errorf("viewer's wizard: status %d", p.Status)
	}
	if p := cwPreview(t, env, bob, cwPreviewPath, cwPaste(0, "production", leafPEM, "BASE64PEM", ""), nil, true); p.Status != http.StatusForbidden {
		t.Errorf("viewer's preview: status %d", p.Status)
	}
	env.CreateUser("eve", false)
	eve := env.Browser()
	eve.Login("eve")
	if p := cwPreview(t, env, eve, cwPreviewPath, cwPaste(0, "production", leafPEM, "BASE64PEM", ""), nil, true); p.Status != http.StatusNotFound {
		t.Errorf("hidden project's preview: status %d", p.Status)
	}
	if p := eve.Get("/projects/payments/certificates/new", false); p.Status != http.StatusNotFound {
		t.Errorf("hidden project's wizard: status %d", p.Status)
	}
}

// TestCertificateFetchInTheDialog: the URL's button answers the fields
// with the chain the server presented, leaf first and picked, each
// certificate summarised, the analysis, and the chain as the content in a
// hidden input; an admin may trust a CA of the chain in the environment
// from there. Apply then adds a URL row. A server that cannot be reached
// is a message beside the URL.
func TestCertificateFetchInTheDialog(t *testing.T) {
	env, admin := kwSite(t)
	chain := newTestChain(t, "localhost")
	addr := tlsServer(t, chain)
	admin.Get("/projects/payments/certificates/new", false)
	fetch := url.Values{"index": {"0"}, "environment": {"production"}, "source": {"URL"}, "url": {addr}}
	before := testenv.TakeSnapshot(t, env)
	for _, htmx := range []bool{false, true} {
		p := kwSubmit(t, env, admin, "/projects/payments/certificates/fetch", fetch, nil, htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("fetch (htmx %v): status %d: %.500s", htmx, p.Status, p.Body)
		}
		checkFragment(t, "fetch", p, !htmx)
		choices := p.Doc.Find("#cert-preview li.cert-choice")
		if choices.Length() != 2 || !strings.Contains(choices.Eq(0).Text(), "leaf") || !strings.Contains(choices.Eq(0).Text(), "CN=localhost") ||
			!strings.Contains(choices.Eq(1).Text(), "CN=Test Intermediate CA") {
			t.Errorf("fetched chain: %d %q", choices.Length(), strings.Join(strings.Fields(p.Doc.Find("#cert-preview").Text()), " "))
		}
		if choices.Eq(0).Find(`input[name=pick_choice][value="0"][checked]`).Length() != 1 {
			t.Error("the leaf is not picked by default")
		}
		if got := p.Doc.Find(`input[type=hidden][name=chain]`).AttrOr("value", ""); got != string(pemOf(chain.leaf, chain.intermediate)) {
			t.Errorf("the hidden chain is %q", got)
		}
		if p.Doc.Find(`input[type=radio][name=source][value=URL][checked]`).Length() != 1 || p.Doc.Find(`input[name=picked]`).AttrOr("value", "") != "1" {
			t.Error("the fetched fields do not keep the URL source, or are not picked")
		}
		if !strings.Contains(p.Doc.Find("#cert-preview .cert-analysis").Text(), "not trusted") {
			t.Errorf("analysis %q", p.Doc.Find("#cert-preview .cert-analysis").Text())
		}
		// Only the intermediate is a CA: it can be trusted in production.
		trust := p.Doc.Find(`.trust-ca button[hx-post="/projects/payments/certificates/truststore/cas"]`)
		if trust.Length() != 1 || !strings.Contains(trust.AttrOr("hx-vals", ""), `"ca_pick": "1"`) || trust.Text() != "Trust this CA in production" {
			t.Errorf("Trust this CA: %d %q", trust.Length(), trust.AttrOr("hx-vals", ""))
		}
	}
	if d := before.Changes(t); d != "" {
		t.Errorf("the fetch changed the database: %s", d)
	}
	// Apply with the fetched chain: a URL row, the leaf stored, the chain kept.
	apply := url.Values{"index": {"0"}, "environment": {"production"}, "source": {"URL"}, "url": {addr}, "picked": {"1"}, "pick": {"0"},
		"chain": {string(pemOf(chain.leaf, chain.intermediate))}, "step": {"apply"}, "alias": {"edge"}}
	p := cwPreview(t, env, admin, cwPreviewPath, apply, nil, true)
	row := p.Doc.Find("tr#config-0")
	if row.Length() != 1 || row.Find("td.material .subject").Text() != "CN=localhost" || !strings.Contains(row.Text(), "Receive via HTTPS/LDAPS Connection") ||
		!strings.Contains(row.Text(), addr) || row.Find(`input[name="configs[0].url"]`).AttrOr("value", "") != addr {
		t.Errorf("URL row: %s", p.Body)
	}
	// The wizard's "Trust this CA".
	trust := url.Values{"from": {"wizard"}, "ca_pick": {"1"}, "environment": {"production"}, "chain": {string(pemOf(chain.leaf, chain.intermediate))}}
	rev := kwRevision(t, env, "production")
	p = kwSubmit(t, env, admin, "/projects/payments/certificates/truststore/cas", trust, nil, true)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Trusted in production as “Test Intermediate CA”") {
		t.Errorf("trust from the wizard: status %d %s", p.Status, p.Body)
	}
	if kwRevision(t, env, "production") != rev+1 {
		t.Errorf("trusting a CA did not deploy")
	}
	p = kwSubmit(t, env, admin, "/projects/payments/certificates/truststore/cas", trust, nil, true)
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "already in the truststore") {
		t.Errorf("trusting it again: status %d %s", p.Status, p.Body)
	}
	// Now the chain is anchored by the intermediate.
	p = kwSubmit(t, env, admin, "/projects/payments/certificates/fetch", fetch, nil, true)
	if a := p.Doc.Find("#cert-preview .cert-analysis").Text(); !strings.Contains(a, "trusted") || strings.Contains(a, "not trusted") {
		t.Errorf("analysis after trusting the intermediate: %q", a)
	}
	if p.Doc.Find(".trust-ca button").Length() != 0 || !strings.Contains(p.Doc.Find(".trust-ca").Text(), "In the truststore of production.") {
		t.Errorf("a CA already trusted is offered again: %q", p.Doc.Find(".trust-ca").Text())
	}

	// Unreachable, refused or malformed: the message beside the URL (422).
	for _, c := range []struct{ url, want string }{
		{"", "URL"},
		{"ftp://example.com", "Use an https://, ldaps:// or ldap:// URL."},
		{"https://127.0.0.1:1", "127.0.0.1:1"},
	} {
		f := url.Values{"index": {"0"}, "environment": {"production"}, "source": {"URL"}, "url": {c.url}}
		p := kwSubmit(t, env, admin, "/projects/payments/certificates/fetch", f, nil, true)
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Doc.Find("#cert-url-error").Text(), c.want) {
			t.Errorf("fetch %q: status %d, %q", c.url, p.Status, p.Doc.Find("#cert-url-error").Text())
		}
		if p.Doc.Find(`input[name=url]`).AttrOr("value", "") != c.url || p.Doc.Find("#cert-preview").Length() != 0 {
			t.Errorf("fetch %q: the URL is not kept, or a chain is shown", c.url)
		}
	}
	// A viewer may not make the server connect.
	env.Grant("payments", "bob", access.SecretsView)
	bob := env.Browser()
	bob.Login("bob")
	if p := kwSubmit(t, env, bob, "/projects/payments/certificates/fetch", fetch, nil, true); p.Status != http.StatusForbidden {
		t.Errorf("viewer's fetch: status %d", p.Status)
	}
	// Nor trust a CA (an admin's change).
	if p := kwSubmit(t, env, bob, "/projects/payments/certificates/truststore/cas", trust, nil, true); p.Status == http.StatusOK {
		t.Errorf("viewer's trust: status %d", p.Status)
	}
}

// cwWizard is the wizard's final post: the definition plus rows.
func cwWizard(name, action string, rows ...url.Values) url.Values {
	f := url.Values{"name": {name}, "description": {"Certificate " + name}}
	if action != "" {
		f.Set("action", action)
	}
	for i, r := range rows {
		for k, v := range r {
			f[fmt.Sprintf("configs[%d].%s", i, k)] = v
		}
	}
	return f
}

// cwRow is a pasted row of the wizard's final post.
func cwRow(envName, content, alias string) url.Values {
	return url.Values{"environment": {envName}, "source": {"CLIPBOARD"}, "content": {content}, "encoding": {"BASE64PEM"}, "alias": {alias}, "pick": {"0"}}
}

// TestCertificateCreateThroughTheWizard: Save and Deploy with a pasted row,
// a file row and a fetched row creates the certificate and deploys each;
// the page says so. A name taken, a bad row and a missing permission are
// refused with the wizard shown again (422, or 403) and nothing changed.
func TestCertificateCreateThroughTheWizard(t *testing.T) {
	env, admin := kwSite(t)
	if _, err := env.App.Environments.Create(context.Background(), env.Principal("root"), environments.Input{Name: "development"}); err != nil {
		t.Fatal(err)
	}
	chain := newTestChain(t, "localhost")
	addr := tlsServer(t, chain)
	other := newTestChain(t, "files.example.com")
	admin.Get("/projects/payments/certificates/new", false)
	fileRow := url.Values{"environment": {"staging"}, "source": {"FILE"}, "alias": {"files"}, "pick": {"0"}}
	urlRow := url.Values{"environment": {"development"}, "source": {"URL"}, "url": {addr}, "chain": {string(pemOf(chain.leaf, chain.intermediate))},
		"alias": {"dev"}, "pick": {"0"}}
	form := cwWizard("edge-tls", "deploy", cwRow("production", string(pemOf(chain.leaf)), "edge"), fileRow, urlRow)
	p := kwSubmit(t, env, admin, "/projects/payments/certificates", form, []kwFile{{"configs[1].file", "files.cer", other.leaf.Raw}}, false)
	if p.Status != http.StatusSeeOther || p.Location() != "/projects/payments/certificates/edge-tls" {
		t.Fatalf("create: status %d location %q: %.800s", p.Status, p.Location(), p.Body)
	}
	page := admin.Get("/projects/payments/certificates/edge-tls", false)
	if got := page.Doc.Find(".flash").Text(); !strings.Contains(got, "Certificate edge-tls created. Deployed to 3 environment(s).") {
		t.Errorf("flash %q", got)
	}
	d, err := env.App.Secrets.GetCertificate(context.Background(), env.Principal("root"), "payments", "edge-tls")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range d.Environments {
		got[e.Environment] = e.Source + " " + e.Alias + " " + e.Subject + " " + e.SourceURL + e.FileName
		if e.DeployedRevision == 0 {
			t.Errorf("%s not deployed", e.Environment)
		}
	}
	want := map[string]string{"production": "CLIPBOARD edge CN=localhost ", "staging": "FILE files CN=files.example.com files.cer",
		"development": "URL dev CN=localhost " + addr}
	for e, w := range want {
		if got[e] != w {
			t.Errorf("%s: %q, want %q", e, got[e], w)
		}
	}
	if len(d.Environments[0].Chain)+len(d.Environments[1].Chain)+len(d.Environments[2].Chain) != 1 {
		t.Errorf("only the fetched row carries a chain: %+v", d.Environments)
	}

	// Refusals: the wizard again, the message beside the field.
	before := testenv.TakeSnapshot(t, env)
	cases := []struct {
		what string
		form url.Values
		sel  string
		want string
	}{
		{"a name taken", cwWizard("edge-tls", "save", cwRow("production", string(pemOf(other.leaf)), "")), `input[name=name] + small.field-error`, `A certificate named "edge-tls" already exists`},
		{"a reserved name", cwWizard("new", "save", cwRow("production", string(pemOf(other.leaf)), "")), `input[name=name] + small.field-error`, "reserved"},
		{"no row", cwWizard("no-rows", "save"), "#step-configuration .form-error", "nvironment"},
		{"not a certificate", cwWizard("bad", "save", cwRow("production", "hello", "")), "#config-0 td.material .field-error", "BEGIN CERTIFICATE"},
		{"an alias taken", cwWizard("bad", "save", cwRow("production", string(pemOf(other.leaf)), "edge")), "#config-0 .field-error", `Alias "edge" is already used by certificate "edge-tls"`},
		{"an unknown environment", cwWizard("bad", "save", cwRow("nowhere", string(pemOf(other.leaf)), "")), "#config-0 .field-error", `"nowhere"`},
		{"a repeated environment", cwWizard("bad", "save", cwRow("production", string(pemOf(other.leaf)), ""), cwRow("production", string(pemOf(other.leaf)), "")),
			"#config-1 .field-error", "production"},
	}
	for _, c := range cases {
		for _, htmx := range []bool{false, true} {
			p := kwSubmit(t, env, admin, "/projects/payments/certificates", c.form, nil, htmx)
			if p.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s (htmx %v): status %d", c.what, htmx, p.Status)
				continue
			}
			checkFragment(t, c.what, p, !htmx)
			if got := p.Doc.Find(c.sel).Text(); !strings.Contains(got, c.want) {
				t.Errorf("%s (htmx %v): %s says %q, want %q", c.what, htmx, c.sel, got, c.want)
			}
			if got := p.Doc.Find(`#certificate-form input[name=name]`).AttrOr("value", ""); got != c.form.Get("name") {
				t.Errorf("%s: the name is not kept: %q", c.what, got)
			}
			rows := 0
			for k := range c.form {
				if strings.HasSuffix(k, "].environment") {
					rows++
				}
			}
			if n := p.Doc.Find("#config-rows tr.config-row").Length(); n != rows {
				t.Errorf("%s: %d rows shown again, want %d", c.what, n, rows)
			}
		}
	}
	// A row that passes is shown again described.
	p = kwSubmit(t, env, admin, "/projects/payments/certificates", cases[0].form, nil, true)
	if got := p.Doc.Find("#config-0 td.material .subject").Text(); got != "CN=files.example.com" {
		t.Errorf("the re-shown row is not described: %q", got)
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Errorf("refused saves changed the database: %s", d)
	}
	// Save and Deploy needs DEPLOY_UNDEPLOY.
	env.Grant("payments", "bob", access.SecretsView, access.SecretsManage)
	bob := env.Browser()
	bob.Login("bob")
	if p := bob.Get("/projects/payments/certificates/new", false); p.Status != http.StatusOK || p.Doc.Find("#certificate-save-deploy").Length() != 0 ||
		!strings.Contains(p.Doc.Find("#step-save").Text(), "Deploying needs the SECRETS:DEPLOY_UNDEPLOY permission.") {
		t.Errorf("manager without deploy: status %d, Save and Deploy %d", p.Status, p.Doc.Find("#certificate-save-deploy").Length())
	}
	if p := kwSubmit(t, env, bob, "/projects/payments/certificates", cwWizard("bobs", "deploy", cwRow("production", string(pemOf(other.leaf)), "")), nil, false); p.Status != http.StatusForbidden {
		t.Errorf("Save and Deploy without the permission: status %d", p.Status)
	}
}

// TestCertificatePage: each environment's parsed content with copyable
// fingerprints, its chain and analysis, deploy state and buttons, export
// per environment and all, related JWKs with the link to make one, the
// history, Edit and Delete; what a viewer and a stranger get.
func TestCertificatePage(t *testing.T) {
	env, admin := kwSite(t)
	chain := newTestChain(t, "edge.example.com")
	cwCreate(t, env, "edge", true, map[string][]byte{"production": pemOf(chain.leaf, chain.intermediate)})
	cwCreate(t, env, "edge2", false, map[string][]byte{"staging": pemOf(cwSelfSigned(t, "stg.example.com", env.Clock.Now().AddDate(0, 0, 10)))})
	for _, htmx := range []bool{false, true} {
		p := admin.Get("/projects/payments/certificates/edge", htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("GET page (htmx %v): status %d", htmx, p.Status)
		}
		checkFragment(t, "certificate page", p, !htmx)
		art := p.Doc.Find("article#env-production")
		if art.Length() != 1 {
			t.Fatal("no production article")
		}
		if !strings.Contains(art.Find("header").Text(), "edge-production") || !strings.Contains(art.Find("header").Text(), "Paste from Clipboard") ||
			art.Find(".deployment .badge.ok").Length() != 1 {
			t.Errorf("header %q", strings.Join(strings.Fields(art.Find("header").Text()), " "))
		}
		details := art.Find("table.cert-details").First()
		if !strings.Contains(details.Text(), "CN=edge.example.com") || !strings.Contains(details.Text(), "CN=Test Intermediate CA,O=Keyward Test") {
			t.Errorf("details %q", strings.Join(strings.Fields(details.Text()), " "))
		}
		copies := details.Find("button[data-copy][data-copy-text]")
		if copies.Length() != 2 || strings.ReplaceAll(copies.Eq(1).AttrOr("data-copy-text", ""), ":", "") != strings.ToUpper(sha256Hex(chain.leaf.Raw)) {
			t.Errorf("fingerprint copy buttons: %d", copies.Length())
		}
		if got := art.Find("ol.chain > li").Length(); got != 1 || !strings.Contains(art.Find("ol.chain").Text(), "CN=Test Intermediate CA") {
			t.Errorf("chain: %d", got)
		}
		if !strings.Contains(art.Find(".cert-analysis").Text(), "not trusted") {
			t.Errorf("analysis %q", art.Find(".cert-analysis").Text())
		}
		for _, f := range []string{"pem", "der", "p7b"} {
			if art.Find(`a[data-export="`+f+`"][href="/projects/payments/certificates/edge/export?environment=production&format=`+f+`"][hx-boost=false]`).Length() != 1 {
				t.Errorf("no %s export link", f)
			}
		}
		if p.Doc.Find(`a#certificate-export-all[href="/projects/payments/certificates/edge/export"]`).Length() != 1 ||
			p.Doc.Find(`a#certificate-edit[href="/projects/payments/certificates/edge/edit"]`).Length() != 1 ||
			p.Doc.Find(`button#certificate-delete-open[data-dialog-open="certificate-delete"]`).Length() != 1 {
			t.Error("no Export all, Edit or Delete")
		}
		if art.Find(`form[action="/projects/payments/certificates/edge/environments/production/undeploy"]`).Length() != 1 ||
			art.Find(`form[action$="/deploy"]`).Length() != 0 {
			t.Error("a deployed environment offers Undeploy only")
		}
		if p.Doc.Find(`#related-jwks a#certificate-create-jwk[href="/projects/payments/jwks/new?sourceType=CERTIFICATE&source=edge"]`).Length() != 1 {
			t.Error("no link to create a JWK from the certificate")
		}
		if !strings.Contains(p.Doc.Find("#history").Text(), "certificate.create") {
			t.Errorf("history %q", p.Doc.Find("#history").Text())
		}
		d := p.Doc.Find("dialog#certificate-delete")
		if d.Length() != 1 || d.Find(`[data-dialog-step="choose"]`).Length() != 0 || d.Find(`form[action="/projects/payments/certificates/edge/delete"]`).Length() != 1 {
			t.Error("without JWKs, Delete goes straight to the typed name")
		}
	}
	if art := admin.Get("/projects/payments/certificates/edge2", false).Doc.Find("article#env-staging"); art.Find(`form[action="/projects/payments/certificates/edge2/environments/staging/deploy"]`).Length() != 1 ||
		art.Find(".badge.expiry.warn").Length() == 0 {
		t.Error("an undeployed environment offers Deploy, and 10 days left is amber")
	}
	env.Grant("payments", "bob", access.SecretsView)
	bob := env.Browser()
	bob.Login("bob")
	p := bob.Get("/projects/payments/certificates/edge", false)
	if p.Status != http.StatusOK || p.Doc.Find("#certificate-edit, #certificate-delete-open, #certificate-create-jwk, .deployment form").Length() != 0 ||
		p.Doc.Find("#certificate-export-all").Length() != 1 {
		t.Errorf("viewer's page: status %d, manage controls shown", p.Status)
	}
	if p := admin.Get("/projects/payments/certificates/nope", false); p.Status != http.StatusNotFound {
		t.Errorf("missing certificate: status %d", p.Status)
	}
	env.CreateUser("eve", false)
	eve := env.Browser()
	eve.Login("eve")
	for _, path := range []string{"/projects/payments/certificates/edge", "/projects/payments/certificates/edge/edit", "/projects/payments/certificates/edge/export"} {
		if p := eve.Get(path, false); p.Status != http.StatusNotFound {
			t.Errorf("hidden project %s: status %d", path, p.Status)
		}
	}
}

// TestCertificateDeployAndUndeploy: the buttons deploy and undeploy one
// environment; without DEPLOY_UNDEPLOY they are a 403.
func TestCertificateDeployAndUndeploy(t *testing.T) {
	env, admin := kwSite(t)
	cwCreate(t, env, "edge", false, map[string][]byte{"production": pemOf(cwSelfSigned(t, "edge.example.com", env.Clock.Now().AddDate(1, 0, 0)))})
	rev := kwRevision(t, env, "production")
	p := admin.Post("/projects/payments/certificates/edge/environments/production/deploy", url.Values{}, false)
	if p.Status != http.StatusSeeOther || kwRevision(t, env, "production") != rev+1 {
		t.Fatalf("deploy: status %d, revision %d", p.Status, kwRevision(t, env, "production"))
	}
	if got := admin.Get("/projects/payments/certificates/edge", false).Doc.Find(".flash").Text(); !strings.Contains(got, "Certificate edge deployed to production.") {
		t.Errorf("flash %q", got)
	}
	p = admin.Post("/projects/payments/certificates/edge/environments/production/undeploy", url.Values{}, true)
	if p.Status != http.StatusNoContent || p.Header.Get("HX-Redirect") != "/projects/payments/certificates/edge" || kwRevision(t, env, "production") != rev+2 {
		t.Errorf("undeploy: status %d, %v", p.Status, p.Header)
	}
	admin.Get("/projects/payments/certificates/edge", false)
	p = admin.Post("/projects/payments/certificates/edge/environments/production/undeploy", url.Values{}, false)
	if got := admin.Get("/projects/payments/certificates/edge", false).Doc.Find(".flash").Text(); p.Status != http.StatusSeeOther || !strings.Contains(got, "not deployed") {
		t.Errorf("undeploy again: status %d, flash %q", p.Status, got)
	}
	env.Grant("payments", "bob", access.SecretsView, access.SecretsManage)
	bob := env.Browser()
	bob.Login("bob")
	if p := bob.Post("/projects/payments/certificates/edge/environments/production/deploy", url.Values{}, false); p.Status != http.StatusForbidden {
		t.Errorf("deploy without the permission: status %d", p.Status)
	}
}

// TestCertificateExports: each format downloads as an attachment with its
// type, and the body parses as what it says.
func TestCertificateExports(t *testing.T) {
	env, _ := kwSite(t)
	chain := newTestChain(t, "edge.example.com")
	cwCreate(t, env, "edge", false, map[string][]byte{"production": pemOf(chain.leaf, chain.intermediate), "staging": pemOf(chain.root)})
	env.Grant("payments", "bob", access.SecretsView)
	bob := env.Browser()
	bob.Login("bob")
	get := func(query string) testenv.Page {
		return bob.Get("/projects/payments/certificates/edge/export"+query, false)
	}

	p := get("?environment=production&format=pem")
	if p.Status != http.StatusOK || p.Header.Get("Content-Type") != "application/x-pem-file" || p.Header.Get("Content-Disposition") != `attachment; filename=edge-production.pem` {
		t.Fatalf("PEM: %d %v", p.Status, p.Header)
	}
	block, _ := pem.Decode([]byte(p.Body))
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("PEM body %q", p.Body)
	}
	if c, err := x509.ParseCertificate(block.Bytes); err != nil || !c.Equal(chain.leaf) {
		t.Errorf("PEM parses to %v (%v)", c, err)
	}
	p = get("?environment=production&format=der")
	if c, err := x509.ParseCertificate([]byte(p.Body)); err != nil || !c.Equal(chain.leaf) || p.Header.Get("Content-Type") != "application/pkix-cert" ||
		!strings.Contains(p.Header.Get("Content-Disposition"), "edge-production.cer") {
		t.Errorf("DER: %v %v", err, p.Header)
	}
	p = get("?environment=production&format=p7b")
	if p.Status != http.StatusOK || p.Header.Get("Content-Type") != "application/x-pkcs7-certificates" || !strings.Contains(p.Header.Get("Content-Disposition"), "edge-production.p7b") {
		t.Errorf("PKCS#7: %d %v", p.Status, p.Header)
	} else if certs := cwPKCS7(t, []byte(p.Body)); len(certs) != 2 || !certs[0].Equal(chain.leaf) && !certs[1].Equal(chain.leaf) {
		t.Errorf("PKCS#7 holds %d certificates", len(certs))
	}
	p = get("")
	if p.Status != http.StatusOK || p.Header.Get("Content-Type") != "application/zip" || p.Header.Get("Content-Disposition") != `attachment; filename=edge.zip` {
		t.Errorf("ZIP: %d %v", p.Status, p.Header)
	} else {
		files := cwUnzip(t, []byte(p.Body))
		if len(files) != 2 {
			t.Errorf("ZIP holds %v", files)
		}
		for name, want := range map[string]*x509.Certificate{"edge-production.cer": chain.leaf, "edge-staging.cer": chain.root} {
			if c, err := x509.ParseCertificate(files[name]); err != nil || !c.Equal(want) {
				t.Errorf("ZIP %s: %v", name, err)
			}
		}
	}
	for q, status := range map[string]int{"?environment=development&format=pem": http.StatusNotFound, "?environment=production&format=jks": http.StatusBadRequest} {
		if p := get(q); p.Status != status {
			t.Errorf("export%s: status %d, want %d", q, p.Status, status)
		}
	}
}

// TestCertificateEditJWKConnection: the edit page lists the stored rows
// (certificates kept); with related JWKs, Save and Deploy opens the JWK
// Connection dialog and needs its choice and the typed name; "Update
// related JWKs" rebuilds the JWK from the new certificate. Apply (a plain
// save) saves without deploying.
func TestCertificateEditJWKConnection(t *testing.T) {
	env, admin := kwSite(t)
	first, second := cwRSACert(t, 0, "signer.example.com"), cwRSACert(t, 1, "signer.example.com")
	cwCreate(t, env, "signer", true, map[string][]byte{"production": pemOf(first)})
	cwCreateJWK(t, env, "signer-jwk", "signer", "RS256", "production")
	if keys := kwJWKS(t, env, "production"); len(keys) != 1 || keys[0]["x5t#S256"] != base64.RawURLEncoding.EncodeToString(sha256Sum(first.Raw)) {
		t.Fatalf("JWKS before: %v", keys)
	}
	for _, htmx := range []bool{false, true} {
		p := admin.Get("/projects/payments/certificates/signer/edit", htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("edit (htmx %v): status %d", htmx, p.Status)
		}
		checkFragment(t, "edit", p, !htmx)
		row := p.Doc.Find("tr#config-0")
		if row.Length() != 1 || row.AttrOr("data-row-locked", "x") != "" || row.Find(".badge.state-unchanged").Length() != 1 ||
			row.Find(`input[name="configs[0].content"]`).Length() != 0 || row.Find("td.material .subject").Text() != "CN=signer.example.com" {
			t.Errorf("stored row: %q", strings.Join(strings.Fields(row.Text()), " "))
		}
		if p.Doc.Find(`#certificate-form input[name=name][readonly]`).Length() != 1 || p.Doc.Find("#certificate-save").Text() != "Apply" {
			t.Error("the name is not fixed, or the save button is not Apply")
		}
		if p.Doc.Find(`#certificate-save-deploy[data-dialog-open="jwk-connection"]`).Length() != 1 {
			t.Error("Save and Deploy does not open the JWK Connection dialog")
		}
		d := p.Doc.Find("#certificate-form dialog#jwk-connection")
		if !strings.Contains(d.Text(), "This Certificate is used in 1 JWK(s). What would you like to do?") ||
			strings.Join(texts(&goquery.Document{Selection: d}, `[data-dialog-step="choose"] button`), "|") != "Update related JWKs|Update certificate only and disconnect|Cancel" {
			t.Errorf("JWK Connection dialog %q", strings.Join(strings.Fields(d.Text()), " "))
		}
		if p.Doc.Find(`#cert-config-fields input[name=certificate][value=signer]`).Length() != 1 {
			t.Error("the dialog does not know the certificate being edited")
		}
	}
	admin.Get("/projects/payments/certificates/signer/edit", false)
	newRow := cwRow("production", string(pemOf(second)), "signer-production")
	// Save and Deploy without the choice, then without the typed name.
	for _, extra := range []url.Values{{}, {"jwk_action": {"UPDATE"}, "confirm_name": {"wrong"}}} {
		form := cwWizard("signer", "deploy", newRow)
		for k, v := range extra {
			form[k] = v
		}
		p := kwSubmit(t, env, admin, "/projects/payments/certificates/signer", form, nil, false)
		if p.Status != http.StatusUnprocessableEntity || p.Doc.Find("#certificate-form-error").Text() == "" {
			t.Errorf("Save and Deploy with %v: status %d %q", extra, p.Status, p.Doc.Find("#certificate-form-error").Text())
		}
	}
	// Preview on the edit page: the row is "replaced".
	f := cwPaste(0, "production", string(pemOf(second)), "BASE64PEM", "signer-production")
	f.Set("certificate", "signer")
	f.Set("replace", "1")
	if p := cwPreview(t, env, admin, cwPreviewPath, f, nil, true); p.Doc.Find("tr#config-0 .badge.state-replaced").Length() != 1 ||
		!strings.Contains(p.Doc.Find("tr#config-0").Text(), "r") || p.Doc.Find("tr#config-0").AttrOr("data-row-locked", "x") != "" {
		t.Errorf("edit preview: %s", p.Body)
	}
	form := cwWizard("signer", "deploy", newRow)
	form.Set("jwk_action", "UPDATE")
	form.Set("confirm_name", "signer")
	p := kwSubmit(t, env, admin, "/projects/payments/certificates/signer", form, nil, false)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("update: status %d %.500s", p.Status, p.Body)
	}
	if keys := kwJWKS(t, env, "production"); len(keys) != 1 || keys[0]["x5t#S256"] != base64.RawURLEncoding.EncodeToString(sha256Sum(second.Raw)) ||
		keys[0]["n"] != kwRSAKey(t, 1).modulus() {
		t.Errorf("JWKS after Update related JWKs: %v", keys)
	}
	// Apply: saves the alias without deploying.
	admin.Get("/projects/payments/certificates/signer/edit", false)
	keep := url.Values{"environment": {"production"}, "source": {"CLIPBOARD"}, "alias": {"renamed"}, "pick": {"0"}}
	p = kwSubmit(t, env, admin, "/projects/payments/certificates/signer", cwWizard("signer", "save", keep), nil, true)
	if p.Status != http.StatusNoContent || p.Header.Get("HX-Redirect") != "/projects/payments/certificates/signer" {
		t.Fatalf("Apply: status %d %.300s", p.Status, p.Body)
	}
	page := admin.Get("/projects/payments/certificates/signer", false)
	if !strings.Contains(page.Doc.Find(".flash").Text(), "Certificate signer saved.") || !strings.Contains(page.Doc.Find("#env-production header").Text(), "renamed") ||
		page.Doc.Find("#env-production .deployment .badge.warn").Length() != 0 {
		t.Errorf("after Apply: %q / %q", page.Doc.Find(".flash").Text(), page.Doc.Find("#env-production header").Text())
	}
}

// TestCertificateDeleteDialog: with a related JWK, Delete is the JWK
// Connection choice (Delete JWKS, Delete Disconnect), then the typed name;
// a wrong name deletes nothing; Delete JWKS deletes the JWK too.
func TestCertificateDeleteDialog(t *testing.T) {
	env, admin := kwSite(t)
	cwCreate(t, env, "signer", true, map[string][]byte{"production": pemOf(cwRSACert(t, 0, "signer.example.com"))})
	cwCreateJWK(t, env, "signer-jwk", "signer", "RS256", "production")
	p := admin.Get("/projects/payments/certificates/signer", true)
	d := p.Doc.Find("dialog#certificate-delete")
	if !strings.Contains(d.Text(), "This Certificate is used in 1 JWK(s). What would you like to do?") ||
		strings.Join(texts(&goquery.Document{Selection: d}, `[data-dialog-step="choose"] button`), "|") != "Delete JWKS|Delete Disconnect|Cancel" ||
		d.Find(`input[type=hidden][name=jwk_action][value=NULLIFY]`).Length() != 1 || d.Find(`button#certificate-delete-confirm[data-confirm-name=signer]`).Text() != "Delete" {
		t.Errorf("delete dialog %q", strings.Join(strings.Fields(d.Text()), " "))
	}
	before := testenv.TakeSnapshot(t, env)
	p = admin.Post("/projects/payments/certificates/signer/delete", url.Values{"jwk_action": {"DELETE"}, "confirm_name": {"signe"}}, false)
	if p.Status != http.StatusSeeOther || p.Location() != "/projects/payments/certificates/signer" {
		t.Errorf("wrong name: status %d %q", p.Status, p.Location())
	}
	if got := admin.Get("/projects/payments/certificates/signer", false).Doc.Find(".flash").Text(); !strings.Contains(got, "Type the certificate's name exactly to confirm.") {
		t.Errorf("wrong name flash %q", got)
	}
	if d := before.Changes(t); d != "" {
		t.Errorf("a wrong name changed the database: %s", d)
	}
	p = admin.Post("/projects/payments/certificates/signer/delete", url.Values{"jwk_action": {"DELETE"}, "confirm_name": {"signer"}}, false)
	if p.Status != http.StatusSeeOther || p.Location() != "/projects/payments/certificates" {
		t.Fatalf("delete: status %d %q", p.Status, p.Location())
	}
	if got := admin.Get("/projects/payments/certificates", false).Doc.Find(".flash").Text(); !strings.Contains(got, "Certificate signer deleted. Undeployed from 1 environment(s).") {
		t.Errorf("flash %q", got)
	}
	if _, ok := kwJWK(t, env, "signer-jwk"); ok {
		t.Error("Delete JWKS left the JWK")
	}
	if keys := kwJWKS(t, env, "production"); len(keys) != 0 {
		t.Errorf("JWKS after the delete: %v", keys)
	}
}

// TestJWKFormFromCertificate: the JWK form offers certificates as sources:
// the algorithms fit the certificate's key, the environments are its own,
// and the JWK it makes is published with x5c and x5t#S256.
func TestJWKFormFromCertificate(t *testing.T) {
	env, admin := kwSite(t)
	chain := newTestChain(t, "edge.example.com")
	cwCreate(t, env, "edge", true, map[string][]byte{"production": pemOf(chain.leaf, chain.intermediate)})
	for _, htmx := range []bool{false, true} {
		p := admin.Get("/projects/payments/jwks/new?sourceType=CERTIFICATE&source=edge", htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("status %d", p.Status)
		}
		if p.Doc.Find(`select[name=sourceType] option[value=CERTIFICATE][selected]`).Length() != 1 ||
			p.Doc.Find(`select[name=sourceName] option[value=edge][selected]`).Length() != 1 {
			t.Error("the certificate is not the chosen source")
		}
		if got := texts(p.Doc, `select[name=alg] option`); strings.Join(got, ",") != "ES256" {
			t.Errorf("algorithms %v", got)
		}
		if got := texts(p.Doc, `input[name=environments]`); len(got) != 1 || p.Doc.Find(`input[name=environments][value=production][checked]`).Length() != 1 {
			t.Errorf("environments %v", got)
		}
	}
	// Without certificates of its own, a project says so for that type.
	if p := admin.Get("/projects/payments/jwks/new", false); p.Doc.Find("#no-source-keys").Length() != 1 {
		t.Error("no key: the form does not say so")
	}
	admin.Get("/projects/payments/jwks/new?sourceType=CERTIFICATE", false)
	p := admin.Post("/projects/payments/jwks", url.Values{"name": {"edge-jwk"}, "sourceType": {"CERTIFICATE"}, "sourceName": {"edge"},
		"use": {"sig"}, "alg": {"ES256"}, "environments": {"production"}, "action": {"deploy"}}, false)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("create: status %d %.400s", p.Status, p.Body)
	}
	keys := kwJWKS(t, env, "production")
	if len(keys) != 1 || keys[0]["x5t#S256"] != base64.RawURLEncoding.EncodeToString(sha256Sum(chain.leaf.Raw)) {
		t.Fatalf("JWKS %v", keys)
	}
	if x5c, _ := keys[0]["x5c"].([]any); len(x5c) != 2 || x5c[0] != base64.StdEncoding.EncodeToString(chain.leaf.Raw) {
		t.Errorf("x5c %v", keys[0]["x5c"])
	}
	page := admin.Get("/projects/payments/jwks/edge-jwk", false)
	if page.Doc.Find(`#jwk-source a[href="/projects/payments/certificates/edge"]`).Length() != 1 || !strings.Contains(page.Doc.Find("#jwk-source").Text(), "certificate edge") {
		t.Errorf("JWK source %q", page.Doc.Find("#jwk-source").Text())
	}
	if list := admin.Get("/projects/payments/jwks", false); list.Doc.Find(`#jwks a[href="/projects/payments/certificates/edge"]`).Length() != 1 {
		t.Error("the JWK list does not link the certificate")
	}
	if got := admin.Get("/projects/payments/certificates/edge", false).Doc.Find("#related-jwks").Text(); !strings.Contains(got, "edge-jwk") {
		t.Errorf("related JWKs %q", got)
	}
}

// cwUnzip reads a ZIP's files.
func cwUnzip(t *testing.T, body []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("read ZIP: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		out[f.Name] = b
	}
	return out
}

// cwPKCS7 reads the certificates of a degenerate PKCS#7 SignedData.
func cwPKCS7(t *testing.T, body []byte) []*x509.Certificate {
	t.Helper()
	p7, err := pkcs7.Parse(body)
	if err != nil {
		t.Fatalf("parse PKCS#7: %v", err)
	}
	return p7.Certificates
}
