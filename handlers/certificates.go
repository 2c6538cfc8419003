package handlers

// The certificates pages (seed 001): the list, the certificate's page with
// its deploy, export and delete actions. The wizard is in
// certificate_form.go, the truststore tab in truststore.go.

import (
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

func certificateRow(c secrets.CertificateSummary) views.CertificateRow {
	r := views.CertificateRow{Name: c.Name, Description: c.Description, UpdatedAt: c.UpdatedAt}
	for _, e := range c.Environments {
		r.Environments = append(r.Environments, views.CertEnvRow{Environment: e.Environment, Alias: e.Alias, Source: e.Source,
			SourceURL: e.SourceURL, FileName: e.FileName, Subject: e.Subject, Issuer: e.Issuer, Serial: e.Serial,
			NotBefore: e.NotBefore, NotAfter: e.NotAfter, DaysLeft: e.DaysLeft, SHA1: e.SHA1, SHA256: e.SHA256,
			DeployedRevision: e.DeployedRevision, Changed: e.Changed, Details: e.Details, Chain: e.Chain, Analysis: e.Analysis})
	}
	return r
}

// certificateFilter reads the list's filters: search, environment and
// expiry (7, 30 or 90 days, or expired).
func certificateFilter(c echo.Context) (secrets.CertificateFilter, views.CertificateFilter, error) {
	pageNo, err := queryInt(c, "page", 1, 1_000_000)
	if err != nil {
		return secrets.CertificateFilter{}, views.CertificateFilter{}, err
	}
	v := views.CertificateFilter{Search: c.QueryParam("search"), Environment: c.QueryParam("environment"), Expiry: c.QueryParam("expiry")}
	f := secrets.CertificateFilter{Search: v.Search, Environment: v.Environment, Page: pageNo, Size: 25}
	switch v.Expiry {
	case "":
	case "expired":
		f.Expired = true
	case "7", "30", "90":
		days := map[string]int{"7": 7, "30": 30, "90": 90}[v.Expiry]
		f.ExpiresWithin = time.Duration(days) * 24 * time.Hour
	default:
		return f, v, errs.FieldErrorf("expiry", "Expiry %q is not one of 7, 30, 90 or expired.", v.Expiry)
	}
	return f, v, nil
}

func (s *Server) handleCertificateList(c echo.Context) error {
	project := c.Param("project")
	f, filter, err := certificateFilter(c)
	if err != nil {
		return err
	}
	list, err := s.Secrets.ListCertificates(c.Request().Context(), principal(c), project, f)
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
	page := &views.CertificateListPage{Project: project, CanManage: perms[access.SecretsManage], Environments: envs, Filter: filter,
		Pager: views.NewPager(list.Total, list.Page, list.Size,
			map[string]string{"search": filter.Search, "environment": filter.Environment, "expiry": filter.Expiry})}
	page.Title, page.Nav = "Certificates · "+project, "projects"
	for _, cert := range list.Certificates {
		page.Certificates = append(page.Certificates, certificateRow(cert))
	}
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handleCertificateShow(c echo.Context) error {
	project, name := c.Param("project"), c.Param("cert")
	d, err := s.Secrets.GetCertificate(c.Request().Context(), principal(c), project, name)
	if err != nil {
		return err
	}
	perms, err := s.projectPerms(c, project)
	if err != nil {
		return err
	}
	page := &views.CertificatePage{Project: project, Certificate: certificateRow(d.CertificateSummary), CanManage: perms[access.SecretsManage],
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

// certificateSaved flashes the outcome (with the deployment per
// environment) and shows the certificate's page.
func (s *Server) certificateSaved(c echo.Context, project, name, verb string, res *secrets.DeploymentResult) error {
	if err := s.setFlash(c, "success", "Certificate "+name+" "+verb+"."+deploymentSummary(res)); err != nil {
		return err
	}
	return redirect(c, "/projects/"+project+"/certificates/"+name)
}

// deploymentSummary is " Deployed to 1 environment(s). (production: …)",
// or "" when nothing was deployed.
func deploymentSummary(res *secrets.DeploymentResult) string {
	if res == nil || len(res.EnvironmentResults) == 0 {
		return ""
	}
	var parts []string
	for _, r := range res.EnvironmentResults {
		parts = append(parts, r.EnvironmentName+": "+r.Message)
	}
	return " " + res.Message + " (" + strings.Join(parts, "; ") + ")"
}

func (s *Server) handleCertificateDelete(c echo.Context) error {
	project, name := c.Param("project"), c.Param("cert")
	if err := secrets.CheckTypedName("Certificate", name, c.FormValue("confirm_name")); err != nil {
		if err := s.setFlash(c, "error", errs.MessageOf(err)); err != nil {
			return err
		}
		return redirect(c, "/projects/"+project+"/certificates/"+name)
	}
	res, err := s.Secrets.DeleteCertificate(c.Request().Context(), principal(c), project, name, c.FormValue("jwk_action"))
	if err != nil {
		return err
	}
	if err := s.setFlash(c, "success", "Certificate "+name+" deleted. "+res.Message); err != nil {
		return err
	}
	return redirect(c, "/projects/"+project+"/certificates")
}

func (s *Server) handleCertificateDeploy(c echo.Context) error {
	project, name, env := c.Param("project"), c.Param("cert"), c.Param("env")
	undeploy := strings.HasSuffix(c.Path(), "/undeploy")
	res, err := s.Secrets.DeployCertificate(c.Request().Context(), principal(c), project, name, env, undeploy)
	if err != nil {
		// A missing permission is refused like every other form: 403.
		if code := errs.CodeOf(err); code == errs.Internal || code == errs.Forbidden {
			return err
		}
		if err := s.setFlash(c, "error", errs.MessageOf(err)); err != nil {
			return err
		}
		return redirect(c, "/projects/"+project+"/certificates/"+name)
	}
	verb := "deployed to " + env
	if undeploy {
		verb = "undeployed from " + env
	}
	return s.certificateSaved(c, project, name, verb, res)
}

// handleCertificateExport sends a certificate as a download: one
// environment's as PEM, DER or PKCS#7 (format), or, without an
// environment, every environment's as DER in a ZIP.
func (s *Server) handleCertificateExport(c echo.Context) error {
	project, name := c.Param("project"), c.Param("cert")
	out, err := s.Secrets.ExportCertificate(c.Request().Context(), principal(c), project, name, c.QueryParam("environment"), c.QueryParam("format"))
	if err != nil {
		return err
	}
	return sendDownload(c, out.FileName, out.ContentType, out.Body)
}

// sendDownload answers a file to save: its type, an attachment disposition
// with its name, and no caching.
func sendDownload(c echo.Context, fileName, contentType string, body []byte) error {
	h := c.Response().Header()
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fileName}))
	h.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, contentType, body)
}
