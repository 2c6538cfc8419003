package handlers_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/certs/certtest"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"software.sslmate.com/src/go-pkcs12"
	"strings"
	"testing"
)

const certsPath = "/apiops/projects/payments/certificates/"

// certBody is a JSON CertificateCreateDTO.
func certBody(name string, configs ...map[string]any) map[string]any {
	list := []any{}
	for _, c := range configs {
		list = append(list, c)
	}
	return map[string]any{"name": name, "description": "tls", "certificateEnvironmentList": list}
}

// certConfig is one entry: content is the file, base64-encoded.
func certConfig(env string, file []byte, alias string) map[string]any {
	return map[string]any{"environmentName": env, "content": base64.StdEncoding.EncodeToString(file), "alias": alias}
}

// TestAPICertificateLifecycle: create (JSON and the seed product's
// multipart upload), list with its thumbprints and filters, read with the
// chain analysed against the environment's truststore, a JWK from the
// certificate with x5c in the public JWKS, deploy state in the bundle,
// update with "Update related JWKs", export, delete with "Delete JWKS".
func TestAPICertificateLifecycle(t *testing.T) {
	w := newSecretsWorld(t)
	chain := newTestChain(t, "edge.example.com")
	r := w.must(w.dora, http.MethodPost, certsPath, certBody("edge-tls", certConfig("production", pemOf(chain.leaf, chain.intermediate), "edge")))
	if res := r.Body["deploymentResult"].(map[string]any); res["success"] != true || len(res["environmentResults"].([]any)) != 1 {
		t.Errorf("deploymentResult %v", res)
	}
	// The seed product's upload: multipart with environmentList.
	form := multipartBody(t, map[string]string{"certificateName": "root-ca", "alias": "root", "certificateDescription": "our root",
		"environmentList": "development, production"}, "pemEncodedFile", "root.cer", chain.root.Raw)
	up := apiSend(t, w.env, apiRequest{Method: http.MethodPost, Path: certsPath, Authorization: "Bearer " + w.dora, ContentType: form.contentType, Body: form.body})
	checkAPIAnswer(t, up, http.StatusOK)

	list := w.must(w.vic, http.MethodGet, certsPath, nil)
	if got := listedNames(list); !slices.Equal(got, []string{"edge-tls", "root-ca"}) || list.Body["resultCount"] != float64(2) {
		t.Fatalf("list: %v", got)
	}
	edge := list.Body["resultList"].([]any)[0].(map[string]any)["certificateEnvironmentList"].([]any)[0].(map[string]any)
	if edge["subjectDn"] != "CN=edge.example.com" || edge["environmentName"] != "production" || edge["alias"] != "edge" ||
		edge["sha256Thumbprint"] != sha256Hex(chain.leaf.Raw) || edge["deployed"] != true || edge["details"] != nil {
		t.Errorf("listed configuration %v", edge)
	}
	for q, want := range map[string][]string{"?search=intermediate": {"edge-tls"}, "?environment=development": {"root-ca"},
		"?expiresWithin=400d": {"edge-tls"}, "?expiresWithin=30d": {}, "?expired=true": {}} {
		if got := listedNames(w.must(w.vic, http.MethodGet, certsPath+q, nil)); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("list%s: %v, want %v", q, got, want)
		}
	}

	// Not trusted until the root is in production's truststore.
	analysis := func() map[string]any {
		c := w.must(w.vic, http.MethodGet, certsPath+"edge-tls/", nil).Body["certificate"].(map[string]any)
		return c["certificateEnvironmentList"].([]any)[0].(map[string]any)["analysis"].(map[string]any)
	}
	if a := analysis(); a["trusted"] != false {
		t.Errorf("trusted before the root was added: %v", a)
	}
	rev := w.revision("production")
	w.must(w.root, http.MethodPost, "/apiops/environments/production/truststore/", map[string]any{"content": base64.StdEncoding.EncodeToString(pemOf(chain.root))})
	if w.revision("production") != rev+1 {
		t.Errorf("adding a CA did not deploy: revision %d → %d", rev, w.revision("production"))
	}
	if a := analysis(); a["trusted"] != true || a["anchoredBy"] != chain.root.Subject.String() {
		t.Errorf("analysis with the root trusted: %v", a)
	}

	// A JWK from the certificate: x5c is the chain, x5t#S256 the leaf's.
	w.must(w.dora, http.MethodPost, jwksPath, map[string]any{"name": "edge-jwk", "sourceType": "CERTIFICATE", "sourceName": "edge-tls",
		"use": "sig", "alg": "ES256", "environmentNames": []string{"production"}})
	set := w.jwks("payments", "production")
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS %v", set)
	}
	x5c := set.Keys[0]["x5c"].([]any)
	if len(x5c) != 2 || x5c[0] != base64.StdEncoding.EncodeToString(chain.leaf.Raw) || x5c[1] != base64.StdEncoding.EncodeToString(chain.intermediate.Raw) {
		t.Errorf("x5c %v", x5c)
	}
	if set.Keys[0]["x5t#S256"] != base64.RawURLEncoding.EncodeToString(sha256Sum(chain.leaf.Raw)) {
		t.Errorf("x5t#S256 %v", set.Keys[0]["x5t#S256"])
	}

	// Update with a new leaf and UPDATE: the JWK follows and stays published.
	next := newTestChain(t, "edge.example.com")
	w.must(w.dora, http.MethodPut, certsPath+"edge-tls/?jwkUpdateAction=UPDATE", map[string]any{"certificateEnvironmentList": []any{
		certConfig("production", pemOf(next.leaf), "edge")}})
	set = w.jwks("payments", "production")
	if len(set.Keys) != 1 || set.Keys[0]["x5c"].([]any)[0] != base64.StdEncoding.EncodeToString(next.leaf.Raw) {
		t.Errorf("JWKS after UPDATE: %v", set.Keys)
	}

	// Exports: one file per format, and the ZIP of every environment.
	for format, ct := range map[string]string{"pem": "application/x-pem-file", "der": "application/pkix-cert"} {
		ex := apiSend(t, w.env, apiRequest{Method: http.MethodGet, Path: certsPath + "root-ca/export/?environment=development&format=" + format, Authorization: "Bearer " + w.vic})
		if ex.Status != http.StatusOK || ex.Header.Get("Content-Type") != ct || !strings.Contains(ex.Header.Get("Content-Disposition"), "root-ca-development.") {
			t.Errorf("export %s: %d %s %s", format, ex.Status, ex.Header.Get("Content-Type"), ex.Header.Get("Content-Disposition"))
		}
	}

	// The ZIP holds each environment's certificate as DER, and the PKCS#7
	// carries the chain, as openssl reads them.
	zr := apiSend(t, w.env, apiRequest{Method: http.MethodGet, Path: certsPath + "root-ca/export/", Authorization: "Bearer " + w.vic})
	z, err := zip.NewReader(bytes.NewReader(zr.Raw), int64(len(zr.Raw)))
	if err != nil || zr.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("ZIP export: %v %s", err, zr.Header.Get("Content-Type"))
	}
	var names []string
	for _, f := range z.File {
		names = append(names, f.Name)
		rc, _ := f.Open()
		der, _ := io.ReadAll(rc)
		if c, err := x509.ParseCertificate(der); err != nil || !c.Equal(chain.root) {
			t.Errorf("%s in the ZIP: %v", f.Name, err)
		}
	}
	if !slices.Equal(names, []string{"root-ca-development.cer", "root-ca-production.cer"}) {
		t.Errorf("ZIP entries %v", names)
	}
	p7 := apiSend(t, w.env, apiRequest{Method: http.MethodGet, Path: certsPath + "edge-tls/export/?environment=production&format=p7b", Authorization: "Bearer " + w.vic})
	cmd := exec.Command("openssl", "pkcs7", "-inform", "DER", "-print_certs", "-noout")
	cmd.Stdin = bytes.NewReader(p7.Raw)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "subject=CN") || !strings.Contains(string(out), "edge.example.com") {
		t.Errorf("openssl pkcs7 on the p7b export: %v %s", err, out)
	}

	// Delete with DELETE: the JWK goes too, and the JWKS is empty.
	w.must(w.dora, http.MethodDelete, certsPath+"edge-tls/?jwkDeleteAction=DELETE", nil)
	if got := listedNames(w.must(w.root, http.MethodGet, jwksPath, nil)); len(got) != 0 {
		t.Errorf("JWKs after Delete JWKS: %v", got)
	}
	if set := w.jwks("payments", "production"); len(set.Keys) != 0 {
		t.Errorf("JWKS after Delete JWKS: %v", set.Keys)
	}
}

