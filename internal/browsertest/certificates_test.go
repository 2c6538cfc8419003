package browsertest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

const (
	certProject = "edge-gateway"
	certName    = "edge-tls"
	certJWK     = "edge-tls-jwk"
	certDialog  = "#cert-config-dialog"
)

// TestCertificateLifecycleInBrowser follows seed 001 in a real browser,
// against a TLS server on loopback (the server runs with --fetch-allow
// 127.0.0.0/8): the wizard's dialog refuses a paste with the wrong
// encoding beside the field, then connects to the server and shows the
// chain leaf first with the leaf picked; "Trust this CA" puts the
// intermediate in the environment's truststore and connecting again shows
// the chain trusted; Apply lists the row and Save and Deploy creates the
// certificate. A JWK made from it is published with x5c and x5t#S256; the
// PEM export downloads and parses; the certificate is edited with a new
// leaf fetched again and "Update related JWKs" (the JWKS follows), then
// deleted with "Delete JWKS" (the JWKS is empty). Screenshots at each step.
func TestCertificateLifecycleInBrowser(t *testing.T) {
	srv := StartServer(t, "--fetch-allow", "127.0.0.0/8")
	b := NewBrowser(t, srv.URL)
	setUpFirstAdmin(t, b, srv.SetupURL)
	signIn(t, b)
	first := newCertChain(t)
	tlsSrv := newSwitchableTLS(t, first)

	keysCreateEnvironment(t, b, keysEnv, "Live gateways")
	certsCreateProject(t, b)
	certsCreateThroughWizard(t, b, tlsSrv.url, first)
	certsCreateJWK(t, b)
	keys := certJWKS(t, srv.URL)
	if len(keys) != 1 || keys[0]["x5t#S256"] != thumbprint(first.leaf) {
		t.Fatalf("JWKS after creating the JWK: %v, want x5t#S256 of the leaf", keys)
	}
	if x5c, _ := keys[0]["x5c"].([]any); len(x5c) != 2 || x5c[0] != base64.StdEncoding.EncodeToString(first.leaf.Raw) ||
		x5c[1] != base64.StdEncoding.EncodeToString(first.intermediate.Raw) {
		t.Errorf("x5c %v, want the leaf and the intermediate", keys[0]["x5c"])
	}
	certsExportPEM(t, b, first.leaf)

	second := newCertChain(t)
	tlsSrv.serve(second)
	certsEditWithUpdate(t, b, tlsSrv.url)
	if keys := certJWKS(t, srv.URL); len(keys) != 1 || keys[0]["x5t#S256"] != thumbprint(second.leaf) {
		t.Fatalf("JWKS after Update related JWKs: %v, want the new leaf's x5t#S256", keys)
	}
	certsDeleteWithJWKs(t, b)
	if keys := certJWKS(t, srv.URL); len(keys) != 0 {
		t.Fatalf("JWKS after Delete JWKS: %v", keys)
	}
	b.Navigate("/projects/" + certProject + "/jwks")
	b.WaitText("#no-jwks", "No JWK yet.")
	assertPage(t, b, "JWK list after Delete JWKS")
}

// certChain is a root → intermediate → leaf chain; the leaf is for
// 127.0.0.1 and localhost, valid for 60 days.
type certChain struct {
	root, intermediate, leaf *x509.Certificate
	leafKey                  *ecdsa.PrivateKey
}

var certSerial atomic.Int64

func newCertChain(t *testing.T) certChain {
	t.Helper()
	now := time.Now()
	mk := func(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.SerialNumber = big.NewInt(certSerial.Add(1))
		if parent == nil {
			parent, parentKey = tmpl, k
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c, k
	}
	ca := func(cn string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{"Keyward Browser Test"}},
			NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	}
	root, rootKey := mk(ca("Browser Test Root CA"), nil, nil)
	inter, interKey := mk(ca("Browser Test Issuing CA"), root, rootKey)
	leaf, leafKey := mk(&x509.Certificate{Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(0, 0, 60),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, inter, interKey)
	return certChain{root: root, intermediate: inter, leaf: leaf, leafKey: leafKey}
}

// switchableTLS is a TLS server on loopback that presents a chain's leaf
// and intermediate, and can be switched to another chain.
type switchableTLS struct {
	url  string
	cert atomic.Pointer[tls.Certificate]
}

func newSwitchableTLS(t *testing.T, c certChain) *switchableTLS {
	t.Helper()
	s := &switchableTLS{}
	s.serve(c)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		return s.cert.Load(), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
				_ = conn.(*tls.Conn).Handshake()
			}()
		}
	}()
	s.url = "https://" + ln.Addr().String()
	return s
}

