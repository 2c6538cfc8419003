package certfetch

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// recordingConn keeps the first bytes the server sends after the write that
// starts the TLS handshake, so that a failed handshake can be explained: a
// TLS server answers with a handshake record holding a ServerHello, or with
// an alert; anything else is not TLS.
type recordingConn struct {
	net.Conn
	armAt int // the write (1-based) that carries the ClientHello

	mu     sync.Mutex
	writes int
	first  []byte
}

const headLen = 7 // record type, version (2), length (2), then the handshake type or alert description

func (c *recordingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	if c.writes >= c.armAt && len(c.first) < headLen {
		c.first = append(c.first, p[:min(n, headLen-len(c.first))]...)
	}
	c.mu.Unlock()
	return n, err
}

// head returns what the server sent first in answer to the ClientHello.
func (c *recordingConn) head() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.first...)
}

// startTLS upgrades an LDAP connection with the StartTLS extended operation
// (RFC 4511 4.14) and makes the TLS handshake on it.
func startTLS(conn net.Conn, cfg *tls.Config, deadline time.Time) error {
	l := ldap.NewConn(conn, false)
	l.Start()
	defer l.Close()
	// The connection's deadline ends a silent server; go-ldap's own request
	// timeout only backs it up.
	l.SetTimeout(time.Until(deadline) + time.Second)
	return l.StartTLS(cfg)
}

// isLDAPHandshakeError reports whether a StartTLS error comes from the TLS
// handshake after the server accepted the request (go-ldap wraps it as
// text, so its words are all there is to go by).
func isLDAPHandshakeError(err error) bool {
	return strings.Contains(err.Error(), "TLS handshake failed")
}

// Stages of a fetch, for explain.
const (
	stageLookup    = "lookup"
	stageDial      = "dial"
	stageStartTLS  = "starttls"
	stageHandshake = "handshake"
)

// stageError is a failure and where in the fetch it happened.
type stageError struct {
	stage string
	err   error
	head  []byte // the server's first bytes after the ClientHello
}

func (e *stageError) Error() string { return e.stage + ": " + e.err.Error() }
func (e *stageError) Unwrap() error { return e.err }

// errNoCertificate is a completed handshake without a certificate.
var errNoCertificate = errors.New("no certificate presented")

// handshakeMessage explains a failed TLS handshake from the error and the
// server's first bytes.
func handshakeMessage(url string, err error, head []byte) string {
	text := err.Error()
	switch {
	case errors.Is(err, errNoCertificate),
		strings.Contains(text, "empty certificates message"),
		// TLS 1.2 reports an empty Certificate message as an unexpected one.
		strings.Contains(text, "*tls.certificateMsg when waiting for *tls.certificateMsg"):
		return fmt.Sprintf("%s did not present a certificate in the TLS handshake.", url)
	case len(head) == 0:
		return fmt.Sprintf("%s closed the connection and did not start a TLS handshake: is this the right port?", url)
	}
	tlsRecord := len(head) < 2 || head[1] == 0x03
	switch {
	case head[0] == 0x15 && tlsRecord:
		return fmt.Sprintf("%s refused the TLS handshake (%s).", url, tlsText(text))
	case head[0] == 0x16 && tlsRecord && (len(head) < 6 || head[5] == 2):
		return fmt.Sprintf("%s started a TLS handshake that did not complete (%s).", url, tlsText(text))
	}
	return fmt.Sprintf("%s did not start a TLS handshake: is this the right port?", url)
}

// tlsText trims go-ldap's and net's wrapping from a handshake error.
func tlsText(text string) string {
	text = strings.TrimPrefix(text, "LDAP Result Code 200 \"Network Error\": ")
	text = strings.TrimSuffix(strings.TrimPrefix(text, "TLS handshake failed ("), ")")
	if i := strings.Index(text, "tls: "); i >= 0 {
		return text[i:]
	}
	return text
}