func sha256Sum(b []byte) []byte {
	sum := sha256.Sum256(b)
	return sum[:]
}

// multipartForm is a multipart/form-data body.
type multipartForm struct {
	contentType, body string
}

func multipartBody(t *testing.T, fields map[string]string, fileField, fileName string, file []byte) multipartForm {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile(fileField, fileName)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(file)
	mw.Close()
	return multipartForm{contentType: mw.FormDataContentType(), body: b.String()}
}

// TestAPICertificateBadInputChangesNothing: each refusal is a 400 (or 404)
// naming the field, and no table changes.
func TestAPICertificateBadInputChangesNothing(t *testing.T) {
	w := newSecretsWorld(t)
	chain := newTestChain(t, "edge.example.com")
	w.must(w.dora, http.MethodPost, certsPath, certBody("existing", certConfig("production", pemOf(chain.leaf), "taken")))
	other := newTestChain(t, "other.example.com")
	list := "certificateEnvironmentList"
	cases := []struct {
		name   string
		path   string
		body   any
		status int
		field  string
		says   string
	}{
		{"duplicate name", "", certBody("existing", certConfig("development", pemOf(other.leaf), "")), 400, "name", "already exists"},
		{"reserved name", "", certBody("new", certConfig("development", pemOf(other.leaf), "")), 400, "name", "reserved"},
		{"duplicate alias in an environment", "", certBody("c", certConfig("production", pemOf(other.leaf), "taken")), 400, list + "[0].alias", `used by certificate "existing"`},
		{"unknown environment", "", certBody("c", certConfig("nope", pemOf(other.leaf), "")), 400, list + "[0].environmentName", `"nope" does not exist`},
		{"same environment twice", "", certBody("c", certConfig("development", pemOf(other.leaf), ""), certConfig("development", pemOf(other.leaf), "")), 400,
			list + "[1].environmentName", "configured twice"},
		{"not a certificate", "", certBody("c", certConfig("development", []byte("hello"), "")), 400, list + "[0].content", ""},
		{"content not base64", "", certBody("c", map[string]any{"environmentName": "development", "content": "*not base64*"}), 400, list + "[0].content", "base64"},
		{"missing content", "", certBody("c", map[string]any{"environmentName": "development"}), 400, list + "[0].content", "required"},
		{"pick out of range", "", certBody("c", map[string]any{"environmentName": "development", "content": base64.StdEncoding.EncodeToString(pemOf(other.leaf)), "pick": 3}),
			400, list + "[0].pick", "Choose one of the 1"},
		{"control character in an alias", "", certBody("c", certConfig("development", pemOf(other.leaf), "a\x07")), 400, list + "[0].alias", "control characters"},
		{"a private key", "", certBody("c", certConfig("development", certtest.NewChain(t, certtest.Options{}).LeafKeyPEM(t), "")), 400, list + "[0].content", "Keys"},
		{"truncated DER", "", certBody("c", map[string]any{"environmentName": "development", "fileName": "c.der",
			"content": base64.StdEncoding.EncodeToString(other.leaf.Raw[:len(other.leaf.Raw)/2])}), 400, list + "[0].content", ""},
		{"trailing bytes after DER", "", certBody("c", map[string]any{"environmentName": "development", "fileName": "c.der",
			"content": base64.StdEncoding.EncodeToString(append(append([]byte{}, other.leaf.Raw...), "junk"...))}), 400, list + "[0].content", ""},
		{"a negative serial", "", certBody("c", map[string]any{"environmentName": "development", "fileName": "c.der",
			"content": base64.StdEncoding.EncodeToString(certtest.NegativeSerial(t))}), 400, list + "[0].content", "serial"},
		{"over 256 KiB", "", certBody("c", certConfig("development", append(pemOf(other.leaf), make([]byte, 256<<10)...), "")), 400, list + "[0].content", "256 KiB"},
		{"PKCS#12 with a wrong password", "", certBody("c", map[string]any{"environmentName": "development", "fileName": "c.p12", "password": "wrong",
			"content": base64.StdEncoding.EncodeToString(pkcs12Of(t, other))}), 400, list + "[0].content", "password"},
		{"null list", "", `{"name": "c", "certificateEnvironmentList": null}`, 400, list, "not null"},
		{"empty list", "", certBody("c"), 400, list, "at least one environment"},
		{"bad expiresWithin", certsPath + "?expiresWithin=soon", nil, 400, "expiresWithin", "such as 30d"},
		{"unknown certificate", certsPath + "nope/", nil, 404, "", `Certificate "nope" does not exist`},
		{"a non-CA into the truststore", "/apiops/environments/production/truststore/", map[string]any{"content": base64.StdEncoding.EncodeToString(pemOf(other.leaf))},
			400, "content", "not a CA certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path, method, token := c.path, http.MethodPost, w.dora
			if path == "" {
				path = certsPath
			}
			if c.body == nil {
				method = http.MethodGet
			}
			if strings.Contains(path, "truststore") {
				token = w.root
			}
			before := w.secretsState(t)
			r := apiSend(t, w.env, apiRequest{Method: method, Path: path, Authorization: "Bearer " + token, Body: c.body})
			checkAPIAnswer(t, r, c.status)
			if f, _ := r.Body["field"].(string); f != c.field {
				t.Errorf("field %q, want %q (%s)", f, c.field, r.Raw)
			}
			if d, _ := r.Body["error_description"].(string); !strings.Contains(d, c.says) {
				t.Errorf("error_description %q does not say %q", d, c.says)
			}
			if d := w.changedSince(t, before); d != "" {
				t.Errorf("changed: %s", d)
			}
		})
	}
}

