package handlers

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/sessions"
	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/randtoken"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

// The browser session is a gorilla/sessions cookie, authenticated and
// encrypted with keys derived from the master key. It holds a random session
// id (whose hash is the server-side session row), the CSRF token and a flash
// message. Signing in replaces the id, so a session fixed before sign-in is
// worthless after it.
const (
	cookieName   = "keyward_session"
	ctxPrincipal = "keyward.principal"
	ctxCSRF      = "keyward.csrf"
	ctxSession   = "keyward.session"
)

// principal returns who is making the request (zero value: nobody).
func principal(c echo.Context) access.Principal {
	p, _ := c.Get(ctxPrincipal).(access.Principal)
	return p
}

func csrfToken(c echo.Context) string {
	t, _ := c.Get(ctxCSRF).(string)
	return t
}

func cookieSession(c echo.Context) *sessions.Session {
	sess, _ := c.Get(ctxSession).(*sessions.Session)
	return sess
}

// secureCookies reports whether this response's cookies must be Secure.
func (s *Server) secureCookies(c echo.Context) bool {
	switch s.Config.CookieSecure {
	case "always":
		return true
	case "never":
		return false
	}
	return s.Config.SecureCookies() || c.Request().TLS != nil
}

// saveSession writes the cookie session (before any body is written).
func (s *Server) saveSession(c echo.Context) error {
	sess := cookieSession(c)
	if sess == nil {
		return nil
	}
	sess.Options = &sessions.Options{
		Path: "/", MaxAge: int(s.Config.SessionMaxAge.Seconds()), HttpOnly: true,
		Secure: s.secureCookies(c), SameSite: http.SameSiteLaxMode,
	}
	return sess.Save(c.Request(), c.Response())
}

// webSession loads the cookie session and the signed-in principal, and
// rejects a state-changing request whose CSRF token does not match the
// session's (form field _csrf or header X-CSRF-Token, which htmx sends).
func (s *Server) webSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := s.Sessions.Get(c.Request(), cookieName)
		if err != nil {
			// A cookie from another master key or a tampered one: start afresh.
			sess, _ = s.Sessions.New(c.Request(), cookieName)
			sess.Values = map[any]any{}
		}
		c.Set(ctxSession, sess)
		tok, _ := sess.Values["csrf"].(string)
		dirty := false
		if tok == "" {
			tok = randtoken.New(32)
			sess.Values["csrf"] = tok
			dirty = true
		}
		c.Set(ctxCSRF, tok)
		p := access.Principal{Via: "web", SourceAddr: c.RealIP()}
		if sid, _ := sess.Values["sid"].(string); sid != "" {
			got, err := s.Auth.Session(c.Request().Context(), sid, c.RealIP())
			switch {
			case err == nil:
				p = got
			case errs.Is(err, errs.Unauthorized):
				delete(sess.Values, "sid")
				sess.Values["flash"] = "error|" + errs.MessageOf(err)
				dirty = true
			default:
				return err
			}
		}
		c.Set(ctxPrincipal, p)
		if dirty {
			if err := s.saveSession(c); err != nil {
				return err
			}
		}
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		got := c.Request().Header.Get("X-CSRF-Token")
		if got == "" {
			got = c.FormValue("_csrf")
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
			return errs.Errorf(errs.Forbidden, "The form has expired or did not come from this site (CSRF token mismatch). Reload the page and try again.")
		}
		return next(c)
	}
}

// requireUser sends visitors who are not signed in to the sign-in page.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if principal(c).Authenticated() {
			return next(c)
		}
		to := "/login"
		if c.Request().Method == http.MethodGet && c.Request().URL.Path != "/" {
			to += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
		}
		return redirect(c, to)
	}
}

// setFlash stores a message for the next page.
func (s *Server) setFlash(c echo.Context, kind, message string) error {
	if sess := cookieSession(c); sess != nil {
		sess.Values["flash"] = kind + "|" + message
		return s.saveSession(c)
	}
	return nil
}

// takeFlash returns and clears the pending flash message.
func (s *Server) takeFlash(c echo.Context) views.Flash {
	sess := cookieSession(c)
	if sess == nil {
		return views.Flash{}
	}
	v, _ := sess.Values["flash"].(string)
	if v == "" {
		return views.Flash{}
	}
	delete(sess.Values, "flash")
	_ = s.saveSession(c)
	kind, msg, _ := strings.Cut(v, "|")
	return views.Flash{Kind: kind, Message: msg}
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
