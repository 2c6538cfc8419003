package handlers

import (
	"net/http"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

// handleSearch finds objects by name: the page, or the header box's
// results as a fragment.
func (s *Server) handleSearch(c echo.Context) error {
	page := &views.SearchPage{Query: c.QueryParam("q")}
	page.Title = "Search"
	res, err := s.Search.Find(c.Request().Context(), principal(c), page.Query)
	if errs.Is(err, errs.Invalid) {
		page.Error = errs.MessageOf(err)
		return s.render(c, http.StatusUnprocessableEntity, page)
	}
	if err != nil {
		return err
	}
	page.Results = res
	return s.render(c, http.StatusOK, page)
}
