package handlers

// The key wizard's form: reading the final multipart post (the rows'
// fields, uploads, pasted text) and showing it again with the message
// beside the field it is about.

import (
	"encoding/base64"
	"io"
	"mime/multipart"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keymaterial"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

// configFields are one configuration's inputs: the dialog's (environment,
// source, …) or a Configuration row's (configs[N].environment, …).
type configFields struct {
	Environment, Source, Alias string
	Content                    string // pasted text
	Upload, FileName           string // a file applied before, base64
}

func readConfigFields(value func(string) string) configFields {
	return configFields{Environment: value("environment"), Source: value("source"), Alias: value("alias"),
		Content: value("content"), Upload: value("upload"), FileName: value("file_name")}
}

// material returns the configuration's key material: a file uploaded with
// this post, else a file applied before (its bytes carried in base64),
// else the pasted text decoded for the key type. nil means none was given
// (on an update, keep the stored material). An uploaded file is kept in
// f.Upload, so a form shown again still holds it.
func (f *configFields) material(t keymaterial.Type, field string, fh *multipart.FileHeader) ([]byte, error) {
	if f.Source == secrets.SourceClipboard {
		f.Upload, f.FileName = "", ""
		if strings.TrimSpace(f.Content) == "" {
			return nil, nil
		}
		return keymaterial.DecodePasted(t, f.Content), nil
	}
	f.Content = ""
	if fh != nil && fh.Size > 0 {
		f.Upload, f.FileName = "", fh.Filename
		b, err := readUpload(fh, field+".content")
		if err == nil {
			f.Upload = base64.StdEncoding.EncodeToString(b)
		}
		return b, err
	}
	if f.Upload == "" {
		return nil, nil
	}
	b, err := keymaterial.DecodeBase64(f.Upload)
	if err != nil {
		f.Upload, f.FileName = "", ""
		return nil, errs.FieldErrorf(field+".content", "The file applied before could not be read; choose it again.")
	}
	return b, nil
}

func (f configFields) input(field string, content []byte) secrets.ConfigInput {
	in := secrets.ConfigInput{Field: field, Environment: f.Environment, Alias: f.Alias, Source: secrets.SourceFile, Content: content}
	if f.Source == secrets.SourceClipboard {
		in.Source = secrets.SourceClipboard
	} else {
		in.FileName = f.FileName
	}
	return in
}

func (f configFields) row(index int) views.KeyConfigRow {
	return views.KeyConfigRow{Index: index, Environment: f.Environment, Source: f.Source, Alias: f.Alias, Content: f.Content,
		Upload: f.Upload, FileName: f.FileName}
}

// configIndex returns N for the field "configs[N].environment", which every
// row posts.
func configIndex(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "configs[")
	num, ok2 := strings.CutSuffix(rest, "].environment")
	if !ok || !ok2 || len(num) == 0 || len(num) > 3 {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	return n, err == nil && n >= 0
}

// keyFormInput reads the wizard's final post: the definition and every
// configuration row present (rows may have been removed, so indexes can
// have gaps). The first unreadable upload is returned as the error, with
// every row, so the form can be shown again.
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
		if n, ok := configIndex(k); ok {
			idx = append(idx, n)
		}
	}
	sort.Ints(idx)
	var rows []views.KeyConfigRow
	var first error
	for _, i := range idx {
		field := "configs[" + strconv.Itoa(i) + "]"
		f := readConfigFields(func(n string) string { return value(field + "." + n) })
		var fh *multipart.FileHeader
		if fhs := form.File[field+".file"]; len(fhs) > 0 {
			fh = fhs[0]
		}
		content, err := f.material(keymaterial.Type(in.Type), field, fh)
		if err != nil && first == nil {
			first = err
		}
		if content == nil && !update {
			content = []byte{} // reported as empty by the service
		}
		in.Configs = append(in.Configs, f.input(field, content))
		rows = append(rows, f.row(i))
	}
	return in, rows, first
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

// shownError reports whether err is for the form to show (beside a field or
// at its top); anything else goes to the error handler.
func shownError(err error) bool {
	switch errs.CodeOf(err) {
	case errs.Internal, errs.Forbidden, errs.Unauthorized:
		return false
	case errs.NotFound:
		return errs.FieldOf(err) != ""
	}
	return true
}

// keyFormFailed shows the wizard again with err beside the field its path
// names, every row as posted (with what the preview says of its material),
// and the typed values.
func (s *Server) keyFormFailed(c echo.Context, page *views.KeyFormPage, in secrets.KeyInput, rows []views.KeyConfigRow, err error) error {
	if !shownError(err) {
		return err
	}
	if !page.Edit {
		page.Form.Values["name"], page.Form.Values["keyType"], page.Form.Values["algorithm"] = in.Name, in.Type, in.Algorithm
		page.Algorithms = algorithmNames(keymaterial.Type(in.Type))
	}
	page.Form.Values["description"] = in.Description
	field := errs.FieldOf(err)
	switch {
	case field == "name", field == "description", field == "keyType", field == "algorithm", field == "configs", strings.HasPrefix(field, "configs["):
		page.Form.Fail(field, errs.MessageOf(err))
	default:
		page.Form.Fail("", errs.MessageOf(err))
	}
	stored := map[string]views.KeyConfigRow{}
	for _, r := range page.Configs {
		stored[r.Environment] = r
	}
	page.Configs = nil
	for i, r := range rows {
		if old, ok := stored[r.Environment]; ok && page.Edit {
			r.Existing, r.DeployedRevision = true, old.DeployedRevision
			if in.Configs[i].Content == nil {
				r.State, r.Format, r.Bits, r.Curve, r.Fingerprint, r.Warning = old.State, old.Format, old.Bits, old.Curve, old.Fingerprint, old.Warning
			}
		}
		if len(in.Configs[i].Content) > 0 {
			s.describeRow(c, page, in, in.Configs[i], &r)
		}
		r.Form = page.Form
		page.Configs = append(page.Configs, r)
	}
	page.Dialog.Index = views.NextIndex(page.Configs)
	return s.render(c, http.StatusUnprocessableEntity, page)
}

