package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/queries"
	"github.com/labstack/echo/v4"
)

// environmentDTO is an environment in API responses; never its secret.
type environmentDTO struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	WebhookURL  string    `json:"webhookUrl"`
	Revision    int64     `json:"revision"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

func toEnvironmentDTO(e queries.Environment) environmentDTO {
	return environmentDTO{Name: e.Name, Description: e.Description, WebhookURL: e.WebhookUrl, Revision: e.Revision,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

// deploymentDTO is one entry of an environment's deployment history.
type deploymentDTO struct {
	Revision      int64     `json:"revision"`
	Actor         string    `json:"actor"`
	Action        string    `json:"action"`
	Project       string    `json:"project"`
	ObjectType    string    `json:"objectType"`
	ObjectName    string    `json:"objectName"`
	Success       bool      `json:"success"`
	Message       string    `json:"message"`
	WebhookStatus string    `json:"webhookStatus"`
	CreatedAt     time.Time `json:"createdAt"`
}

func (s *Server) handleAPIEnvironmentList(c echo.Context) error {
	list, err := s.Environments.List(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	out := make([]environmentDTO, len(list))
	for i, e := range list {
		out[i] = toEnvironmentDTO(e)
	}
	return ok(c, http.StatusOK, map[string]any{"environments": out})
}

// environmentCreateDTO is the body of POST /apiops/environments/.
type environmentCreateDTO struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	WebhookURL  string `json:"webhookUrl"`
}

func (s *Server) handleAPIEnvironmentCreate(c echo.Context) error {
	var in environmentCreateDTO
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	created, err := s.Environments.Create(c.Request().Context(), principal(c), environments.Input{
		Name: in.Name, Description: in.Description, WebhookURL: in.WebhookURL,
	})
	if err != nil {
		return err
	}
	body := map[string]any{"environment": toEnvironmentDTO(created.Environment)}
	if created.WebhookSecret != "" {
		body["webhookSecret"] = created.WebhookSecret
	}
	return ok(c, http.StatusOK, body)
}

// queryInt reads a positive integer query parameter with a default.
func queryInt(c echo.Context, name string, def, max int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, errs.FieldErrorf(name, "%s must be a whole number from 1 to %d.", name, max)
	}
	return n, nil
}

func (s *Server) handleAPIEnvironmentGet(c echo.Context) error {
	page, err := queryInt(c, "page", 1, 1_000_000)
	if err != nil {
		return err
	}
	size, err := queryInt(c, "size", 20, 200)
	if err != nil {
		return err
	}
	d, err := s.Environments.Get(c.Request().Context(), principal(c), c.Param("environmentName"), int64(size), int64((page-1)*size))
	if err != nil {
		return err
	}
	deps := make([]deploymentDTO, len(d.Deployments))
	for i, x := range d.Deployments {
		deps[i] = deploymentDTO{Revision: x.Revision, Actor: x.Actor, Action: x.Action, Project: x.Project,
			ObjectType: x.ObjectType, ObjectName: x.ObjectName, Success: x.Success, Message: x.Message,
			WebhookStatus: x.WebhookStatus, CreatedAt: x.CreatedAt}
	}
	return ok(c, http.StatusOK, map[string]any{
		"environment": toEnvironmentDTO(d.Environment), "deployments": deps, "deploymentCount": d.DeploymentsAll,
	})
}
