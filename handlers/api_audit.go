package handlers

import (
	"net/http"
	"time"

	"github.com/keyward/keyward/internal/audit"
	"github.com/labstack/echo/v4"
)

var auditAPI = apiResource{
	Tag: openAPITag{Name: "Audit", Description: "The append-only, tamper-evident audit log."},
	Schemas: []apiComponent{
		{Name: "AuditEntry", Type: auditEntryDTO{}, Docs: map[string]*schema{
			"id":          {Description: "The entry's position in the hash chain."},
			"actor":       {Description: "The user who acted."},
			"via":         {Description: "How: web, token:<token name> or cli."},
			"action":      {Example: "project.create"},
			"project":     {Description: "The project concerned, or empty."},
			"object":      {Example: "project/payments"},
			"environment": {Description: "The environment concerned, or empty."},
			"outcome":     {Enum: []any{audit.Success, audit.Denied, audit.Failed}},
			"detail":      {Description: "More about the operation, or empty."}}},
		{Name: "AuditPage", Type: auditListResponse{}, Docs: map[string]*schema{
			"resultCount": {Description: "The entries up to the end of this page: the total matching once hasNext is false. " +
				"The log is not counted past the page asked for."}}},
	},
	Routes: []apiRoute{
		{Method: http.MethodGet, Path: "/apiops/audit/", Handler: handle((*Server).handleAPIAuditList),
			Permission: "AUDIT:VIEW", ID: "listAudit", Summary: "Read the audit log, newest first",
			Description: "Admins read every entry; other users read the entries of the projects in which they hold " +
				"AUDIT:VIEW, and are refused when they hold it nowhere. Filtering on a project needs AUDIT:VIEW in it.",
			Params: append([]*openAPIParameter{
				queryParam("project", "Only entries about this project.", &schema{Type: "string"}),
				queryParam("actor", "Only entries by this user.", &schema{Type: "string"}),
				queryParam("action", "Only this action; ending in '.', every action starting so (\"project.\").", &schema{Type: "string"}),
				queryParam("object", "Only entries about this object, such as project/payments.", &schema{Type: "string"}),
				queryParam("from", "Entries at or after this date (2026-11-23) or RFC 3339 time.", &schema{Type: "string"}),
				queryParam("to", "Entries before this RFC 3339 time, or up to the end of this date.", &schema{Type: "string"}),
			}, pageParams(50, audit.MaxPageSize)...),
			Errors: []int{http.StatusBadRequest, http.StatusNotFound}},
	},
}

// auditEntryDTO is an audit entry in API responses (the chain hashes are in
// the CSV export).
type auditEntryDTO struct {
	ID            int64     `json:"id"`
	Time          time.Time `json:"time"`
	Actor         string    `json:"actor"`
	Via           string    `json:"via"`
	Action        string    `json:"action"`
	Project       string    `json:"project"`
	Object        string    `json:"object"`
	Environment   string    `json:"environment"`
	SourceAddress string    `json:"sourceAddress"`
	Outcome       string    `json:"outcome"`
	Detail        string    `json:"detail"`
}

// auditListResponse is a page of the audit log. The log does not count its
// matches (see audit.Log.List), so resultCount is exact only on the last page.
type auditListResponse struct {
	pagedListResponse[auditEntryDTO]
	HasNext bool `json:"hasNext" doc:"Whether a next page exists."`
}

func (s *Server) handleAPIAuditList(c echo.Context) (auditListResponse, error) {
	f, err := audit.ParseFilter(c.QueryParams())
	if err != nil {
		return auditListResponse{}, err
	}
	res, err := s.Audit.Query(c.Request().Context(), principal(c), f)
	if err != nil {
		return auditListResponse{}, err
	}
	out := make([]auditEntryDTO, len(res.Entries))
	for i, e := range res.Entries {
		out[i] = auditEntryDTO{ID: e.ID, Time: e.At.UTC(), Actor: e.Actor, Via: e.Via, Action: e.Action,
			Project: e.Project, Object: e.Object, Environment: e.Environment, SourceAddress: e.SourceAddr,
			Outcome: e.Outcome, Detail: e.Detail}
	}
	seen := int64((res.Page-1)*res.Size + len(out))
	return auditListResponse{pageOf(out, seen, res.Page, res.Size), res.HasNext}, nil
}