// describeRow fills a re-shown row with what the preview says of its
// material; a row the preview refuses is left undescribed (the save's own
// error is the one shown).
func (s *Server) describeRow(c echo.Context, page *views.KeyFormPage, in secrets.KeyInput, cfg secrets.ConfigInput, r *views.KeyConfigRow) {
	def := secrets.KeyDefinition{Type: in.Type, Algorithm: in.Algorithm}
	if page.Edit {
		def.Key = page.Form.Value("name")
	}
	if p, err := s.Secrets.PreviewKeyConfig(c.Request().Context(), principal(c), page.Project, def, cfg); err == nil {
		previewRow(r, p)
	}
}

// previewRow copies a preview into a row.
func previewRow(r *views.KeyConfigRow, p secrets.KeyConfigPreview) {
	r.State, r.Format, r.Bits, r.Curve, r.Fingerprint, r.Warning = p.State, p.Format, p.Bits, p.Curve, p.Fingerprint, p.Warning
	r.DeployedRevision, r.Existing = p.DeployedRevision, p.State != secrets.ConfigNew
}

// handleKeyConfigPreview answers the configuration dialog's Apply: the
// Configuration table row for the entered configuration, checked by the
// service against the definition's type and algorithm, or the dialog's
// fields again with the message beside the field (422). It writes nothing;
// the save checks every row again.
func (s *Server) handleKeyConfigPreview(c echo.Context) error {
	project := c.Param("project")
	envs, err := s.environmentNames(c)
	if err != nil {
		return err
	}
	index, err := strconv.Atoi(c.FormValue("index"))
	if err != nil || index < 0 || index > 999 {
		index = 0
	}
	field := "configs[" + strconv.Itoa(index) + "]"
	f := readConfigFields(c.FormValue)
	fh, _ := c.FormFile("file") // none chosen: keep the applied file or the pasted text
	def := secrets.KeyDefinition{Key: c.FormValue("key"), Type: c.FormValue("keyType"), Algorithm: c.FormValue("algorithm")}
	content, err := f.material(keymaterial.Type(def.Type), field, fh)
	var p secrets.KeyConfigPreview
	if err == nil {
		p, err = s.Secrets.PreviewKeyConfig(c.Request().Context(), principal(c), project, def, f.input(field, content))
	}
	if err != nil {
		d := views.KeyConfigDialog{Project: project, Key: def.Key, Index: index, Replace: c.FormValue("replace") != "",
			Locked: c.FormValue("locked") != "", Environment: f.Environment, Source: f.Source, Alias: f.Alias, Content: f.Content,
			Upload: f.Upload, FileName: f.FileName, Environments: envs, Form: views.NewForm()}
		return s.keyConfigFailed(c, d, field, err)
	}
	row := f.row(index)
	previewRow(&row, p)
	row.Form = views.NewForm()
	answerRow(c, row.ID(), c.FormValue("replace") != "")
	return s.render(c, http.StatusOK, &views.KeyConfigRowPage{Row: row, Standalone: !isHTMX(c)})
}

// answerRow sends a row dialog's Apply to the Configuration table (the
// key and certificate wizards): an htmx answer replaces the row being
// edited (rowID) or is appended to the table, and the "config-applied"
// event tells static/app.js to close the dialog.
func answerRow(c echo.Context, rowID string, replace bool) {
	if !isHTMX(c) {
		return
	}
	h := c.Response().Header()
	if replace {
		h.Set("HX-Retarget", "#"+rowID)
		h.Set("HX-Reswap", "outerHTML")
	} else {
		h.Set("HX-Retarget", "#config-rows")
		h.Set("HX-Reswap", "beforeend")
	}
	h.Set("HX-Trigger", "config-applied")
}

// keyConfigFailed shows the dialog's fields again with err beside the
// dialog's field its path names ("configs[2].content" → content).
func (s *Server) keyConfigFailed(c echo.Context, d views.KeyConfigDialog, prefix string, err error) error {
	if errs.CodeOf(err) == errs.Internal {
		return err
	}
	status, _, _ := classify(err)
	if errs.CodeOf(err) == errs.Invalid {
		status = http.StatusUnprocessableEntity
	}
	switch field := strings.TrimPrefix(errs.FieldOf(err), prefix+"."); field {
	case "environmentName":
		d.Form.Fail("environment", errs.MessageOf(err))
	case "content", "alias":
		d.Form.Fail(field, errs.MessageOf(err))
	default:
		d.Form.Fail("", errs.MessageOf(err))
	}
	return s.render(c, status, &views.KeyConfigDialogPage{Dialog: d, Standalone: !isHTMX(c)})
}
