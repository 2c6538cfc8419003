package handlers

// The Certificates screen's Truststore tab: one environment's truststore
// (the CAs added to it and the built-in roots), the admins' changes, each
// a deploy, and the export. Truststores belong to environments, not
// projects; the tab sits under a project so that it stays beside the
// certificates whose chains it anchors.

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/internal/truststore"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

// truststorePage builds the tab for an environment ("" = the first one).
func (s *Server) truststorePage(c echo.Context, project, env, search string) (*views.TruststorePage, error) {
	if _, err := s.projectPerms(c, project); err != nil { // a project the user cannot see is a 404
		return nil, err
	}
	envs, err := s.environmentNames(c)
	if err != nil {
		return nil, err
	}
	page := &views.TruststorePage{Project: project, Environments: envs, Search: search, AddForm: views.NewForm(), ExportForm: views.NewForm()}
	page.Title, page.Nav = "Truststore · "+project, "projects"
	if env == "" && len(envs) > 0 {
		env = envs[0]
	}
	if env == "" {
		return page, nil
	}
	if !slices.Contains(envs, env) {
		return nil, errs.FieldErrorf("environment", "Environment %q does not exist.", env)
	}
	ctx, p := c.Request().Context(), principal(c)
	t, err := s.Truststores.Get(ctx, p, env, search)
	if err != nil {
		return nil, err
	}
	page.Environment, page.Revision, page.BuiltinRoots, page.BuiltInAll = t.Environment, t.Revision, t.BuiltinRoots, len(t.BuiltIn)
	if search != "" {
		all, err := s.Truststores.Get(ctx, p, env, "")
		if err != nil {
			return nil, err
		}
		page.BuiltInAll = len(all.BuiltIn)
	}
	for _, ca := range t.Added {
		page.Added = append(page.Added, trustedCA(ca))
	}
	for _, ca := range t.BuiltIn {
		page.BuiltIn = append(page.BuiltIn, trustedCA(ca))
	}
	if p.Admin {
		// The project's certificates in the environment, to add as a CA.
		list, err := s.Secrets.ListCertificates(ctx, p, project, secrets.CertificateFilter{Environment: env, Size: 200})
		if err != nil {
			return nil, err
		}
		for _, cert := range list.Certificates {
			for _, e := range cert.Environments {
				if e.Environment == env {
					page.Certificates = append(page.Certificates, views.TrustSource{Name: cert.Name, Subject: e.Subject})
				}
			}
		}
	}
	return page, nil
}

func trustedCA(ca truststore.CA) views.TrustedCA {
	return views.TrustedCA{SHA256: ca.SHA256, Alias: ca.Alias, Subject: ca.Subject, Source: ca.Source, AddedBy: ca.AddedBy,
		CreatedAt: ca.CreatedAt, Details: ca.Details}
}

