package handlers_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/hsm"
	"github.com/keyward/keyward/internal/signing"
	"github.com/keyward/keyward/internal/testenv"
)

// The web console's signing keys pages (seed 004): the Key List, Create
// Key, Key Details with publishing and Delete Key with the token's user
// PIN, and the admin's token page. The server runs the built-in software
// token (no HSM configured).

const swPIN = "2468-pin"

// signingCKA is the CKA_ID of the project payments' key with label.
func signingCKA(t *testing.T, env *testenv.Env, label string) string {
	t.Helper()
	var cka string
	if err := env.App.DB.Read.QueryRow("SELECT cka_id FROM signing_keys WHERE label = ? ORDER BY id LIMIT 1", label).Scan(&cka); err != nil {
		t.Fatalf("CKA_ID of %s: %v", label, err)
	}
	return cka
}

// swCreate generates a key in payments through the service, as root.
func swCreate(t *testing.T, env *testenv.Env, label, algorithm string) signing.Key {
	t.Helper()
	k, err := env.App.Signing.CreateKey(context.Background(), env.Principal("root"), "payments",
		signing.CreateInput{Label: label, Algorithm: algorithm, KeyLength: 2048, GenerationType: signing.GenerateAuto})
	if err != nil {
		t.Fatalf("create signing key %s: %v", label, err)
	}
	return k
}

// swSetPIN sets the software token's user PIN, as root.
func swSetPIN(t *testing.T, env *testenv.Env) {
	t.Helper()
	if err := env.App.Signing.SetSoftPIN(context.Background(), env.Principal("root"), swPIN); err != nil {
		t.Fatalf("set the PIN: %v", err)
	}
}

// swForm is Create Key's fields.
func swForm(label, algorithm, generation, keyLength, curve, privatePEM string) url.Values {
	return url.Values{"label": {label}, "algorithm": {algorithm}, "generationType": {generation}, "keyLength": {keyLength},
		"curve": {curve}, "privateKeyPem": {privatePEM}}
}

// swECKey is a fresh P-256 key as PKCS#8 PEM, and its public key as PKIX PEM.
func swECKey(t *testing.T) (private, public string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
}

// pemBody is the base64 lines of a PEM, what would betray it in a page.
func pemBody(p string) []string {
	var out []string
	for _, line := range strings.Split(p, "\n") {
		if len(line) > 20 && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
		}
	}
	return out
}

