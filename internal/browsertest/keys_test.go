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
	"os"
	"path/filepath"
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
// created through the wizard (the Definition, then each environment's
// configuration entered in the dialog and listed in the Configuration
// table, a row edited, another removed) with "Save and Deploy", a JWK made
// from it and published in the environment's JWKS, the key edited with
// "Update related JWKs" through the JWK Connection dialog (the JWKS shows
// the new key), then deleted with "Delete Disconnect" and the typed name
// (the JWK survives in the JWKS), and the JWK deleted with its typed name.
// Screenshots at each step.
func TestKeyLifecycleInBrowser(t *testing.T) {
	srv := StartServer(t)
	b := NewBrowser(t, srv.URL)
	setUpFirstAdmin(t, b, srv.SetupURL)
	signIn(t, b)
	first, second := newRSAKey(t), newRSAKey(t)

	keysCreateEnvironment(t, b, keysEnv, "Live gateways")
	keysCreateEnvironment(t, b, "staging", "Pre-production gateways")
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
	// The JWK's page says it is disconnected; its Delete asks for its name.
	b.Navigate("/projects/" + keysProject + "/jwks/" + jwkName)
	b.WaitText("#jwk-source", "disconnected")
	assertPage(t, b, "disconnected JWK")
	keysDeleteJWK(t, b)
	if got := fetchJWKS(t, srv.URL); len(got) != 0 {
		t.Fatalf("JWKS after deleting the JWK: %v", got)
	}
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

func keysCreateEnvironment(t *testing.T, b *Browser, name, description string) {
	t.Helper()
	b.Navigate("/environments")
	b.WaitText("h1", "Environments")
	if !Eval[bool](b, `document.querySelector("main details").open`) { // folded away once an environment exists
		b.Click("main details summary")
	}
	b.Fill("#environment-create input[name=name]", name)
	b.Fill("#environment-create input[name=description]", description)
	b.Click("#environment-create button[type=submit]")
	b.WaitURL("/environments/" + name)
	b.WaitText("h1", name)
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

// dialogOpen reports whether the dialog sel is open.
func dialogOpen(b *Browser, sel string) bool {
	b.t.Helper()
	return Eval[bool](b, `document.querySelector(%s).open`, sel)
}

// waitClosed waits until the dialog sel is closed.
func waitClosed(b *Browser, sel string) {
	b.t.Helper()
	b.waitFor(sel+" to close", func() bool { return b.evalQuiet(`String(document.querySelector(%s).open)`, sel) == "false" })
}

// value returns the value of the form field sel.
func value(b *Browser, sel string) string {
	b.t.Helper()
	return Eval[string](b, `document.querySelector(%s).value`, sel)
}

const cfgDialog = "#key-config-dialog"

func keysCreateThroughWizard(t *testing.T, b *Browser, k rsaKey) {
	t.Helper()
	boostedClick(t, b, "#key-create", "h1", "Create key")
	b.WaitURL("/projects/" + keysProject + "/keys/new")
	for _, step := range []string{"Definition", "Configuration", "Save"} {
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
	// No configuration yet: a sentence, no table.
	if !shown(b, "#no-configs") || shown(b, "#config-table") {
		t.Errorf("before any configuration: sentence shown %v, table shown %v", shown(b, "#no-configs"), shown(b, "#config-table"))
	}
	assertPage(t, b, "key wizard")
	b.Screenshot("key-wizard")

	// New Key Definition opens the dialog; the source radio switches
	// between the file input and the textarea.
	b.Click("#config-new")
	b.WaitVisible(cfgDialog + " select[name=environment]")
	dialogCentred(t, b, cfgDialog)
	b.Select(cfgDialog+" select[name=environment]", keysEnv)
	b.Fill(cfgDialog+" input[name=alias]", "tokens")
	if !shown(b, cfgDialog+" input[type=file]") || shown(b, cfgDialog+" textarea") {
		t.Errorf("with Import from File: file shown %v, textarea shown %v", shown(b, cfgDialog+" input[type=file]"), shown(b, cfgDialog+" textarea"))
	}
	b.Click(cfgDialog + " input[type=radio][value=CLIPBOARD]")
	if shown(b, cfgDialog+" input[type=file]") || !shown(b, cfgDialog+" textarea") {
		t.Errorf("with Paste from Clipboard: file shown %v, textarea shown %v", shown(b, cfgDialog+" input[type=file]"), shown(b, cfgDialog+" textarea"))
	}
	// Something that is not a key: Apply answers the dialog again, still
	// open, with the message beside the content and what was typed kept.
	paste(b, cfgDialog+" textarea", "this is not a key")
	b.Click("#key-config-apply")
	b.WaitText("#key-config-content-error", "is not an RSA or EC private key")
	if !dialogOpen(b, cfgDialog) || value(b, cfgDialog+" select[name=environment]") != keysEnv || value(b, cfgDialog+" input[name=alias]") != "tokens" ||
		!shown(b, cfgDialog+" textarea") || b.Has("#config-rows tr") {
		t.Errorf("after a refused Apply: open %v, environment %q, alias %q, rows %v", dialogOpen(b, cfgDialog),
			value(b, cfgDialog+" select[name=environment]"), value(b, cfgDialog+" input[name=alias]"), b.Has("#config-rows tr"))
	}
	assertPage(t, b, "configuration dialog with an error", "status of 422")
	viewportShot(t, b, "key-config-dialog-error")

	// The key: Apply closes the dialog and lists the row, with the
	// fingerprint and state the server computed.
	paste(b, cfgDialog+" textarea", k.pem)
	viewportShot(t, b, "key-config-dialog")
	b.Click("#key-config-apply")
	waitClosed(b, cfgDialog)
	b.WaitText("#config-0", keysEnv)
	if row := b.Text("#config-0"); !strings.Contains(row, "Paste from Clipboard") || !strings.Contains(row, "tokens") ||
		!strings.Contains(row, "new") || !strings.Contains(row, "PKCS#8 PEM, 2048 bits") || len(b.Text("#config-0 code.fingerprint")) != 64 {
		t.Errorf("the applied row: %q", row)
	}
	if shown(b, "#no-configs") || !shown(b, "#config-table") {
		t.Error("with a row, the table is not shown instead of the sentence")
	}

	// Edit reopens the dialog filled in; Apply replaces the row.
	b.Click(`#config-0 [data-row-edit]`)
	b.WaitVisible(cfgDialog + " textarea")
	if value(b, cfgDialog+" select[name=environment]") != keysEnv || value(b, cfgDialog+" input[name=alias]") != "tokens" ||
		value(b, cfgDialog+" textarea") != k.pem || b.Has(cfgDialog+" .field-error") {
		t.Errorf("Edit does not fill the dialog with the row: environment %q alias %q", value(b, cfgDialog+" select[name=environment]"), value(b, cfgDialog+" input[name=alias]"))
	}
	b.Fill(cfgDialog+" input[name=alias]", "access-tokens")
	b.Click("#key-config-apply")
	waitClosed(b, cfgDialog)
	b.WaitText("#config-0", "access-tokens")
	if n := Eval[int](b, `document.querySelectorAll("#config-rows tr").length`); n != 1 {
		t.Errorf("after editing the row: %d rows", n)
	}

	// A second environment from a file. The dialog starts empty and no
	// longer offers the environment the first row has.
	b.Click("#config-new")
	b.WaitVisible(cfgDialog + " select[name=environment]")
	if value(b, cfgDialog+" input[name=alias]") != "" || value(b, cfgDialog+" textarea") != "" ||
		!Eval[bool](b, `document.querySelector(%s).disabled`, cfgDialog+` option[value="`+keysEnv+`"]`) {
		t.Error("New Key Definition does not start empty, or offers an environment already configured")
	}
	b.Select(cfgDialog+" select[name=environment]", "staging")
	// Without a file: the fields come back with the message, and still do
	// not offer the first row's environment.
	b.Click("#key-config-apply")
	b.WaitText("#key-config-content-error", "is empty")
	if !Eval[bool](b, `document.querySelector(%s).disabled`, cfgDialog+` option[value="`+keysEnv+`"]`) || value(b, cfgDialog+" select[name=environment]") != "staging" {
		t.Error("after a refused Apply the dialog offers an environment already configured, or lost its choice")
	}
	assertPage(t, b, "configuration dialog without a file", "status of 422")
	path := filepath.Join(t.TempDir(), "staging-signer.pem")
	if err := os.WriteFile(path, []byte(k.pem), 0o600); err != nil {
		t.Fatal(err)
	}
	b.Upload(cfgDialog+" input[type=file]", path)
	b.Click("#key-config-apply")
	waitClosed(b, cfgDialog)
	b.WaitText("#config-1", "staging-signer.pem")
	if row := b.Text("#config-1"); !strings.Contains(row, "Import from File") || b.Text("#config-1 code.fingerprint") != b.Text("#config-0 code.fingerprint") {
		t.Errorf("the file row: %q", row)
	}
	assertPage(t, b, "configuration table")
	b.Screenshot("key-wizard-table")
	// Remove takes it out again.
	b.Click(`#config-1 [data-remove-row]`)
	b.WaitGone("#config-1")

	b.Click("#key-save-deploy")
	b.WaitURL("/projects/" + keysProject + "/keys/" + keyName)
	b.WaitText(".flash", "Key "+keyName+" created. Deployed to 1 environment(s).")
	b.WaitText("#env-production .deployment", "deployed r1")
	if b.Has("#env-staging") {
		t.Error("the removed staging row was saved")
	}
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
	// The stored configuration is the table's row, its material kept.
	b.WaitText("#config-0", "unchanged")
	if b.Has(`#config-0 input[name="configs[0].content"]`) {
		t.Error("the edit page carries the stored material")
	}
	b.Click(`#config-0 [data-row-edit]`)
	b.WaitVisible(cfgDialog + " textarea")
	if got := value(b, cfgDialog+" textarea"); got != "" {
		t.Errorf("the edit dialog shows content %q", got)
	}
	if !shown(b, cfgDialog+` [data-shown-with="locked"]`) || !Eval[bool](b, `document.querySelector(%s).disabled`, cfgDialog+` option[value="staging"]`) {
		t.Error("the stored row's dialog does not keep its environment or say that empty content keeps the material")
	}
	paste(b, cfgDialog+" textarea", k.pem)
	b.Click("#key-config-apply")
	waitClosed(b, cfgDialog)
	b.WaitText("#config-0", "replaced")
	assertPage(t, b, "edit page")
	b.Screenshot("key-edit")

	// Save and Deploy opens the JWK Connection dialog instead of posting.
	const jwkDialog = "#jwk-connection"
	b.Click("#key-save-deploy")
	b.WaitVisible(jwkDialog)
	b.WaitText(jwkDialog, "This Key is used in 1 JWK(s). What would you like to do?")
	for _, label := range []string{"Update related JWKs", "Update key only and disconnect", "Cancel"} {
		b.WaitText(jwkDialog+` [data-dialog-step="choose"]`, label)
	}
	dialogCentred(t, b, jwkDialog)
	assertPage(t, b, "JWK Connection dialog")
	viewportShot(t, b, "jwk-connection-dialog")

	// Cancel closes it and nothing is posted; a second try opens it again.
	b.Click(jwkDialog + ` [data-dialog-step="choose"] [data-dialog-close]`)
	waitClosed(b, jwkDialog)
	if b.Path() != "/projects/"+keysProject+"/keys/"+keyName+"/edit" {
		t.Fatalf("Cancel left the edit page: %s", b.Path())
	}
	// Choosing, then cancelling at the typed name, forgets the choice.
	choice := jwkDialog + "-choice"
	b.Click("#key-save-deploy")
	b.WaitVisible(jwkDialog + ` button[data-dialog-choice="NULLIFY"]`)
	b.Click(jwkDialog + ` button[data-dialog-choice="NULLIFY"]`)
	b.WaitVisible(jwkDialog + ` input[name=confirm_name]`)
	b.Fill(jwkDialog+` input[name=confirm_name]`, keyName)
	b.Click(jwkDialog + ` [data-dialog-step="confirm"] [data-dialog-close]`)
	waitClosed(b, jwkDialog)
	// The dialog's close event (queued after close()) clears the choice.
	b.waitFor("Cancel to clear jwk_action", func() bool { return b.evalQuiet(`document.querySelector(%s).value`, choice) == "" })

	b.Click("#key-save-deploy")
	b.WaitVisible(jwkDialog + ` button[data-dialog-choice="UPDATE"]`)
	if shown(b, jwkDialog+` input[name=confirm_name]`) || value(b, jwkDialog+` input[name=confirm_name]`) != "" {
		t.Error("the reopened dialog does not start over at the choice")
	}
	b.Click(jwkDialog + ` button[data-dialog-choice="UPDATE"]`)
	b.WaitVisible(jwkDialog + ` input[name=confirm_name]`)
	if !Eval[bool](b, `document.querySelector("#jwk-confirm").disabled`) {
		t.Error("Confirm is enabled before the name is typed")
	}
	b.Fill(jwkDialog+` input[name=confirm_name]`, keyName)
	if Eval[bool](b, `document.querySelector("#jwk-confirm").disabled`) {
		t.Fatal("Confirm stays disabled after typing the key's name")
	}
	viewportShot(t, b, "jwk-connection-confirm")
	// The choice survives the close events of the earlier cancelled dialogs,
	// which the browser may deliver late.
	b.waitFor("jwk_action to hold UPDATE", func() bool { return b.evalQuiet(`document.querySelector(%s).value`, choice) == "UPDATE" })
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

	b.Click(`#key-delete button[data-dialog-choice="NULLIFY"]`)
	b.WaitVisible(`#key-delete input[name=confirm_name]`)
	if got := b.Text(`#key-delete [data-dialog-chosen]`); got != "Delete Disconnect" {
		t.Errorf("the confirmation step names the choice %q", got)
	}
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

// keysDeleteJWK deletes the JWK from its page: the same dialog, straight
// at the typed name.
func keysDeleteJWK(t *testing.T, b *Browser) {
	t.Helper()
	b.Click("#jwk-delete-open")
	b.WaitVisible(`#jwk-delete input[name=confirm_name]`)
	b.WaitText("#jwk-delete", "Type the JWK's name, "+jwkName+", to confirm.")
	dialogCentred(t, b, "#jwk-delete")
	b.Fill(`#jwk-delete input[name=confirm_name]`, keyName)
	if !Eval[bool](b, `document.querySelector("#jwk-delete-confirm").disabled`) {
		t.Error("Delete is enabled with the key's name instead of the JWK's")
	}
	b.Fill(`#jwk-delete input[name=confirm_name]`, jwkName)
	assertPage(t, b, "JWK delete dialog")
	viewportShot(t, b, "jwk-delete-confirm")
	b.Click("#jwk-delete-confirm")
	b.WaitURL("/projects/" + keysProject + "/jwks")
	b.WaitText(".flash", "JWK "+jwkName+" deleted")
	assertPage(t, b, "JWK list after the delete")
}
