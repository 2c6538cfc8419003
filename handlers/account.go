package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/keyward/keyward/internal/auth"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

func (s *Server) accountPage(c echo.Context) (*views.AccountPage, error) {
	toks, err := s.Auth.ListTokens(c.Request().Context(), principal(c))
	if err != nil {
		return nil, err
	}
	page := &views.AccountPage{TokenForm: views.NewForm(), PasswordForm: views.NewForm(), APIBase: s.Config.BaseURL}
	page.Title, page.Nav = "Your account", "account"
	for _, t := range toks {
		page.Tokens = append(page.Tokens, views.TokenRow{ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt,
			ExpiresAt: t.ExpiresAt.Time, LastUsed: t.LastUsedAt.Time, Revoked: t.RevokedAt.Valid,
			Expired: t.Expired})
	}
	return page, nil
}

func (s *Server) handleAccount(c echo.Context) error {
	page, err := s.accountPage(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

// handleTokenCreate creates a token and shows its value once.
func (s *Server) handleTokenCreate(c echo.Context) error {
	name, exp := c.FormValue("name"), c.FormValue("expires")
	var created auth.NewToken
	d, err := time.ParseDuration(exp)
	if err != nil || d <= 0 {
		err = errs.FieldErrorf("expires", "Choose when the token expires.")
	} else {
		created, err = s.Auth.CreateToken(c.Request().Context(), principal(c), "", name, d)
	}
	page, lerr := s.accountPage(c)
	if lerr != nil {
		return lerr
	}
	if err != nil {
		page.TokenForm.Values["name"], page.TokenForm.Values["expires"] = name, exp
		if err := formFail(&page.TokenForm, err); err != nil {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, page)
	}
	page.NewToken, page.NewTokenName = created.Value, name
	c.Response().Header().Set("HX-Push-Url", "/account")
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handleTokenRevoke(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errs.Errorf(errs.NotFound, "No such token.")
	}
	if err := s.Auth.RevokeToken(c.Request().Context(), principal(c), id); err != nil {
		if errs.CodeOf(err) == errs.Internal {
			return err
		}
		if err := s.setFlash(c, "error", errs.MessageOf(err)); err != nil {
			return err
		}
		return redirect(c, "/account")
	}
	if err := s.setFlash(c, "success", "Token revoked; it no longer works."); err != nil {
		return err
	}
	return redirect(c, "/account")
}

func (s *Server) handleAccountPassword(c echo.Context) error {
	sid, _ := cookieSession(c).Values["sid"].(string)
	err := s.Auth.ChangeOwnPassword(c.Request().Context(), principal(c), sid, c.FormValue("current_password"), c.FormValue("password"))
	if err == nil {
		if err := s.setFlash(c, "success", "Password changed; your other sessions ended."); err != nil {
			return err
		}
		return redirect(c, "/account")
	}
	page, lerr := s.accountPage(c)
	if lerr != nil {
		return lerr
	}
	if err := formFail(&page.PasswordForm, err); err != nil {
		return err
	}
	return s.render(c, http.StatusUnprocessableEntity, page)
}
