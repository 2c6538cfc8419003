package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package installs the browser.
const ChromiumPath = "/usr/bin/chromium"

// Timeout is how long one browser step (a navigation, a click, a wait) may
// take before the test fails.
const Timeout = 10 * time.Second

// Browser is one headless Chromium tab pointed at a Keyward server. Its
// methods fail the test on error, so a test reads as a list of steps.
type Browser struct {
	t    testing.TB
	base string
	ctx  context.Context

	mu       sync.Mutex
	messages []Message
	checked  int // messages before this index were already asserted on
}

// Message is one console message, uncaught exception or browser log entry.
type Message struct {
	Kind   string // "console", "exception" or "log"
	Level  string // console type ("error", "warning"…) or log level
	Source string // log entries: "network", "security", "javascript"…
	Text   string
	URL    string
}

func (m Message) String() string {
	s := m.Kind + "/" + m.Level
	if m.Source != "" {
		s += "/" + m.Source
	}
	s += ": " + m.Text
	if m.URL != "" {
		s += " (" + m.URL + ")"
	}
	return s
}

// IsCSPViolation reports whether the browser blocked something because of the
// Content-Security-Policy.
func (m Message) IsCSPViolation() bool {
	return strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Content-Security-Policy")
}

// IsProblem reports whether the message is one a clean page never produces:
// a console error or failed assertion, an uncaught exception, a browser log
// error (such as a failed resource load) or a CSP violation.
func (m Message) IsProblem() bool {
	switch {
	case m.IsCSPViolation(), m.Kind == "exception":
		return true
	case m.Kind == "console":
		return m.Level == "error" || m.Level == "assert"
	case m.Kind == "log":
		return m.Level == "error"
	}
	return false
}

// chromium returns the browser's path or fails the test: the browser tests
// are part of the suite, so a missing browser is a failure, never a skip.
func chromium(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err == nil {
		return ChromiumPath
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Fatal("chromium not found: run make test (installs it) or apt-get install chromium")
	return ""
}

// NewBrowser starts a headless Chromium with a fresh profile and opens one
// tab that records console messages. Paths given to Navigate are relative to
// baseURL. At cleanup the test fails if the browser reported a problem that
// no AssertClean call looked at.
func NewBrowser(t testing.TB, baseURL string) *Browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	b := &Browser{t: t, base: strings.TrimSuffix(baseURL, "/"), ctx: ctx}
	t.Cleanup(func() {
		b.assertClean("at the end of the test")
		cancelTab()
		cancelAlloc()
	})
	// The first call starts the browser and ties its life to the context it
	// gets, so it must be the tab's own context, not one with a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Listen(ctx, b.record); err != nil {
		t.Fatalf("listen to the browser's console: %v", err)
	}
	return b
}

// record runs on chromedp's event loop: it must be quick and must not call
// the browser.
func (b *Browser) record(ev any) {
	var m Message
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range ev.Args {
			parts = append(parts, remoteText(a))
		}
		m = Message{Kind: "console", Level: string(ev.Type), Text: strings.Join(parts, " ")}
		if ev.StackTrace != nil && len(ev.StackTrace.CallFrames) > 0 {
			m.URL = ev.StackTrace.CallFrames[0].URL
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		m = Message{Kind: "exception", Level: "error", Text: d.Text, URL: d.URL}
		if d.Exception != nil && d.Exception.Description != "" {
			m.Text += " " + d.Exception.Description
		}
	case *log.EventEntryAdded:
		e := ev.Entry
		m = Message{Kind: "log", Level: string(e.Level), Source: string(e.Source), Text: e.Text, URL: e.URL}
	default:
		return
	}
	b.mu.Lock()
	b.messages = append(b.messages, m)
	b.mu.Unlock()
}

// remoteText renders a console argument the way DevTools shows it.
func remoteText(o *runtime.RemoteObject) string {
	if len(o.Value) > 0 {
		var s string
		if json.Unmarshal([]byte(o.Value), &s) == nil {
			return s
		}
		return string(o.Value)
	}
	if o.Description != "" {
		return o.Description
	}
	return string(o.Type)
}

// Messages returns every console message, exception and log entry so far.
func (b *Browser) Messages() []Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Message(nil), b.messages...)
}

// TakeProblems returns the problems reported since the last AssertClean or
// TakeProblems call and marks them as seen, for tests that expect some.
func (b *Browser) TakeProblems() []Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Message
	for _, m := range b.messages[b.checked:] {
		if m.IsProblem() {
			out = append(out, m)
		}
	}
	b.checked = len(b.messages)
	return out
}

