package handlers

import (
	"net/http"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/queries"
	"github.com/labstack/echo/v4"
)

// projectDTO is a project in API responses.
type projectDTO struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	Permissions []string  `json:"permissions,omitempty"`
}

func toProjectDTO(p queries.Project, perms access.Set) projectDTO {
	return projectDTO{Name: p.Name, Description: p.Description, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		Permissions: access.Strings(perms.List())}
}

func (s *Server) handleAPIProjectList(c echo.Context) error {
	list, err := s.Projects.List(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	out := make([]projectDTO, len(list))
	for i, p := range list {
		out[i] = toProjectDTO(p.Project, p.Permissions)
	}
	return ok(c, http.StatusOK, map[string]any{"projects": out})
}

// projectCreateDTO is the body of POST /apiops/projects/.
type projectCreateDTO struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (s *Server) handleAPIProjectCreate(c echo.Context) error {
	var in projectCreateDTO
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	p, err := s.Projects.Create(c.Request().Context(), principal(c), in.Name, in.Description)
	if err != nil {
		return err
	}
	return ok(c, http.StatusOK, map[string]any{"project": toProjectDTO(p, nil)})
}

func (s *Server) handleAPIProjectGet(c echo.Context) error {
	p, err := s.Projects.Get(c.Request().Context(), principal(c), c.Param("projectName"))
	if err != nil {
		return err
	}
	return ok(c, http.StatusOK, map[string]any{"project": toProjectDTO(p.Project, p.Permissions)})
}

func (s *Server) handleAPIProjectDelete(c echo.Context) error {
	if err := s.Projects.Delete(c.Request().Context(), principal(c), c.Param("projectName")); err != nil {
		return err
	}
	return ok(c, http.StatusOK, nil)
}

// memberDTO is a project member in API responses.
type memberDTO struct {
	Username    string   `json:"username"`
	Permissions []string `json:"permissions"`
}

func (s *Server) handleAPIMemberList(c echo.Context) error {
	members, err := s.Projects.Members(c.Request().Context(), principal(c), c.Param("projectName"))
	if err != nil {
		return err
	}
	out := make([]memberDTO, len(members))
	for i, m := range members {
		out[i] = memberDTO{Username: m.Username, Permissions: access.Strings(m.Permissions.List())}
	}
	return ok(c, http.StatusOK, map[string]any{"members": out})
}

// memberPutDTO is the body of PUT .../members/{username}/; an empty list
// removes the member.
type memberPutDTO struct {
	Permissions []string `json:"permissions"`
}

func (s *Server) handleAPIMemberPut(c echo.Context) error {
	var in memberPutDTO
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	perms, err := access.ParseList(in.Permissions, "permissions")
	if err != nil {
		return err
	}
	project, username := c.Param("projectName"), c.Param("username")
	if err := s.Projects.SetMember(c.Request().Context(), principal(c), project, username, perms); err != nil {
		return err
	}
	return ok(c, http.StatusOK, map[string]any{"member": memberDTO{Username: username, Permissions: access.Strings(perms.List())}})
}
