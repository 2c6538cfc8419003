package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/errs"
	"github.com/keyward/keyward/internal/secrets"
	"github.com/labstack/echo/v4"
)

// jwkCreateDTO is the body of POST .../jwks/.
type jwkCreateDTO struct {
	Name             string   `json:"name"`
	SourceType       string   `json:"sourceType"`
	SourceName       string   `json:"sourceName"`
	Use              string   `json:"use"`
	Alg              string   `json:"alg"`
	Kid              string   `json:"kid"`
	EnvironmentNames []string `json:"environmentNames"`
}

// jwkDTO is a JWK in API answers; a secret (oct) JWK's material is never
// included.
type jwkDTO struct {
	Name         string           `json:"name"`
	SourceType   string           `json:"sourceType"`
	SourceName   string           `json:"sourceName"`
	Connected    bool             `json:"connected"`
	Use          string           `json:"use"`
	Alg          string           `json:"alg"`
	Secret       bool             `json:"secret"`
	CreatedAt    time.Time        `json:"createdAt"`
	UpdatedAt    time.Time        `json:"updatedAt"`
	Environments []jwkEnvironment `json:"environments"`
}

type jwkEnvironment struct {
	EnvironmentName  string          `json:"environmentName"`
	Kid              string          `json:"kid"`
	Deployed         bool            `json:"deployed"`
	DeployedRevision int64           `json:"deployedRevision,omitempty"`
	JWK              json.RawMessage `json:"jwk,omitempty"`
}

func toJWKDTO(j secrets.JWKDetail) jwkDTO {
	d := jwkDTO{Name: j.Name, SourceType: j.SourceType, SourceName: j.SourceName, Connected: j.Connected, Use: j.Use, Alg: j.Alg,
		Secret: j.Secret, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, Environments: []jwkEnvironment{}}
	for _, e := range j.Environments {
		je := jwkEnvironment{EnvironmentName: e.Environment, Kid: e.Kid, Deployed: e.DeployedRevision > 0, DeployedRevision: e.DeployedRevision}
		if e.PublicJSON != "" {
			je.JWK = json.RawMessage(e.PublicJSON)
		}
		d.Environments = append(d.Environments, je)
	}
	return d
}

func (s *Server) handleAPIJWKCreate(c echo.Context) error {
	var dto jwkCreateDTO
	if err := bindJSON(c, &dto); err != nil {
		return err
	}
	in := secrets.JWKInput{Name: dto.Name, SourceType: secrets.SourceType(dto.SourceType), SourceName: dto.SourceName, Use: dto.Use, Alg: dto.Alg,
		Kid: dto.Kid, Environments: dto.EnvironmentNames}
	res, err := s.Secrets.CreateJWK(c.Request().Context(), principal(c), c.Param("projectName"), in, true)
	if err != nil {
		return err
	}
	return ok(c, http.StatusOK, map[string]any{"name": dto.Name, "deploymentResult": res})
}

func (s *Server) handleAPIJWKList(c echo.Context) error {
	list, err := s.Secrets.ListJWKs(c.Request().Context(), principal(c), c.Param("projectName"))
	if err != nil {
		return err
	}
	out := make([]jwkDTO, len(list))
	for i, j := range list {
		out[i] = toJWKDTO(j)
	}
	return ok(c, http.StatusOK, map[string]any{"jwks": out})
}

func (s *Server) handleAPIJWKGet(c echo.Context) error {
	j, err := s.Secrets.GetJWK(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("jwkName"))
	if err != nil {
		return err
	}
	return ok(c, http.StatusOK, map[string]any{"jwk": toJWKDTO(j)})
}

func (s *Server) handleAPIJWKDelete(c echo.Context) error {
	res, err := s.Secrets.DeleteJWK(c.Request().Context(), principal(c), c.Param("projectName"), c.Param("jwkName"))
	if err != nil {
		return err
	}
	return ok(c, http.StatusOK, map[string]any{"deploymentResult": res})
}

// handleJWKS serves a project's public JWKS for an environment from memory,
// with an ETag and 304 on If-None-Match.
func (s *Server) handleJWKS(c echo.Context) error {
	set, err := s.Secrets.JWKS(c.Param("projectName"), c.Param("environmentName"))
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("ETag", set.ETag)
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("Access-Control-Allow-Origin", "*")
	if etagMatches(c.Request().Header.Get("If-None-Match"), set.ETag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, "application/jwk-set+json", set.Body)
}

// handleAPIBundle answers a gateway with everything deployed to its
// environment.
func (s *Server) handleAPIBundle(c echo.Context) error {
	b, err := s.Bundles.Read(c.Request().Context(), principal(c), c.Param("environmentName"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", b.ETag())
	if etagMatches(c.Request().Header.Get("If-None-Match"), b.ETag()) {
		return c.NoContent(http.StatusNotModified)
	}
	return ok(c, http.StatusOK, map[string]any{"bundle": b})
}

// gatewayTokenDTO is a gateway token in API answers (never its value).
type gatewayTokenDTO struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	CreatedAt time.Time  `json:"createdAt"`
	LastUsed  *time.Time `json:"lastUsedAt,omitempty"`
	Revoked   bool       `json:"revoked"`
}

func (s *Server) handleAPIGatewayTokenCreate(c echo.Context) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	tok, err := s.Environments.CreateGatewayToken(c.Request().Context(), principal(c), c.Param("environmentName"), in.Name)
	if err != nil {
		return err
	}
	return ok(c, http.StatusOK, map[string]any{"token": tok.Value, "id": tok.Token.ID, "name": tok.Token.Name})
}

func (s *Server) handleAPIGatewayTokenList(c echo.Context) error {
	toks, err := s.Environments.ListGatewayTokens(c.Request().Context(), principal(c), c.Param("environmentName"))
	if err != nil {
		return err
	}
	out := make([]gatewayTokenDTO, len(toks))
	for i, t := range toks {
		out[i] = gatewayTokenDTO{ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt, Revoked: t.RevokedAt.Valid}
		if t.LastUsedAt.Valid {
			out[i].LastUsed = &t.LastUsedAt.Time
		}
	}
	return ok(c, http.StatusOK, map[string]any{"gatewayTokens": out})
}

func (s *Server) handleAPIGatewayTokenRevoke(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("tokenId"), 10, 64)
	if err != nil {
		return errs.Errorf(errs.NotFound, "No gateway token %q.", c.Param("tokenId"))
	}
	if err := s.Environments.RevokeGatewayToken(c.Request().Context(), principal(c), c.Param("environmentName"), id); err != nil {
		return err
	}
	return ok(c, http.StatusOK, nil)
}

// etagMatches reports whether an If-None-Match header (a list of tags, weak
// or strong, or "*") names etag.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
