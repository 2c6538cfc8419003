// Package config reads Keyward's settings from command-line flags and
// KEYWARD_* environment variables (a flag wins over its variable) and
// validates them with messages that say what to change.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/certfetch"
)

// Config is the server's configuration.
type Config struct {
	Addr           string
	DataDir        string
	MasterKeyFile  string
	BaseURL        string
	CookieSecure   string // auto, always, never
	LogFormat      string // text, json
	LogLevel       string // debug, info, warn, error
	SessionIdle    time.Duration
	SessionMaxAge  time.Duration
	MaxRequestBody int64

	// HTTPS served directly: the PEM certificate chain and its private key,
	// reloaded while the server runs (internal/tlsreload).
	TLSCertFile string
	TLSKeyFile  string

	// Certificate fetches from https://, ldaps:// and ldap:// URLs.
	FetchDenyPrivate bool           // also refuse private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7)
	FetchAllow       []netip.Prefix // ranges a fetch may reach even when otherwise refused

	// The HSM that holds signing keys (PKCS#11); without a module, the
	// built-in software token.
	HSMModule      string // path of the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so
	HSMTokenLabel  string
	HSMPINFile     string
	HSMPIN         string `json:"-"` // from KEYWARD_HSM_PIN or the PIN file; never logged
	HSMMaxSessions int
}

// DBPath is the SQLite file inside the data directory.
func (c Config) DBPath() string { return filepath.Join(c.DataDir, "keyward.db") }

// KeyFile is the master key file: --master-key-file, or master.key in the
// data directory.
func (c Config) KeyFile() string {
	if c.MasterKeyFile != "" {
		return c.MasterKeyFile
	}
	return filepath.Join(c.DataDir, "master.key")
}

// Getenv looks up an environment variable (os.Getenv, or a map in tests).
type Getenv func(string) string

