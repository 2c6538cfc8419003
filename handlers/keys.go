package handlers

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/keyward/keyward/internal/access"
	"github.com/keyward/keyward/internal/audit"
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
	page := &views.KeyListPage{Project: project, CanManage: perms[access.SecretsManage], Total: list.Total, Page: list.Page,
		Pages: max(1, int((list.Total+int64(list.Size)-1)/int64(list.Size))), Environments: envs,
		Filter: views.KeyFilter{Search: f.Search, Type: f.Type, Algorithm: f.Algorithm, Environment: f.Environment}}
	q := url.Values{}
	for k, v := range map[string]string{"search": f.Search, "keyType": f.Type, "algorithm": f.Algorithm, "environment": f.Environment} {
		if v != "" {
			q.Set(k, v)
		}
	}
	page.QueryString = q.Encode()
	page.Title, page.Nav = "Keys · "+project, "projects"
	for _, k := range list.Keys {
		page.Keys = append(page.Keys, keyRow(k))
	}
	return s.render(c, http.StatusOK, page)
}

// keyFormPage builds the wizard for a new key, or for editing one.
func (s *Server) keyFormPage(c echo.Context, project string, edit *secrets.KeyDetail) (*views.KeyFormPage, error) {
	perms, err := s.projectPerms(c, project)
	if err != nil {
		return nil, err
	}
	if !perms[access.SecretsManage] {
		return nil, errs.Errorf(errs.Forbidden, "You need the SECRETS:MANAGE permission in project %q.", project)
	}
	envs, err := s.environmentNames(c)
	if err != nil {
		return nil, err
	}
	page := &views.KeyFormPage{Project: project, CanDeploy: perms[access.SecretsDeploy], Form: views.NewForm(),
		Environments: envs}
	for _, t := range keymaterial.Types {
		page.Types = append(page.Types, string(t))
	}
	kt := keymaterial.SecretKey
	page.Title, page.Nav = "Create key", "projects"
	if edit != nil {
		page.Edit, page.Title = true, "Edit "+edit.Name
		page.Form.Values["name"], page.Form.Values["description"] = edit.Name, edit.Description
		page.Form.Values["keyType"], page.Form.Values["algorithm"] = edit.KeyType, edit.Algorithm
		kt = keymaterial.Type(edit.KeyType)
		for i, e := range edit.Environments {
			page.Configs = append(page.Configs, views.KeyConfigRow{Index: i, Environment: e.Environment, Source: "FILE", Alias: e.Alias,
				Existing: true, Fingerprint: e.Fingerprint, Environments: envs, Form: page.Form})
		}
		for _, j := range edit.JWKs {
			page.RelatedJWKs = append(page.RelatedJWKs, j.Name)
		}
	} else {
		page.Configs = []views.KeyConfigRow{{Index: 0, Source: "FILE", Environments: envs, Form: page.Form}}
	}
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

// handleKeyConfigRow answers one more, empty configuration row.
func (s *Server) handleKeyConfigRow(c echo.Context) error {
	next, err := strconv.Atoi(c.QueryParam("next"))
	if err != nil || next < 0 || next > 100 {
		next = 0
	}
	envs, err := s.environmentNames(c)
	if err != nil {
		return err
	}
	page := &views.KeyConfigRowPage{Row: views.KeyConfigRow{Index: next, Source: "FILE", Environments: envs, Form: views.NewForm()}}
	return s.render(c, http.StatusOK, page)
}

var configFieldRE = regexp.MustCompile(`^configs\[(\d{1,3})\]\.environment$`)

// keyFormInput reads the wizard's multipart form: the definition and every
// configuration row present (rows may have been removed, so indexes can
// have gaps). A pasted secret key is base64 or hex text.
func keyFormInput(c echo.Context, update bool) (secrets.KeyInput, []views.KeyConfigRow, error) {
	form, err := c.MultipartForm()
	if err != nil {
		return secrets.KeyInput{}, nil, errs.Errorf(errs.Invalid, "The form could not be read: %v", err)
	}
	value := func(k string) string {
		if v := form.Value[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	in := secrets.KeyInput{Name: value("name"), Description: value("description"), Type: value("keyType"), Algorithm: value("algorithm"), ListField: "configs"}
	var idx []int
	for k := range form.Value {
		if m := configFieldRE.FindStringSubmatch(k); m != nil {
			n, _ := strconv.Atoi(m[1])
			idx = append(idx, n)
		}
	}
	sort.Ints(idx)
	var rows []views.KeyConfigRow
	for _, i := range idx {
		row := views.KeyConfigRow{Index: i}
		field := func(n string) string { return row.Field(n) }
		row.Environment, row.Alias, row.Source = value(field("environment")), value(field("alias")), value(field("source"))
		cfg := secrets.ConfigInput{Field: fmt.Sprintf("configs[%d]", i), Environment: row.Environment, Alias: row.Alias, Source: secrets.SourceFile}
		var content []byte
		if row.Source == secrets.SourceClipboard {
			cfg.Source = secrets.SourceClipboard
			row.Content = value(field("content"))
			if strings.TrimSpace(row.Content) != "" {
				content = pastedContent(keymaterial.Type(in.Type), row.Content)
			}
		} else if fhs := form.File[field("file")]; len(fhs) > 0 && fhs[0].Size > 0 {
			cfg.FileName, row.FileName = fhs[0].Filename, fhs[0].Filename
			if content, err = readUpload(fhs[0], cfg.Field+".content"); err != nil {
				// Show every row again, so the message sits beside this one.
				return in, allRows(rows, row, idx, value), err
			}
		}
		if content == nil && !update {
			content = []byte{} // reported as empty by the service
		}
		cfg.Content = content
		in.Configs = append(in.Configs, cfg)
		rows = append(rows, row)
	}
	return in, rows, nil
}

// allRows completes the rows read so far (up to and including current)
// with the remaining ones, for re-showing the form after an upload error.
func allRows(done []views.KeyConfigRow, current views.KeyConfigRow, idx []int, value func(string) string) []views.KeyConfigRow {
	rows := append(done, current)
	for _, i := range idx[len(rows):] {
		r := views.KeyConfigRow{Index: i}
		r.Environment, r.Alias, r.Source = value(r.Field("environment")), value(r.Field("alias")), value(r.Field("source"))
		if r.Source == secrets.SourceClipboard {
			r.Content = value(r.Field("content"))
		}
		rows = append(rows, r)
	}
	return rows
}

var (
	configPrefixRE   = regexp.MustCompile(`configs\[(\d{1,3})\](?:\.(\w+))?(: )?`)
	configFieldWords = map[string]string{"content": "the key content", "environmentName": "the environment", "alias": "the alias"}
)

// wizardMessage rewrites the service's field paths, which suit the API
// ("configs[1].content is not…"), into words for the wizard, where the
// message already sits beside its row: "The key content is not…",
// "(also in configuration 1)".
func wizardMessage(msg string) string {
	out := configPrefixRE.ReplaceAllStringFunc(msg, func(m string) string {
		sub := configPrefixRE.FindStringSubmatch(m)
		if sub[2] == "" {
			n, _ := strconv.Atoi(sub[1])
			return "configuration " + strconv.Itoa(n+1) + sub[3]
		}
		if sub[3] != "" {
			return "" // "configs[1].environmentName: environment …" → "environment …"
		}
		if w, ok := configFieldWords[sub[2]]; ok {
			return w
		}
		return m
	})
	if out == "" || out == msg {
		return out
	}
	return strings.ToUpper(out[:1]) + out[1:]
}

var allowedExt = []string{".pem", ".crt", ".cer", ".cert", ".der"}

// readUpload reads one uploaded key file (at most 64 KiB, allowed extension).
func readUpload(fh *multipart.FileHeader, field string) ([]byte, error) {
	name := strings.ToLower(fh.Filename)
	ok := false
	for _, ext := range allowedExt {
		ok = ok || strings.HasSuffix(name, ext)
	}
	if !ok {
		return nil, errs.FieldErrorf(field, "File %q is not accepted: use a .pem, .crt, .cer, .cert or .der file.", fh.Filename)
	}
	if fh.Size > keymaterial.MaxContent {
		return nil, errs.FieldErrorf(field, "File %q is %d bytes; the limit is 64 KiB.", fh.Filename, fh.Size)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, keymaterial.MaxContent+1))
}

// pastedContent turns pasted text into material: PEM stays text; a secret
// key is decoded from hex or base64 (left as typed when neither fits, so the
// size check reports it).
func pastedContent(t keymaterial.Type, text string) []byte {
	trimmed := strings.TrimSpace(text)
	if t != keymaterial.SecretKey || strings.Contains(trimmed, "-----BEGIN") {
		return []byte(trimmed + "\n")
	}
	if b, err := hex.DecodeString(trimmed); err == nil {
		return b
	}
	if b, err := decodeBase64(trimmed); err == nil {
		return b
	}
	if b, err := base64.StdEncoding.DecodeString(trimmed); err == nil {
		return b
	}
	return []byte(trimmed)
}

// keyFormFailed re-renders the wizard with err beside its field.
func (s *Server) keyFormFailed(c echo.Context, page *views.KeyFormPage, in secrets.KeyInput, rows []views.KeyConfigRow, err error) error {
	if errs.CodeOf(err) == errs.Internal || errs.CodeOf(err) == errs.Forbidden || errs.CodeOf(err) == errs.NotFound && errs.FieldOf(err) == "" {
		return err
	}
	if !page.Edit {
		page.Form.Values["name"], page.Form.Values["keyType"], page.Form.Values["algorithm"] = in.Name, in.Type, in.Algorithm
		page.Algorithms = algorithmNames(keymaterial.Type(in.Type))
	}
	page.Form.Values["description"] = in.Description
	field, msg := errs.FieldOf(err), wizardMessage(errs.MessageOf(err))
	if field == "configs" {
		msg = "Add a configuration for at least one environment."
	}
	if strings.HasPrefix(field, "configs[") || field == "name" || field == "description" || field == "keyType" || field == "algorithm" || field == "configs" {
		page.Form.Fail(field, msg)
	} else {
		page.Form.Fail("", msg)
	}
	existing := map[string]views.KeyConfigRow{}
	for _, r := range page.Configs {
		existing[r.Environment] = r
	}
	page.Configs = nil
	if len(rows) == 0 {
		rows = []views.KeyConfigRow{{Index: 0, Source: secrets.SourceFile}}
	}
	for _, r := range rows {
		if old, ok := existing[r.Environment]; ok && page.Edit {
			r.Existing, r.Fingerprint = true, old.Fingerprint
		}
		r.Environments, r.Form = page.Environments, page.Form
		page.Configs = append(page.Configs, r)
	}
	return s.render(c, http.StatusUnprocessableEntity, page)
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
		CanDeploy: perms[access.SecretsManage] && perms[access.SecretsDeploy], DeleteForm: views.NewForm()}
	page.Title, page.Nav = name, "projects"
	for _, j := range d.JWKs {
		page.JWKs = append(page.JWKs, j.Name)
	}
	hist, err := s.Audit.List(c.Request().Context(), audit.Filter{Project: project, Object: "key/" + name, Size: 20})
	if err != nil {
		return err
	}
	for _, e := range hist.Entries {
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
	if len(d.JWKs) > 0 && deployNow {
		if choice != secrets.JWKUpdate && choice != secrets.JWKNullify {
			return s.keyFormFailed(c, page, in, rows, errs.Errorf(errs.Invalid, "This Key is used in %d JWK(s): choose \"Update related JWKs\" or \"Update key only and disconnect\".", len(d.JWKs)))
		}
		if c.FormValue("confirm_name") != name {
			return s.keyFormFailed(c, page, in, rows, errs.Errorf(errs.Invalid, "Type the key's name exactly to confirm."))
		}
	}
	switch {
	case !deployNow:
		// A plain Save keeps related JWKs connected (nothing is deployed,
		// and no dialog asked), whatever a cancelled dialog left behind.
		choice = secrets.JWKUpdate
	case choice == "":
		choice = secrets.JWKNullify
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