// TestAPICertificatePermissions runs the SECRETS matrix over the
// certificate routes; exports need only VIEW.
func TestAPICertificatePermissions(t *testing.T) {
	w := newSecretsWorld(t)
	chain := newTestChain(t, "edge.example.com")
	w.must(w.root, http.MethodPost, certsPath, certBody("existing", certConfig("development", pemOf(chain.leaf), "")))
	runPermissionMatrix(t, w.env, "payments", secretsArea, []matrixRoute{
		{"list", http.MethodGet, certsPath, nil, needView, ""},
		{"get", http.MethodGet, certsPath + "existing/", nil, needView, ""},
		{"export", http.MethodGet, certsPath + "existing/export/?environment=development&format=pem", nil, needView, "certificate.export"},
		{"create (deploys)", http.MethodPost, certsPath, certBody("created", certConfig("production", pemOf(chain.intermediate), "")), needDeploy, "certificate.create"},
		{"undeploy", http.MethodDelete, certsPath + "existing/environments/development/", nil, needDeploy, "certificate.undeploy"},
		{"delete (undeploys)", http.MethodDelete, certsPath + "existing/", nil, needDeploy, "certificate.delete"},
	})
	if got := listedNames(w.must(w.root, http.MethodGet, certsPath, nil)); !slices.Equal(got, []string{"created"}) {
		t.Errorf("certificates after the matrix: %v, want [created]", got)
	}
}