func (s *switchableTLS) serve(c certChain) {
	s.cert.Store(&tls.Certificate{Certificate: [][]byte{c.leaf.Raw, c.intermediate.Raw}, PrivateKey: c.leafKey})
}

// thumbprint is a certificate's x5t#S256.
func thumbprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// certJWKS reads the project's public JWKS in production, as a gateway.
func certJWKS(t *testing.T, base string) []map[string]any {
	t.Helper()
	resp, err := http.Get(base + "/jwks/" + certProject + "/" + keysEnv)
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

func certsCreateProject(t *testing.T, b *Browser) {
	t.Helper()
	b.Navigate("/projects")
	b.Fill("#project-create input[name=name]", certProject)
	b.Click("#project-create button[type=submit]")
	b.WaitURL("/projects/" + certProject)
	boostedClick(t, b, `a[href="/projects/`+certProject+`/certificates"]`, "h1", "Certificates")
	b.WaitText("#no-certificates", "This project has no certificates yet.")
	assertPage(t, b, "empty certificate list")
}

func certsCreateThroughWizard(t *testing.T, b *Browser, url string, c certChain) {
	t.Helper()
	boostedClick(t, b, "#certificate-create", "h1", "Create certificate")
	b.Fill("#certificate-form input[name=name]", certName)
	b.Fill("#certificate-form textarea[name=description]", "The edge gateway's TLS certificate.")
	b.Click("#config-new")
	b.WaitVisible(certDialog + " select[name=environment]")
	dialogCentred(t, b, certDialog)
	b.Select(certDialog+" select[name=environment]", keysEnv)

	// Pasted PEM declared BASE64: the message beside the content.
	b.Click(certDialog + " input[type=radio][value=CLIPBOARD]")
	if !shown(b, certDialog+" textarea[name=content]") || shown(b, certDialog+" input[name=url]") || shown(b, certDialog+" input[type=file]") {
		t.Error("Paste from Clipboard does not show the textarea alone")
	}
	paste(b, certDialog+" textarea[name=content]", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.leaf.Raw})))
	b.Select(certDialog+" select[name=encoding]", "BASE64")
	b.Click("#cert-config-apply")
	b.WaitText("#cert-config-content-error", "This looks like PEM; choose BASE64PEM.")
	if !dialogOpen(b, certDialog) || value(b, certDialog+" select[name=environment]") != keysEnv {
		t.Error("a refused Apply closed the dialog or lost the environment")
	}
	assertPage(t, b, "certificate dialog with an error", "status of 422")
	viewportShot(t, b, "certificate-dialog-error")

	// Receive via HTTPS: the chain, leaf first and picked.
	b.Click(certDialog + " input[type=radio][value=URL]")
	if !shown(b, certDialog+" input[name=url]") || shown(b, certDialog+" textarea[name=content]") {
		t.Error("Receive via HTTPS/LDAPS Connection does not show the URL alone")
	}
	b.Fill(certDialog+" input[name=url]", url)
	b.Click("#cert-fetch")
	b.WaitText("#cert-preview", "presented 2 certificates, leaf first")
	if got := Eval[int](b, `document.querySelectorAll("#cert-preview li.cert-choice").length`); got != 2 {
		t.Fatalf("%d certificates listed, want the leaf and the intermediate", got)
	}
	if !Eval[bool](b, `document.querySelector("#cert-preview input[data-pick-radio][value='0']").checked`) ||
		!strings.Contains(b.Text("#cert-preview li.cert-choice:first-child"), "CN=localhost") {
		t.Error("the leaf is not first and picked")
	}
	b.WaitText("#cert-preview .cert-analysis", "not trusted")
	if value(b, certDialog+" input[name=chain]") == "" || value(b, certDialog+" input[name=picked]") != "1" {
		t.Error("the fetched chain does not travel in the dialog")
	}
	assertPage(t, b, "fetched chain")
	viewportShot(t, b, "certificate-dialog-fetched")

	// Trust the intermediate in production; connecting again shows the
	// chain anchored by it.
	b.Click("#cert-preview .trust-ca button")
	b.WaitText("#cert-preview .trust-ca", "Trusted in production")
	b.Click("#cert-fetch")
	b.WaitText("#cert-preview .cert-analysis .verdict", "anchored by")
	if got := b.Text("#cert-preview .cert-analysis .verdict"); !strings.Contains(got, "CN=Browser Test Issuing CA") || strings.Contains(got, "not trusted") {
		t.Errorf("analysis after trusting the CA: %q", got)
	}
	b.WaitText("#cert-preview .trust-ca", "In the truststore of production.")
	// Picking the intermediate and back updates the pick that is posted.
	b.Click("#cert-preview input[data-pick-radio][value='1']")
	if value(b, certDialog+" input[data-pick]") != "1" {
		t.Error("the radio does not write the pick")
	}
	b.Click("#cert-preview input[data-pick-radio][value='0']")
	b.Fill(certDialog+" input[name=alias]", "edge")
	assertPage(t, b, "trusted chain")
	Eval[bool](b, `(document.querySelector("#cert-preview .cert-analysis").scrollIntoView({block: "center"}), true)`)
	viewportShot(t, b, "certificate-dialog-trusted")

	b.Click("#cert-config-apply")
	waitClosed(b, certDialog)
	b.WaitText("#config-0", "CN=localhost")
	if row := b.Text("#config-0"); !strings.Contains(row, "Receive via HTTPS/LDAPS Connection") || !strings.Contains(row, url) ||
		!strings.Contains(row, "edge") || !strings.Contains(row, "new") || !strings.Contains(row, "days left") {
		t.Errorf("the applied row: %q", row)
	}
	assertPage(t, b, "certificate wizard table")
	b.Screenshot("certificate-wizard-table")

	b.Click("#certificate-save-deploy")
	b.WaitURL("/projects/" + certProject + "/certificates/" + certName)
	b.WaitText(".flash", "Certificate "+certName+" created. Deployed to 1 environment(s).")
	b.WaitText("#env-production .deployment", "deployed r")
	b.WaitText("#env-production .cert-analysis", "anchored by")
	if got := b.Text("#env-production ol.chain"); !strings.Contains(got, "Browser Test Issuing CA") {
		t.Errorf("the stored chain %q", got)
	}
	assertPage(t, b, "certificate page")
	b.Screenshot("certificate-page")

	boostedClick(t, b, `nav[aria-label=breadcrumb] a[href="/projects/`+certProject+`/certificates"]`, "#certificates", certName)
	b.WaitText("#certificates", "days left")
	assertPage(t, b, "certificate list")
	b.Screenshot("certificate-list")
	boostedClick(t, b, "#tab-truststore", "h1", "Truststore")
	b.WaitText("#added-cas", "Browser Test Issuing CA")
	assertPage(t, b, "truststore tab")
	b.Screenshot("truststore")
}

