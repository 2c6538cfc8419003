package browsertest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

const (
	signingProject = "token-service"
	signingPIN     = "1357-user-pin"
	signingForm    = "#signing-key-form"
	signingDialog  = "#signing-key-delete"
)

// TestSigningKeysInBrowser follows seed 004 in a real browser, on the
// built-in software token: the admin sets the token's user PIN; an RSA
// key is generated (Auto) and an EC key imported from a PEM generated
// here (Manual), the create form showing the fields of the algorithm and
// generation type chosen, refusing a public key beside the field, and
// warning about a label in use; the key page shows the public PEM, whose
// copy button answers; the RSA key is published and its kid appears in
// the environment's public JWKS; Delete Key with a wrong PIN is refused in
// the dialog (the key still listed), then the right PIN deletes it and
// empties the JWKS. Screenshots signing-*.png at each step.
func TestSigningKeysInBrowser(t *testing.T) {
	srv := StartServer(t)
	b := NewBrowser(t, srv.URL)
	setUpFirstAdmin(t, b, srv.SetupURL)
	signIn(t, b)
	keysCreateEnvironment(t, b, keysEnv, "Live gateways")
	signingCreateProject(t, b)
	signingSetPIN(t, b)

	rsaPage := signingCreateRSA(t, b)
	signingCopyPEM(t, b)
	ecPage := signingImportEC(t, b)
	b.Navigate("/projects/" + signingProject + "/signing-keys")
	b.WaitText("#signing-keys", "RSA_2048")
	b.WaitText("#signing-keys", "EC_P256")
	assertPage(t, b, "key list with two keys")
	b.Screenshot("signing-list")

	kid := signingPublish(t, b, rsaPage)
	if keys := signingJWKS(t, srv.URL); len(keys) != 1 || keys[0]["kid"] != kid || keys[0]["kty"] != "RSA" {
		t.Fatalf("JWKS after publishing: %v, want kid %s", keys, kid)
	}
	signingDeleteWithPIN(t, b, rsaPage)
	if keys := signingJWKS(t, srv.URL); len(keys) != 0 {
		t.Fatalf("JWKS after deleting the key: %v", keys)
	}
	// The EC key is untouched.
	b.Navigate(ecPage)
	b.WaitText("#private-key", "Manual Generation (Import)")
	assertPage(t, b, "the EC key after the RSA key's delete")
}

func signingCreateProject(t *testing.T, b *Browser) {
	t.Helper()
	b.Navigate("/projects")
	b.Fill("#project-create input[name=name]", signingProject)
	b.Click("#project-create button[type=submit]")
	b.WaitURL("/projects/" + signingProject)
	b.WaitText("#area-signing-keys", "Signing Keys")
	boostedClick(t, b, `#area-signing-keys a[href="/projects/`+signingProject+`/signing-keys"]`, "h1", "Signing Keys")
	b.WaitText("#no-signing-keys", "This project has no signing keys yet.")
	b.WaitText("#signing-backend", "Built-in software token — no HSM configured")
	b.WaitText("#no-pin-note", "no user PIN yet")
	assertPage(t, b, "empty signing key list")
	b.Screenshot("signing-list-empty")
}

// signingSetPIN sets the software token's user PIN from the link on the
// key list: a mismatch first, answered beside the field.
func signingSetPIN(t *testing.T, b *Browser) {
	t.Helper()
	boostedClick(t, b, "#set-pin-link", "h1", "Key storage")
	b.WaitText("#pin-state", "not set")
	b.Fill("#soft-pin-form input[name=pin]", signingPIN)
	b.Fill("#soft-pin-form input[name=pin2]", signingPIN+"x")
	b.Click("#soft-pin-submit")
	b.WaitText("#pin2-error", "The two PINs are not the same.")
	assertPage(t, b, "PIN form with an error", "status of 422")
	b.Screenshot("signing-pin-error")
	b.Fill("#soft-pin-form input[name=pin]", signingPIN)
	b.Fill("#soft-pin-form input[name=pin2]", signingPIN)
	b.Click("#soft-pin-submit")
	b.WaitText(".flash", "The software token's user PIN is set.")
	b.WaitText("#pin-is-set", "The software token's user PIN is set.")
	assertPage(t, b, "PIN set")
	b.Screenshot("signing-pin-set")
}

