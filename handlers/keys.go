package handlers

import (
	"net/http"
	"strings"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keymaterial"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

func keyRow(k secrets.KeySummary) views.KeyRow {
	r := views.KeyRow{Name: k.Name, Description: k.Description, Type: k.KeyType, Algorithm: k.Algorithm, UpdatedAt: k.UpdatedAt}
	for _, e := range k.Environments {
		r.Environments = append(r.Environments, views.KeyEnvRow{Environment: e.Environment, Alias: e.Alias, Source: e.Source,
			FileName: e.FileName, Format: e.Format, Bits: e.Bits, Curve: e.Curve, Fingerprint: e.Fingerprint, Warning: e.Warning,
			DeployedRevision: e.DeployedRevision, Changed: e.Changed})
	}
	return r
}

// projectPerms returns the principal's permissions in a project.
func (s *Server) projectPerms(c echo.Context, project string) (access.Set, error) {
	pr, err := s.Projects.Get(c.Request().Context(), principal(c), project)
	if err != nil {
		return nil, err
	}
	return pr.Permissions, nil
}

func (s *Server) environmentNames(c echo.Context) ([]string, error) {
	envs, err := s.Environments.List(c.Request().Context(), principal(c))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(envs))
	for i, e := range envs {
		out[i] = e.Name
	}
	return out, nil
}

func (s *Server) handleKeyList(c echo.Context) error {
	project := c.Param("project")
	pageNo, err := queryInt(c, "page", 1, 1_000_000)
	if err != nil {
		return err
	}
	f := secrets.KeyFilter{Search: c.QueryParam("search"), Type: c.QueryParam("keyType"), Algorithm: c.QueryParam("algorithm"),
		Environment: c.QueryParam("environment"), Page: pageNo, Size: 25}
	list, err := s.Secrets.ListKeys(c.Request().Context(), principal(c), project, f)
	if err != nil {
		return err
	}
	perms, err := s.projectPerms(c, project)
	if err != nil {
		return err
	}
	envs, err := s.environmentNames(c)
	if err != nil {
		return err
	}
	page := &views.KeyListPage{Project: project, CanManage: perms[access.SecretsManage], Environments: envs,
		Filter: views.KeyFilter{Search: f.Search, Type: f.Type, Algorithm: f.Algorithm, Environment: f.Environment},
		Pager: views.NewPager(list.Total, list.Page, list.Size,
			map[string]string{"search": f.Search, "keyType": f.Type, "algorithm": f.Algorithm, "environment": f.Environment})}
	page.Title, page.Nav = "Keys · "+project, "projects"
	for _, k := range list.Keys {
		page.Keys = append(page.Keys, keyRow(k))
	}
	return s.render(c, http.StatusOK, page)
}

// keyFormPage builds the wizard for a new key, or for editing one: an
// edited key's configurations are its rows, their material kept.
func (s *Server) keyFormPage(c echo.Context, project string, edit *secrets.KeyDetail) (*views.KeyFormPage, error) {
	if err := s.Secrets.RequireManage(c.Request().Context(), principal(c), project); err != nil {
		return nil, err
	}
	perms, err := s.projectPerms(c, project)
	if err != nil {
		return nil, err
	}
	envs, err := s.environmentNames(c)
	if err != nil {
		return nil, err
	}
	page := &views.KeyFormPage{Project: project, CanDeploy: perms[access.SecretsDeploy], Form: views.NewForm(), Environments: envs}
	for _, t := range keymaterial.Types {
		page.Types = append(page.Types, string(t))
	}
	kt := keymaterial.SecretKey
	page.Title, page.Nav = "Create key", "projects"
	page.Dialog = views.KeyConfigDialog{Project: project, Environments: envs, Form: views.NewForm()}
	if edit != nil {
		page.Edit, page.Title = true, "Edit "+edit.Name
		page.Form.Values["name"], page.Form.Values["description"] = edit.Name, edit.Description
		page.Form.Values["keyType"], page.Form.Values["algorithm"] = edit.KeyType, edit.Algorithm
		page.Dialog.Key = edit.Name
		kt = keymaterial.Type(edit.KeyType)
		for i, e := range edit.Environments {
			page.Configs = append(page.Configs, views.KeyConfigRow{Index: i, Environment: e.Environment, Source: e.Source, Alias: e.Alias,
				FileName: e.FileName, State: secrets.ConfigUnchanged, Format: e.Format, Bits: int(e.Bits), Curve: e.Curve,
				Fingerprint: e.Fingerprint, Warning: e.Warning, DeployedRevision: e.DeployedRevision, Existing: true, Form: page.Form})
		}
		for _, j := range edit.JWKs {
			page.RelatedJWKs = append(page.RelatedJWKs, j.Name)
		}
	}
	page.Dialog.Index = views.NextIndex(page.Configs)
	page.Algorithms = algorithmNames(kt)
	return page, nil
}

func algorithmNames(t keymaterial.Type) []string {
	var out []string
	for _, a := range keymaterial.AlgorithmsFor(t) {
		out = append(out, string(a))
	}
	return out
}