// TestSigningKeyList: the token named at the top, the empty state, the
// columns, keys sharing a label marked and told apart by CKA_ID, search by
// label or CKA_ID, paging that keeps the search, 404 for a hidden project.
func TestSigningKeyList(t *testing.T) {
	env, admin := newSite(t)
	for _, htmx := range []bool{false, true} {
		p := admin.Get("/projects/payments/signing-keys", htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("GET list (htmx %v): status %d", htmx, p.Status)
		}
		checkSecurityHeaders(t, "signing key list", p.Header)
		checkFragment(t, "signing key list", p, !htmx)
		if got := p.Doc.Find("#signing-backend-name").Text(); got != hsm.BackendSoft {
			t.Errorf("backend named %q", got)
		}
		if p.Doc.Find(`#no-pin-note a#set-pin-link[href="/admin/hsm"]`).Length() != 1 {
			t.Errorf("the admin is not pointed to setting the PIN: %q", p.Doc.Find("#signing-backend").Text())
		}
		if got := p.Doc.Find("#no-signing-keys").Text(); !strings.Contains(got, "This project has no signing keys yet. Use Create Key to make one.") {
			t.Errorf("empty list says %q", got)
		}
		if p.Doc.Find(`a#signing-key-create[href="/projects/payments/signing-keys/new"]`).Text() != "Create Key" {
			t.Errorf("no Create Key")
		}
	}
	a, b := swCreate(t, env, "RSA_2048", "RSA"), swCreate(t, env, "shared", "ECDSA")
	c := swCreate(t, env, "shared", "ECDSA")
	for i := range 27 {
		swCreate(t, env, fmt.Sprintf("bulk-%02d", i), "ECDSA")
	}
	p := admin.Get("/projects/payments/signing-keys?search=shared", false)
	if got := texts(p.Doc, "#signing-keys thead th"); strings.Join(got, "|") != "Label|Algorithm|CKA_ID|Created Date|Published in" {
		t.Errorf("columns %q", got)
	}
	for _, k := range []signing.Key{b, c} {
		row := p.Doc.Find("#signing-key-" + k.CkaID)
		if row.Find(`a[href="/projects/payments/signing-keys/`+k.CkaID+`"]`).Text() != "shared" || row.Find("code.cka-id").Text() != k.CkaID ||
			row.Find(".badge.warn").Text() != "shared label" || !strings.Contains(row.Text(), "ECDSA (ECC)") ||
			!strings.Contains(row.Text(), "2026-11-23 09:00:00 UTC") {
			t.Errorf("row of %s: %q", k.CkaID, strings.Join(strings.Fields(row.Text()), " "))
		}
	}
	if p.Doc.Find("#signing-keys tbody tr").Length() != 2 || !strings.Contains(p.Doc.Find("#shared-label-note").Text(), "told apart by CKA_ID") {
		t.Errorf("search shared: %d rows, note %q", p.Doc.Find("#signing-keys tbody tr").Length(), p.Doc.Find("#shared-label-note").Text())
	}
	// Search by part of a CKA_ID; a unique label is not marked.
	p = admin.Get("/projects/payments/signing-keys?search="+a.CkaID[:10], true)
	if row := p.Doc.Find("#signing-key-" + a.CkaID); row.Length() != 1 || row.Find(".badge.warn").Length() != 0 || !strings.Contains(row.Text(), "RSA 2048 bits") {
		t.Errorf("search by CKA_ID: %q", strings.Join(strings.Fields(p.Doc.Find("#signing-key-results").Text()), " "))
	}
	if p.Doc.Find("#shared-label-note").Length() != 0 {
		t.Errorf("the note shows without shared labels")
	}
	// 30 keys, 25 a page.
	p = admin.Get("/projects/payments/signing-keys", false)
	if n := p.Doc.Find("#signing-keys tbody tr").Length(); n != 25 || !strings.Contains(p.Doc.Find(".pager").Text(), "30 key(s) · page 1 of 2") {
		t.Errorf("page 1: %d rows, pager %q", n, p.Doc.Find(".pager").Text())
	}
	p = admin.Get("/projects/payments/signing-keys?search=bulk&page=2", false)
	if n := p.Doc.Find("#signing-keys tbody tr").Length(); n != 2 || p.Doc.Find(`.pager a[href="?search=bulk&page=1"]`).Length() != 1 {
		t.Errorf("page 2 of bulk: %d rows, pager %q", n, p.Body[strings.Index(p.Body, `class="pager"`):][:300])
	}
	p = admin.Get("/projects/payments/signing-keys?search=nothing-like-this", false)
	if got := p.Doc.Find("#no-signing-keys").Text(); got != "No key's label or CKA_ID contains “nothing-like-this”." {
		t.Errorf("no match says %q", got)
	}
	if p := admin.Get("/projects/payments/signing-keys?page=0", false); p.Status != http.StatusBadRequest {
		t.Errorf("page 0: status %d", p.Status)
	}
	// A project bob is not a member of does not exist for him.
	bob := env.Browser()
	bob.Login("bob")
	for _, path := range []string{"/projects/payments/signing-keys", "/projects/payments/signing-keys/new", "/projects/payments/signing-keys/" + a.CkaID,
		"/projects/payments/signing-keys/label-check?label=x", "/projects/nope/signing-keys"} {
		if p := bob.Get(path, false); p.Status != http.StatusNotFound {
			t.Errorf("bob GET %s: status %d, want 404", path, p.Status)
		}
	}
}