// signingCreateRSA generates an RSA key and returns its page's path.
func signingCreateRSA(t *testing.T, b *Browser) string {
	t.Helper()
	b.Navigate("/projects/" + signingProject + "/signing-keys")
	boostedClick(t, b, "#signing-key-create", "h1", "Create signing key")
	// RSA and Auto are chosen: the key length shows, the curve and the PEM
	// do not.
	if !shown(b, signingForm+" select[name=keyLength]") || shown(b, signingForm+" select[name=curve]") || shown(b, signingForm+" textarea") {
		t.Errorf("RSA, Auto: length %v, curve %v, PEM %v", shown(b, signingForm+" select[name=keyLength]"),
			shown(b, signingForm+" select[name=curve]"), shown(b, signingForm+" textarea"))
	}
	b.Fill(signingForm+" input[name=label]", "RSA_2048")
	b.Select(signingForm+" select[name=keyLength]", "2048")
	assertPage(t, b, "create key form")
	b.Screenshot("signing-create-rsa")
	b.Click("#signing-key-submit")
	b.WaitText(".flash", "Signing key RSA_2048 created with CKA_ID")
	b.WaitText("#private-key", "Auto Generation (Random)")
	b.WaitText("#key-size", "2048")
	if !strings.HasPrefix(b.Text("#public-key-pem"), "-----BEGIN PUBLIC KEY-----") {
		t.Errorf("public PEM %q", b.Text("#public-key-pem"))
	}
	assertPage(t, b, "RSA key page")
	b.Screenshot("signing-key-rsa")
	return b.Path()
}

// signingCopyPEM presses the PEM's copy button: it says Copied, and the
// clipboard holds the PEM.
func signingCopyPEM(t *testing.T, b *Browser) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	// Let the page write and the test read the clipboard.
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true}, Setting: browser.PermissionSettingGranted,
			Origin: b.base}); err != nil {
			t.Fatalf("grant %s: %v", name, err)
		}
	}
	b.Click("#copy-pem")
	b.WaitText("#copy-pem", "Copied")
	want := b.Text("#public-key-pem")
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("read the clipboard: %v", err)
	}
	if strings.TrimSpace(got) != strings.TrimSpace(want) {
		t.Errorf("the clipboard holds %q, want the PEM", got)
	}
	viewportShot(t, b, "signing-copy-pem")
	b.WaitText("#copy-pem", "Copy PEM")
	assertPage(t, b, "after copying")
}

// signingImportEC imports a P-256 key generated here and returns its
// page's path.
func signingImportEC(t *testing.T, b *Browser) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	private := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	public := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))

	b.Navigate("/projects/" + signingProject + "/signing-keys/new")
	b.WaitText("h1", "Create signing key")
	b.Click(signingForm + " input[name=algorithm][value=ECDSA]")
	b.Click(signingForm + " input[name=generationType][value=IMPORT]")
	if shown(b, signingForm+" select[name=keyLength]") || !shown(b, signingForm+" select[name=curve]") || !shown(b, signingForm+" textarea") {
		t.Errorf("ECDSA, Import: length %v, curve %v, PEM %v", shown(b, signingForm+" select[name=keyLength]"),
			shown(b, signingForm+" select[name=curve]"), shown(b, signingForm+" textarea"))
	}
	// A label in use is warned about as it is typed.
	b.Fill(signingForm+" input[name=label]", "RSA_2048")
	b.WaitText("#label-hint", "already have the label “RSA_2048”")
	viewportShot(t, b, "signing-label-warning")
	b.Fill(signingForm+" input[name=label]", "EC_P256")
	b.WaitText("#label-hint", "A unique label is recommended.")
	// A public key is refused beside the field; the choices are kept.
	paste(b, signingForm+" textarea", public)
	b.Click("#signing-key-submit")
	b.WaitText("#privateKeyPem-error", "This is a public key; only private keys can be imported.")
	if !Eval[bool](b, `document.querySelector(%s).checked`, signingForm+" input[name=generationType][value=IMPORT]") ||
		value(b, signingForm+" input[name=label]") != "EC_P256" || !shown(b, signingForm+" textarea") {
		t.Error("the refused form lost the choices or the label")
	}
	assertPage(t, b, "create key with an error", "status of 422")
	b.Screenshot("signing-create-error")

	paste(b, signingForm+" textarea", private)
	b.Click("#signing-key-submit")
	b.WaitText(".flash", "Signing key EC_P256 created")
	b.WaitText("#private-key", "Manual Generation (Import)")
	b.WaitText("#key-size", "Prime256v1 (P-256)")
	if got := b.Text("#public-key-pem"); strings.TrimSpace(got) != strings.TrimSpace(public) {
		t.Errorf("the imported key's public PEM %q, want %q", got, public)
	}
	if strings.Contains(Eval[string](b, `document.documentElement.outerHTML`), strings.Split(private, "\n")[1]) {
		t.Fatal("the key page shows the imported private key")
	}
	assertPage(t, b, "EC key page")
	b.Screenshot("signing-key-ec")
	return b.Path()
}

