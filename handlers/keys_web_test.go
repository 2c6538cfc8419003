package handlers_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/keymaterial"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/internal/testenv"
)

// The web console's keys pages (seed 000): the list, the create and edit
// wizard, the details page, the JWK Connection and delete dialogs, and
// deploy/undeploy per environment. Every case is tried as a full page and
// as an htmx request where the page can be both.

// kwRSA is an RSA key a test pastes or uploads, with its PEM text.
type kwRSA struct {
	key *rsa.PrivateKey
	pem string // PKCS#8 "PRIVATE KEY"
}

var kwRSAPool struct {
	once sync.Once
	keys []kwRSA
}

// kwRSAKey returns the i-th of a few 2048-bit RSA keys generated once per
// test process (generating one per test would dominate the run time).
func kwRSAKey(t *testing.T, i int) kwRSA {
	t.Helper()
	kwRSAPool.once.Do(func() {
		out := make([]kwRSA, 4)
		var wg sync.WaitGroup
		for n := range out {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k, err := rsa.GenerateKey(rand.Reader, 2048)
				if err != nil {
					panic(err)
				}
				der, err := x509.MarshalPKCS8PrivateKey(k)
				if err != nil {
					panic(err)
				}
				out[n] = kwRSA{key: k, pem: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}
			}()
		}
		wg.Wait()
		kwRSAPool.keys = out
	})
	return kwRSAPool.keys[i]
}

// modulus is the key's "n" as a JWK carries it.
func (k kwRSA) modulus() string { return base64.RawURLEncoding.EncodeToString(k.key.N.Bytes()) }

// secretParts are the strings that would betray k's private material in a
// page: the PEM body lines, the DER in base64 and the private exponent.
func (k kwRSA) secretParts() []string {
	var out []string
	for _, line := range strings.Split(k.pem, "\n") {
		if len(line) == 64 {
			out = append(out, line)
		}
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k.key)
	return append(out, base64.StdEncoding.EncodeToString(der)[:80],
		base64.RawURLEncoding.EncodeToString(k.key.D.Bytes())[:40], hex.EncodeToString(k.key.D.Bytes())[:40])
}

// kwSite is newSite plus a second environment "staging".
func kwSite(t *testing.T) (*testenv.Env, *testenv.Browser) {
	t.Helper()
	env, admin := newSite(t)
	if _, err := env.App.Environments.Create(context.Background(), env.Principal("root"), environments.Input{Name: "staging"}); err != nil {
		t.Fatalf("create environment staging: %v", err)
	}
	return env, admin
}

// kwFile is one file of a multipart form.
type kwFile struct {
	field, name string
	content     []byte
}

// kwSubmit posts a multipart/form-data form as the wizard does, with the
// browser's cookies and its CSRF token (unless fields has "_csrf").
func kwSubmit(t *testing.T, env *testenv.Env, b *testenv.Browser, path string, fields url.Values, files []kwFile, htmx bool) testenv.Page {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if _, ok := fields["_csrf"]; !ok {
		_ = w.WriteField("_csrf", b.CSRF)
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range fields[k] {
			_ = w.WriteField(k, v)
		}
	}
	for _, f := range files {
		fw, err := w.CreateFormFile(f.field, f.name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(f.content)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, env.URL(path), &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	p := testenv.Page{Status: resp.StatusCode, Header: resp.Header, Body: string(raw)}
	p.Doc, _ = goquery.NewDocumentFromReader(bytes.NewReader(raw))
	if tok, ok := p.Doc.Find(`input[name="_csrf"]`).First().Attr("value"); ok && tok != "" {
		b.CSRF = tok
	}
	return p
}

// kwForm is the wizard's definition fields plus one configuration per
// entry of configs (environment, source, content, alias).
func kwForm(name, keyType, alg, action string, configs ...[4]string) url.Values {
	f := url.Values{"name": {name}, "description": {"Key " + name}, "keyType": {keyType}, "algorithm": {alg}}
	if action != "" {
		f.Set("action", action)
	}
	for i, c := range configs {
		p := fmt.Sprintf("configs[%d].", i)
		f.Set(p+"environment", c[0])
		f.Set(p+"source", c[1])
		f.Set(p+"content", c[2])
		f.Set(p+"alias", c[3])
	}
	return f
}

// kwCreate creates a key through the service, as root.
func kwCreate(t *testing.T, env *testenv.Env, project, name, keyType, alg string, deployNow bool, configs map[string][]byte) {
	t.Helper()
	in := secrets.KeyInput{Name: name, Description: "Key " + name, Type: keyType, Algorithm: alg, ListField: "configs"}
	envs := make([]string, 0, len(configs))
	for e := range configs {
		envs = append(envs, e)
	}
	sort.Strings(envs)
	for i, e := range envs {
		in.Configs = append(in.Configs, secrets.ConfigInput{Field: fmt.Sprintf("configs[%d]", i), Environment: e, Content: configs[e], Alias: name + "-" + e})
	}
	if _, err := env.App.Secrets.CreateKey(context.Background(), env.Principal("root"), project, in, deployNow); err != nil {
		t.Fatalf("create key %s: %v", name, err)
	}
}

// kwCreateJWK makes a deployed RS256 JWK named name from key in envs.
func kwCreateJWK(t *testing.T, env *testenv.Env, name, key string, envs ...string) {
	t.Helper()
	in := secrets.JWKInput{Name: name, SourceType: secrets.SourceKey, SourceName: key, Use: "sig", Alg: "RS256", Environments: envs}
	if _, err := env.App.Secrets.CreateJWK(context.Background(), env.Principal("root"), "payments", in, true); err != nil {
		t.Fatalf("create JWK %s: %v", name, err)
	}
}

// kwRevision returns an environment's published revision.
func kwRevision(t *testing.T, env *testenv.Env, name string) int {
	t.Helper()
	return count(t, env, "SELECT revision FROM environments WHERE name = ?", name)
}

// kwJWKS fetches the public JWKS of payments in envName.
func kwJWKS(t *testing.T, env *testenv.Env, envName string) []map[string]any {
	t.Helper()
	resp, err := http.Get(env.URL("/jwks/payments/" + envName))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /jwks/payments/%s: status %d", envName, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("decode JWKS: %v", err)
	}
	return set.Keys
}

// kwJWK returns a JWK's detail, or ok false when it does not exist.
func kwJWK(t *testing.T, env *testenv.Env, name string) (secrets.JWKDetail, bool) {
	t.Helper()
	d, err := env.App.Secrets.GetJWK(context.Background(), env.Principal("root"), "payments", name)
	if err != nil {
		return d, false
	}
	return d, true
}

// texts returns the trimmed text of every element sel matches.
func texts(doc *goquery.Document, sel string) []string {
	var out []string
	doc.Find(sel).Each(func(_ int, s *goquery.Selection) { out = append(out, strings.TrimSpace(s.Text())) })
	return out
}

// checkFragment fails unless p is an htmx fragment (no layout), or a full
// page when full.
func checkFragment(t *testing.T, what string, p testenv.Page, full bool) {
	t.Helper()
	isFull := strings.Contains(p.Body, "<html") && p.Doc.Find("header.topbar").Length() == 1
	if isFull != full {
		t.Errorf("%s: full page = %v, want %v", what, isFull, full)
	}
}

// TestKeyListEmptyStates: a project without keys says so and offers Create
// to a manager; a filter without matches says that instead.
func TestKeyListEmptyStates(t *testing.T) {
	env, admin := kwSite(t)
	for _, htmx := range []bool{false, true} {
		p := admin.Get("/projects/payments/keys", htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("GET keys (htmx %v): status %d", htmx, p.Status)
		}
		checkSecurityHeaders(t, "key list", p.Header)
		checkFragment(t, "key list", p, !htmx)
		if got := p.Doc.Find("#no-keys").Text(); !strings.Contains(got, "This project has no keys yet. Use Create to add one.") {
			t.Errorf("empty list (htmx %v) says %q", htmx, got)
		}
		if p.Doc.Find(`a#key-create[href="/projects/payments/keys/new"]`).Length() != 1 {
			t.Errorf("empty list (htmx %v) offers no Create", htmx)
		}
		if p.Doc.Find("#keys").Length() != 0 || p.Doc.Find(".pager").Length() != 0 {
			t.Errorf("empty list (htmx %v) shows a table or pager", htmx)
		}
	}
	kwCreate(t, env, "payments", "one", "SECRET_KEY", "AES", false, map[string][]byte{"production": bytes.Repeat([]byte{1}, 16)})
	p := admin.Get("/projects/payments/keys?search=nothing-like-this", false)
	if got := p.Doc.Find("#no-keys").Text(); got != "No key matches these filters." {
		t.Errorf("no match says %q", got)
	}
	if got := p.Doc.Find(`input[name="search"]`).AttrOr("value", ""); got != "nothing-like-this" {
		t.Errorf("search box keeps %q", got)
	}
	// An unknown environment in the filter is a clear error, not a 500.
	p = admin.Get("/projects/payments/keys?environment=nowhere", false)
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Doc.Find("main").Text(), `Environment "nowhere" does not exist.`) {
		t.Errorf("unknown environment filter: status %d, %q", p.Status, strings.TrimSpace(p.Doc.Find("main").Text()))
	}
	if p := admin.Get("/projects/nope/keys", false); p.Status != http.StatusNotFound {
		t.Errorf("keys of a missing project: status %d", p.Status)
	}
}

// TestKeyListSearchFiltersAndPages: 30 keys, 25 a page; search, the type,
// algorithm and environment filters and the pager links that keep them.
func TestKeyListSearchFiltersAndPages(t *testing.T) {
	env, admin := kwSite(t)
	rsaPEM := []byte(kwRSAKey(t, 0).pem)
	for i := range 20 {
		kwCreate(t, env, "payments", fmt.Sprintf("aes-%02d", i), "SECRET_KEY", "AES", i < 3, map[string][]byte{"production": bytes.Repeat([]byte{byte(i)}, 32)})
	}
	for i := range 5 {
		kwCreate(t, env, "payments", fmt.Sprintf("des-%02d", i), "SECRET_KEY", "DES", false, map[string][]byte{"staging": bytes.Repeat([]byte{byte(i)}, 8)})
	}
	for i := range 5 {
		kwCreate(t, env, "payments", fmt.Sprintf("rsa-%02d", i), "PRIVATE_KEY", "RSA", false, map[string][]byte{"production": rsaPEM, "staging": rsaPEM})
	}
	names := func(p testenv.Page) []string { return texts(p.Doc, "#keys tbody tr td:first-child a") }

	for _, htmx := range []bool{false, true} {
		p := admin.Get("/projects/payments/keys", htmx)
		checkFragment(t, "key list", p, !htmx)
		got := names(p)
		if len(got) != 25 || got[0] != "aes-00" || got[24] != "des-04" {
			t.Errorf("page 1 (htmx %v): %d keys %v", htmx, len(got), got)
		}
		if pager := strings.Join(strings.Fields(p.Doc.Find(".pager").Text()), " "); !strings.Contains(pager, "30 key(s) · page 1 of 2") {
			t.Errorf("pager says %q", pager)
		}
		if p.Doc.Find(`.pager a[href="?page=2"]`).Length() != 1 || strings.Contains(p.Doc.Find(".pager").Text(), "Previous") {
			t.Errorf("page 1 pager links: %s", p.Doc.Find(".pager").Text())
		}
	}
	p := admin.Get("/projects/payments/keys?page=2", false)
	if got := names(p); strings.Join(got, ",") != "rsa-00,rsa-01,rsa-02,rsa-03,rsa-04" {
		t.Errorf("page 2: %v", got)
	}
	if !strings.Contains(p.Doc.Find(".pager").Text(), "Previous") || strings.Contains(p.Doc.Find(".pager").Text(), "Next") {
		t.Errorf("page 2 pager: %s", p.Doc.Find(".pager").Text())
	}

	// A row shows type, algorithm, environments with their deployed
	// revision and the fingerprint, never material.
	row := admin.Get("/projects/payments/keys?search=aes-00", false).Doc.Find("#keys tbody tr")
	if row.Length() != 1 {
		t.Fatalf("search aes-00: %d rows", row.Length())
	}
	cells := texts(&goquery.Document{Selection: row}, "td")
	if cells[1] != "SECRET_KEY" || cells[2] != "AES" || !strings.HasPrefix(cells[3], "production r") || len(strings.TrimSuffix(cells[4], "…")) != 16 {
		t.Errorf("row aes-00: %q", cells)
	}
	if row.Find(".badge.ok").Length() != 1 {
		t.Errorf("deployed key aes-00 has no deployed badge")
	}
	if cells := texts(&goquery.Document{Selection: admin.Get("/projects/payments/keys?search=aes-10", false).Doc.Find("#keys tbody tr")}, "td"); cells[3] != "production" {
		t.Errorf("undeployed key aes-10 environments cell %q", cells[3])
	}

	for _, c := range []struct {
		query string
		want  int
		first string
	}{
		{"search=RSA-", 5, "rsa-00"},
		{"search=key+des-03", 1, "des-03"}, // the description
		{"keyType=PRIVATE_KEY", 5, "rsa-00"},
		{"keyType=SECRET_KEY", 25, "aes-00"},
		{"keyType=PUBLIC_KEY", 0, ""},
		{"algorithm=DES", 5, "des-00"},
		{"algorithm=RSA", 5, "rsa-00"},
		{"environment=staging", 10, "des-00"},
		{"environment=production", 25, "aes-00"},
		{"environment=staging&keyType=SECRET_KEY&search=-04", 1, "des-04"},
	} {
		for _, htmx := range []bool{false, true} {
			p := admin.Get("/projects/payments/keys?"+c.query, htmx)
			got := names(p)
			if len(got) != min(c.want, 25) || (c.want > 0 && got[0] != c.first) {
				t.Errorf("?%s (htmx %v): %d keys %v, want %d from %s", c.query, htmx, len(got), got, c.want, c.first)
			}
			if c.want > 0 && !strings.Contains(p.Doc.Find(".pager").Text(), fmt.Sprintf("%d key(s)", c.want)) {
				t.Errorf("?%s: pager %q", c.query, p.Doc.Find(".pager").Text())
			}
			if c.want == 0 && p.Doc.Find("#no-keys").Text() != "No key matches these filters." {
				t.Errorf("?%s: %q", c.query, p.Doc.Find("#no-keys").Text())
			}
			// The filter form shows the filters in force.
			q, _ := url.ParseQuery(c.query)
			if v := q.Get("keyType"); v != "" && p.Doc.Find(`select[name="keyType"] option[selected]`).AttrOr("value", "") != v {
				t.Errorf("?%s: type select does not keep %s", c.query, v)
			}
			if v := q.Get("environment"); v != "" && p.Doc.Find(`select[name="environment"] option[selected]`).AttrOr("value", "") != v {
				t.Errorf("?%s: environment select does not keep %s", c.query, v)
			}
		}
	}
	// Paging keeps the filters.
	p = admin.Get("/projects/payments/keys?search=-", false)
	next := p.Doc.Find(".pager a").Last().AttrOr("href", "")
	if next != "?search=-&page=2" {
		t.Errorf("next link with a search: %q", next)
	}
	if got := names(admin.Get("/projects/payments/keys"+next, true)); len(got) != 5 {
		t.Errorf("page 2 of the search: %v", got)
	}
	// Nothing in the list is material.
	body := admin.Get("/projects/payments/keys?algorithm=RSA", false).Body
	for _, s := range kwRSAKey(t, 0).secretParts() {
		if strings.Contains(body, s) {
			t.Fatalf("the key list shows private material %q", s)
		}
	}
}

