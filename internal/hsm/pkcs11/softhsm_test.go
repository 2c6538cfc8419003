//go:build cgo

package pkcs11

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The throwaway SoftHSM2 token every test makes.
const (
	testTokenLabel = "kw-test"
	testSOPIN      = "1234"
	testPIN        = "5678"
)

// childEnv makes the test binary act as `keyward hsm check-pin`, the child
// CheckPINInChild re-executes: TestMain sets it for every process it starts.
const childEnv = "KEYWARD_HSM_TEST_CHECK_PIN_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		args := os.Args[1:]
		if len(args) < 2 || args[0] != "hsm" || args[1] != "check-pin" {
			fmt.Fprintf(os.Stderr, "test child: unexpected arguments %q\n", args)
			os.Exit(checkPINFailed)
		}
		module, label, err := ParseCheckPINArgs(args[2:])
		if err != nil {
			fmt.Fprintln(os.Stderr, "test child:", err)
			os.Exit(checkPINFailed)
		}
		os.Exit(RunCheckPIN(os.Stdin, module, label))
	}
	os.Setenv(childEnv, "1")
	os.Exit(m.Run())
}

// softHSMModule finds SoftHSM2's PKCS#11 library; KEYWARD_TEST_PKCS11_MODULE
// overrides the Debian paths.
func softHSMModule(t testing.TB) string {
	t.Helper()
	candidates := []string{
		os.Getenv("KEYWARD_TEST_PKCS11_MODULE"),
		"/usr/lib/softhsm/libsofthsm2.so",
		"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/local/lib/softhsm/libsofthsm2.so",
	}
	for _, p := range candidates {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("SoftHSM2 is not installed (no libsofthsm2.so in %q): run `make test-deps` or `apt-get install softhsm2`", candidates[1:])
	return ""
}

// newToken makes a throwaway SoftHSM2 token in a temporary directory, with
// its own SOFTHSM2_CONF for this test (and the check-pin children it
// starts), and returns the Config that opens it.
func newToken(t testing.TB) Config {
	t.Helper()
	module := softHSMModule(t)
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		t.Fatalf("softhsm2-util is not installed: run `make test-deps` or `apt-get install softhsm2`")
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	out, err := exec.Command(util, "--init-token", "--free", "--label", testTokenLabel,
		"--so-pin", testSOPIN, "--pin", testPIN).CombinedOutput()
	if err != nil {
		t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	return Config{Module: module, TokenLabel: testTokenLabel, PIN: testPIN, MaxSessions: 4}
}

// openToken makes a throwaway token and opens a Manager on it, closed when
// the test ends.
func openToken(t testing.TB) *Manager {
	t.Helper()
	m, err := New(newToken(t))
	if err != nil {
		t.Fatalf("open the SoftHSM2 token: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}
