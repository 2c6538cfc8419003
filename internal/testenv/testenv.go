// Package testenv builds a real Keyward for tests: a real SQLite file in a
// temporary directory, a generated master key, the real services and the
// real Echo instance, with a fake clock tests can move forward. Clients
// talk to it through net/http/httptest.
package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/app"
	"github.com/keyward/keyward/internal/clock"
	"github.com/keyward/keyward/internal/config"
	"github.com/labstack/echo/v4"
)

// Password is the password every test user gets.
const Password = "correct horse battery"

// Env is one running test instance.
type Env struct {
	T      testing.TB
	App    *app.App
	Echo   *echo.Echo
	Server *httptest.Server
	Clock  *clock.Fake
	Dir    string
	Logs   *SyncBuffer
}

// SyncBuffer is a goroutine-safe log sink tests can search.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything logged so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	schemaOnce sync.Once
	schemaSQL  string
)

// SchemaSQL returns the repository's schema.sql (main embeds the same file).
func SchemaSQL(t testing.TB) string {
	schemaOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "schema.sql"))
		if err != nil {
			t.Fatalf("read schema.sql: %v", err)
		}
		schemaSQL = string(b)
	})
	return schemaSQL
}

// Config returns the test configuration for a data directory.
func Config(dir string) config.Config {
	cfg := config.Config{
		Addr: "127.0.0.1:0", DataDir: dir, CookieSecure: "never", LogFormat: "json", LogLevel: "info",
		SessionIdle: 30 * time.Minute, SessionMaxAge: 12 * time.Hour, MaxRequestBody: 1 << 20,
		// Certificate fetches reach the tests' TLS servers on loopback.
		FetchAllow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
	}
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return cfg
}

// New starts a Keyward on a fresh data directory.
func New(t testing.TB) *Env {
	t.Helper()
	return NewAt(t, t.TempDir())
}

// NewAt starts a Keyward on the data directory dir (which may hold data).
func NewAt(t testing.TB, dir string) *Env { return NewWith(t, dir, nil) }