// TestKeyWizardSteps: the create page has the seed's three steps
// (Definition, Configuration, Save), the algorithm select follows the
// type, and the Configuration step is a table (empty at first) whose rows
// are entered in one dialog, opened by "New Key Definition", whose Apply
// posts to the preview route.
func TestKeyWizardSteps(t *testing.T) {
	_, admin := kwSite(t)
	for _, htmx := range []bool{false, true} {
		p := admin.Get("/projects/payments/keys/new", htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("GET new (htmx %v): status %d", htmx, p.Status)
		}
		checkSecurityHeaders(t, "key wizard", p.Header)
		checkFragment(t, "key wizard", p, !htmx)
		steps := texts(p.Doc, "#key-form section.step h2")
		if strings.Join(steps, "|") != "1 Definition|2 Configuration|3 Save" {
			t.Errorf("wizard steps (htmx %v): %q", htmx, steps)
		}
		form := p.Doc.Find(`form#key-form[method="post"][enctype="multipart/form-data"][action="/projects/payments/keys"]`)
		if form.Length() != 1 {
			t.Fatalf("no multipart form posting to /projects/payments/keys")
		}
		if got := texts(p.Doc, `select[name="keyType"] option`); strings.Join(got, ",") != "Secret Key,Private Key,Public Key" {
			t.Errorf("key types %q", got)
		}
		if got := texts(p.Doc, `select[name="algorithm"] option`); strings.Join(got, ",") != "Detect from the material,AES,DES,DESede" {
			t.Errorf("algorithms for a secret key %q", got)
		}
		if p.Doc.Find(`select[name="keyType"][hx-get="/projects/payments/keys/algorithms"][hx-target="#algorithm-field"]`).Length() != 1 {
			t.Errorf("the type select does not fetch the algorithms")
		}
		// The Configuration table: its columns, no row yet, and the button
		// that opens the dialog.
		if got := texts(p.Doc, "#config-table thead th"); strings.Join(got[:6], "|") != "Environment|Source|Alias|Fingerprint|State|Deployed" {
			t.Errorf("configuration columns %q", got)
		}
		if p.Doc.Find("#config-rows tr").Length() != 0 || !strings.Contains(p.Doc.Find("#no-configs").Text(), "No environment is configured yet.") {
			t.Errorf("a new key's table is not empty: %d rows", p.Doc.Find("#config-rows tr").Length())
		}
		if p.Doc.Find(`#step-configuration button#config-new[type=button][data-row-new="key-config-dialog"]`).Text() != "New Key Definition" {
			t.Errorf("no New Key Definition button opening the dialog")
		}
		// The dialog sits outside the wizard's form (forms do not nest) and
		// posts its fields, with the definition's type and algorithm, to
		// the preview route.
		dlg := p.Doc.Find("dialog#key-config-dialog")
		if dlg.Length() != 1 || dlg.ParentsFiltered("form").Length() != 0 {
			t.Fatalf("no configuration dialog outside the wizard's form")
		}
		dform := dlg.Find(`form#key-config-form[hx-post="/projects/payments/keys/config-preview"][hx-encoding="multipart/form-data"][hx-target="#key-config-fields"]`)
		if dform.Length() != 1 || dform.AttrOr("hx-include", "") != `#key-form [name='keyType'], #key-form [name='algorithm']` {
			t.Errorf("the dialog's form does not post to the preview route with the definition: %q", dform.AttrOr("hx-include", ""))
		}
		fields := &goquery.Document{Selection: dlg.Find("#key-config-fields")}
		if got := texts(fields, `select[name="environment"] option`); strings.Join(got, ",") != "Choose…,production,staging" {
			t.Errorf("environment choices %q", got)
		}
		for _, sel := range []string{`input[type=radio][name="source"][value=FILE][checked]`, `input[type=radio][name="source"][value=CLIPBOARD]`,
			`input[type=file][name="file"][accept=".pem,.crt,.cer,.cert,.der"]`, `textarea[name="content"]`, `input[name="alias"]`,
			`input[type=hidden][name="index"][value="0"]`, `input[type=hidden][name="replace"]`, `input[type=hidden][name="upload"]`, `input[type=hidden][name="key"][value=""]`} {
			if fields.Find(sel).Length() != 1 {
				t.Errorf("the dialog lacks %s", sel)
			}
		}
		if got := texts(&goquery.Document{Selection: dlg}, "footer button"); strings.Join(got, "|") != "Apply|Cancel" ||
			dlg.Find(`button#key-config-apply[type=submit]`).Length() != 1 || dlg.Find(`button[data-dialog-close]`).Length() != 1 {
			t.Errorf("dialog buttons %q", got)
		}
		if p.Doc.Find(`button#key-save[name=action][value=save]`).Length() != 1 || p.Doc.Find(`button#key-save-deploy[name=action][value=deploy]`).Length() != 1 {
			t.Errorf("no Save and Save and Deploy buttons")
		}
		if p.Doc.Find("#key-save-deploy[data-dialog-open]").Length() != 0 || p.Doc.Find("#jwk-connection").Length() != 0 {
			t.Errorf("a new key's wizard has a JWK Connection dialog")
		}
	}

	for _, c := range []struct{ keyType, want string }{
		{"SECRET_KEY", "AES,DES,DESede"}, {"PRIVATE_KEY", "RSA,EC"}, {"PUBLIC_KEY", "RSA,EC"},
	} {
		for _, htmx := range []bool{false, true} {
			p := admin.Get("/projects/payments/keys/algorithms?keyType="+c.keyType, htmx)
			if p.Status != http.StatusOK {
				t.Fatalf("algorithms for %s: status %d", c.keyType, p.Status)
			}
			got := texts(p.Doc, `#algorithm-field select[name="algorithm"] option`)
			if strings.Join(got[1:], ",") != c.want || got[0] != "Detect from the material" {
				t.Errorf("algorithms for %s (htmx %v): %q", c.keyType, htmx, got)
			}
		}
	}
	if p := admin.Get("/projects/payments/keys/algorithms?keyType=SYMMETRIC", true); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "is not a key type") {
		t.Errorf("algorithms for an unknown type: status %d", p.Status)
	}
}

// kwPreview posts the configuration dialog's fields to the preview route.
// An htmx answer that is a table row is parsed inside a table, where htmx
// puts it (an HTML parser drops a <tr> found anywhere else).
func kwPreview(t *testing.T, env *testenv.Env, b *testenv.Browser, fields url.Values, files []kwFile, htmx bool) testenv.Page {
	t.Helper()
	p := kwSubmit(t, env, b, "/projects/payments/keys/config-preview", fields, files, htmx)
	if htmx && strings.HasPrefix(strings.TrimSpace(p.Body), "<tr") {
		p.Doc, _ = goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + p.Body + "</tbody></table>"))
	}
	return p
}

// kwDialog is the dialog's fields: the definition's type and algorithm,
// then environment, source, content and alias.
func kwDialog(keyType, alg string, index int, cfg [4]string) url.Values {
	return url.Values{"keyType": {keyType}, "algorithm": {alg}, "index": {fmt.Sprint(index)},
		"environment": {cfg[0]}, "source": {cfg[1]}, "content": {cfg[2]}, "alias": {cfg[3]}}
}

// kwFingerprint is the fingerprint the service gives material.
func kwFingerprint(t *testing.T, keyType string, material []byte) string {
	t.Helper()
	k, err := keymaterial.Parse("content", keymaterial.Type(keyType), "", material)
	if err != nil {
		t.Fatal(err)
	}
	return k.Fingerprint
}

// kwSecretFingerprint is a secret key's fingerprint as Keyward shows it: an
// HMAC-SHA256 under a key derived from the instance's master key, never a
// plain hash of the secret.
func kwSecretFingerprint(env *testenv.Env, secret []byte) string {
	m := hmac.New(sha256.New, env.App.Sealer.DeriveKey(secrets.FingerprintLabel, 32))
	m.Write(secret)
	return hex.EncodeToString(m.Sum(nil))
}

// auditCount counts the audit log's entries (the preview writes none).
func auditCount(t *testing.T, env *testenv.Env) int {
	t.Helper()
	return count(t, env, "SELECT COUNT(*) FROM audit_log")
}

