package handlers

// The certificate wizard (seed 001), on the key wizard's pattern: the
// "New Certificate Definition" dialog posts one configuration to the
// preview route (or its URL to the fetch route), which answers the
// Configuration table's row or the dialog's fields again; the wizard's
// final multipart post carries every row.

import (
	"encoding/base64"
	"io"
	"mime/multipart"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keymaterial"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

// certFields are one certificate configuration's inputs: the dialog's
// (environment, source, …) or a Configuration row's (configs[N].environment, …).
type certFields struct {
	Environment, Source, Alias, URL string
	Content, Encoding               string // pasted text
	Chain                           string // a fetched chain, PEM
	Upload, FileName, Password      string // a file applied before, base64
	Pick                            int
	Picked                          bool
}

func readCertFields(value func(string) string) certFields {
	pick, _ := strconv.Atoi(value("pick"))
	return certFields{Environment: value("environment"), Source: value("source"), Alias: value("alias"), URL: strings.TrimSpace(value("url")),
		Content: value("content"), Encoding: value("encoding"), Chain: value("chain"), Upload: value("upload"),
		FileName: value("file_name"), Password: value("password"), Pick: pick, Picked: value("picked") != ""}
}

// content returns the configuration's certificates as given: the fetched
// chain for a URL, a file uploaded with this post, else a file applied
// before (carried in base64), else the pasted text. nil means none was
// given (on an update, keep the stored certificate). What the other
// sources held is dropped, so the row carries only its own.
func (f *certFields) content(field string, fh *multipart.FileHeader) ([]byte, error) {
	switch f.Source {
	case secrets.SourceURL:
		f.Content, f.Upload, f.FileName, f.Password = "", "", "", ""
		if f.Chain == "" {
			return nil, nil
		}
		return []byte(f.Chain), nil
	case secrets.SourceClipboard:
		f.Upload, f.FileName, f.Password, f.Chain, f.URL = "", "", "", "", ""
		if strings.TrimSpace(f.Content) == "" {
			return nil, nil
		}
		return []byte(f.Content), nil
	}
	f.Content, f.Chain, f.URL = "", "", ""
	if fh != nil && fh.Size > 0 {
		f.Upload, f.FileName = "", fh.Filename
		b, err := readCertUpload(fh, field+".content")
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

// readCertUpload reads one uploaded certificate file (at most
// certs.MaxInput bytes; certs.Parse judges its name and content).
func readCertUpload(fh *multipart.FileHeader, field string) ([]byte, error) {
	if fh.Size > certs.MaxInput {
		return nil, errs.FieldErrorf(field, "File %q is %d bytes; the limit is 256 KiB.", fh.Filename, fh.Size)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, certs.MaxInput+1))
}

func (f certFields) input(field string, content []byte) secrets.CertConfigInput {
	in := secrets.CertConfigInput{Field: field, Environment: f.Environment, Alias: f.Alias, Source: secrets.SourceFile,
		Content: content, Pick: f.Pick}
	switch f.Source {
	case secrets.SourceURL:
		// The fetched chain travels as PEM.
		in.Source, in.URL, in.Encoding = secrets.SourceURL, f.URL, certs.EncodingBase64PEM
	case secrets.SourceClipboard:
		in.Source, in.Encoding = secrets.SourceClipboard, f.Encoding
	default:
		in.FileName, in.Password = f.FileName, f.Password
	}
	return in
}

func (f certFields) row(index int) views.CertConfigRow {
	return views.CertConfigRow{Index: index, Environment: f.Environment, Source: f.Source, URL: f.URL, Alias: f.Alias,
		Content: f.Content, Encoding: f.Encoding, Chain: f.Chain, Upload: f.Upload, FileName: f.FileName, Password: f.Password, Pick: f.Pick}
}

func (f certFields) dialog(d views.CertConfigDialog) views.CertConfigDialog {
	d.Environment, d.Source, d.URL, d.Alias = f.Environment, f.Source, f.URL, f.Alias
	d.Content, d.Encoding, d.Chain = f.Content, f.Encoding, f.Chain
	d.Upload, d.FileName, d.Password, d.Pick, d.Picked = f.Upload, f.FileName, f.Password, f.Pick, f.Picked
	return d
}

// certificateFormInput reads the wizard's final post: the definition and
// every configuration row present (indexes can have gaps). The first
// unreadable upload is returned as the error, with every row.
func certificateFormInput(c echo.Context, update bool) (secrets.CertificateInput, []views.CertConfigRow, error) {
	form, err := c.MultipartForm()
	if err != nil {
		return secrets.CertificateInput{}, nil, errs.Errorf(errs.Invalid, "The form could not be read: %v", err)
	}
	value := func(k string) string {
		if v := form.Value[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	in := secrets.CertificateInput{Name: value("name"), Description: value("description"), ListField: "configs"}
	var idx []int
	for k := range form.Value {
		if n, ok := configIndex(k); ok {
			idx = append(idx, n)
		}
	}
	sort.Ints(idx)
	var rows []views.CertConfigRow
	var first error
	for _, i := range idx {
		field := "configs[" + strconv.Itoa(i) + "]"
		f := readCertFields(func(n string) string { return value(field + "." + n) })
		var fh *multipart.FileHeader
		if fhs := form.File[field+".file"]; len(fhs) > 0 {
			fh = fhs[0]
		}
		content, err := f.content(field, fh)
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

// previewCertRow copies what a preview says into a row.
func previewCertRow(r *views.CertConfigRow, p secrets.CertificatePreview) {
	if p.Pick >= 0 && p.Pick < len(p.Certificates) {
		d := p.Certificates[p.Pick]
		r.Subject, r.Issuer, r.NotAfter, r.DaysLeft = d.Subject, d.Issuer, d.NotAfter, d.DaysLeft
	}
	r.State = p.State
}

// certDialog is the dialog as posted to the preview and fetch routes.
func (s *Server) certDialog(c echo.Context) (views.CertConfigDialog, certFields, string, error) {
	envs, err := s.environmentNames(c)
	if err != nil {
		return views.CertConfigDialog{}, certFields{}, "", err
	}
	index, err := strconv.Atoi(c.FormValue("index"))
	if err != nil || index < 0 || index > 999 {
		index = 0
	}
	d := views.CertConfigDialog{Project: c.Param("project"), Certificate: c.FormValue("certificate"), Index: index,
		Replace: c.FormValue("replace") != "", Locked: c.FormValue("locked") != "", Environments: envs,
		Admin: principal(c).Admin, Form: views.NewForm()}
	return d, readCertFields(c.FormValue), "configs[" + strconv.Itoa(index) + "]", nil
}

// handleCertificateConfigPreview answers the dialog's Apply and Preview.
// Apply with a certificate that passes answers its Configuration table row
// (htmx: retargeted to the table, and the dialog closes), unless the
// content holds several certificates and none was picked yet: then, as for
// Preview, the fields come back with the content parsed (200). A refused
// configuration answers the fields with the message beside the field
// (422). It writes nothing; the save checks every row again.
func (s *Server) handleCertificateConfigPreview(c echo.Context) error {
	project := c.Param("project")
	d, f, field, err := s.certDialog(c)
	if err != nil {
		return err
	}
	fh, _ := c.FormFile("file") // none chosen: keep the applied file, the chain or the pasted text
	content, err := f.content(field, fh)
	var p secrets.CertificatePreview
	if err == nil {
		p, err = s.Secrets.PreviewCertificateConfig(c.Request().Context(), principal(c), project, d.Certificate, f.input(field, content))
		if errs.FieldOf(err) == field+".pick" {
			// The content changed under the pick: show it, to pick again.
			f.Pick = 0
			if again, perr := s.Secrets.PreviewCertificateConfig(c.Request().Context(), principal(c), project, d.Certificate, f.input(field, content)); perr == nil {
				d = f.dialog(d)
				d.Preview, d.Picked = dialogPreview(again, f), true
				d.Form.Fail("pick", errs.MessageOf(err))
				return s.render(c, http.StatusUnprocessableEntity, &views.CertConfigDialogPage{Dialog: d, Standalone: !isHTMX(c)})
			}
		}
	}
	d = f.dialog(d)
	if err != nil {
		return s.certConfigFailed(c, d, field, err)
	}
	if c.FormValue("step") == "preview" || (len(p.Certificates) > 1 && !f.Picked) {
		d.Preview, d.Picked = dialogPreview(p, f), true
		if d.Preview.TrustEnv != "" {
			d.Preview.InTruststore = s.addedCAs(c, d.Preview.TrustEnv)
		}
		return s.render(c, http.StatusOK, &views.CertConfigDialogPage{Dialog: d, Standalone: !isHTMX(c)})
	}
	row := f.row(d.Index)
	previewCertRow(&row, p)
	row.Existing = p.State != secrets.ConfigNew
	if row.Existing {
		row.DeployedRevision = s.deployedRevision(c, project, d.Certificate, p.Environment)
	}
	row.Form = views.NewForm()
	answerRow(c, row.ID(), d.Replace)
	return s.render(c, http.StatusOK, &views.CertConfigRowPage{Row: row, Standalone: !isHTMX(c)})
}

// deployedRevision is the revision a stored certificate is deployed at in
// env (0: not deployed), for the row that replaces its configuration.
func (s *Server) deployedRevision(c echo.Context, project, name, env string) int64 {
	if name == "" {
		return 0
	}
	d, err := s.Secrets.GetCertificate(c.Request().Context(), principal(c), project, name)
	if err != nil {
		return 0
	}
	for _, e := range d.Environments {
		if e.Environment == env {
			return e.DeployedRevision
		}
	}
	return 0
}

// addedCAs are the SHA-256s of the CAs added to env's truststore, for an
// admin's "Trust this CA" (nil otherwise).
func (s *Server) addedCAs(c echo.Context, env string) map[string]bool {
	if env == "" || !principal(c).Admin {
		return nil
	}
	t, err := s.Truststores.Get(c.Request().Context(), principal(c), env, "")
	if err != nil {
		return nil
	}
	out := map[string]bool{}
	for _, ca := range t.Added {
		out[ca.SHA256] = true
	}
	return out
}

// dialogPreview is the dialog's Content for a preview; a fetched chain's
// CAs can be trusted in the chosen environment.
func dialogPreview(p secrets.CertificatePreview, f certFields) *views.CertPreview {
	out := &views.CertPreview{Certificates: p.Certificates, Pick: p.Pick, Notice: p.Notice, Analysis: p.Analysis, State: p.State}
	if f.Source == secrets.SourceURL {
		out.Fetched, out.TrustEnv = hostOfURL(f.URL), f.Environment
	}
	return out
}

// hostOfURL is the host[:port] of a URL the user typed, for sentences.
func hostOfURL(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	host, _, _ := strings.Cut(rest, "/")
	return host
}

// handleCertificateFetch answers the dialog's URL button: the server
// connects to the URL (TLS handshake only), and the fields come back with
// the chain presented, leaf first and picked, its analysis against the
// chosen environment's truststore, and the chain as the content (PEM, in a
// hidden input). Nothing is stored.
func (s *Server) handleCertificateFetch(c echo.Context) error {
	d, f, _, err := s.certDialog(c)
	if err != nil {
		return err
	}
	f.Source = secrets.SourceURL
	got, err := s.Secrets.FetchCertificates(c.Request().Context(), principal(c), c.Param("project"), f.Environment, "url", f.URL)
	if err != nil {
		f.Chain = ""
		return s.certConfigFailed(c, f.dialog(d), "", err)
	}
	f.URL, f.Chain, f.Pick, f.Picked = got.URL, got.PEM, 0, true
	d = f.dialog(d)
	d.Preview = &views.CertPreview{Certificates: got.Chain, Analysis: got.Analysis, Fetched: got.Host, TrustEnv: f.Environment,
		InTruststore: s.addedCAs(c, f.Environment)}
	return s.render(c, http.StatusOK, &views.CertConfigDialogPage{Dialog: d, Standalone: !isHTMX(c)})
}

// certConfigFailed shows the dialog's fields again with err beside the
// dialog's field its path names ("configs[2].content" → content).
func (s *Server) certConfigFailed(c echo.Context, d views.CertConfigDialog, prefix string, err error) error {
	if errs.CodeOf(err) == errs.Internal {
		return err
	}
	status, _, _ := classify(err)
	if errs.CodeOf(err) == errs.Invalid {
		status = http.StatusUnprocessableEntity
	}
	field := errs.FieldOf(err)
	if prefix != "" {
		field = strings.TrimPrefix(field, prefix+".")
	}
	switch field {
	case "environmentName", "environment":
		d.Form.Fail("environment", errs.MessageOf(err))
	case "content", "alias", "pick", "url":
		d.Form.Fail(field, errs.MessageOf(err))
	case "password", "encoding":
		d.Form.Fail("content", errs.MessageOf(err))
	default:
		d.Form.Fail("", errs.MessageOf(err))
	}
	return s.render(c, status, &views.CertConfigDialogPage{Dialog: d, Standalone: !isHTMX(c)})
}