// TestSigningKeyCreate: the form's choices as the seed names them, an RSA
// key generated and an EC key imported (303 to its page, or HX-Redirect),
// the label hint that warns about a label in use, and the flash saying so.
func TestSigningKeyCreate(t *testing.T) {
	env, admin := newSite(t)
	for _, htmx := range []bool{false, true} {
		p := admin.Get("/projects/payments/signing-keys/new", htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("GET new (htmx %v): %d", htmx, p.Status)
		}
		checkFragment(t, "create key", p, !htmx)
		f := p.Doc.Find("form#signing-key-form[method=post][action='/projects/payments/signing-keys']")
		if f.Find("input[name=_csrf]").Length() != 1 {
			t.Fatalf("no form with CSRF")
		}
		if got := texts(p.Doc, "#algorithm-field label.choice strong"); strings.Join(got, "|") != "RSA|ECDSA (ECC)" ||
			f.Find("input[name=algorithm][value=RSA][checked]").Length() != 1 {
			t.Errorf("algorithms %q", got)
		}
		if got := texts(p.Doc, "#generation-field label.choice > span > strong"); strings.Join(got, "|") != "Auto Generation (Random)|Manual Generation (Import)" ||
			f.Find("input[name=generationType][value=AUTO][checked]").Length() != 1 || !strings.Contains(p.Doc.Find("#generation-field").Text(), "Only private keys can be imported.") {
			t.Errorf("generation types %q", got)
		}
		if got := texts(p.Doc, "select[name=keyLength] option"); strings.Join(got, "|") != "2048|4096" || p.Doc.Find("#keyLength-field.rsa-only").Length() != 1 {
			t.Errorf("key lengths %q", got)
		}
		if got := p.Doc.Find("select[name=curve] option[value=P-256]").Text(); got != "Prime256v1 (P-256)" || p.Doc.Find("#curve-field.ec-only").Length() != 1 {
			t.Errorf("curve %q", got)
		}
		if p.Doc.Find("#privateKeyPem-field.import-only textarea[name=privateKeyPem]").Length() != 1 {
			t.Errorf("no PEM textarea for an import")
		}
		if in := f.Find("input[name=label]"); in.AttrOr("hx-get", "") != "/projects/payments/signing-keys/label-check" || in.AttrOr("hx-target", "") != "#label-hint" ||
			!strings.Contains(p.Doc.Find("#label-hint").Text(), "A unique label is recommended.") {
			t.Errorf("the label has no hint checked as it is typed")
		}
	}

	// RSA, generated in the token.
	p := admin.Post("/projects/payments/signing-keys", swForm("RSA_2048", "RSA", "AUTO", "2048", "P-256", "ignored"), false)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("create RSA: status %d %s", p.Status, p.Doc.Find("main").Text())
	}
	cka := signingCKA(t, env, "RSA_2048")
	if p.Location() != "/projects/payments/signing-keys/"+cka {
		t.Errorf("create RSA went to %q", p.Location())
	}
	page := admin.Get(p.Location(), false)
	if got := page.Doc.Find(".flash-success").Text(); got != "Signing key RSA_2048 created with CKA_ID "+cka+"." {
		t.Errorf("flash %q", got)
	}
	if page.Doc.Find("#generation").Length() == 0 || !strings.HasPrefix(page.Doc.Find("#generation").Text(), "Auto Generation (Random)") || page.Doc.Find("#key-size").Text() != "2048" {
		t.Errorf("the new key: %q / %q", page.Doc.Find("#generation").Text(), page.Doc.Find("#key-size").Text())
	}

	// EC, imported from PEM, with htmx; the label is in use already.
	swCreate(t, env, "ec-import", "ECDSA")
	hint := admin.Get("/projects/payments/signing-keys/label-check?label=ec-import", true)
	if got := hint.Doc.Find("#label-hint.label-taken").Text(); !strings.Contains(got, "1 key(s) in this project already have the label “ec-import”") {
		t.Errorf("label hint %q", got)
	}
	if got := admin.Get("/projects/payments/signing-keys/label-check?label=ec-imp", true).Doc.Find("#label-hint"); got.HasClass("label-taken") {
		t.Errorf("a label that is only part of one is warned about: %q", got.Text())
	}
	private, _ := swECKey(t)
	p = admin.Post("/projects/payments/signing-keys", swForm("ec-import", "ECDSA", "IMPORT", "2048", "P-256", private), true)
	if p.Status != http.StatusNoContent || !strings.HasPrefix(p.Location(), "/projects/payments/signing-keys/") {
		t.Fatalf("import EC (htmx): status %d location %q %s", p.Status, p.Location(), p.Doc.Find("main").Text())
	}
	page = admin.Get(p.Location(), false)
	if got := page.Doc.Find(".flash-success").Text(); !strings.Contains(got, "1 other key(s) have the label ec-import too: they are told apart by CKA_ID.") {
		t.Errorf("flash after a repeated label %q", got)
	}
	if !strings.HasPrefix(page.Doc.Find("#generation").Text(), "Manual Generation (Import)") || page.Doc.Find("#key-size").Text() != "Prime256v1 (P-256)" ||
		page.Doc.Find("#shared-label").Length() != 1 {
		t.Errorf("the imported key: %q / %q", page.Doc.Find("#generation").Text(), page.Doc.Find("#key-size").Text())
	}
	for _, line := range pemBody(private) {
		if strings.Contains(page.Body, line) {
			t.Fatal("the key page shows the imported private key")
		}
	}
}

