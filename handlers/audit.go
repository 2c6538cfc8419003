package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/keyward/keyward/internal/audit"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

// auditPage builds the audit page for the filter in v. A bad filter value
// is not an error page: the page re-renders with the message beside the
// field, with status 422.
func (s *Server) auditPage(c echo.Context, v url.Values) (*views.AuditPage, int, error) {
	ctx, p := c.Request().Context(), principal(c)
	projects, err := s.Audit.AuditableProjects(ctx, p)
	if err != nil {
		return nil, 0, err
	}
	page := &views.AuditPage{Filter: views.NewForm(), Projects: projects, Page: 1}
	page.Title, page.Nav = "Audit log", "audit"
	for _, name := range views.AuditFilterFields {
		page.Filter.Values[name] = strings.TrimSpace(v.Get(name))
	}
	f, err := audit.ParseFilter(v)
	var res audit.Page
	if err == nil {
		res, err = s.Audit.Query(ctx, p, f)
	}
	if errs.Is(err, errs.Invalid) {
		page.Filter.Fail(errs.FieldOf(err), errs.MessageOf(err))
		return page, http.StatusUnprocessableEntity, nil
	}
	if err != nil {
		return nil, 0, err
	}
	page.Page, page.HasNext = res.Page, res.HasNext
	for _, e := range res.Entries {
		page.Entries = append(page.Entries, views.AuditRow{ID: e.ID, At: e.At, Actor: e.Actor, Via: e.Via,
			Action: e.Action, Project: e.Project, Object: e.Object, Environment: e.Environment,
			SourceAddr: e.SourceAddr, Outcome: e.Outcome, Detail: e.Detail})
	}
	return page, http.StatusOK, nil
}

func (s *Server) handleAuditList(c echo.Context) error {
	page, status, err := s.auditPage(c, c.QueryParams())
	if err != nil {
		return err
	}
	return s.render(c, status, page)
}

// handleAuditVerify checks the hash chain (admins only) and shows the
// result above the first page of the log, which now ends with the check's
// own entry.
func (s *Server) handleAuditVerify(c echo.Context) error {
	res, err := s.Audit.CheckIntegrity(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	page, status, err := s.auditPage(c, url.Values{})
	if err != nil {
		return err
	}
	page.Verify = &views.AuditVerify{Intact: res.Intact(), Entries: res.Entries, BadID: res.BadID, Problem: res.Problem}
	return s.render(c, status, page)
}

func (s *Server) handleAuditCSV(c echo.Context) error {
	f, err := audit.ParseFilter(c.QueryParams())
	if err != nil {
		return err
	}
	err = s.Audit.Export(c.Request().Context(), principal(c), f, &csvDownload{c: c, name: "keyward-audit.csv"})
	if err != nil && c.Response().Committed {
		// Too late for an error page: the download is cut short instead.
		s.Logger.Error("audit export interrupted", "request_id", requestID(c), "error", err.Error())
		return nil
	}
	return err
}

// csvDownload is the response of a CSV download. It sends the status and
// the download headers on the first write only, so that an error before any
// row (a refusal, a bad filter) still reaches the error handler as an
// ordinary error page.
type csvDownload struct {
	c       echo.Context
	name    string
	started bool
}

func (d *csvDownload) Write(b []byte) (int, error) {
	if !d.started {
		h := d.c.Response().Header()
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+d.name+`"`)
		d.c.Response().WriteHeader(http.StatusOK)
		d.started = true
	}
	return d.c.Response().Write(b)
}
