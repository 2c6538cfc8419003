package handlers

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/expiry"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

// handleExpiring is the expiry overview. A bad filter value re-renders the
// page with the message beside its field (422).
func (s *Server) handleExpiring(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	page := &views.ExpiryPage{Filter: views.NewForm(), Pager: views.Pager{Page: 1, Pages: 1}}
	page.Title, page.Nav = "Expiring", "expiring"
	for _, name := range views.ExpiryFilterFields {
		page.Filter.Values[name] = strings.TrimSpace(c.QueryParam(name))
	}
	for _, t := range expiry.Types {
		page.Types = append(page.Types, views.Option{Value: string(t), Label: t.Label()})
	}
	prs, err := s.Projects.List(ctx, p)
	if err != nil {
		return err
	}
	for _, pr := range prs {
		page.Projects = append(page.Projects, pr.Name)
	}
	envs, err := s.Environments.List(ctx, p)
	if err != nil {
		return err
	}
	for _, e := range envs {
		page.Environments = append(page.Environments, e.Name)
	}
	f, err := expiry.ParseFilter(c.QueryParams())
	var res expiry.Page
	if err == nil {
		res, err = s.Expiry.List(ctx, p, f)
	}
	if errs.Is(err, errs.Invalid) {
		page.Now = s.Clock.Now()
		page.Filter.Fail(errs.FieldOf(err), errs.MessageOf(err))
		return s.render(c, http.StatusUnprocessableEntity, page)
	}
	if err != nil {
		return err
	}
	page.Pager, page.Now = views.NewPager(res.Total, res.Page, res.Size, page.Filter.Values), res.Now
	for _, it := range res.Items {
		page.Items = append(page.Items, expiryRow(it))
	}
	return s.render(c, http.StatusOK, page)
}

func expiryRow(it expiry.Item) views.ExpiryRow {
	return views.ExpiryRow{Type: string(it.Type), TypeLabel: it.Type.Label(), Project: it.Project, Environment: it.Environment,
		Name: it.Name, Detail: it.Detail, At: it.At, DaysLeft: it.DaysLeft, Status: it.Status, Link: it.Link, Next: it.Next}
}

// handleExpiringCSV downloads every item of the filter as CSV.
func (s *Server) handleExpiringCSV(c echo.Context) error {
	f, err := expiry.ParseFilter(c.QueryParams())
	if err != nil {
		return err
	}
	w := csv.NewWriter(&csvDownload{c: c, name: "keyward-expiring.csv"})
	header := false
	err = s.Expiry.Each(c.Request().Context(), principal(c), f, func(it expiry.Item) error {
		if !header {
			header = true
			if err := w.Write([]string{"type", "project", "environment", "name", "detail", "date", "days_left", "status", "next"}); err != nil {
				return err
			}
		}
		return w.Write([]string{string(it.Type), it.Project, it.Environment, it.Name, it.Detail, it.At.Format(time.RFC3339),
			strconv.Itoa(it.DaysLeft), it.Status, it.Next})
	})
	if err == nil && !header {
		err = w.Write([]string{"type", "project", "environment", "name", "detail", "date", "days_left", "status", "next"})
	}
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	if err != nil && c.Response().Committed {
		s.Logger.Error("expiry export interrupted", "request_id", requestID(c), "error", err.Error())
		return nil
	}
	return err
}