// TestAPITruststoreIsADeploy: adding and removing a CA and leaving the
// built-in roots out each raise the revision and land in the bundle;
// only admins may change it.
func TestAPITruststoreIsADeploy(t *testing.T) {
	w := newSecretsWorld(t)
	chain := newTestChain(t, "edge.example.com")
	tok := w.must(w.root, http.MethodPost, "/apiops/environments/production/gatewayTokens/", map[string]string{"name": "edge"}).Body["token"].(string)
	add := map[string]any{"content": base64.StdEncoding.EncodeToString(chain.root.Raw), "alias": "test root"}
	before := w.secretsState(t)
	r := apiSend(t, w.env, apiRequest{Method: http.MethodPost, Path: "/apiops/environments/production/truststore/", Authorization: "Bearer " + w.dora, Body: add})
	checkAPIAnswer(t, r, http.StatusForbidden)
	if d := w.changedSince(t, before); d != "" {
		t.Errorf("a refused addition changed %s", d)
	}
	rev := w.revision("production")
	w.must(w.root, http.MethodPost, "/apiops/environments/production/truststore/", add)
	w.must(w.root, http.MethodPut, "/apiops/environments/production/truststore/builtInRoots/", map[string]any{"include": false})
	b := w.must(tok, http.MethodGet, "/apiops/environments/production/bundle", nil).Body["bundle"].(map[string]any)
	ts := b["truststore"].(map[string]any)
	cas := ts["cas"].([]any)
	if w.revision("production") != rev+2 || ts["builtInRoots"] != false || len(cas) != 1 || cas[0].(map[string]any)["alias"] != "test root" {
		t.Errorf("revision %d (was %d), truststore %v", w.revision("production"), rev, ts)
	}
	// The JKS export, as keytool reads it: the added CA only (built-in roots left out).
	jks := apiSend(t, w.env, apiRequest{Method: http.MethodGet, Path: "/apiops/environments/production/truststore/export?format=jks&password=changeit", Authorization: "Bearer " + w.vic})
	file := filepath.Join(t.TempDir(), "trust.jks")
	if err := os.WriteFile(file, jks.Raw, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("keytool", "-list", "-keystore", file, "-storepass", "changeit").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "1 entry") || !strings.Contains(string(out), "trustedCertEntry") {
		t.Errorf("keytool -list: %v %s", err, out)
	}
	noPassword := apiSend(t, w.env, apiRequest{Method: http.MethodGet, Path: "/apiops/environments/production/truststore/export?format=p12", Authorization: "Bearer " + w.vic})
	checkAPIAnswer(t, noPassword, http.StatusBadRequest)
	before = w.secretsState(t)
	again := apiSend(t, w.env, apiRequest{Method: http.MethodPost, Path: "/apiops/environments/production/truststore/", Authorization: "Bearer " + w.root, Body: add})
	checkAPIAnswer(t, again, http.StatusBadRequest)
	if d := w.changedSince(t, before); d != "" || !strings.Contains(string(again.Raw), "already in the truststore") {
		t.Errorf("adding a CA twice: %s; changed %s", again.Raw, d)
	}
	// A built-in root cannot be removed (only all of them left out), and an
	// unknown CA is not there: both refused, nothing changed.
	for _, c := range []struct {
		sha    string
		status int
		says   string
	}{{sha256Hex(certs.BuiltinRoots()[0].Raw), http.StatusBadRequest, "built-in root"}, {strings.Repeat("0", 64), http.StatusNotFound, "no added CA"}} {
		before := w.secretsState(t)
		r := apiSend(t, w.env, apiRequest{Method: http.MethodDelete, Path: "/apiops/environments/production/truststore/" + c.sha + "/", Authorization: "Bearer " + w.root})
		checkAPIAnswer(t, r, c.status)
		if d := w.changedSince(t, before); d != "" || !strings.Contains(string(r.Raw), c.says) {
			t.Errorf("remove %s: %s; changed %s", c.sha, r.Raw, d)
		}
	}
	w.must(w.root, http.MethodDelete, "/apiops/environments/production/truststore/"+sha256Hex(chain.root.Raw)+"/", nil)
	if got := w.must(w.vic, http.MethodGet, "/apiops/environments/production/truststore/", nil).Body; got["builtInRoots"] != false ||
		strings.Contains(fmt.Sprint(got["resultList"]), "test root") || w.revision("production") != rev+3 {
		t.Errorf("after removal: %v", got)
	}
}