// TestSigningKeyCreateBadInput: each refusal answers the form again (422,
// full page or fragment) with the message beside its field, keeps what was
// chosen, never sends a pasted private key back, and changes nothing.
func TestSigningKeyCreateBadInput(t *testing.T) {
	env, admin := newSite(t)
	_, public := swECKey(t)
	rsa := kwRSAKey(t, 0)
	encrypted := string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte("not really encrypted, but marked so")}))
	cases := []struct {
		name, field, want string
		form              url.Values
	}{
		{"RSA 1024", "keyLength", "An RSA key is 2048 or 4096 bits, not 1024.", swForm("weak", "RSA", "AUTO", "1024", "", "")},
		{"no length", "keyLength", "Choose the key length: 2048 or 4096 bits.", swForm("weak", "RSA", "AUTO", "", "", "")},
		{"unknown curve", "curve", `Curve "P-384" is not supported: use P-256 (prime256v1).`, swForm("ec", "ECDSA", "AUTO", "", "P-384", "")},
		{"empty label", "label", "The label is required.", swForm("  ", "ECDSA", "AUTO", "", "P-256", "")},
		{"long label", "label", "The label must be at most 200 characters.", swForm(strings.Repeat("x", 201), "ECDSA", "AUTO", "", "P-256", "")},
		{"unknown algorithm", "algorithm", `Algorithm "DSA" is not one of RSA or ECDSA.`, swForm("dsa", "DSA", "AUTO", "", "", "")},
		{"unknown generation", "generationType", `generationType "COPY" is not one of AUTO or IMPORT.`, swForm("copy", "ECDSA", "COPY", "", "P-256", "")},
		{"import nothing", "privateKeyPem", "Paste the private key in PEM form to import it.", swForm("imp", "ECDSA", "IMPORT", "", "P-256", "")},
		{"import a public key", "privateKeyPem", "This is a public key; only private keys can be imported.", swForm("imp", "ECDSA", "IMPORT", "", "P-256", public)},
		{"import encrypted", "privateKeyPem", "The private key is encrypted; decrypt it first", swForm("imp", "ECDSA", "IMPORT", "", "P-256", encrypted)},
		{"import garbage", "privateKeyPem", "", swForm("imp", "ECDSA", "IMPORT", "", "P-256", "this is not a PEM at all")},
		{"import RSA as EC", "privateKeyPem", "", swForm("imp", "ECDSA", "IMPORT", "", "P-256", rsa.pem)},
		{"import RSA of another length", "privateKeyPem", "This RSA key is 2048 bits, but the key length chosen is 4096.", swForm("imp", "RSA", "IMPORT", "4096", "", rsa.pem)},
	}
	before := testenv.TakeSnapshot(t, env)
	for _, c := range cases {
		for _, htmx := range []bool{false, true} {
			what := fmt.Sprintf("%s (htmx %v)", c.name, htmx)
			p := admin.Post("/projects/payments/signing-keys", c.form, htmx)
			if p.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s: status %d, want 422: %s", what, p.Status, p.Doc.Find("main").Text())
				continue
			}
			checkFragment(t, what, p, !htmx)
			msg := p.Doc.Find("#" + c.field + "-error.field-error").Text()
			if msg == "" || !strings.Contains(msg, c.want) {
				t.Errorf("%s: beside %s %q, want %q (form message %q)", what, c.field, msg, c.want, p.Doc.Find("#signing-key-form-error").Text())
			}
			if n := p.Doc.Find(".field-error").Length(); n != 1 {
				t.Errorf("%s: %d field errors", what, n)
			}
			if got := p.Doc.Find("input[name=label]").AttrOr("value", ""); got != c.form.Get("label") {
				t.Errorf("%s: label kept as %q", what, got)
			}
			if alg := c.form.Get("algorithm"); alg == "RSA" || alg == "ECDSA" {
				if p.Doc.Find("input[name=algorithm][value="+alg+"][checked]").Length() != 1 {
					t.Errorf("%s: the algorithm chosen is not kept", what)
				}
			}
			if p.Doc.Find("#label-hint").Length() != 1 {
				t.Errorf("%s: the label hint (htmx's target) is gone", what)
			}
			for _, line := range pemBody(rsa.pem) {
				if strings.Contains(p.Body, line) {
					t.Fatalf("%s: the answer carries the pasted private key", what)
				}
			}
		}
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Fatalf("refused creates changed data: %s", d)
	}
}