// certsCreateJWK makes a JWK from the certificate through its page's link.
func certsCreateJWK(t *testing.T, b *Browser) {
	t.Helper()
	b.Navigate("/projects/" + certProject + "/certificates/" + certName)
	boostedClick(t, b, "#certificate-create-jwk", "h1", "Create JWK")
	if value(b, "#jwk-form select[name=sourceType]") != "CERTIFICATE" || value(b, "#jwk-form select[name=sourceName]") != certName {
		t.Error("the JWK form does not start from the certificate")
	}
	b.Fill("#jwk-form input[name=name]", certJWK)
	b.Select("#jwk-form select[name=alg]", "ES256")
	if !Eval[bool](b, `document.querySelector(%s).checked`, `#jwk-form input[name=environments][value="`+keysEnv+`"]`) {
		t.Error("the certificate's environment is not ticked")
	}
	assertPage(t, b, "JWK form from a certificate")
	b.Screenshot("certificate-jwk-form")
	b.Click("#jwk-save-deploy")
	b.WaitURL("/projects/" + certProject + "/jwks/" + certJWK)
	b.WaitText("#jwk-source", "certificate "+certName)
	b.WaitText("#jwk-env-production", "x5t#S256")
	assertPage(t, b, "JWK page from a certificate")
}

// certsExportPEM downloads the production PEM from the certificate page.
func certsExportPEM(t *testing.T, b *Browser, leaf *x509.Certificate) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatalf("allow downloads: %v", err)
	}
	b.Navigate("/projects/" + certProject + "/certificates/" + certName)
	b.Click(`#env-production a[data-export="pem"]`)
	file := filepath.Join(dir, certName+"-"+keysEnv+".pem")
	b.waitFor("the PEM download", func() bool { _, err := os.Stat(file); return err == nil })
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(body)
	if block == nil {
		t.Fatalf("the download is not PEM: %q", body)
	}
	if c, err := x509.ParseCertificate(block.Bytes); err != nil || !c.Equal(leaf) {
		t.Errorf("the downloaded PEM parses to %v (%v), want the leaf", c, err)
	}
	if b.Path() != "/projects/"+certProject+"/certificates/"+certName {
		t.Errorf("the download navigated away: %s", b.Path())
	}
	assertPage(t, b, "certificate page after the download")
}

