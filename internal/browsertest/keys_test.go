package browsertest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	keysProject = "payments-gateway"
	keysEnv     = "production"
	keyName     = "token-signer"
	jwkName     = "token-signer-jwk"
)

// TestKeyLifecycleInBrowser follows seed 000 in a real browser: a key
// created through the wizard with "Save and Deploy", a JWK made from it and
// published in the environment's JWKS, the key edited with "Update related
// JWKs" (the JWKS shows the new key), then deleted with "Delete
// Disconnect" (the JWK survives in the JWKS). Screenshots at each step.
func TestKeyLifecycleInBrowser(t *testing.T) {
	srv := StartServer(t)
	b := NewBrowser(t, srv.URL)
	setUpFirstAdmin(t, b, srv.SetupURL)
	signIn(t, b)
	first, second := newRSAKey(t), newRSAKey(t)

	keysCreateEnvironment(t, b)
	keysCreateProject(t, b)
	keysCreateThroughWizard(t, b, first)
	kid := keysCreateJWK(t, b)
	if got := fetchJWKS(t, srv.URL); len(got) != 1 || got[0]["kid"] != kid || got[0]["n"] != first.modulus() {
		t.Fatalf("JWKS after creating the JWK: %v, want kid %s with the first key", got, kid)
	}
	keysEditWithUpdate(t, b, second)
	afterUpdate := fetchJWKS(t, srv.URL)
	if len(afterUpdate) != 1 || afterUpdate[0]["n"] != second.modulus() {
		t.Fatalf("JWKS after Update related JWKs: %v, want the second key's modulus", afterUpdate)
	}
	if afterUpdate[0]["kid"] == kid {
		t.Errorf("the kid (the RFC 7638 thumbprint by default) did not follow the new key")
	}
	keysDeleteDisconnect(t, b)
	afterDelete := fetchJWKS(t, srv.URL)
	if len(afterDelete) != 1 || afterDelete[0]["kid"] != afterUpdate[0]["kid"] || afterDelete[0]["n"] != second.modulus() {
		t.Fatalf("JWKS after Delete Disconnect: %v, want the JWK to survive unchanged", afterDelete)
	}
	// The JWK's page says it is disconnected.
	b.Navigate("/projects/" + keysProject + "/jwks/" + jwkName)
	b.WaitText("#jwk-source", "disconnected")
	assertPage(t, b, "disconnected JWK")
}

// rsaKey is a key the test pastes, with its PEM text.
type rsaKey struct {
	key *rsa.PrivateKey
	pem string
}

func newRSAKey(t *testing.T) rsaKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return rsaKey{key: k, pem: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}
}

func (k rsaKey) modulus() string { return base64.RawURLEncoding.EncodeToString(k.key.N.Bytes()) }

// fetchJWKS reads the public JWKS as a gateway would: no session.
func fetchJWKS(t *testing.T, base string) []map[string]any {
	t.Helper()
	resp, err := http.Get(base + "/jwks/" + keysProject + "/" + keysEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET JWKS: status %d", resp.StatusCode)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[private]; ok {
				t.Fatalf("the public JWKS carries the private member %q", private)
			}
		}
	}
	return set.Keys
}

// paste sets a textarea's value as a paste would, in one go (typing a PEM
// key by key takes seconds).
func paste(b *Browser, sel, text string) {
	b.t.Helper()
	b.WaitVisible(sel)
	Eval[bool](b, `(function(sel, v) {
		const el = document.querySelector(sel);
		el.focus();
		el.value = v;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		return true;
	})(%s, %s)`, sel, text)
}

// shown reports whether the element sel is rendered (not display:none,
// nor inside something hidden).
func shown(b *Browser, sel string) bool {
	b.t.Helper()
	return Eval[bool](b, `(function(s){ const e = document.querySelector(s); return !!e && e.getClientRects().length > 0; })(%s)`, sel)
}

// viewportShot saves what the user sees in the window (not the whole
// page): a modal dialog is drawn over the viewport, so a full-page capture
// would show it over a part of the page that was not on screen. It waits
// for CSS transitions (radios, the dialog's fade-in) to settle first.
func viewportShot(t *testing.T, b *Browser, name string) {
	t.Helper()
	time.Sleep(400 * time.Millisecond)
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if _, err := writeScreenshot(name, png); err != nil {
		t.Fatal(err)
	}
}

