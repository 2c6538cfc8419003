package config

import (
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// parseServe runs the server's flag parsing and validation as main does.
func parseServe(args []string, env map[string]string) (*Config, error) {
	c := &Config{}
	fs := flag.NewFlagSet("keyward serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	finish := BindServe(fs, c, func(k string) string { return env[k] })
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return c, c.Validate()
}

func TestDefaults(t *testing.T) {
	c, err := parseServe(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.BaseURL != "http://127.0.0.1:8080" || c.DataDir != "./data" ||
		c.CookieSecure != "auto" || c.LogFormat != "text" || c.LogLevel != "info" ||
		c.SessionIdle != 30*time.Minute || c.SessionMaxAge != 12*time.Hour || c.MaxRequestBody != 1<<20 {
		t.Fatalf("defaults: %+v", c)
	}
	if c.SecureCookies() {
		t.Errorf("an http base URL must not force Secure cookies")
	}
	if p := c.FetchPolicy(); c.FetchDenyPrivate || c.FetchAllow != nil || p.DenyPrivate || p.Allow != nil || p.Timeout != 0 {
		t.Errorf("fetch defaults: deny private %v, allow %v, policy %+v", c.FetchDenyPrivate, c.FetchAllow, p)
	}
	if c.DBPath() != filepath.Join("./data", "keyward.db") || c.KeyFile() != filepath.Join("./data", "master.key") {
		t.Errorf("paths: %s %s", c.DBPath(), c.KeyFile())
	}
}

func TestInvalidFlagsNameTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--addr", "localhost"}, "--addr"},
		{[]string{"--addr", "127.0.0.1:"}, "--addr"},
		{[]string{"--cookie-secure", "yes"}, "--cookie-secure"},
		{[]string{"--log-format", "xml"}, "--log-format"},
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"--base-url", "https://keyward.example.com/keyward"}, "--base-url"},
		{[]string{"--base-url", "ftp://keyward.example.com"}, "--base-url"},
		{[]string{"--base-url", "keyward.example.com"}, "--base-url"},
		{[]string{"--session-idle-timeout", "soon"}, "--session-idle-timeout"},
		{[]string{"--session-idle-timeout", "30s"}, "--session-idle-timeout"},
		{[]string{"--session-max-age", "forever"}, "--session-max-age"},
		{[]string{"--session-idle-timeout", "2h", "--session-max-age", "1h"}, "--session-max-age"},
		{[]string{"--data-dir", ""}, "--data-dir"},
		{[]string{"--fetch-allow", "10.0.0.0/33"}, "--fetch-allow"},
		{[]string{"--fetch-allow", "127.0.0.1,localhost"}, "--fetch-allow"},
		{[]string{"--fetch-allow", "10.0.0"}, "--fetch-allow"},
		{[]string{"--fetch-allow", "fe80::1%eth0"}, "--fetch-allow"},
		{[]string{"--fetch-allow", "10.0.0.0/8/8"}, "--fetch-allow"},
	} {
		_, err := parseServe(tc.args, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one naming %s", tc.args, err, tc.want)
			continue
		}
		// The message quotes the bad value so the operator sees what to fix.
		if v := tc.args[len(tc.args)-1]; v != "" && !strings.Contains(err.Error(), v) {
			t.Errorf("%v: error %q does not quote %q", tc.args, err, v)
		}
	}
}