func envOr(getenv Getenv, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// BindData registers --data-dir, which every subcommand takes.
func BindData(fs *flag.FlagSet, c *Config, getenv Getenv) {
	fs.StringVar(&c.DataDir, "data-dir", envOr(getenv, "KEYWARD_DATA_DIR", "./data"), "directory of the database and the generated master key (env KEYWARD_DATA_DIR)")
	fs.StringVar(&c.MasterKeyFile, "master-key-file", getenv("KEYWARD_MASTER_KEY_FILE"), "master key file, created with mode 0600 when missing (default DATA_DIR/master.key; env KEYWARD_MASTER_KEY_FILE)")
}

// BindServe registers the server's flags. The returned finish, called after
// parsing, converts and checks the values that are not plain strings
// (durations, the fetch settings).
func BindServe(fs *flag.FlagSet, c *Config, getenv Getenv) (finish func() error) {
	BindData(fs, c, getenv)
	fs.StringVar(&c.Addr, "addr", envOr(getenv, "KEYWARD_ADDR", "127.0.0.1:8080"), "address to listen on (env KEYWARD_ADDR)")
	fs.StringVar(&c.BaseURL, "base-url", getenv("KEYWARD_BASE_URL"), "public URL of this server, used in printed links (default http://ADDR, or https://ADDR with --tls-cert-file; env KEYWARD_BASE_URL)")
	fs.StringVar(&c.TLSCertFile, "tls-cert-file", getenv("KEYWARD_TLS_CERT_FILE"), "serve HTTPS with this PEM certificate chain (the server's certificate first); reloaded on SIGHUP or when it changes (env KEYWARD_TLS_CERT_FILE)")
	fs.StringVar(&c.TLSKeyFile, "tls-key-file", getenv("KEYWARD_TLS_KEY_FILE"), "the PEM private key of --tls-cert-file (env KEYWARD_TLS_KEY_FILE)")
	fs.StringVar(&c.CookieSecure, "cookie-secure", envOr(getenv, "KEYWARD_COOKIE_SECURE", "auto"), "mark cookies Secure: auto (when serving HTTPS, or the base URL or request is https), always, never (env KEYWARD_COOKIE_SECURE)")
	fs.StringVar(&c.LogFormat, "log-format", envOr(getenv, "KEYWARD_LOG_FORMAT", "text"), "log format: text or json (env KEYWARD_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", envOr(getenv, "KEYWARD_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env KEYWARD_LOG_LEVEL)")
	idle := fs.String("session-idle-timeout", envOr(getenv, "KEYWARD_SESSION_IDLE_TIMEOUT", "30m"), "sign out after this long without a request (env KEYWARD_SESSION_IDLE_TIMEOUT)")
	maxAge := fs.String("session-max-age", envOr(getenv, "KEYWARD_SESSION_MAX_AGE", "12h"), "sign out this long after signing in (env KEYWARD_SESSION_MAX_AGE)")
	c.MaxRequestBody = 1 << 20
	denyPrivateEnv := getenv("KEYWARD_FETCH_DENY_PRIVATE")
	denyPrivate, denyPrivateErr := strconv.ParseBool(envOr(getenv, "KEYWARD_FETCH_DENY_PRIVATE", "false"))
	fs.BoolVar(&c.FetchDenyPrivate, "fetch-deny-private", denyPrivate, "certificate fetches also refuse private addresses: 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7 (env KEYWARD_FETCH_DENY_PRIVATE)")
	allow := fs.String("fetch-allow", getenv("KEYWARD_FETCH_ALLOW"), "comma-separated IP addresses and CIDR prefixes that certificate fetches may reach even when refused otherwise, such as 127.0.0.1,10.20.0.0/16 (env KEYWARD_FETCH_ALLOW)")
	BindHSM(fs, c, getenv)
	return func() error {
		var err error
		if c.SessionIdle, err = time.ParseDuration(*idle); err != nil || c.SessionIdle < time.Minute {
			return fmt.Errorf("--session-idle-timeout %q must be a duration of at least 1m, such as 30m", *idle)
		}
		if c.SessionMaxAge, err = time.ParseDuration(*maxAge); err != nil || c.SessionMaxAge < c.SessionIdle {
			return fmt.Errorf("--session-max-age %q must be a duration no shorter than --session-idle-timeout, such as 12h", *maxAge)
		}
		if denyPrivateErr != nil && !isSet(fs, "fetch-deny-private") {
			return fmt.Errorf("--fetch-deny-private %q (from KEYWARD_FETCH_DENY_PRIVATE) must be true or false", denyPrivateEnv)
		}
		if c.FetchAllow, err = parseFetchAllow(*allow); err != nil {
			return err
		}
		return c.FinishHSM(getenv)
	}
}

// BindHSM registers the HSM flags (serve and the hsm commands take them).
func BindHSM(fs *flag.FlagSet, c *Config, getenv Getenv) {
	fs.StringVar(&c.HSMModule, "hsm-module", getenv("KEYWARD_HSM_MODULE"), "PKCS#11 module of the HSM holding signing keys, such as /usr/lib/softhsm/libsofthsm2.so; without one, the built-in software token (env KEYWARD_HSM_MODULE)")
	fs.StringVar(&c.HSMTokenLabel, "hsm-token-label", getenv("KEYWARD_HSM_TOKEN_LABEL"), "label of the HSM token to use (env KEYWARD_HSM_TOKEN_LABEL)")
	fs.StringVar(&c.HSMPINFile, "hsm-pin-file", getenv("KEYWARD_HSM_PIN_FILE"), "file holding the token's user PIN; or set KEYWARD_HSM_PIN (env KEYWARD_HSM_PIN_FILE)")
	sessions, _ := strconv.Atoi(envOr(getenv, "KEYWARD_HSM_MAX_SESSIONS", "4"))
	fs.IntVar(&c.HSMMaxSessions, "hsm-max-sessions", sessions, "PKCS#11 sessions kept open, at least 2 (env KEYWARD_HSM_MAX_SESSIONS)")
}

// FinishHSM reads the PIN and checks the HSM settings go together.
func (c *Config) FinishHSM(getenv Getenv) error {
	if c.HSMModule == "" {
		if c.HSMTokenLabel != "" || c.HSMPINFile != "" {
			return fmt.Errorf("--hsm-token-label and --hsm-pin-file need --hsm-module (the PKCS#11 library of the HSM)")
		}
		return nil
	}
	if c.HSMTokenLabel == "" {
		return fmt.Errorf("--hsm-module needs --hsm-token-label: the label of the token to use")
	}
	if c.HSMMaxSessions < 2 {
		return fmt.Errorf("--hsm-max-sessions %d must be at least 2", c.HSMMaxSessions)
	}
	c.HSMPIN = getenv("KEYWARD_HSM_PIN")
	if c.HSMPINFile != "" {
		b, err := os.ReadFile(c.HSMPINFile)
		if err != nil {
			return fmt.Errorf("--hsm-pin-file: %w", err)
		}
		c.HSMPIN = strings.TrimRight(string(b), "\r\n")
	}
	if c.HSMPIN == "" {
		return fmt.Errorf("--hsm-module needs the token's user PIN: --hsm-pin-file or KEYWARD_HSM_PIN")
	}
	return nil
}

// Validate checks the server configuration.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("--data-dir must not be empty")
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || port == "" {
		return fmt.Errorf("--addr %q must be host:port, such as 127.0.0.1:8080 or :8080", c.Addr)
	}
	switch c.CookieSecure {
	case "auto", "always", "never":
	default:
		return fmt.Errorf("--cookie-secure %q must be auto, always or never", c.CookieSecure)
	}
	if err := c.validateTLS(); err != nil {
		return err
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("--log-format %q must be text or json", c.LogFormat)
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q must be debug, info, warn or error", c.LogLevel)
	}
	if c.BaseURL == "" {
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		c.BaseURL = c.scheme() + "://" + net.JoinHostPort(host, port)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("--base-url %q must be an absolute http:// or https:// URL without a path, such as https://keyward.example.com", c.BaseURL)
	}
	if c.TLS() && u.Scheme != "https" {
		return fmt.Errorf("--base-url %q must be https:// when --tls-cert-file serves HTTPS", c.BaseURL)
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	return nil
}

// TLS reports whether the server serves HTTPS itself.
func (c Config) TLS() bool { return c.TLSCertFile != "" }

func (c Config) scheme() string {
	if c.TLS() {
		return "https"
	}
	return "http"
}

// validateTLS checks that the certificate and key come together, that both
// files exist, and that nothing asks for a cookie without Secure over
// HTTPS. Their content is checked when the server loads them
// (tlsreload.New), with messages naming the file.
func (c Config) validateTLS() error {
	switch {
	case c.TLSCertFile == "" && c.TLSKeyFile == "":
		return nil
	case c.TLSKeyFile == "":
		return fmt.Errorf("--tls-cert-file needs --tls-key-file (or KEYWARD_TLS_KEY_FILE): the certificate's private key")
	case c.TLSCertFile == "":
		return fmt.Errorf("--tls-key-file needs --tls-cert-file (or KEYWARD_TLS_CERT_FILE): the certificate the key belongs to")
	}
	for _, f := range []struct{ flag, name string }{{"--tls-cert-file", c.TLSCertFile}, {"--tls-key-file", c.TLSKeyFile}} {
		fi, err := os.Stat(f.name)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("%s %q: no such file", f.flag, f.name)
		case err != nil:
			return fmt.Errorf("%s: %w", f.flag, err)
		case fi.IsDir():
			return fmt.Errorf("%s %q is a directory, not a PEM file", f.flag, f.name)
		}
	}
	if c.CookieSecure == "never" {
		return fmt.Errorf("--cookie-secure never cannot go with --tls-cert-file: over HTTPS the session cookie is always Secure")
	}
	return nil
}

// SecureCookies reports whether cookies always carry the Secure flag:
// when Keyward serves HTTPS itself, or its public URL is https.
func (c Config) SecureCookies() bool {
	return c.CookieSecure == "always" || (c.CookieSecure == "auto" && (c.TLS() || strings.HasPrefix(c.BaseURL, "https://")))
}

// FetchPolicy is the address policy of certificate fetches.
func (c Config) FetchPolicy() certfetch.Policy {
	return certfetch.Policy{DenyPrivate: c.FetchDenyPrivate, Allow: c.FetchAllow}
}

// parseFetchAllow reads --fetch-allow: IP addresses and CIDR prefixes
// separated by commas. IPv4-mapped IPv6 forms are turned into the IPv4 ones
// they mean, since fetched addresses are compared unmapped.
func parseFetchAllow(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := netip.ParsePrefix(item)
		if !strings.Contains(item, "/") {
			var a netip.Addr
			if a, err = netip.ParseAddr(item); err == nil && a.Zone() == "" {
				p = netip.PrefixFrom(a, a.BitLen())
			} else if err == nil {
				err = fmt.Errorf("zone")
			}
		}
		if err != nil {
			return nil, fmt.Errorf("--fetch-allow %q must be comma-separated IP addresses or CIDR prefixes, such as 127.0.0.1,10.20.0.0/16: %q is neither", list, item)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// isSet reports whether the command line gave the flag name.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
