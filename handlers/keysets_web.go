package handlers

// The Key Sets area's pages (seed 003): the Keys list with its filters and
// the key set details with the lifecycle actions and Retrieve
// Credentials. The catalog pages are in keysets_catalog_web.go, the
// organizations and applications in keysets_consumers_web.go;
// internal/keysets does the work.

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keysets"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

func keySetPath(project, name string) string { return "/projects/" + project + "/key-sets/" + name }

// keySetPerms are the user's KEY_SETS permissions in project: manage, and
// manage with deploy (what changes what gateways verify).
func (s *Server) keySetPerms(c echo.Context, project string) (manage, deploy bool, err error) {
	perms, err := s.projectPerms(c, project)
	if err != nil {
		return false, false, err
	}
	return perms[access.KeySetsManage], perms[access.KeySetsManage] && perms[access.KeySetsDeploy], nil
}

// refuseOnForm puts a refusal beside the field of form it names (one of
// fields, "name[1]" counting as "name") or above the form, and returns the
// status to answer: 422 for bad input. Errors not for the page (a missing
// permission, an internal error, an unknown object) come back as they are.
func refuseOnForm(form *views.Form, err error, fields ...string) (int, error) {
	if !shownError(err) {
		return 0, err
	}
	status, _, _ := classify(err)
	if errs.CodeOf(err) == errs.Invalid {
		status = http.StatusUnprocessableEntity
	}
	field, _, _ := strings.Cut(errs.FieldOf(err), "[")
	if !slices.Contains(fields, field) {
		field = ""
	}
	form.Fail(field, errs.MessageOf(err))
	return status, nil
}

func (s *Server) handleKeySetList(c echo.Context) error {
	ctx, p, project := c.Request().Context(), principal(c), c.Param("project")
	page := &views.KeySetListPage{Project: project, Tabs: views.KeySetTabs{Project: project, Active: "keys"}, Filter: views.NewForm(),
		Statuses: keysets.Statuses, AuthTypes: keysets.AuthTypes}
	page.Title, page.Nav = "Key Sets · "+project, "projects"
	v := c.QueryParams()
	for _, name := range keysets.FilterFields {
		page.Filter.Values[name] = strings.TrimSpace(v.Get(name))
	}
	status := http.StatusOK
	f, err := keysets.ParseFilter(v)
	var list keysets.Page
	if err == nil {
		list, err = s.KeySets.List(ctx, p, project, f)
	}
	if errs.Is(err, errs.Invalid) {
		page.Filter.Fail(errs.FieldOf(err), errs.MessageOf(err))
		status = http.StatusUnprocessableEntity // keySetChoices still checks the project is visible
	} else if err != nil {
		return err
	}
	page.Items = list.Items
	filters := map[string]string{}
	for k, v := range page.Filter.Values {
		if k != "page" {
			filters[k] = v
		}
	}
	page.Pager = views.NewPager(list.Total, max(list.Page, 1), max(list.Size, 1), filters)
	if err := s.keySetChoices(c, page); err != nil {
		return err
	}
	return s.render(c, status, page)
}

// keySetChoices fills the list's filter choices.
func (s *Server) keySetChoices(c echo.Context, page *views.KeySetListPage) error {
	ctx, p := c.Request().Context(), principal(c)
	apis, err := s.KeySets.ListAPIs(ctx, p, page.Project)
	if err != nil {
		return err
	}
	for _, a := range apis {
		page.APIs = append(page.APIs, a.Name)
	}
	if page.Environments, err = s.environmentNames(c); err != nil {
		return err
	}
	orgs, err := s.KeySets.ListOrganizations(ctx, p, page.Project)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		page.Organizations = append(page.Organizations, o.Name)
		for _, g := range o.Groups {
			if !slices.Contains(page.Groups, g) {
				page.Groups = append(page.Groups, g)
			}
		}
	}
	slices.Sort(page.Groups)
	apps, err := s.KeySets.ListApplications(ctx, p, page.Project)
	for _, a := range apps {
		page.Applications = append(page.Applications, a.Name)
	}
	return err
}

