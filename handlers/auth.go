package handlers

import (
	"net/http"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/randtoken"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

// formFail puts err beside its field on form, or in the form's message.
// Internal errors and refusals (403) are returned to the error handler
// instead: a refused user may not even see the form.
func formFail(form *views.Form, err error) error {
	if code := errs.CodeOf(err); code == errs.Internal || code == errs.Forbidden {
		return err
	}
	form.Fail(errs.FieldOf(err), errs.MessageOf(err))
	return nil
}

func (s *Server) handleSetupForm(c echo.Context) error {
	tok := c.Param("token")
	if !s.Auth.CheckSetupToken(c.Request().Context(), tok) {
		return errs.Errorf(errs.NotFound, "This setup link is not valid or was already used. Restart keyward to print a new one if no administrator exists yet.")
	}
	page := &views.SetupPage{Token: tok, Form: views.NewForm()}
	page.Title = "Set up Keyward"
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handleSetup(c echo.Context) error {
	tok := c.Param("token")
	page := &views.SetupPage{Token: tok, Form: views.NewForm()}
	page.Title = "Set up Keyward"
	username, password := c.FormValue("username"), c.FormValue("password")
	page.Form.Values["username"] = username
	if password != c.FormValue("password2") {
		page.Form.Fail("password2", "The two passwords are not the same.")
		return s.render(c, http.StatusUnprocessableEntity, page)
	}
	_, err := s.Auth.CompleteSetup(c.Request().Context(), principal(c), tok, username, password)
	if errs.Is(err, errs.NotFound) || errs.Is(err, errs.Conflict) {
		return err
	}
	if err != nil {
		if err := formFail(&page.Form, err); err != nil {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, page)
	}
	if err := s.setFlash(c, "success", "Administrator "+username+" created. Sign in to continue."); err != nil {
		return err
	}
	return redirect(c, "/login")
}

func (s *Server) handleLoginForm(c echo.Context) error {
	if principal(c).Authenticated() {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	page := &views.LoginPage{Next: safeNext(c.QueryParam("next")), Form: views.NewForm()}
	page.Title = "Sign in"
	needs, err := s.Auth.NeedsSetup(c.Request().Context())
	if err != nil {
		return err
	}
	page.NeedsSetup = needs
	return s.render(c, http.StatusOK, page)
}

// handleLogin signs in and rotates the session: a new session id and a new
// CSRF token.
func (s *Server) handleLogin(c echo.Context) error {
	page := &views.LoginPage{Next: safeNext(c.FormValue("next")), Form: views.NewForm()}
	page.Title = "Sign in"
	page.Form.Values["username"] = c.FormValue("username")
	sid, _, err := s.Auth.Login(c.Request().Context(), c.FormValue("username"), c.FormValue("password"), c.RealIP())
	if err != nil {
		if err := formFail(&page.Form, err); err != nil {
			return err
		}
		status := http.StatusUnauthorized
		if errs.Is(err, errs.TooMany) {
			status = http.StatusTooManyRequests
		}
		return s.render(c, status, page)
	}
	sess := cookieSession(c)
	sess.Values = map[any]any{"sid": sid, "csrf": randtoken.New(32)}
	if err := s.saveSession(c); err != nil {
		return err
	}
	return redirect(c, page.Next)
}

func (s *Server) handleLogout(c echo.Context) error {
	sess := cookieSession(c)
	if sid, _ := sess.Values["sid"].(string); sid != "" && principal(c).Authenticated() {
		if err := s.Auth.Logout(c.Request().Context(), principal(c), sid); err != nil {
			return err
		}
	}
	sess.Values = map[any]any{"csrf": randtoken.New(32), "flash": "success|You are signed out."}
	if err := s.saveSession(c); err != nil {
		return err
	}
	return redirect(c, "/login")
}

func (s *Server) handleHome(c echo.Context) error {
	d, err := s.Dashboard.For(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	page := &views.DashboardPage{Counts: d.Counts, SoonTotal: d.SoonTotal, SoonMore: d.SoonTotal > int64(len(d.Soon)),
		Deployments: d.Deployments, Failures: d.Failures}
	page.Title, page.Nav = "Dashboard", "home"
	for _, it := range d.Soon {
		page.Soon = append(page.Soon, expiryRow(it))
	}
	for _, a := range d.Projects {
		page.Projects = append(page.Projects, views.DashboardProject{Name: a.Project.Name, Keys: a.Keys, Certificates: a.Certificates,
			JWKs: a.JWKs, SigningKeys: a.SigningKeys, KeySets: a.KeySets, APIs: a.APIs})
	}
	return s.render(c, http.StatusOK, page)
}
