package handlers_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/testenv"
)

// gatewayToken creates a gateway token of env as root and returns its value
// and id.
func (w *secretsWorld) gatewayToken(env, name string) (string, int64) {
	w.env.T.Helper()
	r := w.must(w.root, http.MethodPost, "/apiops/environments/"+env+"/gatewayTokens/", map[string]string{"name": name})
	return r.Body["token"].(string), int64(r.Body["id"].(float64))
}

// bundle reads an environment's bundle with a gateway token.
func (w *secretsWorld) bundle(t *testing.T, env, token string, header http.Header) testenv.APIResponse {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, w.env.URL("/apiops/environments/"+env+"/bundle"), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := testenv.APIResponse{Status: resp.StatusCode, Header: resp.Header}
	out.Raw, _ = io.ReadAll(resp.Body)
	_ = json.Unmarshal(out.Raw, &out.Body)
	if err := w.env.CheckAPIResponse(req, resp.StatusCode, resp.Header, out.Raw); err != nil {
		t.Errorf("GET %s: the answer (%d %s) disagrees with the OpenAPI document: %v", req.URL.Path, resp.StatusCode, out.Raw, err)
	}
	return out
}

func countAudit(t *testing.T, env *testenv.Env, action, outcome string) int {
	t.Helper()
	n := 0
	for _, r := range auditRows(t, env) {
		if r.Action == action && r.Outcome == outcome {
			n++
		}
	}
	return n
}

func TestGatewayTokens(t *testing.T) {
	w := newSecretsWorld(t)
	path := "/apiops/environments/development/gatewayTokens/"
	r := w.must(w.root, http.MethodPost, path, map[string]string{"name": "edge-1"})
	token, _ := r.Body["token"].(string)
	if !strings.HasPrefix(token, "kw_gw_") || len(token) < 40 || r.Body["name"] != "edge-1" {
		t.Fatalf("created: %s", r.Raw)
	}
	w.must(w.root, http.MethodPost, strings.TrimSuffix(path, "/"), map[string]string{"name": "edge-2"})

	// The value is answered once: never listed, never stored in clear.
	list := w.must(w.root, http.MethodGet, path, nil)
	if strings.Contains(string(list.Raw), token) || strings.Contains(string(list.Raw), token[len("kw_gw_")+6:]) {
		t.Errorf("the list shows the token: %s", list.Raw)
	}
	if got := listedNames(list); !slices.Equal(got, []string{"edge-2", "edge-1"}) {
		t.Errorf("tokens: %v", got)
	}
	first := list.Body["resultList"].([]any)[1].(map[string]any)
	if first["prefix"] != token[:len("kw_gw_")+6] || first["revoked"] != false {
		t.Errorf("edge-1 = %v", first)
	}
	files, _ := filepath.Glob(filepath.Join(w.env.Dir, "*"))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), token) {
			t.Errorf("%s holds the gateway token in clear", filepath.Base(f))
		}
	}
	if strings.Contains(w.env.Logs.String(), token) {
		t.Error("the logs hold the gateway token")
	}

	// Only admins manage gateway tokens.
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, path, map[string]string{"name": "mine"}},
		{http.MethodGet, path, nil},
		{http.MethodDelete, path + fmt.Sprint(first["id"]) + "/", nil},
	} {
		for _, tok := range []string{w.dora, w.vic, w.pat} {
			checkAPIAnswer(t, apiSend(t, w.env, apiRequest{Method: c.method, Path: c.path, Authorization: "Bearer " + tok, Body: c.body}), http.StatusForbidden)
		}
		checkAPIAnswer(t, apiSend(t, w.env, apiRequest{Method: c.method, Path: c.path, Body: c.body}), http.StatusUnauthorized)
	}
	// Bad input.
	for _, c := range []struct {
		path, body string
		status     int
		field      string
	}{
		{path, `{"name":"edge-1"}`, http.StatusBadRequest, "name"},
		{path, `{"name":"  "}`, http.StatusBadRequest, "name"},
		{path, `{"name":"` + strings.Repeat("n", 101) + `"}`, http.StatusBadRequest, "name"},
		{"/apiops/environments/nope/gatewayTokens/", `{"name":"x"}`, http.StatusNotFound, ""},
	} {
		before := testenv.TakeSnapshot(t, w.env)
		r := apiSend(t, w.env, apiRequest{Method: http.MethodPost, Path: c.path, Authorization: "Bearer " + w.root, Body: c.body})
		checkAPIAnswer(t, r, c.status)
		if got, _ := r.Body["field"].(string); got != c.field {
			t.Errorf("%s: field %v, want %q", c.body, r.Body["field"], c.field)
		}
		if d := before.Changes(t, testenv.AuditMayGrow); d != "" {
			t.Errorf("%s changed %s", c.body, d)
		}
	}
	checkAPIAnswer(t, apiSend(t, w.env, apiRequest{Method: http.MethodGet, Path: "/apiops/environments/nope/gatewayTokens/", Authorization: "Bearer " + w.root}), http.StatusNotFound)

	// Revoked: the token stops working at once.
	w.bundleOK(t, "development", token)
	id := fmt.Sprint(first["id"])
	w.must(w.root, http.MethodDelete, path+id+"/", nil)
	r = w.bundle(t, "development", token, nil)
	checkAPIAnswer(t, r, http.StatusUnauthorized)
	if d, _ := r.Body["error_description"].(string); !strings.Contains(d, "revoked") {
		t.Errorf("error_description %q", d)
	}
	list = w.must(w.root, http.MethodGet, path, nil)
	if got := list.Body["resultList"].([]any)[1].(map[string]any); got["revoked"] != true || got["lastUsedAt"] == nil {
		t.Errorf("revoked edge-1 = %v, want revoked with a last use", got)
	}
	for _, c := range []struct{ path string }{
		{path + id + "/"}, // already revoked
		{path + "999/"},   // unknown
		{path + "abc/"},   // not an id
		{"/apiops/environments/production/gatewayTokens/" + id + "/"}, // another environment's
	} {
		checkAPIAnswer(t, apiSend(t, w.env, apiRequest{Method: http.MethodDelete, Path: c.path, Authorization: "Bearer " + w.root}), http.StatusNotFound)
	}
	var actions []string
	for _, a := range auditRows(t, w.env) {
		if strings.HasPrefix(a.Action, "gateway_token.") {
			actions = append(actions, a.Action+" "+a.Outcome)
		}
	}
	if want := []string{"gateway_token.create success", "gateway_token.create success", "gateway_token.create denied", "gateway_token.create denied",
		"gateway_token.create denied", "gateway_token.revoke denied", "gateway_token.revoke denied", "gateway_token.revoke denied",
		"gateway_token.revoke success"}; !slices.Equal(actions, want) {
		t.Errorf("gateway token audit: %v\nwant %v", actions, want)
	}
}

