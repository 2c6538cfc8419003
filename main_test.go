package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/app"
	"github.com/keyward/keyward/internal/auth"
	"github.com/keyward/keyward/internal/config"
	"github.com/keyward/keyward/internal/db"
)

// result is one run of the command line.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the binary's entry point with an environment of its own.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut, func(k string) string { return env[k] })
	return result{code, out.String(), errOut.String()}
}

// openApp opens a data directory the way the server does, for checking what
// a command left behind.
func openApp(t *testing.T, dir string) *app.App {
	t.Helper()
	a, err := app.Open(context.Background(), config.Config{DataDir: dir, LogFormat: "text", LogLevel: "error"}, schemaSQL, app.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestHelpListsCommandsAndFlags(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		r := runCLI(t, nil, "", arg)
		if r.code != 0 {
			t.Fatalf("%s: exit %d", arg, r.code)
		}
		for _, want := range []string{"serve", "user create", "--username", "--admin", "token create", "--name", "--expires",
			"backup FILE", "audit verify", "version", "--data-dir", "-tls-cert-file", "-tls-key-file", "KEYWARD_TLS_CERT_FILE",
			"-addr", "-base-url", "-cookie-secure", "-log-format", "-log-level", "-master-key-file",
			"-session-idle-timeout", "-session-max-age", "KEYWARD_DATA_DIR", "KEYWARD_ADDR"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s does not mention %q", arg, want)
			}
		}
	}
	if r := runCLI(t, nil, "", "help"); r.code != 0 || !strings.Contains(r.stdout, "audit verify") {
		t.Errorf("help: exit %d", r.code)
	}
	if r := runCLI(t, nil, "", "serve", "--help"); r.code != 0 || !strings.Contains(r.stderr, "-session-max-age") {
		t.Errorf("serve --help: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestUnknownCommandAndVersion(t *testing.T) {
	r := runCLI(t, nil, "", "frobnicate")
	if r.code != 2 || !strings.Contains(r.stderr, `unknown command "frobnicate"`) || !strings.Contains(r.stderr, "Usage:") {
		t.Fatalf("unknown command: exit %d stderr %q", r.code, r.stderr)
	}
	r = runCLI(t, nil, "", "version")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "keyward "+app.Version {
		t.Fatalf("version: exit %d stdout %q", r.code, r.stdout)
	}
}

func TestUserAndTokenCreate(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"KEYWARD_DATA_DIR": dir} // the variable works like --data-dir
	r := runCLI(t, env, "correct horse battery\n", "user", "create", "--username", "alice", "--admin")
	if r.code != 0 || !strings.Contains(r.stdout, "created user alice") {
		t.Fatalf("user create: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "correct horse battery") {
		t.Fatalf("the password was echoed")
	}
	r = runCLI(t, nil, "short\n", "user", "create", "--data-dir", dir, "--username", "bob")
	if r.code != 1 || !strings.Contains(r.stderr, "at least 12 characters") {
		t.Fatalf("short password: exit %d stderr %q", r.code, r.stderr)
	}
	r = runCLI(t, env, "correct horse battery\n", "user", "create", "--username", "alice")
	if r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("duplicate user: exit %d stderr %q", r.code, r.stderr)
	}
	r = runCLI(t, env, "correct horse battery\n", "user", "create")
	if r.code != 1 || !strings.Contains(r.stderr, "--username is required") {
		t.Fatalf("missing --username: exit %d stderr %q", r.code, r.stderr)
	}
	r = runCLI(t, env, "", "user", "delete")
	if r.code != 1 || !strings.Contains(r.stderr, "usage: keyward user create") {
		t.Fatalf("user delete: exit %d stderr %q", r.code, r.stderr)
	}

	r = runCLI(t, env, "", "token", "create", "--username", "alice", "--name", "ci", "--expires", "48h")
	if r.code != 0 {
		t.Fatalf("token create: exit %d stderr %q", r.code, r.stderr)
	}
	if !strings.HasSuffix(r.stdout, "\n") || strings.Count(r.stdout, "\n") != 1 || !strings.HasPrefix(r.stdout, auth.TokenPrefix) {
		t.Fatalf("token create printed %q, want one line with the token", r.stdout)
	}
	tok := strings.TrimSpace(r.stdout)
	if r := runCLI(t, env, "", "token", "create", "--username", "nobody", "--name", "ci"); r.code != 1 || !strings.Contains(r.stderr, "does not exist") {
		t.Fatalf("token for a missing user: exit %d stderr %q", r.code, r.stderr)
	}
	if r := runCLI(t, env, "", "token", "create", "--username", "alice"); r.code != 1 || !strings.Contains(r.stderr, "--name") {
		t.Fatalf("token without --name: exit %d stderr %q", r.code, r.stderr)
	}

	a := openApp(t, dir)
	u, err := a.DB.Queries().GetUserByUsername(context.Background(), "alice")
	if err != nil || !u.IsAdmin || !auth.CheckPassword(u.PasswordHash, "correct horse battery") {
		t.Fatalf("alice: %+v %v", u, err)
	}
	if n, _ := a.DB.Queries().CountUsers(context.Background()); n != 1 {
		t.Fatalf("%d users, want only alice", n)
	}
	p, err := a.Auth.AuthenticateToken(context.Background(), tok, "127.0.0.1")
	if err != nil || p.Username != "alice" || !p.Admin {
		t.Fatalf("the printed token does not authenticate: %+v %v", p, err)
	}
	list, _ := a.Auth.ListTokens(context.Background(), p)
	if len(list) != 1 || !list[0].ExpiresAt.Valid || list[0].ExpiresAt.Time.Sub(list[0].CreatedAt) != 48*time.Hour {
		t.Fatalf("token expiry: %+v", list)
	}
}

func TestBackup(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, nil, "correct horse battery\n", "user", "create", "--data-dir", dir, "--username", "alice"); r.code != 0 {
		t.Fatalf("user create: %q", r.stderr)
	}
	dest := filepath.Join(t.TempDir(), "keyward-backup.db")
	r := runCLI(t, nil, "", "backup", "--data-dir", dir, dest)
	if r.code != 0 || !strings.Contains(r.stdout, dest) || !strings.Contains(r.stdout, "master key") {
		t.Fatalf("backup: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	st, err := os.Stat(dest)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", st, err)
	}
	d, err := db.Open(context.Background(), dest, schemaSQL)
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	if _, err := d.Queries().GetUserByUsername(context.Background(), "alice"); err != nil {
		t.Fatalf("backup lacks alice: %v", err)
	}
	d.Close()
	before, _ := os.ReadFile(dest)
	r = runCLI(t, nil, "", "backup", "--data-dir", dir, dest)
	if r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("backup over a file: exit %d stderr %q", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(dest); !bytes.Equal(before, after) {
		t.Fatalf("the refused backup changed the existing file")
	}
	if r := runCLI(t, nil, "", "backup", "--data-dir", dir); r.code != 1 || !strings.Contains(r.stderr, "usage: keyward backup") {
		t.Fatalf("backup without FILE: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestAuditVerify(t *testing.T) {
	dir := t.TempDir()
	for _, u := range []string{"alice", "bob", "carol"} {
		if r := runCLI(t, nil, "correct horse battery\n", "user", "create", "--data-dir", dir, "--username", u); r.code != 0 {
			t.Fatalf("user create: %q", r.stderr)
		}
	}
	r := runCLI(t, nil, "", "audit", "verify", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "intact: 3 entries") {
		t.Fatalf("intact log: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}

	// Tamper with entry 2 behind keyward's back.
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "keyward.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("UPDATE audit_log SET actor = 'mallory' WHERE id = 2"); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("the trigger did not stop an update: %v", err)
	}
	for _, stmt := range []string{"DROP TRIGGER audit_log_no_update", "UPDATE audit_log SET actor = 'mallory' WHERE id = 2"} {
		if _, err := raw.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	raw.Close()

	r = runCLI(t, nil, "", "audit", "verify", "--data-dir", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "BROKEN at entry 2") || !strings.Contains(r.stdout, "modified") {
		t.Fatalf("tampered log: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, nil, "", "audit", "list"); r.code != 1 || !strings.Contains(r.stderr, "usage: keyward audit verify") {
		t.Fatalf("audit list: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	r := runCLI(t, nil, "", "serve", "--data-dir", t.TempDir(), "--addr", "nowhere")
	if r.code != 1 || !strings.Contains(r.stderr, "--addr") {
		t.Fatalf("bad --addr: exit %d stderr %q", r.code, r.stderr)
	}
	r = runCLI(t, map[string]string{"KEYWARD_COOKIE_SECURE": "sometimes"}, "", "--data-dir", t.TempDir())
	if r.code != 1 || !strings.Contains(r.stderr, "--cookie-secure") {
		t.Fatalf("bad KEYWARD_COOKIE_SECURE: exit %d stderr %q", r.code, r.stderr)
	}
	r = runCLI(t, nil, "", "serve", "--no-such-flag")
	if r.code != 1 || !strings.Contains(r.stderr, "no-such-flag") {
		t.Fatalf("unknown flag: exit %d stderr %q", r.code, r.stderr)
	}
}

// syncBuffer is a goroutine-safe writer for the server's stderr.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServe starts the server in-process on a free port, follows the printed
// setup link, reads /metrics, then stops it by cancelling the context.
func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--data-dir", dir, "--log-format", "json"}, strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
	}()

	base := "http://" + addr
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) (int, string) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code, _ := get("/healthz"); code == http.StatusOK {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d before it answered: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not answer /healthz: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	link := regexp.MustCompile(`(http://\S+)(/setup/\S+)`).FindStringSubmatch(stderr.String())
	if link == nil || link[1] != base {
		t.Fatalf("no setup link for %s in stderr: %s", base, stderr.String())
	}
	if code, body := get(link[2]); code != http.StatusOK || !strings.Contains(body, "Create the first administrator") {
		t.Fatalf("setup link: status %d", code)
	}
	// Plain HTTP: no HSTS (a browser would ignore it, and it must never be
	// sent where HTTPS is not served), and the cookie is not Secure.
	if resp, err := client.Get(base + link[2]); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("Strict-Transport-Security %q over plain HTTP", got)
		}
		if cs := resp.Cookies(); len(cs) == 0 || cs[0].Secure {
			t.Errorf("cookies over plain HTTP with --cookie-secure auto: %v", cs)
		}
	}
	if code, _ := get("/setup/not-the-token"); code != http.StatusNotFound {
		t.Fatalf("wrong setup link: status %d", code)
	}
	if code, _ := get("/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz: status %d", code)
	}
	code, metrics := get("/metrics")
	if code != http.StatusOK || !strings.Contains(metrics, "keyward_http_requests_total") || !strings.Contains(metrics, `route="/setup/:token"`) {
		t.Fatalf("/metrics: status %d\n%.500s", code, metrics)
	}
	if !strings.Contains(stderr.String(), "generated a new master key") || !strings.Contains(stderr.String(), `"msg":"keyward listening"`) {
		t.Errorf("start-up logs: %s", stderr.String())
	}
	if n := strings.Count(stderr.String(), strings.TrimPrefix(link[2], "/setup/")); n != 1 {
		t.Errorf("the setup token appears %d times in stderr; only the printed link may hold it", n)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited with %d after cancel: %s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not stop after the context was cancelled")
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Errorf("no shutdown log: %s", stderr.String())
	}
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Errorf("the server still answers after shutdown")
	}
	if stdout.String() != "" {
		t.Errorf("serve wrote to stdout: %q", stdout.String())
	}
	// The data directory now holds a database and a 0600 master key.
	for _, f := range []string{"keyward.db", "master.key"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, fmt.Sprint(st), err)
		}
	}
}

// TestCommandsRefuseAMissingDataDir: a mistyped --data-dir is reported and
// no database or master key is created there.
func TestCommandsRefuseAMissingDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "typo")
	for _, args := range [][]string{
		{"backup", "--data-dir", dir, filepath.Join(t.TempDir(), "b.db")},
		{"audit", "verify", "--data-dir", dir},
		{"token", "create", "--data-dir", dir, "--username", "alice", "--name", "ci"},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, strings.NewReader(""), &out, &errOut, func(string) string { return "" })
		if code != 1 || !strings.Contains(errOut.String(), "no database at") {
			t.Errorf("%v: exit %d, stderr %q; want 1 and \"no database at\"", args, code, errOut.String())
		}
		if _, err := os.Stat(dir); err == nil {
			t.Fatalf("%v created %s", args, dir)
		}
	}
}
