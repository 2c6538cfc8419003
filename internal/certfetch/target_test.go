package certfetch

import (
	"context"
	"strings"
	"testing"
)

func TestParseTargetNormalises(t *testing.T) {
	for _, tc := range []struct {
		raw, url, host, sni string
	}{
		{"https://Gateway.Example.com", "https://gateway.example.com:443", "gateway.example.com", "gateway.example.com"},
		{"  https://gateway.example.com:8443/v1/health?x=1#y ", "https://gateway.example.com:8443", "gateway.example.com", "gateway.example.com"},
		{"ldaps://dir.example.com", "ldaps://dir.example.com:636", "dir.example.com", "dir.example.com"},
		{"ldap://dir.example.com/dc=example,dc=com?cn", "ldap://dir.example.com:389", "dir.example.com", "dir.example.com"},
		{"LDAP://192.0.2.7:1389", "ldap://192.0.2.7:1389", "192.0.2.7", ""},
		{"https://[2001:DB8::1]", "https://[2001:db8::1]:443", "2001:db8::1", ""},
		{"https://gateway.example.com.", "https://gateway.example.com.:443", "gateway.example.com.", "gateway.example.com"},
	} {
		got, err := parseTarget("url", tc.raw)
		if err != nil {
			t.Errorf("%q: %v", tc.raw, err)
			continue
		}
		if got.url != tc.url || got.host != tc.host || got.sni != tc.sni {
			t.Errorf("%q: url %q host %q sni %q, want %q %q %q", tc.raw, got.url, got.host, got.sni, tc.url, tc.host, tc.sni)
		}
	}
}

func TestURLErrors(t *testing.T) {
	const schemes = "Use an https://, ldaps:// or ldap:// URL"
	for _, tc := range []struct{ raw, want string }{
		{"", "Enter the server's URL, such as https://gateway.example.com."},
		{"   ", "Enter the server's URL, such as https://gateway.example.com."},
		{"gateway.example.com", schemes + ", such as https://gateway.example.com."},
		{"gateway.example.com:8443/path", schemes + ", such as https://gateway.example.com:8443."},
		{"https:gateway.example.com", schemes + ", such as https://gateway.example.com."},
		{"ldaps:/dir.example.com", schemes + ", such as ldaps://dir.example.com."},
		{"not a url at all", schemes + ", such as https://gateway.example.com."},
		{"http://gateway.example.com", schemes + "."},
		{"ftp://gateway.example.com", schemes + "."},
		{"ldapi://%2fvar%2frun%2fldapi", schemes + "."},
		{"https://admin:secret@gateway.example.com", "Remove the user name from the URL: Keyward only reads the certificates the server presents and sends no credentials."},
		{"ldap://cn=admin@dir.example.com", "Remove the user name from the URL: Keyward only reads the certificates the server presents and sends no credentials."},
		{"https://", "The URL has no host name; write it as https://host[:port]."},
		{"https://:443", "The URL has no host name; write it as https://host[:port]."},
		{"https://gateway.example.com:0", "The port 0 in the URL must be a number from 1 to 65535."},
		{"https://gateway.example.com:70000", "The port 70000 in the URL must be a number from 1 to 65535."},
		{"https://gateway.example.com:https", "This is not a valid URL; write it as https://host[:port], ldaps://host[:port] or ldap://host[:port]."},
		{"https://[::1", "This is not a valid URL; write it as https://host[:port], ldaps://host[:port] or ldap://host[:port]."},
	} {
		// Fetch reports a URL error before any lookup or connection.
		_, err := New(Policy{}).Fetch(context.Background(), "configs[0].url", tc.raw)
		assertFieldError(t, err, tc.want)
		if t.Failed() {
			t.Logf("input %q", tc.raw)
			return
		}
	}
	if _, err := parseTarget("url", "https://"+strings.Repeat("a", 300)+"@x"); err == nil {
		t.Error("userinfo of any length is refused")
	}
}