// AssertClean fails the test if the browser reported a console error, an
// uncaught exception, a failed load or a CSP violation since the last call.
// where names the step, for the failure message. A problem whose text
// contains one of allowed is expected and ignored, such as the "status of
// 422" a re-rendered form produces; a CSP violation is never allowed.
func (b *Browser) AssertClean(where string, allowed ...string) {
	b.t.Helper()
	b.assertClean(where+" ("+b.URL()+")", allowed...)
}

func (b *Browser) assertClean(where string, allowed ...string) {
	b.t.Helper()
	for _, m := range b.TakeProblems() {
		if !m.IsCSPViolation() && slices.ContainsFunc(allowed, func(a string) bool { return strings.Contains(m.Text, a) }) {
			continue
		}
		if m.IsCSPViolation() {
			b.t.Errorf("CSP violation %s: %s", where, m)
		} else {
			b.t.Errorf("browser problem %s: %s", where, m)
		}
	}
}

// run runs actions with the step timeout and fails the test on error.
func (b *Browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail("%s: %v", what, err)
	}
}

// fail saves a screenshot of the page and stops the test.
func (b *Browser) fail(format string, args ...any) {
	b.t.Helper()
	msg := fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		name := "FAILED-" + safeName.ReplaceAllString(b.t.Name(), "_")
		if path, err := writeScreenshot(name, png); err == nil {
			msg += "\nscreenshot: " + path
		}
	}
	if len(text) > 3000 {
		text = text[:3000] + "…"
	}
	b.t.Fatalf("%s\npage: %s\n--- page text ---\n%s\n---", msg, loc, text)
}

var safeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// abs turns a path into a URL on the server.
func (b *Browser) abs(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	return b.base + path
}

// Navigate loads a page (a path on the server or an absolute URL) and waits
// for its load event.
func (b *Browser) Navigate(path string) {
	b.t.Helper()
	b.run("navigate to "+path, chromedp.Navigate(b.abs(path)))
}

// Reload reloads the page and waits for its load event.
func (b *Browser) Reload() {
	b.t.Helper()
	b.run("reload", chromedp.Reload())
}

