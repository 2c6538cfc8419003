package secrets_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/internal/testenv"
)

// world is project payments with environments development and production,
// and the admin root calling the service directly.
type world struct {
	env  *testenv.Env
	root access.Principal
	svc  *secrets.Service
}

func newWorld(t testing.TB) *world {
	t.Helper()
	env := testenv.New(t)
	env.CreateUser("root", true)
	w := &world{env: env, root: env.Principal("root"), svc: env.App.Secrets}
	ctx := context.Background()
	if _, err := env.App.Projects.Create(ctx, w.root, "payments", ""); err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"development", "production"} {
		if _, err := env.App.Environments.Create(ctx, w.root, environments.Input{Name: e}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func aesKey(name string, content []byte, envs ...string) secrets.KeyInput {
	in := secrets.KeyInput{Name: name, Type: "SECRET_KEY", ListField: "configs"}
	for i, e := range envs {
		in.Configs = append(in.Configs, secrets.ConfigInput{Field: fmt.Sprintf("configs[%d]", i), Environment: e, Content: content})
	}
	return in
}

func rsaPEM(t testing.TB) []byte {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

func gateway(env string) access.Principal {
	return access.Principal{Username: "gateway", Via: "gateway:test", GatewayEnvironment: env}
}

// bundleContent returns the deployed material of a key in env's bundle.
func (w *world) bundleContent(t *testing.T, env, key string) ([]byte, bool) {
	t.Helper()
	b, err := w.env.App.Bundles.Read(context.Background(), gateway(env), env)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range b.Keys {
		if k.Name == key {
			raw, err := base64.StdEncoding.DecodeString(k.Content)
			if err != nil {
				t.Fatal(err)
			}
			return raw, true
		}
	}
	return nil, false
}

// TestSaveWithoutDeployNeverChangesWhatGatewaysSee covers the web's "Save"
// (deployNow false): the configuration changes, the deployed copy does not
// until the next deploy, and the key shows that it changed since.
func TestSaveWithoutDeployNeverChangesWhatGatewaysSee(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	v1, v2 := []byte(strings.Repeat("1", 32)), []byte(strings.Repeat("2", 32))

	res, err := w.svc.CreateKey(ctx, w.root, "payments", aesKey("session-key", v1, "development"), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.EnvironmentResults) != 0 {
		t.Errorf("a saved key reports deployments: %+v", res)
	}
	if _, ok := w.bundleContent(t, "development", "session-key"); ok {
		t.Error("a saved, undeployed key is in the bundle")
	}
	if _, err := w.svc.DeployKey(ctx, w.root, "payments", "session-key", "development", false); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.bundleContent(t, "development", "session-key"); string(got) != string(v1) {
		t.Fatalf("bundle after deploy: %q", got)
	}

	in := aesKey("session-key", v2, "development")
	if _, err := w.svc.UpdateKey(ctx, w.root, "payments", "session-key", in, false, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.bundleContent(t, "development", "session-key"); string(got) != string(v1) {
		t.Errorf("bundle after Save: %q, want the deployed v1", got)
	}
	d, err := w.svc.GetKey(ctx, w.root, "payments", "session-key")
	if err != nil {
		t.Fatal(err)
	}
	if e := d.Environments[0]; !e.Changed || e.DeployedFingerprint == e.Fingerprint {
		t.Errorf("after Save: %+v, want changed since deploy", e)
	}
	if _, err := w.svc.DeployKey(ctx, w.root, "payments", "session-key", "development", false); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.bundleContent(t, "development", "session-key"); string(got) != string(v2) {
		t.Errorf("bundle after the second deploy: %q, want v2", got)
	}
}

// TestSaveNeedsNoDeployPermission: MANAGE alone saves; deploying needs
// DEPLOY_UNDEPLOY as well.
func TestSaveNeedsNoDeployPermission(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.env.CreateUser("manny", false)
	w.env.Grant("payments", "manny", access.SecretsView, access.SecretsManage)
	manny := w.env.Principal("manny")
	if _, err := w.svc.CreateKey(ctx, manny, "payments", aesKey("a", make([]byte, 16), "development"), false); err != nil {
		t.Errorf("save with MANAGE: %v", err)
	}
	_, err := w.svc.CreateKey(ctx, manny, "payments", aesKey("b", make([]byte, 16), "development"), true)
	if !errs.Is(err, errs.Forbidden) {
		t.Errorf("save and deploy with MANAGE only: %v, want forbidden", err)
	}
	_, err = w.svc.DeployKey(ctx, manny, "payments", "a", "development", false)
	if !errs.Is(err, errs.Forbidden) {
		t.Errorf("deploy with MANAGE only: %v, want forbidden", err)
	}
}

// TestSealedMaterialIsBoundToItsRow swaps the sealed material of two keys
// in the database: the bundle must fail rather than hand out one key's
// material under the other's name.
func TestSealedMaterialIsBoundToItsRow(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, name := range []string{"a", "b"} {
		if _, err := w.svc.CreateKey(ctx, w.root, "payments", aesKey(name, []byte(strings.Repeat(name, 16)), "production"), true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.env.App.Bundles.Read(ctx, gateway("production"), "production"); err != nil {
		t.Fatal(err)
	}
	_, err := w.env.App.DB.Write.Exec(`UPDATE key_configs SET deployed_material = (SELECT deployed_material FROM key_configs k2 WHERE k2.id != key_configs.id)`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.env.App.Bundles.Read(ctx, gateway("production"), "production")
	if err == nil || errs.CodeOf(err) != errs.Internal {
		t.Errorf("bundle with swapped material: %v, want an internal error", err)
	}
	if strings.Contains(errs.MessageOf(err), "aaaa") {
		t.Errorf("the error shows material: %v", errs.MessageOf(err))
	}
}

// TestJWKSCacheRefusesPrivateMembers: a public JWK row that somehow holds a
// private member is never served.
func TestJWKSCacheRefusesPrivateMembers(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	content := rsaPEM(t)
	if _, err := w.svc.CreateKey(ctx, w.root, "payments", secrets.KeyInput{Name: "signer", Type: "PRIVATE_KEY", ListField: "configs",
		Configs: []secrets.ConfigInput{{Field: "configs[0]", Environment: "production", Content: content}}}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.CreateJWK(ctx, w.root, "payments", secrets.JWKInput{Name: "signer-jwk", SourceType: secrets.SourceKey,
		SourceName: "signer", Use: "sig", Alg: "RS256", Environments: []string{"production"}}, true); err != nil {
		t.Fatal(err)
	}
	set, err := w.svc.JWKS("payments", "production")
	if err != nil || !strings.Contains(string(set.Body), `"n":`) {
		t.Fatalf("JWKS: %s, %v", set.Body, err)
	}
	var m map[string]any
	var row string
	if err := w.env.App.DB.Read.QueryRow(`SELECT deployed_json FROM jwk_configs`).Scan(&row); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(row), &m)
	m["d"] = "c2VjcmV0"
	leaked, _ := json.Marshal(m)
	if _, err := w.env.App.DB.Write.Exec(`UPDATE jwk_configs SET deployed_json = ?`, string(leaked)); err != nil {
		t.Fatal(err)
	}
	if err := w.env.App.JWKS.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	set, err = w.svc.JWKS("payments", "production")
	if err != nil || string(set.Body) != `{"keys":[]}` {
		t.Errorf("JWKS with a private member in the row: %s, %v", set.Body, err)
	}
	if !strings.Contains(w.env.Logs.String(), "refusing to publish") || strings.Contains(w.env.Logs.String(), "c2VjcmV0") {
		t.Error("the refusal is not logged, or the log holds the member")
	}
}

// TestJWKSIsServedFromMemory reads a published JWKS with the database's
// read pool closed.
func TestJWKSIsServedFromMemory(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.svc.CreateKey(ctx, w.root, "payments", secrets.KeyInput{Name: "signer", Type: "PRIVATE_KEY", ListField: "configs",
		Configs: []secrets.ConfigInput{{Field: "configs[0]", Environment: "production", Content: rsaPEM(t)}}}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.CreateJWK(ctx, w.root, "payments", secrets.JWKInput{Name: "signer-jwk", SourceType: secrets.SourceKey,
		SourceName: "signer", Use: "sig", Alg: "RS256", Kid: "k1", Environments: []string{"production"}}, true); err != nil {
		t.Fatal(err)
	}
	before, err := w.svc.JWKS("payments", "production")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.env.App.DB.Read.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := w.svc.JWKS("payments", "production")
	if err != nil || string(after.Body) != string(before.Body) || after.ETag != before.ETag {
		t.Errorf("JWKS without the database: %v", err)
	}
	// A pair that publishes nothing is empty, and a made-up pair is not
	// found, both without the database: the cache knows every project and
	// environment name.
	if set, err := w.svc.JWKS("payments", "development"); err != nil || string(set.Body) != `{"keys":[]}` {
		t.Errorf("empty pair without the database: %v", err)
	}
	if _, err := w.svc.JWKS("payments", "no-such-env"); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("unknown pair without the database: err = %v, want NotFound", err)
	}
	if _, err := w.svc.JWKS("no-such-project", "production"); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("unknown project without the database: err = %v, want NotFound", err)
	}
}

// TestJWKSCacheUnderConcurrentPublication reads the cache while JWKs are
// published (run with -race).
func TestJWKSCacheUnderConcurrentPublication(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.svc.CreateKey(ctx, w.root, "payments", secrets.KeyInput{Name: "signer", Type: "PRIVATE_KEY", ListField: "configs",
		Configs: []secrets.ConfigInput{{Field: "configs[0]", Environment: "production", Content: rsaPEM(t)}}}, true); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				set, err := w.svc.JWKS("payments", "production")
				if err != nil {
					t.Error(err)
					return
				}
				var doc struct{ Keys []json.RawMessage }
				if err := json.Unmarshal(set.Body, &doc); err != nil {
					t.Errorf("torn JWKS %s: %v", set.Body, err)
					return
				}
			}
		}()
	}
	for i := range 5 {
		name := fmt.Sprintf("jwk-%d", i)
		if _, err := w.svc.CreateJWK(ctx, w.root, "payments", secrets.JWKInput{Name: name, SourceType: secrets.SourceKey,
			SourceName: "signer", Use: "sig", Alg: "RS256", Kid: name, Environments: []string{"production"}}, true); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	set, _ := w.svc.JWKS("payments", "production")
	var doc struct{ Keys []json.RawMessage }
	if err := json.Unmarshal(set.Body, &doc); err != nil || len(doc.Keys) != 5 {
		t.Errorf("final JWKS has %d keys (%v)", len(doc.Keys), err)
	}
}

// TestCacheRebuildsAtStart: a restarted Keyward serves the JWKS it had.
func TestCacheRebuildsAtStart(t *testing.T) {
	dir := t.TempDir()
	env := testenv.NewAt(t, dir)
	env.CreateUser("root", true)
	root := env.Principal("root")
	ctx := context.Background()
	if _, err := env.App.Projects.Create(ctx, root, "payments", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Environments.Create(ctx, root, environments.Input{Name: "production"}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Secrets.CreateKey(ctx, root, "payments", secrets.KeyInput{Name: "signer", Type: "PRIVATE_KEY", ListField: "configs",
		Configs: []secrets.ConfigInput{{Field: "configs[0]", Environment: "production", Content: rsaPEM(t)}}}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Secrets.CreateJWK(ctx, root, "payments", secrets.JWKInput{Name: "signer-jwk", SourceType: secrets.SourceKey,
		SourceName: "signer", Use: "sig", Alg: "RS256", Kid: "k1", Environments: []string{"production"}}, true); err != nil {
		t.Fatal(err)
	}
	before, _ := env.App.Secrets.JWKS("payments", "production")
	env.Server.Close()
	if err := env.App.Close(); err != nil {
		t.Fatal(err)
	}
	again := testenv.NewAt(t, dir)
	after, ok := again.App.JWKS.Get("payments", "production")
	if !ok || string(after.Body) != string(before.Body) {
		t.Errorf("after a restart: cached %v, want %s", ok, before.Body)
	}
}

// TestJWKSCacheFollowsConcurrentWrites publishes JWKs from several
// goroutines at once: whatever order the post-commit rebuilds run in, the
// cache ends up as the database says.
func TestJWKSCacheFollowsConcurrentWrites(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.svc.CreateKey(ctx, w.root, "payments", secrets.KeyInput{Name: "signer", Type: "PRIVATE_KEY", ListField: "configs",
		Configs: []secrets.ConfigInput{{Field: "configs[0]", Environment: "production", Content: rsaPEM(t)}}}, true); err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("jwk-%d-%d", round, i)
				if _, err := w.svc.CreateJWK(ctx, w.root, "payments", secrets.JWKInput{Name: name, SourceType: secrets.SourceKey,
					SourceName: "signer", Use: "sig", Alg: "RS256", Kid: name, Environments: []string{"production"}}, true); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		got, _ := w.svc.JWKS("payments", "production")
		var doc struct{ Keys []json.RawMessage }
		if err := json.Unmarshal(got.Body, &doc); err != nil || len(doc.Keys) != 6*(round+1) {
			t.Fatalf("round %d: the cache holds %d JWKs, the database %d", round, len(doc.Keys), 6*(round+1))
		}
	}
}

// TestJWKSCacheFollowsNewAndDeletedNames: an environment or project created
// after start is served (empty) at once, and a deleted project is not found.
func TestJWKSCacheFollowsNewAndDeletedNames(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.svc.JWKS("payments", "staging"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("staging before it exists: err = %v, want NotFound", err)
	}
	if _, err := w.env.App.Environments.Create(ctx, w.root, environments.Input{Name: "staging"}); err != nil {
		t.Fatal(err)
	}
	if set, err := w.svc.JWKS("payments", "staging"); err != nil || string(set.Body) != `{"keys":[]}` {
		t.Fatalf("new environment: %v", err)
	}
	if _, err := w.env.App.Projects.Create(ctx, w.root, "orders", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.JWKS("orders", "staging"); err != nil {
		t.Fatalf("new project: %v", err)
	}
	if err := w.env.App.Projects.Delete(ctx, w.root, "orders"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.JWKS("orders", "staging"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("deleted project: err = %v, want NotFound", err)
	}
}
