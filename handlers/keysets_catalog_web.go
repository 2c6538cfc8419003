package handlers

// The API Catalog (each API's page with Subscribe) and the policy
// templates, in the Key Sets area.

import (
	"net/http"
	"strings"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keysets"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

func apiPath(project, name string) string { return "/projects/" + project + "/api-catalog/" + name }

// apiFields are the API form's inputs, by the names the service's field
// errors use.
var apiFields = []string{"name", "description", "environments", "authTypes", "policyTemplate"}

// apiInput reads the API form, and keeps what was posted in form.
func apiInput(c echo.Context, form *views.Form) keysets.APIInput {
	params, _ := c.FormParams()
	in := keysets.APIInput{Name: strings.TrimSpace(c.FormValue("name")), Description: c.FormValue("description"),
		Environments: params["environments"], AuthTypes: params["authTypes"], PolicyTemplate: c.FormValue("policyTemplate")}
	form.Values["name"], form.Values["description"], form.Values["policyTemplate"] = in.Name, in.Description, in.PolicyTemplate
	form.Values["environments"], form.Values["authTypes"] = strings.Join(in.Environments, ","), strings.Join(in.AuthTypes, ",")
	return in
}

// policyNames lists the project's policy templates, for the API form.
func (s *Server) policyNames(c echo.Context, project string) ([]string, error) {
	pols, err := s.KeySets.ListPolicies(c.Request().Context(), principal(c), project)
	var out []string
	for _, p := range pols {
		out = append(out, p.Name)
	}
	return out, err
}

func (s *Server) apiCatalogPage(c echo.Context, project string) (*views.APICatalogPage, error) {
	apis, err := s.KeySets.ListAPIs(c.Request().Context(), principal(c), project)
	if err != nil {
		return nil, err
	}
	manage, _, err := s.keySetPerms(c, project)
	if err != nil {
		return nil, err
	}
	page := &views.APICatalogPage{Project: project, Tabs: views.KeySetTabs{Project: project, Active: "apis"}, APIs: apis, CanManage: manage,
		Form: views.NewForm(), AuthTypes: keysets.AuthTypes}
	page.Title, page.Nav = "API Catalog · "+project, "projects"
	if page.Policies, err = s.policyNames(c, project); err != nil {
		return nil, err
	}
	page.Environments, err = s.environmentNames(c)
	return page, err
}

func (s *Server) handleAPICatalog(c echo.Context) error {
	page, err := s.apiCatalogPage(c, c.Param("project"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handleAPICreate(c echo.Context) error {
	project := c.Param("project")
	page, err := s.apiCatalogPage(c, project)
	if err != nil {
		return err
	}
	in := apiInput(c, &page.Form)
	a, err := s.KeySets.CreateAPI(c.Request().Context(), principal(c), project, in)
	if err != nil {
		status, err := refuseOnForm(&page.Form, err, apiFields...)
		if err != nil {
			return err
		}
		return s.render(c, status, page)
	}
	if err := s.setFlash(c, "success", "API "+a.Name+" added to the catalog, with policy template "+a.PolicyTemplate+"."); err != nil {
		return err
	}
	return redirect(c, apiPath(project, a.Name))
}

// apiPage loads an API's catalog page, its edit form filled in.
func (s *Server) apiPage(c echo.Context, project, name string) (*views.APIPage, error) {
	ctx, p := c.Request().Context(), principal(c)
	a, err := s.KeySets.GetAPI(ctx, p, project, name)
	if err != nil {
		return nil, err
	}
	pol, err := s.KeySets.GetPolicy(ctx, p, project, a.PolicyTemplate)
	if err != nil {
		return nil, err
	}
	manage, deploy, err := s.keySetPerms(c, project)
	if err != nil {
		return nil, err
	}
	page := &views.APIPage{Project: project, Tabs: views.KeySetTabs{Project: project, Active: "apis"}, API: a, Policy: pol, CanManage: manage,
		CanSubscribe: deploy, Form: views.NewForm(), Subscribe: views.NewForm(), AuthTypes: keysets.AuthTypes}
	page.Title, page.Nav = a.Name+" · API Catalog", "projects"
	page.Form.Values["description"], page.Form.Values["policyTemplate"] = a.Description, a.PolicyTemplate
	page.Form.Values["environments"], page.Form.Values["authTypes"] = strings.Join(a.Environments, ","), strings.Join(a.AuthTypes, ",")
	if page.Policies, err = s.policyNames(c, project); err != nil {
		return nil, err
	}
	if page.Environments, err = s.environmentNames(c); err != nil {
		return nil, err
	}
	apps, err := s.KeySets.ListApplications(ctx, p, project)
	for _, app := range apps {
		page.Applications = append(page.Applications, app.Name)
	}
	return page, err
}

func (s *Server) handleAPIShow(c echo.Context) error {
	page, err := s.apiPage(c, c.Param("project"), c.Param("api"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handleAPIUpdate(c echo.Context) error {
	project, name := c.Param("project"), c.Param("api")
	page, err := s.apiPage(c, project, name)
	if err != nil {
		return err
	}
	in := apiInput(c, &page.Form)
	if _, err := s.KeySets.UpdateAPI(c.Request().Context(), principal(c), project, name, in); err != nil {
		status, err := refuseOnForm(&page.Form, err, apiFields...)
		if err != nil {
			return err
		}
		return s.render(c, status, page)
	}
	if err := s.setFlash(c, "success", "API "+name+" saved."); err != nil {
		return err
	}
	return redirect(c, apiPath(project, name))
}

func (s *Server) handleAPIDelete(c echo.Context) error {
	project, name := c.Param("project"), c.Param("api")
	return deleteConfirmed(s, c, "API", name,
		func() error { return s.KeySets.DeleteAPI(c.Request().Context(), principal(c), project, name) },
		func() (*views.APIPage, error) { return s.apiPage(c, project, name) },
		func(pg *views.APIPage, msg string) { pg.DeleteError = msg },
		"API "+name+" deleted from the catalog.", "/projects/"+project+"/api-catalog")
}

// handleSubscribe subscribes an application to the API in an environment
// and answers the API's page with the key sets created or reused, and
// the new ones' values: shown this once.
func (s *Server) handleSubscribe(c echo.Context) error {
	project, name := c.Param("project"), c.Param("api")
	page, err := s.apiPage(c, project, name)
	if err != nil {
		return err
	}
	app, env := c.FormValue("application"), c.FormValue("environment")
	page.Subscribe.Values["application"], page.Subscribe.Values["environment"] = app, env
	var res keysets.SubscribeResult
	if app == "" {
		err = errs.FieldErrorf("application", "Choose the application to subscribe.")
	} else {
		res, err = s.KeySets.Subscribe(c.Request().Context(), principal(c), project, app, keysets.SubscribeInput{API: name, Environment: env})
	}
	if err != nil {
		status, err := refuseOnForm(&page.Subscribe, err, "application", "environment")
		if err != nil {
			return err
		}
		return s.render(c, status, page)
	}
	if page, err = s.apiPage(c, project, name); err != nil {
		return err
	}
	page.Subscribed = &res
	c.Response().Header().Set("HX-Push-Url", apiPath(project, name))
	return s.render(c, http.StatusOK, page)
}