// dialogCentred checks that the open dialog's box sits in the middle of
// the viewport horizontally.
func dialogCentred(t *testing.T, b *Browser, sel string) {
	t.Helper()
	off := Eval[float64](b, `(function(s){
		const r = document.querySelector(s).getBoundingClientRect();
		return Math.abs((r.left + r.right) / 2 - window.innerWidth / 2);
	})(%s)`, sel+" article")
	if off > 20 {
		t.Errorf("%s is %.0f px off the horizontal centre", sel, off)
	}
}

func keysCreateEnvironment(t *testing.T, b *Browser) {
	t.Helper()
	b.Navigate("/environments")
	b.WaitText("h1", "Environments")
	b.Fill("#environment-create input[name=name]", keysEnv)
	b.Fill("#environment-create input[name=description]", "Live gateways")
	b.Click("#environment-create button[type=submit]")
	b.WaitURL("/environments/" + keysEnv)
	b.WaitText("h1", keysEnv)
	assertPage(t, b, "new environment")
}

func keysCreateProject(t *testing.T, b *Browser) {
	t.Helper()
	b.Navigate("/projects")
	b.Fill("#project-create input[name=name]", keysProject)
	b.Click("#project-create button[type=submit]")
	b.WaitURL("/projects/" + keysProject)
	boostedClick(t, b, `a[href="/projects/`+keysProject+`/keys"]`, "h1", "Keys")
	b.WaitText("#no-keys", "This project has no keys yet.")
	assertPage(t, b, "empty key list")
}

func keysCreateThroughWizard(t *testing.T, b *Browser, k rsaKey) {
	t.Helper()
	boostedClick(t, b, "#key-create", "h1", "Create key")
	b.WaitURL("/projects/" + keysProject + "/keys/new")
	for _, step := range []string{"Definition", "configuration per environment", "Save"} {
		b.WaitText("#key-form", step)
	}
	b.Fill("#key-form input[name=name]", keyName)
	b.Fill("#key-form textarea[name=description]", "Signs the gateway's access tokens.")
	// The algorithm choices follow the type.
	b.Select("#key-form select[name=keyType]", "PRIVATE_KEY")
	b.waitFor("the RSA algorithm", func() bool { return b.Has(`#algorithm-field select option[value="RSA"]`) })
	if b.Has(`#algorithm-field select option[value="AES"]`) {
		t.Error("a private key is offered AES")
	}
	b.Select("#algorithm-field select[name=algorithm]", "RSA")
	b.Select(`select[name="configs[0].environment"]`, keysEnv)
	b.Fill(`input[name="configs[0].alias"]`, "access-tokens")

	// The source radio switches between the file input and the textarea.
	if !shown(b, `#config-0 input[type=file]`) || shown(b, `#config-0 textarea`) {
		t.Errorf("with Import from File: file shown %v, textarea shown %v", shown(b, `#config-0 input[type=file]`), shown(b, `#config-0 textarea`))
	}
	b.Click(`#config-0 input[type=radio][value=CLIPBOARD]`)
	if shown(b, `#config-0 input[type=file]`) || !shown(b, `#config-0 textarea`) {
		t.Errorf("with Paste from Clipboard: file shown %v, textarea shown %v", shown(b, `#config-0 input[type=file]`), shown(b, `#config-0 textarea`))
	}
	assertPage(t, b, "key wizard")
	time.Sleep(300 * time.Millisecond) // let the radio's transition finish
	b.Screenshot("key-wizard")

	// Something that is not a key: the wizard comes back with the message
	// beside the row and keeps what was typed.
	paste(b, `#config-0 textarea`, "this is not a key")
	b.Click("#key-save-deploy")
	b.WaitText("#config-0 .field-error", "The key content is not an RSA or EC private key")
	if got := Eval[string](b, `document.querySelector("#key-form input[name=name]").value`); got != keyName {
		t.Errorf("name after a rejected post = %q", got)
	}
	if !shown(b, `#config-0 textarea`) {
		t.Error("the re-shown row does not show the pasted text")
	}
	if b.Has("#config-0 .file-again") || b.Has("#key-form-error") {
		t.Error("a pasted key's error asks to select files again")
	}
	assertPage(t, b, "key wizard with an error", "status of 422")
	b.Screenshot("key-wizard-error")

	paste(b, `#config-0 textarea`, k.pem)
	b.Click("#key-save-deploy")
	b.WaitURL("/projects/" + keysProject + "/keys/" + keyName)
	b.WaitText(".flash", "Key "+keyName+" created. Deployed to 1 environment(s).")
	b.WaitText("#env-production .deployment", "deployed r1")
	row := b.Text("#env-production")
	if !strings.Contains(row, "access-tokens") || !strings.Contains(row, "2048 bits") {
		t.Errorf("configuration row %q", row)
	}
	if strings.Contains(Eval[string](b, `document.documentElement.outerHTML`), strings.Split(k.pem, "\n")[1]) {
		t.Fatal("the key page shows the private key")
	}
	assertPage(t, b, "key page")
	b.Screenshot("key-page")

	boostedClick(t, b, `nav[aria-label=breadcrumb] a[href="/projects/`+keysProject+`/keys"]`, "#keys", keyName)
	b.WaitText("#keys", "production r1")
	assertPage(t, b, "key list")
	b.Screenshot("key-list")
}