func (s *Server) handleTruststoreShow(c echo.Context) error {
	page, err := s.truststorePage(c, c.Param("project"), c.QueryParam("environment"), c.QueryParam("search"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, page)
}

// truststoreShown redirects to the tab of env with a flash.
func (s *Server) truststoreShown(c echo.Context, project, env, kind, msg string) error {
	if err := s.setFlash(c, kind, msg); err != nil {
		return err
	}
	return redirect(c, "/projects/"+project+"/certificates/truststore?environment="+url.QueryEscape(env))
}

// handleTruststoreAdd adds a CA to an environment's truststore: from the
// tab's form (a file, pasted text or a certificate of the project), or
// from the wizard's "Trust this CA" beside a fetched chain (from=wizard),
// which answers a sentence in place of the button.
func (s *Server) handleTruststoreAdd(c echo.Context) error {
	project, env := c.Param("project"), c.FormValue("environment")
	if _, err := s.projectPerms(c, project); err != nil {
		return err
	}
	if c.FormValue("from") == "wizard" {
		return s.trustFromWizard(c, env)
	}
	in, err := s.caInput(c, project, env)
	if err == nil {
		var ca truststore.CA
		var res *secrets.DeploymentResult
		ca, res, err = s.Truststores.Add(c.Request().Context(), principal(c), env, in)
		if err == nil {
			return s.truststoreShown(c, project, env, "success", "CA "+ca.Subject+" added to the truststore of "+env+"."+deploymentSummary(res))
		}
	}
	if !shownError(err) {
		return err
	}
	page, perr := s.truststorePage(c, project, env, "")
	if perr != nil {
		return perr
	}
	for _, k := range []string{"source", "content", "encoding", "certificate", "alias", "position"} {
		page.AddForm.Values[k] = c.FormValue(k)
	}
	switch field := errs.FieldOf(err); field {
	case "content", "pick", "alias":
		page.AddForm.Fail(field, errs.MessageOf(err))
	case "position":
		page.AddForm.Fail("pick", errs.MessageOf(err))
	default:
		page.AddForm.Fail("", errs.MessageOf(err))
	}
	return s.render(c, http.StatusUnprocessableEntity, page)
}

// caInput reads the tab's Add CA form.
func (s *Server) caInput(c echo.Context, project, env string) (truststore.AddInput, error) {
	pos, err := strconv.Atoi(c.FormValue("position"))
	if c.FormValue("position") == "" {
		pos, err = 1, nil
	}
	if err != nil || pos < 1 {
		return truststore.AddInput{}, errs.FieldErrorf("position", "Give the position of the CA certificate in the file: 1 for the first.")
	}
	in := truststore.AddInput{Pick: pos - 1, Alias: c.FormValue("alias"), Source: c.FormValue("source"),
		Cert: certs.Input{Field: "content"}}
	switch in.Source {
	case secrets.SourceClipboard:
		in.Cert.Content, in.Cert.Encoding = []byte(c.FormValue("content")), c.FormValue("encoding")
	case "CERTIFICATE":
		out, err := s.Secrets.ExportCertificate(c.Request().Context(), principal(c), project, c.FormValue("certificate"), env, secrets.FormatPEM)
		if err != nil {
			return in, err
		}
		in.Cert.Content, in.Cert.Encoding, in.Pick = out.Body, certs.EncodingBase64PEM, 0
	default:
		in.Source = secrets.SourceFile
		fh, err := c.FormFile("file")
		if err != nil {
			return in, errs.FieldErrorf("content", "Choose the CA certificate's file.")
		}
		b, err := readCertUpload(fh, "content")
		if err != nil {
			return in, err
		}
		in.Cert.Content, in.Cert.FileName, in.Cert.Password = b, fh.Filename, c.FormValue("password")
	}
	return in, nil
}

// trustFromWizard adds certificate ca_pick of a fetched chain (the
// dialog's chain input) to env's truststore.
func (s *Server) trustFromWizard(c echo.Context, env string) error {
	pick, _ := strconv.Atoi(c.FormValue("ca_pick"))
	in := truststore.AddInput{Pick: pick, Source: secrets.SourceURL,
		Cert: certs.Input{Field: "chain", Content: []byte(c.FormValue("chain")), Encoding: certs.EncodingBase64PEM}}
	ca, _, err := s.Truststores.Add(c.Request().Context(), principal(c), env, in)
	if err != nil {
		if errs.CodeOf(err) == errs.Internal {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, &views.TrustResultPage{Message: errs.MessageOf(err)})
	}
	return s.render(c, http.StatusOK, &views.TrustResultPage{OK: true,
		Message: "Trusted in " + env + " as “" + ca.Alias + "”. Connect again to analyse the chain with it."})
}

// handleTruststoreRemove removes an added CA, confirmed by its typed alias.
func (s *Server) handleTruststoreRemove(c echo.Context) error {
	project, env, sha := c.Param("project"), c.FormValue("environment"), strings.ToLower(c.Param("sha"))
	if _, err := s.projectPerms(c, project); err != nil {
		return err
	}
	t, err := s.Truststores.Get(c.Request().Context(), principal(c), env, "")
	if err != nil {
		return err
	}
	i := slices.IndexFunc(t.Added, func(ca truststore.CA) bool { return ca.SHA256 == sha })
	if i >= 0 && c.FormValue("confirm_name") != t.Added[i].Alias {
		return s.truststoreShown(c, project, env, "error", "Type the CA's alias exactly to remove it.")
	}
	res, err := s.Truststores.Remove(c.Request().Context(), principal(c), env, sha)
	if err != nil {
		return err
	}
	what := "The CA"
	if i >= 0 {
		what = "CA " + t.Added[i].Subject
	}
	return s.truststoreShown(c, project, env, "success", what+" removed from the truststore of "+env+"."+deploymentSummary(res))
}

// handleTruststoreBuiltinRoots includes the built-in roots in an
// environment's truststore or leaves them out.
func (s *Server) handleTruststoreBuiltinRoots(c echo.Context) error {
	project, env := c.Param("project"), c.FormValue("environment")
	if _, err := s.projectPerms(c, project); err != nil {
		return err
	}
	include := c.FormValue("include") == "1"
	res, err := s.Truststores.SetBuiltinRoots(c.Request().Context(), principal(c), env, include)
	if err != nil {
		return err
	}
	msg := "The built-in roots are left out of the truststore of " + env + "."
	if include {
		msg = "The built-in roots are part of the truststore of " + env + "."
	}
	return s.truststoreShown(c, project, env, "success", msg+deploymentSummary(res))
}

// handleTruststoreExport sends an environment's truststore as a PEM
// bundle, a JKS or a PKCS#12 file (posted, for the password).
func (s *Server) handleTruststoreExport(c echo.Context) error {
	project, env := c.Param("project"), c.FormValue("environment")
	if _, err := s.projectPerms(c, project); err != nil {
		return err
	}
	out, err := s.Truststores.Export(c.Request().Context(), principal(c), env, c.FormValue("format"), c.FormValue("password"))
	if err == nil {
		return sendDownload(c, out.FileName, out.ContentType, out.Body)
	}
	if !shownError(err) {
		return err
	}
	page, perr := s.truststorePage(c, project, env, "")
	if perr != nil {
		return perr
	}
	page.ExportForm.Values["format"] = c.FormValue("format")
	switch field := errs.FieldOf(err); field {
	case "password":
		page.ExportForm.Fail(field, errs.MessageOf(err))
	default:
		page.ExportForm.Fail("", errs.MessageOf(err))
	}
	return s.render(c, http.StatusUnprocessableEntity, page)
}
