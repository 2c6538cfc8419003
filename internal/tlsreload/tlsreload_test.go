package tlsreload

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/certs/certtest"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/testenv"
)

// pair is a certificate and key file in a temporary directory.
type pair struct {
	t                 *testing.T
	certFile, keyFile string
	mtime             time.Time
}

func newPair(t *testing.T) *pair {
	dir := t.TempDir()
	return &pair{t: t, certFile: filepath.Join(dir, "tls.crt"), keyFile: filepath.Join(dir, "tls.key"), mtime: time.Now().Add(-time.Hour)}
}

// write replaces a file and gives it a modification time of its own, so
// that a poll sees the change even where the clock is coarse.
func (p *pair) write(name string, data []byte) {
	p.t.Helper()
	if err := os.WriteFile(name, data, 0o600); err != nil {
		p.t.Fatal(err)
	}
	p.mtime = p.mtime.Add(time.Second)
	if err := os.Chtimes(name, p.mtime, p.mtime); err != nil {
		p.t.Fatal(err)
	}
}

// install writes a chain's leaf and intermediate, and the leaf's key.
func (p *pair) install(c certtest.Chain) {
	p.t.Helper()
	p.write(p.certFile, certtest.PEM(c.Leaf, c.Intermediate))
	p.write(p.keyFile, c.LeafKeyPEM(p.t))
}

func serial(c *tls.Certificate) string { return c.Leaf.SerialNumber.String() }

func TestLoadServesTheChainAndKey(t *testing.T) {
	p := newPair(t)
	c := certtest.NewChain(t, certtest.Options{})
	p.install(c)
	cert, err := Load(p.certFile, p.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.Certificate) != 2 || !bytes.Equal(cert.Certificate[0], c.Leaf.Raw) || !bytes.Equal(cert.Certificate[1], c.Intermediate.Raw) || cert.Leaf.SerialNumber.Cmp(c.Leaf.SerialNumber) != 0 {
		t.Fatalf("the chain is not the leaf then the intermediate")
	}
	if _, ok := cert.PrivateKey.(*ecdsa.PrivateKey); !ok {
		t.Fatalf("key %T", cert.PrivateKey)
	}
}

func TestLoadReadsEveryKeyEncoding(t *testing.T) {
	ec := certtest.NewChain(t, certtest.Options{})
	rsaChain := certtest.NewChain(t, certtest.Options{Key: certtest.RSA})
	sec1, err := x509.MarshalECPrivateKey(ec.LeafKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := x509.MarshalPKCS1PrivateKey(rsaChain.LeafKey.(*rsa.PrivateKey))
	for _, tc := range []struct {
		name      string
		certPEM   []byte
		keyPEM    []byte
		sameFile  bool
		wantChain int
	}{
		{"PKCS#8 EC", certtest.PEM(ec.Leaf), ec.LeafKeyPEM(t), false, 1},
		{"SEC 1 EC", certtest.PEM(ec.Leaf), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), false, 1},
		{"PKCS#1 RSA", certtest.PEM(rsaChain.Leaf, rsaChain.Intermediate), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: pkcs1}), false, 2},
		{"PKCS#8 RSA", certtest.PEM(rsaChain.Leaf), rsaChain.LeafKeyPEM(t), false, 1},
		{"one file holding both", certtest.PEM(ec.Leaf, ec.Intermediate), ec.LeafKeyPEM(t), true, 2},
	} {
		p := newPair(t)
		keyFile := p.keyFile
		if tc.sameFile {
			keyFile = p.certFile
			p.write(p.certFile, append(tc.keyPEM, tc.certPEM...))
		} else {
			p.write(p.certFile, tc.certPEM)
			p.write(p.keyFile, tc.keyPEM)
		}
		cert, err := Load(p.certFile, keyFile)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if len(cert.Certificate) != tc.wantChain {
			t.Errorf("%s: %d certificates, want %d", tc.name, len(cert.Certificate), tc.wantChain)
		}
	}
}

func TestLoadNamesTheBadFile(t *testing.T) {
	c := certtest.NewChain(t, certtest.Options{})
	other := certtest.NewChain(t, certtest.Options{})
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}})
	for _, tc := range []struct {
		name          string
		cert, key     []byte // nil: the file is missing
		badFile, want string
	}{
		{"missing certificate", nil, c.LeafKeyPEM(t), "tls.crt", "does not exist"},
		{"missing key", certtest.PEM(c.Leaf), nil, "tls.key", "does not exist"},
		{"empty certificate", []byte{}, c.LeafKeyPEM(t), "tls.crt", "is empty"},
		{"garbage certificate", []byte("not a certificate at all\n"), c.LeafKeyPEM(t), "tls.crt", `is not a certificate: it holds no PEM "CERTIFICATE" block`},
		{"swapped files", c.LeafKeyPEM(t), certtest.PEM(c.Leaf), "tls.crt", "swapped"},
		{"truncated certificate", []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), c.LeafKeyPEM(t), "tls.crt", "certificate 1 does not parse"},
		{"garbage key", certtest.PEM(c.Leaf), []byte("garbage"), "tls.key", `is not a private key`},
		{"encrypted key", certtest.PEM(c.Leaf), encrypted, "tls.key", "encrypted private key"},
		{"another certificate's key", certtest.PEM(c.Leaf), other.LeafKeyPEM(t), "tls.key", "does not match the certificate in"},
	} {
		p := newPair(t)
		if tc.cert != nil {
			p.write(p.certFile, tc.cert)
		}
		if tc.key != nil {
			p.write(p.keyFile, tc.key)
		}
		_, err := Load(p.certFile, p.keyFile)
		if err == nil {
			t.Errorf("%s: loaded", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), filepath.Join(filepath.Dir(p.certFile), tc.badFile)) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %q, want it to name %s and say %q", tc.name, err, tc.badFile, tc.want)
		}
	}
}

