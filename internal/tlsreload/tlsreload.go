// Package tlsreload serves HTTPS with a certificate read from files and
// replaced while the server runs: on SIGHUP, or when a poll sees the files
// change. Handshakes take the current certificate from an atomic pointer
// (tls.Config.GetCertificate), so a reload never drops a connection; open
// connections keep the certificate they were made with. A reload that fails
// (a half-written file, a key that does not match) keeps the certificate
// already served.
package tlsreload

import (
	"crypto/tls"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// PollInterval is how often Watch looks at the files' size and
// modification time.
const PollInterval = 5 * time.Second

// Reloader holds the certificate the server presents.
type Reloader struct {
	certFile, keyFile string
	current           atomic.Pointer[tls.Certificate]

	mu   sync.Mutex // one reload at a time; guards seen
	seen stamp      // the files as they were when last read
}

// stamp is what a poll compares: the size and modification time of both
// files (os.Stat follows symbolic links, so a Kubernetes secret volume's
// swapped link counts as a change).
type stamp [2]struct {
	size  int64
	mtime time.Time
}

// New loads the certificate and key, refusing to start without a valid
// pair.
func New(certFile, keyFile string) (*Reloader, error) {
	r := &Reloader{certFile: certFile, keyFile: keyFile}
	if _, err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// CertFile is the certificate file the reloader reads.
func (r *Reloader) CertFile() string { return r.certFile }

// Certificate is the certificate served now.
func (r *Reloader) Certificate() *tls.Certificate { return r.current.Load() }

// GetCertificate is the tls.Config callback: the current certificate,
// whatever name the client asked for.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.current.Load(), nil
}

// ServerConfig is the TLS configuration of the HTTPS server: TLS 1.2 at
// least, Go's default (secure) cipher suites and curves, and the current
// certificate.
func (r *Reloader) ServerConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate}
}

// Reload reads the files again. On success the new certificate is served
// to every new connection; on failure the previous one stays and the error
// names the file at fault.
func (r *Reloader) Reload() (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reload()
}

// ReloadIfChanged reloads when either file's size or modification time
// differs from the last read, successful or not: a broken file is reported
// once, and read again when it changes. It reports whether it tried.
func (r *Reloader) ReloadIfChanged() (tried bool, cert *tls.Certificate, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stat() == r.seen {
		return false, nil, nil
	}
	cert, err = r.reload()
	return true, cert, err
}

func (r *Reloader) reload() (*tls.Certificate, error) {
	// The stamp is taken before reading, so that a write racing the read
	// shows up as a change at the next poll.
	r.seen = r.stat()
	cert, err := Load(r.certFile, r.keyFile)
	if err != nil {
		return nil, err
	}
	r.current.Store(cert)
	return cert, nil
}

func (r *Reloader) stat() stamp {
	var s stamp
	for i, name := range []string{r.certFile, r.keyFile} {
		if fi, err := os.Stat(name); err == nil {
			s[i].size, s[i].mtime = fi.Size(), fi.ModTime()
		}
	}
	return s
}