// signingPublish publishes the key in production and returns its kid.
func signingPublish(t *testing.T, b *Browser, page string) string {
	t.Helper()
	b.Navigate(page)
	b.WaitText("#publish-production .state", "not published")
	b.Click("#publish-production button[type=submit]")
	b.WaitText(".flash", "published in the JWKS of production")
	b.WaitText("#publish-production .state", "published")
	kid := strings.TrimSpace(b.Text("#signing-kid"))
	if kid == "" || !strings.Contains(b.Text("#public-jwk"), kid) {
		t.Fatalf("kid %q, JWK %q", kid, b.Text("#public-jwk"))
	}
	assertPage(t, b, "published key")
	b.Screenshot("signing-published")
	return kid
}

// signingDeleteWithPIN deletes the key at page: a wrong PIN first.
func signingDeleteWithPIN(t *testing.T, b *Browser, page string) {
	t.Helper()
	b.Navigate(page)
	b.Click("#signing-key-delete-open")
	b.WaitVisible(signingDialog + " input[name=pin]")
	b.WaitText(signingDialog+"-affected", "The JWKS of production")
	dialogCentred(t, b, signingDialog)
	if !Eval[bool](b, `document.querySelector("#signing-key-delete-confirm").disabled`) {
		t.Error("Delete Key is enabled before a PIN is typed")
	}
	b.Fill(signingDialog+" input[name=pin]", "0000-wrong")
	if Eval[bool](b, `document.querySelector("#signing-key-delete-confirm").disabled`) {
		t.Fatal("Delete Key stays disabled with a PIN typed")
	}
	viewportShot(t, b, "signing-delete-dialog")
	b.Click("#signing-key-delete-confirm")
	// The page comes back with the dialog open and the message beside the PIN.
	b.WaitText(signingDialog+" label:has(input[name=pin]) .field-error", "The user PIN is wrong.")
	b.waitFor("the dialog to open again", func() bool { return b.evalQuiet(`String(document.querySelector(%s).open)`, signingDialog) == "true" })
	if value(b, signingDialog+" input[name=pin]") != "" {
		t.Error("the PIN is filled in again")
	}
	assertPage(t, b, "wrong PIN", "status of 422")
	viewportShot(t, b, "signing-delete-wrong-pin")
	// Cancel: the key is still listed.
	b.Click(signingDialog + " [data-dialog-close]")
	waitClosed(b, signingDialog)
	label := b.Text("h1")
	b.Navigate("/projects/" + signingProject + "/signing-keys")
	b.WaitText("#signing-keys", label)

	b.Navigate(page)
	b.Click("#signing-key-delete-open")
	b.WaitVisible(signingDialog + " input[name=pin]")
	b.Fill(signingDialog+" input[name=pin]", signingPIN)
	b.Click("#signing-key-delete-confirm")
	b.WaitURL("/projects/" + signingProject + "/signing-keys")
	b.WaitText(".flash", "deleted from the token. Undeployed from 1 environment(s).")
	if strings.Contains(b.Text("#signing-key-results"), label) {
		t.Errorf("the deleted key %s is still listed", label)
	}
	assertPage(t, b, "list after the delete")
	b.Screenshot("signing-after-delete")
}

// signingJWKS reads the project's public JWKS in production.
func signingJWKS(t *testing.T, base string) []map[string]any {
	t.Helper()
	resp, err := http.Get(base + "/jwks/" + signingProject + "/" + keysEnv)
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
	return set.Keys
}
