package handlers

// The certificate API's request bodies: JSON, and the seed product's
// multipart upload.

import (
	"fmt"
	"io"
	"strings"

	"github.com/keyward/keyward/internal/certs"
	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/labstack/echo/v4"
)

// certificateEnvironmentDTO is one entry of certificateEnvironmentList.
type certificateEnvironmentDTO struct {
	EnvironmentName string  `json:"environmentName"`
	Content         *string `json:"content"`
	Alias           string  `json:"alias"`
	FileName        string  `json:"fileName"`
	Password        string  `json:"password"`
	Pick            int     `json:"pick"`
	URL             string  `json:"url"`
}

// certificateEnvironmentUpdateDTO is one entry on update, where a missing
// content keeps the environment's certificate.
type certificateEnvironmentUpdateDTO certificateEnvironmentDTO

// certificateCreateDTO is the JSON body of POST .../certificates/.
type certificateCreateDTO struct {
	Name                       string                                  `json:"name"`
	Description                string                                  `json:"description"`
	CertificateEnvironmentList requiredList[certificateEnvironmentDTO] `json:"certificateEnvironmentList"`
	fromForm                   bool                                    // read from the multipart form: content is the file itself
}

// certificateFormDTO documents the multipart form of POST .../certificates/
// (the seed product's upload).
type certificateFormDTO struct {
	CertificateName        string `json:"certificateName"`
	CertificateDescription string `json:"certificateDescription"`
	Alias                  string `json:"alias"`
	EnvironmentList        string `json:"environmentList"`
	PemEncodedFile         string `json:"pemEncodedFile"`
	Password               string `json:"password"`
}

// certificateUpdateDTO is the body of PUT .../certificates/{name}/.
type certificateUpdateDTO struct {
	Name                       string                                        `json:"name"`
	Description                string                                        `json:"description"`
	CertificateEnvironmentList requiredList[certificateEnvironmentUpdateDTO] `json:"certificateEnvironmentList"`
}

const certificateListField = "certificateEnvironmentList"

// certificateFromForm reads the multipart upload: one file for every
// environment listed.
func certificateFromForm(c echo.Context) (certificateCreateDTO, error) {
	var dto certificateCreateDTO
	fh, err := c.FormFile("pemEncodedFile")
	if err != nil {
		return dto, errs.FieldErrorf("pemEncodedFile", "Attach the certificate file as pemEncodedFile.")
	}
	if fh.Size > certs.MaxInput {
		return dto, errs.FieldErrorf("pemEncodedFile", "The file is %d bytes; the limit is 256 KiB.", fh.Size)
	}
	f, err := fh.Open()
	if err != nil {
		return dto, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, certs.MaxInput+1))
	if err != nil {
		return dto, err
	}
	content := string(raw) // the file itself (certificateInput does not base64-decode a form's)
	dto.Name, dto.Description = c.FormValue("certificateName"), c.FormValue("certificateDescription")
	dto.CertificateEnvironmentList.Items = []certificateEnvironmentDTO{}
	for _, e := range strings.Split(c.FormValue("environmentList"), ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		dto.CertificateEnvironmentList.Items = append(dto.CertificateEnvironmentList.Items, certificateEnvironmentDTO{
			EnvironmentName: e, Content: &content, Alias: c.FormValue("alias"), FileName: fh.Filename, Password: c.FormValue("password")})
	}
	if len(dto.CertificateEnvironmentList.Items) == 0 {
		return dto, errs.FieldErrorf("environmentList", "Name at least one environment (comma-separated).")
	}
	dto.fromForm = true
	return dto, nil
}

// certificateInput decodes the entries; on update a missing content keeps
// the environment's certificate.
func certificateInput(name, description string, configs []certificateEnvironmentDTO, update, rawContent bool) (secrets.CertificateInput, error) {
	in := secrets.CertificateInput{Name: name, Description: description, ListField: certificateListField}
	for i, e := range configs {
		field := fmt.Sprintf("%s[%d]", certificateListField, i)
		c := secrets.CertConfigInput{Field: field, Environment: e.EnvironmentName, Alias: e.Alias, Source: secrets.SourceAPI,
			FileName: e.FileName, Password: e.Password, Pick: e.Pick, URL: e.URL}
		if c.URL != "" {
			c.Source = secrets.SourceURL
		}
		if c.FileName == "" {
			c.FileName = "certificate.crt" // PEM or DER, told apart by the content
		}
		var err error
		if c.Content, err = entryContent(field+".content", "the certificate file", e.Content, update, rawContent); err != nil {
			return in, err
		}
		in.Configs = append(in.Configs, c)
	}
	return in, nil
}
