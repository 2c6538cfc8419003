package handlers

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/labstack/echo/v4"
)

// keyEnvironmentDTO is one entry of KeyCreateDTO.cryptoKeyInfoEnvironmentList.
type keyEnvironmentDTO struct {
	EnvironmentName string  `json:"environmentName"`
	Content         *string `json:"content"`
	Alias           string  `json:"alias"`
}

// keyCreateDTO is the body of POST (and PUT) .../keys/, as seed 002 gives it,
// plus the optional algorithm.
type keyCreateDTO struct {
	Name                         string              `json:"name"`
	Description                  string              `json:"description"`
	KeyType                      string              `json:"keyType"`
	Algorithm                    string              `json:"algorithm"`
	CryptoKeyInfoEnvironmentList []keyEnvironmentDTO `json:"cryptoKeyInfoEnvironmentList"`
}

const keyListField = "cryptoKeyInfoEnvironmentList"

// keyInput decodes the DTO's base64 contents; on update a missing content
// keeps the environment's material.
func (d keyCreateDTO) keyInput(update bool) (secrets.KeyInput, error) {
	in := secrets.KeyInput{Name: d.Name, Description: d.Description, Type: d.KeyType, Algorithm: d.Algorithm, ListField: keyListField}
	for i, e := range d.CryptoKeyInfoEnvironmentList {
		field := fmt.Sprintf("%s[%d]", keyListField, i)
		c := secrets.ConfigInput{Field: field, Environment: e.EnvironmentName, Alias: e.Alias, Source: secrets.SourceAPI}
		switch {
		case e.Content == nil && update:
		case e.Content == nil || *e.Content == "":
			return in, errs.FieldErrorf(field+".content", "%s.content is required (the key material, base64-encoded).", field)
		default:
			raw, err := decodeBase64(*e.Content)
			if err != nil {
				return in, errs.FieldErrorf(field+".content", "%s.content is not valid base64.", field)
			}
			c.Content = raw
		}
		in.Configs = append(in.Configs, c)
	}
	return in, nil
}

// decodeBase64 accepts standard or URL-safe base64, padded or not, with
// line breaks (as `base64` and `certutil -encode` print it).
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// keyDTO is a key in API answers: metadata only, never material.
type keyDTO struct {
	Name         string              `json:"name"`
	Description  string              `json:"description"`
	KeyType      string              `json:"keyType"`
	Algorithm    string              `json:"algorithm"`
	CreatedAt    time.Time           `json:"createdAt"`
	UpdatedAt    time.Time           `json:"updatedAt"`
	Environments []keyEnvironmentOut `json:"environments"`
	JWKs         []string            `json:"jwks,omitempty"`
}

type keyEnvironmentOut struct {
	EnvironmentName    string `json:"environmentName"`
	Alias              string `json:"alias"`
	Source             string `json:"source"`
	Format             string `json:"format"`
	Bits               int64  `json:"bits"`
	Curve              string `json:"curve,omitempty"`
	Fingerprint        string `json:"fingerprint"`
	Warning            string `json:"warning,omitempty"`
	Deployed           bool   `json:"deployed"`
	DeployedRevision   int64  `json:"deployedRevision,omitempty"`
	ChangedSinceDeploy bool   `json:"changedSinceDeploy"`
}

func toKeyDTO(k secrets.KeySummary) keyDTO {
	d := keyDTO{Name: k.Name, Description: k.Description, KeyType: k.KeyType, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt,
		UpdatedAt: k.UpdatedAt, Environments: []keyEnvironmentOut{}}
	for _, e := range k.Environments {
		d.Environments = append(d.Environments, keyEnvironmentOut{EnvironmentName: e.Environment, Alias: e.Alias, Source: e.Source,
			Format: e.Format, Bits: e.Bits, Curve: e.Curve, Fingerprint: e.Fingerprint, Warning: e.Warning,
			Deployed: e.DeployedRevision > 0, DeployedRevision: e.DeployedRevision, ChangedSinceDeploy: e.Changed})
	}
	return d
}

func (s *Server) handleAPIKeyCreate(c echo.Context) error {
	var dto keyCreateDTO
	if err := bindJSON(c, &dto); err != nil {
		return err
	}
	in, err := dto.keyInput(false)
	if err != nil {
		return err
	}
	res, err := s.Secrets.CreateKey(c.Request().Context(), principal(c), c.Param("projectName"), in, true)
	if err != nil {
		return err
	}
	return ok(c, http.StatusOK, map[string]any{"name": in.Name, "deploymentResult": res})
}

func (s *Server) handleAPIKeyList(c echo.Context) error {
	page, err := queryInt(c, "page", 1, 1_000_000)
	if err != nil {
		return err
	}
	size, err := queryInt(c, "size", 50, 200)
	if err != nil {
		return err
	}
	f := secrets.KeyFilter{Search: c.QueryParam("search"), Type: c.QueryParam("keyType"), Algorithm: c.QueryParam("algorithm"),
		Environment: c.QueryParam("environment"), Page: page, Size: size}
	list, err := s.Secrets.ListKeys(c.Request().Context(), principal(c), c.Param("projectName"), f)
	if err != nil {
		return err
	}
	out := make([]keyDTO, len(list.Keys))
	for i, k := range list.Keys {
		out[i] = toKeyDTO(k)
	}
	return ok(c, http.StatusOK, map[string]any{"keys": out, "total": list.Total, "page": list.Page, "size": list.Size})
}

func (s *Server) handleAPIKeyGet(c echo.Context) error {
	d, err := s.Secrets.GetKey(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("keyName"))
	if err != nil {
		return err
	}
	dto := toKeyDTO(d.KeySummary)
	for _, j := range d.JWKs {
		dto.JWKs = append(dto.JWKs, j.Name)
	}
	return ok(c, http.StatusOK, map[string]any{"key": dto})
}

func (s *Server) handleAPIKeyUpdate(c echo.Context) error {
	var dto keyCreateDTO
	if err := bindJSON(c, &dto); err != nil {
		return err
	}
	name := c.Param("keyName")
	if dto.Name != "" && dto.Name != name {
		return errs.FieldErrorf("name", "A key cannot be renamed (the path names %q, the body %q).", name, dto.Name)
	}
	in, err := dto.keyInput(true)
	if err != nil {
		return err
	}
	res, err := s.Secrets.UpdateKey(c.Request().Context(), principal(c), c.Param("projectName"), name, in, true, c.QueryParam("jwkUpdateAction"))
	if err != nil {
		return err
	}
	return ok(c, http.StatusOK, map[string]any{"name": name, "deploymentResult": res})
}

func (s *Server) handleAPIKeyDelete(c echo.Context) error {
	res, err := s.Secrets.DeleteKey(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("keyName"), c.QueryParam("jwkDeleteAction"))
	if err != nil {
		return err
	}
	return ok(c, http.StatusOK, map[string]any{"deploymentResult": res})
}

func (s *Server) handleAPIKeyDeploy(c echo.Context) error {
	undeploy := c.Request().Method == http.MethodDelete
	res, err := s.Secrets.DeployKey(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("keyName"), c.Param("environmentName"), undeploy)
	if err != nil {
		return err
	}
	return ok(c, http.StatusOK, map[string]any{"deploymentResult": res})
}
