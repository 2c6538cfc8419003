package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/keyward/keyward/internal/environments"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/queries"
	"github.com/labstack/echo/v4"
)

var environmentsAPI = apiResource{
	Tag: openAPITag{Name: "Environments", Description: "Deployment targets, each with a revision that grows on every " +
		"deploy or undeploy and a deployment history."},
	Schemas: []apiComponent{
		{Name: "Environment", Type: environmentDTO{}, Docs: map[string]*schema{
			"revision": {Description: "Grows by one on every deploy or undeploy; 0 for a new environment."}}},
		{Name: "EnvironmentCreate", Type: environmentCreateDTO{}, Required: []string{"name"}, Docs: map[string]*schema{
			"name": nameDoc("The environment"), "description": {MaxLength: names.MaxDescription},
			"webhookUrl": {Format: "uri", MaxLength: 2000, Description: "An http:// or https:// URL told after each deploy, with an HMAC-signed body; empty for none."}}},
		{Name: "Deployment", Type: deploymentDTO{}, Docs: map[string]*schema{
			"action": {Enum: []any{"deploy", "undeploy"}}}},
	},
	Routes: []apiRoute{
		{Method: http.MethodGet, Path: "/apiops/environments/", Handler: handle((*Server).handleAPIEnvironmentList),
			Permission: "any user", ID: "listEnvironments", Summary: "List environments"},
		{Method: http.MethodPost, Path: "/apiops/environments/", Handler: handleBody((*Server).handleAPIEnvironmentCreate),
			Permission: "admins", ID: "createEnvironment", Summary: "Create an environment", Errors: []int{http.StatusBadRequest}},
		{Method: http.MethodGet, Path: "/apiops/environments/{environmentName}/", Handler: handle((*Server).handleAPIEnvironmentGet),
			Permission: "any user", ID: "getEnvironment", Summary: "Get an environment and a page of its deployment history, newest first",
			Params: append([]*openAPIParameter{environmentNameParam}, pageParams(20, 200)...),
			Errors: []int{http.StatusBadRequest, http.StatusNotFound}},
	},
}

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

func (s *Server) handleAPIEnvironmentList(c echo.Context) (listResponse[environmentDTO], error) {
	list, err := s.Environments.List(c.Request().Context(), principal(c))
	if err != nil {
		return listResponse[environmentDTO]{}, err
	}
	out := make([]environmentDTO, len(list))
	for i, e := range list {
		out[i] = toEnvironmentDTO(e)
	}
	return listOf(out), nil
}

// environmentCreateDTO is the body of POST /apiops/environments/.
type environmentCreateDTO struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	WebhookURL  string `json:"webhookUrl"`
}

// environmentCreatedResponse answers POST /apiops/environments/.
type environmentCreatedResponse struct {
	apiOK
	Environment   environmentDTO `json:"environment"`
	WebhookSecret string         `json:"webhookSecret,omitempty" doc:"The webhook's HMAC secret, only when a webhookUrl was given. It is shown this once and never again."`
}

func (s *Server) handleAPIEnvironmentCreate(c echo.Context, in environmentCreateDTO) (environmentCreatedResponse, error) {
	created, err := s.Environments.Create(c.Request().Context(), principal(c), environments.Input{
		Name: in.Name, Description: in.Description, WebhookURL: in.WebhookURL,
	})
	if err != nil {
		return environmentCreatedResponse{}, err
	}
	return environmentCreatedResponse{Environment: toEnvironmentDTO(created.Environment), WebhookSecret: created.WebhookSecret}, nil
}

// environmentResponse answers GET /apiops/environments/{environmentName}/.
type environmentResponse struct {
	apiOK
	Environment     environmentDTO  `json:"environment"`
	Deployments     []deploymentDTO `json:"deployments" doc:"This page of the deployment history, newest first."`
	DeploymentCount int64           `json:"deploymentCount" doc:"Deployments in the whole history."`
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

func (s *Server) handleAPIEnvironmentGet(c echo.Context) (environmentResponse, error) {
	page, err := queryInt(c, "page", 1, 1_000_000)
	if err != nil {
		return environmentResponse{}, err
	}
	size, err := queryInt(c, "size", 20, 200)
	if err != nil {
		return environmentResponse{}, err
	}
	d, err := s.Environments.Get(c.Request().Context(), principal(c), c.Param("environmentName"), int64(size), int64((page-1)*size))
	if err != nil {
		return environmentResponse{}, err
	}
	deps := make([]deploymentDTO, len(d.Deployments))
	for i, x := range d.Deployments {
		deps[i] = deploymentDTO{Revision: x.Revision, Actor: x.Actor, Action: x.Action, Project: x.Project,
			ObjectType: x.ObjectType, ObjectName: x.ObjectName, Success: x.Success, Message: x.Message,
			WebhookStatus: x.WebhookStatus, CreatedAt: x.CreatedAt}
	}
	return environmentResponse{Environment: toEnvironmentDTO(d.Environment), Deployments: deps, DeploymentCount: d.DeploymentsAll}, nil
}
