package handlers

// The admin's "Key storage" page: which key manager holds the signing
// keys and, for the built-in software token, setting its user PIN once
// (deleting a signing key asks for it).

import (
	"net/http"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/hsm"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

// handleTokenShow is the admin's page about the key manager.
func (s *Server) handleTokenShow(c echo.Context) error {
	if err := access.RequireAdmin(principal(c)); err != nil {
		return err
	}
	return s.renderToken(c, http.StatusOK, views.NewForm())
}

func (s *Server) renderToken(c echo.Context, status int, form views.Form) error {
	tok, err := s.token(c)
	if err != nil {
		return err
	}
	page := &views.SoftTokenPage{Token: tok, Form: form}
	page.Title, page.Nav = "HSM", ""
	return s.render(c, status, page)
}

// handleSoftPINSet sets the built-in software token's user PIN, once.
func (s *Server) handleSoftPINSet(c echo.Context) error {
	form := views.NewForm()
	pin := c.FormValue("pin")
	if pin != c.FormValue("pin2") {
		form.Fail("pin2", "The two PINs are not the same.")
		return s.renderToken(c, http.StatusUnprocessableEntity, form)
	}
	if err := s.Signing.SetSoftPIN(c.Request().Context(), principal(c), pin); err != nil {
		if !shownError(err) {
			return err
		}
		status, _, _ := classify(err)
		if errs.CodeOf(err) == errs.Invalid {
			status = http.StatusUnprocessableEntity
		}
		form.Fail(errs.FieldOf(err), errs.MessageOf(err))
		return s.renderToken(c, status, form)
	}
	if err := s.setFlash(c, "success", "The software token's user PIN is set. Deleting a signing key asks for it."); err != nil {
		return err
	}
	return redirect(c, "/admin/hsm")
}

// tokenView is the key manager as the pages name it.
func tokenView(t hsm.TokenInfo) views.Token {
	v := views.Token{Backend: t.Backend, Label: t.Label, Manufacturer: t.Manufacturer, Model: t.Model, Serial: t.Serial,
		Soft: t.Backend == hsm.BackendSoft, PINFlags: t.PINFlags}
	for _, f := range t.PINFlags {
		v.PINSet = v.PINSet || f == hsm.PINInitialized
	}
	return v
}

func (s *Server) token(c echo.Context) (views.Token, error) {
	t, err := s.Signing.Backend(c.Request().Context())
	return tokenView(t), err
}