// TestSigningKeyDetails: the private key's information, the public key as
// PEM and JWK with copy buttons, the environments to publish in and the
// sign call; viewers see no action; unknown keys are 404.
func TestSigningKeyDetails(t *testing.T) {
	env, admin := newSite(t)
	k := swCreate(t, env, "RSA_2048", "RSA")
	path := "/projects/payments/signing-keys/" + k.CkaID
	for _, htmx := range []bool{false, true} {
		p := admin.Get(path, htmx)
		if p.Status != http.StatusOK {
			t.Fatalf("GET key (htmx %v): %d", htmx, p.Status)
		}
		checkFragment(t, "key details", p, !htmx)
		want := []string{"Label", "Type", "Algorithm", "CKA_ID", "Length (bits)", "Created Date", "Key Generation Type", "Stored in"}
		if got := texts(p.Doc, "#private-key table th"); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("details rows %q", got)
		}
		var rows []string
		p.Doc.Find("#private-key table tr").Each(func(_ int, r *goquery.Selection) {
			rows = append(rows, strings.Join(strings.Fields(r.Find("th").Text()+" "+r.Find("td").Text()), " "))
		})
		body := strings.Join(rows, "|")
		for _, s := range []string{"Label RSA_2048", "Type Private key", "Algorithm RSA", "CKA_ID " + k.CkaID, "Length (bits) 2048",
			"Created Date 2026-11-23 09:00:00 UTC by root", "Auto Generation (Random)", "Stored in " + hsm.BackendSoft} {
			if !strings.Contains(body, s) {
				t.Errorf("details lack %q: %q", s, body)
			}
		}
		pemText := p.Doc.Find("pre#public-key-pem").Text()
		block, _ := pem.Decode([]byte(pemText))
		if !strings.HasPrefix(pemText, "-----BEGIN PUBLIC KEY-----") || block == nil {
			t.Fatalf("public PEM %q", pemText)
		}
		if _, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil || string(block.Bytes) != string(k.PublicDer) {
			t.Errorf("the PEM is not the key's public key: %v", err)
		}
		for _, id := range []string{"public-key-pem", "public-jwk", "signing-kid", "cka-id", "sign-example", "jwks-url-production"} {
			if p.Doc.Find(`button[data-copy="`+id+`"]`).Length() != 1 || p.Doc.Find("#"+id).Length() != 1 {
				t.Errorf("no copy button for #%s", id)
			}
		}
		if p.Doc.Find("#signing-kid").Text() != k.Kid || !strings.Contains(p.Doc.Find("#public-jwk").Text(), `"kid": "`+k.Kid+`"`) ||
			!strings.Contains(p.Doc.Find("#public-jwk").Text(), `"alg": "RS256"`) {
			t.Errorf("JWK %q kid %q", p.Doc.Find("#public-jwk").Text(), p.Doc.Find("#signing-kid").Text())
		}
		if p.Doc.Find(`#publish-production form[action="`+path+`/environments/production/publish"] button`).Text() != "Publish" ||
			p.Doc.Find("#publish-production .state").Text() != "not published" {
			t.Errorf("production row %q", p.Doc.Find("#publish-production").Text())
		}
		if ex := p.Doc.Find("#sign-example").Text(); !strings.Contains(ex, "/apiops/projects/payments/signingKeys/"+k.CkaID+"/sign") || !strings.Contains(ex, `"alg": "RS256"`) {
			t.Errorf("sign example %q", ex)
		}
		if p.Doc.Find("#no-signing-uses").Length() != 1 {
			t.Errorf("the admin does not see that no signature is recorded")
		}
		if p.Doc.Find("button#signing-key-delete-open[data-dialog-open=signing-key-delete]").Text() != "Delete Key" {
			t.Errorf("no Delete Key")
		}
	}
	// A viewer sees the key, no action.
	env.Grant("payments", "bob", access.SigningKeysView)
	bob := env.Browser()
	bob.Login("bob")
	p := bob.Get(path, false)
	if p.Status != http.StatusOK || p.Doc.Find("#signing-key-delete-open, dialog#signing-key-delete, #signing-key-envs form").Length() != 0 {
		t.Errorf("viewer: status %d, actions %d", p.Status, p.Doc.Find("#signing-key-delete-open, #signing-key-envs form").Length())
	}
	if !strings.Contains(p.Doc.Find("#publication").Text(), "Publishing needs SIGNING_KEYS:MANAGE and SIGNING_KEYS:DEPLOY_UNDEPLOY.") ||
		p.Doc.Find("#signing-uses, #no-signing-uses").Length() != 0 {
		t.Errorf("viewer's publication %q", p.Doc.Find("#publication").Text())
	}
	if p := bob.Get("/projects/payments/signing-keys", false); p.Doc.Find("#signing-key-create").Length() != 0 || !strings.Contains(p.Doc.Find("#no-pin-note").Text(), "An administrator must set") {
		t.Errorf("viewer's list offers Create Key, or no PIN note")
	}
	if p := admin.Get("/projects/payments/signing-keys/00ff00ff00ff00ff00ff00ff00ff00ff", false); p.Status != http.StatusNotFound {
		t.Errorf("unknown CKA_ID: status %d", p.Status)
	}
	// The project page has the area's card.
	if p := bob.Get("/projects/payments", false); p.Doc.Find(`#area-signing-keys a[href="/projects/payments/signing-keys"]`).Length() != 1 ||
		p.Doc.Find("#area-keys").Length() != 0 {
		t.Errorf("bob's project page: signing card %d, keys card %d", p.Doc.Find("#area-signing-keys").Length(), p.Doc.Find("#area-keys").Length())
	}
}