// TestKeyConfigPreviewRow: Apply with a configuration that passes answers
// its Configuration table row: the fingerprint and state the service
// computes, and hidden inputs that carry it in the wizard's final post
// under the names the handler reads. An htmx request gets the row alone,
// retargeted to the table (appended, or replacing the row being edited);
// a plain request a page with the row in a table. Nothing is written.
func TestKeyConfigPreviewRow(t *testing.T) {
	env, admin := kwSite(t)
	k0 := kwRSAKey(t, 0)
	aes := bytes.Repeat([]byte{0xA7, 0x13}, 8)
	admin.Get("/projects/payments/keys/new", false)
	before, audits := testenv.TakeSnapshot(t, env), auditCount(t, env)
	for _, htmx := range []bool{false, true} {
		for _, c := range []struct {
			what    string
			fields  url.Values
			files   []kwFile
			hidden  map[string]string // the row's hidden inputs
			source  string
			fp      string
			details string
		}{
			{"pasted PEM", kwDialog("PRIVATE_KEY", "RSA", 3, [4]string{"production", "CLIPBOARD", k0.pem, "signer"}), nil,
				map[string]string{"environment": "production", "source": "CLIPBOARD", "alias": "signer", "content": k0.pem},
				"Paste from Clipboard", kwFingerprint(t, "PRIVATE_KEY", []byte(k0.pem)), "PKCS#8 PEM, 2048 bits"},
			{"uploaded file", kwDialog("PRIVATE_KEY", "", 3, [4]string{"staging", "FILE", "", ""}), []kwFile{{"file", "signer.pem", []byte(k0.pem)}},
				map[string]string{"environment": "staging", "source": "FILE", "alias": "", "upload": base64.StdEncoding.EncodeToString([]byte(k0.pem)), "file_name": "signer.pem"},
				"Import from File", kwFingerprint(t, "PRIVATE_KEY", []byte(k0.pem)), "PKCS#8 PEM, 2048 bits"},
			{"file applied before", func() url.Values {
				f := kwDialog("PRIVATE_KEY", "RSA", 3, [4]string{"staging", "FILE", "", "s"})
				f.Set("upload", base64.StdEncoding.EncodeToString([]byte(k0.pem)))
				f.Set("file_name", "signer.pem")
				return f
			}(), nil, map[string]string{"source": "FILE", "upload": base64.StdEncoding.EncodeToString([]byte(k0.pem)), "file_name": "signer.pem"},
				"Import from File", kwFingerprint(t, "PRIVATE_KEY", []byte(k0.pem)), "2048 bits"},
			{"secret key as hex", kwDialog("SECRET_KEY", "", 3, [4]string{"production", "CLIPBOARD", hex.EncodeToString(aes), "mac"}), nil,
				map[string]string{"content": hex.EncodeToString(aes), "source": "CLIPBOARD"}, "Paste from Clipboard", kwSecretFingerprint(env, aes), "raw, 128 bits"},
		} {
			p := kwPreview(t, env, admin, c.fields, c.files, htmx)
			if p.Status != http.StatusOK {
				t.Fatalf("%s (htmx %v): status %d %s", c.what, htmx, p.Status, p.Doc.Find("main").Text())
			}
			checkFragment(t, c.what, p, !htmx)
			row := p.Doc.Find("tr.config-row#config-3[data-row-index='3']")
			if row.Length() != 1 {
				t.Fatalf("%s (htmx %v): no row config-3: %s", c.what, htmx, p.Body)
			}
			for name, want := range c.hidden {
				in := row.Find(fmt.Sprintf(`input[type=hidden][name="configs[3].%s"]`, name))
				if in.Length() != 1 || in.AttrOr("value", "") != want {
					t.Errorf("%s: hidden configs[3].%s = %q (%d), want %q", c.what, name, in.AttrOr("value", ""), in.Length(), want)
				}
			}
			if c.source == "Import from File" && row.Find(`input[name="configs[3].content"]`).Length() != 0 {
				t.Errorf("%s: a file row carries pasted content", c.what)
			}
			cells := texts(&goquery.Document{Selection: row}, "td")
			if !strings.HasPrefix(cells[1], c.source) || row.Find("code.fingerprint").Text() != c.fp || !strings.Contains(cells[3], c.details) ||
				cells[4] != "new" || row.Find(".badge.state-new").Length() != 1 || cells[5] != "not deployed" {
				t.Errorf("%s (htmx %v): row cells %q, fingerprint %q want %s", c.what, htmx, cells, row.Find("code.fingerprint").Text(), c.fp)
			}
			if row.Find(`button[data-row-edit="config-3"]`).Text() != "Edit" || row.Find(`button[data-remove-row="config-3"]`).Text() != "Remove" || row.Is("[data-row-locked]") {
				t.Errorf("%s: row actions %q, locked %v", c.what, cells[6], row.Is("[data-row-locked]"))
			}
			if htmx && (p.Header.Get("HX-Retarget") != "#config-rows" || p.Header.Get("HX-Reswap") != "beforeend") {
				t.Errorf("%s: HX-Retarget %q HX-Reswap %q, want the row appended to #config-rows", c.what, p.Header.Get("HX-Retarget"), p.Header.Get("HX-Reswap"))
			}
			if !htmx && (p.Header.Get("HX-Retarget") != "" || p.Doc.Find("main table tbody tr#config-3").Length() != 1) {
				t.Errorf("%s: a plain request gets no page with the row in a table", c.what)
			}
		}
		// Apply in a row's Edit replaces that row.
		f := kwDialog("PRIVATE_KEY", "RSA", 1, [4]string{"production", "CLIPBOARD", k0.pem, "x"})
		f.Set("replace", "1")
		if p := kwPreview(t, env, admin, f, nil, true); p.Status != http.StatusOK || p.Header.Get("HX-Retarget") != "#config-1" || p.Header.Get("HX-Reswap") != "outerHTML" {
			t.Errorf("replace: status %d HX-Retarget %q HX-Reswap %q", p.Status, p.Header.Get("HX-Retarget"), p.Header.Get("HX-Reswap"))
		}
	}
	// A row switched from a file to pasted text drops the file.
	f := kwDialog("PRIVATE_KEY", "RSA", 0, [4]string{"production", "CLIPBOARD", k0.pem, ""})
	f.Set("upload", base64.StdEncoding.EncodeToString([]byte(k0.pem)))
	f.Set("file_name", "old.pem")
	if p := kwPreview(t, env, admin, f, nil, true); p.Status != http.StatusOK || p.Doc.Find(`input[name="configs[0].upload"]`).Length() != 0 || strings.Contains(p.Body, "old.pem") {
		t.Errorf("pasted text after a file: status %d, the file is carried on", p.Status)
	}
	if before.Changes(t, testenv.AuditMayGrow) != "" || auditCount(t, env) != audits {
		t.Fatalf("the preview wrote something (audit entries %d → %d)", audits, auditCount(t, env))
	}
}

// TestKeyConfigPreviewErrors: a configuration that does not pass answers
// 422 with the dialog's fields again, the service's message beside the
// field it is about, marked aria-invalid, and what was entered kept (an
// uploaded file too). Nothing is written, not even the audit log.
func TestKeyConfigPreviewErrors(t *testing.T) {
	env, admin := kwSite(t)
	k0 := kwRSAKey(t, 0)
	pubDER, _ := x509.MarshalPKIXPublicKey(&k0.key.PublicKey)
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	big := append([]byte(k0.pem), bytes.Repeat([]byte("\n"), 64<<10)...)
	const content, environment, alias, message = "#key-config-content-error", `label:has(select[name="environment"]) .field-error`,
		`label:has(input[name="alias"]) .field-error`, "#key-config-fields > .form-error"
	withUpload := func(f url.Values, upload string) url.Values {
		f.Set("upload", upload)
		f.Set("file_name", "k.pem")
		return f
	}
	admin.Get("/projects/payments/keys/new", false)
	before, audits := testenv.TakeSnapshot(t, env), auditCount(t, env)
	for _, c := range []struct {
		what    string
		fields  url.Values
		files   []kwFile
		sel     string // the message's element
		invalid string // the field marked aria-invalid
		want    string
	}{
		{"bad base64 in an applied file", withUpload(kwDialog("PRIVATE_KEY", "RSA", 0, [4]string{"production", "FILE", "", "a"}), "%%% not base64 %%%"), nil,
			content, "file", "could not be read"},
		{"bad PEM", kwDialog("PRIVATE_KEY", "RSA", 0, [4]string{"production", "CLIPBOARD", "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n", "a"}), nil,
			content, "content", "holds no valid PEM block"},
		{"not a key", kwDialog("PRIVATE_KEY", "RSA", 0, [4]string{"production", "CLIPBOARD", "hello, world", "a"}), nil,
			content, "content", "is not an RSA or EC private key"},
		{"a PEM key for a secret key", kwDialog("SECRET_KEY", "", 0, [4]string{"production", "CLIPBOARD", k0.pem, "a"}), nil,
			content, "content", "is PEM text, but a secret key is raw key bytes"},
		{"a public key for a private key", kwDialog("PRIVATE_KEY", "", 0, [4]string{"production", "CLIPBOARD", pubPEM, "a"}), nil,
			content, "content", "holds a public key or certificate, not a private key"},
		{"a secret key of a wrong size", kwDialog("SECRET_KEY", "AES", 0, [4]string{"production", "CLIPBOARD", hex.EncodeToString(make([]byte, 20)), "a"}), nil,
			content, "content", "is 20 bytes"},
		{"oversized file", kwDialog("PRIVATE_KEY", "RSA", 0, [4]string{"production", "FILE", "", "a"}), []kwFile{{"file", "big.pem", big}},
			content, "file", "the limit is 64 KiB"},
		{"wrong extension", kwDialog("PRIVATE_KEY", "RSA", 0, [4]string{"production", "FILE", "", "a"}), []kwFile{{"file", "key.txt", []byte(k0.pem)}},
			content, "file", `"key.txt" is not accepted`},
		{"no file", kwDialog("PRIVATE_KEY", "RSA", 0, [4]string{"production", "FILE", "", "a"}), nil, content, "file", "is empty."},
		{"unknown environment", kwDialog("PRIVATE_KEY", "RSA", 0, [4]string{"nowhere", "CLIPBOARD", k0.pem, "a"}), nil,
			environment, "environment", `"nowhere" does not exist.`},
		{"no environment", kwDialog("PRIVATE_KEY", "RSA", 0, [4]string{"", "FILE", "", "a"}), []kwFile{{"file", "k.pem", []byte(k0.pem)}},
			environment, "environment", "is required."},
		{"alias too long", kwDialog("PRIVATE_KEY", "RSA", 0, [4]string{"production", "CLIPBOARD", k0.pem, strings.Repeat("a", 201)}), nil,
			alias, "alias", "at most 200 characters"},
		{"unknown key type", kwDialog("SYMMETRIC", "", 0, [4]string{"production", "CLIPBOARD", k0.pem, "a"}), nil,
			message, "", `"SYMMETRIC" is not a key type`},
		{"algorithm not of the type", kwDialog("SECRET_KEY", "RSA", 0, [4]string{"production", "CLIPBOARD", hex.EncodeToString(make([]byte, 16)), "a"}), nil,
			message, "", `"RSA" is not valid for a SECRET_KEY`},
	} {
		for _, htmx := range []bool{false, true} {
			c.fields.Set("index", "2")
			c.fields.Set("replace", "1")
			p := kwPreview(t, env, admin, c.fields, c.files, htmx)
			if p.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s (htmx %v): status %d, want 422: %s", c.what, htmx, p.Status, p.Body)
				continue
			}
			checkFragment(t, c.what, p, !htmx)
			fields := p.Doc.Find("div#key-config-fields")
			if fields.Length() != 1 || p.Header.Get("HX-Retarget") != "" || p.Doc.Find("tr.config-row").Length() != 0 {
				t.Errorf("%s: not the dialog's fields alone (fields %d, retarget %q)", c.what, fields.Length(), p.Header.Get("HX-Retarget"))
			}
			if msg := fields.Find(c.sel); msg.Length() != 1 || !strings.Contains(msg.Text(), c.want) {
				t.Errorf("%s (htmx %v): %s = %q, want %q; every message: %q", c.what, htmx, c.sel, msg.Text(), c.want, texts(&goquery.Document{Selection: fields}, ".field-error, .form-error"))
			}
			if c.invalid != "" && fields.Find(fmt.Sprintf(`[name=%q][aria-invalid="true"]`, c.invalid)).Length() != 1 {
				t.Errorf("%s: %s is not marked aria-invalid", c.what, c.invalid)
			}
			// What was entered is kept: the row being edited, the choices,
			// the text, an accepted upload.
			if fields.Find(`input[name="index"]`).AttrOr("value", "") != "2" || fields.Find(`input[name="replace"]`).AttrOr("value", "") != "1" {
				t.Errorf("%s: the row index or replace flag is lost", c.what)
			}
			if got := fields.Find(`select[name="environment"] option[selected]`).AttrOr("value", ""); c.fields.Get("environment") == "production" && got != "production" {
				t.Errorf("%s: environment kept as %q", c.what, got)
			}
			if got := fields.Find(`input[name="alias"]`).AttrOr("value", ""); got != c.fields.Get("alias") {
				t.Errorf("%s: alias kept as %q", c.what, got)
			}
			checked := fields.Find(`input[name="source"][checked]`).AttrOr("value", "")
			if checked != c.fields.Get("source") {
				t.Errorf("%s: source kept as %q", c.what, checked)
			}
			if c.fields.Get("source") == "CLIPBOARD" && fields.Find(`textarea[name="content"]`).Text() != c.fields.Get("content") {
				t.Errorf("%s: the pasted text is not kept", c.what)
			}
			if c.what == "no environment" && (fields.Find(`input[name="upload"]`).AttrOr("value", "") != base64.StdEncoding.EncodeToString([]byte(k0.pem)) ||
				!strings.Contains(fields.Find(`[data-shown-with="file_name"]:not([hidden])`).Text(), "k.pem")) {
				t.Errorf("%s: the accepted upload is not kept for the next Apply", c.what)
			}
			if strings.Contains(c.what, "file") && c.what != "no file" && fields.Find(`input[name="upload"]`).AttrOr("value", "") != "" {
				t.Errorf("%s: a refused file is carried on", c.what)
			}
		}
	}
	if before.Changes(t, testenv.AuditMayGrow) != "" || auditCount(t, env) != audits {
		t.Fatalf("a refused preview wrote something (audit entries %d → %d)", audits, auditCount(t, env))
	}
}

