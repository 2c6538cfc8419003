package certfetch

import (
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/keyward/keyward/internal/errs"
)

// defaultPorts are the schemes a fetch accepts and their usual ports.
var defaultPorts = map[string]string{"https": "443", "ldaps": "636", "ldap": "389"}

const schemeMessage = "Use an https://, ldaps:// or ldap:// URL"

// target is a parsed fetch URL.
type target struct {
	scheme string // https, ldaps or ldap
	host   string // lower-case host name or IP literal, without brackets
	port   uint16
	url    string     // scheme://host:port
	sni    string     // the server name sent, "" for an IP literal
	ip     netip.Addr // the literal address, when host is one
}

// parseTarget checks rawURL and normalises it. A path, query or fragment is
// ignored; a user name or password is refused.
func parseTarget(field, rawURL string) (target, error) {
	raw := strings.TrimSpace(rawURL)
	if raw == "" {
		return target{}, errs.FieldErrorf(field, "Enter the server's URL, such as https://gateway.example.com.")
	}
	if !strings.Contains(raw, "://") {
		return target{}, bareHostError(field, raw)
	}
	scheme, _, _ := strings.Cut(raw, "://")
	if _, ok := defaultPorts[strings.ToLower(scheme)]; !ok {
		return target{}, errs.FieldErrorf(field, "%s.", schemeMessage)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, errs.FieldErrorf(field, "This is not a valid URL; write it as https://host[:port], ldaps://host[:port] or ldap://host[:port].")
	}
	if u.User != nil {
		return target{}, errs.FieldErrorf(field, "Remove the user name from the URL: Keyward only reads the certificates the server presents and sends no credentials.")
	}
	t := target{scheme: u.Scheme, host: strings.ToLower(u.Hostname())}
	if t.host == "" {
		return target{}, errs.FieldErrorf(field, "The URL has no host name; write it as %s://host[:port].", t.scheme)
	}
	port := u.Port()
	if port == "" {
		port = defaultPorts[t.scheme]
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return target{}, errs.FieldErrorf(field, "The port %s in the URL must be a number from 1 to 65535.", port)
	}
	t.port = uint16(n)
	if ip, err := netip.ParseAddr(t.host); err == nil {
		t.ip = ip
	} else {
		t.sni = strings.TrimSuffix(t.host, ".")
	}
	t.url = t.scheme + "://" + net.JoinHostPort(t.host, port)
	return t, nil
}

// bareHostError answers a URL typed without a scheme, suggesting https://
// with the host (and port) that was typed when that looks like one.
func bareHostError(field, raw string) error {
	scheme := "https"
	host := raw
	// "https:host" lost its slashes rather than its scheme.
	if s, rest, ok := strings.Cut(raw, ":"); ok {
		if _, known := defaultPorts[strings.ToLower(s)]; known {
			scheme, host = strings.ToLower(s), strings.TrimLeft(rest, "/")
		}
	}
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		host = host[:i]
	}
	if host == "" || len(host) > 260 || strings.ContainsAny(host, " \t\"'<>@\\") {
		host = "gateway.example.com"
	}
	return errs.FieldErrorf(field, "%s, such as %s://%s.", schemeMessage, scheme, host)
}