// TestSigningKeyPublish: Publish puts the kid in the environment's JWKS,
// Unpublish takes it out; a second Unpublish is flashed; without
// DEPLOY_UNDEPLOY it is 403 and changes nothing.
func TestSigningKeyPublish(t *testing.T) {
	env, admin := newSite(t)
	k := swCreate(t, env, "ec", "ECDSA")
	path := "/projects/payments/signing-keys/" + k.CkaID
	p := admin.Post(path+"/environments/production/publish", nil, false)
	if p.Status != http.StatusSeeOther || p.Location() != path {
		t.Fatalf("publish: status %d location %q", p.Status, p.Location())
	}
	page := admin.Get(path, false)
	if got := page.Doc.Find(".flash-success").Text(); !strings.Contains(got, "Signing key ec (CKA_ID "+k.CkaID+") published in the JWKS of production. Deployed to 1 environment(s).") {
		t.Errorf("flash %q", got)
	}
	if page.Doc.Find("#publish-production .state").Text() != "published" || page.Doc.Find(`#publish-production form[action$="/unpublish"]`).Length() != 1 {
		t.Errorf("production row after publish %q", page.Doc.Find("#publish-production").Text())
	}
	if keys := kwJWKS(t, env, "production"); len(keys) != 1 || keys[0]["kid"] != k.Kid || keys[0]["alg"] != "ES256" {
		t.Fatalf("JWKS after publish: %v", keys)
	}
	if got := admin.Get("/projects/payments/signing-keys", false).Doc.Find("#signing-key-" + k.CkaID + " .badge.ok").Text(); got != "production" {
		t.Errorf("list's published column %q", got)
	}

	env.Grant("payments", "bob", access.SigningKeysView, access.SigningKeysManage)
	bob := env.Browser()
	bob.Login("bob")
	before := testenv.TakeSnapshot(t, env)
	for _, htmx := range []bool{false, true} {
		if p := bob.Post(path+"/environments/production/unpublish", nil, htmx); p.Status != http.StatusForbidden {
			t.Errorf("bob unpublish (htmx %v): status %d", htmx, p.Status)
		}
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Fatalf("refused unpublish changed data: %s", d)
	}

	p = admin.Post(path+"/environments/production/unpublish", nil, true)
	if p.Status != http.StatusNoContent || p.Location() != path {
		t.Fatalf("unpublish: status %d location %q", p.Status, p.Location())
	}
	if got := admin.Get(path, false).Doc.Find(".flash-success").Text(); !strings.Contains(got, "taken out of the JWKS of production. Undeployed from 1 environment(s).") {
		t.Errorf("flash %q", got)
	}
	if keys := kwJWKS(t, env, "production"); len(keys) != 0 {
		t.Fatalf("JWKS after unpublish: %v", keys)
	}
	p = admin.Post(path+"/environments/production/unpublish", nil, false)
	if got := admin.Get(p.Location(), false).Doc.Find(".flash-error").Text(); !strings.Contains(got, "is not published in environment \"production\"") {
		t.Errorf("second unpublish: status %d flash %q", p.Status, got)
	}
	if p := admin.Post(path+"/environments/nowhere/publish", nil, false); p.Status != http.StatusNotFound {
		t.Errorf("publish to a missing environment: status %d", p.Status)
	}
}