// TestKeyConfigPreviewOnEdit: for a key being edited the preview compares
// with what is stored: no content keeps the material (unchanged, with the
// stored fingerprint and deployed revision), the same material is
// unchanged, other material replaces it, and an environment without
// material needs some. A member without SECRETS:MANAGE is refused with
// the service's message.
func TestKeyConfigPreviewOnEdit(t *testing.T) {
	env, admin := kwSite(t)
	k0, k1 := kwRSAKey(t, 0), kwRSAKey(t, 1)
	kwCreate(t, env, "payments", "signer", "PRIVATE_KEY", "RSA", true, map[string][]byte{"production": []byte(k0.pem)})
	admin.Get("/projects/payments/keys/signer/edit", false)
	edit := func(cfg [4]string) url.Values {
		f := kwDialog("PRIVATE_KEY", "RSA", 0, cfg)
		f.Set("key", "signer")
		return f
	}
	fp0, fp1 := kwFingerprint(t, "PRIVATE_KEY", []byte(k0.pem)), kwFingerprint(t, "PRIVATE_KEY", []byte(k1.pem))
	for _, c := range []struct {
		what, state, fp string
		fields          url.Values
		locked          bool
	}{
		{"material kept", "unchanged", fp0, edit([4]string{"production", "FILE", "", "renamed"}), true},
		{"same material", "unchanged", fp0, edit([4]string{"production", "CLIPBOARD", k0.pem, ""}), true},
		{"new material", "replaced", fp1, edit([4]string{"production", "CLIPBOARD", k1.pem, ""}), true},
		{"new environment", "new", fp1, edit([4]string{"staging", "CLIPBOARD", k1.pem, ""}), false},
		// A tampered type is ignored: the stored key's is used.
		{"tampered type", "replaced", fp1, func() url.Values {
			f := edit([4]string{"production", "CLIPBOARD", k1.pem, ""})
			f.Set("keyType", "SECRET_KEY")
			return f
		}(), true},
	} {
		p := kwPreview(t, env, admin, c.fields, nil, true)
		row := p.Doc.Find("tr#config-0")
		if p.Status != http.StatusOK || row.Find(".badge.state-"+c.state).Text() != c.state || row.Find("code.fingerprint").Text() != c.fp {
			t.Errorf("%s: status %d, state %q, fingerprint %q", c.what, p.Status, texts(&goquery.Document{Selection: row}, "td"), row.Find("code.fingerprint").Text())
		}
		if row.Is("[data-row-locked]") != c.locked {
			t.Errorf("%s: locked %v, want %v", c.what, row.Is("[data-row-locked]"), c.locked)
		}
		if deployed := row.Find("td").Eq(5).Text(); (c.state != "new") != (deployed == "r1") {
			t.Errorf("%s: deployed %q", c.what, deployed)
		}
	}
	p := kwPreview(t, env, admin, edit([4]string{"staging", "FILE", "", ""}), nil, true)
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Doc.Find("#key-config-content-error").Text(), `has no material in environment "staging" yet`) {
		t.Errorf("a new environment without material: status %d %q", p.Status, p.Doc.Find(".field-error").Text())
	}
	if p := kwPreview(t, env, admin, edit([4]string{"production", "FILE", "", ""}), nil, false); p.Status != http.StatusOK {
		t.Errorf("plain request: status %d", p.Status)
	}
	f := edit([4]string{"production", "FILE", "", ""})
	f.Set("key", "missing")
	if p := kwPreview(t, env, admin, f, nil, true); p.Status != http.StatusNotFound || !strings.Contains(p.Doc.Find(".form-error").Text(), `Key "missing" does not exist`) {
		t.Errorf("a missing key: status %d %q", p.Status, p.Doc.Find(".form-error").Text())
	}

	env.CreateUser("carol", false)
	env.Grant("payments", "carol", access.SecretsView)
	carol := env.Browser()
	carol.Login("carol")
	carol.Get("/projects/payments/keys", false)
	audits := auditCount(t, env)
	for _, htmx := range []bool{false, true} {
		p := kwPreview(t, env, carol, kwDialog("PRIVATE_KEY", "RSA", 0, [4]string{"production", "CLIPBOARD", k0.pem, ""}), nil, htmx)
		if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "You need the SECRETS:MANAGE permission in project &#34;payments&#34;.") {
			t.Errorf("carol previews (htmx %v): status %d %s", htmx, p.Status, p.Doc.Find("main").Text())
		}
	}
	if auditCount(t, env) != audits {
		t.Errorf("a refused preview was audited")
	}
}

// TestKeyCreateThroughTheWizard: the wizard's posts create keys from a file
// or pasted text, with Save or Save and Deploy, then show the key's page;
// no page shows the material afterwards.
func TestKeyCreateThroughTheWizard(t *testing.T) {
	env, admin := kwSite(t)
	k0, k1 := kwRSAKey(t, 0), kwRSAKey(t, 1)
	aes := bytes.Repeat([]byte{0xA7, 0x13}, 16)
	des3 := bytes.Repeat([]byte{0x5C}, 24)
	for _, c := range []struct {
		name      string
		form      url.Values
		files     []kwFile
		htmx      bool
		deployed  []string
		algorithm string
		secret    []string
	}{
		{"rsa-file", kwForm("rsa-file", "PRIVATE_KEY", "RSA", "save", [4]string{"production", "FILE", "", "signer"}),
			[]kwFile{{"configs[0].file", "signer.pem", []byte(k0.pem)}}, false, nil, "RSA", k0.secretParts()},
		{"rsa-pasted-deployed", kwForm("rsa-pasted-deployed", "PRIVATE_KEY", "", "deploy",
			[4]string{"production", "CLIPBOARD", k1.pem, "p"}, [4]string{"staging", "CLIPBOARD", k1.pem, "s"}),
			nil, true, []string{"production", "staging"}, "RSA", k1.secretParts()},
		{"aes-base64", kwForm("aes-base64", "SECRET_KEY", "", "deploy", [4]string{"staging", "CLIPBOARD", base64.StdEncoding.EncodeToString(aes), "mac"}),
			nil, false, []string{"staging"}, "AES", []string{base64.StdEncoding.EncodeToString(aes), hex.EncodeToString(aes)}},
		{"desede-hex", kwForm("desede-hex", "SECRET_KEY", "DESede", "save", [4]string{"production", "CLIPBOARD", hex.EncodeToString(des3), ""}),
			nil, true, nil, "DESede", []string{base64.StdEncoding.EncodeToString(des3), hex.EncodeToString(des3)}},
		{"aes-der-file", kwForm("aes-der-file", "SECRET_KEY", "AES", "save", [4]string{"production", "FILE", "", ""}),
			[]kwFile{{"configs[0].file", "raw.der", aes[:16]}}, false, nil, "AES", nil},
		// What the browser posts after Apply: the rows' hidden inputs, an
		// applied file's bytes in base64 with its name.
		{"rsa-applied-file", func() url.Values {
			f := kwForm("rsa-applied-file", "PRIVATE_KEY", "RSA", "deploy", [4]string{"staging", "FILE", "", "applied"},
				[4]string{"production", "CLIPBOARD", k1.pem, "pasted"})
			f.Del("configs[0].content")
			f.Set("configs[0].upload", base64.StdEncoding.EncodeToString([]byte(k0.pem)))
			f.Set("configs[0].file_name", "applied.pem")
			return f
		}(), nil, true, []string{"production", "staging"}, "RSA", append(k0.secretParts(), k1.secretParts()...)},
	} {
		revs := map[string]int{"production": kwRevision(t, env, "production"), "staging": kwRevision(t, env, "staging")}
		admin.Get("/projects/payments/keys/new", false)
		p := kwSubmit(t, env, admin, "/projects/payments/keys", c.form, c.files, c.htmx)
		want := http.StatusSeeOther
		if c.htmx {
			want = http.StatusNoContent
		}
		if p.Status != want || p.Location() != "/projects/payments/keys/"+c.name {
			t.Fatalf("create %s: status %d location %q\n%s", c.name, p.Status, p.Location(), p.Doc.Find("main").Text())
		}
		for e, before := range revs {
			grew := kwRevision(t, env, e) > before
			if grew != (c.deployed != nil && strings.Contains(strings.Join(c.deployed, ","), e)) {
				t.Errorf("create %s: revision of %s went from %d to %d", c.name, e, before, kwRevision(t, env, e))
			}
		}
		page := admin.Get(p.Location(), false)
		if flash := page.Doc.Find(".flash-success").Text(); !strings.Contains(flash, "Key "+c.name+" created.") {
			t.Errorf("create %s: flash %q", c.name, flash)
		}
		if c.deployed != nil && !strings.Contains(page.Doc.Find(".flash-success").Text(), fmt.Sprintf("Deployed to %d environment(s).", len(c.deployed))) {
			t.Errorf("create %s: flash %q does not report the deployment", c.name, page.Doc.Find(".flash-success").Text())
		}
		if got := page.Doc.Find("#key-summary .badge").Eq(1).Text(); got != c.algorithm {
			t.Errorf("create %s: algorithm %q, want %s", c.name, got, c.algorithm)
		}
		for _, e := range c.deployed {
			if !strings.Contains(page.Doc.Find("#env-"+e+" .deployment").Text(), "deployed r") {
				t.Errorf("create %s: %s is not shown deployed", c.name, e)
			}
		}
		if c.deployed == nil && page.Doc.Find("#configurations .deployment .badge.ok").Length() != 0 {
			t.Errorf("create %s: saved without deploying, but shown deployed", c.name)
		}
		// Secret and private material is never shown again.
		for _, path := range []string{p.Location(), p.Location() + "/edit", "/projects/payments/keys", "/environments/production", "/audit"} {
			body := admin.Get(path, false).Body
			for _, s := range c.secret {
				if strings.Contains(body, s) {
					t.Errorf("create %s: GET %s shows material %q", c.name, path, s)
				}
			}
		}
	}
	// The file's name and the alias are kept.
	p := admin.Get("/projects/payments/keys/rsa-file", false)
	if row := p.Doc.Find("#env-production").Text(); !strings.Contains(row, "signer.pem") || !strings.Contains(row, "signer") || !strings.Contains(row, "2048 bits") {
		t.Errorf("rsa-file production row %q", strings.Join(strings.Fields(row), " "))
	}
	p = admin.Get("/projects/payments/keys/rsa-applied-file", false)
	if row := p.Doc.Find("#env-staging").Text(); !strings.Contains(row, "applied.pem") || !strings.Contains(row, "File") ||
		p.Doc.Find("#fp-staging").Text() != kwFingerprint(t, "PRIVATE_KEY", []byte(k0.pem)) {
		t.Errorf("rsa-applied-file staging row %q", strings.Join(strings.Fields(row), " "))
	}
	if row := p.Doc.Find("#env-production").Text(); !strings.Contains(row, "Pasted") || p.Doc.Find("#fp-production").Text() != kwFingerprint(t, "PRIVATE_KEY", []byte(k1.pem)) {
		t.Errorf("rsa-applied-file production row %q", strings.Join(strings.Fields(row), " "))
	}
}