// keysCreateJWK makes a JWK from the key on the JWK page and returns its
// kid.
func keysCreateJWK(t *testing.T, b *Browser) string {
	t.Helper()
	b.Navigate("/projects/" + keysProject + "/keys/" + keyName)
	boostedClick(t, b, `#related-jwks a[href="/projects/`+keysProject+`/jwks/new?source=`+keyName+`"]`, "h1", "Create JWK")
	b.Fill("#jwk-form input[name=name]", jwkName)
	b.Select("#jwk-form select[name=sourceName]", keyName)
	b.Select("#jwk-form select[name=use]", "sig")
	b.Select("#jwk-form select[name=alg]", "RS256")
	envBox := `#jwk-form input[name=environments][value="` + keysEnv + `"]`
	if !Eval[bool](b, `document.querySelector(%s).checked`, envBox) {
		b.Click(envBox)
	}
	assertPage(t, b, "JWK form")
	b.Click("#jwk-save-deploy")
	b.WaitURL("/projects/" + keysProject + "/jwks/" + jwkName)
	b.WaitText("#jwk-env-production", "deployed")
	kid := strings.TrimSpace(b.Text("#kid-production"))
	if kid == "" {
		t.Fatal("the JWK page shows no kid")
	}
	assertPage(t, b, "JWK page")
	b.Screenshot("jwk-page")

	// The key page lists it.
	b.Navigate("/projects/" + keysProject + "/keys/" + keyName)
	b.WaitText("#related-jwks", jwkName)
	return kid
}