// certsEditWithUpdate fetches the server's new leaf in the edit wizard and
// saves with "Update related JWKs" through the JWK Connection dialog.
func certsEditWithUpdate(t *testing.T, b *Browser, url string) {
	t.Helper()
	b.Navigate("/projects/" + certProject + "/certificates/" + certName)
	boostedClick(t, b, "#certificate-edit", "h1", "Edit certificate "+certName)
	b.WaitText("#config-0", "unchanged")
	b.Click(`#config-0 [data-row-edit]`)
	b.WaitVisible(certDialog + " input[name=url]")
	if value(b, certDialog+" input[name=url]") != url || !Eval[bool](b, `document.querySelector(%s).checked`, certDialog+" input[type=radio][value=URL]") {
		t.Error("Edit does not fill the dialog with the stored URL")
	}
	if b.Has("#cert-preview") {
		t.Error("the dialog shows a stale preview")
	}
	b.Click("#cert-fetch")
	b.WaitText("#cert-preview", "presented 2 certificates")
	b.Click("#cert-config-apply")
	waitClosed(b, certDialog)
	b.WaitText("#config-0", "replaced")
	assertPage(t, b, "certificate edit page")
	b.Screenshot("certificate-edit")

	const jwkDialog = "#jwk-connection"
	b.Click("#certificate-save-deploy")
	b.WaitVisible(jwkDialog)
	b.WaitText(jwkDialog, "This Certificate is used in 1 JWK(s). What would you like to do?")
	for _, label := range []string{"Update related JWKs", "Update certificate only and disconnect", "Cancel"} {
		b.WaitText(jwkDialog+` [data-dialog-step="choose"]`, label)
	}
	dialogCentred(t, b, jwkDialog)
	viewportShot(t, b, "certificate-jwk-connection")
	b.Click(jwkDialog + ` button[data-dialog-choice="UPDATE"]`)
	b.WaitVisible(jwkDialog + ` input[name=confirm_name]`)
	b.Fill(jwkDialog+` input[name=confirm_name]`, certName)
	viewportShot(t, b, "certificate-jwk-connection-confirm")
	b.Click("#jwk-confirm")
	b.WaitURL("/projects/" + certProject + "/certificates/" + certName)
	b.WaitText(".flash", "Certificate "+certName+" saved.")
	b.WaitText("#env-production .deployment", "deployed r")
	assertPage(t, b, "certificate page after the update")
}

// certsDeleteWithJWKs deletes the certificate with "Delete JWKS".
func certsDeleteWithJWKs(t *testing.T, b *Browser) {
	t.Helper()
	b.Click("#certificate-delete-open")
	b.WaitVisible("#certificate-delete")
	b.WaitText("#certificate-delete", "This Certificate is used in 1 JWK(s). What would you like to do?")
	for _, label := range []string{"Delete JWKS", "Delete Disconnect", "Cancel"} {
		b.WaitText(`#certificate-delete [data-dialog-step="choose"]`, label)
	}
	viewportShot(t, b, "certificate-delete-dialog")
	b.Click(`#certificate-delete button[data-dialog-choice="DELETE"]`)
	b.WaitVisible(`#certificate-delete input[name=confirm_name]`)
	if got := b.Text(`#certificate-delete [data-dialog-chosen]`); got != "Delete JWKS" {
		t.Errorf("the confirmation names the choice %q", got)
	}
	b.Fill(`#certificate-delete input[name=confirm_name]`, certName)
	viewportShot(t, b, "certificate-delete-confirm")
	b.Click("#certificate-delete-confirm")
	b.WaitURL("/projects/" + certProject + "/certificates")
	b.WaitText(".flash", "Certificate "+certName+" deleted. Undeployed from 1 environment(s).")
	b.WaitText("#no-certificates", "This project has no certificates yet.")
	assertPage(t, b, "certificate list after the delete")
}
