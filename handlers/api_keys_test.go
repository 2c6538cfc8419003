package handlers_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/testenv"
)

// keyMaterial is the key material the secrets tests upload, generated once
// per test binary (RSA key generation is the slow part).
type keyMaterial struct {
	rsaA, rsaB *rsa.PrivateKey
	ec         *ecdsa.PrivateKey
	certA      []byte // a self-signed certificate of rsaA, PEM
}

var testKeys = sync.OnceValue(func() keyMaterial {
	var m keyMaterial
	var err error
	if m.rsaA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if m.rsaB, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if m.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "gateway.example.com"},
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &m.rsaA.PublicKey, m.rsaA)
	if err != nil {
		panic(err)
	}
	m.certA = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return m
})

// weakRSAKey is a 512-bit RSA private key (PKCS#1 PEM): Go no longer
// generates keys this small, but files holding them still exist.
const weakRSAKey = `-----BEGIN RSA PRIVATE KEY-----
MIIBPAIBAAJBAKoPVUDf7xVSUWncyERRTk5tGIzyuVvC0yWv7Lgsoz2z2uAwIZzv
lrol6nOgTXPGbal9oKD9iYVtkIQ1wswN5lMCAwEAAQJAG5tXnKt9tXlijAvyWtzU
GHkvZho1KwdKnbCcfh2I9ogLMtrZ5WxSFLiOiFXPb2avJ4Xa6G7MKGWzJ24sOBXf
wQIhANh65WXQzss3w99rbvJMtqk1uFFpvec28ba5yXWtbtbzAiEAyRsCk470y/cq
pTPVcXQO9cBJ+q15au8tDqDufMHJSyECIQC/HJfiL9owW9XHKvAyZnknnu5OqVxm
gAIaP6BUDD168wIhAIkIl6PWqKYHYQ67GDk7vSnmAkMHTBH6sjginv9xyOkhAiEA
j58qji0iGZmXHdkLwtlNe5b/51mFRBfIcdPUW8ZRLxo=
-----END RSA PRIVATE KEY-----
`

