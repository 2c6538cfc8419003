package handlers

import (
	"net/url"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/expiry"
	"github.com/keyward/keyward/internal/projects"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

// projectNav builds the side navigation of a project's pages: every area
// the user may open, with its count, the one the route belongs to marked.
// A page swapped in whole (a full load, a boosted link, an htmx request
// aimed at #main) carries it; a fragment aimed at part of a page does not,
// and neither does a page of a project the user cannot see.
func (s *Server) projectNav(c echo.Context) *views.ProjectNav {
	project := c.Param("project")
	if project == "" || isHTMX(c) && c.Request().Header.Get("HX-Target") != "main" {
		return nil
	}
	ctx, p := c.Request().Context(), principal(c)
	areas, err := s.Projects.Areas(ctx, p, project)
	if err != nil {
		return nil
	}
	perms := areas.Project.Permissions
	base := "/projects/" + url.PathEscape(project)
	route := strings.TrimPrefix(c.Path(), "/projects/:project")
	nav := &views.ProjectNav{Project: project}
	add := func(it views.NavItem, show bool) {
		if show {
			nav.Items = append(nav.Items, it)
		}
	}
	in := func(prefixes ...string) bool {
		for _, pre := range prefixes {
			if route == pre || strings.HasPrefix(route, pre+"/") {
				return true
			}
		}
		return false
	}
	secrets, signing, keySets := perms[access.SecretsView], perms[access.SigningKeysView], perms[access.KeySetsView]
	add(views.NavItem{ID: "overview", Label: "Overview", Href: base, Current: route == ""}, true)
	add(views.NavItem{ID: "keys", Label: "Keys", Href: base + "/keys", Count: areas.Keys, Counted: true, Current: in("/keys")}, secrets)
	add(views.NavItem{ID: "certificates", Label: "Certificates", Href: base + "/certificates", Count: areas.Certificates, Counted: true,
		Current: in("/certificates") && !in("/certificates/truststore")}, secrets)
	add(views.NavItem{ID: "truststore", Label: "Truststore", Href: base + "/certificates/truststore", Sub: true, Count: areas.TruststoreCAs, Counted: true,
		Current: in("/certificates/truststore")}, secrets)
	add(views.NavItem{ID: "jwks", Label: "JWKs", Href: base + "/jwks", Count: areas.JWKs, Counted: true, Current: in("/jwks")}, secrets)
	add(views.NavItem{ID: "signing-keys", Label: "Signing Keys", Href: base + "/signing-keys", Count: areas.SigningKeys, Counted: true, Current: in("/signing-keys")}, signing)
	add(views.NavItem{ID: "key-sets", Label: "Key Sets", Href: base + "/key-sets", Count: areas.KeySets, Counted: true,
		Current: in("/key-sets", "/organizations", "/applications", "/policy-templates")}, keySets)
	add(views.NavItem{ID: "api-catalog", Label: "API Catalog", Href: base + "/api-catalog", Count: areas.APIs, Counted: true, Current: in("/api-catalog")}, keySets)
	add(views.NavItem{ID: "notifications", Label: "Notifications", Href: base + "/notifications", Count: areas.NotificationRules, Counted: true, Current: in("/notifications")},
		secrets || signing || keySets || perms[access.AuditView])
	if n, err := s.Expiry.Total(ctx, p, expiry.Filter{Project: project, Within: 30 * 24 * time.Hour}); err == nil {
		add(views.NavItem{ID: "expiring", Label: "Expiring in 30 days", Href: "/expiring?within=30d&project=" + url.QueryEscape(project), Count: n, Counted: true}, true)
	}
	add(views.NavItem{ID: "audit", Label: "Audit", Href: "/audit?project=" + url.QueryEscape(project), Count: areas.AuditEntries, Counted: true,
		AtLeast: areas.AuditEntries >= projects.AuditCountCap}, perms[access.AuditView])
	return nav
}
