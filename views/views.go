// Package views holds Keyward's HTML templates and the typed structs each
// page renders from. Templates are parsed once at start-up: a missing or
// broken template stops the server from starting instead of failing a
// request.
package views

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"
)

//go:embed layout.html partials/*.html pages/*.html
var files embed.FS

// Base is what every page carries: who is signed in, the CSRF token for its
// forms, a flash message and the navigation state.
type Base struct {
	Title    string
	User     string // "" when signed out
	Admin    bool
	CSRF     string
	Flash    Flash
	Nav      string // the active navigation item
	Version  string
	Projects []string // the signed-in user's projects, for navigation
	// ProjectNav is the side navigation of a project's pages (nil
	// elsewhere, and in fragments swapped into part of a page).
	ProjectNav *ProjectNav
}

// ProjectNav lists a project's areas the user may open, with counts, the
// current one marked.
type ProjectNav struct {
	Project string
	Items   []NavItem
}

// NavItem is one area of the project navigation.
type NavItem struct {
	ID, Label, Href string
	Count           int64
	Counted         bool // Count is shown
	AtLeast         bool // Count is a cap: there are at least that many
	Current         bool
	Sub             bool // a tab of the item above (the truststore)
}

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind    string // "success" or "error"
	Message string
}

// Page is implemented by every page struct: it names its template file.
type Page interface {
	Template() string
	BaseData() *Base
}

// BaseData returns the shared fields, for the render helper.
func (b *Base) BaseData() *Base { return b }

// Renderer renders pages parsed at start-up.
type Renderer struct {
	pages map[string]*template.Template
}

// New parses the layout, the partials and every page.
func New() (*Renderer, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "layout.html", "partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	entries, err := fs.ReadDir(files, "pages")
	if err != nil {
		return nil, err
	}
	r := &Renderer{pages: map[string]*template.Template{}}
	for _, e := range entries {
		t, err := template.Must(layout.Clone()).ParseFS(files, path.Join("pages", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", e.Name(), err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("page %s defines no \"content\" template", e.Name())
		}
		r.pages[strings.TrimSuffix(e.Name(), ".html")] = t
	}
	return r, nil
}

// Has reports whether a page template exists (checked at start-up for every
// page struct the handlers use).
func (r *Renderer) Has(name string) bool { _, ok := r.pages[name]; return ok }

// Render writes page to a buffer: the whole document, or only its "content"
// block when fragment is true (an HTMX request).
func (r *Renderer) Render(p Page, fragment bool) (*bytes.Buffer, error) {
	t, ok := r.pages[p.Template()]
	if !ok {
		return nil, fmt.Errorf("no page template %q", p.Template())
	}
	name := "layout.html"
	if fragment {
		name = "fragment"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, p); err != nil {
		return nil, fmt.Errorf("render %s: %w", p.Template(), err)
	}
	return &buf, nil
}

var funcs = template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"join": strings.Join,
	"add":  func(a, b int) int { return a + b },
	"list": func(items ...string) []string { return items },
	// dict passes several values to a template: (dict "F" .Form "CSRF" .CSRF).
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	// Key sets (views/keysets.go).
	"ptime": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"ptr": func(t time.Time) *time.Time { return &t },
	"shortTime": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04")
	},
	"actionLabel":      ActionLabel,
	"statusClass":      StatusClass,
	"eventTitle":       EventTitle,
	"eventDelay":       EventDelay,
	"policyDuration":   PolicyDuration,
	"durationValue":    DurationValue,
	"yesNo":            YesNo,
	"subscriptionLink": SubscriptionAnchor,
	// Certificates (partials/cert_details.html).
	"expiryOf":    ExpiryOf,
	"fingerprint": Fingerprint,
	"has": func(set []string, v string) bool {
		for _, s := range set {
			if s == v {
				return true
			}
		}
		return false
	},
}
