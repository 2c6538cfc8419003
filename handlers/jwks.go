package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keymaterial"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

func (s *Server) jwkRow(project string, j secrets.JWKDetail) views.JWKRow {
	r := views.JWKRow{Name: j.Name, SourceType: j.SourceType, SourceName: j.SourceName, Connected: j.Connected, Use: j.Use,
		Alg: j.Alg, Secret: j.Secret, UpdatedAt: j.UpdatedAt}
	for _, e := range j.Environments {
		row := views.JWKEnvRow{Environment: e.Environment, Kid: e.Kid, DeployedRevision: e.DeployedRevision,
			JWKSURL: s.Config.BaseURL + "/jwks/" + project + "/" + e.Environment}
		if e.PublicJSON != "" {
			var pretty bytes.Buffer
			if json.Indent(&pretty, []byte(e.PublicJSON), "", "  ") == nil {
				row.JSON = pretty.String()
			}
		}
		r.Environments = append(r.Environments, row)
	}
	return r
}

func (s *Server) handleJWKList(c echo.Context) error {
	project := c.Param("project")
	list, err := s.Secrets.ListJWKs(c.Request().Context(), principal(c), project)
	if err != nil {
		return err
	}
	perms, err := s.projectPerms(c, project)
	if err != nil {
		return err
	}
	page := &views.JWKListPage{Project: project, CanManage: perms[access.SecretsManage]}
	page.Title, page.Nav = "JWKs · "+project, "projects"
	for _, j := range list {
		page.JWKs = append(page.JWKs, s.jwkRow(project, j))
	}
	return s.render(c, http.StatusOK, page)
}

// jwkFormPage builds the create form for the chosen source (a key or a
// certificate) and use: the environments offered are the source's, and
// the algorithms those that fit its key.
func (s *Server) jwkFormPage(c echo.Context, project string, sourceType secrets.SourceType, source, use string) (*views.JWKFormPage, error) {
	ctx, p := c.Request().Context(), principal(c)
	if err := s.Secrets.RequireManage(ctx, p, project); err != nil {
		return nil, err
	}
	perms, err := s.projectPerms(c, project)
	if err != nil {
		return nil, err
	}
	if use != "enc" {
		use = "sig"
	}
	page := &views.JWKFormPage{Project: project, CanDeploy: perms[access.SecretsDeploy], Form: views.NewForm(),
		Uses: []string{"sig", "enc"}, SourceType: string(sourceType)}
	page.Title, page.Nav = "Create JWK", "projects"
	for _, t := range secrets.SourceTypes {
		page.SourceTypes = append(page.SourceTypes, string(t))
	}
	var fit *keymaterial.Key
	if sourceType == secrets.SourceCertificate {
		fit, err = s.jwkCertificateSources(c, project, page, &source)
	} else {
		fit, err = s.jwkKeySources(c, project, page, &source)
	}
	if err != nil {
		return nil, err
	}
	if fit != nil {
		page.Algs = keymaterial.JWKAlgorithms(*fit, use)
	}
	page.Form.Values["sourceType"], page.Form.Values["sourceName"], page.Form.Values["use"] = string(sourceType), source, use
	return page, nil
}

// jwkKeySources lists the project's keys as sources; *source defaults to
// the first. It returns the chosen key's shape, for the algorithms.
func (s *Server) jwkKeySources(c echo.Context, project string, page *views.JWKFormPage, source *string) (*keymaterial.Key, error) {
	keys, err := s.Secrets.ListKeys(c.Request().Context(), principal(c), project, secrets.KeyFilter{Size: 200})
	if err != nil {
		return nil, err
	}
	if *source == "" && len(keys.Keys) > 0 {
		*source = keys.Keys[0].Name
	}
	var fit *keymaterial.Key
	for _, k := range keys.Keys {
		sk := views.JWKSourceKey{Name: k.Name, Label: k.Name + " (" + k.KeyType + ", " + k.Algorithm + ")"}
		for _, e := range k.Environments {
			sk.Environments = append(sk.Environments, e.Environment)
		}
		page.Sources = append(page.Sources, sk)
		if k.Name == *source {
			page.Chosen = sk.Environments
			if len(k.Environments) > 0 {
				e := k.Environments[0]
				fit = &keymaterial.Key{Algorithm: keymaterial.Algorithm(k.Algorithm), Bits: int(e.Bits), Curve: e.Curve}
			}
		}
	}
	return fit, nil
}

