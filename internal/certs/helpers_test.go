package certs_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/errs"
)

const field = "configs[0].content"

// wantFieldError fails unless err is an *errs.Error on field whose message
// holds want.
func wantFieldError(t *testing.T, err error, want string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want an *errs.Error holding %q", err, err, want)
	}
	if e.Field != field || e.Code != errs.Invalid || !strings.Contains(e.Message, want) {
		t.Fatalf("err = %+v, want Invalid on %q holding %q", e, field, want)
	}
}

// parseFile parses content as a file named name.
func parseFile(t *testing.T, name string, content []byte) (certs.Parsed, error) {
	t.Helper()
	return certs.Parse(certs.Input{Field: field, FileName: name, Content: content})
}

// mustParse parses content as a file named name and fails on an error.
func mustParse(t *testing.T, name string, content []byte, password string) certs.Parsed {
	t.Helper()
	p, err := certs.Parse(certs.Input{Field: field, FileName: name, Content: content, Password: password})
	if err != nil {
		t.Fatalf("Parse %s: %v", name, err)
	}
	return p
}

// wantCerts fails unless got are want, in order.
func wantCerts(t *testing.T, got []*x509.Certificate, want ...*x509.Certificate) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d certificates %v, want %d %v", len(got), subjects(got), len(want), subjects(want))
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Fatalf("certificates %v, want %v", subjects(got), subjects(want))
		}
	}
}

func subjects(cs []*x509.Certificate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Subject.CommonName
	}
	return out
}

// tool is the path of an external program the tests need. A missing one
// fails the test: `make test-deps` installs them, and an export checked by
// nobody must not pass.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is missing: run `make test-deps` (it installs openssl and default-jre-headless) and test again", name)
	}
	return p
}

// run runs an external program and returns its combined output, failing
// the test when it exits non-zero.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := runErr(t, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func runErr(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(tool(t, name), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	err := cmd.Run()
	return out.String(), err
}

// writeFile writes data to a file named name in a fresh temporary folder.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func wantContains(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}