func TestReloadKeepsTheOldCertificateWhenTheNewOneIsBroken(t *testing.T) {
	p := newPair(t)
	first, second := certtest.NewChain(t, certtest.Options{}), certtest.NewChain(t, certtest.Options{})
	p.install(first)
	r, err := New(p.certFile, p.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := r.GetCertificate(nil); serial(got) != first.Leaf.SerialNumber.String() {
		t.Fatalf("serving %s, want the first certificate", serial(got))
	}
	p.write(p.certFile, []byte("-----BEGIN CERTIFICATE-----\ngarbage\n"))
	if _, err := r.Reload(); err == nil || !strings.Contains(err.Error(), p.certFile) {
		t.Fatalf("reload of garbage: %v", err)
	}
	if serial(r.Certificate()) != first.Leaf.SerialNumber.String() {
		t.Fatalf("a failed reload replaced the certificate")
	}
	p.install(second)
	if cert, err := r.Reload(); err != nil || serial(cert) != second.Leaf.SerialNumber.String() || serial(r.Certificate()) != serial(cert) {
		t.Fatalf("reload: %v", err)
	}
}

func TestReloadIfChangedFollowsTheFiles(t *testing.T) {
	p := newPair(t)
	first, second := certtest.NewChain(t, certtest.Options{}), certtest.NewChain(t, certtest.Options{})
	p.install(first)
	r, err := New(p.certFile, p.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if tried, _, _ := r.ReloadIfChanged(); tried {
		t.Fatalf("reloaded unchanged files")
	}
	// Half-way through a renewal: the new certificate, the old key.
	p.write(p.certFile, certtest.PEM(second.Leaf, second.Intermediate))
	tried, _, err := r.ReloadIfChanged()
	if !tried || err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("half-written renewal: tried %v, %v", tried, err)
	}
	if serial(r.Certificate()) != first.Leaf.SerialNumber.String() {
		t.Fatalf("a mismatched pair replaced the certificate")
	}
	if tried, _, _ := r.ReloadIfChanged(); tried {
		t.Fatalf("the same broken files were read again")
	}
	p.write(p.keyFile, second.LeafKeyPEM(t))
	if tried, cert, err := r.ReloadIfChanged(); !tried || err != nil || serial(cert) != second.Leaf.SerialNumber.String() {
		t.Fatalf("completed renewal: tried %v, %v", tried, err)
	}
	if serial(r.Certificate()) != second.Leaf.SerialNumber.String() {
		t.Fatalf("the renewal is not served")
	}
}

// waitFor spins until cond holds; the goroutines it waits on run without
// real sleeps, so a second is ample.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWatchReloadsOnPollAndOnSignal(t *testing.T) {
	p := newPair(t)
	chains := []certtest.Chain{certtest.NewChain(t, certtest.Options{}), certtest.NewChain(t, certtest.Options{}), certtest.NewChain(t, certtest.Options{})}
	p.install(chains[0])
	r, err := New(p.certFile, p.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Now())
	logs := &testenv.SyncBuffer{}
	hup := make(chan os.Signal)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		r.Watch(ctx, clk, PollInterval, hup, slog.New(slog.NewTextHandler(logs, nil)))
		close(done)
	}()
	asleep := func() bool { return len(clk.Sleepers()) == 1 }
	poll := func() {
		waitFor(t, "the watcher to sleep", asleep)
		clk.Advance(PollInterval)
		waitFor(t, "the watcher to sleep again", asleep)
	}

	poll() // nothing changed
	if strings.Contains(logs.String(), "TLS certificate") {
		t.Fatalf("an unchanged poll logged: %s", logs)
	}
	p.install(chains[1])
	poll()
	if serial(r.Certificate()) != chains[1].Leaf.SerialNumber.String() || !strings.Contains(logs.String(), `msg="TLS certificate reloaded" reason="files changed"`) {
		t.Fatalf("the poll did not pick up the new files: %s", logs)
	}

	p.write(p.keyFile, []byte("garbage"))
	poll()
	if serial(r.Certificate()) != chains[1].Leaf.SerialNumber.String() || !strings.Contains(logs.String(), "still serving the previous one") || !strings.Contains(logs.String(), p.keyFile+" is not a private key") {
		t.Fatalf("a broken key: %s", logs)
	}

	// A signal reloads without waiting for the poll, changed or not.
	p.install(chains[2])
	hup <- os.Interrupt
	waitFor(t, "the signal's reload", func() bool { return serial(r.Certificate()) == chains[2].Leaf.SerialNumber.String() })
	waitFor(t, "the log line", func() bool { return strings.Contains(logs.String(), `reason=SIGHUP`) })

	cancel()
	<-done
}

func TestServerConfigRefusesTLS11(t *testing.T) {
	p := newPair(t)
	c := certtest.NewChain(t, certtest.Options{})
	p.install(c)
	r, err := New(p.certFile, p.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", r.ServerConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = conn.(*tls.Conn).Handshake(); conn.Close() }()
		}
	}()
	dial := func(maxVersion uint16) error {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), &tls.Config{RootCAs: c.RootPool(), ServerName: "localhost", MinVersion: tls.VersionTLS10, MaxVersion: maxVersion})
		if err == nil {
			conn.Close()
		}
		return err
	}
	if err := dial(tls.VersionTLS12); err != nil {
		t.Fatalf("TLS 1.2 client: %v", err)
	}
	if err := dial(tls.VersionTLS11); err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Fatalf("TLS 1.1 client: %v, want a protocol version alert", err)
	}
}