// TestKeyCreateBadInput: each rejected final post answers 422 with the
// wizard again: the service's message beside the field its path names (a
// row's message in that row of the Configuration table), the typed values
// and every row kept, an accepted upload carried on so it need not be
// chosen again; nothing is created or deployed. The save checks what the
// preview checked (it never trusts it) and what only a whole key shows,
// such as an environment configured twice.
func TestKeyCreateBadInput(t *testing.T) {
	env, admin := kwSite(t)
	k0 := kwRSAKey(t, 0)
	kwCreate(t, env, "payments", "taken", "SECRET_KEY", "AES", false, map[string][]byte{"production": bytes.Repeat([]byte{9}, 16)})
	big := append([]byte(k0.pem), bytes.Repeat([]byte("\n"), 64<<10)...)
	upload := func(f url.Values, b64 string) url.Values {
		f.Set("configs[0].upload", b64)
		f.Set("configs[0].file_name", "k.pem")
		return f
	}
	for _, c := range []struct {
		what  string
		form  url.Values
		files []kwFile
		sel   string // the error's element
		want  string
	}{
		{"content not a key", kwForm("new-key", "PRIVATE_KEY", "RSA", "deploy", [4]string{"production", "CLIPBOARD", "hello, world", "a"}), nil,
			"#config-0 .field-error", "is not an RSA or EC private key"},
		{"empty content", kwForm("new-key", "PRIVATE_KEY", "RSA", "save", [4]string{"production", "CLIPBOARD", "  ", "a"}), nil,
			"#config-0 .field-error", "is empty."},
		{"no file", kwForm("new-key", "PRIVATE_KEY", "RSA", "save", [4]string{"production", "FILE", "", "a"}), nil,
			"#config-0 .field-error", "is empty."},
		{"bad base64 in an applied file", upload(kwForm("new-key", "PRIVATE_KEY", "RSA", "save", [4]string{"production", "FILE", "", "a"}), "*not base64*"), nil,
			"#config-0 .field-error", "could not be read"},
		{"bad PEM in an applied file", upload(kwForm("new-key", "PRIVATE_KEY", "RSA", "save", [4]string{"production", "FILE", "", "a"}),
			base64.StdEncoding.EncodeToString([]byte("-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n"))), nil,
			"#config-0 .field-error", "holds no valid PEM block"},
		{"secret key of a wrong size", kwForm("new-key", "SECRET_KEY", "AES", "save", [4]string{"production", "CLIPBOARD", hex.EncodeToString(make([]byte, 20)), "a"}), nil,
			"#config-0 .field-error", "is 20 bytes"},
		{"RSA key as a secret key", kwForm("new-key", "SECRET_KEY", "", "save", [4]string{"production", "CLIPBOARD", k0.pem, "a"}), nil,
			"#config-0 .field-error", "is PEM text, but a secret key is raw key bytes"},
		{"duplicate name", kwForm("taken", "PRIVATE_KEY", "RSA", "save", [4]string{"production", "FILE", "", "a"}),
			[]kwFile{{"configs[0].file", "signer.pem", []byte(k0.pem)}}, `label:has(input[name="name"]) .field-error`, `A key named "taken" already exists`},
		{"bad name", kwForm("has space", "PRIVATE_KEY", "RSA", "save", [4]string{"production", "CLIPBOARD", k0.pem, "a"}), nil,
			`label:has(input[name="name"]) .field-error`, ""},
		{"unknown environment", kwForm("new-key", "PRIVATE_KEY", "RSA", "save", [4]string{"nowhere", "CLIPBOARD", k0.pem, "a"}), nil,
			"#config-0 .field-error", `"nowhere" does not exist.`},
		{"environment missing", kwForm("new-key", "PRIVATE_KEY", "RSA", "save", [4]string{"", "CLIPBOARD", k0.pem, "a"}), nil,
			"#config-0 .field-error", "is required."},
		{"same environment twice", kwForm("new-key", "PRIVATE_KEY", "RSA", "deploy",
			[4]string{"production", "CLIPBOARD", k0.pem, "a"}, [4]string{"production", "CLIPBOARD", k0.pem, "b"}), nil,
			"#config-1 .field-error", `"production" is configured twice`},
		{"wrong file extension", kwForm("new-key", "PRIVATE_KEY", "RSA", "save", [4]string{"production", "FILE", "", "a"}),
			[]kwFile{{"configs[0].file", "key.txt", []byte(k0.pem)}}, "#config-0 .field-error", `"key.txt" is not accepted`},
		{"oversized upload", kwForm("new-key", "PRIVATE_KEY", "RSA", "save", [4]string{"production", "FILE", "", "a"}),
			[]kwFile{{"configs[0].file", "big.pem", big}}, "#config-0 .field-error", "the limit is 64 KiB"},
		{"unknown type", kwForm("new-key", "SYMMETRIC", "", "save", [4]string{"production", "CLIPBOARD", k0.pem, "a"}), nil,
			`label:has(select[name="keyType"]) .field-error`, `"SYMMETRIC" is not a key type`},
		{"algorithm not of the type", kwForm("new-key", "SECRET_KEY", "RSA", "save", [4]string{"production", "CLIPBOARD", hex.EncodeToString(make([]byte, 16)), "a"}), nil,
			`#algorithm-field .field-error`, `"RSA" is not valid for a SECRET_KEY`},
		{"no configuration", kwForm("new-key", "PRIVATE_KEY", "RSA", "save"), nil,
			`#step-configuration .form-error`, "at least one environment"},
	} {
		for _, htmx := range []bool{false, true} {
			before := testenv.TakeSnapshot(t, env)
			admin.Get("/projects/payments/keys/new", false)
			p := kwSubmit(t, env, admin, "/projects/payments/keys", c.form, c.files, htmx)
			if p.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s (htmx %v): status %d, want 422: %s", c.what, htmx, p.Status, p.Doc.Find("main").Text())
				continue
			}
			checkFragment(t, c.what, p, !htmx)
			if p.Doc.Find("form#key-form").Length() != 1 || p.Doc.Find("dialog#key-config-dialog").Length() != 1 {
				t.Errorf("%s: the wizard is not shown again", c.what)
			}
			msg := p.Doc.Find(c.sel)
			if msg.Length() != 1 || !strings.Contains(msg.Text(), c.want) {
				t.Errorf("%s (htmx %v): %s = %q, want %q; form message %q", c.what, htmx, c.sel, msg.Text(), c.want, p.Doc.Find(".form-error").Text())
			}
			if p.Doc.Find(".field-error, .form-error").Length() != 1 {
				t.Errorf("%s: %d messages, want one: %q", c.what, p.Doc.Find(".field-error, .form-error").Length(), texts(p.Doc, ".field-error, .form-error"))
			}
			row := strings.HasPrefix(c.sel, "#config-")
			if row && p.Doc.Find(strings.Fields(c.sel)[0]+".has-error").Length() != 1 {
				t.Errorf("%s: the row is not marked", c.what)
			}
			if !row && !strings.Contains(c.sel, "form-error") && p.Doc.Find(`[aria-invalid="true"]`).Length() != 1 {
				t.Errorf("%s: no field is marked aria-invalid", c.what)
			}
			// The typed values and every row are kept.
			if got := p.Doc.Find(`input[name="name"]`).AttrOr("value", ""); got != c.form.Get("name") {
				t.Errorf("%s: name kept as %q", c.what, got)
			}
			if got := p.Doc.Find(`textarea[name="description"]`).Text(); got != c.form.Get("description") {
				t.Errorf("%s: description kept as %q", c.what, got)
			}
			for _, f := range []string{"environment", "alias", "source"} {
				name := "configs[0]." + f
				if v, ok := c.form[name]; ok && p.Doc.Find(fmt.Sprintf(`#config-0 input[type=hidden][name=%q]`, name)).AttrOr("value", "?") != v[0] {
					t.Errorf("%s: %s is not kept", c.what, name)
				}
			}
			posted := 0
			for k := range c.form {
				if strings.HasSuffix(k, ".environment") {
					posted++
				}
			}
			if rows := p.Doc.Find("#config-rows tr.config-row").Length(); rows != posted {
				t.Errorf("%s: %d rows shown again, want %d", c.what, rows, posted)
			}
			// An accepted upload comes back in the row; a refused one does not.
			carried := p.Doc.Find(`#config-0 input[type=hidden][name="configs[0].upload"]`).AttrOr("value", "")
			if len(c.files) > 0 && c.what == "duplicate name" {
				if carried != base64.StdEncoding.EncodeToString([]byte(k0.pem)) || p.Doc.Find(`#config-0 input[name="configs[0].file_name"]`).AttrOr("value", "") != "signer.pem" {
					t.Errorf("%s: the accepted upload is not carried (%d bytes)", c.what, len(carried))
				}
			} else if len(c.files) > 0 && (carried != "" || !strings.Contains(p.Doc.Find("#config-0").Text(), c.files[0].name)) {
				t.Errorf("%s: a refused upload is carried, or its name not shown", c.what)
			}
			if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
				t.Fatalf("%s: the rejected post changed data: %s", c.what, d)
			}
		}
	}
	// Rows keep their indexes when one was removed before posting; the
	// rows that pass show what the preview says of them.
	gap := kwForm("new-key", "PRIVATE_KEY", "RSA", "save", [4]string{"production", "CLIPBOARD", k0.pem, "a"})
	gap.Set("configs[3].environment", "production")
	gap.Set("configs[3].source", "CLIPBOARD")
	gap.Set("configs[3].content", k0.pem)
	p := kwSubmit(t, env, admin, "/projects/payments/keys", gap, nil, false)
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Doc.Find("#config-3 .field-error").Text(), `"production" is configured twice`) ||
		strings.Join(texts(p.Doc, "#config-rows tr td:first-child strong"), ",") != "production,production" {
		t.Errorf("rows 0 and 3: status %d, row 3 error %q", p.Status, p.Doc.Find("#config-3 .field-error").Text())
	}
	if fp := kwFingerprint(t, "PRIVATE_KEY", []byte(k0.pem)); p.Doc.Find("#config-0 code.fingerprint").Text() != fp || p.Doc.Find("#config-0 .badge.state-new").Length() != 1 {
		t.Errorf("row 0 after a rejected post: fingerprint %q", p.Doc.Find("#config-0 code.fingerprint").Text())
	}

	// Pasted text comes back in the row, so the user can edit it.
	p = kwSubmit(t, env, admin, "/projects/payments/keys", kwForm("new-key", "PRIVATE_KEY", "RSA", "save",
		[4]string{"production", "CLIPBOARD", k0.pem, "a"}, [4]string{"staging", "CLIPBOARD", "x", "b"}), nil, false)
	if got := p.Doc.Find(`input[type=hidden][name="configs[1].content"]`).AttrOr("value", ""); got != "x" ||
		p.Doc.Find(`input[type=hidden][name="configs[1].source"][value=CLIPBOARD]`).Length() != 1 || p.Doc.Find(`#config-1 [data-row-edit="config-1"]`).Length() != 1 {
		t.Errorf("row 1 after a rejected post: content %q", got)
	}
}