// TestSigningKeyDelete: the dialog lists what relies on the key and asks
// for the user PIN; an empty or wrong PIN answers the page again with the
// dialog open and the message beside the PIN (422), the key kept; five
// wrong PINs lock deleting (429, said in the dialog); the right PIN after
// the lock deletes the key and takes it out of the JWKS. Viewers,
// managers without DEPLOY_UNDEPLOY and strangers are refused.
func TestSigningKeyDelete(t *testing.T) {
	env, admin := newSite(t)
	swSetPIN(t, env)
	k := swCreate(t, env, "doomed", "ECDSA")
	path := "/projects/payments/signing-keys/" + k.CkaID
	if _, err := env.App.Signing.Publish(context.Background(), env.Principal("root"), "payments", k.CkaID, "production", false); err != nil {
		t.Fatal(err)
	}
	for _, htmx := range []bool{false, true} {
		p := admin.Get(path, htmx)
		dlg := p.Doc.Find("dialog#signing-key-delete.confirm-dialog")
		if dlg.Find(`form[method=post][action="`+path+`/delete"] input[name=_csrf]`).Length() != 1 {
			t.Fatalf("no delete form in the dialog")
		}
		if dlg.Is("[data-dialog-autoopen]") || dlg.Find(".field-error, .form-error").Length() != 0 {
			t.Errorf("the dialog opens by itself, or shows an error, before any attempt")
		}
		affected := strings.Join(texts(p.Doc, "#signing-key-delete-affected li"), "|")
		if !strings.Contains(affected, "The JWKS of production: verifiers there stop accepting tokens signed with kid "+k.Kid) ||
			!strings.Contains(affected, "No signature with it is recorded in the audit log.") {
			t.Errorf("what relies on it: %q", affected)
		}
		if !strings.Contains(dlg.Find("p.warning").Text(), "stops at once") {
			t.Errorf("no warning: %q", dlg.Find("p.warning").Text())
		}
		if dlg.Find(`input[type=password][name=pin][data-confirm-for="signing-key-delete-confirm"]`).Length() != 1 ||
			dlg.Find("input[name=confirm_name]").Length() != 0 ||
			dlg.Find("button#signing-key-delete-confirm[type=submit][disabled]:not([data-confirm-name])").Text() != "Delete Key" {
			t.Errorf("the dialog does not ask for the PIN: %q", strings.Join(strings.Fields(dlg.Text()), " "))
		}
	}

	// Refused attempts change nothing but the audit log and the counter.
	env.CreateUser("carol", false)
	env.Grant("payments", "bob", access.SigningKeysView, access.SigningKeysManage)
	env.Grant("payments", "carol", access.SigningKeysView)
	for _, u := range []string{"bob", "carol"} {
		b := env.Browser()
		b.Login(u)
		if p := b.Post(path+"/delete", url.Values{"pin": {swPIN}}, false); p.Status != http.StatusForbidden {
			t.Errorf("%s deletes: status %d", u, p.Status)
		}
	}
	stranger := env.Browser()
	env.CreateUser("dave", false)
	stranger.Login("dave")
	if p := stranger.Post(path+"/delete", url.Values{"pin": {swPIN}}, false); p.Status != http.StatusNotFound {
		t.Errorf("a stranger deletes: status %d", p.Status)
	}
	for i, pin := range []string{"", "wrong-1", "wrong-2", "wrong-3", "wrong-4", "wrong-5"} {
		htmx := i%2 == 1
		p := admin.Post(path+"/delete", url.Values{"pin": {pin}}, htmx)
		want := "The user PIN is wrong."
		if pin == "" {
			want = "Type the token's user PIN to delete the key."
		}
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("PIN %q: status %d %s", pin, p.Status, p.Doc.Find("main").Text())
		}
		checkFragment(t, "wrong PIN", p, !htmx)
		dlg := p.Doc.Find("dialog#signing-key-delete[data-dialog-autoopen]")
		if pin != "" {
			want += fmt.Sprintf(" %d attempt(s) left before deleting keys locks for 15 minutes.", 5-i)
			if i == 5 {
				want = "The user PIN is wrong. Deleting keys is now locked for 15 minutes."
			}
		}
		if got := dlg.Find("label:has(input[name=pin]) small.field-error").Text(); got != want {
			t.Errorf("PIN %q: beside the PIN %q, want %q", pin, got, want)
		}
		if v := dlg.Find("input[name=pin]").AttrOr("value", ""); v != "" || dlg.Find("input[name=pin]").AttrOr("aria-invalid", "") != "true" {
			t.Errorf("PIN %q: the PIN field is filled (%q) or not marked invalid", pin, v)
		}
		if p.Doc.Find("pre#public-key-pem").Length() != 1 {
			t.Errorf("PIN %q: the key page is not shown again", pin)
		}
	}
	if _, err := env.App.Signing.GetKey(context.Background(), env.Principal("root"), "payments", k.CkaID); err != nil {
		t.Fatalf("a wrong PIN deleted the key: %v", err)
	}
	if keys := kwJWKS(t, env, "production"); len(keys) != 1 {
		t.Fatalf("a wrong PIN changed the JWKS: %v", keys)
	}
	// The fifth wrong PIN (an empty one does not count) locked deleting:
	// even the right one is refused.
	p := admin.Post(path+"/delete", url.Values{"pin": {swPIN}}, false)
	if p.Status != http.StatusTooManyRequests || !strings.Contains(p.Doc.Find("dialog#signing-key-delete[data-dialog-autoopen] #signing-key-delete-error").Text(), "Too many wrong PINs") {
		t.Fatalf("locked: status %d, dialog %q", p.Status, strings.Join(strings.Fields(p.Doc.Find("dialog#signing-key-delete").Text()), " "))
	}
	if p.Doc.Find("label:has(input[name=pin]) .field-error").Length() != 0 {
		t.Errorf("the lock is shown as a PIN error")
	}
	env.Clock.Advance(16 * time.Minute)
	p = admin.Post(path+"/delete", url.Values{"pin": {swPIN}}, false)
	if p.Status != http.StatusSeeOther || p.Location() != "/projects/payments/signing-keys" {
		t.Fatalf("delete with the right PIN: status %d %s", p.Status, p.Doc.Find("main").Text())
	}
	list := admin.Get(p.Location(), false)
	if got := list.Doc.Find(".flash-success").Text(); !strings.Contains(got, "Signing key doomed (CKA_ID "+k.CkaID+") deleted from the token. Undeployed from 1 environment(s).") {
		t.Errorf("flash %q", got)
	}
	if list.Doc.Find("#signing-key-"+k.CkaID).Length() != 0 || list.Doc.Find("#no-signing-keys").Length() != 1 {
		t.Errorf("the deleted key is still listed")
	}
	if keys := kwJWKS(t, env, "production"); len(keys) != 0 {
		t.Errorf("JWKS after delete: %v", keys)
	}
	if p := admin.Get(path, false); p.Status != http.StatusNotFound {
		t.Errorf("the deleted key's page: status %d", p.Status)
	}
}

