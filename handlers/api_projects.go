package handlers

import (
	"net/http"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/names"
	"github.com/keyward/keyward/queries"
	"github.com/labstack/echo/v4"
)

var projectsAPI = apiResource{
	Tag: openAPITag{Name: "Projects", Description: "Projects are the namespaces every key, certificate, JWK, signing key " +
		"and key set belongs to; users are members of projects with permissions."},
	Schemas: []apiComponent{
		{Name: "Project", Type: projectDTO{}, Docs: map[string]*schema{
			"permissions": {Description: "What the token's user may do in the project."}}},
		{Name: "ProjectCreate", Type: projectCreateDTO{}, Required: []string{"name"},
			Docs: map[string]*schema{"name": nameDoc("The project"), "description": {MaxLength: names.MaxDescription}}},
		{Name: "Member", Type: memberDTO{}},
		{Name: "MemberPut", Type: memberPutDTO{}, Docs: map[string]*schema{
			"permissions": {Items: ref("Permission"), Description: "The member's permissions; an empty list removes the member, null is refused."}}},
	},
	Routes: []apiRoute{
		{Method: http.MethodGet, Path: "/apiops/projects/", Handler: handle((*Server).handleAPIProjectList),
			Permission: "any user", ID: "listProjects", Summary: "List the projects you can see",
			Description: "Admins see every project; other users the projects they are members of."},
		{Method: http.MethodPost, Path: "/apiops/projects/", Handler: handleBody((*Server).handleAPIProjectCreate),
			Permission: "admins", ID: "createProject", Summary: "Create a project", Errors: []int{http.StatusBadRequest}},
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/", Handler: handle((*Server).handleAPIProjectGet),
			Permission: "admins and members", ID: "getProject", Summary: "Get a project",
			Params: []*openAPIParameter{projectNameParam}, Errors: []int{http.StatusNotFound}},
		{Method: http.MethodDelete, Path: "/apiops/projects/{projectName}/", Handler: handle((*Server).handleAPIProjectDelete),
			Permission: "admins", ID: "deleteProject", Summary: "Delete an empty project",
			Description: "Refused with bad_request while the project holds items; its memberships go with it.",
			Params:      []*openAPIParameter{projectNameParam}, Errors: []int{http.StatusBadRequest, http.StatusNotFound}},
		{Method: http.MethodGet, Path: "/apiops/projects/{projectName}/members/", Handler: handle((*Server).handleAPIMemberList),
			Permission: "admins and members", ID: "listMembers", Summary: "List a project's members",
			Params: []*openAPIParameter{projectNameParam}, Errors: []int{http.StatusNotFound}},
		{Method: http.MethodPut, Path: "/apiops/projects/{projectName}/members/{username}/", Handler: handleBody((*Server).handleAPIMemberPut),
			Permission: "admins", ID: "setMember", Summary: "Set a user's permissions in a project",
			Params: []*openAPIParameter{projectNameParam, pathParam("username", "The user's name.", &schema{Type: "string"})},
			Errors: []int{http.StatusBadRequest, http.StatusNotFound}},
	},
}

// projectDTO is a project in API responses.
type projectDTO struct {
	Name        string              `json:"name"`
	Description string              `json:"description"`
	CreatedAt   time.Time           `json:"createdAt"`
	UpdatedAt   time.Time           `json:"updatedAt"`
	Permissions []access.Permission `json:"permissions,omitempty"`
}

func toProjectDTO(p queries.Project, perms access.Set) projectDTO {
	return projectDTO{Name: p.Name, Description: p.Description, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		Permissions: perms.List()}
}

// projectResponse answers a read or create of one project.
type projectResponse struct {
	apiOK
	Project projectDTO `json:"project"`
}

func (s *Server) handleAPIProjectList(c echo.Context) (listResponse[projectDTO], error) {
	list, err := s.Projects.List(c.Request().Context(), principal(c))
	if err != nil {
		return listResponse[projectDTO]{}, err
	}
	out := make([]projectDTO, len(list))
	for i, p := range list {
		out[i] = toProjectDTO(p.Project, p.Permissions)
	}
	return listOf(out), nil
}

// projectCreateDTO is the body of POST /apiops/projects/.
type projectCreateDTO struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (s *Server) handleAPIProjectCreate(c echo.Context, in projectCreateDTO) (projectResponse, error) {
	p, err := s.Projects.Create(c.Request().Context(), principal(c), in.Name, in.Description)
	if err != nil {
		return projectResponse{}, err
	}
	return projectResponse{Project: toProjectDTO(p, nil)}, nil
}

func (s *Server) handleAPIProjectGet(c echo.Context) (projectResponse, error) {
	p, err := s.Projects.Get(c.Request().Context(), principal(c), c.Param("projectName"))
	if err != nil {
		return projectResponse{}, err
	}
	return projectResponse{Project: toProjectDTO(p.Project, p.Permissions)}, nil
}

func (s *Server) handleAPIProjectDelete(c echo.Context) (apiOK, error) {
	return apiOK{}, s.Projects.Delete(c.Request().Context(), principal(c), c.Param("projectName"))
}

// memberDTO is a project member in API responses.
type memberDTO struct {
	Username    string              `json:"username"`
	Permissions []access.Permission `json:"permissions"`
}

// memberResponse answers PUT .../members/{username}/.
type memberResponse struct {
	apiOK
	Member memberDTO `json:"member"`
}

func (s *Server) handleAPIMemberList(c echo.Context) (listResponse[memberDTO], error) {
	members, err := s.Projects.Members(c.Request().Context(), principal(c), c.Param("projectName"))
	if err != nil {
		return listResponse[memberDTO]{}, err
	}
	out := make([]memberDTO, len(members))
	for i, m := range members {
		out[i] = memberDTO{Username: m.Username, Permissions: nonNil(m.Permissions.List())}
	}
	return listOf(out), nil
}

// memberPutDTO is the body of PUT .../members/{username}/; an empty list
// removes the member.
type memberPutDTO struct {
	Permissions requiredList[string] `json:"permissions"`
}

func (s *Server) handleAPIMemberPut(c echo.Context, in memberPutDTO) (memberResponse, error) {
	perms, err := access.ParseList(in.Permissions.Items, "permissions")
	if err != nil {
		return memberResponse{}, err
	}
	project, username := c.Param("projectName"), c.Param("username")
	if err := s.Projects.SetMember(c.Request().Context(), principal(c), project, username, perms); err != nil {
		return memberResponse{}, err
	}
	return memberResponse{Member: memberDTO{Username: username, Permissions: nonNil(perms.List())}}, nil
}