// TestAPICertificateFetch: the chain a loopback TLS server presents comes
// back leaf first with its PEM, which a create then stores with its URL;
// refused and unreachable addresses are clear 400s about the url.
func TestAPICertificateFetch(t *testing.T) {
	w := newSecretsWorld(t)
	chain := newTestChain(t, "edge.example.com")
	url := tlsServer(t, chain)
	// vic only views: the server makes the connection, so fetching needs MANAGE somewhere.
	refused := apiSend(t, w.env, apiRequest{Method: http.MethodPost, Path: "/apiops/certificates/fetch", Authorization: "Bearer " + w.vic, Body: map[string]any{"url": url}})
	checkAPIAnswer(t, refused, http.StatusForbidden)
	r := w.must(w.manny, http.MethodPost, "/apiops/certificates/fetch", map[string]any{"url": url})
	got := r.Body["chain"].([]any)
	if len(got) != 2 || got[0].(map[string]any)["subjectDn"] != "CN=edge.example.com" || got[1].(map[string]any)["subjectDn"] != chain.intermediate.Subject.String() {
		t.Fatalf("chain %v", got)
	}
	if r.Body["url"] != url || !strings.Contains(r.Body["pem"].(string), "BEGIN CERTIFICATE") {
		t.Errorf("fetch answer %s", r.Raw)
	}
	if !strings.Contains(fmt.Sprint(r.Body["analysis"]), "hostname_mismatch") {
		t.Errorf("no hostname mismatch for a certificate of edge.example.com fetched from 127.0.0.1: %v", r.Body["analysis"])
	}
	w.must(w.dora, http.MethodPost, certsPath, map[string]any{"name": "fetched", "certificateEnvironmentList": []any{map[string]any{
		"environmentName": "production", "content": base64.StdEncoding.EncodeToString([]byte(r.Body["pem"].(string))), "url": url}}})
	c := w.must(w.vic, http.MethodGet, certsPath+"fetched/", nil).Body["certificate"].(map[string]any)
	e := c["certificateEnvironmentList"].([]any)[0].(map[string]any)
	if e["source"] != "URL" || e["sourceUrl"] != url || e["sha256Thumbprint"] != sha256Hex(chain.leaf.Raw) || len(e["chain"].([]any)) != 1 {
		t.Errorf("stored from the fetch: %v", e)
	}
	for _, c := range []struct{ url, says string }{
		{"https://169.254.169.254", "link-local"},
		{"ftp://example.com", "https://, ldaps:// or ldap://"},
		{"https://127.0.0.1:1", "refused the connection"},
	} {
		r := apiSend(t, w.env, apiRequest{Method: http.MethodPost, Path: "/apiops/certificates/fetch", Authorization: "Bearer " + w.manny, Body: map[string]any{"url": c.url}})
		checkAPIAnswer(t, r, http.StatusBadRequest)
		if r.Body["field"] != "url" || !strings.Contains(r.Body["error_description"].(string), c.says) {
			t.Errorf("fetch %s: %s", c.url, r.Raw)
		}
	}
}

// pkcs12Of is a PKCS#12 file with the chain's leaf and key, password "right".
func pkcs12Of(t *testing.T, c testChain) []byte {
	t.Helper()
	b, err := pkcs12.Modern2023.Encode(c.leafKey, c.leaf, []*x509.Certificate{c.intermediate}, "right")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
