package handlers

// The consumers of the Key Sets area: organizations with their groups, and
// applications with Suspend / Reactivate and their subscriptions.

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keysets"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

func organizationPath(project, name string) string {
	return "/projects/" + project + "/organizations/" + name
}

func applicationPath(project, name string) string {
	return "/projects/" + project + "/applications/" + name
}

func (s *Server) organizationListPage(c echo.Context, project string) (*views.OrganizationListPage, error) {
	orgs, err := s.KeySets.ListOrganizations(c.Request().Context(), principal(c), project)
	if err != nil {
		return nil, err
	}
	manage, _, err := s.keySetPerms(c, project)
	if err != nil {
		return nil, err
	}
	page := &views.OrganizationListPage{Project: project, Tabs: views.KeySetTabs{Project: project, Active: "organizations"}, Organizations: orgs,
		CanManage: manage, Form: views.NewForm()}
	page.Title, page.Nav = "Organizations · "+project, "projects"
	return page, nil
}

func (s *Server) handleOrganizationList(c echo.Context) error {
	page, err := s.organizationListPage(c, c.Param("project"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handleOrganizationCreate(c echo.Context) error {
	project := c.Param("project")
	page, err := s.organizationListPage(c, project)
	if err != nil {
		return err
	}
	name, desc := strings.TrimSpace(c.FormValue("name")), c.FormValue("description")
	page.Form.Values["name"], page.Form.Values["description"] = name, desc
	if _, err := s.KeySets.CreateOrganization(c.Request().Context(), principal(c), project, name, desc); err != nil {
		status, err := refuseOnForm(&page.Form, err, "name", "description")
		if err != nil {
			return err
		}
		return s.render(c, status, page)
	}
	if err := s.setFlash(c, "success", "Organization "+name+" created."); err != nil {
		return err
	}
	return redirect(c, organizationPath(project, name))
}

func (s *Server) organizationPage(c echo.Context, project, name string) (*views.OrganizationPage, error) {
	ctx, p := c.Request().Context(), principal(c)
	o, err := s.KeySets.GetOrganization(ctx, p, project, name)
	if err != nil {
		return nil, err
	}
	manage, _, err := s.keySetPerms(c, project)
	if err != nil {
		return nil, err
	}
	page := &views.OrganizationPage{Project: project, Tabs: views.KeySetTabs{Project: project, Active: "organizations"}, Organization: o,
		CanManage: manage, Form: views.NewForm(), GroupForm: views.NewForm()}
	page.Title, page.Nav = o.Name+" · Organizations", "projects"
	page.Form.Values["description"] = o.Description
	apps, err := s.KeySets.ListApplications(ctx, p, project)
	for _, a := range apps {
		if a.OrganizationName == name {
			page.Applications = append(page.Applications, a)
		}
	}
	return page, err
}

func (s *Server) handleOrganizationShow(c echo.Context) error {
	page, err := s.organizationPage(c, c.Param("project"), c.Param("org"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

// handleOrganizationChange is every write of an organization's page: its
// description, delete, and its groups' create and delete (the path says
// which). A refusal answers the page with the message.
func (s *Server) handleOrganizationChange(c echo.Context) error {
	ctx, p, project, name := c.Request().Context(), principal(c), c.Param("project"), c.Param("org")
	path := c.Path()
	var err error
	var done, to = "", organizationPath(project, name)
	switch {
	case strings.HasSuffix(path, "/groups/:group/delete"):
		err, done = s.KeySets.DeleteGroup(ctx, p, project, name, c.Param("group")), "Group "+c.Param("group")+" deleted."
	case strings.HasSuffix(path, "/groups"):
		_, err = s.KeySets.CreateGroup(ctx, p, project, name, strings.TrimSpace(c.FormValue("name")))
		done = "Group " + strings.TrimSpace(c.FormValue("name")) + " added."
	case strings.HasSuffix(path, "/delete"):
		if err = secrets.CheckTypedName("Organization", name, c.FormValue("confirm_name")); err == nil {
			err = s.KeySets.DeleteOrganization(ctx, p, project, name)
		}
		done, to = "Organization "+name+" deleted.", "/projects/"+project+"/organizations"
	default:
		_, err = s.KeySets.UpdateOrganization(ctx, p, project, name, c.FormValue("description"))
		done = "Organization " + name + " saved."
	}
	if err != nil {
		if !shownError(err) {
			return err
		}
		page, perr := s.organizationPage(c, project, name)
		if perr != nil {
			return err
		}
		switch {
		case strings.HasSuffix(path, "/groups"):
			page.GroupForm.Values["name"] = c.FormValue("name")
			status, err := refuseOnForm(&page.GroupForm, err, "name")
			if err != nil {
				return err
			}
			return s.render(c, status, page)
		case strings.HasSuffix(path, "/:org"):
			page.Form.Values["description"] = c.FormValue("description")
			status, err := refuseOnForm(&page.Form, err, "description")
			if err != nil {
				return err
			}
			return s.render(c, status, page)
		}
		page.Error = errs.MessageOf(err)
		return s.render(c, refusalStatus(err), page)
	}
	if err := s.setFlash(c, "success", done); err != nil {
		return err
	}
	return redirect(c, to)
}

func (s *Server) applicationListPage(c echo.Context, project string) (*views.ApplicationListPage, error) {
	ctx, p := c.Request().Context(), principal(c)
	apps, err := s.KeySets.ListApplications(ctx, p, project)
	if err != nil {
		return nil, err
	}
	manage, _, err := s.keySetPerms(c, project)
	if err != nil {
		return nil, err
	}
	page := &views.ApplicationListPage{Project: project, Tabs: views.KeySetTabs{Project: project, Active: "applications"}, Applications: apps,
		CanManage: manage, Form: views.NewForm()}
	page.Title, page.Nav = "Applications · "+project, "projects"
	page.Organizations, err = s.KeySets.ListOrganizations(ctx, p, project)
	return page, err
}

func (s *Server) handleApplicationList(c echo.Context) error {
	page, err := s.applicationListPage(c, c.Param("project"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

// applicationInput reads the application form, and keeps it in form.
func applicationInput(c echo.Context, form *views.Form) keysets.ApplicationInput {
	in := keysets.ApplicationInput{Name: strings.TrimSpace(c.FormValue("name")), Description: c.FormValue("description"),
		Organization: c.FormValue("organization"), Group: c.FormValue("group")}
	form.Values["name"], form.Values["description"], form.Values["organization"], form.Values["group"] = in.Name, in.Description, in.Organization, in.Group
	return in
}

var applicationFields = []string{"name", "description", "organization", "group"}

func (s *Server) handleApplicationCreate(c echo.Context) error {
	project := c.Param("project")
	page, err := s.applicationListPage(c, project)
	if err != nil {
		return err
	}
	a, err := s.KeySets.CreateApplication(c.Request().Context(), principal(c), project, applicationInput(c, &page.Form))
	if err != nil {
		status, err := refuseOnForm(&page.Form, err, applicationFields...)
		if err != nil {
			return err
		}
		return s.render(c, status, page)
	}
	if err := s.setFlash(c, "success", "Application "+a.Name+" created in organization "+a.OrganizationName+"."); err != nil {
		return err
	}
	return redirect(c, applicationPath(project, a.Name))
}

func (s *Server) applicationPage(c echo.Context, project, name string) (*views.ApplicationPage, error) {
	ctx, p := c.Request().Context(), principal(c)
	a, err := s.KeySets.GetApplication(ctx, p, project, name)
	if err != nil {
		return nil, err
	}
	manage, deploy, err := s.keySetPerms(c, project)
	if err != nil {
		return nil, err
	}
	page := &views.ApplicationPage{Project: project, Tabs: views.KeySetTabs{Project: project, Active: "applications"}, Application: a,
		CanManage: manage, CanDeploy: deploy, Form: views.NewForm()}
	page.Title, page.Nav = a.Name+" · Applications", "projects"
	page.Form.Values["description"], page.Form.Values["organization"], page.Form.Values["group"] = a.Description, a.OrganizationName, a.GroupName
	if page.Subscriptions, err = s.KeySets.ListSubscriptions(ctx, p, project, name); err != nil {
		return nil, err
	}
	list, err := s.KeySets.List(ctx, p, project, keysets.Filter{Application: name, Size: keysets.MaxPageSize})
	if err != nil {
		return nil, err
	}
	page.KeySets = list.Items
	page.Organizations, err = s.KeySets.ListOrganizations(ctx, p, project)
	return page, err
}

func (s *Server) handleApplicationShow(c echo.Context) error {
	page, err := s.applicationPage(c, c.Param("project"), c.Param("app"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

// handleApplicationChange is every write of an application's page: edit,
// suspend, reactivate, unsubscribe and delete (the path says which). A
// refusal answers the page with the message.
func (s *Server) handleApplicationChange(c echo.Context) error {
	ctx, p, project, name := c.Request().Context(), principal(c), c.Param("project"), c.Param("app")
	path := c.Path()
	var err error
	done, to := "", applicationPath(project, name)
	form := views.NewForm()
	switch {
	case strings.HasSuffix(path, "/suspend"):
		_, err = s.KeySets.SuspendApplication(ctx, p, project, name)
		done = "Application " + name + " suspended, with its active key sets."
	case strings.HasSuffix(path, "/reactivate"):
		_, err = s.KeySets.ReactivateApplication(ctx, p, project, name)
		done = "Application " + name + " reactivated, with the key sets its suspension suspended."
	case strings.HasSuffix(path, "/subscriptions/:id/delete"):
		id, perr := strconv.ParseInt(c.Param("id"), 10, 64)
		if perr != nil {
			return errs.Errorf(errs.NotFound, "Application %q has no subscription %s.", name, c.Param("id"))
		}
		err, done = s.KeySets.Unsubscribe(ctx, p, project, name, id), "Subscription #"+c.Param("id")+" removed."
	case strings.HasSuffix(path, "/delete"):
		if err = secrets.CheckTypedName("Application", name, c.FormValue("confirm_name")); err == nil {
			err = s.KeySets.DeleteApplication(ctx, p, project, name)
		}
		done, to = "Application "+name+" deleted.", "/projects/"+project+"/applications"
	default:
		in := applicationInput(c, &form)
		in.Name = name
		_, err = s.KeySets.UpdateApplication(ctx, p, project, name, in)
		done = "Application " + name + " saved."
	}
	if err != nil {
		if !shownError(err) {
			return err
		}
		page, perr := s.applicationPage(c, project, name)
		if perr != nil {
			return err
		}
		if strings.HasSuffix(path, "/:app") {
			page.Form = form
			status, err := refuseOnForm(&page.Form, err, applicationFields...)
			if err != nil {
				return err
			}
			return s.render(c, status, page)
		}
		page.Error = errs.MessageOf(err)
		return s.render(c, refusalStatus(err), page)
	}
	if err := s.setFlash(c, "success", done); err != nil {
		return err
	}
	return redirect(c, to)
}
