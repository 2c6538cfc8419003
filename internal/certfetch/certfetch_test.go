package certfetch

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/errs"
)

// loopback is the policy of tests that reach their own servers.
var loopback = Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}

// fetchOK fetches rawURL and fails the test on an error.
func fetchOK(t *testing.T, p Policy, rawURL string) Result {
	t.Helper()
	res, err := New(p).Fetch(context.Background(), "url", rawURL)
	if err != nil {
		t.Fatalf("fetch %s: %v", rawURL, err)
	}
	return res
}

// fetchErr fetches rawURL, expecting the error message want about field
// "configs[0].url".
func fetchErr(t *testing.T, p Policy, rawURL, want string) {
	t.Helper()
	_, err := New(p).Fetch(context.Background(), "configs[0].url", rawURL)
	assertFieldError(t, err, want)
}

func assertFieldError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	if errs.CodeOf(err) != errs.Invalid || errs.FieldOf(err) != "configs[0].url" {
		t.Errorf("error %v: code %s field %q, want invalid about configs[0].url", err, errs.CodeOf(err), errs.FieldOf(err))
	}
	if got := errs.MessageOf(err); got != want {
		t.Errorf("message\n got %q\nwant %q", got, want)
	}
}

func TestFetchHTTPSPresentsLeafThenIntermediate(t *testing.T) {
	pki := newTestPKI(t)
	seen := newReports()
	addr := tlsServer(t, serverConfig(pki), seen)

	// A path, query and fragment are ignored; the scheme's case too.
	res := fetchOK(t, loopback, "HTTPS://"+addr+"/health?full=1#top")
	pki.assertChain(t, res.Chain)
	if res.URL != "https://"+addr || res.Host != "127.0.0.1" {
		t.Errorf("URL %q host %q", res.URL, res.Host)
	}
	rep := seen.next(t)
	if rep.err != nil || rep.serverName != "" {
		t.Errorf("server: handshake %v, SNI %q (none for an IP address)", rep.err, rep.serverName)
	}
	if rep.afterBytes != 0 {
		t.Errorf("the client sent %d bytes after the handshake; a fetch sends no request", rep.afterBytes)
	}
}

func TestFetchByHostNameSendsSNI(t *testing.T) {
	pki := newTestPKI(t)
	seen := newReports()
	_, port, _ := net.SplitHostPort(tlsServer(t, serverConfig(pki), seen))

	res := fetchOK(t, loopback, "https://LocalHost:"+port)
	pki.assertChain(t, res.Chain)
	if res.URL != "https://localhost:"+port || res.Host != "localhost" {
		t.Errorf("URL %q host %q", res.URL, res.Host)
	}
	if rep := seen.next(t); rep.serverName != "localhost" || rep.afterBytes != 0 {
		t.Errorf("server saw SNI %q and %d bytes after the handshake", rep.serverName, rep.afterBytes)
	}
}

func TestFetchLDAPS(t *testing.T) {
	pki := newTestPKI(t)
	seen := newReports()
	addr := tlsServer(t, serverConfig(pki), seen)

	res := fetchOK(t, loopback, "ldaps://"+addr+"/dc=example,dc=com")
	pki.assertChain(t, res.Chain)
	if res.URL != "ldaps://"+addr || res.Host != "127.0.0.1" {
		t.Errorf("URL %q host %q", res.URL, res.Host)
	}
	if rep := seen.next(t); rep.err != nil || rep.startTLS {
		t.Errorf("server: %+v", rep)
	}
}

func TestFetchLDAPStartTLS(t *testing.T) {
	pki := newTestPKI(t)
	seen := newReports()
	_, port, _ := net.SplitHostPort(ldapServer(t, serverConfig(pki), 0, "", false, seen))

	res := fetchOK(t, loopback, "ldap://localhost:"+port)
	pki.assertChain(t, res.Chain)
	if res.URL != "ldap://localhost:"+port || res.Host != "localhost" {
		t.Errorf("URL %q host %q", res.URL, res.Host)
	}
	rep := seen.next(t)
	if !rep.startTLS || rep.err != nil || rep.serverName != "localhost" || rep.afterBytes != 0 {
		t.Errorf("server: %+v", rep)
	}
}

func TestLDAPServerRefusingStartTLS(t *testing.T) {
	seen := newReports()
	addr := ldapServer(t, nil, 2, "StartTLS is not configured", false, seen)
	fetchErr(t, loopback, "ldap://"+addr,
		"ldap://"+addr+" refused StartTLS (LDAP result 2, Protocol Error: StartTLS is not configured); if the server offers TLS on its own port, use an ldaps:// URL.")
	if rep := seen.next(t); !rep.startTLS {
		t.Errorf("server: %+v", rep)
	}
}

func TestLDAPServerNotStartingTLSAfterAccepting(t *testing.T) {
	addr := ldapServer(t, nil, 0, "", true, newReports())
	fetchErr(t, loopback, "ldap://"+addr, "ldap://"+addr+" did not start a TLS handshake: is this the right port?")
}