// bundleOK reads a bundle and stops the test unless it is a 200.
func (w *secretsWorld) bundleOK(t *testing.T, env, token string) (map[string]any, string) {
	t.Helper()
	r := w.bundle(t, env, token, nil)
	if r.Status != http.StatusOK || r.Body["success"] != true {
		t.Fatalf("bundle of %s: %d %s", env, r.Status, r.Raw)
	}
	return r.Body["bundle"].(map[string]any), r.Header.Get("ETag")
}

func TestBundle(t *testing.T) {
	w := newSecretsWorld(t)
	m := testKeys()
	secret := secretBytes(32, 42)
	private := privatePEM(t, m.rsaA)
	w.must(w.dora, http.MethodPost, keysPath, keyBody("session-key", "SECRET_KEY", "", keyConfig("development", secret, "sess"),
		keyConfig("production", secretBytes(32, 43), "sess")))
	w.must(w.dora, http.MethodPost, keysPath, keyBody("signer", "PRIVATE_KEY", "", keyConfig("development", private, "sig")))
	w.must(w.dora, http.MethodPost, jwksPath, jwkBody("signer-jwk", "signer", "sig", "RS256", "rsa-1", "development"))
	w.must(w.dora, http.MethodPost, jwksPath, jwkBody("session-jwk", "session-key", "sig", "HS256", "", "development"))
	w.must(w.root, http.MethodPost, "/apiops/projects/billing/keys/", keyBody("billing-key", "SECRET_KEY", "", keyConfig("development", secretBytes(16, 1), "")))
	dev, _ := w.gatewayToken("development", "edge")
	prod, _ := w.gatewayToken("production", "edge")

	reads := countAudit(t, w.env, "bundle.read", "success")
	b, etag := w.bundleOK(t, "development", dev)
	rev := w.revision("development")
	if b["environment"] != "development" || b["revision"] != float64(rev) {
		t.Errorf("bundle environment %v at revision %v, want development at %d", b["environment"], b["revision"], rev)
	}
	if etag != fmt.Sprintf(`"development-%d"`, rev) {
		t.Errorf("ETag %q", etag)
	}
	// Keys, with their material as given.
	keys := map[string]map[string]any{}
	for _, k := range b["keys"].([]any) {
		k := k.(map[string]any)
		keys[k["project"].(string)+"/"+k["name"].(string)] = k
	}
	if len(keys) != 3 {
		t.Fatalf("bundle keys: %v", keys)
	}
	for name, want := range map[string][]byte{"payments/session-key": secret, "payments/signer": private, "billing/billing-key": secretBytes(16, 1)} {
		k := keys[name]
		got, err := base64.StdEncoding.DecodeString(fmt.Sprint(k["content"]))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s content decodes to %q (%v), want the original", name, got, err)
		}
		if k["deployedRevision"].(float64) < 1 || len(k["fingerprint"].(string)) != 64 {
			t.Errorf("%s = %v", name, k)
		}
	}
	if k := keys["payments/session-key"]; k["keyType"] != "SECRET_KEY" || k["algorithm"] != "AES" || k["alias"] != "sess" {
		t.Errorf("session-key = %v", k)
	}
	// JWKs: the secret one too, with its key.
	jwks := map[string]map[string]any{}
	for _, j := range b["jwks"].([]any) {
		j := j.(map[string]any)
		jwks[j["name"].(string)] = j
	}
	if j := jwks["signer-jwk"]; j == nil || j["secret"] != false || j["kid"] != "rsa-1" || j["jwk"].(map[string]any)["n"] != modulus(m.rsaA) {
		t.Errorf("signer-jwk = %v", j)
	}
	oct := jwks["session-jwk"]
	if oct == nil || oct["secret"] != true {
		t.Fatalf("session-jwk = %v", oct)
	}
	jwk := oct["jwk"].(map[string]any)
	k64 := base64.RawURLEncoding.EncodeToString(secret)
	if jwk["kty"] != "oct" || jwk["k"] != k64 || jwk["alg"] != "HS256" {
		t.Errorf("session-jwk's JWK = %v", jwk)
	}
	// Its default kid is the RFC 7638 thumbprint of {"k","kty"}.
	if want := rfc7638Oct(k64); oct["kid"] != want || jwk["kid"] != want {
		t.Errorf("session-jwk kid %v, want %s", oct["kid"], want)
	}
	// ...and never in the public JWKS.
	if got := w.jwks("payments", "development").kids(); !slices.Equal(got, []string{"rsa-1"}) {
		t.Errorf("public JWKS kids %v", got)
	}
	if countAudit(t, w.env, "bundle.read", "success") != reads+1 {
		t.Errorf("the bundle read was not audited")
	}

	// 304 while nothing changed; every read audited, the 304s too.
	for range 2 {
		r := w.bundle(t, "development", dev, http.Header{"If-None-Match": {etag}})
		if r.Status != http.StatusNotModified || len(r.Raw) != 0 || r.Header.Get("ETag") != etag {
			t.Errorf("If-None-Match: %d %s", r.Status, r.Raw)
		}
	}
	if got := countAudit(t, w.env, "bundle.read", "success"); got != reads+3 {
		t.Errorf("%d audited bundle reads, want %d", got-reads, 3)
	}
	rows := auditRows(t, w.env)
	last := rows[len(rows)-1]
	if last.Actor != "gateway" || last.Environment != "development" || last.Object != "bundle/development" || !strings.Contains(last.Detail, fmt.Sprintf("revision %d", rev)) {
		t.Errorf("audit entry %+v", last)
	}
	// Production's bundle has production's material only.
	pb, _ := w.bundleOK(t, "production", prod)
	if len(pb["keys"].([]any)) != 1 || len(pb["jwks"].([]any)) != 0 {
		t.Errorf("production bundle: %v", pb)
	}
	if c, _ := base64.StdEncoding.DecodeString(pb["keys"].([]any)[0].(map[string]any)["content"].(string)); string(c) != string(secretBytes(32, 43)) {
		t.Error("production's bundle holds another environment's material")
	}

	// An undeploy changes the revision, the ETag and the content.
	w.must(w.dora, http.MethodDelete, keysPath+"session-key/environments/development/", nil)
	r := w.bundle(t, "development", dev, http.Header{"If-None-Match": {etag}})
	if r.Status != http.StatusOK || r.Header.Get("ETag") == etag {
		t.Fatalf("after an undeploy: %d ETag %q", r.Status, r.Header.Get("ETag"))
	}
	b = r.Body["bundle"].(map[string]any)
	if b["revision"] != float64(rev+1) || len(b["keys"].([]any)) != 2 {
		t.Errorf("bundle after undeploy: revision %v, %d keys", b["revision"], len(b["keys"].([]any)))
	}
	// The secret JWK stays deployed on its own.
	if len(b["jwks"].([]any)) != 2 {
		t.Errorf("bundle JWKs after undeploying the key: %v", b["jwks"])
	}
}

