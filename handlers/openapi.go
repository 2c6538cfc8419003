package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// TODO(openapi helper): replace this stub.
func (s *Server) handleOpenAPI(c echo.Context) error {
	return echo.NewHTTPError(http.StatusNotImplemented)
}
