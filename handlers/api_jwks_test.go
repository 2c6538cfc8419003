package handlers_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const jwksPath = "/apiops/projects/payments/jwks/"

// jwkBody is the body of POST .../jwks/ from a key; no envs is an empty
// list (null is refused).
func jwkBody(name, source, use, alg, kid string, envs ...string) map[string]any {
	if envs == nil {
		envs = []string{}
	}
	b := map[string]any{"name": name, "sourceType": "KEY", "sourceName": source, "use": use, "alg": alg, "environmentNames": envs}
	if kid != "" {
		b["kid"] = kid
	}
	return b
}

// publicJWKS fetches /jwks/{project}/{env} with no credentials at all.
func publicJWKS(t *testing.T, url string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestAPIJWKCreateListGetDelete(t *testing.T) {
	w := newSecretsWorld(t)
	m := testKeys()
	w.must(w.dora, http.MethodPost, keysPath, keyBody("signer", "PRIVATE_KEY", "",
		keyConfig("development", privatePEM(t, m.rsaA), ""), keyConfig("production", privatePEM(t, m.rsaB), "")))
	w.must(w.dora, http.MethodPost, keysPath, keyBody("ec-signer", "PRIVATE_KEY", "", keyConfig("development", privatePEM(t, m.ec), "")))
	w.must(w.dora, http.MethodPost, keysPath, keyBody("gateway-cert", "PUBLIC_KEY", "", keyConfig("production", m.certA, "")))
	devRev, prodRev := w.revision("development"), w.revision("production")

	r := w.must(w.dora, http.MethodPost, jwksPath, jwkBody("signer-jwk", "signer", "sig", "RS256", "", "development", "production"))
	checkDeployment(t, r, "Deployed to 2 environment(s).", "development", "production")
	if r.Body["name"] != "signer-jwk" {
		t.Errorf("name = %v", r.Body["name"])
	}
	if w.revision("development") != devRev+1 || w.revision("production") != prodRev+1 {
		t.Errorf("revisions did not grow by one each")
	}
	w.must(w.dora, http.MethodPost, strings.TrimSuffix(jwksPath, "/"), jwkBody("ec-jwk", "ec-signer", "sig", "ES256", "ec-2026", "development"))
	w.must(w.dora, http.MethodPost, jwksPath, jwkBody("cert-jwk", "gateway-cert", "enc", "RSA-OAEP-256", "", "production"))

	list := w.must(w.vic, http.MethodGet, jwksPath, nil)
	if got := listedNames(list); !slices.Equal(got, []string{"cert-jwk", "ec-jwk", "signer-jwk"}) {
		t.Errorf("JWKs: %v", got)
	}
	j := w.must(w.vic, http.MethodGet, jwksPath+"signer-jwk/", nil).Body["jwk"].(map[string]any)
	if j["sourceType"] != "KEY" || j["sourceName"] != "signer" || j["connected"] != true || j["use"] != "sig" || j["alg"] != "RS256" || j["secret"] != false {
		t.Errorf("signer-jwk = %v", j)
	}
	envs := j["environments"].([]any)
	if len(envs) != 2 {
		t.Fatalf("signer-jwk environments: %v", envs)
	}
	for i, want := range []*rsa.PrivateKey{m.rsaA, m.rsaB} {
		e := envs[i].(map[string]any)
		jwk := e["jwk"].(map[string]any)
		// The default kid is the RFC 7638 thumbprint of the public key.
		tp, err := (&jose.JSONWebKey{Key: &want.PublicKey}).Thumbprint(crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		kid := base64.RawURLEncoding.EncodeToString(tp)
		if e["deployed"] != true || e["kid"] != kid || jwk["kid"] != kid || jwk["n"] != modulus(want) || jwk["e"] != "AQAB" ||
			jwk["use"] != "sig" || jwk["alg"] != "RS256" || jwk["d"] != nil {
			t.Errorf("signer-jwk in %s = %v", e["environmentName"], e)
		}
	}
	ec := w.jwk("ec-jwk")["environments"].([]any)[0].(map[string]any)["jwk"].(map[string]any)
	if ec["kty"] != "EC" || ec["crv"] != "P-256" || ec["kid"] != "ec-2026" || ec["x"] == nil || ec["d"] != nil {
		t.Errorf("ec-jwk = %v", ec)
	}
	// A JWK from a certificate carries x5c and x5t#S256.
	cert := w.jwk("cert-jwk")["environments"].([]any)[0].(map[string]any)["jwk"].(map[string]any)
	blk, _ := pem.Decode(m.certA)
	sum := sha256.Sum256(blk.Bytes)
	if x5c, _ := cert["x5c"].([]any); len(x5c) != 1 || x5c[0] != base64.StdEncoding.EncodeToString(blk.Bytes) {
		t.Errorf("cert-jwk x5c = %v", cert["x5c"])
	}
	if cert["x5t#S256"] != base64.RawURLEncoding.EncodeToString(sum[:]) || cert["use"] != "enc" {
		t.Errorf("cert-jwk = %v, want x5t#S256 and use enc", cert)
	}

	// Delete undeploys from every environment and leaves the key alone.
	devRev, prodRev = w.revision("development"), w.revision("production")
	r = w.must(w.dora, http.MethodDelete, jwksPath+"signer-jwk/", nil)
	checkDeployment(t, r, "Undeployed from 2 environment(s).", "development", "production")
	if w.revision("development") != devRev+1 || w.revision("production") != prodRev+1 {
		t.Errorf("revisions did not grow by one each")
	}
	if d := w.deployments("production")[0]; d["action"] != "undeploy" || d["objectType"] != "jwk" || d["objectName"] != "signer-jwk" || d["actor"] != "dora" {
		t.Errorf("history: %v", d)
	}
	checkAPIAnswer(t, apiSend(t, w.env, apiRequest{Method: http.MethodGet, Path: jwksPath + "signer-jwk/", Authorization: "Bearer " + w.root}), http.StatusNotFound)
	checkAPIAnswer(t, apiSend(t, w.env, apiRequest{Method: http.MethodDelete, Path: jwksPath + "signer-jwk", Authorization: "Bearer " + w.root}), http.StatusNotFound)
	if got := w.jwks("payments", "development").kids(); !slices.Equal(got, []string{"ec-2026"}) {
		t.Errorf("development JWKS after delete: %v", got)
	}
	if got := toStrings(w.key("signer")["jwks"]); len(got) != 0 {
		t.Errorf("signer lists %v", got)
	}
}

func TestAPIJWKPermissions(t *testing.T) {
	w := newSecretsWorld(t)
	m := testKeys()
	w.must(w.root, http.MethodPost, keysPath, keyBody("signer", "PRIVATE_KEY", "", keyConfig("development", privatePEM(t, m.rsaA), "")))
	w.must(w.root, http.MethodPost, jwksPath, jwkBody("existing", "signer", "sig", "RS256", "", "development"))
	runPermissionMatrix(t, w.env, "payments", secretsArea, []matrixRoute{
		{"list", http.MethodGet, jwksPath, nil, needView, ""},
		{"get", http.MethodGet, jwksPath + "existing/", nil, needView, ""},
		{"create (deploys)", http.MethodPost, jwksPath, jwkBody("created", "signer", "sig", "PS256", "", "development"), needDeploy, "jwk.create"},
		{"delete (undeploys)", http.MethodDelete, jwksPath + "existing/", nil, needDeploy, "jwk.delete"},
	})
	if got := listedNames(w.must(w.root, http.MethodGet, jwksPath, nil)); !slices.Equal(got, []string{"created"}) {
		t.Errorf("JWKs after the matrix: %v, want [created]", got)
	}
}

func TestAPIJWKBadInputChangesNothing(t *testing.T) {
	w := newSecretsWorld(t)
	m := testKeys()
	w.must(w.dora, http.MethodPost, keysPath, keyBody("signer", "PRIVATE_KEY", "", keyConfig("development", privatePEM(t, m.rsaA), "")))
	w.must(w.dora, http.MethodPost, keysPath, keyBody("session-key", "SECRET_KEY", "", keyConfig("development", secretBytes(32, 1), "")))
	w.must(w.dora, http.MethodPost, keysPath, keyBody("legacy", "SECRET_KEY", "", keyConfig("development", secretBytes(8, 1), "")))
	w.must(w.dora, http.MethodPost, jwksPath, jwkBody("existing", "signer", "sig", "RS256", "", "development"))
	cases := []struct {
		name   string
		path   string
		body   any
		status int
		field  string
		says   string
		audit  bool
	}{
		{"duplicate JWK name", "", jwkBody("existing", "signer", "sig", "RS256", "", "development"), 400, "name", "already exists", true},
		{"invalid JWK name", "", jwkBody("bad name", "signer", "sig", "RS256", "", "development"), 400, "name", "not valid", true},
		{"unknown sourceName", "", jwkBody("j", "nope", "sig", "RS256", "", "development"), 400, "sourceName", `Key "nope" does not exist`, true},
		{"unknown sourceType", "", map[string]any{"name": "j", "sourceType": "SECRET", "sourceName": "signer", "use": "sig", "alg": "RS256",
			"environmentNames": []string{"development"}}, 400, "sourceType", "use KEY", true},
		{"wrong alg for an RSA key", "", jwkBody("j", "signer", "sig", "ES256", "", "development"), 400, "alg", "does not fit", true},
		{"signing alg for encryption", "", jwkBody("j", "signer", "enc", "RS256", "", "development"), 400, "alg", "RSA-OAEP", true},
		{"HS512 for a 256-bit secret", "", jwkBody("j", "session-key", "sig", "HS512", "", "development"), 400, "alg", "HS256", true},
		{"DES for encryption", "", jwkBody("j", "legacy", "enc", "A128KW", "", "development"), 400, "use", "no JWA algorithm", true},
		{"unknown use", "", jwkBody("j", "signer", "sign", "RS256", "", "development"), 400, "use", "sig or enc", true},
		{"kid too long", "", jwkBody("j", "signer", "sig", "RS256", strings.Repeat("k", 201), "development"), 400, "kid", "at most 200", true},
		{"no environment", "", jwkBody("j", "signer", "sig", "RS256", ""), 400, "environmentNames", "at least one", true},
		{"environment the key is not in", "", jwkBody("j", "signer", "sig", "RS256", "", "development", "production"), 400,
			"environmentNames[1]", `no configuration in environment "production"`, true},
		{"unknown environment", "", jwkBody("j", "signer", "sig", "RS256", "", "nope"), 400, "environmentNames[0]", `"nope"`, true},
		{"environment twice", "", jwkBody("j", "signer", "sig", "RS256", "", "development", "development"), 400, "environmentNames[1]", "listed twice", true},
		{"null environmentNames", "", `{"name":"j","sourceType":"KEY","sourceName":"signer","use":"sig","alg":"RS256","environmentNames":null}`,
			400, "environmentNames", "not null", false},
		{"missing environmentNames", "", `{"name":"j","sourceType":"KEY","sourceName":"signer","use":"sig","alg":"RS256"}`,
			400, "environmentNames", "required", false},
		{"malformed JSON", "", `{"name":`, 400, "", "not valid JSON", false},
		{"unknown project", "/apiops/projects/nope/jwks/", jwkBody("j", "signer", "sig", "RS256", "", "development"), 404, "", `"nope" does not exist`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if path == "" {
				path = jwksPath
			}
			before, audit := w.secretsState(t), len(auditRows(t, w.env))
			r := apiSend(t, w.env, apiRequest{Method: http.MethodPost, Path: path, Authorization: "Bearer " + w.dora, Body: c.body})
			checkAPIAnswer(t, r, c.status)
			if got, _ := r.Body["field"].(string); got != c.field {
				t.Errorf("field %q, want %q (body %s)", got, c.field, r.Raw)
			}
			if d, _ := r.Body["error_description"].(string); !strings.Contains(d, c.says) {
				t.Errorf("error_description %q does not say %q", d, c.says)
			}
			if d := w.changedSince(t, before); d != "" {
				t.Errorf("the refused request changed the state: %s", d)
			}
			if c.audit {
				checkRefusal(t, w.env, audit, "jwk.create")
			} else {
				checkRefusal(t, w.env, audit)
			}
		})
	}
}

func TestJWKSEndpoint(t *testing.T) {
	w := newSecretsWorld(t)
	m := testKeys()
	url := w.env.URL("/jwks/payments/development")

	// An existing pair with nothing deployed: an empty set, cacheable too.
	resp, body := publicJWKS(t, url, nil)
	if resp.StatusCode != http.StatusOK || string(body) != `{"keys":[]}` {
		t.Fatalf("empty JWKS: %d %s", resp.StatusCode, body)
	}
	emptyTag := resp.Header.Get("ETag")
	if emptyTag == "" {
		t.Error("the empty JWKS has no ETag")
	}

	w.must(w.dora, http.MethodPost, keysPath, keyBody("signer", "PRIVATE_KEY", "", keyConfig("development", privatePEM(t, m.rsaA), "")))
	w.must(w.dora, http.MethodPost, keysPath, keyBody("ec-signer", "PRIVATE_KEY", "", keyConfig("development", privatePEM(t, m.ec), "")))
	w.must(w.dora, http.MethodPost, keysPath, keyBody("session-key", "SECRET_KEY", "", keyConfig("development", secretBytes(32, 1), "")))
	// A key alone publishes nothing in the JWKS.
	if _, body := publicJWKS(t, url, nil); string(body) != `{"keys":[]}` {
		t.Errorf("JWKS with keys but no JWK: %s", body)
	}
	w.must(w.dora, http.MethodPost, jwksPath, jwkBody("signer-jwk", "signer", "sig", "RS256", "rsa-1", "development"))
	w.must(w.dora, http.MethodPost, jwksPath, jwkBody("ec-jwk", "ec-signer", "sig", "ES256", "ec-1", "development"))
	w.must(w.dora, http.MethodPost, jwksPath, jwkBody("session-jwk", "session-key", "sig", "HS256", "oct-1", "development"))

	resp, body = publicJWKS(t, url, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("JWKS: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/jwk-set+json") {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") || !strings.Contains(cc, "public") {
		t.Errorf("Cache-Control %q", cc)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" || etag == emptyTag || !strings.HasPrefix(etag, `"`) {
		t.Errorf("ETag %q (empty set had %q)", etag, emptyTag)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("the JWKS does not parse as a JWK Set: %v\n%s", err, body)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KeyID)
		if !k.IsPublic() {
			t.Errorf("JWK %s is not public", k.KeyID)
		}
	}
	slices.Sort(kids)
	if !slices.Equal(kids, []string{"ec-1", "rsa-1"}) {
		t.Errorf("kids %v: want the RSA and EC JWKs and never the secret one", kids)
	}
	var raw struct{ Keys []map[string]any }
	_ = json.Unmarshal(body, &raw)
	for _, k := range raw.Keys {
		for _, member := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"} {
			if _, ok := k[member]; ok {
				t.Errorf("JWK %v has the private member %q", k["kid"], member)
			}
		}
		if k["kty"] == "oct" {
			t.Errorf("a secret JWK is published: %v", k)
		}
	}
	if strings.Contains(string(body), base64.RawURLEncoding.EncodeToString(secretBytes(32, 1))) {
		t.Error("the JWKS holds the secret key")
	}

	// Conditional requests.
	resp, body = publicJWKS(t, url, http.Header{"If-None-Match": {etag}})
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get("ETag") != etag {
		t.Errorf("If-None-Match: %d %q ETag %q, want 304 with the ETag", resp.StatusCode, body, resp.Header.Get("ETag"))
	}
	if resp, _ := publicJWKS(t, url, http.Header{"If-None-Match": {emptyTag}}); resp.StatusCode != http.StatusOK {
		t.Errorf("a stale ETag: %d, want 200", resp.StatusCode)
	}
	// A list of tags, and a weak tag, match as RFC 9110 says.
	if resp, _ := publicJWKS(t, url, http.Header{"If-None-Match": {emptyTag + ", W/" + etag}}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match list with a weak tag: %d, want 304", resp.StatusCode)
	}
	// The ETag follows the content: deleting a JWK changes it.
	w.must(w.dora, http.MethodDelete, jwksPath+"ec-jwk/", nil)
	resp, _ = publicJWKS(t, url, http.Header{"If-None-Match": {etag}})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == etag {
		t.Errorf("after a change: %d ETag %q, want 200 and a new ETag", resp.StatusCode, resp.Header.Get("ETag"))
	}

	// Public: no credentials needed, and credentials change nothing.
	resp, _ = publicJWKS(t, url, http.Header{"Authorization": {"Bearer nonsense"}})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("with a bogus Authorization header: %d", resp.StatusCode)
	}
	// Other pairs.
	for _, c := range []struct {
		path   string
		status int
		body   string
	}{
		{"/jwks/payments/production", http.StatusOK, `{"keys":[]}`},
		{"/jwks/billing/development", http.StatusOK, `{"keys":[]}`},
		{"/jwks/nope/development", http.StatusNotFound, ""},
		{"/jwks/payments/nope", http.StatusNotFound, ""},
	} {
		resp, body := publicJWKS(t, w.env.URL(c.path), nil)
		if resp.StatusCode != c.status || (c.body != "" && string(body) != c.body) {
			t.Errorf("GET %s: %d %s, want %d %s", c.path, resp.StatusCode, body, c.status, c.body)
		}
	}
}

// TestJWTVerifiesAgainstTheServedJWKS signs a JWT with the RSA private key a
// key was created from, and verifies it the way a gateway does: fetch the
// JWKS over HTTP, pick the key whose kid the token names, check the
// signature. The same token fails against another key's JWKS.
func TestJWTVerifiesAgainstTheServedJWKS(t *testing.T) {
	w := newSecretsWorld(t)
	m := testKeys()
	w.must(w.dora, http.MethodPost, keysPath, keyBody("signer", "PRIVATE_KEY", "", keyConfig("production", privatePEM(t, m.rsaA), "")))
	w.must(w.dora, http.MethodPost, jwksPath, jwkBody("signer-jwk", "signer", "sig", "RS256", "", "production"))
	// Another project publishes another key under the same kid.
	kid := w.jwks("payments", "production").kids()[0]
	w.must(w.root, http.MethodPost, "/apiops/projects/billing/keys/", keyBody("signer", "PUBLIC_KEY", "", keyConfig("production", publicPEM(t, &m.rsaB.PublicKey), "")))
	w.must(w.root, http.MethodPost, "/apiops/projects/billing/jwks/", jwkBody("signer-jwk", "signer", "sig", "RS256", kid, "production"))

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: m.rsaA}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	token, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: "https://idp.example.com", Subject: "alice", Audience: jwt.Audience{"payments-api"},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute))}).Serialize()
	if err != nil {
		t.Fatal(err)
	}

	verify := func(jwksURL string) error {
		t.Helper()
		resp, body := publicJWKS(t, jwksURL, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", jwksURL, resp.StatusCode)
		}
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(body, &set); err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatal(err)
		}
		keys := set.Key(tok.Headers[0].KeyID)
		if len(keys) != 1 {
			t.Fatalf("%s has %d keys with kid %q", jwksURL, len(keys), tok.Headers[0].KeyID)
		}
		var claims jwt.Claims
		if err := tok.Claims(keys[0].Key, &claims); err != nil {
			return err
		}
		return claims.Validate(jwt.Expected{Issuer: "https://idp.example.com", AnyAudience: jwt.Audience{"payments-api"}, Time: now})
	}
	if err := verify(w.env.URL("/jwks/payments/production")); err != nil {
		t.Errorf("the JWT does not verify against its key's JWKS: %v", err)
	}
	if err := verify(w.env.URL("/jwks/billing/production")); err == nil {
		t.Error("the JWT verifies against another key's JWKS")
	}

	// After "Update related JWKs" with another key the old token fails and
	// one signed with the new key verifies.
	w.must(w.dora, http.MethodPut, keysPath+"signer/?jwkUpdateAction=UPDATE", map[string]any{
		"cryptoKeyInfoEnvironmentList": []any{keyConfig("production", x509.MarshalPKCS1PrivateKey(m.rsaB), "")}})
	newKid := w.jwks("payments", "production").kids()[0]
	if newKid == kid {
		t.Fatal("the kid did not change with the material")
	}
	signer, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: m.rsaB}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", newKid))
	if err != nil {
		t.Fatal(err)
	}
	token, err = jwt.Signed(signer).Claims(jwt.Claims{Issuer: "https://idp.example.com", Audience: jwt.Audience{"payments-api"}}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	if err := verify(w.env.URL("/jwks/payments/production")); err != nil {
		t.Errorf("a JWT signed with the new key does not verify: %v", err)
	}
}
