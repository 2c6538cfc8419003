package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

// apiError is the REST API's error body. Field names the input a
// bad_request is about ("webhookUrl", "permissions[1]"), when it is one.
type apiError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	Field            string `json:"field,omitempty"`
}

// classify maps an error to a status, an API error code and a message safe
// to show.
func classify(err error) (status int, code, message string) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := fmt.Sprint(he.Message)
		switch he.Code {
		case http.StatusNotFound:
			return he.Code, "not_found", "There is nothing at this address."
		case http.StatusMethodNotAllowed:
			return he.Code, "method_not_allowed", "This method is not allowed here."
		case http.StatusRequestEntityTooLarge:
			return he.Code, "bad_request", "The request body is too large."
		}
		if he.Code < 500 {
			return he.Code, "bad_request", msg
		}
		return http.StatusInternalServerError, "server_error", "Internal error."
	}
	msg := errs.MessageOf(err)
	switch errs.CodeOf(err) {
	case errs.Invalid, errs.Conflict:
		return http.StatusBadRequest, "bad_request", msg
	case errs.StateConflict:
		return http.StatusConflict, "conflict", msg
	case errs.NotFound:
		return http.StatusNotFound, "not_found", msg
	case errs.Unauthorized:
		return http.StatusUnauthorized, "unauthorized_client", msg
	case errs.Forbidden:
		return http.StatusForbidden, "access_denied", msg
	case errs.TooMany:
		return http.StatusTooManyRequests, "too_many_requests", msg
	case errs.Unavailable:
		return http.StatusServiceUnavailable, "unavailable", msg
	}
	return http.StatusInternalServerError, "server_error", "Internal error."
}

func isAPI(c echo.Context) bool {
	return strings.HasPrefix(c.Request().URL.Path, "/apiops/")
}

// handleError is Echo's only error handler: JSON for the API, an error page
// (or the sign-in page) for the web. Only internal errors are logged as
// errors, with the request id; users see "Internal error." and the id.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code, msg := classify(err)
	if status >= 500 {
		s.Logger.Error("request failed", "request_id", requestID(c), "method", c.Request().Method,
			"path", c.Path(), "error", err.Error())
		msg = "Internal error. Quote request id " + requestID(c) + " to your administrator."
	}
	if isAPI(c) || c.Path() == "/metrics" {
		if status == http.StatusUnauthorized {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="keyward"`)
		}
		field := errs.FieldOf(err)
		if strings.ContainsAny(field, "[.") && status < 500 {
			// A message about one entry of a list says what is wrong; the
			// API names the entry too ("cryptoKeyInfoEnvironmentList[1].content: ...").
			msg = field + ": " + msg
		}
		if err := c.JSON(status, apiError{Error: code, ErrorDescription: msg, Field: field}); err != nil {
			s.Logger.Error("write error response", "request_id", requestID(c), "error", err.Error())
		}
		return
	}
	if status == http.StatusUnauthorized && !principal(c).Authenticated() && c.Get(ctxSession) != nil {
		if err := redirect(c, "/login"); err != nil {
			s.Logger.Error("write error response", "request_id", requestID(c), "error", err.Error())
		}
		return
	}
	page := &views.ErrorPage{Status: status, Heading: http.StatusText(status), Message: msg}
	page.Title = http.StatusText(status)
	if c.Get(ctxSession) == nil {
		// Outside the web session (e.g. /static): no layout data to fill.
		if err := c.String(status, msg); err != nil {
			s.Logger.Error("write error response", "request_id", requestID(c), "error", err.Error())
		}
		return
	}
	if err := s.render(c, status, page); err != nil {
		s.Logger.Error("render error page", "request_id", requestID(c), "error", err.Error())
		_ = c.String(http.StatusInternalServerError, "Internal error.")
	}
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