// NewWith is NewAt with the configuration changed by edit first (an HSM
// module, for instance).
func NewWith(t testing.TB, dir string, edit func(*config.Config)) *Env {
	return newEnv(t, dir, edit, time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
}

// NewWithClock is NewAt with the fake clock starting at start (a restart
// later in time).
func NewWithClock(t testing.TB, dir string, start time.Time) *Env { return newEnv(t, dir, nil, start) }

func newEnv(t testing.TB, dir string, edit func(*config.Config), start time.Time) *Env {
	t.Helper()
	fc := clock.NewFake(start)
	logs := &SyncBuffer{}
	cfg := Config(dir)
	if edit != nil {
		edit(&cfg)
	}
	a, err := app.Open(context.Background(), cfg, SchemaSQL(t), app.Options{Clock: fc, LogOutput: logs, ManualSchedule: true})
	if err != nil {
		t.Fatalf("open app: %v", err)
	}
	e, err := a.Handler()
	if err != nil {
		t.Fatalf("build handler: %v", err)
	}
	srv := httptest.NewServer(e)
	env := &Env{T: t, App: a, Echo: e, Server: srv, Clock: fc, Dir: dir, Logs: logs}
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return env
}

// URL returns the absolute URL of path on the test server.
func (e *Env) URL(path string) string { return e.Server.URL + path }

// CreateUser creates a user with Password.
func (e *Env) CreateUser(name string, admin bool) {
	e.T.Helper()
	cli := access.Principal{Username: "cli", Via: "cli"}
	if _, err := e.App.Auth.CreateUser(context.Background(), cli, name, Password, admin); err != nil {
		e.T.Fatalf("create user %s: %v", name, err)
	}
}

// Token creates a Personal API Access Token for user and returns its value.
func (e *Env) Token(user string) string {
	e.T.Helper()
	cli := access.Principal{Username: user, Via: "cli"}
	tok, err := e.App.Auth.CreateToken(context.Background(), cli, user, "test-"+randomSuffix(), 24*time.Hour)
	if err != nil {
		e.T.Fatalf("create token for %s: %v", user, err)
	}
	return tok.Value
}

var tokenCount atomic.Int64

func randomSuffix() string { return strconv.FormatInt(tokenCount.Add(1), 10) }

// Principal returns the principal of an existing user, for calling services
// directly.
func (e *Env) Principal(user string) access.Principal {
	e.T.Helper()
	q := e.App.DB.Queries()
	u, err := q.GetUserByUsername(context.Background(), user)
	if err != nil {
		e.T.Fatalf("load user %s: %v", user, err)
	}
	return access.Principal{UserID: u.ID, Username: u.Username, Admin: u.IsAdmin, Via: "web", SourceAddr: "127.0.0.1"}
}

// Grant sets a user's permissions in a project.
func (e *Env) Grant(project, user string, perms ...access.Permission) {
	e.T.Helper()
	s := access.Set{}
	for _, p := range perms {
		s[p] = true
	}
	admin := access.Principal{UserID: -1, Username: "test-admin", Admin: true, Via: "cli"}
	if err := e.App.Projects.SetMember(context.Background(), admin, project, user, s); err != nil {
		e.T.Fatalf("grant %v to %s in %s: %v", perms, user, project, err)
	}
}

// APIResponse is a decoded API answer.
type APIResponse struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// API calls the REST API with a bearer token ("" for none) and a JSON body
// (nil for none; a string is sent as is). The test fails when the answer
// disagrees with the served OpenAPI document (see CheckAPIResponse).
func (e *Env) API(token, method, path string, body any) APIResponse {
	e.T.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.URL(path), r)
	if err != nil {
		e.T.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := APIResponse{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	if err := e.CheckAPIResponse(req, resp.StatusCode, resp.Header, raw); err != nil {
		e.T.Errorf("%s %s: the answer (%d %s) disagrees with the OpenAPI document: %v", method, path, resp.StatusCode, raw, err)
	}
	return out
}

// Browser is a cookie-keeping web client that does not follow redirects, so
// tests see each response.
type Browser struct {
	env    *Env
	Client *http.Client
	CSRF   string // the token from the last page that carried one
}

// Browser returns a fresh web client.
func (e *Env) Browser() *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{env: e, Client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// Page is a web response with its parsed document.
type Page struct {
	Status int
	Header http.Header
	Body   string
	Doc    *goquery.Document
}

// Location returns the redirect target of a response.
func (p Page) Location() string {
	if l := p.Header.Get("Location"); l != "" {
		return l
	}
	return p.Header.Get("HX-Redirect")
}

// Get fetches path; htmx adds the HX-Request header.
func (b *Browser) Get(path string, htmx bool) Page {
	b.env.T.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.env.URL(path), nil)
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	return b.do(req)
}

// Post submits a form; the CSRF token from the last page is added unless
// form already has "_csrf".
func (b *Browser) Post(path string, form url.Values, htmx bool) Page {
	b.env.T.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", b.CSRF)
	}
	req, _ := http.NewRequest(http.MethodPost, b.env.URL(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	return b.do(req)
}

func (b *Browser) do(req *http.Request) Page {
	b.env.T.Helper()
	resp, err := b.Client.Do(req)
	if err != nil {
		b.env.T.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	p := Page{Status: resp.StatusCode, Header: resp.Header, Body: string(raw)}
	p.Doc, _ = goquery.NewDocumentFromReader(bytes.NewReader(raw))
	if tok, ok := p.Doc.Find(`input[name="_csrf"]`).First().Attr("value"); ok && tok != "" {
		b.CSRF = tok
	}
	return p
}

// Login signs in as user with Password and fails the test otherwise.
func (b *Browser) Login(user string) {
	b.env.T.Helper()
	b.Get("/login", false)
	p := b.Post("/login", url.Values{"username": {user}, "password": {Password}}, false)
	if p.Status != http.StatusSeeOther {
		b.env.T.Fatalf("login as %s: status %d, body %s", user, p.Status, p.Body)
	}
	// Pick up the rotated CSRF token.
	b.Get("/account", false)
}
