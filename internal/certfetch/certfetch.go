// Package certfetch fetches the certificate chain a TLS server presents:
// https://host[:port] and ldaps://host[:port] (TLS from the first byte) and
// ldap://host[:port] with StartTLS. Only the handshake is made, never an
// HTTP request, and the dialer refuses the addresses a server-side fetch
// must not reach (see Policy).
//
// A URL's path, query and fragment are ignored (an LDAP URL's base DN, a
// pasted health-check path), so Result.URL shows what was fetched; a user
// name or password in the URL is refused, since Keyward sends no credentials
// and should not be handed any.
//
// Nothing about the chain is verified: the point is to show and analyse what
// the server presents. For the same reason the client offers TLS 1.0 to 1.3
// and every cipher suite Go implements, so an old server's chain can be read
// too; no application data is ever exchanged over the connection.
package certfetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// DefaultTimeout bounds a whole fetch when Policy.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Policy says which addresses a fetch may reach. Loopback, link-local (cloud
// metadata services live there), unspecified, multicast and broadcast
// addresses are always refused; private ranges only with DenyPrivate. The
// policy is applied to every resolved address when it is dialled, so a name
// that resolves differently the second time (DNS rebinding) gains nothing.
type Policy struct {
	DenyPrivate bool           // refuse RFC 1918 / RFC 4193 (fc00::/7) / 100.64.0.0/10 ranges too
	Allow       []netip.Prefix // ranges let through even when otherwise refused (tests allow 127.0.0.0/8 and ::1/128)
	Timeout     time.Duration  // whole fetch; 0 means 10s
}

func (p Policy) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return DefaultTimeout
}

// HTTPClient returns an HTTP client whose connections obey p: for requests
// to URLs a project member chose (notification channels), so that Keyward
// cannot be made to reach its loopback, cloud metadata or, with
// DenyPrivate, private addresses. It uses no proxy and times out whole
// requests after timeout.
func (p Policy) HTTPClient(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout, Control: p.control}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		Proxy: nil, DialContext: d.DialContext, ForceAttemptHTTP2: true,
		TLSHandshakeTimeout: timeout, MaxIdleConns: 10, IdleConnTimeout: 90 * time.Second,
	}}
}

// Result is the chain a server presented, leaf first.
type Result struct {
	URL   string // normalised: scheme://host:port
	Host  string // the host name (for hostname verification; SNI)
	Chain []*x509.Certificate
}

// Fetcher fetches certificate chains under one Policy. It holds no state
// between fetches and is safe for concurrent use.
type Fetcher struct{ Policy Policy }

// New returns a Fetcher that applies p to every fetch.
func New(p Policy) *Fetcher { return &Fetcher{Policy: p} }

// Fetch connects, makes the TLS handshake (no verification: InsecureSkipVerify
// with the chain captured, since the point is to show and analyse what is
// presented) and returns the chain. The whole fetch, from the DNS lookup to
// the end of the handshake, takes at most Policy.Timeout and ends early when
// ctx does. The chain is in the order the server sent it (TLS puts the leaf
// first), and it is returned even when the server breaks off the handshake
// after presenting it, as one that requires a client certificate does.
//
// Errors are *errs.Error about field, the caller's name for the URL input
// ("url", "configs[0].url"), each a sentence that says what went wrong and,
// where it can, what to check.
func (f *Fetcher) Fetch(ctx context.Context, field, rawURL string) (Result, error) {
	t, err := parseTarget(field, rawURL)
	if err != nil {
		return Result{}, err
	}
	limit := f.Policy.timeout()
	if d, ok := ctx.Deadline(); ok && time.Until(d) < limit {
		limit = max(time.Until(d).Round(100*time.Millisecond), 100*time.Millisecond)
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, f.Policy.timeout())
	defer cancel()
	deadline, _ := ctx.Deadline()

	chain, err := f.fetch(ctx, t, deadline)
	if err != nil {
		return Result{}, explain(parent, field, t, limit, deadline, err)
	}
	return Result{URL: t.url, Host: t.host, Chain: chain}, nil
}

// fetch dials t and runs its handshake, returning the chain or an error for
// explain.
func (f *Fetcher) fetch(ctx context.Context, t target, deadline time.Time) ([]*x509.Certificate, error) {
	raw, err := f.dial(ctx, t)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	// The deadline bounds every read and write, including those go-ldap
	// makes in its own goroutines; cancelling ctx moves it to now.
	if err := raw.SetDeadline(deadline); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	handshakeWrite := 1 // the ClientHello is the first write...
	if t.scheme == "ldap" {
		handshakeWrite = 2 // ...or the one after the StartTLS request
	}
	conn := &recordingConn{Conn: raw, armAt: handshakeWrite}
	var presented []*x509.Certificate
	cfg := clientConfig(t.sni, func(cs tls.ConnectionState) error {
		presented = cs.PeerCertificates
		return nil
	})

	if t.scheme == "ldap" {
		err = startTLS(conn, cfg, deadline)
	} else {
		err = tls.Client(conn, cfg).HandshakeContext(ctx)
	}
	// A chain the server presented is the answer even when the server broke
	// off the handshake afterwards (under TLS 1.2 one that requires a client
	// certificate does so before the handshake ends).
	if len(presented) > 0 {
		return append([]*x509.Certificate(nil), presented...), nil
	}
	if err == nil {
		return nil, errNoCertificate
	}
	stage := stageHandshake
	if t.scheme == "ldap" && !isLDAPHandshakeError(err) {
		stage = stageStartTLS
	}
	return nil, &stageError{stage: stage, err: err, head: conn.head()}
}

// clientConfig is the TLS client configuration of a fetch: no verification
// (the chain is captured by onCert for display and analysis), SNI only for
// host names, and every version and cipher suite Go has, because the
// connection carries no data that needs protecting.
func clientConfig(sni string, onCert func(tls.ConnectionState) error) *tls.Config {
	var suites []uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		suites = append(suites, s.ID)
	}
	return &tls.Config{
		ServerName:         sni,
		InsecureSkipVerify: true,
		VerifyConnection:   onCert,
		MinVersion:         tls.VersionTLS10,
		CipherSuites:       suites,
	}
}

// dialer is the TCP dialer of every fetch; its Control refuses a forbidden
// address even if one reaches it by a path dial did not check.
func (f *Fetcher) dialer() *net.Dialer {
	return &net.Dialer{Control: f.Policy.control}
}
