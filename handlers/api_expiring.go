package handlers

import (
	"net/http"
	"time"

	"github.com/keyward/keyward/internal/expiry"
	"github.com/labstack/echo/v4"
)

var expiringAPI = apiResource{
	Tag: openAPITag{Name: "Expiring", Description: "Everything with an end date, across the projects you can see."},
	Schemas: []apiComponent{
		{Name: "ExpiringItem", Type: expiringItemDTO{}, Docs: map[string]*schema{
			"type":        {Enum: expiryTypes()},
			"project":     {Description: "The project, or empty for an environment's truststore CA, a gateway token or a personal token."},
			"environment": {Description: "The environment, or empty (personal tokens, signer rotations)."},
			"detail":      {Description: "A certificate's subject, a token's owner, or the rotation step (activate / retire and the key)."},
			"date":        {Description: "The end date: a certificate's or CA's not after, a token's expiry, a rotation step's scheduled time."},
			"daysLeft":    {Description: "Whole days from now to date; negative once past."},
			"status":      {Enum: []any{expiry.Expired, expiry.Critical, expiry.Warning, expiry.OK}, Description: "expired; critical: 7 days or fewer; warning: 30 days or fewer; ok."},
			"link":        {Description: "The object's page in the web console."},
			"next":        {Description: "What to do next."}}},
	},
	Routes: []apiRoute{
		{Method: http.MethodGet, Path: "/apiops/expiring/", Handler: handle((*Server).handleAPIExpiring),
			ID: "listExpiring", Summary: "List what expires, soonest first",
			Description: "Every object with an end date that the caller may see: admins see everything; other users the truststores, " +
				"their own access tokens and, in each project they belong to, the certificates (SECRETS:VIEW), signer rotations " +
				"(SIGNING_KEYS:VIEW) and key set expirations and rotations (KEY_SETS:VIEW). Gateway tokens are shown to admins. " +
				"No secret value is ever part of an item.",
			Params: append([]*openAPIParameter{
				queryParam("within", "Only what ends before now plus this duration (30d, 7d, 12h); past ends included.", &schema{Type: "string", Example: "30d"}),
				queryParam("status", "Only expired, critical (7 days or fewer), warning (8 to 30 days) or ok (later).", &schema{Type: "string", Enum: []any{expiry.Expired, expiry.Critical, expiry.Warning, expiry.OK}}),
				queryParam("project", "Only this project's objects.", &schema{Type: "string"}),
				queryParam("type", "Only this type.", &schema{Type: "string", Enum: expiryTypes()}),
				queryParam("environment", "Only this environment's objects.", &schema{Type: "string"}),
				queryParam("sort", "date (default), type, name, project or environment; a leading - reverses.", &schema{Type: "string"}),
			}, pageParams(50, expiry.MaxPageSize)...),
			Errors: []int{http.StatusBadRequest, http.StatusNotFound}},
	},
}

func expiryTypes() []any {
	out := make([]any, len(expiry.Types))
	for i, t := range expiry.Types {
		out[i] = string(t)
	}
	return out
}

// expiringItemDTO is one object's end date in API responses.
type expiringItemDTO struct {
	Type        string    `json:"type"`
	Project     string    `json:"project"`
	Environment string    `json:"environment"`
	Name        string    `json:"name"`
	Detail      string    `json:"detail"`
	Date        time.Time `json:"date"`
	DaysLeft    int       `json:"daysLeft"`
	Status      string    `json:"status"`
	Link        string    `json:"link"`
	Next        string    `json:"next"`
}

func (s *Server) handleAPIExpiring(c echo.Context) (pagedListResponse[expiringItemDTO], error) {
	f, err := expiry.ParseFilter(c.QueryParams())
	if err != nil {
		return pagedListResponse[expiringItemDTO]{}, err
	}
	res, err := s.Expiry.List(c.Request().Context(), principal(c), f)
	if err != nil {
		return pagedListResponse[expiringItemDTO]{}, err
	}
	out := make([]expiringItemDTO, len(res.Items))
	for i, it := range res.Items {
		out[i] = expiringItemDTO{Type: string(it.Type), Project: it.Project, Environment: it.Environment, Name: it.Name,
			Detail: it.Detail, Date: it.At, DaysLeft: it.DaysLeft, Status: it.Status, Link: it.Link, Next: it.Next}
	}
	return pageOf(out, res.Total, res.Page, res.Size), nil
}
