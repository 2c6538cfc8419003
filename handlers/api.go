package handlers

import (
	"strings"

	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/errs"
	"github.com/labstack/echo/v4"
)

// bearerAuth authenticates /apiops/ requests with a Personal API Access
// Token; a missing, unknown, expired or revoked token is a 401.
func (s *Server) bearerAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get("Authorization")
		scheme, tok, _ := strings.Cut(h, " ")
		if h != "" && !strings.EqualFold(scheme, "Bearer") {
			return errs.Errorf(errs.Unauthorized, "The Authorization header must be \"Bearer <token>\".")
		}
		tok = strings.TrimSpace(tok)
		if strings.HasPrefix(tok, environments.GatewayTokenPrefix) {
			p, err := s.Environments.AuthenticateGateway(c.Request().Context(), tok, c.RealIP())
			if err != nil {
				return err
			}
			if c.Path() != "/apiops"+bundleRoute && c.Path() != "/apiops"+strings.TrimSuffix(bundleRoute, "/") {
				return errs.Errorf(errs.Forbidden, "A gateway token can only read its environment's bundle.")
			}
			c.Set(ctxPrincipal, p)
			return next(c)
		}
		p, err := s.Auth.AuthenticateToken(c.Request().Context(), tok, c.RealIP())
		if err != nil {
			return err
		}
		c.Set(ctxPrincipal, p)
		return next(c)
	}
}

// bundleRoute is the one API route a gateway token may call.
const bundleRoute = "/environments/:environmentName/bundle"

// bindJSON decodes a JSON body, answering 400 with what is wrong.
func bindJSON(c echo.Context, v any) error {
	ct := c.Request().Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/json") {
		return errs.Errorf(errs.Invalid, "Send a JSON body with Content-Type: application/json.")
	}
	if err := (&echo.DefaultBinder{}).BindBody(c, v); err != nil {
		if he, ok := err.(*echo.HTTPError); ok {
			return errs.Errorf(errs.Invalid, "The request body is not valid JSON: %v", he.Message)
		}
		return errs.Errorf(errs.Invalid, "The request body is not valid JSON.")
	}
	return nil
}

// ok answers a successful API call: {"success": true, ...fields}.
func ok(c echo.Context, status int, fields map[string]any) error {
	body := map[string]any{"success": true}
	for k, v := range fields {
		body[k] = v
	}
	return c.JSON(status, body)
}