// TestSoftTokenPINPage: the admin's token page sets the software token's
// PIN once, with the message beside the field for a mismatch or a short
// PIN; a second time is refused; non-admins get 403.
func TestSoftTokenPINPage(t *testing.T) {
	env, admin := newSite(t)
	for _, htmx := range []bool{false, true} {
		p := admin.Get("/admin/hsm", htmx)
		if p.Status != http.StatusOK || !strings.Contains(p.Doc.Find("#token-info").Text(), hsm.BackendSoft) ||
			p.Doc.Find(`form#soft-pin-form[action="/admin/hsm/pin"] input[type=password][name=pin]`).Length() != 1 ||
			p.Doc.Find("#pin-state .badge").Text() != "not set" {
			t.Fatalf("token page (htmx %v): status %d %q", htmx, p.Status, strings.Join(strings.Fields(p.Doc.Find("main").Text()), " "))
		}
	}
	bob := env.Browser()
	bob.Login("bob")
	if p := bob.Get("/admin/hsm", false); p.Status != http.StatusForbidden {
		t.Errorf("bob GET /admin/hsm: status %d", p.Status)
	}
	before := testenv.TakeSnapshot(t, env)
	if p := bob.Post("/admin/hsm/pin", url.Values{"pin": {swPIN}, "pin2": {swPIN}}, false); p.Status != http.StatusForbidden {
		t.Errorf("bob sets the PIN: status %d", p.Status)
	}
	for _, c := range []struct{ pin, pin2, field, want string }{
		{swPIN, swPIN + "x", "pin2", "The two PINs are not the same."},
		{"12", "12", "pin", "The user PIN must be 4 to 128 characters."},
	} {
		p := admin.Post("/admin/hsm/pin", url.Values{"pin": {c.pin}, "pin2": {c.pin2}}, true)
		if p.Status != http.StatusUnprocessableEntity || p.Doc.Find("#"+c.field+"-error").Text() != c.want {
			t.Errorf("PIN %q/%q: status %d, beside %s %q", c.pin, c.pin2, p.Status, c.field, p.Doc.Find("#"+c.field+"-error").Text())
		}
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Fatalf("refused PINs changed data: %s", d)
	}
	p := admin.Post("/admin/hsm/pin", url.Values{"pin": {swPIN}, "pin2": {swPIN}}, false)
	if p.Status != http.StatusSeeOther || p.Location() != "/admin/hsm" {
		t.Fatalf("set the PIN: status %d %s", p.Status, p.Doc.Find("main").Text())
	}
	page := admin.Get("/admin/hsm", false)
	if !strings.Contains(page.Doc.Find(".flash-success").Text(), "user PIN is set") || page.Doc.Find("#pin-is-set").Length() != 1 ||
		page.Doc.Find("#soft-pin-form").Length() != 0 || page.Doc.Find("#pin-state .badge").Text() != "set" {
		t.Errorf("after setting: %q", strings.Join(strings.Fields(page.Doc.Find("main").Text()), " "))
	}
	if admin.Get("/projects/payments/signing-keys", false).Doc.Find("#no-pin-note").Length() != 0 {
		t.Errorf("the key list still says no PIN is set")
	}
	p = admin.Post("/admin/hsm/pin", url.Values{"pin": {"another"}, "pin2": {"another"}}, false)
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Doc.Find("#pin-form-error").Text(), "already set") {
		t.Errorf("second PIN: status %d %q", p.Status, p.Doc.Find("#pin-form-error").Text())
	}
}

// TestSigningKeyCreateRefusedToViewers: a viewer gets 403 on Create Key
// and its post, and nothing changes.
func TestSigningKeyCreateRefusedToViewers(t *testing.T) {
	env, _ := newSite(t)
	env.Grant("payments", "bob", access.SigningKeysView)
	bob := env.Browser()
	bob.Login("bob")
	before := testenv.TakeSnapshot(t, env)
	for _, htmx := range []bool{false, true} {
		if p := bob.Get("/projects/payments/signing-keys/new", htmx); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "SIGNING_KEYS:MANAGE") {
			t.Errorf("viewer GET new (htmx %v): status %d", htmx, p.Status)
		}
		if p := bob.Post("/projects/payments/signing-keys", swForm("bobs", "ECDSA", "AUTO", "", "P-256", ""), htmx); p.Status != http.StatusForbidden {
			t.Errorf("viewer creates (htmx %v): status %d", htmx, p.Status)
		}
	}
	if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
		t.Fatalf("refused create changed data: %s", d)
	}
}