func TestNotAnLDAPServer(t *testing.T) {
	for name, addr := range map[string]string{
		"echo":    echoServer(t), // sends back the request itself, which is no response
		"hang up": closingServer(t),
	} {
		t.Run(name, func(t *testing.T) {
			fetchErr(t, loopback, "ldap://"+addr,
				"ldap://"+addr+" did not answer the StartTLS request as an LDAP server would: is this the right port?")
		})
	}
}

func TestServerNotSpeakingTLS(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a fetch made an HTTP request: %s %s", r.Method, r.URL)
	}))
	t.Cleanup(web.Close)
	notTLS := map[string]string{
		"plain HTTP": strings.TrimPrefix(web.URL, "http://"),
		"echo":       echoServer(t),
		"banner":     bannerServer(t),
	}
	for name, addr := range notTLS {
		for _, scheme := range []string{"https", "ldaps"} {
			t.Run(name+" "+scheme, func(t *testing.T) {
				u := scheme + "://" + addr
				fetchErr(t, loopback, u, u+" did not start a TLS handshake: is this the right port?")
			})
		}
	}
	t.Run("hang up", func(t *testing.T) {
		u := "https://" + closingServer(t)
		fetchErr(t, loopback, u, u+" closed the connection and did not start a TLS handshake: is this the right port?")
	})
}

func TestServerPresentingNoCertificate(t *testing.T) {
	pki := newTestPKI(t)
	for name, version := range map[string]uint16{"TLS 1.3": tls.VersionTLS13, "TLS 1.2": tls.VersionTLS12} {
		t.Run(name, func(t *testing.T) {
			// A key but no certificate: the server sends an empty
			// Certificate message.
			cfg := &tls.Config{Certificates: []tls.Certificate{{PrivateKey: pki.leafKey}}, MaxVersion: version}
			u := "https://" + tlsServer(t, cfg, newReports())
			fetchErr(t, loopback, u, u+" did not present a certificate in the TLS handshake.")
		})
	}
}

func TestServerRequiringClientCertificateStillShowsItsChain(t *testing.T) {
	pki := newTestPKI(t)
	for name, version := range map[string]uint16{"TLS 1.3": tls.VersionTLS13, "TLS 1.2": tls.VersionTLS12} {
		t.Run(name, func(t *testing.T) {
			cfg := serverConfig(pki)
			cfg.ClientAuth = tls.RequireAnyClientCert
			cfg.MaxVersion = version
			res := fetchOK(t, loopback, "https://"+tlsServer(t, cfg, newReports()))
			pki.assertChain(t, res.Chain)
		})
	}
}

func TestServerRefusingTheHandshake(t *testing.T) {
	cfg := &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		return nil, errNoCertificate // any error: the server answers with an alert
	}}
	u := "https://" + tlsServer(t, cfg, newReports())
	fetchErr(t, loopback, u, u+" refused the TLS handshake (tls: internal error).")
}

func TestServerPresentingAnUnparsableCertificate(t *testing.T) {
	pki := newTestPKI(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{[]byte("not DER")}, PrivateKey: pki.leafKey}}}
	u := "ldaps://" + tlsServer(t, cfg, newReports())
	fetchErr(t, loopback, u, u+" started a TLS handshake that did not complete (tls: failed to parse certificate from server: x509: malformed certificate).")
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	fetchErr(t, loopback, "https://"+addr,
		"https://"+addr+" refused the connection: check the host and port, and that the server is running.")
}

func TestUnknownHost(t *testing.T) {
	fetchErr(t, Policy{Timeout: 3 * time.Second}, "https://nosuch.invalid",
		"The host nosuch.invalid was not found in DNS: check the host name.")
}

func TestSilentServerTimesOut(t *testing.T) {
	p := loopback
	p.Timeout = 300 * time.Millisecond
	addr := silentServer(t, nil)
	for _, scheme := range []string{"https", "ldaps", "ldap"} {
		t.Run(scheme, func(t *testing.T) {
			start := time.Now()
			u := scheme + "://" + addr
			fetchErr(t, p, u, u+" did not answer within 300ms.")
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("took %s with a 300ms limit", took)
			}
		})
	}
}

func TestCancelledFetch(t *testing.T) {
	accepted := make(chan struct{}, 1)
	u := "https://" + silentServer(t, accepted)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-accepted
		cancel()
	}()
	_, err := New(loopback).Fetch(ctx, "configs[0].url", u)
	assertFieldError(t, err, "The fetch from "+u+" was cancelled before it finished.")
}

func TestCallerDeadlineShorterThanPolicy(t *testing.T) {
	u := "https://" + silentServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := New(loopback).Fetch(ctx, "configs[0].url", u)
	assertFieldError(t, err, u+" did not answer within 200ms.")
}