// keySetPage loads the key set details.
func (s *Server) keySetPage(c echo.Context, project, name string) (*views.KeySetPage, error) {
	d, err := s.KeySets.Get(c.Request().Context(), principal(c), project, name)
	if err != nil {
		return nil, err
	}
	manage, deploy, err := s.keySetPerms(c, project)
	if err != nil {
		return nil, err
	}
	page := &views.KeySetPage{Project: project, Tabs: views.KeySetTabs{Project: project, Active: "keys"}, KeySet: d, CanManage: manage, CanAct: deploy}
	page.Title, page.Nav = d.Name+" · Key Sets", "projects"
	return page, nil
}

func (s *Server) handleKeySetShow(c echo.Context) error {
	page, err := s.keySetPage(c, c.Param("project"), c.Param("keySet"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

// keySetDone says what an action did, for the flash.
var keySetDone = map[string]string{keysets.ActionActivate: "activated", keysets.ActionSuspend: "suspended", keysets.ActionRevoke: "revoked"}

// handleKeySetAction runs Activate, Suspend, Regenerate or Revoke (the
// last part of the path). A refusal answers the details again with the
// message and the actions that apply, so it can be retried; a wrong typed
// name opens the revocation dialog again. Regenerate answers the page with
// the new key's values, once.
func (s *Server) handleKeySetAction(c echo.Context) error {
	ctx, p, project, name := c.Request().Context(), principal(c), c.Param("project"), c.Param("keySet")
	action := c.Path()[strings.LastIndex(c.Path(), "/")+1:]
	var err error
	var creds keysets.Credentials
	switch action {
	case keysets.ActionActivate:
		_, err = s.KeySets.Activate(ctx, p, project, name)
	case keysets.ActionSuspend:
		_, err = s.KeySets.Suspend(ctx, p, project, name)
	case keysets.ActionRevoke:
		_, err = s.KeySets.Revoke(ctx, p, project, name, c.FormValue("confirm_name"))
	case keysets.ActionRegenerate:
		var seq int64
		if v := c.FormValue("key"); v != "" {
			if seq, err = strconv.ParseInt(v, 10, 64); err != nil {
				err = errs.FieldErrorf("key", "key must be the number of the LATEST key.")
			}
		}
		if err == nil {
			_, creds, err = s.KeySets.Regenerate(ctx, p, project, name, seq)
		}
	}
	if err != nil {
		if !shownError(err) {
			return err
		}
		page, perr := s.keySetPage(c, project, name)
		if perr != nil {
			return err
		}
		status, _, _ := classify(err)
		if errs.FieldOf(err) == "confirm" {
			page.ConfirmError, status = errs.MessageOf(err), http.StatusUnprocessableEntity
		} else {
			page.ActionError = errs.MessageOf(err)
		}
		return s.render(c, status, page)
	}
	if action == keysets.ActionRegenerate {
		page, err := s.keySetPage(c, project, name)
		if err != nil {
			return err
		}
		page.Regenerated = &creds
		page.Flash = views.Flash{Kind: "success", Message: "Key set " + name + " regenerated: key #" + strconv.FormatInt(page.LatestSeq(), 10) + " replaces the previous key."}
		c.Response().Header().Set("HX-Push-Url", keySetPath(project, name))
		return s.render(c, http.StatusOK, page)
	}
	if err := s.setFlash(c, "success", "Key set "+name+" "+keySetDone[action]+"."); err != nil {
		return err
	}
	return redirect(c, keySetPath(project, name))
}

// handleKeySetCredentials is Retrieve Credentials: the details with the
// values of the LATEST key (and of keys in their grace period), shown on
// this answer only. KEY_SETS:MANAGE; audited by the service.
func (s *Server) handleKeySetCredentials(c echo.Context) error {
	project, name := c.Param("project"), c.Param("keySet")
	creds, err := s.KeySets.RetrieveCredentials(c.Request().Context(), principal(c), project, name)
	if err != nil {
		return err
	}
	page, err := s.keySetPage(c, project, name)
	if err != nil {
		return err
	}
	page.Retrieved = creds
	c.Response().Header().Set("HX-Push-Url", keySetPath(project, name))
	return s.render(c, http.StatusOK, page)
}
