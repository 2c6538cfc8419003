package handlers

import (
	"net/http"

	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

// isHTMX reports whether the request wants a fragment: an htmx request that
// is not a boosted navigation (boosted links swap the whole body).
func isHTMX(c echo.Context) bool {
	h := c.Request().Header
	return h.Get("HX-Request") == "true" && h.Get("HX-Boosted") != "true"
}

// render renders a page into a buffer, then writes status and body: the
// content fragment for htmx requests, the full document otherwise.
func (s *Server) render(c echo.Context, status int, p views.Page) error {
	s.fillBase(c, p)
	buf, err := s.Views.Render(p, isHTMX(c))
	if err != nil {
		return err
	}
	c.Response().Header().Add("Vary", "HX-Request")
	return c.HTMLBlob(status, buf.Bytes())
}

// fillBase sets the fields every page shares from the request.
func (s *Server) fillBase(c echo.Context, p views.Page) {
	b := p.BaseData()
	pr := principal(c)
	b.User, b.Admin = pr.Username, pr.Admin
	b.CSRF = csrfToken(c)
	b.Version = s.Version
	if b.Flash.Message == "" {
		b.Flash = s.takeFlash(c)
	}
	if b.ProjectNav == nil && b.User != "" {
		b.ProjectNav = s.projectNav(c)
	}
}

// redirect answers a successful form post (post/redirect/get): a 303 for
// plain and boosted requests, which htmx follows, and HX-Redirect for an htmx
// fragment request, so the browser loads the target page.
func redirect(c echo.Context, to string) error {
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, to)
}
