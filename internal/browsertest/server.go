// Package browsertest drives the real keyward binary with a real Chromium,
// so that tests see what a user sees: the pages as the browser renders them,
// htmx running under the Content-Security-Policy, and the console.
//
// A test starts a server with StartServer (the binary is built once per test
// process) and opens a browser on it with NewBrowser. Call RunTests from the
// package's TestMain so that the built binary is removed at the end.
//
// A test that must move time (a signer alias's rotation, scheduled hours
// ahead) opens the browser on an in-process internal/testenv instance
// instead: the same handler and wiring, on a fake clock the test advances.
package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ModuleRoot is the directory of Keyward's go.mod, found from this file's
// path so that tests work from any working directory.
func ModuleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// RunTests runs the package's tests and then removes the binary built for
// them. Call it from TestMain: os.Exit(browsertest.RunTests(m)).
func RunTests(m *testing.M) int {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	return code
}

// binary builds keyward once per test process and returns its path.
func binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "keyward-browsertest-")
		if build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "keyward")
		cmd := exec.Command("go", "build", "-o", build.bin, ".")
		cmd.Dir = ModuleRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build keyward: %w\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

// Server is a running keyward process.
type Server struct {
	// URL is the server's base URL, such as http://127.0.0.1:41234.
	URL string
	// SetupURL is the one-time setup link the server printed on first start.
	SetupURL string
	// DataDir is the server's fresh data directory.
	DataDir string

	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
	werr error
}

// setupLink matches the link cmdServe prints when there are no users yet.
var setupLink = regexp.MustCompile(`https?://\S+/setup/\S+`)

// StartServer builds (once) and starts keyward on a free loopback port with a
// fresh data directory and JSON logs. At cleanup it stops the server with
// SIGTERM and fails the test unless it exits 0; it prints the server's log
// when the test failed, and fails the test when the server logged an error.
// Extra arguments are passed to "keyward serve", e.g. "--fetch-allow",
// "127.0.0.0/8" for a test that fetches from a TLS server on loopback.
func StartServer(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := binary(t)
	addr := freeAddr(t)
	s := &Server{URL: "http://" + addr, DataDir: filepath.Join(t.TempDir(), "data"), log: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{"serve", "--addr", addr, "--data-dir", s.DataDir}, extra...)...)
	s.cmd.Env = append(environWithout("KEYWARD_"), "KEYWARD_LOG_FORMAT=json", "KEYWARD_LOG_LEVEL=info")
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start keyward: %v", err)
	}
	go func() { s.werr = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() { s.stop(t) })

	deadline := time.After(20 * time.Second)
	for s.SetupURL == "" {
		s.SetupURL = setupLink.FindString(s.log.String())
		if s.SetupURL != "" {
			break
		}
		select {
		case <-s.done:
			t.Fatalf("keyward exited at start (%v); log:\n%s", s.werr, s.log)
		case <-deadline:
			t.Fatalf("keyward printed no setup link within 20s; log:\n%s", s.log)
		case <-time.After(20 * time.Millisecond):
		}
	}
	for {
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-deadline:
			t.Fatalf("keyward not ready within 20s (last error %v); log:\n%s", err, s.log)
		case <-s.done:
			t.Fatalf("keyward exited at start (%v); log:\n%s", s.werr, s.log)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return s
}

// Log returns everything the server wrote so far.
func (s *Server) Log() string { return s.log.String() }

// ErrorLogs returns the server's JSON log lines at level ERROR: internal
// errors, which a user only ever sees as "Internal error".
func (s *Server) ErrorLogs() []string {
	var out []string
	for _, line := range strings.Split(s.Log(), "\n") {
		var rec struct {
			Level string `json:"level"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Level == "ERROR" {
			out = append(out, line)
		}
	}
	return out
}

// stop sends SIGTERM and checks for a graceful exit with status 0.
func (s *Server) stop(t testing.TB) {
	t.Helper()
	select {
	case <-s.done:
		t.Errorf("keyward exited before the end of the test (%v)", s.werr)
	default:
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Errorf("send SIGTERM to keyward: %v", err)
		}
		select {
		case <-s.done:
			if s.werr != nil {
				t.Errorf("keyward did not shut down cleanly on SIGTERM: %v", s.werr)
			}
		case <-time.After(20 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
			t.Errorf("keyward did not exit within 20s of SIGTERM")
		}
	}
	if errs := s.ErrorLogs(); len(errs) > 0 {
		t.Errorf("keyward logged %d error(s):\n%s", len(errs), strings.Join(errs, "\n"))
	}
	if t.Failed() {
		t.Logf("keyward log:\n%s", s.Log())
	}
}

// environWithout returns the process environment minus the variables whose
// names start with prefix, so that a developer's KEYWARD_* settings cannot
// change the server under test.
func environWithout(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is a goroutine-safe bytes.Buffer.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
