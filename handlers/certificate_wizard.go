package handlers

// The certificate wizard's pages: new, create, edit, update, and the form
// shown again after a refusal. Reading the form is certificate_form.go.

import (
	"net/http"
	"strings"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

// certificateFormPage builds the wizard for a new certificate, or for
// editing one: an edited certificate's configurations are its rows, their
// certificates kept.
func (s *Server) certificateFormPage(c echo.Context, project string, edit *secrets.CertificateDetail) (*views.CertificateFormPage, error) {
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
	page := &views.CertificateFormPage{Project: project, CanDeploy: perms[access.SecretsDeploy], Form: views.NewForm(), Environments: envs}
	page.Title, page.Nav = "Create certificate", "projects"
	page.Dialog = views.CertConfigDialog{Project: project, Environments: envs, Admin: principal(c).Admin, Form: views.NewForm()}
	if edit != nil {
		page.Edit, page.Title = true, "Edit "+edit.Name
		page.Form.Values["name"], page.Form.Values["description"] = edit.Name, edit.Description
		page.Dialog.Certificate = edit.Name
		for i, e := range edit.Environments {
			page.Configs = append(page.Configs, views.CertConfigRow{Index: i, Environment: e.Environment, Source: e.Source, URL: e.SourceURL,
				Alias: e.Alias, FileName: e.FileName, Subject: e.Subject, Issuer: e.Issuer, NotAfter: e.NotAfter, DaysLeft: e.DaysLeft,
				State: secrets.ConfigUnchanged, DeployedRevision: e.DeployedRevision, Existing: true, Form: page.Form})
		}
		for _, j := range edit.JWKs {
			page.RelatedJWKs = append(page.RelatedJWKs, j.Name)
		}
	}
	page.Dialog.Index = views.NextIndex(page.Configs)
	return page, nil
}

func (s *Server) handleCertificateNew(c echo.Context) error {
	page, err := s.certificateFormPage(c, c.Param("project"), nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handleCertificateCreate(c echo.Context) error {
	project := c.Param("project")
	page, err := s.certificateFormPage(c, project, nil)
	if err != nil {
		return err
	}
	in, rows, err := certificateFormInput(c, false)
	if err == nil {
		var res *secrets.DeploymentResult
		res, err = s.Secrets.CreateCertificate(c.Request().Context(), principal(c), project, in, c.FormValue("action") == "deploy")
		if err == nil {
			return s.certificateSaved(c, project, in.Name, "created", res)
		}
	}
	return s.certificateFormFailed(c, page, in, rows, err)
}

func (s *Server) handleCertificateEdit(c echo.Context) error {
	project, name := c.Param("project"), c.Param("cert")
	d, err := s.Secrets.GetCertificate(c.Request().Context(), principal(c), project, name)
	if err != nil {
		return err
	}
	page, err := s.certificateFormPage(c, project, &d)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

// handleCertificateUpdate saves the edit wizard ("Apply" saves, "Save and
// Deploy" deploys). With related JWKs, Save and Deploy needs the JWK
// Connection choice and the typed certificate name.
func (s *Server) handleCertificateUpdate(c echo.Context) error {
	project, name := c.Param("project"), c.Param("cert")
	d, err := s.Secrets.GetCertificate(c.Request().Context(), principal(c), project, name)
	if err != nil {
		return err
	}
	page, err := s.certificateFormPage(c, project, &d)
	if err != nil {
		return err
	}
	in, rows, err := certificateFormInput(c, true)
	if err != nil {
		return s.certificateFormFailed(c, page, in, rows, err)
	}
	in.Name = name
	deployNow, choice := c.FormValue("action") == "deploy", c.FormValue("jwk_action")
	if err := secrets.CheckConnectionChoice("Certificate", name, len(d.JWKs), deployNow, choice, c.FormValue("confirm_name")); err != nil {
		return s.certificateFormFailed(c, page, in, rows, err)
	}
	res, err := s.Secrets.UpdateCertificate(c.Request().Context(), principal(c), project, name, in, deployNow, choice)
	if err != nil {
		return s.certificateFormFailed(c, page, in, rows, err)
	}
	return s.certificateSaved(c, project, name, "saved", res)
}

// certificateFormFailed shows the wizard again with err beside the field
// its path names, every row as posted (described by the preview where it
// carries a certificate), and the typed values.
func (s *Server) certificateFormFailed(c echo.Context, page *views.CertificateFormPage, in secrets.CertificateInput, rows []views.CertConfigRow, err error) error {
	if !shownError(err) {
		return err
	}
	if !page.Edit {
		page.Form.Values["name"] = in.Name
	}
	page.Form.Values["description"] = in.Description
	field := errs.FieldOf(err)
	switch {
	case field == "name", field == "description", field == "configs", strings.HasPrefix(field, "configs["):
		page.Form.Fail(field, errs.MessageOf(err))
	default:
		page.Form.Fail("", errs.MessageOf(err))
	}
	stored := map[string]views.CertConfigRow{}
	for _, r := range page.Configs {
		stored[r.Environment] = r
	}
	page.Configs = nil
	for i, r := range rows {
		if old, ok := stored[r.Environment]; ok && page.Edit {
			r.Existing, r.DeployedRevision = true, old.DeployedRevision
			if in.Configs[i].Content == nil {
				r.Subject, r.Issuer, r.NotAfter, r.DaysLeft, r.State = old.Subject, old.Issuer, old.NotAfter, old.DaysLeft, old.State
			}
		}
		if len(in.Configs[i].Content) > 0 {
			if p, err := s.Secrets.PreviewCertificateConfig(c.Request().Context(), principal(c), page.Project, page.Dialog.Certificate, in.Configs[i]); err == nil {
				previewCertRow(&r, p)
			}
		}
		r.Form = page.Form
		page.Configs = append(page.Configs, r)
	}
	page.Dialog.Index = views.NextIndex(page.Configs)
	return s.render(c, http.StatusUnprocessableEntity, page)
}