// Fill replaces the value of the input or textarea sel by typing value.
func (b *Browser) Fill(sel, value string) {
	b.t.Helper()
	b.run("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	Eval[bool](b, `(document.querySelector(%s).value = "", true)`, sel)
	b.run("fill "+sel, chromedp.SendKeys(chromedp.CSS(sel), value))
}

// Select chooses the option with value in the select element sel.
func (b *Browser) Select(sel, value string) {
	b.t.Helper()
	b.run("wait for "+sel, chromedp.WaitReady(chromedp.CSS(sel)))
	ok := Eval[bool](b, `(function(sel, v) {
		const el = document.querySelector(sel);
		if (!el || ![...el.options].some(o => o.value === v)) return false;
		el.value = v;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		el.dispatchEvent(new Event("change", {bubbles: true}));
		return true;
	})(%s, %s)`, sel, value)
	if !ok {
		b.fail("select %s has no option %q", sel, value)
	}
	// A select with hx-trigger="change" re-renders part of the page: let
	// that finish before the next step touches the elements it replaces.
	b.WaitHTMXIdle()
}

// WaitHTMXIdle waits until no htmx request, swap or settle is under way.
func (b *Browser) WaitHTMXIdle() {
	b.t.Helper()
	b.waitFor("htmx to finish its requests", func() bool {
		return b.evalQuiet(`String(document.querySelectorAll(".htmx-request, .htmx-swapping, .htmx-settling").length === 0)`) == "true"
	})
}

// Click clicks the element sel with the mouse once it is visible.
func (b *Browser) Click(sel string) {
	b.t.Helper()
	b.run("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// Upload chooses files for the file input sel, as the file picker would.
func (b *Browser) Upload(sel string, paths ...string) {
	b.t.Helper()
	b.run("choose files for "+sel, chromedp.SetUploadFiles(chromedp.CSS(sel), paths))
}

// WaitVisible waits until the element sel is visible.
func (b *Browser) WaitVisible(sel string) {
	b.t.Helper()
	b.run("wait until "+sel+" is visible", chromedp.WaitVisible(chromedp.CSS(sel)))
}

// WaitText waits until the visible text of the first element sel contains
// text, and returns that element's text.
func (b *Browser) WaitText(sel, text string) string {
	b.t.Helper()
	var got string
	b.waitFor(fmt.Sprintf("%s to contain %q", sel, text), func() bool {
		got = b.evalQuiet(`(function(s){ const e = document.querySelector(s); return e ? e.innerText : "\u0000"; })(%s)`, sel)
		return got != "\x00" && strings.Contains(got, text)
	})
	return got
}

// WaitGone waits until no element matches sel.
func (b *Browser) WaitGone(sel string) {
	b.t.Helper()
	b.waitFor(sel+" to disappear", func() bool {
		return b.evalQuiet(`document.querySelector(%s) === null ? "yes" : "no"`, sel) == "yes"
	})
}

// WaitLoaded waits until the document and its deferred scripts have
// loaded (document.readyState is "complete").
func (b *Browser) WaitLoaded() {
	b.t.Helper()
	b.waitFor("the page to finish loading", func() bool {
		return b.evalQuiet(`document.readyState`) == "complete"
	})
}

// WaitHTMXReady waits until htmx has processed the element sel (boosted
// links and buttons, hx-* attributes), so that a click is htmx's.
func (b *Browser) WaitHTMXReady(sel string) {
	b.t.Helper()
	b.waitFor("htmx to process "+sel, func() bool {
		return b.evalQuiet(`String((function(){var e=document.querySelector(%s);if(!e)return false;`+
			`var f=e.closest('form');var d=e['htmx-internal-data']||(f&&f['htmx-internal-data']);return !!d;})())`, sel) == "true"
	})
}

// WaitURL waits until the page's path (without the query) is path.
func (b *Browser) WaitURL(path string) {
	b.t.Helper()
	b.waitFor("the URL path to be "+path, func() bool { return b.Path() == path })
}

// waitFor polls cond until it holds or the step timeout passes. Polling from
// Go, rather than in the page, survives full-page navigations.
func (b *Browser) waitFor(what string, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			b.fail("timed out after %s waiting for %s", Timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// evalQuiet evaluates a string expression, formatted with JSON-encoded
// args, and returns "" on error (the page may be between documents).
func (b *Browser) evalQuiet(format string, args ...any) string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](jsFormat(format, args...)))
	if err != nil {
		return ""
	}
	return s
}

// Has reports whether an element matches sel now.
func (b *Browser) Has(sel string) bool {
	b.t.Helper()
	return Eval[bool](b, `document.querySelector(%s) !== null`, sel)
}

// Text returns the visible text of the first element sel, which must exist.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	b.run("wait for "+sel, chromedp.WaitReady(chromedp.CSS(sel)))
	return Eval[string](b, `document.querySelector(%s).innerText`, sel)
}

// URL returns the page's current URL.
func (b *Browser) URL() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("read the page's URL: %v", err)
	}
	return loc
}

// Path returns the path of the page's current URL.
func (b *Browser) Path() string {
	b.t.Helper()
	u, err := url.Parse(b.URL())
	if err != nil {
		return ""
	}
	return u.Path
}

// Eval evaluates a JavaScript expression in the page and decodes its value.
// The format's %s verbs take args JSON-encoded, so strings are quoted safely.
func Eval[T any](b *Browser, format string, args ...any) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](jsFormat(format, args...)))
	if err != nil {
		var zero T
		b.fail("evaluate %s: %v", jsFormat(format, args...), err)
		return zero
	}
	return v
}

func jsFormat(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	enc := make([]any, len(args))
	for i, a := range args {
		j, err := json.Marshal(a)
		if err != nil {
			panic(err)
		}
		enc[i] = string(j)
	}
	return fmt.Sprintf(format, enc...)
}

// Screenshot saves a full-page PNG as test-artifacts/screenshots/NAME.png
// under the module root and returns its path.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path, err := writeScreenshot(name, png)
	if err != nil {
		b.t.Fatal(err)
	}
	return path
}

// ScreenshotDir is where screenshots go, relative to the module root.
const ScreenshotDir = "test-artifacts/screenshots"

func writeScreenshot(name string, png []byte) (string, error) {
	if name == "" || safeName.MatchString(name) {
		return "", errors.New("screenshot name " + fmt.Sprintf("%q", name) + " must be letters, digits, '.', '_' or '-'")
	}
	dir := filepath.Join(ModuleRoot(), filepath.FromSlash(ScreenshotDir))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create screenshot directory: %w", err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return "", fmt.Errorf("write screenshot: %w", err)
	}
	return path, nil
}