// jwkCertificateSources lists the project's certificates as sources;
// *source defaults to the first. It returns the chosen certificate's
// public key shape, for the algorithms.
func (s *Server) jwkCertificateSources(c echo.Context, project string, page *views.JWKFormPage, source *string) (*keymaterial.Key, error) {
	ctx, p := c.Request().Context(), principal(c)
	list, err := s.Secrets.ListCertificates(ctx, p, project, secrets.CertificateFilter{Size: 200})
	if err != nil {
		return nil, err
	}
	if *source == "" && len(list.Certificates) > 0 {
		*source = list.Certificates[0].Name
	}
	found := false
	for _, cert := range list.Certificates {
		sk := views.JWKSourceKey{Name: cert.Name, Label: cert.Name}
		for i, e := range cert.Environments {
			if i == 0 {
				sk.Label += " (" + e.Subject + ")"
			}
			sk.Environments = append(sk.Environments, e.Environment)
		}
		page.Sources = append(page.Sources, sk)
		if cert.Name == *source {
			page.Chosen, found = sk.Environments, true
		}
	}
	if !found {
		return nil, nil
	}
	d, err := s.Secrets.GetCertificate(ctx, p, project, *source)
	if err != nil || len(d.Environments) == 0 || d.Environments[0].Details == nil {
		return nil, err
	}
	det := d.Environments[0].Details
	alg := map[string]keymaterial.Algorithm{"RSA": keymaterial.RSA, "ECDSA": keymaterial.EC, "EC": keymaterial.EC}[det.PublicKeyAlgorithm]
	if alg == "" {
		return nil, nil
	}
	return &keymaterial.Key{Algorithm: alg, Bits: det.KeyBits, Curve: det.Curve}, nil
}

// jwkSourceType reads the source type asked for (KEY unless CERTIFICATE).
func jwkSourceType(v string) secrets.SourceType {
	if secrets.SourceType(v) == secrets.SourceCertificate {
		return secrets.SourceCertificate
	}
	return secrets.SourceKey
}

func (s *Server) handleJWKNew(c echo.Context) error {
	source := c.QueryParam("source")
	if source == "" {
		source = c.QueryParam("sourceName")
	}
	page, err := s.jwkFormPage(c, c.Param("project"), jwkSourceType(c.QueryParam("sourceType")), source, c.QueryParam("use"))
	if err != nil {
		return err
	}
	for _, f := range []string{"name", "alg", "kid"} {
		if v := c.QueryParam(f); v != "" {
			page.Form.Values[f] = v
		}
	}
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handleJWKCreate(c echo.Context) error {
	project := c.Param("project")
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	in := secrets.JWKInput{Name: form.Get("name"), SourceType: jwkSourceType(form.Get("sourceType")), SourceName: form.Get("sourceName"), Use: form.Get("use"),
		Alg: form.Get("alg"), Kid: form.Get("kid"), Environments: form["environments"]}
	_, err = s.Secrets.CreateJWK(c.Request().Context(), principal(c), project, in, form.Get("action") == "deploy")
	if err == nil {
		if err := s.setFlash(c, "success", "JWK "+in.Name+" created."); err != nil {
			return err
		}
		return redirect(c, "/projects/"+project+"/jwks/"+in.Name)
	}
	page, perr := s.jwkFormPage(c, project, in.SourceType, in.SourceName, in.Use)
	if perr != nil {
		return perr
	}
	page.Form.Values["name"], page.Form.Values["use"], page.Form.Values["alg"], page.Form.Values["kid"] = in.Name, in.Use, in.Alg, in.Kid
	page.Chosen = in.Environments
	if errs.CodeOf(err) == errs.Internal || errs.CodeOf(err) == errs.Forbidden {
		return err
	}
	field := errs.FieldOf(err)
	if strings.HasPrefix(field, "environmentNames") {
		field = "environmentNames"
	}
	page.Form.Fail(field, errs.MessageOf(err))
	return s.render(c, http.StatusUnprocessableEntity, page)
}

func (s *Server) handleJWKShow(c echo.Context) error {
	project := c.Param("project")
	j, err := s.Secrets.GetJWK(c.Request().Context(), principal(c), project, c.Param("jwk"))
	if err != nil {
		return err
	}
	perms, err := s.projectPerms(c, project)
	if err != nil {
		return err
	}
	page := &views.JWKPage{Project: project, JWK: s.jwkRow(project, j), CanDeploy: perms[access.SecretsManage] && perms[access.SecretsDeploy]}
	page.Title, page.Nav = j.Name, "projects"
	return s.render(c, http.StatusOK, page)
}

func (s *Server) handleJWKDelete(c echo.Context) error {
	project, name := c.Param("project"), c.Param("jwk")
	if c.FormValue("confirm_name") != name {
		if err := s.setFlash(c, "error", "Type the JWK's name exactly to delete it."); err != nil {
			return err
		}
		return redirect(c, "/projects/"+project+"/jwks/"+name)
	}
	if _, err := s.Secrets.DeleteJWK(c.Request().Context(), principal(c), project, name); err != nil {
		return err
	}
	if err := s.setFlash(c, "success", "JWK "+name+" deleted and removed from every JWKS."); err != nil {
		return err
	}
	return redirect(c, "/projects/"+project+"/jwks")
}
