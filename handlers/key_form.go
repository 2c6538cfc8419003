package handlers

// The key wizard's form: reading the multipart form (rows, uploads, pasted
// text) and re-showing it with the message beside the field.

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/keymaterial"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/keyward/keyward/views"
	"github.com/labstack/echo/v4"
)

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