// privatePEM encodes a private key as PKCS#8 PEM.
func privatePEM(t testing.TB, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// publicPEM encodes a public key as PKIX PEM.
func publicPEM(t testing.TB, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// secretBytes returns n distinct, recognisable bytes.
func secretBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// keyConfig is one entry of cryptoKeyInfoEnvironmentList.
func keyConfig(env string, content []byte, alias string) map[string]any {
	return map[string]any{"environmentName": env, "content": b64(content), "alias": alias}
}

// keyBody is a KeyCreateDTO; algorithm "" is left out, and no configs is
// an empty list (null is refused).
func keyBody(name, keyType, algorithm string, configs ...map[string]any) map[string]any {
	if configs == nil {
		configs = []map[string]any{}
	}
	b := map[string]any{"name": name, "description": "test key " + name, "keyType": keyType, "cryptoKeyInfoEnvironmentList": configs}
	if algorithm != "" {
		b["algorithm"] = algorithm
	}
	return b
}

// secretsWorld is project payments (and billing) with environments
// development and production, and one API token per role:
// root (admin), vic (SECRETS:VIEW), manny (VIEW and MANAGE, no DEPLOY),
// dora (VIEW, MANAGE and DEPLOY_UNDEPLOY) and pat (no permission).
type secretsWorld struct {
	env                         *testenv.Env
	root, vic, manny, dora, pat string
}

func newSecretsWorld(t testing.TB) *secretsWorld {
	t.Helper()
	env := testenv.New(t)
	for _, u := range []string{"root", "vic", "manny", "dora", "pat"} {
		env.CreateUser(u, u == "root")
	}
	w := &secretsWorld{env: env, root: env.Token("root"), vic: env.Token("vic"), manny: env.Token("manny"),
		dora: env.Token("dora"), pat: env.Token("pat")}
	for _, p := range []string{"payments", "billing"} {
		w.must(w.root, http.MethodPost, "/apiops/projects/", map[string]string{"name": p})
	}
	for _, e := range []string{"development", "production"} {
		w.must(w.root, http.MethodPost, "/apiops/environments/", map[string]string{"name": e})
	}
	env.Grant("payments", "vic", access.SecretsView)
	env.Grant("payments", "manny", access.SecretsView, access.SecretsManage)
	env.Grant("payments", "dora", access.SecretsView, access.SecretsManage, access.SecretsDeploy)
	return w
}

// must calls the API and stops the test unless it answers 200.
func (w *secretsWorld) must(token, method, path string, body any) testenv.APIResponse {
	w.env.T.Helper()
	r := w.env.API(token, method, path, body)
	if r.Status != http.StatusOK || r.Body["success"] != true {
		w.env.T.Fatalf("%s %s: status %d, body %s", method, path, r.Status, r.Raw)
	}
	return r
}

// revision reads an environment's revision through the API.
func (w *secretsWorld) revision(name string) int64 {
	w.env.T.Helper()
	r := w.must(w.root, http.MethodGet, "/apiops/environments/"+name+"/", nil)
	return int64(r.Body["environment"].(map[string]any)["revision"].(float64))
}

// deployments reads an environment's deployment history, newest first.
func (w *secretsWorld) deployments(name string) []map[string]any {
	w.env.T.Helper()
	r := w.must(w.root, http.MethodGet, "/apiops/environments/"+name+"/?size=200", nil)
	var out []map[string]any
	for _, d := range r.Body["deployments"].([]any) {
		out = append(out, d.(map[string]any))
	}
	return out
}

// key reads one key through the API.
func (w *secretsWorld) key(name string) map[string]any {
	w.env.T.Helper()
	return w.must(w.root, http.MethodGet, "/apiops/projects/payments/keys/"+name+"/", nil).Body["key"].(map[string]any)
}

// keyEnvironment returns a key's state in one environment, or nil.
func keyEnvironment(key map[string]any, env string) map[string]any {
	for _, e := range key["environments"].([]any) {
		if m := e.(map[string]any); m["environmentName"] == env {
			return m
		}
	}
	return nil
}

// jwks fetches the public JWKS of a project's environment.
func (w *secretsWorld) jwks(project, env string) jwkSet {
	w.env.T.Helper()
	resp, err := http.Get(w.env.URL("/jwks/" + project + "/" + env))
	if err != nil {
		w.env.T.Fatal(err)
	}
	defer resp.Body.Close()
	var set jwkSet
	if resp.StatusCode != http.StatusOK {
		w.env.T.Fatalf("GET /jwks/%s/%s: status %d", project, env, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		w.env.T.Fatal(err)
	}
	return set
}

// jwkSet is a decoded JWKS document.
type jwkSet struct {
	Keys []map[string]any `json:"keys"`
}

func (s jwkSet) kids() []string {
	var out []string
	for _, k := range s.Keys {
		out = append(out, fmt.Sprint(k["kid"]))
	}
	return out
}

func (s jwkSet) moduli() []string {
	var out []string
	for _, k := range s.Keys {
		if n, ok := k["n"].(string); ok {
			out = append(out, n)
		}
	}
	return out
}

// modulus is the JWK "n" of an RSA key.
func modulus(k *rsa.PrivateKey) string { return base64.RawURLEncoding.EncodeToString(k.N.Bytes()) }

// secretsSnapshot is everything a refused request must leave unchanged: every
// table (the audit log may only gain the refusal, which callers check with
// checkRefusal), the key and JWK lists and the environments as the API
// answers them, and the public JWKS of every pair (served from memory).
type secretsSnapshot struct {
	tables *testenv.Snapshot
	api    string
}

func (w *secretsWorld) secretsState(t testing.TB) secretsSnapshot {
	t.Helper()
	var b strings.Builder
	for _, p := range []string{"payments", "billing"} {
		b.Write(w.must(w.root, http.MethodGet, "/apiops/projects/"+p+"/keys/", nil).Raw)
		b.Write(w.must(w.root, http.MethodGet, "/apiops/projects/"+p+"/jwks/", nil).Raw)
	}
	b.Write(w.must(w.root, http.MethodGet, "/apiops/environments/", nil).Raw)
	b.WriteString(publishedState(t, w.env))
	return secretsSnapshot{tables: testenv.TakeSnapshot(t, w.env), api: b.String()}
}

// changedSince describes what differs from before, "" when nothing does.
func (w *secretsWorld) changedSince(t testing.TB, before secretsSnapshot) string {
	t.Helper()
	after := w.secretsState(t)
	d := before.tables.Diff(after.tables, testenv.AuditMayGrow)
	if after.api != before.api {
		d += fmt.Sprintf("the API answers changed:\nbefore %s\nafter  %s", before.api, after.api)
	}
	return d
}

// auditRow is one audit log entry, as the tests compare them.
type auditRow struct {
	ID                                          int64
	Actor, Action, Object, Environment, Outcome string
	Detail                                      string
}

func auditRows(t testing.TB, env *testenv.Env) []auditRow {
	t.Helper()
	rows, err := env.App.DB.Read.Query("SELECT id, actor, action, object, environment, outcome, detail FROM audit_log ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.ID, &r.Actor, &r.Action, &r.Object, &r.Environment, &r.Outcome, &r.Detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// checkRefusal fails unless the audit log grew by exactly the refusals
// listed ("action" of a denied entry each) since before.
func checkRefusal(t *testing.T, env *testenv.Env, before int, actions ...string) {
	t.Helper()
	rows := auditRows(t, env)
	added := rows[before:]
	if len(added) != len(actions) {
		t.Errorf("the audit log gained %d entries, want %d: %+v", len(added), len(actions), added)
		return
	}
	for i, a := range actions {
		if added[i].Action != a || added[i].Outcome != "denied" {
			t.Errorf("audit entry %+v, want a denied %s", added[i], a)
		}
	}
}

const keysPath = "/apiops/projects/payments/keys/"

func TestAPIKeyCreateDeploysToEachEnvironment(t *testing.T) {
	w := newSecretsWorld(t)
	m := testKeys()
	devBefore, prodBefore := w.revision("development"), w.revision("production")

	// One environment.
	r := w.must(w.dora, http.MethodPost, keysPath, keyBody("session-key", "SECRET_KEY", "",
		keyConfig("development", secretBytes(32, 1), "session")))
	checkDeployment(t, r, "Deployed to 1 environment(s).", "development")
	if got := w.revision("development"); got != devBefore+1 {
		t.Errorf("development revision %d, want %d", got, devBefore+1)
	}
	if got := w.revision("production"); got != prodBefore {
		t.Errorf("production revision %d, want it unchanged at %d", got, prodBefore)
	}

	// Two environments, different material in each.
	r = w.must(w.dora, http.MethodPost, keysPath, keyBody("signer", "PRIVATE_KEY", "",
		keyConfig("development", privatePEM(t, m.rsaA), "signer-dev"),
		keyConfig("production", privatePEM(t, m.rsaB), "signer-prod")))
	checkDeployment(t, r, "Deployed to 2 environment(s).", "development", "production")
	if got := w.revision("development"); got != devBefore+2 {
		t.Errorf("development revision %d, want %d", got, devBefore+2)
	}
	if got := w.revision("production"); got != prodBefore+1 {
		t.Errorf("production revision %d, want %d", got, prodBefore+1)
	}
	results := r.Body["deploymentResult"].(map[string]any)["environmentResults"].([]any)
	for _, x := range results {
		res := x.(map[string]any)
		want := fmt.Sprintf("deployed at revision %d", w.revision(res["environmentName"].(string)))
		if res["message"] != want {
			t.Errorf("%s: message %q, want %q", res["environmentName"], res["message"], want)
		}
	}

	// The history records who deployed what.
	for _, c := range []struct {
		env      string
		objects  []string
		revision int64
	}{{"development", []string{"signer", "session-key"}, devBefore + 2}, {"production", []string{"signer"}, prodBefore + 1}} {
		deps := w.deployments(c.env)
		if len(deps) != len(c.objects) {
			t.Fatalf("%s history: %v, want %d entries", c.env, deps, len(c.objects))
		}
		for i, d := range deps {
			if d["actor"] != "dora" || d["action"] != "deploy" || d["project"] != "payments" || d["objectType"] != "key" ||
				d["objectName"] != c.objects[i] || d["success"] != true || d["revision"] != float64(c.revision-int64(i)) {
				t.Errorf("%s history[%d] = %v, want dora deploying key %s at revision %d", c.env, i, d, c.objects[i], c.revision-int64(i))
			}
		}
	}

	// The key shows where it is deployed, and at which revision.
	k := w.key("signer")
	if k["keyType"] != "PRIVATE_KEY" || k["algorithm"] != "RSA" || k["description"] != "test key signer" {
		t.Errorf("signer = %v", k)
	}
	for _, env := range []string{"development", "production"} {
		e := keyEnvironment(k, env)
		if e == nil || e["deployed"] != true || e["deployedRevision"] != float64(w.revision(env)) || e["bits"] != float64(2048) ||
			e["alias"] != map[string]string{"development": "signer-dev", "production": "signer-prod"}[env] || e["source"] != "API" || len(e["fingerprint"].(string)) != 64 || e["changedSinceDeploy"] != false {
			t.Errorf("signer in %s = %v", env, e)
		}
	}
	if fa, fb := keyEnvironment(k, "development")["fingerprint"], keyEnvironment(k, "production")["fingerprint"]; fa == fb {
		t.Errorf("two different keys share fingerprint %v", fa)
	}

	// Audit: the create and one deploy per environment, all by dora.
	var actions []string
	for _, a := range auditRows(t, w.env) {
		if strings.HasPrefix(a.Action, "key.") && a.Object == "key/signer" {
			actions = append(actions, a.Action+"@"+a.Environment+"/"+a.Actor)
		}
	}
	if want := []string{"key.deploy@development/dora", "key.deploy@production/dora", "key.create@/dora"}; !slices.Equal(actions, want) {
		t.Errorf("audit of signer: %v, want %v", actions, want)
	}
}

// checkDeployment checks a deploying write's deploymentResult.
func checkDeployment(t *testing.T, r testenv.APIResponse, message string, envs ...string) {
	t.Helper()
	dr, ok := r.Body["deploymentResult"].(map[string]any)
	if !ok {
		t.Fatalf("no deploymentResult: %s", r.Raw)
	}
	if dr["success"] != true || dr["message"] != message {
		t.Errorf("deploymentResult = %v, want success and %q", dr, message)
	}
	var got []string
	for _, x := range dr["environmentResults"].([]any) {
		res := x.(map[string]any)
		got = append(got, res["environmentName"].(string))
		if res["success"] != true || res["message"] == "" {
			t.Errorf("environment result %v", res)
		}
	}
	if !slices.Equal(got, envs) {
		t.Errorf("environmentResults for %v, want %v", got, envs)
	}
}

func TestAPIKeyAlgorithmInference(t *testing.T) {
	w := newSecretsWorld(t)
	m := testKeys()
	cases := []struct {
		name, keyType, algorithm string
		content                  []byte
		want                     string
		bits                     int
	}{
		{"aes-128", "SECRET_KEY", "", secretBytes(16, 1), "AES", 128},
		{"aes-192", "SECRET_KEY", "", secretBytes(24, 2), "AES", 192},
		{"aes-256", "SECRET_KEY", "", secretBytes(32, 3), "AES", 256},
		{"des", "SECRET_KEY", "", secretBytes(8, 4), "DES", 64},
		{"desede-24", "SECRET_KEY", "DESede", secretBytes(24, 5), "DESede", 192},
		{"desede-16", "SECRET_KEY", "desede", secretBytes(16, 6), "DESede", 128},
		{"aes-named", "SECRET_KEY", "AES", secretBytes(24, 7), "AES", 192},
		{"rsa-private", "PRIVATE_KEY", "", privatePEM(t, m.rsaA), "RSA", 2048},
		{"rsa-private-der", "PRIVATE_KEY", "RSA", x509.MarshalPKCS1PrivateKey(m.rsaB), "RSA", 2048},
		{"ec-private", "PRIVATE_KEY", "", privatePEM(t, m.ec), "EC", 256},
		{"rsa-public", "PUBLIC_KEY", "", publicPEM(t, &m.rsaA.PublicKey), "RSA", 2048},
		{"rsa-public-from-cert", "PUBLIC_KEY", "", m.certA, "RSA", 2048},
		{"ec-public", "PUBLIC_KEY", "EC", publicPEM(t, &m.ec.PublicKey), "EC", 256},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w.must(w.dora, http.MethodPost, keysPath, keyBody(c.name, c.keyType, c.algorithm, keyConfig("development", c.content, "")))
			k := w.key(c.name)
			if k["algorithm"] != c.want || k["keyType"] != c.keyType {
				t.Errorf("%s %s, want %s %s", k["keyType"], k["algorithm"], c.keyType, c.want)
			}
			if e := keyEnvironment(k, "development"); e["bits"] != float64(c.bits) {
				t.Errorf("bits %v, want %d", e["bits"], c.bits)
			}
		})
	}
	// The list filters on the inferred algorithm.
	r := w.must(w.vic, http.MethodGet, keysPath+"?algorithm=DESede", nil)
	if got := listedNames(r); !slices.Equal(got, []string{"desede-16", "desede-24"}) {
		t.Errorf("DESede keys: %v", got)
	}
}

func TestAPIKeyListAndGetNeverShowMaterial(t *testing.T) {
	w := newSecretsWorld(t)
	m := testKeys()
	secret := secretBytes(32, 9)
	private := privatePEM(t, m.rsaA)
	ecPrivate := privatePEM(t, m.ec)
	w.must(w.dora, http.MethodPost, keysPath, keyBody("session-key", "SECRET_KEY", "", keyConfig("development", secret, "s")))
	w.must(w.dora, http.MethodPost, keysPath, keyBody("signer", "PRIVATE_KEY", "", keyConfig("development", private, "a")))
	w.must(w.dora, http.MethodPost, keysPath, keyBody("ec-signer", "PRIVATE_KEY", "", keyConfig("production", ecPrivate, "b")))
	w.must(w.dora, http.MethodPost, "/apiops/projects/payments/jwks/", map[string]any{"name": "session-jwk", "sourceType": "KEY",
		"sourceName": "session-key", "use": "sig", "alg": "HS256", "environmentNames": []string{"development"}})
	w.must(w.dora, http.MethodPost, "/apiops/projects/payments/jwks/", map[string]any{"name": "signer-jwk", "sourceType": "KEY",
		"sourceName": "signer", "use": "sig", "alg": "RS256", "environmentNames": []string{"development"}})

	// What must never appear: the content as sent, the PEM text and its
	// base64 body, the raw secret in hex, base64 and base64url, and the
	// private JWK members.
	forbidden := map[string]string{
		"secret base64":    b64(secret),
		"secret base64url": base64.RawURLEncoding.EncodeToString(secret),
		"secret hex":       fmt.Sprintf("%x", secret),
		"private base64":   b64(private),
		"private PEM":      string(private),
		"EC private PEM":   string(ecPrivate),
		"private exponent": base64.RawURLEncoding.EncodeToString(m.rsaA.D.Bytes()),
		"prime p":          base64.RawURLEncoding.EncodeToString(m.rsaA.Primes[0].Bytes()),
	}
	for _, line := range strings.Split(string(private), "\n")[1:4] {
		forbidden["PEM line "+line[:8]] = line
	}
	for _, tok := range []string{w.root, w.vic} {
		for _, path := range []string{keysPath, keysPath + "session-key/", keysPath + "signer/", keysPath + "ec-signer",
			"/apiops/projects/payments/jwks/", "/apiops/projects/payments/jwks/session-jwk/", "/apiops/projects/payments/jwks/signer-jwk/",
			"/apiops/environments/development/", "/apiops/audit/?project=payments", "/jwks/payments/development"} {
			r := w.env.API(tok, http.MethodGet, path, nil)
			if r.Status != http.StatusOK {
				if path == "/apiops/audit/?project=payments" && tok == w.vic {
					continue // vic holds no AUDIT:VIEW
				}
				t.Errorf("GET %s: %d %s", path, r.Status, r.Raw)
			}
			for what, s := range forbidden {
				if strings.Contains(string(r.Raw), s) {
					t.Errorf("GET %s shows the %s", path, what)
				}
			}
			for _, member := range []string{`"d":`, `"p":`, `"q":`, `"dp":`, `"dq":`, `"qi":`, `"k":`} {
				if strings.Contains(string(r.Raw), member) {
					t.Errorf("GET %s has a private JWK member %s: %s", path, member, r.Raw)
				}
			}
		}
	}
	// The signer's JWK is public: n and e only.
	j := w.must(w.vic, http.MethodGet, "/apiops/projects/payments/jwks/signer-jwk/", nil).Body["jwk"].(map[string]any)
	jwk := j["environments"].([]any)[0].(map[string]any)["jwk"].(map[string]any)
	if jwk["n"] != modulus(m.rsaA) || jwk["kty"] != "RSA" {
		t.Errorf("signer-jwk = %v", jwk)
	}
	// The secret JWK's JSON is not shown at all.
	j = w.must(w.vic, http.MethodGet, "/apiops/projects/payments/jwks/session-jwk/", nil).Body["jwk"].(map[string]any)
	if e := j["environments"].([]any)[0].(map[string]any); e["jwk"] != nil || j["secret"] != true {
		t.Errorf("session-jwk = %v", j)
	}

	// Nothing secret at rest in clear either, nor in the logs.
	files, _ := filepath.Glob(filepath.Join(w.env.Dir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for what, s := range forbidden {
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds the %s in clear", filepath.Base(f), what)
			}
		}
		if strings.Contains(string(b), string(secret)) {
			t.Errorf("%s holds the raw secret", filepath.Base(f))
		}
	}
	for what, s := range forbidden {
		if strings.Contains(w.env.Logs.String(), s) {
			t.Errorf("the logs hold the %s", what)
		}
	}
}

func TestAPIKeyGet(t *testing.T) {
	w := newSecretsWorld(t)
	m := testKeys()
	w.must(w.dora, http.MethodPost, keysPath, keyBody("verifier", "PUBLIC_KEY", "", keyConfig("production", m.certA, "gw")))
	w.must(w.dora, http.MethodPost, "/apiops/projects/payments/jwks/", map[string]any{"name": "verifier-jwk", "sourceType": "KEY",
		"sourceName": "verifier", "use": "sig", "alg": "RS256", "environmentNames": []string{"production"}})
	for _, path := range []string{keysPath + "verifier/", keysPath + "verifier"} {
		k := w.must(w.vic, http.MethodGet, path, nil).Body["key"].(map[string]any)
		if k["name"] != "verifier" || k["keyType"] != "PUBLIC_KEY" || k["algorithm"] != "RSA" || !slices.Equal(toStrings(k["jwks"]), []string{"verifier-jwk"}) {
			t.Errorf("GET %s: %v", path, k)
		}
		e := keyEnvironment(k, "production")
		if e == nil || e["format"] != "X.509 certificate PEM" || e["alias"] != "gw" || e["deployed"] != true {
			t.Errorf("GET %s: production = %v", path, e)
		}
		if keyEnvironment(k, "development") != nil {
			t.Errorf("GET %s: a development configuration appeared", path)
		}
	}
	for _, c := range []struct{ path, says string }{
		{keysPath + "nope/", `Key "nope" does not exist`},
		{"/apiops/projects/nope/keys/verifier/", `Project "nope" does not exist`},
		{"/apiops/projects/nope/keys/", `Project "nope" does not exist`},
		{"/apiops/projects/billing/keys/verifier/", `Key "verifier" does not exist in project "billing"`},
	} {
		r := apiSend(t, w.env, apiRequest{Method: http.MethodGet, Path: c.path, Authorization: "Bearer " + w.root})
		checkAPIAnswer(t, r, http.StatusNotFound)
		if d, _ := r.Body["error_description"].(string); !strings.Contains(d, c.says) {
			t.Errorf("GET %s: %q does not say %q", c.path, d, c.says)
		}
	}
	// Paging and search.
	for i := range 3 {
		w.must(w.dora, http.MethodPost, keysPath, keyBody(fmt.Sprintf("aes-%d", i), "SECRET_KEY", "", keyConfig("development", secretBytes(16, byte(i)), "")))
	}
	r := w.must(w.vic, http.MethodGet, keysPath+"?size=3&page=2", nil)
	if got := listedNames(r); !slices.Equal(got, []string{"verifier"}) || r.Body["resultCount"] != float64(4) || r.Body["page"] != float64(2) {
		t.Errorf("page 2 of 2: %v, resultCount %v", got, r.Body["resultCount"])
	}
	r = w.must(w.vic, http.MethodGet, keysPath+"?search=AES-1&keyType=SECRET_KEY&environment=development", nil)
	if got := listedNames(r); !slices.Equal(got, []string{"aes-1"}) {
		t.Errorf("search: %v", got)
	}
	for _, c := range []struct{ query, field string }{{"?size=0", "size"}, {"?page=0", "page"}, {"?environment=nope", "environment"}} {
		r := apiSend(t, w.env, apiRequest{Method: http.MethodGet, Path: keysPath + c.query, Authorization: "Bearer " + w.vic})
		checkAPIAnswer(t, r, http.StatusBadRequest)
		if r.Body["field"] != c.field {
			t.Errorf("GET %s: field %v, want %s", c.query, r.Body["field"], c.field)
		}
	}
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// jwkFixture is a key "signer" made from rsaA in development, deployed, and
// a JWK "signer-jwk" (RS256, default kid) made from it and deployed.
func jwkFixture(t *testing.T, w *secretsWorld) {
	t.Helper()
	m := testKeys()
	w.must(w.dora, http.MethodPost, keysPath, keyBody("signer", "PRIVATE_KEY", "", keyConfig("development", privatePEM(t, m.rsaA), "a")))
	w.must(w.dora, http.MethodPost, "/apiops/projects/payments/jwks/", map[string]any{"name": "signer-jwk", "sourceType": "KEY",
		"sourceName": "signer", "use": "sig", "alg": "RS256", "environmentNames": []string{"development"}})
	if got := w.jwks("payments", "development").moduli(); !slices.Equal(got, []string{modulus(m.rsaA)}) {
		t.Fatalf("JWKS before the change: %v", got)
	}
}

// jwk reads one JWK through the API.
func (w *secretsWorld) jwk(name string) map[string]any {
	w.env.T.Helper()
	return w.must(w.root, http.MethodGet, "/apiops/projects/payments/jwks/"+name+"/", nil).Body["jwk"].(map[string]any)
}

func TestAPIKeyUpdateWithJWKUpdate(t *testing.T) {
	w := newSecretsWorld(t)
	m := testKeys()
	jwkFixture(t, w)
	oldKid := w.jwks("payments", "development").kids()[0]
	rev := w.revision("development")
	r := w.must(w.dora, http.MethodPut, keysPath+"signer/?jwkUpdateAction=UPDATE", map[string]any{"description": "rotated",
		"cryptoKeyInfoEnvironmentList": []any{keyConfig("development", privatePEM(t, m.rsaB), "b")}})
	checkDeployment(t, r, "Deployed to 1 environment(s).", "development")
	// The key and its JWK were both redeployed.
	if got := w.revision("development"); got != rev+2 {
		t.Errorf("development revision %d, want %d (key and JWK redeployed)", got, rev+2)
	}
	set := w.jwks("payments", "development")
	if got := set.moduli(); !slices.Equal(got, []string{modulus(m.rsaB)}) {
		t.Errorf("JWKS after UPDATE: moduli %v, want rsaB's", got)
	}
	if kid := set.kids()[0]; kid == oldKid {
		t.Errorf("the default kid %s did not follow the new material", kid)
	}
	j := w.jwk("signer-jwk")
	if j["connected"] != true || j["sourceName"] != "signer" {
		t.Errorf("signer-jwk = %v, want connected to signer", j)
	}
	k := w.key("signer")
	if k["description"] != "rotated" || keyEnvironment(k, "development")["alias"] != "b" {
		t.Errorf("signer = %v", k)
	}
	deps := w.deployments("development")
	if deps[0]["objectType"] != "jwk" || deps[0]["objectName"] != "signer-jwk" || deps[1]["objectName"] != "signer" {
		t.Errorf("history: %v", deps[:2])
	}
}

func TestAPIKeyUpdateWithJWKNullify(t *testing.T) {
	for _, query := range []string{"?jwkUpdateAction=NULLIFY", ""} {
		t.Run("query="+query, func(t *testing.T) {
			w := newSecretsWorld(t)
			m := testKeys()
			jwkFixture(t, w)
			before := w.jwks("payments", "development")
			r := w.must(w.dora, http.MethodPut, keysPath+"signer/"+query, map[string]any{
				"cryptoKeyInfoEnvironmentList": []any{keyConfig("development", privatePEM(t, m.rsaB), "b")}})
			checkDeployment(t, r, "Deployed to 1 environment(s).", "development")
			after := w.jwks("payments", "development")
			if !slices.Equal(after.moduli(), []string{modulus(m.rsaA)}) || !slices.Equal(after.kids(), before.kids()) {
				t.Errorf("JWKS after NULLIFY: %v, want the old material and kid %v", after.Keys, before.kids())
			}
			j := w.jwk("signer-jwk")
			if j["connected"] != false || j["sourceName"] != "signer" {
				t.Errorf("signer-jwk = %v, want disconnected, still naming signer", j)
			}
			if got := toStrings(w.key("signer")["jwks"]); len(got) != 0 {
				t.Errorf("signer still lists JWKs %v", got)
			}
			// A later UPDATE no longer reaches the disconnected JWK.
			w.must(w.dora, http.MethodPut, keysPath+"signer/?jwkUpdateAction=UPDATE", map[string]any{
				"cryptoKeyInfoEnvironmentList": []any{keyConfig("development", privatePEM(t, m.rsaA), "a")}})
			if got := w.jwks("payments", "development").kids(); !slices.Equal(got, before.kids()) {
				t.Errorf("JWKS kids %v, want %v", got, before.kids())
			}
		})
	}
}

func TestAPIKeyUpdateKeepsOmittedContentAndDropsOmittedEnvironments(t *testing.T) {
	w := newSecretsWorld(t)
	secret := secretBytes(32, 4)
	w.must(w.dora, http.MethodPost, keysPath, keyBody("session-key", "SECRET_KEY", "",
		keyConfig("development", secret, "d"), keyConfig("production", secretBytes(32, 5), "p")))
	before := w.key("session-key")
	prodRev := w.revision("production")
	// No content: the material stays; production is left out: undeployed and removed.
	r := w.must(w.dora, http.MethodPut, keysPath+"session-key/", map[string]any{"name": "session-key", "keyType": "SECRET_KEY",
		"cryptoKeyInfoEnvironmentList": []any{map[string]any{"environmentName": "development", "alias": "renamed-alias"}}})
	checkDeployment(t, r, "Deployed to 1 environment(s).", "development")
	k := w.key("session-key")
	dev := keyEnvironment(k, "development")
	if dev["fingerprint"] != keyEnvironment(before, "development")["fingerprint"] || dev["alias"] != "renamed-alias" {
		t.Errorf("development after update: %v", dev)
	}
	if keyEnvironment(k, "production") != nil {
		t.Errorf("production configuration kept: %v", k)
	}
	if got := w.revision("production"); got != prodRev+1 {
		t.Errorf("production revision %d, want %d (undeployed)", got, prodRev+1)
	}
	if d := w.deployments("production")[0]; d["action"] != "undeploy" || d["objectName"] != "session-key" {
		t.Errorf("production history: %v", d)
	}
}

func TestAPIKeyDeleteWithJWKDelete(t *testing.T) {
	w := newSecretsWorld(t)
	jwkFixture(t, w)
	// A project holding a key and a JWK cannot be deleted.
	r := apiSend(t, w.env, apiRequest{Method: http.MethodDelete, Path: "/apiops/projects/payments/", Authorization: "Bearer " + w.root})
	checkAPIAnswer(t, r, http.StatusBadRequest)
	if d, _ := r.Body["error_description"].(string); !strings.Contains(d, "1 key(s) and 1 JWK(s)") {
		t.Errorf("error_description %q", d)
	}
	rev := w.revision("development")
	r = w.must(w.dora, http.MethodDelete, keysPath+"signer/?jwkDeleteAction=DELETE", nil)
	checkDeployment(t, r, "Undeployed from 1 environment(s).", "development")
	if got := w.revision("development"); got != rev+2 {
		t.Errorf("development revision %d, want %d (key and JWK undeployed)", got, rev+2)
	}
	checkAPIAnswer(t, apiSend(t, w.env, apiRequest{Method: http.MethodGet, Path: keysPath + "signer/", Authorization: "Bearer " + w.root}), http.StatusNotFound)
	checkAPIAnswer(t, apiSend(t, w.env, apiRequest{Method: http.MethodGet, Path: "/apiops/projects/payments/jwks/signer-jwk/", Authorization: "Bearer " + w.root}), http.StatusNotFound)
	if set := w.jwks("payments", "development"); len(set.Keys) != 0 {
		t.Errorf("JWKS after DELETE: %v", set.Keys)
	}
	var undeployed []string
	for _, d := range w.deployments("development")[:2] {
		undeployed = append(undeployed, d["action"].(string)+" "+d["objectType"].(string)+" "+d["objectName"].(string))
	}
	slices.Sort(undeployed)
	if want := []string{"undeploy jwk signer-jwk", "undeploy key signer"}; !slices.Equal(undeployed, want) {
		t.Errorf("history: %v, want %v", undeployed, want)
	}
	// The project is empty again, so it can be deleted.
	w.must(w.root, http.MethodDelete, "/apiops/projects/payments/", nil)
}

func TestAPIKeyDeleteWithJWKNullify(t *testing.T) {
	for _, query := range []string{"?jwkDeleteAction=NULLIFY", ""} {
		t.Run("query="+query, func(t *testing.T) {
			w := newSecretsWorld(t)
			m := testKeys()
			jwkFixture(t, w)
			rev := w.revision("development")
			r := w.must(w.dora, http.MethodDelete, keysPath+"signer/"+query, nil)
			checkDeployment(t, r, "Undeployed from 1 environment(s).", "development")
			if got := w.revision("development"); got != rev+1 {
				t.Errorf("development revision %d, want %d (the key only)", got, rev+1)
			}
			checkAPIAnswer(t, apiSend(t, w.env, apiRequest{Method: http.MethodGet, Path: keysPath + "signer/", Authorization: "Bearer " + w.root}), http.StatusNotFound)
			j := w.jwk("signer-jwk")
			if j["connected"] != false || j["sourceName"] != "signer" || j["environments"].([]any)[0].(map[string]any)["deployed"] != true {
				t.Errorf("signer-jwk = %v, want it deployed, disconnected, still naming signer", j)
			}
			if got := w.jwks("payments", "development").moduli(); !slices.Equal(got, []string{modulus(m.rsaA)}) {
				t.Errorf("JWKS after NULLIFY: %v", got)
			}
			// A new key of the same name does not reconnect it.
			w.must(w.dora, http.MethodPost, keysPath, keyBody("signer", "PRIVATE_KEY", "", keyConfig("development", privatePEM(t, m.rsaB), "")))
			if got := toStrings(w.key("signer")["jwks"]); len(got) != 0 {
				t.Errorf("the new signer lists JWKs %v", got)
			}
		})
	}
}

func TestAPIKeyDeployAndUndeployOneEnvironment(t *testing.T) {
	w := newSecretsWorld(t)
	w.must(w.dora, http.MethodPost, keysPath, keyBody("session-key", "SECRET_KEY", "",
		keyConfig("development", secretBytes(16, 1), ""), keyConfig("production", secretBytes(16, 2), "")))
	path := keysPath + "session-key/environments/production/"
	devRev, prodRev := w.revision("development"), w.revision("production")

	r := w.must(w.dora, http.MethodDelete, path, nil)
	checkDeployment(t, r, "Undeployed from 1 environment(s).", "production")
	if e := keyEnvironment(w.key("session-key"), "production"); e["deployed"] != false {
		t.Errorf("production after undeploy: %v", e)
	}
	if got := w.revision("production"); got != prodRev+1 {
		t.Errorf("production revision %d, want %d", got, prodRev+1)
	}
	if d := w.deployments("production")[0]; d["action"] != "undeploy" || d["actor"] != "dora" {
		t.Errorf("history: %v", d)
	}
	// Undeploying again is refused and changes nothing.
	before, audit := w.secretsState(t), len(auditRows(t, w.env))
	r = apiSend(t, w.env, apiRequest{Method: http.MethodDelete, Path: path, Authorization: "Bearer " + w.dora})
	checkAPIAnswer(t, r, http.StatusBadRequest)
	if d, _ := r.Body["error_description"].(string); !strings.Contains(d, "not deployed") {
		t.Errorf("error_description %q", d)
	}
	if d := w.changedSince(t, before); d != "" {
		t.Errorf("a refused undeploy changed the state: %s", d)
	}
	checkRefusal(t, w.env, audit, "key.undeploy")

	r = w.must(w.dora, http.MethodPost, strings.TrimSuffix(path, "/"), nil)
	checkDeployment(t, r, "Deployed to 1 environment(s).", "production")
	if e := keyEnvironment(w.key("session-key"), "production"); e["deployed"] != true || e["deployedRevision"] != float64(prodRev+2) {
		t.Errorf("production after deploy: %v", e)
	}
	if got := w.revision("development"); got != devRev {
		t.Errorf("development revision %d moved", got)
	}
	// Deploying a deployed key again publishes it again.
	w.must(w.dora, http.MethodPost, path, nil)
	if got := w.revision("production"); got != prodRev+3 {
		t.Errorf("production revision %d, want %d", got, prodRev+3)
	}

	for _, c := range []struct {
		method, path string
		status       int
	}{
		{http.MethodPost, keysPath + "session-key/environments/nope/", http.StatusNotFound},
		{http.MethodPost, keysPath + "nope/environments/production/", http.StatusNotFound},
		{http.MethodDelete, "/apiops/projects/nope/keys/session-key/environments/production/", http.StatusNotFound},
	} {
		r := apiSend(t, w.env, apiRequest{Method: c.method, Path: c.path, Authorization: "Bearer " + w.dora})
		checkAPIAnswer(t, r, c.status)
	}
	// An environment the key has no configuration in.
	w.must(w.root, http.MethodPost, "/apiops/environments/", map[string]string{"name": "staging"})
	r = apiSend(t, w.env, apiRequest{Method: http.MethodPost, Path: keysPath + "session-key/environments/staging/", Authorization: "Bearer " + w.dora})
	checkAPIAnswer(t, r, http.StatusNotFound)
	if d, _ := r.Body["error_description"].(string); !strings.Contains(d, "no configuration") {
		t.Errorf("error_description %q", d)
	}
}

// TestAPIKeyPermissions runs every key route with each role and checks that
// a refused request changes nothing but the audit log.
func TestAPIKeyPermissions(t *testing.T) {
	w := newSecretsWorld(t)
	m := testKeys()
	w.must(w.root, http.MethodPost, keysPath, keyBody("existing", "PRIVATE_KEY", "",
		keyConfig("development", privatePEM(t, m.rsaA), ""), keyConfig("production", privatePEM(t, m.rsaB), "")))
	create := keyBody("created", "SECRET_KEY", "", keyConfig("development", secretBytes(16, 3), ""))
	update := map[string]any{"cryptoKeyInfoEnvironmentList": []any{
		keyConfig("development", privatePEM(t, m.rsaB), ""), map[string]any{"environmentName": "production"}}}
	runPermissionMatrix(t, w.env, "payments", secretsArea, []matrixRoute{
		{"list", http.MethodGet, keysPath, nil, needView, ""},
		{"get", http.MethodGet, keysPath + "existing/", nil, needView, ""},
		{"create (deploys)", http.MethodPost, keysPath, create, needDeploy, "key.create"},
		{"update (deploys)", http.MethodPut, keysPath + "existing/", update, needDeploy, "key.update"},
		{"undeploy", http.MethodDelete, keysPath + "existing/environments/production/", nil, needDeploy, "key.undeploy"},
		{"deploy", http.MethodPost, keysPath + "existing/environments/production/", nil, needDeploy, "key.deploy"},
		{"delete (undeploys)", http.MethodDelete, keysPath + "existing/", nil, needDeploy, "key.delete"},
	})
	// Only the writes of the member with MANAGE and DEPLOY_UNDEPLOY happened.
	if got := listedNames(w.must(w.root, http.MethodGet, keysPath, nil)); !slices.Equal(got, []string{"created"}) {
		t.Errorf("keys after the matrix: %v, want [created]", got)
	}
	// A member of another project sees nothing of payments, and the other way round.
	w.must(w.dora, http.MethodGet, keysPath, nil)
	checkAPIAnswer(t, apiSend(t, w.env, apiRequest{Method: http.MethodGet, Path: "/apiops/projects/billing/keys/", Authorization: "Bearer " + w.dora}), nonMemberStatus)
}

// TestAPIKeyBadInputChangesNothing sends each kind of bad key and checks the
// answer names the field, and that the keys, the stored material, the
// environments' revisions and the JWKS are as they were. The service's
// refusals add one audit entry; what the handler refuses before calling the
// service (the JSON and base64 layer) adds none.
func TestAPIKeyBadInputChangesNothing(t *testing.T) {
	w := newSecretsWorld(t)
	m := testKeys()
	w.must(w.dora, http.MethodPost, keysPath, keyBody("existing", "PRIVATE_KEY", "", keyConfig("development", privatePEM(t, m.rsaA), "")))
	w.must(w.dora, http.MethodPost, keysPath, keyBody("session-key", "SECRET_KEY", "", keyConfig("development", secretBytes(32, 1), "")))
	w.must(w.dora, http.MethodPost, "/apiops/projects/payments/jwks/", map[string]any{"name": "existing-jwk", "sourceType": "KEY",
		"sourceName": "existing", "use": "sig", "alg": "RS256", "environmentNames": []string{"development"}})
	w.must(w.dora, http.MethodPost, "/apiops/projects/payments/jwks/", map[string]any{"name": "session-jwk", "sourceType": "KEY",
		"sourceName": "session-key", "use": "sig", "alg": "HS256", "environmentNames": []string{"development"}})

	encrypted, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(m.rsaB), []byte("pass"), x509.PEMCipherAES256) //nolint:staticcheck // legacy encrypted PEM is what users paste
	if err != nil {
		t.Fatal(err)
	}
	aes := func(env string) map[string]any { return keyConfig(env, secretBytes(16, 8), "") }
	cfg := keyConfig
	list := "cryptoKeyInfoEnvironmentList"
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		field  string
		says   string
		audit  string // the refused action audited, "" for none
	}{
		{"duplicate name", "", "", keyBody("existing", "SECRET_KEY", "", aes("development")), 400, "name", "already exists", "key.create"},
		{"invalid name", "", "", keyBody("no spaces", "SECRET_KEY", "", aes("development")), 400, "name", "not valid", "key.create"},
		{"missing name", "", "", keyBody("", "SECRET_KEY", "", aes("development")), 400, "name", "required", "key.create"},
		{"reserved name", "", "", keyBody("config-preview", "SECRET_KEY", "", aes("development")), 400, "name", "reserved by the web console", "key.create"},
		{"description too long", "", "", map[string]any{"name": "k", "description": strings.Repeat("x", 1001), "keyType": "SECRET_KEY",
			list: []any{aes("development")}}, 400, "description", "at most 1000", "key.create"},
		{"unknown keyType", "", "", keyBody("k", "SYMMETRIC_KEY", "", aes("development")), 400, "keyType", "SYMMETRIC_KEY", "key.create"},
		{"missing keyType", "", "", keyBody("k", "", "", aes("development")), 400, "keyType", "SECRET_KEY, PRIVATE_KEY or PUBLIC_KEY", "key.create"},
		{"algorithm of another type", "", "", keyBody("k", "SECRET_KEY", "RSA", aes("development")), 400, "algorithm", "AES, DES, DESede", "key.create"},
		{"no environment", "", "", keyBody("k", "SECRET_KEY", ""), 400, list, "at least one environment", "key.create"},
		{"unknown environment", "", "", keyBody("k", "SECRET_KEY", "", aes("development"), aes("nope")), 400, list + "[1].environmentName", `"nope" does not exist`, "key.create"},
		{"missing environmentName", "", "", keyBody("k", "SECRET_KEY", "", aes("")), 400, list + "[0].environmentName", "required", "key.create"},
		{"same environment twice", "", "", keyBody("k", "SECRET_KEY", "", aes("production"), aes("development"), aes("production")), 400,
			list + "[2].environmentName", "configured twice", "key.create"},
		{"content not base64", "", "", keyBody("k", "SECRET_KEY", "", aes("development"),
			map[string]any{"environmentName": "production", "content": "not*base64!"}), 400, list + "[1].content", list + "[1].content: The content is not valid base64", ""},
		{"empty content", "", "", keyBody("k", "SECRET_KEY", "", map[string]any{"environmentName": "development", "content": ""}), 400,
			list + "[0].content", "required", ""},
		{"missing content", "", "", keyBody("k", "SECRET_KEY", "", map[string]any{"environmentName": "development"}), 400,
			list + "[0].content", "required", ""},
		{"oversized content", "", "", keyBody("k", "PUBLIC_KEY", "", cfg("development", make([]byte, 64<<10+1), "")), 400,
			list + "[0].content", "64 KiB", "key.create"},
		{"AES key of 20 bytes", "", "", keyBody("k", "SECRET_KEY", "", cfg("development", secretBytes(20, 1), "")), 400,
			list + "[0].content", "fits no secret key algorithm", "key.create"},
		{"AES key of 8 bytes", "", "", keyBody("k", "SECRET_KEY", "AES", cfg("development", secretBytes(8, 1), "")), 400,
			list + "[0].content", "must be 16, 24 or 32 bytes", "key.create"},
		{"DESede key of 32 bytes", "", "", keyBody("k", "SECRET_KEY", "DESede", cfg("development", secretBytes(32, 1), "")), 400,
			list + "[0].content", "must be 16 or 24 bytes", "key.create"},
		{"PEM as a secret key", "", "", keyBody("k", "SECRET_KEY", "", cfg("development", privatePEM(t, m.rsaB), "")), 400,
			list + "[0].content", "PEM text", "key.create"},
		{"public key as a private key", "", "", keyBody("k", "PRIVATE_KEY", "", cfg("development", publicPEM(t, &m.rsaB.PublicKey), "")), 400,
			list + "[0].content", "not a private key", "key.create"},
		{"private key as a public key", "", "", keyBody("k", "PUBLIC_KEY", "", cfg("development", privatePEM(t, m.rsaB), "")), 400,
			list + "[0].content", "is a private key", "key.create"},
		{"EC key declared RSA", "", "", keyBody("k", "PRIVATE_KEY", "RSA", cfg("development", privatePEM(t, m.ec), "")), 400,
			list + "[0].content", "algorithm is RSA", "key.create"},
		{"two algorithms in one key", "", "", keyBody("k", "PRIVATE_KEY", "", cfg("development", privatePEM(t, m.rsaB), ""),
			cfg("production", privatePEM(t, m.ec), "")), 400, list + "[1].content", "algorithm is RSA", "key.create"},
		{"garbage as a private key", "", "", keyBody("k", "PRIVATE_KEY", "", cfg("development", []byte("hello, world"), "")), 400,
			list + "[0].content", "not an RSA or EC private key", "key.create"},
		{"RSA key below 1024 bits", "", "", keyBody("k", "PRIVATE_KEY", "", cfg("development", []byte(weakRSAKey), "")), 400,
			list + "[0].content", "below 1024 bits are refused", "key.create"},
		{"encrypted PEM", "", "", keyBody("k", "PRIVATE_KEY", "", cfg("development", pem.EncodeToMemory(encrypted), "")), 400,
			list + "[0].content", "encrypted private key", "key.create"},
		{"alias too long", "", "", keyBody("k", "SECRET_KEY", "", cfg("development", secretBytes(16, 1), strings.Repeat("a", 201))), 400,
			list + "[0].alias", "at most 200", "key.create"},
		{"control character in an alias", "", "", keyBody("k", "SECRET_KEY", "", cfg("development", secretBytes(16, 1), "edge\x1b[2Jgw")), 400,
			list + "[0].alias", "control characters (found U+001B)", "key.create"},
		{"line break in an alias", "", "", keyBody("k", "SECRET_KEY", "", cfg("development", secretBytes(16, 1), "a\nb")), 400,
			list + "[0].alias", "control characters", "key.create"},
		{"control character in a description", "", "", map[string]any{"name": "k", "description": "bell\x07", "keyType": "SECRET_KEY",
			list: []any{aes("development")}}, 400, "description", "control characters", "key.create"},
		{"control character in a name", "", "", keyBody("k\x00", "SECRET_KEY", "", aes("development")), 400, "name", "not valid", "key.create"},
		{"null list", "", "", `{"name": "k", "keyType": "SECRET_KEY", "cryptoKeyInfoEnvironmentList": null}`, 400, list, "not null", ""},
		{"missing list", "", "", `{"name": "k", "keyType": "SECRET_KEY"}`, 400, list, "required", ""},
		{"malformed JSON", "", "", `{"name": "k", `, 400, "", "not valid JSON", ""},
		{"list of the wrong type", "", "", `{"name": "k", "keyType": "SECRET_KEY", "cryptoKeyInfoEnvironmentList": {}}`, 400, "", "not valid JSON", ""},
		{"unknown project", "", "/apiops/projects/nope/keys/", keyBody("k", "SECRET_KEY", "", aes("development")), 404, "", `"nope" does not exist`, "key.create"},

		{"update: rename", http.MethodPut, keysPath + "existing/", map[string]any{"name": "renamed", list: []any{map[string]any{"environmentName": "development"}}},
			400, "name", "cannot be renamed", ""},
		{"update: another type", http.MethodPut, keysPath + "existing/", map[string]any{"keyType": "PUBLIC_KEY", list: []any{map[string]any{"environmentName": "development"}}},
			400, "keyType", "cannot change", "key.update"},
		{"update: another algorithm", http.MethodPut, keysPath + "existing/", map[string]any{"algorithm": "EC", list: []any{cfg("development", privatePEM(t, m.ec), "")}},
			400, "algorithm", "cannot change", "key.update"},
		{"update: material of another algorithm", http.MethodPut, keysPath + "existing/", map[string]any{list: []any{cfg("development", privatePEM(t, m.ec), "")}},
			400, list + "[0].content", "algorithm is RSA", "key.update"},
		{"update: unknown jwkUpdateAction", http.MethodPut, keysPath + "existing/?jwkUpdateAction=MAYBE", map[string]any{list: []any{map[string]any{"environmentName": "development"}}},
			400, "jwkUpdateAction", "UPDATE or NULLIFY", "key.update"},
		{"update: new environment without content", http.MethodPut, keysPath + "existing/", map[string]any{list: []any{
			map[string]any{"environmentName": "development"}, map[string]any{"environmentName": "production"}}},
			400, list + "[1].content", "no material in environment", "key.update"},
		{"update: null list", http.MethodPut, keysPath + "existing/", `{"description": "changed", "cryptoKeyInfoEnvironmentList": null}`,
			400, list, "not null", ""},
		{"update: missing list", http.MethodPut, keysPath + "existing/", `{"description": "changed"}`, 400, list, "required", ""},
		{"update: no environment left", http.MethodPut, keysPath + "existing/", map[string]any{list: []any{}}, 400, list, "at least one", "key.update"},
		{"update: JWK cannot follow the new material", http.MethodPut, keysPath + "session-key/?jwkUpdateAction=UPDATE",
			map[string]any{list: []any{cfg("development", secretBytes(16, 2), "")}}, 400, "jwkUpdateAction", "cannot follow", "key.update"},
		{"update: unknown key", http.MethodPut, keysPath + "nope/", map[string]any{list: []any{aes("development")}}, 404, "", `"nope" does not exist`, "key.update"},
		{"delete: unknown jwkDeleteAction", http.MethodDelete, keysPath + "existing/?jwkDeleteAction=NULL", nil, 400, "jwkDeleteAction", "DELETE or NULLIFY", "key.delete"},
		{"delete: unknown key", http.MethodDelete, keysPath + "nope/", nil, 404, "", `"nope" does not exist`, "key.delete"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method, path := c.method, c.path
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = keysPath
			}
			before, audit := w.secretsState(t), len(auditRows(t, w.env))
			r := apiSend(t, w.env, apiRequest{Method: method, Path: path, Authorization: "Bearer " + w.dora, Body: c.body})
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
			if c.audit == "" {
				checkRefusal(t, w.env, audit)
			} else {
				checkRefusal(t, w.env, audit, c.audit)
			}
		})
	}
}