// TestKeyPermissionsInTheWizard: without SECRETS:DEPLOY_UNDEPLOY there is
// no "Save and Deploy" and posting action=deploy is refused with nothing
// written; with only SECRETS:VIEW there is nothing to change at all.
func TestKeyPermissionsInTheWizard(t *testing.T) {
	env, _ := kwSite(t)
	env.CreateUser("carol", false)
	env.Grant("payments", "bob", access.SecretsView, access.SecretsManage)
	env.Grant("payments", "carol", access.SecretsView)
	k0 := kwRSAKey(t, 0)
	kwCreate(t, env, "payments", "existing", "PRIVATE_KEY", "RSA", true, map[string][]byte{"production": []byte(k0.pem)})

	bob := env.Browser()
	bob.Login("bob")
	p := bob.Get("/projects/payments/keys/new", false)
	if p.Status != http.StatusOK {
		t.Fatalf("bob GET new: %d", p.Status)
	}
	if p.Doc.Find("#key-save-deploy").Length() != 0 || p.Doc.Find("#key-save").Length() != 1 {
		t.Errorf("bob (no DEPLOY_UNDEPLOY) is offered Save and Deploy")
	}
	if !strings.Contains(p.Doc.Find("#step-save").Text(), "Deploying needs the SECRETS:DEPLOY_UNDEPLOY permission.") {
		t.Errorf("the wizard does not say why deploying is missing")
	}
	before := testenv.TakeSnapshot(t, env)
	for _, htmx := range []bool{false, true} {
		p = kwSubmit(t, env, bob, "/projects/payments/keys", kwForm("bobs-key", "PRIVATE_KEY", "RSA", "deploy", [4]string{"production", "CLIPBOARD", k0.pem, ""}), nil, htmx)
		if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "SECRETS:DEPLOY_UNDEPLOY") {
			t.Errorf("bob posts deploy (htmx %v): status %d %s", htmx, p.Status, p.Doc.Find("main").Text())
		}
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Fatalf("refused deploy changed data: %s", d)
	}
	page := bob.Get("/projects/payments/keys/existing", false)
	if page.Doc.Find("#key-edit").Length() != 1 || page.Doc.Find("#key-delete-open").Length() != 0 ||
		page.Doc.Find(`form[action$="/deploy"], form[action$="/undeploy"]`).Length() != 0 {
		t.Errorf("bob's key page: edit %d, delete %d, deploy forms %d", page.Doc.Find("#key-edit").Length(),
			page.Doc.Find("#key-delete-open").Length(), page.Doc.Find(`form[action$="deploy"]`).Length())
	}
	for _, path := range []string{"/projects/payments/keys/existing/environments/production/undeploy", "/projects/payments/keys/existing/delete"} {
		if p := bob.Post(path, url.Values{"confirm_name": {"existing"}}, false); p.Status != http.StatusForbidden {
			t.Errorf("bob POST %s: status %d", path, p.Status)
		}
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Fatalf("refused undeploy/delete changed data: %s", d)
	}
	// Save alone works for bob.
	rev := kwRevision(t, env, "production")
	bob.Get("/projects/payments/keys/new", false)
	p = kwSubmit(t, env, bob, "/projects/payments/keys", kwForm("bobs-key", "PRIVATE_KEY", "RSA", "save", [4]string{"production", "CLIPBOARD", k0.pem, ""}), nil, false)
	if p.Status != http.StatusSeeOther || p.Location() != "/projects/payments/keys/bobs-key" || kwRevision(t, env, "production") != rev {
		t.Errorf("bob saves: status %d location %q", p.Status, p.Location())
	}

	carol := env.Browser()
	carol.Login("carol")
	list := carol.Get("/projects/payments/keys", false)
	if list.Status != http.StatusOK || list.Doc.Find("#key-create").Length() != 0 || len(texts(list.Doc, "#keys tbody tr")) != 2 {
		t.Errorf("carol's key list: status %d, create %d", list.Status, list.Doc.Find("#key-create").Length())
	}
	page = carol.Get("/projects/payments/keys/existing", false)
	if page.Status != http.StatusOK || page.Doc.Find("#key-edit, #key-delete-open, dialog, form[action$=deploy]").Length() != 0 {
		t.Errorf("carol's key page offers changes: %d", page.Doc.Find("#key-edit, #key-delete-open, dialog").Length())
	}
	if strings.Contains(page.Doc.Find("#related-jwks").Text(), "Create a JWK") {
		t.Errorf("carol is offered to create a JWK")
	}
	for _, path := range []string{"/projects/payments/keys/new", "/projects/payments/keys/existing/edit"} {
		for _, htmx := range []bool{false, true} {
			if p := carol.Get(path, htmx); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "SECRETS:MANAGE") {
				t.Errorf("carol GET %s (htmx %v): status %d", path, htmx, p.Status)
			}
		}
	}
	before = testenv.TakeSnapshot(t, env)
	p = kwSubmit(t, env, carol, "/projects/payments/keys", kwForm("carols-key", "PRIVATE_KEY", "RSA", "save", [4]string{"production", "CLIPBOARD", k0.pem, ""}), nil, false)
	if p.Status != http.StatusForbidden {
		t.Errorf("carol creates: status %d", p.Status)
	}
	p = kwSubmit(t, env, carol, "/projects/payments/keys/existing", url.Values{"description": {"changed"}, "configs[0].environment": {"production"}}, nil, false)
	if p.Status != http.StatusForbidden {
		t.Errorf("carol updates: status %d", p.Status)
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Fatalf("carol's refused posts changed data: %s", d)
	}
	// A stranger without any permission in the project sees nothing.
	env.CreateUser("dave", false)
	dave := env.Browser()
	dave.Login("dave")
	if p := dave.Get("/projects/payments/keys/existing", false); p.Status != http.StatusForbidden && p.Status != http.StatusNotFound {
		t.Errorf("dave GET key: status %d", p.Status)
	}
}

// TestKeyDetailsPage: definition, configurations with fingerprint and
// deployment state, per-environment deploy buttons, related JWKs and the
// key's own audit history.
func TestKeyDetailsPage(t *testing.T) {
	env, admin := kwSite(t)
	k0 := kwRSAKey(t, 0)
	kwCreate(t, env, "payments", "signer", "PRIVATE_KEY", "RSA", false, map[string][]byte{"production": []byte(k0.pem), "staging": []byte(k0.pem)})
	if _, err := env.App.Secrets.DeployKey(context.Background(), env.Principal("root"), "payments", "signer", "production", false); err != nil {
		t.Fatal(err)
	}
	kwCreateJWK(t, env, "signer-jwk", "signer", "production")
	kwCreate(t, env, "payments", "other", "SECRET_KEY", "AES", false, map[string][]byte{"production": make([]byte, 16)})
	d, err := env.App.Secrets.GetKey(context.Background(), env.Principal("root"), "payments", "signer")
	if err != nil {
		t.Fatal(err)
	}
	fp := d.Environments[0].Fingerprint

	for _, htmx := range []bool{false, true} {
		p := admin.Get("/projects/payments/keys/signer", htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("key page: %d", p.Status)
		}
		checkSecurityHeaders(t, "key page", p.Header)
		checkFragment(t, "key page", p, !htmx)
		if p.Doc.Find("h1").Text() != "signer" || !strings.Contains(p.Doc.Find("hgroup p").Text(), "Key signer") {
			t.Errorf("heading %q / %q", p.Doc.Find("h1").Text(), p.Doc.Find("hgroup p").Text())
		}
		if got := texts(p.Doc, "#key-summary .badge"); strings.Join(got, ",") != "PRIVATE_KEY,RSA" {
			t.Errorf("type and algorithm badges %q", got)
		}
		prod, staging := p.Doc.Find("#env-production"), p.Doc.Find("#env-staging")
		if prod.Find("#fp-production").Text() != fp || prod.Find(`button[data-copy="fp-production"]`).Length() != 1 {
			t.Errorf("production fingerprint %q, want %q with a copy button", prod.Find("#fp-production").Text(), fp)
		}
		if !strings.Contains(prod.Text(), "2048 bits") || !strings.Contains(prod.Text(), "signer-production") {
			t.Errorf("production row %q", strings.Join(strings.Fields(prod.Text()), " "))
		}
		if prod.Find(".deployment .badge.ok").Text() != fmt.Sprintf("deployed r%d", 1) ||
			prod.Find(`form[action="/projects/payments/keys/signer/environments/production/undeploy"]`).Length() != 1 ||
			prod.Find(`form[action$="/deploy"]`).Length() != 0 {
			t.Errorf("production deployment cell %q", strings.Join(strings.Fields(prod.Find(".deployment").Text()), " "))
		}
		if !strings.Contains(staging.Find(".deployment").Text(), "not deployed") ||
			staging.Find(`form[action="/projects/payments/keys/signer/environments/staging/deploy"] input[name=_csrf]`).Length() != 1 ||
			staging.Find(`form[action$="/undeploy"]`).Length() != 0 {
			t.Errorf("staging deployment cell %q", strings.Join(strings.Fields(staging.Find(".deployment").Text()), " "))
		}
		if p.Doc.Find(`#related-jwks a[href="/projects/payments/jwks/signer-jwk"]`).Text() != "signer-jwk" {
			t.Errorf("related JWKs %q", p.Doc.Find("#related-jwks").Text())
		}
		hist := strings.Join(texts(p.Doc, "#history tbody tr td:nth-child(3)"), ",")
		if !strings.Contains(hist, "key.create") || !strings.Contains(hist, "key.deploy") || strings.Contains(p.Doc.Find("#history").Text(), "other") {
			t.Errorf("history actions %q", hist)
		}
		if p.Doc.Find("#key-edit[href='/projects/payments/keys/signer/edit']").Length() != 1 || p.Doc.Find("#key-delete-open[data-dialog-open=key-delete]").Length() != 1 {
			t.Errorf("no Edit or Delete")
		}
		for _, s := range k0.secretParts() {
			if strings.Contains(p.Body, s) {
				t.Fatalf("the key page shows private material")
			}
		}
	}
	other := admin.Get("/projects/payments/keys/other", false)
	if !strings.Contains(other.Doc.Find("#related-jwks").Text(), "No JWK is made from this key.") ||
		other.Doc.Find(`#related-jwks a[href="/projects/payments/jwks/new?source=other"]`).Length() != 1 {
		t.Errorf("a key without JWKs: %q", other.Doc.Find("#related-jwks").Text())
	}
	if p := admin.Get("/projects/payments/keys/missing", false); p.Status != http.StatusNotFound || !strings.Contains(p.Body, `Key &#34;missing&#34; does not exist`) {
		t.Errorf("missing key: status %d", p.Status)
	}
}

// TestKeyDeployAndUndeployButtons: the per-environment buttons deploy and
// undeploy one environment; the revision grows each time.
func TestKeyDeployAndUndeployButtons(t *testing.T) {
	env, admin := kwSite(t)
	kwCreate(t, env, "payments", "mac", "SECRET_KEY", "AES", false, map[string][]byte{"production": make([]byte, 32), "staging": make([]byte, 32)})
	admin.Get("/projects/payments/keys/mac", false)
	for i, c := range []struct {
		action, env string
		htmx        bool
		flash       string
	}{
		{"deploy", "production", false, "Key mac deployed to production."},
		{"deploy", "production", true, "Key mac deployed to production."}, // again: a new revision
		{"undeploy", "production", false, "Key mac undeployed from production."},
		{"deploy", "staging", true, "Key mac deployed to staging."},
	} {
		before := kwRevision(t, env, c.env)
		p := admin.Post("/projects/payments/keys/mac/environments/"+c.env+"/"+c.action, nil, c.htmx)
		if p.Location() != "/projects/payments/keys/mac" {
			t.Fatalf("step %d %s %s: status %d location %q", i, c.action, c.env, p.Status, p.Location())
		}
		if got := kwRevision(t, env, c.env); got != before+1 {
			t.Errorf("step %d %s %s: revision %d → %d", i, c.action, c.env, before, got)
		}
		page := admin.Get(p.Location(), false)
		if !strings.Contains(page.Doc.Find(".flash-success").Text(), c.flash) {
			t.Errorf("step %d: flash %q, want %q", i, page.Doc.Find(".flash-success").Text(), c.flash)
		}
		deployed := page.Doc.Find("#env-" + c.env + " .deployment .badge.ok").Text()
		if (c.action == "deploy") != (deployed == fmt.Sprintf("deployed r%d", before+1)) {
			t.Errorf("step %d: %s shows %q", i, c.env, deployed)
		}
	}
	// Undeploying what is not deployed says so and changes nothing.
	before := testenv.TakeSnapshot(t, env)
	p := admin.Post("/projects/payments/keys/mac/environments/production/undeploy", nil, false)
	if p.Status != http.StatusSeeOther || !strings.Contains(admin.Get(p.Location(), false).Doc.Find(".flash-error").Text(), `is not deployed to environment "production"`) {
		t.Errorf("undeploy twice: status %d", p.Status)
	}
	p = admin.Post("/projects/payments/keys/mac/environments/nowhere/deploy", nil, false)
	if msg := admin.Get(p.Location(), false).Doc.Find(".flash-error").Text(); !strings.Contains(msg, "nowhere") {
		t.Errorf("deploy to an unknown environment: status %d flash %q", p.Status, msg)
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Fatalf("refused deploys changed data: %s", d)
	}
	// The history shows each deploy and undeploy, and the refusals with the
	// environment they were about.
	var hist []string
	admin.Get("/projects/payments/keys/mac", false).Doc.Find("#history tbody tr").Each(func(_ int, r *goquery.Selection) {
		hist = append(hist, r.Find("td").Eq(2).Text()+" "+r.Find("td").Eq(3).Text()+" "+r.Find("td").Eq(4).Text())
	})
	if got := strings.Join(hist, ","); got != "key.deploy nowhere denied,key.undeploy production denied,key.deploy staging success,"+
		"key.undeploy production success,key.deploy production success,key.deploy production success,key.create  success" {
		t.Errorf("history %q", got)
	}
}

// kwEditForm is the edit wizard's post: the key's current definition and
// one configuration per environment, with optional new content.
func kwEditForm(name, keyType, alg, action string, configs ...[4]string) url.Values {
	f := kwForm(name, keyType, alg, action, configs...)
	return f
}

