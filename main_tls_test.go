package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/certs/certtest"
)

// tlsFiles are a certificate chain and its key written where the server
// reads them.
type tlsFiles struct {
	t                 *testing.T
	certFile, keyFile string
}

func newTLSFiles(t *testing.T) tlsFiles {
	dir := t.TempDir()
	return tlsFiles{t, filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")}
}

// install writes c's leaf and intermediate, then its key, as a renewal
// would (not atomically: a poll may see the certificate before the key).
func (f tlsFiles) install(c certtest.Chain) {
	f.t.Helper()
	if err := os.WriteFile(f.certFile, certtest.PEM(c.Leaf, c.Intermediate), 0o644); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(f.keyFile, c.LeafKeyPEM(f.t), 0o600); err != nil {
		f.t.Fatal(err)
	}
}

// freeAddr is a loopback address no one listens on.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// servedSerial makes a new connection and returns the serial of the
// certificate the server presents, verified against roots.
func servedSerial(t *testing.T, addr string, roots *x509.CertPool) string {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("new connection: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// TestServeHTTPS runs the real serve command with --tls-cert-file and
// --tls-key-file: a verifying client gets pages with Secure cookies and
// HSTS; a renewed certificate is picked up on SIGHUP by new connections
// while a keep-alive connection made before goes on working; a broken
// replacement keeps the certificate served and is logged; TLS 1.1 is
// refused; the container health check works against it.
func TestServeHTTPS(t *testing.T) {
	first, second := certtest.NewChain(t, certtest.Options{}), certtest.NewChain(t, certtest.Options{})
	files := newTLSFiles(t)
	files.install(first)
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--data-dir", t.TempDir(), "--log-format", "json",
			"--tls-cert-file", files.certFile, "--tls-key-file", files.keyFile}, strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
	}()

	roots := first.RootPool()
	roots.AddCert(second.Root)
	base := "https://" + addr
	var reused []bool
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }}
	// The keep-alive client: one connection, kept across the swap.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, MaxIdleConnsPerHost: 1}}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, base+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if resp, _ := get("/healthz"); resp != nil && resp.StatusCode == http.StatusOK {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d before it answered: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not answer /healthz over HTTPS: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The printed link is https; the page's cookie is Secure, HSTS is sent.
	link := regexp.MustCompile(`(https://\S+)(/setup/\S+)`).FindStringSubmatch(stderr.String())
	if link == nil || link[1] != base {
		t.Fatalf("no https setup link for %s in stderr: %s", base, stderr.String())
	}
	resp, body := get(link[2])
	if resp == nil || resp.StatusCode != http.StatusOK || !strings.Contains(body, "Create the first administrator") {
		t.Fatalf("setup link over HTTPS: %v %.200s", resp, body)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("Strict-Transport-Security %q, want max-age=31536000", got)
	}
	cookies := resp.Cookies()
	if len(cookies) == 0 {
		t.Fatalf("the setup page set no cookie")
	}
	for _, c := range cookies {
		if !c.Secure || !c.HttpOnly {
			t.Errorf("cookie %s: Secure %v HttpOnly %v over HTTPS", c.Name, c.Secure, c.HttpOnly)
		}
	}
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 || resp.TLS.PeerCertificates[0].SerialNumber.Cmp(first.Leaf.SerialNumber) != 0 {
		t.Fatalf("connection state: %+v", resp.TLS)
	}
	for _, want := range []string{`"msg":"serving HTTPS"`, `"tls":true`, `"url":"` + base + `"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("start-up logs lack %s: %s", want, stderr.String())
		}
	}

	// A client that does not trust the CA is refused by its own check.
	if _, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + "/healthz"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client without the CA: %v", err)
	}

	// Renewal: new files (another CA, another serial) and SIGHUP.
	files.install(second)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the renewed certificate on a new connection", func() bool { return servedSerial(t, addr, roots) == second.Leaf.SerialNumber.String() })
	waitUntil(t, "the reload log", func() bool { return strings.Contains(stderr.String(), `"msg":"TLS certificate reloaded"`) })
	// The connection opened before the swap is reused and still answers.
	reused = nil
	resp, _ = get("/healthz")
	if resp == nil || resp.StatusCode != http.StatusOK || len(reused) != 1 || !reused[0] {
		t.Fatalf("the keep-alive connection after the swap: %v, reused %v", resp, reused)
	}
	if resp.TLS.PeerCertificates[0].SerialNumber.Cmp(first.Leaf.SerialNumber) != 0 {
		t.Errorf("the kept connection changed certificate")
	}

	// A broken replacement: logged with the file's name, the renewed
	// certificate stays.
	if err := os.WriteFile(files.certFile, []byte("-----BEGIN CERTIFICATE-----\nnot base64 at all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the failed reload's log", func() bool {
		return strings.Contains(stderr.String(), "still serving the previous one") &&
			strings.Contains(stderr.String(), "certificate file "+files.certFile+" is not a certificate")
	})
	if got := servedSerial(t, addr, roots); got != second.Leaf.SerialNumber.String() {
		t.Fatalf("after a broken replacement the server presents %s, want the renewed certificate", got)
	}

	// TLS 1.1 is refused, TLS 1.2 accepted.
	for _, v := range []struct {
		max uint16
		ok  bool
	}{{tls.VersionTLS11, false}, {tls.VersionTLS12, true}} {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS10, MaxVersion: v.max})
		if err == nil {
			conn.Close()
		}
		if (err == nil) != v.ok {
			t.Errorf("client up to TLS %x: %v", v.max, err)
		}
	}

	// The container health check reaches it over HTTPS, and only so.
	if r := runCLI(t, map[string]string{"KEYWARD_ADDR": addr, "KEYWARD_TLS_CERT_FILE": files.certFile}, "", "healthcheck"); r.code != 0 {
		t.Errorf("healthcheck over HTTPS: exit %d %s", r.code, r.stderr)
	}
	if r := runCLI(t, map[string]string{"KEYWARD_ADDR": addr}, "", "healthcheck"); r.code != 1 || !strings.Contains(r.stderr, "answered 400") {
		t.Errorf("plain-HTTP healthcheck against HTTPS: exit %d %s", r.code, r.stderr)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited with %d after cancel: %s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not stop")
	}
}

// waitUntil polls cond, which checks something the server does in the
// background on a signal.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeRefusesBadTLSFiles: each bad certificate or key stops the start
// with a message naming the file, before a database is created.
func TestServeRefusesBadTLSFiles(t *testing.T) {
	c, other := certtest.NewChain(t, certtest.Options{}), certtest.NewChain(t, certtest.Options{})
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert, key := write("tls.crt", certtest.PEM(c.Leaf, c.Intermediate)), write("tls.key", c.LeafKeyPEM(t))
	garbage, otherKey := write("garbage.pem", []byte("hello\n")), write("other.key", other.LeafKeyPEM(t))
	missing := filepath.Join(dir, "missing.crt")
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		says string
	}{
		{"only the certificate", []string{"--tls-cert-file", cert}, nil, "--tls-cert-file needs --tls-key-file"},
		{"only the key, from the environment", nil, map[string]string{"KEYWARD_TLS_KEY_FILE": key}, "--tls-key-file needs --tls-cert-file"},
		{"missing certificate", []string{"--tls-cert-file", missing, "--tls-key-file", key}, nil, `--tls-cert-file "` + missing + `": no such file`},
		{"not a certificate", []string{"--tls-cert-file", garbage, "--tls-key-file", key}, nil, "TLS: certificate file " + garbage + ` is not a certificate`},
		{"swapped", []string{"--tls-cert-file", key, "--tls-key-file", cert}, nil, "swapped"},
		{"not a key", []string{"--tls-cert-file", cert, "--tls-key-file", garbage}, nil, "TLS: key file " + garbage + " is not a private key"},
		{"another certificate's key", []string{"--tls-cert-file", cert, "--tls-key-file", otherKey}, nil, "TLS: the private key in " + otherKey + " does not match the certificate in " + cert},
		{"cookies without Secure", []string{"--tls-cert-file", cert, "--tls-key-file", key, "--cookie-secure", "never"}, nil, "--cookie-secure never"},
	} {
		data := filepath.Join(t.TempDir(), "data")
		r := runCLI(t, tc.env, "", append([]string{"serve", "--data-dir", data, "--addr", freeAddr(t)}, tc.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.says) {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", tc.name, r.code, r.stderr, tc.says)
		}
		if _, err := os.Stat(data); err == nil {
			t.Errorf("%s: the data directory was created", tc.name)
		}
	}
}