// TestProjectWithKeysCannotBeDeleted: a project holding a key or a JWK is
// refused with 400 saying what it holds, and changes nothing; once they are
// gone it can be deleted.
func TestProjectWithKeysCannotBeDeleted(t *testing.T) {
	w := newSecretsWorld(t)
	w.must(w.root, http.MethodPost, "/apiops/projects/billing/keys/",
		keyBody("mac", "SECRET_KEY", "", keyConfig("production", secretBytes(32, 3), "")))
	w.must(w.root, http.MethodPost, "/apiops/projects/billing/jwks/", map[string]any{"name": "mac-jwk", "sourceType": "KEY",
		"sourceName": "mac", "use": "sig", "alg": "HS256", "environmentNames": []string{"production"}})
	before := w.secretsState(t)
	r := w.env.API(w.root, http.MethodDelete, "/apiops/projects/billing/", nil)
	if r.Status != http.StatusBadRequest || r.Body["error"] != "bad_request" ||
		!strings.Contains(r.Body["error_description"].(string), "1 key(s) and 1 JWK(s)") {
		t.Fatalf("delete a project with a key and a JWK: %d %s", r.Status, r.Raw)
	}
	if d := w.changedSince(t, before); d != "" {
		t.Fatalf("the refused project deletion changed data: %s", d)
	}
	w.must(w.root, http.MethodGet, "/apiops/projects/billing/", nil)
	w.must(w.root, http.MethodDelete, "/apiops/projects/billing/keys/mac/?jwkDeleteAction=DELETE", nil)
	w.must(w.root, http.MethodDelete, "/apiops/projects/billing/", nil)
	if r := w.env.API(w.root, http.MethodGet, "/apiops/projects/billing/", nil); r.Status != http.StatusNotFound {
		t.Fatalf("project after delete: %d", r.Status)
	}
}