// TestKeyEditPage: the edit wizard follows the creation steps with the
// current fingerprint and empty content; related JWKs add the JWK
// Connection dialog to "Save and Deploy".
func TestKeyEditPage(t *testing.T) {
	env, admin := kwSite(t)
	k0 := kwRSAKey(t, 0)
	kwCreate(t, env, "payments", "plain", "PRIVATE_KEY", "RSA", true, map[string][]byte{"production": []byte(k0.pem)})
	kwCreate(t, env, "payments", "signer", "PRIVATE_KEY", "RSA", true, map[string][]byte{"production": []byte(k0.pem), "staging": []byte(k0.pem)})
	kwCreateJWK(t, env, "signer-jwk", "signer", "production")
	d, _ := env.App.Secrets.GetKey(context.Background(), env.Principal("root"), "payments", "plain")

	for _, htmx := range []bool{false, true} {
		p := admin.Get("/projects/payments/keys/plain/edit", htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("edit page: %d", p.Status)
		}
		checkFragment(t, "edit page", p, !htmx)
		if steps := texts(p.Doc, "#key-form section.step h2"); len(steps) != 3 {
			t.Errorf("edit steps %q", steps)
		}
		if p.Doc.Find(`form#key-form[action="/projects/payments/keys/plain"][enctype="multipart/form-data"]`).Length() != 1 {
			t.Errorf("the edit form does not post to the key")
		}
		if p.Doc.Find(`input[name="name"][readonly][value="plain"]`).Length() != 1 || p.Doc.Find(`select[name="keyType"][disabled]`).Length() != 1 ||
			p.Doc.Find(`input[type=hidden][name="keyType"][value="PRIVATE_KEY"]`).Length() != 1 || p.Doc.Find(`input[type=hidden][name="algorithm"][value="RSA"]`).Length() != 1 {
			t.Errorf("name, type and algorithm are not fixed on the edit page")
		}
		// The current configurations are the table's rows: unchanged,
		// their environment locked, the material kept (no content posted).
		row := p.Doc.Find("#config-rows tr#config-0.config-row[data-row-locked]")
		if row.Find(`input[type=hidden][name="configs[0].environment"][value="production"]`).Length() != 1 ||
			row.Find(`input[type=hidden][name="configs[0].alias"]`).AttrOr("value", "") != "plain-production" ||
			row.Find(`input[type=hidden][name="configs[0].source"]`).AttrOr("value", "") != "FILE" {
			t.Errorf("row 0 does not hold production, its alias and a source")
		}
		if row.Find(`input[name="configs[0].content"], input[name="configs[0].upload"]`).Length() != 0 {
			t.Errorf("row 0 carries material")
		}
		cells := texts(&goquery.Document{Selection: row}, "td")
		if row.Find("code.fingerprint").Text() != d.Environments[0].Fingerprint || cells[4] != "unchanged" || cells[5] != "r1" || !strings.HasPrefix(cells[2], "plain-production") {
			t.Errorf("row 0 cells %q, want fingerprint %s, unchanged, r1", cells, d.Environments[0].Fingerprint)
		}
		// The dialog knows the key, so Apply compares with what is stored.
		if p.Doc.Find(`#key-config-fields input[name="key"][value="plain"]`).Length() != 1 || p.Doc.Find(`#key-config-fields input[name="index"][value="1"]`).Length() != 1 {
			t.Errorf("the dialog does not name the key being edited, or the next row")
		}
		if p.Doc.Find("#jwk-connection").Length() != 0 || p.Doc.Find("#key-save-deploy[data-dialog-open]").Length() != 0 {
			t.Errorf("a key without JWKs has the JWK Connection dialog")
		}
		for _, s := range k0.secretParts() {
			if strings.Contains(p.Body, s) {
				t.Fatalf("the edit page shows private material")
			}
		}

		p = admin.Get("/projects/payments/keys/signer/edit", htmx)
		dlg := p.Doc.Find("form#key-form dialog#jwk-connection")
		if dlg.Length() != 1 || p.Doc.Find(`#key-save-deploy[data-dialog-open="jwk-connection"]`).Length() != 1 {
			t.Fatalf("the signer's edit page has no JWK Connection dialog on Save and Deploy")
		}
		if dlg.Find("h3").Text() != "JWK Connection" || !strings.Contains(dlg.Text(), "This Key is used in 1 JWK(s). What would you like to do?") ||
			!strings.Contains(dlg.Text(), "signer-jwk") {
			t.Errorf("dialog text %q", strings.Join(strings.Fields(dlg.Text()), " "))
		}
		buttons := texts(&goquery.Document{Selection: dlg}, `[data-dialog-step="choose"] button`)
		if strings.Join(buttons, "|") != "Update related JWKs|Update key only and disconnect|Cancel" ||
			dlg.Find(`button[data-dialog-choice="UPDATE"]`).Length() != 1 || dlg.Find(`button[data-dialog-choice="NULLIFY"]`).Length() != 1 {
			t.Errorf("dialog buttons %q", buttons)
		}
		confirm := dlg.Find(`[data-dialog-step="confirm"][hidden]`)
		if confirm.Find(`input[name="confirm_name"][data-confirm-for="jwk-confirm"]`).Length() != 1 ||
			confirm.Find(`button#jwk-confirm[type=submit][name=action][value=deploy][data-confirm-name="signer"][disabled]`).Length() != 1 {
			t.Errorf("no typed-name confirmation step")
		}
		if p.Doc.Find(`form#key-form dialog input[type=hidden][name="jwk_action"][value=""][data-dialog-choice-field]`).Length() != 1 {
			t.Errorf("no jwk_action field for the choice in the form")
		}
		if len(texts(p.Doc, ".config-row")) != 2 {
			t.Errorf("signer rows: %d", p.Doc.Find(".config-row").Length())
		}
	}
	if p := admin.Get("/projects/payments/keys/missing/edit", false); p.Status != http.StatusNotFound {
		t.Errorf("edit a missing key: %d", p.Status)
	}
}

// TestKeyUpdateJWKConnection walks every branch of the JWK Connection
// dialog on "Save and Deploy".
func TestKeyUpdateJWKConnection(t *testing.T) {
	env, admin := kwSite(t)
	k0, k1, k2 := kwRSAKey(t, 0), kwRSAKey(t, 1), kwRSAKey(t, 2)
	kwCreate(t, env, "payments", "signer", "PRIVATE_KEY", "RSA", true, map[string][]byte{"production": []byte(k0.pem)})
	kwCreateJWK(t, env, "signer-jwk", "signer", "production")
	oldJWK, _ := kwJWK(t, env, "signer-jwk")
	oldKid := oldJWK.Environments[0].Kid
	if keys := kwJWKS(t, env, "production"); len(keys) != 1 || keys[0]["n"] != k0.modulus() || keys[0]["kid"] != oldKid {
		t.Fatalf("JWKS before the update: %v", keys)
	}
	newContent := kwEditForm("signer", "PRIVATE_KEY", "RSA", "deploy", [4]string{"production", "CLIPBOARD", k1.pem, "rotated"})
	with := func(extra ...string) url.Values {
		f := url.Values{}
		for k, v := range newContent {
			f[k] = v
		}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		return f
	}

	for _, c := range []struct {
		what string
		form url.Values
		want string
	}{
		{"no choice", with(), `This Key is used in 1 JWK(s): choose "Update related JWKs" or "Update key only and disconnect".`},
		{"unknown choice", with("jwk_action", "DELETE", "confirm_name", "signer"), "choose"},
		{"no name", with("jwk_action", "UPDATE"), "Type the key's name exactly to confirm."},
		{"wrong name", with("jwk_action", "UPDATE", "confirm_name", "Signer"), "Type the key's name exactly to confirm."},
		{"disconnect, wrong name", with("jwk_action", "NULLIFY", "confirm_name", "signer "), "Type the key's name exactly to confirm."},
	} {
		for _, htmx := range []bool{false, true} {
			before := testenv.TakeSnapshot(t, env)
			admin.Get("/projects/payments/keys/signer/edit", false)
			p := kwSubmit(t, env, admin, "/projects/payments/keys/signer", c.form, nil, htmx)
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("%s (htmx %v): status %d", c.what, htmx, p.Status)
			}
			checkFragment(t, c.what, p, !htmx)
			if msg := p.Doc.Find("#key-form-error").Text(); !strings.Contains(msg, c.want) {
				t.Errorf("%s: message %q, want %q", c.what, msg, c.want)
			}
			if p.Doc.Find("dialog#jwk-connection").Length() != 1 || p.Doc.Find(`input[name="name"][readonly][value="signer"]`).Length() != 1 {
				t.Errorf("%s: the edit wizard with its dialog is not shown again", c.what)
			}
			if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
				t.Fatalf("%s: the refused update changed data: %s", c.what, d)
			}
		}
	}
	if keys := kwJWKS(t, env, "production"); keys[0]["n"] != k0.modulus() {
		t.Fatalf("a refused update changed the JWKS")
	}

	// Update related JWKs: the JWK follows the new key into the JWKS.
	rev := kwRevision(t, env, "production")
	admin.Get("/projects/payments/keys/signer/edit", false)
	p := kwSubmit(t, env, admin, "/projects/payments/keys/signer", with("jwk_action", "UPDATE", "confirm_name", "signer"), nil, false)
	if p.Status != http.StatusSeeOther || p.Location() != "/projects/payments/keys/signer" {
		t.Fatalf("update with UPDATE: status %d %s", p.Status, p.Doc.Find("main").Text())
	}
	keys := kwJWKS(t, env, "production")
	if len(keys) != 1 || keys[0]["n"] != k1.modulus() || keys[0]["kid"] == oldKid {
		t.Fatalf("JWKS after Update related JWKs: %v (old kid %s)", keys, oldKid)
	}
	if got := kwRevision(t, env, "production"); got < rev+2 {
		t.Errorf("revision %d → %d: the key and the JWK are both redeployed", rev, got)
	}
	if j, _ := kwJWK(t, env, "signer-jwk"); !j.Connected {
		t.Errorf("the updated JWK lost its link")
	}
	page := admin.Get("/projects/payments/keys/signer", false)
	if !strings.Contains(page.Doc.Find("#env-production").Text(), "rotated") || page.Doc.Find("#env-production .badge.warn").Length() != 0 {
		t.Errorf("after the update, production row %q", strings.Join(strings.Fields(page.Doc.Find("#env-production").Text()), " "))
	}

	// Update key only and disconnect: the JWK keeps its kid and material.
	kwCreate(t, env, "payments", "second", "PRIVATE_KEY", "RSA", true, map[string][]byte{"staging": []byte(k0.pem)})
	kwCreateJWK(t, env, "second-jwk", "second", "staging")
	kept, _ := kwJWK(t, env, "second-jwk")
	admin.Get("/projects/payments/keys/second/edit", false)
	p = kwSubmit(t, env, admin, "/projects/payments/keys/second", with("name", "second", "configs[0].environment", "staging",
		"configs[0].content", k2.pem, "jwk_action", "NULLIFY", "confirm_name", "second"), nil, true)
	if p.Status != http.StatusNoContent || p.Location() != "/projects/payments/keys/second" {
		t.Fatalf("update with NULLIFY: status %d %s", p.Status, p.Doc.Find("main").Text())
	}
	after, ok := kwJWK(t, env, "second-jwk")
	if !ok || after.Connected || after.Environments[0].Kid != kept.Environments[0].Kid || after.Environments[0].PublicJSON != kept.Environments[0].PublicJSON {
		t.Errorf("after disconnect: connected %v, kid %q (was %q)", after.Connected, after.Environments[0].Kid, kept.Environments[0].Kid)
	}
	if keys := kwJWKS(t, env, "staging"); len(keys) != 1 || keys[0]["n"] != k0.modulus() || keys[0]["kid"] != kept.Environments[0].Kid {
		t.Errorf("staging JWKS after disconnect: %v", keys)
	}
	if page := admin.Get("/projects/payments/keys/second", false); !strings.Contains(page.Doc.Find("#related-jwks").Text(), "No JWK is made from this key.") {
		t.Errorf("the disconnected JWK is still listed: %q", page.Doc.Find("#related-jwks").Text())
	}
	if page := admin.Get("/projects/payments/keys/second/edit", false); page.Doc.Find("#jwk-connection").Length() != 0 {
		t.Errorf("the edit page still has the dialog after the JWK was disconnected")
	}
}

