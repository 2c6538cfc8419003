package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TestMain lets this test binary act as `keyward hsm check-pin`: the
// PKCS#11 backend re-executes its own binary to test a PIN (in the server's
// process the token is already logged in), and here that binary is the test.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "hsm" && os.Args[2] == "check-pin" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
	}
	os.Exit(m.Run())
}

// softHSMToken makes a throwaway SoftHSM2 token (its own SOFTHSM2_CONF in a
// temporary directory) and returns the module's path.
func softHSMToken(t *testing.T, label, pin string) string { return softHSMTokenB(t, label, pin) }

func softHSMTokenB(t testing.TB, label, pin string) string {
	t.Helper()
	var module string
	for _, p := range []string{"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"} {
		if _, err := os.Stat(p); err == nil {
			module = p
			break
		}
	}
	util, err := exec.LookPath("softhsm2-util")
	if module == "" || err != nil {
		t.Fatal("SoftHSM2 is not installed: run make test-deps (apt-get install softhsm2)")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.Mkdir(filepath.Join(dir, "tokens"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	if out, err := exec.Command(util, "--init-token", "--free", "--label", label, "--so-pin", "1234", "--pin", pin).CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util: %v %s", err, out)
	}
	return module
}

// TestServeWithSoftHSM runs the real server on a SoftHSM2 token: `hsm
// info` names it; a key generated through the API signs a JWT that
// verifies against the public JWKS; deleting it with a wrong PIN is refused
// by the token (through `keyward hsm check-pin`) and the right PIN deletes.
func TestServeWithSoftHSM(t *testing.T) {
	module := softHSMToken(t, "keyward-e2e", "5678")
	dir := t.TempDir()
	env := map[string]string{"KEYWARD_DATA_DIR": dir, "KEYWARD_HSM_PIN": "5678"}
	hsmArgs := []string{"--hsm-module", module, "--hsm-token-label", "keyward-e2e"}
	if r := runCLI(t, env, "", append([]string{"hsm", "info"}, hsmArgs...)...); r.code != 0 ||
		!strings.Contains(r.stdout, "backend: PKCS#11") || !strings.Contains(r.stdout, "token: keyward-e2e") || !strings.Contains(r.stdout, "SoftHSM") {
		t.Fatalf("hsm info: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, env, "", "hsm", "info", "--hsm-module", module, "--hsm-token-label", "nope"); r.code == 0 || !strings.Contains(r.stderr, "nope") {
		t.Errorf("hsm info for a missing token: %d %q", r.code, r.stderr)
	}
	if r := runCLI(t, env, "correct horse battery\n", "user", "create", "--username", "root", "--admin"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	tok := strings.TrimSpace(runCLI(t, env, "", "token", "create", "--username", "root", "--name", "e2e").stdout)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr syncBuffer
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", addr}, hsmArgs...), strings.NewReader(""), io.Discard, &stderr, func(k string) string { return env[k] })
	}()
	t.Cleanup(func() { cancel(); <-done })
	base := "http://" + addr
	call := func(method, path string, body any) (int, map[string]any) {
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, r)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, map[string]any{"error": err.Error()}
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if code, _ := call(http.MethodGet, "/apiops/hsm/", nil); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not answer: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	must := func(method, path string, body any) map[string]any {
		t.Helper()
		code, out := call(method, path, body)
		if code != http.StatusOK {
			t.Fatalf("%s %s: %d %v", method, path, code, out)
		}
		return out
	}
	if b := must(http.MethodGet, "/apiops/hsm/", nil)["backend"].(map[string]any); b["backend"] != "PKCS#11" || b["label"] != "keyward-e2e" {
		t.Errorf("backend %v", b)
	}
	must(http.MethodPost, "/apiops/projects/", map[string]string{"name": "payments"})
	must(http.MethodPost, "/apiops/environments/", map[string]string{"name": "production"})
	key := must(http.MethodPost, "/apiops/projects/payments/signingKeys/", map[string]any{"label": "tokens", "algorithm": "RSA", "keyLength": 2048})["signingKey"].(map[string]any)
	id := key["ckaId"].(string)
	must(http.MethodPost, "/apiops/projects/payments/signingKeys/"+id+"/environments/production/", nil)
	for _, alg := range []string{"RS256", "PS256"} {
		signed := must(http.MethodPost, "/apiops/projects/payments/signingKeys/"+id+"/sign", map[string]any{"claims": map[string]any{"sub": "svc"}, "alg": alg})
		verifyWithJWKS(t, base+"/jwks/payments/production", signed["token"].(string), alg)
	}
	if code, out := call(http.MethodDelete, "/apiops/projects/payments/signingKeys/"+id+"/", map[string]any{"pin": "0000"}); code != http.StatusBadRequest || out["field"] != "pin" {
		t.Fatalf("delete with a wrong PIN: %d %v", code, out)
	}
	if code, _ := call(http.MethodGet, "/apiops/projects/payments/signingKeys/"+id+"/", nil); code != http.StatusOK {
		t.Fatal("the wrong PIN deleted the key")
	}
	must(http.MethodDelete, "/apiops/projects/payments/signingKeys/"+id+"/", map[string]any{"pin": "5678"})
	if code, _ := call(http.MethodPost, "/apiops/projects/payments/signingKeys/"+id+"/sign", map[string]any{"claims": map[string]any{}}); code != http.StatusNotFound {
		t.Errorf("signing with the deleted key: %d", code)
	}
	if strings.Contains(stderr.String(), "5678") {
		t.Error("the PIN is in the server's log")
	}
}

func verifyWithJWKS(t *testing.T, url, token, alg string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(parsed.Headers[0].KeyID)
	var claims map[string]any
	if len(keys) != 1 || parsed.Claims(keys[0].Key, &claims) != nil || claims["sub"] != "svc" {
		t.Errorf("%s token does not verify against the JWKS (%d keys for kid %s)", alg, len(keys), parsed.Headers[0].KeyID)
	}
}