// rfc7638Oct is the RFC 7638 SHA-256 thumbprint of an oct JWK.
func rfc7638Oct(k string) string {
	sum := sha256.Sum256([]byte(`{"k":"` + k + `","kty":"oct"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestBundleOnlyForItsEnvironmentsGatewayToken(t *testing.T) {
	w := newSecretsWorld(t)
	w.must(w.dora, http.MethodPost, keysPath, keyBody("session-key", "SECRET_KEY", "", keyConfig("development", secretBytes(16, 1), "")))
	dev, _ := w.gatewayToken("development", "edge")
	prod, _ := w.gatewayToken("production", "edge")
	w.bundleOK(t, "development", dev)

	denied := countAudit(t, w.env, "bundle.read", "denied")
	// Another environment's gateway token.
	r := w.bundle(t, "development", prod, nil)
	checkAPIAnswer(t, r, http.StatusForbidden)
	if strings.Contains(string(r.Raw), b64(secretBytes(16, 1))) {
		t.Error("a refused bundle read shows material")
	}
	// A personal token, even an admin's: bundles are for gateways.
	for _, tok := range []string{w.root, w.dora} {
		checkAPIAnswer(t, w.bundle(t, "development", tok, nil), http.StatusForbidden)
	}
	if got := countAudit(t, w.env, "bundle.read", "denied"); got != denied+3 {
		t.Errorf("%d refused bundle reads audited, want 3", got-denied)
	}
	// No token, an unknown one, a malformed one.
	checkAPIAnswer(t, apiSend(t, w.env, apiRequest{Method: http.MethodGet, Path: "/apiops/environments/development/bundle"}), http.StatusUnauthorized)
	checkAPIAnswer(t, w.bundle(t, "development", "kw_gw_"+strings.Repeat("A", 43), nil), http.StatusUnauthorized)
	// An unknown environment, even with a valid token of another.
	checkAPIAnswer(t, w.bundle(t, "nope", dev, nil), http.StatusForbidden)

	// A gateway token reads nothing else.
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/apiops/projects/", nil},
		{http.MethodGet, "/apiops/projects/payments/", nil},
		{http.MethodGet, "/apiops/environments/", nil},
		{http.MethodGet, "/apiops/environments/development/", nil},
		{http.MethodGet, keysPath, nil},
		{http.MethodGet, keysPath + "session-key/", nil},
		{http.MethodPost, keysPath, keyBody("k", "SECRET_KEY", "", keyConfig("development", secretBytes(16, 2), ""))},
		{http.MethodDelete, keysPath + "session-key/", nil},
		{http.MethodPost, keysPath + "session-key/environments/production/", nil},
		{http.MethodGet, jwksPath, nil},
		{http.MethodGet, "/apiops/environments/development/gatewayTokens/", nil},
		{http.MethodPost, "/apiops/environments/development/gatewayTokens/", map[string]string{"name": "more"}},
		{http.MethodGet, "/apiops/audit/", nil},
		{http.MethodGet, "/apiops/environments/development/bundle/extra", nil},
		{http.MethodGet, "/apiops/nothing/", nil},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			before := w.secretsState(t)
			checkAPIAnswer(t, apiSend(t, w.env, apiRequest{Method: c.method, Path: c.path, Authorization: "Bearer " + dev, Body: c.body}), http.StatusForbidden)
			if d := w.changedSince(t, before); d != "" {
				t.Errorf("a gateway token changed the state: %s", d)
			}
		})
	}
	// Nor any web page.
	req, _ := http.NewRequest(http.MethodGet, w.env.URL("/projects/payments/keys"), nil)
	req.Header.Set("Authorization", "Bearer "+dev)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Errorf("a gateway token opened a web page")
	}
}