// TestKeyUpdateWithoutDeploy: "Save" needs no dialog; leaving the content
// empty keeps the material; a removed row withdraws that environment.
func TestKeyUpdateWithoutDeploy(t *testing.T) {
	env, admin := kwSite(t)
	k0, k1 := kwRSAKey(t, 0), kwRSAKey(t, 1)
	kwCreate(t, env, "payments", "signer", "PRIVATE_KEY", "RSA", true, map[string][]byte{"production": []byte(k0.pem), "staging": []byte(k0.pem)})
	kwCreateJWK(t, env, "signer-jwk", "signer", "production")
	d, _ := env.App.Secrets.GetKey(context.Background(), env.Principal("root"), "payments", "signer")
	oldFP := d.Environments[0].Fingerprint

	// Keep the material, change the alias and description. A choice left
	// behind by a cancelled dialog does not apply to a plain Save.
	form := kwEditForm("signer", "PRIVATE_KEY", "RSA", "save", [4]string{"production", "CLIPBOARD", "", "renamed"}, [4]string{"staging", "FILE", "", "s"})
	form.Set("description", "New description")
	form.Set("jwk_action", "NULLIFY")
	admin.Get("/projects/payments/keys/signer/edit", false)
	p := kwSubmit(t, env, admin, "/projects/payments/keys/signer", form, nil, false)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("save without content: status %d %s", p.Status, p.Doc.Find("main").Text())
	}
	page := admin.Get(p.Location(), false)
	if page.Doc.Find("#fp-production").Text() != oldFP || !strings.Contains(page.Doc.Find("#env-production").Text(), "renamed") ||
		!strings.Contains(page.Doc.Find("hgroup").Text(), "New description") {
		t.Errorf("after save: fingerprint %q alias row %q", page.Doc.Find("#fp-production").Text(), page.Doc.Find("#env-production").Text())
	}
	if !strings.Contains(page.Doc.Find(".flash-success").Text(), "Key signer saved.") {
		t.Errorf("flash %q", page.Doc.Find(".flash-success").Text())
	}
	if j, _ := kwJWK(t, env, "signer-jwk"); !j.Connected {
		t.Errorf("a plain Save disconnected the JWK")
	}

	// New material with Save: the key is changed but not redeployed; the
	// page says the deployed copy is out of date. No dialog is needed.
	rev := kwRevision(t, env, "production")
	form = kwEditForm("signer", "PRIVATE_KEY", "RSA", "save", [4]string{"production", "CLIPBOARD", k1.pem, "renamed"}, [4]string{"staging", "FILE", "", "s"})
	p = kwSubmit(t, env, admin, "/projects/payments/keys/signer", form, nil, true)
	if p.Status != http.StatusNoContent {
		t.Fatalf("save with new content: status %d %s", p.Status, p.Doc.Find("main").Text())
	}
	if kwRevision(t, env, "production") != rev {
		t.Errorf("Save deployed something")
	}
	page = admin.Get("/projects/payments/keys/signer", false)
	if page.Doc.Find("#fp-production").Text() == oldFP || !strings.Contains(page.Doc.Find("#env-production .deployment").Text(), "changed since deploy") ||
		page.Doc.Find(`#env-production form[action$="/production/deploy"]`).Length() != 1 {
		t.Errorf("after a Save with new material: %q", strings.Join(strings.Fields(page.Doc.Find("#env-production").Text()), " "))
	}
	if keys := kwJWKS(t, env, "production"); keys[0]["n"] != k0.modulus() {
		t.Errorf("Save changed the published JWKS")
	}

	// A wrong content on edit comes back beside its row, which stays the
	// environment's (locked, its deployment shown); the row whose material
	// is kept still shows the stored fingerprint.
	form = kwEditForm("signer", "PRIVATE_KEY", "RSA", "save", [4]string{"production", "CLIPBOARD", "garbage", "renamed"}, [4]string{"staging", "FILE", "", "s"})
	p = kwSubmit(t, env, admin, "/projects/payments/keys/signer", form, nil, false)
	staging := p.Doc.Find("#config-1")
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Doc.Find("#config-0 .field-error").Text(), "is not an RSA or EC private key") ||
		p.Doc.Find("#config-0[data-row-locked] .badge.ok").Text() != "r1" || staging.Find("code.fingerprint").Text() != d.Environments[1].Fingerprint ||
		staging.Find(".badge.state-unchanged").Length() != 1 {
		t.Errorf("bad content on edit: status %d, %q", p.Status, p.Doc.Find("#config-0 .field-error").Text())
	}

	// Removing the staging row undeploys and deletes that configuration.
	rev = kwRevision(t, env, "staging")
	form = kwEditForm("signer", "PRIVATE_KEY", "RSA", "save", [4]string{"production", "CLIPBOARD", "", "renamed"})
	p = kwSubmit(t, env, admin, "/projects/payments/keys/signer", form, nil, false)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("remove staging: status %d", p.Status)
	}
	if page := admin.Get("/projects/payments/keys/signer", false); page.Doc.Find("#env-staging").Length() != 0 || kwRevision(t, env, "staging") != rev+1 {
		t.Errorf("staging row still shown (%d) or revision %d → %d", page.Doc.Find("#env-staging").Length(), rev, kwRevision(t, env, "staging"))
	}
	// A new environment without content is refused beside its row.
	form = kwEditForm("signer", "PRIVATE_KEY", "RSA", "save", [4]string{"production", "CLIPBOARD", "", "renamed"}, [4]string{"staging", "CLIPBOARD", "", ""})
	p = kwSubmit(t, env, admin, "/projects/payments/keys/signer", form, nil, false)
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Doc.Find("#config-1 .field-error").Text(), "has no material in environment") {
		t.Errorf("new environment without content: status %d %q", p.Status, p.Doc.Find(".field-error").Text())
	}
	for _, s := range append(k0.secretParts(), k1.secretParts()...) {
		if strings.Contains(p.Body, s) {
			t.Fatalf("the re-rendered edit form shows private material")
		}
	}
}

// TestKeyDeleteDialog: the dialog's choices and typed name; Delete JWKS
// removes the JWKs, Delete Disconnect keeps them; the key is undeployed
// everywhere and the environments' history shows it.
func TestKeyDeleteDialog(t *testing.T) {
	env, admin := kwSite(t)
	k0, k1 := kwRSAKey(t, 0), kwRSAKey(t, 1)
	kwCreate(t, env, "payments", "plain", "SECRET_KEY", "AES", true, map[string][]byte{"production": make([]byte, 16)})
	kwCreate(t, env, "payments", "gone", "PRIVATE_KEY", "RSA", true, map[string][]byte{"production": []byte(k0.pem), "staging": []byte(k0.pem)})
	kwCreateJWK(t, env, "gone-jwk", "gone", "production", "staging")
	kwCreate(t, env, "payments", "kept", "PRIVATE_KEY", "RSA", true, map[string][]byte{"production": []byte(k1.pem)})
	kwCreateJWK(t, env, "kept-jwk", "kept", "production")

	for _, htmx := range []bool{false, true} {
		p := admin.Get("/projects/payments/keys/gone", htmx)
		dlg := p.Doc.Find("dialog#key-delete")
		form := dlg.Find(`form[method=post][action="/projects/payments/keys/gone/delete"]`)
		if form.Length() != 1 || form.Find("input[name=_csrf]").Length() != 1 {
			t.Fatalf("no delete form in the dialog")
		}
		if dlg.Find("h3").Text() != "JWK Connection" || !strings.Contains(dlg.Text(), "This Key is used in 1 JWK(s). What would you like to do?") {
			t.Errorf("delete dialog %q", strings.Join(strings.Fields(dlg.Text()), " "))
		}
		if got := texts(&goquery.Document{Selection: dlg}, `[data-dialog-step="choose"] button`); strings.Join(got, "|") != "Delete JWKS|Delete Disconnect|Cancel" {
			t.Errorf("delete choices %q", got)
		}
		if dlg.Find(`button[data-dialog-choice="DELETE"]`).Length() != 1 || dlg.Find(`button[data-dialog-choice="NULLIFY"]`).Length() != 1 {
			t.Errorf("the choices do not set jwk_action")
		}
		confirm := dlg.Find(`[data-dialog-step="confirm"][hidden]`)
		if confirm.Find(`input[name=confirm_name][data-confirm-for="key-delete-confirm"]`).Length() != 1 ||
			confirm.Find(`button#key-delete-confirm[type=submit][data-confirm-name="gone"][disabled]`).Text() != "Delete" {
			t.Errorf("no typed-name step ending in Delete")
		}
		// Without JWKs the dialog goes straight to the typed name.
		p = admin.Get("/projects/payments/keys/plain", htmx)
		dlg = p.Doc.Find("dialog#key-delete")
		if dlg.Find("[data-dialog-choice]").Length() != 0 || dlg.Find(`[data-dialog-step="confirm"]:not([hidden]) input[name=confirm_name]`).Length() != 1 {
			t.Errorf("a key without JWKs: dialog %q", strings.Join(strings.Fields(dlg.Text()), " "))
		}
		if dlg.Find("h3").Text() != "Delete key" || !dlg.Is(".confirm-dialog") ||
			dlg.Find(`form[action="/projects/payments/keys/plain/delete"] input[type=hidden][name=jwk_action][value=NULLIFY]`).Length() != 1 ||
			!strings.Contains(dlg.Text(), "Deleting undeploys the key from every environment. Type the key's name, plain, to confirm.") {
			t.Errorf("a key without JWKs: dialog %q", strings.Join(strings.Fields(dlg.Text()), " "))
		}
	}

	// A wrong or missing name changes nothing.
	for _, name := range []string{"", "Gone", "gone-jwk"} {
		before := testenv.TakeSnapshot(t, env)
		p := admin.Post("/projects/payments/keys/gone/delete", url.Values{"confirm_name": {name}, "jwk_action": {"DELETE"}}, false)
		if p.Status != http.StatusSeeOther || p.Location() != "/projects/payments/keys/gone" {
			t.Fatalf("delete with name %q: status %d location %q", name, p.Status, p.Location())
		}
		if msg := admin.Get(p.Location(), false).Doc.Find(".flash-error").Text(); !strings.Contains(msg, "Type the key's name exactly") {
			t.Errorf("delete with name %q: flash %q", name, msg)
		}
		if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
			t.Fatalf("delete with name %q changed data: %s", name, d)
		}
	}
	if p := admin.Post("/projects/payments/keys/gone/delete", url.Values{"confirm_name": {"gone"}, "jwk_action": {"KEEP"}}, false); p.Status != http.StatusBadRequest {
		t.Errorf("unknown jwk_action: status %d", p.Status)
	}

	// Delete JWKS: the key and its JWK go, from every environment.
	revs := map[string]int{"production": kwRevision(t, env, "production"), "staging": kwRevision(t, env, "staging")}
	p := admin.Post("/projects/payments/keys/gone/delete", url.Values{"confirm_name": {"gone"}, "jwk_action": {"DELETE"}}, true)
	if p.Status != http.StatusNoContent || p.Location() != "/projects/payments/keys" {
		t.Fatalf("delete gone: status %d location %q", p.Status, p.Location())
	}
	list := admin.Get(p.Location(), false)
	if msg := list.Doc.Find(".flash-success").Text(); !strings.Contains(msg, "Key gone deleted. Undeployed from 2 environment(s).") {
		t.Errorf("flash %q", msg)
	}
	if strings.Contains(list.Doc.Find("#keys").Text(), "gone") {
		t.Errorf("the deleted key is still listed")
	}
	if _, ok := kwJWK(t, env, "gone-jwk"); ok {
		t.Errorf("Delete JWKS kept the JWK")
	}
	for e, before := range revs {
		if got := kwRevision(t, env, e); got < before+2 {
			t.Errorf("%s revision %d → %d: key and JWK are undeployed", e, before, got)
		}
		hist := admin.Get("/environments/"+e, false).Doc.Find("#history").Text()
		if !strings.Contains(strings.Join(strings.Fields(hist), " "), "root undeploy key gone (payments) ok") {
			t.Errorf("%s history does not show the key's undeploy: %q", e, strings.Join(strings.Fields(hist), " "))
		}
	}
	if keys := kwJWKS(t, env, "staging"); len(keys) != 0 {
		t.Errorf("staging JWKS after Delete JWKS: %v", keys)
	}
	if p := admin.Get("/projects/payments/keys/gone", false); p.Status != http.StatusNotFound {
		t.Errorf("the deleted key's page: %d", p.Status)
	}

	// Delete Disconnect: the JWK survives, disconnected, still published.
	p = admin.Post("/projects/payments/keys/kept/delete", url.Values{"confirm_name": {"kept"}, "jwk_action": {"NULLIFY"}}, false)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("delete kept: status %d", p.Status)
	}
	j, ok := kwJWK(t, env, "kept-jwk")
	if !ok || j.Connected {
		t.Fatalf("Delete Disconnect: JWK exists %v, connected %v", ok, j.Connected)
	}
	keys := kwJWKS(t, env, "production")
	if len(keys) != 1 || keys[0]["n"] != k1.modulus() || keys[0]["kid"] != j.Environments[0].Kid {
		t.Errorf("production JWKS after Delete Disconnect: %v", keys)
	}
	if n := count(t, env, "SELECT COUNT(*) FROM key_configs WHERE deployed_revision IS NOT NULL"); n != 1 {
		t.Errorf("%d deployed key configurations remain, want plain's only", n)
	}
}
