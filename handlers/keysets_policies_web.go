package handlers

// The policy templates of the Key Sets area: list, create, edit, delete.

import (
	"net/http"
	"strings"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keysets"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

func policyPath(project, name string) string {
	return "/projects/" + project + "/policy-templates/" + name
}

var policyFields = []string{"name", "description", "expiration", "rotation", "gracePeriod"}

// refusalStatus is the status of a refused delete or action shown on its
// page: 422 for bad input (a wrong typed name), classify's otherwise.
func refusalStatus(err error) int {
	if errs.CodeOf(err) == errs.Invalid && errs.FieldOf(err) != "" {
		return http.StatusUnprocessableEntity
	}
	status, _, _ := classify(err)
	return status
}

// deleteConfirmed is a delete form confirmed by the typed name (what is the
// kind, "API"): del runs once the name matches; a refusal re-renders the
// object's page with the message beside the form (fail sets it), and
// success goes to the list at to with the flash done.
func deleteConfirmed[P views.Page](s *Server, c echo.Context, what, name string, del func() error, page func() (P, error), fail func(P, string), done, to string) error {
	err := secrets.CheckTypedName(what, name, c.FormValue("confirm_name"))
	if err == nil {
		err = del()
	}
	if err != nil {
		if !shownError(err) {
			return err
		}
		pg, perr := page()
		if perr != nil {
			return err
		}
		fail(pg, errs.MessageOf(err))
		return s.render(c, refusalStatus(err), pg)
	}
	if err := s.setFlash(c, "success", done); err != nil {
		return err
	}
	return redirect(c, to)
}

// policyInput reads the policy form, and keeps what was posted in form.
func policyInput(c echo.Context, form *views.Form) keysets.PolicyInput {
	in := keysets.PolicyInput{Name: strings.TrimSpace(c.FormValue("name")), Description: c.FormValue("description"), Expiration: c.FormValue("expiration"),
		Rotation: c.FormValue("rotation"), GracePeriod: c.FormValue("gracePeriod"),
		ManualRegeneration: c.FormValue("manualRegeneration") == "true", ActivationRequired: c.FormValue("activationRequired") == "true"}
	for _, f := range policyFields {
		form.Values[f] = c.FormValue(f)
	}
	form.Values["manualRegeneration"], form.Values["activationRequired"] = c.FormValue("manualRegeneration"), c.FormValue("activationRequired")
	return in
}

func (s *Server) policyListPage(c echo.Context, project string) (*views.PolicyListPage, error) {
	pols, err := s.KeySets.ListPolicies(c.Request().Context(), principal(c), project)
	if err != nil {
		return nil, err
	}
	manage, _, err := s.keySetPerms(c, project)
	if err != nil {
		return nil, err
	}
	page := &views.PolicyListPage{Project: project, Tabs: views.KeySetTabs{Project: project, Active: "policies"}, Policies: pols, CanManage: manage, Form: views.NewForm()}
	page.Title, page.Nav = "Policy templates · "+project, "projects"
	return page, nil
}

func (s *Server) handlePolicyList(c echo.Context) error {
	page, err := s.policyListPage(c, c.Param("project"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handlePolicyCreate(c echo.Context) error {
	project := c.Param("project")
	page, err := s.policyListPage(c, project)
	if err != nil {
		return err
	}
	pol, err := s.KeySets.CreatePolicy(c.Request().Context(), principal(c), project, policyInput(c, &page.Form))
	if err != nil {
		status, err := refuseOnForm(&page.Form, err, policyFields...)
		if err != nil {
			return err
		}
		return s.render(c, status, page)
	}
	if err := s.setFlash(c, "success", "Policy template "+pol.Name+" created: "+pol.Summary()+"."); err != nil {
		return err
	}
	return redirect(c, policyPath(project, pol.Name))
}

// policyPage loads a policy template's page, its edit form filled in.
func (s *Server) policyPage(c echo.Context, project, name string) (*views.PolicyPage, error) {
	ctx, p := c.Request().Context(), principal(c)
	pol, err := s.KeySets.GetPolicy(ctx, p, project, name)
	if err != nil {
		return nil, err
	}
	manage, _, err := s.keySetPerms(c, project)
	if err != nil {
		return nil, err
	}
	page := &views.PolicyPage{Project: project, Tabs: views.KeySetTabs{Project: project, Active: "policies"}, Policy: pol, CanManage: manage, Form: views.NewForm()}
	page.Title, page.Nav = pol.Name+" · Policy templates", "projects"
	v := page.Form.Values
	v["description"], v["expiration"], v["rotation"], v["gracePeriod"] = pol.Description, views.DurationValue(pol.ExpirationSeconds),
		views.DurationValue(pol.RotationSeconds), views.DurationValue(pol.GracePeriodSeconds)
	if pol.ManualRegeneration {
		v["manualRegeneration"] = "true"
	}
	if pol.ActivationRequired {
		v["activationRequired"] = "true"
	}
	apis, err := s.KeySets.ListAPIs(ctx, p, project)
	for _, a := range apis {
		if a.PolicyTemplate == name {
			page.UsedBy = append(page.UsedBy, a.Name)
		}
	}
	return page, err
}

func (s *Server) handlePolicyShow(c echo.Context) error {
	page, err := s.policyPage(c, c.Param("project"), c.Param("policy"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handlePolicyUpdate(c echo.Context) error {
	project, name := c.Param("project"), c.Param("policy")
	page, err := s.policyPage(c, project, name)
	if err != nil {
		return err
	}
	pol, err := s.KeySets.UpdatePolicy(c.Request().Context(), principal(c), project, name, policyInput(c, &page.Form))
	if err != nil {
		status, err := refuseOnForm(&page.Form, err, policyFields...)
		if err != nil {
			return err
		}
		return s.render(c, status, page)
	}
	if err := s.setFlash(c, "success", "Policy template "+name+" saved: "+pol.Summary()+"."); err != nil {
		return err
	}
	return redirect(c, policyPath(project, name))
}

func (s *Server) handlePolicyDelete(c echo.Context) error {
	project, name := c.Param("project"), c.Param("policy")
	return deleteConfirmed(s, c, "Policy template", name,
		func() error { return s.KeySets.DeletePolicy(c.Request().Context(), principal(c), project, name) },
		func() (*views.PolicyPage, error) { return s.policyPage(c, project, name) },
		func(pg *views.PolicyPage, msg string) { pg.DeleteError = msg },
		"Policy template "+name+" deleted.", "/projects/"+project+"/policy-templates")
}