func (s *Server) handleKeyNew(c echo.Context) error {
	page, err := s.keyFormPage(c, c.Param("project"), nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

// handleKeyAlgorithms answers the algorithm select for the chosen key type.
func (s *Server) handleKeyAlgorithms(c echo.Context) error {
	t, err := keymaterial.ParseType("keyType", c.QueryParam("keyType"))
	if err != nil {
		return err
	}
	page := &views.AlgorithmFieldPage{Algorithms: algorithmNames(t)}
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handleKeyCreate(c echo.Context) error {
	project := c.Param("project")
	page, err := s.keyFormPage(c, project, nil)
	if err != nil {
		return err
	}
	in, rows, err := keyFormInput(c, false)
	if err == nil {
		var res *secrets.DeploymentResult
		res, err = s.Secrets.CreateKey(c.Request().Context(), principal(c), project, in, c.FormValue("action") == "deploy")
		if err == nil {
			return s.keySaved(c, project, in.Name, "created", res)
		}
	}
	return s.keyFormFailed(c, page, in, rows, err)
}

// keySaved flashes the outcome (with the deployment per environment) and
// shows the key's page.
func (s *Server) keySaved(c echo.Context, project, name, verb string, res *secrets.DeploymentResult) error {
	msg := "Key " + name + " " + verb + "."
	if res != nil && len(res.EnvironmentResults) > 0 {
		var parts []string
		for _, r := range res.EnvironmentResults {
			parts = append(parts, r.EnvironmentName+": "+r.Message)
		}
		msg += " " + res.Message + " (" + strings.Join(parts, "; ") + ")"
	}
	if err := s.setFlash(c, "success", msg); err != nil {
		return err
	}
	return redirect(c, "/projects/"+project+"/keys/"+name)
}

func (s *Server) handleKeyShow(c echo.Context) error {
	project, name := c.Param("project"), c.Param("key")
	d, err := s.Secrets.GetKey(c.Request().Context(), principal(c), project, name)
	if err != nil {
		return err
	}
	perms, err := s.projectPerms(c, project)
	if err != nil {
		return err
	}
	page := &views.KeyPage{Project: project, Key: keyRow(d.KeySummary), CanManage: perms[access.SecretsManage],
		CanDeploy: perms[access.SecretsManage] && perms[access.SecretsDeploy]}
	page.Title, page.Nav = name, "projects"
	for _, j := range d.JWKs {
		page.JWKs = append(page.JWKs, j.Name)
	}
	for _, e := range d.History {
		page.History = append(page.History, views.AuditRow{At: e.At, Actor: e.Actor, Action: e.Action, Environment: e.Environment, Outcome: e.Outcome, Detail: e.Detail})
	}
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handleKeyEdit(c echo.Context) error {
	project, name := c.Param("project"), c.Param("key")
	d, err := s.Secrets.GetKey(c.Request().Context(), principal(c), project, name)
	if err != nil {
		return err
	}
	page, err := s.keyFormPage(c, project, &d)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

// handleKeyUpdate saves the edit wizard. With related JWKs, "Save and
// Deploy" needs the JWK Connection choice and the typed key name.
func (s *Server) handleKeyUpdate(c echo.Context) error {
	project, name := c.Param("project"), c.Param("key")
	d, err := s.Secrets.GetKey(c.Request().Context(), principal(c), project, name)
	if err != nil {
		return err
	}
	page, err := s.keyFormPage(c, project, &d)
	if err != nil {
		return err
	}
	in, rows, err := keyFormInput(c, true)
	if err != nil {
		return s.keyFormFailed(c, page, in, rows, err)
	}
	in.Name = name
	deployNow, choice := c.FormValue("action") == "deploy", c.FormValue("jwk_action")
	if err := secrets.CheckConnectionChoice("Key", name, len(d.JWKs), deployNow, choice, c.FormValue("confirm_name")); err != nil {
		return s.keyFormFailed(c, page, in, rows, err)
	}
	res, err := s.Secrets.UpdateKey(c.Request().Context(), principal(c), project, name, in, deployNow, choice)
	if err != nil {
		return s.keyFormFailed(c, page, in, rows, err)
	}
	return s.keySaved(c, project, name, "saved", res)
}

func (s *Server) handleKeyDelete(c echo.Context) error {
	project, name := c.Param("project"), c.Param("key")
	if c.FormValue("confirm_name") != name {
		if err := s.setFlash(c, "error", "Type the key's name exactly to delete it."); err != nil {
			return err
		}
		return redirect(c, "/projects/"+project+"/keys/"+name)
	}
	res, err := s.Secrets.DeleteKey(c.Request().Context(), principal(c), project, name, c.FormValue("jwk_action"))
	if err != nil {
		return err
	}
	msg := "Key " + name + " deleted. " + res.Message
	if err := s.setFlash(c, "success", msg); err != nil {
		return err
	}
	return redirect(c, "/projects/"+project+"/keys")
}

func (s *Server) handleKeyDeploy(c echo.Context) error {
	project, name, env := c.Param("project"), c.Param("key"), c.Param("env")
	undeploy := strings.HasSuffix(c.Path(), "/undeploy")
	res, err := s.Secrets.DeployKey(c.Request().Context(), principal(c), project, name, env, undeploy)
	if err != nil {
		// A missing permission is refused like every other form: 403.
		if code := errs.CodeOf(err); code == errs.Internal || code == errs.Forbidden {
			return err
		}
		if err := s.setFlash(c, "error", errs.MessageOf(err)); err != nil {
			return err
		}
		return redirect(c, "/projects/"+project+"/keys/"+name)
	}
	return s.keySaved(c, project, name, map[bool]string{true: "undeployed from " + env, false: "deployed to " + env}[undeploy], res)
}
