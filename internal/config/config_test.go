package config

import (
	"flag"
	"io"
	"path/filepath"
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