func TestEnvironmentAndFlagPrecedence(t *testing.T) {
	env := map[string]string{
		"KEYWARD_ADDR":                 ":9090",
		"KEYWARD_DATA_DIR":             "/srv/keyward",
		"KEYWARD_MASTER_KEY_FILE":      "/run/secrets/master.key",
		"KEYWARD_COOKIE_SECURE":        "always",
		"KEYWARD_LOG_FORMAT":           "json",
		"KEYWARD_LOG_LEVEL":            "debug",
		"KEYWARD_SESSION_IDLE_TIMEOUT": "45m",
		"KEYWARD_SESSION_MAX_AGE":      "8h",
	}
	c, err := parseServe(nil, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":9090" || c.DataDir != "/srv/keyward" || c.KeyFile() != "/run/secrets/master.key" ||
		c.CookieSecure != "always" || c.LogFormat != "json" || c.LogLevel != "debug" ||
		c.SessionIdle != 45*time.Minute || c.SessionMaxAge != 8*time.Hour {
		t.Fatalf("from the environment: %+v", c)
	}
	// A wildcard address still gives a usable link.
	if c.BaseURL != "http://127.0.0.1:9090" || !c.SecureCookies() {
		t.Errorf("base URL %q, secure cookies %v", c.BaseURL, c.SecureCookies())
	}

	c, err = parseServe([]string{"--addr", "127.0.0.1:7070", "--data-dir", "/tmp/kw", "--cookie-secure", "never",
		"--log-format", "text", "--session-idle-timeout", "10m", "--session-max-age", "1h",
		"--base-url", "https://keyward.example.com/"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:7070" || c.DataDir != "/tmp/kw" || c.CookieSecure != "never" || c.LogFormat != "text" ||
		c.SessionIdle != 10*time.Minute || c.SessionMaxAge != time.Hour {
		t.Fatalf("flags did not override the environment: %+v", c)
	}
	if c.BaseURL != "https://keyward.example.com" {
		t.Errorf("base URL %q, want the trailing slash trimmed", c.BaseURL)
	}
	if c.SecureCookies() {
		t.Errorf("--cookie-secure never still forces Secure cookies")
	}
	c.CookieSecure = "auto"
	if !c.SecureCookies() {
		t.Errorf("auto with an https base URL must force Secure cookies")
	}

	// A bad environment value is reported under its flag's name.
	_, err = parseServe(nil, map[string]string{"KEYWARD_LOG_FORMAT": "xml"})
	if err == nil || !strings.Contains(err.Error(), "--log-format") {
		t.Errorf("bad KEYWARD_LOG_FORMAT: %v", err)
	}
	_, err = parseServe(nil, map[string]string{"KEYWARD_SESSION_IDLE_TIMEOUT": "5"})
	if err == nil || !strings.Contains(err.Error(), "--session-idle-timeout") {
		t.Errorf("bad KEYWARD_SESSION_IDLE_TIMEOUT: %v", err)
	}
}

func TestBindDataOnly(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("keyward backup", flag.ContinueOnError)
	BindData(fs, &c, func(k string) string {
		if k == "KEYWARD_DATA_DIR" {
			return "/from/env"
		}
		return ""
	})
	if err := fs.Parse([]string{"backup.db"}); err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/from/env" || c.KeyFile() != filepath.Join("/from/env", "master.key") || fs.Arg(0) != "backup.db" {
		t.Fatalf("data flags: %+v args %v", c, fs.Args())
	}
	if fs.Lookup("addr") != nil {
		t.Errorf("subcommands must not take server flags")
	}
}

func TestFetchSettings(t *testing.T) {
	prefixes := func(list ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, p := range list {
			out = append(out, netip.MustParsePrefix(p))
		}
		return out
	}
	env := map[string]string{
		"KEYWARD_FETCH_DENY_PRIVATE": "true",
		// Spaces, an empty item, a single address of each family, a
		// prefix that is not masked and an IPv4-mapped one.
		"KEYWARD_FETCH_ALLOW": " 127.0.0.1, 10.20.30.40/16,,::1,::ffff:192.0.2.0/120 ,2001:db8::/32",
	}
	c, err := parseServe(nil, env)
	if err != nil {
		t.Fatal(err)
	}
	want := prefixes("127.0.0.1/32", "10.20.0.0/16", "::1/128", "192.0.2.0/24", "2001:db8::/32")
	if !c.FetchDenyPrivate || !reflect.DeepEqual(c.FetchAllow, want) {
		t.Fatalf("from the environment: deny private %v, allow %v, want %v", c.FetchDenyPrivate, c.FetchAllow, want)
	}
	if p := c.FetchPolicy(); !p.DenyPrivate || !reflect.DeepEqual(p.Allow, want) || p.Timeout != 0 {
		t.Errorf("policy %+v", p)
	}

	// Flags win over the environment.
	c, err = parseServe([]string{"--fetch-deny-private=false", "--fetch-allow", "192.0.2.7"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.FetchDenyPrivate || !reflect.DeepEqual(c.FetchAllow, prefixes("192.0.2.7/32")) {
		t.Errorf("flags: deny private %v, allow %v", c.FetchDenyPrivate, c.FetchAllow)
	}
	c, err = parseServe([]string{"--fetch-deny-private", "--fetch-allow", ""}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.FetchDenyPrivate || c.FetchAllow != nil {
		t.Errorf("bare --fetch-deny-private and an empty --fetch-allow: %v %v", c.FetchDenyPrivate, c.FetchAllow)
	}
	for _, v := range []string{"1", "TRUE", "false", "0"} {
		c, err := parseServe(nil, map[string]string{"KEYWARD_FETCH_DENY_PRIVATE": v})
		if err != nil || c.FetchDenyPrivate != (v == "1" || v == "TRUE") {
			t.Errorf("KEYWARD_FETCH_DENY_PRIVATE=%s: %v, %v", v, c, err)
		}
	}

	// A bad environment value is reported under its flag's name, quoted,
	// unless the flag overrides it.
	_, err = parseServe(nil, map[string]string{"KEYWARD_FETCH_DENY_PRIVATE": "maybe"})
	if err == nil || !strings.Contains(err.Error(), "--fetch-deny-private") || !strings.Contains(err.Error(), `"maybe"`) {
		t.Errorf("bad KEYWARD_FETCH_DENY_PRIVATE: %v", err)
	}
	if _, err = parseServe([]string{"--fetch-deny-private=true"}, map[string]string{"KEYWARD_FETCH_DENY_PRIVATE": "maybe"}); err != nil {
		t.Errorf("--fetch-deny-private overrides a bad KEYWARD_FETCH_DENY_PRIVATE: %v", err)
	}
	_, err = parseServe(nil, map[string]string{"KEYWARD_FETCH_ALLOW": "10.0.0.0/8;192.0.2.0/24"})
	if err == nil || !strings.Contains(err.Error(), "--fetch-allow") || !strings.Contains(err.Error(), "10.0.0.0/8;192.0.2.0/24") {
		t.Errorf("bad KEYWARD_FETCH_ALLOW: %v", err)
	}
	if _, err = parseServe([]string{"--fetch-allow", "10.0.0.0"}, nil); err != nil {
		t.Errorf("a single address is a valid --fetch-allow: %v", err)
	}
}

// TestHSMSettings: without a module the software token is used; a module
// needs a token label and a PIN (from the file, trailing newline dropped,
// or KEYWARD_HSM_PIN), and each missing piece is named.
func TestHSMSettings(t *testing.T) {
	c, err := parseServe(nil, nil)
	if err != nil || c.HSMModule != "" || c.HSMMaxSessions != 4 {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	pinFile := filepath.Join(t.TempDir(), "pin")
	if err := writeFile(pinFile, "5678\n"); err != nil {
		t.Fatal(err)
	}
	c, err = parseServe([]string{"--hsm-module", "/usr/lib/softhsm/libsofthsm2.so", "--hsm-token-label", "keyward", "--hsm-pin-file", pinFile}, nil)
	if err != nil || c.HSMPIN != "5678" || c.HSMTokenLabel != "keyward" {
		t.Fatalf("module with a PIN file: %+v %v", c, err)
	}
	c, err = parseServe([]string{"--hsm-module", "/m.so", "--hsm-token-label", "k"}, map[string]string{"KEYWARD_HSM_PIN": "1111"})
	if err != nil || c.HSMPIN != "1111" {
		t.Fatalf("PIN from the environment: %v", err)
	}
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"--hsm-module", "/m.so"}, "--hsm-token-label"},
		{[]string{"--hsm-module", "/m.so", "--hsm-token-label", "k"}, "user PIN"},
		{[]string{"--hsm-token-label", "k"}, "need --hsm-module"},
		{[]string{"--hsm-module", "/m.so", "--hsm-token-label", "k", "--hsm-max-sessions", "1", "--hsm-pin-file", pinFile}, "at least 2"},
		{[]string{"--hsm-module", "/m.so", "--hsm-token-label", "k", "--hsm-pin-file", "/nonexistent/pin"}, "--hsm-pin-file"},
	} {
		if _, err := parseServe(c.args, nil); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%v: %v, want a message naming %q", c.args, err, c.says)
		}
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

// TestTLSSettings: the certificate and key come together from flags or the
// environment; with them the default base URL is https and cookies are
// Secure; each bad combination is refused with a message naming the flag.
func TestTLSSettings(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	for _, f := range []string{cert, key} {
		if err := writeFile(f, "PEM\n"); err != nil {
			t.Fatal(err)
		}
	}
	c, err := parseServe(nil, nil)
	if err != nil || c.TLS() || c.TLSCertFile != "" || c.TLSKeyFile != "" {
		t.Fatalf("defaults: TLS %v %v", c.TLS(), err)
	}

	c, err = parseServe([]string{"--addr", ":8443"}, map[string]string{"KEYWARD_TLS_CERT_FILE": cert, "KEYWARD_TLS_KEY_FILE": key})
	if err != nil {
		t.Fatal(err)
	}
	if !c.TLS() || c.TLSCertFile != cert || c.TLSKeyFile != key {
		t.Fatalf("from the environment: %+v", c)
	}
	if c.BaseURL != "https://127.0.0.1:8443" {
		t.Errorf("base URL %q, want https by default when serving HTTPS", c.BaseURL)
	}
	if !c.SecureCookies() {
		t.Errorf("--cookie-secure auto with TLS must force Secure cookies")
	}
	c, err = parseServe([]string{"--tls-cert-file", cert, "--tls-key-file", key, "--base-url", "https://keyward.example.com"},
		map[string]string{"KEYWARD_TLS_CERT_FILE": "/elsewhere.crt", "KEYWARD_TLS_KEY_FILE": "/elsewhere.key"})
	if err != nil || c.TLSCertFile != cert || c.TLSKeyFile != key || c.BaseURL != "https://keyward.example.com" {
		t.Fatalf("flags over the environment: %+v %v", c, err)
	}

	missing := filepath.Join(dir, "missing.pem")
	for _, tc := range []struct {
		args []string
		env  map[string]string
		says string
	}{
		{[]string{"--tls-cert-file", cert}, nil, "--tls-cert-file needs --tls-key-file"},
		{[]string{"--tls-key-file", key}, nil, "--tls-key-file needs --tls-cert-file"},
		{nil, map[string]string{"KEYWARD_TLS_KEY_FILE": key}, "--tls-key-file needs --tls-cert-file (or KEYWARD_TLS_CERT_FILE)"},
		{[]string{"--tls-cert-file", missing, "--tls-key-file", key}, nil, `--tls-cert-file "` + missing + `": no such file`},
		{[]string{"--tls-cert-file", cert, "--tls-key-file", missing}, nil, `--tls-key-file "` + missing + `": no such file`},
		{[]string{"--tls-cert-file", dir, "--tls-key-file", key}, nil, "is a directory"},
		{[]string{"--tls-cert-file", cert, "--tls-key-file", key, "--cookie-secure", "never"}, nil, "--cookie-secure never cannot go with --tls-cert-file"},
		{[]string{"--tls-cert-file", cert, "--tls-key-file", key, "--base-url", "http://keyward.example.com"}, nil, "must be https://"},
	} {
		if _, err := parseServe(tc.args, tc.env); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%v %v: %v, want a message saying %q", tc.args, tc.env, err, tc.says)
		}
	}
	if _, err := parseServe([]string{"--tls-cert-file", cert, "--tls-key-file", key, "--cookie-secure", "always"}, nil); err != nil {
		t.Errorf("--cookie-secure always with TLS: %v", err)
	}
}
