package handlers

import (
	"net/http"
	"strings"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

func (s *Server) projectListPage(c echo.Context, form views.Form) (*views.ProjectListPage, error) {
	list, err := s.Projects.List(c.Request().Context(), principal(c))
	if err != nil {
		return nil, err
	}
	page := &views.ProjectListPage{Form: form}
	page.Title, page.Nav = "Projects", "projects"
	for _, p := range list {
		page.Projects = append(page.Projects, views.ProjectRow{Name: p.Name, Description: p.Description,
			Permissions: access.Strings(p.Permissions.List()), CreatedAt: p.CreatedAt})
	}
	return page, nil
}

func (s *Server) handleProjectList(c echo.Context) error {
	page, err := s.projectListPage(c, views.NewForm())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handleProjectCreate(c echo.Context) error {
	name, desc := c.FormValue("name"), c.FormValue("description")
	_, err := s.Projects.Create(c.Request().Context(), principal(c), name, desc)
	if err == nil {
		if err := s.setFlash(c, "success", "Project "+name+" created."); err != nil {
			return err
		}
		return redirect(c, "/projects/"+name)
	}
	form := views.NewForm()
	form.Values["name"], form.Values["description"] = name, desc
	if err := formFail(&form, err); err != nil {
		return err
	}
	page, err := s.projectListPage(c, form)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusUnprocessableEntity, page)
}

// projectPage loads everything the project page shows.
func (s *Server) projectPage(c echo.Context, name string) (*views.ProjectPage, error) {
	ctx, p := c.Request().Context(), principal(c)
	pr, err := s.Projects.Get(ctx, p, name)
	if err != nil {
		return nil, err
	}
	members, err := s.Projects.Members(ctx, p, name)
	if err != nil {
		return nil, err
	}
	page := &views.ProjectPage{Name: pr.Name, Description: pr.Description, CreatedAt: pr.CreatedAt,
		MyPermissions: access.Strings(pr.Permissions.List()), AllPermissions: access.Strings(access.All),
		Presets: access.PresetNames, Form: views.NewForm(), DescForm: views.NewForm(), DeleteForm: views.NewForm()}
	page.Title, page.Nav = pr.Name, "projects"
	page.DescForm.Values["description"] = pr.Description
	for _, m := range members {
		page.Members = append(page.Members, views.MemberRow{Username: m.Username, Permissions: access.Strings(m.Permissions.List())})
	}
	if p.Admin {
		users, err := s.Auth.ListUsers(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			if !u.IsAdmin && !u.Disabled {
				page.Users = append(page.Users, u.Username)
			}
		}
	}
	return page, nil
}

func (s *Server) handleProjectShow(c echo.Context) error {
	page, err := s.projectPage(c, c.Param("project"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handleProjectUpdate(c echo.Context) error {
	name, desc := c.Param("project"), c.FormValue("description")
	err := s.Projects.UpdateDescription(c.Request().Context(), principal(c), name, desc)
	if err == nil {
		if err := s.setFlash(c, "success", "Description saved."); err != nil {
			return err
		}
		return redirect(c, "/projects/"+name)
	}
	page, perr := s.projectPage(c, name)
	if perr != nil {
		return perr
	}
	page.DescForm.Values["description"] = desc
	if err := formFail(&page.DescForm, err); err != nil {
		return err
	}
	return s.render(c, http.StatusUnprocessableEntity, page)
}

func (s *Server) handleProjectDelete(c echo.Context) error {
	name := c.Param("project")
	var err error
	if c.FormValue("confirm_name") != name {
		page, perr := s.projectPage(c, name)
		if perr != nil {
			return perr
		}
		page.DeleteForm.Message = "Type the project's name exactly to confirm the deletion."
		return s.render(c, http.StatusUnprocessableEntity, page)
	}
	if err = s.Projects.Delete(c.Request().Context(), principal(c), name); err == nil {
		if err := s.setFlash(c, "success", "Project "+name+" deleted."); err != nil {
			return err
		}
		return redirect(c, "/projects")
	}
	if !shownError(err) {
		return err
	}
	page, perr := s.projectPage(c, name)
	if perr != nil {
		return perr
	}
	if err := formFail(&page.DeleteForm, err); err != nil {
		return err
	}
	return s.render(c, http.StatusUnprocessableEntity, page)
}

// handleMemberSet adds, changes or (with no permission) removes a member.
func (s *Server) handleMemberSet(c echo.Context) error {
	name, username := c.Param("project"), c.FormValue("username")
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	names := form["permissions"]
	if preset := c.FormValue("preset"); preset != "" {
		ps, ok := access.Presets[preset]
		if !ok {
			names = []string{preset} // reported as an unknown permission below
		} else {
			names = append(names, access.Strings(ps)...)
		}
	}
	perms, err := access.ParseList(names, "permissions")
	if err == nil {
		err = s.Projects.SetMember(c.Request().Context(), principal(c), name, username, perms)
	}
	if err == nil {
		msg := "Permissions of " + username + " saved."
		if len(perms) == 0 {
			msg = username + " is no longer a member."
		}
		if err := s.setFlash(c, "success", msg); err != nil {
			return err
		}
		return redirect(c, "/projects/"+name)
	}
	if !shownError(err) {
		return err
	}
	page, perr := s.projectPage(c, name)
	if perr != nil {
		return perr
	}
	page.Form.Values["username"] = username
	if strings.HasPrefix(errs.FieldOf(err), "permissions") {
		page.Form.Fail("permissions", errs.MessageOf(err))
	} else if err := formFail(&page.Form, err); err != nil {
		return err
	}
	return s.render(c, http.StatusUnprocessableEntity, page)
}
