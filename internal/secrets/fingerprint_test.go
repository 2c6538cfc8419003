package secrets_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/testenv"
)

// TestSecretKeyFingerprintIsKeyed: a secret key's fingerprint, which anyone
// with SECRETS:VIEW reads, is the same for the same key in every
// environment, differs between keys, and is not the SHA-256 of the secret,
// so a viewer cannot test guesses against it offline. A DES key (56 bits)
// is the case that matters most.
func TestSecretKeyFingerprintIsKeyed(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	des, other := []byte("8bytekey"), []byte("another!")
	if _, err := w.svc.CreateKey(ctx, w.root, "payments", aesKey("legacy-des", des, "development", "production"), true); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.CreateKey(ctx, w.root, "payments", aesKey("other-des", other, "development"), false); err != nil {
		t.Fatal(err)
	}
	d, err := w.svc.GetKey(ctx, w.root, "payments", "legacy-des")
	if err != nil {
		t.Fatal(err)
	}
	dev, prod := d.Environments[0], d.Environments[1]
	plain := sha256.Sum256(des)
	if dev.Fingerprint == "" || dev.Fingerprint != prod.Fingerprint || dev.DeployedFingerprint != dev.Fingerprint {
		t.Errorf("fingerprints: development %q (deployed %q), production %q; want one value", dev.Fingerprint, dev.DeployedFingerprint, prod.Fingerprint)
	}
	if dev.Fingerprint == hex.EncodeToString(plain[:]) || strings.Contains(dev.Fingerprint, hex.EncodeToString(plain[:8])) {
		t.Errorf("the fingerprint %q is the plain SHA-256 of the key", dev.Fingerprint)
	}
	o, err := w.svc.GetKey(ctx, w.root, "payments", "other-des")
	if err != nil {
		t.Fatal(err)
	}
	if o.Environments[0].Fingerprint == dev.Fingerprint {
		t.Error("two different keys share a fingerprint")
	}
	// The bundle carries the same keyed fingerprint.
	b, err := w.env.App.Bundles.Read(ctx, gateway("production"), "production")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Keys) != 1 || b.Keys[0].Fingerprint != dev.Fingerprint {
		t.Errorf("bundle keys %+v", b.Keys)
	}
}

// TestFingerprintUpgrade: a database an earlier release wrote, holding the
// plain SHA-256 of a secret key, gets keyed fingerprints at the next start
// (once); a public key's fingerprint is left as it is.
func TestFingerprintUpgrade(t *testing.T) {
	dir := t.TempDir()
	env := testenv.NewAt(t, dir)
	env.CreateUser("root", true)
	root := env.Token("root")
	env.API(root, "POST", "/apiops/projects/", map[string]string{"name": "payments"})
	env.API(root, "POST", "/apiops/environments/", map[string]string{"name": "production"})
	w := &world{env: env, root: env.Principal("root"), svc: env.App.Secrets}
	ctx := context.Background()
	secret := []byte(strings.Repeat("k", 16))
	if _, err := w.svc.CreateKey(ctx, w.root, "payments", aesKey("aes", secret, "production"), true); err != nil {
		t.Fatal(err)
	}
	keyed := fingerprints(t, env)
	plain := sha256.Sum256(secret)
	old := hex.EncodeToString(plain[:])
	if _, err := env.App.DB.Write.ExecContext(ctx, "UPDATE key_configs SET fingerprint = ?, deployed_fingerprint = ?", old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.DB.Write.ExecContext(ctx, "DELETE FROM settings WHERE name = 'secret_key_fingerprints'"); err != nil {
		t.Fatal(err)
	}
	env.Server.Close()
	if err := env.App.Close(); err != nil {
		t.Fatal(err)
	}

	again := testenv.NewAt(t, dir)
	if got := fingerprints(t, again); got != keyed {
		t.Errorf("after the upgrade: %q, want %q (was %q)", got, keyed, old+" "+old)
	}
}

func fingerprints(t *testing.T, env *testenv.Env) string {
	t.Helper()
	var fp, deployed string
	if err := env.App.DB.Read.QueryRow("SELECT fingerprint, deployed_fingerprint FROM key_configs").Scan(&fp, &deployed); err != nil {
		t.Fatal(err)
	}
	return fp + " " + deployed
}
