package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// TODO(audit helper): replace these stubs.

func (s *Server) handleAuditList(c echo.Context) error {
	return echo.NewHTTPError(http.StatusNotImplemented)
}

func (s *Server) handleAuditCSV(c echo.Context) error {
	return echo.NewHTTPError(http.StatusNotImplemented)
}

func (s *Server) handleAuditVerify(c echo.Context) error {
	return echo.NewHTTPError(http.StatusNotImplemented)
}

func (s *Server) handleAPIAuditList(c echo.Context) error {
	return echo.NewHTTPError(http.StatusNotImplemented)
}