func keysEditWithUpdate(t *testing.T, b *Browser, k rsaKey) {
	t.Helper()
	boostedClick(t, b, "#key-edit", "h1", "Edit key "+keyName)
	b.WaitText("#config-0", "Current material")
	if got := Eval[string](b, `document.querySelector("#config-0 textarea").value`); got != "" {
		t.Errorf("the edit page shows content %q", got)
	}
	b.Click(`#config-0 input[type=radio][value=CLIPBOARD]`)
	paste(b, `#config-0 textarea`, k.pem)
	assertPage(t, b, "edit page")
	b.Screenshot("key-edit")

	// Save and Deploy opens the JWK Connection dialog instead of posting.
	b.Click("#key-save-deploy")
	b.WaitVisible("#jwk-connection")
	b.WaitText("#jwk-connection", "This Key is used in 1 JWK(s). What would you like to do?")
	for _, label := range []string{"Update related JWKs", "Update key only and disconnect", "Cancel"} {
		b.WaitText(`#jwk-connection [data-dialog-step="choose"]`, label)
	}
	dialogCentred(t, b, "#jwk-connection")
	assertPage(t, b, "JWK Connection dialog")
	viewportShot(t, b, "jwk-connection-dialog")

	// Cancel closes it and nothing is posted; a second try opens it again.
	b.Click(`#jwk-connection [data-dialog-step="choose"] [data-dialog-close]`)
	b.waitFor("the dialog to close", func() bool { return !Eval[bool](b, `document.querySelector("#jwk-connection").open`) })
	if b.Path() != "/projects/"+keysProject+"/keys/"+keyName+"/edit" {
		t.Fatalf("Cancel left the edit page: %s", b.Path())
	}
	// Choosing, then cancelling at the typed name, forgets the choice.
	b.Click("#key-save-deploy")
	b.WaitVisible(`#jwk-connection button[data-jwk-choice="NULLIFY"]`)
	b.Click(`#jwk-connection button[data-jwk-choice="NULLIFY"]`)
	b.WaitVisible(`#jwk-connection input[name=confirm_name]`)
	b.Fill(`#jwk-connection input[name=confirm_name]`, keyName)
	b.Click(`#jwk-connection [data-dialog-step="confirm"] [data-dialog-close]`)
	b.waitFor("the dialog to close", func() bool { return !Eval[bool](b, `document.querySelector("#jwk-connection").open`) })
	// The dialog's close event (queued after close()) clears the choice.
	b.waitFor("Cancel to clear jwk_action", func() bool { return b.evalQuiet(`document.querySelector("#jwk-action").value`) == "" })

	b.Click("#key-save-deploy")
	b.WaitVisible(`#jwk-connection button[data-jwk-choice="UPDATE"]`)
	if shown(b, `#jwk-connection input[name=confirm_name]`) || Eval[string](b, `document.querySelector("#jwk-connection input[name=confirm_name]").value`) != "" {
		t.Error("the reopened dialog does not start over at the choice")
	}
	b.Click(`#jwk-connection button[data-jwk-choice="UPDATE"]`)
	b.WaitVisible(`#jwk-connection input[name=confirm_name]`)
	if !Eval[bool](b, `document.querySelector("#jwk-confirm").disabled`) {
		t.Error("Confirm is enabled before the name is typed")
	}
	b.Fill(`#jwk-connection input[name=confirm_name]`, keyName)
	if Eval[bool](b, `document.querySelector("#jwk-confirm").disabled`) {
		t.Fatal("Confirm stays disabled after typing the key's name")
	}
	viewportShot(t, b, "jwk-connection-confirm")
	// The choice survives the close events of the earlier cancelled dialogs,
	// which the browser may deliver late.
	b.waitFor("jwk_action to hold UPDATE", func() bool { return b.evalQuiet(`document.querySelector("#jwk-action").value`) == "UPDATE" })
	b.Click("#jwk-confirm")
	b.WaitURL("/projects/" + keysProject + "/keys/" + keyName)
	b.WaitText(".flash", "Key "+keyName+" saved.")
	b.WaitText("#env-production .deployment", "deployed r")
	assertPage(t, b, "key page after the update")
	b.Screenshot("key-page-updated")
}

func keysDeleteDisconnect(t *testing.T, b *Browser) {
	t.Helper()
	b.Click("#key-delete-open")
	b.WaitVisible("#key-delete")
	b.WaitText("#key-delete", "This Key is used in 1 JWK(s). What would you like to do?")
	for _, label := range []string{"Delete JWKS", "Delete Disconnect", "Cancel"} {
		b.WaitText(`#key-delete [data-dialog-step="choose"]`, label)
	}
	dialogCentred(t, b, "#key-delete")
	assertPage(t, b, "delete dialog")
	viewportShot(t, b, "key-delete-dialog")

	b.Click(`#key-delete button[data-jwk-choice="NULLIFY"]`)
	b.WaitVisible(`#key-delete input[name=confirm_name]`)
	b.Fill(`#key-delete input[name=confirm_name]`, keyName+"x")
	if !Eval[bool](b, `document.querySelector("#key-delete-confirm").disabled`) {
		t.Error("Delete is enabled with a wrong name")
	}
	b.Fill(`#key-delete input[name=confirm_name]`, keyName)
	viewportShot(t, b, "key-delete-confirm")
	b.Click("#key-delete-confirm")
	b.WaitURL("/projects/" + keysProject + "/keys")
	b.WaitText(".flash", "Key "+keyName+" deleted. Undeployed from 1 environment(s).")
	b.WaitText("#no-keys", "This project has no keys yet.")
	assertPage(t, b, "key list after the delete")
	b.Screenshot("after-delete")
}
